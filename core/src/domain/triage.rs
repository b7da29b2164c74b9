//! Triage: the colour of a reading against the care team's thresholds, decided offline
//! at capture.
//!
//! The care team sets threshold bands per patient and kind ([`ThresholdSet`], versioned).
//! Until it has, conservative defaults apply ([`ThresholdSet::default_for`]), each with
//! its clinical source; see `docs/adr/0005-default-thresholds.md`. The result carries the
//! band, the rule version that decided it and a short reason in Swedish and English.
//! Poor measurement quality gives [`Band::MeasureAgain`], never red (the values' own band
//! is kept and shown, so a red value under a quality flag is never hidden). An irregular
//! pulse is not poor quality but a [`Finding`] beside the band; a value a device could
//! only bound ("HI") is triaged as the worst value it could be.
//!
//! [`triage_reading`] is the one entry point of every path that stores a reading: the
//! reading, the thresholds in force and the patient's [`TriageHistory`] (ADR 0013).
//!
//! Band semantics: each metric has a *green* range and a wider *yellow* range, both
//! inclusive. A value inside green is green; else inside yellow is yellow; else red. A
//! value that falls between two written limits (38.05 °C between 38.0 and 38.1) therefore
//! goes to the worse band: the conservative side.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use crate::domain::history::TriageHistory;
use crate::domain::reading::{
    Comparator, Measurement, Metric, NewReading, OffScale, QualityFlags, ReadingKind, comparator_of,
};
use crate::domain::text::{Lang, LocalizedText};

/// The version of the built-in defaults; bump whenever a default below changes.
pub const DEFAULTS_VERSION: u32 = 1;

/// The outcome of triage for a reading. Colour is never the only signal: every band
/// also has a [`Band::symbol`], a [`Band::shape`] and a [`Band::label`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Within the patient's targets.
    Green,
    /// Outside the targets: follow the care plan's advice for yellow.
    Yellow,
    /// Far outside the targets: act now as the care plan says.
    Red,
    /// The measurement quality was poor: measure again.
    MeasureAgain,
    /// No target applies (steps; peak flow without a personal best; a first weight).
    NotAssessed,
}

/// A shape to draw beside the colour, so the band reads without colour vision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BandShape {
    /// Green: a circle.
    Circle,
    /// Yellow: a triangle.
    Triangle,
    /// Red: a square (or octagon).
    Square,
    /// Measure again: a circular arrow.
    Repeat,
    /// Not assessed: a dash.
    Dash,
}

impl Band {
    /// Every band, in display order.
    pub const ALL: [Band; 5] = [
        Band::Green,
        Band::Yellow,
        Band::Red,
        Band::MeasureAgain,
        Band::NotAssessed,
    ];

    /// The more severe of two bands.
    fn max_severity(self, other: Band) -> Band {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }

    /// Severity for ordering the colours: green < yellow < red.
    fn severity(self) -> u8 {
        match self {
            Band::NotAssessed => 0,
            Band::Green => 1,
            Band::MeasureAgain => 2,
            Band::Yellow => 3,
            Band::Red => 4,
        }
    }

    /// A one-character symbol for text displays.
    pub fn symbol(self) -> &'static str {
        match self {
            Band::Green => "●",
            Band::Yellow => "▲",
            Band::Red => "■",
            Band::MeasureAgain => "↻",
            Band::NotAssessed => "–",
        }
    }

    /// The shape shells draw beside the colour.
    pub fn shape(self) -> BandShape {
        match self {
            Band::Green => BandShape::Circle,
            Band::Yellow => BandShape::Triangle,
            Band::Red => BandShape::Square,
            Band::MeasureAgain => BandShape::Repeat,
            Band::NotAssessed => BandShape::Dash,
        }
    }

    /// The band's name, for screen readers and text.
    pub fn label(self) -> LocalizedText {
        let (sv, en) = match self {
            Band::Green => ("Grönt", "Green"),
            Band::Yellow => ("Gult", "Yellow"),
            Band::Red => ("Rött", "Red"),
            Band::MeasureAgain => ("Mät igen", "Measure again"),
            Band::NotAssessed => ("Ej bedömt", "Not assessed"),
        };
        LocalizedText::new(sv, en)
    }

    /// The general advice for the band, used when the care plan gives none.
    pub fn advice(self) -> LocalizedText {
        let (sv, en) = match self {
            Band::Green => ("Fortsätt som vanligt.", "Carry on as usual."),
            Band::Yellow => (
                "Följ din vårdplan. Kontakta din vårdenhet om värdet håller i sig.",
                "Follow your care plan. Contact your care unit if the value persists.",
            ),
            Band::Red => (
                "Kontakta din vårdenhet i dag, eller ring 1177. Vid akuta besvär, ring 112.",
                "Contact your care unit today, or call 1177. In an emergency, call 112.",
            ),
            Band::MeasureAgain => (
                "Vila fem minuter och mät igen.",
                "Rest for five minutes and measure again.",
            ),
            Band::NotAssessed => (
                "Värdet sparas och visas för din vårdenhet.",
                "The value is saved and shown to your care unit.",
            ),
        };
        LocalizedText::new(sv, en)
    }
}

/// An inclusive range; a missing end is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// Lowest value inside, if bounded below.
    pub low: Option<f64>,
    /// Highest value inside, if bounded above.
    pub high: Option<f64>,
}

impl Range {
    /// A range bounded on both ends.
    pub const fn between(low: f64, high: f64) -> Self {
        Range {
            low: Some(low),
            high: Some(high),
        }
    }

    /// A range bounded below only.
    pub const fn at_least(low: f64) -> Self {
        Range {
            low: Some(low),
            high: None,
        }
    }

    /// True if `value` lies inside (ends included).
    pub fn contains(&self, value: f64) -> bool {
        self.low.is_none_or(|l| value >= l) && self.high.is_none_or(|h| value <= h)
    }

    /// True if `inner` lies within `self`.
    fn encloses(&self, inner: &Range) -> bool {
        let low_ok = match (self.low, inner.low) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(o), Some(i)) => o <= i,
        };
        let high_ok = match (self.high, inner.high) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(o), Some(i)) => o >= i,
        };
        low_ok && high_ok
    }
}

/// The green and yellow ranges for one metric; outside yellow is red.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bands {
    /// Target range.
    pub green: Range,
    /// Wider range of values that warrant attention; must enclose `green`.
    pub yellow: Range,
}

impl Bands {
    /// Builds bands from green and yellow ranges.
    pub const fn new(green: Range, yellow: Range) -> Self {
        Bands { green, yellow }
    }

    /// The band of `value`.
    pub fn classify(&self, value: f64) -> Band {
        if self.green.contains(value) {
            Band::Green
        } else if self.yellow.contains(value) {
            Band::Yellow
        } else {
            Band::Red
        }
    }

    /// The band of a value a device could only bound: the worst band of any value beyond
    /// `limit` on the `comparator` side. A glucose meter's "HI" (above 33.3 mmol/L) is
    /// red, because values above the yellow range exist beyond any limit.
    pub fn classify_beyond(&self, limit: f64, comparator: Comparator) -> Band {
        let (yellow_end, green_end) = match comparator {
            Comparator::Above => (self.yellow.high, self.green.high),
            Comparator::Below => (self.yellow.low, self.green.low),
        };
        if yellow_end.is_some() {
            Band::Red
        } else if green_end.is_some() {
            Band::Yellow.max_severity(self.classify(limit))
        } else {
            self.classify(limit)
        }
    }
}

/// The thresholds for one metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricThreshold {
    /// The metric they apply to.
    pub metric: Metric,
    /// Its bands, in the metric's canonical unit.
    pub bands: Bands,
}

/// A rule on weight change, as used in heart failure: a gain of more than `max_gain_kg`
/// within `over_days` gives `band`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeightGainRule {
    /// Largest gain that is still fine, in kg.
    pub max_gain_kg: f64,
    /// The look-back window in days.
    pub over_days: u32,
    /// The band a larger gain gives (yellow or red).
    pub band: Band,
}

/// Who set a threshold set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdOrigin {
    /// Nära's built-in conservative defaults.
    Default,
    /// The patient's care team.
    CareTeam,
}

/// Identifies the rule that decided a triage result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleVersion {
    /// Defaults or care team.
    pub origin: ThresholdOrigin,
    /// The version of that origin's thresholds for the kind.
    pub version: u32,
}

impl std::fmt::Display for RuleVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.origin {
            ThresholdOrigin::Default => write!(f, "default-v{}", self.version),
            ThresholdOrigin::CareTeam => write!(f, "careteam-v{}", self.version),
        }
    }
}

/// The thresholds for one kind of reading for one patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdSet {
    /// The kind they apply to.
    pub kind: ReadingKind,
    /// Origin and version.
    pub rule: RuleVersion,
    /// Bands per metric; metrics without an entry are not assessed.
    pub metrics: Vec<MetricThreshold>,
    /// Weight-change rules (body weight only).
    pub weight_gain: Vec<WeightGainRule>,
    /// The patient's personal best peak flow (L/min) the peak-flow zones were made from
    /// ([`ThresholdSet::peak_flow_zones`]), if they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_best: Option<f64>,
    /// The care team knows the patient has an arrhythmia (for example atrial
    /// fibrillation): an irregular pulse is then only noted, never a reason to call.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub known_arrhythmia: bool,
}

/// A threshold set that cannot be applied.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum ThresholdError {
    /// A metric does not belong to the set's kind.
    #[error("a threshold names a metric that the reading kind does not have")]
    MetricNotOfKind,
    /// A range's low end lies above its high end, or a limit is not finite.
    #[error("a threshold range is empty or not a number")]
    InvalidRange,
    /// The green range is not inside the yellow range.
    #[error("the green range must lie inside the yellow range")]
    GreenOutsideYellow,
    /// The same metric has two entries.
    #[error("a metric has more than one threshold")]
    DuplicateMetric,
    /// A weight rule on another kind, or with a bad gain, window or band.
    #[error("a weight-gain rule is invalid")]
    InvalidWeightRule,
    /// A personal best on another kind than peak flow, or not a positive number.
    #[error("a personal best must be a positive peak flow")]
    InvalidPersonalBest,
}

impl ThresholdSet {
    /// Checks that the set can be applied.
    pub fn validate(&self) -> Result<(), ThresholdError> {
        let mut seen = Vec::new();
        for t in &self.metrics {
            if !self.kind.metrics().contains(&t.metric) {
                return Err(ThresholdError::MetricNotOfKind);
            }
            if seen.contains(&t.metric) {
                return Err(ThresholdError::DuplicateMetric);
            }
            seen.push(t.metric);
            for r in [t.bands.green, t.bands.yellow] {
                let finite = r.low.is_none_or(f64::is_finite) && r.high.is_none_or(f64::is_finite);
                let ordered = match (r.low, r.high) {
                    (Some(l), Some(h)) => l <= h,
                    _ => true,
                };
                if !finite || !ordered {
                    return Err(ThresholdError::InvalidRange);
                }
            }
            if !t.bands.yellow.encloses(&t.bands.green) {
                return Err(ThresholdError::GreenOutsideYellow);
            }
        }
        for w in &self.weight_gain {
            let ok = self.kind == ReadingKind::BodyWeight
                && w.max_gain_kg.is_finite()
                && w.max_gain_kg > 0.0
                && (1..=31).contains(&w.over_days)
                && matches!(w.band, Band::Yellow | Band::Red);
            if !ok {
                return Err(ThresholdError::InvalidWeightRule);
            }
        }
        if let Some(best) = self.personal_best {
            if self.kind != ReadingKind::PeakExpiratoryFlow || !best.is_finite() || best <= 0.0 {
                return Err(ThresholdError::InvalidPersonalBest);
            }
        }
        Ok(())
    }

    /// The thresholds for a metric, if any.
    pub fn for_metric(&self, metric: Metric) -> Option<&Bands> {
        self.metrics
            .iter()
            .find(|t| t.metric == metric)
            .map(|t| &t.bands)
    }

    /// Peak-flow zones from the patient's personal best (L/min): green at 80 % or more,
    /// yellow from 50 %, red below (the asthma action plan zones of GINA and NAEPP EPR-3).
    pub fn peak_flow_zones(personal_best: f64, rule: RuleVersion) -> Self {
        ThresholdSet {
            kind: ReadingKind::PeakExpiratoryFlow,
            rule,
            metrics: vec![MetricThreshold {
                metric: Metric::PeakFlow,
                bands: Bands::new(
                    Range::at_least(personal_best * 0.8),
                    Range::at_least(personal_best * 0.5),
                ),
            }],
            weight_gain: Vec::new(),
            personal_best: Some(personal_best),
            known_arrhythmia: false,
        }
    }

    /// Nära's conservative defaults, used until the care team sets thresholds.
    ///
    /// Sources (details and reasoning in `docs/adr/0005-default-thresholds.md`):
    /// - Blood pressure: ESC/ESH 2023 hypertension guideline; home BP ≥ 135/85 mmHg is
    ///   hypertensive (yellow), ≥ 180 systolic or ≥ 110 diastolic is grade 3 (red);
    ///   systolic < 90 is hypotension (red), < 100 yellow.
    /// - Heart rate, pulse, SpO2, temperature: NEWS2 (Royal College of Physicians, 2017):
    ///   a parameter scoring 3 is red, scoring 1–2 is yellow, 0 is green (SpO2 scale 1;
    ///   COPD patients with a prescribed 88–92 % target need the care team's thresholds).
    /// - Glucose: International Consensus on Time in Range (Battelino et al., Diabetes
    ///   Care 2019): target 3.9–10.0 mmol/L green, level 1 (3.0–3.8, 10.1–13.9) yellow,
    ///   level 2 (< 3.0, > 13.9) red.
    /// - CAT: GOLD 2024 and the CAT user guide: < 10 low impact (green), 10–20 medium
    ///   (yellow), > 20 high or very high impact (red).
    /// - Weight: ESC 2021 heart-failure guideline: a gain of more than 2 kg in 3 days is
    ///   a warning sign (yellow); no absolute weight targets.
    /// - Peak flow: not assessed without a personal best; steps: not assessed.
    pub fn default_for(kind: ReadingKind) -> Self {
        let rule = RuleVersion {
            origin: ThresholdOrigin::Default,
            version: DEFAULTS_VERSION,
        };
        let t = |metric, green: Range, yellow: Range| MetricThreshold {
            metric,
            bands: Bands::new(green, yellow),
        };
        let pulse = |metric| {
            t(
                metric,
                Range::between(51.0, 90.0),
                Range::between(41.0, 130.0),
            )
        };
        let (metrics, weight_gain) = match kind {
            ReadingKind::BloodPressure => (
                vec![
                    t(
                        Metric::Systolic,
                        Range::between(100.0, 134.0),
                        Range::between(90.0, 179.0),
                    ),
                    t(
                        Metric::Diastolic,
                        Range::between(60.0, 84.0),
                        Range::between(40.0, 109.0),
                    ),
                    pulse(Metric::Pulse),
                ],
                vec![],
            ),
            ReadingKind::HeartRate => (vec![pulse(Metric::HeartRate)], vec![]),
            ReadingKind::OxygenSaturation => (
                vec![
                    t(
                        Metric::SpO2,
                        Range::between(96.0, 100.0),
                        Range::between(92.0, 100.0),
                    ),
                    pulse(Metric::Pulse),
                ],
                vec![],
            ),
            ReadingKind::BodyTemperature => (
                vec![t(
                    Metric::Temperature,
                    Range::between(36.1, 38.0),
                    Range::between(35.1, 39.0),
                )],
                vec![],
            ),
            ReadingKind::BloodGlucose => (
                vec![t(
                    Metric::Glucose,
                    Range::between(3.9, 10.0),
                    Range::between(3.0, 13.9),
                )],
                vec![],
            ),
            ReadingKind::CatScore => (
                vec![t(
                    Metric::CatScore,
                    Range::between(0.0, 9.0),
                    Range::between(0.0, 20.0),
                )],
                vec![],
            ),
            ReadingKind::BodyWeight => (
                vec![],
                vec![WeightGainRule {
                    max_gain_kg: 2.0,
                    over_days: 3,
                    band: Band::Yellow,
                }],
            ),
            ReadingKind::PeakExpiratoryFlow | ReadingKind::Steps => (vec![], vec![]),
        };
        ThresholdSet {
            kind,
            rule,
            metrics,
            weight_gain,
            personal_best: None,
            known_arrhythmia: false,
        }
    }
}

/// Why triage gave its band: stored as a code with parameters, rendered as text in the
/// patient's language on read ([`TriageReason::text`]). Storing the code instead of the
/// sentence keeps each stored reading small and lets new languages render old readings.
/// Parameters are limits and rules, never the measured value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TriageReason {
    /// Every assessed metric within the green range.
    WithinTargets {
        /// The reading's kind.
        kind: ReadingKind,
    },
    /// Above the green range (yellow).
    AboveTarget {
        /// The deciding metric.
        metric: Metric,
        /// The green range's upper limit.
        limit: f64,
    },
    /// Below the green range (yellow).
    BelowTarget {
        /// The deciding metric.
        metric: Metric,
        /// The green range's lower limit.
        limit: f64,
    },
    /// Above the yellow range (red).
    VeryHigh {
        /// The deciding metric.
        metric: Metric,
        /// The yellow range's upper limit.
        limit: f64,
    },
    /// Below the yellow range (red).
    VeryLow {
        /// The deciding metric.
        metric: Metric,
        /// The yellow range's lower limit.
        limit: f64,
    },
    /// Weight rose more than the rule allows.
    WeightGain {
        /// Largest allowed gain, kg.
        max_gain_kg: f64,
        /// Look-back window, days.
        days: u32,
    },
    /// Weight did not rise more than the rule allows.
    NoWeightGain {
        /// Largest allowed gain, kg.
        max_gain_kg: f64,
        /// Look-back window, days.
        days: u32,
    },
    /// Poor measurement quality: measure again.
    PoorQuality {
        /// The flags that were set.
        flags: QualityFlags,
        /// True if the values alone would have been red.
        values_red: bool,
    },
    /// A value beyond the device's measuring range (the meter showed "HI" or "LO"),
    /// triaged as the worst value it could be.
    BeyondDeviceRange {
        /// The metric the device could only bound.
        metric: Metric,
        /// Above or below.
        comparator: Comparator,
        /// The device's limit.
        limit: f64,
    },
    /// Peak flow without a personal best.
    NoPersonalBest,
    /// A first weight: nothing to compare with.
    NoEarlierWeight,
    /// The kind has no targets.
    NoTargets {
        /// The reading's kind.
        kind: ReadingKind,
    },
}

fn fmt_limit(metric: Metric, v: f64) -> String {
    format!(
        "{:.*} {}",
        metric.decimals() as usize,
        v,
        metric.unit_label()
    )
}

impl TriageReason {
    /// The reason's stable code (as stored and as sent to the region), e.g.
    /// `above_target`.
    pub fn code(&self) -> &'static str {
        match self {
            TriageReason::WithinTargets { .. } => "within_targets",
            TriageReason::AboveTarget { .. } => "above_target",
            TriageReason::BelowTarget { .. } => "below_target",
            TriageReason::VeryHigh { .. } => "very_high",
            TriageReason::VeryLow { .. } => "very_low",
            TriageReason::WeightGain { .. } => "weight_gain",
            TriageReason::NoWeightGain { .. } => "no_weight_gain",
            TriageReason::PoorQuality { .. } => "poor_quality",
            TriageReason::BeyondDeviceRange { .. } => "beyond_device_range",
            TriageReason::NoPersonalBest => "no_personal_best",
            TriageReason::NoEarlierWeight => "no_earlier_weight",
            TriageReason::NoTargets { .. } => "no_targets",
        }
    }

    /// The reason as a short sentence in Swedish and English.
    pub fn text(&self) -> LocalizedText {
        let limit_text = |metric: Metric, limit: f64, sv: &str, en: &str| {
            let label = metric.label();
            let limit = fmt_limit(metric, limit);
            LocalizedText::new(
                format!("{} {sv} {limit}", label.sv),
                format!("{} {en} {limit}", label.en),
            )
        };
        match *self {
            TriageReason::WithinTargets { kind } => LocalizedText::new(
                format!("{} inom målvärdena", kind.label().sv),
                format!("{} within targets", kind.label().en),
            ),
            TriageReason::AboveTarget { metric, limit } => {
                limit_text(metric, limit, "över målvärdet", "above target")
            }
            TriageReason::BelowTarget { metric, limit } => {
                limit_text(metric, limit, "under målvärdet", "below target")
            }
            TriageReason::VeryHigh { metric, limit } => {
                limit_text(metric, limit, "mycket högt, över", "very high, above")
            }
            TriageReason::VeryLow { metric, limit } => {
                limit_text(metric, limit, "mycket lågt, under", "very low, below")
            }
            TriageReason::WeightGain { max_gain_kg, days } => {
                let limit = fmt_limit(Metric::Weight, max_gain_kg);
                LocalizedText::new(
                    format!("Vikten har ökat mer än {limit} på {days} dagar"),
                    format!("Weight has risen more than {limit} in {days} days"),
                )
            }
            TriageReason::NoWeightGain { max_gain_kg, days } => {
                let limit = fmt_limit(Metric::Weight, max_gain_kg);
                LocalizedText::new(
                    format!("Ingen viktökning över {limit} på {days} dagar"),
                    format!("No weight gain above {limit} in {days} days"),
                )
            }
            TriageReason::PoorQuality { flags, values_red } => {
                let mut reason = quality_reason(&flags);
                if values_red {
                    reason
                        .sv
                        .push_str(". Om värdet är lika avvikande igen, följ råden för rött");
                    reason
                        .en
                        .push_str(". If the value is as abnormal again, follow the advice for red");
                }
                reason
            }
            TriageReason::BeyondDeviceRange {
                metric,
                comparator,
                limit,
            } => {
                let label = metric.label();
                let limit = fmt_limit(metric, limit);
                let word = comparator.label();
                let (sv, en) = match comparator {
                    Comparator::Above => ("över", "above"),
                    Comparator::Below => ("under", "below"),
                };
                LocalizedText::new(
                    format!("{} {} {limit}: {sv} mätarens mätområde", label.sv, word.sv),
                    format!("{} {} {limit}: {en} the device's range", label.en, word.en),
                )
            }
            TriageReason::NoPersonalBest => LocalizedText::new(
                "Inget personligt bästa PEF-värde är satt; vården bedömer värdet",
                "No personal best peak flow is set; your care team assesses the value",
            ),
            TriageReason::NoEarlierWeight => LocalizedText::new(
                "Ingen tidigare vikt att jämföra med",
                "No earlier weight to compare with",
            ),
            TriageReason::NoTargets { kind } => LocalizedText::new(
                format!("{} har inga målvärden", kind.label().sv),
                format!("{} has no targets", kind.label().en),
            ),
        }
    }
}

/// What the care team wants done about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingAction {
    /// Noted for the care team; nothing for the patient to do.
    Note,
    /// Measure again later today, to see whether it comes back.
    MeasureAgainLater,
    /// Contact the care unit (not urgent: within days, as the care plan says).
    ContactCareUnit,
}

/// A clinical finding beside the band: something the device saw about the patient that
/// the values alone do not say. Shown with its own symbol and text, never by colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum Finding {
    /// The device detected an irregular pulse (a possible sign of atrial fibrillation).
    IrregularPulse {
        /// Another reading within [`TriageHistory::IRREGULAR_PULSE_WINDOW`] before this
        /// one had an irregular pulse too.
        repeated: bool,
        /// The care team has marked a known arrhythmia in the thresholds.
        known_arrhythmia: bool,
    },
}

impl Finding {
    /// The finding's stable code (as stored and as sent to the region).
    pub fn code(&self) -> &'static str {
        match self {
            Finding::IrregularPulse {
                known_arrhythmia: true,
                ..
            } => "irregular-pulse-known-arrhythmia",
            Finding::IrregularPulse { repeated: true, .. } => "irregular-pulse-repeated",
            Finding::IrregularPulse { .. } => "irregular-pulse",
        }
    }

    /// A symbol for text displays (beside the band's symbol).
    pub fn symbol(&self) -> &'static str {
        match self {
            Finding::IrregularPulse { .. } => "♥",
        }
    }

    /// What to do about it.
    pub fn action(&self) -> FindingAction {
        match *self {
            Finding::IrregularPulse {
                known_arrhythmia: true,
                ..
            } => FindingAction::Note,
            Finding::IrregularPulse { repeated: true, .. } => FindingAction::ContactCareUnit,
            Finding::IrregularPulse { .. } => FindingAction::MeasureAgainLater,
        }
    }

    /// The finding and what to do, for the patient (Swedish and English).
    pub fn text(&self) -> LocalizedText {
        match self.action() {
            FindingAction::Note => LocalizedText::new(
                "Oregelbunden puls, som din vårdenhet känner till.",
                "Irregular pulse, which your care unit knows about.",
            ),
            FindingAction::MeasureAgainLater => LocalizedText::new(
                "Mätaren upptäckte oregelbunden puls. Mät igen senare i dag i lugn och ro; \
                 kommer det tillbaka, kontakta din vårdenhet.",
                "The device detected an irregular pulse. Measure again later today at rest; \
                 if it comes back, contact your care unit.",
            ),
            FindingAction::ContactCareUnit => LocalizedText::new(
                "Oregelbunden puls igen inom en vecka. Kontakta din vårdenhet de närmaste \
                 dagarna, så att de kan kontrollera hjärtrytmen. Vid bröstsmärta, \
                 andnöd eller svimning, ring 112.",
                "Irregular pulse again within a week. Contact your care unit in the next few \
                 days so they can check your heart rhythm. With chest pain, breathlessness \
                 or fainting, call 112.",
            ),
        }
    }
}

/// The result of triage, stored with the reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageResult {
    /// The band shown to the patient.
    pub band: Band,
    /// The band the values alone would have had (differs from `band` only for
    /// [`Band::MeasureAgain`]).
    pub value_band: Band,
    /// The rule that decided.
    pub rule: RuleVersion,
    /// The metric that decided the band, if one did.
    pub metric: Option<Metric>,
    /// Why (names limits, never the value); see [`TriageResult::reason_text`].
    pub reason: TriageReason,
    /// Findings beside the band (an irregular pulse).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

impl TriageResult {
    /// The advice for the band. A value that was red under a quality flag gets the red
    /// advice too, so a red value is never hidden behind "measure again"; a finding that
    /// asks for contact adds its own text.
    pub fn advice(&self) -> LocalizedText {
        let mut advice = self.band.advice();
        if self.band == Band::MeasureAgain && self.value_band == Band::Red {
            let red = Band::Red.advice();
            advice.sv.push_str(&format!(
                " Är värdet lika avvikande igen: {}",
                lower_first(&red.sv)
            ));
            advice.en.push_str(&format!(
                " If the value is as abnormal again: {}",
                lower_first(&red.en)
            ));
        }
        for f in &self.findings {
            if f.action() != FindingAction::Note {
                let text = f.text();
                advice.sv.push(' ');
                advice.sv.push_str(&text.sv);
                advice.en.push(' ');
                advice.en.push_str(&text.en);
            }
        }
        advice
    }

    /// The reason in Swedish and English.
    pub fn reason_text(&self) -> LocalizedText {
        self.reason.text()
    }

    /// The reason in `lang`.
    pub fn reason_in(&self, lang: Lang) -> String {
        self.reason.text().get(lang).to_owned()
    }

    /// True if the values were red, whatever the band shown: the care team's list of
    /// red readings includes a red value under a quality flag.
    pub fn values_red(&self) -> bool {
        self.value_band == Band::Red
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn metric_reason(metric: Metric, bands: &Bands, band: Band, value: f64) -> Option<TriageReason> {
    let high = bands.green.low.is_none_or(|l| value >= l);
    match (band, high) {
        (Band::Yellow, true) => bands
            .green
            .high
            .map(|limit| TriageReason::AboveTarget { metric, limit }),
        (Band::Yellow, false) => bands
            .green
            .low
            .map(|limit| TriageReason::BelowTarget { metric, limit }),
        (Band::Red, true) => bands
            .yellow
            .high
            .map(|limit| TriageReason::VeryHigh { metric, limit }),
        (Band::Red, false) => bands
            .yellow
            .low
            .map(|limit| TriageReason::VeryLow { metric, limit }),
        _ => None,
    }
}

fn quality_reason(q: &QualityFlags) -> LocalizedText {
    let mut sv = Vec::new();
    let mut en = Vec::new();
    let mut add = |flag: bool, s: &str, e: &str| {
        if flag {
            sv.push(s.to_owned());
            en.push(e.to_owned());
        }
    };
    add(
        q.cuff_fit_poor,
        "manschetten satt inte rätt",
        "the cuff did not fit",
    );
    add(
        q.body_movement,
        "du rörde dig under mätningen",
        "you moved during the measurement",
    );
    add(
        q.improper_position,
        "fel mätställning",
        "the measuring position was wrong",
    );
    add(
        q.weak_signal,
        "svag signal från mätaren",
        "the device had a weak signal",
    );
    add(
        q.pulse_out_of_range,
        "pulsen låg utanför mätarens område",
        "the pulse was outside the device's range",
    );
    add(
        q.device_fault,
        "mätaren eller teststickan rapporterade ett fel",
        "the device or test strip reported a fault",
    );
    LocalizedText::new(
        format!("Mätningen kan vara osäker: {}", sv.join(", ")),
        format!("The measurement may be unreliable: {}", en.join(", ")),
    )
}

/// Triage of a reading as every path into the store calls it: `add`, `import`, a
/// device import, a correction and the device preview (ADR 0013). `history` holds the
/// patient's readings measured before this one (the store's and, in a batch, the
/// earlier ones of the batch); the thresholds are those in force.
pub fn triage_reading(
    new: &NewReading,
    thresholds: &ThresholdSet,
    history: &TriageHistory,
) -> TriageResult {
    triage_bounded(
        &new.measurement,
        &new.off_scale,
        new.effective_at,
        &new.quality,
        thresholds,
        history,
    )
}

/// Triage of one measurement whose values are all exact. Pure: the caller supplies
/// thresholds and history. See [`triage_reading`].
pub fn triage(
    measurement: &Measurement,
    effective_at: Timestamp,
    quality: &QualityFlags,
    thresholds: &ThresholdSet,
    history: &TriageHistory,
) -> TriageResult {
    triage_bounded(measurement, &[], effective_at, quality, thresholds, history)
}

/// The worst band over the measurement's metrics decides; the first metric (in the
/// kind's order) with that band gives the reason. A value the device could only bound
/// gets the worst band it could have. Poor quality turns any band into
/// [`Band::MeasureAgain`], keeping the values' own band in `value_band`. An irregular
/// pulse adds a [`Finding`] and leaves the band to the values.
fn triage_bounded(
    measurement: &Measurement,
    off_scale: &[OffScale],
    effective_at: Timestamp,
    quality: &QualityFlags,
    thresholds: &ThresholdSet,
    history: &TriageHistory,
) -> TriageResult {
    let kind = measurement.kind();
    let mut worst: Option<(Band, Metric, TriageReason)> = None;
    let mut consider = |band: Band, metric: Metric, reason: TriageReason| {
        if worst
            .as_ref()
            .is_none_or(|(b, _, _)| band.severity() > b.severity())
        {
            worst = Some((band, metric, reason));
        }
    };

    for (metric, value) in measurement.values() {
        let Some(bands) = thresholds.for_metric(metric) else {
            continue;
        };
        match comparator_of(off_scale, metric) {
            Some(comparator) => {
                let band = bands.classify_beyond(value, comparator);
                let reason = TriageReason::BeyondDeviceRange {
                    metric,
                    comparator,
                    limit: value,
                };
                consider(band, metric, reason);
            }
            None => {
                let band = bands.classify(value);
                let reason = metric_reason(metric, bands, band, value)
                    .unwrap_or(TriageReason::WithinTargets { kind });
                consider(band, metric, reason);
            }
        }
    }

    // A weight the scale could only bound says nothing exact about a gain.
    let exact_weight = comparator_of(off_scale, Metric::Weight).is_none();
    if let (Measurement::BodyWeight { kg }, true) = (*measurement, exact_weight) {
        for rule in &thresholds.weight_gain {
            let since = effective_at - SignedDuration::from_hours(24 * i64::from(rule.over_days));
            let Some(lowest) = history.lowest_weight(since, effective_at) else {
                continue;
            };
            let (max_gain_kg, days) = (rule.max_gain_kg, rule.over_days);
            if kg - lowest > rule.max_gain_kg {
                consider(
                    rule.band,
                    Metric::Weight,
                    TriageReason::WeightGain { max_gain_kg, days },
                );
            } else {
                consider(
                    Band::Green,
                    Metric::Weight,
                    TriageReason::NoWeightGain { max_gain_kg, days },
                );
            }
        }
    }

    let (value_band, metric, reason) = worst.unwrap_or_else(|| {
        let reason = match kind {
            ReadingKind::PeakExpiratoryFlow => TriageReason::NoPersonalBest,
            ReadingKind::BodyWeight => TriageReason::NoEarlierWeight,
            _ => TriageReason::NoTargets { kind },
        };
        (Band::NotAssessed, kind.metrics()[0], reason)
    });

    let mut findings = Vec::new();
    if quality.irregular_pulse {
        let since = effective_at - TriageHistory::IRREGULAR_PULSE_WINDOW;
        findings.push(Finding::IrregularPulse {
            repeated: history.irregular_pulses(since, effective_at) > 0,
            known_arrhythmia: thresholds.known_arrhythmia,
        });
    }

    if quality.is_poor() {
        return TriageResult {
            band: Band::MeasureAgain,
            value_band,
            rule: thresholds.rule,
            metric: None,
            reason: TriageReason::PoorQuality {
                flags: *quality,
                values_red: value_band == Band::Red,
            },
            findings,
        };
    }

    TriageResult {
        band: value_band,
        value_band,
        rule: thresholds.rule,
        metric: Some(metric),
        reason,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at() -> Timestamp {
        "2026-11-24T08:00:00Z".parse().expect("valid time")
    }

    #[test]
    fn reason_code_is_the_stored_tag() {
        let reasons = [
            TriageReason::WithinTargets {
                kind: ReadingKind::BloodPressure,
            },
            TriageReason::AboveTarget {
                metric: Metric::Systolic,
                limit: 135.0,
            },
            TriageReason::BelowTarget {
                metric: Metric::SpO2,
                limit: 92.0,
            },
            TriageReason::VeryHigh {
                metric: Metric::Glucose,
                limit: 15.0,
            },
            TriageReason::VeryLow {
                metric: Metric::Glucose,
                limit: 3.0,
            },
            TriageReason::WeightGain {
                max_gain_kg: 2.0,
                days: 3,
            },
            TriageReason::NoWeightGain {
                max_gain_kg: 2.0,
                days: 3,
            },
            TriageReason::PoorQuality {
                flags: QualityFlags::GOOD,
                values_red: false,
            },
            TriageReason::NoPersonalBest,
            TriageReason::NoEarlierWeight,
            TriageReason::NoTargets {
                kind: ReadingKind::Steps,
            },
        ];
        for reason in reasons {
            let stored = serde_json::to_value(&reason).expect("serializes");
            assert_eq!(stored["code"], reason.code(), "{reason:?}");
        }
    }

    fn classify(m: Measurement) -> Band {
        triage(
            &m,
            at(),
            &QualityFlags::GOOD,
            &ThresholdSet::default_for(m.kind()),
            &TriageHistory::default(),
        )
        .band
    }

    fn bp(s: f64, d: f64) -> Measurement {
        Measurement::BloodPressure {
            systolic: s,
            diastolic: d,
            pulse: None,
        }
    }

    /// Every band boundary of every default, from both sides.
    #[test]
    fn default_boundaries() {
        use Band::*;
        let table: Vec<(Measurement, Band)> = vec![
            // Systolic (diastolic held green at 70).
            (bp(89.0, 70.0), Red),
            (bp(90.0, 70.0), Yellow),
            (bp(99.0, 70.0), Yellow),
            (bp(100.0, 70.0), Green),
            (bp(134.0, 70.0), Green),
            (bp(134.5, 70.0), Yellow),
            (bp(135.0, 70.0), Yellow),
            (bp(179.0, 70.0), Yellow),
            (bp(180.0, 70.0), Red),
            // Diastolic (systolic held green at 120).
            (bp(120.0, 39.0), Red),
            (bp(120.0, 40.0), Yellow),
            (bp(120.0, 59.0), Yellow),
            (bp(120.0, 60.0), Green),
            (bp(120.0, 84.0), Green),
            (bp(120.0, 85.0), Yellow),
            (bp(130.0, 109.0), Yellow),
            (bp(130.0, 110.0), Red),
            // Heart rate, NEWS2.
            (Measurement::HeartRate { bpm: 40.0 }, Red),
            (Measurement::HeartRate { bpm: 41.0 }, Yellow),
            (Measurement::HeartRate { bpm: 50.0 }, Yellow),
            (Measurement::HeartRate { bpm: 51.0 }, Green),
            (Measurement::HeartRate { bpm: 90.0 }, Green),
            (Measurement::HeartRate { bpm: 91.0 }, Yellow),
            (Measurement::HeartRate { bpm: 130.0 }, Yellow),
            (Measurement::HeartRate { bpm: 131.0 }, Red),
            // SpO2, NEWS2 scale 1.
            (
                Measurement::OxygenSaturation {
                    percent: 91.0,
                    pulse: None,
                },
                Red,
            ),
            (
                Measurement::OxygenSaturation {
                    percent: 92.0,
                    pulse: None,
                },
                Yellow,
            ),
            (
                Measurement::OxygenSaturation {
                    percent: 95.0,
                    pulse: None,
                },
                Yellow,
            ),
            (
                Measurement::OxygenSaturation {
                    percent: 96.0,
                    pulse: None,
                },
                Green,
            ),
            (
                Measurement::OxygenSaturation {
                    percent: 100.0,
                    pulse: None,
                },
                Green,
            ),
            // Temperature, NEWS2.
            (Measurement::BodyTemperature { celsius: 35.0 }, Red),
            (Measurement::BodyTemperature { celsius: 35.1 }, Yellow),
            (Measurement::BodyTemperature { celsius: 36.0 }, Yellow),
            (Measurement::BodyTemperature { celsius: 36.1 }, Green),
            (Measurement::BodyTemperature { celsius: 38.0 }, Green),
            (Measurement::BodyTemperature { celsius: 38.05 }, Yellow),
            (Measurement::BodyTemperature { celsius: 38.1 }, Yellow),
            (Measurement::BodyTemperature { celsius: 39.0 }, Yellow),
            (Measurement::BodyTemperature { celsius: 39.1 }, Red),
            // Glucose, time-in-range consensus.
            (Measurement::BloodGlucose { mmol_per_l: 2.9 }, Red),
            (Measurement::BloodGlucose { mmol_per_l: 3.0 }, Yellow),
            (Measurement::BloodGlucose { mmol_per_l: 3.8 }, Yellow),
            (Measurement::BloodGlucose { mmol_per_l: 3.85 }, Yellow),
            (Measurement::BloodGlucose { mmol_per_l: 3.9 }, Green),
            (Measurement::BloodGlucose { mmol_per_l: 10.0 }, Green),
            (Measurement::BloodGlucose { mmol_per_l: 10.1 }, Yellow),
            (Measurement::BloodGlucose { mmol_per_l: 13.9 }, Yellow),
            (Measurement::BloodGlucose { mmol_per_l: 14.0 }, Red),
            // CAT.
            (Measurement::CatScore { score: 9.0 }, Green),
            (Measurement::CatScore { score: 10.0 }, Yellow),
            (Measurement::CatScore { score: 20.0 }, Yellow),
            (Measurement::CatScore { score: 21.0 }, Red),
            // Not assessed by default.
            (Measurement::Steps { count: 12.0 }, NotAssessed),
            (
                Measurement::PeakExpiratoryFlow { l_per_min: 100.0 },
                NotAssessed,
            ),
            (Measurement::BodyWeight { kg: 80.0 }, NotAssessed),
        ];
        for (m, expected) in table {
            assert_eq!(classify(m), expected, "{m:?}");
        }
    }

    #[test]
    fn the_worst_metric_decides_and_names_itself() {
        let m = Measurement::BloodPressure {
            systolic: 142.0,
            diastolic: 112.0,
            pulse: Some(72.0),
        };
        let r = triage(
            &m,
            at(),
            &QualityFlags::GOOD,
            &ThresholdSet::default_for(ReadingKind::BloodPressure),
            &TriageHistory::default(),
        );
        assert_eq!(r.band, Band::Red);
        assert_eq!(r.metric, Some(Metric::Diastolic));
        assert_eq!(
            r.reason_text().sv,
            "Undre trycket (diastoliskt) mycket högt, över 109 mmHg"
        );
        assert_eq!(
            r.reason_text().en,
            "Diastolic pressure very high, above 109 mmHg"
        );
        assert_eq!(r.rule.to_string(), "default-v1");

        let green = triage(
            &bp(120.0, 80.0),
            at(),
            &QualityFlags::GOOD,
            &ThresholdSet::default_for(ReadingKind::BloodPressure),
            &TriageHistory::default(),
        );
        assert_eq!(green.reason_text().sv, "Blodtryck inom målvärdena");
        assert_eq!(green.reason_text().en, "Blood pressure within targets");
    }

    #[test]
    fn poor_quality_means_measure_again_not_red() {
        let q = QualityFlags {
            cuff_fit_poor: true,
            ..QualityFlags::GOOD
        };
        let r = triage(
            &bp(190.0, 95.0),
            at(),
            &q,
            &ThresholdSet::default_for(ReadingKind::BloodPressure),
            &TriageHistory::default(),
        );
        assert_eq!(r.band, Band::MeasureAgain);
        assert_eq!(r.value_band, Band::Red);
        assert!(
            r.reason_text().sv.contains("manschetten"),
            "{}",
            r.reason_text().sv
        );
        assert!(
            r.reason_text().en.contains("advice for red"),
            "{}",
            r.reason_text().en
        );
    }

    #[test]
    fn care_team_thresholds_replace_the_defaults() {
        let set = ThresholdSet {
            kind: ReadingKind::BloodPressure,
            rule: RuleVersion {
                origin: ThresholdOrigin::CareTeam,
                version: 3,
            },
            metrics: vec![MetricThreshold {
                metric: Metric::Systolic,
                bands: Bands::new(Range::between(110.0, 150.0), Range::between(95.0, 170.0)),
            }],
            weight_gain: vec![],
            personal_best: None,
            known_arrhythmia: false,
        };
        assert_eq!(set.validate(), Ok(()));
        let r = triage(
            &bp(145.0, 100.0),
            at(),
            &QualityFlags::GOOD,
            &set,
            &TriageHistory::default(),
        );
        // Diastolic has no care-team threshold, so only systolic is assessed.
        assert_eq!(r.band, Band::Green);
        assert_eq!(r.rule.to_string(), "careteam-v3");
    }

    #[test]
    fn weight_gain_over_three_days() {
        let set = ThresholdSet::default_for(ReadingKind::BodyWeight);
        let day = SignedDuration::from_hours(24);
        let mut ctx = TriageHistory::new();
        for (n, (t, kg)) in [
            (at() - day * 4, 70.0),
            (at() - day * 2, 80.0),
            (at() - day, 81.0),
        ]
        .into_iter()
        .enumerate()
        {
            let id = crate::domain::reading::ReadingId(uuid::Uuid::from_u128(n as u128));
            ctx.add(id, &Measurement::BodyWeight { kg }, t, &QualityFlags::GOOD);
        }
        let w = |kg| {
            triage(
                &Measurement::BodyWeight { kg },
                at(),
                &QualityFlags::GOOD,
                &set,
                &ctx,
            )
            .band
        };
        assert_eq!(w(82.0), Band::Green); // +2.0 kg on the lowest in 3 days (80): not more than 2.
        assert_eq!(w(82.1), Band::Yellow);
    }

    fn irregular(repeat_days_ago: Option<i64>) -> TriageHistory {
        let mut h = TriageHistory::new();
        if let Some(days) = repeat_days_ago {
            let id = crate::domain::reading::ReadingId(uuid::Uuid::from_u128(7));
            let q = QualityFlags {
                irregular_pulse: true,
                ..QualityFlags::GOOD
            };
            h.add(
                id,
                &bp(128.0, 80.0),
                at() - SignedDuration::from_hours(24 * days),
                &q,
            );
        }
        h
    }

    /// Irregular pulse is a finding beside the values' band, never "measure again";
    /// repeated within a week it asks for contact unless the arrhythmia is known.
    #[test]
    fn irregular_pulse_is_a_finding_not_a_quality_failure() {
        use FindingAction::*;
        let flags = |irregular: bool, loose: bool| QualityFlags {
            irregular_pulse: irregular,
            cuff_fit_poor: loose,
            ..QualityFlags::GOOD
        };
        let mut known = ThresholdSet::default_for(ReadingKind::BloodPressure);
        known.known_arrhythmia = true;
        let default = ThresholdSet::default_for(ReadingKind::BloodPressure);
        // (values, flags, earlier irregular pulse N days ago, thresholds) →
        // (band, value band, finding action)
        type Row<'a> = (
            Measurement,
            QualityFlags,
            Option<i64>,
            &'a ThresholdSet,
            Band,
            Band,
            Option<FindingAction>,
        );
        let table: Vec<Row<'_>> = vec![
            (
                bp(120.0, 75.0),
                flags(true, false),
                None,
                &default,
                Band::Green,
                Band::Green,
                Some(MeasureAgainLater),
            ),
            (
                bp(150.0, 95.0),
                flags(true, false),
                None,
                &default,
                Band::Yellow,
                Band::Yellow,
                Some(MeasureAgainLater),
            ),
            (
                bp(190.0, 95.0),
                flags(true, false),
                None,
                &default,
                Band::Red,
                Band::Red,
                Some(MeasureAgainLater),
            ),
            (
                bp(120.0, 75.0),
                flags(true, false),
                Some(3),
                &default,
                Band::Green,
                Band::Green,
                Some(ContactCareUnit),
            ),
            (
                bp(120.0, 75.0),
                flags(true, false),
                Some(8),
                &default,
                Band::Green,
                Band::Green,
                Some(MeasureAgainLater),
            ),
            (
                bp(120.0, 75.0),
                flags(true, false),
                Some(3),
                &known,
                Band::Green,
                Band::Green,
                Some(Note),
            ),
            (
                bp(190.0, 95.0),
                flags(true, false),
                Some(3),
                &known,
                Band::Red,
                Band::Red,
                Some(Note),
            ),
            // A real quality flag still asks for a new measurement; the finding stays.
            (
                bp(190.0, 95.0),
                flags(true, true),
                Some(3),
                &default,
                Band::MeasureAgain,
                Band::Red,
                Some(ContactCareUnit),
            ),
            (
                bp(190.0, 95.0),
                flags(false, true),
                None,
                &default,
                Band::MeasureAgain,
                Band::Red,
                None,
            ),
            (
                bp(120.0, 75.0),
                flags(false, false),
                Some(1),
                &default,
                Band::Green,
                Band::Green,
                None,
            ),
        ];
        for (i, (m, q, earlier, set, band, value_band, action)) in table.into_iter().enumerate() {
            let r = triage(&m, at(), &q, set, &irregular(earlier));
            assert_eq!((r.band, r.value_band), (band, value_band), "row {i}");
            assert_eq!(r.findings.first().map(Finding::action), action, "row {i}");
            if action == Some(ContactCareUnit) {
                assert!(r.advice().sv.contains("Kontakta din vårdenhet"), "row {i}");
                assert!(r.advice().en.contains("Contact your care unit"), "row {i}");
            }
            if q.is_poor() {
                assert!(!r.reason_text().en.contains("irregular"), "row {i}");
            }
        }
    }

    /// A red value under a quality flag keeps the red advice beside "measure again".
    #[test]
    fn a_red_value_under_a_quality_flag_is_not_hidden() {
        let q = QualityFlags {
            body_movement: true,
            ..QualityFlags::GOOD
        };
        let set = ThresholdSet::default_for(ReadingKind::BloodPressure);
        let red = triage(&bp(200.0, 95.0), at(), &q, &set, &TriageHistory::new());
        assert!(red.values_red());
        assert!(red.advice().sv.contains("ring 1177"), "{}", red.advice().sv);
        assert!(red.advice().en.contains("call 1177"), "{}", red.advice().en);
        let green = triage(&bp(120.0, 75.0), at(), &q, &set, &TriageHistory::new());
        assert!(!green.values_red());
        assert!(!green.advice().en.contains("1177"));
    }

    /// A value a device could only bound is triaged as the worst value it could be.
    #[test]
    fn off_scale_values_take_the_worst_band_beyond_the_limit() {
        let g = |v: f64, c: Comparator| {
            let new = NewReading {
                off_scale: vec![OffScale {
                    metric: Metric::Glucose,
                    comparator: c,
                }],
                ..NewReading::manual(
                    Measurement::BloodGlucose { mmol_per_l: v },
                    at(),
                    jiff::tz::Offset::UTC,
                )
            };
            triage_reading(
                &new,
                &ThresholdSet::default_for(ReadingKind::BloodGlucose),
                &TriageHistory::new(),
            )
        };
        let hi = g(33.3, Comparator::Above);
        assert_eq!(hi.band, Band::Red);
        assert_eq!(hi.reason.code(), "beyond_device_range");
        assert!(
            hi.reason_text().sv.contains("över 33.3 mmol/L"),
            "{}",
            hi.reason_text().sv
        );
        assert_eq!(g(1.1, Comparator::Below).band, Band::Red);
        // Even a limit inside the targets: "above 5.0" may be far above.
        assert_eq!(g(5.0, Comparator::Above).band, Band::Red);
        // Bands without an upper end: above the green start is at worst yellow…
        let open = Bands::new(Range::at_least(400.0), Range::at_least(250.0));
        assert_eq!(open.classify_beyond(300.0, Comparator::Above), Band::Yellow);
        assert_eq!(open.classify_beyond(450.0, Comparator::Above), Band::Green);
        // …and below any limit lies red.
        assert_eq!(open.classify_beyond(450.0, Comparator::Below), Band::Red);
    }

    #[test]
    fn peak_flow_zones_from_personal_best() {
        let set = ThresholdSet::peak_flow_zones(
            500.0,
            RuleVersion {
                origin: ThresholdOrigin::CareTeam,
                version: 1,
            },
        );
        assert_eq!(set.validate(), Ok(()));
        let pef = |v| {
            triage(
                &Measurement::PeakExpiratoryFlow { l_per_min: v },
                at(),
                &QualityFlags::GOOD,
                &set,
                &TriageHistory::default(),
            )
            .band
        };
        assert_eq!(pef(400.0), Band::Green);
        assert_eq!(pef(399.0), Band::Yellow);
        assert_eq!(pef(250.0), Band::Yellow);
        assert_eq!(pef(249.0), Band::Red);
    }

    #[test]
    fn invalid_threshold_sets_are_refused() {
        let mut set = ThresholdSet::default_for(ReadingKind::BloodPressure);
        set.metrics[0].bands.green = Range::between(80.0, 150.0);
        assert_eq!(set.validate(), Err(ThresholdError::GreenOutsideYellow));
        let mut set = ThresholdSet::default_for(ReadingKind::HeartRate);
        set.metrics[0].metric = Metric::Glucose;
        assert_eq!(set.validate(), Err(ThresholdError::MetricNotOfKind));
        let mut set = ThresholdSet::default_for(ReadingKind::Steps);
        set.metrics.push(MetricThreshold {
            metric: Metric::Steps,
            bands: Bands::new(Range::between(5.0, 1.0), Range::between(0.0, 10.0)),
        });
        assert_eq!(set.validate(), Err(ThresholdError::InvalidRange));
    }

    #[test]
    fn every_default_set_is_valid_and_every_band_has_a_distinct_symbol() {
        for kind in ReadingKind::ALL {
            assert_eq!(ThresholdSet::default_for(kind).validate(), Ok(()), "{kind}");
        }
        let bands = Band::ALL;
        for a in bands {
            for b in bands {
                if a != b {
                    assert_ne!(a.symbol(), b.symbol());
                    assert_ne!(a.shape(), b.shape());
                }
            }
        }
    }

    proptest! {
        /// Bands are monotone: moving a value away from the green range never makes the
        /// band better.
        #[test]
        fn moving_away_from_green_never_improves(a in 80.0f64..200.0, b in 80.0f64..200.0) {
            let set = ThresholdSet::default_for(ReadingKind::HeartRate);
            let bands = set.for_metric(Metric::HeartRate).expect("has bands");
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            // Above the green range's middle, higher is never better.
            if lo >= 70.0 {
                prop_assert!(bands.classify(hi).severity() >= bands.classify(lo).severity());
            }
        }

        /// Reasons never contain the measured value.
        #[test]
        fn reasons_do_not_echo_the_value(s in 181.0f64..299.0) {
            let s = (s * 10.0).round() / 10.0 + 0.03; // a value no limit can equal
            let r = triage(&bp(s, 80.0), at(), &QualityFlags::GOOD,
                &ThresholdSet::default_for(ReadingKind::BloodPressure), &TriageHistory::default());
            let shown = format!("{s:.0}");
            prop_assert!(!r.reason_text().sv.contains(&shown) || shown == "179");
        }
    }
}
