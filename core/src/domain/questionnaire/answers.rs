//! Answers: what the patient entered, keyed by item `linkId`, and how values compare.
//!
//! Values are kept as the shell hands them over. Dates and date-times stay strings (the
//! FHIR forms `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm:ss+zz:zz`) so that
//! an unparseable one is a validation issue rather than a conversion failure in the
//! shell; integers are `i64` so that one beyond FHIR's 32-bit range is reported too.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A code with its code system, as FHIR `Coding`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Coding {
    /// Code system URI.
    pub system: Option<String>,
    /// The code.
    pub code: Option<String>,
    /// Human-readable display.
    pub display: Option<String>,
}

impl Coding {
    /// A coding with system, code and display.
    pub fn new(system: &str, code: &str, display: &str) -> Self {
        Self {
            system: Some(system.to_owned()),
            code: Some(code.to_owned()),
            display: Some(display.to_owned()),
        }
    }

    /// True if `self` (an answer) matches `wanted` (an option or a condition): same code,
    /// and the same system when `wanted` names one. Display never matters.
    pub fn matches(&self, wanted: &Coding) -> bool {
        self.code.is_some()
            && self.code == wanted.code
            && (wanted.system.is_none() || self.system == wanted.system)
    }

    /// The FHIR JSON form, without absent elements.
    pub(crate) fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (key, value) in [
            ("system", &self.system),
            ("code", &self.code),
            ("display", &self.display),
        ] {
            if let Some(v) = value {
                map.insert(key.to_owned(), Value::String(v.clone()));
            }
        }
        Value::Object(map)
    }
}

/// One answer value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum AnswerValue {
    /// Yes or no.
    Boolean(bool),
    /// A whole number (FHIR allows 32 bits; larger values are a validation issue).
    Integer(i64),
    /// A decimal number.
    Decimal(f64),
    /// Free text (`string`, `text`, or the free-text answer of an `open-choice`).
    String(String),
    /// A FHIR date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    Date(String),
    /// A FHIR dateTime, with a UTC offset when it has a time.
    DateTime(String),
    /// A chosen code.
    Coding(Coding),
}

impl AnswerValue {
    /// The FHIR type suffix of `value[x]`/`answer[x]` for this value, e.g. `Integer`.
    pub fn fhir_type(&self) -> &'static str {
        match self {
            AnswerValue::Boolean(_) => "Boolean",
            AnswerValue::Integer(_) => "Integer",
            AnswerValue::Decimal(_) => "Decimal",
            AnswerValue::String(_) => "String",
            AnswerValue::Date(_) => "Date",
            AnswerValue::DateTime(_) => "DateTime",
            AnswerValue::Coding(_) => "Coding",
        }
    }

    /// The JSON value of `value[x]`. A non-finite decimal (which validation rejects)
    /// becomes `null`.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            AnswerValue::Boolean(b) => json!(b),
            AnswerValue::Integer(i) => json!(i),
            AnswerValue::Decimal(d) => serde_json::Number::from_f64(*d)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            AnswerValue::String(s) | AnswerValue::Date(s) | AnswerValue::DateTime(s) => {
                json!(s)
            }
            AnswerValue::Coding(c) => c.to_json(),
        }
    }

    /// True if the two values are equal in the FHIR sense: numbers by value across
    /// integer and decimal, codings by [`Coding::matches`] (`wanted` being `other`).
    pub(crate) fn equals(&self, other: &AnswerValue) -> bool {
        match (self, other) {
            (AnswerValue::Coding(a), AnswerValue::Coding(b)) => a.matches(b),
            (AnswerValue::Boolean(a), AnswerValue::Boolean(b)) => a == b,
            (AnswerValue::String(a), AnswerValue::String(b)) => a == b,
            (AnswerValue::Date(a), AnswerValue::Date(b)) => match (full_date(a), full_date(b)) {
                (Some(x), Some(y)) => x == y,
                _ => a == b,
            },
            (AnswerValue::DateTime(a), AnswerValue::DateTime(b)) => {
                match (timestamp(a), timestamp(b)) {
                    (Some(x), Some(y)) => x == y,
                    _ => a == b,
                }
            }
            _ => self.order(other) == Some(Ordering::Equal),
        }
    }

    /// The order of two values where FHIR defines one: numbers (integer and decimal
    /// mixed), full dates, date-times with a time. `None` for anything else.
    pub(crate) fn order(&self, other: &AnswerValue) -> Option<Ordering> {
        match (self, other) {
            (AnswerValue::Integer(a), AnswerValue::Integer(b)) => Some(a.cmp(b)),
            (a, b) if a.number().is_some() && b.number().is_some() => {
                a.number()?.partial_cmp(&b.number()?)
            }
            (AnswerValue::Date(a), AnswerValue::Date(b)) => Some(full_date(a)?.cmp(&full_date(b)?)),
            (AnswerValue::DateTime(a), AnswerValue::DateTime(b)) => {
                Some(timestamp(a)?.cmp(&timestamp(b)?))
            }
            _ => None,
        }
    }

    /// The numeric value of an integer or decimal.
    pub(crate) fn number(&self) -> Option<f64> {
        match self {
            AnswerValue::Integer(i) => Some(*i as f64),
            AnswerValue::Decimal(d) => Some(*d),
            _ => None,
        }
    }
}

/// Parses a full FHIR date `YYYY-MM-DD`.
pub(crate) fn full_date(s: &str) -> Option<Date> {
    if s.len() != 10 {
        return None;
    }
    s.parse::<Date>().ok()
}

/// True if `s` is a valid FHIR date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
pub(crate) fn is_fhir_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    match b.len() {
        4 => digits(0..4) && s != "0000",
        7 => {
            digits(0..4)
                && b[4] == b'-'
                && digits(5..7)
                && matches!(s[5..7].parse::<u8>(), Ok(1..=12))
        }
        10 => full_date(s).is_some() && digits(0..4),
        _ => false,
    }
}

/// Parses a FHIR dateTime that has a time (and therefore an offset) into an instant.
pub(crate) fn timestamp(s: &str) -> Option<Timestamp> {
    if s.len() <= 10 || !s.is_ascii() {
        return None;
    }
    s.parse::<Timestamp>().ok()
}

/// True if `s` is a valid FHIR dateTime: a FHIR date, or a full date with a time and
/// offset.
pub(crate) fn is_fhir_date_time(s: &str) -> bool {
    is_fhir_date(s) || (s.as_bytes().get(10) == Some(&b'T') && timestamp(s).is_some())
}

/// The patient's answers, keyed by item `linkId`. An item maps to its answers in order;
/// an unanswered item is absent (never mapped to an empty list).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(BTreeMap<String, Vec<AnswerValue>>);

impl Answers {
    /// No answers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the answers of `link_id`; an empty list clears it.
    pub fn set(&mut self, link_id: impl Into<String>, values: Vec<AnswerValue>) {
        let link_id = link_id.into();
        if values.is_empty() {
            self.0.remove(&link_id);
        } else {
            self.0.insert(link_id, values);
        }
    }

    /// Sets a single answer of `link_id`, replacing any others.
    pub fn set_one(&mut self, link_id: impl Into<String>, value: AnswerValue) {
        self.0.insert(link_id.into(), vec![value]);
    }

    /// Builder form of [`Answers::set_one`].
    pub fn with(mut self, link_id: impl Into<String>, value: AnswerValue) -> Self {
        self.set_one(link_id, value);
        self
    }

    /// Removes the answers of `link_id`.
    pub fn clear(&mut self, link_id: &str) {
        self.0.remove(link_id);
    }

    /// The answers of `link_id`, empty if none.
    pub fn get(&self, link_id: &str) -> &[AnswerValue] {
        self.0.get(link_id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// True if `link_id` has at least one answer.
    pub fn is_answered(&self, link_id: &str) -> bool {
        !self.get(link_id).is_empty()
    }

    /// Every answered item with its answers, ordered by `linkId`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[AnswerValue])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The number of answered items.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if nothing is answered.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fhir_dates() {
        for ok in ["2024", "2024-05", "2024-05-31"] {
            assert!(is_fhir_date(ok), "{ok}");
        }
        for bad in [
            "24",
            "2024-13",
            "2024-02-30",
            "2024-5-1",
            "20x4",
            "",
            "2024-05-31T",
        ] {
            assert!(!is_fhir_date(bad), "{bad}");
        }
        assert!(is_fhir_date_time("2024-05-31T08:00:00+02:00"));
        assert!(is_fhir_date_time("2024-05-31T08:00:00Z"));
        assert!(is_fhir_date_time("2024-05"));
        assert!(!is_fhir_date_time("2024-05-31T08:00:00"));
        assert!(!is_fhir_date_time("2024-05-31 08:00"));
    }

    #[test]
    fn numbers_compare_across_types_and_codings_by_system_and_code() {
        let i = AnswerValue::Integer(3);
        assert!(i.equals(&AnswerValue::Decimal(3.0)));
        assert_eq!(i.order(&AnswerValue::Decimal(3.5)), Some(Ordering::Less));
        assert_eq!(i.order(&AnswerValue::String("3".into())), None);
        let a = AnswerValue::Coding(Coding::new("s", "c", "A"));
        assert!(a.equals(&AnswerValue::Coding(Coding::new("s", "c", "other display"))));
        assert!(!a.equals(&AnswerValue::Coding(Coding::new("t", "c", "A"))));
        let no_system = Coding {
            code: Some("c".into()),
            ..Coding::default()
        };
        assert!(a.equals(&AnswerValue::Coding(no_system)));
    }

    #[test]
    fn empty_set_clears() {
        let mut a = Answers::new().with("x", AnswerValue::Boolean(true));
        assert!(a.is_answered("x"));
        a.set("x", vec![]);
        assert!(a.is_empty());
    }
}
