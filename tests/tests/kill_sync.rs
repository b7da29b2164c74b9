//! Story: a phone killed in the middle of a sync, over and over, on a bad network, still
//! puts every reading on the server exactly once.
//!
//! A child process (`sync_worker`) opens the store, logs in if it must, adds a few
//! readings and syncs through the fault-injecting proxy; it is SIGKILLed at a random
//! instant (seeded) and started again on the same store, many times. At the end a clean
//! sync runs in this process; then the server (read directly) must hold every reading
//! of the store exactly once, every acknowledged reading among them, and nothing else
//! of this run.
//!
//! A kill between the region rotating the refresh token and the store saving the new
//! one leaves a refresh token the region refuses: the worker logs in again and says so;
//! those re-logins are counted and printed (the story is about readings, not tokens).
//!
//! `NARA_KILLS` (default 30) and `NARA_KILL_ADD` (readings added per start, default 15)
//! scale the run; `NARA_KILL_SEED` replays one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use nara_core::domain::reading::ReadingId;
use nara_core::{FileKeyProvider, Nara, ReadingFilter};
use nara_tests::SplitMix64;
use nara_tests::fault_proxy::{
    FaultPlan, FaultProxy, ProxiedLogin, copies_on_server, dev_transport, identifier_value,
    redirect_uri, tagged_on_server,
};
use nara_tests::region::region;
use url::Url;

const USER: &str = "cecilia";
const PATIENT: &str = "cecilia-1";

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
    fn phase(line: &str) -> &'static str {
        match line.split(' ').next().unwrap_or_default() {
            "" => "starting",
            "opened" | "login" | "relogin" => "logging in",
            "added" => "adding",
            "syncing" | "sync" => "syncing",
            "error" => "error",
            "done" => "done",
            _ => "other",
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_at_random_instants_loses_and_duplicates_nothing() {
    let region = region();
    let kills = env_u64("NARA_KILLS").unwrap_or(30);
    let add_per_start = env_u64("NARA_KILL_ADD").unwrap_or(15);
    let seed = env_u64("NARA_KILL_SEED").unwrap_or_else(|| Timestamp::now().as_nanosecond() as u64);
    println!(
        "kill run: {kills} kills, {add_per_start} readings per start, seed {seed} (replay with NARA_KILL_SEED={seed})"
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
    // Create the store (and its key) once, so every start finds an existing store.
    drop(open(&dir, &key));

    let mut tally = Tally::default();
    let mut acked: HashMap<ReadingId, u64> = HashMap::new();
    for start in 0..kills {
        tally.starts += 1;
        let mut child = Command::new(env!("CARGO_BIN_EXE_sync_worker"))
            .arg(&dir)
            .arg(&key)
            .env("NARA_WORKER_FHIR_URL", proxy.url().as_str())
            .env("NARA_WORKER_FRONT_URL", front.as_str())
            .env("NARA_WORKER_USER", USER)
            .env("NARA_WORKER_ADD", add_per_start.to_string())
            .env("NARA_WORKER_FIRST", (start * 1_000_000).to_string())
            .env("NARA_WORKER_TAG", &tag)
            .env("NARA_WORKER_SEED", rng.next_u64().to_string())
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
        // A random instant: while starting, logging in, adding, syncing.
        let until = Instant::now() + Duration::from_millis(rng.below_or_eq(1200));
        let mut exited = None;
        while Instant::now() < until {
            if let Some(status) = child.try_wait().expect("try_wait") {
                exited = Some(status);
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        match exited {
            Some(status) => {
                assert!(status.success(), "the worker failed: {status}");
                tally.finished_before_kill += 1;
            }
            None => {
                if proxy.in_flight() > 0 {
                    tally.killed_mid_request += 1;
                }
                child.kill().expect("SIGKILL");
                child.wait().expect("reaped");
                tally.killed += 1;
            }
        }
        reader.join().expect("reader thread");
        let timed: Vec<(Duration, String)> = rx.try_iter().collect();
        if let Some((at, _)) = timed.iter().find(|(_, l)| l == "syncing") {
            tally.first_sync_after += *at;
            tally.reached_sync += 1;
        }
        let lines: Vec<String> = timed.into_iter().map(|(_, l)| l).collect();
        if exited.is_none() {
            let last = lines.last().map_or("", String::as_str);
            *tally.killed_after.entry(Tally::phase(last)).or_default() += 1;
        }
        for line in &lines {
            let mut words = line.split(' ');
            match words.next().unwrap_or_default() {
                "login" => tally.logins += 1,
                "relogin" => tally.relogins += 1,
                "sync" => tally.syncs += 1,
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
                _ => {}
            }
        }
    }

    // The phone comes back on a good network: one clean sync in this process.
    proxy.set_enabled(false);
    let nara = open(&dir, &key);
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
        "{} starts: {} killed ({} with a request in flight), {} finished first; {} logins, {} re-logins after a refused \
         refresh token{}; {} syncs, {} sync errors, {} failed login attempts\n\
         killed while: {:?}; first sync_now {:.0} ms after the start (mean)\nfinal clean sync: {report:?}\n{counts}\nin {:.1} s",
        tally.starts,
        tally.killed,
        tally.killed_mid_request,
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
}
