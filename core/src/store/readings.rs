//! Storage of readings, thresholds and schedules: sealed rows, keyed-tag lookups.
//!
//! Writes take a `&Transaction`, reads a `&Connection` (application-services' habit).
//! Nothing here decides anything clinical; it stores what the domain decided.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::domain::glucose_context::GlucoseContext;
use crate::domain::reading::{
    Measurement, Metric, OffScale, QualityFlags, Reading, ReadingId, ReadingKind, Source,
};
use crate::domain::schedule::MeasurementSchedule;
use crate::domain::triage::{
    Band, Finding, RuleVersion, ThresholdOrigin, ThresholdSet, TriageReason, TriageResult,
};
use crate::store::crypto::Cipher;
use crate::store::{StoreError, open_json, seal_json};

const WEEK_SECS: i64 = 7 * 86_400;

/// The coarse time bucket stored in plain text: weeks since 1970.
pub fn week_of(t: Timestamp) -> i64 {
    t.as_second().div_euclid(WEEK_SECS)
}

fn kind_tag(cipher: &Cipher, kind: ReadingKind) -> Vec<u8> {
    cipher.index_tag("reading-kind", kind.short_name())
}

/// The sealed body of a reading row. A storage format, not an API: short field names,
/// times as integer nanoseconds and defaults omitted keep each row small, which is most of
/// the cost of a bulk import.
#[derive(Serialize, Deserialize)]
struct Body {
    #[serde(rename = "m")]
    measurement: Measurement,
    #[serde(
        rename = "t",
        with = "jiff::fmt::serde::timestamp::nanosecond::required"
    )]
    effective_at: Timestamp,
    #[serde(rename = "o", default, skip_serializing_if = "is_zero")]
    utc_offset_seconds: i32,
    #[serde(rename = "s", default = "manual", skip_serializing_if = "is_manual")]
    source: Source,
    #[serde(rename = "q", default, skip_serializing_if = "is_good")]
    quality: QualityFlags,
    #[serde(rename = "x", default, skip_serializing_if = "Vec::is_empty")]
    off_scale: Vec<OffScale>,
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    glucose_context: Option<GlucoseContext>,
    #[serde(
        rename = "r",
        with = "jiff::fmt::serde::timestamp::nanosecond::required"
    )]
    recorded_at: Timestamp,
}

/// The sealed triage of a reading row (storage format, see [`Body`]).
#[derive(Serialize, Deserialize)]
struct StoredTriage {
    #[serde(rename = "b")]
    band: Band,
    #[serde(rename = "v")]
    value_band: Band,
    #[serde(rename = "o")]
    origin: ThresholdOrigin,
    #[serde(rename = "n")]
    version: u32,
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    metric: Option<Metric>,
    #[serde(rename = "r")]
    reason: TriageReason,
    #[serde(rename = "f", default, skip_serializing_if = "Vec::is_empty")]
    findings: Vec<Finding>,
}

impl From<&TriageResult> for StoredTriage {
    fn from(t: &TriageResult) -> Self {
        StoredTriage {
            band: t.band,
            value_band: t.value_band,
            origin: t.rule.origin,
            version: t.rule.version,
            metric: t.metric,
            reason: t.reason.clone(),
            findings: t.findings.clone(),
        }
    }
}

impl From<StoredTriage> for TriageResult {
    fn from(t: StoredTriage) -> Self {
        TriageResult {
            band: t.band,
            value_band: t.value_band,
            rule: RuleVersion {
                origin: t.origin,
                version: t.version,
            },
            metric: t.metric,
            reason: t.reason,
            findings: t.findings,
        }
    }
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

fn manual() -> Source {
    Source::Manual
}

fn is_manual(s: &Source) -> bool {
    *s == Source::Manual
}

fn is_good(q: &QualityFlags) -> bool {
    !q.any()
}

/// A reading sealed for storage: every patient value encrypted, ready to insert. Sealing
/// is pure CPU work, so bulk imports do it on another thread while SQLite inserts.
pub struct SealedReading {
    id: String,
    kind_tag: Vec<u8>,
    week: i64,
    supersedes: Option<String>,
    body: Vec<u8>,
    note: Option<Vec<u8>>,
    triage: Vec<u8>,
}

/// Seals a reading's values for its row.
pub fn seal(cipher: &Cipher, r: &Reading) -> Result<SealedReading, StoreError> {
    let id = r.id.to_string();
    let body = Body {
        measurement: r.measurement,
        effective_at: r.effective_at,
        utc_offset_seconds: r.utc_offset_seconds,
        source: r.source.clone(),
        quality: r.quality,
        off_scale: r.off_scale.clone(),
        glucose_context: r.glucose_context,
        recorded_at: r.recorded_at,
    };
    let body = seal_json(cipher, "readings", "body", &id, &body)?;
    let triage = seal_json(
        cipher,
        "readings",
        "triage",
        &id,
        &StoredTriage::from(&r.triage),
    )?;
    let note = match &r.note {
        Some(n) => Some(cipher.seal("readings", "note", &id, n.as_bytes())?),
        None => None,
    };
    Ok(SealedReading {
        kind_tag: kind_tag(cipher, r.kind()),
        week: week_of(r.effective_at),
        supersedes: r.supersedes.map(|s| s.to_string()),
        id,
        body,
        note,
        triage,
    })
}

/// Inserts a sealed reading and its outbox row in the caller's transaction. Returns
/// false, changing nothing, if a reading with the same id exists (a re-import).
pub fn insert_sealed(tx: &Transaction<'_>, s: &SealedReading) -> Result<bool, StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO readings (id, kind_tag, week, supersedes, body, note, triage)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let inserted = stmt.execute(params![
        s.id,
        s.kind_tag,
        s.week,
        s.supersedes,
        s.body,
        s.note,
        s.triage
    ])? == 1;
    if inserted {
        let seq = tx.last_insert_rowid();
        tx.prepare_cached("INSERT INTO outbox (entity, entity_seq) VALUES ('reading', ?1)")?
            .execute([seq])?;
        if s.supersedes.is_some() {
            // The replaced reading is withdrawn on the server once both are there.
            tx.prepare_cached("INSERT INTO outbox (entity, entity_seq) VALUES ('retraction', ?1)")?
                .execute([seq])?;
        }
    }
    Ok(inserted)
}

/// Seals and inserts a reading (see [`insert_sealed`]).
pub fn insert(tx: &Transaction<'_>, cipher: &Cipher, r: &Reading) -> Result<bool, StoreError> {
    insert_sealed(tx, &seal(cipher, r)?)
}

pub(crate) const SELECT: &str = "SELECT r.id, r.body, r.note, r.triage, r.supersedes,
        (SELECT s.id FROM readings s WHERE s.supersedes = r.id LIMIT 1), r.week
     FROM readings r";

pub(crate) fn decode(
    cipher: &Cipher,
    row: &rusqlite::Row<'_>,
) -> Result<(Reading, i64), StoreError> {
    let id: String = row.get(0)?;
    let body_blob: Vec<u8> = row.get(1)?;
    let note_blob: Option<Vec<u8>> = row.get(2)?;
    let triage_blob: Vec<u8> = row.get(3)?;
    let supersedes: Option<String> = row.get(4)?;
    let superseded_by: Option<String> = row.get(5)?;
    let week: i64 = row.get(6)?;
    let body: Body = open_json(cipher, "readings", "body", &id, &body_blob)?;
    let triage: TriageResult =
        open_json::<StoredTriage>(cipher, "readings", "triage", &id, &triage_blob)?.into();
    let note = match note_blob {
        Some(b) => Some(
            String::from_utf8(cipher.open("readings", "note", &id, &b)?.to_vec())
                .map_err(|_| StoreError::Decode)?,
        ),
        None => None,
    };
    let parse = |s: &str| ReadingId::parse(s).ok_or(StoreError::Decode);
    Ok((
        Reading {
            id: parse(&id)?,
            measurement: body.measurement,
            effective_at: body.effective_at,
            utc_offset_seconds: body.utc_offset_seconds,
            source: body.source,
            quality: body.quality,
            off_scale: body.off_scale,
            glucose_context: body.glucose_context,
            note,
            recorded_at: body.recorded_at,
            triage,
            supersedes: supersedes.as_deref().map(parse).transpose()?,
            superseded_by: superseded_by.as_deref().map(parse).transpose()?,
        },
        week,
    ))
}

/// One reading by id.
pub fn get(
    conn: &Connection,
    cipher: &Cipher,
    id: ReadingId,
) -> Result<Option<Reading>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE r.id = ?1"))?;
    let mut rows = stmt.query([id.to_string()])?;
    match rows.next()? {
        Some(row) => Ok(Some(decode(cipher, row)?.0)),
        None => Ok(None),
    }
}

/// What to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadingFilter {
    /// Only this kind.
    pub kind: Option<ReadingKind>,
    /// Only readings measured at or after this instant.
    pub since: Option<Timestamp>,
    /// Only readings measured at or before this instant.
    pub until: Option<Timestamp>,
    /// Include readings that a correction superseded.
    pub include_superseded: bool,
    /// At most this many, newest first.
    pub limit: Option<usize>,
}

/// Readings matching `filter`, newest first by time of measurement.
///
/// Every lookup goes through the (kind tag, week) index; a listing of all kinds merges
/// one range scan per kind, so no second time index is kept.
pub fn list(
    conn: &Connection,
    cipher: &Cipher,
    filter: &ReadingFilter,
) -> Result<Vec<Reading>, StoreError> {
    let Some(kind) = filter.kind else {
        let mut out = Vec::new();
        for kind in ReadingKind::ALL {
            out.extend(list(
                conn,
                cipher,
                &ReadingFilter {
                    kind: Some(kind),
                    ..filter.clone()
                },
            )?);
        }
        out.sort_by(|a, b| b.effective_at.cmp(&a.effective_at).then(b.id.cmp(&a.id)));
        if let Some(limit) = filter.limit {
            out.truncate(limit);
        }
        return Ok(out);
    };
    let min_week = filter.since.map(week_of).unwrap_or(i64::MIN);
    let max_week = filter.until.map(week_of).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE r.kind_tag = ?1 AND r.week BETWEEN ?2 AND ?3 ORDER BY r.week DESC"
    ))?;
    let mut rows = stmt.query(params![kind_tag(cipher, kind), min_week, max_week])?;
    let mut out = Vec::new();
    let mut last_week = i64::MAX;
    while let Some(row) = rows.next()? {
        let week: i64 = row.get(6)?;
        if let Some(limit) = filter.limit {
            // Weeks come newest first; once a full week beyond the limit is read, stop.
            if out.len() >= limit && week < last_week {
                break;
            }
        }
        last_week = week;
        let (r, _) = decode(cipher, row)?;
        if !filter.include_superseded && r.superseded_by.is_some() {
            continue;
        }
        if filter.since.is_some_and(|s| r.effective_at < s)
            || filter.until.is_some_and(|u| r.effective_at > u)
        {
            continue;
        }
        out.push(r);
    }
    out.sort_by(|a, b| b.effective_at.cmp(&a.effective_at).then(b.id.cmp(&a.id)));
    if let Some(limit) = filter.limit {
        out.truncate(limit);
    }
    Ok(out)
}

/// Number of stored readings (superseded included).
pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    Ok(conn.query_row("SELECT count(*) FROM readings", [], |r| r.get::<_, i64>(0))? as u64)
}

/// The care team's thresholds for `kind`, if set.
pub fn thresholds(
    conn: &Connection,
    cipher: &Cipher,
    kind: ReadingKind,
) -> Result<Option<ThresholdSet>, StoreError> {
    let tag = kind_tag(cipher, kind);
    let blob: Option<Vec<u8>> = conn
        .prepare_cached("SELECT body FROM thresholds WHERE kind_tag = ?1")?
        .query_row([&tag], |r| r.get(0))
        .optional()?;
    blob.map(|b| open_json(cipher, "thresholds", "body", kind.short_name(), &b))
        .transpose()
}

/// Stores the care team's thresholds for their kind, replacing earlier ones.
pub fn put_thresholds(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    set: &ThresholdSet,
) -> Result<(), StoreError> {
    let body = seal_json(cipher, "thresholds", "body", set.kind.short_name(), set)?;
    tx.prepare_cached("INSERT OR REPLACE INTO thresholds (kind_tag, body) VALUES (?1, ?2)")?
        .execute(params![kind_tag(cipher, set.kind), body])?;
    Ok(())
}

/// Removes the care team's thresholds for `kind` (the defaults apply again). Returns
/// false if there were none.
pub fn delete_thresholds(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    kind: ReadingKind,
) -> Result<bool, StoreError> {
    Ok(tx.execute(
        "DELETE FROM thresholds WHERE kind_tag = ?1",
        [kind_tag(cipher, kind)],
    )? == 1)
}

/// Stores a schedule, replacing one with the same id.
pub fn put_schedule(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    s: &MeasurementSchedule,
) -> Result<(), StoreError> {
    let body = seal_json(cipher, "schedules", "body", &s.id, s)?;
    tx.prepare_cached("INSERT OR REPLACE INTO schedules (id, body) VALUES (?1, ?2)")?
        .execute(params![s.id, body])?;
    Ok(())
}

/// Removes a schedule. Returns false if there was none.
pub fn delete_schedule(tx: &Transaction<'_>, id: &str) -> Result<bool, StoreError> {
    Ok(tx.execute("DELETE FROM schedules WHERE id = ?1", [id])? == 1)
}

/// Every schedule.
pub fn schedules(
    conn: &Connection,
    cipher: &Cipher,
) -> Result<Vec<MeasurementSchedule>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, body FROM schedules ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, body) = row?;
        out.push(open_json(cipher, "schedules", "body", &id, &body)?);
    }
    Ok(out)
}

/// Number of outbox rows waiting for upload.
pub fn pending_uploads(conn: &Connection) -> Result<u64, StoreError> {
    Ok(
        conn.query_row("SELECT count(*) FROM outbox WHERE state = 0", [], |r| {
            r.get::<_, i64>(0)
        })? as u64,
    )
}
