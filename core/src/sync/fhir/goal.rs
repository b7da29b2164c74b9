//! The care team's thresholds as FHIR `Goal`s, to and from [`ThresholdSet`].
//!
//! One Goal per patient and reading kind:
//! - `lifecycleStatus`: only `active` applies; any other status (`on-hold`,
//!   `completed`, `cancelled`, `entered-in-error`, ...) withdraws the care team's
//!   thresholds for that kind, so Nära's defaults apply again;
//! - `description.coding`: the kind's Observation code (e.g. LOINC 85354-9 for blood
//!   pressure), which says which kind the Goal is for;
//! - `target[]`: one per metric and band, `measure` = the metric's code, `detailRange`
//!   in the metric's canonical UCUM unit, the band (`green` or `yellow`) in the
//!   extension `https://nara.se/fhir/StructureDefinition/band`; red is outside yellow;
//! - weight-gain rules (heart failure) in the complex extension
//!   `https://nara.se/fhir/StructureDefinition/weight-gain-rule` on the Goal;
//! - peak flow: the patient's personal best in the extension
//!   `https://nara.se/fhir/StructureDefinition/personal-best` (valueQuantity, L/min) on
//!   the peak-flow Goal, from which the zones follow (green ≥ 80 %, yellow ≥ 50 %, red
//!   below; GINA, NAEPP EPR-3); such a Goal has no targets of its own;
//! - a known arrhythmia (atrial fibrillation) in the extension
//!   `https://nara.se/fhir/StructureDefinition/known-arrhythmia` (valueBoolean) on the
//!   blood-pressure or heart-rate Goal: an irregular pulse is then only noted;
//! - a Goal without ranges (a weight rule or the arrhythmia mark alone) keeps the
//!   default ranges of its kind;
//! - the rule version is `meta.versionId` (a number), else `meta.lastUpdated` in Unix
//!   seconds.
//!
//! Reading never fails silently: anything unknown is a [`DownloadError`] naming the Goal
//! and element. The exact format, with an example, is in `docs/adr/0007-fhir-mapping.md`.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::domain::reading::{LOINC_SYSTEM, Metric, ReadingKind};
use crate::domain::triage::{
    Band, Bands, MetricThreshold, Range as BandRange, RuleVersion, ThresholdOrigin, ThresholdSet,
    WeightGainRule,
};
use crate::sync::fhir::json::{Doc, DownloadError, Problem, join};
use crate::sync::fhir::observation::{SPO2_PROFILE_CODE, band_code};
use crate::sync::fhir::types::{
    CodeableConcept, Extension, ExtensionValue, Quantity, Range, Reference, decimal,
};
use crate::sync::fhir::{FhirError, PatientId, UCUM_SYSTEM};

/// Extension on `Goal.target` (valueCode `green` | `yellow`): the band the range is.
pub const EXT_BAND: &str = "https://nara.se/fhir/StructureDefinition/band";
/// Complex extension on `Goal`: a weight-gain rule, with `maxGain` (valueQuantity, kg),
/// `days` (valueInteger) and `band` (valueCode `yellow` | `red`).
pub const EXT_WEIGHT_GAIN_RULE: &str = "https://nara.se/fhir/StructureDefinition/weight-gain-rule";

/// Extension on a peak-flow `Goal` (valueQuantity, L/min): the personal best.
pub const EXT_PERSONAL_BEST: &str = "https://nara.se/fhir/StructureDefinition/personal-best";
/// Extension on a `Goal` (valueBoolean): the care team knows of an arrhythmia.
pub const EXT_KNOWN_ARRHYTHMIA: &str = "https://nara.se/fhir/StructureDefinition/known-arrhythmia";

/// A Goal as downloaded: which kind it is for and, if it is active, its thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadedGoal {
    /// The Goal's resource id.
    pub goal_id: String,
    /// The kind it sets thresholds for.
    pub kind: ReadingKind,
    /// `meta.lastUpdated`, to choose the newest when two Goals name the same kind.
    pub last_updated: Option<Timestamp>,
    /// The thresholds (origin care team) if the Goal is `active`; `None` if it is not,
    /// which means: the care team's thresholds for `kind` are withdrawn.
    pub thresholds: Option<ThresholdSet>,
}

/// Minimal `Goal` as Nära writes it (for the nurse simulator and tests).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "resourceType", rename_all = "camelCase")]
pub struct Goal {
    /// Weight-gain rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// `active`.
    pub lifecycle_status: String,
    /// The kind's Observation code.
    pub description: CodeableConcept,
    /// `Patient/<id>`.
    pub subject: Reference,
    /// One per metric and band.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target: Vec<GoalTarget>,
}

/// One `Goal.target`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GoalTarget {
    /// The band extension.
    pub extension: Vec<Extension>,
    /// The metric's code.
    pub measure: CodeableConcept,
    /// The band's range.
    pub detail_range: Range,
}

fn range(metric: Metric, r: &BandRange) -> Result<Range, FhirError> {
    let q = |v: Option<f64>| {
        v.map(|v| {
            // Limits keep the precision they were set with (a personal-best zone can be
            // 336.0 L/min), up to 3 decimals.
            Ok::<_, FhirError>(Quantity {
                value: decimal(v, if v.fract() == 0.0 { 0 } else { 3 })?,
                ..Quantity::metric(metric, 0.0)?
            })
        })
        .transpose()
    };
    Ok(Range {
        low: q(r.low)?,
        high: q(r.high)?,
    })
}

/// The Goal for `set`, about `patient`, `active`. Its `meta` (and so the version) is the
/// server's to assign.
pub fn goal_from_thresholds(set: &ThresholdSet, patient: &PatientId) -> Result<Goal, FhirError> {
    let mut target = Vec::new();
    // Zones from a personal best are written as the personal best alone.
    let metrics: &[MetricThreshold] = if set.personal_best.is_some() {
        &[]
    } else {
        &set.metrics
    };
    for t in metrics {
        for (band, r) in [
            (Band::Green, &t.bands.green),
            (Band::Yellow, &t.bands.yellow),
        ] {
            target.push(GoalTarget {
                extension: vec![Extension::code(EXT_BAND, band_code(band))],
                measure: CodeableConcept::one(t.metric.code().into()),
                detail_range: range(t.metric, r)?,
            });
        }
    }
    let mut extension: Vec<Extension> = set
        .weight_gain
        .iter()
        .map(|w| {
            Ok(Extension {
                url: EXT_WEIGHT_GAIN_RULE.to_owned(),
                value: ExtensionValue::Nested(vec![
                    Extension {
                        url: "maxGain".to_owned(),
                        value: ExtensionValue::Quantity(Quantity::ucum(w.max_gain_kg, 3, "kg")?),
                    },
                    Extension {
                        url: "days".to_owned(),
                        value: ExtensionValue::Integer(i64::from(w.over_days)),
                    },
                    Extension::code("band", band_code(w.band)),
                ]),
            })
        })
        .collect::<Result<_, FhirError>>()?;
    if let Some(best) = set.personal_best {
        extension.push(Extension {
            url: EXT_PERSONAL_BEST.to_owned(),
            value: ExtensionValue::Quantity(Quantity::metric(Metric::PeakFlow, best)?),
        });
    }
    if set.known_arrhythmia {
        extension.push(Extension {
            url: EXT_KNOWN_ARRHYTHMIA.to_owned(),
            value: ExtensionValue::Boolean(true),
        });
    }
    let label = set.kind.label();
    Ok(Goal {
        extension,
        lifecycle_status: "active".to_owned(),
        description: CodeableConcept {
            coding: vec![set.kind.code().into()],
            text: Some(format!("Målvärden: {}", label.sv)),
        },
        subject: Reference::literal(patient.reference()),
        target,
    })
}

/// The kind whose Observation code `(system, code)` is (2708-6 also names oxygen
/// saturation).
pub fn kind_from_code(system: &str, code: &str) -> Option<ReadingKind> {
    if system == LOINC_SYSTEM && code == SPO2_PROFILE_CODE {
        return Some(ReadingKind::OxygenSaturation);
    }
    ReadingKind::ALL.into_iter().find(|k| {
        let c = k.code();
        c.system == system && c.code == code
    })
}

/// The metric of `kind` whose code is `(system, code)`.
pub fn metric_from_code(kind: ReadingKind, system: &str, code: &str) -> Option<Metric> {
    if kind == ReadingKind::OxygenSaturation && system == LOINC_SYSTEM && code == SPO2_PROFILE_CODE
    {
        return Some(Metric::SpO2);
    }
    kind.metrics().iter().copied().find(|m| {
        let c = m.code();
        c.system == system && c.code == code
    })
}

/// The first coding of the CodeableConcept `v.key` that `find` recognises.
pub(crate) fn find_coding<T>(
    doc: &Doc,
    v: &Value,
    key: &str,
    path: &str,
    find: impl Fn(&str, &str) -> Option<T>,
) -> Result<T, DownloadError> {
    let cc_path = join(path, key);
    let cc = doc.req(v, key, path)?;
    let codings = doc.array(cc, "coding", &cc_path)?;
    if codings.is_empty() {
        return Err(doc.err(join(&cc_path, "coding"), Problem::Missing));
    }
    for (i, c) in codings.iter().enumerate() {
        let p = format!("{cc_path}.coding[{i}]");
        let (Some(system), Some(code)) =
            (doc.opt_str(c, "system", &p)?, doc.opt_str(c, "code", &p)?)
        else {
            continue;
        };
        if let Some(found) = find(system, code) {
            return Ok(found);
        }
    }
    Err(doc.err(join(&cc_path, "coding"), Problem::UnknownCode))
}

/// Checks that `subject` refers to `patient` (`Patient/<id>`, relative or absolute).
pub(crate) fn check_subject(
    doc: &Doc,
    v: &Value,
    patient: &PatientId,
) -> Result<(), DownloadError> {
    let subject = doc.req(v, "subject", "")?;
    let reference = doc.str(subject, "reference", "subject")?;
    let want = patient.reference();
    if reference == want || reference.ends_with(&format!("/{want}")) {
        Ok(())
    } else {
        Err(doc.err("subject.reference", Problem::Invalid))
    }
}

/// The version of a downloaded resource: `meta.versionId` if it is a number, else
/// `meta.lastUpdated` in Unix seconds.
pub(crate) fn version(doc: &Doc, v: &Value) -> Result<(u32, Option<Timestamp>), DownloadError> {
    let meta = doc.req(v, "meta", "")?;
    let last_updated = match doc.opt_str(meta, "lastUpdated", "meta")? {
        Some(s) => Some(
            s.parse::<Timestamp>()
                .map_err(|_| doc.err("meta.lastUpdated", Problem::Invalid))?,
        ),
        None => None,
    };
    let version_id = doc
        .opt_str(meta, "versionId", "meta")?
        .and_then(|s| s.parse::<u32>().ok());
    let version = match (version_id, last_updated) {
        (Some(v), _) => v,
        (None, Some(t)) => u32::try_from(t.as_second())
            .map_err(|_| doc.err("meta.lastUpdated", Problem::Invalid))?,
        (None, None) => return Err(doc.err("meta.versionId", Problem::Missing)),
    };
    Ok((version, last_updated))
}

fn quantity(
    doc: &Doc,
    r: &Value,
    key: &str,
    path: &str,
    ucum: &str,
) -> Result<Option<f64>, DownloadError> {
    let Some(q) = r.get(key) else {
        return Ok(None);
    };
    let p = join(path, key);
    let value = doc.number(q, "value", &p)?;
    if doc.str(q, "code", &p)? != ucum {
        return Err(doc.err(join(&p, "code"), Problem::WrongUnit));
    }
    if doc
        .opt_str(q, "system", &p)?
        .is_some_and(|s| s != UCUM_SYSTEM)
    {
        return Err(doc.err(join(&p, "system"), Problem::WrongUnit));
    }
    Ok(Some(value))
}

fn code_ext(doc: &Doc, v: &Value, url: &str, path: &str) -> Result<Band, DownloadError> {
    let (p, e) = doc
        .extension(v, url, path)?
        .ok_or_else(|| doc.err(join(path, "extension"), Problem::Missing))?;
    let code = doc.str(e, "valueCode", &p)?;
    crate::sync::fhir::observation::band_from_code(code)
        .ok_or_else(|| doc.err(join(&p, "valueCode"), Problem::UnknownCode))
}

fn weight_rule(doc: &Doc, e: &Value, p: &str) -> Result<WeightGainRule, DownloadError> {
    let sub = |name: &str| {
        doc.extension(e, name, p)?
            .ok_or_else(|| doc.err(format!("{p}.extension[url={name}]"), Problem::Missing))
    };
    let (gp, gain) = sub("maxGain")?;
    let max_gain_kg = quantity(doc, gain, "valueQuantity", &gp, "kg")?
        .ok_or_else(|| doc.err(join(&gp, "valueQuantity"), Problem::Missing))?;
    let (dp, days) = sub("days")?;
    let over_days = doc
        .req(days, "valueInteger", &dp)?
        .as_u64()
        .and_then(|d| u32::try_from(d).ok())
        .ok_or_else(|| doc.err(join(&dp, "valueInteger"), Problem::Invalid))?;
    let band = code_ext(doc, e, "band", p)?;
    Ok(WeightGainRule {
        max_gain_kg,
        over_days,
        band,
    })
}

/// Reads a downloaded Goal about `patient`.
pub fn thresholds_from_goal(
    goal: &Value,
    patient: &PatientId,
) -> Result<DownloadedGoal, DownloadError> {
    let doc = Doc::open(goal, "Goal")?;
    check_subject(&doc, goal, patient)?;
    let kind = find_coding(&doc, goal, "description", "", kind_from_code)?;
    let (version, last_updated) = version(&doc, goal)?;
    let status = doc.str(goal, "lifecycleStatus", "")?;
    let downloaded = |thresholds| DownloadedGoal {
        goal_id: doc.id.clone(),
        kind,
        last_updated,
        thresholds,
    };
    if status != "active" {
        return Ok(downloaded(None));
    }

    let mut green: Vec<(Metric, BandRange)> = Vec::new();
    let mut yellow: Vec<(Metric, BandRange)> = Vec::new();
    for (i, t) in doc.array(goal, "target", "")?.iter().enumerate() {
        let p = format!("target[{i}]");
        let metric = find_coding(&doc, t, "measure", &p, |s, c| metric_from_code(kind, s, c))?;
        for other in [
            "detailQuantity",
            "detailCodeableConcept",
            "detailString",
            "detailBoolean",
            "detailInteger",
            "detailRatio",
        ] {
            if t.get(other).is_some() {
                return Err(doc.err(join(&p, other), Problem::Unsupported));
            }
        }
        let rp = join(&p, "detailRange");
        let r = doc.req(t, "detailRange", &p)?;
        let ucum = metric.ucum();
        let range = BandRange {
            low: quantity(&doc, r, "low", &rp, ucum)?,
            high: quantity(&doc, r, "high", &rp, ucum)?,
        };
        if range.low.is_none() && range.high.is_none() {
            return Err(doc.err(rp, Problem::Missing));
        }
        let list = match code_ext(&doc, t, EXT_BAND, &p)? {
            Band::Green => &mut green,
            Band::Yellow => &mut yellow,
            _ => return Err(doc.err(format!("{p}.extension[url={EXT_BAND}]"), Problem::Invalid)),
        };
        if list.iter().any(|(m, _)| *m == metric) {
            return Err(doc.err(
                p,
                Problem::Thresholds(crate::domain::triage::ThresholdError::DuplicateMetric),
            ));
        }
        list.push((metric, range));
    }
    let mut metrics = Vec::new();
    for &metric in kind.metrics() {
        let g = green.iter().find(|(m, _)| *m == metric).map(|(_, r)| *r);
        let y = yellow.iter().find(|(m, _)| *m == metric).map(|(_, r)| *r);
        match (g, y) {
            (None, None) => {}
            (Some(green), Some(yellow)) => metrics.push(MetricThreshold {
                metric,
                bands: Bands::new(green, yellow),
            }),
            (g, _) => {
                let band = if g.is_none() { "green" } else { "yellow" };
                let code = metric.code().code;
                return Err(doc.err(
                    format!("target[measure={code},band={band}]"),
                    Problem::Missing,
                ));
            }
        }
    }
    let mut weight_gain = Vec::new();
    for (p, e) in doc.extensions(goal, EXT_WEIGHT_GAIN_RULE, "")? {
        weight_gain.push(weight_rule(&doc, e, &p)?);
    }
    let rule = RuleVersion {
        origin: ThresholdOrigin::CareTeam,
        version,
    };
    let personal_best = match doc.extension(goal, EXT_PERSONAL_BEST, "")? {
        Some((p, e)) => Some(
            quantity(&doc, e, "valueQuantity", &p, Metric::PeakFlow.ucum())?
                .ok_or_else(|| doc.err(join(&p, "valueQuantity"), Problem::Missing))?,
        ),
        None => None,
    };
    let known_arrhythmia = match doc.extension(goal, EXT_KNOWN_ARRHYTHMIA, "")? {
        Some((p, e)) => doc
            .req(e, "valueBoolean", &p)?
            .as_bool()
            .ok_or_else(|| doc.err(join(&p, "valueBoolean"), Problem::Invalid))?,
        None => false,
    };
    let mut set = match personal_best {
        Some(best) => {
            if kind != ReadingKind::PeakExpiratoryFlow || !metrics.is_empty() {
                // A personal best on another kind, or beside explicit targets: which
                // should decide is not ours to guess.
                return Err(doc.err(
                    format!("extension[url={EXT_PERSONAL_BEST}]"),
                    Problem::Unsupported,
                ));
            }
            if !(best.is_finite() && best > 0.0) {
                return Err(doc.err(
                    format!("extension[url={EXT_PERSONAL_BEST}].valueQuantity.value"),
                    Problem::Invalid,
                ));
            }
            ThresholdSet::peak_flow_zones(best, rule)
        }
        None => ThresholdSet {
            kind,
            rule,
            // A Goal that sets no ranges (a weight rule or an arrhythmia mark alone)
            // leaves the default ranges in force: the care team never stops triage
            // by omission.
            metrics: if metrics.is_empty() {
                ThresholdSet::default_for(kind).metrics
            } else {
                metrics
            },
            weight_gain: Vec::new(),
            personal_best: None,
            known_arrhythmia: false,
        },
    };
    set.weight_gain = weight_gain;
    set.known_arrhythmia = known_arrhythmia;
    set.validate()
        .map_err(|e| doc.err("target", Problem::Thresholds(e)))?;
    Ok(downloaded(Some(set)))
}

/// Of several downloaded Goals, the one that decides for each kind: the most recently
/// updated (by `meta.lastUpdated`; among equals, the later in the list).
pub fn newest_per_kind(goals: Vec<DownloadedGoal>) -> Vec<DownloadedGoal> {
    let mut out: Vec<DownloadedGoal> = Vec::new();
    for g in goals {
        match out.iter_mut().find(|o| o.kind == g.kind) {
            Some(o) if g.last_updated >= o.last_updated => *o = g,
            Some(_) => {}
            None => out.push(g),
        }
    }
    out
}
