//! Weight Measurement (0x2A9D).
//!
//! Layout: Flags (`uint8`: bit 0 imperial units, bit 1 Time Stamp present, bit 2
//! User ID present, bit 3 BMI and Height present, bits 4–7 reserved and ignored),
//! Weight (`uint16`: 0.005 kg or 0.01 lb; 0xFFFF = measurement unsuccessful), Time
//! Stamp (Date Time), User ID (`uint8`, 0xFF unknown), BMI (`uint16`, 0.1 kg/m²),
//! Height (`uint16`: 0.001 m or 0.1 in).

use serde::Serialize;

use crate::domain::units::{WeightUnit, weight_to_kg};

use super::bytes::Reader;
use super::error::DecodeError;
use super::time::DeviceTime;

/// The unit system of the weight and height fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightUnits {
    /// Kilograms and metres.
    Si,
    /// Pounds and inches.
    Imperial,
}

/// A decoded Weight Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightMeasurement {
    /// The unit system of `weight` and `height`.
    pub units: WeightUnits,
    /// The weight in kg or lb; `None` when the scale reported "measurement
    /// unsuccessful" (0xFFFF).
    pub weight: Option<f64>,
    /// Device time.
    pub time_stamp: Option<DeviceTime>,
    /// Which of the scale's users (0xFF = unknown).
    pub user_id: Option<u8>,
    /// Body mass index in kg/m², when the flags announce BMI and height.
    pub bmi: Option<f64>,
    /// Height in m or in, when the flags announce BMI and height.
    pub height: Option<f64>,
}

impl WeightMeasurement {
    /// The weight in kg, if the measurement succeeded.
    pub fn weight_kg(&self) -> Option<f64> {
        let unit = match self.units {
            WeightUnits::Si => WeightUnit::Kg,
            WeightUnits::Imperial => WeightUnit::Lb,
        };
        Some(weight_to_kg(self.weight?, unit))
    }
}

/// Decodes a Weight Measurement (0x2A9D).
pub fn decode(bytes: &[u8]) -> Result<WeightMeasurement, DecodeError> {
    let mut r = Reader::new(bytes);
    // Bits 4–7 are reserved for future use: receivers ignore them.
    let flags = r.u8("Flags")?;
    let units = if flags & FLAG_IMPERIAL != 0 {
        WeightUnits::Imperial
    } else {
        WeightUnits::Si
    };
    let weight_raw = r.u16("Weight")?;
    let weight = (weight_raw != MEASUREMENT_UNSUCCESSFUL).then(|| match units {
        // 0.005 kg: raw / 200 is one correctly rounded division (14001 → 70.005).
        WeightUnits::Si => f64::from(weight_raw) / 200.0,
        // 0.01 lb.
        WeightUnits::Imperial => f64::from(weight_raw) / 100.0,
    });

    let time_stamp = r.optional(flags & FLAG_TIME_STAMP != 0, |r| {
        DeviceTime::read(r, "Time Stamp")
    })?;
    let user_id = r.optional(flags & FLAG_USER_ID != 0, |r| r.u8("User ID"))?;
    let (bmi, height) = if flags & FLAG_BMI_AND_HEIGHT != 0 {
        // 0.1 kg/m².
        let bmi = f64::from(r.u16("BMI")?) / 10.0;
        let height_raw = f64::from(r.u16("Height")?);
        let height = match units {
            // 0.001 m.
            WeightUnits::Si => height_raw / 1000.0,
            // 0.1 in.
            WeightUnits::Imperial => height_raw / 10.0,
        };
        (Some(bmi), Some(height))
    } else {
        (None, None)
    };
    r.finish()?;

    Ok(WeightMeasurement {
        units,
        weight,
        time_stamp,
        user_id,
        bmi,
        height,
    })
}

/// The Weight value a scale sends when the measurement did not succeed.
const MEASUREMENT_UNSUCCESSFUL: u16 = 0xFFFF;
/// Flags bit 0: imperial units (lb, in), else SI (kg, m).
const FLAG_IMPERIAL: u8 = 1 << 0;
/// Flags bit 1: Time Stamp present.
const FLAG_TIME_STAMP: u8 = 1 << 1;
/// Flags bit 2: User ID present.
const FLAG_USER_ID: u8 = 1 << 2;
/// Flags bit 3: BMI and Height present.
const FLAG_BMI_AND_HEIGHT: u8 = 1 << 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_are_one_rounding_away() {
        let si = decode(&[0x00, 0x51, 0x36]).expect("decodes"); // 13905 × 0.005
        assert_eq!(si.weight, Some(69.525));
        let lb = decode(&[0x01, 0x48, 0x3C]).expect("decodes"); // 15432 × 0.01
        assert_eq!(lb.weight, Some(154.32));
        assert_eq!(decode(&[0x00, 0xFF, 0xFF]).expect("decodes").weight, None);
    }

    #[test]
    fn never_panics_on_short_or_odd_payloads() {
        for flags in 0..=u8::MAX {
            for len in 0..20 {
                let bytes: Vec<u8> = std::iter::once(flags)
                    .chain(std::iter::repeat(0xFF))
                    .take(len)
                    .collect();
                let _ = decode(&bytes);
            }
        }
    }
}
