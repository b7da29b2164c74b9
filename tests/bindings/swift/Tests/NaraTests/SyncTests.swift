// Login, sync and logout against the real test region (FHIR server + OAuth server),
// started by `run` with tests/region/up and passed in as NARA_* environment variables.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

@testable import Nara

struct NoRegion: Error, CustomStringConvertible {
    let description: String
}

/// The test region from the environment; a test that needs it fails with the reason.
enum TestRegion {
    static func env(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            let why = ProcessInfo.processInfo.environment["NARA_REGION_ERROR"] ?? "run starts it with tests/region/up"
            throw NoRegion(description: "no test region: \(name) is not set (\(why))")
        }
        return value
    }

    static let clientId = "nara-app"
    static let redirectUri = "http://127.0.0.1/callback"

    /// How many Observations the FHIR server holds with this reading's identifier (read
    /// directly from the server, unauthenticated).
    static func observationsWithIdentifier(_ readingId: String) async throws -> Int {
        var components = URLComponents(string: try env("NARA_FHIR_DIRECT_URL") + "/Observation")!
        components.queryItems = [
            URLQueryItem(name: "identifier", value: "urn:ietf:rfc:3986|urn:uuid:\(readingId)"),
            URLQueryItem(name: "_summary", value: "count"),
        ]
        // `|` is legal in a query but some servers want it encoded.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "|", with: "%7C")
        let url = components.url!
        let data: Data = try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: url) { data, _, error in
                if let data { continuation.resume(returning: data) } else { continuation.resume(throwing: error ?? URLError(.badServerResponse)) }
            }.resume()
        }
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return try XCTUnwrap(json?["total"] as? Int, "no total in the search result")
    }
}

/// Records sync progress from the core's threads.
final class SyncProgressRecorder: SyncProgressListener, @unchecked Sendable {
    private let lock = NSLock()
    private var _last: SyncProgress?

    var last: SyncProgress? { lock.lock(); defer { lock.unlock() }; return _last }

    func onProgress(progress: SyncProgress) {
        lock.lock(); defer { lock.unlock() }
        _last = progress
    }
}

/// The test region's scripted login as a facade `AuthBrowser`.
struct TestBrowser: AuthBrowser {
    let scripted: TestLoginBrowser

    init(user: String, allowHttpLoopback: Bool = true) {
        scripted = testLoginBrowser(user: user, allowHttpLoopback: allowHttpLoopback)
    }

    func authorize(authorizeUrl: String, redirectUri: String) async throws -> String {
        try await scripted.authorize(authorizeUrl: authorizeUrl, redirectUri: redirectUri)
    }
}

/// An `AuthBrowser` implemented in Swift around a closure.
final class SwiftBrowser: AuthBrowser, @unchecked Sendable {
    private let body: @Sendable (String, String) async throws -> String
    private let lock = NSLock()
    private var _lastUrl: String?

    init(_ body: @escaping @Sendable (String, String) async throws -> String) {
        self.body = body
    }

    var lastUrl: String? { lock.lock(); defer { lock.unlock() }; return _lastUrl }

    private func record(_ url: String) {
        lock.lock(); defer { lock.unlock() }
        _lastUrl = url
    }

    func authorize(authorizeUrl: String, redirectUri: String) async throws -> String {
        record(authorizeUrl)
        return try await body(authorizeUrl, redirectUri)
    }
}

final class SyncTests: XCTestCase {
    private func loggedIn(_ nara: Nara) async throws -> Region {
        let fhirUrl = try TestRegion.env("NARA_FHIR_URL")
        let user = try TestRegion.env("NARA_TEST_USER")
        let expectedPatient = try TestRegion.env("NARA_TEST_PATIENT")
        let region = nara.region()
        try region.setTransport(config: TransportConfig(allowHttpLoopback: true, spkiSha256Pins: [], extraRootsDer: []))
        let patient = try await region.login(
            fhirBase: fhirUrl,
            clientId: TestRegion.clientId,
            redirectUri: TestRegion.redirectUri,
            browser: TestBrowser(user: user)
        )
        XCTAssertEqual(patient, expectedPatient)
        return region
    }

    private func add(_ nara: Nara, _ n: Int) async throws -> [String] {
        var ids: [String] = []
        for i in 0..<n {
            let reading = bloodPressure(110 + Double(i % 30), 72, pulse: 66, minutesAgo: Double(i + 1))
            ids.append(try await nara.readings().add(reading: reading).id)
        }
        return ids
    }

    func testLoginAddSyncThenASecondSyncCreatesNothing() async throws {
        let nara = try await openStore(self)
        let region = try await loggedIn(nara)
        let ids = try await add(nara, 9)
        let before = try await region.status()
        XCTAssertEqual(before.pending, 9)

        let progress = SyncProgressRecorder()
        let report = try await region.syncNow(budgetMs: 120_000, progress: progress)
        XCTAssertEqual(report.created, 9)
        XCTAssertEqual(report.alreadyThere, 0)
        XCTAssertEqual(report.rejected, 0)
        XCTAssertEqual(report.remaining, 0)
        XCTAssertTrue(report.finished)
        XCTAssertEqual(progress.last, SyncProgress(uploaded: 9, total: 9))

        let status = try await region.status()
        XCTAssertTrue(status.loggedIn)
        XCTAssertFalse(status.loginRequired)
        XCTAssertEqual(status.pending, 0)
        XCTAssertEqual(status.inFlight, 0)
        XCTAssertTrue(status.failed.isEmpty)
        XCTAssertNotNil(status.lastSuccess)
        XCTAssertNil(status.lastError)

        let again = try await region.sync(within: .seconds(120))
        XCTAssertEqual(again.created, 0)
        XCTAssertEqual(again.alreadyThere, 0)
        XCTAssertTrue(again.finished)
        for id in ids {
            let count = try await TestRegion.observationsWithIdentifier(id)
            XCTAssertEqual(count, 1, "reading \(id) once on the server")
        }
    }

    /// A browser written in Swift: its `authorize` suspends, then drives the test login
    /// (the facade's `login` over `beginLogin`/`finishLogin`). A browser that throws
    /// `BrowserError.Cancelled` makes the login fail with `LoginCancelled`; a forged
    /// `state` is refused and a pending login is used once.
    func testASwiftAsyncBrowserLogsInAndACancelledOneFailsCleanly() async throws {
        let nara = try await openStore(self)
        let region = nara.region()
        try region.setTransport(config: TransportConfig(allowHttpLoopback: true, spkiSha256Pins: [], extraRootsDer: []))
        let fhirUrl = try TestRegion.env("NARA_FHIR_URL")
        let scripted = testLoginBrowser(user: try TestRegion.env("NARA_TEST_USER"), allowHttpLoopback: true)
        let swiftBrowser = SwiftBrowser { url, redirect in
            try await Task.sleep(nanoseconds: 50_000_000)
            return try await scripted.authorize(authorizeUrl: url, redirectUri: redirect)
        }
        let cancelled = SwiftBrowser { _, _ in
            try await Task.sleep(nanoseconds: 10_000_000)
            throw BrowserError.Cancelled
        }
        do {
            _ = try await region.login(fhirBase: fhirUrl, clientId: TestRegion.clientId, redirectUri: TestRegion.redirectUri, browser: cancelled)
            XCTFail("logged in through a cancelled browser")
        } catch SyncError.LoginCancelled {
            // expected
        }
        let patient = try await region.login(fhirBase: fhirUrl, clientId: TestRegion.clientId, redirectUri: TestRegion.redirectUri, browser: swiftBrowser)
        XCTAssertEqual(patient, try TestRegion.env("NARA_TEST_PATIENT"))
        let url = try XCTUnwrap(swiftBrowser.lastUrl)
        XCTAssertTrue(url.contains("code_challenge_method=S256") && url.contains("state="), url)
        let status = try await region.status()
        XCTAssertTrue(status.loggedIn)

        let pending = try await region.beginLogin(fhirBase: fhirUrl, clientId: TestRegion.clientId, redirectUri: TestRegion.redirectUri)
        let redirect = try await scripted.authorize(authorizeUrl: pending.authorizeUrl(), redirectUri: pending.redirectUri())
        let forged = redirect.replacingOccurrences(of: #"state=[^&]+"#, with: "state=forged", options: .regularExpression)
        for attempt in [forged, redirect] {
            do {
                _ = try await region.finishLogin(pending: pending, redirectUrl: attempt)
                XCTFail("a forged or reused login response was accepted")
            } catch SyncError.Auth {
                // expected
            }
        }
    }

    func testSyncWithoutLoginThrowsNotLoggedIn() async throws {
        let nara = try await openStore(self)
        _ = try await add(nara, 1)
        do {
            _ = try await nara.region().syncNow(budgetMs: 10_000, progress: nil)
            XCTFail("synced without a login")
        } catch SyncError.NotLoggedIn {
            // expected
        }
        let status = try await nara.region().status()
        XCTAssertFalse(status.loggedIn)
        XCTAssertEqual(status.pending, 1)
    }

    func testBadTransportSettingsAndPlainHttpAreRefused() async throws {
        let nara = try await openStore(self)
        XCTAssertThrowsError(
            try nara.region().setTransport(config: TransportConfig(allowHttpLoopback: false, spkiSha256Pins: [Data(count: 5)], extraRootsDer: []))
        ) { error in
            guard case SyncError.InvalidConfig = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("32 bytes"), "\(error)")
        }
        do {
            _ = try await nara.region().login(
                fhirBase: "http://127.0.0.1:9/fhir", clientId: TestRegion.clientId,
                redirectUri: TestRegion.redirectUri, browser: TestBrowser(user: "anna", allowHttpLoopback: false))
            XCTFail("logged in over plain http")
        } catch SyncError.Auth {
            // expected: refused before any request
        }
    }

    /// A Swift task awaiting a sync is cancelled mid-way (UniFFI 0.32's Swift bindings do
    /// not forward the cancellation, so the call may still run to its end; the core's
    /// guarantee holds either way). Syncing again (retrying while `Busy`) leaves nothing
    /// pending; the two runs confirmed every reading once, and the server holds each once.
    func testCancellingASyncThenSyncingAgainUploadsEachReadingOnce() async throws {
        let nara = try await openStore(self)
        let region = try await loggedIn(nara)
        try region.setBatchSize(readings: 20)
        let n: UInt64 = 300
        let ids = try await add(nara, Int(n))
        let first = SyncProgressRecorder()
        let task = Task { try await region.syncNow(budgetMs: 120_000, progress: first) }
        while (first.last?.uploaded ?? 0) == 0 { try await Task.sleep(nanoseconds: 5_000_000) }
        task.cancel()
        let firstResult = await task.result
        var second: SyncReport?
        while second == nil {
            do {
                second = try await region.syncNow(budgetMs: 120_000, progress: nil)
            } catch SyncError.Busy {
                try await Task.sleep(nanoseconds: 20_000_000)
            }
        }
        let report = try XCTUnwrap(second)
        XCTAssertTrue(report.finished)
        let status = try await region.status()
        XCTAssertEqual(status.pending, 0)
        let firstUploaded = try XCTUnwrap(first.last?.uploaded)
        if case .success(let r) = firstResult {
            XCTAssertEqual(r.created + r.alreadyThere, firstUploaded)
        }
        XCTAssertEqual(firstUploaded + report.created + report.alreadyThere, n)
        for id in ids {
            let count = try await TestRegion.observationsWithIdentifier(id)
            XCTAssertEqual(count, 1, "reading \(id) once on the server")
        }
    }

    func testSyncStatusStreamFollowsReadingsAndSync() async throws {
        let nara = try await openStore(self)
        let region = try await loggedIn(nara)
        var statuses = try nara.syncStatus().makeAsyncIterator()
        let initial = await statuses.next()
        XCTAssertEqual(initial?.pending, 0)
        _ = try await add(nara, 3)
        var latest = await statuses.next()
        while latest?.pending != 3 { latest = await statuses.next() }
        _ = try await region.syncNow(budgetMs: 60_000, progress: nil)
        while !(latest?.pending == 0 && latest?.lastSuccess != nil) { latest = await statuses.next() }
        XCTAssertEqual(latest?.loggedIn, true)
    }

    func testLogoutRefusesWithUnsyncedReadingsThenWipesAfterSync() async throws {
        let keys = FakeKeyProvider()
        let nara = try await openStore(self, keys: keys)
        let region = try await loggedIn(nara)
        _ = try await add(nara, 2)
        do {
            try await nara.logout(force: false)
            XCTFail("logged out with unsynced readings")
        } catch SyncError.UnsyncedChanges(let pending) {
            XCTAssertEqual(pending, 2)
        }
        let still = try await region.status()
        XCTAssertEqual(still.pending, 2, "refused: nothing changed")
        let report = try await region.syncNow(budgetMs: 60_000, progress: nil)
        XCTAssertEqual(report.created, 2)
        try await nara.logout(force: false)
        XCTAssertTrue(keys.forgotten)
        do {
            _ = try await region.status()
            XCTFail("status after logout")
        } catch SyncError.Closed {
            // expected
        }
    }
}
