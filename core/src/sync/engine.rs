//! The sync engine: uploads the outbox exactly once and downloads the care plan, within
//! a time budget.
//!
//! Exactly once, whatever the network does: every reading is sent as a conditional
//! create on its client id (`ifNoneExist: identifier=...`), so a repeat after a lost
//! response answers "already there" instead of storing a second copy; an outbox row is
//! deleted only after the server's answer says the Observation exists. A transaction
//! Bundle is all-or-nothing on the server, so a batch the server refuses as a whole is
//! split in halves until the one bad reading is found; it is kept, marked and reported,
//! and the others go on. Transient failures (network, 5xx, 429) back off with jitter
//! inside the budget; whatever is left stays queued for the next run.
//!
//! Store work here is short (one batch) and runs on the calling task; the bindings run
//! the whole sync on the core's runtime, never on a UI thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use oauth2::RefreshToken;
use serde::Serialize;
use thiserror::Error;
use url::Url;

use crate::Nara;
use crate::domain::text::LocalizedText;
use crate::observe::Change;
use crate::store::StoreError;
use crate::store::outbox::{self, Entity};
/// Builds the incremental search URL of a resource type.
type SearchUrl<'a> = dyn Fn(&str) -> Result<Url, SyncError> + Sync + 'a;
/// Stores the newest `lastUpdated` seen for a resource type.
mod care_plan;
mod content;
mod notices;
mod owner;

pub use care_plan::{CarePlanResource, UnusableDownload, UnusableReason};

type SaveCursor<'a> = dyn Fn(&str, Option<Timestamp>) -> Result<(), SyncError> + Sync + 'a;

/// An outbox row: what it stands for and its local row number.
type Key = (Entity, i64);
use crate::sync::auth::{self, AccessToken, AuthBrowser, AuthError, PendingLogin, Session};
use crate::sync::fhir;
use crate::sync::transport::{self, TransportConfig};

const SESSION_KEY: &str = "login/session";
const REFRESH_KEY: &str = "login/refresh_token";
const LAST_SUCCESS_KEY: &str = "sync/last_success";
const CURSOR_PREFIX: &str = "cursor/";
const LAST_ERROR_KEY: &str = "sync/last_error";

/// Readings per transaction Bundle: small enough that a slow link finishes one within
/// its timeout, large enough that the per-request cost is shared.
pub const BATCH_SIZE: usize = 100;
/// Per-request timeout (the budget may shorten it).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a sync or login failed. Messages never name a patient or a value.
#[derive(Debug, Error)]
pub enum SyncError {
    /// Not logged in to a region.
    #[error("not logged in")]
    NotLoggedIn,
    /// The login has expired or was revoked: log in again. Nothing local was lost.
    #[error("login needed")]
    LoginRequired,
    /// The login failed.
    #[error(transparent)]
    Auth(AuthError),
    /// Local changes are still waiting for upload; logging out would lose them.
    #[error("{0} changes have not reached the care team yet")]
    UnsyncedChanges(u64),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A local operation failed.
    #[error(transparent)]
    Local(#[from] crate::NaraError),
    /// Something downloaded could not be used (wrong patient, type, size or checksum);
    /// names the element, never content.
    #[error("a downloaded resource could not be used: {0}")]
    Unusable(String),
    /// A sync is already running in this process.
    #[error("a sync is already running")]
    Busy,
    /// What the shell passed as a push id is not an opaque id (too long, or with
    /// characters an opaque id does not have): pass only the id field of the push.
    #[error("not an opaque push id")]
    BadPush,
    /// The login names another patient, or another region, than the one this store
    /// belongs to (the first login on it): it was refused before anything was stored,
    /// sent or fetched, and its tokens were revoked (best effort). The store's own
    /// patient may log in again; anyone else needs the store logged out (which wipes
    /// it) first. Names neither patient nor region.
    #[error("this store holds another patient's data; the login was refused")]
    AnotherPatient,
}

impl From<AuthError> for SyncError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::LoginRequired => SyncError::LoginRequired,
            other => SyncError::Auth(other),
        }
    }
}

/// Why [`Nara::logout`] did not log out.
#[derive(Debug, Error)]
pub enum LogoutError {
    /// Readings still wait for upload: nothing was revoked or wiped, and the open store
    /// is handed back. Sync first, or log out with `force` (they are lost).
    #[error("{pending} changes have not reached the care team yet")]
    Unsynced {
        /// How many changes wait.
        pending: u64,
        /// The store, still open.
        nara: Box<Nara>,
    },
    /// Revoking or wiping failed.
    #[error(transparent)]
    Failed(SyncError),
}

impl From<LogoutError> for SyncError {
    fn from(e: LogoutError) -> Self {
        match e {
            LogoutError::Unsynced { pending, .. } => SyncError::UnsyncedChanges(pending),
            LogoutError::Failed(e) => e,
        }
    }
}

/// A change the region refused, kept locally (see `SyncStatus::failed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedUpload {
    /// What kind of change it was.
    pub kind: UploadKind,
    /// The local id to find it by: the reading's id (for a refused withdrawal, the
    /// correction's id), the message's client id, the photo's id, or for a read receipt
    /// the id of the unit's message it acknowledges.
    pub id: String,
    /// A code for the reason (`http_422`, `mapping`), never content.
    pub error: String,
}

/// The kinds of change that are uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadKind {
    /// A reading (an `Observation`).
    Reading,
    /// The withdrawal of a reading that a correction replaced (`entered-in-error`).
    Withdrawal,
    /// A message to the care unit (a `Communication`).
    Message,
    /// A photo of a message (a `Binary`).
    Photo,
    /// A read receipt for a message from the care unit.
    ReadReceipt,
    /// The receipt that the patient opened an appointment notice.
    NoticeOpened,
    /// An answer to a notice: confirm, cancel, or a reschedule request.
    NoticeAnswer,
    /// A submitted form (health declaration, self-assessment).
    FormResponse,
}

impl UploadKind {
    /// The kind's name for the patient, in Swedish and English.
    pub fn label(self) -> LocalizedText {
        match self {
            UploadKind::Reading => LocalizedText::new("Mätning", "Reading"),
            UploadKind::Withdrawal => LocalizedText::new("Återkallad mätning", "Withdrawn reading"),
            UploadKind::Message => LocalizedText::new("Meddelande", "Message"),
            UploadKind::Photo => LocalizedText::new("Foto", "Photo"),
            UploadKind::ReadReceipt => LocalizedText::new("Läskvitto", "Read receipt"),
            UploadKind::NoticeOpened => {
                LocalizedText::new("Kvitto på öppnad kallelse", "Notice opened receipt")
            }
            UploadKind::NoticeAnswer => LocalizedText::new("Svar på kallelse", "Notice answer"),
            UploadKind::FormResponse => LocalizedText::new("Formulär", "Form"),
        }
    }
}

impl From<Entity> for UploadKind {
    fn from(e: Entity) -> Self {
        match e {
            Entity::Reading => UploadKind::Reading,
            Entity::Retraction => UploadKind::Withdrawal,
            Entity::Message => UploadKind::Message,
            Entity::Photo => UploadKind::Photo,
            Entity::Receipt => UploadKind::ReadReceipt,
            Entity::NoticeOpened => UploadKind::NoticeOpened,
            Entity::NoticeAnswer => UploadKind::NoticeAnswer,
            Entity::FormResponse => UploadKind::FormResponse,
        }
    }
}

/// The sync state, for a status line or screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    /// Logged in to a region.
    pub logged_in: bool,
    /// The region's FHIR base URL, when logged in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The patient's FHIR id at the region, when logged in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    /// The login expired: the patient must log in again (nothing is lost).
    pub login_required: bool,
    /// Changes waiting for upload: readings, withdrawals, messages, photos, read receipts.
    pub pending: u64,
    /// Changes in the request now in flight.
    pub in_flight: u64,
    /// Changes the region refused, with reasons (kept locally, never dropped).
    pub failed: Vec<FailedUpload>,
    /// Downloaded Goals and CarePlans that could not be used (type, reason, element;
    /// no values, no ids). Each is read again on every sync until the care team fixes
    /// it; meanwhile what applied before stays in force. Empty when all were usable.
    pub unusable: Vec<UnusableDownload>,
    /// The end of the last sync that finished without error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success: Option<Timestamp>,
    /// The last error, if the last sync did not finish (no patient data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Progress of a running sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SyncProgress {
    /// Changes (readings, messages, photos, receipts) the server confirmed in this run.
    pub uploaded: u64,
    /// Changes that were waiting when the run started.
    pub total: u64,
}

/// What one `sync_now` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SyncReport {
    /// Changes (readings, messages, photos, receipts) the server stored in this run.
    pub created: u64,
    /// Changes the server already had (a repeat after a lost answer).
    pub already_there: u64,
    /// Replaced readings withdrawn on the server (`entered-in-error`).
    pub withdrawn: u64,
    /// Changes the server refused (kept locally, see [`SyncStatus::failed`]).
    pub rejected: u64,
    /// Changes still waiting (the budget ran out or the network failed).
    pub remaining: u64,
    /// Care-team threshold sets applied.
    pub thresholds_applied: u32,
    /// Measurement schedules applied.
    pub schedules_applied: u32,
    /// New messages from the care unit stored in this run.
    pub messages_received: u64,
    /// Appointment notices that arrived or changed in this run.
    pub notices_received: u64,
    /// Self-care article versions stored in this run (new or changed).
    pub articles_received: u64,
    /// True when everything was sent and the download finished.
    pub finished: bool,
    /// Requests sent.
    pub requests: u64,
    /// Request bytes sent.
    pub bytes_sent: u64,
}

/// Per-process sync state owned by [`Nara`]: the access token in memory, the one
/// refresh in flight, the one sync at a time, the pending login.
#[derive(Default)]
pub(crate) struct RegionState {
    access: tokio::sync::Mutex<Option<AccessToken>>,
    syncing: tokio::sync::Mutex<()>,
    transport: std::sync::RwLock<TransportConfig>,
    batch_size: std::sync::atomic::AtomicUsize,
    status: std::sync::Mutex<SyncStatus>,
    refreshes: AtomicU64,
}

impl std::fmt::Debug for RegionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegionState").finish_non_exhaustive()
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sync with the region: login, upload, download, status, logout.
pub struct Region<'a> {
    pub(crate) nara: &'a Nara,
}

/// How a batch fared.
enum BatchOutcome {
    /// Every entry has an answer: done or rejected.
    Settled,
    /// A transient failure: try again later.
    Transient(String),
    /// The token was refused.
    Unauthorized,
}

impl Region<'_> {
    fn state(&self) -> &RegionState {
        &self.nara.region
    }

    /// Sets how the core may connect (the development switch for http on loopback,
    /// SPKI pins, extra roots). Not stored: the app sets it at start-up.
    pub fn set_transport(&self, config: TransportConfig) {
        match self.state().transport.write() {
            Ok(mut t) => *t = config,
            Err(p) => *p.into_inner() = config,
        }
    }

    /// Sets the number of readings per transaction Bundle (default [`BATCH_SIZE`];
    /// clamped to 1..=1000). Smaller batches cost more requests but lose less work to a
    /// cut connection.
    pub fn set_batch_size(&self, readings: usize) {
        self.state()
            .batch_size
            .store(readings.clamp(1, 1000), Ordering::Relaxed);
    }

    fn batch_size(&self) -> usize {
        match self.state().batch_size.load(Ordering::Relaxed) {
            0 => BATCH_SIZE,
            n => n,
        }
    }

    fn transport(&self) -> TransportConfig {
        match self.state().transport.read() {
            Ok(t) => t.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn http(&self, timeout: Duration) -> Result<reqwest::Client, SyncError> {
        transport::client(&self.transport(), timeout)
            .map_err(|e| SyncError::Auth(AuthError::Transport(e)))
    }

    fn session(&self) -> Result<Option<Session>, SyncError> {
        let raw = self
            .nara
            .store
            .read(|c, k| outbox::meta_get(c, k, SESSION_KEY))?;
        match raw {
            Some(bytes) => Ok(Some(
                serde_json::from_slice(&bytes).map_err(|_| StoreError::Decode)?,
            )),
            None => Ok(None),
        }
    }

    fn refresh_token(&self) -> Result<Option<RefreshToken>, SyncError> {
        let raw = self
            .nara
            .store
            .read(|c, k| outbox::meta_get(c, k, REFRESH_KEY))?;
        Ok(raw.map(|b| RefreshToken::new(String::from_utf8_lossy(&b).into_owned())))
    }

    /// Logs in to the region at `fhir_base` (SMART standalone patient launch): discovery,
    /// PKCE S256, the browser, `state` check, code exchange. Stores the session and the
    /// refresh token sealed; returns the patient's FHIR id.
    ///
    /// One patient per store: the store belongs to the region and patient of its first
    /// login, and everything on it is sent with that patient as subject — including the
    /// readings, messages and answers captured before that first login, which belong to
    /// whoever logs in first. A later login whose token names another patient, or a login
    /// to another region, fails with [`SyncError::AnotherPatient`] before anything is
    /// stored, sent or fetched. The same patient may log in again at any time (after
    /// [`SyncError::LoginRequired`]); another patient needs the store logged out (wiped)
    /// first.
    pub async fn login(
        &self,
        fhir_base: &Url,
        client_id: &str,
        redirect_uri: &Url,
        browser: &dyn AuthBrowser,
    ) -> Result<String, SyncError> {
        let pending = self.begin_login(fhir_base, client_id, redirect_uri).await?;
        let redirect = browser
            .authorize(&pending.authorize_url, redirect_uri)
            .await
            .map_err(AuthError::from)?;
        self.finish_login(pending, &redirect).await
    }

    /// First half of [`Region::login`], for shells that drive the browser themselves.
    pub async fn begin_login(
        &self,
        fhir_base: &Url,
        client_id: &str,
        redirect_uri: &Url,
    ) -> Result<PendingLogin, SyncError> {
        let http = self.http(REQUEST_TIMEOUT)?;
        let config = auth::discover(&http, fhir_base, &self.transport()).await?;
        Ok(auth::prepare_login(
            config,
            fhir_base,
            client_id,
            redirect_uri,
        )?)
    }

    /// Second half of [`Region::login`]: checks the redirect and exchanges the code, then
    /// keeps the login only if its patient and region are this store's (or the store has
    /// never been logged in; readings captured before that belong to whoever logs in
    /// first). Otherwise fails with [`SyncError::AnotherPatient`]: no session, refresh
    /// token or access token of that login is kept, and its refresh token is revoked
    /// (best effort).
    pub async fn finish_login(
        &self,
        pending: PendingLogin,
        redirect: &Url,
    ) -> Result<String, SyncError> {
        let code = auth::code_from_redirect(&pending, redirect)?;
        let http = self.http(REQUEST_TIMEOUT)?;
        let logged_in = auth::exchange(&http, pending, code, self.nara.now()).await?;
        self.keep_login(logged_in).await
    }

    /// A valid access token: the cached one, or one refresh for any number of callers
    /// (they wait on the same lock and find the fresh token).
    pub async fn access_token(&self) -> Result<String, SyncError> {
        let mut cached = self.state().access.lock().await;
        let now = self.nara.now();
        if let Some(t) = cached.as_ref().filter(|t| t.use_until > now) {
            return Ok(t.secret.clone());
        }
        let session = self.session()?.ok_or(SyncError::NotLoggedIn)?;
        let refresh = self.refresh_token()?.ok_or(SyncError::LoginRequired)?;
        let http = self.http(REQUEST_TIMEOUT)?;
        self.state().refreshes.fetch_add(1, Ordering::SeqCst);
        match auth::refresh(&http, &session, &refresh, now).await {
            Ok((access, rotated)) => {
                if let Some(new) = rotated {
                    self.nara.store.write(|tx, k| {
                        outbox::meta_put(tx, k, REFRESH_KEY, new.secret().as_bytes())
                    })?;
                }
                let secret = access.secret.clone();
                *cached = Some(access);
                Ok(secret)
            }
            Err(AuthError::LoginRequired) => {
                // The refresh token is dead: forget it, keep every reading.
                *cached = None;
                self.nara
                    .store
                    .write(|tx, _| outbox::meta_clear(tx, REFRESH_KEY))?;
                lock(&self.state().status).login_required = true;
                self.publish();
                Err(SyncError::LoginRequired)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// How many token refreshes this process has made (for tests and diagnostics).
    pub fn refresh_count(&self) -> u64 {
        self.state().refreshes.load(Ordering::SeqCst)
    }

    /// Forgets the in-memory access token (the next call refreshes).
    pub async fn drop_access_token(&self) {
        *self.state().access.lock().await = None;
    }

    /// The current sync state.
    pub fn status(&self) -> Result<SyncStatus, SyncError> {
        let session = self.session()?;
        let logged_in = session.is_some();
        let has_refresh = self.refresh_token()?.is_some();
        let (pending, failed) = self.nara.store.read(|c, _| {
            Ok((
                crate::store::readings::pending_uploads(c)?,
                outbox::failed(c)?,
            ))
        })?;
        let last_success = self
            .nara
            .store
            .read(|c, k| outbox::meta_get(c, k, LAST_SUCCESS_KEY))?
            .and_then(|b| String::from_utf8_lossy(&b).parse().ok());
        let live = lock(&self.state().status).clone();
        let last_error = match live.last_error {
            Some(e) => Some(e),
            None => self
                .nara
                .store
                .read(|c, k| outbox::meta_get(c, k, LAST_ERROR_KEY))?
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
        };
        Ok(SyncStatus {
            logged_in,
            region: session.as_ref().map(|s| s.fhir_base.clone()),
            patient: session.map(|s| s.patient),
            login_required: logged_in && (!has_refresh || live.login_required),
            pending,
            in_flight: live.in_flight,
            failed: failed
                .into_iter()
                .map(|row| FailedUpload {
                    kind: row.entity.into(),
                    id: row.id,
                    error: row.error,
                })
                .collect(),
            unusable: self.unusable()?,
            last_success,
            last_error,
        })
    }

    fn publish(&self) {
        self.nara.observers.publish(Change::SyncChanged);
    }

    /// Keeps the last error (no patient data in it) for this and later processes.
    fn remember_error(&self, text: String) -> Result<(), SyncError> {
        self.nara
            .store
            .write(|tx, k| outbox::meta_put(tx, k, LAST_ERROR_KEY, text.as_bytes()))?;
        self.set_live(|s| {
            s.last_error = Some(text);
            s.in_flight = 0;
        });
        Ok(())
    }

    fn set_live(&self, f: impl FnOnce(&mut SyncStatus)) {
        f(&mut lock(&self.state().status));
        self.publish();
    }

    /// Uploads every waiting reading and downloads the care plan, stopping (with
    /// everything consistent) when `budget` runs out. Safe to run again at any time,
    /// including after a kill: nothing is lost and nothing is sent twice.
    pub async fn sync_now(
        &self,
        budget: Duration,
        mut progress: impl FnMut(SyncProgress),
    ) -> Result<SyncReport, SyncError> {
        let _one = self
            .state()
            .syncing
            .try_lock()
            .map_err(|_| SyncError::Busy)?;
        let deadline = tokio::time::Instant::now() + budget;
        self.sync_locked(deadline, &mut progress).await
    }

    /// What a push notification from the region asks for: a sync. The push carries only
    /// `push_id`, an opaque id that says nothing about the patient or the content
    /// (ADR 0009 §8); the content comes from the region over the authenticated FHIR API.
    ///
    /// Unlike [`Region::sync_now`], a sync already running is not an error here: it may
    /// have downloaded before the news arrived, so this waits for it (within `budget`)
    /// and then syncs again. The id is checked for shape (1–128 characters of
    /// `A–Z a–z 0–9 - _ . :`) so that a shell passing the whole notification by mistake
    /// is told so; it is never stored or logged.
    pub async fn sync_for_push(
        &self,
        push_id: &str,
        budget: Duration,
        mut progress: impl FnMut(SyncProgress),
    ) -> Result<SyncReport, SyncError> {
        if !is_opaque_push_id(push_id) {
            return Err(SyncError::BadPush);
        }
        tracing::info!("push received; syncing");
        let deadline = tokio::time::Instant::now() + budget;
        let _one = tokio::time::timeout_at(deadline, self.state().syncing.lock())
            .await
            .map_err(|_| SyncError::Busy)?;
        self.sync_locked(deadline, &mut progress).await
    }

    async fn sync_locked(
        &self,
        deadline: tokio::time::Instant,
        progress: &mut impl FnMut(SyncProgress),
    ) -> Result<SyncReport, SyncError> {
        let session = self.session()?.ok_or(SyncError::NotLoggedIn)?;
        let result = self.run(&session, deadline, progress).await;
        match &result {
            Ok(report) if report.finished => {
                let now = self.nara.now().to_string();
                self.nara.store.write(|tx, k| {
                    outbox::meta_put(tx, k, LAST_SUCCESS_KEY, now.as_bytes())?;
                    outbox::meta_clear(tx, LAST_ERROR_KEY)
                })?;
                self.set_live(|s| {
                    s.last_error = None;
                    s.in_flight = 0;
                });
            }
            Ok(_) => self.remember_error(
                "unfinished: the time budget ran out or the network failed".into(),
            )?,
            Err(e) => self.remember_error(e.to_string())?,
        }
        result
    }

    async fn run(
        &self,
        session: &Session,
        deadline: tokio::time::Instant,
        progress: &mut impl FnMut(SyncProgress),
    ) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let total = self.nara.pending_uploads()?;
        let mut done = SyncProgress { uploaded: 0, total };
        progress(done);
        let base = Url::parse(&session.fhir_base).map_err(|_| {
            SyncError::Auth(AuthError::Transport(transport::TransportError::InvalidUrl))
        })?;
        let mut failures = 0u32;
        let patient = fhir::PatientId::new(session.patient.clone())
            .map_err(|_| SyncError::Auth(AuthError::NoPatient))?;
        // Answers to notices go only after their appointment was read again (ADR 0010 §6).
        let checked = self
            .check_notice_answers(&base, &patient, deadline, &mut report)
            .await?;
        loop {
            let batch = self.next_batch(&patient, &checked, &mut report)?;
            if batch.is_empty() {
                break;
            }
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining < Duration::from_millis(200) {
                report.remaining = self.nara.pending_uploads()?;
                return Ok(report);
            }
            let keys: Vec<Key> = batch.iter().map(|(k, _)| *k).collect();
            match self
                .send_batch(&base, batch, remaining, &mut report)
                .await?
            {
                BatchOutcome::Settled => {
                    failures = 0;
                    done.uploaded = report.created + report.already_there + report.withdrawn;
                    progress(done);
                }
                BatchOutcome::Unauthorized => {
                    self.drop_access_token().await;
                    failures += 1;
                    if failures > 2 {
                        return Err(SyncError::LoginRequired);
                    }
                }
                BatchOutcome::Transient(reason) => {
                    failures += 1;
                    self.nara.store.write(|tx, _| {
                        for (entity, seq) in &keys {
                            outbox::retry_later(tx, *entity, &[*seq], 0)?;
                        }
                        Ok::<_, StoreError>(())
                    })?;
                    let wait = backoff(failures, self.nara.store.random16()?);
                    if tokio::time::Instant::now() + wait >= deadline {
                        report.remaining = self.nara.pending_uploads()?;
                        tracing::info!(reason = %reason, "sync paused");
                        return Ok(report);
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
        let (thresholds, schedules, downloaded) =
            self.download(&base, session, deadline, &mut report).await?;
        report.thresholds_applied = thresholds;
        report.schedules_applied = schedules;
        report.remaining = self.nara.pending_uploads()?;
        // Finished means both directions: nothing left to send, and the care plan read.
        report.finished = report.remaining == 0 && downloaded;
        Ok(report)
    }

    /// The next Bundle's entries: readings first, then withdrawals of replaced readings
    /// whose creates are done. A change that cannot be mapped is kept, marked, skipped.
    fn next_batch(
        &self,
        patient: &fhir::PatientId,
        checked: &std::collections::HashSet<i64>,
        report: &mut SyncReport,
    ) -> Result<Vec<(Key, fhir::BundleEntry)>, SyncError> {
        let now_secs = self.nara.now().as_second();
        let size = self.batch_size();
        let mut entries = Vec::new();
        let mut unmappable = Vec::new();
        let readings = self
            .nara
            .store
            .read(|c, k| outbox::due(c, k, now_secs, size))?;
        for item in readings {
            match fhir::reading_entry(&item.reading, patient) {
                Ok(entry) => entries.push(((Entity::Reading, item.seq), entry)),
                Err(_) => unmappable.push((Entity::Reading, item.seq)),
            }
        }
        if entries.is_empty() && unmappable.is_empty() {
            let retractions = self
                .nara
                .store
                .read(|c, k| outbox::due_retractions(c, k, size))?;
            for item in retractions {
                match fhir::retraction_entry(&item.old, item.replaced_by, patient) {
                    Ok(entry) => entries.push(((Entity::Retraction, item.seq), entry)),
                    Err(_) => unmappable.push((Entity::Retraction, item.seq)),
                }
            }
        }
        if entries.is_empty() && unmappable.is_empty() {
            self.chat_batch(patient, size, &mut entries, &mut unmappable)?;
        }
        if entries.is_empty() && unmappable.is_empty() {
            self.notice_batch(patient, size, checked, &mut entries, &mut unmappable)?;
        }
        if !unmappable.is_empty() {
            report.rejected += unmappable.len() as u64;
            self.nara.store.write(|tx, _| {
                for (entity, seq) in &unmappable {
                    outbox::fail(tx, *entity, *seq, "mapping")?;
                }
                Ok::<_, StoreError>(())
            })?;
            if entries.is_empty() {
                // Look again: the failed rows no longer count as due.
                return self.next_batch(patient, checked, report);
            }
        }
        Ok(entries)
    }

    /// Chat uploads: one photo per request (photos are large), or else the due messages
    /// (their photos are all on the server) and read receipts together.
    fn chat_batch(
        &self,
        patient: &fhir::PatientId,
        size: usize,
        entries: &mut Vec<(Key, fhir::BundleEntry)>,
        unmappable: &mut Vec<Key>,
    ) -> Result<(), SyncError> {
        use crate::store::chat::ChatUpload;
        let chat = self.nara.chat();
        let due = chat.due_uploads(size)?;
        if let Some(ChatUpload::Photo { seq, photo, .. }) =
            due.iter().find(|u| matches!(u, ChatUpload::Photo { .. }))
        {
            let key = (Entity::Photo, *seq);
            match chat.photo_bytes(&photo.id)? {
                Some(bytes) => match fhir::communication::binary_entry(
                    &photo.id,
                    &photo.content_type,
                    &bytes,
                    patient,
                ) {
                    Ok(entry) => entries.push((key, entry)),
                    Err(_) => unmappable.push(key),
                },
                None => unmappable.push(key),
            }
            return Ok(());
        }
        for upload in due {
            let (key, message) = match upload {
                ChatUpload::Message { seq, message, .. } => ((Entity::Message, seq), message),
                ChatUpload::Receipt { seq, message, .. } => ((Entity::Receipt, seq), message),
                ChatUpload::Photo { .. } => continue,
            };
            let Some(thread) = chat.thread(&message.thread_id)? else {
                unmappable.push(key);
                continue;
            };
            let thread = fhir::communication::ThreadRef::of(&thread);
            let entry = match key.0 {
                Entity::Message => fhir::communication::message_entry(&message, patient, &thread),
                _ => match message.read_at {
                    Some(read_at) => {
                        fhir::communication::receipt_entry(&message.id, &thread, read_at, patient)
                    }
                    None => Err(fhir::FhirError::Empty),
                },
            };
            match entry {
                Ok(entry) => entries.push((key, entry)),
                Err(_) => unmappable.push(key),
            }
        }
        Ok(())
    }

    /// After the server confirmed a message: it is "sent" now.
    /// Settles the confirmed changes in `tx`: each leaves the outbox, and a patient
    /// message becomes `sent` in the same transaction, so a kill cannot leave a message
    /// on the server that still says "waiting". Returns the threads whose messages
    /// changed, to publish after the commit.
    fn settle_confirmed(
        tx: &rusqlite::Transaction<'_>,
        cipher: &crate::store::crypto::Cipher,
        keys: &[Key],
    ) -> Result<Vec<String>, StoreError> {
        let mut changed = Vec::new();
        for (entity, seq) in keys {
            outbox::done(tx, *entity, &[*seq])?;
            if *entity == Entity::NoticeAnswer {
                crate::store::notices::set_answer_delivery(
                    tx,
                    cipher,
                    *seq,
                    crate::domain::notice::AnswerDelivery::Sent,
                )?;
                continue;
            }
            if *entity != Entity::Message {
                continue;
            }
            let Some(id) = crate::store::chat::message_id_of_row(tx, *seq)? else {
                continue;
            };
            if let Some((thread, true)) = crate::store::chat::set_delivery(
                tx,
                cipher,
                &id,
                crate::domain::chat::DeliveryState::Sent,
            )? {
                if !changed.contains(&thread) {
                    changed.push(thread);
                }
            }
        }
        Ok(changed)
    }

    async fn send_batch(
        &self,
        base: &Url,
        sendable: Vec<(Key, fhir::BundleEntry)>,
        remaining: Duration,
        report: &mut SyncReport,
    ) -> Result<BatchOutcome, SyncError> {
        // Bisect on whole-bundle refusals: a transaction is all or nothing.
        let mut stack = vec![sendable];
        while let Some(part) = stack.pop() {
            if part.is_empty() {
                continue;
            }
            let token = self.access_token().await?;
            let bundle = fhir::Bundle::transaction(part.iter().map(|(_, e)| e.clone()).collect());
            let body = bundle.to_json().map_err(|_| StoreError::Decode)?;
            report.requests += 1;
            report.bytes_sent += body.len() as u64;
            self.set_live(|s| s.in_flight = part.len() as u64);
            let http = self.http(remaining.min(REQUEST_TIMEOUT))?;
            let sent = http
                .post(base.clone())
                .bearer_auth(token)
                .header("Content-Type", "application/fhir+json")
                .header("Accept", "application/fhir+json")
                .body(body)
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) => return Ok(BatchOutcome::Transient(auth::without_url(&e))),
            };
            let status = response.status().as_u16();
            if status == 401 {
                return Ok(BatchOutcome::Unauthorized);
            }
            let bytes = match response.bytes().await {
                Ok(b) => b,
                Err(e) => return Ok(BatchOutcome::Transient(auth::without_url(&e))),
            };
            let outcomes = match fhir::parse_response(status, &bytes, &bundle) {
                Ok(fhir::BundleResponse::Entries(outcomes)) => outcomes,
                Ok(fhir::BundleResponse::Failed(f)) if f.retry => {
                    return Ok(BatchOutcome::Transient(f.detail()));
                }
                Ok(fhir::BundleResponse::Failed(f)) => {
                    if part.len() > 1 {
                        let mut first = part;
                        let second = first.split_off(first.len() / 2);
                        stack.push(second);
                        stack.push(first);
                    } else {
                        let code = format!("http_{}", f.status);
                        let (entity, seq) = part[0].0;
                        self.nara
                            .store
                            .write(|tx, _| outbox::fail(tx, entity, seq, &code))?;
                        report.rejected += 1;
                    }
                    continue;
                }
                Err(_) => {
                    return Ok(BatchOutcome::Transient(
                        "unreadable transaction response".into(),
                    ));
                }
            };
            let mut confirmed = Vec::new();
            let mut retry = Vec::new();
            let mut rejected = Vec::new();
            for ((key, _), outcome) in part.iter().zip(outcomes) {
                match outcome {
                    o if o.is_done() && key.0 == Entity::Retraction => {
                        report.withdrawn += 1;
                        confirmed.push(*key);
                    }
                    fhir::EntryOutcome::Created { .. } => {
                        report.created += 1;
                        confirmed.push(*key);
                    }
                    fhir::EntryOutcome::AlreadyThere { .. }
                    | fhir::EntryOutcome::Updated { .. } => {
                        report.already_there += 1;
                        confirmed.push(*key);
                    }
                    fhir::EntryOutcome::Conflict { status, .. }
                    | fhir::EntryOutcome::Rejected { status, .. } => {
                        report.rejected += 1;
                        rejected.push((*key, format!("http_{status}")));
                    }
                    fhir::EntryOutcome::Retry { .. } => retry.push(*key),
                }
            }
            let threads = self.nara.store.write(|tx, cipher| {
                let threads = Self::settle_confirmed(tx, cipher, &confirmed)?;
                for ((entity, seq), code) in &rejected {
                    outbox::fail(tx, *entity, *seq, code)?;
                }
                for (entity, seq) in &retry {
                    outbox::retry_later(tx, *entity, &[*seq], 0)?;
                }
                Ok::<_, StoreError>(threads)
            })?;
            for thread_id in threads {
                self.nara
                    .observers
                    .publish(Change::ChatChanged { thread_id });
            }
            if confirmed.iter().any(|(e, _)| *e == Entity::NoticeAnswer) {
                self.nara.observers.publish(Change::NoticesChanged);
            }
            self.set_live(|s| s.in_flight = 0);
            if !retry.is_empty() {
                return Ok(BatchOutcome::Transient(
                    "the server asked to retry some entries".into(),
                ));
            }
        }
        Ok(BatchOutcome::Settled)
    }

    /// GETs a FHIR search (and its next pages) with the access token; `None` when the
    /// network failed (the caller keeps what it had and tries next time).
    async fn search(
        &self,
        first: Url,
        resource_type: &str,
        deadline: tokio::time::Instant,
        report: &mut SyncReport,
    ) -> Result<Option<Vec<serde_json::Value>>, SyncError> {
        let mut out = Vec::new();
        let mut next = Some(first);
        let mut unauthorized = 0;
        while let Some(url) = next.take() {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining < Duration::from_millis(200) {
                return Ok(None);
            }
            let token = self.access_token().await?;
            let http = self.http(remaining.min(REQUEST_TIMEOUT))?;
            report.requests += 1;
            let response = match http
                .get(url.clone())
                .bearer_auth(token)
                .header("Accept", "application/fhir+json")
                .send()
                .await
            {
                Ok(r) => r,
                Err(_) => return Ok(None),
            };
            match response.status().as_u16() {
                200 => {}
                401 if unauthorized == 0 => {
                    unauthorized += 1;
                    self.drop_access_token().await;
                    next = Some(url);
                    continue;
                }
                401 => return Err(SyncError::LoginRequired),
                _ => return Ok(None),
            }
            let Ok(bundle) = response.json::<serde_json::Value>().await else {
                return Ok(None);
            };
            match fhir::search_resources(&bundle, resource_type) {
                Ok(found) => out.extend(found.into_iter().cloned()),
                Err(e) => {
                    // Resource ids can embed a patient id: log type, element and problem only.
                    tracing::warn!(resource = e.resource, field = %e.field, problem = %e.problem, "unreadable search result");
                    return Ok(None);
                }
            }
            // Follow paging only on the FHIR server's own origin: the bearer token must
            // never go anywhere else.
            next = match fhir::next_page(&bundle).map(Url::parse) {
                None => None,
                Some(Ok(link)) if link.origin() == url.origin() => Some(link),
                Some(_) => {
                    tracing::warn!("a paging link points elsewhere; not followed");
                    return Ok(None);
                }
            };
        }
        Ok(Some(out))
    }

    /// Downloads the care team's thresholds (`Goal`) and measurement schedules
    /// (`CarePlan`), deletions included (`care_plan.rs`), then chat, notices and
    /// content, and applies what changed; the flag says whether every request came back.
    /// A Goal or CarePlan that cannot be used is kept for retry and listed in
    /// [`SyncStatus::unusable`]; what the store had stays.
    async fn download(
        &self,
        base: &Url,
        session: &Session,
        deadline: tokio::time::Instant,
        report: &mut SyncReport,
    ) -> Result<(u32, u32, bool), SyncError> {
        let patient = fhir::PatientId::new(session.patient.clone())
            .map_err(|_| SyncError::Auth(AuthError::NoPatient))?;
        // Incremental: only what changed since the newest `lastUpdated` seen (`ge`, so
        // a change in the same instant is not missed; applying twice changes nothing).
        let cursor = |resource: &str| -> Result<Option<String>, SyncError> {
            let key = format!("{CURSOR_PREFIX}{resource}");
            let raw = self.nara.store.read(|c, k| outbox::meta_get(c, k, &key))?;
            Ok(raw.map(|b| String::from_utf8_lossy(&b).into_owned()))
        };
        let search = |resource: &str| -> Result<Url, SyncError> {
            let mut url = auth::join(base, resource)?;
            url.query_pairs_mut()
                .append_pair("patient", patient.as_str())
                .append_pair("_count", "100");
            if let Some(since) = cursor(resource)? {
                url.query_pairs_mut()
                    .append_pair("_lastUpdated", &format!("ge{since}"));
            }
            Ok(url)
        };
        let save_cursor = |resource: &str, newest: Option<Timestamp>| -> Result<(), SyncError> {
            if let Some(newest) = newest {
                let key = format!("{CURSOR_PREFIX}{resource}");
                let value = newest.to_string();
                self.nara
                    .store
                    .write(|tx, k| outbox::meta_put(tx, k, &key, value.as_bytes()))?;
            }
            Ok(())
        };
        let (thresholds, schedules, mut complete) = self
            .download_care_plan(base, &patient, &search, deadline, report)
            .await?;
        complete &= self
            .download_chat(&patient, &search, &save_cursor, deadline, report)
            .await?;
        complete &= self
            .download_notices(base, &patient, &search, &save_cursor, deadline, report)
            .await?;
        complete &= self
            .download_content(base, &patient, &save_cursor, deadline, report)
            .await?;
        Ok((thresholds, schedules, complete))
    }

    /// Downloads the unit's threads (`CommunicationRequest`), its messages and read
    /// receipts and the server's view of the patient's own messages (`Communication`),
    /// incrementally; applies them (ADR 0009). True if both searches came back.
    async fn download_chat(
        &self,
        patient: &fhir::PatientId,
        search: &SearchUrl<'_>,
        save_cursor: &SaveCursor<'_>,
        deadline: tokio::time::Instant,
        report: &mut SyncReport,
    ) -> Result<bool, SyncError> {
        use crate::domain::chat::Author;
        use fhir::communication::{self as comm, Downloaded};
        let chat = self.nara.chat();
        let last_updated = |v: &serde_json::Value| {
            v.pointer("/meta/lastUpdated")
                .and_then(serde_json::Value::as_str)
                .and_then(|s| s.parse::<Timestamp>().ok())
        };
        let threads = self
            .search(
                search("CommunicationRequest")?,
                "CommunicationRequest",
                deadline,
                report,
            )
            .await?;
        let Some(threads) = threads else {
            return Ok(false);
        };
        let mut newest = None;
        for t in &threads {
            match comm::thread_from_fhir(t, patient) {
                Ok(thread) => {
                    newest = newest.max(last_updated(t));
                    chat.upsert_thread(thread)?;
                }
                Err(e) => {
                    tracing::warn!(field = %e.field, problem = %e.problem, "a thread was skipped")
                }
            }
        }
        save_cursor("CommunicationRequest", newest)?;
        let communications = self
            .search(search("Communication")?, "Communication", deadline, report)
            .await?;
        let Some(communications) = communications else {
            return Ok(false);
        };
        let mut newest = None;
        let mut incoming = Vec::new();
        let mut states = Vec::new();
        for c in &communications {
            match comm::communication_from_fhir(c, patient) {
                Ok(Downloaded::Message(m)) => {
                    newest = newest.max(last_updated(c));
                    if m.message.author == Author::Patient {
                        if let Some(state) = m.message.delivery {
                            states.push((m.message.id.clone(), state));
                        }
                    } else {
                        incoming.push(m.message);
                    }
                }
                Ok(Downloaded::Receipt(r)) => {
                    newest = newest.max(last_updated(c));
                    if let Some(state) = r.delivery() {
                        states.push((r.message_id.clone(), state));
                    }
                }
                Err(e) => {
                    tracing::warn!(field = %e.field, problem = %e.problem, "a message was skipped")
                }
            }
        }
        let stored = chat.store_incoming_all(&incoming)?;
        report.messages_received += stored
            .iter()
            .filter(|o| **o == crate::store::chat::Incoming::New)
            .count() as u64;
        for (id, state) in states {
            match chat.set_delivery(&id, state) {
                // A message written on another device of the patient's: not here.
                Ok(_) | Err(crate::NaraError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        save_cursor("Communication", newest)?;
        Ok(true)
    }

    /// Downloads a photo of the unit's message on demand (photos are fetched lazily, when
    /// the patient opens them) and caches it within the photo budget. Returns the bytes;
    /// `Ok(None)` when there is no such photo. The bytes are checked against the
    /// message's SHA-256 and the patient named by the `Binary`.
    pub async fn fetch_photo(&self, photo_id: &str) -> Result<Option<Vec<u8>>, SyncError> {
        let chat = self.nara.chat();
        let Some((photo, _own)) = chat.photo(photo_id)? else {
            return Ok(None);
        };
        if let Some(bytes) = chat.photo_bytes(photo_id)? {
            return Ok(Some(bytes));
        }
        let session = self.session()?.ok_or(SyncError::NotLoggedIn)?;
        let patient = fhir::PatientId::new(session.patient.clone())
            .map_err(|_| SyncError::Auth(AuthError::NoPatient))?;
        if !fhir::is_fhir_id(photo_id) {
            return Ok(None);
        }
        let base = Url::parse(&session.fhir_base).map_err(|_| {
            SyncError::Auth(AuthError::Transport(transport::TransportError::InvalidUrl))
        })?;
        let url = auth::join(&base, &format!("Binary/{photo_id}"))?;
        let token = self.access_token().await?;
        let http = self.http(REQUEST_TIMEOUT)?;
        let response = http
            .get(url)
            .bearer_auth(token)
            .header("Accept", "application/fhir+json")
            .send()
            .await
            .map_err(|e| SyncError::Auth(AuthError::Network(auth::without_url(&e))))?;
        if !response.status().is_success() {
            return Err(SyncError::Auth(AuthError::Network(format!(
                "HTTP {}",
                response.status().as_u16()
            ))));
        }
        let binary: serde_json::Value = response
            .json()
            .await
            .map_err(|e| SyncError::Auth(AuthError::Network(auth::without_url(&e))))?;
        let bytes = fhir::communication::binary_from_fhir(&binary, &patient, &photo)
            .map_err(|e| SyncError::Unusable(format!("Binary: {}: {}", e.field, e.problem)))?;
        chat.store_photo_bytes(photo_id, &bytes)?;
        Ok(Some(bytes))
    }

    /// The first half of logout (see [`Nara::logout`]): refuses while readings still
    /// wait for upload (unless `force`), then revokes the refresh token at the region
    /// (best effort: offline, it simply expires) and forgets the access token.
    pub(crate) async fn revoke_for_logout(&self, force: bool) -> Result<(), SyncError> {
        let pending = self.nara.pending_uploads()?;
        if pending > 0 && !force {
            return Err(SyncError::UnsyncedChanges(pending));
        }
        if let (Some(session), Some(refresh)) = (self.session()?, self.refresh_token()?) {
            let http = self.http(Duration::from_secs(10))?;
            if let Err(e) = auth::revoke(&http, &session, refresh).await {
                tracing::warn!(error = %e, "token revocation failed; wiping anyway");
            }
        }
        *self.state().access.lock().await = None;
        Ok(())
    }
}

/// Exponential backoff with full jitter: up to 0.5 s · 2^(n-1), capped at 30 s.
/// The text of the notification a shell shows for a push: it says only that there is
/// news, never what (the push carries no content, and a lock screen is not private).
pub fn push_notice_text() -> LocalizedText {
    LocalizedText::new(
        "Du har nytt från din vårdenhet. Öppna Nära för att läsa.",
        "There is news from your care unit. Open Nära to read it.",
    )
}

/// Whether `id` has the shape of an opaque push id (see [`Region::sync_for_push`]).
fn is_opaque_push_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn backoff(failures: u32, random: [u8; 16]) -> Duration {
    let cap_ms = 500u64
        .saturating_mul(1 << failures.saturating_sub(1).min(6))
        .min(30_000);
    let r = u64::from(u16::from_le_bytes([random[0], random[1]]));
    Duration::from_millis(cap_ms / 2 + cap_ms * r / 2 / 65_535)
}

/// The sync futures must be `Send` for any lifetime, so the bindings can spawn them on
/// the core's runtime. (Compile-time check.)
#[allow(dead_code)]
fn futures_are_send(nara: &Nara, browser: &dyn AuthBrowser, url: &Url) {
    fn send<T: Send>(_: T) {}
    let region = Region { nara };
    send(region.login(url, "client", url, browser));
    send(region.sync_now(Duration::ZERO, |_| {}));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_refused_change_is_reported_with_its_local_id() {
        use crate::domain::chat::{NewMessage, NewPhoto, Thread};
        use crate::domain::reading::{Measurement, NewReading};
        let dir = tempfile::tempdir().expect("tempdir");
        let keys = std::sync::Arc::new(crate::FileKeyProvider::new(dir.path().join("device.key")));
        let nara = Nara::open(dir.path(), keys).expect("opens");
        let reading = nara
            .readings()
            .add(NewReading::manual(
                Measurement::BodyWeight { kg: 81.5 },
                nara.now(),
                jiff::tz::Offset::UTC,
            ))
            .expect("added");
        nara.chat()
            .upsert_thread(Thread {
                id: "t1".into(),
                title: "Frågor".into(),
                unit_name: "Vårdcentralen".into(),
                expected_reply: None,
                notice: None,
                closed: None,
                updated_at: nara.now(),
            })
            .expect("thread");
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        let message = nara
            .chat()
            .compose(NewMessage {
                thread_id: "t1".into(),
                text: "Hej".into(),
                photos: vec![NewPhoto {
                    content_type: "image/png".into(),
                    bytes: png,
                }],
                in_reply_to: None,
            })
            .expect("composed");
        // The region refuses everything waiting.
        nara.store
            .write(|tx, _| {
                tx.execute("UPDATE outbox SET state = 2, error = 'http_422'", [])?;
                Ok::<_, StoreError>(())
            })
            .expect("marked");
        let status = nara.region().status().expect("status");
        let mut failed: Vec<(UploadKind, String)> = status
            .failed
            .iter()
            .map(|f| {
                assert_eq!(f.error, "http_422");
                (f.kind, f.id.clone())
            })
            .collect();
        failed.sort_by_key(|(k, _)| *k as u8);
        assert_eq!(
            failed,
            vec![
                (UploadKind::Reading, reading.id.to_string()),
                (UploadKind::Message, message.id.clone()),
                (UploadKind::Photo, message.photos[0].id.clone()),
            ]
        );
        assert_eq!(status.pending, 0, "refused changes are not pending");
    }

    #[test]
    fn a_push_id_is_short_and_opaque() {
        for ok in [
            "a",
            "msg-4f1c9e:2",
            "0123456789abcdef.X_y",
            &"x".repeat(128),
        ] {
            assert!(is_opaque_push_id(ok), "{ok}");
        }
        for bad in [
            "",
            &"x".repeat(129),
            "Hej Anna",
            r#"{"aps":{"alert":"Nytt"}}"#,
            "ödla",
            "a/b",
            "line\nbreak",
        ] {
            assert!(!is_opaque_push_id(bad), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let low = backoff(1, [0; 16]);
        let high = backoff(1, [0xff; 16]);
        assert!(low >= Duration::from_millis(250) && high <= Duration::from_millis(500));
        assert!(low < high, "jitter spreads retries");
        assert!(backoff(3, [0; 16]) > backoff(1, [0xff; 16]));
        assert!(backoff(60, [0xff; 16]) <= Duration::from_secs(30));
    }
}
