import Foundation
import XCTest

@testable import Nara

/// Every error type of the API, raised by real calls, arrives as the typed Swift error.
final class ErrorTests: XCTestCase {
    func testImplausibleSystolicIsInvalidWithAFieldProblem() async throws {
        let nara = try await openStore(self)
        let error = await assertThrows(ReadingError.self) {
            try await nara.readings().add(reading: bloodPressure(500, 80))
        }
        guard case .Invalid(let problems) = error else {
            return XCTFail("expected ReadingError.Invalid, got \(String(describing: error))")
        }
        XCTAssertEqual(problems.count, 1)
        let problem = try XCTUnwrap(problems.first)
        XCTAssertEqual(problem.field, .value)
        XCTAssertEqual(problem.metric, .systolic)
        guard case .outOfRange(let min, let max) = problem.problem else {
            return XCTFail("expected outOfRange, got \(problem.problem)")
        }
        XCTAssertLessThan(min, 100)
        XCTAssertTrue((250...400).contains(max), "plausible maximum \(max)")
        XCTAssertFalse(problem.message.en.isEmpty)
        XCTAssertFalse(problem.message.en.contains("500"), "messages never repeat the value")
        let count = try await nara.readings().count()
        XCTAssertEqual(count, 0, "nothing was stored")
    }

    func testDiastolicAboveSystolicAndAnInvalidBatch() async throws {
        let nara = try await openStore(self)
        let error = await assertThrows(ReadingError.self) {
            try await nara.readings().add(reading: bloodPressure(80, 120))
        }
        guard case .Invalid(let problems) = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertTrue(problems.contains { $0.problem == .diastolicNotBelowSystolic })

        var batch = deviceBatch(10)
        batch[7].measurement = .bloodPressure(systolic: 500, diastolic: 80, pulse: nil)
        let batchError = await assertThrows(ReadingError.self) {
            try await nara.readings().importReadings(batch: batch, progress: nil)
        }
        guard case .InvalidInBatch(let index, let batchProblems) = batchError else {
            return XCTFail("expected InvalidInBatch, got \(String(describing: batchError))")
        }
        XCTAssertEqual(index, 7)
        XCTAssertEqual(batchProblems.first?.metric, .systolic)
        let count = try await nara.readings().count()
        XCTAssertEqual(count, 0, "one invalid reading rejects the whole batch")
    }

    func testCorrectionErrors() async throws {
        let nara = try await openStore(self)
        let readings = nara.readings()

        let unknown = await assertThrows(ReadingError.self) {
            try await readings.correct(id: UUID().uuidString.lowercased(), reading: bloodPressure(120, 80))
        }
        XCTAssertEqual(unknown, .NotFound)
        // The core's message, not just the case name, for logs and alerts.
        XCTAssertEqual(unknown?.localizedDescription, "reading not found")
        XCTAssertEqual("\(ReadingError.AlreadySuperseded)", "this reading has already been corrected")

        let notAnId = await assertThrows(ReadingError.self) {
            try await readings.correct(id: "not-an-id", reading: bloodPressure(120, 80))
        }
        XCTAssertEqual(notAnId, .InvalidId)

        let original = try await readings.add(reading: bloodPressure(150, 95, minutesAgo: 3))
        let mismatch = await assertThrows(ReadingError.self) {
            try await readings.correct(id: original.id, reading: .manual(.heartRate(bpm: 70)))
        }
        XCTAssertEqual(mismatch, .CorrectionKindMismatch)

        _ = try await readings.correct(id: original.id, reading: bloodPressure(130, 85, minutesAgo: 3))
        let twice = await assertThrows(ReadingError.self) {
            try await readings.correct(id: original.id, reading: bloodPressure(128, 84, minutesAgo: 3))
        }
        XCTAssertEqual(twice, .AlreadySuperseded)
    }

    func testCarePlanErrors() async throws {
        let nara = try await openStore(self)
        let plan = nara.carePlan()

        var thresholds = try await plan.thresholds(kind: .bloodPressure)
        XCTAssertEqual(thresholds.rule.origin, .default)
        // Green must lie inside yellow.
        thresholds.metrics[0].bands = Bands(
            green: ThresholdRange(low: 100, high: 150),
            yellow: ThresholdRange(low: 110, high: 140)
        )
        thresholds.rule = RuleVersion(origin: .careTeam, version: 1)
        let invalid = await assertThrows(CarePlanError.self) { try await plan.setThresholds(set: thresholds) }
        guard case .InvalidThresholds(let message) = invalid else {
            return XCTFail("expected InvalidThresholds, got \(String(describing: invalid))")
        }
        XCTAssertTrue(message.contains("green"), message)
        let unchanged = try await plan.thresholds(kind: .bloodPressure)
        XCTAssertEqual(unchanged.rule.origin, .default, "nothing was changed")

        let schedule = MeasurementSchedule(
            id: "bp-week", kind: .bloodPressure,
            times: [LocalTime(hour: 8, minute: 0), LocalTime(hour: 20, minute: 0)],
            windowMinutes: 90, start: LocalDate(year: 2026, month: 1, day: 5), days: 7,
            weekdays: nil, timeZone: "Europe/Stockholm", instructions: nil
        )
        var noTimes = schedule
        noTimes.times = []
        let badSchedule = await assertThrows(CarePlanError.self) { try await plan.setSchedule(schedule: noTimes) }
        guard case .InvalidSchedule(let scheduleMessage) = badSchedule else {
            return XCTFail("expected InvalidSchedule, got \(String(describing: badSchedule))")
        }
        XCTAssertTrue(scheduleMessage.contains("no times"), scheduleMessage)
        var badZone = schedule
        badZone.timeZone = "Mars/Olympus_Mons"
        let zoneError = await assertThrows(CarePlanError.self) { try await plan.setSchedule(schedule: badZone) }
        guard case .InvalidSchedule = zoneError else { return XCTFail("got \(String(describing: zoneError))") }

        let notFound = await assertThrows(CarePlanError.self) { try await plan.removeSchedule(id: "no-such-schedule") }
        XCTAssertEqual(notFound, .NotFound)
        let noAdherence = await assertThrows(CarePlanError.self) { try await plan.adherenceSoFar(id: "no-such-schedule") }
        XCTAssertEqual(noAdherence, .NotFound)
    }

    func testWrongKeyProviderFailsOpenWithWrongKey() async throws {
        let dir = try temporaryDirectory(self)
        let first = try await Nara.open(dataDir: dir, keys: FakeKeyProvider())
        _ = try await first.readings().add(reading: bloodPressure(120, 80))
        first.closeStore()

        // Another provider (another device's Keychain) cannot unwrap this store's key.
        let other = await assertThrows(OpenError.self) { try await Nara.open(dataDir: dir, keys: FakeKeyProvider()) }
        XCTAssertEqual(other, .WrongKey)
        XCTAssertEqual(other?.localizedDescription, "the encryption key does not match this database")
        // A provider that itself reports WrongKey.
        let throwing = await assertThrows(OpenError.self) {
            try await Nara.open(dataDir: dir, keys: FakeKeyProvider(.fail(.WrongKey)))
        }
        XCTAssertEqual(throwing, .WrongKey)
    }

    func testKeyProviderUnavailableAndLostAreTyped() async throws {
        let dir = try temporaryDirectory(self)
        let keys = FakeKeyProvider()
        let nara = try await Nara.open(dataDir: dir, keys: keys)
        nara.closeStore()

        keys.behaviour = .fail(.Unavailable)
        let locked = await assertThrows(OpenError.self) { try await Nara.open(dataDir: dir, keys: keys) }
        XCTAssertEqual(locked, .KeyUnavailable)

        keys.behaviour = .fail(.Lost)
        let lost = await assertThrows(OpenError.self) { try await Nara.open(dataDir: dir, keys: keys) }
        XCTAssertEqual(lost, .KeyLost)

        keys.behaviour = .fail(.Other(detail: "keychain says no"))
        let other = await assertThrows(OpenError.self) { try await Nara.open(dataDir: dir, keys: keys) }
        guard case .KeyProvider(let detail) = other else { return XCTFail("got \(String(describing: other))") }
        XCTAssertTrue(detail.contains("keychain says no"), detail)

        // The lost-key path, once the patient has been told: a fresh store, the old
        // database moved aside, never deleted.
        keys.behaviour = .unwrapFails(.Lost)
        let fresh = try await Nara.openAfterKeyLoss(dataDir: dir, keys: keys)
        defer { fresh.closeStore() }
        XCTAssertEqual(fresh.openReport().quarantined?.reason, .keyLost)
        let count = try await fresh.readings().count()
        XCTAssertEqual(count, 0)
    }

    func testEveryAreaReportsClosedAfterClose() async throws {
        let nara = try await openStore(self)
        let readings = nara.readings()
        let plan = nara.carePlan()
        let trends = nara.trends()
        _ = try await readings.add(reading: bloodPressure(120, 80))
        nara.closeStore()

        let naraError = await assertThrows(NaraError.self) { try await nara.integrityOk() }
        XCTAssertEqual(naraError, .Closed)
        let pending = await assertThrows(NaraError.self) { try await nara.pendingUploads() }
        XCTAssertEqual(pending, .Closed)
        let readingError = await assertThrows(ReadingError.self) { try await readings.count() }
        XCTAssertEqual(readingError, .Closed)
        let planError = await assertThrows(CarePlanError.self) { try await plan.schedules() }
        XCTAssertEqual(planError, .Closed)
        let trendError = await assertThrows(TrendError.self) { try await trends.summary(kind: .bloodPressure, days: 30) }
        XCTAssertEqual(trendError, .Closed)
        let seriesError = await assertThrows(TrendError.self) {
            try await trends.series(kind: .bloodPressure, metric: .systolic, days: 30, maxPoints: 10)
        }
        XCTAssertEqual(seriesError, .Closed)
        let subscribeError = await assertThrows(NaraError.self) { try nara.subscribe(listener: IgnoringListener()) }
        XCTAssertEqual(subscribeError, .Closed)
        nara.closeStore()  // closing twice is harmless
    }

    func testPlatformInitTwiceIsTyped() async throws {
        // The first store opened (by any test) created the runtime, or this call does.
        _ = try? initPlatform(runtimeMode: .full, logLevel: .warn, logSink: nil)
        let second = await assertThrows(PlatformError.self) {
            try initPlatform(runtimeMode: .light, logLevel: .warn, logSink: nil)
        }
        XCTAssertEqual(second, .AlreadyInitialized)
    }
}

/// A change listener that ignores everything.
final class IgnoringListener: ChangeListener, Sendable {
    func onChange(change: Change) throws {}
    func onStopped(reason: StopReason) throws {}
}
