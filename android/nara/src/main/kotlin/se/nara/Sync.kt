package se.nara

import kotlin.time.Duration
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.map
import uniffi.nara.BrowserException
import uniffi.nara.Change
import uniffi.nara.ChangeListener
import uniffi.nara.Nara
import uniffi.nara.Region
import uniffi.nara.StopReason
import uniffi.nara.SyncException
import uniffi.nara.SyncProgress
import uniffi.nara.SyncProgressListener
import uniffi.nara.SyncReport
import uniffi.nara.SyncStatus

// Sync helpers over the region area. Platform-neutral (no android.*): the JVM binding
// tests compile this file as it is. No sync rule lives here: the core decides what to
// send, when to stop and what the status is.

/**
 * Opens the region's login page in the system browser and returns where it redirected.
 *
 * Android: [se.nara.platform.CustomTabsAuthBrowser]. Return the full redirect URL (with
 * `code` and `state`) once the browser reaches [redirectUri][authorize]; throw
 * `BrowserException.Cancelled` when the patient closes the page. The core builds the
 * URL (PKCE S256, `state`), checks the redirect and exchanges the code; a browser only
 * carries URLs.
 */
fun interface AuthBrowser {
    /** Shows [authorizeUrl]; returns the URL the browser was redirected to. */
    suspend fun authorize(authorizeUrl: String, redirectUri: String): String
}

/**
 * Logs in to the region at [fhirBase] (SMART standalone patient launch) and returns the
 * patient's FHIR id: `beginLogin` (discovery, PKCE S256, `state`), the [browser], then
 * `finishLogin` (checks `state`, exchanges the code, stores the refresh token
 * encrypted).
 *
 * One patient per store: the store belongs to the region and patient of its first
 * login, and everything on it is sent with that patient as subject — readings captured
 * before the first login belong to whoever logs in first. A login as another patient
 * (or to another region) throws `SyncException.AnotherPatient` and keeps nothing; tell
 * the person that the phone holds someone else's data, which that patient must log in
 * to, or which a logout deletes. The store's own patient may always log in again.
 *
 * Throws `SyncException.LoginCancelled` when the browser reports
 * `BrowserException.Cancelled`, `SyncException.Auth` for a failed browser or a refused
 * login, `SyncException.Network` when the region cannot be reached,
 * `SyncException.AnotherPatient` when the store belongs to another patient.
 */
suspend fun Region.login(
    fhirBase: String,
    clientId: String,
    redirectUri: String,
    browser: AuthBrowser,
): String {
    val pending = beginLogin(fhirBase, clientId, redirectUri)
    try {
        val redirect = try {
            browser.authorize(pending.authorizeUrl(), pending.redirectUri())
        } catch (e: BrowserException.Cancelled) {
            throw SyncException.LoginCancelled()
        } catch (e: BrowserException.Failed) {
            throw SyncException.Auth("the login page failed: ${e.detail}")
        }
        return finishLogin(pending, redirect)
    } finally {
        pending.close()
    }
}

/**
 * The sync status as a cold [Flow]: the current status first, then a fresh one after
 * every change that can alter it (`Change.SyncChanged` from login, progress, failures and
 * finished syncs; new readings, which add to `pending`; `Change.Lagged`).
 *
 * Conflated and without repeats, which is what a status line wants. Completes when the
 * store is closed or wiped (logout).
 */
fun Nara.syncStatus(): Flow<SyncStatus> {
    val region = region()
    return callbackFlow {
        // Subscribe before the first read, so that no change falls in between.
        val handle = subscribe(object : ChangeListener {
            override fun onChange(change: Change) {
                when (change) {
                    is Change.SyncChanged,
                    is Change.ReadingAdded,
                    is Change.ReadingsImported,
                    is Change.Lagged,
                    -> trySend(Unit)
                    else -> {}
                }
            }

            override fun onStopped(reason: StopReason) {
                when (reason) {
                    is StopReason.Failed -> close(NaraListenerFailedException(reason.detail))
                    else -> close()
                }
            }
        })
        trySend(Unit)
        awaitClose {
            handle.cancel()
            handle.close()
        }
    }
        .buffer(Channel.CONFLATED)
        .map { region.status() }
        .distinctUntilChanged()
}

/**
 * One budgeted sync, for background work (WorkManager) or a "sync now" button: uploads
 * what waits and downloads the care plan until [budget] runs out.
 *
 * `SyncReport.finished` false means "more to do": schedule another run. [onProgress] is
 * called from the core's threads. Cancelling the calling coroutine stops only the wait;
 * the core finishes (or checkpoints) on its own, and a sync started meanwhile fails with
 * `SyncException.Busy`.
 */
suspend fun Region.syncWithin(
    budget: Duration,
    onProgress: ((SyncProgress) -> Unit)? = null,
): SyncReport {
    val listener = onProgress?.let { handler ->
        object : SyncProgressListener {
            override fun onProgress(progress: SyncProgress) = handler(progress)
        }
    }
    return syncNow(budget.inWholeMilliseconds.coerceAtLeast(0).toULong(), listener)
}
