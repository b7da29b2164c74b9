//! Stories about appointment notices and forms on the phone (no network): a notice
//! arrives, is opened (one receipt queued however often it is opened), answered within
//! the clinic's rules; a clinic change overtakes a waiting answer; a health
//! declaration is pre-filled, drafted across a restart and submitted once; a scored
//! form becomes a reading.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp, tz::Offset};
use nara_core::domain::notice::{
    Answer, AnswerDelivery, AppointmentStatus, DEFAULT_CUTOFF, Notice, NoticeError, NoticeState,
    Place,
};
use nara_core::domain::questionnaire::{AnswerValue, Answers, Coding, IssueCode};
use nara_core::domain::reading::{Measurement, NewReading, ReadingKind};
use nara_core::notices::{DeclarationState, FormError};
use nara_core::store::notices::NoticeUpsert;
use nara_core::{FileKeyProvider, Nara, NaraError};

const HD: &str = include_str!("fixtures/questionnaires/halsodeklaration.json");
const CAT: &str = include_str!("fixtures/questionnaires/cat.json");
const HD_ANSWERS: &str = "https://region.example.se/fhir/CodeSystem/halsodeklaration-svar";
const CAT_ANSWERS: &str = "https://nara.se/fhir/CodeSystem/cat-answer";

fn t(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

struct Phone {
    data: tempfile::TempDir,
    keys: tempfile::TempDir,
    clock: Arc<Mutex<Timestamp>>,
}

impl Phone {
    fn new(now: &str) -> Phone {
        Phone {
            data: tempfile::tempdir().expect("dir"),
            keys: tempfile::tempdir().expect("dir"),
            clock: Arc::new(Mutex::new(t(now))),
        }
    }

    fn open(&self) -> Nara {
        let clock = self.clock.clone();
        Nara::open_with_clock(
            self.data.path(),
            Arc::new(FileKeyProvider::new(self.keys.path().join("device.key"))),
            Arc::new(move || *clock.lock().expect("clock")),
        )
        .expect("opens")
    }

    fn set_time(&self, now: &str) {
        *self.clock.lock().expect("clock") = t(now);
    }
}

fn notice(id: &str) -> Notice {
    Notice {
        id: id.into(),
        version: "1".into(),
        status: AppointmentStatus::Booked,
        cancel_reason: None,
        start: t("2026-12-10T08:30:00Z"),
        end: Some(t("2026-12-10T09:00:00Z")),
        service: "Diabetesmottagning".into(),
        place: Some(Place {
            name: "Vårdcentralen Kiruna".into(),
            phone: Some("0980-123 45".into()),
            ..Place::default()
        }),
        video_url: None,
        practitioner: None,
        preparation: Some("Ta med dina mätvärden.".into()),
        cutoff: DEFAULT_CUTOFF,
        questionnaire_id: Some("hd".into()),
    }
}

#[test]
fn a_notice_is_opened_once_answered_and_a_clinic_change_overtakes_a_waiting_answer() {
    let phone = Phone::new("2026-12-01T12:00:00Z");
    let nara = phone.open();
    let n = nara.notices();
    assert_eq!(
        n.store_from_region(&notice("a1")).expect("stores"),
        NoticeUpsert::New
    );
    assert_eq!(
        n.store_from_region(&notice("a1")).expect("stores"),
        NoticeUpsert::Unchanged
    );
    assert_eq!(
        n.get("a1").expect("reads").expect("there").state,
        NoticeState::New
    );
    assert_eq!(
        n.get("a1").expect("reads").expect("there").declaration,
        Some(DeclarationState::NotDownloaded)
    );

    // Not seen yet: an answer is refused (the patient has not seen the time).
    assert!(matches!(
        n.answer("a1", Answer::Confirm),
        Err(NaraError::Notice(NoticeError::Moved))
    ));
    let before = nara.pending_uploads().expect("counts");
    let view = n.open("a1").expect("opens");
    assert_eq!(view.state, NoticeState::Opened);
    assert!(view.can_change);
    n.open("a1").expect("opens again");
    assert_eq!(
        nara.pending_uploads().expect("counts"),
        before + 1,
        "one opened receipt, however often it is opened"
    );

    let confirm = n.answer("a1", Answer::Confirm).expect("confirms");
    assert_eq!(confirm.delivery, AnswerDelivery::Queued);
    assert_eq!(confirm.for_start, t("2026-12-10T08:30:00Z"));
    assert!(matches!(
        n.answer("a1", Answer::Confirm),
        Err(NaraError::Notice(NoticeError::AlreadyGiven))
    ));
    assert_eq!(nara.pending_uploads().expect("counts"), before + 2);
    assert_eq!(
        n.get("a1").expect("reads").expect("there").state,
        NoticeState::Answered
    );

    // The clinic moves the time while the answer waits: it is set aside, not sent.
    let mut moved = notice("a1");
    moved.version = "2".into();
    moved.start = t("2026-12-11T10:00:00Z");
    moved.end = Some(t("2026-12-11T10:30:00Z"));
    assert_eq!(
        n.store_from_region(&moved).expect("stores"),
        NoticeUpsert::Changed { overtaken: 1 }
    );
    assert_eq!(nara.pending_uploads().expect("counts"), before + 1);
    let view = n.get("a1").expect("reads").expect("there");
    assert_eq!(view.state, NoticeState::MovedByClinic);
    assert_eq!(view.local.answers[0].delivery, AnswerDelivery::Overtaken);
    assert!(matches!(
        n.answer("a1", Answer::Confirm),
        Err(NaraError::Notice(NoticeError::Moved))
    ));
    // Seen again, the new time can be confirmed.
    assert_eq!(n.open("a1").expect("opens").state, NoticeState::Opened);
    let again = n
        .answer("a1", Answer::Confirm)
        .expect("confirms the new time");
    assert_eq!(again.for_start, t("2026-12-11T10:00:00Z"));

    // A new instruction text alone does not overtake.
    let mut reworded = moved.clone();
    reworded.version = "3".into();
    reworded.preparation = Some("Kom fastande.".into());
    assert_eq!(
        n.store_from_region(&reworded).expect("stores"),
        NoticeUpsert::Changed { overtaken: 0 }
    );
    assert_eq!(
        n.get("a1").expect("reads").expect("there").state,
        NoticeState::Answered
    );

    // Too late to cancel: refused with the clinic's phone, nothing queued.
    phone.set_time("2026-12-10T11:00:00Z");
    let pending = nara.pending_uploads().expect("counts");
    let refused = n
        .answer(
            "a1",
            Answer::Cancel {
                reason: "Förkyld".into(),
            },
        )
        .expect_err("past the cut-off");
    match &refused {
        NaraError::Notice(e @ NoticeError::PastCutoff { hours: 24, .. }) => {
            assert!(e.message().sv.contains("0980-123 45"));
        }
        other => panic!("expected PastCutoff, got {other:?}"),
    }
    assert!(!refused.to_string().contains("Förkyld"));
    assert_eq!(nara.pending_uploads().expect("counts"), pending);

    // Reminders and the calendar file.
    phone.set_time("2026-12-01T12:00:00Z");
    let reminders = n.reminders(&jiff::tz::TimeZone::UTC).expect("reminders");
    assert!(reminders.iter().all(|r| r.notice_id == "a1"));
    assert!(reminders.iter().any(|r| r.id == "notice/a1/day-before"));
    let ics = n.calendar("a1").expect("ics");
    assert!(ics.contains("DTSTART:20261211T100000Z"), "{ics}");

    // A cancellation by the clinic.
    let mut cancelled = reworded.clone();
    cancelled.version = "4".into();
    cancelled.status = AppointmentStatus::Cancelled;
    n.store_from_region(&cancelled).expect("stores");
    assert_eq!(
        n.get("a1").expect("reads").expect("there").state,
        NoticeState::CancelledByClinic
    );
    assert!(
        n.reminders(&jiff::tz::TimeZone::UTC)
            .expect("reminders")
            .is_empty()
    );
}

fn hd_code(code: &str) -> AnswerValue {
    AnswerValue::Coding(Coding::new(HD_ANSWERS, code, ""))
}

#[test]
fn a_health_declaration_is_prefilled_drafted_across_a_restart_and_submitted_once() {
    let phone = Phone::new("2026-12-01T12:00:00Z");
    let nara = phone.open();
    nara.readings()
        .add(NewReading::manual(
            Measurement::BodyWeight { kg: 81.5 },
            t("2026-11-30T07:00:00Z"),
            Offset::UTC,
        ))
        .expect("weight");
    let n = nara.notices();
    n.store_from_region(&notice("a2")).expect("stores");
    let hd: serde_json::Value = serde_json::from_str(HD).expect("json");
    n.store_form("hd", &hd).expect("a usable form");
    assert_eq!(
        n.get("a2").expect("reads").expect("there").declaration,
        Some(DeclarationState::NotStarted)
    );

    let session = n.form("hd", Some("a2")).expect("form");
    assert!(!session.submitted);
    assert_eq!(
        session.answers.get("vikt"),
        &[AnswerValue::Decimal(81.5)],
        "pre-filled from the weight reading"
    );
    assert!(session.issues.iter().any(|i| i.code == IssueCode::Required));

    // Half filled, saved; the app is killed and started again.
    let half = session
        .answers
        .clone()
        .with("langd", AnswerValue::Integer(178))
        .with("tar-lakemedel", AnswerValue::Boolean(true));
    let saved = n.save_draft("hd", Some("a2"), half.clone()).expect("saved");
    assert!(saved.enabled.iter().any(|id| id == "vilka-lakemedel"));
    assert!(
        saved
            .issues
            .iter()
            .any(|i| i.link_id == "vilka-lakemedel" && i.code == IssueCode::Required)
    );
    let pending = nara.pending_uploads().expect("counts");
    drop(nara);
    let nara = phone.open();
    let n = nara.notices();
    let resumed = n.form("hd", Some("a2")).expect("form");
    assert_eq!(resumed.answers, half, "the draft survived the restart");
    assert_eq!(
        n.get("a2").expect("reads").expect("there").declaration,
        Some(DeclarationState::Draft)
    );

    // Submitting with problems submits nothing.
    match n.submit("hd", Some("a2")) {
        Err(FormError::Invalid(issues)) => assert!(!issues.is_empty()),
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(nara.pending_uploads().expect("counts"), pending);

    let complete = half
        .with(
            "vilka-lakemedel",
            AnswerValue::String("Metformin 500 mg".into()),
        )
        .with("allergi", hd_code("nej"))
        .with("rokning", hd_code("aldrig"))
        .with("brostsmarta", AnswerValue::Boolean(false))
        .with("andfaddhet", AnswerValue::Boolean(false));
    let ready = n.save_draft("hd", Some("a2"), complete).expect("saved");
    assert!(ready.issues.is_empty(), "{:?}", ready.issues);
    let submitted = n.submit("hd", Some("a2")).expect("submits");
    assert!(submitted.score_reading.is_none());
    assert_eq!(nara.pending_uploads().expect("counts"), pending + 1);
    assert!(
        matches!(n.submit("hd", Some("a2")), Err(FormError::AlreadySubmitted)),
        "submitted once only"
    );
    assert!(matches!(
        n.save_draft("hd", Some("a2"), Answers::new()),
        Err(FormError::AlreadySubmitted)
    ));
    let after = n.form("hd", Some("a2")).expect("form");
    assert!(after.submitted, "read-only after submission");
    let view = n.get("a2").expect("reads").expect("there");
    assert_eq!(view.declaration, Some(DeclarationState::Submitted));
    assert!(view.local.declaration_submitted_at.is_some());
    // The store holds no answer in plaintext.
    drop(nara);
    for entry in std::fs::read_dir(phone.data.path()).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let bytes = std::fs::read(&path).expect("reads");
            assert!(
                !bytes.windows(9).any(|w| w == b"Metformin"),
                "{} holds an answer in plaintext",
                path.display()
            );
        }
    }
}

#[test]
fn a_cat_form_becomes_a_score_reading_with_triage() {
    let phone = Phone::new("2026-12-01T12:00:00Z");
    let nara = phone.open();
    let n = nara.notices();
    let cat: serde_json::Value = serde_json::from_str(CAT).expect("json");
    n.store_form("cat", &cat).expect("a usable form");
    let mut answers = Answers::new();
    for (i, v) in [3u8, 2, 4, 1, 3, 2, 2, 3].iter().enumerate() {
        answers.set_one(
            format!("cat-{}", i + 1),
            AnswerValue::Coding(Coding::new(CAT_ANSWERS, &v.to_string(), &v.to_string())),
        );
    }
    n.save_draft("cat", None, answers).expect("saved");
    let submitted = n.submit("cat", None).expect("submits");
    let reading = submitted.score_reading.expect("a score reading");
    assert_eq!(reading.kind(), ReadingKind::CatScore);
    assert_eq!(
        reading.measurement,
        Measurement::CatScore { score: 20.0 },
        "3+2+4+1+3+2+2+3"
    );
    let stored = nara
        .readings()
        .get(reading.id)
        .expect("reads")
        .expect("stored with the submission");
    assert_eq!(stored.triage.band, reading.triage.band);
    let _ = SignedDuration::ZERO;
}

#[test]
fn the_preparation_text_links_to_self_care_articles() {
    use nara_core::domain::content::{ArticleId, LinkTarget, links};
    let phone = Phone::new("2026-12-01T12:00:00Z");
    let nara = phone.open();
    let mut n = notice("a3");
    n.preparation = Some(
        "Läs [Så mäter du blodtrycket](nara:content/bp-measure) före besöket. \
         [Klicka](javascript:alert(1))"
            .into(),
    );
    nara.notices().store_from_region(&n).expect("stores");
    let view = nara.notices().get("a3").expect("reads").expect("there");
    let document = view.preparation.expect("a document");
    assert_eq!(
        links(&document),
        vec![LinkTarget::Article(
            ArticleId::parse("bp-measure").expect("id")
        )],
        "the article link stays, the script link is text"
    );
}
