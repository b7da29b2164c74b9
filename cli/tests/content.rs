//! End-to-end tests of `nara content list | read | search` and the "what to do now"
//! line under a red reading: the binary run as a process on a temporary data dir.
//! Articles are provisioned through the core API on the same data dir (as sync would
//! store them), with the CLI not running.

mod common;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use jiff::Timestamp;
use nara_core::domain::content::{Article, ArticleId, ContentLanguage, ImageId, ImageRef};
use nara_core::{FileKeyProvider, Nara};

use common::{key, out};

fn nara(data_dir: &Path, args: &[&str]) -> Output {
    common::nara_in_columns(data_dir, args, 80)
}

fn id(s: &str) -> ArticleId {
    ArticleId::parse(s).expect("valid id")
}

fn article(
    id_: &str,
    language: ContentLanguage,
    title: &str,
    body: &str,
    topics: &[&str],
) -> Article {
    Article {
        id: id(id_),
        version: 1,
        language,
        title: title.to_owned(),
        summary: format!("Sammanfattning av {title}."),
        body_markdown: body.to_owned(),
        topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        images: Vec::new(),
        updated_at: Timestamp::now(),
    }
}

const MEASURE: &str = "# Så mäter du blodtrycket\n\n\
Vila **fem minuter** innan du mäter *blodtrycket*.\n\n\
![Manschetten i höjd med hjärtat](nara:image/cuff)\n\n\
## Innan du mäter\n\n\
- Sitt still.\n\
- Prata inte.\n\n\
1. Sätt på manschetten.\n\
2. Starta mätaren.\n\n\
<script>alert('hack')</script>\n\n\
Läs [vad du gör nu](nara:content/bp-red-high), ring [1177](tel:1177), se \
[1177.se](https://www.1177.se/blodtryck) eller [rådet](nara:advice/bp-red-high).\n";

const ADVICE: &str = "# Vad gör jag nu?\n\nDitt blodtryck är högt. Vila och mät igen.\n";

/// A data dir with: an assigned measuring article (sv and en, with an image), an
/// advice article for a red high blood pressure (sv only), and a diabetes article.
fn provision(dir: &Path) {
    std::fs::create_dir_all(dir).expect("data dir");
    let core = Nara::open(dir, Arc::new(FileKeyProvider::new(key(dir)))).expect("open");
    let content = core.content();
    let cuff = ImageId::parse("cuff").expect("image id");
    let mut measure = article(
        "bp-measure",
        ContentLanguage::Sv,
        "Så mäter du blodtrycket rätt",
        MEASURE,
        &["hypertension"],
    );
    measure.images = vec![ImageRef {
        id: cuff.clone(),
        alt: "Manschetten".to_owned(),
        content_type: "image/png".to_owned(),
    }];
    content
        .store_article(measure, vec![(cuff, "image/png".to_owned(), vec![1, 2, 3])])
        .expect("store");
    content
        .store_article(
            article(
                "bp-measure",
                ContentLanguage::En,
                "How to measure your blood pressure",
                "# How to measure\n\nRest for five minutes before measuring your blood pressure.\n",
                &["hypertension"],
            ),
            Vec::new(),
        )
        .expect("store");
    content
        .store_article(
            article(
                "bp-red-high",
                ContentLanguage::Sv,
                "Vad gör jag nu? Högt blodtryck",
                ADVICE,
                &["hypertension", "advice:bp-red-high"],
            ),
            Vec::new(),
        )
        .expect("store");
    content
        .store_article(
            article(
                "diabetes-food",
                ContentLanguage::Sv,
                "Mat vid diabetes",
                "# Mat\n\nTallriksmodellen hjälper.\n",
                &["diabetes-2"],
            ),
            Vec::new(),
        )
        .expect("store");
    content
        .set_assigned(vec![id("bp-measure")])
        .expect("assign");
}

#[test]
fn list_marks_assigned_first_with_language_and_offline() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    provision(&dir);

    let o = nara(&dir, &["--lang", "sv", "content", "list"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("★ För dig"), "{text}");
    assert!(text.contains("✓ ja"), "{text}");
    let first = text.find("Så mäter du blodtrycket rätt").expect("listed");
    let other = text.find("Mat vid diabetes").expect("listed");
    assert!(first < other, "assigned first: {text}");

    // English: the measuring article in English, the others in Swedish with a note.
    let o = nara(&dir, &["--lang", "en", "content", "list"]);
    let text = out(&o);
    assert!(text.contains("★ For you"), "{text}");
    assert!(
        text.contains("How to measure your blood pressure"),
        "{text}"
    );
    assert!(text.contains("Swedish (not in English)"), "{text}");

    // --content-lang overrides --lang.
    let o = nara(
        &dir,
        &["--lang", "en", "content", "list", "--content-lang", "fi"],
    );
    let text = out(&o);
    assert!(text.contains("Så mäter du blodtrycket rätt"), "{text}");
    assert!(text.contains("Swedish (not in Finnish)"), "{text}");
    let o = nara(&dir, &["content", "list", "--content-lang", "de"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));

    let o = nara(&dir, &["content", "list", "--json"]);
    assert!(o.status.success(), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let articles = v["articles"].as_array().expect("articles");
    assert_eq!(articles.len(), 3);
    assert_eq!(articles[0]["id"], "bp-measure");
    assert_eq!(articles[0]["assigned"], true);
    assert_eq!(articles[0]["available_offline"], true);
    assert_eq!(articles[1]["assigned"], false);
}

#[test]
fn read_renders_the_document_sanitised_with_link_targets() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    provision(&dir);

    let o = nara(&dir, &["--lang", "sv", "content", "read", "bp-measure"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("Så mäter du blodtrycket\n═"), "{text}");
    assert!(text.contains("Innan du mäter\n─"), "{text}");
    assert!(text.contains("• Sitt still."), "{text}");
    assert!(text.contains("1. Sätt på manschetten."), "{text}");
    assert!(text.contains("2. Starta mätaren."), "{text}");
    assert!(
        text.contains("[Bild: Manschetten i höjd med hjärtat]"),
        "{text}"
    );
    assert!(text.contains("vad du gör nu[1]"), "{text}");
    assert!(text.contains("[1] nara content read bp-red-high"), "{text}");
    assert!(text.contains("tel:1177"), "{text}");
    assert!(text.contains("https://www.1177.se/blodtryck"), "{text}");
    assert!(
        text.contains("Vad gör jag nu? → nara content read bp-red-high"),
        "advice link resolved: {text}"
    );
    assert!(!text.contains("script"), "sanitised: {text}");
    assert!(!text.contains("alert("), "sanitised: {text}");
    for line in text.lines().filter(|l| !l.contains("https://")) {
        assert!(line.chars().count() <= 80, "wrapped to 80: {line}");
    }

    // The advice article in English: shown in Swedish, and said so.
    let o = nara(&dir, &["--lang", "en", "content", "read", "bp-red-high"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("Shown in Swedish because the article is not available in English."),
        "{}",
        out(&o)
    );

    let o = nara(&dir, &["content", "read", "bp-measure", "--json"]);
    assert!(o.status.success(), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["fell_back"], false);
    assert_eq!(v["meta"]["language"], "sv");
    assert!(
        v["document"]["blocks"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
    );
    assert_eq!(v["links"][0]["uri"], "nara:content/bp-red-high");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("script"));

    let o = nara(&dir, &["content", "read", "nope"]);
    assert_eq!(o.status.code(), Some(6), "{}", out(&o));
    let o = nara(&dir, &["content", "read", "a/b"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
}

#[test]
fn search_marks_the_matches() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    provision(&dir);

    let o = nara(&dir, &["--lang", "sv", "content", "search", "blodtryck"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = out(&o);
    assert!(
        text.contains("«blodtrycket»") || text.contains("«blodtryck»"),
        "{text}"
    );
    assert!(text.contains("→ nara content read"), "{text}");
    assert!(!text.contains("Mat vid diabetes"), "{text}");

    let o = nara(&dir, &["content", "search", "blodtr", "--json"]);
    assert!(o.status.success(), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let hits = v["hits"].as_array().expect("hits");
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| {
        h["snippet"]
            .as_array()
            .is_some_and(|s| s.iter().any(|p| p["highlighted"] == true))
    }));

    let o = nara(&dir, &["--lang", "en", "content", "search", "zebra"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("No hits for «zebra»"), "{}", out(&o));
}

#[test]
fn a_red_reading_points_to_what_to_do_now() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    provision(&dir);

    let o = nara(&dir, &["reading", "add", "bp", "190/115", "--json"]);
    assert!(o.status.success(), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["triage"]["band"], "red");

    let o = nara(&dir, &["--lang", "sv", "reading", "add", "bp", "188/112"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("Vad gör jag nu? → nara content read bp-red-high"),
        "{}",
        out(&o)
    );
    let o = nara(&dir, &["--lang", "en", "reading", "list"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = out(&o);
    assert_eq!(
        text.matches("What do I do now? → nara content read bp-red-high")
            .count(),
        1,
        "one line per article: {text}"
    );

    // A green reading gets none.
    let o = nara(&dir, &["reading", "add", "bp", "120/78"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(!out(&o).contains("nara content read"), "{}", out(&o));
}
