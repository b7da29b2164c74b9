package se.nara.platform

import android.util.Log
import uniffi.nara.LogLevel
import uniffi.nara.LogSink

/**
 * Forwards the core's log lines to Logcat under [tag], prefixed with the core module
 * that wrote them. The core never logs patient data.
 *
 * Install once at start-up: `initPlatform(RuntimeMode.FULL, LogLevel.INFO, LogcatSink())`.
 */
class LogcatSink(private val tag: String = "Nara") : LogSink {
    override fun log(level: LogLevel, target: String, message: String) {
        val priority = when (level) {
            LogLevel.ERROR -> Log.ERROR
            LogLevel.WARN -> Log.WARN
            LogLevel.INFO -> Log.INFO
            LogLevel.DEBUG -> Log.DEBUG
            LogLevel.TRACE -> Log.VERBOSE
        }
        Log.println(priority, tag, "$target: $message")
    }
}
