//! Blood Pressure Measurement (0x2A35) and Intermediate Cuff Pressure (0x2A36), byte
//! by byte as the GATT Specification Supplement lays them out: every flag
//! combination, the units, the IEEE-11073 specials, and every way a payload can be
//! cut short, run long or carry an impossible date.

use nara_core::device::blood_pressure::{
    BloodPressureMeasurement, IntermediateCuffPressure, MeasurementStatus, PressureUnit,
    PulseRateRange, UNKNOWN_USER, decode_intermediate, decode_measurement, to_mmhg,
};
mod device_support;

use device_support::{
    Segments, TIME_STAMP_BYTES, check_every_layout, check_last_fields, check_reserved_bits_ignored,
    check_truncation_and_trailing, concat, date_time, decoded, every_flags_and_fill, mf,
    out_of_range, time_stamp, truncated, with_impossible_date_times,
};
use nara_core::device::ieee11073::{Medfloat, Special};
use nara_core::device::{Characteristic, Decoded};

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
    decoded!(
        Characteristic::BloodPressureMeasurement,
        Decoded::BloodPressure,
        bytes
    )
}

fn intermediate(bytes: &[u8]) -> IntermediateCuffPressure {
    decoded!(
        Characteristic::IntermediateCuffPressure,
        Decoded::IntermediateCuffPressure,
        bytes
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
            time_stamp: Some(time_stamp()),
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
    assert_eq!(m.time_stamp, Some(date_time(2025, 1, 5, 22, 15, 9)));
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

/// Builds the payload for `flags` (bits 0–4), field by field, and the measurement it
/// must decode to.
fn build(flags: u8) -> (Segments, BloodPressureMeasurement) {
    // 118 / 76 / 90 in either unit; the numbers are the same, the unit differs.
    let mut segments: Segments = vec![
        ("Flags", vec![flags]),
        ("Systolic", vec![0x76, 0x00]),
        ("Diastolic", vec![0x4C, 0x00]),
        ("Mean Arterial Pressure", vec![0x5A, 0x00]),
    ];
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
        segments.push(("Time Stamp", TIME_STAMP_BYTES.to_vec()));
        expected.time_stamp = Some(time_stamp());
    }
    if flags & 0x04 != 0 {
        segments.push(("Pulse Rate", vec![0x41, 0x00])); // 65 bpm
        expected.pulse_rate = Some(mf(65, 0));
    }
    if flags & 0x08 != 0 {
        segments.push(("User ID", vec![0x02]));
        expected.user_id = Some(2);
    }
    if flags & 0x10 != 0 {
        // Body movement, pulse below lower limit.
        segments.push(("Measurement Status", vec![0x11, 0x00]));
        expected.status = Some(status(
            true,
            false,
            false,
            PulseRateRange::BelowLowerLimit,
            false,
        ));
    }
    (segments, expected)
}

/// The same payload read as 0x2A36, where the systolic position is the cuff pressure.
fn as_intermediate(segments: &Segments) -> Segments {
    segments
        .iter()
        .map(|(name, bytes)| match *name {
            "Systolic" => ("Intermediate Cuff Pressure", bytes.clone()),
            _ => (*name, bytes.clone()),
        })
        .collect()
}

#[test]
fn all_32_flag_combinations() {
    let optional = [(0x02, 7), (0x04, 2), (0x08, 1), (0x10, 2)];
    check_every_layout(0..32, 7, &optional, build, decode_measurement);
    // 0x2A36 has the same layout: the systolic position is the cuff pressure.
    let as_cuff = |flags| {
        let (segments, expected) = build(flags);
        let cuff = IntermediateCuffPressure {
            unit: expected.unit,
            cuff_pressure: expected.systolic,
            time_stamp: expected.time_stamp,
            pulse_rate: expected.pulse_rate,
            user_id: expected.user_id,
            status: expected.status,
        };
        (as_intermediate(&segments), cuff)
    };
    check_every_layout(0..32, 7, &optional, as_cuff, decode_intermediate);
    // Cut at every length, and with bytes after the last field, read either way.
    for flags in 0u8..32 {
        let segments = build(flags).0;
        check_truncation_and_trailing(&segments, decode_measurement);
        check_truncation_and_trailing(&as_intermediate(&segments), decode_intermediate);
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

#[test]
fn every_truncation_point_names_the_missing_field() {
    // The longest payload (flags 0x1F): name and bytes of each field.
    let segments: Segments = vec![
        ("Flags", vec![0x1F]),
        ("Systolic", vec![0x76, 0x00]),
        ("Diastolic", vec![0x4C, 0x00]),
        ("Mean Arterial Pressure", vec![0x5A, 0x00]),
        ("Time Stamp", vec![0xE8, 0x07, 0x0B, 0x18, 0x07, 0x1E, 0x00]),
        ("Pulse Rate", vec![0x41, 0x00]),
        ("User ID", vec![0x02]),
        ("Measurement Status", vec![0x11, 0x00]),
    ];
    assert_eq!(concat(&segments), concat(&build(0x1F).0));
    assert_eq!(concat(&segments).len(), 19);
    check_truncation_and_trailing(&segments, decode_measurement);
    // 0x2A36 names the first pressure after itself.
    let intermediate = as_intermediate(&segments);
    assert_eq!(intermediate[1].0, "Intermediate Cuff Pressure");
    check_truncation_and_trailing(&intermediate, decode_intermediate);
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
    let cases = [
        (0x00, "Mean Arterial Pressure"),
        (0x02, "Time Stamp"),
        (0x06, "Pulse Rate"),
        (0x0F, "User ID"),
        (0x1F, "Measurement Status"),
    ];
    check_last_fields(&cases, |flags| build(flags).0, decode_measurement);
    check_last_fields(
        &cases,
        |flags| as_intermediate(&build(flags).0),
        decode_intermediate,
    );
}

#[test]
fn an_impossible_time_stamp_names_the_bad_byte() {
    // The Time Stamp starts at byte 7; each case breaks one of its parts.
    let pressures = [0x02, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00];
    for (bytes, offset) in with_impossible_date_times(&pressures) {
        let expected = out_of_range("Time Stamp", offset);
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
    let reserved = [0x20, 0x40, 0x80, 0xE0];
    check_reserved_bits_ignored(0..32, &reserved, build, decode_measurement);
    check_reserved_bits_ignored(
        0..32,
        &reserved,
        |flags| {
            let (segments, expected) = build(flags);
            (segments, expected.systolic)
        },
        |bytes| decode_intermediate(bytes).map(|m| m.cuff_pressure),
    );
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
    for bytes in every_flags_and_fill(&[0x00, 0x7F, 0xFF], 20) {
        let _ = decode_measurement(&bytes);
        let _ = decode_intermediate(&bytes);
    }
}
