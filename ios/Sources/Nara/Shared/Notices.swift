// Platform-neutral: built for iOS and, by tests/bindings/swift/run, on Linux.
//
// The notices area as Swift concurrency: an `AsyncStream` of the notice list over the
// core's listener (same shape as Chat.swift), answers with labelled helpers, and form
// answers kept as a dictionary by linkId. A cancel reason, reschedule wishes and form
// answers are patient data: they are handed to the core only, never logged.

import Foundation

/// The notice error's `description` is the core's message (no patient data, never the
/// patient's text); each rule case also carries an `explanation` for the patient in
/// Swedish and English (`PastCutoff` with the clinic's phone).
extension NoticeError: CustomStringConvertible {}

/// The form error's `description` is the core's message (items by linkId, never an
/// answer); `Invalid` lists the issues, each with an `explanation` for the patient.
extension FormError: CustomStringConvertible {}

/// Yields every notice list into a stream.
final class NoticesStreamListener: NoticesListener, Sendable {
    private let continuation: AsyncStream<[Notice]>.Continuation

    init(_ continuation: AsyncStream<[Notice]>.Continuation) {
        self.continuation = continuation
    }

    func onNotices(notices: [Notice]) {
        continuation.yield(notices)
    }

    func onStopped(reason: StopReason) {
        continuation.finish()
    }
}

extension Notices {
    /// The notice list as a stream: the current list first, then a fresh list after every
    /// change to a notice or its form (a sync, an opening, an answer, a draft saved or a
    /// form submitted). Upcoming notices come first, soonest first.
    ///
    /// Keeps only the newest list by default while the consumer is busy. The core's watch
    /// is cancelled when the consuming loop ends or its task is cancelled; the stream
    /// finishes when the store is closed or wiped, or reading it fails.
    ///
    /// ```swift
    /// for await notices in try nara.notices().watchNotices() {
    ///     rows = notices
    /// }
    /// ```
    ///
    /// - Throws: `NoticeError.Closed` if the store is closed.
    public func watchNotices(
        bufferingPolicy: AsyncStream<[Notice]>.Continuation.BufferingPolicy = .bufferingNewest(1)
    ) throws -> AsyncStream<[Notice]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [Notice].self, bufferingPolicy: bufferingPolicy)
        let handle = try watchNotices(listener: NoticesStreamListener(continuation))
        continuation.onTermination = { _ in handle.cancel() }
        return stream
    }

    /// "I will come."
    ///
    /// - Throws: a `NoticeError` naming the rule (`Moved`: open the notice first).
    @discardableResult
    public func confirm(noticeId: String) async throws -> GivenNoticeAnswer {
        try await answer(noticeId: noticeId, answer: .confirm)
    }

    /// "I will not come", with an optional reason. Only before the clinic's cut-off.
    ///
    /// - Throws: `NoticeError.PastCutoff` with the clinic's `phone` and an `explanation`
    ///   when it is too late to cancel in the app.
    @discardableResult
    public func cancel(noticeId: String, reason: String = "") async throws -> GivenNoticeAnswer {
        try await answer(noticeId: noticeId, answer: .cancel(reason: reason))
    }

    /// "Please give me another time": wishes as free text and/or preferred windows.
    /// Only before the clinic's cut-off, like `cancel(noticeId:reason:)`.
    @discardableResult
    public func reschedule(
        noticeId: String,
        wishes: String = "",
        windows: [(start: Date, end: Date)] = []
    ) async throws -> GivenNoticeAnswer {
        try await answer(
            noticeId: noticeId,
            answer: .reschedule(wishes: wishes, windows: windows.map { TimeWindow(start: $0.start, end: $0.end) })
        )
    }

    /// Saves `answers` (by linkId, replacing the draft) and returns the session with what
    /// to show and what is wrong now.
    public func saveDraft(
        questionnaireId: String,
        noticeId: String?,
        answers: [String: [FormAnswer]]
    ) async throws -> FormSession {
        try await saveDraft(
            questionnaireId: questionnaireId,
            noticeId: noticeId,
            answers: answers.map { FormItemAnswers(linkId: $0.key, values: $0.value) }
        )
    }
}

extension FormItem {
    /// This item and every item inside it, depth first in display order.
    public var allItems: [FormItem] {
        [self] + children.flatMap(\.allItems)
    }
}

extension FormSession {
    /// Every item of the form, depth first in display order (groups before their
    /// children).
    public var allItems: [FormItem] {
        form.items.flatMap(\.allItems)
    }

    /// The item `linkId` anywhere in the form.
    public func item(_ linkId: String) -> FormItem? {
        allItems.first { $0.linkId == linkId }
    }

    /// Whether item `linkId` is shown now (the core evaluated its enableWhen).
    public func isEnabled(_ linkId: String) -> Bool {
        enabled.contains(linkId)
    }

    /// The answers so far, by linkId.
    public var answerMap: [String: [FormAnswer]] {
        Dictionary(answers.map { ($0.linkId, $0.values) }, uniquingKeysWith: { _, last in last })
    }

    /// This session's answers with item `linkId` set to `values` (none: cleared), ready
    /// for `Notices.saveDraft`. Answers of items that become hidden are kept and ignored
    /// by the core.
    public func answers(setting linkId: String, to values: FormAnswer...) -> [String: [FormAnswer]] {
        var map = answerMap
        map[linkId] = values
        return map
    }
}
