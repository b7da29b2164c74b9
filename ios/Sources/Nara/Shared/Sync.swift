// Platform-neutral: built for iOS and, by tests/bindings/swift/run, on Linux.
//
// Sync helpers over the region area. No sync rule lives here: the core decides what to
// send, when to stop (the budget) and what the status is.

/// Opens the region's login page in the system browser and returns where it redirected.
///
/// iOS: `WebAuthenticationBrowser` (`ASWebAuthenticationSession`). Return the full
/// redirect URL (with `code` and `state`) once the browser reaches `redirectUri`; throw
/// `BrowserError.Cancelled` when the patient closes the page. The core builds the URL
/// (PKCE S256, `state`), checks the redirect and exchanges the code; a browser only
/// carries URLs.
public protocol AuthBrowser: Sendable {
    /// Shows `authorizeUrl`; returns the URL the browser was redirected to.
    func authorize(authorizeUrl: String, redirectUri: String) async throws -> String
}

/// Forwards sync progress to a closure (called from the core's threads).
final class ClosureSyncProgress: SyncProgressListener, Sendable {
    private let handler: @Sendable (SyncProgress) -> Void

    init(_ handler: @escaping @Sendable (SyncProgress) -> Void) {
        self.handler = handler
    }

    func onProgress(progress: SyncProgress) {
        handler(progress)
    }
}

/// Yields a tick for every change that can alter the sync status.
final class SyncTickListener: ChangeListener, Sendable {
    private let continuation: AsyncStream<Void>.Continuation

    init(_ continuation: AsyncStream<Void>.Continuation) {
        self.continuation = continuation
    }

    func onChange(change: Change) {
        switch change {
        case .syncChanged, .readingAdded, .readingsImported, .lagged:
            continuation.yield()
        default:
            break
        }
    }

    func onStopped(reason: StopReason) {
        continuation.finish()
    }
}

extension Region {
    /// Logs in to the region at `fhirBase` (SMART standalone patient launch) and returns
    /// the patient's FHIR id: `beginLogin` (discovery, PKCE S256, `state`), the
    /// `browser`, then `finishLogin` (checks `state`, exchanges the code, stores the
    /// refresh token encrypted).
    ///
    /// One patient per store: the store belongs to the region and patient of its first
    /// login, and everything on it is sent with that patient as subject — readings
    /// captured before the first login belong to whoever logs in first. A login as
    /// another patient (or to another region) throws `SyncError.AnotherPatient` and keeps
    /// nothing; tell the person that the phone holds someone else's data, which that
    /// patient must log in to, or which a logout deletes. The store's own patient may
    /// always log in again.
    ///
    /// - Throws: `SyncError.LoginCancelled` when the browser throws
    ///   `BrowserError.Cancelled`; `SyncError.Auth` for a failed browser or a refused
    ///   login; `SyncError.Network` when the region cannot be reached;
    ///   `SyncError.AnotherPatient` when the store belongs to another patient.
    public func login(
        fhirBase: String,
        clientId: String,
        redirectUri: String,
        browser: some AuthBrowser
    ) async throws -> String {
        let pending = try await beginLogin(fhirBase: fhirBase, clientId: clientId, redirectUri: redirectUri)
        let redirect: String
        do {
            redirect = try await browser.authorize(authorizeUrl: pending.authorizeUrl(), redirectUri: pending.redirectUri())
        } catch BrowserError.Cancelled {
            throw SyncError.LoginCancelled
        } catch BrowserError.Failed(let detail) {
            throw SyncError.Auth(detail: "the login page failed: \(detail)")
        }
        return try await finishLogin(pending: pending, redirectUrl: redirect)
    }

    /// A budget that fits a `BGAppRefreshTask` (about 30 s of background time).
    public static let appRefreshBudget: Duration = .seconds(25)

    /// One budgeted sync, for a `BGAppRefreshTask`/`BGProcessingTask` or a "sync now"
    /// button: uploads what waits and downloads the care plan until `budget` runs out.
    ///
    /// `SyncReport.finished == false` means "more to do": schedule another run. The
    /// core stops with everything consistent when the budget ends, so the task can be
    /// completed right after this returns. `onProgress` is called from the core's
    /// threads; hop to the main actor to update UI.
    ///
    /// ```swift
    /// let report = try await nara.region().sync(within: Region.appRefreshBudget)
    /// task.setTaskCompleted(success: report.finished)
    /// ```
    public func sync(
        within budget: Duration,
        onProgress: (@Sendable (SyncProgress) -> Void)? = nil
    ) async throws -> SyncReport {
        let (seconds, attoseconds) = budget.components
        let millis = max(0, seconds) * 1000 + max(0, attoseconds) / 1_000_000_000_000_000
        return try await syncNow(budgetMs: UInt64(millis), progress: onProgress.map(ClosureSyncProgress.init))
    }
}

extension Nara {
    /// The sync status as an `AsyncStream`: the current status first, then a fresh one
    /// after every change that can alter it (`.syncChanged` from login, progress,
    /// failures and finished syncs; new readings, which add to `pending`; `.lagged`).
    /// Repeats are skipped. The stream finishes when the store is closed or wiped
    /// (logout), or a status cannot be read.
    ///
    /// - Throws: `NaraError.Closed` if the store is closed.
    public func syncStatus() throws -> AsyncStream<SyncStatus> {
        // Subscribe before the first read, so that no change falls in between.
        let (ticks, tick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let handle = try subscribe(listener: SyncTickListener(tick))
        tick.yield()
        let region = region()
        let (stream, continuation) = AsyncStream.makeStream(of: SyncStatus.self, bufferingPolicy: .bufferingNewest(1))
        let reader = Task {
            var last: SyncStatus?
            for await _ in ticks {
                guard let status = try? await region.status() else { break }
                if status != last {
                    continuation.yield(status)
                    last = status
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in
            handle.cancel()
            reader.cancel()
        }
        return stream
    }
}
