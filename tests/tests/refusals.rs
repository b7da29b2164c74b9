//! Story: one item the region refuses never blocks the others (DESIGN: "One bad item
//! never blocks the others: it is kept, marked, and reported").
//!
//! A strict region validates content and refuses a whole transaction when one entry is
//! invalid. The fault proxy plays it (`FaultProxy::refuse_containing`): a transaction
//! Bundle holding the marker `REFUSE-ME` is answered `422` with an `OperationOutcome`.
//! The patient has 30 readings and 10 messages (some with photos, some answering the
//! unit) and two read receipts; one reading's note and one message's text carry the
//! marker. Syncing through a rough network in batches of 10, the core must bisect each
//! refused Bundle down to the one bad entry, mark only that one failed and send the
//! rest: at the end the server holds every other reading, message, photo and receipt
//! exactly once and neither bad item, `status().failed` lists exactly the two (kind,
//! local id, an `http_4xx` code), nothing is pending, the reports counted two
//! rejections, and a second sync sends nothing (the failed items stay failed, and stay
//! on the phone).
//!
//! `NARA_REFUSAL_SEED` replays a run.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use nara_core::domain::chat::{Author, DeliveryState, NewMessage};
use nara_core::domain::reading::ReadingId;
use nara_core::sync::engine::{SyncReport, UploadKind};
use nara_tests::SplitMix64;
use nara_tests::chat_run::{
    ExpectedChat, check_chat, fetch_unit_thread, local_messages, photo_pool, run_message,
    run_thread_id,
};
use nara_tests::fault_proxy::{
    FaultPlan, copies_on_server, identifier_value, proxied_phone, run_reading, tagged_on_server,
};
use nara_tests::region::region;

const PATIENT: &str = "bertil-1";
const MARKER: &str = "REFUSE-ME";
const READINGS: u64 = 30;
const MESSAGES: u64 = 10;
/// The bad reading and the bad message (their place in the run).
const BAD_READING: u64 = 17;
const BAD_MESSAGE: u64 = 6;
const UNIT_MESSAGES: u64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_reading_or_message_never_blocks_the_others() {
    let region = region();
    let seed = std::env::var("NARA_REFUSAL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Timestamp::now().as_nanosecond() as u64);
    println!("refusal run: seed {seed} (replay with NARA_REFUSAL_SEED={seed})");
    let mut rng = SplitMix64::new(seed);
    let tag = format!("refusal-run {seed}");
    let since = Timestamp::now() - SignedDuration::from_secs(2);
    let started = Instant::now();

    let dir = tempfile::tempdir().expect("tempdir");
    let (proxy, nara, patient) =
        proxied_phone(region, dir.path(), "refusal story", "bertil", seed ^ 0x4EF0).await;
    assert_eq!(patient, PATIENT);

    // The unit opens a thread and writes; the phone fetches it.
    let thread_id = run_thread_id("refusal", seed);
    let direct = region.fhir_direct_url.as_str();
    let budget = Duration::from_secs(60);
    let unit = fetch_unit_thread(&nara, direct, PATIENT, &thread_id, UNIT_MESSAGES, budget).await;
    assert_eq!(unit.len() as u64, UNIT_MESSAGES);

    // Offline: 30 readings, one noted with the marker; 10 messages, one with the marker
    // in its text (no photo: its photos would be good uploads of their own); the patient
    // reads two of the unit's messages.
    let mut ids: Vec<ReadingId> = Vec::new();
    let mut bad_reading = None;
    for i in 0..READINGS {
        let mut reading = run_reading(&mut rng, &tag, i);
        if i == BAD_READING {
            reading.note = reading.note.map(|n| format!("{n} {MARKER}"));
        }
        let saved = nara.readings().add(reading).expect("stored offline");
        if i == BAD_READING {
            bad_reading = Some(saved.id);
        }
        ids.push(saved.id);
    }
    let bad_reading = bad_reading.expect("the bad reading was added");
    let pool = photo_pool(&tag, seed, 3);
    let mut bad_message = None;
    let mut photos = 0u64;
    for i in 0..MESSAGES {
        let message = if i == BAD_MESSAGE {
            NewMessage {
                thread_id: thread_id.clone(),
                text: format!("{tag} #{i}: {MARKER}"),
                photos: Vec::new(),
                in_reply_to: None,
            }
        } else {
            run_message(&mut rng, &tag, &thread_id, i, &pool, &unit)
        };
        let saved = nara.chat().compose(message).expect("composed");
        photos += saved.photos.len() as u64;
        if i == BAD_MESSAGE {
            bad_message = Some(saved.id);
        }
    }
    let bad_message = bad_message.expect("the bad message was composed");
    let receipts = nara
        .chat()
        .mark_read(&thread_id, &unit[1])
        .expect("marked read");
    assert_eq!(receipts, 2, "one receipt per message marked read");
    let uploads = READINGS + MESSAGES + photos + receipts;
    assert_eq!(nara.pending_uploads().expect("counts"), uploads);

    // The strict region, behind a rough network; batches of 10, so each bad item is
    // found by bisecting a refused Bundle (the bad message shares its Bundle with the
    // receipts).
    proxy.refuse_containing(Some(MARKER));
    proxy.set_plan(FaultPlan::rough_network().scaled(0.5));
    nara.region().set_batch_size(10);
    let mut total = SyncReport::default();
    let mut calls = 0u64;
    let mut errors = 0u64;
    loop {
        assert!(calls < 300, "not finished after {calls} syncs: {total:?}");
        calls += 1;
        match nara
            .region()
            .sync_now(Duration::from_millis(1000), |_| {})
            .await
        {
            Ok(report) => {
                total.created += report.created;
                total.already_there += report.already_there;
                total.rejected += report.rejected;
                total.requests += report.requests;
                if report.finished {
                    break;
                }
            }
            Err(_) => errors += 1,
        }
    }
    proxy.set_enabled(false);
    let counts = proxy.counts();
    println!(
        "synced in {calls} sync_now calls ({errors} errors), {:.1} s: {} created, {} already \
         there, {} rejected, {} requests\n{counts}",
        started.elapsed().as_secs_f64(),
        total.created,
        total.already_there,
        total.rejected,
        total.requests,
    );

    // The core: exactly the two bad items failed, with their kinds, ids and a 4xx code;
    // everything else confirmed exactly once; nothing pending.
    assert_eq!(total.rejected, 2, "two items refused: {total:?}");
    assert_eq!(
        total.created + total.already_there,
        uploads - 2,
        "every other item confirmed exactly once"
    );
    let status = nara.region().status().expect("status");
    assert_eq!(status.pending, 0);
    assert_eq!(nara.pending_uploads().expect("counts"), 0);
    let mut failed: Vec<(UploadKind, String)> = status
        .failed
        .iter()
        .map(|f| (f.kind, f.id.clone()))
        .collect();
    failed.sort_by_key(|(k, _)| *k != UploadKind::Reading);
    assert_eq!(
        failed,
        vec![
            (UploadKind::Reading, bad_reading.to_string()),
            (UploadKind::Message, bad_message.clone()),
        ],
        "failed: {:?}",
        status.failed
    );
    for f in &status.failed {
        assert!(
            f.error.starts_with("http_4") && f.error.len() == 8,
            "a 4xx code: {f:?}"
        );
        assert!(!f.error.contains(MARKER), "a code, never content");
    }
    assert!(
        counts.refused >= 2,
        "the proxy refused Bundles: {}",
        counts.refused
    );

    // Kept on the phone: the bad reading and the bad message are still there.
    assert!(
        nara.readings()
            .get(bad_reading)
            .expect("reads")
            .is_some_and(|r| r.note.as_deref().is_some_and(|n| n.contains(MARKER))),
        "the refused reading is kept"
    );
    let kept = nara
        .chat()
        .message(&bad_message)
        .expect("reads")
        .expect("the refused message is kept");
    assert!(
        kept.delivery.is_none_or(|d| d < DeliveryState::Sent),
        "a refused message is not 'sent': {:?}",
        kept.delivery
    );
    let unsent: Vec<String> = local_messages(&nara, &thread_id)
        .into_iter()
        .filter(|m| m.author == Author::Patient && m.id != bad_message)
        .filter(|m| m.delivery.is_none_or(|d| d < DeliveryState::Sent))
        .map(|m| m.id)
        .collect();
    assert!(unsent.is_empty(), "not 'sent' on the phone: {unsent:?}");

    // A second sync sends nothing: the failed items stay failed.
    let before = proxy.counts();
    let again = nara
        .region()
        .sync_now(Duration::from_secs(30), |_| {})
        .await
        .expect("the second sync runs");
    let after = proxy.counts();
    assert!(again.finished, "{again:?}");
    assert_eq!(
        (again.created, again.already_there, again.rejected),
        (0, 0, 0),
        "{again:?}"
    );
    // The proxy counts POSTs as uploads; the one POST of the second sync is the
    // download's batch of id searches (ADR 0008, deletions), which uploads nothing.
    assert_eq!(
        again.bytes_sent, 0,
        "no upload in the second sync: {again:?}"
    );
    assert_eq!(
        after.uploads.total(),
        before.uploads.total() + 1,
        "no POST in the second sync but the id batch"
    );
    assert_eq!(after.refused, before.refused);
    assert_eq!(
        nara.region().status().expect("status").failed,
        status.failed
    );

    // The server: every other reading exactly once, the bad one not at all...
    let copies = copies_on_server(&region.fhir_direct_url, &ids).await;
    for id in &ids {
        let want = u64::from(*id != bad_reading);
        assert_eq!(copies[id], want, "reading {id}: {} copies", copies[id]);
    }
    let tagged = tagged_on_server(&region.fhir_direct_url, PATIENT, since, &tag).await;
    let good: HashSet<String> = ids
        .iter()
        .filter(|id| **id != bad_reading)
        .map(identifier_value)
        .collect();
    assert!(
        tagged.iter().all(|v| good.contains(v)),
        "not ours: {tagged:?}"
    );
    assert_eq!(tagged.len() as u64, READINGS - 1);
    // ...every other message, each photo and both receipts exactly once, and the bad
    // message not at all (the check reports any message of the patient's in the thread
    // that it does not expect).
    let mut expected = ExpectedChat::from_store(&nara, &thread_id);
    expected.messages.retain(|m| m.id != bad_message);
    assert_eq!(expected.messages.len() as u64, MESSAGES - 1);
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
    println!("in {:.1} s", started.elapsed().as_secs_f64());
}
