//! Upload benchmark: 10,000 readings through the core to the test region, beside the
//! time the FHIR server itself needs to ingest the same Observations.
//!
//! ```sh
//! cargo bench -p nara-tests --bench upload
//! ```
//!
//! A timed harness (`harness = false`; run by `cargo bench`), not criterion's sampler:
//! one upload takes seconds, and the server's database grows with every upload, so the
//! variants are interleaved round by round (the order alternates) and compared by their
//! medians within one run. Each round, with fresh readings (new client ids) every time:
//!
//! - **core**: a fresh store, logged in (not timed), the readings imported (not timed),
//!   then `sync_now` timed: transaction Bundles of the default batch size through the
//!   token-checking front, plus the care-plan download it always does.
//! - **front**: the same kind of pre-built Bundles (the core's own mapping and batch
//!   size) POSTed one after another with a valid token to the front, as the core does —
//!   what the front costs, without the core.
//! - **direct**: the same pre-built Bundles POSTed straight to the FHIR server (no
//!   token, no front) — what the server itself needs.
//!
//! After the rounds, once: the same number of Observations in one pre-built transaction
//! Bundle POSTed straight to the server.
//!
//! The region is its own (`target/region-bench`, started by `tests/region/up`), so the
//! test region's database does not grow. `NARA_BENCH_ROUNDS` (default 5) and
//! `NARA_BENCH_READINGS` (default 10,000) change the size.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use nara_core::domain::reading::Reading;
use nara_core::sync::engine::{BATCH_SIZE, SyncReport};
use nara_core::sync::fhir::{self, PatientId};
use nara_core::sync::test_login::TestLoginBrowser;
use nara_core::sync::transport::{self, TransportConfig};
use nara_core::{Nara, PassphraseKeyProvider, ReadingFilter};
use nara_tests::region::Region;
use serde_json::Value;
use url::Url;

fn dev() -> TransportConfig {
    TransportConfig {
        allow_http_loopback: true,
        ..TransportConfig::default()
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Starts (or reuses) the benchmark's own region.
fn bench_region() -> Region {
    let dir = nara_tests::region::workspace_root().join("target/region-bench");
    nara_tests::region::start(Some(&dir), &[])
}

fn open(dir: &Path) -> Nara {
    let nara = Nara::open(dir, Arc::new(PassphraseKeyProvider::new("bench"))).expect("opens");
    nara.region().set_transport(dev());
    nara
}

async fn logged_in(dir: &Path, region: &Region) -> Nara {
    let nara = open(dir);
    let browser = TestLoginBrowser::new(region.user.clone(), dev());
    nara.region()
        .login(
            &Url::parse(&region.fhir_url).expect("url"),
            "nara-app",
            &Url::parse("http://127.0.0.1/callback").expect("url"),
            &browser,
        )
        .await
        .expect("logs in");
    nara
}

/// `n` fresh blood-pressure readings (new client ids), one a minute up to now.
fn import(nara: &Nara, n: usize) -> Vec<Reading> {
    let start = Timestamp::now() - SignedDuration::from_mins(n as i64 + 1);
    let batch = (0..n as u64)
        .map(|i| nara_tests::marker_reading(i, start + SignedDuration::from_mins(i as i64)))
        .collect();
    nara.readings().import(batch, |_, _| {}).expect("imports");
    let readings = nara
        .readings()
        .list(&ReadingFilter::default())
        .expect("lists");
    assert_eq!(readings.len(), n);
    readings
}

/// The core's own transaction Bundles for `readings`, `per_bundle` entries each.
fn bundles(readings: &[Reading], patient: &str, per_bundle: usize) -> Vec<Vec<u8>> {
    let patient = PatientId::new(patient).expect("patient id");
    readings
        .chunks(per_bundle)
        .map(|chunk| {
            let entries = chunk
                .iter()
                .map(|r| fhir::reading_entry(r, &patient).expect("maps"))
                .collect();
            fhir::Bundle::transaction(entries)
                .to_json()
                .expect("serializes")
        })
        .collect()
}

/// POSTs each Bundle in turn; the elapsed time and how many entries were created.
async fn post_all(url: &str, token: Option<&str>, bodies: &[Vec<u8>]) -> (Duration, usize) {
    let http = transport::client(&dev(), Duration::from_secs(600)).expect("client");
    let mut answers = Vec::with_capacity(bodies.len());
    let started = Instant::now();
    for body in bodies {
        let mut request = http
            .post(url)
            .header("Content-Type", "application/fhir+json")
            .header("Accept", "application/fhir+json")
            .body(body.clone());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("a body");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        answers.push(bytes);
    }
    let elapsed = started.elapsed();
    let created = answers
        .iter()
        .map(|a| {
            let v: Value = serde_json::from_slice(a).expect("a Bundle");
            v["entry"]
                .as_array()
                .expect("entries")
                .iter()
                .filter(|e| {
                    e["response"]["status"]
                        .as_str()
                        .is_some_and(|s| s.starts_with("201"))
                })
                .count()
        })
        .sum();
    (elapsed, created)
}

/// POSTs one Bundle; the time, or why the server did not store every entry.
async fn post_one(url: &str, body: &[u8]) -> Result<Duration, String> {
    let http = transport::client(&dev(), Duration::from_secs(600)).expect("client");
    let started = Instant::now();
    let response = http
        .post(url)
        .header("Content-Type", "application/fhir+json")
        .header("Accept", "application/fhir+json")
        .body(body.to_vec())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    let time = started.elapsed();
    if status != 200 {
        return Err(format!("HTTP {status}"));
    }
    let answered: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let sent: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let count = |v: &Value| v["entry"].as_array().map_or(0, Vec::len);
    if count(&answered) != count(&sent) {
        return Err(format!(
            "{} answers for {} entries",
            count(&answered),
            count(&sent)
        ));
    }
    Ok(time)
}

struct CoreRun {
    time: Duration,
    report: SyncReport,
}

async fn core_round(region: &Region, n: usize) -> CoreRun {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = logged_in(dir.path(), region).await;
    import(&nara, n);
    let started = Instant::now();
    let report = nara
        .region()
        .sync_now(Duration::from_secs(1800), |_| {})
        .await
        .expect("syncs");
    let time = started.elapsed();
    assert!(report.finished, "{report:?}");
    assert_eq!(report.created, n as u64, "{report:?}");
    CoreRun { time, report }
}

/// Fresh readings as pre-built Bundles: (bodies, their total bytes).
fn prebuilt(region: &Region, n: usize, per_bundle: usize) -> (Vec<Vec<u8>>, usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let scratch = open(dir.path());
    let readings = import(&scratch, n);
    let bodies = bundles(&readings, &region.patient, per_bundle);
    let bytes = bodies.iter().map(Vec::len).sum();
    (bodies, bytes)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is ignored.
    let rounds = env_number("NARA_BENCH_ROUNDS", 5).max(1);
    let n = env_number("NARA_BENCH_READINGS", 10_000).max(1);
    let region = bench_region();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // A logged-in store only for a token to the front.
        let token_dir = tempfile::tempdir().expect("tempdir");
        let token_holder = logged_in(token_dir.path(), &region).await;
        let bundle_url = region.fhir_url.clone();

        let (mut core, mut front, mut direct) = (Vec::new(), Vec::new(), Vec::new());
        let mut direct_bytes = 0;
        let mut last: Option<SyncReport> = None;
        for round in 0..rounds {
            for step in 0..3 {
                // Alternate the order: even rounds direct → front → core, odd reversed.
                let which = if round % 2 == 0 { step } else { 2 - step };
                match which {
                    0 => {
                        let (bodies, bytes) = prebuilt(&region, n, BATCH_SIZE);
                        let (time, created) =
                            post_all(&region.fhir_direct_url, None, &bodies).await;
                        assert_eq!(created, n);
                        direct_bytes = bytes;
                        println!("round {round}: direct {}", secs(time));
                        direct.push(time);
                    }
                    1 => {
                        let (bodies, _) = prebuilt(&region, n, BATCH_SIZE);
                        let token = token_holder.region().access_token().await.expect("token");
                        let (time, created) = post_all(&bundle_url, Some(&token), &bodies).await;
                        assert_eq!(created, n);
                        println!("round {round}: front {}", secs(time));
                        front.push(time);
                    }
                    _ => {
                        let run = core_round(&region, n).await;
                        println!(
                            "round {round}: core {} ({} requests, {} bytes)",
                            secs(run.time),
                            run.report.requests,
                            run.report.bytes_sent
                        );
                        core.push(run.time);
                        last = Some(run.report);
                    }
                }
            }
        }

        // Once: everything in one pre-built Bundle, straight to the server.
        let (one, _) = prebuilt(&region, n, n);
        let one_bundle = post_one(&region.fhir_direct_url, &one[0]).await;

        let report = last.expect("at least one core round");
        let (core_m, front_m, direct_m) = (median(core), median(front), median(direct));
        let per = |x: u64| x as f64 / n as f64;
        println!();
        println!("readings per upload: {n}, batch size {BATCH_SIZE}, rounds {rounds}");
        println!(
            "core (sync_now via the front): median {}  ({:.0} readings/s)",
            secs(core_m),
            n as f64 / core_m.as_secs_f64()
        );
        println!(
            "pre-built Bundles via the front: median {}",
            secs(front_m)
        );
        println!(
            "pre-built Bundles straight to the server: median {}",
            secs(direct_m)
        );
        println!(
            "one pre-built Bundle of {n} straight to the server: {}",
            one_bundle.as_ref().map_or_else(|e| format!("failed: {e}"), |t| secs(*t))
        );
        println!(
            "core / direct: {:.2}x   core / front: {:.2}x   front / direct: {:.2}x   core / one bundle: {}",
            core_m.as_secs_f64() / direct_m.as_secs_f64(),
            core_m.as_secs_f64() / front_m.as_secs_f64(),
            front_m.as_secs_f64() / direct_m.as_secs_f64(),
            one_bundle.map_or_else(
                |_| "-".to_owned(),
                |t| format!("{:.2}x", core_m.as_secs_f64() / t.as_secs_f64())
            )
        );
        println!(
            "core: {} requests ({:.4} per reading), {} request bytes ({:.0} per reading); \
             pre-built Bundles: {} bytes ({:.0} per reading)",
            report.requests,
            per(report.requests),
            report.bytes_sent,
            per(report.bytes_sent),
            direct_bytes,
            per(direct_bytes as u64)
        );
    });
}
