//! TLS fails closed: the transport the core uses for every region call
//! (`sync::transport`) talks only to a server whose certificate chains to a trusted root,
//! is valid now and names the host — and, when pins are set, carries a pinned key. Plain
//! `http://` is refused outside the loopback development switch, before any connection.
//!
//! Certificates are made here with rcgen (a test CA, leaves signed by it, a self-signed
//! leaf, an expired leaf, a leaf for another host) and served by tokio-rustls on
//! 127.0.0.1 with a minimal HTTP/1.1 answer. Each server counts the requests it read, so
//! "fails closed" is checked on both sides: the client gets an error naming the
//! certificate problem, and the server never read a request.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nara_core::sync::auth::{self, AuthError};
use nara_core::sync::engine::SyncError;
use nara_core::sync::test_login::TestLoginBrowser;
use nara_core::sync::transport::{self, TransportConfig, TransportError};
use nara_core::{Nara, PassphraseKeyProvider};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};
use rustls::CertificateError;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

const TIMEOUT: Duration = Duration::from_secs(10);

/// A certificate and its private key, DER.
struct Leaf {
    cert: Vec<u8>,
    key: Vec<u8>,
    /// The SubjectPublicKeyInfo, DER (as rcgen encodes it).
    spki: Vec<u8>,
}

/// A test certificate authority.
struct TestCa {
    cert: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params
            .distinguished_name
            .push(DnType::CommonName, "Nära test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        TestCa {
            cert: cert.der().to_vec(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf for `names`, valid from `not_before` to `not_after` (years).
    fn leaf(&self, names: &[&str], years: (i32, i32)) -> Leaf {
        let (params, key) = leaf_params(names, years);
        let cert = params.signed_by(&key, &self.issuer).expect("leaf");
        Leaf {
            cert: cert.der().to_vec(),
            spki: rcgen::PublicKeyData::subject_public_key_info(&key),
            key: key.serialize_der(),
        }
    }
}

fn leaf_params(names: &[&str], (from, to): (i32, i32)) -> (CertificateParams, KeyPair) {
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.not_before = date_time_ymd(from, 1, 1);
    params.not_after = date_time_ymd(to, 1, 1);
    (params, KeyPair::generate().expect("leaf key"))
}

fn self_signed(names: &[&str]) -> Leaf {
    let (params, key) = leaf_params(names, (2024, 2099));
    let cert = params.self_signed(&key).expect("self-signed");
    Leaf {
        cert: cert.der().to_vec(),
        spki: rcgen::PublicKeyData::subject_public_key_info(&key),
        key: key.serialize_der(),
    }
}

const LOCAL: &[&str] = &["127.0.0.1", "localhost"];
const VALID: (i32, i32) = (2024, 2099);

/// A server on 127.0.0.1 that answers every request with `200` and `body`.
struct Server {
    addr: SocketAddr,
    /// Connections accepted (TCP).
    connections: Arc<AtomicUsize>,
    /// HTTP requests read to the end of their headers.
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn answer<S: AsyncReadExt + AsyncWriteExt + Unpin>(
    mut stream: S,
    body: &str,
    requests: &AtomicUsize,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Serves `leaf` over TLS (TLS 1.2 and 1.3, ring).
async fn tls_server(leaf: &Leaf, body: &'static str) -> Server {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.cert.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.clone())),
        )
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let server = Server {
        addr: listener.local_addr().expect("address"),
        connections: Arc::default(),
        requests: Arc::default(),
    };
    let (connections, requests) = (server.connections.clone(), server.requests.clone());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            connections.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let requests = requests.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    answer(tls, body, &requests).await;
                }
            });
        }
    });
    server
}

/// Serves plain HTTP on `ip` (any port).
async fn plain_server(ip: IpAddr, body: &'static str) -> Server {
    let listener = TcpListener::bind((ip, 0)).await.expect("binds");
    let server = Server {
        addr: listener.local_addr().expect("address"),
        connections: Arc::default(),
        requests: Arc::default(),
    };
    let (connections, requests) = (server.connections.clone(), server.requests.clone());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            connections.fetch_add(1, Ordering::SeqCst);
            let requests = requests.clone();
            tokio::spawn(async move { answer(tcp, body, &requests).await });
        }
    });
    server
}

fn trusting(ca: &TestCa) -> TransportConfig {
    TransportConfig {
        extra_roots_der: vec![ca.cert.clone()],
        ..TransportConfig::default()
    }
}

async fn get(config: &TransportConfig, url: &str) -> Result<String, reqwest::Error> {
    let http = transport::client(config, TIMEOUT).expect("client");
    http.get(url).send().await?.text().await
}

/// The certificate error that ended the handshake, found in the error's source chain.
fn certificate_error(e: &reqwest::Error) -> Option<CertificateError> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(rustls::Error::InvalidCertificate(c)) = err.downcast_ref::<rustls::Error>() {
            return Some(c.clone());
        }
        // io::Error's `source` skips the error it wraps; look inside.
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            next = Some(inner);
            continue;
        }
        next = err.source();
    }
    None
}

/// Asserts that a GET failed on the certificate, for `why`, and the server read nothing.
async fn assert_fails_closed(
    server: &Server,
    config: &TransportConfig,
    why: impl Fn(&CertificateError) -> bool,
) {
    let err = get(config, &server.url("/"))
        .await
        .expect_err("the request must fail");
    let cert =
        certificate_error(&err).unwrap_or_else(|| panic!("not a certificate error: {err:?}"));
    assert!(why(&cert), "failed for another reason: {cert:?}");
    assert_eq!(
        server.requests(),
        0,
        "the server must not receive a request over a refused connection"
    );
    assert!(
        server.connections() >= 1,
        "the handshake was tried (the failure is TLS's, not the network's)"
    );
}

#[tokio::test]
async fn a_certificate_from_a_trusted_ca_for_this_host_works() {
    let ca = TestCa::new();
    let server = tls_server(&ca.leaf(LOCAL, VALID), "hello").await;
    assert_eq!(
        get(&trusting(&ca), &server.url("/")).await.expect("works"),
        "hello"
    );
    // `localhost` is in the certificate too.
    let by_name = format!("https://localhost:{}/", server.addr.port());
    assert_eq!(get(&trusting(&ca), &by_name).await.expect("works"), "hello");
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn the_same_certificate_without_its_ca_in_the_roots_fails_closed() {
    let ca = TestCa::new();
    let server = tls_server(&ca.leaf(LOCAL, VALID), "secret").await;
    assert_fails_closed(&server, &TransportConfig::default(), |c| {
        *c == CertificateError::UnknownIssuer
    })
    .await;
}

#[tokio::test]
async fn a_self_signed_certificate_fails_closed() {
    let ca = TestCa::new();
    let leaf = self_signed(LOCAL);
    let server = tls_server(&leaf, "secret").await;
    // Not trusted, whether or not another CA is added.
    for config in [TransportConfig::default(), trusting(&ca)] {
        assert_fails_closed(&server, &config, |c| *c == CertificateError::UnknownIssuer).await;
    }
    // Pinning its own key does not make an untrusted certificate acceptable: the pin is
    // checked after the chain, never instead of it.
    let pinned = TransportConfig {
        spki_sha256_pins: vec![transport::spki_sha256(&leaf.cert).expect("pin")],
        ..trusting(&ca)
    };
    assert_fails_closed(&server, &pinned, |c| *c == CertificateError::UnknownIssuer).await;
}

#[tokio::test]
async fn an_expired_certificate_fails_closed() {
    let ca = TestCa::new();
    let server = tls_server(&ca.leaf(LOCAL, (2020, 2021)), "secret").await;
    assert_fails_closed(&server, &trusting(&ca), |c| {
        matches!(
            c,
            CertificateError::Expired | CertificateError::ExpiredContext { .. }
        )
    })
    .await;
}

#[tokio::test]
async fn a_certificate_not_yet_valid_fails_closed() {
    let ca = TestCa::new();
    let server = tls_server(&ca.leaf(LOCAL, (2090, 2099)), "secret").await;
    assert_fails_closed(&server, &trusting(&ca), |c| {
        matches!(
            c,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. }
        )
    })
    .await;
}

#[tokio::test]
async fn a_certificate_for_another_host_fails_closed() {
    let ca = TestCa::new();
    let server = tls_server(&ca.leaf(&["fhir.other-region.se"], VALID), "secret").await;
    assert_fails_closed(&server, &trusting(&ca), |c| {
        matches!(
            c,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        )
    })
    .await;
}

#[tokio::test]
async fn the_pin_is_the_sha256_of_the_certificates_public_key_info() {
    let ca = TestCa::new();
    let leaf = ca.leaf(LOCAL, VALID);
    let expected = ring_sha256(&leaf.spki);
    assert_eq!(transport::spki_sha256(&leaf.cert), Some(expected));
    assert_ne!(transport::spki_sha256(&ca.cert), Some(expected));
}

fn ring_sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

#[tokio::test]
async fn the_right_pin_works_and_a_wrong_pin_fails_even_with_a_valid_chain() {
    let ca = TestCa::new();
    let leaf = ca.leaf(LOCAL, VALID);
    let other = ca.leaf(LOCAL, VALID);
    let server = tls_server(&leaf, "pinned").await;
    let pin = |cert: &[u8]| transport::spki_sha256(cert).expect("pin");

    let right = TransportConfig {
        spki_sha256_pins: vec![pin(&other.cert), pin(&leaf.cert)],
        ..trusting(&ca)
    };
    assert_eq!(
        get(&right, &server.url("/")).await.expect("pinned key"),
        "pinned",
        "any one of the pins may match"
    );
    assert_eq!(server.requests(), 1);

    // The chain is valid (same CA, right host, in date), but the key is another.
    for wrong in [pin(&other.cert), pin(&ca.cert), [0u8; 32]] {
        let config = TransportConfig {
            spki_sha256_pins: vec![wrong],
            ..trusting(&ca)
        };
        let before = server.requests();
        let err = get(&config, &server.url("/"))
            .await
            .expect_err("a wrong pin must fail");
        assert_eq!(
            certificate_error(&err),
            Some(CertificateError::ApplicationVerificationFailure),
            "{err:?}"
        );
        assert_eq!(server.requests(), before, "nothing was sent");
    }
}

#[tokio::test]
async fn plain_http_to_loopback_needs_the_development_switch() {
    let server = plain_server(IpAddr::from([127, 0, 0, 1]), "plain").await;
    let url = format!("http://127.0.0.1:{}/", server.addr.port());
    let strict = TransportConfig::default();
    assert_eq!(
        transport::check_url(&Url::parse(&url).expect("url"), &strict),
        Err(TransportError::InsecureUrl)
    );
    // The client itself refuses too (https only), without connecting.
    let err = get(&strict, &url)
        .await
        .expect_err("http refused without the switch");
    assert!(err.is_builder(), "refused before connecting: {err:?}");
    assert_eq!(server.connections(), 0, "no connection was made");

    // With the switch, loopback http works (the positive control).
    let dev = TransportConfig {
        allow_http_loopback: true,
        ..TransportConfig::default()
    };
    transport::check_url(&Url::parse(&url).expect("url"), &dev).expect("allowed");
    assert_eq!(get(&dev, &url).await.expect("dev http"), "plain");
}

/// This machine's address on its default route, if it has one (no packet is sent).
fn non_loopback_ip() -> Option<IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

const SMART_CONFIG: &str = r#"{"authorization_endpoint":"https://login.example/auth","token_endpoint":"https://login.example/token","code_challenge_methods_supported":["S256"]}"#;

fn assert_insecure(result: Result<String, SyncError>) {
    match result {
        Err(SyncError::Auth(AuthError::Transport(TransportError::InsecureUrl))) => {}
        other => panic!("expected InsecureUrl, got {other:?}"),
    }
}

#[tokio::test]
async fn login_and_discovery_refuse_plain_http_before_any_connection() {
    let dev = TransportConfig {
        allow_http_loopback: true,
        ..TransportConfig::default()
    };
    let loopback = plain_server(IpAddr::from([127, 0, 0, 1]), SMART_CONFIG).await;
    let loopback_url =
        Url::parse(&format!("http://127.0.0.1:{}/fhir", loopback.addr.port())).expect("url");
    // A host that is not loopback: this machine's own address if it has one (so a
    // connection would be seen), else a documentation address.
    let (outside, outside_url) = match non_loopback_ip() {
        Some(ip) => {
            let server = plain_server(ip, SMART_CONFIG).await;
            let url = Url::parse(&format!("http://{}/fhir", server.addr)).expect("url");
            (Some(server), url)
        }
        None => (None, Url::parse("http://192.0.2.1/fhir").expect("url")),
    };

    let dir = tempfile::tempdir().expect("tempdir");
    let nara = Nara::open(dir.path(), Arc::new(PassphraseKeyProvider::new("tls"))).expect("opens");
    let redirect = Url::parse("http://127.0.0.1/callback").expect("url");
    let browser = TestLoginBrowser::new("anna", dev.clone());

    // Loopback http without the switch; non-loopback http even with it.
    for (config, url) in [
        (TransportConfig::default(), &loopback_url),
        (dev.clone(), &outside_url),
        (TransportConfig::default(), &outside_url),
    ] {
        nara.region().set_transport(config.clone());
        assert_insecure(
            nara.region()
                .login(url, "nara-app", &redirect, &browser)
                .await,
        );
        let http = transport::client(&config, TIMEOUT).expect("client");
        assert_eq!(
            auth::discover(&http, url, &config).await.err(),
            Some(AuthError::Transport(TransportError::InsecureUrl))
        );
    }
    assert_eq!(
        loopback.connections(),
        0,
        "nothing reached the loopback server"
    );
    if let Some(outside) = &outside {
        assert_eq!(
            outside.connections(),
            0,
            "nothing reached the outside server"
        );
    }

    // The positive control: with the switch, discovery on loopback reads the server.
    let http = transport::client(&dev, TIMEOUT).expect("client");
    let config = auth::discover(&http, &loopback_url, &dev)
        .await
        .expect("discovers");
    assert_eq!(config.code_challenge_methods_supported, ["S256"]);
    assert_eq!(loopback.requests(), 1);
}

#[tokio::test]
async fn a_secure_region_that_points_its_login_at_plain_http_is_refused() {
    let ca = TestCa::new();
    let server = tls_server(
        &ca.leaf(LOCAL, VALID),
        r#"{"authorization_endpoint":"http://login.example/auth","token_endpoint":"https://login.example/token","code_challenge_methods_supported":["S256"]}"#,
    )
    .await;
    let config = trusting(&ca);
    let http = transport::client(&config, TIMEOUT).expect("client");
    let base = Url::parse(&server.url("/fhir")).expect("url");
    assert_eq!(
        auth::discover(&http, &base, &config).await.err(),
        Some(AuthError::Transport(TransportError::InsecureUrl)),
        "a downgrade in the SMART configuration is refused"
    );
    assert_eq!(
        server.requests(),
        1,
        "the configuration itself was read over TLS"
    );
}
