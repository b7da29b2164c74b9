//! Questionnaires: the form model the shells render, and every rule about answers.
//!
//! The region publishes forms as FHIR R4 `Questionnaire` resources (health declarations
//! before a visit, self-assessments such as the COPD Assessment Test). This module turns
//! one into a [`Form`] the shells draw natively, decides which items are enabled
//! ([`enabled`]), checks answers ([`validate`]), fills in what recent readings already
//! know ([`prefill`]), scores self-assessments ([`score()`]) and builds the
//! `QuestionnaireResponse` that sync uploads ([`response()`]). It is pure: no storage,
//! no clock, no network. Drafts are kept by the store, not here.
//!
//! # What is supported
//!
//! Item types `group`, `display`, `boolean`, `integer`, `decimal`, `string`, `text`,
//! `date`, `dateTime`, `choice` and `open-choice` (R4 names), with `required`,
//! `repeats`, `readOnly`, `enableWhen`/`enableBehavior`, `answerOption`, `initial`,
//! `maxLength` and the standard extensions `minValue`, `maxValue`, `minLength`,
//! `questionnaire-unit`, `ordinalValue`/`itemWeight` and `translation` (on `_title`
//! and `_text`, Swedish and English).
//!
//! **Unsupported constructs are parse errors, never silently dropped.** The types
//! `attachment`, `reference`, `quantity`, `url` and `time` give
//! [`QuestionnaireError::UnsupportedType`] naming the item; so do repeating groups,
//! `answerValueSet` without `answerOption`, and enableWhen answers of those types
//! ([`QuestionnaireError::Unsupported`]). A form the core cannot check and answer
//! faithfully is better refused (the shell then points the patient to the region's web
//! form) than shown with a question missing.
//!
//! # Answers
//!
//! [`Answers`] maps a `linkId` to its answers. Because the map is flat, a group cannot
//! repeat (see above). Answers of disabled items are ignored by every rule here and
//! never reach the response.
//!
//! # enableWhen
//!
//! Implemented as the FHIR operator definitions read (R4, with the wording clarified in
//! R4B/R5): `exists` compares "has an answer" with the boolean; `=`, `>`, `<`, `>=`,
//! `<=` are true if *at least one* answer satisfies them; `!=` is true if *no* answer
//! equals the value, so it is also true for an unanswered question. A question that is
//! itself disabled counts as unanswered. Numbers compare across integer and decimal,
//! dates with dates and date-times with date-times (partial dates such as `2024-05`
//! compare only for (in)equality); booleans, strings and codings compare only for
//! (in)equality; a coding matches on `code` and, when the condition names one, `system`.
//! An item whose parent is disabled is disabled. Cycles are a parse error.
//!
//! # Reading link (prefill)
//!
//! **An item is linked to a reading by its `code`**: an `integer` or `decimal` item
//! whose `item.code` contains the LOINC code of a metric Nära measures (the codes of
//! [`crate::domain::reading::Metric::code`]: body weight `29463-7`, systolic `8480-6`,
//! diastolic `8462-4`, heart rate `8867-4`, SpO2 `59408-5`, temperature `8310-5`, ...)
//! is linked to that metric ([`ReadingLink`]). SDC `initialExpression` is not evaluated:
//! it needs a FHIRPath engine, and a code is what the region's form tools already
//! write. [`prefill`] fills such items from the newest reading of that kind taken within
//! [`PREFILL_WINDOW`] (7 days) before `now`, converted to the item's
//! `questionnaire-unit` when one is declared (`kg`/`g`/`[lb_av]`, `mmol/L`/`mg/dL`,
//! `Cel`/`[degF]`, `mm[Hg]`/`kPa`; an unknown unit is not prefilled).
//!
//! # Scores
//!
//! **A score is declared by its total item**: an `integer` or `decimal` item whose
//! `code` is the Observation code of a score reading kind (today only
//! [`ReadingKind::CatScore`](crate::domain::reading::ReadingKind::CatScore), code
//! `cat-total-score` in Nära's code system). The raw sum is the sum of the ordinal
//! values (`ordinalValue` or `itemWeight`, on the option or its coding) of the answers
//! to every enabled choice item with ordinals. The total item may carry
//! [`SCORE_BAND_URL`] extensions, a lookup table from raw sum to score; without one the
//! score is the raw sum. A form with unanswered scored items gets a [`Score`] with
//! `complete: false` (for progress display) that never becomes a reading
//! ([`score_reading`]); a complete score does, so triage and trends apply to it.

mod answers;
mod enable;
mod error;
mod model;
mod prefill;
mod response;
mod score;
mod validate;

pub use answers::{AnswerValue, Answers, Coding};
pub use enable::{enabled, enabled_answers};
pub use error::QuestionnaireError;
pub use model::{
    AnswerOption, EnableBehavior, EnableOperator, EnableWhen, Form, Item, ItemKind, MAX_DEPTH,
    MAX_ITEMS, ReadingLink, SCORE_BAND_URL, ScoreBand, ScoreRule, parse, parse_str,
};
pub use prefill::{PREFILL_WINDOW, prefill};
pub use response::{APPOINTMENT_URL, ResponseError, ResponseMeta, ResponseStatus, response};
pub use score::{Score, ScoreError, score, score_reading};
pub use validate::{IssueCode, ItemIssue, validate};
