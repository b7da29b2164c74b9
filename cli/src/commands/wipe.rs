//! `nara wipe --yes`: delete everything (logout).

use super::{Ctx, print_json, user_error};

/// Runs `nara wipe`.
pub fn run(ctx: &Ctx, yes: bool) -> anyhow::Result<()> {
    if !yes {
        return Err(user_error(
            1,
            "refusing to wipe without --yes (this deletes every reading)",
        ));
    }
    let nara = ctx.open()?;
    nara.wipe()?;
    super::region::Settings::remove(&ctx.data_dir)?;
    if ctx.json {
        return print_json(&serde_json::json!({ "wiped": true }));
    }
    println!("wiped: {}", ctx.data_dir.display());
    Ok(())
}
