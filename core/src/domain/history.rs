//! The patient's earlier readings, as triage needs them.
//!
//! Some rules look back: a weight gain of more than 2 kg in 3 days (heart failure), an
//! irregular pulse found again within a week (possible atrial fibrillation). Triage is
//! one function of the reading, the thresholds in force and this history, whichever way
//! the reading arrives: typed in one by one, a bulk import, a Bluetooth device's memory,
//! a correction or a device preview (ADR 0013). The history holds what the store had
//! before the call and, for a batch, the readings of the batch that were measured
//! earlier: the caller adds each reading after triaging it, in time order.
//!
//! Pure: the caller fills it from the store ([`TriageHistory::LOOKBACK`] before the
//! earliest reading it will triage) and from the batch.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};

use crate::domain::reading::{Measurement, QualityFlags, Reading, ReadingId};

/// What triage needs to know of the patient's earlier readings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TriageHistory {
    seen: HashSet<ReadingId>,
    /// Body weights of good quality (time, kg), sorted by time.
    weights: Vec<(Timestamp, f64)>,
    /// Times of readings with an irregular pulse, sorted.
    irregular_pulses: Vec<Timestamp>,
}

impl TriageHistory {
    /// How far back any rule looks: the longest weight-gain window a care team may set
    /// (31 days, see `ThresholdSet::validate`) and the irregular-pulse window.
    pub const LOOKBACK: SignedDuration = SignedDuration::from_hours(24 * 31);

    /// The window in which a second irregular pulse makes the finding "repeated".
    pub const IRREGULAR_PULSE_WINDOW: SignedDuration = SignedDuration::from_hours(24 * 7);

    /// An empty history: nothing measured before.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a reading (stored, or triaged earlier in the same batch). A reading with an
    /// id already added is ignored, so a re-imported record is not counted twice.
    pub fn add(
        &mut self,
        id: ReadingId,
        measurement: &Measurement,
        at: Timestamp,
        quality: &QualityFlags,
    ) {
        let weight = match *measurement {
            Measurement::BodyWeight { kg } if !quality.is_poor() => Some(kg),
            _ => None,
        };
        // Only readings a rule looks back at are kept (and their ids remembered), so a
        // year of blood pressures costs the history nothing.
        if (weight.is_none() && !quality.irregular_pulse) || !self.seen.insert(id) {
            return;
        }
        if let Some(kg) = weight {
            let i = self.weights.partition_point(|(t, _)| *t <= at);
            self.weights.insert(i, (at, kg));
        }
        if quality.irregular_pulse {
            let i = self.irregular_pulses.partition_point(|t| *t <= at);
            self.irregular_pulses.insert(i, at);
        }
    }

    /// Adds a stored reading; see [`TriageHistory::add`].
    pub fn add_reading(&mut self, r: &Reading) {
        self.add(r.id, &r.measurement, r.effective_at, &r.quality);
    }

    /// True if the reading with `id` is in the history (only readings that a rule looks
    /// back at are kept).
    pub fn contains(&self, id: ReadingId) -> bool {
        self.seen.contains(&id)
    }

    /// The lowest good-quality weight measured in `from..before` (start inclusive, end
    /// exclusive), if any.
    pub fn lowest_weight(&self, from: Timestamp, before: Timestamp) -> Option<f64> {
        let start = self.weights.partition_point(|(t, _)| *t < from);
        let end = self.weights.partition_point(|(t, _)| *t < before);
        self.weights
            .get(start..end)?
            .iter()
            .map(|(_, w)| *w)
            .reduce(f64::min)
    }

    /// The number of readings with an irregular pulse measured in `from..before`.
    pub fn irregular_pulses(&self, from: Timestamp, before: Timestamp) -> usize {
        let start = self.irregular_pulses.partition_point(|t| *t < from);
        let end = self.irregular_pulses.partition_point(|t| *t < before);
        end.saturating_sub(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    fn id(n: u128) -> ReadingId {
        ReadingId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn windows_are_start_inclusive_end_exclusive_and_ids_count_once() {
        let mut h = TriageHistory::new();
        let w = |kg| Measurement::BodyWeight { kg };
        h.add(
            id(1),
            &w(80.0),
            t("2026-11-20T08:00:00Z"),
            &QualityFlags::GOOD,
        );
        h.add(
            id(2),
            &w(79.0),
            t("2026-11-22T08:00:00Z"),
            &QualityFlags::GOOD,
        );
        // The same record again (a re-import) changes nothing.
        h.add(
            id(2),
            &w(70.0),
            t("2026-11-22T08:00:00Z"),
            &QualityFlags::GOOD,
        );
        let poor = QualityFlags {
            body_movement: true,
            ..QualityFlags::GOOD
        };
        h.add(id(3), &w(60.0), t("2026-11-21T08:00:00Z"), &poor);
        assert_eq!(
            h.lowest_weight(t("2026-11-20T08:00:00Z"), t("2026-11-23T00:00:00Z")),
            Some(79.0)
        );
        assert_eq!(
            h.lowest_weight(t("2026-11-20T08:00:01Z"), t("2026-11-22T08:00:00Z")),
            None
        );

        let irregular = QualityFlags {
            irregular_pulse: true,
            ..QualityFlags::GOOD
        };
        let bp = Measurement::BloodPressure {
            systolic: 130.0,
            diastolic: 80.0,
            pulse: Some(88.0),
        };
        h.add(id(4), &bp, t("2026-11-22T08:00:00Z"), &irregular);
        h.add(id(4), &bp, t("2026-11-22T08:00:00Z"), &irregular);
        assert_eq!(
            h.irregular_pulses(t("2026-11-15T08:00:00Z"), t("2026-11-22T08:00:01Z")),
            1
        );
        assert_eq!(
            h.irregular_pulses(t("2026-11-15T08:00:00Z"), t("2026-11-22T08:00:00Z")),
            0
        );
    }
}
