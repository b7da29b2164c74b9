//! End-to-end tests of the `nara` binary.

use std::path::Path;
use std::process::{Command, Output};

fn nara(data_dir: &Path, args: &[&str]) -> Output {
    let key = data_dir
        .parent()
        .map(|p| p.join("test.key"))
        .unwrap_or_else(|| "test.key".into());
    Command::new(env!("CARGO_BIN_EXE_nara"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--key-file")
        .arg(key)
        .args(args)
        .env_remove("NARA_PASSPHRASE")
        .env("NO_COLOR", "1")
        .output()
        .expect("run nara")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn demo_runs_and_finds_no_plaintext() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = nara(&tmp.path().join("unused"), &["demo"]);
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
