// Test support: a fake key provider, temporary stores, reading builders and helpers for
// streams. TEST-ONLY: nothing here is fit for an app.
import Foundation
import XCTest

@testable import Nara

/// A key provider for tests. NOT CRYPTOGRAPHY: it "wraps" the data key by prefixing it
/// with this provider's random 16-byte identity, so a store opened with another
/// provider instance fails with `KeyError.WrongKey`, just as a real provider's AEAD
/// authentication would. Apps use `KeychainKeyProvider` (iOS), never this.
final class FakeKeyProvider: KeyProvider, @unchecked Sendable {
    enum Behaviour {
        case normal
        /// Every call throws this error.
        case fail(KeyError)
        /// Only `unwrapKey` throws (a key lost for good: new keys can still be made).
        case unwrapFails(KeyError)
    }

    let identity: Data
    private let lock = NSLock()
    private var _behaviour: Behaviour
    private var _forgotten = false

    init(_ behaviour: Behaviour = .normal) {
        identity = Data((0..<16).map { _ in UInt8.random(in: 0...255) })
        _behaviour = behaviour
    }

    var behaviour: Behaviour {
        get { lock.lock(); defer { lock.unlock() }; return _behaviour }
        set { lock.lock(); defer { lock.unlock() }; _behaviour = newValue }
    }

    var forgotten: Bool { lock.lock(); defer { lock.unlock() }; return _forgotten }

    func wrap(dataKey: Data) throws -> Data {
        if case .fail(let e) = behaviour { throw e }
        return identity + dataKey
    }

    func unwrapKey(wrapped: Data) throws -> Data {
        switch behaviour {
        case .fail(let e), .unwrapFails(let e): throw e
        case .normal: break
        }
        guard wrapped.count > identity.count, wrapped.prefix(identity.count) == identity else {
            throw KeyError.WrongKey
        }
        return Data(wrapped.dropFirst(identity.count))
    }

    func forget() throws {
        lock.lock(); defer { lock.unlock() }
        _forgotten = true
    }
}

/// A fresh temporary directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> String {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("nara-swift-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url.path
}

/// Opens a new store in a temporary directory; closes it when the test ends.
func openStore(_ test: XCTestCase, keys: FakeKeyProvider = FakeKeyProvider()) async throws -> Nara {
    let dir = try temporaryDirectory(test)
    let nara = try await Nara.open(dataDir: dir, keys: keys)
    test.addTeardownBlock { nara.closeStore() }
    return nara
}

/// A manually entered blood pressure measured `minutesAgo` minutes ago.
func bloodPressure(_ systolic: Double, _ diastolic: Double, pulse: Double? = 70, minutesAgo: Double = 1) -> NewReading {
    .manual(
        .bloodPressure(systolic: systolic, diastolic: diastolic, pulse: pulse),
        at: Date().addingTimeInterval(-minutesAgo * 60)
    )
}

/// `count` blood pressures from one device, one a minute, each with its own record
/// number: importing them twice is recognised as duplicates.
func deviceBatch(_ count: Int, device: String = "omron-test-1") -> [NewReading] {
    let start = Date().addingTimeInterval(-Double(count + 10) * 60)
    return (0..<count).map { i in
        NewReading(
            measurement: .bloodPressure(systolic: Double(110 + i % 40), diastolic: Double(70 + i % 20), pulse: 64),
            effectiveAt: start.addingTimeInterval(Double(i) * 60),
            utcOffsetSeconds: 3600,
            source: .device(deviceId: device, model: "HEM-7361T", recordKey: "rec-\(i)"),
            quality: .clear,
            note: nil
        )
    }
}

/// Collects what a stream yields, for assertions from the test.
actor Collected<Element: Sendable> {
    private(set) var values: [Element] = []
    private(set) var finished = false

    func append(_ value: Element) { values.append(value) }
    func finish() { finished = true }
}

/// Consumes `stream` on a task until it finishes or the task is cancelled.
func collect<Element: Sendable>(_ stream: AsyncStream<Element>) -> (Collected<Element>, _Concurrency.Task<Void, Never>) {
    let collected = Collected<Element>()
    let task = _Concurrency.Task {
        for await value in stream { await collected.append(value) }
        await collected.finish()
    }
    return (collected, task)
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass.
func eventually(
    within seconds: Double = 10,
    _ condition: @Sendable () async throws -> Bool
) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await _Concurrency.Task.sleep(nanoseconds: 10_000_000)
    }
    return try await condition()
}

/// Asserts that `body` throws an error of type `E` and returns it.
func assertThrows<E: Error, T>(
    _ errorType: E.Type,
    file: StaticString = #filePath,
    line: UInt = #line,
    _ body: () async throws -> T
) async -> E? {
    do {
        let value = try await body()
        XCTFail("expected \(E.self), got a value: \(value)", file: file, line: line)
        return nil
    } catch let error as E {
        return error
    } catch {
        XCTFail("expected \(E.self), got \(type(of: error)): \(error)", file: file, line: line)
        return nil
    }
}
