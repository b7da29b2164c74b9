//! Chat in the fault stories (`tests/faults.rs`, `tests/kill_sync.rs`): the care
//! team's side (a thread and replies written by the nurse simulator), a run's messages
//! and photos, and the exactly-once check of messages, photos and read receipts on the
//! FHIR server, read directly.
//!
//! A run's photos come from a small pool ([`photo_pool`]): several messages carry
//! byte-identical photos, so an upload that de-duplicated by content (one `Binary` for
//! two photos, or one photo referenced by two messages) shows in the check. Every photo
//! of the pool carries the run's tag inside its image data, so the check also finds the
//! run's `Binary`s without knowing their ids.
//!
//! Nothing here inspects the core's store beyond its public API.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::process::Command;
use std::time::Duration;

use jiff::Timestamp;
use nara_core::Nara;
use nara_core::domain::chat::{Author, Message, NewMessage, NewPhoto};
use nara_core::sync::fhir::communication::base64_decode;
use serde_json::Value;
use url::Url;

use crate::SplitMix64;
use crate::fault_proxy::{check_client, get_json, next_link};
use crate::region::{sync_finished, workspace_root};

const URI: &str = "urn:ietf:rfc:3986";
const RECEIPT_SID: &str = "https://nara.se/fhir/read-receipt";
const CATEGORY: &str = "https://nara.se/fhir/CodeSystem/communication-category";

/// Runs the care-team simulator (`tests/region/nurse`) against the FHIR server at
/// `direct_url`; returns its stdout. Panics with its stderr if it fails.
pub fn nurse(direct_url: &str, args: &[&str]) -> String {
    let out = Command::new(workspace_root().join("tests/region/nurse"))
        .args(args)
        .env("NARA_FHIR_DIRECT_URL", direct_url)
        .output()
        .expect("the nurse simulator runs");
    assert!(
        out.status.success(),
        "nurse {} failed: {}",
        args.first().copied().unwrap_or_default(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A thread id for a run: unique per run (also when a seed is replayed), a valid FHIR
/// id.
pub fn run_thread_id(story: &str, seed: u64) -> String {
    format!(
        "{story}-{seed:x}-{:x}",
        Timestamp::now().as_nanosecond() as u64
    )
}

/// The care unit opens thread `thread_id` for `patient` and writes `replies` messages
/// in it (the patient's later read receipts answer them).
pub fn open_thread(direct_url: &str, patient: &str, thread_id: &str, replies: u64) {
    nurse(
        direct_url,
        &[
            "thread",
            patient,
            thread_id,
            "--title",
            "Frågor under mätperioden",
            "--unit",
            "Hjärtmottagningen Luleå",
        ],
    );
    for r in 0..replies {
        nurse(
            direct_url,
            &[
                "reply",
                patient,
                thread_id,
                &format!("Hej! Svar nummer {r} från mottagningen."),
            ],
        );
    }
}

/// The thread as the region serves it, stored in `nara` as the sync would store it
/// (`thread_from_fhir`, `upsert_thread`): so a store can compose in it before its first
/// finished sync.
pub async fn store_thread_from_server(nara: &Nara, direct_url: &str, patient: &str, id: &str) {
    let http = check_client();
    let v = get_json(&http, &format!("{direct_url}/CommunicationRequest/{id}")).await;
    let patient = nara_core::sync::fhir::PatientId::new(patient.to_owned())
        .unwrap_or_else(|_| panic!("a patient id"));
    let thread = nara_core::sync::fhir::communication::thread_from_fhir(&v, &patient)
        .unwrap_or_else(|e| panic!("the thread reads: {e:?}"));
    nara.chat().upsert_thread(thread).expect("stored");
}

/// The head of a minimal baseline JPEG up to its scan data: SOI, the 18-byte JFIF APP0
/// (so a segment inserted at byte 20 follows it), one quantisation table, a 1×1 frame
/// and the scan header.
fn jpeg_head() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
    v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    v.extend_from_slice(&[0xFF, 0xDB, 0, 67, 0]);
    v.extend_from_slice(&[1u8; 64]);
    v.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
    v.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]);
    v
}

/// A small structurally complete JPEG (one 1×1 scan) with `marker` as its scan data.
pub fn jpeg(marker: &[u8]) -> Vec<u8> {
    let mut v = jpeg_head();
    v.extend_from_slice(marker);
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

/// A structurally valid baseline JPEG of about `len` bytes whose scan data holds
/// `marker` and filler drawn from `rng` (never `0xFF`, so no marker is formed).
pub fn photo_jpeg(rng: &mut SplitMix64, marker: &str, len: usize) -> Vec<u8> {
    let mut v = jpeg_head();
    v.extend_from_slice(marker.as_bytes());
    while v.len() + 2 < len {
        v.push(rng.below_or_eq(0xFE) as u8);
    }
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

/// The marker inside every photo of the run tagged `tag`.
pub fn photo_marker(tag: &str) -> String {
    format!("nara-photo {tag}")
}

/// `n` distinct photos of 2–6 KB for the run tagged `tag` (the same for the same
/// seed: a killed and restarted worker draws from the same pool).
pub fn photo_pool(tag: &str, seed: u64, n: usize) -> Vec<Vec<u8>> {
    let mut rng = SplitMix64::new(seed ^ 0x9407_0F07);
    (0..n)
        .map(|k| {
            let len = 2048 + rng.below_or_eq(4096) as usize;
            photo_jpeg(&mut rng, &format!("{} #{k}", photo_marker(tag)), len)
        })
        .collect()
}

/// Message `i` of a run in `thread_id`: text with the run's tag (sometimes none: a
/// photo-only message), 0 to 2 photos from `pool` (about 40 % with a photo; the same
/// pool photo may appear in several messages and twice in one), sometimes an answer to
/// one of `unit_messages`.
pub fn run_message(
    rng: &mut SplitMix64,
    tag: &str,
    thread_id: &str,
    i: u64,
    pool: &[Vec<u8>],
    unit_messages: &[String],
) -> NewMessage {
    let photos = match rng.below_or_eq(9) {
        0..=5 => 0,
        6..=8 => 1,
        _ => 2,
    };
    let photos: Vec<NewPhoto> = (0..photos)
        .map(|_| NewPhoto {
            content_type: "image/jpeg".into(),
            bytes: pool[rng.below_or_eq(pool.len() as u64 - 1) as usize].clone(),
        })
        .collect();
    let words = [
        "Blodtrycket var högt i morse.",
        "Jag har tagit medicinen.",
        "Här är en bild.",
        "Benen är svullna i dag.",
        "Tack för svaret!",
    ];
    let text = if !photos.is_empty() && rng.below_or_eq(4) == 0 {
        String::new()
    } else {
        format!(
            "{tag} #{i}: {}",
            words[rng.below_or_eq(words.len() as u64 - 1) as usize]
        )
    };
    let in_reply_to = if !unit_messages.is_empty() && rng.below_or_eq(3) == 0 {
        Some(unit_messages[rng.below_or_eq(unit_messages.len() as u64 - 1) as usize].clone())
    } else {
        None
    };
    NewMessage {
        thread_id: thread_id.to_owned(),
        text,
        photos,
        in_reply_to,
    }
}

/// Every message of `thread_id` in the store, oldest first.
pub fn local_messages(nara: &Nara, thread_id: &str) -> Vec<Message> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let page = nara.chat().page(thread_id, before, 200).expect("a page");
        out.extend(page.messages);
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    out.reverse();
    out
}

/// The care unit opens thread `thread_id` for `patient` with `replies` messages of its
/// own ([`open_thread`]); the phone fetches it in one sync within `budget`, which must
/// finish. Returns the ids of the unit's messages on the phone, oldest first.
pub async fn fetch_unit_thread(
    nara: &Nara,
    direct_url: &str,
    patient: &str,
    thread_id: &str,
    replies: u64,
    budget: Duration,
) -> Vec<String> {
    open_thread(direct_url, patient, thread_id, replies);
    sync_finished(nara, budget).await;
    local_messages(nara, thread_id)
        .into_iter()
        .filter(|m| m.author == Author::CareUnit)
        .map(|m| m.id)
        .collect()
}

/// What the server must hold for a run's thread: the patient's messages (the store's
/// own messages, with their photos' bytes) and the unit messages the patient read.
#[derive(Debug, Default)]
pub struct ExpectedChat {
    /// The patient's messages, as stored.
    pub messages: Vec<Message>,
    /// Every photo of those messages: id → bytes (from the store).
    pub photo_bytes: HashMap<String, Vec<u8>>,
    /// The region ids of the unit messages read on the phone: one receipt each.
    pub read: Vec<String>,
    /// How many unit messages the nurse wrote in the thread.
    pub unit_messages: usize,
}

impl ExpectedChat {
    /// Collects what the store `nara` holds for `thread_id`.
    pub fn from_store(nara: &Nara, thread_id: &str) -> Self {
        let all = local_messages(nara, thread_id);
        let mut expected = ExpectedChat::default();
        for m in all {
            match m.author {
                Author::Patient => {
                    for p in &m.photos {
                        let bytes = nara
                            .chat()
                            .photo_bytes(&p.id)
                            .expect("reads")
                            .unwrap_or_else(|| panic!("own photo {} is on the phone", p.id));
                        expected.photo_bytes.insert(p.id.clone(), bytes);
                    }
                    expected.messages.push(m);
                }
                Author::CareUnit => {
                    expected.unit_messages += 1;
                    if m.read_at.is_some() {
                        expected.read.push(m.id.clone());
                    }
                }
            }
        }
        expected
    }

    /// Photos in all (a photo attached twice to one message counts twice).
    pub fn photos(&self) -> usize {
        self.messages.iter().map(|m| m.photos.len()).sum()
    }
}

/// The result of [`check_chat`]: counts, and every problem found (ids only, no text).
#[derive(Debug, Default)]
pub struct ChatCheck {
    /// Patient messages expected / found exactly once.
    pub messages: usize,
    /// Photos expected (distinct ids).
    pub photos: usize,
    /// Read receipts expected.
    pub receipts: usize,
    /// Messages on the server 0 times.
    pub lost_messages: Vec<String>,
    /// Messages on the server more than once (id, copies).
    pub duplicated_messages: Vec<(String, usize)>,
    /// Photos with no `Binary`.
    pub lost_photos: Vec<String>,
    /// Receipts on the server 0 times.
    pub lost_receipts: Vec<String>,
    /// Receipts on the server more than once (message read, copies).
    pub duplicated_receipts: Vec<(String, usize)>,
    /// Anything else that is wrong: a photo referenced by the wrong message or not
    /// exactly once, wrong bytes or owner, a changed text, resources not of this run.
    pub problems: Vec<String>,
    /// The run's `Binary`s found by their marker (must be exactly the photos).
    pub binaries_of_run: usize,
}

impl ChatCheck {
    /// True if nothing is lost, duplicated or wrong.
    pub fn ok(&self) -> bool {
        self.lost_messages.is_empty()
            && self.duplicated_messages.is_empty()
            && self.lost_photos.is_empty()
            && self.lost_receipts.is_empty()
            && self.duplicated_receipts.is_empty()
            && self.problems.is_empty()
    }
}

impl fmt::Display for ChatCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chat on the server: {} messages (lost {}, duplicated {}), {} photos (lost {}; \
             {} Binaries of the run), {} read receipts (lost {}, duplicated {}), {} other problems",
            self.messages,
            self.lost_messages.len(),
            self.duplicated_messages.len(),
            self.photos,
            self.lost_photos.len(),
            self.binaries_of_run,
            self.receipts,
            self.lost_receipts.len(),
            self.duplicated_receipts.len(),
            self.problems.len()
        )
    }
}

async fn search_all(http: &reqwest::Client, first: Url) -> Vec<Value> {
    let mut next = Some(first.to_string());
    let mut out = Vec::new();
    while let Some(url) = next.take() {
        let bundle = get_json(http, &url).await;
        out.extend(
            bundle["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["resource"].clone()),
        );
        next = next_link(&bundle);
    }
    out
}

fn identifier(v: &Value, system: &str) -> Option<String> {
    v["identifier"]
        .as_array()?
        .iter()
        .find(|i| i["system"] == system)?["value"]
        .as_str()
        .map(str::to_owned)
}

fn category(v: &Value) -> Option<&str> {
    v["category"]
        .as_array()?
        .iter()
        .flat_map(|c| c["coding"].as_array().into_iter().flatten())
        .find(|c| c["system"] == CATEGORY)?["code"]
        .as_str()
}

fn attachment_urls(v: &Value) -> Vec<String> {
    v["payload"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["contentAttachment"]["url"].as_str().map(str::to_owned))
        .collect()
}

fn text_of(v: &Value) -> String {
    let parts: Vec<&str> = v["payload"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["contentString"].as_str())
        .collect();
    parts.join("\n\n")
}

/// Checks the server (read directly at `direct_url`, no token) against `expected`:
/// every Communication based on `thread_id`, every photo's `Binary`, and every `Binary`
/// of `patient` last updated since `since` that carries the run's photo marker (from
/// `tag`).
///
/// - each of the patient's messages exactly once (by its client-id identifier), with
///   its text and exactly its photos' `Binary/<id>` references, in order;
/// - each photo's `Binary` present, with the photo's bytes, content type and the patient
///   as `securityContext`, referenced by exactly one attachment in the thread: its own
///   message's;
/// - each read receipt exactly once (by its identifier), and no other receipt;
/// - the unit's messages untouched (as many as the nurse wrote), and nothing else in
///   the thread: no Communication of the patient's that is not one of `expected`;
/// - the run's `Binary`s (found by the marker) are exactly the photos.
pub async fn check_chat(
    direct_url: &str,
    patient: &str,
    thread_id: &str,
    tag: &str,
    since: Timestamp,
    expected: &ExpectedChat,
) -> ChatCheck {
    let http = check_client();
    let mut check = ChatCheck {
        messages: expected.messages.len(),
        photos: expected.photo_bytes.len(),
        receipts: expected.read.len(),
        ..ChatCheck::default()
    };
    let mut url = Url::parse(&format!("{direct_url}/Communication"))
        .unwrap_or_else(|e| panic!("the direct URL parses: {e}"));
    url.query_pairs_mut()
        .append_pair("based-on", &format!("CommunicationRequest/{thread_id}"))
        .append_pair("_count", "200");
    let all = search_all(&http, url).await;
    let me = format!("Patient/{patient}");

    let mut own: HashMap<String, Vec<&Value>> = HashMap::new();
    let mut receipts: HashMap<String, usize> = HashMap::new();
    let mut unit = 0usize;
    for c in all.iter().filter(|c| c["resourceType"] == "Communication") {
        let from_patient = c["sender"]["reference"] == me.as_str();
        match (category(c), from_patient) {
            (Some("read-receipt"), true) => {
                let value =
                    identifier(c, RECEIPT_SID).unwrap_or_else(|| "(no identifier)".to_owned());
                *receipts.entry(value).or_default() += 1;
            }
            (Some("read-receipt"), false) => check
                .problems
                .push(format!("a receipt of the unit's: {}", c["id"])),
            (_, true) => {
                let value = identifier(c, URI).unwrap_or_else(|| "(no identifier)".to_owned());
                own.entry(value).or_default().push(c);
            }
            (_, false) => unit += 1,
        }
    }
    if unit != expected.unit_messages {
        check.problems.push(format!(
            "{unit} unit messages on the server, {} on the phone",
            expected.unit_messages
        ));
    }

    // Messages, and who references each photo.
    let mut referenced_by: HashMap<String, Vec<String>> = HashMap::new();
    for c in own.values().flatten() {
        let who = identifier(c, URI).unwrap_or_default();
        for url in attachment_urls(c) {
            let id = url.strip_prefix("Binary/").unwrap_or(&url).to_owned();
            referenced_by.entry(id).or_default().push(who.clone());
        }
    }
    let mine: HashSet<String> = expected
        .messages
        .iter()
        .map(|m| format!("urn:uuid:{}", m.id))
        .collect();
    for m in &expected.messages {
        let value = format!("urn:uuid:{}", m.id);
        let copies = own.get(&value).map_or(&[][..], Vec::as_slice);
        match copies.len() {
            0 => {
                check.lost_messages.push(m.id.clone());
                continue;
            }
            1 => {}
            n => check.duplicated_messages.push((m.id.clone(), n)),
        }
        let c = copies[0];
        if text_of(c) != m.text {
            check
                .problems
                .push(format!("message {}: the text differs", m.id));
        }
        let urls = attachment_urls(c);
        let wanted: Vec<String> = m
            .photos
            .iter()
            .map(|p| format!("Binary/{}", p.id))
            .collect();
        if urls != wanted {
            check.problems.push(format!(
                "message {}: attachments {urls:?}, want {wanted:?}",
                m.id
            ));
        }
        for p in &m.photos {
            let refs = referenced_by.get(&p.id).map_or(&[][..], Vec::as_slice);
            if refs.len() != 1 || refs[0] != value {
                check.problems.push(format!(
                    "photo {} of message {} is referenced by {refs:?}",
                    p.id, m.id
                ));
            }
        }
    }
    for value in own.keys().filter(|v| !mine.contains(*v)) {
        check
            .problems
            .push(format!("not ours: a message of the patient's {value}"));
    }

    // Photos: one Binary each, the bytes of the phone, the patient's.
    for (id, bytes) in &expected.photo_bytes {
        let response = http
            .get(format!("{direct_url}/Binary/{id}"))
            .header("Accept", "application/fhir+json")
            .send()
            .await
            .unwrap_or_else(|e| panic!("the FHIR server answers: {e}"));
        if response.status().as_u16() == 404 || response.status().as_u16() == 410 {
            check.lost_photos.push(id.clone());
            continue;
        }
        let binary: Value = response.json().await.expect("a Binary");
        let data = binary["data"].as_str().and_then(base64_decode);
        if data.as_deref() != Some(bytes.as_slice()) {
            check
                .problems
                .push(format!("Binary/{id}: not the photo's bytes"));
        }
        if binary["contentType"] != "image/jpeg" {
            check.problems.push(format!("Binary/{id}: content type"));
        }
        if binary["securityContext"]["reference"] != me.as_str() {
            check.problems.push(format!("Binary/{id}: securityContext"));
        }
    }

    // The run's Binaries, found by the marker in their data: exactly the photos.
    let marker = photo_marker(tag);
    let mut url = Url::parse(&format!("{direct_url}/Binary"))
        .unwrap_or_else(|e| panic!("the direct URL parses: {e}"));
    url.query_pairs_mut()
        .append_pair("_lastUpdated", &format!("ge{since}"))
        .append_pair("_count", "200");
    let mut of_run: BTreeMap<String, usize> = BTreeMap::new();
    for b in search_all(&http, url).await {
        let ours = b["data"]
            .as_str()
            .and_then(base64_decode)
            .is_some_and(|d| d.windows(marker.len()).any(|w| w == marker.as_bytes()));
        if ours {
            *of_run
                .entry(b["id"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
    }
    check.binaries_of_run = of_run.len();
    for (id, n) in &of_run {
        if !expected.photo_bytes.contains_key(id) {
            check.problems.push(format!("not ours: Binary/{id}"));
        } else if *n > 1 {
            check
                .problems
                .push(format!("Binary/{id} found {n} times in the search"));
        }
    }

    // Receipts: one per unit message read, nothing else.
    let read: HashSet<String> = expected
        .read
        .iter()
        .map(|id| format!("Communication/{id}"))
        .collect();
    for value in &read {
        match receipts.get(value).copied().unwrap_or(0) {
            0 => check.lost_receipts.push(value.clone()),
            1 => {}
            n => check.duplicated_receipts.push((value.clone(), n)),
        }
    }
    for value in receipts.keys().filter(|v| !read.contains(*v)) {
        check
            .problems
            .push(format!("not ours: a receipt for {value}"));
    }
    check
}
