package se.nara.tests

import java.io.File
import java.time.Instant
import java.time.temporal.ChronoUnit
import kotlin.test.assertFailsWith
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test
import se.nara.allItems
import se.nara.answersWith
import se.nara.cancel
import se.nara.confirm
import se.nara.isEnabled
import se.nara.item
import se.nara.reschedule
import se.nara.saveDraft
import se.nara.watchNoticesAsFlow
import uniffi.nara.AnswerDelivery
import uniffi.nara.Coding
import uniffi.nara.DeclarationState
import uniffi.nara.FormAnswer
import uniffi.nara.FormException
import uniffi.nara.IssueCode
import uniffi.nara.ItemKind
import uniffi.nara.NoticeAnswer
import uniffi.nara.NoticeException
import uniffi.nara.NoticeState
import uniffi.nara.ReadingKind

private const val PATIENT = "anna-1"
private const val PHONE = "0980-123 45"
private const val DECLARATION = "halsodeklaration"
private const val ANSWERS = "https://nara.se/fhir/CodeSystem/halsodeklaration-svar"

/**
 * An Appointment as the region sends it (docs/adr/0010-notices-fhir-mapping.md §1): the
 * place as a contained Location `#loc` with the clinic's phone, the practitioner as a
 * display-only PractitionerRole actor, the health declaration as supporting
 * information; starting [hours] from now, with the default cut-off (24 h).
 */
fun appointmentJson(id: String, hours: Long): String {
    val start = Instant.now().plus(hours, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS)
    val end = start.plus(30, ChronoUnit.MINUTES)
    return """
    {
      "resourceType": "Appointment",
      "id": "$id",
      "meta": { "versionId": "1", "lastUpdated": "2026-11-20T10:00:00Z" },
      "status": "booked",
      "serviceType": [{ "text": "Diabetesmottagning" }],
      "start": "$start",
      "end": "$end",
      "patientInstruction": "Ta med dina mätvärden.",
      "supportingInformation": [{ "reference": "Questionnaire/$DECLARATION" }],
      "contained": [{
        "resourceType": "Location", "id": "loc", "name": "Vårdcentralen Kiruna",
        "address": { "line": ["Thulegatan 29"], "postalCode": "98132", "city": "Kiruna" },
        "telecom": [{ "system": "phone", "value": "$PHONE" }]
      }],
      "participant": [
        { "actor": { "reference": "Patient/$PATIENT" }, "status": "needs-action" },
        { "actor": { "reference": "#loc" }, "status": "accepted" },
        { "actor": { "reference": "PractitionerRole/pr-1", "display": "Anna Berg" },
          "type": [{ "text": "Distriktssköterska" }], "status": "accepted" }
      ]
    }
    """.trimIndent()
}

/** tests/region/fixtures/halsodeklaration.json, found above the working or temp directory. */
val declarationJson: String by lazy {
    val starts = listOfNotNull(
        File(System.getProperty("user.dir")),
        System.getProperty("nara.test.tmp")?.let { File(it) },
    )
    starts.flatMap { generateSequence(it.absoluteFile) { f -> f.parentFile }.toList() }
        .map { File(it, "tests/region/fixtures/halsodeklaration.json") }
        .firstOrNull { it.isFile }
        ?.readText()
        ?: error("tests/region/fixtures/halsodeklaration.json not found above ${starts.joinToString()}")
}

/** Notices and the health declaration through the facade, offline (test hooks). */
class NoticesTest : StoreTest() {

    private suspend fun provision(id: String, hours: Long) {
        assertTrue(nara.notices().debugStoreNotice(appointmentJson(id, hours), PATIENT))
    }

    @Test
    fun aNoticeGoesFromNewToOpenedToAnsweredAndTheFlowFollows() = runBlocking<Unit> {
        val notices = nara.notices()
        provision("appt-1", 72)
        val n = notices.list().single()
        assertEquals(NoticeState.NEW, n.state)
        assertEquals("New", n.stateLabel.en)
        assertEquals("Diabetesmottagning", n.service)
        assertEquals("Vårdcentralen Kiruna", n.place?.name)
        assertEquals(PHONE, n.place?.phone)
        assertEquals("Anna Berg", n.practitioner?.name)
        assertEquals("Distriktssköterska", n.practitioner?.role)
        assertEquals(24L, n.cutoffHours)
        assertTrue(n.canChange)
        assertEquals(DeclarationState.NOT_DOWNLOADED, n.declaration)

        // Before the notice is opened the patient has not seen the time.
        assertFailsWith<NoticeException.Moved> { notices.confirm("appt-1") }

        withTimeout(10_000) {
            val states = Channel<NoticeState>(Channel.UNLIMITED)
            val job = launch(Dispatchers.Default) {
                notices.watchNoticesAsFlow().collect { states.send(it.single().state) }
            }
            assertEquals(NoticeState.NEW, states.receive())
            val opened = notices.open("appt-1")
            assertEquals(NoticeState.OPENED, opened.state)
            assertNotNull(opened.openedAt)
            var latest = states.receive()
            while (latest == NoticeState.NEW) latest = states.receive()
            assertEquals(NoticeState.OPENED, latest)
            job.cancel()
        }

        val given = notices.confirm("appt-1")
        assertEquals(NoticeAnswer.Confirm, given.answer)
        assertEquals(AnswerDelivery.QUEUED, given.delivery)
        assertEquals(NoticeState.ANSWERED, notices.get("appt-1")?.state)
        assertEquals(NoticeState.ANSWERED, notices.watchNoticesAsFlow().first().single().state)
        assertFailsWith<NoticeException.AlreadyGiven> { notices.confirm("appt-1") }
        val empty = assertFailsWith<NoticeException.EmptyReschedule> { notices.reschedule("appt-1") }
        assertTrue(empty.explanation.sv.isNotEmpty())
        val past = Instant.now().minus(2, ChronoUnit.HOURS)
        val bad = assertFailsWith<NoticeException.BadWindow> {
            notices.reschedule("appt-1", windows = listOf(past to past.plus(10, ChronoUnit.MINUTES)))
        }
        assertEquals(0uL, bad.index)

        assertTrue(notices.calendar("appt-1").startsWith("BEGIN:VCALENDAR"))
        val reminders = notices.reminders("Europe/Stockholm")
        assertTrue(reminders.isNotEmpty())
        assertTrue(reminders.all { it.noticeId == "appt-1" })
        assertFailsWith<NoticeException.InvalidTimeZone> { notices.reminders("Mars/Olympus") }
        assertFailsWith<NoticeException.NotFound> { notices.open("nope") }
    }

    @Test
    fun aCancelAfterTheCutOffIsRefusedWithTheClinicPhone() = runBlocking<Unit> {
        val notices = nara.notices()
        provision("appt-soon", 3)
        assertFalse(notices.open("appt-soon").canChange)
        val e = assertFailsWith<NoticeException.PastCutoff> { notices.cancel("appt-soon", "HEMLIG-ORSAK") }
        assertEquals(24L, e.hours)
        assertEquals(PHONE, e.phone)
        assertTrue(e.explanation.sv.contains(PHONE))
        assertTrue(e.explanation.en.contains(PHONE))
        assertFalse((e.message ?: "").contains("HEMLIG"))
        assertEquals(NoticeState.ANSWERED, notices.confirm("appt-soon").let { notices.get("appt-soon")?.state })
        // Another patient's appointment is refused.
        assertFailsWith<NoticeException.Internal> {
            notices.debugStoreNotice(appointmentJson("appt-x", 72), "bertil-2")
        }
    }

    @Test
    fun aFormIsRenderedFromTheModelDraftedAndSubmittedFromKotlin() = runBlocking<Unit> {
        val notices = nara.notices()
        provision("appt-1", 72)
        assertFailsWith<FormException.NotDownloaded> { notices.form(DECLARATION, "appt-1") }
        val model = notices.debugStoreForm(DECLARATION, declarationJson)
        assertEquals("Health declaration before your visit", model.title?.en)
        assertTrue(notices.hasForm(DECLARATION))
        assertEquals(DeclarationState.NOT_STARTED, notices.get("appt-1")?.declaration)

        // Render: walk the tree as a screen would.
        var session = notices.form(DECLARATION, "appt-1")
        assertFalse(session.submitted)
        val all = session.form.items.allItems()
        assertEquals(ItemKind.DISPLAY, all.first().kind)
        assertEquals(ItemKind.GROUP, session.item("lakemedel-grupp")?.kind)
        val takes = session.item("tar-lakemedel")!!
        assertEquals(ItemKind.BOOLEAN, takes.kind)
        assertTrue(takes.required)
        assertEquals("Do you take any medicines regularly?", takes.text?.en)
        val height = session.item("langd")!!
        assertEquals(ItemKind.INTEGER, height.kind)
        assertEquals(FormAnswer.Integer(100L), height.minValue)
        assertEquals("cm", height.unit)
        assertEquals(ReadingKind.BODY_WEIGHT, session.item("vikt")?.prefilledFrom)
        val smoking = session.item("rokning")!!
        assertEquals(ItemKind.CHOICE, smoking.kind)
        assertEquals(
            listOf("nej", "dagligen", "ibland"),
            smoking.options.map { (it.value as FormAnswer.Coding).coding.code },
        )
        assertEquals("Nej", smoking.options[0].label.sv)
        assertEquals(ItemKind.STRING, session.item("vilka-lakemedel")?.kind)
        assertEquals(ItemKind.DATE, session.item("besvar-start")?.kind)
        assertEquals(ItemKind.TEXT, session.item("ovrigt")?.kind)
        assertTrue(session.isEnabled("tar-lakemedel"))
        assertFalse(session.isEnabled("vilka-lakemedel"))

        // "Tar läkemedel = ja" enables the follow-up; the draft is saved and resumed.
        session = notices.saveDraft(DECLARATION, "appt-1", session.answersWith("tar-lakemedel", FormAnswer.Boolean(true)))
        assertTrue(session.isEnabled("vilka-lakemedel"))
        assertTrue(session.issues.any { it.linkId == "vilka-lakemedel" && it.code == IssueCode.REQUIRED })
        assertEquals(session.answers, notices.form(DECLARATION, "appt-1").answers)
        assertEquals(DeclarationState.DRAFT, notices.get("appt-1")?.declaration)

        // A missing required answer: typed, listing the item; nothing submitted.
        val invalid = assertFailsWith<FormException.Invalid> { notices.submit(DECLARATION, "appt-1") }
        assertTrue(invalid.issues.any { it.linkId == "vilka-lakemedel" })
        assertTrue(invalid.issues.all { it.explanation.sv.isNotEmpty() && it.explanation.en.isNotEmpty() })
        assertFalse((invalid.message ?: "").contains("Metformin"))

        session = notices.saveDraft(
            DECLARATION,
            "appt-1",
            mapOf(
                "tar-lakemedel" to listOf(FormAnswer.Boolean(true)),
                "vilka-lakemedel" to listOf(FormAnswer.Text("Metformin")),
                "langd" to listOf(FormAnswer.Integer(172L)),
                "vikt" to listOf(FormAnswer.Decimal(68.5)),
                "allergi" to listOf(FormAnswer.Boolean(false)),
                "rokning" to listOf(FormAnswer.Coding(Coding(ANSWERS, "nej", null))),
                "nya-besvar" to listOf(FormAnswer.Boolean(false)),
            ),
        )
        assertEquals(emptyList<Any>(), session.issues)
        val done = notices.submit(DECLARATION, "appt-1")
        assertTrue(done.responseId.isNotEmpty())
        assertEquals(null, done.scoreReading)
        assertTrue(notices.form(DECLARATION, "appt-1").submitted)
        assertEquals(DeclarationState.SUBMITTED, notices.get("appt-1")?.declaration)
        assertFailsWith<FormException.AlreadySubmitted> { notices.submit(DECLARATION, "appt-1") }
        assertFailsWith<FormException.AlreadySubmitted> { notices.saveDraft(DECLARATION, "appt-1", emptyList()) }
    }
}
