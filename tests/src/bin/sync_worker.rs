//! Kill-test helper: a phone that syncs. Opens a Nära store, logs in to the test region
//! if it has no usable login, adds readings and writes chat messages (some with photos)
//! if asked, reads the oldest unread message of the care unit, then runs `sync_now` in
//! a loop until everything is uploaded. `tests/kill_sync.rs` SIGKILLs it at random instants and
//! starts it again on the same store.
//!
//! Usage: `sync_worker <data dir> <key file>` (the key file outside the data dir, for
//! the core's `FileKeyProvider`). Settings from the environment:
//!
//! | Variable | Meaning |
//! |---|---|
//! | `NARA_WORKER_FHIR_URL` | the FHIR base the core is given (the fault proxy) |
//! | `NARA_WORKER_FRONT_URL` | the region's own FHIR URL (the login's `aud`) |
//! | `NARA_WORKER_USER` | the test login's user |
//! | `NARA_WORKER_ADD` | readings to add before syncing (default 0) |
//! | `NARA_WORKER_FIRST` | number of the first reading added (default 0) |
//! | `NARA_WORKER_TAG` | the run's tag, at the start of every reading's note |
//! | `NARA_WORKER_SEED` | seed for the readings, messages, batch sizes and budgets |
//! | `NARA_WORKER_THREAD` | the chat thread to write in (no chat without it) |
//! | `NARA_WORKER_MESSAGES` | messages to write before syncing (default 0) |
//! | `NARA_WORKER_PHOTO_SEED` | seed of the run's photo pool (the same in every start) |
//! | `NARA_WORKER_NOTICES` | appointment ids (comma-separated): each start answers the first one on the phone not answered yet |
//!
//! It reports on stdout, one flushed line per event: `opened` (the store is open),
//! `login` (there was no login),
//! `relogin` (the login had expired: the region refused the refresh token), `added <id>
//! <n>` (after `add` returned `Ok`), `composed <message id> <n> <photos>` (after
//! `compose` returned `Ok`), `read <marked> <message id>` (after `mark_read` of the
//! unit's message returned `Ok`), `declared <notice id>` (the health declaration of a
//! notice was submitted), `answered <notice id> <answer id> <confirm|cancel|reschedule>`
//! (after `answer` returned `Ok`), `syncing <readings waiting> <chat uploads waiting>
//! <read receipts waiting>` (a `sync_now` starts), `sync <created> <already there>
//! <remaining> <unit messages received>` (it returned), `error <text>`, and `done` when
//! a sync finished (nothing left to upload, the download done; then it exits 0).

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nara_core::domain::chat::Author;
use nara_core::sync::engine::SyncError;
use nara_core::{FileKeyProvider, Nara};
use nara_tests::SplitMix64;
use nara_tests::chat_run::{local_messages, photo_pool, run_message};
use nara_tests::fault_proxy::{ProxiedLogin, dev_transport, redirect_uri, run_reading};
use url::Url;

fn say(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

fn env(name: &str) -> Result<String, Box<dyn Error>> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

fn env_u64(name: &str, default: u64) -> Result<u64, Box<dyn Error>> {
    match std::env::var(name) {
        Ok(s) => Ok(s.parse().map_err(|_| format!("{name} is not a number"))?),
        Err(_) => Ok(default),
    }
}

/// Logs in, retrying while the faulty network breaks the discovery or the login.
async fn login(nara: &Nara, fhir: &Url, browser: &ProxiedLogin) -> Result<(), Box<dyn Error>> {
    let mut last = None;
    for _ in 0..100 {
        match nara
            .region()
            .login(fhir, "nara-app", &redirect_uri(), browser)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) => {
                say(&format!("error login: {e}"))?;
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    Err(format!("no login after 100 attempts: {last:?}").into())
}

async fn run() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args_os().skip(1);
    let dir = PathBuf::from(args.next().ok_or("missing data dir")?);
    let key = PathBuf::from(args.next().ok_or("missing key file")?);
    let fhir = Url::parse(&env("NARA_WORKER_FHIR_URL")?)?;
    let front = Url::parse(&env("NARA_WORKER_FRONT_URL")?)?;
    let user = env("NARA_WORKER_USER")?;
    let add = env_u64("NARA_WORKER_ADD", 0)?;
    let first = env_u64("NARA_WORKER_FIRST", 0)?;
    let tag = env("NARA_WORKER_TAG")?;
    let mut rng = SplitMix64::new(env_u64("NARA_WORKER_SEED", first)?);
    let thread = std::env::var("NARA_WORKER_THREAD").ok();
    let messages = env_u64("NARA_WORKER_MESSAGES", 0)?;
    let photo_seed = env_u64("NARA_WORKER_PHOTO_SEED", 0)?;

    let nara = Nara::open(&dir, Arc::new(FileKeyProvider::new(key)))?;
    say("opened")?;
    nara.region().set_transport(dev_transport());
    let browser = ProxiedLogin::new(&user, fhir.clone(), front);
    let status = nara.region().status()?;
    if !status.logged_in {
        login(&nara, &fhir, &browser).await?;
        say("login")?;
    } else if status.login_required {
        login(&nara, &fhir, &browser).await?;
        say("relogin")?;
    }
    for n in first..first + add {
        let saved = nara.readings().add(run_reading(&mut rng, &tag, n))?;
        say(&format!("added {} {n}", saved.id))?;
    }
    if let Some(thread) = &thread {
        let pool = photo_pool(&tag, photo_seed, 5);
        let unit: Vec<_> = local_messages(&nara, thread)
            .into_iter()
            .filter(|m| m.author == Author::CareUnit)
            .collect();
        let unit_ids: Vec<String> = unit.iter().map(|m| m.id.clone()).collect();
        for n in first..first + messages {
            let message = run_message(&mut rng, &tag, thread, n, &pool, &unit_ids);
            let saved = nara.chat().compose(message)?;
            say(&format!("composed {} {n} {}", saved.id, saved.photos.len()))?;
        }
        // The patient opens the thread and reads the oldest message of the unit's not
        // read yet (the unit's messages arrive with the first finished sync).
        if let Some(oldest) = unit.iter().find(|m| m.read_at.is_none()) {
            let marked = nara.chat().mark_read(thread, &oldest.id)?;
            say(&format!("read {marked} {}", oldest.id))?;
        }
    }
    if let Ok(ids) = std::env::var("NARA_WORKER_NOTICES") {
        answer_next_notice(&nara, ids.split(',').filter(|s| !s.is_empty()))?;
    }
    let waiting = |nara: &Nara| -> Result<(u64, u64, u64), Box<dyn Error>> {
        let all = nara.pending_uploads()?;
        let chat = nara.chat().pending()?;
        let receipts = chat.receipts;
        let chat = chat.messages + chat.photos + chat.receipts;
        Ok((all.saturating_sub(chat), chat, receipts))
    };
    for _ in 0..100_000 {
        nara.region()
            .set_batch_size(1 + rng.below_or_eq(4) as usize);
        let budget = Duration::from_millis(200 + rng.below_or_eq(700));
        let (readings, chat, receipts) = waiting(&nara)?;
        say(&format!("syncing {readings} {chat} {receipts}"))?;
        match nara.region().sync_now(budget, |_| {}).await {
            Ok(report) => {
                say(&format!(
                    "sync {} {} {} {}",
                    report.created,
                    report.already_there,
                    report.remaining,
                    report.messages_received
                ))?;
                if report.finished {
                    say("done")?;
                    return Ok(());
                }
            }
            Err(SyncError::LoginRequired) => {
                // A kill between the region rotating the refresh token and the store
                // saving the new one leaves the old one, which the region now refuses.
                login(&nara, &fhir, &browser).await?;
                say("relogin")?;
            }
            Err(SyncError::NotLoggedIn) => {
                login(&nara, &fhir, &browser).await?;
                say("login")?;
            }
            Err(e) => {
                say(&format!("error sync: {e}"))?;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    Err("not done after 100,000 syncs".into())
}

/// Answers the first of `ids` that is on the phone and not answered yet: opens it,
/// submits its health declaration if it has one, then confirms, cancels or asks for
/// another time (by its place in the list).
fn answer_next_notice<'a>(
    nara: &Nara,
    ids: impl Iterator<Item = &'a str>,
) -> Result<(), Box<dyn Error>> {
    use nara_core::domain::notice::Answer;
    use nara_core::domain::questionnaire::{AnswerValue, Coding};
    let notices = nara.notices();
    for (i, id) in ids.enumerate() {
        let Some(view) = notices.get(id)? else {
            continue;
        };
        if !view.local.answers.is_empty() {
            continue;
        }
        notices.open(id)?;
        if let Some(q) = &view.notice.questionnaire_id {
            if notices.has_form(q)? && !notices.form(q, Some(id))?.submitted {
                let answers = notices
                    .form(q, Some(id))?
                    .answers
                    .with("langd", AnswerValue::Integer(170))
                    .with("vikt", AnswerValue::Decimal(70.0))
                    .with("tar-lakemedel", AnswerValue::Boolean(false))
                    .with("allergi", AnswerValue::Boolean(false))
                    .with(
                        "rokning",
                        AnswerValue::Coding(Coding::new(
                            "https://nara.se/fhir/CodeSystem/halsodeklaration-svar",
                            "nej",
                            "",
                        )),
                    )
                    .with("nya-besvar", AnswerValue::Boolean(false));
                notices.save_draft(q, Some(id), answers)?;
                notices.submit(q, Some(id))?;
                say(&format!("declared {id}"))?;
            }
        }
        let answer = match i % 3 {
            0 => Answer::Confirm,
            1 => Answer::Cancel {
                reason: String::new(),
            },
            _ => Answer::Reschedule {
                wishes: "Någon eftermiddag".into(),
                windows: vec![],
            },
        };
        let given = notices.answer(id, answer)?;
        say(&format!(
            "answered {id} {} {}",
            given.id,
            given.answer.code()
        ))?;
        return Ok(());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run())
}
