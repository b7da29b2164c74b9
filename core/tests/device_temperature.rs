//! Temperature Measurement (0x2A1C), byte by byte as the GATT Specification Supplement
//! lays it out: every flag combination, Celsius and Fahrenheit, every Temperature
//! Type, the IEEE-11073 FLOAT specials, and every way a payload can be cut short, run
//! long or carry an impossible date.

use nara_core::device::ieee11073::{Decimal, Medfloat, Special};
use nara_core::device::temperature::{
    TemperatureMeasurement, TemperatureType, TemperatureUnit, decode as decode_temperature,
};
use nara_core::device::time::DeviceTime;
use nara_core::device::{Characteristic, DecodeError, DecodeProblem, Decoded, decode};

/// `mantissa × 10^exponent` as the decoder returns it.
fn mf(mantissa: i32, exponent: i8) -> Medfloat {
    Medfloat::Value(Decimal { mantissa, exponent })
}

/// 36.4 as a FLOAT: exponent -1 (0xFF), mantissa 364 (0x00016C), little-endian.
const VALUE_36_4: [u8; 4] = [0x6C, 0x01, 0x00, 0xFF];

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

fn temperature(bytes: &[u8]) -> TemperatureMeasurement {
    match decode(Characteristic::TemperatureMeasurement, bytes) {
        Ok(Decoded::Temperature(m)) => m,
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
            time_stamp: Some(time()),
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

/// Builds the payload for `flags` (bits 0–2) and the measurement it must decode to.
fn build(flags: u8) -> (Vec<u8>, TemperatureMeasurement) {
    let mut bytes = vec![flags];
    bytes.extend(VALUE_36_4);
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
        bytes.extend(TIME_BYTES);
        expected.time_stamp = Some(time());
    }
    if flags & 0x04 != 0 {
        bytes.push(0x03);
        expected.temperature_type = Some(TemperatureType::Ear);
    }
    (bytes, expected)
}

#[test]
fn all_8_flag_combinations() {
    for flags in 0u8..8 {
        let (bytes, expected) = build(flags);
        let expected_len =
            5 + if flags & 0x02 != 0 { 7 } else { 0 } + if flags & 0x04 != 0 { 1 } else { 0 };
        assert_eq!(bytes.len(), expected_len, "flags {flags:#04x}");
        assert_eq!(
            decode_temperature(&bytes),
            Ok(expected),
            "flags {flags:#04x}"
        );
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
    let (bytes, _) = build(0x07);
    assert_eq!(bytes.len(), 13);
    let layout = [
        ("Flags", 0, 1),
        ("Temperature Measurement Value", 1, 4),
        ("Time Stamp", 5, 7),
        ("Temperature Type", 12, 1),
    ];
    for len in 0..bytes.len() {
        let (field, offset, size) = layout
            .into_iter()
            .find(|&(_, offset, size)| offset + size > len)
            .expect("shorter than the payload");
        assert_eq!(
            decode_temperature(&bytes[..len]),
            Err(truncated(field, offset, size, len - offset)),
            "cut to {len} bytes"
        );
    }
    // Temperature Type announced without a Time Stamp, and missing.
    assert_eq!(
        decode_temperature(&[0x04, 0x6C, 0x01, 0x00, 0xFF]),
        Err(truncated("Temperature Type", 5, 1, 0))
    );
}

#[test]
fn a_byte_after_the_last_field_is_refused() {
    for (flags, last) in [
        (0x00, "Temperature Measurement Value"),
        (0x03, "Time Stamp"),
        (0x04, "Temperature Type"),
        (0x07, "Temperature Type"),
    ] {
        let (mut bytes, _) = build(flags);
        let end = bytes.len();
        bytes.push(0x00);
        assert_eq!(
            decode_temperature(&bytes),
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
    // The Time Stamp starts at byte 5.
    for (time_bytes, offset) in [
        ([0x10, 0x27, 0x01, 0x01, 0x00, 0x00, 0x00], 5), // year 10000
        ([0xE8, 0x07, 0x0D, 0x01, 0x00, 0x00, 0x00], 7), // month 13
        ([0xE8, 0x07, 0x01, 0x20, 0x00, 0x00, 0x00], 8), // day 32
        ([0xE8, 0x07, 0x01, 0x01, 0x18, 0x00, 0x00], 9), // hour 24
        ([0xE8, 0x07, 0x01, 0x01, 0x00, 0x3C, 0x00], 10), // minute 60
        ([0xE8, 0x07, 0x01, 0x01, 0x00, 0x00, 0x3C], 11), // second 60
    ] {
        let mut bytes = vec![0x02];
        bytes.extend(VALUE_36_4);
        bytes.extend(time_bytes);
        assert_eq!(
            decode_temperature(&bytes),
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
    for flags in 0u8..8 {
        let (bytes, expected) = build(flags);
        for reserved in [0x08, 0x10, 0x20, 0x40, 0x80, 0xF8] {
            let mut with = bytes.clone();
            with[0] |= reserved;
            assert_eq!(
                decode_temperature(&with),
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
        for fill in [0x00, 0x7F, 0x80, 0xFF] {
            for len in 0..=14 {
                let bytes: Vec<u8> = std::iter::once(flags)
                    .chain(std::iter::repeat(fill))
                    .take(len)
                    .collect();
                let _ = decode_temperature(&bytes);
            }
        }
    }
}
