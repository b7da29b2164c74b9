@preconcurrency import CoreBluetooth
import Foundation
import Nara

/// Sample: a Bluetooth blood pressure cuff or glucose meter over CoreBluetooth.
///
/// Only the radio lives here. CoreBluetooth hands each value to
/// `peripheral(_:didUpdateValueFor:error:)`; this class passes the characteristic's UUID
/// and the bytes, as they are, to the core, which decodes them, places the device clock
/// in the patient's zone, applies the device's quality bits and imports without
/// duplicates. No byte is interpreted in Swift.
///
/// The steps (CoreBluetooth queues the requests itself):
/// 1. scan for the Blood Pressure (0x1810) or Glucose (0x1808) service, connect, discover;
/// 2. read Device Information: Serial Number (0x2A25; the System ID 0x2A23 if there is
///    none), Manufacturer Name (0x2A29), Model Number (0x2A24) → `nara.device(...)`;
/// 3. a cuff: subscribe to Blood Pressure Measurement indications (0x2A35). The cuff
///    sends its stored records and disconnects; the values are imported then;
/// 4. a glucose meter: subscribe to Glucose Measurement (0x2A18) and Context (0x2A34)
///    notifications and Record Access Control Point (0x2A52) indications, write the
///    `GlucoseRecordSession`'s request to 0x2A52 once indications are on, feed every
///    value to the session, and import its values when it says `.done`.
///
/// The app's Info.plist needs `NSBluetoothAlwaysUsageDescription`. Not shown: pairing
/// UI, choosing among several devices, reconnecting.
@MainActor
final class BleCuff: NSObject {
    private let nara: Nara
    private let lastGlucoseSequence: UInt16?
    private let user: UInt8?
    private let onImported: @MainActor (DeviceImportReport) -> Void
    private let onFailed: @MainActor (Error) -> Void

    private var central: CBCentralManager?
    private var peripheral: CBPeripheral?
    private var servicesAwaitingCharacteristics = 0
    private var infoReadsPending = 0
    private var serial: String?
    private var systemID: Data?
    private var manufacturer: String?
    private var model: String?
    private var device: Device?
    private var subscribeTo: [CBCharacteristic] = []
    private var racp: CBCharacteristic?
    private var session: GlucoseRecordSession?
    private var cuffValues: [DeviceValue] = []

    private static let services = [BleUUID.bloodPressureService, BleUUID.glucoseService].map { CBUUID(string: $0) }
    private static let deviceInformation = [BleUUID.serialNumber, BleUUID.systemID, BleUUID.manufacturerName, BleUUID.modelNumber]

    /// `lastGlucoseSequence`: the highest sequence number already imported from this meter
    /// (kept by the app per device id), or `nil` to fetch every record. `user`: the
    /// patient's user number on a shared cuff, if known.
    init(
        nara: Nara,
        lastGlucoseSequence: UInt16? = nil,
        user: UInt8? = nil,
        onImported: @escaping @MainActor (DeviceImportReport) -> Void,
        onFailed: @escaping @MainActor (Error) -> Void
    ) {
        self.nara = nara
        self.lastGlucoseSequence = lastGlucoseSequence
        self.user = user
        self.onImported = onImported
        self.onFailed = onFailed
        super.init()
        // Delegate calls arrive on the main queue, matching the class's main actor.
        central = CBCentralManager(delegate: self, queue: nil)
    }

    /// Imports values on the core's threads and reports on the main actor.
    private func importValues(_ values: [DeviceValue]) {
        guard let device, !values.isEmpty else { return }
        _Concurrency.Task {
            do {
                onImported(try await device.import(values: values, progress: nil))
            } catch {
                onFailed(error)
            }
        }
    }

    /// Once Device Information is read and every characteristic found: the device
    /// (the core checks the id and the zone), then the subscriptions.
    private func startIfReady(_ peripheral: CBPeripheral) {
        guard device == nil, servicesAwaitingCharacteristics == 0, infoReadsPending == 0 else { return }
        guard let info = DeviceInfo.from(
            serialNumber: serial, systemID: systemID, manufacturer: manufacturer, model: model)
        else {
            return fail(peripheral, BleCuffError.noDeviceId)
        }
        do {
            device = try nara.device(info: info, user: user, timeZone: TimeZone.current.identifier)
        } catch {
            return fail(peripheral, error) // DeviceError.BadDevice or .UnknownTimeZone
        }
        if racp != nil { session = GlucoseRecordSession(sinceSequence: lastGlucoseSequence) }
        for characteristic in subscribeTo {
            peripheral.setNotifyValue(true, for: characteristic)
        }
    }

    /// Where the bytes and the characteristic UUID go to the core.
    private func received(_ peripheral: CBPeripheral, uuid: String, bytes: Data) {
        guard let session else {
            // A cuff: keep its records until it disconnects (import is one transaction).
            cuffValues.append(DeviceValue(characteristicUuid: uuid, bytes: bytes))
            return
        }
        do {
            switch try session.receive(characteristicUuid: uuid, bytes: bytes) {
            case .continue:
                break
            case .done:
                // `complete` is false when the meter reported an error; what came is still
                // imported, and the next session asks again from the same place.
                importValues(session.values())
                central?.cancelPeripheralConnection(peripheral)
            }
        } catch {
            // A value the session refused (DeviceError.Decode): report, keep listening.
            onFailed(error)
        }
    }

    private func fail(_ peripheral: CBPeripheral, _ error: Error) {
        onFailed(error)
        central?.cancelPeripheralConnection(peripheral)
    }
}

enum BleCuffError: Error {
    /// The device has neither a Serial Number nor a System ID.
    case noDeviceId
}

extension BleCuff: @preconcurrency CBCentralManagerDelegate {
    func centralManagerDidUpdateState(_ central: CBCentralManager) {
        if central.state == .poweredOn {
            central.scanForPeripherals(withServices: Self.services)
        }
    }

    func centralManager(
        _ central: CBCentralManager, didDiscover peripheral: CBPeripheral,
        advertisementData: [String: Any], rssi RSSI: NSNumber
    ) {
        central.stopScan()
        self.peripheral = peripheral // CoreBluetooth does not retain it
        peripheral.delegate = self
        central.connect(peripheral)
    }

    func centralManager(_ central: CBCentralManager, didConnect peripheral: CBPeripheral) {
        peripheral.discoverServices(Self.services + [CBUUID(string: BleUUID.deviceInformationService)])
    }

    func centralManager(_ central: CBCentralManager, didDisconnectPeripheral peripheral: CBPeripheral, error: Error?) {
        // A cuff sends its memory and then disconnects: import what came.
        let values = cuffValues
        cuffValues = []
        importValues(values)
    }
}

extension BleCuff: @preconcurrency CBPeripheralDelegate {
    func peripheral(_ peripheral: CBPeripheral, didDiscoverServices error: Error?) {
        if let error { return fail(peripheral, error) }
        let services = peripheral.services ?? []
        servicesAwaitingCharacteristics = services.count
        for service in services {
            peripheral.discoverCharacteristics(nil, for: service)
        }
    }

    func peripheral(_ peripheral: CBPeripheral, didDiscoverCharacteristicsFor service: CBService, error: Error?) {
        if let error { return fail(peripheral, error) }
        servicesAwaitingCharacteristics -= 1
        for characteristic in service.characteristics ?? [] {
            let uuid = characteristic.uuid.uuidString
            switch uuid {
            case _ where Self.deviceInformation.contains(uuid):
                infoReadsPending += 1
                peripheral.readValue(for: characteristic)
            case BleUUID.bloodPressureMeasurement, BleUUID.glucoseMeasurement, BleUUID.glucoseMeasurementContext:
                subscribeTo.append(characteristic)
            case BleUUID.recordAccessControlPoint:
                racp = characteristic
                subscribeTo.append(characteristic)
            default:
                break
            }
        }
        startIfReady(peripheral)
    }

    func peripheral(_ peripheral: CBPeripheral, didUpdateValueFor characteristic: CBCharacteristic, error: Error?) {
        let uuid = characteristic.uuid.uuidString
        if Self.deviceInformation.contains(uuid), device == nil {
            infoReadsPending -= 1
            if error == nil, let value = characteristic.value {
                let text = String(decoding: value, as: UTF8.self).trimmingCharacters(in: .controlCharacters)
                switch uuid {
                case BleUUID.serialNumber: serial = text
                case BleUUID.systemID: systemID = value
                case BleUUID.manufacturerName: manufacturer = text
                default: model = text
                }
            }
            return startIfReady(peripheral)
        }
        if let error { return onFailed(error) }
        guard let value = characteristic.value else { return }
        received(peripheral, uuid: uuid, bytes: value)
    }

    func peripheral(
        _ peripheral: CBPeripheral, didUpdateNotificationStateFor characteristic: CBCharacteristic, error: Error?
    ) {
        if let error { return fail(peripheral, error) }
        // Indications on the control point are on: ask the meter for its records.
        if characteristic == racp, characteristic.isNotifying, let session {
            peripheral.writeValue(session.request(), for: characteristic, type: .withResponse)
        }
    }

    func peripheral(_ peripheral: CBPeripheral, didWriteValueFor characteristic: CBCharacteristic, error: Error?) {
        if let error { fail(peripheral, error) } // the meter refused the request
    }
}
