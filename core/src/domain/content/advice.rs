//! "What to do now": from a reading's triage outcome to the region's advice article.
//!
//! Triage ([`crate::domain::triage`]) decides a band and a reason offline. This module
//! names the advice for that outcome with an [`AdviceCode`], and finds the article that
//! answers it. Both are pure lookups; fetching and caching articles is not done here.
//!
//! # Advice codes
//!
//! | outcome | code | example |
//! | --- | --- | --- |
//! | red or yellow, above the range (`very_high`, `above_target`) | `<kind>-<band>-high` | `bp-red-high` |
//! | red or yellow, below the range (`very_low`, `below_target`) | `<kind>-<band>-low` | `glucose-red-low` |
//! | weight gain (`weight_gain`) | `weight-<band>` | `weight-yellow` |
//! | poor measurement quality (band measure again) | `<kind>-measure-again` | `bp-measure-again` |
//! | green, not assessed | none | |
//!
//! `<kind>` is [`ReadingKind::short_name`] (`bp`, `hr`, `weight`, `glucose`, `spo2`,
//! `pef`, `temp`, `steps`, `cat`); `<band>` is `red` or `yellow`. A code with a
//! direction has a broader one without it ([`broader`]): `bp-red-high` → `bp-red`.
//! The direction matters clinically (low glucose needs sugar now, high glucose does
//! not), so regions may write one article per direction, or one for the band.
//!
//! # How articles declare what they answer
//!
//! The region tags an article with the topic `advice:<code>`, e.g. `advice:bp-red` for
//! an article on what to do with a red blood pressure in either direction, or
//! `advice:glucose-red-low` for low blood sugar. One article may carry several.
//! [`article_for_advice`] looks for the most specific code first, in the patient's
//! language and then in Swedish, before trying the broader code: right advice in
//! Swedish beats advice for the other direction in the patient's language.

use serde::{Deserialize, Serialize};

use crate::domain::content::model::{AdviceCode, ArticleId, ArticleMeta, ContentLanguage};
use crate::domain::reading::{Reading, ReadingKind};
use crate::domain::triage::{Band, TriageReason, TriageResult};

/// The advice code for a stored reading's triage outcome, or `None` when there is
/// nothing to do (green, not assessed).
pub fn advice_for(reading: &Reading) -> Option<AdviceCode> {
    advice_code(reading.kind(), &reading.triage)
}

/// The advice code for a triage result of a reading of `kind` (see the module docs).
pub fn advice_code(kind: ReadingKind, result: &TriageResult) -> Option<AdviceCode> {
    let band = match result.band {
        Band::Red => "red",
        Band::Yellow => "yellow",
        Band::MeasureAgain => {
            return AdviceCode::parse(&format!("{}-measure-again", kind.short_name()));
        }
        Band::Green | Band::NotAssessed => return None,
    };
    let code = match result.reason {
        TriageReason::AboveTarget { .. } | TriageReason::VeryHigh { .. } => {
            format!("{}-{band}-high", kind.short_name())
        }
        TriageReason::BelowTarget { .. } | TriageReason::VeryLow { .. } => {
            format!("{}-{band}-low", kind.short_name())
        }
        _ => format!("{}-{band}", kind.short_name()),
    };
    AdviceCode::parse(&code)
}

/// The broader code of a code with a direction (`bp-red-high` → `bp-red`), or `None`.
pub fn broader(code: &AdviceCode) -> Option<AdviceCode> {
    let s = code.as_str();
    let base = s.strip_suffix("-high").or_else(|| s.strip_suffix("-low"))?;
    AdviceCode::parse(base)
}

/// The article chosen to answer an advice code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviceArticle {
    /// The article.
    pub id: ArticleId,
    /// The language it is in.
    pub language: ContentLanguage,
    /// True if it is in Swedish because none was in the patient's language: the shell
    /// says so ("Shown in Swedish").
    pub fell_back: bool,
}

/// Finds the article that answers `code` (declared with the topic `advice:<code>`),
/// preferring `preferred`, else Swedish (with `fell_back`), trying the exact code before
/// its [`broader`] one. Among several in one language, the most recently updated wins
/// (then the highest version, then the smallest id). `None` if no article answers, in
/// which case the shell shows the band's general advice ([`Band::advice`]).
pub fn article_for_advice(
    code: &AdviceCode,
    articles: &[ArticleMeta],
    preferred: ContentLanguage,
) -> Option<AdviceArticle> {
    let mut next = Some(code.clone());
    while let Some(code) = next {
        if let Some(found) = best(&code, articles, preferred) {
            return Some(AdviceArticle {
                id: found.id.clone(),
                language: preferred,
                fell_back: false,
            });
        }
        if preferred != ContentLanguage::Sv {
            if let Some(found) = best(&code, articles, ContentLanguage::Sv) {
                return Some(AdviceArticle {
                    id: found.id.clone(),
                    language: ContentLanguage::Sv,
                    fell_back: true,
                });
            }
        }
        next = broader(&code);
    }
    None
}

fn best<'a>(
    code: &AdviceCode,
    articles: &'a [ArticleMeta],
    language: ContentLanguage,
) -> Option<&'a ArticleMeta> {
    articles
        .iter()
        .filter(|a| a.language == language && a.answers(code))
        .max_by(|a, b| {
            (a.updated_at, a.version)
                .cmp(&(b.updated_at, b.version))
                .then_with(|| b.id.cmp(&a.id))
        })
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::domain::reading::{Measurement, QualityFlags};
    use crate::domain::triage::{ThresholdSet, TriageHistory, triage};

    fn code(s: &str) -> AdviceCode {
        AdviceCode::parse(s).expect("valid code")
    }

    fn outcome(m: Measurement, quality: QualityFlags) -> Option<AdviceCode> {
        let at: Timestamp = "2026-11-24T08:00:00Z".parse().expect("valid time");
        let result = triage(
            &m,
            at,
            &quality,
            &ThresholdSet::default_for(m.kind()),
            &TriageHistory::default(),
        );
        advice_code(m.kind(), &result)
    }

    #[test]
    fn outcomes_map_to_codes() {
        let bp = |s, d| Measurement::BloodPressure {
            systolic: s,
            diastolic: d,
            pulse: None,
        };
        let good = QualityFlags::GOOD;
        assert_eq!(outcome(bp(190.0, 80.0), good), Some(code("bp-red-high")));
        assert_eq!(outcome(bp(85.0, 70.0), good), Some(code("bp-red-low")));
        assert_eq!(outcome(bp(140.0, 80.0), good), Some(code("bp-yellow-high")));
        assert_eq!(outcome(bp(120.0, 80.0), good), None);
        let glucose = |v| Measurement::BloodGlucose { mmol_per_l: v };
        assert_eq!(outcome(glucose(2.5), good), Some(code("glucose-red-low")));
        assert_eq!(outcome(glucose(15.0), good), Some(code("glucose-red-high")));
        assert_eq!(outcome(Measurement::Steps { count: 10.0 }, good), None);
        let poor = QualityFlags {
            cuff_fit_poor: true,
            ..QualityFlags::GOOD
        };
        assert_eq!(
            outcome(bp(190.0, 80.0), poor),
            Some(code("bp-measure-again"))
        );
    }

    #[test]
    fn broader_strips_the_direction_only() {
        assert_eq!(broader(&code("bp-red-high")), Some(code("bp-red")));
        assert_eq!(
            broader(&code("glucose-yellow-low")),
            Some(code("glucose-yellow"))
        );
        assert_eq!(broader(&code("bp-red")), None);
        assert_eq!(broader(&code("bp-measure-again")), None);
    }
}
