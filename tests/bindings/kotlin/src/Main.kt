package se.nara.tests

import kotlin.system.exitProcess
import org.junit.runner.Description
import org.junit.runner.JUnitCore
import org.junit.runner.Request
import org.junit.runner.notification.Failure
import org.junit.runner.notification.RunListener

/** Every test class of the Kotlin binding tests. */
val ALL_TESTS: Array<Class<*>> = arrayOf(
    ReadingsTest::class.java,
    FlowTest::class.java,
    ErrorsTest::class.java,
    AsyncTest::class.java,
    SyncTest::class.java,
    ChatTest::class.java,
    NoticesTest::class.java,
    ContentTest::class.java,
    DevicesTest::class.java,
    ReadmeExampleTest::class.java,
)

/** Prints one line per test and the failures' stack traces. */
private class PlainListener : RunListener() {
    private val failed = mutableSetOf<Description>()

    override fun testFailure(failure: Failure) {
        failed += failure.description
        println("  FAIL ${failure.description.displayName}")
        println(failure.trace.prependIndent("       "))
    }

    override fun testAssumptionFailure(failure: Failure) {
        println("  SKIP ${failure.description.displayName}: ${failure.message}")
    }

    override fun testFinished(description: Description) {
        if (description !in failed) println("  ok   ${description.displayName}")
    }
}

/**
 * Runs all the tests (or those whose class or method name contains one of [args]) and
 * ends with `Kotlin: N passed, N failed`; exits 1 on any failure.
 */
fun main(args: Array<String>) {
    val core = JUnitCore()
    core.addListener(PlainListener())
    var request = Request.classes(*ALL_TESTS)
    if (args.isNotEmpty()) {
        request = request.filterWith(object : org.junit.runner.manipulation.Filter() {
            override fun shouldRun(d: Description): Boolean =
                d.isSuite || args.any { it in d.displayName }

            override fun describe() = "name contains one of ${args.toList()}"
        })
    }
    val result = core.run(request)
    val failed = result.failureCount
    val passed = result.runCount - failed - result.assumptionFailureCount
    println("Kotlin: $passed passed, $failed failed")
    exitProcess(if (failed == 0 && result.runCount > 0) 0 else 1)
}
