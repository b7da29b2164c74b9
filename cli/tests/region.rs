//! End-to-end tests of `nara login | sync | status | logout` and `nara demo` against the
//! real test region (`tests/region/up`: the FHIR server, the OAuth provider and the
//! token-checking front on loopback; it installs what it needs into its cache). Nothing
//! is skipped: when the region cannot start, these tests fail with the script's output.

mod common;

use common::{json, nara, out};

/// The running test region (started once per process by `tests/region/up`).
fn region() -> &'static nara_tests::region::Region {
    nara_tests::region::region()
}

#[test]
fn login_sync_status_logout() {
    let env = region();
    let url = &env.fhir_url;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");

    let v = json(&nara(
        &dir,
        &[
            "login",
            "--region",
            url,
            "--test-login",
            &env.user,
            "--dev-http",
            "--json",
        ],
    ));
    assert_eq!(v["logged_in"], true);
    assert_eq!(v["patient"], env.patient.as_str());

    json(&nara(
        &dir,
        &["reading", "add", "bp", "142/91", "--pulse", "72", "--json"],
    ));
    json(&nara(&dir, &["reading", "add", "weight", "82.4", "--json"]));
    let v = json(&nara(&dir, &["status", "--json"]));
    assert_eq!(v["logged_in"], true);
    assert_eq!(v["pending"], 2);
    assert_eq!(v["region"], url.as_str());

    // No time left: the sync stops cleanly, says so and exits 4; nothing is lost.
    let o = nara(&dir, &["--lang", "en", "sync", "--budget-secs", "0"]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("did not finish: 2 changes"), "{err}");
    let v = json(&nara(&dir, &["status", "--json"]));
    assert_eq!(v["pending"], 2, "{v}");
    assert!(
        v["last_error"].is_string(),
        "the unfinished sync is remembered: {v}"
    );

    // --dev-http was remembered at login: sync needs no flag.
    let v = json(&nara(&dir, &["sync", "--json"]));
    let report = &v["report"];
    assert_eq!(report["finished"], true, "{v}");
    assert_eq!(
        report["created"].as_u64().unwrap_or(0) + report["already_there"].as_u64().unwrap_or(0),
        2,
        "{v}"
    );
    assert_eq!(report["rejected"], 0, "{v}");
    assert_eq!(report["remaining"], 0, "{v}");

    let v = json(&nara(&dir, &["status", "--json"]));
    assert_eq!(v["logged_in"], true, "{v}");
    assert_eq!(v["login_required"], false, "{v}");
    assert_eq!(v["pending"], 0, "{v}");
    assert_eq!(v["failed"].as_array().map(Vec::len), Some(0), "{v}");
    assert!(
        v["last_success"].as_str().is_some_and(|s| !s.is_empty()),
        "a last success: {v}"
    );
    assert!(
        v.get("last_error").is_none(),
        "cleared by the finished sync: {v}"
    );

    // The human table too.
    let o = nara(&dir, &["--lang", "en", "sync"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Created at the region") && out.contains("Bytes sent"),
        "{out}"
    );

    // A reading not yet uploaded blocks the logout; after a sync it goes.
    json(&nara(&dir, &["reading", "add", "glucose", "6.1", "--json"]));
    let o = nara(&dir, &["logout"]);
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    json(&nara(&dir, &["sync", "--json"]));
    let v = json(&nara(&dir, &["logout", "--json"]));
    assert_eq!(v["logged_out"], true);
    assert_eq!(v["lost_unsynced"], 0);
    let v = json(&nara(&dir, &["status", "--json"]));
    assert_eq!(v["logged_in"], false, "{v}");
    assert!(v["region"].is_null(), "CLI settings removed: {v}");
}

/// One patient per data dir: a reading added before any login goes with the first
/// patient; `nara login` as another patient exits 14 with a text that names nobody and
/// keeps nothing (status still shows the first patient); the first patient logs in
/// again and the reading reaches the region.
#[test]
fn a_login_as_another_patient_exits_14_and_keeps_the_first_patients_login() {
    let env = region();
    let url = &env.fhir_url;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let login = |lang: &str, user: &str| {
        nara(
            &dir,
            &[
                "--lang",
                lang,
                "login",
                "--region",
                url,
                "--test-login",
                user,
                "--dev-http",
            ],
        )
    };

    json(&nara(&dir, &["reading", "add", "weight", "71.5", "--json"]));
    let o = login("en", &env.user);
    assert!(o.status.success(), "{}", out(&o));

    for (lang, says) in [
        ("en", "holds another person's data"),
        ("sv", "har en annan persons uppgifter"),
    ] {
        let o = login(lang, "bertil");
        assert_eq!(o.status.code(), Some(14), "{}", out(&o));
        let text = out(&o);
        assert!(text.contains(says), "{text}");
        assert!(text.contains("nara logout"), "{text}");
        assert!(
            !text.contains("bertil") && !text.contains(&env.patient),
            "names nobody: {text}"
        );
    }

    let v = json(&nara(&dir, &["status", "--json"]));
    assert_eq!(v["logged_in"], true, "{v}");
    assert_eq!(v["patient"], env.patient.as_str(), "{v}");
    assert_eq!(v["pending"], 1, "{v}");

    let o = login("en", &env.user);
    assert!(o.status.success(), "the first patient again: {}", out(&o));
    let v = json(&nara(&dir, &["sync", "--json"]));
    assert_eq!(v["report"]["created"], 1, "{v}");
    assert_eq!(v["status"]["patient"], env.patient.as_str(), "{v}");
}

#[test]
fn demo_starts_the_region_logs_in_and_syncs() {
    // Make sure the region runs before the demo's own `tests/region/up` reuses it (two
    // starts at once would race).
    region();
    let tmp = tempfile::tempdir().expect("tempdir");
    let v = json(&nara(&tmp.path().join("unused"), &["demo", "--json"]));
    let region = &v["region"];
    assert_eq!(region["offline"], false, "{v}");
    assert_eq!(region["report"]["finished"], true, "{v}");
    // Every reading reached the region once (the story's one correction also withdraws
    // the reading it replaced), and nothing was refused.
    let report = &region["report"];
    let readings = v["readings"].as_u64().unwrap_or(u64::MAX);
    assert_eq!(report["created"].as_u64(), Some(readings), "{v}");
    assert_eq!(report["withdrawn"], 1, "{v}");
    assert_eq!(report["rejected"], 0, "{v}");
    assert_eq!(
        region["status"]["failed"].as_array().map(Vec::len),
        Some(0),
        "{v}"
    );
    assert_eq!(region["status"]["pending"], 0, "{v}");
    assert!(region["status"]["last_success"].is_string(), "{v}");
    // The chat step: the nurse opened a thread, read Anna's offline message and
    // replied; the demo showed the reply and the message as read.
    let chat = &v["chat"];
    assert_eq!(chat["skipped"], false, "{v}");
    assert_eq!(chat["delivery_after_upload"], "sent", "{v}");
    assert_eq!(chat["delivery"], "read", "{v}");
    assert_eq!(chat["reply_shown"], true, "{v}");
    // At least the reply (a region reused from earlier runs keeps their replies too).
    assert!(chat["marked_read"].as_u64().is_some_and(|n| n >= 1), "{v}");
    assert_eq!(v["plaintext_hits"], 0);
    assert_eq!(v["integrity_ok"], true);
}
