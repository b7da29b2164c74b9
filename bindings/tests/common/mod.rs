//! Shared by the FFI test files (each is its own crate and takes what it needs).

#![allow(dead_code)]

use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nara_ffi::content::{ArticleSummary, ContentListener};
use nara_ffi::errors::{CallbackError, KeyError};
use nara_ffi::keys::KeyProvider;
use nara_ffi::nara::Nara;
use nara_ffi::notices::{Notice, NoticesListener};
use nara_ffi::observe::StopReason;

/// Test-only key provider: XOR with a byte. Never use outside tests.
pub struct XorKeys(pub u8);

impl KeyProvider for XorKeys {
    fn wrap(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyError> {
        Ok(data_key.iter().map(|b| b ^ self.0).collect())
    }
    fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyError> {
        Ok(wrapped.iter().map(|b| b ^ self.0).collect())
    }
    fn forget(&self) -> Result<(), KeyError> {
        Ok(())
    }
}

/// Opens the store in `dir` with [`XorKeys`] of `byte`.
pub async fn open_xor(dir: &tempfile::TempDir, byte: u8) -> Arc<Nara> {
    Nara::open(dir.path().display().to_string(), Arc::new(XorKeys(byte)))
        .await
        .expect("opens")
}

/// Waits up to 5 s for `check` to hold; panics naming `what` if it never does.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Waits up to 5 s for `condition` to hold; whether it holds then.
pub async fn holds_soon(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}

/// What a listener was given, in order (a `Mutex<Vec<T>>` to read).
pub struct Log<T>(Mutex<Vec<T>>);

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log(Mutex::new(Vec::new()))
    }
}

impl<T> Deref for Log<T> {
    type Target = Mutex<Vec<T>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T> Log<T> {
    /// Appends `value`; a listener's answer.
    pub fn record(&self, value: T) -> Result<(), CallbackError> {
        self.0.lock().expect("lock").push(value);
        Ok(())
    }
}

/// A list listener (content, notices): every list it was sent and why it stopped.
pub struct Lists<T> {
    pub seen: Log<Vec<T>>,
    pub stopped: Mutex<Option<StopReason>>,
}

impl<T> Default for Lists<T> {
    fn default() -> Self {
        Lists {
            seen: Log::default(),
            stopped: Mutex::new(None),
        }
    }
}

impl<T> Lists<T> {
    fn stop(&self, reason: StopReason) -> Result<(), CallbackError> {
        *self.stopped.lock().expect("lock") = Some(reason);
        Ok(())
    }
}

impl ContentListener for Lists<ArticleSummary> {
    fn on_articles(&self, articles: Vec<ArticleSummary>) -> Result<(), CallbackError> {
        self.seen.record(articles)
    }
    fn on_stopped(&self, reason: StopReason) -> Result<(), CallbackError> {
        self.stop(reason)
    }
}

impl NoticesListener for Lists<Notice> {
    fn on_notices(&self, notices: Vec<Notice>) -> Result<(), CallbackError> {
        self.seen.record(notices)
    }
    fn on_stopped(&self, reason: StopReason) -> Result<(), CallbackError> {
        self.stop(reason)
    }
}
