//! `nara thresholds show|set`: the care team's thresholds (a developer stand-in until sync).

use clap::Subcommand;
use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use nara_core::domain::reading::{Metric, ReadingKind};
use nara_core::domain::triage::{
    Bands, MetricThreshold, Range, RuleVersion, ThresholdOrigin, ThresholdSet,
};

use super::{Ctx, parse_kind, print_json, user_error};

/// Threshold subcommands.
#[derive(Debug, Subcommand)]
pub enum ThresholdsCmd {
    /// Show the thresholds that apply to a kind.
    Show {
        /// Kind.
        #[arg(value_parser = parse_kind)]
        kind: ReadingKind,
    },
    /// Set the care team's bands for one metric of a kind.
    Set {
        /// Kind.
        #[arg(value_parser = parse_kind)]
        kind: ReadingKind,
        /// Metric, e.g. systolic, diastolic, pulse, glucose.
        #[arg(long)]
        metric: String,
        /// Green range `LOW..HIGH` (either end may be empty).
        #[arg(long)]
        green: String,
        /// Yellow range `LOW..HIGH`; outside it is red.
        #[arg(long)]
        yellow: String,
        /// Care-team rule version.
        #[arg(long)]
        version: u32,
    },
}

/// Parses `LOW..HIGH`, either end optional.
pub fn parse_range(s: &str) -> anyhow::Result<Range> {
    let bad = || user_error(2, format!("✗ '{s}' is not a range LOW..HIGH"));
    let (lo, hi) = s.split_once("..").ok_or_else(bad)?;
    let end = |v: &str| -> anyhow::Result<Option<f64>> {
        let v = v.trim();
        if v.is_empty() {
            Ok(None)
        } else {
            v.replace(',', ".").parse().map(Some).map_err(|_| bad())
        }
    };
    Ok(Range {
        low: end(lo)?,
        high: end(hi)?,
    })
}

fn range_str(r: &Range) -> String {
    let e = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    format!("{}..{}", e(r.low), e(r.high))
}

/// Prints a threshold set.
pub fn print_set(ctx: &Ctx, set: &ThresholdSet) {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["metric", "green", "yellow", "unit"]);
    for m in &set.metrics {
        t.add_row(vec![
            format!(
                "{} ({})",
                m.metric.label().get(ctx.lang),
                metric_name(m.metric)
            ),
            range_str(&m.bands.green),
            range_str(&m.bands.yellow),
            m.metric.unit_label().to_owned(),
        ]);
    }
    println!("{} · rule {}", set.kind.label().get(ctx.lang), set.rule);
    if !set.metrics.is_empty() {
        println!("{t}");
    }
    for w in &set.weight_gain {
        println!(
            "weight gain > {} kg in {} days → {}",
            w.max_gain_kg,
            w.over_days,
            w.band.label().get(ctx.lang)
        );
    }
}

fn metric_name(m: Metric) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Runs a thresholds subcommand.
pub fn run(ctx: &Ctx, cmd: ThresholdsCmd) -> anyhow::Result<()> {
    let nara = ctx.open()?;
    match cmd {
        ThresholdsCmd::Show { kind } => {
            let set = nara.care_plan().thresholds(kind)?;
            if ctx.json {
                return print_json(&set);
            }
            print_set(ctx, &set);
        }
        ThresholdsCmd::Set {
            kind,
            metric,
            green,
            yellow,
            version,
        } => {
            let metric: Metric =
                serde_json::from_value(serde_json::Value::String(metric.to_ascii_lowercase()))
                    .map_err(|_| user_error(2, format!("✗ unknown metric '{metric}'")))?;
            let bands = Bands::new(parse_range(&green)?, parse_range(&yellow)?);
            let mut set = nara.care_plan().thresholds(kind)?;
            match set.metrics.iter_mut().find(|m| m.metric == metric) {
                Some(m) => m.bands = bands,
                None => set.metrics.push(MetricThreshold { metric, bands }),
            }
            set.rule = RuleVersion {
                origin: ThresholdOrigin::CareTeam,
                version,
            };
            nara.care_plan().set_thresholds(set.clone())?;
            if ctx.json {
                return print_json(&set);
            }
            print_set(ctx, &set);
        }
    }
    Ok(())
}
