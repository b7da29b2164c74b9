//! Change notification: shells subscribe and update live.
//!
//! Events name what changed (ids, kinds, bands), never values; the subscriber reads the
//! data it needs. Publishing never blocks and never calls foreign code: subscribers
//! receive on their own side of a broadcast channel, so no lock or transaction is held
//! while Kotlin or Swift runs.

use tokio::sync::broadcast;

use crate::domain::reading::{ReadingId, ReadingKind};
use crate::domain::triage::{Band, RuleVersion};

/// Something that changed in the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A reading was captured (or a correction stored).
    ReadingAdded {
        /// Its id.
        id: ReadingId,
        /// Its kind.
        kind: ReadingKind,
        /// Its triage band.
        band: Band,
    },
    /// A batch of readings was imported.
    ReadingsImported {
        /// How many were new.
        count: u64,
    },
    /// The care team's thresholds for a kind changed.
    ThresholdsChanged {
        /// The kind.
        kind: ReadingKind,
        /// The new rule version.
        rule: RuleVersion,
    },
    /// A schedule was added, replaced or removed.
    ScheduleChanged,
    /// The sync state changed (login, progress, failures, last success).
    SyncChanged,
    /// A chat thread changed: a message composed or received, a delivery state or read
    /// mark, the thread itself (closed, renamed).
    ChatChanged {
        /// The region's id of the thread.
        thread_id: String,
    },
    /// The thread list changed (a thread added or changed, an unread count, the newest
    /// message of a thread).
    ThreadsChanged,
    /// A notice arrived or changed, was opened or answered, or a form draft was saved
    /// or submitted.
    NoticesChanged,
    /// Self-care content changed: an article stored, removed or evicted, or the
    /// assignment list replaced.
    ContentChanged,
    /// The store was wiped.
    Wiped,
}

/// A live subscription; dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    rx: broadcast::Receiver<Change>,
}

/// What a subscriber gets when it asks for the next change.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// A change.
    Change(Change),
    /// The subscriber fell behind and missed this many changes: re-read the state.
    Lagged(u64),
    /// The store was closed.
    Closed,
}

impl Subscription {
    /// Waits for the next change.
    pub async fn next(&mut self) -> Next {
        match self.rx.recv().await {
            Ok(c) => Next::Change(c),
            Err(broadcast::error::RecvError::Lagged(n)) => Next::Lagged(n),
            Err(broadcast::error::RecvError::Closed) => Next::Closed,
        }
    }

    /// The next change if one is waiting, without blocking.
    pub fn try_next(&mut self) -> Option<Next> {
        match self.rx.try_recv() {
            Ok(c) => Some(Next::Change(c)),
            Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Next::Lagged(n)),
            Err(broadcast::error::TryRecvError::Closed) => Some(Next::Closed),
            Err(broadcast::error::TryRecvError::Empty) => None,
        }
    }
}

/// The publishing side, owned by [`crate::Nara`].
#[derive(Debug)]
pub(crate) struct Observers {
    tx: broadcast::Sender<Change>,
}

impl Observers {
    pub(crate) fn new() -> Self {
        Self {
            tx: broadcast::channel(256).0,
        }
    }

    pub(crate) fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.tx.subscribe(),
        }
    }

    pub(crate) fn publish(&self, change: Change) {
        // No subscriber is not an error.
        let _ = self.tx.send(change);
    }
}
