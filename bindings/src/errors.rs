//! One error enum per area, with stable variants and messages free of patient data.
//!
//! The core's rich [`nara_core::NaraError`] is converted here, in one place per area.
//! Messages name what went wrong, never a value, a note or a name: they end up in
//! Kotlin and Swift exception messages and crash reports.

use nara_core::domain::chat::ChatError as CoreChatError;
use nara_core::domain::notice::NoticeError as CoreNoticeError;
use nara_core::domain::validation::{Field, FieldError};
use nara_core::notices::FormError as CoreFormError;
use nara_core::store::StoreError;
use nara_core::sync::auth::{AuthError, BrowserError as CoreBrowserError};
use nara_core::sync::engine::SyncError as CoreSyncError;
use nara_core::{KeyProviderError, NaraError as CoreError};

use crate::types::{LocalizedText, Metric};

/// Failures of the FFI machinery itself; converted into each area's `Internal` variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Internal {
    /// The core panicked; the operation did not complete.
    Panic,
    /// The runtime is shutting down.
    ShutDown,
}

impl Internal {
    fn message(self) -> String {
        match self {
            Internal::Panic => "internal error in the Nära core; the operation did not complete",
            Internal::ShutDown => "the Nära core is shutting down",
        }
        .to_owned()
    }
}

/// An error raised by a Kotlin or Swift implementation of a callback (listener, log sink).
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum CallbackError {
    /// The callback failed; `detail` must not contain patient data.
    #[error("callback failed: {detail}")]
    Failed {
        /// What failed.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for CallbackError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        CallbackError::Failed { detail: e.reason }
    }
}

/// Errors of [`crate::platform::init_platform`].
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum PlatformError {
    /// The runtime already exists (second call, or a store was opened first).
    #[error("the Nära runtime was already initialised")]
    AlreadyInitialized,
}

/// Why a key provider (Keystore, Keychain) could not wrap or unwrap the data key.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum KeyError {
    /// The platform key exists but cannot be used now (device locked): try later.
    #[error("the platform key is not available now")]
    Unavailable,
    /// The platform key is gone for good (app reinstalled, biometrics reset).
    #[error("the platform key is permanently lost")]
    Lost,
    /// The wrapped key did not unwrap with this platform key.
    #[error("the data key could not be unwrapped with this key")]
    WrongKey,
    /// Anything else, described without secrets.
    #[error("key provider failure: {detail}")]
    Other {
        /// What failed.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyError::Other { detail: e.reason }
    }
}

impl From<KeyError> for KeyProviderError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Unavailable => KeyProviderError::Unavailable,
            KeyError::Lost => KeyProviderError::Lost,
            KeyError::WrongKey => KeyProviderError::WrongKey,
            KeyError::Other { detail } => KeyProviderError::Other(detail),
        }
    }
}

/// What every area can fail with besides its own errors.
enum Common {
    KeyUnavailable,
    Storage(String),
    Internal(String),
}

fn common(e: &CoreError) -> Common {
    match e {
        CoreError::Store(s) => common_store(s),
        other => Common::Internal(format!("unexpected error: {other}")),
    }
}

fn common_store(s: &StoreError) -> Common {
    match s {
        StoreError::KeyUnavailable | StoreError::KeyProvider(KeyProviderError::Unavailable) => {
            Common::KeyUnavailable
        }
        s => Common::Storage(s.to_string()),
    }
}

/// Errors opening a store ([`crate::nara::Nara::open`]).
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum OpenError {
    /// The platform key cannot be used now (device locked): open again after unlock.
    #[error("the encryption key is not available now; try again after unlocking")]
    KeyUnavailable,
    /// The key provider's key does not match this database.
    #[error("the encryption key does not match this database")]
    WrongKey,
    /// The key is permanently lost. Tell the patient, then call
    /// `Nara.openAfterKeyLoss`, which moves the unreadable database aside.
    #[error("the encryption key for this database is permanently lost")]
    KeyLost,
    /// The key provider failed in another way.
    #[error("key provider failure: {detail}")]
    KeyProvider {
        /// What failed, without secrets.
        detail: String,
    },
    /// The database was written by a newer app version; nothing was changed.
    #[error("the database was written by a newer version of the app")]
    TooNew,
    /// The data directory or database could not be used.
    #[error("storage error: {detail}")]
    Storage {
        /// What failed, without patient data.
        detail: String,
    },
    /// A bug in the core; nothing was changed.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

impl From<Internal> for OpenError {
    fn from(i: Internal) -> Self {
        OpenError::Internal {
            detail: i.message(),
        }
    }
}

impl From<CoreError> for OpenError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Store(StoreError::KeyUnavailable)
            | CoreError::Store(StoreError::KeyProvider(KeyProviderError::Unavailable)) => {
                OpenError::KeyUnavailable
            }
            CoreError::Store(StoreError::WrongKey)
            | CoreError::Store(StoreError::KeyProvider(KeyProviderError::WrongKey)) => {
                OpenError::WrongKey
            }
            CoreError::Store(StoreError::KeyLost)
            | CoreError::Store(StoreError::KeyProvider(KeyProviderError::Lost)) => {
                OpenError::KeyLost
            }
            CoreError::Store(StoreError::KeyProvider(KeyProviderError::Other(detail))) => {
                OpenError::KeyProvider { detail }
            }
            CoreError::Store(StoreError::TooNew) => OpenError::TooNew,
            CoreError::Store(s) => OpenError::Storage {
                detail: s.to_string(),
            },
            other => OpenError::Internal {
                detail: format!("unexpected error: {other}"),
            },
        }
    }
}

/// Errors of store-wide calls on [`crate::nara::Nara`].
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum NaraError {
    /// The store was closed or wiped; open it again.
    #[error("the store is closed")]
    Closed,
    /// The platform key cannot be used now (device locked).
    #[error("the encryption key is not available now; try again after unlocking")]
    KeyUnavailable,
    /// The store failed.
    #[error("storage error: {detail}")]
    Storage {
        /// What failed, without patient data.
        detail: String,
    },
    /// A bug in the core; the operation did not complete.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

/// Which input of a reading a [`FieldProblem`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReadingField {
    /// A measured value; see [`FieldProblem::metric`].
    Value,
    /// The time of measurement.
    EffectiveAt,
    /// The UTC offset.
    UtcOffset,
    /// The patient's note.
    Note,
    /// The source (device).
    Source,
    /// The list of values the device could only bound.
    OffScale,
    /// A glucose meter's context.
    GlucoseContext,
}

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Enum)]
pub enum Problem {
    /// Not a finite number.
    NotANumber,
    /// Outside the plausible range `min..=max` (canonical unit).
    OutOfRange {
        /// Lowest plausible value.
        min: f64,
        /// Highest plausible value.
        max: f64,
    },
    /// The diastolic pressure is not below the systolic.
    DiastolicNotBelowSystolic,
    /// The time lies in the future.
    InFuture,
    /// The time is implausibly far back.
    TooOld,
    /// The UTC offset is outside ±14 h.
    InvalidOffset,
    /// The note is longer than `max` characters.
    TooLong {
        /// Maximum number of characters.
        max: u64,
    },
    /// The note contains control characters.
    ControlCharacters,
    /// A device reading without a device identifier.
    MissingDeviceId,
    /// It names a value or a kind this reading does not have, or a value twice.
    NotOfThisReading,
}

/// One problem with one field of a reading, with a message for the patient that never
/// repeats the entered value.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FieldProblem {
    /// The field.
    pub field: ReadingField,
    /// For [`ReadingField::Value`], the metric.
    pub metric: Option<Metric>,
    /// The problem.
    pub problem: Problem,
    /// What to tell the patient, in Swedish and English.
    pub message: LocalizedText,
}

impl From<&FieldError> for FieldProblem {
    fn from(e: &FieldError) -> Self {
        let (field, metric) = match e.field {
            Field::Value(m) => (ReadingField::Value, Some(m)),
            Field::EffectiveAt => (ReadingField::EffectiveAt, None),
            Field::UtcOffset => (ReadingField::UtcOffset, None),
            Field::Note => (ReadingField::Note, None),
            Field::Source => (ReadingField::Source, None),
            Field::OffScale => (ReadingField::OffScale, None),
            Field::GlucoseContext => (ReadingField::GlucoseContext, None),
        };
        let problem = match e.problem {
            Problem_::NotANumber => Problem::NotANumber,
            Problem_::OutOfRange { min, max } => Problem::OutOfRange { min, max },
            Problem_::DiastolicNotBelowSystolic => Problem::DiastolicNotBelowSystolic,
            Problem_::InFuture => Problem::InFuture,
            Problem_::TooOld => Problem::TooOld,
            Problem_::InvalidOffset => Problem::InvalidOffset,
            Problem_::TooLong { max } => Problem::TooLong { max: max as u64 },
            Problem_::ControlCharacters => Problem::ControlCharacters,
            Problem_::MissingDeviceId => Problem::MissingDeviceId,
            Problem_::NotOfThisReading => Problem::NotOfThisReading,
        };
        FieldProblem {
            field,
            metric,
            problem,
            message: e.message(),
        }
    }
}

use nara_core::domain::validation::Problem as Problem_;

fn problems(errors: &[FieldError]) -> Vec<FieldProblem> {
    errors.iter().map(FieldProblem::from).collect()
}

/// Errors of [`crate::readings::Readings`].
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum ReadingError {
    /// The reading did not validate; nothing was stored. One entry per problem.
    #[error("the reading is invalid ({} problems)", problems.len())]
    Invalid {
        /// The problems, with messages for the patient.
        problems: Vec<FieldProblem>,
    },
    /// Reading `index` of an import did not validate; nothing of the batch was stored.
    #[error("reading {index} of the batch is invalid")]
    InvalidInBatch {
        /// Position in the batch, from 0.
        index: u64,
        /// Its problems.
        problems: Vec<FieldProblem>,
    },
    /// A reading with this id is already stored.
    #[error("this reading is already stored")]
    Duplicate,
    /// No reading with this id.
    #[error("reading not found")]
    NotFound,
    /// A correction must have the same kind as the reading it corrects.
    #[error("a correction must be of the same kind as the reading it corrects")]
    CorrectionKindMismatch,
    /// The reading was already corrected; correct the newest version instead.
    #[error("this reading has already been corrected")]
    AlreadySuperseded,
    /// The id is not a reading id.
    #[error("not a reading id")]
    InvalidId,
    /// The store was closed or wiped.
    #[error("the store is closed")]
    Closed,
    /// The platform key cannot be used now (device locked).
    #[error("the encryption key is not available now; try again after unlocking")]
    KeyUnavailable,
    /// The store failed; nothing was stored.
    #[error("storage error: {detail}")]
    Storage {
        /// What failed, without patient data.
        detail: String,
    },
    /// A bug in the core; the operation did not complete.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

impl From<CoreError> for ReadingError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid(errors) => ReadingError::Invalid {
                problems: problems(&errors.0),
            },
            CoreError::InvalidInBatch { index, errors } => ReadingError::InvalidInBatch {
                index: index as u64,
                problems: problems(&errors.0),
            },
            CoreError::Duplicate => ReadingError::Duplicate,
            CoreError::NotFound => ReadingError::NotFound,
            CoreError::CorrectionKindMismatch => ReadingError::CorrectionKindMismatch,
            CoreError::AlreadySuperseded => ReadingError::AlreadySuperseded,
            other => common(&other).into(),
        }
    }
}

/// Errors of [`crate::care_plan::CarePlan`].
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum CarePlanError {
    /// The thresholds cannot be applied; nothing was changed.
    #[error("invalid thresholds: {detail}")]
    InvalidThresholds {
        /// What is wrong.
        detail: String,
    },
    /// The schedule cannot be applied; nothing was changed.
    #[error("invalid schedule: {detail}")]
    InvalidSchedule {
        /// What is wrong.
        detail: String,
    },
    /// No schedule with this id.
    #[error("schedule not found")]
    NotFound,
    /// The store was closed or wiped.
    #[error("the store is closed")]
    Closed,
    /// The platform key cannot be used now (device locked).
    #[error("the encryption key is not available now; try again after unlocking")]
    KeyUnavailable,
    /// The store failed.
    #[error("storage error: {detail}")]
    Storage {
        /// What failed, without patient data.
        detail: String,
    },
    /// A bug in the core; the operation did not complete.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

impl From<CoreError> for CarePlanError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Thresholds(t) => CarePlanError::InvalidThresholds {
                detail: t.to_string(),
            },
            CoreError::Schedule(s) => CarePlanError::InvalidSchedule {
                detail: s.to_string(),
            },
            CoreError::NotFound => CarePlanError::NotFound,
            other => common(&other).into(),
        }
    }
}

/// Errors of [`crate::trends::Trends`].
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum TrendError {
    /// The store was closed or wiped.
    #[error("the store is closed")]
    Closed,
    /// The platform key cannot be used now (device locked).
    #[error("the encryption key is not available now; try again after unlocking")]
    KeyUnavailable,
    /// The store failed.
    #[error("storage error: {detail}")]
    Storage {
        /// What failed, without patient data.
        detail: String,
    },
    /// A bug in the core; the operation did not complete.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

/// Errors of [`crate::chat::Chat`]. Neither the message text nor a photo ever appears in
/// one: each names what is wrong, and the validation errors carry an `explanation` for
/// the patient in Swedish and English, written by the core.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum ChatError {
    /// Neither text nor a photo; nothing was stored.
    #[error("the message is empty")]
    Empty {
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// The text is longer than `max` characters; nothing was stored.
    #[error("the message is longer than {max} characters")]
    TooLong {
        /// The limit, in characters.
        max: u64,
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// The text contains control characters other than line breaks and tabs.
    #[error("the message contains invalid characters")]
    ControlCharacters {
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// More than `max` photos on one message; nothing was stored.
    #[error("at most {max} photos per message")]
    TooManyPhotos {
        /// The limit.
        max: u64,
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// Photo `index` is larger than `max_mb` MB; nothing was stored.
    #[error("photo {index} is larger than {max_mb} MB")]
    PhotoTooLarge {
        /// Position among the attached photos, from 0.
        index: u64,
        /// The limit in MB.
        max_mb: u64,
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// Photo `index` is not a (well-formed) JPEG, PNG or HEIC image; nothing was stored.
    #[error("photo {index} is not a JPEG, PNG or HEIC image")]
    UnsupportedPhoto {
        /// Position among the attached photos, from 0.
        index: u64,
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// The care unit closed the thread: no more messages can be written in it.
    #[error("the care unit has closed this conversation")]
    ThreadClosed {
        /// The unit's reason, as the region gave it, if any.
        reason: Option<LocalizedText>,
        /// What to tell the patient (with where to turn instead: 1177, 112).
        explanation: LocalizedText,
    },
    /// No thread with this id on the device (threads arrive with a sync).
    #[error("no such conversation")]
    NoSuchThread {
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// No such message in this thread.
    #[error("no such message in this conversation")]
    NoSuchMessage,
    /// The paging cursor is not one `page` returned.
    #[error("not a paging cursor")]
    InvalidCursor,
    /// The store was closed or wiped.
    #[error("the store is closed")]
    Closed,
    /// The platform key cannot be used now (device locked).
    #[error("the encryption key is not available now; try again after unlocking")]
    KeyUnavailable,
    /// The store failed; nothing was stored.
    #[error("storage error: {detail}")]
    Storage {
        /// What failed, without patient data.
        detail: String,
    },
    /// A bug in the core; the operation did not complete.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

impl From<CoreChatError> for ChatError {
    /// A closed thread's reason is not part of the core's error: the caller that knows
    /// the thread adds it (see `crate::chat`).
    fn from(e: CoreChatError) -> Self {
        let explanation = e.message();
        match e {
            CoreChatError::Empty => ChatError::Empty { explanation },
            CoreChatError::TooLong { max } => ChatError::TooLong {
                max: max as u64,
                explanation,
            },
            CoreChatError::ControlCharacters => ChatError::ControlCharacters { explanation },
            CoreChatError::TooManyPhotos { max } => ChatError::TooManyPhotos {
                max: max as u64,
                explanation,
            },
            CoreChatError::PhotoTooLarge { index, max_mb } => ChatError::PhotoTooLarge {
                index: index as u64,
                max_mb: max_mb as u64,
                explanation,
            },
            CoreChatError::UnsupportedPhoto { index } => ChatError::UnsupportedPhoto {
                index: index as u64,
                explanation,
            },
            CoreChatError::ThreadClosed => ChatError::ThreadClosed {
                reason: None,
                explanation,
            },
            CoreChatError::NoSuchThread => ChatError::NoSuchThread { explanation },
        }
    }
}

impl From<CoreError> for ChatError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Chat(c) => ChatError::from(c),
            CoreError::NotFound => ChatError::NoSuchMessage,
            other => common(&other).into(),
        }
    }
}

/// Errors of the notices in [`crate::notices::Notices`]. The patient's texts (a cancel
/// reason, reschedule wishes) never appear in one: each names the clinic's rule that was
/// broken, and carries an `explanation` for the patient in Swedish and English, written
/// by the core.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum NoticeError {
    /// Less than `hours` hours before the visit: the app can no longer cancel or
    /// reschedule; the patient must call the clinic (`phone`, when the notice names one).
    #[error("too late to change in the app: less than {hours} h before the appointment")]
    PastCutoff {
        /// The clinic's cut-off, in hours before the visit.
        hours: i64,
        /// The clinic's phone number, if the notice gives one.
        phone: Option<String>,
        /// What to tell the patient (with the phone number when known).
        explanation: LocalizedText,
    },
    /// The clinic moved the appointment since the patient last opened it: open it again
    /// (`open`) to see the new time, then answer.
    #[error("the clinic changed this appointment; open it to see the new time")]
    Moved {
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// The clinic cancelled the appointment.
    #[error("the clinic cancelled this appointment")]
    CancelledByClinic {
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// The visit is over.
    #[error("the appointment has passed")]
    Passed {
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// The patient already cancelled; the clinic decides what happens next.
    #[error("already cancelled")]
    AlreadyCancelled {
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// The same answer was already given.
    #[error("already answered that way")]
    AlreadyGiven {
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// A text (reason, wishes) is longer than `max` characters; nothing was stored.
    #[error("the text is longer than {max} characters")]
    TooLong {
        /// The limit, in characters.
        max: u64,
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// A reschedule request with neither wishes nor a time window.
    #[error("say when suits you: a wish or at least one time window")]
    EmptyReschedule {
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// Time window `index` (from 0) ends before it starts or has passed, or there are too
    /// many windows.
    #[error("time window {index} is not usable")]
    BadWindow {
        /// Which window, from 0.
        index: u64,
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// No notice with this id on the device (notices arrive with a sync).
    #[error("no such notice")]
    NotFound {
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// `timeZoneId` is not an IANA time zone this device knows (e.g. `Europe/Stockholm`).
    #[error("unknown time zone")]
    InvalidTimeZone,
    /// The store was closed or wiped.
    #[error("the store is closed")]
    Closed,
    /// The platform key cannot be used now (device locked).
    #[error("the encryption key is not available now; try again after unlocking")]
    KeyUnavailable,
    /// The store failed; nothing was stored.
    #[error("storage error: {detail}")]
    Storage {
        /// What failed, without patient data.
        detail: String,
    },
    /// A bug in the core, or (test hooks only) input that could not be used; the
    /// operation did not complete.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

impl From<CoreNoticeError> for NoticeError {
    fn from(e: CoreNoticeError) -> Self {
        let explanation = e.message();
        match e {
            CoreNoticeError::PastCutoff { hours, phone } => NoticeError::PastCutoff {
                hours,
                phone,
                explanation,
            },
            CoreNoticeError::Moved => NoticeError::Moved { explanation },
            CoreNoticeError::CancelledByClinic => NoticeError::CancelledByClinic { explanation },
            CoreNoticeError::Passed => NoticeError::Passed { explanation },
            CoreNoticeError::AlreadyCancelled => NoticeError::AlreadyCancelled { explanation },
            CoreNoticeError::AlreadyGiven => NoticeError::AlreadyGiven { explanation },
            CoreNoticeError::TooLong { max } => NoticeError::TooLong {
                max: max as u64,
                explanation,
            },
            CoreNoticeError::EmptyReschedule => NoticeError::EmptyReschedule { explanation },
            CoreNoticeError::BadWindow { index } => NoticeError::BadWindow {
                index: index as u64,
                explanation,
            },
            CoreNoticeError::NotFound => NoticeError::NotFound { explanation },
        }
    }
}

impl From<CoreError> for NoticeError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Notice(n) => NoticeError::from(n),
            CoreError::NotFound => NoticeError::from(CoreNoticeError::NotFound),
            other => common(&other).into(),
        }
    }
}

/// Errors of the self-care content in [`crate::content::Content`]. An article that is
/// not on the device is no error: the calls return `null`/`nil` for it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum ContentError {
    /// An article id that cannot be one (1–64 of `A–Z a–z 0–9 - .`).
    #[error("not a valid article id")]
    InvalidArticleId,
    /// An image id that cannot be one (1–64 of `A–Z a–z 0–9 - .`).
    #[error("not a valid image id")]
    InvalidImageId,
    /// An advice code that cannot be one (1–64 of `a–z 0–9 -`).
    #[error("not a valid advice code")]
    InvalidAdviceCode,
    /// A reading id that is not a UUID.
    #[error("not a valid reading id")]
    InvalidReadingId,
    /// No reading with this id.
    #[error("no such reading")]
    NoSuchReading,
    /// The store was closed or wiped.
    #[error("the store is closed")]
    Closed,
    /// The platform key cannot be used now (device locked).
    #[error("the encryption key is not available now; try again after unlocking")]
    KeyUnavailable,
    /// The store failed; nothing was stored.
    #[error("storage error: {detail}")]
    Storage {
        /// What failed, without patient data.
        detail: String,
    },
    /// A bug in the core; the operation did not complete.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

/// Errors of the Bluetooth devices area ([`crate::devices::Device`],
/// [`crate::devices::GlucoseRecordSession`]). Messages name the characteristic field and
/// byte offset, never a measured value.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum DeviceError {
    /// A characteristic UUID Nära does not decode; nothing was imported. `index` is the
    /// value's position for an import, `null`/`nil` otherwise.
    #[error("{}not a characteristic Nära decodes: {uuid}", match index { Some(i) => format!("value {i}: "), None => String::new() })]
    UnknownCharacteristic {
        /// The UUID as given.
        uuid: String,
        /// The position of the value in an import.
        index: Option<u64>,
    },
    /// The bytes do not follow the specification: `field` (in the specification's
    /// words) at byte `offset`.
    #[error("the value could not be decoded: {detail}")]
    Decode {
        /// The field.
        field: String,
        /// The byte offset where the field starts.
        offset: u64,
        /// What was wrong, without measured values.
        detail: String,
    },
    /// The device id or model is unusable (the id must be 1–64 printable characters).
    #[error("unusable device info: {detail}")]
    BadDevice {
        /// What is wrong.
        detail: String,
    },
    /// Not an IANA time zone this device knows (e.g. `Europe/Stockholm`).
    #[error("unknown time zone: {name}")]
    UnknownTimeZone {
        /// The name given.
        name: String,
    },
    /// The store was closed or wiped.
    #[error("the store is closed")]
    Closed,
    /// The platform key cannot be used now (device locked).
    #[error("the encryption key is not available now; try again after unlocking")]
    KeyUnavailable,
    /// The store failed; nothing was stored.
    #[error("storage error: {detail}")]
    Storage {
        /// What failed, without patient data.
        detail: String,
    },
    /// A bug in the core; the operation did not complete.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

impl From<nara_core::device::capture::BadDeviceInfo> for DeviceError {
    fn from(e: nara_core::device::capture::BadDeviceInfo) -> Self {
        DeviceError::BadDevice {
            detail: e.to_string(),
        }
    }
}

impl From<nara_core::devices::DeviceError> for DeviceError {
    fn from(e: nara_core::devices::DeviceError) -> Self {
        match e {
            nara_core::devices::DeviceError::Decode(d) => DeviceError::from(d),
            nara_core::devices::DeviceError::BadDevice(b) => DeviceError::from(b),
            nara_core::devices::DeviceError::Core(c) => DeviceError::from(c),
        }
    }
}

/// One problem with the answers to one form item, for the patient.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FormIssue {
    /// The item (`linkId`).
    pub link_id: String,
    /// The rule broken.
    pub code: crate::notices::IssueCode,
    /// What to do, in Swedish and English.
    pub explanation: LocalizedText,
}

impl From<nara_core::domain::questionnaire::ItemIssue> for FormIssue {
    fn from(i: nara_core::domain::questionnaire::ItemIssue) -> Self {
        FormIssue {
            link_id: i.link_id,
            code: i.code,
            explanation: i.message,
        }
    }
}

/// Errors of the forms in [`crate::notices::Notices`] (health declarations,
/// self-assessments). Answers never appear in one; items are named by `linkId` only.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum FormError {
    /// The form is not on the device yet (it comes with the next sync).
    #[error("the form is not on this device yet")]
    NotDownloaded {
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// Some answers are missing or wrong: nothing was submitted. `issues` names each
    /// item and what to do.
    #[error("{} item(s) need attention", .issues.len())]
    Invalid {
        /// The problems, one per item and rule.
        issues: Vec<FormIssue>,
        /// What to tell the patient (how many questions need attention).
        explanation: LocalizedText,
    },
    /// The form was already submitted; it is read-only now.
    #[error("already submitted")]
    AlreadySubmitted {
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// The region's form cannot be filled in in the app (an unsupported construct); the
    /// shell points the patient to the region's web form. `detail` names the item and
    /// element, never a value.
    #[error("the form cannot be used: {detail}")]
    Unusable {
        /// What is unsupported or invalid.
        detail: String,
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// The answers could not be stored or the response could not be built (a form
    /// without a canonical url, a store failure).
    #[error("the form could not be saved: {detail}")]
    Failed {
        /// What failed, without an answer.
        detail: String,
        /// What to tell the patient.
        explanation: LocalizedText,
    },
    /// The store was closed or wiped.
    #[error("the store is closed")]
    Closed,
    /// The platform key cannot be used now (device locked).
    #[error("the encryption key is not available now; try again after unlocking")]
    KeyUnavailable,
    /// The store failed; nothing was stored.
    #[error("storage error: {detail}")]
    Storage {
        /// What failed, without patient data.
        detail: String,
    },
    /// A bug in the core; the operation did not complete.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

impl From<CoreFormError> for FormError {
    fn from(e: CoreFormError) -> Self {
        let explanation = e.message();
        match e {
            CoreFormError::NotDownloaded => FormError::NotDownloaded { explanation },
            CoreFormError::Invalid(issues) => FormError::Invalid {
                issues: issues.into_iter().map(FormIssue::from).collect(),
                explanation,
            },
            CoreFormError::AlreadySubmitted => FormError::AlreadySubmitted { explanation },
            CoreFormError::Unusable(q) => FormError::Unusable {
                detail: q.to_string(),
                explanation,
            },
            CoreFormError::Response(detail) => FormError::Failed {
                detail,
                explanation,
            },
            CoreFormError::Local(e) => FormError::from(e),
        }
    }
}

/// Why a browser returned no redirect: thrown by the facades' browsers (the login helper
/// turns `Cancelled` into `SyncError::LoginCancelled`) and by the test-login browser.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum BrowserError {
    /// The patient closed the login page.
    #[error("the login was cancelled")]
    Cancelled,
    /// The browser could not be opened or failed; `detail` must not contain secrets or
    /// patient data.
    #[error("the login page failed: {detail}")]
    Failed {
        /// What failed.
        detail: String,
    },
}

impl From<CoreBrowserError> for BrowserError {
    fn from(e: CoreBrowserError) -> Self {
        match e {
            CoreBrowserError::Cancelled => BrowserError::Cancelled,
            CoreBrowserError::Failed(detail) => BrowserError::Failed { detail },
        }
    }
}

/// Errors of [`crate::region::Region`] and [`crate::nara::Nara::logout`]: login, sync,
/// status, logout. Messages never name a patient, a value, a token or a code.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum SyncError {
    /// Not logged in to a region: call `login` first.
    #[error("not logged in")]
    NotLoggedIn,
    /// Something downloaded could not be used (wrong patient, type, size or checksum).
    #[error("a downloaded resource could not be used: {detail}")]
    Unusable {
        /// The element and problem, never content.
        detail: String,
    },
    /// The login expired or was revoked: log in again. Nothing local was lost.
    #[error("login needed")]
    LoginRequired,
    /// The patient closed the login page.
    #[error("the login was cancelled")]
    LoginCancelled,
    /// `pending` changes (readings, messages, receipts) have not reached the care team
    /// yet; logging out would lose them (sync first, or log out with `force`).
    #[error("{pending} changes have not reached the care team yet")]
    UnsyncedChanges {
        /// Changes waiting for upload.
        pending: u64,
    },
    /// The login failed (discovery, refused, `state` mismatch, token exchange, transport
    /// rules such as plain http).
    #[error("login failed: {detail}")]
    Auth {
        /// What failed.
        detail: String,
    },
    /// The network failed before the region answered: try again later.
    #[error("network error: {detail}")]
    Network {
        /// What failed.
        detail: String,
    },
    /// The transport settings or a URL are not usable (bad pin length, unparsable URL).
    #[error("invalid configuration: {detail}")]
    InvalidConfig {
        /// What is wrong.
        detail: String,
    },
    /// A sync is already running in this process; its result will show in `status()`.
    #[error("a sync is already running")]
    Busy,
    /// What was passed as a push id is not an opaque id: pass only the id field of the
    /// push, never the notification itself.
    #[error("not an opaque push id")]
    BadPush,
    /// The login was refused because this phone's data belongs to another patient (or
    /// to a login at another region): a store belongs to the patient of its first login,
    /// and nothing of the refused login was kept, sent or fetched. Tell the person that
    /// the app holds someone else's data: that patient must log in (the same patient may
    /// always log in again), or the app must be logged out first, which deletes that
    /// data from the phone. Names neither patient nor region.
    #[error("this phone holds another patient's data; the login was refused")]
    AnotherPatient,
    /// The store was closed, wiped or logged out.
    #[error("the store is closed")]
    Closed,
    /// The platform key cannot be used now (device locked).
    #[error("the encryption key is not available now; try again after unlocking")]
    KeyUnavailable,
    /// The store failed.
    #[error("storage error: {detail}")]
    Storage {
        /// What failed, without patient data.
        detail: String,
    },
    /// A bug in the core; the operation did not complete.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

impl From<CoreSyncError> for SyncError {
    fn from(e: CoreSyncError) -> Self {
        match e {
            CoreSyncError::NotLoggedIn => SyncError::NotLoggedIn,
            CoreSyncError::LoginRequired | CoreSyncError::Auth(AuthError::LoginRequired) => {
                SyncError::LoginRequired
            }
            CoreSyncError::Auth(AuthError::Browser(CoreBrowserError::Cancelled)) => {
                SyncError::LoginCancelled
            }
            CoreSyncError::Auth(AuthError::Network(detail)) => SyncError::Network { detail },
            CoreSyncError::Auth(other) => SyncError::Auth {
                detail: other.to_string(),
            },
            CoreSyncError::UnsyncedChanges(pending) => SyncError::UnsyncedChanges { pending },
            CoreSyncError::Busy => SyncError::Busy,
            CoreSyncError::BadPush => SyncError::BadPush,
            CoreSyncError::AnotherPatient => SyncError::AnotherPatient,
            CoreSyncError::Unusable(detail) => SyncError::Unusable { detail },
            CoreSyncError::Store(s) => common_store(&s).into(),
            CoreSyncError::Local(e) => common(&e).into(),
        }
    }
}

impl From<CoreError> for SyncError {
    fn from(e: CoreError) -> Self {
        SyncError::from(CoreSyncError::Local(e))
    }
}

/// A store closed by `close()` or `wipe()`; each area converts it to its `Closed`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Closed;

/// The conversions every area error shares, into its `Closed`, `KeyUnavailable`,
/// `Storage` and `Internal` variants: from [`Closed`], [`Internal`] and [`Common`]. The
/// areas after `common only:` have no error of their own in the core, so their
/// `From<CoreError>` is the common mapping alone; the others write theirs out above and
/// end it with `other => common(&other).into()`.
macro_rules! area_errors {
    (own arms: $($own:ident),*; common only: $($plain:ident),*;) => {
        $(area_errors!(@shared $own);)*
        $(
            area_errors!(@shared $plain);
            impl From<CoreError> for $plain {
                fn from(e: CoreError) -> Self {
                    common(&e).into()
                }
            }
        )*
    };
    (@shared $t:ident) => {
        impl From<Closed> for $t {
            fn from(_: Closed) -> Self {
                $t::Closed
            }
        }
        impl From<Internal> for $t {
            fn from(i: Internal) -> Self {
                $t::Internal {
                    detail: i.message(),
                }
            }
        }
        impl From<Common> for $t {
            fn from(c: Common) -> Self {
                match c {
                    Common::KeyUnavailable => $t::KeyUnavailable,
                    Common::Storage(detail) => $t::Storage { detail },
                    Common::Internal(detail) => $t::Internal { detail },
                }
            }
        }
    };
}
area_errors! {
    own arms: ReadingError, CarePlanError, ChatError, NoticeError, SyncError;
    common only: NaraError, TrendError, ContentError, DeviceError, FormError;
}
