//! Self-care content as a patient meets it: the region's Markdown article becomes a safe
//! document, a red blood pressure leads to the article on what to do now, in the
//! patient's language or in Swedish, and search finds words typed without diacritics.

use jiff::Timestamp;
use nara_core::domain::content::{
    AdviceCode, Article, ArticleId, ArticleMeta, Block, ContentLanguage, ImageId, ImageRef, Inline,
    LinkTarget, advice_for, article_document, article_for_advice, fold, images, links, parse,
    plain_text,
};
use nara_core::domain::reading::{Measurement, QualityFlags, Reading, ReadingId, Source};
use nara_core::domain::triage::{ThresholdSet, TriageHistory, triage};
use proptest::prelude::*;

fn text(s: &str) -> Inline {
    Inline::text(s)
}

fn id(s: &str) -> ArticleId {
    ArticleId::parse(s).expect("valid article id")
}

fn code(s: &str) -> AdviceCode {
    AdviceCode::parse(s).expect("valid advice code")
}

fn at() -> Timestamp {
    "2026-11-24T08:00:00Z".parse().expect("valid time")
}

const HYPERTONI: &str = "\
# Högt blodtryck

Att mäta hemma ger en *säkrare* bild än på mottagningen. Det är **viktigt** att
sitta still.

## Så mäter du

1. Vila fem minuter.
2. Sätt manschetten på överarmen.

- Ingen kaffe
- Ingen rökning

> Ring [112](tel:112) vid bröstsmärta.

![Manschetten en fingerbredd ovanför armvecket](nara:image/cuff)

---

Läs mer på [1177](https://www.1177.se/hogt-blodtryck), om [diabetes](nara:content/diabetes-2)
och om [vad du gör vid rött värde](nara:advice/bp-red).
";

#[test]
fn a_regions_article_becomes_a_document() {
    let doc = parse(HYPERTONI);
    assert_eq!(
        doc.blocks[0],
        Block::Heading {
            level: 1,
            inlines: vec![text("Högt blodtryck")]
        }
    );
    assert_eq!(
        doc.blocks[1],
        Block::Paragraph(vec![
            text("Att mäta hemma ger en "),
            Inline::Emphasis(vec![text("säkrare")]),
            text(" bild än på mottagningen. Det är "),
            Inline::Strong(vec![text("viktigt")]),
            text(" att sitta still."),
        ])
    );
    assert_eq!(
        doc.blocks[3],
        Block::OrderedList {
            start: 1,
            items: vec![
                vec![Block::Paragraph(vec![text("Vila fem minuter.")])],
                vec![Block::Paragraph(vec![text(
                    "Sätt manschetten på överarmen."
                )])],
            ]
        }
    );
    assert_eq!(
        doc.blocks[4],
        Block::BulletList(vec![
            vec![Block::Paragraph(vec![text("Ingen kaffe")])],
            vec![Block::Paragraph(vec![text("Ingen rökning")])],
        ])
    );
    assert_eq!(
        doc.blocks[5],
        Block::Quote(vec![Block::Paragraph(vec![
            text("Ring "),
            Inline::Link {
                target: LinkTarget::Phone("112".into()),
                inlines: vec![text("112")]
            },
            text(" vid bröstsmärta."),
        ])])
    );
    assert_eq!(
        doc.blocks[6],
        Block::Image {
            image_id: ImageId::parse("cuff").expect("valid"),
            alt: "Manschetten en fingerbredd ovanför armvecket".into()
        }
    );
    assert_eq!(doc.blocks[7], Block::Rule);
    assert_eq!(
        links(&doc),
        vec![
            LinkTarget::Phone("112".into()),
            LinkTarget::External("https://www.1177.se/hogt-blodtryck".into()),
            LinkTarget::Article(id("diabetes-2")),
            LinkTarget::ReadingAdvice(code("bp-red")),
        ]
    );
    assert_eq!(images(&doc), vec![ImageId::parse("cuff").expect("valid")]);
    assert_eq!(
        plain_text(&doc),
        "Högt blodtryck\n\
         Att mäta hemma ger en säkrare bild än på mottagningen. Det är viktigt att sitta still.\n\
         Så mäter du\n\
         Vila fem minuter.\n\
         Sätt manschetten på överarmen.\n\
         Ingen kaffe\n\
         Ingen rökning\n\
         Ring 112 vid bröstsmärta.\n\
         Manschetten en fingerbredd ovanför armvecket\n\
         Läs mer på 1177, om diabetes och om vad du gör vid rött värde."
    );
}

#[test]
fn links_outside_the_allow_list_keep_only_their_text() {
    let doc = parse(
        "[a](javascript:alert(1)) [b](data:text/html,x) [c](http://example.se) \
         [d](file:///etc/passwd) [e](sida.html) [f](mailto:x@y.se) <http://example.se> \
         [g](https://example.se)",
    );
    assert_eq!(
        doc.blocks,
        vec![Block::Paragraph(vec![
            text("a b c d e f http://example.se "),
            Inline::Link {
                target: LinkTarget::External("https://example.se/".into()),
                inlines: vec![text("g")]
            }
        ])]
    );
}

#[test]
fn raw_html_never_reaches_the_shells() {
    let block = parse("<script>alert(1)</script>\n\nEfter.");
    assert_eq!(block.blocks, vec![Block::Paragraph(vec![text("Efter.")])]);

    let inline = parse("Före <script>alert(1)</script> efter <style>p{}</style>slut");
    assert_eq!(plain_text(&inline), "Före  efter slut");
    assert!(!plain_text(&inline).contains("alert"));

    let tags = parse("Det är <b>x</b> och <a href=\"javascript:alert(1)\">klick</a>.");
    assert_eq!(
        tags.blocks,
        vec![Block::Paragraph(vec![text("Det är x och klick.")])]
    );

    let div = parse("<div onclick=\"alert(1)\">\ndold text\n</div>\n\nSynlig.");
    assert_eq!(plain_text(&div), "Synlig.");

    let unclosed = parse("Före <script>alert(1)\n\nNästa stycke.");
    assert_eq!(plain_text(&unclosed), "Före\nNästa stycke.");

    let br = parse("rad ett<br>rad två");
    assert_eq!(
        br.blocks,
        vec![Block::Paragraph(vec![
            text("rad ett"),
            Inline::LineBreak,
            text("rad två")
        ])]
    );
}

#[test]
fn images_only_from_the_article_itself() {
    let doc = parse(
        "![Bild från webben](https://example.se/a.png)\n\n\
         ![](data:image/png;base64,AAAA)\n\n\
         ![Manschett](nara:image/cuff)",
    );
    assert_eq!(
        doc.blocks,
        vec![
            Block::Paragraph(vec![text("Bild från webben")]),
            Block::Image {
                image_id: ImageId::parse("cuff").expect("valid"),
                alt: "Manschett".into()
            }
        ]
    );

    // Against the article's shipped images: unknown ids are dropped, a missing alt text
    // comes from the region's description.
    let article = Article {
        id: id("hypertoni"),
        version: 3,
        language: ContentLanguage::Sv,
        title: "Högt blodtryck".into(),
        summary: "Om att mäta hemma.".into(),
        body_markdown: "![](nara:image/cuff)\n\n![Saknas](nara:image/other)".into(),
        topics: vec!["hypertension".into()],
        images: vec![ImageRef {
            id: ImageId::parse("cuff").expect("valid"),
            alt: "Manschetten på överarmen".into(),
            content_type: "image/jpeg".into(),
        }],
        updated_at: at(),
    };
    assert_eq!(
        article_document(&article).blocks,
        vec![
            Block::Image {
                image_id: ImageId::parse("cuff").expect("valid"),
                alt: "Manschetten på överarmen".into()
            },
            Block::Paragraph(vec![text("Saknas")]),
        ]
    );
}

#[test]
fn deep_headings_are_clamped_and_control_characters_removed() {
    let doc = parse("##### Djup rubrik\u{7}\n\nText\u{202E}med\u{0}skräp");
    assert_eq!(
        doc.blocks,
        vec![
            Block::Heading {
                level: 3,
                inlines: vec![text("Djup rubrik")]
            },
            Block::Paragraph(vec![text("Textmedskräp")]),
        ]
    );
}

fn meta(article: &str, language: ContentLanguage, topics: &[&str]) -> ArticleMeta {
    ArticleMeta {
        id: id(article),
        version: 1,
        language,
        title: format!("{article} ({language})"),
        summary: String::new(),
        topics: topics.iter().map(|t| t.to_string()).collect(),
        updated_at: at(),
    }
}

fn red_bp_reading() -> Reading {
    let measurement = Measurement::BloodPressure {
        systolic: 186.0,
        diastolic: 96.0,
        pulse: Some(80.0),
    };
    let result = triage(
        &measurement,
        at(),
        &QualityFlags::GOOD,
        &ThresholdSet::default_for(measurement.kind()),
        &TriageHistory::default(),
    );
    Reading {
        id: ReadingId::random(),
        measurement,
        effective_at: at(),
        utc_offset_seconds: 3600,
        source: Source::Manual,
        quality: QualityFlags::GOOD,
        off_scale: Vec::new(),
        glucose_context: None,
        note: None,
        recorded_at: at(),
        triage: result,
        supersedes: None,
        superseded_by: None,
    }
}

#[test]
fn a_red_blood_pressure_leads_to_what_to_do_now() {
    let reading = red_bp_reading();
    let advice = advice_for(&reading).expect("red has advice");
    assert_eq!(advice, code("bp-red-high"));

    let articles = vec![
        meta(
            "bp-red-sv",
            ContentLanguage::Sv,
            &["hypertension", "advice:bp-red"],
        ),
        meta("bp-red-fi", ContentLanguage::Fi, &["advice:bp-red"]),
        meta(
            "glucose-low",
            ContentLanguage::Sv,
            &["advice:glucose-red-low"],
        ),
    ];

    // Finnish is there: no fallback. The article answers the band, so the broader code.
    let fi = article_for_advice(&advice, &articles, ContentLanguage::Fi).expect("found");
    assert_eq!(fi.id, id("bp-red-fi"));
    assert_eq!(fi.language, ContentLanguage::Fi);
    assert!(!fi.fell_back);

    // North Sami is not: Swedish, and the shell is told.
    let se = article_for_advice(&advice, &articles, ContentLanguage::Se).expect("found");
    assert_eq!(se.id, id("bp-red-sv"));
    assert_eq!(se.language, ContentLanguage::Sv);
    assert!(se.fell_back);

    // Swedish asked for and found is not a fallback.
    let sv = article_for_advice(&advice, &articles, ContentLanguage::Sv).expect("found");
    assert!(!sv.fell_back);

    // A more specific Swedish article beats the broader one in the patient's language.
    let mut specific = articles.clone();
    specific.push(meta(
        "bp-high-sv",
        ContentLanguage::Sv,
        &["advice:bp-red-high"],
    ));
    let fi = article_for_advice(&advice, &specific, ContentLanguage::Fi).expect("found");
    assert_eq!((fi.id, fi.fell_back), (id("bp-high-sv"), true));

    // No article at all: the shell shows the band's general advice.
    assert_eq!(
        article_for_advice(&code("spo2-red-low"), &articles, ContentLanguage::En),
        None
    );
}

#[test]
fn search_folds_like_fts5_and_further_for_sami_letters() {
    assert_eq!(fold("Hälsa"), "halsa");
    assert_eq!(fold("Sámi giella"), "sami giella");
    assert_eq!(fold("Đuoddji ja ŋuolla"), "duoddji ja nuolla");

    // The bundled SQLite's FTS5 with `unicode61 remove_diacritics 2` agrees for letters
    // with a decomposition, and keeps đ ŋ ŧ.
    let db = rusqlite::Connection::open_in_memory().expect("opens");
    db.execute_batch(
        "CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'unicode61 remove_diacritics 2');
         CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row');",
    )
    .expect("fts5 available");
    let terms = |text: &str| -> Vec<String> {
        db.execute("DELETE FROM t", []).expect("clears");
        db.execute("INSERT INTO t (x) VALUES (?1)", [text])
            .expect("inserts");
        let mut stmt = db
            .prepare("SELECT term FROM v ORDER BY term")
            .expect("prepares");
        stmt.query_map([], |r| r.get::<_, String>(0))
            .expect("queries")
            .collect::<Result<_, _>>()
            .expect("reads")
    };
    for word in [
        "Hälsa",
        "ÅSKA",
        "öl",
        "café",
        "Šiellat",
        "čáhci",
        "žurnála",
        "Sámi",
        "Meänkieli",
    ] {
        assert_eq!(terms(word), vec![fold(word)], "{word}");
    }
    assert_eq!(terms("Đuoddji"), vec!["đuoddji"]);
    assert_eq!(terms("Ŋuolla"), vec!["ŋuolla"]);

    // So the index stores folded text, and the folded query finds it.
    db.execute("DELETE FROM t", []).expect("clears");
    db.execute(
        "INSERT INTO t (x) VALUES (?1)",
        [fold("Duodji: Đuoddji ja ŋuolla")],
    )
    .expect("inserts");
    let hits: i64 = db
        .query_row(
            "SELECT count(*) FROM t WHERE t MATCH ?1",
            [fold("ŊUOLLA")],
            |r| r.get(0),
        )
        .expect("searches");
    assert_eq!(hits, 1);
}

proptest! {
    /// Any input gives a document, and nothing in it is a disallowed target or a control
    /// character.
    #[test]
    fn parse_never_panics(input in ".{0,400}") {
        let doc = parse(&input);
        let text = plain_text(&doc);
        prop_assert!(!text.chars().any(|c| c.is_control() && c != '\n'));
        for link in links(&doc) {
            let uri = link.uri();
            prop_assert!(
                uri.starts_with("https://") || uri.starts_with("tel:") || uri.starts_with("nara:"),
                "{uri}"
            );
        }
    }

    /// Markdown-heavy input (the characters the parser cares about) never panics either.
    #[test]
    fn parse_never_panics_on_markup(input in "[-*_#>`!\\[\\]()<>/:a-z0-9 \n\t|~]{0,400}") {
        let _ = parse(&input);
    }
}
