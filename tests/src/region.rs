//! The test region, as the end-to-end tests see it: `tests/region/up` started once per
//! test process, its `NARA_*` lines parsed, and small helpers to read the FHIR server
//! directly (unauthenticated, for checks only).

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

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
