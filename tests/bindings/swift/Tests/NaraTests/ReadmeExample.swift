import Nara

// The Swift example in README.md, verbatim from `func` to the closing brace; the test in
// ReadmeExampleTests.swift runs it. On iOS pass `KeychainKeyProvider()` as `keys`.
func readmeExample(dataDir: String, keys: KeyProvider) async throws -> [String] {
    let nara = try await Nara.open(dataDir: dataDir, keys: keys)
    defer { nara.closeStore() }
    let reading = try await nara.readings().add(reading: .manual(.bloodPressure(systolic: 142, diastolic: 91, pulse: 72)))
    print(reading.summaryLine())  // ▲ Yellow: Systolic pressure above target 134 mmHg
    let trend = try await nara.trends().summary(kind: .bloodPressure, days: 30)
    print("\(trend.count) readings in 30 days, \(trend.bandCounts.yellow) yellow")
    for await list in try nara.readings().watch(.all) {  // the current list first, then live
        return list.map { $0.summaryLine() }
    }
    return []
}
