//! Temperature Measurement (0x2A1C), byte by byte as the GATT Specification Supplement
//! lays it out: every flag combination, Celsius and Fahrenheit, every Temperature
//! Type, the IEEE-11073 FLOAT specials, and every way a payload can be cut short, run
//! long or carry an impossible date.

mod device_support;

use device_support::{
    Segments, TIME_STAMP_BYTES, check_every_layout, check_last_fields, check_reserved_bits_ignored,
    check_truncation_and_trailing, concat, decoded, every_flags_and_fill, mf, out_of_range,
    time_stamp, truncated, with_impossible_date_times,
};
use nara_core::device::ieee11073::{Medfloat, Special};
use nara_core::device::temperature::{
    TemperatureMeasurement, TemperatureType, TemperatureUnit, decode as decode_temperature,
};
use nara_core::device::{Characteristic, Decoded};

/// 36.4 as a FLOAT: exponent -1 (0xFF), mantissa 364 (0x00016C), little-endian.
const VALUE_36_4: [u8; 4] = [0x6C, 0x01, 0x00, 0xFF];

fn temperature(bytes: &[u8]) -> TemperatureMeasurement {
    decoded!(
        Characteristic::TemperatureMeasurement,
        Decoded::Temperature,
        bytes
    )
}

// --- Hand-written payloads -----------------------------------------------------------

#[test]
fn celsius_alone() {
    let m = temperature(&[0x00, 0x6C, 0x01, 0x00, 0xFF]);
    assert_eq!(
        m,
        TemperatureMeasurement {
            unit: TemperatureUnit::Celsius,
            value: mf(364, -1),
            time_stamp: None,
            temperature_type: None,
        }
    );
    assert_eq!(m.celsius(), Ok(36.4));
}

#[test]
fn fahrenheit_with_time_stamp_and_type() {
    let bytes = [
        0x07, // Flags: Fahrenheit, Time Stamp, Temperature Type
        0xDA, 0x03, 0x00, 0xFF, // 986 × 10⁻¹ = 98.6 °F
        0xE8, 0x07, 0x0B, 0x18, 0x07, 0x1E, 0x00, // 2024-11-24 07:30:00
        0x06, // Mouth
    ];
    let m = temperature(&bytes);
    assert_eq!(
        m,
        TemperatureMeasurement {
            unit: TemperatureUnit::Fahrenheit,
            value: mf(986, -1),
            time_stamp: Some(time_stamp()),
            temperature_type: Some(TemperatureType::Mouth),
        }
    );
    let c = m.celsius().expect("a number");
    assert!((c - 37.0).abs() < 1e-9, "{c}");
}

#[test]
fn negative_temperature_with_type() {
    // Flags 0x04: Celsius, Temperature Type. -40.25: exponent -2, mantissa -4025.
    let m = temperature(&[0x04, 0x47, 0xF0, 0xFF, 0xFE, 0x09]);
    assert_eq!(m.value, mf(-4025, -2));
    assert_eq!(m.celsius(), Ok(-40.25));
    assert_eq!(m.temperature_type, Some(TemperatureType::Tympanum));
}

// --- Every flag combination ----------------------------------------------------------

/// Builds the payload for `flags` (bits 0–2), field by field, and the measurement it
/// must decode to.
fn build(flags: u8) -> (Segments, TemperatureMeasurement) {
    let mut segments: Segments = vec![
        ("Flags", vec![flags]),
        ("Temperature Measurement Value", VALUE_36_4.to_vec()),
    ];
    let mut expected = TemperatureMeasurement {
        unit: if flags & 0x01 != 0 {
            TemperatureUnit::Fahrenheit
        } else {
            TemperatureUnit::Celsius
        },
        value: mf(364, -1),
        time_stamp: None,
        temperature_type: None,
    };
    if flags & 0x02 != 0 {
        segments.push(("Time Stamp", TIME_STAMP_BYTES.to_vec()));
        expected.time_stamp = Some(time_stamp());
    }
    if flags & 0x04 != 0 {
        segments.push(("Temperature Type", vec![0x03]));
        expected.temperature_type = Some(TemperatureType::Ear);
    }
    (segments, expected)
}

#[test]
fn all_8_flag_combinations() {
    check_every_layout(0..8, 5, &[(0x02, 7), (0x04, 1)], build, decode_temperature);
    // Cut at every length, and with bytes after the last field.
    for flags in 0u8..8 {
        check_truncation_and_trailing(&build(flags).0, decode_temperature);
    }
}

#[test]
fn every_temperature_type() {
    let named = [
        (1, TemperatureType::Armpit),
        (2, TemperatureType::Body),
        (3, TemperatureType::Ear),
        (4, TemperatureType::Finger),
        (5, TemperatureType::GastrointestinalTract),
        (6, TemperatureType::Mouth),
        (7, TemperatureType::Rectum),
        (8, TemperatureType::Toe),
        (9, TemperatureType::Tympanum),
    ];
    for raw in 0..=u8::MAX {
        let mut bytes = vec![0x04];
        bytes.extend(VALUE_36_4);
        bytes.push(raw);
        let expected = named
            .iter()
            .find(|(n, _)| *n == raw)
            .map_or(TemperatureType::Reserved(raw), |&(_, t)| t);
        assert_eq!(
            temperature(&bytes).temperature_type,
            Some(expected),
            "type {raw}"
        );
    }
}

// --- Units ---------------------------------------------------------------------------

#[test]
fn fahrenheit_converts_to_celsius() {
    for (value, celsius) in [
        ([0xDA, 0x03, 0x00, 0xFF], 37.0),  // 98.6 °F
        ([0x20, 0x00, 0x00, 0x00], 0.0),   // 32 °F
        ([0xD8, 0xFF, 0xFF, 0x00], -40.0), // -40 °F
        ([0xEC, 0x03, 0x00, 0xFF], 38.0),  // 100.4 °F
        ([0x6A, 0x28, 0x00, 0xFE], 39.7),  // 103.46 °F
    ] {
        let mut bytes = vec![0x01];
        bytes.extend(value);
        let c = temperature(&bytes).celsius().expect("a number");
        assert!((c - celsius).abs() < 1e-9, "{c} ≠ {celsius}");
    }
    // Celsius passes through untouched.
    let mut bytes = vec![0x00];
    bytes.extend(VALUE_36_4);
    assert_eq!(temperature(&bytes).celsius(), Ok(36.4));
}

// --- IEEE-11073 specials ---------------------------------------------------------------

#[test]
fn float_specials_are_reasons_not_numbers() {
    for (value, special) in [
        ([0xFF, 0xFF, 0x7F, 0x00], Special::NaN),
        ([0x00, 0x00, 0x80, 0x00], Special::NRes),
        ([0xFE, 0xFF, 0x7F, 0x00], Special::PositiveInfinity),
        ([0x02, 0x00, 0x80, 0x00], Special::NegativeInfinity),
        ([0x01, 0x00, 0x80, 0x00], Special::Reserved),
        // A special mantissa with a non-zero exponent is no number either.
        ([0xFF, 0xFF, 0x7F, 0xFF], Special::Reserved),
    ] {
        for flags in [0x00, 0x01] {
            let mut bytes = vec![flags];
            bytes.extend(value);
            let m = temperature(&bytes);
            assert_eq!(m.value, Medfloat::Special(special), "{value:02X?}");
            assert_eq!(m.celsius(), Err(special));
        }
    }
}

// --- Errors --------------------------------------------------------------------------

#[test]
fn every_truncation_point_names_the_missing_field() {
    // The longest payload (flags 0x07): name and bytes of each field.
    let segments: Segments = vec![
        ("Flags", vec![0x07]),
        (
            "Temperature Measurement Value",
            vec![0x6C, 0x01, 0x00, 0xFF],
        ),
        ("Time Stamp", vec![0xE8, 0x07, 0x0B, 0x18, 0x07, 0x1E, 0x00]),
        ("Temperature Type", vec![0x03]),
    ];
    assert_eq!(concat(&segments), concat(&build(0x07).0));
    assert_eq!(concat(&segments).len(), 13);
    check_truncation_and_trailing(&segments, decode_temperature);
    // Temperature Type announced without a Time Stamp, and missing.
    assert_eq!(
        decode_temperature(&[0x04, 0x6C, 0x01, 0x00, 0xFF]),
        Err(truncated("Temperature Type", 5, 1, 0))
    );
}

#[test]
fn a_byte_after_the_last_field_is_refused() {
    check_last_fields(
        &[
            (0x00, "Temperature Measurement Value"),
            (0x03, "Time Stamp"),
            (0x04, "Temperature Type"),
            (0x07, "Temperature Type"),
        ],
        |flags| build(flags).0,
        decode_temperature,
    );
}

#[test]
fn an_impossible_time_stamp_names_the_bad_byte() {
    // Flags 0x02, 36.4; the Time Stamp starts at byte 5.
    for (bytes, offset) in with_impossible_date_times(&[0x02, 0x6C, 0x01, 0x00, 0xFF]) {
        assert_eq!(
            decode_temperature(&bytes),
            Err(out_of_range("Time Stamp", offset))
        );
    }
}

// --- Reserved bits -------------------------------------------------------------------

#[test]
fn reserved_flag_bits_are_ignored() {
    check_reserved_bits_ignored(
        0..8,
        &[0x08, 0x10, 0x20, 0x40, 0x80, 0xF8],
        build,
        decode_temperature,
    );
}

// --- Robustness ----------------------------------------------------------------------

#[test]
fn arbitrary_bytes_never_panic() {
    for bytes in every_flags_and_fill(&[0x00, 0x7F, 0x80, 0xFF], 14) {
        let _ = decode_temperature(&bytes);
    }
}
