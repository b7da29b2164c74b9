//! Heart Rate Measurement (0x2A37), byte by byte as the GATT Specification Supplement
//! lays it out: both value formats, every sensor contact status, Energy Expended, one
//! or many RR-Intervals, and every way a payload can be cut short or run long.

mod device_support;

use device_support::{
    Segments, check_every_layout, check_reserved_bits_ignored, check_truncation,
    check_truncation_and_trailing, concat, decoded, every_flags_and_fill, trailing, truncated,
};
use nara_core::device::heart_rate::{HeartRateMeasurement, SensorContact, decode as decode_hr};
use nara_core::device::{Characteristic, Decoded};

fn heart_rate(bytes: &[u8]) -> HeartRateMeasurement {
    decoded!(
        Characteristic::HeartRateMeasurement,
        Decoded::HeartRate,
        bytes
    )
}

// --- Hand-written payloads -----------------------------------------------------------

#[test]
fn uint8_value_alone() {
    assert_eq!(
        heart_rate(&[0x00, 0x48]),
        HeartRateMeasurement {
            bpm: 72,
            sensor_contact: SensorContact::NotSupported,
            energy_expended_kj: None,
            rr_intervals_ms: vec![],
        }
    );
}

#[test]
fn contact_detected_with_one_rr_interval() {
    // Flags 0x16: uint8, contact detected (bits 1–2 = 3), RR-Interval present.
    // RR 0x0400 = 1024/1024 s = 1000 ms.
    assert_eq!(
        heart_rate(&[0x16, 0x48, 0x00, 0x04]),
        HeartRateMeasurement {
            bpm: 72,
            sensor_contact: SensorContact::Detected,
            energy_expended_kj: None,
            rr_intervals_ms: vec![1000.0],
        }
    );
}

#[test]
fn uint16_value_with_energy_and_two_rr_intervals() {
    let bytes = [
        0x19, // Flags: uint16, Energy Expended, RR-Interval
        0x2C, 0x01, // 300 bpm
        0x23, 0x01, // 291 kJ
        0x20, 0x03, // RR 800/1024 s = 781.25 ms
        0xE8, 0x03, // RR 1000/1024 s = 976.5625 ms
    ];
    assert_eq!(
        heart_rate(&bytes),
        HeartRateMeasurement {
            bpm: 300,
            sensor_contact: SensorContact::NotSupported,
            energy_expended_kj: Some(291),
            rr_intervals_ms: vec![781.25, 976.5625],
        }
    );
}

#[test]
fn no_contact_with_energy() {
    // Flags 0x0C: uint8, contact supported but not detected, Energy Expended.
    assert_eq!(
        heart_rate(&[0x0C, 0x3C, 0xFF, 0xFF]),
        HeartRateMeasurement {
            bpm: 60,
            sensor_contact: SensorContact::NotDetected,
            energy_expended_kj: Some(0xFFFF),
            rr_intervals_ms: vec![],
        }
    );
}

#[test]
fn sensor_contact_values() {
    for (bits, contact) in [
        (0x00, SensorContact::NotSupported),
        (0x02, SensorContact::NotSupported),
        (0x04, SensorContact::NotDetected),
        (0x06, SensorContact::Detected),
    ] {
        assert_eq!(heart_rate(&[bits, 0x48]).sensor_contact, contact);
    }
}

#[test]
fn rr_intervals_run_to_the_end_oldest_first() {
    for count in 1..=9u16 {
        // Flags 0x11: uint16 value, RR-Intervals; raw values 512, 513, ….
        let mut bytes = vec![0x11, 0x48, 0x00];
        for i in 0..count {
            bytes.extend((512 + i).to_le_bytes());
        }
        let m = heart_rate(&bytes);
        let expected: Vec<f64> = (0..count)
            .map(|i| f64::from(512 + i) * 1000.0 / 1024.0)
            .collect();
        assert_eq!(m.rr_intervals_ms, expected, "{count} intervals");
        assert_eq!(m.rr_intervals_ms[0], 500.0);
    }
    // The extremes: 0 and 65535/1024 s.
    let m = heart_rate(&[0x10, 0x48, 0x00, 0x00, 0xFF, 0xFF]);
    assert_eq!(m.rr_intervals_ms, vec![0.0, 63_999.023_437_5]);
}

// --- Every flag combination ----------------------------------------------------------

/// Builds the payload for `flags` (bits 0–4), field by field, and the measurement it
/// must decode to.
fn build(flags: u8) -> (Segments, HeartRateMeasurement) {
    let (value, bpm) = if flags & 0x01 != 0 {
        (vec![0x2C, 0x01], 300) // 300: needs the second byte
    } else {
        (vec![0xB4], 180)
    };
    let mut segments: Segments = vec![
        ("Flags", vec![flags]),
        ("Heart Rate Measurement Value", value),
    ];
    let sensor_contact = match (flags >> 1) & 0x03 {
        0 | 1 => SensorContact::NotSupported,
        2 => SensorContact::NotDetected,
        _ => SensorContact::Detected,
    };
    let mut expected = HeartRateMeasurement {
        bpm,
        sensor_contact,
        energy_expended_kj: None,
        rr_intervals_ms: vec![],
    };
    if flags & 0x08 != 0 {
        segments.push(("Energy Expended", vec![0x10, 0x27])); // 10 000 kJ
        expected.energy_expended_kj = Some(10_000);
    }
    if flags & 0x10 != 0 {
        segments.push(("RR-Interval", vec![0x20, 0x03])); // 781.25 ms
        segments.push(("RR-Interval", vec![0xE8, 0x03])); // 976.5625 ms
        expected.rr_intervals_ms = vec![781.25, 976.5625];
    }
    (segments, expected)
}

#[test]
fn all_32_flag_combinations() {
    // Format × sensor contact (4 values) × Energy Expended × RR-Intervals.
    // The value is one byte, or two with bit 0.
    let optional = [(0x01, 1), (0x08, 2), (0x10, 4)];
    check_every_layout(0..32, 2, &optional, build, decode_hr);
    for flags in 0u8..32 {
        let segments = build(flags).0;
        if flags & 0x10 == 0 {
            check_truncation_and_trailing(&segments, decode_hr);
        } else {
            // Cut within the first interval; after it, the second is optional and a
            // byte more would start a third.
            check_truncation(&segments[..segments.len() - 1], decode_hr);
        }
    }
}

// --- Errors --------------------------------------------------------------------------

#[test]
fn every_truncation_point_names_the_missing_field() {
    // Flags 0x19 with one RR-Interval: the longest fixed layout. (A byte more is the
    // start of another interval, not a trailing byte: see below.)
    let segments: Segments = vec![
        ("Flags", vec![0x19]),
        ("Heart Rate Measurement Value", vec![0x2C, 0x01]),
        ("Energy Expended", vec![0x23, 0x01]),
        ("RR-Interval", vec![0x20, 0x03]),
    ];
    assert_eq!(
        concat(&segments),
        [0x19, 0x2C, 0x01, 0x23, 0x01, 0x20, 0x03]
    );
    check_truncation(&segments, decode_hr);
    // The uint8 format needs one byte of value.
    assert_eq!(
        decode_hr(&[0x00]),
        Err(truncated("Heart Rate Measurement Value", 1, 1, 0))
    );
}

#[test]
fn rr_flag_needs_at_least_one_whole_interval() {
    // Flag set, no interval at all.
    assert_eq!(
        decode_hr(&[0x10, 0x48]),
        Err(truncated("RR-Interval", 2, 2, 0))
    );
    assert_eq!(
        decode_hr(&[0x19, 0x2C, 0x01, 0x23, 0x01]),
        Err(truncated("RR-Interval", 5, 2, 0))
    );
    // An odd byte after whole intervals is a cut interval.
    assert_eq!(
        decode_hr(&[0x10, 0x48, 0x00, 0x04, 0x01]),
        Err(truncated("RR-Interval", 4, 2, 1))
    );
    assert_eq!(
        decode_hr(&[0x10, 0x48, 0x00, 0x04, 0x00, 0x04, 0x01]),
        Err(truncated("RR-Interval", 6, 2, 1))
    );
}

#[test]
fn a_byte_after_the_last_field_is_refused_without_rr_intervals() {
    for (bytes, last, end) in [
        (vec![0x00, 0x48, 0xAA], "Heart Rate Measurement Value", 2),
        (
            vec![0x01, 0x48, 0x00, 0xAA],
            "Heart Rate Measurement Value",
            3,
        ),
        (vec![0x08, 0x48, 0x23, 0x01, 0xAA], "Energy Expended", 4),
        // Two extra bytes look like an RR-Interval, but the flag does not announce one.
        (
            vec![0x00, 0x48, 0x00, 0x04],
            "Heart Rate Measurement Value",
            2,
        ),
    ] {
        let extra = bytes.len() - end;
        assert_eq!(
            decode_hr(&bytes),
            Err(trailing(last, end, extra)),
            "{bytes:02X?}"
        );
    }
}

// --- Reserved bits -------------------------------------------------------------------

#[test]
fn reserved_flag_bits_are_ignored() {
    check_reserved_bits_ignored(0..32, &[0x20, 0x40, 0x80, 0xE0], build, decode_hr);
}

// --- Robustness ----------------------------------------------------------------------

#[test]
fn arbitrary_bytes_never_panic() {
    for bytes in every_flags_and_fill(&[0x00, 0x7F, 0xFF], 12) {
        let _ = decode_hr(&bytes);
    }
}
