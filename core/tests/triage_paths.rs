//! The same triage on every path into the store (ADR 0013): a reading typed in with
//! `add`, a bulk `import` and a Bluetooth device import of the same values get the same
//! band, reason, rule version and findings, because each is triaged with the patient's
//! stored history and the batch's earlier readings, in time order.

use std::sync::Arc;

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use nara_core::device::Characteristic;
use nara_core::device::blood_pressure::{
    BloodPressureMeasurement, MeasurementStatus, PulseRateRange,
};
use nara_core::device::capture::{CaptureContext, DeviceInfo};
use nara_core::device::time::DeviceTime;
use nara_core::devices::{DeviceValue, Preview};
use nara_core::domain::reading::{Measurement, NewReading, QualityFlags, Reading, ReadingKind};
use nara_core::domain::triage::{Band, Finding, FindingAction, TriageResult};
use nara_core::{KeyProvider, Nara, PassphraseKeyProvider, ReadingFilter};
use proptest::prelude::*;

const NOW: &str = "2026-11-24T12:00:00Z";

fn now() -> Timestamp {
    NOW.parse().expect("time")
}

struct Phone {
    nara: Nara,
    _dir: tempfile::TempDir,
}

fn phone() -> Phone {
    let dir = tempfile::tempdir().expect("dir");
    let keys: Arc<dyn KeyProvider> =
        Arc::new(PassphraseKeyProvider::with_iterations("paths", 1000));
    let at = now();
    let nara = Nara::open_with_clock(dir.path(), keys, Arc::new(move || at)).expect("open");
    Phone { nara, _dir: dir }
}

/// One value as the patient or a device produced it: a weight or a cuff reading (with
/// or without an irregular pulse), `minutes` before now.
#[derive(Debug, Clone, Copy)]
enum Value {
    Weight { decigrams_x100: u32 },
    Bp { sys: i16, dia: i16, irregular: bool },
}

fn at(minutes_ago: i64) -> Timestamp {
    now() - SignedDuration::from_mins(minutes_ago)
}

fn manual(v: Value, minutes_ago: i64) -> NewReading {
    let (measurement, irregular) = match v {
        Value::Weight { decigrams_x100 } => (
            Measurement::BodyWeight {
                kg: f64::from(decigrams_x100) / 10.0,
            },
            false,
        ),
        Value::Bp {
            sys,
            dia,
            irregular,
        } => (
            Measurement::BloodPressure {
                systolic: f64::from(sys),
                diastolic: f64::from(dia),
                pulse: Some(72.0),
            },
            irregular,
        ),
    };
    NewReading {
        quality: QualityFlags {
            irregular_pulse: irregular,
            ..QualityFlags::GOOD
        },
        ..NewReading::manual(measurement, at(minutes_ago), Offset::UTC)
    }
}

fn civil(t: Timestamp) -> DateTime {
    TimeZone::UTC.to_datetime(t)
}

/// The bytes a scale (0x2A9D, SI, with time stamp) or a cuff (0x2A35) would send.
fn device_value(v: Value, minutes_ago: i64) -> DeviceValue {
    let time = civil(at(minutes_ago));
    match v {
        Value::Weight { decigrams_x100 } => {
            // Resolution 0.005 kg: 0.1 kg is 20 steps.
            let steps = u16::try_from(decigrams_x100 * 20).expect("fits");
            let mut bytes = vec![0x02];
            bytes.extend(steps.to_le_bytes());
            bytes.extend(DeviceTime::from_civil(time).encode());
            DeviceValue {
                characteristic: Characteristic::WeightMeasurement,
                bytes,
            }
        }
        Value::Bp {
            sys,
            dia,
            irregular,
        } => {
            let m = BloodPressureMeasurement {
                status: Some(MeasurementStatus {
                    body_movement: false,
                    cuff_too_loose: false,
                    irregular_pulse: irregular,
                    pulse_rate_range: PulseRateRange::WithinRange,
                    improper_position: false,
                }),
                ..BloodPressureMeasurement::mmhg(sys, dia, Some(72), Some(time))
            };
            DeviceValue {
                characteristic: Characteristic::BloodPressureMeasurement,
                bytes: m.encode().expect("fits"),
            }
        }
    }
}

fn device() -> CaptureContext {
    CaptureContext {
        device: DeviceInfo::new("SN-PATHS-1", Some("Test scale and cuff")).expect("device"),
        user: None,
        tz: TimeZone::UTC,
        received_at: now(),
    }
}

/// What triage decided for each stored reading, by time of measurement.
fn outcomes(nara: &Nara) -> Vec<(Timestamp, ReadingKind, TriageResult)> {
    let mut all: Vec<Reading> = nara
        .readings()
        .list(&ReadingFilter::default())
        .expect("list");
    all.sort_by_key(|r| r.effective_at);
    all.into_iter()
        .map(|r| (r.effective_at, r.kind(), r.triage))
        .collect()
}

fn scale_record(kg_tenths: u32, minutes_ago: i64) -> DeviceValue {
    device_value(
        Value::Weight {
            decigrams_x100: kg_tenths,
        },
        minutes_ago,
    )
}

/// Heart failure: 85.0 kg from a Bluetooth scale two days after 80.0 kg is a gain of
/// more than 2 kg in 3 days, whether it is previewed, imported or typed in.
#[test]
fn a_bluetooth_scale_weight_gain_is_flagged_and_the_preview_shows_what_is_stored() {
    let two_days = 2 * 24 * 60;
    let p = phone();
    p.nara
        .readings()
        .add(manual(
            Value::Weight {
                decigrams_x100: 800,
            },
            two_days + 60,
        ))
        .expect("earlier weight");
    let value = scale_record(850, 60);
    let (_, preview) = p
        .nara
        .devices()
        .preview(&value, &device())
        .expect("preview");
    let Preview::Reading(previewed) = preview else {
        panic!("a reading: {preview:?}")
    };
    assert_eq!(previewed.triage.band, Band::Yellow);
    assert_eq!(previewed.triage.reason.code(), "weight_gain");

    let report = p
        .nara
        .devices()
        .import(&[value], &device(), |_, _| {})
        .expect("import");
    assert_eq!(report.inserted, 1);
    let stored = p
        .nara
        .readings()
        .list(&ReadingFilter {
            kind: Some(ReadingKind::BodyWeight),
            ..ReadingFilter::default()
        })
        .expect("list");
    let imported = stored.first().expect("the imported weight");
    assert_eq!(
        imported.triage, previewed.triage,
        "the preview is what is stored"
    );
    assert_eq!(imported.id, previewed.id);
}

/// A correction is triaged against the history without the reading it replaces.
#[test]
fn a_correction_is_triaged_without_the_reading_it_corrects() {
    let p = phone();
    let r = p.nara.readings();
    r.add(manual(
        Value::Weight {
            decigrams_x100: 800,
        },
        2 * 24 * 60,
    ))
    .expect("day 1");
    // A typo: 75.0 instead of 80.5; 80.5 is no gain on 80.0, but 75.0 as history would
    // make the next weight a gain.
    let typo = r
        .add(manual(
            Value::Weight {
                decigrams_x100: 750,
            },
            24 * 60,
        ))
        .expect("day 2");
    let fixed = r
        .correct(
            typo.id,
            manual(
                Value::Weight {
                    decigrams_x100: 805,
                },
                24 * 60,
            ),
        )
        .expect("corrected");
    assert_eq!(fixed.triage.band, Band::Green);
    let today = r
        .add(manual(
            Value::Weight {
                decigrams_x100: 815,
            },
            60,
        ))
        .expect("today");
    // 81.5 is 1.5 kg over 80.0 (the typo 75.0 is superseded and not history).
    assert_eq!(today.triage.band, Band::Green, "{:?}", today.triage);
}

/// Two irregular pulses within a week, the second from the cuff's memory in the same
/// import as the first: the second asks the patient to contact the care unit.
#[test]
fn a_repeated_irregular_pulse_in_one_import_asks_for_contact() {
    let p = phone();
    let cuff = |minutes_ago, irregular| {
        device_value(
            Value::Bp {
                sys: 128,
                dia: 82,
                irregular,
            },
            minutes_ago,
        )
    };
    // Newest first, as a memory dump may come.
    let memory = [
        cuff(60, true),
        cuff(3 * 24 * 60, false),
        cuff(4 * 24 * 60, true),
    ];
    p.nara
        .devices()
        .import(&memory, &device(), |_, _| {})
        .expect("import");
    let o = outcomes(&p.nara);
    let findings: Vec<Vec<FindingAction>> = o
        .iter()
        .map(|(_, _, t)| t.findings.iter().map(Finding::action).collect())
        .collect();
    assert_eq!(
        findings,
        vec![
            vec![FindingAction::MeasureAgainLater],
            vec![],
            vec![FindingAction::ContactCareUnit]
        ]
    );
    // The values decide the band: irregular pulse is not "measure again".
    assert!(o.iter().all(|(_, _, t)| t.band == Band::Green), "{o:?}");
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (780u32..=860).prop_map(|d| Value::Weight { decigrams_x100: d }),
        (95i16..200, 45i16..115, any::<bool>()).prop_map(|(sys, dia, irregular)| Value::Bp {
            sys,
            dia: dia.min(sys - 10),
            irregular,
        }),
    ]
}

/// Values at distinct times, a few hours to 20 days back, in time order.
fn history() -> impl Strategy<Value = Vec<(Value, i64)>> {
    proptest::collection::btree_set(60i64..(20 * 24 * 60), 1..12).prop_flat_map(|times| {
        let n = times.len();
        let mut times: Vec<i64> = times.into_iter().collect();
        // Oldest first.
        times.sort_unstable_by(|a, b| b.cmp(a));
        (proptest::collection::vec(value(), n), Just(times))
            .prop_map(|(values, times)| values.into_iter().zip(times).collect())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any sequence of readings ends with identical bands, reasons, rule versions and
    /// findings whether stored one by one with `add`, in one `import` (in any order),
    /// or through a device import of the same values.
    #[test]
    fn every_path_gives_the_same_triage(values in history(), seed in any::<u64>()) {
        let one_by_one = phone();
        for (v, minutes) in &values {
            one_by_one.nara.readings().add(manual(*v, *minutes)).expect("add");
        }

        let bulk = phone();
        let mut batch: Vec<NewReading> = values.iter().map(|(v, m)| manual(*v, *m)).collect();
        // Any order: the import sorts by time of measurement itself.
        let len = batch.len();
        for i in 0..len {
            let j = (seed.rotate_left(i as u32) as usize) % len;
            batch.swap(i, j);
        }
        bulk.nara.readings().import(batch, |_, _| {}).expect("import");

        let device_phone = phone();
        let memory: Vec<DeviceValue> = values.iter().rev().map(|(v, m)| device_value(*v, *m)).collect();
        let report = device_phone.nara.devices().import(&memory, &device(), |_, _| {}).expect("device import");
        prop_assert_eq!(report.inserted as usize, values.len());

        let expected = outcomes(&one_by_one.nara);
        prop_assert_eq!(&outcomes(&bulk.nara), &expected);
        prop_assert_eq!(&outcomes(&device_phone.nara), &expected);
    }
}
