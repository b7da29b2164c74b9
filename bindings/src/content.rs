//! The self-care content area: the region's articles listed (assigned ones first),
//! read as a parsed, sanitised document the shells render natively, searched with
//! highlighted snippets, linked from a reading's triage outcome, and kept within a
//! storage budget.
//!
//! Converts and forwards to `nara_core::content`; every rule (parsing, the safe subset
//! of Markdown, allowed link targets, language fallback, search folding, eviction)
//! stays in the core. Shells never receive Markdown or HTML: a [`Document`] of
//! [`Block`]s and [`Inline`]s whose links have passed the core's sanitiser.
//!
//! Articles come from the region with a sync; nothing here fetches. The test hooks
//! (feature `test-hooks`) store articles and the assignment as a sync would.

use std::sync::Arc;
use std::time::SystemTime;

use nara_core::Change as CoreChange;
use nara_core::content::{
    ArticleSummary as CoreSummary, ReadArticle as CoreRead, SearchHit as CoreHit,
    SnippetPart as CoreSnippetPart,
};
use nara_core::domain::content::{
    AdviceArticle as CoreAdviceArticle, AdviceCode, ArticleId, ArticleMeta as CoreMeta,
    Block as CoreBlock, Document as CoreDocument, ImageId, Inline as CoreInline,
    LinkTarget as CoreLinkTarget,
};
use nara_core::domain::reading::ReadingId;

use crate::errors::{CallbackError, ContentError};
use crate::nara::Shared;
use crate::observe::{StopReason, TaskHandle, spawn_watch};
use crate::platform::blocking;
use crate::types::to_system;

pub use nara_core::domain::content::ContentLanguage;

/// A language the region may publish content in. Every lookup takes the patient's
/// preferred one; an article missing in it is shown in Swedish, flagged `fellBack`.
#[uniffi::remote(Enum)]
pub enum ContentLanguage {
    /// Swedish (`sv`), the language every article is published in first.
    Sv,
    /// English (`en`).
    En,
    /// Finnish (`fi`).
    Fi,
    /// Northern Sami (`se`).
    Se,
    /// Meänkieli (`fit`).
    Fit,
}

fn article_id(id: &str) -> Result<ArticleId, ContentError> {
    ArticleId::parse(id).ok_or(ContentError::InvalidArticleId)
}

fn image_id(id: &str) -> Result<ImageId, ContentError> {
    ImageId::parse(id).ok_or(ContentError::InvalidImageId)
}

/// An article in the list.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ArticleSummary {
    /// The article's id.
    pub id: String,
    /// The language of the version shown.
    pub language: ContentLanguage,
    /// Shown in another language than the preferred one (Swedish, usually): say so
    /// ("Shown in Swedish").
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
    pub updated_at: SystemTime,
}

impl From<CoreSummary> for ArticleSummary {
    fn from(s: CoreSummary) -> Self {
        ArticleSummary {
            id: s.id.to_string(),
            language: s.language,
            fell_back: s.fell_back,
            title: s.title,
            summary: s.summary,
            topics: s.topics,
            assigned: s.assigned,
            available_offline: s.available_offline,
            updated_at: to_system(s.updated_at),
        }
    }
}

/// An article's metadata.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ArticleMeta {
    /// The article's id.
    pub id: String,
    /// The region's version of it.
    pub version: u32,
    /// The language of this version.
    pub language: ContentLanguage,
    /// Title, plain text.
    pub title: String,
    /// Summary, plain text.
    pub summary: String,
    /// Topic and advice codes.
    pub topics: Vec<String>,
    /// When the region last changed it.
    pub updated_at: SystemTime,
}

impl From<CoreMeta> for ArticleMeta {
    fn from(m: CoreMeta) -> Self {
        ArticleMeta {
            id: m.id.to_string(),
            version: m.version,
            language: m.language,
            title: m.title,
            summary: m.summary,
            topics: m.topics,
            updated_at: to_system(m.updated_at),
        }
    }
}

/// Where a link in an article goes; anything else was never a link.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum LinkTarget {
    /// Another article: open it in the app (`Content.read`).
    Article {
        /// The article's id.
        id: String,
    },
    /// The "what to do now" advice for a triage outcome: open it in the app.
    ReadingAdvice {
        /// The advice code, e.g. `bp-red`.
        code: String,
    },
    /// A web page (`https:` only, normalised): open it in the system browser.
    External {
        /// The URL.
        url: String,
    },
    /// A phone number (`+` and digits only, e.g. `1177`): offer to call it.
    Phone {
        /// The number.
        number: String,
    },
}

impl From<CoreLinkTarget> for LinkTarget {
    fn from(t: CoreLinkTarget) -> Self {
        match t {
            CoreLinkTarget::Article(id) => LinkTarget::Article { id: id.to_string() },
            CoreLinkTarget::ReadingAdvice(code) => LinkTarget::ReadingAdvice {
                code: code.to_string(),
            },
            CoreLinkTarget::External(url) => LinkTarget::External { url },
            CoreLinkTarget::Phone(number) => LinkTarget::Phone { number },
        }
    }
}

/// Text inside a block.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Inline {
    /// Plain text, free of control characters.
    Text {
        /// The text.
        text: String,
    },
    /// Emphasised text (usually italic).
    Emphasis {
        /// What is emphasised.
        inlines: Vec<Inline>,
    },
    /// Strongly emphasised text (usually bold).
    Strong {
        /// What is emphasised.
        inlines: Vec<Inline>,
    },
    /// A link to an allowed target.
    Link {
        /// Where it goes.
        target: LinkTarget,
        /// The target as a URI (`nara:content/…`, `nara:advice/…`, `https://…`,
        /// `tel:…`), for accessibility and sharing.
        uri: String,
        /// Its text (never empty).
        inlines: Vec<Inline>,
    },
    /// A hard line break.
    LineBreak,
}

fn inlines(v: Vec<CoreInline>) -> Vec<Inline> {
    v.into_iter().map(Inline::from).collect()
}

impl From<CoreInline> for Inline {
    fn from(i: CoreInline) -> Self {
        match i {
            CoreInline::Text(text) => Inline::Text { text },
            CoreInline::Emphasis(v) => Inline::Emphasis {
                inlines: inlines(v),
            },
            CoreInline::Strong(v) => Inline::Strong {
                inlines: inlines(v),
            },
            CoreInline::Link { target, inlines: v } => Inline::Link {
                uri: target.uri(),
                target: target.into(),
                inlines: inlines(v),
            },
            CoreInline::LineBreak => Inline::LineBreak,
        }
    }
}

/// One item of a list: its blocks.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ListItem {
    /// The item's blocks, top to bottom.
    pub blocks: Vec<Block>,
}

/// A block of a [`Document`]. Quotes and lists nest at most 8 deep.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Block {
    /// A heading, level 1 to 3.
    Heading {
        /// 1, 2 or 3.
        level: u8,
        /// Its text.
        inlines: Vec<Inline>,
    },
    /// A paragraph.
    Paragraph {
        /// Its text.
        inlines: Vec<Inline>,
    },
    /// A bulleted list.
    BulletList {
        /// The items.
        items: Vec<ListItem>,
    },
    /// A numbered list starting at `start`.
    OrderedList {
        /// The first item's number.
        start: u64,
        /// The items.
        items: Vec<ListItem>,
    },
    /// A quotation or call-out.
    Quote {
        /// Its blocks.
        blocks: Vec<Block>,
    },
    /// An image shipped with the article: its bytes come from `Content.image`.
    Image {
        /// Which image.
        image_id: String,
        /// Its text alternative for screen readers (may be empty for decoration).
        alt: String,
    },
    /// A thematic break.
    Rule,
}

fn blocks(v: Vec<CoreBlock>) -> Vec<Block> {
    v.into_iter().map(Block::from).collect()
}

fn items(v: Vec<Vec<CoreBlock>>) -> Vec<ListItem> {
    v.into_iter()
        .map(|b| ListItem { blocks: blocks(b) })
        .collect()
}

impl From<CoreBlock> for Block {
    fn from(b: CoreBlock) -> Self {
        match b {
            CoreBlock::Heading { level, inlines: v } => Block::Heading {
                level,
                inlines: inlines(v),
            },
            CoreBlock::Paragraph(v) => Block::Paragraph {
                inlines: inlines(v),
            },
            CoreBlock::BulletList(v) => Block::BulletList { items: items(v) },
            CoreBlock::OrderedList { start, items: v } => Block::OrderedList {
                start,
                items: items(v),
            },
            CoreBlock::Quote(v) => Block::Quote { blocks: blocks(v) },
            CoreBlock::Image { image_id, alt } => Block::Image {
                image_id: image_id.to_string(),
                alt,
            },
            CoreBlock::Rule => Block::Rule,
        }
    }
}

/// A parsed, sanitised article body: render it natively. Nothing in it is HTML, and
/// every link target has passed the core's sanitiser.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct Document {
    /// The blocks, top to bottom.
    pub blocks: Vec<Block>,
}

impl From<CoreDocument> for Document {
    fn from(d: CoreDocument) -> Self {
        Document {
            blocks: blocks(d.blocks),
        }
    }
}

/// An article opened for reading.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ReadArticle {
    /// Its metadata (the language shown included).
    pub meta: ArticleMeta,
    /// The body; empty when it is not on the device.
    pub document: Document,
    /// Shown in another language than the preferred one: say so.
    pub fell_back: bool,
    /// The body and every image are on the device; if false, say "not available
    /// offline" (the next sync brings it back).
    pub available_offline: bool,
}

impl From<CoreRead> for ReadArticle {
    fn from(r: CoreRead) -> Self {
        ReadArticle {
            meta: r.meta.into(),
            document: r.document.into(),
            fell_back: r.fell_back,
            available_offline: r.available_offline,
        }
    }
}

/// A piece of a search snippet.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SnippetPart {
    /// The text, as written.
    pub text: String,
    /// A word that matched the query: render it emphasised.
    pub highlighted: bool,
}

impl From<CoreSnippetPart> for SnippetPart {
    fn from(p: CoreSnippetPart) -> Self {
        SnippetPart {
            text: p.text,
            highlighted: p.highlighted,
        }
    }
}

/// A search result: one per article.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SearchHit {
    /// The article's id.
    pub id: String,
    /// The language of the version found.
    pub language: ContentLanguage,
    /// Found in Swedish because the article has no version in the preferred language.
    pub fell_back: bool,
    /// Title, plain text.
    pub title: String,
    /// Words around the first match, matches highlighted.
    pub snippet: Vec<SnippetPart>,
    /// bm25 score; lower is better (hits are already in order).
    pub rank: f64,
}

impl From<CoreHit> for SearchHit {
    fn from(h: CoreHit) -> Self {
        SearchHit {
            id: h.id.to_string(),
            language: h.language,
            fell_back: h.fell_back,
            title: h.title,
            snippet: h.snippet.into_iter().map(SnippetPart::from).collect(),
            rank: h.rank,
        }
    }
}

/// The article that answers a reading's "what to do now" advice.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AdviceArticle {
    /// The article's id: open it with `Content.read`.
    pub id: String,
    /// The language it is in.
    pub language: ContentLanguage,
    /// In Swedish because none was in the patient's language: say so.
    pub fell_back: bool,
}

impl From<CoreAdviceArticle> for AdviceArticle {
    fn from(a: CoreAdviceArticle) -> Self {
        AdviceArticle {
            id: a.id.to_string(),
            language: a.language,
            fell_back: a.fell_back,
        }
    }
}

/// An image shipped with an article, as stored on the device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContentImage {
    /// Its media type (`image/png`, `image/jpeg` or `image/webp`).
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Receives the content list: the current list first, then the new list after every
/// change to the content (a sync, an eviction, a new assignment).
#[uniffi::export(with_foreign)]
pub trait ContentListener: Send + Sync {
    /// Every stored article once: assigned ones first, then the library by title.
    fn on_articles(&self, articles: Vec<ArticleSummary>) -> Result<(), CallbackError>;
    /// The watch stopped (store closed or wiped, or a read failed); no more calls follow.
    fn on_stopped(&self, reason: StopReason) -> Result<(), CallbackError>;
}

fn list_blocking(
    core: &nara_core::Nara,
    preferred: ContentLanguage,
) -> Result<Vec<ArticleSummary>, ContentError> {
    Ok(core
        .content()
        .list(preferred)?
        .into_iter()
        .map(ArticleSummary::from)
        .collect())
}

/// Self-care content: the article list, reading, search, advice links and the budget.
#[derive(uniffi::Object)]
pub struct Content {
    shared: Arc<Shared>,
}

impl Content {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Content { shared }
    }
}

#[uniffi::export]
impl Content {
    /// Every stored article once, in `preferred` or its fallback: assigned ones first
    /// (in the care team's order), then the library by title.
    pub async fn list(
        &self,
        preferred: ContentLanguage,
    ) -> Result<Vec<ArticleSummary>, ContentError> {
        let core = self.shared.get()?;
        blocking(move || list_blocking(&core, preferred)).await
    }

    /// Opens article `id` in `preferred` (or Swedish, with `fellBack`), parsed and
    /// sanitised, and marks it as read. `null`/`nil` if not on the device.
    pub async fn read(
        &self,
        id: String,
        preferred: ContentLanguage,
    ) -> Result<Option<ReadArticle>, ContentError> {
        let core = self.shared.get()?;
        let id = article_id(&id)?;
        blocking(move || Ok(core.content().read(&id, preferred)?.map(ReadArticle::from))).await
    }

    /// True if article `id`'s version in `language` is on the device with its body and
    /// every image.
    pub async fn is_available_offline(
        &self,
        id: String,
        language: ContentLanguage,
    ) -> Result<bool, ContentError> {
        let core = self.shared.get()?;
        let id = article_id(&id)?;
        blocking(move || Ok(core.content().is_available_offline(&id, language)?)).await
    }

    /// An image of an article (a [`Block::Image`]'s `imageId`), or `null`/`nil` if not
    /// on the device (show its alt text).
    pub async fn image(&self, image_id: String) -> Result<Option<ContentImage>, ContentError> {
        let core = self.shared.get()?;
        let image_id = self::image_id(&image_id)?;
        blocking(move || {
            Ok(core
                .content()
                .image(&image_id)?
                .map(|(content_type, bytes)| ContentImage {
                    content_type,
                    bytes,
                }))
        })
        .await
    }

    /// Full-text search: accents and case do not matter (`halsa` finds `hälsa`), each
    /// word is a prefix, every word must match. One hit per article, in `preferred` or
    /// Swedish; title matches first. At most `limit` hits.
    pub async fn search(
        &self,
        query: String,
        preferred: ContentLanguage,
        limit: u32,
    ) -> Result<Vec<SearchHit>, ContentError> {
        let core = self.shared.get()?;
        blocking(move || {
            Ok(core
                .content()
                .search(&query, preferred, limit as usize)?
                .into_iter()
                .map(SearchHit::from)
                .collect())
        })
        .await
    }

    /// The stored article answering the "what to do now" advice for reading
    /// `reading_id`'s triage outcome, in `preferred` or Swedish; `null`/`nil` for a green
    /// reading or if no stored article answers (show the band's general advice).
    pub async fn advice_article(
        &self,
        reading_id: String,
        preferred: ContentLanguage,
    ) -> Result<Option<AdviceArticle>, ContentError> {
        let core = self.shared.get()?;
        let id = ReadingId::parse(&reading_id).ok_or(ContentError::InvalidReadingId)?;
        blocking(move || {
            let reading = core
                .readings()
                .get(id)?
                .ok_or(ContentError::NoSuchReading)?;
            Ok(core
                .content()
                .advice_article(&reading, preferred)?
                .map(AdviceArticle::from))
        })
        .await
    }

    /// The stored article answering an advice code: the target of a `nara:advice/…`
    /// link ([`LinkTarget::Advice`]) in an article or a notice, in `preferred` or
    /// Swedish, falling back to the broader code; `null`/`nil` if none answers (show
    /// the band's general advice).
    pub async fn advice_article_for_code(
        &self,
        code: String,
        preferred: ContentLanguage,
    ) -> Result<Option<AdviceArticle>, ContentError> {
        let core = self.shared.get()?;
        let code = AdviceCode::parse(&code).ok_or(ContentError::InvalidAdviceCode)?;
        blocking(move || {
            Ok(core
                .content()
                .advice_article_for_code(&code, preferred)?
                .map(AdviceArticle::from))
        })
        .await
    }

    /// The budget for cached bodies and images, in bytes (50 MiB unless set).
    pub async fn budget(&self) -> Result<u64, ContentError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.content().budget()?)).await
    }

    /// Sets the budget and evicts down to it (assigned articles are never evicted).
    pub async fn set_budget(&self, bytes: u64) -> Result<(), ContentError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.content().set_budget(bytes)?)).await
    }

    /// Evicts the least recently read library articles until the cache fits the budget;
    /// returns how many article versions were evicted (they stay listed, not offline).
    pub async fn enforce_budget(&self) -> Result<u64, ContentError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.content().enforce_budget()? as u64)).await
    }

    /// Bytes of article bodies and images on the device.
    pub async fn cached_bytes(&self) -> Result<u64, ContentError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.content().cached_bytes()?)).await
    }

    /// Watches the article list in `preferred`: `listener` gets it at once, then again
    /// after every change to the content, until the handle is cancelled or dropped or
    /// the store closes.
    pub fn watch_content(
        &self,
        preferred: ContentLanguage,
        listener: Arc<dyn ContentListener>,
    ) -> Result<Arc<TaskHandle>, ContentError> {
        spawn_watch(
            &self.shared,
            listener,
            move |core| list_blocking(core, preferred),
            |c| matches!(c, CoreChange::ContentChanged),
            ContentListener::on_articles,
            ContentListener::on_stopped,
        )
    }
}

/// An image given to [`Content::debug_store_article`] (feature `test-hooks`).
#[cfg(feature = "test-hooks")]
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DebugArticleImage {
    /// The id the Markdown refers to as `nara:image/<id>`.
    pub id: String,
    /// Its media type.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

#[cfg(feature = "test-hooks")]
#[uniffi::export]
impl Content {
    /// Test hook (feature `test-hooks`, never in app builds): stores an article version
    /// with its images as if a sync had downloaded it (updated now). Returns false if a
    /// newer version was already stored.
    #[allow(clippy::too_many_arguments)]
    pub async fn debug_store_article(
        &self,
        id: String,
        language: ContentLanguage,
        version: u32,
        title: String,
        summary: String,
        markdown: String,
        topics: Vec<String>,
        images: Vec<DebugArticleImage>,
    ) -> Result<bool, ContentError> {
        use nara_core::domain::content::{Article, ImageRef};
        let core = self.shared.get()?;
        let mut refs = Vec::with_capacity(images.len());
        let mut data = Vec::with_capacity(images.len());
        for i in images {
            let id = image_id(&i.id)?;
            refs.push(ImageRef {
                id: id.clone(),
                alt: String::new(),
                content_type: i.content_type.clone(),
            });
            data.push((id, i.content_type, i.bytes));
        }
        let article = Article {
            id: article_id(&id)?,
            version,
            language,
            title,
            summary,
            body_markdown: markdown,
            topics,
            images: refs,
            updated_at: jiff::Timestamp::now(),
        };
        blocking(move || Ok(core.content().store_article(article, data)?)).await
    }

    /// Test hook (feature `test-hooks`, never in app builds): replaces the care team's
    /// assignment list as a sync would.
    pub async fn debug_set_assigned(&self, ids: Vec<String>) -> Result<(), ContentError> {
        let core = self.shared.get()?;
        let ids = ids
            .iter()
            .map(|i| article_id(i))
            .collect::<Result<Vec<_>, _>>()?;
        blocking(move || Ok(core.content().set_assigned(ids)?)).await
    }
}
