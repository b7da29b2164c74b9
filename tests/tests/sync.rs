//! Sync stories against the real test region (helios-hfs behind a token-checking front,
//! oidc-provider as the region's login), started by `tests/region/up`.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use nara_core::domain::reading::{Measurement, NewReading, Reading};
use nara_core::sync::engine::SyncError;
use nara_core::{Nara, PassphraseKeyProvider};
use nara_tests::region::{Region, direct_client, fhir_json, region, resources, sync_finished};
use serde_json::Value;

async fn logged_in(dir: &tempfile::TempDir, region: &Region) -> Nara {
    let (nara, patient) = region.phone(dir.path(), "sync test", &region.user).await;
    assert_eq!(patient, region.patient);
    nara
}

/// The Observations on the server (read directly) with this reading's client id.
async fn on_server(region: &Region, reading: &Reading) -> Vec<Value> {
    let url = format!(
        "{}/Observation?identifier=urn:ietf:rfc:3986|urn:uuid:{}",
        region.fhir_direct_url, reading.id
    );
    resources(&fhir_json(&direct_client(), url).await)
}

fn coding(v: &Value) -> Vec<(String, String)> {
    v["coding"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|x| {
                    (
                        x["system"].as_str().unwrap_or_default().to_owned(),
                        x["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_offline_then_one_sync_puts_every_reading_on_the_server_exactly_once() {
    let region = region();
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = logged_in(&dir, region).await;
    // A week without a network: two blood pressures a day.
    let start = Timestamp::now() - SignedDuration::from_hours(7 * 24);
    let offset = jiff::tz::Offset::from_seconds(3600).expect("offset");
    let mut readings = Vec::new();
    for i in 0..14 {
        let at = start + SignedDuration::from_hours(12 * i);
        let new = NewReading::manual(
            Measurement::BloodPressure {
                systolic: 120.0 + i as f64,
                diastolic: 80.0,
                pulse: Some(64.0),
            },
            at,
            offset,
        );
        readings.push(nara.readings().add(new).expect("stored offline"));
    }
    assert_eq!(nara.pending_uploads().expect("counts"), 14);

    let mut seen = Vec::new();
    let report = nara
        .region()
        .sync_now(Duration::from_secs(120), |p| seen.push(p))
        .await
        .expect("syncs");
    assert!(report.finished, "{report:?}");
    assert_eq!(
        (report.created, report.already_there, report.rejected),
        (14, 0, 0)
    );
    assert_eq!(nara.pending_uploads().expect("counts"), 0);
    assert_eq!(seen.last().map(|p| (p.uploaded, p.total)), Some((14, 14)));

    for reading in &readings {
        let found = on_server(region, reading).await;
        assert_eq!(found.len(), 1, "exactly one Observation for {}", reading.id);
        let obs = &found[0];
        assert_eq!(
            obs["subject"]["reference"],
            format!("Patient/{}", region.patient)
        );
        assert!(coding(&obs["code"]).contains(&("http://loinc.org".into(), "85354-9".into())));
        let components = obs["component"].as_array().expect("components");
        let systolic = components
            .iter()
            .find(|c| coding(&c["code"]).contains(&("http://loinc.org".into(), "8480-6".into())))
            .expect("a systolic component");
        let Measurement::BloodPressure { systolic: sent, .. } = reading.measurement else {
            panic!("a blood pressure");
        };
        assert_eq!(systolic["valueQuantity"]["value"].as_f64(), Some(sent));
        assert_eq!(
            systolic["valueQuantity"]["system"],
            "http://unitsofmeasure.org"
        );
        assert_eq!(systolic["valueQuantity"]["code"], "mm[Hg]");
        let effective = obs["effectiveDateTime"]
            .as_str()
            .expect("effectiveDateTime");
        assert!(
            effective.ends_with("+01:00"),
            "the patient's offset is kept: {effective}"
        );
    }

    // Nothing is sent twice.
    let again = nara
        .region()
        .sync_now(Duration::from_secs(60), |_| {})
        .await
        .expect("syncs");
    assert_eq!(
        (again.created, again.already_there, again.bytes_sent),
        (0, 0, 0),
        "no upload at all the second time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_without_login_says_so_and_keeps_the_readings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = Nara::open(dir.path(), Arc::new(PassphraseKeyProvider::new("x"))).expect("opens");
    nara.readings()
        .add(NewReading::manual(
            Measurement::HeartRate { bpm: 70.0 },
            Timestamp::now(),
            jiff::tz::Offset::UTC,
        ))
        .expect("stored");
    let err = nara
        .region()
        .sync_now(Duration::from_secs(5), |_| {})
        .await
        .expect_err("not logged in");
    assert!(matches!(err, SyncError::NotLoggedIn));
    assert_eq!(nara.pending_uploads().expect("counts"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_reaches_the_server_and_withdraws_the_reading_it_replaces() {
    let region = region();
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = logged_in(&dir, region).await;
    let offset = jiff::tz::Offset::from_seconds(3600).expect("offset");
    let at = Timestamp::now() - SignedDuration::from_hours(1);
    let typo = nara
        .readings()
        .add(NewReading::manual(
            Measurement::BodyWeight { kg: 28.4 },
            at,
            offset,
        ))
        .expect("stored");
    let first = nara
        .region()
        .sync_now(Duration::from_secs(60), |_| {})
        .await
        .expect("syncs");
    assert_eq!(first.created, 1);
    // The patient meant 82.4 kg: a correction, never an edit.
    let fixed = nara
        .readings()
        .correct(
            typo.id,
            NewReading::manual(Measurement::BodyWeight { kg: 82.4 }, at, offset),
        )
        .expect("corrected");
    let second = nara
        .region()
        .sync_now(Duration::from_secs(60), |_| {})
        .await
        .expect("syncs");
    assert!(second.finished, "{second:?}");
    assert_eq!(
        (second.created, second.withdrawn, second.rejected),
        (1, 1, 0),
        "{second:?}"
    );
    assert_eq!(nara.pending_uploads().expect("counts"), 0);
    let old = on_server(region, &typo).await;
    let new = on_server(region, &fixed).await;
    assert_eq!(
        (old.len(), new.len()),
        (1, 1),
        "one of each, nothing duplicated"
    );
    assert_eq!(old[0]["status"], "entered-in-error");
    assert_eq!(new[0]["status"], "amended");
    assert_eq!(new[0]["valueQuantity"]["value"].as_f64(), Some(82.4));
    assert!(nara.region().status().expect("status").failed.is_empty());
}

fn nurse(region: &Region, args: &[&str]) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let out = std::process::Command::new(root.join("tests/region/nurse"))
        .args(args)
        .env("NARA_FHIR_DIRECT_URL", &region.fhir_direct_url)
        .output()
        .expect("the nurse simulator runs");
    assert!(
        out.status.success(),
        "nurse {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_care_teams_thresholds_and_schedule_arrive_and_apply_to_new_readings() {
    use nara_core::domain::reading::ReadingKind;
    use nara_core::domain::triage::{Band, ThresholdOrigin};

    let region = region();
    // Cecilia is used by this story only, so other tests' writes do not interfere.
    let patient = "cecilia-1";
    nurse(
        region,
        &[
            "thresholds",
            patient,
            "bp",
            "--systolic-green",
            "90-125",
            "--systolic-yellow",
            "80-150",
            "--diastolic-green",
            "60-85",
            "--diastolic-yellow",
            "50-100",
        ],
    );
    nurse(
        region,
        &[
            "schedule",
            patient,
            "bp",
            "--times",
            "08:00,20:00",
            "--days",
            "14",
        ],
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let (nara, who) = region.phone(dir.path(), "cecilia", "cecilia").await;
    assert_eq!(who, patient);
    let report = sync_finished(&nara, Duration::from_secs(60)).await;
    assert!(
        report.thresholds_applied >= 1 && report.schedules_applied >= 1,
        "{report:?}"
    );
    let set = nara
        .care_plan()
        .thresholds(ReadingKind::BloodPressure)
        .expect("thresholds");
    assert_eq!(set.rule.origin, ThresholdOrigin::CareTeam);
    let schedules = nara.care_plan().schedules().expect("schedules");
    assert!(
        schedules
            .iter()
            .any(|s| s.kind == ReadingKind::BloodPressure && s.times.len() == 2)
    );

    // 130/80 is within the defaults' target but above this patient's (≤ 125).
    let reading = nara
        .readings()
        .add(NewReading::manual(
            Measurement::BloodPressure {
                systolic: 130.0,
                diastolic: 80.0,
                pulse: None,
            },
            Timestamp::now(),
            jiff::tz::Offset::from_seconds(3600).expect("offset"),
        ))
        .expect("stored");
    assert_eq!(reading.triage.band, Band::Yellow);
    assert_eq!(reading.triage.rule.origin, ThresholdOrigin::CareTeam);

    // Nothing changed at the region: an incremental download applies nothing.
    let again = nara
        .region()
        .sync_now(Duration::from_secs(60), |_| {})
        .await
        .expect("syncs");
    assert_eq!(
        (again.thresholds_applied, again.schedules_applied),
        (0, 0),
        "{again:?}"
    );

    // The care team withdraws the thresholds: the defaults apply again.
    nurse(region, &["withdraw", patient, "bp"]);
    let after = nara
        .region()
        .sync_now(Duration::from_secs(60), |_| {})
        .await
        .expect("syncs");
    assert_eq!(after.thresholds_applied, 1, "{after:?}");
    assert_eq!(
        nara.care_plan()
            .thresholds(ReadingKind::BloodPressure)
            .expect("thresholds")
            .rule
            .origin,
        ThresholdOrigin::Default
    );
}
