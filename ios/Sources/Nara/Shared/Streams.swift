// Platform-neutral: built for iOS and, by tests/bindings/swift/run, on Linux.
//
// `AsyncStream`s over the core's listener interfaces. The core calls a listener from its
// own threads; the listener only yields into the stream's continuation, so no Swift code
// runs while the core holds a lock. Ending the stream (the consuming task is cancelled,
// the loop breaks, the stream is released) cancels the core's subscription.

/// Yields every `Change` into a stream.
final class ChangeStreamListener: ChangeListener, Sendable {
    private let continuation: AsyncStream<Change>.Continuation

    init(_ continuation: AsyncStream<Change>.Continuation) {
        self.continuation = continuation
    }

    func onChange(change: Change) {
        continuation.yield(change)
    }

    func onStopped(reason: StopReason) {
        continuation.finish()
    }
}

/// Yields every list of readings into a stream.
final class ReadingsStreamListener: ReadingsListener, Sendable {
    private let continuation: AsyncStream<[Reading]>.Continuation

    init(_ continuation: AsyncStream<[Reading]>.Continuation) {
        self.continuation = continuation
    }

    func onReadings(readings: [Reading]) {
        continuation.yield(readings)
    }

    func onStopped(reason: StopReason) {
        continuation.finish()
    }
}

extension Nara {
    /// Every change to the store, in order, as an `AsyncStream`.
    ///
    /// Subscribes when called; the subscription ends (and the core stops delivering)
    /// when the consuming loop ends or its task is cancelled. The stream finishes when the
    /// store is closed or wiped (after yielding `.wiped`). A consumer too slow for the
    /// core's bounded queue receives `.lagged(missed:)` and should re-read what it shows.
    ///
    /// ```swift
    /// for await change in try nara.changes() {
    ///     if case .readingAdded = change { await refresh() }
    /// }
    /// ```
    ///
    /// - Parameter bufferingPolicy: what the stream keeps while the consumer is busy;
    ///   unbounded by default, so no change is dropped on the Swift side.
    /// - Throws: `NaraError.Closed` if the store is closed.
    public func changes(
        bufferingPolicy: AsyncStream<Change>.Continuation.BufferingPolicy = .unbounded
    ) throws -> AsyncStream<Change> {
        let (stream, continuation) = AsyncStream.makeStream(of: Change.self, bufferingPolicy: bufferingPolicy)
        let handle = try subscribe(listener: ChangeStreamListener(continuation))
        // The closure keeps the handle alive as long as the stream; dropping it cancels.
        continuation.onTermination = { _ in handle.cancel() }
        return stream
    }
}

extension Readings {
    /// The readings matching `filter`, as a stream of lists: the current list first, then
    /// a fresh list after every change that may affect it.
    ///
    /// Only the newest list matters to a screen, so by default the stream keeps just the
    /// latest one while the consumer is busy. The core's watch is cancelled when the
    /// consuming loop ends or its task is cancelled; the stream finishes when the store is
    /// closed or wiped, or reading it fails.
    ///
    /// - Throws: `ReadingError.Closed` if the store is closed.
    ///
    /// ```swift
    /// for await readings in try nara.readings().watch(.all) {
    ///     rows = readings
    /// }
    /// ```
    public func watch(
        _ filter: ReadingFilter,
        bufferingPolicy: AsyncStream<[Reading]>.Continuation.BufferingPolicy = .bufferingNewest(1)
    ) throws -> AsyncStream<[Reading]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [Reading].self, bufferingPolicy: bufferingPolicy)
        let handle = try watch(filter: filter, listener: ReadingsStreamListener(continuation))
        continuation.onTermination = { _ in handle.cancel() }
        return stream
    }
}

/// Forwards import progress to a closure.
final class ClosureImportProgress: ImportProgress, Sendable {
    private let handler: @Sendable (UInt64, UInt64) -> Void

    init(_ handler: @escaping @Sendable (UInt64, UInt64) -> Void) {
        self.handler = handler
    }

    func onProgress(done: UInt64, total: UInt64) {
        handler(done, total)
    }
}

extension Readings {
    /// Imports a batch (a device's memory), calling `onProgress(done, total)` from the
    /// core's threads as it goes; hop to the main actor to update UI.
    ///
    /// Readings already stored are skipped (`ImportReport.duplicates`); one invalid
    /// reading rejects the whole batch with `ReadingError.InvalidInBatch`.
    public func importReadings(
        _ batch: [NewReading],
        onProgress: @escaping @Sendable (_ done: UInt64, _ total: UInt64) -> Void
    ) async throws -> ImportReport {
        try await importReadings(batch: batch, progress: ClosureImportProgress(onProgress))
    }
}
