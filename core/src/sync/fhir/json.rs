//! Reading downloaded FHIR JSON with errors that name the element, never its value.
//!
//! Downloaded resources are walked as `serde_json::Value` rather than deserialized into
//! structs: serde's messages quote the offending value, and a value may be patient data.
//! Every error here is a [`DownloadError`]: resource type, resource id, element path
//! (`target[1].detailRange.low.code`) and the kind of [`Problem`].

use std::fmt;

use serde_json::Value;
use thiserror::Error;

use crate::domain::schedule::ScheduleError;
use crate::domain::triage::ThresholdError;
use crate::sync::fhir::is_fhir_id;

/// What is wrong with a downloaded element.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum Problem {
    /// A required element is absent.
    #[error("missing")]
    Missing,
    /// The element has the wrong JSON type or an unparseable value.
    #[error("invalid")]
    Invalid,
    /// A code (or code system) Nära does not know.
    #[error("unknown code")]
    UnknownCode,
    /// A quantity in another unit than the metric's canonical UCUM unit.
    #[error("wrong unit")]
    WrongUnit,
    /// A valid FHIR construct that Nära does not support.
    #[error("not supported")]
    Unsupported,
    /// The thresholds, though well-formed, cannot be applied.
    #[error("{0}")]
    Thresholds(ThresholdError),
    /// The schedule, though well-formed, cannot be used.
    #[error("{0}")]
    Schedule(ScheduleError),
}

/// A downloaded resource Nära cannot use: which resource, which element, what problem.
/// Carries no element value.
#[derive(Debug, Clone, PartialEq, Error)]
pub struct DownloadError {
    /// The resource type, e.g. `Goal`.
    pub resource: &'static str,
    /// The resource id (`?` if it has none, or one that is not a valid FHIR id).
    pub id: String,
    /// The element path, e.g. `target[1].detailRange.low.code`.
    pub field: String,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for DownloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}: {}: {}",
            self.resource, self.id, self.field, self.problem
        )
    }
}

/// A downloaded resource being read: its type and id for errors.
pub(crate) struct Doc {
    pub(crate) resource: &'static str,
    pub(crate) id: String,
}

impl Doc {
    /// Checks `resourceType` and reads the id.
    pub(crate) fn open(v: &Value, resource: &'static str) -> Result<Doc, DownloadError> {
        let id = match v.get("id").and_then(Value::as_str) {
            Some(id) if is_fhir_id(id) => id.to_owned(),
            _ => "?".to_owned(),
        };
        let doc = Doc { resource, id };
        match v.get("resourceType").and_then(Value::as_str) {
            Some(t) if t == resource => Ok(doc),
            Some(_) => Err(doc.err("resourceType", Problem::UnknownCode)),
            None => Err(doc.err("resourceType", Problem::Missing)),
        }
    }

    /// An error at `field`.
    pub(crate) fn err(&self, field: impl Into<String>, problem: Problem) -> DownloadError {
        DownloadError {
            resource: self.resource,
            id: self.id.clone(),
            field: field.into(),
            problem,
        }
    }

    /// The element `key` of `v`, required.
    pub(crate) fn req<'a>(
        &self,
        v: &'a Value,
        key: &str,
        path: &str,
    ) -> Result<&'a Value, DownloadError> {
        v.get(key)
            .ok_or_else(|| self.err(join(path, key), Problem::Missing))
    }

    /// The string element `key` of `v`, required.
    pub(crate) fn str<'a>(
        &self,
        v: &'a Value,
        key: &str,
        path: &str,
    ) -> Result<&'a str, DownloadError> {
        self.req(v, key, path)?
            .as_str()
            .ok_or_else(|| self.err(join(path, key), Problem::Invalid))
    }

    /// The string element `key` of `v`, if present.
    pub(crate) fn opt_str<'a>(
        &self,
        v: &'a Value,
        key: &str,
        path: &str,
    ) -> Result<Option<&'a str>, DownloadError> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.err(join(path, key), Problem::Invalid)),
        }
    }

    /// The array element `key` of `v`; absent is empty.
    pub(crate) fn array<'a>(
        &self,
        v: &'a Value,
        key: &str,
        path: &str,
    ) -> Result<&'a [Value], DownloadError> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(self.err(join(path, key), Problem::Invalid)),
        }
    }

    /// The finite number element `key` of `v`, required.
    pub(crate) fn number(&self, v: &Value, key: &str, path: &str) -> Result<f64, DownloadError> {
        self.req(v, key, path)?
            .as_f64()
            .filter(|n| n.is_finite())
            .ok_or_else(|| self.err(join(path, key), Problem::Invalid))
    }

    /// The extensions of `v` with `url`, with their paths.
    pub(crate) fn extensions<'a>(
        &self,
        v: &'a Value,
        url: &str,
        path: &str,
    ) -> Result<Vec<(String, &'a Value)>, DownloadError> {
        let list = self.array(v, "extension", path)?;
        let mut out = Vec::new();
        for (i, e) in list.iter().enumerate() {
            let p = format!("{}[{i}]", join(path, "extension"));
            if self.str(e, "url", &p)? == url {
                out.push((p, e));
            }
        }
        Ok(out)
    }

    /// The single extension of `v` with `url`, if any (more than one is invalid).
    pub(crate) fn extension<'a>(
        &self,
        v: &'a Value,
        url: &str,
        path: &str,
    ) -> Result<Option<(String, &'a Value)>, DownloadError> {
        let mut all = self.extensions(v, url, path)?;
        match all.len() {
            0 => Ok(None),
            1 => Ok(all.pop()),
            _ => Err(self.err(join(path, "extension"), Problem::Invalid)),
        }
    }
}

/// `path.key`, or `key` at the root.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The resources of type `resource_type` in a search result Bundle (`searchset`), in
/// order; other entries (an `OperationOutcome` with search mode `outcome`, `_include`d
/// resources of other types) are skipped.
pub fn search_resources<'a>(
    bundle: &'a Value,
    resource_type: &str,
) -> Result<Vec<&'a Value>, DownloadError> {
    let doc = Doc::open(bundle, "Bundle")?;
    let entries = doc.array(bundle, "entry", "")?;
    Ok(entries
        .iter()
        .filter_map(|e| e.get("resource"))
        .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some(resource_type))
        .collect())
}

/// The `next` link of a search result page, if there is another page.
pub fn next_page(bundle: &Value) -> Option<&str> {
    bundle
        .get("link")?
        .as_array()?
        .iter()
        .find(|l| l.get("relation").and_then(Value::as_str) == Some("next"))?
        .get("url")?
        .as_str()
}
