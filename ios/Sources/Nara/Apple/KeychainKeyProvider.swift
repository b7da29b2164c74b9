// Apple only: the Keychain and CryptoKit do not exist on Linux.
#if canImport(Security) && canImport(CryptoKit)
import CryptoKit
import Foundation
import Security

/// A `KeyProvider` that wraps Nära's data key with a key-encryption key (KEK) kept in the
/// Keychain.
///
/// The KEK is 256 random bits, created on first use, stored as a generic password with
/// `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`: it never leaves this device (not in
/// backups restored elsewhere, not in iCloud Keychain) and is readable by background work
/// once the device has been unlocked after boot. The data key is sealed with AES-256-GCM
/// (CryptoKit); the wrapped form is `version byte ‖ nonce ‖ ciphertext ‖ tag`, with the
/// version and a fixed context string as authenticated data.
///
/// Errors map to the core's `KeyError`:
/// - the Keychain is locked (`errSecInteractionNotAllowed`, e.g. before first unlock):
///   `.Unavailable`, try again later;
/// - the KEK is gone when a wrapped key must be opened (app reinstalled, device restored):
///   `.Lost`, the data cannot be decrypted (the core then offers a recovery path);
/// - the wrapped key does not open with this KEK (CryptoKit authentication failure):
///   `.WrongKey`.
public final class KeychainKeyProvider: KeyProvider, @unchecked Sendable {
    /// The Keychain service of the KEK item.
    public let service: String
    /// The Keychain account of the KEK item.
    public let account: String
    /// An optional Keychain access group (for sharing with an app extension).
    public let accessGroup: String?

    private let lock = NSLock()
    private static let formatVersion: UInt8 = 1
    private static let context = Data("nara.data-key.v1".utf8)

    /// A provider whose KEK lives under `service`/`account` in the Keychain.
    ///
    /// - Parameters:
    ///   - service: the item's service; by default `"<bundle id>.nara"`.
    ///   - account: the item's account, one per data directory if the app has several.
    ///   - accessGroup: a shared access group, or `nil` for the app's default group.
    public init(
        service: String = (Bundle.main.bundleIdentifier ?? "nara") + ".nara",
        account: String = "data-key-kek",
        accessGroup: String? = nil
    ) {
        self.service = service
        self.account = account
        self.accessGroup = accessGroup
    }

    /// Seals `dataKey` with the KEK, creating the KEK if there is none yet.
    public func wrap(dataKey: Data) throws -> Data {
        let kek = try locked { try loadKek() ?? createKek() }
        do {
            let aad = Self.aad()
            let box = try AES.GCM.seal(dataKey, using: kek, authenticating: aad)
            guard let combined = box.combined else { throw KeyError.Other(detail: "AES-GCM produced no output") }
            return Data([Self.formatVersion]) + combined
        } catch let error as KeyError {
            throw error
        } catch {
            throw KeyError.Other(detail: "sealing the data key failed")
        }
    }

    /// Opens a key sealed by `wrap(dataKey:)`.
    public func unwrapKey(wrapped: Data) throws -> Data {
        guard let kek = try locked({ try loadKek() }) else { throw KeyError.Lost }
        guard wrapped.first == Self.formatVersion else { throw KeyError.WrongKey }
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped.dropFirst())
            return try AES.GCM.open(box, using: kek, authenticating: Self.aad())
        } catch CryptoKitError.authenticationFailure {
            throw KeyError.WrongKey
        } catch {
            // A malformed box (too short) cannot have been made with this key either.
            throw KeyError.WrongKey
        }
    }

    /// Deletes the KEK (logout / wipe). Deleting a KEK that does not exist succeeds.
    public func forget() throws {
        try locked {
            let status = SecItemDelete(baseQuery() as CFDictionary)
            guard status == errSecSuccess || status == errSecItemNotFound else {
                throw Self.keyError(status)
            }
        }
    }

    // MARK: - Keychain

    /// Runs `body` under the provider's lock (Keychain read-or-create must not race).
    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private static func aad() -> Data { Data([formatVersion]) + context }

    private func baseQuery() -> [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecAttrSynchronizable as String: kCFBooleanFalse as Any,
        ]
        if let accessGroup { query[kSecAttrAccessGroup as String] = accessGroup }
        // The iOS-style keychain on macOS too (same semantics, access groups).
        query[kSecUseDataProtectionKeychain as String] = true
        return query
    }

    /// The KEK, or `nil` if the item does not exist.
    private func loadKek() throws -> SymmetricKey? {
        var query = baseQuery()
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var out: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &out)
        switch status {
        case errSecSuccess:
            guard let data = out as? Data, data.count == 32 else {
                throw KeyError.Other(detail: "the key-encryption key in the Keychain is malformed")
            }
            return SymmetricKey(data: data)
        case errSecItemNotFound:
            return nil
        default:
            throw Self.keyError(status)
        }
    }

    /// Creates and stores a fresh random KEK; if another thread or process won the race,
    /// returns theirs.
    private func createKek() throws -> SymmetricKey {
        var bytes = Data(count: 32)
        let rc = bytes.withUnsafeMutableBytes { SecRandomCopyBytes(kSecRandomDefault, 32, $0.baseAddress!) }
        guard rc == errSecSuccess else { throw KeyError.Other(detail: "no randomness for the key-encryption key") }
        defer { bytes.resetBytes(in: 0..<bytes.count) }
        var attributes = baseQuery()
        attributes[kSecValueData as String] = bytes
        attributes[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        let status = SecItemAdd(attributes as CFDictionary, nil)
        switch status {
        case errSecSuccess:
            return SymmetricKey(data: bytes)
        case errSecDuplicateItem:
            guard let existing = try loadKek() else { throw KeyError.Unavailable }
            return existing
        default:
            throw Self.keyError(status)
        }
    }

    private static func keyError(_ status: OSStatus) -> KeyError {
        switch status {
        case errSecInteractionNotAllowed:
            return .Unavailable
        default:
            let text = SecCopyErrorMessageString(status, nil) as String? ?? "OSStatus \(status)"
            return .Other(detail: "Keychain: \(text)")
        }
    }
}
#endif
