//! From a decoded measurement to a reading: units, time, identity and quality.
//!
//! - **Units**: every value goes to the core's canonical unit with the conversions
//!   and rounding of [`crate::domain::units`] and [`Measurement`]'s constructors.
//! - **Time**: device clocks keep local wall-clock time with no zone; it is placed
//!   in the patient's zone (`tz`, an IANA zone from the phone), so a record from
//!   July imported in November still gets its summer-time offset. A value with no
//!   known date (live notifications without a time stamp, a pulse oximeter whose
//!   clock is not set) is taken as measured when it was received.
//! - **Identity**: a value with a device time (or a glucose sequence number) gets a
//!   record key, so [`crate::domain::reading::ReadingId::for_device`] gives it the same
//!   id on every import: importing a device's memory again creates nothing new. The
//!   key is the device user (if any) and the sequence number and time exactly as the
//!   device sent them (before any zone), e.g. `u1/2026-11-24T07:30:00` or
//!   `seq17/2026-11-24T07:30:00` (the time is kept with the sequence number because
//!   meters restart their numbering after a reset).
//! - **Quality**: the device's status bits become [`QualityFlags`] (triage then
//!   answers "measure again" instead of a colour, or notes an irregular pulse as a
//!   finding); data a device marks as not the
//!   patient's (control solution, demonstration or test data, another user of a shared
//!   cuff) or as no measurement at all makes no reading, with a [`NotAReading`] reason.
//! - **Beyond the device's range**: a meter that says "HI"/"LO" gives a reading whose
//!   value is a bound ([`OffScale`], FHIR `Quantity.comparator`), never an exact value
//!   at the limit. With a value and the "result too high/low" status bit, the value is
//!   the bound. With ±INF and no value, the bound is the edge of the default red band
//!   ([`ThresholdSet::default_for`]): all that is certain is that the value lies beyond
//!   it (glucose, temperature, the pressures, pulses and saturation alike). A metric
//!   without a red band there (weight), or a saturation above 100 %, has no value.
//! - **Glucose context**: meal, tester, health, insulin and HbA1c from the Glucose
//!   Measurement Context are kept on the reading ([`GlucoseContext`]).

use std::fmt;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::Decoded;
use super::blood_pressure::{self, MeasurementStatus, PulseRateRange, UNKNOWN_USER};
use super::glucose::{
    self as gatt_glucose, ConcentrationUnit, GlucoseMeasurement, MedicationUnit, SensorStatus,
};
use super::heart_rate::SensorContact;
use super::ieee11073::{Medfloat, Special};
use super::plx::{PlxDeviceStatus, PlxMeasurementStatus, SpO2Pr};
use super::time::DeviceTime;
use crate::domain::glucose_context::{
    AmountUnit, GlucoseContext, HBA1C_PERCENT_PLAUSIBLE, HealthState, Insulin, InsulinKind,
    MealRelation, Tester,
};
use crate::domain::reading::{
    Comparator, Measurement, Metric, NewReading, OffScale, QualityFlags, Source,
};
use crate::domain::text::LocalizedText;
use crate::domain::triage::ThresholdSet;
use crate::domain::units::{GlucoseUnit, round_to};

/// The longest device id or model kept (a serial number, a system id, a model name).
pub const MAX_DEVICE_TEXT: usize = 64;

/// The device as the shell identified it from the Device Information service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// Serial Number String (0x2A25), or the System ID (0x2A23) in hex when the device
    /// has no serial number. Never the Bluetooth address, which phones randomise.
    pub device_id: String,
    /// Manufacturer Name (0x2A29) and Model Number (0x2A24), as the patient would
    /// recognise it (for example "Omron M7 Intelli IT").
    pub model: Option<String>,
}

/// The device info is unusable: empty, too long or with control characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the device id must be 1–{MAX_DEVICE_TEXT} printable characters")]
pub struct BadDeviceInfo;

impl DeviceInfo {
    /// Checks the shell's strings: the id is 1–64 printable characters, the model (if
    /// any) up to 64; surrounding white space is trimmed.
    pub fn new(device_id: &str, model: Option<&str>) -> Result<Self, BadDeviceInfo> {
        let clean = |s: &str| -> Result<String, BadDeviceInfo> {
            let s = s.trim();
            if s.is_empty()
                || s.chars().count() > MAX_DEVICE_TEXT
                || s.chars().any(char::is_control)
            {
                return Err(BadDeviceInfo);
            }
            Ok(s.to_owned())
        };
        Ok(Self {
            device_id: clean(device_id)?,
            model: model
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(clean)
                .transpose()?,
        })
    }
}

/// What the capture needs besides the value: who the device is, whose readings are
/// wanted, and where and when the patient is.
#[derive(Debug, Clone)]
pub struct CaptureContext {
    /// The device.
    pub device: DeviceInfo,
    /// The patient's user number on a shared device (a cuff for two), if the shell
    /// knows it: values of other users make no reading. `None` takes every user.
    pub user: Option<u8>,
    /// The patient's time zone, for device wall-clock times.
    pub tz: TimeZone,
    /// When the shell received the value (for values without a device time).
    pub received_at: Timestamp,
}

/// Why a decoded value makes no reading. None of these is an error: the value was
/// understood, and is not a measurement of the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NotAReading {
    /// Intermediate cuff pressure: progress while the cuff inflates.
    InProgress,
    /// A control-point response, a clock or another value that is no measurement.
    NotAMeasurement,
    /// A glucose context without its measurement in the same import.
    ContextWithoutMeasurement,
    /// A control-solution check of a glucose meter.
    ControlSolution,
    /// The device marked the data as demonstration or test data.
    DemonstrationOrTestData,
    /// Another user of a shared device.
    OtherUser {
        /// The device's user number.
        user_id: u8,
    },
    /// The device reported no valid value for a required field.
    NoValue {
        /// The field, in the specification's words.
        field: &'static str,
        /// The special value the device sent, if it sent one.
        special: Option<Special>,
    },
    /// The device says the measurement failed (weight "unsuccessful", an oximeter's
    /// "invalid measurement" or "sensor disconnected").
    Unsuccessful,
}

impl NotAReading {
    /// Why the value was not stored, for the patient (Swedish and English).
    pub fn text(&self) -> LocalizedText {
        match self {
            NotAReading::InProgress => LocalizedText::new(
                "Mätningen pågår fortfarande.",
                "The measurement is still in progress.",
            ),
            NotAReading::NotAMeasurement | NotAReading::ContextWithoutMeasurement => {
                LocalizedText::new(
                    "Mätaren skickade ingen mätning.",
                    "The device sent no measurement.",
                )
            }
            NotAReading::ControlSolution => LocalizedText::new(
                "Ett test med kontrollvätska, inte ditt värde. Det sparas inte.",
                "A control-solution test, not your value. It is not saved.",
            ),
            NotAReading::DemonstrationOrTestData => LocalizedText::new(
                "Mätaren visar demonstrations- eller testvärden. De sparas inte.",
                "The device shows demonstration or test values. They are not saved.",
            ),
            NotAReading::OtherUser { user_id } => LocalizedText::new(
                format!("Uppmätt av användare {user_id} på mätaren, inte av dig."),
                format!("Measured by user {user_id} of the device, not by you."),
            ),
            NotAReading::NoValue { .. } | NotAReading::Unsuccessful => LocalizedText::new(
                "Mätaren kunde inte mäta. Mät igen.",
                "The device could not measure. Measure again.",
            ),
        }
    }
}

impl fmt::Display for NotAReading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotAReading::InProgress => f.write_str("a measurement in progress"),
            NotAReading::NotAMeasurement => f.write_str("not a measurement"),
            NotAReading::ContextWithoutMeasurement => {
                f.write_str("a glucose context without its measurement")
            }
            NotAReading::ControlSolution => f.write_str("a control-solution test"),
            NotAReading::DemonstrationOrTestData => {
                f.write_str("demonstration or test data from the device")
            }
            NotAReading::OtherUser { user_id } => {
                write!(f, "measured by user {user_id} of the device")
            }
            NotAReading::NoValue { field, special } => match special {
                Some(s) => write!(f, "no value for {field}: {}", s.reason()),
                None => write!(f, "no value for {field}"),
            },
            NotAReading::Unsuccessful => f.write_str("the device reports the measurement failed"),
        }
    }
}

/// The reading `decoded` becomes, with `context` (a glucose context with the same
/// sequence number, if one came). Pure.
pub fn reading_from(
    decoded: &Decoded,
    context: Option<&gatt_glucose::GlucoseContext>,
    cx: &CaptureContext,
) -> Result<NewReading, NotAReading> {
    match decoded {
        Decoded::BloodPressure(bp) => {
            let user = user_part(bp.user_id, cx.user)?;
            let mut off_scale = Vec::new();
            let systolic = pressure(bp.systolic, bp.unit, Metric::Systolic, &mut off_scale)?;
            let diastolic = pressure(bp.diastolic, bp.unit, Metric::Diastolic, &mut off_scale)?;
            let pulse = bp
                .pulse_rate
                .and_then(|p| optional(p, Metric::Pulse, &mut off_scale));
            let quality = bp.status.map(bp_quality).unwrap_or_default();
            let mut new = build(
                Measurement::BloodPressure {
                    systolic,
                    diastolic,
                    pulse,
                },
                bp.time_stamp.as_ref(),
                user,
                None,
                quality,
                cx,
            );
            new.off_scale = off_scale;
            Ok(new)
        }
        Decoded::Weight(w) => {
            let user = user_part(w.user_id, cx.user)?;
            let kg = w.weight_kg().ok_or(NotAReading::Unsuccessful)?;
            Ok(build(
                Measurement::body_weight(kg, crate::domain::units::WeightUnit::Kg),
                w.time_stamp.as_ref(),
                user,
                None,
                QualityFlags::GOOD,
                cx,
            ))
        }
        Decoded::Glucose(g) => glucose(g, context, cx),
        Decoded::PlxSpotCheck(s) => {
            let quality = plx_quality(s.measurement_status, s.device_status)?;
            let (measurement, off_scale) = spo2(&s.reading, "SpO2PR-Spot-Check - SpO2")?;
            let time = if s.device_clock_not_set {
                None
            } else {
                s.time_stamp.as_ref()
            };
            let mut new = build(measurement, time, None, None, quality, cx);
            new.off_scale = off_scale;
            Ok(new)
        }
        Decoded::PlxContinuous(c) => {
            let quality = plx_quality(c.measurement_status, c.device_status)?;
            let (measurement, off_scale) = spo2(&c.normal, "SpO2PR-Normal - SpO2")?;
            let mut new = build(measurement, None, None, None, quality, cx);
            new.off_scale = off_scale;
            Ok(new)
        }
        Decoded::HeartRate(h) => {
            let quality = QualityFlags {
                weak_signal: h.sensor_contact == SensorContact::NotDetected,
                ..QualityFlags::GOOD
            };
            Ok(build(
                Measurement::HeartRate {
                    bpm: f64::from(h.bpm),
                },
                None,
                None,
                None,
                quality,
                cx,
            ))
        }
        Decoded::Temperature(t) => {
            let (celsius, off_scale) = match t.celsius() {
                Ok(c) => (c, None),
                Err(special) => {
                    let bound =
                        beyond_range(Metric::Temperature, special).ok_or(NotAReading::NoValue {
                            field: "Temperature Measurement Value",
                            special: Some(special),
                        })?;
                    (bound.0, Some(bound.1))
                }
            };
            let mut new = build(
                Measurement::body_temperature(
                    celsius,
                    crate::domain::units::TemperatureUnit::Celsius,
                ),
                t.time_stamp.as_ref(),
                None,
                None,
                QualityFlags::GOOD,
                cx,
            );
            new.off_scale.extend(off_scale.map(|comparator| OffScale {
                metric: Metric::Temperature,
                comparator,
            }));
            Ok(new)
        }
        Decoded::IntermediateCuffPressure(_) => Err(NotAReading::InProgress),
        Decoded::GlucoseContext(_) => Err(NotAReading::ContextWithoutMeasurement),
        Decoded::RecordAccessControlPoint(_) | Decoded::DateTime(_) => {
            Err(NotAReading::NotAMeasurement)
        }
    }
}

fn glucose(
    g: &GlucoseMeasurement,
    context: Option<&gatt_glucose::GlucoseContext>,
    cx: &CaptureContext,
) -> Result<NewReading, NotAReading> {
    let c = g.concentration.ok_or(NotAReading::NoValue {
        field: "Glucose Concentration",
        special: None,
    })?;
    if c.is_control_solution() {
        return Err(NotAReading::ControlSolution);
    }
    let status = g.sensor_status.unwrap_or_default();
    let (measurement, comparator) = match c.value.value() {
        Ok(value) => {
            let measurement = match c.unit {
                // kg/L × 10⁵ = mg/dL; mol/L × 10³ = mmol/L.
                ConcentrationUnit::KgPerL => {
                    Measurement::blood_glucose(value * 1e5, GlucoseUnit::MgPerDl)
                }
                ConcentrationUnit::MolPerL => {
                    Measurement::blood_glucose(value * 1e3, GlucoseUnit::MmolPerL)
                }
            };
            // The meter's "HI"/"LO": the value sent is its limit, not the result.
            let comparator = if status.result_too_high {
                Some(Comparator::Above)
            } else if status.result_too_low {
                Some(Comparator::Below)
            } else {
                None
            };
            (measurement, comparator)
        }
        Err(special) => {
            let (limit, comparator) =
                beyond_range(Metric::Glucose, special).ok_or(NotAReading::NoValue {
                    field: "Glucose Concentration",
                    special: Some(special),
                })?;
            (
                Measurement::BloodGlucose { mmol_per_l: limit },
                Some(comparator),
            )
        }
    };
    let quality = g.sensor_status.map(glucose_quality).unwrap_or_default();
    // The time the meter shows for the record: base time plus offset.
    let time = g.time().map(DeviceTime::from_civil);
    let mut new = build(
        measurement,
        time.as_ref(),
        None,
        Some(g.sequence_number),
        quality,
        cx,
    );
    new.off_scale.extend(comparator.map(|comparator| OffScale {
        metric: Metric::Glucose,
        comparator,
    }));
    new.glucose_context = context.map(glucose_context).filter(|c| !c.is_empty());
    Ok(new)
}

/// The bound of a value a device reported as beyond its range (±INF): the edge of the
/// default red band on that side, which the true value certainly lies beyond. `None`
/// for NaN, NRes and reserved values, and for a metric without a red band there.
pub fn beyond_range(metric: Metric, special: Special) -> Option<(f64, Comparator)> {
    let comparator = match special {
        Special::PositiveInfinity => Comparator::Above,
        Special::NegativeInfinity => Comparator::Below,
        Special::NaN | Special::NRes | Special::Reserved => return None,
    };
    // No saturation lies above 100 %: a device that says so has no value.
    if metric == Metric::SpO2 && comparator == Comparator::Above {
        return None;
    }
    let defaults = ThresholdSet::default_for(metric.primary_kind());
    let yellow = defaults.for_metric(metric)?.yellow;
    let edge = match comparator {
        Comparator::Above => yellow.high?,
        Comparator::Below => yellow.low?,
    };
    Some((edge, comparator))
}

/// The context a glucose meter sent, in the core's terms. Reserved and "not available"
/// values are left out.
fn glucose_context(c: &gatt_glucose::GlucoseContext) -> GlucoseContext {
    use gatt_glucose::{Health, Meal, MedicationId, Tester as GattTester};
    let meal = c.meal.and_then(|m| match m {
        Meal::Preprandial => Some(MealRelation::BeforeMeal),
        Meal::Postprandial => Some(MealRelation::AfterMeal),
        Meal::Fasting => Some(MealRelation::Fasting),
        Meal::Casual => Some(MealRelation::Casual),
        Meal::Bedtime => Some(MealRelation::Bedtime),
        Meal::Reserved(_) => None,
    });
    let (tester, health) = match c.tester_health {
        Some((t, h)) => (
            match t {
                GattTester::SelfTest => Some(Tester::SelfTest),
                GattTester::HealthCareProfessional => Some(Tester::CareProfessional),
                GattTester::LabTest => Some(Tester::Laboratory),
                GattTester::NotAvailable | GattTester::Reserved(_) => None,
            },
            match h {
                Health::MinorHealthIssues => Some(HealthState::MinorIssues),
                Health::MajorHealthIssues => Some(HealthState::MajorIssues),
                Health::DuringMenses => Some(HealthState::DuringMenses),
                Health::UnderStress => Some(HealthState::UnderStress),
                Health::NoHealthIssues => Some(HealthState::NoIssues),
                Health::NotAvailable | Health::Reserved(_) => None,
            },
        ),
        None => (None, None),
    };
    let insulin = c.medication.and_then(|m| {
        let kind = match m.id {
            MedicationId::RapidActingInsulin => InsulinKind::RapidActing,
            MedicationId::ShortActingInsulin => InsulinKind::ShortActing,
            MedicationId::IntermediateActingInsulin => InsulinKind::IntermediateActing,
            MedicationId::LongActingInsulin => InsulinKind::LongActing,
            MedicationId::PreMixedInsulin => InsulinKind::PreMixed,
            MedicationId::Reserved(_) => return None,
        };
        let amount = m.amount.ok()?;
        // kg → mg and L → mL, kept to 0.001.
        let (amount, unit) = match m.unit {
            MedicationUnit::Kilograms => (amount * 1e6, AmountUnit::Milligrams),
            MedicationUnit::Litres => (amount * 1e3, AmountUnit::Millilitres),
        };
        (amount.is_finite() && amount >= 0.0).then_some(Insulin {
            kind,
            amount: round_to(amount, 3),
            unit,
        })
    });
    let hba1c_percent = c
        .hba1c_percent
        .and_then(Medfloat::ok)
        .filter(|v| HBA1C_PERCENT_PLAUSIBLE.contains(v))
        .map(|v| round_to(v, 1));
    GlucoseContext {
        meal,
        tester,
        health,
        insulin,
        hba1c_percent,
    }
}

fn user_part(user_id: Option<u8>, wanted: Option<u8>) -> Result<Option<u8>, NotAReading> {
    match (user_id, wanted) {
        (Some(id), Some(w)) if id != w && id != UNKNOWN_USER => {
            Err(NotAReading::OtherUser { user_id: id })
        }
        (Some(id), _) if id != UNKNOWN_USER => Ok(Some(id)),
        _ => Ok(None),
    }
}

/// A required value: the number, or for ±INF the bound [`beyond_range`] gives (noted in
/// `off_scale`); anything else is no value of `field`.
fn required(
    value: Result<f64, Special>,
    metric: Metric,
    field: &'static str,
    off_scale: &mut Vec<OffScale>,
) -> Result<f64, NotAReading> {
    match value {
        Ok(v) => Ok(round_to(v, metric.decimals())),
        Err(special) => {
            let (bound, comparator) =
                beyond_range(metric, special).ok_or(NotAReading::NoValue {
                    field,
                    special: Some(special),
                })?;
            off_scale.push(OffScale { metric, comparator });
            Ok(bound)
        }
    }
}

/// An optional value (a pulse beside a pressure): as [`required`], but a value the
/// device did not have is simply left out.
fn optional(value: Medfloat, metric: Metric, off_scale: &mut Vec<OffScale>) -> Option<f64> {
    required(value.value(), metric, "", off_scale).ok()
}

fn pressure(
    value: Medfloat,
    unit: blood_pressure::PressureUnit,
    metric: Metric,
    off_scale: &mut Vec<OffScale>,
) -> Result<f64, NotAReading> {
    let field = match metric {
        Metric::Diastolic => "Diastolic",
        _ => "Systolic",
    };
    required(
        blood_pressure::to_mmhg(value, unit),
        metric,
        field,
        off_scale,
    )
}

fn spo2(pair: &SpO2Pr, field: &'static str) -> Result<(Measurement, Vec<OffScale>), NotAReading> {
    let mut off_scale = Vec::new();
    let percent = required(pair.spo2.value(), Metric::SpO2, field, &mut off_scale)?;
    let pulse = optional(pair.pulse_rate, Metric::Pulse, &mut off_scale);
    Ok((Measurement::OxygenSaturation { percent, pulse }, off_scale))
}

fn bp_quality(s: MeasurementStatus) -> QualityFlags {
    QualityFlags {
        body_movement: s.body_movement,
        cuff_fit_poor: s.cuff_too_loose,
        irregular_pulse: s.irregular_pulse,
        improper_position: s.improper_position,
        pulse_out_of_range: matches!(
            s.pulse_rate_range,
            PulseRateRange::ExceedsUpperLimit | PulseRateRange::BelowLowerLimit
        ),
        ..QualityFlags::GOOD
    }
}

fn glucose_quality(s: SensorStatus) -> QualityFlags {
    QualityFlags {
        device_fault: s.sensor_malfunction
            || s.sample_size_insufficient
            || s.strip_insertion_error
            || s.strip_type_incorrect
            || s.temperature_too_high
            || s.temperature_too_low
            || s.read_interrupted
            || s.general_device_fault,
        ..QualityFlags::GOOD
    }
}

fn plx_quality(
    m: Option<PlxMeasurementStatus>,
    d: Option<PlxDeviceStatus>,
) -> Result<QualityFlags, NotAReading> {
    let m = m.unwrap_or_default();
    let d = d.unwrap_or_default();
    if m.data_for_demonstration || m.data_for_testing {
        return Err(NotAReading::DemonstrationOrTestData);
    }
    if m.invalid_measurement
        || m.measurement_unavailable
        || d.sensor_unconnected_to_user
        || d.sensor_disconnected
    {
        return Err(NotAReading::Unsuccessful);
    }
    Ok(QualityFlags {
        weak_signal: m.questionable_measurement
            || m.early_estimated_data
            || m.calibration_ongoing
            || d.signal_processing_irregularity
            || d.inadequate_signal
            || d.poor_signal
            || d.low_perfusion
            || d.erratic_signal
            || d.nonpulsatile_signal
            || d.questionable_pulse
            || d.sensor_interference
            || d.sensor_displaced,
        device_fault: d.equipment_malfunction
            || d.sensor_malfunctioning
            || d.unknown_sensor_connected,
        ..QualityFlags::GOOD
    })
}

/// The reading: time from the device clock in the patient's zone (or the receive
/// time), and a record key when the device identified the record.
fn build(
    measurement: Measurement,
    time: Option<&DeviceTime>,
    user: Option<u8>,
    sequence: Option<u16>,
    quality: QualityFlags,
    cx: &CaptureContext,
) -> NewReading {
    let at = time.and_then(|t| t.to_timestamp(&cx.tz).map(|at| (t, at)));
    let (effective_at, record_key) = match at {
        Some((t, at)) => {
            let mut key = String::new();
            if let Some(u) = user {
                key.push_str(&format!("u{u}/"));
            }
            if let Some(seq) = sequence {
                key.push_str(&format!("seq{seq}/"));
            }
            key.push_str(&t.record_key());
            (at, Some(key))
        }
        // A sequence number alone still identifies a record on this device.
        None => (
            cx.received_at,
            sequence.map(|seq| format!("seq{seq}/no-time")),
        ),
    };
    let offset = cx.tz.to_offset(effective_at);
    NewReading {
        measurement,
        effective_at,
        utc_offset_seconds: offset.seconds(),
        source: Source::Device {
            device_id: cx.device.device_id.clone(),
            model: cx.device.model.clone(),
            record_key,
        },
        quality,
        off_scale: Vec::new(),
        glucose_context: None,
        note: None,
    }
}
