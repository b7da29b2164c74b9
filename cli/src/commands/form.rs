//! `nara form fill ID [--notice NOTICE] [--answers FILE] [--draft-only]`: fill in a form
//! from the region (a health declaration before a visit, a self-assessment), offline.
//!
//! In a terminal the enabled items are asked one by one in form order, in the chosen
//! language, with the draft's (or the pre-filled) values as defaults; each answer is
//! checked with the core's messages, enableWhen is evaluated again, and the draft is
//! saved after every answer, so Ctrl-C keeps what was entered. Then the answers are
//! summarised and, once confirmed, submitted (the `QuestionnaireResponse` goes with the
//! next sync).
//!
//! `--answers FILE` is for scripts: a JSON object from `linkId` to a value or an array
//! of values (booleans, numbers, strings; dates as `YYYY-MM-DD` strings; a coded answer
//! as `{"system": …, "code": …}` or just the code, matched against the item's options).
//! The file's answers are laid over the draft (or the pre-filled values); `null` clears
//! an item. The draft is saved, then submitted unless `--draft-only`.
//!
//! Exit codes: 0 done; 1 failure; 2 bad input (unreadable answers file, no terminal
//! without `--answers`); 6 no such notice; 10 answers need attention (the issues are
//! listed; the draft is saved, nothing is submitted); 11 the form is not on this device
//! yet (it comes with the next sync); 12 already submitted; 13 the form cannot be used
//! in the app.
//!
//! Answers are patient data: errors name items, never values.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use nara_core::Nara;
use nara_core::domain::questionnaire::{
    AnswerOption, AnswerValue, Answers, Coding, Form, Item, ItemIssue, ItemKind,
};
use nara_core::domain::text::Lang;
use nara_core::notices::{FormError, FormSession, Submitted};
use serde_json::Value;

use super::EXIT_INPUT;
use super::notices::EXIT_NOT_FOUND;
use super::region::bilingual_error;
use super::{Ctx, print_json};
use crate::render::tr;
use crate::{UserError, render};

/// Exit code: some answers need attention; nothing was submitted.
pub const EXIT_INVALID: u8 = 10;
/// Exit code: the form is not on this device yet.
pub const EXIT_NOT_DOWNLOADED: u8 = 11;
/// Exit code: the form was already submitted.
pub const EXIT_SUBMITTED: u8 = 12;
/// Exit code: the form cannot be filled in in the app.
pub const EXIT_UNUSABLE: u8 = 13;

/// `nara form ...`.
#[derive(Debug, Subcommand)]
#[command(
    after_help = "Exit codes: 0 done; 1 failure; 2 bad input; 6 no such notice; \
    10 answers need attention (listed; the draft is saved, nothing submitted); 11 the \
    form is not on this device yet; 12 already submitted; 13 the form cannot be used in \
    the app."
)]
pub enum FormCmd {
    /// Fill in a form: interactively in a terminal, or from --answers FILE.
    Fill(FillArgs),
}

/// Arguments of `nara form fill`.
#[derive(Debug, Args)]
pub struct FillArgs {
    /// The form's (questionnaire's) id, as `nara notice show` names it.
    pub id: String,
    /// The notice the form belongs to (a health declaration before a visit).
    #[arg(long, value_name = "NOTICE")]
    pub notice: Option<String>,
    /// Answers from a JSON file (linkId → value or [values]) instead of prompts.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Save the draft only; do not submit.
    #[arg(long)]
    pub draft_only: bool,
    /// Submit without asking for confirmation (interactive mode).
    #[arg(long)]
    pub yes: bool,
}

/// A form error for the patient, in both languages, with its exit code.
pub fn form_error(lang: Lang, e: FormError) -> anyhow::Error {
    let m = e.message();
    match e {
        FormError::Invalid(issues) => invalid(lang, &issues, None),
        FormError::NotDownloaded => bilingual_error(lang, EXIT_NOT_DOWNLOADED, m.sv, m.en),
        FormError::AlreadySubmitted => bilingual_error(lang, EXIT_SUBMITTED, m.sv, m.en),
        FormError::Unusable(_) | FormError::Response(_) => {
            bilingual_error(lang, EXIT_UNUSABLE, m.sv, m.en)
        }
        FormError::Local(e) => e.into(),
    }
}

/// The label of an item: prefix, text in `lang`, unit; else its linkId.
pub fn item_label(lang: Lang, item: &Item) -> String {
    let text = item
        .text
        .as_ref()
        .map(|t| t.get(lang).to_owned())
        .unwrap_or_else(|| item.link_id.clone());
    let mut label = match &item.prefix {
        Some(p) => format!("{p} {text}"),
        None => text,
    };
    if let Some(unit) = &item.unit {
        if !label.contains(unit.as_str()) {
            label.push_str(&format!(" ({unit})"));
        }
    }
    label
}

/// The issues as lines (`✗ label: message`), in form order.
pub fn issue_lines(lang: Lang, form: Option<&Form>, issues: &[ItemIssue]) -> Vec<String> {
    issues
        .iter()
        .map(|i| {
            let label = form
                .and_then(|f| f.item(&i.link_id))
                .map(|item| item_label(lang, item))
                .unwrap_or_else(|| i.link_id.clone());
            format!("  ✗ {label} [{}]: {}", i.link_id, i.message.get(lang))
        })
        .collect()
}

fn invalid(lang: Lang, issues: &[ItemIssue], form: Option<&Form>) -> anyhow::Error {
    let m = FormError::Invalid(issues.to_vec()).message();
    let (first, second) = if lang == Lang::Sv {
        (m.sv, m.en)
    } else {
        (m.en, m.sv)
    };
    let mut lines = vec![
        format!(
            "✗ {first} {}",
            tr(
                lang,
                "Utkastet är sparat; inget har skickats.",
                "The draft is saved; nothing was sent."
            )
        ),
        format!("✗ {second}"),
    ];
    lines.extend(issue_lines(lang, form, issues));
    UserError {
        lines,
        code: EXIT_INVALID,
    }
    .into()
}

/// An answer to `item` as text for the patient: the matching option's label in
/// `lang` when there is one, else the value.
pub fn answer_str(lang: Lang, item: &Item, v: &AnswerValue) -> String {
    item.answer_options
        .iter()
        .find(|o| option_matches(o, v))
        .and_then(|o| o.label.as_ref())
        .map(|l| l.get(lang).to_owned())
        .unwrap_or_else(|| value_str(lang, v))
}

/// An answer as text for the patient.
pub fn value_str(lang: Lang, v: &AnswerValue) -> String {
    match v {
        AnswerValue::Boolean(true) => tr(lang, "Ja", "Yes"),
        AnswerValue::Boolean(false) => tr(lang, "Nej", "No"),
        AnswerValue::Integer(i) => i.to_string(),
        AnswerValue::Decimal(d) => {
            let s = format!("{d}");
            if lang == Lang::Sv {
                s.replace('.', ",")
            } else {
                s
            }
        }
        AnswerValue::String(s) | AnswerValue::Date(s) | AnswerValue::DateTime(s) => s.clone(),
        AnswerValue::Coding(c) => c
            .display
            .clone()
            .or_else(|| c.code.clone())
            .unwrap_or_default(),
    }
}

fn option_matches(option: &AnswerOption, value: &AnswerValue) -> bool {
    match (&option.value, value) {
        // The same code, and the same system when both name one.
        (AnswerValue::Coding(o), AnswerValue::Coding(v)) => {
            o.code.is_some()
                && o.code == v.code
                && (o.system.is_none() || v.system.is_none() || o.system == v.system)
        }
        (o, v) => o == v,
    }
}

/// Turns a JSON value of the answers file into an answer for `item` (or, for an unknown
/// item, the value's natural type, so the core reports it).
pub fn json_value(item: Option<&Item>, v: &Value) -> Option<AnswerValue> {
    let natural = |v: &Value| -> Option<AnswerValue> {
        Some(match v {
            Value::Bool(b) => AnswerValue::Boolean(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => AnswerValue::Integer(i),
                None => AnswerValue::Decimal(n.as_f64()?),
            },
            Value::String(s) => AnswerValue::String(s.clone()),
            Value::Object(o) => AnswerValue::Coding(Coding {
                system: o.get("system").and_then(Value::as_str).map(str::to_owned),
                code: o.get("code").and_then(Value::as_str).map(str::to_owned),
                display: o.get("display").and_then(Value::as_str).map(str::to_owned),
            }),
            _ => return None,
        })
    };
    let Some(item) = item else {
        return natural(v);
    };
    let converted = match (item.kind, v) {
        (ItemKind::Decimal, Value::Number(n)) => n.as_f64().map(AnswerValue::Decimal),
        (ItemKind::Date, Value::String(s)) => Some(AnswerValue::Date(s.clone())),
        (ItemKind::DateTime, Value::String(s)) => Some(AnswerValue::DateTime(s.clone())),
        (ItemKind::Choice | ItemKind::OpenChoice, _) => {
            let wanted = match v {
                Value::String(s) => Some(AnswerValue::Coding(Coding {
                    code: Some(s.clone()),
                    ..Coding::default()
                })),
                other => natural(other),
            };
            let found = wanted.as_ref().and_then(|w| {
                item.answer_options
                    .iter()
                    .find(|o| option_matches(o, w))
                    .map(|o| o.value.clone())
            });
            // A string that is no code: the option with that value, or free text.
            let by_value = || match v {
                Value::String(s) => item
                    .answer_options
                    .iter()
                    .find(|o| o.value == AnswerValue::String(s.clone()))
                    .map(|o| o.value.clone())
                    .or_else(|| {
                        (item.kind == ItemKind::OpenChoice).then(|| AnswerValue::String(s.clone()))
                    }),
                _ => None,
            };
            found.or_else(by_value).or(wanted)
        }
        _ => None,
    };
    converted.or_else(|| natural(v))
}

/// Lays the answers in `file` (a JSON object) over `answers`.
pub fn apply_json(
    lang: Lang,
    form: &Form,
    answers: &mut Answers,
    file: &Value,
) -> anyhow::Result<()> {
    let bad = |what: String| {
        bilingual_error(
            lang,
            EXIT_INPUT,
            format!("Svarsfilen går inte att använda: {what}."),
            format!("The answers file cannot be used: {what}."),
        )
    };
    let obj = file
        .as_object()
        .ok_or_else(|| bad("not a JSON object (linkId → value)".to_owned()))?;
    for (link_id, v) in obj {
        let item = form.item(link_id);
        let raw: Vec<&Value> = match v {
            Value::Null => vec![],
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let values = raw
            .into_iter()
            .map(|x| json_value(item, x).ok_or_else(|| bad(format!("item {link_id}"))))
            .collect::<anyhow::Result<Vec<_>>>()?;
        answers.set(link_id.clone(), values);
    }
    Ok(())
}

/// The answered, enabled questions as a table (question, answer).
pub fn answers_table(lang: Lang, s: &FormSession) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        tr(lang, "Fråga", "Question"),
        tr(lang, "Svar", "Answer"),
    ]);
    super::notices::fit(&mut t);
    for item in s.form.all_items() {
        if !item.kind.is_question() || !s.enabled.contains(&item.link_id) {
            continue;
        }
        let values = s.answers.get(&item.link_id);
        let answer = if values.is_empty() {
            "—".to_owned()
        } else {
            values
                .iter()
                .map(|v| answer_str(lang, item, v))
                .collect::<Vec<_>>()
                .join(", ")
        };
        t.add_row(vec![item_label(lang, item), answer]);
    }
    t.to_string()
}

fn check_notice(ctx: &Ctx, nara: &Nara, notice: Option<&str>) -> anyhow::Result<()> {
    if let Some(id) = notice {
        if nara.notices().get(id)?.is_none() {
            let m = nara_core::domain::notice::NoticeError::NotFound.message();
            return Err(bilingual_error(ctx.lang, EXIT_NOT_FOUND, m.sv, m.en));
        }
    }
    Ok(())
}

/// Fills form `id` from a JSON answers object: saves the draft and, unless `draft_only`,
/// submits it. Returns the session and what the submission did.
pub fn fill_from_json(
    lang: Lang,
    nara: &Nara,
    id: &str,
    notice: Option<&str>,
    file: &Value,
    draft_only: bool,
) -> anyhow::Result<(FormSession, Option<Submitted>)> {
    let session = nara
        .notices()
        .form(id, notice)
        .map_err(|e| form_error(lang, e))?;
    if session.submitted {
        return Err(form_error(lang, FormError::AlreadySubmitted));
    }
    let mut answers = session.answers.clone();
    apply_json(lang, &session.form, &mut answers, file)?;
    let session = nara
        .notices()
        .save_draft(id, notice, answers)
        .map_err(|e| form_error(lang, e))?;
    if draft_only {
        return Ok((session, None));
    }
    if !session.issues.is_empty() {
        return Err(invalid(lang, &session.issues, Some(&session.form)));
    }
    let submitted = nara
        .notices()
        .submit(id, notice)
        .map_err(|e| form_error(lang, e))?;
    Ok((session, Some(submitted)))
}

fn print_result(
    ctx: &Ctx,
    session: &FormSession,
    submitted: Option<&Submitted>,
) -> anyhow::Result<()> {
    let lang = ctx.lang;
    if ctx.json {
        return print_json(&serde_json::json!({
            "form": session.form.id,
            "answers": session.answers,
            "enabled": session.enabled,
            "issues": session.issues,
            "submitted": submitted.is_some(),
            "response_id": submitted.map(|s| s.response_id.clone()),
            "score": submitted.and_then(|s| s.score_reading.as_ref()).map(|r| r.measurement.display(lang)),
        }));
    }
    println!("{}", answers_table(lang, session));
    match submitted {
        Some(s) => {
            println!(
                "✓ {}",
                tr(
                    lang,
                    "Formuläret är skickat och går till mottagningen vid nästa synk.",
                    "The form is submitted and goes to the clinic with the next sync."
                )
            );
            if let Some(r) = &s.score_reading {
                println!(
                    "  {} {}  {}",
                    tr(lang, "Poäng:", "Score:"),
                    r.measurement.display(lang),
                    render::band(ctx, r.triage.band)
                );
            }
        }
        None => {
            println!(
                "✎ {}",
                tr(
                    lang,
                    "Utkastet är sparat (inte skickat).",
                    "The draft is saved (not sent)."
                )
            );
            for line in issue_lines(lang, Some(&session.form), &session.issues) {
                println!("{}", render::dim(ctx, &line));
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------------- interactive

fn prompt_err(e: dialoguer::Error) -> anyhow::Error {
    anyhow::anyhow!("prompt: {e}")
}

/// Asks one question; defaults are the current answers.
fn ask(lang: Lang, item: &Item, current: &[AnswerValue]) -> anyhow::Result<Vec<AnswerValue>> {
    use dialoguer::{Input, MultiSelect, Select};
    let theme = dialoguer::theme::SimpleTheme;
    let label = format!(
        "{}{}",
        item_label(lang, item),
        if item.required { " *" } else { "" }
    );
    let skip = tr(lang, "(hoppa över)", "(skip)");
    match item.kind {
        ItemKind::Boolean => {
            let mut choices = vec![tr(lang, "Ja", "Yes"), tr(lang, "Nej", "No")];
            if !item.required {
                choices.push(skip);
            }
            let default = match current.first() {
                Some(AnswerValue::Boolean(false)) => 1,
                _ => 0,
            };
            let i = Select::with_theme(&theme)
                .with_prompt(label)
                .items(&choices)
                .default(default)
                .interact()
                .map_err(prompt_err)?;
            Ok(match i {
                0 => vec![AnswerValue::Boolean(true)],
                1 => vec![AnswerValue::Boolean(false)],
                _ => vec![],
            })
        }
        ItemKind::Choice | ItemKind::OpenChoice if !item.answer_options.is_empty() => {
            let mut choices: Vec<String> = item
                .answer_options
                .iter()
                .map(|o| answer_str(lang, item, &o.value))
                .collect();
            let chosen: Vec<bool> = item
                .answer_options
                .iter()
                .map(|o| current.iter().any(|c| option_matches(o, c)))
                .collect();
            if item.repeats {
                let picked = MultiSelect::with_theme(&theme)
                    .with_prompt(label)
                    .items(&choices)
                    .defaults(&chosen)
                    .interact()
                    .map_err(prompt_err)?;
                return Ok(picked
                    .into_iter()
                    .filter_map(|i| item.answer_options.get(i).map(|o| o.value.clone()))
                    .collect());
            }
            let other = item.kind == ItemKind::OpenChoice;
            if other {
                choices.push(tr(lang, "Annat (skriv själv)", "Other (type it)"));
            }
            if !item.required {
                choices.push(skip);
            }
            let default = chosen.iter().position(|c| *c).unwrap_or(0);
            let i = Select::with_theme(&theme)
                .with_prompt(label.clone())
                .items(&choices)
                .default(default)
                .interact()
                .map_err(prompt_err)?;
            let n = item.answer_options.len();
            if i < n {
                return Ok(vec![item.answer_options[i].value.clone()]);
            }
            if other && i == n {
                let text: String = Input::with_theme(&theme)
                    .with_prompt(label)
                    .allow_empty(true)
                    .interact_text()
                    .map_err(prompt_err)?;
                let text = text.trim().to_owned();
                return Ok(if text.is_empty() {
                    vec![]
                } else {
                    vec![AnswerValue::String(text)]
                });
            }
            Ok(vec![])
        }
        _ => {
            let mut input = Input::<String>::with_theme(&theme)
                .with_prompt(label)
                .allow_empty(true);
            if let Some(v) = current.first() {
                input = input.default(value_str(lang, v));
            }
            let hint = match item.kind {
                ItemKind::Date => Some("YYYY-MM-DD"),
                ItemKind::DateTime => Some("YYYY-MM-DDThh:mm:ss+01:00"),
                _ => None,
            };
            if let Some(h) = hint {
                println!("  {}", h);
            }
            let text = input.interact_text().map_err(prompt_err)?;
            let text = text.trim();
            if text.is_empty() {
                return Ok(vec![]);
            }
            let value = match item.kind {
                ItemKind::Integer => match text.parse::<i64>() {
                    Ok(i) => AnswerValue::Integer(i),
                    Err(_) => AnswerValue::String(text.to_owned()),
                },
                ItemKind::Decimal => match text.replace(',', ".").parse::<f64>() {
                    Ok(d) => AnswerValue::Decimal(d),
                    Err(_) => AnswerValue::String(text.to_owned()),
                },
                ItemKind::Date => AnswerValue::Date(text.to_owned()),
                ItemKind::DateTime => AnswerValue::DateTime(text.to_owned()),
                _ => AnswerValue::String(text.to_owned()),
            };
            Ok(vec![value])
        }
    }
}

/// Asks `item` until its answer has no issue; saves the draft after each answer.
fn ask_until_valid(
    ctx: &Ctx,
    nara: &Nara,
    args: &FillArgs,
    mut session: FormSession,
    item: &Item,
) -> anyhow::Result<FormSession> {
    let lang = ctx.lang;
    loop {
        let current = session.answers.get(&item.link_id).to_vec();
        let values = ask(lang, item, &current)?;
        let mut answers = session.answers.clone();
        answers.set(item.link_id.clone(), values);
        session = nara
            .notices()
            .save_draft(&args.id, args.notice.as_deref(), answers)
            .map_err(|e| form_error(lang, e))?;
        let mine: Vec<&ItemIssue> = session
            .issues
            .iter()
            .filter(|i| i.link_id == item.link_id)
            .collect();
        if mine.is_empty() {
            return Ok(session);
        }
        for i in mine {
            println!(
                "{}",
                render::alert(ctx, &format!("  ✗ {}", i.message.get(lang)))
            );
        }
    }
}

fn interactive(ctx: &Ctx, nara: &Nara, args: &FillArgs) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let mut session = nara
        .notices()
        .form(&args.id, args.notice.as_deref())
        .map_err(|e| form_error(lang, e))?;
    if session.submitted {
        println!("{}", answers_table(lang, &session));
        return Err(form_error(lang, FormError::AlreadySubmitted));
    }
    if let Some(title) = &session.form.title {
        println!("{}", render::heading(ctx, title.get(lang)));
    }
    println!(
        "{}",
        render::dim(
            ctx,
            &tr(
                lang,
                "Svaren sparas som utkast efter varje fråga (Ctrl-C behåller dem). * = måste besvaras.",
                "Answers are saved as a draft after each question (Ctrl-C keeps them). * = required."
            )
        )
    );
    let items: Vec<Item> = session.form.all_items().into_iter().cloned().collect();
    for item in &items {
        if !session.enabled.contains(&item.link_id) {
            continue;
        }
        match item.kind {
            ItemKind::Group => {
                println!();
                println!("{}", render::heading(ctx, &item_label(lang, item)));
            }
            ItemKind::Display => println!("{}", item_label(lang, item)),
            _ if item.read_only => {
                let v = session.answers.get(&item.link_id);
                let shown: Vec<String> = v.iter().map(|x| answer_str(lang, item, x)).collect();
                println!("  {}: {}", item_label(lang, item), shown.join(", "));
            }
            _ => session = ask_until_valid(ctx, nara, args, session, item)?,
        }
    }
    // Items enabled late (by an answer further down), or a required group left empty.
    let mut rounds = 0;
    while !session.issues.is_empty() && rounds < 3 {
        rounds += 1;
        for line in issue_lines(lang, Some(&session.form), &session.issues) {
            println!("{}", render::alert(ctx, &line));
        }
        let pending: Vec<Item> = session
            .issues
            .iter()
            .filter_map(|i| session.form.item(&i.link_id).cloned())
            .filter(|i| i.kind.is_question())
            .collect();
        if pending.is_empty() {
            break;
        }
        for item in &pending {
            session = ask_until_valid(ctx, nara, args, session, item)?;
        }
    }
    println!();
    println!("{}", answers_table(lang, &session));
    if !session.issues.is_empty() {
        return Err(invalid(lang, &session.issues, Some(&session.form)));
    }
    if args.draft_only {
        return print_result(ctx, &session, None);
    }
    let send = args.yes
        || dialoguer::Confirm::with_theme(&dialoguer::theme::SimpleTheme)
            .with_prompt(tr(lang, "Skicka in svaren?", "Submit the answers?"))
            .default(true)
            .interact()
            .map_err(prompt_err)?;
    if !send {
        println!(
            "✎ {}",
            tr(
                lang,
                "Inte skickat; utkastet är sparat.",
                "Not sent; the draft is saved."
            )
        );
        return Ok(());
    }
    let submitted = nara
        .notices()
        .submit(&args.id, args.notice.as_deref())
        .map_err(|e| form_error(lang, e))?;
    println!(
        "✓ {}",
        tr(
            lang,
            "Formuläret är skickat och går till mottagningen vid nästa synk.",
            "The form is submitted and goes to the clinic with the next sync."
        )
    );
    if let Some(r) = &submitted.score_reading {
        println!(
            "  {} {}  {}",
            tr(lang, "Poäng:", "Score:"),
            r.measurement.display(lang),
            render::band(ctx, r.triage.band)
        );
    }
    Ok(())
}

/// Runs `nara form fill`.
fn fill(ctx: &Ctx, args: &FillArgs) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let file = match &args.answers {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                bilingual_error(
                    lang,
                    EXIT_INPUT,
                    format!("Kan inte läsa {}: {e}", path.display()),
                    format!("Cannot read {}: {e}", path.display()),
                )
            })?;
            let value: Value = serde_json::from_str(&text).map_err(|_| {
                bilingual_error(
                    lang,
                    EXIT_INPUT,
                    format!("{} är inte JSON.", path.display()),
                    format!("{} is not JSON.", path.display()),
                )
            })?;
            Some(value)
        }
        None => None,
    };
    let nara = ctx.open()?;
    check_notice(ctx, &nara, args.notice.as_deref())?;
    match file {
        Some(file) => {
            let result = fill_from_json(
                lang,
                &nara,
                &args.id,
                args.notice.as_deref(),
                &file,
                args.draft_only,
            );
            match result {
                Ok((session, submitted)) => print_result(ctx, &session, submitted.as_ref()),
                Err(e) => {
                    if ctx.json {
                        if let Ok(s) = nara.notices().form(&args.id, args.notice.as_deref()) {
                            print_json(&serde_json::json!({
                                "submitted": s.submitted,
                                "issues": s.issues,
                            }))?;
                        }
                    }
                    Err(e)
                }
            }
        }
        None => {
            if ctx.json || !std::io::stdin().is_terminal() {
                return Err(bilingual_error(
                    lang,
                    EXIT_INPUT,
                    "Ingen terminal att fråga i: ange svaren med --answers FIL.",
                    "No terminal to ask in: give the answers with --answers FILE.",
                ));
            }
            interactive(ctx, &nara, args)
        }
    }
}

/// Runs `nara form ...`.
pub fn run(ctx: &Ctx, cmd: FormCmd) -> anyhow::Result<()> {
    match cmd {
        FormCmd::Fill(args) => fill(ctx, &args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice_item() -> Item {
        let q = serde_json::json!({
            "resourceType": "Questionnaire",
            "item": [{
                "linkId": "rokning", "type": "choice", "text": "Röker du?",
                "answerOption": [
                    {"valueCoding": {"system": "urn:s", "code": "nej", "display": "Nej"}},
                    {"valueCoding": {"system": "urn:s", "code": "ja", "display": "Ja"}}
                ]
            }]
        });
        let form = nara_core::domain::questionnaire::parse(&q).expect("form");
        form.item("rokning").cloned().expect("item")
    }

    #[test]
    fn codes_match_the_options_with_their_system_and_display() {
        let item = choice_item();
        let v = json_value(Some(&item), &serde_json::json!("ja")).expect("value");
        match v {
            AnswerValue::Coding(c) => {
                assert_eq!(c.system.as_deref(), Some("urn:s"));
                assert_eq!(c.display.as_deref(), Some("Ja"));
            }
            other => panic!("{other:?}"),
        }
        let v = json_value(
            Some(&item),
            &serde_json::json!({"system": "urn:s", "code": "nej"}),
        )
        .expect("value");
        assert!(matches!(v, AnswerValue::Coding(c) if c.code.as_deref() == Some("nej")));
    }

    #[test]
    fn unknown_items_keep_their_natural_type() {
        assert_eq!(
            json_value(None, &serde_json::json!(3)),
            Some(AnswerValue::Integer(3))
        );
        assert_eq!(
            json_value(None, &serde_json::json!(true)),
            Some(AnswerValue::Boolean(true))
        );
    }
}
