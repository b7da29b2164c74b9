// Platform-neutral: built for iOS and, by tests/bindings/swift/run, on Linux.
//
// The generated error enums carry the core's message (Rust `Display`) as `description`
// but do not declare `CustomStringConvertible`, so `localizedDescription` and string
// interpolation showed only the case name. Declaring the conformance makes both show
// the core's message, e.g. "the encryption key does not match this database". The
// messages never contain patient data.

extension OpenError: CustomStringConvertible {}
extension NaraError: CustomStringConvertible {}
extension ReadingError: CustomStringConvertible {}
extension CarePlanError: CustomStringConvertible {}
extension TrendError: CustomStringConvertible {}
extension KeyError: CustomStringConvertible {}
extension PlatformError: CustomStringConvertible {}
extension CallbackError: CustomStringConvertible {}
extension SyncError: CustomStringConvertible {}
extension BrowserError: CustomStringConvertible {}
