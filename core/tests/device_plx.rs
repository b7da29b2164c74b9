//! Pulse oximeters: PLX Spot-Check Measurement (0x2A5E) and PLX Continuous
//! Measurement (0x2A5F), every flag combination, literal readings, every status bit,
//! and truncation at every length.

use nara_core::device::ieee11073::{Medfloat, Special};
use nara_core::device::plx::{
    PlxContinuous, PlxDeviceStatus, PlxMeasurementStatus, PlxSpotCheck, SpO2Pr, decode_continuous,
    decode_spot_check,
};
use nara_core::device::time::DeviceTime;
use nara_core::device::{Characteristic, Decoded, decode};

mod device_support;

use device_support::{
    Segments, check_truncation_and_trailing, concat, date_time, mf as value, out_of_range,
    with_impossible_date_times,
};

fn reading(spo2: i32, pulse_rate: i32) -> SpO2Pr {
    SpO2Pr {
        spo2: value(spo2, 0),
        pulse_rate: value(pulse_rate, 0),
    }
}

fn sfloat_bytes(mantissa: u16) -> Vec<u8> {
    mantissa.to_le_bytes().to_vec()
}

fn measurement_status_bits(s: &PlxMeasurementStatus) -> [bool; 11] {
    [
        s.measurement_ongoing,
        s.early_estimated_data,
        s.validated_data,
        s.fully_qualified_data,
        s.data_from_storage,
        s.data_for_demonstration,
        s.data_for_testing,
        s.calibration_ongoing,
        s.measurement_unavailable,
        s.questionable_measurement,
        s.invalid_measurement,
    ]
}

fn device_status_bits(s: &PlxDeviceStatus) -> [bool; 16] {
    [
        s.extended_display_update_ongoing,
        s.equipment_malfunction,
        s.signal_processing_irregularity,
        s.inadequate_signal,
        s.poor_signal,
        s.low_perfusion,
        s.erratic_signal,
        s.nonpulsatile_signal,
        s.questionable_pulse,
        s.signal_analysis_ongoing,
        s.sensor_interference,
        s.sensor_unconnected_to_user,
        s.unknown_sensor_connected,
        s.sensor_displaced,
        s.sensor_malfunctioning,
        s.sensor_disconnected,
    ]
}

const TIME: DeviceTime = DeviceTime {
    year: Some(2026),
    month: Some(2),
    day: Some(28),
    hours: 21,
    minutes: 5,
    seconds: 59,
};
// 2026 = 0x07EA.
const TIME_BYTES: [u8; 7] = [0xEA, 0x07, 0x02, 0x1C, 0x15, 0x05, 0x3B];

// Measurement Status: data from storage (bit 9) and validated (bit 7) = 0x0280.
const MEASUREMENT_STATUS: [u8; 2] = [0x80, 0x02];
// Device and Sensor Status: low perfusion (bit 5) and sensor displaced (bit 13) =
// 0x002020.
const DEVICE_STATUS: [u8; 3] = [0x20, 0x20, 0x00];
// Pulse Amplitude Index 2.5 %: 25 × 10⁻¹ = 0xF019.
const PAI: [u8; 2] = [0x19, 0xF0];

fn expected_measurement_status() -> PlxMeasurementStatus {
    PlxMeasurementStatus {
        validated_data: true,
        data_from_storage: true,
        ..PlxMeasurementStatus::default()
    }
}

fn expected_device_status() -> PlxDeviceStatus {
    PlxDeviceStatus {
        low_perfusion: true,
        sensor_displaced: true,
        ..PlxDeviceStatus::default()
    }
}

// ---------------------------------------------------------------------------------
// Spot-check
// ---------------------------------------------------------------------------------

fn spot_check_segments(flags: u8) -> Segments {
    let mut s: Segments = vec![
        ("Flags", vec![flags]),
        ("SpO2PR-Spot-Check - SpO2", sfloat_bytes(97)),
        ("SpO2PR-Spot-Check - PR", sfloat_bytes(72)),
    ];
    if flags & 0x01 != 0 {
        s.push(("Timestamp", TIME_BYTES.to_vec()));
    }
    if flags & 0x02 != 0 {
        s.push(("Measurement Status", MEASUREMENT_STATUS.to_vec()));
    }
    if flags & 0x04 != 0 {
        s.push(("Device and Sensor Status", DEVICE_STATUS.to_vec()));
    }
    if flags & 0x08 != 0 {
        s.push(("Pulse Amplitude Index", PAI.to_vec()));
    }
    s
}

#[test]
fn every_spot_check_flag_combination() {
    for flags in 0u8..32 {
        let segments = spot_check_segments(flags);
        let bytes = concat(&segments);
        let expected = PlxSpotCheck {
            reading: reading(97, 72),
            time_stamp: (flags & 0x01 != 0).then_some(TIME),
            measurement_status: (flags & 0x02 != 0).then(expected_measurement_status),
            device_status: (flags & 0x04 != 0).then(expected_device_status),
            pulse_amplitude_index: (flags & 0x08 != 0).then_some(value(25, -1)),
            device_clock_not_set: flags & 0x10 != 0,
        };
        assert_eq!(
            decode_spot_check(&bytes),
            Ok(expected.clone()),
            "{flags:#04x}"
        );
        // Reserved bits 5–7 are ignored.
        let mut reserved = bytes.clone();
        reserved[0] |= 0xE0;
        assert_eq!(decode_spot_check(&reserved), Ok(expected.clone()));
        assert_eq!(
            decode(Characteristic::PlxSpotCheckMeasurement, &bytes),
            Ok(Decoded::PlxSpotCheck(expected))
        );
        check_truncation_and_trailing(&segments, decode_spot_check);
    }
}

#[test]
fn a_spot_check_as_a_finger_oximeter_sends_it() {
    // Flags 0x0F: timestamp, measurement status, device status, PAI. SpO2 98 %
    // (0x0062), PR 64 /min (0x0040), 2025-10-12 06:30:00, status: fully qualified
    // (bit 8) = 0x0100, device status 0, PAI 0xE0D2 = 210 × 10⁻² = 2.10 %.
    let bytes = [
        0x0F, 0x62, 0x00, 0x40, 0x00, 0xE9, 0x07, 0x0A, 0x0C, 0x06, 0x1E, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x00, 0xD2, 0xE0,
    ];
    let m = decode_spot_check(&bytes).expect("decodes");
    assert_eq!(m.reading.spo2.ok(), Some(98.0));
    assert_eq!(m.reading.pulse_rate.ok(), Some(64.0));
    assert_eq!(m.time_stamp, Some(date_time(2025, 10, 12, 6, 30, 0)));
    assert_eq!(
        m.measurement_status,
        Some(PlxMeasurementStatus {
            fully_qualified_data: true,
            ..PlxMeasurementStatus::default()
        })
    );
    assert_eq!(m.device_status, Some(PlxDeviceStatus::default()));
    assert_eq!(m.pulse_amplitude_index, Some(value(210, -2)));
    assert_eq!(m.pulse_amplitude_index.and_then(Medfloat::ok), Some(2.1));
    assert!(!m.device_clock_not_set);
}

#[test]
fn a_minimal_spot_check_with_fractional_values() {
    // Flags 0x00; SpO2 0xF3C9 = 969 × 10⁻¹ = 96.9 %; PR NaN (0x07FF): no pulse.
    let m = decode_spot_check(&[0x00, 0xC9, 0xF3, 0xFF, 0x07]).expect("decodes");
    assert_eq!(m.reading.spo2.ok(), Some(96.9));
    assert_eq!(m.reading.pulse_rate, Medfloat::Special(Special::NaN));
    assert_eq!(m.reading.pulse_rate.value(), Err(Special::NaN));
    assert_eq!(
        (m.time_stamp, m.measurement_status, m.device_status),
        (None, None, None)
    );
}

#[test]
fn a_timestamp_from_an_unset_clock() {
    // Clock set: an impossible timestamp is refused at its byte.
    let mut bytes = concat(&spot_check_segments(0x01));
    bytes[7] = 13; // month
    assert_eq!(decode_spot_check(&bytes), Err(out_of_range("Timestamp", 7)));
    bytes[7] = 2;
    bytes[9] = 25; // hours
    assert_eq!(decode_spot_check(&bytes), Err(out_of_range("Timestamp", 9)));
    // Every impossible part: flags 0x01, SpO2 97, PR 72; the Timestamp starts at byte 5.
    for (bytes, offset) in with_impossible_date_times(&[0x01, 0x61, 0x00, 0x48, 0x00]) {
        assert_eq!(
            decode_spot_check(&bytes),
            Err(out_of_range("Timestamp", offset))
        );
    }
    // Clock not set: the timestamp means nothing, so an impossible one is skipped and
    // the reading kept; a possible one is kept with the flag saying it is not real.
    let mut unset = concat(&spot_check_segments(0x11 | 0x02));
    unset[7] = 0xFF;
    let m = decode_spot_check(&unset).expect("decodes");
    assert_eq!(m.time_stamp, None);
    assert!(m.device_clock_not_set);
    assert_eq!(m.measurement_status, Some(expected_measurement_status()));
    let m = decode_spot_check(&concat(&spot_check_segments(0x11))).expect("decodes");
    assert_eq!(m.time_stamp, Some(TIME));
    assert!(m.device_clock_not_set);
    // An all-zero timestamp is "not known", not out of range.
    let mut zero = concat(&spot_check_segments(0x11));
    zero[5..12].fill(0);
    let m = decode_spot_check(&zero).expect("decodes");
    assert_eq!(m.time_stamp.map(|t| t.year), Some(None));
}

// ---------------------------------------------------------------------------------
// Continuous
// ---------------------------------------------------------------------------------

fn continuous_segments(flags: u8) -> Segments {
    let mut s: Segments = vec![
        ("Flags", vec![flags]),
        ("SpO2PR-Normal - SpO2", sfloat_bytes(95)),
        ("SpO2PR-Normal - PR", sfloat_bytes(80)),
    ];
    if flags & 0x01 != 0 {
        s.push(("SpO2PR-Fast - SpO2", sfloat_bytes(94)));
        s.push(("SpO2PR-Fast - PR", sfloat_bytes(82)));
    }
    if flags & 0x02 != 0 {
        s.push(("SpO2PR-Slow - SpO2", sfloat_bytes(96)));
        s.push(("SpO2PR-Slow - PR", sfloat_bytes(78)));
    }
    if flags & 0x04 != 0 {
        s.push(("Measurement Status", MEASUREMENT_STATUS.to_vec()));
    }
    if flags & 0x08 != 0 {
        s.push(("Device and Sensor Status", DEVICE_STATUS.to_vec()));
    }
    if flags & 0x10 != 0 {
        s.push(("Pulse Amplitude Index", PAI.to_vec()));
    }
    s
}

#[test]
fn every_continuous_flag_combination() {
    for flags in 0u8..32 {
        let segments = continuous_segments(flags);
        let bytes = concat(&segments);
        let expected = PlxContinuous {
            normal: reading(95, 80),
            fast: (flags & 0x01 != 0).then_some(reading(94, 82)),
            slow: (flags & 0x02 != 0).then_some(reading(96, 78)),
            measurement_status: (flags & 0x04 != 0).then(expected_measurement_status),
            device_status: (flags & 0x08 != 0).then(expected_device_status),
            pulse_amplitude_index: (flags & 0x10 != 0).then_some(value(25, -1)),
        };
        assert_eq!(
            decode_continuous(&bytes),
            Ok(expected.clone()),
            "{flags:#04x}"
        );
        let mut reserved = bytes.clone();
        reserved[0] |= 0xE0;
        assert_eq!(decode_continuous(&reserved), Ok(expected.clone()));
        assert_eq!(
            decode(Characteristic::PlxContinuousMeasurement, &bytes),
            Ok(Decoded::PlxContinuous(expected))
        );
        check_truncation_and_trailing(&segments, decode_continuous);
    }
}

#[test]
fn a_continuous_measurement_as_a_monitor_sends_it() {
    // Flags 0x1F: everything. Normal 97 % / 61, fast 96 % / 63, slow 0xF3CF = 97.5 % /
    // 0xF262 = 61.0, status: measurement ongoing (bit 5) and early estimate (bit 6)
    // = 0x0060; device: signal analysis ongoing (bit 9) = 0x000200, reserved bit 20
    // set (ignored) = 0x100200; PAI 0xF00C = 1.2 %.
    let bytes = [
        0x1F, 0x61, 0x00, 0x3D, 0x00, 0x60, 0x00, 0x3F, 0x00, 0xCF, 0xF3, 0x62, 0xF2, 0x60, 0x00,
        0x00, 0x02, 0x10, 0x0C, 0xF0,
    ];
    let m = decode_continuous(&bytes).expect("decodes");
    assert_eq!(m.normal, reading(97, 61));
    assert_eq!(m.fast, Some(reading(96, 63)));
    assert_eq!(
        m.slow,
        Some(SpO2Pr {
            spo2: value(975, -1),
            pulse_rate: value(610, -1),
        })
    );
    assert_eq!(m.slow.and_then(|s| s.spo2.ok()), Some(97.5));
    assert_eq!(
        m.measurement_status,
        Some(PlxMeasurementStatus {
            measurement_ongoing: true,
            early_estimated_data: true,
            ..PlxMeasurementStatus::default()
        })
    );
    assert_eq!(
        m.device_status,
        Some(PlxDeviceStatus {
            signal_analysis_ongoing: true,
            ..PlxDeviceStatus::default()
        })
    );
    assert_eq!(m.pulse_amplitude_index.and_then(Medfloat::ok), Some(1.2));
}

#[test]
fn special_values_are_kept_as_specials() {
    // Normal SpO2 +INF, PR -INF; fast NRes / reserved.
    let m = decode_continuous(&[0x01, 0xFE, 0x07, 0x02, 0x08, 0x00, 0x08, 0x01, 0x08])
        .expect("decodes");
    assert_eq!(m.normal.spo2, Medfloat::Special(Special::PositiveInfinity));
    assert_eq!(
        m.normal.pulse_rate,
        Medfloat::Special(Special::NegativeInfinity)
    );
    assert_eq!(
        m.fast.map(|f| (f.spo2, f.pulse_rate)),
        Some((
            Medfloat::Special(Special::NRes),
            Medfloat::Special(Special::Reserved)
        ))
    );
}

// ---------------------------------------------------------------------------------
// Status bits, for both characteristics
// ---------------------------------------------------------------------------------

#[test]
fn every_measurement_status_bit() {
    for bit in 0..16u32 {
        let raw = (1u16 << bit).to_le_bytes();
        let mut spot = concat(&spot_check_segments(0x02));
        spot[5..7].copy_from_slice(&raw);
        let mut cont = concat(&continuous_segments(0x04));
        cont[5..7].copy_from_slice(&raw);
        let from_spot = decode_spot_check(&spot)
            .expect("decodes")
            .measurement_status
            .expect("status");
        let from_cont = decode_continuous(&cont)
            .expect("decodes")
            .measurement_status
            .expect("status");
        assert_eq!(from_spot, from_cont);
        let bits = measurement_status_bits(&from_spot);
        for (i, set) in bits.iter().enumerate() {
            // Field i is bit i + 5; bits 0–4 are reserved and ignored.
            assert_eq!(*set, i + 5 == bit as usize, "bit {bit}, field {i}");
        }
        if bit < 5 {
            assert_eq!(from_spot, PlxMeasurementStatus::default());
        }
    }
    let mut all = concat(&spot_check_segments(0x02));
    all[5..7].copy_from_slice(&[0xFF, 0xFF]);
    let status = decode_spot_check(&all)
        .expect("decodes")
        .measurement_status
        .expect("status");
    assert_eq!(measurement_status_bits(&status), [true; 11]);
}

#[test]
fn every_device_and_sensor_status_bit() {
    for bit in 0..24u32 {
        let raw = (1u32 << bit).to_le_bytes();
        let mut spot = concat(&spot_check_segments(0x04));
        spot[5..8].copy_from_slice(&raw[..3]);
        let mut cont = concat(&continuous_segments(0x08));
        cont[5..8].copy_from_slice(&raw[..3]);
        let from_spot = decode_spot_check(&spot)
            .expect("decodes")
            .device_status
            .expect("status");
        let from_cont = decode_continuous(&cont)
            .expect("decodes")
            .device_status
            .expect("status");
        assert_eq!(from_spot, from_cont);
        let bits = device_status_bits(&from_spot);
        for (i, set) in bits.iter().enumerate() {
            assert_eq!(*set, i == bit as usize, "bit {bit}, field {i}");
        }
        if bit >= 16 {
            assert_eq!(from_spot, PlxDeviceStatus::default());
        }
    }
    let mut all = concat(&continuous_segments(0x08));
    all[5..8].copy_from_slice(&[0xFF, 0xFF, 0xFF]);
    let status = decode_continuous(&all)
        .expect("decodes")
        .device_status
        .expect("status");
    assert_eq!(device_status_bits(&status), [true; 16]);
}

#[test]
fn plx_decoders_never_panic() {
    for len in 0..=24usize {
        for fill in [0x00u8, 0x1F, 0xFF, 0x80] {
            let bytes = vec![fill; len];
            let _ = decode_spot_check(&bytes);
            let _ = decode_continuous(&bytes);
        }
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..32)) {
        let _ = decode_spot_check(&bytes);
        let _ = decode_continuous(&bytes);
    }
}
