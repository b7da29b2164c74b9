//! Self-care articles on the wire (docs/adr/0011-self-care-content.md): reading a
//! `DocumentReference` into an [`Article`] with its image references, and the patient's
//! assignment `List`. Pure: no I/O.

use jiff::Timestamp;
use serde_json::Value;

use crate::domain::content::{Article, ArticleId, ContentLanguage, ImageId, ImageRef};
use crate::sync::fhir::communication::base64_decode;
use crate::sync::fhir::json::{Doc, join};
use crate::sync::fhir::{DownloadError, PatientId, Problem};

/// Identifier system of articles (the same for every language version).
pub const ARTICLE_SYSTEM: &str = "https://nara.se/fhir/sid/self-care-article";
/// The document type of self-care articles.
pub const DOCUMENT_TYPE: &str = "https://nara.se/fhir/CodeSystem/document-type|self-care-article";
/// Code system of content topics.
pub const TOPIC_SYSTEM: &str = "https://nara.se/fhir/CodeSystem/content-topic";
/// The code of the patient's assignment list.
pub const ASSIGNED_LIST: &str = "https://nara.se/fhir/CodeSystem/list|assigned-self-care";

/// An image of a downloaded article: where to fetch it and how to check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDownload {
    /// The image id (the `Binary` id).
    pub id: ImageId,
    /// Its media type.
    pub content_type: String,
    /// Its SHA-1 (raw bytes), if the region sent one.
    pub sha1: Option<Vec<u8>>,
    /// Its size, if sent.
    pub size: Option<u64>,
}

/// A downloaded language version of an article.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadedArticle {
    /// The `DocumentReference` id.
    pub doc_id: String,
    /// Whether it is current (else withdrawn).
    pub current: bool,
    /// The article.
    pub article: Article,
    /// Its images.
    pub images: Vec<ImageDownload>,
}

/// Reads a self-care `DocumentReference`. One about a patient (with a `subject`) must
/// be about `patient`.
pub fn article_from_fhir(
    v: &Value,
    patient: &PatientId,
) -> Result<DownloadedArticle, DownloadError> {
    let doc = Doc::open(v, "DocumentReference")?;
    if doc.id == "?" {
        return Err(doc.err("id", Problem::Missing));
    }
    if let Some(subject) = v.get("subject") {
        let r = doc.str(subject, "reference", "subject")?;
        if r.rsplit('/').next() != Some(patient.as_str()) {
            return Err(doc.err("subject.reference", Problem::Invalid));
        }
    }
    let current = doc.str(v, "status", "")? == "current";
    let mut article_id = None;
    for (i, ident) in doc.array(v, "identifier", "")?.iter().enumerate() {
        let p = format!("identifier[{i}]");
        if doc.opt_str(ident, "system", &p)? == Some(ARTICLE_SYSTEM) {
            let value = doc.str(ident, "value", &p)?;
            article_id = Some(
                ArticleId::parse(value)
                    .ok_or_else(|| doc.err(join(&p, "value"), Problem::Invalid))?,
            );
        }
    }
    let id = article_id.ok_or_else(|| doc.err("identifier", Problem::Missing))?;
    let version = v
        .pointer("/meta/versionId")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(1);
    let updated_at = v
        .pointer("/meta/lastUpdated")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Timestamp>().ok())
        .ok_or_else(|| doc.err("meta.lastUpdated", Problem::Missing))?;
    let mut topics = Vec::new();
    for (i, c) in doc.array(v, "category", "")?.iter().enumerate() {
        let p = format!("category[{i}]");
        for (j, coding) in doc.array(c, "coding", &p)?.iter().enumerate() {
            let cp = format!("{p}.coding[{j}]");
            if doc.opt_str(coding, "system", &cp)? == Some(TOPIC_SYSTEM) {
                topics.push(doc.str(coding, "code", &cp)?.to_owned());
            }
        }
    }
    let contents = doc.array(v, "content", "")?;
    let body = contents
        .first()
        .ok_or_else(|| doc.err("content", Problem::Missing))?;
    let attachment = doc.req(body, "attachment", "content[0]")?;
    let ap = "content[0].attachment";
    let content_type = doc.str(attachment, "contentType", ap)?;
    if !content_type.starts_with("text/markdown") {
        return Err(doc.err(join(ap, "contentType"), Problem::Unsupported));
    }
    let language = ContentLanguage::from_tag(doc.str(attachment, "language", ap)?)
        .ok_or_else(|| doc.err(join(ap, "language"), Problem::UnknownCode))?;
    let title = doc.str(attachment, "title", ap)?.to_owned();
    let markdown = base64_decode(doc.str(attachment, "data", ap)?)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| doc.err(join(ap, "data"), Problem::Invalid))?;
    let mut images = Vec::new();
    let mut refs = Vec::new();
    for (i, c) in contents.iter().enumerate().skip(1) {
        let p = format!("content[{i}].attachment");
        let a = doc.req(c, "attachment", &format!("content[{i}]"))?;
        let url = doc.str(a, "url", &p)?;
        let image_id = url
            .strip_prefix("Binary/")
            .and_then(ImageId::parse)
            .ok_or_else(|| doc.err(join(&p, "url"), Problem::Invalid))?;
        let content_type = doc.str(a, "contentType", &p)?.to_owned();
        let alt = doc.opt_str(a, "title", &p)?.unwrap_or_default().to_owned();
        let sha1 = match doc.opt_str(a, "hash", &p)? {
            Some(h) => {
                Some(base64_decode(h).ok_or_else(|| doc.err(join(&p, "hash"), Problem::Invalid))?)
            }
            None => None,
        };
        let size = a.get("size").and_then(Value::as_u64);
        refs.push(ImageRef {
            id: image_id.clone(),
            alt,
            content_type: content_type.clone(),
        });
        images.push(ImageDownload {
            id: image_id,
            content_type,
            sha1,
            size,
        });
    }
    Ok(DownloadedArticle {
        doc_id: doc.id.clone(),
        current,
        article: Article {
            id,
            version,
            language,
            title,
            summary: doc
                .opt_str(v, "description", "")?
                .unwrap_or_default()
                .to_owned(),
            body_markdown: markdown,
            topics,
            images: refs,
            updated_at,
        },
        images,
    })
}

/// The `DocumentReference` ids on the patient's assignment `List`, in its order.
pub fn assigned_from_list(v: &Value, patient: &PatientId) -> Result<Vec<String>, DownloadError> {
    let doc = Doc::open(v, "List")?;
    let subject = doc.req(v, "subject", "")?;
    if doc.str(subject, "reference", "subject")?.rsplit('/').next() != Some(patient.as_str()) {
        return Err(doc.err("subject.reference", Problem::Invalid));
    }
    if doc.str(v, "status", "")? != "current" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (i, e) in doc.array(v, "entry", "")?.iter().enumerate() {
        let p = format!("entry[{i}]");
        if e.get("deleted").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let item = doc.req(e, "item", &p)?;
        let r = doc.str(item, "reference", &join(&p, "item"))?;
        if let Some(id) = r.strip_prefix("DocumentReference/") {
            out.push(id.to_owned());
        }
    }
    Ok(out)
}
