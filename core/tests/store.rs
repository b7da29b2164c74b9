//! Stories about the encrypted store: opening, keys, recovery, migrations, capture.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp, tz::Offset};
use nara_core::domain::reading::{Measurement, NewReading, QualityFlags, ReadingKind, Source};
use nara_core::domain::triage::{
    Band, Bands, MetricThreshold, Range, RuleVersion, ThresholdOrigin, ThresholdSet,
};
use nara_core::store::StoreError;
use nara_core::store::migrations;
use nara_core::{
    Change, FileKeyProvider, KeyProvider, Nara, NaraError, Next, PassphraseKeyProvider,
    QuarantineReason, ReadingFilter,
};
use rusqlite::Connection;

fn keys(dir: &tempfile::TempDir) -> Arc<dyn KeyProvider> {
    Arc::new(FileKeyProvider::new(dir.path().join("device.key")))
}

fn now() -> Timestamp {
    Timestamp::now()
}

fn bp(s: f64, d: f64, at: Timestamp) -> NewReading {
    NewReading::manual(
        Measurement::BloodPressure {
            systolic: s,
            diastolic: d,
            pulse: Some(70.0),
        },
        at,
        Offset::from_hours(1).expect("offset"),
    )
}

#[test]
fn a_reading_is_captured_triaged_and_read_back() {
    let (data, k) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let nara = Nara::open(data.path(), keys(&k)).expect("open");
    assert!(nara.open_report().created);
    let mut r = bp(142.0, 91.0, now() - SignedDuration::from_mins(1));
    r.note = Some("  efter promenad  ".into());
    let saved = nara.readings().add(r).expect("add");
    assert_eq!(saved.triage.band, Band::Yellow);
    assert_eq!(saved.note.as_deref(), Some("efter promenad"));
    let back = nara
        .readings()
        .get(saved.id)
        .expect("get")
        .expect("present");
    assert_eq!(back, saved);
    assert_eq!(nara.pending_uploads().expect("pending"), 1);
}

#[test]
fn invalid_input_gets_typed_field_errors_and_stores_nothing() {
    let (data, k) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let nara = Nara::open(data.path(), keys(&k)).expect("open");
    let err = nara
        .readings()
        .add(bp(400.0, 90.0, now()))
        .expect_err("invalid");
    assert!(matches!(err, NaraError::Invalid(_)));
    assert_eq!(err.field_errors().len(), 1);
    assert!(
        !err.to_string().contains("400"),
        "error echoes the value: {err}"
    );
    assert_eq!(nara.readings().count().expect("count"), 0);
}

#[test]
fn a_correction_supersedes_and_history_is_kept() {
    let (data, k) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let nara = Nara::open(data.path(), keys(&k)).expect("open");
    let at = now() - SignedDuration::from_mins(5);
    let typo = nara.readings().add(bp(214.0, 88.0, at)).expect("add");
    assert_eq!(typo.triage.band, Band::Red);
    let fixed = nara
        .readings()
        .correct(typo.id, bp(124.0, 78.0, at))
        .expect("correct");
    assert_eq!(fixed.supersedes, Some(typo.id));
    let visible = nara
        .readings()
        .list(&ReadingFilter::default())
        .expect("list");
    assert_eq!(
        visible.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![fixed.id]
    );
    let all = nara
        .readings()
        .list(&ReadingFilter {
            include_superseded: true,
            ..Default::default()
        })
        .expect("list");
    assert_eq!(all.len(), 2);
    let old = nara.readings().get(typo.id).expect("get").expect("kept");
    assert_eq!(old.superseded_by, Some(fixed.id));
    assert!(matches!(
        nara.readings().correct(typo.id, bp(125.0, 78.0, at)),
        Err(NaraError::AlreadySuperseded)
    ));
}

#[test]
fn a_device_reimport_adds_nothing() {
    let (data, k) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let nara = Nara::open(data.path(), keys(&k)).expect("open");
    let batch: Vec<NewReading> = (0..50)
        .map(|i| {
            let mut r = bp(
                120.0 + f64::from(i % 20),
                80.0,
                now() - SignedDuration::from_hours(i64::from(i)),
            );
            r.source = Source::Device {
                device_id: "cuff-A1".into(),
                model: Some("Omron".into()),
                record_key: Some(format!("seq-{i}")),
            };
            r
        })
        .collect();
    let mut seen = Vec::new();
    let first = nara
        .readings()
        .import(batch.clone(), |d, t| seen.push((d, t)))
        .expect("import");
    assert_eq!((first.inserted, first.duplicates), (50, 0));
    assert_eq!(seen.last(), Some(&(50, 50)));
    let again = nara.readings().import(batch, |_, _| {}).expect("re-import");
    assert_eq!((again.inserted, again.duplicates), (0, 50));
    assert_eq!(nara.readings().count().expect("count"), 50);
    assert_eq!(nara.pending_uploads().expect("pending"), 50);
}

#[test]
fn an_invalid_reading_in_a_batch_rejects_the_batch() {
    let (data, k) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let nara = Nara::open(data.path(), keys(&k)).expect("open");
    let batch = vec![bp(120.0, 80.0, now()), bp(20.0, 80.0, now())];
    let err = nara
        .readings()
        .import(batch, |_, _| {})
        .expect_err("invalid");
    assert!(matches!(err, NaraError::InvalidInBatch { index: 1, .. }));
    assert_eq!(nara.readings().count().expect("count"), 0);
}

#[test]
fn care_team_thresholds_apply_to_new_readings_only() {
    let (data, k) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let nara = Nara::open(data.path(), keys(&k)).expect("open");
    let before = nara.readings().add(bp(145.0, 80.0, now())).expect("add");
    assert_eq!(before.triage.band, Band::Yellow);
    nara.care_plan()
        .set_thresholds(ThresholdSet {
            kind: ReadingKind::BloodPressure,
            rule: RuleVersion {
                origin: ThresholdOrigin::CareTeam,
                version: 2,
            },
            metrics: vec![MetricThreshold {
                metric: nara_core::domain::reading::Metric::Systolic,
                bands: Bands::new(Range::between(110.0, 150.0), Range::between(95.0, 170.0)),
            }],
            weight_gain: vec![],
            personal_best: None,
            known_arrhythmia: false,
        })
        .expect("set");
    let after = nara.readings().add(bp(145.0, 80.0, now())).expect("add");
    assert_eq!(after.triage.band, Band::Green);
    assert_eq!(after.triage.rule.to_string(), "careteam-v2");
    let old = nara.readings().get(before.id).expect("get").expect("kept");
    assert_eq!(old.triage.rule.to_string(), "default-v1");
    assert_eq!(old.triage.band, Band::Yellow);
}

#[test]
fn subscribers_see_captures_and_threshold_changes() {
    let (data, k) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let nara = Nara::open(data.path(), keys(&k)).expect("open");
    let mut sub = nara.subscribe();
    assert_eq!(sub.try_next(), None);
    let mut poor = bp(190.0, 95.0, now());
    poor.quality = QualityFlags {
        cuff_fit_poor: true,
        ..QualityFlags::GOOD
    };
    let r = nara.readings().add(poor).expect("add");
    assert_eq!(
        sub.try_next(),
        Some(Next::Change(Change::ReadingAdded {
            id: r.id,
            kind: ReadingKind::BloodPressure,
            band: Band::MeasureAgain
        }))
    );
    drop(sub);
    // Publishing with no subscriber is fine.
    nara.readings().add(bp(120.0, 80.0, now())).expect("add");
}

#[test]
fn the_store_reopens_with_its_key_and_refuses_a_wrong_one() {
    let data = tempfile::tempdir().expect("dir");
    let right: Arc<dyn KeyProvider> =
        Arc::new(PassphraseKeyProvider::with_iterations("rätt", 1000));
    let id = {
        let nara = Nara::open(data.path(), right.clone()).expect("open");
        nara.readings().add(bp(130.0, 80.0, now())).expect("add").id
    };
    let db_before = std::fs::read(data.path().join("nara.db")).expect("db");
    let wrong: Arc<dyn KeyProvider> = Arc::new(PassphraseKeyProvider::with_iterations("fel", 1000));
    let err = Nara::open(data.path(), wrong).expect_err("wrong key");
    assert!(
        matches!(err, NaraError::Store(StoreError::WrongKey)),
        "{err:?}"
    );
    assert_eq!(
        std::fs::read(data.path().join("nara.db")).expect("db"),
        db_before
    );
    let nara = Nara::open(data.path(), right).expect("reopen");
    assert!(nara.readings().get(id).expect("get").is_some());
    assert!(nara.open_report().quarantined.is_none());
}

#[test]
fn a_lost_platform_key_is_a_typed_error_then_the_database_moves_aside() {
    let (data, k) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    {
        let nara = Nara::open(data.path(), keys(&k)).expect("open");
        nara.readings().add(bp(130.0, 80.0, now())).expect("add");
    }
    std::fs::remove_file(k.path().join("device.key")).expect("lose key");
    let db_before = std::fs::read(data.path().join("nara.db")).expect("db");
    let err = Nara::open(data.path(), keys(&k)).expect_err("key lost");
    assert!(
        matches!(err, NaraError::Store(StoreError::KeyLost)),
        "{err:?}"
    );
    assert_eq!(
        std::fs::read(data.path().join("nara.db")).expect("untouched"),
        db_before
    );
    let nara = Nara::open_after_key_loss(data.path(), keys(&k)).expect("open fresh");
    let q = nara.open_report().quarantined.clone().expect("quarantined");
    assert_eq!(q.reason, QuarantineReason::KeyLost);
    assert!(q.path.join("nara.db").exists(), "old database kept");
    assert!(
        q.path.join("datakey.wrapped").exists(),
        "old wrapped key kept"
    );
    assert_eq!(nara.readings().count().expect("count"), 0);
}

#[test]
fn a_corrupt_database_is_moved_aside_not_deleted() {
    let (data, k) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    {
        let nara = Nara::open(data.path(), keys(&k)).expect("open");
        nara.readings().add(bp(130.0, 80.0, now())).expect("add");
    }
    let garbage = vec![0xA5u8; 8192];
    std::fs::write(data.path().join("nara.db"), &garbage).expect("corrupt");
    let _ = std::fs::remove_file(data.path().join("nara.db-wal"));
    let _ = std::fs::remove_file(data.path().join("nara.db-shm"));
    let nara = Nara::open(data.path(), keys(&k)).expect("open fresh");
    let q = nara.open_report().quarantined.clone().expect("quarantined");
    assert_eq!(q.reason, QuarantineReason::Corrupt);
    assert_eq!(
        std::fs::read(q.path.join("nara.db")).expect("kept"),
        garbage
    );
    assert!(nara.integrity_ok().expect("check"));
}

fn schema(conn: &Connection) -> Vec<(String, String, String)> {
    let mut stmt = conn
        .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
        .expect("prepare");
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get::<_, Option<String>>(2)?.unwrap_or_default(),
        ))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

#[test]
fn a_frozen_v1_database_upgrades_to_the_fresh_schema_with_its_data() {
    let (data, k) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    // A v1 database written by an earlier Nära, holding one reading.
    let id = {
        let nara = Nara::open(data.path(), keys(&k)).expect("open");
        nara.readings().add(bp(128.0, 82.0, now())).expect("add").id
    };
    {
        let old = tempfile::tempdir().expect("dir");
        let v1 = old.path().join("v1.db");
        let c = Connection::open(&v1).expect("v1");
        c.execute_batch(include_str!("schemas/v1.sql"))
            .expect("frozen schema");
        c.pragma_update(None, "user_version", 1).expect("version");
        // Copy the real rows (sealed) into the frozen v1 layout.
        c.execute(
            "ATTACH ?1 AS cur",
            [data.path().join("nara.db").to_string_lossy()],
        )
        .expect("attach");
        c.execute_batch(
            "INSERT INTO meta SELECT * FROM cur.meta;
             INSERT INTO readings SELECT * FROM cur.readings;
             DETACH cur;",
        )
        .expect("copy");
        drop(c);
        for f in ["nara.db", "nara.db-wal", "nara.db-shm"] {
            let _ = std::fs::remove_file(data.path().join(f));
        }
        std::fs::copy(&v1, data.path().join("nara.db")).expect("install v1");
    }
    let nara = Nara::open(data.path(), keys(&k)).expect("upgrade");
    assert_eq!(nara.open_report().migrated_from, 1);
    assert!(
        nara.readings().get(id).expect("get").is_some(),
        "data survives the upgrade"
    );
    drop(nara);

    let fresh_dir = tempfile::tempdir().expect("dir");
    let mut fresh = Connection::open(fresh_dir.path().join("f.db")).expect("fresh");
    migrations::migrate(&mut fresh).expect("migrate");
    let upgraded = Connection::open(data.path().join("nara.db")).expect("upgraded");
    assert_eq!(schema(&upgraded), schema(&fresh));
    assert_eq!(
        migrations::version(&upgraded).expect("v"),
        migrations::CURRENT_VERSION
    );
}

#[test]
fn a_database_from_a_newer_app_is_left_alone() {
    let (data, k) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    drop(Nara::open(data.path(), keys(&k)).expect("open"));
    {
        let c = Connection::open(data.path().join("nara.db")).expect("db");
        c.pragma_update(None, "user_version", 99).expect("bump");
    }
    let err = Nara::open(data.path(), keys(&k)).expect_err("too new");
    assert!(
        matches!(err, NaraError::Store(StoreError::TooNew)),
        "{err:?}"
    );
}

#[test]
fn nara_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Nara>();
}

#[test]
fn adherence_so_far_counts_a_finished_week_of_twice_daily_readings() {
    use nara_core::domain::schedule::MeasurementSchedule;
    let (data, k) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    // A week from Tuesday 2026-11-17 in Stockholm (UTC+1), looked at the Tuesday after.
    let now: Timestamp = "2026-11-24T09:00:00+01:00".parse().expect("time");
    let nara = Nara::open_with_clock(data.path(), keys(&k), Arc::new(move || now)).expect("open");
    let start = jiff::civil::date(2026, 11, 17);
    nara.care_plan()
        .set_schedule(MeasurementSchedule::twice_daily(
            "bp-week",
            ReadingKind::BloodPressure,
            start,
            Some(7),
            "Europe/Stockholm",
        ))
        .expect("schedule");
    for day in 0..7i64 {
        for hour in [8i64, 20] {
            if day == 4 && hour == 20 {
                continue; // missed Saturday evening
            }
            let at: Timestamp = "2026-11-17T00:05:00+01:00".parse().expect("time");
            let at = at + SignedDuration::from_hours(day * 24 + hour);
            let mut reading = bp(125.0, 80.0, at);
            // Tuesday morning the cuff was loose, Thursday evening the pulse irregular:
            // both were measured, so both count as done (ADR 0013).
            reading.quality.cuff_fit_poor = day == 0 && hour == 8;
            reading.quality.irregular_pulse = day == 2 && hour == 20;
            nara.readings().add(reading).expect("add");
        }
    }
    let a = nara
        .care_plan()
        .adherence_so_far("bp-week")
        .expect("adherence");
    assert_eq!((a.done, a.missed, a.scheduled), (13, 1, 14));
}
