//! Appointment notices against the real test region (ADR 0010): the clinic books a
//! visit with a health declaration; the patient opens it (the region sees the receipt),
//! fills the declaration offline (the draft survives a restart), confirms; the region
//! holds one `AppointmentResponse` and one `QuestionnaireResponse` that fits the form.
//! A cancel after the cut-off is refused; a reschedule request reaches the region as a
//! `Task`; a time the clinic moved while the patient was offline is shown, and the
//! patient's answer for the old time is not sent.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use nara_core::domain::notice::{Answer, AnswerDelivery, NoticeError, NoticeState};
use nara_core::domain::questionnaire::{self, AnswerValue, Coding, Form, ItemKind};
use nara_core::notices::DeclarationState;
use nara_core::{Nara, NaraError};
use nara_tests::region::{self, Region, direct_client, fhir_json, region, sync_finished};
use serde_json::Value;

const ANSWER_SYSTEM: &str = "https://nara.se/fhir/CodeSystem/halsodeklaration-svar";

fn notice_on_server(region: &Region, patient: &str, id: &str) -> Value {
    serde_json::from_str(&region.nurse(&["notice", patient, id])).expect("nurse notice prints JSON")
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{nanos:x}")
}

fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn book(region: &Region, patient: &str, id: &str, start: Timestamp, questionnaire: bool) {
    let end = start + SignedDuration::from_mins(30);
    let (start, end) = (iso(start), iso(end));
    let mut args = vec![
        "book",
        patient,
        id,
        "--start",
        &start,
        "--end",
        &end,
        "--service",
        "Diabetesmottagning",
        "--clinic-name",
        "Vårdcentralen Kiruna",
        "--address",
        "Thulegatan 29",
        "--postal-code",
        "98132",
        "--city",
        "Kiruna",
        "--phone",
        "0980-123 45",
        "--cutoff-hours",
        "24",
    ];
    if questionnaire {
        args.extend(["--questionnaire", "halsodeklaration"]);
    }
    region.nurse(&args);
}

async fn sync(nara: &Nara) {
    sync_finished(nara, Duration::from_secs(60)).await;
}

fn open_phone(dir: &std::path::Path) -> Nara {
    region::open_phone(dir, "notices")
}

/// Checks a downloaded `QuestionnaireResponse` against the form: every answered item
/// exists with a value of its type, and every required item that the answers enable is
/// answered.
fn fits_the_form(qr: &Value, form: &Form) {
    assert_eq!(qr["status"], "completed");
    let mut answers = questionnaire::Answers::new();
    fn walk(items: &[Value], form: &Form, answers: &mut questionnaire::Answers) {
        for item in items {
            let link_id = item["linkId"].as_str().expect("linkId");
            let def = form
                .item(link_id)
                .unwrap_or_else(|| panic!("{link_id} is not in the form"));
            for a in item["answer"].as_array().into_iter().flatten() {
                let value = match def.kind {
                    ItemKind::Boolean => {
                        AnswerValue::Boolean(a["valueBoolean"].as_bool().expect("boolean"))
                    }
                    ItemKind::Integer => {
                        AnswerValue::Integer(a["valueInteger"].as_i64().expect("integer"))
                    }
                    ItemKind::Decimal => {
                        AnswerValue::Decimal(a["valueDecimal"].as_f64().expect("decimal"))
                    }
                    ItemKind::String | ItemKind::Text => {
                        AnswerValue::String(a["valueString"].as_str().expect("string").to_owned())
                    }
                    ItemKind::Date => {
                        AnswerValue::Date(a["valueDate"].as_str().expect("date").to_owned())
                    }
                    ItemKind::Choice => AnswerValue::Coding(Coding::new(
                        a["valueCoding"]["system"].as_str().expect("system"),
                        a["valueCoding"]["code"].as_str().expect("code"),
                        "",
                    )),
                    other => panic!("{link_id}: unexpected {other:?}"),
                };
                answers.set_one(link_id, value);
                walk(
                    a["item"].as_array().map(Vec::as_slice).unwrap_or(&[]),
                    form,
                    answers,
                );
            }
            walk(
                item["item"].as_array().map(Vec::as_slice).unwrap_or(&[]),
                form,
                answers,
            );
        }
    }
    walk(qr["item"].as_array().expect("items"), form, &mut answers);
    let issues = questionnaire::validate(form, &answers);
    assert!(
        issues.is_empty(),
        "the server's response does not fit the form: {issues:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_is_opened_declared_offline_confirmed_and_the_region_sees_each_once() {
    let region = region();
    let patient = "anna-1";
    let fixture = region.publish_declaration();
    let form = questionnaire::parse_str(&std::fs::read_to_string(&fixture).expect("fixture"))
        .expect("the fixture is a usable form");
    let now = Timestamp::from_second(Timestamp::now().as_second()).expect("whole seconds");
    let main = unique("besok");
    let soon = unique("snart");
    let later = unique("senare");
    let moved = unique("flyttas");
    book(
        region,
        patient,
        &main,
        now + SignedDuration::from_hours(24 * 10),
        true,
    );
    book(
        region,
        patient,
        &soon,
        now + SignedDuration::from_hours(12),
        false,
    );
    book(
        region,
        patient,
        &later,
        now + SignedDuration::from_hours(24 * 12),
        false,
    );
    book(
        region,
        patient,
        &moved,
        now + SignedDuration::from_hours(24 * 14),
        false,
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open_phone(dir.path());
    region.log_in(&nara, "anna").await;
    let report = nara
        .region()
        .sync_now(Duration::from_secs(60), |_| {})
        .await
        .expect("syncs");
    assert!(
        report.finished && report.notices_received >= 4,
        "{report:?}"
    );
    let n = nara.notices();
    let view = n.get(&main).expect("reads").expect("the notice arrived");
    assert_eq!(view.state, NoticeState::New);
    assert_eq!(
        view.declaration,
        Some(DeclarationState::NotStarted),
        "the form came too"
    );
    assert_eq!(
        view.notice.place.as_ref().and_then(|p| p.phone.as_deref()),
        Some("0980-123 45")
    );

    // Opened: the clinic sees it once, however often it is opened.
    n.open(&main).expect("opens");
    n.open(&main).expect("opens again");
    sync(&nara).await;
    assert_eq!(
        notice_on_server(region, patient, &main)["receipts"]["count"],
        1
    );

    // Offline: half the declaration, then the app is killed and started again.
    let half = n
        .form("halsodeklaration", Some(&main))
        .expect("form")
        .answers
        .with("langd", AnswerValue::Integer(178))
        .with("vikt", AnswerValue::Decimal(81.5))
        .with("tar-lakemedel", AnswerValue::Boolean(true));
    n.save_draft("halsodeklaration", Some(&main), half.clone())
        .expect("draft");
    drop(nara);
    let nara = open_phone(dir.path());
    let n = nara.notices();
    let resumed = n.form("halsodeklaration", Some(&main)).expect("form");
    assert_eq!(resumed.answers, half, "the draft survived the restart");
    let complete = half
        .with("vilka-lakemedel", AnswerValue::String("Metformin".into()))
        .with("allergi", AnswerValue::Boolean(false))
        .with(
            "rokning",
            AnswerValue::Coding(Coding::new(ANSWER_SYSTEM, "nej", "")),
        )
        .with("nya-besvar", AnswerValue::Boolean(false));
    let ready = n
        .save_draft("halsodeklaration", Some(&main), complete)
        .expect("draft");
    assert!(ready.issues.is_empty(), "{:?}", ready.issues);
    n.submit("halsodeklaration", Some(&main)).expect("submits");
    n.answer(&main, Answer::Confirm).expect("confirms");

    // Too late to cancel: refused, with the clinic's phone; nothing queued.
    n.open(&soon).expect("opens");
    let pending = nara.pending_uploads().expect("counts");
    match n.answer(
        &soon,
        Answer::Cancel {
            reason: "Sjuk".into(),
        },
    ) {
        Err(NaraError::Notice(NoticeError::PastCutoff { hours: 24, phone })) => {
            assert_eq!(phone.as_deref(), Some("0980-123 45"));
        }
        other => panic!("expected PastCutoff, got {other:?}"),
    }
    assert_eq!(nara.pending_uploads().expect("counts"), pending);

    // A reschedule request with a preferred window.
    n.open(&later).expect("opens");
    let window = (
        now + SignedDuration::from_hours(24 * 20),
        now + SignedDuration::from_hours(24 * 20 + 4),
    );
    n.answer(
        &later,
        Answer::Reschedule {
            wishes: "Helst förmiddag".into(),
            windows: vec![window],
        },
    )
    .expect("asks for another time");

    // Confirmed offline, but the clinic moves the time before the phone syncs.
    n.open(&moved).expect("opens");
    let stale = n.answer(&moved, Answer::Confirm).expect("confirms offline");
    let new_start = now + SignedDuration::from_hours(24 * 15);
    region.nurse(&[
        "move",
        patient,
        &moved,
        "--start",
        &iso(new_start),
        "--end",
        &iso(new_start + SignedDuration::from_mins(30)),
    ]);

    sync(&nara).await;
    sync(&nara).await;
    let main_server = notice_on_server(region, patient, &main);
    assert_eq!(main_server["receipts"]["count"], 1, "{main_server}");
    assert_eq!(main_server["responses"]["count"], 1, "{main_server}");
    assert_eq!(main_server["responses"]["participantStatus"][0], "accepted");
    assert_eq!(
        main_server["questionnaireResponses"]["count"], 1,
        "{main_server}"
    );
    let qr_id = main_server["questionnaireResponses"]["ids"][0]
        .as_str()
        .expect("the response's id")
        .to_owned();
    let qr = fhir_json(
        &direct_client(),
        format!("{}/QuestionnaireResponse/{qr_id}", region.fhir_direct_url),
    )
    .await;
    assert_eq!(qr["subject"]["reference"], format!("Patient/{patient}"));
    assert_eq!(
        qr["questionnaire"],
        "https://nara.se/fhir/Questionnaire/halsodeklaration|1"
    );
    fits_the_form(&qr, &form);
    let main_view = n.get(&main).expect("reads").expect("there");
    assert_eq!(main_view.state, NoticeState::Answered);
    assert_eq!(main_view.local.answers[0].delivery, AnswerDelivery::Sent);

    let later_server = notice_on_server(region, patient, &later);
    assert_eq!(later_server["tasks"]["count"], 1, "{later_server}");
    assert_eq!(later_server["tasks"]["descriptions"][0], "Helst förmiddag");
    assert_eq!(later_server["responses"]["count"], 0);

    let moved_server = notice_on_server(region, patient, &moved);
    assert_eq!(
        moved_server["responses"]["count"], 0,
        "the answer for the old time was not sent: {moved_server}"
    );
    let moved_view = n.get(&moved).expect("reads").expect("there");
    assert_eq!(
        moved_view.state,
        NoticeState::MovedByClinic,
        "the change is shown"
    );
    assert_eq!(moved_view.notice.start, new_start);
    let kept: BTreeMap<_, _> = moved_view
        .local
        .answers
        .iter()
        .map(|a| (a.id.clone(), a.delivery))
        .collect();
    assert_eq!(kept.get(&stale.id), Some(&AnswerDelivery::Overtaken));
    assert_eq!(nara.pending_uploads().expect("counts"), 0);
}
