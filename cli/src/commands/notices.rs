//! `nara notices` and `nara notice show | confirm | cancel | reschedule`: appointment
//! notices (kallelser) from the region, offline.
//!
//! Notices arrive with `nara sync`. `nara notice show` *opens* the notice: the time
//! shown is remembered as the one the patient saw, and the first opening queues the
//! opened receipt the clinic sees (sent with the next sync). Answers are checked by the
//! core against the clinic's rules (the cancellation cut-off, a time the clinic moved
//! since the patient last looked) and queued for the next sync.
//!
//! Exit codes: 0 done; 1 failure; 2 bad input (a time window, a text too long, a
//! reschedule without wishes or windows); 6 no such notice; 7 too late to change in the
//! app (call the clinic); 8 the clinic changed the appointment, or it was never opened
//! (run `nara notice show ID` first); 9 refused (cancelled by the clinic, passed,
//! already cancelled, already answered that way).
//!
//! Patient texts (reasons, wishes) are never part of an error message.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, ContentArrangement, Table};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use nara_core::NaraError;
use nara_core::domain::notice::{
    Answer, AnswerDelivery, GivenAnswer, Notice, NoticeError, NoticeState,
};
use nara_core::domain::text::Lang;
use nara_core::notices::{DeclarationState, NoticeView};

use super::EXIT_INPUT;
use super::region::bilingual_error;
use super::{Ctx, print_json};
use crate::render;
use crate::render::tr;

/// Exit code: no such notice.
pub const EXIT_NOT_FOUND: u8 = 6;
/// Exit code: too late to change in the app; the patient must call the clinic.
pub const EXIT_TOO_LATE: u8 = 7;
/// Exit code: the clinic changed the appointment (or it was never opened): look first.
pub const EXIT_MOVED: u8 = 8;
/// Exit code: refused (cancelled by the clinic, passed, already cancelled or given).
pub const EXIT_REFUSED: u8 = 9;

/// `nara notice ...`.
#[derive(Debug, Subcommand)]
#[command(
    after_help = "Exit codes: 0 done; 1 failure; 2 bad input; 6 no such notice; \
    7 too late to change in the app (call the clinic); 8 the clinic changed the time, or \
    the notice was never opened (run `nara notice show ID` first); 9 refused (cancelled by \
    the clinic, passed, already cancelled, already answered)."
)]
pub enum NoticeCmd {
    /// Open a notice and show everything in it (this queues the opened receipt the
    /// clinic sees, sent with the next sync).
    Show(ShowArgs),
    /// Confirm that you will come.
    Confirm(IdArg),
    /// Cancel the appointment (only before the clinic's cut-off; then call the clinic).
    Cancel(CancelArgs),
    /// Ask for another time (only before the clinic's cut-off).
    Reschedule(RescheduleArgs),
}

/// Arguments of `nara notice show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The notice's id (see `nara notices`).
    pub id: String,
    /// Also write the appointment as an iCalendar file (for your calendar).
    #[arg(long, value_name = "FILE")]
    pub ics: Option<PathBuf>,
}

/// A notice id.
#[derive(Debug, Args)]
pub struct IdArg {
    /// The notice's id (see `nara notices`).
    pub id: String,
}

/// Arguments of `nara notice cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The notice's id (see `nara notices`).
    pub id: String,
    /// Why (optional; the clinic reads it).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub reason: String,
}

/// Arguments of `nara notice reschedule`.
#[derive(Debug, Args)]
pub struct RescheduleArgs {
    /// The notice's id (see `nara notices`).
    pub id: String,
    /// When suits you, in your own words.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub wishes: String,
    /// A time that suits you, START/END: RFC 3339 (2026-12-03T08:00:00+01:00) or local
    /// time (2026-12-03T08:00). Repeat for more (at most 10).
    #[arg(long = "window", value_name = "START/END")]
    pub windows: Vec<String>,
}

/// "tis 1 dec 2026 09:00" / "Tue 1 Dec 2026 09:00", in the system's time zone.
pub fn when(lang: Lang, at: Timestamp) -> String {
    const DAYS: [&str; 7] = ["mån", "tis", "ons", "tor", "fre", "lör", "sön"];
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mars", "apr", "maj", "juni", "juli", "aug", "sep", "okt", "nov", "dec",
    ];
    let z = at.to_zoned(TimeZone::system());
    match lang {
        Lang::Sv => format!(
            "{} {} {} {} {}",
            DAYS[z.weekday().to_monday_zero_offset() as usize],
            z.day(),
            MONTHS[(z.month() - 1) as usize],
            z.year(),
            z.strftime("%H:%M")
        ),
        Lang::En => z.strftime("%a %-d %b %Y %H:%M").to_string(),
    }
}

/// The time span of a notice: "tis 1 dec 2026 09:00–09:30".
pub fn span(lang: Lang, n: &Notice) -> String {
    match n.end {
        Some(end) => {
            let z = end.to_zoned(TimeZone::system());
            format!("{}–{}", when(lang, n.start), z.strftime("%H:%M"))
        }
        None => when(lang, n.start),
    }
}

/// Symbol and label of a notice state: never colour alone.
pub fn state_label(lang: Lang, state: NoticeState) -> String {
    let symbol = match state {
        NoticeState::New => "●",
        NoticeState::Opened => "○",
        NoticeState::Answered => "✓",
        NoticeState::Passed => "·",
        NoticeState::CancelledByClinic => "✕",
        NoticeState::MovedByClinic => "⚠",
    };
    format!("{symbol} {}", state.label().get(lang))
}

fn paint_state(ctx: &Ctx, state: NoticeState, text: String) -> String {
    use owo_colors::OwoColorize as _;
    if !ctx.color {
        return text;
    }
    match state {
        NoticeState::New => text.bold().to_string(),
        NoticeState::MovedByClinic | NoticeState::CancelledByClinic => {
            text.yellow().bold().to_string()
        }
        NoticeState::Answered => text.green().to_string(),
        NoticeState::Passed => text.dimmed().to_string(),
        NoticeState::Opened => text,
    }
}

/// Symbol and label of a declaration state.
pub fn declaration_label(lang: Lang, d: Option<DeclarationState>) -> String {
    match d {
        None => "—".to_owned(),
        Some(DeclarationState::NotDownloaded) => {
            format!("⇣ {}", tr(lang, "hämtas vid synk", "comes with sync"))
        }
        Some(DeclarationState::NotStarted) => {
            format!("☐ {}", tr(lang, "ej ifylld", "not filled in"))
        }
        Some(DeclarationState::Draft) => format!("✎ {}", tr(lang, "utkast", "draft")),
        Some(DeclarationState::Submitted) => format!("☑ {}", tr(lang, "skickad", "sent")),
    }
}

fn declaration_code(d: Option<DeclarationState>) -> Option<&'static str> {
    d.map(|d| match d {
        DeclarationState::NotDownloaded => "not_downloaded",
        DeclarationState::NotStarted => "not_started",
        DeclarationState::Draft => "draft",
        DeclarationState::Submitted => "submitted",
    })
}

/// What an answer was, for the patient.
pub fn answer_label(lang: Lang, a: &Answer) -> String {
    match a {
        Answer::Confirm => tr(lang, "Du kommer", "You will come"),
        Answer::Cancel { .. } => tr(lang, "Avbokad av dig", "Cancelled by you"),
        Answer::Reschedule { .. } => tr(lang, "Ny tid önskad", "New time asked for"),
    }
}

/// Symbol and label of an answer's delivery.
pub fn delivery_label(lang: Lang, d: AnswerDelivery) -> String {
    match d {
        AnswerDelivery::Queued => format!("⏳ {}", tr(lang, "skickas vid synk", "goes with sync")),
        AnswerDelivery::Sent => format!("✓ {}", tr(lang, "mottaget", "received")),
        AnswerDelivery::Overtaken => format!(
            "✕ {}",
            tr(
                lang,
                "skickades inte: mottagningen ändrade först",
                "not sent: the clinic changed it first"
            )
        ),
    }
}

/// Where: the clinic's name and city, or "Video".
pub fn place_short(lang: Lang, n: &Notice) -> String {
    match (&n.place, &n.video_url) {
        (Some(p), _) => match &p.city {
            Some(city) => format!("{}, {city}", p.name),
            None => p.name.clone(),
        },
        (None, Some(_)) => format!("🎥 {}", tr(lang, "Videobesök", "Video visit")),
        (None, None) => "—".to_owned(),
    }
}

/// A notice as JSON for scripts.
pub fn view_json(v: &NoticeView) -> serde_json::Value {
    serde_json::json!({
        "id": v.notice.id,
        "state": v.state,
        "can_change": v.can_change,
        "cutoff_at": v.notice.cutoff_at(),
        "declaration": declaration_code(v.declaration),
        "notice": v.notice,
        "local": v.local,
    })
}

/// Wraps a table to the terminal only when the terminal is known and wide enough (a
/// pseudo-terminal without a size would squeeze every column to one character).
pub fn fit(t: &mut Table) {
    let wide = t.width().is_some_and(|w| w >= 60);
    t.set_content_arrangement(if wide {
        ContentArrangement::Dynamic
    } else {
        ContentArrangement::Disabled
    });
}

/// The notice list as a table.
pub fn notices_table(ctx: &Ctx, views: &[NoticeView]) -> String {
    let lang = ctx.lang;
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        tr(lang, "Status", "State"),
        tr(lang, "När", "When"),
        tr(lang, "Vad", "What"),
        tr(lang, "Var", "Where"),
        tr(lang, "Hälsodeklaration", "Health declaration"),
        "Id".to_owned(),
    ]);
    fit(&mut t);
    for v in views {
        let mut state = state_label(lang, v.state);
        if let (NoticeState::Answered, Some(a)) = (v.state, v.local.current_answer()) {
            state.push_str(&format!(
                ": {}",
                answer_label(lang, &a.answer).to_lowercase()
            ));
        }
        t.add_row(vec![
            Cell::new(paint_state(ctx, v.state, state)),
            Cell::new(span(lang, &v.notice)),
            Cell::new(&v.notice.service),
            Cell::new(place_short(lang, &v.notice)),
            Cell::new(declaration_label(lang, v.declaration)),
            Cell::new(&v.notice.id),
        ]);
    }
    t.to_string()
}

/// Runs `nara notices`.
pub fn list(ctx: &Ctx) -> anyhow::Result<()> {
    let nara = ctx.open()?;
    let views = nara.notices().list()?;
    if ctx.json {
        let all: Vec<serde_json::Value> = views.iter().map(view_json).collect();
        return print_json(&serde_json::json!({ "notices": all }));
    }
    if views.is_empty() {
        println!(
            "{}",
            tr(
                ctx.lang,
                "Inga kallelser (de kommer med `nara sync`).",
                "No appointment notices (they come with `nara sync`)."
            )
        );
        return Ok(());
    }
    println!("{}", notices_table(ctx, &views));
    println!(
        "{}",
        render::dim(
            ctx,
            &tr(
                ctx.lang,
                "Visa en kallelse: nara notice show ID",
                "Show a notice: nara notice show ID"
            )
        )
    );
    Ok(())
}

/// The lines of a notice for the terminal: everything in it, and what the patient did.
pub fn detail_lines(ctx: &Ctx, v: &NoticeView) -> Vec<String> {
    let lang = ctx.lang;
    let n = &v.notice;
    let mut out = vec![render::heading(
        ctx,
        &format!("{} · {}", n.service, span(lang, n)),
    )];
    let row = |label: String, value: String| format!("  {label:<18} {value}");
    out.push(row(
        tr(lang, "Status", "State"),
        paint_state(ctx, v.state, state_label(lang, v.state)),
    ));
    out.push(row(tr(lang, "Tid", "Time"), span(lang, n)));
    if let Some(p) = &n.place {
        out.push(row(tr(lang, "Plats", "Place"), p.name.clone()));
        for line in &p.lines {
            out.push(row(String::new(), line.clone()));
        }
        let town = [p.postal_code.as_deref(), p.city.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !town.is_empty() {
            out.push(row(String::new(), town));
        }
        if let Some(phone) = &p.phone {
            out.push(row(tr(lang, "Telefon", "Phone"), format!("☎ {phone}")));
        }
    }
    if let Some(url) = &n.video_url {
        out.push(row(
            tr(lang, "Videolänk", "Video link"),
            format!("🎥 {url}"),
        ));
    }
    if let Some(p) = &n.practitioner {
        let who = match &p.role {
            Some(role) => format!("{} ({role})", p.name),
            None => p.name.clone(),
        };
        out.push(row(tr(lang, "Du träffar", "You meet"), who));
    }
    if let Some(prep) = &n.preparation {
        out.push(row(tr(lang, "Förberedelser", "Preparation"), String::new()));
        for line in prep.lines() {
            out.push(format!("    {line}"));
        }
    }
    if let Some(reason) = &n.cancel_reason {
        out.push(render::alert(
            ctx,
            &format!(
                "  ✕ {}: {reason}",
                tr(lang, "Inställd av mottagningen", "Cancelled by the clinic")
            ),
        ));
    }
    let cutoff = when(lang, n.cutoff_at());
    if v.can_change {
        out.push(row(
            tr(lang, "Avboka senast", "Cancel by"),
            format!("{cutoff} (nara notice cancel {})", n.id),
        ));
    } else if matches!(
        v.state,
        NoticeState::New | NoticeState::Opened | NoticeState::Answered
    ) {
        let phone = n
            .place
            .as_ref()
            .and_then(|p| p.phone.clone())
            .map(|p| format!(" {p}"))
            .unwrap_or_default();
        out.push(row(
            tr(lang, "Avboka senast", "Cancel by"),
            format!(
                "{cutoff} — {}{phone}",
                tr(
                    lang,
                    "för sent i appen, ring mottagningen",
                    "too late in the app, call the clinic"
                )
            ),
        ));
    }
    if let Some(q) = &n.questionnaire_id {
        let mut line = declaration_label(lang, v.declaration);
        if matches!(
            v.declaration,
            Some(DeclarationState::NotStarted | DeclarationState::Draft)
        ) {
            line.push_str(&format!("  (nara form fill {q} --notice {})", n.id));
        }
        out.push(row(
            tr(lang, "Hälsodeklaration", "Health declaration"),
            line,
        ));
    }
    if v.local.answers.is_empty() {
        out.push(row(
            tr(lang, "Ditt svar", "Your answer"),
            format!("— (nara notice confirm | cancel | reschedule {})", n.id),
        ));
    }
    for a in &v.local.answers {
        out.push(row(
            tr(lang, "Ditt svar", "Your answer"),
            answer_line(lang, a),
        ));
    }
    out
}

fn answer_line(lang: Lang, a: &GivenAnswer) -> String {
    format!(
        "{} · {} [{}]",
        answer_label(lang, &a.answer),
        when(lang, a.at),
        delivery_label(lang, a.delivery)
    )
}

/// Runs `nara notice show`.
fn show(ctx: &Ctx, args: &ShowArgs) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let nara = ctx.open()?;
    let first = nara
        .notices()
        .get(&args.id)?
        .ok_or_else(|| not_found(lang))?
        .local
        .opened_at
        .is_none();
    let v = nara
        .notices()
        .open(&args.id)
        .map_err(|e| notice_error(lang, &args.id, e))?;
    if let Some(path) = &args.ics {
        let ics = nara.notices().calendar(&args.id)?;
        std::fs::write(path, ics).with_context(|| format!("writing {}", path.display()))?;
    }
    if ctx.json {
        let mut value = view_json(&v);
        if let Some(obj) = value.as_object_mut() {
            obj.insert("receipt_queued".into(), serde_json::json!(first));
            obj.insert("ics".into(), serde_json::json!(args.ics));
        }
        return print_json(&value);
    }
    for line in detail_lines(ctx, &v) {
        println!("{line}");
    }
    if first {
        println!(
            "{}",
            render::dim(
                ctx,
                &tr(
                    lang,
                    "Mottagningen ser att du har öppnat kallelsen (skickas vid nästa synk).",
                    "The clinic will see that you opened the notice (sent with the next sync)."
                )
            )
        );
    }
    if let Some(path) = &args.ics {
        println!(
            "✓ {} {}",
            tr(lang, "Kalenderfil sparad:", "Calendar file written:"),
            path.display()
        );
    }
    Ok(())
}

fn not_found(lang: Lang) -> anyhow::Error {
    let m = NoticeError::NotFound.message();
    bilingual_error(lang, EXIT_NOT_FOUND, m.sv, m.en)
}

/// Exit code of a refused answer.
pub fn exit_code(e: &NoticeError) -> u8 {
    match e {
        NoticeError::PastCutoff { .. } => EXIT_TOO_LATE,
        NoticeError::Moved => EXIT_MOVED,
        NoticeError::NotFound => EXIT_NOT_FOUND,
        NoticeError::TooLong { .. }
        | NoticeError::EmptyReschedule
        | NoticeError::BadWindow { .. } => EXIT_INPUT,
        NoticeError::CancelledByClinic
        | NoticeError::Passed
        | NoticeError::AlreadyCancelled
        | NoticeError::AlreadyGiven => EXIT_REFUSED,
    }
}

/// A notice error for the patient, in both languages, with its exit code; other errors
/// unchanged.
pub fn notice_error(lang: Lang, id: &str, e: NaraError) -> anyhow::Error {
    match e {
        NaraError::NotFound => not_found(lang),
        NaraError::Notice(NoticeError::NotFound) => not_found(lang),
        NaraError::Notice(n) => {
            let m = n.message();
            let err = bilingual_error(lang, exit_code(&n), m.sv, m.en);
            if matches!(n, NoticeError::Moved) {
                if let Some(u) = err.downcast_ref::<crate::UserError>() {
                    let mut lines = u.lines.clone();
                    lines.push(format!("→ nara notice show {id}"));
                    return crate::UserError {
                        lines,
                        code: u.code,
                    }
                    .into();
                }
            }
            err
        }
        other => other.into(),
    }
}

/// Parses one time of a window: RFC 3339, else local civil time in the system zone.
fn parse_time(s: &str) -> Option<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    let dt: DateTime = s.parse().ok()?;
    dt.to_zoned(TimeZone::system()).ok().map(|z| z.timestamp())
}

/// Parses `START/END`.
pub fn parse_window(lang: Lang, s: &str) -> anyhow::Result<(Timestamp, Timestamp)> {
    let parsed = s
        .split_once('/')
        .and_then(|(a, b)| Some((parse_time(a.trim())?, parse_time(b.trim())?)));
    parsed.ok_or_else(|| {
        bilingual_error(
            lang,
            EXIT_INPUT,
            format!(
                "Tiden «{s}» går inte att läsa. Skriv START/SLUT, till exempel \
                 2026-12-03T08:00/2026-12-03T12:00."
            ),
            format!(
                "The time «{s}» cannot be read. Write START/END, for example \
                 2026-12-03T08:00/2026-12-03T12:00."
            ),
        )
    })
}

/// Gives `answer` to notice `id` and prints what happened.
fn answer(ctx: &Ctx, id: &str, answer: Answer) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let nara = ctx.open()?;
    let given = nara
        .notices()
        .answer(id, answer)
        .map_err(|e| notice_error(lang, id, e))?;
    if ctx.json {
        return print_json(&given);
    }
    println!(
        "✓ {}: {}  [{}]",
        answer_label(lang, &given.answer),
        tr(
            lang,
            "svaret är sparat och skickas vid nästa synk",
            "your answer is stored and goes with the next sync"
        ),
        delivery_label(lang, given.delivery)
    );
    Ok(())
}

/// Runs `nara notice ...`.
pub fn run(ctx: &Ctx, cmd: NoticeCmd) -> anyhow::Result<()> {
    match cmd {
        NoticeCmd::Show(args) => show(ctx, &args),
        NoticeCmd::Confirm(args) => answer(ctx, &args.id, Answer::Confirm),
        NoticeCmd::Cancel(args) => answer(
            ctx,
            &args.id,
            Answer::Cancel {
                reason: args.reason,
            },
        ),
        NoticeCmd::Reschedule(args) => {
            let windows = args
                .windows
                .iter()
                .map(|w| parse_window(ctx.lang, w))
                .collect::<anyhow::Result<Vec<_>>>()?;
            answer(
                ctx,
                &args.id,
                Answer::Reschedule {
                    wishes: args.wishes,
                    windows,
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_in_both_forms() {
        let (a, b) = parse_window(
            Lang::En,
            "2026-12-03T08:00:00+01:00/2026-12-03T12:00:00+01:00",
        )
        .expect("rfc3339");
        assert_eq!(b.duration_since(a).as_hours(), 4);
        assert!(parse_window(Lang::En, "2026-12-03T08:00/2026-12-03T12:00").is_ok());
        assert!(parse_window(Lang::En, "tomorrow").is_err());
    }

    #[test]
    fn every_notice_error_has_a_distinct_class() {
        assert_eq!(
            exit_code(&NoticeError::PastCutoff {
                hours: 24,
                phone: None
            }),
            EXIT_TOO_LATE
        );
        assert_eq!(exit_code(&NoticeError::Moved), EXIT_MOVED);
        assert_eq!(exit_code(&NoticeError::Passed), EXIT_REFUSED);
        assert_eq!(exit_code(&NoticeError::EmptyReschedule), EXIT_INPUT);
    }
}
