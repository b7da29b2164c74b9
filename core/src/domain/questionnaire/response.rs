//! The FHIR R4 `QuestionnaireResponse` built from a form and its answers.
//!
//! Pure: the caller passes the patient, the time and the ids. The item tree follows the
//! form's nesting; only enabled items with answers appear (and groups holding some),
//! so answers to disabled items never leave the device. Answers to the children of a
//! question item are nested under the question's first answer, as FHIR requires; if the
//! question itself is unanswered they cannot be represented and are left out.
//!
//! R4 `basedOn` may only point to a `CarePlan` or `ServiceRequest`, so the appointment
//! a health declaration belongs to is carried in the extension [`APPOINTMENT_URL`]
//! (docs/adr/0010).

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use thiserror::Error;
use uuid::Uuid;

use super::answers::{AnswerValue, Answers, is_fhir_date, is_fhir_date_time};
use super::enable::enabled_answers;
use super::model::{Form, Item, ItemKind};
use super::score::score;
use super::validate::{ItemIssue, validate};

/// Nära's extension on a `QuestionnaireResponse`: the `Appointment` it was filled in
/// for (`valueReference`).
pub const APPOINTMENT_URL: &str = "https://nara.se/fhir/StructureDefinition/appointment";

/// The response's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseStatus {
    /// A draft, possibly incomplete (`in-progress`).
    InProgress,
    /// Finished and valid (`completed`).
    Completed,
}

/// Who, when and which ids.
#[derive(Debug, Clone, Copy)]
pub struct ResponseMeta<'a> {
    /// The patient's FHIR id (`subject` and `author` become `Patient/<id>`).
    pub patient_id: &'a str,
    /// The client's id of this response: the business identifier, for conditional
    /// create (`urn:ietf:rfc:3986` | `urn:uuid:<id>`).
    pub client_id: Uuid,
    /// When the patient answered (`authored`).
    pub authored: Timestamp,
    /// Draft or completed.
    pub status: ResponseStatus,
    /// The appointment the form belongs to, by FHIR id, if any.
    pub appointment_id: Option<&'a str>,
    /// The care plan that asked for the form, by FHIR id, if any (`basedOn`).
    pub care_plan_id: Option<&'a str>,
}

/// Why a response cannot be built.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ResponseError {
    /// The form has no `url`, so the response cannot name it.
    #[error("the questionnaire has no canonical url")]
    NoCanonical,
    /// An id (patient, appointment, care plan) is not a valid FHIR id.
    #[error("the {0} id is not a valid FHIR id")]
    InvalidId(&'static str),
    /// A completed response with answers that do not validate.
    #[error("{} item(s) do not validate", .0.len())]
    Invalid(Vec<ItemIssue>),
}

/// Builds the `QuestionnaireResponse` for `answers` to `form`.
///
/// A [`ResponseStatus::Completed`] response requires [`validate`] to find nothing; it
/// also carries the calculated score in the total item of a scored form. A draft keeps
/// every well-formed answer of an enabled item, valid or not.
pub fn response(
    form: &Form,
    answers: &Answers,
    meta: &ResponseMeta<'_>,
) -> Result<Value, ResponseError> {
    let url = form.url.as_deref().ok_or(ResponseError::NoCanonical)?;
    let check = |id: &str, what| {
        if is_fhir_id(id) {
            Ok(())
        } else {
            Err(ResponseError::InvalidId(what))
        }
    };
    check(meta.patient_id, "patient")?;
    let canonical = match &form.version {
        Some(v) => format!("{url}|{v}"),
        None => url.to_owned(),
    };
    let mut kept = enabled_answers(form, answers);
    let status = match meta.status {
        ResponseStatus::InProgress => "in-progress",
        ResponseStatus::Completed => {
            let issues = validate(form, answers);
            if !issues.is_empty() {
                return Err(ResponseError::Invalid(issues));
            }
            "completed"
        }
    };
    if let (Some(rule), Some(s)) = (&form.score, score(form, answers)) {
        let total = form.item(&rule.total_link_id);
        match total.map(|t| t.kind) {
            Some(_) if !s.complete || !s.value.is_finite() => kept.clear(&rule.total_link_id),
            Some(ItemKind::Integer) => {
                kept.set_one(
                    rule.total_link_id.clone(),
                    AnswerValue::Integer(s.value.round() as i64),
                );
            }
            Some(_) => kept.set_one(rule.total_link_id.clone(), AnswerValue::Decimal(s.value)),
            None => {}
        }
    }

    let mut out = Map::new();
    out.insert("resourceType".into(), json!("QuestionnaireResponse"));
    let mut extensions = Vec::new();
    if let Some(id) = meta.appointment_id {
        check(id, "appointment")?;
        extensions.push(json!({
            "url": APPOINTMENT_URL,
            "valueReference": { "reference": format!("Appointment/{id}") }
        }));
    }
    if !extensions.is_empty() {
        out.insert("extension".into(), Value::Array(extensions));
    }
    out.insert(
        "identifier".into(),
        json!({ "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{}", meta.client_id) }),
    );
    if let Some(id) = meta.care_plan_id {
        check(id, "care plan")?;
        out.insert(
            "basedOn".into(),
            json!([{ "reference": format!("CarePlan/{id}") }]),
        );
    }
    out.insert("questionnaire".into(), json!(canonical));
    out.insert("status".into(), json!(status));
    out.insert(
        "subject".into(),
        json!({ "reference": format!("Patient/{}", meta.patient_id) }),
    );
    out.insert("authored".into(), json!(meta.authored.to_string()));
    out.insert(
        "author".into(),
        json!({ "reference": format!("Patient/{}", meta.patient_id) }),
    );
    let items = items_json(form, &form.items, &kept);
    if !items.is_empty() {
        out.insert("item".into(), Value::Array(items));
    }
    Ok(Value::Object(out))
}

fn items_json(form: &Form, items: &[Item], answers: &Answers) -> Vec<Value> {
    items
        .iter()
        .filter_map(|item| item_json(form, item, answers))
        .collect()
}

fn item_json(form: &Form, item: &Item, answers: &Answers) -> Option<Value> {
    let mut out = Map::new();
    out.insert("linkId".into(), json!(item.link_id));
    if let Some(text) = &item.text {
        out.insert("text".into(), json!(text.get(form.language)));
    }
    let children = items_json(form, &item.children, answers);
    if item.kind == ItemKind::Group {
        if children.is_empty() {
            return None;
        }
        out.insert("item".into(), Value::Array(children));
        return Some(Value::Object(out));
    }
    let mut values: Vec<Value> = answers
        .get(&item.link_id)
        .iter()
        .filter(|v| well_formed(item, v))
        .map(|v| {
            let mut answer = Map::new();
            answer.insert(format!("value{}", v.fhir_type()), v.to_json());
            Value::Object(answer)
        })
        .collect();
    if values.is_empty() {
        return None;
    }
    if !children.is_empty() {
        if let Some(Value::Object(first)) = values.first_mut() {
            first.insert("item".into(), Value::Array(children));
        }
    }
    out.insert("answer".into(), Value::Array(values));
    Some(Value::Object(out))
}

/// True if `value` can be written as a FHIR answer of `item` (a draft may hold values
/// that break the form's rules, but not ones FHIR cannot represent).
fn well_formed(item: &Item, value: &AnswerValue) -> bool {
    item.kind.accepts(value)
        && match value {
            AnswerValue::Integer(i) => i32::try_from(*i).is_ok(),
            AnswerValue::Decimal(d) => d.is_finite(),
            AnswerValue::String(s) => !s.trim().is_empty(),
            AnswerValue::Date(s) => is_fhir_date(s),
            AnswerValue::DateTime(s) => is_fhir_date_time(s),
            AnswerValue::Boolean(_) | AnswerValue::Coding(_) => true,
        }
}

/// A FHIR resource id: 1–64 of `A-Z a-z 0-9 - .`.
fn is_fhir_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}
