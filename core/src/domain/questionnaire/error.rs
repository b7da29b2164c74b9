//! Why a `Questionnaire` cannot be used.
//!
//! Every error names the item (`linkId`) and the element, never a value: a form is not
//! patient data, but the same code paths must not learn to echo values, and JSON from
//! the network may hold anything.

use thiserror::Error;

/// A `Questionnaire` that cannot be turned into a [`Form`](super::Form).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QuestionnaireError {
    /// The input is not JSON.
    #[error("the questionnaire is not JSON")]
    NotJson,
    /// The JSON is not a `Questionnaire` resource.
    #[error("not a Questionnaire resource")]
    NotAQuestionnaire,
    /// A required element is absent. `link_id` is `None` for the questionnaire itself or
    /// an item without a `linkId`; `field` is then the path from the root.
    #[error("{}: {field} is missing", at(link_id))]
    Missing {
        /// The item.
        link_id: Option<String>,
        /// The element, e.g. `type` or `item[2].linkId`.
        field: String,
    },
    /// An element has the wrong JSON type or an unusable value.
    #[error("{}: {field} is invalid", at(link_id))]
    Invalid {
        /// The item.
        link_id: Option<String>,
        /// The element, e.g. `enableWhen[0].question` or `extension(maxValue)`.
        field: String,
    },
    /// Two items share a `linkId`.
    #[error("item {link_id}: the linkId is used by more than one item")]
    DuplicateLinkId {
        /// The repeated linkId.
        link_id: String,
    },
    /// An item's `type` is not an R4 item type.
    #[error("item {link_id}: unknown item type")]
    UnknownType {
        /// The item.
        link_id: String,
    },
    /// An R4 item type Nära does not support (`attachment`, `reference`, `quantity`,
    /// `url`, `time`).
    #[error("item {link_id}: item type {item_type} is not supported")]
    UnsupportedType {
        /// The item.
        link_id: String,
        /// The R4 type code.
        item_type: &'static str,
    },
    /// A valid FHIR construct Nära does not support (a repeating group,
    /// `answerValueSet` without options, an enableWhen on a time or quantity).
    #[error("item {link_id}: {field} is not supported")]
    Unsupported {
        /// The item.
        link_id: String,
        /// The element.
        field: String,
    },
    /// An enableWhen operator that is not one of `exists`, `=`, `!=`, `>`, `<`, `>=`,
    /// `<=`, or that does not fit its answer (`exists` needs a boolean; ordering needs a
    /// number, date or date-time).
    #[error("item {link_id}: enableWhen[{index}].operator is invalid")]
    BadOperator {
        /// The item carrying the enableWhen.
        link_id: String,
        /// The enableWhen's position.
        index: usize,
    },
    /// An enableWhen names a question that is not in the form (or is a group or display
    /// item, which has no answers).
    #[error("item {link_id}: enableWhen[{index}] refers to an unknown question {question}")]
    UnknownQuestion {
        /// The item carrying the enableWhen.
        link_id: String,
        /// The enableWhen's position.
        index: usize,
        /// The linkId it names.
        question: String,
    },
    /// Items enable each other in a cycle (directly, or through their parents).
    #[error("item {link_id}: enableWhen conditions form a cycle")]
    EnableWhenCycle {
        /// One item in the cycle.
        link_id: String,
    },
    /// The score table does not cover every possible raw sum exactly once, or the form
    /// has more than one total item.
    #[error("item {link_id}: the score declaration is invalid")]
    BadScore {
        /// The total item.
        link_id: String,
    },
    /// The form nests items deeper than [`MAX_DEPTH`](super::MAX_DEPTH) levels
    /// or holds more than [`MAX_ITEMS`](super::MAX_ITEMS) items.
    #[error("the questionnaire is too large")]
    TooLarge,
}

fn at(link_id: &Option<String>) -> String {
    match link_id {
        Some(id) => format!("item {id}"),
        None => "questionnaire".to_owned(),
    }
}
