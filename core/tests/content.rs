//! Stories about self-care content on the phone: the care team assigns articles, the
//! region's library is cached within a budget, the patient searches in Swedish without
//! typing å ä ö, reads offline, and logs out.

use std::sync::Arc;

use jiff::{Timestamp, tz::Offset};
use nara_core::content::ArticleSummary;
use nara_core::domain::content::{
    AdviceCode, Article, ArticleId, Block, ContentLanguage, ImageId, ImageRef, Inline, LinkTarget,
};
use nara_core::domain::reading::{Measurement, NewReading};
use nara_core::store::content_db::{CONTENT_DB_FILE, CONTENT_DB_FILES};
use nara_core::{Change, FileKeyProvider, Nara, Next};

struct Fixture {
    data: tempfile::TempDir,
    _keys: tempfile::TempDir,
    nara: Nara,
}

fn open() -> Fixture {
    let data = tempfile::tempdir().expect("dir");
    let keys = tempfile::tempdir().expect("dir");
    let nara = Nara::open(
        data.path(),
        Arc::new(FileKeyProvider::new(keys.path().join("device.key"))),
    )
    .expect("open");
    Fixture {
        data,
        _keys: keys,
        nara,
    }
}

fn id(s: &str) -> ArticleId {
    ArticleId::parse(s).expect("valid id")
}

fn at(s: &str) -> Timestamp {
    s.parse().expect("time")
}

fn article(id_: &str, lang: ContentLanguage, title: &str, summary: &str, body: &str) -> Article {
    Article {
        id: id(id_),
        version: 1,
        language: lang,
        title: title.into(),
        summary: summary.into(),
        body_markdown: body.into(),
        topics: vec!["hypertension".into()],
        images: vec![],
        updated_at: at("2026-10-01T08:00:00Z"),
    }
}

fn sv(id_: &str, title: &str, summary: &str, body: &str) -> Article {
    article(id_, ContentLanguage::Sv, title, summary, body)
}

fn with_image(mut a: Article, image: &str) -> (Article, Vec<(ImageId, String, Vec<u8>)>) {
    let image_id = ImageId::parse(image).expect("valid");
    a.body_markdown.push_str(&format!(
        "\n\n![Manschetten sitter rätt](nara:image/{image})\n"
    ));
    a.images.push(ImageRef {
        id: image_id.clone(),
        alt: "En manschett på överarmen".into(),
        content_type: "image/png".into(),
    });
    (a, vec![(image_id, "image/png".into(), vec![7u8; 2_000])])
}

fn store(nara: &Nara, a: Article) {
    assert!(nara.content().store_article(a, vec![]).expect("store"));
}

fn titles(list: &[ArticleSummary]) -> Vec<&str> {
    list.iter().map(|s| s.title.as_str()).collect()
}

#[test]
fn swedish_search_folds_diacritics_and_matches_prefixes() {
    let f = open();
    store(
        &f.nara,
        sv(
            "halsa",
            "Din hälsa i vardagen",
            "Små steg mot bättre hälsa.",
            "Rör dig varje dag och ät grönsaker.",
        ),
    );
    store(
        &f.nara,
        sv(
            "bt",
            "Mäta blodtrycket hemma",
            "Så mäter du rätt.",
            "Sitt still i fem minuter innan du mäter blodtrycket.",
        ),
    );
    let content = f.nara.content();
    let hits = content
        .search("halsa", ContentLanguage::Sv, 10)
        .expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, id("halsa"));
    for q in ["blodtryck", "blodtr", "BLODTRYCKET", "mäta blodtr"] {
        let hits = content.search(q, ContentLanguage::Sv, 10).expect("search");
        assert_eq!(hits.len(), 1, "query {q}");
        assert_eq!(hits[0].id, id("bt"));
    }
    assert!(
        content
            .search("kolesterol", ContentLanguage::Sv, 10)
            .expect("search")
            .is_empty()
    );
}

#[test]
fn a_title_match_ranks_first_and_snippets_highlight_the_match() {
    let f = open();
    store(
        &f.nara,
        sv(
            "mat",
            "Mat vid diabetes",
            "Vad du kan äta.",
            "Många med diabetes har också högt blodtryck, och salt påverkar blodtrycket. \
             Ät mindre salt och mer grönsaker.",
        ),
    );
    store(
        &f.nara,
        sv(
            "bt",
            "Högt blodtryck",
            "Vad högt blodtryck är.",
            "Ett blodtryck över 140/90 räknas som högt.",
        ),
    );
    let hits = f
        .nara
        .content()
        .search("blodtryck", ContentLanguage::Sv, 10)
        .expect("search");
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].id, id("bt"));
    assert!(hits[0].rank <= hits[1].rank);
    let snippet = &hits[1].snippet;
    let highlighted: Vec<&str> = snippet
        .iter()
        .filter(|p| p.highlighted)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(highlighted, vec!["blodtryck", "blodtrycket"]);
    let text: String = snippet.iter().map(|p| p.text.as_str()).collect();
    assert!(text.contains("påverkar"), "snippets keep å ä ö: {text}");
}

#[test]
fn fts_syntax_in_the_query_is_harmless() {
    let f = open();
    store(
        &f.nara,
        sv(
            "bt",
            "Högt blodtryck",
            "Om blodtryck.",
            "Blodtryck och puls: mät båda.",
        ),
    );
    let content = f.nara.content();
    for q in [
        "\"",
        "\"blodtryck",
        "blodtryck\"",
        "*",
        "blodtryck*",
        "AND",
        "blodtryck AND",
        "OR NOT",
        "-blodtryck",
        "blodtryck -puls",
        "title:blodtryck",
        ":",
        "NEAR(blodtryck puls)",
        "(((",
        "^blodtryck",
        "{title summary}: x",
        "",
        "   ",
    ] {
        let hits = content
            .search(q, ContentLanguage::Sv, 10)
            .unwrap_or_else(|e| panic!("query {q:?} failed: {e}"));
        // Every term must match, so the extra words "and", "title" and "near" find nothing.
        if q.to_lowercase().contains("blodtryck")
            && !q.contains("AND")
            && !q.contains("title")
            && !q.contains("NEAR")
        {
            assert_eq!(hits.len(), 1, "query {q:?}");
        }
    }
    // "AND" is a word, not an operator.
    assert!(
        content
            .search("blodtryck AND", ContentLanguage::Sv, 10)
            .expect("search")
            .is_empty()
    );
}

#[test]
fn read_sanitises_scripts_and_javascript_links() {
    let f = open();
    store(
        &f.nara,
        sv(
            "x",
            "Andning vid KOL",
            "Övningar.",
            "<script>alert('x')</script>\n\nAndas lugnt. [Klicka](javascript:alert(1)) \
             eller [1177](https://www.1177.se/).",
        ),
    );
    let read = f
        .nara
        .content()
        .read(&id("x"), ContentLanguage::Sv)
        .expect("read")
        .expect("stored");
    assert!(read.available_offline);
    assert!(!read.fell_back);
    let json = serde_json::to_string(&read.document).expect("json");
    assert!(!json.contains("<script"), "{json}");
    assert!(!json.contains("javascript:"), "{json}");
    let links: Vec<&LinkTarget> = read
        .document
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Paragraph(inlines) => Some(inlines),
            _ => None,
        })
        .flatten()
        .filter_map(|i| match i {
            Inline::Link { target, .. } => Some(target),
            _ => None,
        })
        .collect();
    assert_eq!(links.len(), 1);
    assert!(matches!(links[0], LinkTarget::External(u) if u.starts_with("https://www.1177.se")));
}

#[test]
fn a_missing_language_falls_back_to_swedish_and_says_so() {
    let f = open();
    store(
        &f.nara,
        sv("a", "Högt blodtryck", "Om blodtryck.", "Blodtryck."),
    );
    store(
        &f.nara,
        sv("b", "Diabetes och mat", "Om mat.", "Mat och blodtryck."),
    );
    store(
        &f.nara,
        article(
            "b",
            ContentLanguage::En,
            "Diabetes and food",
            "About food.",
            "Food and blood pressure.",
        ),
    );
    let content = f.nara.content();
    let list = content.list(ContentLanguage::En).expect("list");
    let a = list.iter().find(|s| s.id == id("a")).expect("a");
    assert!(a.fell_back);
    assert_eq!(a.language, ContentLanguage::Sv);
    let b = list.iter().find(|s| s.id == id("b")).expect("b");
    assert!(!b.fell_back);
    assert_eq!(b.title, "Diabetes and food");

    let read = content
        .read(&id("a"), ContentLanguage::En)
        .expect("read")
        .expect("stored");
    assert!(read.fell_back);
    assert_eq!(read.meta.language, ContentLanguage::Sv);

    // Search: English for b, Swedish (flagged) for a; one hit per article.
    let hits = content
        .search("blood", ContentLanguage::En, 10)
        .expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].id.clone(), hits[0].fell_back), (id("b"), false));
    let hits = content
        .search("blodtryck", ContentLanguage::En, 10)
        .expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, id("a"));
    assert!(hits[0].fell_back);
}

#[test]
fn assigned_articles_come_first() {
    let f = open();
    for (i, t) in ["Andning", "Blodtryck", "Kost", "Sömn"].iter().enumerate() {
        store(&f.nara, sv(&format!("a{i}"), t, "Sammanfattning.", "Text."));
    }
    let content = f.nara.content();
    assert_eq!(
        titles(&content.list(ContentLanguage::Sv).expect("list")),
        vec!["Andning", "Blodtryck", "Kost", "Sömn"]
    );
    let mut sub = f.nara.subscribe();
    content
        .set_assigned(vec![id("a3"), id("a1"), id("not-downloaded")])
        .expect("assign");
    assert_eq!(sub.try_next(), Some(Next::Change(Change::ContentChanged)));
    let list = content.list(ContentLanguage::Sv).expect("list");
    assert_eq!(titles(&list), vec!["Sömn", "Blodtryck", "Andning", "Kost"]);
    assert!(list[0].assigned && list[1].assigned && !list[2].assigned);
    assert_eq!(
        content.assigned().expect("assigned"),
        vec![id("a3"), id("a1"), id("not-downloaded")]
    );
}

#[test]
fn the_assignment_is_sealed_in_the_main_store() {
    let f = open();
    f.nara
        .content()
        .set_assigned(vec![id("hemligt-id")])
        .expect("assign");
    let raw = std::fs::read(f.data.path().join("nara.db")).unwrap_or_default();
    let wal = std::fs::read(f.data.path().join("nara.db-wal")).unwrap_or_default();
    let needle = b"hemligt-id";
    for bytes in [raw, wal] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    }
}

#[test]
fn the_budget_evicts_general_content_least_recently_read_first() {
    let f = open();
    let content = f.nara.content();
    let body = "Text om hälsa och blodtryck. ".repeat(100); // ~3 kB (+ plain text)
    let (assigned, images) = with_image(sv("assigned", "Tilldelad", "För dig.", &body), "img-1");
    assert!(content.store_article(assigned, images).expect("store"));
    for i in 0..4 {
        let (a, images) = with_image(
            sv(
                &format!("g{i}"),
                &format!("Allmän {i}"),
                "Bibliotek.",
                &body,
            ),
            &format!("img-g{i}"),
        );
        assert!(content.store_article(a, images).expect("store"));
    }
    content.set_assigned(vec![id("assigned")]).expect("assign");
    for i in 0..4 {
        assert!(
            content
                .is_available_offline(&id(&format!("g{i}")), ContentLanguage::Sv)
                .expect("available")
        );
    }
    // Read order: g2, g0, g3, g1 (so g1 is the most recently read).
    for i in [2, 0, 3, 1] {
        content
            .read(&id(&format!("g{i}")), ContentLanguage::Sv)
            .expect("read");
    }
    let total = content.cached_bytes().expect("bytes");
    let per_article = total / 5;
    // Room for three articles: two general ones must go, g2 and g0.
    let mut sub = f.nara.subscribe();
    content.set_budget(per_article * 3 + 10).expect("budget");
    assert_eq!(sub.try_next(), Some(Next::Change(Change::ContentChanged)));
    let offline = |s: &str| {
        content
            .is_available_offline(&id(s), ContentLanguage::Sv)
            .expect("available")
    };
    assert!(!offline("g2") && !offline("g0"));
    assert!(offline("g3") && offline("g1") && offline("assigned"));
    assert!(content.cached_bytes().expect("bytes") <= per_article * 3 + 10);
    assert!(
        content
            .image(&ImageId::parse("img-g2").expect("id"))
            .expect("image")
            .is_none()
    );
    assert!(
        content
            .image(&ImageId::parse("img-g1").expect("id"))
            .expect("image")
            .is_some()
    );

    // The evicted stay in the list (not available offline) and are still found by title.
    let list = content.list(ContentLanguage::Sv).expect("list");
    assert_eq!(list.len(), 5);
    let g2 = list.iter().find(|s| s.id == id("g2")).expect("g2");
    assert!(!g2.available_offline);
    let read = content
        .read(&id("g2"), ContentLanguage::Sv)
        .expect("read")
        .expect("stub");
    assert!(!read.available_offline);
    assert!(read.document.blocks.is_empty());
    let hits = content
        .search("allmän 2", ContentLanguage::Sv, 10)
        .expect("search");
    assert_eq!(hits.len(), 1);

    // A budget of nothing leaves only the assigned article.
    assert_eq!(content.set_budget(0).map(|_| ()).ok(), Some(()));
    assert!(offline("assigned"));
    assert!(!offline("g1") && !offline("g3"));
    assert_eq!(content.enforce_budget().expect("enforce"), 0);

    // The next sync brings a body back.
    content.set_budget(u64::MAX / 2).expect("budget");
    store(&f.nara, sv("g2", "Allmän 2", "Bibliotek.", &body));
    assert!(offline("g2"));
}

#[test]
fn an_image_missing_means_not_available_offline() {
    let f = open();
    let (a, _images) = with_image(sv("a", "Bild", "Med bild.", "Text."), "img-a");
    let content = f.nara.content();
    assert!(content.store_article(a.clone(), vec![]).expect("store"));
    assert!(
        !content
            .is_available_offline(&id("a"), ContentLanguage::Sv)
            .expect("available")
    );
    // An SVG is not stored.
    let svg = vec![(
        ImageId::parse("img-a").expect("id"),
        "image/svg+xml".into(),
        b"<svg/>".to_vec(),
    )];
    // Nothing changed: the same version again with no image kept.
    assert!(!content.store_article(a.clone(), svg).expect("store"));
    assert!(
        !content
            .is_available_offline(&id("a"), ContentLanguage::Sv)
            .expect("available")
    );
    let (_, images) = with_image(sv("a", "", "", ""), "img-a");
    assert!(content.store_article(a, images).expect("store"));
    assert!(
        content
            .is_available_offline(&id("a"), ContentLanguage::Sv)
            .expect("available")
    );
    let (ct, bytes) = content
        .image(&ImageId::parse("img-a").expect("id"))
        .expect("image")
        .expect("stored");
    assert_eq!((ct.as_str(), bytes.len()), ("image/png", 2_000));
}

#[test]
fn an_older_version_does_not_replace_a_newer_one_and_edits_reindex() {
    let f = open();
    let content = f.nara.content();
    let mut v2 = sv("a", "Sömn", "Om sömn.", "Sov gott.");
    v2.version = 2;
    store(&f.nara, v2);
    assert!(
        !content
            .store_article(sv("a", "Gammal", "x", "y"), vec![])
            .expect("store")
    );
    let mut v3 = sv("a", "Sömn och stress", "Om sömn.", "Vila.");
    v3.version = 3;
    store(&f.nara, v3);
    assert!(
        content
            .search("gott", ContentLanguage::Sv, 5)
            .expect("s")
            .is_empty()
    );
    assert_eq!(
        content
            .search("stress", ContentLanguage::Sv, 5)
            .expect("s")
            .len(),
        1
    );
    assert!(content.remove_article(&id("a")).expect("remove"));
    assert!(
        content
            .search("somn", ContentLanguage::Sv, 5)
            .expect("s")
            .is_empty()
    );
    assert!(content.list(ContentLanguage::Sv).expect("list").is_empty());
    assert!(!content.remove_article(&id("a")).expect("remove"));
}

#[test]
fn a_red_blood_pressure_finds_its_advice_article() {
    let f = open();
    let mut advice = sv(
        "bt-rod",
        "Om ditt blodtryck är mycket högt",
        "Vad du ska göra nu.",
        "Mät igen efter fem minuter. Ring 1177 om värdet är lika högt.",
    );
    advice.topics = vec!["hypertension".into(), "advice:bp-red".into()];
    store(&f.nara, advice);
    let now = Timestamp::now();
    let reading = f
        .nara
        .readings()
        .add(NewReading::manual(
            Measurement::BloodPressure {
                systolic: 200.0,
                diastolic: 120.0,
                pulse: Some(80.0),
            },
            now,
            Offset::from_hours(1).expect("offset"),
        ))
        .expect("add");
    let found = f
        .nara
        .content()
        .advice_article(&reading, ContentLanguage::En)
        .expect("advice")
        .expect("an article answers");
    assert_eq!(found.id, id("bt-rod"));
    assert_eq!(found.language, ContentLanguage::Sv);
    assert!(found.fell_back);
    // A `nara:advice/bp-red-high` link in a document finds the same article through
    // the broader code; an unrelated code finds none.
    let content = f.nara.content();
    let by_code = |code: &str| {
        content
            .advice_article_for_code(&AdviceCode::parse(code).expect("code"), ContentLanguage::Sv)
            .expect("advice")
            .map(|a| a.id)
    };
    assert_eq!(by_code("bp-red-high"), Some(id("bt-rod")));
    assert_eq!(by_code("glucose-red-low"), None);

    let green = f
        .nara
        .readings()
        .add(NewReading::manual(
            Measurement::BloodPressure {
                systolic: 120.0,
                diastolic: 75.0,
                pulse: Some(70.0),
            },
            now,
            Offset::from_hours(1).expect("offset"),
        ))
        .expect("add");
    assert!(
        f.nara
            .content()
            .advice_article(&green, ContentLanguage::Sv)
            .expect("advice")
            .is_none()
    );
}

#[test]
fn wipe_removes_content_db() {
    let f = open();
    store(&f.nara, sv("a", "Sömn", "Om sömn.", "Sov gott."));
    let dir = f.data.path().to_owned();
    assert!(dir.join(CONTENT_DB_FILE).exists());
    f.nara.wipe().expect("wipe");
    for file in CONTENT_DB_FILES {
        assert!(!dir.join(file).exists(), "{file} left after wipe");
    }
}

#[test]
fn content_survives_reopening() {
    let data = tempfile::tempdir().expect("dir");
    let keys = tempfile::tempdir().expect("dir");
    let open = || {
        Nara::open(
            data.path(),
            Arc::new(FileKeyProvider::new(keys.path().join("device.key"))),
        )
        .expect("open")
    };
    {
        let nara = open();
        store(&nara, sv("a", "Sömn", "Om sömn.", "Sov gott."));
        nara.content().set_assigned(vec![id("a")]).expect("assign");
    }
    let nara = open();
    let list = nara.content().list(ContentLanguage::Sv).expect("list");
    assert_eq!(list.len(), 1);
    assert!(list[0].assigned && list[0].available_offline);
}
