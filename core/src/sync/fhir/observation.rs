//! A reading as a FHIR R4 `Observation`.
//!
//! One reading is one Observation: the vital-signs profile and codes where FHIR defines
//! them, values in the kind's canonical UCUM unit rounded to the metric's decimals, the
//! reading's client id as the business identifier (so a retried upload is recognised),
//! the time as the patient's clock showed it (with its UTC offset), triage as
//! `interpretation` plus Nära extensions, the device as a logical reference, and the
//! patient's note as an `Annotation`. A value the device could only bound ("HI") carries
//! `Quantity.comparator` and the off-scale interpretation; a glucose meter's context
//! (meal, tester, health, insulin) goes as components coded in the ISO/IEEE 11073-10101
//! nomenclature (MDC) that the Bluetooth glucose profile comes from, HbA1c with LOINC
//! 4548-4; clinical findings (an irregular pulse) as the `triage-finding` extension.
//!
//! A correction never edits what was sent: it is a new Observation (its own identifier)
//! with status `amended` and a `replaces` extension naming the old one; the old one is
//! then withdrawn by a conditional update to `entered-in-error`
//! ([`retracted_observation`]). See `docs/adr/0007-fhir-mapping.md`.
//!
//! The note and the values are patient data: they go to the region, which is the point,
//! but this module never logs, and its errors never carry them.

use serde::Serialize;

use crate::domain::glucose_context::{
    AmountUnit, GlucoseContext, HealthState, InsulinKind, MealRelation, Tester,
};
use crate::domain::reading::{
    Comparator, LOINC_SYSTEM, Measurement, Metric, OffScale, QualityFlags, Reading, ReadingId,
    ReadingKind, Source, comparator_of,
};
use crate::domain::triage::{Band, TriageReason, TriageResult};
use crate::sync::fhir::types::{
    Annotation, CodeableConcept, Coding, Extension, ExtensionValue, Identifier, Meta, Quantity,
    Reference, date_time_with_offset, instant,
};
use crate::sync::fhir::{DEVICE_ID_SYSTEM, FhirError, PatientId, URI_IDENTIFIER_SYSTEM};

/// The code system of `Observation.category`.
pub const CATEGORY_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// The code system of `Observation.interpretation` (HL7 v3 ObservationInterpretation).
pub const INTERPRETATION_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
/// Extension (valueCode): the triage band shown to the patient.
pub const EXT_TRIAGE_BAND: &str = "https://nara.se/fhir/StructureDefinition/triage-band";
/// Extension (valueCode): the band the values alone had, when poor quality turned the
/// shown band into `measure-again`.
pub const EXT_TRIAGE_VALUE_BAND: &str =
    "https://nara.se/fhir/StructureDefinition/triage-value-band";
/// Extension (valueString): the rule that decided, e.g. `careteam-v3`, `default-v1`.
pub const EXT_TRIAGE_RULE: &str = "https://nara.se/fhir/StructureDefinition/triage-rule";
/// Extension (valueCode): why, e.g. `above_target` (the core's `TriageReason::code`).
pub const EXT_TRIAGE_REASON: &str = "https://nara.se/fhir/StructureDefinition/triage-reason";
/// Extension (valueCode, repeating): a clinical finding beside the band
/// (`irregular-pulse`, `irregular-pulse-repeated`, `irregular-pulse-known-arrhythmia`).
pub const EXT_TRIAGE_FINDING: &str = "https://nara.se/fhir/StructureDefinition/triage-finding";
/// The ISO/IEEE 11073-10101 nomenclature (MDC), as the HL7 Personal Health Device IG
/// names it.
pub const MDC_SYSTEM: &str = "urn:iso:std:iso:11073:10101";
/// Extension (valueCode, repeating): a measurement-quality flag.
pub const EXT_MEASUREMENT_QUALITY: &str =
    "https://nara.se/fhir/StructureDefinition/measurement-quality";
/// Extension (valueReference by identifier): the Observation a correction replaces.
pub const EXT_REPLACES: &str = "https://nara.se/fhir/StructureDefinition/replaces";
/// Extension (valueReference by identifier): on a retracted Observation, its correction.
pub const EXT_REPLACED_BY: &str = "https://nara.se/fhir/StructureDefinition/replaced-by";

/// `Observation.status` values Nära writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObservationStatus {
    /// A reading as captured.
    Final,
    /// A correction of an earlier reading (a new Observation; see the module docs).
    Amended,
    /// A reading withdrawn because a correction replaced it.
    EnteredInError,
}

/// One `Observation.component` (blood pressure's parts, an oximeter's pulse).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// The component's code (LOINC, or MDC for a glucose meter's context).
    pub code: CodeableConcept,
    /// Its value, if a quantity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_quantity: Option<Quantity>,
    /// Its value, if coded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept>,
}

/// A FHIR R4 `Observation` as Nära writes it (only the elements Nära uses).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "resourceType", rename_all = "camelCase")]
pub struct Observation {
    /// The specific vital-signs profile, where one applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Triage, quality and correction extensions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// `urn:ietf:rfc:3986` | `urn:uuid:<client id>`.
    pub identifier: Vec<Identifier>,
    /// final, amended or entered-in-error.
    pub status: ObservationStatus,
    /// vital-signs, laboratory, activity or survey.
    pub category: Vec<CodeableConcept>,
    /// The kind's code(s).
    pub code: CodeableConcept,
    /// `Patient/<id>`.
    pub subject: Reference,
    /// When measured, with the patient's UTC offset.
    pub effective_date_time: String,
    /// When the core stored it (UTC).
    pub issued: String,
    /// The patient, who measured.
    pub performer: Vec<Reference>,
    /// The value, for single-value kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_quantity: Option<Quantity>,
    /// Triage as v3 ObservationInterpretation codes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interpretation: Vec<CodeableConcept>,
    /// The patient's note.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub note: Vec<Annotation>,
    /// The measuring device, by identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<Reference>,
    /// Blood pressure's parts; the pulse of a cuff or an oximeter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub component: Vec<Component>,
}

impl Observation {
    /// The reading's client id this Observation carries, as its identifier value
    /// (`urn:uuid:<id>`).
    pub fn client_identifier(&self) -> Option<&str> {
        self.identifier
            .iter()
            .find(|i| i.system == URI_IDENTIFIER_SYSTEM)
            .map(|i| i.value.as_str())
    }
}

/// The business identifier of a reading: `urn:ietf:rfc:3986` | `urn:uuid:<id>`.
pub fn reading_identifier(id: ReadingId) -> Identifier {
    Identifier {
        system: URI_IDENTIFIER_SYSTEM.to_owned(),
        value: format!("urn:uuid:{id}"),
    }
}

/// The search token for a reading's identifier, `urn:ietf:rfc:3986|urn:uuid:<id>`, as
/// used in `ifNoneExist` and conditional update URLs.
pub fn identifier_token(id: ReadingId) -> String {
    format!("{URI_IDENTIFIER_SYSTEM}|urn:uuid:{id}")
}

/// The FHIR vital-signs profile of a kind, where FHIR R4 defines one.
pub fn profile(kind: ReadingKind) -> Option<&'static str> {
    match kind {
        ReadingKind::BloodPressure => Some("http://hl7.org/fhir/StructureDefinition/bp"),
        ReadingKind::HeartRate => Some("http://hl7.org/fhir/StructureDefinition/heartrate"),
        ReadingKind::BodyWeight => Some("http://hl7.org/fhir/StructureDefinition/bodyweight"),
        ReadingKind::BodyTemperature => Some("http://hl7.org/fhir/StructureDefinition/bodytemp"),
        ReadingKind::OxygenSaturation => Some("http://hl7.org/fhir/StructureDefinition/oxygensat"),
        ReadingKind::BloodGlucose
        | ReadingKind::PeakExpiratoryFlow
        | ReadingKind::Steps
        | ReadingKind::CatScore => None,
    }
}

/// The `observation-category` code and display of a kind.
pub fn category(kind: ReadingKind) -> (&'static str, &'static str) {
    match kind {
        ReadingKind::BloodGlucose => ("laboratory", "Laboratory"),
        ReadingKind::Steps => ("activity", "Activity"),
        ReadingKind::CatScore => ("survey", "Survey"),
        ReadingKind::BloodPressure
        | ReadingKind::HeartRate
        | ReadingKind::BodyWeight
        | ReadingKind::OxygenSaturation
        | ReadingKind::PeakExpiratoryFlow
        | ReadingKind::BodyTemperature => ("vital-signs", "Vital Signs"),
    }
}

/// `Observation.code` of a kind. Oxygen saturation carries the profile's required
/// 2708-6 first, then the more specific pulse-oximetry code 59408-5.
pub fn code(kind: ReadingKind) -> CodeableConcept {
    let mut coding = Vec::with_capacity(2);
    if kind == ReadingKind::OxygenSaturation {
        coding.push(Coding::with_display(
            crate::domain::reading::LOINC_SYSTEM,
            SPO2_PROFILE_CODE,
            "Oxygen saturation in Arterial blood",
        ));
    }
    coding.push(kind.code().into());
    CodeableConcept { coding, text: None }
}

/// The LOINC code the `oxygensat` profile requires in `Observation.code`.
pub const SPO2_PROFILE_CODE: &str = "2708-6";

/// A band's code in the `triage-band` extension.
pub fn band_code(band: Band) -> &'static str {
    match band {
        Band::Green => "green",
        Band::Yellow => "yellow",
        Band::Red => "red",
        Band::MeasureAgain => "measure-again",
        Band::NotAssessed => "not-assessed",
    }
}

/// Parses a band code (see [`band_code`]).
pub fn band_from_code(code: &str) -> Option<Band> {
    Band::ALL.into_iter().find(|b| band_code(*b) == code)
}

/// The v3 ObservationInterpretation codes of a triage result, severity first.
///
/// Green is `N`; yellow is `H`/`L` by direction (`A` without one); red is `HH`/`LL`
/// (`AA` without one); a weight gain adds `U` (significant change up) to `A`/`AA`.
/// Measure again and not assessed have no interpretation: the values are not judged.
pub fn interpretation(triage: &TriageResult) -> Vec<(&'static str, &'static str)> {
    const N: (&str, &str) = ("N", "Normal");
    const H: (&str, &str) = ("H", "High");
    const L: (&str, &str) = ("L", "Low");
    const A: (&str, &str) = ("A", "Abnormal");
    const HH: (&str, &str) = ("HH", "Critical high");
    const LL: (&str, &str) = ("LL", "Critical low");
    const AA: (&str, &str) = ("AA", "Critical abnormal");
    const U: (&str, &str) = ("U", "Significant change up");
    const OFF_HIGH: (&str, &str) = (">", "Off scale high");
    const OFF_LOW: (&str, &str) = ("<", "Off scale low");
    match (triage.band, &triage.reason) {
        (
            Band::Red,
            TriageReason::BeyondDeviceRange {
                comparator: Comparator::Above,
                ..
            },
        ) => vec![HH, OFF_HIGH],
        (
            Band::Red,
            TriageReason::BeyondDeviceRange {
                comparator: Comparator::Below,
                ..
            },
        ) => vec![LL, OFF_LOW],
        (
            _,
            TriageReason::BeyondDeviceRange {
                comparator: Comparator::Above,
                ..
            },
        ) => vec![A, OFF_HIGH],
        (
            _,
            TriageReason::BeyondDeviceRange {
                comparator: Comparator::Below,
                ..
            },
        ) => vec![A, OFF_LOW],
        (Band::Green, _) => vec![N],
        (Band::Yellow, TriageReason::AboveTarget { .. }) => vec![H],
        (Band::Yellow, TriageReason::BelowTarget { .. }) => vec![L],
        (Band::Yellow, TriageReason::WeightGain { .. }) => vec![A, U],
        (Band::Yellow, _) => vec![A],
        (Band::Red, TriageReason::VeryHigh { .. }) => vec![HH],
        (Band::Red, TriageReason::VeryLow { .. }) => vec![LL],
        (Band::Red, TriageReason::WeightGain { .. }) => vec![AA, U],
        (Band::Red, _) => vec![AA],
        (Band::MeasureAgain | Band::NotAssessed, _) => vec![],
    }
}

/// The codes of the `measurement-quality` extension for the flags set, in a fixed order.
pub fn quality_codes(q: &QualityFlags) -> Vec<&'static str> {
    [
        (q.body_movement, "body-movement"),
        (q.cuff_fit_poor, "cuff-fit-poor"),
        (q.irregular_pulse, "irregular-pulse"),
        (q.improper_position, "improper-position"),
        (q.weak_signal, "weak-signal"),
        (q.pulse_out_of_range, "pulse-out-of-range"),
        (q.device_fault, "device-fault"),
    ]
    .into_iter()
    .filter_map(|(set, code)| set.then_some(code))
    .collect()
}

fn triage_extensions(triage: &TriageResult) -> Vec<Extension> {
    let mut ext = vec![Extension::code(EXT_TRIAGE_BAND, band_code(triage.band))];
    if triage.value_band != triage.band {
        ext.push(Extension::code(
            EXT_TRIAGE_VALUE_BAND,
            band_code(triage.value_band),
        ));
    }
    ext.push(Extension::string(EXT_TRIAGE_RULE, &triage.rule.to_string()));
    ext.push(Extension::code(EXT_TRIAGE_REASON, triage.reason.code()));
    ext.extend(
        triage
            .findings
            .iter()
            .map(|f| Extension::code(EXT_TRIAGE_FINDING, f.code())),
    );
    ext
}

fn observation_reference(id: ReadingId) -> Reference {
    Reference {
        type_: Some("Observation".to_owned()),
        identifier: Some(reading_identifier(id)),
        ..Reference::default()
    }
}

/// A metric's value as a Quantity, with the comparator if the device could only bound it.
fn quantity(metric: Metric, value: f64, off_scale: &[OffScale]) -> Result<Quantity, FhirError> {
    Ok(Quantity {
        comparator: comparator_of(off_scale, metric).map(Comparator::fhir_code),
        ..Quantity::metric(metric, value)?
    })
}

fn component(metric: Metric, value: f64, off_scale: &[OffScale]) -> Result<Component, FhirError> {
    Ok(Component {
        code: CodeableConcept::one(metric.code().into()),
        value_quantity: Some(quantity(metric, value, off_scale)?),
        value_codeable_concept: None,
    })
}

/// The value and components of a measurement: blood pressure has no value of its own
/// (systolic, diastolic and pulse are components); oxygen saturation has the % as value
/// and the pulse as a component; every other kind has one value.
fn values(
    m: &Measurement,
    off_scale: &[OffScale],
) -> Result<(Option<Quantity>, Vec<Component>), FhirError> {
    let vals = m.values();
    if m.kind() == ReadingKind::BloodPressure {
        let comps = vals
            .into_iter()
            .map(|(metric, v)| component(metric, v, off_scale))
            .collect::<Result<_, _>>()?;
        return Ok((None, comps));
    }
    let mut it = vals.into_iter();
    let value = it
        .next()
        .map(|(metric, v)| quantity(metric, v, off_scale))
        .transpose()?;
    let comps = it
        .map(|(metric, v)| component(metric, v, off_scale))
        .collect::<Result<_, _>>()?;
    Ok((value, comps))
}

/// An MDC code: partition 128 (MDC_PART_PHD_DM, personal health devices) × 65536 + the
/// term code of ISO/IEEE 11073-10101, as the HL7 Personal Health Device IG writes them
/// (MDC_CTXT_GLU_MEAL, term 29256, is 8417864).
fn mdc(term: u32, display: &'static str) -> Coding {
    Coding::with_display(MDC_SYSTEM, &(128 * 65_536 + term).to_string(), display)
}

fn coded_component(code: Coding, value: Coding) -> Component {
    Component {
        code: CodeableConcept::one(code),
        value_quantity: None,
        value_codeable_concept: Some(CodeableConcept::one(value)),
    }
}

/// A glucose meter's context as components (codes in ADR 0013): meal, tester and
/// health as MDC-coded values, insulin as a quantity under its MDC kind, HbA1c as LOINC
/// 4548-4 in %.
pub fn glucose_context_components(c: &GlucoseContext) -> Result<Vec<Component>, FhirError> {
    let mut out = Vec::new();
    if let Some(meal) = c.meal {
        let (term, display) = match meal {
            MealRelation::BeforeMeal => (29260, "MDC_CTXT_GLU_MEAL_PREPRANDIAL"),
            MealRelation::AfterMeal => (29264, "MDC_CTXT_GLU_MEAL_POSTPRANDIAL"),
            MealRelation::Fasting => (29268, "MDC_CTXT_GLU_MEAL_FASTING"),
            MealRelation::Casual => (29272, "MDC_CTXT_GLU_MEAL_CASUAL"),
            MealRelation::Bedtime => (29300, "MDC_CTXT_GLU_MEAL_BEDTIME"),
        };
        out.push(coded_component(
            mdc(29256, "MDC_CTXT_GLU_MEAL"),
            mdc(term, display),
        ));
    }
    if let Some(tester) = c.tester {
        let (term, display) = match tester {
            Tester::SelfTest => (29280, "MDC_CTXT_GLU_TESTER_SELF"),
            Tester::CareProfessional => (29284, "MDC_CTXT_GLU_TESTER_HCP"),
            Tester::Laboratory => (29288, "MDC_CTXT_GLU_TESTER_LAB"),
        };
        out.push(coded_component(
            mdc(29276, "MDC_CTXT_GLU_TESTER"),
            mdc(term, display),
        ));
    }
    if let Some(health) = c.health {
        let (term, display) = match health {
            HealthState::MinorIssues => (29216, "MDC_CTXT_GLU_HEALTH_MINOR"),
            HealthState::MajorIssues => (29220, "MDC_CTXT_GLU_HEALTH_MAJOR"),
            HealthState::DuringMenses => (29224, "MDC_CTXT_GLU_HEALTH_MENSES"),
            HealthState::UnderStress => (29228, "MDC_CTXT_GLU_HEALTH_STRESS"),
            HealthState::NoIssues => (29232, "MDC_CTXT_GLU_HEALTH_NONE"),
        };
        out.push(coded_component(
            mdc(29212, "MDC_CTXT_GLU_HEALTH"),
            mdc(term, display),
        ));
    }
    if let Some(insulin) = c.insulin {
        let (term, display) = match insulin.kind {
            InsulinKind::RapidActing => (29192, "MDC_CTXT_MEDICATION_RAPIDACTING"),
            InsulinKind::ShortActing => (29196, "MDC_CTXT_MEDICATION_SHORTACTING"),
            InsulinKind::IntermediateActing => (29200, "MDC_CTXT_MEDICATION_INTERMEDIATEACTING"),
            InsulinKind::LongActing => (29204, "MDC_CTXT_MEDICATION_LONGACTING"),
            InsulinKind::PreMixed => (29208, "MDC_CTXT_MEDICATION_PREMIX"),
        };
        let unit = match insulin.unit {
            AmountUnit::Milligrams => "mg",
            AmountUnit::Millilitres => "mL",
        };
        out.push(Component {
            code: CodeableConcept::one(mdc(term, display)),
            value_quantity: Some(Quantity::ucum(
                insulin.amount,
                if insulin.amount.fract() == 0.0 { 0 } else { 3 },
                unit,
            )?),
            value_codeable_concept: None,
        });
    }
    if let Some(hba1c) = c.hba1c_percent {
        out.push(Component {
            code: CodeableConcept::one(Coding::with_display(
                LOINC_SYSTEM,
                "4548-4",
                "Hemoglobin A1c/Hemoglobin.total in Blood",
            )),
            value_quantity: Some(Quantity::ucum(hba1c, 1, "%")?),
            value_codeable_concept: None,
        });
    }
    Ok(out)
}

/// The Observation for `reading`, about `patient`.
///
/// A reading that corrects another (`supersedes`) becomes an `amended` Observation with
/// a `replaces` extension; the reading's own `superseded_by` does not change what is
/// sent (see [`retracted_observation`] for withdrawing the old one).
pub fn observation(reading: &Reading, patient: &PatientId) -> Result<Observation, FhirError> {
    let kind = reading.kind();
    let (value_quantity, mut component) = values(&reading.measurement, &reading.off_scale)?;
    if let Some(c) = &reading.glucose_context {
        component.extend(glucose_context_components(c)?);
    }
    let mut extension = triage_extensions(&reading.triage);
    extension.extend(
        quality_codes(&reading.quality)
            .into_iter()
            .map(|c| Extension::code(EXT_MEASUREMENT_QUALITY, c)),
    );
    let status = match reading.supersedes {
        Some(old) => {
            extension.push(Extension {
                url: EXT_REPLACES.to_owned(),
                value: ExtensionValue::Reference(observation_reference(old)),
            });
            ObservationStatus::Amended
        }
        None => ObservationStatus::Final,
    };
    let (cat, cat_display) = category(kind);
    let subject = Reference::literal(patient.reference());
    Ok(Observation {
        meta: profile(kind).map(|p| Meta {
            profile: vec![p.to_owned()],
        }),
        extension,
        identifier: vec![reading_identifier(reading.id)],
        status,
        category: vec![CodeableConcept::one(Coding::with_display(
            CATEGORY_SYSTEM,
            cat,
            cat_display,
        ))],
        code: code(kind),
        subject: subject.clone(),
        effective_date_time: date_time_with_offset(
            reading.effective_at,
            reading.utc_offset_seconds,
        )?,
        issued: instant(reading.recorded_at)?,
        performer: vec![subject],
        value_quantity,
        interpretation: interpretation(&reading.triage)
            .into_iter()
            .map(|(c, d)| CodeableConcept::one(Coding::with_display(INTERPRETATION_SYSTEM, c, d)))
            .collect(),
        note: reading
            .note
            .iter()
            .filter(|n| !n.trim().is_empty())
            .map(|n| Annotation { text: n.clone() })
            .collect(),
        device: match &reading.source {
            Source::Manual => None,
            Source::Device {
                device_id, model, ..
            } => Some(Reference {
                type_: Some("Device".to_owned()),
                identifier: Some(Identifier {
                    system: DEVICE_ID_SYSTEM.to_owned(),
                    value: device_id.clone(),
                }),
                display: model.clone(),
                ..Reference::default()
            }),
        },
        component,
    })
}

/// The withdrawn form of `old`, replaced by the correction `replaced_by`: the same
/// Observation with status `entered-in-error` and a `replaced-by` extension. Sent as a
/// conditional update on the old identifier
/// ([`BundleEntry::retract`](crate::sync::fhir::BundleEntry::retract)); the server keeps
/// the earlier version in its history.
pub fn retracted_observation(
    old: &Reading,
    replaced_by: ReadingId,
    patient: &PatientId,
) -> Result<Observation, FhirError> {
    let mut obs = observation(old, patient)?;
    obs.status = ObservationStatus::EnteredInError;
    obs.extension.push(Extension {
        url: EXT_REPLACED_BY.to_owned(),
        value: ExtensionValue::Reference(observation_reference(replaced_by)),
    });
    Ok(obs)
}
