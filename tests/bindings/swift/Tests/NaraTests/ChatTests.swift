// Chat through the Swift facade: offline stories (a thread provisioned by the test hook,
// a message with photos queued, pages, typed errors, unread counts, the streams), then
// the round trip with the care team on the test region.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

@testable import Nara

/// A 1×1 PNG, a complete file.
let png1x1 = Data([
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
])

/// A small JPEG (one 1×1 scan) with `marker` in its scan data and an optional comment
/// segment (metadata the core strips).
func tinyJpeg(_ marker: String, comment: String? = nil) -> Data {
    var d = Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16])
    d.append(contentsOf: Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0])
    if let comment {
        let c = Array(comment.utf8)
        d.append(contentsOf: [0xFF, 0xFE, UInt8((c.count + 2) >> 8), UInt8((c.count + 2) & 0xFF)] + c)
    }
    d.append(contentsOf: [0xFF, 0xDB, 0, 67, 0] + [UInt8](repeating: 1, count: 64))
    d.append(contentsOf: [0xFF, 0xC0, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0])
    d.append(contentsOf: [0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0])
    d.append(contentsOf: Array(marker.utf8) + [0xFF, 0xD9])
    return d
}

func chatThread(_ id: String, closed: ThreadClosure? = nil) -> ChatThread {
    ChatThread(
        id: id,
        title: "Frågor om blodtryck",
        unitName: "Hjärtmottagningen Luleå",
        expectedReply: LocalizedText(sv: "Vi svarar inom två vardagar.", en: "We reply within two working days."),
        notice: LocalizedText(sv: "Ring 112 vid nödsituation.", en: "Call 112 in an emergency."),
        closed: closed,
        updatedAt: Date().addingTimeInterval(closed == nil ? -3600 : -60)
    )
}

/// The care team's writes of the nurse simulator (tests/region/nurse.mjs: `thread`,
/// `reply`, `read`), made here in Swift over HTTP because the Swift chroot has no Node.
/// Same FHIR shapes (docs/adr/0009-chat-fhir-mapping.md); the FHIR server is reached
/// directly, without a token, as the region's own systems would.
enum SwiftNurse {
    static let sd = "https://nara.se/fhir/StructureDefinition"
    static let category = "https://nara.se/fhir/CodeSystem/communication-category"

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    static func localized(_ key: String, _ sv: String, _ en: String) -> [String: Any] {
        [key: sv, "_\(key)": ["extension": [["url": "http://hl7.org/fhir/StructureDefinition/translation",
                                             "extension": [["url": "lang", "valueCode": "en"], ["url": "content", "valueString": en]]]]]]
    }

    @discardableResult
    static func request(_ method: String, _ path: String, _ body: [String: Any]? = nil, headers: [String: String] = [:]) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: try TestRegion.env("NARA_FHIR_DIRECT_URL") + "/" + path)!)
        request.httpMethod = method
        request.setValue("application/fhir+json", forHTTPHeaderField: "Accept")
        if let body {
            request.setValue("application/fhir+json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, status): (Data, Int) = try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let data, let http = response as? HTTPURLResponse {
                    continuation.resume(returning: (data, http.statusCode))
                } else {
                    continuation.resume(throwing: error ?? URLError(.badServerResponse))
                }
            }.resume()
        }
        guard (200..<300).contains(status) else {
            throw NoRegion(description: "\(method) \(path) answered \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
    }

    /// `nurse thread PATIENT THREAD --title T --unit U`.
    static func thread(patient: String, id: String, title: String, unit: String) async throws {
        let now = now()
        var notice = localized("valueString",
                               "Chatten är inte till för akuta ärenden. Ring 112 vid nödsituation, eller 1177 för sjukvårdsrådgivning.",
                               "The chat is not for emergencies. Call 112 in an emergency, or 1177 for medical advice.")
        notice["url"] = "\(sd)/emergency-notice"
        var reply = localized("valueString", "Vi svarar vanligtvis inom två vardagar.", "We usually reply within two working days.")
        reply["url"] = "\(sd)/expected-reply"
        try await request("PUT", "CommunicationRequest/\(id)", [
            "resourceType": "CommunicationRequest",
            "id": id,
            "extension": [reply, notice],
            "identifier": [["system": "https://nara.se/fhir/sid/thread", "value": id]],
            "status": "active",
            "category": [["coding": [["system": category, "code": "conversation"]]]],
            "subject": ["reference": "Patient/\(patient)"],
            "occurrencePeriod": ["start": now],
            "authoredOn": now,
            "requester": ["display": unit],
            "recipient": [["reference": "Patient/\(patient)"]],
            "reasonCode": [["text": title]],
        ])
    }

    /// `nurse reply PATIENT THREAD TEXT` (the unit's name from the thread).
    static func reply(patient: String, threadId: String, unit: String, text: String) async throws {
        let ident = UUID().uuidString.lowercased()
        let system = "https://nara.se/fhir/sid/care-unit-message"
        try await request("POST", "Communication", [
            "resourceType": "Communication",
            "identifier": [["system": system, "value": ident]],
            "basedOn": [["reference": "CommunicationRequest/\(threadId)"]],
            "status": "completed",
            "category": [["coding": [["system": category, "code": "message"]]]],
            "subject": ["reference": "Patient/\(patient)"],
            "sent": now(),
            "recipient": [["reference": "Patient/\(patient)"]],
            "sender": ["display": unit],
            "payload": [["contentString": text]],
        ], headers: ["If-None-Exist": "identifier=\(system)|\(ident)"])
    }

    /// `nurse read PATIENT CLIENT-ID`: marks the message received, then writes a read
    /// receipt (a conditional create: once per message).
    static func read(patient: String, clientId: String, unit: String) async throws {
        let id = clientId.lowercased()
        let query = "identifier=\(encode("urn:ietf:rfc:3986|urn:uuid:\(id)"))&subject=\(encode("Patient/\(patient)"))"
        let bundle = try await request("GET", "Communication?\(query)")
        let entries = (bundle["entry"] as? [[String: Any]]) ?? []
        guard entries.count == 1, var message = entries[0]["resource"] as? [String: Any], let serverId = message["id"] as? String else {
            throw NoRegion(description: "\(entries.count) messages with client id \(id)")
        }
        message.removeValue(forKey: "meta")
        if message["received"] == nil {
            message["received"] = now()
            try await request("PUT", "Communication/\(serverId)", message)
        }
        let system = "https://nara.se/fhir/read-receipt"
        try await request("POST", "Communication", [
            "resourceType": "Communication",
            "identifier": [["system": system, "value": "urn:uuid:\(id)"]],
            "basedOn": message["basedOn"] ?? [],
            "inResponseTo": [["reference": "Communication/\(serverId)", "identifier": ["system": "urn:ietf:rfc:3986", "value": "urn:uuid:\(id)"]]],
            "status": "completed",
            "category": [["coding": [["system": category, "code": "read-receipt"]]]],
            "subject": ["reference": "Patient/\(patient)"],
            "sent": now(),
            "recipient": [["reference": "Patient/\(patient)"]],
            "sender": ["display": unit],
        ], headers: ["If-None-Exist": "identifier=\(system)|urn:uuid:\(id)"])
    }
}

final class ChatTests: XCTestCase {
    private func provision(_ nara: Nara, _ id: String) async throws {
        let changed = try await nara.chat().debugUpsertThread(thread: chatThread(id))
        XCTAssertTrue(changed)
    }

    func testAMessageWithPhotosIsStoredOfflineQueuedAndStripped() async throws {
        let nara = try await openStore(self)
        let chat = nara.chat()
        try await provision(nara, "t-1")
        let listed = try await chat.threads()
        XCTAssertEqual(listed.map(\.thread.id), ["t-1"])
        XCTAssertEqual(listed.first?.thread.unitName, "Hjärtmottagningen Luleå")
        XCTAssertNotNil(listed.first?.thread.notice)

        let sent = try await chat.send(
            threadId: "t-1",
            text: "  Här är mätaren.\n",
            photos: [
                NewChatPhoto(contentType: "image/jpeg", bytes: tinyJpeg("SCAN", comment: "GPS-SECRET")),
                NewChatPhoto(contentType: "image/png", bytes: png1x1),
            ]
        )
        XCTAssertEqual(sent.text, "Här är mätaren.")
        XCTAssertEqual(sent.author, .patient)
        XCTAssertEqual(sent.delivery, .queued)
        XCTAssertEqual(sent.deliveryLabel?.en, "Waiting for network")
        XCTAssertEqual(sent.photos.map(\.contentType), ["image/jpeg", "image/png"])

        let jpeg = try await chat.photo(photoId: sent.photos[0].id)
        let stripped = try XCTUnwrap(jpeg)
        XCTAssertNotNil(stripped.range(of: Data("SCAN".utf8)), "the picture is kept")
        XCTAssertNil(stripped.range(of: Data("GPS-SECRET".utf8)), "metadata stripped")
        let png = try await chat.photo(photoId: sent.photos[1].id)
        XCTAssertEqual(png, png1x1)
        let pending = try await chat.pending()
        XCTAssertEqual(pending.messages, 1)
        XCTAssertEqual(pending.photos, 2)
    }

    func testPagesGoNewestFirstAndTheCursorLeadsBack() async throws {
        let nara = try await openStore(self)
        let chat = nara.chat()
        try await provision(nara, "t-2")
        var ids: [String] = []
        for i in 1...5 { ids.append(try await chat.send(threadId: "t-2", text: "meddelande \(i)").id) }
        var sizes: [Int] = []
        var seen: [String] = []
        for try await page in chat.pages(threadId: "t-2", pageSize: 2) {
            sizes.append(page.messages.count)
            seen += page.messages.map(\.id)
        }
        XCTAssertEqual(sizes, [2, 2, 1])
        XCTAssertEqual(seen, Array(ids.reversed()))
        do {
            _ = try await chat.page(threadId: "t-2", cursor: "not a cursor", limit: 2)
            XCTFail("a made-up cursor was accepted")
        } catch ChatError.InvalidCursor {
            // expected
        }
    }

    func testBadMessagesGetTypedErrorsWithExplanationsAndNoText() async throws {
        let nara = try await openStore(self)
        let chat = nara.chat()
        try await provision(nara, "t-3")
        let limits = chatLimits()

        do {
            _ = try await chat.send(threadId: "t-3", text: "  ")
            XCTFail("an empty message was stored")
        } catch ChatError.Empty(let explanation) {
            XCTAssertEqual(explanation.sv, "Meddelandet är tomt")
        }
        let secret = "HEMLIGT " + String(repeating: "å", count: Int(limits.maxChars))
        do {
            _ = try await chat.send(threadId: "t-3", text: secret)
            XCTFail("a too long message was stored")
        } catch let error as ChatError {
            guard case .TooLong(let max, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(max, limits.maxChars)
            XCTAssertFalse("\(error) \(error.localizedDescription)".contains("HEMLIGT"), "no text in the error")
        }
        var big = png1x1
        big.append(Data(count: Int(limits.maxPhotoBytes)))
        do {
            _ = try await chat.send(threadId: "t-3", text: "stor", photos: [NewChatPhoto(contentType: "image/png", bytes: big)])
            XCTFail("a too large photo was stored")
        } catch ChatError.PhotoTooLarge(let index, let maxMb, _) {
            XCTAssertEqual(index, 0)
            XCTAssertEqual(maxMb, 10)
        }
        do {
            _ = try await chat.send(threadId: "t-3", text: "", photos: [NewChatPhoto(contentType: "image/gif", bytes: Data("GIF89a....".utf8))])
            XCTFail("a GIF was stored")
        } catch ChatError.UnsupportedPhoto(let index, _) {
            XCTAssertEqual(index, 0)
        }
        do {
            _ = try await chat.send(threadId: "no-such-thread", text: "hej")
            XCTFail("a message to an unknown thread was stored")
        } catch ChatError.NoSuchThread {
            // expected
        }
        let reason = LocalizedText(sv: "Ärendet är avslutat.", en: "The matter is closed.")
        _ = try await chat.debugUpsertThread(thread: chatThread("t-3", closed: ThreadClosure(at: Date(), reason: reason)))
        do {
            _ = try await chat.send(threadId: "t-3", text: "en fråga till")
            XCTFail("a message to a closed thread was stored")
        } catch ChatError.ThreadClosed(let given, let explanation) {
            XCTAssertEqual(given, reason)
            XCTAssertTrue(explanation.sv.contains("1177"))
        }
        let page = try await chat.page(threadId: "t-3", cursor: nil, limit: 50)
        XCTAssertTrue(page.messages.isEmpty)
        let pending = try await nara.pendingUploads()
        XCTAssertEqual(pending, 0)
    }

    func testStreamsYieldNowAndAfterASend() async throws {
        let nara = try await openStore(self)
        let chat = nara.chat()
        try await provision(nara, "t-5")
        var threads = try chat.watchThreads().makeAsyncIterator()
        let first = await threads.next()
        XCTAssertEqual(first?.map(\.thread.id), ["t-5"])
        var pages = try chat.watchThread("t-5", limit: 10).makeAsyncIterator()
        let empty = await pages.next()
        XCTAssertEqual(empty?.messages.count, 0)

        let sent = try await chat.send(threadId: "t-5", text: "Hej från Swift")
        var latest = await pages.next()
        while latest?.messages.first?.id != sent.id { latest = await pages.next() }
        var list = await threads.next()
        while list?.first?.lastPreview == nil { list = await threads.next() }
        XCTAssertEqual(list?.first?.lastPreview, "Hej från Swift")

        let reply = try await chat.debugReceive(threadId: "t-5", messageId: "unit-1", text: "Hej!")
        XCTAssertTrue(reply.unread)
        let total = try await chat.unreadTotal()
        XCTAssertEqual(total, 1)
        let marked = try await chat.markRead(threadId: "t-5", upToMessageId: reply.id)
        XCTAssertEqual(marked, 1)
        while latest?.messages.first?.unread != false { latest = await pages.next() }
    }

    /// With the test region: the care team opens a thread, the patient syncs and writes,
    /// the unit replies and reads, the patient syncs, sees the reply unread, marks it
    /// read and sees "read" on their own message; the receipt is uploaded.
    func testAMessageSyncsToTheNurseAndHerReplyComesBackUnreadThenRead() async throws {
        let patient = try TestRegion.env("NARA_TEST_PATIENT")
        let threadId = "chat-swift-\(UInt64(Date().timeIntervalSince1970 * 1_000_000))"
        let unit = "Hjärtmottagningen Luleå"
        try await SwiftNurse.thread(patient: patient, id: threadId, title: "Frågor om blodtryck", unit: unit)

        let nara = try await openStore(self)
        let region = nara.region()
        try region.setTransport(config: TransportConfig(allowHttpLoopback: true, spkiSha256Pins: [], extraRootsDer: []))
        let loggedIn = try await region.login(
            fhirBase: try TestRegion.env("NARA_FHIR_URL"), clientId: TestRegion.clientId,
            redirectUri: TestRegion.redirectUri, browser: TestBrowser(user: try TestRegion.env("NARA_TEST_USER")))
        XCTAssertEqual(loggedIn, patient)
        var report = try await region.syncNow(budgetMs: 60_000, progress: nil)
        XCTAssertTrue(report.finished)

        let chat = nara.chat()
        let thread = try await chat.thread(threadId: threadId)
        XCTAssertEqual(thread?.unitName, unit, "the thread arrived with the sync")
        XCTAssertNotNil(thread?.notice)

        let mine = try await chat.send(threadId: threadId, text: "Hej! Blodtrycket var högt i morse.")
        XCTAssertEqual(mine.delivery, .queued)
        report = try await region.syncNow(budgetMs: 60_000, progress: nil)
        XCTAssertTrue(report.finished)
        let uploaded = try await chat.message(messageId: mine.id)
        XCTAssertEqual(uploaded?.delivery, .sent)

        try await SwiftNurse.reply(patient: patient, threadId: threadId, unit: unit, text: "Hej, vi ringer dig i eftermiddag.")
        try await SwiftNurse.read(patient: patient, clientId: mine.id, unit: unit)
        report = try await region.syncNow(budgetMs: 60_000, progress: nil)
        XCTAssertTrue(report.finished)

        let page = try await chat.page(threadId: threadId, cursor: nil, limit: 20)
        let reply = try XCTUnwrap(page.messages.first { $0.author == .careUnit })
        XCTAssertEqual(reply.text, "Hej, vi ringer dig i eftermiddag.")
        XCTAssertTrue(reply.unread)
        let unread = try await chat.unread(threadId: threadId)
        XCTAssertEqual(unread, 1)
        XCTAssertEqual(page.messages.first { $0.id == mine.id }?.delivery, .read)

        let marked = try await chat.markRead(threadId: threadId, upToMessageId: reply.id)
        XCTAssertEqual(marked, 1)
        let after = try await chat.unread(threadId: threadId)
        XCTAssertEqual(after, 0)
        report = try await region.syncNow(budgetMs: 60_000, progress: nil)
        XCTAssertTrue(report.finished)
        let pending = try await chat.pending()
        XCTAssertEqual(pending.receipts, 0)
    }
}
