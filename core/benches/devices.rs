//! Device import benchmark: a glucose meter's or cuff's memory of 1,000 stored blood
//! pressure records through `devices().import` (decode, capture, validate, store)
//! beside `readings().import` of the same 1,000 readings already built: the ratio is
//! what decoding and the capture rules add to the store's own import. Also the decode
//! of one value alone. Results: docs/benchmarks.md.
//! Run: `cargo bench -p nara-core --bench devices`.

#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use nara_core::device::blood_pressure::BloodPressureMeasurement;
use nara_core::device::capture::{CaptureContext, DeviceInfo};
use nara_core::device::{Characteristic, decode, reading_from};
use nara_core::devices::DeviceValue;
use nara_core::domain::reading::NewReading;
use nara_core::{Nara, PassphraseKeyProvider};

const RECORDS: i64 = 1_000;

fn context() -> CaptureContext {
    CaptureContext {
        device: DeviceInfo::new("BENCH-CUFF", Some("Omron M7 Intelli IT")).expect("device"),
        user: None,
        tz: TimeZone::get("Europe/Stockholm").expect("tz"),
        received_at: Timestamp::now(),
    }
}

fn memory() -> Vec<DeviceValue> {
    let newest = Timestamp::now()
        .to_zoned(TimeZone::get("Europe/Stockholm").expect("tz"))
        .datetime()
        .checked_sub(SignedDuration::from_hours(1))
        .expect("in range");
    (0..RECORDS)
        .map(|i| {
            let at = newest
                .checked_sub(SignedDuration::from_hours(8 * i))
                .expect("in range");
            let m = BloodPressureMeasurement::mmhg(
                118 + (i % 30) as i16,
                75 + (i % 15) as i16,
                Some(64 + (i % 20) as i16),
                Some(at),
            );
            DeviceValue {
                characteristic: Characteristic::BloodPressureMeasurement,
                bytes: m.encode().expect("fits"),
            }
        })
        .collect()
}

fn open() -> (tempfile::TempDir, Nara) {
    let dir = tempfile::tempdir().expect("dir");
    let nara = Nara::open(
        dir.path(),
        Arc::new(PassphraseKeyProvider::with_iterations("bench", 1000)),
    )
    .expect("open");
    (dir, nara)
}

fn bench(c: &mut Criterion) {
    let values = memory();
    let cx = context();
    let readings: Vec<NewReading> = values
        .iter()
        .map(|v| {
            let d = decode(v.characteristic, &v.bytes).expect("decodes");
            reading_from(&d, None, &cx).expect("a reading")
        })
        .collect();

    let mut g = c.benchmark_group("device_import_1k");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    g.bench_function("nara_devices_import", |b| {
        b.iter_batched(
            open,
            |(_dir, nara)| {
                nara.devices()
                    .import(&values, &cx, |_, _| {})
                    .expect("imports")
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("readings_import_prebuilt", |b| {
        b.iter_batched(
            || (open(), readings.clone()),
            |((_dir, nara), batch)| nara.readings().import(batch, |_, _| {}).expect("imports"),
            BatchSize::PerIteration,
        )
    });
    g.finish();

    let one = &values[0];
    c.bench_function("decode_one_bp_value", |b| {
        b.iter(|| decode(one.characteristic, std::hint::black_box(&one.bytes)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
