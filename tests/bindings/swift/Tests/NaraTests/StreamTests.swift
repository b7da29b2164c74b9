import Foundation
import XCTest

@testable import Nara

/// The facade's `AsyncStream`s over the listener interfaces.
final class StreamTests: XCTestCase {
    func testWatchYieldsTheCurrentListFirstThenTheNewReading() async throws {
        let nara = try await openStore(self)
        let readings = nara.readings()
        let first = try await readings.add(reading: bloodPressure(120, 78, minutesAgo: 30))

        let (lists, consumer) = collect(try readings.watch(.all, bufferingPolicy: .unbounded))
        defer { consumer.cancel() }
        let gotCurrent = await eventually { await lists.values.count >= 1 }
        XCTAssertTrue(gotCurrent, "the current list arrives first")
        let current = await lists.values
        XCTAssertEqual(current.first?.map(\.id), [first.id])

        let red = try await readings.add(reading: bloodPressure(185, 115))
        let gotNew = await eventually { await lists.values.last?.count == 2 }
        XCTAssertTrue(gotNew, "a new list after the capture")
        let latest = await lists.values.last ?? []
        XCTAssertEqual(latest.map(\.id), [red.id, first.id], "newest first")
        XCTAssertEqual(latest.first?.triage.band, .red)
    }

    func testWatchFiltersByKind() async throws {
        let nara = try await openStore(self)
        let readings = nara.readings()
        let (lists, consumer) = collect(try readings.watch(ReadingFilter(kind: .heartRate), bufferingPolicy: .unbounded))
        defer { consumer.cancel() }
        let gotEmpty = await eventually { await lists.values.first == [] }
        XCTAssertTrue(gotEmpty, "the current (empty) list arrives first")
        _ = try await readings.add(reading: bloodPressure(120, 80))
        let pulse = try await readings.add(reading: .manual(.heartRate(bpm: 64)))
        let gotPulse = await eventually { await lists.values.last?.map(\.id) == [pulse.id] }
        XCTAssertTrue(gotPulse)
        let all = await lists.values
        XCTAssertFalse(all.contains { $0.contains { $0.kind == .bloodPressure } }, "only heart rates")
    }

    func testChangesStreamDeliversChangesInOrderAndFinishesOnClose() async throws {
        let nara = try await openStore(self)
        let (changes, consumer) = collect(try nara.changes())
        defer { consumer.cancel() }
        // The subscription exists once `changes()` returns; nothing has happened yet.
        let red = try await nara.readings().add(reading: bloodPressure(185, 115))
        let green = try await nara.readings().add(reading: bloodPressure(118, 76))
        _ = try await nara.readings().importReadings(batch: deviceBatch(3), progress: nil)

        let gotAll = await eventually { await changes.values.count >= 3 }
        XCTAssertTrue(gotAll)
        let received = await changes.values
        XCTAssertEqual(Array(received.prefix(3)), [
            .readingAdded(id: red.id, kind: .bloodPressure, band: .red),
            .readingAdded(id: green.id, kind: .bloodPressure, band: .green),
            .readingsImported(count: 3),
        ])

        nara.closeStore()
        let finished = await eventually { await changes.finished }
        XCTAssertTrue(finished, "the stream finishes when the store closes")
    }

    func testCancellingTheConsumerEndsTheSubscription() async throws {
        let nara = try await openStore(self)
        let (changes, consumer) = collect(try nara.changes())
        _ = try await nara.readings().add(reading: bloodPressure(120, 80))
        let gotOne = await eventually { await changes.values.count == 1 }
        XCTAssertTrue(gotOne)

        consumer.cancel()
        let finished = await eventually { await changes.finished }
        XCTAssertTrue(finished, "cancelling the consuming task ends the stream")
        _ = try await nara.readings().add(reading: bloodPressure(121, 80))
        try await _Concurrency.Task.sleep(nanoseconds: 100_000_000)
        let count = await changes.values.count
        XCTAssertEqual(count, 1, "nothing is delivered after the stream ended")
    }

    func testThresholdAndScheduleChangesAreStreamed() async throws {
        let nara = try await openStore(self)
        let (changes, consumer) = collect(try nara.changes())
        defer { consumer.cancel() }
        var set = try await nara.carePlan().thresholds(kind: .bloodPressure)
        set.rule = RuleVersion(origin: .careTeam, version: 3)
        try await nara.carePlan().setThresholds(set: set)
        let got = await eventually { await changes.values.count >= 1 }
        XCTAssertTrue(got)
        let first = await changes.values.first
        XCTAssertEqual(first, .thresholdsChanged(kind: .bloodPressure, rule: RuleVersion(origin: .careTeam, version: 3)))
    }
    /// The raw listener API under the streams: a handle cancels, and closing the store
    /// stops every listener with `onStopped(.closed)`.
    func testTaskHandlesCancelAndCloseStopsListeners() async throws {
        let nara = try await openStore(self)
        let cancelled = RecordingChangeListener()
        let handle = try nara.subscribe(listener: cancelled)
        XCTAssertFalse(handle.isFinished())
        handle.cancel()
        let finished = await eventually { handle.isFinished() }
        XCTAssertTrue(finished)
        _ = try await nara.readings().add(reading: bloodPressure(120, 80))

        let watcher = RecordingReadingsListener()
        let watchHandle = try nara.readings().watch(filter: .all, listener: watcher)
        let gotList = await eventually { watcher.lists.count == 1 }
        XCTAssertTrue(gotList)
        let kept = RecordingChangeListener()
        let keptHandle = try nara.subscribe(listener: kept)

        nara.closeStore()
        let stopped = await eventually { watcher.stopped == [.closed] && kept.stopped == [.closed] }
        XCTAssertTrue(stopped, "watch: \(watcher.stopped), subscribe: \(kept.stopped)")
        let bothFinished = await eventually { watchHandle.isFinished() && keptHandle.isFinished() }
        XCTAssertTrue(bothFinished)
        XCTAssertTrue(cancelled.changes.isEmpty, "a cancelled listener gets nothing")
        XCTAssertTrue(cancelled.stopped.isEmpty)
    }
}

/// Records what a change listener receives.
final class RecordingChangeListener: ChangeListener, @unchecked Sendable {
    private let lock = NSLock()
    private var _changes: [Change] = []
    private var _stopped: [StopReason] = []

    var changes: [Change] { lock.lock(); defer { lock.unlock() }; return _changes }
    var stopped: [StopReason] { lock.lock(); defer { lock.unlock() }; return _stopped }

    func onChange(change: Change) throws {
        lock.lock(); defer { lock.unlock() }
        _changes.append(change)
    }

    func onStopped(reason: StopReason) throws {
        lock.lock(); defer { lock.unlock() }
        _stopped.append(reason)
    }
}

/// Records what a readings listener receives.
final class RecordingReadingsListener: ReadingsListener, @unchecked Sendable {
    private let lock = NSLock()
    private var _lists: [[Reading]] = []
    private var _stopped: [StopReason] = []

    var lists: [[Reading]] { lock.lock(); defer { lock.unlock() }; return _lists }
    var stopped: [StopReason] { lock.lock(); defer { lock.unlock() }; return _stopped }

    func onReadings(readings: [Reading]) throws {
        lock.lock(); defer { lock.unlock() }
        _lists.append(readings)
    }

    func onStopped(reason: StopReason) throws {
        lock.lock(); defer { lock.unlock() }
        _stopped.append(reason)
    }
}
