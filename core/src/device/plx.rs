//! Pulse oximeters: PLX Spot-Check Measurement (0x2A5E) and PLX Continuous
//! Measurement (0x2A5F).
//!
//! Spot-check layout: Flags (`uint8`: bit 0 Timestamp present, bit 1 Measurement
//! Status present, bit 2 Device and Sensor Status present, bit 3 Pulse Amplitude
//! Index present, bit 4 device clock is not set, bits 5–7 reserved and ignored),
//! SpO2 and PR (SFLOAT each), Timestamp (Date Time), Measurement Status (`uint16`),
//! Device and Sensor Status (`uint24`), Pulse Amplitude Index (SFLOAT).
//!
//! Continuous layout: Flags (`uint8`: bit 0 SpO2PR-Fast present, bit 1 SpO2PR-Slow
//! present, bit 2 Measurement Status, bit 3 Device and Sensor Status, bit 4 Pulse
//! Amplitude Index, bits 5–7 reserved and ignored), SpO2PR-Normal (two SFLOATs),
//! SpO2PR-Fast, SpO2PR-Slow, Measurement Status, Device and Sensor Status, Pulse
//! Amplitude Index.

use serde::Serialize;

use super::bytes::Reader;
use super::error::{DecodeError, DecodeProblem};
use super::ieee11073::Medfloat;
use super::time::DeviceTime;

/// Spot-check flag bit 0: Timestamp present.
const S_TIMESTAMP: u8 = 1 << 0;
/// Spot-check flag bit 1: Measurement Status present.
const S_MEASUREMENT_STATUS: u8 = 1 << 1;
/// Spot-check flag bit 2: Device and Sensor Status present.
const S_DEVICE_STATUS: u8 = 1 << 2;
/// Spot-check flag bit 3: Pulse Amplitude Index present.
const S_PULSE_AMPLITUDE_INDEX: u8 = 1 << 3;
/// Spot-check flag bit 4: the device clock is not set.
const S_CLOCK_NOT_SET: u8 = 1 << 4;

/// Continuous flag bit 0: SpO2PR-Fast present.
const C_FAST: u8 = 1 << 0;
/// Continuous flag bit 1: SpO2PR-Slow present.
const C_SLOW: u8 = 1 << 1;
/// Continuous flag bit 2: Measurement Status present.
const C_MEASUREMENT_STATUS: u8 = 1 << 2;
/// Continuous flag bit 3: Device and Sensor Status present.
const C_DEVICE_STATUS: u8 = 1 << 3;
/// Continuous flag bit 4: Pulse Amplitude Index present.
const C_PULSE_AMPLITUDE_INDEX: u8 = 1 << 4;

/// The Measurement Status field (bits 0–4 reserved and ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct PlxMeasurementStatus {
    /// Bit 5.
    pub measurement_ongoing: bool,
    /// Bit 6.
    pub early_estimated_data: bool,
    /// Bit 7.
    pub validated_data: bool,
    /// Bit 8.
    pub fully_qualified_data: bool,
    /// Bit 9.
    pub data_from_storage: bool,
    /// Bit 10: demonstration data, not the patient.
    pub data_for_demonstration: bool,
    /// Bit 11: test data, not the patient.
    pub data_for_testing: bool,
    /// Bit 12.
    pub calibration_ongoing: bool,
    /// Bit 13.
    pub measurement_unavailable: bool,
    /// Bit 14.
    pub questionable_measurement: bool,
    /// Bit 15.
    pub invalid_measurement: bool,
}

/// The Device and Sensor Status field (bits 16–23 reserved and ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct PlxDeviceStatus {
    /// Bit 0.
    pub extended_display_update_ongoing: bool,
    /// Bit 1.
    pub equipment_malfunction: bool,
    /// Bit 2.
    pub signal_processing_irregularity: bool,
    /// Bit 3.
    pub inadequate_signal: bool,
    /// Bit 4.
    pub poor_signal: bool,
    /// Bit 5.
    pub low_perfusion: bool,
    /// Bit 6.
    pub erratic_signal: bool,
    /// Bit 7.
    pub nonpulsatile_signal: bool,
    /// Bit 8.
    pub questionable_pulse: bool,
    /// Bit 9.
    pub signal_analysis_ongoing: bool,
    /// Bit 10.
    pub sensor_interference: bool,
    /// Bit 11.
    pub sensor_unconnected_to_user: bool,
    /// Bit 12.
    pub unknown_sensor_connected: bool,
    /// Bit 13.
    pub sensor_displaced: bool,
    /// Bit 14.
    pub sensor_malfunctioning: bool,
    /// Bit 15.
    pub sensor_disconnected: bool,
}

/// An SpO2 (percent) and pulse rate (per minute) pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpO2Pr {
    /// Oxygen saturation, %.
    pub spo2: Medfloat,
    /// Pulse rate, /min.
    pub pulse_rate: Medfloat,
}

/// A decoded PLX Spot-Check Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlxSpotCheck {
    /// SpO2 and pulse rate.
    pub reading: SpO2Pr,
    /// Device time.
    pub time_stamp: Option<DeviceTime>,
    /// Measurement status.
    pub measurement_status: Option<PlxMeasurementStatus>,
    /// Device and sensor status.
    pub device_status: Option<PlxDeviceStatus>,
    /// Pulse amplitude index, %.
    pub pulse_amplitude_index: Option<Medfloat>,
    /// Flag bit 4: the device's clock is not set, so `time_stamp` means nothing.
    pub device_clock_not_set: bool,
}

/// A decoded PLX Continuous Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlxContinuous {
    /// SpO2PR-Normal.
    pub normal: SpO2Pr,
    /// SpO2PR-Fast.
    pub fast: Option<SpO2Pr>,
    /// SpO2PR-Slow.
    pub slow: Option<SpO2Pr>,
    /// Measurement status.
    pub measurement_status: Option<PlxMeasurementStatus>,
    /// Device and sensor status.
    pub device_status: Option<PlxDeviceStatus>,
    /// Pulse amplitude index, %.
    pub pulse_amplitude_index: Option<Medfloat>,
}

/// Decodes a PLX Spot-Check Measurement (0x2A5E).
///
/// With flag bit 4 (device clock not set) the Timestamp carries no time, so one
/// outside the Date Time ranges is skipped (`time_stamp` is `None`) rather than
/// refusing the reading; with the clock set it is refused.
pub fn decode_spot_check(bytes: &[u8]) -> Result<PlxSpotCheck, DecodeError> {
    let mut r = Reader::new(bytes);
    // Bits 5–7 are reserved and ignored.
    let flags = r.u8("Flags")?;
    let reading = SpO2Pr {
        spo2: r.sfloat("SpO2PR-Spot-Check - SpO2")?,
        pulse_rate: r.sfloat("SpO2PR-Spot-Check - PR")?,
    };
    let device_clock_not_set = flags & S_CLOCK_NOT_SET != 0;
    let time_stamp = if flags & S_TIMESTAMP != 0 {
        read_timestamp(&mut r, device_clock_not_set)?
    } else {
        None
    };
    let (measurement_status, device_status, pulse_amplitude_index) = read_tail(
        &mut r,
        flags & S_MEASUREMENT_STATUS != 0,
        flags & S_DEVICE_STATUS != 0,
        flags & S_PULSE_AMPLITUDE_INDEX != 0,
    )?;
    r.finish()?;
    Ok(PlxSpotCheck {
        reading,
        time_stamp,
        measurement_status,
        device_status,
        pulse_amplitude_index,
        device_clock_not_set,
    })
}

/// Decodes a PLX Continuous Measurement (0x2A5F).
pub fn decode_continuous(bytes: &[u8]) -> Result<PlxContinuous, DecodeError> {
    let mut r = Reader::new(bytes);
    // Bits 5–7 are reserved and ignored.
    let flags = r.u8("Flags")?;
    let normal = SpO2Pr {
        spo2: r.sfloat("SpO2PR-Normal - SpO2")?,
        pulse_rate: r.sfloat("SpO2PR-Normal - PR")?,
    };
    let fast = if flags & C_FAST != 0 {
        Some(SpO2Pr {
            spo2: r.sfloat("SpO2PR-Fast - SpO2")?,
            pulse_rate: r.sfloat("SpO2PR-Fast - PR")?,
        })
    } else {
        None
    };
    let slow = if flags & C_SLOW != 0 {
        Some(SpO2Pr {
            spo2: r.sfloat("SpO2PR-Slow - SpO2")?,
            pulse_rate: r.sfloat("SpO2PR-Slow - PR")?,
        })
    } else {
        None
    };
    let (measurement_status, device_status, pulse_amplitude_index) = read_tail(
        &mut r,
        flags & C_MEASUREMENT_STATUS != 0,
        flags & C_DEVICE_STATUS != 0,
        flags & C_PULSE_AMPLITUDE_INDEX != 0,
    )?;
    r.finish()?;
    Ok(PlxContinuous {
        normal,
        fast,
        slow,
        measurement_status,
        device_status,
        pulse_amplitude_index,
    })
}

/// The three optional fields both characteristics end with.
type Tail = (
    Option<PlxMeasurementStatus>,
    Option<PlxDeviceStatus>,
    Option<Medfloat>,
);

/// Reads Measurement Status, Device and Sensor Status and Pulse Amplitude Index, as
/// present.
fn read_tail(
    r: &mut Reader<'_>,
    measurement_status: bool,
    device_status: bool,
    pulse_amplitude_index: bool,
) -> Result<Tail, DecodeError> {
    let measurement_status = if measurement_status {
        Some(PlxMeasurementStatus::from_bits(
            r.u16("Measurement Status")?,
        ))
    } else {
        None
    };
    let device_status = if device_status {
        Some(PlxDeviceStatus::from_bits(
            r.u24("Device and Sensor Status")?,
        ))
    } else {
        None
    };
    let pulse_amplitude_index = if pulse_amplitude_index {
        Some(r.sfloat("Pulse Amplitude Index")?)
    } else {
        None
    };
    Ok((measurement_status, device_status, pulse_amplitude_index))
}

/// Reads the seven Timestamp bytes. An out-of-range value is refused, unless the
/// device said its clock is not set: then the bytes mean nothing and give `None`.
fn read_timestamp(
    r: &mut Reader<'_>,
    clock_not_set: bool,
) -> Result<Option<DeviceTime>, DecodeError> {
    const FIELD: &str = "Timestamp";
    let at = r.offset();
    let raw = r.take(FIELD, 7)?;
    match DeviceTime::read(&mut Reader::new(raw), FIELD) {
        Ok(t) => Ok(Some(t)),
        Err(e) if clock_not_set && e.problem == DecodeProblem::OutOfRange => Ok(None),
        Err(e) => Err(DecodeError::new(
            FIELD,
            at.saturating_add(e.offset),
            e.problem,
        )),
    }
}

impl PlxMeasurementStatus {
    fn from_bits(raw: u16) -> Self {
        let bit = |n: u32| raw & (1 << n) != 0;
        Self {
            measurement_ongoing: bit(5),
            early_estimated_data: bit(6),
            validated_data: bit(7),
            fully_qualified_data: bit(8),
            data_from_storage: bit(9),
            data_for_demonstration: bit(10),
            data_for_testing: bit(11),
            calibration_ongoing: bit(12),
            measurement_unavailable: bit(13),
            questionable_measurement: bit(14),
            invalid_measurement: bit(15),
        }
    }
}

impl PlxDeviceStatus {
    fn from_bits(raw: u32) -> Self {
        let bit = |n: u32| raw & (1 << n) != 0;
        Self {
            extended_display_update_ongoing: bit(0),
            equipment_malfunction: bit(1),
            signal_processing_irregularity: bit(2),
            inadequate_signal: bit(3),
            poor_signal: bit(4),
            low_perfusion: bit(5),
            erratic_signal: bit(6),
            nonpulsatile_signal: bit(7),
            questionable_pulse: bit(8),
            signal_analysis_ongoing: bit(9),
            sensor_interference: bit(10),
            sensor_unconnected_to_user: bit(11),
            unknown_sensor_connected: bit(12),
            sensor_displaced: bit(13),
            sensor_malfunctioning: bit(14),
            sensor_disconnected: bit(15),
        }
    }
}
