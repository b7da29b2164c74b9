//! Self-care content: the region's articles, parsed and sanitised for native rendering,
//! linked from triage outcomes, and folded for search (DESIGN.md §6, issue 7).
//!
//! Pure: nothing here fetches, caches or stores an article; the store and sync layers
//! do, and call in here to parse a body ([`render::parse`]), index it
//! ([`render::plain_text`], [`fold::fold`]) and find the advice for a reading
//! ([`advice::advice_for`], [`advice::article_for_advice`]). Shells receive a
//! [`model::Document`], never Markdown or HTML; the safe subset is documented in
//! [`render`], the allowed targets in [`sanitize`].

pub mod advice;
pub mod fold;
pub mod model;
pub mod render;
pub mod sanitize;

pub use advice::{AdviceArticle, advice_code, advice_for, article_for_advice, broader};
pub use fold::fold;
pub use model::{
    ADVICE_TOPIC_PREFIX, AdviceCode, Article, ArticleId, ArticleMeta, Block, ContentLanguage,
    Document, ImageId, ImageRef, Inline, LinkTarget,
};
pub use render::{MAX_NESTING, article_document, images, links, parse, plain_text};
