//! The readings area: capture, correct, import, list and watch readings.

use std::sync::Arc;
use std::time::SystemTime;

use nara_core::domain::reading::{NewReading as CoreNewReading, ReadingId};
use nara_core::domain::validation::{Field, FieldError, Problem as CoreProblem};
use nara_core::{
    Change as CoreChange, ImportReport as CoreImportReport, ReadingFilter as CoreFilter,
};

use crate::errors::{CallbackError, FieldProblem, ReadingError};
use crate::nara::Shared;
use crate::observe::{StopReason, TaskHandle, spawn_watch};
use crate::platform::blocking;
use crate::types::{NewReading, Reading, ReadingKind, bound, from_system};

pub use nara_core::ImportReport;

/// The outcome of an import.
#[uniffi::remote(Record)]
pub struct ImportReport {
    /// Readings stored.
    pub inserted: u64,
    /// Readings already stored (same id), skipped.
    pub duplicates: u64,
}

/// Which readings to list; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct ReadingFilter {
    /// Only this kind.
    #[uniffi(default)]
    pub kind: Option<ReadingKind>,
    /// Measured at or after.
    #[uniffi(default)]
    pub since: Option<SystemTime>,
    /// Measured at or before.
    #[uniffi(default)]
    pub until: Option<SystemTime>,
    /// Include readings replaced by a correction.
    #[uniffi(default)]
    pub include_superseded: bool,
    /// At most this many, newest first.
    #[uniffi(default)]
    pub limit: Option<u32>,
}

impl From<ReadingFilter> for CoreFilter {
    fn from(f: ReadingFilter) -> Self {
        CoreFilter {
            kind: f.kind,
            since: f.since.map(bound),
            until: f.until.map(bound),
            include_superseded: f.include_superseded,
            limit: f.limit.map(|l| l as usize),
        }
    }
}

/// Progress of a long import, for a progress bar.
#[uniffi::export(with_foreign)]
pub trait ImportProgress: Send + Sync {
    /// `done` of `total` readings handled so far.
    fn on_progress(&self, done: u64, total: u64) -> Result<(), CallbackError>;
}

/// Receives a list of readings: the current list first, then the new list after every
/// change that could alter it.
#[uniffi::export(with_foreign)]
pub trait ReadingsListener: Send + Sync {
    /// The readings matching the filter, newest first.
    fn on_readings(&self, readings: Vec<Reading>) -> Result<(), CallbackError>;
    /// The watch stopped (store closed or wiped, or a read failed); no more calls follow.
    fn on_stopped(&self, reason: StopReason) -> Result<(), CallbackError>;
}

fn to_core(new: NewReading) -> Result<CoreNewReading, ReadingError> {
    let effective_at = from_system(new.effective_at).ok_or_else(|| {
        let problem = if new.effective_at < SystemTime::UNIX_EPOCH {
            CoreProblem::TooOld
        } else {
            CoreProblem::InFuture
        };
        ReadingError::Invalid {
            problems: vec![FieldProblem::from(&FieldError {
                field: Field::EffectiveAt,
                problem,
            })],
        }
    })?;
    Ok(CoreNewReading {
        measurement: new.measurement,
        effective_at,
        utc_offset_seconds: new.utc_offset_seconds,
        source: new.source,
        quality: new.quality,
        off_scale: new.off_scale,
        glucose_context: new.glucose_context,
        note: new.note,
    })
}

fn parse_id(id: &str) -> Result<ReadingId, ReadingError> {
    ReadingId::parse(id).ok_or(ReadingError::InvalidId)
}

/// Reading capture and history.
#[derive(uniffi::Object)]
pub struct Readings {
    shared: Arc<Shared>,
}

impl Readings {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Readings { shared }
    }
}

#[uniffi::export]
impl Readings {
    /// Validates, triages and durably stores a reading. When this returns, the reading
    /// survives a killed app or a power cut.
    pub async fn add(&self, reading: NewReading) -> Result<Reading, ReadingError> {
        let core = self.shared.get()?;
        let new = to_core(reading)?;
        blocking(move || Ok(core.readings().add(new)?.into())).await
    }

    /// Stores `reading` as a correction of reading `id`, which stays in history,
    /// superseded.
    pub async fn correct(&self, id: String, reading: NewReading) -> Result<Reading, ReadingError> {
        let core = self.shared.get()?;
        let old = parse_id(&id)?;
        let new = to_core(reading)?;
        blocking(move || Ok(core.readings().correct(old, new)?.into())).await
    }

    /// Imports many readings (a device's memory) durably. Readings already stored are
    /// skipped, so importing the same device memory twice adds nothing. One invalid
    /// reading rejects the batch (`InvalidInBatch`) and nothing is stored.
    pub async fn import_readings(
        &self,
        batch: Vec<NewReading>,
        progress: Option<Arc<dyn ImportProgress>>,
    ) -> Result<CoreImportReport, ReadingError> {
        let core = self.shared.get()?;
        let mut converted = Vec::with_capacity(batch.len());
        for (index, new) in batch.into_iter().enumerate() {
            converted.push(to_core(new).map_err(|e| match e {
                ReadingError::Invalid { problems } => ReadingError::InvalidInBatch {
                    index: index as u64,
                    problems,
                },
                other => other,
            })?);
        }
        blocking(move || {
            Ok(core.readings().import(converted, |done, total| {
                if let Some(p) = &progress {
                    let _ = p.on_progress(done, total);
                }
            })?)
        })
        .await
    }

    /// One reading by id, or `null`/`nil`.
    pub async fn get(&self, id: String) -> Result<Option<Reading>, ReadingError> {
        let core = self.shared.get()?;
        let id = parse_id(&id)?;
        blocking(move || Ok(core.readings().get(id)?.map(Reading::from))).await
    }

    /// Readings matching `filter`, newest first.
    pub async fn list(&self, filter: ReadingFilter) -> Result<Vec<Reading>, ReadingError> {
        let core = self.shared.get()?;
        blocking(move || {
            let list = core.readings().list(&filter.into())?;
            Ok(list.into_iter().map(Reading::from).collect())
        })
        .await
    }

    /// Number of stored readings, corrected ones included.
    pub async fn count(&self) -> Result<u64, ReadingError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.readings().count()?)).await
    }

    /// Watches the readings matching `filter`: `listener` gets the current list at once,
    /// then the new list after each capture or import, until the handle is cancelled or
    /// dropped or the store closes.
    pub fn watch(
        &self,
        filter: ReadingFilter,
        listener: Arc<dyn ReadingsListener>,
    ) -> Result<Arc<TaskHandle>, ReadingError> {
        let filter = CoreFilter::from(filter);
        spawn_watch(
            &self.shared,
            listener,
            move |core| {
                let list = core.readings().list(&filter)?;
                Ok(list.into_iter().map(Reading::from).collect())
            },
            |c| {
                matches!(
                    c,
                    CoreChange::ReadingAdded { .. } | CoreChange::ReadingsImported { .. }
                )
            },
            ReadingsListener::on_readings,
            ReadingsListener::on_stopped,
        )
    }
}
