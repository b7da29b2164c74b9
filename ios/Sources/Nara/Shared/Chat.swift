// Platform-neutral: built for iOS and, by tests/bindings/swift/run, on Linux.
//
// The chat area as Swift concurrency: `AsyncStream`s over the core's thread-list and
// thread listeners (same shape as Streams.swift), an `AsyncSequence` of pages that
// follows the cursors, and a `send` with labelled arguments. Message texts, previews and
// photos are patient data: they are handed to the consumer only, never logged.

/// The chat error's `description` is the core's message (no patient data); each
/// validation case also carries an `explanation` for the patient in Swedish and English.
extension ChatError: CustomStringConvertible {}

/// Yields every thread list into a stream.
final class ThreadsStreamListener: ThreadsListener, Sendable {
    private let continuation: AsyncStream<[ThreadSummary]>.Continuation

    init(_ continuation: AsyncStream<[ThreadSummary]>.Continuation) {
        self.continuation = continuation
    }

    func onThreads(threads: [ThreadSummary]) {
        continuation.yield(threads)
    }

    func onStopped(reason: StopReason) {
        continuation.finish()
    }
}

/// Yields every newest page of a thread into a stream.
final class ThreadStreamListener: ThreadListener, Sendable {
    private let continuation: AsyncStream<MessagePage>.Continuation

    init(_ continuation: AsyncStream<MessagePage>.Continuation) {
        self.continuation = continuation
    }

    func onPage(page: MessagePage) {
        continuation.yield(page)
    }

    func onStopped(reason: StopReason) {
        continuation.finish()
    }
}

extension Chat {
    /// Newest messages per page unless the caller says otherwise.
    public static let defaultPageSize: UInt32 = 50

    /// The thread list as a stream: the current list first, then a fresh list after every
    /// change to a thread, a message, an unread count or a read mark. The most recently
    /// active thread comes first.
    ///
    /// Only the newest list matters to a screen, so by default the stream keeps just the
    /// latest one while the consumer is busy. The core's watch is cancelled when the
    /// consuming loop ends or its task is cancelled; the stream finishes when the store is
    /// closed or wiped, or reading it fails.
    ///
    /// ```swift
    /// for await threads in try nara.chat().watchThreads() {
    ///     rows = threads
    /// }
    /// ```
    ///
    /// - Throws: `ChatError.Closed` if the store is closed.
    public func watchThreads(
        bufferingPolicy: AsyncStream<[ThreadSummary]>.Continuation.BufferingPolicy = .bufferingNewest(1)
    ) throws -> AsyncStream<[ThreadSummary]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [ThreadSummary].self, bufferingPolicy: bufferingPolicy)
        let handle = try watchThreads(listener: ThreadsStreamListener(continuation))
        continuation.onTermination = { _ in handle.cancel() }
        return stream
    }

    /// The newest `limit` messages of thread `threadId`, newest first, as a stream: now,
    /// then after every change to that thread (a message sent or received, a delivery
    /// state, a read mark). Older messages: `pages(threadId:pageSize:)`, or `page` with
    /// the page's `nextCursor`.
    ///
    /// Keeps only the newest page by default, like `watchThreads()`.
    ///
    /// - Throws: `ChatError.Closed` if the store is closed.
    public func watchThread(
        _ threadId: String,
        limit: UInt32 = Chat.defaultPageSize,
        bufferingPolicy: AsyncStream<MessagePage>.Continuation.BufferingPolicy = .bufferingNewest(1)
    ) throws -> AsyncStream<MessagePage> {
        let (stream, continuation) = AsyncStream.makeStream(of: MessagePage.self, bufferingPolicy: bufferingPolicy)
        let handle = try watchThread(threadId: threadId, limit: limit, listener: ThreadStreamListener(continuation))
        continuation.onTermination = { _ in handle.cancel() }
        return stream
    }

    /// Every page of thread `threadId`, newest first, `pageSize` messages each, following
    /// the cursors to the start of the thread. Each page is read when the loop asks for
    /// it, so breaking out stops the reading.
    ///
    /// ```swift
    /// for try await page in nara.chat().pages(threadId: id) {
    ///     older.append(contentsOf: page.messages)
    /// }
    /// ```
    public func pages(threadId: String, pageSize: UInt32 = Chat.defaultPageSize) -> ChatPages {
        ChatPages(chat: self, threadId: threadId, pageSize: pageSize)
    }

    /// Writes `text` (and `photos`) to the care unit of thread `threadId`, offline: stored
    /// durably and queued for the next sync (`delivery` is `.queued`).
    ///
    /// - Throws: a `ChatError` naming what is wrong, never the text; each validation case
    ///   carries an `explanation` for the patient.
    public func send(
        threadId: String,
        text: String,
        photos: [NewChatPhoto] = [],
        inReplyTo: String? = nil
    ) async throws -> ChatMessage {
        try await send(message: NewChatMessage(threadId: threadId, text: text, photos: photos, inReplyTo: inReplyTo))
    }
}

/// The pages of one thread, newest first, read one at a time as they are asked for.
public struct ChatPages: AsyncSequence, Sendable {
    /// A page, newest messages first.
    public typealias Element = MessagePage

    let chat: Chat
    let threadId: String
    let pageSize: UInt32

    /// Reads the next page on each `next()`.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let chat: Chat
        let threadId: String
        let pageSize: UInt32
        var cursor: String?
        var done = false

        /// The next, older page, or `nil` after the first message of the thread.
        public mutating func next() async throws -> MessagePage? {
            if done { return nil }
            let page = try await chat.page(threadId: threadId, cursor: cursor, limit: pageSize)
            cursor = page.nextCursor
            done = page.nextCursor == nil
            return page
        }
    }

    /// Starts at the newest page.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(chat: chat, threadId: threadId, pageSize: pageSize, cursor: nil)
    }
}
