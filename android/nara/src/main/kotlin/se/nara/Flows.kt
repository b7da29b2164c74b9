package se.nara

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.ProducerScope
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import uniffi.nara.Change
import uniffi.nara.ChangeListener
import uniffi.nara.Nara
import uniffi.nara.Reading
import uniffi.nara.ReadingFilter
import uniffi.nara.Readings
import uniffi.nara.ReadingsListener
import uniffi.nara.StopReason
import uniffi.nara.TaskHandle

// Flows over the core's listener interfaces. Platform-neutral (no android.*): the JVM
// binding tests compile this file as it is.
//
// The core calls listeners on its own threads; each flow only hands the value to its
// channel (never blocks the core) and cancels the core's task when the collector goes
// away, so nothing keeps running after the collecting coroutine ends.

/**
 * A listener stopped because reading the store failed. The message names what failed,
 * never patient data.
 */
class NaraListenerFailedException(message: String) : Exception(message)

/**
 * Every change to the store, in order, as a cold [Flow]: collecting subscribes, and
 * cancelling the collector cancels the subscription.
 *
 * Events name what changed (ids, kinds, bands), never values; read what you need. If
 * the collector falls far behind, the core sends [Change.Lagged]: re-read the state.
 * The flow completes when the store is closed or wiped, and fails with
 * [NaraListenerFailedException] if the core could not go on. Subscribing to a closed
 * store throws `NaraException.Closed`.
 */
fun Nara.changes(): Flow<Change> = callbackFlow {
    val handle = subscribe(object : ChangeListener {
        override fun onChange(change: Change) {
            trySend(change)
        }

        override fun onStopped(reason: StopReason) {
            stop(reason)
        }
    })
    awaitCancelled(handle)
}.buffer(Channel.UNLIMITED)

/**
 * The readings matching [filter], newest first, as a cold [Flow]: the current list
 * first, then the new list after every change that can alter it.
 *
 * Conflated: a slow collector skips intermediate lists and always gets the newest, which
 * is what a screen wants. Completes when the store is closed or wiped.
 */
fun Readings.watchAsFlow(filter: ReadingFilter = ReadingFilter()): Flow<List<Reading>> = callbackFlow {
    val handle = watch(filter, object : ReadingsListener {
        override fun onReadings(readings: List<Reading>) {
            trySend(readings)
        }

        override fun onStopped(reason: StopReason) {
            stop(reason)
        }
    })
    awaitCancelled(handle)
}.buffer(Channel.CONFLATED)

private fun ProducerScope<*>.stop(reason: StopReason) {
    when (reason) {
        is StopReason.Failed -> close(NaraListenerFailedException(reason.detail))
        else -> close()
    }
}

/** Suspends until the flow ends, then stops the core's task and frees its handle. */
private suspend fun ProducerScope<*>.awaitCancelled(handle: TaskHandle) {
    awaitClose {
        handle.cancel()
        handle.close()
    }
}
