package se.nara.platform

import android.content.Context
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.NetworkType
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import androidx.work.workDataOf
import java.util.concurrent.TimeUnit
import uniffi.nara.Nara
import uniffi.nara.NaraException
import uniffi.nara.OpenException

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
 * Skeleton until sync exists (issue 4): it then calls the core's budgeted sync entry once
 * per run (one bounded batch within the time WorkManager grants), maps "more to do" to
 * [Result.retry] and "done" to [Result.success]. The worker holds no sync rule.
 */
class NaraSyncWorker(
    context: Context,
    params: WorkerParameters,
) : CoroutineWorker(context, params) {

    override suspend fun doWork(): Result {
        val host = applicationContext as? NaraHost ?: return Result.failure()
        return try {
            val nara = host.nara()
            // Issue 4: `nara.sync().runOnce(budget)` goes here.
            val pending = nara.pendingUploads()
            Result.success(workDataOf(KEY_PENDING to pending.toLong()))
        } catch (e: OpenException.KeyLost) {
            // Only the app, with the patient, may move an unreadable store aside.
            Result.failure()
        } catch (e: OpenException) {
            // Locked device (key unavailable) or storage trouble: WorkManager retries later.
            Result.retry()
        } catch (e: NaraException) {
            // Closed or wiped meanwhile, key unavailable, storage trouble: retry later.
            Result.retry()
        }
    }

    /** Scheduling. */
    companion object {
        /** The unique work name. */
        const val WORK_NAME = "nara-sync"

        /** Output key: how many changes wait for upload after the run. */
        const val KEY_PENDING = "pending"

        private const val INTERVAL_HOURS = 1L

        /** Schedules periodic sync; keeps an existing schedule. */
        fun schedule(context: Context) {
            val request = PeriodicWorkRequestBuilder<NaraSyncWorker>(INTERVAL_HOURS, TimeUnit.HOURS)
                .setConstraints(
                    Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build(),
                )
                .build()
            WorkManager.getInstance(context)
                .enqueueUniquePeriodicWork(WORK_NAME, ExistingPeriodicWorkPolicy.KEEP, request)
        }
    }
}
