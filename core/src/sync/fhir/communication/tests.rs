//! Golden JSON for the chat mapping (ADR 0009) and the download parsers.

use serde_json::{Value, json};

use super::*;
use crate::sync::fhir::{Bundle, BundleResponse, EntryOutcome, parse_response};

const MSG_ID: &str = "7d3f1b2a-4c5e-4f60-8a7b-9c0d1e2f3a4b";
const PHOTO_ID: &str = "0b8e6f7a-1c2d-4e3f-9a0b-1c2d3e4f5a6b";
const SHA256_HEX: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn patient() -> PatientId {
    PatientId::new("anna-1").expect("valid id")
}

fn thread_ref() -> ThreadRef {
    ThreadRef {
        id: "anna-1-hjartsvikt".into(),
        unit_name: Some("Hjärtsviktsmottagningen".into()),
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn photo() -> Photo {
    Photo {
        id: PHOTO_ID.into(),
        content_type: "image/jpeg".into(),
        size: 4,
        sha256: SHA256_HEX.into(),
        local: true,
    }
}

fn message() -> Message {
    Message {
        id: MSG_ID.into(),
        thread_id: "anna-1-hjartsvikt".into(),
        author: Author::Patient,
        text: "Benen är svullna i dag 🦶".into(),
        photos: vec![photo()],
        written_at: ts("2026-11-24T07:15:00Z"),
        delivery: Some(DeliveryState::Queued),
        read_at: None,
        in_reply_to: Some("unit-msg-1".into()),
    }
}

#[test]
fn patient_message_is_a_conditional_create_of_this_communication() {
    let entry = message_entry(&message(), &patient(), &thread_ref()).expect("maps");
    let got = serde_json::to_value(&entry).expect("json");
    let want = json!({
        "fullUrl": format!("urn:uuid:{MSG_ID}"),
        "resource": {
            "resourceType": "Communication",
            "identifier": [{ "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{MSG_ID}") }],
            "basedOn": [{ "reference": "CommunicationRequest/anna-1-hjartsvikt" }],
            "inResponseTo": [{ "reference": "Communication/unit-msg-1" }],
            "status": "completed",
            "category": [{ "coding": [{
                "system": "https://nara.se/fhir/CodeSystem/communication-category",
                "code": "message"
            }] }],
            "subject": { "reference": "Patient/anna-1" },
            "sent": "2026-11-24T07:15:00Z",
            "recipient": [{ "display": "Hjärtsviktsmottagningen" }],
            "sender": { "reference": "Patient/anna-1" },
            "payload": [
                { "contentString": "Benen är svullna i dag 🦶" },
                { "contentAttachment": {
                    "extension": [{
                        "url": "https://nara.se/fhir/StructureDefinition/attachment-sha256",
                        "valueBase64Binary": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
                    }],
                    "contentType": "image/jpeg",
                    "url": format!("Binary/{PHOTO_ID}"),
                    "size": 4
                } }
            ]
        },
        "request": {
            "method": "POST",
            "url": "Communication",
            "ifNoneExist": format!("identifier=urn:ietf:rfc:3986|urn:uuid:{MSG_ID}")
        }
    });
    assert_eq!(got, want);
}

#[test]
fn text_only_and_photo_only_messages_have_only_their_payloads() {
    let mut m = message();
    m.photos.clear();
    m.in_reply_to = None;
    let c = serde_json::to_value(communication(&m, &patient(), &thread_ref()).expect("maps"))
        .expect("json");
    assert_eq!(c["payload"].as_array().map(Vec::len), Some(1));
    assert!(c.get("inResponseTo").is_none());
    let mut m = message();
    m.text.clear();
    let c = serde_json::to_value(communication(&m, &patient(), &thread_ref()).expect("maps"))
        .expect("json");
    assert_eq!(c["payload"].as_array().map(Vec::len), Some(1));
    assert!(c["payload"][0].get("contentAttachment").is_some());
}

#[test]
fn bad_ids_are_refused_without_values() {
    let mut m = message();
    m.in_reply_to = Some("not a fhir id!".into());
    assert_eq!(
        communication(&m, &patient(), &thread_ref()),
        Err(FhirError::InvalidResourceId)
    );
    let t = ThreadRef {
        id: "bad/id".into(),
        unit_name: None,
    };
    assert_eq!(
        communication(&message(), &patient(), &t),
        Err(FhirError::InvalidResourceId)
    );
    assert_eq!(
        binary("bad id", "image/png", b"x", &patient()),
        Err(FhirError::InvalidResourceId)
    );
}

#[test]
fn photo_is_a_binary_put_with_the_patient_as_security_context() {
    let entry = binary_entry(PHOTO_ID, "image/jpeg", b"test", &patient()).expect("maps");
    let got = serde_json::to_value(&entry).expect("json");
    let want = json!({
        "resource": {
            "resourceType": "Binary",
            "id": PHOTO_ID,
            "contentType": "image/jpeg",
            "securityContext": { "reference": "Patient/anna-1" },
            "data": "dGVzdA=="
        },
        "request": { "method": "PUT", "url": format!("Binary/{PHOTO_ID}") }
    });
    assert_eq!(got, want);
}

#[test]
fn receipt_is_a_conditional_create_keyed_by_the_message_read() {
    let e = receipt_entry(
        "unit-msg-1",
        &thread_ref(),
        ts("2026-11-24T10:00:00Z"),
        &patient(),
    )
    .expect("maps");
    let got = serde_json::to_value(&e).expect("json");
    let again = receipt_entry(
        "unit-msg-1",
        &thread_ref(),
        ts("2026-11-24T11:00:00Z"),
        &patient(),
    )
    .expect("maps");
    assert_eq!(
        e.full_url, again.full_url,
        "the same message gives the same receipt identity"
    );
    let full_url = e.full_url.clone().expect("fullUrl");
    assert!(full_url.starts_with("urn:uuid:"));
    let want = json!({
        "fullUrl": full_url,
        "resource": {
            "resourceType": "Communication",
            "identifier": [{ "system": "https://nara.se/fhir/read-receipt", "value": "Communication/unit-msg-1" }],
            "basedOn": [{ "reference": "CommunicationRequest/anna-1-hjartsvikt" }],
            "inResponseTo": [{ "reference": "Communication/unit-msg-1" }],
            "status": "completed",
            "category": [{ "coding": [{
                "system": "https://nara.se/fhir/CodeSystem/communication-category",
                "code": "read-receipt"
            }] }],
            "subject": { "reference": "Patient/anna-1" },
            "sent": "2026-11-24T10:00:00Z",
            "recipient": [{ "display": "Hjärtsviktsmottagningen" }],
            "sender": { "reference": "Patient/anna-1" }
        },
        "request": {
            "method": "POST",
            "url": "Communication",
            "ifNoneExist": "identifier=https://nara.se/fhir/read-receipt|Communication/unit-msg-1"
        }
    });
    assert_eq!(got, want);
}

#[test]
fn binary_and_message_in_one_transaction_are_parsed_as_done() {
    let bundle = Bundle::transaction(vec![
        binary_entry(PHOTO_ID, "image/jpeg", b"test", &patient()).expect("binary"),
        message_entry(&message(), &patient(), &thread_ref()).expect("message"),
    ]);
    let body = json!({
        "resourceType": "Bundle", "type": "transaction-response",
        "entry": [
            { "response": { "status": "200 OK" } },
            { "response": { "status": "200 OK", "location": "Communication/abc/_history/1" } }
        ]
    });
    let r = parse_response(200, body.to_string().as_bytes(), &bundle).expect("parses");
    let BundleResponse::Entries(out) = r else {
        panic!("entries expected")
    };
    assert!(matches!(out[0], EntryOutcome::Updated { .. }));
    assert!(matches!(out[1], EntryOutcome::AlreadyThere { .. }));
}

// ------------------------------------------------------------------ download

/// The unit's reply as the nurse simulator writes it (tests/region/nurse reply).
fn unit_reply() -> Value {
    json!({
        "resourceType": "Communication",
        "id": "unit-msg-1",
        "meta": { "versionId": "1", "lastUpdated": "2026-11-24T09:00:01Z" },
        "identifier": [{ "system": "https://nara.se/fhir/nurse-message", "value": "n-1" }],
        "basedOn": [{ "reference": "CommunicationRequest/anna-1-hjartsvikt" }],
        "inResponseTo": [{ "identifier": { "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{MSG_ID}") } }],
        "status": "completed",
        "category": [{ "coding": [{ "system": "https://nara.se/fhir/CodeSystem/communication-category", "code": "message" }] }],
        "subject": { "reference": "Patient/anna-1" },
        "sent": "2026-11-24T10:00:00+01:00",
        "recipient": [{ "reference": "Patient/anna-1" }],
        "sender": { "display": "Hjärtsviktsmottagningen" },
        "payload": [
            { "contentString": "Tack, vi ringer dig i eftermiddag." },
            { "contentAttachment": { "contentType": "image/png", "url": "Binary/unit-photo-1", "size": 8 } }
        ]
    })
}

#[test]
fn the_units_reply_is_read_with_its_region_id_and_photo_refs() {
    let got = message_from_fhir(&unit_reply(), &patient()).expect("parses");
    assert_eq!(got.server_id, "unit-msg-1");
    assert_eq!(got.message.id, "unit-msg-1");
    assert_eq!(got.message.author, Author::CareUnit);
    assert_eq!(got.message.thread_id, "anna-1-hjartsvikt");
    assert_eq!(got.message.text, "Tack, vi ringer dig i eftermiddag.");
    assert_eq!(got.message.written_at, ts("2026-11-24T09:00:00Z"));
    assert_eq!(got.message.in_reply_to.as_deref(), Some(MSG_ID));
    assert_eq!(got.message.delivery, None);
    assert_eq!(got.message.read_at, None);
    assert_eq!(
        got.photos,
        vec![PhotoRef {
            photo_id: "unit-photo-1".into(),
            url: "Binary/unit-photo-1".into()
        }]
    );
    assert_eq!(got.message.photos[0].size, 8);
    assert!(!got.message.photos[0].local);
    assert!(matches!(
        communication_from_fhir(&unit_reply(), &patient()),
        Ok(Downloaded::Message(_))
    ));
}

#[test]
fn the_servers_copy_of_the_patients_message_gives_its_state() {
    let entry = message_entry(&message(), &patient(), &thread_ref()).expect("maps");
    let EntryResource::Json(mut v) = entry.resource else {
        panic!("json resource")
    };
    v["id"] = json!("srv-1");
    let sent = message_from_fhir(&v, &patient()).expect("parses");
    assert_eq!(sent.message.id, MSG_ID);
    assert_eq!(sent.message.author, Author::Patient);
    assert_eq!(sent.message.delivery, Some(DeliveryState::Sent));
    assert_eq!(sent.message.photos, {
        let mut p = photo();
        p.local = false;
        vec![p]
    });
    assert_eq!(sent.message.text, message().text);
    assert_eq!(sent.message.in_reply_to.as_deref(), Some("unit-msg-1"));
    assert_eq!(delivery_state(&v), DeliveryState::Sent);
    v["received"] = json!("2026-11-24T08:00:00Z");
    let delivered = message_from_fhir(&v, &patient()).expect("parses");
    assert_eq!(delivered.message.delivery, Some(DeliveryState::Delivered));
    assert_eq!(delivered.received_at, Some(ts("2026-11-24T08:00:00Z")));
}

#[test]
fn the_units_receipt_marks_the_patients_message_read() {
    let v = json!({
        "resourceType": "Communication",
        "id": "rr-1",
        "identifier": [{ "system": "https://nara.se/fhir/read-receipt", "value": format!("urn:uuid:{MSG_ID}") }],
        "basedOn": [{ "reference": "CommunicationRequest/anna-1-hjartsvikt" }],
        "inResponseTo": [{ "identifier": { "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{MSG_ID}") } }],
        "status": "completed",
        "category": [{ "coding": [{ "system": "https://nara.se/fhir/CodeSystem/communication-category", "code": "read-receipt" }] }],
        "subject": { "reference": "Patient/anna-1" },
        "sent": "2026-11-24T09:30:00Z",
        "recipient": [{ "reference": "Patient/anna-1" }],
        "sender": { "display": "Hjärtsviktsmottagningen" }
    });
    let r = receipt_from_fhir(&v, &patient()).expect("parses");
    assert_eq!(
        r,
        Receipt {
            message_id: MSG_ID.into(),
            by: Author::CareUnit,
            read_at: ts("2026-11-24T09:30:00Z"),
            thread_id: Some("anna-1-hjartsvikt".into()),
        }
    );
    assert_eq!(r.delivery(), Some(DeliveryState::Read));
    assert!(matches!(
        communication_from_fhir(&v, &patient()),
        Ok(Downloaded::Receipt(_))
    ));
    assert_eq!(
        message_from_fhir(&v, &patient()).map_err(|e| e.field),
        Err("category".to_owned())
    );
}

#[test]
fn the_patients_own_receipt_round_trips() {
    let e = receipt_entry(
        "unit-msg-1",
        &thread_ref(),
        ts("2026-11-24T10:00:00Z"),
        &patient(),
    )
    .expect("maps");
    let EntryResource::Json(v) = e.resource else {
        panic!("json resource")
    };
    let r = receipt_from_fhir(&v, &patient()).expect("parses");
    assert_eq!(r.message_id, "unit-msg-1");
    assert_eq!(r.by, Author::Patient);
    assert_eq!(r.delivery(), None);
}

#[test]
fn another_patients_messages_are_refused() {
    let mut v = unit_reply();
    v["subject"] = json!({ "reference": "Patient/bertil-1" });
    let err = message_from_fhir(&v, &patient()).expect_err("other patient");
    assert_eq!(err.field, "subject.reference");
    let mut v = unit_reply();
    v["sender"] = json!({ "reference": "Patient/bertil-1" });
    assert_eq!(
        message_from_fhir(&v, &patient()).map_err(|e| e.field),
        Err("sender.reference".to_owned())
    );
}

#[test]
fn download_errors_name_elements_never_values() {
    let mut v = unit_reply();
    v["sent"] = json!("Hemlig text 2026");
    let err = message_from_fhir(&v, &patient()).expect_err("bad sent");
    assert_eq!(err.field, "sent");
    assert!(!err.to_string().contains("Hemlig"));
    let mut v = unit_reply();
    v["payload"] =
        json!([{ "contentString": "Hemlig" }, { "contentReference": { "reference": "X/1" } }]);
    let err = message_from_fhir(&v, &patient()).expect_err("unsupported");
    assert_eq!(
        (err.field.as_str(), err.problem),
        ("payload[1]", Problem::Unsupported)
    );
    assert!(!format!("{err} {err:?}").contains("Hemlig"));
    let mut v = unit_reply();
    v.as_object_mut().expect("object").remove("basedOn");
    assert_eq!(
        message_from_fhir(&v, &patient()).map_err(|e| (e.field, e.problem)),
        Err(("basedOn".to_owned(), Problem::Missing))
    );
    let mut v = unit_reply();
    v["status"] = json!("entered-in-error");
    assert_eq!(
        message_from_fhir(&v, &patient()).map_err(|e| e.problem),
        Err(Problem::Unsupported)
    );
}

/// A thread as the nurse simulator writes it (tests/region/nurse thread).
fn thread_json() -> Value {
    let tr = |en: &str| {
        json!({ "extension": [{
        "url": "http://hl7.org/fhir/StructureDefinition/translation",
        "extension": [{ "url": "lang", "valueCode": "en" }, { "url": "content", "valueString": en }]
    }] })
    };
    json!({
        "resourceType": "CommunicationRequest",
        "id": "anna-1-hjartsvikt",
        "meta": { "versionId": "1", "lastUpdated": "2026-11-24T08:00:00Z" },
        "extension": [
            { "url": "https://nara.se/fhir/StructureDefinition/expected-reply",
              "valueString": "Vi svarar inom två vardagar.", "_valueString": tr("We reply within two working days.") },
            { "url": "https://nara.se/fhir/StructureDefinition/emergency-notice",
              "valueString": "Inte för akuta ärenden. Ring 112 vid nödsituation, 1177 för sjukvårdsrådgivning.",
              "_valueString": tr("Not for emergencies. Call 112 in an emergency, 1177 for medical advice.") }
        ],
        "identifier": [{ "system": "https://nara.se/fhir/thread", "value": "anna-1-hjartsvikt" }],
        "status": "active",
        "category": [{ "coding": [{ "system": "https://nara.se/fhir/CodeSystem/communication-category", "code": "conversation" }] }],
        "subject": { "reference": "Patient/anna-1" },
        "occurrencePeriod": { "start": "2026-11-24T08:00:00Z" },
        "authoredOn": "2026-11-24T08:00:00Z",
        "requester": { "display": "Hjärtsviktsmottagningen" },
        "recipient": [{ "reference": "Patient/anna-1" }],
        "reasonCode": [{ "text": "Frågor om hjärtsvikt" }]
    })
}

#[test]
fn an_open_thread_has_title_unit_reply_time_and_notice() {
    let t = thread_from_fhir(&thread_json(), &patient()).expect("parses");
    assert_eq!(t.id, "anna-1-hjartsvikt");
    assert_eq!(t.title, "Frågor om hjärtsvikt");
    assert_eq!(t.unit_name, "Hjärtsviktsmottagningen");
    assert_eq!(
        t.expected_reply,
        Some(LocalizedText::new(
            "Vi svarar inom två vardagar.",
            "We reply within two working days."
        ))
    );
    assert!(
        t.notice
            .as_ref()
            .is_some_and(|n| n.sv.contains("112") && n.en.contains("1177"))
    );
    assert_eq!(t.closed, None);
    assert_eq!(t.updated_at, ts("2026-11-24T08:00:00Z"));
}

#[test]
fn a_closed_thread_says_when_and_why() {
    let mut v = thread_json();
    v["status"] = json!("completed");
    v["occurrencePeriod"]["end"] = json!("2026-11-30T12:00:00Z");
    v["statusReason"] = json!({
        "text": "Ärendet är avslutat.",
        "_text": { "extension": [{
            "url": "http://hl7.org/fhir/StructureDefinition/translation",
            "extension": [{ "url": "lang", "valueCode": "en" }, { "url": "content", "valueString": "The matter is closed." }]
        }] }
    });
    let t = thread_from_fhir(&v, &patient()).expect("parses");
    assert_eq!(
        t.closed,
        Some(ThreadClosed {
            at: ts("2026-11-30T12:00:00Z"),
            reason: Some(LocalizedText::new(
                "Ärendet är avslutat.",
                "The matter is closed."
            )),
        })
    );
    v["status"] = json!("revoked");
    v.as_object_mut()
        .expect("object")
        .remove("occurrencePeriod");
    v.as_object_mut().expect("object").remove("statusReason");
    let t = thread_from_fhir(&v, &patient()).expect("parses");
    assert_eq!(
        t.closed,
        Some(ThreadClosed {
            at: ts("2026-11-24T08:00:00Z"),
            reason: None
        })
    );
    v["status"] = json!("draft");
    assert_eq!(
        thread_from_fhir(&v, &patient()).map_err(|e| (e.field, e.problem)),
        Err(("status".to_owned(), Problem::Unsupported))
    );
    let mut v = thread_json();
    v.as_object_mut().expect("object").remove("reasonCode");
    assert_eq!(
        thread_from_fhir(&v, &patient()).map(|t| t.title),
        Ok("Hjärtsviktsmottagningen".to_owned())
    );
    let mut v = thread_json();
    v["subject"] = json!({ "reference": "Patient/bertil-1" });
    assert!(thread_from_fhir(&v, &patient()).is_err());
}

#[test]
fn a_downloaded_binary_is_checked_against_the_announced_photo() {
    let entry = binary_entry(PHOTO_ID, "image/jpeg", b"test", &patient()).expect("maps");
    let EntryResource::Json(v) = entry.resource else {
        panic!("json resource")
    };
    assert_eq!(
        binary_from_fhir(&v, &patient(), &photo()),
        Ok(b"test".to_vec())
    );
    let mut tampered = v.clone();
    tampered["data"] = json!(base64_encode(b"tesT"));
    assert_eq!(
        binary_from_fhir(&tampered, &patient(), &photo()).map_err(|e| e.field),
        Err("data".to_owned())
    );
    let mut other = v.clone();
    other["securityContext"] = json!({ "reference": "Patient/bertil-1" });
    assert!(binary_from_fhir(&other, &patient(), &photo()).is_err());
    let unknown = Photo {
        size: 0,
        sha256: String::new(),
        ..photo()
    };
    assert_eq!(
        binary_from_fhir(&v, &patient(), &unknown),
        Ok(b"test".to_vec())
    );
}

#[test]
fn base64_round_trips_and_rejects_garbage() {
    for len in 0..40usize {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
        let enc = base64_encode(&bytes);
        assert_eq!(enc.len() % 4, 0);
        assert_eq!(base64_decode(&enc), Some(bytes));
    }
    assert_eq!(base64_encode(b"Man"), "TWFu");
    assert_eq!(base64_encode(b"Ma"), "TWE=");
    assert_eq!(base64_decode("TWE"), Some(b"Ma".to_vec()));
    assert_eq!(base64_decode("T"), None);
    assert_eq!(base64_decode("TW=E"), None);
    assert_eq!(base64_decode("TW!E"), None);
    assert_eq!(
        hex_decode(SHA256_HEX).map(|d| hex_encode(&d)),
        Some(SHA256_HEX.to_owned())
    );
    assert_eq!(hex_decode("abc"), None);
}

/// What `tests/region/nurse` wrote to the real FHIR server (hfs) for a thread, a
/// patient's message it received and read, its reply with a photo, and the closing.
#[test]
fn what_the_nurse_simulator_writes_parses() {
    let fixture: Value = serde_json::from_str(include_str!("nurse_written.json")).expect("fixture");
    let t = thread_from_fhir(&fixture["thread"], &patient()).expect("thread");
    assert_eq!(t.title, "Frågor om hjärtsvikt");
    assert!(t.closed.as_ref().is_some_and(|c| c.reason.is_some()));
    assert!(t.notice.as_ref().is_some_and(|n| n.en.contains("112")));
    let mut receipts = 0;
    let mut states = Vec::new();
    for c in fixture["communications"].as_array().expect("array") {
        match communication_from_fhir(c, &patient()).expect("parses") {
            Downloaded::Receipt(r) => {
                receipts += 1;
                assert_eq!(r.by, Author::CareUnit);
                assert_eq!(r.message_id, "33333333-3333-4333-8333-333333333333");
            }
            Downloaded::Message(m) => states.push((m.message.author, m.message.delivery)),
        }
    }
    assert_eq!(receipts, 1);
    states.sort_by_key(|(a, _)| *a == Author::CareUnit);
    assert_eq!(
        states,
        vec![
            (Author::Patient, Some(DeliveryState::Delivered)),
            (Author::CareUnit, None)
        ]
    );
}

fn adr_example(name: &str) -> Value {
    let adr = include_str!("../../../../../docs/adr/0009-chat-fhir-mapping.md");
    let marker = format!("<!-- example:{name} -->");
    let start = adr.find(&marker).expect("marker") + marker.len();
    let rest = &adr[start..];
    let open = rest.find("```json").expect("json block") + "```json".len();
    let close = rest[open..].find("```").expect("block end") + open;
    serde_json::from_str(&rest[open..close]).expect("example is JSON")
}

#[test]
fn the_adr_examples_are_what_the_code_reads_and_writes() {
    let t = thread_from_fhir(&adr_example("thread"), &patient()).expect("thread");
    assert_eq!(t.unit_name, "Hjärtsviktsmottagningen");
    assert_eq!(t.closed.map(|c| c.at), Some(ts("2026-11-30T12:00:00Z")));
    let mut m = message();
    m.text = "Benen är svullna i dag".into();
    m.photos[0].size = 48213;
    let written = serde_json::to_value(message_entry(&m, &patient(), &thread_ref()).expect("maps"))
        .expect("json");
    assert_eq!(written, adr_example("message"));
}
