//! Terminal rendering: band colours (never the only signal), tables and plots.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, ContentArrangement, Table};
use jiff::Timestamp;
use nara_core::domain::reading::{Metric, Reading, ReadingKind};
use nara_core::domain::text::Lang;
use nara_core::domain::trend::{SeriesPoint, TrendSummary};
use nara_core::domain::triage::Band;
use owo_colors::OwoColorize;
use textplots::{Chart, ColorPlot, Plot, Shape};

use crate::commands::Ctx;

/// Patient-facing text in the chosen language, from its Swedish and English forms.
pub fn tr(lang: Lang, sv: &str, en: &str) -> String {
    nara_core::domain::text::LocalizedText::new(sv, en)
        .get(lang)
        .to_owned()
}

/// Colours `text` by band when colours are on.
pub fn paint(ctx: &Ctx, band: Band, text: &str) -> String {
    if !ctx.color {
        return text.to_owned();
    }
    match band {
        Band::Green => text.green().to_string(),
        Band::Yellow => text.yellow().to_string(),
        Band::Red => text.red().bold().to_string(),
        Band::MeasureAgain => text.cyan().to_string(),
        Band::NotAssessed => text.dimmed().to_string(),
    }
}

/// Symbol and label of a band, e.g. `▲ Gult`, coloured.
pub fn band(ctx: &Ctx, band: Band) -> String {
    paint(
        ctx,
        band,
        &format!("{} {}", band.symbol(), band.label().get(ctx.lang)),
    )
}

/// A prominent warning line.
pub fn alert(ctx: &Ctx, text: &str) -> String {
    if ctx.color {
        text.red().bold().reversed().to_string()
    } else {
        text.to_owned()
    }
}

/// A section heading.
pub fn heading(ctx: &Ctx, text: &str) -> String {
    let line = format!("━━ {text} ");
    let pad = 78usize.saturating_sub(line.chars().count());
    let full = format!("{line}{}", "━".repeat(pad));
    if ctx.color {
        full.bold().to_string()
    } else {
        full
    }
}

/// Dimmed text.
pub fn dim(ctx: &Ctx, text: &str) -> String {
    if ctx.color {
        text.dimmed().to_string()
    } else {
        text.to_owned()
    }
}

/// A UTC offset as `+01:00`.
pub fn offset_str(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

/// A reading's local time as the patient saw the clock, with its offset.
pub fn local_time(r: &Reading) -> String {
    format!(
        "{} {}",
        r.local_time().strftime("%Y-%m-%d %H:%M"),
        offset_str(r.utc_offset_seconds)
    )
}

/// An instant in the system time zone, `YYYY-MM-DD HH:MM`.
pub fn system_time(at: Timestamp) -> String {
    at.to_zoned(jiff::tz::TimeZone::system())
        .strftime("%Y-%m-%d %H:%M %:z")
        .to_string()
}

/// The first 8 characters of a reading id.
pub fn short_id(r: &Reading) -> String {
    r.id.to_string().chars().take(8).collect()
}

/// The band with what hides behind it: `↻ Mät igen (■ värdet rött)` when a red value
/// was measured with poor quality, and each finding's symbol (`♥`).
pub fn band_with_findings(ctx: &Ctx, r: &Reading) -> String {
    let mut out = band(ctx, r.triage.band);
    if r.triage.band == Band::MeasureAgain && r.triage.values_red() {
        out.push_str(&paint(
            ctx,
            Band::Red,
            &format!(
                " ({} {})",
                Band::Red.symbol(),
                tr(ctx.lang, "värdet rött", "value red")
            ),
        ));
    }
    for f in &r.triage.findings {
        out.push(' ');
        out.push_str(f.symbol());
    }
    out
}

/// The patient-facing outcome of one reading: band, reason, findings and advice.
pub fn reading_outcome(ctx: &Ctx, r: &Reading) -> Vec<String> {
    let lang = ctx.lang;
    let mut lines = vec![
        format!(
            "{}  {}  {}",
            r.kind().label().get(lang),
            r.display(lang),
            band_with_findings(ctx, r)
        ),
        format!("  {}", r.triage.reason_in(lang)),
    ];
    for f in &r.triage.findings {
        lines.push(format!("  {} {}", f.symbol(), f.text().get(lang)));
    }
    lines.push(format!(
        "  → {}",
        paint(ctx, r.triage.band, r.triage.advice().get(lang))
    ));
    lines
}

/// A table of readings, newest first.
pub fn readings_table(ctx: &Ctx, readings: &[Reading]) -> String {
    let lang = ctx.lang;
    let sv = lang == Lang::Sv;
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(if sv {
        [
            "Tid",
            "Typ",
            "Värde",
            "Bedömning",
            "Orsak",
            "Ant.",
            "Id",
            "",
        ]
    } else {
        ["Time", "Kind", "Value", "Band", "Reason", "Note", "Id", ""]
    });
    for r in readings {
        let superseded = if r.superseded_by.is_some() {
            if sv { "ersatt" } else { "superseded" }
        } else if r.supersedes.is_some() {
            if sv { "rättelse" } else { "correction" }
        } else {
            ""
        };
        t.add_row(vec![
            Cell::new(local_time(r)),
            Cell::new(r.kind().label().get(lang)),
            Cell::new(r.display(lang)),
            Cell::new(band_with_findings(ctx, r)),
            Cell::new(r.triage.reason_in(lang)),
            Cell::new(if r.note.is_some() { "✎" } else { "" }),
            Cell::new(short_id(r)),
            Cell::new(superseded),
        ]);
    }
    t.to_string()
}

/// A trend summary as a table: count, per-metric mean/min/max, band counts.
pub fn summary_table(ctx: &Ctx, s: &TrendSummary) -> String {
    let lang = ctx.lang;
    let sv = lang == Lang::Sv;
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(if sv {
        ["Mått", "Antal", "Medel", "Min", "Max"]
    } else {
        ["Metric", "Count", "Mean", "Min", "Max"]
    });
    for m in &s.metrics {
        t.add_row(vec![
            m.metric.label().get(lang).to_owned(),
            m.count.to_string(),
            m.metric.format(m.mean),
            m.metric.format(m.min),
            m.metric.format(m.max),
        ]);
    }
    let counts: Vec<String> = Band::ALL
        .into_iter()
        .filter(|b| s.band_counts.get(*b) > 0)
        .map(|b| format!("{} {}", band(ctx, b), s.band_counts.get(b)))
        .collect();
    let title = if sv {
        format!(
            "{}: {} dagar, {} mätningar",
            s.kind.label().get(lang),
            s.window_days,
            s.count
        )
    } else {
        format!(
            "{}: {} days, {} readings",
            s.kind.label().get(lang),
            s.window_days,
            s.count
        )
    };
    format!("{title}\n{t}\n{}", counts.join("   "))
}

/// The metrics to plot for a kind: systolic and diastolic for blood pressure, else the
/// primary metric.
pub fn plot_metrics(kind: ReadingKind) -> Vec<Metric> {
    match kind {
        ReadingKind::BloodPressure => vec![Metric::Systolic, Metric::Diastolic],
        other => vec![other.metrics()[0]],
    }
}

/// A line plot of one or more series over the last `days` days (x: days before now).
pub fn plot(ctx: &Ctx, now: Timestamp, days: u32, series: &[(Metric, Vec<SeriesPoint>)]) -> String {
    let to_xy = |pts: &[SeriesPoint]| -> Vec<(f32, f32)> {
        pts.iter()
            .map(|p| {
                let x = p.at.duration_since(now).as_secs_f64() / 86_400.0;
                (x as f32, p.value as f32)
            })
            .collect()
    };
    let data: Vec<Vec<(f32, f32)>> = series.iter().map(|(_, p)| to_xy(p)).collect();
    if data.iter().all(|d| d.len() < 2) {
        return String::new();
    }
    let shapes: Vec<Shape<'_>> = data.iter().map(|d| Shape::Lines(d)).collect();
    let colours = [
        rgb::RGB8 {
            r: 230,
            g: 90,
            b: 90,
        },
        rgb::RGB8 {
            r: 90,
            g: 140,
            b: 230,
        },
    ];
    let mut chart = Chart::new(120, 40, -(days as f32), 0.0);
    let mut c: &mut Chart<'_> = &mut chart;
    for (i, shape) in shapes.iter().enumerate() {
        c = if ctx.color {
            c.linecolorplot(shape, colours[i % 2])
        } else {
            c.lineplot(shape)
        };
    }
    c.axis();
    c.figures();
    let legend: Vec<String> = series
        .iter()
        .enumerate()
        .map(|(i, (m, _))| {
            let pos = match (series.len(), i, ctx.lang) {
                (1, _, _) => String::new(),
                (_, 0, Lang::Sv) => " (övre linjen)".to_owned(),
                (_, 0, Lang::En) => " (upper line)".to_owned(),
                (_, _, Lang::Sv) => " (undre linjen)".to_owned(),
                (_, _, Lang::En) => " (lower line)".to_owned(),
            };
            format!("{}{pos}", m.label().get(ctx.lang))
        })
        .collect();
    let axis = if ctx.lang == Lang::Sv {
        "x: dagar före nu"
    } else {
        "x: days before now"
    };
    format!("{c}\n{}   {}", legend.join(", "), dim(ctx, axis))
}
