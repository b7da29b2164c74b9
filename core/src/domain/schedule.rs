//! Measurement schedules: what the care team asked the patient to measure, and when.
//!
//! A [`MeasurementSchedule`] comes from the care plan ("blood pressure morning and
//! evening for 7 days", "weight every morning", "CAT score every Monday"). This module
//! owns turning it into concrete [`Slot`]s in real time (daylight saving time included),
//! matching the patient's readings to slots ([`tasks`]), the local notifications the
//! shells schedule ([`reminders`]) and [`adherence`].
//!
//! It is pure: the current time, the readings taken and the range of interest are
//! passed in. It does not decide anything clinical, store anything, or schedule the
//! notifications itself (the shells do, from [`Reminder`]s).
//!
//! Conventions that hold throughout:
//! - A slot's window is `due_at ± window_minutes`, **inclusive at both ends**.
//! - Local clock times are converted with the schedule's IANA time zone and jiff's
//!   *compatible* disambiguation: a time that does not exist (the spring-forward gap)
//!   moves later by the length of the gap, a time that occurs twice (the fall-back fold)
//!   takes the earlier instant. Two times that land on the same instant become one slot.
//! - Windows are real durations: on a daylight saving day, two windows may come closer
//!   (or further apart) than the local clock times suggest.

use jiff::{
    SignedDuration, Timestamp,
    civil::{Date, DateTime, Time, Weekday},
    tz::TimeZone,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::domain::reading::ReadingKind;
use crate::domain::text::LocalizedText;

/// The longest window a schedule may have on either side of its time: 12 hours.
pub const MAX_WINDOW_MINUTES: u32 = 12 * 60;

/// Namespace of reminder ids (UUID v5), fixed forever: changing it would make every
/// shell reschedule every notification once.
const REMINDER_NAMESPACE: Uuid = Uuid::from_u128(0x6e61_7261_2d72_656d_696e_6465_722d_7631);

/// A measurement schedule prescribed by the care team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasurementSchedule {
    /// A stable identifier from the care plan; reminder ids derive from it.
    pub id: String,
    /// What to measure.
    pub kind: ReadingKind,
    /// Local clock times of day, e.g. 08:00 and 20:00; in any order.
    pub times: Vec<Time>,
    /// A reading within this many minutes before or after a time counts for it.
    pub window_minutes: u32,
    /// The first day (local) of the schedule.
    pub start: Date,
    /// How many days, counting `start`; `None` is open-ended.
    pub days: Option<u32>,
    /// The days of the week to measure on; `None` is every day. Serialized as FHIR
    /// `days-of-week` codes (`mon`, `tue`, ...).
    #[serde(default, with = "weekday_codes")]
    pub weekdays: Option<Vec<Weekday>>,
    /// The IANA time zone the times are in, e.g. `Europe/Stockholm`.
    pub time_zone: String,
    /// The care team's instructions, shown in the app (never in a notification).
    pub instructions: Option<LocalizedText>,
}

impl MeasurementSchedule {
    /// Morning (08:00) and evening (20:00) measurements with a 90-minute window, from
    /// `start` for `days` days (`None`: open-ended) in `time_zone`.
    pub fn twice_daily(
        id: impl Into<String>,
        kind: ReadingKind,
        start: Date,
        days: Option<u32>,
        time_zone: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            kind,
            times: vec![Time::constant(8, 0, 0, 0), Time::constant(20, 0, 0, 0)],
            window_minutes: 90,
            start,
            days,
            weekdays: None,
            time_zone: time_zone.into(),
            instructions: None,
        }
    }

    /// The last day (local, inclusive) of the schedule; `None` when open-ended. A length
    /// beyond the calendar ends on [`Date::MAX`].
    pub fn last_day(&self) -> Option<Date> {
        let days = self.days?;
        let extra = SignedDuration::from_hours(i64::from(days.saturating_sub(1)) * 24);
        Some(self.start.checked_add(extra).unwrap_or(Date::MAX))
    }

    /// The instants the schedule runs between: from the start of its first local day to
    /// the end of its last (`None` when open-ended), in its time zone.
    pub fn run_span(&self) -> Result<(Timestamp, Option<Timestamp>), ScheduleError> {
        let tz = check(self)?;
        let start_of = |day: Date| {
            day.to_zoned(tz.clone())
                .map(|z| z.timestamp())
                .map_err(|_| ScheduleError::UnknownTimeZone)
        };
        let from = start_of(self.start)?;
        let to = match self.last_day() {
            Some(last) => match last.tomorrow() {
                Ok(next) => Some(start_of(next)? - SignedDuration::from_secs(1)),
                Err(_) => None,
            },
            None => None,
        };
        Ok((from, to))
    }

    /// The window on either side of each time.
    fn window(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.window_minutes))
    }

    /// The times of day, sorted.
    fn sorted_times(&self) -> Vec<Time> {
        let mut times = self.times.clone();
        times.sort();
        times
    }

    /// True if measurements are due on `day` (inside the date range and on a listed
    /// weekday).
    fn is_active_on(&self, day: Date) -> bool {
        day >= self.start
            && self.last_day().is_none_or(|last| day <= last)
            && self
                .weekdays
                .as_ref()
                .is_none_or(|w| w.contains(&day.weekday()))
    }
}

/// Why a schedule cannot be used. Messages name the problem, never the schedule's
/// content or the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum ScheduleError {
    /// The schedule lists no time of day.
    #[error("the measurement schedule has no times of day")]
    NoTimes,
    /// The same time of day is listed twice.
    #[error("the measurement schedule lists the same time of day twice")]
    DuplicateTime,
    /// The window is 12 hours or more, or not shorter than half the gap between two
    /// consecutive times (including the gap from the last time of one day to the first
    /// of the next), so windows would meet or overlap.
    #[error("the measurement window is too large (at most {max_minutes} minutes allowed)")]
    WindowTooLarge {
        /// The largest window, in minutes, that these times allow.
        max_minutes: u32,
    },
    /// The schedule runs for zero days.
    #[error("the measurement schedule runs for zero days")]
    ZeroDays,
    /// The weekday filter lists no day.
    #[error("the measurement schedule's weekday filter is empty")]
    EmptyWeekdays,
    /// The time zone is not in the time zone database.
    #[error("the measurement schedule's time zone is unknown")]
    UnknownTimeZone,
}

/// Checks that `schedule` is usable; reports the first problem found, in the order of
/// the [`ScheduleError`] variants.
///
/// The window rule: `window_minutes` must be at most [`MAX_WINDOW_MINUTES`] and strictly
/// less than half of every gap between consecutive times of day, the gap from the last
/// time to the first time of the next day included. Then no two windows of the same
/// schedule meet, except where a daylight saving change shortens a night.
pub fn validate_schedule(schedule: &MeasurementSchedule) -> Result<(), ScheduleError> {
    check(schedule).map(|_| ())
}

/// Validates and returns the time zone.
fn check(schedule: &MeasurementSchedule) -> Result<TimeZone, ScheduleError> {
    let times = schedule.sorted_times();
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        return Err(ScheduleError::NoTimes);
    };
    if times.windows(2).any(|w| w[0] == w[1]) {
        return Err(ScheduleError::DuplicateTime);
    }
    let wrap = SignedDuration::from_hours(24) - last.duration_since(*first);
    let max_minutes = times
        .windows(2)
        .map(|w| w[1].duration_since(w[0]))
        .chain([wrap])
        .map(max_window_for_gap)
        .fold(MAX_WINDOW_MINUTES, u32::min);
    if schedule.window_minutes > max_minutes {
        return Err(ScheduleError::WindowTooLarge { max_minutes });
    }
    if schedule.days == Some(0) {
        return Err(ScheduleError::ZeroDays);
    }
    if schedule.weekdays.as_ref().is_some_and(Vec::is_empty) {
        return Err(ScheduleError::EmptyWeekdays);
    }
    TimeZone::get(&schedule.time_zone).map_err(|_| ScheduleError::UnknownTimeZone)
}

/// The largest whole number of minutes `m` with `2 m < gap`.
fn max_window_for_gap(gap: SignedDuration) -> u32 {
    let nanos = gap.as_nanos();
    if nanos <= 0 {
        return 0;
    }
    u32::try_from((nanos - 1) / 120_000_000_000).unwrap_or(u32::MAX)
}

/// One occurrence of a scheduled measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    /// The schedule it belongs to.
    pub schedule_id: String,
    /// What to measure.
    pub kind: ReadingKind,
    /// When it is due.
    pub due_at: Timestamp,
    /// `due_at` on the wall clock of the schedule's time zone (for a time in the
    /// spring-forward gap, the later time the clock shows, not the prescribed one).
    pub local: DateTime,
    /// The first instant a reading counts for this slot (inclusive).
    pub window_start: Timestamp,
    /// The last instant a reading counts for this slot (inclusive).
    pub window_end: Timestamp,
}

impl Slot {
    /// True if `at` lies in the window, both ends included.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.window_start <= at && at <= self.window_end
    }
}

/// The slots of `schedule` whose due time lies in `from..=to`, strictly increasing in
/// time.
///
/// Each active day (from `start`, for `days` days, on the listed weekdays) has one slot
/// per time of day, converted with the schedule's time zone as the module docs describe.
/// The work is linear in the number of days between `from` and `to`.
pub fn slots(
    schedule: &MeasurementSchedule,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Slot>, ScheduleError> {
    let tz = check(schedule)?;
    Ok(slots_in(schedule, &tz, from, to))
}

/// [`slots`] for a validated schedule.
fn slots_in(
    schedule: &MeasurementSchedule,
    tz: &TimeZone,
    from: Timestamp,
    to: Timestamp,
) -> Vec<Slot> {
    if from > to {
        return Vec::new();
    }
    let times = schedule.sorted_times();
    let window = schedule.window();
    // A slot's instant lies on its own local date or, pushed out of a gap, a later one;
    // so the first candidate date is the day before `from`'s, the last `to`'s own.
    let from_day = tz.to_datetime(from).date();
    let mut day = from_day.yesterday().unwrap_or(from_day).max(schedule.start);
    let mut last = tz.to_datetime(to).date();
    if let Some(end) = schedule.last_day() {
        last = last.min(end);
    }

    let mut out = Vec::new();
    while day <= last {
        if schedule.is_active_on(day) {
            for time in &times {
                let Ok(due_at) = tz.to_timestamp(day.to_datetime(*time)) else {
                    continue;
                };
                if due_at < from || due_at > to {
                    continue;
                }
                out.push(Slot {
                    schedule_id: schedule.id.clone(),
                    kind: schedule.kind,
                    due_at,
                    local: tz.to_datetime(due_at),
                    window_start: due_at.checked_sub(window).unwrap_or(Timestamp::MIN),
                    window_end: due_at.checked_add(window).unwrap_or(Timestamp::MAX),
                });
            }
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    // Around a spring-forward gap, a moved time can reach or pass a later one.
    out.sort_by_key(|s| s.due_at);
    out.dedup_by_key(|s| s.due_at);
    out
}

/// The state of one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TaskStatus {
    /// A reading in the window satisfied it.
    Done {
        /// When that reading was measured.
        at: Timestamp,
    },
    /// Not done, and now lies within the window.
    Due,
    /// Not done, and the window has ended.
    Missed,
    /// Not done, and the window has not begun.
    Upcoming,
}

/// A slot and its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// The slot.
    pub slot: Slot,
    /// Its state as of `now`.
    pub status: TaskStatus,
}

/// The tasks of `schedule` due in `from..=to`, with their state as of `now`.
///
/// `taken` lists the readings measured (kind and time; pass the non-superseded ones);
/// readings of other kinds are ignored. Matching is greedy in time order: each reading,
/// earliest first, satisfies the not-yet-done slot nearest to it among those whose
/// window contains it (the earlier slot on a tie). A reading satisfies at most one
/// slot, and a slot is done by its first matching reading; a second reading in the same
/// window does not complete the next slot. Slots just outside `from..=to` take part in
/// the matching, so a slot's state does not depend on the range asked for.
///
/// A slot not done is [`TaskStatus::Upcoming`] before its window, [`TaskStatus::Due`]
/// inside it (both ends included) and [`TaskStatus::Missed`] after it.
pub fn tasks(
    schedule: &MeasurementSchedule,
    taken: &[(ReadingKind, Timestamp)],
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> Result<Vec<Task>, ScheduleError> {
    let tz = check(schedule)?;
    if from > to {
        return Ok(Vec::new());
    }
    // A reading in the window of a slot in range lies within one window of it, and any
    // other slot competing for that reading within one more.
    let margin = schedule.window() * 2;
    let all = slots_in(
        schedule,
        &tz,
        from.checked_sub(margin).unwrap_or(Timestamp::MIN),
        to.checked_add(margin).unwrap_or(Timestamp::MAX),
    );

    let mut readings: Vec<Timestamp> = taken
        .iter()
        .filter(|(kind, _)| *kind == schedule.kind)
        .map(|(_, at)| *at)
        .collect();
    readings.sort();

    let mut done: Vec<Option<Timestamp>> = vec![None; all.len()];
    for at in readings {
        // Windows all have the same length and slots are sorted, so window ends are too.
        let first = all.partition_point(|s| s.window_end < at);
        let nearest = all[first..]
            .iter()
            .enumerate()
            .take_while(|(_, s)| s.window_start <= at)
            .filter(|(i, _)| done[first + i].is_none())
            .min_by_key(|(_, s)| s.due_at.duration_since(at).abs())
            .map(|(i, _)| first + i);
        if let Some(i) = nearest {
            done[i] = Some(at);
        }
    }

    Ok(all
        .into_iter()
        .zip(done)
        .filter(|(slot, _)| slot.due_at >= from && slot.due_at <= to)
        .map(|(slot, done)| {
            let status = match done {
                Some(at) => TaskStatus::Done { at },
                None if now < slot.window_start => TaskStatus::Upcoming,
                None if now <= slot.window_end => TaskStatus::Due,
                None => TaskStatus::Missed,
            };
            Task { slot, status }
        })
        .collect())
}

/// A local notification for a shell to schedule.
///
/// Reminder texts appear on a lock screen, where anyone may read them, so they are
/// deliberately **neutral**: they never name the kind of measurement, the condition or
/// the care unit ("Time for a measurement" / "Open Nära to see what to measure"). The
/// `kind` is for the in-app view only and must not be put into the notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reminder {
    /// A stable id derived from the schedule id and the slot's time (a UUID v5), the
    /// same on every call: a shell can replace its scheduled notifications idempotently,
    /// and cancel one when the task is done.
    pub id: String,
    /// When to notify (the slot's due time).
    pub at: Timestamp,
    /// What to measure; for the in-app view only, never for the notification.
    pub kind: ReadingKind,
    /// The notification title (neutral).
    pub title: LocalizedText,
    /// The notification body (neutral).
    pub body: LocalizedText,
}

/// The neutral notification title.
fn reminder_title() -> LocalizedText {
    LocalizedText::new("Dags för en mätning", "Time for a measurement")
}

/// The neutral notification body.
fn reminder_body() -> LocalizedText {
    LocalizedText::new(
        "Öppna Nära för att se vad som ska mätas.",
        "Open Nära to see what to measure.",
    )
}

/// The reminder id of the slot of `schedule_id` due at `due_at`.
fn reminder_id(schedule_id: &str, due_at: Timestamp) -> String {
    let name = format!(
        "{schedule_id}\u{1f}{}.{:09}",
        due_at.as_second(),
        due_at.subsec_nanosecond()
    );
    Uuid::new_v5(&REMINDER_NAMESPACE, name.as_bytes())
        .hyphenated()
        .to_string()
}

/// The reminders for the slots of `schedule` due from `from` to `from + horizon` (both
/// inclusive), in time order; none for a negative horizon.
///
/// One reminder per slot, at its due time, with the neutral texts described on
/// [`Reminder`]. Done slots are not left out (this function does not see readings); the
/// shell cancels a reminder by id once its task is done.
pub fn reminders(
    schedule: &MeasurementSchedule,
    from: Timestamp,
    horizon: SignedDuration,
) -> Result<Vec<Reminder>, ScheduleError> {
    let tz = check(schedule)?;
    if horizon.is_negative() {
        return Ok(Vec::new());
    }
    let to = from.checked_add(horizon).unwrap_or(Timestamp::MAX);
    Ok(slots_in(schedule, &tz, from, to)
        .into_iter()
        .map(|slot| Reminder {
            id: reminder_id(&slot.schedule_id, slot.due_at),
            at: slot.due_at,
            kind: slot.kind,
            title: reminder_title(),
            body: reminder_body(),
        })
        .collect())
}

/// How well the patient followed a schedule over a range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Adherence {
    /// Slots that count: done, or whose window has ended. Upcoming slots and slots due
    /// now but not yet done are not counted yet.
    pub scheduled: u32,
    /// Slots done.
    pub done: u32,
    /// Slots whose window ended without a reading.
    pub missed: u32,
    /// `done / scheduled`; `None` when nothing is scheduled yet.
    pub ratio: Option<f64>,
}

/// The adherence to `schedule` over the slots due in `from..=to`, as of `now`, matching
/// readings as [`tasks`] does.
pub fn adherence(
    schedule: &MeasurementSchedule,
    taken: &[(ReadingKind, Timestamp)],
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> Result<Adherence, ScheduleError> {
    let (mut done, mut missed) = (0u32, 0u32);
    for task in tasks(schedule, taken, from, to, now)? {
        match task.status {
            TaskStatus::Done { .. } => done = done.saturating_add(1),
            TaskStatus::Missed => missed = missed.saturating_add(1),
            TaskStatus::Due | TaskStatus::Upcoming => {}
        }
    }
    let scheduled = done.saturating_add(missed);
    let ratio = (scheduled > 0).then(|| f64::from(done) / f64::from(scheduled));
    Ok(Adherence {
        scheduled,
        done,
        missed,
        ratio,
    })
}

/// The FHIR `days-of-week` code of `day` (`mon` ... `sun`).
pub fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// Parses a FHIR `days-of-week` code (`mon` ... `sun`).
pub fn weekday_from_code(code: &str) -> Option<Weekday> {
    [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ]
    .into_iter()
    .find(|d| weekday_code(*d) == code)
}

/// Serde for `Option<Vec<Weekday>>` as FHIR `days-of-week` codes (jiff's `Weekday` has
/// no serde support of its own).
mod weekday_codes {
    use jiff::civil::Weekday;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use super::{weekday_code, weekday_from_code};

    pub(super) fn serialize<S: Serializer>(
        days: &Option<Vec<Weekday>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match days {
            None => serializer.serialize_none(),
            Some(days) => {
                let codes: Vec<&str> = days.iter().map(|d| weekday_code(*d)).collect();
                serializer.serialize_some(&codes)
            }
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<Weekday>>, D::Error> {
        let codes: Option<Vec<String>> = Option::deserialize(deserializer)?;
        codes
            .map(|codes| {
                codes
                    .iter()
                    .map(|c| {
                        weekday_from_code(c).ok_or_else(|| D::Error::custom("unknown day of week"))
                    })
                    .collect()
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::{date, time};
    use proptest::prelude::*;

    use super::*;

    const STOCKHOLM: &str = "Europe/Stockholm";

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid time")
    }

    /// An instant given as a Stockholm wall-clock time (compatible disambiguation).
    fn sthlm(dt: DateTime) -> Timestamp {
        TimeZone::get(STOCKHOLM)
            .expect("tzdb")
            .to_timestamp(dt)
            .expect("in range")
    }

    fn bp_week() -> MeasurementSchedule {
        // Monday 2 March 2026, seven days, 08:00 and 20:00 ± 90 min.
        MeasurementSchedule::twice_daily(
            "bp-week",
            ReadingKind::BloodPressure,
            date(2026, 3, 2),
            Some(7),
            STOCKHOLM,
        )
    }

    fn due_times(slots: &[Slot]) -> Vec<String> {
        slots.iter().map(|s| s.due_at.to_string()).collect()
    }

    fn statuses(tasks: &[Task]) -> Vec<TaskStatus> {
        tasks.iter().map(|t| t.status).collect()
    }

    #[test]
    fn validation_table() {
        use ScheduleError::*;
        let base = bp_week();
        let with = |f: &dyn Fn(&mut MeasurementSchedule)| {
            let mut s = base.clone();
            f(&mut s);
            validate_schedule(&s)
        };
        let cases: Vec<(&str, Result<(), ScheduleError>)> = vec![
            ("twice daily is valid", with(&|_| {})),
            ("no times", with(&|s| s.times.clear())),
            (
                "duplicate time",
                with(&|s| s.times = vec![time(8, 0, 0, 0), time(8, 0, 0, 0)]),
            ),
            // 12 h gaps: the window must stay under 6 h.
            (
                "window just under half the gap",
                with(&|s| s.window_minutes = 359),
            ),
            ("window at half the gap", with(&|s| s.window_minutes = 360)),
            // 08:00 and 09:00: at most 29 minutes.
            (
                "close times",
                with(&|s| {
                    s.times = vec![time(9, 0, 0, 0), time(8, 0, 0, 0)];
                    s.window_minutes = 30;
                }),
            ),
            // 23:30 and 00:30 are one hour apart across midnight.
            (
                "gap across midnight",
                with(&|s| {
                    s.times = vec![time(0, 30, 0, 0), time(23, 30, 0, 0)];
                    s.window_minutes = 30;
                }),
            ),
            (
                "one time, 12 h window",
                with(&|s| {
                    s.times = vec![time(12, 0, 0, 0)];
                    s.window_minutes = MAX_WINDOW_MINUTES;
                }),
            ),
            (
                "one time, just under 12 h",
                with(&|s| {
                    s.times = vec![time(12, 0, 0, 0)];
                    s.window_minutes = MAX_WINDOW_MINUTES - 1;
                }),
            ),
            ("zero window", with(&|s| s.window_minutes = 0)),
            ("zero days", with(&|s| s.days = Some(0))),
            ("open-ended", with(&|s| s.days = None)),
            ("empty weekdays", with(&|s| s.weekdays = Some(vec![]))),
            (
                "unknown zone",
                with(&|s| s.time_zone = "Europe/Atlantis".into()),
            ),
            ("empty zone", with(&|s| s.time_zone = String::new())),
            ("utc", with(&|s| s.time_zone = "UTC".into())),
        ];
        let expected = vec![
            Ok(()),
            Err(NoTimes),
            Err(DuplicateTime),
            Ok(()),
            Err(WindowTooLarge { max_minutes: 359 }),
            Err(WindowTooLarge { max_minutes: 29 }),
            Err(WindowTooLarge { max_minutes: 29 }),
            Err(WindowTooLarge { max_minutes: 719 }),
            Ok(()),
            Ok(()),
            Err(ZeroDays),
            Ok(()),
            Err(EmptyWeekdays),
            Err(UnknownTimeZone),
            Err(UnknownTimeZone),
            Ok(()),
        ];
        assert_eq!(cases.len(), expected.len());
        for ((name, got), want) in cases.into_iter().zip(expected) {
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn the_first_problem_is_reported() {
        let mut s = bp_week();
        s.days = Some(0);
        s.time_zone = "Nowhere/Else".into();
        assert_eq!(validate_schedule(&s), Err(ScheduleError::ZeroDays));
    }

    #[test]
    fn error_messages_carry_no_schedule_content() {
        let mut s = bp_week();
        s.id = "patient-19121212-1212".into();
        s.time_zone = "Europe/Secret".into();
        let err = validate_schedule(&s).expect_err("invalid");
        let msg = err.to_string();
        assert!(
            !msg.contains("19121212") && !msg.contains("Secret"),
            "{msg}"
        );
        assert!(slots(&s, t("2026-03-01T00:00:00Z"), t("2026-03-02T00:00:00Z")).is_err());
        assert!(reminders(&s, t("2026-03-01T00:00:00Z"), SignedDuration::from_hours(1)).is_err());
    }

    #[test]
    fn a_week_of_twice_daily_slots() {
        let s = bp_week();
        let all = slots(&s, t("2026-01-01T00:00:00Z"), t("2026-12-31T00:00:00Z")).expect("valid");
        assert_eq!(all.len(), 14);
        // March in Stockholm is CET (+01:00) until the 29th.
        assert_eq!(all[0].due_at, t("2026-03-02T07:00:00Z"));
        assert_eq!(all[0].local, date(2026, 3, 2).at(8, 0, 0, 0));
        assert_eq!(all[0].window_start, t("2026-03-02T05:30:00Z"));
        assert_eq!(all[0].window_end, t("2026-03-02T08:30:00Z"));
        assert_eq!(all[0].schedule_id, "bp-week");
        assert_eq!(all[0].kind, ReadingKind::BloodPressure);
        assert_eq!(all[13].local, date(2026, 3, 8).at(20, 0, 0, 0));
        assert_eq!(s.last_day(), Some(date(2026, 3, 8)));
    }

    #[test]
    fn slot_range_is_inclusive_and_empty_when_reversed() {
        let s = bp_week();
        let due = t("2026-03-03T07:00:00Z");
        assert_eq!(
            due_times(&slots(&s, due, due).expect("valid")),
            vec![due.to_string()]
        );
        let after = due + SignedDuration::from_nanos(1);
        assert!(
            slots(&s, after, after + SignedDuration::from_hours(11))
                .expect("valid")
                .is_empty()
        );
        assert!(
            slots(&s, due, due - SignedDuration::from_nanos(1))
                .expect("valid")
                .is_empty()
        );
    }

    #[test]
    fn spring_forward_keeps_the_local_time() {
        // 29 March 2026: Stockholm clocks jump from 02:00 CET to 03:00 CEST.
        let s = MeasurementSchedule::twice_daily(
            "bp",
            ReadingKind::BloodPressure,
            date(2026, 3, 28),
            Some(3),
            STOCKHOLM,
        );
        let all = slots(&s, t("2026-03-27T00:00:00Z"), t("2026-04-01T00:00:00Z")).expect("valid");
        assert_eq!(
            due_times(&all),
            vec![
                "2026-03-28T07:00:00Z", // 08:00 CET
                "2026-03-28T19:00:00Z", // 20:00 CET
                "2026-03-29T06:00:00Z", // 08:00 CEST
                "2026-03-29T18:00:00Z",
                "2026-03-30T06:00:00Z",
                "2026-03-30T18:00:00Z",
            ]
        );
        assert!(
            all.iter()
                .all(|s| s.local.time() == time(8, 0, 0, 0) || s.local.time() == time(20, 0, 0, 0))
        );
    }

    #[test]
    fn a_time_in_the_gap_moves_later() {
        let mut s = MeasurementSchedule::twice_daily(
            "night",
            ReadingKind::BloodGlucose,
            date(2026, 3, 28),
            Some(3),
            STOCKHOLM,
        );
        s.times = vec![time(2, 30, 0, 0)];
        s.window_minutes = 60;
        let all = slots(&s, t("2026-03-27T00:00:00Z"), t("2026-04-01T00:00:00Z")).expect("valid");
        assert_eq!(
            due_times(&all),
            vec![
                "2026-03-28T01:30:00Z",
                "2026-03-29T01:30:00Z",
                "2026-03-30T00:30:00Z"
            ]
        );
        // 02:30 does not exist on the 29th; the clock shows 03:30 CEST.
        assert_eq!(all[1].local, date(2026, 3, 29).at(3, 30, 0, 0));
    }

    #[test]
    fn two_times_meeting_in_the_gap_become_one_slot() {
        let mut s = MeasurementSchedule::twice_daily(
            "gap",
            ReadingKind::BloodGlucose,
            date(2026, 3, 29),
            Some(1),
            STOCKHOLM,
        );
        s.times = vec![time(2, 30, 0, 0), time(3, 30, 0, 0)];
        s.window_minutes = 20;
        let all = slots(&s, t("2026-03-28T00:00:00Z"), t("2026-03-30T00:00:00Z")).expect("valid");
        assert_eq!(due_times(&all), vec!["2026-03-29T01:30:00Z"]);
        // A time pushed past a later one still comes out in order.
        s.times = vec![time(2, 45, 0, 0), time(3, 15, 0, 0)];
        s.window_minutes = 10;
        let all = slots(&s, t("2026-03-28T00:00:00Z"), t("2026-03-30T00:00:00Z")).expect("valid");
        assert_eq!(
            due_times(&all),
            vec!["2026-03-29T01:15:00Z", "2026-03-29T01:45:00Z"]
        );
    }

    #[test]
    fn fall_back_takes_the_earlier_time() {
        // 25 October 2026: Stockholm clocks go back from 03:00 CEST to 02:00 CET.
        let mut s = MeasurementSchedule::twice_daily(
            "fold",
            ReadingKind::BloodGlucose,
            date(2026, 10, 24),
            Some(3),
            STOCKHOLM,
        );
        s.times = vec![time(2, 30, 0, 0), time(20, 0, 0, 0)];
        let all = slots(&s, t("2026-10-23T00:00:00Z"), t("2026-10-28T00:00:00Z")).expect("valid");
        assert_eq!(
            due_times(&all),
            vec![
                "2026-10-24T00:30:00Z", // 02:30 CEST
                "2026-10-24T18:00:00Z", // 20:00 CEST
                "2026-10-25T00:30:00Z", // 02:30 CEST, the first of the two
                "2026-10-25T19:00:00Z", // 20:00 CET
                "2026-10-26T01:30:00Z", // 02:30 CET
                "2026-10-26T19:00:00Z",
            ]
        );
    }

    #[test]
    fn story_bp_morning_and_evening_for_a_week_missing_tuesday_evening() {
        let s = bp_week();
        let mut taken = Vec::new();
        for day in 2..=8 {
            let d = date(2026, 3, day);
            taken.push((ReadingKind::BloodPressure, sthlm(d.at(8, 10, 0, 0))));
            if day != 3 {
                taken.push((ReadingKind::BloodPressure, sthlm(d.at(19, 45, 0, 0))));
            }
        }
        // A weight and a second morning reading on Tuesday change nothing.
        taken.push((
            ReadingKind::BodyWeight,
            sthlm(date(2026, 3, 3).at(20, 0, 0, 0)),
        ));
        taken.push((
            ReadingKind::BloodPressure,
            sthlm(date(2026, 3, 3).at(8, 15, 0, 0)),
        ));
        let (from, to) = (
            sthlm(date(2026, 3, 2).at(0, 0, 0, 0)),
            sthlm(date(2026, 3, 9).at(0, 0, 0, 0)),
        );
        let now = sthlm(date(2026, 3, 9).at(12, 0, 0, 0));

        let tasks = tasks(&s, &taken, from, to, now).expect("valid");
        assert_eq!(tasks.len(), 14);
        assert_eq!(tasks[3].status, TaskStatus::Missed);
        assert_eq!(tasks[3].slot.local, date(2026, 3, 3).at(20, 0, 0, 0));
        assert_eq!(
            tasks[2].status,
            TaskStatus::Done {
                at: sthlm(date(2026, 3, 3).at(8, 10, 0, 0))
            }
        );
        assert_eq!(
            tasks
                .iter()
                .filter(|t| matches!(t.status, TaskStatus::Done { .. }))
                .count(),
            13
        );

        let a = adherence(&s, &taken, from, to, now).expect("valid");
        assert_eq!((a.scheduled, a.done, a.missed), (14, 13, 1));
        assert_eq!(a.ratio, Some(13.0 / 14.0));
    }

    #[test]
    fn story_wednesday_morning_half_way() {
        // Wednesday 4 March, 08:30: Monday and Tuesday done, this morning's not yet.
        let s = bp_week();
        let taken: Vec<(ReadingKind, Timestamp)> = [(2, 8), (2, 20), (3, 8), (3, 20)]
            .into_iter()
            .map(|(day, h)| {
                (
                    ReadingKind::BloodPressure,
                    sthlm(date(2026, 3, day).at(h, 5, 0, 0)),
                )
            })
            .collect();
        let (from, to) = (t("2026-03-01T00:00:00Z"), t("2026-03-31T00:00:00Z"));
        let now = sthlm(date(2026, 3, 4).at(8, 30, 0, 0));
        let got = statuses(&tasks(&s, &taken, from, to, now).expect("valid"));
        assert!(matches!(
            got[..4],
            [
                TaskStatus::Done { .. },
                TaskStatus::Done { .. },
                TaskStatus::Done { .. },
                TaskStatus::Done { .. }
            ]
        ));
        assert_eq!(got[4], TaskStatus::Due);
        assert!(got[5..].iter().all(|s| *s == TaskStatus::Upcoming));
        // Only finished slots count: 4 of 4 so far.
        let a = adherence(&s, &taken, from, to, now).expect("valid");
        assert_eq!(
            (a.scheduled, a.done, a.missed, a.ratio),
            (4, 4, 0, Some(1.0))
        );
        // Measuring now completes the due slot.
        let mut taken = taken;
        taken.push((ReadingKind::BloodPressure, now));
        let a = adherence(&s, &taken, from, to, now).expect("valid");
        assert_eq!((a.scheduled, a.done), (5, 5));
    }

    #[test]
    fn nothing_scheduled_yet_has_no_ratio() {
        let s = bp_week();
        let now = t("2026-02-01T00:00:00Z");
        let a = adherence(
            &s,
            &[],
            t("2026-03-01T00:00:00Z"),
            t("2026-03-31T00:00:00Z"),
            now,
        )
        .expect("valid");
        assert_eq!(
            a,
            Adherence {
                scheduled: 0,
                done: 0,
                missed: 0,
                ratio: None
            }
        );
    }

    #[test]
    fn windows_are_inclusive_at_both_ends() {
        let s = bp_week();
        let slot = slots(&s, t("2026-03-02T00:00:00Z"), t("2026-03-02T12:00:00Z")).expect("valid")
            [0]
        .clone();
        let one = SignedDuration::from_secs(1);
        let (from, to) = (slot.due_at, slot.due_at);
        let late = slot.window_end + SignedDuration::from_hours(24);
        let status_with = |at: Timestamp| {
            tasks(&s, &[(ReadingKind::BloodPressure, at)], from, to, late).expect("valid")[0].status
        };
        // Readings at the edges count; one second outside does not.
        assert_eq!(
            status_with(slot.window_start),
            TaskStatus::Done {
                at: slot.window_start
            }
        );
        assert_eq!(
            status_with(slot.window_end),
            TaskStatus::Done {
                at: slot.window_end
            }
        );
        assert_eq!(status_with(slot.window_start - one), TaskStatus::Missed);
        assert_eq!(status_with(slot.window_end + one), TaskStatus::Missed);
        assert!(slot.contains(slot.window_start) && slot.contains(slot.window_end));
        // Without a reading: upcoming, then due from the first to the last instant, then missed.
        let status_at = |now: Timestamp| tasks(&s, &[], from, to, now).expect("valid")[0].status;
        assert_eq!(status_at(slot.window_start - one), TaskStatus::Upcoming);
        assert_eq!(status_at(slot.window_start), TaskStatus::Due);
        assert_eq!(status_at(slot.window_end), TaskStatus::Due);
        assert_eq!(status_at(slot.window_end + one), TaskStatus::Missed);
    }

    #[test]
    fn one_reading_satisfies_one_slot_the_nearest() {
        // 08:00 and 09:00 with ±29 min: a reading at 08:31 is in the 09:00 window only.
        let mut s = bp_week();
        s.times = vec![time(8, 0, 0, 0), time(9, 0, 0, 0)];
        s.window_minutes = 29;
        let (from, to) = (
            sthlm(date(2026, 3, 2).at(0, 0, 0, 0)),
            sthlm(date(2026, 3, 2).at(23, 0, 0, 0)),
        );
        let now = sthlm(date(2026, 3, 2).at(12, 0, 0, 0));
        let at = sthlm(date(2026, 3, 2).at(8, 31, 0, 0));
        let got = statuses(
            &tasks(&s, &[(ReadingKind::BloodPressure, at)], from, to, now).expect("valid"),
        );
        assert_eq!(got, vec![TaskStatus::Missed, TaskStatus::Done { at }]);
        // Two readings in the morning window: the first completes it, the second nothing.
        let (a, b) = (
            sthlm(date(2026, 3, 2).at(7, 50, 0, 0)),
            sthlm(date(2026, 3, 2).at(8, 5, 0, 0)),
        );
        let got = statuses(
            &tasks(
                &s,
                &[
                    (ReadingKind::BloodPressure, b),
                    (ReadingKind::BloodPressure, a),
                ],
                from,
                to,
                now,
            )
            .expect("valid"),
        );
        assert_eq!(got, vec![TaskStatus::Done { at: a }, TaskStatus::Missed]);
    }

    #[test]
    fn task_state_does_not_depend_on_the_range() {
        // A reading at 06:35 belongs to the 08:00 slot whichever range is asked for.
        let s = bp_week();
        let at = sthlm(date(2026, 3, 3).at(6, 35, 0, 0));
        let now = t("2026-03-20T00:00:00Z");
        let due = sthlm(date(2026, 3, 3).at(8, 0, 0, 0));
        let narrow = tasks(&s, &[(ReadingKind::BloodPressure, at)], due, due, now).expect("valid");
        assert_eq!(statuses(&narrow), vec![TaskStatus::Done { at }]);
    }

    #[test]
    fn weekday_filter_cat_every_monday() {
        let s = MeasurementSchedule {
            id: "cat-weekly".into(),
            kind: ReadingKind::CatScore,
            times: vec![time(10, 0, 0, 0)],
            window_minutes: 8 * 60,
            start: date(2026, 3, 1),
            days: None,
            weekdays: Some(vec![Weekday::Monday]),
            time_zone: STOCKHOLM.into(),
            instructions: Some(LocalizedText::new(
                "Fyll i CAT-formuläret.",
                "Fill in the CAT form.",
            )),
        };
        let all = slots(&s, t("2026-03-01T00:00:00Z"), t("2026-04-01T00:00:00Z")).expect("valid");
        let days: Vec<i8> = all.iter().map(|s| s.local.day()).collect();
        assert_eq!(days, vec![2, 9, 16, 23, 30]);
        assert!(
            all.iter()
                .all(|s| s.local.date().weekday() == Weekday::Monday)
        );
        // 30 March is in summer time.
        assert_eq!(all[4].due_at, t("2026-03-30T08:00:00Z"));
    }

    #[test]
    fn several_weekdays() {
        let mut s = bp_week();
        s.days = Some(14);
        s.weekdays = Some(vec![Weekday::Friday, Weekday::Tuesday]);
        let all = slots(&s, t("2026-01-01T00:00:00Z"), t("2026-12-31T00:00:00Z")).expect("valid");
        let days: Vec<i8> = all.iter().map(|s| s.local.day()).collect();
        assert_eq!(days, vec![3, 3, 6, 6, 10, 10, 13, 13]);
    }

    #[test]
    fn open_ended_schedules_go_on_and_never_start_early() {
        let s = MeasurementSchedule::twice_daily(
            "w",
            ReadingKind::BodyWeight,
            date(2026, 3, 2),
            None,
            STOCKHOLM,
        );
        assert_eq!(s.last_day(), None);
        let later = slots(&s, t("2031-06-01T00:00:00Z"), t("2031-06-08T00:00:00Z")).expect("valid");
        assert_eq!(later.len(), 14);
        let before =
            slots(&s, t("2026-01-01T00:00:00Z"), t("2026-03-02T06:59:59Z")).expect("valid");
        assert!(before.is_empty());
        let year = slots(&s, t("2026-01-01T00:00:00Z"), t("2027-01-01T00:00:00Z")).expect("valid");
        assert_eq!(year.len(), 2 * 305); // 2 March to 31 December
    }

    #[test]
    fn a_finite_schedule_ends() {
        let s = bp_week();
        assert!(
            slots(&s, t("2026-03-09T00:00:00Z"), t("2027-01-01T00:00:00Z"))
                .expect("valid")
                .is_empty()
        );
        let huge = MeasurementSchedule {
            days: Some(u32::MAX),
            ..bp_week()
        };
        assert_eq!(huge.last_day(), Some(Date::MAX));
        assert_eq!(
            slots(&huge, t("2030-01-01T00:00:00Z"), t("2030-01-02T00:00:00Z"))
                .expect("valid")
                .len(),
            2
        );
    }

    #[test]
    fn reminders_are_neutral_stable_and_unique() {
        let s = bp_week();
        let from = t("2026-03-01T00:00:00Z");
        let week = SignedDuration::from_hours(24 * 10);
        let r = reminders(&s, from, week).expect("valid");
        assert_eq!(r.len(), 14);
        let ids: std::collections::BTreeSet<&str> = r.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), 14, "ids must be unique");
        // The same slots from a later start get the same ids.
        let again = reminders(&s, t("2026-03-05T00:00:00Z"), week).expect("valid");
        assert_eq!(again.len(), 8);
        assert!(again.iter().all(|x| ids.contains(x.id.as_str())));
        assert_eq!(again[0], r[6]);
        // Another schedule at the same times gets other ids.
        let other = MeasurementSchedule {
            id: "bp-week-2".into(),
            ..bp_week()
        };
        let other = reminders(&other, from, week).expect("valid");
        assert!(other.iter().all(|x| !ids.contains(x.id.as_str())));
        // Neutral texts: nothing about what is measured, and never the instructions.
        for reminder in &r {
            assert_eq!(
                reminder.title,
                LocalizedText::new("Dags för en mätning", "Time for a measurement")
            );
            assert_eq!(
                reminder.body,
                LocalizedText::new(
                    "Öppna Nära för att se vad som ska mätas.",
                    "Open Nära to see what to measure."
                )
            );
            let label = ReadingKind::BloodPressure.label();
            for text in [
                &reminder.title.sv,
                &reminder.title.en,
                &reminder.body.sv,
                &reminder.body.en,
            ] {
                let text = text.to_lowercase();
                assert!(
                    !text.contains(&label.sv.to_lowercase())
                        && !text.contains(&label.en.to_lowercase())
                );
                assert!(!text.contains("blod") && !text.contains("blood") && !text.contains("bp"));
            }
            assert_eq!(reminder.kind, ReadingKind::BloodPressure);
        }
        assert_eq!(r[0].at, t("2026-03-02T07:00:00Z"));
        // Golden id: changing the derivation reschedules every notification on every phone.
        assert_eq!(r[0].id, reminder_id("bp-week", t("2026-03-02T07:00:00Z")));
        assert_eq!(
            Uuid::parse_str(&r[0].id).map(|u| u.get_version_num()),
            Ok(5)
        );
    }

    #[test]
    fn reminder_horizon_is_inclusive_and_negative_is_empty() {
        let s = bp_week();
        let from = t("2026-03-02T07:00:00Z");
        assert_eq!(
            reminders(&s, from, SignedDuration::ZERO)
                .expect("valid")
                .len(),
            1
        );
        assert_eq!(
            reminders(&s, from, SignedDuration::from_hours(12))
                .expect("valid")
                .len(),
            2
        );
        assert!(
            reminders(&s, from, SignedDuration::from_secs(-1))
                .expect("valid")
                .is_empty()
        );
        assert_eq!(
            reminders(&s, from, SignedDuration::MAX)
                .expect("valid")
                .len(),
            14
        );
    }

    #[test]
    fn schedule_serializes_with_fhir_day_codes() {
        let mut s = bp_week();
        s.weekdays = Some(vec![Weekday::Monday, Weekday::Sunday]);
        let json = serde_json::to_value(&s).expect("serializes");
        assert_eq!(json["weekdays"], serde_json::json!(["mon", "sun"]));
        assert_eq!(json["times"], serde_json::json!(["08:00:00", "20:00:00"]));
        let back: MeasurementSchedule = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, s);
        let mut json = serde_json::to_value(bp_week()).expect("serializes");
        assert_eq!(json["weekdays"], serde_json::Value::Null);
        json.as_object_mut().map(|o| o.remove("weekdays"));
        let back: MeasurementSchedule =
            serde_json::from_value(json.clone()).expect("missing is none");
        assert_eq!(back.weekdays, None);
        json["weekdays"] = serde_json::json!(["mon", "xyz"]);
        assert!(serde_json::from_value::<MeasurementSchedule>(json).is_err());
        for day in [Weekday::Monday, Weekday::Wednesday, Weekday::Saturday] {
            assert_eq!(weekday_from_code(weekday_code(day)), Some(day));
        }
    }

    #[test]
    fn tasks_serialize() {
        let s = bp_week();
        let now = t("2026-03-02T08:00:00Z");
        let list = tasks(
            &s,
            &[(ReadingKind::BloodPressure, now)],
            t("2026-03-02T00:00:00Z"),
            t("2026-03-03T00:00:00Z"),
            now,
        )
        .expect("valid");
        let json = serde_json::to_value(&list).expect("serializes");
        assert_eq!(json[0]["status"]["status"], "done");
        assert_eq!(json[1]["status"]["status"], "upcoming");
        let back: Vec<Task> = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, list);
    }

    // ----- property tests -----

    const ZONES: [&str; 5] = [
        "Europe/Stockholm",
        "UTC",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
    ];

    prop_compose! {
        /// A valid schedule: 1–4 distinct times on whole minutes, a window that fits,
        /// a start in 2026, a length or none, an optional weekday filter.
        fn any_schedule()(
            minutes in proptest::collection::btree_set(0u32..1440, 1..5),
            window_share in 0.0f64..1.0,
            start_day in 0i64..365,
            days in proptest::option::of(1u32..40),
            weekday_mask in proptest::option::of(1u8..128),
            zone in 0usize..ZONES.len(),
        ) -> MeasurementSchedule {
            let times: Vec<Time> = minutes
                .iter()
                .map(|m| Time::new(i8::try_from(m / 60).unwrap_or(0), i8::try_from(m % 60).unwrap_or(0), 0, 0).expect("valid time"))
                .collect();
            let mut s = MeasurementSchedule {
                id: format!("s-{start_day}"),
                kind: ReadingKind::BloodPressure,
                times,
                // Asks validation for the largest window these times allow.
                window_minutes: u32::MAX,
                start: date(2026, 1, 1).checked_add(SignedDuration::from_hours(24 * start_day)).expect("in range"),
                days,
                weekdays: weekday_mask.map(|mask| {
                    (0..7u8)
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| Weekday::from_monday_zero_offset(i8::try_from(i).unwrap_or(0)).expect("weekday"))
                        .collect()
                }),
                time_zone: ZONES[zone].into(),
                instructions: None,
            };
            let max = match validate_schedule(&s) {
                Err(ScheduleError::WindowTooLarge { max_minutes }) => max_minutes,
                _ => MAX_WINDOW_MINUTES,
            };
            // Truncation keeps the window within the maximum.
            s.window_minutes = (f64::from(max) * window_share) as u32;
            s
        }
    }

    fn range() -> (Timestamp, Timestamp) {
        (t("2025-12-25T00:00:00Z"), t("2027-03-01T00:00:00Z"))
    }

    /// Readings spread over the schedule's year, some of another kind.
    fn any_taken() -> impl Strategy<Value = Vec<(ReadingKind, Timestamp)>> {
        proptest::collection::vec((0i64..420 * 24 * 60, any::<bool>()), 0..120).prop_map(|v| {
            v.into_iter()
                .map(|(mins, bp)| {
                    let kind = if bp {
                        ReadingKind::BloodPressure
                    } else {
                        ReadingKind::BodyWeight
                    };
                    (kind, range().0 + SignedDuration::from_mins(mins))
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Slots are strictly increasing, inside the range, on active days, with windows
        /// around their due time and a local time matching the zone.
        #[test]
        fn slots_are_strictly_increasing(s in any_schedule()) {
            prop_assert_eq!(validate_schedule(&s), Ok(()));
            let (from, to) = range();
            let all = slots(&s, from, to).expect("valid");
            let tz = TimeZone::get(&s.time_zone).expect("tzdb");
            prop_assert!(all.windows(2).all(|w| w[0].due_at < w[1].due_at));
            for slot in &all {
                prop_assert!(from <= slot.due_at && slot.due_at <= to);
                prop_assert!(slot.window_start <= slot.due_at && slot.due_at <= slot.window_end);
                prop_assert_eq!(slot.window_end.duration_since(slot.window_start), s.window() * 2);
                prop_assert_eq!(slot.local, tz.to_datetime(slot.due_at));
                prop_assert!(slot.local.date() >= s.start);
            }
            if s.weekdays.is_none() && s.days.is_some() {
                let expected = s.times.len() * s.days.map_or(0, |d| d as usize);
                // A gap collision can only remove a slot, never add one.
                prop_assert!(all.len() <= expected && all.len() + 2 >= expected);
            }
        }

        /// Splitting a range in two gives the same slots as asking for it whole.
        #[test]
        fn slot_ranges_split_cleanly(s in any_schedule(), split_hours in 0i64..9000) {
            let (from, to) = range();
            let mid = from + SignedDuration::from_hours(split_hours);
            let mut parts = slots(&s, from, mid).expect("valid");
            parts.extend(slots(&s, mid + SignedDuration::from_nanos(1), to).expect("valid"));
            prop_assert_eq!(parts, slots(&s, from, to).expect("valid"));
        }

        /// Every done task's reading lies in its window, is of the schedule's kind, and
        /// is used by one task at most; adherence adds up.
        #[test]
        fn done_readings_lie_in_their_windows(
            s in any_schedule(),
            taken in any_taken(),
            now_mins in 0i64..420 * 24 * 60,
        ) {
            let (from, to) = range();
            let now = from + SignedDuration::from_mins(now_mins);
            let list = tasks(&s, &taken, from, to, now).expect("valid");
            let mut used: Vec<Timestamp> = Vec::new();
            for task in &list {
                match task.status {
                    TaskStatus::Done { at } => {
                        prop_assert!(task.slot.contains(at));
                        used.push(at);
                    }
                    TaskStatus::Due => prop_assert!(task.slot.contains(now)),
                    TaskStatus::Missed => prop_assert!(now > task.slot.window_end),
                    TaskStatus::Upcoming => prop_assert!(now < task.slot.window_start),
                }
            }
            used.sort();
            for w in used.chunk_by(|a, b| a == b) {
                let available = taken.iter().filter(|(k, at)| *k == s.kind && *at == w[0]).count();
                prop_assert!(w.len() <= available, "a reading satisfied two slots");
            }
            let a = adherence(&s, &taken, from, to, now).expect("valid");
            prop_assert_eq!(a.scheduled, a.done + a.missed);
            prop_assert!(a.ratio.is_none_or(|r| (0.0..=1.0).contains(&r)));
        }

        /// Reminder ids are unique and the same on every call.
        #[test]
        fn reminder_ids_are_unique_and_stable(s in any_schedule(), start_hours in 0i64..2000) {
            let from = range().0 + SignedDuration::from_hours(start_hours);
            let horizon = SignedDuration::from_hours(24 * 30);
            let a = reminders(&s, from, horizon).expect("valid");
            let b = reminders(&s, from, horizon).expect("valid");
            prop_assert_eq!(&a, &b);
            let ids: std::collections::BTreeSet<&str> = a.iter().map(|r| r.id.as_str()).collect();
            prop_assert_eq!(ids.len(), a.len());
        }
    }
}
