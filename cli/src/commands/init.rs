//! `nara init`: open or create the store and show the open report.

use nara_core::{OpenReport, QuarantineReason};

use super::{Ctx, print_json};
use crate::render;

/// Runs `nara init`.
pub fn run(ctx: &Ctx) -> anyhow::Result<()> {
    let nara = ctx.open()?;
    let report = nara.open_report().clone();
    if ctx.json {
        return print_json(&serde_json::json!({
            "data_dir": ctx.data_dir,
            "report": report,
            "integrity_ok": nara.integrity_ok()?,
        }));
    }
    print_report(ctx, &report);
    println!("integrity_ok: {}", nara.integrity_ok()?);
    Ok(())
}

/// Prints an open report, the quarantine (if any) first and prominently.
pub fn print_report(ctx: &Ctx, report: &OpenReport) {
    if let Some(q) = &report.quarantined {
        let why = match q.reason {
            QuarantineReason::Corrupt => "the database was corrupt",
            QuarantineReason::KeyLost => "the encryption key is lost",
        };
        let banner = format!(
            "⚠ QUARANTINED: {why}; the old files were moved to {} and a new, empty store was created",
            q.path.display()
        );
        println!("{}", render::alert(ctx, &banner));
    }
    println!("data dir:  {}", ctx.data_dir.display());
    println!("keys:      {}", ctx.key_description());
    let state = if report.created {
        "created (new, encrypted)".to_owned()
    } else if report.migrated_from > 0 {
        format!("opened (schema migrated from v{})", report.migrated_from)
    } else {
        "opened".to_owned()
    };
    println!("store:     {state}");
}
