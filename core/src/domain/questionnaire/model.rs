//! The form model: a FHIR R4 `Questionnaire` parsed into what the shells render.
//!
//! The JSON is walked as a [`serde_json::Value`] rather than deserialized into structs:
//! serde's messages quote offending values, and errors here must name only the item and
//! the element ([`QuestionnaireError`]). Any JSON gives a form or an error, never a
//! panic. What is supported and what is refused is listed in the
//! [module docs](super).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::answers::{AnswerValue, Coding, is_fhir_date, is_fhir_date_time};
use super::error::QuestionnaireError;
use crate::domain::reading::{Metric, ReadingKind};
use crate::domain::text::{Lang, LocalizedText};

/// The deepest item nesting accepted.
pub const MAX_DEPTH: usize = 16;
/// The most items (of any type, at any depth) a form may have.
pub const MAX_ITEMS: usize = 2000;
/// Nära's extension on a total item: one band of the score table, with sub-extensions
/// `low` and `high` (`valueInteger`, the inclusive range of raw sums) and `score`
/// (`valueDecimal` or `valueInteger`, the score for those sums).
pub const SCORE_BAND_URL: &str = "https://nara.se/fhir/StructureDefinition/score-band";

const EXT_TRANSLATION: &str = "http://hl7.org/fhir/StructureDefinition/translation";
const EXT_MIN_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
const EXT_MAX_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";
const EXT_MIN_LENGTH: &str = "http://hl7.org/fhir/StructureDefinition/minLength";
const EXT_UNIT: &str = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit";
const EXT_ORDINAL: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";
const EXT_ITEM_WEIGHT: &str = "http://hl7.org/fhir/StructureDefinition/itemWeight";

/// The item types Nära supports (R4 names in [`ItemKind::fhir_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A heading holding other items; no answer of its own.
    Group,
    /// Text to show; no answer.
    Display,
    /// Yes/no.
    Boolean,
    /// A whole number.
    Integer,
    /// A decimal number.
    Decimal,
    /// A short free text.
    String,
    /// A longer free text (multi-line).
    Text,
    /// A date.
    Date,
    /// A date and time.
    DateTime,
    /// One (or, if repeating, several) of the answer options.
    Choice,
    /// An answer option or free text.
    OpenChoice,
}

impl ItemKind {
    /// The R4 `Questionnaire.item.type` code.
    pub fn fhir_code(self) -> &'static str {
        match self {
            ItemKind::Group => "group",
            ItemKind::Display => "display",
            ItemKind::Boolean => "boolean",
            ItemKind::Integer => "integer",
            ItemKind::Decimal => "decimal",
            ItemKind::String => "string",
            ItemKind::Text => "text",
            ItemKind::Date => "date",
            ItemKind::DateTime => "dateTime",
            ItemKind::Choice => "choice",
            ItemKind::OpenChoice => "open-choice",
        }
    }

    /// True for items that take answers (not groups and display items).
    pub fn is_question(self) -> bool {
        !matches!(self, ItemKind::Group | ItemKind::Display)
    }

    /// True if a value of `value`'s type can answer an item of this kind (options are
    /// not checked here).
    pub fn accepts(self, value: &AnswerValue) -> bool {
        matches!(
            (self, value),
            (ItemKind::Boolean, AnswerValue::Boolean(_))
                | (ItemKind::Integer, AnswerValue::Integer(_))
                | (ItemKind::Decimal, AnswerValue::Decimal(_))
                | (ItemKind::String | ItemKind::Text, AnswerValue::String(_))
                | (ItemKind::Date, AnswerValue::Date(_))
                | (ItemKind::DateTime, AnswerValue::DateTime(_))
                | (
                    ItemKind::Choice,
                    AnswerValue::Coding(_)
                        | AnswerValue::String(_)
                        | AnswerValue::Integer(_)
                        | AnswerValue::Date(_)
                )
                | (
                    ItemKind::OpenChoice,
                    AnswerValue::Coding(_)
                        | AnswerValue::String(_)
                        | AnswerValue::Integer(_)
                        | AnswerValue::Date(_)
                )
        )
    }
}

/// An enableWhen operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnableOperator {
    /// `exists`: whether the question has an answer equals the (boolean) value.
    Exists,
    /// `=`: at least one answer equals the value.
    Equal,
    /// `!=`: no answer equals the value.
    NotEqual,
    /// `>`: at least one answer is greater.
    Greater,
    /// `<`: at least one answer is less.
    Less,
    /// `>=`: at least one answer is greater or equal.
    GreaterOrEqual,
    /// `<=`: at least one answer is less or equal.
    LessOrEqual,
}

impl EnableOperator {
    fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "exists" => EnableOperator::Exists,
            "=" => EnableOperator::Equal,
            "!=" => EnableOperator::NotEqual,
            ">" => EnableOperator::Greater,
            "<" => EnableOperator::Less,
            ">=" => EnableOperator::GreaterOrEqual,
            "<=" => EnableOperator::LessOrEqual,
            _ => return None,
        })
    }

    fn is_ordering(self) -> bool {
        matches!(
            self,
            EnableOperator::Greater
                | EnableOperator::Less
                | EnableOperator::GreaterOrEqual
                | EnableOperator::LessOrEqual
        )
    }
}

/// How several enableWhen conditions combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnableBehavior {
    /// Every condition must hold (the default).
    #[default]
    All,
    /// One condition suffices.
    Any,
}

/// One enableWhen condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnableWhen {
    /// The linkId of the question it tests.
    pub question: String,
    /// The operator.
    pub operator: EnableOperator,
    /// The value compared with (a boolean for `exists`).
    pub answer: AnswerValue,
}

/// One permitted answer of a choice item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerOption {
    /// The value (a coding, text, integer or date).
    pub value: AnswerValue,
    /// Its score (`ordinalValue` or `itemWeight`), for self-assessments.
    pub ordinal: Option<f64>,
    /// The option is selected initially.
    pub initial_selected: bool,
    /// What the patient sees, in Swedish and English: a coding's `display` or a text
    /// option's value, with the other language from a `translation` extension on
    /// `_display` / `_valueString` (or repeating the form's language). `None` for other
    /// values (integers, dates), which the shell formats itself.
    pub label: Option<LocalizedText>,
}

/// The measured quantity an item is linked to, so it can be prefilled from readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadingLink {
    /// The kind of reading.
    pub kind: ReadingKind,
    /// The value within the reading (systolic of a blood pressure, ...).
    pub metric: Metric,
}

/// One band of a score table: raw sums `low..=high` score `score`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreBand {
    /// Lowest raw sum in the band.
    pub low: i64,
    /// Highest raw sum in the band.
    pub high: i64,
    /// The score.
    pub score: f64,
}

/// How a self-assessment form is scored (see the [module docs](super)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRule {
    /// The reading kind the score becomes.
    pub kind: ReadingKind,
    /// The linkId of the total item.
    pub total_link_id: String,
    /// The lookup table from raw sum to score; empty means the score is the raw sum.
    pub table: Vec<ScoreBand>,
}

impl ScoreRule {
    /// The score for a raw sum: the table's band, or the sum itself without a table.
    pub fn lookup(&self, raw: f64) -> Option<f64> {
        if self.table.is_empty() {
            return Some(raw);
        }
        self.table
            .iter()
            .find(|b| raw >= b.low as f64 && raw <= b.high as f64)
            .map(|b| b.score)
    }
}

/// One item of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The item's identity within the form.
    pub link_id: String,
    /// The question or heading.
    pub text: Option<LocalizedText>,
    /// A label shown before the text, such as `1.` or `a)`.
    pub prefix: Option<String>,
    /// The type.
    pub kind: ItemKind,
    /// An enabled item must be answered (a group: at least one item inside it).
    pub required: bool,
    /// The item may have several answers.
    pub repeats: bool,
    /// The patient cannot change the answer (shown, prefilled or calculated).
    pub read_only: bool,
    /// Conditions for the item to be enabled; empty means always.
    pub enable_when: Vec<EnableWhen>,
    /// How the conditions combine.
    pub enable_behavior: EnableBehavior,
    /// The permitted answers of a choice or open-choice item.
    pub answer_options: Vec<AnswerOption>,
    /// The smallest permitted answer (`minValue` extension).
    pub min_value: Option<AnswerValue>,
    /// The largest permitted answer (`maxValue` extension).
    pub max_value: Option<AnswerValue>,
    /// The longest permitted text, in characters (`maxLength`).
    pub max_length: Option<u32>,
    /// The shortest permitted text, in characters (`minLength` extension).
    pub min_length: Option<u32>,
    /// The UCUM unit of a number (`questionnaire-unit` extension), e.g. `kg`.
    pub unit: Option<String>,
    /// The item's codes.
    pub code: Vec<Coding>,
    /// The reading the item is linked to, from its code (integer and decimal items).
    pub reading: Option<ReadingLink>,
    /// Initial answers (`initial`, or options marked `initialSelected`).
    pub initial: Vec<AnswerValue>,
    /// Items inside this one.
    pub children: Vec<Item>,
}

/// A parsed questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    /// The resource id.
    pub id: Option<String>,
    /// The canonical URL.
    pub url: Option<String>,
    /// The business version.
    pub version: Option<String>,
    /// The language the texts are written in (`language`; Swedish if absent); the other
    /// language comes from `translation` extensions, or repeats this one.
    pub language: Lang,
    /// The title.
    pub title: Option<LocalizedText>,
    /// The form's codes.
    pub code: Vec<Coding>,
    /// The top-level items.
    pub items: Vec<Item>,
    /// How the form is scored, if it is a self-assessment.
    pub score: Option<ScoreRule>,
}

/// An item with its parent, from [`Form::flat`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flat<'a> {
    pub(crate) item: &'a Item,
    pub(crate) parent: Option<usize>,
}

impl Form {
    /// The item with `link_id`, at any depth.
    pub fn item(&self, link_id: &str) -> Option<&Item> {
        self.flat()
            .into_iter()
            .map(|f| f.item)
            .find(|i| i.link_id == link_id)
    }

    /// Every item in document order (a parent before its children).
    pub fn all_items(&self) -> Vec<&Item> {
        self.flat().into_iter().map(|f| f.item).collect()
    }

    /// Every item in document order with the index of its parent.
    pub(crate) fn flat(&self) -> Vec<Flat<'_>> {
        let mut out = Vec::new();
        let mut stack: Vec<(&Item, Option<usize>)> =
            self.items.iter().rev().map(|i| (i, None)).collect();
        while let Some((item, parent)) = stack.pop() {
            let index = out.len();
            out.push(Flat { item, parent });
            stack.extend(item.children.iter().rev().map(|c| (c, Some(index))));
        }
        out
    }
}

/// Parses a `Questionnaire` from JSON text.
pub fn parse_str(json: &str) -> Result<Form, QuestionnaireError> {
    let value: Value = serde_json::from_str(json).map_err(|_| QuestionnaireError::NotJson)?;
    parse(&value)
}

/// Parses a `Questionnaire` resource.
pub fn parse(json: &Value) -> Result<Form, QuestionnaireError> {
    let obj = json
        .as_object()
        .ok_or(QuestionnaireError::NotAQuestionnaire)?;
    if obj.get("resourceType").and_then(Value::as_str) != Some("Questionnaire") {
        return Err(QuestionnaireError::NotAQuestionnaire);
    }
    let language = match opt_str(obj, "language", None)? {
        Some(tag) => Lang::from_tag(tag),
        None => Lang::Sv,
    };
    let mut ctx = Ctx {
        language,
        seen: HashSet::new(),
    };
    let items = parse_items(obj, "", None, 0, &mut ctx)?;
    let form = Form {
        id: opt_str(obj, "id", None)?.map(str::to_owned),
        url: opt_str(obj, "url", None)?.map(str::to_owned),
        version: opt_str(obj, "version", None)?.map(str::to_owned),
        language,
        title: localized(obj, "title", language, None)?,
        code: codings(obj, "code", None)?,
        items,
        score: None,
    };
    check_enable_when(&form)?;
    check_cycles(&form)?;
    let score = score_rule(&form, obj)?;
    Ok(Form { score, ..form })
}

struct Ctx {
    language: Lang,
    seen: HashSet<String>,
}

fn invalid(link_id: Option<&str>, field: impl Into<String>) -> QuestionnaireError {
    QuestionnaireError::Invalid {
        link_id: link_id.map(str::to_owned),
        field: field.into(),
    }
}

fn missing(link_id: Option<&str>, field: impl Into<String>) -> QuestionnaireError {
    QuestionnaireError::Missing {
        link_id: link_id.map(str::to_owned),
        field: field.into(),
    }
}

fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    link: Option<&str>,
) -> Result<Option<&'a str>, QuestionnaireError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(link, key)),
    }
}

fn opt_bool(
    obj: &Map<String, Value>,
    key: &str,
    link: Option<&str>,
) -> Result<bool, QuestionnaireError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(link, key)),
    }
}

fn opt_array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    link: Option<&str>,
) -> Result<&'a [Value], QuestionnaireError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(invalid(link, key)),
    }
}

fn object<'a>(
    value: &'a Value,
    link: Option<&str>,
    field: impl FnOnce() -> String,
) -> Result<&'a Map<String, Value>, QuestionnaireError> {
    value.as_object().ok_or_else(|| invalid(link, field()))
}

/// The extensions of `obj` with `url`.
fn extensions<'a>(
    obj: &'a Map<String, Value>,
    url: &str,
    link: Option<&str>,
) -> Result<Vec<&'a Map<String, Value>>, QuestionnaireError> {
    let mut out = Vec::new();
    for ext in opt_array(obj, "extension", link)? {
        let ext = object(ext, link, || "extension".to_owned())?;
        if ext.get("url").and_then(Value::as_str) == Some(url) {
            out.push(ext);
        }
    }
    Ok(out)
}

/// The single extension with `url`, if any; more than one is invalid.
fn extension<'a>(
    obj: &'a Map<String, Value>,
    url: &str,
    name: &str,
    link: Option<&str>,
) -> Result<Option<&'a Map<String, Value>>, QuestionnaireError> {
    let found = extensions(obj, url, link)?;
    if found.len() > 1 {
        return Err(invalid(link, format!("extension({name})")));
    }
    Ok(found.into_iter().next())
}

fn coding(value: &Value, link: Option<&str>, field: &str) -> Result<Coding, QuestionnaireError> {
    let obj = object(value, link, || field.to_owned())?;
    let get = |k: &str| opt_str(obj, k, link).map_err(|_| invalid(link, format!("{field}.{k}")));
    Ok(Coding {
        system: get("system")?.map(str::to_owned),
        code: get("code")?.map(str::to_owned),
        display: get("display")?.map(str::to_owned),
    })
}

fn codings(
    obj: &Map<String, Value>,
    key: &str,
    link: Option<&str>,
) -> Result<Vec<Coding>, QuestionnaireError> {
    opt_array(obj, key, link)?
        .iter()
        .enumerate()
        .map(|(i, c)| coding(c, link, &format!("{key}[{i}]")))
        .collect()
}

/// What went wrong reading a `value[x]`.
enum ValueProblem {
    Invalid,
    Unsupported,
}

const UNSUPPORTED_VALUE_TYPES: [&str; 7] = [
    "Time",
    "Quantity",
    "Reference",
    "Attachment",
    "Uri",
    "Url",
    "Canonical",
];

/// Reads the one `<prefix>[x]` element of `obj`, if present.
fn value_x(obj: &Map<String, Value>, prefix: &str) -> Result<Option<AnswerValue>, ValueProblem> {
    let mut found = None;
    let mut count = 0;
    for (key, value) in obj {
        let Some(suffix) = key.strip_prefix(prefix) else {
            continue;
        };
        let parsed = match suffix {
            "Boolean" => value.as_bool().map(AnswerValue::Boolean),
            "Integer" => value
                .as_i64()
                .filter(|i| i32::try_from(*i).is_ok())
                .map(AnswerValue::Integer),
            "Decimal" => value
                .as_f64()
                .filter(|d| d.is_finite())
                .map(AnswerValue::Decimal),
            "String" => value
                .as_str()
                .filter(|s| !s.trim().is_empty())
                .map(|s| AnswerValue::String(s.to_owned())),
            "Date" => value
                .as_str()
                .filter(|s| is_fhir_date(s))
                .map(|s| AnswerValue::Date(s.to_owned())),
            "DateTime" => value
                .as_str()
                .filter(|s| is_fhir_date_time(s))
                .map(|s| AnswerValue::DateTime(s.to_owned())),
            "Coding" => coding(value, None, "")
                .ok()
                .filter(|c| c.code.is_some())
                .map(AnswerValue::Coding),
            s if UNSUPPORTED_VALUE_TYPES.contains(&s) => return Err(ValueProblem::Unsupported),
            _ => continue,
        };
        count += 1;
        found = Some(parsed.ok_or(ValueProblem::Invalid)?);
    }
    if count > 1 {
        return Err(ValueProblem::Invalid);
    }
    Ok(found)
}

/// Text with its Swedish and English forms: the base text is in the form's language,
/// the other comes from a `translation` extension on `_key`, or repeats the base.
fn localized(
    obj: &Map<String, Value>,
    key: &str,
    language: Lang,
    link: Option<&str>,
) -> Result<Option<LocalizedText>, QuestionnaireError> {
    let base = opt_str(obj, key, link)?.map(str::to_owned);
    let mut sv = None;
    let mut en = None;
    let underscore = format!("_{key}");
    match obj.get(&underscore) {
        None | Some(Value::Null) => {}
        Some(Value::Object(meta)) => {
            for tr in extensions(meta, EXT_TRANSLATION, link)? {
                let mut lang = None;
                let mut content = None;
                for part in opt_array(tr, "extension", link)? {
                    let part = object(part, link, || format!("{underscore}.extension"))?;
                    match part.get("url").and_then(Value::as_str) {
                        Some("lang") => lang = part.get("valueCode").and_then(Value::as_str),
                        Some("content") => {
                            content = part.get("valueString").and_then(Value::as_str);
                        }
                        _ => {}
                    }
                }
                let (Some(lang), Some(content)) = (lang, content) else {
                    return Err(invalid(
                        link,
                        format!("{underscore}.extension(translation)"),
                    ));
                };
                let primary = lang.split(['-', '_']).next().unwrap_or("");
                if primary.eq_ignore_ascii_case("sv") {
                    sv = Some(content.to_owned());
                } else if primary.eq_ignore_ascii_case("en") {
                    en = Some(content.to_owned());
                }
            }
        }
        Some(_) => return Err(invalid(link, underscore)),
    }
    match language {
        Lang::Sv => sv = base.or(sv),
        Lang::En => en = base.or(en),
    }
    Ok(match (sv, en) {
        (Some(sv), Some(en)) => Some(LocalizedText { sv, en }),
        (Some(one), None) | (None, Some(one)) => Some(LocalizedText::new(one.clone(), one)),
        (None, None) => None,
    })
}

fn parse_items(
    obj: &Map<String, Value>,
    path: &str,
    link: Option<&str>,
    depth: usize,
    ctx: &mut Ctx,
) -> Result<Vec<Item>, QuestionnaireError> {
    let raw = opt_array(obj, "item", link)?;
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    if depth >= MAX_DEPTH {
        return Err(QuestionnaireError::TooLarge);
    }
    raw.iter()
        .enumerate()
        .map(|(i, v)| parse_item(v, &format!("{path}item[{i}]"), depth, ctx))
        .collect()
}

fn item_kind(code: &str, link_id: &str) -> Result<ItemKind, QuestionnaireError> {
    let unsupported = |item_type| {
        Err(QuestionnaireError::UnsupportedType {
            link_id: link_id.to_owned(),
            item_type,
        })
    };
    Ok(match code {
        "group" => ItemKind::Group,
        "display" => ItemKind::Display,
        "boolean" => ItemKind::Boolean,
        "integer" => ItemKind::Integer,
        "decimal" => ItemKind::Decimal,
        "string" => ItemKind::String,
        "text" => ItemKind::Text,
        "date" => ItemKind::Date,
        "dateTime" => ItemKind::DateTime,
        "choice" => ItemKind::Choice,
        "open-choice" => ItemKind::OpenChoice,
        "attachment" => return unsupported("attachment"),
        "reference" => return unsupported("reference"),
        "quantity" => return unsupported("quantity"),
        "url" => return unsupported("url"),
        "time" => return unsupported("time"),
        _ => {
            return Err(QuestionnaireError::UnknownType {
                link_id: link_id.to_owned(),
            });
        }
    })
}

fn parse_item(
    value: &Value,
    path: &str,
    depth: usize,
    ctx: &mut Ctx,
) -> Result<Item, QuestionnaireError> {
    let obj = object(value, None, || path.to_owned())?;
    let link_id = match obj.get("linkId") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        None | Some(Value::Null) => return Err(missing(None, format!("{path}.linkId"))),
        Some(_) => return Err(invalid(None, format!("{path}.linkId"))),
    };
    if ctx.seen.len() >= MAX_ITEMS {
        return Err(QuestionnaireError::TooLarge);
    }
    if !ctx.seen.insert(link_id.clone()) {
        return Err(QuestionnaireError::DuplicateLinkId { link_id });
    }
    let link = Some(link_id.as_str());
    let kind = match opt_str(obj, "type", link)? {
        Some(code) => item_kind(code, &link_id)?,
        None => return Err(missing(link, "type")),
    };
    let unsupported = |field: &str| QuestionnaireError::Unsupported {
        link_id: link_id.clone(),
        field: field.to_owned(),
    };
    let repeats = opt_bool(obj, "repeats", link)?;
    if kind == ItemKind::Group && repeats {
        return Err(unsupported("repeats"));
    }

    let enable_when = opt_array(obj, "enableWhen", link)?
        .iter()
        .enumerate()
        .map(|(i, ew)| parse_enable_when(ew, i, &link_id))
        .collect::<Result<Vec<_>, _>>()?;
    let enable_behavior = match opt_str(obj, "enableBehavior", link)? {
        None => EnableBehavior::All,
        Some("all") => EnableBehavior::All,
        Some("any") => EnableBehavior::Any,
        Some(_) => return Err(invalid(link, "enableBehavior")),
    };

    let mut answer_options = Vec::new();
    let mut initial = Vec::new();
    for (i, opt) in opt_array(obj, "answerOption", link)?.iter().enumerate() {
        let field = format!("answerOption[{i}]");
        let opt_obj = object(opt, link, || field.clone())?;
        let value = match value_x(opt_obj, "value") {
            Ok(Some(v @ (AnswerValue::Coding(_) | AnswerValue::String(_)))) => v,
            Ok(Some(v @ (AnswerValue::Integer(_) | AnswerValue::Date(_)))) => v,
            Err(ValueProblem::Unsupported) => return Err(unsupported(&format!("{field}.value"))),
            Ok(None) => return Err(missing(link, format!("{field}.value"))),
            _ => return Err(invalid(link, format!("{field}.value"))),
        };
        let mut ordinal = ordinal_of(opt_obj, link, &field)?;
        if let Some(Value::Object(c)) = opt_obj.get("valueCoding") {
            ordinal = ordinal.or(ordinal_of(c, link, &field)?);
        }
        let initial_selected = opt_bool(opt_obj, "initialSelected", link)?;
        if initial_selected {
            initial.push(value.clone());
        }
        let label = match opt_obj.get("valueCoding") {
            Some(Value::Object(c)) => localized(c, "display", ctx.language, link)?,
            _ => localized(opt_obj, "valueString", ctx.language, link)?,
        };
        answer_options.push(AnswerOption {
            value,
            ordinal,
            initial_selected,
            label,
        });
    }
    if matches!(kind, ItemKind::Choice | ItemKind::OpenChoice) && answer_options.is_empty() {
        if obj.contains_key("answerValueSet") {
            return Err(unsupported("answerValueSet"));
        }
        if kind == ItemKind::Choice {
            return Err(missing(link, "answerOption"));
        }
    }
    if !answer_options.is_empty() && !matches!(kind, ItemKind::Choice | ItemKind::OpenChoice) {
        return Err(invalid(link, "answerOption"));
    }

    for (i, init) in opt_array(obj, "initial", link)?.iter().enumerate() {
        let field = format!("initial[{i}].value");
        let init = object(init, link, || field.clone())?;
        match value_x(init, "value") {
            Ok(Some(v)) if kind.accepts(&v) => initial.push(v),
            Err(ValueProblem::Unsupported) => return Err(unsupported(&field)),
            _ => return Err(invalid(link, field)),
        }
    }

    let bound = |url: &str, name: &str| -> Result<Option<AnswerValue>, QuestionnaireError> {
        let Some(ext) = extension(obj, url, name, link)? else {
            return Ok(None);
        };
        let field = || invalid(link, format!("extension({name})"));
        let value = value_x(ext, "value")
            .map_err(|_| field())?
            .ok_or_else(field)?;
        let fits = matches!(
            (kind, &value),
            (ItemKind::Integer, AnswerValue::Integer(_))
                | (
                    ItemKind::Decimal,
                    AnswerValue::Integer(_) | AnswerValue::Decimal(_)
                )
                | (ItemKind::Date, AnswerValue::Date(_))
                | (ItemKind::DateTime, AnswerValue::DateTime(_))
        );
        if fits { Ok(Some(value)) } else { Err(field()) }
    };
    let min_value = bound(EXT_MIN_VALUE, "minValue")?;
    let max_value = bound(EXT_MAX_VALUE, "maxValue")?;

    let max_length = match obj.get("maxLength") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| invalid(link, "maxLength"))?,
        ),
    };
    let min_length = match extension(obj, EXT_MIN_LENGTH, "minLength", link)? {
        None => None,
        Some(ext) => Some(
            ext.get("valueInteger")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| invalid(link, "extension(minLength)"))?,
        ),
    };
    let unit = match extension(obj, EXT_UNIT, "questionnaire-unit", link)? {
        None => None,
        Some(ext) => {
            let c = ext
                .get("valueCoding")
                .ok_or_else(|| invalid(link, "extension(questionnaire-unit)"))?;
            coding(c, link, "extension(questionnaire-unit)")?.code
        }
    };

    let code = codings(obj, "code", link)?;
    let reading = match kind {
        ItemKind::Integer | ItemKind::Decimal => reading_link(&code),
        _ => None,
    };
    let children = parse_items(obj, &format!("{path}."), link, depth + 1, ctx)?;

    Ok(Item {
        text: localized(obj, "text", ctx.language, link)?,
        prefix: opt_str(obj, "prefix", link)?.map(str::to_owned),
        kind,
        required: opt_bool(obj, "required", link)?,
        repeats,
        read_only: opt_bool(obj, "readOnly", link)?,
        enable_when,
        enable_behavior,
        answer_options,
        min_value,
        max_value,
        max_length,
        min_length,
        unit,
        code,
        reading,
        initial,
        children,
        link_id,
    })
}

fn ordinal_of(
    obj: &Map<String, Value>,
    link: Option<&str>,
    field: &str,
) -> Result<Option<f64>, QuestionnaireError> {
    for url in [EXT_ORDINAL, EXT_ITEM_WEIGHT] {
        if let Some(ext) = extension(obj, url, "ordinalValue", link)? {
            return ext
                .get("valueDecimal")
                .or_else(|| ext.get("valueInteger"))
                .and_then(Value::as_f64)
                .filter(|d| d.is_finite())
                .map(Some)
                .ok_or_else(|| invalid(link, format!("{field}.extension(ordinalValue)")));
        }
    }
    Ok(None)
}

fn parse_enable_when(
    value: &Value,
    index: usize,
    link_id: &str,
) -> Result<EnableWhen, QuestionnaireError> {
    let link = Some(link_id);
    let field = format!("enableWhen[{index}]");
    let obj = object(value, link, || field.clone())?;
    let question = match opt_str(obj, "question", link) {
        Ok(Some(q)) if !q.is_empty() => q.to_owned(),
        Ok(_) => return Err(missing(link, format!("{field}.question"))),
        Err(_) => return Err(invalid(link, format!("{field}.question"))),
    };
    let bad_operator = || QuestionnaireError::BadOperator {
        link_id: link_id.to_owned(),
        index,
    };
    let operator = match obj.get("operator") {
        None | Some(Value::Null) => return Err(missing(link, format!("{field}.operator"))),
        Some(v) => v
            .as_str()
            .and_then(EnableOperator::parse)
            .ok_or_else(bad_operator)?,
    };
    let answer = match value_x(obj, "answer") {
        Ok(Some(a)) => a,
        Ok(None) => return Err(missing(link, format!("{field}.answer"))),
        Err(ValueProblem::Unsupported) => {
            return Err(QuestionnaireError::Unsupported {
                link_id: link_id.to_owned(),
                field: format!("{field}.answer"),
            });
        }
        Err(ValueProblem::Invalid) => return Err(invalid(link, format!("{field}.answer"))),
    };
    let fits = match operator {
        EnableOperator::Exists => matches!(answer, AnswerValue::Boolean(_)),
        op if op.is_ordering() => matches!(
            answer,
            AnswerValue::Integer(_)
                | AnswerValue::Decimal(_)
                | AnswerValue::Date(_)
                | AnswerValue::DateTime(_)
        ),
        _ => true,
    };
    if !fits {
        return Err(bad_operator());
    }
    Ok(EnableWhen {
        question,
        operator,
        answer,
    })
}

/// The reading an item's codes link it to: a metric that is the primary value of its
/// kind wins (heart rate `8867-4` links to heart-rate readings, not to the pulse of a
/// blood pressure), then any metric of any kind.
fn reading_link(codes: &[Coding]) -> Option<ReadingLink> {
    let primary = ReadingKind::ALL
        .into_iter()
        .map(|kind| (kind, kind.metrics()[0]));
    let all = ReadingKind::ALL
        .into_iter()
        .flat_map(|kind| kind.metrics().iter().map(move |m| (kind, *m)));
    primary.chain(all).find_map(|(kind, metric)| {
        let want = metric.code();
        codes
            .iter()
            .any(|c| {
                c.system.as_deref() == Some(want.system) && c.code.as_deref() == Some(want.code)
            })
            .then_some(ReadingLink { kind, metric })
    })
}

/// True for reading kinds that are scores of a self-assessment form.
pub(crate) fn is_score_kind(kind: ReadingKind) -> bool {
    matches!(kind, ReadingKind::CatScore)
}

/// Every enableWhen names a question (an answerable item) of the form.
fn check_enable_when(form: &Form) -> Result<(), QuestionnaireError> {
    let kinds: HashMap<&str, ItemKind> = form
        .all_items()
        .into_iter()
        .map(|i| (i.link_id.as_str(), i.kind))
        .collect();
    for item in form.all_items() {
        for (index, ew) in item.enable_when.iter().enumerate() {
            if !kinds
                .get(ew.question.as_str())
                .is_some_and(|k| k.is_question())
            {
                return Err(QuestionnaireError::UnknownQuestion {
                    link_id: item.link_id.clone(),
                    index,
                    question: ew.question.clone(),
                });
            }
        }
    }
    Ok(())
}

/// The items in an order where every item comes after its parent and after every
/// question its enableWhen tests; `Err(index)` names an item in a cycle.
pub(crate) fn dependency_order(flat: &[Flat<'_>]) -> Result<Vec<usize>, usize> {
    let index: HashMap<&str, usize> = flat
        .iter()
        .enumerate()
        .map(|(i, f)| (f.item.link_id.as_str(), i))
        .collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); flat.len()];
    let mut pending = vec![0usize; flat.len()];
    for (i, f) in flat.iter().enumerate() {
        let deps = f.parent.into_iter().chain(
            f.item
                .enable_when
                .iter()
                .filter_map(|ew| index.get(ew.question.as_str()).copied()),
        );
        for d in deps {
            dependents[d].push(i);
            pending[i] += 1;
        }
    }
    let mut ready: Vec<usize> = (0..flat.len()).filter(|i| pending[*i] == 0).rev().collect();
    let mut order = Vec::with_capacity(flat.len());
    while let Some(i) = ready.pop() {
        order.push(i);
        for &d in &dependents[i] {
            pending[d] -= 1;
            if pending[d] == 0 {
                ready.push(d);
            }
        }
    }
    match (0..flat.len()).find(|i| pending[*i] > 0) {
        Some(stuck) => Err(stuck),
        None => Ok(order),
    }
}

fn check_cycles(form: &Form) -> Result<(), QuestionnaireError> {
    let flat = form.flat();
    dependency_order(&flat)
        .map(|_| ())
        .map_err(|i| QuestionnaireError::EnableWhenCycle {
            link_id: flat[i].item.link_id.clone(),
        })
}

/// The score declaration: the total item (linked to a score kind) and its table.
fn score_rule(
    form: &Form,
    root: &Map<String, Value>,
) -> Result<Option<ScoreRule>, QuestionnaireError> {
    let items = form.all_items();
    let mut totals = items
        .iter()
        .filter(|i| i.reading.is_some_and(|r| is_score_kind(r.kind)));
    let Some(total) = totals.next() else {
        return Ok(None);
    };
    let bad = || QuestionnaireError::BadScore {
        link_id: total.link_id.clone(),
    };
    if totals.next().is_some() {
        return Err(bad());
    }
    let kind = total.reading.map(|r| r.kind).ok_or_else(bad)?;
    let (mut min_sum, mut max_sum) = (0.0, 0.0);
    for item in scored_items(form) {
        let ordinals = item.answer_options.iter().filter_map(|o| o.ordinal);
        min_sum += ordinals.clone().fold(f64::INFINITY, f64::min);
        max_sum += ordinals.fold(f64::NEG_INFINITY, f64::max);
    }
    let item_json = find_item_json(root, &total.link_id).ok_or_else(bad)?;
    let table = score_bands(item_json, &total.link_id, min_sum, max_sum)?;
    Ok(Some(ScoreRule {
        kind,
        total_link_id: total.link_id.clone(),
        table,
    }))
}

/// The items whose answers count towards a score: choice items with ordinal values.
pub(crate) fn scored_items(form: &Form) -> Vec<&Item> {
    form.all_items()
        .into_iter()
        .filter(|i| {
            matches!(i.kind, ItemKind::Choice | ItemKind::OpenChoice)
                && i.answer_options.iter().any(|o| o.ordinal.is_some())
        })
        .collect()
}

/// The JSON object of the item with `link_id` (already known to be well-formed).
fn find_item_json<'a>(
    root: &'a Map<String, Value>,
    link_id: &str,
) -> Option<&'a Map<String, Value>> {
    let mut stack = vec![root];
    while let Some(obj) = stack.pop() {
        for child in obj
            .get("item")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let child = child.as_object()?;
            if child.get("linkId").and_then(Value::as_str) == Some(link_id) {
                return Some(child);
            }
            stack.push(child);
        }
    }
    None
}

/// Reads the score bands of the total item from its JSON and checks that they cover
/// every possible raw sum of the form exactly once.
fn score_bands(
    item_json: &Map<String, Value>,
    link_id: &str,
    min_sum: f64,
    max_sum: f64,
) -> Result<Vec<ScoreBand>, QuestionnaireError> {
    let bad = || QuestionnaireError::BadScore {
        link_id: link_id.to_owned(),
    };
    let mut bands = BTreeMap::new();
    for ext in extensions(item_json, SCORE_BAND_URL, Some(link_id))? {
        let mut low = None;
        let mut high = None;
        let mut score = None;
        for part in opt_array(ext, "extension", Some(link_id))? {
            let part = part.as_object().ok_or_else(bad)?;
            let int = part.get("valueInteger").and_then(Value::as_i64);
            match part.get("url").and_then(Value::as_str) {
                Some("low") => low = int,
                Some("high") => high = int,
                Some("score") => {
                    score = part
                        .get("valueDecimal")
                        .or_else(|| part.get("valueInteger"))
                        .and_then(Value::as_f64)
                        .filter(|s| s.is_finite());
                }
                _ => {}
            }
        }
        let (Some(low), Some(high), Some(score)) = (low, high, score) else {
            return Err(bad());
        };
        if low > high || bands.insert(low, ScoreBand { low, high, score }).is_some() {
            return Err(bad());
        }
    }
    let bands: Vec<ScoreBand> = bands.into_values().collect();
    let (Some(first), Some(last)) = (bands.first(), bands.last()) else {
        return Ok(bands);
    };
    let contiguous = bands
        .windows(2)
        .all(|w| w[0].high.checked_add(1) == Some(w[1].low));
    if !contiguous || first.low as f64 > min_sum || (last.high as f64) < max_sum {
        return Err(bad());
    }
    Ok(bands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loinc(code: &str) -> Vec<Coding> {
        vec![Coding::new(crate::domain::reading::LOINC_SYSTEM, code, "")]
    }

    #[test]
    fn codes_link_to_the_kind_whose_primary_metric_they_are() {
        let link = |code| reading_link(&loinc(code)).map(|l| (l.kind, l.metric));
        assert_eq!(
            link("8867-4"),
            Some((ReadingKind::HeartRate, Metric::HeartRate))
        );
        assert_eq!(
            link("8462-4"),
            Some((ReadingKind::BloodPressure, Metric::Diastolic))
        );
        assert_eq!(
            link("59408-5"),
            Some((ReadingKind::OxygenSaturation, Metric::SpO2))
        );
        assert_eq!(link("85354-9"), None, "a panel is not one value");
        let other_system = vec![Coding::new("http://snomed.info/sct", "29463-7", "")];
        assert_eq!(reading_link(&other_system), None);
    }

    #[test]
    fn a_deeply_nested_form_is_too_large_not_a_stack_overflow() {
        let mut item = serde_json::json!({"linkId": "leaf", "type": "boolean"});
        for depth in 0..40 {
            item =
                serde_json::json!({"linkId": format!("g{depth}"), "type": "group", "item": [item]});
        }
        let q = serde_json::json!({"resourceType": "Questionnaire", "item": [item]});
        assert_eq!(parse(&q), Err(QuestionnaireError::TooLarge));
    }
}
