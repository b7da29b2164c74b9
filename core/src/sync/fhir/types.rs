//! The few FHIR R4 data types Nära writes, as minimal typed serde structs.
//!
//! Only the elements Nära uses are modelled; each serializes to exactly the FHIR JSON
//! element names (camelCase, `value[x]` spelled out). These types are for *writing*
//! resources; reading downloaded resources walks `serde_json::Value` instead (see
//! `json.rs`) so that an error can name the element without echoing its value.

use serde::Serialize;
use serde_json::Number;

use crate::domain::reading::{Code, Metric};
use crate::domain::units::round_to;
use crate::sync::fhir::{FhirError, UCUM_SYSTEM};

/// A FHIR `Coding`: a code from a code system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coding {
    /// Code system URI.
    pub system: String,
    /// The code.
    pub code: String,
    /// Display text as the code system defines it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl From<Code> for Coding {
    fn from(c: Code) -> Self {
        Coding {
            system: c.system.to_owned(),
            code: c.code.to_owned(),
            display: Some(c.display.to_owned()),
        }
    }
}

impl Coding {
    /// A coding without display text.
    pub fn new(system: &str, code: &str) -> Self {
        Coding {
            system: system.to_owned(),
            code: code.to_owned(),
            display: None,
        }
    }

    /// A coding with display text.
    pub fn with_display(system: &str, code: &str, display: &str) -> Self {
        Coding {
            display: Some(display.to_owned()),
            ..Coding::new(system, code)
        }
    }
}

/// A FHIR `CodeableConcept`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeableConcept {
    /// The codings, most important first.
    pub coding: Vec<Coding>,
    /// Plain text, when useful to a human reader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl CodeableConcept {
    /// A concept with one coding and no text.
    pub fn one(coding: Coding) -> Self {
        CodeableConcept {
            coding: vec![coding],
            text: None,
        }
    }
}

/// A FHIR `Identifier` (system and value only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identifier {
    /// The namespace of the value.
    pub system: String,
    /// The value.
    pub value: String,
}

/// A FHIR `Reference`: a literal reference, a logical one (identifier), or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Reference {
    /// Literal reference such as `Patient/123`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The resource type referred to, for logical references.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Logical reference by business identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Identifier>,
    /// Text for a human reader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Reference {
    /// A literal reference, e.g. `Patient/123`.
    pub fn literal(reference: impl Into<String>) -> Self {
        Reference {
            reference: Some(reference.into()),
            ..Reference::default()
        }
    }
}

/// A FHIR `Quantity` with a UCUM code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quantity {
    /// `>` or `<` when the value is only a bound (a meter's "HI"/"LO"): the true value
    /// lies beyond it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparator: Option<&'static str>,
    /// The number, with the precision it is known to.
    pub value: Number,
    /// The unit as a human reads it (the UCUM code itself, as FHIR examples do).
    pub unit: String,
    /// Always `http://unitsofmeasure.org`.
    pub system: String,
    /// The UCUM code.
    pub code: String,
}

impl Quantity {
    /// `value` in `ucum`, rounded to `decimals` places. Whole numbers (decimals 0) are
    /// written without a fraction (`72`, not `72.0`).
    pub fn ucum(value: f64, decimals: u32, ucum: &str) -> Result<Self, FhirError> {
        Ok(Quantity {
            comparator: None,
            value: decimal(value, decimals)?,
            unit: ucum.to_owned(),
            system: UCUM_SYSTEM.to_owned(),
            code: ucum.to_owned(),
        })
    }

    /// A metric's value in its canonical unit, rounded to the metric's decimals.
    pub fn metric(metric: Metric, value: f64) -> Result<Self, FhirError> {
        Quantity::ucum(value, metric.decimals(), metric.ucum())
    }
}

/// A JSON number for a FHIR `decimal` rounded to `decimals` places.
pub fn decimal(value: f64, decimals: u32) -> Result<Number, FhirError> {
    let rounded = round_to(value, decimals);
    if !rounded.is_finite() {
        return Err(FhirError::NotFinite);
    }
    if decimals == 0 && rounded.abs() < 9.0e15 {
        // Exact: |rounded| is a whole number below 2^53.
        return Ok(Number::from(rounded as i64));
    }
    Number::from_f64(rounded).ok_or(FhirError::NotFinite)
}

/// A FHIR `Annotation` (text only: Nära sends no author or time for a patient's note).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    /// The text.
    pub text: String,
}

/// A FHIR `Meta` (profiles only: the server owns versionId and lastUpdated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meta {
    /// Profiles the resource claims to conform to.
    pub profile: Vec<String>,
}

/// A FHIR `Range`; a missing end is unbounded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Range {
    /// Low limit, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<Quantity>,
    /// High limit, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<Quantity>,
}

/// A FHIR `Duration` (a `Quantity` with a UCUM time unit).
pub type Duration = Quantity;

/// A FHIR `Extension` with its `value[x]` or its nested extensions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extension {
    /// The extension's canonical URL (or, nested, its local name).
    pub url: String,
    /// The value (or nested extensions).
    #[serde(flatten)]
    pub value: ExtensionValue,
}

/// The `value[x]` of an [`Extension`], or the nested extensions of a complex one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExtensionValue {
    /// `valueCode`.
    #[serde(rename = "valueCode")]
    Code(String),
    /// `valueString`.
    #[serde(rename = "valueString")]
    String(String),
    /// `valueInteger`.
    #[serde(rename = "valueInteger")]
    Integer(i64),
    /// `valueBoolean`.
    #[serde(rename = "valueBoolean")]
    Boolean(bool),
    /// `valueQuantity`.
    #[serde(rename = "valueQuantity")]
    Quantity(Quantity),
    /// `valueDuration`.
    #[serde(rename = "valueDuration")]
    Duration(Duration),
    /// `valueReference`.
    #[serde(rename = "valueReference")]
    Reference(Reference),
    /// Nested extensions (a complex extension).
    #[serde(rename = "extension")]
    Nested(Vec<Extension>),
}

impl Extension {
    /// An extension with `valueCode`.
    pub fn code(url: &str, code: &str) -> Self {
        Extension {
            url: url.to_owned(),
            value: ExtensionValue::Code(code.to_owned()),
        }
    }

    /// An extension with `valueString`.
    pub fn string(url: &str, s: &str) -> Self {
        Extension {
            url: url.to_owned(),
            value: ExtensionValue::String(s.to_owned()),
        }
    }
}

/// A FHIR `Period` of dates or date-times, as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// Start, inclusive.
    pub start: String,
    /// End, inclusive; absent when open-ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// A FHIR `dateTime` for `at` as the local clock read at `utc_offset_seconds`, with
/// that offset (`2026-11-24T08:15:00+01:00`). Sub-second digits appear only when
/// present. An offset that is not a whole number of minutes (never the case for real
/// time zones today) is written as UTC (`Z`): the instant is what must be exact.
pub fn date_time_with_offset(
    at: jiff::Timestamp,
    utc_offset_seconds: i32,
) -> Result<String, FhirError> {
    let (offset, zone) = match jiff::tz::Offset::from_seconds(utc_offset_seconds) {
        Ok(o) if utc_offset_seconds % 60 == 0 => {
            let sign = if utc_offset_seconds < 0 { '-' } else { '+' };
            let abs = utc_offset_seconds.unsigned_abs();
            let zone = format!("{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60);
            (o, zone)
        }
        _ => (jiff::tz::Offset::UTC, "Z".to_owned()),
    };
    let local = offset.to_datetime(at);
    civil_date_time(local).map(|dt| format!("{dt}{zone}"))
}

/// A FHIR `instant` in UTC (`2026-11-24T07:15:00Z`).
pub fn instant(at: jiff::Timestamp) -> Result<String, FhirError> {
    civil_date_time(jiff::tz::Offset::UTC.to_datetime(at)).map(|dt| format!("{dt}Z"))
}

fn civil_date_time(dt: jiff::civil::DateTime) -> Result<String, FhirError> {
    if !(1..=9999).contains(&dt.year()) {
        return Err(FhirError::InvalidTime);
    }
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    let nanos = dt.subsec_nanosecond();
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    Ok(s)
}

/// A FHIR `date` (`2026-11-24`).
pub fn date(d: jiff::civil::Date) -> Result<String, FhirError> {
    if !(1..=9999).contains(&d.year()) {
        return Err(FhirError::InvalidTime);
    }
    Ok(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
}

/// A FHIR `time` (`08:00:00`), whole seconds.
pub fn time(t: jiff::civil::Time) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}
