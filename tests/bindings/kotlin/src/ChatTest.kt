package se.nara.tests

import java.io.File
import java.time.Instant
import java.util.concurrent.TimeUnit
import kotlin.test.assertFailsWith
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import se.nara.localized
import se.nara.pages
import se.nara.send
import se.nara.watchThreadAsFlow
import se.nara.watchThreadsAsFlow
import uniffi.nara.Author
import uniffi.nara.ChatException
import uniffi.nara.ChatThread
import uniffi.nara.DeliveryState
import uniffi.nara.LocalizedText
import uniffi.nara.NewChatPhoto
import uniffi.nara.ThreadClosure
import uniffi.nara.TransportConfig
import uniffi.nara.chatLimits
import se.nara.login

/** A 1×1 PNG, a complete file. */
val PNG_1X1: ByteArray = intArrayOf(
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
).map { it.toByte() }.toByteArray()

/** A small JPEG (one 1×1 scan) with [marker] in its scan data and a comment (metadata). */
fun tinyJpeg(marker: String, comment: String? = null): ByteArray {
    val out = java.io.ByteArrayOutputStream()
    fun bytes(vararg b: Int) = b.forEach { out.write(it) }
    bytes(0xFF, 0xD8, 0xFF, 0xE0, 0, 16)
    out.write("JFIF".toByteArray()); bytes(0, 1, 1, 0, 0, 1, 0, 1, 0, 0)
    if (comment != null) {
        val c = comment.toByteArray()
        bytes(0xFF, 0xFE, (c.size + 2) shr 8, (c.size + 2) and 0xFF)
        out.write(c)
    }
    bytes(0xFF, 0xDB, 0, 67, 0); repeat(64) { out.write(1) }
    bytes(0xFF, 0xC0, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0)
    bytes(0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0)
    out.write(marker.toByteArray())
    bytes(0xFF, 0xD9)
    return out.toByteArray()
}

fun ByteArray.contains(needle: ByteArray): Boolean =
    (0..size - needle.size).any { i -> needle.indices.all { this[i + it] == needle[it] } }

fun chatThread(id: String, closed: ThreadClosure? = null) = ChatThread(
    id = id,
    title = "Frågor om blodtryck",
    unitName = "Hjärtmottagningen Luleå",
    expectedReply = LocalizedText("Vi svarar inom två vardagar.", "We reply within two working days."),
    notice = LocalizedText("Ring 112 vid nödsituation.", "Call 112 in an emergency."),
    closed = closed,
    updatedAt = minutesAgo(if (closed == null) 60 else 1),
)

/** The care team simulator, `tests/region/nurse`, against the test region. */
object Nurse {
    private val script: File by lazy {
        val starts = listOfNotNull(
            File(System.getProperty("user.dir")),
            System.getProperty("nara.test.tmp")?.let { File(it) },
        )
        starts.flatMap { generateSequence(it.absoluteFile) { f -> f.parentFile }.toList() }
            .map { File(it, "tests/region/nurse") }
            .firstOrNull { it.canExecute() }
            ?: error("tests/region/nurse not found above ${starts.joinToString()}")
    }

    fun run(vararg args: String): String {
        val process = ProcessBuilder(listOf(script.path) + args)
            .redirectErrorStream(true)
            .apply { environment()["NARA_FHIR_DIRECT_URL"] = TestRegion.fhirDirectUrl }
            .start()
        val output = process.inputStream.bufferedReader().readText()
        check(process.waitFor(60, TimeUnit.SECONDS)) { "nurse ${args.first()} did not finish" }
        check(process.exitValue() == 0) { "nurse ${args.toList()} failed: $output" }
        return output
    }
}

/** Chat through the facade: offline stories, then the round trip with the test region. */
class ChatTest : StoreTest() {

    private suspend fun provision(id: String) {
        assertTrue(nara.chat().debugUpsertThread(chatThread(id)))
    }

    @Test
    fun aMessageWithPhotosIsStoredOfflineQueuedAndStripped() = runBlocking<Unit> {
        val chat = nara.chat()
        provision("t-1")
        val listed = chat.threads()
        assertEquals(listOf("t-1"), listed.map { it.thread.id })
        assertEquals("Hjärtmottagningen Luleå", listed[0].thread.unitName)
        assertNotNull(listed[0].thread.notice)
        assertNull(listed[0].thread.closed)

        val sent = chat.send(
            "t-1",
            "  Här är mätaren.\n",
            photos = listOf(
                NewChatPhoto("image/jpeg", tinyJpeg("SCAN", comment = "GPS-SECRET")),
                NewChatPhoto("image/png", PNG_1X1),
            ),
        )
        assertEquals("Här är mätaren.", sent.text)
        assertEquals(Author.PATIENT, sent.author)
        assertEquals(DeliveryState.QUEUED, sent.delivery)
        assertEquals("Väntar på nätverk", sent.deliveryLabel?.sv)
        assertEquals(listOf("image/jpeg", "image/png"), sent.photos.map { it.contentType })
        assertTrue(sent.photos.all { it.local })

        val jpeg = chat.photo(sent.photos[0].id)!!
        assertTrue("the picture is kept", jpeg.contains("SCAN".toByteArray()))
        assertFalse("metadata stripped", jpeg.contains("GPS-SECRET".toByteArray()))
        assertArrayEquals(PNG_1X1, chat.photo(sent.photos[1].id))
        val pending = chat.pending()
        assertEquals(1uL, pending.messages)
        assertEquals(2uL, pending.photos)
        assertEquals("Här är mätaren.", chat.threads()[0].lastPreview)
    }

    @Test
    fun pagesGoNewestFirstAndTheCursorLeadsBack() = runBlocking<Unit> {
        val chat = nara.chat()
        provision("t-2")
        val ids = (1..5).map { chat.send("t-2", "meddelande $it").id }
        val pages = chat.pages("t-2", pageSize = 2u).toList()
        assertEquals(listOf(2, 2, 1), pages.map { it.messages.size })
        assertEquals(ids.reversed(), pages.flatMap { it.messages }.map { it.id })
        assertNull(pages.last().nextCursor)
        val second = chat.page("t-2", pages[0].nextCursor, 2u)
        assertEquals(pages[1].messages.map { it.id }, second.messages.map { it.id })
        assertEquals(1, chat.pages("t-2", 2u).take(1).toList().size)
        assertFailsWith<ChatException.InvalidCursor> { chat.page("t-2", "not a cursor", 2u) }
    }

    @Test
    fun badMessagesGetTypedErrorsWithExplanationsAndNoText() = runBlocking<Unit> {
        val chat = nara.chat()
        provision("t-3")
        val limits = chatLimits()

        val empty = assertFailsWith<ChatException.Empty> { chat.send("t-3", "   ") }
        assertEquals("The message is empty", empty.explanation.en)

        val secret = "HEMLIGT " + "å".repeat(limits.maxChars.toInt())
        val long = assertFailsWith<ChatException.TooLong> { chat.send("t-3", secret) }
        assertEquals(limits.maxChars, long.max)
        assertFalse("no text in the error", "${long.message} $long".contains("HEMLIGT"))
        assertTrue(long.explanation.localized(java.util.Locale("sv", "SE")).contains("tecken"))

        val big = PNG_1X1.copyOf(limits.maxPhotoBytes.toInt() + 1)
        val large = assertFailsWith<ChatException.PhotoTooLarge> {
            chat.send("t-3", "stor", photos = listOf(NewChatPhoto("image/jpeg", tinyJpeg("ok")), NewChatPhoto("image/png", big)))
        }
        assertEquals(1uL, large.index)
        assertEquals(10uL, large.maxMb)

        val gif = assertFailsWith<ChatException.UnsupportedPhoto> {
            chat.send("t-3", "", photos = listOf(NewChatPhoto("image/gif", "GIF89a....".toByteArray())))
        }
        assertEquals(0uL, gif.index)
        assertFailsWith<ChatException.TooManyPhotos> {
            chat.send("t-3", "bilder", photos = List(limits.maxPhotos.toInt() + 1) { NewChatPhoto("image/jpeg", tinyJpeg("x")) })
        }
        assertFailsWith<ChatException.NoSuchThread> { chat.send("no-such-thread", "hej") }

        val reason = LocalizedText("Ärendet är avslutat.", "The matter is closed.")
        chat.debugUpsertThread(chatThread("t-3", closed = ThreadClosure(Instant.now(), reason)))
        val closed = assertFailsWith<ChatException.ThreadClosed> { chat.send("t-3", "en fråga till") }
        assertEquals(reason, closed.reason)
        assertTrue(closed.explanation.sv.contains("1177"))
        assertNotNull(chat.thread("t-3")?.closed)

        assertTrue(chat.page("t-3", null, 50u).messages.isEmpty())
        assertEquals(0uL, nara.pendingUploads())
    }

    @Test
    fun unreadCountsFallWhenTheReplyIsMarkedRead() = runBlocking<Unit> {
        val chat = nara.chat()
        provision("t-4")
        chat.send("t-4", "Hej!")
        val reply = chat.debugReceive("t-4", "unit-msg-1", "Hej, vi ringer dig.")
        assertTrue(reply.unread)
        assertEquals(1uL, chat.unread("t-4"))
        assertEquals(1uL, chat.unreadTotal())
        assertFailsWith<ChatException.NoSuchMessage> { chat.markRead("t-4", "no-such-message") }
        assertEquals(1uL, chat.markRead("t-4", reply.id))
        assertEquals(0uL, chat.unreadTotal())
        assertEquals(1uL, chat.pending().receipts)
    }

    @Test
    fun flowsEmitNowAndAfterASend() = runBlocking<Unit>(Dispatchers.Default) {
        val chat = nara.chat()
        provision("t-5")
        withTimeout(10_000) {
            assertEquals(listOf("t-5"), chat.watchThreadsAsFlow().first().map { it.thread.id })
            assertTrue(chat.watchThreadAsFlow("t-5").first().messages.isEmpty())
            val pages = kotlinx.coroutines.channels.Channel<List<String>>(kotlinx.coroutines.channels.Channel.UNLIMITED)
            val job = launch { chat.watchThreadAsFlow("t-5", 10u).collect { pages.send(it.messages.map { m -> m.id }) } }
            assertEquals(emptyList<String>(), pages.receive())
            val sent = chat.send("t-5", "Hej från Kotlin")
            var latest = pages.receive()
            while (latest.isEmpty()) latest = pages.receive()
            assertEquals(listOf(sent.id), latest)
            val list = chat.watchThreadsAsFlow().first { it.firstOrNull()?.lastPreview != null }
            assertEquals("Hej från Kotlin", list[0].lastPreview)
            job.cancel()
        }
        nara.closeStore()
        assertFailsWith<ChatException.Closed> { chat.watchThreadsAsFlow().first() }
    }

    /**
     * With the test region: the nurse opens a thread, the patient syncs and writes, the
     * nurse replies and reads, the patient syncs, sees the reply unread, marks it read and
     * sees "read" on their own message; the receipt reaches the region.
     */
    @Test
    fun aMessageSyncsToTheNurseAndHerReplyComesBackUnreadThenRead() = runBlocking<Unit> {
        val patient = TestRegion.patient
        val threadId = "chat-kt-${System.nanoTime().toString(16)}"
        Nurse.run("thread", patient, threadId, "--title", "Frågor om blodtryck", "--unit", "Hjärtmottagningen Luleå")
        val region = nara.region()
        region.setTransport(TransportConfig(allowHttpLoopback = true, spkiSha256Pins = emptyList(), extraRootsDer = emptyList()))
        assertEquals(patient, region.login(TestRegion.fhirUrl, TestRegion.CLIENT_ID, TestRegion.REDIRECT_URI, testBrowser(TestRegion.user)))
        assertTrue(region.syncNow(60_000uL, null).finished)

        val chat = nara.chat()
        val thread = chat.thread(threadId)
        assertNotNull("the thread arrived with the sync", thread)
        assertEquals("Hjärtmottagningen Luleå", thread!!.unitName)
        assertNotNull(thread.notice)

        val mine = chat.send(threadId, "Hej! Blodtrycket var högt i morse.")
        assertEquals(DeliveryState.QUEUED, mine.delivery)
        assertTrue(region.syncNow(60_000uL, null).finished)
        assertEquals(DeliveryState.SENT, chat.message(mine.id)?.delivery)

        Nurse.run("reply", patient, threadId, "Hej, vi ringer dig i eftermiddag.")
        Nurse.run("read", patient, mine.id)
        assertTrue(region.syncNow(60_000uL, null).finished)

        val page = chat.page(threadId, null, 20u)
        val reply = page.messages.first { it.author == Author.CARE_UNIT }
        assertEquals("Hej, vi ringer dig i eftermiddag.", reply.text)
        assertTrue(reply.unread)
        assertEquals(1uL, chat.unread(threadId))
        assertEquals(1uL, chat.threads().first { it.thread.id == threadId }.unread)
        assertEquals(DeliveryState.READ, page.messages.first { it.id == mine.id }.delivery)

        assertEquals(1uL, chat.markRead(threadId, reply.id))
        assertEquals(0uL, chat.unread(threadId))
        assertEquals(DeliveryState.READ, chat.message(mine.id)?.delivery)
        assertTrue(region.syncNow(60_000uL, null).finished)
        assertEquals(0uL, chat.pending().receipts)
        assertTrue(Nurse.run("messages", patient, threadId).lowercase().contains("read"))
    }
}
