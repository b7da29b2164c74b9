package se.nara.tests

import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import se.nara.links
import se.nara.plainText
import se.nara.watchContentAsFlow
import uniffi.nara.Block
import uniffi.nara.ContentException
import uniffi.nara.ContentLanguage
import uniffi.nara.DebugArticleImage
import uniffi.nara.Inline
import uniffi.nara.LinkTarget

/** A library article with a script, a `javascript:` link, a `tel:` link and an image. */
private const val LIBRARY_SV = "# Motion\n\nRör dig varje dag.<script>alert('x')</script>\n\n" +
    "[Klicka här](javascript:alert(1)) eller ring [1177](tel:1177).\n\n" +
    "![Promenad](nara:image/walk)\n"

/** The assigned article, in Swedish only. */
private const val ASSIGNED_SV = "# Om hälsa\n\nDin hälsa och ditt blodtryck hänger ihop. Mät **varje morgon**.\n"

/** The self-care content area from Kotlin: list, read, search and the list as a Flow. */
class ContentTest : StoreTest() {

    private suspend fun provision() {
        val content = nara.content()
        val png = byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte(), 1, 2)
        assertTrue(
            content.debugStoreArticle(
                "motion", ContentLanguage.SV, 1u, "Motion", "Rör dig varje dag", LIBRARY_SV,
                listOf("motion"), listOf(DebugArticleImage("walk", "image/png", png)),
            ),
        )
        assertTrue(
            content.debugStoreArticle(
                "halsa", ContentLanguage.SV, 1u, "Om hälsa", "Hälsa och blodtryck", ASSIGNED_SV,
                listOf("advice:bp-red"), emptyList(),
            ),
        )
        content.debugSetAssigned(listOf("halsa"))
    }

    @Test
    fun theListShowsAssignedArticlesFirstAndFlagsTheFallback() = runBlocking<Unit> {
        provision()
        val list = nara.content().list(ContentLanguage.EN)
        assertEquals(listOf("halsa", "motion"), list.map { it.id })
        assertTrue(list[0].assigned)
        assertFalse(list[1].assigned)
        assertTrue("Swedish only, asked for English", list.all { it.fellBack })
        assertTrue(list.all { it.language == ContentLanguage.SV && it.availableOffline })
    }

    @Test
    fun readingReturnsASanitisedDocument() = runBlocking<Unit> {
        provision()
        val content = nara.content()
        val article = assertNotNull(content.read("motion", ContentLanguage.SV))
        assertFalse(article.fellBack)
        assertTrue(article.availableOffline)
        val blocks = article.document.blocks
        assertEquals(1.toUByte(), (blocks.first() as Block.Heading).level)
        val text = article.document.plainText()
        assertFalse(text, text.contains("alert('x')"))
        assertFalse(text, text.contains("<script"))
        assertTrue(text, text.contains("Klicka här"))
        assertEquals(listOf<LinkTarget>(LinkTarget.Phone("1177")), article.document.links())
        val image = blocks.filterIsInstance<Block.Image>().single()
        assertEquals("walk", image.imageId)
        assertEquals("Promenad", image.alt)
        val bytes = assertNotNull(content.image("walk"))
        assertEquals("image/png", bytes.contentType)

        val fallback = assertNotNull(content.read("halsa", ContentLanguage.EN))
        assertTrue(fallback.fellBack)
        assertEquals(ContentLanguage.SV, fallback.meta.language)
        val strong = fallback.document.blocks.filterIsInstance<Block.Paragraph>()
            .flatMap { it.inlines }.filterIsInstance<Inline.Strong>()
        assertEquals("varje morgon", strong.single().inlines.plainText())

        assertNull(content.read("missing", ContentLanguage.SV))
        assertFailsWith<ContentException.InvalidArticleId> { content.read("no/such id", ContentLanguage.SV) }

        // A nara:advice/… link resolves through the core (the broader code answers).
        assertEquals("halsa", content.adviceArticleForCode("bp-red-high", ContentLanguage.SV)?.id)
        assertFailsWith<ContentException.InvalidAdviceCode> {
            content.adviceArticleForCode("Not A Code", ContentLanguage.SV)
        }
    }

    @Test
    fun searchFoldsAccentsAndHighlightsTheMatch() = runBlocking<Unit> {
        provision()
        val hits = nara.content().search("halsa", ContentLanguage.EN, 10u)
        val hit = hits.single()
        assertEquals("halsa", hit.id)
        assertTrue(hit.fellBack)
        assertTrue(hit.snippet.toString(), hit.snippet.any { it.highlighted && it.text.contains("hälsa") })
    }

    @Test
    fun theContentFlowFollowsChanges() = runBlocking<Unit> {
        withTimeout(10_000) {
            val lists = Channel<List<String>>(Channel.UNLIMITED)
            val job = launch(Dispatchers.Default) {
                nara.content().watchContentAsFlow(ContentLanguage.SV).collect { list -> lists.send(list.map { it.id }) }
            }
            assertEquals(emptyList<String>(), lists.receive())
            provision()
            var latest = lists.receive()
            while (latest != listOf("halsa", "motion")) latest = lists.receive()
            job.cancel()
        }
    }
}
