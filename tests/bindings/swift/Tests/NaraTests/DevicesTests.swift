// The Bluetooth devices area through the Swift facade: a blood pressure value decoded
// and previewed (a loose cuff says "measure again"), a cuff's memory imported twice and
// stored once, a truncated record listed with its field and offset, typed errors, and a
// glucose meter's record transfer followed by a session and imported. Record times are
// built relative to now (readings dated in the future are refused).
import Foundation
import XCTest

@testable import Nara

private let stockholm = "Europe/Stockholm"

/// 121/80 mmHg (MAP 95) on 2026-11-24 07:30:00, pulse 72, user 1, status 0.
private let bpLiteral = Data([
    0x1E, 0x79, 0x00, 0x50, 0x00, 0x5F, 0x00, 0xEA, 0x07, 0x0B, 0x18, 0x07, 0x1E, 0x00, 0x48,
    0x00, 0x01, 0x00, 0x00,
])

private func le16(_ v: Int) -> Data { Data([UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)]) }

/// A Date Time field for the wall-clock time in Stockholm `hours` hours ago.
private func dateTime(hoursAgo hours: Double) -> Data {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: stockholm)!
    let c = calendar.dateComponents(
        [.year, .month, .day, .hour, .minute, .second], from: Date().addingTimeInterval(-hours * 3600))
    return le16(c.year!) + Data([UInt8(c.month!), UInt8(c.day!), UInt8(c.hour!), UInt8(c.minute!), UInt8(c.second!)])
}

/// A Blood Pressure Measurement in mmHg with a time stamp and pulse 72, and `status` if given.
private func bp(_ systolic: Int, _ diastolic: Int, hoursAgo: Double, status: Int? = nil) -> Data {
    var out = Data([status == nil ? 0x06 : 0x16])
    out += le16(systolic) + le16(diastolic) + le16((systolic + 2 * diastolic) / 3)
    out += dateTime(hoursAgo: hoursAgo) + le16(72)
    if let status { out += le16(status) }
    return out
}

/// Ten records, one every 12 hours back from an hour ago.
private func cuffMemory() -> [DeviceValue] {
    (0..<10).map { i in
        DeviceValue(characteristicUuid: "2A35", bytes: bp(118 + i, 76 + i, hoursAgo: Double(1 + 12 * i)))
    }
}

/// A Glucose Measurement in mol/L, capillary blood from a finger, announcing a context if `context`.
private func glucose(_ seq: Int, hoursAgo: Double, sfloat: Int, context: Bool) -> Data {
    Data([context ? 0x16 : 0x06]) + le16(seq) + dateTime(hoursAgo: hoursAgo) + le16(sfloat) + Data([0x11])
}

final class DevicesTests: XCTestCase {
    private func cuff(_ nara: Nara, user: UInt8? = nil) throws -> Device {
        let info = try XCTUnwrap(DeviceInfo.from(serialNumber: "SN-4711", manufacturer: "Omron", model: "M7 Intelli IT"))
        return try nara.device(info: info, user: user, timeZone: stockholm)
    }

    func testABloodPressureValueDecodesIntoAReadingPreview() async throws {
        let nara = try await openStore(self)
        let device = try cuff(nara, user: 1)
        let decoded = try await device.decode(
            characteristicUuid: "00002A35-0000-1000-8000-00805F9B34FB", bytes: bpLiteral)
        XCTAssertEqual(decoded.characteristic, "Blood Pressure Measurement")
        XCTAssertEqual(decoded.assignedNumber, 0x2A35)
        XCTAssertTrue(decoded.json.contains("\"blood_pressure\""), decoded.json)
        guard case .reading(let reading) = decoded.outcome else {
            return XCTFail("expected a reading, got \(decoded.outcome)")
        }
        XCTAssertEqual(reading.kind, .bloodPressure)
        XCTAssertEqual(reading.measurement, .bloodPressure(systolic: 121, diastolic: 80, pulse: 72))
        XCTAssertEqual(reading.effectiveAt, ISO8601DateFormatter().date(from: "2026-11-24T06:30:00Z"))
        XCTAssertEqual(reading.utcOffsetSeconds, 3600)
        XCTAssertEqual(
            reading.source,
            .device(deviceId: "SN-4711", model: "Omron M7 Intelli IT", recordKey: "u1/2026-11-24T07:30:00"))
        XCTAssertEqual(reading.triage.band, .green)
        let count = try await nara.readings().count()
        XCTAssertEqual(count, 0, "a preview stores nothing")

        // Another user of the shared cuff.
        var other = bpLiteral
        other[16] = 2
        let outcome = try await device.decode(characteristicUuid: BleUUID.bloodPressureMeasurement, bytes: other).outcome
        guard case .notAReading(let reason, let text) = outcome else {
            return XCTFail("expected no reading, got \(outcome)")
        }
        XCTAssertEqual(reason, "other_user")
        XCTAssertTrue(text.en.contains("user 2"), text.en)
    }

    func testALooseCuffSaysMeasureAgain() async throws {
        let nara = try await openStore(self)
        let decoded = try await cuff(nara).decode(characteristicUuid: "0x2a35", bytes: bp(190, 95, hoursAgo: 2, status: 0b10))
        guard case .reading(let reading) = decoded.outcome else {
            return XCTFail("expected a reading, got \(decoded.outcome)")
        }
        XCTAssertTrue(reading.quality.cuffFitPoor)
        XCTAssertEqual(reading.triage.band, .measureAgain)
        XCTAssertEqual(reading.triage.valueBand, .red)
    }

    func testACuffsMemoryImportedTwiceIsStoredOnce() async throws {
        let nara = try await openStore(self)
        let device = try cuff(nara)
        let progress = ProgressRecorder()
        let first = try await device.import(values: cuffMemory(), progress: progress)
        XCTAssertEqual(first.inserted, 10)
        XCTAssertEqual(first.duplicates, 0)
        XCTAssertTrue(first.skipped.isEmpty && first.rejected.isEmpty)
        XCTAssertEqual(progress.last?.done, 10)
        XCTAssertEqual(progress.last?.total, 10)

        let again = try await device.import(cuffMemory()) { _, _ in }
        XCTAssertEqual(again.inserted, 0)
        XCTAssertEqual(again.duplicates, 10)
        let stored = try await nara.readings().list(filter: .all)
        XCTAssertEqual(stored.count, 10)
        for reading in stored {
            guard case .device(let deviceId, _, let recordKey) = reading.source else {
                return XCTFail("a device reading: \(reading.source)")
            }
            XCTAssertEqual(deviceId, "SN-4711")
            XCTAssertNotNil(recordKey)
        }
    }

    func testATruncatedRecordIsRejectedWithItsFieldAndTheRestImported() async throws {
        let nara = try await openStore(self)
        var values = Array(cuffMemory().prefix(3))
        values[1] = DeviceValue(characteristicUuid: "2A35", bytes: values[1].bytes.prefix(9))
        values[2] = DeviceValue(characteristicUuid: "2A35", bytes: bp(120, 80, hoursAgo: -26))
        let report = try await cuff(nara).import(values: values, progress: nil)
        XCTAssertEqual(report.inserted, 1)
        XCTAssertEqual(report.rejected.map(\.index), [1, 2])
        XCTAssertEqual(report.rejected[0].field, "Time Stamp")
        XCTAssertEqual(report.rejected[0].offset, 7)
        XCTAssertNil(report.rejected[1].field)
        XCTAssertTrue(report.rejected[1].detail.contains("future"), report.rejected[1].detail)
    }

    func testErrorsAreTyped() async throws {
        let nara = try await openStore(self)
        let device = try cuff(nara)
        do {
            _ = try await device.decode(characteristicUuid: "2A00", bytes: Data([1, 2]))
            XCTFail("expected UnknownCharacteristic")
        } catch DeviceError.UnknownCharacteristic(let uuid, let index) {
            XCTAssertEqual(uuid, "2A00")
            XCTAssertNil(index)
        }
        do {
            _ = try await device.decode(characteristicUuid: "2A35", bytes: bpLiteral.prefix(9))
            XCTFail("expected Decode")
        } catch DeviceError.Decode(let field, let offset, _) {
            XCTAssertEqual(field, "Time Stamp")
            XCTAssertEqual(offset, 7)
        }
        var values = cuffMemory()
        values[3] = DeviceValue(characteristicUuid: "not-a-uuid", bytes: values[3].bytes)
        let error = await assertThrows(DeviceError.self) { try await device.import(values: values, progress: nil) }
        guard case .UnknownCharacteristic(_, let index)? = error else {
            return XCTFail("expected UnknownCharacteristic, got \(String(describing: error))")
        }
        XCTAssertEqual(index, 3)
        XCTAssertTrue(error?.localizedDescription.contains("value 3") ?? false, "\(String(describing: error))")
        let count = try await nara.readings().count()
        XCTAssertEqual(count, 0, "nothing imported")

        XCTAssertThrowsError(try nara.device(info: DeviceInfo(deviceId: "  ", model: nil), user: nil, timeZone: stockholm)) {
            guard case DeviceError.BadDevice = $0 else { return XCTFail("expected BadDevice, got \($0)") }
        }
        XCTAssertThrowsError(try nara.device(info: DeviceInfo(deviceId: "SN-1", model: nil), user: nil, timeZone: "Mars/Olympus")) {
            guard case DeviceError.UnknownTimeZone = $0 else { return XCTFail("expected UnknownTimeZone, got \($0)") }
        }
        XCTAssertNil(DeviceInfo.from(serialNumber: nil, manufacturer: "Omron", model: nil))
        XCTAssertEqual(DeviceInfo.from(serialNumber: " ", systemID: Data([0x0A, 0x0B]), manufacturer: nil, model: nil)?.deviceId, "0A0B")

        nara.closeStore()
        do {
            _ = try await device.decode(characteristicUuid: "2A35", bytes: bpLiteral)
            XCTFail("expected Closed")
        } catch DeviceError.Closed {}
    }

    func testAGlucoseMetersRecordsAreFetchedWithASessionAndImported() async throws {
        let nara = try await openStore(self)
        let meter = try nara.device(
            info: DeviceInfo(deviceId: "GM-0042", model: "Contour Next One"), user: nil, timeZone: stockholm)
        XCTAssertEqual(GlucoseRecordSession(sinceSequence: 5).request(), Data([0x01, 0x03, 0x01, 0x05, 0x00]))
        let session = GlucoseRecordSession(sinceSequence: nil)
        XCTAssertEqual(session.request(), Data([0x01, 0x01]), "report all stored records")
        // 5.6, 7.2 and 13.3 mmol/L, the first and last with a meal context.
        let incoming: [(String, Data)] = [
            (BleUUID.glucoseMeasurement, glucose(1, hoursAgo: 30, sfloat: 0xC038, context: true)),
            (BleUUID.glucoseMeasurementContext, Data([0x02, 0x01, 0x00, 0x01])),
            (BleUUID.glucoseMeasurement, glucose(2, hoursAgo: 20, sfloat: 0xC048, context: false)),
            (BleUUID.glucoseMeasurement, glucose(3, hoursAgo: 3, sfloat: 0xC085, context: true)),
            (BleUUID.glucoseMeasurementContext, Data([0x02, 0x03, 0x00, 0x02])),
        ]
        for (uuid, bytes) in incoming {
            XCTAssertEqual(try session.receive(characteristicUuid: uuid, bytes: bytes), .`continue`)
        }
        // A context for a measurement that never came is refused; the session is unchanged.
        XCTAssertThrowsError(
            try session.receive(characteristicUuid: BleUUID.glucoseMeasurementContext, bytes: Data([0x02, 0x09, 0x00, 0x01]))
        ) {
            guard case DeviceError.Decode = $0 else { return XCTFail("expected Decode, got \($0)") }
        }
        XCTAssertEqual(
            try session.receive(characteristicUuid: BleUUID.recordAccessControlPoint, bytes: Data([0x06, 0x00, 0x01, 0x01])),
            .done(complete: true, response: "success"))
        XCTAssertEqual(session.values().count, 5)

        let report = try await meter.import(session)
        XCTAssertEqual(report.inserted, 3)
        XCTAssertTrue(report.skipped.isEmpty && report.rejected.isEmpty)
        let again = try await meter.import(session)
        XCTAssertEqual(again.duplicates, 3)
        let glucose = try await nara.readings().list(filter: .recent(.bloodGlucose, days: 7))
            .compactMap { reading -> Double? in
                if case .bloodGlucose(let mmolPerL) = reading.measurement { return mmolPerL }
                return nil
            }
            .sorted()
        XCTAssertEqual(glucose, [5.6, 7.2, 13.3])

        let empty = GlucoseRecordSession(sinceSequence: 4)
        XCTAssertEqual(
            try empty.receive(characteristicUuid: "2A52", bytes: Data([0x06, 0x00, 0x01, 0x06])),
            .done(complete: true, response: "no_records_found"))
        XCTAssertTrue(empty.values().isEmpty)
    }
}
