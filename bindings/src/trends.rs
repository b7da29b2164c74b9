//! The trends area: statistics and chart series computed by the core.

use std::sync::Arc;
use std::time::SystemTime;

use nara_core::domain::trend::{SeriesPoint as CoreSeriesPoint, TrendSummary as CoreSummary};

use crate::errors::TrendError;
use crate::nara::Shared;
use crate::platform::blocking;
use crate::types::{Band, Comparator, Metric, ReadingKind, to_system};

pub use nara_core::domain::trend::{BandCounts, MetricStats};

/// How many readings fell in each band.
#[uniffi::remote(Record)]
pub struct BandCounts {
    /// Green.
    pub green: u32,
    /// Yellow.
    pub yellow: u32,
    /// Red.
    pub red: u32,
    /// Measure again.
    pub measure_again: u32,
    /// Not assessed.
    pub not_assessed: u32,
}

/// Statistics of one metric over a window.
#[uniffi::remote(Record)]
pub struct MetricStats {
    /// The metric.
    pub metric: Metric,
    /// Number of values.
    pub count: u32,
    /// Mean.
    pub mean: f64,
    /// Lowest.
    pub min: f64,
    /// Highest.
    pub max: f64,
}

/// A kind's readings over the last days: averages, extremes and band counts.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TrendSummary {
    /// The kind.
    pub kind: ReadingKind,
    /// The window in days.
    pub window_days: u32,
    /// Number of readings (corrected ones excluded).
    pub count: u32,
    /// Per metric.
    pub metrics: Vec<MetricStats>,
    /// Per band.
    pub band_counts: BandCounts,
    /// The first reading in the window.
    pub first_at: Option<SystemTime>,
    /// The last reading in the window.
    pub last_at: Option<SystemTime>,
}

impl From<CoreSummary> for TrendSummary {
    fn from(s: CoreSummary) -> Self {
        TrendSummary {
            kind: s.kind,
            window_days: s.window_days,
            count: s.count,
            metrics: s.metrics,
            band_counts: s.band_counts,
            first_at: s.first_at.map(to_system),
            last_at: s.last_at.map(to_system),
        }
    }
}

/// One point of a chart series.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SeriesPoint {
    /// When.
    pub at: SystemTime,
    /// The value, in the metric's unit.
    pub value: f64,
    /// Its band (draw the band's shape, not only its colour). A "measure again" point
    /// is drawn marked; it is left out of the averages.
    pub band: Band,
    /// Set when the value is only a bound ("HI"/"LO"): draw it at the bound, marked.
    pub comparator: Option<Comparator>,
}

impl From<CoreSeriesPoint> for SeriesPoint {
    fn from(p: CoreSeriesPoint) -> Self {
        SeriesPoint {
            at: to_system(p.at),
            value: p.value,
            band: p.band,
            comparator: p.comparator,
        }
    }
}

/// Trend statistics and chart series over stored readings.
#[derive(uniffi::Object)]
pub struct Trends {
    shared: Arc<Shared>,
}

impl Trends {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Trends { shared }
    }
}

#[uniffi::export]
impl Trends {
    /// Averages, extremes and band counts of `kind` over the last `days` days.
    pub async fn summary(&self, kind: ReadingKind, days: u32) -> Result<TrendSummary, TrendError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.trends().summary(kind, days)?.into())).await
    }

    /// A chart series of `metric` over the last `days` days, reduced to at most
    /// `max_points` points with the shape kept (LTTB).
    pub async fn series(
        &self,
        kind: ReadingKind,
        metric: Metric,
        days: u32,
        max_points: u32,
    ) -> Result<Vec<SeriesPoint>, TrendError> {
        let core = self.shared.get()?;
        blocking(move || {
            let points = core
                .trends()
                .series(kind, metric, days, max_points as usize)?;
            Ok(points.into_iter().map(SeriesPoint::from).collect())
        })
        .await
    }
}
