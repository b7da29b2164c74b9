//! Scores of self-assessment forms (such as CAT), and the reading a score becomes.
//!
//! How a form declares its score is described in the [module docs](super#scores).

use jiff::Timestamp;
use jiff::tz::Offset;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::answers::Answers;
use super::enable::enabled;
use super::model::{Form, scored_items};
use crate::domain::reading::{Measurement, NewReading, ReadingKind};

/// The score of one filled-in form.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The reading kind the score is.
    pub kind: ReadingKind,
    /// The score: the table's value for the raw sum, or the raw sum without a table.
    /// For an incomplete form, the raw sum of what is answered so far.
    pub value: f64,
    /// The sum of the ordinal values of the answers.
    pub raw: f64,
    /// Every enabled scored item has an answer with an ordinal value.
    pub complete: bool,
    /// How many enabled scored items are answered.
    pub answered: usize,
    /// How many scored items are enabled.
    pub expected: usize,
}

/// Why a score does not become a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ScoreError {
    /// Some scored items are unanswered: an incomplete score is never stored.
    #[error("the form is not completely answered")]
    Incomplete,
    /// The raw sum falls outside the score table (a form built by hand).
    #[error("the raw sum is not in the score table")]
    OutsideTable,
    /// The score's kind has no measurement (a form built by hand).
    #[error("the score kind is not a score reading")]
    NotAScore,
}

/// The score of `form` given `answers`, or `None` if the form declares none.
///
/// Only enabled items count. An answer that is not one of the options, or an option
/// without an ordinal value, leaves its item unanswered for the score.
pub fn score(form: &Form, answers: &Answers) -> Option<Score> {
    let rule = form.score.as_ref()?;
    let on = enabled(form, answers);
    let mut raw = 0.0;
    let mut answered = 0;
    let mut expected = 0;
    for item in scored_items(form) {
        if !on.contains(&item.link_id) {
            continue;
        }
        expected += 1;
        let ordinals: Vec<f64> = answers
            .get(&item.link_id)
            .iter()
            .filter_map(|a| {
                item.answer_options
                    .iter()
                    .find(|o| a.equals(&o.value))
                    .and_then(|o| o.ordinal)
            })
            .collect();
        if !ordinals.is_empty() {
            answered += 1;
            raw += ordinals.iter().sum::<f64>();
        }
    }
    let complete = answered == expected;
    let value = if complete {
        rule.lookup(raw).unwrap_or(f64::NAN)
    } else {
        raw
    };
    Some(Score {
        kind: rule.kind,
        value,
        raw,
        complete,
        answered,
        expected,
    })
}

/// The reading a complete score becomes, taken at `effective_at` (when the form was
/// completed) in the patient's `offset`, so triage and trends apply to it.
pub fn score_reading(
    score: &Score,
    effective_at: Timestamp,
    offset: Offset,
) -> Result<NewReading, ScoreError> {
    if !score.complete {
        return Err(ScoreError::Incomplete);
    }
    if !score.value.is_finite() {
        return Err(ScoreError::OutsideTable);
    }
    let measurement = match score.kind {
        ReadingKind::CatScore => Measurement::CatScore { score: score.value },
        _ => return Err(ScoreError::NotAScore),
    };
    Ok(NewReading::manual(measurement, effective_at, offset))
}
