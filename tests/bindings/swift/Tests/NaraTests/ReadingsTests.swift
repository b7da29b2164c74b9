import Foundation
import XCTest

@testable import Nara

final class ReadingsTests: XCTestCase {
    func testRedAndGreenBloodPressureAreTriagedWithSymbolLabelAndReason() async throws {
        let nara = try await openStore(self)
        XCTAssertTrue(nara.openReport().created)
        let readings = nara.readings()

        let red = try await readings.add(reading: bloodPressure(185, 115, minutesAgo: 10))
        XCTAssertEqual(red.kind, .bloodPressure)
        XCTAssertEqual(red.triage.band, .red)
        XCTAssertEqual(red.triage.reasonCode, "very_high")
        XCTAssertTrue(red.triage.reason.en.contains("very high"), red.triage.reason.en)
        XCTAssertTrue(red.triage.reason.sv.contains("mycket högt"), red.triage.reason.sv)
        XCTAssertTrue(red.triage.advice.en.contains("112"), red.triage.advice.en)
        XCTAssertEqual(red.triage.rule.origin, .default)
        XCTAssertTrue(red.valueText.en.hasPrefix("185/115 mmHg"), red.valueText.en)

        let green = try await readings.add(reading: bloodPressure(120, 78))
        XCTAssertEqual(green.triage.band, .green)
        XCTAssertEqual(green.triage.reasonCode, "within_targets")
        XCTAssertEqual(green.triage.reason.en, "Blood pressure within targets")
        XCTAssertNotEqual(green.id, red.id)

        // Colour is never the only signal: every band has its own symbol, shape and label.
        XCTAssertEqual(Band.red.info.symbol, "■")
        XCTAssertEqual(Band.red.info.shape, .square)
        XCTAssertEqual(Band.red.info.label.en, "Red")
        XCTAssertEqual(Band.green.info.shape, .circle)
        XCTAssertEqual(red.summaryLine(Locale(identifier: "en_GB")), "■ Red: \(red.triage.reason.en)")
        XCTAssertEqual(green.summaryLine(Locale(identifier: "sv_SE")), "● Grönt: Blodtryck inom målvärdena")

        let count = try await readings.count()
        XCTAssertEqual(count, 2)
        let listed = try await readings.list(filter: .all)
        XCTAssertEqual(listed.map(\.id), [green.id, red.id], "newest first")
        let fetched = try await readings.get(id: red.id)
        XCTAssertEqual(fetched, red)
        let missing = try await readings.get(id: UUID().uuidString.lowercased())
        XCTAssertNil(missing)
        let pending = try await nara.pendingUploads()
        XCTAssertEqual(pending, 2, "each capture queues an upload in the same transaction")
    }

    func testPoorQualityGivesMeasureAgainNotRed() async throws {
        let nara = try await openStore(self)
        var flags = QualityFlags.clear
        flags.cuffFitPoor = true
        let reading = try await nara.readings().add(
            reading: .manual(.bloodPressure(systolic: 190, diastolic: 100, pulse: nil), quality: flags))
        XCTAssertEqual(reading.triage.band, .measureAgain)
        XCTAssertEqual(reading.triage.valueBand, .red)
        XCTAssertEqual(reading.triage.reasonCode, "poor_quality")
    }

    func testIrregularPulseIsAFindingAndAMetersHiIsABound() async throws {
        let nara = try await openStore(self)
        var flags = QualityFlags.clear
        flags.irregularPulse = true
        let bp = Measurement.bloodPressure(systolic: 124, diastolic: 79, pulse: 70)
        _ = try await nara.readings().add(
            reading: .manual(bp, at: Date().addingTimeInterval(-7200), quality: flags))
        let again = try await nara.readings().add(reading: .manual(bp, quality: flags))
        // The values decide the band; the finding has its own symbol and text.
        XCTAssertEqual(again.triage.band, .green)
        XCTAssertEqual(again.triage.findings.map(\.action), [.contactCareUnit])
        XCTAssertEqual(again.triage.findings.first?.symbol, "♥")

        var hi = NewReading.manual(.bloodGlucose(mmolPerL: 33.3))
        hi.offScale = [OffScale(metric: .glucose, comparator: .above)]
        let stored = try await nara.readings().add(reading: hi)
        XCTAssertEqual(stored.triage.band, .red)
        XCTAssertEqual(stored.valueText.sv, "över 33.3 mmol/L")
    }

    func testCorrectionSupersedesAndKeepsHistory() async throws {
        let nara = try await openStore(self)
        let readings = nara.readings()
        let wrong = try await readings.add(reading: bloodPressure(185, 115, minutesAgo: 5))
        let fixed = try await readings.correct(id: wrong.id, reading: bloodPressure(125, 80, minutesAgo: 5))
        XCTAssertEqual(fixed.supersedes, wrong.id)
        XCTAssertEqual(fixed.triage.band, .green)

        let current = try await readings.list(filter: .all)
        XCTAssertEqual(current.map(\.id), [fixed.id])
        let history = try await readings.list(filter: ReadingFilter(includeSuperseded: true))
        XCTAssertEqual(Set(history.map(\.id)), [wrong.id, fixed.id])
        let old = try await readings.get(id: wrong.id)
        XCTAssertEqual(old?.supersededBy, fixed.id)
        XCTAssertEqual(old?.triage.band, .red, "a stored reading keeps its band")
    }

    func testUnitConversionsComeFromTheCore() async throws {
        let nara = try await openStore(self)
        let glucose = try await nara.readings().add(reading: .manual(glucoseMeasurement(value: 126, unit: .mgPerDl)))
        guard case .bloodGlucose(let mmol) = glucose.measurement else {
            return XCTFail("expected a glucose reading, got \(glucose.measurement)")
        }
        XCTAssertEqual(mmol, 7.0, accuracy: 0.05)
        XCTAssertEqual(glucose.kind, .bloodGlucose)
        XCTAssertEqual(readingKindInfo(kind: .bloodPressure).code, "85354-9")
    }

    func testImportTwiceReportsDuplicatesAndProgress() async throws {
        let nara = try await openStore(self)
        let batch = deviceBatch(500)
        let progress = ProgressRecorder()
        let first = try await nara.readings().importReadings(batch: batch, progress: progress)
        XCTAssertEqual(first, ImportReport(inserted: 500, duplicates: 0))
        XCTAssertEqual(progress.last?.done, 500)
        XCTAssertEqual(progress.last?.total, 500)
        let lastSeen = Collected<UInt64>()
        let again = try await nara.readings().importReadings(batch) { done, _ in
            _Concurrency.Task { await lastSeen.append(done) }
        }
        XCTAssertEqual(again, ImportReport(inserted: 0, duplicates: 500))
        let sawEnd = await eventually { await lastSeen.values.contains(500) }
        XCTAssertTrue(sawEnd, "the closure form reports progress too")
        let count = try await nara.readings().count()
        XCTAssertEqual(count, 500)
    }
}

/// Records import progress callbacks.
final class ProgressRecorder: ImportProgress, @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [(done: UInt64, total: UInt64)] = []

    var last: (done: UInt64, total: UInt64)? { lock.lock(); defer { lock.unlock() }; return calls.last }

    func onProgress(done: UInt64, total: UInt64) throws {
        lock.lock(); defer { lock.unlock() }
        calls.append((done, total))
    }
}
