//! The region area seen from Rust, as the shells see it, against the real test region
//! (`tests/region/up`: the FHIR server behind the token-checking front and the OAuth
//! server): login through the test-login browser, sync within a budget, progress,
//! cancellation, status, `SyncChanged`, logout. Needs the `test-hooks` feature (the test
//! browser); `scripts/test` enables it.
#![cfg(feature = "test-hooks")]

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use nara_ffi::errors::{CallbackError, KeyError, NaraError, SyncError};
use nara_ffi::keys::KeyProvider;
use nara_ffi::nara::Nara;
use nara_ffi::observe::{Change, ChangeListener, StopReason};
use nara_ffi::region::{
    Region, SyncProgress, SyncProgressListener, TransportConfig, test_login_browser,
};
use nara_ffi::types::{Measurement, NewReading, QualityFlags, Source};

/// The running test region (started once per process by `tests/region/up`).
fn test_region() -> &'static nara_tests::region::Region {
    nara_tests::region::region()
}

const CLIENT_ID: &str = "nara-app";
const REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// Test-only key provider: XOR with a byte. Never use outside tests.
#[derive(Default)]
struct XorKeys {
    forgets: Mutex<u32>,
}

impl KeyProvider for XorKeys {
    fn wrap(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyError> {
        Ok(data_key.iter().map(|b| b ^ 0x3c).collect())
    }
    fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyError> {
        Ok(wrapped.iter().map(|b| b ^ 0x3c).collect())
    }
    fn forget(&self) -> Result<(), KeyError> {
        *self.forgets.lock().expect("lock") += 1;
        Ok(())
    }
}

async fn open(dir: &tempfile::TempDir) -> (Arc<Nara>, Arc<XorKeys>) {
    let keys = Arc::new(XorKeys::default());
    let nara = Nara::open(dir.path().display().to_string(), keys.clone())
        .await
        .expect("opens");
    (nara, keys)
}

async fn login(nara: &Nara) -> Arc<Region> {
    let region = test_region();
    let r = nara.region();
    r.set_transport(TransportConfig {
        allow_http_loopback: true,
        ..TransportConfig::default()
    })
    .expect("transport");
    let pending = r
        .begin_login(
            region.fhir_url.clone(),
            CLIENT_ID.into(),
            REDIRECT_URI.into(),
        )
        .await
        .expect("begins");
    assert!(
        pending
            .authorize_url()
            .contains("code_challenge_method=S256")
    );
    let redirect = test_login_browser(region.user.clone(), true)
        .authorize(pending.authorize_url(), pending.redirect_uri())
        .await
        .expect("the test login redirects");
    let patient = r
        .finish_login(pending.clone(), redirect.clone())
        .await
        .expect("logs in");
    // A pending login is used once.
    let again = r.finish_login(pending, redirect).await.expect_err("fails");
    assert!(matches!(again, SyncError::Auth { .. }), "{again:?}");
    assert_eq!(patient, region.patient);
    r
}

/// Logs in as `user` through the test-login browser: the patient id, or the error of
/// `finishLogin`.
async fn login_as(nara: &Nara, user: &str) -> Result<String, SyncError> {
    let r = nara.region();
    let pending = r
        .begin_login(
            test_region().fhir_url.clone(),
            CLIENT_ID.into(),
            REDIRECT_URI.into(),
        )
        .await
        .expect("begins");
    let redirect = test_login_browser(user.into(), true)
        .authorize(pending.authorize_url(), pending.redirect_uri())
        .await
        .expect("the test login redirects");
    r.finish_login(pending, redirect).await
}

async fn add(nara: &Nara, n: u64) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let reading = NewReading {
            measurement: Measurement::BloodPressure {
                systolic: 110.0 + (i % 30) as f64,
                diastolic: 72.0,
                pulse: Some(66.0),
            },
            effective_at: SystemTime::now() - Duration::from_secs(60 * (i + 1)),
            utc_offset_seconds: 3600,
            source: Source::Manual,
            quality: QualityFlags::default(),
            off_scale: Vec::new(),
            glucose_context: None,
            note: None,
        };
        ids.push(nara.readings().add(reading).await.expect("stored").id);
    }
    ids
}

/// How many Observations the FHIR server holds with this reading's identifier (read
/// directly from the server, unauthenticated).
async fn on_server(reading_id: &str) -> u64 {
    let url = format!("{}/Observation", test_region().fhir_direct_url);
    let identifier = format!("urn:ietf:rfc:3986|urn:uuid:{reading_id}");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["-sfG", &url, "--data-urlencode"])
            .arg(format!("identifier={identifier}"))
            .args(["--data-urlencode", "_summary=count"])
            .output()
            .expect("curl runs")
    })
    .await
    .expect("joins");
    let body = String::from_utf8_lossy(&out.stdout);
    let total = body
        .split("\"total\":")
        .nth(1)
        .unwrap_or_else(|| panic!("no total in {body}"));
    total
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("a count")
}

/// The subjects of the Observations the FHIR server holds with this reading's
/// identifier (read directly from the server, unauthenticated).
async fn subjects_on_server(reading_id: &str) -> Vec<String> {
    let url = format!("{}/Observation", test_region().fhir_direct_url);
    let identifier = format!("urn:ietf:rfc:3986|urn:uuid:{reading_id}");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["-sfG", &url, "--data-urlencode"])
            .arg(format!("identifier={identifier}"))
            .output()
            .expect("curl runs")
    })
    .await
    .expect("joins");
    let bundle: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a Bundle");
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    e["resource"]["subject"]["reference"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Default)]
struct Progress {
    seen: Mutex<Vec<SyncProgress>>,
    thread: Mutex<Option<std::thread::ThreadId>>,
}

impl SyncProgressListener for Progress {
    fn on_progress(&self, progress: SyncProgress) -> Result<(), CallbackError> {
        self.seen.lock().expect("lock").push(progress);
        *self.thread.lock().expect("lock") = Some(std::thread::current().id());
        Ok(())
    }
}

#[derive(Default)]
struct Changes(Mutex<Vec<Change>>);

impl ChangeListener for Changes {
    fn on_change(&self, change: Change) -> Result<(), CallbackError> {
        self.0.lock().expect("lock").push(change);
        Ok(())
    }
    fn on_stopped(&self, _: StopReason) -> Result<(), CallbackError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sync_and_a_second_sync_that_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (nara, _) = open(&dir).await;
    let changes = Arc::new(Changes::default());
    let _handle = nara.subscribe(changes.clone()).expect("subscribes");
    let region = login(&nara).await;
    let ids = add(&nara, 7).await;
    assert_eq!(region.status().await.expect("status").pending, 7);

    let progress = Arc::new(Progress::default());
    let report = region
        .sync_now(120_000, Some(progress.clone()))
        .await
        .expect("syncs");
    assert_eq!(
        (report.created, report.already_there, report.rejected),
        (7, 0, 0)
    );
    assert!(report.finished && report.remaining == 0);
    let seen = progress.seen.lock().expect("lock").clone();
    assert_eq!(
        seen.last(),
        Some(&SyncProgress {
            uploaded: 7,
            total: 7
        }),
        "every progress reaches the listener before the result: {seen:?}"
    );
    assert_ne!(
        *progress.thread.lock().expect("lock"),
        Some(std::thread::current().id()),
        "progress runs on the core's threads"
    );

    let status = region.status().await.expect("status");
    assert!(status.logged_in && !status.login_required);
    assert_eq!((status.pending, status.in_flight), (0, 0));
    assert!(status.failed.is_empty() && status.last_error.is_none());
    assert!(status.last_success.is_some());
    assert_eq!(
        status.patient.as_deref(),
        Some(test_region().patient.as_str())
    );
    assert_eq!(
        status.region.as_deref(),
        Some(test_region().fhir_url.as_str())
    );

    let again = region.sync_now(120_000, None).await.expect("syncs");
    assert_eq!((again.created, again.already_there), (0, 0));
    assert!(again.finished);
    // A push hands over its opaque id only; the whole notification is refused.
    let pushed = region
        .sync_for_push("msg-4f1c9e:2".into(), 120_000)
        .await
        .expect("a push syncs");
    assert!(pushed.finished && pushed.created == 0);
    assert!(matches!(
        region
            .sync_for_push(r#"{"aps":{"alert":"Hej"}}"#.into(), 120_000)
            .await,
        Err(SyncError::BadPush)
    ));
    let notice = nara_ffi::region::push_notice_text();
    assert!(!notice.sv.is_empty() && !notice.en.is_empty());
    for id in &ids {
        assert_eq!(on_server(id).await, 1, "reading {id} once on the server");
    }
    assert!(
        changes
            .0
            .lock()
            .expect("lock")
            .contains(&Change::SyncChanged),
        "sync state changes reach change listeners"
    );
}

#[tokio::test]
async fn sync_and_status_without_login() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (nara, _) = open(&dir).await;
    add(&nara, 1).await;
    let err = nara
        .region()
        .sync_now(5_000, None)
        .await
        .expect_err("fails");
    assert!(matches!(err, SyncError::NotLoggedIn), "{err:?}");
    assert_eq!(err.to_string(), "not logged in");
    let status = nara.region().status().await.expect("status");
    assert!(!status.logged_in);
    assert_eq!(status.pending, 1);
    // A bad pin is refused; plain http without the development switch too.
    let bad = nara.region().set_transport(TransportConfig {
        spki_sha256_pins: vec![vec![0; 5]],
        ..TransportConfig::default()
    });
    assert!(
        matches!(bad, Err(SyncError::InvalidConfig { .. })),
        "{bad:?}"
    );
    let http = nara
        .region()
        .begin_login(
            "http://127.0.0.1:9/fhir".into(),
            CLIENT_ID.into(),
            REDIRECT_URI.into(),
        )
        .await
        .expect_err("fails");
    assert!(matches!(http, SyncError::Auth { .. }), "{http:?}");
}

/// Dropping the future of a sync (a cancelled coroutine or task) drops the wait only;
/// the next sync (after `Busy` while the first still runs) finishes, and the two runs
/// together confirmed every reading once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_sync_then_another_uploads_each_reading_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (nara, _) = open(&dir).await;
    let region = login(&nara).await;
    region.set_batch_size(25).expect("batch size");
    let n = 250;
    let ids = add(&nara, n).await;
    let progress = Arc::new(Progress::default());
    let first = region.sync_now(120_000, Some(progress.clone()));
    let watch = async {
        loop {
            let last = progress.seen.lock().expect("lock").last().copied();
            if last.is_some_and(|p| p.uploaded > 0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    tokio::select! {
        _ = first => panic!("the first sync finished before it could be cancelled"),
        () = watch => {}
    }
    let second = loop {
        match region.sync_now(120_000, None).await {
            Err(SyncError::Busy) => tokio::time::sleep(Duration::from_millis(20)).await,
            other => break other.expect("syncs"),
        }
    };
    assert!(second.finished);
    assert_eq!(region.status().await.expect("status").pending, 0);
    let first_uploaded = progress
        .seen
        .lock()
        .expect("lock")
        .last()
        .expect("some")
        .uploaded;
    assert_eq!(first_uploaded + second.created + second.already_there, n);
    for id in &ids {
        assert_eq!(on_server(id).await, 1, "reading {id} once on the server");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_refuses_with_unsynced_readings_and_wipes_after_sync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (nara, keys) = open(&dir).await;
    let region = login(&nara).await;
    add(&nara, 2).await;
    let refused = nara.logout(false).await.expect_err("fails");
    assert!(
        matches!(refused, SyncError::UnsyncedChanges { pending: 2 }),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        "2 changes have not reached the care team yet"
    );
    // Refused: still open, nothing lost.
    assert_eq!(region.status().await.expect("status").pending, 2);
    assert_eq!(
        region.sync_now(60_000, None).await.expect("syncs").created,
        2
    );
    nara.logout(false).await.expect("logs out");
    assert_eq!(*keys.forgets.lock().expect("lock"), 1);
    assert!(matches!(
        region.status().await.expect_err("fails"),
        SyncError::Closed
    ));
    assert!(matches!(
        nara.pending_uploads().await.expect_err("fails"),
        NaraError::Closed
    ));
    assert!(matches!(
        nara.logout(true).await.expect_err("fails"),
        SyncError::Closed
    ));
}

/// Logout stops a sync in flight instead of waiting for its budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_logout_stops_a_running_sync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (nara, _) = open(&dir).await;
    let region = login(&nara).await;
    region.set_batch_size(10).expect("batch size");
    add(&nara, 200).await;
    let syncing = tokio::spawn({
        let region = region.clone();
        async move { region.sync_now(600_000, None).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    nara.logout(true).await.expect("logs out");
    assert!(started.elapsed() < Duration::from_secs(20));
    let result = syncing.await.expect("joins");
    assert!(
        matches!(result, Ok(_) | Err(SyncError::Closed)),
        "{result:?}"
    );
}

/// One patient per store: readings captured before the first login go with the first
/// patient; a login as another patient fails with `AnotherPatient` and keeps nothing (the
/// status still names the first patient, the next sync sends as them), and the first
/// patient may log in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_as_another_patient_fails_with_another_patient_and_keeps_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (nara, _) = open(&dir).await;
    // Captured before any login: they belong to whoever logs in first.
    let ids = add(&nara, 2).await;
    let region = login(&nara).await;
    let first = test_region().patient.clone();

    let refused = login_as(&nara, "bertil")
        .await
        .expect_err("another patient");
    assert!(matches!(refused, SyncError::AnotherPatient), "{refused:?}");
    let text = refused.to_string();
    assert_eq!(
        text,
        "this phone holds another patient's data; the login was refused"
    );
    assert!(!text.contains(&first) && !text.contains("bertil"));

    let status = region.status().await.expect("status");
    assert!(status.logged_in && !status.login_required, "{status:?}");
    assert_eq!(status.patient.as_deref(), Some(first.as_str()));
    assert_eq!(status.pending, 2);
    let report = region.sync_now(120_000, None).await.expect("syncs");
    assert!(report.finished, "{report:?}");
    assert_eq!(report.created, 2);
    for id in &ids {
        assert_eq!(
            subjects_on_server(id).await,
            [format!("Patient/{first}")],
            "reading {id} once, in the first patient's record"
        );
    }

    // The store's own patient logs in again.
    let again = login_as(&nara, &test_region().user)
        .await
        .expect("the same patient logs in again");
    assert_eq!(again, first);
}
