//! Content search benchmark: `content().search("blodtryck", …)` over 2,000 Swedish
//! articles of a few hundred words each, beside the bare FTS5 query (`MATCH … ORDER BY
//! bm25 LIMIT 20`) on the same `content.db`. Results: docs/benchmarks.md.
//! Run: `cargo bench -p nara-core --bench content`.

#![allow(missing_docs)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use nara_core::domain::content::{Article, ArticleId, ContentLanguage};
use nara_core::store::content_db::CONTENT_DB_FILE;
use nara_core::{FileKeyProvider, Nara};
use rusqlite::{Connection, OpenFlags};

const ARTICLES: usize = 2_000;
const LIMIT: usize = 20;

const TOPICS: &[(&str, &str, &[&str])] = &[
    (
        "hypertension",
        "blodtryck",
        &[
            "Högt blodtryck ger sällan symtom men ökar risken för stroke och hjärtinfarkt.",
            "Mät blodtrycket i lugn och ro, sittande, med manschetten i hjärthöjd.",
            "Salt, alkohol och stillasittande höjer blodtrycket; promenader sänker det.",
            "Ta dina blodtrycksläkemedel vid samma tid varje dag, även när du mår bra.",
        ],
    ),
    (
        "diabetes-2",
        "diabetes",
        &[
            "Vid typ 2-diabetes svarar kroppen sämre på insulin och blodsockret stiger.",
            "Regelbundna måltider med grönsaker, fullkorn och baljväxter jämnar ut sockret.",
            "Fötterna behöver extra omsorg: titta efter sår och skavsår varje kväll.",
            "Ett lågt blodsocker känns som darrighet och svettning; ät druvsocker direkt.",
        ],
    ),
    (
        "copd",
        "KOL",
        &[
            "Vid KOL är luftrören trånga och andningen blir tyngre vid ansträngning.",
            "Andningsövningar med sluten läppandning gör det lättare att andas ut.",
            "Sluta röka: det är det enskilt viktigaste för att bromsa sjukdomen.",
            "Vaccin mot influensa och lunginflammation minskar risken för försämringar.",
        ],
    ),
    (
        "heart-failure",
        "hjärtsvikt",
        &[
            "Vid hjärtsvikt orkar hjärtat inte pumpa runt blodet som det ska.",
            "Väg dig varje morgon: en snabb viktökning kan betyda att vätska samlas.",
            "Begränsa vätskeintaget om din läkare har sagt det, och undvik mycket salt.",
            "Fysisk aktivitet anpassad efter din ork stärker både hjärta och muskler.",
        ],
    ),
    (
        "sleep",
        "sömn",
        &[
            "God sömn hjälper kroppen att återhämta sig och påverkar även blodtrycket.",
            "Gå och lägg dig ungefär samma tid varje kväll och undvik skärmar före sänggåendet.",
            "Koffein sent på dagen och tunga måltider kan göra det svårare att somna.",
            "Oro och stress håller många vakna; skriv ner tankarna innan du släcker.",
        ],
    ),
];

fn body(i: usize) -> (String, String, String, Vec<String>) {
    let (topic, word, sentences) = TOPICS[i % TOPICS.len()];
    let other = TOPICS[(i / TOPICS.len()) % TOPICS.len()];
    let title = format!("Om {word} – del {i}");
    let summary = format!("Råd och fakta om {word} för dig som vill veta mer.");
    let mut md = String::new();
    for p in 0..6 {
        md.push_str(&format!("## Avsnitt {}\n\n", p + 1));
        for s in 0..6 {
            let (_, _, from) = if s % 3 == 2 {
                other
            } else {
                (topic, word, sentences)
            };
            md.push_str(from[(i + p + s) % from.len()]);
            md.push(' ');
        }
        md.push_str("\n\n");
    }
    (title, summary, md, vec![topic.to_owned()])
}

fn open_nara(dir: &Path) -> Nara {
    Nara::open(
        &dir.join("data"),
        Arc::new(FileKeyProvider::new(dir.join("kek"))),
    )
    .expect("open nara")
}

fn fill(nara: &Nara) {
    let updated: Timestamp = "2026-10-01T08:00:00Z".parse().expect("time");
    for i in 0..ARTICLES {
        let (title, summary, body_markdown, topics) = body(i);
        nara.content()
            .store_article(
                Article {
                    id: ArticleId::parse(&format!("art-{i}")).expect("id"),
                    version: 1,
                    language: ContentLanguage::Sv,
                    title,
                    summary,
                    body_markdown,
                    topics,
                    images: vec![],
                    updated_at: updated,
                },
                vec![],
            )
            .expect("store");
    }
}

fn search(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("dir");
    let nara = open_nara(dir.path());
    fill(&nara);
    let words: usize = (0..ARTICLES)
        .map(|i| body(i).2.split_whitespace().count())
        .sum();
    println!(
        "{ARTICLES} articles, {} words each on average, {} bytes cached",
        words / ARTICLES,
        nara.content().cached_bytes().expect("bytes")
    );
    let hits = nara
        .content()
        .search("blodtryck", ContentLanguage::Sv, LIMIT)
        .expect("search");
    assert_eq!(hits.len(), LIMIT);

    let bare = Connection::open_with_flags(
        dir.path().join("data").join(CONTENT_DB_FILE),
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open bare");
    let bare_query = "SELECT rowid, bm25(articles_fts, 10.0, 4.0, 1.0) AS rank FROM articles_fts \
                      WHERE articles_fts MATCH ?1 ORDER BY rank LIMIT 20";
    let matches: i64 = bare
        .query_row(
            "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH '\"blodtryck\"*'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    println!("\"blodtryck\"* matches {matches} articles");

    let mut group = c.benchmark_group("content_search");
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("nara_search_blodtryck", |b| {
        b.iter(|| {
            nara.content()
                .search("blodtryck", ContentLanguage::Sv, LIMIT)
                .expect("search")
        })
    });
    group.bench_function("bare_fts5_blodtryck", |b| {
        let mut stmt = bare.prepare_cached(bare_query).expect("prepare");
        b.iter(|| {
            stmt.query_map(["\"blodtryck\"*"], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?))
            })
            .expect("query")
            .collect::<Result<Vec<_>, _>>()
            .expect("rows")
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(2)).sample_size(50);
    targets = search
}
criterion_main!(benches);
