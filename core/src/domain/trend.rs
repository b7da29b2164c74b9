//! Trends: statistics over a window of readings, and chart-ready series.
//!
//! This module owns the arithmetic behind the patient's and clinician's overview:
//! counts, means, minima and maxima and band counts over 7/30/90 days
//! ([`summarize`]), time series of one metric for a chart, downsampled with
//! Largest-Triangle-Three-Buckets so that long ranges stay cheap to draw without losing
//! outliers ([`series`], [`lttb`]), and per-day means in the patient's time zone
//! ([`daily_means`]).
//!
//! It is pure: callers hand in the non-superseded readings as [`TrendSample`]s and the
//! current time; nothing here reads a store or a clock. It makes no clinical judgement
//! either: the band of each sample was decided by triage at capture.
//!
//! One rule runs through every function: a sample whose band is [`Band::MeasureAgain`]
//! (poor measurement quality) is counted and drawn as a marked point (its band says so),
//! but its values never enter a mean, a minimum or a maximum: a value the device itself
//! flagged as unreliable must not move the trend a clinician reads, and must not vanish
//! either (ADR 0013). A value the device could only bound ("HI", [`OffScale`]) is drawn
//! at its bound with its comparator and left out of the statistics the same way.
//! Non-finite values (which validation never lets into the store) are ignored.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp, civil::Date, tz::TimeZone};
use serde::{Deserialize, Serialize};

use crate::domain::reading::{
    Comparator, Measurement, Metric, OffScale, ReadingKind, comparator_of,
};
use crate::domain::triage::Band;

/// One reading as trends see it: when, what, and the band triage gave it.
///
/// Pass only readings that are not superseded by a correction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendSample {
    /// When it was measured.
    pub at: Timestamp,
    /// The measured values, in canonical units.
    pub measurement: Measurement,
    /// The band triage gave it at capture.
    pub band: Band,
    /// Values the device could only bound.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub off_scale: Vec<OffScale>,
}

impl TrendSample {
    /// True if `metric`'s value may enter a mean, a minimum or a maximum: a sample of
    /// good quality whose value is exact and finite.
    fn counts(&self, metric: Metric, value: f64) -> bool {
        self.band != Band::MeasureAgain
            && value.is_finite()
            && comparator_of(&self.off_scale, metric).is_none()
    }
}

/// The standard overview windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendWindow {
    /// The last 7 days.
    Days7,
    /// The last 30 days.
    Days30,
    /// The last 90 days.
    Days90,
}

impl TrendWindow {
    /// Every window, shortest first.
    pub const ALL: [TrendWindow; 3] =
        [TrendWindow::Days7, TrendWindow::Days30, TrendWindow::Days90];

    /// The window's length in days (of 24 hours, see [`summarize`]).
    pub fn days(self) -> u32 {
        match self {
            TrendWindow::Days7 => 7,
            TrendWindow::Days30 => 30,
            TrendWindow::Days90 => 90,
        }
    }
}

/// How many samples fell in each band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BandCounts {
    /// Samples in [`Band::Green`].
    pub green: u32,
    /// Samples in [`Band::Yellow`].
    pub yellow: u32,
    /// Samples in [`Band::Red`].
    pub red: u32,
    /// Samples in [`Band::MeasureAgain`].
    pub measure_again: u32,
    /// Samples in [`Band::NotAssessed`].
    pub not_assessed: u32,
}

impl BandCounts {
    /// Counts one more sample in `band`.
    pub fn add(&mut self, band: Band) {
        let slot = match band {
            Band::Green => &mut self.green,
            Band::Yellow => &mut self.yellow,
            Band::Red => &mut self.red,
            Band::MeasureAgain => &mut self.measure_again,
            Band::NotAssessed => &mut self.not_assessed,
        };
        *slot = slot.saturating_add(1);
    }

    /// The number of samples in `band`.
    pub fn get(&self, band: Band) -> u32 {
        match band {
            Band::Green => self.green,
            Band::Yellow => self.yellow,
            Band::Red => self.red,
            Band::MeasureAgain => self.measure_again,
            Band::NotAssessed => self.not_assessed,
        }
    }

    /// The number of samples in all bands together.
    pub fn total(&self) -> u32 {
        [
            self.green,
            self.yellow,
            self.red,
            self.measure_again,
            self.not_assessed,
        ]
        .into_iter()
        .fold(0u32, u32::saturating_add)
    }
}

/// Statistics of one metric over a window.
///
/// Only samples that are not [`Band::MeasureAgain`] contribute, so `count` may be lower
/// than the summary's count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricStats {
    /// The metric.
    pub metric: Metric,
    /// The number of values that contributed to the statistics.
    pub count: u32,
    /// Arithmetic mean of the contributing values.
    pub mean: f64,
    /// Smallest contributing value.
    pub min: f64,
    /// Largest contributing value.
    pub max: f64,
}

/// The overview of one reading kind over a window ending now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendSummary {
    /// The kind summarized.
    pub kind: ReadingKind,
    /// The window's length in days.
    pub window_days: u32,
    /// Every sample of the kind in the window, including "measure again" ones.
    pub count: u32,
    /// Statistics per metric of the kind, in the kind's metric order
    /// ([`ReadingKind::metrics`]); a metric without any contributing value is left out.
    pub metrics: Vec<MetricStats>,
    /// Samples per band (sums to `count`).
    pub band_counts: BandCounts,
    /// The earliest sample in the window, of any band.
    pub first_at: Option<Timestamp>,
    /// The latest sample in the window, of any band.
    pub last_at: Option<Timestamp>,
}

impl TrendSummary {
    /// The statistics of `metric`, if it had a contributing value.
    pub fn stats(&self, metric: Metric) -> Option<&MetricStats> {
        self.metrics.iter().find(|s| s.metric == metric)
    }
}

/// Running sums for one metric.
#[derive(Debug, Clone, Copy)]
struct Accumulator {
    count: u32,
    sum: f64,
    min: f64,
    max: f64,
}

impl Accumulator {
    const EMPTY: Accumulator = Accumulator {
        count: 0,
        sum: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };

    fn add(&mut self, value: f64) {
        self.count = self.count.saturating_add(1);
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }
}

/// Summarizes the samples of `kind` measured in the `window_days` days up to `now`.
///
/// The window is `now - window_days × 24 h < at <= now`: open at the start, closed at
/// `now`, and made of 24-hour days, not calendar days (a window spanning a daylight
/// saving change still covers exactly `window_days × 24` hours). Samples of other kinds
/// or outside the window are ignored. Samples need not be sorted.
///
/// Samples with band [`Band::MeasureAgain`] count in `count`, `band_counts`, `first_at`
/// and `last_at`, but are **excluded from mean, min and max**: a poor-quality value must
/// not skew the trend. Non-finite values are excluded the same way.
///
/// A window too long for the calendar (beyond year −9999) includes every sample up to
/// `now`.
pub fn summarize(
    kind: ReadingKind,
    samples: &[TrendSample],
    window_days: u32,
    now: Timestamp,
) -> TrendSummary {
    let span = SignedDuration::from_hours(i64::from(window_days) * 24);
    let start = now.checked_sub(span).ok();
    let in_window = |at: Timestamp| at <= now && start.is_none_or(|s| at > s);

    let metrics = kind.metrics();
    let mut acc = vec![Accumulator::EMPTY; metrics.len()];
    let mut count = 0u32;
    let mut band_counts = BandCounts::default();
    let mut first_at: Option<Timestamp> = None;
    let mut last_at: Option<Timestamp> = None;

    for sample in samples {
        if sample.measurement.kind() != kind || !in_window(sample.at) {
            continue;
        }
        count = count.saturating_add(1);
        band_counts.add(sample.band);
        first_at = Some(first_at.map_or(sample.at, |t| t.min(sample.at)));
        last_at = Some(last_at.map_or(sample.at, |t| t.max(sample.at)));
        for (metric, value) in sample.measurement.values() {
            if !sample.counts(metric, value) {
                continue;
            }
            if let Some(i) = metrics.iter().position(|m| *m == metric) {
                acc[i].add(value);
            }
        }
    }

    let metrics = metrics
        .iter()
        .zip(acc)
        .filter(|(_, a)| a.count > 0)
        .map(|(metric, a)| MetricStats {
            metric: *metric,
            count: a.count,
            mean: a.sum / f64::from(a.count),
            min: a.min,
            max: a.max,
        })
        .collect();

    TrendSummary {
        kind,
        window_days,
        count,
        metrics,
        band_counts,
        first_at,
        last_at,
    }
}

/// One point of a chart series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// When it was measured.
    pub at: Timestamp,
    /// The value, in the metric's canonical unit.
    pub value: f64,
    /// The sample's band, so the chart can mark the point by colour and shape (a
    /// "measure again" point is drawn, marked, and left out of the statistics).
    pub band: Band,
    /// Set when the value is only a bound ("HI"/"LO"): draw it at the bound, marked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparator: Option<Comparator>,
}

/// The chart series of `metric` between `from` and `to` (both inclusive), at most
/// `max_points` long.
///
/// Takes every sample that has `metric` (whatever its kind: [`Metric::Pulse`] comes from
/// blood pressure and oxygen saturation readings alike; pass only one kind's samples to
/// separate them), keeps [`Band::MeasureAgain`] samples as marked points (their band)
/// and bounded values with their comparator, leaves out non-finite values, and
/// sorts by time, ascending; samples with equal times keep their input order. When more
/// than `max_points` remain they are downsampled with [`lttb`], which keeps the first and
/// the last point and the visually significant ones in between, so an outlier does not
/// vanish from a long range. See [`lttb`] for `max_points` below 3.
pub fn series(
    samples: &[TrendSample],
    metric: Metric,
    from: Timestamp,
    to: Timestamp,
    max_points: usize,
) -> Vec<SeriesPoint> {
    let mut points: Vec<SeriesPoint> = samples
        .iter()
        .filter(|s| s.at >= from && s.at <= to)
        .filter_map(|s| {
            let value = s.measurement.value(metric)?;
            value.is_finite().then_some(SeriesPoint {
                at: s.at,
                value,
                band: s.band,
                comparator: comparator_of(&s.off_scale, metric),
            })
        })
        .collect();
    // `sort_by_key` is stable: equal times keep their input order.
    points.sort_by_key(|p| p.at);
    lttb(&points, max_points)
}

/// Downsamples `points` to `threshold` points with Largest-Triangle-Three-Buckets
/// (Sveinn Steinarsson, "Downsampling Time Series for Visual Representation", 2013).
///
/// `points` must be sorted by time, ascending. The x coordinate is the time in seconds
/// (measured from the first point, which is seconds since the epoch shifted for
/// precision; the triangle areas are the same), the y coordinate the value.
///
/// The first and last points are always kept. The points in between are split into
/// `threshold - 2` buckets of (nearly) equal count, and from each bucket the point
/// forming the largest triangle with the point chosen in the previous bucket and the
/// average of the next bucket is kept (the earliest one on a tie). The result is a
/// subsequence of `points`, in order, of length `min(points.len(), threshold)`:
///
/// - `points.len() <= threshold`: `points` unchanged;
/// - `threshold == 0`: empty;
/// - `threshold == 1`: the last point only (the most recent value matters most);
/// - `threshold == 2`: the first and the last point.
pub fn lttb(points: &[SeriesPoint], threshold: usize) -> Vec<SeriesPoint> {
    let n = points.len();
    if n <= threshold {
        return points.to_vec();
    }
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Vec::new();
    };
    match threshold {
        0 => return Vec::new(),
        1 => return vec![*last],
        2 => return vec![*first, *last],
        _ => {}
    }

    let x = |p: &SeriesPoint| p.at.duration_since(first.at).as_secs_f64();
    let buckets = threshold - 2;
    let inner = n - 2;
    // Bucket `i` (0-based) holds the indices `bound(i)..bound(i + 1)`; `bound(0) == 1` and
    // `bound(buckets) == n - 1`. Because `inner > buckets`, no bucket is empty. Integer
    // arithmetic in u128 cannot overflow and has no rounding at the edges.
    let bound = |i: usize| -> usize {
        let b = 1 + (i as u128 * inner as u128 / buckets as u128);
        usize::try_from(b).unwrap_or(n - 1)
    };

    let mut out = Vec::with_capacity(threshold);
    out.push(*first);
    let mut a = *first;
    for i in 0..buckets {
        let (start, end) = (bound(i), bound(i + 1));
        // The average of the next bucket; for the last bucket, that is the last point.
        let next = if i + 1 < buckets {
            &points[end..bound(i + 2)]
        } else {
            &points[n - 1..]
        };
        let len = next.len() as f64;
        let avg_x = next.iter().map(x).sum::<f64>() / len;
        let avg_y = next.iter().map(|p| p.value).sum::<f64>() / len;

        let (ax, ay) = (x(&a), a.value);
        let mut best = start;
        let mut best_area = f64::NEG_INFINITY;
        for (j, p) in points.iter().enumerate().take(end).skip(start) {
            // Twice the triangle's area; the factor does not change the choice.
            let area = ((ax - avg_x) * (p.value - ay) - (ax - x(p)) * (avg_y - ay)).abs();
            if area > best_area {
                best_area = area;
                best = j;
            }
        }
        a = points[best];
        out.push(a);
    }
    out.push(*last);
    out
}

/// The mean of `metric` per local calendar day in `tz`, sorted by date.
///
/// Each sample belongs to the day its time falls on in `tz` (so a reading at 00:30 in
/// Stockholm belongs to that day, not the UTC one before). [`Band::MeasureAgain`]
/// samples and non-finite values are left out; days without a value do not appear.
pub fn daily_means(samples: &[TrendSample], metric: Metric, tz: &TimeZone) -> Vec<(Date, f64)> {
    let mut days: BTreeMap<Date, (f64, u32)> = BTreeMap::new();
    for sample in samples {
        let Some(value) = sample
            .measurement
            .value(metric)
            .filter(|v| sample.counts(metric, *v))
        else {
            continue;
        };
        let day = tz.to_datetime(sample.at).date();
        let entry = days.entry(day).or_insert((0.0, 0));
        entry.0 += value;
        entry.1 = entry.1.saturating_add(1);
    }
    days.into_iter()
        .map(|(day, (sum, n))| (day, sum / f64::from(n)))
        .collect()
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid time")
    }

    fn now() -> Timestamp {
        t("2026-11-24T08:00:00Z")
    }

    fn bp(at: Timestamp, systolic: f64, diastolic: f64, band: Band) -> TrendSample {
        TrendSample {
            at,
            measurement: Measurement::BloodPressure {
                systolic,
                diastolic,
                pulse: None,
            },
            band,
            off_scale: Vec::new(),
        }
    }

    fn glucose(at: Timestamp, mmol_per_l: f64, band: Band) -> TrendSample {
        TrendSample {
            at,
            measurement: Measurement::BloodGlucose { mmol_per_l },
            band,
            off_scale: Vec::new(),
        }
    }

    fn hours_ago(h: i64) -> Timestamp {
        now() - SignedDuration::from_hours(h)
    }

    fn point(secs: i64, value: f64) -> SeriesPoint {
        SeriesPoint {
            at: Timestamp::from_second(1_780_000_000 + secs).expect("valid time"),
            value,
            band: Band::Green,
            comparator: None,
        }
    }

    #[test]
    fn windows_have_their_days() {
        let days: Vec<u32> = TrendWindow::ALL.iter().map(|w| w.days()).collect();
        assert_eq!(days, vec![7, 30, 90]);
    }

    #[test]
    fn summary_of_a_week_of_blood_pressure() {
        let samples = vec![
            bp(hours_ago(1), 140.0, 90.0, Band::Yellow),
            bp(hours_ago(30), 120.0, 80.0, Band::Green),
            bp(hours_ago(50), 180.0, 110.0, Band::Red),
            bp(hours_ago(70), 130.0, 85.0, Band::Green),
        ];
        let s = summarize(ReadingKind::BloodPressure, &samples, 7, now());
        assert_eq!(s.kind, ReadingKind::BloodPressure);
        assert_eq!(s.window_days, 7);
        assert_eq!(s.count, 4);
        assert_eq!(
            s.band_counts,
            BandCounts {
                green: 2,
                yellow: 1,
                red: 1,
                ..Default::default()
            }
        );
        let sys = s.stats(Metric::Systolic).expect("systolic");
        assert_eq!(
            (sys.count, sys.mean, sys.min, sys.max),
            (4, 142.5, 120.0, 180.0)
        );
        let dia = s.stats(Metric::Diastolic).expect("diastolic");
        assert_eq!(
            (dia.count, dia.mean, dia.min, dia.max),
            (4, 91.25, 80.0, 110.0)
        );
        // No sample had a pulse, so there are no pulse statistics.
        assert_eq!(s.stats(Metric::Pulse), None);
        assert_eq!(s.metrics.len(), 2);
        assert_eq!(s.first_at, Some(hours_ago(70)));
        assert_eq!(s.last_at, Some(hours_ago(1)));
    }

    #[test]
    fn measure_again_counts_but_does_not_skew_the_statistics() {
        let samples = vec![
            glucose(hours_ago(1), 6.0, Band::Green),
            glucose(hours_ago(2), 30.0, Band::MeasureAgain),
            glucose(hours_ago(3), 8.0, Band::Yellow),
        ];
        let s = summarize(ReadingKind::BloodGlucose, &samples, 7, now());
        assert_eq!(s.count, 3);
        assert_eq!(s.band_counts.measure_again, 1);
        assert_eq!(s.band_counts.total(), 3);
        let g = s.stats(Metric::Glucose).expect("glucose");
        assert_eq!((g.count, g.mean, g.min, g.max), (2, 7.0, 6.0, 8.0));
    }

    #[test]
    fn only_measure_again_gives_a_count_without_statistics() {
        let samples = vec![glucose(hours_ago(1), 6.0, Band::MeasureAgain)];
        let s = summarize(ReadingKind::BloodGlucose, &samples, 7, now());
        assert_eq!(s.count, 1);
        assert!(s.metrics.is_empty());
        assert_eq!(s.last_at, Some(hours_ago(1)));
    }

    #[test]
    fn window_is_open_at_the_start_and_closed_at_now() {
        let samples = vec![
            glucose(now(), 5.0, Band::Green),             // in
            glucose(hours_ago(7 * 24), 6.0, Band::Green), // exactly at start: out
            glucose(
                hours_ago(7 * 24) + SignedDuration::from_secs(1),
                7.0,
                Band::Green,
            ), // in
            glucose(now() + SignedDuration::from_secs(1), 8.0, Band::Green), // future: out
        ];
        let s = summarize(ReadingKind::BloodGlucose, &samples, 7, now());
        assert_eq!(s.count, 2);
        assert_eq!(s.stats(Metric::Glucose).map(|g| g.mean), Some(6.0));
    }

    #[test]
    fn other_kinds_and_empty_input_are_ignored() {
        let samples = vec![bp(hours_ago(1), 120.0, 80.0, Band::Green)];
        let s = summarize(ReadingKind::BloodGlucose, &samples, 30, now());
        assert_eq!(s.count, 0);
        assert!(s.metrics.is_empty());
        assert_eq!((s.first_at, s.last_at), (None, None));
        assert_eq!(
            summarize(ReadingKind::BloodGlucose, &[], 90, now()).count,
            0
        );
    }

    #[test]
    fn zero_and_huge_windows() {
        let samples = vec![
            glucose(now(), 5.0, Band::Green),
            glucose(t("1990-01-01T00:00:00Z"), 6.0, Band::Green),
        ];
        assert_eq!(
            summarize(ReadingKind::BloodGlucose, &samples, 0, now()).count,
            0
        );
        assert_eq!(
            summarize(ReadingKind::BloodGlucose, &samples, u32::MAX, now()).count,
            2
        );
    }

    #[test]
    fn pulse_statistics_come_from_readings_that_have_a_pulse() {
        let mut with_pulse = bp(hours_ago(1), 120.0, 80.0, Band::Green);
        with_pulse.measurement = Measurement::BloodPressure {
            systolic: 120.0,
            diastolic: 80.0,
            pulse: Some(70.0),
        };
        let samples = vec![with_pulse, bp(hours_ago(2), 130.0, 82.0, Band::Green)];
        let s = summarize(ReadingKind::BloodPressure, &samples, 7, now());
        let metrics: Vec<Metric> = s.metrics.iter().map(|m| m.metric).collect();
        assert_eq!(
            metrics,
            vec![Metric::Systolic, Metric::Diastolic, Metric::Pulse]
        );
        assert_eq!(
            s.stats(Metric::Pulse).map(|p| (p.count, p.mean)),
            Some((1, 70.0))
        );
    }

    #[test]
    fn series_filters_sorts_and_keeps_bands() {
        let samples = vec![
            glucose(hours_ago(1), 6.0, Band::Green),
            glucose(hours_ago(5), 12.0, Band::Red),
            glucose(hours_ago(3), 20.0, Band::MeasureAgain),
            glucose(hours_ago(100), 5.0, Band::Green), // before `from`
            bp(hours_ago(2), 120.0, 80.0, Band::Green), // no glucose
        ];
        let pts = series(&samples, Metric::Glucose, hours_ago(48), now(), 100);
        let got: Vec<(Timestamp, f64, Band)> =
            pts.iter().map(|p| (p.at, p.value, p.band)).collect();
        // The "measure again" value is drawn, marked by its band: a flagged reading
        // must not vanish from the chart the care team reads.
        assert_eq!(
            got,
            vec![
                (hours_ago(5), 12.0, Band::Red),
                (hours_ago(3), 20.0, Band::MeasureAgain),
                (hours_ago(1), 6.0, Band::Green)
            ]
        );
    }

    /// A meter's "HI" is drawn at its bound with its comparator and never enters a mean,
    /// a minimum, a maximum or a daily mean; a "measure again" value is counted but not
    /// averaged either.
    #[test]
    fn bounded_and_flagged_values_are_shown_but_not_averaged() {
        let hi = TrendSample {
            off_scale: vec![OffScale {
                metric: Metric::Glucose,
                comparator: Comparator::Above,
            }],
            ..glucose(hours_ago(2), 33.3, Band::Red)
        };
        let samples = vec![
            glucose(hours_ago(4), 6.0, Band::Green),
            hi,
            glucose(hours_ago(1), 30.0, Band::MeasureAgain),
            glucose(hours_ago(3), 8.0, Band::Green),
        ];
        let s = summarize(ReadingKind::BloodGlucose, &samples, 7, now());
        assert_eq!(s.count, 4);
        assert_eq!((s.band_counts.red, s.band_counts.measure_again), (1, 1));
        let g = s.stats(Metric::Glucose).expect("stats");
        assert_eq!((g.count, g.mean, g.min, g.max), (2, 7.0, 6.0, 8.0));
        let pts = series(&samples, Metric::Glucose, hours_ago(48), now(), 100);
        assert_eq!(pts.len(), 4);
        assert_eq!(pts[2].comparator, Some(Comparator::Above));
        assert!(
            pts.iter()
                .filter(|p| p.at != hours_ago(2))
                .all(|p| p.comparator.is_none())
        );
        let daily = daily_means(&samples, Metric::Glucose, &TimeZone::UTC);
        assert!(daily.iter().all(|(_, mean)| *mean == 7.0), "{daily:?}");
    }

    #[test]
    fn series_bounds_are_inclusive_and_equal_times_stay_in_input_order() {
        let samples = vec![
            glucose(now(), 7.0, Band::Yellow),
            glucose(hours_ago(1), 5.0, Band::Green),
            glucose(now(), 6.0, Band::Green),
        ];
        let pts = series(&samples, Metric::Glucose, hours_ago(1), now(), 10);
        let values: Vec<f64> = pts.iter().map(|p| p.value).collect();
        assert_eq!(values, vec![5.0, 7.0, 6.0]);
    }

    #[test]
    fn series_downsamples_long_ranges() {
        let samples: Vec<TrendSample> = (0..1000)
            .map(|i| glucose(hours_ago(i), 5.0 + (i % 7) as f64, Band::Green))
            .collect();
        let pts = series(&samples, Metric::Glucose, hours_ago(2000), now(), 50);
        assert_eq!(pts.len(), 50);
        assert_eq!(pts.first().map(|p| p.at), Some(hours_ago(999)));
        assert_eq!(pts.last().map(|p| p.at), Some(now()));
    }

    #[test]
    fn lttb_small_thresholds() {
        let pts: Vec<SeriesPoint> = (0..5).map(|i| point(i, i as f64)).collect();
        assert_eq!(lttb(&pts, 0), vec![]);
        assert_eq!(lttb(&pts, 1), vec![pts[4]]);
        assert_eq!(lttb(&pts, 2), vec![pts[0], pts[4]]);
        assert_eq!(lttb(&pts, 3).len(), 3);
        assert_eq!(lttb(&[], 0), vec![]);
        assert_eq!(lttb(&[], 3), vec![]);
        assert_eq!(lttb(&pts[..1], 1), vec![pts[0]]);
    }

    #[test]
    fn lttb_returns_short_input_unchanged() {
        let pts: Vec<SeriesPoint> = (0..10).map(|i| point(i * 60, (i * i) as f64)).collect();
        assert_eq!(lttb(&pts, 10), pts);
        assert_eq!(lttb(&pts, 500), pts);
    }

    #[test]
    fn lttb_keeps_a_red_spike_in_flat_data() {
        // Ten days of 130 mmHg with one 210 mmHg reading: the clinician must see it.
        let mut pts: Vec<SeriesPoint> = (0..1000).map(|i| point(i * 600, 130.0)).collect();
        pts[617] = SeriesPoint {
            value: 210.0,
            band: Band::Red,
            ..pts[617]
        };
        let out = lttb(&pts, 20);
        assert_eq!(out.len(), 20);
        assert!(out.contains(&pts[617]), "the spike was dropped");
    }

    #[test]
    fn lttb_keeps_the_extremes_of_a_sine() {
        let pts: Vec<SeriesPoint> = (0..2000)
            .map(|i| point(i * 60, (i as f64 / 100.0).sin() * 10.0))
            .collect();
        let out = lttb(&pts, 100);
        let max = out
            .iter()
            .map(|p| p.value)
            .fold(f64::NEG_INFINITY, f64::max);
        let min = out.iter().map(|p| p.value).fold(f64::INFINITY, f64::min);
        assert!(max > 9.9 && min < -9.9, "{min} {max}");
    }

    #[test]
    fn daily_means_use_the_local_day() {
        let tz = TimeZone::get("Europe/Stockholm").expect("tzdb");
        let samples = vec![
            // 23:30 UTC on 23 Nov is 00:30 on 24 Nov in Stockholm (CET, +01:00).
            glucose(t("2026-11-23T23:30:00Z"), 6.0, Band::Green),
            glucose(t("2026-11-24T10:00:00Z"), 8.0, Band::Yellow),
            glucose(t("2026-11-23T12:00:00Z"), 5.0, Band::Green),
            glucose(t("2026-11-23T13:00:00Z"), 25.0, Band::MeasureAgain),
            bp(t("2026-11-23T13:00:00Z"), 120.0, 80.0, Band::Green),
        ];
        assert_eq!(
            daily_means(&samples, Metric::Glucose, &tz),
            vec![(date(2026, 11, 23), 5.0), (date(2026, 11, 24), 7.0)]
        );
        // In UTC the 23:30 reading belongs to the 23rd.
        assert_eq!(
            daily_means(&samples, Metric::Glucose, &TimeZone::UTC),
            vec![(date(2026, 11, 23), 5.5), (date(2026, 11, 24), 8.0)]
        );
    }

    #[test]
    fn summary_serializes() {
        let s = summarize(
            ReadingKind::BloodGlucose,
            &[glucose(now(), 6.0, Band::Green)],
            7,
            now(),
        );
        let json = serde_json::to_string(&s).expect("serializes");
        let back: TrendSummary = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, s);
    }

    fn any_band() -> impl Strategy<Value = Band> {
        prop_oneof![
            Just(Band::Green),
            Just(Band::Yellow),
            Just(Band::Red),
            Just(Band::MeasureAgain),
            Just(Band::NotAssessed),
        ]
    }

    /// Sorted points with distinct-or-equal times and arbitrary values.
    fn any_points(max: usize) -> impl Strategy<Value = Vec<SeriesPoint>> {
        proptest::collection::vec((0i64..3600, -500.0f64..500.0, any_band()), 0..max).prop_map(
            |steps| {
                let mut secs = 0;
                steps
                    .into_iter()
                    .map(|(dt, value, band)| {
                        secs += dt;
                        SeriesPoint {
                            band,
                            ..point(secs, value)
                        }
                    })
                    .collect()
            },
        )
    }

    fn any_samples() -> impl Strategy<Value = Vec<TrendSample>> {
        proptest::collection::vec(
            (-200i64 * 24..24, 2.0f64..30.0, any_band(), any::<bool>()),
            0..60,
        )
        .prop_map(|v| {
            v.into_iter()
                .map(|(h, value, band, is_glucose)| {
                    let at = hours_ago(-h);
                    if is_glucose {
                        glucose(at, value, band)
                    } else {
                        TrendSample {
                            at,
                            measurement: Measurement::BodyWeight { kg: value * 4.0 },
                            band,
                            off_scale: Vec::new(),
                        }
                    }
                })
                .collect()
        })
    }

    proptest! {
        /// LTTB returns `min(len, threshold)` points, keeps the first and last (from 2 up),
        /// and returns a subsequence of its input in order.
        #[test]
        fn lttb_shape(pts in any_points(300), threshold in 0usize..100) {
            let out = lttb(&pts, threshold);
            prop_assert_eq!(out.len(), pts.len().min(threshold));
            if threshold >= 2 && !pts.is_empty() {
                prop_assert_eq!(out.first(), pts.first());
                prop_assert_eq!(out.last(), pts.last());
            }
            // Subsequence: every output point is found after the previous one's index.
            let mut from = 0;
            for p in &out {
                let found = pts[from..].iter().position(|q| q == p);
                prop_assert!(found.is_some(), "not a subsequence");
                from += found.unwrap_or(0) + 1;
            }
        }

        /// A single spike in otherwise flat data always survives downsampling.
        #[test]
        fn lttb_keeps_any_single_spike(
            n in 3usize..400,
            threshold in 3usize..60,
            spike_at in 0usize..400,
            spike in prop_oneof![-300.0f64..-1.0, 1.0f64..300.0],
        ) {
            let spike_at = spike_at % n;
            let mut pts: Vec<SeriesPoint> = (0..n).map(|i| point(i as i64 * 300, 100.0)).collect();
            pts[spike_at].value = 100.0 + spike;
            let out = lttb(&pts, threshold);
            prop_assert!(out.contains(&pts[spike_at]));
        }

        /// Input no longer than the threshold comes back unchanged, and downsampling
        /// twice to the same threshold changes nothing the second time.
        #[test]
        fn lttb_is_idempotent(pts in any_points(200), threshold in 0usize..80) {
            let once = lttb(&pts, threshold);
            prop_assert_eq!(lttb(&once, threshold), once.clone());
            prop_assert_eq!(lttb(&pts, pts.len()), pts);
        }

        /// The series is sorted, within bounds, never "measure again", and its length
        /// is capped.
        #[test]
        fn series_is_sorted_and_capped(samples in any_samples(), max_points in 0usize..40) {
            let (from, to) = (hours_ago(24 * 100), now());
            let pts = series(&samples, Metric::Glucose, from, to, max_points);
            prop_assert!(pts.len() <= max_points);
            prop_assert!(pts.windows(2).all(|w| w[0].at <= w[1].at));
            prop_assert!(pts.iter().all(|p| p.at >= from && p.at <= to));
        }

        /// Counts add up, band counts sum to the count, the mean lies between min and
        /// max, and statistics only see samples that are not "measure again".
        #[test]
        fn summary_invariants(samples in any_samples(), window in 0u32..120) {
            let s = summarize(ReadingKind::BloodGlucose, &samples, window, now());
            prop_assert_eq!(s.band_counts.total(), s.count);
            let usable = u32::try_from(samples.iter().filter(|x| {
                x.measurement.kind() == ReadingKind::BloodGlucose
                    && x.band != Band::MeasureAgain
                    && x.at <= now()
                    && x.at > now() - SignedDuration::from_hours(i64::from(window) * 24)
            }).count()).unwrap_or(u32::MAX);
            match s.stats(Metric::Glucose) {
                Some(g) => {
                    prop_assert_eq!(g.count, usable);
                    prop_assert!(g.min <= g.mean + 1e-9 && g.mean <= g.max + 1e-9);
                }
                None => prop_assert_eq!(usable, 0),
            }
            prop_assert!(s.count >= usable);
            prop_assert_eq!(s.first_at.is_some(), s.count > 0);
            prop_assert!(s.first_at <= s.last_at);
        }

        /// Daily means are sorted by date, one per day, and each lies within the day's
        /// values.
        #[test]
        fn daily_means_are_sorted(samples in any_samples()) {
            let tz = TimeZone::get("Europe/Stockholm").expect("tzdb");
            let days = daily_means(&samples, Metric::Glucose, &tz);
            prop_assert!(days.windows(2).all(|w| w[0].0 < w[1].0));
            prop_assert!(days.iter().all(|(_, m)| (2.0..30.0).contains(m)));
        }
    }
}
