package se.nara.sample

import android.annotation.SuppressLint
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothGatt
import android.bluetooth.BluetoothGattCallback
import android.bluetooth.BluetoothGattCharacteristic
import android.bluetooth.BluetoothGattDescriptor
import android.bluetooth.BluetoothProfile
import android.content.Context
import android.os.Build
import java.time.ZoneId
import java.util.UUID
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import se.nara.BleUuids
import se.nara.deviceInfoOf
import se.nara.importSession
import uniffi.nara.Device
import uniffi.nara.DeviceImportReport
import uniffi.nara.DeviceValue
import uniffi.nara.GlucoseRecordSession
import uniffi.nara.GlucoseSessionStep
import uniffi.nara.Nara

/**
 * Sample: a Bluetooth blood pressure cuff or glucose meter over Android's GATT API.
 *
 * Only the radio lives here. Android hands each value to [onCharacteristicChanged] with
 * its characteristic; this class passes the characteristic's UUID and the bytes, as
 * they are, to the core, which decodes them, places the device clock in the patient's
 * zone, applies the device's quality bits and imports without duplicates. No byte is
 * interpreted in Kotlin.
 *
 * The steps, one GATT operation at a time (Android allows no more):
 * 1. connect, discover services;
 * 2. read Device Information: Serial Number (0x2A25; the System ID 0x2A23 if there is
 *    none), Manufacturer Name (0x2A29), Model Number (0x2A24) → `Nara.device(...)`;
 * 3. a cuff: subscribe to Blood Pressure Measurement indications (0x2A35). The cuff
 *    sends its stored records and disconnects; the values are imported then;
 * 4. a glucose meter: subscribe to Glucose Measurement (0x2A18) and Context (0x2A34)
 *    notifications and Record Access Control Point (0x2A52) indications, write the
 *    [GlucoseRecordSession]'s request to 0x2A52, feed every value to the session, and
 *    import its values when it says `Done`.
 *
 * Not shown: scanning (`BluetoothLeScanner` with a service-UUID filter for
 * [BleUuids.BLOOD_PRESSURE_SERVICE] or [BleUuids.GLUCOSE_SERVICE]), bonding, and the
 * runtime permission: the caller must hold `BLUETOOTH_CONNECT` (API 31+) declared in the
 * manifest, which is why this class suppresses the lint check.
 *
 * @param lastGlucoseSequence the highest sequence number already imported from this
 *   meter (kept by the app per device id), or null to fetch every record.
 */
@SuppressLint("MissingPermission")
class BleCuff(
    private val context: Context,
    private val nara: Nara,
    private val scope: CoroutineScope,
    private val lastGlucoseSequence: UShort? = null,
    /** The patient's user number on a shared cuff, if known. */
    private val user: UByte? = null,
    private val onImported: (DeviceImportReport) -> Unit,
    private val onFailed: (Throwable) -> Unit,
) : BluetoothGattCallback() {
    private val operations = ArrayDeque<(BluetoothGatt) -> Boolean>()
    private var serial: String? = null
    private var systemId: ByteArray? = null
    private var manufacturer: String? = null
    private var model: String? = null
    private var device: Device? = null
    private var session: GlucoseRecordSession? = null
    private val cuffValues = mutableListOf<DeviceValue>()

    /** Connects to [peripheral] (found by a scan, or bonded). */
    fun connect(peripheral: BluetoothDevice): BluetoothGatt =
        peripheral.connectGatt(context, false, this, BluetoothDevice.TRANSPORT_LE)

    override fun onConnectionStateChange(gatt: BluetoothGatt, status: Int, newState: Int) {
        when (newState) {
            BluetoothProfile.STATE_CONNECTED -> gatt.discoverServices()
            BluetoothProfile.STATE_DISCONNECTED -> {
                gatt.close()
                // A cuff sends its memory and then disconnects: import what came.
                val values = synchronized(cuffValues) { cuffValues.toList().also { cuffValues.clear() } }
                val cuff = device
                if (cuff != null && values.isNotEmpty()) {
                    scope.launch {
                        runCatching { cuff.import(values, null) }.fold(onImported, onFailed)
                    }
                }
            }
        }
    }

    override fun onServicesDiscovered(gatt: BluetoothGatt, status: Int) {
        if (status != BluetoothGatt.GATT_SUCCESS) return fail(gatt, "service discovery failed ($status)")
        for (uuid in listOf(BleUuids.SERIAL_NUMBER, BleUuids.SYSTEM_ID, BleUuids.MANUFACTURER_NAME, BleUuids.MODEL_NUMBER)) {
            characteristic(gatt, BleUuids.DEVICE_INFORMATION_SERVICE, uuid)?.let { c ->
                operations += { g -> g.readCharacteristic(c) }
            }
        }
        operations += { g -> openDevice(g) }
        characteristic(gatt, BleUuids.BLOOD_PRESSURE_SERVICE, BleUuids.BLOOD_PRESSURE_MEASUREMENT)?.let { c ->
            operations += { g -> subscribe(g, c, BluetoothGattDescriptor.ENABLE_INDICATION_VALUE) }
        }
        val glucose = gatt.getService(UUID.fromString(BleUuids.GLUCOSE_SERVICE))
        if (glucose != null) {
            val records = GlucoseRecordSession(lastGlucoseSequence)
            session = records
            for (uuid in listOf(BleUuids.GLUCOSE_MEASUREMENT, BleUuids.GLUCOSE_MEASUREMENT_CONTEXT)) {
                characteristic(gatt, BleUuids.GLUCOSE_SERVICE, uuid)?.let { c ->
                    operations += { g -> subscribe(g, c, BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE) }
                }
            }
            val racp = characteristic(gatt, BleUuids.GLUCOSE_SERVICE, BleUuids.RECORD_ACCESS_CONTROL_POINT)
                ?: return fail(gatt, "the meter has no record access control point")
            operations += { g -> subscribe(g, racp, BluetoothGattDescriptor.ENABLE_INDICATION_VALUE) }
            operations += { g -> write(g, racp, records.request()) }
        }
        next(gatt)
    }

    // --- Device Information -----------------------------------------------------------

    override fun onCharacteristicRead(
        gatt: BluetoothGatt,
        characteristic: BluetoothGattCharacteristic,
        value: ByteArray,
        status: Int,
    ) {
        read(gatt, characteristic.uuid, value, status)
    }

    @Deprecated("Android 12 and older")
    @Suppress("DEPRECATION")
    override fun onCharacteristicRead(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, status: Int) {
        if (Build.VERSION.SDK_INT >= 33) return // the overload above is called instead
        read(gatt, characteristic.uuid, characteristic.value ?: ByteArray(0), status)
    }

    private fun read(gatt: BluetoothGatt, uuid: UUID, value: ByteArray, status: Int) {
        if (status == BluetoothGatt.GATT_SUCCESS) remember(uuid, value)
        next(gatt)
    }

    private fun remember(uuid: UUID, value: ByteArray) {
        val text = value.toString(Charsets.UTF_8).trimEnd('\u0000')
        when (uuid) {
            UUID.fromString(BleUuids.SERIAL_NUMBER) -> serial = text
            UUID.fromString(BleUuids.SYSTEM_ID) -> systemId = value
            UUID.fromString(BleUuids.MANUFACTURER_NAME) -> manufacturer = text
            UUID.fromString(BleUuids.MODEL_NUMBER) -> model = text
        }
    }

    /**
     * After the Device Information reads: the core checks the id and the zone. Completes
     * at once (returns false: no GATT callback to wait for).
     */
    private fun openDevice(gatt: BluetoothGatt): Boolean {
        val info = deviceInfoOf(serial, systemId, manufacturer, model)
        if (info == null) {
            fail(gatt, "the device has no serial number or system id")
            return false
        }
        try {
            device = nara.device(info, user, ZoneId.systemDefault().id)
        } catch (e: Exception) {
            fail(gatt, e) // DeviceException.BadDevice or UnknownTimeZone
        }
        return false
    }

    // --- Values: the bytes go to the core as they are --------------------------------

    override fun onCharacteristicChanged(
        gatt: BluetoothGatt,
        characteristic: BluetoothGattCharacteristic,
        value: ByteArray,
    ) {
        received(gatt, characteristic.uuid.toString(), value)
    }

    @Deprecated("Android 12 and older")
    @Suppress("DEPRECATION")
    override fun onCharacteristicChanged(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic) {
        if (Build.VERSION.SDK_INT >= 33) return // the overload above is called instead
        received(gatt, characteristic.uuid.toString(), characteristic.value ?: return)
    }

    /** Where the bytes and the characteristic UUID go to the core. */
    private fun received(gatt: BluetoothGatt, uuid: String, value: ByteArray) {
        val records = session
        if (records == null) {
            // A cuff: keep its records until it disconnects (import is one transaction).
            synchronized(cuffValues) { cuffValues += DeviceValue(uuid, value) }
            return
        }
        val meter = device ?: return
        try {
            when (val step = records.receive(uuid, value)) {
                GlucoseSessionStep.Continue -> {}
                is GlucoseSessionStep.Done -> {
                    // `complete` is false when the meter reported an error; what came is
                    // still imported, and the next session asks again from the same place.
                    scope.launch {
                        runCatching { meter.importSession(records) }.fold(onImported, onFailed)
                    }
                    gatt.disconnect()
                }
            }
        } catch (e: Exception) {
            // A value the session refused (DeviceException.Decode): log, keep listening.
            onFailed(e)
        }
    }

    override fun onDescriptorWrite(gatt: BluetoothGatt, descriptor: BluetoothGattDescriptor, status: Int) {
        if (status != BluetoothGatt.GATT_SUCCESS) return fail(gatt, "subscribing failed ($status)")
        next(gatt)
    }

    override fun onCharacteristicWrite(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, status: Int) {
        if (status != BluetoothGatt.GATT_SUCCESS) return fail(gatt, "the request was refused ($status)")
        next(gatt)
    }

    // --- GATT plumbing ----------------------------------------------------------------

    /** Runs the next queued operation; each completion callback calls this again. */
    private fun next(gatt: BluetoothGatt) {
        while (true) {
            val op = operations.removeFirstOrNull() ?: return
            if (op(gatt)) return
        }
    }

    private fun characteristic(gatt: BluetoothGatt, service: String, uuid: String): BluetoothGattCharacteristic? =
        gatt.getService(UUID.fromString(service))?.getCharacteristic(UUID.fromString(uuid))

    /** Enables notifications or indications: locally, then in the device's CCCD. */
    @Suppress("DEPRECATION") // the pre-33 branch
    private fun subscribe(gatt: BluetoothGatt, c: BluetoothGattCharacteristic, value: ByteArray): Boolean {
        gatt.setCharacteristicNotification(c, true)
        val cccd = c.getDescriptor(UUID.fromString(BleUuids.CLIENT_CHARACTERISTIC_CONFIGURATION)) ?: return false
        return if (Build.VERSION.SDK_INT >= 33) {
            gatt.writeDescriptor(cccd, value) == BluetoothGatt.GATT_SUCCESS
        } else {
            cccd.value = value
            gatt.writeDescriptor(cccd)
        }
    }

    @Suppress("DEPRECATION") // the pre-33 branch
    private fun write(gatt: BluetoothGatt, c: BluetoothGattCharacteristic, value: ByteArray): Boolean =
        if (Build.VERSION.SDK_INT >= 33) {
            gatt.writeCharacteristic(c, value, BluetoothGattCharacteristic.WRITE_TYPE_DEFAULT) ==
                BluetoothGatt.GATT_SUCCESS
        } else {
            c.value = value
            c.writeType = BluetoothGattCharacteristic.WRITE_TYPE_DEFAULT
            gatt.writeCharacteristic(c)
        }

    private fun fail(gatt: BluetoothGatt, reason: String): Unit = fail(gatt, IllegalStateException(reason))

    private fun fail(gatt: BluetoothGatt, e: Throwable) {
        operations.clear()
        onFailed(e)
        gatt.disconnect()
    }
}
