package se.nara.tests

import java.time.Instant
import java.time.LocalDateTime
import java.time.ZoneId
import java.time.temporal.ChronoUnit
import kotlin.test.assertFailsWith
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import se.nara.BleUuids
import se.nara.deviceInfoOf
import se.nara.importSession
import se.nara.importWithProgress
import uniffi.nara.Band
import uniffi.nara.Device
import uniffi.nara.DeviceException
import uniffi.nara.DeviceInfo
import uniffi.nara.DeviceOutcome
import uniffi.nara.DeviceValue
import uniffi.nara.GlucoseRecordSession
import uniffi.nara.GlucoseSessionStep
import uniffi.nara.Measurement
import uniffi.nara.ReadingFilter
import uniffi.nara.ReadingKind
import uniffi.nara.Source

private const val STOCKHOLM = "Europe/Stockholm"

/** 121/80 mmHg (MAP 95) on 2026-11-24 07:30:00, pulse 72, user 1, status 0. */
private val BP_LITERAL = bytes(
    0x1E, 0x79, 0x00, 0x50, 0x00, 0x5F, 0x00, 0xEA, 0x07, 0x0B, 0x18, 0x07, 0x1E, 0x00, 0x48, 0x00, 0x01, 0x00, 0x00,
)

private fun bytes(vararg b: Int) = ByteArray(b.size) { b[it].toByte() }

private fun le16(v: Int) = bytes(v and 0xFF, (v shr 8) and 0xFF)

/** The wall-clock time in Stockholm [hours] hours ago, whole seconds. */
private fun hoursAgo(hours: Long): LocalDateTime =
    LocalDateTime.now(ZoneId.of(STOCKHOLM)).minusHours(hours).truncatedTo(ChronoUnit.SECONDS)

/** A Date Time field. */
private fun dateTime(t: LocalDateTime) = le16(t.year) + bytes(t.monthValue, t.dayOfMonth, t.hour, t.minute, t.second)

/** A Blood Pressure Measurement in mmHg with a time stamp and pulse 72, and [status] if given. */
private fun bp(systolic: Int, diastolic: Int, at: LocalDateTime, status: Int? = null): ByteArray {
    var out = bytes(if (status != null) 0x16 else 0x06) +
        le16(systolic) + le16(diastolic) + le16((systolic + 2 * diastolic) / 3) +
        dateTime(at) + le16(72)
    if (status != null) out += le16(status)
    return out
}

/** Ten records, one every 12 hours back from an hour ago. */
private fun cuffMemory() = (0 until 10).map { i ->
    DeviceValue("2A35", bp(118 + i, 76 + i, hoursAgo(1L + 12 * i)))
}

/** A Glucose Measurement in mol/L, capillary blood from a finger, announcing a context if [context]. */
private fun glucose(seq: Int, at: LocalDateTime, sfloat: Int, context: Boolean) =
    bytes(if (context) 0x16 else 0x06) + le16(seq) + dateTime(at) + le16(sfloat) + bytes(0x11)

/** The Bluetooth devices area from Kotlin: decode, import twice, a glucose session, typed errors. */
class DevicesTest : StoreTest() {

    private fun cuff(user: UByte? = null): Device = nara.device(
        deviceInfoOf("SN-4711", null, "Omron", "M7 Intelli IT")!!,
        user,
        STOCKHOLM,
    )

    @Test
    fun aBloodPressureValueDecodesIntoAReadingPreview() = runBlocking<Unit> {
        val device = cuff(user = 1u)
        val decoded = device.decode(BleUuids.BLOOD_PRESSURE_MEASUREMENT, BP_LITERAL)
        assertEquals("Blood Pressure Measurement", decoded.characteristic)
        assertEquals(0x2A35.toUShort(), decoded.assignedNumber)
        assertTrue(decoded.json, decoded.json.contains("\"blood_pressure\""))
        val reading = (decoded.outcome as DeviceOutcome.Reading).reading
        assertEquals(ReadingKind.BLOOD_PRESSURE, reading.kind)
        assertEquals(Measurement.BloodPressure(121.0, 80.0, 72.0), reading.measurement)
        assertEquals(Instant.parse("2026-11-24T06:30:00Z"), reading.effectiveAt)
        assertEquals(3600, reading.utcOffsetSeconds)
        assertEquals(
            Source.Device("SN-4711", "Omron M7 Intelli IT", "u1/2026-11-24T07:30:00"),
            reading.source,
        )
        assertEquals(Band.GREEN, reading.triage.band)
        assertEquals("a preview stores nothing", 0uL, nara.readings().count())

        // Another user of the shared cuff.
        val other = BP_LITERAL.copyOf().also { it[16] = 2 }
        val outcome = device.decode("2a35", other).outcome as DeviceOutcome.NotAReading
        assertEquals("other_user", outcome.reason)
        assertTrue(outcome.text.en, outcome.text.en.contains("user 2"))
    }

    @Test
    fun aLooseCuffSaysMeasureAgain() = runBlocking<Unit> {
        val decoded = cuff().decode("0x2A35", bp(190, 95, hoursAgo(2), status = 0b10))
        val reading = (decoded.outcome as DeviceOutcome.Reading).reading
        assertTrue(reading.quality.cuffFitPoor)
        assertEquals(Band.MEASURE_AGAIN, reading.triage.band)
        assertEquals(Band.RED, reading.triage.valueBand)
    }

    @Test
    fun aCuffsMemoryImportedTwiceIsStoredOnce() = runBlocking<Unit> {
        val device = cuff()
        val seen = mutableListOf<Pair<ULong, ULong>>()
        val first = device.importWithProgress(cuffMemory()) { done, total -> synchronized(seen) { seen += done to total } }
        assertEquals(10uL, first.inserted)
        assertEquals(0uL, first.duplicates)
        assertTrue(first.skipped.isEmpty() && first.rejected.isEmpty())
        assertEquals(10uL to 10uL, synchronized(seen) { seen.last() })

        val again = device.import(cuffMemory(), null)
        assertEquals(0uL, again.inserted)
        assertEquals(10uL, again.duplicates)
        val stored = nara.readings().list(ReadingFilter())
        assertEquals(10, stored.size)
        assertTrue(stored.all { (it.source as Source.Device).deviceId == "SN-4711" })
    }

    @Test
    fun aTruncatedRecordIsRejectedWithItsFieldAndTheRestImported() = runBlocking<Unit> {
        val values = cuffMemory().take(3).toMutableList()
        values[1] = DeviceValue("2A35", values[1].bytes.copyOf(9))
        values[2] = DeviceValue("2A35", bp(120, 80, hoursAgo(-26)))
        val report = cuff().import(values, null)
        assertEquals(1uL, report.inserted)
        assertEquals(listOf(1uL, 2uL), report.rejected.map { it.index })
        val truncated = report.rejected[0]
        assertEquals("Time Stamp", truncated.field)
        assertEquals(7uL, truncated.offset)
        val future = report.rejected[1]
        assertNull(future.field)
        assertTrue(future.detail, future.detail.contains("future"))
    }

    @Test
    fun errorsAreTypedExceptions() = runBlocking<Unit> {
        val device = cuff()
        val unknown = assertFailsWith<DeviceException.UnknownCharacteristic> { device.decode("2A00", bytes(1, 2)) }
        assertEquals("2A00", unknown.uuid)
        assertNull(unknown.index)
        val decode = assertFailsWith<DeviceException.Decode> { device.decode("2A35", BP_LITERAL.copyOf(9)) }
        assertEquals("Time Stamp", decode.field)
        assertEquals(7uL, decode.offset)

        val values = cuffMemory().toMutableList()
        values[3] = DeviceValue("not-a-uuid", values[3].bytes)
        val inImport = assertFailsWith<DeviceException.UnknownCharacteristic> { device.import(values, null) }
        assertEquals(3uL, inImport.index)
        assertTrue(inImport.toString(), inImport.toString().contains("value 3"))
        assertEquals("nothing imported", 0uL, nara.readings().count())

        assertFailsWith<DeviceException.BadDevice> { nara.device(DeviceInfo("  ", null), null, STOCKHOLM) }
        assertFailsWith<DeviceException.UnknownTimeZone> { nara.device(DeviceInfo("SN-1", null), null, "Mars/Olympus") }
        assertNull("no id at all", deviceInfoOf(null, null, "Omron", null))
        assertEquals("0A0B", deviceInfoOf(" ", bytes(0x0A, 0x0B), null, null)?.deviceId)

        nara.closeStore()
        assertFailsWith<DeviceException.Closed> { device.decode("2A35", BP_LITERAL) }
    }

    @Test
    fun aGlucoseMetersRecordsAreFetchedWithASessionAndImported() = runBlocking<Unit> {
        val meter = nara.device(DeviceInfo("GM-0042", "Contour Next One"), null, STOCKHOLM)
        assertArrayEquals(bytes(0x01, 0x03, 0x01, 0x05, 0x00), GlucoseRecordSession(5u).request())
        val session = GlucoseRecordSession(null)
        assertArrayEquals("report all stored records", bytes(0x01, 0x01), session.request())
        // 5.6, 7.2 and 13.3 mmol/L, the first and last with a meal context.
        val incoming = listOf(
            BleUuids.GLUCOSE_MEASUREMENT to glucose(1, hoursAgo(30), 0xC038, context = true),
            BleUuids.GLUCOSE_MEASUREMENT_CONTEXT to bytes(0x02, 0x01, 0x00, 0x01),
            BleUuids.GLUCOSE_MEASUREMENT to glucose(2, hoursAgo(20), 0xC048, context = false),
            BleUuids.GLUCOSE_MEASUREMENT to glucose(3, hoursAgo(3), 0xC085, context = true),
            BleUuids.GLUCOSE_MEASUREMENT_CONTEXT to bytes(0x02, 0x03, 0x00, 0x02),
        )
        for ((uuid, value) in incoming) {
            assertEquals(GlucoseSessionStep.Continue, session.receive(uuid, value))
        }
        // A context for a measurement that never came is refused; the session is unchanged.
        assertFailsWith<DeviceException.Decode> {
            session.receive(BleUuids.GLUCOSE_MEASUREMENT_CONTEXT, bytes(0x02, 0x09, 0x00, 0x01))
        }
        assertEquals(
            GlucoseSessionStep.Done(complete = true, response = "success"),
            session.receive(BleUuids.RECORD_ACCESS_CONTROL_POINT, bytes(0x06, 0x00, 0x01, 0x01)),
        )
        assertEquals(5, session.values().size)

        val report = meter.importSession(session)
        assertEquals(3uL, report.inserted)
        assertTrue(report.skipped.isEmpty() && report.rejected.isEmpty())
        assertEquals(3uL, meter.importSession(session).duplicates)
        val glucose = nara.readings().list(ReadingFilter(kind = ReadingKind.BLOOD_GLUCOSE))
            .map { (it.measurement as Measurement.BloodGlucose).mmolPerL }
            .sorted()
        assertEquals(listOf(5.6, 7.2, 13.3), glucose)

        val empty = GlucoseRecordSession(4u)
        assertEquals(
            GlucoseSessionStep.Done(complete = true, response = "no_records_found"),
            empty.receive("2A52", bytes(0x06, 0x00, 0x01, 0x06)),
        )
        assertTrue(empty.values().isEmpty())
    }
}
