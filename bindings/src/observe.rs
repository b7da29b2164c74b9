//! Live updates: listeners the shells implement, and the handle that stops them.
//!
//! A listener runs on a task of the core's runtime and is called without any lock or
//! transaction held. Dropping (Kotlin `close()`, Swift deinit) or cancelling its
//! [`TaskHandle`] stops it. The shells wrap these in a `Flow` and an `AsyncStream`.

use std::sync::Arc;

use nara_core::{Change as CoreChange, Next};
use tokio::task::AbortHandle;

use crate::errors::{CallbackError, Closed, Internal};
use crate::nara::Shared;
use crate::platform::{self, blocking};
use crate::types::{Band, ReadingKind, RuleVersion};

/// Stops a listener when cancelled or dropped.
#[derive(Debug, uniffi::Object)]
pub struct TaskHandle {
    abort: AbortHandle,
}

impl TaskHandle {
    pub(crate) fn spawn<F>(future: F) -> Arc<TaskHandle>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let handle = platform::spawn(future);
        Arc::new(TaskHandle {
            abort: handle.abort_handle(),
        })
    }
}

#[uniffi::export]
impl TaskHandle {
    /// Stops the listener; no call reaches it after the one in progress.
    pub fn cancel(&self) {
        self.abort.abort();
    }

    /// Whether the listener has stopped (cancelled, or its store closed).
    pub fn is_finished(&self) -> bool {
        self.abort.is_finished()
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        self.abort.abort();
    }
}

/// Something that changed in the store. Names what changed, never values: read what you
/// need.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Change {
    /// A reading was captured or corrected.
    ReadingAdded {
        /// Its id.
        id: String,
        /// Its kind.
        kind: ReadingKind,
        /// Its band.
        band: Band,
    },
    /// A batch was imported.
    ReadingsImported {
        /// How many readings were new.
        count: u64,
    },
    /// The care team's thresholds for a kind changed.
    ThresholdsChanged {
        /// The kind.
        kind: ReadingKind,
        /// The new rule version.
        rule: RuleVersion,
    },
    /// A measurement schedule was added, replaced or removed.
    ScheduleChanged,
    /// The sync state changed (login, progress, failures, last success).
    SyncChanged,
    /// A chat thread changed (a message composed or received, a delivery state or read
    /// mark, the thread itself): re-read its page.
    ChatChanged {
        /// The region's id of the thread.
        thread_id: String,
    },
    /// The thread list changed (a thread, an unread count, a newest message).
    ThreadsChanged,
    /// A notice arrived or changed, was opened or answered, or a form draft was saved or
    /// submitted: re-read the notices and reschedule their reminders.
    NoticesChanged,
    /// Self-care content changed (an article stored, removed or evicted, the assignment
    /// replaced): re-read the content list.
    ContentChanged,
    /// The store was wiped.
    Wiped,
    /// The listener fell behind and missed `missed` changes: re-read what you show.
    Lagged {
        /// Number of missed changes.
        missed: u64,
    },
}

impl From<CoreChange> for Change {
    fn from(c: CoreChange) -> Self {
        match c {
            CoreChange::ReadingAdded { id, kind, band } => Change::ReadingAdded {
                id: id.to_string(),
                kind,
                band,
            },
            CoreChange::ReadingsImported { count } => Change::ReadingsImported { count },
            CoreChange::ThresholdsChanged { kind, rule } => {
                Change::ThresholdsChanged { kind, rule }
            }
            CoreChange::ScheduleChanged => Change::ScheduleChanged,
            CoreChange::SyncChanged => Change::SyncChanged,
            CoreChange::ChatChanged { thread_id } => Change::ChatChanged { thread_id },
            CoreChange::ThreadsChanged => Change::ThreadsChanged,
            CoreChange::NoticesChanged => Change::NoticesChanged,
            CoreChange::ContentChanged => Change::ContentChanged,
            CoreChange::Wiped => Change::Wiped,
        }
    }
}

/// Why a listener stopped by itself.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum StopReason {
    /// The store was closed.
    Closed,
    /// The store was wiped.
    Wiped,
    /// Reading the store failed; `message` has no patient data.
    Failed {
        /// What failed.
        detail: String,
    },
}

/// Receives every change to the store.
#[uniffi::export(with_foreign)]
pub trait ChangeListener: Send + Sync {
    /// A change. Called in order, one at a time.
    fn on_change(&self, change: Change) -> Result<(), CallbackError>;
    /// The listener stopped because the store closed or was wiped; no more calls follow.
    fn on_stopped(&self, reason: StopReason) -> Result<(), CallbackError>;
}

/// Turns a core change into a listener call; `false` when the subscription ended.
pub(crate) async fn forward_changes(
    mut subscription: nara_core::Subscription,
    listener: Arc<dyn ChangeListener>,
) {
    loop {
        let change = match subscription.next().await {
            Next::Change(CoreChange::Wiped) => {
                let _ = listener.on_change(Change::Wiped);
                let _ = listener.on_stopped(StopReason::Wiped);
                return;
            }
            Next::Change(c) => Change::from(c),
            Next::Lagged(missed) => Change::Lagged { missed },
            Next::Closed => {
                let _ = listener.on_stopped(StopReason::Closed);
                return;
            }
        };
        // A listener that throws is the shell's bug; keep delivering.
        let _ = listener.on_change(change);
    }
}

/// Starts a watch for a listener: `emit` gets the value of `read` at once, then again
/// after each change `relevant` accepts (or a lag), a burst read once, until the store
/// closes or is wiped or a read fails; then `stopped` gets the reason, and no more calls
/// follow. A listener that throws is the shell's bug; its errors are ignored.
///
/// Subscribes before returning, ahead of the first read, so no change falls between
/// the two; fails with the area's `Closed` if the store is closed.
pub(crate) fn spawn_watch<L, T, E>(
    shared: &Arc<Shared>,
    listener: Arc<L>,
    read: impl Fn(&nara_core::Nara) -> Result<T, E> + Clone + Send + 'static,
    relevant: impl Fn(&CoreChange) -> bool + Send + 'static,
    emit: impl Fn(&L, T) -> Result<(), CallbackError> + Send + 'static,
    stopped: impl Fn(&L, StopReason) -> Result<(), CallbackError> + Send + 'static,
) -> Result<Arc<TaskHandle>, E>
where
    L: ?Sized + Send + Sync + 'static,
    T: Send + 'static,
    E: From<Closed> + From<Internal> + std::fmt::Display + Send + 'static,
{
    let mut subscription = shared.get()?.subscribe();
    let shared = shared.clone();
    let stop = {
        let listener = listener.clone();
        move |reason| {
            let _ = stopped(&listener, reason);
        }
    };
    Ok(TaskHandle::spawn(async move {
        loop {
            let Ok(core) = shared.get() else {
                stop(StopReason::Closed);
                return;
            };
            let read = read.clone();
            match blocking(move || read(&core)).await {
                Ok(value) => {
                    let _ = emit(&listener, value);
                }
                Err(e) => {
                    stop(StopReason::Failed {
                        detail: e.to_string(),
                    });
                    return;
                }
            }
            // Wait for a change that can alter the value; coalesce a burst into one read.
            loop {
                match subscription.next().await {
                    Next::Change(CoreChange::Wiped) => {
                        stop(StopReason::Wiped);
                        return;
                    }
                    Next::Closed => {
                        stop(StopReason::Closed);
                        return;
                    }
                    Next::Lagged(_) => break,
                    Next::Change(c) if relevant(&c) => break,
                    Next::Change(_) => {}
                }
            }
            while let Some(next) = subscription.try_next() {
                let reason = match next {
                    Next::Closed => StopReason::Closed,
                    Next::Change(CoreChange::Wiped) => StopReason::Wiped,
                    _ => continue,
                };
                stop(reason);
                return;
            }
        }
    }))
}
