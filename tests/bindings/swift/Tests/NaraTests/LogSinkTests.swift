import Foundation
import XCTest

@testable import Nara

/// The core's logs reach a Swift `LogSink` (OSLogSink on iOS), without patient data.
final class LogSinkTests: XCTestCase {
    func testCoreLogsReachASwiftSinkWithoutPatientData() async throws {
        let sink = RecordingLogSink()
        // The runtime may exist already (another test opened a store); the log settings
        // are applied either way.
        do {
            try initPlatform(runtimeMode: .full, logLevel: .info, logSink: sink)
        } catch PlatformError.AlreadyInitialized {}
        addTeardownBlock {
            _ = try? initPlatform(runtimeMode: .full, logLevel: .warn, logSink: nil)
        }

        let nara = try await openStore(self)
        let opened = await eventually { sink.lines.contains { $0.message.contains("store opened") } }
        XCTAssertTrue(opened, "lines: \(sink.lines.map(\.message))")
        let line = try XCTUnwrap(sink.lines.first { $0.message.contains("store opened") })
        XCTAssertEqual(line.level, .info)
        XCTAssertTrue(line.target.hasPrefix("nara"), line.target)

        _ = try await nara.readings().add(reading: .manual(.bloodPressure(systolic: 163, diastolic: 97, pulse: 88), note: "yrsel-hos-Astrid"))
        let error = await assertThrows(NaraError.self) { try await nara.debugPanic() }
        XCTAssertNotNil(error)
        let panicLogged = await eventually { sink.lines.contains { $0.level == .error && $0.target.contains("panic") } }
        XCTAssertTrue(panicLogged, "a core panic is logged (location only)")

        let everything = sink.lines.map { "\($0.target) \($0.message)" }.joined(separator: "\n")
        XCTAssertFalse(everything.contains("Astrid"), "no note text in logs")
        XCTAssertFalse(everything.contains("163"), "no values in logs")
        XCTAssertFalse(everything.contains("deliberate"), "no panic payload in logs")

        setLogLevel(level: .error)
        let before = sink.lines.count
        nara.closeStore()
        _ = try await openStore(self)
        try await _Concurrency.Task.sleep(nanoseconds: 200_000_000)
        XCTAssertFalse(sink.lines.dropFirst(before).contains { $0.level == .info }, "setLogLevel filters at once")
    }
}

/// Keeps every log line it is given.
final class RecordingLogSink: LogSink, @unchecked Sendable {
    struct Line {
        let level: LogLevel
        let target: String
        let message: String
    }

    private let lock = NSLock()
    private var _lines: [Line] = []

    var lines: [Line] { lock.lock(); defer { lock.unlock() }; return _lines }

    func log(level: LogLevel, target: String, message: String) throws {
        lock.lock(); defer { lock.unlock() }
        _lines.append(Line(level: level, target: target, message: message))
    }
}
