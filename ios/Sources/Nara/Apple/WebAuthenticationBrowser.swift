// Apple platforms only (not built by the Linux binding tests).
//
// The login page in the system browser: `ASWebAuthenticationSession` shows the region's
// authorization page and hands back the redirect to the app's URL scheme
// (`se.nara.app:/callback`). The core builds the URL (PKCE S256, `state`), checks the
// redirect and exchanges the code; this class only carries URLs.
#if canImport(AuthenticationServices) && canImport(UIKit)
@preconcurrency import AuthenticationServices
import Foundation
import UIKit

/// An `AuthBrowser` (the facade's protocol) over `ASWebAuthenticationSession`.
///
/// ```swift
/// let patient = try await nara.region().login(
///     fhirBase: "https://fhir.region.se/r4", clientId: "nara-app",
///     redirectUri: "se.nara.app:/callback", browser: WebAuthenticationBrowser())
/// ```
///
/// Cancelling the calling task closes the page. Closing the page throws
/// `BrowserError.Cancelled`, which `login` reports as `SyncError.LoginCancelled`.
public final class WebAuthenticationBrowser: AuthBrowser, @unchecked Sendable {
    private let prefersEphemeralSession: Bool
    private let lock = NSLock()
    private var session: ASWebAuthenticationSession?

    /// - Parameter prefersEphemeralSession: do not share cookies with Safari (default),
    ///   so a shared device never logs the next person in as the previous one.
    public init(prefersEphemeralSession: Bool = true) {
        self.prefersEphemeralSession = prefersEphemeralSession
    }

    public func authorize(authorizeUrl: String, redirectUri: String) async throws -> String {
        guard let url = URL(string: authorizeUrl),
              let scheme = URL(string: redirectUri)?.scheme
        else {
            throw BrowserError.Failed(detail: "the login or redirect address is not a URL")
        }
        let ephemeral = prefersEphemeralSession
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, Error>) in
                Task { @MainActor in
                    let session = ASWebAuthenticationSession(url: url, callbackURLScheme: scheme) { callback, error in
                        if let callback {
                            continuation.resume(returning: callback.absoluteString)
                        } else if let error = error as? ASWebAuthenticationSessionError,
                                  error.code == .canceledLogin {
                            continuation.resume(throwing: BrowserError.Cancelled)
                        } else {
                            continuation.resume(throwing: BrowserError.Failed(detail: "the login page failed"))
                        }
                    }
                    session.presentationContextProvider = KeyWindowAnchor.shared
                    session.prefersEphemeralWebBrowserSession = ephemeral
                    self.remember(session)
                    if !session.start() {
                        self.remember(nil)
                        continuation.resume(throwing: BrowserError.Failed(detail: "the login page could not be opened"))
                    }
                }
            }
        } onCancel: {
            // `cancel()` calls the completion handler with `.canceledLogin`.
            let session = self.remember(nil)
            Task { @MainActor in session?.cancel() }
        }
    }

    @discardableResult
    private func remember(_ new: ASWebAuthenticationSession?) -> ASWebAuthenticationSession? {
        lock.lock()
        defer { lock.unlock() }
        let old = session
        session = new
        return old
    }
}

/// Presents the login page over the app's key window.
@MainActor
private final class KeyWindowAnchor: NSObject, ASWebAuthenticationPresentationContextProviding {
    static let shared = KeyWindowAnchor()

    func presentationAnchor(for session: ASWebAuthenticationSession) -> ASPresentationAnchor {
        let scenes = UIApplication.shared.connectedScenes.compactMap { $0 as? UIWindowScene }
        return scenes.flatMap(\.windows).first(where: \.isKeyWindow) ?? ASPresentationAnchor()
    }
}
#endif
