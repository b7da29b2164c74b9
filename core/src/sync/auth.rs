//! SMART App Launch, standalone patient launch: discovery, authorization code with PKCE
//! (S256 only), `state`, code exchange, refresh and revocation.
//!
//! The OAuth 2 protocol itself is the `oauth2` crate's; this module adds SMART's
//! discovery (`.well-known/smart-configuration`), the `aud` parameter, the `patient`
//! field of the token response, and the rules of a health app: the access token lives
//! only in memory, the refresh token only sealed in the store, at most one refresh is in
//! flight however many calls need a token, and a refused refresh leaves a clean "login
//! needed" state without touching any reading. The shell opens the system browser through
//! [`AuthBrowser`]. Nothing here logs a token, a code or a URL with a query.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use jiff::Timestamp;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, ExtraTokenFields, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use url::Url;

use crate::sync::transport::{self, TransportConfig, TransportError};

/// Scopes Nära asks for: who the patient is, offline access (a refresh token), and what
/// the sync reads and writes (`.u` withdraws a reading a correction replaced).
pub const SCOPES: &[&str] = &[
    "openid",
    "fhirUser",
    "launch/patient",
    "offline_access",
    "patient/Observation.c",
    "patient/Observation.u",
    "patient/Observation.rs",
    "patient/Goal.rs",
    "patient/CarePlan.rs",
    "patient/Communication.crs",
    "patient/CommunicationRequest.rs",
    "patient/Binary.cr",
    "patient/Appointment.rs",
    "patient/AppointmentResponse.c",
    "patient/Task.c",
    "patient/Questionnaire.r",
    "patient/QuestionnaireResponse.c",
    "patient/DocumentReference.rs",
    "patient/List.rs",
];

/// A boxed future, for traits implemented by the shells.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Opens the login page in the system browser (Custom Tabs, `ASWebAuthenticationSession`)
/// and resolves with the URL the authorization server redirected to.
pub trait AuthBrowser: Send + Sync {
    /// Shows `authorize_url`; resolves with the full redirect URL (with `code` and
    /// `state`) once the browser reaches `redirect_uri`.
    fn authorize<'a>(
        &'a self,
        authorize_url: &'a Url,
        redirect_uri: &'a Url,
    ) -> BoxFuture<'a, Result<Url, BrowserError>>;
}

/// Why the browser step did not return a redirect.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum BrowserError {
    /// The patient closed the login page.
    #[error("the login was cancelled")]
    Cancelled,
    /// The browser could not be opened or failed; no secrets in the text.
    #[error("the login page failed: {0}")]
    Failed(String),
}

/// Why a login, refresh or logout failed. Messages never contain tokens or codes.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The region's SMART configuration could not be read.
    #[error("the region's login configuration could not be read: {0}")]
    Discovery(String),
    /// The region does not offer PKCE with S256.
    #[error("the region does not support PKCE S256")]
    S256Unsupported,
    /// The browser step failed.
    #[error(transparent)]
    Browser(#[from] BrowserError),
    /// The authorization server refused (the patient declined, or an error).
    #[error("the login was refused: {0}")]
    Refused(String),
    /// The redirect's `state` is missing or does not match this login (forged or
    /// replayed): the code is not used.
    #[error("the login response does not belong to this login")]
    StateMismatch,
    /// No login is in progress (a redirect arrived twice).
    #[error("no login is in progress")]
    NoLoginInProgress,
    /// The redirect carries no code.
    #[error("the login response has no authorization code")]
    MissingCode,
    /// The token endpoint failed.
    #[error("the token request failed: {0}")]
    Token(String),
    /// The token response names no patient.
    #[error("the login did not name a patient")]
    NoPatient,
    /// The token response did not include a refresh token (offline access refused).
    #[error("the region did not grant offline access")]
    NoRefreshToken,
    /// The refresh token is gone or was refused: the patient must log in again. Nothing
    /// local was lost.
    #[error("login needed")]
    LoginRequired,
    /// The URL or connection was refused by the transport rules.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A network failure (retry later).
    #[error("network error: {0}")]
    Network(String),
}

/// What `.well-known/smart-configuration` says (the parts Nära uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmartConfiguration {
    /// Where the browser goes.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: String,
    /// Where tokens are revoked on logout.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// PKCE methods; must contain `S256`.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// SMART capabilities.
    #[serde(default)]
    pub capabilities: Vec<String>,
}

impl SmartConfiguration {
    /// S256 must be offered (SMART App Launch 2.0 requires it; we accept nothing else).
    pub fn require_s256(&self) -> Result<(), AuthError> {
        if self
            .code_challenge_methods_supported
            .iter()
            .any(|m| m == "S256")
        {
            Ok(())
        } else {
            Err(AuthError::S256Unsupported)
        }
    }
}

/// Reads the SMART configuration of the FHIR server at `fhir_base`.
pub async fn discover(
    http: &reqwest::Client,
    fhir_base: &Url,
    transport_config: &TransportConfig,
) -> Result<SmartConfiguration, AuthError> {
    transport::check_url(fhir_base, transport_config)?;
    let url = join(fhir_base, ".well-known/smart-configuration")?;
    let response = http
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| AuthError::Discovery(without_url(&e)))?;
    if !response.status().is_success() {
        return Err(AuthError::Discovery(format!(
            "HTTP {}",
            response.status().as_u16()
        )));
    }
    let config: SmartConfiguration = response
        .json()
        .await
        .map_err(|_| AuthError::Discovery("not a SMART configuration".into()))?;
    for endpoint in [
        Some(&config.authorization_endpoint),
        Some(&config.token_endpoint),
        config.revocation_endpoint.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        let url = Url::parse(endpoint).map_err(|_| AuthError::Discovery("bad endpoint".into()))?;
        transport::check_url(&url, transport_config)?;
    }
    Ok(config)
}

/// `base` with `path` appended (keeping the base's own path).
pub fn join(base: &Url, path: &str) -> Result<Url, AuthError> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let p = format!("{}/", base.path());
        base.set_path(&p);
    }
    base.join(path)
        .map_err(|_| AuthError::Transport(TransportError::InvalidUrl))
}

/// A reqwest error described without its URL (which may carry a query).
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_decode() {
        "bad response body"
    } else if e.is_request() || e.is_body() {
        "request failed"
    } else {
        "network error"
    };
    kind.to_owned()
}

/// SMART's additions to the token response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SmartTokenFields {
    /// The patient in context (`launch/patient`).
    #[serde(default)]
    pub patient: Option<String>,
}

impl ExtraTokenFields for SmartTokenFields {}

type SmartTokenResponse = StandardTokenResponse<SmartTokenFields, BasicTokenType>;
type SmartClient = oauth2::Client<
    BasicErrorResponse,
    SmartTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
>;

/// The login as stored (sealed) in the store: where the region is and who the patient is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The FHIR base URL.
    pub fhir_base: String,
    /// The app's OAuth client id.
    pub client_id: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The revocation endpoint, if the region has one.
    pub revocation_endpoint: Option<String>,
    /// The patient's FHIR id.
    pub patient: String,
}

/// An access token in memory.
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer token.
    pub secret: String,
    /// When to stop using it (a margin before the server's expiry).
    pub use_until: Timestamp,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("use_until", &self.use_until)
            .finish_non_exhaustive()
    }
}

/// A login waiting for its redirect: the PKCE verifier and the expected `state`.
pub struct PendingLogin {
    config: SmartConfiguration,
    fhir_base: Url,
    client_id: String,
    redirect_uri: Url,
    verifier: PkceCodeVerifier,
    state: CsrfToken,
    /// The URL to open in the browser.
    pub authorize_url: Url,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin").finish_non_exhaustive()
    }
}

/// Starts a login: checks S256, makes a fresh PKCE verifier and `state`, and builds the
/// authorization URL (with SMART's `aud` and `prompt=consent`, which OpenID Connect
/// requires for `offline_access`).
pub fn prepare_login(
    config: SmartConfiguration,
    fhir_base: &Url,
    client_id: &str,
    redirect_uri: &Url,
) -> Result<PendingLogin, AuthError> {
    config.require_s256()?;
    let client = SmartClient::new(ClientId::new(client_id.to_owned()))
        .set_auth_uri(AuthUrl::new(config.authorization_endpoint.clone()).map_err(bad_endpoint)?)
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_string()).map_err(bad_endpoint)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_owned())))
        .add_extra_param("aud", fhir_base.as_str())
        .add_extra_param("prompt", "consent")
        .set_pkce_challenge(challenge)
        .url();
    Ok(PendingLogin {
        config,
        fhir_base: fhir_base.clone(),
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.clone(),
        verifier,
        state,
        authorize_url,
    })
}

/// Checks a redirect against the pending login and takes its code. A missing or
/// different `state` (forged, or from another login) is refused before anything else is
/// read; an `error` from the server is reported.
pub fn code_from_redirect(
    pending: &PendingLogin,
    redirect: &Url,
) -> Result<AuthorizationCode, AuthError> {
    let (mut state, mut code, mut error) = (None, None, None);
    for (key, value) in redirect.query_pairs() {
        match key.as_ref() {
            "state" => state = Some(value.into_owned()),
            "code" => code = Some(value.into_owned()),
            "error" => error = Some(value.into_owned()),
            _ => {}
        }
    }
    let expected = pending.state.secret().as_bytes();
    let matches = state
        .as_deref()
        .is_some_and(|s| equal_in_constant_time(s.as_bytes(), expected));
    if !matches {
        return Err(AuthError::StateMismatch);
    }
    if let Some(error) = error {
        // RFC 6749 error codes are a fixed ASCII vocabulary; keep only that.
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect();
        return Err(AuthError::Refused(error));
    }
    code.map(AuthorizationCode::new)
        .ok_or(AuthError::MissingCode)
}

/// Compares without an early exit, so the time taken does not reveal how much matched.
fn equal_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a finished login gives: the session to store, the access token for memory and
/// the refresh token to seal.
#[derive(Debug)]
pub struct LoggedIn {
    /// Where and who.
    pub session: Session,
    /// The access token.
    pub access: AccessToken,
    /// The refresh token (seal it).
    pub refresh_token: RefreshToken,
}

#[derive(Debug, Error)]
#[error("{0}")]
struct HttpFailure(String);

/// The `oauth2` crate's HTTP client, over our reqwest client. (A named type rather than
/// a closure, so the futures that hold it stay `Send` for every lifetime.)
struct OAuthHttp<'a>(&'a reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp<'_> {
    type Error = HttpFailure;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpFailure>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(send(self.0, request))
    }
}

fn bad_endpoint<E>(_: E) -> AuthError {
    AuthError::Discovery("bad endpoint".into())
}

async fn send(
    http: &reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, HttpFailure> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(|e| HttpFailure(without_url(&e)))?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| HttpFailure(without_url(&e)))?;
    builder
        .body(bytes.to_vec())
        .map_err(|_| HttpFailure("bad response".into()))
}

fn token_error(e: oauth2::RequestTokenError<HttpFailure, BasicErrorResponse>) -> AuthError {
    use oauth2::RequestTokenError as E;
    use oauth2::basic::BasicErrorResponseType as T;
    match e {
        E::ServerResponse(r) => match r.error() {
            T::InvalidGrant => AuthError::LoginRequired,
            other => AuthError::Token(other.as_ref().to_owned()),
        },
        E::Request(f) => AuthError::Network(f.0),
        E::Parse(_, _) => AuthError::Token("unreadable token response".into()),
        E::Other(_) => AuthError::Token("token request failed".into()),
    }
}

fn access_from(response: &SmartTokenResponse, now: Timestamp) -> AccessToken {
    let lifetime = response.expires_in().unwrap_or(Duration::from_secs(300));
    // Refresh a minute early (or at half-life for very short tokens).
    let margin = (lifetime / 2).min(Duration::from_secs(60));
    let usable = jiff::SignedDuration::try_from(lifetime.saturating_sub(margin))
        .unwrap_or(jiff::SignedDuration::ZERO);
    AccessToken {
        secret: response.access_token().secret().clone(),
        use_until: now.saturating_add(usable).unwrap_or(now),
    }
}

/// Exchanges the code (with the PKCE verifier) for tokens.
pub async fn exchange(
    http: &reqwest::Client,
    pending: PendingLogin,
    code: AuthorizationCode,
    now: Timestamp,
) -> Result<LoggedIn, AuthError> {
    let client = SmartClient::new(ClientId::new(pending.client_id.clone()))
        .set_token_uri(TokenUrl::new(pending.config.token_endpoint.clone()).map_err(bad_endpoint)?)
        .set_redirect_uri(
            RedirectUrl::new(pending.redirect_uri.to_string()).map_err(bad_endpoint)?,
        );
    let send_fn = OAuthHttp(http);
    let response = client
        .exchange_code(code)
        .set_pkce_verifier(pending.verifier)
        .request_async(&send_fn)
        .await
        .map_err(token_error)?;
    let patient = response
        .extra_fields()
        .patient
        .clone()
        .filter(|p| !p.is_empty())
        .ok_or(AuthError::NoPatient)?;
    let refresh_token = response
        .refresh_token()
        .cloned()
        .ok_or(AuthError::NoRefreshToken)?;
    Ok(LoggedIn {
        session: Session {
            fhir_base: pending.fhir_base.to_string(),
            client_id: pending.client_id,
            token_endpoint: pending.config.token_endpoint,
            revocation_endpoint: pending.config.revocation_endpoint,
            patient,
        },
        access: access_from(&response, now),
        refresh_token,
    })
}

/// Uses the refresh token; returns the new access token and, if the server rotated it,
/// the new refresh token. A refused refresh token gives [`AuthError::LoginRequired`].
pub async fn refresh(
    http: &reqwest::Client,
    session: &Session,
    refresh_token: &RefreshToken,
    now: Timestamp,
) -> Result<(AccessToken, Option<RefreshToken>), AuthError> {
    let client = SmartClient::new(ClientId::new(session.client_id.clone()))
        .set_token_uri(TokenUrl::new(session.token_endpoint.clone()).map_err(bad_endpoint)?);
    let send_fn = OAuthHttp(http);
    let response = client
        .exchange_refresh_token(refresh_token)
        .request_async(&send_fn)
        .await
        .map_err(token_error)?;
    Ok((
        access_from(&response, now),
        response.refresh_token().cloned(),
    ))
}

/// Revokes the refresh token (RFC 7009; at most providers its access tokens go with
/// it). A plain form POST through our transport, so the development switch for loopback
/// http applies here as everywhere else.
pub async fn revoke(
    http: &reqwest::Client,
    session: &Session,
    refresh_token: RefreshToken,
) -> Result<(), AuthError> {
    let Some(endpoint) = &session.revocation_endpoint else {
        return Ok(());
    };
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", refresh_token.secret())
        .append_pair("token_type_hint", "refresh_token")
        .append_pair("client_id", &session.client_id)
        .finish();
    let response = http
        .post(endpoint.as_str())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| AuthError::Network(without_url(&e)))?;
    // RFC 7009 §2.2: 200 also for a token that was already invalid.
    if response.status().is_success() {
        Ok(())
    } else {
        Err(AuthError::Token(format!(
            "revocation answered HTTP {}",
            response.status().as_u16()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(methods: &[&str]) -> SmartConfiguration {
        SmartConfiguration {
            authorization_endpoint: "https://login.region.se/auth".into(),
            token_endpoint: "https://login.region.se/token".into(),
            revocation_endpoint: None,
            code_challenge_methods_supported: methods.iter().map(|m| (*m).to_owned()).collect(),
            capabilities: vec![],
        }
    }

    fn pending() -> PendingLogin {
        prepare_login(
            config(&["S256"]),
            &Url::parse("https://fhir.region.se/fhir").expect("url"),
            "nara-app",
            &Url::parse("http://127.0.0.1:7777/callback").expect("url"),
        )
        .expect("prepares")
    }

    fn param(url: &Url, name: &str) -> Option<String> {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    #[test]
    fn only_s256_is_accepted() {
        assert!(matches!(
            prepare_login(
                config(&["plain"]),
                &Url::parse("https://f.se/").expect("url"),
                "c",
                &Url::parse("http://127.0.0.1/cb").expect("url"),
            ),
            Err(AuthError::S256Unsupported)
        ));
        assert!(config(&[]).require_s256().is_err());
        let p = pending();
        assert_eq!(
            param(&p.authorize_url, "code_challenge_method").as_deref(),
            Some("S256")
        );
        assert_eq!(
            param(&p.authorize_url, "response_type").as_deref(),
            Some("code")
        );
        assert_eq!(
            param(&p.authorize_url, "aud").as_deref(),
            Some("https://fhir.region.se/fhir")
        );
        let scope = param(&p.authorize_url, "scope").expect("scope");
        assert!(scope.contains("launch/patient") && scope.contains("offline_access"));
    }

    #[test]
    fn every_login_has_its_own_state_and_verifier() {
        let (a, b) = (pending(), pending());
        assert_ne!(
            param(&a.authorize_url, "state"),
            param(&b.authorize_url, "state")
        );
        assert_ne!(
            param(&a.authorize_url, "code_challenge"),
            param(&b.authorize_url, "code_challenge")
        );
        assert!(param(&a.authorize_url, "state").expect("state").len() >= 16);
    }

    #[test]
    fn forged_missing_and_foreign_state_are_refused() {
        let p = pending();
        let other = pending();
        let state = param(&p.authorize_url, "state").expect("state");
        let cb = |q: &str| Url::parse(&format!("http://127.0.0.1:7777/callback?{q}")).expect("url");
        assert!(matches!(
            code_from_redirect(&p, &cb(&format!("code=abc&state={state}"))),
            Ok(c) if c.secret() == "abc"
        ));
        assert_eq!(
            code_from_redirect(&p, &cb("code=abc")).err(),
            Some(AuthError::StateMismatch)
        );
        assert_eq!(
            code_from_redirect(&p, &cb("code=abc&state=forged")).err(),
            Some(AuthError::StateMismatch)
        );
        let foreign = param(&other.authorize_url, "state").expect("state");
        assert_eq!(
            code_from_redirect(&p, &cb(&format!("code=abc&state={foreign}"))).err(),
            Some(AuthError::StateMismatch),
            "a response to another login is not accepted"
        );
        assert_eq!(
            code_from_redirect(&p, &cb(&format!("state={state}"))).err(),
            Some(AuthError::MissingCode)
        );
        assert_eq!(
            code_from_redirect(&p, &cb(&format!("error=access_denied&state={state}"))).err(),
            Some(AuthError::Refused("access_denied".into()))
        );
    }
}
