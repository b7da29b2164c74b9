//! Story: nothing a patient entered is readable on disk, a logout leaves nothing behind,
//! and a wrong key changes nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::Offset;
use nara_core::domain::reading::{Measurement, NewReading};
use nara_core::store::{DB_FILE, StoreError, WRAPPED_KEY_FILE};
use nara_core::{FileKeyProvider, KeyProvider, Nara, NaraError};

const READINGS: u64 = 50;

fn note(i: u64) -> String {
    format!("canary-7f3a-{i}")
}

/// Byte strings that must never appear on disk.
fn markers() -> Vec<Vec<u8>> {
    let mut m: Vec<Vec<u8>> = (0..READINGS).map(|i| note(i).into_bytes()).collect();
    m.push(b"canary-7f3a-glucose".to_vec());
    // Plain serializations of the values and kinds.
    for s in [
        "\"systolic\"",
        "\"diastolic\"",
        "blood_pressure",
        "blood_glucose",
        "mmol_per_l",
    ] {
        m.push(s.as_bytes().to_vec());
    }
    m
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// (file, marker) pairs where a marker's bytes were found.
fn hits(dir: &Path) -> Vec<(PathBuf, String)> {
    let markers = markers();
    let mut found = Vec::new();
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).expect("read file");
        for m in &markers {
            if bytes.windows(m.len()).any(|w| w == m.as_slice()) {
                found.push((file.clone(), String::from_utf8_lossy(m).into_owned()));
            }
        }
    }
    found
}

fn add_canaries(nara: &Nara) {
    let at = Timestamp::now();
    for i in 0..READINGS {
        let mut r = NewReading::manual(
            Measurement::BloodPressure {
                systolic: 187.0,
                diastolic: 123.0,
                pulse: Some(97.0),
            },
            at,
            Offset::UTC,
        );
        r.note = Some(note(i));
        nara.readings().add(r).expect("add");
    }
    let mut g = NewReading::manual(
        Measurement::BloodGlucose { mmol_per_l: 17.3 },
        at,
        Offset::UTC,
    );
    g.note = Some("canary-7f3a-glucose".into());
    nara.readings().add(g).expect("add glucose");
}

#[test]
fn no_plaintext_on_disk_and_nothing_left_after_wipe() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");
    let key = tmp.path().join("kek");
    let nara = Nara::open(&dir, Arc::new(FileKeyProvider::new(&key))).expect("open");
    add_canaries(&nara);
    assert_eq!(nara.readings().count().expect("count"), READINGS + 1);

    // The scan itself must be able to see something: the WAL is there while open.
    assert!(
        dir.join("nara.db-wal").exists(),
        "expected a WAL while open"
    );
    assert_eq!(hits(&dir), vec![], "plaintext found on disk while open");

    // And after a close (checkpoint into the main file).
    drop(nara);
    assert_eq!(hits(&dir), vec![], "plaintext found on disk after close");

    let nara = Nara::open(&dir, Arc::new(FileKeyProvider::new(&key))).expect("reopen");
    assert_eq!(nara.readings().count().expect("count"), READINGS + 1);
    nara.wipe().expect("wipe");
    for f in [DB_FILE, "nara.db-wal", "nara.db-shm", WRAPPED_KEY_FILE] {
        assert!(!dir.join(f).exists(), "{f} is still there after wipe");
    }
    assert!(!key.exists(), "the platform key is still there after wipe");
    if dir.exists() {
        assert_eq!(hits(&dir), vec![], "plaintext left behind after wipe");
    }
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).expect("read file");
            (f, bytes)
        })
        .collect()
}

#[test]
fn a_wrong_key_is_a_typed_error_and_changes_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");
    let key = tmp.path().join("kek");
    let other_key = tmp.path().join("other-kek");
    {
        let nara = Nara::open(&dir, Arc::new(FileKeyProvider::new(&key))).expect("open");
        add_canaries(&nara);
    }
    // A different, valid key file (a missing one would mean "key lost", not "wrong key").
    let other = FileKeyProvider::new(&other_key);
    other.wrap(&[7u8; 32]).expect("creates the other key file");
    assert!(other_key.exists());

    let before = snapshot(&dir);
    assert!(before.contains_key(&dir.join(DB_FILE)));
    let err = Nara::open(&dir, Arc::new(other)).expect_err("a wrong key must not open the store");
    assert!(
        matches!(err, NaraError::Store(StoreError::WrongKey)),
        "expected WrongKey, got {err:?}"
    );
    assert_eq!(
        snapshot(&dir),
        before,
        "a failed open changed files on disk"
    );

    // The right key still opens it, with everything there.
    let nara = Nara::open(&dir, Arc::new(FileKeyProvider::new(&key))).expect("right key opens");
    assert!(nara.open_report().quarantined.is_none());
    assert_eq!(nara.readings().count().expect("count"), READINGS + 1);
    assert!(nara.integrity_ok().expect("integrity"));
}
