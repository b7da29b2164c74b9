//! End-to-end tests of the `nara` binary.

mod common;

use std::process::Command;

use common::{nara, stdout};

#[test]
fn demo_runs_and_finds_no_plaintext() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = nara(&tmp.path().join("unused"), &["demo", "--offline"]);
    let out = stdout(&o);
    assert!(
        o.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.lines().any(|l| l.trim() == "0 plaintext hits"), "{out}");
    assert!(out.contains("13/14"), "{out}");
    assert!(out.contains("integrity_ok: true"), "{out}");
}

#[test]
fn add_list_and_validation() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");

    let o = nara(&dir, &["init"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("created"));

    let o = nara(
        &dir,
        &["reading", "add", "bp", "142/91", "--pulse", "72", "--json"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["triage"]["band"], "yellow");

    let o = nara(&dir, &["reading", "add", "bp", "400/90"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!o.stderr.is_empty());

    let o = nara(&dir, &["reading", "list", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(1));
}

#[test]
fn passphrase_provider_works() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_nara"))
            .arg("--data-dir")
            .arg(&dir)
            .args(args)
            .env("NARA_PASSPHRASE", "correct horse battery staple")
            .output()
            .expect("run nara")
    };
    let o = run(&["reading", "add", "weight", "180", "--unit", "lb", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["measurement"]["kg"], 81.6);
    assert!(
        !tmp.path().join("nara-keys").exists(),
        "no key file with a passphrase"
    );
}

#[test]
fn status_without_login() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let o = nara(&dir, &["status", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["logged_in"], false);
    assert_eq!(v["login_required"], false);
    assert_eq!(v["pending"], 0);
    assert!(v.get("last_success").is_none(), "{v}");

    let o = nara(&dir, &["--lang", "en", "status"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    assert!(out.contains("Logged in") && out.contains("never"), "{out}");
    assert!(out.contains("nara login --region URL"), "{out}");
}

#[test]
fn sync_without_login_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let o = nara(&dir, &["reading", "add", "weight", "82.4"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = nara(&dir, &["--lang", "en", "sync"]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("Not logged in to a region"), "{err}");
    assert!(err.contains("Inte inloggad"), "both languages: {err}");
    assert!(err.contains("nara login --region URL"), "{err}");
    assert!(o.stdout.is_empty(), "nothing on stdout: {}", stdout(&o));
    // The reading is still waiting.
    let o = nara(&dir, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["pending"], 1);
}

#[test]
fn login_refuses_insecure_urls() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    // --dev-http allows http only to loopback.
    let o = nara(
        &dir,
        &[
            "--lang",
            "en",
            "login",
            "--region",
            "http://example.org/fhir",
            "--test-login",
            "anna",
            "--dev-http",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("https://") && err.contains("--dev-http"),
        "{err}"
    );
    // Without --dev-http, not even loopback http.
    let o = nara(
        &dir,
        &[
            "login",
            "--region",
            "http://127.0.0.1:9/fhir",
            "--test-login",
            "anna",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let o = nara(&dir, &["login", "--region", "not a url"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let o = nara(&dir, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["logged_in"], false);
}

#[test]
fn logout_refuses_with_pending_uploads_unless_forced() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let o = nara(&dir, &["reading", "add", "bp", "128/82"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = nara(&dir, &["--lang", "sv", "logout"]);
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("1 ändringar (mätningar, meddelanden) har inte nått vårdteamet"),
        "{err}"
    );
    assert!(
        err.contains("1 changes (readings, messages) have not reached the care team"),
        "{err}"
    );
    let o = nara(&dir, &["reading", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(1), "nothing was wiped");

    let o = nara(&dir, &["logout", "--force", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["wiped"], true);
    assert_eq!(v["lost_unsynced"], 1);
}

#[test]
fn demo_continues_offline_when_the_region_is_unreachable() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = nara(
        &tmp.path().join("unused"),
        &[
            "--lang",
            "en",
            "demo",
            "--region",
            "http://127.0.0.1:9/fhir",
        ],
    );
    let out = stdout(&o);
    assert!(
        o.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("No contact with the region"), "{out}");
    assert!(out.contains("continues offline"), "{out}");
    assert!(out.lines().any(|l| l.trim() == "0 plaintext hits"), "{out}");
}

#[test]
fn chat_threads_are_empty_without_login() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let o = nara(&dir, &["--lang", "en", "chat", "threads"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    assert!(out.contains("No conversations yet"), "{out}");
    assert!(
        out.contains("112") && out.contains("1177"),
        "the emergency notice: {out}"
    );
    let o = nara(&dir, &["chat", "threads", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["threads"].as_array().map(Vec::len), Some(0), "{v}");
    assert_eq!(v["unread_total"], 0, "{v}");
}

#[test]
fn chat_send_to_an_unknown_thread_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let o = nara(
        &dir,
        &["--lang", "en", "chat", "send", "no-such-thread", "Hej"],
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("No such conversation"), "{err}");
    assert!(
        err.contains("Konversationen finns inte"),
        "both languages: {err}"
    );
    assert!(!err.contains("Hej"), "the text is never echoed: {err}");
    assert!(o.stdout.is_empty(), "nothing on stdout: {}", stdout(&o));
    let o = nara(&dir, &["chat", "show", "no-such-thread"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    // A photo that cannot be read is bad input too.
    let o = nara(
        &dir,
        &["chat", "send", "t", "Hej", "--photo", "/no/such/photo.jpg"],
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

/// A meter's "HI" typed by hand (`>33.3`) is stored as a bound, red, and listed as
/// "över 33.3", never as an exact 33.3; '>' on a blood pressure is refused.
#[test]
fn a_meters_hi_typed_by_hand_is_a_bound() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let o = nara(&dir, &["reading", "add", "glucose", ">33.3", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["triage"]["band"], "red", "{v}");
    assert_eq!(v["off_scale"][0]["comparator"], "above", "{v}");
    let o = nara(&dir, &["--lang", "sv", "reading", "list"]);
    let text = stdout(&o);
    assert!(text.contains("över 33.3 mmol/L"), "{text}");
    let o = nara(&dir, &["reading", "add", "bp", ">180/90"]);
    assert_eq!(o.status.code(), Some(2));
}
