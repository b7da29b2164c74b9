import Foundation
import Nara
import Observation

/// The app's state: the open store, the live list of readings and the 30-day trend.
/// Every rule (validation, bands, texts) comes from the core; this only shows results.
@MainActor
@Observable
final class AppModel {
    enum State {
        case opening
        case ready
        case failed(String)
    }

    private(set) var state: State = .opening
    private(set) var readings: [Reading] = []
    private(set) var trend: TrendSummary?
    private(set) var series: [SeriesPoint] = []
    private var nara: Nara?

    /// Opens the encrypted store and follows the readings until the app ends.
    func start() async {
        guard nara == nil else { return }
        do {
            let nara = try await Nara.open(dataDir: try Self.dataDirectory().path, keys: KeychainKeyProvider())
            self.nara = nara
            state = .ready
            await refreshTrend()
            // The current list first, then a new list after every capture.
            for await list in try nara.readings().watch(.all) {
                readings = list
                await refreshTrend()
            }
        } catch OpenError.KeyUnavailable {
            state = .failed("Lås upp telefonen och öppna appen igen.")
        } catch OpenError.KeyLost {
            // A real app explains this and then calls Nara.openAfterKeyLoss.
            state = .failed("Krypteringsnyckeln finns inte längre på den här telefonen.")
        } catch {
            state = .failed(error.localizedDescription)
        }
    }

    /// Saves a blood pressure typed in by the patient; throws `ReadingError.Invalid`
    /// with one problem per field when a value is not plausible.
    func addBloodPressure(systolic: Double, diastolic: Double, pulse: Double?, note: String?) async throws -> Reading {
        guard let nara else { throw ReadingError.Closed }
        let new = NewReading.manual(.bloodPressure(systolic: systolic, diastolic: diastolic, pulse: pulse), note: note)
        return try await nara.readings().add(reading: new)
    }

    private func refreshTrend() async {
        guard let trends = nara?.trends() else { return }
        trend = try? await trends.summary(kind: .bloodPressure, days: 30)
        series = (try? await trends.series(kind: .bloodPressure, metric: .systolic, days: 30, maxPoints: 120)) ?? []
    }

    /// Application Support/nara, excluded from backups (the key never leaves the device,
    /// so a restored copy could not be read anyway), protected until first unlock.
    private static func dataDirectory() throws -> URL {
        var url = try FileManager.default
            .url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            .appendingPathComponent("nara", isDirectory: true)
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true,
            attributes: [.protectionKey: FileProtectionType.completeUntilFirstUserAuthentication])
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try url.setResourceValues(values)
        return url
    }
}
