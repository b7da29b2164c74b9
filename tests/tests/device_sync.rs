//! A blood-pressure cuff's memory against the real test region: 100 stored records
//! imported twice (and once more after the sync) are 100 readings, and the FHIR server
//! holds each once, with the device on the Observation.

use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};
use nara_core::ReadingFilter;
use nara_core::device::Characteristic;
use nara_core::device::blood_pressure::BloodPressureMeasurement;
use nara_core::device::capture::{CaptureContext, DeviceInfo};
use nara_core::devices::DeviceValue;
use nara_tests::fault_proxy::copies_on_server;
use nara_tests::region::{direct_client, fhir_json, region, sync_finished};

/// A Blood Pressure Measurement as a cuff stores it: mmHg, time stamp, pulse, user 1.
fn record(systolic: i16, diastolic: i16, at: &Zoned) -> DeviceValue {
    let m = BloodPressureMeasurement {
        user_id: Some(1),
        ..BloodPressureMeasurement::mmhg(systolic, diastolic, Some(70), Some(at.datetime()))
    };
    DeviceValue {
        characteristic: Characteristic::BloodPressureMeasurement,
        bytes: m.encode().expect("fits"),
    }
}

/// The cuff's memory: 100 records, one every 6 hours back from an hour ago.
fn memory(tz: &TimeZone) -> Vec<DeviceValue> {
    let newest = Timestamp::now()
        .to_zoned(tz.clone())
        .round(jiff::Unit::Minute)
        .expect("rounds")
        .checked_sub(SignedDuration::from_hours(1))
        .expect("in range");
    (0..100i64)
        .map(|i| {
            let at = newest
                .checked_sub(SignedDuration::from_hours(6 * i))
                .expect("in range");
            record(120 + (i % 25) as i16, 75 + (i % 12) as i16, &at)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cuffs_memory_imported_twice_reaches_the_region_once() {
    let region = region();
    let dir = tempfile::tempdir().expect("dir");
    let (nara, _) = region.phone(dir.path(), "cuff", &region.user).await;

    // A serial number of this run: the ids derive from it, so runs do not meet.
    let serial = format!(
        "E2E-{}",
        Timestamp::now().as_nanosecond().rem_euclid(1 << 48)
    );
    let tz = TimeZone::get("Europe/Stockholm").expect("tz");
    let cx = CaptureContext {
        device: DeviceInfo::new(&serial, Some("Omron M7 Intelli IT")).expect("device"),
        user: Some(1),
        tz: tz.clone(),
        received_at: Timestamp::now(),
    };
    let devices = nara.devices();
    let first = devices
        .import(&memory(&tz), &cx, |_, _| {})
        .expect("imports");
    let second = devices
        .import(&memory(&tz), &cx, |_, _| {})
        .expect("imports");
    assert_eq!((first.inserted, first.duplicates), (100, 0));
    assert_eq!((second.inserted, second.duplicates), (0, 100));

    let synced = sync_finished(&nara, Duration::from_secs(120)).await;
    assert_eq!(synced.created, 100, "{synced:?}");

    // The next connection after the sync: still nothing new, nothing to send.
    let third = devices
        .import(&memory(&tz), &cx, |_, _| {})
        .expect("imports");
    assert_eq!((third.inserted, third.duplicates), (0, 100));
    assert_eq!(nara.pending_uploads().expect("pending"), 0);
    let again = nara
        .region()
        .sync_now(Duration::from_secs(60), |_| {})
        .await
        .expect("syncs");
    assert_eq!(again.created + again.already_there, 0, "{again:?}");

    let readings = nara
        .readings()
        .list(&ReadingFilter::default())
        .expect("list");
    assert_eq!(readings.len(), 100);
    let ids: Vec<_> = readings.iter().map(|r| r.id).collect();
    let copies = copies_on_server(&region.fhir_direct_url, &ids).await;
    let not_once: Vec<_> = copies.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        not_once.is_empty(),
        "each reading on the server once: {not_once:?}"
    );

    // The device travels with the Observation (ADR 0007 §4): its serial as an
    // identifier, its model as the display.
    let url = format!(
        "{}/Observation?identifier=urn:ietf:rfc:3986|urn:uuid:{}",
        region.fhir_direct_url, ids[0]
    );
    let bundle = fhir_json(&direct_client(), url).await;
    let device = &bundle["entry"][0]["resource"]["device"];
    assert_eq!(device["identifier"]["value"], serial.as_str(), "{device}");
    assert_eq!(device["display"], "Omron M7 Intelli IT");
}
