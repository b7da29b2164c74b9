// Platform-neutral: built for iOS and, by tests/bindings/swift/run, on Linux.
//
// Helpers over the Bluetooth devices area: the UUIDs a shell subscribes to and reads,
// the Device Information strings turned into a `DeviceInfo`, and a progress closure for
// the import. The radio code (CoreBluetooth) stays in the app, see the sample's
// BleCuff.swift; every decoding and capture rule is in the core.

import Foundation

/// The device error's `description` is the core's message (a field and byte offset,
/// never a measured value).
extension DeviceError: CustomStringConvertible {}

/// The Bluetooth SIG UUIDs the shells use, in the 16-bit form `CBUUID(string:)` takes
/// and `CBUUID.uuidString` returns. The core accepts these, `0x2A35` and the 128-bit
/// form alike.
public enum BleUUID {
    /// Blood Pressure service.
    public static let bloodPressureService = "1810"
    /// Glucose service.
    public static let glucoseService = "1808"
    /// Device Information service.
    public static let deviceInformationService = "180A"

    /// Blood Pressure Measurement: indicate.
    public static let bloodPressureMeasurement = "2A35"
    /// Intermediate Cuff Pressure: notify while the cuff inflates (no reading).
    public static let intermediateCuffPressure = "2A36"
    /// Glucose Measurement: notify.
    public static let glucoseMeasurement = "2A18"
    /// Glucose Measurement Context: notify.
    public static let glucoseMeasurementContext = "2A34"
    /// Record Access Control Point: write the session's request, indicate.
    public static let recordAccessControlPoint = "2A52"

    /// Serial Number String: the device id.
    public static let serialNumber = "2A25"
    /// System ID: the device id when there is no serial number.
    public static let systemID = "2A23"
    /// Manufacturer Name String.
    public static let manufacturerName = "2A29"
    /// Model Number String.
    public static let modelNumber = "2A24"
}

extension DeviceInfo {
    /// The device as its Device Information service describes it: the serial number
    /// (or, if it has none, the System ID in hex; never the peripheral's identifier,
    /// which differs per phone) and "manufacturer model" for the patient. `nil` if the
    /// device gave neither id. The core checks the strings (`DeviceError.BadDevice`).
    public static func from(
        serialNumber: String?,
        systemID: Data? = nil,
        manufacturer: String?,
        model: String?
    ) -> DeviceInfo? {
        let serial = serialNumber?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let id: String
        if !serial.isEmpty {
            id = serial
        } else if let systemID, !systemID.isEmpty {
            id = systemID.map { String(format: "%02X", $0) }.joined()
        } else {
            return nil
        }
        let name = [manufacturer, model]
            .compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
        return DeviceInfo(deviceId: id, model: name.isEmpty ? nil : name)
    }
}

extension Device {
    /// Imports `values`, calling `onProgress(done, total)` from the core's threads as it
    /// goes; hop to the main actor to update UI. See `import(values:progress:)`.
    public func `import`(
        _ values: [DeviceValue],
        onProgress: @escaping @Sendable (_ done: UInt64, _ total: UInt64) -> Void
    ) async throws -> DeviceImportReport {
        try await self.import(values: values, progress: ClosureImportProgress(onProgress))
    }

    /// Imports what `session` received (after it returned `GlucoseSessionStep.done`).
    public func `import`(_ session: GlucoseRecordSession) async throws -> DeviceImportReport {
        try await self.import(values: session.values(), progress: nil)
    }
}
