package se.nara.tests

import java.time.Instant
import uniffi.nara.*

/** The README's Kotlin example: open a store, add a blood pressure, show its triage. */
suspend fun readmeExample(dataDir: String, keys: KeyProvider): String =
    Nara.open(dataDir, keys).use { nara ->
        val reading = nara.readings().add(NewReading(
            measurement = Measurement.BloodPressure(systolic = 142.0, diastolic = 91.0, pulse = 72.0),
            effectiveAt = Instant.now(), utcOffsetSeconds = 3600, source = Source.Manual,
            quality = QualityFlags(false, false, false, false, false, false, false), note = null))
        val band = bandInfo(reading.triage.band) // symbol + label: colour is never the only signal
        "${band.symbol} ${band.label.en}: ${reading.triage.reason.en}" // ▲ Yellow: Systolic pressure above target 134 mmHg
    }
