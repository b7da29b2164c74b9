//! Storage of chat threads, messages and photo metadata: sealed rows, keyed thread tags,
//! outbox rows in the change's own transaction.
//!
//! Writes take a `&Transaction`, reads a `&Connection`. Nothing here validates a message
//! or touches a file: [`crate::chat`] does that before it calls in. Sealed columns use
//! the AAD `table|column|row id` (`messages|text|<message id>`, ...).
//!
//! Order: messages page newest first by `seq`, the local arrival order, through the
//! `(thread_tag, seq)` index. There is no plain time to sort by (it would tell when the
//! patient wrote to the unit); sorting by the sealed `written_at` would mean opening a
//! whole thread to show one page. Messages arrive roughly in the order they were
//! written; one that arrives late (a reply fetched after the patient's next message was
//! composed) is shown where it arrived, which is also when the patient first saw it.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::domain::chat::{Author, DeliveryState, Message, Photo, Thread};
use crate::store::crypto::Cipher;
use crate::store::{StoreError, open_json, seal_json};

/// `meta` key of the photo cache budget (bytes, little-endian u64; not patient data).
const BUDGET_KEY: &str = "chat_photo_budget";

/// The keyed tag of a thread id, the only form in which a message row names its thread.
pub fn thread_tag(cipher: &Cipher, thread_id: &str) -> Vec<u8> {
    cipher.index_tag("chat-thread", thread_id)
}

fn author_code(a: Author) -> i64 {
    match a {
        Author::Patient => 0,
        Author::CareUnit => 1,
    }
}

fn author_from(code: i64) -> Result<Author, StoreError> {
    match code {
        0 => Ok(Author::Patient),
        1 => Ok(Author::CareUnit),
        _ => Err(StoreError::Decode),
    }
}

fn delivery_code(d: DeliveryState) -> i64 {
    match d {
        DeliveryState::Queued => 0,
        DeliveryState::Sent => 1,
        DeliveryState::Delivered => 2,
        DeliveryState::Read => 3,
    }
}

fn delivery_from(code: i64) -> Result<DeliveryState, StoreError> {
    match code {
        0 => Ok(DeliveryState::Queued),
        1 => Ok(DeliveryState::Sent),
        2 => Ok(DeliveryState::Delivered),
        3 => Ok(DeliveryState::Read),
        _ => Err(StoreError::Decode),
    }
}

// ---- threads ----

/// One thread by the region's id.
pub fn thread(conn: &Connection, cipher: &Cipher, id: &str) -> Result<Option<Thread>, StoreError> {
    let body: Option<Vec<u8>> = conn
        .prepare_cached("SELECT body FROM threads WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    body.map(|b| open_json(cipher, "threads", "body", id, &b))
        .transpose()
}

/// Every thread.
pub fn threads(conn: &Connection, cipher: &Cipher) -> Result<Vec<Thread>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, body FROM threads ORDER BY id")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.iter()
        .map(|(id, body)| open_json(cipher, "threads", "body", id, body))
        .collect()
}

/// Stores a thread from the region. An update older than the stored one (a late or
/// repeated download) changes nothing. Returns whether the stored thread changed.
pub fn upsert_thread(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    t: &Thread,
) -> Result<bool, StoreError> {
    if let Some(old) = thread(tx, cipher, &t.id)? {
        if old.updated_at > t.updated_at || old == *t {
            return Ok(false);
        }
    }
    let body = seal_json(cipher, "threads", "body", &t.id, t)?;
    tx.prepare_cached(
        "INSERT INTO threads (id, body) VALUES (?1, ?2)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body",
    )?
    .execute(params![t.id, body])?;
    Ok(true)
}

// ---- messages ----

/// The sealed body of a message row (storage format: short names).
#[derive(Serialize, Deserialize)]
struct Body {
    #[serde(rename = "t")]
    thread_id: String,
    #[serde(
        rename = "w",
        with = "jiff::fmt::serde::timestamp::nanosecond::required"
    )]
    written_at: Timestamp,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    in_reply_to: Option<String>,
}

/// The sealed metadata of a photo row.
#[derive(Serialize, Deserialize)]
struct PhotoBody {
    #[serde(rename = "c")]
    content_type: String,
    #[serde(rename = "n")]
    size: u64,
    #[serde(rename = "h")]
    sha256: String,
}

/// A photo to store with its message: its metadata, and the size of its sealed file
/// if the bytes are on the device.
#[derive(Debug, Clone)]
pub struct PhotoRow {
    /// The metadata.
    pub photo: Photo,
    /// Size of the sealed file in `files/`, if written.
    pub stored_size: Option<u64>,
}

fn insert_message_row(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    m: &Message,
) -> Result<Option<i64>, StoreError> {
    let body = seal_json(
        cipher,
        "messages",
        "body",
        &m.id,
        &Body {
            thread_id: m.thread_id.clone(),
            written_at: m.written_at,
            in_reply_to: m.in_reply_to.clone(),
        },
    )?;
    let text = cipher.seal("messages", "text", &m.id, m.text.as_bytes())?;
    let read_at = m
        .read_at
        .map(|t| seal_json(cipher, "messages", "read_at", &m.id, &t))
        .transpose()?;
    let delivery = match m.author {
        Author::Patient => Some(delivery_code(m.delivery.unwrap_or(DeliveryState::Queued))),
        Author::CareUnit => None,
    };
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO messages (id, thread_tag, author, body, text, delivery, read_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            m.id,
            thread_tag(cipher, &m.thread_id),
            author_code(m.author),
            body,
            text,
            delivery,
            read_at
        ])?;
    Ok((inserted == 1).then(|| tx.last_insert_rowid()))
}

fn insert_photo_row(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    message_seq: i64,
    own: bool,
    row: &PhotoRow,
) -> Result<Option<i64>, StoreError> {
    let p = &row.photo;
    let body = seal_json(
        cipher,
        "photos",
        "body",
        &p.id,
        &PhotoBody {
            content_type: p.content_type.clone(),
            size: p.size,
            sha256: p.sha256.clone(),
        },
    )?;
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO photos (id, message_seq, own, body, stored_size, last_used)
             VALUES (?1, ?2, ?3, ?4, ?5, (SELECT coalesce(max(last_used), 0) + 1 FROM photos))",
        )?
        .execute(params![
            p.id,
            message_seq,
            i64::from(own),
            body,
            row.stored_size.map(|s| s as i64)
        ])?;
    Ok((inserted == 1).then(|| tx.last_insert_rowid()))
}

fn enqueue(tx: &Transaction<'_>, entity: &str, seq: i64) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT OR IGNORE INTO outbox (entity, entity_seq) VALUES (?1, ?2)")?
        .execute(params![entity, seq])?;
    Ok(())
}

/// Stores a message the patient composed on this device, its photos (`photos`, files
/// already written) and their outbox rows (`message`, one `photo` per photo), all in the
/// caller's transaction. Returns false, changing nothing, if the id exists.
pub fn insert_own(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    m: &Message,
    photos: &[PhotoRow],
) -> Result<bool, StoreError> {
    let Some(seq) = insert_message_row(tx, cipher, m)? else {
        return Ok(false);
    };
    enqueue(tx, "message", seq)?;
    for p in photos {
        let photo_seq = insert_photo_row(tx, cipher, seq, true, p)?.ok_or(StoreError::Decode)?;
        enqueue(tx, "photo", photo_seq)?;
    }
    Ok(true)
}

/// What storing a downloaded message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// A new message.
    New,
    /// Known already; its delivery state or read time moved forward.
    Updated,
    /// Known already; nothing changed.
    Unchanged,
}

/// Stores a message from the region (the unit's, or the patient's from another device),
/// with its photo metadata (bytes are fetched lazily). A message already stored is not
/// duplicated: only its delivery state advances, and a read time set elsewhere is kept.
/// Nothing goes to the outbox.
pub fn insert_incoming(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    m: &Message,
) -> Result<Incoming, StoreError> {
    let mut m = m.clone();
    if m.author == Author::Patient && m.delivery.is_none() {
        m.delivery = Some(DeliveryState::Sent);
    }
    if let Some(seq) = insert_message_row(tx, cipher, &m)? {
        for p in &m.photos {
            let row = PhotoRow {
                photo: Photo {
                    local: false,
                    ..p.clone()
                },
                stored_size: None,
            };
            insert_photo_row(tx, cipher, seq, false, &row)?;
        }
        return Ok(Incoming::New);
    }
    let mut changed = false;
    if let Some(state) = m.delivery {
        changed |= advance_delivery(tx, &m.id, state)?.is_some_and(|(old, new)| old != new);
    }
    if let Some(at) = m.read_at {
        let sealed = seal_json(cipher, "messages", "read_at", &m.id, &at)?;
        changed |= tx
            .prepare_cached(
                "UPDATE messages SET read_at = ?2 WHERE id = ?1 AND author = 1 AND read_at IS NULL",
            )?
            .execute(params![m.id, sealed])?
            == 1;
    }
    Ok(if changed {
        Incoming::Updated
    } else {
        Incoming::Unchanged
    })
}

/// Moves a patient message's delivery state forward to `state` (never back). Returns
/// (old, new), or `None` if there is no such patient message.
fn advance_delivery(
    tx: &Transaction<'_>,
    id: &str,
    state: DeliveryState,
) -> Result<Option<(DeliveryState, DeliveryState)>, StoreError> {
    let current: Option<Option<i64>> = tx
        .prepare_cached("SELECT delivery FROM messages WHERE id = ?1 AND author = 0")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let Some(Some(current)) = current else {
        return Ok(None);
    };
    let old = delivery_from(current)?;
    let new = old.advance(state);
    if new != old {
        tx.prepare_cached("UPDATE messages SET delivery = ?2 WHERE id = ?1")?
            .execute(params![id, delivery_code(new)])?;
    }
    Ok(Some((old, new)))
}

/// Sets a patient message's delivery state, forward only. Returns the message's thread
/// id and whether the state changed, or `None` if there is no such patient message.
pub fn set_delivery(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    id: &str,
    state: DeliveryState,
) -> Result<Option<(String, bool)>, StoreError> {
    let Some((old, new)) = advance_delivery(tx, id, state)? else {
        return Ok(None);
    };
    let body: Vec<u8> = tx
        .prepare_cached("SELECT body FROM messages WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    let body: Body = open_json(cipher, "messages", "body", id, &body)?;
    Ok(Some((body.thread_id, old != new)))
}

const SELECT: &str = "SELECT seq, id, author, body, text, delivery, read_at FROM messages";

fn photos_of(
    conn: &Connection,
    cipher: &Cipher,
    message_seq: i64,
) -> Result<Vec<Photo>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, body, stored_size FROM photos WHERE message_seq = ?1 ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([message_seq], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, body, stored)| {
            let b: PhotoBody = open_json(cipher, "photos", "body", &id, &body)?;
            Ok(Photo {
                id,
                content_type: b.content_type,
                size: b.size,
                sha256: b.sha256,
                local: stored.is_some(),
            })
        })
        .collect()
}

fn decode(
    conn: &Connection,
    cipher: &Cipher,
    row: &rusqlite::Row<'_>,
) -> Result<(i64, Message), StoreError> {
    let seq: i64 = row.get(0)?;
    let id: String = row.get(1)?;
    let author = author_from(row.get(2)?)?;
    let body: Body = open_json(cipher, "messages", "body", &id, &row.get::<_, Vec<u8>>(3)?)?;
    let text = cipher.open("messages", "text", &id, &row.get::<_, Vec<u8>>(4)?)?;
    let text = String::from_utf8(text.to_vec()).map_err(|_| StoreError::Decode)?;
    let delivery = row
        .get::<_, Option<i64>>(5)?
        .map(delivery_from)
        .transpose()?;
    let read_at = row
        .get::<_, Option<Vec<u8>>>(6)?
        .map(|b| open_json::<Timestamp>(cipher, "messages", "read_at", &id, &b))
        .transpose()?;
    let photos = photos_of(conn, cipher, seq)?;
    Ok((
        seq,
        Message {
            id,
            thread_id: body.thread_id,
            author,
            text,
            photos,
            written_at: body.written_at,
            delivery,
            read_at,
            in_reply_to: body.in_reply_to,
        },
    ))
}

/// The id of the message in row `seq`.
pub fn message_id_of_row(conn: &Connection, seq: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT id FROM messages WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .optional()?)
}

/// One message by id.
pub fn message(
    conn: &Connection,
    cipher: &Cipher,
    id: &str,
) -> Result<Option<Message>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(row) => Ok(Some(decode(conn, cipher, row)?.1)),
        None => Ok(None),
    }
}

/// Up to `limit` messages of a thread with `seq < before`, newest first, with their
/// `seq`s, and whether older ones remain.
pub fn page(
    conn: &Connection,
    cipher: &Cipher,
    thread_id: &str,
    before: Option<i64>,
    limit: usize,
) -> Result<(Vec<(i64, Message)>, bool), StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE thread_tag = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
    ))?;
    let mut rows = stmt.query(params![
        thread_tag(cipher, thread_id),
        before.unwrap_or(i64::MAX),
        limit as i64 + 1
    ])?;
    let mut out = Vec::with_capacity(limit);
    let mut more = false;
    while let Some(row) = rows.next()? {
        if out.len() == limit {
            more = true;
            break;
        }
        out.push(decode(conn, cipher, row)?);
    }
    Ok((out, more))
}

/// Unread messages (the unit's, not read by the patient) in a thread.
pub fn unread(conn: &Connection, cipher: &Cipher, thread_id: &str) -> Result<u64, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM messages WHERE thread_tag = ?1 AND author = 1 AND read_at IS NULL",
        )?
        .query_row([thread_tag(cipher, thread_id)], |r| r.get::<_, i64>(0))? as u64)
}

/// Unread messages in every thread.
pub fn unread_total(conn: &Connection) -> Result<u64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM messages WHERE author = 1 AND read_at IS NULL")?
        .query_row([], |r| r.get::<_, i64>(0))? as u64)
}

/// Marks the unit's unread messages of a thread up to and including `up_to` as read at
/// `at`, and queues a read receipt for each. Returns how many were marked, or `None` if
/// `up_to` is not a message of this thread.
pub fn mark_read(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    thread_id: &str,
    up_to: &str,
    at: Timestamp,
) -> Result<Option<u64>, StoreError> {
    let tag = thread_tag(cipher, thread_id);
    let Some(limit) = tx
        .prepare_cached("SELECT seq FROM messages WHERE id = ?1 AND thread_tag = ?2")?
        .query_row(params![up_to, tag], |r| r.get::<_, i64>(0))
        .optional()?
    else {
        return Ok(None);
    };
    let unread = tx
        .prepare_cached(
            "SELECT seq, id FROM messages
             WHERE thread_tag = ?1 AND author = 1 AND read_at IS NULL AND seq <= ?2",
        )?
        .query_map(params![tag, limit], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (seq, id) in &unread {
        let sealed = seal_json(cipher, "messages", "read_at", id, &at)?;
        tx.prepare_cached("UPDATE messages SET read_at = ?2 WHERE seq = ?1")?
            .execute(params![seq, sealed])?;
        enqueue(tx, "receipt", *seq)?;
    }
    Ok(Some(unread.len() as u64))
}

// ---- photos ----

/// A photo's metadata, whether it was attached on this device, and whether its bytes
/// are here.
pub fn photo(
    conn: &Connection,
    cipher: &Cipher,
    id: &str,
) -> Result<Option<(Photo, bool)>, StoreError> {
    let row = conn
        .prepare_cached("SELECT body, own, stored_size FROM photos WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })
        .optional()?;
    let Some((body, own, stored)) = row else {
        return Ok(None);
    };
    let b: PhotoBody = open_json(cipher, "photos", "body", id, &body)?;
    Ok(Some((
        Photo {
            id: id.to_owned(),
            content_type: b.content_type,
            size: b.size,
            sha256: b.sha256,
            local: stored.is_some(),
        },
        own == 1,
    )))
}

/// Marks a photo as just used (for least-recently-used eviction).
pub fn touch_photo(tx: &Transaction<'_>, id: &str) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE photos SET last_used = (SELECT coalesce(max(last_used), 0) + 1 FROM photos)
         WHERE id = ?1",
    )?
    .execute([id])?;
    Ok(())
}

/// Records that a photo's sealed file (of `stored_size` bytes) is now on the device, or
/// gone (`None`). Returns false if there is no such photo.
pub fn set_photo_stored(
    tx: &Transaction<'_>,
    id: &str,
    stored_size: Option<u64>,
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached("UPDATE photos SET stored_size = ?2 WHERE id = ?1")?
        .execute(params![id, stored_size.map(|s| s as i64)])?
        == 1)
}

/// Downloaded (not own) photos whose files are on the device, least recently used
/// first, with the sizes of their sealed files.
pub fn cached_remote_photos(conn: &Connection) -> Result<Vec<(String, u64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, stored_size FROM photos
         WHERE own = 0 AND stored_size IS NOT NULL ORDER BY last_used, seq",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Ids of every photo whose file should be on the device.
pub fn stored_photo_ids(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id FROM photos WHERE stored_size IS NOT NULL")?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The photo cache budget, if set.
pub fn photo_budget(conn: &Connection) -> Result<Option<u64>, StoreError> {
    let v: Option<Vec<u8>> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([BUDGET_KEY], |r| r.get(0))
        .optional()?;
    v.map(|b| {
        <[u8; 8]>::try_from(b.as_slice())
            .map(u64::from_le_bytes)
            .map_err(|_| StoreError::Decode)
    })
    .transpose()
}

/// Sets the photo cache budget.
pub fn set_photo_budget(tx: &Transaction<'_>, bytes: u64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![BUDGET_KEY, bytes.to_le_bytes().to_vec()])?;
    Ok(())
}

/// Number of chat outbox rows of each kind waiting (message, photo, receipt).
pub fn pending(conn: &Connection) -> Result<(u64, u64, u64), StoreError> {
    let count = |entity: &str| -> Result<u64, StoreError> {
        Ok(conn
            .prepare_cached("SELECT count(*) FROM outbox WHERE entity = ?1 AND state = 0")?
            .query_row([entity], |r| r.get::<_, i64>(0))? as u64)
    };
    Ok((count("message")?, count("photo")?, count("receipt")?))
}

// ---- the outbox, as the sync engine reads it ----

/// A chat change waiting for upload, with its outbox key (`entity`, `seq`).
#[derive(Debug, Clone, PartialEq)]
pub enum ChatUpload {
    /// A photo of one of the patient's messages (entity `photo`, key the photo's row).
    /// Upload it before its message, which refers to it.
    Photo {
        /// The outbox key.
        seq: i64,
        /// Upload attempts so far.
        attempts: u32,
        /// The id of the message it belongs to.
        message_id: String,
        /// Its metadata; the bytes are in `files/` (`Chat::photo_bytes`).
        photo: Photo,
    },
    /// One of the patient's messages (entity `message`, key the message's row); due
    /// only when none of its photos waits any more.
    Message {
        /// The outbox key.
        seq: i64,
        /// Upload attempts so far.
        attempts: u32,
        /// The message.
        message: Message,
    },
    /// A read receipt for a unit message (entity `receipt`, key that message's row).
    Receipt {
        /// The outbox key.
        seq: i64,
        /// Upload attempts so far.
        attempts: u32,
        /// The message that was read (its `read_at` is set).
        message: Message,
    },
}

fn due_rows(
    conn: &Connection,
    sql: &str,
    now: i64,
    limit: usize,
) -> Result<Vec<(i64, u32, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(params![now, limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                u32::try_from(r.get::<_, i64>(1)?).unwrap_or(u32::MAX),
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Up to `limit` of each kind of pending chat change due at `now` (unix seconds), oldest
/// first: photos, then messages whose photos are all uploaded, then read receipts.
/// Rows are removed, rescheduled or failed with `store::outbox` like readings' rows.
pub fn due_uploads(
    conn: &Connection,
    cipher: &Cipher,
    now: i64,
    limit: usize,
) -> Result<Vec<ChatUpload>, StoreError> {
    let mut out = Vec::new();
    for (seq, attempts, photo_id) in due_rows(
        conn,
        "SELECT o.entity_seq, o.attempts, p.id FROM outbox o JOIN photos p ON p.seq = o.entity_seq
         WHERE o.entity = 'photo' AND o.state = 0 AND o.next_attempt_at <= ?1
         ORDER BY o.entity_seq LIMIT ?2",
        now,
        limit,
    )? {
        let (photo, _) = photo(conn, cipher, &photo_id)?.ok_or(StoreError::Decode)?;
        let message_id: String = conn
            .prepare_cached(
                "SELECT m.id FROM photos p JOIN messages m ON m.seq = p.message_seq WHERE p.seq = ?1",
            )?
            .query_row([seq], |r| r.get(0))?;
        out.push(ChatUpload::Photo {
            seq,
            attempts,
            message_id,
            photo,
        });
    }
    for (seq, attempts, id) in due_rows(
        conn,
        "SELECT o.entity_seq, o.attempts, m.id FROM outbox o JOIN messages m ON m.seq = o.entity_seq
         WHERE o.entity = 'message' AND o.state = 0 AND o.next_attempt_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM photos p JOIN outbox x
                           ON x.entity = 'photo' AND x.entity_seq = p.seq
                           WHERE p.message_seq = m.seq)
         ORDER BY o.entity_seq LIMIT ?2",
        now,
        limit,
    )? {
        let message = message(conn, cipher, &id)?.ok_or(StoreError::Decode)?;
        out.push(ChatUpload::Message {
            seq,
            attempts,
            message,
        });
    }
    for (seq, attempts, id) in due_rows(
        conn,
        "SELECT o.entity_seq, o.attempts, m.id FROM outbox o JOIN messages m ON m.seq = o.entity_seq
         WHERE o.entity = 'receipt' AND o.state = 0 AND o.next_attempt_at <= ?1
         ORDER BY o.entity_seq LIMIT ?2",
        now,
        limit,
    )? {
        let message = message(conn, cipher, &id)?.ok_or(StoreError::Decode)?;
        out.push(ChatUpload::Receipt {
            seq,
            attempts,
            message,
        });
    }
    Ok(out)
}
