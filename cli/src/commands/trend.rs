//! `nara trend KIND [--days N]`: summaries and a plot.

use clap::Args;
use nara_core::Nara;
use nara_core::domain::reading::ReadingKind;
use nara_core::domain::trend::TrendWindow;

use super::{Ctx, parse_kind, print_json};
use crate::render;

/// Arguments of `nara trend`.
#[derive(Debug, Args)]
pub struct TrendArgs {
    /// Kind: bp, weight, glucose, ...
    #[arg(value_parser = parse_kind)]
    pub kind: ReadingKind,
    /// One window of this many days (default: 7, 30 and 90).
    #[arg(long)]
    pub days: Option<u32>,
}

/// Prints summaries for `windows` and a plot over the longest... of the first window.
pub fn show(ctx: &Ctx, nara: &Nara, kind: ReadingKind, windows: &[u32]) -> anyhow::Result<()> {
    let plot_days = windows.first().copied().unwrap_or(30);
    let summaries = windows
        .iter()
        .map(|d| nara.trends().summary(kind, *d))
        .collect::<Result<Vec<_>, _>>()?;
    let series = render::plot_metrics(kind)
        .into_iter()
        .map(|m| Ok((m, nara.trends().series(kind, m, plot_days, 200)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if ctx.json {
        return print_json(&serde_json::json!({ "summaries": summaries, "series": series }));
    }
    for s in &summaries {
        println!("{}\n", render::summary_table(ctx, s));
    }
    let plot = render::plot(ctx, nara.now(), plot_days, &series);
    if !plot.is_empty() {
        println!("{plot}");
    }
    Ok(())
}

/// Runs `nara trend`.
pub fn run(ctx: &Ctx, args: &TrendArgs) -> anyhow::Result<()> {
    let nara = ctx.open()?;
    let windows: Vec<u32> = match args.days {
        Some(d) => vec![d],
        None => TrendWindow::ALL.iter().map(|w| w.days()).collect(),
    };
    show(ctx, &nara, args.kind, &windows)
}
