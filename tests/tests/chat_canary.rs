//! Story: a patient writes to the care unit and attaches a photo; neither the message
//! text nor the photo's bytes can be read anywhere in the data directory (database, WAL,
//! shared memory, photo files), while the store is open and after it is closed, and a
//! logout leaves no photo file behind.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use nara_core::domain::chat::{Author, Message, NewMessage, NewPhoto, Thread};
use nara_core::store::files::FILES_DIR;
use nara_core::{FileKeyProvider, Nara};

const TEXT_MARKER: &str = "canary-chat-5d1e ont i bröstet";
const REPLY_MARKER: &str = "canary-reply-88b0 ring 1177";
const PHOTO_MARKER: &[u8] = b"canary-photo-c4f7-pixels";
const GPS_MARKER: &[u8] = b"canary-gps-59.3293N";

/// A JPEG's structure with the marker as its image data and an Exif segment carrying a
/// location-like marker.
fn photo() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    let exif = [b"Exif\0\0MM\0*\0\0\0\x08".as_slice(), GPS_MARKER].concat();
    v.extend_from_slice(&[0xFF, 0xE1]);
    v.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    v.extend_from_slice(&exif);
    v.extend_from_slice(&[0xFF, 0xDB, 0, 67, 0]);
    v.extend_from_slice(&[1u8; 64]);
    v.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
    v.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]);
    v.extend_from_slice(PHOTO_MARKER);
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

fn markers() -> Vec<Vec<u8>> {
    vec![
        TEXT_MARKER.as_bytes().to_vec(),
        "canary-chat-5d1e".as_bytes().to_vec(),
        REPLY_MARKER.as_bytes().to_vec(),
        PHOTO_MARKER.to_vec(),
        GPS_MARKER.to_vec(),
        b"Hj\xc3\xa4rtmottagningen Canary".to_vec(),
    ]
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn hits(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).expect("read file");
        for m in markers() {
            if bytes.windows(m.len()).any(|w| w == m.as_slice()) {
                found.push((file.clone(), String::from_utf8_lossy(&m).into_owned()));
            }
        }
    }
    found
}

#[test]
fn chat_text_and_photos_are_never_plaintext_on_disk() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");
    let key = tmp.path().join("kek");
    let nara = Nara::open(&dir, Arc::new(FileKeyProvider::new(&key))).expect("open");
    let chat = nara.chat();
    chat.upsert_thread(Thread {
        id: "thread-1".into(),
        title: "Frågor".into(),
        unit_name: "Hjärtmottagningen Canary".into(),
        expected_reply: None,
        notice: None,
        closed: None,
        updated_at: Timestamp::now(),
    })
    .expect("thread");
    let sent = chat
        .compose(NewMessage {
            thread_id: "thread-1".into(),
            text: TEXT_MARKER.into(),
            photos: vec![NewPhoto {
                content_type: "image/jpeg".into(),
                bytes: photo(),
            }],
            in_reply_to: None,
        })
        .expect("compose");
    chat.store_incoming(Message {
        id: "unit-1".into(),
        thread_id: "thread-1".into(),
        author: Author::CareUnit,
        text: REPLY_MARKER.into(),
        photos: vec![],
        written_at: Timestamp::now(),
        delivery: None,
        read_at: None,
        in_reply_to: Some(sent.id.clone()),
    })
    .expect("reply");
    chat.mark_read("thread-1", "unit-1").expect("read");

    // The stored photo has its image data and no location.
    let stored = chat
        .photo_bytes(&sent.photos[0].id)
        .expect("photo")
        .expect("local");
    assert!(
        stored
            .windows(PHOTO_MARKER.len())
            .any(|w| w == PHOTO_MARKER)
    );
    assert!(!stored.windows(GPS_MARKER.len()).any(|w| w == GPS_MARKER));

    // The scan can see the files it must check.
    assert!(
        dir.join("nara.db-wal").exists(),
        "expected a WAL while open"
    );
    assert_eq!(
        std::fs::read_dir(dir.join(FILES_DIR))
            .expect("files dir")
            .count(),
        1,
        "expected one photo file"
    );
    assert_eq!(hits(&dir), vec![], "plaintext on disk while open");

    drop(nara);
    assert_eq!(hits(&dir), vec![], "plaintext on disk after close");

    let nara = Nara::open(&dir, Arc::new(FileKeyProvider::new(&key))).expect("reopen");
    let page = nara.chat().page("thread-1", None, 10).expect("page");
    assert_eq!(page.messages.len(), 2);
    assert_eq!(page.messages[1].text, TEXT_MARKER);
    nara.wipe().expect("wipe");
    assert!(
        !dir.join(FILES_DIR).exists(),
        "photo files left after logout"
    );
    if dir.exists() {
        assert_eq!(hits(&dir), vec![], "plaintext left after wipe");
    }
}
