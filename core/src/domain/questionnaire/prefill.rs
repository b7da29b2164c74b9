//! Prefill: initial answers of a form from its `initial` values and recent readings.
//!
//! How an item declares its reading is described in the
//! [module docs](super#reading-link-prefill).

use jiff::{SignedDuration, Timestamp};

use super::answers::{AnswerValue, Answers};
use super::model::{Form, ItemKind, is_score_kind};
use crate::domain::reading::{Metric, Reading};
use crate::domain::units::{
    GlucoseUnit, PressureUnit, glucose_from_mmol_per_l, pressure_to_mmhg, round_to,
};

/// How old a reading may be and still prefill an item: 7 days before `now`.
pub const PREFILL_WINDOW: SignedDuration = SignedDuration::from_hours(7 * 24);

/// The answers a form starts with: each item's `initial` values (and options marked
/// `initialSelected`), then, for items linked to a reading, the newest reading of that
/// kind taken within [`PREFILL_WINDOW`] before `now` (not in the future, not
/// superseded), which replaces the initial value.
///
/// Values are converted to the item's `questionnaire-unit` when it declares one Nära
/// can convert to; otherwise the item is left as it was. Integer items get the value
/// rounded to a whole number, decimal items the metric's precision. Total items of a
/// score are calculated, never prefilled.
pub fn prefill(form: &Form, recent: &[Reading], now: Timestamp) -> Answers {
    let mut answers = Answers::new();
    let since = now - PREFILL_WINDOW;
    for item in form.all_items() {
        if !item.kind.is_question() {
            continue;
        }
        if !item.initial.is_empty() {
            let initial = if item.repeats {
                item.initial.clone()
            } else {
                item.initial.iter().take(1).cloned().collect()
            };
            answers.set(item.link_id.clone(), initial);
        }
        let Some(link) = item.reading.filter(|l| !is_score_kind(l.kind)) else {
            continue;
        };
        let newest = recent
            .iter()
            .filter(|r| r.kind() == link.kind && r.superseded_by.is_none())
            .filter(|r| r.effective_at >= since && r.effective_at <= now)
            .filter_map(|r| Some((r.effective_at, r.measurement.value(link.metric)?)))
            .max_by_key(|(at, _)| *at);
        let Some((_, canonical)) = newest else {
            continue;
        };
        let Some((value, decimals)) = convert(canonical, link.metric, item.unit.as_deref()) else {
            continue;
        };
        let value = match item.kind {
            ItemKind::Integer => AnswerValue::Integer(value.round() as i64),
            ItemKind::Decimal => AnswerValue::Decimal(round_to(value, decimals)),
            _ => continue,
        };
        answers.set_one(item.link_id.clone(), value);
    }
    answers
}

/// `value` (in `metric`'s canonical unit) in `unit`, with the decimals to keep; `None`
/// for a unit Nära cannot convert to.
fn convert(value: f64, metric: Metric, unit: Option<&str>) -> Option<(f64, u32)> {
    let canonical = metric.ucum();
    let decimals = metric.decimals();
    let Some(unit) = unit.filter(|u| *u != canonical) else {
        return Some((value, decimals));
    };
    match (metric, unit) {
        (Metric::Weight, "g") => Some((value * 1000.0, 0)),
        (Metric::Weight, "[lb_av]") => Some((value / 0.453_592_37, 1)),
        (Metric::Glucose, "mg/dL") => {
            Some((glucose_from_mmol_per_l(value, GlucoseUnit::MgPerDl), 0))
        }
        (Metric::Temperature, "[degF]") => Some((value * 9.0 / 5.0 + 32.0, 1)),
        (Metric::Systolic | Metric::Diastolic, "kPa") => {
            Some((value / pressure_to_mmhg(1.0, PressureUnit::KPa), 1))
        }
        _ => None,
    }
}
