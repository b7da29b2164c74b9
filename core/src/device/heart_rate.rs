//! Heart Rate Measurement (0x2A37).
//!
//! Layout: Flags (`uint8`: bit 0 value is `uint16`, bits 1–2 Sensor Contact Status,
//! bit 3 Energy Expended present, bit 4 RR-Interval present, bits 5–7 reserved and
//! ignored), Heart Rate (`uint8` or `uint16`, beats per minute), Energy Expended
//! (`uint16`, kJ), then RR-Intervals (`uint16` each, 1/1024 s) to the end.

use serde::Serialize;

use super::bytes::Reader;
use super::error::DecodeError;

/// Bits 1–2 of the flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorContact {
    /// The sensor does not report contact (values 0 and 1).
    NotSupported,
    /// Supported, and no skin contact detected (2).
    NotDetected,
    /// Supported, and skin contact detected (3).
    Detected,
}

/// A decoded Heart Rate Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeartRateMeasurement {
    /// Beats per minute.
    pub bpm: u16,
    /// Skin contact.
    pub sensor_contact: SensorContact,
    /// Energy expended since the last reset, kJ.
    pub energy_expended_kj: Option<u16>,
    /// RR-intervals in milliseconds (raw / 1024 s), oldest first.
    pub rr_intervals_ms: Vec<f64>,
}

/// Decodes a Heart Rate Measurement (0x2A37).
///
/// With the RR-Interval flag set the payload must end in one or more whole
/// RR-Intervals: none, or an odd byte left over, is [`Truncated`](super::error::DecodeProblem::Truncated) on
/// `"RR-Interval"`.
pub fn decode(bytes: &[u8]) -> Result<HeartRateMeasurement, DecodeError> {
    let mut r = Reader::new(bytes);
    // Bits 5–7 are reserved for future use: receivers ignore them.
    let flags = r.u8("Flags")?;
    let bpm = if flags & FLAG_U16_VALUE != 0 {
        r.u16("Heart Rate Measurement Value")?
    } else {
        u16::from(r.u8("Heart Rate Measurement Value")?)
    };
    let sensor_contact = match (flags >> 1) & 0b11 {
        0 | 1 => SensorContact::NotSupported,
        2 => SensorContact::NotDetected,
        _ => SensorContact::Detected,
    };
    let energy_expended_kj = r.optional(flags & FLAG_ENERGY_EXPENDED != 0, |r| {
        r.u16("Energy Expended")
    })?;

    let mut rr_intervals_ms = Vec::new();
    if flags & FLAG_RR_INTERVALS != 0 {
        // At least one, then as many as the payload holds; an odd byte is a cut one.
        loop {
            let raw = r.u16("RR-Interval")?;
            rr_intervals_ms.push(f64::from(raw) * 1000.0 / 1024.0);
            if r.remaining() == 0 {
                break;
            }
        }
    }
    r.finish()?;

    Ok(HeartRateMeasurement {
        bpm,
        sensor_contact,
        energy_expended_kj,
        rr_intervals_ms,
    })
}

/// Flags bit 0: the value is a `uint16`, else a `uint8`.
const FLAG_U16_VALUE: u8 = 1 << 0;
/// Flags bit 3: Energy Expended present.
const FLAG_ENERGY_EXPENDED: u8 = 1 << 3;
/// Flags bit 4: one or more RR-Intervals present.
const FLAG_RR_INTERVALS: u8 = 1 << 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_panics_on_short_or_odd_payloads() {
        for flags in 0..=u8::MAX {
            for len in 0..12 {
                let bytes: Vec<u8> = std::iter::once(flags)
                    .chain(std::iter::repeat(0xFF))
                    .take(len)
                    .collect();
                let _ = decode(&bytes);
            }
        }
    }
}
