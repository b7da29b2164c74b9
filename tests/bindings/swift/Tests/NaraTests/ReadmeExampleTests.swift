import Foundation
import XCTest

@testable import Nara

final class ReadmeExampleTests: XCTestCase {
    func testTheReadmeExampleRuns() async throws {
        let dir = try temporaryDirectory(self)
        let keys = FakeKeyProvider()
        let lines = try await readmeExample(dataDir: dir, keys: keys)
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].hasPrefix("▲ "), lines[0])

        // The reading is stored, encrypted and triaged yellow.
        let nara = try await Nara.open(dataDir: dir, keys: keys)
        defer { nara.closeStore() }
        let stored = try await nara.readings().list(filter: .all)
        XCTAssertEqual(stored.count, 1)
        XCTAssertEqual(stored.first?.triage.band, .yellow)
        XCTAssertEqual(stored.first?.measurement, .bloodPressure(systolic: 142, diastolic: 91, pulse: 72))
    }
}
