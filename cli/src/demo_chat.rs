//! The demo's chat step, after the region sync: the nurse simulator
//! (`tests/region/nurse`) opens a thread for the demo patient, the patient writes a
//! message offline, sync, the nurse reads it and replies, sync, and the thread is shown
//! with the delivery states. Like the sync step it never fails the demo: a problem is
//! told and the story goes on.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nara_core::Nara;
use nara_core::domain::chat::{Author, DeliveryState};

use crate::commands::Ctx;
use crate::commands::chat::{delivery, send_message, show_thread};
use crate::commands::region::{runtime, sync_with_progress};
use crate::demo_region::RegionLink;
use crate::render;
use crate::render::tr;

/// What Anna writes to the care team (also a privacy-check needle).
pub const PATIENT_TEXT: &str =
    "Hej! Mitt blodtryck var 178/106 i går kväll och jag var yr. Ska jag ändra något?";
/// What the nurse answers.
pub const NURSE_TEXT: &str =
    "Hej Anna, tack för att du skriver. Vi ringer dig i eftermiddag och går igenom dina värden.";
/// The time budget of each sync.
const SYNC_BUDGET: Duration = Duration::from_secs(60);

/// `tests/region/nurse` of the repository this binary was built from, else one found
/// above the current directory.
fn nurse_script() -> Option<PathBuf> {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/region/nurse");
    if built.is_file() {
        return Some(built);
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|d| d.join("tests/region/nurse"))
        .find(|p| p.is_file())
}

/// Runs the nurse simulator with the region's `NARA_*` variables; its stdout, or why not.
pub(crate) fn nurse(link: &RegionLink, args: &[&str]) -> Result<String, String> {
    let script = nurse_script().ok_or("tests/region/nurse was not found")?;
    let out = Command::new(&script)
        .args(args)
        .envs(&link.env)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or_default();
        return Err(format!(
            "tests/region/nurse {}: {} {first}",
            args.first().copied().unwrap_or_default(),
            out.status
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn sync(ctx: &Ctx, nara: &Nara) -> Result<(), String> {
    let rt = runtime().map_err(|e| e.to_string())?;
    let report = rt
        .block_on(sync_with_progress(ctx, nara, SYNC_BUDGET))
        .map_err(|e| format!("sync: {e}"))?;
    if !report.finished {
        return Err(format!(
            "sync: {} {}",
            report.remaining,
            tr(ctx.lang, "väntar kvar", "still waiting")
        ));
    }
    Ok(())
}

/// Runs the chat step and returns its JSON summary. `tick` moves the demo clock to the
/// real time (the region lives in it).
pub fn chat_step(
    ctx: &Ctx,
    nara: &Nara,
    link: &RegionLink,
    tick: &dyn Fn(),
    say: &dyn Fn(String),
) -> serde_json::Value {
    match run(ctx, nara, link, tick, say) {
        Ok(v) => v,
        Err(why) => {
            say(render::alert(
                ctx,
                &format!(
                    "  ⚠ {}: {why}",
                    tr(ctx.lang, "Chattsteget avbröts", "The chat step stopped")
                ),
            ));
            serde_json::json!({ "skipped": true, "reason": why })
        }
    }
}

fn run(
    ctx: &Ctx,
    nara: &Nara,
    link: &RegionLink,
    tick: &dyn Fn(),
    say: &dyn Fn(String),
) -> Result<serde_json::Value, String> {
    let lang = ctx.lang;
    let patient = link.patient.as_str();
    let thread_id = format!("{patient}-demo-bp");
    nurse(
        link,
        &[
            "thread",
            patient,
            &thread_id,
            "--title",
            "Frågor om blodtryck",
            "--unit",
            "Hjärtsviktsmottagningen",
        ],
    )?;
    say(format!(
        "  ✓ {} «Frågor om blodtryck» ({}: tests/region/nurse thread)",
        tr(
            lang,
            "Hjärtsviktsmottagningen öppnar en konversation",
            "The heart failure clinic opens a conversation"
        ),
        tr(lang, "sjuksköterskesimulatorn", "the nurse simulator")
    ));
    tick();
    sync(ctx, nara)?;
    say(format!(
        "  ✓ {}",
        tr(
            lang,
            "Synk: konversationen finns nu i appen",
            "Sync: the conversation is now in the app"
        )
    ));

    tick();
    let sent = send_message(lang, nara, &thread_id, PATIENT_TEXT, Vec::new())
        .map_err(|e| e.to_string())?;
    let queued = sent.delivery.unwrap_or(DeliveryState::Queued);
    say(format!(
        "  {} [{}]",
        tr(
            lang,
            "Anna skriver utan täckning:",
            "Anna writes without signal:"
        ),
        delivery(lang, queued)
    ));
    tick();
    sync(ctx, nara)?;
    let after_upload = nara
        .chat()
        .message(&sent.id)
        .map_err(|e| e.to_string())?
        .and_then(|m| m.delivery)
        .unwrap_or(DeliveryState::Queued);
    say(format!(
        "  {} [{}]",
        tr(
            lang,
            "Synk: meddelandet är hos regionen",
            "Sync: the message is at the region"
        ),
        delivery(lang, after_upload)
    ));

    nurse(link, &["read", patient, &sent.id])?;
    nurse(
        link,
        &[
            "reply",
            patient,
            &thread_id,
            NURSE_TEXT,
            "--in-reply-to",
            &sent.id,
        ],
    )?;
    say(format!(
        "  ✓ {}",
        tr(
            lang,
            "Sjuksköterskan läser och svarar (tests/region/nurse read, reply)",
            "The nurse reads and replies (tests/region/nurse read, reply)"
        )
    ));
    tick();
    sync(ctx, nara)?;
    let unread = nara.chat().unread(&thread_id).map_err(|e| e.to_string())?;
    say(format!(
        "  ✓ {} ({} {unread})",
        tr(
            lang,
            "Synk: svaret har kommit",
            "Sync: the reply has arrived"
        ),
        tr(lang, "olästa:", "unread:")
    ));
    say(String::new());

    let (_, messages, marked, _) =
        show_thread(ctx, nara, &thread_id, false, &|l| say(format!("  {l}")))
            .map_err(|e| e.to_string())?;
    let own = messages.iter().find(|m| m.id == sent.id);
    let delivery_now = own.and_then(|m| m.delivery);
    let reply_shown = messages
        .iter()
        .any(|m| m.author == Author::CareUnit && m.text == NURSE_TEXT);
    say(format!(
        "  {} {marked}",
        tr(
            lang,
            "Markerade som lästa (kvitto skickas vid nästa synk):",
            "Marked read (the receipt goes with the next sync):"
        )
    ));
    Ok(serde_json::json!({
        "skipped": false,
        "thread": thread_id,
        "message": sent.id,
        "delivery_after_upload": after_upload,
        "delivery": delivery_now,
        "reply_shown": reply_shown,
        "marked_read": marked,
        "unread_before_show": unread,
    }))
}
