//! The chat area: threads with the care units, messages (text and photos) written
//! offline, pages of a thread, unread counts, read marks, photos and their cache, and
//! listeners for the thread list and for one thread.
//!
//! Converts and forwards to `nara_core::chat`; every rule (validation, metadata
//! stripping, delivery states, unread counts, the texts shown to the patient) stays in
//! the core. Message text, previews and photo bytes are patient data: they cross the
//! boundary in records and byte arrays only, never in an error, a log line or a panic.
//!
//! Threads come from the region with a sync; [`Chat::send`] stores a message and queues
//! it, and the next `Region.syncNow` sends it. Photos the care unit attached are fetched
//! when the patient opens them ([`Chat::fetch_photo`]) and cached within
//! [`Chat::photo_budget`].

use std::sync::Arc;
use std::time::SystemTime;

use nara_core::Change as CoreChange;
use nara_core::chat::{Cursor, MAX_PAGE, Page as CorePage, ThreadSummary as CoreThreadSummary};
use nara_core::domain::chat::{
    self as core_chat, Message as CoreMessage, NewMessage as CoreNewMessage,
    NewPhoto as CoreNewPhoto, Photo as CorePhoto, Thread as CoreThread,
};

use crate::errors::{CallbackError, ChatError, Internal, SyncError};
use crate::nara::Shared;
use crate::observe::{StopReason, TaskHandle, spawn_watch};
use crate::platform::{blocking, runtime};
use crate::types::{LocalizedText, to_system};

pub use nara_core::chat::ChatPending;
pub use nara_core::domain::chat::{Author, DeliveryState};

/// Who wrote a message.
#[uniffi::remote(Enum)]
pub enum Author {
    /// The patient, on this or another device.
    Patient,
    /// The care unit (a nurse or doctor).
    CareUnit,
}

/// How far one of the patient's messages has come. Only moves forward:
/// queued → sent → delivered → read. Show it with an icon and
/// [`ChatMessage::delivery_label`], never by colour alone.
#[uniffi::remote(Enum)]
pub enum DeliveryState {
    /// Stored on the phone, waiting for a network.
    Queued,
    /// The region's server has it.
    Sent,
    /// The care unit's system has received it.
    Delivered,
    /// Someone at the unit has read it.
    Read,
}

/// What chat still has to upload.
#[uniffi::remote(Record)]
pub struct ChatPending {
    /// The patient's messages not yet uploaded.
    pub messages: u64,
    /// Photos not yet uploaded.
    pub photos: u64,
    /// Read receipts not yet sent.
    pub receipts: u64,
}

/// Why and when a care unit closed a thread.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ThreadClosure {
    /// When.
    pub at: SystemTime,
    /// The unit's reason, if it gave one.
    pub reason: Option<LocalizedText>,
}

/// A conversation with a care unit, as the region provides it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ChatThread {
    /// The region's id of the thread (stable).
    pub id: String,
    /// Topic, e.g. "Frågor om blodtryck".
    pub title: String,
    /// The care unit's name.
    pub unit_name: String,
    /// What the unit says about reply times ("Vi svarar inom två vardagar").
    pub expected_reply: Option<LocalizedText>,
    /// The region's notice: the chat is not for emergencies (112, 1177). Show it.
    pub notice: Option<LocalizedText>,
    /// Set when the unit closed the thread: no more messages can be written.
    pub closed: Option<ThreadClosure>,
    /// When the region last changed the thread.
    pub updated_at: SystemTime,
}

impl From<CoreThread> for ChatThread {
    fn from(t: CoreThread) -> Self {
        ChatThread {
            id: t.id,
            title: t.title,
            unit_name: t.unit_name,
            expected_reply: t.expected_reply,
            notice: t.notice,
            closed: t.closed.map(|c| ThreadClosure {
                at: to_system(c.at),
                reason: c.reason,
            }),
            updated_at: to_system(t.updated_at),
        }
    }
}

/// A thread as the thread list shows it. The preview is patient data: show it, never
/// log it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ThreadSummary {
    /// The thread.
    pub thread: ChatThread,
    /// Unread messages from the unit.
    pub unread: u64,
    /// When the newest message was written.
    pub last_message_at: Option<SystemTime>,
    /// The start of the newest message's text (`null`/`nil` for a photo-only message or
    /// an empty thread).
    pub last_preview: Option<String>,
}

impl From<CoreThreadSummary> for ThreadSummary {
    fn from(s: CoreThreadSummary) -> Self {
        ThreadSummary {
            thread: s.thread.into(),
            unread: s.unread,
            last_message_at: s.last_message_at.map(to_system),
            last_preview: s.last_preview,
        }
    }
}

/// A photo attached to a message (its metadata; the bytes come from [`Chat::photo`] or
/// [`Chat::fetch_photo`]).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChatPhoto {
    /// Its id.
    pub id: String,
    /// `image/jpeg`, `image/png` or `image/heic`.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Whether the bytes are on this device now (the unit's photos are fetched when
    /// opened, and may be evicted from the cache later).
    pub local: bool,
}

impl From<CorePhoto> for ChatPhoto {
    fn from(p: CorePhoto) -> Self {
        ChatPhoto {
            id: p.id,
            content_type: p.content_type,
            size: p.size,
            sha256: p.sha256,
            local: p.local,
        }
    }
}

/// One message in a thread. The text is patient data: show it, never log it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ChatMessage {
    /// Its id: the client id (a UUID) of the patient's messages, the region's id of the
    /// unit's.
    pub id: String,
    /// The thread.
    pub thread_id: String,
    /// Who wrote it.
    pub author: Author,
    /// The text, trimmed (may be empty when photos are attached).
    pub text: String,
    /// Attached photos.
    pub photos: Vec<ChatPhoto>,
    /// When it was written (the patient's: when composed; the unit's: when sent).
    pub written_at: SystemTime,
    /// For the patient's messages: how far it has come.
    pub delivery: Option<DeliveryState>,
    /// For the patient's messages: the state as a word for the patient.
    pub delivery_label: Option<LocalizedText>,
    /// For the unit's messages: when the patient read it.
    pub read_at: Option<SystemTime>,
    /// A message from the unit that the patient has not read yet.
    pub unread: bool,
    /// The message this one answers, if any.
    pub in_reply_to: Option<String>,
}

impl From<CoreMessage> for ChatMessage {
    fn from(m: CoreMessage) -> Self {
        ChatMessage {
            unread: m.is_unread(),
            delivery_label: m.delivery.map(DeliveryState::label),
            id: m.id,
            thread_id: m.thread_id,
            author: m.author,
            text: m.text,
            photos: m.photos.into_iter().map(ChatPhoto::from).collect(),
            written_at: to_system(m.written_at),
            delivery: m.delivery,
            read_at: m.read_at.map(to_system),
            in_reply_to: m.in_reply_to,
        }
    }
}

/// A photo as the patient attaches it. JPEGs are stripped of their metadata (location
/// included) before anything is stored; the type is checked from the bytes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewChatPhoto {
    /// The declared type (`image/jpeg`, `image/png`, `image/heic`); the bytes decide.
    pub content_type: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// What the patient writes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewChatMessage {
    /// The thread.
    pub thread_id: String,
    /// The text (trimmed by the core; may be empty when a photo is attached).
    pub text: String,
    /// Photos, at most [`ChatLimits::max_photos`].
    #[uniffi(default)]
    pub photos: Vec<NewChatPhoto>,
    /// The unit's message this answers, if any.
    #[uniffi(default)]
    pub in_reply_to: Option<String>,
}

impl From<NewChatMessage> for CoreNewMessage {
    fn from(m: NewChatMessage) -> Self {
        CoreNewMessage {
            thread_id: m.thread_id,
            text: m.text,
            photos: m
                .photos
                .into_iter()
                .map(|p| CoreNewPhoto {
                    content_type: p.content_type,
                    bytes: p.bytes,
                })
                .collect(),
            in_reply_to: m.in_reply_to,
        }
    }
}

/// One page of a thread, newest first.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MessagePage {
    /// Messages, newest first.
    pub messages: Vec<ChatMessage>,
    /// Pass to [`Chat::page`] for the next, older page; `null`/`nil` at the start of the
    /// thread. Opaque; keep it only while the view is shown.
    pub next_cursor: Option<String>,
}

impl From<CorePage> for MessagePage {
    fn from(p: CorePage) -> Self {
        MessagePage {
            messages: p.messages.into_iter().map(ChatMessage::from).collect(),
            next_cursor: p.next.map(Cursor::to_token),
        }
    }
}

/// The limits a message must keep, for counters and pickers in the UI (the core checks
/// them again on send).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ChatLimits {
    /// Longest text, in characters (Unicode scalar values, after trimming).
    pub max_chars: u64,
    /// Most photos on one message.
    pub max_photos: u64,
    /// Largest photo, in bytes (after metadata stripping).
    pub max_photo_bytes: u64,
    /// Largest page [`Chat::page`] returns.
    pub max_page: u32,
}

/// The limits a message must keep.
#[uniffi::export]
pub fn chat_limits() -> ChatLimits {
    ChatLimits {
        max_chars: core_chat::MAX_MESSAGE_CHARS as u64,
        max_photos: core_chat::MAX_PHOTOS_PER_MESSAGE as u64,
        max_photo_bytes: core_chat::MAX_PHOTO_BYTES as u64,
        max_page: u32::try_from(MAX_PAGE).unwrap_or(u32::MAX),
    }
}

/// Receives the thread list: the current list first, then the new list after every
/// change to a thread, a message, an unread count or a read mark.
#[uniffi::export(with_foreign)]
pub trait ThreadsListener: Send + Sync {
    /// Every thread, the most recently active first.
    fn on_threads(&self, threads: Vec<ThreadSummary>) -> Result<(), CallbackError>;
    /// The watch stopped (store closed or wiped, or a read failed); no more calls follow.
    fn on_stopped(&self, reason: StopReason) -> Result<(), CallbackError>;
}

/// Receives the newest page of one thread: at once, then after every change to it (a
/// message sent or received, a delivery state, a read mark).
#[uniffi::export(with_foreign)]
pub trait ThreadListener: Send + Sync {
    /// The newest messages of the thread, newest first.
    fn on_page(&self, page: MessagePage) -> Result<(), CallbackError>;
    /// The watch stopped (store closed or wiped, or a read failed); no more calls follow.
    fn on_stopped(&self, reason: StopReason) -> Result<(), CallbackError>;
}

fn cursor(token: Option<String>) -> Result<Option<Cursor>, ChatError> {
    token
        .map(|t| Cursor::from_token(&t).ok_or(ChatError::InvalidCursor))
        .transpose()
}

fn page_size(limit: u32) -> usize {
    usize::try_from(limit).unwrap_or(MAX_PAGE)
}

/// Sends `message` through the core; a closed thread's error gets the region's reason.
fn send_blocking(
    core: &nara_core::Nara,
    message: NewChatMessage,
) -> Result<ChatMessage, ChatError> {
    let thread_id = message.thread_id.clone();
    match core.chat().compose(message.into()) {
        Ok(m) => Ok(m.into()),
        Err(nara_core::NaraError::Chat(core_chat::ChatError::ThreadClosed)) => {
            let reason = core
                .chat()
                .thread(&thread_id)
                .ok()
                .flatten()
                .and_then(|t| t.closed)
                .and_then(|c| c.reason);
            Err(ChatError::ThreadClosed {
                reason,
                explanation: core_chat::ChatError::ThreadClosed.message(),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Chat with the care units: threads, messages, photos, unread counts.
#[derive(uniffi::Object)]
pub struct Chat {
    shared: Arc<Shared>,
}

impl Chat {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Chat { shared }
    }
}

#[uniffi::export]
impl Chat {
    /// Every thread with its unread count and newest message, the most recently active
    /// first.
    pub async fn threads(&self) -> Result<Vec<ThreadSummary>, ChatError> {
        let core = self.shared.get()?;
        blocking(move || {
            let list = core.chat().threads()?;
            Ok(list.into_iter().map(ThreadSummary::from).collect())
        })
        .await
    }

    /// One thread, or `null`/`nil`.
    pub async fn thread(&self, thread_id: String) -> Result<Option<ChatThread>, ChatError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.chat().thread(&thread_id)?.map(ChatThread::from))).await
    }

    /// Writes a message to the care unit, offline: checks it, strips metadata (location
    /// included) from JPEG photos, and stores the message and its photos durably,
    /// queued for the next sync (`delivery` is `Queued`). The thread must exist and be
    /// open. Errors name what is wrong, never the text.
    pub async fn send(&self, message: NewChatMessage) -> Result<ChatMessage, ChatError> {
        let core = self.shared.get()?;
        blocking(move || send_blocking(&core, message)).await
    }

    /// One message by id, or `null`/`nil`.
    pub async fn message(&self, message_id: String) -> Result<Option<ChatMessage>, ChatError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.chat().message(&message_id)?.map(ChatMessage::from))).await
    }

    /// A page of a thread, newest first: the newest `limit` messages (1 to
    /// [`ChatLimits::max_page`]) for `cursor` `null`/`nil`, then the ones before the
    /// previous page's `nextCursor`.
    pub async fn page(
        &self,
        thread_id: String,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<MessagePage, ChatError> {
        let core = self.shared.get()?;
        let before = self::cursor(cursor)?;
        blocking(move || {
            Ok(core
                .chat()
                .page(&thread_id, before, page_size(limit))?
                .into())
        })
        .await
    }

    /// Unread messages from the unit in a thread.
    pub async fn unread(&self, thread_id: String) -> Result<u64, ChatError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.chat().unread(&thread_id)?)).await
    }

    /// Unread messages from the units in every thread (the app badge).
    pub async fn unread_total(&self) -> Result<u64, ChatError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.chat().unread_total()?)).await
    }

    /// The patient has seen the thread up to message `up_to_message_id` (the newest one
    /// shown): the unit's messages up to it become read and a read receipt is queued for
    /// each, offline too. Returns how many were newly marked; `NoSuchMessage` if the
    /// message is not in the thread.
    pub async fn mark_read(
        &self,
        thread_id: String,
        up_to_message_id: String,
    ) -> Result<u64, ChatError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.chat().mark_read(&thread_id, &up_to_message_id)?)).await
    }

    /// A photo's bytes if they are on this device (the patient's own, or a unit's photo
    /// fetched before and still cached), else `null`/`nil`: then call
    /// [`Chat::fetch_photo`].
    pub async fn photo(&self, photo_id: String) -> Result<Option<Vec<u8>>, ChatError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.chat().photo_bytes(&photo_id)?)).await
    }

    /// A photo's bytes, downloaded from the region if they are not on the device (checked
    /// against the message's type, size and SHA-256, then cached sealed within the
    /// budget). `null`/`nil` for an unknown photo. Needs a login when it downloads:
    /// fails with the region's errors (`NotLoggedIn`, `Network`, `LoginRequired`,
    /// `Unusable`). Logout stops a download in flight.
    pub async fn fetch_photo(&self, photo_id: String) -> Result<Option<Vec<u8>>, SyncError> {
        let core = self.shared.get()?;
        let task = runtime().spawn(async move { Ok(core.region().fetch_photo(&photo_id).await?) });
        self.shared.track(task.abort_handle());
        match task.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(SyncError::from(Internal::Panic)),
            Err(_) => Err(SyncError::Closed),
        }
    }

    /// The budget for the care units' photos cached on the device, in bytes (the
    /// patient's own photos do not count and are never evicted).
    pub async fn photo_budget(&self) -> Result<u64, ChatError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.chat().photo_budget()?)).await
    }

    /// Sets the photo cache budget and evicts the least recently opened photos down to
    /// it (they can be fetched again).
    pub async fn set_photo_budget(&self, bytes: u64) -> Result<(), ChatError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.chat().set_photo_budget(bytes)?)).await
    }

    /// Bytes of the units' photos cached now.
    pub async fn cached_photo_bytes(&self) -> Result<u64, ChatError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.chat().cached_photo_bytes()?)).await
    }

    /// Messages, photos and read receipts waiting for upload.
    pub async fn pending(&self) -> Result<ChatPending, ChatError> {
        let core = self.shared.get()?;
        blocking(move || Ok(core.chat().pending()?)).await
    }

    /// Watches the thread list: `listener` gets it at once, then again after every change
    /// to a thread or its messages, until the handle is cancelled or dropped or the
    /// store closes.
    pub fn watch_threads(
        &self,
        listener: Arc<dyn ThreadsListener>,
    ) -> Result<Arc<TaskHandle>, ChatError> {
        spawn_watch(
            &self.shared,
            listener,
            |core| {
                let list = core.chat().threads()?;
                Ok(list.into_iter().map(ThreadSummary::from).collect())
            },
            |c| {
                matches!(
                    c,
                    CoreChange::ThreadsChanged | CoreChange::ChatChanged { .. }
                )
            },
            ThreadsListener::on_threads,
            ThreadsListener::on_stopped,
        )
    }

    /// Watches one thread: `listener` gets its newest `limit` messages at once, then
    /// again after every change to the thread (a message sent or received, a delivery
    /// state, a read mark), until the handle is cancelled or dropped or the store
    /// closes. Older pages: [`Chat::page`] with the page's `nextCursor`.
    pub fn watch_thread(
        &self,
        thread_id: String,
        limit: u32,
        listener: Arc<dyn ThreadListener>,
    ) -> Result<Arc<TaskHandle>, ChatError> {
        let limit = page_size(limit);
        let id = thread_id.clone();
        spawn_watch(
            &self.shared,
            listener,
            move |core| Ok(MessagePage::from(core.chat().page(&id, None, limit)?)),
            move |c| matches!(c, CoreChange::ChatChanged { thread_id: t } if *t == thread_id),
            ThreadListener::on_page,
            ThreadListener::on_stopped,
        )
    }
}

#[cfg(feature = "test-hooks")]
#[uniffi::export]
impl Chat {
    /// Test hook (feature `test-hooks`, never in app builds): stores `thread` as if a
    /// sync had brought it from the region. Returns whether anything changed.
    pub async fn debug_upsert_thread(&self, thread: ChatThread) -> Result<bool, ChatError> {
        let core = self.shared.get()?;
        let bad_time = || ChatError::Internal {
            detail: "a time outside the supported range".to_owned(),
        };
        let updated_at = crate::types::from_system(thread.updated_at).ok_or_else(bad_time)?;
        let closed = match thread.closed {
            Some(c) => Some(core_chat::ThreadClosed {
                at: crate::types::from_system(c.at).ok_or_else(bad_time)?,
                reason: c.reason,
            }),
            None => None,
        };
        let thread = CoreThread {
            id: thread.id,
            title: thread.title,
            unit_name: thread.unit_name,
            expected_reply: thread.expected_reply,
            notice: thread.notice,
            closed,
            updated_at,
        };
        blocking(move || Ok(core.chat().upsert_thread(thread)?)).await
    }

    /// Test hook (feature `test-hooks`, never in app builds): stores a text message from
    /// the care unit in `thread_id`, as if a sync had downloaded it, with region id
    /// `message_id`.
    pub async fn debug_receive(
        &self,
        thread_id: String,
        message_id: String,
        text: String,
    ) -> Result<ChatMessage, ChatError> {
        let core = self.shared.get()?;
        blocking(move || {
            let message = CoreMessage {
                id: message_id,
                thread_id,
                author: Author::CareUnit,
                text,
                photos: Vec::new(),
                written_at: jiff::Timestamp::now(),
                delivery: None,
                read_at: None,
                in_reply_to: None,
            };
            core.chat().store_incoming(message.clone())?;
            Ok(message.into())
        })
        .await
    }
}
