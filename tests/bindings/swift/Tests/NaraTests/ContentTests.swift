// Self-care content through the Swift facade, offline (test hooks): articles stored as a
// sync would, the list with the assigned article first, an article read as a sanitised
// document (no script, a `javascript:` link left as text), search folding accents with
// a highlighted snippet, the Swedish fallback flagged, and the stream of the list.
import Foundation
import XCTest

@testable import Nara

/// A library article with a script, a `javascript:` link, a `tel:` link and an image.
private let librarySv = """
    # Motion

    Rör dig varje dag.<script>alert('x')</script>

    [Klicka här](javascript:alert(1)) eller ring [1177](tel:1177).

    ![Promenad](nara:image/walk)

    """

/// The assigned article, in Swedish only.
private let assignedSv = """
    # Om hälsa

    Din hälsa och ditt blodtryck hänger ihop. Mät **varje morgon**.

    """

final class ContentTests: XCTestCase {
    private func provision(_ nara: Nara) async throws {
        let content = nara.content()
        let png = Data([0x89, 0x50, 0x4E, 0x47, 1, 2])
        let stored = try await content.debugStoreArticle(
            id: "motion", language: .sv, version: 1, title: "Motion", summary: "Rör dig varje dag",
            markdown: librarySv, topics: ["motion"],
            images: [DebugArticleImage(id: "walk", contentType: "image/png", bytes: png)])
        XCTAssertTrue(stored)
        let assigned = try await content.debugStoreArticle(
            id: "halsa", language: .sv, version: 1, title: "Om hälsa", summary: "Hälsa och blodtryck",
            markdown: assignedSv, topics: ["advice:bp-red"], images: [])
        XCTAssertTrue(assigned)
        try await content.debugSetAssigned(ids: ["halsa"])
    }

    func testTheListShowsAssignedArticlesFirstAndFlagsTheFallback() async throws {
        let nara = try await openStore(self)
        try await provision(nara)
        let list = try await nara.content().list(preferred: .en)
        XCTAssertEqual(list.map(\.id), ["halsa", "motion"])
        XCTAssertTrue(list[0].assigned)
        XCTAssertFalse(list[1].assigned)
        XCTAssertTrue(list.allSatisfy { $0.fellBack && $0.language == .sv && $0.availableOffline })
    }

    func testReadingReturnsASanitisedDocument() async throws {
        let nara = try await openStore(self)
        try await provision(nara)
        let content = nara.content()
        let article = try await XCTUnwrapAsync(try await content.read(id: "motion", preferred: .sv))
        XCTAssertFalse(article.fellBack)
        XCTAssertTrue(article.availableOffline)
        guard case .heading(let level, _) = article.document.blocks.first else {
            return XCTFail("expected a heading first")
        }
        XCTAssertEqual(level, 1)
        let text = article.document.plainText
        XCTAssertFalse(text.contains("alert('x')"), text)
        XCTAssertFalse(text.contains("<script"), text)
        XCTAssertTrue(text.contains("Klicka här"), text)
        XCTAssertEqual(article.document.links, [.phone(number: "1177")])
        let images = article.document.blocks.compactMap { block -> (String, String)? in
            if case .image(let id, let alt) = block { return (id, alt) }
            return nil
        }
        XCTAssertEqual(images.map(\.0), ["walk"])
        XCTAssertEqual(images.map(\.1), ["Promenad"])
        let image = try await content.image(imageId: "walk")
        XCTAssertEqual(image?.contentType, "image/png")

        let fallback = try await XCTUnwrapAsync(try await content.read(id: "halsa", preferred: .en))
        XCTAssertTrue(fallback.fellBack)
        XCTAssertEqual(fallback.meta.language, .sv)
        let strong = fallback.document.blocks.flatMap { block -> [Inline] in
            if case .paragraph(let inlines) = block { return inlines }
            return []
        }.compactMap { inline -> [Inline]? in
            if case .strong(let inlines) = inline { return inlines }
            return nil
        }
        XCTAssertEqual(strong.map(\.plainText), ["varje morgon"])

        let missing = try await content.read(id: "missing", preferred: .sv)
        XCTAssertNil(missing)
        let bad = await assertThrows(ContentError.self) { try await content.read(id: "no/such id", preferred: .sv) }
        guard case .InvalidArticleId = bad else { return XCTFail("expected InvalidArticleId, got \(String(describing: bad))") }

        // A nara:advice/… link resolves through the core (the broader code answers).
        let advice = try await content.adviceArticleForCode(code: "bp-red-high", preferred: .sv)
        XCTAssertEqual(advice?.id, "halsa")
        let badCode = await assertThrows(ContentError.self) {
            try await content.adviceArticleForCode(code: "Not A Code", preferred: .sv)
        }
        guard case .InvalidAdviceCode = badCode else { return XCTFail("expected InvalidAdviceCode, got \(String(describing: badCode))") }
    }

    func testSearchFoldsAccentsAndHighlightsTheMatch() async throws {
        let nara = try await openStore(self)
        try await provision(nara)
        let hits = try await nara.content().search(query: "halsa", preferred: .en, limit: 10)
        XCTAssertEqual(hits.map(\.id), ["halsa"])
        let hit = try XCTUnwrap(hits.first)
        XCTAssertTrue(hit.fellBack)
        XCTAssertTrue(hit.snippet.contains { $0.highlighted && $0.text.contains("hälsa") }, "\(hit.snippet)")
    }

    func testTheContentStreamFollowsChanges() async throws {
        let nara = try await openStore(self)
        let (collected, task) = collect(try nara.content().watchContent(preferred: .sv, bufferingPolicy: .unbounded))
        let first = await eventually { await collected.values.count >= 1 }
        XCTAssertTrue(first)
        try await provision(nara)
        let followed = await eventually { await collected.values.last?.map(\.id) == ["halsa", "motion"] }
        XCTAssertTrue(followed, "the stream yields the list after the changes")
        task.cancel()
    }
}

/// Unwraps an optional from an async expression.
private func XCTUnwrapAsync<T>(
    _ value: @autoclosure () async throws -> T?,
    file: StaticString = #filePath,
    line: UInt = #line
) async throws -> T {
    let v = try await value()
    return try XCTUnwrap(v, file: file, line: line)
}
