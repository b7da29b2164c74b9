package se.nara

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.ProducerScope
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.flow
import uniffi.nara.Chat
import uniffi.nara.ChatMessage
import uniffi.nara.MessagePage
import uniffi.nara.NewChatMessage
import uniffi.nara.NewChatPhoto
import uniffi.nara.StopReason
import uniffi.nara.TaskHandle
import uniffi.nara.ThreadListener
import uniffi.nara.ThreadSummary
import uniffi.nara.ThreadsListener

// Flows over the chat area's listeners, and a paging helper. Platform-neutral (no
// android.*): the JVM binding tests compile this file as it is.
//
// Message texts, previews and photos are patient data: these flows hand them to the
// collector only; nothing here logs them.

/** Newest messages per page of [Chat.watchThreadAsFlow], unless the caller says otherwise. */
const val DEFAULT_CHAT_PAGE: UInt = 50u

/**
 * The thread list as a cold [Flow]: the current list first, then the new list after
 * every change to a thread, a message, an unread count or a read mark. The most recently
 * active thread comes first.
 *
 * Conflated: a slow collector skips intermediate lists and always gets the newest.
 * Completes when the store is closed or wiped; fails with [NaraListenerFailedException]
 * if reading the store failed. Collecting on a closed store throws `ChatException.Closed`.
 */
fun Chat.watchThreadsAsFlow(): Flow<List<ThreadSummary>> = callbackFlow {
    val handle = watchThreads(object : ThreadsListener {
        override fun onThreads(threads: List<ThreadSummary>) {
            trySend(threads)
        }

        override fun onStopped(reason: StopReason) {
            stopChat(reason)
        }
    })
    awaitChatCancelled(handle)
}.buffer(Channel.CONFLATED)

/**
 * The newest [limit] messages of thread [threadId], newest first, as a cold [Flow]: now,
 * then after every change to that thread (a message sent or received, a delivery state,
 * a read mark). Older messages: [pages], or [Chat.page] with the page's `nextCursor`.
 *
 * Conflated like [watchThreadsAsFlow]; completes when the store is closed or wiped.
 */
fun Chat.watchThreadAsFlow(threadId: String, limit: UInt = DEFAULT_CHAT_PAGE): Flow<MessagePage> = callbackFlow {
    val handle = watchThread(threadId, limit, object : ThreadListener {
        override fun onPage(page: MessagePage) {
            trySend(page)
        }

        override fun onStopped(reason: StopReason) {
            stopChat(reason)
        }
    })
    awaitChatCancelled(handle)
}.buffer(Channel.CONFLATED)

/**
 * Every page of thread [threadId], newest first, [pageSize] messages each, following the
 * cursors to the start of the thread. Cold: each page is read when the collector asks
 * for it, so `take(n)` or cancelling stops the reading.
 */
fun Chat.pages(threadId: String, pageSize: UInt = DEFAULT_CHAT_PAGE): Flow<MessagePage> = flow {
    var cursor: String? = null
    do {
        val page = page(threadId, cursor, pageSize)
        emit(page)
        cursor = page.nextCursor
    } while (cursor != null)
}

/**
 * Writes [text] (and [photos]) to the care unit of thread [threadId], offline: stored
 * durably and queued for the next sync. Throws a `ChatException` naming what is wrong
 * (each validation error carries an `explanation` in Swedish and English).
 */
suspend fun Chat.send(
    threadId: String,
    text: String,
    photos: List<NewChatPhoto> = emptyList(),
    inReplyTo: String? = null,
): ChatMessage = send(NewChatMessage(threadId = threadId, text = text, photos = photos, inReplyTo = inReplyTo))

private fun ProducerScope<*>.stopChat(reason: StopReason) {
    when (reason) {
        is StopReason.Failed -> close(NaraListenerFailedException(reason.detail))
        else -> close()
    }
}

/** Suspends until the flow ends, then stops the core's task and frees its handle. */
private suspend fun ProducerScope<*>.awaitChatCancelled(handle: TaskHandle) {
    awaitClose {
        handle.cancel()
        handle.close()
    }
}
