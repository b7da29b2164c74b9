//! The Bluetooth devices area seen from Rust, as the shells see it: a blood pressure
//! value decoded and previewed (a loose cuff says "measure again"), a cuff's memory
//! imported twice and stored once, a truncated record listed with its field and offset,
//! unknown UUIDs and bad device info as typed errors, and a glucose meter's record
//! transfer followed by a session and imported. The same stories run in Kotlin and
//! Swift under `tests/bindings/`.
//!
//! Record times are built relative to now (readings dated in the future are refused).

mod common;
use std::sync::{Arc, Mutex};

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use nara_ffi::devices::{
    Device, DeviceInfo, DeviceOutcome, DeviceValue, GlucoseRecordSession, GlucoseSessionStep,
};
use nara_ffi::errors::{CallbackError, DeviceError};
use nara_ffi::nara::Nara;
use nara_ffi::readings::{ImportProgress, ReadingFilter};
use nara_ffi::types::{Band, Measurement, ReadingKind, Source};

const STOCKHOLM: &str = "Europe/Stockholm";
const BP: &str = "00002a35-0000-1000-8000-00805f9b34fb";

/// 121/80 mmHg (MAP 95) on 2026-11-24 07:30:00, pulse 72, user 1, status 0.
const BP_LITERAL: [u8; 19] = [
    0x1E, 0x79, 0x00, 0x50, 0x00, 0x5F, 0x00, 0xEA, 0x07, 0x0B, 0x18, 0x07, 0x1E, 0x00, 0x48, 0x00,
    0x01, 0x00, 0x00,
];

async fn open(dir: &tempfile::TempDir) -> Arc<Nara> {
    common::open_xor(dir, 0x5c).await
}

fn cuff(nara: &Nara) -> Arc<Device> {
    nara.device(
        DeviceInfo {
            device_id: "SN-4711".to_owned(),
            model: Some("Omron M7 Intelli IT".to_owned()),
        },
        None,
        STOCKHOLM.to_owned(),
    )
    .expect("device")
}

/// The wall-clock time in Stockholm `hours` hours ago, whole seconds.
fn hours_ago(hours: i64) -> DateTime {
    let at = Timestamp::now() - SignedDuration::from_hours(hours);
    let local = at
        .to_zoned(TimeZone::get(STOCKHOLM).expect("tz"))
        .datetime();
    local.with().subsec_nanosecond(0).build().expect("time")
}

/// A Date Time field.
fn date_time(t: &DateTime) -> Vec<u8> {
    let mut out = (t.year() as u16).to_le_bytes().to_vec();
    out.extend([
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    ]);
    out
}

/// A Blood Pressure Measurement in mmHg with a time stamp and pulse 72, and a status
/// when given.
fn bp(systolic: u16, diastolic: u16, at: &DateTime, status: Option<u16>) -> Vec<u8> {
    let mut bytes = vec![if status.is_some() { 0x16 } else { 0x06 }];
    for v in [systolic, diastolic, (systolic + 2 * diastolic) / 3] {
        bytes.extend(v.to_le_bytes());
    }
    bytes.extend(date_time(at));
    bytes.extend(72u16.to_le_bytes());
    if let Some(s) = status {
        bytes.extend(s.to_le_bytes());
    }
    bytes
}

/// Ten records, one every 12 hours back from an hour ago.
fn cuff_memory() -> Vec<DeviceValue> {
    (0..10)
        .map(|i| DeviceValue {
            characteristic_uuid: "2A35".to_owned(),
            bytes: bp(118 + i as u16, 76 + i as u16, &hours_ago(1 + 12 * i), None),
        })
        .collect()
}

struct Progress(Mutex<Vec<(u64, u64)>>);

impl ImportProgress for Progress {
    fn on_progress(&self, done: u64, total: u64) -> Result<(), CallbackError> {
        self.0.lock().expect("lock").push((done, total));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blood_pressure_value_decodes_into_a_reading_preview() {
    let dir = tempfile::tempdir().expect("dir");
    let nara = open(&dir).await;
    let device = nara
        .device(
            DeviceInfo {
                device_id: " SN-4711 ".to_owned(),
                model: Some("Omron M7".to_owned()),
            },
            Some(1),
            STOCKHOLM.to_owned(),
        )
        .expect("device");
    let decoded = device
        .decode(BP.to_owned(), BP_LITERAL.to_vec())
        .await
        .expect("decodes");
    assert_eq!(decoded.characteristic, "Blood Pressure Measurement");
    assert_eq!(decoded.assigned_number, 0x2A35);
    assert!(
        decoded.json.contains("\"blood_pressure\""),
        "{}",
        decoded.json
    );
    let DeviceOutcome::Reading { reading } = decoded.outcome else {
        panic!("a reading: {:?}", decoded.outcome)
    };
    assert_eq!(reading.kind, ReadingKind::BloodPressure);
    assert_eq!(
        reading.measurement,
        Measurement::BloodPressure {
            systolic: 121.0,
            diastolic: 80.0,
            pulse: Some(72.0)
        }
    );
    assert_eq!(
        Timestamp::try_from(reading.effective_at).expect("time"),
        "2026-11-24T06:30:00Z".parse::<Timestamp>().expect("time"),
        "07:30 in Stockholm"
    );
    assert_eq!(reading.utc_offset_seconds, 3600);
    assert_eq!(
        reading.source,
        Source::Device {
            device_id: "SN-4711".to_owned(),
            model: Some("Omron M7".to_owned()),
            record_key: Some("u1/2026-11-24T07:30:00".to_owned()),
        }
    );
    assert_eq!(reading.triage.band, Band::Green);
    assert_eq!(
        nara.readings().count().await.expect("count"),
        0,
        "a preview stores nothing"
    );

    // Another user of the shared cuff: no reading, with a reason for the patient.
    let mut other = BP_LITERAL.to_vec();
    other[16] = 2;
    let decoded = device
        .decode("2a35".to_owned(), other)
        .await
        .expect("decodes");
    let DeviceOutcome::NotAReading { reason, text } = decoded.outcome else {
        panic!("not a reading: {:?}", decoded.outcome)
    };
    assert_eq!(reason, "other_user");
    assert!(text.en.contains("user 2"), "{}", text.en);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_loose_cuff_says_measure_again() {
    let dir = tempfile::tempdir().expect("dir");
    let nara = open(&dir).await;
    // Status bit 1: cuff fit too loose; 190 mmHg alone would be red.
    let decoded = cuff(&nara)
        .decode("0x2A35".to_owned(), bp(190, 95, &hours_ago(2), Some(0b10)))
        .await
        .expect("decodes");
    let DeviceOutcome::Reading { reading } = decoded.outcome else {
        panic!("a reading: {:?}", decoded.outcome)
    };
    assert!(reading.quality.cuff_fit_poor);
    assert_eq!(reading.triage.band, Band::MeasureAgain);
    assert_eq!(reading.triage.value_band, Band::Red);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cuffs_memory_imported_twice_is_stored_once() {
    let dir = tempfile::tempdir().expect("dir");
    let nara = open(&dir).await;
    let device = cuff(&nara);
    let progress = Arc::new(Progress(Mutex::new(Vec::new())));
    let first = device
        .import(cuff_memory(), Some(progress.clone()))
        .await
        .expect("imports");
    assert_eq!((first.inserted, first.duplicates), (10, 0));
    assert!(first.skipped.is_empty() && first.rejected.is_empty());
    assert_eq!(
        progress.0.lock().expect("lock").last(),
        Some(&(10, 10)),
        "progress reaches the total"
    );
    let again = device.import(cuff_memory(), None).await.expect("imports");
    assert_eq!((again.inserted, again.duplicates), (0, 10));
    let stored = nara
        .readings()
        .list(ReadingFilter::default())
        .await
        .expect("list");
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|r| matches!(
        &r.source,
        Source::Device { device_id, record_key: Some(_), .. } if device_id == "SN-4711"
    )));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_truncated_record_is_rejected_with_its_field_and_the_rest_imported() {
    let dir = tempfile::tempdir().expect("dir");
    let nara = open(&dir).await;
    let mut values = cuff_memory();
    values.truncate(3);
    values[1].bytes.truncate(9);
    // A clock a day ahead: decoded, but refused by validation.
    values[2].bytes = bp(120, 80, &hours_ago(-26), None);
    let report = cuff(&nara).import(values, None).await.expect("imports");
    assert_eq!(report.inserted, 1);
    assert_eq!(report.rejected.len(), 2);
    let r = &report.rejected[0];
    assert_eq!(
        (r.index, r.field.as_deref(), r.offset),
        (1, Some("Time Stamp"), Some(7))
    );
    assert!(r.detail.contains("Time Stamp"), "{}", r.detail);
    let r = &report.rejected[1];
    assert_eq!((r.index, r.field.as_deref(), r.offset), (2, None, None));
    assert!(r.detail.contains("future"), "{}", r.detail);
    assert!(!r.detail.contains("120"), "no values: {}", r.detail);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_characteristics_bad_bytes_and_bad_devices_are_typed_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let nara = open(&dir).await;
    let device = cuff(&nara);
    match device.decode("2A00".to_owned(), vec![1, 2]).await {
        Err(DeviceError::UnknownCharacteristic { uuid, index: None }) => assert_eq!(uuid, "2A00"),
        other => panic!("UnknownCharacteristic: {other:?}"),
    }
    match device.decode(BP.to_owned(), BP_LITERAL[..9].to_vec()).await {
        Err(DeviceError::Decode { field, offset, .. }) => {
            assert_eq!((field.as_str(), offset), ("Time Stamp", 7))
        }
        other => panic!("Decode: {other:?}"),
    }
    let mut values = cuff_memory();
    values[3].characteristic_uuid = "not-a-uuid".to_owned();
    match device.import(values, None).await {
        Err(e @ DeviceError::UnknownCharacteristic { index: Some(3), .. }) => {
            assert!(e.to_string().contains("value 3"), "{e}")
        }
        other => panic!("UnknownCharacteristic: {other:?}"),
    }
    assert_eq!(
        nara.readings().count().await.expect("count"),
        0,
        "nothing imported"
    );
    let info = |id: &str| DeviceInfo {
        device_id: id.to_owned(),
        model: None,
    };
    assert!(matches!(
        nara.device(info("  "), None, STOCKHOLM.to_owned()),
        Err(DeviceError::BadDevice { .. })
    ));
    assert!(matches!(
        nara.device(info("SN-1"), None, "Mars/Olympus".to_owned()),
        Err(DeviceError::UnknownTimeZone { .. })
    ));
    nara.close_store();
    assert!(matches!(
        device.decode(BP.to_owned(), BP_LITERAL.to_vec()).await,
        Err(DeviceError::Closed)
    ));
}

/// A Glucose Measurement in mol/L (SFLOAT `sfloat`), capillary whole blood from a
/// finger, announcing a context when `context`.
fn glucose(seq: u16, at: &DateTime, sfloat: u16, context: bool) -> Vec<u8> {
    let mut bytes = vec![if context { 0x16 } else { 0x06 }];
    bytes.extend(seq.to_le_bytes());
    bytes.extend(date_time(at));
    bytes.extend(sfloat.to_le_bytes());
    bytes.push(0x11);
    bytes
}

#[tokio::test(flavor = "multi_thread")]
async fn a_glucose_meters_records_are_fetched_with_a_session_and_imported() {
    let dir = tempfile::tempdir().expect("dir");
    let nara = open(&dir).await;
    let meter = nara
        .device(
            DeviceInfo {
                device_id: "GM-0042".to_owned(),
                model: Some("Contour Next One".to_owned()),
            },
            None,
            STOCKHOLM.to_owned(),
        )
        .expect("device");
    assert_eq!(
        GlucoseRecordSession::new(Some(5)).request(),
        [0x01, 0x03, 0x01, 0x05, 0x00]
    );
    let session = GlucoseRecordSession::new(None);
    assert_eq!(session.request(), [0x01, 0x01], "report all stored records");
    // 5.6, 7.2 and 13.3 mmol/L (mol/L × 10⁻⁴), the first and last with a meal context.
    let incoming: Vec<(&str, Vec<u8>)> = vec![
        ("2A18", glucose(1, &hours_ago(30), 0xC038, true)),
        ("2A34", vec![0x02, 0x01, 0x00, 0x01]),
        ("2A18", glucose(2, &hours_ago(20), 0xC048, false)),
        ("2A18", glucose(3, &hours_ago(3), 0xC085, true)),
        ("2A34", vec![0x02, 0x03, 0x00, 0x02]),
    ];
    for (uuid, bytes) in incoming {
        assert_eq!(
            session.receive(uuid.to_owned(), bytes).expect("takes"),
            GlucoseSessionStep::Continue
        );
    }
    // A context for a measurement that never came is refused, the session unchanged.
    assert!(matches!(
        session.receive("2A34".to_owned(), vec![0x02, 0x09, 0x00, 0x01]),
        Err(DeviceError::Decode { .. })
    ));
    assert_eq!(
        session
            .receive("2A52".to_owned(), vec![0x06, 0x00, 0x01, 0x01])
            .expect("done"),
        GlucoseSessionStep::Done {
            complete: true,
            response: "success".to_owned()
        }
    );
    let values = session.values();
    assert_eq!(values.len(), 5);
    assert_eq!(values[1].characteristic_uuid, "2A34");
    let report = meter.import(values.clone(), None).await.expect("imports");
    assert_eq!((report.inserted, report.duplicates), (3, 0));
    assert!(report.skipped.is_empty() && report.rejected.is_empty());
    let again = meter.import(values, None).await.expect("imports");
    assert_eq!((again.inserted, again.duplicates), (0, 3));
    let mut glucose: Vec<f64> = nara
        .readings()
        .list(ReadingFilter {
            kind: Some(ReadingKind::BloodGlucose),
            ..ReadingFilter::default()
        })
        .await
        .expect("list")
        .into_iter()
        .map(|r| match r.measurement {
            Measurement::BloodGlucose { mmol_per_l } => mmol_per_l,
            other => panic!("glucose: {other:?}"),
        })
        .collect();
    glucose.sort_by(f64::total_cmp);
    assert_eq!(glucose, [5.6, 7.2, 13.3]);

    // A meter with nothing new answers "no records found": complete, nothing to import.
    let empty = GlucoseRecordSession::new(Some(4));
    assert_eq!(
        empty
            .receive("2A52".to_owned(), vec![0x06, 0x00, 0x01, 0x06])
            .expect("done"),
        GlucoseSessionStep::Done {
            complete: true,
            response: "no_records_found".to_owned()
        }
    );
    assert!(empty.values().is_empty());
}
