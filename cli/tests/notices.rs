//! End-to-end tests of `nara notices`, `nara notice ...` and `nara form fill`: the
//! binary run as a process on a temporary data dir. Notices and the health declaration
//! are provisioned through the core API on the same data dir (as sync would store them),
//! with the CLI not running.

mod common;

use std::path::Path;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use nara_core::domain::notice::{AppointmentStatus, Notice, Place, Practitioner};
use nara_core::{FileKeyProvider, Nara};

use common::{key, nara, out};

fn notice(id: &str, start: Timestamp, questionnaire: Option<&str>) -> Notice {
    Notice {
        id: id.to_owned(),
        version: "1".to_owned(),
        status: AppointmentStatus::Booked,
        cancel_reason: None,
        start,
        end: start.checked_add(SignedDuration::from_mins(30)).ok(),
        service: "Diabetesmottagning".to_owned(),
        place: Some(Place {
            name: "Vårdcentralen Centrum".to_owned(),
            lines: vec!["Storgatan 1".to_owned()],
            postal_code: Some("97231".to_owned()),
            city: Some("Luleå".to_owned()),
            phone: Some("0920-123 45".to_owned()),
        }),
        video_url: None,
        practitioner: Some(Practitioner {
            name: "Anna Berg".to_owned(),
            role: Some("Distriktssköterska".to_owned()),
        }),
        preparation: Some("Ta med dina mätvärden.".to_owned()),
        cutoff: SignedDuration::from_hours(24),
        questionnaire_id: questionnaire.map(str::to_owned),
    }
}

/// A data dir with two notices: one in ten days with the health declaration, one in
/// two hours (past its 24 h cut-off).
fn provision(dir: &Path) {
    std::fs::create_dir_all(dir).expect("data dir");
    let core = Nara::open(dir, Arc::new(FileKeyProvider::new(key(dir)))).expect("open");
    let now = Timestamp::now();
    let later = now
        .checked_add(SignedDuration::from_hours(24 * 10))
        .expect("time");
    let soon = now
        .checked_add(SignedDuration::from_hours(2))
        .expect("time");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/region/fixtures/halsodeklaration.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).expect("fixture")).expect("json");
    core.notices()
        .store_form("halsodeklaration", &json)
        .expect("form");
    core.notices()
        .store_from_region(&notice("visit", later, Some("halsodeklaration")))
        .expect("notice");
    core.notices()
        .store_from_region(&notice("soon", soon, None))
        .expect("notice");
}

#[test]
fn notices_show_fill_confirm_and_a_cancel_too_late() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    provision(&dir);

    // The list: upcoming first, with state and declaration.
    let o = nara(&dir, &["--lang", "sv", "notices"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("● Ny"), "{text}");
    assert!(text.contains("☐ ej ifylld"), "{text}");
    let soon_at = text.find("soon").expect("soon listed");
    let visit_at = text.find("visit").expect("visit listed");
    assert!(soon_at < visit_at, "soonest first: {text}");

    // Confirming before opening: look first.
    let o = nara(&dir, &["notice", "confirm", "visit"]);
    assert_eq!(o.status.code(), Some(8), "{}", out(&o));
    assert!(out(&o).contains("nara notice show visit"), "{}", out(&o));

    // Show (JSON) opens it and queues the receipt; --ics writes the calendar file.
    let ics = tmp.path().join("visit.ics");
    let ics_arg = ics.to_string_lossy().into_owned();
    let o = nara(
        &dir,
        &["notice", "show", "visit", "--json", "--ics", &ics_arg],
    );
    assert!(o.status.success(), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["state"], "opened");
    assert_eq!(v["receipt_queued"], true);
    assert_eq!(v["can_change"], true);
    assert_eq!(v["declaration"], "not_started");
    assert_eq!(v["notice"]["place"]["phone"], "0920-123 45");
    assert!(
        std::fs::read_to_string(&ics)
            .expect("ics")
            .contains("BEGIN:VEVENT")
    );
    let o = nara(&dir, &["--lang", "en", "notice", "show", "visit"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("Cancel by"), "{text}");
    assert!(
        text.contains("Storgatan 1") && text.contains("0920-123 45"),
        "{text}"
    );
    assert!(
        !text.contains("will see that you opened"),
        "receipt only once: {text}"
    );

    // The declaration: an invalid file first (too tall, medicines missing).
    let bad = tmp.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"langd": 400, "vikt": 82.5, "tar-lakemedel": true, "allergi": false,
            "rokning": "nej", "nya-besvar": false}"#,
    )
    .expect("write");
    let bad_arg = bad.to_string_lossy().into_owned();
    let args = [
        "--lang",
        "sv",
        "form",
        "fill",
        "halsodeklaration",
        "--notice",
        "visit",
        "--answers",
    ];
    let o = nara(&dir, &[&args[..], &[bad_arg.as_str()]].concat());
    assert_eq!(o.status.code(), Some(10), "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("[langd]"), "{text}");
    assert!(text.contains("[vilka-lakemedel]"), "{text}");
    assert!(!text.contains("400"), "no values in errors: {text}");
    let o = nara(&dir, &["notices", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let visit = v["notices"]
        .as_array()
        .and_then(|a| a.iter().find(|n| n["id"] == "visit"))
        .expect("visit");
    assert_eq!(visit["declaration"], "draft");

    // Then a valid one (codes matched against the options).
    let good = tmp.path().join("good.json");
    std::fs::write(
        &good,
        r#"{"langd": 168, "tar-lakemedel": true, "vilka-lakemedel": "Metformin"}"#,
    )
    .expect("write");
    let good_arg = good.to_string_lossy().into_owned();
    let o = nara(&dir, &[&args[..], &[good_arg.as_str(), "--json"]].concat());
    assert!(o.status.success(), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["submitted"], true);
    assert_eq!(v["issues"].as_array().map(Vec::len), Some(0));
    let o = nara(&dir, &[&args[..], &[good_arg.as_str()]].concat());
    assert_eq!(o.status.code(), Some(12), "{}", out(&o));

    // Confirm.
    let o = nara(&dir, &["--lang", "sv", "notice", "confirm", "visit"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("Du kommer"), "{}", out(&o));
    let o = nara(&dir, &["notice", "confirm", "visit"]);
    assert_eq!(o.status.code(), Some(9), "{}", out(&o));

    // Cancelling two hours before: past the cut-off, call the clinic.
    let o = nara(&dir, &["notice", "show", "soon"]);
    assert!(o.status.success(), "{}", out(&o));
    let o = nara(
        &dir,
        &[
            "--lang", "sv", "notice", "cancel", "soon", "--reason", "sjuk",
        ],
    );
    assert_eq!(o.status.code(), Some(7), "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("Ring mottagningen på 0920-123 45"), "{text}");
    assert!(text.contains("Call the clinic"), "{text}");
    assert!(!text.contains("sjuk"), "no patient text in errors: {text}");

    // Unknown notice.
    let o = nara(&dir, &["notice", "show", "nope"]);
    assert_eq!(o.status.code(), Some(6), "{}", out(&o));
}

#[test]
fn reschedule_and_a_missing_form() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    provision(&dir);
    assert!(nara(&dir, &["notice", "show", "visit"]).status.success());

    let o = nara(&dir, &["notice", "reschedule", "visit"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let o = nara(&dir, &["notice", "reschedule", "visit", "--window", "soon"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let start = Timestamp::now()
        .checked_add(SignedDuration::from_hours(24 * 12))
        .expect("time");
    let end = start
        .checked_add(SignedDuration::from_hours(3))
        .expect("time");
    let window = format!("{start}/{end}");
    let o = nara(
        &dir,
        &[
            "notice",
            "reschedule",
            "visit",
            "--wishes",
            "Helst en förmiddag.",
            "--window",
            &window,
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["answer"]["kind"], "reschedule");
    assert_eq!(v["delivery"], "queued");

    let o = nara(&dir, &["form", "fill", "cat", "--answers", "/dev/null"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let empty = tmp.path().join("empty.json");
    std::fs::write(&empty, "{}").expect("write");
    let empty_arg = empty.to_string_lossy().into_owned();
    let o = nara(&dir, &["form", "fill", "cat", "--answers", &empty_arg]);
    assert_eq!(o.status.code(), Some(11), "{}", out(&o));
    let o = nara(&dir, &["form", "fill", "halsodeklaration"]);
    assert_eq!(o.status.code(), Some(2), "no terminal: {}", out(&o));
}

#[test]
fn demo_notices_step_offline_and_against_the_region() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = nara(&tmp.path().join("unused"), &["demo", "--offline", "--json"]);
    assert!(o.status.success(), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let n = &v["notices"];
    assert_eq!(n["skipped"], false, "{v}");
    assert_eq!(n["declaration_submitted"], true, "{v}");
    assert_eq!(n["answer"], "confirm", "{v}");
    assert_eq!(v["plaintext_hits"], 0, "{v}");

    // The region books, the notice arrives, the clinic sees one receipt, one response
    // and one declaration. (Started first so the demo's own `up` reuses it.)
    nara_tests::region::region();
    let o = nara(&tmp.path().join("unused2"), &["demo", "--json"]);
    assert!(o.status.success(), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let n = &v["notices"];
    assert_eq!(n["skipped"], false, "{v}");
    assert_eq!(n["receipts"], 1, "{v}");
    assert_eq!(n["responses"], 1, "{v}");
    assert_eq!(n["questionnaire_responses"], 1, "{v}");
    assert_eq!(n["participant_status"][0], "accepted", "{v}");
    assert_eq!(v["plaintext_hits"], 0, "{v}");
}
