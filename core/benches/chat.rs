//! Chat benchmarks: open a thread of 10,000 messages at its newest page, and page through
//! all of it, each beside the bare SQL on a plaintext table in the same run (WAL,
//! `synchronous = FULL`). Results: docs/benchmarks.md.
//! Run: `cargo bench -p nara-core --bench chat`.

#![allow(missing_docs)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use nara_core::domain::chat::{Author, Message, NewMessage, Thread};
use nara_core::{FileKeyProvider, Nara};
use rusqlite::{Connection, params};
use tempfile::TempDir;

const MESSAGES: usize = 10_000;
const PAGE: usize = 50;
const THREAD: &str = "thread-bench";

fn start() -> Timestamp {
    "2025-01-01T00:00:00Z".parse().expect("valid timestamp")
}

fn text(i: usize) -> String {
    format!(
        "Meddelande {i}: hej, jag har mätt blodtrycket morgon och kväll och undrar om \
         värdena ser rimliga ut, särskilt efter att dosen ändrades förra veckan."
    )
}

fn open_nara(dir: &Path) -> Nara {
    let now = start() + SignedDuration::from_hours(24 * 400);
    Nara::open_with_clock(
        &dir.join("data"),
        Arc::new(FileKeyProvider::new(dir.join("kek"))),
        Arc::new(move || now),
    )
    .expect("open nara")
}

fn fill_nara(nara: &Nara) {
    nara.chat()
        .upsert_thread(Thread {
            id: THREAD.into(),
            title: "Frågor om blodtryck".into(),
            unit_name: "Hjärtmottagningen".into(),
            expected_reply: None,
            notice: None,
            closed: None,
            updated_at: start(),
        })
        .expect("thread");
    for i in 0..MESSAGES {
        if i % 2 == 0 {
            nara.chat()
                .compose(NewMessage {
                    thread_id: THREAD.into(),
                    text: text(i),
                    photos: vec![],
                    in_reply_to: None,
                })
                .expect("compose");
        } else {
            nara.chat()
                .store_incoming(Message {
                    id: format!("unit-{i}"),
                    thread_id: THREAD.into(),
                    author: Author::CareUnit,
                    text: text(i),
                    photos: vec![],
                    written_at: start() + SignedDuration::from_mins(i as i64),
                    delivery: None,
                    read_at: None,
                    in_reply_to: None,
                })
                .expect("incoming");
        }
    }
}

fn bare_open(dir: &Path) -> Connection {
    let conn = Connection::open(dir.join("bare.db")).expect("open bare");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous");
    conn
}

fn fill_bare(dir: &Path) {
    let conn = bare_open(dir);
    conn.execute_batch(
        "CREATE TABLE messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, \
         thread_id TEXT NOT NULL, author INTEGER NOT NULL, text TEXT NOT NULL, \
         written_at INTEGER NOT NULL, delivery INTEGER, read_at INTEGER);
         CREATE INDEX messages_by_thread ON messages (thread_id, seq);",
    )
    .expect("bare schema");
    let tx = conn.unchecked_transaction().expect("tx");
    for i in 0..MESSAGES {
        tx.execute(
            "INSERT INTO messages (id, thread_id, author, text, written_at, delivery) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                uuid::Uuid::new_v4().to_string(),
                THREAD,
                (i % 2) as i64,
                text(i),
                (start() + SignedDuration::from_mins(i as i64)).as_second(),
                (i % 2 == 0).then_some(0i64)
            ],
        )
        .expect("insert");
    }
    tx.commit().expect("commit");
}

type BareRow = (i64, String, i64, String, i64, Option<i64>, Option<i64>);

/// One page with `seq < before`, newest first, read into owned rows.
fn bare_page(conn: &Connection, before: i64) -> Vec<BareRow> {
    conn.prepare_cached(
        "SELECT seq, id, author, text, written_at, delivery, read_at FROM messages \
         WHERE thread_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
    )
    .expect("prepare")
    .query_map(params![THREAD, before, PAGE as i64], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    })
    .expect("query")
    .collect::<Result<Vec<_>, _>>()
    .expect("rows")
}

fn thread_10k(c: &mut Criterion) {
    let tmp = TempDir::new().expect("temp dir");
    {
        let nara = open_nara(tmp.path());
        fill_nara(&nara);
    }
    fill_bare(tmp.path());
    let nara = open_nara(tmp.path());
    let conn = bare_open(tmp.path());

    let mut g = c.benchmark_group("chat_newest_page_10k");
    g.sample_size(50)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("nara", |b| {
        b.iter(|| {
            let page = nara.chat().page(THREAD, None, PAGE).expect("page");
            assert_eq!(page.messages.len(), PAGE);
            page
        })
    });
    g.bench_function("bare_rusqlite", |b| {
        b.iter(|| {
            let rows = bare_page(&conn, i64::MAX);
            assert_eq!(rows.len(), PAGE);
            rows
        })
    });
    g.finish();

    let mut g = c.benchmark_group("chat_page_through_10k");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("nara", |b| {
        b.iter(|| {
            let (mut seen, mut before) = (0, None);
            loop {
                let page = nara.chat().page(THREAD, before, PAGE).expect("page");
                seen += page.messages.len();
                match page.next {
                    Some(next) => before = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen, MESSAGES);
            seen
        })
    });
    g.bench_function("bare_rusqlite", |b| {
        b.iter(|| {
            let (mut seen, mut before) = (0, i64::MAX);
            loop {
                let rows = bare_page(&conn, before);
                seen += rows.len();
                match rows.last() {
                    Some(last) if rows.len() == PAGE => before = last.0,
                    _ => break,
                }
            }
            assert_eq!(seen, MESSAGES);
            seen
        })
    });
    g.finish();
}

criterion_group!(benches, thread_10k);
criterion_main!(benches);
