package se.nara

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import uniffi.nara.ArticleSummary
import uniffi.nara.Block
import uniffi.nara.Content
import uniffi.nara.ContentLanguage
import uniffi.nara.ContentListener
import uniffi.nara.Document
import uniffi.nara.Inline
import uniffi.nara.LinkTarget
import uniffi.nara.StopReason

// Flows and helpers over the self-care content area: the article list as a Flow, and
// walks over the sanitised document the core returns (its text for accessibility, its
// links). Platform-neutral (no android.*): the JVM binding tests compile this file as
// it is. The document is rendered natively; nothing here turns it into HTML.

/**
 * The article list in [preferred] as a cold [Flow]: the current list first, then the
 * new list after every change to the content (a sync, an eviction, a new assignment).
 * Assigned articles come first, then the library by title; an article missing in
 * [preferred] is listed in Swedish with `fellBack` set.
 *
 * Conflated: a slow collector skips intermediate lists and always gets the newest.
 * Completes when the store is closed or wiped; fails with [NaraListenerFailedException]
 * if reading the store failed. Collecting on a closed store throws `ContentException.Closed`.
 */
fun Content.watchContentAsFlow(preferred: ContentLanguage): Flow<List<ArticleSummary>> = callbackFlow {
    val handle = watchContent(preferred, object : ContentListener {
        override fun onArticles(articles: List<ArticleSummary>) {
            trySend(articles)
        }

        override fun onStopped(reason: StopReason) {
            when (reason) {
                is StopReason.Failed -> close(NaraListenerFailedException(reason.detail))
                else -> close()
            }
        }
    })
    awaitClose {
        handle.cancel()
        handle.close()
    }
}.buffer(Channel.CONFLATED)

/** The text of these inlines as read aloud: link texts included, line breaks as `\n`. */
@JvmName("inlinesPlainText")
fun List<Inline>.plainText(): String = joinToString("") { inline ->
    when (inline) {
        is Inline.Text -> inline.text
        is Inline.Emphasis -> inline.inlines.plainText()
        is Inline.Strong -> inline.inlines.plainText()
        is Inline.Link -> inline.inlines.plainText()
        Inline.LineBreak -> "\n"
    }
}

/** The block's text (one line per paragraph, heading, list item paragraph and image alt). */
fun Block.plainText(): String = when (this) {
    is Block.Heading -> inlines.plainText()
    is Block.Paragraph -> inlines.plainText()
    is Block.BulletList -> items.joinToString("\n") { item -> item.blocks.plainText() }
    is Block.OrderedList -> items.joinToString("\n") { item -> item.blocks.plainText() }
    is Block.Quote -> blocks.plainText()
    is Block.Image -> alt
    Block.Rule -> ""
}

/** The blocks' text, one line per block (empty blocks skipped). */
@JvmName("blocksPlainText")
fun List<Block>.plainText(): String = map { it.plainText() }.filter { it.isNotEmpty() }.joinToString("\n")

/** The document's text, e.g. for a share sheet or a test. */
fun Document.plainText(): String = blocks.plainText()

/** Every link target in these inlines, in reading order. */
@JvmName("inlinesLinks")
fun List<Inline>.links(): List<LinkTarget> = flatMap { inline ->
    when (inline) {
        is Inline.Link -> listOf(inline.target) + inline.inlines.links()
        is Inline.Emphasis -> inline.inlines.links()
        is Inline.Strong -> inline.inlines.links()
        else -> emptyList()
    }
}

/** Every link target in these blocks, in reading order. */
@JvmName("blocksLinks")
fun List<Block>.links(): List<LinkTarget> = flatMap { block ->
    when (block) {
        is Block.Heading -> block.inlines.links()
        is Block.Paragraph -> block.inlines.links()
        is Block.BulletList -> block.items.flatMap { it.blocks.links() }
        is Block.OrderedList -> block.items.flatMap { it.blocks.links() }
        is Block.Quote -> block.blocks.links()
        else -> emptyList()
    }
}

/** Every link target in the document, in reading order. */
fun Document.links(): List<LinkTarget> = blocks.links()
