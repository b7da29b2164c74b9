//! The notices area seen from Rust, as the shells see it: an Appointment provisioned as
//! a sync would (the `test-hooks` feature), its state from new to opened to answered,
//! the clinic's cut-off as a typed error with the clinic's phone, reminders and the
//! calendar file, the notice list listener, and the health declaration rendered from
//! the model, drafted, refused while incomplete and submitted once. Offline: the same
//! stories run in Kotlin and Swift under `tests/bindings/`.
#![cfg(feature = "test-hooks")]

mod common;
use common::holds_soon as eventually;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use nara_ffi::errors::{FormError, NoticeError};
use nara_ffi::nara::Nara;
use nara_ffi::notices::{
    AnswerDelivery, Coding, DeclarationState, FormAnswer, FormItem, FormItemAnswers, IssueCode,
    ItemKind, Notice, NoticeAnswer, NoticeState, TimeWindow,
};
use nara_ffi::types::ReadingKind;

async fn open(dir: &tempfile::TempDir) -> Arc<Nara> {
    common::open_xor(dir, 0x6b).await
}

const PATIENT: &str = "anna-1";
const PHONE: &str = "0980-123 45";
const DECLARATION: &str = "halsodeklaration";
const ANSWERS: &str = "https://nara.se/fhir/CodeSystem/halsodeklaration-svar";

fn instant(t: SystemTime) -> String {
    jiff::Timestamp::try_from(t).expect("in range").to_string()
}

/// An Appointment as the region sends it (ADR 0010 §1): the place as a contained
/// Location `#loc` with the clinic's phone, the practitioner as a display-only
/// PractitionerRole actor, the health declaration as supporting information, starting
/// `hours` from now, with the default cut-off (24 h).
fn appointment(id: &str, hours: u64) -> String {
    let start = SystemTime::now() + Duration::from_secs(hours * 3600);
    let end = start + Duration::from_secs(1800);
    format!(
        r##"{{
  "resourceType": "Appointment",
  "id": "{id}",
  "meta": {{ "versionId": "1", "lastUpdated": "2026-11-20T10:00:00Z" }},
  "status": "booked",
  "serviceType": [{{ "text": "Diabetesmottagning" }}],
  "start": "{start}",
  "end": "{end}",
  "patientInstruction": "Ta med dina mätvärden.",
  "supportingInformation": [{{ "reference": "Questionnaire/{DECLARATION}" }}],
  "contained": [{{
    "resourceType": "Location", "id": "loc", "name": "Vårdcentralen Kiruna",
    "address": {{ "line": ["Thulegatan 29"], "postalCode": "98132", "city": "Kiruna" }},
    "telecom": [{{ "system": "phone", "value": "{PHONE}" }}]
  }}],
  "participant": [
    {{ "actor": {{ "reference": "Patient/{PATIENT}" }}, "status": "needs-action" }},
    {{ "actor": {{ "reference": "#loc" }}, "status": "accepted" }},
    {{ "actor": {{ "reference": "PractitionerRole/pr-1", "display": "Anna Berg" }},
      "type": [{{ "text": "Distriktssköterska" }}], "status": "accepted" }}
  ]
}}"##,
        start = instant(start),
        end = instant(end),
    )
}

fn declaration_json() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/region/fixtures/halsodeklaration.json"
    );
    std::fs::read_to_string(path).expect("the health declaration fixture")
}

type Lists = common::Lists<Notice>;

#[tokio::test(flavor = "multi_thread")]
async fn a_notice_goes_from_new_to_opened_to_answered_and_the_list_follows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let notices = nara.notices();
    assert!(
        notices
            .debug_store_notice(appointment("appt-1", 72), PATIENT.to_owned())
            .await
            .expect("stored")
    );

    let list = notices.list().await.expect("list");
    assert_eq!(list.len(), 1);
    let n = &list[0];
    assert_eq!(n.state, NoticeState::New);
    assert_eq!(n.state_label.sv, "Ny");
    assert_eq!(n.service, "Diabetesmottagning");
    let place = n.place.as_ref().expect("the contained Location");
    assert_eq!(place.name, "Vårdcentralen Kiruna");
    assert_eq!(place.phone.as_deref(), Some(PHONE));
    let who = n.practitioner.as_ref().expect("the PractitionerRole actor");
    assert_eq!(who.name, "Anna Berg");
    assert_eq!(who.role.as_deref(), Some("Distriktssköterska"));
    assert_eq!(n.cutoff_hours, 24);
    assert!(n.can_change);
    assert_eq!(n.questionnaire_id.as_deref(), Some(DECLARATION));
    assert_eq!(n.declaration, Some(DeclarationState::NotDownloaded));

    // Answering before opening: the patient has not seen the time.
    assert!(matches!(
        notices
            .answer("appt-1".to_owned(), NoticeAnswer::Confirm)
            .await,
        Err(NoticeError::Moved { .. })
    ));

    let lists = Arc::new(Lists::default());
    let handle = notices.watch_notices(lists.clone()).expect("watch");
    assert!(eventually(|| lists.seen.lock().expect("lock").len() == 1).await);

    let opened = notices.open("appt-1".to_owned()).await.expect("opened");
    assert_eq!(opened.state, NoticeState::Opened);
    assert!(opened.opened_at.is_some());
    assert!(
        eventually(|| lists
            .seen
            .lock()
            .expect("lock")
            .last()
            .is_some_and(|l| l[0].state == NoticeState::Opened))
        .await,
        "the listener gets the list after the opening"
    );

    let given = notices
        .answer("appt-1".to_owned(), NoticeAnswer::Confirm)
        .await
        .expect("confirmed");
    assert_eq!(given.answer, NoticeAnswer::Confirm);
    assert_eq!(given.delivery, AnswerDelivery::Queued);
    let n = notices
        .get("appt-1".to_owned())
        .await
        .expect("get")
        .expect("there");
    assert_eq!(n.state, NoticeState::Answered);
    assert_eq!(
        n.current_answer.map(|a| a.answer),
        Some(NoticeAnswer::Confirm)
    );
    assert!(matches!(
        notices
            .answer("appt-1".to_owned(), NoticeAnswer::Confirm)
            .await,
        Err(NoticeError::AlreadyGiven { .. })
    ));

    // A reschedule without wishes or windows, and one with a window in the past.
    let past = SystemTime::now() - Duration::from_secs(7200);
    assert!(matches!(
        notices
            .answer(
                "appt-1".to_owned(),
                NoticeAnswer::Reschedule {
                    wishes: String::new(),
                    windows: vec![],
                },
            )
            .await,
        Err(NoticeError::EmptyReschedule { .. })
    ));
    assert!(matches!(
        notices
            .answer(
                "appt-1".to_owned(),
                NoticeAnswer::Reschedule {
                    wishes: String::new(),
                    windows: vec![TimeWindow {
                        start: past,
                        end: past + Duration::from_secs(600),
                    }],
                },
            )
            .await,
        Err(NoticeError::BadWindow { index: 0, .. })
    ));

    let ics = notices
        .calendar("appt-1".to_owned())
        .await
        .expect("calendar");
    assert!(ics.starts_with("BEGIN:VCALENDAR"));
    let reminders = notices
        .reminders("Europe/Stockholm".to_owned())
        .await
        .expect("reminders");
    assert!(reminders.iter().all(|r| r.notice_id == "appt-1"));
    assert!(!reminders.is_empty());
    assert!(matches!(
        notices.reminders("Mars/Olympus".to_owned()).await,
        Err(NoticeError::InvalidTimeZone)
    ));
    assert!(matches!(
        notices.open("nope".to_owned()).await,
        Err(NoticeError::NotFound { .. })
    ));

    handle.cancel();
    drop(nara);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_after_the_cut_off_names_the_clinic_phone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let notices = nara.notices();
    notices
        .debug_store_notice(appointment("appt-soon", 3), PATIENT.to_owned())
        .await
        .expect("stored");
    let opened = notices.open("appt-soon".to_owned()).await.expect("opened");
    assert!(!opened.can_change);
    let err = notices
        .answer(
            "appt-soon".to_owned(),
            NoticeAnswer::Cancel {
                reason: "HEMLIG-ORSAK".to_owned(),
            },
        )
        .await
        .expect_err("too late");
    match &err {
        NoticeError::PastCutoff {
            hours,
            phone,
            explanation,
        } => {
            assert_eq!(*hours, 24);
            assert_eq!(phone.as_deref(), Some(PHONE));
            assert!(explanation.sv.contains(PHONE));
            assert!(explanation.en.contains(PHONE));
        }
        other => panic!("expected PastCutoff, got {other:?}"),
    }
    assert!(!err.to_string().contains("HEMLIG"));
    // Confirming is still possible.
    notices
        .answer("appt-soon".to_owned(), NoticeAnswer::Confirm)
        .await
        .expect("confirmed");

    // Another patient's appointment is refused.
    assert!(matches!(
        notices
            .debug_store_notice(appointment("appt-x", 72), "bertil-2".to_owned())
            .await,
        Err(NoticeError::Internal { .. })
    ));
}

fn find<'a>(items: &'a [FormItem], link_id: &str) -> Option<&'a FormItem> {
    items.iter().find_map(|i| {
        if i.link_id == link_id {
            Some(i)
        } else {
            find(&i.children, link_id)
        }
    })
}

fn one(link_id: &str, value: FormAnswer) -> FormItemAnswers {
    FormItemAnswers {
        link_id: link_id.to_owned(),
        values: vec![value],
    }
}

fn yes_no(link_id: &str, value: bool) -> FormItemAnswers {
    one(link_id, FormAnswer::Boolean { value })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_health_declaration_is_rendered_drafted_refused_while_incomplete_and_submitted_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let notices = nara.notices();
    notices
        .debug_store_notice(appointment("appt-1", 72), PATIENT.to_owned())
        .await
        .expect("stored");
    assert!(matches!(
        notices
            .form(DECLARATION.to_owned(), Some("appt-1".to_owned()))
            .await,
        Err(FormError::NotDownloaded { .. })
    ));
    let model = notices
        .debug_store_form(DECLARATION.to_owned(), declaration_json())
        .await
        .expect("a usable form");
    assert_eq!(
        model.title.as_ref().map(|t| t.en.as_str()),
        Some("Health declaration before your visit")
    );
    assert!(notices.has_form(DECLARATION.to_owned()).await.expect("has"));
    let n = notices
        .get("appt-1".to_owned())
        .await
        .expect("get")
        .expect("there");
    assert_eq!(n.declaration, Some(DeclarationState::NotStarted));

    let session = notices
        .form(DECLARATION.to_owned(), Some("appt-1".to_owned()))
        .await
        .expect("form");
    assert!(!session.submitted);
    let items = &session.form.items;
    assert_eq!(
        find(items, "intro").map(|i| i.kind),
        Some(ItemKind::Display)
    );
    let group = find(items, "lakemedel-grupp").expect("group");
    assert_eq!(group.kind, ItemKind::Group);
    let takes = find(items, "tar-lakemedel").expect("question");
    assert_eq!(takes.kind, ItemKind::Boolean);
    assert!(takes.required);
    assert_eq!(
        takes.text.as_ref().map(|t| t.en.as_str()),
        Some("Do you take any medicines regularly?")
    );
    let height = find(items, "langd").expect("height");
    assert_eq!(height.kind, ItemKind::Integer);
    assert_eq!(height.min_value, Some(FormAnswer::Integer { value: 100 }));
    assert_eq!(height.unit.as_deref(), Some("cm"));
    let weight = find(items, "vikt").expect("weight");
    assert_eq!(weight.prefilled_from, Some(ReadingKind::BodyWeight));
    let smoking = find(items, "rokning").expect("smoking");
    assert_eq!(smoking.kind, ItemKind::Choice);
    let codes: Vec<_> = smoking
        .options
        .iter()
        .map(|o| match &o.value {
            FormAnswer::Coding { coding } => coding.code.clone().unwrap_or_default(),
            other => panic!("a coding option, got {other:?}"),
        })
        .collect();
    assert_eq!(codes, ["nej", "dagligen", "ibland"]);
    assert_eq!(smoking.options[0].label.sv, "Nej");
    assert_eq!(smoking.options[0].label.en, "No", "the form's translation");
    assert!(session.enabled.iter().any(|l| l == "tar-lakemedel"));
    assert!(!session.enabled.iter().any(|l| l == "vilka-lakemedel"));

    // Yes to "takes medicines" enables the follow-up; the draft is saved.
    let mut answers = vec![yes_no("tar-lakemedel", true)];
    let session = notices
        .save_draft(
            DECLARATION.to_owned(),
            Some("appt-1".to_owned()),
            answers.clone(),
        )
        .await
        .expect("draft");
    assert!(session.enabled.iter().any(|l| l == "vilka-lakemedel"));
    assert!(
        session
            .issues
            .iter()
            .any(|i| i.link_id == "vilka-lakemedel" && i.code == IssueCode::Required)
    );
    let resumed = notices
        .form(DECLARATION.to_owned(), Some("appt-1".to_owned()))
        .await
        .expect("resumed");
    assert_eq!(resumed.answers, answers);
    assert_eq!(
        notices
            .get("appt-1".to_owned())
            .await
            .expect("get")
            .and_then(|n| n.declaration),
        Some(DeclarationState::Draft)
    );

    let err = notices
        .submit(DECLARATION.to_owned(), Some("appt-1".to_owned()))
        .await
        .expect_err("incomplete");
    match &err {
        FormError::Invalid {
            issues,
            explanation,
        } => {
            assert!(issues.iter().any(|i| i.link_id == "vilka-lakemedel"));
            assert!(issues.iter().all(|i| !i.explanation.sv.is_empty()));
            assert!(explanation.en.contains("questions"));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }

    answers.extend([
        one("langd", FormAnswer::Integer { value: 172 }),
        one("vikt", FormAnswer::Decimal { value: 68.5 }),
        one(
            "vilka-lakemedel",
            FormAnswer::Text {
                value: "Metformin".to_owned(),
            },
        ),
        yes_no("allergi", false),
        one(
            "rokning",
            FormAnswer::Coding {
                coding: Coding {
                    system: Some(ANSWERS.to_owned()),
                    code: Some("nej".to_owned()),
                    display: None,
                },
            },
        ),
        yes_no("nya-besvar", false),
    ]);
    let session = notices
        .save_draft(DECLARATION.to_owned(), Some("appt-1".to_owned()), answers)
        .await
        .expect("draft");
    assert_eq!(session.issues, []);
    let done = notices
        .submit(DECLARATION.to_owned(), Some("appt-1".to_owned()))
        .await
        .expect("submitted");
    assert!(!done.response_id.is_empty());
    assert!(done.score_reading.is_none());
    let after = notices
        .form(DECLARATION.to_owned(), Some("appt-1".to_owned()))
        .await
        .expect("read-only");
    assert!(after.submitted);
    assert!(matches!(
        notices
            .submit(DECLARATION.to_owned(), Some("appt-1".to_owned()))
            .await,
        Err(FormError::AlreadySubmitted { .. })
    ));
    assert!(matches!(
        notices
            .save_draft(DECLARATION.to_owned(), Some("appt-1".to_owned()), vec![])
            .await,
        Err(FormError::AlreadySubmitted { .. })
    ));
    assert_eq!(
        notices
            .get("appt-1".to_owned())
            .await
            .expect("get")
            .and_then(|n| n.declaration),
        Some(DeclarationState::Submitted)
    );

    // A form the core cannot use is refused with the item named.
    assert!(matches!(
        notices
            .debug_store_form(
                "bad".to_owned(),
                r#"{"resourceType":"Questionnaire","status":"active","item":[{"linkId":"a","type":"attachment","text":"Foto"}]}"#.to_owned(),
            )
            .await,
        Err(FormError::Unusable { .. })
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_store_fails_with_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let notices = nara.notices();
    nara.close_store();
    assert!(matches!(notices.list().await, Err(NoticeError::Closed)));
    assert!(matches!(
        notices.form(DECLARATION.to_owned(), None).await,
        Err(FormError::Closed)
    ));
}
