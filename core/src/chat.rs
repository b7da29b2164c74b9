//! Chat with the care team, on the device: threads, composing offline, paging, unread
//! counts, read receipts, photos (metadata stripped, sealed files, a cache budget).
//!
//! [`Chat`] is the area of [`crate::Nara`] the shells and the sync engine call. It owns
//! the order of a compose (validate, strip, seal files, one transaction for the message,
//! its photos and their outbox rows, then notify). It does no network I/O and no FHIR
//! mapping: the sync engine reads the outbox (`message`, `photo`, `receipt` rows) and
//! calls [`Chat::store_incoming`], [`Chat::set_delivery`], [`Chat::upsert_thread`] and
//! [`Chat::store_photo_bytes`] with what it downloads. Nothing here logs or puts into an
//! error a message's text or a photo's bytes.

use bytes::Bytes;
use img_parts::ImageEXIF;
use img_parts::jpeg::{Jpeg, markers};
use jiff::Timestamp;

use crate::domain::chat::{
    self, ChatError, DeliveryState, Message, MessageId, NewMessage, Photo, Thread,
};
use crate::observe::Change;
use crate::store::StoreError;
use crate::store::chat::{self as repo, ChatUpload, Incoming, PhotoRow};
use crate::store::files::PhotoFiles;
use crate::{Nara, NaraError};

/// Photo cache budget when none is set: 100 MiB of downloaded photos.
pub const DEFAULT_PHOTO_BUDGET: u64 = 100 * 1024 * 1024;
/// Largest page of messages.
pub const MAX_PAGE: usize = 200;
/// Length of a thread-list preview, in characters.
const PREVIEW_CHARS: usize = 100;

/// A thread with what the thread list shows. The preview is patient data: keep it in
/// memory, never log it.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadSummary {
    /// The thread.
    pub thread: Thread,
    /// Unread messages from the unit.
    pub unread: u64,
    /// When the newest message was written.
    pub last_message_at: Option<Timestamp>,
    /// The start of the newest message's text (`None` for a photo-only message or an
    /// empty thread).
    pub last_preview: Option<String>,
}

/// Where the next (older) page starts. Opaque; keep it only for the life of the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor(i64);

impl Cursor {
    /// A textual form for the shells.
    pub fn to_token(self) -> String {
        self.0.to_string()
    }

    /// Parses [`Cursor::to_token`]'s form.
    pub fn from_token(token: &str) -> Option<Cursor> {
        token.parse().ok().filter(|v| *v > 0).map(Cursor)
    }
}

/// One page of a thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Messages, newest first.
    pub messages: Vec<Message>,
    /// The cursor of the next, older page; `None` at the start of the thread.
    pub next: Option<Cursor>,
}

/// What the outbox holds for chat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChatPending {
    /// The patient's messages not yet uploaded.
    pub messages: u64,
    /// Photos not yet uploaded.
    pub photos: u64,
    /// Read receipts not yet sent.
    pub receipts: u64,
}

/// Chat with the care team.
pub struct Chat<'a> {
    pub(crate) nara: &'a Nara,
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut s = String::with_capacity(64);
    for b in digest.as_ref() {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl Chat<'_> {
    fn files(&self) -> PhotoFiles {
        PhotoFiles::new(self.nara.store.dir())
    }

    fn publish_thread(&self, thread_id: &str) {
        self.nara.observers.publish(Change::ChatChanged {
            thread_id: thread_id.to_owned(),
        });
        self.nara.observers.publish(Change::ThreadsChanged);
    }

    /// Stores a thread from the region (sync). A stale update (older `updated_at`) is
    /// ignored. Returns whether anything changed.
    pub fn upsert_thread(&self, thread: Thread) -> Result<bool, NaraError> {
        let changed = self
            .nara
            .store
            .write(|tx, k| repo::upsert_thread(tx, k, &thread))?;
        if changed {
            self.publish_thread(&thread.id);
        }
        Ok(changed)
    }

    /// One thread.
    pub fn thread(&self, thread_id: &str) -> Result<Option<Thread>, NaraError> {
        Ok(self.nara.store.read(|c, k| repo::thread(c, k, thread_id))?)
    }

    /// Every thread with its unread count and newest message, the most recently active
    /// first (a thread without messages by the region's last change).
    pub fn threads(&self) -> Result<Vec<ThreadSummary>, NaraError> {
        let mut out = self.nara.store.read(|c, k| {
            repo::threads(c, k)?
                .into_iter()
                .map(|thread| {
                    let unread = repo::unread(c, k, &thread.id)?;
                    let (last, _) = repo::page(c, k, &thread.id, None, 1)?;
                    let last = last.into_iter().next().map(|(_, m)| m);
                    Ok(ThreadSummary {
                        unread,
                        last_message_at: last.as_ref().map(|m| m.written_at),
                        last_preview: last
                            .filter(|m| !m.text.is_empty())
                            .map(|m| m.text.chars().take(PREVIEW_CHARS).collect()),
                        thread,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })?;
        out.sort_by_key(|s| std::cmp::Reverse(s.last_message_at.unwrap_or(s.thread.updated_at)));
        Ok(out)
    }

    /// Writes a message to the care unit, offline: validates it, strips metadata from
    /// JPEG photos (location included) before anything is stored, seals the photos into
    /// `files/`, and stores the message, its photos and their outbox rows in one durable
    /// transaction. The thread must exist and be open.
    ///
    /// Errors: [`NaraError::Chat`] with [`ChatError`] (empty, too long, photo too large
    /// or not an image, thread closed or unknown); none names the text.
    pub fn compose(&self, mut new: NewMessage) -> Result<Message, NaraError> {
        if new.photos.len() > chat::MAX_PHOTOS_PER_MESSAGE {
            return Err(ChatError::TooManyPhotos {
                max: chat::MAX_PHOTOS_PER_MESSAGE,
            }
            .into());
        }
        // Strip first: the size limit applies to what is stored and sent. Metadata is at
        // most a few hundred kB, so a file of twice the limit is refused unread.
        for (index, p) in new.photos.iter_mut().enumerate() {
            if p.bytes.len() > 2 * chat::MAX_PHOTO_BYTES {
                return Err(ChatError::PhotoTooLarge {
                    index,
                    max_mb: chat::MAX_PHOTO_BYTES / (1024 * 1024),
                }
                .into());
            }
            if chat::image_type(&p.bytes) == Some("image/jpeg") {
                p.bytes =
                    strip_jpeg_metadata(&p.bytes).ok_or(ChatError::UnsupportedPhoto { index })?;
            }
        }
        let text = chat::validate(&new)?;
        // Fail early (the transaction checks again): a closed thread writes no files.
        self.check_open(&new.thread_id)?;
        let now = self.nara.now();
        let mut photos = Vec::with_capacity(new.photos.len());
        for (index, p) in new.photos.into_iter().enumerate() {
            let kind = chat::image_type(&p.bytes).ok_or(ChatError::UnsupportedPhoto { index })?;
            let bytes = p.bytes;
            let id = uuid::Builder::from_random_bytes(self.nara.store.random16()?)
                .into_uuid()
                .to_string();
            photos.push((
                Photo {
                    id,
                    content_type: kind.to_owned(),
                    size: bytes.len() as u64,
                    sha256: sha256_hex(&bytes),
                    local: true,
                },
                bytes,
            ));
        }
        let message = Message {
            id: MessageId::from_random_bytes(self.nara.store.random16()?).to_string(),
            thread_id: new.thread_id,
            author: chat::Author::Patient,
            text,
            photos: photos.iter().map(|(p, _)| p.clone()).collect(),
            written_at: now,
            delivery: Some(DeliveryState::Queued),
            read_at: None,
            in_reply_to: new.in_reply_to,
        };
        let files = self.files();
        let cipher = self.nara.store.cipher();
        let written = (|| {
            let mut rows = Vec::with_capacity(photos.len());
            for (p, bytes) in &photos {
                let stored = files.write(cipher, &p.id, bytes)?;
                rows.push(PhotoRow {
                    photo: p.clone(),
                    stored_size: Some(stored),
                });
            }
            self.nara.store.write(|tx, k| {
                match repo::thread(tx, k, &message.thread_id)? {
                    None => return Err(NaraError::Chat(ChatError::NoSuchThread)),
                    Some(t) if t.closed.is_some() => {
                        return Err(NaraError::Chat(ChatError::ThreadClosed));
                    }
                    Some(_) => {}
                }
                if !repo::insert_own(tx, k, &message, &rows)? {
                    return Err(NaraError::Duplicate);
                }
                Ok(())
            })
        })();
        if let Err(e) = written {
            for (p, _) in &photos {
                // Best effort: a file left behind is removed by `sweep_files`.
                let _ = files.remove(cipher, &p.id);
            }
            return Err(e);
        }
        self.publish_thread(&message.thread_id);
        Ok(message)
    }

    fn check_open(&self, thread_id: &str) -> Result<(), NaraError> {
        match self.thread(thread_id)? {
            None => Err(ChatError::NoSuchThread.into()),
            Some(t) if t.closed.is_some() => Err(ChatError::ThreadClosed.into()),
            Some(_) => Ok(()),
        }
    }

    /// The id of the message in local row `seq` (sync: outbox keys are rows).
    pub fn message_id_of_row(&self, seq: i64) -> Result<Option<String>, NaraError> {
        Ok(self
            .nara
            .store
            .read(|c, _| repo::message_id_of_row(c, seq))?)
    }

    /// One message by id.
    pub fn message(&self, id: &str) -> Result<Option<Message>, NaraError> {
        Ok(self.nara.store.read(|c, k| repo::message(c, k, id))?)
    }

    /// A page of a thread, newest first: the newest `limit` messages (at most
    /// [`MAX_PAGE`]) for `before = None`, then the ones older than the returned cursor.
    pub fn page(
        &self,
        thread_id: &str,
        before: Option<Cursor>,
        limit: usize,
    ) -> Result<Page, NaraError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (rows, more) = self
            .nara
            .store
            .read(|c, k| repo::page(c, k, thread_id, before.map(|b| b.0), limit))?;
        let next = if more {
            rows.last().map(|(seq, _)| Cursor(*seq))
        } else {
            None
        };
        Ok(Page {
            messages: rows.into_iter().map(|(_, m)| m).collect(),
            next,
        })
    }

    /// Unread messages from the unit in a thread.
    pub fn unread(&self, thread_id: &str) -> Result<u64, NaraError> {
        Ok(self.nara.store.read(|c, k| repo::unread(c, k, thread_id))?)
    }

    /// Unread messages from the unit in every thread (the app badge).
    pub fn unread_total(&self) -> Result<u64, NaraError> {
        Ok(self.nara.store.read(|c, _| repo::unread_total(c))?)
    }

    /// The patient has seen the thread up to message `up_to` (the newest one shown):
    /// marks the unit's messages up to it read and queues a read receipt for each, in one
    /// transaction (offline too). Returns how many were newly marked.
    pub fn mark_read(&self, thread_id: &str, up_to: &str) -> Result<u64, NaraError> {
        let now = self.nara.now();
        let marked = self
            .nara
            .store
            .write(|tx, k| repo::mark_read(tx, k, thread_id, up_to, now))?
            .ok_or(NaraError::NotFound)?;
        if marked > 0 {
            self.publish_thread(thread_id);
        }
        Ok(marked)
    }

    /// Stores a message downloaded from the region (sync). Idempotent: a message already
    /// stored is not duplicated; its delivery state only advances.
    pub fn store_incoming(&self, message: Message) -> Result<Incoming, NaraError> {
        let outcome = self
            .nara
            .store
            .write(|tx, k| repo::insert_incoming(tx, k, &message))?;
        if outcome != Incoming::Unchanged {
            self.publish_thread(&message.thread_id);
        }
        Ok(outcome)
    }

    /// Moves the delivery state of one of the patient's messages forward (sync): a late
    /// or repeated update never moves it back. Returns whether it changed;
    /// [`NaraError::NotFound`] if there is no such message of the patient's.
    pub fn set_delivery(&self, message_id: &str, state: DeliveryState) -> Result<bool, NaraError> {
        let (thread_id, changed) = self
            .nara
            .store
            .write(|tx, k| repo::set_delivery(tx, k, message_id, state))?
            .ok_or(NaraError::NotFound)?;
        if changed {
            self.nara
                .observers
                .publish(Change::ChatChanged { thread_id });
        }
        Ok(changed)
    }

    /// Chat changes due for upload now, up to `limit` of each kind (sync): photos first,
    /// then messages whose photos are all uploaded, then read receipts. The sync engine
    /// settles each with `store::outbox` under its entity (`photo`, `message`,
    /// `receipt`) and key.
    pub fn due_uploads(&self, limit: usize) -> Result<Vec<ChatUpload>, NaraError> {
        let now = self.nara.now().as_second();
        Ok(self
            .nara
            .store
            .read(|c, k| repo::due_uploads(c, k, now, limit))?)
    }

    /// Stores a page of downloaded messages in one transaction (sync); see
    /// [`Chat::store_incoming`]. Returns what happened to each, in order.
    pub fn store_incoming_all(&self, messages: &[Message]) -> Result<Vec<Incoming>, NaraError> {
        let outcomes = self.nara.store.write(|tx, k| {
            messages
                .iter()
                .map(|m| repo::insert_incoming(tx, k, m))
                .collect::<Result<Vec<_>, StoreError>>()
        })?;
        let mut threads: Vec<&str> = messages
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| **o != Incoming::Unchanged)
            .map(|(m, _)| m.thread_id.as_str())
            .collect();
        threads.sort_unstable();
        threads.dedup();
        for t in threads {
            self.nara.observers.publish(Change::ChatChanged {
                thread_id: t.to_owned(),
            });
        }
        if outcomes.iter().any(|o| *o != Incoming::Unchanged) {
            self.nara.observers.publish(Change::ThreadsChanged);
        }
        Ok(outcomes)
    }

    /// What chat still has to upload.
    pub fn pending(&self) -> Result<ChatPending, NaraError> {
        let (messages, photos, receipts) = self.nara.store.read(|c, _| repo::pending(c))?;
        Ok(ChatPending {
            messages,
            photos,
            receipts,
        })
    }

    /// A photo's bytes, opened, or `None` if they are not on the device (a downloaded
    /// photo not fetched yet or evicted: the sync engine fetches it). Counts as a use for
    /// the cache's least-recently-used order.
    pub fn photo_bytes(&self, photo_id: &str) -> Result<Option<Vec<u8>>, NaraError> {
        let Some((photo, _own)) = self.nara.store.read(|c, k| repo::photo(c, k, photo_id))? else {
            return Ok(None);
        };
        if !photo.local {
            return Ok(None);
        }
        let Some(bytes) = self.files().read(self.nara.store.cipher(), photo_id)? else {
            // The row says stored but the file is gone: fetch again.
            self.nara
                .store
                .write(|tx, _| repo::set_photo_stored(tx, photo_id, None))?;
            return Ok(None);
        };
        self.nara
            .store
            .write(|tx, _| repo::touch_photo(tx, photo_id))?;
        Ok(Some(bytes.to_vec()))
    }

    /// A photo's metadata, and whether it was attached on this device.
    pub fn photo(&self, photo_id: &str) -> Result<Option<(Photo, bool)>, NaraError> {
        Ok(self.nara.store.read(|c, k| repo::photo(c, k, photo_id))?)
    }

    /// Caches the downloaded bytes of a photo whose metadata came with its message
    /// (sync, lazily). The bytes must match the metadata's SHA-256. Then evicts the least
    /// recently used downloaded photos beyond the budget. [`NaraError::NotFound`] for an
    /// unknown photo.
    pub fn store_photo_bytes(&self, photo_id: &str, bytes: &[u8]) -> Result<(), NaraError> {
        let (photo, _) = self.photo(photo_id)?.ok_or(NaraError::NotFound)?;
        if sha256_hex(bytes) != photo.sha256 {
            return Err(NaraError::Store(StoreError::Unauthentic));
        }
        let stored = self
            .files()
            .write(self.nara.store.cipher(), photo_id, bytes)?;
        self.nara.store.write(|tx, _| {
            repo::set_photo_stored(tx, photo_id, Some(stored))?;
            repo::touch_photo(tx, photo_id)
        })?;
        self.enforce_budget()?;
        Ok(())
    }

    /// The budget for downloaded photos, in bytes of sealed files.
    pub fn photo_budget(&self) -> Result<u64, NaraError> {
        Ok(self
            .nara
            .store
            .read(|c, _| repo::photo_budget(c))?
            .unwrap_or(DEFAULT_PHOTO_BUDGET))
    }

    /// Sets the budget for downloaded photos and evicts down to it. Photos the patient
    /// attached are never evicted and do not count.
    pub fn set_photo_budget(&self, bytes: u64) -> Result<(), NaraError> {
        self.nara
            .store
            .write(|tx, _| repo::set_photo_budget(tx, bytes))?;
        self.enforce_budget()?;
        Ok(())
    }

    /// Bytes of downloaded photos cached now.
    pub fn cached_photo_bytes(&self) -> Result<u64, NaraError> {
        let cached = self.nara.store.read(|c, _| repo::cached_remote_photos(c))?;
        Ok(cached.iter().map(|(_, s)| s).sum())
    }

    /// Evicts the least recently used downloaded photos until the rest fit the budget.
    /// Returns how many were evicted. Their metadata stays; the bytes can be fetched
    /// again.
    pub fn enforce_budget(&self) -> Result<usize, NaraError> {
        let budget = self.photo_budget()?;
        let cached = self.nara.store.read(|c, _| repo::cached_remote_photos(c))?;
        let mut total: u64 = cached.iter().map(|(_, s)| s).sum();
        let mut evict = Vec::new();
        for (id, size) in cached {
            if total <= budget {
                break;
            }
            total -= size;
            evict.push(id);
        }
        if evict.is_empty() {
            return Ok(0);
        }
        self.nara.store.write(|tx, _| {
            for id in &evict {
                repo::set_photo_stored(tx, id, None)?;
            }
            Ok::<_, StoreError>(())
        })?;
        let files = self.files();
        for id in &evict {
            files.remove(self.nara.store.cipher(), id)?;
        }
        Ok(evict.len())
    }

    /// Removes photo files that no row refers to (left by a crash between writing the
    /// file and committing its message) and that were last written at least `min_age`
    /// ago (younger ones may belong to a write in progress in another process). The
    /// store does this on open with [`ORPHAN_GRACE`]. Returns how many were removed.
    pub fn sweep_files(&self, min_age: std::time::Duration) -> Result<usize, NaraError> {
        let keep = self.nara.store.read(|c, _| repo::stored_photo_ids(c))?;
        Ok(self
            .files()
            .sweep(self.nara.store.cipher(), &keep, min_age)?)
    }
}

/// How old an unreferenced photo file must be before opening the store removes it.
pub const ORPHAN_GRACE: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Application segments kept in a JPEG: none carries location or device data.
fn keep_segment(marker: u8, contents: &[u8]) -> bool {
    match marker {
        // JFIF / JFXX: density and an optional thumbnail of the same picture.
        markers::APP0 => contents.starts_with(b"JFIF\0") || contents.starts_with(b"JFXX\0"),
        // ICC colour profile (needed to show colours right); MPF and others dropped.
        markers::APP2 => contents.starts_with(b"ICC_PROFILE\0"),
        // Adobe: the colour transform of CMYK/YCCK images.
        markers::APP14 => contents.starts_with(b"Adobe"),
        // Exif (location, device, time), XMP, Photoshop/IPTC, maker data.
        m if (markers::APP0..=markers::APP15).contains(&m) => false,
        markers::COM => false,
        _ => true,
    }
}

/// Strips metadata from a JPEG without re-encoding: drops Exif (with its GPS IFD), XMP,
/// IPTC, comments and every other application segment except JFIF, the ICC profile and
/// Adobe's colour transform; drops whatever follows the image's end (MPF secondary images
/// and their own Exif, appended data). The image data is kept byte for byte. `None` if
/// the bytes are not a well-formed JPEG (the caller refuses the photo: an image that
/// cannot be stripped is never stored).
///
/// The segments before the first scan are handled by `img-parts`. It keeps the rest of
/// the file (later scans of a progressive image, the end marker and anything after it)
/// as one opaque block, so [`tail_end`] walks that block's markers to find where the
/// image ends and which application segments sit between scans.
///
/// One thing of Exif is kept: the orientation (so a photo taken upright is shown
/// upright at the clinic), written back as a new Exif segment holding that tag alone.
pub fn strip_jpeg_metadata(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut jpeg = Jpeg::from_bytes(Bytes::copy_from_slice(bytes)).ok()?;
    let orientation = jpeg.exif().and_then(|tiff| orientation(&tiff));
    jpeg.segments_mut()
        .retain(|s| keep_segment(s.marker(), s.contents()));
    if let Some(o) = orientation {
        jpeg.set_exif(Some(Bytes::from(orientation_only(o)?)));
    }
    let sos = jpeg.segments().last()?;
    if sos.marker() != markers::SOS || !sos.has_entropy() {
        return None;
    }
    let head_len: usize = 2 + jpeg.segments().iter().map(|s| s.len()).sum::<usize>();
    let encoded = jpeg.encoder().bytes();
    let (head, tail) = encoded.split_at_checked(head_len)?;
    let (end, drop) = tail_end(tail)?;
    let mut out = Vec::with_capacity(head.len() + end);
    out.extend_from_slice(head);
    let mut at = 0;
    for (from, to) in drop {
        out.extend_from_slice(tail.get(at..from)?);
        at = to;
    }
    out.extend_from_slice(tail.get(at..end)?);
    Some(out)
}

/// The Exif orientation (2 to 8; 1, the default, is `None`) of a TIFF Exif payload.
fn orientation(tiff: &[u8]) -> Option<u16> {
    let exif = exif::Reader::new().read_raw(tiff.to_vec()).ok()?;
    let field = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)?;
    let o = u16::try_from(field.value.get_uint(0)?).ok()?;
    (2..=8).contains(&o).then_some(o)
}

/// A TIFF Exif payload with the orientation tag alone.
fn orientation_only(o: u16) -> Option<Vec<u8>> {
    let field = exif::Field {
        tag: exif::Tag::Orientation,
        ifd_num: exif::In::PRIMARY,
        value: exif::Value::Short(vec![o]),
    };
    let mut writer = exif::experimental::Writer::new();
    writer.push_field(&field);
    let mut out = std::io::Cursor::new(Vec::new());
    writer.write(&mut out, false).ok()?;
    Some(out.into_inner())
}

/// In the block after the first scan header: the offset just past the image's end marker,
/// and the ranges of application and comment segments between scans. `None` if the
/// block ends without an end marker (a truncated image).
fn tail_end(tail: &[u8]) -> Option<(usize, Vec<(usize, usize)>)> {
    let mut drop = Vec::new();
    let mut i = 0;
    loop {
        // Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte), a restart
        // marker, or fill 0xFF; anything else is the next marker.
        let marker = loop {
            let b = *tail.get(i)?;
            if b != 0xFF {
                i += 1;
                continue;
            }
            let m = *tail.get(i + 1)?;
            match m {
                0x00 | markers::RST0..=markers::RST7 => i += 2,
                0xFF => i += 1,
                m => break m,
            }
        };
        if marker == markers::EOI {
            return Some((i + 2, drop));
        }
        let len = usize::from(u16::from_be_bytes([*tail.get(i + 2)?, *tail.get(i + 3)?]));
        let next = i.checked_add(2 + len)?;
        if next > tail.len() || len < 2 {
            return None;
        }
        if (markers::APP0..=markers::APP15).contains(&marker) || marker == markers::COM {
            drop.push((i, next));
        }
        i = next;
    }
}

#[cfg(test)]
mod tests {
    use img_parts::ImageEXIF;

    use super::*;

    /// A structurally complete baseline JPEG (not decodable pixels: the tests check
    /// segments, not pictures) with `scan` as its entropy-coded data.
    pub(crate) fn jpeg_with(scan: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend_from_slice(&[0xFF, 0xE0, 0, 16]);
        v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        v.extend_from_slice(&[0xFF, 0xDB, 0, 67, 0]);
        v.extend_from_slice(&[1u8; 64]);
        v.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        v.extend_from_slice(&[0xFF, 0xC4, 0, 20, 0, 1]);
        v.extend_from_slice(&[0u8; 15]);
        v.push(0);
        v.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]);
        v.extend_from_slice(scan);
        v.extend_from_slice(&[0xFF, 0xD9]);
        v
    }

    #[test]
    fn exif_comments_and_trailing_images_go_and_the_scan_stays() {
        let scan = b"scan-data\xFF\x00more\xFF\xD0end";
        let mut jpeg = Jpeg::from_bytes(Bytes::from(jpeg_with(scan))).expect("parses");
        jpeg.set_exif(Some(Bytes::from_static(b"MM\0*\0\0\0\x08GPS-secret")));
        jpeg.segments_mut().insert(
            1,
            img_parts::jpeg::JpegSegment::new_with_contents(
                markers::COM,
                Bytes::from_static(b"comment-secret"),
            ),
        );
        let mut with = jpeg.encoder().bytes().to_vec();
        // A second image appended after the end marker, with its own Exif (as MPF does).
        with.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 12]);
        with.extend_from_slice(b"Exif\0\0GPS2");
        with.extend_from_slice(&[0xFF, 0xD9]);

        let out = strip_jpeg_metadata(&with).expect("strips");
        let has = |needle: &[u8]| out.windows(needle.len()).any(|w| w == needle);
        assert!(!has(b"GPS"), "Exif left in");
        assert!(!has(b"Exif"));
        assert!(!has(b"comment-secret"));
        assert!(has(scan), "the scan must be kept byte for byte");
        assert!(out.ends_with(&[0xFF, 0xD9]));
        assert_eq!(out, jpeg_with(scan), "exactly the image without metadata");
    }

    #[test]
    fn the_orientation_is_kept_alone() {
        let fields = [
            exif::Field {
                tag: exif::Tag::Orientation,
                ifd_num: exif::In::PRIMARY,
                value: exif::Value::Short(vec![6]),
            },
            exif::Field {
                tag: exif::Tag::Make,
                ifd_num: exif::In::PRIMARY,
                value: exif::Value::Ascii(vec![b"PhoneMaker".to_vec()]),
            },
            exif::Field {
                tag: exif::Tag::GPSLatitudeRef,
                ifd_num: exif::In::PRIMARY,
                value: exif::Value::Ascii(vec![b"N".to_vec()]),
            },
            exif::Field {
                tag: exif::Tag::GPSLatitude,
                ifd_num: exif::In::PRIMARY,
                value: exif::Value::Rational(vec![
                    (59, 1).into(),
                    (19, 1).into(),
                    (4567, 100).into(),
                ]),
            },
        ];
        let mut writer = exif::experimental::Writer::new();
        for f in &fields {
            writer.push_field(f);
        }
        let mut tiff = std::io::Cursor::new(Vec::new());
        writer.write(&mut tiff, false).expect("tiff");
        let mut jpeg = Jpeg::from_bytes(Bytes::from(jpeg_with(b"scan"))).expect("parses");
        jpeg.set_exif(Some(Bytes::from(tiff.into_inner())));
        let with = jpeg.encoder().bytes().to_vec();
        assert!(with.windows(10).any(|w| w == b"PhoneMaker"));

        let out = strip_jpeg_metadata(&with).expect("strips");
        let parsed = Jpeg::from_bytes(Bytes::from(out.clone())).expect("parses");
        let exif = exif::Reader::new()
            .read_raw(parsed.exif().expect("orientation kept").to_vec())
            .expect("valid Exif");
        let tags: Vec<exif::Tag> = exif.fields().map(|f| f.tag).collect();
        assert_eq!(tags, vec![exif::Tag::Orientation]);
        assert_eq!(orientation(&parsed.exif().expect("exif")), Some(6));
        assert!(!out.windows(10).any(|w| w == b"PhoneMaker"));
        assert!(out.windows(4).any(|w| w == b"scan"));
    }

    #[test]
    fn truncated_or_foreign_bytes_are_refused() {
        let full = jpeg_with(b"abc");
        assert!(strip_jpeg_metadata(&full[..full.len() - 2]).is_none());
        assert!(strip_jpeg_metadata(b"\x89PNG\r\n\x1a\n").is_none());
        assert!(strip_jpeg_metadata(&[0xFF, 0xD8, 0xFF]).is_none());
    }

    #[test]
    fn segments_between_progressive_scans_are_walked() {
        // scan 1, a DHT, an APP1 between scans, scan 2, end.
        let mut scan = b"first".to_vec();
        scan.extend_from_slice(&[0xFF, 0xC4, 0, 4, 0xFF, 0xD9]);
        scan.extend_from_slice(&[0xFF, 0xE1, 0, 6]);
        scan.extend_from_slice(b"GPS!");
        scan.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]);
        scan.extend_from_slice(b"second");
        let out = strip_jpeg_metadata(&jpeg_with(&scan)).expect("strips");
        assert!(!out.windows(4).any(|w| w == b"GPS!"));
        assert!(out.windows(6).any(|w| w == b"second"), "second scan kept");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let mut b = vec![0xFF, 0xD8];
            b.extend(bytes);
            let _ = strip_jpeg_metadata(&b);
        }
    }
}
