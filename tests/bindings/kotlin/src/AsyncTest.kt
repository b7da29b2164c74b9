package se.nara.tests

import java.util.concurrent.atomic.AtomicLong
import kotlin.test.assertFailsWith
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import uniffi.nara.PlatformException
import uniffi.nara.RuntimeMode
import uniffi.nara.initPlatform
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import uniffi.nara.ImportProgress
import uniffi.nara.LogLevel
import uniffi.nara.NaraException

/** Suspend calls, concurrency, cancellation and panics across the boundary. */
class AsyncTest : StoreTest() {

    @Test
    fun concurrentSuspendCallsAllComplete() = runBlocking(Dispatchers.Default) {
        val readings = nara.readings()
        val added = (1..40).map { i ->
            async { readings.add(bloodPressure(110.0 + i, 75.0, at = minutesAgo(i.toLong()))) }
        }.awaitAll()
        assertEquals(40, added.map { it.id }.toSet().size)
        assertEquals(40uL, readings.count())
    }

    @Test
    fun importReportsProgressUpToTheTotal() = runBlocking {
        val last = AtomicLong(-1)
        val total = AtomicLong(-1)
        val batch = (1..3_000).map { deviceReading(it, minutesAgo(it.toLong())) }
        val report = nara.readings().importReadings(batch, object : ImportProgress {
            override fun onProgress(done: ULong, total_: ULong) {
                last.set(done.toLong())
                total.set(total_.toLong())
            }
        })
        assertEquals(3_000uL, report.inserted)
        assertEquals(3_000L, last.get())
        assertEquals(3_000L, total.get())
    }

    /**
     * Cancelling the coroutine that awaits an import never leaves half a batch: at every
     * moment the batch is stored entirely or not at all, and importing it again completes
     * it. Tried with several cancellation delays so that some land before the core starts
     * and some while it writes.
     */
    @Test
    fun cancellingAnImportCommitsAllOrNothing() = runBlocking(Dispatchers.Default) {
        val n = 20_000
        val readings = nara.readings()
        var before = 0uL
        for ((attempt, wait) in listOf(1L, 15L, 60L, 150L).withIndex()) {
            val batch = (1..n).map { deviceReading(attempt * n + it, minutesAgo(it.toLong() + attempt)) }
            val job = launch { readings.importReadings(batch, null) }
            delay(wait)
            job.cancel()
            job.join()

            // Watch the count while the cancelled import may still be running in the core.
            val seen = mutableSetOf<ULong>()
            repeat(20) {
                seen += readings.count()
                delay(25)
            }
            val whole = before + n.toULong()
            assertTrue("after cancelling at ${wait}ms, counts seen: $seen", seen.all { it == before || it == whole })

            // Importing again completes the batch: what is already there is a duplicate.
            val report = readings.importReadings(batch, null)
            assertEquals(n.toULong(), report.inserted + report.duplicates)
            assertTrue("report: $report", report.inserted == 0uL || report.inserted == n.toULong())
            println("       cancel at ${wait}ms: counts seen ${seen.map { it - before }}, re-import inserted ${report.inserted}")
            assertEquals(whole, readings.count())
            before = whole
        }
        assertTrue(nara.integrityOk())
    }

    @Test
    fun cancellingAReadDoesNotBreakTheStore() = runBlocking(Dispatchers.Default) {
        val readings = nara.readings()
        readings.importReadings((1..2_000).map { deviceReading(it, minutesAgo(it.toLong())) }, null)
        repeat(20) {
            val job = launch { readings.list(uniffi.nara.ReadingFilter()) }
            delay(1)
            job.cancel()
        }
        assertEquals(2_000, readings.list(uniffi.nara.ReadingFilter()).size)
        assertTrue(nara.integrityOk())
    }

    @Test
    fun aPanicInTheCoreIsAnInternalErrorAndTheStoreStillWorks() = runBlocking {
        nara.readings().add(bloodPressure(120.0, 80.0))
        val e = assertFailsWith<NaraException.Internal> { nara.debugPanic() }
        val message = e.message ?: ""
        assertTrue(message, message.contains("internal", ignoreCase = true))
        // The core logs where it panicked (through the Kotlin LogSink), never the payload.
        val logged = withTimeout(5_000) {
            var line: LogLine? = null
            while (line == null) {
                line = TestPlatform.lines.firstOrNull { it.target == "nara::panic" }
                if (line == null) delay(10)
            }
            line
        }
        assertEquals(LogLevel.ERROR, logged.level)
        assertFalse(logged.message, logged.message.contains("deliberate"))
        // Again: the hook panics every time, and the runtime survives each one.
        assertFailsWith<NaraException.Internal> { nara.debugPanic() }
        assertEquals(1uL, nara.readings().count())
        nara.readings().add(bloodPressure(121.0, 80.0))
        assertEquals(2uL, nara.readings().count())
        assertTrue(nara.integrityOk())
    }

    @Test
    fun initPlatformTwiceIsAlreadyInitialized() {
        assertFailsWith<PlatformException.AlreadyInitialized> {
            // Same level and sink: a second call still applies its log settings.
            initPlatform(RuntimeMode.LIGHT, TestPlatform.LEVEL, TestPlatform.sink)
        }
    }
}
