//! The demo's sync step: start the test region on loopback (or use a running one), log
//! in with the test login, sync with a progress bar and show the status.
//!
//! Whatever goes wrong here — the region cannot be installed or started, the login or
//! the sync fails — the demo says why and goes on offline: the readings simply stay in
//! the outbox, which is what the app does without a network.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nara_core::Nara;
use nara_core::domain::text::Lang;
use nara_core::sync::test_login::TestLoginBrowser;
use url::Url;

use crate::commands::Ctx;
use crate::commands::region::{
    Settings, region_url, report_table, runtime, status_table, sync_with_progress, transport_config,
};
use crate::demo::DemoArgs;
use crate::render;
use crate::render::tr;

/// How long `tests/region/up` may take, unless `NARA_DEMO_REGION_TIMEOUT` (seconds)
/// says otherwise: the first run builds the FHIR server (about 30 minutes).
const UP_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// How long the login and the sync together may take.
const SYNC_TIMEOUT: Duration = Duration::from_secs(300);
/// The sync's time budget.
const SYNC_BUDGET: Duration = Duration::from_secs(60);

/// `tests/region/up` of the repository this binary was built from, else one found above
/// the current directory.
fn up_script() -> Option<PathBuf> {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/region/up");
    if built.is_file() {
        return Some(built);
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|d| d.join("tests/region/up"))
        .find(|p| p.is_file())
}

/// Runs `tests/region/up` (its progress goes straight to stderr) and returns the
/// `NARA_*` lines it prints, or why it could not.
fn start_test_region(lang: Lang) -> Result<HashMap<String, String>, String> {
    let script = up_script().ok_or_else(|| {
        tr(
            lang,
            "tests/region/up hittades inte (kör demon i Nära-förrådet)",
            "tests/region/up was not found (run the demo in the Nära repository)",
        )
    })?;
    let timeout = std::env::var("NARA_DEMO_REGION_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(UP_TIMEOUT);
    let mut child = Command::new(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} {} s (NARA_DEMO_REGION_TIMEOUT)",
                    tr(
                        lang,
                        "tests/region/up blev inte klart inom",
                        "tests/region/up did not finish within"
                    ),
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(250)),
            Err(e) => return Err(format!("tests/region/up: {e}")),
        }
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    if !status.success() {
        return Err(format!(
            "tests/region/up: {status} ({})",
            tr(lang, "meddelandena står ovan", "its messages are above")
        ));
    }
    let env: HashMap<String, String> = out
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    if env.contains_key("NARA_FHIR_URL") {
        Ok(env)
    } else {
        Err("tests/region/up printed no NARA_FHIR_URL".to_owned())
    }
}

/// The first line of an error for the story (user errors carry both languages).
fn first_line(e: &anyhow::Error) -> String {
    e.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("✗ ")
        .to_owned()
}

/// What the chat step needs of a region the sync reached.
#[derive(Debug, Clone)]
pub struct RegionLink {
    /// The logged-in patient's id at the region.
    pub patient: String,
    /// The `NARA_*` lines of `tests/region/up` (empty with `--region URL`: the nurse
    /// then finds the region through the environment).
    pub env: HashMap<String, String>,
}

/// Runs the sync step and returns its JSON summary, and the region when the sync
/// reached it. Never fails: problems are told and the demo continues offline.
pub fn sync_step(
    ctx: &Ctx,
    nara: &Nara,
    args: &DemoArgs,
    say: &dyn Fn(String),
) -> (serde_json::Value, Option<RegionLink>) {
    let lang = ctx.lang;
    let offline = |why: String| {
        say(render::alert(
            ctx,
            &format!(
                "  ⚠ {}: {why}",
                tr(
                    lang,
                    "Ingen kontakt med regionen",
                    "No contact with the region"
                )
            ),
        ));
        say(format!(
            "  {}",
            tr(
                lang,
                "Demon fortsätter offline: mätningarna väntar i utkorgen och skickas vid nästa synk.",
                "The demo continues offline: the readings wait in the outbox and go with the next sync."
            )
        ));
        (serde_json::json!({ "offline": true, "reason": why }), None)
    };
    let mut region_env = HashMap::new();
    let (url, user) = match &args.region {
        Some(url) => (url.clone(), args.test_login.clone()),
        None => {
            say(format!(
                "  {}",
                tr(
                    lang,
                    "Startar testregionen på loopback: tests/region/up (första gången installeras \
                     FHIR-servern och inloggningen; förloppet visas nedan)",
                    "Starting the test region on loopback: tests/region/up (the first time it \
                     installs the FHIR server and the login; progress below)"
                )
            ));
            match start_test_region(lang) {
                Ok(env) => {
                    let found = (
                        env.get("NARA_FHIR_URL").cloned().unwrap_or_default(),
                        args.test_login
                            .clone()
                            .or_else(|| env.get("NARA_TEST_USER").cloned()),
                    );
                    region_env = env;
                    found
                }
                Err(why) => return offline(why),
            }
        }
    };
    let user = user
        .or_else(|| {
            std::env::var("NARA_TEST_USER")
                .ok()
                .filter(|u| !u.is_empty())
        })
        .unwrap_or_else(|| "anna".to_owned());
    // The test region speaks plain http on loopback: the development switch is on for
    // the demo (http to any other host is still refused).
    let transport = transport_config(true);
    let region: Url = match region_url(lang, &url, &transport) {
        Ok(u) => u,
        Err(e) => return offline(first_line(&e)),
    };
    say(format!(
        "  {}: {region}  ({})",
        tr(lang, "Region", "Region"),
        tr(
            lang,
            "utvecklingsläge: http bara till loopback",
            "development switch: http to loopback only"
        )
    ));
    nara.region().set_transport(transport.clone());
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return offline(first_line(&e)),
    };
    let pending = nara.pending_uploads().unwrap_or(0);
    let done = rt.block_on(async {
        tokio::time::timeout(SYNC_TIMEOUT, async {
            let browser = TestLoginBrowser::new(user.clone(), transport.clone());
            let redirect = Url::parse("http://127.0.0.1/callback").map_err(|e| e.to_string())?;
            let patient = nara
                .region()
                .login(&region, "nara-app", &redirect, &browser)
                .await
                .map_err(|e| format!("login: {e}"))?;
            say(format!(
                "  ✓ {} «{user}» → Patient/{patient}  (SMART, PKCE S256, {})",
                tr(lang, "Inloggad som", "Logged in as"),
                tr(lang, "testinloggning", "test login")
            ));
            say(format!(
                "  {} {pending} {}",
                tr(lang, "Skickar", "Uploading"),
                tr(
                    lang,
                    "mätningar som FHIR Observations (villkorlig create, exakt en gång)",
                    "readings as FHIR Observations (conditional create, exactly once)"
                )
            ));
            let report = sync_with_progress(ctx, nara, SYNC_BUDGET)
                .await
                .map_err(|e| format!("sync: {e}"))?;
            Ok::<_, String>((patient, report))
        })
        .await
        .unwrap_or_else(|_| Err(format!("timed out after {} s", SYNC_TIMEOUT.as_secs())))
    });
    let (patient, report) = match done {
        Ok(x) => x,
        Err(why) => return offline(why),
    };
    say(report_table(ctx, &report));
    let status = match nara.region().status() {
        Ok(s) => s,
        Err(e) => return offline(e.to_string()),
    };
    let settings = Settings {
        region: Some(region.to_string()),
        dev_http: true,
        last_error: None,
    };
    say(format!(
        "  {}",
        tr(lang, "Status efter synken:", "Status after the sync:")
    ));
    say(status_table(ctx, &status, &settings));
    if !report.finished {
        say(render::alert(
            ctx,
            &format!(
                "  ⚠ {} {}",
                report.remaining,
                tr(
                    lang,
                    "mätningar väntar kvar till nästa synk",
                    "readings still wait for the next sync"
                )
            ),
        ));
    }
    let summary = serde_json::json!({
        "offline": false,
        "region": region.as_str(),
        "user": user,
        "patient": patient,
        "report": report,
        "status": status,
    });
    (
        summary,
        Some(RegionLink {
            patient,
            env: region_env,
        }),
    )
}
