// Notices through the Swift facade, offline (test hooks): an Appointment provisioned as
// a sync would, its state from new to opened to answered, the cut-off as a typed error
// with the clinic's phone, the stream of the list, and a health declaration rendered
// from the model, drafted, refused while incomplete and submitted.
import Foundation
import XCTest

@testable import Nara

private let patient = "anna-1"
private let phone = "0980-123 45"
private let declaration = "halsodeklaration"
private let answerSystem = "https://nara.se/fhir/CodeSystem/halsodeklaration-svar"

/// An Appointment as the region sends it (docs/adr/0010-notices-fhir-mapping.md §1): the
/// place as a contained Location `#loc` with the clinic's phone, the practitioner as a
/// display-only PractitionerRole actor, the health declaration as supporting
/// information; starting `hours` from now, with the default cut-off (24 h).
func appointmentJson(_ id: String, hours: Double) -> String {
    let f = ISO8601DateFormatter()
    let start = Date().addingTimeInterval(hours * 3600)
    return """
    {
      "resourceType": "Appointment",
      "id": "\(id)",
      "meta": { "versionId": "1", "lastUpdated": "2026-11-20T10:00:00Z" },
      "status": "booked",
      "serviceType": [{ "text": "Diabetesmottagning" }],
      "start": "\(f.string(from: start))",
      "end": "\(f.string(from: start.addingTimeInterval(1800)))",
      "supportingInformation": [{ "reference": "Questionnaire/\(declaration)" }],
      "contained": [{
        "resourceType": "Location", "id": "loc", "name": "Vårdcentralen Kiruna",
        "address": { "line": ["Thulegatan 29"], "postalCode": "98132", "city": "Kiruna" },
        "telecom": [{ "system": "phone", "value": "\(phone)" }]
      }],
      "participant": [
        { "actor": { "reference": "Patient/\(patient)" }, "status": "needs-action" },
        { "actor": { "reference": "#loc" }, "status": "accepted" },
        { "actor": { "reference": "PractitionerRole/pr-1", "display": "Anna Berg" },
          "type": [{ "text": "Distriktssköterska" }], "status": "accepted" }
      ]
    }
    """
}

/// A smaller health declaration in the shape of tests/region/fixtures/halsodeklaration.json
/// (the Swift tests run in a chroot without the repository): the same linkIds, types,
/// rules and follow-up.
let smallDeclarationJson = """
{
  "resourceType": "Questionnaire",
  "id": "halsodeklaration",
  "url": "https://nara.se/fhir/Questionnaire/halsodeklaration",
  "version": "1",
  "status": "active",
  "language": "sv",
  "title": "Hälsodeklaration inför besöket",
  "_title": { "extension": [{ "url": "http://hl7.org/fhir/StructureDefinition/translation",
    "extension": [{ "url": "lang", "valueCode": "en" }, { "url": "content", "valueString": "Health declaration before your visit" }] }] },
  "item": [
    { "linkId": "intro", "type": "display", "text": "Fyll i frågorna så gott du kan." },
    { "linkId": "om-dig", "type": "group", "text": "Om dig", "required": true, "item": [
      { "linkId": "langd", "type": "integer", "text": "Hur lång är du? (cm)", "required": true,
        "extension": [
          { "url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 100 },
          { "url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": 250 },
          { "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-unit",
            "valueCoding": { "system": "http://unitsofmeasure.org", "code": "cm", "display": "cm" } }
        ] }
    ] },
    { "linkId": "lakemedel-grupp", "type": "group", "text": "Läkemedel", "item": [
      { "linkId": "tar-lakemedel", "type": "boolean", "required": true,
        "text": "Tar du några läkemedel regelbundet?",
        "_text": { "extension": [{ "url": "http://hl7.org/fhir/StructureDefinition/translation",
          "extension": [{ "url": "lang", "valueCode": "en" }, { "url": "content", "valueString": "Do you take any medicines regularly?" }] }] } },
      { "linkId": "vilka-lakemedel", "type": "string", "required": true, "text": "Vilka läkemedel?",
        "enableWhen": [{ "question": "tar-lakemedel", "operator": "=", "answerBoolean": true }] }
    ] },
    { "linkId": "rokning", "type": "choice", "required": true, "text": "Röker du?", "answerOption": [
      { "valueCoding": { "system": "\(answerSystem)", "code": "nej", "display": "Nej" } },
      { "valueCoding": { "system": "\(answerSystem)", "code": "dagligen", "display": "Ja, dagligen" } },
      { "valueCoding": { "system": "\(answerSystem)", "code": "ibland", "display": "Ja, ibland" } }
    ] },
    { "linkId": "ovrigt", "type": "text", "text": "Finns det något mer du vill att vi ska veta?" }
  ]
}
"""

final class NoticesTests: XCTestCase {
    private func provision(_ nara: Nara, _ id: String, hours: Double) async throws {
        let changed = try await nara.notices().debugStoreNotice(appointmentJson: appointmentJson(id, hours: hours), patientId: patient)
        XCTAssertTrue(changed)
    }

    func testANoticeGoesFromNewToOpenedToAnsweredAndTheStreamFollows() async throws {
        let nara = try await openStore(self)
        let notices = nara.notices()
        try await provision(nara, "appt-1", hours: 72)
        let list = try await notices.list()
        XCTAssertEqual(list.count, 1)
        let n = try XCTUnwrap(list.first)
        XCTAssertEqual(n.state, .new)
        XCTAssertEqual(n.stateLabel.sv, "Ny")
        XCTAssertEqual(n.place?.name, "Vårdcentralen Kiruna")
        XCTAssertEqual(n.place?.phone, phone)
        XCTAssertEqual(n.practitioner?.name, "Anna Berg")
        XCTAssertEqual(n.practitioner?.role, "Distriktssköterska")
        XCTAssertEqual(n.cutoffHours, 24)
        XCTAssertTrue(n.canChange)
        XCTAssertEqual(n.declaration, .notDownloaded)

        // Before the notice is opened the patient has not seen the time.
        let moved = await assertThrows(NoticeError.self) { try await notices.confirm(noticeId: "appt-1") }
        guard case .Moved = moved else { return XCTFail("expected Moved, got \(String(describing: moved))") }

        let (collected, task) = collect(try notices.watchNotices(bufferingPolicy: .unbounded))
        let first = await eventually { await collected.values.count >= 1 }
        XCTAssertTrue(first)
        let opened = try await notices.open(noticeId: "appt-1")
        XCTAssertEqual(opened.state, .opened)
        XCTAssertNotNil(opened.openedAt)
        let followed = await eventually { await collected.values.last?.first?.state == .opened }
        XCTAssertTrue(followed, "the stream yields the list after the opening")
        task.cancel()

        let given = try await notices.confirm(noticeId: "appt-1")
        XCTAssertEqual(given.answer, .confirm)
        XCTAssertEqual(given.delivery, .queued)
        let answered = try await notices.get(noticeId: "appt-1")
        XCTAssertEqual(answered?.state, .answered)
        let again = await assertThrows(NoticeError.self) { try await notices.confirm(noticeId: "appt-1") }
        guard case .AlreadyGiven = again else { return XCTFail("expected AlreadyGiven, got \(String(describing: again))") }
        let empty = await assertThrows(NoticeError.self) { try await notices.reschedule(noticeId: "appt-1") }
        guard case .EmptyReschedule(let explanation) = empty else { return XCTFail("expected EmptyReschedule") }
        XCTAssertFalse(explanation.en.isEmpty)

        let ics = try await notices.calendar(noticeId: "appt-1")
        XCTAssertTrue(ics.hasPrefix("BEGIN:VCALENDAR"))
        let reminders = try await notices.reminders(timeZoneId: "Europe/Stockholm")
        XCTAssertFalse(reminders.isEmpty)
        XCTAssertTrue(reminders.allSatisfy { $0.noticeId == "appt-1" })
        let zone = await assertThrows(NoticeError.self) { try await notices.reminders(timeZoneId: "Mars/Olympus") }
        guard case .InvalidTimeZone = zone else { return XCTFail("expected InvalidTimeZone") }
    }

    func testACancelAfterTheCutOffIsRefusedWithTheClinicPhone() async throws {
        let nara = try await openStore(self)
        let notices = nara.notices()
        try await provision(nara, "appt-soon", hours: 3)
        let opened = try await notices.open(noticeId: "appt-soon")
        XCTAssertFalse(opened.canChange)
        let error = await assertThrows(NoticeError.self) {
            try await notices.cancel(noticeId: "appt-soon", reason: "HEMLIG-ORSAK")
        }
        guard case .PastCutoff(let hours, let clinicPhone, let explanation) = error else {
            return XCTFail("expected PastCutoff, got \(String(describing: error))")
        }
        XCTAssertEqual(hours, 24)
        XCTAssertEqual(clinicPhone, phone)
        XCTAssertTrue(explanation.sv.contains(phone))
        XCTAssertTrue(explanation.en.contains(phone))
        XCTAssertFalse("\(error!)".contains("HEMLIG"))
        try await notices.confirm(noticeId: "appt-soon")
        let state = try await notices.get(noticeId: "appt-soon")?.state
        XCTAssertEqual(state, .answered)
    }

    func testAFormIsRenderedFromTheModelDraftedAndSubmittedFromSwift() async throws {
        let nara = try await openStore(self)
        let notices = nara.notices()
        try await provision(nara, "appt-1", hours: 72)
        let missing = await assertThrows(FormError.self) { try await notices.form(questionnaireId: declaration, noticeId: "appt-1") }
        guard case .NotDownloaded = missing else { return XCTFail("expected NotDownloaded") }
        let model = try await notices.debugStoreForm(questionnaireId: declaration, questionnaireJson: smallDeclarationJson)
        XCTAssertEqual(model.title?.en, "Health declaration before your visit")
        let stored = try await notices.hasForm(questionnaireId: declaration)
        XCTAssertTrue(stored)

        // Render: walk the tree as a screen would.
        var session = try await notices.form(questionnaireId: declaration, noticeId: "appt-1")
        XCTAssertFalse(session.submitted)
        XCTAssertEqual(session.allItems.map(\.linkId),
                       ["intro", "om-dig", "langd", "lakemedel-grupp", "tar-lakemedel", "vilka-lakemedel", "rokning", "ovrigt"])
        XCTAssertEqual(session.item("intro")?.kind, .display)
        XCTAssertEqual(session.item("om-dig")?.kind, .group)
        let takes = try XCTUnwrap(session.item("tar-lakemedel"))
        XCTAssertEqual(takes.kind, .boolean)
        XCTAssertTrue(takes.required)
        XCTAssertEqual(takes.text?.en, "Do you take any medicines regularly?")
        let height = try XCTUnwrap(session.item("langd"))
        XCTAssertEqual(height.kind, .integer)
        XCTAssertEqual(height.minValue, .integer(value: 100))
        XCTAssertEqual(height.maxValue, .integer(value: 250))
        XCTAssertEqual(height.unit, "cm")
        let smoking = try XCTUnwrap(session.item("rokning"))
        XCTAssertEqual(smoking.kind, .choice)
        let codes = smoking.options.map { option -> String? in
            if case .coding(let coding) = option.value { return coding.code }
            return nil
        }
        XCTAssertEqual(codes, ["nej", "dagligen", "ibland"])
        XCTAssertEqual(smoking.options.first?.label.sv, "Nej")
        XCTAssertEqual(session.item("vilka-lakemedel")?.kind, .string)
        XCTAssertEqual(session.item("ovrigt")?.kind, .text)
        XCTAssertTrue(session.isEnabled("tar-lakemedel"))
        XCTAssertFalse(session.isEnabled("vilka-lakemedel"))

        // "Tar läkemedel = ja" enables the follow-up; the draft is saved and resumed.
        session = try await notices.saveDraft(
            questionnaireId: declaration, noticeId: "appt-1",
            answers: session.answers(setting: "tar-lakemedel", to: .boolean(value: true)))
        XCTAssertTrue(session.isEnabled("vilka-lakemedel"))
        XCTAssertTrue(session.issues.contains { $0.linkId == "vilka-lakemedel" && $0.code == .required })
        let resumed = try await notices.form(questionnaireId: declaration, noticeId: "appt-1")
        XCTAssertEqual(resumed.answerMap, session.answerMap)
        let draftState = try await notices.get(noticeId: "appt-1")?.declaration
        XCTAssertEqual(draftState, .draft)

        // A missing required answer: typed, listing the item; nothing submitted.
        let invalid = await assertThrows(FormError.self) { try await notices.submit(questionnaireId: declaration, noticeId: "appt-1") }
        guard case .Invalid(let issues, _) = invalid else { return XCTFail("expected Invalid, got \(String(describing: invalid))") }
        XCTAssertTrue(issues.contains { $0.linkId == "vilka-lakemedel" })
        XCTAssertTrue(issues.allSatisfy { !$0.explanation.sv.isEmpty && !$0.explanation.en.isEmpty })

        session = try await notices.saveDraft(questionnaireId: declaration, noticeId: "appt-1", answers: [
            "tar-lakemedel": [.boolean(value: true)],
            "vilka-lakemedel": [.text(value: "Metformin")],
            "langd": [.integer(value: 172)],
            "rokning": [.coding(coding: Coding(system: answerSystem, code: "nej", display: nil))],
        ])
        XCTAssertEqual(session.issues, [])
        let done = try await notices.submit(questionnaireId: declaration, noticeId: "appt-1")
        XCTAssertFalse(done.responseId.isEmpty)
        XCTAssertNil(done.scoreReading)
        let after = try await notices.form(questionnaireId: declaration, noticeId: "appt-1")
        XCTAssertTrue(after.submitted)
        let submittedState = try await notices.get(noticeId: "appt-1")?.declaration
        XCTAssertEqual(submittedState, .submitted)
        let twice = await assertThrows(FormError.self) { try await notices.submit(questionnaireId: declaration, noticeId: "appt-1") }
        guard case .AlreadySubmitted = twice else { return XCTFail("expected AlreadySubmitted, got \(String(describing: twice))") }
    }
}
