package se.nara

import java.time.Instant
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.ProducerScope
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import uniffi.nara.FormAnswer
import uniffi.nara.FormItem
import uniffi.nara.FormItemAnswers
import uniffi.nara.FormSession
import uniffi.nara.GivenNoticeAnswer
import uniffi.nara.Notice
import uniffi.nara.NoticeAnswer
import uniffi.nara.Notices
import uniffi.nara.NoticesListener
import uniffi.nara.StopReason
import uniffi.nara.TimeWindow

// Flows and helpers over the notices area: the notice list as a Flow, answers built
// with named helpers, and form answers kept as a map by linkId. Platform-neutral (no
// android.*): the JVM binding tests compile this file as it is.
//
// A cancel reason, reschedule wishes and form answers are patient data: these helpers
// hand them to the core only; nothing here logs them.

/**
 * The notice list as a cold [Flow]: the current list first, then the new list after
 * every change to a notice or its form (a sync, an opening, an answer, a draft saved or
 * a form submitted). Upcoming notices come first, soonest first.
 *
 * Conflated: a slow collector skips intermediate lists and always gets the newest.
 * Completes when the store is closed or wiped; fails with [NaraListenerFailedException]
 * if reading the store failed. Collecting on a closed store throws `NoticeException.Closed`.
 */
fun Notices.watchNoticesAsFlow(): Flow<List<Notice>> = callbackFlow {
    val handle = watchNotices(object : NoticesListener {
        override fun onNotices(notices: List<Notice>) {
            trySend(notices)
        }

        override fun onStopped(reason: StopReason) {
            when (reason) {
                is StopReason.Failed -> close(NaraListenerFailedException(reason.detail))
                else -> close()
            }
        }
    })
    awaitNoticesCancelled(handle)
}.buffer(Channel.CONFLATED)

/** "I will come." Throws `NoticeException` naming the rule if the answer is refused. */
suspend fun Notices.confirm(noticeId: String): GivenNoticeAnswer = answer(noticeId, NoticeAnswer.Confirm)

/**
 * "I will not come", with an optional [reason]. Only before the clinic's cut-off: later
 * it throws `NoticeException.PastCutoff` with the clinic's `phone` and an `explanation`.
 */
suspend fun Notices.cancel(noticeId: String, reason: String = ""): GivenNoticeAnswer =
    answer(noticeId, NoticeAnswer.Cancel(reason))

/**
 * "Please give me another time": [wishes] as free text and/or preferred [windows]
 * (start to end). Only before the clinic's cut-off, like [cancel].
 */
suspend fun Notices.reschedule(
    noticeId: String,
    wishes: String = "",
    windows: List<Pair<Instant, Instant>> = emptyList(),
): GivenNoticeAnswer = answer(
    noticeId,
    NoticeAnswer.Reschedule(wishes, windows.map { (start, end) -> TimeWindow(start, end) }),
)

/** Every item of the form, depth first in display order (groups before their children). */
fun List<FormItem>.allItems(): List<FormItem> = flatMap { listOf(it) + it.children.allItems() }

/** The item [linkId] anywhere in the form, or null. */
fun FormSession.item(linkId: String): FormItem? = form.items.allItems().firstOrNull { it.linkId == linkId }

/** Whether item [linkId] is shown now (the core evaluated its enableWhen). */
fun FormSession.isEnabled(linkId: String): Boolean = linkId in enabled

/** The answers so far, by linkId. */
fun FormSession.answerMap(): Map<String, List<FormAnswer>> = answers.associate { it.linkId to it.values }

/** The answers as the core takes them (an empty list clears an item). */
fun Map<String, List<FormAnswer>>.toItemAnswers(): List<FormItemAnswers> =
    map { (linkId, values) -> FormItemAnswers(linkId, values) }

/**
 * This session's answers with item [linkId] set to [values] (none: cleared), ready for
 * [Notices.saveDraft]. Answers of items that become hidden are kept and ignored by the
 * core.
 */
fun FormSession.answersWith(linkId: String, vararg values: FormAnswer): List<FormItemAnswers> =
    (answerMap() + (linkId to values.toList())).toItemAnswers()

/**
 * Saves [answers] (by linkId, replacing the draft) and returns the session with what to
 * show and what is wrong now.
 */
suspend fun Notices.saveDraft(
    questionnaireId: String,
    noticeId: String?,
    answers: Map<String, List<FormAnswer>>,
): FormSession = saveDraft(questionnaireId, noticeId, answers.toItemAnswers())

/** Suspends until the flow ends, then stops the core's task and frees its handle. */
private suspend fun ProducerScope<*>.awaitNoticesCancelled(handle: uniffi.nara.TaskHandle) {
    awaitClose {
        handle.cancel()
        handle.close()
    }
}
