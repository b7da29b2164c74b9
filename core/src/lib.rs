//! Nära core: every rule and every byte of patient data for the Nära apps.
//!
//! [`Nara`] is the facade the CLI and the bindings use: open a store with a
//! [`KeyProvider`], then one sub-API per area ([`Nara::readings`], [`Nara::care_plan`],
//! [`Nara::trends`], [`Nara::chat`], [`Nara::content`]). Rules live in [`domain`] (pure), storage in [`store`]. This crate
//! exposes no FFI types; `bindings/` converts.

pub mod chat;
pub mod content;
pub mod device;
pub mod devices;
pub mod domain;
pub mod error;
pub mod notices;
pub mod observe;
pub mod store;
pub mod sync;

use std::path::Path;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

pub use crate::error::NaraError;
pub use crate::observe::{Change, Next, Subscription};
pub use crate::store::key::{
    FileKeyProvider, KeyProvider, KeyProviderError, PassphraseKeyProvider,
};
pub use crate::store::readings::ReadingFilter;
pub use crate::store::{OpenReport, QuarantineReason, Quarantined};

use crate::domain::history::TriageHistory;
use crate::domain::reading::{NewReading, Reading, ReadingId, ReadingKind};
use crate::domain::schedule::{self, Adherence, MeasurementSchedule, Reminder, Task};
use crate::domain::trend::{self, SeriesPoint, TrendSample, TrendSummary};
use crate::domain::triage::{self, ThresholdSet, TriageResult};
use crate::domain::validation::{self, normalize_note};
use crate::observe::Observers;
use crate::store::Store;
use crate::store::readings as repo;

/// A source of the current time; tests and the demo replace it.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// An open Nära: the store, the key provider and the change observers.
pub struct Nara {
    store: Store,
    keys: Arc<dyn KeyProvider>,
    observers: Observers,
    clock: Clock,
    report: OpenReport,
    region: sync::engine::RegionState,
    content_db: store::content_db::ContentDb,
}

impl std::fmt::Debug for Nara {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nara")
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

impl Nara {
    /// Opens (or creates) the store in `data_dir`. See [`OpenReport`] for what happened.
    pub fn open(data_dir: &Path, keys: Arc<dyn KeyProvider>) -> Result<Nara, NaraError> {
        Self::open_with_clock(data_dir, keys, Arc::new(Timestamp::now))
    }

    /// Opens with a custom clock.
    pub fn open_with_clock(
        data_dir: &Path,
        keys: Arc<dyn KeyProvider>,
        clock: Clock,
    ) -> Result<Nara, NaraError> {
        Self::open_store(data_dir, keys, clock, false)
    }

    /// After [`Nara::open`] failed with a lost key (`StoreError::KeyLost`) and the patient
    /// has been told: moves the unreadable database aside into `quarantine/` (never
    /// deleted: it may hold unsynced readings) and opens a fresh store.
    pub fn open_after_key_loss(
        data_dir: &Path,
        keys: Arc<dyn KeyProvider>,
    ) -> Result<Nara, NaraError> {
        Self::open_store(data_dir, keys, Arc::new(Timestamp::now), true)
    }

    fn open_store(
        data_dir: &Path,
        keys: Arc<dyn KeyProvider>,
        clock: Clock,
        recover_lost_key: bool,
    ) -> Result<Nara, NaraError> {
        let (store, report) = Store::open(data_dir, keys.as_ref(), recover_lost_key)?;
        let content_db = store::content_db::ContentDb::open(store.dir())?;
        tracing::info!(
            created = report.created,
            migrated_from = report.migrated_from,
            "store opened"
        );
        let nara = Nara {
            store,
            keys,
            observers: Observers::new(),
            clock,
            report,
            region: sync::engine::RegionState::default(),
            content_db,
        };
        // Photo files a crash left without a committed row (written, then killed before
        // the message's transaction). Nothing refers to them; young ones are left alone
        // (another process may be mid-write), and a failure here only leaves them for
        // the next open.
        match nara.chat().sweep_files(chat::ORPHAN_GRACE) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                files = n,
                "removed photo files left by an interrupted write"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not sweep photo files; will retry on next open")
            }
        }
        Ok(nara)
    }

    /// What happened on open (created, migrated, a database moved aside).
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// The current time by this instance's clock.
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Readings: capture, correct, list.
    pub fn readings(&self) -> Readings<'_> {
        Readings { nara: self }
    }

    /// The care plan: thresholds and measurement schedules.
    pub fn care_plan(&self) -> CarePlan<'_> {
        CarePlan { nara: self }
    }

    /// Trends and chart series.
    pub fn trends(&self) -> Trends<'_> {
        Trends { nara: self }
    }

    /// Appointment notices and forms: open, answer, health declarations, reminders.
    pub fn notices(&self) -> notices::Notices<'_> {
        notices::Notices { nara: self }
    }

    /// Chat with the care team: threads, messages, photos.
    pub fn chat(&self) -> chat::Chat<'_> {
        chat::Chat { nara: self }
    }

    /// Self-care content: articles, assignment, search, the offline cache.
    pub fn content(&self) -> content::Content<'_> {
        content::Content { nara: self }
    }

    /// Bluetooth measuring devices: decode, preview and import.
    pub fn devices(&self) -> devices::Devices<'_> {
        devices::Devices { nara: self }
    }

    /// Sync with the region: login, upload, download, status.
    pub fn region(&self) -> sync::engine::Region<'_> {
        sync::engine::Region { nara: self }
    }

    /// Logout: refuses while readings still wait for upload unless `force` (handing the
    /// store back untouched), revokes the login at the region (best effort), then wipes
    /// everything like [`Nara::wipe`].
    pub async fn logout(self, force: bool) -> Result<(), sync::engine::LogoutError> {
        let pending = match self.pending_uploads() {
            Ok(n) => n,
            Err(e) => return Err(sync::engine::LogoutError::Failed(e.into())),
        };
        if pending > 0 && !force {
            return Err(sync::engine::LogoutError::Unsynced {
                pending,
                nara: Box::new(self),
            });
        }
        self.region()
            .revoke_for_logout(true)
            .await
            .map_err(sync::engine::LogoutError::Failed)?;
        self.wipe()
            .map_err(|e| sync::engine::LogoutError::Failed(e.into()))
    }

    /// Subscribes to changes (readings added, thresholds changed). Dropping the
    /// subscription stops it.
    pub fn subscribe(&self) -> Subscription {
        self.observers.subscribe()
    }

    /// Runs SQLite's integrity check.
    pub fn integrity_ok(&self) -> Result<bool, NaraError> {
        Ok(self.store.integrity_ok()?)
    }

    /// Number of local changes waiting for upload.
    pub fn pending_uploads(&self) -> Result<u64, NaraError> {
        Ok(self.store.read(|c, _| repo::pending_uploads(c))?)
    }

    /// Logout: deletes every row, the database files (`content.db` included), the photo
    /// files, the wrapped key and the platform key. Irreversible.
    pub fn wipe(self) -> Result<(), NaraError> {
        let Nara {
            store,
            keys,
            observers,
            content_db,
            ..
        } = self;
        // Closed before the store removes its files.
        drop(content_db);
        let photos = store::files::PhotoFiles::new(store.dir());
        store.wipe(keys.as_ref())?;
        photos.remove_all()?;
        observers.publish(Change::Wiped);
        Ok(())
    }
}

/// Reading capture and history.
pub struct Readings<'a> {
    nara: &'a Nara,
}

/// The outcome of a bulk import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Readings stored.
    pub inserted: u64,
    /// Readings already present (same id), skipped.
    pub duplicates: u64,
}

/// Triage in time order over a batch: the thresholds in force per kind and the history,
/// which grows by each reading once it is triaged.
struct Decide<'a> {
    sets: &'a std::collections::HashMap<ReadingKind, ThresholdSet>,
    history: TriageHistory,
}

impl Decide<'_> {
    fn triage(&mut self, id: ReadingId, new: &NewReading) -> Result<TriageResult, NaraError> {
        let set = self
            .sets
            .get(&new.measurement.kind())
            .ok_or(NaraError::NotFound)?;
        let result = triage::triage_reading(new, set, &self.history);
        self.history
            .add(id, &new.measurement, new.effective_at, &new.quality);
        Ok(result)
    }
}

impl Readings<'_> {
    /// Validates, triages and durably stores a reading. When this returns `Ok`, the
    /// reading survives a killed process or power cut.
    ///
    /// Triage sees the thresholds in force and the patient's stored history (earlier
    /// weights for a weight gain, earlier irregular pulses), exactly as
    /// [`Readings::import`] and a device import do for the same reading.
    pub fn add(&self, new: NewReading) -> Result<Reading, NaraError> {
        self.capture(new, None)
    }

    /// Stores `new` as a correction of `old`, which stays in history, superseded. The
    /// correction is triaged against the history without `old`.
    pub fn correct(&self, old: ReadingId, new: NewReading) -> Result<Reading, NaraError> {
        self.capture(new, Some(old))
    }

    /// The patient's stored readings that triage of `batch` needs: weights up to
    /// [`TriageHistory::LOOKBACK`] before the earliest weight, irregular pulses up to
    /// [`TriageHistory::IRREGULAR_PULSE_WINDOW`] before the earliest one. Superseded
    /// readings and `replaced` (a reading being corrected) are left out.
    fn history(
        &self,
        batch: &[NewReading],
        replaced: Option<ReadingId>,
    ) -> Result<TriageHistory, NaraError> {
        let mut history = TriageHistory::new();
        let span = |pick: &dyn Fn(&NewReading) -> bool| {
            batch
                .iter()
                .filter(|n| pick(n))
                .map(|n| n.effective_at)
                .fold(None, |acc: Option<(Timestamp, Timestamp)>, t| {
                    Some(acc.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))))
                })
        };
        let mut load = |kinds: &[ReadingKind], from: Timestamp, to: Timestamp| {
            for kind in kinds {
                for r in self.list(&ReadingFilter {
                    kind: Some(*kind),
                    since: Some(from),
                    until: Some(to),
                    ..ReadingFilter::default()
                })? {
                    if Some(r.id) != replaced {
                        history.add_reading(&r);
                    }
                }
            }
            Ok::<_, NaraError>(())
        };
        if let Some((lo, hi)) = span(&|n| n.measurement.kind() == ReadingKind::BodyWeight) {
            load(&[ReadingKind::BodyWeight], lo - TriageHistory::LOOKBACK, hi)?;
        }
        if let Some((lo, hi)) = span(&|n| n.quality.irregular_pulse) {
            let from = lo - TriageHistory::IRREGULAR_PULSE_WINDOW;
            load(
                &[
                    ReadingKind::BloodPressure,
                    ReadingKind::HeartRate,
                    ReadingKind::OxygenSaturation,
                ],
                from,
                hi,
            )?;
        }
        Ok(history)
    }

    /// The thresholds in force for every kind in `batch`.
    fn thresholds_for(
        &self,
        batch: &[NewReading],
    ) -> Result<std::collections::HashMap<ReadingKind, ThresholdSet>, NaraError> {
        let mut sets = std::collections::HashMap::new();
        for new in batch {
            let kind = new.measurement.kind();
            if let std::collections::hash_map::Entry::Vacant(e) = sets.entry(kind) {
                e.insert(self.nara.care_plan().thresholds(kind)?);
            }
        }
        Ok(sets)
    }

    /// Validates, triages (in time order, each reading seeing the earlier ones) and
    /// builds the readings of `batch` without storing them, for `add`, `correct` and
    /// previews. [`Readings::import`] runs the same steps ([`Readings::validated`],
    /// [`Readings::history`], [`Readings::build`]) with the building on its sealing
    /// thread. The readings come back in time order.
    fn prepare_batch(
        &self,
        batch: Vec<NewReading>,
        supersedes: Option<ReadingId>,
        now: Timestamp,
    ) -> Result<Vec<Reading>, NaraError> {
        let batch = self.validated(batch, now, false)?;
        let sets = self.thresholds_for(&batch)?;
        let mut decide = Decide {
            sets: &sets,
            history: self.history(&batch, supersedes)?,
        };
        batch
            .into_iter()
            .map(|new| self.build(new, supersedes, now, &mut decide))
            .collect()
    }

    /// Normalises notes and validates every reading (one invalid reading rejects the
    /// batch: with its index when `indexed`), then sorts the batch by time of
    /// measurement (stable).
    fn validated(
        &self,
        mut batch: Vec<NewReading>,
        now: Timestamp,
        indexed: bool,
    ) -> Result<Vec<NewReading>, NaraError> {
        for (index, new) in batch.iter_mut().enumerate() {
            new.note = normalize_note(new.note.take());
            validation::validate(new, now).map_err(|errors| {
                if indexed {
                    NaraError::InvalidInBatch { index, errors }
                } else {
                    NaraError::Invalid(errors)
                }
            })?;
        }
        batch.sort_by_key(|n| n.effective_at);
        Ok(batch)
    }

    /// A validated reading, triaged with `decide` and given its id.
    fn build(
        &self,
        new: NewReading,
        supersedes: Option<ReadingId>,
        now: Timestamp,
        decide: &mut Decide<'_>,
    ) -> Result<Reading, NaraError> {
        let id = new.assign_id(self.nara.store.random16()?);
        let triage = decide.triage(id, &new)?;
        Ok(Reading {
            id,
            measurement: new.measurement,
            effective_at: new.effective_at,
            utc_offset_seconds: new.utc_offset_seconds,
            source: new.source,
            quality: new.quality,
            off_scale: new.off_scale,
            glucose_context: new.glucose_context,
            note: new.note,
            recorded_at: now,
            triage,
            supersedes,
            superseded_by: None,
        })
    }

    /// Validates and triages `new` as [`Readings::add`] would, without storing it, so a
    /// caller can store it in its own transaction (`store::readings::insert`) and then
    /// call [`Readings::announce`], or show what would be stored (a device preview).
    pub(crate) fn prepared(&self, new: NewReading) -> Result<Reading, NaraError> {
        self.prepare_batch(vec![new], None, self.nara.now())?
            .pop()
            .ok_or(NaraError::NotFound)
    }

    /// Tells subscribers about a reading stored by [`Readings::prepared`].
    pub(crate) fn announce(&self, reading: &Reading) {
        self.nara.observers.publish(Change::ReadingAdded {
            id: reading.id,
            kind: reading.kind(),
            band: reading.triage.band,
        });
    }

    fn capture(
        &self,
        new: NewReading,
        supersedes: Option<ReadingId>,
    ) -> Result<Reading, NaraError> {
        let now = self.nara.now();
        let kind = new.measurement.kind();
        if let Some(old) = supersedes {
            let existing = self.get(old)?.ok_or(NaraError::NotFound)?;
            if existing.kind() != kind {
                return Err(NaraError::CorrectionKindMismatch);
            }
            if existing.superseded_by.is_some() {
                return Err(NaraError::AlreadySuperseded);
            }
        }
        let reading = self
            .prepare_batch(vec![new], supersedes, now)?
            .pop()
            .ok_or(NaraError::NotFound)?;
        let inserted = self
            .nara
            .store
            .write(|tx, cipher| repo::insert(tx, cipher, &reading))?;
        if !inserted {
            return Err(NaraError::Duplicate);
        }
        self.nara.observers.publish(Change::ReadingAdded {
            id: reading.id,
            kind,
            band: reading.triage.band,
        });
        Ok(reading)
    }

    /// Imports many readings (a device's memory, a year of sensor data) in one durable
    /// transaction per chunk. Readings already present are skipped, so a re-import adds
    /// nothing. Every reading is validated first; one invalid reading rejects the batch
    /// with its index and nothing is stored. Readings are triaged in time order, each
    /// with the patient's stored history and the batch's earlier readings, so an import
    /// gives every reading the band [`Readings::add`] would have given it one by one.
    /// `progress` receives (done, total).
    pub fn import(
        &self,
        batch: Vec<NewReading>,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<ImportReport, NaraError> {
        const CHUNK: usize = 50_000;
        let now = self.nara.now();
        let total = batch.len() as u64;
        // Validate everything first: one invalid reading rejects the whole batch.
        let batch = self.validated(batch, now, true)?;
        let sets = self.thresholds_for(&batch)?;
        let history = self.history(&batch, None)?;
        // Triage (in time order) and sealing (JSON and AES-GCM) run on a second thread
        // while this one inserts, so the CPU work hides behind SQLite's. Validation
        // already passed for every reading, so nothing invalid can be half-imported.
        const SEAL_CHUNK: usize = 2_000;
        let store = &self.nara.store;
        let mut report = ImportReport::default();
        std::thread::scope(|scope| -> Result<(), NaraError> {
            let (tx_sealed, rx_sealed) = std::sync::mpsc::sync_channel(4);
            let sets = &sets;
            scope.spawn(move || {
                let mut decide = Decide { sets, history };
                let mut batch = batch.into_iter().peekable();
                while batch.peek().is_some() {
                    let sealed: Result<Vec<_>, NaraError> = batch
                        .by_ref()
                        .take(SEAL_CHUNK)
                        .map(|new| {
                            let r = self.build(new, None, now, &mut decide)?;
                            Ok(repo::seal(store.cipher(), &r)?)
                        })
                        .collect();
                    let failed = sealed.is_err();
                    // A closed channel means the inserting side stopped on an error.
                    if tx_sealed.send(sealed).is_err() || failed {
                        return;
                    }
                }
            });
            let mut incoming = rx_sealed.into_iter().peekable();
            while incoming.peek().is_some() {
                let (inserted, rows) = store.write(|tx, _| {
                    let (mut inserted, mut rows) = (0u64, 0usize);
                    while rows < CHUNK {
                        let Some(chunk) = incoming.next() else { break };
                        let chunk = chunk?;
                        for s in &chunk {
                            inserted += u64::from(repo::insert_sealed(tx, s)?);
                        }
                        rows += chunk.len();
                    }
                    Ok::<_, NaraError>((inserted, rows))
                })?;
                report.inserted += inserted;
                report.duplicates += rows as u64 - inserted;
                progress(report.inserted + report.duplicates, total);
            }
            Ok(())
        })?;
        if report.inserted > 0 {
            self.nara.observers.publish(Change::ReadingsImported {
                count: report.inserted,
            });
        }
        Ok(report)
    }

    /// One reading by id.
    pub fn get(&self, id: ReadingId) -> Result<Option<Reading>, NaraError> {
        Ok(self.nara.store.read(|c, k| repo::get(c, k, id))?)
    }

    /// Readings matching `filter`, newest first.
    pub fn list(&self, filter: &ReadingFilter) -> Result<Vec<Reading>, NaraError> {
        Ok(self.nara.store.read(|c, k| repo::list(c, k, filter))?)
    }

    /// Number of stored readings, superseded ones included.
    pub fn count(&self) -> Result<u64, NaraError> {
        Ok(self.nara.store.read(|c, _| repo::count(c))?)
    }
}

/// Thresholds and schedules from the care team.
pub struct CarePlan<'a> {
    nara: &'a Nara,
}

impl CarePlan<'_> {
    /// The thresholds that apply to `kind`: the care team's, or the defaults.
    pub fn thresholds(&self, kind: ReadingKind) -> Result<ThresholdSet, NaraError> {
        let set = self.nara.store.read(|c, k| repo::thresholds(c, k, kind))?;
        Ok(set.unwrap_or_else(|| ThresholdSet::default_for(kind)))
    }

    /// Stores the care team's thresholds for their kind. New readings use them; stored
    /// readings keep the triage (and rule version) they were captured with.
    pub fn set_thresholds(&self, set: ThresholdSet) -> Result<(), NaraError> {
        set.validate()?;
        self.nara
            .store
            .write(|tx, k| repo::put_thresholds(tx, k, &set))?;
        self.nara.observers.publish(Change::ThresholdsChanged {
            kind: set.kind,
            rule: set.rule,
        });
        Ok(())
    }

    /// Withdraws the care team's thresholds for `kind`: new readings are triaged with
    /// the defaults again; stored readings keep their band and rule version.
    pub fn clear_thresholds(&self, kind: ReadingKind) -> Result<(), NaraError> {
        let removed = self
            .nara
            .store
            .write(|tx, k| repo::delete_thresholds(tx, k, kind))?;
        if removed {
            let rule = ThresholdSet::default_for(kind).rule;
            self.nara
                .observers
                .publish(Change::ThresholdsChanged { kind, rule });
        }
        Ok(())
    }

    /// Adds or replaces a measurement schedule.
    pub fn set_schedule(&self, s: MeasurementSchedule) -> Result<(), NaraError> {
        schedule::validate_schedule(&s)?;
        self.nara
            .store
            .write(|tx, k| repo::put_schedule(tx, k, &s))?;
        self.nara.observers.publish(Change::ScheduleChanged);
        Ok(())
    }

    /// Removes a schedule.
    pub fn remove_schedule(&self, id: &str) -> Result<(), NaraError> {
        if !self
            .nara
            .store
            .write(|tx, _| repo::delete_schedule(tx, id))?
        {
            return Err(NaraError::NotFound);
        }
        self.nara.observers.publish(Change::ScheduleChanged);
        Ok(())
    }

    /// Every schedule.
    pub fn schedules(&self) -> Result<Vec<MeasurementSchedule>, NaraError> {
        Ok(self.nara.store.read(repo::schedules)?)
    }

    fn taken(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(ReadingKind, Timestamp)>, NaraError> {
        let margin = SignedDuration::from_hours(24);
        let readings = self.nara.readings().list(&ReadingFilter {
            since: Some(from - margin),
            until: Some(to + margin),
            ..ReadingFilter::default()
        })?;
        // Every measurement taken counts, a "measure again" one too: the patient did
        // measure, and a quality flag is not a missed task (ADR 0013).
        Ok(readings
            .iter()
            .map(|r| (r.kind(), r.effective_at))
            .collect())
    }

    /// Tasks of every schedule with slots in `from..=to`, with their status now.
    pub fn tasks(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Task>, NaraError> {
        let taken = self.taken(from, to)?;
        let now = self.nara.now();
        let mut out = Vec::new();
        for s in self.schedules()? {
            out.extend(schedule::tasks(&s, &taken, from, to, now)?);
        }
        out.sort_by_key(|t| t.slot.due_at);
        Ok(out)
    }

    /// Local reminders the shell should schedule from now over `horizon`.
    pub fn reminders(&self, horizon: SignedDuration) -> Result<Vec<Reminder>, NaraError> {
        let now = self.nara.now();
        let mut out = Vec::new();
        for s in self.schedules()? {
            out.extend(schedule::reminders(&s, now, horizon)?);
        }
        out.sort_by_key(|r| r.at);
        Ok(out)
    }

    /// Adherence to schedule `id` from its first day up to now, or to its last day if
    /// that has passed.
    pub fn adherence_so_far(&self, id: &str) -> Result<Adherence, NaraError> {
        let s = self
            .schedules()?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(NaraError::NotFound)?;
        let (from, to) = s.run_span()?;
        let now = self.nara.now();
        let to = to.map_or(now, |t| t.min(now)).max(from);
        self.adherence(id, from, to)
    }

    /// Adherence to schedule `id` over `from..=to`.
    pub fn adherence(
        &self,
        id: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Adherence, NaraError> {
        let s = self
            .schedules()?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(NaraError::NotFound)?;
        let taken = self.taken(from, to)?;
        Ok(schedule::adherence(&s, &taken, from, to, self.nara.now())?)
    }
}

/// Trend statistics and chart series over stored readings.
pub struct Trends<'a> {
    nara: &'a Nara,
}

impl Trends<'_> {
    fn samples(
        &self,
        kind: ReadingKind,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<TrendSample>, NaraError> {
        let readings = self.nara.readings().list(&ReadingFilter {
            kind: Some(kind),
            since: Some(from),
            until: Some(to),
            ..ReadingFilter::default()
        })?;
        Ok(readings
            .into_iter()
            .map(|r| TrendSample {
                at: r.effective_at,
                measurement: r.measurement,
                band: r.triage.band,
                off_scale: r.off_scale,
            })
            .collect())
    }

    /// Averages, min/max and band counts over the last `days` days.
    pub fn summary(&self, kind: ReadingKind, days: u32) -> Result<TrendSummary, NaraError> {
        let now = self.nara.now();
        let from = now - SignedDuration::from_hours(24 * i64::from(days));
        Ok(trend::summarize(
            kind,
            &self.samples(kind, from, now)?,
            days,
            now,
        ))
    }

    /// A chart series of `metric` over the last `days` days, downsampled (LTTB) to at most
    /// `max_points`.
    pub fn series(
        &self,
        kind: ReadingKind,
        metric: domain::reading::Metric,
        days: u32,
        max_points: usize,
    ) -> Result<Vec<SeriesPoint>, NaraError> {
        let now = self.nara.now();
        let from = now - SignedDuration::from_hours(24 * i64::from(days));
        Ok(trend::series(
            &self.samples(kind, from, now)?,
            metric,
            from,
            now,
            max_points,
        ))
    }
}
