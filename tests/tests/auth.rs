//! The SMART login against the real test region (oidc-provider behind the region's
//! SMART configuration): PKCE S256 only, `state` checked (forged, missing, another
//! login's, replayed), a code works once, one refresh for 100 concurrent callers, a dead
//! refresh token (revoked or expired) leads to a clean "login needed" with every reading
//! kept, and logout revokes at the provider and wipes the store.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use nara_core::Nara;
use nara_core::domain::reading::{Measurement, NewReading, Reading};
use nara_core::store::{DB_FILE, WRAPPED_KEY_FILE};
use nara_core::sync::auth::{self, AuthBrowser, AuthError, PendingLogin};
use nara_core::sync::engine::{LogoutError, SyncError};
use nara_core::sync::test_login::TestLoginBrowser;
use nara_core::sync::transport::{self};
use nara_tests::fault_proxy::{dev_transport, redirect_uri};
use nara_tests::region::{Region, fhir_json, open_phone, region, sync_finished};
use serde_json::Value;
use url::Url;

const CLIENT: &str = "nara-app";

fn http() -> reqwest::Client {
    transport::client(&dev_transport(), Duration::from_secs(30)).expect("client")
}

fn open(dir: &Path) -> Nara {
    open_phone(dir, "auth test")
}

fn browser(region: &Region) -> TestLoginBrowser {
    TestLoginBrowser::new(region.user.clone(), dev_transport())
}

async fn log_in(nara: &Nara, region: &Region) {
    let patient = nara
        .region()
        .login(&region.fhir(), CLIENT, &redirect_uri(), &browser(region))
        .await
        .expect("logs in");
    assert_eq!(patient, region.patient);
}

/// Starts a login and lets the test browser log in: the pending login and the redirect
/// the provider sent back for it (a real code and this login's state).
async fn redirect_for(nara: &Nara, region: &Region) -> (PendingLogin, Url) {
    let pending = nara
        .region()
        .begin_login(&region.fhir(), CLIENT, &redirect_uri())
        .await
        .expect("begins");
    let back = browser(region)
        .authorize(&pending.authorize_url, &redirect_uri())
        .await
        .expect("the provider redirects back");
    (pending, back)
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn with_params(url: &Url, set: &[(&str, Option<&str>)]) -> Url {
    let mut out = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !set.iter().any(|(name, _)| k == name))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = out.query_pairs_mut();
        q.clear();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        for (k, v) in set {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
    }
    out
}

/// POSTs a form to the provider; (status, JSON body or Null).
async fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = http()
        .post(url)
        .form(form)
        .send()
        .await
        .expect("the provider answers");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Whether the provider says `token` is active (introspection as the app itself, which
/// oidc-provider allows for the client's own tokens).
async fn active(region: &Region, token: &str) -> bool {
    let (status, body) = post_form(
        &format!("{}/token/introspection", region.auth_url),
        &[("token", token), ("client_id", CLIENT)],
    )
    .await;
    assert_eq!(status, 200, "introspection: {body}");
    body["active"].as_bool().expect("an `active` field")
}

/// Revokes `token` at the provider (revoking an access or refresh token revokes its
/// whole grant there).
async fn revoke_at_provider(region: &Region, token: &str) {
    let (status, body) = post_form(
        &format!("{}/token/revocation", region.auth_url),
        &[("token", token), ("client_id", CLIENT)],
    )
    .await;
    assert_eq!(status, 200, "revocation: {body}");
}

/// The status of a token-checked FHIR read at the front with `token`.
async fn front_status(region: &Region, token: &str) -> u16 {
    http()
        .get(format!(
            "{}/Observation?patient={}&_count=1",
            region.fhir_url, region.patient
        ))
        .bearer_auth(token)
        .header("Accept", "application/fhir+json")
        .send()
        .await
        .expect("the front answers")
        .status()
        .as_u16()
}

fn heart_rate(bpm: f64) -> NewReading {
    NewReading::manual(
        Measurement::HeartRate { bpm },
        Timestamp::now(),
        jiff::tz::Offset::UTC,
    )
}

/// How many Observations with this reading's client id the server holds (read directly).
async fn copies_on_server(region: &Region, reading: &Reading) -> usize {
    let url = format!(
        "{}/Observation?identifier=urn:ietf:rfc:3986|urn:uuid:{}",
        region.fhir_direct_url, reading.id
    );
    let bundle = fhir_json(&http(), url).await;
    bundle["entry"].as_array().map_or(0, Vec::len)
}

fn assert_state_mismatch(result: Result<String, SyncError>) {
    match result {
        Err(SyncError::Auth(AuthError::StateMismatch)) => {}
        other => panic!("expected StateMismatch, got {other:?}"),
    }
}

fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_region_offers_only_s256_and_the_core_asks_for_it() {
    let region = region();
    let config = auth::discover(&http(), &region.fhir(), &dev_transport())
        .await
        .expect("discovers");
    assert_eq!(config.code_challenge_methods_supported, ["S256"]);

    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(dir.path());
    let pending = nara
        .region()
        .begin_login(&region.fhir(), CLIENT, &redirect_uri())
        .await
        .expect("begins");
    let url = &pending.authorize_url;
    assert_eq!(param(url, "code_challenge_method").as_deref(), Some("S256"));
    let challenge = param(url, "code_challenge").expect("a challenge");
    assert_eq!(challenge.len(), 43, "base64url of a SHA-256 digest");
    assert!(
        challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(param(url, "prompt").as_deref(), Some("consent"));
    assert_eq!(param(url, "aud").as_deref(), Some(region.fhir_url.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_refuses_a_login_without_s256() {
    let region = region();
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(dir.path());
    let pending = nara
        .region()
        .begin_login(&region.fhir(), CLIENT, &redirect_uri())
        .await
        .expect("begins");
    let verifier = "a-plain-verifier-that-is-long-enough-for-pkce-0123456789";
    for downgrade in [
        with_params(
            &pending.authorize_url,
            &[
                ("code_challenge_method", Some("plain")),
                ("code_challenge", Some(verifier)),
            ],
        ),
        with_params(
            &pending.authorize_url,
            &[("code_challenge_method", None), ("code_challenge", None)],
        ),
    ] {
        let back = browser(region)
            .authorize(&downgrade, &redirect_uri())
            .await
            .expect("the provider redirects back with an error");
        assert_eq!(param(&back, "code"), None, "no code without S256");
        assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intercepted_code_is_useless_without_the_verifier() {
    let region = region();
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(dir.path());
    let (pending, back) = redirect_for(&nara, region).await;
    let code = param(&back, "code").expect("a code");

    // An attacker who caught the redirect but not the verifier.
    let steal = || async {
        post_form(
            &format!("{}/token", region.auth_url),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect_uri().as_str()),
                ("client_id", CLIENT),
                ("code_verifier", &base64url(&[7u8; 32])),
            ],
        )
        .await
    };
    let (status, body) = steal().await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert!(body.get("access_token").is_none());

    // The app, holding the verifier, logs in with the same code.
    let patient = nara
        .region()
        .finish_login(pending, &back)
        .await
        .expect("the app's own exchange works");
    assert_eq!(patient, region.patient);
    // After that the code is spent for everyone.
    let (status, body) = steal().await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_missing_and_foreign_state_are_refused_and_the_code_is_not_used() {
    let region = region();
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(dir.path());
    let (a, back) = redirect_for(&nara, region).await;
    let code = param(&back, "code").expect("a code");

    // Login B (started on the same device) receives login A's redirect.
    let b = nara
        .region()
        .begin_login(&region.fhir(), CLIENT, &redirect_uri())
        .await
        .expect("begins");
    assert_ne!(
        param(&a.authorize_url, "state"),
        param(&b.authorize_url, "state")
    );
    assert_state_mismatch(nara.region().finish_login(b, &back).await);

    // A's code with a forged or no state, each against a fresh login.
    for bad in [
        with_params(&back, &[("state", Some("forged-state-0123456789abcdef"))]),
        with_params(&back, &[("state", None)]),
        with_params(&back, &[("state", Some(""))]),
    ] {
        assert_eq!(param(&bad, "code").as_deref(), Some(code.as_str()));
        let fresh = nara
            .region()
            .begin_login(&region.fhir(), CLIENT, &redirect_uri())
            .await
            .expect("begins");
        assert_state_mismatch(nara.region().finish_login(fresh, &bad).await);
    }
    assert!(!nara.region().status().expect("status").logged_in);

    // None of that used the code (a code works once): A's own login still succeeds.
    let patient = nara
        .region()
        .finish_login(a, &back)
        .await
        .expect("the untouched code still works for its own login");
    assert_eq!(patient, region.patient);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_redirect_is_refused_and_a_code_works_only_once() {
    let region = region();
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(dir.path());
    let (a, back) = redirect_for(&nara, region).await;
    nara.region().finish_login(a, &back).await.expect("logs in");
    let token = nara.region().access_token().await.expect("a token");

    // The same redirect again, to a new login: its state belongs to a finished login.
    let again = nara
        .region()
        .begin_login(&region.fhir(), CLIENT, &redirect_uri())
        .await
        .expect("begins");
    assert_state_mismatch(nara.region().finish_login(again, &back).await);
    // The session is untouched by the refused replay.
    assert!(nara.region().status().expect("status").logged_in);
    assert_eq!(nara.region().access_token().await.expect("token"), token);

    // At the provider, the code is spent: a second exchange (even with a verifier that
    // matches, made here) fails. Drive a login with our own PKCE pair to hold both.
    let verifier = base64url(&[42u8; 32]);
    let challenge =
        base64url(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref());
    let pending = nara
        .region()
        .begin_login(&region.fhir(), CLIENT, &redirect_uri())
        .await
        .expect("begins");
    let ours = with_params(
        &pending.authorize_url,
        &[("code_challenge", Some(&challenge))],
    );
    let back = browser(region)
        .authorize(&ours, &redirect_uri())
        .await
        .expect("redirects back");
    let code = param(&back, "code").expect("a code");
    let exchange = || async {
        post_form(
            &format!("{}/token", region.auth_url),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect_uri().as_str()),
                ("client_id", CLIENT),
                ("code_verifier", &verifier),
            ],
        )
        .await
    };
    let (status, first) = exchange().await;
    assert_eq!(status, 200, "{first}");
    let first_access = first["access_token"].as_str().expect("an access token");
    assert!(active(region, first_access).await);
    let (status, second) = exchange().await;
    assert_eq!(
        (status, second["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        !active(region, first_access).await,
        "a replayed code revokes what the code gave"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_refresh_serves_100_concurrent_callers() {
    let region = region();
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = Arc::new(open(dir.path()));
    log_in(&nara, region).await;
    let before_token = nara.region().access_token().await.expect("a token");

    for round in 1..=2u64 {
        let before = nara.region().refresh_count();
        nara.region().drop_access_token().await;
        let start = Arc::new(tokio::sync::Barrier::new(100));
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..100 {
            let (nara, start) = (nara.clone(), start.clone());
            calls.spawn(async move {
                start.wait().await;
                nara.region().access_token().await
            });
        }
        let mut tokens = Vec::new();
        while let Some(joined) = calls.join_next().await {
            tokens.push(joined.expect("joins").expect("a token"));
        }
        assert_eq!(tokens.len(), 100);
        assert_eq!(
            nara.region().refresh_count(),
            before + 1,
            "round {round}: exactly one refresh"
        );
        assert!(
            tokens.iter().all(|t| *t == tokens[0]),
            "round {round}: every caller got the same token"
        );
        assert_ne!(tokens[0], before_token, "a new token");
        assert_eq!(front_status(region, &tokens[0]).await, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_login_needs_a_new_login_and_loses_no_reading() {
    let region = region();
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(dir.path());
    log_in(&nara, region).await;
    let readings: Vec<Reading> = (0..3)
        .map(|i| {
            nara.readings()
                .add(heart_rate(60.0 + f64::from(i)))
                .expect("stored")
        })
        .collect();

    // The region revokes the login (the grant, with its refresh token).
    let token = nara.region().access_token().await.expect("a token");
    revoke_at_provider(region, &token).await;
    assert!(!active(region, &token).await);

    // The sync meets a 401, tries one refresh, and stops cleanly.
    let err = nara
        .region()
        .sync_now(Duration::from_secs(60), |_| {})
        .await
        .expect_err("the login is gone");
    assert!(matches!(err, SyncError::LoginRequired), "{err:?}");
    let status = nara.region().status().expect("status");
    assert!(status.login_required, "{status:?}");
    assert!(status.logged_in, "the session (region, patient) is kept");
    assert_eq!(status.pending, 3, "every reading still waits");
    assert_eq!(nara.readings().count().expect("count"), 3);
    for r in &readings {
        assert_eq!(copies_on_server(region, r).await, 0);
    }
    // Asking again does not hammer the provider: no refresh token, no request.
    let refreshes = nara.region().refresh_count();
    assert!(matches!(
        nara.region().access_token().await,
        Err(SyncError::LoginRequired)
    ));
    assert_eq!(nara.region().refresh_count(), refreshes);

    // A new login, then the waiting readings go up, once each.
    log_in(&nara, region).await;
    assert!(!nara.region().status().expect("status").login_required);
    let report = sync_finished(&nara, Duration::from_secs(60)).await;
    assert_eq!(report.created, 3);
    for r in &readings {
        assert_eq!(copies_on_server(region, r).await, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_refuses_with_pending_readings_then_wipes() {
    let region = region();
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(dir.path());
    log_in(&nara, region).await;
    let reading = nara.readings().add(heart_rate(72.0)).expect("stored");

    let err = nara
        .logout(false)
        .await
        .expect_err("a reading has not reached the care team");
    // Nothing was revoked or wiped, and the open store comes back.
    let LogoutError::Unsynced { pending: 1, nara } = err else {
        panic!("expected a refusal with one pending reading, got {err:?}");
    };
    assert!(dir.path().join(DB_FILE).exists());
    let status = nara.region().status().expect("status");
    assert!(status.logged_in && !status.login_required, "{status:?}");
    assert_eq!(status.pending, 1);

    let report = nara
        .region()
        .sync_now(Duration::from_secs(60), |_| {})
        .await
        .expect("syncs");
    assert_eq!(report.created, 1);
    assert_eq!(copies_on_server(region, &reading).await, 1);
    let token = nara.region().access_token().await.expect("a token");
    assert!(active(region, &token).await);
    assert_eq!(front_status(region, &token).await, 200);

    nara.logout(false).await.expect("logs out");
    // Wiped: no database and no wrapped key left.
    assert!(!dir.path().join(DB_FILE).exists(), "the database is gone");
    assert!(
        !dir.path().join(WRAPPED_KEY_FILE).exists(),
        "the key is gone"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .filter(|n| n.to_string_lossy().starts_with(DB_FILE))
        .collect();
    assert!(left.is_empty(), "no WAL or journal either: {left:?}");
    // The reading reached the care team before the wipe.
    assert_eq!(copies_on_server(region, &reading).await, 1);
}

/// Logout revokes at the provider (an RFC 7009 POST through the core's transport, so it
/// works wherever the transport allows the region, loopback http included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_login_at_the_provider() {
    let region = region();
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(dir.path());
    log_in(&nara, region).await;
    let token = nara.region().access_token().await.expect("a token");
    assert!(active(region, &token).await);
    assert_eq!(front_status(region, &token).await, 200);

    nara.logout(false).await.expect("logs out");
    // Revoked at the provider: the refresh token's grant is gone, and with it every
    // token it gave.
    assert!(!active(region, &token).await, "the login was revoked");
    assert_eq!(front_status(region, &token).await, 401);
    assert!(!dir.path().join(DB_FILE).exists(), "and wiped");
}

/// Seconds a refresh token (and grant, and login session) lives in the short region.
const SHORT_REFRESH_TTL: u64 = 8;

fn short_region_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .join("target/region-auth-expiry")
}

/// A second region whose tokens expire within seconds (its own state dir and ports):
/// `NARA_ACCESS_TTL=2`, `NARA_REFRESH_TTL=8`.
fn short_lived_region() -> Region {
    let refresh_ttl = SHORT_REFRESH_TTL.to_string();
    nara_tests::region::start(
        Some(&short_region_dir()),
        &[("NARA_ACCESS_TTL", "2"), ("NARA_REFRESH_TTL", &refresh_ttl)],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_refresh_token_needs_a_new_login_and_loses_no_reading() {
    let region = tokio::task::spawn_blocking(short_lived_region)
        .await
        .expect("starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(dir.path());
    log_in(&nara, &region).await;
    let readings: Vec<Reading> = (0..3)
        .map(|i| {
            nara.readings()
                .add(heart_rate(70.0 + f64::from(i)))
                .expect("stored")
        })
        .collect();

    // Offline for longer than the refresh token lives.
    tokio::time::sleep(Duration::from_secs(SHORT_REFRESH_TTL + 2)).await;
    let refreshes = nara.region().refresh_count();
    let err = nara
        .region()
        .sync_now(Duration::from_secs(60), |_| {})
        .await
        .expect_err("the login has expired");
    assert!(matches!(err, SyncError::LoginRequired), "{err:?}");
    assert_eq!(
        nara.region().refresh_count(),
        refreshes + 1,
        "one refresh was tried and refused"
    );
    let status = nara.region().status().expect("status");
    assert!(status.logged_in && status.login_required, "{status:?}");
    assert_eq!(status.pending, 3, "every reading still waits");
    for r in &readings {
        assert_eq!(copies_on_server(&region, r).await, 0);
    }

    // A new login, then the waiting readings go up, once each.
    log_in(&nara, &region).await;
    let report = sync_finished(&nara, Duration::from_secs(60)).await;
    assert_eq!((report.created, report.already_there), (3, 0));
    assert!(!nara.region().status().expect("status").login_required);
    for r in &readings {
        assert_eq!(copies_on_server(&region, r).await, 1);
    }
    let _ = Command::new(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("region")
            .join("down"),
    )
    .env("NARA_REGION_DIR", short_region_dir())
    .output();
}
