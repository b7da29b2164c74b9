//! Readings: what a patient measured, when, how, and with which codes.
//!
//! A reading is immutable once captured. A correction is a new reading whose
//! `supersedes` names the old one; history is never edited. Each kind carries its LOINC
//! code and UCUM unit (FHIR R4 vital-signs profile where one exists). This module is
//! pure: no storage, no clock, no I/O.

use std::fmt;

use jiff::{Timestamp, tz::Offset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::glucose_context::GlucoseContext;
use crate::domain::text::{Lang, LocalizedText};

/// LOINC's code system URI.
pub const LOINC_SYSTEM: &str = "http://loinc.org";
/// Nära's own code system, for concepts without a verified LOINC code.
pub const NARA_CODE_SYSTEM: &str = "https://nara.se/fhir/CodeSystem/observation";

/// A code in a code system, as FHIR `Coding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Code {
    /// Code system URI.
    pub system: &'static str,
    /// The code.
    pub code: &'static str,
    /// Human-readable display (English, as the code system defines it).
    pub display: &'static str,
}

const fn loinc(code: &'static str, display: &'static str) -> Code {
    Code {
        system: LOINC_SYSTEM,
        code,
        display,
    }
}

/// The kinds of reading a patient can capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadingKind {
    /// Blood pressure: systolic, diastolic and optionally pulse.
    BloodPressure,
    /// Heart rate on its own.
    HeartRate,
    /// Body weight.
    BodyWeight,
    /// Capillary blood glucose from a home meter.
    BloodGlucose,
    /// Peripheral oxygen saturation from a pulse oximeter, optionally with pulse.
    OxygenSaturation,
    /// Peak expiratory flow from a peak flow meter.
    PeakExpiratoryFlow,
    /// Body temperature.
    BodyTemperature,
    /// Step count.
    Steps,
    /// COPD Assessment Test (CAT) total score, 0–40.
    CatScore,
}

impl ReadingKind {
    /// Every kind, in display order.
    pub const ALL: [ReadingKind; 9] = [
        ReadingKind::BloodPressure,
        ReadingKind::HeartRate,
        ReadingKind::BodyWeight,
        ReadingKind::BloodGlucose,
        ReadingKind::OxygenSaturation,
        ReadingKind::PeakExpiratoryFlow,
        ReadingKind::BodyTemperature,
        ReadingKind::Steps,
        ReadingKind::CatScore,
    ];

    /// A short stable name used in storage, the CLI and JSON (`bp`, `glucose`, ...).
    pub fn short_name(self) -> &'static str {
        match self {
            ReadingKind::BloodPressure => "bp",
            ReadingKind::HeartRate => "hr",
            ReadingKind::BodyWeight => "weight",
            ReadingKind::BloodGlucose => "glucose",
            ReadingKind::OxygenSaturation => "spo2",
            ReadingKind::PeakExpiratoryFlow => "pef",
            ReadingKind::BodyTemperature => "temp",
            ReadingKind::Steps => "steps",
            ReadingKind::CatScore => "cat",
        }
    }

    /// Parses a short name (see [`ReadingKind::short_name`]).
    pub fn from_short_name(name: &str) -> Option<ReadingKind> {
        ReadingKind::ALL
            .into_iter()
            .find(|k| k.short_name() == name)
    }

    /// The Observation code: the panel code for blood pressure, the value code otherwise.
    ///
    /// Peak expiratory flow uses LOINC 19935-6 (peak flow meter, L/min). The CAT score has
    /// no LOINC code we could verify, so it uses Nära's own code system until the region
    /// names one (docs/adr/0004-codes-and-units.md).
    pub fn code(self) -> Code {
        match self {
            ReadingKind::BloodPressure => {
                loinc("85354-9", "Blood pressure panel with all children optional")
            }
            ReadingKind::CatScore => Code {
                system: NARA_CODE_SYSTEM,
                code: "cat-total-score",
                display: "COPD Assessment Test (CAT) total score",
            },
            other => other.metrics()[0].code(),
        }
    }

    /// The metrics this kind records, primary first.
    pub fn metrics(self) -> &'static [Metric] {
        match self {
            ReadingKind::BloodPressure => &[Metric::Systolic, Metric::Diastolic, Metric::Pulse],
            ReadingKind::HeartRate => &[Metric::HeartRate],
            ReadingKind::BodyWeight => &[Metric::Weight],
            ReadingKind::BloodGlucose => &[Metric::Glucose],
            ReadingKind::OxygenSaturation => &[Metric::SpO2, Metric::Pulse],
            ReadingKind::PeakExpiratoryFlow => &[Metric::PeakFlow],
            ReadingKind::BodyTemperature => &[Metric::Temperature],
            ReadingKind::Steps => &[Metric::Steps],
            ReadingKind::CatScore => &[Metric::CatScore],
        }
    }

    /// The kind's name for patients.
    pub fn label(self) -> LocalizedText {
        let (sv, en) = match self {
            ReadingKind::BloodPressure => ("Blodtryck", "Blood pressure"),
            ReadingKind::HeartRate => ("Puls", "Heart rate"),
            ReadingKind::BodyWeight => ("Vikt", "Weight"),
            ReadingKind::BloodGlucose => ("Blodsocker", "Blood glucose"),
            ReadingKind::OxygenSaturation => ("Syremättnad", "Oxygen saturation"),
            ReadingKind::PeakExpiratoryFlow => ("PEF (utandningsflöde)", "Peak flow"),
            ReadingKind::BodyTemperature => ("Temperatur", "Temperature"),
            ReadingKind::Steps => ("Steg", "Steps"),
            ReadingKind::CatScore => ("CAT-poäng (KOL)", "CAT score (COPD)"),
        };
        LocalizedText::new(sv, en)
    }
}

impl fmt::Display for ReadingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

/// One measured quantity inside a reading (a blood pressure has three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Systolic blood pressure, mm[Hg].
    Systolic,
    /// Diastolic blood pressure, mm[Hg].
    Diastolic,
    /// Pulse measured with a blood pressure or oxygen saturation, /min.
    Pulse,
    /// Heart rate on its own, /min.
    HeartRate,
    /// Body weight, kg.
    Weight,
    /// Capillary blood glucose, mmol/L.
    Glucose,
    /// Oxygen saturation, %.
    SpO2,
    /// Peak expiratory flow, L/min.
    PeakFlow,
    /// Body temperature, Cel.
    Temperature,
    /// Steps, {steps}.
    Steps,
    /// CAT total score, {score}.
    CatScore,
}

impl Metric {
    /// The LOINC code of this quantity (FHIR vital-signs profile codes where defined).
    pub fn code(self) -> Code {
        match self {
            Metric::Systolic => loinc("8480-6", "Systolic blood pressure"),
            Metric::Diastolic => loinc("8462-4", "Diastolic blood pressure"),
            Metric::Pulse | Metric::HeartRate => loinc("8867-4", "Heart rate"),
            Metric::Weight => loinc("29463-7", "Body weight"),
            Metric::Glucose => loinc(
                "14743-9",
                "Glucose [Moles/volume] in Capillary blood by Glucometer",
            ),
            Metric::SpO2 => loinc(
                "59408-5",
                "Oxygen saturation in Arterial blood by Pulse oximetry",
            ),
            Metric::PeakFlow => loinc(
                "19935-6",
                "Maximum expiratory gas flow Respiratory system airway by Peak flow meter",
            ),
            Metric::Temperature => loinc("8310-5", "Body temperature"),
            Metric::Steps => loinc("55423-8", "Number of steps in unspecified time Pedometer"),
            Metric::CatScore => ReadingKind::CatScore.code(),
        }
    }

    /// The kind this metric belongs to; pulse, which blood pressure and oxygen saturation
    /// share, belongs to blood pressure.
    pub fn primary_kind(self) -> ReadingKind {
        match self {
            Metric::Systolic | Metric::Diastolic | Metric::Pulse => ReadingKind::BloodPressure,
            Metric::HeartRate => ReadingKind::HeartRate,
            Metric::Weight => ReadingKind::BodyWeight,
            Metric::Glucose => ReadingKind::BloodGlucose,
            Metric::SpO2 => ReadingKind::OxygenSaturation,
            Metric::PeakFlow => ReadingKind::PeakExpiratoryFlow,
            Metric::Temperature => ReadingKind::BodyTemperature,
            Metric::Steps => ReadingKind::Steps,
            Metric::CatScore => ReadingKind::CatScore,
        }
    }

    /// The canonical UCUM unit code the value is stored and sent in.
    pub fn ucum(self) -> &'static str {
        match self {
            Metric::Systolic | Metric::Diastolic => "mm[Hg]",
            Metric::Pulse | Metric::HeartRate => "/min",
            Metric::Weight => "kg",
            Metric::Glucose => "mmol/L",
            Metric::SpO2 => "%",
            Metric::PeakFlow => "L/min",
            Metric::Temperature => "Cel",
            Metric::Steps => "{steps}",
            Metric::CatScore => "{score}",
        }
    }

    /// The unit as a patient reads it.
    pub fn unit_label(self) -> &'static str {
        match self {
            Metric::Systolic | Metric::Diastolic => "mmHg",
            Metric::Pulse | Metric::HeartRate => "/min",
            Metric::Weight => "kg",
            Metric::Glucose => "mmol/L",
            Metric::SpO2 => "%",
            Metric::PeakFlow => "L/min",
            Metric::Temperature => "°C",
            Metric::Steps => "steg",
            Metric::CatScore => "p",
        }
    }

    /// Decimal places shown and kept.
    pub fn decimals(self) -> u32 {
        match self {
            Metric::Weight | Metric::Glucose | Metric::Temperature => 1,
            _ => 0,
        }
    }

    /// The quantity's name for patients.
    pub fn label(self) -> LocalizedText {
        let (sv, en) = match self {
            Metric::Systolic => ("Övre trycket (systoliskt)", "Systolic pressure"),
            Metric::Diastolic => ("Undre trycket (diastoliskt)", "Diastolic pressure"),
            Metric::Pulse | Metric::HeartRate => ("Puls", "Pulse"),
            Metric::Weight => ("Vikt", "Weight"),
            Metric::Glucose => ("Blodsocker", "Blood glucose"),
            Metric::SpO2 => ("Syremättnad", "Oxygen saturation"),
            Metric::PeakFlow => ("PEF", "Peak flow"),
            Metric::Temperature => ("Temperatur", "Temperature"),
            Metric::Steps => ("Steg", "Steps"),
            Metric::CatScore => ("CAT-poäng", "CAT score"),
        };
        LocalizedText::new(sv, en)
    }

    /// Formats `value` with this metric's decimals and unit, e.g. `7.2 mmol/L`.
    pub fn format(self, value: f64) -> String {
        format!(
            "{:.*} {}",
            self.decimals() as usize,
            value,
            self.unit_label()
        )
    }
}

/// The measured values of a reading, in canonical units (see [`Metric::ucum`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Measurement {
    /// Blood pressure in mm[Hg], pulse in /min.
    BloodPressure {
        /// Systolic pressure.
        systolic: f64,
        /// Diastolic pressure.
        diastolic: f64,
        /// Pulse, if the cuff reported it.
        pulse: Option<f64>,
    },
    /// Heart rate in /min.
    HeartRate {
        /// Beats per minute.
        bpm: f64,
    },
    /// Body weight in kg.
    BodyWeight {
        /// Kilograms.
        kg: f64,
    },
    /// Capillary glucose in mmol/L (convert mg/dL with [`crate::domain::units`]).
    BloodGlucose {
        /// Millimoles per litre.
        mmol_per_l: f64,
    },
    /// Oxygen saturation in %, pulse in /min.
    OxygenSaturation {
        /// SpO2 percent.
        percent: f64,
        /// Pulse, if the oximeter reported it.
        pulse: Option<f64>,
    },
    /// Peak expiratory flow in L/min.
    PeakExpiratoryFlow {
        /// Litres per minute.
        l_per_min: f64,
    },
    /// Body temperature in degrees Celsius.
    BodyTemperature {
        /// Degrees Celsius.
        celsius: f64,
    },
    /// Number of steps.
    Steps {
        /// Steps counted.
        count: f64,
    },
    /// CAT total score.
    CatScore {
        /// Score 0–40.
        score: f64,
    },
}

impl Measurement {
    /// A glucose value entered or measured in `unit`, converted to mmol/L and kept to the
    /// metric's precision (0.1 mmol/L), as every shell must store it.
    pub fn blood_glucose(value: f64, unit: crate::domain::units::GlucoseUnit) -> Self {
        use crate::domain::units::{glucose_to_mmol_per_l, round_to};
        let mmol_per_l = round_to(
            glucose_to_mmol_per_l(value, unit),
            Metric::Glucose.decimals(),
        );
        Measurement::BloodGlucose { mmol_per_l }
    }

    /// A weight in `unit`, converted to kg and kept to 0.1 kg.
    pub fn body_weight(value: f64, unit: crate::domain::units::WeightUnit) -> Self {
        use crate::domain::units::{round_to, weight_to_kg};
        Measurement::BodyWeight {
            kg: round_to(weight_to_kg(value, unit), Metric::Weight.decimals()),
        }
    }

    /// A temperature in `unit`, converted to °C and kept to 0.1 °C.
    pub fn body_temperature(value: f64, unit: crate::domain::units::TemperatureUnit) -> Self {
        use crate::domain::units::{round_to, temperature_to_celsius};
        let celsius = round_to(
            temperature_to_celsius(value, unit),
            Metric::Temperature.decimals(),
        );
        Measurement::BodyTemperature { celsius }
    }

    /// The kind of reading this measurement belongs to.
    pub fn kind(&self) -> ReadingKind {
        match self {
            Measurement::BloodPressure { .. } => ReadingKind::BloodPressure,
            Measurement::HeartRate { .. } => ReadingKind::HeartRate,
            Measurement::BodyWeight { .. } => ReadingKind::BodyWeight,
            Measurement::BloodGlucose { .. } => ReadingKind::BloodGlucose,
            Measurement::OxygenSaturation { .. } => ReadingKind::OxygenSaturation,
            Measurement::PeakExpiratoryFlow { .. } => ReadingKind::PeakExpiratoryFlow,
            Measurement::BodyTemperature { .. } => ReadingKind::BodyTemperature,
            Measurement::Steps { .. } => ReadingKind::Steps,
            Measurement::CatScore { .. } => ReadingKind::CatScore,
        }
    }

    /// The value of `metric`, if this measurement has it.
    pub fn value(&self, metric: Metric) -> Option<f64> {
        self.values()
            .into_iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, v)| v)
    }

    /// Every (metric, value) pair present, primary metric first.
    pub fn values(&self) -> Vec<(Metric, f64)> {
        match *self {
            Measurement::BloodPressure {
                systolic,
                diastolic,
                pulse,
            } => {
                let mut v = vec![(Metric::Systolic, systolic), (Metric::Diastolic, diastolic)];
                v.extend(pulse.map(|p| (Metric::Pulse, p)));
                v
            }
            Measurement::HeartRate { bpm } => vec![(Metric::HeartRate, bpm)],
            Measurement::BodyWeight { kg } => vec![(Metric::Weight, kg)],
            Measurement::BloodGlucose { mmol_per_l } => vec![(Metric::Glucose, mmol_per_l)],
            Measurement::OxygenSaturation { percent, pulse } => {
                let mut v = vec![(Metric::SpO2, percent)];
                v.extend(pulse.map(|p| (Metric::Pulse, p)));
                v
            }
            Measurement::PeakExpiratoryFlow { l_per_min } => vec![(Metric::PeakFlow, l_per_min)],
            Measurement::BodyTemperature { celsius } => vec![(Metric::Temperature, celsius)],
            Measurement::Steps { count } => vec![(Metric::Steps, count)],
            Measurement::CatScore { score } => vec![(Metric::CatScore, score)],
        }
    }

    /// As [`Measurement::display`], with the comparator in front of a value the device
    /// could only bound: `över 33.3 mmol/L` / `above 33.3 mmol/L`.
    pub fn display_bounded(&self, off_scale: &[OffScale], lang: Lang) -> String {
        if off_scale.is_empty() {
            return self.display(lang);
        }
        let parts: Vec<String> = self
            .values()
            .into_iter()
            .map(|(metric, value)| match comparator_of(off_scale, metric) {
                Some(c) => format!(
                    "{} {} {}",
                    metric.label().get(lang),
                    c.label().get(lang),
                    metric.format(value)
                ),
                None => format!("{} {}", metric.label().get(lang), metric.format(value)),
            })
            .collect();
        if parts.len() == 1 {
            // A single value needs no name: "över 33.3 mmol/L".
            let (metric, value) = self.values()[0];
            if let Some(c) = comparator_of(off_scale, metric) {
                return format!("{} {}", c.label().get(lang), metric.format(value));
            }
        }
        parts.join(", ")
    }

    /// A compact display such as `142/91 mmHg, puls 72` or `7.2 mmol/L`.
    pub fn display(&self, lang: Lang) -> String {
        match *self {
            Measurement::BloodPressure {
                systolic,
                diastolic,
                pulse,
            } => {
                let mut s = format!("{systolic:.0}/{diastolic:.0} mmHg");
                if let Some(p) = pulse {
                    let word = if lang == Lang::Sv { "puls" } else { "pulse" };
                    s.push_str(&format!(", {word} {p:.0}"));
                }
                s
            }
            Measurement::OxygenSaturation { percent, pulse } => {
                let mut s = format!("{percent:.0} %");
                if let Some(p) = pulse {
                    let word = if lang == Lang::Sv { "puls" } else { "pulse" };
                    s.push_str(&format!(", {word} {p:.0}"));
                }
                s
            }
            _ => {
                let (metric, value) = self.values()[0];
                metric.format(value)
            }
        }
    }
}

/// Which side of a device's measuring range a value lies beyond, as FHIR
/// `Quantity.comparator` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    /// Above the limit (the meter shows "HI"): FHIR `>`.
    Above,
    /// Below the limit (the meter shows "LO"): FHIR `<`.
    Below,
}

impl Comparator {
    /// The FHIR `Quantity.comparator` code.
    pub fn fhir_code(self) -> &'static str {
        match self {
            Comparator::Above => ">",
            Comparator::Below => "<",
        }
    }

    /// Parses a FHIR comparator (`>` and `<`; `>=`/`<=` are not device bounds).
    pub fn from_fhir_code(code: &str) -> Option<Self> {
        match code {
            ">" => Some(Comparator::Above),
            "<" => Some(Comparator::Below),
            _ => None,
        }
    }

    /// The word for patients: "över"/"above", "under"/"below".
    pub fn label(self) -> LocalizedText {
        match self {
            Comparator::Above => LocalizedText::new("över", "above"),
            Comparator::Below => LocalizedText::new("under", "below"),
        }
    }
}

/// A value the device could only bound: the true value of `metric` lies beyond the
/// value stored in the measurement (the device's limit) on the `comparator` side. Such a
/// value is never shown or sent as exact, and never enters an average.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OffScale {
    /// The metric whose value is a bound.
    pub metric: Metric,
    /// Above or below the bound.
    pub comparator: Comparator,
}

/// The comparator of `metric` in `off_scale`, if any.
pub fn comparator_of(off_scale: &[OffScale], metric: Metric) -> Option<Comparator> {
    off_scale
        .iter()
        .find(|o| o.metric == metric)
        .map(|o| o.comparator)
}

/// A reading's identity: a UUID chosen by the client at capture, never by the server.
///
/// It becomes the FHIR `Observation.identifier`, so a retried upload is recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReadingId(pub Uuid);

/// Namespace for device-derived reading ids (UUID v5), fixed forever.
const DEVICE_READING_NAMESPACE: Uuid = Uuid::from_u128(0x6e61_7261_2d72_6561_6469_6e67_2d76_3100);

impl ReadingId {
    /// A fresh random id for a manual reading.
    pub fn random() -> Self {
        ReadingId(Uuid::new_v4())
    }

    /// The deterministic id of a device reading: the same device, record key and kind give
    /// the same id on every import and every install, so a re-import is recognised.
    ///
    /// `record_key` is the device's sequence number where it has one, otherwise its own
    /// time stamp as the device reported it. The id is a one-way UUID v5 hash, so it does
    /// not reveal the device identifier.
    pub fn for_device(device_id: &str, record_key: &str, kind: ReadingKind) -> Self {
        let name = format!("{device_id}\u{1f}{record_key}\u{1f}{}", kind.short_name());
        ReadingId(Uuid::new_v5(&DEVICE_READING_NAMESPACE, name.as_bytes()))
    }

    /// A random (version 4) id from 16 bytes of CSPRNG output supplied by the caller.
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        ReadingId(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }

    /// Parses the hyphenated form.
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::parse_str(s).ok().map(ReadingId)
    }
}

impl fmt::Display for ReadingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Where a reading came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// Typed in by the patient.
    Manual,
    /// Received from a measuring device.
    Device {
        /// A stable identifier of the device (serial number or system id).
        device_id: String,
        /// Manufacturer and model, when known.
        model: Option<String>,
        /// The device's own record key (sequence number or time stamp), when known.
        record_key: Option<String>,
    },
}

/// Measurement-status flags reported by a device or ticked by the patient.
///
/// Every flag but one says the measurement itself may be wrong (the cuff was loose, the
/// patient moved): triage then answers "measure again" instead of a colour
/// ([`QualityFlags::is_poor`]). The exception is [`QualityFlags::irregular_pulse`]: a
/// cuff that detects an irregular pulse measured correctly, and the irregular pulse is a
/// clinical finding about the patient (possible atrial fibrillation), which triage
/// reports beside the values' band (ADR 0013).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QualityFlags {
    /// The body moved during measurement.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub body_movement: bool,
    /// The cuff was too loose or badly placed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cuff_fit_poor: bool,
    /// An irregular pulse was detected: a finding about the patient, not a quality
    /// failure (the reading is triaged on its values and carries the finding).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub irregular_pulse: bool,
    /// The measurement position was improper.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub improper_position: bool,
    /// The sensor reported a weak or unreliable signal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub weak_signal: bool,
    /// The pulse was outside the range the device can measure (a cuff's pulse rate
    /// range status).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pulse_out_of_range: bool,
    /// The device reported a fault with itself, its sensor or its test strip (strip
    /// error, sample too small, sensor malfunction, temperature out of range).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub device_fault: bool,
}

impl QualityFlags {
    /// No flag set.
    pub const GOOD: QualityFlags = QualityFlags {
        body_movement: false,
        cuff_fit_poor: false,
        irregular_pulse: false,
        improper_position: false,
        weak_signal: false,
        pulse_out_of_range: false,
        device_fault: false,
    };

    /// True if any flag is set, the irregular-pulse finding included.
    pub fn any(&self) -> bool {
        *self != QualityFlags::GOOD
    }

    /// True if a flag says the measurement itself may be wrong, so it should be taken
    /// again. An irregular pulse alone is not poor quality (see the type's docs).
    pub fn is_poor(&self) -> bool {
        QualityFlags {
            irregular_pulse: false,
            ..*self
        } != QualityFlags::GOOD
    }
}

/// A reading as the patient or a device hands it to the core, before validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReading {
    /// The values, in canonical units.
    pub measurement: Measurement,
    /// When it was measured (an instant).
    pub effective_at: Timestamp,
    /// The patient's UTC offset at that instant, so it shows as the local time it was.
    pub utc_offset_seconds: i32,
    /// Manual entry or device.
    pub source: Source,
    /// Quality flags.
    pub quality: QualityFlags,
    /// Values the device could only bound ("HI", "LO"): the measurement holds the
    /// device's limit for each metric listed here.
    pub off_scale: Vec<OffScale>,
    /// What a glucose meter knew about the sample (meal, tester, health, insulin).
    pub glucose_context: Option<GlucoseContext>,
    /// An optional note from the patient.
    pub note: Option<String>,
}

impl NewReading {
    /// A manual reading measured now-ish at `effective_at` with `offset`, no note, good quality.
    pub fn manual(measurement: Measurement, effective_at: Timestamp, offset: Offset) -> Self {
        Self {
            measurement,
            effective_at,
            utc_offset_seconds: offset.seconds(),
            source: Source::Manual,
            quality: QualityFlags::GOOD,
            off_scale: Vec::new(),
            glucose_context: None,
            note: None,
        }
    }

    /// The id this reading gets: deterministic for device readings with a record key,
    /// otherwise the random id built from `random` (16 bytes of CSPRNG output).
    pub fn assign_id(&self, random: [u8; 16]) -> ReadingId {
        match &self.source {
            Source::Device {
                device_id,
                record_key: Some(key),
                ..
            } => ReadingId::for_device(device_id, key, self.measurement.kind()),
            _ => ReadingId::from_random_bytes(random),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_round_trip() {
        for kind in ReadingKind::ALL {
            assert_eq!(ReadingKind::from_short_name(kind.short_name()), Some(kind));
        }
        assert_eq!(ReadingKind::from_short_name("nope"), None);
    }

    #[test]
    fn vital_signs_codes_are_the_profile_codes() {
        assert_eq!(ReadingKind::BloodPressure.code().code, "85354-9");
        assert_eq!(Metric::Systolic.code().code, "8480-6");
        assert_eq!(Metric::Diastolic.code().code, "8462-4");
        assert_eq!(ReadingKind::HeartRate.code().code, "8867-4");
        assert_eq!(ReadingKind::BodyWeight.code().code, "29463-7");
        assert_eq!(ReadingKind::BodyTemperature.code().code, "8310-5");
        assert_eq!(ReadingKind::OxygenSaturation.code().code, "59408-5");
        assert_eq!(Metric::Glucose.ucum(), "mmol/L");
        assert_eq!(Metric::Systolic.ucum(), "mm[Hg]");
    }

    #[test]
    fn device_ids_are_deterministic_and_distinct() {
        let a = ReadingId::for_device("cuff-1", "17", ReadingKind::BloodPressure);
        assert_eq!(
            a,
            ReadingId::for_device("cuff-1", "17", ReadingKind::BloodPressure)
        );
        assert_ne!(
            a,
            ReadingId::for_device("cuff-1", "18", ReadingKind::BloodPressure)
        );
        assert_ne!(
            a,
            ReadingId::for_device("cuff-2", "17", ReadingKind::BloodPressure)
        );
        assert_ne!(
            a,
            ReadingId::for_device("cuff-1", "17", ReadingKind::HeartRate)
        );
        assert!(!a.to_string().contains("cuff"));
    }

    #[test]
    fn measurement_lists_values_and_displays() {
        let bp = Measurement::BloodPressure {
            systolic: 142.0,
            diastolic: 91.0,
            pulse: Some(72.0),
        };
        assert_eq!(bp.kind(), ReadingKind::BloodPressure);
        assert_eq!(bp.value(Metric::Diastolic), Some(91.0));
        assert_eq!(bp.display(Lang::Sv), "142/91 mmHg, puls 72");
        let g = Measurement::BloodGlucose { mmol_per_l: 7.24 };
        assert_eq!(
            Measurement::blood_glucose(126.0, crate::domain::units::GlucoseUnit::MgPerDl),
            Measurement::BloodGlucose { mmol_per_l: 7.0 }
        );
        assert_eq!(g.display(Lang::En), "7.2 mmol/L");
    }
}

/// A captured reading as stored: immutable, triaged, possibly superseded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Client-chosen identity.
    pub id: ReadingId,
    /// The values, in canonical units.
    pub measurement: Measurement,
    /// When it was measured.
    pub effective_at: Timestamp,
    /// The patient's UTC offset at that time, in seconds.
    pub utc_offset_seconds: i32,
    /// Manual or device.
    pub source: Source,
    /// Quality flags.
    pub quality: QualityFlags,
    /// Values the device could only bound; see [`NewReading::off_scale`].
    pub off_scale: Vec<OffScale>,
    /// What a glucose meter knew about the sample.
    pub glucose_context: Option<GlucoseContext>,
    /// The patient's note.
    pub note: Option<String>,
    /// When the core stored it.
    pub recorded_at: Timestamp,
    /// The triage result decided at capture.
    pub triage: crate::domain::triage::TriageResult,
    /// The reading this one corrects, if any.
    pub supersedes: Option<ReadingId>,
    /// The reading that corrects this one, if any.
    pub superseded_by: Option<ReadingId>,
}

impl Reading {
    /// The kind of reading.
    pub fn kind(&self) -> ReadingKind {
        self.measurement.kind()
    }

    /// The comparator of `metric`'s value, if the device could only bound it.
    pub fn comparator(&self, metric: Metric) -> Option<Comparator> {
        comparator_of(&self.off_scale, metric)
    }

    /// The values for the patient, with "över"/"above" where the device could only
    /// bound a value (`över 33.3 mmol/L`, never a bare `33.3`).
    pub fn display(&self, lang: Lang) -> String {
        self.measurement.display_bounded(&self.off_scale, lang)
    }

    /// The local time of measurement, as the patient saw the clock.
    pub fn local_time(&self) -> jiff::civil::DateTime {
        let offset = Offset::from_seconds(self.utc_offset_seconds).unwrap_or(Offset::UTC);
        offset.to_datetime(self.effective_at)
    }
}
