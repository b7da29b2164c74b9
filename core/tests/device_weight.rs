//! Weight Measurement (0x2A9D), byte by byte as the GATT Specification Supplement lays
//! it out: every flag combination, both unit systems and their resolutions, the
//! "measurement unsuccessful" value, and every way a payload can be cut short, run
//! long or carry an impossible date.

use nara_core::device::time::DeviceTime;
use nara_core::device::weight::{WeightMeasurement, WeightUnits, decode as decode_weight};
use nara_core::device::{Characteristic, DecodeError, DecodeProblem, Decoded, decode};

/// 2024-11-24 07:30:00 as a Date Time field.
const TIME_BYTES: [u8; 7] = [0xE8, 0x07, 0x0B, 0x18, 0x07, 0x1E, 0x00];

fn time() -> DeviceTime {
    DeviceTime {
        year: Some(2024),
        month: Some(11),
        day: Some(24),
        hours: 7,
        minutes: 30,
        seconds: 0,
    }
}

fn weight(bytes: &[u8]) -> WeightMeasurement {
    match decode(Characteristic::WeightMeasurement, bytes) {
        Ok(Decoded::Weight(m)) => m,
        other => panic!("{bytes:02X?} decoded to {other:?}"),
    }
}

fn truncated(field: &'static str, offset: usize, needed: usize, available: usize) -> DecodeError {
    DecodeError::new(
        field,
        offset,
        DecodeProblem::Truncated { needed, available },
    )
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
            time_stamp: Some(time()),
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

/// Builds the payload for `flags` (bits 0–3) and the measurement it must decode to.
fn build(flags: u8) -> (Vec<u8>, WeightMeasurement) {
    let imperial = flags & 0x01 != 0;
    // Weight 14001: 70.005 kg or 140.01 lb.
    let mut bytes = vec![flags, 0xB1, 0x36];
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
        bytes.extend(TIME_BYTES);
        expected.time_stamp = Some(time());
    }
    if flags & 0x04 != 0 {
        bytes.push(0x04);
        expected.user_id = Some(4);
    }
    if flags & 0x08 != 0 {
        // BMI 223 → 22.3; Height 1754 → 1.754 m or 175.4 in.
        bytes.extend([0xDF, 0x00, 0xDA, 0x06]);
        expected.bmi = Some(22.3);
        expected.height = Some(if imperial { 175.4 } else { 1.754 });
    }
    (bytes, expected)
}

#[test]
fn all_16_flag_combinations() {
    for flags in 0u8..16 {
        let (bytes, expected) = build(flags);
        let expected_len = 3
            + if flags & 0x02 != 0 { 7 } else { 0 }
            + if flags & 0x04 != 0 { 1 } else { 0 }
            + if flags & 0x08 != 0 { 4 } else { 0 };
        assert_eq!(bytes.len(), expected_len, "flags {flags:#04x}");
        assert_eq!(decode_weight(&bytes), Ok(expected), "flags {flags:#04x}");
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

/// The fields of the longest payload (flags 0x0F): name, offset, size.
const FULL_LAYOUT: [(&str, usize, usize); 6] = [
    ("Flags", 0, 1),
    ("Weight", 1, 2),
    ("Time Stamp", 3, 7),
    ("User ID", 10, 1),
    ("BMI", 11, 2),
    ("Height", 13, 2),
];

#[test]
fn every_truncation_point_names_the_missing_field() {
    let (bytes, _) = build(0x0F);
    assert_eq!(bytes.len(), 15);
    for len in 0..bytes.len() {
        let (field, offset, size) = FULL_LAYOUT
            .into_iter()
            .find(|&(_, offset, size)| offset + size > len)
            .expect("shorter than the payload");
        assert_eq!(
            decode_weight(&bytes[..len]),
            Err(truncated(field, offset, size, len - offset)),
            "cut to {len} bytes"
        );
    }
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
    for (flags, last) in [
        (0x00, "Weight"),
        (0x03, "Time Stamp"),
        (0x04, "User ID"),
        (0x0F, "Height"),
    ] {
        let (mut bytes, _) = build(flags);
        let end = bytes.len();
        bytes.push(0x00);
        assert_eq!(
            decode_weight(&bytes),
            Err(DecodeError::new(
                last,
                end,
                DecodeProblem::TrailingBytes { extra: 1 }
            )),
            "flags {flags:#04x}"
        );
    }
}

#[test]
fn an_impossible_time_stamp_names_the_bad_byte() {
    // The Time Stamp starts at byte 3.
    for (time_bytes, offset) in [
        ([0x2D, 0x06, 0x01, 0x01, 0x00, 0x00, 0x00], 3), // year 1581
        ([0xE8, 0x07, 0x0D, 0x01, 0x00, 0x00, 0x00], 5), // month 13
        ([0xE8, 0x07, 0x01, 0x20, 0x00, 0x00, 0x00], 6), // day 32
        ([0xE8, 0x07, 0x01, 0x01, 0x18, 0x00, 0x00], 7), // hour 24
        ([0xE8, 0x07, 0x01, 0x01, 0x00, 0x3C, 0x00], 8), // minute 60
        ([0xE8, 0x07, 0x01, 0x01, 0x00, 0x00, 0x3C], 9), // second 60
    ] {
        let mut bytes = vec![0x02, 0xB1, 0x36];
        bytes.extend(time_bytes);
        assert_eq!(
            decode_weight(&bytes),
            Err(DecodeError::new(
                "Time Stamp",
                offset,
                DecodeProblem::OutOfRange
            ))
        );
    }
}

// --- Reserved bits -------------------------------------------------------------------

#[test]
fn reserved_flag_bits_are_ignored() {
    for flags in 0u8..16 {
        let (bytes, expected) = build(flags);
        for reserved in [0x10, 0x20, 0x40, 0x80, 0xF0] {
            let mut with = bytes.clone();
            with[0] |= reserved;
            assert_eq!(
                decode_weight(&with),
                Ok(expected.clone()),
                "flags {:#04x}",
                with[0]
            );
        }
    }
}

// --- Robustness ----------------------------------------------------------------------

#[test]
fn arbitrary_bytes_never_panic() {
    for flags in 0..=u8::MAX {
        for fill in [0x00, 0x7F, 0xFF] {
            for len in 0..=16 {
                let bytes: Vec<u8> = std::iter::once(flags)
                    .chain(std::iter::repeat(fill))
                    .take(len)
                    .collect();
                let _ = decode_weight(&bytes);
            }
        }
    }
}
