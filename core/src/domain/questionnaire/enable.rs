//! enableWhen: which items of a form are enabled by the answers given so far.
//!
//! The semantics are described in the [module docs](super#enablewhen). Items are
//! evaluated in dependency order (parents and tested questions first), so a question
//! that is itself disabled counts as unanswered wherever it is tested.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use super::answers::{AnswerValue, Answers};
use super::model::{EnableBehavior, EnableOperator, EnableWhen, Form, dependency_order};

/// The linkIds of every enabled item of `form` given `answers`.
///
/// A form built by hand with an enableWhen cycle (parsing refuses those) has the items
/// in the cycle, and everything depending on them, disabled.
pub fn enabled(form: &Form, answers: &Answers) -> BTreeSet<String> {
    let flat = form.flat();
    let order = match dependency_order(&flat) {
        Ok(order) => order,
        Err(_) => acyclic_part(&flat),
    };
    let mut on = vec![false; flat.len()];
    let index: std::collections::HashMap<&str, usize> = flat
        .iter()
        .enumerate()
        .map(|(i, f)| (f.item.link_id.as_str(), i))
        .collect();
    for i in order {
        let f = flat[i];
        if f.parent.is_some_and(|p| !on[p]) {
            continue;
        }
        let answers_of = |question: &str| -> &[AnswerValue] {
            match index.get(question) {
                Some(&q) if on[q] => answers.get(question),
                _ => &[],
            }
        };
        let mut results = f
            .item
            .enable_when
            .iter()
            .map(|ew| holds(ew, answers_of(&ew.question)));
        on[i] = match (f.item.enable_when.is_empty(), f.item.enable_behavior) {
            (true, _) => true,
            (false, EnableBehavior::All) => results.all(|r| r),
            (false, EnableBehavior::Any) => results.any(|r| r),
        };
    }
    flat.iter()
        .zip(on)
        .filter(|(_, on)| *on)
        .map(|(f, _)| f.item.link_id.clone())
        .collect()
}

/// The answers that count: those of enabled questions of `form`. Answers of disabled
/// items, of groups and display items, and of linkIds the form does not have are
/// dropped.
pub fn enabled_answers(form: &Form, answers: &Answers) -> Answers {
    let on = enabled(form, answers);
    let mut out = Answers::new();
    for item in form.all_items() {
        if item.kind.is_question() && on.contains(&item.link_id) {
            out.set(item.link_id.clone(), answers.get(&item.link_id).to_vec());
        }
    }
    out
}

/// True if the condition holds for the question's `given` answers (empty if the
/// question is unanswered or disabled).
pub(crate) fn holds(condition: &EnableWhen, given: &[AnswerValue]) -> bool {
    let wanted = &condition.answer;
    let any_order =
        |test: fn(Ordering) -> bool| given.iter().any(|a| a.order(wanted).is_some_and(test));
    match condition.operator {
        EnableOperator::Exists => {
            let has_answer = !given.is_empty();
            matches!(wanted, AnswerValue::Boolean(b) if *b == has_answer)
        }
        EnableOperator::Equal => given.iter().any(|a| a.equals(wanted)),
        EnableOperator::NotEqual => !given.iter().any(|a| a.equals(wanted)),
        EnableOperator::Greater => any_order(|o| o == Ordering::Greater),
        EnableOperator::Less => any_order(|o| o == Ordering::Less),
        EnableOperator::GreaterOrEqual => any_order(|o| o != Ordering::Less),
        EnableOperator::LessOrEqual => any_order(|o| o != Ordering::Greater),
    }
}

/// The evaluation order of the items outside any cycle (for hand-built forms).
fn acyclic_part(flat: &[super::model::Flat<'_>]) -> Vec<usize> {
    // Repeatedly take items whose dependencies are already taken; what remains is in
    // or behind a cycle and stays disabled.
    let index: std::collections::HashMap<&str, usize> = flat
        .iter()
        .enumerate()
        .map(|(i, f)| (f.item.link_id.as_str(), i))
        .collect();
    let mut taken = vec![false; flat.len()];
    let mut order = Vec::new();
    loop {
        let before = order.len();
        for (i, f) in flat.iter().enumerate() {
            if taken[i] {
                continue;
            }
            let parent_ok = f.parent.is_none_or(|p| taken[p]);
            let deps_ok = f
                .item
                .enable_when
                .iter()
                .all(|ew| index.get(ew.question.as_str()).is_none_or(|&q| taken[q]));
            if parent_ok && deps_ok {
                taken[i] = true;
                order.push(i);
            }
        }
        if order.len() == before {
            return order;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::questionnaire::answers::Coding;

    fn when(operator: EnableOperator, answer: AnswerValue) -> EnableWhen {
        EnableWhen {
            question: "q".into(),
            operator,
            answer,
        }
    }

    #[test]
    fn not_equal_is_true_without_answers_and_the_others_are_false() {
        let one = AnswerValue::Integer(1);
        assert!(holds(&when(EnableOperator::NotEqual, one.clone()), &[]));
        for op in [
            EnableOperator::Equal,
            EnableOperator::Greater,
            EnableOperator::Less,
            EnableOperator::GreaterOrEqual,
            EnableOperator::LessOrEqual,
        ] {
            assert!(!holds(&when(op, one.clone()), &[]), "{op:?}");
        }
    }

    #[test]
    fn codings_never_order() {
        let c = AnswerValue::Coding(Coding::new("s", "1", ""));
        assert!(!holds(&when(EnableOperator::Greater, c.clone()), &[c]));
    }
}
