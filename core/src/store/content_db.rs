//! `content.db`: the region's public self-care articles, their images and the FTS5
//! search index, in a plain SQLite database beside the sealed store (ADR 0011 §3).
//!
//! What it owns: article versions (one row per article and language), image bytes,
//! and the search index. What it must not hold: anything about the patient. Which
//! articles were assigned and what the patient read live sealed in the main store
//! (migration 007, [`crate::content`]); this file only says which public articles are
//! cached, which the budget keeps close to "the library in the patient's languages".
//!
//! # Schema (its own `user_version`, [`SCHEMA_VERSION`])
//!
//! - `articles`: `seq` (integer key, also the FTS rowid), `id`, `language` (unique
//!   together), `version`, `title`, `summary`, `body` (Markdown), `plain` (the body's
//!   plain text, unfolded, for snippets), `topics` and `images` (JSON), `updated_at`
//!   (RFC 3339), `byte_size` (bytes of `body` + `plain`). An evicted article keeps its
//!   row as a stub: `body` and `plain` NULL, `byte_size` 0, so lists still show it as
//!   "not available offline" and advice lookups still find it.
//! - `article_images`: which images each article version ships (for offline
//!   availability and for removing images nothing refers to any more).
//! - `images`: `id`, `content_type`, `bytes`, `sha1` (raw 20 bytes, what FHIR's
//!   `Attachment.hash` carries base64), `size`.
//! - `articles_fts`: FTS5, **contentless** (`content=''`) with `contentless_delete=1`,
//!   rowid = `articles.seq`, columns `title`, `summary`, `body` holding
//!   [`fold`]ed text, `tokenize = 'unicode61 remove_diacritics 2'`, `prefix = '2 3'`.
//!   Contentless because the folded text is only ever matched, never shown: snippets
//!   are cut from the unfolded `plain` column (so they keep å ä ö), and an external
//!   content table would have to store a second, folded copy of every body. An upsert
//!   or eviction deletes the FTS row and inserts the new one in the same transaction;
//!   an evicted stub stays findable by title and summary.
//!
//! Durability: this is a cache of public content that the next sync restores, so the
//! connection runs WAL with `synchronous = NORMAL`. A database that is corrupt, or
//! written by a newer schema, is deleted and recreated empty: unlike the main store, it
//! can hold nothing that exists only here.

use std::fs;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, ffi::ErrorCode, params};

use crate::domain::content::{
    Article, ArticleId, ArticleMeta, ContentLanguage, ImageId, ImageRef, fold,
};
use crate::store::StoreError;

/// File name of the content database inside the data directory.
pub const CONTENT_DB_FILE: &str = "content.db";
/// Every file SQLite may keep for the content database (removed on wipe).
pub const CONTENT_DB_FILES: [&str; 3] = [CONTENT_DB_FILE, "content.db-wal", "content.db-shm"];
/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: u32 = 1;

const SCHEMA_V1: &str = "
CREATE TABLE articles (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL,
    language   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    title      TEXT NOT NULL,
    summary    TEXT NOT NULL,
    body       TEXT,
    plain      TEXT,
    topics     TEXT NOT NULL,
    images     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    byte_size  INTEGER NOT NULL,
    UNIQUE (id, language)
) STRICT;

CREATE TABLE article_images (
    article_seq INTEGER NOT NULL REFERENCES articles (seq) ON DELETE CASCADE,
    image_id    TEXT NOT NULL,
    PRIMARY KEY (article_seq, image_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX article_images_by_image ON article_images (image_id);

CREATE TABLE images (
    id           TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    sha1         BLOB NOT NULL,
    size         INTEGER NOT NULL
) STRICT;

CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, summary, body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
";

/// SQL true when article row `a` can be read offline: its body and every image it
/// ships are on the device.
const AVAILABLE: &str = "(a.body IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM article_images ai LEFT JOIN images i ON i.id = ai.image_id
    WHERE ai.article_seq = a.seq AND i.id IS NULL))";

/// The open content database: one connection behind a lock (reads are short; the
/// search and list queries take well under a millisecond to a few milliseconds).
pub struct ContentDb {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for ContentDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentDb").finish_non_exhaustive()
    }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

enum OpenFailure {
    /// Corrupt, not a database, or a newer schema: recreate.
    Discard,
    Other(StoreError),
}

impl From<rusqlite::Error> for OpenFailure {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => {
                OpenFailure::Discard
            }
            _ => OpenFailure::Other(e.into()),
        }
    }
}

fn open_conn(path: &Path) -> Result<Connection, OpenFailure> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(OpenFailure::Discard);
    }
    if version < 1 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_V1)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
    }
    // Touch the schema so a damaged file fails here, not on first use.
    conn.query_row("SELECT count(*) FROM articles", [], |_| Ok(()))?;
    Ok(conn)
}

/// Removes the content database's files from `dir` (absent files are fine).
pub fn remove_files(dir: &Path) -> Result<(), StoreError> {
    for f in CONTENT_DB_FILES {
        match fs::remove_file(dir.join(f)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

impl ContentDb {
    /// Opens (or creates) `content.db` in `dir`. A corrupt file or one from a newer
    /// schema is deleted and recreated empty (it is a cache of public content).
    pub fn open(dir: &Path) -> Result<ContentDb, StoreError> {
        fs::create_dir_all(dir)?;
        let path = dir.join(CONTENT_DB_FILE);
        let conn = match open_conn(&path) {
            Ok(c) => c,
            Err(OpenFailure::Discard) => {
                tracing::warn!("content database unusable; recreating it empty");
                remove_files(dir)?;
                open_conn(&path).map_err(|e| match e {
                    OpenFailure::Discard => StoreError::Sqlite("new content database".into()),
                    OpenFailure::Other(e) => e,
                })?
            }
            Err(OpenFailure::Other(e)) => return Err(e),
        };
        Ok(ContentDb {
            conn: Mutex::new(conn),
        })
    }

    /// Runs `f` on the connection.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        f(&lock(&self.conn))
    }

    /// Runs `f` in one write transaction, committed, or rolled back if `f` fails.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = lock(&self.conn);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// One stored article version, without its body.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMeta {
    /// Its row (and FTS rowid).
    pub seq: i64,
    /// The metadata.
    pub meta: ArticleMeta,
    /// The images it ships.
    pub images: Vec<ImageRef>,
    /// True if the body and every image are on the device.
    pub available: bool,
    /// True if the body is on the device (false for an evicted stub).
    pub has_body: bool,
    /// Bytes of the stored body (0 for a stub).
    pub byte_size: u64,
}

/// A stored article version with its body, if the body is on the device.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArticle {
    /// Metadata and availability.
    pub stored: StoredMeta,
    /// The Markdown body, `None` for an evicted stub.
    pub body: Option<String>,
}

/// A row found by [`search`].
#[derive(Debug, Clone, PartialEq)]
pub struct RawHit {
    /// The article.
    pub id: ArticleId,
    /// The language of the row found.
    pub language: ContentLanguage,
    /// Its title.
    pub title: String,
    /// Its summary.
    pub summary: String,
    /// The unfolded plain text of its body, `None` for a stub.
    pub plain: Option<String>,
    /// bm25 (lower is better).
    pub rank: f64,
}

fn decode_err(_: serde_json::Error) -> StoreError {
    StoreError::Decode
}

fn lang_from(code: &str) -> Result<ContentLanguage, StoreError> {
    ContentLanguage::from_tag(code).ok_or(StoreError::Decode)
}

const META_COLUMNS: &str = "a.seq, a.id, a.language, a.version, a.title, a.summary, a.topics, \
     a.images, a.updated_at, a.body IS NOT NULL, a.byte_size";

fn meta_from_row(r: &rusqlite::Row<'_>, available: bool) -> Result<StoredMeta, StoreError> {
    let id: String = r.get(1)?;
    let lang: String = r.get(2)?;
    let topics: String = r.get(6)?;
    let images: String = r.get(7)?;
    let updated: String = r.get(8)?;
    Ok(StoredMeta {
        seq: r.get(0)?,
        meta: ArticleMeta {
            id: ArticleId::parse(&id).ok_or(StoreError::Decode)?,
            version: r.get(3)?,
            language: lang_from(&lang)?,
            title: r.get(4)?,
            summary: r.get(5)?,
            topics: serde_json::from_str(&topics).map_err(decode_err)?,
            updated_at: updated
                .parse::<Timestamp>()
                .map_err(|_| StoreError::Decode)?,
        },
        images: serde_json::from_str(&images).map_err(decode_err)?,
        available,
        has_body: r.get(9)?,
        byte_size: r.get::<_, i64>(10)? as u64,
    })
}

fn index(
    tx: &Transaction<'_>,
    seq: i64,
    title: &str,
    summary: &str,
    plain: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM articles_fts WHERE rowid = ?1")?
        .execute([seq])?;
    tx.prepare_cached(
        "INSERT INTO articles_fts (rowid, title, summary, body) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![seq, fold(title), fold(summary), fold(plain)])?;
    Ok(())
}

fn remove_unreferenced_images(tx: &Transaction<'_>) -> Result<usize, StoreError> {
    Ok(tx.execute(
        "DELETE FROM images WHERE NOT EXISTS (
             SELECT 1 FROM article_images ai JOIN articles a ON a.seq = ai.article_seq
             WHERE ai.image_id = images.id AND a.body IS NOT NULL)",
        [],
    )?)
}

/// Stores an article version with its plain text (for snippets and the index) and the
/// image bytes given, replacing an older or equal version of the same id and language
/// in one transaction (row, FTS row, image list). Images the article ships but that
/// are not given keep the bytes already stored (an image is fetched again only when
/// its hash changed). Returns false, changing nothing, if a newer version is stored
/// or this same version (same `updated_at`, body not evicted) comes again with no
/// image bytes.
pub fn upsert(
    tx: &Transaction<'_>,
    article: &Article,
    plain: &str,
    images: &[(ImageId, String, Vec<u8>)],
) -> Result<bool, StoreError> {
    let stored: Option<(u32, String, bool)> = tx
        .prepare_cached(
            "SELECT version, updated_at, body IS NOT NULL FROM articles
             WHERE id = ?1 AND language = ?2",
        )?
        .query_row(params![article.id.as_str(), article.language.code()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let updated_at = article.updated_at.to_string();
    match stored {
        Some((version, _, _)) if version > article.version => return Ok(false),
        // The same version seen again (an inclusive `_lastUpdated` search returns the
        // newest article once more), its body still here and no image bytes to add:
        // nothing changes. An evicted stub takes its body back.
        Some((version, at, true))
            if version == article.version && at == updated_at && images.is_empty() =>
        {
            return Ok(false);
        }
        _ => {}
    }
    let topics = serde_json::to_string(&article.topics).map_err(decode_err)?;
    let image_refs = serde_json::to_string(&article.images).map_err(decode_err)?;
    let size = (article.body_markdown.len() + plain.len()) as i64;
    let seq: i64 = tx
        .prepare_cached(
            "INSERT INTO articles (id, language, version, title, summary, body, plain, topics,
                                   images, updated_at, byte_size)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (id, language) DO UPDATE SET
                 version = excluded.version, title = excluded.title,
                 summary = excluded.summary, body = excluded.body, plain = excluded.plain,
                 topics = excluded.topics, images = excluded.images,
                 updated_at = excluded.updated_at, byte_size = excluded.byte_size
             RETURNING seq",
        )?
        .query_row(
            params![
                article.id.as_str(),
                article.language.code(),
                article.version,
                article.title,
                article.summary,
                article.body_markdown,
                plain,
                topics,
                image_refs,
                updated_at,
                size,
            ],
            |r| r.get(0),
        )?;
    tx.prepare_cached("DELETE FROM article_images WHERE article_seq = ?1")?
        .execute([seq])?;
    for image in &article.images {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO article_images (article_seq, image_id) VALUES (?1, ?2)",
        )?
        .execute(params![seq, image.id.as_str()])?;
    }
    for (id, content_type, bytes) in images {
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes);
        tx.prepare_cached(
            "INSERT INTO images (id, content_type, bytes, sha1, size) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET content_type = excluded.content_type,
                 bytes = excluded.bytes, sha1 = excluded.sha1, size = excluded.size",
        )?
        .execute(params![
            id.as_str(),
            content_type,
            bytes,
            sha1.as_ref(),
            bytes.len() as i64
        ])?;
    }
    index(tx, seq, &article.title, &article.summary, plain)?;
    remove_unreferenced_images(tx)?;
    Ok(true)
}

/// Removes every language version of an article (withdrawn by the region), its index
/// rows and the images nothing else refers to. Returns false if none was stored.
pub fn remove(tx: &Transaction<'_>, id: &ArticleId) -> Result<bool, StoreError> {
    let seqs: Vec<i64> = tx
        .prepare_cached("SELECT seq FROM articles WHERE id = ?1")?
        .query_map([id.as_str()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for seq in &seqs {
        tx.prepare_cached("DELETE FROM articles_fts WHERE rowid = ?1")?
            .execute([seq])?;
        tx.prepare_cached("DELETE FROM articles WHERE seq = ?1")?
            .execute([seq])?;
    }
    remove_unreferenced_images(tx)?;
    Ok(!seqs.is_empty())
}

/// Evicts the body of article row `seq`, keeping a stub (metadata, and title and
/// summary in the index), and removes the images nothing available refers to any more.
pub fn evict(tx: &Transaction<'_>, seq: i64) -> Result<(), StoreError> {
    let row: Option<(String, String)> = tx
        .prepare_cached("SELECT title, summary FROM articles WHERE seq = ?1")?
        .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((title, summary)) = row else {
        return Ok(());
    };
    tx.prepare_cached(
        "UPDATE articles SET body = NULL, plain = NULL, byte_size = 0 WHERE seq = ?1",
    )?
    .execute([seq])?;
    index(tx, seq, &title, &summary, "")?;
    remove_unreferenced_images(tx)?;
    Ok(())
}

/// Every stored article version (stubs included), by `seq`.
pub fn all(conn: &Connection) -> Result<Vec<StoredMeta>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {META_COLUMNS}, {AVAILABLE} FROM articles a ORDER BY a.seq"
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(meta_from_row(r, r.get(11)?)?);
    }
    Ok(out)
}

/// The stored versions of one article, every language.
pub fn versions(conn: &Connection, id: &ArticleId) -> Result<Vec<StoredMeta>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {META_COLUMNS}, {AVAILABLE} FROM articles a WHERE a.id = ?1 ORDER BY a.seq"
    ))?;
    let mut rows = stmt.query([id.as_str()])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(meta_from_row(r, r.get(11)?)?);
    }
    Ok(out)
}

/// One article version with its body (if on the device).
pub fn article(
    conn: &Connection,
    id: &ArticleId,
    language: ContentLanguage,
) -> Result<Option<StoredArticle>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {META_COLUMNS}, {AVAILABLE}, a.body FROM articles a
         WHERE a.id = ?1 AND a.language = ?2"
    ))?;
    let mut rows = stmt.query(params![id.as_str(), language.code()])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(StoredArticle {
        stored: meta_from_row(r, r.get(11)?)?,
        body: r.get(12)?,
    }))
}

/// An image's media type and bytes.
pub fn image(conn: &Connection, id: &ImageId) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT content_type, bytes FROM images WHERE id = ?1")?
        .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// An image's SHA-1 (raw bytes), to compare with the region's `Attachment.hash`.
pub fn image_sha1(conn: &Connection, id: &ImageId) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT sha1 FROM images WHERE id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()?)
}

/// Bytes of bodies and images on the device.
pub fn cached_bytes(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT (SELECT coalesce(sum(byte_size), 0) FROM articles)
              + (SELECT coalesce(sum(size), 0) FROM images)",
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// Bytes of images that article row `seq` ships and no other article with a body on
/// the device does: what evicting it frees besides its body.
pub fn exclusive_image_bytes(conn: &Connection, seq: i64) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum(i.size), 0) FROM article_images ai
             JOIN images i ON i.id = ai.image_id
             WHERE ai.article_seq = ?1 AND NOT EXISTS (
                 SELECT 1 FROM article_images o JOIN articles b ON b.seq = o.article_seq
                 WHERE o.image_id = ai.image_id AND o.article_seq <> ?1
                   AND b.body IS NOT NULL)",
        )?
        .query_row([seq], |r| r.get(0))?;
    Ok(n as u64)
}

/// The FTS5 query for a user's search text: folded, split into terms at anything that
/// is not a letter or digit, each term a quoted prefix query (`"blodtr"*`), all terms
/// required. FTS5 syntax in the input (`"`, `*`, `:`, `-`, `AND`, `NEAR`, parentheses)
/// is either a separator or, quoted, a plain term. `None` if no term is left.
pub fn fts_query(text: &str) -> Option<(String, Vec<String>)> {
    const MAX_TERMS: usize = 16;
    let terms: Vec<String> = fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(MAX_TERMS)
        .map(str::to_owned)
        .collect();
    if terms.is_empty() {
        return None;
    }
    let query = terms
        .iter()
        .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ");
    Some((query, terms))
}

/// Runs an FTS5 `query` (from [`fts_query`]) in `preferred`, falling back to Swedish
/// for articles with no version in `preferred`: at most one row per article. Title
/// matches come first, then bm25 with weights title 10, summary 4, body 1.
pub fn search(
    conn: &Connection,
    query: &str,
    preferred: ContentLanguage,
    limit: usize,
) -> Result<Vec<RawHit>, StoreError> {
    let title_query = format!("title : ({query})");
    let mut stmt = conn.prepare_cached(
        // Rank on row numbers only, then read the texts of the few rows kept: sorting
        // every match with its body would copy them all through the sorter.
        "SELECT a.id, a.language, a.title, a.summary, a.plain, h.rank
         FROM (SELECT a.seq AS seq, bm25(articles_fts, 10.0, 4.0, 1.0) AS rank,
                      a.seq IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?2)
                          AS in_title
               FROM articles_fts JOIN articles a ON a.seq = articles_fts.rowid
               WHERE articles_fts MATCH ?1
                 AND (a.language = ?3 OR (a.language = 'sv' AND NOT EXISTS (
                      SELECT 1 FROM articles p WHERE p.id = a.id AND p.language = ?3)))
               ORDER BY in_title DESC, rank
               LIMIT ?4) h
         JOIN articles a ON a.seq = h.seq
         ORDER BY h.in_title DESC, h.rank",
    )?;
    let mut rows = stmt.query(params![
        query,
        title_query,
        preferred.code(),
        limit.min(i64::MAX as usize) as i64
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let lang: String = r.get(1)?;
        out.push(RawHit {
            id: ArticleId::parse(&id).ok_or(StoreError::Decode)?,
            language: lang_from(&lang)?,
            title: r.get(2)?,
            summary: r.get(3)?,
            plain: r.get(4)?,
            rank: r.get(5)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_sqlite_has_fts5_and_the_schema_opens() {
        let dir = tempfile::tempdir().expect("dir");
        let db = ContentDb::open(dir.path()).expect("open");
        let fts5: bool = db
            .read(|c| {
                Ok(
                    c.query_row("SELECT sqlite_compileoption_used('ENABLE_FTS5')", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .expect("query");
        assert!(fts5);
        drop(db);
        // Reopening finds the schema in place.
        ContentDb::open(dir.path()).expect("reopen");
    }

    #[test]
    fn a_corrupt_content_db_is_recreated() {
        let dir = tempfile::tempdir().expect("dir");
        fs::write(
            dir.path().join(CONTENT_DB_FILE),
            b"not a database at all, really",
        )
        .expect("write");
        let db = ContentDb::open(dir.path()).expect("open");
        assert_eq!(db.read(cached_bytes).expect("bytes"), 0);
    }

    #[test]
    fn queries_quote_every_term() {
        let (q, terms) = fts_query("Hälsa \"AND\" blodtr* -x:y NEAR(").expect("terms");
        assert_eq!(q, "\"halsa\"* \"and\"* \"blodtr\"* \"x\"* \"y\"* \"near\"*");
        assert_eq!(terms.len(), 6);
        assert!(fts_query(" \"*:- ").is_none());
    }
}
