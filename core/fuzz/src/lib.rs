//! What every fuzz target checks: decoding any bytes as a characteristic never panics;
//! what decodes also serialises and goes through the capture rules without a panic,
//! and a value never comes out of a special (NaN, NRes, ±INF) SFLOAT.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use nara_core::device::capture::{CaptureContext, DeviceInfo};
use nara_core::device::{Characteristic, decode, reading_from};

/// Decodes `data` as `characteristic` and runs what follows a successful decode.
pub fn check(characteristic: Characteristic, data: &[u8]) {
    let Ok(decoded) = decode(characteristic, data) else {
        return;
    };
    let _ = serde_json::to_string(&decoded);
    let Ok(device) = DeviceInfo::new("fuzz-device", None) else {
        return;
    };
    let cx = CaptureContext {
        device,
        user: Some(1),
        tz: TimeZone::fixed(jiff::tz::offset(1)),
        received_at: Timestamp::UNIX_EPOCH,
    };
    if let Ok(reading) = reading_from(&decoded, None, &cx) {
        for (_, value) in reading.measurement.values() {
            assert!(value.is_finite(), "a reading value is always a number");
        }
    }
}
