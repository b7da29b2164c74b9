package se.nara.tests

import java.util.concurrent.CopyOnWriteArrayList
import uniffi.nara.LogLevel
import uniffi.nara.LogSink
import uniffi.nara.PlatformException
import uniffi.nara.RuntimeMode
import uniffi.nara.initPlatform

/** One log line the core sent to Kotlin. */
data class LogLine(val level: LogLevel, val target: String, val message: String)

/** Sets the core up once for the test process, with a Kotlin [LogSink] that records. */
object TestPlatform {
    val lines = CopyOnWriteArrayList<LogLine>()

    /** The level given to `initPlatform`. */
    val LEVEL = LogLevel.INFO

    /** The sink given to `initPlatform`. */
    val sink: LogSink = object : LogSink {
        override fun log(level: LogLevel, target: String, message: String) {
            lines += LogLine(level, target, message)
        }
    }

    /** `null` if this process's first call set the platform up. */
    private val firstInit: PlatformException? by lazy {
        try {
            initPlatform(RuntimeMode.FULL, LEVEL, sink)
            null
        } catch (e: PlatformException) {
            e
        }
    }

    fun ensure() {
        check(firstInit == null) { "initPlatform failed: $firstInit" }
    }
}
