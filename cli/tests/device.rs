//! End-to-end tests of `nara device decode | import`: the binary run as a process on a
//! temporary data dir.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use common::out;

fn nara(data_dir: &Path, args: &[&str]) -> Output {
    common::nara_in_columns(data_dir, args, 100)
}

fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("dir");
    let data = tmp.path().join("data");
    (tmp, data)
}

/// 121/80 mmHg, MAP 95, 2026-11-20 07:30, pulse 72, user 1, status 0.
const BP: &str = "1E 79 00 50 00 5F 00 EA 07 0B 14 07 1E 00 48 00 01 00 00";
/// The same cuff, the evening: 135/86, 19:45, cuff too loose (status bit 1).
const BP_LOOSE: &str = "1E 87 00 56 00 5F 00 EA 07 0B 14 13 2D 00 48 00 01 02 00";

#[test]
fn decode_prints_the_fields_and_the_reading_it_would_create() {
    let (_tmp, data) = data_dir();
    let o = nara(
        &data,
        &[
            "--json",
            "device",
            "decode",
            "0x2a35",
            BP,
            "--tz",
            "Europe/Stockholm",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["characteristic"], "Blood Pressure Measurement (0x2A35)");
    let d = &v["decoded"];
    assert_eq!(d["unit"], "MmHg");
    assert_eq!(d["user_id"], 1);
    assert_eq!(d["status"]["cuff_too_loose"], false);
    assert_eq!(d["time_stamp"]["hours"], 7);
    let r = &v["would_create"]["reading"];
    assert_eq!(r["measurement"]["systolic"], 121.0);
    assert_eq!(d["systolic"], 121.0, "an SFLOAT is a JSON number");
    assert_eq!(r["effective_at"], "2026-11-20T06:30:00Z");
    // Stores nothing.
    let list = nara(&data, &["--json", "reading", "list"]);
    let list: Value = serde_json::from_slice(&list.stdout).expect("JSON");
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");

    // For people: the measurement and the patient-facing outcome.
    let o = nara(
        &data,
        &["--lang", "en", "device", "decode", "2A35", BP_LOOSE],
    );
    let text = out(&o);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("Measure again"), "{text}");
    assert!(text.contains("the cuff did not fit"), "{text}");
}

#[test]
fn import_twice_stores_once() {
    let (_tmp, data) = data_dir();
    let args = [
        "--json",
        "device",
        "import",
        "2A35",
        BP,
        BP_LOOSE,
        "--device-id",
        "SN-1",
    ];
    let first = nara(&data, &args);
    assert!(first.status.success(), "{}", out(&first));
    let first: Value = serde_json::from_slice(&first.stdout).expect("JSON");
    assert_eq!(
        (first["inserted"].as_u64(), first["duplicates"].as_u64()),
        (Some(2), Some(0))
    );
    let again = nara(&data, &args);
    let again: Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(
        (again["inserted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(2))
    );
    let list = nara(&data, &["--json", "reading", "list"]);
    let list: Value = serde_json::from_slice(&list.stdout).expect("JSON");
    assert_eq!(list.as_array().map(Vec::len), Some(2));
}

#[test]
fn a_glucose_context_names_its_own_characteristic_and_bad_values_are_listed() {
    let (_tmp, data) = data_dir();
    // 5.6 mmol/L (0xC038 mol/L), seq 7, 2026-11-21 07:10, capillary finger, context
    // follows; its context: meal = fasting. Then a value cut short.
    let o = nara(
        &data,
        &[
            "--json",
            "device",
            "import",
            "2A18",
            "16 0700 EA070B15070A00 38C0 11",
            "2A34=02 0700 03",
            "1E7900",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["inserted"], 1, "{v}");
    assert_eq!(v["rejected"][0]["index"], 2);
    assert_eq!(v["rejected"][0]["decode"]["field"], "Base Time", "{v}");
}

#[test]
fn bad_input_and_undecodable_bytes_have_their_exit_codes() {
    let (_tmp, data) = data_dir();
    let unknown = nara(&data, &["device", "decode", "2A99", "00"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", out(&unknown));
    assert!(out(&unknown).contains("2A99"));
    let not_hex = nara(&data, &["device", "decode", "2A35", "zz"]);
    assert_eq!(not_hex.status.code(), Some(2), "{}", out(&not_hex));
    let short = nara(
        &data,
        &["--lang", "en", "device", "decode", "2A35", "1E 79 00 50"],
    );
    assert_eq!(short.status.code(), Some(3), "{}", out(&short));
    assert!(
        out(&short).contains("Diastolic at byte 3"),
        "names the field and offset: {}",
        out(&short)
    );
}

/// A Bluetooth scale: 85.0 kg at 07:30 on 2026-11-20 (0x2A9D, SI, time stamp).
const SCALE_85: &str = "02 68 42 EA 07 0B 14 07 1E 00";

/// Heart failure (ADR 0013): 85.0 kg from a scale two days after 80.0 kg typed in is
/// a gain of more than 2 kg in 3 days. The preview says so, and the import stores the
/// same band and reason.
#[test]
fn a_scales_weight_gain_is_flagged_in_the_preview_and_in_what_is_stored() {
    let (_tmp, data) = data_dir();
    let earlier = nara(
        &data,
        &[
            "reading",
            "add",
            "weight",
            "80.0",
            "--at",
            "2026-11-18T07:30:00+01:00",
        ],
    );
    assert!(earlier.status.success(), "{}", out(&earlier));

    let preview = nara(
        &data,
        &[
            "--lang",
            "en",
            "device",
            "decode",
            "2A9D",
            SCALE_85,
            "--tz",
            "Europe/Stockholm",
        ],
    );
    let text = out(&preview);
    assert!(preview.status.success(), "{text}");
    assert!(text.contains("▲ Yellow"), "{text}");
    assert!(
        text.contains("Weight has risen more than 2.0 kg in 3 days"),
        "{text}"
    );

    let import = nara(
        &data,
        &[
            "device",
            "import",
            "2A9D",
            SCALE_85,
            "--tz",
            "Europe/Stockholm",
            "--device-id",
            "SCALE-1",
        ],
    );
    assert!(import.status.success(), "{}", out(&import));
    let list = nara(&data, &["--json", "reading", "list", "--kind", "weight"]);
    let list: Value = serde_json::from_slice(&list.stdout).expect("JSON");
    let newest = &list[0];
    assert_eq!(newest["measurement"]["kg"], 85.0, "{list}");
    assert_eq!(newest["triage"]["band"], "yellow", "{list}");
    assert_eq!(newest["triage"]["reason"]["code"], "weight_gain", "{list}");
}

/// A cuff's irregular pulse shows as its own finding beside the values' band.
#[test]
fn an_irregular_pulse_is_shown_as_a_finding_not_measure_again() {
    let (_tmp, data) = data_dir();
    // 121/80, 07:30, pulse 72, user 1, status bit 2: irregular pulse.
    let irregular = "1E 79 00 50 00 5F 00 EA 07 0B 14 07 1E 00 48 00 01 04 00";
    let o = nara(
        &data,
        &["--lang", "sv", "device", "decode", "2A35", irregular],
    );
    let text = out(&o);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("● Grönt"), "{text}");
    assert!(!text.contains("Mät igen ("), "{text}");
    assert!(
        text.contains("♥ Mätaren upptäckte oregelbunden puls"),
        "{text}"
    );
}
