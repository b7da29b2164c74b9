package se.nara.platform

import android.app.Activity
import android.content.Context
import android.content.Intent
import android.net.Uri
import android.os.Bundle
import androidx.browser.customtabs.CustomTabsIntent
import java.util.concurrent.atomic.AtomicReference
import kotlinx.coroutines.CompletableDeferred
import se.nara.AuthBrowser
import uniffi.nara.BrowserException

/**
 * The region's login page in a Custom Tab (the system browser, never a WebView).
 *
 * `authorize` opens the login page and suspends until
 * [NaraRedirectActivity] receives the redirect to the app's URI (`se.nara.app:/callback`)
 * and hands it over with [deliver]. The core checks `state` and exchanges the code; this
 * class only carries URLs.
 *
 * ```kotlin
 * val patient = nara.region().login(
 *     "https://fhir.region.se/r4", "nara-app", "se.nara.app:/callback",
 *     CustomTabsAuthBrowser(activity),
 * )
 * ```
 *
 * Cancelling the calling coroutine abandons the login. Custom Tabs do not report that
 * the patient closed the tab: call [cancelPending] from the launching activity's
 * `onResume` when it resumes without a redirect (the patient came back), which makes
 * `login` fail with `SyncException.LoginCancelled`.
 */
class CustomTabsAuthBrowser(private val context: Context) : AuthBrowser {

    private class Pending(val redirectPrefix: String, val result: CompletableDeferred<String>)

    override suspend fun authorize(authorizeUrl: String, redirectUri: String): String {
        val result = CompletableDeferred<String>()
        val mine = Pending(redirectUri, result)
        // One login at a time: a newer one replaces (and cancels) an older one.
        pending.getAndSet(mine)?.result?.completeExceptionally(BrowserException.Cancelled())
        try {
            val tab = CustomTabsIntent.Builder().setShareState(CustomTabsIntent.SHARE_STATE_OFF).build()
            if (context !is Activity) tab.intent.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK)
            tab.launchUrl(context, Uri.parse(authorizeUrl))
            return result.await()
        } catch (e: android.content.ActivityNotFoundException) {
            throw BrowserException.Failed("no browser is installed")
        } finally {
            pending.compareAndSet(mine, null)
        }
    }

    companion object {
        private val pending = AtomicReference<Pending?>(null)

        /**
         * Hands the redirect to the login waiting for it. Returns false if none waits or
         * the URL is not its redirect (ignore it then).
         */
        fun deliver(redirect: Uri): Boolean {
            val waiting = pending.get() ?: return false
            if (!redirect.toString().startsWith(waiting.redirectPrefix)) return false
            return waiting.result.complete(redirect.toString())
        }

        /** The patient came back without finishing the login: the login is cancelled. */
        fun cancelPending() {
            pending.getAndSet(null)?.result?.completeExceptionally(BrowserException.Cancelled())
        }
    }
}

/**
 * Receives the login redirect and hands it to [CustomTabsAuthBrowser]. Declare it in
 * the app's manifest with the app's redirect scheme:
 *
 * ```xml
 * <activity android:name="se.nara.platform.NaraRedirectActivity"
 *     android:exported="true" android:launchMode="singleTask"
 *     android:theme="@android:style/Theme.Translucent.NoTitleBar">
 *   <intent-filter>
 *     <action android:name="android.intent.action.VIEW" />
 *     <category android:name="android.intent.category.DEFAULT" />
 *     <category android:name="android.intent.category.BROWSABLE" />
 *     <data android:scheme="se.nara.app" android:path="/callback" />
 *   </intent-filter>
 * </activity>
 * ```
 */
class NaraRedirectActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        intent?.data?.let { CustomTabsAuthBrowser.deliver(it) }
        // Back to the app's activity that started the login (below the Custom Tab).
        finish()
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        intent.data?.let { CustomTabsAuthBrowser.deliver(it) }
        finish()
    }
}
