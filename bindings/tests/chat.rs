//! The chat area seen from Rust, as the shells see it: a thread provisioned as a sync
//! would, messages with photos written offline and queued, pages newest first, typed
//! errors that never repeat the text, unread counts and read marks, the photo cache
//! budget, and the listeners for the thread list and for one thread. Needs the
//! `test-hooks` feature (threads otherwise only arrive from the region); `scripts/test`
//! enables it. The same stories run in Kotlin and Swift under `tests/bindings/`, with the
//! round trip through the test region.
#![cfg(feature = "test-hooks")]

mod common;
use common::{Log, eventually};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use nara_ffi::chat::{
    Author, ChatThread, DeliveryState, MessagePage, NewChatMessage, NewChatPhoto, ThreadClosure,
    ThreadListener, ThreadSummary, ThreadsListener, chat_limits,
};
use nara_ffi::errors::{CallbackError, ChatError};
use nara_ffi::nara::Nara;
use nara_ffi::observe::StopReason;
use nara_ffi::types::LocalizedText;
use nara_tests::chat_run::jpeg;

async fn open(dir: &tempfile::TempDir) -> Arc<Nara> {
    common::open_xor(dir, 0x6b).await
}

/// A 1×1 PNG (a complete, decodable file).
const PNG: [u8; 67] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The same JPEG with a comment segment (metadata the core must strip).
fn jpeg_with_comment(marker: &[u8], comment: &[u8]) -> Vec<u8> {
    let plain = jpeg(marker);
    let mut com = vec![0xFF, 0xFE];
    com.extend_from_slice(
        &u16::try_from(comment.len() + 2)
            .expect("small")
            .to_be_bytes(),
    );
    com.extend_from_slice(comment);
    // After SOI and the 18-byte APP0 (JFIF).
    [&plain[..20], &com[..], &plain[20..]].concat()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn thread(id: &str) -> ChatThread {
    ChatThread {
        id: id.to_owned(),
        title: "Frågor om blodtryck".to_owned(),
        unit_name: "Hjärtmottagningen Luleå".to_owned(),
        expected_reply: Some(LocalizedText::new(
            "Vi svarar inom två vardagar.",
            "We reply within two working days.",
        )),
        notice: Some(LocalizedText::new(
            "Ring 112 vid nödsituation.",
            "Call 112 in an emergency.",
        )),
        closed: None,
        updated_at: SystemTime::now() - Duration::from_secs(3600),
    }
}

fn text(thread_id: &str, text: &str) -> NewChatMessage {
    NewChatMessage {
        thread_id: thread_id.to_owned(),
        text: text.to_owned(),
        photos: Vec::new(),
        in_reply_to: None,
    }
}

fn photo(bytes: Vec<u8>) -> NewChatPhoto {
    NewChatPhoto {
        content_type: "image/jpeg".to_owned(),
        bytes,
    }
}

async fn with_thread(dir: &tempfile::TempDir, id: &str) -> Arc<Nara> {
    let nara = open(dir).await;
    assert!(
        nara.chat()
            .debug_upsert_thread(thread(id))
            .await
            .expect("provisioned")
    );
    nara
}

#[tokio::test]
async fn a_message_with_photos_is_stored_offline_queued_and_stripped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = with_thread(&dir, "t-1").await;
    let chat = nara.chat();
    let listed = chat.threads().await.expect("lists");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].thread.unit_name, "Hjärtmottagningen Luleå");
    assert_eq!(listed[0].unread, 0);
    assert!(listed[0].thread.notice.is_some() && listed[0].thread.closed.is_none());

    let sent = chat
        .send(NewChatMessage {
            photos: vec![
                photo(jpeg_with_comment(b"SCAN", b"GPS-SECRET")),
                NewChatPhoto {
                    content_type: "image/png".to_owned(),
                    bytes: PNG.to_vec(),
                },
            ],
            ..text("t-1", "  Här är mätaren.\n")
        })
        .await
        .expect("stored offline");
    assert_eq!(sent.text, "Här är mätaren.", "trimmed by the core");
    assert_eq!(sent.author, Author::Patient);
    assert_eq!(sent.delivery, Some(DeliveryState::Queued));
    assert_eq!(
        sent.delivery_label.as_ref().map(|l| l.en.as_str()),
        Some("Waiting for network")
    );
    assert!(!sent.unread);
    assert_eq!(sent.photos.len(), 2);
    assert_eq!(sent.photos[0].content_type, "image/jpeg");
    assert_eq!(sent.photos[1].content_type, "image/png");
    assert!(sent.photos.iter().all(|p| p.local));

    let jpeg_back = chat
        .photo(sent.photos[0].id.clone())
        .await
        .expect("reads")
        .expect("on the device");
    assert!(contains(&jpeg_back, b"SCAN"), "the picture is kept");
    assert!(!contains(&jpeg_back, b"GPS-SECRET"), "metadata stripped");
    let png_back = chat
        .photo(sent.photos[1].id.clone())
        .await
        .expect("reads")
        .expect("on the device");
    assert_eq!(png_back, PNG.to_vec());
    assert_eq!(
        chat.photo("no-such-photo".into()).await.expect("reads"),
        None
    );

    let pending = chat.pending().await.expect("counts");
    assert_eq!((pending.messages, pending.photos), (1, 2));
    assert_eq!(nara.pending_uploads().await.expect("counts"), 3);
    let again = chat
        .message(sent.id.clone())
        .await
        .expect("reads")
        .expect("kept");
    assert_eq!(again, sent);
    let listed = chat.threads().await.expect("lists");
    assert_eq!(listed[0].last_preview.as_deref(), Some("Här är mätaren."));
    assert!(listed[0].last_message_at.is_some());
}

#[tokio::test]
async fn pages_go_newest_first_and_the_cursor_leads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = with_thread(&dir, "t-2").await;
    let chat = nara.chat();
    let mut ids = Vec::new();
    for i in 0..5 {
        let m = chat
            .send(text("t-2", &format!("meddelande {i}")))
            .await
            .expect("stored");
        ids.push(m.id);
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = chat.page("t-2".into(), cursor, 2).await.expect("pages");
        pages += 1;
        assert!(page.messages.len() <= 2);
        seen.extend(page.messages.into_iter().map(|m| m.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    ids.reverse();
    assert_eq!(seen, ids, "newest first, each once");
    assert!(matches!(
        chat.page("t-2".into(), Some("not a cursor".into()), 2)
            .await,
        Err(ChatError::InvalidCursor)
    ));
    let all = chat.page("t-2".into(), None, 0).await.expect("pages");
    assert_eq!(all.messages.len(), 1, "a limit of 0 is clamped to 1");
    assert!(chat_limits().max_page >= 50);
}

#[tokio::test]
async fn bad_messages_get_typed_errors_without_the_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = with_thread(&dir, "t-3").await;
    let chat = nara.chat();
    let limits = chat_limits();

    let err = chat.send(text("t-3", "  \n ")).await.expect_err("empty");
    let ChatError::Empty { explanation } = &err else {
        panic!("expected Empty, got {err:?}");
    };
    assert_eq!(explanation.sv, "Meddelandet är tomt");

    let secret = format!(
        "HEMLIGT {}",
        "å".repeat(usize::try_from(limits.max_chars).expect("fits"))
    );
    let err = chat.send(text("t-3", &secret)).await.expect_err("too long");
    assert!(
        matches!(err, ChatError::TooLong { max, .. } if max == limits.max_chars),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("HEMLIGT"), "no text in the error");

    assert!(matches!(
        chat.send(text("t-3", "a\u{7}b")).await,
        Err(ChatError::ControlCharacters { .. })
    ));

    let too_many = NewChatMessage {
        photos: vec![photo(jpeg(b"x")); usize::try_from(limits.max_photos).expect("fits") + 1],
        ..text("t-3", "bilder")
    };
    assert!(matches!(
        chat.send(too_many).await,
        Err(ChatError::TooManyPhotos { max, .. }) if max == limits.max_photos
    ));

    let mut big = PNG.to_vec();
    big.resize(
        usize::try_from(limits.max_photo_bytes).expect("fits") + 1,
        0,
    );
    let err = chat
        .send(NewChatMessage {
            photos: vec![photo(jpeg(b"ok")), photo(big)],
            ..text("t-3", "stor bild")
        })
        .await
        .expect_err("too large");
    let ChatError::PhotoTooLarge {
        index,
        max_mb,
        explanation,
    } = &err
    else {
        panic!("expected PhotoTooLarge, got {err:?}");
    };
    assert_eq!((*index, *max_mb), (1, 10));
    assert!(explanation.en.contains("10 MB"), "{explanation:?}");

    let err = chat
        .send(NewChatMessage {
            photos: vec![photo(b"GIF89a-not-allowed".to_vec())],
            ..text("t-3", "")
        })
        .await
        .expect_err("a GIF");
    assert!(
        matches!(err, ChatError::UnsupportedPhoto { index: 0, .. }),
        "{err:?}"
    );

    let err = chat
        .send(text("no-such-thread", "hej"))
        .await
        .expect_err("unknown thread");
    assert!(matches!(err, ChatError::NoSuchThread { .. }), "{err:?}");

    // The unit closes the thread, with a reason.
    let reason = LocalizedText::new(
        "Ärendet är avslutat. Kontakta mottagningen vid nya frågor.",
        "The matter is closed. Contact the clinic with new questions.",
    );
    chat.debug_upsert_thread(ChatThread {
        closed: Some(ThreadClosure {
            at: SystemTime::now(),
            reason: Some(reason.clone()),
        }),
        updated_at: SystemTime::now(),
        ..thread("t-3")
    })
    .await
    .expect("closed by the unit");
    let err = chat
        .send(text("t-3", "en fråga till"))
        .await
        .expect_err("closed");
    let ChatError::ThreadClosed {
        reason: given,
        explanation,
    } = &err
    else {
        panic!("expected ThreadClosed, got {err:?}");
    };
    assert_eq!(given.as_ref(), Some(&reason), "the region's reason");
    assert!(explanation.sv.contains("1177") && explanation.sv.contains("112"));

    // Nothing of the refused messages was stored.
    let page = chat.page("t-3".into(), None, 50).await.expect("pages");
    assert!(page.messages.is_empty());
    assert_eq!(nara.pending_uploads().await.expect("counts"), 0);
}

#[tokio::test]
async fn a_reply_is_unread_until_marked_read_and_a_receipt_is_queued() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = with_thread(&dir, "t-4").await;
    let chat = nara.chat();
    let own = chat.send(text("t-4", "Hej!")).await.expect("stored");
    let reply = chat
        .debug_receive(
            "t-4".into(),
            "unit-msg-1".into(),
            "Hej, vi ringer dig.".into(),
        )
        .await
        .expect("received");
    assert!(reply.unread);
    assert_eq!(reply.author, Author::CareUnit);
    assert_eq!(reply.delivery, None);
    assert_eq!(chat.unread("t-4".into()).await.expect("counts"), 1);
    assert_eq!(chat.unread_total().await.expect("counts"), 1);
    assert_eq!(chat.threads().await.expect("lists")[0].unread, 1);

    assert!(matches!(
        chat.mark_read("t-4".into(), "no-such-message".into()).await,
        Err(ChatError::NoSuchMessage)
    ));
    assert_eq!(
        chat.mark_read("t-4".into(), reply.id.clone())
            .await
            .expect("marked"),
        1
    );
    assert_eq!(chat.unread("t-4".into()).await.expect("counts"), 0);
    assert_eq!(chat.unread_total().await.expect("counts"), 0);
    let page = chat.page("t-4".into(), None, 10).await.expect("pages");
    assert_eq!(
        page.messages
            .iter()
            .map(|m| m.id.clone())
            .collect::<Vec<_>>(),
        vec![reply.id.clone(), own.id]
    );
    assert!(!page.messages[0].unread && page.messages[0].read_at.is_some());
    assert_eq!(chat.pending().await.expect("counts").receipts, 1);
}

#[tokio::test]
async fn the_photo_budget_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = open(&dir).await;
    let chat = nara.chat();
    assert_eq!(chat.photo_budget().await.expect("reads"), 100 * 1024 * 1024);
    chat.set_photo_budget(5 * 1024 * 1024).await.expect("sets");
    assert_eq!(chat.photo_budget().await.expect("reads"), 5 * 1024 * 1024);
    assert_eq!(chat.cached_photo_bytes().await.expect("reads"), 0);
    // Without a login there is nothing to fetch from; an unknown photo is simply absent.
    assert_eq!(
        chat.fetch_photo("unknown".into()).await.expect("no error"),
        None
    );
}

#[derive(Default)]
struct Recorder {
    lists: Log<Vec<ThreadSummary>>,
    pages: Log<MessagePage>,
    stopped: Log<StopReason>,
}

impl ThreadsListener for Recorder {
    fn on_threads(&self, threads: Vec<ThreadSummary>) -> Result<(), CallbackError> {
        self.lists.record(threads)
    }
    fn on_stopped(&self, reason: StopReason) -> Result<(), CallbackError> {
        self.stopped.record(reason)
    }
}

impl ThreadListener for Recorder {
    fn on_page(&self, page: MessagePage) -> Result<(), CallbackError> {
        self.pages.record(page)
    }
    fn on_stopped(&self, reason: StopReason) -> Result<(), CallbackError> {
        self.stopped.record(reason)
    }
}

#[tokio::test]
async fn watches_emit_now_and_after_a_send_and_stop_when_the_store_closes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nara = with_thread(&dir, "t-5").await;
    nara.chat()
        .debug_upsert_thread(thread("t-other"))
        .await
        .expect("provisioned");
    let chat = nara.chat();
    let threads = Arc::new(Recorder::default());
    let one = Arc::new(Recorder::default());
    let other = Arc::new(Recorder::default());
    let h1 = chat.watch_threads(threads.clone()).expect("watches");
    let h2 = chat
        .watch_thread("t-5".into(), 20, one.clone())
        .expect("watches");
    let h3 = chat
        .watch_thread("t-other".into(), 20, other.clone())
        .expect("watches");
    eventually("the first values", || {
        !threads.lists.lock().expect("lock").is_empty()
            && !one.pages.lock().expect("lock").is_empty()
            && !other.pages.lock().expect("lock").is_empty()
    })
    .await;
    assert_eq!(threads.lists.lock().expect("lock")[0].len(), 2);
    assert!(one.pages.lock().expect("lock")[0].messages.is_empty());

    let sent = chat.send(text("t-5", "Hej!")).await.expect("stored");
    eventually("the page with the message", || {
        one.pages
            .lock()
            .expect("lock")
            .last()
            .is_some_and(|p| p.messages.first().map(|m| &m.id) == Some(&sent.id))
    })
    .await;
    eventually("the thread list with the preview", || {
        threads.lists.lock().expect("lock").last().is_some_and(|l| {
            l.first().map(|s| s.thread.id.as_str()) == Some("t-5")
                && l[0].last_preview.as_deref() == Some("Hej!")
        })
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        other.pages.lock().expect("lock").len(),
        1,
        "another thread's watch stays quiet"
    );

    h3.cancel();
    nara.close_store();
    eventually("both watches stopped", || {
        threads.stopped.lock().expect("lock").as_slice() == [StopReason::Closed]
            && one.stopped.lock().expect("lock").as_slice() == [StopReason::Closed]
    })
    .await;
    assert!(other.stopped.lock().expect("lock").is_empty());
    assert!(matches!(chat.threads().await, Err(ChatError::Closed)));
    assert!(matches!(
        chat.watch_threads(threads.clone()),
        Err(ChatError::Closed)
    ));
    drop((h1, h2));
}
