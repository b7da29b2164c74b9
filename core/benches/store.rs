//! Store benchmarks, each beside its bare-rusqlite counterpart with the same durability
//! (WAL, `synchronous = FULL`) and a plaintext table. Budgets: DESIGN.md §7; results:
//! docs/benchmarks.md. Run: `cargo bench -p nara-core --bench store`.

#![allow(missing_docs)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jiff::tz::Offset;
use jiff::{SignedDuration, Timestamp};
use nara_core::domain::reading::{Measurement, NewReading, ReadingKind};
use nara_core::{FileKeyProvider, Nara};
use rusqlite::{Connection, params};
use tempfile::TempDir;

const YEARS_10_DAYS: i64 = 3652;

fn end_of_range() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().expect("valid timestamp")
}

fn open_nara(dir: &Path) -> Nara {
    let end = end_of_range();
    Nara::open_with_clock(
        &dir.join("data"),
        Arc::new(FileKeyProvider::new(dir.join("kek"))),
        Arc::new(move || end),
    )
    .expect("open nara")
}

fn bare_open(dir: &Path) -> Connection {
    let conn = Connection::open(dir.join("bare.db")).expect("open bare");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous");
    conn
}

fn bare_create(dir: &Path) -> Connection {
    let conn = bare_open(dir);
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS readings (id TEXT PRIMARY KEY, kind TEXT NOT NULL, \
         at INTEGER NOT NULL, value REAL NOT NULL, note TEXT);
         CREATE INDEX IF NOT EXISTS readings_by_kind_at ON readings (kind, at);",
    )
    .expect("bare schema");
    conn
}

fn bp(i: u64, at: Timestamp) -> NewReading {
    let mut r = NewReading::manual(
        Measurement::BloodPressure {
            systolic: 110.0 + (i % 50) as f64,
            diastolic: 70.0 + (i % 20) as f64,
            pulse: Some(60.0 + (i % 30) as f64),
        },
        at,
        Offset::UTC,
    );
    if i % 10 == 0 {
        r.note = Some(format!("after walk {i}"));
    }
    r
}

/// (id, kind, at, value, note) rows of the bare table for the same readings. The id is a
/// random UUID, as a client id is, generated before timing starts.
type BareRow = (String, String, i64, f64, Option<String>);

fn bare_row(r: &NewReading) -> BareRow {
    let value = r.measurement.values().first().map_or(0.0, |(_, v)| *v);
    (
        uuid::Uuid::new_v4().to_string(),
        r.measurement.kind().short_name().to_owned(),
        r.effective_at.as_second(),
        value,
        r.note.clone(),
    )
}

fn bare_insert(conn: &Connection, rows: &[BareRow]) {
    let tx = conn.unchecked_transaction().expect("tx");
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO readings (id, kind, at, value, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .expect("prepare");
        for (id, kind, at, value, note) in rows {
            stmt.execute(params![id, kind, at, value, note])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

/// 10 years of twice-daily blood pressure (≈7,300) plus daily weight and glucose.
fn ten_years() -> Vec<NewReading> {
    let end = end_of_range();
    let start = end - SignedDuration::from_hours(24 * YEARS_10_DAYS);
    let mut out = Vec::new();
    for day in 0..YEARS_10_DAYS {
        let morning = start + SignedDuration::from_hours(24 * day + 7);
        let i = day as u64;
        out.push(bp(2 * i, morning));
        out.push(bp(2 * i + 1, morning + SignedDuration::from_hours(12)));
        out.push(NewReading::manual(
            Measurement::BodyWeight {
                kg: 80.0 + (i % 7) as f64 / 10.0,
            },
            morning + SignedDuration::from_mins(5),
            Offset::UTC,
        ));
        out.push(NewReading::manual(
            Measurement::BloodGlucose {
                mmol_per_l: 5.0 + (i % 9) as f64 / 10.0,
            },
            morning + SignedDuration::from_mins(10),
            Offset::UTC,
        ));
    }
    out
}

fn save_one(c: &mut Criterion) {
    let mut g = c.benchmark_group("save_one");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    let tmp = TempDir::new().expect("temp dir");
    let nara = open_nara(tmp.path());
    let at = end_of_range() - SignedDuration::from_hours(1);
    let mut i = 0u64;
    g.bench_function("nara", |b| {
        b.iter(|| {
            i += 1;
            nara.readings().add(bp(i, at)).expect("add")
        })
    });
    let conn = bare_create(tmp.path());
    let mut stmt = conn
        .prepare("INSERT INTO readings (id, kind, at, value, note) VALUES (?1, ?2, ?3, ?4, ?5)")
        .expect("prepare");
    let mut n = 0u64;
    g.bench_function("bare_rusqlite", |b| {
        b.iter(|| {
            n += 1;
            let (id, kind, at, value, note) = bare_row(&bp(n, at));
            stmt.execute(params![id, kind, at, value, note])
                .expect("insert")
        })
    });
    g.finish();
}

fn import_100k(c: &mut Criterion) {
    const N: u64 = 100_000;
    let end = end_of_range();
    let batch: Vec<NewReading> = (0..N)
        .map(|i| bp(i, end - SignedDuration::from_mins(5 * (N - i) as i64)))
        .collect();
    let rows: Vec<BareRow> = batch.iter().map(bare_row).collect();
    let mut g = c.benchmark_group("import_100k");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(16))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("nara", |b| {
        b.iter_batched(
            || {
                let tmp = TempDir::new().expect("temp dir");
                let nara = open_nara(tmp.path());
                (tmp, nara, batch.clone())
            },
            |(tmp, nara, batch)| {
                let report = nara.readings().import(batch, |_, _| {}).expect("import");
                assert_eq!(report.inserted, N);
                (tmp, nara)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("bare_rusqlite", |b| {
        b.iter_batched(
            || {
                let tmp = TempDir::new().expect("temp dir");
                let conn = bare_create(tmp.path());
                (tmp, conn)
            },
            |(tmp, conn)| {
                bare_insert(&conn, &rows);
                (tmp, conn)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn trend_and_open(c: &mut Criterion) {
    let tmp = TempDir::new().expect("temp dir");
    let data = ten_years();
    {
        let nara = open_nara(tmp.path());
        nara.readings()
            .import(data.clone(), |_, _| {})
            .expect("import 10 years");
    }
    {
        let conn = bare_create(tmp.path());
        let rows: Vec<BareRow> = data.iter().map(bare_row).collect();
        bare_insert(&conn, &rows);
    }
    let bp_kind = ReadingKind::BloodPressure.short_name();
    let since = (end_of_range() - SignedDuration::from_hours(24 * 90)).as_second();

    let mut g = c.benchmark_group("trend_90d_over_10y");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    let nara = open_nara(tmp.path());
    g.bench_function("nara", |b| {
        b.iter(|| {
            let s = nara
                .trends()
                .summary(ReadingKind::BloodPressure, 90)
                .expect("summary");
            assert!(s.count >= 178);
            s
        })
    });
    drop(nara);
    let conn = bare_open(tmp.path());
    g.bench_function("bare_rusqlite", |b| {
        b.iter(|| {
            conn.prepare_cached(
                "SELECT avg(value), min(value), max(value), count(*) FROM readings WHERE kind = ?1 AND at >= ?2",
            )
            .expect("prepare")
            .query_row(params![bp_kind, since], |r| {
                Ok((r.get::<_, f64>(0)?, r.get::<_, f64>(1)?, r.get::<_, f64>(2)?, r.get::<_, i64>(3)?))
            })
            .expect("query")
        })
    });
    drop(conn);
    g.finish();

    let mut g = c.benchmark_group("open_10y");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("nara", |b| b.iter_with_large_drop(|| open_nara(tmp.path())));
    g.bench_function("bare_rusqlite", |b| {
        b.iter_with_large_drop(|| {
            let conn = bare_open(tmp.path());
            let one: i64 = conn
                .query_row(
                    "SELECT at FROM readings WHERE rowid = (SELECT max(rowid) FROM readings)",
                    [],
                    |r| r.get(0),
                )
                .expect("one row");
            (conn, one)
        })
    });
    g.finish();
}

criterion_group!(benches, save_one, import_100k, trend_and_open);
criterion_main!(benches);
