package se.nara.tests

import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.concurrent.atomic.AtomicReference
import kotlin.test.assertFailsWith
import kotlin.time.Duration.Companion.minutes
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test
import se.nara.syncStatus
import se.nara.syncWithin
import se.nara.AuthBrowser
import se.nara.login
import uniffi.nara.BrowserException
import uniffi.nara.NaraException
import uniffi.nara.Region
import uniffi.nara.SyncException
import uniffi.nara.SyncProgress
import uniffi.nara.SyncProgressListener
import uniffi.nara.TransportConfig
import uniffi.nara.testLoginBrowser

/**
 * The test region started by `run` (`tests/region/up`), passed in as system properties.
 * A test that needs it fails with the reason when it did not start.
 */
object TestRegion {
    private fun prop(name: String): String =
        System.getProperty(name)?.takeIf { it.isNotEmpty() }
            ?: error("no test region: $name is not set (${System.getProperty("nara.region.error") ?: "run starts it with tests/region/up"})")

    val fhirUrl get() = prop("nara.fhir.url")
    val fhirDirectUrl get() = prop("nara.fhir.direct.url")
    val user get() = prop("nara.test.user")
    val patient get() = prop("nara.test.patient")

    const val CLIENT_ID = "nara-app"
    const val REDIRECT_URI = "http://127.0.0.1/callback"

    private val http: HttpClient by lazy { HttpClient.newHttpClient() }

    /** How many Observations the FHIR server holds with this reading's identifier. */
    fun observationsWithIdentifier(readingId: String): Int {
        val identifier = URLEncoder.encode("urn:ietf:rfc:3986|urn:uuid:$readingId", Charsets.UTF_8)
        val request = HttpRequest.newBuilder(
            URI("$fhirDirectUrl/Observation?identifier=$identifier&_summary=count"),
        ).header("Accept", "application/fhir+json").GET().build()
        val body = http.send(request, HttpResponse.BodyHandlers.ofString()).body()
        val total = Regex("\"total\"\\s*:\\s*(\\d+)").find(body) ?: error("no total in the search result")
        return total.groupValues[1].toInt()
    }
}

/** The test region's scripted login as a facade [AuthBrowser]. */
fun testBrowser(user: String, allowHttpLoopback: Boolean = true): AuthBrowser {
    val scripted = testLoginBrowser(user, allowHttpLoopback)
    return AuthBrowser { url, redirect -> scripted.authorize(url, redirect) }
}

/** Login, sync and logout against the real test region (FHIR server + OAuth server). */
class SyncTest : StoreTest() {

    private suspend fun loggedInRegion(): Region {
        val region = nara.region()
        region.setTransport(TransportConfig(allowHttpLoopback = true, spkiSha256Pins = emptyList(), extraRootsDer = emptyList()))
        val patient = region.login(
            TestRegion.fhirUrl,
            TestRegion.CLIENT_ID,
            TestRegion.REDIRECT_URI,
            testBrowser(TestRegion.user),
        )
        assertEquals(TestRegion.patient, patient)
        return region
    }

    private suspend fun addReadings(n: Int): List<String> =
        (1..n).map { i -> nara.readings().add(bloodPressure(110.0 + i % 30, 70.0 + i % 15, pulse = 64.0, at = minutesAgo(i.toLong()))).id }

    @Test
    fun loginAddSyncThenASecondSyncCreatesNothing() = runBlocking<Unit> {
        val region = loggedInRegion()
        val ids = addReadings(12)
        assertEquals(12uL, region.status().pending)

        val progress = AtomicReference<SyncProgress?>(null)
        val report = region.syncNow(120_000uL, object : SyncProgressListener {
            override fun onProgress(progress_: SyncProgress) = progress.set(progress_)
        })
        assertEquals(12uL, report.created)
        assertEquals(0uL, report.alreadyThere)
        assertEquals(0uL, report.rejected)
        assertEquals(0uL, report.remaining)
        assertTrue(report.finished)
        assertEquals(SyncProgress(uploaded = 12uL, total = 12uL), progress.get())

        val status = region.status()
        assertTrue(status.loggedIn)
        assertFalse(status.loginRequired)
        assertEquals(0uL, status.pending)
        assertEquals(0uL, status.inFlight)
        assertTrue(status.failed.isEmpty())
        assertNotNull(status.lastSuccess)
        assertEquals(null, status.lastError)

        val again = region.syncWithin(2.minutes)
        assertEquals(0uL, again.created)
        assertEquals(0uL, again.alreadyThere)
        assertTrue(again.finished)
        // On the server, each once.
        for (id in ids) assertEquals("reading $id on the server", 1, TestRegion.observationsWithIdentifier(id))
    }

    /**
     * A browser written in Kotlin: its `authorize` suspends, then drives the test login
     * (the facade's `login` over `beginLogin`/`finishLogin`). A browser that throws
     * `BrowserException.Cancelled` makes the login fail with `LoginCancelled`; a redirect
     * used twice or with a forged `state` is refused.
     */
    @Test
    fun aKotlinSuspendingBrowserLogsInAndACancelledOneFailsCleanly() = runBlocking<Unit> {
        val region = nara.region()
        region.setTransport(TransportConfig(allowHttpLoopback = true, spkiSha256Pins = emptyList(), extraRootsDer = emptyList()))
        val seen = AtomicReference<String?>(null)
        val scripted = testLoginBrowser(TestRegion.user, allowHttpLoopback = true)
        val kotlinBrowser = object : AuthBrowser {
            override suspend fun authorize(authorizeUrl: String, redirectUri: String): String {
                seen.set(authorizeUrl)
                delay(50)
                return scripted.authorize(authorizeUrl, redirectUri)
            }
        }
        val cancelled = object : AuthBrowser {
            override suspend fun authorize(authorizeUrl: String, redirectUri: String): String {
                delay(10)
                throw BrowserException.Cancelled()
            }
        }
        assertFailsWith<SyncException.LoginCancelled> {
            region.login(TestRegion.fhirUrl, TestRegion.CLIENT_ID, TestRegion.REDIRECT_URI, cancelled)
        }
        assertFalse(region.status().loggedIn)
        val patient = region.login(TestRegion.fhirUrl, TestRegion.CLIENT_ID, TestRegion.REDIRECT_URI, kotlinBrowser)
        assertEquals(TestRegion.patient, patient)
        val url = seen.get()!!
        assertTrue(url, url.contains("code_challenge_method=S256") && url.contains("state="))
        assertTrue(region.status().loggedIn)

        // The two halves directly: a forged `state` is refused, and a pending login is
        // used once.
        val pending = region.beginLogin(TestRegion.fhirUrl, TestRegion.CLIENT_ID, TestRegion.REDIRECT_URI)
        val redirect = scripted.authorize(pending.authorizeUrl(), pending.redirectUri())
        val forged = redirect.replace(Regex("state=[^&]+"), "state=forged")
        assertFailsWith<SyncException.Auth> { region.finishLogin(pending, forged) }
        assertFailsWith<SyncException.Auth> { region.finishLogin(pending, redirect) }
    }

    @Test
    fun syncWithoutLoginFailsWithNotLoggedIn() = runBlocking<Unit> {
        nara.readings().add(bloodPressure(120.0, 80.0))
        assertFailsWith<SyncException.NotLoggedIn> { nara.region().syncNow(10_000uL, null) }
        val status = nara.region().status()
        assertFalse(status.loggedIn)
        assertEquals(1uL, status.pending)
    }

    @Test
    fun badTransportSettingsAndPlainHttpAreRefused() = runBlocking<Unit> {
        val e = assertFailsWith<SyncException.InvalidConfig> {
            nara.region().setTransport(TransportConfig(false, listOf(ByteArray(5)), emptyList()))
        }
        assertTrue(e.toString(), e.toString().contains("32 bytes"))
        // Without the development switch, http is refused before any request.
        assertFailsWith<SyncException.Auth> {
            nara.region().login(
                "http://127.0.0.1:9/fhir",
                TestRegion.CLIENT_ID,
                TestRegion.REDIRECT_URI,
                testBrowser("anna", allowHttpLoopback = false),
            )
        }
        assertFailsWith<SyncException.InvalidConfig> {
            nara.region().login("not a url", TestRegion.CLIENT_ID, TestRegion.REDIRECT_URI, testBrowser("anna", false))
        }
    }

    /**
     * Cancelling the coroutine that awaits a sync drops the wait only: the core's sync runs
     * on (a new one meanwhile is `Busy`). Syncing again afterwards leaves nothing pending,
     * and the two runs together confirmed every reading exactly once: the first run's last
     * progress plus the second run's created + alreadyThere is N, and the server holds
     * each reading once.
     */
    @Test
    fun cancellingASyncThenSyncingAgainUploadsEachReadingOnce() = runBlocking<Unit>(Dispatchers.Default) {
        val n = 300
        val region = loggedInRegion()
        region.setBatchSize(20u)
        val ids = addReadings(n)

        val first = AtomicReference(SyncProgress(0uL, 0uL))
        val job = launch {
            region.syncNow(120_000uL, object : SyncProgressListener {
                override fun onProgress(progress: SyncProgress) = first.set(progress)
            })
        }
        withTimeout(60_000) { while (first.get().uploaded == 0uL) delay(5) }
        job.cancel()
        job.join()
        assertTrue("cancelled mid-way", first.get().uploaded < n.toULong())

        var busy = 0
        val second = withTimeout(120_000) {
            while (true) {
                try {
                    return@withTimeout region.syncNow(120_000uL, null)
                } catch (e: SyncException.Busy) {
                    busy++
                    delay(20)
                }
            }
            @Suppress("UNREACHABLE_CODE")
            error("unreachable")
        }
        assertTrue(second.finished)
        assertEquals(0uL, region.status().pending)
        assertEquals(n.toULong(), first.get().uploaded + second.created + second.alreadyThere)
        assertEquals(0uL, second.rejected)
        for (id in ids) assertEquals("reading $id on the server", 1, TestRegion.observationsWithIdentifier(id))
    }

    @Test
    fun syncStatusFlowFollowsReadingsAndSync() = runBlocking<Unit>(Dispatchers.Default) {
        val region = loggedInRegion()
        withTimeout(60_000) {
            val statuses = nara.syncStatus()
            assertEquals(0uL, statuses.first().pending)
            addReadings(3)
            assertEquals(3uL, statuses.first().pending)
            region.syncNow(60_000uL, null)
            val after = statuses.first { it.pending == 0uL && it.lastSuccess != null }
            assertTrue(after.loggedIn)
        }
    }

    @Test
    fun logoutRefusesWithUnsyncedReadingsThenWipesAfterSync() = runBlocking<Unit> {
        val region = loggedInRegion()
        addReadings(2)
        val refused = assertFailsWith<SyncException.UnsyncedChanges> { nara.logout(false) }
        assertEquals(2uL, refused.pending)
        // Refused: nothing changed, the store is still open.
        assertEquals(2uL, region.status().pending)
        assertEquals(2uL, region.syncNow(60_000uL, null).created)
        nara.logout(false)
        assertEquals(1, keys.forgets.get())
        assertFailsWith<SyncException.Closed> { region.status() }
        assertFailsWith<NaraException.Closed> { nara.pendingUploads() }
    }
}
