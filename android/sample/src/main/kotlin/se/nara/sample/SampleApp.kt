package se.nara.sample

import android.app.Application
import java.io.File
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import se.nara.platform.AndroidKeystoreKeyProvider
import se.nara.platform.LogcatSink
import se.nara.platform.NaraHost
import se.nara.platform.NaraSyncWorker
import uniffi.nara.LogLevel
import uniffi.nara.Nara
import uniffi.nara.PlatformException
import uniffi.nara.RuntimeMode
import uniffi.nara.initPlatform

/** Sets up the core once per process and opens the store on first use. */
class SampleApp : Application(), NaraHost {
    private val openLock = Mutex()
    private var store: Nara? = null

    override fun onCreate() {
        super.onCreate()
        try {
            initPlatform(RuntimeMode.FULL, LogLevel.INFO, LogcatSink())
        } catch (e: PlatformException.AlreadyInitialized) {
            // A second Application instance in the same process: nothing to do.
        }
        NaraSyncWorker.schedule(this)
    }

    /** The store in `files/nara`, its data key wrapped by the Android Keystore. */
    override suspend fun nara(): Nara = openLock.withLock {
        store ?: Nara.open(File(filesDir, "nara").path, AndroidKeystoreKeyProvider())
            .also { store = it }
    }
}
