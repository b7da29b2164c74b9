//! Crash-test helper: adds readings to a Nära store in a loop and acknowledges each
//! one on stdout (`<reading id> <counter>`) only after `add` returned `Ok`.
//!
//! Usage: `crash_writer <data dir> <key file> [first counter]`. It runs until killed.

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use nara_core::{FileKeyProvider, Nara};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args_os().skip(1);
    let dir = PathBuf::from(args.next().ok_or("missing data dir")?);
    let key = PathBuf::from(args.next().ok_or("missing key file")?);
    let first: u64 = match args.next() {
        Some(s) => s.to_str().ok_or("bad counter")?.parse()?,
        None => 0,
    };
    let nara = Nara::open(&dir, Arc::new(FileKeyProvider::new(key)))?;
    let stdout = std::io::stdout();
    for i in first.. {
        let reading = nara_tests::marker_reading(i, jiff::Timestamp::now());
        let saved = nara.readings().add(reading)?;
        let mut out = stdout.lock();
        writeln!(out, "{} {i}", saved.id)?;
        out.flush()?;
    }
    Ok(())
}
