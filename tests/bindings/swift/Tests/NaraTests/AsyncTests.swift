import Foundation
import XCTest

@testable import Nara

/// Async exports: concurrency, cancellation mid-call, and panics that must not cross the
/// boundary.
final class AsyncTests: XCTestCase {
    func testConcurrentAddsAllLand() async throws {
        let nara = try await openStore(self)
        let readings = nara.readings()
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<20 {
                group.addTask { try await readings.add(reading: bloodPressure(110 + Double(i), 75, minutesAgo: Double(i + 1))).id }
            }
            var ids = Set<String>()
            for try await id in group { ids.insert(id) }
            return ids
        }
        XCTAssertEqual(ids.count, 20)
        let count = try await readings.count()
        XCTAssertEqual(count, 20)
    }

    /// Cancelling the Swift task that awaits an import drops only the wait: the batch is
    /// stored whole or not at all, never in part, whenever the count is looked at.
    ///
    /// (UniFFI 0.32's Swift async calls do not forward task cancellation to Rust: the
    /// await runs to the end. The core's guarantee is checked either way.)
    func testCancellingAnImportMidCallIsAllOrNothing() async throws {
        let nara = try await openStore(self)
        let readings = nara.readings()
        let total: UInt64 = 20_000
        let batch = deviceBatch(Int(total))
        let progress = ProgressRecorder()

        let importTask = _Concurrency.Task { try await readings.importReadings(batch: batch, progress: progress) }
        try await _Concurrency.Task.sleep(nanoseconds: 5_000_000)
        importTask.cancel()

        // While the import may still be running: every count is 0 or all of it.
        var samples: [UInt64] = []
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let seen = try await readings.count()
            samples.append(seen)
            if seen == total { break }
        }
        XCTAssertTrue(samples.allSatisfy { $0 == 0 || $0 == total }, "partial import visible: \(Set(samples).sorted())")
        let outcome = await importTask.result
        if case .success(let report) = outcome {
            XCTAssertEqual(report, ImportReport(inserted: total, duplicates: 0))
        }

        // Eventually all of it: either the cancelled import finished, or importing again
        // stores it; a second import after that is all duplicates.
        let landed = await eventually(within: 30) { (try? await readings.count()) == total }
        if !landed {
            let retry = try await readings.importReadings(batch: batch, progress: nil)
            XCTAssertEqual(retry, ImportReport(inserted: total, duplicates: 0))
        }
        let again = try await readings.importReadings(batch: batch, progress: nil)
        XCTAssertEqual(again, ImportReport(inserted: 0, duplicates: total), "a re-import reports all duplicates")
        let finalCount = try await readings.count()
        XCTAssertEqual(finalCount, total)
        let intact = try await nara.integrityOk()
        XCTAssertTrue(intact)
        print("import cancellation: \(samples.count) count samples, \(samples.filter { $0 == 0 }.count) before commit; result \(outcome)")
    }

    /// A panic inside the core (test hook) reaches Swift as a thrown `Internal` error,
    /// not a crash, and the store keeps working.
    func testPanicInTheCoreIsThrownAndTheStoreStillWorks() async throws {
        let nara = try await openStore(self)
        _ = try await nara.readings().add(reading: bloodPressure(120, 80))

        let error = await assertThrows(NaraError.self) { try await nara.debugPanic() }
        guard case .Internal(let message) = error else {
            return XCTFail("expected NaraError.Internal, got \(String(describing: error))")
        }
        XCTAssertFalse(message.contains("deliberate"), "the panic payload is not passed on: \(message)")

        let after = try await nara.readings().add(reading: bloodPressure(125, 82))
        XCTAssertEqual(after.triage.band, .green)
        let count = try await nara.readings().count()
        XCTAssertEqual(count, 2)
        let intact = try await nara.integrityOk()
        XCTAssertTrue(intact)
    }

    func testTrendSummaryAndSeries() async throws {
        let nara = try await openStore(self)
        let readings = nara.readings()
        _ = try await readings.add(reading: bloodPressure(185, 115, minutesAgo: 60 * 24 * 3))
        _ = try await readings.add(reading: bloodPressure(120, 80, minutesAgo: 60 * 24 * 2))
        _ = try await readings.add(reading: bloodPressure(130, 86, minutesAgo: 60 * 24))
        _ = try await readings.add(reading: bloodPressure(150, 90, minutesAgo: 60 * 24 * 45))  // outside 30 days

        let summary = try await nara.trends().summary(kind: .bloodPressure, days: 30)
        XCTAssertEqual(summary.windowDays, 30)
        XCTAssertEqual(summary.count, 3)
        XCTAssertEqual(summary.bandCounts.red, 1)
        XCTAssertEqual(summary.bandCounts.green, 1)
        XCTAssertEqual(summary.bandCounts.yellow, 1)
        let systolic = try XCTUnwrap(summary.metrics.first { $0.metric == .systolic })
        XCTAssertEqual(systolic.count, 3)
        XCTAssertEqual(systolic.mean, (185 + 120 + 130) / 3, accuracy: 0.01)
        XCTAssertEqual(systolic.min, 120)
        XCTAssertEqual(systolic.max, 185)

        let series = try await nara.trends().series(kind: .bloodPressure, metric: .systolic, days: 30, maxPoints: 100)
        XCTAssertEqual(series.map(\.value), [185, 120, 130], "oldest first")
        XCTAssertEqual(series.first?.band, .red)
    }

    func testScheduleTasksRemindersAndAdherence() async throws {
        let nara = try await openStore(self)
        let plan = nara.carePlan()
        let calendar = Calendar(identifier: .gregorian)
        let today = calendar.dateComponents(in: TimeZone(identifier: "Europe/Stockholm")!, from: Date())
        let schedule = MeasurementSchedule(
            id: "bp-week", kind: .bloodPressure,
            times: [LocalTime(hour: 8, minute: 0), LocalTime(hour: 20, minute: 0)],
            windowMinutes: 90,
            start: LocalDate(year: Int16(today.year!), month: UInt8(today.month!), day: UInt8(today.day!)),
            days: 7, weekdays: nil, timeZone: "Europe/Stockholm",
            instructions: LocalizedText(sv: "Sitt still i fem minuter först.", en: "Sit still for five minutes first.")
        )
        try await plan.setSchedule(schedule: schedule)
        let stored = try await plan.schedules()
        XCTAssertEqual(stored, [schedule])

        let tasks = try await plan.tasks(from: Date(), to: Date().addingTimeInterval(2 * 86_400))
        XCTAssertFalse(tasks.isEmpty)
        XCTAssertTrue(tasks.allSatisfy { $0.scheduleId == "bp-week" && $0.kind == .bloodPressure })
        XCTAssertTrue(tasks.allSatisfy { $0.windowStart <= $0.dueAt && $0.dueAt <= $0.windowEnd })

        let reminders = try await plan.reminders(horizon: 2 * 86_400)
        XCTAssertFalse(reminders.isEmpty)
        XCTAssertEqual(Set(reminders.map(\.id)).count, reminders.count, "stable, distinct ids")
        XCTAssertFalse(reminders.contains { $0.body.sv.contains("fem minuter") }, "instructions never go into a notification")

        let adherence = try await plan.adherenceSoFar(id: "bp-week")
        XCTAssertEqual(adherence.done, 0)
        try await plan.removeSchedule(id: "bp-week")
        let left = try await plan.schedules()
        XCTAssertEqual(left, [])
    }

    func testWipeDeletesEverythingAndForgetsTheKey() async throws {
        let keys = FakeKeyProvider()
        let dir = try temporaryDirectory(self)
        let nara = try await Nara.open(dataDir: dir, keys: keys)
        _ = try await nara.readings().add(reading: bloodPressure(120, 80))
        try await nara.wipe()
        XCTAssertTrue(keys.forgotten)
        let closed = await assertThrows(ReadingError.self) { try await nara.readings().count() }
        XCTAssertEqual(closed, .Closed)
        let reopened = try await Nara.open(dataDir: dir, keys: keys)
        defer { reopened.closeStore() }
        XCTAssertTrue(reopened.openReport().created)
        let count = try await reopened.readings().count()
        XCTAssertEqual(count, 0)
    }
}
