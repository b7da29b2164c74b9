package se.nara.tests

import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.security.SecureRandom
import java.time.Instant
import java.time.temporal.ChronoUnit
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Before
import uniffi.nara.KeyException
import uniffi.nara.LocalDate
import uniffi.nara.LocalTime
import uniffi.nara.MeasurementSchedule
import uniffi.nara.ReadingKind
import uniffi.nara.KeyProvider
import uniffi.nara.Measurement
import uniffi.nara.Nara
import uniffi.nara.NewReading
import uniffi.nara.QualityFlags
import uniffi.nara.Source

/**
 * A [KeyProvider] in the shape of the Android Keystore one: the data key is wrapped with
 * AES-256/GCM under [key], which only this object holds (in memory).
 */
class MemoryKeyProvider(val key: SecretKey = newAesKey()) : KeyProvider {
    val wraps = AtomicInteger()
    val unwraps = AtomicInteger()
    val forgets = AtomicInteger()

    override fun wrap(dataKey: ByteArray): ByteArray {
        wraps.incrementAndGet()
        val iv = ByteArray(12).also { SecureRandom().nextBytes(it) }
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, key, GCMParameterSpec(128, iv))
        return iv + cipher.doFinal(dataKey)
    }

    override fun unwrapKey(wrapped: ByteArray): ByteArray {
        unwraps.incrementAndGet()
        if (wrapped.size < 12 + 16) throw KeyException.WrongKey()
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrapped.copyOfRange(0, 12)))
        return try {
            cipher.doFinal(wrapped, 12, wrapped.size - 12)
        } catch (e: AEADBadTagException) {
            throw KeyException.WrongKey()
        }
    }

    override fun forget() {
        forgets.incrementAndGet()
    }

    companion object {
        fun newAesKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    }
}

/** A [KeyProvider] that wraps like [inner] but fails every unwrap with [error]. */
class FailingUnwrapKeyProvider(
    private val inner: KeyProvider,
    private val error: () -> Exception,
) : KeyProvider by inner {
    override fun unwrapKey(wrapped: ByteArray): ByteArray = throw error()
}

/** A fresh directory under target/kotlin-tests/tmp (or the system temp dir). */
fun tempDir(): Path {
    val base = System.getProperty("nara.test.tmp")?.let { Paths.get(it) }
    return if (base != null) {
        Files.createDirectories(base)
        Files.createTempDirectory(base, "store")
    } else {
        Files.createTempDirectory("nara-kotlin")
    }
}

fun Path.deleteTree() {
    File(toString()).deleteRecursively()
}

/** A moment a little in the past, whole seconds (the core keeps second precision). */
fun minutesAgo(minutes: Long): Instant =
    Instant.now().truncatedTo(ChronoUnit.SECONDS).minus(minutes, ChronoUnit.MINUTES)

val NO_FLAGS = QualityFlags(
    bodyMovement = false,
    cuffFitPoor = false,
    irregularPulse = false,
    improperPosition = false,
    weakSignal = false,
    pulseOutOfRange = false,
    deviceFault = false,
)

fun bloodPressure(
    systolic: Double,
    diastolic: Double,
    pulse: Double? = null,
    at: Instant = minutesAgo(5),
    source: Source = Source.Manual,
    note: String? = null,
) = NewReading(
    measurement = Measurement.BloodPressure(systolic = systolic, diastolic = diastolic, pulse = pulse),
    effectiveAt = at,
    utcOffsetSeconds = 3600,
    source = source,
    quality = NO_FLAGS,
    note = note,
)

fun weight(kg: Double, at: Instant = minutesAgo(5)) = NewReading(
    measurement = Measurement.BodyWeight(kg = kg),
    effectiveAt = at,
    utcOffsetSeconds = 3600,
    source = Source.Manual,
    quality = NO_FLAGS,
    note = null,
)

/** A device reading with its own record number, so that a second import is recognised. */
fun deviceReading(recordKey: Int, at: Instant) = bloodPressure(
    systolic = 110.0 + recordKey % 40,
    diastolic = 70.0 + recordKey % 15,
    pulse = 60.0 + recordKey % 20,
    at = at,
    source = Source.Device(deviceId = "omron-test-1", model = "M7", recordKey = recordKey.toString()),
)

/** Opens a store in a fresh directory before each test; closes it and deletes it after. */
abstract class StoreTest {
    lateinit var dir: Path
    lateinit var keys: MemoryKeyProvider
    lateinit var nara: Nara

    @Before
    fun openStore() = runBlocking {
        TestPlatform.ensure()
        dir = tempDir()
        keys = MemoryKeyProvider()
        nara = Nara.open(dir.toString(), keys)
    }

    @After
    fun closeStore() {
        nara.closeStore()
        nara.close()
        dir.deleteTree()
    }
}

/** Blood pressure at 08:00 and 20:00 (±90 min) in Stockholm, from today, for 7 days. */
fun twiceDaily(id: String): MeasurementSchedule {
    val today = java.time.LocalDate.now(java.time.ZoneId.of("Europe/Stockholm"))
    return MeasurementSchedule(
        id = id,
        kind = ReadingKind.BLOOD_PRESSURE,
        times = listOf(LocalTime(8u, 0u), LocalTime(20u, 0u)),
        windowMinutes = 90u,
        start = LocalDate(today.year.toShort(), today.monthValue.toUByte(), today.dayOfMonth.toUByte()),
        days = 7u,
        timeZone = "Europe/Stockholm",
    )
}
