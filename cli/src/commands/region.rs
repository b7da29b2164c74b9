//! `nara login | sync | status | logout`: sync with the region (FHIR R4, SMART login).
//!
//! The core keeps the login (session, sealed refresh token), the outbox and the sync
//! state in the store. The transport switch (`--dev-http`: plain http to loopback, for
//! the test region) is not stored by the core; the CLI keeps its own small settings file
//! `<data-dir>/nara-cli.json` (`{"region": URL, "dev_http": bool, "last_error": ...}`,
//! nothing secret, no patient data), written by `nara login` and read by the other
//! commands, so `--dev-http` is needed only once, at login. `nara logout` and
//! `nara wipe` delete it.
//!
//! Exit codes: 0 done; 1 failure; 2 bad input (URL, insecure transport); 3 not logged
//! in or the login expired; 4 sync unfinished (readings still waiting); 5 logout
//! refused because readings have not been uploaded; 14 login refused because this data
//! dir holds another patient's data (a store belongs to the patient of its first
//! login; readings added before it belong to whoever logs in first).

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nara_core::Nara;
use nara_core::domain::text::Lang;
use nara_core::sync::auth::{AuthBrowser, AuthError, BoxFuture, BrowserError};
use nara_core::sync::engine::{SyncError, SyncProgress, SyncReport, SyncStatus};
use nara_core::sync::test_login::TestLoginBrowser;
use nara_core::sync::transport::{TransportConfig, TransportError, check_url};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use url::Url;

use super::EXIT_INPUT;
use super::{Ctx, print_json};
use crate::{UserError, render};

/// Exit code: not logged in, or the login expired.
pub const EXIT_LOGIN: u8 = 3;
/// Exit code: the sync did not finish; readings are still waiting.
pub const EXIT_UNFINISHED: u8 = 4;
/// Exit code: logout refused, changes have not reached the care team.
pub const EXIT_UNSYNCED: u8 = 5;
/// Exit code: login refused, this data dir holds another patient's data (or a login at
/// another region). Not shared with any other outcome of any command.
pub const EXIT_OTHER_PATIENT: u8 = 14;

/// How long the browser login may take before the CLI gives up.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

/// Arguments of `nara login`.
#[derive(Debug, Args)]
#[command(
    after_help = "The data dir belongs to the patient of its first login: readings added \
    before it are sent as that patient's, and a login as anyone else (or to another \
    region) is refused until the data dir is logged out (which wipes it).\n\n\
    Exit codes: 0 done; 1 failure; 2 bad input (URL, insecure transport); 14 this data \
    dir holds another patient's data (the login was refused, nothing was sent)."
)]
pub struct LoginArgs {
    /// The region's FHIR base URL (its SMART configuration is discovered from it).
    #[arg(long, value_name = "URL")]
    pub region: String,
    /// OAuth client id of the app at the region.
    #[arg(long, default_value = "nara-app")]
    pub client_id: String,
    /// Redirect URI; for the browser login a loopback http URI whose port (if none or
    /// 0) is picked when the CLI starts listening (RFC 8252).
    #[arg(long, default_value = "http://127.0.0.1/callback", value_name = "URI")]
    pub redirect_uri: String,
    /// Log in as this test user on the test region's development login forms, without a
    /// browser (see tests/region/README.md: anna, bertil, cecilia).
    #[arg(long, value_name = "USER")]
    pub test_login: Option<String>,
    /// Development only: allow plain http to loopback (127.0.0.1, ::1, localhost), for
    /// the test region. Remembered for later commands on this data dir.
    #[arg(long)]
    pub dev_http: bool,
}

/// Arguments of `nara sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Time budget in seconds: the sync stops cleanly (and resumes next time) when it
    /// runs out.
    #[arg(long, default_value_t = 120, value_name = "N")]
    pub budget_secs: u64,
    /// Allow plain http to loopback for this run (normally remembered from login).
    #[arg(long)]
    pub dev_http: bool,
}

/// Arguments of `nara logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Log out even though readings have not been uploaded (they are lost).
    #[arg(long)]
    pub force: bool,
    /// Allow plain http to loopback for the revocation (normally remembered from login).
    #[arg(long)]
    pub dev_http: bool,
}

/// The CLI's own settings for a data dir (not secret, no patient data).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Settings {
    /// The region's FHIR base URL of the last login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Plain http to loopback allowed (`--dev-http` at login).
    #[serde(default)]
    pub dev_http: bool,
    /// Why the last `nara sync` did not finish (the core keeps this only in memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Settings {
    /// The settings file of a data dir.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("nara-cli.json")
    }

    /// Reads the settings; missing or unreadable gives the defaults.
    pub fn load(data_dir: &Path) -> Settings {
        std::fs::read(Self::path(data_dir))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes the settings (atomically: a temporary file, then rename).
    pub fn save(&self, data_dir: &Path) -> anyhow::Result<()> {
        let path = Self::path(data_dir);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// Deletes the settings file (logout, wipe).
    pub fn remove(data_dir: &Path) -> anyhow::Result<()> {
        match std::fs::remove_file(Self::path(data_dir)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).context("removing the CLI settings")
            }
            _ => Ok(()),
        }
    }
}

/// Both languages, the chosen one first.
pub fn both(lang: Lang, sv: impl Into<String>, en: impl Into<String>) -> Vec<String> {
    let (sv, en) = (sv.into(), en.into());
    if lang == Lang::Sv {
        vec![sv, en]
    } else {
        vec![en, sv]
    }
}

/// An error in both languages with exit code `code`.
pub fn bilingual_error(
    lang: Lang,
    code: u8,
    sv: impl Into<String>,
    en: impl Into<String>,
) -> anyhow::Error {
    UserError {
        lines: both(lang, sv, en)
            .into_iter()
            .map(|l| format!("✗ {l}"))
            .collect(),
        code,
    }
    .into()
}

/// The transport the CLI asks the core for.
pub fn transport_config(dev_http: bool) -> TransportConfig {
    TransportConfig {
        allow_http_loopback: dev_http,
        ..TransportConfig::default()
    }
}

fn insecure_error(lang: Lang) -> anyhow::Error {
    bilingual_error(
        lang,
        EXIT_INPUT,
        "Regionen nås bara med https://. Vanlig http tillåts bara till den egna datorn \
         (127.0.0.1, ::1, localhost) och bara med --dev-http (testregionen).",
        "The region is reached over https:// only. Plain http is allowed only to this \
         computer (127.0.0.1, ::1, localhost) and only with --dev-http (the test region).",
    )
}

/// Parses the region URL and checks it against the transport rules, with clear errors.
pub fn region_url(lang: Lang, raw: &str, transport: &TransportConfig) -> anyhow::Result<Url> {
    let url = Url::parse(raw).map_err(|e| {
        bilingual_error(
            lang,
            EXIT_INPUT,
            format!("Ogiltig regionadress «{raw}»: {e}"),
            format!("Invalid region URL '{raw}': {e}"),
        )
    })?;
    check_url(&url, transport).map_err(|_| insecure_error(lang))?;
    Ok(url)
}

/// Turns a sync or login error into a message for the patient (both languages) and an
/// exit code.
pub fn sync_error(lang: Lang, e: SyncError) -> anyhow::Error {
    match e {
        SyncError::NotLoggedIn => bilingual_error(
            lang,
            EXIT_LOGIN,
            "Inte inloggad hos någon region. Logga in först: nara login --region URL",
            "Not logged in to a region. Log in first: nara login --region URL",
        ),
        SyncError::LoginRequired => bilingual_error(
            lang,
            EXIT_LOGIN,
            "Inloggningen har gått ut. Logga in igen (nara login --region URL); \
             inga mätningar har gått förlorade.",
            "The login has expired. Log in again (nara login --region URL); \
             no readings were lost.",
        ),
        SyncError::UnsyncedChanges(n) => bilingual_error(
            lang,
            EXIT_UNSYNCED,
            format!(
                "{n} ändringar (mätningar, meddelanden) har inte nått vårdteamet än. Synka först (nara sync), \
                 eller logga ut ändå med --force (då går de förlorade)."
            ),
            format!(
                "{n} changes (readings, messages) have not reached the care team yet. Sync first (nara sync), \
                 or log out anyway with --force (they will be lost)."
            ),
        ),
        SyncError::AnotherPatient => another_patient_error(lang),
        SyncError::Auth(AuthError::Transport(TransportError::InsecureUrl)) => insecure_error(lang),
        SyncError::Busy => bilingual_error(
            lang,
            1,
            "En synk pågår redan.",
            "A sync is already running.",
        ),
        other => bilingual_error(
            lang,
            1,
            format!("Det gick inte: {other}"),
            format!("It failed: {other}"),
        ),
    }
}

/// The refused login of another patient: what the patient is told (both languages,
/// naming nobody) and [`EXIT_OTHER_PATIENT`].
pub fn another_patient_error(lang: Lang) -> anyhow::Error {
    bilingual_error(
        lang,
        EXIT_OTHER_PATIENT,
        "Inloggningen avbröts: Nära på den här datorn har en annan persons uppgifter \
         (eller uppgifter från en annan region). Ingenting skickades. Den personen måste \
         logga in själv, eller så loggas den här datorn ut först (nara logout; det \
         raderar de uppgifterna härifrån).",
        "The login was stopped: Nära on this computer holds another person's data (or \
         data from another region). Nothing was sent. That person must log in themselves, \
         or this computer must be logged out first (nara logout; that deletes their data \
         from here).",
    )
}

/// A single-threaded runtime for the core's async calls.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Writes a line to stderr (progress and prompts; stdout stays for results and JSON).
pub fn note(line: impl AsRef<str>) {
    let _ = writeln!(std::io::stderr(), "{}", line.as_ref());
}

// ------------------------------------------------------------------------- login

/// Runs `nara login`.
pub fn login(ctx: &Ctx, args: &LoginArgs) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let transport = transport_config(args.dev_http);
    let region = region_url(lang, &args.region, &transport)?;
    let redirect = Url::parse(&args.redirect_uri).map_err(|e| {
        bilingual_error(
            lang,
            EXIT_INPUT,
            format!("Ogiltig --redirect-uri: {e}"),
            format!("Invalid --redirect-uri: {e}"),
        )
    })?;
    let nara = ctx.open()?;
    nara.region().set_transport(transport.clone());
    let rt = runtime()?;
    let patient = rt.block_on(async {
        match &args.test_login {
            Some(user) => {
                let browser = TestLoginBrowser::new(user.clone(), transport.clone());
                nara.region()
                    .login(&region, &args.client_id, &redirect, &browser)
                    .await
                    .map_err(|e| sync_error(lang, e))
            }
            None => {
                let browser = LoopbackBrowser::bind(lang, &redirect).await?;
                nara.region()
                    .login(&region, &args.client_id, browser.redirect_uri(), &browser)
                    .await
                    .map_err(|e| sync_error(lang, e))
            }
        }
    })?;
    let settings = Settings {
        region: Some(region.to_string()),
        dev_http: args.dev_http,
        last_error: None,
    };
    settings.save(&ctx.data_dir)?;
    if ctx.json {
        return print_json(&serde_json::json!({
            "logged_in": true,
            "region": region.as_str(),
            "patient": patient,
            "dev_http": args.dev_http,
        }));
    }
    println!(
        "{}",
        both(
            lang,
            format!("✓ Inloggad hos {region} (patient {patient})"),
            format!("✓ Logged in to {region} (patient {patient})"),
        )[0]
    );
    if args.dev_http {
        println!(
            "{}",
            render::dim(
                ctx,
                "  --dev-http: http to loopback allowed for this data dir (nara-cli.json)"
            )
        );
    }
    Ok(())
}

/// The system browser plus a one-shot loopback HTTP listener for the redirect
/// (RFC 8252 §7.3): prints the authorize URL, tries to open it, and returns the first
/// request to the redirect path.
pub struct LoopbackBrowser {
    listener: tokio::net::TcpListener,
    redirect: Url,
    lang: Lang,
    open_browser: bool,
}

impl LoopbackBrowser {
    /// Listens on the redirect URI's loopback address; a missing port (or 0) becomes a
    /// free one, reflected in [`LoopbackBrowser::redirect_uri`].
    pub async fn bind(lang: Lang, redirect: &Url) -> anyhow::Result<Self> {
        let bad = || {
            bilingual_error(
                lang,
                EXIT_INPUT,
                "Webbläsarinloggningen behöver en --redirect-uri som http://127.0.0.1/callback \
                 (eller använd --test-login).",
                "The browser login needs a --redirect-uri like http://127.0.0.1/callback \
                 (or use --test-login).",
            )
        };
        if redirect.scheme() != "http" {
            return Err(bad());
        }
        let ip: std::net::IpAddr = match redirect.host() {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => ip.into(),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => ip.into(),
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
                std::net::Ipv4Addr::LOCALHOST.into()
            }
            _ => return Err(bad()),
        };
        let listener = tokio::net::TcpListener::bind((ip, redirect.port().unwrap_or(0)))
            .await
            .context("listening for the login redirect on loopback")?;
        let port = listener.local_addr()?.port();
        let mut redirect = redirect.clone();
        redirect.set_port(Some(port)).map_err(|()| bad())?;
        Ok(LoopbackBrowser {
            listener,
            redirect,
            lang,
            open_browser: std::env::var_os("NARA_NO_BROWSER").is_none(),
        })
    }

    /// The redirect URI with the port actually listened on.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect
    }

    async fn run(&self, authorize_url: &Url) -> Result<Url, BrowserError> {
        for line in both(
            self.lang,
            "Öppna den här adressen i webbläsaren för att logga in:",
            "Open this address in your browser to log in:",
        ) {
            note(line);
        }
        note(format!("  {authorize_url}"));
        if self.open_browser {
            open_in_browser(authorize_url);
        }
        let deadline = tokio::time::Instant::now() + BROWSER_TIMEOUT;
        loop {
            let accepted = tokio::time::timeout_at(deadline, self.listener.accept())
                .await
                .map_err(|_| BrowserError::Failed("no answer from the browser in time".into()))?;
            let Ok((mut stream, _)) = accepted else {
                continue;
            };
            let Ok(Some(target)) =
                tokio::time::timeout(Duration::from_secs(10), read_request_target(&mut stream))
                    .await
                    .unwrap_or(Ok(None))
            else {
                continue;
            };
            let Ok(url) = self.redirect.join(&target) else {
                let _ = respond(&mut stream, "400 Bad Request", "").await;
                continue;
            };
            if url.path() != self.redirect.path() {
                let _ = respond(&mut stream, "404 Not Found", "").await;
                continue;
            }
            let ok = url.query_pairs().any(|(k, _)| k == "code");
            let _ = respond(&mut stream, "200 OK", &done_page(ok)).await;
            return Ok(url);
        }
    }
}

impl AuthBrowser for LoopbackBrowser {
    fn authorize<'a>(
        &'a self,
        authorize_url: &'a Url,
        _redirect_uri: &'a Url,
    ) -> BoxFuture<'a, Result<Url, BrowserError>> {
        Box::pin(self.run(authorize_url))
    }
}

/// Tries the desktop's opener; the URL is printed anyway.
fn open_in_browser(url: &Url) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// Reads an HTTP request head and returns its request target for a GET.
async fn read_request_target(
    stream: &mut tokio::net::TcpStream,
) -> std::io::Result<Option<String>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Ok(Some(target.to_owned())),
        _ => Ok(None),
    }
}

async fn respond(
    stream: &mut tokio::net::TcpStream,
    status: &str,
    body: &str,
) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// The page the browser shows after the redirect, in Swedish and English.
fn done_page(ok: bool) -> String {
    let (sv_title, en_title) = if ok {
        ("Du är inloggad", "You are logged in")
    } else {
        ("Inloggningen blev inte klar", "The login was not completed")
    };
    format!(
        "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>Nära</title></head>\
         <body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\">\
         <h1>{sv_title}</h1><p>Du kan stänga fönstret och gå tillbaka till terminalen.</p>\
         <h1 lang=\"en\">{en_title}</h1><p lang=\"en\">You can close this window and go back to \
         the terminal.</p></body></html>"
    )
}

// -------------------------------------------------------------------------- sync

/// A progress bar for stderr, drawn from the first progress report on (never when
/// stderr is not a terminal or for JSON). Returns the bar and whether to show it.
pub fn progress_bar(ctx: &Ctx) -> (ProgressBar, bool) {
    let visible = !ctx.json && std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    let style = ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} {msg}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(if ctx.lang == Lang::Sv {
        "synkar"
    } else {
        "syncing"
    });
    (bar, visible)
}

/// Runs `sync_now` with a progress bar; the report or the error, the bar cleared.
pub async fn sync_with_progress(
    ctx: &Ctx,
    nara: &Nara,
    budget: Duration,
) -> Result<SyncReport, SyncError> {
    let (bar, visible) = progress_bar(ctx);
    let mut shown = false;
    let result = nara
        .region()
        .sync_now(budget, |p: SyncProgress| {
            bar.set_length(p.total);
            bar.set_position(p.uploaded);
            if visible && !shown {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                shown = true;
            }
        })
        .await;
    bar.finish_and_clear();
    result
}

/// What a sync did, as a table.
pub fn report_table(ctx: &Ctx, r: &SyncReport) -> String {
    let sv = ctx.lang == Lang::Sv;
    let rows: [(&str, &str, String); 11] = [
        (
            "Nya hos regionen",
            "Created at the region",
            r.created.to_string(),
        ),
        ("Fanns redan", "Already there", r.already_there.to_string()),
        (
            "Återkallade (rättade)",
            "Withdrawn (corrected)",
            r.withdrawn.to_string(),
        ),
        ("Avvisade", "Rejected", r.rejected.to_string()),
        ("Väntar kvar", "Remaining", r.remaining.to_string()),
        (
            "Gränsvärden uppdaterade",
            "Thresholds applied",
            r.thresholds_applied.to_string(),
        ),
        (
            "Scheman uppdaterade",
            "Schedules applied",
            r.schedules_applied.to_string(),
        ),
        (
            "Nya meddelanden från vården",
            "New messages from the care unit",
            r.messages_received.to_string(),
        ),
        ("Anrop", "Requests", r.requests.to_string()),
        ("Skickade byte", "Bytes sent", r.bytes_sent.to_string()),
        ("Klart", "Finished", yes_no(sv, r.finished).to_owned()),
    ];
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(if sv {
        ["Synk", "Antal"]
    } else {
        ["Sync", "Count"]
    });
    for (s, e, v) in rows {
        t.add_row(vec![if sv { s } else { e }.to_owned(), v]);
    }
    t.to_string()
}

fn yes_no(sv: bool, b: bool) -> &'static str {
    match (sv, b) {
        (true, true) => "ja",
        (true, false) => "nej",
        (false, true) => "yes",
        (false, false) => "no",
    }
}

/// Runs `nara sync`.
pub fn sync(ctx: &Ctx, args: &SyncArgs) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let mut settings = Settings::load(&ctx.data_dir);
    let nara = ctx.open()?;
    nara.region()
        .set_transport(transport_config(args.dev_http || settings.dev_http));
    let rt = runtime()?;
    let result = rt.block_on(sync_with_progress(
        ctx,
        &nara,
        Duration::from_secs(args.budget_secs),
    ));
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            if !matches!(e, SyncError::NotLoggedIn) {
                settings.last_error = Some(e.to_string());
                settings.save(&ctx.data_dir)?;
            }
            return Err(sync_error(lang, e));
        }
    };
    let status = nara.region().status()?;
    settings.last_error = (!report.finished).then(|| {
        status
            .last_error
            .clone()
            .unwrap_or_else(|| "unfinished".to_owned())
    });
    if Settings::path(&ctx.data_dir).exists() || settings.last_error.is_some() {
        settings.save(&ctx.data_dir)?;
    }
    if ctx.json {
        print_json(&serde_json::json!({ "report": report, "status": status }))?;
    } else {
        println!("{}", report_table(ctx, &report));
        print_failed(ctx, &status);
        print_unusable(ctx, &status);
    }
    if !report.finished {
        return Err(bilingual_error(
            lang,
            EXIT_UNFINISHED,
            format!(
                "Synken blev inte klar: {} ändringar (mätningar, meddelanden) väntar kvar \
                 och skickas nästa gång (nara sync).",
                report.remaining
            ),
            format!(
                "The sync did not finish: {} changes (readings, messages) are still \
                 waiting and will be sent next time (nara sync).",
                report.remaining
            ),
        ));
    }
    Ok(())
}

fn print_failed(ctx: &Ctx, status: &SyncStatus) {
    if status.failed.is_empty() {
        return;
    }
    let lines = both(
        ctx.lang,
        format!(
            "⚠ {} ändringar avvisades av regionen; de finns kvar här:",
            status.failed.len()
        ),
        format!(
            "⚠ {} changes were refused by the region; they are kept here:",
            status.failed.len()
        ),
    );
    println!("{}", render::alert(ctx, &lines[0]));
    for f in &status.failed {
        let id: String = f.id.chars().take(8).collect();
        println!("    {:<18} {id}  {}", f.kind.label().get(ctx.lang), f.error);
    }
}

/// The care team's Goals and CarePlans that could not be used: one sentence each.
fn print_unusable(ctx: &Ctx, status: &SyncStatus) {
    for u in &status.unusable {
        let text = u.text();
        println!(
            "{}",
            render::alert(ctx, &format!("⚠ {}", text.get(ctx.lang)))
        );
    }
}

// ------------------------------------------------------------------------ status

/// The sync status as a table.
pub fn status_table(ctx: &Ctx, status: &SyncStatus, settings: &Settings) -> String {
    let sv = ctx.lang == Lang::Sv;
    let never = if sv { "aldrig" } else { "never" };
    let failed = if status.failed.is_empty() {
        "0".to_owned()
    } else {
        let list: Vec<String> = status
            .failed
            .iter()
            .map(|f| {
                let id: String = f.id.chars().take(8).collect();
                format!(
                    "{} {id} {}",
                    f.kind.label().get(ctx.lang).to_lowercase(),
                    f.error
                )
            })
            .collect();
        format!("{}: {}", status.failed.len(), list.join(", "))
    };
    let unusable = if status.unusable.is_empty() {
        "0".to_owned()
    } else {
        let list: Vec<String> = status
            .unusable
            .iter()
            .map(|u| {
                format!(
                    "{} {} {}",
                    u.resource.resource_type(),
                    u.reason.code(),
                    u.field
                )
            })
            .collect();
        format!("{}: {}", status.unusable.len(), list.join(", "))
    };
    let last_error = status
        .last_error
        .clone()
        .or_else(|| settings.last_error.clone())
        .unwrap_or_else(|| "—".to_owned());
    let rows: [(&str, &str, String); 9] = [
        (
            "Region",
            "Region",
            settings.region.clone().unwrap_or_else(|| "—".to_owned()),
        ),
        (
            "Inloggad",
            "Logged in",
            yes_no(sv, status.logged_in).to_owned(),
        ),
        (
            "Måste logga in igen",
            "Login needed",
            yes_no(sv, status.login_required).to_owned(),
        ),
        (
            "Väntar på uppladdning",
            "Pending upload",
            status.pending.to_string(),
        ),
        ("Skickas nu", "In flight", status.in_flight.to_string()),
        ("Avvisade", "Failed", failed),
        ("Kunde inte användas", "Could not be used", unusable),
        (
            "Senast lyckade synk",
            "Last success",
            status
                .last_success
                .map(render::system_time)
                .unwrap_or_else(|| never.to_owned()),
        ),
        ("Senaste fel", "Last error", last_error),
    ];
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    for (s, e, v) in rows {
        t.add_row(vec![if sv { s } else { e }.to_owned(), v]);
    }
    t.to_string()
}

/// Runs `nara status`.
pub fn status(ctx: &Ctx) -> anyhow::Result<()> {
    let settings = Settings::load(&ctx.data_dir);
    let nara = ctx.open()?;
    let status = nara
        .region()
        .status()
        .map_err(|e| sync_error(ctx.lang, e))?;
    if ctx.json {
        let mut value = serde_json::to_value(&status)?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("region".into(), serde_json::json!(settings.region));
            obj.insert("dev_http".into(), serde_json::json!(settings.dev_http));
            if obj.get("last_error").is_none() {
                if let Some(e) = &settings.last_error {
                    obj.insert("last_error".into(), serde_json::json!(e));
                }
            }
        }
        return print_json(&value);
    }
    println!("{}", status_table(ctx, &status, &settings));
    print_unusable(ctx, &status);
    if !status.logged_in {
        let line = &both(
            ctx.lang,
            "Inte inloggad: nara login --region URL",
            "Not logged in: nara login --region URL",
        )[0];
        println!("{}", render::dim(ctx, line));
    }
    Ok(())
}

// ------------------------------------------------------------------------ logout

/// Runs `nara logout`.
pub fn logout(ctx: &Ctx, args: &LogoutArgs) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let settings = Settings::load(&ctx.data_dir);
    let nara = ctx.open()?;
    nara.region()
        .set_transport(transport_config(args.dev_http || settings.dev_http));
    let pending = nara.pending_uploads()?;
    let rt = runtime()?;
    rt.block_on(nara.logout(args.force))
        .map_err(|e| sync_error(lang, e.into()))?;
    Settings::remove(&ctx.data_dir)?;
    if ctx.json {
        return print_json(&serde_json::json!({
            "logged_out": true,
            "wiped": true,
            "lost_unsynced": pending,
        }));
    }
    println!(
        "{}",
        both(
            lang,
            "✓ Utloggad: inloggningen är återkallad och all data på den här datorn är raderad.",
            "✓ Logged out: the login is revoked and all data on this computer is wiped.",
        )[0]
    );
    if pending > 0 {
        let line = &both(
            lang,
            format!("  {pending} mätningar som inte hade skickats raderades (--force)."),
            format!("  {pending} readings that had not been sent were deleted (--force)."),
        )[0];
        println!("{}", render::alert(ctx, line));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn loopback_browser_returns_the_redirect_and_answers_the_browser() {
        let rt = runtime().expect("runtime");
        rt.block_on(async {
            let redirect = Url::parse("http://127.0.0.1/callback").expect("url");
            let mut browser = LoopbackBrowser::bind(Lang::En, &redirect)
                .await
                .expect("bind");
            browser.open_browser = false;
            let port = browser.redirect_uri().port().expect("a real port");
            assert_ne!(port, 0);
            let client = tokio::spawn(async move {
                let get = |path: &'static str| async move {
                    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                        .await
                        .expect("connect");
                    s.write_all(
                        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes(),
                    )
                    .await
                    .expect("write");
                    let mut out = String::new();
                    s.read_to_string(&mut out).await.expect("read");
                    out
                };
                let favicon = get("/favicon.ico").await;
                let page = get("/callback?code=abc&state=xyz").await;
                (favicon, page)
            });
            let authorize = Url::parse("http://127.0.0.1:1/auth").expect("url");
            let got = browser
                .authorize(&authorize, &redirect)
                .await
                .expect("redirect");
            assert_eq!(got.path(), "/callback");
            assert_eq!(got.port(), Some(port));
            assert!(got.query_pairs().any(|(k, v)| k == "code" && v == "abc"));
            let (favicon, page) = client.await.expect("client");
            assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
            assert!(page.starts_with("HTTP/1.1 200"), "{page}");
            assert!(page.contains("Du är inloggad") && page.contains("You are logged in"));
        });
    }

    #[test]
    fn loopback_browser_refuses_non_loopback_redirects() {
        let rt = runtime().expect("runtime");
        rt.block_on(async {
            for bad in [
                "https://127.0.0.1/cb",
                "http://example.org/cb",
                "se.nara.app:/cb",
            ] {
                let url = Url::parse(bad).expect("url");
                assert!(
                    LoopbackBrowser::bind(Lang::En, &url).await.is_err(),
                    "{bad}"
                );
            }
        });
    }

    #[test]
    fn another_patients_store_has_an_exit_code_of_its_own_and_names_nobody() {
        use super::super::{content, device, form, notices};
        let e = sync_error(Lang::Sv, SyncError::AnotherPatient);
        let user = e.downcast_ref::<UserError>().expect("a user error");
        assert_eq!(user.code, EXIT_OTHER_PATIENT);
        assert!(
            user.lines[0].contains("en annan persons uppgifter"),
            "{user}"
        );
        assert!(user.lines[1].contains("another person's data"), "{user}");
        assert!(
            user.lines.iter().all(|l| l.contains("nara logout")),
            "{user}"
        );
        let others = [
            1,
            EXIT_INPUT,
            EXIT_LOGIN,
            EXIT_UNFINISHED,
            EXIT_UNSYNCED,
            notices::EXIT_NOT_FOUND,
            notices::EXIT_TOO_LATE,
            notices::EXIT_MOVED,
            notices::EXIT_REFUSED,
            form::EXIT_INVALID,
            form::EXIT_NOT_DOWNLOADED,
            form::EXIT_SUBMITTED,
            form::EXIT_UNUSABLE,
            content::EXIT_NOT_FOUND,
            device::EXIT_DECODE,
        ];
        assert!(!others.contains(&EXIT_OTHER_PATIENT), "{others:?}");
    }

    #[test]
    fn region_urls_follow_the_transport_rules() {
        let strict = transport_config(false);
        let dev = transport_config(true);
        assert!(region_url(Lang::En, "https://fhir.region.se/r4", &strict).is_ok());
        assert!(region_url(Lang::En, "http://127.0.0.1:8080/fhir", &strict).is_err());
        assert!(region_url(Lang::En, "http://127.0.0.1:8080/fhir", &dev).is_ok());
        assert!(region_url(Lang::En, "http://example.org/fhir", &dev).is_err());
        assert!(region_url(Lang::En, "not a url", &dev).is_err());
    }
}
