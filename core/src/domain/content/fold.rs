//! Folding text for search: lower case without diacritics, so `hälsa`, `Hälsa` and
//! `halsa` find each other, as do `Sámi` and `sami`.
//!
//! Used for query normalisation and tests. It matches SQLite FTS5's tokenizer
//! `unicode61 remove_diacritics 2` for every letter with a Unicode decomposition
//! (å ä ö é á š č ž → a a o e a s c z). FTS5 keeps letters *without* a decomposition,
//! among them the North Sami đ ŋ ŧ; this fold maps those to d n t as well (the table
//! below), because a Swedish or Finnish keyboard cannot type them. For the two to agree,
//! a search index must therefore store `fold(text)` rather than the raw text, so that
//! FTS5's own folding has nothing left to do; `core/tests/content_model.rs` shows both
//! the agreement and the difference against the bundled SQLite.
//!
//! How: lower-case, decompose to NFD (ICU's normaliser, already in the tree through
//! `url`), drop combining marks (U+0300–U+036F, U+1AB0–U+1AFF, U+1DC0–U+1DFF,
//! U+20D0–U+20FF, U+FE20–U+FE2F), then apply the table. Nothing else changes:
//! punctuation, spacing and other scripts' letters are left as they are.

/// Letters with no decomposition that Sami (and Nordic) readers expect to find by their
/// base letter, lower case (the fold lower-cases first).
const EXTRA: &[(char, char)] = &[
    ('đ', 'd'), // North Sami, Lule and Inari Sami
    ('ŋ', 'n'), // North and Inari Sami
    ('ŧ', 't'), // North Sami
];

fn is_combining_mark(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036F}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE20}'..='\u{FE2F}'
    )
}

/// Folds `text` for search: lower case, diacritics removed, đ ŋ ŧ → d n t.
pub fn fold(text: &str) -> String {
    let lower = text.to_lowercase();
    let nfd = icu_normalizer::DecomposingNormalizerBorrowed::new_nfd();
    nfd.normalize(&lower)
        .chars()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| {
            EXTRA
                .iter()
                .find(|(from, _)| *from == c)
                .map_or(c, |(_, to)| *to)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_swedish_finnish_and_sami_letters() {
        let table = [
            ("hälsa", "halsa"),
            ("HÄLSA", "halsa"),
            ("Åsa Öberg", "asa oberg"),
            ("café", "cafe"),
            ("Sámi giella", "sami giella"),
            ("Šiellat čáhci žurnála", "siellat cahci zurnala"),
            ("Đuoddji ŊUOLLA Ŧ", "duoddji nuolla t"),
            ("meänkieli", "meankieli"),
            ("e\u{0301}", "e"),
            ("blodtryck 140/90", "blodtryck 140/90"),
        ];
        for (input, expected) in table {
            assert_eq!(fold(input), expected, "{input}");
        }
    }

    #[test]
    fn folding_is_idempotent() {
        for s in ["hälsa", "Đuoddji", "Sámi", "ǯ", "ﬁ"] {
            assert_eq!(fold(&fold(s)), fold(s), "{s}");
        }
    }
}
