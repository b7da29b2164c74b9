//! Records and enums shared by the areas, and their conversions.
//!
//! Plain core types cross the boundary as they are (`#[uniffi::remote]` mirrors of the
//! core's definitions: the compiler checks that they match). Types that carry times,
//! ids or text shown to the patient get an FFI record here, filled from the core: the
//! texts (`value_text`, `reason`, `advice`) are rendered by the core's rules, so the
//! shells only display them.

use std::time::SystemTime;

use jiff::Timestamp;
use nara_core::domain::reading as core_reading;
use nara_core::domain::triage as core_triage;

pub use nara_core::domain::glucose_context::{
    AmountUnit, GlucoseContext, HealthState, Insulin, InsulinKind, MealRelation, Tester,
};
pub use nara_core::domain::reading::{
    Comparator, Measurement, Metric, OffScale, QualityFlags, ReadingKind, Source,
};
pub use nara_core::domain::text::{Lang, LocalizedText};
pub use nara_core::domain::triage::{
    Band, BandShape, Bands, FindingAction, MetricThreshold, Range, RuleVersion, ThresholdOrigin,
    ThresholdSet, WeightGainRule,
};
pub use nara_core::domain::units::{GlucoseUnit, TemperatureUnit, WeightUnit};

/// A text in Swedish and English; show the patient's language.
#[uniffi::remote(Record)]
pub struct LocalizedText {
    /// Swedish.
    pub sv: String,
    /// English.
    pub en: String,
}

/// A language of the patient-facing texts.
#[uniffi::remote(Enum)]
pub enum Lang {
    /// Svenska.
    Sv,
    /// English.
    En,
}

/// What was measured. Each kind has a LOINC code and UCUM units (see [`reading_kind_info`]).
#[uniffi::remote(Enum)]
pub enum ReadingKind {
    /// Blood pressure (systolic, diastolic, optional pulse).
    BloodPressure,
    /// Heart rate.
    HeartRate,
    /// Body weight.
    BodyWeight,
    /// Capillary blood glucose.
    BloodGlucose,
    /// Oxygen saturation (SpO2), optional pulse.
    OxygenSaturation,
    /// Peak expiratory flow.
    PeakExpiratoryFlow,
    /// Body temperature.
    BodyTemperature,
    /// Steps per day.
    Steps,
    /// COPD Assessment Test total score.
    CatScore,
}

/// One measured quantity of a reading.
#[uniffi::remote(Enum)]
pub enum Metric {
    /// Systolic blood pressure, mm[Hg].
    Systolic,
    /// Diastolic blood pressure, mm[Hg].
    Diastolic,
    /// Pulse reported with a blood pressure or SpO2, /min.
    Pulse,
    /// Heart rate, /min.
    HeartRate,
    /// Body weight, kg.
    Weight,
    /// Glucose, mmol/L.
    Glucose,
    /// Oxygen saturation, %.
    SpO2,
    /// Peak expiratory flow, L/min.
    PeakFlow,
    /// Body temperature, Cel.
    Temperature,
    /// Steps.
    Steps,
    /// CAT score.
    CatScore,
}

/// The measured values, in canonical units. Use [`glucose_measurement`],
/// [`weight_measurement`] or [`temperature_measurement`] for values in other units.
#[uniffi::remote(Enum)]
pub enum Measurement {
    /// Blood pressure in mm[Hg], pulse in /min.
    BloodPressure {
        systolic: f64,
        diastolic: f64,
        pulse: Option<f64>,
    },
    /// Heart rate in /min.
    HeartRate { bpm: f64 },
    /// Body weight in kg.
    BodyWeight { kg: f64 },
    /// Capillary glucose in mmol/L.
    BloodGlucose { mmol_per_l: f64 },
    /// Oxygen saturation in %, pulse in /min.
    OxygenSaturation { percent: f64, pulse: Option<f64> },
    /// Peak expiratory flow in L/min.
    PeakExpiratoryFlow { l_per_min: f64 },
    /// Body temperature in degrees Celsius.
    BodyTemperature { celsius: f64 },
    /// Number of steps.
    Steps { count: f64 },
    /// CAT total score 0–40.
    CatScore { score: f64 },
}

/// Where a reading came from.
#[uniffi::remote(Enum)]
pub enum Source {
    /// Typed in by the patient.
    Manual,
    /// Received from a measuring device; `device_id` is stable (serial or system id),
    /// `record_key` the device's own record number, so a re-import is recognised.
    Device {
        device_id: String,
        model: Option<String>,
        record_key: Option<String>,
    },
}

/// Measurement-status flags reported by a device or ticked by the patient. Every flag
/// but `irregular_pulse` makes triage answer "measure again" instead of a colour; an
/// irregular pulse is a finding about the patient, shown beside the values' band
/// (`Triage.findings`).
#[uniffi::remote(Record)]
pub struct QualityFlags {
    /// The body moved during measurement.
    pub body_movement: bool,
    /// The cuff did not fit well.
    pub cuff_fit_poor: bool,
    /// The device detected an irregular pulse: a finding, not poor quality.
    pub irregular_pulse: bool,
    /// The measurement position was wrong.
    pub improper_position: bool,
    /// The sensor signal was weak.
    pub weak_signal: bool,
    /// The pulse was outside the range the device can measure.
    pub pulse_out_of_range: bool,
    /// The device, its sensor or its test strip reported a fault.
    pub device_fault: bool,
}

/// A triage band. Colour is never the only signal: every band has a symbol, a shape and
/// a label ([`band_info`]).
#[uniffi::remote(Enum)]
pub enum Band {
    /// Within the care team's targets.
    Green,
    /// Outside the targets: keep an eye on it, follow the care plan.
    Yellow,
    /// Far outside: act as the care plan says (contact the care team).
    Red,
    /// The measurement's quality was poor: measure again.
    MeasureAgain,
    /// No thresholds apply (steps, peak flow without a personal best).
    NotAssessed,
}

/// The shape that goes with a band, for patients who cannot tell the colours apart.
#[uniffi::remote(Enum)]
pub enum BandShape {
    /// Green.
    Circle,
    /// Yellow.
    Triangle,
    /// Red.
    Square,
    /// Measure again.
    Repeat,
    /// Not assessed.
    Dash,
}

/// Units a glucose meter may report in.
#[uniffi::remote(Enum)]
pub enum GlucoseUnit {
    /// mmol/L (Swedish standard).
    MmolPerL,
    /// mg/dL.
    MgPerDl,
}

/// Units a scale may report in.
#[uniffi::remote(Enum)]
pub enum WeightUnit {
    /// Kilograms.
    Kg,
    /// Pounds.
    Lb,
}

/// Units a thermometer may report in.
#[uniffi::remote(Enum)]
pub enum TemperatureUnit {
    /// Degrees Celsius.
    Celsius,
    /// Degrees Fahrenheit.
    Fahrenheit,
}

/// A closed range of values; an open end is `null`/`nil`.
#[uniffi::remote(Record)]
pub struct Range {
    /// Lowest value inside, if bounded below.
    pub low: Option<f64>,
    /// Highest value inside, if bounded above.
    pub high: Option<f64>,
}

/// The green and yellow ranges of a metric; outside yellow is red. Green lies inside
/// yellow.
#[uniffi::remote(Record)]
pub struct Bands {
    /// Green: within targets.
    pub green: Range,
    /// Yellow: outside targets but not alarming.
    pub yellow: Range,
}

/// The bands of one metric.
#[uniffi::remote(Record)]
pub struct MetricThreshold {
    /// The metric.
    pub metric: Metric,
    /// Its bands.
    pub bands: Bands,
}

/// Heart-failure weight rule: a gain of more than `max_gain_kg` within `over_days`
/// days gives `band`.
#[uniffi::remote(Record)]
pub struct WeightGainRule {
    /// Kilograms.
    pub max_gain_kg: f64,
    /// Days.
    pub over_days: u32,
    /// Band when exceeded.
    pub band: Band,
}

/// Who set a threshold set.
#[uniffi::remote(Enum)]
pub enum ThresholdOrigin {
    /// The conservative defaults (ADR 0005).
    Default,
    /// The patient's care team.
    CareTeam,
}

/// The version of the rule a reading was triaged with.
#[uniffi::remote(Record)]
pub struct RuleVersion {
    /// Defaults or the care team's.
    pub origin: ThresholdOrigin,
    /// Increases with each change by the care team.
    pub version: u32,
}

/// The care team's thresholds for one reading kind.
#[uniffi::remote(Record)]
pub struct ThresholdSet {
    /// The kind.
    pub kind: ReadingKind,
    /// Origin and version.
    pub rule: RuleVersion,
    /// Bands per metric.
    pub metrics: Vec<MetricThreshold>,
    /// Weight-gain rules (body weight only).
    pub weight_gain: Vec<WeightGainRule>,
    /// The personal best peak flow (L/min) the zones were made from, if they were.
    #[uniffi(default)]
    pub personal_best: Option<f64>,
    /// The care team knows of an arrhythmia: an irregular pulse is only noted.
    #[uniffi(default = false)]
    pub known_arrhythmia: bool,
}

/// Which side of a device's measuring range a value lies beyond (FHIR comparator).
#[uniffi::remote(Enum)]
pub enum Comparator {
    /// Above the limit (the meter showed "HI").
    Above,
    /// Below the limit (the meter showed "LO").
    Below,
}

/// A value the device could only bound: the measurement holds the device's limit and
/// the true value lies beyond it. Never show it as exact; it never enters an average.
#[uniffi::remote(Record)]
pub struct OffScale {
    /// The metric whose value is a bound.
    pub metric: Metric,
    /// Above or below.
    pub comparator: Comparator,
}

/// When a glucose sample was taken relative to a meal.
#[uniffi::remote(Enum)]
pub enum MealRelation {
    /// Before a meal.
    BeforeMeal,
    /// After a meal.
    AfterMeal,
    /// Fasting.
    Fasting,
    /// No clear relation to a meal.
    Casual,
    /// At bedtime.
    Bedtime,
}

/// Who took a glucose sample.
#[uniffi::remote(Enum)]
pub enum Tester {
    /// The patient.
    SelfTest,
    /// A health care professional.
    CareProfessional,
    /// A laboratory.
    Laboratory,
}

/// The patient's health when a glucose sample was taken.
#[uniffi::remote(Enum)]
pub enum HealthState {
    /// Minor health issues.
    MinorIssues,
    /// Major health issues.
    MajorIssues,
    /// During menses.
    DuringMenses,
    /// Under stress.
    UnderStress,
    /// No health issues.
    NoIssues,
}

/// A kind of insulin.
#[uniffi::remote(Enum)]
pub enum InsulinKind {
    /// Rapid-acting.
    RapidActing,
    /// Short-acting.
    ShortActing,
    /// Intermediate-acting.
    IntermediateActing,
    /// Long-acting.
    LongActing,
    /// Pre-mixed.
    PreMixed,
}

/// The unit of an insulin amount.
#[uniffi::remote(Enum)]
pub enum AmountUnit {
    /// Milligrams.
    Milligrams,
    /// Millilitres.
    Millilitres,
}

/// Insulin taken, as entered on the meter.
#[uniffi::remote(Record)]
pub struct Insulin {
    /// Which insulin.
    pub kind: InsulinKind,
    /// How much, in `unit`.
    pub amount: f64,
    /// mg or mL.
    pub unit: AmountUnit,
}

/// What a glucose meter knew about a sample; every part is optional.
#[uniffi::remote(Record)]
pub struct GlucoseContext {
    /// Relation to a meal.
    pub meal: Option<MealRelation>,
    /// Who tested.
    pub tester: Option<Tester>,
    /// The patient's health.
    pub health: Option<HealthState>,
    /// Insulin taken.
    pub insulin: Option<Insulin>,
    /// HbA1c in percent.
    pub hba1c_percent: Option<f64>,
}

/// What the care team wants done about a finding.
#[uniffi::remote(Enum)]
pub enum FindingAction {
    /// Noted for the care team; nothing to do.
    Note,
    /// Measure again later today.
    MeasureAgainLater,
    /// Contact the care unit in the next few days.
    ContactCareUnit,
}

/// A clinical finding beside the band (an irregular pulse), with its own symbol and
/// text: show it next to the band, never by colour alone.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Finding {
    /// A stable code (`irregular-pulse`, `irregular-pulse-repeated`,
    /// `irregular-pulse-known-arrhythmia`).
    pub code: String,
    /// A text symbol to show beside the band's.
    pub symbol: String,
    /// What to do.
    pub action: FindingAction,
    /// The finding and what to do, for the patient.
    pub text: LocalizedText,
}

impl From<&core_triage::Finding> for Finding {
    fn from(f: &core_triage::Finding) -> Self {
        Finding {
            code: f.code().to_owned(),
            symbol: f.symbol().to_owned(),
            action: f.action(),
            text: f.text(),
        }
    }
}

/// How to present a band: colour is never the only signal.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct BandInfo {
    /// A text symbol (✓, !, ‼, ↻, –).
    pub symbol: String,
    /// A shape to draw.
    pub shape: BandShape,
    /// The band's name.
    pub label: LocalizedText,
    /// General advice for the band.
    pub advice: LocalizedText,
}

/// How to present a band (symbol, shape, label, advice).
#[uniffi::export]
pub fn band_info(band: Band) -> BandInfo {
    BandInfo {
        symbol: band.symbol().to_owned(),
        shape: band.shape(),
        label: band.label(),
        advice: band.advice(),
    }
}

/// What a reading kind is: its name, metrics and code.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ReadingKindInfo {
    /// Name for the patient.
    pub label: LocalizedText,
    /// Its metrics, in display order.
    pub metrics: Vec<Metric>,
    /// Code system (LOINC, or Nära's own where LOINC has none).
    pub code_system: String,
    /// Code.
    pub code: String,
}

/// Name, metrics and code of a reading kind.
#[uniffi::export]
pub fn reading_kind_info(kind: ReadingKind) -> ReadingKindInfo {
    let code = kind.code();
    ReadingKindInfo {
        label: kind.label(),
        metrics: kind.metrics().to_vec(),
        code_system: code.system.to_owned(),
        code: code.code.to_owned(),
    }
}

/// How to show a metric's values.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MetricInfo {
    /// Name for the patient.
    pub label: LocalizedText,
    /// Unit as shown to the patient (mmHg, kg, mmol/L).
    pub unit: String,
    /// UCUM unit code.
    pub ucum: String,
    /// Decimals shown and stored.
    pub decimals: u32,
}

/// Name, unit and precision of a metric.
#[uniffi::export]
pub fn metric_info(metric: Metric) -> MetricInfo {
    MetricInfo {
        label: metric.label(),
        unit: metric.unit_label().to_owned(),
        ucum: metric.ucum().to_owned(),
        decimals: metric.decimals(),
    }
}

/// A glucose value in `unit`, converted to mmol/L with the stored precision.
#[uniffi::export]
pub fn glucose_measurement(value: f64, unit: GlucoseUnit) -> Measurement {
    Measurement::blood_glucose(value, unit)
}

/// A weight in `unit`, converted to kg with the stored precision.
#[uniffi::export]
pub fn weight_measurement(value: f64, unit: WeightUnit) -> Measurement {
    Measurement::body_weight(value, unit)
}

/// A temperature in `unit`, converted to °C with the stored precision.
#[uniffi::export]
pub fn temperature_measurement(value: f64, unit: TemperatureUnit) -> Measurement {
    Measurement::body_temperature(value, unit)
}

/// A measurement written for the patient ("142/91 mmHg, puls 72").
#[uniffi::export]
pub fn measurement_text(measurement: Measurement) -> LocalizedText {
    LocalizedText::new(measurement.display(Lang::Sv), measurement.display(Lang::En))
}

/// The kind of a measurement.
#[uniffi::export]
pub fn measurement_kind(measurement: Measurement) -> ReadingKind {
    measurement.kind()
}

/// Why a reading got its band, rendered by the core's triage rules.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Triage {
    /// The band to show.
    pub band: Band,
    /// The band of the values alone (differs from `band` when quality was poor).
    pub value_band: Band,
    /// The rule version the reading was triaged with (kept when thresholds change).
    pub rule: RuleVersion,
    /// The metric that decided the band, if one did.
    pub metric: Option<Metric>,
    /// A stable code for the reason (`above_target`, `weight_gain`, ...).
    pub reason_code: String,
    /// The reason, for the patient.
    pub reason: LocalizedText,
    /// What to do, for the patient (a red value under a quality flag gets the red
    /// advice too; a finding that asks for contact adds its text).
    pub advice: LocalizedText,
    /// Findings beside the band (an irregular pulse).
    pub findings: Vec<Finding>,
}

impl From<&core_triage::TriageResult> for Triage {
    fn from(t: &core_triage::TriageResult) -> Self {
        Triage {
            band: t.band,
            value_band: t.value_band,
            rule: t.rule,
            metric: t.metric,
            reason_code: t.reason.code().to_owned(),
            reason: t.reason_text(),
            advice: t.advice(),
            findings: t.findings.iter().map(Finding::from).collect(),
        }
    }
}

/// A reading to capture.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewReading {
    /// The values.
    pub measurement: Measurement,
    /// When it was measured.
    pub effective_at: SystemTime,
    /// The patient's UTC offset at that moment, in seconds (Sweden: 3600 or 7200).
    pub utc_offset_seconds: i32,
    /// Manual entry or a device.
    pub source: Source,
    /// Quality flags.
    pub quality: QualityFlags,
    /// The patient's note, at most 1,000 characters.
    #[uniffi(default)]
    pub note: Option<String>,
    /// Values the device could only bound ("HI"/"LO"): the measurement holds the limit.
    #[uniffi(default)]
    pub off_scale: Vec<OffScale>,
    /// What a glucose meter knew about the sample.
    #[uniffi(default)]
    pub glucose_context: Option<GlucoseContext>,
}

/// A stored reading, triaged, with texts ready to show.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Reading {
    /// Its id (a UUID).
    pub id: String,
    /// Its kind.
    pub kind: ReadingKind,
    /// The values.
    pub measurement: Measurement,
    /// The values written for the patient ("142/91 mmHg").
    pub value_text: LocalizedText,
    /// When it was measured.
    pub effective_at: SystemTime,
    /// The patient's UTC offset then, in seconds.
    pub utc_offset_seconds: i32,
    /// Manual entry or a device.
    pub source: Source,
    /// Quality flags.
    pub quality: QualityFlags,
    /// Values the device could only bound; `value_text` says "över"/"above".
    pub off_scale: Vec<OffScale>,
    /// What a glucose meter knew about the sample.
    pub glucose_context: Option<GlucoseContext>,
    /// The patient's note.
    pub note: Option<String>,
    /// When the app stored it.
    pub recorded_at: SystemTime,
    /// Band and reason.
    pub triage: Triage,
    /// The reading this one corrects.
    pub supersedes: Option<String>,
    /// The correction that replaced this one.
    pub superseded_by: Option<String>,
}

impl From<core_reading::Reading> for Reading {
    fn from(r: core_reading::Reading) -> Self {
        Reading {
            id: r.id.to_string(),
            kind: r.kind(),
            value_text: LocalizedText::new(r.display(Lang::Sv), r.display(Lang::En)),
            measurement: r.measurement,
            effective_at: to_system(r.effective_at),
            utc_offset_seconds: r.utc_offset_seconds,
            source: r.source,
            quality: r.quality,
            off_scale: r.off_scale,
            glucose_context: r.glucose_context,
            note: r.note,
            recorded_at: to_system(r.recorded_at),
            triage: Triage::from(&r.triage),
            supersedes: r.supersedes.map(|id| id.to_string()),
            superseded_by: r.superseded_by.map(|id| id.to_string()),
        }
    }
}

/// Converts a core time to a platform time (`Instant`, `Date`).
pub(crate) fn to_system(ts: Timestamp) -> SystemTime {
    SystemTime::from(ts)
}

/// Converts a platform time to a core time; `None` outside years −9999..=9999.
pub(crate) fn from_system(t: SystemTime) -> Option<Timestamp> {
    Timestamp::try_from(t).ok()
}

/// A platform time for a query bound, clamped into the core's range.
pub(crate) fn bound(t: SystemTime) -> Timestamp {
    from_system(t).unwrap_or_else(|| {
        if t < SystemTime::UNIX_EPOCH {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        }
    })
}
