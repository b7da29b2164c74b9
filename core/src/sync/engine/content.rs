//! Download of self-care content (docs/adr/0011-self-care-content.md): the general
//! library and the patient's assigned articles as `DocumentReference`s (incremental by
//! `_lastUpdated`, so an edited article is the only one fetched again), their images as
//! `Binary` (fetched only when the hash changed, checked against it), and the
//! assignment `List`. Stored in the public content cache; the budget is enforced after.

use std::collections::BTreeMap;

use serde_json::Value;
use url::Url;

use super::{CURSOR_PREFIX, Region, SaveCursor, SyncError, SyncReport};
use crate::domain::content::ArticleId;
use crate::store::outbox;
use crate::sync::auth;
use crate::sync::fhir::communication::base64_decode;
use crate::sync::fhir::{self, document};

/// Sealed sync metadata: the article id of every `DocumentReference` seen (the
/// assignment list names documents, the store keeps articles).
const DOCS_KEY: &str = "content/documents";

impl Region<'_> {
    /// The map document id → article id, as stored.
    fn document_map(&self) -> Result<BTreeMap<String, String>, SyncError> {
        let raw = self
            .nara
            .store
            .read(|c, k| outbox::meta_get(c, k, DOCS_KEY))?;
        Ok(raw
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default())
    }

    async fn fetch_image(
        &self,
        base: &Url,
        image: &document::ImageDownload,
        deadline: tokio::time::Instant,
    ) -> Result<Option<Vec<u8>>, SyncError> {
        let Some(binary) = self
            .get_json(base, &format!("Binary/{}", image.id.as_str()), deadline)
            .await?
        else {
            return Ok(None);
        };
        let bytes = binary
            .get("data")
            .and_then(Value::as_str)
            .and_then(base64_decode)
            .ok_or_else(|| SyncError::Unusable("Binary: data: invalid".into()))?;
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &bytes);
        if image.sha1.as_deref().is_some_and(|h| h != sha1.as_ref())
            || image.size.is_some_and(|s| s != bytes.len() as u64)
        {
            return Err(SyncError::Unusable("Binary: data: hash or size".into()));
        }
        Ok(Some(bytes))
    }

    /// Downloads changed articles and the assignment list; true if everything came
    /// back (images included).
    pub(super) async fn download_content(
        &self,
        base: &Url,
        patient: &fhir::PatientId,
        save_cursor: &SaveCursor<'_>,
        deadline: tokio::time::Instant,
        report: &mut SyncReport,
    ) -> Result<bool, SyncError> {
        let content = self.nara.content();
        let mut complete = true;
        let mut docs = self.document_map()?;
        let cursor_key = format!("{CURSOR_PREFIX}DocumentReference");
        let since = self
            .nara
            .store
            .read(|c, k| outbox::meta_get(c, k, &cursor_key))?
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let mut url = auth::join(base, "DocumentReference")?;
        url.query_pairs_mut()
            .append_pair("type", document::DOCUMENT_TYPE)
            .append_pair("_count", "100");
        if let Some(since) = since {
            url.query_pairs_mut()
                .append_pair("_lastUpdated", &format!("ge{since}"));
        }
        let found = self
            .search(url, "DocumentReference", deadline, report)
            .await?;
        let mut newest = None;
        match found {
            None => complete = false,
            Some(found) => {
                let mut all_images = true;
                for v in &found {
                    let downloaded = match document::article_from_fhir(v, patient) {
                        Ok(d) => d,
                        Err(e) => {
                            tracing::warn!(field = %e.field, problem = %e.problem, "an article was skipped");
                            continue;
                        }
                    };
                    docs.insert(
                        downloaded.doc_id.clone(),
                        downloaded.article.id.as_str().to_owned(),
                    );
                    if !downloaded.current {
                        content.remove_article(&downloaded.article.id)?;
                        newest = newest.max(Some(downloaded.article.updated_at));
                        continue;
                    }
                    let mut images = Vec::new();
                    let mut ok = true;
                    for image in &downloaded.images {
                        let have = content.image_sha1(&image.id)?;
                        if have.is_some() && (image.sha1.is_none() || have == image.sha1) {
                            continue;
                        }
                        match self.fetch_image(base, image, deadline).await {
                            Ok(Some(bytes)) => {
                                images.push((image.id.clone(), image.content_type.clone(), bytes))
                            }
                            Ok(None) => ok = false,
                            Err(e) => {
                                tracing::warn!(error = %e, "an article image was refused");
                            }
                        }
                    }
                    if !ok {
                        // Keep the cursor before this article: the next run fetches it
                        // again with its images.
                        all_images = false;
                        continue;
                    }
                    if content.store_article(downloaded.article.clone(), images)? {
                        report.articles_received += 1;
                    }
                    newest = newest.max(Some(downloaded.article.updated_at));
                }
                complete &= all_images;
            }
        }
        // An article whose images did not all come is fetched again next time: the
        // cursor moves only when the whole page was stored.
        if complete {
            save_cursor("DocumentReference", newest)?;
        }

        let mut url = auth::join(base, "List")?;
        url.query_pairs_mut()
            .append_pair("subject", &patient.reference())
            .append_pair("code", document::ASSIGNED_LIST);
        match self.search(url, "List", deadline, report).await? {
            None => complete = false,
            Some(lists) => {
                let mut assigned: Vec<ArticleId> = Vec::new();
                for v in &lists {
                    match document::assigned_from_list(v, patient) {
                        Ok(doc_ids) => {
                            for doc_id in doc_ids {
                                let article = match docs.get(&doc_id) {
                                    Some(a) => Some(a.clone()),
                                    None => {
                                        self.article_of_document(base, patient, &doc_id, deadline)
                                            .await?
                                    }
                                };
                                if let Some(id) = article.as_deref().and_then(ArticleId::parse) {
                                    docs.insert(doc_id, id.as_str().to_owned());
                                    if !assigned.contains(&id) {
                                        assigned.push(id);
                                    }
                                }
                            }
                        }
                        Err(e) => {
                            tracing::warn!(field = %e.field, problem = %e.problem, "the assignment list was skipped")
                        }
                    }
                }
                if content.assigned()? != assigned {
                    content.set_assigned(assigned)?;
                }
            }
        }
        let map = serde_json::to_vec(&docs).map_err(|_| crate::store::StoreError::Decode)?;
        self.nara
            .store
            .write(|tx, k| outbox::meta_put(tx, k, DOCS_KEY, &map))?;
        content.enforce_budget()?;
        Ok(complete)
    }

    /// The article id of a document not seen in the library search (read directly).
    async fn article_of_document(
        &self,
        base: &Url,
        patient: &fhir::PatientId,
        doc_id: &str,
        deadline: tokio::time::Instant,
    ) -> Result<Option<String>, SyncError> {
        if !fhir::is_fhir_id(doc_id) {
            return Ok(None);
        }
        let Some(v) = self
            .get_json(base, &format!("DocumentReference/{doc_id}"), deadline)
            .await?
        else {
            return Ok(None);
        };
        Ok(document::article_from_fhir(&v, patient)
            .ok()
            .map(|d| d.article.id.as_str().to_owned()))
    }
}
