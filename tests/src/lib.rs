//! End-to-end test support.

pub mod chat_run;
pub mod fault_proxy;
pub mod region;

use jiff::Timestamp;
use jiff::tz::Offset;
use nara_core::domain::reading::{Measurement, NewReading};

/// The note the crash writer attaches to reading number `i`.
pub fn marker_note(i: u64) -> String {
    format!("marker-{i}")
}

/// Blood-pressure reading number `i` of the crash writer: values derived from `i` and
/// the unique note [`marker_note`].
pub fn marker_reading(i: u64, at: Timestamp) -> NewReading {
    let systolic = 100.0 + (i % 150) as f64;
    let diastolic = 60.0 + (i % 40) as f64;
    let mut r = NewReading::manual(
        Measurement::BloodPressure {
            systolic,
            diastolic,
            pulse: Some(50.0 + (i % 60) as f64),
        },
        at,
        Offset::UTC,
    );
    r.note = Some(marker_note(i));
    r
}

/// A tiny deterministic generator (SplitMix64) for reproducible test schedules.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..=max`.
    pub fn below_or_eq(&mut self, max: u64) -> u64 {
        self.next_u64() % (max + 1)
    }
}
