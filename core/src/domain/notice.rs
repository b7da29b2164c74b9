//! Appointment notices (kallelser): the notice as the region sends it, the patient's
//! side of it (opened, answered), its derived state, the rules for answering (the
//! clinic's cancellation cut-off, a time moved by the clinic), the reminders a shell
//! schedules, and the iCalendar export.
//!
//! Pure: callers pass the current time. The wire format is ADR 0010; the storage and
//! sync live in `store::notices` and `sync::engine`.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::text::LocalizedText;

/// The cut-off when the region does not send one: primary care's 24 hours.
pub const DEFAULT_CUTOFF: SignedDuration = SignedDuration::from_hours(24);
/// Longest cancel reason or reschedule wish, in characters.
pub const MAX_ANSWER_TEXT: usize = 1000;
/// Most preferred time windows in one reschedule request.
pub const MAX_WINDOWS: usize = 10;
/// When a notice without an end counts as passed: this long after its start.
pub const ASSUMED_LENGTH: SignedDuration = SignedDuration::from_hours(1);

/// The appointment's status at the clinic (FHIR `Appointment.status`, simplified).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl AppointmentStatus {
    /// From the FHIR code; unknown codes (`waitlist`) count as proposed.
    pub fn from_fhir(code: &str) -> AppointmentStatus {
        match code {
            "booked" | "arrived" | "checked-in" => AppointmentStatus::Booked,
            "cancelled" | "noshow" | "entered-in-error" => AppointmentStatus::Cancelled,
            "fulfilled" => AppointmentStatus::Fulfilled,
            _ => AppointmentStatus::Proposed,
        }
    }
}

/// Where the visit is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Place {
    /// The clinic's name.
    pub name: String,
    /// Street address lines.
    pub lines: Vec<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// City.
    pub city: Option<String>,
    /// The clinic's phone number (shown when the patient must call).
    pub phone: Option<String>,
}

/// Who the patient meets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Practitioner {
    /// Name as the region shows it.
    pub name: String,
    /// Role (distriktssköterska, läkare), if sent.
    pub role: Option<String>,
}

/// A notice as the region sent it (an `Appointment`, ADR 0010 §1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The region's id of the appointment.
    pub id: String,
    /// The region's version (`meta.versionId`); a change by the clinic bumps it.
    pub version: String,
    /// The status at the clinic.
    pub status: AppointmentStatus,
    /// The clinic's reason, when it cancelled.
    pub cancel_reason: Option<String>,
    /// Start.
    pub start: Timestamp,
    /// End, if sent.
    pub end: Option<Timestamp>,
    /// What the visit is (service type).
    pub service: String,
    /// The clinic and its address, for a visit in person.
    pub place: Option<Place>,
    /// The video meeting link (https), for a video visit.
    pub video_url: Option<String>,
    /// Who the patient meets.
    pub practitioner: Option<Practitioner>,
    /// Preparation instructions (plain text).
    pub preparation: Option<String>,
    /// How long before the start a cancel or reschedule is still accepted.
    pub cutoff: SignedDuration,
    /// The health declaration to fill in (the region's `Questionnaire` id).
    pub questionnaire_id: Option<String>,
}

impl Notice {
    /// When the visit ends (its end, or start + [`ASSUMED_LENGTH`]).
    pub fn ends(&self) -> Timestamp {
        self.end.unwrap_or_else(|| {
            self.start
                .saturating_add(ASSUMED_LENGTH)
                .unwrap_or(self.start)
        })
    }

    /// The last moment a cancel or reschedule is accepted.
    pub fn cutoff_at(&self) -> Timestamp {
        self.start.saturating_sub(self.cutoff).unwrap_or(self.start)
    }

    /// Whether the time or status differs from `other` (a change the patient must see;
    /// a new instruction text alone is not).
    pub fn differs_in_time_or_status(&self, other: &Notice) -> bool {
        self.start != other.start || self.end != other.end || self.status != other.status
    }
}

/// What the patient answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    /// I will come.
    Confirm,
    /// I will not come.
    Cancel {
        /// Why (free text, may be empty).
        reason: String,
    },
    /// Please give me another time.
    Reschedule {
        /// The patient's wishes as free text (may be empty if windows are given).
        wishes: String,
        /// Preferred windows, each start < end.
        windows: Vec<(Timestamp, Timestamp)>,
    },
}

impl Answer {
    /// A short code for logs and the outbox (`confirm`, `cancel`, `reschedule`).
    pub fn code(&self) -> &'static str {
        match self {
            Answer::Confirm => "confirm",
            Answer::Cancel { .. } => "cancel",
            Answer::Reschedule { .. } => "reschedule",
        }
    }
}

/// Where an answer is on its way to the clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerDelivery {
    /// Waiting for network.
    Queued,
    /// The region has it.
    Sent,
    /// Not sent: the clinic changed the time or status first (ADR 0010 §6).
    Overtaken,
}

/// An answer the patient gave, with what it was given for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GivenAnswer {
    /// The client id (the identifier on the server).
    pub id: String,
    /// The answer.
    pub answer: Answer,
    /// When.
    pub at: Timestamp,
    /// The appointment version it answered.
    pub for_version: String,
    /// The start it answered for.
    pub for_start: Timestamp,
    /// The end it answered for.
    pub for_end: Option<Timestamp>,
    /// Its delivery.
    pub delivery: AnswerDelivery,
}

/// The patient's side of a notice, kept on the phone.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NoticeLocal {
    /// First opened.
    pub opened_at: Option<Timestamp>,
    /// The start and end the patient last saw (set on every open).
    pub seen: Option<(Timestamp, Option<Timestamp>)>,
    /// The status the patient last saw.
    pub seen_status: Option<AppointmentStatus>,
    /// Answers, oldest first.
    pub answers: Vec<GivenAnswer>,
    /// When the health declaration was submitted.
    pub declaration_submitted_at: Option<Timestamp>,
}

impl NoticeLocal {
    /// The newest answer that was not overtaken.
    pub fn current_answer(&self) -> Option<&GivenAnswer> {
        self.answers
            .iter()
            .rev()
            .find(|a| a.delivery != AnswerDelivery::Overtaken)
    }
}

/// The notice's state for the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// The clinic moved it since the patient last looked.
    MovedByClinic,
}

impl NoticeState {
    /// The state's name for the patient (never only a colour).
    pub fn label(self) -> LocalizedText {
        match self {
            NoticeState::New => LocalizedText::new("Ny", "New"),
            NoticeState::Opened => LocalizedText::new("Öppnad", "Opened"),
            NoticeState::Answered => LocalizedText::new("Besvarad", "Answered"),
            NoticeState::Passed => LocalizedText::new("Passerad", "Passed"),
            NoticeState::CancelledByClinic => {
                LocalizedText::new("Inställd av mottagningen", "Cancelled by the clinic")
            }
            NoticeState::MovedByClinic => {
                LocalizedText::new("Ny tid från mottagningen", "Moved by the clinic")
            }
        }
    }
}

/// The state of `notice` for the patient at `now`.
pub fn state(notice: &Notice, local: &NoticeLocal, now: Timestamp) -> NoticeState {
    if notice.status == AppointmentStatus::Cancelled {
        return NoticeState::CancelledByClinic;
    }
    if notice.status == AppointmentStatus::Fulfilled || notice.ends() <= now {
        return NoticeState::Passed;
    }
    if moved_since_seen(notice, local) {
        return NoticeState::MovedByClinic;
    }
    if local.current_answer().is_some() {
        return NoticeState::Answered;
    }
    if local.opened_at.is_some() {
        NoticeState::Opened
    } else {
        NoticeState::New
    }
}

/// Whether the clinic changed the time since the patient last opened the notice (or
/// since an answer overtaken by that change).
pub fn moved_since_seen(notice: &Notice, local: &NoticeLocal) -> bool {
    match local.seen {
        Some((start, end)) => start != notice.start || end != notice.end,
        None => false,
    }
}

/// Why an answer was refused. Messages name the rule, never the patient's text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NoticeError {
    /// The clinic cancelled the appointment.
    #[error("the clinic cancelled this appointment")]
    CancelledByClinic,
    /// The visit is over.
    #[error("the appointment has passed")]
    Passed,
    /// Too late to cancel or reschedule in the app: the patient must call.
    #[error("too late to change in the app: less than {hours} h before the appointment")]
    PastCutoff {
        /// The clinic's cut-off in hours.
        hours: i64,
        /// The clinic's phone, if known.
        phone: Option<String>,
    },
    /// The clinic moved the appointment since the patient last looked: open it first.
    #[error("the clinic changed this appointment; open it to see the new time")]
    Moved,
    /// The patient already cancelled; the clinic decides what happens next.
    #[error("already cancelled")]
    AlreadyCancelled,
    /// The same answer is already given.
    #[error("already answered that way")]
    AlreadyGiven,
    /// A text is too long.
    #[error("the text is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A reschedule request without wishes or windows.
    #[error("say when suits you: a wish or at least one time window")]
    EmptyReschedule,
    /// A window that ends before it starts, lies in the past, or too many windows.
    #[error("time window {index} is not usable")]
    BadWindow {
        /// Which window (0-based).
        index: usize,
    },
    /// No such notice.
    #[error("no such notice")]
    NotFound,
}

impl NoticeError {
    /// What to tell the patient, in Swedish and English.
    pub fn message(&self) -> LocalizedText {
        match self {
            NoticeError::CancelledByClinic => LocalizedText::new(
                "Mottagningen har ställt in besöket.",
                "The clinic has cancelled this appointment.",
            ),
            NoticeError::Passed => LocalizedText::new(
                "Besöket har redan varit.",
                "This appointment has already taken place.",
            ),
            NoticeError::PastCutoff { hours, phone } => {
                let (sv_call, en_call) = match phone {
                    Some(p) => (
                        format!("Ring mottagningen på {p}."),
                        format!("Call the clinic on {p}."),
                    ),
                    None => (
                        "Ring mottagningen.".to_owned(),
                        "Call the clinic.".to_owned(),
                    ),
                };
                LocalizedText::new(
                    format!(
                        "Det är mindre än {hours} timmar kvar till besöket, så det går inte \
                         att ändra i appen. {sv_call}"
                    ),
                    format!(
                        "It is less than {hours} hours before the appointment, so it cannot \
                         be changed in the app. {en_call}"
                    ),
                )
            }
            NoticeError::Moved => LocalizedText::new(
                "Mottagningen har ändrat tiden. Titta på den nya tiden innan du svarar.",
                "The clinic has changed the time. Look at the new time before you answer.",
            ),
            NoticeError::AlreadyCancelled => LocalizedText::new(
                "Du har redan avbokat. Ring mottagningen om du vill komma ändå.",
                "You have already cancelled. Call the clinic if you want to come after all.",
            ),
            NoticeError::AlreadyGiven => LocalizedText::new(
                "Du har redan svarat så.",
                "You have already answered that way.",
            ),
            NoticeError::TooLong { max } => LocalizedText::new(
                format!("Texten får vara högst {max} tecken."),
                format!("The text can be at most {max} characters."),
            ),
            NoticeError::EmptyReschedule => LocalizedText::new(
                "Skriv när det passar dig, eller välj minst en tid.",
                "Say when suits you, or pick at least one time.",
            ),
            NoticeError::BadWindow { .. } => LocalizedText::new(
                "En av tiderna du valt går inte att använda: den slutar före den börjar \
                 eller har redan varit.",
                "One of the times you picked cannot be used: it ends before it starts or \
                 has already passed.",
            ),
            NoticeError::NotFound => {
                LocalizedText::new("Kallelsen finns inte.", "There is no such notice.")
            }
        }
    }
}

/// Checks `answer` against the notice and the patient's earlier answers at `now`;
/// returns the answer with its texts trimmed.
pub fn check_answer(
    notice: &Notice,
    local: &NoticeLocal,
    answer: Answer,
    now: Timestamp,
) -> Result<Answer, NoticeError> {
    if notice.status == AppointmentStatus::Cancelled {
        return Err(NoticeError::CancelledByClinic);
    }
    if notice.status == AppointmentStatus::Fulfilled || notice.start <= now {
        return Err(NoticeError::Passed);
    }
    if local.seen.is_none() || moved_since_seen(notice, local) {
        return Err(NoticeError::Moved);
    }
    let previous = local.current_answer().map(|a| &a.answer);
    if matches!(previous, Some(Answer::Cancel { .. })) {
        return Err(NoticeError::AlreadyCancelled);
    }
    let past_cutoff = now > notice.cutoff_at();
    let refuse_late = || NoticeError::PastCutoff {
        hours: notice.cutoff.as_hours(),
        phone: notice.place.as_ref().and_then(|p| p.phone.clone()),
    };
    match answer {
        Answer::Confirm => {
            if matches!(previous, Some(Answer::Confirm)) {
                return Err(NoticeError::AlreadyGiven);
            }
            Ok(Answer::Confirm)
        }
        Answer::Cancel { reason } => {
            if past_cutoff {
                return Err(refuse_late());
            }
            let reason = checked_text(&reason)?;
            Ok(Answer::Cancel { reason })
        }
        Answer::Reschedule { wishes, windows } => {
            if past_cutoff {
                return Err(refuse_late());
            }
            let wishes = checked_text(&wishes)?;
            if wishes.is_empty() && windows.is_empty() {
                return Err(NoticeError::EmptyReschedule);
            }
            if windows.len() > MAX_WINDOWS {
                return Err(NoticeError::BadWindow { index: MAX_WINDOWS });
            }
            if let Some(index) = windows.iter().position(|(s, e)| s >= e || *e <= now) {
                return Err(NoticeError::BadWindow { index });
            }
            Ok(Answer::Reschedule { wishes, windows })
        }
    }
}

fn checked_text(text: &str) -> Result<String, NoticeError> {
    let t = text.trim();
    if t.chars().count() > MAX_ANSWER_TEXT {
        return Err(NoticeError::TooLong {
            max: MAX_ANSWER_TEXT,
        });
    }
    Ok(t.to_owned())
}

/// What a reminder is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeReminderKind {
    /// The day before the visit.
    DayBefore,
    /// Two hours before the visit.
    SoonBefore,
    /// The health declaration is not filled in yet.
    Declaration,
}

/// A local notification a shell should schedule. The text names no diagnosis, clinic
/// or person: it shows on a lock screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeReminder {
    /// Stable id (`notice/<id>/<kind>`): schedule by it, replacing the earlier one.
    pub id: String,
    /// The notice.
    pub notice_id: String,
    /// What for.
    pub kind: NoticeReminderKind,
    /// When to show it.
    pub at: Timestamp,
    /// The text.
    pub text: LocalizedText,
}

/// How long before the visit the declaration reminder comes.
pub const DECLARATION_LEAD: SignedDuration = SignedDuration::from_hours(72);

/// The reminders to schedule for `notice` from `now` on (none for a cancelled or
/// passed notice, or one the patient cancelled). `local_time` formats the start in
/// the patient's time zone (for example `tis 3 dec 09:30`).
pub fn reminders(
    notice: &Notice,
    local: &NoticeLocal,
    now: Timestamp,
    local_time: &dyn Fn(Timestamp) -> (String, String),
) -> Vec<NoticeReminder> {
    if notice.status != AppointmentStatus::Booked && notice.status != AppointmentStatus::Proposed {
        return vec![];
    }
    if notice.start <= now
        || matches!(
            local.current_answer().map(|a| &a.answer),
            Some(Answer::Cancel { .. })
        )
    {
        return vec![];
    }
    let (sv_when, en_when) = local_time(notice.start);
    let mut out = Vec::new();
    let mut push = |kind: NoticeReminderKind, at: Timestamp, text: LocalizedText| {
        let at = at.max(now);
        if at < notice.start {
            out.push(NoticeReminder {
                id: format!("notice/{}/{}", notice.id, kind_code(kind)),
                notice_id: notice.id.clone(),
                kind,
                at,
                text,
            });
        }
    };
    if notice.questionnaire_id.is_some() && local.declaration_submitted_at.is_none() {
        let at = notice
            .start
            .saturating_sub(DECLARATION_LEAD)
            .unwrap_or(notice.start);
        push(
            NoticeReminderKind::Declaration,
            at,
            LocalizedText::new(
                format!("Fyll i hälsodeklarationen före ditt besök {sv_when}."),
                format!("Fill in the health declaration before your visit on {en_when}."),
            ),
        );
    }
    if let Ok(at) = notice.start.checked_sub(SignedDuration::from_hours(24)) {
        if at > now {
            push(
                NoticeReminderKind::DayBefore,
                at,
                LocalizedText::new(
                    format!("Påminnelse: du har en tid {sv_when}. Öppna Nära för detaljer."),
                    format!(
                        "Reminder: you have an appointment on {en_when}. Open Nära for details."
                    ),
                ),
            );
        }
    }
    if let Ok(at) = notice.start.checked_sub(SignedDuration::from_hours(2)) {
        push(
            NoticeReminderKind::SoonBefore,
            at,
            LocalizedText::new(
                format!("Om två timmar: din tid {sv_when}."),
                format!("In two hours: your appointment on {en_when}."),
            ),
        );
    }
    out.sort_by_key(|r| r.at);
    out
}

fn kind_code(kind: NoticeReminderKind) -> &'static str {
    match kind {
        NoticeReminderKind::DayBefore => "day-before",
        NoticeReminderKind::SoonBefore => "soon-before",
        NoticeReminderKind::Declaration => "declaration",
    }
}

/// The notice as an iCalendar (RFC 5545) file with one event, for the patient's own
/// calendar: what, when, where (or the video link), who, and the preparation. `now` is
/// the DTSTAMP. The UID is stable per notice, so importing again updates the event.
pub fn to_icalendar(notice: &Notice, now: Timestamp) -> String {
    use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
    let utc = |t: Timestamp| chrono::DateTime::from_timestamp(t.as_second(), 0).unwrap_or_default();
    let mut event = Event::new();
    event
        .uid(&format!("{}@notice.nara.se", notice.id))
        .timestamp(utc(now))
        .summary(&notice.service)
        .starts(utc(notice.start))
        .ends(utc(notice.ends()));
    if let Some(place) = &notice.place {
        let mut parts = vec![place.name.clone()];
        parts.extend(place.lines.iter().cloned());
        let town = [place.postal_code.as_deref(), place.city.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !town.is_empty() {
            parts.push(town);
        }
        event.location(&parts.join(", "));
    } else if let Some(url) = &notice.video_url {
        event.location(url);
        event.url(url);
    }
    let mut description = Vec::new();
    if let Some(p) = &notice.practitioner {
        description.push(match &p.role {
            Some(role) => format!("{} ({role})", p.name),
            None => p.name.clone(),
        });
    }
    if let Some(url) = &notice.video_url {
        description.push(url.clone());
    }
    if let Some(prep) = &notice.preparation {
        description.push(prep.clone());
    }
    if !description.is_empty() {
        event.description(&description.join("\n\n"));
    }
    event.status(if notice.status == AppointmentStatus::Cancelled {
        EventStatus::Cancelled
    } else if notice.status == AppointmentStatus::Proposed {
        EventStatus::Tentative
    } else {
        EventStatus::Confirmed
    });
    let mut calendar = Calendar::new();
    calendar.push(event.done());
    calendar.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn notice() -> Notice {
        Notice {
            id: "a1".into(),
            version: "1".into(),
            status: AppointmentStatus::Booked,
            cancel_reason: None,
            start: t("2026-12-10T08:30:00Z"),
            end: Some(t("2026-12-10T09:00:00Z")),
            service: "Diabetesmottagning".into(),
            place: Some(Place {
                name: "Vårdcentralen Kiruna".into(),
                phone: Some("0980-123 45".into()),
                ..Place::default()
            }),
            video_url: None,
            practitioner: None,
            preparation: None,
            cutoff: DEFAULT_CUTOFF,
            questionnaire_id: Some("halsodeklaration".into()),
        }
    }

    fn seen(n: &Notice) -> NoticeLocal {
        NoticeLocal {
            opened_at: Some(t("2026-12-01T10:00:00Z")),
            seen: Some((n.start, n.end)),
            seen_status: Some(n.status),
            ..NoticeLocal::default()
        }
    }

    fn given(answer: Answer, n: &Notice) -> GivenAnswer {
        GivenAnswer {
            id: "c1".into(),
            answer,
            at: t("2026-12-01T10:00:00Z"),
            for_version: n.version.clone(),
            for_start: n.start,
            for_end: n.end,
            delivery: AnswerDelivery::Queued,
        }
    }

    #[test]
    fn states_follow_the_patient_and_the_clinic() {
        let n = notice();
        let now = t("2026-12-01T12:00:00Z");
        assert_eq!(state(&n, &NoticeLocal::default(), now), NoticeState::New);
        let mut local = seen(&n);
        assert_eq!(state(&n, &local, now), NoticeState::Opened);
        local.answers.push(given(Answer::Confirm, &n));
        assert_eq!(state(&n, &local, now), NoticeState::Answered);
        let mut moved = n.clone();
        moved.start = t("2026-12-11T08:30:00Z");
        moved.end = Some(t("2026-12-11T09:00:00Z"));
        assert_eq!(state(&moved, &local, now), NoticeState::MovedByClinic);
        let mut cancelled = n.clone();
        cancelled.status = AppointmentStatus::Cancelled;
        assert_eq!(
            state(&cancelled, &local, now),
            NoticeState::CancelledByClinic
        );
        assert_eq!(
            state(&n, &local, t("2026-12-10T09:00:00Z")),
            NoticeState::Passed
        );
        let mut open_ended = n.clone();
        open_ended.end = None;
        let seen_open_ended = seen(&open_ended);
        assert_eq!(
            state(&open_ended, &seen_open_ended, t("2026-12-10T09:29:59Z")),
            NoticeState::Opened
        );
        assert_eq!(
            state(&open_ended, &seen_open_ended, t("2026-12-10T09:30:00Z")),
            NoticeState::Passed
        );
    }

    #[test]
    fn cancel_and_reschedule_are_refused_after_the_cutoff_with_the_clinic_phone() {
        let mut n = notice();
        let local = seen(&n);
        let before = t("2026-12-09T08:29:59Z");
        let after = t("2026-12-09T08:30:01Z");
        let cancel = Answer::Cancel {
            reason: "  Jag är sjuk  ".into(),
        };
        assert_eq!(
            check_answer(&n, &local, cancel.clone(), before),
            Ok(Answer::Cancel {
                reason: "Jag är sjuk".into()
            })
        );
        let refused = check_answer(&n, &local, cancel.clone(), after).expect_err("late");
        assert_eq!(
            refused,
            NoticeError::PastCutoff {
                hours: 24,
                phone: Some("0980-123 45".into())
            }
        );
        assert!(
            refused
                .message()
                .sv
                .contains("Ring mottagningen på 0980-123 45")
        );
        assert!(
            !refused.to_string().contains("sjuk"),
            "no patient text in errors"
        );
        // Specialist care: 72 h.
        n.cutoff = SignedDuration::from_hours(72);
        assert!(matches!(
            check_answer(&n, &local, cancel, t("2026-12-07T09:00:00Z")),
            Err(NoticeError::PastCutoff { hours: 72, .. })
        ));
        let reschedule = Answer::Reschedule {
            wishes: "Helst förmiddag".into(),
            windows: vec![],
        };
        assert!(matches!(
            check_answer(&n, &local, reschedule, t("2026-12-07T09:00:00Z")),
            Err(NoticeError::PastCutoff { .. })
        ));
        // Confirming is fine up to the start.
        assert_eq!(
            check_answer(&n, &local, Answer::Confirm, t("2026-12-10T08:29:00Z")),
            Ok(Answer::Confirm)
        );
        assert_eq!(
            check_answer(&n, &local, Answer::Confirm, t("2026-12-10T08:30:00Z")),
            Err(NoticeError::Passed)
        );
    }

    #[test]
    fn answers_need_the_current_time_seen_and_follow_earlier_answers() {
        let n = notice();
        let now = t("2026-12-01T12:00:00Z");
        assert_eq!(
            check_answer(&n, &NoticeLocal::default(), Answer::Confirm, now),
            Err(NoticeError::Moved),
            "never opened: the patient has not seen the time"
        );
        let mut local = seen(&n);
        let mut moved = n.clone();
        moved.start = t("2026-12-12T08:30:00Z");
        assert_eq!(
            check_answer(&moved, &local, Answer::Confirm, now),
            Err(NoticeError::Moved)
        );
        local.answers.push(given(Answer::Confirm, &n));
        assert_eq!(
            check_answer(&n, &local, Answer::Confirm, now),
            Err(NoticeError::AlreadyGiven)
        );
        let cancel = Answer::Cancel {
            reason: String::new(),
        };
        assert!(check_answer(&n, &local, cancel.clone(), now).is_ok());
        local.answers.push(given(cancel, &n));
        assert_eq!(
            check_answer(&n, &local, Answer::Confirm, now),
            Err(NoticeError::AlreadyCancelled)
        );
        let mut cancelled = n.clone();
        cancelled.status = AppointmentStatus::Cancelled;
        assert_eq!(
            check_answer(&cancelled, &seen(&n), Answer::Confirm, now),
            Err(NoticeError::CancelledByClinic)
        );
    }

    #[test]
    fn reschedule_requests_are_checked() {
        let n = notice();
        let local = seen(&n);
        let now = t("2026-12-01T12:00:00Z");
        let ask = |wishes: &str, windows: Vec<(Timestamp, Timestamp)>| {
            check_answer(
                &n,
                &local,
                Answer::Reschedule {
                    wishes: wishes.into(),
                    windows,
                },
                now,
            )
        };
        assert_eq!(ask("  ", vec![]), Err(NoticeError::EmptyReschedule));
        assert_eq!(
            ask(
                "x",
                vec![(t("2026-12-15T08:00:00Z"), t("2026-12-15T07:00:00Z"))]
            ),
            Err(NoticeError::BadWindow { index: 0 })
        );
        assert_eq!(
            ask(
                "",
                vec![
                    (t("2026-12-15T08:00:00Z"), t("2026-12-15T12:00:00Z")),
                    (t("2026-11-20T08:00:00Z"), t("2026-11-20T12:00:00Z")),
                ]
            ),
            Err(NoticeError::BadWindow { index: 1 })
        );
        assert_eq!(
            ask(&"å".repeat(MAX_ANSWER_TEXT + 1), vec![]),
            Err(NoticeError::TooLong {
                max: MAX_ANSWER_TEXT
            })
        );
        assert!(
            ask(&"å".repeat(MAX_ANSWER_TEXT), vec![]).is_ok(),
            "characters, not bytes"
        );
        let window = (t("2026-12-15T08:00:00Z"), t("2026-12-15T12:00:00Z"));
        assert_eq!(
            ask("", vec![window]),
            Ok(Answer::Reschedule {
                wishes: String::new(),
                windows: vec![window]
            })
        );
    }

    #[test]
    fn the_calendar_event_has_time_place_and_a_stable_uid() {
        let mut n = notice();
        n.place = Some(Place {
            name: "Vårdcentralen Kiruna".into(),
            lines: vec!["Thulegatan 29".into()],
            postal_code: Some("981 32".into()),
            city: Some("Kiruna".into()),
            phone: None,
        });
        n.preparation = Some("Ta med dina mätvärden.".into());
        let ics = to_icalendar(&n, t("2026-12-01T12:00:00Z"));
        let unfolded = ics.replace("\r\n ", "");
        for line in [
            "BEGIN:VCALENDAR",
            "BEGIN:VEVENT",
            "UID:a1@notice.nara.se",
            "DTSTART:20261210T083000Z",
            "DTEND:20261210T090000Z",
            "SUMMARY:Diabetesmottagning",
            "STATUS:CONFIRMED",
            "END:VCALENDAR",
        ] {
            assert!(unfolded.contains(line), "{line} missing in {unfolded}");
        }
        assert!(
            unfolded.contains("LOCATION:Vårdcentralen Kiruna\\, Thulegatan 29\\, 981 32 Kiruna"),
            "{unfolded}"
        );
        assert!(ics.contains("\r\n"), "CRLF line ends");
        n.status = AppointmentStatus::Cancelled;
        assert!(to_icalendar(&n, t("2026-12-01T12:00:00Z")).contains("STATUS:CANCELLED"));
    }

    #[test]
    fn reminders_follow_the_notice_and_name_nothing_private() {
        let n = notice();
        let fmt = |_: Timestamp| {
            (
                "tors 10 dec 09:30".to_owned(),
                "Thu 10 Dec 09:30".to_owned(),
            )
        };
        let now = t("2026-12-01T12:00:00Z");
        let r = reminders(&n, &NoticeLocal::default(), now, &fmt);
        let kinds: Vec<_> = r.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            vec![
                NoticeReminderKind::Declaration,
                NoticeReminderKind::DayBefore,
                NoticeReminderKind::SoonBefore
            ]
        );
        assert_eq!(r[0].at, t("2026-12-07T08:30:00Z"));
        assert_eq!(r[1].id, "notice/a1/day-before");
        for reminder in &r {
            assert!(!reminder.text.sv.contains("Diabetes") && !reminder.text.sv.contains("Kiruna"));
        }
        // Submitted declaration: no declaration reminder. Inside 72 h: it comes now.
        let mut local = seen(&n);
        local.declaration_submitted_at = Some(now);
        assert_eq!(reminders(&n, &local, now, &fmt).len(), 2);
        let late = t("2026-12-09T12:00:00Z");
        let r = reminders(&n, &NoticeLocal::default(), late, &fmt);
        assert_eq!(r[0].kind, NoticeReminderKind::Declaration);
        assert_eq!(r[0].at, late);
        assert_eq!(r.len(), 2, "the day-before reminder is past");
        // Cancelled by either side, or passed: nothing.
        let mut cancelled = n.clone();
        cancelled.status = AppointmentStatus::Cancelled;
        assert!(reminders(&cancelled, &local, now, &fmt).is_empty());
        local.answers.push(given(
            Answer::Cancel {
                reason: String::new(),
            },
            &n,
        ));
        assert!(reminders(&n, &local, now, &fmt).is_empty());
        assert!(reminders(&n, &NoticeLocal::default(), n.start, &fmt).is_empty());
    }
}
