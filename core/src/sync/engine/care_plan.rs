//! Download of the care team's thresholds (`Goal`) and measurement schedules
//! (`CarePlan`), including deletions and resources that cannot be used (ADR 0008,
//! "Deletions and resources that cannot be used").
//!
//! - **Changes** come incrementally: `_lastUpdated=ge<cursor>` per type, as before.
//! - **Deletions.** A deleted resource never matches a search, and type-level `_history`
//!   cannot be confined to one patient. So every run first asks, in one `batch` request,
//!   for the ids of the patient's Goals and CarePlans (`Goal?patient=X&_elements=id`,
//!   `CarePlan?patient=X&_elements=id`) and compares them with the ids the phone applied,
//!   which it remembers sealed in `sync_meta`: the thresholds a deleted Goal set are
//!   withdrawn (the defaults apply again) and the schedules of a deleted CarePlan are
//!   removed. An id list that may be incomplete (a page not read, a `total` larger than
//!   the ids) removes nothing.
//! - **Resources that cannot be used.** A Goal or CarePlan that cannot be mapped is
//!   listed in [`SyncStatus::unusable`](super::SyncStatus::unusable): its type, a reason
//!   code and the element path, never a value or its id (a server id may embed a
//!   patient id). The cursor stops at the oldest such resource, so every later run reads
//!   it again until the care team fixes or deletes it; the list is rebuilt from each
//!   complete download of the type, so a fixed resource leaves it. The other resources
//!   still apply, and what a bad resource would have replaced stays in force.

use std::collections::{BTreeSet, HashSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use super::{CURSOR_PREFIX, REQUEST_TIMEOUT, Region, SearchUrl, SyncError, SyncReport};
use crate::domain::reading::ReadingKind;
use crate::domain::text::LocalizedText;
use crate::domain::triage::{ThresholdOrigin, ThresholdSet};
use crate::observe::Change;
use crate::store::StoreError;
use crate::store::outbox;
use crate::store::readings as repo;
use crate::sync::auth;
use crate::sync::fhir::{self, DownloadError, PatientId, Problem};

/// Sealed sync metadata: `<prefix><kind short name>` = the id of the Goal whose
/// thresholds apply to that kind.
const GOAL_SOURCE_PREFIX: &str = "download/goal-source/";
/// Sealed sync metadata: the JSON list of CarePlan ids whose schedules were applied.
const CARE_PLANS_KEY: &str = "download/care-plans";
/// Sealed sync metadata: the JSON list of [`UnusableDownload`]s.
pub(super) const UNUSABLE_KEY: &str = "download/unusable";
/// Ids per page of the id searches (the most a patient plausibly has, on one page).
const ID_PAGE: u32 = 100;

/// The care-plan resource types Nära downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CarePlanResource {
    /// A `Goal`: the care team's thresholds for one reading kind.
    Goal,
    /// A `CarePlan`: measurement schedules.
    CarePlan,
}

impl CarePlanResource {
    /// The FHIR resource type.
    pub fn resource_type(self) -> &'static str {
        match self {
            CarePlanResource::Goal => "Goal",
            CarePlanResource::CarePlan => "CarePlan",
        }
    }

    /// What it is, for the patient, in Swedish and English.
    pub fn label(self) -> LocalizedText {
        match self {
            CarePlanResource::Goal => {
                LocalizedText::new("Målvärden från vårdteamet", "Targets from the care team")
            }
            CarePlanResource::CarePlan => LocalizedText::new(
                "Mätschema från vårdteamet",
                "Measurement schedule from the care team",
            ),
        }
    }
}

/// Why a downloaded resource could not be used: a stable code (`unknown-code`, ...)
/// that the shell can show and the region can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnusableReason {
    /// A required element is absent.
    Missing,
    /// An element has the wrong type or an unreadable value.
    Invalid,
    /// A code (or code system) Nära does not know.
    UnknownCode,
    /// A quantity in another unit than the canonical UCUM unit.
    WrongUnit,
    /// Valid FHIR that Nära does not support.
    Unsupported,
    /// Limits that do not fit together (a low end above its high end, green outside
    /// yellow, a bad weight-gain rule, ...).
    BadRange,
    /// A schedule that cannot be used (unknown time zone, bad window, ...).
    BadSchedule,
    /// It is not about the logged-in patient (or names no patient).
    WrongSubject,
}

impl UnusableReason {
    /// The reason of a mapping error.
    pub fn of(e: &DownloadError) -> Self {
        if e.field == "subject" || e.field.starts_with("subject.") {
            return UnusableReason::WrongSubject;
        }
        match e.problem {
            Problem::Missing => UnusableReason::Missing,
            Problem::Invalid => UnusableReason::Invalid,
            Problem::UnknownCode => UnusableReason::UnknownCode,
            Problem::WrongUnit => UnusableReason::WrongUnit,
            Problem::Unsupported => UnusableReason::Unsupported,
            Problem::Thresholds(_) => UnusableReason::BadRange,
            Problem::Schedule(_) => UnusableReason::BadSchedule,
        }
    }

    /// The stable code, e.g. `unknown-code`.
    pub fn code(self) -> &'static str {
        match self {
            UnusableReason::Missing => "missing",
            UnusableReason::Invalid => "invalid",
            UnusableReason::UnknownCode => "unknown-code",
            UnusableReason::WrongUnit => "wrong-unit",
            UnusableReason::Unsupported => "unsupported",
            UnusableReason::BadRange => "bad-range",
            UnusableReason::BadSchedule => "bad-schedule",
            UnusableReason::WrongSubject => "wrong-subject",
        }
    }

    /// The reason for the patient, in Swedish and English.
    pub fn label(self) -> LocalizedText {
        let (sv, en) = match self {
            UnusableReason::Missing => ("en uppgift saknas", "something is missing"),
            UnusableReason::Invalid => ("en uppgift är ogiltig", "something is invalid"),
            UnusableReason::UnknownCode => ("okänd kod", "unknown code"),
            UnusableReason::WrongUnit => ("fel enhet", "wrong unit"),
            UnusableReason::Unsupported => ("stöds inte av appen", "not supported by the app"),
            UnusableReason::BadRange => ("gränserna går inte ihop", "the limits do not fit"),
            UnusableReason::BadSchedule => ("schemat går inte att använda", "unusable schedule"),
            UnusableReason::WrongSubject => ("gäller inte dig", "not about you"),
        };
        LocalizedText::new(sv, en)
    }
}

/// A downloaded Goal or CarePlan that Nära could not use. Patient-free: the resource
/// type, the reason code and the element path (`target[0].detailRange`), never a value,
/// a name or the resource's id (a region's ids may embed the patient's id). It is read
/// again on every sync until the care team fixes or deletes it; meanwhile what applied
/// before stays in force.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UnusableDownload {
    /// Which type of resource.
    pub resource: CarePlanResource,
    /// Why it cannot be used.
    pub reason: UnusableReason,
    /// The element path, e.g. `target[1].detailRange.low.code`.
    pub field: String,
}

impl UnusableDownload {
    /// The entry for a mapping error of a `resource`.
    pub fn new(resource: CarePlanResource, e: &DownloadError) -> Self {
        UnusableDownload {
            resource,
            reason: UnusableReason::of(e),
            field: e.field.clone(),
        }
    }

    /// A sentence for the patient, in Swedish and English.
    pub fn text(&self) -> LocalizedText {
        let (what, why) = (self.resource.label(), self.reason.label());
        LocalizedText::new(
            format!(
                "{} kunde inte användas ({}: {}). Det som gällde innan gäller tills \
                 vårdteamet har rättat det.",
                what.sv, why.sv, self.field
            ),
            format!(
                "{} could not be used ({}: {}). What applied before still applies until \
                 the care team corrects it.",
                what.en, why.en, self.field
            ),
        )
    }
}

/// Where a type's incremental cursor goes after a complete download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CursorMove {
    /// Nothing new: leave it.
    Keep,
    /// To this `lastUpdated` (searched with `ge`, so a resource stamped at it comes again).
    To(Timestamp),
    /// Forget it: the next search reads everything.
    Reset,
}

/// The cursor after a download in which resources stamped `used` were applied and
/// resources stamped `unusable` could not be: never past an unusable one, so the next
/// run reads it again (and, if one has no stamp, everything).
pub(crate) fn next_cursor(
    used: &[Option<Timestamp>],
    unusable: &[Option<Timestamp>],
) -> CursorMove {
    if unusable.iter().any(Option::is_none) {
        return CursorMove::Reset;
    }
    if let Some(oldest) = unusable.iter().flatten().min() {
        return CursorMove::To(*oldest);
    }
    match used.iter().flatten().max() {
        Some(newest) => CursorMove::To(*newest),
        None => CursorMove::Keep,
    }
}

/// The kinds whose care-team thresholds came from a Goal the server no longer has.
pub(crate) fn deleted_goal_kinds(
    sources: &[(ReadingKind, String)],
    on_server: &HashSet<String>,
) -> Vec<ReadingKind> {
    sources
        .iter()
        .filter(|(_, goal)| !on_server.contains(goal))
        .map(|(kind, _)| *kind)
        .collect()
}

/// The applied CarePlans the server no longer has.
pub(crate) fn deleted_care_plans(
    applied: &BTreeSet<String>,
    on_server: &HashSet<String>,
) -> Vec<String> {
    applied
        .iter()
        .filter(|id| !on_server.contains(*id))
        .cloned()
        .collect()
}

/// The search for the ids (only) of the patient's resources of type `resource`.
pub(crate) fn id_search(resource: &str, patient: &PatientId) -> String {
    format!(
        "{resource}?patient={}&_elements=id&_count={ID_PAGE}",
        patient.as_str()
    )
}

/// The `batch` Bundle that asks for the ids of the patient's Goals and CarePlans in one
/// request.
pub(crate) fn id_batch(patient: &PatientId) -> Value {
    let entry: Vec<Value> = [CarePlanResource::Goal, CarePlanResource::CarePlan]
        .iter()
        .map(
            |r| json!({"request": {"method": "GET", "url": id_search(r.resource_type(), patient)}}),
        )
        .collect();
    json!({"resourceType": "Bundle", "type": "batch", "entry": entry})
}

/// One id search's answer: the ids of its first page, the next page's link, the
/// server's `total` if it gave one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct IdPage {
    pub(crate) ids: HashSet<String>,
    pub(crate) next: Option<String>,
    pub(crate) total: Option<u64>,
}

impl IdPage {
    /// The ids of `resource_type` in a searchset Bundle (other entries, such as an
    /// OperationOutcome, are left out); `None` if it is not a searchset Bundle.
    pub(crate) fn of(bundle: &Value, resource_type: &str) -> Option<IdPage> {
        if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            return None;
        }
        let ids = fhir::search_resources(bundle, resource_type)
            .ok()?
            .into_iter()
            .filter_map(|r| r.get("id").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        Some(IdPage {
            ids,
            next: fhir::next_page(bundle).map(str::to_owned),
            total: bundle.get("total").and_then(Value::as_u64),
        })
    }

    /// True if these ids are all the server has: no page left and no larger `total`.
    pub(crate) fn complete(&self) -> bool {
        self.next.is_none() && self.total.is_none_or(|t| t <= self.ids.len() as u64)
    }
}

/// The id pages of the Goal and CarePlan searches in a `batch-response`, in that order;
/// `None` if the answer is not one, or an entry did not succeed.
pub(crate) fn id_pages(answer: &Value) -> Option<[IdPage; 2]> {
    if answer.get("resourceType").and_then(Value::as_str) != Some("Bundle")
        || answer.get("type").and_then(Value::as_str) != Some("batch-response")
    {
        return None;
    }
    let entries = answer.get("entry")?.as_array()?;
    if entries.len() != 2 {
        return None;
    }
    let page = |entry: &Value, resource: CarePlanResource| {
        let status = entry.pointer("/response/status")?.as_str()?;
        if !status.starts_with("200") {
            return None;
        }
        IdPage::of(entry.get("resource")?, resource.resource_type())
    };
    Some([
        page(&entries[0], CarePlanResource::Goal)?,
        page(&entries[1], CarePlanResource::CarePlan)?,
    ])
}

/// `meta.lastUpdated` of a downloaded resource, if readable.
fn last_updated(v: &Value) -> Option<Timestamp> {
    v.pointer("/meta/lastUpdated")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Timestamp>().ok())
}

fn goal_source_key(kind: ReadingKind) -> String {
    format!("{GOAL_SOURCE_PREFIX}{}", kind.short_name())
}

/// What the id searches found: the ids of the patient's Goals and CarePlans.
#[derive(Default)]
struct IdsOnServer {
    /// False when the server listed fewer ids than it says it has: then nothing is
    /// withdrawn.
    trusted: bool,
    goals: HashSet<String>,
    care_plans: HashSet<String>,
}

/// How a POST went.
enum Posted {
    /// A 2xx answer with a JSON body.
    Json(Value),
    /// The server answered, but not with something usable (not supported, refused).
    Refused,
    /// No answer (network, time budget).
    NoAnswer,
}

impl Region<'_> {
    /// Downloads and applies the care team's Goals and CarePlans, deletions first.
    /// Returns (threshold changes, schedule changes, whether every request came back).
    pub(super) async fn download_care_plan(
        &self,
        base: &Url,
        patient: &PatientId,
        search: &SearchUrl<'_>,
        deadline: tokio::time::Instant,
        report: &mut SyncReport,
    ) -> Result<(u32, u32, bool), SyncError> {
        let mut thresholds = 0;
        let mut schedules = 0;
        let mut complete = true;
        match self.ids_on_server(base, patient, deadline, report).await? {
            Some(ids) if !ids.trusted => {}
            Some(ids) => {
                let (t, s) = self.apply_deletions(&ids)?;
                thresholds += t;
                schedules += s;
            }
            None => complete = false,
        }
        // After the deletions: a withdrawn Goal resets the Goal cursor, so this search
        // reads every Goal again (another Goal of that kind may decide now).
        match self
            .search(search("Goal")?, "Goal", deadline, report)
            .await?
        {
            Some(goals) => thresholds += self.apply_goals(&goals, patient)?,
            None => complete = false,
        }
        match self
            .search(search("CarePlan")?, "CarePlan", deadline, report)
            .await?
        {
            Some(plans) => schedules += self.apply_care_plans(&plans, patient)?,
            None => complete = false,
        }
        Ok((thresholds, schedules, complete))
    }

    /// The ids of the patient's Goals and CarePlans on the server: one `batch` request,
    /// or two searches when the server does not take the batch. `None` if an answer did
    /// not come; not `trusted` if the server says it has more than it listed.
    async fn ids_on_server(
        &self,
        base: &Url,
        patient: &PatientId,
        deadline: tokio::time::Instant,
        report: &mut SyncReport,
    ) -> Result<Option<IdsOnServer>, SyncError> {
        let types = [CarePlanResource::Goal, CarePlanResource::CarePlan];
        let pages = match self
            .post_json(base, &id_batch(patient), deadline, report)
            .await?
        {
            Posted::NoAnswer => return Ok(None),
            Posted::Json(answer) => id_pages(&answer),
            Posted::Refused => None,
        };
        let pages = match pages {
            Some(pages) => pages,
            None => {
                // Not every server serves searches in a batch: ask one by one.
                let mut pages = [IdPage::default(), IdPage::default()];
                for (page, resource) in pages.iter_mut().zip(types) {
                    let url = auth::join(base, &id_search(resource.resource_type(), patient))?;
                    let Some(found) = self
                        .search(url, resource.resource_type(), deadline, report)
                        .await?
                    else {
                        return Ok(None);
                    };
                    page.ids = found
                        .iter()
                        .filter_map(|r| r.get("id").and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect();
                }
                pages
            }
        };
        let mut sets = Vec::new();
        for (mut page, resource) in pages.into_iter().zip(types) {
            if let Some(next) = page.next.take() {
                // More ids than one page: read the rest (same origin only, as `search`).
                let Ok(url) = Url::parse(&next) else {
                    return Ok(None);
                };
                if url.origin() != base.origin() {
                    return Ok(None);
                }
                let Some(rest) = self
                    .search(url, resource.resource_type(), deadline, report)
                    .await?
                else {
                    return Ok(None);
                };
                page.ids.extend(
                    rest.iter()
                        .filter_map(|r| r.get("id").and_then(Value::as_str))
                        .map(str::to_owned),
                );
            }
            if !page.complete() {
                // The server says it has more than it listed: trusting the list could
                // withdraw what is still there.
                tracing::warn!(
                    resource = resource.resource_type(),
                    "id list may be incomplete; no deletion applied"
                );
                return Ok(Some(IdsOnServer::default()));
            }
            sets.push(page.ids);
        }
        let care_plans = sets.pop().unwrap_or_default();
        let goals = sets.pop().unwrap_or_default();
        Ok(Some(IdsOnServer {
            trusted: true,
            goals,
            care_plans,
        }))
    }

    /// POSTs `body` to the FHIR base with the access token (one retry after a 401).
    async fn post_json(
        &self,
        base: &Url,
        body: &Value,
        deadline: tokio::time::Instant,
        report: &mut SyncReport,
    ) -> Result<Posted, SyncError> {
        let body = serde_json::to_vec(body).map_err(|_| StoreError::Decode)?;
        for attempt in 0..2 {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining < std::time::Duration::from_millis(200) {
                return Ok(Posted::NoAnswer);
            }
            let token = self.access_token().await?;
            let http = self.http(remaining.min(REQUEST_TIMEOUT))?;
            // A request, but not an upload: `bytes_sent` counts uploaded bodies only (as
            // for the GET searches, whose URLs are not counted either).
            report.requests += 1;
            let response = match http
                .post(base.clone())
                .bearer_auth(token)
                .header("Content-Type", "application/fhir+json")
                .header("Accept", "application/fhir+json")
                .body(body.clone())
                .send()
                .await
            {
                Ok(r) => r,
                Err(_) => return Ok(Posted::NoAnswer),
            };
            match response.status().as_u16() {
                401 if attempt == 0 => {
                    self.drop_access_token().await;
                    continue;
                }
                401 => return Err(SyncError::LoginRequired),
                408 | 429 | 500..=599 => return Ok(Posted::NoAnswer),
                200..=299 => {}
                _ => return Ok(Posted::Refused),
            }
            return Ok(match response.json::<Value>().await {
                Ok(v) => Posted::Json(v),
                Err(_) => Posted::Refused,
            });
        }
        Ok(Posted::NoAnswer)
    }

    /// The Goal id each kind's care-team thresholds came from.
    fn goal_sources(&self) -> Result<Vec<(ReadingKind, String)>, SyncError> {
        // One read for every kind, not a read per kind.
        Ok(self.nara.store.read(|c, k| {
            let mut out = Vec::new();
            for kind in ReadingKind::ALL {
                if let Some(id) = outbox::meta_get(c, k, &goal_source_key(kind))? {
                    out.push((kind, String::from_utf8_lossy(&id).into_owned()));
                }
            }
            Ok::<_, StoreError>(out)
        })?)
    }

    /// The CarePlans whose schedules were applied.
    fn applied_care_plans(&self) -> Result<BTreeSet<String>, SyncError> {
        let raw = self
            .nara
            .store
            .read(|c, k| outbox::meta_get(c, k, CARE_PLANS_KEY))?;
        Ok(raw
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default())
    }

    fn save_applied_care_plans(&self, ids: &BTreeSet<String>) -> Result<(), SyncError> {
        let raw = serde_json::to_vec(ids).map_err(|_| StoreError::Decode)?;
        self.nara
            .store
            .write(|tx, k| outbox::meta_put(tx, k, CARE_PLANS_KEY, &raw))?;
        Ok(())
    }

    /// The resources that could not be used, as last downloaded.
    pub(super) fn unusable(&self) -> Result<Vec<UnusableDownload>, SyncError> {
        let raw = self
            .nara
            .store
            .read(|c, k| outbox::meta_get(c, k, UNUSABLE_KEY))?;
        Ok(raw
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default())
    }

    /// Replaces the unusable entries of `resource` with `now` (publishes a sync change
    /// when the list changed).
    fn set_unusable(
        &self,
        resource: CarePlanResource,
        now: Vec<UnusableDownload>,
    ) -> Result<(), SyncError> {
        let before = self.unusable()?;
        let mut after: Vec<UnusableDownload> = before
            .iter()
            .filter(|u| u.resource != resource)
            .cloned()
            .collect();
        for u in now {
            if !after.contains(&u) {
                after.push(u);
            }
        }
        if after == before {
            return Ok(());
        }
        let raw = serde_json::to_vec(&after).map_err(|_| StoreError::Decode)?;
        self.nara
            .store
            .write(|tx, k| outbox::meta_put(tx, k, UNUSABLE_KEY, &raw))?;
        self.nara.observers.publish(Change::SyncChanged);
        Ok(())
    }

    fn move_cursor(&self, resource: CarePlanResource, to: CursorMove) -> Result<(), SyncError> {
        let key = format!("{CURSOR_PREFIX}{}", resource.resource_type());
        match to {
            CursorMove::Keep => {}
            CursorMove::To(t) => {
                let value = t.to_string();
                self.nara
                    .store
                    .write(|tx, k| outbox::meta_put(tx, k, &key, value.as_bytes()))?;
            }
            CursorMove::Reset => {
                self.nara
                    .store
                    .write(|tx, _| outbox::meta_delete(tx, &key))?;
            }
        }
        Ok(())
    }

    /// Stores the thresholds of Goal `goal_id` and remembers where they came from, in one
    /// transaction.
    fn apply_goal(
        &self,
        set: &ThresholdSet,
        goal_id: &str,
        changed: bool,
    ) -> Result<(), SyncError> {
        set.validate().map_err(crate::NaraError::from)?;
        let key = goal_source_key(set.kind);
        self.nara.store.write(|tx, k| {
            repo::put_thresholds(tx, k, set)?;
            outbox::meta_put(tx, k, &key, goal_id.as_bytes())
        })?;
        if changed {
            self.nara.observers.publish(Change::ThresholdsChanged {
                kind: set.kind,
                rule: set.rule,
            });
        }
        Ok(())
    }

    /// Withdraws the care team's thresholds for `kind` (the defaults apply again) and
    /// forgets their Goal. True if there were some.
    fn withdraw_goal(&self, kind: ReadingKind) -> Result<bool, SyncError> {
        let key = goal_source_key(kind);
        let removed = self.nara.store.write(|tx, k| {
            let removed = repo::delete_thresholds(tx, k, kind)?;
            outbox::meta_delete(tx, &key)?;
            Ok::<_, StoreError>(removed)
        })?;
        if removed {
            let rule = ThresholdSet::default_for(kind).rule;
            self.nara
                .observers
                .publish(Change::ThresholdsChanged { kind, rule });
        }
        Ok(removed)
    }

    /// Withdraws what Goals and CarePlans the server no longer has had set. Returns
    /// (threshold changes, schedule changes).
    fn apply_deletions(&self, ids: &IdsOnServer) -> Result<(u32, u32), SyncError> {
        let mut thresholds = 0;
        let mut schedules = 0;
        let gone = deleted_goal_kinds(&self.goal_sources()?, &ids.goals);
        for kind in &gone {
            if self.withdraw_goal(*kind)? {
                thresholds += 1;
            }
        }
        if !gone.is_empty() {
            // Another Goal of the same kind may be on the server: read them all again.
            self.move_cursor(CarePlanResource::Goal, CursorMove::Reset)?;
        }
        let mut applied = self.applied_care_plans()?;
        let deleted = deleted_care_plans(&applied, &ids.care_plans);
        if !deleted.is_empty() {
            let plan = self.nara.care_plan();
            let stored = plan.schedules()?;
            for id in &deleted {
                let prefix = format!("{id}/");
                for s in stored.iter().filter(|s| s.id.starts_with(&prefix)) {
                    plan.remove_schedule(&s.id)?;
                    schedules += 1;
                }
                applied.remove(id);
            }
            self.save_applied_care_plans(&applied)?;
        }
        Ok((thresholds, schedules))
    }

    /// Applies downloaded Goals; returns how many kinds' thresholds changed.
    fn apply_goals(&self, goals: &[Value], patient: &PatientId) -> Result<u32, SyncError> {
        let mut changes = 0;
        let mut downloaded = Vec::new();
        let (mut used, mut bad, mut unusable) = (Vec::new(), Vec::new(), Vec::new());
        for goal in goals {
            match fhir::thresholds_from_goal(goal, patient) {
                Ok(g) => {
                    used.push(g.last_updated);
                    downloaded.push(g);
                }
                Err(e) => {
                    tracing::warn!(field = %e.field, problem = %e.problem, "a Goal cannot be used");
                    bad.push(last_updated(goal));
                    unusable.push(UnusableDownload::new(CarePlanResource::Goal, &e));
                }
            }
        }
        let sources = self.goal_sources()?;
        for goal in fhir::goal::newest_per_kind(downloaded) {
            let current = self.nara.care_plan().thresholds(goal.kind)?;
            let source = sources
                .iter()
                .find(|(k, _)| *k == goal.kind)
                .map(|(_, id)| id.as_str());
            match goal.thresholds {
                Some(set) => {
                    let changed = set != current;
                    if changed || source != Some(goal.goal_id.as_str()) {
                        self.apply_goal(&set, &goal.goal_id, changed)?;
                    }
                    if changed {
                        changes += 1;
                    }
                }
                None => {
                    let care_team =
                        current.rule.origin == ThresholdOrigin::CareTeam || source.is_some();
                    if care_team && self.withdraw_goal(goal.kind)? {
                        changes += 1;
                    }
                }
            }
        }
        self.set_unusable(CarePlanResource::Goal, unusable)?;
        self.move_cursor(CarePlanResource::Goal, next_cursor(&used, &bad))?;
        Ok(changes)
    }

    /// Applies downloaded CarePlans; returns how many schedules changed.
    fn apply_care_plans(&self, plans: &[Value], patient: &PatientId) -> Result<u32, SyncError> {
        let mut changes = 0;
        let plan = self.nara.care_plan();
        let (mut used, mut bad, mut unusable) = (Vec::new(), Vec::new(), Vec::new());
        let mut found_plans = Vec::new();
        for care_plan in plans {
            match fhir::schedules_from_care_plan(care_plan, patient) {
                Ok(found) => {
                    used.push(found.last_updated);
                    found_plans.push(found);
                }
                Err(e) => {
                    tracing::warn!(field = %e.field, problem = %e.problem, "a CarePlan cannot be used");
                    bad.push(last_updated(care_plan));
                    unusable.push(UnusableDownload::new(CarePlanResource::CarePlan, &e));
                }
            }
        }
        // Remembered before its schedules are stored, so a kill in between cannot leave
        // schedules whose deletion would go unnoticed.
        let mut applied = self.applied_care_plans()?;
        let before = applied.len();
        applied.extend(found_plans.iter().map(|f| f.care_plan_id.clone()));
        if applied.len() != before {
            self.save_applied_care_plans(&applied)?;
        }
        for found in found_plans {
            let prefix = found.id_prefix();
            let stored = plan.schedules()?;
            for old in stored.iter().filter(|s| s.id.starts_with(&prefix)) {
                if !found.schedules.iter().any(|s| s.id == old.id) {
                    plan.remove_schedule(&old.id)?;
                    changes += 1;
                }
            }
            for schedule in found.schedules {
                if !stored.contains(&schedule) {
                    plan.set_schedule(schedule)?;
                    changes += 1;
                }
            }
        }
        self.set_unusable(CarePlanResource::CarePlan, unusable)?;
        self.move_cursor(CarePlanResource::CarePlan, next_cursor(&used, &bad))?;
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Option<Timestamp> {
        Some(s.parse().expect("timestamp"))
    }

    #[test]
    fn the_cursor_never_passes_a_resource_that_could_not_be_used() {
        let (t1, t2, t3) = (
            at("2026-12-01T10:00:00Z"),
            at("2026-12-01T11:00:00Z"),
            at("2026-12-01T12:00:00Z"),
        );
        // All used: the newest.
        assert_eq!(
            next_cursor(&[t1, t3, t2], &[]),
            CursorMove::To(t3.expect("t3"))
        );
        // A bad one between good ones: it, so `ge` reads it (and the newer) again.
        assert_eq!(
            next_cursor(&[t1, t3], &[t2]),
            CursorMove::To(t2.expect("t2"))
        );
        assert_eq!(
            next_cursor(&[t3], &[t2, t1]),
            CursorMove::To(t1.expect("t1"))
        );
        // A bad one without a stamp: read everything next time.
        assert_eq!(next_cursor(&[t3], &[None, t1]), CursorMove::Reset);
        // Nothing new.
        assert_eq!(next_cursor(&[], &[]), CursorMove::Keep);
        assert_eq!(next_cursor(&[None], &[]), CursorMove::Keep);
    }

    #[test]
    fn reasons_are_stable_codes_and_wrong_subject_is_told_apart() {
        use crate::domain::triage::ThresholdError;
        let err = |field: &str, problem| DownloadError {
            resource: "Goal",
            id: "anna-1-threshold-bp".into(),
            field: field.into(),
            problem,
        };
        let cases = [
            (err("subject.reference", Problem::Invalid), "wrong-subject"),
            (err("subject", Problem::Missing), "wrong-subject"),
            (
                err("description.coding", Problem::UnknownCode),
                "unknown-code",
            ),
            (
                err("target", Problem::Thresholds(ThresholdError::InvalidRange)),
                "bad-range",
            ),
            (
                err("target[0].detailRange.low.code", Problem::WrongUnit),
                "wrong-unit",
            ),
            (err("lifecycleStatus", Problem::Missing), "missing"),
            (err("meta.lastUpdated", Problem::Invalid), "invalid"),
            (
                err("target[0].detailQuantity", Problem::Unsupported),
                "unsupported",
            ),
        ];
        for (e, code) in cases {
            let u = UnusableDownload::new(CarePlanResource::Goal, &e);
            assert_eq!(u.reason.code(), code, "{e}");
            // The serialised form is the same code, and no id is kept.
            let json = serde_json::to_string(&u).expect("json");
            assert!(json.contains(&format!("\"{code}\"")), "{json}");
            assert!(!json.contains("anna-1"), "no resource id: {json}");
            let text = u.text();
            assert!(!text.sv.contains("anna-1") && !text.en.contains("anna-1"));
            assert!(text.sv.contains(&e.field) && text.en.contains(&e.field));
        }
    }

    #[test]
    fn only_what_a_deleted_resource_set_is_withdrawn() {
        let on_server: HashSet<String> = ["g-bp-2", "g-weight", "cp-2"]
            .into_iter()
            .map(String::from)
            .collect();
        let sources = vec![
            (ReadingKind::BloodPressure, "g-bp-1".to_owned()),
            (ReadingKind::BodyWeight, "g-weight".to_owned()),
        ];
        assert_eq!(
            deleted_goal_kinds(&sources, &on_server),
            vec![ReadingKind::BloodPressure]
        );
        let applied: BTreeSet<String> = ["cp-1", "cp-2"].into_iter().map(String::from).collect();
        assert_eq!(deleted_care_plans(&applied, &on_server), vec!["cp-1"]);
        assert!(deleted_care_plans(&BTreeSet::new(), &HashSet::new()).is_empty());
    }

    #[test]
    fn the_id_batch_is_two_searches_for_this_patient() {
        let patient = PatientId::new("anna-1").expect("id");
        let batch = id_batch(&patient);
        assert_eq!(batch["type"], "batch");
        let urls: Vec<&str> = batch["entry"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                assert_eq!(e["request"]["method"], "GET");
                e["request"]["url"].as_str().expect("url")
            })
            .collect();
        assert_eq!(
            urls,
            vec![
                "Goal?patient=anna-1&_elements=id&_count=100",
                "CarePlan?patient=anna-1&_elements=id&_count=100"
            ]
        );
    }

    fn searchset(ids: &[&str], resource: &str, total: Option<u64>, next: bool) -> Value {
        let mut b = json!({
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": ids.iter().map(|id| json!({"resource": {"resourceType": resource, "id": id}})).collect::<Vec<_>>(),
        });
        if let Some(t) = total {
            b["total"] = json!(t);
        }
        if next {
            b["link"] = json!([{"relation": "next", "url": "https://fhir.example/next"}]);
        }
        b
    }

    #[test]
    fn an_id_list_that_may_be_incomplete_is_not_trusted() {
        let answer = json!({
            "resourceType": "Bundle",
            "type": "batch-response",
            "entry": [
                {"response": {"status": "200 OK"}, "resource": searchset(&["g1", "g2"], "Goal", Some(2), false)},
                {"response": {"status": "200"}, "resource": searchset(&[], "CarePlan", Some(0), false)},
            ],
        });
        let [goals, plans] = id_pages(&answer).expect("pages");
        assert!(goals.complete() && plans.complete());
        assert_eq!(goals.ids.len(), 2);
        assert!(goals.ids.contains("g1") && goals.ids.contains("g2"));
        assert!(plans.ids.is_empty());
        // A next page, or a total above the ids: more on the server than listed.
        let paged = IdPage::of(&searchset(&["g1"], "Goal", None, true), "Goal").expect("page");
        assert!(!paged.complete());
        let short = IdPage::of(&searchset(&["g1"], "Goal", Some(3), false), "Goal").expect("page");
        assert!(!short.complete());
        // An entry that failed, a wrong count of entries, or no batch-response: nothing.
        let mut failed = answer.clone();
        failed["entry"][1]["response"]["status"] = json!("403 Forbidden");
        assert!(id_pages(&failed).is_none());
        let mut one = answer.clone();
        one["entry"].as_array_mut().expect("entries").pop();
        assert!(id_pages(&one).is_none());
        assert!(id_pages(&json!({"resourceType": "OperationOutcome"})).is_none());
    }
}
