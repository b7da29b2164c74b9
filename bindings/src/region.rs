//! The region area: login (SMART standalone patient launch through the shell's browser),
//! sync within a time budget, and the sync status.
//!
//! The login is two calls, `begin_login` and `finish_login`, with the system browser
//! (driven by the shell) in between; the Kotlin and Swift facades wrap them in one
//! `login(…, browser)` with a suspending/async browser. A UniFFI foreign trait with an
//! async method would do the same in one call, but UniFFI 0.32's Swift code for async
//! foreign methods does not compile in Swift 6 language mode (uniffi-rs #2929; swiftc
//! 6.0.3 crashes on it), so the boundary has no async foreign method.
//!
//! Every call runs on the core's runtime: the login and the sync are spawned there as
//! tasks and the Kotlin coroutine or Swift task only awaits the `JoinHandle`. Cancelling
//! the foreign caller drops that wait, not the work; the sync is safe to stop at any
//! point anyway (an outbox row is deleted only after the server confirmed it, and a
//! repeat is answered "already there"), and `Nara.logout` stops syncs in flight.
//!
//! Sync status changes reach `Nara.subscribe` listeners as `Change.SyncChanged`; read
//! [`Region::status`] then.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

#[cfg(feature = "test-hooks")]
use nara_core::sync::auth::AuthBrowser as CoreAuthBrowser;
use nara_core::sync::auth::{AuthError, PendingLogin as CorePendingLogin};
use nara_core::sync::engine::{
    CarePlanResource, FailedUpload as CoreFailedUpload, SyncError as CoreSyncError,
    SyncStatus as CoreSyncStatus, UnusableDownload as CoreUnusableDownload, UnusableReason,
    UploadKind,
};
use nara_core::sync::transport::TransportConfig as CoreTransportConfig;
use url::Url;

#[cfg(feature = "test-hooks")]
use crate::errors::BrowserError;
use crate::errors::{CallbackError, Internal, SyncError};
use crate::nara::Shared;
use crate::platform::{blocking, runtime};
use crate::types::{LocalizedText, to_system};

pub use nara_core::sync::engine::{SyncProgress, SyncReport};

/// What one `syncNow` did.
#[uniffi::remote(Record)]
pub struct SyncReport {
    /// Changes (readings, messages, photos, receipts) the server stored in this run.
    pub created: u64,
    /// Changes the server already had (a repeat after a lost answer).
    pub already_there: u64,
    /// Replaced (corrected) readings withdrawn on the server (`entered-in-error`).
    pub withdrawn: u64,
    /// Changes the server refused (kept locally, see `SyncStatus.failed`).
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

/// Progress of a running sync.
#[uniffi::remote(Record)]
pub struct SyncProgress {
    /// Changes (readings, messages, photos, receipts) the server confirmed so far.
    pub uploaded: u64,
    /// Changes that were waiting when the run started.
    pub total: u64,
}

/// How the core may connect to the region. Not stored: set it at every start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct TransportConfig {
    /// Development only: allow `http://` to loopback addresses. Never in a release.
    #[uniffi(default)]
    pub allow_http_loopback: bool,
    /// SHA-256 digests (32 bytes each) of the SubjectPublicKeyInfo the server's
    /// certificate must carry (any of them). Empty: no pinning.
    #[uniffi(default)]
    pub spki_sha256_pins: Vec<Vec<u8>>,
    /// Extra trust anchors (DER), added to the built-in roots.
    #[uniffi(default)]
    pub extra_roots_der: Vec<Vec<u8>>,
}

impl TryFrom<TransportConfig> for CoreTransportConfig {
    type Error = SyncError;

    fn try_from(c: TransportConfig) -> Result<Self, SyncError> {
        let pins = c
            .spki_sha256_pins
            .into_iter()
            .map(|p| {
                <[u8; 32]>::try_from(p.as_slice()).map_err(|_| SyncError::InvalidConfig {
                    detail: format!("an SPKI pin must be 32 bytes (SHA-256), not {}", p.len()),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CoreTransportConfig {
            allow_http_loopback: c.allow_http_loopback,
            spki_sha256_pins: pins,
            extra_roots_der: c.extra_roots_der,
        })
    }
}

/// A change the region refused, kept locally (never dropped).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FailedUpload {
    /// What kind of change it was.
    pub kind: UploadKind,
    /// The local id to find it by: the reading's id (for a refused withdrawal, the
    /// correction's id), the message's client id, the photo's id, or for a read receipt
    /// the id of the care unit's message it acknowledges.
    pub id: String,
    /// A code for the reason (`http_422`, `mapping`), never content.
    pub error: String,
}

/// The kinds of change that are uploaded.
#[uniffi::remote(Enum)]
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

/// The care-plan resource types the core downloads.
#[uniffi::remote(Enum)]
pub enum CarePlanResource {
    /// A `Goal`: the care team's thresholds for one reading kind.
    Goal,
    /// A `CarePlan`: measurement schedules.
    CarePlan,
}

/// Why a downloaded resource could not be used (the stable code in brackets, as the
/// region is told it).
#[uniffi::remote(Enum)]
pub enum UnusableReason {
    /// A required element is absent (`missing`).
    Missing,
    /// An element has the wrong type or an unreadable value (`invalid`).
    Invalid,
    /// A code or code system the core does not know (`unknown-code`).
    UnknownCode,
    /// A quantity in another unit than the canonical UCUM unit (`wrong-unit`).
    WrongUnit,
    /// Valid FHIR that the core does not support (`unsupported`).
    Unsupported,
    /// Limits that do not fit together, e.g. a low end above its high end (`bad-range`).
    BadRange,
    /// A schedule that cannot be used, e.g. an unknown time zone (`bad-schedule`).
    BadSchedule,
    /// Not about the logged-in patient (`wrong-subject`).
    WrongSubject,
}

/// A downloaded Goal or CarePlan the core could not use. It names no patient, value or
/// resource id; it is read again on every sync until the care team fixes it, and
/// meanwhile what applied before stays in force.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UnusableDownload {
    /// Which type of resource.
    pub resource: CarePlanResource,
    /// Why it cannot be used.
    pub reason: UnusableReason,
    /// The stable reason code (`unknown-code`, `bad-range`, ...), for a report to the region.
    pub reason_code: String,
    /// The element path, e.g. `target[0].detailRange`.
    pub field: String,
    /// A sentence for the patient, in Swedish and English.
    pub text: LocalizedText,
}

impl From<CoreUnusableDownload> for UnusableDownload {
    fn from(u: CoreUnusableDownload) -> Self {
        UnusableDownload {
            text: u.text(),
            resource: u.resource,
            reason: u.reason,
            reason_code: u.reason.code().to_owned(),
            field: u.field,
        }
    }
}

/// The sync state, for a status line or screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    /// Logged in to a region.
    pub logged_in: bool,
    /// The region's FHIR base URL, when logged in.
    pub region: Option<String>,
    /// The patient's FHIR id at the region, when logged in.
    pub patient: Option<String>,
    /// The login expired: the patient must log in again (nothing is lost).
    pub login_required: bool,
    /// Changes waiting for upload: readings, withdrawals, messages, photos, read receipts.
    pub pending: u64,
    /// Changes in the request now in flight.
    pub in_flight: u64,
    /// Changes the region refused, with reasons (kept locally, never dropped).
    pub failed: Vec<FailedUpload>,
    /// Downloaded Goals and CarePlans that could not be used; empty when all were.
    /// Show them (`text`), and tell the region (type, `reasonCode`, `field`).
    pub unusable: Vec<UnusableDownload>,
    /// The end of the last sync that finished without error.
    pub last_success: Option<SystemTime>,
    /// The last error, if the last sync did not finish (no patient data).
    pub last_error: Option<String>,
}

impl From<CoreSyncStatus> for SyncStatus {
    fn from(s: CoreSyncStatus) -> Self {
        SyncStatus {
            logged_in: s.logged_in,
            region: s.region,
            patient: s.patient,
            login_required: s.login_required,
            pending: s.pending,
            in_flight: s.in_flight,
            failed: s
                .failed
                .into_iter()
                .map(|CoreFailedUpload { kind, id, error }| FailedUpload { kind, id, error })
                .collect(),
            unusable: s.unusable.into_iter().map(UnusableDownload::from).collect(),
            last_success: s.last_success.map(to_system),
            last_error: s.last_error,
        }
    }
}

/// Receives the progress of a sync. Called on a task of the core's runtime, never while
/// the sync holds a lock; may call back into Nära.
#[uniffi::export(with_foreign)]
pub trait SyncProgressListener: Send + Sync {
    /// `progress.uploaded` of `progress.total` readings confirmed so far.
    fn on_progress(&self, progress: SyncProgress) -> Result<(), CallbackError>;
}

/// A login waiting for its redirect: open [`PendingLogin::authorize_url`] in the system
/// browser, then hand the redirect to [`Region::finish_login`]. Holds the PKCE verifier
/// and the expected `state` in memory only; usable once.
#[derive(uniffi::Object)]
pub struct PendingLogin {
    authorize_url: String,
    redirect_uri: String,
    inner: Mutex<Option<CorePendingLogin>>,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl PendingLogin {
    /// The region's login page to open (Custom Tab, `ASWebAuthenticationSession`).
    pub fn authorize_url(&self) -> String {
        self.authorize_url.clone()
    }

    /// The redirect URI the browser will be sent to (the app's scheme).
    pub fn redirect_uri(&self) -> String {
        self.redirect_uri.clone()
    }
}

fn url(text: &str, what: &str) -> Result<Url, SyncError> {
    Url::parse(text).map_err(|_| SyncError::InvalidConfig {
        detail: format!("the {what} is not a valid URL"),
    })
}

/// Runs `work` as a task on the core's runtime and awaits it. Dropping the returned
/// future (a cancelled coroutine or task) drops only the wait; [`Shared::abort_tasks`]
/// (logout) stops the task itself.
async fn on_runtime<T, F>(shared: &Shared, work: F) -> Result<T, SyncError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, SyncError>> + Send + 'static,
{
    let handle = runtime().spawn(work);
    shared.track(handle.abort_handle());
    match handle.await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(SyncError::from(Internal::Panic)),
        // Aborted by logout (or the runtime shutting down).
        Err(_) => Err(SyncError::Closed),
    }
}

/// Sync with the region: login, upload, download, status.
#[derive(uniffi::Object)]
pub struct Region {
    shared: Arc<Shared>,
}

impl Region {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Region { shared }
    }
}

#[uniffi::export]
impl Region {
    /// Sets how the core may connect (development switch for http on loopback, SPKI
    /// pins, extra roots). Not stored: set it at every start-up, before `login`.
    pub fn set_transport(&self, config: TransportConfig) -> Result<(), SyncError> {
        let config = CoreTransportConfig::try_from(config)?;
        self.shared.get()?.region().set_transport(config);
        Ok(())
    }

    /// Readings per upload request (default 100, clamped to 1..=1000). Smaller batches
    /// cost more requests but lose less work to a cut connection. Not stored.
    pub fn set_batch_size(&self, readings: u32) -> Result<(), SyncError> {
        let readings = usize::try_from(readings).unwrap_or(usize::MAX);
        self.shared.get()?.region().set_batch_size(readings);
        Ok(())
    }

    /// First half of the login (SMART standalone patient launch): discovery, a check
    /// that the region offers PKCE S256, a fresh PKCE verifier and `state`. Open
    /// `authorizeUrl()` of the result in the system browser and pass the redirect to
    /// [`Region::finish_login`]. The facades wrap both halves in one `login(…, browser)`.
    pub async fn begin_login(
        &self,
        fhir_base: String,
        client_id: String,
        redirect_uri: String,
    ) -> Result<Arc<PendingLogin>, SyncError> {
        let base = url(&fhir_base, "region address")?;
        let redirect = url(&redirect_uri, "redirect URI")?;
        let core = self.shared.get()?;
        let pending = on_runtime(&self.shared, async move {
            Ok(core
                .region()
                .begin_login(&base, &client_id, &redirect)
                .await?)
        })
        .await?;
        Ok(Arc::new(PendingLogin {
            authorize_url: pending.authorize_url.to_string(),
            redirect_uri,
            inner: Mutex::new(Some(pending)),
        }))
    }

    /// Second half of the login: checks the redirect's `state` against `pending`,
    /// exchanges the code (PKCE), stores the refresh token encrypted and returns the
    /// patient's FHIR id. A `pending` login is used once; a second call fails with `Auth`.
    ///
    /// One patient per store: the store belongs to the region and patient of its first
    /// login, and everything on it is sent with that patient as subject — readings,
    /// messages and answers captured before the first login belong to whoever logs in
    /// first. A login whose token names another patient, or a login to another region,
    /// fails with `AnotherPatient` before anything is stored, sent or fetched (its tokens
    /// are revoked, best effort); the store's own patient may always log in again.
    pub async fn finish_login(
        &self,
        pending: Arc<PendingLogin>,
        redirect_url: String,
    ) -> Result<String, SyncError> {
        let redirect = url(&redirect_url, "redirect")?;
        let core = self.shared.get()?;
        let pending = pending
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| SyncError::from(CoreSyncError::Auth(AuthError::NoLoginInProgress)))?;
        on_runtime(&self.shared, async move {
            Ok(core.region().finish_login(pending, &redirect).await?)
        })
        .await
    }

    /// Uploads every waiting reading and downloads the care plan, stopping with
    /// everything consistent when `budget_ms` runs out (`SyncReport.finished` false:
    /// schedule another run). Safe to repeat at any time, also after a kill: nothing is
    /// lost and nothing is stored twice on the server. `progress` is called from the
    /// core's threads. Fails with `Busy` while another sync runs in this process.
    pub async fn sync_now(
        &self,
        budget_ms: u64,
        progress: Option<Arc<dyn SyncProgressListener>>,
    ) -> Result<SyncReport, SyncError> {
        let core = self.shared.get()?;
        on_runtime(&self.shared, async move {
            let budget = Duration::from_millis(budget_ms);
            let Some(listener) = progress else {
                return Ok(core.region().sync_now(budget, |_| {}).await?);
            };
            // The core reports progress from inside the sync; a separate task hands the
            // newest value to the listener, so foreign code never runs on the sync's task.
            let (tx, mut rx) = tokio::sync::watch::channel(None::<SyncProgress>);
            let forward = runtime().spawn(async move {
                // `changed` yields a value not yet seen before it reports the end.
                while rx.changed().await.is_ok() {
                    let latest = *rx.borrow_and_update();
                    if let Some(p) = latest {
                        // A listener that throws is the shell's bug; keep syncing.
                        let _ = listener.on_progress(p);
                    }
                }
            });
            let result = core
                .region()
                .sync_now(budget, |p| {
                    tx.send_replace(Some(p));
                })
                .await;
            drop(tx);
            // Every progress call reaches the listener before the result does.
            let _ = forward.await;
            Ok(result?)
        })
        .await
    }

    /// Handles a push notification from the region: call it with the push's opaque id
    /// only (the push carries nothing else; show `pushNoticeText()` as the
    /// notification). Syncs like `syncNow`, but if a sync is already running it waits
    /// for it (within `budget_ms`) and syncs again, so news that arrived during that
    /// sync is fetched. Fails with `BadPush` if `push_id` is not an opaque id.
    pub async fn sync_for_push(
        &self,
        push_id: String,
        budget_ms: u64,
    ) -> Result<SyncReport, SyncError> {
        let core = self.shared.get()?;
        on_runtime(&self.shared, async move {
            let budget = Duration::from_millis(budget_ms);
            Ok(core
                .region()
                .sync_for_push(&push_id, budget, |_| {})
                .await?)
        })
        .await
    }

    /// The sync state: logged in, login needed, pending, in flight, refused changes,
    /// last success, last error.
    pub async fn status(&self) -> Result<SyncStatus, SyncError> {
        let core = self.shared.get()?;
        blocking(move || Ok(SyncStatus::from(core.region().status()?))).await
    }
}

/// The text of the notification to show for a push from the region, in Swedish and
/// English: it says only that there is news, never what (a lock screen is not
/// private, and the push carries no content).
#[uniffi::export]
pub fn push_notice_text() -> LocalizedText {
    nara_core::sync::engine::push_notice_text()
}

/// A scripted browser for the test region's development login (feature `test-hooks`,
/// never in app builds): fills in the login and consent forms over HTTP as a person
/// would.
#[cfg(feature = "test-hooks")]
#[derive(uniffi::Object)]
pub struct TestLoginBrowser(nara_core::sync::test_login::TestLoginBrowser);

#[cfg(feature = "test-hooks")]
#[uniffi::export]
impl TestLoginBrowser {
    /// Goes through the login at `authorize_url`; returns the redirect to `redirect_uri`.
    pub async fn authorize(
        &self,
        authorize_url: String,
        redirect_uri: String,
    ) -> Result<String, BrowserError> {
        let bad = |_| BrowserError::Failed {
            detail: "not a URL".to_owned(),
        };
        let authorize_url = Url::parse(&authorize_url).map_err(bad)?;
        let redirect_uri = Url::parse(&redirect_uri).map_err(bad)?;
        let browser = self.0.clone();
        // On the core's runtime: the HTTP client needs its reactor, whoever awaits this.
        let task = runtime().spawn(async move {
            CoreAuthBrowser::authorize(&browser, &authorize_url, &redirect_uri)
                .await
                .map(|u| u.to_string())
        });
        match task.await {
            Ok(result) => result.map_err(BrowserError::from),
            Err(_) => Err(BrowserError::Failed {
                detail: "the test login stopped".to_owned(),
            }),
        }
    }
}

/// Test hook (feature `test-hooks`, never in app builds): a browser that logs in as
/// `user` on the test region's development login forms.
#[cfg(feature = "test-hooks")]
#[uniffi::export]
pub fn test_login_browser(user: String, allow_http_loopback: bool) -> Arc<TestLoginBrowser> {
    Arc::new(TestLoginBrowser(
        nara_core::sync::test_login::TestLoginBrowser::new(
            user,
            CoreTransportConfig {
                allow_http_loopback,
                ..CoreTransportConfig::default()
            },
        ),
    ))
}
