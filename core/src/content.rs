//! Self-care content: the area the shells call (`Nara::content()`), ADR 0011.
//!
//! Owns the articles the region publishes (stored, listed, read, searched, evicted
//! within a budget) and the patient's side of them (which were assigned, what was
//! read). The articles, images and search index are public and live in `content.db`
//! ([`crate::store::content_db`]); the assignment and the read history are sealed in
//! the main store (migration 007). Nothing here fetches: the sync layer calls
//! [`Content::store_article`], [`Content::remove_article`], [`Content::set_assigned`]
//! and then [`Content::enforce_budget`].
//!
//! Languages: every lookup takes the patient's preferred [`ContentLanguage`]; an
//! article missing in it is shown in Swedish with `fell_back` set (the shell says
//! "Shown in Swedish"). An article published in neither is listed in the first
//! language it has (also `fell_back`), but not searched.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::Nara;
use crate::domain::content::{
    AdviceArticle, AdviceCode, Article, ArticleId, ArticleMeta, ContentLanguage, Document, ImageId,
    advice_for, article_document, article_for_advice, fold, plain_text,
};
use crate::domain::reading::Reading;
use crate::error::NaraError;
use crate::observe::Change;
use crate::store::content_db::{self as db, StoredMeta};
use crate::store::crypto::Cipher;
use crate::store::{StoreError, open_json, seal_json};

/// The content budget when none is set: 50 MiB of bodies and images.
pub const DEFAULT_BUDGET: u64 = 50 * 1024 * 1024;
/// Image media types stored; anything else (SVG above all) is ignored, so an article
/// shipping one is not available offline.
pub const IMAGE_TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];
/// Words of body text around the first match in a search snippet.
pub const SNIPPET_WORDS: usize = 24;

/// `meta` key of the content budget (bytes, little-endian u64; not patient data).
const BUDGET_KEY: &str = "content_budget";
const ASSIGNED_TABLE: &str = "content_assigned";

/// An article in the list.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleSummary {
    /// The article.
    pub id: ArticleId,
    /// The language of the version shown.
    pub language: ContentLanguage,
    /// True if shown in another language than the preferred one (Swedish, usually).
    pub fell_back: bool,
    /// Title, plain text.
    pub title: String,
    /// Summary, plain text.
    pub summary: String,
    /// Topic and advice codes.
    pub topics: Vec<String>,
    /// Assigned by the care team ("for you").
    pub assigned: bool,
    /// The body and every image are on the device.
    pub available_offline: bool,
    /// When the region last changed it.
    pub updated_at: jiff::Timestamp,
}

/// An article opened for reading.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadArticle {
    /// Its metadata (the language shown included).
    pub meta: ArticleMeta,
    /// The parsed, sanitised body; empty when the body is not on the device.
    pub document: Document,
    /// True if shown in another language than the preferred one.
    pub fell_back: bool,
    /// The body and every image are on the device. If false, the shell says "not
    /// available offline" (the next sync, or opening it online, brings it back).
    pub available_offline: bool,
}

/// A piece of a search snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnippetPart {
    /// The text, as written (not folded).
    pub text: String,
    /// True for a word that matched the query: the shell renders it emphasised.
    pub highlighted: bool,
}

/// A search result: one per article.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The article.
    pub id: ArticleId,
    /// The language of the version found.
    pub language: ContentLanguage,
    /// True if found in Swedish because the article has no version in the preferred
    /// language.
    pub fell_back: bool,
    /// Title, plain text.
    pub title: String,
    /// Words around the first match in the body (or the summary), matches highlighted.
    pub snippet: Vec<SnippetPart>,
    /// bm25 score; lower is better. Hits come title matches first, then by this.
    pub rank: f64,
}

/// Self-care content.
pub struct Content<'a> {
    pub(crate) nara: &'a Nara,
}

fn read_tag(cipher: &Cipher, id: &ArticleId) -> Vec<u8> {
    cipher.index_tag("content-article", id.as_str())
}

fn assigned(conn: &Connection, cipher: &Cipher) -> Result<Vec<ArticleId>, StoreError> {
    let sealed: Option<Vec<u8>> = conn
        .prepare_cached("SELECT body FROM content_assigned WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    match sealed {
        Some(s) => open_json(cipher, ASSIGNED_TABLE, "body", "1", &s),
        None => Ok(Vec::new()),
    }
}

fn put_assigned(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    ids: &[ArticleId],
) -> Result<(), StoreError> {
    let sealed = seal_json(cipher, ASSIGNED_TABLE, "body", "1", &ids)?;
    tx.prepare_cached(
        "INSERT INTO content_assigned (id, body) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body",
    )?
    .execute([sealed])?;
    Ok(())
}

fn reads(conn: &Connection) -> Result<HashMap<Vec<u8>, i64>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT tag, last_read FROM content_reads")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

fn budget(conn: &Connection) -> Result<Option<u64>, StoreError> {
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

/// The version to show of one article's stored versions: `preferred`, else Swedish,
/// else the first in [`ContentLanguage::ALL`] order. The bool is `fell_back`.
fn pick(versions: &[StoredMeta], preferred: ContentLanguage) -> Option<(&StoredMeta, bool)> {
    if let Some(v) = versions.iter().find(|v| v.meta.language == preferred) {
        return Some((v, false));
    }
    let mut others: Vec<&StoredMeta> = versions.iter().collect();
    others.sort_by_key(|v| v.meta.language);
    others.first().map(|v| (*v, true))
}

/// Cuts a snippet of about [`SNIPPET_WORDS`] words around the first word of `text`
/// whose folded form starts with one of the (folded) `terms`, highlighting every such
/// word. `None` if no word matches.
pub fn snippet(text: &str, terms: &[String]) -> Option<Vec<SnippetPart>> {
    // Split into words (letters and digits) and the text between them.
    let mut pieces: Vec<(&str, bool)> = Vec::new();
    let mut start = 0;
    let mut in_word: Option<bool> = None;
    for (i, c) in text.char_indices() {
        let w = c.is_alphanumeric();
        if in_word.is_some_and(|prev| prev != w) {
            pieces.push((&text[start..i], !w));
            start = i;
        }
        in_word = Some(w);
    }
    if let Some(w) = in_word {
        pieces.push((&text[start..], w));
    }
    let matches = |word: &str| {
        let f = fold(word);
        terms.iter().any(|t| f.starts_with(t.as_str()))
    };
    let first = pieces.iter().position(|(p, w)| *w && matches(p))?;
    let words_before = SNIPPET_WORDS / 4;
    let mut from = first;
    let mut seen = 0;
    while from > 0 && seen < words_before {
        from -= 1;
        if pieces[from].1 {
            seen += 1;
        }
    }
    while from < first && !pieces[from].1 {
        from += 1;
    }
    let mut to = from;
    let mut words = 0;
    while to < pieces.len() && words < SNIPPET_WORDS {
        if pieces[to].1 {
            words += 1;
        }
        to += 1;
    }
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut push = |text: &str, highlighted: bool| match parts.last_mut() {
        Some(last) if last.highlighted == highlighted => last.text.push_str(text),
        _ => parts.push(SnippetPart {
            text: text.to_owned(),
            highlighted,
        }),
    };
    if from > 0 {
        push("…", false);
    }
    for (piece, is_word) in &pieces[from..to] {
        if *is_word && matches(piece) {
            push(piece, true);
        } else if *is_word {
            push(piece, false);
        } else {
            let spaced: String = piece
                .chars()
                .map(|c| if c.is_whitespace() { ' ' } else { c })
                .collect();
            push(&spaced, false);
        }
    }
    if to < pieces.len() {
        push("…", false);
    }
    Some(parts)
}

impl Content<'_> {
    fn db(&self) -> &db::ContentDb {
        &self.nara.content_db
    }

    fn changed(&self) {
        self.nara.observers.publish(Change::ContentChanged);
    }

    /// Stores an article version as downloaded, with the image bytes fetched for it
    /// (`(id, content type, bytes)`; only the article's own images of the types in
    /// [`IMAGE_TYPES`] are kept; images not given keep bytes stored earlier). Replaces
    /// an older or equal version of the same id and language, its search entry in the
    /// same transaction. Returns false if nothing changed: a newer version is already
    /// stored, or this very version (same `updated_at`) with no image bytes given. Does not
    /// enforce the budget: call [`Content::enforce_budget`] after a download.
    pub fn store_article(
        &self,
        article: Article,
        images: Vec<(ImageId, String, Vec<u8>)>,
    ) -> Result<bool, NaraError> {
        let plain = plain_text(&article_document(&article));
        let images: Vec<_> = images
            .into_iter()
            .filter(|(id, ct, _)| {
                IMAGE_TYPES.contains(&ct.as_str()) && article.images.iter().any(|i| &i.id == id)
            })
            .collect();
        let stored = self
            .db()
            .write(|tx| db::upsert(tx, &article, &plain, &images))?;
        if stored {
            self.changed();
        }
        Ok(stored)
    }

    /// Removes every language version of an article the region withdrew (superseded,
    /// entered in error), its images and its read mark. Returns false if it was not
    /// stored.
    pub fn remove_article(&self, id: &ArticleId) -> Result<bool, NaraError> {
        let removed = self.db().write(|tx| db::remove(tx, id))?;
        self.nara.store.write(|tx, cipher| {
            tx.prepare_cached("DELETE FROM content_reads WHERE tag = ?1")?
                .execute([read_tag(cipher, id)])?;
            Ok::<_, StoreError>(())
        })?;
        if removed {
            self.changed();
        }
        Ok(removed)
    }

    /// Replaces the care team's assignment list (in their order). Assigned articles
    /// are listed first and never evicted.
    pub fn set_assigned(&self, ids: Vec<ArticleId>) -> Result<(), NaraError> {
        let mut seen = HashSet::new();
        let ids: Vec<ArticleId> = ids.into_iter().filter(|i| seen.insert(i.clone())).collect();
        self.nara
            .store
            .write(|tx, cipher| put_assigned(tx, cipher, &ids))?;
        self.changed();
        Ok(())
    }

    /// The assignment list, in the care team's order.
    pub fn assigned(&self) -> Result<Vec<ArticleId>, NaraError> {
        Ok(self.nara.store.read(assigned)?)
    }

    /// Every stored article once, in `preferred` or its fallback: assigned ones first
    /// (in the care team's order), then the library by title. Assigned articles not
    /// downloaded yet are not listed.
    pub fn list(&self, preferred: ContentLanguage) -> Result<Vec<ArticleSummary>, NaraError> {
        let assigned = self.assigned()?;
        let all = self.db().read(db::all)?;
        let mut by_id: HashMap<ArticleId, Vec<StoredMeta>> = HashMap::new();
        for v in all {
            by_id.entry(v.meta.id.clone()).or_default().push(v);
        }
        let mut out: Vec<ArticleSummary> = by_id
            .values()
            .filter_map(|versions| pick(versions, preferred))
            .map(|(v, fell_back)| ArticleSummary {
                id: v.meta.id.clone(),
                language: v.meta.language,
                fell_back,
                title: v.meta.title.clone(),
                summary: v.meta.summary.clone(),
                topics: v.meta.topics.clone(),
                assigned: assigned.contains(&v.meta.id),
                available_offline: v.available,
                updated_at: v.meta.updated_at,
            })
            .collect();
        let position = |id: &ArticleId| assigned.iter().position(|a| a == id);
        out.sort_by_cached_key(|s| {
            (
                position(&s.id).unwrap_or(usize::MAX),
                fold(&s.title),
                s.id.clone(),
            )
        });
        Ok(out)
    }

    /// Opens an article in `preferred` (or its fallback), parsed and sanitised, and
    /// marks it as read (for least-recently-read eviction). `None` if not stored.
    pub fn read(
        &self,
        id: &ArticleId,
        preferred: ContentLanguage,
    ) -> Result<Option<ReadArticle>, NaraError> {
        let versions = self.db().read(|c| db::versions(c, id))?;
        let Some((chosen, fell_back)) = pick(&versions, preferred) else {
            return Ok(None);
        };
        let Some(stored) = self
            .db()
            .read(|c| db::article(c, id, chosen.meta.language))?
        else {
            return Ok(None);
        };
        let document = match &stored.body {
            Some(body) => {
                let m = &stored.stored.meta;
                article_document(&Article {
                    id: m.id.clone(),
                    version: m.version,
                    language: m.language,
                    title: m.title.clone(),
                    summary: m.summary.clone(),
                    body_markdown: body.clone(),
                    topics: m.topics.clone(),
                    images: stored.stored.images.clone(),
                    updated_at: m.updated_at,
                })
            }
            None => Document::default(),
        };
        self.nara.store.write(|tx, cipher| {
            tx.prepare_cached(
                "INSERT INTO content_reads (tag, last_read)
                 VALUES (?1, (SELECT coalesce(max(last_read), 0) + 1 FROM content_reads))
                 ON CONFLICT (tag) DO UPDATE SET last_read = excluded.last_read",
            )?
            .execute(params![read_tag(cipher, id)])?;
            Ok::<_, StoreError>(())
        })?;
        Ok(Some(ReadArticle {
            meta: stored.stored.meta,
            document,
            fell_back,
            available_offline: stored.stored.available,
        }))
    }

    /// True if the article's version in `language` is stored with its body and every
    /// image.
    pub fn is_available_offline(
        &self,
        id: &ArticleId,
        language: ContentLanguage,
    ) -> Result<bool, NaraError> {
        Ok(self
            .db()
            .read(|c| db::article(c, id, language))?
            .is_some_and(|a| a.stored.available))
    }

    /// An image's media type and bytes, if on the device.
    pub fn image(&self, image_id: &ImageId) -> Result<Option<(String, Vec<u8>)>, NaraError> {
        Ok(self.db().read(|c| db::image(c, image_id))?)
    }

    /// The stored SHA-1 of an image (raw bytes, what the region's `Attachment.hash`
    /// carries base64), if its bytes are on the device: sync compares it instead of
    /// reading and hashing the image again.
    pub fn image_sha1(&self, image_id: &ImageId) -> Result<Option<Vec<u8>>, NaraError> {
        Ok(self.db().read(|c| db::image_sha1(c, image_id))?)
    }

    /// Full-text search: the query is folded (`halsa` finds `hälsa`), each term is a
    /// prefix (`blodtr` finds `blodtryck`), every term must match; FTS5 syntax typed by
    /// the patient is matched as text. One hit per article, in `preferred` or, for an
    /// article without that language, Swedish; title matches first, then bm25 (title
    /// 10, summary 4, body 1). At most `limit` hits.
    pub fn search(
        &self,
        query: &str,
        preferred: ContentLanguage,
        limit: usize,
    ) -> Result<Vec<SearchHit>, NaraError> {
        let Some((fts, terms)) = db::fts_query(query) else {
            return Ok(Vec::new());
        };
        let raw = self.db().read(|c| db::search(c, &fts, preferred, limit))?;
        Ok(raw
            .into_iter()
            .map(|h| {
                let snippet = h
                    .plain
                    .as_deref()
                    .and_then(|p| snippet(p, &terms))
                    .or_else(|| snippet(&h.summary, &terms))
                    .unwrap_or_else(|| {
                        vec![SnippetPart {
                            text: h.summary.clone(),
                            highlighted: false,
                        }]
                    });
                SearchHit {
                    fell_back: h.language != preferred,
                    id: h.id,
                    language: h.language,
                    title: h.title,
                    snippet,
                    rank: h.rank,
                }
            })
            .collect())
    }

    /// The stored article that answers the "what to do now" advice for `reading`'s
    /// triage outcome (see [`crate::domain::content::advice`]), in `preferred` or
    /// Swedish. `None` for a green reading or if no stored article answers.
    pub fn advice_article(
        &self,
        reading: &Reading,
        preferred: ContentLanguage,
    ) -> Result<Option<AdviceArticle>, NaraError> {
        let Some(code) = advice_for(reading) else {
            return Ok(None);
        };
        self.advice_article_for_code(&code, preferred)
    }

    /// The stored article answering an advice code (a `nara:advice/…` link in an
    /// article or a notice), in `preferred` or else Swedish, falling back to the
    /// broader code; `None` if none answers.
    pub fn advice_article_for_code(
        &self,
        code: &AdviceCode,
        preferred: ContentLanguage,
    ) -> Result<Option<AdviceArticle>, NaraError> {
        Ok(self.advice_index(preferred)?.article(code))
    }

    /// The stored articles' metadata, read once, to answer many advice codes (every
    /// `nara:advice/…` link of a document) with [`AdviceIndex::article`].
    pub fn advice_index(&self, preferred: ContentLanguage) -> Result<AdviceIndex, NaraError> {
        let metas = self
            .db()
            .read(db::all)?
            .into_iter()
            .map(|s| s.meta)
            .collect();
        Ok(AdviceIndex { metas, preferred })
    }

    /// The budget for cached bodies and images, in bytes.
    pub fn budget(&self) -> Result<u64, NaraError> {
        Ok(self
            .nara
            .store
            .read(|c, _| budget(c))?
            .unwrap_or(DEFAULT_BUDGET))
    }

    /// Sets the budget and evicts down to it.
    pub fn set_budget(&self, bytes: u64) -> Result<(), NaraError> {
        self.nara.store.write(|tx, _| {
            tx.prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![BUDGET_KEY, bytes.to_le_bytes().to_vec()])?;
            Ok::<_, StoreError>(())
        })?;
        self.enforce_budget()?;
        Ok(())
    }

    /// Bytes of bodies and images on the device.
    pub fn cached_bytes(&self) -> Result<u64, NaraError> {
        Ok(self.db().read(db::cached_bytes)?)
    }

    /// Evicts general (not assigned) articles, least recently read first (never read
    /// before read; then the earliest stored), until the cache fits the budget. An
    /// evicted article keeps its metadata (listed, not available offline, still found
    /// by title and summary). Assigned articles are never evicted, so the cache may
    /// stay above the budget. Returns how many article versions were evicted.
    pub fn enforce_budget(&self) -> Result<usize, NaraError> {
        let budget = self.budget()?;
        if self.cached_bytes()? <= budget {
            return Ok(0);
        }
        let (assigned, reads) = self
            .nara
            .store
            .read(|c, cipher| Ok((assigned(c, cipher)?, reads(c)?)))?;
        let cipher = self.nara.store.cipher();
        let mut candidates: Vec<(i64, i64)> = self
            .db()
            .read(db::all)?
            .into_iter()
            .filter(|s| s.has_body && !assigned.contains(&s.meta.id))
            .map(|s| {
                let last = reads
                    .get(&read_tag(cipher, &s.meta.id))
                    .copied()
                    .unwrap_or(0);
                (last, s.seq)
            })
            .collect();
        candidates.sort_unstable();
        let evicted = self.db().write(|tx| {
            let mut evicted = 0;
            for (_, seq) in candidates {
                if db::cached_bytes(tx)? <= budget {
                    break;
                }
                db::evict(tx, seq)?;
                evicted += 1;
            }
            Ok(evicted)
        })?;
        if evicted > 0 {
            tracing::info!(evicted, "content evicted to fit the budget");
            self.changed();
        }
        Ok(evicted)
    }
}

/// The stored articles' metadata for resolving advice codes (see
/// [`Content::advice_index`]).
#[derive(Debug, Clone)]
pub struct AdviceIndex {
    metas: Vec<ArticleMeta>,
    preferred: ContentLanguage,
}

impl AdviceIndex {
    /// The article answering `code` (see [`article_for_advice`]).
    pub fn article(&self, code: &AdviceCode) -> Option<AdviceArticle> {
        article_for_advice(code, &self.metas, self.preferred)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_keep_diacritics_and_highlight_prefix_matches() {
        let terms = vec!["halsa".to_owned()];
        let parts = snippet("Om din hälsa.\nHälsosam mat", &terms).expect("match");
        let highlighted: Vec<&str> = parts
            .iter()
            .filter(|p| p.highlighted)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(highlighted, vec!["hälsa"]);
        let text: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(text, "Om din hälsa. Hälsosam mat");
        assert!(snippet("inget här", &terms).is_none());
    }

    #[test]
    fn long_texts_are_cut_around_the_first_match() {
        let mut text = "ord ".repeat(100);
        text.push_str("blodtryck ");
        text.push_str(&"mer ".repeat(100));
        let parts = snippet(&text, &["blodtr".to_owned()]).expect("match");
        let joined: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert!(joined.starts_with('…') && joined.ends_with('…'));
        assert!(joined.split_whitespace().count() <= SNIPPET_WORDS + 2);
    }
}
