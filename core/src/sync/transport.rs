//! HTTPS to the region: one configured `reqwest` client for FHIR and OAuth calls.
//!
//! rustls with the ring provider and Mozilla's root store (webpki-roots, the same on
//! every platform), HTTPS only — plain http is allowed only for loopback addresses and
//! only with the explicit development switch — optional SPKI pinning, timeouts, gzip and
//! a `User-Agent` naming the core's version. Owns no rules about FHIR; never logs bodies
//! or URLs with query strings (they can name a patient).

use std::sync::Arc;
use std::time::Duration;

use ring::digest::{SHA256, digest};
use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use thiserror::Error;
use url::Url;

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("nara-core/", env!("CARGO_PKG_VERSION"));

/// How the core may talk to a region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransportConfig {
    /// Development only: allow `http://` to loopback addresses (127.0.0.0/8, ::1,
    /// localhost). Never enable in a release build.
    pub allow_http_loopback: bool,
    /// SHA-256 digests of the SubjectPublicKeyInfo the server's certificate must carry
    /// (any of them). Empty: no pinning, the root store alone decides.
    pub spki_sha256_pins: Vec<[u8; 32]>,
    /// Extra trust anchors (DER), for a region's private CA or tests. Added to, never
    /// replacing, the Mozilla roots.
    pub extra_roots_der: Vec<Vec<u8>>,
}

/// Why a request could not be made or was refused before reaching the server.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The URL is not `https://` (and not an allowed loopback `http://`).
    #[error("only https is allowed")]
    InsecureUrl,
    /// The URL could not be parsed.
    #[error("the URL is not valid")]
    InvalidUrl,
    /// The TLS configuration could not be built.
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

/// Checks that `url` may be used under `config`.
pub fn check_url(url: &Url, config: &TransportConfig) -> Result<(), TransportError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if config.allow_http_loopback && is_loopback(url) => Ok(()),
        _ => Err(TransportError::InsecureUrl),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Builds the HTTP client: TLS as above, 10 s to connect, `timeout` per request, gzip.
pub fn client(
    config: &TransportConfig,
    timeout: Duration,
) -> Result<reqwest::Client, TransportError> {
    builder(config)?
        .timeout(timeout)
        .build()
        .map_err(|e| TransportError::Tls(e.to_string()))
}

/// A client builder with the TLS, connect timeout, `User-Agent` and no-redirect policy
/// of [`client`], for callers that need more (a cookie store).
pub fn builder(config: &TransportConfig) -> Result<reqwest::ClientBuilder, TransportError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in &config.extra_roots_der {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(|e| TransportError::Tls(e.to_string()))?;
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TransportError::Tls(e.to_string()))?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Tls(e.to_string()))?;
    let tls = if config.spki_sha256_pins.is_empty() {
        builder.with_webpki_verifier(webpki).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                inner: webpki,
                pins: config.spki_sha256_pins.clone(),
            }))
            .with_no_client_auth()
    };
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .https_only(!config.allow_http_loopback)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none()))
}

/// Verifies the chain with webpki first, then requires a pinned SPKI on the leaf.
#[derive(Debug)]
struct PinnedVerifier {
    inner: Arc<WebPkiServerVerifier>,
    pins: Vec<[u8; 32]>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let spki = spki_of(end_entity.as_ref()).ok_or(rustls::Error::InvalidCertificate(
            rustls::CertificateError::BadEncoding,
        ))?;
        let hash = digest(&SHA256, spki);
        if self.pins.iter().any(|pin| pin.as_slice() == hash.as_ref()) {
            Ok(verified)
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The SHA-256 pin of a DER certificate's SubjectPublicKeyInfo (what `openssl x509
/// -pubkey | openssl pkey -pubin -outform der | sha256` gives).
pub fn spki_sha256(cert_der: &[u8]) -> Option<[u8; 32]> {
    let spki = spki_of(cert_der)?;
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, spki).as_ref());
    Some(out)
}

/// One DER element and what follows it: (tag, whole element, contents, rest).
type Der<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

fn der_element(input: &[u8]) -> Option<Der<'_>> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*input.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let whole = input.get(..end)?;
    Some((tag, whole, &whole[header..], &input[end..]))
}

/// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serial,
/// signature, issuer, validity, subject, subjectPublicKeyInfo, ... }, ... }
fn spki_of(cert_der: &[u8]) -> Option<&[u8]> {
    let (0x30, _, cert, _) = der_element(cert_der)? else {
        return None;
    };
    let (0x30, _, tbs, _) = der_element(cert)? else {
        return None;
    };
    let mut rest = tbs;
    let (tag, _, _, after) = der_element(rest)?;
    if tag == 0xa0 {
        rest = after;
    }
    // serial, signature, issuer, validity, subject
    for _ in 0..5 {
        rest = der_element(rest)?.3;
    }
    let (0x30, spki, _, _) = der_element(rest)? else {
        return None;
    };
    Some(spki)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("valid url")
    }

    #[test]
    fn only_https_unless_loopback_http_is_switched_on() {
        let strict = TransportConfig::default();
        let dev = TransportConfig {
            allow_http_loopback: true,
            ..TransportConfig::default()
        };
        assert_eq!(
            check_url(&url("https://fhir.region.se/fhir"), &strict),
            Ok(())
        );
        assert_eq!(
            check_url(&url("http://127.0.0.1:8080/fhir"), &strict),
            Err(TransportError::InsecureUrl)
        );
        assert_eq!(check_url(&url("http://127.0.0.1:8080/fhir"), &dev), Ok(()));
        assert_eq!(check_url(&url("http://[::1]:8080/"), &dev), Ok(()));
        assert_eq!(check_url(&url("http://localhost/"), &dev), Ok(()));
        assert_eq!(
            check_url(&url("http://fhir.region.se/fhir"), &dev),
            Err(TransportError::InsecureUrl),
            "the switch is for loopback only"
        );
        assert_eq!(
            check_url(&url("ftp://127.0.0.1/"), &dev),
            Err(TransportError::InsecureUrl)
        );
    }

    #[test]
    fn malformed_der_gives_no_pin() {
        assert_eq!(spki_sha256(&[]), None);
        assert_eq!(spki_sha256(&[0x30, 0x82, 0xff]), None);
        assert_eq!(spki_sha256(&[0x04, 0x00]), None);
    }
}
