//! Upload Bundles: building `transaction`/`batch` Bundles and reading the server's answer.
//!
//! Every entry is idempotent: a reading is a conditional create (`POST Observation` with
//! `ifNoneExist: identifier=urn:ietf:rfc:3986|urn:uuid:<id>`), so a retried Bundle
//! creates nothing twice; a retraction is a conditional update (`PUT
//! Observation?identifier=...`), which gives the same end state however often it runs.
//!
//! [`parse_response`] maps the server's answer to one [`EntryOutcome`] per sent entry,
//! by position (FHIR requires the response entries in request order), or to a
//! [`BundleFailure`] when the server refused the Bundle as a whole (a failed transaction
//! is rolled back: nothing of it was stored). Whatever cannot be understood is a
//! [`ResponseError`], and the safe reaction to it is to send the same Bundle again.
//!
//! Details carried in outcomes are built from status codes and OperationOutcome issue
//! *codes* only; the server's free-text `diagnostics` may echo submitted values and are
//! never copied.

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::domain::reading::{Reading, ReadingId};
use crate::sync::fhir::observation::{identifier_token, observation, retracted_observation};
use crate::sync::fhir::{FhirError, Observation, PatientId};

/// `Bundle.type` of a Bundle Nära sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BundleType {
    /// All entries succeed or none does.
    Transaction,
    /// Each entry succeeds or fails on its own.
    Batch,
}

/// The HTTP method of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// Create (conditional, with `ifNoneExist`).
    Post,
    /// Conditional update.
    Put,
}

/// `Bundle.entry.request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleRequest {
    /// POST or PUT.
    pub method: Method,
    /// `Observation`, or `Observation?identifier=...` for a conditional update.
    pub url: String,
    /// The conditional-create search, e.g. `identifier=urn:ietf:rfc:3986|urn:uuid:...`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_none_exist: Option<String>,
}

/// The resource of an entry: typed where Nära has a type, JSON otherwise.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EntryResource {
    /// An Observation.
    Observation(Box<Observation>),
    /// Any other resource, already as JSON.
    Json(Value),
}

/// One `Bundle.entry`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    /// `urn:uuid:<client id>` for creates; absent for conditional updates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_url: Option<String>,
    /// The resource.
    pub resource: EntryResource,
    /// What to do with it.
    pub request: BundleRequest,
}

impl BundleEntry {
    /// A conditional create of `obs` on its client identifier.
    pub fn create(obs: Observation) -> Result<Self, FhirError> {
        let id = obs
            .client_identifier()
            .ok_or(FhirError::MissingIdentifier)?
            .to_owned();
        Ok(BundleEntry {
            request: BundleRequest {
                method: Method::Post,
                url: "Observation".to_owned(),
                if_none_exist: Some(format!(
                    "identifier={}|{id}",
                    crate::sync::fhir::URI_IDENTIFIER_SYSTEM
                )),
            },
            full_url: Some(id),
            resource: EntryResource::Observation(Box::new(obs)),
        })
    }

    /// A conditional update of the Observation with `obs`'s client identifier to `obs`
    /// (used to withdraw a replaced reading; creates it if the server has none).
    pub fn retract(obs: Observation) -> Result<Self, FhirError> {
        let id = obs
            .client_identifier()
            .ok_or(FhirError::MissingIdentifier)?
            .to_owned();
        Ok(BundleEntry {
            full_url: None,
            request: BundleRequest {
                method: Method::Put,
                url: format!(
                    "Observation?identifier={}|{id}",
                    crate::sync::fhir::URI_IDENTIFIER_SYSTEM
                ),
                if_none_exist: None,
            },
            resource: EntryResource::Observation(Box::new(obs)),
        })
    }
}

/// The conditional create of `reading`.
pub fn reading_entry(reading: &Reading, patient: &PatientId) -> Result<BundleEntry, FhirError> {
    BundleEntry::create(observation(reading, patient)?)
}

/// The conditional update that withdraws `old`, replaced by `replaced_by`. Send it in a
/// later Bundle than `old`'s own create (a server need not see resources created earlier
/// in the same transaction when it resolves a conditional URL).
pub fn retraction_entry(
    old: &Reading,
    replaced_by: ReadingId,
    patient: &PatientId,
) -> Result<BundleEntry, FhirError> {
    BundleEntry::retract(retracted_observation(old, replaced_by, patient)?)
}

/// The `ifNoneExist` search of a reading: `identifier=urn:ietf:rfc:3986|urn:uuid:<id>`.
pub fn if_none_exist(id: ReadingId) -> String {
    format!("identifier={}", identifier_token(id))
}

/// A Bundle to send.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "resourceType")]
pub struct Bundle {
    /// transaction or batch.
    #[serde(rename = "type")]
    pub type_: BundleType,
    /// The entries, in the order their outcomes come back.
    pub entry: Vec<BundleEntry>,
}

impl Bundle {
    /// A transaction Bundle: all entries or none.
    pub fn transaction(entry: Vec<BundleEntry>) -> Self {
        Bundle {
            type_: BundleType::Transaction,
            entry,
        }
    }

    /// A batch Bundle: each entry on its own.
    pub fn batch(entry: Vec<BundleEntry>) -> Self {
        Bundle {
            type_: BundleType::Batch,
            entry,
        }
    }

    /// The JSON body to POST to the server's base URL
    /// (`Content-Type: application/fhir+json`).
    pub fn to_json(&self) -> Result<Vec<u8>, FhirError> {
        serde_json::to_vec(self).map_err(|_| FhirError::Serialize)
    }
}

/// What happened to one sent entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    /// 201: the server created it now.
    Created {
        /// `Observation/<id>/_history/<v>`, if the server said.
        location: Option<String>,
    },
    /// 200 (or another 2xx) on a conditional create: it was already there (an earlier
    /// attempt got through). Done, exactly as `Created`.
    AlreadyThere {
        /// The existing resource, if the server said.
        location: Option<String>,
    },
    /// 200 (or another 2xx) on a conditional update: updated.
    Updated {
        /// The resource, if the server said.
        location: Option<String>,
    },
    /// 409 or 412: the server's state conflicts with the condition (412 on a conditional
    /// create: more than one resource has the identifier). Retrying cannot help; re-read
    /// the server (search by identifier) before deciding.
    Conflict {
        /// The HTTP status.
        status: u16,
        /// Status and issue codes; no patient data.
        detail: String,
    },
    /// Any other 4xx: this item is refused. Keep it, mark it, report it; the others go on.
    Rejected {
        /// The HTTP status.
        status: u16,
        /// Status and issue codes; no patient data.
        detail: String,
    },
    /// 408, 429, 5xx, or no usable status: send it again later (safe: idempotent).
    Retry {
        /// The HTTP status, if there was one.
        status: Option<u16>,
    },
}

impl EntryOutcome {
    /// True if the entry's effect is on the server (created, already there, updated).
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            EntryOutcome::Created { .. }
                | EntryOutcome::AlreadyThere { .. }
                | EntryOutcome::Updated { .. }
        )
    }
}

/// One OperationOutcome issue, reduced to codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// fatal, error, warning or information.
    pub severity: String,
    /// The FHIR issue type, e.g. `invalid`, `required`, `duplicate`.
    pub code: String,
    /// The sent entry the issue names (`Bundle.entry[i]` in its expression or location),
    /// 0-based.
    pub entry: Option<usize>,
}

/// The server refused the Bundle as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFailure {
    /// The HTTP status.
    pub status: u16,
    /// True for 408, 429 and 5xx: send the same Bundle again later. False for other
    /// 4xx: some entry is refused; find it ([`BundleFailure::entries`]) or split the
    /// Bundle to isolate it.
    pub retry: bool,
    /// The OperationOutcome's issues, if the body had one.
    pub issues: Vec<Issue>,
}

impl BundleFailure {
    /// The sent entries the issues name, sorted, without repeats.
    pub fn entries(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.issues.iter().filter_map(|i| i.entry).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Status and issue codes, e.g. `400 Bad Request: invalid, required`.
    pub fn detail(&self) -> String {
        detail(self.status, &self.issues)
    }
}

/// The server's answer to a Bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleResponse {
    /// One outcome per sent entry, in the sent order.
    Entries(Vec<EntryOutcome>),
    /// The whole Bundle was refused; nothing of a transaction was stored.
    Failed(BundleFailure),
}

/// An answer that cannot be understood. The outcome of each entry is unknown: send the
/// same Bundle again (every entry is idempotent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ResponseError {
    /// A 2xx body that is not JSON (cut off, or not FHIR).
    #[error("the server's answer is not JSON")]
    NotJson,
    /// A 2xx body that is not a Bundle.
    #[error("the server's answer is not a Bundle")]
    NotABundle,
    /// A Bundle of another type than transaction-response or batch-response.
    #[error("the server's answer is not a transaction or batch response")]
    WrongBundleType,
    /// The answer has another number of entries than was sent.
    #[error("the server answered {received} entries for {sent} sent")]
    EntryCountMismatch {
        /// Entries sent.
        sent: usize,
        /// Entries in the answer.
        received: usize,
    },
}

/// Reads the server's answer (`http_status` and body) to `sent`.
pub fn parse_response(
    http_status: u16,
    body: &[u8],
    sent: &Bundle,
) -> Result<BundleResponse, ResponseError> {
    if !(200..300).contains(&http_status) {
        let issues = serde_json::from_slice::<Value>(body)
            .ok()
            .filter(|v| v.get("resourceType").and_then(Value::as_str) == Some("OperationOutcome"))
            .map(|oo| issues(&oo, sent.entry.len()))
            .unwrap_or_default();
        return Ok(BundleResponse::Failed(BundleFailure {
            status: http_status,
            retry: is_transient(http_status),
            issues,
        }));
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| ResponseError::NotJson)?;
    if v.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err(ResponseError::NotABundle);
    }
    match v.get("type").and_then(Value::as_str) {
        Some("transaction-response" | "batch-response") => {}
        _ => return Err(ResponseError::WrongBundleType),
    }
    let empty = Vec::new();
    let entries = match v.get("entry") {
        None => &empty,
        Some(e) => e.as_array().ok_or(ResponseError::NotABundle)?,
    };
    if entries.len() != sent.entry.len() {
        return Err(ResponseError::EntryCountMismatch {
            sent: sent.entry.len(),
            received: entries.len(),
        });
    }
    let outcomes = entries
        .iter()
        .zip(&sent.entry)
        .map(|(answer, request)| entry_outcome(answer, request.request.method))
        .collect();
    Ok(BundleResponse::Entries(outcomes))
}

fn is_transient(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

fn entry_outcome(answer: &Value, method: Method) -> EntryOutcome {
    let response = answer.get("response");
    let status = response
        .and_then(|r| r.get("status"))
        .and_then(Value::as_str)
        .and_then(parse_status);
    let Some(status) = status else {
        return EntryOutcome::Retry { status: None };
    };
    let location = response
        .and_then(|r| r.get("location"))
        .and_then(Value::as_str)
        .filter(|l| l.len() <= 512)
        .map(str::to_owned);
    let detail = || {
        let issues = response
            .and_then(|r| r.get("outcome"))
            .map(|oo| issues(oo, 0))
            .unwrap_or_default();
        detail(status, &issues)
    };
    match (status, method) {
        (201, _) => EntryOutcome::Created { location },
        (200..=299, Method::Post) => EntryOutcome::AlreadyThere { location },
        (200..=299, Method::Put) => EntryOutcome::Updated { location },
        (409 | 412, _) => EntryOutcome::Conflict {
            status,
            detail: detail(),
        },
        (s, _) if is_transient(s) => EntryOutcome::Retry { status: Some(s) },
        (400..=499, _) => EntryOutcome::Rejected {
            status,
            detail: detail(),
        },
        (s, _) => EntryOutcome::Retry { status: Some(s) },
    }
}

/// The status code at the start of `Bundle.entry.response.status` ("201 Created", "201").
fn parse_status(s: &str) -> Option<u16> {
    let digits = s.trim_start().get(..3)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = &s.trim_start()[3..];
    if rest.chars().next().is_some_and(|c| !c.is_whitespace()) {
        return None;
    }
    digits.parse().ok()
}

/// Keeps a code only if it looks like a FHIR code token (so no free text leaks).
fn code_token(v: Option<&Value>) -> String {
    match v.and_then(Value::as_str) {
        Some(s)
            if !s.is_empty()
                && s.len() <= 32
                && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') =>
        {
            s.to_owned()
        }
        _ => "unknown".to_owned(),
    }
}

/// The first `Bundle.entry[i]` named in `s`, if `i < count`.
fn entry_index(s: &str, count: usize) -> Option<usize> {
    let start = s.find("Bundle.entry[")? + "Bundle.entry[".len();
    let rest = &s[start..];
    let end = rest.find(']')?;
    let i: usize = rest[..end].parse().ok()?;
    (i < count).then_some(i)
}

fn issues(oo: &Value, entry_count: usize) -> Vec<Issue> {
    let Some(list) = oo.get("issue").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .map(|issue| {
            let paths = ["expression", "location"]
                .into_iter()
                .filter_map(|k| issue.get(k).and_then(Value::as_array))
                .flatten()
                .filter_map(Value::as_str);
            let entry = paths.into_iter().find_map(|p| entry_index(p, entry_count));
            Issue {
                severity: code_token(issue.get("severity")),
                code: code_token(issue.get("code")),
                entry,
            }
        })
        .collect()
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// `400 Bad Request: invalid, required` from the status and the issue codes.
fn detail(status: u16, issues: &[Issue]) -> String {
    let mut s = status.to_string();
    let phrase = reason_phrase(status);
    if !phrase.is_empty() {
        s.push(' ');
        s.push_str(phrase);
    }
    let mut codes: Vec<&str> = Vec::new();
    for i in issues {
        if !codes.contains(&i.code.as_str()) {
            codes.push(&i.code);
        }
    }
    if !codes.is_empty() {
        s.push_str(": ");
        s.push_str(&codes.join(", "));
    }
    s
}
