//! Patient-facing text in the languages the core speaks itself.
//!
//! Every sentence the core produces for a patient (triage reasons, validation
//! messages, reminder titles) is a [`LocalizedText`] carrying Swedish and English.
//! Shells pick the language; the core never guesses it. Content in the region's other
//! languages (Finnish, North Sami, Meänkieli) arrives from the region and is not
//! produced here.

use serde::{Deserialize, Serialize};

/// A language the core writes patient-facing text in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Swedish, the default.
    #[default]
    Sv,
    /// English.
    En,
}

impl Lang {
    /// Parses a BCP 47 tag such as `sv`, `sv-SE`, `en-GB`; anything else falls back to Swedish.
    pub fn from_tag(tag: &str) -> Lang {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Lang::En,
            _ => Lang::Sv,
        }
    }
}

/// One sentence in Swedish and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizedText {
    /// Swedish text.
    pub sv: String,
    /// English text.
    pub en: String,
}

impl LocalizedText {
    /// Builds a text from its Swedish and English forms.
    pub fn new(sv: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            sv: sv.into(),
            en: en.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Sv => &self.sv,
            Lang::En => &self.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_map_to_languages() {
        assert_eq!(Lang::from_tag("en-GB"), Lang::En);
        assert_eq!(Lang::from_tag("sv_SE"), Lang::Sv);
        assert_eq!(Lang::from_tag("fi"), Lang::Sv);
        assert_eq!(Lang::from_tag(""), Lang::Sv);
    }
}
