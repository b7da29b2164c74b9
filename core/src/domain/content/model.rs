//! The shapes of self-care content: articles as the region publishes them, and the
//! parsed, sanitised [`Document`] the shells render natively.
//!
//! This module only defines data and the identifiers' validation rules. Parsing Markdown
//! into a [`Document`] lives in [`super::render`], deciding which link and image targets
//! are allowed in [`super::sanitize`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::text::LocalizedText;

/// The topic prefix by which an article declares the advice code it answers, e.g. the
/// topic `advice:bp-red` (see [`super::advice`]).
pub const ADVICE_TOPIC_PREFIX: &str = "advice:";

/// True if `s` is a FHIR-style id: 1 to 64 of `A–Z a–z 0–9 - .`.
fn is_fhir_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $check:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier, or `None` if it breaks the rule above.
            pub fn parse(s: &str) -> Option<Self> {
                let check: fn(&str) -> bool = $check;
                check(s).then(|| Self(s.to_owned()))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s).ok_or_else(|| concat!("not a valid ", $what).to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

string_id!(
    /// An article's id at the region (a FHIR id: 1–64 of `A–Z a–z 0–9 - .`). Translations
    /// of one article may share the id and differ in [`Article::language`].
    ArticleId,
    is_fhir_id,
    "article id"
);

string_id!(
    /// An image shipped with an article (a FHIR id: 1–64 of `A–Z a–z 0–9 - .`), referred
    /// to from the Markdown as `nara:image/<id>`.
    ImageId,
    is_fhir_id,
    "image id"
);

string_id!(
    /// A "what to do now" advice code: 1–64 of `a–z 0–9 -`, starting with a letter or
    /// digit, e.g. `bp-red`. See [`super::advice`] for the codes the core produces.
    AdviceCode,
    |s| {
        (1..=64).contains(&s.len())
            && !s.starts_with('-')
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    },
    "advice code"
);

/// A language the region may publish content in (DESIGN.md §6). Unlike
/// [`crate::domain::text::Lang`], the core writes nothing in these itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentLanguage {
    /// Swedish (`sv`), the language every article is published in first.
    Sv,
    /// English (`en`).
    En,
    /// Finnish (`fi`), a national minority language.
    Fi,
    /// North Sami (`se`), a national minority language.
    Se,
    /// Meänkieli (`fit`), a national minority language.
    Fit,
}

impl ContentLanguage {
    /// Every content language, Swedish first.
    pub const ALL: [ContentLanguage; 5] = [
        ContentLanguage::Sv,
        ContentLanguage::En,
        ContentLanguage::Fi,
        ContentLanguage::Se,
        ContentLanguage::Fit,
    ];

    /// The language's code as the region tags content (ISO 639-1 where one exists,
    /// ISO 639-3 for Meänkieli): `sv`, `en`, `fi`, `se`, `fit`.
    pub fn code(self) -> &'static str {
        match self {
            ContentLanguage::Sv => "sv",
            ContentLanguage::En => "en",
            ContentLanguage::Fi => "fi",
            ContentLanguage::Se => "se",
            ContentLanguage::Fit => "fit",
        }
    }

    /// Parses a BCP 47 tag (`sv`, `sv-SE`, `se-NO`, `fit`), also accepting the ISO 639-2/3
    /// codes `swe`, `eng`, `fin` and `sme`. Unknown languages give `None`.
    pub fn from_tag(tag: &str) -> Option<ContentLanguage> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "sv" | "swe" => Some(ContentLanguage::Sv),
            "en" | "eng" => Some(ContentLanguage::En),
            "fi" | "fin" => Some(ContentLanguage::Fi),
            "se" | "sme" => Some(ContentLanguage::Se),
            "fit" => Some(ContentLanguage::Fit),
            _ => None,
        }
    }

    /// The language's name in Swedish and English, for settings and "shown in Swedish"
    /// notes.
    pub fn name(self) -> LocalizedText {
        let (sv, en) = match self {
            ContentLanguage::Sv => ("svenska", "Swedish"),
            ContentLanguage::En => ("engelska", "English"),
            ContentLanguage::Fi => ("finska", "Finnish"),
            ContentLanguage::Se => ("nordsamiska", "North Sami"),
            ContentLanguage::Fit => ("meänkieli", "Meänkieli"),
        };
        LocalizedText::new(sv, en)
    }

    /// The language's name in itself, for a language picker.
    pub fn autonym(self) -> &'static str {
        match self {
            ContentLanguage::Sv => "svenska",
            ContentLanguage::En => "English",
            ContentLanguage::Fi => "suomi",
            ContentLanguage::Se => "davvisámegiella",
            ContentLanguage::Fit => "meänkieli",
        }
    }
}

impl std::fmt::Display for ContentLanguage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// An image shipped with an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    /// The id the Markdown refers to as `nara:image/<id>`.
    pub id: ImageId,
    /// The region's description of the image, used when the Markdown gives none.
    pub alt: String,
    /// Its media type, e.g. `image/jpeg`.
    pub content_type: String,
}

/// A self-care article as the region publishes it, one per language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// The region's id.
    pub id: ArticleId,
    /// The region's version; a higher one replaces a cached copy.
    pub version: u32,
    /// The language of this text.
    pub language: ContentLanguage,
    /// The title, plain text.
    pub title: String,
    /// A one- or two-sentence summary, plain text.
    pub summary: String,
    /// The body in the safe Markdown subset of [`super::render`].
    pub body_markdown: String,
    /// Diagnosis or topic codes (`hypertension`, `diabetes-2`, `copd`) and the advice
    /// codes it answers (`advice:bp-red`, see [`ADVICE_TOPIC_PREFIX`]).
    pub topics: Vec<String>,
    /// The images shipped with the article.
    pub images: Vec<ImageRef>,
    /// When the region last changed it.
    pub updated_at: Timestamp,
}

/// What lists and lookups need of an article, without its body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleMeta {
    /// The region's id.
    pub id: ArticleId,
    /// The region's version.
    pub version: u32,
    /// The language of this text.
    pub language: ContentLanguage,
    /// The title, plain text.
    pub title: String,
    /// The summary, plain text.
    pub summary: String,
    /// Topic and advice codes, as on [`Article::topics`].
    pub topics: Vec<String>,
    /// When the region last changed it.
    pub updated_at: Timestamp,
}

impl ArticleMeta {
    /// The advice codes the article declares it answers (its `advice:` topics); topics
    /// with an invalid code are ignored.
    pub fn advice_codes(&self) -> Vec<AdviceCode> {
        advice_codes(&self.topics)
    }

    /// True if the article declares that it answers `code`.
    pub fn answers(&self, code: &AdviceCode) -> bool {
        self.advice_codes().contains(code)
    }
}

pub(crate) fn advice_codes(topics: &[String]) -> Vec<AdviceCode> {
    topics
        .iter()
        .filter_map(|t| t.strip_prefix(ADVICE_TOPIC_PREFIX))
        .filter_map(|c| AdviceCode::parse(c.trim()))
        .collect()
}

/// A parsed, sanitised article body: what the shells render. Every target in it has
/// passed [`super::sanitize`]; nothing in it is HTML.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// The blocks, top to bottom.
    pub blocks: Vec<Block>,
}

/// A block of a [`Document`]. Nesting (quotes and lists) is at most
/// [`super::render::MAX_NESTING`] deep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    /// A heading, level 1 to 3 (deeper Markdown headings are clamped to 3).
    Heading {
        /// 1, 2 or 3.
        level: u8,
        /// Its text.
        inlines: Vec<Inline>,
    },
    /// A paragraph.
    Paragraph(Vec<Inline>),
    /// A bulleted list; each item is a list of blocks.
    BulletList(Vec<Vec<Block>>),
    /// A numbered list starting at `start`.
    OrderedList {
        /// The first item's number.
        start: u64,
        /// The items.
        items: Vec<Vec<Block>>,
    },
    /// A quotation or call-out.
    Quote(Vec<Block>),
    /// An image shipped with the article.
    Image {
        /// Which image.
        image_id: ImageId,
        /// Its text alternative for screen readers (may be empty for decoration).
        alt: String,
    },
    /// A thematic break.
    Rule,
}

/// Text inside a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inline {
    /// Plain text, free of control characters.
    Text(String),
    /// Emphasised text (usually italic).
    Emphasis(Vec<Inline>),
    /// Strongly emphasised text (usually bold).
    Strong(Vec<Inline>),
    /// A link to an allowed target.
    Link {
        /// Where it goes.
        target: LinkTarget,
        /// Its text (never empty).
        inlines: Vec<Inline>,
    },
    /// A hard line break.
    LineBreak,
}

impl Inline {
    /// A text inline.
    pub fn text(s: impl Into<String>) -> Inline {
        Inline::Text(s.into())
    }
}

/// Where a link in an article may go; anything else is not a link.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkTarget {
    /// Another article (`nara:content/<id>`), opened in the app.
    Article(ArticleId),
    /// The "what to do now" advice for a triage outcome (`nara:advice/<code>`), opened in
    /// the app.
    ReadingAdvice(AdviceCode),
    /// A web page (`https:` only), normalised; opened in the system browser.
    External(String),
    /// A phone number (`tel:`), as `+` and digits only, e.g. `1177` or `+46812345678`.
    Phone(String),
}

impl LinkTarget {
    /// The target as a URI: `nara:content/…`, `nara:advice/…`, `https://…` or `tel:…`.
    pub fn uri(&self) -> String {
        match self {
            LinkTarget::Article(id) => format!("nara:content/{id}"),
            LinkTarget::ReadingAdvice(code) => format!("nara:advice/{code}"),
            LinkTarget::External(url) => url.clone(),
            LinkTarget::Phone(number) => format!("tel:{number}"),
        }
    }
}

impl Article {
    /// The article without its body and images.
    pub fn meta(&self) -> ArticleMeta {
        ArticleMeta {
            id: self.id.clone(),
            version: self.version,
            language: self.language,
            title: self.title.clone(),
            summary: self.summary.clone(),
            topics: self.topics.clone(),
            updated_at: self.updated_at,
        }
    }

    /// The advice codes the article declares it answers (its `advice:` topics).
    pub fn advice_codes(&self) -> Vec<AdviceCode> {
        advice_codes(&self.topics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_their_rules() {
        assert!(ArticleId::parse("hypertoni-1.2").is_some());
        assert!(ArticleId::parse("").is_none());
        assert!(ArticleId::parse("a/b").is_none());
        assert!(ArticleId::parse(&"a".repeat(65)).is_none());
        assert!(AdviceCode::parse("bp-red").is_some());
        assert!(AdviceCode::parse("BP-red").is_none());
        assert!(AdviceCode::parse("-red").is_none());
        let json = serde_json::to_string(&AdviceCode::parse("bp-red")).expect("serializes");
        assert_eq!(json, "\"bp-red\"");
        assert!(serde_json::from_str::<AdviceCode>("\"bp red\"").is_err());
    }

    #[test]
    fn languages_round_trip_their_codes() {
        for lang in ContentLanguage::ALL {
            assert_eq!(ContentLanguage::from_tag(lang.code()), Some(lang));
            let json = serde_json::to_string(&lang).expect("serializes");
            assert_eq!(json, format!("\"{}\"", lang.code()));
        }
        assert_eq!(
            ContentLanguage::from_tag("se-NO"),
            Some(ContentLanguage::Se)
        );
        assert_eq!(ContentLanguage::from_tag("sme"), Some(ContentLanguage::Se));
        assert_eq!(ContentLanguage::from_tag("de"), None);
        assert_eq!(ContentLanguage::Fit.name().sv, "meänkieli");
        assert_eq!(ContentLanguage::Se.name().en, "North Sami");
    }

    #[test]
    fn advice_topics_are_read_from_the_topics() {
        let meta = ArticleMeta {
            id: ArticleId::parse("a1").expect("valid"),
            version: 1,
            language: ContentLanguage::Sv,
            title: String::new(),
            summary: String::new(),
            topics: vec![
                "hypertension".into(),
                "advice:bp-red".into(),
                "advice:Not Valid".into(),
            ],
            updated_at: Timestamp::UNIX_EPOCH,
        };
        assert_eq!(
            meta.advice_codes(),
            vec![AdviceCode::parse("bp-red").expect("valid")]
        );
        assert!(meta.answers(&AdviceCode::parse("bp-red").expect("valid")));
    }
}
