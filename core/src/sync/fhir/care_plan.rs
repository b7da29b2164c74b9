//! Measurement schedules as a FHIR `CarePlan`, to and from [`MeasurementSchedule`].
//!
//! One CarePlan (`intent: plan`) holds the patient's measurement schedules, one
//! `activity` each:
//! - `activity[i].detail.code`: the reading kind's Observation code;
//! - `activity[i].detail.status`: `not-started`, `scheduled` or `in-progress` is live;
//!   any other status drops that schedule;
//! - `activity[i].detail.scheduledTiming.repeat`: `timeOfDay` (local clock times),
//!   `boundsPeriod` (`start` date, optional inclusive `end` date), optional `dayOfWeek`;
//! - the window on either side of a time: the extension
//!   `https://nara.se/fhir/StructureDefinition/measurement-window` (valueDuration in
//!   `min`) on `activity[i].detail`; without it, 60 minutes (less if the times are
//!   closer together than that allows);
//! - the time zone: the extension `https://nara.se/fhir/StructureDefinition/time-zone`
//!   (valueCode, IANA) on `scheduledTiming`; without it, `Europe/Stockholm`;
//! - `activity[i].detail.description`: the care team's instructions (Swedish), with an
//!   English translation in the standard `translation` extension on `_description`.
//!
//! The schedule id is `<CarePlan id>/<activity index>`, so reminders stay stable while
//! the care team edits the plan without reordering activities. A CarePlan whose
//! `status` is not `active` withdraws all its schedules.

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::Serialize;
use serde_json::Value;

use crate::domain::schedule::{
    MeasurementSchedule, ScheduleError, validate_schedule, weekday_code, weekday_from_code,
};
use crate::domain::text::LocalizedText;
use crate::sync::fhir::goal::{check_subject, find_coding, kind_from_code, version};
use crate::sync::fhir::json::{Doc, DownloadError, Problem, join};
use crate::sync::fhir::types::{
    CodeableConcept, Extension, ExtensionValue, Period, Quantity, Reference, date, time,
};
use crate::sync::fhir::{FhirError, PatientId, is_fhir_id};

/// Extension on `CarePlan.activity.detail` (valueDuration, UCUM `min`): how long before
/// or after a time a reading still counts for it.
pub const EXT_MEASUREMENT_WINDOW: &str =
    "https://nara.se/fhir/StructureDefinition/measurement-window";
/// Extension on `CarePlan.activity.detail.scheduledTiming` (valueCode): the IANA time
/// zone the times of day are in.
pub const EXT_TIME_ZONE: &str = "https://nara.se/fhir/StructureDefinition/time-zone";
/// HL7's translation extension (on `_description`: `lang` and `content`).
pub const EXT_TRANSLATION: &str = "http://hl7.org/fhir/StructureDefinition/translation";
/// The time zone of a schedule without [`EXT_TIME_ZONE`].
pub const DEFAULT_TIME_ZONE: &str = "Europe/Stockholm";
/// The window of a schedule without [`EXT_MEASUREMENT_WINDOW`], in minutes.
pub const DEFAULT_WINDOW_MINUTES: u32 = 60;

/// A CarePlan as downloaded.
#[derive(Debug, Clone, PartialEq)]
pub struct CarePlanSchedules {
    /// The CarePlan's resource id; every schedule id starts with it and `/`.
    pub care_plan_id: String,
    /// `meta.lastUpdated`, if the server gave it.
    pub last_updated: Option<Timestamp>,
    /// True if the CarePlan is `active`. If false, every schedule whose id starts with
    /// `<care_plan_id>/` is withdrawn.
    pub active: bool,
    /// The live schedules (empty when not active). Schedules of this CarePlan that the
    /// store has and this list lacks are withdrawn.
    pub schedules: Vec<MeasurementSchedule>,
}

impl CarePlanSchedules {
    /// The id prefix of this CarePlan's schedules, `<care_plan_id>/`.
    pub fn id_prefix(&self) -> String {
        format!("{}/", self.care_plan_id)
    }
}

/// Minimal `CarePlan` as Nära writes it (for the nurse simulator and tests).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "resourceType", rename_all = "camelCase")]
pub struct CarePlan {
    /// `active`.
    pub status: String,
    /// `plan`.
    pub intent: String,
    /// `Patient/<id>`.
    pub subject: Reference,
    /// One per schedule.
    pub activity: Vec<Activity>,
}

/// One `CarePlan.activity`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    /// The planned measurement.
    pub detail: ActivityDetail,
}

/// `CarePlan.activity.detail`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityDetail {
    /// The measurement window.
    pub extension: Vec<Extension>,
    /// `ServiceRequest`.
    pub kind: String,
    /// The reading kind's Observation code.
    pub code: CodeableConcept,
    /// `scheduled`.
    pub status: String,
    /// When.
    pub scheduled_timing: Timing,
    /// Instructions in Swedish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The English translation of the instructions.
    #[serde(rename = "_description", skip_serializing_if = "Option::is_none")]
    pub description_element: Option<PrimitiveExtensions>,
}

/// The extensions of a primitive element (`_description`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrimitiveExtensions {
    /// The extensions.
    pub extension: Vec<Extension>,
}

/// A FHIR `Timing` (repeat only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    /// The time zone, when not Europe/Stockholm.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// The repetition.
    pub repeat: TimingRepeat,
}

/// `Timing.repeat` as Nära uses it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimingRepeat {
    /// First and (inclusive) last day.
    pub bounds_period: Period,
    /// The weekdays, if not every day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<Vec<String>>,
    /// Local clock times.
    pub time_of_day: Vec<String>,
}

fn activity(s: &MeasurementSchedule) -> Result<Activity, FhirError> {
    let mut times = s.times.clone();
    times.sort();
    let end = match s.last_day() {
        Some(d) => Some(date(d)?),
        None => None,
    };
    let timing_ext = if s.time_zone == DEFAULT_TIME_ZONE {
        vec![]
    } else {
        vec![Extension::code(EXT_TIME_ZONE, &s.time_zone)]
    };
    let (description, description_element) = match &s.instructions {
        None => (None, None),
        Some(t) => {
            let translation = (t.en != t.sv).then(|| PrimitiveExtensions {
                extension: vec![Extension {
                    url: EXT_TRANSLATION.to_owned(),
                    value: ExtensionValue::Nested(vec![
                        Extension::code("lang", "en"),
                        Extension::string("content", &t.en),
                    ]),
                }],
            });
            (Some(t.sv.clone()), translation)
        }
    };
    Ok(Activity {
        detail: ActivityDetail {
            extension: vec![Extension {
                url: EXT_MEASUREMENT_WINDOW.to_owned(),
                value: ExtensionValue::Duration(Quantity::ucum(
                    f64::from(s.window_minutes),
                    0,
                    "min",
                )?),
            }],
            kind: "ServiceRequest".to_owned(),
            code: CodeableConcept::one(s.kind.code().into()),
            status: "scheduled".to_owned(),
            scheduled_timing: Timing {
                extension: timing_ext,
                repeat: TimingRepeat {
                    bounds_period: Period {
                        start: date(s.start)?,
                        end,
                    },
                    day_of_week: s
                        .weekdays
                        .as_ref()
                        .map(|w| w.iter().map(|d| weekday_code(*d).to_owned()).collect()),
                    time_of_day: times.into_iter().map(time).collect(),
                },
            },
            description,
            description_element,
        },
    })
}

/// The CarePlan holding `schedules` (activity `i` is schedule `i`), about `patient`,
/// `active`. Schedule ids are not written: after download they are
/// `<CarePlan id>/<i>`.
pub fn care_plan_from_schedules(
    schedules: &[MeasurementSchedule],
    patient: &PatientId,
) -> Result<CarePlan, FhirError> {
    if schedules.is_empty() {
        return Err(FhirError::Empty);
    }
    Ok(CarePlan {
        status: "active".to_owned(),
        intent: "plan".to_owned(),
        subject: Reference::literal(patient.reference()),
        activity: schedules.iter().map(activity).collect::<Result<_, _>>()?,
    })
}

fn parse_day(doc: &Doc, s: &str, field: &str, tz: &TimeZone) -> Result<Date, DownloadError> {
    if s.len() == 10 {
        return s
            .parse::<Date>()
            .map_err(|_| doc.err(field, Problem::Invalid));
    }
    // A dateTime: its date in the schedule's time zone.
    s.parse::<Timestamp>()
        .map(|t| t.to_zoned(tz.clone()).date())
        .map_err(|_| doc.err(field, Problem::Invalid))
}

fn instructions(doc: &Doc, d: &Value, path: &str) -> Result<Option<LocalizedText>, DownloadError> {
    let Some(sv) = doc.opt_str(d, "description", path)? else {
        return Ok(None);
    };
    let mut en = sv.to_owned();
    if let Some(el) = d.get("_description") {
        let ep = join(path, "_description");
        for (p, t) in doc.extensions(el, EXT_TRANSLATION, &ep)? {
            let lang = doc
                .extension(t, "lang", &p)?
                .map(|(lp, l)| doc.str(l, "valueCode", &lp))
                .transpose()?;
            if lang.is_some_and(|l| l == "en" || l.starts_with("en-")) {
                let (cp, c) = doc.extension(t, "content", &p)?.ok_or_else(|| {
                    doc.err(format!("{p}.extension[url=content]"), Problem::Missing)
                })?;
                doc.str(c, "valueString", &cp)?.clone_into(&mut en);
            }
        }
    }
    Ok(Some(LocalizedText::new(sv, en)))
}

fn window(doc: &Doc, d: &Value, path: &str) -> Result<Option<u32>, DownloadError> {
    let Some((p, e)) = doc.extension(d, EXT_MEASUREMENT_WINDOW, path)? else {
        return Ok(None);
    };
    let vp = join(&p, "valueDuration");
    let q = doc.req(e, "valueDuration", &p)?;
    let minutes = doc.number(q, "value", &vp)?;
    let per_unit = match doc.str(q, "code", &vp)? {
        "min" => 1.0,
        "h" => 60.0,
        _ => return Err(doc.err(join(&vp, "code"), Problem::WrongUnit)),
    };
    let minutes = minutes * per_unit;
    if !(0.0..=f64::from(u32::MAX)).contains(&minutes) || minutes.fract() != 0.0 {
        return Err(doc.err(join(&vp, "value"), Problem::Invalid));
    }
    // In range and whole, checked above.
    Ok(Some(minutes as u32))
}

const LIVE_ACTIVITY: [&str; 3] = ["not-started", "scheduled", "in-progress"];
const UNSUPPORTED_REPEAT: [&str; 8] = [
    "boundsDuration",
    "boundsRange",
    "count",
    "countMax",
    "duration",
    "durationMax",
    "when",
    "offset",
];

fn schedule(
    doc: &Doc,
    a: &Value,
    index: usize,
    care_plan_id: &str,
) -> Result<Option<MeasurementSchedule>, DownloadError> {
    let ap = format!("activity[{index}]");
    if a.get("reference").is_some() {
        return Err(doc.err(join(&ap, "reference"), Problem::Unsupported));
    }
    let dp = join(&ap, "detail");
    let d = doc.req(a, "detail", &ap)?;
    let status = doc.str(d, "status", &dp)?;
    if !LIVE_ACTIVITY.contains(&status) {
        return Ok(None);
    }
    let kind = find_coding(doc, d, "code", &dp, kind_from_code)?;
    for other in ["scheduledPeriod", "scheduledString"] {
        if d.get(other).is_some() {
            return Err(doc.err(join(&dp, other), Problem::Unsupported));
        }
    }
    let tp = join(&dp, "scheduledTiming");
    let timing = doc.req(d, "scheduledTiming", &dp)?;
    let time_zone = match doc.extension(timing, EXT_TIME_ZONE, &tp)? {
        Some((p, e)) => doc.str(e, "valueCode", &p)?.to_owned(),
        None => DEFAULT_TIME_ZONE.to_owned(),
    };
    let tz = TimeZone::get(&time_zone).map_err(|_| {
        doc.err(
            format!("{tp}.extension[url={EXT_TIME_ZONE}].valueCode"),
            Problem::Schedule(ScheduleError::UnknownTimeZone),
        )
    })?;
    if timing.get("event").is_some() || timing.get("code").is_some() {
        return Err(doc.err(join(&tp, "event"), Problem::Unsupported));
    }
    let rp = join(&tp, "repeat");
    let repeat = doc.req(timing, "repeat", &tp)?;
    for other in UNSUPPORTED_REPEAT {
        if repeat.get(other).is_some() {
            return Err(doc.err(join(&rp, other), Problem::Unsupported));
        }
    }

    let mut times = Vec::new();
    for (i, t) in doc.array(repeat, "timeOfDay", &rp)?.iter().enumerate() {
        let field = format!("{rp}.timeOfDay[{i}]");
        let t = t
            .as_str()
            .and_then(|s| s.parse::<Time>().ok())
            .ok_or_else(|| doc.err(&field, Problem::Invalid))?;
        times.push(t);
    }
    if times.is_empty() {
        return Err(doc.err(join(&rp, "timeOfDay"), Problem::Missing));
    }
    // frequency/period are redundant with timeOfDay; accept them only when they agree.
    let frequency = repeat.get("frequency").map(Value::as_u64);
    let period = repeat.get("period").map(Value::as_f64);
    let unit = doc.opt_str(repeat, "periodUnit", &rp)?;
    let agrees = frequency.is_none_or(|f| f == Some(times.len() as u64))
        && period.is_none_or(|p| p == Some(1.0))
        && unit.is_none_or(|u| u == "d");
    if !agrees {
        return Err(doc.err(join(&rp, "frequency"), Problem::Unsupported));
    }

    let bp = join(&rp, "boundsPeriod");
    let bounds = doc.req(repeat, "boundsPeriod", &rp)?;
    let start = parse_day(
        doc,
        doc.str(bounds, "start", &bp)?,
        &join(&bp, "start"),
        &tz,
    )?;
    let days = match doc.opt_str(bounds, "end", &bp)? {
        None => None,
        Some(end) => {
            let end = parse_day(doc, end, &join(&bp, "end"), &tz)?;
            let span = start
                .until(end)
                .map_err(|_| doc.err(join(&bp, "end"), Problem::Invalid))?;
            let days = u32::try_from(span.get_days())
                .map_err(|_| doc.err(join(&bp, "end"), Problem::Invalid))?;
            Some(days + 1)
        }
    };
    let weekdays = match repeat.get("dayOfWeek") {
        None => None,
        Some(_) => {
            let mut w: Vec<Weekday> = Vec::new();
            for (i, c) in doc.array(repeat, "dayOfWeek", &rp)?.iter().enumerate() {
                let day = c
                    .as_str()
                    .and_then(weekday_from_code)
                    .ok_or_else(|| doc.err(format!("{rp}.dayOfWeek[{i}]"), Problem::UnknownCode))?;
                if !w.contains(&day) {
                    w.push(day);
                }
            }
            Some(w)
        }
    };

    let mut s = MeasurementSchedule {
        id: format!("{care_plan_id}/{index}"),
        kind,
        times,
        window_minutes: DEFAULT_WINDOW_MINUTES,
        start,
        days,
        weekdays,
        time_zone,
        instructions: instructions(doc, d, &dp)?,
    };
    match window(doc, d, &dp)? {
        Some(w) => s.window_minutes = w,
        None => {
            // The default shrinks to what closely spaced times allow.
            if let Err(ScheduleError::WindowTooLarge { max_minutes }) = validate_schedule(&s) {
                s.window_minutes = max_minutes;
            }
        }
    }
    validate_schedule(&s).map_err(|e| doc.err(&tp, Problem::Schedule(e)))?;
    Ok(Some(s))
}

/// Reads a downloaded CarePlan about `patient`.
pub fn schedules_from_care_plan(
    care_plan: &Value,
    patient: &PatientId,
) -> Result<CarePlanSchedules, DownloadError> {
    let doc = Doc::open(care_plan, "CarePlan")?;
    let id = care_plan
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| is_fhir_id(id))
        .ok_or_else(|| doc.err("id", Problem::Missing))?
        .to_owned();
    check_subject(&doc, care_plan, patient)?;
    let last_updated = version(&doc, care_plan).ok().and_then(|(_, t)| t);
    let active = doc.str(care_plan, "status", "")? == "active";
    let mut schedules = Vec::new();
    if active {
        for (i, a) in doc.array(care_plan, "activity", "")?.iter().enumerate() {
            schedules.extend(schedule(&doc, a, i, &id)?);
        }
    }
    Ok(CarePlanSchedules {
        care_plan_id: id,
        last_updated,
        active,
        schedules,
    })
}
