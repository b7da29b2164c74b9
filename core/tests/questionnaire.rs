//! Stories about questionnaires: a patient fills in a health declaration before a visit
//! and a CAT self-assessment at home. The forms are real-world shaped fixtures under
//! `tests/fixtures/questionnaires/`; the rules are checked one by one in tables.

use jiff::Timestamp;
use jiff::tz::Offset;
use nara_core::domain::questionnaire::{
    APPOINTMENT_URL, AnswerValue, Answers, Coding, EnableBehavior, Form, IssueCode, ItemKind,
    PREFILL_WINDOW, QuestionnaireError, ResponseError, ResponseMeta, ResponseStatus, ScoreError,
    enabled, enabled_answers, parse, parse_str, prefill, response, score, score_reading, validate,
};
use nara_core::domain::reading::{
    Measurement, Metric, QualityFlags, Reading, ReadingId, ReadingKind, Source,
};
use nara_core::domain::triage::{self, ThresholdSet, TriageHistory};
use proptest::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

const HD: &str = include_str!("fixtures/questionnaires/halsodeklaration.json");
const CAT: &str = include_str!("fixtures/questionnaires/cat.json");
const HD_ANSWERS: &str = "https://region.example.se/fhir/CodeSystem/halsodeklaration-svar";
const CAT_ANSWERS: &str = "https://nara.se/fhir/CodeSystem/cat-answer";

fn hd() -> Form {
    parse_str(HD).expect("health declaration parses")
}

fn cat() -> Form {
    parse_str(CAT).expect("CAT parses")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn b(v: bool) -> AnswerValue {
    AnswerValue::Boolean(v)
}

fn int(v: i64) -> AnswerValue {
    AnswerValue::Integer(v)
}

fn dec(v: f64) -> AnswerValue {
    AnswerValue::Decimal(v)
}

fn s(v: &str) -> AnswerValue {
    AnswerValue::String(v.to_owned())
}

fn date(v: &str) -> AnswerValue {
    AnswerValue::Date(v.to_owned())
}

fn dt(v: &str) -> AnswerValue {
    AnswerValue::DateTime(v.to_owned())
}

fn hd_code(code: &str) -> AnswerValue {
    AnswerValue::Coding(Coding::new(HD_ANSWERS, code, ""))
}

fn cat_code(v: u8) -> AnswerValue {
    AnswerValue::Coding(Coding::new(CAT_ANSWERS, &v.to_string(), &v.to_string()))
}

/// A complete, valid health declaration: no medicines, no allergy, never smoked, no
/// symptoms.
fn healthy() -> Answers {
    Answers::new()
        .with("langd", int(178))
        .with("vikt", dec(81.5))
        .with("tar-lakemedel", b(false))
        .with("allergi", hd_code("nej"))
        .with("rokning", hd_code("aldrig"))
        .with("brostsmarta", b(false))
        .with("andfaddhet", b(false))
}

fn codes(form: &Form, answers: &Answers) -> Vec<(String, IssueCode)> {
    validate(form, answers)
        .into_iter()
        .map(|i| (i.link_id, i.code))
        .collect()
}

fn issue(link_id: &str, code: IssueCode) -> (String, IssueCode) {
    (link_id.to_owned(), code)
}

// ---------------------------------------------------------------------------------
// The model

#[test]
fn the_health_declaration_becomes_a_form_model() {
    let form = hd();
    assert_eq!(form.id.as_deref(), Some("halsodeklaration-vuxen"));
    assert_eq!(form.version.as_deref(), Some("3.1"));
    let title = form.title.as_ref().expect("title");
    assert_eq!(title.sv, "Hälsodeklaration inför besök");
    assert_eq!(title.en, "Health declaration before your visit");
    assert_eq!(form.items.len(), 7);
    assert_eq!(form.all_items().len(), 23);
    assert!(form.score.is_none());

    let vikt = form.item("vikt").expect("vikt");
    assert_eq!(vikt.kind, ItemKind::Decimal);
    assert!(vikt.required);
    assert_eq!(vikt.min_value, Some(dec(20.0)));
    assert_eq!(vikt.max_value, Some(dec(300.0)));
    assert_eq!(vikt.unit.as_deref(), Some("kg"));
    let link = vikt.reading.expect("weight is linked to readings");
    assert_eq!(
        (link.kind, link.metric),
        (ReadingKind::BodyWeight, Metric::Weight)
    );
    assert_eq!(
        vikt.text.as_ref().map(|t| t.en.as_str()),
        Some("How much do you weigh?")
    );

    let which = form.item("vilka-lakemedel").expect("follow-up");
    assert_eq!(which.kind, ItemKind::Text);
    assert_eq!((which.min_length, which.max_length), (Some(2), Some(500)));
    assert_eq!(which.enable_when.len(), 1);

    let cigs = form.item("cigaretter").expect("cigaretter");
    assert_eq!(cigs.enable_behavior, EnableBehavior::Any);
    assert_eq!(cigs.enable_when.len(), 2);

    let details = form.item("besvar-detaljer").expect("nested group");
    assert_eq!(details.kind, ItemKind::Group);
    assert_eq!(details.children.len(), 3);
    assert_eq!(
        form.item("tolk").map(|i| i.kind),
        Some(ItemKind::OpenChoice)
    );
    assert_eq!(form.item("intro").map(|i| i.kind), Some(ItemKind::Display));
    assert_eq!(
        form.item("besvar-senast").map(|i| i.kind),
        Some(ItemKind::DateTime)
    );
}

#[test]
fn cat_has_eight_items_scored_zero_to_five_and_a_total() {
    let form = cat();
    let scored: Vec<_> = form
        .all_items()
        .into_iter()
        .filter(|i| i.kind == ItemKind::Choice)
        .collect();
    assert_eq!(scored.len(), 8);
    for item in &scored {
        let ordinals: Vec<f64> = item
            .answer_options
            .iter()
            .map(|o| o.ordinal.expect("every option has an ordinal"))
            .collect();
        assert_eq!(
            ordinals,
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            "{}",
            item.link_id
        );
    }
    let rule = form.score.as_ref().expect("CAT declares a score");
    assert_eq!(rule.kind, ReadingKind::CatScore);
    assert_eq!(rule.total_link_id, "cat-total");
    assert!(rule.table.is_empty());
}

#[test]
fn a_form_without_translations_repeats_its_own_language_and_english_forms_work() {
    let form = parse(&json!({
        "resourceType": "Questionnaire", "language": "en-GB", "title": "Check-in",
        "item": [{"linkId": "a", "type": "boolean", "text": "Feeling well?",
                  "_text": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/translation",
                    "extension": [{"url": "lang", "valueCode": "sv-SE"}, {"url": "content", "valueString": "Mår du bra?"}]}]}}]
    }))
    .expect("parses");
    let title = form.title.expect("title");
    assert_eq!(
        (title.sv.as_str(), title.en.as_str()),
        ("Check-in", "Check-in")
    );
    let text = form.items[0].text.clone().expect("text");
    assert_eq!(
        (text.sv.as_str(), text.en.as_str()),
        ("Mår du bra?", "Feeling well?")
    );
}

fn malformed(items: Value) -> Result<Form, QuestionnaireError> {
    parse(&json!({"resourceType": "Questionnaire", "item": items}))
}

#[test]
fn malformed_questionnaires_are_typed_errors_naming_the_item() {
    use QuestionnaireError as E;
    let bool_item = |id: &str| json!({"linkId": id, "type": "boolean"});
    let cases: Vec<(&str, Result<Form, QuestionnaireError>, QuestionnaireError)> = vec![
        ("not JSON", parse_str("{not json"), E::NotJson),
        (
            "another resource",
            parse(&json!({"resourceType": "Patient"})),
            E::NotAQuestionnaire,
        ),
        (
            "duplicate linkId",
            malformed(
                json!([bool_item("a"), {"linkId": "g", "type": "group", "item": [bool_item("a")]}]),
            ),
            E::DuplicateLinkId {
                link_id: "a".into(),
            },
        ),
        (
            "enableWhen to an unknown item",
            malformed(json!([{"linkId": "a", "type": "string",
                "enableWhen": [{"question": "nope", "operator": "exists", "answerBoolean": true}]}])),
            E::UnknownQuestion {
                link_id: "a".into(),
                index: 0,
                question: "nope".into(),
            },
        ),
        (
            "enableWhen to a group",
            malformed(
                json!([{"linkId": "g", "type": "group", "item": [bool_item("x")]},
                {"linkId": "a", "type": "string",
                 "enableWhen": [{"question": "g", "operator": "exists", "answerBoolean": true}]}]),
            ),
            E::UnknownQuestion {
                link_id: "a".into(),
                index: 0,
                question: "g".into(),
            },
        ),
        (
            "bad operator",
            malformed(json!([bool_item("q"), {"linkId": "a", "type": "string",
                "enableWhen": [{"question": "q", "operator": "~", "answerBoolean": true}]}])),
            E::BadOperator {
                link_id: "a".into(),
                index: 0,
            },
        ),
        (
            "exists with a non-boolean",
            malformed(json!([bool_item("q"), {"linkId": "a", "type": "string",
                "enableWhen": [{"question": "q", "operator": "exists", "answerInteger": 1}]}])),
            E::BadOperator {
                link_id: "a".into(),
                index: 0,
            },
        ),
        (
            "ordering on a coding",
            malformed(json!([bool_item("q"), {"linkId": "a", "type": "string",
                "enableWhen": [{"question": "q", "operator": ">", "answerCoding": {"code": "x"}}]}])),
            E::BadOperator {
                link_id: "a".into(),
                index: 0,
            },
        ),
        (
            "missing type",
            malformed(json!([{"linkId": "a"}])),
            E::Missing {
                link_id: Some("a".into()),
                field: "type".into(),
            },
        ),
        (
            "missing linkId",
            malformed(json!([bool_item("a"), {"type": "string"}])),
            E::Missing {
                link_id: None,
                field: "item[1].linkId".into(),
            },
        ),
        (
            "unknown type",
            malformed(json!([{"linkId": "a", "type": "question"}])),
            E::UnknownType {
                link_id: "a".into(),
            },
        ),
        (
            "attachment",
            malformed(json!([{"linkId": "foto", "type": "attachment"}])),
            E::UnsupportedType {
                link_id: "foto".into(),
                item_type: "attachment",
            },
        ),
        (
            "quantity",
            malformed(json!([{"linkId": "q", "type": "quantity"}])),
            E::UnsupportedType {
                link_id: "q".into(),
                item_type: "quantity",
            },
        ),
        (
            "repeating group",
            malformed(
                json!([{"linkId": "g", "type": "group", "repeats": true, "item": [bool_item("x")]}]),
            ),
            E::Unsupported {
                link_id: "g".into(),
                field: "repeats".into(),
            },
        ),
        (
            "value set instead of options",
            malformed(json!([{"linkId": "c", "type": "choice", "answerValueSet": "http://x/vs"}])),
            E::Unsupported {
                link_id: "c".into(),
                field: "answerValueSet".into(),
            },
        ),
        (
            "choice without options",
            malformed(json!([{"linkId": "c", "type": "choice"}])),
            E::Missing {
                link_id: Some("c".into()),
                field: "answerOption".into(),
            },
        ),
        (
            "enableWhen cycle",
            malformed(json!([
                {"linkId": "a", "type": "boolean", "enableWhen": [{"question": "b", "operator": "exists", "answerBoolean": true}]},
                {"linkId": "b", "type": "boolean", "enableWhen": [{"question": "a", "operator": "exists", "answerBoolean": true}]}])),
            E::EnableWhenCycle {
                link_id: "a".into(),
            },
        ),
        (
            "a group enabled by an item inside it",
            malformed(json!([{"linkId": "g", "type": "group",
                "enableWhen": [{"question": "x", "operator": "exists", "answerBoolean": true}],
                "item": [bool_item("x")]}])),
            E::EnableWhenCycle {
                link_id: "g".into(),
            },
        ),
        (
            "minValue of the wrong type",
            malformed(json!([{"linkId": "n", "type": "integer", "extension": [
                {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueString": "SECRET"}]}])),
            E::Invalid {
                link_id: Some("n".into()),
                field: "extension(minValue)".into(),
            },
        ),
        (
            "maxLength not a number",
            malformed(json!([{"linkId": "t", "type": "string", "maxLength": "SECRET"}])),
            E::Invalid {
                link_id: Some("t".into()),
                field: "maxLength".into(),
            },
        ),
    ];
    for (name, got, want) in cases {
        let err = got.expect_err(name);
        assert_eq!(err, want, "{name}");
        assert!(!err.to_string().contains("SECRET"), "{name}: {err}");
    }
}

// ---------------------------------------------------------------------------------
// enableWhen

/// A form with one source question of each type and a target per operator.
fn operator_form(source_type: &str, operator: &str, answer: Value) -> Form {
    let mut condition = json!({"question": "src", "operator": operator});
    if let (Value::Object(c), Value::Object(a)) = (&mut condition, answer) {
        c.extend(a);
    }
    let mut src = json!({"linkId": "src", "type": source_type, "repeats": true});
    if source_type == "choice" {
        src["answerOption"] = json!([{"valueCoding": {"system": "s", "code": "a"}},
                                     {"valueCoding": {"system": "s", "code": "b"}}]);
    }
    parse(&json!({"resourceType": "Questionnaire", "item": [
        src, {"linkId": "target", "type": "string", "enableWhen": [condition]}]}))
    .expect("operator form parses")
}

#[test]
fn enable_when_operators_one_by_one() {
    let coding = |system: &str, code: &str| {
        AnswerValue::Coding(Coding {
            system: Some(system.into()),
            code: Some(code.into()),
            display: None,
        })
    };
    // (source type, operator, condition answer, source answers, enabled?)
    let cases: Vec<(&str, &str, Value, Vec<AnswerValue>, bool)> = vec![
        (
            "boolean",
            "exists",
            json!({"answerBoolean": true}),
            vec![],
            false,
        ),
        (
            "boolean",
            "exists",
            json!({"answerBoolean": true}),
            vec![b(false)],
            true,
        ),
        (
            "boolean",
            "exists",
            json!({"answerBoolean": false}),
            vec![],
            true,
        ),
        (
            "boolean",
            "exists",
            json!({"answerBoolean": false}),
            vec![b(true)],
            false,
        ),
        (
            "boolean",
            "=",
            json!({"answerBoolean": true}),
            vec![b(true)],
            true,
        ),
        (
            "boolean",
            "=",
            json!({"answerBoolean": true}),
            vec![b(false)],
            false,
        ),
        (
            "boolean",
            "=",
            json!({"answerBoolean": true}),
            vec![],
            false,
        ),
        (
            "boolean",
            "!=",
            json!({"answerBoolean": true}),
            vec![b(false)],
            true,
        ),
        (
            "boolean",
            "!=",
            json!({"answerBoolean": true}),
            vec![b(true)],
            false,
        ),
        (
            "boolean",
            "!=",
            json!({"answerBoolean": true}),
            vec![],
            true,
        ),
        (
            "integer",
            "=",
            json!({"answerInteger": 3}),
            vec![int(3)],
            true,
        ),
        (
            "integer",
            "=",
            json!({"answerDecimal": 3.0}),
            vec![int(3)],
            true,
        ),
        (
            "integer",
            ">",
            json!({"answerInteger": 3}),
            vec![int(4)],
            true,
        ),
        (
            "integer",
            ">",
            json!({"answerInteger": 3}),
            vec![int(3)],
            false,
        ),
        ("integer", ">", json!({"answerInteger": 3}), vec![], false),
        (
            "integer",
            "<",
            json!({"answerInteger": 3}),
            vec![int(2)],
            true,
        ),
        (
            "integer",
            "<",
            json!({"answerInteger": 3}),
            vec![int(3)],
            false,
        ),
        (
            "integer",
            ">=",
            json!({"answerInteger": 3}),
            vec![int(3)],
            true,
        ),
        (
            "integer",
            ">=",
            json!({"answerInteger": 3}),
            vec![int(2)],
            false,
        ),
        (
            "integer",
            "<=",
            json!({"answerInteger": 3}),
            vec![int(3)],
            true,
        ),
        (
            "integer",
            "<=",
            json!({"answerInteger": 3}),
            vec![int(4)],
            false,
        ),
        // Repeating source: at least one answer suffices; != needs none to be equal.
        (
            "integer",
            ">",
            json!({"answerInteger": 3}),
            vec![int(1), int(9)],
            true,
        ),
        (
            "integer",
            "!=",
            json!({"answerInteger": 3}),
            vec![int(1), int(3)],
            false,
        ),
        (
            "decimal",
            ">",
            json!({"answerDecimal": 37.5}),
            vec![dec(38.2)],
            true,
        ),
        (
            "decimal",
            "<=",
            json!({"answerInteger": 38}),
            vec![dec(38.0)],
            true,
        ),
        (
            "decimal",
            "<",
            json!({"answerDecimal": 37.5}),
            vec![dec(f64::NAN)],
            false,
        ),
        (
            "date",
            ">=",
            json!({"answerDate": "2024-01-01"}),
            vec![date("2024-06-01")],
            true,
        ),
        (
            "date",
            "<",
            json!({"answerDate": "2024-01-01"}),
            vec![date("2024-06-01")],
            false,
        ),
        (
            "date",
            "=",
            json!({"answerDate": "2024-06"}),
            vec![date("2024-06")],
            true,
        ),
        (
            "date",
            ">",
            json!({"answerDate": "2024-06"}),
            vec![date("2024-07")],
            false,
        ),
        (
            "dateTime",
            ">",
            json!({"answerDateTime": "2024-06-01T10:00:00+02:00"}),
            vec![dt("2024-06-01T09:00:00Z")],
            true,
        ),
        (
            "dateTime",
            "=",
            json!({"answerDateTime": "2024-06-01T10:00:00+02:00"}),
            vec![dt("2024-06-01T08:00:00Z")],
            true,
        ),
        (
            "string",
            "=",
            json!({"answerString": "ja"}),
            vec![s("ja")],
            true,
        ),
        (
            "string",
            "=",
            json!({"answerString": "ja"}),
            vec![s("Ja")],
            false,
        ),
        (
            "string",
            ">",
            json!({"answerInteger": 1}),
            vec![s("2")],
            false,
        ),
        (
            "choice",
            "=",
            json!({"answerCoding": {"system": "s", "code": "a"}}),
            vec![coding("s", "a")],
            true,
        ),
        (
            "choice",
            "=",
            json!({"answerCoding": {"system": "s", "code": "a"}}),
            vec![coding("t", "a")],
            false,
        ),
        (
            "choice",
            "=",
            json!({"answerCoding": {"code": "a"}}),
            vec![coding("t", "a")],
            true,
        ),
        (
            "choice",
            "!=",
            json!({"answerCoding": {"system": "s", "code": "a"}}),
            vec![coding("s", "b")],
            true,
        ),
        (
            "choice",
            "=",
            json!({"answerCoding": {"system": "s", "code": "a"}}),
            vec![s("a")],
            false,
        ),
    ];
    for (source, op, cond, given, want) in cases {
        let form = operator_form(source, op, cond.clone());
        let mut answers = Answers::new();
        answers.set("src", given.clone());
        let on = enabled(&form, &answers);
        assert_eq!(
            on.contains("target"),
            want,
            "{source} {op} {cond} with {given:?}"
        );
    }
}

#[test]
fn enable_behavior_all_is_the_default_and_any_needs_one() {
    let form = |behavior: Option<&str>| {
        let mut target = json!({"linkId": "t", "type": "string", "enableWhen": [
            {"question": "a", "operator": "=", "answerBoolean": true},
            {"question": "b", "operator": "=", "answerBoolean": true}]});
        if let Some(behavior) = behavior {
            target["enableBehavior"] = json!(behavior);
        }
        parse(&json!({"resourceType": "Questionnaire", "item": [
            {"linkId": "a", "type": "boolean"}, {"linkId": "b", "type": "boolean"}, target]}))
        .expect("parses")
    };
    for (behavior, a, bb, want) in [
        (None, true, false, false),
        (None, true, true, true),
        (Some("all"), true, false, false),
        (Some("any"), true, false, true),
        (Some("any"), false, false, false),
    ] {
        let answers = Answers::new().with("a", b(a)).with("b", b(bb));
        assert_eq!(
            enabled(&form(behavior), &answers).contains("t"),
            want,
            "{behavior:?} {a} {bb}"
        );
    }
}

#[test]
fn a_disabled_question_counts_as_unanswered_and_disables_what_depends_on_it() {
    let form = hd();
    // Started smoking daily, typed a number, then changed to "never": the number is
    // kept in memory but its item is disabled.
    let answers = healthy().with("cigaretter", int(20));
    let on = enabled(&form, &answers);
    assert!(!on.contains("cigaretter"));
    assert!(!enabled_answers(&form, &answers).is_answered("cigaretter"));

    // A chain: c depends on b, b on a. With a unanswered, b is disabled, so c (testing
    // that b exists) is disabled even though b holds an answer.
    let chain = parse(&json!({"resourceType": "Questionnaire", "item": [
        {"linkId": "a", "type": "boolean"},
        {"linkId": "b", "type": "boolean", "enableWhen": [{"question": "a", "operator": "=", "answerBoolean": true}]},
        {"linkId": "c", "type": "string", "enableWhen": [{"question": "b", "operator": "exists", "answerBoolean": true}]},
        {"linkId": "d", "type": "string", "enableWhen": [{"question": "b", "operator": "!=", "answerBoolean": true}]}]}))
    .expect("parses");
    let answers = Answers::new().with("b", b(true));
    let on = enabled(&chain, &answers);
    assert!(!on.contains("b") && !on.contains("c"));
    assert!(
        on.contains("d"),
        "!= holds for a disabled (unanswered) question"
    );
    let on = enabled(&chain, &answers.clone().with("a", b(true)));
    assert!(on.contains("b") && on.contains("c") && !on.contains("d"));
}

#[test]
fn items_inside_a_disabled_group_are_disabled() {
    let form = hd();
    let on = enabled(&form, &healthy());
    for id in [
        "besvar-detaljer",
        "besvar-start",
        "besvar-beskrivning",
        "besvar-senast",
    ] {
        assert!(!on.contains(id), "{id}");
    }
    let on = enabled(&form, &healthy().with("andfaddhet", b(true)));
    for id in [
        "besvar-detaljer",
        "besvar-start",
        "besvar-beskrivning",
        "besvar-senast",
    ] {
        assert!(on.contains(id), "{id}");
    }
}

// ---------------------------------------------------------------------------------
// Validation

#[test]
fn the_health_declaration_story() {
    let form = hd();
    assert_eq!(codes(&form, &healthy()), vec![]);

    // Nothing answered: every required enabled item is reported, the follow-ups are not.
    let empty = codes(&form, &Answers::new());
    let required: Vec<&str> = empty
        .iter()
        .filter(|(_, c)| *c == IssueCode::Required)
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        required,
        vec![
            "langd",
            "vikt",
            "tar-lakemedel",
            "allergi",
            "rokning",
            "brostsmarta",
            "andfaddhet"
        ]
    );

    // "Tar du några läkemedel?" yes → "Vilka?" becomes required.
    let yes = healthy().with("tar-lakemedel", b(true));
    assert_eq!(
        codes(&form, &yes),
        vec![issue("vilka-lakemedel", IssueCode::Required)]
    );
    let issues = validate(&form, &yes);
    assert_eq!(issues[0].message.sv, "Frågan behöver besvaras.");
    assert_eq!(issues[0].message.en, "This question needs an answer.");
    let named = yes.clone().with("vilka-lakemedel", s("Waran 5 mg morgon"));
    assert_eq!(codes(&form, &named), vec![]);

    // Chest pain → the nested group opens and its date is required.
    let pain = healthy().with("brostsmarta", b(true));
    assert_eq!(
        codes(&form, &pain),
        vec![issue("besvar-start", IssueCode::Required)]
    );
    let dated = pain.with("besvar-start", date("2026-10"));
    assert_eq!(codes(&form, &dated), vec![]);

    // Smoking sometimes (enableBehavior any) asks for the count, within limits.
    let smokes = healthy().with("rokning", hd_code("ibland"));
    assert_eq!(
        codes(&form, &smokes),
        vec![issue("cigaretter", IssueCode::Required)]
    );
    let too_many = smokes.with("cigaretter", int(400));
    let issues = validate(&form, &too_many);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].code, IssueCode::AboveMax);
    assert_eq!(issues[0].message.sv, "Svaret får inte vara högre än 100.");
    assert!(!issues[0].message.en.contains("400"));
}

/// The one-item form for a validation case.
fn one_item(item: Value) -> Form {
    parse(&json!({"resourceType": "Questionnaire", "item": [item]})).expect("parses")
}

#[test]
fn validation_codes_one_by_one() {
    use IssueCode as C;
    let ext = |name: &str, key: &str, value: Value| json!({"url": format!("http://hl7.org/fhir/StructureDefinition/{name}"), key: value});
    let choice = json!({"linkId": "x", "type": "choice", "answerOption": [
        {"valueCoding": {"system": "s", "code": "a"}}, {"valueString": "annat"}]});
    let open = json!({"linkId": "x", "type": "open-choice", "maxLength": 5, "answerOption": [
        {"valueCoding": {"system": "s", "code": "a"}}]});
    let coding = |code: &str| AnswerValue::Coding(Coding::new("s", code, "whatever"));
    // (item, answers, expected codes)
    let cases: Vec<(Value, Vec<AnswerValue>, Vec<IssueCode>)> = vec![
        (
            json!({"linkId": "x", "type": "boolean", "required": true}),
            vec![],
            vec![C::Required],
        ),
        (json!({"linkId": "x", "type": "boolean"}), vec![], vec![]),
        (
            json!({"linkId": "x", "type": "boolean"}),
            vec![s("ja")],
            vec![C::WrongType],
        ),
        (
            json!({"linkId": "x", "type": "decimal"}),
            vec![int(3)],
            vec![C::WrongType],
        ),
        (
            json!({"linkId": "x", "type": "display"}),
            vec![b(true)],
            vec![C::WrongType],
        ),
        (
            json!({"linkId": "x", "type": "boolean"}),
            vec![b(true), b(false)],
            vec![C::TooManyAnswers],
        ),
        (
            json!({"linkId": "x", "type": "boolean", "repeats": true}),
            vec![b(true), b(false)],
            vec![],
        ),
        (
            json!({"linkId": "x", "type": "integer"}),
            vec![int(i64::from(i32::MAX) + 1)],
            vec![C::IntegerOverflow],
        ),
        (
            json!({"linkId": "x", "type": "integer"}),
            vec![int(i64::from(i32::MIN))],
            vec![],
        ),
        (
            json!({"linkId": "x", "type": "decimal"}),
            vec![dec(f64::INFINITY)],
            vec![C::NotANumber],
        ),
        (
            json!({"linkId": "x", "type": "date"}),
            vec![date("2024-02-30")],
            vec![C::InvalidDate],
        ),
        (
            json!({"linkId": "x", "type": "date"}),
            vec![date("igår")],
            vec![C::InvalidDate],
        ),
        (
            json!({"linkId": "x", "type": "date"}),
            vec![date("2024")],
            vec![],
        ),
        (
            json!({"linkId": "x", "type": "dateTime"}),
            vec![dt("2024-02-01T10:00")],
            vec![C::InvalidDate],
        ),
        (
            json!({"linkId": "x", "type": "dateTime"}),
            vec![dt("2024-02-01T10:00:00+01:00")],
            vec![],
        ),
        (
            json!({"linkId": "x", "type": "integer", "extension": [ext("minValue", "valueInteger", json!(1))]}),
            vec![int(0)],
            vec![C::BelowMin],
        ),
        (
            json!({"linkId": "x", "type": "decimal", "extension": [ext("maxValue", "valueDecimal", json!(2.5))]}),
            vec![dec(2.6)],
            vec![C::AboveMax],
        ),
        (
            json!({"linkId": "x", "type": "decimal", "extension": [ext("maxValue", "valueDecimal", json!(2.5))]}),
            vec![dec(2.5)],
            vec![],
        ),
        (
            json!({"linkId": "x", "type": "date", "extension": [ext("maxValue", "valueDate", json!("2026-01-01"))]}),
            vec![date("2026-01-02")],
            vec![C::AboveMax],
        ),
        (
            json!({"linkId": "x", "type": "string", "maxLength": 3}),
            vec![s("åäöx")],
            vec![C::TooLong],
        ),
        (
            json!({"linkId": "x", "type": "string", "maxLength": 3}),
            vec![s("åäö")],
            vec![],
        ),
        (
            json!({"linkId": "x", "type": "text", "extension": [ext("minLength", "valueInteger", json!(3))]}),
            vec![s("ab")],
            vec![C::TooShort],
        ),
        (
            json!({"linkId": "x", "type": "string"}),
            vec![s("  ")],
            vec![C::Blank],
        ),
        (choice.clone(), vec![coding("a")], vec![]),
        (choice.clone(), vec![s("annat")], vec![]),
        (choice.clone(), vec![coding("z")], vec![C::NotAnOption]),
        (choice.clone(), vec![s("något annat")], vec![C::NotAnOption]),
        (choice, vec![b(true)], vec![C::WrongType]),
        (open.clone(), vec![s("fritt")], vec![]),
        (open.clone(), vec![s("för lång text")], vec![C::TooLong]),
        (open, vec![coding("z")], vec![C::NotAnOption]),
    ];
    for (item, given, want) in cases {
        let form = one_item(item.clone());
        let mut answers = Answers::new();
        answers.set("x", given.clone());
        let got: Vec<IssueCode> = validate(&form, &answers)
            .into_iter()
            .map(|i| i.code)
            .collect();
        assert_eq!(got, want, "{item} with {given:?}");
    }
    let unknown = validate(
        &one_item(json!({"linkId": "x", "type": "string"})),
        &Answers::new().with("y", s("hej")),
    );
    assert_eq!(unknown.len(), 1);
    assert_eq!(
        (unknown[0].link_id.as_str(), unknown[0].code),
        ("y", C::UnknownItem)
    );
}

#[test]
fn answers_of_disabled_items_are_not_validated() {
    let form = hd();
    // An out-of-range count for a question that is no longer asked is no issue.
    let answers = healthy().with("cigaretter", int(100_000));
    assert_eq!(codes(&form, &answers), vec![]);
}

#[test]
fn messages_never_echo_the_answer() {
    let form = hd();
    let answers = healthy()
        .with("vikt", dec(987.6))
        .with("ovrigt", s(&"hemligt ".repeat(100)))
        .with("langd", int(99_999_999_999));
    let issues = validate(&form, &answers);
    assert_eq!(issues.len(), 3);
    for i in issues {
        for text in [&i.message.sv, &i.message.en] {
            assert!(
                !text.contains("987") && !text.contains("hemligt") && !text.contains("9999"),
                "{text}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// Scores

fn cat_answers(values: [u8; 8]) -> Answers {
    let mut answers = Answers::new();
    for (i, v) in values.into_iter().enumerate() {
        answers.set_one(format!("cat-{}", i + 1), cat_code(v));
    }
    answers
}

#[test]
fn cat_scores_the_sum_of_its_eight_answers() {
    let form = cat();
    for (values, total) in [
        ([0; 8], 0.0),
        ([5; 8], 40.0),
        ([2, 3, 1, 4, 2, 0, 3, 5], 20.0),
    ] {
        let answers = cat_answers(values);
        assert_eq!(codes(&form, &answers), vec![]);
        let sc = score(&form, &answers).expect("CAT scores");
        assert!(sc.complete);
        assert_eq!(
            (sc.value, sc.raw, sc.answered, sc.expected),
            (total, total, 8, 8)
        );
        assert_eq!(sc.kind, ReadingKind::CatScore);
    }
}

#[test]
fn an_incomplete_cat_scores_as_incomplete_and_never_becomes_a_reading() {
    let form = cat();
    let mut answers = cat_answers([3; 8]);
    answers.clear("cat-5");
    let sc = score(&form, &answers).expect("CAT scores");
    assert!(!sc.complete);
    assert_eq!((sc.raw, sc.answered, sc.expected), (21.0, 7, 8));
    assert_eq!(
        codes(&form, &answers),
        vec![issue("cat-5", IssueCode::Required)]
    );
    let at = ts("2026-11-24T07:30:00Z");
    assert_eq!(
        score_reading(&sc, at, Offset::UTC),
        Err(ScoreError::Incomplete)
    );
    // A non-option answer does not count either.
    answers.set_one("cat-5", cat_code(9));
    assert!(!score(&form, &answers).expect("scores").complete);
}

#[test]
fn a_complete_cat_becomes_a_cat_score_reading() {
    let form = cat();
    let sc = score(&form, &cat_answers([2, 3, 1, 4, 2, 0, 3, 5])).expect("scores");
    let at = ts("2026-11-24T07:30:00Z");
    let offset = Offset::from_hours(1).expect("offset");
    let reading = score_reading(&sc, at, offset).expect("reading");
    assert_eq!(reading.measurement, Measurement::CatScore { score: 20.0 });
    assert_eq!(reading.effective_at, at);
    assert_eq!(reading.utc_offset_seconds, 3600);
    assert_eq!(reading.source, Source::Manual);
    assert!(nara_core::domain::validation::validate(&reading, at).is_ok());
}

#[test]
fn forms_without_a_total_item_do_not_score() {
    assert!(score(&hd(), &healthy()).is_none());
}

/// A short symptom score: three items scored 0–3 (raw 0–9) and a table mapping raw sums
/// to a 1–4 level, declared with Nära's score-band extension on the total item.
fn table_form(bands: Value) -> Result<Form, QuestionnaireError> {
    let options: Vec<Value> = (0..4)
        .map(|v| {
            json!({"valueCoding": {"system": "s", "code": v.to_string(), "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": v}]}})
        })
        .collect();
    let band = |low: i64, high: i64, score: f64| {
        json!({
        "url": "https://nara.se/fhir/StructureDefinition/score-band", "extension": [
            {"url": "low", "valueInteger": low}, {"url": "high", "valueInteger": high},
            {"url": "score", "valueDecimal": score}]})
    };
    let bands: Vec<Value> = bands
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| Some(band(b[0].as_i64()?, b[1].as_i64()?, b[2].as_f64()?)))
        .collect();
    parse(
        &json!({"resourceType": "Questionnaire", "url": "https://x/Q/t", "item": [
        {"linkId": "q1", "type": "choice", "required": true, "answerOption": options},
        {"linkId": "q2", "type": "choice", "required": true, "answerOption": options},
        {"linkId": "q3", "type": "choice", "required": true, "answerOption": options},
        {"linkId": "total", "type": "decimal", "readOnly": true, "extension": bands,
         "code": [{"system": "https://nara.se/fhir/CodeSystem/observation", "code": "cat-total-score"}]}]}),
    )
}

#[test]
fn a_table_score_maps_the_raw_sum_through_its_bands() {
    let form = table_form(json!([[0, 2, 1.0], [3, 5, 2.0], [6, 8, 3.0], [9, 9, 4.0]]))
        .expect("table form parses");
    assert_eq!(form.score.as_ref().map(|s| s.table.len()), Some(4));
    let code = |v: u8| AnswerValue::Coding(Coding::new("s", &v.to_string(), ""));
    for (values, raw, value) in [
        ([0, 0, 0], 0.0, 1.0),
        ([1, 1, 0], 2.0, 1.0),
        ([1, 1, 1], 3.0, 2.0),
        ([3, 2, 1], 6.0, 3.0),
        ([3, 3, 3], 9.0, 4.0),
    ] {
        let answers = Answers::new()
            .with("q1", code(values[0]))
            .with("q2", code(values[1]))
            .with("q3", code(values[2]));
        let sc = score(&form, &answers).expect("scores");
        assert!(sc.complete);
        assert_eq!((sc.raw, sc.value), (raw, value), "{values:?}");
    }
    // Tables with a gap, an overlap, or not reaching the highest possible sum are refused.
    for bad in [
        json!([[0, 2, 1.0], [4, 9, 2.0]]),
        json!([[0, 5, 1.0], [5, 9, 2.0]]),
        json!([[0, 5, 1.0], [6, 8, 2.0]]),
        json!([[1, 9, 1.0]]),
    ] {
        assert_eq!(
            table_form(bad.clone()).expect_err("bad table"),
            QuestionnaireError::BadScore {
                link_id: "total".into()
            },
            "{bad}"
        );
    }
}

// ---------------------------------------------------------------------------------
// Prefill

fn reading(id: u128, m: Measurement, at: &str) -> Reading {
    let effective_at = ts(at);
    let quality = QualityFlags::GOOD;
    let triage = triage::triage(
        &m,
        effective_at,
        &quality,
        &ThresholdSet::default_for(m.kind()),
        &TriageHistory::default(),
    );
    Reading {
        id: ReadingId(Uuid::from_u128(id)),
        measurement: m,
        effective_at,
        utc_offset_seconds: 3600,
        source: Source::Manual,
        quality,
        off_scale: Vec::new(),
        glucose_context: None,
        note: None,
        recorded_at: effective_at,
        triage,
        supersedes: None,
        superseded_by: None,
    }
}

#[test]
fn prefill_takes_the_newest_weight_of_the_last_week() {
    let form = hd();
    let now = ts("2026-11-24T08:00:00Z");
    let kg = |kg| Measurement::BodyWeight { kg };
    let mut corrected = reading(4, kg(90.0), "2026-11-23T07:00:00Z");
    corrected.superseded_by = Some(ReadingId(Uuid::from_u128(5)));
    let recent = vec![
        reading(1, kg(84.0), "2026-11-10T07:00:00Z"), // older than a week
        reading(2, kg(82.3), "2026-11-20T07:00:00Z"),
        reading(3, kg(82.1), "2026-11-22T07:00:00Z"), // the newest that counts
        corrected,                                    // superseded
        reading(6, kg(70.0), "2026-11-24T09:00:00Z"), // in the future
        reading(
            7,
            Measurement::HeartRate { bpm: 62.0 },
            "2026-11-24T07:00:00Z",
        ),
    ];
    let answers = prefill(&form, &recent, now);
    assert_eq!(answers.get("vikt"), &[dec(82.1)]);
    assert_eq!(answers.len(), 1);
    assert_eq!(PREFILL_WINDOW.as_hours(), 168);
    assert!(prefill(&form, &recent[..1], now).is_empty());
}

#[test]
fn prefill_converts_to_the_items_unit_and_type() {
    let item = |typ: &str, code: &str, unit: Option<&str>| {
        let mut item = json!({"linkId": "x", "type": typ,
            "code": [{"system": "http://loinc.org", "code": code}]});
        if let Some(unit) = unit {
            item["extension"] = json!([{"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-unit",
                "valueCoding": {"system": "http://unitsofmeasure.org", "code": unit}}]);
        }
        one_item(item)
    };
    let now = ts("2026-11-24T08:00:00Z");
    let at = "2026-11-24T07:00:00Z";
    let bp = reading(
        1,
        Measurement::BloodPressure {
            systolic: 142.0,
            diastolic: 91.0,
            pulse: Some(72.0),
        },
        at,
    );
    let weight = reading(2, Measurement::BodyWeight { kg: 82.46 }, at);
    let glucose = reading(3, Measurement::BloodGlucose { mmol_per_l: 7.0 }, at);
    let hr = reading(4, Measurement::HeartRate { bpm: 58.0 }, at);
    let temp = reading(5, Measurement::BodyTemperature { celsius: 37.0 }, at);
    let all = [bp, weight, glucose, hr, temp];
    let cases: Vec<(Form, Option<AnswerValue>)> = vec![
        (item("decimal", "29463-7", None), Some(dec(82.5))),
        (item("integer", "29463-7", None), Some(int(82))),
        (item("integer", "29463-7", Some("g")), Some(int(82_460))),
        (
            item("decimal", "29463-7", Some("[lb_av]")),
            Some(dec(181.8)),
        ),
        (item("decimal", "29463-7", Some("stone")), None),
        (item("integer", "8480-6", None), Some(int(142))),
        (item("integer", "8462-4", None), Some(int(91))),
        (item("integer", "8867-4", None), Some(int(58))),
        (item("integer", "14743-9", Some("mg/dL")), Some(int(126))),
        (item("decimal", "8310-5", Some("[degF]")), Some(dec(98.6))),
        (item("decimal", "8302-2", None), None), // body height: no such reading
        (item("string", "29463-7", None), None), // not a number item: no link
    ];
    for (form, want) in cases {
        let got = prefill(&form, &all, now).get("x").first().cloned();
        assert_eq!(got, want, "{:?}", form.items[0].code);
    }
}

#[test]
fn prefill_starts_from_initial_values() {
    let form = one_item(json!({"linkId": "x", "type": "choice", "answerOption": [
        {"valueCoding": {"system": "s", "code": "a"}},
        {"valueCoding": {"system": "s", "code": "b"}, "initialSelected": true}]}));
    let answers = prefill(&form, &[], ts("2026-11-24T08:00:00Z"));
    assert_eq!(
        answers.get("x"),
        &[AnswerValue::Coding(Coding {
            system: Some("s".into()),
            code: Some("b".into()),
            display: None
        })]
    );
    let form =
        one_item(json!({"linkId": "x", "type": "integer", "initial": [{"valueInteger": 2}]}));
    assert_eq!(
        prefill(&form, &[], ts("2026-11-24T08:00:00Z")).get("x"),
        &[int(2)]
    );
}

// ---------------------------------------------------------------------------------
// The response

fn meta(status: ResponseStatus) -> ResponseMeta<'static> {
    ResponseMeta {
        patient_id: "p-123",
        client_id: Uuid::from_u128(0x6f1c_2a3b_4d5e_4f60_8a7b_9c0d_1e2f_3a4b),
        authored: ts("2026-11-24T07:45:00Z"),
        status,
        appointment_id: Some("besok-42"),
        care_plan_id: None,
    }
}

#[test]
fn the_response_nests_like_the_form_and_drops_disabled_answers() {
    let form = hd();
    let answers = healthy()
        .with("tar-lakemedel", b(true))
        .with("vilka-lakemedel", s("Alvedon vid behov"))
        .with("cigaretter", int(20)) // disabled: never smoked
        .with("andfaddhet", b(true))
        .with("besvar-start", date("2026-11-01"))
        .with("tolk", s("arabiska"));
    let json = response(&form, &answers, &meta(ResponseStatus::Completed)).expect("response");
    assert_eq!(json["resourceType"], "QuestionnaireResponse");
    assert_eq!(
        json["questionnaire"],
        "https://region.example.se/fhir/Questionnaire/halsodeklaration-vuxen|3.1"
    );
    assert_eq!(json["status"], "completed");
    assert_eq!(json["subject"]["reference"], "Patient/p-123");
    assert_eq!(json["authored"], "2026-11-24T07:45:00Z");
    assert_eq!(json["author"]["reference"], "Patient/p-123");
    assert_eq!(json["identifier"]["system"], "urn:ietf:rfc:3986");
    assert_eq!(
        json["identifier"]["value"],
        "urn:uuid:6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    );
    assert_eq!(json["extension"][0]["url"], APPOINTMENT_URL);
    assert_eq!(
        json["extension"][0]["valueReference"]["reference"],
        "Appointment/besok-42"
    );
    assert!(json.get("basedOn").is_none());

    let top: Vec<&str> = json["item"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["linkId"].as_str())
        .collect();
    // The display item and unanswered "ovrigt" are absent.
    assert_eq!(
        top,
        vec![
            "om-dig",
            "lakemedel",
            "allergi-grupp",
            "levnadsvanor",
            "besvar"
        ]
    );
    let om_dig = &json["item"][0];
    assert_eq!(om_dig["text"], "Om dig");
    assert_eq!(om_dig["item"][0]["linkId"], "langd");
    assert_eq!(om_dig["item"][0]["answer"], json!([{"valueInteger": 178}]));
    assert_eq!(om_dig["item"][1]["answer"], json!([{"valueDecimal": 81.5}]));
    assert_eq!(
        om_dig["item"][2]["answer"],
        json!([{"valueString": "arabiska"}])
    );
    let meds = &json["item"][1]["item"];
    assert_eq!(
        meds[1]["answer"],
        json!([{"valueString": "Alvedon vid behov"}])
    );
    assert_eq!(
        json["item"][2]["item"][0]["answer"][0]["valueCoding"],
        json!({"system": HD_ANSWERS, "code": "nej", "display": ""})
    );
    let lifestyle: Vec<&str> = json["item"][3]["item"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["linkId"].as_str())
        .collect();
    assert_eq!(
        lifestyle,
        vec!["rokning"],
        "the disabled cigarette count is dropped"
    );
    let details = &json["item"][4]["item"][2];
    assert_eq!(details["linkId"], "besvar-detaljer");
    assert_eq!(
        details["item"][0]["answer"],
        json!([{"valueDate": "2026-11-01"}])
    );
    assert!(!json.to_string().contains("cigaretter"));
}

#[test]
fn a_completed_response_needs_valid_answers_and_a_draft_does_not() {
    let form = hd();
    let draft = Answers::new()
        .with("langd", int(178))
        .with("tar-lakemedel", b(true));
    match response(&form, &draft, &meta(ResponseStatus::Completed)) {
        Err(ResponseError::Invalid(issues)) => assert!(issues.iter().any(|i| i.link_id == "vikt")),
        other => panic!("expected invalid, got {other:?}"),
    }
    let json = response(&form, &draft, &meta(ResponseStatus::InProgress)).expect("draft");
    assert_eq!(json["status"], "in-progress");
    assert_eq!(json["item"].as_array().map(Vec::len), Some(2));

    let bad_patient = ResponseMeta {
        patient_id: "Patient/../x",
        ..meta(ResponseStatus::InProgress)
    };
    assert_eq!(
        response(&form, &draft, &bad_patient),
        Err(ResponseError::InvalidId("patient"))
    );
    let mut no_url = form.clone();
    no_url.url = None;
    assert_eq!(
        response(&no_url, &draft, &meta(ResponseStatus::InProgress)),
        Err(ResponseError::NoCanonical)
    );
    let care_plan = ResponseMeta {
        care_plan_id: Some("cp-1"),
        ..meta(ResponseStatus::InProgress)
    };
    let json = response(&form, &draft, &care_plan).expect("draft");
    assert_eq!(json["basedOn"], json!([{"reference": "CarePlan/cp-1"}]));
}

#[test]
fn a_cat_response_carries_the_calculated_total() {
    let form = cat();
    let answers = cat_answers([2, 3, 1, 4, 2, 0, 3, 5]).with("cat-total", int(39));
    let json = response(&form, &answers, &meta(ResponseStatus::Completed)).expect("response");
    let items = json["item"].as_array().expect("items");
    assert_eq!(items.len(), 9);
    assert_eq!(items[0]["answer"][0]["valueCoding"]["code"], "2");
    assert_eq!(items[8]["linkId"], "cat-total");
    assert_eq!(
        items[8]["answer"],
        json!([{"valueInteger": 20}]),
        "calculated, not typed"
    );

    let mut partial = cat_answers([1; 8]);
    partial.clear("cat-8");
    let json = response(&form, &partial, &meta(ResponseStatus::InProgress)).expect("draft");
    let items = json["item"].as_array().expect("items");
    assert_eq!(items.len(), 7, "no total for an incomplete form");
}

// ---------------------------------------------------------------------------------
// Robustness

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "group",
            "display",
            "boolean",
            "integer",
            "decimal",
            "string",
            "text",
            "date",
            "dateTime",
            "choice",
            "open-choice",
            "time",
            "a",
            "b",
            "c",
            "=",
            "!=",
            ">",
            "exists",
            "any",
            "all",
            "2024-01-01",
            "2024-13",
            "",
        ])
        .prop_map(|s| json!(s)),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "linkId",
                        "type",
                        "item",
                        "enableWhen",
                        "question",
                        "operator",
                        "answerBoolean",
                        "answerInteger",
                        "answerCoding",
                        "answerDate",
                        "answerOption",
                        "valueCoding",
                        "valueString",
                        "valueInteger",
                        "code",
                        "system",
                        "required",
                        "repeats",
                        "enableBehavior",
                        "maxLength",
                        "extension",
                        "url",
                        "initial",
                        "text",
                        "_text",
                    ]),
                    inner,
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

fn arb_answer() -> impl Strategy<Value = AnswerValue> {
    prop_oneof![
        any::<bool>().prop_map(AnswerValue::Boolean),
        any::<i64>().prop_map(AnswerValue::Integer),
        any::<f64>().prop_map(AnswerValue::Decimal),
        ".{0,12}".prop_map(AnswerValue::String),
        "[0-9-]{0,12}".prop_map(AnswerValue::Date),
        "[0-9T:+Z-]{0,26}".prop_map(AnswerValue::DateTime),
        ("[a-z]{0,3}", "[0-9]{0,2}")
            .prop_map(|(s, c)| AnswerValue::Coding(Coding::new(&s, &c, ""))),
    ]
}

fn arb_answers(link_ids: Vec<String>) -> impl Strategy<Value = Answers> {
    prop::collection::vec(
        (
            prop::sample::select(link_ids),
            prop::collection::vec(arb_answer(), 0..3),
        ),
        0..12,
    )
    .prop_map(|pairs| {
        let mut answers = Answers::new();
        for (id, values) in pairs {
            answers.set(id, values);
        }
        answers
    })
}

fn exercise(form: &Form, answers: &Answers) {
    let _ = enabled(form, answers);
    let _ = validate(form, answers);
    let _ = score(form, answers);
    let _ = prefill(form, &[], ts("2026-11-24T08:00:00Z"));
    for status in [ResponseStatus::InProgress, ResponseStatus::Completed] {
        let _ = response(form, answers, &meta(status));
    }
}

proptest! {
    #[test]
    fn parsing_any_json_never_panics(value in arb_json()) {
        let questionnaire = json!({"resourceType": "Questionnaire", "item": value.clone()});
        if let Ok(form) = parse(&questionnaire) {
            exercise(&form, &Answers::new());
        }
        let _ = parse(&value);
        let _ = parse_str(&value.to_string());
    }

    #[test]
    fn any_answers_to_the_real_forms_never_panic(
        hd_answers in arb_answers(hd().all_items().iter().map(|i| i.link_id.clone()).chain(["zz".to_owned()]).collect()),
        cat_answers in arb_answers(cat().all_items().iter().map(|i| i.link_id.clone()).collect()),
    ) {
        exercise(&hd(), &hd_answers);
        exercise(&cat(), &cat_answers);
        // Whatever the answers, the response never carries a disabled item's answer.
        if let Ok(json) = response(&hd(), &hd_answers, &meta(ResponseStatus::InProgress)) {
            let on = enabled(&hd(), &hd_answers);
            let text = json.to_string();
            for item in hd().all_items() {
                if !on.contains(&item.link_id) {
                    let needle = format!("\"linkId\":\"{}\"", item.link_id);
                    prop_assert!(!text.contains(&needle), "{}", item.link_id);
                }
            }
        }
    }
}

#[test]
fn a_required_group_needs_one_answered_item_inside() {
    let form = one_item(
        json!({"linkId": "g", "type": "group", "required": true, "item": [
        {"linkId": "a", "type": "boolean"}, {"linkId": "b", "type": "string"}]}),
    );
    let issues = validate(&form, &Answers::new());
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0].link_id.as_str(), issues[0].code),
        ("g", IssueCode::Required)
    );
    assert_eq!(
        issues[0].message.en,
        "Answer at least one of the questions."
    );
    assert!(validate(&form, &Answers::new().with("b", s("x"))).is_empty());
}

/// Questionnaire-shaped JSON: items of every type with random flags, options, limits and
/// enableWhen conditions between a few linkIds, so that parsing often succeeds and the
/// rules run on odd but valid forms.
fn arb_questionnaire() -> impl Strategy<Value = Value> {
    const IDS: [&str; 6] = ["a", "b", "c", "d", "e", "f"];
    let answer = prop_oneof![
        any::<bool>().prop_map(|v| json!({"answerBoolean": v})),
        (-5i64..5).prop_map(|v| json!({"answerInteger": v})),
        (-5.0f64..5.0).prop_map(|v| json!({"answerDecimal": v})),
        prop::sample::select(vec!["2024-01-01", "2024-06", "2025"])
            .prop_map(|v| json!({"answerDate": v})),
        prop::sample::select(vec!["x", "y"]).prop_map(|v| json!({"answerString": v})),
        prop::sample::select(vec!["0", "1", "2"])
            .prop_map(|v| json!({"answerCoding": {"system": "s", "code": v}})),
    ];
    let condition = (
        prop::sample::select(IDS.to_vec()),
        prop::sample::select(vec!["exists", "=", "!=", ">", "<", ">=", "<="]),
        answer,
    )
        .prop_map(|(q, op, a)| {
            let mut c = json!({"question": q, "operator": op});
            if let (Value::Object(c), Value::Object(a)) = (&mut c, a) {
                c.extend(a);
            }
            c
        });
    let item = (
        prop::sample::select(IDS.to_vec()),
        prop::sample::select(vec![
            "group", "display", "boolean", "integer", "decimal", "string", "text", "date",
            "dateTime", "choice", "open-choice",
        ]),
        any::<(bool, bool, bool)>(),
        prop::collection::vec(condition, 0..3),
        prop::option::of(0u32..6),
        prop::option::of(prop::sample::select(vec!["all", "any"])),
    )
        .prop_map(|(id, typ, (required, repeats, ordinal), ew, limit, behavior)| {
            let mut item = json!({"linkId": id, "type": typ, "required": required,
                "repeats": repeats && typ != "group", "enableWhen": ew});
            if let Some(b) = behavior {
                item["enableBehavior"] = json!(b);
            }
            if typ == "choice" || typ == "open-choice" {
                let options: Vec<Value> = (0..3)
                    .map(|v| {
                        let mut o = json!({"valueCoding": {"system": "s", "code": v.to_string()}});
                        if ordinal {
                            o["extension"] = json!([{"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": v}]);
                        }
                        o
                    })
                    .collect();
                item["answerOption"] = json!(options);
            }
            if let Some(n) = limit {
                match typ {
                    "string" | "text" => item["maxLength"] = json!(n),
                    "integer" | "decimal" => {
                        item["extension"] = json!([{"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": n}]);
                    }
                    _ => {}
                }
            }
            if typ == "integer" && ordinal {
                item["code"] = json!([{"system": "https://nara.se/fhir/CodeSystem/observation", "code": "cat-total-score"}]);
            }
            item
        });
    prop::collection::vec((item.clone(), prop::collection::vec(item, 0..3)), 1..5).prop_map(
        |items| {
            let items: Vec<Value> = items
                .into_iter()
                .map(|(mut parent, children)| {
                    if parent["type"] == "group" {
                        parent["item"] = json!(children);
                    }
                    parent
                })
                .collect();
            json!({"resourceType": "Questionnaire", "url": "https://x/Q/p", "item": items})
        },
    )
}

proptest! {
    #[test]
    fn odd_but_valid_forms_never_panic(
        questionnaire in arb_questionnaire(),
        answers in arb_answers(["a", "b", "c", "d", "e", "f"].map(String::from).to_vec()),
    ) {
        if let Ok(form) = parse(&questionnaire) {
            exercise(&form, &answers);
            // Dropping disabled answers (and those of unknown or non-question items) changes
            // neither what is enabled nor the issues with the questions.
            let kept = enabled_answers(&form, &answers);
            prop_assert_eq!(enabled(&form, &kept), enabled(&form, &answers));
            let questions = |answers: &Answers| -> Vec<_> {
                validate(&form, answers)
                    .into_iter()
                    .filter(|i| form.item(&i.link_id).is_some_and(|item| item.kind.is_question()))
                    .collect()
            };
            prop_assert_eq!(questions(&kept), questions(&answers));
        }
    }
}

#[test]
fn option_labels_carry_their_translation() {
    let form = parse_str(include_str!(
        "../../tests/region/fixtures/halsodeklaration.json"
    ))
    .expect("the region's declaration parses");
    let smoking = form.item("rokning").expect("smoking");
    let labels: Vec<(String, String)> = smoking
        .answer_options
        .iter()
        .map(|o| {
            let l = o.label.clone().expect("a label");
            (l.sv, l.en)
        })
        .collect();
    assert_eq!(labels[0], ("Nej".to_owned(), "No".to_owned()));
    assert!(
        labels
            .iter()
            .all(|(sv, en)| !sv.is_empty() && !en.is_empty())
    );
}
