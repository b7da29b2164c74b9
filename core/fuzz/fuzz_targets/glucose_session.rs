#![no_main]
//! A glucose RACP session fed arbitrary notifications: each input byte picks the
//! characteristic and the length of the next value. Never panics.

use libfuzzer_sys::fuzz_target;
use nara_core::device::Characteristic;
use nara_core::device::racp::{GlucoseSession, RacpFilter};

fuzz_target!(|data: &[u8]| {
    let (mut session, _) = GlucoseSession::start(RacpFilter::All);
    let mut rest = data;
    while let Some((&head, tail)) = rest.split_first() {
        let characteristic = match head % 3 {
            0 => Characteristic::GlucoseMeasurement,
            1 => Characteristic::GlucoseMeasurementContext,
            _ => Characteristic::RecordAccessControlPoint,
        };
        let len = usize::from(head >> 2).min(tail.len());
        let (value, next) = tail.split_at(len);
        let _ = session.receive(characteristic, value);
        rest = next;
    }
    let _ = session.into_records();
});
