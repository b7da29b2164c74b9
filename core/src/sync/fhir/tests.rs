//! Tests of the FHIR mapping: golden JSON per kind, Bundle responses, and the ADR's
//! download examples (parsed, and reproduced by the writers).

use jiff::civil::{Date, Time, Weekday};
use jiff::{Timestamp, tz::Offset};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::bundle::{if_none_exist, reading_entry, retraction_entry};
use super::goal::newest_per_kind;
use super::observation::interpretation;
use super::*;
use crate::domain::reading::{
    Measurement, Metric as M, QualityFlags, Reading, ReadingId, ReadingKind, Source,
};
use crate::domain::schedule::{MeasurementSchedule, ScheduleError};
use crate::domain::text::LocalizedText;
use crate::domain::triage::{
    self, Band, Bands, MetricThreshold, Range, RuleVersion, ThresholdError, ThresholdOrigin,
    ThresholdSet, TriageHistory, TriageReason, TriageResult, WeightGainRule,
};

const ID: &str = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const OLD_ID: &str = "0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d";

fn patient() -> PatientId {
    PatientId::new("p-123").expect("valid id")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn reading_with(m: Measurement, source: Source, quality: QualityFlags) -> Reading {
    let effective_at = ts("2026-11-24T07:15:00Z");
    let triage = triage::triage(
        &m,
        effective_at,
        &quality,
        &ThresholdSet::default_for(m.kind()),
        &TriageHistory::default(),
    );
    Reading {
        id: ReadingId::parse(ID).expect("uuid"),
        measurement: m,
        effective_at,
        utc_offset_seconds: 3600,
        source,
        quality,
        off_scale: Vec::new(),
        glucose_context: None,
        note: None,
        recorded_at: ts("2026-11-24T07:16:02Z"),
        triage,
        supersedes: None,
        superseded_by: None,
    }
}

fn reading(m: Measurement) -> Reading {
    reading_with(m, Source::Manual, QualityFlags::GOOD)
}

fn obs_json(r: &Reading) -> Value {
    serde_json::to_value(observation(r, &patient()).expect("maps")).expect("json")
}

fn loinc(code: &str, display: &str) -> Value {
    json!({"system": "http://loinc.org", "code": code, "display": display})
}

fn qty(value: Value, unit: &str) -> Value {
    json!({"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit})
}

fn ext<'a>(obs: &'a Value, url: &str) -> Vec<&'a Value> {
    obs["extension"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["url"] == url).collect())
        .unwrap_or_default()
}

#[test]
fn blood_pressure_from_a_device_is_the_golden_observation() {
    let mut r = reading_with(
        Measurement::BloodPressure {
            systolic: 142.0,
            diastolic: 91.0,
            pulse: Some(72.0),
        },
        Source::Device {
            device_id: "omron-123".into(),
            model: Some("Omron M7".into()),
            record_key: Some("17".into()),
        },
        QualityFlags::GOOD,
    );
    r.note = Some("Efter promenad".into());
    let expected = json!({
        "resourceType": "Observation",
        "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/bp"]},
        "extension": [
            {"url": "https://nara.se/fhir/StructureDefinition/triage-band", "valueCode": "yellow"},
            {"url": "https://nara.se/fhir/StructureDefinition/triage-rule", "valueString": "default-v1"},
            {"url": "https://nara.se/fhir/StructureDefinition/triage-reason", "valueCode": "above_target"}
        ],
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{ID}")}],
        "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs",
            "display": "Vital Signs"
        }]}],
        "code": {"coding": [loinc("85354-9", "Blood pressure panel with all children optional")]},
        "subject": {"reference": "Patient/p-123"},
        "effectiveDateTime": "2026-11-24T08:15:00+01:00",
        "issued": "2026-11-24T07:16:02Z",
        "performer": [{"reference": "Patient/p-123"}],
        "interpretation": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
            "code": "H",
            "display": "High"
        }]}],
        "note": [{"text": "Efter promenad"}],
        "device": {
            "type": "Device",
            "identifier": {"system": "https://nara.se/fhir/device-id", "value": "omron-123"},
            "display": "Omron M7"
        },
        "component": [
            {"code": {"coding": [loinc("8480-6", "Systolic blood pressure")]}, "valueQuantity": qty(json!(142), "mm[Hg]")},
            {"code": {"coding": [loinc("8462-4", "Diastolic blood pressure")]}, "valueQuantity": qty(json!(91), "mm[Hg]")},
            {"code": {"coding": [loinc("8867-4", "Heart rate")]}, "valueQuantity": qty(json!(72), "/min")}
        ]
    });
    assert_eq!(obs_json(&r), expected);
}

/// (measurement, profile, category, code.coding, valueQuantity, component)
type KindRow = (
    Measurement,
    Option<&'static str>,
    &'static str,
    Value,
    Value,
    Value,
);

fn kind_table() -> Vec<KindRow> {
    let vs = "vital-signs";
    vec![
        (
            Measurement::HeartRate { bpm: 72.0 },
            Some("heartrate"),
            vs,
            json!([loinc("8867-4", "Heart rate")]),
            qty(json!(72), "/min"),
            Value::Null,
        ),
        (
            Measurement::BodyWeight { kg: 81.44 },
            Some("bodyweight"),
            vs,
            json!([loinc("29463-7", "Body weight")]),
            qty(json!(81.4), "kg"),
            Value::Null,
        ),
        (
            Measurement::BloodGlucose { mmol_per_l: 7.2 },
            None,
            "laboratory",
            json!([loinc(
                "14743-9",
                "Glucose [Moles/volume] in Capillary blood by Glucometer"
            )]),
            qty(json!(7.2), "mmol/L"),
            Value::Null,
        ),
        (
            Measurement::OxygenSaturation {
                percent: 97.0,
                pulse: Some(68.0),
            },
            Some("oxygensat"),
            vs,
            json!([
                loinc("2708-6", "Oxygen saturation in Arterial blood"),
                loinc(
                    "59408-5",
                    "Oxygen saturation in Arterial blood by Pulse oximetry"
                )
            ]),
            qty(json!(97), "%"),
            json!([{"code": {"coding": [loinc("8867-4", "Heart rate")]}, "valueQuantity": qty(json!(68), "/min")}]),
        ),
        (
            Measurement::PeakExpiratoryFlow { l_per_min: 420.0 },
            None,
            vs,
            json!([loinc(
                "19935-6",
                "Maximum expiratory gas flow Respiratory system airway by Peak flow meter"
            )]),
            qty(json!(420), "L/min"),
            Value::Null,
        ),
        (
            Measurement::BodyTemperature { celsius: 37.2 },
            Some("bodytemp"),
            vs,
            json!([loinc("8310-5", "Body temperature")]),
            qty(json!(37.2), "Cel"),
            Value::Null,
        ),
        (
            Measurement::Steps { count: 8042.0 },
            None,
            "activity",
            json!([loinc(
                "55423-8",
                "Number of steps in unspecified time Pedometer"
            )]),
            qty(json!(8042), "{steps}"),
            Value::Null,
        ),
        (
            Measurement::CatScore { score: 12.0 },
            None,
            "survey",
            json!([{
                "system": "https://nara.se/fhir/CodeSystem/observation",
                "code": "cat-total-score",
                "display": "COPD Assessment Test (CAT) total score"
            }]),
            qty(json!(12), "{score}"),
            Value::Null,
        ),
    ]
}

#[test]
fn every_kind_has_its_profile_category_code_and_ucum_quantity() {
    let table = kind_table();
    let kinds: Vec<ReadingKind> = table.iter().map(|row| row.0.kind()).collect();
    for kind in ReadingKind::ALL {
        assert!(
            kind == ReadingKind::BloodPressure || kinds.contains(&kind),
            "{kind} has no row"
        );
    }
    for (m, profile, category, coding, value, component) in table {
        let o = obs_json(&reading(m));
        let kind = m.kind();
        match profile {
            Some(p) => assert_eq!(
                o["meta"],
                json!({"profile": [format!("http://hl7.org/fhir/StructureDefinition/{p}")]}),
                "{kind}"
            ),
            None => assert!(o.get("meta").is_none(), "{kind}"),
        }
        assert_eq!(o["category"][0]["coding"][0]["code"], category, "{kind}");
        assert_eq!(o["code"]["coding"], coding, "{kind}");
        assert_eq!(o["valueQuantity"], value, "{kind}");
        assert_eq!(
            o.get("component").cloned().unwrap_or(Value::Null),
            component,
            "{kind}"
        );
        assert_eq!(o["effectiveDateTime"], "2026-11-24T08:15:00+01:00");
        assert_eq!(
            o["identifier"],
            json!([{"system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{ID}")}])
        );
        assert!(o.get("device").is_none() && o.get("note").is_none());
    }
}

#[test]
fn effective_time_keeps_the_patients_offset() {
    let cases = [
        (3600, "2026-11-24T08:15:00+01:00"),
        (7200, "2026-11-24T09:15:00+02:00"),
        (0, "2026-11-24T07:15:00+00:00"),
        (-19800, "2026-11-24T01:45:00-05:30"),
        (45, "2026-11-24T07:15:00Z"),
    ];
    for (offset, expected) in cases {
        let mut r = reading(Measurement::HeartRate { bpm: 60.0 });
        r.utc_offset_seconds = offset;
        assert_eq!(
            obs_json(&r)["effectiveDateTime"],
            expected,
            "offset {offset}"
        );
    }
    let mut r = reading(Measurement::HeartRate { bpm: 60.0 });
    r.effective_at = ts("2026-11-24T07:15:00.25Z");
    assert_eq!(
        obs_json(&r)["effectiveDateTime"],
        "2026-11-24T08:15:00.25+01:00"
    );
}

fn triage_result(band: Band, reason: TriageReason) -> TriageResult {
    TriageResult {
        band,
        value_band: band,
        rule: RuleVersion {
            origin: ThresholdOrigin::CareTeam,
            version: 2,
        },
        metric: None,
        reason,
        findings: Vec::new(),
    }
}

#[test]
fn interpretation_follows_band_and_direction() {
    let above = TriageReason::AboveTarget {
        metric: M::Systolic,
        limit: 139.0,
    };
    let below = TriageReason::BelowTarget {
        metric: M::SpO2,
        limit: 92.0,
    };
    let very_high = TriageReason::VeryHigh {
        metric: M::Glucose,
        limit: 13.9,
    };
    let very_low = TriageReason::VeryLow {
        metric: M::Glucose,
        limit: 3.0,
    };
    let gain = TriageReason::WeightGain {
        max_gain_kg: 2.0,
        days: 3,
    };
    let kind = ReadingKind::BloodPressure;
    let cases: Vec<(Band, TriageReason, Vec<&str>)> = vec![
        (Band::Green, TriageReason::WithinTargets { kind }, vec!["N"]),
        (Band::Yellow, above, vec!["H"]),
        (Band::Yellow, below, vec!["L"]),
        (Band::Yellow, gain.clone(), vec!["A", "U"]),
        (Band::Red, very_high, vec!["HH"]),
        (Band::Red, very_low, vec!["LL"]),
        (Band::Red, gain, vec!["AA", "U"]),
        (Band::NotAssessed, TriageReason::NoTargets { kind }, vec![]),
        (
            Band::MeasureAgain,
            TriageReason::PoorQuality {
                flags: QualityFlags::GOOD,
                values_red: true,
            },
            vec![],
        ),
    ];
    for (band, reason, codes) in cases {
        let got: Vec<&str> = interpretation(&triage_result(band, reason.clone()))
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(got, codes, "{band:?} {reason:?}");
    }
}

#[test]
fn poor_quality_sends_flags_and_the_hidden_value_band_but_no_interpretation() {
    let q = QualityFlags {
        cuff_fit_poor: true,
        irregular_pulse: true,
        ..QualityFlags::GOOD
    };
    let r = reading_with(
        Measurement::BloodPressure {
            systolic: 200.0,
            diastolic: 95.0,
            pulse: None,
        },
        Source::Manual,
        q,
    );
    let o = obs_json(&r);
    assert!(o.get("interpretation").is_none());
    let code = |url: &str| -> Vec<Value> {
        ext(&o, url)
            .into_iter()
            .map(|e| e["valueCode"].clone())
            .collect()
    };
    assert_eq!(
        code("https://nara.se/fhir/StructureDefinition/triage-band"),
        [json!("measure-again")]
    );
    assert_eq!(
        code("https://nara.se/fhir/StructureDefinition/triage-value-band"),
        [json!("red")]
    );
    assert_eq!(
        code("https://nara.se/fhir/StructureDefinition/measurement-quality"),
        [json!("cuff-fit-poor"), json!("irregular-pulse")]
    );
    assert_eq!(
        o["component"].as_array().map(Vec::len),
        Some(2),
        "no pulse component without a pulse"
    );
}

#[test]
fn a_correction_is_amended_and_the_old_reading_is_retracted_by_conditional_update() {
    let old_id = ReadingId::parse(OLD_ID).expect("uuid");
    let mut new = reading(Measurement::BodyWeight { kg: 80.1 });
    new.supersedes = Some(old_id);
    let o = obs_json(&new);
    assert_eq!(o["status"], "amended");
    assert_eq!(
        ext(&o, "https://nara.se/fhir/StructureDefinition/replaces")[0]["valueReference"],
        json!({"type": "Observation", "identifier": {"system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{OLD_ID}")}})
    );

    let mut old = reading(Measurement::BodyWeight { kg: 801.0 });
    old.id = old_id;
    let entry = retraction_entry(&old, new.id, &patient()).expect("entry");
    let e = serde_json::to_value(&entry).expect("json");
    assert!(e.get("fullUrl").is_none());
    assert_eq!(
        e["request"],
        json!({"method": "PUT", "url": format!("Observation?identifier=urn:ietf:rfc:3986|urn:uuid:{OLD_ID}")})
    );
    assert_eq!(e["resource"]["status"], "entered-in-error");
    assert_eq!(
        e["resource"]["identifier"][0]["value"],
        format!("urn:uuid:{OLD_ID}")
    );
    assert_eq!(
        ext(
            &e["resource"],
            "https://nara.se/fhir/StructureDefinition/replaced-by"
        )[0]["valueReference"]["identifier"]["value"],
        format!("urn:uuid:{ID}")
    );
}

#[test]
fn transaction_bundle_has_conditional_creates() {
    let a = reading(Measurement::HeartRate { bpm: 61.0 });
    let mut b = reading(Measurement::HeartRate { bpm: 62.0 });
    b.id = ReadingId::parse(OLD_ID).expect("uuid");
    let bundle = Bundle::transaction(vec![
        reading_entry(&a, &patient()).expect("entry"),
        reading_entry(&b, &patient()).expect("entry"),
    ]);
    let v: Value = serde_json::from_slice(&bundle.to_json().expect("json")).expect("parse");
    assert_eq!(v["resourceType"], "Bundle");
    assert_eq!(v["type"], "transaction");
    for (i, id) in [ID, OLD_ID].into_iter().enumerate() {
        let e = &v["entry"][i];
        assert_eq!(e["fullUrl"], format!("urn:uuid:{id}"));
        assert_eq!(
            e["request"],
            json!({
                "method": "POST",
                "url": "Observation",
                "ifNoneExist": format!("identifier=urn:ietf:rfc:3986|urn:uuid:{id}")
            })
        );
        assert_eq!(e["resource"]["resourceType"], "Observation");
    }
    assert_eq!(
        if_none_exist(a.id),
        format!("identifier=urn:ietf:rfc:3986|urn:uuid:{ID}")
    );
    assert_eq!(
        serde_json::to_value(Bundle::batch(vec![])).expect("json")["type"],
        "batch"
    );
}

fn sent(n: usize) -> Bundle {
    let entries = (0..n)
        .map(|i| {
            let mut r = reading(Measurement::HeartRate { bpm: 60.0 });
            r.id = ReadingId::from_random_bytes([i as u8; 16]);
            reading_entry(&r, &patient()).expect("entry")
        })
        .collect();
    Bundle::transaction(entries)
}

fn response(kind: &str, statuses: &[&str]) -> Vec<u8> {
    let entry: Vec<Value> = statuses
        .iter()
        .map(|s| json!({"response": {"status": s, "location": "Observation/9/_history/1"}}))
        .collect();
    serde_json::to_vec(&json!({"resourceType": "Bundle", "type": kind, "entry": entry}))
        .expect("json")
}

#[test]
fn entry_statuses_map_to_outcomes_by_position() {
    let loc = Some("Observation/9/_history/1".to_owned());
    let cases: Vec<(&str, EntryOutcome)> = vec![
        (
            "201 Created",
            EntryOutcome::Created {
                location: loc.clone(),
            },
        ),
        (
            "201",
            EntryOutcome::Created {
                location: loc.clone(),
            },
        ),
        (
            "200 OK",
            EntryOutcome::AlreadyThere {
                location: loc.clone(),
            },
        ),
        (
            "412 Precondition Failed",
            EntryOutcome::Conflict {
                status: 412,
                detail: "412 Precondition Failed".into(),
            },
        ),
        (
            "400 Bad Request",
            EntryOutcome::Rejected {
                status: 400,
                detail: "400 Bad Request".into(),
            },
        ),
        (
            "422",
            EntryOutcome::Rejected {
                status: 422,
                detail: "422 Unprocessable Entity".into(),
            },
        ),
        (
            "503 Service Unavailable",
            EntryOutcome::Retry { status: Some(503) },
        ),
        ("429", EntryOutcome::Retry { status: Some(429) }),
        ("OK", EntryOutcome::Retry { status: None }),
        ("2010", EntryOutcome::Retry { status: None }),
    ];
    let statuses: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let bundle = sent(cases.len());
    for kind in ["transaction-response", "batch-response"] {
        let got = parse_response(200, &response(kind, &statuses), &bundle).expect("parses");
        let want: Vec<EntryOutcome> = cases.iter().map(|c| c.1.clone()).collect();
        assert_eq!(got, BundleResponse::Entries(want), "{kind}");
    }
}

#[test]
fn a_put_answered_200_is_updated() {
    let mut old = reading(Measurement::HeartRate { bpm: 60.0 });
    old.id = ReadingId::parse(OLD_ID).expect("uuid");
    let b = Bundle::batch(vec![
        retraction_entry(&old, ReadingId::parse(ID).expect("uuid"), &patient()).expect("entry"),
    ]);
    let got = parse_response(200, &response("batch-response", &["200 OK"]), &b).expect("parses");
    let BundleResponse::Entries(o) = got else {
        panic!("entries expected")
    };
    assert!(matches!(o[0], EntryOutcome::Updated { .. }) && o[0].is_done());
}

#[test]
fn per_entry_rejection_detail_has_issue_codes_but_never_diagnostics() {
    let body = json!({"resourceType": "Bundle", "type": "batch-response", "entry": [
        {"response": {"status": "201 Created"}},
        {"response": {"status": "400 Bad Request", "outcome": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "invalid",
                       "diagnostics": "value 142 for patient Anna is invalid"},
                      {"severity": "error", "code": "Free Text With Value 142"}]
        }}}
    ]});
    let got =
        parse_response(200, &serde_json::to_vec(&body).expect("json"), &sent(2)).expect("parses");
    let BundleResponse::Entries(o) = got else {
        panic!("entries expected")
    };
    assert_eq!(o[0], EntryOutcome::Created { location: None });
    let EntryOutcome::Rejected { status, detail } = &o[1] else {
        panic!("rejected expected")
    };
    assert_eq!(*status, 400);
    assert_eq!(detail, "400 Bad Request: invalid, unknown");
    assert!(!detail.contains("142") && !detail.contains("Anna"));
}

#[test]
fn whole_bundle_failures_are_classified_and_name_the_culprit_entry() {
    let oo = json!({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "invalid", "diagnostics": "note 'secret' too long",
         "expression": ["Bundle.entry[2].resource.note[0].text"]},
        {"severity": "error", "code": "required", "location": ["Bundle.entry[0]"]},
        {"severity": "error", "code": "invalid", "expression": ["Bundle.entry[99]"]}
    ]});
    let body = serde_json::to_vec(&oo).expect("json");
    let BundleResponse::Failed(f) = parse_response(400, &body, &sent(3)).expect("parses") else {
        panic!("failure expected")
    };
    assert!(!f.retry);
    assert_eq!(f.entries(), vec![0, 2]);
    assert_eq!(f.detail(), "400 Bad Request: invalid, required");
    assert!(!f.detail().contains("secret"));

    for (status, retry) in [
        (500, true),
        (503, true),
        (429, true),
        (408, true),
        (401, false),
        (412, false),
    ] {
        let BundleResponse::Failed(f) =
            parse_response(status, b"<html>oops</html>", &sent(1)).expect("parses")
        else {
            panic!("failure expected")
        };
        assert_eq!((f.status, f.retry, f.issues.len()), (status, retry, 0));
    }
}

#[test]
fn answers_that_cannot_be_understood_are_errors() {
    let b = sent(2);
    let cases: Vec<(Vec<u8>, ResponseError)> = vec![
        (
            b"{\"resourceType\": \"Bund".to_vec(),
            ResponseError::NotJson,
        ),
        (
            serde_json::to_vec(&json!({"resourceType": "OperationOutcome"})).expect("json"),
            ResponseError::NotABundle,
        ),
        (
            serde_json::to_vec(&json!({"resourceType": "Bundle", "type": "searchset"}))
                .expect("json"),
            ResponseError::WrongBundleType,
        ),
        (
            response("transaction-response", &["201"]),
            ResponseError::EntryCountMismatch {
                sent: 2,
                received: 1,
            },
        ),
    ];
    for (body, err) in cases {
        assert_eq!(parse_response(200, &body, &b), Err(err));
    }
}

// ---- Download: the ADR's examples -------------------------------------------------

fn adr_example(name: &str) -> Value {
    let adr = include_str!("../../../../docs/adr/0007-fhir-mapping.md");
    let marker = format!("<!-- example:{name} -->");
    let start = adr.find(&marker).expect("marker") + marker.len();
    let rest = &adr[start..];
    let open = rest.find("```json").expect("json block") + "```json".len();
    let close = rest[open..].find("```").expect("block end") + open;
    serde_json::from_str(&rest[open..close]).expect("example is JSON")
}

fn bp_thresholds(version: u32) -> ThresholdSet {
    let t = |metric, g: (f64, f64), y: (f64, f64)| MetricThreshold {
        metric,
        bands: Bands::new(Range::between(g.0, g.1), Range::between(y.0, y.1)),
    };
    ThresholdSet {
        kind: ReadingKind::BloodPressure,
        rule: RuleVersion {
            origin: ThresholdOrigin::CareTeam,
            version,
        },
        metrics: vec![
            t(M::Systolic, (105.0, 139.0), (95.0, 169.0)),
            t(M::Diastolic, (60.0, 89.0), (50.0, 104.0)),
        ],
        weight_gain: vec![],
        personal_best: None,
        known_arrhythmia: false,
    }
}

fn weight_thresholds() -> ThresholdSet {
    ThresholdSet {
        kind: ReadingKind::BodyWeight,
        rule: RuleVersion {
            origin: ThresholdOrigin::CareTeam,
            version: 1,
        },
        metrics: vec![],
        weight_gain: vec![
            WeightGainRule {
                max_gain_kg: 2.0,
                over_days: 3,
                band: Band::Yellow,
            },
            WeightGainRule {
                max_gain_kg: 3.5,
                over_days: 7,
                band: Band::Red,
            },
        ],
        personal_best: None,
        known_arrhythmia: false,
    }
}

fn with_id_and_meta(mut written: Value, example: &Value) -> Value {
    written["id"] = example["id"].clone();
    written["meta"] = example["meta"].clone();
    written
}

#[test]
fn the_adr_goal_examples_parse_and_the_writer_reproduces_them() {
    for (name, expected) in [
        ("goal", bp_thresholds(3)),
        ("goal-weight", weight_thresholds()),
    ] {
        let example = adr_example(name);
        let got = thresholds_from_goal(&example, &patient()).expect("parses");
        assert_eq!(got.goal_id, example["id"].as_str().expect("id"));
        assert_eq!(got.kind, expected.kind);
        assert_eq!(got.thresholds.as_ref(), Some(&expected), "{name}");
        let written =
            serde_json::to_value(goal_from_thresholds(&expected, &patient()).expect("writes"))
                .expect("json");
        assert_eq!(with_id_and_meta(written, &example), example, "{name}");
    }
}

#[test]
fn the_defaults_of_every_kind_round_trip_through_a_goal() {
    for kind in ReadingKind::ALL {
        let mut set = ThresholdSet::default_for(kind);
        set.rule = RuleVersion {
            origin: ThresholdOrigin::CareTeam,
            version: 7,
        };
        let mut v = serde_json::to_value(goal_from_thresholds(&set, &patient()).expect("writes"))
            .expect("json");
        v["id"] = json!("g1");
        v["meta"] = json!({"versionId": "7"});
        let got = thresholds_from_goal(&v, &patient()).expect("parses");
        assert_eq!(got.thresholds, Some(set), "{kind}");
    }
}

/// A personal best on the peak-flow Goal gives the zones (ADR 0013): 450 L/min makes
/// 300 yellow (67 %), 380 green (84 %) and 200 red (44 %).
#[test]
fn a_personal_best_on_the_peak_flow_goal_drives_the_zones() {
    let goal = json!({
        "resourceType": "Goal",
        "id": "p-123-threshold-pef",
        "meta": {"versionId": "2", "lastUpdated": "2026-11-20T08:00:00Z"},
        "extension": [{
            "url": "https://nara.se/fhir/StructureDefinition/personal-best",
            "valueQuantity": {"value": 450, "unit": "L/min", "system": "http://unitsofmeasure.org", "code": "L/min"}
        }],
        "lifecycleStatus": "active",
        "description": {"coding": [{"system": "http://loinc.org", "code": "19935-6"}]},
        "subject": {"reference": "Patient/p-123"}
    });
    let got = thresholds_from_goal(&goal, &patient()).expect("parses");
    let set = got.thresholds.expect("active");
    assert_eq!(set.personal_best, Some(450.0));
    let band = |l: f64| {
        crate::domain::triage::triage(
            &Measurement::PeakExpiratoryFlow { l_per_min: l },
            "2026-11-24T08:00:00Z".parse().expect("time"),
            &QualityFlags::GOOD,
            &set,
            &TriageHistory::default(),
        )
        .band
    };
    assert_eq!(
        (band(380.0), band(300.0), band(200.0)),
        (Band::Green, Band::Yellow, Band::Red)
    );
    // The writer gives back the personal best alone, which reads as the same set.
    let mut written = serde_json::to_value(goal_from_thresholds(&set, &patient()).expect("writes"))
        .expect("json");
    assert!(written.get("target").is_none(), "{written}");
    written["id"] = json!("g1");
    written["meta"] = json!({"versionId": "2"});
    assert_eq!(
        thresholds_from_goal(&written, &patient())
            .expect("parses")
            .thresholds,
        Some(set)
    );

    // Beside explicit targets, or on another kind, a personal best is refused, naming
    // the extension and not the value.
    let mut both = goal.clone();
    both["target"] = adr_example("goal")["target"].clone();
    both["description"] = json!({"coding": [{"system": "http://loinc.org", "code": "19935-6"}]});
    let err = thresholds_from_goal(&both, &patient()).expect_err("ambiguous");
    assert!(!err.to_string().contains("450"), "{err}");
    let mut on_bp = goal.clone();
    on_bp["description"] = json!({"coding": [{"system": "http://loinc.org", "code": "85354-9"}]});
    let err = thresholds_from_goal(&on_bp, &patient()).expect_err("not peak flow");
    assert!(err.to_string().contains("personal-best"), "{err}");
}

/// The known-arrhythmia mark travels on the blood-pressure Goal and back.
#[test]
fn a_known_arrhythmia_mark_round_trips_through_the_goal() {
    let mut set = bp_thresholds(3);
    set.known_arrhythmia = true;
    let mut v = serde_json::to_value(goal_from_thresholds(&set, &patient()).expect("writes"))
        .expect("json");
    let marks: Vec<&Value> = v["extension"]
        .as_array()
        .expect("extensions")
        .iter()
        .filter(|e| e["url"] == "https://nara.se/fhir/StructureDefinition/known-arrhythmia")
        .collect();
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0]["valueBoolean"], true);
    v["id"] = json!("g1");
    v["meta"] = json!({"versionId": "3"});
    let got = thresholds_from_goal(&v, &patient()).expect("parses");
    assert_eq!(got.thresholds, Some(set));
    // Not a boolean: refused, not guessed.
    let i = v["extension"]
        .as_array()
        .expect("extensions")
        .iter()
        .position(|e| e["url"] == "https://nara.se/fhir/StructureDefinition/known-arrhythmia")
        .expect("mark");
    v["extension"][i]["valueBoolean"] = json!("yes");
    assert!(thresholds_from_goal(&v, &patient()).is_err());
}

#[test]
fn goal_errors_name_the_element_and_never_the_value() {
    let example = adr_example("goal");
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = example.clone();
        f(&mut v);
        v
    };
    let cases: Vec<(Value, &str, Problem)> = vec![
        (
            edit(&|v| v["target"][1]["detailRange"]["low"]["code"] = json!("kPa")),
            "target[1].detailRange.low.code",
            Problem::WrongUnit,
        ),
        (
            edit(&|v| v["target"][2]["measure"]["coding"][0]["code"] = json!("9999-9")),
            "target[2].measure.coding",
            Problem::UnknownCode,
        ),
        (
            edit(&|v| v["description"]["coding"][0]["code"] = json!("1234-5")),
            "description.coding",
            Problem::UnknownCode,
        ),
        (
            edit(&|v| {
                v["target"].as_array_mut().expect("array").remove(3);
            }),
            "target[measure=8462-4,band=yellow]",
            Problem::Missing,
        ),
        (
            edit(&|v| v["target"][0]["detailRange"]["high"]["value"] = json!(190)),
            "target",
            Problem::Thresholds(ThresholdError::GreenOutsideYellow),
        ),
        (
            edit(&|v| v["target"][0]["extension"][0]["valueCode"] = json!("purple")),
            "target[0].extension[0].valueCode",
            Problem::UnknownCode,
        ),
        (
            edit(&|v| v["target"][0]["detailRange"]["low"]["value"] = json!("105")),
            "target[0].detailRange.low.value",
            Problem::Invalid,
        ),
        (
            edit(&|v| v["subject"]["reference"] = json!("Patient/someone-else")),
            "subject.reference",
            Problem::Invalid,
        ),
        (
            edit(&|v| {
                v.as_object_mut().expect("object").remove("meta");
            }),
            "meta",
            Problem::Missing,
        ),
    ];
    for (v, field, problem) in cases {
        let err = thresholds_from_goal(&v, &patient()).expect_err(field);
        assert_eq!((err.field.as_str(), err.problem), (field, problem));
        assert_eq!(err.id, "goal-bp");
        let text = err.to_string();
        assert!(text.starts_with("Goal/goal-bp: "), "{text}");
        for value in ["105", "190", "kPa", "purple", "someone-else"] {
            assert!(!text.contains(value), "{text}");
        }
    }
}

#[test]
fn an_inactive_goal_withdraws_the_kind_and_the_newest_goal_wins() {
    let mut v = adr_example("goal");
    v["lifecycleStatus"] = json!("cancelled");
    v["target"] = json!("not even an array");
    let old = thresholds_from_goal(&v, &patient()).expect("parses");
    assert_eq!(
        (old.kind, old.thresholds.clone()),
        (ReadingKind::BloodPressure, None)
    );

    let mut newer = adr_example("goal");
    newer["meta"] = json!({"lastUpdated": "2026-11-22T10:00:00Z"});
    let newer = thresholds_from_goal(&newer, &patient()).expect("parses");
    let version = newer.thresholds.as_ref().map(|t| t.rule.version);
    assert_eq!(version, Some(ts("2026-11-22T10:00:00Z").as_second() as u32));
    let picked = newest_per_kind(vec![newer.clone(), old]);
    assert_eq!(picked, vec![newer]);
}

fn bp_schedule() -> MeasurementSchedule {
    MeasurementSchedule {
        id: "cp-1/0".into(),
        kind: ReadingKind::BloodPressure,
        times: vec![Time::constant(8, 0, 0, 0), Time::constant(20, 0, 0, 0)],
        window_minutes: 90,
        start: Date::constant(2026, 11, 24),
        days: Some(7),
        weekdays: None,
        time_zone: "Europe/Stockholm".into(),
        instructions: Some(LocalizedText::new(
            "Mät blodtrycket sittande efter fem minuters vila.",
            "Measure your blood pressure seated after five minutes' rest.",
        )),
    }
}

fn weight_schedule() -> MeasurementSchedule {
    MeasurementSchedule {
        id: "cp-1/1".into(),
        kind: ReadingKind::BodyWeight,
        times: vec![Time::constant(7, 30, 0, 0)],
        window_minutes: 60,
        start: Date::constant(2026, 11, 24),
        days: None,
        weekdays: Some(vec![Weekday::Monday, Weekday::Wednesday, Weekday::Friday]),
        time_zone: "Europe/Stockholm".into(),
        instructions: None,
    }
}

#[test]
fn the_adr_care_plan_example_parses_and_the_writer_reproduces_it() {
    let example = adr_example("care-plan");
    let got = schedules_from_care_plan(&example, &patient()).expect("parses");
    assert!(got.active);
    assert_eq!(got.care_plan_id, "cp-1");
    assert_eq!(got.id_prefix(), "cp-1/");
    assert_eq!(got.last_updated, Some(ts("2026-11-23T13:00:00Z")));
    assert_eq!(got.schedules, vec![bp_schedule(), weight_schedule()]);
    let written =
        serde_json::to_value(care_plan_from_schedules(&got.schedules, &patient()).expect("writes"))
            .expect("json");
    assert_eq!(with_id_and_meta(written, &example), example);
}

#[test]
fn care_plan_variants_and_defaults() {
    let example = adr_example("care-plan");
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = example.clone();
        f(&mut v);
        schedules_from_care_plan(&v, &patient())
    };
    // Not active: everything withdrawn, activities not even read.
    let got = edit(&|v| {
        v["status"] = json!("revoked");
        v["activity"] = json!(42);
    })
    .expect("parses");
    assert!(!got.active && got.schedules.is_empty());
    // A cancelled activity is dropped; the other keeps its index in the id.
    let got = edit(&|v| v["activity"][0]["detail"]["status"] = json!("cancelled")).expect("parses");
    assert_eq!(
        got.schedules
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>(),
        ["cp-1/1"]
    );
    // No window: 60 minutes, shrunk for close times; another time zone by extension.
    let got = edit(&|v| {
        let d = &mut v["activity"][0]["detail"];
        d.as_object_mut().expect("object").remove("extension");
        d["scheduledTiming"]["repeat"]["timeOfDay"] = json!(["08:00:00", "09:00:00"]);
        d["scheduledTiming"]["extension"] = json!([{
            "url": "https://nara.se/fhir/StructureDefinition/time-zone", "valueCode": "Europe/Helsinki"
        }]);
        d.as_object_mut().expect("object").remove("_description");
    })
    .expect("parses");
    let s = &got.schedules[0];
    assert_eq!(
        (s.window_minutes, s.time_zone.as_str()),
        (29, "Europe/Helsinki")
    );
    let sv = "Mät blodtrycket sittande efter fem minuters vila.";
    assert_eq!(s.instructions, Some(LocalizedText::new(sv, sv)));
    // Redundant frequency that agrees is accepted.
    let got = edit(&|v| {
        let r = &mut v["activity"][0]["detail"]["scheduledTiming"]["repeat"];
        r["frequency"] = json!(2);
        r["period"] = json!(1);
        r["periodUnit"] = json!("d");
    });
    assert!(got.is_ok());
    // A window in hours.
    let got = edit(&|v| {
        v["activity"][0]["detail"]["extension"][0]["valueDuration"] =
            json!({"value": 1, "unit": "h", "system": "http://unitsofmeasure.org", "code": "h"});
    })
    .expect("parses");
    assert_eq!(got.schedules[0].window_minutes, 60);
}

#[test]
fn care_plan_errors_name_the_element() {
    let example = adr_example("care-plan");
    let rp = "activity[0].detail.scheduledTiming.repeat";
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Edit, String, Problem)> = vec![
        (
            Box::new(|v| v["activity"][0]["detail"]["scheduledTiming"]["repeat"]["count"] = json!(14)),
            format!("{rp}.count"),
            Problem::Unsupported,
        ),
        (
            Box::new(|v| v["activity"][0]["detail"]["scheduledTiming"]["repeat"]["timeOfDay"][1] = json!("25:00")),
            format!("{rp}.timeOfDay[1]"),
            Problem::Invalid,
        ),
        (
            Box::new(|v| v["activity"][0]["detail"]["scheduledTiming"]["repeat"]["timeOfDay"] = json!([])),
            format!("{rp}.timeOfDay"),
            Problem::Missing,
        ),
        (
            Box::new(|v| v["activity"][1]["detail"]["scheduledTiming"]["repeat"]["dayOfWeek"][0] = json!("monday")),
            "activity[1].detail.scheduledTiming.repeat.dayOfWeek[0]".into(),
            Problem::UnknownCode,
        ),
        (
            Box::new(|v| v["activity"][0]["detail"]["scheduledTiming"]["repeat"]["boundsPeriod"]["end"] = json!("2026-11-01")),
            format!("{rp}.boundsPeriod.end"),
            Problem::Invalid,
        ),
        (
            Box::new(|v| v["activity"][0]["detail"]["code"]["coding"][0]["code"] = json!("1-1")),
            "activity[0].detail.code.coding".into(),
            Problem::UnknownCode,
        ),
        (
            Box::new(|v| v["activity"][0]["detail"]["extension"][0]["valueDuration"]["value"] = json!(400)),
            "activity[0].detail.scheduledTiming".into(),
            Problem::Schedule(ScheduleError::WindowTooLarge { max_minutes: 359 }),
        ),
        (
            Box::new(|v| v["activity"][0]["detail"]["scheduledTiming"]["extension"] = json!([{"url": "https://nara.se/fhir/StructureDefinition/time-zone", "valueCode": "Mars/Olympus"}])),
            "activity[0].detail.scheduledTiming.extension[url=https://nara.se/fhir/StructureDefinition/time-zone].valueCode".into(),
            Problem::Schedule(ScheduleError::UnknownTimeZone),
        ),
        (
            Box::new(|v| v["activity"][0]["detail"]["status"] = Value::Null),
            "activity[0].detail.status".into(),
            Problem::Invalid,
        ),
        (
            Box::new(|v| v["activity"][0] = json!({"reference": {"reference": "ServiceRequest/1"}})),
            "activity[0].reference".into(),
            Problem::Unsupported,
        ),
    ];
    for (f, field, problem) in cases {
        let mut v = example.clone();
        f(&mut v);
        let err = schedules_from_care_plan(&v, &patient()).expect_err(&field);
        assert_eq!((err.field.clone(), err.problem), (field, problem));
        assert!(err.to_string().starts_with("CarePlan/cp-1: "));
    }
    let mut v = example.clone();
    v["resourceType"] = json!("Goal");
    let err = schedules_from_care_plan(&v, &patient()).expect_err("type");
    assert_eq!(
        (err.field.as_str(), err.problem),
        ("resourceType", Problem::UnknownCode)
    );
}

#[test]
fn search_bundles_yield_their_resources_and_next_page() {
    let page = json!({"resourceType": "Bundle", "type": "searchset",
    "link": [{"relation": "self", "url": "a"}, {"relation": "next", "url": "https://x/fhir?page=2"}],
    "entry": [
        {"resource": adr_example("goal")},
        {"resource": {"resourceType": "OperationOutcome"}, "search": {"mode": "outcome"}},
        {"resource": adr_example("goal-weight")}
    ]});
    let goals = search_resources(&page, "Goal").expect("bundle");
    assert_eq!(goals.len(), 2);
    assert_eq!(next_page(&page), Some("https://x/fhir?page=2"));
    assert_eq!(next_page(&json!({"resourceType": "Bundle"})), None);
    assert!(search_resources(&json!({"resourceType": "Goal"}), "Goal").is_err());
}

#[test]
fn patient_ids_are_checked() {
    for ok in ["p-123", "A.b-9", &"x".repeat(64)] {
        assert!(PatientId::new(ok).is_ok(), "{ok}");
    }
    for bad in ["", "a/b", "a b", "p?x=1", &"x".repeat(65), "å"] {
        assert_eq!(
            PatientId::new(bad),
            Err(FhirError::InvalidPatientId),
            "{bad}"
        );
    }
}

// ---- Properties --------------------------------------------------------------------

fn any_measurement() -> impl Strategy<Value = Measurement> {
    prop_oneof![
        (
            60.0..260.0f64,
            30.0..150.0f64,
            proptest::option::of(30.0..220.0f64)
        )
            .prop_map(|(systolic, diastolic, pulse)| Measurement::BloodPressure {
                systolic,
                diastolic,
                pulse
            }),
        (30.0..220.0f64).prop_map(|bpm| Measurement::HeartRate { bpm }),
        (20.0..300.0f64).prop_map(|kg| Measurement::BodyWeight { kg }),
        (1.0..33.0f64).prop_map(|mmol_per_l| Measurement::BloodGlucose { mmol_per_l }),
        (70.0..100.0f64, proptest::option::of(30.0..220.0f64))
            .prop_map(|(percent, pulse)| Measurement::OxygenSaturation { percent, pulse }),
        (50.0..900.0f64).prop_map(|l_per_min| Measurement::PeakExpiratoryFlow { l_per_min }),
        (34.0..43.0f64).prop_map(|celsius| Measurement::BodyTemperature { celsius }),
        (0.0..100_000.0f64).prop_map(|count| Measurement::Steps { count }),
        (0.0..40.0f64).prop_map(|score| Measurement::CatScore { score }),
    ]
}

proptest! {
    #[test]
    fn every_value_is_sent_rounded_in_its_canonical_unit(m in any_measurement()) {
        let o = obs_json(&reading(m));
        let mut sent: Vec<(String, f64, String)> = Vec::new();
        if let Some(q) = o.get("valueQuantity") {
            sent.push((o["code"]["coding"].as_array().and_then(|c| c.last()).map(|c| c["code"].to_string()).unwrap_or_default(), q["value"].as_f64().unwrap_or(f64::NAN), q["code"].to_string()));
        }
        for c in o["component"].as_array().into_iter().flatten() {
            sent.push((c["code"]["coding"][0]["code"].to_string(), c["valueQuantity"]["value"].as_f64().unwrap_or(f64::NAN), c["valueQuantity"]["code"].to_string()));
        }
        let values = m.values();
        prop_assert_eq!(sent.len(), values.len());
        for ((code, value, unit), (metric, v)) in sent.iter().zip(values) {
            prop_assert_eq!(code, &format!("\"{}\"", metric.code().code));
            prop_assert_eq!(unit, &format!("\"{}\"", metric.ucum()));
            let want = crate::domain::units::round_to(v, metric.decimals());
            prop_assert!((value - want).abs() < 1e-9, "{} vs {}", value, want);
        }
    }

    #[test]
    fn effective_time_parses_back_to_the_instant_and_the_local_clock(
        secs in 946_684_800i64..4_102_444_800,
        nanos in prop_oneof![Just(0i32), 0i32..1_000_000_000],
        quarter_hours in -48i32..=56,
    ) {
        let mut r = reading(Measurement::HeartRate { bpm: 60.0 });
        r.effective_at = Timestamp::new(secs, nanos).expect("in range");
        r.utc_offset_seconds = quarter_hours * 900;
        let o = obs_json(&r);
        let text = o["effectiveDateTime"].as_str().expect("string");
        prop_assert_eq!(text.parse::<Timestamp>().expect("RFC 3339"), r.effective_at);
        let local = Offset::from_seconds(r.utc_offset_seconds).expect("offset").to_datetime(r.effective_at);
        prop_assert_eq!(&text[..19], &local.strftime("%Y-%m-%dT%H:%M:%S").to_string());
    }

    #[test]
    fn the_response_parser_never_panics_on_bytes(status in 0u16..700, body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_response(status, &body, &sent(2));
    }

    #[test]
    fn the_response_parser_never_panics_on_json_shapes(
        statuses in proptest::collection::vec(proptest::option::of("[0-9a-zA-Z ]{0,12}"), 0..4)
    ) {
        let entry: Vec<Value> = statuses.iter().map(|s| match s {
            Some(s) => json!({"response": {"status": s, "location": 5}}),
            None => json!({"resource": {}}),
        }).collect();
        let body = serde_json::to_vec(&json!({"resourceType": "Bundle", "type": "batch-response", "entry": entry})).expect("json");
        let b = sent(statuses.len());
        if let Ok(BundleResponse::Entries(o)) = parse_response(200, &body, &b) {
            prop_assert_eq!(o.len(), statuses.len());
        }
    }

    #[test]
    fn threshold_ranges_round_trip_through_goals(
        lo in 40.0..100.0f64, width in 1.0..60.0f64, margin in 0.0..30.0f64, version in 1u32..1000,
    ) {
        let round = |v: f64| (v * 1000.0).round() / 1000.0;
        let (lo, hi) = (round(lo), round(lo + width));
        let (ylo, yhi) = (round(lo - margin), round(hi + margin));
        let set = ThresholdSet {
            kind: ReadingKind::HeartRate,
            rule: RuleVersion { origin: ThresholdOrigin::CareTeam, version },
            metrics: vec![MetricThreshold { metric: M::HeartRate, bands: Bands::new(Range::between(lo, hi), Range::between(ylo, yhi)) }],
            weight_gain: vec![],
            personal_best: None,
            known_arrhythmia: false,
        };
        let mut v = serde_json::to_value(goal_from_thresholds(&set, &patient()).expect("writes")).expect("json");
        v["id"] = json!("g");
        v["meta"] = json!({"versionId": version.to_string()});
        let got = thresholds_from_goal(&v, &patient()).expect("parses");
        prop_assert_eq!(got.thresholds, Some(set));
    }
}
