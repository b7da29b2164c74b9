//! Story: a phone killed mid-write never loses an acknowledged reading.
//!
//! A child process adds readings in a loop and acknowledges each on stdout after `add`
//! returned `Ok`; it is SIGKILLed after a random delay, over and over, on the same data
//! directory. Every acknowledged reading must then be in the store, intact.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nara_core::domain::reading::ReadingId;
use nara_core::{FileKeyProvider, Nara};
use nara_tests::{SplitMix64, marker_note};

fn open(dir: &Path, key: &Path) -> Nara {
    let nara =
        Nara::open(dir, Arc::new(FileKeyProvider::new(key))).expect("store opens after a kill");
    assert!(
        nara.open_report().quarantined.is_none(),
        "nothing may be moved aside: {:?}",
        nara.open_report()
    );
    nara
}

fn verify(dir: &Path, key: &Path, acked: &HashMap<ReadingId, u64>) {
    let nara = open(dir, key);
    assert!(
        nara.integrity_ok().expect("integrity check runs"),
        "integrity check fails"
    );
    for (id, i) in acked {
        let r = nara
            .readings()
            .get(*id)
            .expect("get works")
            .unwrap_or_else(|| panic!("acknowledged reading {id} (counter {i}) is lost"));
        assert_eq!(
            r.note.as_deref(),
            Some(marker_note(*i).as_str()),
            "reading {id} has the wrong note"
        );
    }
    assert!(nara.readings().count().expect("count works") >= acked.len() as u64);
}

#[test]
fn a_phone_killed_mid_write_never_loses_an_acknowledged_reading() {
    let cycles: u64 = std::env::var("NARA_CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("NARA_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_nanosecond() as u64);
    println!("crash test: {cycles} cycles, seed {seed} (rerun with NARA_CRASH_SEED={seed})");
    let mut rng = SplitMix64::new(seed);

    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");
    let key = tmp.path().join("keys").join("kek");
    // Create the store (and its key) once, so every kill hits an existing store.
    drop(open(&dir, &key));

    let started = Instant::now();
    let mut acked: HashMap<ReadingId, u64> = HashMap::new();
    let mut killed_with_acks = 0u64;
    for cycle in 0..cycles {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash_writer"))
            .arg(&dir)
            .arg(&key)
            .arg((cycle * 1_000_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("writer starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let reader = std::thread::spawn(move || {
            let mut acks = Vec::new();
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    // A line cut short by the kill is not an acknowledgement.
                    Ok(_) if !line.ends_with('\n') => break,
                    Ok(_) => {
                        let mut parts = line.split_whitespace();
                        let id = parts
                            .next()
                            .and_then(ReadingId::parse)
                            .expect("ack has an id");
                        let i: u64 = parts
                            .next()
                            .and_then(|s| s.parse().ok())
                            .expect("ack has a counter");
                        acks.push((id, i));
                    }
                }
            }
            acks
        });
        std::thread::sleep(Duration::from_millis(rng.below_or_eq(40)));
        let _ = child.kill();
        let status = child.wait().expect("writer reaped");
        let acks = reader.join().expect("reader thread");
        if status.code().is_some() {
            // It exited by itself before the kill: only an error does that.
            panic!("writer exited on its own in cycle {cycle}: {status}");
        }
        if !acks.is_empty() {
            killed_with_acks += 1;
        }
        for (id, i) in acks {
            assert!(acked.insert(id, i).is_none(), "id {id} acknowledged twice");
        }
        if (cycle + 1) % 20 == 0 || cycle + 1 == cycles {
            verify(&dir, &key, &acked);
        }
    }
    println!(
        "crash test: {} acknowledged readings over {cycles} kills ({killed_with_acks} cycles with acks) in {:?}",
        acked.len(),
        started.elapsed()
    );
    assert!(
        cycles == 0 || !acked.is_empty(),
        "the writer never acknowledged anything: test is vacuous"
    );
}
