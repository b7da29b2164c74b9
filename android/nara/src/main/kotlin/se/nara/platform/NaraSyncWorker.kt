package se.nara.platform

import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.NetworkType
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import androidx.work.workDataOf
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.minutes
import se.nara.syncWithin
import uniffi.nara.Nara
import uniffi.nara.OpenException
import uniffi.nara.SyncException

/**
 * Gives background work the app's open store. Implement it on the `Application`; open
 * the store once per process and return the same [Nara] to every caller.
 */
interface NaraHost {
    /** The process's open store, opening it if needed. */
    suspend fun nara(): Nara
}

/**
 * Background sync with WorkManager: runs when the network is up, at most once per
 * [INTERVAL_HOURS], and leaves every decision to the core.
 *
 * Each run is one `Region.syncNow` within [BUDGET] (WorkManager stops a worker after 10
 * minutes; the core stops with everything consistent before the budget ends). "More to
 * do" (the budget ran out or the network failed) maps to [Result.retry], "done" to
 * [Result.success]. If WorkManager stops the worker early, the core's sync is safe to
 * stop at any point: nothing is lost and nothing is sent twice. The worker holds no sync
 * rule.
 */
class NaraSyncWorker(
    context: Context,
    params: WorkerParameters,
) : CoroutineWorker(context, params) {

    override suspend fun doWork(): Result {
        val host = applicationContext as? NaraHost ?: return Result.failure()
        return try {
            val report = host.nara().region().syncWithin(BUDGET)
            val output = workDataOf(
                KEY_CREATED to report.created.toLong(),
                KEY_PENDING to report.remaining.toLong(),
                KEY_REJECTED to report.rejected.toLong(),
            )
            if (report.finished) Result.success(output) else Result.retry()
        } catch (e: SyncException.NotLoggedIn) {
            // Nothing to sync with yet.
            Result.success()
        } catch (e: SyncException.LoginRequired) {
            // Only the patient can log in again; the app shows it from `status()`.
            Result.failure()
        } catch (e: SyncException) {
            // Busy (a sync from the app is running), network, locked device, storage,
            // closed meanwhile: WorkManager retries later with backoff.
            Result.retry()
        } catch (e: OpenException.KeyLost) {
            // Only the app, with the patient, may move an unreadable store aside.
            Result.failure()
        } catch (e: OpenException) {
            // Locked device (key unavailable) or storage trouble: WorkManager retries later.
            Result.retry()
        }
    }

    /** Scheduling. */
    companion object {
        /** The unique work name. */
        const val WORK_NAME = "nara-sync"

        /** Output key: readings the server stored in this run. */
        const val KEY_CREATED = "created"

        /** Output key: how many readings still wait for upload after the run. */
        const val KEY_PENDING = "pending"

        /** Output key: readings the region refused in this run (kept locally). */
        const val KEY_REJECTED = "rejected"

        /** The time one run may take: below WorkManager's 10-minute limit. */
        val BUDGET = 9.minutes

        private const val INTERVAL_HOURS = 1L

        /** Schedules periodic sync; keeps an existing schedule. */
        fun schedule(context: Context) {
            val request = PeriodicWorkRequestBuilder<NaraSyncWorker>(INTERVAL_HOURS, TimeUnit.HOURS)
                .setConstraints(
                    Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build(),
                )
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 1, TimeUnit.MINUTES)
                .build()
            WorkManager.getInstance(context)
                .enqueueUniquePeriodicWork(WORK_NAME, ExistingPeriodicWorkPolicy.KEEP, request)
        }
    }
}
