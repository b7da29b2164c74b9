//! Story: answers to appointment notices cross a bad network and reach the region
//! exactly once.
//!
//! The clinic books many visits, some with a health declaration. The patient opens
//! every notice, answers each (confirm, cancel or ask for another time) and submits the
//! declarations, all offline; then syncs through the fault-injecting proxy
//! (`nara_tests::fault_proxy`: answers dropped after commit, requests sent twice,
//! timeouts, cut connections, 503s) in short budgets until the core says it is
//! finished. The region (read directly) must then hold, per visit, exactly one opened
//! receipt, one `AppointmentResponse` or one reschedule `Task`, and one
//! `QuestionnaireResponse` where a declaration was submitted — and nothing else.
//!
//! `NARA_NOTICE_FAULT_VISITS` (default 24) scales the run, `NARA_FAULT_SEED` replays one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use nara_core::domain::notice::{Answer, AnswerDelivery};
use nara_core::domain::questionnaire::{AnswerValue, Coding};
use nara_tests::SplitMix64;
use nara_tests::fault_proxy::{FaultPlan, proxied_phone};
use nara_tests::region::{region, sync_finished};
use serde_json::Value;

const PATIENT: &str = "cecilia-1";
const ANSWER_SYSTEM: &str = "https://nara.se/fhir/CodeSystem/halsodeklaration-svar";

fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// What the patient does with visit `i`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plan {
    Confirm,
    Cancel,
    Reschedule,
}

fn plan(i: u64) -> Plan {
    match i % 3 {
        0 => Plan::Confirm,
        1 => Plan::Cancel,
        _ => Plan::Reschedule,
    }
}

fn declares(i: u64) -> bool {
    i % 3 != 1 && i % 2 == 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_reaches_the_region_exactly_once_through_a_faulty_network() {
    let region = region();
    let visits: u64 = std::env::var("NARA_NOTICE_FAULT_VISITS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24);
    let seed: u64 = std::env::var("NARA_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Timestamp::now().as_nanosecond() as u64);
    println!("notice fault run: {visits} visits, seed {seed} (replay with NARA_FAULT_SEED={seed})");
    let mut rng = SplitMix64::new(seed ^ 0x5EED);
    let started = Instant::now();

    region.publish_declaration();
    let now = Timestamp::from_second(Timestamp::now().as_second()).expect("whole seconds");
    let ids: Vec<String> = (0..visits).map(|i| format!("nf-{seed:x}-{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let start = now + SignedDuration::from_hours(24 * (5 + i as i64));
        let (s, e) = (iso(start), iso(start + SignedDuration::from_mins(30)));
        let mut args = vec![
            "book",
            PATIENT,
            id,
            "--start",
            &s,
            "--end",
            &e,
            "--service",
            "Provtagning",
            "--clinic-name",
            "Hälsocentralen Gällivare",
            "--cutoff-hours",
            "24",
        ];
        if declares(i as u64) {
            args.extend(["--questionnaire", "halsodeklaration"]);
        }
        region.nurse(&args);
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let (proxy, nara, patient) = proxied_phone(
        region,
        dir.path(),
        "notice faults",
        "cecilia",
        seed ^ 0xA9F0,
    )
    .await;
    assert_eq!(patient, PATIENT);
    sync_finished(&nara, Duration::from_secs(120)).await;

    // Offline: open every notice, answer it, submit the declarations.
    let n = nara.notices();
    for (i, id) in ids.iter().enumerate() {
        let i = i as u64;
        n.open(id).expect("opens");
        if declares(i) {
            let answers = n
                .form("halsodeklaration", Some(id))
                .expect("the form arrived")
                .answers
                .with(
                    "langd",
                    AnswerValue::Integer(150 + rng.below_or_eq(50) as i64),
                )
                .with(
                    "vikt",
                    AnswerValue::Decimal(55.0 + rng.below_or_eq(40) as f64),
                )
                .with("tar-lakemedel", AnswerValue::Boolean(false))
                .with("allergi", AnswerValue::Boolean(false))
                .with(
                    "rokning",
                    AnswerValue::Coding(Coding::new(ANSWER_SYSTEM, "nej", "")),
                )
                .with("nya-besvar", AnswerValue::Boolean(false));
            n.save_draft("halsodeklaration", Some(id), answers)
                .expect("draft");
            n.submit("halsodeklaration", Some(id)).expect("submits");
        }
        let answer = match plan(i) {
            Plan::Confirm => Answer::Confirm,
            Plan::Cancel => Answer::Cancel {
                reason: String::new(),
            },
            Plan::Reschedule => Answer::Reschedule {
                wishes: format!("Eftermiddag, helst vecka {}", 2 + i % 4),
                windows: vec![],
            },
        };
        n.answer(id, answer).expect("answered");
    }
    let declarations = (0..visits).filter(|i| declares(*i)).count() as u64;
    assert_eq!(
        nara.pending_uploads().expect("counts"),
        2 * visits + declarations,
        "a receipt and an answer per visit, and the declarations"
    );

    proxy.set_plan(FaultPlan::rough_network());
    let mut calls = 0u64;
    let mut errors: HashMap<String, u64> = HashMap::new();
    loop {
        assert!(
            calls < 40 * visits + 500,
            "not finished after {calls} syncs"
        );
        calls += 1;
        nara.region()
            .set_batch_size(1 + rng.below_or_eq(2) as usize);
        let budget = Duration::from_millis(250 + rng.below_or_eq(400));
        match nara.region().sync_now(budget, |_| {}).await {
            Ok(report) if report.finished => break,
            Ok(_) => {}
            Err(e) => *errors.entry(e.to_string()).or_default() += 1,
        }
    }
    proxy.set_enabled(false);
    let counts = proxy.counts();
    println!(
        "synced in {calls} sync_now calls, {:.1} s; sync errors: {errors:?}\n{counts}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        counts.uploads.faulted() >= visits / 2,
        "the network was rough enough: {counts}"
    );
    let status = nara.region().status().expect("status");
    assert_eq!(status.pending, 0);
    assert!(status.failed.is_empty(), "failed: {:?}", status.failed);

    // The region: exactly one of each, per visit.
    for (i, id) in ids.iter().enumerate() {
        let i = i as u64;
        let seen: Value =
            serde_json::from_str(&region.nurse(&["notice", PATIENT, id])).expect("JSON");
        assert_eq!(seen["receipts"]["count"], 1, "{id}: {seen}");
        let (responses, tasks) = match plan(i) {
            Plan::Confirm | Plan::Cancel => (1, 0),
            Plan::Reschedule => (0, 1),
        };
        assert_eq!(seen["responses"]["count"], responses, "{id}: {seen}");
        assert_eq!(seen["tasks"]["count"], tasks, "{id}: {seen}");
        if responses == 1 {
            let expected = if plan(i) == Plan::Confirm {
                "accepted"
            } else {
                "declined"
            };
            assert_eq!(seen["responses"]["participantStatus"][0], expected, "{id}");
        }
        assert_eq!(
            seen["questionnaireResponses"]["count"],
            u64::from(declares(i)),
            "{id}: {seen}"
        );
        let local = n.get(id).expect("reads").expect("kept");
        assert!(
            local
                .local
                .answers
                .iter()
                .all(|a| a.delivery == AnswerDelivery::Sent),
            "{id}: every answer 'sent' on the phone"
        );
    }
}
