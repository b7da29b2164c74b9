//! The demo's self-care content step: the care team assigns Anna "Så mäter du
//! blodtrycket rätt", the region publishes "Vad gör jag nu? Högt blodtryck" (topic
//! `advice:bp-red-high`), Anna lists her articles, reads the assigned one offline, and
//! her red evening blood pressure links to "what to do now".
//!
//! Against the region the articles come as sync brings them: `tests/region/nurse
//! publish-fixtures` and `nurse assign PATIENT bp-measure-sv`, then a sync. With
//! `--offline`, or when that fails, the same two fixture articles
//! (`tests/region/fixtures/content`) are stored locally through the core API, as sync
//! would store them. Like the other region steps it never fails the demo.

use jiff::Timestamp;
use nara_core::Nara;
use nara_core::domain::content::{Article, ArticleId, ContentLanguage, ImageId, ImageRef};
use nara_core::domain::reading::Reading;

use crate::commands::Ctx;
use crate::commands::content::{
    advice_line, advice_lookup, article_lines, list_table, preferred_for, read_command,
};
use crate::demo_chat::{nurse, sync};
use crate::demo_region::RegionLink;
use crate::render;
use crate::render::tr;

/// The assigned article's id.
pub const MEASURE_ID: &str = "bp-measure";
/// The advice article's id.
pub const ADVICE_ID: &str = "bp-red-high";

const MEASURE_MD: &str = include_str!("../../tests/region/fixtures/content/bp-measure.sv.md");
const ADVICE_MD: &str = include_str!("../../tests/region/fixtures/content/bp-red-high.sv.md");
const CUFF_PNG: &[u8] =
    include_bytes!("../../tests/region/fixtures/content/images/bp-cuff-position.png");

fn id(s: &str) -> Result<ArticleId, String> {
    ArticleId::parse(s).ok_or_else(|| format!("invalid article id {s}"))
}

/// Stores the two articles and the assignment locally, as sync would.
fn provision(nara: &Nara) -> Result<(), String> {
    let now = Timestamp::now();
    let cuff = ImageId::parse("bp-cuff-position").ok_or("invalid image id")?;
    let measure = Article {
        id: id(MEASURE_ID)?,
        version: 1,
        language: ContentLanguage::Sv,
        title: "Så mäter du blodtrycket rätt".to_owned(),
        summary: "Vila fem minuter, sitt rätt och ha manschetten i höjd med hjärtat: så blir \
                  värdena jämförbara."
            .to_owned(),
        body_markdown: MEASURE_MD.to_owned(),
        topics: vec!["hypertension".to_owned()],
        images: vec![ImageRef {
            id: cuff.clone(),
            alt: "Person som sitter med armen vilande på ett bord, manschetten i höjd med \
                  hjärtat"
                .to_owned(),
            content_type: "image/png".to_owned(),
        }],
        updated_at: now,
    };
    let advice = Article {
        id: id(ADVICE_ID)?,
        version: 1,
        language: ContentLanguage::Sv,
        title: "Vad gör jag nu? Högt blodtryck".to_owned(),
        summary: "Ditt blodtryck är högre än gränsen: när du ska ringa 112, och vad du gör om \
                  du mår som vanligt."
            .to_owned(),
        body_markdown: ADVICE_MD.to_owned(),
        topics: vec!["hypertension".to_owned(), "advice:bp-red-high".to_owned()],
        images: Vec::new(),
        updated_at: now,
    };
    let content = nara.content();
    content
        .store_article(
            measure,
            vec![(cuff, "image/png".to_owned(), CUFF_PNG.to_vec())],
        )
        .map_err(|e| e.to_string())?;
    content
        .store_article(advice, Vec::new())
        .map_err(|e| e.to_string())?;
    content
        .set_assigned(vec![id(MEASURE_ID)?])
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Brings the articles from the region: publish, assign, sync.
fn from_region(ctx: &Ctx, nara: &Nara, link: &RegionLink, tick: &dyn Fn()) -> Result<(), String> {
    nurse(link, &["publish-fixtures"])?;
    nurse(
        link,
        &["assign", &link.patient, &format!("{MEASURE_ID}-sv")],
    )?;
    tick();
    sync(ctx, nara)?;
    Ok(())
}

/// Runs the content step and returns its JSON summary. `red` is the demo's red blood
/// pressure reading.
pub fn content_step(
    ctx: &Ctx,
    nara: &Nara,
    link: Option<&RegionLink>,
    red: Option<&Reading>,
    tick: &dyn Fn(),
    say: &dyn Fn(String),
) -> serde_json::Value {
    match run(ctx, nara, link, red, tick, say) {
        Ok(v) => v,
        Err(e) => {
            say(render::alert(
                ctx,
                &format!(
                    "  ⚠ {}: {e}",
                    tr(ctx.lang, "Egenvårdsinnehållet", "Self-care content")
                ),
            ));
            serde_json::json!({ "error": e })
        }
    }
}

fn run(
    ctx: &Ctx,
    nara: &Nara,
    link: Option<&RegionLink>,
    red: Option<&Reading>,
    tick: &dyn Fn(),
    say: &dyn Fn(String),
) -> Result<serde_json::Value, String> {
    let lang = ctx.lang;
    let source = match link.map(|l| from_region(ctx, nara, l, tick)) {
        Some(Ok(())) => {
            say(format!(
                "  ✓ {} (tests/region/nurse publish-fixtures, assign {} {MEASURE_ID}-sv; sync)",
                tr(
                    lang,
                    "Regionen publicerar artiklar och mottagningen tilldelar Anna en",
                    "The region publishes articles and the care team assigns Anna one"
                ),
                link.map(|l| l.patient.as_str()).unwrap_or_default()
            ));
            "region"
        }
        Some(Err(e)) => {
            say(format!(
                "  ⚠ {}: {e}",
                tr(
                    lang,
                    "Hämtning från regionen misslyckades, artiklarna läggs in lokalt",
                    "Fetching from the region failed, the articles are stored locally"
                )
            ));
            provision(nara)?;
            "local"
        }
        None => {
            provision(nara)?;
            say(format!(
                "  ✓ {}",
                tr(
                    lang,
                    "Två artiklar lagras lokalt som synken skulle göra (offline), en tilldelad Anna",
                    "Two articles stored locally as sync would (offline), one assigned to Anna"
                )
            ));
            "local"
        }
    };
    let preferred = preferred_for(lang);
    let err = |e: nara_core::NaraError| e.to_string();
    let list = nara.content().list(preferred).map_err(err)?;
    say(String::new());
    say("  $ nara content list".to_owned());
    say(list_table(ctx, &list, preferred));

    let measure = id(MEASURE_ID)?;
    let article = nara
        .content()
        .read(&measure, preferred)
        .map_err(err)?
        .ok_or_else(|| format!("{MEASURE_ID} is not stored"))?;
    let advice = advice_lookup(nara, preferred).map_err(|e| e.to_string())?;
    say(String::new());
    say(format!("  $ {}", read_command(&measure)));
    for line in article_lines(ctx, &article, preferred, 78, &advice) {
        say(line);
    }

    let mut advice_for_red = None;
    if let Some(r) = red {
        say(String::new());
        say(format!(
            "  {}",
            tr(
                lang,
                "Annas röda kvällsvärde pekar på vad hon gör nu:",
                "Anna's red evening reading points to what to do now:"
            )
        ));
        for line in render::reading_outcome(ctx, r) {
            say(format!("  {line}"));
        }
        match nara.content().advice_article(r, preferred).map_err(err)? {
            Some(a) => {
                say(format!("  {}", advice_line(ctx, &a.id)));
                advice_for_red = Some(a.id);
            }
            None => say(format!(
                "  {}",
                tr(
                    lang,
                    "(ingen rådartikel på enheten)",
                    "(no advice article on this device)"
                )
            )),
        }
    }
    Ok(serde_json::json!({
        "source": source,
        "articles": list.len(),
        "assigned": list.iter().filter(|s| s.assigned).count(),
        "read": MEASURE_ID,
        "fell_back": article.fell_back,
        "available_offline": article.available_offline,
        "advice_for_red": advice_for_red,
    }))
}
