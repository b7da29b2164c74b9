//! The core's public error: stable variants, messages free of patient data.

use thiserror::Error;

use crate::domain::chat::ChatError;
use crate::domain::schedule::ScheduleError;
use crate::domain::triage::ThresholdError;
use crate::domain::validation::{FieldError, ValidationErrors};
use crate::store::StoreError;

/// Everything that can go wrong in a call to [`crate::Nara`].
#[derive(Debug, Error)]
pub enum NaraError {
    /// The reading did not validate; one entry per field.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// A reading in an import did not validate; nothing of the batch was stored.
    #[error("reading {index} of the batch is invalid")]
    InvalidInBatch {
        /// Position in the batch.
        index: usize,
        /// Its problems.
        errors: ValidationErrors,
    },
    /// A reading with this id already exists.
    #[error("this reading is already stored")]
    Duplicate,
    /// No such reading or schedule.
    #[error("not found")]
    NotFound,
    /// A correction must have the same kind as the reading it corrects.
    #[error("a correction must be of the same kind as the reading it corrects")]
    CorrectionKindMismatch,
    /// The reading was already corrected; correct the newest version instead.
    #[error("this reading has already been corrected")]
    AlreadySuperseded,
    /// Thresholds that cannot be applied.
    #[error("invalid thresholds: {0}")]
    Thresholds(#[from] ThresholdError),
    /// A schedule that cannot be applied.
    #[error("invalid schedule: {0}")]
    Schedule(#[from] ScheduleError),
    /// A chat message that cannot be sent, or a thread that cannot take one (never
    /// names the text).
    #[error("{0}")]
    Chat(#[from] ChatError),
    /// A notice answer that the clinic's rules do not allow (never names the text).
    #[error("{0}")]
    Notice(crate::domain::notice::NoticeError),
    /// The store failed (see [`StoreError`]).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ValidationErrors> for NaraError {
    fn from(e: ValidationErrors) -> Self {
        NaraError::Invalid(e)
    }
}

impl NaraError {
    /// The per-field problems, if this is a validation error.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            NaraError::Invalid(e) | NaraError::InvalidInBatch { errors: e, .. } => &e.0,
            _ => &[],
        }
    }
}
