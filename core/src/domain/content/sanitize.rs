//! What may appear in an article: the allow-lists for link and image targets and the
//! text clean-up, applied by [`super::render::parse`] to everything it keeps.
//!
//! Allow-lists, not block-lists: a target is kept only if it is one of the forms below,
//! so schemes nobody thought of (`javascript:`, `data:`, `file:`, `intent:`, `vbscript:`,
//! relative paths) are dropped without being named.
//!
//! | Markdown target | becomes |
//! | --- | --- |
//! | `https://host/…` (no user or password) | [`LinkTarget::External`], normalised |
//! | `tel:+46 8-123 45` (`+`, digits, `-`, `.`, `(`, `)`, space; 3–20 digits) | [`LinkTarget::Phone`], `+` and digits only: `+46812345` |
//! | `nara:content/<article id>` | [`LinkTarget::Article`] |
//! | `nara:advice/<advice code>` | [`LinkTarget::ReadingAdvice`] |
//! | `nara:image/<image id>` (images only) | an image block |
//!
//! `tel:` with `*`, `#`, `,`, `;` or letters (operator codes, pauses, parameters) is not
//! a phone link. This module decides only; it never fetches anything.

use crate::domain::content::model::{AdviceCode, ArticleId, ImageId, LinkTarget};

/// The allowed link target for a Markdown link destination, or `None` if the link must
/// become plain text.
pub fn link_target(dest: &str) -> Option<LinkTarget> {
    let dest = dest.trim();
    let (scheme, rest) = dest.split_once(':')?;
    if !scheme.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match scheme.to_ascii_lowercase().as_str() {
        // Written as `https://host`: the URL standard would also accept `https:host`,
        // `https:///host` and backslashes, which an author checking the text would not.
        "https" if rest.starts_with("//") && !rest[2..].starts_with(['/', '\\']) => {
            external(dest).map(LinkTarget::External)
        }
        "tel" => phone(rest).map(LinkTarget::Phone),
        "nara" => {
            if let Some(id) = rest.strip_prefix("content/") {
                ArticleId::parse(id).map(LinkTarget::Article)
            } else if let Some(code) = rest.strip_prefix("advice/") {
                AdviceCode::parse(code).map(LinkTarget::ReadingAdvice)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The image id for a Markdown image destination (`nara:image/<id>`), or `None` if the
/// image must be dropped.
pub fn image_target(dest: &str) -> Option<ImageId> {
    let (scheme, rest) = dest.trim().split_once(':')?;
    if !scheme.eq_ignore_ascii_case("nara") {
        return None;
    }
    ImageId::parse(rest.strip_prefix("image/")?)
}

fn external(dest: &str) -> Option<String> {
    let url = url::Url::parse(dest).ok()?;
    let ok = url.scheme() == "https"
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none();
    ok.then(|| url.to_string())
}

fn phone(rest: &str) -> Option<String> {
    let mut number = String::new();
    for (i, c) in rest.chars().enumerate() {
        match c {
            '+' if i == 0 => number.push('+'),
            '0'..='9' => number.push(c),
            '-' | '.' | '(' | ')' | ' ' => {}
            _ => return None,
        }
    }
    let digits = number.trim_start_matches('+').len();
    (3..=20).contains(&digits).then_some(number)
}

/// True for characters that may reorder text on screen (bidirectional embeddings,
/// overrides and isolates); none of the content languages needs them, and they can make
/// a link's text read differently from what it is.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Cleans a piece of text for the document: tabs, newlines and line or paragraph
/// separators become spaces; other control characters, bidirectional controls and byte
/// order marks are removed; the result is in Unicode NFC (so `a` + combining ring and
/// `å` are the same letter on screen and in search).
pub fn clean_text(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' => Some(' '),
            '\u{FEFF}' => None,
            c if c.is_control() || is_bidi_control(c) => None,
            c => Some(c),
        })
        .collect();
    let nfc = icu_normalizer::ComposingNormalizerBorrowed::new_nfc();
    match nfc.normalize(&cleaned) {
        std::borrow::Cow::Borrowed(_) => cleaned,
        std::borrow::Cow::Owned(s) => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_by_scheme() {
        let table: &[(&str, Option<LinkTarget>)] = &[
            (
                "https://www.1177.se/sjukdomar",
                Some(LinkTarget::External("https://www.1177.se/sjukdomar".into())),
            ),
            (
                "HTTPS://Example.SE",
                Some(LinkTarget::External("https://example.se/".into())),
            ),
            ("https://user:pw@example.se/", None),
            ("https:///nohost", None),
            ("https:example.se", None),
            ("https:/\\example.se", None),
            ("https://\\example.se", None),
            ("http://example.se", None),
            ("javascript:alert(1)", None),
            ("JaVaScRiPt:alert(1)", None),
            (" javascript:alert(1)", None),
            ("data:text/html;base64,PHNjcmlwdD4=", None),
            ("file:///etc/passwd", None),
            ("mailto:a@b.se", None),
            ("/relative/path", None),
            ("page.html", None),
            ("//example.se", None),
            ("", None),
            ("tel:1177", Some(LinkTarget::Phone("1177".into()))),
            (
                "tel:+46 8-123 45",
                Some(LinkTarget::Phone("+46812345".into())),
            ),
            ("tel:112", Some(LinkTarget::Phone("112".into()))),
            ("tel:*21#", None),
            ("tel:12", None),
            ("tel:+4681234;ext=1", None),
            ("tel:4+6", None),
            (
                "nara:content/hypertoni-1",
                Some(LinkTarget::Article(
                    ArticleId::parse("hypertoni-1").expect("valid"),
                )),
            ),
            (
                "nara:advice/bp-red",
                Some(LinkTarget::ReadingAdvice(
                    AdviceCode::parse("bp-red").expect("valid"),
                )),
            ),
            ("nara:advice/BP red", None),
            ("nara:image/x", None),
            ("nara:settings", None),
            ("nara:content/../x", None),
        ];
        for (dest, expected) in table {
            assert_eq!(&link_target(dest), expected, "{dest:?}");
        }
    }

    #[test]
    fn images_only_as_nara_image() {
        assert_eq!(image_target("nara:image/cuff-1"), ImageId::parse("cuff-1"));
        assert_eq!(image_target("https://example.se/a.png"), None);
        assert_eq!(image_target("data:image/png;base64,AAAA"), None);
        assert_eq!(image_target("nara:image/"), None);
        assert_eq!(image_target("cuff.png"), None);
    }

    #[test]
    fn text_is_cleaned() {
        assert_eq!(clean_text("a\tb\u{0}c\u{7}d\u{202E}e\u{FEFF}"), "a bcde");
        assert_eq!(clean_text("a\u{030A}"), "å");
        assert_eq!(clean_text("mjuk\u{00AD}vara"), "mjuk\u{00AD}vara");
    }
}
