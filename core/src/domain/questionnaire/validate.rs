//! Validation of answers against a form, item by item.
//!
//! Only enabled items are checked; answers of disabled items are ignored (they are
//! dropped from the response). Each issue names the item and the rule broken, with a
//! message for the patient that may quote the form's limits but never the answer.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use super::answers::{AnswerValue, Answers, is_fhir_date, is_fhir_date_time};
use super::enable::enabled;
use super::model::{Form, Item, ItemKind};
use crate::domain::text::LocalizedText;

/// The rule an answer breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    /// A required enabled item has no answer. A required group without any answered item
    /// inside is reported only if no enabled item inside is itself required (whose own
    /// issue then says what is missing).
    Required,
    /// The answer's type does not fit the item (or the item takes no answer).
    WrongType,
    /// The answer is for a linkId the form does not have.
    UnknownItem,
    /// Several answers to an item that does not repeat.
    TooManyAnswers,
    /// An integer beyond FHIR's 32-bit range.
    IntegerOverflow,
    /// A decimal that is not a finite number.
    NotANumber,
    /// A date or date-time that cannot be read.
    InvalidDate,
    /// Below the item's `minValue`.
    BelowMin,
    /// Above the item's `maxValue`.
    AboveMax,
    /// Shorter than the item's `minLength`.
    TooShort,
    /// Longer than the item's `maxLength`.
    TooLong,
    /// Text that is empty or only white space.
    Blank,
    /// Not one of the item's answer options.
    NotAnOption,
}

/// One problem with the answers to one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemIssue {
    /// The item.
    pub link_id: String,
    /// The rule broken.
    pub code: IssueCode,
    /// What to do, for the patient.
    pub message: LocalizedText,
}

/// Every issue with `answers` to `form`, in form order (unknown linkIds last), at most
/// one per item and code. Empty means the answers can be sent as completed.
pub fn validate(form: &Form, answers: &Answers) -> Vec<ItemIssue> {
    let on = enabled(form, answers);
    let mut issues = Vec::new();
    let mut seen = HashSet::new();
    let mut push = |item: &Item, code: IssueCode| {
        if seen.insert((item.link_id.clone(), code)) {
            issues.push(ItemIssue {
                link_id: item.link_id.clone(),
                code,
                message: message(item, code),
            });
        }
    };
    let total = form.score.as_ref().map(|s| s.total_link_id.as_str());
    let items = form.all_items();
    for item in &items {
        if !on.contains(&item.link_id) {
            continue;
        }
        let given = answers.get(&item.link_id);
        if !item.kind.is_question() {
            if !given.is_empty() {
                push(item, IssueCode::WrongType);
            }
            if item.kind == ItemKind::Group
                && item.required
                && !has_answered_child(item, &on, answers)
                && !has_required_child(item, &on)
            {
                push(item, IssueCode::Required);
            }
            continue;
        }
        if Some(item.link_id.as_str()) == total {
            continue; // calculated, not entered
        }
        if given.is_empty() {
            if item.required {
                push(item, IssueCode::Required);
            }
            continue;
        }
        if !item.repeats && given.len() > 1 {
            push(item, IssueCode::TooManyAnswers);
        }
        for value in given {
            if let Some(code) = check_value(item, value) {
                push(item, code);
            }
        }
    }
    let known: HashSet<&str> = items.iter().map(|i| i.link_id.as_str()).collect();
    for (link_id, _) in answers.iter() {
        if !known.contains(link_id) {
            issues.push(ItemIssue {
                link_id: link_id.to_owned(),
                code: IssueCode::UnknownItem,
                message: LocalizedText::new(
                    "Svaret hör inte till formuläret.",
                    "The answer does not belong to this form.",
                ),
            });
        }
    }
    issues
}

fn has_answered_child(item: &Item, on: &BTreeSet<String>, answers: &Answers) -> bool {
    item.children.iter().any(|c| {
        on.contains(&c.link_id)
            && (answers.is_answered(&c.link_id) || has_answered_child(c, on, answers))
    })
}

/// True if an enabled item inside `item` is itself required: its own issue then says
/// what is missing, and the group's would repeat it.
fn has_required_child(item: &Item, on: &BTreeSet<String>) -> bool {
    item.children.iter().any(|c| {
        on.contains(&c.link_id)
            && ((c.required && c.kind != ItemKind::Group) || has_required_child(c, on))
    })
}

/// The first rule one answer value breaks, if any.
fn check_value(item: &Item, value: &AnswerValue) -> Option<IssueCode> {
    if !item.kind.accepts(value) {
        return Some(IssueCode::WrongType);
    }
    match value {
        AnswerValue::Integer(i) if i32::try_from(*i).is_err() => {
            return Some(IssueCode::IntegerOverflow);
        }
        AnswerValue::Decimal(d) if !d.is_finite() => return Some(IssueCode::NotANumber),
        AnswerValue::String(s) if s.trim().is_empty() => return Some(IssueCode::Blank),
        AnswerValue::Date(s) if !is_fhir_date(s) => return Some(IssueCode::InvalidDate),
        AnswerValue::DateTime(s) if !is_fhir_date_time(s) => {
            return Some(IssueCode::InvalidDate);
        }
        _ => {}
    }
    let is_option = item.answer_options.iter().any(|o| value.equals(&o.value));
    match (item.kind, value) {
        (ItemKind::Choice, _) | (ItemKind::OpenChoice, AnswerValue::Coding(_)) if !is_option => {
            return Some(IssueCode::NotAnOption);
        }
        (ItemKind::OpenChoice, AnswerValue::Integer(_) | AnswerValue::Date(_)) if !is_option => {
            return Some(IssueCode::NotAnOption);
        }
        _ => {}
    }
    if let AnswerValue::String(s) = value {
        if !is_option {
            let chars = s.chars().count();
            if item.max_length.is_some_and(|max| chars > max as usize) {
                return Some(IssueCode::TooLong);
            }
            if item.min_length.is_some_and(|min| chars < min as usize) {
                return Some(IssueCode::TooShort);
            }
        }
    }
    if let Some(min) = &item.min_value {
        if value.order(min) == Some(std::cmp::Ordering::Less) {
            return Some(IssueCode::BelowMin);
        }
    }
    if let Some(max) = &item.max_value {
        if value.order(max) == Some(std::cmp::Ordering::Greater) {
            return Some(IssueCode::AboveMax);
        }
    }
    None
}

/// A limit of the form as the patient reads it (decimal comma in Swedish, the unit).
fn limit(item: &Item, value: Option<&AnswerValue>) -> (String, String) {
    let unit = item
        .unit
        .as_deref()
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    match value {
        Some(AnswerValue::Integer(i)) => (format!("{i}{unit}"), format!("{i}{unit}")),
        Some(AnswerValue::Decimal(d)) => {
            let en = format!("{d}");
            (
                format!("{}{unit}", en.replace('.', ",")),
                format!("{en}{unit}"),
            )
        }
        Some(AnswerValue::Date(s) | AnswerValue::DateTime(s)) => (s.clone(), s.clone()),
        _ => (String::new(), String::new()),
    }
}

fn message(item: &Item, code: IssueCode) -> LocalizedText {
    let (sv, en) = match code {
        IssueCode::Required if item.kind == ItemKind::Group => (
            "Besvara minst en av frågorna.".to_owned(),
            "Answer at least one of the questions.".to_owned(),
        ),
        IssueCode::Required => (
            "Frågan behöver besvaras.".to_owned(),
            "This question needs an answer.".to_owned(),
        ),
        IssueCode::WrongType => (
            "Svaret har fel form för frågan.".to_owned(),
            "The answer has the wrong form for this question.".to_owned(),
        ),
        IssueCode::UnknownItem => (
            "Svaret hör inte till formuläret.".to_owned(),
            "The answer does not belong to this form.".to_owned(),
        ),
        IssueCode::TooManyAnswers => (
            "Välj bara ett svar.".to_owned(),
            "Give only one answer.".to_owned(),
        ),
        IssueCode::IntegerOverflow => (
            "Talet är för stort.".to_owned(),
            "The number is too large.".to_owned(),
        ),
        IssueCode::NotANumber => (
            "Svaret är inte ett tal.".to_owned(),
            "The answer is not a number.".to_owned(),
        ),
        IssueCode::InvalidDate if item.kind == ItemKind::DateTime => (
            "Datum och tid kunde inte läsas.".to_owned(),
            "The date and time could not be read.".to_owned(),
        ),
        IssueCode::InvalidDate => (
            "Datumet kunde inte läsas.".to_owned(),
            "The date could not be read.".to_owned(),
        ),
        IssueCode::BelowMin => {
            let (sv, en) = limit(item, item.min_value.as_ref());
            (
                format!("Svaret får inte vara lägre än {sv}."),
                format!("The answer may not be lower than {en}."),
            )
        }
        IssueCode::AboveMax => {
            let (sv, en) = limit(item, item.max_value.as_ref());
            (
                format!("Svaret får inte vara högre än {sv}."),
                format!("The answer may not be higher than {en}."),
            )
        }
        IssueCode::TooShort => {
            let n = item.min_length.unwrap_or(0);
            (
                format!("Skriv minst {n} tecken."),
                format!("Write at least {n} characters."),
            )
        }
        IssueCode::TooLong => {
            let n = item.max_length.unwrap_or(0);
            (
                format!("Skriv högst {n} tecken."),
                format!("Write at most {n} characters."),
            )
        }
        IssueCode::Blank => (
            "Svaret är tomt.".to_owned(),
            "The answer is empty.".to_owned(),
        ),
        IssueCode::NotAnOption => (
            "Välj ett av svarsalternativen.".to_owned(),
            "Choose one of the options.".to_owned(),
        ),
    };
    LocalizedText::new(sv, en)
}
