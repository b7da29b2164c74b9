// Apple platforms only (not built by the Linux binding tests).
//
// Background sync with BGTaskScheduler: one budgeted `syncNow` per app refresh task.
// The core stops with everything consistent when the budget ends, so nothing is lost
// when iOS takes the time back; an unfinished run asks for another.
#if canImport(BackgroundTasks) && canImport(UIKit)
@preconcurrency import BackgroundTasks
import Foundation

/// Registers and schedules Nära's background sync.
///
/// Add `se.nara.sync` to `BGTaskSchedulerPermittedIdentifiers` in Info.plist, call
/// `register(nara:)` before the app finishes launching and `schedule()` when it goes to
/// the background.
public enum NaraBackgroundSync {
    /// The task identifier (Info.plist `BGTaskSchedulerPermittedIdentifiers`).
    public static let identifier = "se.nara.sync"

    /// Registers the handler; `nara` returns the process's open store.
    public static func register(nara: @escaping @Sendable () async throws -> Nara) {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: identifier, using: nil) { task in
            schedule()
            let work = Task {
                do {
                    let report = try await nara().region().sync(within: Region.appRefreshBudget)
                    if !report.finished { schedule(after: 60) }
                    task.setTaskCompleted(success: true)
                } catch SyncError.NotLoggedIn {
                    task.setTaskCompleted(success: true)
                } catch {
                    task.setTaskCompleted(success: false)
                }
            }
            // The core's sync only stops at its budget; iOS's expiry comes later than it.
            task.expirationHandler = { work.cancel() }
        }
    }

    /// Asks iOS to run the sync when the network is up, not before `after` seconds.
    public static func schedule(after seconds: TimeInterval = 15 * 60) {
        let request = BGAppRefreshTaskRequest(identifier: identifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: seconds)
        try? BGTaskScheduler.shared.submit(request)
    }
}
#endif
