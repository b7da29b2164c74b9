package se.nara.sample

import android.app.Application
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import java.time.Instant
import java.time.ZoneId
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.SharingStarted
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.catch
import kotlinx.coroutines.flow.flatMapLatest
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.stateIn
import kotlinx.coroutines.launch
import se.nara.localized
import se.nara.watchAsFlow
import uniffi.nara.Measurement
import uniffi.nara.Metric
import uniffi.nara.NewReading
import uniffi.nara.OpenException
import uniffi.nara.QualityFlags
import uniffi.nara.Reading
import uniffi.nara.ReadingException
import uniffi.nara.ReadingFilter
import uniffi.nara.ReadingKind
import uniffi.nara.SeriesPoint
import uniffi.nara.Source
import uniffi.nara.TrendSummary

/** The error's own text if it has one, else its type (`KeyUnavailable`, `Closed`). */
internal fun Throwable.summary(): String = message?.takeIf { it.isNotBlank() } ?: javaClass.simpleName

/** The 30-day trend shown above the list. */
data class TrendUi(val summary: TrendSummary, val systolic: List<SeriesPoint>)

/** What the screen shows. */
data class ScreenState(
    val readings: List<Reading> = emptyList(),
    val trend: TrendUi? = null,
    val openError: String? = null,
)

/** Holds the live list and trend, and submits the form. No health rule lives here. */
@OptIn(ExperimentalCoroutinesApi::class)
class ReadingsViewModel(application: Application) : AndroidViewModel(application) {
    private val app = application as SampleApp

    private val readings: Flow<List<Reading>> = flow {
        emit(app.nara().readings())
    }.flatMapLatest { it.watchAsFlow(ReadingFilter(kind = ReadingKind.BLOOD_PRESSURE)) }

    /** The list (live) and the trend, recomputed after each change to the list. */
    val state: StateFlow<ScreenState> = readings
        .map { list ->
            val trends = app.nara().trends()
            val summary = trends.summary(ReadingKind.BLOOD_PRESSURE, TREND_DAYS)
            val series = trends.series(ReadingKind.BLOOD_PRESSURE, Metric.SYSTOLIC, TREND_DAYS, 60u)
            ScreenState(readings = list, trend = TrendUi(summary, series))
        }
        .catch { e ->
            // Opening failed (key unavailable or lost, storage): say so, never crash.
            if (e is OpenException) emit(ScreenState(openError = e.summary())) else throw e
        }
        .stateIn(viewModelScope, SharingStarted.WhileSubscribed(5_000), ScreenState())

    private val _formErrors = MutableStateFlow<List<String>>(emptyList())

    /** The core's messages for the last submitted form, in the patient's language. */
    val formErrors: StateFlow<List<String>> = _formErrors.asStateFlow()

    /**
     * Stores a blood pressure typed by the patient. Text that is not a number goes to the
     * core as NaN, so the core's validation (not this app) writes the message.
     */
    fun add(systolic: String, diastolic: String, pulse: String, onSaved: () -> Unit) {
        val sys = number(systolic)
        val dia = number(diastolic)
        val pul = if (pulse.isBlank()) null else number(pulse)
        viewModelScope.launch {
            val now = Instant.now()
            val reading = NewReading(
                measurement = Measurement.BloodPressure(systolic = sys, diastolic = dia, pulse = pul),
                effectiveAt = now,
                utcOffsetSeconds = ZoneId.systemDefault().rules.getOffset(now).totalSeconds,
                source = Source.Manual,
                quality = QualityFlags(
                    bodyMovement = false,
                    cuffFitPoor = false,
                    irregularPulse = false,
                    improperPosition = false,
                    weakSignal = false,
                    pulseOutOfRange = false,
                    deviceFault = false,
                ),
                note = null,
            )
            try {
                app.nara().readings().add(reading)
                _formErrors.value = emptyList()
                onSaved()
            } catch (e: ReadingException.Invalid) {
                _formErrors.value = e.problems.map { it.message.localized() }
            } catch (e: ReadingException) {
                _formErrors.value = listOf(e.summary())
            } catch (e: OpenException) {
                _formErrors.value = listOf(e.summary())
            }
        }
    }

    private fun number(text: String): Double = text.trim().replace(',', '.').toDoubleOrNull() ?: Double.NaN

    private companion object {
        const val TREND_DAYS = 30u
    }
}
