// Platform-neutral: built for iOS and, by tests/bindings/swift/run, on Linux.
//
// The self-care content area as Swift concurrency: an `AsyncStream` of the article list
// over the core's listener (same shape as Notices.swift), and walks over the sanitised
// document the core returns (its text for accessibility, its links). The document is
// rendered natively; nothing here turns it into HTML.

import Foundation

/// The content error's `description` is the core's message (never an article's text).
extension ContentError: CustomStringConvertible {}

/// Yields every article list into a stream.
final class ContentStreamListener: ContentListener, Sendable {
    private let continuation: AsyncStream<[ArticleSummary]>.Continuation

    init(_ continuation: AsyncStream<[ArticleSummary]>.Continuation) {
        self.continuation = continuation
    }

    func onArticles(articles: [ArticleSummary]) {
        continuation.yield(articles)
    }

    func onStopped(reason: StopReason) {
        continuation.finish()
    }
}

extension Content {
    /// The article list in `preferred` as a stream: the current list first, then a fresh
    /// list after every change to the content (a sync, an eviction, a new assignment).
    /// Assigned articles come first, then the library by title; an article missing in
    /// `preferred` is listed in Swedish with `fellBack` set.
    ///
    /// Keeps only the newest list by default while the consumer is busy. The core's watch
    /// is cancelled when the consuming loop ends or its task is cancelled; the stream
    /// finishes when the store is closed or wiped, or reading it fails.
    ///
    /// ```swift
    /// for await articles in try nara.content().watchContent(preferred: .sv) {
    ///     rows = articles
    /// }
    /// ```
    ///
    /// - Throws: `ContentError.Closed` if the store is closed.
    public func watchContent(
        preferred: ContentLanguage,
        bufferingPolicy: AsyncStream<[ArticleSummary]>.Continuation.BufferingPolicy = .bufferingNewest(1)
    ) throws -> AsyncStream<[ArticleSummary]> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: [ArticleSummary].self, bufferingPolicy: bufferingPolicy)
        let handle = try watchContent(preferred: preferred, listener: ContentStreamListener(continuation))
        continuation.onTermination = { _ in handle.cancel() }
        return stream
    }
}

extension Array where Element == Inline {
    /// The text of these inlines as read aloud: link texts included, line breaks as `\n`.
    public var plainText: String {
        map { inline -> String in
            switch inline {
            case .text(let text): return text
            case .emphasis(let inlines), .strong(let inlines): return inlines.plainText
            case .link(_, _, let inlines): return inlines.plainText
            case .lineBreak: return "\n"
            }
        }.joined()
    }

    /// Every link target in these inlines, in reading order.
    public var links: [LinkTarget] {
        flatMap { inline -> [LinkTarget] in
            switch inline {
            case .link(let target, _, let inlines): return [target] + inlines.links
            case .emphasis(let inlines), .strong(let inlines): return inlines.links
            default: return []
            }
        }
    }
}

extension Block {
    /// The block's text (one line per paragraph, heading, list item paragraph and alt).
    public var plainText: String {
        switch self {
        case .heading(_, let inlines), .paragraph(let inlines): return inlines.plainText
        case .bulletList(let items), .orderedList(_, let items):
            return items.map { $0.blocks.plainText }.joined(separator: "\n")
        case .quote(let blocks): return blocks.plainText
        case .image(_, let alt): return alt
        case .rule: return ""
        }
    }

    /// Every link target in the block, in reading order.
    public var links: [LinkTarget] {
        switch self {
        case .heading(_, let inlines), .paragraph(let inlines): return inlines.links
        case .bulletList(let items), .orderedList(_, let items): return items.flatMap { $0.blocks.links }
        case .quote(let blocks): return blocks.links
        case .image, .rule: return []
        }
    }
}

extension Array where Element == Block {
    /// The blocks' text, one line per block (empty blocks skipped).
    public var plainText: String {
        map(\.plainText).filter { !$0.isEmpty }.joined(separator: "\n")
    }

    /// Every link target in these blocks, in reading order.
    public var links: [LinkTarget] { flatMap(\.links) }
}

extension Document {
    /// The document's text, e.g. for a share sheet or a test.
    public var plainText: String { blocks.plainText }

    /// Every link target in the document, in reading order.
    public var links: [LinkTarget] { blocks.links }
}
