// Apple only: the unified logging system (os.Logger).
#if canImport(os)
import Foundation
import os

/// A `LogSink` that forwards the core's log records to the unified logging system
/// (Console.app, `log stream`), one `Logger` category per Rust target (module path).
///
/// The core promises that its log messages carry no patient data (DESIGN.md §2), so
/// messages are logged as `.public`; without that, release builds would show `<private>`.
///
/// ```swift
/// try initPlatform(runtime: .full, logLevel: .info, logSink: OSLogSink())
/// ```
public final class OSLogSink: LogSink, @unchecked Sendable {
    /// The subsystem all records are logged under.
    public let subsystem: String

    private let lock = NSLock()
    private var loggers: [String: Logger] = [:]

    /// A sink logging under `subsystem` (by default the bundle id plus `.nara`).
    public init(subsystem: String = (Bundle.main.bundleIdentifier ?? "nara") + ".nara") {
        self.subsystem = subsystem
    }

    /// Writes one record; called by the core on any thread.
    public func log(level: LogLevel, target: String, message: String) {
        let logger = logger(for: target)
        switch level {
        case .error: logger.error("\(message, privacy: .public)")
        case .warn: logger.warning("\(message, privacy: .public)")
        case .info: logger.info("\(message, privacy: .public)")
        case .debug: logger.debug("\(message, privacy: .public)")
        case .trace: logger.trace("\(message, privacy: .public)")
        }
    }

    private func logger(for target: String) -> Logger {
        lock.lock()
        defer { lock.unlock() }
        if let existing = loggers[target] { return existing }
        let made = Logger(subsystem: subsystem, category: target)
        loggers[target] = made
        return made
    }
}
#endif
