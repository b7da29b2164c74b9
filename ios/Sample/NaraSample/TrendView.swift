import Charts
import Nara
import SwiftUI

/// The 30-day blood-pressure summary from the core: averages, ranges, band counts and a
/// chart whose points carry the band's shape as well as its colour.
struct TrendView: View {
    @Environment(AppModel.self) private var model

    var body: some View {
        List {
            if let trend = model.trend, trend.count > 0 {
                Section("Senaste \(trend.windowDays) dagarna") {
                    LabeledContent("Antal mätningar", value: "\(trend.count)")
                    ForEach(trend.metrics, id: \.metric) { stats in
                        let info = metricInfo(metric: stats.metric)
                        LabeledContent(info.label.localized()) {
                            Text("\(format(stats.mean, info)) (\(format(stats.min, info))–\(format(stats.max, info))) \(info.unit)")
                                .monospacedDigit()
                        }
                    }
                }
                Section("Fördelning") {
                    bandCount(.green, trend.bandCounts.green)
                    bandCount(.yellow, trend.bandCounts.yellow)
                    bandCount(.red, trend.bandCounts.red)
                    bandCount(.measureAgain, trend.bandCounts.measureAgain)
                }
                Section("Övre tryck") {
                    Chart(model.series, id: \.at) { point in
                        LineMark(x: .value("Tid", point.at), y: .value("mmHg", point.value))
                            .foregroundStyle(.secondary)
                        PointMark(x: .value("Tid", point.at), y: .value("mmHg", point.value))
                            .foregroundStyle(point.band.color)
                            .symbol(by: .value("Band", point.band.info.label.localized()))
                    }
                    .frame(height: 200)
                    .accessibilityLabel("Diagram över övre blodtryck de senaste 30 dagarna")
                }
            } else {
                ContentUnavailableView("Ingen trend än", systemImage: "chart.xyaxis.line",
                                       description: Text("Trenden visas när du har mätt blodtrycket."))
            }
        }
        .navigationTitle("Trend")
    }

    private func bandCount(_ band: Band, _ count: UInt32) -> some View {
        HStack {
            BandBadge(band: band)
            Spacer()
            Text("\(count)").monospacedDigit()
        }
        .accessibilityElement(children: .combine)
    }

    private func format(_ value: Double, _ info: MetricInfo) -> String {
        value.formatted(.number.precision(.fractionLength(Int(info.decimals))))
    }
}
