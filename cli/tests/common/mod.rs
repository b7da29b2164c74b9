//! Helpers shared by the `nara` binary's tests: running the binary as a process on a
//! data dir, with its key file next to the data dir, and reading what it printed.

// Each test crate uses its own subset.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The key file of `data_dir`: `test.key` in its parent.
pub fn key(data_dir: &Path) -> PathBuf {
    data_dir
        .parent()
        .map(|p| p.join("test.key"))
        .unwrap_or_else(|| "test.key".into())
}

/// The `nara` command on `data_dir` with its key file, no passphrase in the
/// environment, no colour.
fn command(data_dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nara"));
    c.arg("--data-dir")
        .arg(data_dir)
        .arg("--key-file")
        .arg(key(data_dir))
        .args(args)
        .env_remove("NARA_PASSPHRASE")
        .env("NO_COLOR", "1");
    c
}

/// Runs `nara args` on `data_dir`.
pub fn nara(data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir, args).output().expect("run nara")
}

/// Runs `nara args` on `data_dir` on a terminal `columns` wide (`COLUMNS`).
pub fn nara_in_columns(data_dir: &Path, args: &[&str], columns: u16) -> Output {
    command(data_dir, args)
        .env("COLUMNS", columns.to_string())
        .output()
        .expect("run nara")
}

/// What the process printed on stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What the process printed, stdout then stderr.
pub fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The JSON on stdout of a process that succeeded (panics with its output otherwise).
pub fn json(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("json on stdout")
}
