//! Glucose Measurement (0x2A18) and Glucose Measurement Context (0x2A34).
//!
//! Measurement layout: Flags (`uint8`: bit 0 Time Offset present, bit 1 Glucose
//! Concentration and Type-Sample Location present, bit 2 concentration unit mol/L
//! (else kg/L), bit 3 Sensor Status Annunciation present, bit 4 Context Information
//! follows, bits 5–7 reserved and ignored), Sequence Number (`uint16`), Base Time
//! (Date Time), Time Offset (`sint16`, minutes), Glucose Concentration (SFLOAT),
//! Type-Sample Location (`uint8`: type in the low nibble, location in the high),
//! Sensor Status Annunciation (`uint16`).
//!
//! Context layout: Flags (`uint8`: bit 0 Carbohydrate ID and Carbohydrate present,
//! bit 1 Meal, bit 2 Tester-Health, bit 3 Exercise Duration and Intensity, bit 4
//! Medication ID and Medication, bit 5 medication unit litres (else kilograms),
//! bit 6 HbA1c, bit 7 Extended Flags), Sequence Number (`uint16`), Extended Flags
//! (`uint8`), Carbohydrate ID (`uint8`), Carbohydrate (SFLOAT, kg), Meal (`uint8`),
//! Tester-Health (`uint8`: tester low nibble, health high), Exercise Duration
//! (`uint16`, s, 0xFFFF = overrun), Exercise Intensity (`uint8`, %), Medication ID
//! (`uint8`), Medication (SFLOAT, kg or L), HbA1c (SFLOAT, %).

use jiff::{Span, civil};
use serde::Serialize;

use crate::domain::units::{GlucoseUnit, glucose_to_mmol_per_l};

use super::bytes::Reader;
use super::error::DecodeError;
use super::ieee11073::{Decimal, Medfloat, Special};
use super::time::DeviceTime;

/// Glucose Measurement flag bit 0: Time Offset present.
const M_TIME_OFFSET: u8 = 1 << 0;
/// Flag bit 1: Glucose Concentration and Type-Sample Location present.
const M_CONCENTRATION: u8 = 1 << 1;
/// Flag bit 2: concentration in mol/L (else kg/L).
const M_MOL_PER_L: u8 = 1 << 2;
/// Flag bit 3: Sensor Status Annunciation present.
const M_SENSOR_STATUS: u8 = 1 << 3;
/// Flag bit 4: a Glucose Measurement Context follows.
const M_CONTEXT_FOLLOWS: u8 = 1 << 4;

/// Context flag bit 0: Carbohydrate ID and Carbohydrate present.
const C_CARBOHYDRATE: u8 = 1 << 0;
/// Context flag bit 1: Meal present.
const C_MEAL: u8 = 1 << 1;
/// Context flag bit 2: Tester-Health present.
const C_TESTER_HEALTH: u8 = 1 << 2;
/// Context flag bit 3: Exercise Duration and Exercise Intensity present.
const C_EXERCISE: u8 = 1 << 3;
/// Context flag bit 4: Medication ID and Medication present.
const C_MEDICATION: u8 = 1 << 4;
/// Context flag bit 5: medication in litres (else kilograms).
const C_MEDICATION_LITRES: u8 = 1 << 5;
/// Context flag bit 6: HbA1c present.
const C_HBA1C: u8 = 1 << 6;
/// Context flag bit 7: Extended Flags present.
const C_EXTENDED_FLAGS: u8 = 1 << 7;

/// Exercise Duration value meaning "overrun" (longer than the field holds).
const EXERCISE_OVERRUN: u16 = 0xFFFF;

/// The unit of the concentration field (flag bit 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcentrationUnit {
    /// kg/L (×10⁵ is mg/dL).
    KgPerL,
    /// mol/L (×10³ is mmol/L).
    MolPerL,
}

/// The fluid measured (Type, low nibble).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GlucoseType {
    /// 1.
    CapillaryWholeBlood,
    /// 2.
    CapillaryPlasma,
    /// 3.
    VenousWholeBlood,
    /// 4.
    VenousPlasma,
    /// 5.
    ArterialWholeBlood,
    /// 6.
    ArterialPlasma,
    /// 7.
    UndeterminedWholeBlood,
    /// 8.
    UndeterminedPlasma,
    /// 9: interstitial fluid (ISF).
    InterstitialFluid,
    /// 10: control solution, a meter check, not the patient.
    ControlSolution,
    /// 0 and 11–15.
    Reserved(u8),
}

/// Where the sample came from (Sample Location, high nibble).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleLocation {
    /// 1.
    Finger,
    /// 2: alternate site test (AST).
    AlternateSiteTest,
    /// 3.
    Earlobe,
    /// 4: control solution.
    ControlSolution,
    /// 15: sample location value not available.
    NotAvailable,
    /// 0 and 5–14.
    Reserved(u8),
}

/// The concentration with its fluid and location.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GlucoseConcentration {
    /// The value in `unit`.
    pub value: Medfloat,
    /// kg/L or mol/L.
    pub unit: ConcentrationUnit,
    /// The fluid.
    pub fluid: GlucoseType,
    /// Where the sample came from.
    pub location: SampleLocation,
}

impl GlucoseConcentration {
    /// The concentration in mmol/L (kg/L goes through mg/dL with the core's factor in
    /// [`crate::domain::units`]), or why there is none.
    pub fn mmol_per_l(&self) -> Result<f64, Special> {
        let decimal = match self.value {
            Medfloat::Value(d) => d,
            Medfloat::Special(s) => return Err(s),
        };
        Ok(match self.unit {
            // kg/L × 10⁵ = mg/dL, then the core's one mg/dL → mmol/L factor.
            ConcentrationUnit::KgPerL => {
                glucose_to_mmol_per_l(scaled(decimal, 5), GlucoseUnit::MgPerDl)
            }
            // mol/L × 10³ = mmol/L.
            ConcentrationUnit::MolPerL => scaled(decimal, 3),
        })
    }

    /// True if this was a control-solution check of the meter, not the patient.
    pub fn is_control_solution(&self) -> bool {
        self.fluid == GlucoseType::ControlSolution
            || self.location == SampleLocation::ControlSolution
    }
}

/// The Sensor Status Annunciation bits (12–15 reserved and ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct SensorStatus {
    /// Bit 0.
    pub device_battery_low: bool,
    /// Bit 1.
    pub sensor_malfunction: bool,
    /// Bit 2.
    pub sample_size_insufficient: bool,
    /// Bit 3.
    pub strip_insertion_error: bool,
    /// Bit 4.
    pub strip_type_incorrect: bool,
    /// Bit 5: result higher than the device can process (the value is the limit).
    pub result_too_high: bool,
    /// Bit 6: result lower than the device can process (the value is the limit).
    pub result_too_low: bool,
    /// Bit 7.
    pub temperature_too_high: bool,
    /// Bit 8.
    pub temperature_too_low: bool,
    /// Bit 9: sensor read interrupted because the strip was pulled too soon.
    pub read_interrupted: bool,
    /// Bit 10.
    pub general_device_fault: bool,
    /// Bit 11.
    pub time_fault: bool,
}

/// A decoded Glucose Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GlucoseMeasurement {
    /// The meter's record number; with the base time it identifies the record.
    pub sequence_number: u16,
    /// Device time of the record.
    pub base_time: DeviceTime,
    /// Minutes to add to the base time (the patient changed the meter's clock).
    pub time_offset_minutes: Option<i16>,
    /// The concentration, if the flags announce one.
    pub concentration: Option<GlucoseConcentration>,
    /// Sensor status, if the flags announce it.
    pub sensor_status: Option<SensorStatus>,
    /// Flag bit 4: a Glucose Measurement Context with this sequence number follows.
    pub context_follows: bool,
}

impl GlucoseMeasurement {
    /// The wall-clock time of the record: base time plus time offset, if the base
    /// date is known.
    pub fn time(&self) -> Option<civil::DateTime> {
        let base = self.base_time.civil()?;
        match self.time_offset_minutes {
            None | Some(0) => Some(base),
            Some(minutes) => {
                let span = Span::new().try_minutes(i64::from(minutes)).ok()?;
                base.checked_add(span).ok()
            }
        }
    }
}

/// Carbohydrate ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CarbohydrateId {
    /// 1.
    Breakfast,
    /// 2.
    Lunch,
    /// 3.
    Dinner,
    /// 4.
    Snack,
    /// 5.
    Drink,
    /// 6.
    Supper,
    /// 7.
    Brunch,
    /// 0 and 8–255.
    Reserved(u8),
}

/// Carbohydrate intake.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Carbohydrate {
    /// Which meal.
    pub id: CarbohydrateId,
    /// Amount in kilograms.
    pub kilograms: Medfloat,
}

/// Meal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Meal {
    /// 1: before a meal.
    Preprandial,
    /// 2: after a meal.
    Postprandial,
    /// 3.
    Fasting,
    /// 4: casual (snacks, drinks, …).
    Casual,
    /// 5.
    Bedtime,
    /// 0 and 6–255.
    Reserved(u8),
}

/// Tester (low nibble of Tester-Health).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tester {
    /// 1.
    SelfTest,
    /// 2.
    HealthCareProfessional,
    /// 3.
    LabTest,
    /// 15: tester value not available.
    NotAvailable,
    /// 0 and 4–14.
    Reserved(u8),
}

/// Health (high nibble of Tester-Health).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// 1.
    MinorHealthIssues,
    /// 2.
    MajorHealthIssues,
    /// 3.
    DuringMenses,
    /// 4.
    UnderStress,
    /// 5.
    NoHealthIssues,
    /// 15: health value not available.
    NotAvailable,
    /// 0 and 6–14.
    Reserved(u8),
}

/// Exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Exercise {
    /// Duration in seconds; `None` for 0xFFFF (overrun).
    pub duration_seconds: Option<u16>,
    /// Intensity in percent.
    pub intensity_percent: u8,
}

/// Medication ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MedicationId {
    /// 1.
    RapidActingInsulin,
    /// 2.
    ShortActingInsulin,
    /// 3.
    IntermediateActingInsulin,
    /// 4.
    LongActingInsulin,
    /// 5.
    PreMixedInsulin,
    /// 0 and 6–255.
    Reserved(u8),
}

/// The unit of the medication amount (context flag bit 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MedicationUnit {
    /// Kilograms.
    Kilograms,
    /// Litres.
    Litres,
}

/// Medication.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Medication {
    /// Which medication.
    pub id: MedicationId,
    /// Amount in `unit`.
    pub amount: Medfloat,
    /// kg or L.
    pub unit: MedicationUnit,
}

/// A decoded Glucose Measurement Context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GlucoseContext {
    /// The sequence number of the measurement this context belongs to.
    pub sequence_number: u16,
    /// Extended flags (all reserved today), if present.
    pub extended_flags: Option<u8>,
    /// Carbohydrate intake.
    pub carbohydrate: Option<Carbohydrate>,
    /// Meal relation.
    pub meal: Option<Meal>,
    /// Tester and health.
    pub tester_health: Option<(Tester, Health)>,
    /// Exercise.
    pub exercise: Option<Exercise>,
    /// Medication.
    pub medication: Option<Medication>,
    /// HbA1c in percent.
    pub hba1c_percent: Option<Medfloat>,
}

/// Decodes a Glucose Measurement (0x2A18).
pub fn decode_measurement(bytes: &[u8]) -> Result<GlucoseMeasurement, DecodeError> {
    let mut r = Reader::new(bytes);
    // Bits 5–7 are reserved and ignored.
    let flags = r.u8("Flags")?;
    let sequence_number = r.u16("Sequence Number")?;
    let base_time = DeviceTime::read(&mut r, "Base Time")?;
    let time_offset_minutes = r.optional(flags & M_TIME_OFFSET != 0, |r| r.i16("Time Offset"))?;
    let concentration = if flags & M_CONCENTRATION != 0 {
        let value = r.sfloat("Glucose Concentration")?;
        let type_sample_location = r.u8("Type-Sample Location")?;
        Some(GlucoseConcentration {
            value,
            unit: if flags & M_MOL_PER_L != 0 {
                ConcentrationUnit::MolPerL
            } else {
                ConcentrationUnit::KgPerL
            },
            fluid: GlucoseType::from_nibble(type_sample_location & 0x0F),
            location: SampleLocation::from_nibble(type_sample_location >> 4),
        })
    } else {
        None
    };
    let sensor_status = if flags & M_SENSOR_STATUS != 0 {
        Some(SensorStatus::from_bits(
            r.u16("Sensor Status Annunciation")?,
        ))
    } else {
        None
    };
    r.finish()?;
    Ok(GlucoseMeasurement {
        sequence_number,
        base_time,
        time_offset_minutes,
        concentration,
        sensor_status,
        context_follows: flags & M_CONTEXT_FOLLOWS != 0,
    })
}

/// Decodes a Glucose Measurement Context (0x2A34).
pub fn decode_context(bytes: &[u8]) -> Result<GlucoseContext, DecodeError> {
    let mut r = Reader::new(bytes);
    let flags = r.u8("Flags")?;
    let sequence_number = r.u16("Sequence Number")?;
    let present = |bit: u8| flags & bit != 0;
    let extended_flags = if present(C_EXTENDED_FLAGS) {
        Some(r.u8("Extended Flags")?)
    } else {
        None
    };
    let carbohydrate = if present(C_CARBOHYDRATE) {
        let id = CarbohydrateId::from_raw(r.u8("Carbohydrate ID")?);
        Some(Carbohydrate {
            id,
            kilograms: r.sfloat("Carbohydrate")?,
        })
    } else {
        None
    };
    let meal = if present(C_MEAL) {
        Some(Meal::from_raw(r.u8("Meal")?))
    } else {
        None
    };
    let tester_health = if present(C_TESTER_HEALTH) {
        let raw = r.u8("Tester-Health")?;
        Some((
            Tester::from_nibble(raw & 0x0F),
            Health::from_nibble(raw >> 4),
        ))
    } else {
        None
    };
    let exercise = if present(C_EXERCISE) {
        let duration = r.u16("Exercise Duration")?;
        Some(Exercise {
            duration_seconds: (duration != EXERCISE_OVERRUN).then_some(duration),
            intensity_percent: r.u8("Exercise Intensity")?,
        })
    } else {
        None
    };
    let medication = if present(C_MEDICATION) {
        let id = MedicationId::from_raw(r.u8("Medication ID")?);
        Some(Medication {
            id,
            amount: r.sfloat("Medication")?,
            unit: if present(C_MEDICATION_LITRES) {
                MedicationUnit::Litres
            } else {
                MedicationUnit::Kilograms
            },
        })
    } else {
        None
    };
    let hba1c_percent = if present(C_HBA1C) {
        Some(r.sfloat("HbA1c")?)
    } else {
        None
    };
    r.finish()?;
    Ok(GlucoseContext {
        sequence_number,
        extended_flags,
        carbohydrate,
        meal,
        tester_health,
        exercise,
        medication,
        hba1c_percent,
    })
}

/// `decimal × 10^shift` as the nearest `f64`, shifting the exponent so the decimal
/// rounding happens once (5.6 mmol/L stays 5.6, not 5.6000000000000005).
fn scaled(decimal: Decimal, shift: i8) -> f64 {
    match decimal.exponent.checked_add(shift) {
        Some(exponent) => Decimal {
            mantissa: decimal.mantissa,
            exponent,
        }
        .to_f64(),
        None => decimal.to_f64() * 10f64.powi(i32::from(shift)),
    }
}

impl GlucoseType {
    fn from_nibble(n: u8) -> Self {
        match n {
            1 => Self::CapillaryWholeBlood,
            2 => Self::CapillaryPlasma,
            3 => Self::VenousWholeBlood,
            4 => Self::VenousPlasma,
            5 => Self::ArterialWholeBlood,
            6 => Self::ArterialPlasma,
            7 => Self::UndeterminedWholeBlood,
            8 => Self::UndeterminedPlasma,
            9 => Self::InterstitialFluid,
            10 => Self::ControlSolution,
            other => Self::Reserved(other),
        }
    }
}

impl SampleLocation {
    fn from_nibble(n: u8) -> Self {
        match n {
            1 => Self::Finger,
            2 => Self::AlternateSiteTest,
            3 => Self::Earlobe,
            4 => Self::ControlSolution,
            15 => Self::NotAvailable,
            other => Self::Reserved(other),
        }
    }
}

impl SensorStatus {
    fn from_bits(raw: u16) -> Self {
        let bit = |n: u32| raw & (1 << n) != 0;
        Self {
            device_battery_low: bit(0),
            sensor_malfunction: bit(1),
            sample_size_insufficient: bit(2),
            strip_insertion_error: bit(3),
            strip_type_incorrect: bit(4),
            result_too_high: bit(5),
            result_too_low: bit(6),
            temperature_too_high: bit(7),
            temperature_too_low: bit(8),
            read_interrupted: bit(9),
            general_device_fault: bit(10),
            time_fault: bit(11),
        }
    }
}

impl CarbohydrateId {
    fn from_raw(raw: u8) -> Self {
        match raw {
            1 => Self::Breakfast,
            2 => Self::Lunch,
            3 => Self::Dinner,
            4 => Self::Snack,
            5 => Self::Drink,
            6 => Self::Supper,
            7 => Self::Brunch,
            other => Self::Reserved(other),
        }
    }
}

impl Meal {
    fn from_raw(raw: u8) -> Self {
        match raw {
            1 => Self::Preprandial,
            2 => Self::Postprandial,
            3 => Self::Fasting,
            4 => Self::Casual,
            5 => Self::Bedtime,
            other => Self::Reserved(other),
        }
    }
}

impl Tester {
    fn from_nibble(n: u8) -> Self {
        match n {
            1 => Self::SelfTest,
            2 => Self::HealthCareProfessional,
            3 => Self::LabTest,
            15 => Self::NotAvailable,
            other => Self::Reserved(other),
        }
    }
}

impl Health {
    fn from_nibble(n: u8) -> Self {
        match n {
            1 => Self::MinorHealthIssues,
            2 => Self::MajorHealthIssues,
            3 => Self::DuringMenses,
            4 => Self::UnderStress,
            5 => Self::NoHealthIssues,
            15 => Self::NotAvailable,
            other => Self::Reserved(other),
        }
    }
}

impl MedicationId {
    fn from_raw(raw: u8) -> Self {
        match raw {
            1 => Self::RapidActingInsulin,
            2 => Self::ShortActingInsulin,
            3 => Self::IntermediateActingInsulin,
            4 => Self::LongActingInsulin,
            5 => Self::PreMixedInsulin,
            other => Self::Reserved(other),
        }
    }
}
