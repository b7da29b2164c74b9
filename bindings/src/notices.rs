//! The notices area: appointment notices (kallelser) with their state, the patient's
//! answer (confirm, cancel, ask for another time), reminders to schedule, the calendar
//! file, and the forms that come with them (health declarations, self-assessments)
//! as a model the shells render natively, with drafts and submission.
//!
//! Converts and forwards to `nara_core::notices`; every rule (the clinic's cut-off,
//! which items are enabled, what an answer must satisfy, the texts shown to the patient)
//! stays in the core. A cancel reason, reschedule wishes and form answers are patient
//! data: they cross the boundary in records only, never in an error, a log line or a
//! panic.
//!
//! Notices and forms come from the region with a sync; answers, receipts and submitted
//! forms are queued and the next `Region.syncNow` sends them.

use std::sync::Arc;
use std::time::SystemTime;

use jiff::tz::TimeZone;
use nara_core::Change as CoreChange;
use nara_core::domain::notice::{
    Answer as CoreAnswer, GivenAnswer as CoreGivenAnswer, NoticeReminder as CoreReminder,
};
use nara_core::domain::questionnaire::{
    AnswerOption as CoreOption, AnswerValue, Answers as CoreAnswers, Form as CoreForm,
    Item as CoreItem,
};
use nara_core::notices::{FormSession as CoreSession, NoticeView, Submitted as CoreSubmitted};

use crate::errors::{CallbackError, FormError, FormIssue, NoticeError};
use crate::nara::Shared;
use crate::observe::{StopReason, TaskHandle, spawn_watch};
use crate::platform::blocking;
use crate::types::{LocalizedText, Reading, ReadingKind, from_system, to_system};

pub use nara_core::domain::notice::{
    AnswerDelivery, AppointmentStatus, NoticeReminderKind, NoticeState, Place, Practitioner,
};
pub use nara_core::domain::questionnaire::{Coding, IssueCode, ItemKind};
pub use nara_core::notices::DeclarationState;

/// The appointment's status at the clinic (FHIR `Appointment.status`, simplified).
#[uniffi::remote(Enum)]
pub enum AppointmentStatus {
    /// Booked (also `arrived`, `checked-in`).
    Booked,
    /// Proposed or pending: the clinic has not fixed it yet.
    Proposed,
    /// Cancelled by the clinic (or `noshow`, `entered-in-error`).
    Cancelled,
    /// The visit took place.
    Fulfilled,
}

/// The notice's state for the patient. Show it with [`Notice::state_label`], never by
/// colour alone.
#[uniffi::remote(Enum)]
pub enum NoticeState {
    /// Not opened yet.
    New,
    /// Opened, not answered.
    Opened,
    /// Confirmed, cancelled or a new time asked for.
    Answered,
    /// The visit is over.
    Passed,
    /// The clinic cancelled it.
    CancelledByClinic,
    /// The clinic moved it since the patient last looked: open it again.
    MovedByClinic,
}

/// Where an answer is on its way to the clinic.
#[uniffi::remote(Enum)]
pub enum AnswerDelivery {
    /// Waiting for a network.
    Queued,
    /// The region has it.
    Sent,
    /// Not sent: the clinic changed the time or status first.
    Overtaken,
}

/// Where the health declaration of a notice stands.
#[uniffi::remote(Enum)]
pub enum DeclarationState {
    /// The form has not arrived yet (it comes with the next sync).
    NotDownloaded,
    /// Not started.
    NotStarted,
    /// A draft is saved.
    Draft,
    /// Submitted.
    Submitted,
}

/// What a reminder is for.
#[uniffi::remote(Enum)]
pub enum NoticeReminderKind {
    /// The day before the visit.
    DayBefore,
    /// Two hours before the visit.
    SoonBefore,
    /// The health declaration is not filled in yet.
    Declaration,
}

/// Where the visit is.
#[uniffi::remote(Record)]
pub struct Place {
    /// The clinic's name.
    pub name: String,
    /// Street address lines.
    pub lines: Vec<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// City.
    pub city: Option<String>,
    /// The clinic's phone number (shown when a change is refused as too late).
    pub phone: Option<String>,
}

/// Who the patient meets (display only).
#[uniffi::remote(Record)]
pub struct Practitioner {
    /// Name.
    pub name: String,
    /// Role, e.g. "Distriktssköterska".
    pub role: Option<String>,
}

/// The item types a form can have.
#[uniffi::remote(Enum)]
pub enum ItemKind {
    /// A heading holding other items; no answer of its own.
    Group,
    /// Text to show; no answer.
    Display,
    /// Yes/no: [`FormAnswer::Boolean`].
    Boolean,
    /// A whole number: [`FormAnswer::Integer`].
    Integer,
    /// A decimal number: [`FormAnswer::Decimal`].
    Decimal,
    /// A short free text: [`FormAnswer::Text`].
    String,
    /// A longer free text (multi-line): [`FormAnswer::Text`].
    Text,
    /// A date: [`FormAnswer::Date`].
    Date,
    /// A date and time: [`FormAnswer::DateTime`].
    DateTime,
    /// One (or, if repeating, several) of the options: usually [`FormAnswer::Coding`].
    Choice,
    /// One of the options or a free text.
    OpenChoice,
}

/// The rule an answer breaks.
#[uniffi::remote(Enum)]
pub enum IssueCode {
    /// A required item that is shown has no answer.
    Required,
    /// The answer's type does not fit the item.
    WrongType,
    /// The answer is for an item the form does not have.
    UnknownItem,
    /// Several answers to an item that does not repeat.
    TooManyAnswers,
    /// An integer beyond 32 bits.
    IntegerOverflow,
    /// A decimal that is not a finite number.
    NotANumber,
    /// A date or date-time that cannot be read.
    InvalidDate,
    /// Below the item's minimum.
    BelowMin,
    /// Above the item's maximum.
    AboveMax,
    /// Shorter than the item's minimum length.
    TooShort,
    /// Longer than the item's maximum length.
    TooLong,
    /// Text that is empty or only white space.
    Blank,
    /// Not one of the item's options.
    NotAnOption,
}

/// A code with its code system (FHIR `Coding`): the value of a choice option.
#[uniffi::remote(Record)]
pub struct Coding {
    /// Code system URI.
    pub system: Option<String>,
    /// The code.
    pub code: Option<String>,
    /// Human-readable display.
    pub display: Option<String>,
}

/// A time span the patient suggests for a new appointment.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TimeWindow {
    /// From.
    pub start: SystemTime,
    /// Until (after `start`, in the future).
    pub end: SystemTime,
}

/// What the patient answers to a notice.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum NoticeAnswer {
    /// I will come.
    Confirm,
    /// I will not come. Only before the clinic's cut-off.
    Cancel {
        /// Why (free text, may be empty; patient data).
        reason: String,
    },
    /// Please give me another time. Only before the clinic's cut-off.
    Reschedule {
        /// When suits the patient, as free text (may be empty if windows are given).
        wishes: String,
        /// Preferred time windows.
        windows: Vec<TimeWindow>,
    },
}

impl From<CoreAnswer> for NoticeAnswer {
    fn from(a: CoreAnswer) -> Self {
        match a {
            CoreAnswer::Confirm => NoticeAnswer::Confirm,
            CoreAnswer::Cancel { reason } => NoticeAnswer::Cancel { reason },
            CoreAnswer::Reschedule { wishes, windows } => NoticeAnswer::Reschedule {
                wishes,
                windows: windows
                    .into_iter()
                    .map(|(s, e)| TimeWindow {
                        start: to_system(s),
                        end: to_system(e),
                    })
                    .collect(),
            },
        }
    }
}

impl TryFrom<NoticeAnswer> for CoreAnswer {
    type Error = NoticeError;

    fn try_from(a: NoticeAnswer) -> Result<Self, NoticeError> {
        Ok(match a {
            NoticeAnswer::Confirm => CoreAnswer::Confirm,
            NoticeAnswer::Cancel { reason } => CoreAnswer::Cancel { reason },
            NoticeAnswer::Reschedule { wishes, windows } => {
                let mut out = Vec::with_capacity(windows.len());
                for (index, w) in windows.into_iter().enumerate() {
                    match (from_system(w.start), from_system(w.end)) {
                        (Some(s), Some(e)) => out.push((s, e)),
                        _ => {
                            return Err(NoticeError::from(
                                nara_core::domain::notice::NoticeError::BadWindow { index },
                            ));
                        }
                    }
                }
                CoreAnswer::Reschedule {
                    wishes,
                    windows: out,
                }
            }
        })
    }
}

/// An answer the patient gave, and where it is on its way to the clinic.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GivenNoticeAnswer {
    /// Its id (the identifier at the region).
    pub id: String,
    /// The answer (texts trimmed).
    pub answer: NoticeAnswer,
    /// When it was given.
    pub at: SystemTime,
    /// The start of the appointment it answered.
    pub for_start: SystemTime,
    /// Its delivery.
    pub delivery: AnswerDelivery,
}

impl From<CoreGivenAnswer> for GivenNoticeAnswer {
    fn from(g: CoreGivenAnswer) -> Self {
        GivenNoticeAnswer {
            id: g.id,
            answer: g.answer.into(),
            at: to_system(g.at),
            for_start: to_system(g.for_start),
            delivery: g.delivery,
        }
    }
}

/// An appointment notice with its state for the patient.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Notice {
    /// The region's id (stable).
    pub id: String,
    /// The clinic's status.
    pub status: AppointmentStatus,
    /// The clinic's reason, when it cancelled.
    pub cancel_reason: Option<String>,
    /// Start of the visit.
    pub start: SystemTime,
    /// End of the visit, if known.
    pub end: Option<SystemTime>,
    /// What the visit is ("Diabetesmottagning").
    pub service: String,
    /// Where, if at a clinic.
    pub place: Option<Place>,
    /// The video meeting link (https), for a video visit.
    pub video_url: Option<String>,
    /// Whom the patient meets.
    pub practitioner: Option<Practitioner>,
    /// How to prepare (plain text from the clinic).
    pub preparation: Option<String>,
    /// The same, as a sanitised document to render like an article: its
    /// `nara:content/<id>` links open self-care articles.
    pub preparation_document: Option<crate::content::Document>,
    /// The clinic's cut-off: cancel or reschedule in the app up to this many hours
    /// before the visit.
    pub cutoff_hours: i64,
    /// The id of the health declaration form, if the clinic asks for one.
    pub questionnaire_id: Option<String>,
    /// The state now.
    pub state: NoticeState,
    /// The state as words for the patient.
    pub state_label: LocalizedText,
    /// Whether the app can still cancel or reschedule (else: call the clinic).
    pub can_change: bool,
    /// The health declaration's progress, if the notice has one.
    pub declaration: Option<DeclarationState>,
    /// When the patient first opened it.
    pub opened_at: Option<SystemTime>,
    /// The answer that counts now (the newest one not overtaken by the clinic).
    pub current_answer: Option<GivenNoticeAnswer>,
    /// Every answer given, oldest first.
    pub answers: Vec<GivenNoticeAnswer>,
}

impl From<NoticeView> for Notice {
    fn from(v: NoticeView) -> Self {
        let n = v.notice;
        Notice {
            current_answer: v.local.current_answer().cloned().map(Into::into),
            id: n.id,
            status: n.status,
            cancel_reason: n.cancel_reason,
            start: to_system(n.start),
            end: n.end.map(to_system),
            service: n.service,
            place: n.place,
            video_url: n.video_url,
            practitioner: n.practitioner,
            preparation: n.preparation,
            preparation_document: v.preparation.map(Into::into),
            cutoff_hours: n.cutoff.as_hours(),
            questionnaire_id: n.questionnaire_id,
            state: v.state,
            state_label: v.state.label(),
            can_change: v.can_change,
            declaration: v.declaration,
            opened_at: v.local.opened_at.map(to_system),
            answers: v
                .local
                .answers
                .into_iter()
                .map(GivenNoticeAnswer::from)
                .collect(),
        }
    }
}

/// A local notification to schedule. The text names no diagnosis, clinic or person: it
/// shows on a lock screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NoticeReminder {
    /// Stable id: schedule by it, replacing the earlier one with the same id.
    pub id: String,
    /// The notice.
    pub notice_id: String,
    /// What for.
    pub kind: NoticeReminderKind,
    /// When to show it.
    pub at: SystemTime,
    /// The text.
    pub text: LocalizedText,
}

impl From<CoreReminder> for NoticeReminder {
    fn from(r: CoreReminder) -> Self {
        NoticeReminder {
            id: r.id,
            notice_id: r.notice_id,
            kind: r.kind,
            at: to_system(r.at),
            text: r.text,
        }
    }
}

/// One answer value of a form item.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum FormAnswer {
    /// Yes or no.
    Boolean {
        /// The answer.
        value: bool,
    },
    /// A whole number.
    Integer {
        /// The answer.
        value: i64,
    },
    /// A decimal number.
    Decimal {
        /// The answer.
        value: f64,
    },
    /// Free text (`String` and `Text` items, or the free text of an `OpenChoice`).
    Text {
        /// The answer (patient data).
        value: String,
    },
    /// A date: `YYYY-MM-DD` (or `YYYY`, `YYYY-MM`).
    Date {
        /// The answer.
        value: String,
    },
    /// A date and time with a UTC offset: `2026-12-10T09:30:00+01:00`.
    DateTime {
        /// The answer.
        value: String,
    },
    /// A chosen option.
    Coding {
        /// The option's coding, as in [`FormOption::value`].
        coding: Coding,
    },
}

impl From<AnswerValue> for FormAnswer {
    fn from(v: AnswerValue) -> Self {
        match v {
            AnswerValue::Boolean(value) => FormAnswer::Boolean { value },
            AnswerValue::Integer(value) => FormAnswer::Integer { value },
            AnswerValue::Decimal(value) => FormAnswer::Decimal { value },
            AnswerValue::String(value) => FormAnswer::Text { value },
            AnswerValue::Date(value) => FormAnswer::Date { value },
            AnswerValue::DateTime(value) => FormAnswer::DateTime { value },
            AnswerValue::Coding(coding) => FormAnswer::Coding { coding },
        }
    }
}

impl From<FormAnswer> for AnswerValue {
    fn from(v: FormAnswer) -> Self {
        match v {
            FormAnswer::Boolean { value } => AnswerValue::Boolean(value),
            FormAnswer::Integer { value } => AnswerValue::Integer(value),
            FormAnswer::Decimal { value } => AnswerValue::Decimal(value),
            FormAnswer::Text { value } => AnswerValue::String(value),
            FormAnswer::Date { value } => AnswerValue::Date(value),
            FormAnswer::DateTime { value } => AnswerValue::DateTime(value),
            FormAnswer::Coding { coding } => AnswerValue::Coding(coding),
        }
    }
}

/// One option of a choice item.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FormOption {
    /// The value to answer with when the patient picks it.
    pub value: FormAnswer,
    /// What to show, in Swedish and English: the coding's display with its
    /// `_display` translation (or the code), or the value itself.
    pub label: LocalizedText,
    /// Selected initially.
    pub initial_selected: bool,
}

fn option_label(v: &AnswerValue) -> LocalizedText {
    let text = match v {
        AnswerValue::Coding(c) => c
            .display
            .clone()
            .or_else(|| c.code.clone())
            .unwrap_or_default(),
        AnswerValue::Boolean(b) => b.to_string(),
        AnswerValue::Integer(i) => i.to_string(),
        AnswerValue::Decimal(d) => d.to_string(),
        AnswerValue::String(s) | AnswerValue::Date(s) | AnswerValue::DateTime(s) => s.clone(),
    };
    LocalizedText::new(text.clone(), text)
}

impl From<CoreOption> for FormOption {
    fn from(o: CoreOption) -> Self {
        FormOption {
            label: o.label.unwrap_or_else(|| option_label(&o.value)),
            value: o.value.into(),
            initial_selected: o.initial_selected,
        }
    }
}

/// One item of a form, with its children: render it natively by `kind`. Show it only
/// when its `link_id` is in [`FormSession::enabled`].
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FormItem {
    /// The item's id within the form; answers are keyed by it.
    pub link_id: String,
    /// The question or heading, in Swedish and English (both the form's own text when
    /// the form has no translation).
    pub text: Option<LocalizedText>,
    /// A label before the text ("1.", "a)").
    pub prefix: Option<String>,
    /// What kind of item.
    pub kind: ItemKind,
    /// An answer is required when the item is shown.
    pub required: bool,
    /// Several answers are allowed.
    pub repeats: bool,
    /// Shown but not editable (a computed score, for example).
    pub read_only: bool,
    /// The options of a choice item.
    pub options: Vec<FormOption>,
    /// The smallest allowed answer (a number or a date).
    pub min_value: Option<FormAnswer>,
    /// The largest allowed answer.
    pub max_value: Option<FormAnswer>,
    /// The longest allowed text, in characters.
    pub max_length: Option<u32>,
    /// The shortest allowed text.
    pub min_length: Option<u32>,
    /// The unit of a number, in UCUM (`kg`, `cm`).
    pub unit: Option<String>,
    /// The kind of reading the item is pre-filled from, if it is linked to one.
    pub prefilled_from: Option<ReadingKind>,
    /// Items inside this one (a group's questions, follow-up questions).
    pub children: Vec<FormItem>,
}

impl From<CoreItem> for FormItem {
    fn from(i: CoreItem) -> Self {
        FormItem {
            link_id: i.link_id,
            text: i.text,
            prefix: i.prefix,
            kind: i.kind,
            required: i.required,
            repeats: i.repeats,
            read_only: i.read_only,
            options: i.answer_options.into_iter().map(FormOption::from).collect(),
            min_value: i.min_value.map(Into::into),
            max_value: i.max_value.map(Into::into),
            max_length: i.max_length,
            min_length: i.min_length,
            unit: i.unit,
            prefilled_from: i.reading.map(|r| r.kind),
            children: i.children.into_iter().map(FormItem::from).collect(),
        }
    }
}

/// A form to render (a health declaration, a self-assessment).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FormModel {
    /// The region's id of the form.
    pub id: Option<String>,
    /// Its canonical url.
    pub url: Option<String>,
    /// Its version.
    pub version: Option<String>,
    /// The title, in Swedish and English.
    pub title: Option<LocalizedText>,
    /// The top-level items, in order.
    pub items: Vec<FormItem>,
    /// Whether submitting it stores a score as a reading.
    pub scored: bool,
}

impl From<CoreForm> for FormModel {
    fn from(f: CoreForm) -> Self {
        FormModel {
            id: f.id,
            url: f.url,
            version: f.version,
            title: f.title,
            items: f.items.into_iter().map(FormItem::from).collect(),
            scored: f.score.is_some(),
        }
    }
}

/// The answers to one item.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FormItemAnswers {
    /// The item.
    pub link_id: String,
    /// Its answers (one unless the item repeats; empty clears it).
    pub values: Vec<FormAnswer>,
}

fn to_core_answers(answers: Vec<FormItemAnswers>) -> CoreAnswers {
    let mut out = CoreAnswers::new();
    for a in answers {
        out.set(a.link_id, a.values.into_iter().map(Into::into).collect());
    }
    out
}

/// A form being filled in: the model, the answers so far, which items to show and
/// what is wrong.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FormSession {
    /// The form.
    pub form: FormModel,
    /// The answers so far (pre-filled from recent readings when new), by item.
    pub answers: Vec<FormItemAnswers>,
    /// The `linkId`s to show now (the core evaluates enableWhen); hide the others.
    pub enabled: Vec<String>,
    /// What needs an answer or a correction before submitting (empty: ready).
    pub issues: Vec<FormIssue>,
    /// Already submitted: show it read-only.
    pub submitted: bool,
}

impl From<CoreSession> for FormSession {
    fn from(s: CoreSession) -> Self {
        FormSession {
            answers: s
                .answers
                .iter()
                .map(|(link_id, values)| FormItemAnswers {
                    link_id: link_id.to_owned(),
                    values: values.iter().cloned().map(FormAnswer::from).collect(),
                })
                .collect(),
            form: s.form.into(),
            enabled: s.enabled,
            issues: s.issues.into_iter().map(FormIssue::from).collect(),
            submitted: s.submitted,
        }
    }
}

/// What a submission did.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FormSubmitted {
    /// The response's id (its identifier at the region).
    pub response_id: String,
    /// The score stored as a reading, for a scored form.
    pub score_reading: Option<Reading>,
}

impl From<CoreSubmitted> for FormSubmitted {
    fn from(s: CoreSubmitted) -> Self {
        FormSubmitted {
            response_id: s.response_id,
            score_reading: s.score_reading.map(Reading::from),
        }
    }
}

/// Receives the notice list: the current list first, then the new list after every
/// change to a notice (a sync, an opening, an answer, a form saved or submitted).
#[uniffi::export(with_foreign)]
pub trait NoticesListener: Send + Sync {
    /// Every notice: upcoming ones first (soonest first), then past and cancelled ones.
    fn on_notices(&self, notices: Vec<Notice>) -> Result<(), CallbackError>;
    /// The watch stopped (store closed or wiped, or a read failed); no more calls follow.
    fn on_stopped(&self, reason: StopReason) -> Result<(), CallbackError>;
}

fn list_blocking(core: &nara_core::Nara) -> Result<Vec<Notice>, NoticeError> {
    Ok(core
        .notices()
        .list()?
        .into_iter()
        .map(Notice::from)
        .collect())
}

/// Submits through the core.
fn submit_blocking(
    core: &nara_core::Nara,
    questionnaire_id: &str,
    notice_id: Option<&str>,
) -> Result<FormSubmitted, FormError> {
    Ok(core.notices().submit(questionnaire_id, notice_id)?.into())
}

/// Appointment notices and their forms.
#[derive(uniffi::Object)]
pub struct Notices {
    shared: Arc<Shared>,
}

impl Notices {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Notices { shared }
    }
}

#[uniffi::export]
impl Notices {
    /// Every notice: upcoming ones first (soonest first), then past and cancelled ones
    /// (newest first).
    pub async fn list(&self) -> Result<Vec<Notice>, NoticeError> {
        let core = self.shared.get()?;
        blocking(move || list_blocking(&core)).await
    }

    /// One notice, without opening it, or `null`/`nil`.
    pub async fn get(&self, notice_id: String) -> Result<Option<Notice>, NoticeError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.notices().get(&notice_id)?.map(Notice::from))).await
    }

    /// The patient opens the notice: the time shown is remembered as seen (an answer is
    /// checked against it), and the first opening queues the receipt the clinic sees.
    /// Call it when the notice is shown, before an answer.
    pub async fn open(&self, notice_id: String) -> Result<Notice, NoticeError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.notices().open(&notice_id)?.into())).await
    }

    /// Answers a notice: confirm, cancel or ask for another time (the last two only
    /// before the clinic's cut-off: `PastCutoff` carries the clinic's phone). Stored and
    /// queued for the next sync in one step. Errors name the rule, never the text.
    pub async fn answer(
        &self,
        notice_id: String,
        answer: NoticeAnswer,
    ) -> Result<GivenNoticeAnswer, NoticeError> {
        let core = self.shared.get()?;
        let answer = CoreAnswer::try_from(answer)?;
        blocking(move || Ok(core.notices().answer(&notice_id, answer)?.into())).await
    }

    /// The local notifications to schedule now, for every notice, in time order, with
    /// times written in `time_zone_id` (the phone's IANA zone, e.g.
    /// `Europe/Stockholm`). Call again after each change and replace what was
    /// scheduled, by id.
    pub async fn reminders(
        &self,
        time_zone_id: String,
    ) -> Result<Vec<NoticeReminder>, NoticeError> {
        let core = self.shared.get()?;
        let tz = TimeZone::get(&time_zone_id).map_err(|_| NoticeError::InvalidTimeZone)?;
        blocking(move || {
            Ok(core
                .notices()
                .reminders(&tz)?
                .into_iter()
                .map(NoticeReminder::from)
                .collect())
        })
        .await
    }

    /// The notice as an iCalendar file (RFC 5545, `text/calendar`) for the patient's
    /// calendar app.
    pub async fn calendar(&self, notice_id: String) -> Result<String, NoticeError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.notices().calendar(&notice_id)?)).await
    }

    /// Whether form `questionnaire_id` is on the device.
    pub async fn has_form(&self, questionnaire_id: String) -> Result<bool, FormError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.notices().has_form(&questionnaire_id)?)).await
    }

    /// Opens form `questionnaire_id` for notice `notice_id` (or on its own): the saved
    /// draft, or a new one pre-filled from recent readings, or the submitted answers
    /// (then `submitted`, read-only).
    pub async fn form(
        &self,
        questionnaire_id: String,
        notice_id: Option<String>,
    ) -> Result<FormSession, FormError> {
        let core = self.shared.get()?;
        blocking(move || {
            Ok(core
                .notices()
                .form(&questionnaire_id, notice_id.as_deref())?
                .into())
        })
        .await
    }

    /// Saves `answers` (all of them, replacing the draft) sealed on the device; returns
    /// the session with what to show and what is wrong now. Call it as the patient
    /// answers: the enabled items follow the answers.
    pub async fn save_draft(
        &self,
        questionnaire_id: String,
        notice_id: Option<String>,
        answers: Vec<FormItemAnswers>,
    ) -> Result<FormSession, FormError> {
        let core = self.shared.get()?;
        let answers = to_core_answers(answers);
        blocking(move || {
            Ok(core
                .notices()
                .save_draft(&questionnaire_id, notice_id.as_deref(), answers)?
                .into())
        })
        .await
    }

    /// What `answers` enable and what is wrong with them, without saving: for a screen
    /// that updates as the patient types (save with `saveDraft`, e.g. when leaving a
    /// page).
    pub async fn check(
        &self,
        questionnaire_id: String,
        answers: Vec<FormItemAnswers>,
    ) -> Result<FormSession, FormError> {
        let core = self.shared.get()?;
        let answers = to_core_answers(answers);
        blocking(move || Ok(core.notices().check(&questionnaire_id, answers)?.into())).await
    }

    /// Submits the saved draft: nothing is sent if an item has a problem (`Invalid`
    /// lists them); otherwise the response is queued for the next sync, once, and a
    /// scored form's score is stored as a reading.
    pub async fn submit(
        &self,
        questionnaire_id: String,
        notice_id: Option<String>,
    ) -> Result<FormSubmitted, FormError> {
        let core = self.shared.get()?;
        blocking(move || submit_blocking(&core, &questionnaire_id, notice_id.as_deref())).await
    }

    /// Watches the notice list: `listener` gets it at once, then again after every
    /// change to a notice or its form, until the handle is cancelled or dropped or the
    /// store closes.
    pub fn watch_notices(
        &self,
        listener: Arc<dyn NoticesListener>,
    ) -> Result<Arc<TaskHandle>, NoticeError> {
        spawn_watch(
            &self.shared,
            listener,
            list_blocking,
            |c| matches!(c, CoreChange::NoticesChanged),
            NoticesListener::on_notices,
            NoticesListener::on_stopped,
        )
    }
}

#[cfg(feature = "test-hooks")]
#[uniffi::export]
impl Notices {
    /// Test hook (feature `test-hooks`, never in app builds): stores a FHIR
    /// `Appointment` (JSON) of patient `patient_id` as if a sync had brought it.
    /// Returns whether anything changed.
    pub async fn debug_store_notice(
        &self,
        appointment_json: String,
        patient_id: String,
    ) -> Result<bool, NoticeError> {
        use nara_core::sync::fhir::{PatientId, appointment::notice_from_fhir};
        let core = self.shared.get()?;
        let bad = |detail: String| NoticeError::Internal { detail };
        let json: serde_json::Value = serde_json::from_str(&appointment_json)
            .map_err(|_| bad("the appointment is not JSON".to_owned()))?;
        let patient = PatientId::new(patient_id).map_err(|e| bad(e.to_string()))?;
        let notice = notice_from_fhir(&json, &patient).map_err(|e| bad(e.to_string()))?;
        blocking(move || {
            Ok(core.notices().store_from_region(&notice)?
                != nara_core::store::notices::NoticeUpsert::Unchanged)
        })
        .await
    }

    /// Test hook (feature `test-hooks`, never in app builds): stores form
    /// `questionnaire_id` (a FHIR `Questionnaire`, JSON) as if a sync had brought it;
    /// returns its model.
    pub async fn debug_store_form(
        &self,
        questionnaire_id: String,
        questionnaire_json: String,
    ) -> Result<FormModel, FormError> {
        let core = self.shared.get()?;
        let json: serde_json::Value =
            serde_json::from_str(&questionnaire_json).map_err(|_| FormError::Unusable {
                detail: "the questionnaire is not JSON".to_owned(),
                explanation: nara_core::notices::FormError::Unusable(
                    nara_core::domain::questionnaire::QuestionnaireError::NotJson,
                )
                .message(),
            })?;
        blocking(move || Ok(core.notices().store_form(&questionnaire_id, &json)?.into())).await
    }
}
