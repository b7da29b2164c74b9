//! Blood Pressure Measurement (0x2A35) and Intermediate Cuff Pressure (0x2A36), byte
//! by byte as the GATT Specification Supplement lays them out: every flag
//! combination, the units, the IEEE-11073 specials, and every way a payload can be
//! cut short, run long or carry an impossible date.

use nara_core::device::blood_pressure::{
    BloodPressureMeasurement, IntermediateCuffPressure, MeasurementStatus, PressureUnit,
    PulseRateRange, UNKNOWN_USER, decode_intermediate, decode_measurement, to_mmhg,
};
use nara_core::device::ieee11073::{Decimal, Medfloat, Special};
use nara_core::device::time::DeviceTime;
use nara_core::device::{Characteristic, DecodeError, DecodeProblem, Decoded, decode};

/// `mantissa × 10^exponent` as the decoder returns it.
fn mf(mantissa: i32, exponent: i8) -> Medfloat {
    Medfloat::Value(Decimal { mantissa, exponent })
}

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

fn status(
    body_movement: bool,
    cuff_too_loose: bool,
    irregular_pulse: bool,
    pulse_rate_range: PulseRateRange,
    improper_position: bool,
) -> MeasurementStatus {
    MeasurementStatus {
        body_movement,
        cuff_too_loose,
        irregular_pulse,
        pulse_rate_range,
        improper_position,
    }
}

fn measurement(bytes: &[u8]) -> BloodPressureMeasurement {
    match decode(Characteristic::BloodPressureMeasurement, bytes) {
        Ok(Decoded::BloodPressure(m)) => m,
        other => panic!("{bytes:02X?} decoded to {other:?}"),
    }
}

fn intermediate(bytes: &[u8]) -> IntermediateCuffPressure {
    match decode(Characteristic::IntermediateCuffPressure, bytes) {
        Ok(Decoded::IntermediateCuffPressure(m)) => m,
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
fn mmhg_with_time_stamp_pulse_user_and_status() {
    // Flags 0x1E: mmHg, Time Stamp, Pulse Rate, User ID, Measurement Status.
    let bytes = [
        0x1E, // Flags
        0x79, 0x00, // Systolic 121
        0x50, 0x00, // Diastolic 80
        0x5F, 0x00, // MAP 95
        0xE8, 0x07, 0x0B, 0x18, 0x07, 0x1E, 0x00, // 2024-11-24 07:30:00
        0x48, 0x00, // Pulse Rate 72
        0x01, // User ID 1
        0x06, 0x00, // Status: cuff too loose, irregular pulse
    ];
    assert_eq!(
        measurement(&bytes),
        BloodPressureMeasurement {
            unit: PressureUnit::MmHg,
            systolic: mf(121, 0),
            diastolic: mf(80, 0),
            mean_arterial_pressure: mf(95, 0),
            time_stamp: Some(time()),
            pulse_rate: Some(mf(72, 0)),
            user_id: Some(1),
            status: Some(status(
                false,
                true,
                true,
                PulseRateRange::WithinRange,
                false
            )),
        }
    );
}

#[test]
fn only_the_three_pressures() {
    let m = measurement(&[0x00, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00]);
    assert_eq!(
        m,
        BloodPressureMeasurement {
            unit: PressureUnit::MmHg,
            systolic: mf(120, 0),
            diastolic: mf(80, 0),
            mean_arterial_pressure: mf(93, 0),
            time_stamp: None,
            pulse_rate: None,
            user_id: None,
            status: None,
        }
    );
}

#[test]
fn kpa_with_decimals_and_a_time_stamp() {
    // Flags 0x03: kPa, Time Stamp. 16.0 / 10.7 / 12.4 kPa (exponent -1 = 0xF).
    let bytes = [
        0x03, 0xA0, 0xF0, 0x6B, 0xF0, 0x7C, 0xF0, // pressures
        0xE9, 0x07, 0x01, 0x05, 0x16, 0x0F, 0x09, // 2025-01-05 22:15:09
    ];
    let m = measurement(&bytes);
    assert_eq!(m.unit, PressureUnit::KPa);
    assert_eq!(m.systolic.ok(), Some(16.0));
    assert_eq!(m.diastolic.ok(), Some(10.7));
    assert_eq!(m.mean_arterial_pressure.ok(), Some(12.4));
    assert_eq!(
        m.time_stamp,
        Some(DeviceTime {
            year: Some(2025),
            month: Some(1),
            day: Some(5),
            hours: 22,
            minutes: 15,
            seconds: 9,
        })
    );
    assert_eq!((m.pulse_rate, m.user_id, m.status), (None, None, None));
}

#[test]
fn every_field_with_an_unknown_user_and_a_fast_pulse() {
    // Flags 0x1F; systolic 120.4 mmHg (0xF4B4); status bits 0, 3 (range 1) and 5.
    let bytes = [
        0x1F, 0xB4, 0xF4, 0x52, 0x00, 0x60, 0x00, 0xE8, 0x07, 0x0B, 0x18, 0x07, 0x1E, 0x00, 0x82,
        0x00, 0xFF, 0x29, 0x00,
    ];
    let m = measurement(&bytes);
    assert_eq!(m.unit, PressureUnit::KPa);
    assert_eq!(m.systolic, mf(1204, -1));
    assert_eq!(m.systolic.ok(), Some(120.4));
    assert_eq!(m.pulse_rate, Some(mf(130, 0)));
    assert_eq!(m.user_id, Some(UNKNOWN_USER));
    assert_eq!(
        m.status,
        Some(status(
            true,
            false,
            false,
            PulseRateRange::ExceedsUpperLimit,
            true
        ))
    );
}

#[test]
fn intermediate_cuff_pressure_reads_and_drops_the_unused_fields() {
    // Flags 0x04: mmHg, Pulse Rate. Cuff 140 mmHg, unused fields NaN, pulse 62.
    let bytes = [0x04, 0x8C, 0x00, 0xFF, 0x07, 0xFF, 0x07, 0x3E, 0x00];
    assert_eq!(
        intermediate(&bytes),
        IntermediateCuffPressure {
            unit: PressureUnit::MmHg,
            cuff_pressure: mf(140, 0),
            time_stamp: None,
            pulse_rate: Some(mf(62, 0)),
            user_id: None,
            status: None,
        }
    );
    // The unused fields are still part of the layout: without them it is short.
    assert_eq!(
        decode_intermediate(&[0x00, 0x8C, 0x00]),
        Err(truncated("Diastolic", 3, 2, 0))
    );
}

// --- Every flag combination ----------------------------------------------------------

/// Builds the payload for `flags` (bits 0–4) and the measurement it must decode to.
fn build(flags: u8) -> (Vec<u8>, BloodPressureMeasurement) {
    let mut bytes = vec![flags];
    // 118 / 76 / 90 in either unit; the numbers are the same, the unit differs.
    bytes.extend([0x76, 0x00, 0x4C, 0x00, 0x5A, 0x00]);
    let mut expected = BloodPressureMeasurement {
        unit: if flags & 0x01 != 0 {
            PressureUnit::KPa
        } else {
            PressureUnit::MmHg
        },
        systolic: mf(118, 0),
        diastolic: mf(76, 0),
        mean_arterial_pressure: mf(90, 0),
        time_stamp: None,
        pulse_rate: None,
        user_id: None,
        status: None,
    };
    if flags & 0x02 != 0 {
        bytes.extend(TIME_BYTES);
        expected.time_stamp = Some(time());
    }
    if flags & 0x04 != 0 {
        bytes.extend([0x41, 0x00]); // 65 bpm
        expected.pulse_rate = Some(mf(65, 0));
    }
    if flags & 0x08 != 0 {
        bytes.push(0x02);
        expected.user_id = Some(2);
    }
    if flags & 0x10 != 0 {
        bytes.extend([0x11, 0x00]); // body movement, pulse below lower limit
        expected.status = Some(status(
            true,
            false,
            false,
            PulseRateRange::BelowLowerLimit,
            false,
        ));
    }
    (bytes, expected)
}

#[test]
fn all_32_flag_combinations() {
    for flags in 0u8..32 {
        let (bytes, expected) = build(flags);
        let expected_len = 7
            + if flags & 0x02 != 0 { 7 } else { 0 }
            + if flags & 0x04 != 0 { 2 } else { 0 }
            + if flags & 0x08 != 0 { 1 } else { 0 }
            + if flags & 0x10 != 0 { 2 } else { 0 };
        assert_eq!(bytes.len(), expected_len, "flags {flags:#04x}");
        assert_eq!(
            decode_measurement(&bytes),
            Ok(expected.clone()),
            "flags {flags:#04x}"
        );

        // 0x2A36 has the same layout: the systolic position is the cuff pressure.
        assert_eq!(
            decode_intermediate(&bytes),
            Ok(IntermediateCuffPressure {
                unit: expected.unit,
                cuff_pressure: expected.systolic,
                time_stamp: expected.time_stamp,
                pulse_rate: expected.pulse_rate,
                user_id: expected.user_id,
                status: expected.status,
            }),
            "flags {flags:#04x}"
        );
    }
}

// --- Units ---------------------------------------------------------------------------

#[test]
fn kpa_converts_to_mmhg_and_mmhg_stays() {
    // 16.0 kPa = 16 000 Pa / 133.322 387 415 Pa per mmHg.
    let kpa = to_mmhg(mf(160, -1), PressureUnit::KPa).expect("a number");
    assert!((kpa - 120.009_852).abs() < 1e-6, "{kpa}");
    let kpa = to_mmhg(mf(133, -1), PressureUnit::KPa).expect("a number");
    assert!((kpa - 99.758_2).abs() < 1e-4, "{kpa}");
    assert_eq!(to_mmhg(mf(1204, -1), PressureUnit::MmHg), Ok(120.4));

    let m = measurement(&[0x01, 0xA0, 0xF0, 0x6B, 0xF0, 0x7C, 0xF0]);
    let sys = to_mmhg(m.systolic, m.unit).expect("a number");
    assert!((sys - 120.009_852).abs() < 1e-6, "{sys}");
}

// --- IEEE-11073 specials ---------------------------------------------------------------

#[test]
fn sfloat_specials_are_reasons_not_numbers() {
    // Systolic NaN, Diastolic NRes, MAP +INF, Pulse Rate -INF.
    let m = measurement(&[0x04, 0xFF, 0x07, 0x00, 0x08, 0xFE, 0x07, 0x02, 0x08]);
    assert_eq!(m.systolic, Medfloat::Special(Special::NaN));
    assert_eq!(m.diastolic, Medfloat::Special(Special::NRes));
    assert_eq!(
        m.mean_arterial_pressure,
        Medfloat::Special(Special::PositiveInfinity)
    );
    assert_eq!(
        m.pulse_rate,
        Some(Medfloat::Special(Special::NegativeInfinity))
    );
    assert_eq!(to_mmhg(m.systolic, m.unit), Err(Special::NaN));
    assert_eq!(
        to_mmhg(m.mean_arterial_pressure, PressureUnit::KPa),
        Err(Special::PositiveInfinity)
    );
    assert_eq!(m.systolic.ok(), None);
    assert!(!Special::NaN.reason().is_empty());

    // The reserved mantissa, and a special mantissa with a non-zero exponent.
    let m = measurement(&[0x00, 0x01, 0x08, 0xFF, 0x17, 0x50, 0x00]);
    assert_eq!(m.systolic, Medfloat::Special(Special::Reserved));
    assert_eq!(m.diastolic, Medfloat::Special(Special::Reserved));
    assert_eq!(m.mean_arterial_pressure, mf(80, 0));

    let cuff = intermediate(&[0x00, 0xFE, 0x07, 0xFF, 0x07, 0xFF, 0x07]);
    assert_eq!(
        cuff.cuff_pressure,
        Medfloat::Special(Special::PositiveInfinity)
    );
}

// --- Errors --------------------------------------------------------------------------

/// The fields of the longest payload (flags 0x1F): name, offset, size.
const FULL_LAYOUT: [(&str, usize, usize); 8] = [
    ("Flags", 0, 1),
    ("Systolic", 1, 2),
    ("Diastolic", 3, 2),
    ("Mean Arterial Pressure", 5, 2),
    ("Time Stamp", 7, 7),
    ("Pulse Rate", 14, 2),
    ("User ID", 16, 1),
    ("Measurement Status", 17, 2),
];

/// The field a payload cut to `len` bytes runs out in.
fn cut_field(len: usize) -> (&'static str, usize, usize) {
    FULL_LAYOUT
        .into_iter()
        .find(|&(_, offset, size)| offset + size > len)
        .expect("len is shorter than the payload")
}

#[test]
fn every_truncation_point_names_the_missing_field() {
    let (bytes, _) = build(0x1F);
    assert_eq!(bytes.len(), 19);
    for len in 0..bytes.len() {
        let (field, offset, size) = cut_field(len);
        assert_eq!(
            decode_measurement(&bytes[..len]),
            Err(truncated(field, offset, size, len - offset)),
            "cut to {len} bytes"
        );
        let field = if field == "Systolic" {
            "Intermediate Cuff Pressure"
        } else {
            field
        };
        assert_eq!(
            decode_intermediate(&bytes[..len]),
            Err(truncated(field, offset, size, len - offset)),
            "0x2A36 cut to {len} bytes"
        );
    }
}

#[test]
fn flags_announcing_a_field_the_payload_lacks() {
    // User ID announced, nothing after the pressures.
    assert_eq!(
        decode_measurement(&[0x08, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00]),
        Err(truncated("User ID", 7, 1, 0))
    );
    // Measurement Status announced with one byte of it.
    assert_eq!(
        decode_measurement(&[0x10, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00, 0x01]),
        Err(truncated("Measurement Status", 7, 2, 1))
    );
}

#[test]
fn a_byte_after_the_last_field_is_refused() {
    for (flags, last) in [
        (0x00, "Mean Arterial Pressure"),
        (0x02, "Time Stamp"),
        (0x06, "Pulse Rate"),
        (0x0F, "User ID"),
        (0x1F, "Measurement Status"),
    ] {
        let (mut bytes, _) = build(flags);
        let end = bytes.len();
        bytes.push(0x00);
        let expected = DecodeError::new(last, end, DecodeProblem::TrailingBytes { extra: 1 });
        assert_eq!(decode_measurement(&bytes), Err(expected.clone()));
        assert_eq!(decode_intermediate(&bytes), Err(expected));
    }
}

#[test]
fn an_impossible_time_stamp_names_the_bad_byte() {
    // The Time Stamp starts at byte 7; each case breaks one of its parts.
    for (time_bytes, offset) in [
        ([0xE8, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00], 7), // year 1000
        ([0xE8, 0x07, 0x0D, 0x01, 0x00, 0x00, 0x00], 9), // month 13
        ([0xE8, 0x07, 0x01, 0x20, 0x00, 0x00, 0x00], 10), // day 32
        ([0xE8, 0x07, 0x01, 0x01, 0x18, 0x00, 0x00], 11), // hour 24
        ([0xE8, 0x07, 0x01, 0x01, 0x00, 0x3C, 0x00], 12), // minute 60
        ([0xE8, 0x07, 0x01, 0x01, 0x00, 0x00, 0x3C], 13), // second 60
    ] {
        let mut bytes = vec![0x02, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00];
        bytes.extend(time_bytes);
        let expected = DecodeError::new("Time Stamp", offset, DecodeProblem::OutOfRange);
        assert_eq!(decode_measurement(&bytes), Err(expected.clone()));
        assert_eq!(decode_intermediate(&bytes), Err(expected));
    }
}

#[test]
fn an_unknown_date_is_not_an_error() {
    let mut bytes = vec![0x02, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00];
    bytes.extend([0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00]);
    let t = measurement(&bytes).time_stamp.expect("a time stamp");
    assert_eq!((t.year, t.month, t.day, t.hours), (None, None, None, 8));
}

// --- Reserved bits -------------------------------------------------------------------

#[test]
fn reserved_flag_bits_are_ignored() {
    for flags in 0u8..32 {
        let (bytes, expected) = build(flags);
        for reserved in [0x20, 0x40, 0x80, 0xE0] {
            let mut with = bytes.clone();
            with[0] |= reserved;
            assert_eq!(
                decode_measurement(&with),
                Ok(expected.clone()),
                "flags {:#04x}",
                with[0]
            );
            assert_eq!(
                decode_intermediate(&with).map(|m| m.cuff_pressure),
                Ok(expected.systolic)
            );
        }
    }
}

#[test]
fn reserved_status_bits_are_ignored_and_range_3_is_reserved() {
    let base = [0x10, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00];
    let with_status = |lo: u8, hi: u8| {
        let mut bytes = base.to_vec();
        bytes.extend([lo, hi]);
        measurement(&bytes).status.expect("status")
    };
    // Bits 6–15 are reserved.
    assert_eq!(with_status(0x25, 0x00), with_status(0xE5, 0xFF));
    assert_eq!(
        with_status(0x25, 0x00),
        status(true, false, true, PulseRateRange::WithinRange, true)
    );
    // Pulse rate range: 0 within, 1 above, 2 below, 3 reserved.
    for (bits, range) in [
        (0x00, PulseRateRange::WithinRange),
        (0x08, PulseRateRange::ExceedsUpperLimit),
        (0x10, PulseRateRange::BelowLowerLimit),
        (0x18, PulseRateRange::Reserved),
    ] {
        assert_eq!(with_status(bits, 0x00).pulse_rate_range, range);
    }
    // Every single defined bit maps to its own flag.
    assert!(with_status(0x01, 0x00).body_movement);
    assert!(with_status(0x02, 0x00).cuff_too_loose);
    assert!(with_status(0x04, 0x00).irregular_pulse);
    assert!(with_status(0x20, 0x00).improper_position);
}

// --- Robustness ----------------------------------------------------------------------

#[test]
fn arbitrary_bytes_never_panic() {
    // Every flags value with every length up to the longest payload plus one, filled
    // with three different patterns.
    for flags in 0..=u8::MAX {
        for fill in [0x00, 0x7F, 0xFF] {
            for len in 0..=20 {
                let bytes: Vec<u8> = std::iter::once(flags)
                    .chain(std::iter::repeat(fill))
                    .take(len)
                    .collect();
                let _ = decode_measurement(&bytes);
                let _ = decode_intermediate(&bytes);
            }
        }
    }
}
