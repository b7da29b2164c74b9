//! The demo's notices step, after the chat: the region books a visit with a health
//! declaration (the nurse simulator `tests/region/nurse questionnaire` and `book`, with
//! `tests/region/fixtures/halsodeklaration.json`), sync brings the notice and its form,
//! Anna opens it, fills in the declaration offline with scripted answers, confirms,
//! syncs, and the clinic's side is shown (`nurse notice`: one receipt, one response,
//! one questionnaire response).
//!
//! With `--offline` (or when the region is not reachable) the notice and its form are
//! provisioned locally, as sync would store them, and everything stays in the outbox.
//! Like the other region steps it never fails the demo: a problem is told and the story
//! goes on.

use std::path::Path;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use nara_core::Nara;
use nara_core::domain::notice::{AppointmentStatus, Notice, Place, Practitioner};

use crate::commands::Ctx;
use crate::commands::form::{answers_table, fill_from_json};
use crate::commands::notices::{detail_lines, notices_table};
use crate::demo_chat::{nurse, sync};
use crate::demo_region::RegionLink;
use crate::render;
use crate::render::tr;

/// The form's id at the region.
pub const FORM_ID: &str = "halsodeklaration";
/// Anna's medicines in the declaration (also a privacy-check needle).
pub const MEDICINES: &str = "Enalapril 10 mg, Furosemid 40 mg";
/// Anna's new symptoms in the declaration (also a privacy-check needle).
pub const SYMPTOMS: &str = "Svullna fötter och tyngre andning i trappor";

const SERVICE: &str = "Hjärtsviktsmottagningen, återbesök";
const CLINIC: &str = "Hjärtsviktsmottagningen Östersund";
const ADDRESS: &str = "Lasarettsvägen 1";
const POSTAL_CODE: &str = "83183";
const CITY: &str = "Östersund";
const PHONE: &str = "063-15 30 00";
const PRACTITIONER: &str = "Eva Lund";
const ROLE: &str = "Sjuksköterska";
const INSTRUCTION: &str = "Ta med dina läkemedel och mätvärdena från veckan.";

fn fixture() -> Result<serde_json::Value, String> {
    let built = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/region/fixtures/halsodeklaration.json");
    let path = if built.is_file() {
        built
    } else {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| {
                cwd.ancestors()
                    .map(|d| d.join("tests/region/fixtures/halsodeklaration.json"))
                    .find(|p| p.is_file())
            })
            .ok_or("tests/region/fixtures/halsodeklaration.json was not found")?
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Anna's answers (weight is pre-filled from her readings).
fn answers(tz: &TimeZone, now: Timestamp) -> serde_json::Value {
    let started = now
        .checked_sub(SignedDuration::from_hours(72))
        .unwrap_or(now)
        .to_zoned(tz.clone())
        .date()
        .to_string();
    serde_json::json!({
        "langd": 164,
        "tar-lakemedel": true,
        "vilka-lakemedel": MEDICINES,
        "allergi": false,
        "rokning": "nej",
        "nya-besvar": true,
        "besvar-start": started,
        "besvar-beskrivning": SYMPTOMS,
    })
}

/// The visit: ten days from now at 09:00 local time.
fn visit_start(tz: &TimeZone, now: Timestamp) -> Result<jiff::Zoned, String> {
    let day = now
        .checked_add(SignedDuration::from_hours(24 * 10))
        .map_err(|e| e.to_string())?
        .to_zoned(tz.clone())
        .date();
    day.to_datetime(Time::constant(9, 0, 0, 0))
        .to_zoned(tz.clone())
        .map_err(|e| e.to_string())
}

/// The notice as the region would send it, for the offline story.
fn local_notice(id: &str, start: Timestamp) -> Notice {
    Notice {
        id: id.to_owned(),
        version: "1".to_owned(),
        status: AppointmentStatus::Booked,
        cancel_reason: None,
        start,
        end: start.checked_add(SignedDuration::from_mins(30)).ok(),
        service: SERVICE.to_owned(),
        place: Some(Place {
            name: CLINIC.to_owned(),
            lines: vec![ADDRESS.to_owned()],
            postal_code: Some(POSTAL_CODE.to_owned()),
            city: Some(CITY.to_owned()),
            phone: Some(PHONE.to_owned()),
        }),
        video_url: None,
        practitioner: Some(Practitioner {
            name: PRACTITIONER.to_owned(),
            role: Some(ROLE.to_owned()),
        }),
        preparation: Some(INSTRUCTION.to_owned()),
        cutoff: SignedDuration::from_hours(24),
        questionnaire_id: Some(FORM_ID.to_owned()),
    }
}

/// Runs the notices step and returns its JSON summary. `link` is the region (None:
/// offline); `tick` moves the demo clock to the real time before a sync.
pub fn notices_step(
    ctx: &Ctx,
    nara: &Nara,
    link: Option<&RegionLink>,
    tz: &TimeZone,
    tick: &dyn Fn(),
    say: &dyn Fn(String),
) -> serde_json::Value {
    match run(ctx, nara, link, tz, tick, say) {
        Ok(v) => v,
        Err(why) => {
            say(render::alert(
                ctx,
                &format!(
                    "  ⚠ {}: {why}",
                    tr(
                        ctx.lang,
                        "Kallelsesteget avbröts",
                        "The notices step stopped"
                    )
                ),
            ));
            serde_json::json!({ "skipped": true, "reason": why })
        }
    }
}

fn run(
    ctx: &Ctx,
    nara: &Nara,
    link: Option<&RegionLink>,
    tz: &TimeZone,
    tick: &dyn Fn(),
    say: &dyn Fn(String),
) -> Result<serde_json::Value, String> {
    let lang = ctx.lang;
    let err = |e: anyhow::Error| e.to_string().lines().next().unwrap_or_default().to_owned();
    let patient = link
        .map(|l| l.patient.clone())
        .unwrap_or_else(|| "anna".to_owned());
    // A new appointment per run: the test region keeps what earlier runs left.
    let id = format!(
        "{patient}-demo-visit-{:x}",
        Timestamp::now().as_millisecond()
    );
    let start = visit_start(tz, Timestamp::now())?;
    let form = fixture()?;

    // The clinic books the visit.
    match link {
        Some(link) => {
            let file = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/region/fixtures/halsodeklaration.json");
            let file = file.to_string_lossy().into_owned();
            nurse(link, &["questionnaire", FORM_ID, "--file", &file])?;
            let end = start
                .checked_add(SignedDuration::from_mins(30))
                .map_err(|e| e.to_string())?;
            let (start_s, end_s) = (
                start.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
                end.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            );
            nurse(
                link,
                &[
                    "book",
                    &patient,
                    &id,
                    "--start",
                    &start_s,
                    "--end",
                    &end_s,
                    "--service",
                    SERVICE,
                    "--clinic-name",
                    CLINIC,
                    "--address",
                    ADDRESS,
                    "--postal-code",
                    POSTAL_CODE,
                    "--city",
                    CITY,
                    "--phone",
                    PHONE,
                    "--practitioner",
                    PRACTITIONER,
                    "--role",
                    ROLE,
                    "--instruction",
                    INSTRUCTION,
                    "--cutoff-hours",
                    "24",
                    "--questionnaire",
                    FORM_ID,
                ],
            )?;
            say(format!(
                "  ✓ {} (tests/region/nurse questionnaire, book)",
                tr(
                    lang,
                    "Mottagningen bokar ett återbesök med hälsodeklaration",
                    "The clinic books a follow-up visit with a health declaration"
                )
            ));
            tick();
            sync(ctx, nara)?;
            say(format!(
                "  ✓ {}",
                tr(
                    lang,
                    "Synk: kallelsen och formuläret har kommit",
                    "Sync: the notice and its form have arrived"
                )
            ));
        }
        None => {
            nara.notices()
                .store_form(FORM_ID, &form)
                .map_err(|e| e.to_string())?;
            nara.notices()
                .store_from_region(&local_notice(&id, start.timestamp()))
                .map_err(|e| e.to_string())?;
            say(format!(
                "  {}",
                tr(
                    lang,
                    "Utan region: kallelsen och formuläret läggs in lokalt, som synken skulle ha gjort.",
                    "No region: the notice and its form are stored locally, as sync would have."
                )
            ));
        }
    }
    let list: Vec<_> = nara
        .notices()
        .list()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|v| v.notice.id == id)
        .collect();
    if list.is_empty() {
        return Err(tr(
            lang,
            "kallelsen kom inte med synken",
            "the notice did not arrive with the sync",
        ));
    }
    for line in notices_table(ctx, &list).lines() {
        say(format!("  {line}"));
    }

    // Anna opens it: the receipt is queued.
    let view = nara.notices().open(&id).map_err(|e| e.to_string())?;
    for line in detail_lines(ctx, &view) {
        say(format!("  {line}"));
    }

    // The declaration, offline.
    say(String::new());
    say(format!(
        "  {}",
        tr(
            lang,
            "Anna fyller i hälsodeklarationen utan täckning (vikten är förifylld från hennes mätningar):",
            "Anna fills in the health declaration without signal (her weight is pre-filled from her readings):"
        )
    ));
    let (session, submitted) = fill_from_json(
        lang,
        nara,
        FORM_ID,
        Some(&id),
        &answers(tz, nara.now()),
        false,
    )
    .map_err(err)?;
    for line in answers_table(lang, &session).lines() {
        say(format!("  {line}"));
    }
    say(format!(
        "  ✓ {}",
        tr(
            lang,
            "Hälsodeklarationen är skickad (väntar på synk)",
            "The health declaration is submitted (waiting for sync)"
        )
    ));

    // She confirms.
    let given = nara
        .notices()
        .answer(&id, nara_core::domain::notice::Answer::Confirm)
        .map_err(|e| e.to_string())?;
    say(format!(
        "  ✓ {} [{}]",
        crate::commands::notices::answer_label(lang, &given.answer),
        crate::commands::notices::delivery_label(lang, given.delivery)
    ));

    let mut summary = serde_json::json!({
        "skipped": false,
        "notice": id,
        "declaration_submitted": submitted.is_some(),
        "answer": given.answer.code(),
    });
    let Some(link) = link else {
        say(format!(
            "  {} {}",
            tr(
                lang,
                "Väntar på uppladdning (mätningar, kvittot, svaret, deklarationen):",
                "Waiting for upload (readings, the receipt, the answer, the declaration):"
            ),
            nara.pending_uploads().map_err(|e| e.to_string())?
        ));
        return Ok(summary);
    };

    tick();
    sync(ctx, nara)?;
    let after = nara
        .notices()
        .get(&id)
        .map_err(|e| e.to_string())?
        .and_then(|v| v.local.current_answer().map(|a| a.delivery));
    if let Some(d) = after {
        say(format!(
            "  ✓ {} [{}]",
            tr(lang, "Synk: svaret", "Sync: the answer"),
            crate::commands::notices::delivery_label(lang, d)
        ));
    }
    let clinic = nurse(link, &["notice", &patient, &id])?;
    let clinic: serde_json::Value =
        serde_json::from_str(&clinic).map_err(|e| format!("nurse notice: {e}"))?;
    let count = |part: &str| clinic[part]["count"].as_u64().unwrap_or(0);
    let (receipts, responses, forms) = (
        count("receipts"),
        count("responses"),
        count("questionnaireResponses"),
    );
    say(format!(
        "  {} (tests/region/nurse notice): {} {receipts}, {} {responses}, {} {forms}",
        tr(lang, "Mottagningen ser", "The clinic sees"),
        tr(lang, "kvitton", "receipts"),
        tr(lang, "svar", "responses"),
        tr(lang, "hälsodeklarationer", "declarations"),
    ));
    if let Some(obj) = summary.as_object_mut() {
        obj.insert("receipts".into(), receipts.into());
        obj.insert("responses".into(), responses.into());
        obj.insert("questionnaire_responses".into(), forms.into());
        obj.insert(
            "participant_status".into(),
            clinic["responses"]["participantStatus"].clone(),
        );
    }
    if (receipts, responses, forms) != (1, 1, 1) {
        return Err(format!(
            "nurse notice: receipts {receipts}, responses {responses}, questionnaire responses {forms} (expected 1, 1, 1)"
        ));
    }
    Ok(summary)
}
