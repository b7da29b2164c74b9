//! Outbox scheduling and sealed sync metadata.
//!
//! The outbox row of a change is written in the change's own transaction
//! ([`crate::store::readings::insert_sealed`]); this module claims due rows for upload,
//! deletes them when the server has the change, reschedules them after a transient
//! failure and marks them failed (kept, with an error code) when the server rejects
//! them. `sync_meta` holds the login and cursors, each value sealed with AAD
//! `sync_meta|value|<key>`.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use zeroize::Zeroizing;

use crate::domain::reading::{Reading, ReadingId};
use crate::store::StoreError;
use crate::store::crypto::Cipher;
use crate::store::readings;

/// Outbox states.
const PENDING: i64 = 0;
const FAILED: i64 = 2;

/// A local change waiting for upload.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// The outbox key (the reading's local row number).
    pub seq: i64,
    /// Upload attempts so far.
    pub attempts: u32,
    /// The reading.
    pub reading: Reading,
}

/// Up to `limit` pending readings due at `now` (unix seconds), oldest change first.
pub fn due(
    conn: &Connection,
    cipher: &Cipher,
    now: i64,
    limit: usize,
) -> Result<Vec<OutboxItem>, StoreError> {
    // One query for the batch: the readings' own columns, then the outbox key and
    // attempts (after the columns `readings::decode` reads).
    let sql = format!(
        "{} JOIN outbox o ON o.entity = 'reading' AND o.entity_seq = r.seq
         WHERE o.state = ?1 AND o.next_attempt_at <= ?2
         ORDER BY o.entity_seq LIMIT ?3",
        readings::SELECT.replacen(
            " FROM readings r",
            ", o.entity_seq, o.attempts FROM readings r",
            1
        )
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![PENDING, now, limit as i64])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let (reading, _week) = readings::decode(cipher, row)?;
        let seq: i64 = row.get(7)?;
        let attempts: i64 = row.get(8)?;
        out.push(OutboxItem {
            seq,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            reading,
        });
    }
    Ok(out)
}

/// The earliest time (unix seconds) a pending row becomes due, if any is pending.
pub fn next_due(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn.query_row(
        "SELECT min(next_attempt_at) FROM outbox WHERE state = ?1",
        [PENDING],
        |r| r.get(0),
    )?)
}

/// What an outbox row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    /// A reading to create on the server.
    Reading,
    /// The withdrawal of a reading that a correction replaced (keyed by the
    /// correction's row).
    Retraction,
    /// A patient's chat message (keyed by its message row).
    Message,
    /// A photo of a patient's message (keyed by its photo row).
    Photo,
    /// A read receipt for a unit message (keyed by that message's row).
    Receipt,
    /// The opened receipt of an appointment notice (keyed by the notice's row).
    NoticeOpened,
    /// An answer to a notice (keyed by the answer's row).
    NoticeAnswer,
    /// A submitted form (keyed by the response's row).
    FormResponse,
}

impl Entity {
    fn as_str(self) -> &'static str {
        match self {
            Entity::Reading => "reading",
            Entity::Retraction => "retraction",
            Entity::Message => "message",
            Entity::Photo => "photo",
            Entity::Receipt => "receipt",
            Entity::NoticeOpened => "notice_opened",
            Entity::NoticeAnswer => "notice_answer",
            Entity::FormResponse => "form_response",
        }
    }

    fn parse(s: &str) -> Option<Entity> {
        [
            Entity::Reading,
            Entity::Retraction,
            Entity::Message,
            Entity::Photo,
            Entity::Receipt,
            Entity::NoticeOpened,
            Entity::NoticeAnswer,
            Entity::FormResponse,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }
}

/// A withdrawal to send: the replaced reading, and the correction that replaced it.
#[derive(Debug, Clone, PartialEq)]
pub struct RetractionItem {
    /// The outbox key (the correction's local row number).
    pub seq: i64,
    /// The reading that was replaced.
    pub old: Reading,
    /// The correction's id.
    pub replaced_by: ReadingId,
}

/// Up to `limit` withdrawals whose correction and replaced reading are both on the
/// server already (so the withdrawal goes in a later Bundle than either create).
pub fn due_retractions(
    conn: &Connection,
    cipher: &Cipher,
    limit: usize,
) -> Result<Vec<RetractionItem>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.entity_seq, n.id, n.supersedes FROM outbox o
         JOIN readings n ON n.seq = o.entity_seq
         JOIN readings old ON old.id = n.supersedes
         WHERE o.entity = 'retraction' AND o.state = ?1
           AND NOT EXISTS (SELECT 1 FROM outbox x WHERE x.entity = 'reading'
                           AND x.entity_seq IN (n.seq, old.seq))
         ORDER BY o.entity_seq LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![PENDING, limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (seq, new_id, old_id) in rows {
        let parse = |s: &str| ReadingId::parse(s).ok_or(StoreError::Decode);
        let old = readings::get(conn, cipher, parse(&old_id)?)?.ok_or(StoreError::Decode)?;
        out.push(RetractionItem {
            seq,
            old,
            replaced_by: parse(&new_id)?,
        });
    }
    Ok(out)
}

/// The server has these changes: drop them from the outbox.
pub fn done(tx: &Transaction<'_>, entity: Entity, seqs: &[i64]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached("DELETE FROM outbox WHERE entity = ?1 AND entity_seq = ?2")?;
    for seq in seqs {
        stmt.execute(params![entity.as_str(), seq])?;
    }
    Ok(())
}

/// A transient failure: try again at `next_at` (unix seconds).
pub fn retry_later(
    tx: &Transaction<'_>,
    entity: Entity,
    seqs: &[i64],
    next_at: i64,
) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?3
         WHERE entity = ?1 AND entity_seq = ?2",
    )?;
    for seq in seqs {
        stmt.execute(params![entity.as_str(), seq, next_at])?;
    }
    Ok(())
}

/// The server rejected this change: keep it, marked with `error` (a code, no content).
pub fn fail(tx: &Transaction<'_>, entity: Entity, seq: i64, error: &str) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE outbox SET state = ?3, attempts = attempts + 1, error = ?4
         WHERE entity = ?1 AND entity_seq = ?2",
    )?
    .execute(params![entity.as_str(), seq, FAILED, error])?;
    Ok(())
}

/// A change the server rejected: what it was, the local id it is reported under, and
/// the error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRow {
    /// What kind of change.
    pub entity: Entity,
    /// The id the patient or support can find it by: the reading's id (for a refused
    /// withdrawal, the correction's id), the message's client id, the photo's id, or
    /// for a read receipt the id of the unit's message it acknowledges.
    pub id: String,
    /// A code for the reason (`http_422`, `mapping`), never content.
    pub error: String,
}

/// Every change the server rejected, in the order they were made, kind by kind.
pub fn failed(conn: &Connection) -> Result<Vec<FailedRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.entity, coalesce(r.id, m.id, p.id, n.id, a.id, f.id), coalesce(o.error, '')
         FROM outbox o
         LEFT JOIN readings r ON o.entity IN ('reading', 'retraction') AND r.seq = o.entity_seq
         LEFT JOIN messages m ON o.entity IN ('message', 'receipt') AND m.seq = o.entity_seq
         LEFT JOIN photos p ON o.entity = 'photo' AND p.seq = o.entity_seq
         LEFT JOIN notices n ON o.entity = 'notice_opened' AND n.seq = o.entity_seq
         LEFT JOIN notice_answers a ON o.entity = 'notice_answer' AND a.seq = o.entity_seq
         LEFT JOIN form_responses f ON o.entity = 'form_response' AND f.seq = o.entity_seq
         WHERE o.state = ?1
         ORDER BY o.entity_seq, o.entity",
    )?;
    let rows = stmt
        .query_map([FAILED], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(entity, id, error)| {
            Ok(FailedRow {
                entity: Entity::parse(&entity).ok_or(StoreError::Decode)?,
                id: id.ok_or(StoreError::Decode)?,
                error,
            })
        })
        .collect()
}

/// Puts rejected changes back in the queue (after the patient or support fixed the
/// cause, or a new app version maps them differently).
pub fn retry_failed(tx: &Transaction<'_>) -> Result<usize, StoreError> {
    Ok(tx.execute(
        "UPDATE outbox SET state = ?1, next_attempt_at = 0, error = NULL WHERE state = ?2",
        params![PENDING, FAILED],
    )?)
}

/// Whether reading `id` still waits for upload (pending or failed).
pub fn is_pending(conn: &Connection, id: ReadingId) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM outbox o JOIN readings r ON r.seq = o.entity_seq
             WHERE o.entity = 'reading' AND r.id = ?1",
            [id.to_string()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// A sealed sync value.
pub fn meta_get(
    conn: &Connection,
    cipher: &Cipher,
    key: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
    let sealed: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM sync_meta WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?;
    match sealed {
        Some(s) => Ok(Some(cipher.open("sync_meta", "value", key, &s)?)),
        None => Ok(None),
    }
}

/// Stores a sync value, sealed.
pub fn meta_put(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    key: &str,
    value: &[u8],
) -> Result<(), StoreError> {
    let sealed = cipher.seal("sync_meta", "value", key, value)?;
    tx.execute(
        "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, sealed],
    )?;
    Ok(())
}

/// Deletes the sync value `key` (that key only, not keys it is a prefix of).
pub fn meta_delete(tx: &Transaction<'_>, key: &str) -> Result<(), StoreError> {
    tx.execute("DELETE FROM sync_meta WHERE key = ?1", [key])?;
    Ok(())
}

/// Deletes sync values whose key starts with `prefix` (all of them for "").
pub fn meta_clear(tx: &Transaction<'_>, prefix: &str) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM sync_meta WHERE substr(key, 1, length(?1)) = ?1",
        [prefix],
    )?;
    Ok(())
}
