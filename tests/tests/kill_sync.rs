//! Story: a phone killed in the middle of a sync, over and over, on a bad network, still
//! puts every reading on the server exactly once.
//!
//! A child process (`sync_worker`) opens the store, logs in if it must, adds a few
//! readings, writes a few chat messages (some with photos, byte-identical photos in
//! several messages) in a thread the care unit opened, reads one of the unit's
//! messages (a read receipt to upload), and syncs through the fault-injecting proxy; it
//! is SIGKILLed at a random instant (seeded) and started again on the same store, many
//! times. The first start finds no login (the worker logs in itself, and may be killed
//! doing it); the second is never killed and syncs until finished, so the unit's
//! messages are on the phone for the starts after it to read; the unit writes one more
//! message before every third start. At the end a clean sync runs in this process;
//! then the server (read directly) must hold every reading and every message, photo and
//! read receipt of the store exactly once (each photo referenced by exactly its
//! message), every acknowledged reading, message and read among them, and nothing else
//! of this run.
//!
//! A kill between the region rotating the refresh token and the store saving the new
//! one leaves a refresh token the region refuses: the worker logs in again and says so;
//! those re-logins are counted and printed (the story is about readings, not tokens).
//!
//! Appointment notices too: the clinic books a few visits (two with a health
//! declaration) before the run; every start after the uninterrupted one opens the next
//! notice not answered yet, submits its declaration if it has one, and confirms,
//! cancels or asks for another time. The region must end up with one opened receipt,
//! one answer (an `AppointmentResponse`, or a `Task` for a new time) and one
//! `QuestionnaireResponse` per declared visit, each acknowledged one among them.
//!
//! `NARA_KILLS` (default 30), `NARA_KILL_ADD` (readings added per start, default 15;
//! none in every third start, which runs longer, nor in the uninterrupted start and the
//! last quarter of the starts, which drain the backlog) and `NARA_KILL_MESSAGES`
//! (messages written per start, default 4; same exceptions) scale the run;
//! `NARA_KILL_SEED` replays one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use nara_core::domain::chat::{Author, DeliveryState};
use nara_core::domain::reading::ReadingId;
use nara_core::{FileKeyProvider, Nara, ReadingFilter};
use nara_tests::SplitMix64;
use nara_tests::chat_run::{
    ExpectedChat, check_chat, local_messages, nurse, open_thread, run_thread_id,
    store_thread_from_server,
};
use nara_tests::fault_proxy::{
    FaultPlan, FaultProxy, ProxiedLogin, copies_on_server, dev_transport, identifier_value,
    redirect_uri, tagged_on_server,
};
use nara_tests::region::region;
use url::Url;

const USER: &str = "cecilia";
const PATIENT: &str = "cecilia-1";
/// Messages the unit writes in the thread before the run (the workers read them one by
/// one; the unit writes one more before every third start).
const UNIT_MESSAGES: u64 = 8;
/// The start that is never killed (the one before it finds no login).
const UNINTERRUPTED: u64 = 1;
/// Visits the clinic books before the run.
const VISITS: u64 = 6;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

fn open(dir: &Path, key: &Path) -> Nara {
    let nara =
        Nara::open(dir, Arc::new(FileKeyProvider::new(key))).expect("store opens after a kill");
    assert!(
        nara.open_report().quarantined.is_none(),
        "nothing may be moved aside: {:?}",
        nara.open_report()
    );
    nara
}

/// What the workers said, summed over all starts.
#[derive(Debug, Default)]
struct Tally {
    starts: u64,
    killed: u64,
    /// Kills while the proxy had a request of the worker in hand.
    killed_mid_request: u64,
    /// Of those, kills while only chat was left to upload (photos, messages, receipts).
    killed_mid_chat_request: u64,
    /// Kills while only chat was left to upload and read receipts were among it.
    killed_with_receipts_waiting: u64,
    /// Unit messages downloaded by the workers (`sync` lines).
    unit_received: u64,
    /// Messages acknowledged, with photos, and read receipts queued.
    composed: u64,
    composed_photos: u64,
    read: u64,
    finished_before_kill: u64,
    logins: u64,
    relogins: u64,
    syncs: u64,
    sync_errors: u64,
    login_errors: u64,
    /// Starts that reached their first `sync_now`, and the time it took them in all.
    reached_sync: u64,
    first_sync_after: Duration,
    /// The last thing a killed worker said before the kill.
    killed_after: BTreeMap<&'static str, u64>,
}

impl Tally {
    /// What a worker was doing after it said `line`; `syncing` is its last `syncing`
    /// line (what was waiting when that `sync_now` started).
    fn phase(line: &str, syncing: Option<&str>) -> &'static str {
        match line.split(' ').next().unwrap_or_default() {
            "" => "starting",
            "opened" | "login" | "relogin" => "logging in",
            "added" => "adding",
            "composed" | "read" => "writing chat",
            "syncing" | "sync" => match syncing.map(sync_waiting) {
                Some((0, 0)) => "syncing (download)",
                Some((0, _)) => "syncing chat",
                _ => "syncing readings",
            },
            "error" => "error",
            "done" => "done",
            _ => "other",
        }
    }
}

/// Readings and chat uploads waiting, from a `syncing <readings> <chat> <receipts>`
/// line.
fn sync_waiting(line: &str) -> (u64, u64) {
    let (readings, chat, _) = sync_waiting_receipts(line);
    (readings, chat)
}

/// Readings, chat uploads and read receipts waiting, from a `syncing` line.
fn sync_waiting_receipts(line: &str) -> (u64, u64, u64) {
    let mut words = line
        .split(' ')
        .skip(1)
        .map(|w| w.parse().unwrap_or(u64::MAX));
    (
        words.next().unwrap_or(u64::MAX),
        words.next().unwrap_or(u64::MAX),
        words.next().unwrap_or(u64::MAX),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_at_random_instants_loses_and_duplicates_nothing() {
    let region = region();
    let kills = env_u64("NARA_KILLS").unwrap_or(30);
    let add_per_start = env_u64("NARA_KILL_ADD").unwrap_or(15);
    let messages_per_start = env_u64("NARA_KILL_MESSAGES").unwrap_or(4);
    let seed = env_u64("NARA_KILL_SEED").unwrap_or_else(|| Timestamp::now().as_nanosecond() as u64);
    println!(
        "kill run: {kills} kills, {add_per_start} readings and {messages_per_start} messages per start, \
         seed {seed} (replay with NARA_KILL_SEED={seed})"
    );
    let mut rng = SplitMix64::new(seed);
    let tag = format!("kill-run {seed}");
    let since = Timestamp::now() - SignedDuration::from_secs(2);
    let started = Instant::now();

    let front = Url::parse(&region.fhir_url).expect("front URL");
    let proxy = FaultProxy::start(&front, FaultPlan::rough_network(), seed ^ 0x4B11)
        .await
        .expect("the proxy starts");
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");
    let key = tmp.path().join("keys").join("kek");
    // The unit opens a thread and writes in it.
    let thread_id = run_thread_id("kill", seed);
    open_thread(&region.fhir_direct_url, PATIENT, &thread_id, UNIT_MESSAGES);
    // Create the store (and its key) once, so every start finds an existing store, with
    // the thread in it as the first sync would store it (the workers write in it before
    // their first finished sync; the unit's messages come with that sync).
    {
        let nara = open(&dir, &key);
        store_thread_from_server(&nara, &region.fhir_direct_url, PATIENT, &thread_id).await;
    }

    // The clinic books visits; the first two with the health declaration.
    region.publish_declaration();
    let visit_ids: Vec<String> = (0..VISITS).map(|i| format!("kv-{seed:x}-{i}")).collect();
    let now = Timestamp::from_second(Timestamp::now().as_second()).expect("whole seconds");
    for (i, id) in visit_ids.iter().enumerate() {
        let start = now + SignedDuration::from_hours(24 * (4 + i as i64));
        let end = start + SignedDuration::from_mins(20);
        let (start, end) = (
            start.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            end.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        let mut args = vec![
            "book",
            PATIENT,
            id,
            "--start",
            &start,
            "--end",
            &end,
            "--service",
            "Blodprov",
        ];
        if i < 2 {
            args.extend(["--questionnaire", "halsodeklaration"]);
        }
        nurse(&region.fhir_direct_url, &args);
    }
    let mut acked_answers: BTreeMap<String, String> = BTreeMap::new();
    let mut acked_declarations: HashSet<String> = HashSet::new();

    let mut tally = Tally::default();
    let mut acked: HashMap<ReadingId, u64> = HashMap::new();
    let mut acked_messages: Vec<String> = Vec::new();
    // The unit messages a worker read (acknowledged): one receipt each on the server.
    let mut acked_reads: Vec<String> = Vec::new();
    let mut unit_written = UNIT_MESSAGES;
    let mut first_login_by = None;
    for start in 0..=kills {
        tally.starts += 1;
        let uninterrupted = start == UNINTERRUPTED;
        // The last quarter of the starts (the tail) write nothing new: the backlog drains
        // and the kills land while photos, messages and read receipts are uploaded.
        let tail = start > kills - kills / 4;
        // Before the tail, every third start is longer and adds no readings. The unit
        // writes a new message before it (downloaded by a finished sync, read by a later
        // start).
        let long = start % 3 == 2 || tail;
        if start % 3 == 2 {
            nurse(
                &region.fhir_direct_url,
                &[
                    "reply",
                    PATIENT,
                    &thread_id,
                    &format!("Svar {unit_written} under körningen."),
                ],
            );
            unit_written += 1;
        }
        let add = if long || uninterrupted {
            0
        } else {
            add_per_start
        };
        let messages = if uninterrupted || tail {
            0
        } else {
            messages_per_start
        };
        // The uninterrupted start has a good network for a moment: its first finished
        // sync downloads the patient's whole chat history at the region (earlier runs'
        // threads too), and that is about the first sync, not about faults.
        proxy.set_enabled(!uninterrupted);
        let mut child = Command::new(env!("CARGO_BIN_EXE_sync_worker"))
            .arg(&dir)
            .arg(&key)
            .env("NARA_WORKER_FHIR_URL", proxy.url().as_str())
            .env("NARA_WORKER_FRONT_URL", front.as_str())
            .env("NARA_WORKER_USER", USER)
            .env("NARA_WORKER_ADD", add.to_string())
            .env("NARA_WORKER_FIRST", (start * 1_000_000).to_string())
            .env("NARA_WORKER_TAG", &tag)
            .env("NARA_WORKER_SEED", rng.next_u64().to_string())
            .env("NARA_WORKER_THREAD", &thread_id)
            .env("NARA_WORKER_MESSAGES", messages.to_string())
            .env("NARA_WORKER_PHOTO_SEED", seed.to_string())
            .env("NARA_WORKER_NOTICES", visit_ids.join(","))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("worker starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let spawned = Instant::now();
        let (tx, rx) = mpsc::channel::<(Duration, String)>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send((spawned.elapsed(), line)).is_err() {
                    break;
                }
            }
        });
        // A random instant: while starting, logging in, adding, syncing (the
        // uninterrupted start: 2 minutes to finish).
        let window = if uninterrupted {
            120_000
        } else if long {
            4000
        } else {
            1200
        };
        // The uninterrupted start gets the whole window; the others die at a random
        // instant inside theirs.
        let wait = if uninterrupted {
            window
        } else {
            rng.below_or_eq(window)
        };
        let until = Instant::now() + Duration::from_millis(wait);
        let mut exited = None;
        let mut mid_request = false;
        while Instant::now() < until {
            if let Some(status) = child.try_wait().expect("try_wait") {
                exited = Some(status);
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            !uninterrupted || exited.is_some(),
            "the uninterrupted worker did not finish in 2 minutes"
        );
        match exited {
            Some(status) => {
                assert!(status.success(), "the worker failed: {status}");
                tally.finished_before_kill += 1;
            }
            None => {
                if proxy.in_flight() > 0 {
                    tally.killed_mid_request += 1;
                    mid_request = true;
                }
                child.kill().expect("SIGKILL");
                child.wait().expect("reaped");
                tally.killed += 1;
            }
        }
        reader.join().expect("reader thread");
        let timed: Vec<(Duration, String)> = rx.try_iter().collect();
        if let Some((at, _)) = timed.iter().find(|(_, l)| l.starts_with("syncing")) {
            tally.first_sync_after += *at;
            tally.reached_sync += 1;
        }
        let lines: Vec<String> = timed.into_iter().map(|(_, l)| l).collect();
        if exited.is_none() {
            let last = lines.last().map_or("", String::as_str);
            let syncing = lines
                .iter()
                .rev()
                .find(|l| l.starts_with("syncing"))
                .map(String::as_str);
            let phase = Tally::phase(last, syncing);
            *tally.killed_after.entry(phase).or_default() += 1;
            if mid_request && phase == "syncing chat" {
                tally.killed_mid_chat_request += 1;
            }
            if phase == "syncing chat" && syncing.is_some_and(|l| sync_waiting_receipts(l).2 > 0) {
                tally.killed_with_receipts_waiting += 1;
            }
        }
        for line in &lines {
            let mut words = line.split(' ');
            match words.next().unwrap_or_default() {
                "login" => {
                    tally.logins += 1;
                    first_login_by.get_or_insert(start);
                }
                "relogin" => tally.relogins += 1,
                "sync" => {
                    tally.syncs += 1;
                    tally.unit_received += words.nth(3).and_then(|w| w.parse().ok()).unwrap_or(0);
                }
                "error" if line.starts_with("error login:") => tally.login_errors += 1,
                "error" => tally.sync_errors += 1,
                "added" => {
                    let id: ReadingId = words
                        .next()
                        .and_then(ReadingId::parse)
                        .unwrap_or_else(|| panic!("bad line {line:?}"));
                    let n: u64 = words
                        .next()
                        .and_then(|w| w.parse().ok())
                        .unwrap_or_else(|| panic!("bad line {line:?}"));
                    acked.insert(id, n);
                }
                "composed" => {
                    let id = words
                        .next()
                        .unwrap_or_else(|| panic!("bad line {line:?}"))
                        .to_owned();
                    let photos: u64 = words
                        .nth(1)
                        .and_then(|w| w.parse().ok())
                        .unwrap_or_else(|| panic!("bad line {line:?}"));
                    tally.composed += 1;
                    tally.composed_photos += photos;
                    acked_messages.push(id);
                }
                "answered" => {
                    let id = words.next().unwrap_or_else(|| panic!("bad line {line:?}"));
                    let kind = words.nth(1).unwrap_or_else(|| panic!("bad line {line:?}"));
                    acked_answers.insert(id.to_owned(), kind.to_owned());
                }
                "declared" => {
                    let id = words.next().unwrap_or_else(|| panic!("bad line {line:?}"));
                    acked_declarations.insert(id.to_owned());
                }
                "read" => {
                    tally.read += 1;
                    let id = words
                        .nth(1)
                        .unwrap_or_else(|| panic!("bad line {line:?}"))
                        .to_owned();
                    acked_reads.push(id);
                }
                _ => {}
            }
        }
        if uninterrupted {
            println!(
                "start {start}: uninterrupted, {} syncs, {:.1} s",
                lines.iter().filter(|l| l.starts_with("sync ")).count(),
                spawned.elapsed().as_secs_f64()
            );
            // It finished a sync: the unit's messages are on the phone, and it is
            // logged in (the first start's login, or its own).
            assert!(
                lines.iter().any(|l| l == "done"),
                "the uninterrupted worker finished a sync: {lines:?}"
            );
            let nara = open(&dir, &key);
            let status = nara.region().status().expect("status");
            assert!(status.logged_in && !status.login_required, "{status:?}");
            let on_phone = local_messages(&nara, &thread_id)
                .into_iter()
                .filter(|m| m.author == Author::CareUnit)
                .count() as u64;
            assert_eq!(
                on_phone, unit_written,
                "the unit's messages are on the phone"
            );
        }
    }

    // The phone comes back on a good network: one clean sync in this process.
    proxy.set_enabled(false);
    let nara = open(&dir, &key);
    let receipts_left = nara.chat().pending().expect("chat counts").receipts;
    nara.region().set_transport(dev_transport());
    nara.region().set_batch_size(100);
    let mut final_login = false;
    let status = nara.region().status().expect("status");
    if !status.logged_in || status.login_required {
        let browser = ProxiedLogin::new(USER, proxy.url(), front.clone());
        nara.region()
            .login(&proxy.url(), "nara-app", &redirect_uri(), &browser)
            .await
            .expect("logs in");
        final_login = true;
    }
    let report = nara
        .region()
        .sync_now(Duration::from_secs(120), |_| {})
        .await
        .expect("the clean sync runs");
    assert!(report.finished, "{report:?}");
    let counts = proxy.counts();
    println!(
        "{} starts: {} killed ({} with a request in flight, {} of them while only chat was left), {} finished first; {} logins, {} re-logins after a refused \
         refresh token{}; {} syncs, {} sync errors, {} failed login attempts\n\
         killed while: {:?}; first sync_now {:.0} ms after the start (mean)\nfinal clean sync: {report:?}\n{counts}\nin {:.1} s",
        tally.starts,
        tally.killed,
        tally.killed_mid_request,
        tally.killed_mid_chat_request,
        tally.finished_before_kill,
        tally.logins,
        tally.relogins,
        if final_login {
            ", and one in the final sync"
        } else {
            ""
        },
        tally.syncs,
        tally.sync_errors,
        tally.login_errors,
        tally.killed_after,
        tally.first_sync_after.as_secs_f64() * 1000.0 / tally.reached_sync.max(1) as f64,
        started.elapsed().as_secs_f64(),
    );
    println!(
        "chat: {} messages acknowledged ({} photos); {} reads acknowledged, {} receipts left \
         for the clean sync; {} kills while receipts waited in the chat upload; {} unit \
         messages downloaded by the workers; first login by start {first_login_by:?}",
        tally.composed,
        tally.composed_photos,
        tally.read,
        receipts_left,
        tally.killed_with_receipts_waiting,
        tally.unit_received,
    );
    assert!(
        tally.killed > kills / 2,
        "most starts must end in a kill: {tally:?}"
    );

    // The store: every acknowledged reading is there, nothing waits, nothing failed.
    let local: Vec<ReadingId> = nara
        .readings()
        .list(&ReadingFilter::default())
        .expect("lists")
        .into_iter()
        .map(|r| r.id)
        .collect();
    let local_set: HashSet<ReadingId> = local.iter().copied().collect();
    for (id, n) in &acked {
        assert!(
            local_set.contains(id),
            "acknowledged reading {n} ({id}) is lost locally"
        );
    }
    assert_eq!(nara.pending_uploads().expect("counts"), 0);
    let status = nara.region().status().expect("status");
    assert!(status.failed.is_empty(), "failed: {:?}", status.failed);

    // The server: every reading of the store exactly once, and nothing else of this run.
    let copies = copies_on_server(&region.fhir_direct_url, &local).await;
    let lost: Vec<_> = local.iter().filter(|id| copies[id] == 0).collect();
    let duplicated: Vec<_> = local
        .iter()
        .filter(|id| copies[id] > 1)
        .map(|id| (id, copies[id]))
        .collect();
    println!(
        "on the server: {} readings ({} acknowledged), lost {}, duplicated {}",
        local.len(),
        acked.len(),
        lost.len(),
        duplicated.len()
    );
    assert!(lost.is_empty(), "lost on the server: {lost:?}");
    assert!(
        duplicated.is_empty(),
        "duplicated on the server: {duplicated:?}"
    );
    let tagged = tagged_on_server(&region.fhir_direct_url, PATIENT, since, &tag).await;
    let expected: HashSet<String> = local.iter().map(identifier_value).collect();
    let unexpected: Vec<_> = tagged.iter().filter(|v| !expected.contains(*v)).collect();
    assert!(unexpected.is_empty(), "not ours: {unexpected:?}");
    assert_eq!(tagged.len(), local.len(), "one Observation per reading");

    // Chat: every acknowledged message is in the store and at least "sent"; every
    // message, photo and receipt of the store is on the server exactly once.
    let expected = ExpectedChat::from_store(&nara, &thread_id);
    let local_ids: HashSet<&str> = expected.messages.iter().map(|m| m.id.as_str()).collect();
    for id in &acked_messages {
        assert!(
            local_ids.contains(id.as_str()),
            "acknowledged message {id} is lost locally"
        );
    }
    let queued: Vec<_> = local_messages(&nara, &thread_id)
        .into_iter()
        .filter(|m| m.author == Author::Patient)
        .filter(|m| m.delivery.is_none_or(|d| d < DeliveryState::Sent))
        .map(|m| m.id)
        .collect();
    assert!(queued.is_empty(), "not 'sent' on the phone: {queued:?}");
    assert_eq!(
        expected.unit_messages as u64, unit_written,
        "the unit's messages arrived"
    );
    // Every acknowledged read is in the store (its receipt is checked below), and the
    // workers read and uploaded receipts under the kills.
    let read: HashSet<&str> = expected.read.iter().map(String::as_str).collect();
    for id in &acked_reads {
        assert!(
            read.contains(id.as_str()),
            "acknowledged read of {id} is lost"
        );
    }
    assert!(
        !acked_reads.is_empty(),
        "the workers read unit messages: {tally:?}"
    );
    let receipts_by_workers = expected.read.len() as u64 - receipts_left;
    println!(
        "read receipts: {} in the store, {receipts_by_workers} uploaded by the killed workers",
        expected.read.len()
    );
    assert!(
        receipts_by_workers > 0,
        "no read receipt was uploaded before the clean sync: {tally:?}"
    );
    let check = check_chat(
        &region.fhir_direct_url,
        PATIENT,
        &thread_id,
        &tag,
        since,
        &expected,
    )
    .await;
    println!(
        "{check} ({} messages acknowledged, {} composed before a kill without an answer)",
        acked_messages.len(),
        expected.messages.len() - acked_messages.len()
    );
    assert!(check.ok(), "{check:#?}");
    assert_eq!(
        check.binaries_of_run,
        expected.photo_bytes.len(),
        "one Binary per photo"
    );

    // Notices: what the phone holds is on the server exactly once, every acknowledged
    // answer and declaration among it, and nothing for a visit not answered.
    let notices = nara.notices();
    let mut answered = 0;
    for id in &visit_ids {
        let view = notices.get(id).expect("reads").expect("the visit arrived");
        let seen: serde_json::Value =
            serde_json::from_str(&nurse(&region.fhir_direct_url, &["notice", PATIENT, id]))
                .expect("nurse notice prints JSON");
        let opened = u64::from(view.local.opened_at.is_some());
        assert_eq!(seen["receipts"]["count"], opened, "{id}: {seen}");
        let given: Vec<_> = view.local.answers.iter().map(|a| a.answer.code()).collect();
        assert!(
            given.len() <= 1,
            "{id}: one answer per start at most: {given:?}"
        );
        let (responses, tasks) = match given.first().copied() {
            Some("reschedule") => (0, 1),
            Some(_) => (1, 0),
            None => (0, 0),
        };
        assert_eq!(seen["responses"]["count"], responses, "{id}: {seen}");
        assert_eq!(seen["tasks"]["count"], tasks, "{id}: {seen}");
        if let Some(kind) = acked_answers.get(id) {
            assert_eq!(
                given.first().copied(),
                Some(kind.as_str()),
                "{id}: acknowledged answer lost"
            );
        }
        let declared = view.local.declaration_submitted_at.is_some();
        assert!(
            !acked_declarations.contains(id) || declared,
            "{id}: acknowledged declaration lost"
        );
        assert_eq!(
            seen["questionnaireResponses"]["count"],
            u64::from(declared),
            "{id}: {seen}"
        );
        answered += given.len();
    }
    println!(
        "notices: {answered} of {VISITS} visits answered ({} acknowledged), {} declarations; each once on the server",
        acked_answers.len(),
        acked_declarations.len()
    );
    assert!(
        !acked_answers.is_empty(),
        "the workers answered notices under the kills"
    );
}
