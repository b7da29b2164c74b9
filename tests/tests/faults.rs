//! Story: a bad network between the phone and the region loses nothing and duplicates
//! nothing.
//!
//! The core talks to the region's FHIR front through the fault-injecting proxy
//! (`nara_tests::fault_proxy`): answers dropped after the server committed, requests
//! sent twice, delayed past the client's timeout, connections cut before or in the
//! middle of a request, 503s. A patient with many readings and a small batch size syncs
//! in short budgets until the core says it is finished; then the server (read directly)
//! must hold every reading exactly once and nothing else of this run.
//!
//! The same patient chats with a care unit in the same run: the nurse opens a thread and
//! writes a few messages; the patient writes many messages (some with photos, several
//! photos byte-identical across messages), most offline and some while the sync runs,
//! and reads some of the unit's messages (read receipts). Everything goes through the
//! same faulty network; at the end each message, each photo's `Binary` and each receipt
//! is on the server exactly once, each photo referenced by exactly its message, and
//! every message is at least "sent" on the phone.
//!
//! A third test proves the chat check can fail: it tampers with a clean run's chat on
//! the server and expects the check to report each change.
//!
//! `NARA_FAULT_READINGS` (default 1250), `NARA_FAULT_MESSAGES` (default 90) and
//! `NARA_FAULT_REPLIES` (the unit's messages, default 12) scale the run,
//! `NARA_FAULT_SEED` replays one.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use nara_core::Nara;
use nara_core::domain::chat::{Author, DeliveryState, NewMessage, NewPhoto};
use nara_core::domain::reading::ReadingId;
use nara_core::sync::engine::SyncReport;
use nara_tests::SplitMix64;
use nara_tests::chat_run::{
    ExpectedChat, check_chat, fetch_unit_thread, local_messages, photo_pool, run_message,
    run_thread_id,
};
use nara_tests::fault_proxy::{
    FaultPlan, FaultProxy, copies_on_server, dev_transport, identifier_value, proxied_phone,
    run_reading, tagged_on_server,
};
use nara_tests::region::{fhir_json, region, sync_finished};
use serde_json::{Value, json};
use url::Url;

const DEFAULT_READINGS: u64 = 1250;
const DEFAULT_MESSAGES: u64 = 90;
const DEFAULT_REPLIES: u64 = 12;
const PATIENT: &str = "bertil-1";
/// Faulted upload requests a default-size run must see (the floor per CI run;
/// the default plan and batch sizes give about one per reading).
const MIN_FAULTED_UPLOADS: u64 = 1000;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reading_reaches_the_server_exactly_once_through_a_faulty_network() {
    let region = region();
    let readings = env_u64("NARA_FAULT_READINGS").unwrap_or(DEFAULT_READINGS);
    let messages = env_u64("NARA_FAULT_MESSAGES").unwrap_or(DEFAULT_MESSAGES);
    let replies = env_u64("NARA_FAULT_REPLIES")
        .unwrap_or(DEFAULT_REPLIES)
        .max(4);
    let seed =
        env_u64("NARA_FAULT_SEED").unwrap_or_else(|| Timestamp::now().as_nanosecond() as u64);
    println!(
        "fault run: {readings} readings, {messages} chat messages, {replies} unit messages, \
         seed {seed} (replay with NARA_FAULT_SEED={seed})"
    );
    let mut rng = SplitMix64::new(seed);
    // Chat draws from its own generator: the readings of a seed stay what they were.
    let mut chat_rng = SplitMix64::new(seed ^ 0xC4A7);
    let tag = format!("fault-run {seed}");
    let since = Timestamp::now() - SignedDuration::from_secs(2);
    let started = Instant::now();

    let dir = tempfile::tempdir().expect("tempdir");
    // bertil: the other stories log in as the region's default user.
    let (proxy, nara, patient) =
        proxied_phone(region, dir.path(), "fault story", "bertil", seed ^ 0xFA17).await;
    assert_eq!(patient, PATIENT);

    // The unit opens a thread and writes; the phone fetches it (faults still off).
    let thread_id = run_thread_id("fault", seed);
    let direct = region.fhir_direct_url.as_str();
    let budget = Duration::from_secs(120);
    let unit = fetch_unit_thread(&nara, direct, PATIENT, &thread_id, replies, budget).await;
    assert_eq!(unit.len() as u64, replies, "the unit's messages arrived");

    let mut ids: Vec<ReadingId> = Vec::new();
    for i in 0..readings {
        let saved = nara
            .readings()
            .add(run_reading(&mut rng, &tag, i))
            .expect("stored offline");
        ids.push(saved.id);
    }
    assert_eq!(nara.pending_uploads().expect("counts"), readings);

    // Offline chat: most messages now, reading the unit's messages up to a quarter, then
    // half of them; the rest of the messages (and more reading) while the sync runs.
    let pool = photo_pool(&tag, seed, 5);
    let mut composed = 0u64;
    let mut photos = 0u64;
    let mut receipts = 0u64;
    let offline = messages - messages / 6;
    let compose = |i: u64, chat_rng: &mut SplitMix64| {
        let m = nara
            .chat()
            .compose(run_message(chat_rng, &tag, &thread_id, i, &pool, &unit))
            .expect("composed");
        assert_eq!(m.delivery, Some(DeliveryState::Queued));
        m.photos.len() as u64
    };
    let mark_read = |upto: usize| {
        nara.chat()
            .mark_read(&thread_id, &unit[upto])
            .expect("marked read")
    };
    while composed < offline {
        if composed == offline / 3 {
            receipts += mark_read(replies as usize / 4);
        }
        if composed == 2 * offline / 3 {
            receipts += mark_read(replies as usize / 2);
        }
        photos += compose(composed, &mut chat_rng);
        composed += 1;
    }
    let chat_pending = |nara: &Nara| {
        let p = nara.chat().pending().expect("chat counts");
        p.messages + p.photos + p.receipts
    };
    assert_eq!(chat_pending(&nara), composed + photos + receipts);

    proxy.set_plan(FaultPlan::rough_network());
    let mut total = SyncReport::default();
    let mut calls = 0u64;
    let mut errors: HashMap<String, u64> = HashMap::new();
    let max_calls = 50 * (readings + messages) + 1000;
    // The proxy's counts when the last reading was confirmed: what follows is chat.
    let mut at_chat: Option<nara_tests::fault_proxy::FaultCounts> = None;
    let finished = loop {
        assert!(
            calls < max_calls,
            "not finished after {calls} syncs: {total:?}\n{}",
            proxy.counts()
        );
        calls += 1;
        // The patient keeps writing while the phone syncs, and reads more.
        if composed < messages {
            photos += compose(composed, &mut chat_rng);
            composed += 1;
            if composed == messages {
                receipts += mark_read(3 * replies as usize / 4);
            }
        }
        // Mostly one reading per request (the most requests, the most faults), some
        // small batches (a cut batch is retried whole).
        let batch = if rng.below_or_eq(9) < 9 {
            1
        } else {
            2 + rng.below_or_eq(3) as usize
        };
        nara.region().set_batch_size(batch);
        // Short budgets, as a background task gets (the core stops at the first
        // failure rather than wait out its backoff); now and then a longer one, where
        // the core backs off and retries within the call.
        let budget = if rng.below_or_eq(99) < 96 {
            Duration::from_millis(220 + rng.below_or_eq(80))
        } else {
            Duration::from_millis(800 + rng.below_or_eq(700))
        };
        let result = nara.region().sync_now(budget, |_| {}).await;
        if at_chat.is_none()
            && nara.pending_uploads().expect("counts") == chat_pending(&nara)
            && composed == messages
        {
            at_chat = Some(proxy.counts());
        }
        match result {
            Ok(report) => {
                total.created += report.created;
                total.already_there += report.already_there;
                total.rejected += report.rejected;
                total.requests += report.requests;
                if report.finished && composed == messages {
                    break report;
                }
            }
            Err(e) => *errors.entry(e.to_string()).or_default() += 1,
        }
    };
    proxy.set_enabled(false);
    let counts = proxy.counts();
    let elapsed = started.elapsed();
    println!(
        "synced in {calls} sync_now calls, {:.1} s: {} created, {} already there, {} rejected, \
         {} requests\nsync errors: {errors:?}\n{counts}",
        elapsed.as_secs_f64(),
        total.created,
        total.already_there,
        total.rejected,
        total.requests,
    );
    let chat_uploads = counts
        .uploads
        .since(&at_chat.map(|c| c.uploads).unwrap_or_default());
    println!(
        "chat: {composed} messages, {photos} photos, {receipts} read receipts; after the last \
         reading: {chat_uploads}"
    );
    assert!(finished.finished && finished.remaining == 0);

    // The core's side: nothing waiting, nothing failed, every reading confirmed once.
    assert_eq!(nara.pending_uploads().expect("counts"), 0);
    let status = nara.region().status().expect("status");
    assert_eq!(status.pending, 0);
    assert!(status.failed.is_empty(), "failed: {:?}", status.failed);
    assert!(status.last_success.is_some());
    assert_eq!(total.rejected, 0);
    assert_eq!(
        total.created + total.already_there,
        readings + composed + photos + receipts,
        "each reading, message, photo and receipt is confirmed exactly once"
    );
    assert_eq!(chat_pending(&nara), 0);
    let queued: Vec<_> = local_messages(&nara, &thread_id)
        .into_iter()
        .filter(|m| m.author == Author::Patient)
        .filter(|m| m.delivery.is_none_or(|d| d < DeliveryState::Sent))
        .map(|m| m.id)
        .collect();
    assert!(queued.is_empty(), "not 'sent' on the phone: {queued:?}");

    // The faults really happened, enough of them, and some after the server committed.
    let wanted = MIN_FAULTED_UPLOADS * readings / DEFAULT_READINGS;
    assert!(
        counts.uploads.faulted() >= wanted,
        "only {} faulted uploads (want ≥ {wanted})",
        counts.uploads.faulted()
    );
    assert!(counts.uploads.dropped_response > 0 && counts.uploads.duplicated > 0);
    assert!(
        total.already_there > 0,
        "answers were dropped after commit, so some retries must find the reading there"
    );
    // Chat went through the same faults: about one faulted request per message.
    assert!(
        chat_uploads.faulted() >= messages / 2,
        "only {} faulted chat uploads (want ≥ {})",
        chat_uploads.faulted(),
        messages / 2
    );
    assert!(chat_uploads.dropped_response > 0 && chat_uploads.duplicated > 0);

    // The server's side: each reading exactly once...
    let copies = copies_on_server(&region.fhir_direct_url, &ids).await;
    let lost: Vec<_> = ids.iter().filter(|id| copies[id] == 0).collect();
    let duplicated: Vec<_> = ids
        .iter()
        .filter(|id| copies[id] > 1)
        .map(|id| (id, copies[id]))
        .collect();
    println!(
        "on the server: {} readings, lost {}, duplicated {}",
        ids.len(),
        lost.len(),
        duplicated.len()
    );
    assert!(lost.is_empty(), "lost on the server: {lost:?}");
    assert!(
        duplicated.is_empty(),
        "duplicated on the server: {duplicated:?}"
    );
    // ...and nothing else of this run (found by the note, not by the identifiers).
    let tagged = tagged_on_server(&region.fhir_direct_url, "bertil-1", since, &tag).await;
    let expected: HashSet<String> = ids.iter().map(identifier_value).collect();
    let unexpected: Vec<_> = tagged.iter().filter(|v| !expected.contains(*v)).collect();
    assert!(unexpected.is_empty(), "not ours: {unexpected:?}");
    assert_eq!(tagged.len() as u64, readings, "one Observation per reading");

    // Chat on the server: each message, photo and receipt exactly once.
    let expected = ExpectedChat::from_store(&nara, &thread_id);
    assert_eq!(expected.messages.len() as u64, composed);
    assert_eq!(expected.photos() as u64, photos);
    assert_eq!(expected.read.len() as u64, receipts);
    let check = check_chat(
        &region.fhir_direct_url,
        PATIENT,
        &thread_id,
        &tag,
        since,
        &expected,
    )
    .await;
    println!("{check}");
    assert!(check.ok(), "{check:#?}");
    assert_eq!(check.binaries_of_run as u64, photos, "one Binary per photo");
}

/// The proxy does what it says, and the exactly-once check can fail: against the FHIR
/// server directly (no token needed), a duplicated plain create leaves two copies, a
/// dropped answer leaves the resource stored, a cut or a 503 leaves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_faults_are_real_and_the_check_sees_duplicates() {
    let region = region();
    let direct = Url::parse(&region.fhir_direct_url).expect("direct URL");
    let proxy = FaultProxy::start(&direct, FaultPlan::none(), 7)
        .await
        .expect("the proxy starts");
    let http = nara_core::sync::transport::client(&dev_transport(), Duration::from_secs(10))
        .expect("client");
    let mut rng = SplitMix64::new(Timestamp::now().as_nanosecond() as u64);
    let only = |set: fn(&mut FaultPlan)| {
        let mut plan = FaultPlan::none();
        set(&mut plan);
        plan
    };
    let cases: [(&str, FaultPlan, u64, bool); 5] = [
        ("duplicate", only(|p| p.duplicate = 1.0), 2, true),
        ("drop response", only(|p| p.drop_response = 1.0), 1, false),
        ("cut before", only(|p| p.cut_before = 1.0), 0, false),
        ("cut mid-body", only(|p| p.cut_mid_body = 1.0), 0, false),
        ("503", only(|p| p.unavailable = 1.0), 0, false),
    ];
    for (name, plan, copies_expected, answered) in cases {
        proxy.set_plan(plan);
        // A plain create (not conditional): what a non-idempotent upload would send.
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
        let id = ReadingId::from_random_bytes(bytes);
        let body = serde_json::json!({
            "resourceType": "Observation",
            "status": "final",
            "identifier": [{"system": "urn:ietf:rfc:3986", "value": identifier_value(&id)}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "Patient/cecilia-1"},
            "valueQuantity": {"value": 70, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
        });
        let sent = http
            .post(format!(
                "{}/Observation",
                proxy.url().as_str().trim_end_matches('/')
            ))
            .header("Content-Type", "application/fhir+json")
            .body(body.to_string())
            .send()
            .await;
        let ok = matches!(&sent, Ok(r) if r.status().is_success());
        assert_eq!(ok, answered, "{name}: answered {sent:?}");
        if name == "503" {
            assert_eq!(sent.expect("an answer").status().as_u16(), 503);
        }
        let copies = copies_on_server(&region.fhir_direct_url, &[id]).await;
        assert_eq!(copies[&id], copies_expected, "{name}");
    }
    let counts = proxy.counts();
    assert_eq!(counts.uploads.duplicated, 1);
    assert_eq!(counts.uploads.dropped_response, 1);
    assert_eq!(counts.uploads.cut_before + counts.uploads.cut_mid_body, 2);
    assert_eq!(counts.upstream_requests, 3, "cuts and 503s forward nothing");
}

/// The first resource of a search on the FHIR server (read directly), or a panic.
async fn find_one(
    http: &reqwest::Client,
    direct: &str,
    resource: &str,
    query: &[(&str, &str)],
) -> Value {
    let mut url = Url::parse(&format!("{direct}/{resource}")).expect("a search URL");
    url.query_pairs_mut().extend_pairs(query);
    let bundle = fhir_json(http, url).await;
    let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "one {resource} for {query:?}");
    entries[0]["resource"].clone()
}

/// Creates a copy of `resource` (a new id) on the FHIR server, as a non-idempotent
/// upload or a replayed request would.
async fn post_copy(http: &reqwest::Client, direct: &str, resource: &Value) {
    let mut copy = resource.clone();
    if let Some(o) = copy.as_object_mut() {
        o.remove("id");
        o.remove("meta");
    }
    let kind = resource["resourceType"].as_str().expect("a resource type");
    let sent = http
        .post(format!("{direct}/{kind}"))
        .header("Content-Type", "application/fhir+json")
        .body(copy.to_string())
        .send()
        .await
        .expect("the FHIR server answers");
    assert!(
        sent.status().is_success(),
        "copy created: {}",
        sent.status()
    );
}

/// The chat check can fail: after a clean sync it passes; then, on the server directly,
/// one message is duplicated, one deleted, one rewritten to reference another message's
/// photo, and one read receipt duplicated — and the check reports each of them, by id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_check_sees_lost_duplicated_and_misreferenced_chat() {
    let region = region();
    let direct = region.fhir_direct_url.as_str();
    let seed = Timestamp::now().as_nanosecond() as u64;
    let tag = format!("chat-check {seed}");
    let since = Timestamp::now() - SignedDuration::from_secs(2);
    let dir = tempfile::tempdir().expect("tempdir");
    let (_proxy, nara, _) = proxied_phone(region, dir.path(), "chat check", "bertil", seed).await;
    let thread_id = run_thread_id("check", seed);
    let sync = || sync_finished(&nara, Duration::from_secs(60));
    let unit = fetch_unit_thread(
        &nara,
        direct,
        PATIENT,
        &thread_id,
        2,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(unit.len(), 2);
    // P has a photo; D will be duplicated, L lost, W made to reference P's photo.
    let pool = photo_pool(&tag, seed, 1);
    let mut ids = Vec::new();
    for (i, name) in ["P", "D", "L", "W"].into_iter().enumerate() {
        let photos = if name == "P" {
            vec![NewPhoto {
                content_type: "image/jpeg".into(),
                bytes: pool[0].clone(),
            }]
        } else {
            Vec::new()
        };
        let m = nara
            .chat()
            .compose(NewMessage {
                thread_id: thread_id.clone(),
                text: format!("{tag} #{i}: {name}"),
                photos,
                in_reply_to: None,
            })
            .expect("composed");
        ids.push(m);
    }
    assert_eq!(
        nara.chat().mark_read(&thread_id, &unit[0]).expect("read"),
        1
    );
    sync().await;
    let expected = ExpectedChat::from_store(&nara, &thread_id);
    let check = || check_chat(direct, PATIENT, &thread_id, &tag, since, &expected);
    let clean = check().await;
    assert!(clean.ok(), "before the tampering: {clean:#?}");

    let http = nara_core::sync::transport::client(&dev_transport(), Duration::from_secs(10))
        .expect("client");
    let message = |m: &nara_core::domain::chat::Message| {
        let value = format!("urn:ietf:rfc:3986|urn:uuid:{}", m.id);
        let http = http.clone();
        async move { find_one(&http, direct, "Communication", &[("identifier", &value)]).await }
    };
    let (p, d, l, w) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    // A duplicated message.
    post_copy(&http, direct, &message(d).await).await;
    // A lost message.
    let lost = message(l).await;
    let deleted = http
        .delete(format!(
            "{direct}/Communication/{}",
            lost["id"].as_str().expect("an id")
        ))
        .send()
        .await
        .expect("the FHIR server answers");
    assert!(
        deleted.status().is_success(),
        "deleted: {}",
        deleted.status()
    );
    // A message referencing another message's photo.
    let photo = &p.photos[0].id;
    let mut wrong = message(w).await;
    wrong["payload"]
        .as_array_mut()
        .expect("a payload")
        .push(json!({"contentAttachment": {"contentType": "image/jpeg", "url": format!("Binary/{photo}")}}));
    let updated = http
        .put(format!(
            "{direct}/Communication/{}",
            wrong["id"].as_str().expect("an id")
        ))
        .header("Content-Type", "application/fhir+json")
        .body(wrong.to_string())
        .send()
        .await
        .expect("the FHIR server answers");
    assert!(
        updated.status().is_success(),
        "updated: {}",
        updated.status()
    );
    // A duplicated read receipt.
    let receipt_value = format!("Communication/{}", unit[0]);
    let receipt = find_one(
        &http,
        direct,
        "Communication",
        &[(
            "identifier",
            &format!("https://nara.se/fhir/read-receipt|{receipt_value}"),
        )],
    )
    .await;
    post_copy(&http, direct, &receipt).await;

    let found = check().await;
    println!("{found}\n{found:#?}");
    assert!(!found.ok());
    assert_eq!(found.lost_messages, vec![l.id.clone()]);
    assert_eq!(found.duplicated_messages, vec![(d.id.clone(), 2)]);
    assert_eq!(found.duplicated_receipts, vec![(receipt_value, 2)]);
    assert!(found.lost_receipts.is_empty() && found.lost_photos.is_empty());
    let has = |needle: &str| found.problems.iter().any(|p| p.contains(needle));
    assert!(
        has(&format!("photo {photo} of message {}", p.id)),
        "the photo's second reference: {:?}",
        found.problems
    );
    assert!(
        has(&format!("message {}: attachments", w.id)),
        "W's attachments: {:?}",
        found.problems
    );
    assert_eq!(found.problems.len(), 2, "{:?}", found.problems);
}
