//! The care-plan area: the care team's thresholds and measurement schedules, the tasks
//! and reminders they give, and adherence.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jiff::SignedDuration;
use jiff::civil::{Date, Time, Weekday as CoreWeekday};
use nara_core::domain::schedule::{
    MeasurementSchedule as CoreSchedule, Reminder as CoreReminder, Task as CoreTask,
    TaskStatus as CoreTaskStatus,
};

use crate::errors::CarePlanError;
use crate::nara::Shared;
use crate::platform::blocking;
use crate::types::{LocalizedText, ReadingKind, ThresholdSet, bound, to_system};

pub use nara_core::domain::schedule::Adherence;

/// Adherence to a schedule: slots done and missed.
#[uniffi::remote(Record)]
pub struct Adherence {
    /// Slots whose window has passed or that were done.
    pub scheduled: u32,
    /// Slots with a reading inside their window.
    pub done: u32,
    /// Slots whose window passed without a reading.
    pub missed: u32,
    /// `done / scheduled`, or none when nothing was scheduled yet.
    pub ratio: Option<f64>,
}

/// A time of day in the schedule's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct LocalTime {
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct LocalDate {
    /// Year.
    pub year: i16,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Weekday {
    /// Måndag.
    Monday,
    /// Tisdag.
    Tuesday,
    /// Onsdag.
    Wednesday,
    /// Torsdag.
    Thursday,
    /// Fredag.
    Friday,
    /// Lördag.
    Saturday,
    /// Söndag.
    Sunday,
}

impl From<Weekday> for CoreWeekday {
    fn from(w: Weekday) -> Self {
        match w {
            Weekday::Monday => CoreWeekday::Monday,
            Weekday::Tuesday => CoreWeekday::Tuesday,
            Weekday::Wednesday => CoreWeekday::Wednesday,
            Weekday::Thursday => CoreWeekday::Thursday,
            Weekday::Friday => CoreWeekday::Friday,
            Weekday::Saturday => CoreWeekday::Saturday,
            Weekday::Sunday => CoreWeekday::Sunday,
        }
    }
}

impl From<CoreWeekday> for Weekday {
    fn from(w: CoreWeekday) -> Self {
        match w {
            CoreWeekday::Monday => Weekday::Monday,
            CoreWeekday::Tuesday => Weekday::Tuesday,
            CoreWeekday::Wednesday => Weekday::Wednesday,
            CoreWeekday::Thursday => Weekday::Thursday,
            CoreWeekday::Friday => Weekday::Friday,
            CoreWeekday::Saturday => Weekday::Saturday,
            CoreWeekday::Sunday => Weekday::Sunday,
        }
    }
}

/// When the care team wants the patient to measure.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MeasurementSchedule {
    /// Stable id (from the care plan).
    pub id: String,
    /// What to measure.
    pub kind: ReadingKind,
    /// Times of day.
    pub times: Vec<LocalTime>,
    /// Minutes before and after each time in which a reading counts.
    pub window_minutes: u32,
    /// First day.
    pub start: LocalDate,
    /// Number of days, or open-ended.
    #[uniffi(default)]
    pub days: Option<u32>,
    /// Only these weekdays, or every day.
    #[uniffi(default)]
    pub weekdays: Option<Vec<Weekday>>,
    /// IANA time zone of the times (`Europe/Stockholm`).
    pub time_zone: String,
    /// Instructions from the care team.
    #[uniffi(default)]
    pub instructions: Option<LocalizedText>,
}

fn invalid(what: &str) -> CarePlanError {
    CarePlanError::InvalidSchedule {
        detail: format!("the {what} is not a valid calendar value"),
    }
}

impl TryFrom<MeasurementSchedule> for CoreSchedule {
    type Error = CarePlanError;

    fn try_from(s: MeasurementSchedule) -> Result<Self, CarePlanError> {
        let times = s
            .times
            .iter()
            .map(|t| {
                Time::new(t.hour as i8, t.minute as i8, 0, 0).map_err(|_| invalid("time of day"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let start = Date::new(s.start.year, s.start.month as i8, s.start.day as i8)
            .map_err(|_| invalid("start date"))?;
        Ok(CoreSchedule {
            id: s.id,
            kind: s.kind,
            times,
            window_minutes: s.window_minutes,
            start,
            days: s.days,
            weekdays: s
                .weekdays
                .map(|w| w.into_iter().map(CoreWeekday::from).collect()),
            time_zone: s.time_zone,
            instructions: s.instructions,
        })
    }
}

impl From<CoreSchedule> for MeasurementSchedule {
    fn from(s: CoreSchedule) -> Self {
        MeasurementSchedule {
            id: s.id,
            kind: s.kind,
            times: s
                .times
                .iter()
                .map(|t| LocalTime {
                    hour: t.hour() as u8,
                    minute: t.minute() as u8,
                })
                .collect(),
            window_minutes: s.window_minutes,
            start: LocalDate {
                year: s.start.year(),
                month: s.start.month() as u8,
                day: s.start.day() as u8,
            },
            days: s.days,
            weekdays: s
                .weekdays
                .map(|w| w.into_iter().map(Weekday::from).collect()),
            time_zone: s.time_zone,
            instructions: s.instructions,
        }
    }
}

/// The state of a scheduled measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TaskStatus {
    /// A reading was taken inside the window, at `at`.
    Done {
        /// When it was measured.
        at: SystemTime,
    },
    /// The window is open now.
    Due,
    /// The window passed without a reading.
    Missed,
    /// The window has not opened yet.
    Upcoming,
}

/// One scheduled measurement and its state. (Named so it does not shadow Swift's
/// `Task`.)
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ScheduledTask {
    /// The schedule it comes from.
    pub schedule_id: String,
    /// What to measure.
    pub kind: ReadingKind,
    /// The scheduled time.
    pub due_at: SystemTime,
    /// The window opens.
    pub window_start: SystemTime,
    /// The window closes.
    pub window_end: SystemTime,
    /// Done, due, missed or upcoming.
    pub status: TaskStatus,
}

impl From<CoreTask> for ScheduledTask {
    fn from(t: CoreTask) -> Self {
        ScheduledTask {
            schedule_id: t.slot.schedule_id,
            kind: t.slot.kind,
            due_at: to_system(t.slot.due_at),
            window_start: to_system(t.slot.window_start),
            window_end: to_system(t.slot.window_end),
            status: match t.status {
                CoreTaskStatus::Done { at } => TaskStatus::Done { at: to_system(at) },
                CoreTaskStatus::Due => TaskStatus::Due,
                CoreTaskStatus::Missed => TaskStatus::Missed,
                CoreTaskStatus::Upcoming => TaskStatus::Upcoming,
            },
        }
    }
}

/// A local notification for the shell to schedule. Its texts name no values and no
/// diagnosis, so they are safe on a lock screen.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Reminder {
    /// Stable id: scheduling the same reminder twice replaces it.
    pub id: String,
    /// When to show it.
    pub at: SystemTime,
    /// What to measure.
    pub kind: ReadingKind,
    /// Title.
    pub title: LocalizedText,
    /// Body.
    pub body: LocalizedText,
}

impl From<CoreReminder> for Reminder {
    fn from(r: CoreReminder) -> Self {
        Reminder {
            id: r.id,
            at: to_system(r.at),
            kind: r.kind,
            title: r.title,
            body: r.body,
        }
    }
}

/// Thresholds and schedules from the care team.
#[derive(uniffi::Object)]
pub struct CarePlan {
    shared: Arc<Shared>,
}

impl CarePlan {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        CarePlan { shared }
    }
}

#[uniffi::export]
impl CarePlan {
    /// The thresholds that apply to `kind`: the care team's, or the defaults.
    pub async fn thresholds(&self, kind: ReadingKind) -> Result<ThresholdSet, CarePlanError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.care_plan().thresholds(kind)?)).await
    }

    /// Stores the care team's thresholds for their kind. New readings use them; stored
    /// readings keep the band and rule version they were captured with.
    pub async fn set_thresholds(&self, set: ThresholdSet) -> Result<(), CarePlanError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.care_plan().set_thresholds(set)?)).await
    }

    /// Adds or replaces (same id) a measurement schedule.
    pub async fn set_schedule(&self, schedule: MeasurementSchedule) -> Result<(), CarePlanError> {
        let core = self.shared.get()?;
        let schedule = CoreSchedule::try_from(schedule)?;
        blocking(move || Ok(core.care_plan().set_schedule(schedule)?)).await
    }

    /// Removes schedule `id`.
    pub async fn remove_schedule(&self, id: String) -> Result<(), CarePlanError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.care_plan().remove_schedule(&id)?)).await
    }

    /// Every schedule.
    pub async fn schedules(&self) -> Result<Vec<MeasurementSchedule>, CarePlanError> {
        let core = self.shared.get()?;
        blocking(move || {
            let list = core.care_plan().schedules()?;
            Ok(list.into_iter().map(MeasurementSchedule::from).collect())
        })
        .await
    }

    /// Scheduled measurements between `from` and `to`, with their state now.
    pub async fn tasks(
        &self,
        from: SystemTime,
        to: SystemTime,
    ) -> Result<Vec<ScheduledTask>, CarePlanError> {
        let core = self.shared.get()?;
        blocking(move || {
            let list = core.care_plan().tasks(bound(from), bound(to))?;
            Ok(list.into_iter().map(ScheduledTask::from).collect())
        })
        .await
    }

    /// Local notifications to schedule from now over `horizon`.
    pub async fn reminders(&self, horizon: Duration) -> Result<Vec<Reminder>, CarePlanError> {
        let core = self.shared.get()?;
        let horizon = SignedDuration::try_from(horizon).unwrap_or(SignedDuration::MAX);
        blocking(move || {
            let list = core.care_plan().reminders(horizon)?;
            Ok(list.into_iter().map(Reminder::from).collect())
        })
        .await
    }

    /// Adherence to schedule `id` from its first day up to now.
    pub async fn adherence_so_far(&self, id: String) -> Result<Adherence, CarePlanError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.care_plan().adherence_so_far(&id)?)).await
    }
}
