package se.nara

import uniffi.nara.Device
import uniffi.nara.DeviceImportReport
import uniffi.nara.DeviceInfo
import uniffi.nara.DeviceValue
import uniffi.nara.GlucoseRecordSession
import uniffi.nara.ImportProgress

// Helpers over the Bluetooth devices area: the UUIDs a shell subscribes to and reads,
// the Device Information strings turned into a DeviceInfo, and a progress lambda for
// the import. Platform-neutral (no android.*): the JVM binding tests compile this file
// as it is. The radio code (BluetoothGatt) stays in the app, see the sample's
// BleCuff.kt; every decoding and capture rule is in the core.

/**
 * The Bluetooth SIG UUIDs the shells use, in the 128-bit form
 * `java.util.UUID.fromString` and `ParcelUuid` take. The core accepts these, the
 * 16-bit form (`2A35`) and `0x2A35` alike.
 */
object BleUuids {
    private fun sig(short: String) = "0000$short-0000-1000-8000-00805f9b34fb"

    /** Blood Pressure service. */
    val BLOOD_PRESSURE_SERVICE = sig("1810")
    /** Glucose service. */
    val GLUCOSE_SERVICE = sig("1808")
    /** Device Information service. */
    val DEVICE_INFORMATION_SERVICE = sig("180a")

    /** Blood Pressure Measurement: indicate. */
    val BLOOD_PRESSURE_MEASUREMENT = sig("2a35")
    /** Intermediate Cuff Pressure: notify while the cuff inflates (no reading). */
    val INTERMEDIATE_CUFF_PRESSURE = sig("2a36")
    /** Glucose Measurement: notify. */
    val GLUCOSE_MEASUREMENT = sig("2a18")
    /** Glucose Measurement Context: notify. */
    val GLUCOSE_MEASUREMENT_CONTEXT = sig("2a34")
    /** Record Access Control Point: write the session's request, indicate. */
    val RECORD_ACCESS_CONTROL_POINT = sig("2a52")

    /** Serial Number String: the device id. */
    val SERIAL_NUMBER = sig("2a25")
    /** System ID: the device id when there is no serial number. */
    val SYSTEM_ID = sig("2a23")
    /** Manufacturer Name String. */
    val MANUFACTURER_NAME = sig("2a29")
    /** Model Number String. */
    val MODEL_NUMBER = sig("2a24")

    /** Client Characteristic Configuration descriptor: enables notify/indicate. */
    val CLIENT_CHARACTERISTIC_CONFIGURATION = sig("2902")
}

/**
 * The device as its Device Information service describes it: the serial number (or, if
 * it has none, the System ID in hex; never the Bluetooth address, which phones
 * randomise) and "manufacturer model" for the patient. Returns null if the device gave
 * neither id. The core checks the strings (`DeviceException.BadDevice`).
 */
fun deviceInfoOf(
    serialNumber: String?,
    systemId: ByteArray?,
    manufacturer: String?,
    model: String?,
): DeviceInfo? {
    val id = serialNumber?.trim()?.takeIf { it.isNotEmpty() }
        ?: systemId?.takeIf { it.isNotEmpty() }?.joinToString("") { "%02X".format(it) }
        ?: return null
    val name = listOfNotNull(manufacturer?.trim(), model?.trim())
        .filter { it.isNotEmpty() }
        .joinToString(" ")
        .takeIf { it.isNotEmpty() }
    return DeviceInfo(deviceId = id, model = name)
}

/**
 * [Device.import] with a lambda for the progress: `onProgress(done, total)` runs on one
 * of the core's threads, so post to the main thread before touching the UI.
 */
suspend fun Device.importWithProgress(
    values: List<DeviceValue>,
    onProgress: (done: ULong, total: ULong) -> Unit,
): DeviceImportReport {
    val callback = onProgress
    return import(values, object : ImportProgress {
        override fun onProgress(done: ULong, total: ULong) = callback(done, total)
    })
}

/** Imports what [session] received (after it returned `GlucoseSessionStep.Done`). */
suspend fun Device.importSession(session: GlucoseRecordSession): DeviceImportReport =
    import(session.values(), null)
