//! Clinical safety against the real test region (ADR 0013): the care team's personal
//! best drives the peak-flow zones, a known arrhythmia makes an irregular pulse a note,
//! and a meter's "HI" reaches the region as a bound with its context. Erik has his own
//! patient so his care team's Goals do not touch the other stories.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use nara_core::domain::glucose_context::{GlucoseContext, MealRelation};
use nara_core::domain::reading::{
    Comparator, Measurement, Metric, NewReading, OffScale, QualityFlags,
};
use nara_core::domain::triage::{Band, FindingAction, ThresholdOrigin};
use nara_tests::region::{direct_client, fhir_json, region, resources, sync_finished};

fn offset() -> jiff::tz::Offset {
    jiff::tz::Offset::from_seconds(3600).expect("offset")
}

fn minutes_ago(m: i64) -> Timestamp {
    Timestamp::now() - SignedDuration::from_mins(m)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_care_teams_personal_best_and_arrhythmia_mark_and_a_meters_hi_on_the_server() {
    let region = region();
    region.nurse(&[
        "thresholds",
        "erik-1",
        "peak-flow",
        "--personal-best",
        "450",
    ]);
    region.nurse(&["thresholds", "erik-1", "bp", "--known-arrhythmia", "true"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (nara, patient) = region.phone(dir.path(), "erik", "erik").await;
    assert_eq!(patient, "erik-1");
    sync_finished(&nara, Duration::from_secs(120)).await;

    // Peak flow: 450 L/min personal best → 300 is yellow (67 %), 380 green.
    let pef = |l| {
        NewReading::manual(
            Measurement::PeakExpiratoryFlow { l_per_min: l },
            minutes_ago(10),
            offset(),
        )
    };
    let low = nara.readings().add(pef(300.0)).expect("stored");
    assert_eq!(low.triage.band, Band::Yellow, "{:?}", low.triage);
    assert_eq!(low.triage.rule.origin, ThresholdOrigin::CareTeam);
    assert!(
        low.triage
            .reason_text()
            .en
            .contains("below target 360 L/min"),
        "{}",
        low.triage.reason_text().en
    );
    let good = nara.readings().add(pef(380.0)).expect("stored");
    assert_eq!(good.triage.band, Band::Green);

    // A known arrhythmia: two irregular pulses in a day are noted, not a call, and the
    // default blood-pressure ranges still apply (the Goal sets none).
    let irregular = |m| NewReading {
        quality: QualityFlags {
            irregular_pulse: true,
            ..QualityFlags::GOOD
        },
        ..NewReading::manual(
            Measurement::BloodPressure {
                systolic: 150.0,
                diastolic: 88.0,
                pulse: Some(96.0),
            },
            minutes_ago(m),
            offset(),
        )
    };
    nara.readings().add(irregular(300)).expect("stored");
    let again = nara.readings().add(irregular(20)).expect("stored");
    assert_eq!(again.triage.band, Band::Yellow, "values decide: 150/88");
    assert_eq!(
        again
            .triage
            .findings
            .iter()
            .map(|f| f.action())
            .collect::<Vec<_>>(),
        vec![FindingAction::Note]
    );

    // A meter's HI with its meal context, to the region.
    let hi = nara
        .readings()
        .add(NewReading {
            off_scale: vec![OffScale {
                metric: Metric::Glucose,
                comparator: Comparator::Above,
            }],
            glucose_context: Some(GlucoseContext {
                meal: Some(MealRelation::AfterMeal),
                ..GlucoseContext::default()
            }),
            ..NewReading::manual(
                Measurement::BloodGlucose { mmol_per_l: 33.3 },
                minutes_ago(5),
                offset(),
            )
        })
        .expect("stored");
    assert_eq!(hi.triage.band, Band::Red);
    sync_finished(&nara, Duration::from_secs(120)).await;

    let url = format!(
        "{}/Observation?identifier=urn:ietf:rfc:3986|urn:uuid:{}",
        region.fhir_direct_url, hi.id
    );
    let found = resources(&fhir_json(&direct_client(), url).await);
    assert_eq!(found.len(), 1, "{found:?}");
    let obs = &found[0];
    assert_eq!(obs["subject"]["reference"], "Patient/erik-1");
    assert_eq!(obs["valueQuantity"]["comparator"], ">", "{obs}");
    assert_eq!(obs["valueQuantity"]["value"], 33.3);
    let meal = obs["component"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["code"]["coding"][0]["code"] == "8417864")
        .expect("the meal component");
    assert_eq!(meal["valueCodeableConcept"]["coding"][0]["code"], "8417872");

    // The irregular-pulse finding reached the region too.
    let url = format!(
        "{}/Observation?identifier=urn:ietf:rfc:3986|urn:uuid:{}",
        region.fhir_direct_url, again.id
    );
    let found = resources(&fhir_json(&direct_client(), url).await);
    let finding: Vec<&str> = found[0]["extension"]
        .as_array()
        .expect("extensions")
        .iter()
        .filter(|e| e["url"] == "https://nara.se/fhir/StructureDefinition/triage-finding")
        .filter_map(|e| e["valueCode"].as_str())
        .collect();
    assert_eq!(finding, vec!["irregular-pulse-known-arrhythmia"]);
}
