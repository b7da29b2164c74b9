package se.nara.tests

import kotlin.test.assertFailsWith
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import uniffi.nara.CarePlanException
import uniffi.nara.KeyException
import uniffi.nara.Metric
import uniffi.nara.Nara
import uniffi.nara.NaraException
import uniffi.nara.OpenException
import uniffi.nara.Problem
import uniffi.nara.ReadingException
import uniffi.nara.ReadingField
import uniffi.nara.ReadingKind
import uniffi.nara.Source
import uniffi.nara.TrendException

/** Every error type reachable from Kotlin, with its payload. */
class ErrorsTest : StoreTest() {

    @Test
    fun implausibleSystolicIsInvalidWithAFieldProblem() = runBlocking {
        val e = assertFailsWith<ReadingException.Invalid> {
            nara.readings().add(bloodPressure(500.0, 80.0))
        }
        val problem = e.problems.single { it.metric == Metric.SYSTOLIC }
        assertEquals(ReadingField.VALUE, problem.field)
        val range = problem.problem as Problem.OutOfRange
        assertTrue(range.max < 500.0)
        // The patient's message never repeats the entered value.
        assertFalse(problem.message.sv, problem.message.sv.contains("500"))
        assertTrue(problem.message.sv.isNotBlank() && problem.message.en.isNotBlank())
        assertEquals(0uL, nara.readings().count())
    }

    @Test
    fun textThatIsNotANumberGetsTheCoresMessage() = runBlocking {
        // The sample app sends unparsable input as NaN so that the core writes the message.
        val e = assertFailsWith<ReadingException.Invalid> {
            nara.readings().add(bloodPressure(Double.NaN, 80.0))
        }
        val problem = e.problems.single()
        assertEquals(Problem.NotANumber, problem.problem)
        assertEquals(Metric.SYSTOLIC, problem.metric)
        assertTrue(problem.message.sv.isNotBlank())
    }

    @Test
    fun diastolicAboveSystolicAndFutureTimeAreBothReported() = runBlocking {
        val e = assertFailsWith<ReadingException.Invalid> {
            nara.readings().add(bloodPressure(90.0, 120.0, at = minutesAgo(-24 * 60)))
        }
        val problems = e.problems.map { it.problem }
        assertTrue(problems.toString(), Problem.DiastolicNotBelowSystolic in problems)
        assertTrue(problems.toString(), Problem.InFuture in problems)
    }

    @Test
    fun oneInvalidReadingRejectsTheWholeImport() = runBlocking {
        val batch = (1..10).map { deviceReading(it, minutesAgo(it * 3L)) }.toMutableList()
        batch[7] = bloodPressure(500.0, 80.0)
        val e = assertFailsWith<ReadingException.InvalidInBatch> {
            nara.readings().importReadings(batch, null)
        }
        assertEquals(7uL, e.index)
        assertEquals(Metric.SYSTOLIC, e.problems.single().metric)
        assertEquals(0uL, nara.readings().count())
    }

    @Test
    fun theSameDeviceRecordTwiceIsADuplicate() = runBlocking {
        val at = minutesAgo(15)
        val record = bloodPressure(
            130.0, 85.0, at = at,
            source = Source.Device(deviceId = "omron-1", model = null, recordKey = "42"),
        )
        nara.readings().add(record)
        assertFailsWith<ReadingException.Duplicate> { nara.readings().add(record) }
        assertEquals(1uL, nara.readings().count())
    }

    @Test
    fun correctionErrors() = runBlocking {
        val readings = nara.readings()
        assertFailsWith<ReadingException.NotFound> {
            readings.correct("3f1c6a3e-1d1b-4c55-9a56-1b2f0c3d4e5f", bloodPressure(120.0, 80.0))
        }
        assertFailsWith<ReadingException.InvalidId> {
            readings.correct("not an id", bloodPressure(120.0, 80.0))
        }
        val original = readings.add(bloodPressure(158.0, 84.0))
        assertFailsWith<ReadingException.CorrectionKindMismatch> {
            readings.correct(original.id, weight(80.0))
        }
        readings.correct(original.id, bloodPressure(128.0, 84.0))
        assertFailsWith<ReadingException.AlreadySuperseded> {
            readings.correct(original.id, bloodPressure(129.0, 84.0))
        }
        assertEquals(2uL, readings.count())
    }

    @Test
    fun carePlanErrors() = runBlocking {
        val plan = nara.carePlan()
        val defaults = plan.thresholds(ReadingKind.BLOOD_PRESSURE)
        // Green must lie inside yellow: swap them for the systolic metric.
        val broken = defaults.copy(
            metrics = defaults.metrics.map { m ->
                if (m.metric == Metric.SYSTOLIC) {
                    m.copy(bands = m.bands.copy(green = m.bands.yellow, yellow = m.bands.green))
                } else {
                    m
                }
            },
        )
        assertFailsWith<CarePlanException.InvalidThresholds> { plan.setThresholds(broken) }
        assertEquals(defaults, plan.thresholds(ReadingKind.BLOOD_PRESSURE))

        val schedule = twiceDaily("bp-morning-evening")
        assertFailsWith<CarePlanException.InvalidSchedule> {
            plan.setSchedule(schedule.copy(timeZone = "Nowhere/Atlantis"))
        }
        assertFailsWith<CarePlanException.NotFound> { plan.removeSchedule("no-such-schedule") }
        plan.setSchedule(schedule)
        assertEquals(listOf(schedule.id), plan.schedules().map { it.id })
    }

    @Test
    fun aDifferentKeyIsWrongKeyAndLeavesTheStoreIntact() = runBlocking {
        val id = nara.readings().add(bloodPressure(120.0, 80.0)).id
        nara.closeStore()
        assertFailsWith<OpenException.WrongKey> { Nara.open(dir.toString(), MemoryKeyProvider()) }
        assertFailsWith<OpenException.WrongKey> {
            Nara.open(dir.toString(), FailingUnwrapKeyProvider(keys) { KeyException.WrongKey() })
        }
        assertFailsWith<OpenException.KeyUnavailable> {
            Nara.open(dir.toString(), FailingUnwrapKeyProvider(keys) { KeyException.Unavailable() })
        }
        assertFailsWith<OpenException.KeyLost> {
            Nara.open(dir.toString(), FailingUnwrapKeyProvider(keys) { KeyException.Lost() })
        }
        // Nothing above changed anything: the right key still opens the same data.
        nara.close()
        nara = Nara.open(dir.toString(), keys)
        assertEquals(id, nara.readings().get(id)?.id)
    }

    @Test
    fun aKotlinExceptionInTheProviderIsAnError() = runBlocking {
        nara.closeStore()
        val e = assertFailsWith<OpenException> {
            Nara.open(dir.toString(), FailingUnwrapKeyProvider(keys) { IllegalStateException("boom") })
        }
        assertTrue(e.toString(), e is OpenException.KeyProvider || e is OpenException.Internal)
    }

    @Test
    fun everyAreaSaysClosedAfterCloseStore() = runBlocking {
        val readings = nara.readings()
        val plan = nara.carePlan()
        val trends = nara.trends()
        readings.add(bloodPressure(120.0, 80.0))
        nara.closeStore()
        assertFailsWith<NaraException.Closed> { nara.integrityOk() }
        assertFailsWith<NaraException.Closed> { nara.pendingUploads() }
        assertFailsWith<ReadingException.Closed> { readings.add(bloodPressure(120.0, 80.0)) }
        assertFailsWith<ReadingException.Closed> { readings.count() }
        assertFailsWith<CarePlanException.Closed> { plan.thresholds(ReadingKind.BLOOD_PRESSURE) }
        assertFailsWith<TrendException.Closed> { trends.summary(ReadingKind.BLOOD_PRESSURE, 30u) }
        assertFailsWith<NaraException.Closed> { nara.wipe() }
        readings.close()
        plan.close()
        trends.close()
    }
}
