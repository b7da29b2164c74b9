//! Property tests over every decoder: no input panics, no value comes out of nothing.
//! (`scripts/fuzz` runs the coverage-guided counterpart, cargo fuzz, in CI.)

use jiff::Timestamp;
use jiff::tz::TimeZone;
use nara_core::device::blood_pressure::{
    BloodPressureMeasurement, MeasurementStatus, PulseRateRange, decode_measurement,
};
use nara_core::device::capture::{CaptureContext, DeviceInfo};
use nara_core::device::ieee11073::{Decimal, Medfloat, Special};
use nara_core::device::racp::{RacpFilter, RacpRequest, decode_request};
use nara_core::device::time::DeviceTime;
use nara_core::device::{Characteristic, DecodeProblem, Decoded, decode, reading_from};
use nara_core::domain::units::PressureUnit;
use proptest::prelude::*;

fn characteristic() -> impl Strategy<Value = Characteristic> {
    proptest::sample::select(Characteristic::ALL.to_vec())
}

fn cx() -> CaptureContext {
    CaptureContext {
        device: DeviceInfo::new("prop-device", None).expect("device"),
        user: None,
        tz: TimeZone::get("Europe/Stockholm").expect("tz"),
        received_at: Timestamp::UNIX_EPOCH,
    }
}

fn medfloat() -> impl Strategy<Value = Medfloat> {
    prop_oneof![
        4 => (-2045i32..=2045, -8i8..=7).prop_map(|(mantissa, exponent)| {
            Medfloat::Value(Decimal { mantissa, exponent })
        }),
        1 => proptest::sample::select(vec![
            Special::NaN,
            Special::NRes,
            Special::PositiveInfinity,
            Special::NegativeInfinity,
            Special::Reserved,
        ])
        .prop_map(Medfloat::Special),
    ]
}

fn device_time() -> impl Strategy<Value = DeviceTime> {
    (
        prop_oneof![Just(None), (1582u16..=9999).prop_map(Some)],
        prop_oneof![Just(None), (1u8..=12).prop_map(Some)],
        prop_oneof![Just(None), (1u8..=31).prop_map(Some)],
        0u8..24,
        0u8..60,
        0u8..60,
    )
        .prop_map(|(year, month, day, hours, minutes, seconds)| DeviceTime {
            year,
            month,
            day,
            hours,
            minutes,
            seconds,
        })
}

fn status() -> impl Strategy<Value = MeasurementStatus> {
    (
        any::<[bool; 4]>(),
        proptest::sample::select(vec![
            PulseRateRange::WithinRange,
            PulseRateRange::ExceedsUpperLimit,
            PulseRateRange::BelowLowerLimit,
            PulseRateRange::Reserved,
        ]),
    )
        .prop_map(|([a, b, c, d], pulse_rate_range)| MeasurementStatus {
            body_movement: a,
            cuff_too_loose: b,
            irregular_pulse: c,
            pulse_rate_range,
            improper_position: d,
        })
}

fn blood_pressure() -> impl Strategy<Value = BloodPressureMeasurement> {
    (
        any::<bool>(),
        [medfloat(), medfloat(), medfloat()],
        proptest::option::of(device_time()),
        proptest::option::of(medfloat()),
        proptest::option::of(any::<u8>()),
        proptest::option::of(status()),
    )
        .prop_map(
            |(kpa, [s, d, m], time_stamp, pulse_rate, user_id, status)| BloodPressureMeasurement {
                unit: if kpa {
                    PressureUnit::KPa
                } else {
                    PressureUnit::MmHg
                },
                systolic: s,
                diastolic: d,
                mean_arterial_pressure: m,
                time_stamp,
                pulse_rate,
                user_id,
                status,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    /// Every measurement a cuff can express survives encode → decode unchanged: the
    /// decoder reads each flag combination's layout as the encoder writes it.
    #[test]
    fn blood_pressure_round_trips(m in blood_pressure()) {
        let bytes = m.encode().expect("every generated number fits an SFLOAT");
        prop_assert_eq!(decode_measurement(&bytes), Ok(m));
    }

    /// SFLOAT raw values round-trip, except a reserved mantissa with a non-zero exponent
    /// (it decodes to the one canonical Reserved).
    #[test]
    fn sfloat_raw_round_trips(raw in any::<u16>()) {
        let m = Medfloat::from_raw(raw);
        let canonical = !(matches!(m, Medfloat::Special(_)) && raw >> 12 != 0);
        if canonical {
            prop_assert_eq!(m.to_sfloat_raw(), Some(raw));
        }
    }

    /// Any bytes, any characteristic: a value or a typed error, never a panic; an
    /// error points inside (or just past) the payload.
    #[test]
    fn decode_never_panics(c in characteristic(), bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
        match decode(c, &bytes) {
            Ok(decoded) => {
                if let Ok(reading) = reading_from(&decoded, None, &cx()) {
                    for (_, v) in reading.measurement.values() {
                        prop_assert!(v.is_finite());
                    }
                }
            }
            Err(e) => {
                prop_assert!(e.offset <= bytes.len(), "{e}");
                prop_assert!(!e.field.is_empty());
                if let DecodeProblem::Truncated { needed, available } = e.problem {
                    prop_assert!(available < needed);
                }
            }
        }
    }

    /// Real layouts are reached: the flags byte is chosen from the defined bits and
    /// the rest is long enough for every optional field, so most inputs decode.
    #[test]
    fn structured_payloads_decode_or_fail_typed(
        c in characteristic(),
        flags in 0u8..=0x1F,
        rest in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut bytes = vec![flags];
        bytes.extend(rest);
        let _ = decode(c, &bytes).map(|d| reading_from(&d, None, &cx()));
    }

    /// A payload that decodes stops decoding when cut short or lengthened: the
    /// decoders read exactly what the flags announce (an RR-interval list is the one
    /// open-ended field).
    #[test]
    fn a_decodable_payload_is_exact(c in characteristic(), bytes in proptest::collection::vec(any::<u8>(), 1..40)) {
        if let Ok(decoded) = decode(c, &bytes) {
            let mut longer = bytes.clone();
            longer.push(0);
            if !matches!(decoded, Decoded::HeartRate(_)) {
                prop_assert!(decode(c, &longer).is_err(), "a trailing byte is refused");
                prop_assert!(decode(c, &bytes[..bytes.len() - 1]).is_err(), "a missing byte is refused");
            }
        }
    }

    /// SFLOAT: a number never carries a reserved mantissa, and every raw value is
    /// either a finite number or a special.
    #[test]
    fn sfloat_is_a_number_or_a_special(raw in any::<u16>()) {
        match Medfloat::from_raw(raw) {
            Medfloat::Value(d) => {
                prop_assert!(d.to_f64().is_finite());
                prop_assert!(!(0x07FE..=0x0802).contains(&(raw & 0x0FFF)));
            }
            Medfloat::Special(s) => {
                prop_assert!((0x07FE..=0x0802).contains(&(raw & 0x0FFF)));
                if raw >> 12 != 0 {
                    prop_assert_eq!(s, Special::Reserved);
                }
            }
        }
    }

    /// FLOAT likewise.
    #[test]
    fn float32_is_a_number_or_a_special(raw in any::<u32>()) {
        let mantissa = raw & 0x00FF_FFFF;
        match Medfloat::from_raw32(raw) {
            Medfloat::Value(d) => {
                prop_assert!(d.to_f64().is_finite());
                prop_assert!(!(0x007F_FFFE..=0x0080_0002).contains(&mantissa));
            }
            Medfloat::Special(_) => prop_assert!((0x007F_FFFE..=0x0080_0002).contains(&mantissa)),
        }
    }

    /// Every RACP request the shells can write decodes back to itself.
    #[test]
    fn racp_requests_round_trip(op in 0u8..4, operator in 0u8..6, a in any::<u16>(), b in any::<u16>()) {
        let filter = match operator {
            0 => RacpFilter::All,
            1 => RacpFilter::AtMost(a),
            2 => RacpFilter::AtLeast(a),
            3 => RacpFilter::Within(a.min(b), a.max(b)),
            4 => RacpFilter::First,
            _ => RacpFilter::Last,
        };
        let request = match op {
            0 => RacpRequest::ReportStoredRecords(filter),
            1 => RacpRequest::DeleteStoredRecords(filter),
            2 => RacpRequest::Abort,
            _ => RacpRequest::ReportNumberOfStoredRecords(filter),
        };
        prop_assert_eq!(decode_request(&request.encode()), Ok(request));
    }
}
