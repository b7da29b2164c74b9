package se.nara.tests

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import uniffi.nara.Band
import uniffi.nara.bandInfo

/** The README's example runs as printed and says what the README says it says. */
class ReadmeExampleTest {
    @Test
    fun readmeExampleShowsAYellowBloodPressureWithItsReason() = runBlocking {
        TestPlatform.ensure()
        val dir = tempDir()
        try {
            val line = readmeExample(dir.toString(), MemoryKeyProvider())
            val yellow = bandInfo(Band.YELLOW)
            assertTrue(line, line.startsWith("${yellow.symbol} ${yellow.label.en}: "))
            // Exactly what the README's comment says it prints.
            assertEquals("▲ Yellow: Systolic pressure above target 134 mmHg", line)
            println("       README example printed: $line")
        } finally {
            dir.deleteTree()
        }
    }
}
