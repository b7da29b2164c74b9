//! Blood Pressure Measurement (0x2A35) and Intermediate Cuff Pressure (0x2A36).
//!
//! Layout (GATT Specification Supplement): Flags (`uint8`: bit 0 units kPa, bit 1
//! Time Stamp present, bit 2 Pulse Rate present, bit 3 User ID present, bit 4
//! Measurement Status present, bits 5–7 reserved and ignored), then Systolic,
//! Diastolic and Mean Arterial Pressure (SFLOAT each; in 0x2A36 the first is the
//! current cuff pressure and the other two are unused), Time Stamp (Date Time),
//! Pulse Rate (SFLOAT), User ID (`uint8`, 0xFF = unknown user), Measurement Status
//! (`uint16`).

use serde::Serialize;

pub use crate::domain::units::PressureUnit;
use crate::domain::units::pressure_to_mmhg;

use super::bytes::Reader;
use super::error::DecodeError;
use super::ieee11073::{Medfloat, Special};
use super::time::DeviceTime;

/// The User ID a device sends when it does not know who measured.
pub const UNKNOWN_USER: u8 = 0xFF;

/// Bits 3–4 of the Measurement Status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PulseRateRange {
    /// The pulse was within the device's range (or not checked).
    WithinRange,
    /// The pulse exceeded the upper limit.
    ExceedsUpperLimit,
    /// The pulse was below the lower limit.
    BelowLowerLimit,
    /// Value 3, reserved.
    Reserved,
}

/// The Measurement Status field (bits 6–15 reserved and ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct MeasurementStatus {
    /// Bit 0: body movement detected.
    pub body_movement: bool,
    /// Bit 1: cuff fit too loose.
    pub cuff_too_loose: bool,
    /// Bit 2: irregular pulse detected.
    pub irregular_pulse: bool,
    /// Bits 3–4.
    pub pulse_rate_range: PulseRateRange,
    /// Bit 5: improper measurement position.
    pub improper_position: bool,
}

/// A decoded Blood Pressure Measurement (0x2A35). Pressures are in `unit`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BloodPressureMeasurement {
    /// The unit of the three pressures.
    pub unit: PressureUnit,
    /// Systolic pressure.
    pub systolic: Medfloat,
    /// Diastolic pressure.
    pub diastolic: Medfloat,
    /// Mean arterial pressure.
    pub mean_arterial_pressure: Medfloat,
    /// When it was measured, by the device's clock.
    pub time_stamp: Option<DeviceTime>,
    /// Pulse rate in beats per minute.
    pub pulse_rate: Option<Medfloat>,
    /// Which of the device's users measured ([`UNKNOWN_USER`] if it does not know).
    pub user_id: Option<u8>,
    /// Measurement status flags.
    pub status: Option<MeasurementStatus>,
}

/// A decoded Intermediate Cuff Pressure (0x2A36): progress while measuring, not a
/// reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntermediateCuffPressure {
    /// The unit of the cuff pressure.
    pub unit: PressureUnit,
    /// The current cuff pressure.
    pub cuff_pressure: Medfloat,
    /// Device time.
    pub time_stamp: Option<DeviceTime>,
    /// Pulse rate in beats per minute.
    pub pulse_rate: Option<Medfloat>,
    /// Which of the device's users.
    pub user_id: Option<u8>,
    /// Measurement status flags.
    pub status: Option<MeasurementStatus>,
}

/// A pressure in mmHg, whatever unit the device used.
pub fn to_mmhg(value: Medfloat, unit: PressureUnit) -> Result<f64, Special> {
    Ok(pressure_to_mmhg(value.value()?, unit))
}

impl BloodPressureMeasurement {
    /// A measurement in whole mmHg as most cuffs send it, the mean arterial pressure
    /// computed as (systolic + 2 × diastolic) / 3; no user and no status. For device
    /// simulators, the demo and tests (with [`BloodPressureMeasurement::encode`]).
    pub fn mmhg(
        systolic: i16,
        diastolic: i16,
        pulse: Option<i16>,
        time: Option<jiff::civil::DateTime>,
    ) -> Self {
        let map = (i32::from(systolic) + 2 * i32::from(diastolic)) / 3;
        Self {
            unit: PressureUnit::MmHg,
            systolic: Medfloat::whole(systolic),
            diastolic: Medfloat::whole(diastolic),
            mean_arterial_pressure: Medfloat::whole(i16::try_from(map).unwrap_or(i16::MAX)),
            time_stamp: time.map(DeviceTime::from_civil),
            pulse_rate: pulse.map(Medfloat::whole),
            user_id: None,
            status: None,
        }
    }

    /// The value a cuff would send for this measurement: the flags say which optional
    /// fields are present. `None` if a number does not fit an SFLOAT. The inverse of
    /// [`decode_measurement`]; for device simulators, the demo and tests.
    pub fn encode(&self) -> Option<Vec<u8>> {
        let mut flags = 0u8;
        if self.unit == PressureUnit::KPa {
            flags |= FLAG_KPA;
        }
        let mut out = vec![0u8];
        for v in [self.systolic, self.diastolic, self.mean_arterial_pressure] {
            out.extend(v.to_sfloat_raw()?.to_le_bytes());
        }
        if let Some(t) = &self.time_stamp {
            flags |= FLAG_TIME_STAMP;
            out.extend(t.encode());
        }
        if let Some(p) = self.pulse_rate {
            flags |= FLAG_PULSE_RATE;
            out.extend(p.to_sfloat_raw()?.to_le_bytes());
        }
        if let Some(u) = self.user_id {
            flags |= FLAG_USER_ID;
            out.push(u);
        }
        if let Some(s) = self.status {
            flags |= FLAG_STATUS;
            out.extend(s.bits().to_le_bytes());
        }
        out[0] = flags;
        Some(out)
    }
}

/// Decodes a Blood Pressure Measurement (0x2A35).
pub fn decode_measurement(bytes: &[u8]) -> Result<BloodPressureMeasurement, DecodeError> {
    let f = decode_fields(bytes, "Systolic")?;
    Ok(BloodPressureMeasurement {
        unit: f.unit,
        systolic: f.first,
        diastolic: f.diastolic,
        mean_arterial_pressure: f.mean_arterial_pressure,
        time_stamp: f.time_stamp,
        pulse_rate: f.pulse_rate,
        user_id: f.user_id,
        status: f.status,
    })
}

/// Decodes an Intermediate Cuff Pressure (0x2A36).
///
/// The layout is the Blood Pressure Measurement's: the Systolic position carries the
/// current cuff pressure, and the Diastolic and Mean Arterial Pressure positions are
/// present but unused, so they are read (a payload without them is truncated) and
/// dropped.
pub fn decode_intermediate(bytes: &[u8]) -> Result<IntermediateCuffPressure, DecodeError> {
    let f = decode_fields(bytes, "Intermediate Cuff Pressure")?;
    Ok(IntermediateCuffPressure {
        unit: f.unit,
        cuff_pressure: f.first,
        time_stamp: f.time_stamp,
        pulse_rate: f.pulse_rate,
        user_id: f.user_id,
        status: f.status,
    })
}

/// Flags bit 0: pressures in kPa (else mmHg).
const FLAG_KPA: u8 = 1 << 0;
/// Flags bit 1: Time Stamp present.
const FLAG_TIME_STAMP: u8 = 1 << 1;
/// Flags bit 2: Pulse Rate present.
const FLAG_PULSE_RATE: u8 = 1 << 2;
/// Flags bit 3: User ID present.
const FLAG_USER_ID: u8 = 1 << 3;
/// Flags bit 4: Measurement Status present.
const FLAG_STATUS: u8 = 1 << 4;

/// The fields 0x2A35 and 0x2A36 share, in payload order.
struct Fields {
    unit: PressureUnit,
    first: Medfloat,
    diastolic: Medfloat,
    mean_arterial_pressure: Medfloat,
    time_stamp: Option<DeviceTime>,
    pulse_rate: Option<Medfloat>,
    user_id: Option<u8>,
    status: Option<MeasurementStatus>,
}

/// Reads the common layout; `first_field` names the first SFLOAT in errors.
fn decode_fields(bytes: &[u8], first_field: &'static str) -> Result<Fields, DecodeError> {
    let mut r = Reader::new(bytes);
    // Bits 5–7 are reserved for future use: receivers ignore them.
    let flags = r.u8("Flags")?;
    let unit = if flags & FLAG_KPA != 0 {
        PressureUnit::KPa
    } else {
        PressureUnit::MmHg
    };
    let first = r.sfloat(first_field)?;
    let diastolic = r.sfloat("Diastolic")?;
    let mean_arterial_pressure = r.sfloat("Mean Arterial Pressure")?;

    let time_stamp = r.optional(flags & FLAG_TIME_STAMP != 0, |r| {
        DeviceTime::read(r, "Time Stamp")
    })?;
    let pulse_rate = r.optional(flags & FLAG_PULSE_RATE != 0, |r| r.sfloat("Pulse Rate"))?;
    let user_id = r.optional(flags & FLAG_USER_ID != 0, |r| r.u8("User ID"))?;
    let status = r.optional(flags & FLAG_STATUS != 0, |r| {
        Ok(MeasurementStatus::from_bits(r.u16("Measurement Status")?))
    })?;
    r.finish()?;

    Ok(Fields {
        unit,
        first,
        diastolic,
        mean_arterial_pressure,
        time_stamp,
        pulse_rate,
        user_id,
        status,
    })
}

impl MeasurementStatus {
    /// The 16-bit field for these flags (reserved bits 0).
    pub fn bits(&self) -> u16 {
        let range: u16 = match self.pulse_rate_range {
            PulseRateRange::WithinRange => 0,
            PulseRateRange::ExceedsUpperLimit => 1,
            PulseRateRange::BelowLowerLimit => 2,
            PulseRateRange::Reserved => 3,
        };
        u16::from(self.body_movement)
            | u16::from(self.cuff_too_loose) << 1
            | u16::from(self.irregular_pulse) << 2
            | range << 3
            | u16::from(self.improper_position) << 5
    }

    /// No flag set, the pulse within range.
    pub const GOOD: MeasurementStatus = MeasurementStatus {
        body_movement: false,
        cuff_too_loose: false,
        irregular_pulse: false,
        pulse_rate_range: PulseRateRange::WithinRange,
        improper_position: false,
    };

    /// Decodes the 16-bit Measurement Status; reserved bits 6–15 are ignored.
    fn from_bits(bits: u16) -> Self {
        let bit = |n: u16| bits & (1 << n) != 0;
        let pulse_rate_range = match (bits >> 3) & 0b11 {
            0 => PulseRateRange::WithinRange,
            1 => PulseRateRange::ExceedsUpperLimit,
            2 => PulseRateRange::BelowLowerLimit,
            _ => PulseRateRange::Reserved,
        };
        Self {
            body_movement: bit(0),
            cuff_too_loose: bit(1),
            irregular_pulse: bit(2),
            pulse_rate_range,
            improper_position: bit(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bits_one_by_one() {
        let none = MeasurementStatus::from_bits(0);
        assert_eq!(
            none,
            MeasurementStatus {
                body_movement: false,
                cuff_too_loose: false,
                irregular_pulse: false,
                pulse_rate_range: PulseRateRange::WithinRange,
                improper_position: false,
            }
        );
        assert!(MeasurementStatus::from_bits(1 << 0).body_movement);
        assert!(MeasurementStatus::from_bits(1 << 1).cuff_too_loose);
        assert!(MeasurementStatus::from_bits(1 << 2).irregular_pulse);
        assert!(MeasurementStatus::from_bits(1 << 5).improper_position);
        for (raw, range) in [
            (0, PulseRateRange::WithinRange),
            (1, PulseRateRange::ExceedsUpperLimit),
            (2, PulseRateRange::BelowLowerLimit),
            (3, PulseRateRange::Reserved),
        ] {
            assert_eq!(
                MeasurementStatus::from_bits(raw << 3).pulse_rate_range,
                range
            );
        }
        // Bits 6–15 are reserved and ignored.
        assert_eq!(MeasurementStatus::from_bits(0xFFC0), none);
    }

    #[test]
    fn never_panics_on_short_or_odd_payloads() {
        for flags in 0..=u8::MAX {
            for len in 0..24 {
                let bytes: Vec<u8> = std::iter::once(flags)
                    .chain(std::iter::repeat(0xFF))
                    .take(len)
                    .collect();
                let _ = decode_measurement(&bytes);
                let _ = decode_intermediate(&bytes);
            }
        }
    }
}
