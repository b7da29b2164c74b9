//! `nara schedule [add|remove]`: schedules, today's tasks, adherence and reminders.

use clap::{Args, Subcommand};
use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use jiff::SignedDuration;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use nara_core::Nara;
use nara_core::domain::reading::ReadingKind;
use nara_core::domain::schedule::{Adherence, MeasurementSchedule, TaskStatus};
use nara_core::domain::text::Lang;

use super::{Ctx, parse_kind, print_json, user_error};
use crate::render;

/// Arguments of `nara schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(subcommand)]
    cmd: Option<ScheduleCmd>,
}

/// Schedule subcommands; none lists.
#[derive(Debug, Subcommand)]
pub enum ScheduleCmd {
    /// Add a schedule, e.g. `nara schedule add bp --times 08:00,20:00 --days 7`.
    Add {
        /// Kind.
        #[arg(value_parser = parse_kind)]
        kind: ReadingKind,
        /// Local times, comma separated.
        #[arg(long, value_delimiter = ',', required = true)]
        times: Vec<String>,
        /// Number of days (default: open-ended).
        #[arg(long)]
        days: Option<u32>,
        /// Minutes either side of each time that count.
        #[arg(long, default_value_t = 90)]
        window: u32,
        /// IANA time zone.
        #[arg(long, default_value = "Europe/Stockholm")]
        tz: String,
        /// First day, YYYY-MM-DD (default: today).
        #[arg(long)]
        start: Option<Date>,
    },
    /// Remove a schedule.
    Remove {
        /// Schedule id.
        id: String,
    },
}

/// Adherence to `s` from its first day up to now (or its last day).
pub fn adherence_so_far(nara: &Nara, s: &MeasurementSchedule) -> anyhow::Result<Adherence> {
    Ok(nara.care_plan().adherence_so_far(&s.id)?)
}

/// Formats adherence as `13/14 (93 %)`.
pub fn adherence_str(a: &Adherence) -> String {
    match a.ratio {
        Some(r) => format!("{}/{} ({:.0} %)", a.done, a.scheduled, r * 100.0),
        None => format!("{}/{}", a.done, a.scheduled),
    }
}

fn status_str(lang: Lang, s: &TaskStatus) -> String {
    let sv = lang == Lang::Sv;
    match s {
        TaskStatus::Done { at } => {
            let t = at
                .to_zoned(TimeZone::system())
                .strftime("%H:%M")
                .to_string();
            if sv {
                format!("✓ klar {t}")
            } else {
                format!("✓ done {t}")
            }
        }
        TaskStatus::Due => (if sv { "● dags nu" } else { "● due now" }).to_owned(),
        TaskStatus::Missed => (if sv { "✗ missad" } else { "✗ missed" }).to_owned(),
        TaskStatus::Upcoming => (if sv { "○ kommande" } else { "○ upcoming" }).to_owned(),
    }
}

/// Prints schedules with adherence, today's tasks and the next 24 h of reminders.
pub fn show(ctx: &Ctx, nara: &Nara) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let sv = lang == Lang::Sv;
    let schedules = nara.care_plan().schedules()?;
    let now = nara.now();
    let tz = TimeZone::system();
    let today = now.to_zoned(tz.clone()).date();
    let day_start = today.to_zoned(tz.clone())?.timestamp();
    let day_end = today.tomorrow()?.to_zoned(tz)?.timestamp() - SignedDuration::from_secs(1);
    let tasks = nara.care_plan().tasks(day_start, day_end)?;
    let reminders = nara.care_plan().reminders(SignedDuration::from_hours(24))?;
    let mut adherence = Vec::new();
    for s in &schedules {
        adherence.push(adherence_so_far(nara, s)?);
    }
    if ctx.json {
        let list: Vec<_> = schedules
            .iter()
            .zip(&adherence)
            .map(|(s, a)| serde_json::json!({ "schedule": s, "adherence": a }))
            .collect();
        return print_json(
            &serde_json::json!({ "schedules": list, "today": tasks, "reminders": reminders }),
        );
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(if sv {
        ["Id", "Typ", "Tider", "Från", "Dagar", "Följsamhet"]
    } else {
        ["Id", "Kind", "Times", "From", "Days", "Adherence"]
    });
    for (s, a) in schedules.iter().zip(&adherence) {
        let times: Vec<String> = s
            .times
            .iter()
            .map(|t| t.strftime("%H:%M").to_string())
            .collect();
        t.add_row(vec![
            s.id.clone(),
            s.kind.label().get(lang).to_owned(),
            format!("{} ±{} min", times.join(", "), s.window_minutes),
            s.start.to_string(),
            s.days
                .map(|d| d.to_string())
                .unwrap_or_else(|| "∞".to_owned()),
            adherence_str(a),
        ]);
    }
    println!("{t}");
    println!("{}", if sv { "Idag:" } else { "Today:" });
    if tasks.is_empty() {
        println!(
            "  {}",
            if sv {
                "inga mätningar planerade"
            } else {
                "nothing scheduled"
            }
        );
    }
    for task in &tasks {
        println!(
            "  {}  {:<14} {}",
            task.slot.local.strftime("%H:%M"),
            task.slot.kind.label().get(lang),
            status_str(lang, &task.status)
        );
    }
    println!(
        "{}",
        if sv {
            "Påminnelser närmaste 24 h (låsskärm):"
        } else {
            "Reminders, next 24 h (lock screen):"
        }
    );
    if reminders.is_empty() {
        println!("  –");
    }
    for r in &reminders {
        println!(
            "  {}  «{}» {}",
            render::system_time(r.at),
            r.title.get(lang),
            r.body.get(lang)
        );
    }
    Ok(())
}

fn parse_time(s: &str) -> anyhow::Result<Time> {
    s.trim()
        .parse::<Time>()
        .map_err(|_| user_error(2, format!("✗ '{s}' is not a time HH:MM")))
}

/// Runs `nara schedule`.
pub fn run(ctx: &Ctx, args: ScheduleArgs) -> anyhow::Result<()> {
    let nara = ctx.open()?;
    match args.cmd {
        None => show(ctx, &nara),
        Some(ScheduleCmd::Add {
            kind,
            times,
            days,
            window,
            tz,
            start,
        }) => {
            let zone = TimeZone::get(&tz)
                .map_err(|_| user_error(2, format!("✗ unknown time zone {tz}")))?;
            let start = start.unwrap_or_else(|| nara.now().to_zoned(zone).date());
            let times = times
                .iter()
                .map(|t| parse_time(t))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let id = format!(
                "{}-{}-{}",
                kind.short_name(),
                start.strftime("%Y%m%d"),
                times
                    .iter()
                    .map(|t| t.strftime("%H%M").to_string())
                    .collect::<Vec<_>>()
                    .join("-")
            );
            let mut s = MeasurementSchedule::twice_daily(id, kind, start, days, tz);
            s.times = times;
            s.window_minutes = window;
            nara.care_plan().set_schedule(s.clone())?;
            if ctx.json {
                return print_json(&s);
            }
            println!("schedule {} added", s.id);
            Ok(())
        }
        Some(ScheduleCmd::Remove { id }) => {
            nara.care_plan().remove_schedule(&id)?;
            if ctx.json {
                return print_json(&serde_json::json!({ "removed": id }));
            }
            println!("schedule {id} removed");
            Ok(())
        }
    }
}
