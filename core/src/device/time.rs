//! The Date Time characteristic (0x2A08) and the time fields that embed it.
//!
//! Seven bytes: year (`uint16`, 1582–9999, 0 = not known), month (1–12, 0 = not
//! known), day (1–31, 0 = not known), hours (0–23), minutes (0–59), seconds (0–59).
//! It is the device's local wall-clock time with no zone: [`DeviceTime::to_timestamp`]
//! places it in the patient's time zone.

use jiff::Timestamp;
use jiff::civil;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::bytes::Reader;
use super::error::{DecodeError, DecodeProblem};

/// A device's wall-clock time as it sent it. Unknown parts are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct DeviceTime {
    /// 1582–9999, `None` if the device does not know.
    pub year: Option<u16>,
    /// 1–12, `None` if not known.
    pub month: Option<u8>,
    /// 1–31, `None` if not known.
    pub day: Option<u8>,
    /// 0–23.
    pub hours: u8,
    /// 0–59.
    pub minutes: u8,
    /// 0–59.
    pub seconds: u8,
}

impl DeviceTime {
    /// Reads the seven bytes of a Date Time field called `field`, refusing values the
    /// specification does not allow (month 13, hour 24, year 1000, …).
    pub fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, DecodeError> {
        let at = r.offset();
        if r.remaining() < 7 {
            return Err(DecodeError::new(
                field,
                at,
                DecodeProblem::Truncated {
                    needed: 7,
                    available: r.remaining(),
                },
            ));
        }
        let year = r.u16(field)?;
        let (month, day) = (r.u8(field)?, r.u8(field)?);
        let (hours, minutes, seconds) = (r.u8(field)?, r.u8(field)?, r.u8(field)?);
        let bad = |offset: usize| DecodeError::new(field, at + offset, DecodeProblem::OutOfRange);
        if year != 0 && !(1582..=9999).contains(&year) {
            return Err(bad(0));
        }
        if month > 12 {
            return Err(bad(2));
        }
        if day > 31 {
            return Err(bad(3));
        }
        if hours > 23 {
            return Err(bad(4));
        }
        if minutes > 59 {
            return Err(bad(5));
        }
        if seconds > 59 {
            return Err(bad(6));
        }
        Ok(Self {
            year: (year != 0).then_some(year),
            month: (month != 0).then_some(month),
            day: (day != 0).then_some(day),
            hours,
            minutes,
            seconds,
        })
    }

    /// A fully known wall-clock time (for a time computed from a device's, such as a
    /// glucose record's base time plus its offset).
    pub fn from_civil(t: civil::DateTime) -> Self {
        Self {
            year: u16::try_from(t.year()).ok().filter(|y| *y != 0),
            month: u8::try_from(t.month()).ok(),
            day: u8::try_from(t.day()).ok(),
            hours: u8::try_from(t.hour()).unwrap_or(0),
            minutes: u8::try_from(t.minute()).unwrap_or(0),
            seconds: u8::try_from(t.second()).unwrap_or(0),
        }
    }

    /// The wall-clock time, if the date is fully known and exists (no 31 April).
    pub fn civil(&self) -> Option<civil::DateTime> {
        let date = civil::Date::new(
            i16::try_from(self.year?).ok()?,
            i8::try_from(self.month?).ok()?,
            i8::try_from(self.day?).ok()?,
        )
        .ok()?;
        let time =
            civil::Time::new(self.hours as i8, self.minutes as i8, self.seconds as i8, 0).ok()?;
        Some(date.to_datetime(time))
    }

    /// The instant this wall-clock time was in `tz` (the patient's zone), if the date
    /// is known. A time in the autumn overlap takes the earlier instant, one in the
    /// spring gap the later (RFC 5545's "compatible" rule).
    pub fn to_timestamp(&self, tz: &TimeZone) -> Option<Timestamp> {
        let zoned = self.civil()?.to_zoned(tz.clone()).ok()?;
        Some(zoned.timestamp())
    }

    /// The seven bytes of the Date Time field (unknown parts as 0). The inverse of
    /// [`DeviceTime::read`]; for device simulators, the demo and tests.
    pub fn encode(&self) -> [u8; 7] {
        let [y0, y1] = self.year.unwrap_or(0).to_le_bytes();
        [
            y0,
            y1,
            self.month.unwrap_or(0),
            self.day.unwrap_or(0),
            self.hours,
            self.minutes,
            self.seconds,
        ]
    }

    /// The canonical text of this time as the device sent it
    /// (`YYYY-MM-DDTHH:MM:SS`, `0000` / `00` for unknown parts): the record key of a
    /// device reading that has no sequence number.
    pub fn record_key(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year.unwrap_or(0),
            self.month.unwrap_or(0),
            self.day.unwrap_or(0),
            self.hours,
            self.minutes,
            self.seconds
        )
    }
}

/// Decodes the Date Time characteristic (0x2A08) on its own.
pub fn decode_date_time(bytes: &[u8]) -> Result<DeviceTime, DecodeError> {
    let mut r = Reader::new(bytes);
    let t = DeviceTime::read(&mut r, "Date Time")?;
    r.finish()?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_time_in_stockholm() {
        // 2026-03-29 01:30:00 (0x07EA = 2026), the night clocks go forward at 02:00.
        let t = decode_date_time(&[0xEA, 0x07, 3, 29, 1, 30, 0]).expect("decodes");
        assert_eq!(t.record_key(), "2026-03-29T01:30:00");
        let tz = TimeZone::get("Europe/Stockholm").expect("tz");
        assert_eq!(
            t.to_timestamp(&tz).map(|t| t.to_string()),
            Some("2026-03-29T00:30:00Z".to_owned())
        );
        // In the gap (02:30 does not exist): the later reading, 03:30 CEST.
        let gap = decode_date_time(&[0xEA, 0x07, 3, 29, 2, 30, 0]).expect("decodes");
        assert_eq!(
            gap.to_timestamp(&tz).map(|t| t.to_string()),
            Some("2026-03-29T01:30:00Z".to_owned())
        );
    }

    #[test]
    fn unknown_parts_and_impossible_values() {
        let t = decode_date_time(&[0, 0, 0, 0, 12, 0, 0]).expect("decodes");
        assert_eq!((t.year, t.month, t.day), (None, None, None));
        assert_eq!(t.to_timestamp(&TimeZone::UTC), None);
        // 31 April passes the field ranges but is no date.
        let april = decode_date_time(&[0xEA, 0x07, 4, 31, 0, 0, 0]).expect("decodes");
        assert_eq!(april.civil(), None);
        for (bytes, offset) in [
            ([0xE8, 0x03, 1, 1, 0, 0, 0], 0), // year 1000
            ([0xEA, 0x07, 13, 1, 0, 0, 0], 2),
            ([0xEA, 0x07, 1, 32, 0, 0, 0], 3),
            ([0xEA, 0x07, 1, 1, 24, 0, 0], 4),
            ([0xEA, 0x07, 1, 1, 0, 60, 0], 5),
            ([0xEA, 0x07, 1, 1, 0, 0, 60], 6),
        ] {
            let err = decode_date_time(&bytes).expect_err("refused");
            assert_eq!(
                (err.offset, err.problem),
                (offset, DecodeProblem::OutOfRange)
            );
        }
        let short = decode_date_time(&[0xEA, 0x07, 1]).expect_err("short");
        assert_eq!(
            short.problem,
            DecodeProblem::Truncated {
                needed: 7,
                available: 3
            }
        );
        let long = decode_date_time(&[0xEA, 0x07, 1, 1, 0, 0, 0, 9]).expect_err("long");
        assert_eq!(long.problem, DecodeProblem::TrailingBytes { extra: 1 });
    }
}
