//! The FFI layer seen from Rust, as the shells see it: async calls on the core's
//! runtime, typed errors, listeners, cancellation and panics. The same stories run in
//! real Kotlin and Swift under `tests/bindings/`.

mod common;
use common::{Log, XorKeys, eventually};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use nara_ffi::errors::{CallbackError, NaraError, OpenError, ReadingError, ReadingField};
use nara_ffi::nara::Nara;
use nara_ffi::observe::{Change, ChangeListener, StopReason};
use nara_ffi::readings::{ReadingFilter, ReadingsListener};
use nara_ffi::types::{Band, Measurement, Metric, NewReading, QualityFlags, Reading, Source};

async fn open(dir: &tempfile::TempDir) -> Arc<Nara> {
    common::open_xor(dir, 0x5a).await
}

fn bp(systolic: f64, diastolic: f64, minutes_ago: u64) -> NewReading {
    NewReading {
        measurement: Measurement::BloodPressure {
            systolic,
            diastolic,
            pulse: Some(70.0),
        },
        effective_at: SystemTime::now() - Duration::from_secs(60 * minutes_ago),
        utc_offset_seconds: 3600,
        source: Source::Manual,
        quality: QualityFlags::default(),
        off_scale: Vec::new(),
        glucose_context: None,
        note: None,
    }
}

fn device_bp(i: usize) -> NewReading {
    NewReading {
        source: Source::Device {
            device_id: "cuff-1".into(),
            model: None,
            record_key: Some(i.to_string()),
        },
        ..bp(120.0 + (i % 20) as f64, 80.0, 10 + i as u64)
    }
}

#[derive(Default)]
struct Recorder {
    lists: Log<Vec<Reading>>,
    changes: Log<Change>,
    stopped: Log<StopReason>,
}

impl ReadingsListener for Recorder {
    fn on_readings(&self, readings: Vec<Reading>) -> Result<(), CallbackError> {
        self.lists.record(readings)
    }
    fn on_stopped(&self, reason: StopReason) -> Result<(), CallbackError> {
        self.stopped.record(reason)
    }
}

impl ChangeListener for Recorder {
    fn on_change(&self, change: Change) -> Result<(), CallbackError> {
        self.changes.record(change)
    }
    fn on_stopped(&self, reason: StopReason) -> Result<(), CallbackError> {
        self.stopped.record(reason)
    }
}

#[tokio::test]
async fn a_reading_is_triaged_and_its_texts_come_from_the_core() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let red = nara
        .readings()
        .add(bp(185.0, 100.0, 5))
        .await
        .expect("stored");
    assert_eq!(red.triage.band, Band::Red);
    assert_eq!(red.triage.metric, Some(Metric::Systolic));
    assert!(
        red.value_text.sv.contains("185/100"),
        "{:?}",
        red.value_text
    );
    assert!(!red.triage.reason.sv.is_empty() && !red.triage.reason.en.is_empty());
    assert_eq!(red.triage.reason_code, "very_high");
    let green = nara
        .readings()
        .add(bp(122.0, 78.0, 1))
        .await
        .expect("stored");
    assert_eq!(green.triage.band, Band::Green);
    let listed = nara
        .readings()
        .list(ReadingFilter::default())
        .await
        .expect("lists");
    assert_eq!(
        listed.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        vec![green.id, red.id],
        "newest first"
    );
}

/// An irregular pulse comes back as a finding with its own symbol and text beside the
/// values' band; a second one within a week asks the patient to call. A meter's "HI"
/// entered as a bound is shown with "över"/"above" and triaged red (ADR 0013).
#[tokio::test]
async fn findings_and_bounded_values_cross_the_boundary() {
    use nara_ffi::types::{Comparator, FindingAction, OffScale};
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let irregular = |minutes_ago| NewReading {
        quality: QualityFlags {
            irregular_pulse: true,
            ..QualityFlags::default()
        },
        ..bp(124.0, 79.0, minutes_ago)
    };
    let first = nara.readings().add(irregular(120)).await.expect("stored");
    assert_eq!(first.triage.band, Band::Green, "not measure again");
    assert_eq!(first.triage.findings.len(), 1);
    assert_eq!(first.triage.findings[0].symbol, "♥");
    assert_eq!(
        first.triage.findings[0].action,
        FindingAction::MeasureAgainLater
    );
    let second = nara.readings().add(irregular(5)).await.expect("stored");
    let finding = &second.triage.findings[0];
    assert_eq!(finding.action, FindingAction::ContactCareUnit);
    assert_eq!(finding.code, "irregular-pulse-repeated");
    assert!(finding.text.sv.contains("Kontakta din vårdenhet"));
    assert!(second.triage.advice.en.contains("Contact your care unit"));

    let hi = nara
        .readings()
        .add(NewReading {
            measurement: Measurement::BloodGlucose { mmol_per_l: 33.3 },
            off_scale: vec![OffScale {
                metric: Metric::Glucose,
                comparator: Comparator::Above,
            }],
            ..bp(0.0, 0.0, 1)
        })
        .await
        .expect("stored");
    assert_eq!(hi.value_text.sv, "över 33.3 mmol/L");
    assert_eq!(hi.value_text.en, "above 33.3 mmol/L");
    assert_eq!(hi.triage.band, Band::Red);
    assert_eq!(hi.off_scale.len(), 1);
}

#[tokio::test]
async fn bad_input_gets_typed_errors_without_the_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let err = nara
        .readings()
        .add(bp(512.0, 80.0, 1))
        .await
        .expect_err("implausible");
    let ReadingError::Invalid { problems } = &err else {
        panic!("expected Invalid, got {err:?}");
    };
    assert_eq!(problems[0].field, ReadingField::Value);
    assert_eq!(problems[0].metric, Some(Metric::Systolic));
    assert!(
        !format!("{err} {problems:?}").contains("512"),
        "no value in errors"
    );
    assert_eq!(nara.readings().count().await.expect("counts"), 0);

    let unknown = "6f1c2d4e-0000-4000-8000-000000000000".to_owned();
    assert!(matches!(
        nara.readings().correct(unknown, bp(120.0, 80.0, 1)).await,
        Err(ReadingError::NotFound)
    ));
    assert!(matches!(
        nara.readings().get("not an id".into()).await,
        Err(ReadingError::InvalidId)
    ));
    let far_future = SystemTime::UNIX_EPOCH + Duration::from_secs(400_000_000_000);
    let err = nara
        .readings()
        .add(NewReading {
            effective_at: far_future,
            ..bp(120.0, 80.0, 1)
        })
        .await
        .expect_err("out of range");
    assert!(
        matches!(err, ReadingError::Invalid { ref problems } if problems[0].field == ReadingField::EffectiveAt)
    );
}

#[tokio::test]
async fn a_wrong_key_is_reported_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    nara.readings()
        .add(bp(120.0, 80.0, 1))
        .await
        .expect("stored");
    nara.close_store();
    drop(nara);
    let err = Nara::open(dir.path().display().to_string(), Arc::new(XorKeys(0x33)))
        .await
        .err()
        .expect("wrong key");
    assert!(matches!(err, OpenError::WrongKey), "{err:?}");
    let nara = open(&dir).await;
    assert_eq!(nara.readings().count().await.expect("counts"), 1);
}

#[cfg(feature = "test-hooks")]
#[tokio::test]
async fn a_panic_in_the_core_is_an_internal_error_and_the_store_still_works() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let err = nara.debug_panic().await.expect_err("panics");
    assert!(matches!(err, NaraError::Internal { .. }), "{err:?}");
    assert!(
        !err.to_string().contains("deliberate"),
        "no panic payload in the error"
    );
    nara.readings()
        .add(bp(120.0, 80.0, 1))
        .await
        .expect("still works");
    assert!(nara.integrity_ok().await.expect("checks"));
}

#[tokio::test]
async fn a_cancelled_import_commits_whole_and_a_repeat_adds_nothing() {
    const N: usize = 20_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let batch: Vec<_> = (0..N).map(device_bp).collect();
    let readings = nara.readings();
    let call = readings.import_readings(batch.clone(), None);
    // Give up waiting mid-call, as a cancelled coroutine or Task does. (On a machine fast
    // enough to finish within the wait, the checks below still hold.)
    let _ = tokio::time::timeout(Duration::from_millis(20), call).await;
    let seen = readings.count().await.expect("counts");
    assert!(
        seen == 0 || seen == N as u64,
        "partial import visible: {seen}"
    );
    for _ in 0..1000 {
        if readings.count().await.expect("counts") == N as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(readings.count().await.expect("counts"), N as u64);
    let again = readings
        .import_readings(batch, None)
        .await
        .expect("re-import");
    assert_eq!((again.inserted, again.duplicates), (0, N as u64));
    assert!(nara.integrity_ok().await.expect("checks"));
}

#[tokio::test]
async fn a_watch_sends_the_current_list_then_each_change_and_stops_on_close() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    nara.readings()
        .add(bp(120.0, 80.0, 30))
        .await
        .expect("stored");
    let recorder = Arc::new(Recorder::default());
    let watch = nara
        .readings()
        .watch(ReadingFilter::default(), recorder.clone())
        .expect("watches");
    let changes = nara.subscribe(recorder.clone()).expect("subscribes");
    eventually("current list", || {
        recorder.lists.lock().expect("lock").len() == 1
    })
    .await;
    assert_eq!(recorder.lists.lock().expect("lock")[0].len(), 1);

    let added = nara
        .readings()
        .add(bp(190.0, 95.0, 1))
        .await
        .expect("stored");
    eventually("updated list", || {
        recorder.lists.lock().expect("lock").last().map(Vec::len) == Some(2)
    })
    .await;
    eventually("change event", || {
        !recorder.changes.lock().expect("lock").is_empty()
    })
    .await;
    assert_eq!(
        recorder.changes.lock().expect("lock")[0],
        Change::ReadingAdded {
            id: added.id,
            kind: nara_ffi::types::ReadingKind::BloodPressure,
            band: Band::Red
        }
    );

    nara.close_store();
    eventually("both stopped", || {
        recorder.stopped.lock().expect("lock").len() == 2
    })
    .await;
    assert!(
        recorder
            .stopped
            .lock()
            .expect("lock")
            .iter()
            .all(|r| *r == StopReason::Closed)
    );
    assert!(watch.is_finished() && changes.is_finished());
    assert!(matches!(
        nara.readings().count().await,
        Err(ReadingError::Closed)
    ));
}

#[tokio::test]
async fn a_cancelled_watch_gets_no_more_updates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let recorder = Arc::new(Recorder::default());
    let watch = nara
        .readings()
        .watch(ReadingFilter::default(), recorder.clone())
        .expect("watches");
    eventually("current list", || {
        recorder.lists.lock().expect("lock").len() == 1
    })
    .await;
    drop(watch);
    nara.readings()
        .add(bp(120.0, 80.0, 1))
        .await
        .expect("stored");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(recorder.lists.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn wipe_removes_everything_and_stops_listeners() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    nara.readings()
        .add(bp(120.0, 80.0, 1))
        .await
        .expect("stored");
    let recorder = Arc::new(Recorder::default());
    let _changes = nara.subscribe(recorder.clone()).expect("subscribes");
    nara.wipe().await.expect("wipes");
    eventually("wiped", || {
        recorder.stopped.lock().expect("lock").as_slice() == [StopReason::Wiped]
    })
    .await;
    assert!(matches!(
        nara.pending_uploads().await,
        Err(NaraError::Closed)
    ));
    let fresh = open(&dir).await;
    assert!(fresh.open_report().created);
    assert_eq!(fresh.readings().count().await.expect("counts"), 0);
}

#[tokio::test]
async fn releasing_the_nara_object_closes_the_store_for_its_areas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let readings = nara.readings();
    readings.add(bp(120.0, 80.0, 1)).await.expect("stored");
    drop(nara);
    assert!(matches!(readings.count().await, Err(ReadingError::Closed)));
    let again = open(&dir).await;
    assert_eq!(again.readings().count().await.expect("counts"), 1);
}
