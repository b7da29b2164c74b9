//! Weight Measurement (0x2A9D), byte by byte as the GATT Specification Supplement lays
//! it out: every flag combination, both unit systems and their resolutions, the
//! "measurement unsuccessful" value, and every way a payload can be cut short, run
//! long or carry an impossible date.

mod device_support;

use device_support::{
    Segments, TIME_STAMP_BYTES, check_every_layout, check_last_fields, check_reserved_bits_ignored,
    check_truncation_and_trailing, concat, decoded, every_flags_and_fill, out_of_range, time_stamp,
    truncated, with_impossible_date_times,
};
use nara_core::device::weight::{WeightMeasurement, WeightUnits, decode as decode_weight};
use nara_core::device::{Characteristic, Decoded};

fn weight(bytes: &[u8]) -> WeightMeasurement {
    decoded!(Characteristic::WeightMeasurement, Decoded::Weight, bytes)
}

// --- Hand-written payloads -----------------------------------------------------------

#[test]
fn si_with_time_stamp_user_bmi_and_height() {
    let bytes = [
        0x0E, // Flags: SI, Time Stamp, User ID, BMI and Height
        0xB4, 0x36, // Weight 14004 × 0.005 kg = 70.02 kg
        0xE8, 0x07, 0x0B, 0x18, 0x07, 0x1E, 0x00, // 2024-11-24 07:30:00
        0x01, // User ID 1
        0xF5, 0x00, // BMI 245 × 0.1 = 24.5 kg/m²
        0x9A, 0x06, // Height 1690 × 0.001 m = 1.69 m
    ];
    assert_eq!(
        weight(&bytes),
        WeightMeasurement {
            units: WeightUnits::Si,
            weight: Some(70.02),
            time_stamp: Some(time_stamp()),
            user_id: Some(1),
            bmi: Some(24.5),
            height: Some(1.69),
        }
    );
}

#[test]
fn weight_alone() {
    // 0x3651 = 13905 × 0.005 kg.
    assert_eq!(
        weight(&[0x00, 0x51, 0x36]),
        WeightMeasurement {
            units: WeightUnits::Si,
            weight: Some(69.525),
            time_stamp: None,
            user_id: None,
            bmi: None,
            height: None,
        }
    );
}

#[test]
fn imperial_with_bmi_and_height() {
    let bytes = [
        0x09, // Flags: imperial, BMI and Height
        0x48, 0x3C, // 15432 × 0.01 lb = 154.32 lb
        0xF5, 0x00, // BMI 24.5
        0x99, 0x02, // Height 665 × 0.1 in = 66.5 in
    ];
    let m = weight(&bytes);
    assert_eq!(
        m,
        WeightMeasurement {
            units: WeightUnits::Imperial,
            weight: Some(154.32),
            time_stamp: None,
            user_id: None,
            bmi: Some(24.5),
            height: Some(66.5),
        }
    );
}

#[test]
fn unsuccessful_measurement_is_no_weight() {
    for flags in [0x00, 0x01] {
        let m = weight(&[flags, 0xFF, 0xFF]);
        assert_eq!(m.weight, None, "flags {flags:#04x}");
        assert_eq!(m.weight_kg(), None);
    }
    // The other fields still decode.
    let m = weight(&[0x0C, 0xFF, 0xFF, 0x03, 0xF5, 0x00, 0x9A, 0x06]);
    assert_eq!(
        m,
        WeightMeasurement {
            units: WeightUnits::Si,
            weight: None,
            time_stamp: None,
            user_id: Some(3),
            bmi: Some(24.5),
            height: Some(1.69),
        }
    );
    // 0xFFFE is an ordinary (heavy) weight.
    assert_eq!(weight(&[0x00, 0xFE, 0xFF]).weight, Some(327.67));
}

// --- Every flag combination ----------------------------------------------------------

/// Builds the payload for `flags` (bits 0–3), field by field, and the measurement it
/// must decode to.
fn build(flags: u8) -> (Segments, WeightMeasurement) {
    let imperial = flags & 0x01 != 0;
    // Weight 14001: 70.005 kg or 140.01 lb.
    let mut segments: Segments = vec![("Flags", vec![flags]), ("Weight", vec![0xB1, 0x36])];
    let mut expected = WeightMeasurement {
        units: if imperial {
            WeightUnits::Imperial
        } else {
            WeightUnits::Si
        },
        weight: Some(if imperial { 140.01 } else { 70.005 }),
        time_stamp: None,
        user_id: None,
        bmi: None,
        height: None,
    };
    if flags & 0x02 != 0 {
        segments.push(("Time Stamp", TIME_STAMP_BYTES.to_vec()));
        expected.time_stamp = Some(time_stamp());
    }
    if flags & 0x04 != 0 {
        segments.push(("User ID", vec![0x04]));
        expected.user_id = Some(4);
    }
    if flags & 0x08 != 0 {
        // BMI 223 → 22.3; Height 1754 → 1.754 m or 175.4 in.
        segments.push(("BMI", vec![0xDF, 0x00]));
        segments.push(("Height", vec![0xDA, 0x06]));
        expected.bmi = Some(22.3);
        expected.height = Some(if imperial { 175.4 } else { 1.754 });
    }
    (segments, expected)
}

#[test]
fn all_16_flag_combinations() {
    let optional = [(0x02, 7), (0x04, 1), (0x08, 4)];
    check_every_layout(0..16, 3, &optional, build, decode_weight);
    // Cut at every length, and with bytes after the last field.
    for flags in 0u8..16 {
        check_truncation_and_trailing(&build(flags).0, decode_weight);
    }
}

// --- Units and resolution --------------------------------------------------------------

#[test]
fn resolution_gives_the_nearest_f64() {
    // SI 0.005 kg: 14001 → 70.005 exactly as the f64 literal, no 70.00500000000001.
    assert_eq!(weight(&[0x00, 0xB1, 0x36]).weight, Some(70.005));
    assert_eq!(weight(&[0x00, 0x01, 0x00]).weight, Some(0.005));
    assert_eq!(weight(&[0x00, 0x00, 0x00]).weight, Some(0.0));
    // Imperial 0.01 lb: 15432 → 154.32.
    assert_eq!(weight(&[0x01, 0x48, 0x3C]).weight, Some(154.32));
    // Height 0.001 m and 0.1 in; BMI 0.1 kg/m².
    let si = weight(&[0x08, 0x00, 0x00, 0x07, 0x01, 0x3F, 0x06]);
    assert_eq!((si.bmi, si.height), (Some(26.3), Some(1.599)));
    let imperial = weight(&[0x09, 0x00, 0x00, 0x07, 0x01, 0x3F, 0x06]);
    assert_eq!((imperial.bmi, imperial.height), (Some(26.3), Some(159.9)));
}

#[test]
fn pounds_convert_to_kilograms() {
    // 154.32 lb × 0.453 592 37 kg/lb.
    let kg = weight(&[0x01, 0x48, 0x3C]).weight_kg().expect("a weight");
    assert!((kg - 69.998_374_538_4).abs() < 1e-9, "{kg}");
    // 220.46 lb ≈ 100 kg.
    let kg = weight(&[0x01, 0x1E, 0x56]).weight_kg().expect("a weight");
    assert!((kg - 99.998_973_89).abs() < 1e-8, "{kg}");
    // Kilograms stay as they are.
    assert_eq!(weight(&[0x00, 0xB1, 0x36]).weight_kg(), Some(70.005));
}

// --- Errors --------------------------------------------------------------------------

#[test]
fn every_truncation_point_names_the_missing_field() {
    // The longest payload (flags 0x0F): name and bytes of each field.
    let segments: Segments = vec![
        ("Flags", vec![0x0F]),
        ("Weight", vec![0xB1, 0x36]),
        ("Time Stamp", vec![0xE8, 0x07, 0x0B, 0x18, 0x07, 0x1E, 0x00]),
        ("User ID", vec![0x04]),
        ("BMI", vec![0xDF, 0x00]),
        ("Height", vec![0xDA, 0x06]),
    ];
    assert_eq!(concat(&segments), concat(&build(0x0F).0));
    assert_eq!(concat(&segments).len(), 15);
    check_truncation_and_trailing(&segments, decode_weight);
}

#[test]
fn flags_announcing_bmi_without_it() {
    assert_eq!(
        decode_weight(&[0x08, 0xB1, 0x36]),
        Err(truncated("BMI", 3, 2, 0))
    );
    // BMI there, Height missing.
    assert_eq!(
        decode_weight(&[0x08, 0xB1, 0x36, 0xDF, 0x00]),
        Err(truncated("Height", 5, 2, 0))
    );
}

#[test]
fn a_byte_after_the_last_field_is_refused() {
    check_last_fields(
        &[
            (0x00, "Weight"),
            (0x03, "Time Stamp"),
            (0x04, "User ID"),
            (0x0F, "Height"),
        ],
        |flags| build(flags).0,
        decode_weight,
    );
}

#[test]
fn an_impossible_time_stamp_names_the_bad_byte() {
    // Flags 0x02, weight 0x36B1; the Time Stamp starts at byte 3.
    for (bytes, offset) in with_impossible_date_times(&[0x02, 0xB1, 0x36]) {
        assert_eq!(
            decode_weight(&bytes),
            Err(out_of_range("Time Stamp", offset))
        );
    }
}

// --- Reserved bits -------------------------------------------------------------------

#[test]
fn reserved_flag_bits_are_ignored() {
    check_reserved_bits_ignored(0..16, &[0x10, 0x20, 0x40, 0x80, 0xF0], build, decode_weight);
}

// --- Robustness ----------------------------------------------------------------------

#[test]
fn arbitrary_bytes_never_panic() {
    for bytes in every_flags_and_fill(&[0x00, 0x7F, 0xFF], 16) {
        let _ = decode_weight(&bytes);
    }
}
