package se.nara.tests

import java.util.Locale
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import se.nara.localized
import uniffi.nara.Band
import uniffi.nara.Comparator
import uniffi.nara.FindingAction
import uniffi.nara.NewReading
import uniffi.nara.OffScale
import uniffi.nara.Source
import uniffi.nara.Measurement
import uniffi.nara.Metric
import uniffi.nara.ReadingFilter
import uniffi.nara.ReadingKind
import uniffi.nara.bandInfo

/** Capture, triage, history and trends through the generated Kotlin. */
class ReadingsTest : StoreTest() {

    @Test
    fun redAndGreenBloodPressuresAreTriagedWithReasons() = runBlocking {
        val readings = nara.readings()
        val red = readings.add(bloodPressure(185.0, 95.0, pulse = 80.0))
        val green = readings.add(bloodPressure(122.0, 78.0, pulse = 66.0))

        assertEquals(Band.RED, red.triage.band)
        assertEquals(Metric.SYSTOLIC, red.triage.metric)
        assertTrue(red.triage.reason.en, red.triage.reason.en.contains("179"))
        assertTrue(red.triage.reason.sv, red.triage.reason.sv.contains("179"))
        assertTrue(red.triage.advice.sv, red.triage.advice.sv.contains("1177"))

        assertEquals(Band.GREEN, green.triage.band)
        assertTrue(green.triage.reason.en, green.triage.reason.en.contains("lood pressure"))
        assertNotEquals(red.id, green.id)
        assertEquals(ReadingKind.BLOOD_PRESSURE, red.kind)
        assertTrue(red.valueText.en, red.valueText.en.startsWith("185/95"))

        // Colour is never the only signal: every band has its own symbol and label.
        val infos = Band.entries.map { bandInfo(it) }
        assertEquals(Band.entries.size, infos.map { it.symbol }.toSet().size)
        assertEquals(Band.entries.size, infos.map { it.label.sv }.toSet().size)
        assertEquals("Rött", bandInfo(Band.RED).label.sv)
        assertEquals("Rött", bandInfo(Band.RED).label.localized(Locale.forLanguageTag("sv-SE")))
        assertEquals("Red", bandInfo(Band.RED).label.localized(Locale.UK))

        assertEquals(2uL, readings.count())
        assertEquals(red, readings.get(red.id))
        val listed = readings.list(ReadingFilter(kind = ReadingKind.BLOOD_PRESSURE))
        assertEquals(setOf(red.id, green.id), listed.map { it.id }.toSet())
    }

    @Test
    fun anIrregularPulseIsAFindingAndAMetersHiIsABound() = runBlocking {
        val readings = nara.readings()
        val irregular = NO_FLAGS.copy(irregularPulse = true)
        readings.add(bloodPressure(124.0, 79.0, at = minutesAgo(120)).copy(quality = irregular))
        val again = readings.add(bloodPressure(124.0, 79.0, at = minutesAgo(5)).copy(quality = irregular))
        // The values decide the band; the finding has its own symbol and text.
        assertEquals(Band.GREEN, again.triage.band)
        val finding = again.triage.findings.single()
        assertEquals(FindingAction.CONTACT_CARE_UNIT, finding.action)
        assertEquals("♥", finding.symbol)
        assertTrue(finding.text.sv, finding.text.sv.contains("Kontakta din vårdenhet"))

        val hi = readings.add(NewReading(
            measurement = Measurement.BloodGlucose(mmolPerL = 33.3),
            effectiveAt = minutesAgo(1), utcOffsetSeconds = 3600, source = Source.Manual,
            quality = NO_FLAGS, note = null,
            offScale = listOf(OffScale(Metric.GLUCOSE, Comparator.ABOVE))))
        assertEquals(Band.RED, hi.triage.band)
        assertEquals("över 33.3 mmol/L", hi.valueText.sv)
        assertEquals("above 33.3 mmol/L", hi.valueText.en)
    }

    @Test
    fun aCorrectionSupersedesAndHistoryStays() = runBlocking {
        val readings = nara.readings()
        val typo = readings.add(bloodPressure(158.0, 84.0, at = minutesAgo(30)))
        assertEquals(Band.YELLOW, typo.triage.band)

        val fixed = readings.correct(typo.id, bloodPressure(128.0, 84.0, at = minutesAgo(30)))
        assertEquals(typo.id, fixed.supersedes)
        assertEquals(Band.GREEN, fixed.triage.band)
        assertEquals(fixed.id, readings.get(typo.id)?.supersededBy)

        val current = readings.list(ReadingFilter())
        assertEquals(listOf(fixed.id), current.map { it.id })
        val all = readings.list(ReadingFilter(includeSuperseded = true))
        assertEquals(setOf(typo.id, fixed.id), all.map { it.id }.toSet())
        assertEquals(2uL, readings.count())
    }

    @Test
    fun unknownIdReadsAsNull() = runBlocking {
        assertNull(nara.readings().get("3f1c6a3e-1d1b-4c55-9a56-1b2f0c3d4e5f"))
    }

    @Test
    fun trendSummaryAndSeriesOver30Days() = runBlocking {
        val readings = nara.readings()
        for (day in 1..10) {
            readings.add(bloodPressure(120.0 + day, 80.0, at = minutesAgo(day * 24L * 60)))
        }
        readings.add(bloodPressure(190.0, 100.0, at = minutesAgo(60)))
        // Outside the window: not counted.
        readings.add(bloodPressure(150.0, 90.0, at = minutesAgo(40L * 24 * 60)))

        val trends = nara.trends()
        val summary = trends.summary(ReadingKind.BLOOD_PRESSURE, 30u)
        assertEquals(11u, summary.count)
        assertEquals(1u, summary.bandCounts.red)
        assertEquals(30u, summary.windowDays)
        val series = trends.series(ReadingKind.BLOOD_PRESSURE, Metric.SYSTOLIC, 30u, 100u)
        assertEquals(11, series.size)
        assertTrue(series.any { it.value == 190.0 })
        assertFalse(series.any { it.value == 150.0 })
    }

    @Test
    fun importReportsDuplicatesOnSecondRun() = runBlocking {
        val batch = (1..50).map { deviceReading(it, minutesAgo(it.toLong() * 10)) }
        val first = nara.readings().importReadings(batch, null)
        assertEquals(50uL, first.inserted)
        assertEquals(0uL, first.duplicates)
        val second = nara.readings().importReadings(batch, null)
        assertEquals(0uL, second.inserted)
        assertEquals(50uL, second.duplicates)
        assertEquals(50uL, nara.readings().count())
    }

    @Test
    fun storeReopensWithTheSameKey() = runBlocking {
        val id = nara.readings().add(bloodPressure(130.0, 85.0)).id
        nara.closeStore()
        nara.close()
        val unwrapsBefore = keys.unwraps.get()
        nara = uniffi.nara.Nara.open(dir.toString(), keys)
        assertEquals(unwrapsBefore + 1, keys.unwraps.get())
        val again = nara.readings().get(id)
        assertNotNull(again)
        assertTrue(again?.measurement is Measurement.BloodPressure)
        assertTrue(nara.integrityOk())
    }
}
