//! The self-care content area seen from Rust, as the shells see it: articles stored as a
//! sync would (the `test-hooks` feature), the list with assigned articles first, an
//! article read as a sanitised document (no script, a `javascript:` link left as plain
//! text), search folding accents with highlighted snippets, the Swedish fallback
//! flagged, images, typed errors and the list listener. The same stories run in Kotlin
//! and Swift under `tests/bindings/`.
#![cfg(feature = "test-hooks")]

mod common;
use common::holds_soon as eventually;
use std::sync::Arc;

use nara_ffi::content::{
    ArticleSummary, Block, ContentLanguage, DebugArticleImage, Inline, LinkTarget,
};
use nara_ffi::errors::ContentError;
use nara_ffi::nara::Nara;
use nara_ffi::observe::StopReason;

async fn open(dir: &tempfile::TempDir) -> Arc<Nara> {
    common::open_xor(dir, 0x5c).await
}

/// A library article in Swedish and English with a script, a `javascript:` link, an
/// allowed link and an image.
const LIBRARY_SV: &str = "# Motion\n\nRör dig varje dag.<script>alert('x')</script>\n\n\
[Klicka här](javascript:alert(1)) eller ring [1177](tel:1177).\n\n\
![Promenad](nara:image/walk)\n";
/// An assigned article, in Swedish only.
const ASSIGNED_SV: &str = "# Om hälsa\n\nDin hälsa och ditt blodtryck hänger ihop. \
Mät **varje morgon**.\n";

/// Every piece of text in some inlines, links included.
fn text(inlines: &[Inline]) -> String {
    inlines
        .iter()
        .map(|i| match i {
            Inline::Text { text } => text.clone(),
            Inline::Emphasis { inlines } | Inline::Strong { inlines } => text(inlines),
            Inline::Link { inlines, .. } => text(inlines),
            Inline::LineBreak => "\n".to_owned(),
        })
        .collect()
}

fn links(blocks: &[Block]) -> Vec<LinkTarget> {
    fn walk(inlines: &[Inline], out: &mut Vec<LinkTarget>) {
        for i in inlines {
            match i {
                Inline::Link {
                    target, inlines, ..
                } => {
                    out.push(target.clone());
                    walk(inlines, out);
                }
                Inline::Emphasis { inlines } | Inline::Strong { inlines } => walk(inlines, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for b in blocks {
        if let Block::Paragraph { inlines } | Block::Heading { inlines, .. } = b {
            walk(inlines, &mut out);
        }
    }
    out
}

fn all_text(blocks: &[Block]) -> String {
    blocks
        .iter()
        .map(|b| match b {
            Block::Paragraph { inlines } | Block::Heading { inlines, .. } => text(inlines),
            Block::Image { alt, .. } => alt.clone(),
            _ => String::new(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn provision(nara: &Nara) {
    let content = nara.content();
    let png = vec![0x89, b'P', b'N', b'G', 1, 2, 3];
    assert!(
        content
            .debug_store_article(
                "motion".into(),
                ContentLanguage::Sv,
                1,
                "Motion".into(),
                "Rör dig varje dag".into(),
                LIBRARY_SV.into(),
                vec!["motion".into()],
                vec![DebugArticleImage {
                    id: "walk".into(),
                    content_type: "image/png".into(),
                    bytes: png,
                }],
            )
            .await
            .expect("stores")
    );
    assert!(
        content
            .debug_store_article(
                "motion".into(),
                ContentLanguage::En,
                1,
                "Exercise".into(),
                "Move every day".into(),
                "# Exercise\n\nMove every day.\n".into(),
                vec!["motion".into()],
                vec![],
            )
            .await
            .expect("stores")
    );
    assert!(
        content
            .debug_store_article(
                "halsa".into(),
                ContentLanguage::Sv,
                2,
                "Om hälsa".into(),
                "Hälsa och blodtryck".into(),
                ASSIGNED_SV.into(),
                vec!["advice:bp-red".into()],
                vec![],
            )
            .await
            .expect("stores")
    );
    content
        .debug_set_assigned(vec!["halsa".into()])
        .await
        .expect("assigns");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_shows_assigned_articles_first_and_flags_the_fallback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    provision(&nara).await;
    let list = nara
        .content()
        .list(ContentLanguage::En)
        .await
        .expect("lists");
    let ids: Vec<&str> = list.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["halsa", "motion"]);
    assert!(list[0].assigned);
    assert!(list[0].fell_back, "Swedish only, asked for English");
    assert_eq!(list[0].language, ContentLanguage::Sv);
    assert!(!list[1].assigned);
    assert!(!list[1].fell_back);
    assert_eq!(list[1].title, "Exercise");
    assert!(list.iter().all(|a| a.available_offline));
}

#[tokio::test(flavor = "multi_thread")]
async fn reading_returns_a_sanitised_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    provision(&nara).await;
    let content = nara.content();
    let article = content
        .read("motion".into(), ContentLanguage::Sv)
        .await
        .expect("reads")
        .expect("stored");
    assert!(!article.fell_back);
    assert!(article.available_offline);
    assert_eq!(article.meta.title, "Motion");
    let blocks = &article.document.blocks;
    assert!(matches!(&blocks[0], Block::Heading { level: 1, .. }));
    let all = all_text(blocks);
    assert!(!all.contains("alert('x')"), "script text dropped: {all}");
    assert!(!all.contains("<script"), "no HTML: {all}");
    assert!(
        all.contains("Klicka här"),
        "the javascript link's text stays: {all}"
    );
    assert_eq!(
        links(blocks),
        [LinkTarget::Phone {
            number: "1177".into()
        }],
        "only the tel: link is a link"
    );
    let image = blocks
        .iter()
        .find_map(|b| match b {
            Block::Image { image_id, alt } => Some((image_id.clone(), alt.clone())),
            _ => None,
        })
        .expect("an image block");
    assert_eq!(image, ("walk".to_owned(), "Promenad".to_owned()));
    let bytes = content
        .image("walk".into())
        .await
        .expect("image")
        .expect("on the device");
    assert_eq!(bytes.content_type, "image/png");
    assert_eq!(bytes.bytes[..4], [0x89, b'P', b'N', b'G']);
    assert!(
        content
            .is_available_offline("motion".into(), ContentLanguage::Sv)
            .await
            .expect("checks")
    );

    let fallback = content
        .read("halsa".into(), ContentLanguage::En)
        .await
        .expect("reads")
        .expect("stored");
    assert!(fallback.fell_back);
    assert_eq!(fallback.meta.language, ContentLanguage::Sv);
    let strong = fallback.document.blocks.iter().any(|b| match b {
        Block::Paragraph { inlines } => inlines.iter().any(|i| matches!(i, Inline::Strong { .. })),
        _ => false,
    });
    assert!(strong, "bold kept as Strong");

    assert!(
        content
            .read("missing".into(), ContentLanguage::Sv)
            .await
            .expect("reads")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn search_folds_accents_and_highlights_the_match() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    provision(&nara).await;
    let hits = nara
        .content()
        .search("halsa".into(), ContentLanguage::En, 10)
        .await
        .expect("searches");
    assert_eq!(hits.len(), 1, "{hits:?}");
    let hit = &hits[0];
    assert_eq!(hit.id, "halsa");
    assert!(hit.fell_back);
    assert_eq!(hit.language, ContentLanguage::Sv);
    let highlighted: Vec<&str> = hit
        .snippet
        .iter()
        .filter(|p| p.highlighted)
        .map(|p| p.text.as_str())
        .collect();
    assert!(
        highlighted.iter().any(|t| t.contains("hälsa")),
        "{:?}",
        hit.snippet
    );
    assert!(
        nara.content()
            .search("   ".into(), ContentLanguage::Sv, 10)
            .await
            .expect("searches")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_ids_are_typed_errors_and_the_budget_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    provision(&nara).await;
    let content = nara.content();
    assert!(matches!(
        content.read("no/such id".into(), ContentLanguage::Sv).await,
        Err(ContentError::InvalidArticleId)
    ));
    assert!(matches!(
        content.image("../etc".into()).await,
        Err(ContentError::InvalidImageId)
    ));
    assert!(matches!(
        content
            .advice_article("not-a-uuid".into(), ContentLanguage::Sv)
            .await,
        Err(ContentError::InvalidReadingId)
    ));
    // A `nara:advice/…` link resolves through the core's rule, broader code included.
    let by_code = content
        .advice_article_for_code("bp-red-high".into(), ContentLanguage::Sv)
        .await
        .expect("resolves")
        .expect("an article answers");
    assert_eq!(by_code.id, "halsa");
    assert!(matches!(
        content
            .advice_article_for_code("Not A Code".into(), ContentLanguage::Sv)
            .await,
        Err(ContentError::InvalidAdviceCode)
    ));
    assert!(matches!(
        content
            .advice_article(
                "00000000-0000-4000-8000-000000000000".into(),
                ContentLanguage::Sv
            )
            .await,
        Err(ContentError::NoSuchReading)
    ));
    assert_eq!(content.budget().await.expect("budget"), 50 * 1024 * 1024);
    assert!(content.cached_bytes().await.expect("bytes") > 0);
    content.set_budget(1).await.expect("sets");
    assert_eq!(content.budget().await.expect("budget"), 1);
    let list = content.list(ContentLanguage::Sv).await.expect("lists");
    let motion = list.iter().find(|a| a.id == "motion").expect("listed");
    let halsa = list.iter().find(|a| a.id == "halsa").expect("listed");
    assert!(!motion.available_offline, "evicted, still listed");
    assert!(
        halsa.available_offline,
        "assigned articles are never evicted"
    );

    nara.close_store();
    assert!(matches!(
        content.list(ContentLanguage::Sv).await,
        Err(ContentError::Closed)
    ));
}

type Lists = common::Lists<ArticleSummary>;

#[tokio::test(flavor = "multi_thread")]
async fn the_watch_sends_the_list_now_and_after_each_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let lists = Arc::new(Lists::default());
    let handle = nara
        .content()
        .watch_content(ContentLanguage::Sv, lists.clone())
        .expect("watches");
    assert!(eventually(|| lists.seen.lock().expect("lock").len() == 1).await);
    assert!(lists.seen.lock().expect("lock")[0].is_empty());
    provision(&nara).await;
    assert!(
        eventually(|| {
            lists
                .seen
                .lock()
                .expect("lock")
                .last()
                .is_some_and(|l| l.len() == 2 && l[0].id == "halsa" && l[0].assigned)
        })
        .await
    );
    nara.close_store();
    assert!(
        eventually(|| {
            matches!(
                *lists.stopped.lock().expect("lock"),
                Some(StopReason::Closed)
            )
        })
        .await
    );
    handle.cancel();
}
