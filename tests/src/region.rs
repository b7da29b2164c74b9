//! The test region, as the end-to-end tests see it: `tests/region/up` started once per
//! test process, its `NARA_*` lines parsed, and small helpers to read the FHIR server
//! directly (unauthenticated, for checks only).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use nara_core::sync::engine::SyncReport;
use nara_core::sync::test_login::TestLoginBrowser;
use nara_core::sync::transport;
use nara_core::{Nara, PassphraseKeyProvider};
use serde_json::Value;
use url::Url;

use crate::fault_proxy::{dev_transport, redirect_uri};

/// Where the running test region is.
#[derive(Debug, Clone)]
pub struct Region {
    /// The FHIR endpoint the core talks to (behind the token-checking front).
    pub fhir_url: String,
    /// The FHIR server itself, for checks.
    pub fhir_direct_url: String,
    /// The authorization server (issuer).
    pub auth_url: String,
    /// The test user's patient id.
    pub patient: String,
    /// The test login user.
    pub user: String,
}

impl Region {
    /// Runs the care-team simulator (`tests/region/nurse`) against this region's FHIR
    /// server; returns its stdout. Panics with its stderr if it fails.
    pub fn nurse(&self, args: &[&str]) -> String {
        crate::chat_run::nurse(&self.fhir_direct_url, args)
    }

    /// Publishes the health declaration fixture as Questionnaire `halsodeklaration`;
    /// returns the fixture's path.
    pub fn publish_declaration(&self) -> PathBuf {
        let fixture = workspace_root().join("tests/region/fixtures/halsodeklaration.json");
        let path = fixture.to_str().expect("utf-8");
        self.nurse(&["questionnaire", "halsodeklaration", "--file", path]);
        fixture
    }

    /// The FHIR endpoint the core talks to, parsed.
    pub fn fhir(&self) -> Url {
        Url::parse(&self.fhir_url).unwrap_or_else(|e| panic!("the FHIR URL parses: {e}"))
    }

    /// Logs `nara` in to this region as `user` through the test login (client
    /// `nara-app`, the test redirect URI); returns the patient id the login names.
    pub async fn log_in(&self, nara: &Nara, user: &str) -> String {
        nara.region()
            .login(
                &self.fhir(),
                "nara-app",
                &redirect_uri(),
                &TestLoginBrowser::new(user, dev_transport()),
            )
            .await
            .unwrap_or_else(|e| panic!("{user} logs in: {e}"))
    }

    /// A phone logged in to this region: [`open_phone`] on `dir` with `passphrase`,
    /// then [`log_in`](Self::log_in) as `user`. Returns the phone and the patient id.
    pub async fn phone(&self, dir: &Path, passphrase: &str, user: &str) -> (Nara, String) {
        let nara = open_phone(dir, passphrase);
        let patient = self.log_in(&nara, user).await;
        (nara, patient)
    }
}

/// Opens a store on `dir` with a passphrase key and sets the development transport
/// (http on loopback allowed), not logged in.
pub fn open_phone(dir: &Path, passphrase: &str) -> Nara {
    let nara = Nara::open(dir, Arc::new(PassphraseKeyProvider::new(passphrase)))
        .unwrap_or_else(|e| panic!("the store opens: {e}"));
    nara.region().set_transport(dev_transport());
    nara
}

/// Syncs `nara` within `budget` and asserts the sync finished; returns its report.
pub async fn sync_finished(nara: &Nara, budget: Duration) -> SyncReport {
    let report = nara
        .region()
        .sync_now(budget, |_| {})
        .await
        .unwrap_or_else(|e| panic!("syncs: {e}"));
    assert!(report.finished, "{report:?}");
    report
}

/// An HTTP client for reading the FHIR server directly (http on loopback, 30 s).
pub fn direct_client() -> reqwest::Client {
    transport::client(&dev_transport(), Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("an HTTP client: {e}"))
}

/// GETs `url` as FHIR JSON with `http`; panics if the server does not answer or the
/// answer is not JSON.
pub async fn fhir_json(http: &reqwest::Client, url: impl reqwest::IntoUrl) -> Value {
    http.get(url)
        .header("Accept", "application/fhir+json")
        .send()
        .await
        .unwrap_or_else(|e| panic!("the FHIR server answers: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("a JSON answer: {e}"))
}

/// The resources of a search Bundle's entries, in order.
pub fn resources(bundle: &Value) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .map(|e| e.iter().map(|x| x["resource"].clone()).collect())
        .unwrap_or_default()
}

/// Starts the region (once per process; a running one is reused) and returns where it
/// is. Panics with the script's output if it cannot start.
pub fn region() -> &'static Region {
    static REGION: OnceLock<Region> = OnceLock::new();
    REGION.get_or_init(|| start(None, &[]))
}

/// Runs `tests/region/up` with its state in `dir` (default `target/region`) and extra
/// environment (`NARA_ACCESS_TTL`, ...), and parses its `NARA_*` lines. Reuses a region
/// already running there. Panics with the script's output if it cannot start.
pub fn start(dir: Option<&Path>, env: &[(&str, &str)]) -> Region {
    let mut up = Command::new(workspace_root().join("tests/region/up"));
    if let Some(dir) = dir {
        up.env("NARA_REGION_DIR", dir);
    }
    let out = up
        .envs(env.iter().copied())
        .output()
        .expect("tests/region/up runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tests/region/up failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: HashMap<&str, &str> = stdout.lines().filter_map(|l| l.split_once('=')).collect();
    let get = |k: &str| {
        lines
            .get(k)
            .unwrap_or_else(|| panic!("tests/region/up printed no {k}"))
            .to_string()
    };
    Region {
        fhir_url: get("NARA_FHIR_URL"),
        fhir_direct_url: get("NARA_FHIR_DIRECT_URL"),
        auth_url: get("NARA_AUTH_URL"),
        patient: get("NARA_TEST_PATIENT"),
        user: get("NARA_TEST_USER"),
    }
}

/// The workspace root (the `tests` crate's parent).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
}
