//! One patient per store, against the real test region (ADR 0008, "One patient per
//! store"): the readings on a phone are sent only ever with the patient of the phone's
//! first login as subject. A login as another patient on the same store is refused with
//! `SyncError::AnotherPatient` before anything is written, sent or fetched, so the other
//! patient's record on the server never receives the first patient's readings; the
//! first patient logs in again and goes on.

use std::time::Duration;

use jiff::Timestamp;
use nara_core::Nara;
use nara_core::domain::reading::{Measurement, NewReading, Reading};
use nara_core::sync::engine::SyncError;
use nara_core::sync::test_login::TestLoginBrowser;
use nara_tests::fault_proxy::{dev_transport, redirect_uri};
use nara_tests::region::{
    Region, direct_client, fhir_json, open_phone, region, resources, sync_finished,
};
use serde_json::Value;

/// The second patient of the test region (tests/region/region.mjs).
const OTHER_USER: &str = "bertil";
const OTHER_PATIENT: &str = "bertil-1";

fn pulse(bpm: f64) -> NewReading {
    NewReading::manual(
        Measurement::HeartRate { bpm },
        Timestamp::now(),
        jiff::tz::Offset::UTC,
    )
}

/// The Observations on the server (read directly) with this reading's client id,
/// optionally only those of `subject`.
async fn on_server(region: &Region, reading: &Reading, subject: Option<&str>) -> Vec<Value> {
    let mut url = format!(
        "{}/Observation?identifier=urn:ietf:rfc:3986|urn:uuid:{}",
        region.fhir_direct_url, reading.id
    );
    if let Some(patient) = subject {
        url.push_str(&format!("&subject=Patient/{patient}"));
    }
    resources(&fhir_json(&direct_client(), url).await)
}

/// Asserts that `reading` is on the server exactly once, in `patient`'s record, and not
/// in the other patient's.
async fn once_in_record_of(region: &Region, reading: &Reading, patient: &str) {
    let found = on_server(region, reading, None).await;
    assert_eq!(found.len(), 1, "exactly one Observation for {}", reading.id);
    assert_eq!(
        found[0]["subject"]["reference"],
        format!("Patient/{patient}"),
        "{}",
        reading.id
    );
    assert!(
        on_server(region, reading, Some(OTHER_PATIENT))
            .await
            .is_empty(),
        "{} is not in {OTHER_PATIENT}'s record",
        reading.id
    );
}

async fn log_in_as(nara: &Nara, region: &Region, user: &str) -> Result<String, SyncError> {
    nara.region()
        .login(
            &region.fhir(),
            "nara-app",
            &redirect_uri(),
            &TestLoginBrowser::new(user, dev_transport()),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_patient_cannot_log_in_to_a_phone_with_the_first_patients_readings() {
    let region = region();
    assert_ne!(region.user, OTHER_USER, "two different patients");
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open_phone(dir.path(), "one patient per store");

    // The first patient measures before ever logging in: hers, once she logs in.
    let offline: Vec<Reading> = (0..3)
        .map(|i| {
            nara.readings()
                .add(pulse(60.0 + f64::from(i)))
                .expect("stored")
        })
        .collect();
    let first = region.log_in(&nara, &region.user).await;
    assert_eq!(first, region.patient);
    let report = sync_finished(&nara, Duration::from_secs(120)).await;
    assert_eq!((report.created, report.already_there), (3, 0));
    // One more, waiting when the second patient tries to log in.
    let waiting = nara.readings().add(pulse(71.0)).expect("stored");

    // The second patient logs in on the same phone: refused, naming nobody.
    let refused = log_in_as(&nara, region, OTHER_USER)
        .await
        .expect_err("another patient's login is refused");
    assert!(matches!(refused, SyncError::AnotherPatient), "{refused:?}");
    for text in [refused.to_string(), format!("{refused:?}")] {
        assert!(
            !text.contains(OTHER_PATIENT) && !text.contains(&region.patient),
            "{text}"
        );
        assert!(!text.contains(&region.fhir_url), "{text}");
    }
    // Nothing of that login was kept: still the first patient's login and readings.
    let status = nara.region().status().expect("status");
    assert!(status.logged_in && !status.login_required, "{status:?}");
    assert_eq!(status.patient.as_deref(), Some(region.patient.as_str()));
    assert_eq!(status.pending, 1);

    // The next sync uses nothing of the refused login: the waiting reading goes to the
    // first patient's record, and the second patient's record has none of hers.
    let report = sync_finished(&nara, Duration::from_secs(120)).await;
    assert_eq!((report.created, report.already_there), (1, 0));
    for reading in offline.iter().chain([&waiting]) {
        once_in_record_of(region, reading, &region.patient).await;
    }

    // Her login expires or she logs in again: the same patient is welcome.
    let again = log_in_as(&nara, region, &region.user)
        .await
        .expect("the first patient logs in again");
    assert_eq!(again, region.patient);
    let later = nara.readings().add(pulse(66.0)).expect("stored");
    let report = sync_finished(&nara, Duration::from_secs(120)).await;
    assert_eq!((report.created, report.already_there), (1, 0));
    once_in_record_of(region, &later, &region.patient).await;
    for reading in offline.iter().chain([&waiting]) {
        once_in_record_of(region, reading, &region.patient).await;
    }
}
