//! A fault-injecting HTTP/1.1 proxy between the core and the region's FHIR front, and
//! the helpers the fault stories share (the login through the proxy, sample readings,
//! counting Observations on the server).
//!
//! The proxy listens on `127.0.0.1:0` and forwards every request, path and query kept,
//! to the front (`NARA_FHIR_URL`'s host and port). For each request it draws one fault
//! from a seeded [`FaultPlan`]:
//!
//! - **drop the response**: forward, wait for the upstream's whole answer (the server
//!   has committed), then cut the client's connection without a byte of it;
//! - **duplicate**: send the request upstream twice, one after the other or both at
//!   once (a retransmission racing the original), and return one of the two answers
//!   (chosen at random);
//! - **delay**: hold the request before forwarding it or the answer before returning
//!   it, up to a few hundred ms, sometimes seconds (beyond a short client timeout: the
//!   client gives up while the request still reaches the server later);
//! - **cut before forwarding**: close the connection after the request head, nothing
//!   forwarded;
//! - **cut mid-body**: read part of the request body, then close, nothing forwarded;
//! - **503**: answer `503 Service Unavailable` (an `OperationOutcome`) without
//!   forwarding.
//!
//! Apart from the faults, the proxy can play a strict region that validates content
//! ([`FaultProxy::refuse_containing`]): a POST whose body contains a given marker (a
//! reading's note, a message's text) is answered `422 Unprocessable Entity` with an
//! `OperationOutcome` instead of being forwarded — the whole transaction refused, as
//! FHIR servers do when one entry is invalid. The refusal takes the place of the
//! upstream exchange, so the faults still apply around it (a dropped answer drops the
//! refusal, a duplicate is refused twice).
//!
//! The upstream exchange runs in its own task, so a request whose client gave up still
//! reaches the server (as a real network's late packet would). OAuth traffic is not
//! proxied: the SMART configuration the front serves names the authorization server
//! directly. Like any reverse proxy, it replaces the front's origin with its own in
//! answers (bodies and headers), so search paging links lead back through it (the core
//! follows paging only on its FHIR base's origin); to read the answers it asks the
//! front for them uncompressed (no `Accept-Encoding` forwarded).

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use jiff::tz::Offset;
use jiff::{SignedDuration, Timestamp};
use nara_core::Nara;
use nara_core::domain::reading::{Measurement, NewReading, ReadingId};
use nara_core::sync::auth::{AuthBrowser, BoxFuture, BrowserError};
use nara_core::sync::test_login::TestLoginBrowser;
use nara_core::sync::transport::{self, TransportConfig};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;

use crate::SplitMix64;
use crate::region::{Region, open_phone};

/// How often each fault is injected: probabilities per request, drawn in this order
/// (their sum must stay at or below 1; the rest passes untouched).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    /// Forward, then cut the connection instead of returning the answer.
    pub drop_response: f64,
    /// Send the request upstream twice, return one answer.
    pub duplicate: f64,
    /// Hold the request or its answer for a while.
    pub delay: f64,
    /// Close the connection after the request head, forward nothing.
    pub cut_before: f64,
    /// Read part of the request body, then close, forward nothing.
    pub cut_mid_body: f64,
    /// Answer 503 without forwarding.
    pub unavailable: f64,
    /// A short delay is drawn from `0..=max_short_delay`.
    pub max_short_delay: Duration,
    /// The share of delays that are long (`long_delay`).
    pub long_delay_share: f64,
    /// A long delay is drawn from this range (inclusive).
    pub long_delay: (Duration, Duration),
    /// Also inject faults into requests other than POSTs (searches, discovery).
    pub fault_reads: bool,
}

impl FaultPlan {
    /// No faults: a plain forwarder.
    pub fn none() -> Self {
        FaultPlan {
            drop_response: 0.0,
            duplicate: 0.0,
            delay: 0.0,
            cut_before: 0.0,
            cut_mid_body: 0.0,
            unavailable: 0.0,
            max_short_delay: Duration::ZERO,
            long_delay_share: 0.0,
            long_delay: (Duration::ZERO, Duration::ZERO),
            fault_reads: false,
        }
    }

    /// The mix of the fault stories: three requests in four faulted, two in five
    /// failing for the client (half of those after the server committed).
    pub fn rough_network() -> Self {
        FaultPlan {
            drop_response: 0.20,
            duplicate: 0.25,
            delay: 0.12,
            cut_before: 0.06,
            cut_mid_body: 0.06,
            unavailable: 0.06,
            max_short_delay: Duration::from_millis(300),
            long_delay_share: 0.15,
            long_delay: (Duration::from_millis(700), Duration::from_millis(2500)),
            fault_reads: true,
        }
    }

    /// The same plan with every probability multiplied by `factor` (clamped to 1 in
    /// total).
    pub fn scaled(mut self, factor: f64) -> Self {
        let factor = factor.max(0.0);
        let sum = self.total() * factor;
        let factor = if sum > 1.0 { factor / sum } else { factor };
        for p in self.probabilities_mut() {
            *p *= factor;
        }
        self
    }

    fn probabilities_mut(&mut self) -> [&mut f64; 6] {
        [
            &mut self.drop_response,
            &mut self.duplicate,
            &mut self.delay,
            &mut self.cut_before,
            &mut self.cut_mid_body,
            &mut self.unavailable,
        ]
    }

    /// The probability that a request is faulted at all.
    pub fn total(&self) -> f64 {
        self.drop_response
            + self.duplicate
            + self.delay
            + self.cut_before
            + self.cut_mid_body
            + self.unavailable
    }

    fn draw(&self, rng: &mut SplitMix64, faultable: bool) -> Fault {
        // 53 random bits → a uniform float in [0, 1).
        let unit = |rng: &mut SplitMix64| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let roll = unit(rng);
        if !faultable {
            return Fault::Pass;
        }
        let mut edge = 0.0;
        let mut hit = |p: f64| {
            edge += p;
            roll < edge
        };
        if hit(self.drop_response) {
            Fault::DropResponse
        } else if hit(self.duplicate) {
            let bits = rng.next_u64();
            Fault::Duplicate {
                return_first: bits & 1 == 0,
                concurrent: bits & 2 == 0,
            }
        } else if hit(self.delay) {
            let long = unit(rng) < self.long_delay_share;
            let (lo, hi) = if long {
                self.long_delay
            } else {
                (Duration::ZERO, self.max_short_delay)
            };
            let span = hi.saturating_sub(lo).as_millis() as u64;
            let wait = lo + Duration::from_millis(rng.below_or_eq(span));
            Fault::Delay {
                wait,
                long,
                before_forwarding: rng.next_u64() % 2 == 0,
            }
        } else if hit(self.cut_before) {
            Fault::CutBefore
        } else if hit(self.cut_mid_body) {
            Fault::CutMidBody {
                keep_per_mille: rng.below_or_eq(999),
            }
        } else if hit(self.unavailable) {
            Fault::Unavailable
        } else {
            Fault::Pass
        }
    }
}

/// The fault drawn for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Pass,
    DropResponse,
    Duplicate {
        return_first: bool,
        /// Both copies at once (a retransmission racing the original) rather than one
        /// after the other.
        concurrent: bool,
    },
    Delay {
        wait: Duration,
        long: bool,
        before_forwarding: bool,
    },
    CutBefore,
    CutMidBody {
        /// How much of the body to read before cutting, in thousandths.
        keep_per_mille: u64,
    },
    Unavailable,
}

impl Fault {
    fn kind(self) -> usize {
        match self {
            Fault::Pass => 0,
            Fault::DropResponse => 1,
            Fault::Duplicate { .. } => 2,
            Fault::Delay { long: false, .. } => 3,
            Fault::Delay { long: true, .. } => 4,
            Fault::CutBefore => 5,
            Fault::CutMidBody { .. } => 6,
            Fault::Unavailable => 7,
        }
    }
}

const KINDS: usize = 8;

/// What happened to one class of requests (uploads or the others).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts {
    /// Forwarded untouched.
    pub passed: u64,
    /// Answer dropped after the upstream answered.
    pub dropped_response: u64,
    /// Sent upstream twice.
    pub duplicated: u64,
    /// Delayed a little (up to `max_short_delay`).
    pub delayed: u64,
    /// Delayed long (`long_delay`), usually beyond the client's patience.
    pub delayed_long: u64,
    /// Cut after the request head.
    pub cut_before: u64,
    /// Cut after part of the body.
    pub cut_mid_body: u64,
    /// Answered 503.
    pub unavailable: u64,
}

impl KindCounts {
    fn from_array(a: [u64; KINDS]) -> Self {
        KindCounts {
            passed: a[0],
            dropped_response: a[1],
            duplicated: a[2],
            delayed: a[3],
            delayed_long: a[4],
            cut_before: a[5],
            cut_mid_body: a[6],
            unavailable: a[7],
        }
    }

    /// Requests with any fault injected.
    pub fn faulted(&self) -> u64 {
        self.dropped_response
            + self.duplicated
            + self.delayed
            + self.delayed_long
            + self.cut_before
            + self.cut_mid_body
            + self.unavailable
    }

    /// Requests seen.
    pub fn total(&self) -> u64 {
        self.passed + self.faulted()
    }

    /// What happened since `earlier` (counts of the same proxy taken before).
    pub fn since(&self, earlier: &KindCounts) -> KindCounts {
        KindCounts {
            passed: self.passed.saturating_sub(earlier.passed),
            dropped_response: self
                .dropped_response
                .saturating_sub(earlier.dropped_response),
            duplicated: self.duplicated.saturating_sub(earlier.duplicated),
            delayed: self.delayed.saturating_sub(earlier.delayed),
            delayed_long: self.delayed_long.saturating_sub(earlier.delayed_long),
            cut_before: self.cut_before.saturating_sub(earlier.cut_before),
            cut_mid_body: self.cut_mid_body.saturating_sub(earlier.cut_mid_body),
            unavailable: self.unavailable.saturating_sub(earlier.unavailable),
        }
    }
}

impl fmt::Display for KindCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} requests, {} faulted: {} answers dropped after commit, {} duplicated, \
             {} delayed, {} delayed long, {} cut before forwarding, {} cut mid-body, {} 503",
            self.total(),
            self.faulted(),
            self.dropped_response,
            self.duplicated,
            self.delayed,
            self.delayed_long,
            self.cut_before,
            self.cut_mid_body,
            self.unavailable
        )
    }
}

/// The proxy's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// POST requests (transaction uploads).
    pub uploads: KindCounts,
    /// Every other request (searches, discovery).
    pub others: KindCounts,
    /// Requests sent to the front (duplicates count twice).
    pub upstream_requests: u64,
    /// Upstream requests that failed (the front unreachable or cut).
    pub upstream_errors: u64,
    /// Upstream answers by class: 2xx, 4xx, 5xx.
    pub upstream_2xx: u64,
    /// See `upstream_2xx`.
    pub upstream_4xx: u64,
    /// See `upstream_2xx`.
    pub upstream_5xx: u64,
    /// Transactions refused with a 422 because they held the refusal marker (not
    /// forwarded, not counted upstream).
    pub refused: u64,
}

impl fmt::Display for FaultCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "uploads: {}\nothers: {}\nupstream: {} requests ({} 2xx, {} 4xx, {} 5xx, {} errors); \
             {} refused by the proxy (marker)",
            self.uploads,
            self.others,
            self.upstream_requests,
            self.upstream_2xx,
            self.upstream_4xx,
            self.upstream_5xx,
            self.upstream_errors,
            self.refused
        )
    }
}

#[derive(Default)]
struct Counters {
    uploads: [AtomicU64; KINDS],
    others: [AtomicU64; KINDS],
    upstream: AtomicU64,
    upstream_errors: AtomicU64,
    upstream_2xx: AtomicU64,
    upstream_4xx: AtomicU64,
    upstream_5xx: AtomicU64,
    refused: AtomicU64,
}

struct State {
    upstream: Uri,
    /// The upstream's origin as it names itself in answers (`http://host:port`) and the
    /// proxy's, which replaces it (so paging links and locations lead back through the
    /// proxy, as behind any reverse proxy).
    rewrite: (String, String),
    client: Client<HttpConnector, Full<Bytes>>,
    plan: Mutex<FaultPlan>,
    rng: Mutex<SplitMix64>,
    enabled: AtomicBool,
    /// POSTs whose body contains this are refused with a 422 (a strict region).
    refuse: Mutex<Option<Bytes>>,
    counters: Counters,
    in_flight: AtomicU64,
}

/// Counts a request in flight while it lives.
struct InFlight<'a>(&'a AtomicU64);

impl<'a> InFlight<'a> {
    fn new(n: &'a AtomicU64) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        InFlight(n)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The connection is cut on purpose.
#[derive(Debug)]
struct Cut;

impl fmt::Display for Cut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection cut by the fault proxy")
    }
}

impl std::error::Error for Cut {}

/// A running fault proxy; stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    path: String,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1:0` in front of `upstream` (the front's FHIR base
    /// URL; its host and port are used, the request paths are kept as they come),
    /// drawing faults from `plan` with a generator seeded with `seed`. Must be called
    /// within a Tokio runtime with timers and I/O.
    pub async fn start(upstream: &Url, plan: FaultPlan, seed: u64) -> std::io::Result<Self> {
        let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
        if upstream.scheme() != "http" {
            return Err(invalid("the proxy forwards to http:// only"));
        }
        let host = upstream.host_str().ok_or_else(|| invalid("no host"))?;
        let port = upstream
            .port_or_known_default()
            .ok_or_else(|| invalid("no port"))?;
        let upstream_uri: Uri = format!("http://{host}:{port}")
            .parse()
            .map_err(|_| invalid("bad upstream"))?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build_http();
        let state = Arc::new(State {
            upstream: upstream_uri,
            rewrite: (format!("http://{host}:{port}"), format!("http://{addr}")),
            client,
            plan: Mutex::new(plan),
            rng: Mutex::new(SplitMix64::new(seed)),
            enabled: AtomicBool::new(true),
            refuse: Mutex::new(None),
            counters: Counters::default(),
            in_flight: AtomicU64::new(0),
        });
        let accept_state = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let state = accept_state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    // Errors here are the cuts we made and clients that went away.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(FaultProxy {
            addr,
            path: upstream.path().to_owned(),
            state,
            accept,
        })
    }

    /// Where the proxy listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The FHIR base URL through the proxy (the front's path on the proxy's address).
    pub fn url(&self) -> Url {
        let text = format!("http://{}{}", self.addr, self.path);
        Url::parse(&text).unwrap_or_else(|e| panic!("the proxy URL {text} parses: {e}"))
    }

    /// Replaces the fault plan.
    pub fn set_plan(&self, plan: FaultPlan) {
        *self.state.plan.lock().unwrap_or_else(|p| p.into_inner()) = plan;
    }

    /// Turns fault injection on or off (off: every request passes, still counted).
    pub fn set_enabled(&self, on: bool) {
        self.state.enabled.store(on, Ordering::SeqCst);
    }

    /// Plays a strict region: from now on, a POST whose body contains `marker` is
    /// answered `422` with an `OperationOutcome` (code `business-rule`) and not
    /// forwarded, whatever else the Bundle holds; `None` stops it. Independent of
    /// [`set_enabled`](Self::set_enabled): refusals are the server's, not the network's.
    pub fn refuse_containing(&self, marker: Option<&str>) {
        *self.state.refuse.lock().unwrap_or_else(|p| p.into_inner()) =
            marker.map(|m| Bytes::copy_from_slice(m.as_bytes()));
    }

    /// Requests the proxy is handling now (read, forwarded or answered in part).
    pub fn in_flight(&self) -> u64 {
        self.state.in_flight.load(Ordering::SeqCst)
    }

    /// The counters so far.
    pub fn counts(&self) -> FaultCounts {
        let c = &self.state.counters;
        let read = |a: &[AtomicU64; KINDS]| {
            let mut out = [0; KINDS];
            for (o, v) in out.iter_mut().zip(a) {
                *o = v.load(Ordering::SeqCst);
            }
            KindCounts::from_array(out)
        };
        FaultCounts {
            uploads: read(&c.uploads),
            others: read(&c.others),
            upstream_requests: c.upstream.load(Ordering::SeqCst),
            upstream_errors: c.upstream_errors.load(Ordering::SeqCst),
            upstream_2xx: c.upstream_2xx.load(Ordering::SeqCst),
            upstream_4xx: c.upstream_4xx.load(Ordering::SeqCst),
            upstream_5xx: c.upstream_5xx.load(Ordering::SeqCst),
            refused: c.refused.load(Ordering::SeqCst),
        }
    }
}

impl State {
    fn decide(&self, upload: bool) -> Fault {
        let plan = self.plan.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let faultable = self.enabled.load(Ordering::SeqCst) && (upload || plan.fault_reads);
        let fault = plan.draw(
            &mut self.rng.lock().unwrap_or_else(|p| p.into_inner()),
            faultable,
        );
        let counters = if upload {
            &self.counters.uploads
        } else {
            &self.counters.others
        };
        counters[fault.kind()].fetch_add(1, Ordering::SeqCst);
        fault
    }

    /// One upstream exchange; a failure becomes a 502 for the client.
    async fn forward(
        &self,
        method: &Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Response<Full<Bytes>> {
        if *method == Method::POST && self.refuses(&body) {
            self.counters.refused.fetch_add(1, Ordering::SeqCst);
            return outcome(
                StatusCode::UNPROCESSABLE_ENTITY,
                "business-rule",
                "the fault proxy plays a strict region: an entry of the transaction is refused",
            );
        }
        self.counters.upstream.fetch_add(1, Ordering::SeqCst);
        match self
            .try_forward(method, path_and_query, headers, body)
            .await
        {
            Ok(r) => {
                let class = match r.status().as_u16() {
                    200..=299 => &self.counters.upstream_2xx,
                    400..=499 => &self.counters.upstream_4xx,
                    _ => &self.counters.upstream_5xx,
                };
                class.fetch_add(1, Ordering::SeqCst);
                r
            }
            Err(()) => {
                self.counters.upstream_errors.fetch_add(1, Ordering::SeqCst);
                outcome(
                    StatusCode::BAD_GATEWAY,
                    "transient",
                    "the fault proxy's upstream failed",
                )
            }
        }
    }

    /// Whether `body` holds the refusal marker.
    fn refuses(&self, body: &[u8]) -> bool {
        let marker = self
            .refuse
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        marker.is_some_and(|m| !m.is_empty() && body.windows(m.len()).any(|w| w == m.as_ref()))
    }

    async fn try_forward(
        &self,
        method: &Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Response<Full<Bytes>>, ()> {
        let uri: Uri = format!(
            "{}{}",
            self.upstream,
            path_and_query.trim_start_matches('/')
        )
        .parse()
        .map_err(|_| ())?;
        let mut request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .body(Full::new(body))
            .map_err(|_| ())?;
        let out = request.headers_mut();
        for (name, value) in headers {
            // No Accept-Encoding: answers come back plain, so the origin can be replaced.
            if !hop_by_hop(name) && name != header::HOST && name != header::ACCEPT_ENCODING {
                out.append(name.clone(), value.clone());
            }
        }
        let response = self.client.request(request).await.map_err(|_| ())?;
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.map_err(|_| ())?.to_bytes();
        let (theirs, ours) = &self.rewrite;
        let bytes = match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains(theirs.as_str()) => {
                Bytes::from(text.replace(theirs.as_str(), ours))
            }
            _ => bytes,
        };
        let mut response = Response::new(Full::new(bytes));
        *response.status_mut() = parts.status;
        for (name, value) in &parts.headers {
            if hop_by_hop(name) || name == header::CONTENT_LENGTH {
                // (the body may have been rewritten: hyper sets the length)
                continue;
            }
            let value = match value.to_str() {
                Ok(v) if v.contains(theirs.as_str()) => {
                    HeaderValue::from_str(&v.replace(theirs.as_str(), ours))
                        .unwrap_or_else(|_| value.clone())
                }
                _ => value.clone(),
            };
            response.headers_mut().append(name.clone(), value);
        }
        Ok(response)
    }
}

fn hop_by_hop(name: &header::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

fn outcome(status: StatusCode, code: &str, text: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json"),
    );
    response
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Cut> {
    let _counted = InFlight::new(&state.in_flight);
    let fault = state.decide(req.method() == Method::POST);
    let (parts, mut body) = req.into_parts();
    match fault {
        Fault::CutBefore => return Err(Cut),
        Fault::CutMidBody { keep_per_mille } => {
            let length = parts
                .headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            let keep = length * keep_per_mille / 1000;
            let mut read = 0u64;
            while read < keep {
                match body.frame().await {
                    Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len() as u64),
                    _ => break,
                }
            }
            return Err(Cut);
        }
        Fault::Unavailable => {
            // Read the request (a server answering 503 reads it), forward nothing.
            let _ = body.collect().await;
            return Ok(outcome(
                StatusCode::SERVICE_UNAVAILABLE,
                "transient",
                "the fault proxy plays an overloaded server",
            ));
        }
        _ => {}
    }
    let body = body.collect().await.map_err(|_| Cut)?.to_bytes();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let (before, after) = match fault {
        Fault::Delay {
            wait,
            before_forwarding: true,
            ..
        } => (wait, Duration::ZERO),
        Fault::Delay { wait, .. } => (Duration::ZERO, wait),
        _ => (Duration::ZERO, Duration::ZERO),
    };
    // The upstream exchange runs on its own: if the client gives up (its timeout, our
    // cut), the request still reaches the server, as a late packet would.
    let upstream = state.clone();
    let exchange = tokio::spawn(async move {
        tokio::time::sleep(before).await;
        let send =
            || upstream.forward(&parts.method, &path_and_query, &parts.headers, body.clone());
        match fault {
            Fault::Duplicate {
                return_first,
                concurrent,
            } => {
                let (first, second) = if concurrent {
                    tokio::join!(send(), send())
                } else {
                    let first = send().await;
                    (first, send().await)
                };
                if return_first { first } else { second }
            }
            _ => send().await,
        }
    });
    let response = exchange.await.map_err(|_| Cut)?;
    if fault == Fault::DropResponse {
        return Err(Cut);
    }
    tokio::time::sleep(after).await;
    Ok(response)
}

/// The test login through the proxy. A SMART client sends `aud` = the FHIR base URL it
/// was given, and the test region accepts only its own; this browser puts the front's
/// URL back in place of the proxy's before the test login runs (as a region behind a
/// second address would have to be configured), and changes nothing else.
#[derive(Debug, Clone)]
pub struct ProxiedLogin {
    inner: TestLoginBrowser,
    proxy_base: Url,
    front_base: Url,
}

impl ProxiedLogin {
    /// Logs in as `user`, for a core given `proxy_base` as the region's FHIR URL while
    /// the region knows itself as `front_base`.
    pub fn new(user: &str, proxy_base: Url, front_base: Url) -> Self {
        ProxiedLogin {
            inner: TestLoginBrowser::new(user, dev_transport()),
            proxy_base,
            front_base,
        }
    }
}

fn same_base(a: &str, b: &Url) -> bool {
    a.trim_end_matches('/') == b.as_str().trim_end_matches('/')
}

impl AuthBrowser for ProxiedLogin {
    fn authorize<'a>(
        &'a self,
        authorize_url: &'a Url,
        redirect_uri: &'a Url,
    ) -> BoxFuture<'a, Result<Url, BrowserError>> {
        Box::pin(async move {
            let pairs: Vec<(String, String)> = authorize_url
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "aud" && same_base(&v, &self.proxy_base) {
                        self.front_base.as_str().trim_end_matches('/').to_owned()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            let mut url = authorize_url.clone();
            url.query_pairs_mut().clear().extend_pairs(pairs);
            self.inner.authorize(&url, redirect_uri).await
        })
    }
}

/// A phone behind a fault proxy: a [`FaultProxy`] in front of `region`'s front, no
/// faults yet ([`FaultPlan::none`], its generator seeded with `seed`), and a store on
/// `dir` opened with `passphrase` and the development transport, logged in as `user`
/// through the proxy ([`ProxiedLogin`]). Returns the proxy, the phone and the patient id
/// the login names.
pub async fn proxied_phone(
    region: &Region,
    dir: &Path,
    passphrase: &str,
    user: &str,
    seed: u64,
) -> (FaultProxy, Nara, String) {
    let front = region.fhir();
    let proxy = FaultProxy::start(&front, FaultPlan::none(), seed)
        .await
        .unwrap_or_else(|e| panic!("the proxy starts: {e}"));
    let nara = open_phone(dir, passphrase);
    let browser = ProxiedLogin::new(user, proxy.url(), front);
    let patient = nara
        .region()
        .login(&proxy.url(), "nara-app", &redirect_uri(), &browser)
        .await
        .unwrap_or_else(|e| panic!("{user} logs in through the proxy: {e}"));
    (proxy, nara, patient)
}

/// The development transport: http on loopback allowed.
pub fn dev_transport() -> TransportConfig {
    TransportConfig {
        allow_http_loopback: true,
        ..TransportConfig::default()
    }
}

/// The redirect URI of the test logins.
pub fn redirect_uri() -> Url {
    Url::parse("http://127.0.0.1/callback").unwrap_or_else(|e| panic!("redirect URI: {e}"))
}

/// The note of reading `i` of the run tagged `tag` (how the checks find a run's
/// Observations on the server).
pub fn run_note(tag: &str, i: u64) -> String {
    format!("{tag} #{i}")
}

/// Reading `i` of a run: a kind and plausible values drawn from `rng`, measured in the
/// last 30 days at one of a few UTC offsets, noted [`run_note`].
pub fn run_reading(rng: &mut SplitMix64, tag: &str, i: u64) -> NewReading {
    let mut pick = |lo: u64, hi: u64| (lo + rng.below_or_eq(hi - lo)) as f64;
    let measurement = match i % 9 {
        0 => {
            let systolic = pick(95, 180);
            Measurement::BloodPressure {
                systolic,
                diastolic: pick(55, 90).min(systolic - 10.0),
                pulse: Some(pick(45, 120)),
            }
        }
        1 => Measurement::HeartRate { bpm: pick(45, 140) },
        2 => Measurement::BodyWeight {
            kg: pick(450, 1300) / 10.0,
        },
        3 => Measurement::BloodGlucose {
            mmol_per_l: pick(30, 180) / 10.0,
        },
        4 => Measurement::OxygenSaturation {
            percent: pick(85, 100),
            pulse: Some(pick(50, 110)),
        },
        5 => Measurement::PeakExpiratoryFlow {
            l_per_min: pick(150, 700),
        },
        6 => Measurement::BodyTemperature {
            celsius: pick(355, 400) / 10.0,
        },
        7 => Measurement::Steps {
            count: pick(0, 20_000),
        },
        _ => Measurement::CatScore { score: pick(0, 40) },
    };
    let minutes_ago = rng.below_or_eq(30 * 24 * 60) as i64;
    let at = Timestamp::now() - SignedDuration::from_mins(minutes_ago);
    let offsets = [0, 3600, 7200, -5 * 3600, 19_800];
    let offset = offsets[rng.below_or_eq(offsets.len() as u64 - 1) as usize];
    let offset = Offset::from_seconds(offset).unwrap_or(Offset::UTC);
    let mut reading = NewReading::manual(measurement, at, offset);
    reading.note = Some(run_note(tag, i));
    reading
}

/// The identifier value a reading gets on the server.
pub fn identifier_value(id: &ReadingId) -> String {
    format!("urn:uuid:{id}")
}

const IDENTIFIER_SYSTEM: &str = "urn:ietf:rfc:3986";

/// GETs `url` as FHIR JSON, retrying a few times; panics if the server never answers.
pub(crate) async fn get_json(http: &reqwest::Client, url: &str) -> serde_json::Value {
    let mut problems = Vec::new();
    for _ in 0..5 {
        match http
            .get(url)
            .header("Accept", "application/fhir+json")
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => match r.json().await {
                Ok(v) => return v,
                Err(e) => problems.push(format!("unreadable answer: {e}")),
            },
            Ok(r) => problems.push(format!("HTTP {}", r.status())),
            Err(e) => problems.push(format!("failed: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the FHIR server does not answer {url}: {problems:?}");
}

/// An HTTP client for the checks (http on loopback, a long timeout).
pub(crate) fn check_client() -> reqwest::Client {
    transport::client(&dev_transport(), Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("an HTTP client for the checks: {e}"))
}

/// How many Observations the FHIR server (read directly at `direct_url`) holds with
/// each of these readings' identifiers, asked 50 identifiers at a time (`identifier=`
/// OR-lists). A reading missing from the server maps to 0.
pub async fn copies_on_server(direct_url: &str, ids: &[ReadingId]) -> HashMap<ReadingId, u64> {
    let http = check_client();
    let mut copies: HashMap<ReadingId, u64> = ids.iter().map(|id| (*id, 0)).collect();
    let by_value: HashMap<String, ReadingId> =
        ids.iter().map(|id| (identifier_value(id), *id)).collect();
    for chunk in ids.chunks(50) {
        let list: Vec<String> = chunk
            .iter()
            .map(|id| format!("{IDENTIFIER_SYSTEM}|{}", identifier_value(id)))
            .collect();
        let mut next = Some(format!(
            "{direct_url}/Observation?identifier={}&_count=200",
            list.join(",")
        ));
        while let Some(url) = next.take() {
            let bundle = get_json(&http, &url).await;
            for resource in entries(&bundle) {
                for value in identifiers(resource) {
                    if let Some(id) = by_value.get(&value) {
                        *copies.entry(*id).or_default() += 1;
                    }
                }
            }
            next = next_link(&bundle);
        }
    }
    copies
}

/// The identifier values of every Observation of `patient` last updated at or after
/// `since` whose note starts with `tag` (a run's Observations, found without knowing
/// their identifiers), one entry per Observation.
pub async fn tagged_on_server(
    direct_url: &str,
    patient: &str,
    since: Timestamp,
    tag: &str,
) -> Vec<String> {
    let http = check_client();
    let since = since.to_string();
    let mut url = Url::parse(&format!("{direct_url}/Observation"))
        .unwrap_or_else(|e| panic!("the direct URL parses: {e}"));
    url.query_pairs_mut()
        .append_pair("subject", &format!("Patient/{patient}"))
        .append_pair("_lastUpdated", &format!("ge{since}"))
        .append_pair("_count", "500");
    let mut next = Some(url.to_string());
    let mut found = Vec::new();
    while let Some(url) = next.take() {
        let bundle = get_json(&http, &url).await;
        for resource in entries(&bundle) {
            let tagged = resource["note"].as_array().is_some_and(|notes| {
                notes
                    .iter()
                    .any(|n| n["text"].as_str().is_some_and(|t| t.starts_with(tag)))
            });
            if tagged {
                let mut ids = identifiers(resource);
                if ids.is_empty() {
                    ids.push("(no identifier)".into());
                }
                found.extend(ids);
            }
        }
        next = next_link(&bundle);
    }
    found
}

fn entries(bundle: &serde_json::Value) -> impl Iterator<Item = &serde_json::Value> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Observation")
}

fn identifiers(resource: &serde_json::Value) -> Vec<String> {
    resource["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["system"] == IDENTIFIER_SYSTEM)
        .filter_map(|i| i["value"].as_str().map(str::to_owned))
        .collect()
}

/// The `next` paging link of a search Bundle.
pub(crate) fn next_link(bundle: &serde_json::Value) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == "next")?["url"]
        .as_str()
        .map(str::to_owned)
}
