//! The log bridge: the core's `tracing` lines reach the shell's sink, filtered by level.
//! (Its own test binary: the bridge installs the process-wide subscriber.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nara_ffi::errors::{CallbackError, KeyError};
use nara_ffi::keys::KeyProvider;
use nara_ffi::logging::{LogLevel, LogSink, set_log_level};
use nara_ffi::nara::Nara;
use nara_ffi::platform::{RuntimeMode, init_platform};

struct XorKeys;

impl KeyProvider for XorKeys {
    fn wrap(&self, k: Vec<u8>) -> Result<Vec<u8>, KeyError> {
        Ok(k.iter().map(|b| b ^ 0x42).collect())
    }
    fn unwrap_key(&self, k: Vec<u8>) -> Result<Vec<u8>, KeyError> {
        Ok(k.iter().map(|b| b ^ 0x42).collect())
    }
    fn forget(&self) -> Result<(), KeyError> {
        Ok(())
    }
}

#[derive(Default)]
struct Lines(Mutex<Vec<(LogLevel, String, String)>>);

impl LogSink for Lines {
    fn log(&self, level: LogLevel, target: String, message: String) -> Result<(), CallbackError> {
        self.0.lock().expect("lock").push((level, target, message));
        Ok(())
    }
}

fn opened(lines: &Lines) -> usize {
    lines
        .0
        .lock()
        .expect("lock")
        .iter()
        .filter(|(_, _, m)| m.starts_with("store opened"))
        .count()
}

fn marker_seen(lines: &Lines) -> bool {
    lines
        .0
        .lock()
        .expect("lock")
        .iter()
        .any(|(level, _, m)| *level == LogLevel::Warn && m.contains("test marker"))
}

#[test]
fn core_log_lines_reach_the_sink_above_the_level_only() {
    let lines = Arc::new(Lines::default());
    init_platform(RuntimeMode::Light, LogLevel::Info, Some(lines.clone())).expect("first init");
    assert!(init_platform(RuntimeMode::Full, LogLevel::Info, Some(lines.clone())).is_err());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("test runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().display().to_string();
    rt.block_on(async {
        let nara = Nara::open(path.clone(), Arc::new(XorKeys))
            .await
            .expect("opens");
        for _ in 0..200 {
            if opened(&lines) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(opened(&lines), 1, "the info line arrived");
        let (level, target, message) = lines.0.lock().expect("lock")[0].clone();
        assert_eq!(level, LogLevel::Info);
        assert!(target.starts_with("nara_core"), "{target}");
        assert!(message.contains("created=true"), "{message}");
        nara.close_store();

        set_log_level(LogLevel::Warn);
        let _again = Nara::open(path, Arc::new(XorKeys)).await.expect("opens");
        // The sink gets lines in order: once this warning is there, an unfiltered info
        // line from the open above would be there too.
        tracing::warn!("test marker after the second open");
        for _ in 0..200 {
            if marker_seen(&lines) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(marker_seen(&lines), "the warning arrived");
        assert_eq!(opened(&lines), 1, "info lines are filtered at warn");
    });
}
