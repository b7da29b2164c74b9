package se.nara

import java.util.Locale
import uniffi.nara.LocalizedText

/**
 * The text in the patient's language: Swedish for a Swedish locale, English otherwise.
 * The core writes every patient-facing sentence in both; the app only chooses.
 */
fun LocalizedText.localized(locale: Locale = Locale.getDefault()): String =
    if (locale.language == "sv") sv else en
