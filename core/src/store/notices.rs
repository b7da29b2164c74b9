//! Storage of appointment notices, the patient's answers, cached questionnaires and
//! form responses (migration 006). Every body is sealed; outbox rows are written in
//! the same transaction as the change they stand for:
//! `notice_opened` (keyed by the notice row), `notice_answer` (the answer row) and
//! `form_response` (the response row).

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::notice::{AnswerDelivery, GivenAnswer, Notice, NoticeLocal};
use crate::domain::questionnaire::Answers;
use crate::store::crypto::Cipher;
use crate::store::{StoreError, open_json, seal_json};

/// The local part of a notice as stored (the answers live in their own rows).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LocalBody {
    opened_at: Option<Timestamp>,
    seen: Option<(Timestamp, Option<Timestamp>)>,
    seen_status: Option<crate::domain::notice::AppointmentStatus>,
    declaration_submitted_at: Option<Timestamp>,
}

fn enqueue(tx: &Transaction<'_>, entity: &str, seq: i64) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT OR IGNORE INTO outbox (entity, entity_seq) VALUES (?1, ?2)")?
        .execute(params![entity, seq])?;
    Ok(())
}

/// What storing a downloaded notice did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeUpsert {
    /// A notice not seen before.
    New,
    /// A known notice changed; `overtaken` answers waiting for upload were set aside
    /// because the time or status changed (ADR 0010 §6).
    Changed {
        /// Answers set aside.
        overtaken: usize,
    },
    /// Nothing changed.
    Unchanged,
}

/// Stores a downloaded notice. If its time or status changed, answers still waiting
/// for upload are set aside (`overtaken`, out of the outbox) in the same transaction.
pub fn upsert_notice(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    notice: &Notice,
) -> Result<NoticeUpsert, StoreError> {
    let existing: Option<(i64, Vec<u8>)> = tx
        .prepare_cached("SELECT seq, body FROM notices WHERE id = ?1")?
        .query_row([&notice.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let body = seal_json(cipher, "notices", "body", &notice.id, notice)?;
    let Some((seq, old)) = existing else {
        let local = seal_json(
            cipher,
            "notices",
            "local",
            &notice.id,
            &LocalBody::default(),
        )?;
        tx.prepare_cached("INSERT INTO notices (id, body, local) VALUES (?1, ?2, ?3)")?
            .execute(params![notice.id, body, local])?;
        return Ok(NoticeUpsert::New);
    };
    let old: Notice = open_json(cipher, "notices", "body", &notice.id, &old)?;
    if &old == notice {
        return Ok(NoticeUpsert::Unchanged);
    }
    tx.prepare_cached("UPDATE notices SET body = ?2 WHERE seq = ?1")?
        .execute(params![seq, body])?;
    let mut overtaken = 0;
    for (answer_seq, mut given) in answers_of(tx, cipher, seq)? {
        if given.delivery == AnswerDelivery::Queued && answered_other_time(&given, notice) {
            given.delivery = AnswerDelivery::Overtaken;
            put_answer(tx, cipher, answer_seq, &given)?;
            tx.prepare_cached(
                "DELETE FROM outbox WHERE entity = 'notice_answer' AND entity_seq = ?1",
            )?
            .execute([answer_seq])?;
            overtaken += 1;
        }
    }
    Ok(NoticeUpsert::Changed { overtaken })
}

/// Whether `given` was given for another time or status than `notice` has now.
pub fn answered_other_time(given: &GivenAnswer, notice: &Notice) -> bool {
    given.for_start != notice.start
        || given.for_end != notice.end
        || notice.status == crate::domain::notice::AppointmentStatus::Cancelled
}

fn answers_of(
    conn: &Connection,
    cipher: &Cipher,
    notice_seq: i64,
) -> Result<Vec<(i64, GivenAnswer)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, id, body FROM notice_answers WHERE notice_seq = ?1 ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([notice_seq], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(seq, id, body)| {
            Ok((
                seq,
                open_json(cipher, "notice_answers", "body", &id, &body)?,
            ))
        })
        .collect()
}

fn put_answer(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    seq: i64,
    given: &GivenAnswer,
) -> Result<(), StoreError> {
    let body = seal_json(cipher, "notice_answers", "body", &given.id, given)?;
    tx.prepare_cached("UPDATE notice_answers SET body = ?2 WHERE seq = ?1")?
        .execute(params![seq, body])?;
    Ok(())
}

/// A stored notice with the patient's side of it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNotice {
    /// The local row.
    pub seq: i64,
    /// The notice as last downloaded.
    pub notice: Notice,
    /// The patient's side.
    pub local: NoticeLocal,
}

fn decode(
    conn: &Connection,
    cipher: &Cipher,
    seq: i64,
    id: &str,
    body: &[u8],
    local: &[u8],
) -> Result<StoredNotice, StoreError> {
    let notice: Notice = open_json(cipher, "notices", "body", id, body)?;
    let l: LocalBody = open_json(cipher, "notices", "local", id, local)?;
    let answers = answers_of(conn, cipher, seq)?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    Ok(StoredNotice {
        seq,
        notice,
        local: NoticeLocal {
            opened_at: l.opened_at,
            seen: l.seen,
            seen_status: l.seen_status,
            answers,
            declaration_submitted_at: l.declaration_submitted_at,
        },
    })
}

/// One notice by the region's id.
pub fn notice(
    conn: &Connection,
    cipher: &Cipher,
    id: &str,
) -> Result<Option<StoredNotice>, StoreError> {
    let row: Option<(i64, Vec<u8>, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, body, local FROM notices WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    row.map(|(seq, body, local)| decode(conn, cipher, seq, id, &body, &local))
        .transpose()
}

/// Every notice, in no particular order (the caller sorts by time).
pub fn notices(conn: &Connection, cipher: &Cipher) -> Result<Vec<StoredNotice>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT seq, id, body, local FROM notices")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(seq, id, body, local)| decode(conn, cipher, seq, &id, &body, &local))
        .collect()
}

fn put_local(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    stored: &StoredNotice,
) -> Result<(), StoreError> {
    let l = LocalBody {
        opened_at: stored.local.opened_at,
        seen: stored.local.seen,
        seen_status: stored.local.seen_status,
        declaration_submitted_at: stored.local.declaration_submitted_at,
    };
    let local = seal_json(cipher, "notices", "local", &stored.notice.id, &l)?;
    tx.prepare_cached("UPDATE notices SET local = ?2 WHERE seq = ?1")?
        .execute(params![stored.seq, local])?;
    Ok(())
}

/// The patient opens notice `id` at `now`: the time shown is remembered as seen, and
/// the first opening queues the opened receipt. Returns the notice, and whether this
/// was the first opening.
pub fn open(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    id: &str,
    now: Timestamp,
) -> Result<Option<(StoredNotice, bool)>, StoreError> {
    let Some(mut stored) = notice(tx, cipher, id)? else {
        return Ok(None);
    };
    let first = stored.local.opened_at.is_none();
    if first {
        stored.local.opened_at = Some(now);
        enqueue(tx, "notice_opened", stored.seq)?;
    }
    stored.local.seen = Some((stored.notice.start, stored.notice.end));
    stored.local.seen_status = Some(stored.notice.status);
    put_local(tx, cipher, &stored)?;
    Ok(Some((stored, first)))
}

/// Stores an answer the patient gave and queues it, in the caller's transaction.
pub fn add_answer(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    notice_seq: i64,
    given: &GivenAnswer,
) -> Result<(), StoreError> {
    let body = seal_json(cipher, "notice_answers", "body", &given.id, given)?;
    tx.prepare_cached("INSERT INTO notice_answers (id, notice_seq, body) VALUES (?1, ?2, ?3)")?
        .execute(params![given.id, notice_seq, body])?;
    enqueue(tx, "notice_answer", tx.last_insert_rowid())
}

/// Marks the answer in row `seq` as `delivery` (sent when the region has it, overtaken
/// when the clinic changed the time first).
pub fn set_answer_delivery(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    seq: i64,
    delivery: AnswerDelivery,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String, Vec<u8>, String)> = tx
        .prepare_cached(
            "SELECT a.id, a.body, n.id FROM notice_answers a JOIN notices n ON n.seq = a.notice_seq
             WHERE a.seq = ?1",
        )?
        .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((id, body, notice_id)) = row else {
        return Ok(None);
    };
    let mut given: GivenAnswer = open_json(cipher, "notice_answers", "body", &id, &body)?;
    given.delivery = delivery;
    put_answer(tx, cipher, seq, &given)?;
    Ok(Some(notice_id))
}

/// An upload about notices, due now.
#[derive(Debug, Clone, PartialEq)]
pub enum NoticeUpload {
    /// The opened receipt of a notice.
    Opened {
        /// The notice row (the outbox key).
        seq: i64,
        /// The notice id.
        notice_id: String,
        /// When it was first opened.
        opened_at: Timestamp,
    },
    /// An answer.
    Answer {
        /// The answer row (the outbox key).
        seq: i64,
        /// The notice as stored.
        notice: Box<Notice>,
        /// The answer.
        given: GivenAnswer,
    },
    /// A submitted form.
    Form {
        /// The response row (the outbox key).
        seq: i64,
        /// The `QuestionnaireResponse` JSON built at submission.
        response: Value,
    },
}

/// Up to `limit` due notice uploads, oldest change first within each kind: opened
/// receipts, answers, then forms.
pub fn due_uploads(
    conn: &Connection,
    cipher: &Cipher,
    limit: usize,
) -> Result<Vec<NoticeUpload>, StoreError> {
    let limit = limit as i64;
    let mut out = Vec::new();
    // One query per kind, each joined to its rows (not one query per outbox row).
    let opened = conn
        .prepare_cached(
            "SELECT o.entity_seq, n.id, n.local FROM outbox o JOIN notices n ON n.seq = o.entity_seq
             WHERE o.state = 0 AND o.entity = 'notice_opened' ORDER BY o.entity_seq LIMIT ?1",
        )?
        .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<(i64, String, Vec<u8>)>, _>>()?;
    for (seq, id, local) in opened {
        let l: LocalBody = open_json(cipher, "notices", "local", &id, &local)?;
        out.push(NoticeUpload::Opened {
            seq,
            notice_id: id,
            opened_at: l.opened_at.ok_or(StoreError::Decode)?,
        });
    }
    let answers = conn
        .prepare_cached(
            "SELECT o.entity_seq, a.id, a.body, n.id, n.body FROM outbox o
             JOIN notice_answers a ON a.seq = o.entity_seq JOIN notices n ON n.seq = a.notice_seq
             WHERE o.state = 0 AND o.entity = 'notice_answer' ORDER BY o.entity_seq LIMIT ?1",
        )?
        .query_map([limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<Vec<(i64, String, Vec<u8>, String, Vec<u8>)>, _>>()?;
    for (seq, id, body, notice_id, notice_body) in answers {
        out.push(NoticeUpload::Answer {
            seq,
            notice: Box::new(open_json(
                cipher,
                "notices",
                "body",
                &notice_id,
                &notice_body,
            )?),
            given: open_json(cipher, "notice_answers", "body", &id, &body)?,
        });
    }
    let forms = conn
        .prepare_cached(
            "SELECT o.entity_seq, f.id, f.body FROM outbox o JOIN form_responses f ON f.seq = o.entity_seq
             WHERE o.state = 0 AND o.entity = 'form_response' ORDER BY o.entity_seq LIMIT ?1",
        )?
        .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<(i64, String, Vec<u8>)>, _>>()?;
    for (seq, id, body) in forms {
        let draft: FormDraft = open_json(cipher, "form_responses", "body", &id, &body)?;
        out.push(NoticeUpload::Form {
            seq,
            response: draft.response.ok_or(StoreError::Decode)?,
        });
    }
    out.truncate(limit as usize);
    Ok(out)
}

// ---- questionnaires ----

/// Caches the region's `Questionnaire` JSON under its id.
pub fn put_questionnaire(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    id: &str,
    json: &Value,
) -> Result<(), StoreError> {
    let body = seal_json(cipher, "questionnaires", "body", id, json)?;
    tx.prepare_cached(
        "INSERT INTO questionnaires (id, body) VALUES (?1, ?2)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body",
    )?
    .execute(params![id, body])?;
    Ok(())
}

/// The cached `Questionnaire` JSON with `id`.
pub fn questionnaire(
    conn: &Connection,
    cipher: &Cipher,
    id: &str,
) -> Result<Option<Value>, StoreError> {
    let body: Option<Vec<u8>> = conn
        .prepare_cached("SELECT body FROM questionnaires WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    body.map(|b| open_json(cipher, "questionnaires", "body", id, &b))
        .transpose()
}

// ---- form responses ----

/// A form being filled in (or submitted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormDraft {
    /// The client id (becomes the response's identifier).
    pub id: String,
    /// The questionnaire.
    pub questionnaire_id: String,
    /// The notice it is filled in for, if any.
    pub notice_id: Option<String>,
    /// The answers so far.
    pub answers: Answers,
    /// When first saved.
    pub started_at: Timestamp,
    /// When last saved.
    pub updated_at: Timestamp,
    /// When submitted.
    pub submitted_at: Option<Timestamp>,
    /// The `QuestionnaireResponse` built at submission.
    pub response: Option<Value>,
}

/// The tag that finds the draft of `questionnaire_id` for `notice_id`.
pub fn context_tag(cipher: &Cipher, questionnaire_id: &str, notice_id: Option<&str>) -> Vec<u8> {
    cipher.index_tag(
        "form-context",
        &format!("{questionnaire_id}\u{1f}{}", notice_id.unwrap_or("")),
    )
}

/// The open draft of `questionnaire_id` for `notice_id`, with its row.
pub fn draft(
    conn: &Connection,
    cipher: &Cipher,
    questionnaire_id: &str,
    notice_id: Option<&str>,
) -> Result<Option<(i64, FormDraft)>, StoreError> {
    let tag = context_tag(cipher, questionnaire_id, notice_id);
    let row: Option<(i64, String, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT seq, id, body FROM form_responses WHERE context_tag = ?1 AND submitted = 0",
        )?
        .query_row([tag], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    row.map(|(seq, id, body)| {
        Ok((
            seq,
            open_json(cipher, "form_responses", "body", &id, &body)?,
        ))
    })
    .transpose()
}

/// How far a form is for a context, as the notice list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormProgress {
    /// The questionnaire has not arrived.
    NotDownloaded,
    /// Arrived, nothing saved.
    NotStarted,
    /// A draft is saved.
    Draft,
    /// A response was submitted.
    Submitted,
}

/// How far `questionnaire_id` is for `notice_id`, from the rows alone: nothing is
/// opened (the notice list asks this for every notice).
pub fn form_progress(
    conn: &Connection,
    cipher: &Cipher,
    questionnaire_id: &str,
    notice_id: Option<&str>,
) -> Result<FormProgress, StoreError> {
    let tag = context_tag(cipher, questionnaire_id, notice_id);
    let submitted: Option<i64> = conn
        .prepare_cached("SELECT max(submitted) FROM form_responses WHERE context_tag = ?1")?
        .query_row([tag], |r| r.get(0))?;
    Ok(match submitted {
        Some(1) => FormProgress::Submitted,
        Some(_) => FormProgress::Draft,
        None => {
            if questionnaire_exists(conn, questionnaire_id)? {
                FormProgress::NotStarted
            } else {
                FormProgress::NotDownloaded
            }
        }
    })
}

/// True if the form `id` has arrived (nothing is opened).
pub fn questionnaire_exists(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM questionnaires WHERE id = ?1")?
        .exists([id])?)
}

/// The newest submitted response of `questionnaire_id` for `notice_id`.
pub fn submitted(
    conn: &Connection,
    cipher: &Cipher,
    questionnaire_id: &str,
    notice_id: Option<&str>,
) -> Result<Option<FormDraft>, StoreError> {
    let tag = context_tag(cipher, questionnaire_id, notice_id);
    let row: Option<(String, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT id, body FROM form_responses WHERE context_tag = ?1 AND submitted = 1
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([tag], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(id, body)| open_json(cipher, "form_responses", "body", &id, &body))
        .transpose()
}

/// Saves `draft` (insert or update of the open draft of its context).
pub fn save_draft(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    draft: &FormDraft,
) -> Result<i64, StoreError> {
    let tag = context_tag(cipher, &draft.questionnaire_id, draft.notice_id.as_deref());
    let body = seal_json(cipher, "form_responses", "body", &draft.id, draft)?;
    tx.prepare_cached(
        "INSERT INTO form_responses (id, context_tag, body, submitted) VALUES (?1, ?2, ?3, 0)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body WHERE submitted = 0",
    )?
    .execute(params![draft.id, tag, body])?;
    Ok(tx
        .prepare_cached("SELECT seq FROM form_responses WHERE id = ?1")?
        .query_row([&draft.id], |r| r.get(0))?)
}

/// Submits the draft in row `seq` (its body carrying the response) and queues it.
pub fn submit(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    seq: i64,
    draft: &FormDraft,
) -> Result<(), StoreError> {
    let body = seal_json(cipher, "form_responses", "body", &draft.id, draft)?;
    let changed = tx
        .prepare_cached(
            "UPDATE form_responses SET body = ?2, submitted = 1 WHERE seq = ?1 AND submitted = 0",
        )?
        .execute(params![seq, body])?;
    if changed != 1 {
        return Err(StoreError::Decode);
    }
    enqueue(tx, "form_response", seq)?;
    if let Some(notice_id) = &draft.notice_id {
        if let Some(mut stored) = notice(tx, cipher, notice_id)? {
            stored.local.declaration_submitted_at = draft.submitted_at;
            put_local(tx, cipher, &stored)?;
        }
    }
    Ok(())
}

/// Outbox and notice rows of an answer key (for `outbox::failed`): the client id of
/// row `seq` of `notice_answers`.
pub fn answer_id_of_row(conn: &Connection, seq: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT id FROM notice_answers WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .optional()?)
}
