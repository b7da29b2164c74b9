//! Temperature Measurement (0x2A1C).
//!
//! Layout: Flags (`uint8`: bit 0 Fahrenheit, bit 1 Time Stamp present, bit 2
//! Temperature Type present, bits 3–7 reserved and ignored), Temperature Measurement
//! Value (32-bit FLOAT), Time Stamp (Date Time), Temperature Type (`uint8`).

use serde::Serialize;

pub use crate::domain::units::TemperatureUnit;
use crate::domain::units::temperature_to_celsius;

use super::bytes::Reader;
use super::error::DecodeError;
use super::ieee11073::{Medfloat, Special};
use super::time::DeviceTime;

/// Where the temperature was taken (Temperature Type, 0x2A1D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemperatureType {
    /// 1.
    Armpit,
    /// 2: body (general).
    Body,
    /// 3: ear (usually earlobe).
    Ear,
    /// 4.
    Finger,
    /// 5.
    GastrointestinalTract,
    /// 6.
    Mouth,
    /// 7.
    Rectum,
    /// 8.
    Toe,
    /// 9: tympanum (ear drum).
    Tympanum,
    /// 0 and 10–255: reserved.
    Reserved(u8),
}

/// A decoded Temperature Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemperatureMeasurement {
    /// The unit of `value`.
    pub unit: TemperatureUnit,
    /// The temperature.
    pub value: Medfloat,
    /// Device time.
    pub time_stamp: Option<DeviceTime>,
    /// Where it was taken.
    pub temperature_type: Option<TemperatureType>,
}

impl TemperatureMeasurement {
    /// The temperature in °C, or why there is none.
    pub fn celsius(&self) -> Result<f64, Special> {
        Ok(temperature_to_celsius(self.value.value()?, self.unit))
    }
}

/// Decodes a Temperature Measurement (0x2A1C).
pub fn decode(bytes: &[u8]) -> Result<TemperatureMeasurement, DecodeError> {
    let mut r = Reader::new(bytes);
    // Bits 3–7 are reserved for future use: receivers ignore them.
    let flags = r.u8("Flags")?;
    let unit = if flags & FLAG_FAHRENHEIT != 0 {
        TemperatureUnit::Fahrenheit
    } else {
        TemperatureUnit::Celsius
    };
    let value = r.float32("Temperature Measurement Value")?;
    let time_stamp = r.optional(flags & FLAG_TIME_STAMP != 0, |r| {
        DeviceTime::read(r, "Time Stamp")
    })?;
    let temperature_type = r.optional(flags & FLAG_TEMPERATURE_TYPE != 0, |r| {
        Ok(TemperatureType::from_raw(r.u8("Temperature Type")?))
    })?;
    r.finish()?;

    Ok(TemperatureMeasurement {
        unit,
        value,
        time_stamp,
        temperature_type,
    })
}

/// Flags bit 0: Fahrenheit, else Celsius.
const FLAG_FAHRENHEIT: u8 = 1 << 0;
/// Flags bit 1: Time Stamp present.
const FLAG_TIME_STAMP: u8 = 1 << 1;
/// Flags bit 2: Temperature Type present.
const FLAG_TEMPERATURE_TYPE: u8 = 1 << 2;

impl TemperatureType {
    /// The Temperature Type enumeration; 0 and 10–255 are reserved.
    fn from_raw(raw: u8) -> Self {
        match raw {
            1 => TemperatureType::Armpit,
            2 => TemperatureType::Body,
            3 => TemperatureType::Ear,
            4 => TemperatureType::Finger,
            5 => TemperatureType::GastrointestinalTract,
            6 => TemperatureType::Mouth,
            7 => TemperatureType::Rectum,
            8 => TemperatureType::Toe,
            9 => TemperatureType::Tympanum,
            other => TemperatureType::Reserved(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_panics_on_short_or_odd_payloads() {
        for flags in 0..=u8::MAX {
            for len in 0..16 {
                let bytes: Vec<u8> = std::iter::once(flags)
                    .chain(std::iter::repeat(0xFF))
                    .take(len)
                    .collect();
                let _ = decode(&bytes);
            }
        }
    }
}
