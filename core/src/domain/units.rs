//! Units of measure and the conversions between them.
//!
//! The core stores every value in one canonical UCUM unit per metric (mmol/L for glucose,
//! kg for weight, mm[Hg] for pressure, Cel for temperature). Values entered or sent by a
//! device in another unit are converted here, once, at capture. Pure functions, no I/O.

use serde::{Deserialize, Serialize};

/// Milligrams per decilitre in one millimole per litre of glucose.
///
/// Glucose C6H12O6 has a molar mass of 180.156 g/mol, so 1 mmol/L = 18.0156 mg/dL.
pub const GLUCOSE_MG_PER_DL_PER_MMOL_PER_L: f64 = 18.0156;

/// Kilograms in one international avoirdupois pound (exact by definition).
pub const KG_PER_LB: f64 = 0.453_592_37;

/// Millimetres of mercury in one kilopascal (1 mmHg = 133.322387415 Pa).
pub const MMHG_PER_KPA: f64 = 1000.0 / 133.322_387_415;

/// The unit a glucose value was entered or measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GlucoseUnit {
    /// Millimoles per litre, the Swedish clinical unit (UCUM `mmol/L`).
    MmolPerL,
    /// Milligrams per decilitre, used by some imported meters (UCUM `mg/dL`).
    MgPerDl,
}

/// The unit a weight was entered or measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WeightUnit {
    /// Kilograms (UCUM `kg`).
    Kg,
    /// Pounds (UCUM `[lb_av]`).
    Lb,
}

/// The unit a temperature was entered or measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TemperatureUnit {
    /// Degrees Celsius (UCUM `Cel`).
    Celsius,
    /// Degrees Fahrenheit (UCUM `[degF]`).
    Fahrenheit,
}

/// The unit a blood pressure was measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PressureUnit {
    /// Millimetres of mercury (UCUM `mm[Hg]`).
    MmHg,
    /// Kilopascals (UCUM `kPa`), sent by some Bluetooth cuffs.
    KPa,
}

/// Converts a glucose concentration to mmol/L.
pub fn glucose_to_mmol_per_l(value: f64, unit: GlucoseUnit) -> f64 {
    match unit {
        GlucoseUnit::MmolPerL => value,
        GlucoseUnit::MgPerDl => value / GLUCOSE_MG_PER_DL_PER_MMOL_PER_L,
    }
}

/// Converts a glucose concentration in mmol/L to `unit`.
pub fn glucose_from_mmol_per_l(mmol_per_l: f64, unit: GlucoseUnit) -> f64 {
    match unit {
        GlucoseUnit::MmolPerL => mmol_per_l,
        GlucoseUnit::MgPerDl => mmol_per_l * GLUCOSE_MG_PER_DL_PER_MMOL_PER_L,
    }
}

/// Converts a weight to kilograms.
pub fn weight_to_kg(value: f64, unit: WeightUnit) -> f64 {
    match unit {
        WeightUnit::Kg => value,
        WeightUnit::Lb => value * KG_PER_LB,
    }
}

/// Converts a temperature to degrees Celsius.
pub fn temperature_to_celsius(value: f64, unit: TemperatureUnit) -> f64 {
    match unit {
        TemperatureUnit::Celsius => value,
        TemperatureUnit::Fahrenheit => (value - 32.0) * 5.0 / 9.0,
    }
}

/// Converts a pressure to millimetres of mercury.
pub fn pressure_to_mmhg(value: f64, unit: PressureUnit) -> f64 {
    match unit {
        PressureUnit::MmHg => value,
        PressureUnit::KPa => value * MMHG_PER_KPA,
    }
}

/// Rounds `value` to `decimals` decimal places, half away from zero.
pub fn round_to(value: f64, decimals: u32) -> f64 {
    let factor = 10f64.powi(decimals as i32);
    (value * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn known_glucose_values_convert() {
        // 100 mg/dL is the textbook 5.55 mmol/L; 70 mg/dL the 3.9 mmol/L hypoglycaemia limit.
        assert_eq!(
            round_to(glucose_to_mmol_per_l(100.0, GlucoseUnit::MgPerDl), 2),
            5.55
        );
        assert_eq!(
            round_to(glucose_to_mmol_per_l(70.0, GlucoseUnit::MgPerDl), 1),
            3.9
        );
        assert_eq!(glucose_to_mmol_per_l(6.1, GlucoseUnit::MmolPerL), 6.1);
    }

    #[test]
    fn known_other_values_convert() {
        assert_eq!(round_to(weight_to_kg(200.0, WeightUnit::Lb), 2), 90.72);
        assert_eq!(
            round_to(temperature_to_celsius(98.6, TemperatureUnit::Fahrenheit), 1),
            37.0
        );
        assert_eq!(
            round_to(pressure_to_mmhg(16.0, PressureUnit::KPa), 0),
            120.0
        );
    }

    proptest! {
        #[test]
        fn glucose_round_trips(mmol in 0.5f64..60.0) {
            let mg = glucose_from_mmol_per_l(mmol, GlucoseUnit::MgPerDl);
            let back = glucose_to_mmol_per_l(mg, GlucoseUnit::MgPerDl);
            prop_assert!((back - mmol).abs() < 1e-9);
        }

        #[test]
        fn glucose_conversion_is_monotonic(a in 1.0f64..1000.0, b in 1.0f64..1000.0) {
            let (ca, cb) = (
                glucose_to_mmol_per_l(a, GlucoseUnit::MgPerDl),
                glucose_to_mmol_per_l(b, GlucoseUnit::MgPerDl),
            );
            prop_assert_eq!(a < b, ca < cb);
        }

        #[test]
        fn fahrenheit_and_pounds_are_monotonic(a in -100.0f64..300.0, b in -100.0f64..300.0) {
            prop_assert_eq!(
                a < b,
                temperature_to_celsius(a, TemperatureUnit::Fahrenheit)
                    < temperature_to_celsius(b, TemperatureUnit::Fahrenheit)
            );
            prop_assert_eq!(a < b, weight_to_kg(a, WeightUnit::Lb) < weight_to_kg(b, WeightUnit::Lb));
        }

        #[test]
        fn rounding_stays_within_half_a_step(v in -1000.0f64..1000.0, d in 0u32..3) {
            let step = 10f64.powi(-(d as i32));
            prop_assert!((round_to(v, d) - v).abs() <= step / 2.0 + 1e-9);
        }
    }
}
