//! Chat with the care team against the real test region: messages composed offline
//! (one with a photo) reach the server once each, the nurse answers, the patient reads
//! the answer, the region sees the receipt, and the patient sees "read" on their own
//! message once the nurse has read it.

use std::time::Duration;

use nara_core::Nara;
use nara_core::domain::chat::{Author, DeliveryState, NewMessage, NewPhoto};
use nara_core::sync::engine::SyncError;
use nara_tests::chat_run::jpeg;
use nara_tests::region::{Region, direct_client, fhir_json, region, resources, sync_finished};
use serde_json::Value;

/// Latitude 59° 19' 45.67" as Exif stores it (three big-endian rationals).
const LATITUDE: [u8; 24] = [
    0, 0, 0, 59, 0, 0, 0, 1, 0, 0, 0, 19, 0, 0, 0, 1, 0, 0, 0x11, 0xD7, 0, 0, 0, 100,
];

/// A phone photo: [`jpeg`] with an APP1 Exif segment whose GPS IFD holds
/// [`LATITUDE`].
fn jpeg_with_gps(marker: &[u8]) -> Vec<u8> {
    let mut tiff = b"MM\0\x2A\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&[0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 2]);
    tiff.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 56]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    tiff.extend_from_slice(&LATITUDE);
    let mut app1 = vec![0xFF, 0xE1];
    let len = u16::try_from(2 + 6 + tiff.len()).expect("small");
    app1.extend_from_slice(&len.to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    let plain = jpeg(marker);
    // After SOI and the 18-byte APP0 (JFIF).
    [&plain[..20], &app1[..], &plain[20..]].concat()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The photo's bytes as the region's server holds them.
async fn binary_on_server(region: &Region, photo_id: &str) -> Vec<u8> {
    let binary = fhir_json(
        &direct_client(),
        format!("{}/Binary/{photo_id}", region.fhir_direct_url),
    )
    .await;
    let data = binary["data"].as_str().expect("base64 data");
    nara_core::sync::fhir::communication::base64_decode(data).expect("valid base64")
}

async fn communications(region: &Region, client_id: &str) -> Vec<Value> {
    let url = format!(
        "{}/Communication?identifier=urn:ietf:rfc:3986|urn:uuid:{client_id}",
        region.fhir_direct_url
    );
    resources(&fhir_json(&direct_client(), url).await)
}

async fn sync(nara: &Nara) {
    sync_finished(nara, Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_messages_reach_the_nurse_once_and_both_sides_see_what_was_read() {
    let region = region();
    let patient = "cecilia-1";
    let thread_id = format!("chat-{}", uuid_like());
    region.nurse(&[
        "thread",
        patient,
        &thread_id,
        "--title",
        "Frågor om blodtryck",
        "--unit",
        "Hjärtmottagningen Luleå",
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (nara, _) = region.phone(dir.path(), "chat", "cecilia").await;
    sync(&nara).await;
    assert!(
        nara.chat().thread(&thread_id).expect("reads").is_some(),
        "the thread arrived"
    );

    // Offline: three messages, one with a photo.
    let mut sent = Vec::new();
    for (i, text) in [
        "Hej! Jag har frågor.",
        "Blodtrycket var högt i morse.",
        "Här är en bild på mätaren.",
    ]
    .iter()
    .enumerate()
    {
        let photos = if i == 2 {
            let phone_photo = jpeg_with_gps(b"PHOTO-MARKER");
            assert!(contains(&phone_photo, &LATITUDE) && contains(&phone_photo, b"Exif"));
            vec![NewPhoto {
                content_type: "image/jpeg".into(),
                bytes: jpeg_with_gps(b"PHOTO-MARKER"),
            }]
        } else {
            vec![]
        };
        let message = nara
            .chat()
            .compose(NewMessage {
                thread_id: thread_id.clone(),
                text: (*text).to_owned(),
                photos,
                in_reply_to: None,
            })
            .expect("composed offline");
        assert_eq!(message.delivery, Some(DeliveryState::Queued));
        sent.push(message);
    }
    sync(&nara).await;
    for message in &sent {
        let found = communications(region, &message.id).await;
        assert_eq!(found.len(), 1, "message {} once on the server", message.id);
        let here = nara
            .chat()
            .message(&message.id)
            .expect("reads")
            .expect("kept");
        assert_eq!(here.delivery, Some(DeliveryState::Sent));
    }
    let with_photo = &communications(region, &sent[2].id).await[0];
    let attachment = &with_photo["payload"]
        .as_array()
        .expect("payload")
        .iter()
        .find(|p| p.get("contentAttachment").is_some())
        .expect("the photo is attached")["contentAttachment"];
    assert_eq!(attachment["contentType"], "image/jpeg");
    // The region got the picture, and no location: metadata was stripped on the phone.
    let uploaded = binary_on_server(region, &sent[2].photos[0].id).await;
    assert!(
        contains(&uploaded, b"PHOTO-MARKER"),
        "the image data arrived"
    );
    assert!(
        !contains(&uploaded, &LATITUDE),
        "no GPS coordinates on the server"
    );
    assert!(
        !contains(&uploaded, b"Exif"),
        "no Exif segment on the server"
    );

    // The nurse reads the first message and answers it.
    region.nurse(&["read", patient, &sent[0].id]);
    let nurse_photo = jpeg(b"NURSE-PHOTO");
    let photo_file = dir.path().join("instruktion.jpg");
    std::fs::write(&photo_file, &nurse_photo).expect("writes");
    region.nurse(&[
        "reply",
        patient,
        &thread_id,
        "Hej Cecilia, vi ringer dig i eftermiddag.",
        "--photo",
        photo_file.to_str().expect("utf-8 path"),
    ]);
    sync(&nara).await;
    let first = nara
        .chat()
        .message(&sent[0].id)
        .expect("reads")
        .expect("kept");
    assert_eq!(
        first.delivery,
        Some(DeliveryState::Read),
        "the patient sees 'read'"
    );
    let page = nara.chat().page(&thread_id, None, 50).expect("page");
    let reply = page
        .messages
        .iter()
        .find(|m| m.author == Author::CareUnit)
        .expect("the reply arrived")
        .clone();
    assert_eq!(nara.chat().unread(&thread_id).expect("unread"), 1);
    // The unit's photo is fetched only when opened, then cached.
    let photo = reply.photos.first().expect("the reply has a photo");
    assert!(!photo.local, "not downloaded with the message");
    assert_eq!(nara.chat().photo_bytes(&photo.id).expect("reads"), None);
    let fetched = nara.region().fetch_photo(&photo.id).await.expect("fetches");
    assert_eq!(fetched.as_deref(), Some(nurse_photo.as_slice()));
    assert_eq!(
        nara.chat()
            .photo_bytes(&photo.id)
            .expect("reads")
            .as_deref(),
        Some(nurse_photo.as_slice()),
        "cached, sealed, on the phone"
    );

    // The patient reads it; the receipt reaches the region once.
    nara.chat()
        .mark_read(&thread_id, &reply.id)
        .expect("marked");
    assert_eq!(nara.chat().unread(&thread_id).expect("unread"), 0);
    sync(&nara).await;
    sync(&nara).await;
    let listing = region.nurse(&["messages", patient, &thread_id]);
    assert!(
        listing.to_lowercase().contains("read"),
        "the region lists the patient's receipt: {listing}"
    );
    assert_eq!(nara.pending_uploads().expect("counts"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_carries_only_an_opaque_id_and_the_sync_it_starts_fetches_the_reply() {
    let region = region();
    // Its own patient: the other test in this file writes to cecilia's threads at the
    // same time, and the reports below count every thread.
    let patient = "bertil-1";
    let thread_id = format!("push-{}", uuid_like());
    region.nurse(&[
        "thread",
        patient,
        &thread_id,
        "--title",
        "Push",
        "--unit",
        "Vårdcentralen Kiruna",
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (nara, _) = region.phone(dir.path(), "push", "bertil").await;
    sync(&nara).await;
    let unit_messages = |nara: &Nara| {
        nara.chat()
            .page(&thread_id, None, 50)
            .expect("page")
            .messages
            .iter()
            .filter(|m| m.author == Author::CareUnit)
            .count()
    };
    assert_eq!(unit_messages(&nara), 0);
    region.nurse(&["reply", patient, &thread_id, "Provsvaren är klara."]);

    // A shell that passes the whole notification instead of its id is told so, and
    // nothing is fetched on its behalf.
    let whole = r#"{"aps":{"alert":"Nytt meddelande"},"nara":"4f1c9e"}"#;
    let refused = nara
        .region()
        .sync_for_push(whole, Duration::from_secs(60), |_| {})
        .await;
    assert!(matches!(refused, Err(SyncError::BadPush)), "{refused:?}");
    assert_eq!(unit_messages(&nara), 0);

    // The opaque id, while another sync is running: the push waits for that sync and
    // then syncs again, instead of failing with Busy.
    let running = nara.region();
    let pushed = nara.region();
    let (a, b) = tokio::join!(
        running.sync_now(Duration::from_secs(60), |_| {}),
        pushed.sync_for_push("msg-4f1c9e:2", Duration::from_secs(60), |_| {}),
    );
    let (a, b) = (a.expect("the running sync"), b.expect("the push sync"));
    assert!(a.finished && b.finished, "{a:?} {b:?}");
    assert_eq!(unit_messages(&nara), 1, "the reply arrived");
    assert_eq!(
        a.messages_received + b.messages_received,
        1,
        "stored once, counted once: {a:?} {b:?}"
    );
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos:x}")
}
