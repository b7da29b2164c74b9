//! The `Nara` object: opens the encrypted store and hands out one object per area.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use nara_core::{OpenReport as CoreOpenReport, QuarantineReason as CoreQuarantineReason};
use tokio::task::AbortHandle;

use crate::care_plan::CarePlan;
use crate::chat::Chat;
use crate::content::Content;
use crate::devices::{Device, DeviceInfo};
use crate::errors::{Closed, DeviceError, Internal, NaraError, OpenError, SyncError};
use crate::keys::{ForeignKeys, KeyProvider};
use crate::notices::Notices;
use crate::observe::{ChangeListener, TaskHandle, forward_changes};
use crate::platform::{blocking, runtime};
use crate::readings::Readings;
use crate::region::Region;
use crate::trends::Trends;

/// The open store, shared by the area objects. `None` once closed or wiped.
pub(crate) struct Shared {
    core: RwLock<Option<Arc<nara_core::Nara>>>,
    /// Region tasks (logins, syncs) that may be running; `logout` stops them.
    tasks: Mutex<Vec<AbortHandle>>,
}

impl Shared {
    /// The open core, or [`Closed`].
    pub(crate) fn get(&self) -> Result<Arc<nara_core::Nara>, Closed> {
        let guard = match self.core.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.clone().ok_or(Closed)
    }

    /// Remembers a region task so that logout can stop it.
    pub(crate) fn track(&self, task: AbortHandle) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    /// Stops every region task still running (each is safe to stop at any point).
    fn abort_tasks(&self) {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for task in tasks {
            task.abort();
        }
    }

    fn take(&self) -> Option<Arc<nara_core::Nara>> {
        match self.core.write() {
            Ok(mut g) => g.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }

    fn put_back(&self, core: Arc<nara_core::Nara>) {
        match self.core.write() {
            Ok(mut g) => *g = Some(core),
            Err(poisoned) => *poisoned.into_inner() = Some(core),
        }
    }
}

/// Why a database was moved aside on open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum QuarantineReason {
    /// It was corrupt.
    Corrupt,
    /// Its key was permanently lost.
    KeyLost,
}

/// A database moved aside (never deleted: it may hold unsynced readings).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Quarantine {
    /// Why.
    pub reason: QuarantineReason,
    /// Where it is now.
    pub path: String,
}

/// What happened when the store opened.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenReport {
    /// A new, empty store was created.
    pub created: bool,
    /// The schema version migrated from (equal to the current one if none ran).
    pub migrated_from: u32,
    /// A database that was moved aside; tell the patient.
    pub quarantined: Option<Quarantine>,
}

impl From<&CoreOpenReport> for OpenReport {
    fn from(r: &CoreOpenReport) -> Self {
        OpenReport {
            created: r.created,
            migrated_from: r.migrated_from,
            quarantined: r.quarantined.as_ref().map(|q| Quarantine {
                reason: match q.reason {
                    CoreQuarantineReason::Corrupt => QuarantineReason::Corrupt,
                    CoreQuarantineReason::KeyLost => QuarantineReason::KeyLost,
                },
                path: q.path.display().to_string(),
            }),
        }
    }
}

/// Nära for one patient on this device: an encrypted store and one object per area.
///
/// Open it once at start-up and keep it. Every call that touches the store is `async`
/// and runs on the core's own threads.
#[derive(uniffi::Object)]
pub struct Nara {
    shared: Arc<Shared>,
    report: OpenReport,
}

impl Nara {
    fn wrap(core: nara_core::Nara) -> Arc<Nara> {
        let report = OpenReport::from(core.open_report());
        Arc::new(Nara {
            shared: Arc::new(Shared {
                core: RwLock::new(Some(Arc::new(core))),
                tasks: Mutex::new(Vec::new()),
            }),
            report,
        })
    }
}

impl Drop for Nara {
    /// Releasing the object (Kotlin `close()`/`use {}`, Swift deinit) closes the store,
    /// even while area objects handed out by it are still referenced.
    fn drop(&mut self) {
        drop(self.shared.take());
    }
}

/// How long [`Nara::wipe`] waits for calls in flight before giving up.
const WIPE_WAIT: Duration = Duration::from_secs(30);

#[uniffi::export]
impl Nara {
    /// Opens (or creates) the encrypted store in `data_dir` (the app's private files
    /// directory), with the data key wrapped by `keys`.
    ///
    /// A corrupt database is moved aside and reported in [`Nara::open_report`]. A lost
    /// key fails with `OpenError.KeyLost`, changing nothing.
    #[uniffi::constructor]
    pub async fn open(
        data_dir: String,
        keys: Arc<dyn KeyProvider>,
    ) -> Result<Arc<Nara>, OpenError> {
        let core = blocking(move || {
            nara_core::Nara::open(Path::new(&data_dir), Arc::new(ForeignKeys(keys)))
                .map_err(OpenError::from)
        })
        .await?;
        Ok(Nara::wrap(core))
    }

    /// After `OpenError.KeyLost`, once the patient has been told: moves the unreadable
    /// database aside into `quarantine/` (never deleted) and opens a fresh store.
    #[uniffi::constructor]
    pub async fn open_after_key_loss(
        data_dir: String,
        keys: Arc<dyn KeyProvider>,
    ) -> Result<Arc<Nara>, OpenError> {
        let core = blocking(move || {
            nara_core::Nara::open_after_key_loss(Path::new(&data_dir), Arc::new(ForeignKeys(keys)))
                .map_err(OpenError::from)
        })
        .await?;
        Ok(Nara::wrap(core))
    }

    /// What happened on open (created, migrated, a database moved aside).
    pub fn open_report(&self) -> OpenReport {
        self.report.clone()
    }

    /// Readings: capture, correct, import, list, watch.
    pub fn readings(&self) -> Arc<Readings> {
        Arc::new(Readings::new(self.shared.clone()))
    }

    /// The care plan: thresholds and measurement schedules.
    pub fn care_plan(&self) -> Arc<CarePlan> {
        Arc::new(CarePlan::new(self.shared.clone()))
    }

    /// Trends and chart series.
    pub fn trends(&self) -> Arc<Trends> {
        Arc::new(Trends::new(self.shared.clone()))
    }

    /// Chat with the care units: threads, messages and photos, unread counts, watches.
    pub fn chat(&self) -> Arc<Chat> {
        Arc::new(Chat::new(self.shared.clone()))
    }

    /// Appointment notices and their forms: the list, opening, answers, reminders, the
    /// calendar file, health declarations with drafts and submission, watches.
    pub fn notices(&self) -> Arc<Notices> {
        Arc::new(Notices::new(self.shared.clone()))
    }

    /// Self-care content: the article list (assigned first), reading as a sanitised
    /// document, search, the article for a reading's advice, the storage budget, watches.
    pub fn content(&self) -> Arc<Content> {
        Arc::new(Content::new(self.shared.clone()))
    }

    /// A Bluetooth measuring device, for decoding and importing its values: `info` from
    /// its Device Information service, `user` the patient's user number on a shared
    /// device (values of other users make no reading; `null`/`nil` takes every user),
    /// `time_zone` the patient's IANA zone (the phone's, e.g. `Europe/Stockholm`), in
    /// which the device's wall-clock times are placed.
    ///
    /// Fails with `BadDevice` for an empty, too long or unprintable id or model and
    /// `UnknownTimeZone` for a zone this device does not know.
    pub fn device(
        &self,
        info: DeviceInfo,
        user: Option<u8>,
        time_zone: String,
    ) -> Result<Arc<Device>, DeviceError> {
        Ok(Arc::new(Device::new(
            self.shared.clone(),
            info,
            user,
            &time_zone,
        )?))
    }

    /// Sync with the region: login, sync within a time budget, status.
    pub fn region(&self) -> Arc<Region> {
        Arc::new(Region::new(self.shared.clone()))
    }

    /// Calls `listener` for every change until the returned handle is cancelled or
    /// dropped, or the store closes.
    pub fn subscribe(
        &self,
        listener: Arc<dyn ChangeListener>,
    ) -> Result<Arc<TaskHandle>, NaraError> {
        let subscription = self.shared.get()?.subscribe();
        Ok(TaskHandle::spawn(forward_changes(subscription, listener)))
    }

    /// Number of local changes waiting to be sent to the region.
    pub async fn pending_uploads(&self) -> Result<u64, NaraError> {
        let core = self.shared.get()?;
        blocking(move || core.pending_uploads().map_err(NaraError::from)).await
    }

    /// Runs SQLite's integrity check over the store.
    pub async fn integrity_ok(&self) -> Result<bool, NaraError> {
        let core = self.shared.get()?;
        blocking(move || core.integrity_ok().map_err(NaraError::from)).await
    }

    /// Closes the store. Calls in flight finish first; later calls fail with `Closed`.
    /// Listeners get `onStopped(Closed)`. Releasing the object does the same.
    pub fn close_store(&self) {
        drop(self.shared.take());
    }

    /// Logout: deletes every reading, the database files, the wrapped key and the
    /// platform key (`KeyProvider.forget`). Irreversible; the object is closed after.
    pub async fn wipe(&self) -> Result<(), NaraError> {
        let shared = self.shared.clone();
        blocking(move || {
            let mut core = shared.take().ok_or(Closed)?;
            // Calls already in flight hold the store; let them finish.
            let started = Instant::now();
            let owned = loop {
                match Arc::try_unwrap(core) {
                    Ok(owned) => break owned,
                    Err(still_shared) if started.elapsed() < WIPE_WAIT => {
                        core = still_shared;
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(still_shared) => {
                        shared.put_back(still_shared);
                        return Err(NaraError::Storage {
                            detail: "the store is busy; try the wipe again".to_owned(),
                        });
                    }
                }
            };
            owned.wipe().map_err(NaraError::from)
        })
        .await
    }

    /// Logout: refuses with `SyncError.UnsyncedChanges` while readings wait for upload
    /// (unless `force`; the store stays open and nothing changes), stops any login or
    /// sync in flight, revokes the login at the region (best effort: offline it simply
    /// expires), then wipes everything like [`Nara::wipe`]. The object is closed after
    /// a logout that went ahead, even if it then failed.
    pub async fn logout(&self, force: bool) -> Result<(), SyncError> {
        let shared = self.shared.clone();
        let task = runtime().spawn(async move {
            // Refuse before stopping anything: a refused logout leaves a running sync be.
            if !force {
                let core = shared.get()?;
                let pending = tokio::task::block_in_place(|| core.pending_uploads())
                    .map_err(SyncError::from)?;
                if pending > 0 {
                    return Err(SyncError::UnsyncedChanges { pending });
                }
            }
            let mut core = shared.take().ok_or(Closed)?;
            // Syncs and logins are safe to stop at any point; other calls finish first.
            shared.abort_tasks();
            let started = Instant::now();
            let owned = loop {
                match Arc::try_unwrap(core) {
                    Ok(owned) => break owned,
                    Err(still_shared) if started.elapsed() < WIPE_WAIT => {
                        core = still_shared;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err(still_shared) => {
                        shared.put_back(still_shared);
                        return Err(SyncError::Storage {
                            detail: "the store is busy; try the logout again".to_owned(),
                        });
                    }
                }
            };
            // Nobody else holds the store now, so no reading can arrive during the check;
            // on refusal the core hands the open store back and it goes back in place.
            match owned.logout(force).await {
                Ok(()) => Ok(()),
                Err(nara_core::sync::engine::LogoutError::Unsynced { pending, nara }) => {
                    shared.put_back(Arc::new(*nara));
                    Err(SyncError::UnsyncedChanges { pending })
                }
                Err(nara_core::sync::engine::LogoutError::Failed(e)) => Err(SyncError::from(e)),
            }
        });
        match task.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(SyncError::from(Internal::Panic)),
            Err(_) => Err(SyncError::from(Internal::ShutDown)),
        }
    }
}

#[cfg(feature = "test-hooks")]
#[uniffi::export]
impl Nara {
    /// Test hook (feature `test-hooks`, never in app builds): panics inside the core's
    /// worker while the store is open, to prove a panic reaches Kotlin and Swift as an
    /// `Internal` error and leaves the store usable.
    pub async fn debug_panic(&self) -> Result<u64, NaraError> {
        let core = self.shared.get()?;
        blocking(move || {
            let count = core.readings().count()?;
            if count < u64::MAX {
                panic!("deliberate panic from the test hook");
            }
            Ok(count)
        })
        .await
    }
}
