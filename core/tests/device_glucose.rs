//! Glucose Measurement (0x2A18) and Glucose Measurement Context (0x2A34), field by
//! field as the GATT Specification Supplement lays them out: every flag combination
//! that changes the layout, literal records as meters send them, IEEE-11073 specials,
//! every status bit and enumeration value, time offsets across midnight and month
//! ends, and truncation at every length.

use jiff::civil;
use nara_core::device::glucose::{
    Carbohydrate, CarbohydrateId, ConcentrationUnit, Exercise, GlucoseContext, GlucoseMeasurement,
    GlucoseType, Health, Meal, Medication, MedicationId, MedicationUnit, SampleLocation,
    SensorStatus, Tester, decode_context, decode_measurement,
};
use nara_core::device::ieee11073::{Medfloat, Special};
use nara_core::device::time::DeviceTime;
use nara_core::device::{Characteristic, Decoded, decode};
use nara_core::domain::units::round_to;

mod device_support;

use device_support::{
    Segments, check_truncation_and_trailing, concat, date_time as time,
    date_time_bytes as time_bytes, mf as value, out_of_range, truncated,
    with_impossible_date_times,
};

fn sensor_status_bits(s: &SensorStatus) -> [bool; 12] {
    [
        s.device_battery_low,
        s.sensor_malfunction,
        s.sample_size_insufficient,
        s.strip_insertion_error,
        s.strip_type_incorrect,
        s.result_too_high,
        s.result_too_low,
        s.temperature_too_high,
        s.temperature_too_low,
        s.read_interrupted,
        s.general_device_fault,
        s.time_fault,
    ]
}

// ---------------------------------------------------------------------------------
// Glucose Measurement
// ---------------------------------------------------------------------------------

const TIME_OFFSET: u8 = 0x01;
const CONCENTRATION: u8 = 0x02;
const MOL_PER_L: u8 = 0x04;
const SENSOR_STATUS: u8 = 0x08;
const CONTEXT_FOLLOWS: u8 = 0x10;

/// The measurement segments for `flags` with fixed field values.
fn measurement_segments(flags: u8) -> Segments {
    let mut s: Segments = vec![
        ("Flags", vec![flags]),
        ("Sequence Number", vec![0x34, 0x12]),
        ("Base Time", time_bytes(&time(2025, 6, 15, 8, 30, 0))),
    ];
    if flags & TIME_OFFSET != 0 {
        s.push(("Time Offset", (-90i16).to_le_bytes().to_vec()));
    }
    if flags & CONCENTRATION != 0 {
        // 0xC038: 56 × 10⁻⁴ (0.0056 mol/L or kg/L).
        s.push(("Glucose Concentration", vec![0x38, 0xC0]));
        // Venous plasma (4) from the earlobe (3).
        s.push(("Type-Sample Location", vec![0x34]));
    }
    if flags & SENSOR_STATUS != 0 {
        // Battery low and result too high.
        s.push(("Sensor Status Annunciation", vec![0x21, 0x00]));
    }
    s
}

#[test]
fn every_measurement_layout_decodes() {
    // Bits 0, 1 and 3 change the layout; bit 2 the unit: all 16 values of bits 0–3.
    for flags in 0u8..16 {
        let segments = measurement_segments(flags);
        let bytes = concat(&segments);
        let m = decode_measurement(&bytes).unwrap_or_else(|e| panic!("{flags:#04x}: {e}"));
        assert_eq!(m.sequence_number, 0x1234);
        assert_eq!(m.base_time, time(2025, 6, 15, 8, 30, 0));
        assert_eq!(
            m.time_offset_minutes,
            (flags & TIME_OFFSET != 0).then_some(-90)
        );
        match m.concentration {
            Some(c) => {
                assert!(flags & CONCENTRATION != 0);
                assert_eq!(c.value, value(56, -4));
                assert_eq!(c.fluid, GlucoseType::VenousPlasma);
                assert_eq!(c.location, SampleLocation::Earlobe);
                let (unit, mmol) = if flags & MOL_PER_L != 0 {
                    (ConcentrationUnit::MolPerL, 5.6)
                } else {
                    // 0.0056 kg/L = 560 mg/dL = 31.08… mmol/L.
                    (ConcentrationUnit::KgPerL, 31.1)
                };
                assert_eq!(c.unit, unit);
                assert_eq!(c.mmol_per_l().map(|v| round_to(v, 1)), Ok(mmol));
                assert!(!c.is_control_solution());
            }
            None => assert!(flags & CONCENTRATION == 0),
        }
        match m.sensor_status {
            Some(s) => {
                assert!(flags & SENSOR_STATUS != 0);
                assert!(s.device_battery_low && s.result_too_high);
                assert_eq!(sensor_status_bits(&s).iter().filter(|b| **b).count(), 2);
            }
            None => assert!(flags & SENSOR_STATUS == 0),
        }
        assert!(!m.context_follows);
        // The same record announcing a context, and with reserved bits 5–7 set,
        // differs only in `context_follows`.
        let mut announced = bytes.clone();
        announced[0] |= CONTEXT_FOLLOWS | 0xE0;
        let with_context = decode_measurement(&announced).expect("decodes");
        assert!(with_context.context_follows);
        assert_eq!(
            GlucoseMeasurement {
                context_follows: false,
                ..with_context
            },
            m
        );
        // Through the dispatcher.
        assert_eq!(
            decode(Characteristic::GlucoseMeasurement, &bytes),
            Ok(Decoded::Glucose(m))
        );
        check_truncation_and_trailing(&segments, decode_measurement);
    }
}

#[test]
fn layout_lengths_follow_the_flags() {
    let mut lengths = std::collections::BTreeMap::new();
    for flags in 0u8..16 {
        let flags = flags & 0x0F;
        *lengths
            .entry(concat(&measurement_segments(flags)).len())
            .or_insert(0) += 1;
    }
    // 10 bytes of fixed fields; +2 time offset, +3 concentration, +2 status.
    let expected: Vec<usize> = vec![10, 12, 13, 14, 15, 17];
    assert_eq!(lengths.keys().copied().collect::<Vec<_>>(), expected);
}

#[test]
fn capillary_record_in_mol_per_l() {
    // A meter in mmol/L mode: flags 0x07 (time offset, concentration, mol/L),
    // sequence 23, 2025-11-03 07:45:12, offset 0, 56 × 10⁻⁴ mol/L (0xC038),
    // capillary whole blood (1) from a finger (1).
    let bytes = [
        0x07, 0x17, 0x00, 0xE9, 0x07, 0x0B, 0x03, 0x07, 0x2D, 0x0C, 0x00, 0x00, 0x38, 0xC0, 0x11,
    ];
    let m = decode_measurement(&bytes).expect("decodes");
    assert_eq!(m.sequence_number, 23);
    assert_eq!(m.base_time, time(2025, 11, 3, 7, 45, 12));
    assert_eq!(m.time_offset_minutes, Some(0));
    let c = m.concentration.expect("concentration");
    assert_eq!(c.value, value(56, -4));
    assert_eq!(c.unit, ConcentrationUnit::MolPerL);
    assert_eq!(c.fluid, GlucoseType::CapillaryWholeBlood);
    assert_eq!(c.location, SampleLocation::Finger);
    // mol/L × 1000, with the decimal shifted, not multiplied: exactly 5.6.
    assert_eq!(c.mmol_per_l(), Ok(5.6));
    assert_eq!(m.sensor_status, None);
    assert!(!m.context_follows);
    assert_eq!(m.time(), Some(civil::date(2025, 11, 3).at(7, 45, 12, 0)));
}

#[test]
fn capillary_plasma_record_in_kg_per_l() {
    // A meter in mg/dL mode: flags 0x1B (time offset, concentration, status, context
    // follows; kg/L), sequence 0x0102, 2024-02-29 23:58:00, offset +5 min,
    // 101 × 10⁻⁵ kg/L (0xB065 = 101 mg/dL), capillary plasma (2) by AST (2),
    // status 0x0000.
    let bytes = [
        0x1B, 0x02, 0x01, 0xE8, 0x07, 0x02, 0x1D, 0x17, 0x3A, 0x00, 0x05, 0x00, 0x65, 0xB0, 0x22,
        0x00, 0x00,
    ];
    let m = decode_measurement(&bytes).expect("decodes");
    assert_eq!(m.sequence_number, 0x0102);
    assert_eq!(m.time_offset_minutes, Some(5));
    let c = m.concentration.expect("concentration");
    assert_eq!(c.value, value(101, -5));
    assert_eq!(c.unit, ConcentrationUnit::KgPerL);
    assert_eq!(c.fluid, GlucoseType::CapillaryPlasma);
    assert_eq!(c.location, SampleLocation::AlternateSiteTest);
    // 101 mg/dL ÷ 18.0156 = 5.606… mmol/L.
    assert_eq!(c.mmol_per_l().map(|v| round_to(v, 1)), Ok(5.6));
    assert_eq!(c.mmol_per_l().map(|v| round_to(v, 2)), Ok(5.61));
    assert_eq!(m.sensor_status, Some(SensorStatus::default()));
    assert!(m.context_follows);
    // Leap day 23:58 + 5 min = 1 March 00:03.
    assert_eq!(m.time(), Some(civil::date(2024, 3, 1).at(0, 3, 0, 0)));
}

#[test]
fn concentrations_in_kg_per_l_at_other_exponents() {
    // (raw SFLOAT, mg/dL, mmol/L to one decimal)
    for (raw, mmol) in [
        // 0xB3F5: exponent -5, mantissa 1013 → 1013 mg/dL (a "HI" reading), 56.2 mmol/L.
        (0xB3F5u16, 56.2),
        // 0xA3F2: exponent -6, mantissa 1010 → 101.0 mg/dL, 5.6 mmol/L.
        (0xA3F2, 5.6),
        // 0xB046: 70 mg/dL, the hypoglycaemia limit, 3.9 mmol/L.
        (0xB046, 3.9),
        // 0xC00A: 10 × 10⁻⁴ kg/L = 100 mg/dL, 5.6 mmol/L (5.55).
        (0xC00A, 5.6),
        // Zero is a value.
        (0xB000, 0.0),
    ] {
        let mut bytes = concat(&measurement_segments(CONCENTRATION));
        bytes[10..12].copy_from_slice(&raw.to_le_bytes());
        let c = decode_measurement(&bytes)
            .expect("decodes")
            .concentration
            .expect("concentration");
        assert_eq!(
            c.mmol_per_l().map(|v| round_to(v, 1)),
            Ok(mmol),
            "{raw:#06x}"
        );
    }
    // mol/L: 0xD03C = 60 × 10⁻³ mol/L = 60 mmol/L; 0xB22E = 558 × 10⁻⁵ mol/L = 5.58
    // mmol/L; 0xC07B = 123 × 10⁻⁴ mol/L = 12.3 mmol/L. Exact, no rounding needed.
    for (raw, mmol) in [(0xD03Cu16, 60.0), (0xB22E, 5.58), (0xC07B, 12.3)] {
        let mut bytes = concat(&measurement_segments(CONCENTRATION | MOL_PER_L));
        bytes[10..12].copy_from_slice(&raw.to_le_bytes());
        let c = decode_measurement(&bytes)
            .expect("decodes")
            .concentration
            .expect("concentration");
        assert_eq!(c.mmol_per_l(), Ok(mmol), "{raw:#06x}");
    }
}

#[test]
fn special_concentrations_are_no_value() {
    for (raw, special) in [
        (0x07FFu16, Special::NaN),
        (0x0800, Special::NRes),
        (0x07FE, Special::PositiveInfinity),
        (0x0802, Special::NegativeInfinity),
        (0x0801, Special::Reserved),
        (0xB7FF, Special::Reserved),
    ] {
        for unit in [0, MOL_PER_L] {
            let mut bytes = concat(&measurement_segments(CONCENTRATION | unit));
            bytes[10..12].copy_from_slice(&raw.to_le_bytes());
            let c = decode_measurement(&bytes)
                .expect("a special value decodes")
                .concentration
                .expect("concentration");
            assert_eq!(c.value, Medfloat::Special(special));
            assert_eq!(c.mmol_per_l(), Err(special), "{raw:#06x}");
        }
    }
}

#[test]
fn every_sensor_status_bit() {
    for bit in 0..16u16 {
        let mut bytes = concat(&measurement_segments(SENSOR_STATUS));
        bytes[10..12].copy_from_slice(&(1u16 << bit).to_le_bytes());
        let status = decode_measurement(&bytes)
            .expect("decodes")
            .sensor_status
            .expect("status");
        let bits = sensor_status_bits(&status);
        for (i, set) in bits.iter().enumerate() {
            assert_eq!(*set, i == usize::from(bit as u8), "bit {bit}, field {i}");
        }
        if bit >= 12 {
            // Reserved bits are ignored.
            assert_eq!(status, SensorStatus::default());
        }
    }
    let mut bytes = concat(&measurement_segments(SENSOR_STATUS));
    bytes[10..12].copy_from_slice(&0xFFFFu16.to_le_bytes());
    let all = decode_measurement(&bytes)
        .expect("decodes")
        .sensor_status
        .expect("status");
    assert_eq!(sensor_status_bits(&all), [true; 12]);
}

#[test]
fn every_type_and_sample_location() {
    let types = [
        GlucoseType::Reserved(0),
        GlucoseType::CapillaryWholeBlood,
        GlucoseType::CapillaryPlasma,
        GlucoseType::VenousWholeBlood,
        GlucoseType::VenousPlasma,
        GlucoseType::ArterialWholeBlood,
        GlucoseType::ArterialPlasma,
        GlucoseType::UndeterminedWholeBlood,
        GlucoseType::UndeterminedPlasma,
        GlucoseType::InterstitialFluid,
        GlucoseType::ControlSolution,
    ];
    let locations = [
        SampleLocation::Reserved(0),
        SampleLocation::Finger,
        SampleLocation::AlternateSiteTest,
        SampleLocation::Earlobe,
        SampleLocation::ControlSolution,
    ];
    for type_nibble in 0u8..16 {
        for location_nibble in 0u8..16 {
            let mut bytes = concat(&measurement_segments(CONCENTRATION));
            bytes[12] = location_nibble << 4 | type_nibble;
            let c = decode_measurement(&bytes)
                .expect("decodes")
                .concentration
                .expect("concentration");
            let fluid = types
                .get(usize::from(type_nibble))
                .copied()
                .unwrap_or(GlucoseType::Reserved(type_nibble));
            let location = match location_nibble {
                15 => SampleLocation::NotAvailable,
                n => locations
                    .get(usize::from(n))
                    .copied()
                    .unwrap_or(SampleLocation::Reserved(n)),
            };
            assert_eq!((c.fluid, c.location), (fluid, location));
            assert_eq!(
                c.is_control_solution(),
                type_nibble == 10 || location_nibble == 4,
                "{type_nibble} {location_nibble}"
            );
        }
    }
}

#[test]
fn a_control_solution_check() {
    // Control solution (10) in the control solution location (4): 0x4A.
    let bytes = [
        0x02, 0x05, 0x00, 0xEA, 0x07, 0x01, 0x14, 0x09, 0x00, 0x00, 0x78, 0xB0, 0x4A,
    ];
    let c = decode_measurement(&bytes)
        .expect("decodes")
        .concentration
        .expect("concentration");
    assert_eq!(c.fluid, GlucoseType::ControlSolution);
    assert_eq!(c.location, SampleLocation::ControlSolution);
    assert!(c.is_control_solution());
    assert_eq!(c.mmol_per_l().map(|v| round_to(v, 1)), Ok(6.7));
}

fn measured_at(base: DeviceTime, offset: Option<i16>) -> GlucoseMeasurement {
    let mut flags = 0;
    let mut bytes = vec![0x00, 0x01, 0x00];
    bytes.extend(time_bytes(&base));
    if let Some(o) = offset {
        flags |= TIME_OFFSET;
        bytes.extend(o.to_le_bytes());
    }
    bytes[0] = flags;
    decode_measurement(&bytes).expect("decodes")
}

#[test]
fn time_offset_is_added_to_the_base_time() {
    let at = |y, mo, d, h, mi, s| civil::date(y, mo, d).at(h, mi, s, 0);
    for (base, offset, expected) in [
        // No offset, and a zero offset.
        (time(2025, 6, 15, 8, 30, 0), None, at(2025, 6, 15, 8, 30, 0)),
        (
            time(2025, 6, 15, 8, 30, 0),
            Some(0),
            at(2025, 6, 15, 8, 30, 0),
        ),
        // Summer time: +60.
        (
            time(2025, 6, 15, 8, 30, 0),
            Some(60),
            at(2025, 6, 15, 9, 30, 0),
        ),
        // Forward across midnight and the year end.
        (
            time(2025, 12, 31, 23, 50, 0),
            Some(15),
            at(2026, 1, 1, 0, 5, 0),
        ),
        // Backward across midnight and a month end (February, not a leap year).
        (
            time(2026, 3, 1, 0, 10, 0),
            Some(-20),
            at(2026, 2, 28, 23, 50, 0),
        ),
        // Backward into a leap day.
        (
            time(2024, 3, 1, 0, 0, 0),
            Some(-1),
            at(2024, 2, 29, 23, 59, 0),
        ),
        // Forward across the end of a 30-day month.
        (
            time(2025, 4, 30, 23, 59, 30),
            Some(1),
            at(2025, 5, 1, 0, 0, 30),
        ),
        // Backward across a 31-day month end.
        (
            time(2025, 8, 1, 0, 30, 0),
            Some(-45),
            at(2025, 7, 31, 23, 45, 0),
        ),
        // The extremes of a sint16: ±22 days 18 h 7/8 min.
        (
            time(2025, 1, 1, 0, 0, 0),
            Some(i16::MAX),
            at(2025, 1, 23, 18, 7, 0),
        ),
        (
            time(2025, 1, 1, 0, 0, 0),
            Some(i16::MIN),
            at(2024, 12, 9, 5, 52, 0),
        ),
    ] {
        assert_eq!(
            measured_at(base, offset).time(),
            Some(expected),
            "{base:?} {offset:?}"
        );
    }
}

#[test]
fn no_time_without_a_date_or_beyond_the_calendar() {
    // The meter does not know the date.
    let unknown = DeviceTime {
        year: None,
        month: None,
        day: None,
        hours: 12,
        minutes: 0,
        seconds: 0,
    };
    assert_eq!(measured_at(unknown, Some(10)).time(), None);
    // 31 April passes the field ranges but is no date.
    assert_eq!(measured_at(time(2025, 4, 31, 0, 0, 0), None).time(), None);
    // Past year 9999: checked arithmetic gives no time, not a panic.
    assert_eq!(
        measured_at(time(9999, 12, 31, 23, 59, 0), Some(i16::MAX)).time(),
        None
    );
    assert_eq!(
        measured_at(time(9999, 12, 31, 23, 0, 0), Some(-30)).time(),
        Some(civil::date(9999, 12, 31).at(22, 30, 0, 0))
    );
}

#[test]
fn impossible_base_time_is_refused() {
    let mut bytes = concat(&measurement_segments(0));
    bytes[5] = 13; // month
    assert_eq!(
        decode_measurement(&bytes),
        Err(out_of_range("Base Time", 5))
    );
    let mut bytes = concat(&measurement_segments(0));
    bytes[7] = 24; // hours
    assert_eq!(
        decode_measurement(&bytes),
        Err(out_of_range("Base Time", 7))
    );
    // Every impossible part: flags 0x00, sequence 0x1234; the Base Time starts at byte 3.
    for (bytes, offset) in with_impossible_date_times(&[0x00, 0x34, 0x12]) {
        assert_eq!(
            decode_measurement(&bytes),
            Err(out_of_range("Base Time", offset))
        );
    }
}

// ---------------------------------------------------------------------------------
// Glucose Measurement Context
// ---------------------------------------------------------------------------------

const CARBOHYDRATE: u8 = 0x01;
const MEAL: u8 = 0x02;
const TESTER_HEALTH: u8 = 0x04;
const EXERCISE: u8 = 0x08;
const MEDICATION: u8 = 0x10;
const MEDICATION_LITRES: u8 = 0x20;
const HBA1C: u8 = 0x40;
const EXTENDED: u8 = 0x80;

fn context_segments(flags: u8) -> Segments {
    let mut s: Segments = vec![
        ("Flags", vec![flags]),
        ("Sequence Number", vec![0x34, 0x12]),
    ];
    if flags & EXTENDED != 0 {
        s.push(("Extended Flags", vec![0x00]));
    }
    if flags & CARBOHYDRATE != 0 {
        s.push(("Carbohydrate ID", vec![0x02])); // lunch
        s.push(("Carbohydrate", vec![0x3C, 0xD0])); // 60 × 10⁻³ kg = 60 g
    }
    if flags & MEAL != 0 {
        s.push(("Meal", vec![0x01])); // preprandial
    }
    if flags & TESTER_HEALTH != 0 {
        s.push(("Tester-Health", vec![0x51])); // self, no health issues
    }
    if flags & EXERCISE != 0 {
        s.push(("Exercise Duration", vec![0x08, 0x07])); // 1800 s
        s.push(("Exercise Intensity", vec![0x32])); // 50 %
    }
    if flags & MEDICATION != 0 {
        s.push(("Medication ID", vec![0x01])); // rapid-acting insulin
        s.push(("Medication", vec![0x04, 0xA0])); // 4 × 10⁻⁶ (4 mg or 4 mL)
    }
    if flags & HBA1C != 0 {
        s.push(("HbA1c", vec![0x41, 0xF0])); // 6.5 %
    }
    s
}

fn expected_context(flags: u8) -> GlucoseContext {
    let has = |bit: u8| flags & bit != 0;
    GlucoseContext {
        sequence_number: 0x1234,
        extended_flags: has(EXTENDED).then_some(0),
        carbohydrate: has(CARBOHYDRATE).then_some(Carbohydrate {
            id: CarbohydrateId::Lunch,
            kilograms: value(60, -3),
        }),
        meal: has(MEAL).then_some(Meal::Preprandial),
        tester_health: has(TESTER_HEALTH).then_some((Tester::SelfTest, Health::NoHealthIssues)),
        exercise: has(EXERCISE).then_some(Exercise {
            duration_seconds: Some(1800),
            intensity_percent: 50,
        }),
        medication: has(MEDICATION).then_some(Medication {
            id: MedicationId::RapidActingInsulin,
            amount: value(4, -6),
            unit: if has(MEDICATION_LITRES) {
                MedicationUnit::Litres
            } else {
                MedicationUnit::Kilograms
            },
        }),
        hba1c_percent: has(HBA1C).then_some(value(65, -1)),
    }
}

#[test]
fn each_context_field_alone_and_all_together() {
    let mut cases = vec![0u8];
    cases.extend([
        CARBOHYDRATE,
        MEAL,
        TESTER_HEALTH,
        EXERCISE,
        MEDICATION,
        MEDICATION | MEDICATION_LITRES,
        // The unit bit without a medication changes nothing.
        MEDICATION_LITRES,
        HBA1C,
        EXTENDED,
        0xFF,
        !MEDICATION_LITRES,
        !EXTENDED,
    ]);
    for flags in cases {
        let segments = context_segments(flags);
        let bytes = concat(&segments);
        let c = decode_context(&bytes).unwrap_or_else(|e| panic!("{flags:#04x}: {e}"));
        assert_eq!(c, expected_context(flags), "{flags:#04x}");
        assert_eq!(
            decode(Characteristic::GlucoseMeasurementContext, &bytes),
            Ok(Decoded::GlucoseContext(c))
        );
        check_truncation_and_trailing(&segments, decode_context);
    }
}

#[test]
fn every_context_layout() {
    // All 256 flag values: the length follows from the bits, and every payload
    // decodes to the expected fields.
    for flags in 0u8..=255 {
        let bytes = concat(&context_segments(flags));
        let has = |bit: u8, n: usize| if flags & bit != 0 { n } else { 0 };
        let len = 3
            + has(EXTENDED, 1)
            + has(CARBOHYDRATE, 3)
            + has(MEAL, 1)
            + has(TESTER_HEALTH, 1)
            + has(EXERCISE, 3)
            + has(MEDICATION, 3)
            + has(HBA1C, 2);
        assert_eq!(bytes.len(), len);
        assert_eq!(decode_context(&bytes), Ok(expected_context(flags)));
    }
}

#[test]
fn a_full_context_as_a_meter_sends_it() {
    // Flags 0xFF; sequence 23; extended flags 0x00; dinner (3), 0xD04B = 75 g;
    // postprandial (2); health professional (2) with stress (4): 0x42;
    // exercise overrun (0xFFFF) at 80 %; long-acting insulin (4), 0xC001 =
    // 1 × 10⁻⁴ L (0.1 mL, 10 units of U-100) in litres (bit 5); HbA1c 0xF03A = 5.8 %.
    let bytes = [
        0xFF, 0x17, 0x00, 0x00, 0x03, 0x4B, 0xD0, 0x02, 0x42, 0xFF, 0xFF, 0x50, 0x04, 0x01, 0xC0,
        0x3A, 0xF0,
    ];
    let c = decode_context(&bytes).expect("decodes");
    assert_eq!(
        c,
        GlucoseContext {
            sequence_number: 23,
            extended_flags: Some(0),
            carbohydrate: Some(Carbohydrate {
                id: CarbohydrateId::Dinner,
                kilograms: value(75, -3),
            }),
            meal: Some(Meal::Postprandial),
            tester_health: Some((Tester::HealthCareProfessional, Health::UnderStress)),
            exercise: Some(Exercise {
                duration_seconds: None,
                intensity_percent: 80,
            }),
            medication: Some(Medication {
                id: MedicationId::LongActingInsulin,
                amount: value(1, -4),
                unit: MedicationUnit::Litres,
            }),
            hba1c_percent: Some(value(58, -1)),
        }
    );
    assert_eq!(c.carbohydrate.map(|k| k.kilograms.ok()), Some(Some(0.075)));
    assert_eq!(c.hba1c_percent.and_then(Medfloat::ok), Some(5.8));
}

#[test]
fn a_meal_only_context() {
    // Flags 0x02, sequence 7, fasting (3).
    let c = decode_context(&[0x02, 0x07, 0x00, 0x03]).expect("decodes");
    assert_eq!(c.sequence_number, 7);
    assert_eq!(c.meal, Some(Meal::Fasting));
    assert_eq!(
        (c.carbohydrate, c.tester_health, c.exercise, c.medication),
        (None, None, None, None)
    );
    assert_eq!((c.extended_flags, c.hba1c_percent), (None, None));
}

#[test]
fn every_context_enumeration_value() {
    let carbohydrates = [
        CarbohydrateId::Reserved(0),
        CarbohydrateId::Breakfast,
        CarbohydrateId::Lunch,
        CarbohydrateId::Dinner,
        CarbohydrateId::Snack,
        CarbohydrateId::Drink,
        CarbohydrateId::Supper,
        CarbohydrateId::Brunch,
    ];
    let meals = [
        Meal::Reserved(0),
        Meal::Preprandial,
        Meal::Postprandial,
        Meal::Fasting,
        Meal::Casual,
        Meal::Bedtime,
    ];
    let medications = [
        MedicationId::Reserved(0),
        MedicationId::RapidActingInsulin,
        MedicationId::ShortActingInsulin,
        MedicationId::IntermediateActingInsulin,
        MedicationId::LongActingInsulin,
        MedicationId::PreMixedInsulin,
    ];
    for raw in 0u8..=255 {
        let i = usize::from(raw);
        let carb = decode_context(&[CARBOHYDRATE, 0, 0, raw, 0, 0]).expect("decodes");
        assert_eq!(
            carb.carbohydrate.map(|c| c.id),
            Some(
                carbohydrates
                    .get(i)
                    .copied()
                    .unwrap_or(CarbohydrateId::Reserved(raw))
            )
        );
        let meal = decode_context(&[MEAL, 0, 0, raw]).expect("decodes");
        assert_eq!(
            meal.meal,
            Some(meals.get(i).copied().unwrap_or(Meal::Reserved(raw)))
        );
        let med = decode_context(&[MEDICATION, 0, 0, raw, 0, 0]).expect("decodes");
        assert_eq!(
            med.medication.map(|m| m.id),
            Some(
                medications
                    .get(i)
                    .copied()
                    .unwrap_or(MedicationId::Reserved(raw))
            )
        );
        let extended = decode_context(&[EXTENDED, 0, 0, raw]).expect("decodes");
        assert_eq!(extended.extended_flags, Some(raw));
    }
    let testers = [
        Tester::Reserved(0),
        Tester::SelfTest,
        Tester::HealthCareProfessional,
        Tester::LabTest,
    ];
    let healths = [
        Health::Reserved(0),
        Health::MinorHealthIssues,
        Health::MajorHealthIssues,
        Health::DuringMenses,
        Health::UnderStress,
        Health::NoHealthIssues,
    ];
    for tester in 0u8..16 {
        for health in 0u8..16 {
            let c = decode_context(&[TESTER_HEALTH, 0, 0, health << 4 | tester]).expect("decodes");
            let t = match tester {
                15 => Tester::NotAvailable,
                n => testers
                    .get(usize::from(n))
                    .copied()
                    .unwrap_or(Tester::Reserved(n)),
            };
            let h = match health {
                15 => Health::NotAvailable,
                n => healths
                    .get(usize::from(n))
                    .copied()
                    .unwrap_or(Health::Reserved(n)),
            };
            assert_eq!(c.tester_health, Some((t, h)));
        }
    }
}

#[test]
fn exercise_duration_limits() {
    for (raw, expected) in [
        (0u16, Some(0)),
        (1, Some(1)),
        (0xFFFE, Some(0xFFFE)),
        (0xFFFF, None),
    ] {
        let [lo, hi] = raw.to_le_bytes();
        let c = decode_context(&[EXERCISE, 0, 0, lo, hi, 100]).expect("decodes");
        assert_eq!(
            c.exercise,
            Some(Exercise {
                duration_seconds: expected,
                intensity_percent: 100,
            })
        );
    }
}

#[test]
fn special_values_in_context_amounts_decode_as_specials() {
    let c = decode_context(&[
        CARBOHYDRATE | MEDICATION | HBA1C,
        0,
        0,
        1,
        0xFF,
        0x07,
        1,
        0x00,
        0x08,
        0xFE,
        0x07,
    ])
    .expect("decodes");
    assert_eq!(
        c.carbohydrate.map(|k| k.kilograms),
        Some(Medfloat::Special(Special::NaN))
    );
    assert_eq!(
        c.medication.map(|m| m.amount),
        Some(Medfloat::Special(Special::NRes))
    );
    assert_eq!(
        c.hba1c_percent,
        Some(Medfloat::Special(Special::PositiveInfinity))
    );
}

#[test]
fn empty_and_tiny_payloads_never_panic() {
    for len in 0..=20usize {
        for fill in [0x00u8, 0xFF, 0x5A] {
            let bytes = vec![fill; len];
            let _ = decode_measurement(&bytes);
            let _ = decode_context(&bytes);
        }
    }
    assert_eq!(decode_measurement(&[]), Err(truncated("Flags", 0, 1, 0)));
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..32)) {
        if let Ok(m) = decode_measurement(&bytes) {
            let _ = m.time();
            if let Some(c) = m.concentration {
                let _ = c.mmol_per_l();
            }
        }
        let _ = decode_context(&bytes);
    }
}
