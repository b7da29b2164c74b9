//! The care team's changes are never missed (issue 13): a Goal or CarePlan deleted at the
//! region withdraws what it set on the phone, and one the phone cannot use is reported
//! in the sync status and read again until the care team fixes it. Against the real
//! test region; the patient `dagny-1` is used by these stories only.

use std::time::Duration;

use jiff::Timestamp;
use nara_core::Nara;
use nara_core::domain::reading::{Measurement, NewReading, ReadingKind};
use nara_core::domain::triage::{Band, ThresholdOrigin, ThresholdSet};
use nara_core::observe::{Change, Next};
use nara_core::sync::engine::{CarePlanResource, UnusableDownload, UnusableReason};
use nara_tests::region::{Region, region, sync_finished};

const USER: &str = "dagny";
const PATIENT: &str = "dagny-1";
const BUDGET: Duration = Duration::from_secs(90);

/// The stories share the patient, so they run one at a time: one story's nurse must not
/// write while the other counts what its sync applied.
static STORY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn phone(dir: &tempfile::TempDir, region: &Region) -> Nara {
    let (nara, who) = region.phone(dir.path(), "dagny", USER).await;
    assert_eq!(who, PATIENT);
    nara
}

fn origin(nara: &Nara, kind: ReadingKind) -> ThresholdOrigin {
    nara.care_plan()
        .thresholds(kind)
        .expect("thresholds")
        .rule
        .origin
}

/// 130/80 now: within the defaults' target, above this patient's (systolic ≤ 125).
fn bp_130_80(nara: &Nara) -> nara_core::domain::reading::Reading {
    nara.readings()
        .add(NewReading::manual(
            Measurement::BloodPressure {
                systolic: 130.0,
                diastolic: 80.0,
                pulse: None,
            },
            Timestamp::now(),
            jiff::tz::Offset::from_seconds(3600).expect("offset"),
        ))
        .expect("stored")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_goal_brings_back_the_defaults_and_a_deleted_care_plan_its_schedules_go() {
    let _one = STORY.lock().await;
    let region = region();
    region.nurse(&[
        "thresholds",
        PATIENT,
        "bp",
        "--systolic-green",
        "90-125",
        "--systolic-yellow",
        "80-150",
        "--diastolic-green",
        "60-85",
        "--diastolic-yellow",
        "50-100",
    ]);
    region.nurse(&[
        "schedule",
        PATIENT,
        "bp",
        "--times",
        "08:00,20:00",
        "--days",
        "14",
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = phone(&dir, region).await;
    sync_finished(&nara, BUDGET).await;
    assert_eq!(
        origin(&nara, ReadingKind::BloodPressure),
        ThresholdOrigin::CareTeam
    );
    let plan_prefix = format!("{PATIENT}-measurement-schedule/");
    let from_plan = |nara: &Nara| {
        nara.care_plan()
            .schedules()
            .expect("schedules")
            .into_iter()
            .filter(|s| s.id.starts_with(&plan_prefix))
            .count()
    };
    assert!(from_plan(&nara) >= 1, "the care team's schedule arrived");
    let before = bp_130_80(&nara);
    assert_eq!(before.triage.band, Band::Yellow);
    assert_eq!(before.triage.rule.origin, ThresholdOrigin::CareTeam);

    // The care team deletes the Goal: no search returns it any more.
    let mut changes = nara.subscribe();
    region.nurse(&["delete", PATIENT, "bp"]);
    let after_goal = sync_finished(&nara, BUDGET).await;
    assert!(after_goal.thresholds_applied >= 1, "{after_goal:?}");
    assert_eq!(
        origin(&nara, ReadingKind::BloodPressure),
        ThresholdOrigin::Default
    );
    let default_rule = ThresholdSet::default_for(ReadingKind::BloodPressure).rule;
    let published: Vec<Next> = std::iter::from_fn(|| changes.try_next()).collect();
    assert!(
        published.iter().any(|c| matches!(
            c,
            Next::Change(Change::ThresholdsChanged { kind: ReadingKind::BloodPressure, rule })
                if *rule == default_rule
        )),
        "a ThresholdsChanged with the default rule is published: {published:?}"
    );
    let after = bp_130_80(&nara);
    assert_eq!(
        after.triage.rule, default_rule,
        "a new reading uses the defaults"
    );
    assert_eq!(after.triage.band, Band::Green);
    // The reading taken before keeps the band and rule it was captured with.
    let kept = nara.readings().get(before.id).expect("get").expect("kept");
    assert_eq!(kept.triage.rule.origin, ThresholdOrigin::CareTeam);
    assert!(from_plan(&nara) >= 1, "deleting a Goal leaves the schedule");

    // The care team deletes the CarePlan: its schedules leave the phone.
    region.nurse(&["delete", PATIENT, "schedule"]);
    let after_plan = sync_finished(&nara, BUDGET).await;
    assert!(after_plan.schedules_applied >= 1, "{after_plan:?}");
    assert_eq!(
        from_plan(&nara),
        0,
        "the deleted CarePlan's schedules are gone"
    );

    // Nothing else changed: the next run withdraws nothing more.
    let quiet = sync_finished(&nara, BUDGET).await;
    assert_eq!(
        (quiet.thresholds_applied, quiet.schedules_applied),
        (0, 0),
        "{quiet:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goal_that_cannot_be_used_is_reported_retried_and_applied_once_fixed() {
    let _one = STORY.lock().await;
    let region = region();
    // Two broken Goals first, then a good one (newer): the cursor must not pass them.
    region.nurse(&[
        "thresholds",
        PATIENT,
        "glucose",
        "--glucose-green",
        "4-8",
        "--glucose-yellow",
        "3-12",
        "--malformed",
        "inverted-range",
    ]);
    region.nurse(&[
        "thresholds",
        PATIENT,
        "heart-rate",
        "--heart-rate-green",
        "50-90",
        "--heart-rate-yellow",
        "40-110",
        "--malformed",
        "unknown-code",
    ]);
    region.nurse(&[
        "thresholds",
        PATIENT,
        "temperature",
        "--temperature-green",
        "36-37.5",
        "--temperature-yellow",
        "35-38.5",
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = phone(&dir, region).await;
    sync_finished(&nara, BUDGET).await;

    let mut expected = vec![
        UnusableDownload {
            resource: CarePlanResource::Goal,
            reason: UnusableReason::BadRange,
            field: "target".into(),
        },
        UnusableDownload {
            resource: CarePlanResource::Goal,
            reason: UnusableReason::UnknownCode,
            field: "target[0].measure.coding".into(),
        },
    ];
    expected.sort_by(|a, b| a.field.cmp(&b.field));
    let unusable = |nara: &Nara| {
        let mut u = nara.region().status().expect("status").unusable;
        u.sort_by(|a, b| a.field.cmp(&b.field));
        u
    };
    assert_eq!(unusable(&nara), expected, "reported, not skipped silently");
    // The good Goal applied all the same; the broken ones left the defaults.
    assert_eq!(
        origin(&nara, ReadingKind::BodyTemperature),
        ThresholdOrigin::CareTeam
    );
    assert_eq!(
        origin(&nara, ReadingKind::BloodGlucose),
        ThresholdOrigin::Default
    );
    assert_eq!(
        origin(&nara, ReadingKind::HeartRate),
        ThresholdOrigin::Default
    );
    // The report names no patient, value or resource id.
    let status_json =
        serde_json::to_string(&nara.region().status().expect("status").unusable).expect("json");
    assert!(!status_json.contains(PATIENT), "{status_json}");

    // A later run reads them again (the cursor stopped before them): still reported.
    let again = sync_finished(&nara, BUDGET).await;
    assert_eq!(again.thresholds_applied, 0, "{again:?}");
    assert_eq!(unusable(&nara), expected, "read again, still unusable");

    // The care team fixes both (new versions): they apply and the report clears.
    region.nurse(&[
        "thresholds",
        PATIENT,
        "glucose",
        "--glucose-green",
        "4-8",
        "--glucose-yellow",
        "3-12",
    ]);
    region.nurse(&[
        "thresholds",
        PATIENT,
        "heart-rate",
        "--heart-rate-green",
        "50-90",
        "--heart-rate-yellow",
        "40-110",
    ]);
    let fixed = sync_finished(&nara, BUDGET).await;
    assert!(fixed.thresholds_applied >= 2, "{fixed:?}");
    assert_eq!(
        unusable(&nara),
        vec![],
        "a usable version clears the report"
    );
    assert_eq!(
        origin(&nara, ReadingKind::BloodGlucose),
        ThresholdOrigin::CareTeam
    );
    assert_eq!(
        origin(&nara, ReadingKind::HeartRate),
        ThresholdOrigin::CareTeam
    );
    let glucose = nara
        .care_plan()
        .thresholds(ReadingKind::BloodGlucose)
        .expect("thresholds");
    assert_eq!(glucose.metrics[0].bands.green.low, Some(4.0));
}
