//! Stories about chat on the device: composing offline, photos without location,
//! paging, unread counts and receipts, what sync brings in, a closed thread, the photo
//! cache.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use img_parts::ImageEXIF;
use img_parts::jpeg::{Jpeg, markers};
use jiff::{SignedDuration, Timestamp};
use nara_core::chat::{Cursor, DEFAULT_PHOTO_BUDGET, ORPHAN_GRACE};
use nara_core::domain::chat::{
    Author, ChatError, DeliveryState, MAX_PHOTO_BYTES, Message, NewMessage, NewPhoto, Photo,
    Thread, ThreadClosed,
};
use nara_core::domain::text::LocalizedText;
use nara_core::store::chat::Incoming;
use nara_core::store::files::FILES_DIR;
use nara_core::{Change, FileKeyProvider, Nara, NaraError, Next};
use rusqlite::Connection;

struct Fixture {
    _data: tempfile::TempDir,
    _keys: tempfile::TempDir,
    nara: Nara,
}

fn open() -> Fixture {
    let data = tempfile::tempdir().expect("dir");
    let keys = tempfile::tempdir().expect("dir");
    let nara = Nara::open(
        data.path(),
        Arc::new(FileKeyProvider::new(keys.path().join("device.key"))),
    )
    .expect("open");
    Fixture {
        _data: data,
        _keys: keys,
        nara,
    }
}

fn thread(id: &str) -> Thread {
    Thread {
        id: id.into(),
        title: "Frågor om blodtryck".into(),
        unit_name: "Hjärtmottagningen Södersjukhuset".into(),
        expected_reply: Some(LocalizedText::new(
            "Vi svarar inom två vardagar",
            "We reply within two working days",
        )),
        notice: Some(LocalizedText::new(
            "Inte för akuta ärenden: ring 112 eller 1177",
            "Not for emergencies: call 112 or 1177",
        )),
        closed: None,
        updated_at: "2026-11-01T08:00:00Z".parse().expect("time"),
    }
}

fn text(thread_id: &str, t: &str) -> NewMessage {
    NewMessage {
        thread_id: thread_id.into(),
        text: t.into(),
        photos: vec![],
        in_reply_to: None,
    }
}

fn from_unit(id: &str, thread_id: &str, t: &str) -> Message {
    Message {
        id: id.into(),
        thread_id: thread_id.into(),
        author: Author::CareUnit,
        text: t.into(),
        photos: vec![],
        written_at: Timestamp::now(),
        delivery: None,
        read_at: None,
        in_reply_to: None,
    }
}

/// A baseline JPEG's structure with `scan` as its entropy-coded data.
fn jpeg_with(scan: &[u8]) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
    v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    v.extend_from_slice(&[0xFF, 0xDB, 0, 67, 0]);
    v.extend_from_slice(&[1u8; 64]);
    v.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
    v.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]);
    v.extend_from_slice(scan);
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

/// The latitude 59° 19' 45.67" as three big-endian rationals, as Exif stores it.
const LATITUDE: [u8; 24] = [
    0, 0, 0, 59, 0, 0, 0, 1, 0, 0, 0, 19, 0, 0, 0, 1, 0, 0, 0x11, 0xD7, 0, 0, 0, 100,
];

/// A TIFF (Exif payload) whose IFD0 points to a GPS IFD with GPSLatitudeRef "N" and
/// GPSLatitude.
fn exif_with_gps() -> Vec<u8> {
    let mut t = b"MM\0\x2A\0\0\0\x08".to_vec();
    // IFD0: one entry, GPSInfo (0x8825), LONG, 1, offset 26.
    t.extend_from_slice(&[0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    // GPS IFD at 26: GPSLatitudeRef ASCII "N"; GPSLatitude 3 RATIONAL at 56.
    t.extend_from_slice(&[0, 2]);
    t.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    t.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 56]);
    t.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(t.len(), 56);
    t.extend_from_slice(&LATITUDE);
    t
}

/// A phone photo: JPEG with Exif GPS, and `scan` as the image data.
fn photo_with_gps(scan: &[u8]) -> Vec<u8> {
    let mut jpeg = Jpeg::from_bytes(Bytes::from(jpeg_with(scan))).expect("jpeg");
    jpeg.set_exif(Some(Bytes::from(exif_with_gps())));
    jpeg.encoder().bytes().to_vec()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn outbox(dir: &std::path::Path) -> Vec<(String, i64)> {
    let c = Connection::open(dir.join("nara.db")).expect("db");
    c.prepare("SELECT entity, entity_seq FROM outbox ORDER BY entity, entity_seq")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join(FILES_DIR)).map_or(0, |d| d.count())
}

#[test]
fn a_message_with_a_photo_written_offline_is_queued_with_its_photo() {
    let f = open();
    let chat = f.nara.chat();
    chat.upsert_thread(thread("t1")).expect("thread");
    let scan = b"image-data-of-a-swollen-ankle";
    let sent = chat
        .compose(NewMessage {
            photos: vec![NewPhoto {
                content_type: "image/jpeg".into(),
                bytes: photo_with_gps(scan),
            }],
            ..text("t1", "  Foten är svullen sedan i går, se bild.  ")
        })
        .expect("compose");
    assert_eq!(sent.text, "Foten är svullen sedan i går, se bild.");
    assert_eq!(sent.delivery, Some(DeliveryState::Queued));
    assert_eq!(sent.photos.len(), 1);
    assert!(sent.photos[0].local);
    assert_eq!(sent.photos[0].content_type, "image/jpeg");

    // One message row and one photo row in the outbox, nothing else.
    assert_eq!(
        outbox(f._data.path()),
        vec![("message".to_owned(), 1), ("photo".to_owned(), 1)]
    );
    let pending = chat.pending().expect("pending");
    assert_eq!(
        (pending.messages, pending.photos, pending.receipts),
        (1, 1, 0)
    );
    assert_eq!(f.nara.pending_uploads().expect("pending"), 2);

    // Read back: the message and the photo's bytes (stripped, the image kept).
    let back = chat.message(&sent.id).expect("get").expect("stored");
    assert_eq!(back, sent);
    let bytes = chat
        .photo_bytes(&sent.photos[0].id)
        .expect("photo")
        .expect("local");
    assert!(contains(&bytes, scan));
    assert_eq!(bytes.len() as u64, sent.photos[0].size);
    assert_eq!(files(f._data.path()), 1);
}

#[test]
fn a_photo_with_a_gps_location_is_stored_without_any_exif() {
    let f = open();
    let chat = f.nara.chat();
    chat.upsert_thread(thread("t1")).expect("thread");
    let original = photo_with_gps(b"pixels");
    assert!(
        contains(&original, &LATITUDE),
        "the test photo has a location"
    );
    assert!(contains(&original, b"Exif\0\0"));

    let sent = chat
        .compose(NewMessage {
            photos: vec![NewPhoto {
                content_type: "image/jpeg".into(),
                bytes: original.clone(),
            }],
            ..text("t1", "")
        })
        .expect("a photo alone is a message");
    let stored = chat
        .photo_bytes(&sent.photos[0].id)
        .expect("photo")
        .expect("local");
    assert!(!contains(&stored, &LATITUDE), "GPS latitude survived");
    assert!(!contains(&stored, b"Exif"), "Exif survived");
    let parsed = Jpeg::from_bytes(Bytes::from(stored.clone())).expect("still a JPEG");
    assert!(parsed.exif().is_none());
    assert_eq!(parsed.segments_by_marker(markers::APP1).count(), 0);
    assert!(contains(&stored, b"pixels"), "image data kept");
    assert!(stored.len() < original.len());
}

#[test]
fn wrong_photos_and_texts_get_typed_errors_that_name_no_text() {
    let f = open();
    let chat = f.nara.chat();
    chat.upsert_thread(thread("t1")).expect("thread");
    let secret = "Jag har ont i bröstet och är rädd";

    let gif = NewPhoto {
        content_type: "image/jpeg".into(),
        bytes: b"GIF89a-not-allowed".to_vec(),
    };
    let err = chat
        .compose(NewMessage {
            photos: vec![gif],
            ..text("t1", secret)
        })
        .expect_err("a GIF is refused");
    assert!(matches!(
        err,
        NaraError::Chat(ChatError::UnsupportedPhoto { index: 0 })
    ));
    assert!(!format!("{err} {err:?}").contains(secret));

    let huge = jpeg_with(&vec![7u8; MAX_PHOTO_BYTES]);
    let err = chat
        .compose(NewMessage {
            photos: vec![NewPhoto {
                content_type: "image/jpeg".into(),
                bytes: huge,
            }],
            ..text("t1", secret)
        })
        .expect_err("too large");
    assert!(matches!(
        err,
        NaraError::Chat(ChatError::PhotoTooLarge { index: 0, .. })
    ));
    assert!(!format!("{err} {err:?}").contains(secret));

    // Over the limit only by what stripping removes (here an appended second image):
    // accepted, and stored small.
    let mut padded = jpeg_with(b"small");
    padded.extend_from_slice(&[0xFF, 0xD8]);
    padded.resize(MAX_PHOTO_BYTES + 10, 0);
    let ok = chat
        .compose(NewMessage {
            photos: vec![NewPhoto {
                content_type: "image/jpeg".into(),
                bytes: padded,
            }],
            ..text("t1", "")
        })
        .expect("fits once stripped");
    assert_eq!(ok.photos[0].size, jpeg_with(b"small").len() as u64);

    // A truncated JPEG cannot be stripped, so it is refused rather than stored as is.
    let truncated = photo_with_gps(b"pixels");
    let err = chat
        .compose(NewMessage {
            photos: vec![NewPhoto {
                content_type: "image/jpeg".into(),
                bytes: truncated[..truncated.len() - 2].to_vec(),
            }],
            ..text("t1", secret)
        })
        .expect_err("truncated");
    assert!(matches!(
        err,
        NaraError::Chat(ChatError::UnsupportedPhoto { index: 0 })
    ));

    let long = "å".repeat(4001);
    let err = chat.compose(text("t1", &long)).expect_err("too long");
    assert!(matches!(err, NaraError::Chat(ChatError::TooLong { .. })));
    assert!(!format!("{err} {err:?}").contains("ååå"));

    assert!(matches!(
        chat.compose(text("no-such-thread", "hej")),
        Err(NaraError::Chat(ChatError::NoSuchThread))
    ));
    // Nothing else was stored or queued, and no file was left behind.
    assert_eq!(
        outbox(f._data.path()),
        vec![("message".to_owned(), 1), ("photo".to_owned(), 1)]
    );
    assert_eq!(files(f._data.path()), 1);

    // PNG and HEIC pass through byte for byte; the declared type is not trusted.
    let png = [
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
        b"png-body",
    ]
    .concat();
    let heic = [&[0, 0, 0, 24][..], b"ftypheic", &[0, 0, 0, 0], b"heic-body"].concat();
    let sent = chat
        .compose(NewMessage {
            photos: vec![
                NewPhoto {
                    content_type: "image/jpeg".into(),
                    bytes: png.clone(),
                },
                NewPhoto {
                    content_type: "application/octet-stream".into(),
                    bytes: heic.clone(),
                },
            ],
            ..text("t1", "två bilder")
        })
        .expect("compose");
    assert_eq!(sent.photos[0].content_type, "image/png");
    assert_eq!(sent.photos[1].content_type, "image/heic");
    let read = |p: &Photo| chat.photo_bytes(&p.id).expect("read").expect("local");
    assert_eq!(read(&sent.photos[0]), png);
    assert_eq!(read(&sent.photos[1]), heic);
}

#[test]
fn paging_a_long_thread_returns_every_message_once_newest_first() {
    let f = open();
    let chat = f.nara.chat();
    chat.upsert_thread(thread("long")).expect("thread");
    chat.upsert_thread(thread("other")).expect("thread");
    let mut ids = Vec::new();
    for i in 0..250 {
        let id = if i % 3 == 0 {
            chat.store_incoming(from_unit(&format!("u{i}"), "long", &format!("svar {i}")))
                .expect("incoming");
            format!("u{i}")
        } else {
            chat.compose(text("long", &format!("fråga {i}")))
                .expect("compose")
                .id
        };
        ids.push(id);
        if i % 10 == 0 {
            chat.compose(text("other", "annan tråd")).expect("other");
        }
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut before: Option<Cursor> = None;
    let mut pages = 0;
    loop {
        let page = chat.page("long", before, 40).expect("page");
        pages += 1;
        assert!(page.messages.len() <= 40);
        seen.extend(page.messages.iter().map(|m| m.id.clone()));
        match page.next {
            // A cursor survives a round trip through its textual form.
            Some(c) => before = Cursor::from_token(&c.to_token()),
            None => break,
        }
    }
    assert_eq!(pages, 7, "six full pages and one of ten");
    assert_eq!(seen, ids, "each message once, newest first");
    assert_eq!(
        chat.page("long", None, 1).expect("page").messages[0].text,
        "svar 249"
    );
}

#[test]
fn unread_counts_per_thread_and_in_total_and_reading_queues_receipts() {
    let f = open();
    let chat = f.nara.chat();
    chat.upsert_thread(thread("a")).expect("thread");
    chat.upsert_thread(thread("b")).expect("thread");
    chat.compose(text("a", "Hej, en fråga")).expect("compose");
    for i in 0..3 {
        chat.store_incoming(from_unit(&format!("a{i}"), "a", "Svar från sköterskan"))
            .expect("incoming");
    }
    chat.store_incoming(from_unit("b0", "b", "Kallelse"))
        .expect("incoming");
    assert_eq!(chat.unread("a").expect("unread"), 3);
    assert_eq!(chat.unread("b").expect("unread"), 1);
    assert_eq!(chat.unread_total().expect("total"), 4);

    let summaries = chat.threads().expect("threads");
    assert_eq!(summaries.len(), 2);
    let a = summaries.iter().find(|s| s.thread.id == "a").expect("a");
    assert_eq!(a.unread, 3);
    assert_eq!(a.last_preview.as_deref(), Some("Svar från sköterskan"));

    // Offline: the patient reads up to the second reply.
    let mut sub = f.nara.subscribe();
    assert_eq!(chat.mark_read("a", "a1").expect("read"), 2);
    assert_eq!(chat.unread("a").expect("unread"), 1);
    assert_eq!(chat.unread_total().expect("total"), 2);
    assert_eq!(chat.pending().expect("pending").receipts, 2);
    assert!(
        chat.message("a0")
            .expect("get")
            .expect("a0")
            .read_at
            .is_some()
    );
    assert_eq!(
        sub.try_next(),
        Some(Next::Change(Change::ChatChanged {
            thread_id: "a".into()
        }))
    );
    assert_eq!(sub.try_next(), Some(Next::Change(Change::ThreadsChanged)));

    // Reading again queues nothing new; the newest marks the rest.
    assert_eq!(chat.mark_read("a", "a1").expect("again"), 0);
    assert_eq!(chat.mark_read("a", "a2").expect("rest"), 1);
    assert_eq!(chat.pending().expect("pending").receipts, 3);
    assert!(matches!(
        chat.mark_read("a", "b0"),
        Err(NaraError::NotFound)
    ));
}

#[test]
fn a_message_downloaded_twice_is_stored_once() {
    let f = open();
    let chat = f.nara.chat();
    chat.upsert_thread(thread("t1")).expect("thread");
    let mut reply = from_unit("region-comm-17", "t1", "Ta en extra tablett i kväll.");
    reply.photos.push(Photo {
        id: "region-binary-4".into(),
        content_type: "image/png".into(),
        size: 10,
        sha256: "00".repeat(32),
        local: true,
    });
    assert_eq!(
        chat.store_incoming(reply.clone()).expect("first"),
        Incoming::New
    );
    assert_eq!(
        chat.store_incoming(reply.clone()).expect("again"),
        Incoming::Unchanged
    );
    let page = chat.page("t1", None, 50).expect("page");
    assert_eq!(page.messages.len(), 1);
    assert!(
        !page.messages[0].photos[0].local,
        "a downloaded photo's bytes come later"
    );
    assert_eq!(chat.photo_bytes("region-binary-4").expect("photo"), None);
    assert_eq!(chat.unread_total().expect("unread"), 1);
    assert_eq!(f.nara.pending_uploads().expect("pending"), 0);

    // Read on another device: the mark comes with the message, and no receipt is queued.
    reply.read_at = Some(Timestamp::now());
    assert_eq!(
        chat.store_incoming(reply).expect("read elsewhere"),
        Incoming::Updated
    );
    assert_eq!(chat.unread_total().expect("unread"), 0);
    assert_eq!(f.nara.pending_uploads().expect("pending"), 0);
}

#[test]
fn delivery_states_only_move_forward() {
    let f = open();
    let chat = f.nara.chat();
    chat.upsert_thread(thread("t1")).expect("thread");
    let sent = chat.compose(text("t1", "Hej")).expect("compose");
    let state = || {
        chat.message(&sent.id)
            .expect("get")
            .expect("stored")
            .delivery
    };
    assert!(
        chat.set_delivery(&sent.id, DeliveryState::Sent)
            .expect("sent")
    );
    assert!(
        chat.set_delivery(&sent.id, DeliveryState::Read)
            .expect("read")
    );
    assert!(
        !chat
            .set_delivery(&sent.id, DeliveryState::Delivered)
            .expect("late")
    );
    assert!(
        !chat
            .set_delivery(&sent.id, DeliveryState::Sent)
            .expect("late")
    );
    assert_eq!(state(), Some(DeliveryState::Read));
    // The same from a re-downloaded copy of the patient's own message.
    let mut copy = chat.message(&sent.id).expect("get").expect("stored");
    copy.delivery = Some(DeliveryState::Sent);
    assert_eq!(
        chat.store_incoming(copy).expect("copy"),
        Incoming::Unchanged
    );
    assert_eq!(state(), Some(DeliveryState::Read));
    assert!(matches!(
        chat.set_delivery("no-such-message", DeliveryState::Sent),
        Err(NaraError::NotFound)
    ));
}

#[test]
fn a_closed_thread_refuses_new_messages_and_says_why() {
    let f = open();
    let chat = f.nara.chat();
    chat.upsert_thread(thread("t1")).expect("thread");
    chat.compose(text("t1", "Före stängning"))
        .expect("open thread");
    let mut closed = thread("t1");
    closed.updated_at += SignedDuration::from_hours(1);
    closed.closed = Some(ThreadClosed {
        at: closed.updated_at,
        reason: Some(LocalizedText::new(
            "Ärendet är avslutat",
            "The case is closed",
        )),
    });
    assert!(chat.upsert_thread(closed.clone()).expect("close"));
    // A stale copy from a late download does not reopen it.
    assert!(!chat.upsert_thread(thread("t1")).expect("stale"));
    assert!(
        chat.thread("t1")
            .expect("get")
            .expect("there")
            .closed
            .is_some()
    );

    let err = chat
        .compose(NewMessage {
            photos: vec![NewPhoto {
                content_type: "image/jpeg".into(),
                bytes: photo_with_gps(b"p"),
            }],
            ..text("t1", "Efter stängning")
        })
        .expect_err("closed");
    assert!(matches!(err, NaraError::Chat(ChatError::ThreadClosed)));
    if let NaraError::Chat(e) = &err {
        assert!(e.message().sv.contains("1177"));
    }
    assert_eq!(chat.pending().expect("pending").messages, 1);
    assert_eq!(
        files(f._data.path()),
        0,
        "no photo file for a refused message"
    );
}

#[test]
fn the_photo_cache_evicts_downloaded_photos_and_keeps_the_patients_own() {
    let f = open();
    let chat = f.nara.chat();
    assert_eq!(chat.photo_budget().expect("budget"), DEFAULT_PHOTO_BUDGET);
    chat.upsert_thread(thread("t1")).expect("thread");
    let own = chat
        .compose(NewMessage {
            photos: vec![NewPhoto {
                content_type: "image/jpeg".into(),
                bytes: jpeg_with(&[7u8; 5_000]),
            }],
            ..text("t1", "min bild")
        })
        .expect("compose");
    let own_photo = own.photos[0].id.clone();

    // Three photos from the unit, 3,000 bytes each, downloaded lazily.
    let blobs: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 3_000]).collect();
    for (i, blob) in blobs.iter().enumerate() {
        let mut m = from_unit(&format!("u{i}"), "t1", "bild från mottagningen");
        let digest = ring::digest::digest(&ring::digest::SHA256, blob);
        m.photos.push(Photo {
            id: format!("bin-{i}"),
            content_type: "image/png".into(),
            size: blob.len() as u64,
            sha256: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
            local: false,
        });
        chat.store_incoming(m).expect("incoming");
    }
    assert!(matches!(
        chat.store_photo_bytes("bin-0", b"not the right bytes"),
        Err(NaraError::Store(_))
    ));
    for (i, blob) in blobs.iter().enumerate() {
        chat.store_photo_bytes(&format!("bin-{i}"), blob)
            .expect("cache");
    }
    // Use the oldest download again: now bin-1 is the least recently used.
    assert!(chat.photo_bytes("bin-0").expect("read").is_some());

    // Room for two sealed downloads (each is the bytes plus 29 bytes of sealing).
    chat.set_photo_budget(2 * 3_029).expect("budget");
    assert_eq!(chat.cached_photo_bytes().expect("cached"), 2 * 3_029);
    assert_eq!(chat.photo_bytes("bin-1").expect("read"), None, "evicted");
    assert!(chat.photo_bytes("bin-0").expect("read").is_some());
    assert!(chat.photo_bytes("bin-2").expect("read").is_some());

    // A budget of nothing evicts every download, never the patient's own photo.
    chat.set_photo_budget(0).expect("budget");
    assert_eq!(chat.cached_photo_bytes().expect("cached"), 0);
    assert!(chat.photo_bytes(&own_photo).expect("own").is_some());
    assert_eq!(files(f._data.path()), 1);
    // Evicted metadata stays, so the bytes can be fetched again.
    let (meta, is_own) = chat.photo("bin-1").expect("meta").expect("kept");
    assert!(!meta.local && !is_own);
    chat.store_photo_bytes("bin-1", &blobs[1]).expect("again");
    assert_eq!(chat.cached_photo_bytes().expect("cached"), 0, "budget 0");
}

#[test]
fn files_left_by_a_crash_are_swept_and_a_logout_removes_every_photo() {
    let f = open();
    let chat = f.nara.chat();
    chat.upsert_thread(thread("t1")).expect("thread");
    chat.compose(NewMessage {
        photos: vec![NewPhoto {
            content_type: "image/jpeg".into(),
            bytes: jpeg_with(b"keep"),
        }],
        ..text("t1", "")
    })
    .expect("compose");
    let dir = f._data.path().join(FILES_DIR);
    std::fs::write(dir.join("0123.tmp"), b"half a write").expect("orphan");
    std::fs::write(dir.join("abcd.photo"), b"never committed").expect("orphan");
    assert_eq!(chat.sweep_files(Duration::ZERO).expect("sweep"), 2);
    assert_eq!(files(f._data.path()), 1);

    // Opening the store sweeps too (a kill leaves the orphan; the next start removes
    // it), but only files older than the grace period: a young one may be another
    // process's write in progress.
    let old = dir.join("4567.tmp");
    std::fs::write(&old, b"killed mid-write").expect("orphan");
    std::fs::File::options()
        .write(true)
        .open(&old)
        .and_then(|f| f.set_modified(SystemTime::now() - ORPHAN_GRACE - Duration::from_secs(1)))
        .expect("backdated");
    let young = dir.join("89ab.tmp");
    std::fs::write(&young, b"another process writing").expect("in progress");
    let Fixture { _data, _keys, nara } = f;
    drop(nara);
    let nara = Nara::open(
        _data.path(),
        Arc::new(FileKeyProvider::new(_keys.path().join("device.key"))),
    )
    .expect("reopen");
    assert!(!old.exists(), "the orphan is gone");
    assert!(young.exists(), "a write in progress is left alone");
    std::fs::remove_file(&young).expect("tidy");
    assert_eq!(files(_data.path()), 1, "the photo is kept");
    let f = Fixture { _data, _keys, nara };

    let Fixture { _data, _keys, nara } = f;
    nara.wipe().expect("wipe");
    assert!(!dir.exists(), "photo files left after logout");
}

#[test]
fn sync_reads_photos_before_their_message_and_receipts_from_the_outbox() {
    use nara_core::store::chat::ChatUpload;
    let f = open();
    let chat = f.nara.chat();
    chat.upsert_thread(thread("t1")).expect("thread");
    let with_photo = chat
        .compose(NewMessage {
            photos: vec![NewPhoto {
                content_type: "image/jpeg".into(),
                bytes: jpeg_with(b"p"),
            }],
            ..text("t1", "med bild")
        })
        .expect("compose");
    let plain = chat.compose(text("t1", "utan bild")).expect("compose");
    let outcomes = chat
        .store_incoming_all(&[from_unit("u1", "t1", "svar"), from_unit("u1", "t1", "svar")])
        .expect("page of downloads");
    assert_eq!(outcomes, vec![Incoming::New, Incoming::Unchanged]);
    chat.mark_read("t1", "u1").expect("read");

    let due = chat.due_uploads(10).expect("due");
    let kinds: Vec<String> = due
        .iter()
        .map(|u| match u {
            ChatUpload::Photo { message_id, .. } => format!("photo of {message_id}"),
            ChatUpload::Message { message, .. } => format!("message {}", message.id),
            ChatUpload::Receipt { message, .. } => format!("receipt {}", message.id),
        })
        .collect();
    // The message with a photo waits until its photo is uploaded.
    assert_eq!(
        kinds,
        vec![
            format!("photo of {}", with_photo.id),
            format!("message {}", plain.id),
            "receipt u1".to_owned(),
        ]
    );
    if let ChatUpload::Receipt { message, .. } = &due[2] {
        assert!(message.read_at.is_some());
    }
}
