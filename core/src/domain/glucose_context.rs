//! Glucose context: what a meter knew about a glucose reading besides the value.
//!
//! A Bluetooth glucose meter may send a Glucose Measurement Context (0x2A34) with its
//! measurement: the relation to a meal, who tested, the patient's health, the insulin
//! taken and an HbA1c. A fasting 7.5 mmol/L means something else to a diabetes nurse
//! than the same value two hours after dinner, so the context is kept on the reading
//! and sent with it (codes in [`crate::sync::fhir::observation`] and ADR 0013).
//! Pure data; the device decoders build it in [`crate::device::capture`].

use serde::{Deserialize, Serialize};

use crate::domain::text::LocalizedText;

/// When the sample was taken relative to a meal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MealRelation {
    /// Before a meal (preprandial).
    BeforeMeal,
    /// After a meal (postprandial).
    AfterMeal,
    /// Fasting.
    Fasting,
    /// Casual: snacks, drinks, no clear relation to a meal.
    Casual,
    /// At bedtime.
    Bedtime,
}

impl MealRelation {
    /// The relation for patients.
    pub fn label(self) -> LocalizedText {
        let (sv, en) = match self {
            MealRelation::BeforeMeal => ("före måltid", "before a meal"),
            MealRelation::AfterMeal => ("efter måltid", "after a meal"),
            MealRelation::Fasting => ("fastande", "fasting"),
            MealRelation::Casual => ("utan måltid", "casual"),
            MealRelation::Bedtime => ("vid sänggåendet", "at bedtime"),
        };
        LocalizedText::new(sv, en)
    }
}

/// Who took the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tester {
    /// The patient.
    SelfTest,
    /// A health care professional.
    CareProfessional,
    /// A laboratory.
    Laboratory,
}

/// The patient's health when the sample was taken, as entered on the meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// Minor health issues (a cold).
    MinorIssues,
    /// Major health issues (a fever, an infection).
    MajorIssues,
    /// During menses.
    DuringMenses,
    /// Under stress.
    UnderStress,
    /// No health issues.
    NoIssues,
}

/// The kind of insulin taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InsulinKind {
    /// Rapid-acting insulin.
    RapidActing,
    /// Short-acting insulin.
    ShortActing,
    /// Intermediate-acting insulin.
    IntermediateActing,
    /// Long-acting insulin.
    LongActing,
    /// Pre-mixed insulin.
    PreMixed,
}

/// The unit of an insulin amount as the meter sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountUnit {
    /// Milligrams (the meter sent kilograms).
    Milligrams,
    /// Millilitres (the meter sent litres).
    Millilitres,
}

/// Insulin the patient took, as entered on the meter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Insulin {
    /// Which insulin.
    pub kind: InsulinKind,
    /// How much, in `unit`.
    pub amount: f64,
    /// mg or mL.
    pub unit: AmountUnit,
}

/// The HbA1c values (percent, DCCT) a meter's context may carry: outside this range the
/// value is not a measurement (validation refuses it; device capture leaves it out).
pub const HBA1C_PERCENT_PLAUSIBLE: std::ops::RangeInclusive<f64> = 2.0..=25.0;

/// The context of a glucose reading. Every part is optional: meters send what the
/// patient entered.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct GlucoseContext {
    /// Relation to a meal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meal: Option<MealRelation>,
    /// Who tested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tester: Option<Tester>,
    /// The patient's health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthState>,
    /// Insulin taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insulin: Option<Insulin>,
    /// HbA1c in percent (DCCT), if the meter measured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hba1c_percent: Option<f64>,
}

impl GlucoseContext {
    /// True if nothing is known.
    pub fn is_empty(&self) -> bool {
        *self == GlucoseContext::default()
    }
}
