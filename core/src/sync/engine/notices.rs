//! Sync of appointment notices (docs/adr/0010-notices-fhir-mapping.md): the patient's
//! `Appointment`s and their health declarations (`Questionnaire`) down; opened
//! receipts, answers and submitted forms up, through the one outbox.
//!
//! An answer is sent only after this run has read the appointment again and found the
//! time and status it was given for (ADR 0010 §6); otherwise the stored notice is
//! updated, which sets the answer aside as overtaken.

use std::collections::HashSet;

use serde_json::Value;
use url::Url;

use super::{Key, Region, SaveCursor, SearchUrl, SyncError, SyncReport};
use crate::store::notices::{self as repo, NoticeUpload, NoticeUpsert};
use crate::store::outbox::Entity;
use crate::sync::auth;
use crate::sync::fhir::{self, appointment};

impl Region<'_> {
    /// GETs `path` (relative to the FHIR base) as JSON; `None` when the network failed
    /// or the server said no (the caller keeps what it had and tries next time).
    pub(super) async fn get_json(
        &self,
        base: &Url,
        path: &str,
        deadline: tokio::time::Instant,
    ) -> Result<Option<Value>, SyncError> {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        if remaining < std::time::Duration::from_millis(200) {
            return Ok(None);
        }
        let url = auth::join(base, path)?;
        let token = self.access_token().await?;
        let http = self.http(remaining.min(super::REQUEST_TIMEOUT))?;
        let response = match http
            .get(url)
            .bearer_auth(token)
            .header("Accept", "application/fhir+json")
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(error = %auth::without_url(&e), "notice check: network");
                return Ok(None);
            }
        };
        if !response.status().is_success() {
            tracing::info!(status = response.status().as_u16(), "notice check: refused");
            return Ok(None);
        }
        Ok(response.json().await.ok())
    }

    /// Reads the appointment of every waiting answer again (ADR 0010 §6), with one
    /// search per 50 appointments (`Appointment?_id=a,b,…&patient=…`). Returns the
    /// answer rows that may be sent in this run: those whose appointment still has the
    /// time and status they were given for. A changed appointment is stored, which sets
    /// its waiting answers aside; one the search did not return stays waiting.
    pub(super) async fn check_notice_answers(
        &self,
        base: &Url,
        patient: &fhir::PatientId,
        deadline: tokio::time::Instant,
        report: &mut SyncReport,
    ) -> Result<HashSet<i64>, SyncError> {
        let due = self
            .nara
            .store
            .read(|c, k| repo::due_uploads(c, k, usize::MAX >> 1))?;
        let waiting: Vec<(i64, String, crate::domain::notice::GivenAnswer)> = due
            .into_iter()
            .filter_map(|u| match u {
                NoticeUpload::Answer { seq, notice, given } if fhir::is_fhir_id(&notice.id) => {
                    Some((seq, notice.id, given))
                }
                _ => None,
            })
            .collect();
        let mut ok = HashSet::new();
        let mut ids: Vec<&str> = waiting.iter().map(|(_, id, _)| id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(50) {
            let mut url = auth::join(base, "Appointment")?;
            url.query_pairs_mut()
                .append_pair("_id", &chunk.join(","))
                .append_pair("patient", patient.as_str())
                .append_pair("_count", "50");
            let Some(found) = self.search(url, "Appointment", deadline, report).await? else {
                continue;
            };
            let mut current = std::collections::HashMap::new();
            for v in &found {
                match appointment::notice_from_fhir(v, patient) {
                    Ok(n) => {
                        current.insert(n.id.clone(), n);
                    }
                    Err(e) => {
                        tracing::warn!(field = %e.field, problem = %e.problem, "an Appointment was unreadable")
                    }
                }
            }
            for (seq, id, given) in waiting
                .iter()
                .filter(|(_, id, _)| chunk.contains(&id.as_str()))
            {
                let Some(now) = current.get(id) else {
                    continue;
                };
                if repo::answered_other_time(given, now) {
                    self.nara.notices().store_from_region(now)?;
                } else {
                    ok.insert(*seq);
                }
            }
        }
        Ok(ok)
    }

    /// Notice uploads for the next Bundle: opened receipts, answers checked in this run,
    /// submitted forms (with the session's patient as subject and author).
    pub(super) fn notice_batch(
        &self,
        patient: &fhir::PatientId,
        size: usize,
        checked: &HashSet<i64>,
        entries: &mut Vec<(Key, fhir::BundleEntry)>,
        unmappable: &mut Vec<Key>,
    ) -> Result<(), SyncError> {
        let due = self
            .nara
            .store
            .read(|c, k| repo::due_uploads(c, k, size.saturating_mul(4)))?;
        for upload in due {
            if entries.len() >= size {
                break;
            }
            let (key, entry) = match upload {
                NoticeUpload::Opened {
                    seq,
                    notice_id,
                    opened_at,
                } => (
                    (Entity::NoticeOpened, seq),
                    appointment::opened_receipt_entry(&notice_id, opened_at, patient),
                ),
                NoticeUpload::Answer { seq, notice, given } => {
                    if !checked.contains(&seq) {
                        continue;
                    }
                    (
                        (Entity::NoticeAnswer, seq),
                        appointment::answer_entry(&notice.id, &given, patient),
                    )
                }
                NoticeUpload::Form { seq, mut response } => {
                    let me = serde_json::json!({ "reference": patient.reference() });
                    response["subject"] = me.clone();
                    response["author"] = me;
                    (
                        (Entity::FormResponse, seq),
                        appointment::questionnaire_response_entry(response),
                    )
                }
            };
            match entry {
                Ok(entry) => entries.push((key, entry)),
                Err(_) => unmappable.push(key),
            }
        }
        Ok(())
    }

    /// Downloads the patient's `Appointment`s incrementally and the health
    /// declarations they refer to that are not on the phone yet. True if everything
    /// came back.
    pub(super) async fn download_notices(
        &self,
        base: &Url,
        patient: &fhir::PatientId,
        search: &SearchUrl<'_>,
        save_cursor: &SaveCursor<'_>,
        deadline: tokio::time::Instant,
        report: &mut SyncReport,
    ) -> Result<bool, SyncError> {
        let Some(found) = self
            .search(search("Appointment")?, "Appointment", deadline, report)
            .await?
        else {
            return Ok(false);
        };
        let notices = self.nara.notices();
        let mut newest = None;
        let mut page = Vec::with_capacity(found.len());
        for v in &found {
            match appointment::notice_from_fhir(v, patient) {
                Ok(n) => {
                    newest = newest.max(
                        v.pointer("/meta/lastUpdated")
                            .and_then(Value::as_str)
                            .and_then(|s| s.parse::<jiff::Timestamp>().ok()),
                    );
                    page.push(n);
                }
                Err(e) => {
                    tracing::warn!(field = %e.field, problem = %e.problem, "an Appointment was skipped")
                }
            }
        }
        report.notices_received += notices
            .store_all_from_region(&page)?
            .iter()
            .filter(|o| **o != NoticeUpsert::Unchanged)
            .count() as u64;
        save_cursor("Appointment", newest)?;
        let mut complete = true;
        for id in notices.missing_forms()? {
            if !fhir::is_fhir_id(&id) {
                continue;
            }
            match self
                .get_json(base, &format!("Questionnaire/{id}"), deadline)
                .await?
            {
                Some(json) => {
                    if let Err(e) = notices.store_form(&id, &json) {
                        tracing::warn!(error = %e, "a Questionnaire cannot be used");
                    }
                }
                None => complete = false,
            }
        }
        Ok(complete)
    }
}
