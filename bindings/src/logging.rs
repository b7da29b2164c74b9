//! The core's `tracing` output, forwarded to the shell's logger (Logcat, OSLog).
//!
//! The core never logs patient data (values, notes, names, ids of people); this module
//! forwards what it is given. Lines are handed to the [`LogSink`] from a dedicated thread
//! through a bounded queue, so a log call inside the core never runs foreign code while
//! the core holds a lock or a transaction, and a slow sink can only drop lines, never
//! stall the core.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, OnceLock, RwLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::errors::CallbackError;

/// Severity of a log line, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    /// A bug or a failure the patient will notice.
    Error,
    /// Something unexpected that the core handled.
    Warn,
    /// Milestones: store opened, migration run, sync finished.
    Info,
    /// Detail for developers.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    fn from_tracing(level: &tracing::Level) -> LogLevel {
        match *level {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::DEBUG => LogLevel::Debug,
            tracing::Level::TRACE => LogLevel::Trace,
        }
    }

    fn rank(self) -> u8 {
        self as u8
    }
}

/// Receives the core's log lines; implemented by the shell (Android `Log`, iOS `Logger`).
///
/// Called from one dedicated thread, in order. Must not call back into Nära.
#[uniffi::export(with_foreign)]
pub trait LogSink: Send + Sync {
    /// One log line. `target` names the core module (`nara_core::store`).
    fn log(&self, level: LogLevel, target: String, message: String) -> Result<(), CallbackError>;
}

/// Changes the level below which lines are dropped, at any time.
#[uniffi::export]
pub fn set_log_level(level: LogLevel) {
    MAX_LEVEL.store(level.rank(), Ordering::Relaxed);
}

/// How many log lines were dropped because the sink could not keep up.
#[uniffi::export]
pub fn dropped_log_lines() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

static MAX_LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static SINK: RwLock<Option<Arc<dyn LogSink>>> = RwLock::new(None);
static QUEUE: OnceLock<Option<SyncSender<Line>>> = OnceLock::new();

struct Line {
    level: LogLevel,
    target: String,
    message: String,
}

/// Sets the level and the sink, and installs the bridge as the process's `tracing`
/// subscriber the first time. A later call replaces the sink.
pub(crate) fn install(level: LogLevel, sink: Option<Arc<dyn LogSink>>) {
    set_log_level(level);
    match SINK.write() {
        Ok(mut guard) => *guard = sink,
        Err(poisoned) => *poisoned.into_inner() = sink,
    }
    QUEUE.get_or_init(start_forwarder);
}

fn start_forwarder() -> Option<SyncSender<Line>> {
    let (tx, rx) = sync_channel::<Line>(1024);
    let spawned = std::thread::Builder::new()
        .name("nara-log".into())
        .spawn(move || {
            for line in rx {
                let sink = match SINK.read() {
                    Ok(guard) => guard.clone(),
                    Err(poisoned) => poisoned.into_inner().clone(),
                };
                if let Some(sink) = sink {
                    // A failing sink cannot be logged to; drop the line.
                    let _ = sink.log(line.level, line.target, line.message);
                }
            }
        });
    if spawned.is_err() {
        return None;
    }
    let subscriber = tracing_subscriber::registry().with(Bridge);
    // Another subscriber (a host test harness) may already be set; then it keeps logging.
    let _ = tracing::subscriber::set_global_default(subscriber);
    Some(tx)
}

/// The `tracing` layer that queues events for the sink.
struct Bridge;

impl<S: Subscriber> Layer<S> for Bridge {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = LogLevel::from_tracing(event.metadata().level());
        if level.rank() > MAX_LEVEL.load(Ordering::Relaxed) {
            return;
        }
        let Some(Some(queue)) = QUEUE.get() else {
            return;
        };
        let mut visitor = MessageVisitor(String::new());
        event.record(&mut visitor);
        let line = Line {
            level,
            target: event.metadata().target().to_owned(),
            message: visitor.0,
        };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = queue.try_send(line) {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Formats an event as `message key=value ...`.
struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}
