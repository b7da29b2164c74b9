package se.nara.tests

import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.ReceiveChannel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import kotlin.test.assertFailsWith
import uniffi.nara.NaraException
import uniffi.nara.ReadingException
import se.nara.changes
import se.nara.watchAsFlow
import uniffi.nara.Band
import uniffi.nara.Change
import uniffi.nara.ChangeListener
import uniffi.nara.Reading
import uniffi.nara.ReadingFilter
import uniffi.nara.ReadingKind
import uniffi.nara.StopReason

/** Collects [flow] into a channel from now on; returns once the collector has subscribed. */
private suspend fun <T> CoroutineScope.collectInto(flow: Flow<T>): Pair<Job, ReceiveChannel<T>> {
    val channel = Channel<T>(Channel.UNLIMITED)
    val job = launch(Dispatchers.Unconfined) { flow.collect { channel.send(it) } }
    repeat(5) { yield() }
    return job to channel
}

/** Live updates through the facade's Flows over the listener interfaces. */
class FlowTest : StoreTest() {

    @Test
    fun watchGivesTheCurrentListFirstThenTheNewReading() = runBlocking {
        val readings = nara.readings()
        val first = readings.add(bloodPressure(121.0, 79.0, at = minutesAgo(60)))
        withTimeout(10_000) {
            val (job, updates) = collectInto(
                readings.watchAsFlow(ReadingFilter(kind = ReadingKind.BLOOD_PRESSURE)),
            )
            assertEquals(listOf(first.id), updates.receive().map { it.id })

            val second = readings.add(bloodPressure(186.0, 96.0, at = minutesAgo(1)))
            var latest: List<Reading> = updates.receive()
            while (latest.size < 2) latest = updates.receive()
            assertEquals(listOf(second.id, first.id), latest.map { it.id })
            assertEquals(Band.RED, latest.first().triage.band)
            job.cancel()
        }
    }

    @Test
    fun watchFilterLeavesOtherKindsOut() = runBlocking {
        val readings = nara.readings()
        withTimeout(10_000) {
            val (job, updates) = collectInto(
                readings.watchAsFlow(ReadingFilter(kind = ReadingKind.BODY_WEIGHT)),
            )
            assertEquals(emptyList<Reading>(), updates.receive())
            readings.add(bloodPressure(120.0, 80.0))
            val w = readings.add(weight(81.5))
            var latest = updates.receive()
            while (latest.isEmpty()) latest = updates.receive()
            assertEquals(listOf(w.id), latest.map { it.id })
            job.cancel()
        }
    }

    @Test
    fun changesFlowNamesTheAddedReadingAndItsBand() = runBlocking {
        withTimeout(10_000) {
            val (job, changes) = collectInto(nara.changes())
            val added = nara.readings().add(bloodPressure(186.0, 96.0))
            var change = changes.receive()
            while (change !is Change.ReadingAdded) change = changes.receive()
            assertEquals(added.id, change.id)
            assertEquals(ReadingKind.BLOOD_PRESSURE, change.kind)
            assertEquals(Band.RED, change.band)

            nara.readings().importReadings((1..3).map { deviceReading(it, minutesAgo(it * 7L)) }, null)
            var imported = changes.receive()
            while (imported !is Change.ReadingsImported) imported = changes.receive()
            assertEquals(3uL, imported.count)
            job.cancel()
        }
    }

    @Test
    fun cancelledHandleStopsTheListener() = runBlocking {
        val seen = CopyOnWriteArrayList<Change>()
        val stopped = CopyOnWriteArrayList<StopReason>()
        val handle = nara.subscribe(object : ChangeListener {
            override fun onChange(change: Change) {
                seen += change
            }

            override fun onStopped(reason: StopReason) {
                stopped += reason
            }
        })
        nara.readings().add(bloodPressure(120.0, 80.0))
        withTimeout(10_000) { while (seen.isEmpty()) delay(10) }
        handle.cancel()
        withTimeout(10_000) { while (!handle.isFinished()) delay(10) }
        val before = seen.size
        nara.readings().add(bloodPressure(121.0, 80.0))
        delay(300)
        assertEquals(before, seen.size)
        assertTrue(handle.isFinished())
        handle.close()
    }

    @Test
    fun flowsCompleteWhenTheStoreClosesAndFailWhenItIsClosed() = runBlocking<Unit> {
        withTimeout(10_000) {
            val lists = async(Dispatchers.Unconfined) { nara.readings().watchAsFlow().toList() }
            val changes = async(Dispatchers.Unconfined) { nara.changes().toList() }
            repeat(5) { yield() }
            val added = nara.readings().add(bloodPressure(120.0, 80.0))
            // Let the add reach both listeners, then close: both flows end by themselves.
            while (lists.isActive && nara.readings().count() == 0uL) delay(10)
            delay(200)
            nara.closeStore()
            val seenLists = lists.await()
            assertEquals(emptyList<Reading>(), seenLists.first())
            assertEquals(listOf(added.id), seenLists.last().map { it.id })
            assertTrue(changes.await().any { it is Change.ReadingAdded && it.id == added.id })
        }
        // Collecting on a closed store fails at once with the area's Closed error.
        assertFailsWith<NaraException.Closed> { nara.changes().first() }
        assertFailsWith<ReadingException.Closed> { nara.readings().watchAsFlow().first() }
    }
}
