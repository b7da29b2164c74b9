//! The devices area: from Bluetooth bytes to stored readings, and a device's memory
//! imported twice stored once.

use std::sync::Arc;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use nara_core::device::blood_pressure::{
    BloodPressureMeasurement, MeasurementStatus, PulseRateRange,
};
use nara_core::device::capture::{CaptureContext, DeviceInfo};
use nara_core::device::ieee11073::Special;
use nara_core::device::time::DeviceTime;
use nara_core::device::{Characteristic, DecodeProblem, NotAReading};
use nara_core::devices::{DeviceValue, Preview, RejectedBecause};
use nara_core::domain::reading::{Measurement, ReadingKind, Source};
use nara_core::domain::triage::Band;
use nara_core::{KeyProvider, Nara, PassphraseKeyProvider, ReadingFilter};

const NOW: &str = "2026-11-24T12:00:00Z";

struct Fixture {
    nara: Nara,
    _dir: tempfile::TempDir,
}

fn open() -> Fixture {
    let dir = tempfile::tempdir().expect("dir");
    let keys: Arc<dyn KeyProvider> = Arc::new(PassphraseKeyProvider::with_iterations("ble", 1000));
    let now: Timestamp = NOW.parse().expect("time");
    let nara = Nara::open_with_clock(dir.path(), keys, Arc::new(move || now)).expect("open");
    Fixture { nara, _dir: dir }
}

fn stockholm() -> TimeZone {
    TimeZone::get("Europe/Stockholm").expect("tz")
}

fn cuff() -> CaptureContext {
    CaptureContext {
        device: DeviceInfo::new("SN-4711", Some("Omron M7 Intelli IT")).expect("device"),
        user: None,
        tz: stockholm(),
        received_at: NOW.parse().expect("time"),
    }
}

/// A stored Blood Pressure Measurement in mmHg with a time stamp and pulse 72, and a
/// user id and status when given, as the cuff sends it.
fn bp_record(
    systolic: i16,
    diastolic: i16,
    at: &jiff::civil::DateTime,
    user: Option<u8>,
    status: Option<MeasurementStatus>,
) -> DeviceValue {
    let m = BloodPressureMeasurement {
        user_id: user,
        status,
        ..BloodPressureMeasurement::mmhg(systolic, diastolic, Some(72), Some(*at))
    };
    DeviceValue {
        characteristic: Characteristic::BloodPressureMeasurement,
        bytes: m.encode().expect("fits"),
    }
}

fn civil(s: &str) -> jiff::civil::DateTime {
    s.parse().expect("civil time")
}

/// 100 records, one every 12 hours back from the morning of the 24th (local time).
fn cuff_memory() -> Vec<DeviceValue> {
    let start = civil("2026-11-24T07:30:00");
    (0..100)
        .map(|i| {
            let at = start
                .checked_sub(SignedDuration::from_hours(12 * i))
                .expect("in range");
            bp_record(118 + (i % 20) as i16, 76 + (i % 9) as i16, &at, None, None)
        })
        .collect()
}

#[test]
fn a_cuffs_memory_imported_twice_is_stored_once() {
    let f = open();
    let devices = f.nara.devices();
    let memory = cuff_memory();
    let mut seen = Vec::new();
    let first = devices
        .import(&memory, &cuff(), |done, total| seen.push((done, total)))
        .expect("imports");
    assert_eq!((first.inserted, first.duplicates), (100, 0));
    assert!(first.skipped.is_empty() && first.rejected.is_empty());
    assert_eq!(seen.last(), Some(&(100, 100)), "progress reaches the total");
    let ids: Vec<_> = f
        .nara
        .readings()
        .list(&ReadingFilter::default())
        .expect("list")
        .into_iter()
        .map(|r| r.id)
        .collect();

    // The same memory again, as a new connection would deliver it.
    let again = devices
        .import(&cuff_memory(), &cuff(), |_, _| {})
        .expect("imports");
    assert_eq!((again.inserted, again.duplicates), (0, 100));
    let readings = f
        .nara
        .readings()
        .list(&ReadingFilter::default())
        .expect("list");
    assert_eq!(readings.len(), 100);
    let mut again_ids: Vec<_> = readings.iter().map(|r| r.id).collect();
    let mut ids = ids;
    ids.sort();
    again_ids.sort();
    assert_eq!(ids, again_ids);
    let r = readings
        .iter()
        .find(|r| r.effective_at == "2026-11-24T06:30:00Z".parse::<Timestamp>().expect("t"))
        .expect("the newest record, 07:30 in Stockholm");
    assert_eq!(r.utc_offset_seconds, 3600);
    assert_eq!(
        r.measurement,
        Measurement::BloodPressure {
            systolic: 118.0,
            diastolic: 76.0,
            pulse: Some(72.0)
        }
    );
    match &r.source {
        Source::Device {
            device_id,
            model,
            record_key,
        } => {
            assert_eq!(device_id, "SN-4711");
            assert_eq!(model.as_deref(), Some("Omron M7 Intelli IT"));
            assert_eq!(record_key.as_deref(), Some("2026-11-24T07:30:00"));
        }
        other => panic!("a device reading: {other:?}"),
    }
}

#[test]
fn a_summer_record_imported_in_winter_keeps_summer_time() {
    let f = open();
    let july = bp_record(121, 79, &civil("2026-07-10T08:30:00"), None, None);
    let report = f
        .nara
        .devices()
        .import(&[july], &cuff(), |_, _| {})
        .expect("imports");
    assert_eq!(report.inserted, 1);
    let r = &f
        .nara
        .readings()
        .list(&ReadingFilter::default())
        .expect("list")[0];
    assert_eq!(r.effective_at.to_string(), "2026-07-10T06:30:00Z");
    assert_eq!(r.utc_offset_seconds, 7200);
}

#[test]
fn a_loose_cuff_or_movement_says_measure_again_instead_of_red() {
    let f = open();
    let at = civil("2026-11-24T08:00:00");
    // Cuff fit too loose. 190 mmHg is red by the default thresholds.
    let loose = bp_record(
        190,
        95,
        &at,
        None,
        Some(MeasurementStatus {
            cuff_too_loose: true,
            ..MeasurementStatus::GOOD
        }),
    );
    let (_, preview) = f.nara.devices().preview(&loose, &cuff()).expect("preview");
    let Preview::Reading(r) = preview else {
        panic!("a reading: {preview:?}")
    };
    assert_eq!(r.triage.band, Band::MeasureAgain);
    assert_eq!(r.triage.value_band, Band::Red);
    assert!(r.quality.cuff_fit_poor);
    let reason = r.triage.reason_in(nara_core::domain::text::Lang::En);
    assert!(reason.contains("cuff"), "{reason}");
    assert_eq!(
        f.nara.readings().count().expect("count"),
        0,
        "a preview stores nothing"
    );

    // Pulse rate range exceeded and body movement.
    let moved = bp_record(
        190,
        95,
        &at,
        None,
        Some(MeasurementStatus {
            body_movement: true,
            pulse_rate_range: PulseRateRange::ExceedsUpperLimit,
            ..MeasurementStatus::GOOD
        }),
    );
    let (_, preview) = f.nara.devices().preview(&moved, &cuff()).expect("preview");
    let Preview::Reading(r) = preview else {
        panic!("a reading: {preview:?}")
    };
    assert!(r.quality.body_movement && r.quality.pulse_out_of_range);
    assert_eq!(r.triage.band, Band::MeasureAgain);

    // The same values with a clean status are red.
    let clean = bp_record(190, 95, &at, None, Some(MeasurementStatus::GOOD));
    let (_, preview) = f.nara.devices().preview(&clean, &cuff()).expect("preview");
    let Preview::Reading(r) = preview else {
        panic!("a reading: {preview:?}")
    };
    assert_eq!(r.triage.band, Band::Red);
}

#[test]
fn a_shared_cuff_imports_only_the_patients_user() {
    let f = open();
    let at = civil("2026-11-23T19:00:00");
    let values = vec![
        bp_record(130, 85, &at, Some(1), None),
        bp_record(150, 95, &at, Some(2), None),
        bp_record(128, 84, &civil("2026-11-23T20:00:00"), Some(0xFF), None),
    ];
    let cx = CaptureContext {
        user: Some(1),
        ..cuff()
    };
    let report = f
        .nara
        .devices()
        .import(&values, &cx, |_, _| {})
        .expect("imports");
    assert_eq!(report.inserted, 2, "user 1 and the unknown user");
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].index, 1);
    assert_eq!(
        report.skipped[0].reason,
        NotAReading::OtherUser { user_id: 2 }
    );
}

#[test]
fn bad_records_are_listed_and_the_rest_is_imported() {
    let f = open();
    let mut values = cuff_memory().into_iter().take(5).collect::<Vec<_>>();
    // Record 1 is cut short inside the time stamp; record 3's clock is a day ahead;
    // record 4 has no systolic value (NaN).
    values[1].bytes.truncate(9);
    values[3] = bp_record(120, 80, &civil("2026-11-25T13:00:00"), None, None);
    values[4].bytes[1..3].copy_from_slice(&0x07FFu16.to_le_bytes());
    let report = f
        .nara
        .devices()
        .import(&values, &cuff(), |_, _| {})
        .expect("imports the rest");
    assert_eq!(report.inserted, 2);
    assert_eq!(report.rejected.len(), 2);
    let RejectedBecause::Decode(e) = &report.rejected[0].problem else {
        panic!("{:?}", report.rejected[0])
    };
    assert_eq!(
        (report.rejected[0].index, e.field, e.offset),
        (1, "Time Stamp", 7)
    );
    assert!(matches!(e.problem, DecodeProblem::Truncated { .. }));
    assert_eq!(report.rejected[1].index, 3);
    assert!(matches!(
        report.rejected[1].problem,
        RejectedBecause::Invalid(_)
    ));
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(
        report.skipped[0].reason,
        NotAReading::NoValue {
            field: "Systolic",
            special: Some(Special::NaN)
        }
    );
    // Nothing of the refused records' values appears in the errors.
    assert!(!format!("{e}").contains("120"));
}

#[test]
fn intermediate_cuff_pressure_and_control_points_are_not_readings() {
    let f = open();
    let values = vec![
        DeviceValue {
            characteristic: Characteristic::IntermediateCuffPressure,
            // mmHg, no options: cuff 142, the two unused fields NaN.
            bytes: vec![0x00, 0x8E, 0x00, 0xFF, 0x07, 0xFF, 0x07],
        },
        DeviceValue {
            characteristic: Characteristic::DateTime,
            bytes: vec![0xEA, 0x07, 11, 24, 8, 0, 0],
        },
    ];
    let report = f
        .nara
        .devices()
        .import(&values, &cuff(), |_, _| {})
        .expect("imports");
    assert_eq!(report.inserted, 0);
    let reasons: Vec<_> = report.skipped.iter().map(|s| s.reason).collect();
    assert_eq!(
        reasons,
        [NotAReading::InProgress, NotAReading::NotAMeasurement]
    );
}

fn glucose(
    seq: u16,
    at: &str,
    sfloat: u16,
    mol_per_l: bool,
    type_location: u8,
    context: bool,
) -> DeviceValue {
    // Flags: bit 1 concentration present, bit 2 unit, bit 4 context follows.
    let mut flags = 0x02u8;
    if mol_per_l {
        flags |= 0x04;
    }
    if context {
        flags |= 0x10;
    }
    let mut bytes = vec![flags];
    bytes.extend(seq.to_le_bytes());
    bytes.extend(DeviceTime::from_civil(civil(at)).encode());
    bytes.extend(sfloat.to_le_bytes());
    bytes.push(type_location);
    DeviceValue {
        characteristic: Characteristic::GlucoseMeasurement,
        bytes,
    }
}

fn meal_context(seq: u16, meal: u8) -> DeviceValue {
    let mut bytes = vec![0x02];
    bytes.extend(seq.to_le_bytes());
    bytes.push(meal);
    DeviceValue {
        characteristic: Characteristic::GlucoseMeasurementContext,
        bytes,
    }
}

#[test]
fn a_glucose_meters_memory_with_contexts_and_a_control_test() {
    let f = open();
    let meter = CaptureContext {
        device: DeviceInfo::new("GM-0042", Some("Contour Next One")).expect("device"),
        ..cuff()
    };
    // Capillary whole blood from a finger: type 1, location 1 → 0x11.
    let values = vec![
        // 5.6 mmol/L as 5.6e-3 mol/L: exponent -4 (0xC), mantissa 56.
        glucose(1, "2026-11-22T07:10:00", 0xC038, true, 0x11, true),
        meal_context(1, 3),
        // 101 mg/dL as 101e-5 kg/L: exponent -5 (0xB), mantissa 101.
        glucose(2, "2026-11-22T12:40:00", 0xB065, false, 0x11, false),
        // Control solution (type 10), not the patient.
        glucose(3, "2026-11-23T09:00:00", 0xB064, false, 0x4A, false),
        glucose(4, "2026-11-23T18:30:00", 0xC085, true, 0x11, true),
        meal_context(4, 2),
        // A context whose measurement is not in this import.
        meal_context(9, 1),
    ];
    let report = f
        .nara
        .devices()
        .import(&values, &meter, |_, _| {})
        .expect("imports");
    assert_eq!(report.inserted, 3);
    let reasons: Vec<_> = report.skipped.iter().map(|s| (s.index, s.reason)).collect();
    assert_eq!(
        reasons,
        [
            (3, NotAReading::ControlSolution),
            (6, NotAReading::ContextWithoutMeasurement)
        ]
    );
    let mut values: Vec<_> = f
        .nara
        .readings()
        .list(&ReadingFilter {
            kind: Some(ReadingKind::BloodGlucose),
            ..ReadingFilter::default()
        })
        .expect("list")
        .into_iter()
        .map(|r| (r.effective_at.to_string(), r.measurement))
        .collect();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        values,
        [
            (
                "2026-11-22T06:10:00Z".to_owned(),
                Measurement::BloodGlucose { mmol_per_l: 5.6 }
            ),
            (
                "2026-11-22T11:40:00Z".to_owned(),
                Measurement::BloodGlucose { mmol_per_l: 5.6 }
            ),
            (
                "2026-11-23T17:30:00Z".to_owned(),
                Measurement::BloodGlucose { mmol_per_l: 13.3 }
            ),
        ]
    );
    // Again: nothing new, the sequence numbers and times identify the records.
    let again = f
        .nara
        .devices()
        .import(&values_again(), &meter, |_, _| {})
        .expect("imports");
    assert_eq!((again.inserted, again.duplicates), (0, 1));
}

fn values_again() -> Vec<DeviceValue> {
    vec![glucose(
        2,
        "2026-11-22T12:40:00",
        0xB065,
        false,
        0x11,
        false,
    )]
}

#[test]
fn a_device_id_must_be_printable_and_short() {
    assert!(DeviceInfo::new("", None).is_err());
    assert!(DeviceInfo::new("   ", None).is_err());
    assert!(DeviceInfo::new("SN\u{7}1", None).is_err());
    assert!(DeviceInfo::new(&"x".repeat(65), None).is_err());
    let ok = DeviceInfo::new(" SN-1 ", Some("  ")).expect("trimmed");
    assert_eq!((ok.device_id.as_str(), ok.model), ("SN-1", None));
}

fn glucose_meter() -> CaptureContext {
    CaptureContext {
        device: DeviceInfo::new("GM-0815", Some("Contour Next One")).expect("device"),
        user: None,
        tz: stockholm(),
        received_at: NOW.parse().expect("time"),
    }
}

/// A Glucose Measurement (mol/L) of sequence 7 at 07:30 on the 24th, with the given
/// SFLOAT concentration and sensor status, and its context to follow when `context`.
fn glucose_record(sfloat: [u8; 2], status: Option<[u8; 2]>, context: bool) -> DeviceValue {
    let mut flags = 0x02 | 0x04; // concentration, mol/L
    if status.is_some() {
        flags |= 0x08;
    }
    if context {
        flags |= 0x10;
    }
    let mut bytes = vec![flags, 0x07, 0x00, 0xEA, 0x07, 11, 24, 7, 30, 0];
    bytes.extend(sfloat);
    bytes.push(0x11); // capillary whole blood, finger
    bytes.extend(status.into_iter().flatten());
    DeviceValue {
        characteristic: Characteristic::GlucoseMeasurement,
        bytes,
    }
}

/// The meter's "HI": 33.3 mmol/L with "result higher than the device can process".
#[test]
fn a_glucose_meters_hi_is_stored_as_a_bound_with_its_context_and_triaged_red() {
    use nara_core::domain::glucose_context::{
        AmountUnit, GlucoseContext, HealthState, Insulin, InsulinKind, MealRelation, Tester,
    };
    use nara_core::domain::reading::{Comparator, OffScale};
    use nara_core::domain::text::Lang;
    let f = open();
    // 333 × 10⁻⁴ mol/L; status bit 5: result too high.
    let hi = glucose_record([0x4D, 0xC1], Some([0x20, 0x00]), true);
    // Context of sequence 7: before a meal, self test, no health issues, 4 mg of
    // rapid-acting insulin (4 × 10⁻⁶ kg), HbA1c 7.1 %.
    let context = DeviceValue {
        characteristic: Characteristic::GlucoseMeasurementContext,
        bytes: vec![0x56, 0x07, 0x00, 0x01, 0x51, 0x01, 0x04, 0xA0, 0x47, 0xF0],
    };
    let report = f
        .nara
        .devices()
        .import(&[hi, context], &glucose_meter(), |_, _| {})
        .expect("import");
    assert_eq!(report.inserted, 1, "{report:?}");
    let r = f
        .nara
        .readings()
        .list(&ReadingFilter::default())
        .expect("list")
        .pop()
        .expect("the reading");
    assert_eq!(
        r.measurement,
        Measurement::BloodGlucose { mmol_per_l: 33.3 }
    );
    assert_eq!(
        r.off_scale,
        vec![OffScale {
            metric: nara_core::domain::reading::Metric::Glucose,
            comparator: Comparator::Above
        }]
    );
    assert_eq!(r.display(Lang::Sv), "över 33.3 mmol/L");
    assert_eq!(r.display(Lang::En), "above 33.3 mmol/L");
    assert_eq!(r.triage.band, Band::Red);
    assert_eq!(r.triage.reason.code(), "beyond_device_range");
    assert_eq!(
        r.glucose_context,
        Some(GlucoseContext {
            meal: Some(MealRelation::BeforeMeal),
            tester: Some(Tester::SelfTest),
            health: Some(HealthState::NoIssues),
            insulin: Some(Insulin {
                kind: InsulinKind::RapidActing,
                amount: 4.0,
                unit: AmountUnit::Milligrams
            }),
            hba1c_percent: Some(7.1),
        })
    );
    // Never an average: the 30-day mean has no glucose value at all.
    let summary = f
        .nara
        .trends()
        .summary(ReadingKind::BloodGlucose, 30)
        .expect("summary");
    assert_eq!((summary.count, summary.band_counts.red), (1, 1));
    assert!(summary.metrics.is_empty(), "{summary:?}");

    // What the region receives: the comparator, the off-scale interpretation and the
    // context as coded components.
    let patient = nara_core::sync::fhir::PatientId::new("anna-1".to_owned()).expect("id");
    let obs = serde_json::to_value(
        nara_core::sync::fhir::observation::observation(&r, &patient).expect("maps"),
    )
    .expect("json");
    assert_eq!(obs["valueQuantity"]["comparator"], ">");
    assert_eq!(obs["valueQuantity"]["value"], 33.3);
    let interpretation: Vec<&str> = obs["interpretation"]
        .as_array()
        .expect("interpretation")
        .iter()
        .filter_map(|c| c["coding"][0]["code"].as_str())
        .collect();
    assert_eq!(interpretation, vec!["HH", ">"]);
    let components: Vec<(String, String)> = obs["component"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| {
            let code = c["code"]["coding"][0]["code"].as_str().unwrap_or_default();
            let value = c["valueCodeableConcept"]["coding"][0]["code"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| c["valueQuantity"]["value"].to_string());
            (code.to_owned(), value)
        })
        .collect();
    let expect = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        components,
        vec![
            expect("8417864", "8417868"),
            expect("8417884", "8417888"),
            expect("8417820", "8417840"),
            expect("8417800", "4"),
            expect("4548-4", "7.1"),
        ]
    );
}

/// ±INF without a value: all that is certain is "beyond the red limit", so the bound is
/// the default red edge, never an invented meter limit; a weight has no red edge and
/// makes no reading.
#[test]
fn infinity_from_a_device_is_bounded_by_the_red_edge() {
    use nara_core::domain::reading::Comparator;
    let f = open();
    let plus = glucose_record([0xFE, 0x07], None, false);
    let (_, preview) = f
        .nara
        .devices()
        .preview(&plus, &glucose_meter())
        .expect("preview");
    let Preview::Reading(r) = preview else {
        panic!("a reading: {preview:?}")
    };
    assert_eq!(
        r.measurement,
        Measurement::BloodGlucose { mmol_per_l: 13.9 }
    );
    assert_eq!(
        r.comparator(nara_core::domain::reading::Metric::Glucose),
        Some(Comparator::Above)
    );
    assert_eq!(r.triage.band, Band::Red);
    let minus = glucose_record([0x02, 0x08], None, false);
    let (_, preview) = f
        .nara
        .devices()
        .preview(&minus, &glucose_meter())
        .expect("preview");
    let Preview::Reading(r) = preview else {
        panic!("a reading: {preview:?}")
    };
    assert_eq!(r.measurement, Measurement::BloodGlucose { mmol_per_l: 3.0 });
    assert_eq!(r.triage.band, Band::Red);
    // NaN stays "no value".
    let nan = glucose_record([0xFF, 0x07], None, false);
    let (_, preview) = f
        .nara
        .devices()
        .preview(&nan, &glucose_meter())
        .expect("preview");
    assert!(
        matches!(
            preview,
            Preview::NotAReading(NotAReading::NoValue {
                special: Some(Special::NaN),
                ..
            })
        ),
        "{preview:?}"
    );
}

/// Any decoder's "beyond range" specials become bounds (ADR 0013 §4): a cuff's +INF
/// systolic is "above 179 mmHg" and red, a +INF pulse beside it is "above 130", an
/// oximeter's −INF saturation is "below 92 %" and red; a saturation above 100 % is no
/// value.
#[test]
fn beyond_range_specials_of_cuffs_and_oximeters_are_bounds() {
    use nara_core::domain::reading::{Comparator, Metric};
    use nara_core::domain::text::Lang;
    let f = open();
    let preview = |v: &DeviceValue| match f.nara.devices().preview(v, &cuff()).expect("preview").1 {
        Preview::Reading(r) => Ok(*r),
        other => Err(other),
    };
    let mut sys_inf = bp_record(120, 80, &civil("2026-11-24T07:30:00"), None, None);
    sys_inf.bytes[1..3].copy_from_slice(&0x07FEu16.to_le_bytes());
    let r = preview(&sys_inf).expect("a reading");
    assert_eq!(r.comparator(Metric::Systolic), Some(Comparator::Above));
    assert_eq!(r.measurement.value(Metric::Systolic), Some(179.0));
    assert_eq!(r.triage.band, Band::Red);
    assert!(
        r.display(Lang::En)
            .contains("Systolic pressure above 179 mmHg"),
        "{}",
        r.display(Lang::En)
    );

    let mut pulse_inf = bp_record(120, 80, &civil("2026-11-24T07:30:00"), None, None);
    pulse_inf.bytes[14..16].copy_from_slice(&0x07FEu16.to_le_bytes());
    let r = preview(&pulse_inf).expect("a reading");
    assert_eq!(r.comparator(Metric::Pulse), Some(Comparator::Above));
    assert_eq!(r.comparator(Metric::Systolic), None);
    assert_eq!(r.triage.band, Band::Red, "a pulse above 130 is red (NEWS2)");

    let spot = |spo2: u16| DeviceValue {
        characteristic: Characteristic::PlxSpotCheckMeasurement,
        bytes: [
            vec![0x00],
            spo2.to_le_bytes().to_vec(),
            72u16.to_le_bytes().to_vec(),
        ]
        .concat(),
    };
    let r = preview(&spot(0x0802)).expect("a reading");
    assert_eq!(r.comparator(Metric::SpO2), Some(Comparator::Below));
    assert_eq!(r.measurement.value(Metric::SpO2), Some(92.0));
    assert_eq!(r.triage.band, Band::Red);
    assert!(matches!(
        preview(&spot(0x07FE)),
        Err(Preview::NotAReading(NotAReading::NoValue {
            special: Some(Special::PositiveInfinity),
            ..
        }))
    ));
}
