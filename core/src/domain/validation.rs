//! Validation of a reading before it is stored.
//!
//! Checks physiological plausibility (not clinical targets: that is triage), the time
//! (not far in the future, not before home monitoring existed, a real UTC offset) and the
//! note. Every problem is reported per field, typed, with a message that names the field
//! and the allowed range but never echoes the patient's value.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::domain::reading::{Metric, NewReading};
use crate::domain::text::LocalizedText;

/// How far in the future a reading's time may lie (clock skew between devices).
pub const MAX_FUTURE_SKEW: SignedDuration = SignedDuration::from_mins(10);
/// The longest note a patient can attach, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;
/// The largest UTC offset on Earth is ±14 h.
pub const MAX_UTC_OFFSET_SECONDS: i32 = 14 * 3600;

/// The field a validation problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// One of the measured values.
    Value(Metric),
    /// The time of measurement.
    EffectiveAt,
    /// The UTC offset.
    UtcOffset,
    /// The note.
    Note,
    /// The device source.
    Source,
    /// The list of values the device could only bound.
    OffScale,
    /// A glucose meter's context.
    GlucoseContext,
}

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// The value is not a finite number.
    NotANumber,
    /// The value lies outside the plausible range `min..=max` (in the metric's unit).
    OutOfRange {
        /// Smallest plausible value.
        min: f64,
        /// Largest plausible value.
        max: f64,
    },
    /// The diastolic pressure is not below the systolic.
    DiastolicNotBelowSystolic,
    /// The time lies in the future.
    InFuture,
    /// The time lies before 2000-01-01, which no home reading does.
    TooOld,
    /// The UTC offset is beyond ±14 h.
    InvalidOffset,
    /// The note is longer than [`MAX_NOTE_CHARS`].
    TooLong {
        /// Maximum number of characters.
        max: usize,
    },
    /// The note contains control characters.
    ControlCharacters,
    /// A device reading without a device identifier.
    MissingDeviceId,
    /// It names a value or a kind this reading does not have, or a value twice.
    NotOfThisReading,
}

/// One problem with one field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FieldError {
    /// The field.
    pub field: Field,
    /// The problem.
    pub problem: Problem,
}

impl FieldError {
    /// A message for the patient, without the entered value.
    pub fn message(&self) -> LocalizedText {
        let field = match self.field {
            Field::Value(m) => m.label(),
            Field::EffectiveAt => LocalizedText::new("Tidpunkten", "The time"),
            Field::UtcOffset => LocalizedText::new("Tidszonen", "The time zone"),
            Field::Note => LocalizedText::new("Anteckningen", "The note"),
            Field::Source => LocalizedText::new("Mätaren", "The device"),
            Field::OffScale => LocalizedText::new("Mätområdet", "The measuring range"),
            Field::GlucoseContext => LocalizedText::new("Måltidsuppgiften", "The meal context"),
        };
        let unit = match self.field {
            Field::Value(m) => m.unit_label(),
            _ => "",
        };
        let (sv, en) = match self.problem {
            Problem::NotANumber => ("är inte ett tal".to_owned(), "is not a number".to_owned()),
            Problem::OutOfRange { min, max } => (
                format!("måste vara mellan {min} och {max} {unit}"),
                format!("must be between {min} and {max} {unit}"),
            ),
            Problem::DiastolicNotBelowSystolic => (
                "måste vara lägre än det övre trycket".to_owned(),
                "must be lower than the systolic pressure".to_owned(),
            ),
            Problem::InFuture => (
                "ligger i framtiden".to_owned(),
                "lies in the future".to_owned(),
            ),
            Problem::TooOld => (
                "är för långt bakåt i tiden".to_owned(),
                "is too far back".to_owned(),
            ),
            Problem::InvalidOffset => ("är ogiltig".to_owned(), "is invalid".to_owned()),
            Problem::TooLong { max } => (
                format!("får vara högst {max} tecken"),
                format!("may be at most {max} characters"),
            ),
            Problem::ControlCharacters => (
                "innehåller otillåtna tecken".to_owned(),
                "contains invalid characters".to_owned(),
            ),
            Problem::MissingDeviceId => (
                "saknar identitet".to_owned(),
                "has no identifier".to_owned(),
            ),
            Problem::NotOfThisReading => (
                "hör inte till den här mätningen".to_owned(),
                "does not belong to this reading".to_owned(),
            ),
        };
        LocalizedText::new(
            format!("{} {}", field.sv, sv.trim_end()),
            format!("{} {}", field.en, en.trim_end()),
        )
    }
}

/// Every problem found in one reading; never empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| e.message().en).collect();
        write!(f, "invalid reading: {}", parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// The plausible range of a metric in its canonical unit: values outside are typing or
/// device errors, not findings. Wide on purpose; clinical judgement belongs to triage.
pub fn plausible_range(metric: Metric) -> (f64, f64) {
    match metric {
        Metric::Systolic => (50.0, 300.0),
        Metric::Diastolic => (20.0, 200.0),
        Metric::Pulse | Metric::HeartRate => (20.0, 250.0),
        Metric::Weight => (1.0, 400.0),
        Metric::Glucose => (0.5, 50.0),
        Metric::SpO2 => (50.0, 100.0),
        Metric::PeakFlow => (30.0, 1000.0),
        Metric::Temperature => (30.0, 45.0),
        Metric::Steps => (0.0, 150_000.0),
        Metric::CatScore => (0.0, 40.0),
    }
}

/// The earliest time a reading may have.
fn earliest() -> Timestamp {
    Timestamp::from_second(946_684_800).unwrap_or(Timestamp::UNIX_EPOCH) // 2000-01-01T00:00:00Z
}

/// Validates `reading` as of `now`. Returns every problem, not only the first.
pub fn validate(reading: &NewReading, now: Timestamp) -> Result<(), ValidationErrors> {
    let mut errors = Vec::new();
    let mut push = |field, problem| errors.push(FieldError { field, problem });

    for (metric, value) in reading.measurement.values() {
        let field = Field::Value(metric);
        if !value.is_finite() {
            push(field, Problem::NotANumber);
            continue;
        }
        let (min, max) = plausible_range(metric);
        if value < min || value > max {
            push(field, Problem::OutOfRange { min, max });
        }
    }
    if let crate::domain::reading::Measurement::BloodPressure {
        systolic,
        diastolic,
        ..
    } = reading.measurement
    {
        if systolic.is_finite() && diastolic.is_finite() && diastolic >= systolic {
            push(
                Field::Value(Metric::Diastolic),
                Problem::DiastolicNotBelowSystolic,
            );
        }
    }

    let values = reading.measurement.values();
    for (i, o) in reading.off_scale.iter().enumerate() {
        let twice = reading.off_scale[..i].iter().any(|p| p.metric == o.metric);
        if twice || !values.iter().any(|(m, _)| *m == o.metric) {
            push(Field::OffScale, Problem::NotOfThisReading);
            break;
        }
    }
    if let Some(c) = &reading.glucose_context {
        if reading.measurement.kind() != crate::domain::reading::ReadingKind::BloodGlucose {
            push(Field::GlucoseContext, Problem::NotOfThisReading);
        }
        let hba1c = crate::domain::glucose_context::HBA1C_PERCENT_PLAUSIBLE;
        if c.hba1c_percent.is_some_and(|v| !hba1c.contains(&v)) {
            push(
                Field::GlucoseContext,
                Problem::OutOfRange {
                    min: *hba1c.start(),
                    max: *hba1c.end(),
                },
            );
        }
        if c.insulin
            .is_some_and(|i| !(i.amount.is_finite() && (0.0..=10_000.0).contains(&i.amount)))
        {
            push(
                Field::GlucoseContext,
                Problem::OutOfRange {
                    min: 0.0,
                    max: 10_000.0,
                },
            );
        }
    }

    if reading.effective_at > now + MAX_FUTURE_SKEW {
        push(Field::EffectiveAt, Problem::InFuture);
    }
    if reading.effective_at < earliest() {
        push(Field::EffectiveAt, Problem::TooOld);
    }
    if reading.utc_offset_seconds.abs() > MAX_UTC_OFFSET_SECONDS {
        push(Field::UtcOffset, Problem::InvalidOffset);
    }
    if let Some(note) = &reading.note {
        if note.chars().count() > MAX_NOTE_CHARS {
            push(
                Field::Note,
                Problem::TooLong {
                    max: MAX_NOTE_CHARS,
                },
            );
        }
        if note
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            push(Field::Note, Problem::ControlCharacters);
        }
    }
    if let crate::domain::reading::Source::Device { device_id, .. } = &reading.source {
        if device_id.trim().is_empty() {
            push(Field::Source, Problem::MissingDeviceId);
        }
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errors))
    }
}

/// Normalises a note: trims surrounding white space; an empty note becomes none.
pub fn normalize_note(note: Option<String>) -> Option<String> {
    note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use jiff::tz::Offset;
    use proptest::prelude::*;

    use super::*;
    use crate::domain::reading::{Measurement, ReadingKind};

    fn now() -> Timestamp {
        "2026-11-24T08:00:00Z".parse().expect("valid time")
    }

    fn reading(m: Measurement) -> NewReading {
        NewReading::manual(m, now(), Offset::from_hours(1).expect("valid offset"))
    }

    fn bp(s: f64, d: f64) -> NewReading {
        reading(Measurement::BloodPressure {
            systolic: s,
            diastolic: d,
            pulse: None,
        })
    }

    #[test]
    fn a_normal_blood_pressure_is_valid() {
        assert_eq!(validate(&bp(142.0, 91.0), now()), Ok(()));
    }

    #[test]
    fn every_problem_is_reported_per_field() {
        let mut r = bp(400.0, f64::NAN);
        r.effective_at = now() + SignedDuration::from_hours(2);
        r.note = Some("x".repeat(MAX_NOTE_CHARS + 1));
        let errors = validate(&r, now()).expect_err("invalid").0;
        let fields: Vec<Field> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec![
                Field::Value(Metric::Systolic),
                Field::Value(Metric::Diastolic),
                Field::EffectiveAt,
                Field::Note
            ]
        );
        assert_eq!(
            errors[0].problem,
            Problem::OutOfRange {
                min: 50.0,
                max: 300.0
            }
        );
        assert_eq!(errors[1].problem, Problem::NotANumber);
    }

    #[test]
    fn diastolic_must_be_below_systolic() {
        let errors = validate(&bp(120.0, 120.0), now()).expect_err("invalid").0;
        assert_eq!(errors[0].problem, Problem::DiastolicNotBelowSystolic);
    }

    #[test]
    fn small_clock_skew_is_accepted() {
        let mut r = bp(120.0, 80.0);
        r.effective_at = now() + SignedDuration::from_mins(5);
        assert_eq!(validate(&r, now()), Ok(()));
    }

    #[test]
    fn messages_never_contain_the_value() {
        let errors = validate(&bp(287.5, 291.25), now()).expect_err("invalid").0;
        for e in errors {
            let m = e.message();
            assert!(!m.sv.contains("291") && !m.en.contains("291"), "{m:?}");
        }
    }

    #[test]
    fn notes_are_trimmed_and_empty_ones_dropped() {
        assert_eq!(
            normalize_note(Some("  yr i huvudet \n".into())),
            Some("yr i huvudet".into())
        );
        assert_eq!(normalize_note(Some(" \t ".into())), None);
    }

    fn any_measurement() -> impl Strategy<Value = Measurement> {
        let v = -1e6f64..1e6;
        prop_oneof![
            (v.clone(), v.clone(), proptest::option::of(v.clone())).prop_map(|(s, d, p)| {
                Measurement::BloodPressure {
                    systolic: s,
                    diastolic: d,
                    pulse: p,
                }
            }),
            v.clone().prop_map(|bpm| Measurement::HeartRate { bpm }),
            v.clone().prop_map(|kg| Measurement::BodyWeight { kg }),
            v.clone()
                .prop_map(|mmol_per_l| Measurement::BloodGlucose { mmol_per_l }),
            (v.clone(), proptest::option::of(v.clone()))
                .prop_map(|(percent, pulse)| Measurement::OxygenSaturation { percent, pulse }),
            v.clone()
                .prop_map(|l_per_min| Measurement::PeakExpiratoryFlow { l_per_min }),
            v.clone()
                .prop_map(|celsius| Measurement::BodyTemperature { celsius }),
            v.clone().prop_map(|count| Measurement::Steps { count }),
            v.prop_map(|score| Measurement::CatScore { score }),
        ]
    }

    proptest! {
        /// Validation accepts exactly the readings whose every value is in its plausible
        /// range (and, for blood pressure, diastolic below systolic).
        #[test]
        fn validation_matches_the_ranges(m in any_measurement()) {
            let in_range = m.values().iter().all(|(metric, v)| {
                let (lo, hi) = plausible_range(*metric);
                *v >= lo && *v <= hi
            });
            let ordered = match m {
                Measurement::BloodPressure { systolic, diastolic, .. } => diastolic < systolic,
                _ => true,
            };
            prop_assert_eq!(validate(&reading(m), now()).is_ok(), in_range && ordered);
        }

        /// Every error a value produces names a metric of the reading's own kind.
        #[test]
        fn errors_name_the_kinds_metrics(m in any_measurement()) {
            if let Err(errors) = validate(&reading(m), now()) {
                let kind: ReadingKind = m.kind();
                for e in errors.0 {
                    if let Field::Value(metric) = e.field {
                        prop_assert!(kind.metrics().contains(&metric));
                    }
                }
            }
        }

        /// Times within the skew are accepted, beyond it refused.
        #[test]
        fn future_times(secs in -100_000i64..100_000) {
            let mut r = bp(120.0, 80.0);
            r.effective_at = now() + SignedDuration::from_secs(secs);
            let ok = secs <= MAX_FUTURE_SKEW.as_secs();
            prop_assert_eq!(validate(&r, now()).is_ok(), ok);
        }
    }
}
