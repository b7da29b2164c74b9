//! Appointment notices on the wire (docs/adr/0010-notices-fhir-mapping.md): reading an
//! `Appointment` into a [`Notice`], and the patient's uploads — the opened receipt (a
//! read-receipt `Communication`), confirm and cancel (`AppointmentResponse`), the
//! reschedule request (`Task`) and the health declaration (`QuestionnaireResponse`),
//! each a conditional create on its identifier. Pure: no I/O.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::notice::{
    Answer, AppointmentStatus, DEFAULT_CUTOFF, GivenAnswer, Notice, Place, Practitioner,
};
use crate::sync::fhir::bundle::{BundleEntry, BundleRequest, EntryResource, Method};
use crate::sync::fhir::json::{Doc, join};
use crate::sync::fhir::types::instant;
use crate::sync::fhir::{
    DownloadError, FhirError, PatientId, Problem, URI_IDENTIFIER_SYSTEM, is_fhir_id,
};

/// Extension on `Appointment`: the video meeting link (`valueUrl`).
pub const EXT_VIDEO_URL: &str = "https://nara.se/fhir/StructureDefinition/video-meeting-url";
/// Extension on `Appointment`: how long before the start a cancel is accepted
/// (`valueDuration` in hours).
pub const EXT_CUTOFF: &str = "https://nara.se/fhir/StructureDefinition/cancellation-cutoff";
/// Identifier system of read receipts (shared with the chat, ADR 0009 §4).
pub const RECEIPT_SYSTEM: &str = "https://nara.se/fhir/read-receipt";
/// Category system of Nära's `Communication`s.
pub const CATEGORY_SYSTEM: &str = "https://nara.se/fhir/CodeSystem/communication-category";
/// Code system of the patient's requests about a notice.
pub const REQUEST_SYSTEM: &str = "https://nara.se/fhir/CodeSystem/notice-request";

/// Reads an `Appointment` of `patient` into a notice. Refuses one where the patient is
/// not a participant.
pub fn notice_from_fhir(v: &Value, patient: &PatientId) -> Result<Notice, DownloadError> {
    let doc = Doc::open(v, "Appointment")?;
    if doc.id == "?" {
        return Err(doc.err("id", Problem::Missing));
    }
    let participants = doc.array(v, "participant", "")?;
    let mut is_mine = false;
    let mut location_ref = None;
    let mut practitioner = None;
    for (i, p) in participants.iter().enumerate() {
        let path = format!("participant[{i}]");
        let Some(actor) = p.get("actor") else {
            continue;
        };
        let reference = doc.opt_str(actor, "reference", &join(&path, "actor"))?;
        match reference {
            Some(r) if r.starts_with("Patient/") || r.contains("/Patient/") => {
                if r.rsplit('/').next() == Some(patient.as_str()) && r.ends_with(patient.as_str()) {
                    is_mine = true;
                } else {
                    return Err(doc.err(join(&path, "actor.reference"), Problem::Invalid));
                }
            }
            Some(r) if r.starts_with('#') => location_ref = Some(r.trim_start_matches('#')),
            Some(r) if r.starts_with("PractitionerRole/") || r.starts_with("Practitioner/") => {
                practitioner = Some(practitioner_of(&doc, p, actor, &path)?);
            }
            None if practitioner.is_none() => {
                if let Some(name) = doc.opt_str(actor, "display", &join(&path, "actor"))? {
                    if !name.trim().is_empty() {
                        practitioner = Some(practitioner_of(&doc, p, actor, &path)?);
                    }
                }
            }
            _ => {}
        }
    }
    if !is_mine {
        return Err(doc.err("participant.actor.reference", Problem::Missing));
    }
    let status = AppointmentStatus::from_fhir(doc.str(v, "status", "")?);
    let cancel_reason = match v.get("cancelationReason") {
        Some(r) => doc
            .opt_str(r, "text", "cancelationReason")?
            .map(str::to_owned),
        None => None,
    };
    let start = timestamp(&doc, doc.str(v, "start", "")?, "start")?;
    let end = match doc.opt_str(v, "end", "")? {
        Some(s) => Some(timestamp(&doc, s, "end")?),
        None => None,
    };
    if end.is_some_and(|e| e < start) {
        return Err(doc.err("end", Problem::Invalid));
    }
    let version = match v.get("meta") {
        Some(meta) => doc.opt_str(meta, "versionId", "meta")?.unwrap_or("1"),
        None => "1",
    }
    .to_owned();
    let service = service_of(&doc, v)?;
    let place = match location_ref {
        Some(local_id) => place_of(&doc, v, local_id)?,
        None => None,
    };
    let video_url = match doc.extension(v, EXT_VIDEO_URL, "")? {
        Some((path, e)) => {
            let url = doc.str(e, "valueUrl", &path)?;
            if !url.starts_with("https://") {
                return Err(doc.err(join(&path, "valueUrl"), Problem::Invalid));
            }
            Some(url.to_owned())
        }
        None => None,
    };
    let cutoff = match doc.extension(v, EXT_CUTOFF, "")? {
        Some((path, e)) => {
            let d = doc.req(e, "valueDuration", &path)?;
            let p = join(&path, "valueDuration");
            let value = doc.number(d, "value", &p)?;
            let hours = match doc.opt_str(d, "code", &p)?.or(doc.opt_str(d, "unit", &p)?) {
                Some("h") => value,
                Some("d") => value * 24.0,
                Some("min") => value / 60.0,
                _ => return Err(doc.err(join(&p, "code"), Problem::WrongUnit)),
            };
            if !(0.0..=24.0 * 60.0).contains(&hours) {
                return Err(doc.err(join(&p, "value"), Problem::Invalid));
            }
            SignedDuration::from_secs((hours * 3600.0).round() as i64)
        }
        None => DEFAULT_CUTOFF,
    };
    let mut questionnaire_id = None;
    for (i, info) in doc
        .array(v, "supportingInformation", "")?
        .iter()
        .enumerate()
    {
        let path = format!("supportingInformation[{i}]");
        if let Some(r) = doc.opt_str(info, "reference", &path)? {
            if let Some(id) = r.strip_prefix("Questionnaire/") {
                if !is_fhir_id(id) {
                    return Err(doc.err(join(&path, "reference"), Problem::Invalid));
                }
                questionnaire_id = Some(id.to_owned());
            }
        }
    }
    Ok(Notice {
        id: doc.id.clone(),
        version,
        status,
        cancel_reason,
        start,
        end,
        service,
        place,
        video_url,
        practitioner,
        preparation: doc
            .opt_str(v, "patientInstruction", "")?
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty()),
        cutoff,
        questionnaire_id,
    })
}

fn timestamp(doc: &Doc, s: &str, field: &str) -> Result<Timestamp, DownloadError> {
    s.parse::<Timestamp>()
        .map_err(|_| doc.err(field, Problem::Invalid))
}

fn service_of(doc: &Doc, v: &Value) -> Result<String, DownloadError> {
    for key in ["serviceType", "appointmentType"] {
        let concepts: Vec<&Value> = match v.get(key) {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(o @ Value::Object(_)) => vec![o],
            _ => vec![],
        };
        if let Some(c) = concepts.first() {
            let path = format!("{key}[0]");
            if let Some(t) = doc.opt_str(c, "text", &path)? {
                return Ok(t.to_owned());
            }
            if let Some(coding) = doc.array(c, "coding", &path)?.first() {
                if let Some(d) = doc.opt_str(coding, "display", &join(&path, "coding[0]"))? {
                    return Ok(d.to_owned());
                }
            }
        }
    }
    Ok(doc
        .opt_str(v, "description", "")?
        .map(str::to_owned)
        .unwrap_or_default())
}

fn practitioner_of(
    doc: &Doc,
    participant: &Value,
    actor: &Value,
    path: &str,
) -> Result<Practitioner, DownloadError> {
    let name = doc.str(actor, "display", &join(path, "actor"))?.to_owned();
    let role = match doc.array(participant, "type", path)?.first() {
        Some(t) => doc
            .opt_str(t, "text", &join(path, "type[0]"))?
            .map(str::to_owned),
        None => None,
    };
    Ok(Practitioner { name, role })
}

fn place_of(doc: &Doc, v: &Value, local_id: &str) -> Result<Option<Place>, DownloadError> {
    for (i, c) in doc.array(v, "contained", "")?.iter().enumerate() {
        let path = format!("contained[{i}]");
        if c.get("resourceType").and_then(Value::as_str) != Some("Location")
            || c.get("id").and_then(Value::as_str) != Some(local_id)
        {
            continue;
        }
        let name = doc
            .opt_str(c, "name", &path)?
            .unwrap_or_default()
            .to_owned();
        let mut place = Place {
            name,
            ..Place::default()
        };
        if let Some(a) = c.get("address") {
            let ap = join(&path, "address");
            for (j, line) in doc.array(a, "line", &ap)?.iter().enumerate() {
                let line = line
                    .as_str()
                    .ok_or_else(|| doc.err(format!("{ap}.line[{j}]"), Problem::Invalid))?;
                place.lines.push(line.to_owned());
            }
            place.postal_code = doc.opt_str(a, "postalCode", &ap)?.map(str::to_owned);
            place.city = doc.opt_str(a, "city", &ap)?.map(str::to_owned);
        }
        for (j, t) in doc.array(c, "telecom", &path)?.iter().enumerate() {
            let tp = format!("{path}.telecom[{j}]");
            if doc.opt_str(t, "system", &tp)? == Some("phone") {
                place.phone = doc.opt_str(t, "value", &tp)?.map(str::to_owned);
                break;
            }
        }
        return Ok(Some(place));
    }
    Err(doc.err("participant.actor.reference", Problem::Invalid))
}

fn checked_id(id: &str) -> Result<&str, FhirError> {
    if is_fhir_id(id) {
        Ok(id)
    } else {
        Err(FhirError::InvalidResourceId)
    }
}

fn conditional_create(
    resource_type: &str,
    full_url: String,
    system: &str,
    value: &str,
    resource: Value,
) -> BundleEntry {
    BundleEntry {
        full_url: Some(full_url),
        resource: EntryResource::Json(resource),
        request: BundleRequest {
            method: Method::Post,
            url: resource_type.to_owned(),
            if_none_exist: Some(format!("identifier={system}|{value}")),
        },
    }
}

/// The identifier value of the opened receipt of appointment `id`.
pub fn opened_receipt_key(appointment_id: &str) -> String {
    format!("Appointment/{appointment_id}")
}

/// The opened receipt of appointment `appointment_id` (ADR 0010 §2): one per notice,
/// however often it is sent.
pub fn opened_receipt_entry(
    appointment_id: &str,
    opened_at: Timestamp,
    patient: &PatientId,
) -> Result<BundleEntry, FhirError> {
    let id = checked_id(appointment_id)?;
    let key = opened_receipt_key(id);
    let me = json!({ "reference": patient.reference() });
    let resource = json!({
        "resourceType": "Communication",
        "identifier": [{ "system": RECEIPT_SYSTEM, "value": key }],
        "status": "completed",
        "category": [{ "coding": [{ "system": CATEGORY_SYSTEM, "code": "read-receipt" }] }],
        "subject": me,
        "sender": me,
        "about": [{ "reference": key }],
        "sent": instant(opened_at)?,
    });
    let name = format!("{RECEIPT_SYSTEM}|{key}");
    let full_url = format!(
        "urn:uuid:{}",
        Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes())
    );
    Ok(conditional_create(
        "Communication",
        full_url,
        RECEIPT_SYSTEM,
        &key,
        resource,
    ))
}

/// The upload of `given` for appointment `appointment_id`: an `AppointmentResponse`
/// for confirm and cancel (ADR 0010 §3), a `Task` for a reschedule request (§4).
pub fn answer_entry(
    appointment_id: &str,
    given: &GivenAnswer,
    patient: &PatientId,
) -> Result<BundleEntry, FhirError> {
    let appointment = format!("Appointment/{}", checked_id(appointment_id)?);
    let client = Uuid::parse_str(&given.id).map_err(|_| FhirError::MissingIdentifier)?;
    let value = format!("urn:uuid:{client}");
    let identifier = json!([{ "system": URI_IDENTIFIER_SYSTEM, "value": value }]);
    let me = json!({ "reference": patient.reference() });
    let (resource_type, resource) = match &given.answer {
        Answer::Confirm | Answer::Cancel { .. } => {
            let mut r = json!({
                "resourceType": "AppointmentResponse",
                "identifier": identifier,
                "appointment": { "reference": appointment },
                "start": instant(given.for_start)?,
                "actor": me,
                "participantStatus": if matches!(given.answer, Answer::Confirm) { "accepted" } else { "declined" },
            });
            if let Some(end) = given.for_end {
                r["end"] = json!(instant(end)?);
            }
            if let Answer::Cancel { reason } = &given.answer {
                if !reason.is_empty() {
                    r["comment"] = json!(reason);
                }
            }
            ("AppointmentResponse", r)
        }
        Answer::Reschedule { wishes, windows } => {
            let mut inputs = Vec::new();
            for (start, end) in windows {
                inputs.push(json!({
                    "type": { "text": "preferred-window" },
                    "valuePeriod": { "start": instant(*start)?, "end": instant(*end)? },
                }));
            }
            let mut r = json!({
                "resourceType": "Task",
                "identifier": identifier,
                "status": "requested",
                "intent": "order",
                "code": { "coding": [{ "system": REQUEST_SYSTEM, "code": "reschedule" }],
                          "text": "Ny tid önskas / New time requested" },
                "focus": { "reference": appointment },
                "for": me,
                "requester": me,
                "authoredOn": instant(given.at)?,
            });
            if !wishes.is_empty() {
                r["description"] = json!(wishes);
            }
            if !inputs.is_empty() {
                r["input"] = Value::Array(inputs);
            }
            ("Task", r)
        }
    };
    Ok(conditional_create(
        resource_type,
        value.clone(),
        URI_IDENTIFIER_SYSTEM,
        &value,
        resource,
    ))
}

/// The conditional create of a health declaration built by
/// [`crate::domain::questionnaire::response`] (it carries its identifier).
pub fn questionnaire_response_entry(response: Value) -> Result<BundleEntry, FhirError> {
    let value = response
        .get("identifier")
        .and_then(|i| {
            i.get("value")
                .or_else(|| i.get(0).and_then(|x| x.get("value")))
        })
        .and_then(Value::as_str)
        .ok_or(FhirError::MissingIdentifier)?
        .to_owned();
    Ok(conditional_create(
        "QuestionnaireResponse",
        value.clone(),
        URI_IDENTIFIER_SYSTEM,
        &value,
        response,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notice::AnswerDelivery;

    fn patient() -> PatientId {
        PatientId::new("anna-1").expect("id")
    }

    fn appointment() -> Value {
        json!({
            "resourceType": "Appointment",
            "id": "appt-1",
            "meta": { "versionId": "3", "lastUpdated": "2026-11-20T10:00:00Z" },
            "status": "booked",
            "serviceType": [{ "text": "Diabetesmottagning" }],
            "start": "2026-12-10T08:30:00Z",
            "end": "2026-12-10T09:00:00Z",
            "patientInstruction": "Ta med dina mätvärden.",
            "supportingInformation": [{ "reference": "Questionnaire/halsodeklaration" }],
            "extension": [
                { "url": EXT_CUTOFF, "valueDuration": { "value": 72, "unit": "h", "system": "http://unitsofmeasure.org", "code": "h" } }
            ],
            "contained": [{
                "resourceType": "Location", "id": "loc", "name": "Vårdcentralen Kiruna",
                "address": { "line": ["Thulegatan 29"], "postalCode": "98132", "city": "Kiruna" },
                "telecom": [{ "system": "phone", "value": "0980-123 45" }]
            }],
            "participant": [
                { "actor": { "reference": "Patient/anna-1" }, "status": "needs-action" },
                { "actor": { "reference": "#loc" }, "status": "accepted" },
                { "actor": { "reference": "PractitionerRole/pr-1", "display": "Anna Berg" },
                  "type": [{ "text": "Distriktssköterska" }], "status": "accepted" }
            ]
        })
    }

    #[test]
    fn an_appointment_becomes_a_notice() {
        let n = notice_from_fhir(&appointment(), &patient()).expect("reads");
        assert_eq!(n.id, "appt-1");
        assert_eq!(n.version, "3");
        assert_eq!(n.status, AppointmentStatus::Booked);
        assert_eq!(n.service, "Diabetesmottagning");
        assert_eq!(n.cutoff, SignedDuration::from_hours(72));
        assert_eq!(n.questionnaire_id.as_deref(), Some("halsodeklaration"));
        let place = n.place.expect("place");
        assert_eq!(place.name, "Vårdcentralen Kiruna");
        assert_eq!(place.lines, vec!["Thulegatan 29".to_owned()]);
        assert_eq!(place.city.as_deref(), Some("Kiruna"));
        assert_eq!(place.phone.as_deref(), Some("0980-123 45"));
        let who = n.practitioner.expect("practitioner");
        assert_eq!(
            (who.name.as_str(), who.role.as_deref()),
            ("Anna Berg", Some("Distriktssköterska"))
        );
        assert_eq!(n.preparation.as_deref(), Some("Ta med dina mätvärden."));
    }

    #[test]
    fn defaults_video_and_refusals() {
        let mut v = appointment();
        v["extension"] =
            json!([{ "url": EXT_VIDEO_URL, "valueUrl": "https://video.region.se/m/42" }]);
        v["status"] = json!("cancelled");
        v["cancelationReason"] = json!({ "text": "Sjukdom" });
        let n = notice_from_fhir(&v, &patient()).expect("reads");
        assert_eq!(n.cutoff, DEFAULT_CUTOFF);
        assert_eq!(n.video_url.as_deref(), Some("https://video.region.se/m/42"));
        assert_eq!(n.status, AppointmentStatus::Cancelled);
        assert_eq!(n.cancel_reason.as_deref(), Some("Sjukdom"));

        v["extension"] =
            json!([{ "url": EXT_VIDEO_URL, "valueUrl": "http://video.region.se/m/42" }]);
        let e = notice_from_fhir(&v, &patient()).expect_err("plain http link");
        assert_eq!(e.field, "extension[0].valueUrl");

        let mut other = appointment();
        other["participant"][0]["actor"]["reference"] = json!("Patient/bertil-2");
        let e = notice_from_fhir(&other, &patient()).expect_err("another patient's");
        assert_eq!(e.field, "participant[0].actor.reference");
        assert!(
            !e.to_string().contains("bertil"),
            "no value in the error: {e}"
        );

        let mut none = appointment();
        none["participant"] = json!([]);
        assert!(notice_from_fhir(&none, &patient()).is_err());

        let mut backwards = appointment();
        backwards["end"] = json!("2026-12-10T08:00:00Z");
        assert_eq!(
            notice_from_fhir(&backwards, &patient())
                .expect_err("end before start")
                .field,
            "end"
        );
    }

    fn given(answer: Answer) -> GivenAnswer {
        GivenAnswer {
            id: "5f0c6b7e-3c1a-4b7e-9a51-2f7d1c0e9b11".into(),
            answer,
            at: "2026-12-01T10:00:00Z".parse().expect("time"),
            for_version: "3".into(),
            for_start: "2026-12-10T08:30:00Z".parse().expect("time"),
            for_end: Some("2026-12-10T09:00:00Z".parse().expect("time")),
            delivery: AnswerDelivery::Queued,
        }
    }

    fn resource(e: &BundleEntry) -> &Value {
        match &e.resource {
            EntryResource::Json(v) => v,
            _ => panic!("a JSON resource"),
        }
    }

    #[test]
    fn answers_are_conditional_creates_of_the_right_resource() {
        let p = patient();
        let confirm = answer_entry("appt-1", &given(Answer::Confirm), &p).expect("entry");
        assert_eq!(confirm.request.url, "AppointmentResponse");
        assert_eq!(
            confirm.request.if_none_exist.as_deref(),
            Some("identifier=urn:ietf:rfc:3986|urn:uuid:5f0c6b7e-3c1a-4b7e-9a51-2f7d1c0e9b11")
        );
        let r = resource(&confirm);
        assert_eq!(r["participantStatus"], "accepted");
        assert_eq!(r["appointment"]["reference"], "Appointment/appt-1");
        assert_eq!(r["actor"]["reference"], "Patient/anna-1");
        assert_eq!(r["start"], "2026-12-10T08:30:00Z");

        let cancel = answer_entry(
            "appt-1",
            &given(Answer::Cancel {
                reason: "Sjuk".into(),
            }),
            &p,
        )
        .expect("entry");
        assert_eq!(resource(&cancel)["participantStatus"], "declined");
        assert_eq!(resource(&cancel)["comment"], "Sjuk");

        let window = (
            "2026-12-15T08:00:00Z".parse().expect("time"),
            "2026-12-15T12:00:00Z".parse().expect("time"),
        );
        let task = answer_entry(
            "appt-1",
            &given(Answer::Reschedule {
                wishes: "Förmiddag".into(),
                windows: vec![window],
            }),
            &p,
        )
        .expect("entry");
        assert_eq!(task.request.url, "Task");
        let t = resource(&task);
        assert_eq!(
            (t["status"].as_str(), t["intent"].as_str()),
            (Some("requested"), Some("order"))
        );
        assert_eq!(t["focus"]["reference"], "Appointment/appt-1");
        assert_eq!(t["for"]["reference"], "Patient/anna-1");
        assert_eq!(t["code"]["coding"][0]["code"], "reschedule");
        assert_eq!(
            t["input"][0]["valuePeriod"]["start"],
            "2026-12-15T08:00:00Z"
        );
        assert_eq!(t["description"], "Förmiddag");

        assert!(answer_entry("bad id!", &given(Answer::Confirm), &p).is_err());
    }

    #[test]
    fn the_opened_receipt_is_one_per_notice() {
        let at = "2026-12-01T10:00:00Z".parse().expect("time");
        let a = opened_receipt_entry("appt-1", at, &patient()).expect("entry");
        let b = opened_receipt_entry("appt-1", at, &patient()).expect("entry");
        assert_eq!(a.full_url, b.full_url);
        assert_eq!(
            a.request.if_none_exist.as_deref(),
            Some("identifier=https://nara.se/fhir/read-receipt|Appointment/appt-1")
        );
        let r = resource(&a);
        assert_eq!(r["about"][0]["reference"], "Appointment/appt-1");
        assert_eq!(r["category"][0]["coding"][0]["code"], "read-receipt");
    }
}
