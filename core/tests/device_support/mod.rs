//! Helpers shared by the Bluetooth decoder tests (`device_*.rs`): a payload as named
//! segments and the truncation / trailing-byte checks that follow from it, the
//! expected-error constructors, the Date Time fixtures and the table of impossible
//! Date Times, and the decode-through-the-dispatcher macro.
//!
//! Each test file includes this module with `mod device_support;` and uses only part
//! of it, so what one file leaves unused would warn as dead code in that file's
//! test crate: hence the `allow`.
#![allow(dead_code, unused_macros, unused_imports)]

use nara_core::device::ieee11073::{Decimal, Medfloat};
use nara_core::device::time::DeviceTime;
use nara_core::device::{DecodeError, DecodeProblem};

// ---------------------------------------------------------------------------------
// Expected errors
// ---------------------------------------------------------------------------------

/// `field` at `offset` needed `needed` bytes and only `available` were left.
pub fn truncated(
    field: &'static str,
    offset: usize,
    needed: usize,
    available: usize,
) -> DecodeError {
    DecodeError::new(
        field,
        offset,
        DecodeProblem::Truncated { needed, available },
    )
}

/// `extra` bytes after `field`, the last field, which ended at `end`.
pub fn trailing(field: &'static str, end: usize, extra: usize) -> DecodeError {
    DecodeError::new(field, end, DecodeProblem::TrailingBytes { extra })
}

/// The byte of `field` at `offset` is outside the range the specification allows.
pub fn out_of_range(field: &'static str, offset: usize) -> DecodeError {
    DecodeError::new(field, offset, DecodeProblem::OutOfRange)
}

// ---------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------

/// `mantissa × 10^exponent` as the decoders return it.
pub fn mf(mantissa: i32, exponent: i8) -> Medfloat {
    Medfloat::Value(Decimal { mantissa, exponent })
}

/// Decodes `$bytes` through the dispatcher as `$characteristic` and returns the
/// value inside `$variant`, panicking with the bytes on anything else.
macro_rules! decoded {
    ($characteristic:expr, $variant:path, $bytes:expr) => {{
        let bytes: &[u8] = $bytes;
        match nara_core::device::decode($characteristic, bytes) {
            Ok($variant(m)) => m,
            other => panic!("{bytes:02X?} decoded to {other:?}"),
        }
    }};
}
pub(crate) use decoded;

// ---------------------------------------------------------------------------------
// Date Time
// ---------------------------------------------------------------------------------

/// 2024-11-24 07:30:00 as a Date Time field.
pub const TIME_STAMP_BYTES: [u8; 7] = [0xE8, 0x07, 0x0B, 0x18, 0x07, 0x1E, 0x00];

/// What [`TIME_STAMP_BYTES`] decodes to.
pub fn time_stamp() -> DeviceTime {
    date_time(2024, 11, 24, 7, 30, 0)
}

/// A Date Time with every part known.
pub fn date_time(year: u16, month: u8, day: u8, hours: u8, minutes: u8, seconds: u8) -> DeviceTime {
    DeviceTime {
        year: Some(year),
        month: Some(month),
        day: Some(day),
        hours,
        minutes,
        seconds,
    }
}

/// The seven Date Time bytes of `t`, written out here rather than by the decoder's
/// own encoder; an unknown part is 0.
pub fn date_time_bytes(t: &DeviceTime) -> Vec<u8> {
    let mut out = t.year.unwrap_or(0).to_le_bytes().to_vec();
    out.extend([
        t.month.unwrap_or(0),
        t.day.unwrap_or(0),
        t.hours,
        t.minutes,
        t.seconds,
    ]);
    out
}

/// Date Times that break one part each, with the offset of the bad byte in a payload
/// whose Date Time starts at `start`.
pub fn impossible_date_times(start: usize) -> [([u8; 7], usize); 8] {
    [
        ([0xE8, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00], start), // year 1000
        ([0x2D, 0x06, 0x01, 0x01, 0x00, 0x00, 0x00], start), // year 1581
        ([0x10, 0x27, 0x01, 0x01, 0x00, 0x00, 0x00], start), // year 10000
        ([0xE8, 0x07, 0x0D, 0x01, 0x00, 0x00, 0x00], start + 2), // month 13
        ([0xE8, 0x07, 0x01, 0x20, 0x00, 0x00, 0x00], start + 3), // day 32
        ([0xE8, 0x07, 0x01, 0x01, 0x18, 0x00, 0x00], start + 4), // hour 24
        ([0xE8, 0x07, 0x01, 0x01, 0x00, 0x3C, 0x00], start + 5), // minute 60
        ([0xE8, 0x07, 0x01, 0x01, 0x00, 0x00, 0x3C], start + 6), // second 60
    ]
}

/// `prefix` followed by each of [`impossible_date_times`], with the offset of the
/// bad byte.
pub fn with_impossible_date_times(prefix: &[u8]) -> Vec<(Vec<u8>, usize)> {
    impossible_date_times(prefix.len())
        .into_iter()
        .map(|(date_time, offset)| {
            let mut bytes = prefix.to_vec();
            bytes.extend(date_time);
            (bytes, offset)
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// Payloads as named segments
// ---------------------------------------------------------------------------------

/// A payload as its fields in order: the name the decoder gives in its errors, and
/// the bytes.
pub type Segments = Vec<(&'static str, Vec<u8>)>;

pub fn concat(segments: &[(&'static str, Vec<u8>)]) -> Vec<u8> {
    segments.iter().flat_map(|(_, b)| b.clone()).collect()
}

/// Cuts the payload at every shorter length and checks the refusal names the field
/// being read, its offset, what it needed and what was left.
pub fn check_truncation<T: std::fmt::Debug>(
    segments: &[(&'static str, Vec<u8>)],
    decoder: impl Fn(&[u8]) -> Result<T, DecodeError>,
) {
    let full = concat(segments);
    for len in 0..full.len() {
        let mut start = 0;
        let mut expected = None;
        for (name, bytes) in segments {
            if start + bytes.len() > len {
                expected = Some(truncated(name, start, bytes.len(), len - start));
                break;
            }
            start += bytes.len();
        }
        let err = decoder(&full[..len]).expect_err("a truncated payload is refused");
        assert_eq!(Some(err), expected, "cut at {len} of {full:02X?}");
    }
}

/// Appends one byte, then two, to the payload and checks `TrailingBytes` after the
/// last field.
pub fn check_trailing<T: std::fmt::Debug>(
    segments: &[(&'static str, Vec<u8>)],
    decoder: impl Fn(&[u8]) -> Result<T, DecodeError>,
) {
    let full = concat(segments);
    let last = segments.last().map(|(name, _)| *name).expect("segments");
    for extra in [&[0x00][..], &[0xAA, 0xBB]] {
        let mut long = full.clone();
        long.extend(extra);
        assert_eq!(
            decoder(&long).expect_err("trailing bytes are refused"),
            trailing(last, full.len(), extra.len()),
            "{long:02X?}"
        );
    }
}

/// [`check_truncation`] and [`check_trailing`].
pub fn check_truncation_and_trailing<T: std::fmt::Debug>(
    segments: &[(&'static str, Vec<u8>)],
    decoder: impl Fn(&[u8]) -> Result<T, DecodeError>,
) {
    check_truncation(segments, &decoder);
    check_trailing(segments, &decoder);
}

/// For each `(flags, last)`: the payload `segments(flags)` ends in the field `last`,
/// and a byte after it is refused as trailing.
pub fn check_last_fields<T: std::fmt::Debug>(
    cases: &[(u8, &'static str)],
    segments: impl Fn(u8) -> Segments,
    decoder: impl Fn(&[u8]) -> Result<T, DecodeError>,
) {
    for &(flags, last) in cases {
        let segments = segments(flags);
        assert_eq!(
            segments.last().map(|(name, _)| *name),
            Some(last),
            "flags {flags:#04x}"
        );
        check_trailing(&segments, &decoder);
    }
}

// ---------------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------------

/// The length a layout announces: `fixed` bytes plus the size of every optional
/// field whose bit is set in `flags`.
pub fn announced_len(flags: u8, fixed: usize, optional: &[(u8, usize)]) -> usize {
    fixed
        + optional
            .iter()
            .filter(|(bit, _)| flags & bit != 0)
            .map(|(_, size)| size)
            .sum::<usize>()
}

/// For every `flags` in `all`: the payload `build(flags)` is as long as
/// [`announced_len`] says and decodes to the value `build` expects.
pub fn check_every_layout<T: std::fmt::Debug + PartialEq>(
    all: std::ops::Range<u8>,
    fixed: usize,
    optional: &[(u8, usize)],
    build: impl Fn(u8) -> (Segments, T),
    decoder: impl Fn(&[u8]) -> Result<T, DecodeError>,
) {
    for flags in all {
        let (segments, expected) = build(flags);
        let bytes = concat(&segments);
        let len = announced_len(flags, fixed, optional);
        assert_eq!(bytes.len(), len, "flags {flags:#04x}");
        assert_eq!(decoder(&bytes), Ok(expected), "flags {flags:#04x}");
    }
}

/// For every `flags` in `all`: the payload `build(flags)` still decodes to the
/// expected value `build` gives with each of the `reserved` bits set.
pub fn check_reserved_bits_ignored<T: std::fmt::Debug + PartialEq>(
    all: std::ops::Range<u8>,
    reserved: &[u8],
    build: impl Fn(u8) -> (Segments, T),
    decoder: impl Fn(&[u8]) -> Result<T, DecodeError>,
) {
    for flags in all {
        let (segments, expected) = build(flags);
        let bytes = concat(&segments);
        let expected = Ok(expected);
        for &bits in reserved {
            let mut with = bytes.clone();
            with[0] |= bits;
            assert_eq!(decoder(&with), expected, "flags {:#04x}", with[0]);
        }
    }
}

/// Every flags value followed by `fill` up to `max_len` bytes in all, for each fill:
/// payloads for never-panic checks.
pub fn every_flags_and_fill(fills: &[u8], max_len: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for flags in 0..=u8::MAX {
        for &fill in fills {
            for len in 0..=max_len {
                out.push(
                    std::iter::once(flags)
                        .chain(std::iter::repeat(fill))
                        .take(len)
                        .collect(),
                );
            }
        }
    }
    out
}
