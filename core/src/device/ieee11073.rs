//! IEEE 11073-20601 numbers as Bluetooth health devices send them: the 16-bit SFLOAT
//! (`medfloat16`: 4-bit exponent, 12-bit mantissa) and the 32-bit FLOAT (`medfloat32`:
//! 8-bit exponent, 24-bit mantissa), both two's complement, base 10.
//!
//! Five mantissa values are not numbers: NaN, NRes (not at this resolution), +INF,
//! −INF and one reserved for future use. The standard defines them with exponent 0;
//! a reserved mantissa with any other exponent is no number either, and decodes as
//! [`Special::Reserved`], so a device never gets a made-up value through.
//!
//! A number keeps its exact decimal form ([`Decimal`]); [`Decimal::to_f64`] gives the
//! nearest `f64` (120.4 stays 120.4, not 120.40000000000001).

use serde::Serialize;

/// A value that is not a number, with the reason the device gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Special {
    /// Not a number: the device has no valid value.
    #[serde(rename = "nan")]
    NaN,
    /// Not at this resolution: the value does not fit the format's precision.
    NRes,
    /// Positive infinity: above what the device can measure.
    PositiveInfinity,
    /// Negative infinity: below what the device can measure.
    NegativeInfinity,
    /// Reserved for future use: no meaning defined.
    Reserved,
}

impl Special {
    /// Why there is no value, in English, for logs and developer tools.
    pub fn reason(self) -> &'static str {
        match self {
            Special::NaN => "the device reported no valid value (NaN)",
            Special::NRes => "the value is not representable at this resolution (NRes)",
            Special::PositiveInfinity => "above the device's range (+INF)",
            Special::NegativeInfinity => "below the device's range (-INF)",
            Special::Reserved => "a reserved value with no defined meaning",
        }
    }
}

/// An exact decimal number: `mantissa × 10^exponent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Decimal {
    /// The signed mantissa.
    pub mantissa: i32,
    /// The signed base-10 exponent.
    pub exponent: i8,
}

impl Decimal {
    /// The nearest `f64`. Negative exponents divide, so one decimal rounding happens
    /// once (1204 × 10⁻¹ is exactly the `f64` nearest to 120.4).
    pub fn to_f64(self) -> f64 {
        let m = f64::from(self.mantissa);
        let e = i32::from(self.exponent);
        if e >= 0 {
            m * 10f64.powi(e)
        } else {
            m / 10f64.powi(-e)
        }
    }
}

/// A decoded IEEE-11073 number: a value, or the reason there is none. Serialises as
/// a JSON number, or as the special's name (`"nan"`, `"n_res"`, `"positive_infinity"`,
/// `"negative_infinity"`, `"reserved"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Medfloat {
    /// A number.
    Value(Decimal),
    /// No number, and why.
    Special(Special),
}

impl Medfloat {
    /// The value as an `f64`, or the reason there is none.
    pub fn value(self) -> Result<f64, Special> {
        match self {
            Medfloat::Value(d) => Ok(d.to_f64()),
            Medfloat::Special(s) => Err(s),
        }
    }

    /// The value, if there is one.
    pub fn ok(self) -> Option<f64> {
        self.value().ok()
    }
}

impl Serialize for Medfloat {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Medfloat::Value(d) => serializer.serialize_f64(d.to_f64()),
            Medfloat::Special(s) => s.serialize(serializer),
        }
    }
}

/// A 16-bit SFLOAT as it came over the air.
pub type Sfloat = Medfloat;
/// A 32-bit FLOAT as it came over the air.
pub type Float32 = Medfloat;

fn sign_extend(value: u32, bits: u32) -> i32 {
    let shift = 32 - bits;
    ((value << shift) as i32) >> shift
}

fn special(mantissa_raw: u32, bits: u32, exponent: i32) -> Option<Special> {
    // NaN = 2^(b-1) - 1, NRes = -2^(b-1), +INF = 2^(b-1) - 2, -INF = -(2^(b-1) - 2),
    // reserved = -(2^(b-1) - 1), as raw two's-complement mantissas.
    let max = 1u32 << (bits - 1);
    let mask = (1u32 << bits) - 1;
    let s = match mantissa_raw {
        m if m == max - 1 => Special::NaN,
        m if m == max => Special::NRes,
        m if m == max - 2 => Special::PositiveInfinity,
        m if m == (max + 2) & mask => Special::NegativeInfinity,
        m if m == (max + 1) & mask => Special::Reserved,
        _ => return None,
    };
    Some(if exponent == 0 { s } else { Special::Reserved })
}

impl Medfloat {
    /// Decodes a 16-bit SFLOAT.
    pub fn from_raw(raw: u16) -> Self {
        let raw = u32::from(raw);
        let exponent = sign_extend(raw >> 12, 4);
        let mantissa_raw = raw & 0x0FFF;
        if let Some(s) = special(mantissa_raw, 12, exponent) {
            return Medfloat::Special(s);
        }
        Medfloat::Value(Decimal {
            mantissa: sign_extend(mantissa_raw, 12),
            exponent: exponent as i8,
        })
    }

    /// Decodes a 32-bit FLOAT.
    pub fn from_raw32(raw: u32) -> Self {
        let exponent = (raw >> 24) as u8 as i8;
        let mantissa_raw = raw & 0x00FF_FFFF;
        if let Some(s) = special(mantissa_raw, 24, i32::from(exponent)) {
            return Medfloat::Special(s);
        }
        Medfloat::Value(Decimal {
            mantissa: sign_extend(mantissa_raw, 24),
            exponent,
        })
    }
}

impl Medfloat {
    /// A whole number (exponent 0), as devices send mmHg and beats per minute.
    pub fn whole(value: i16) -> Self {
        Medfloat::Value(Decimal {
            mantissa: i32::from(value),
            exponent: 0,
        })
    }

    /// The 16-bit SFLOAT a device would send, or `None` if the number does not fit
    /// (mantissa beyond ±2045, or exponent beyond −8…7). The inverse of
    /// [`Medfloat::from_raw`]; for device simulators, the demo and tests.
    pub fn to_sfloat_raw(self) -> Option<u16> {
        match self {
            Medfloat::Special(s) => Some(match s {
                Special::NaN => 0x07FF,
                Special::NRes => 0x0800,
                Special::PositiveInfinity => 0x07FE,
                Special::NegativeInfinity => 0x0802,
                Special::Reserved => 0x0801,
            }),
            Medfloat::Value(d) => {
                if !(-2045..=2045).contains(&d.mantissa) || !(-8..=7).contains(&d.exponent) {
                    return None;
                }
                let exponent = (d.exponent as u16 & 0x0F) << 12;
                Some(exponent | (d.mantissa as u16 & 0x0FFF))
            }
        }
    }
}

/// Decodes a 32-bit FLOAT (see [`Medfloat::from_raw32`]).
pub fn float32(raw: u32) -> Float32 {
    Medfloat::from_raw32(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sf(raw: u16) -> Medfloat {
        Medfloat::from_raw(raw)
    }

    #[test]
    fn sfloat_numbers() {
        // 120 mmHg: exponent 0, mantissa 120.
        assert_eq!(sf(0x0078).ok(), Some(120.0));
        // 120.4: exponent -1 (0xF), mantissa 1204 (0x4B4).
        assert_eq!(sf(0xF4B4).ok(), Some(120.4));
        // -0.5: exponent -1, mantissa -5 (0xFFB).
        assert_eq!(sf(0xFFFB).ok(), Some(-0.5));
        // 56 × 10⁻⁵ kg/L (56 mg/dL): exponent -5 (0xB), mantissa 56.
        assert_eq!(sf(0xB038).ok(), Some(0.00056));
        // Largest exponent: 7, mantissa 1 → 10^7.
        assert_eq!(sf(0x7001).ok(), Some(1e7));
        // Smallest normal mantissa: -2045 (0x803) at exponent 0.
        assert_eq!(sf(0x0803).ok(), Some(-2045.0));
        assert_eq!(sf(0x07FD).ok(), Some(2045.0));
        assert_eq!(sf(0x0000).ok(), Some(0.0));
    }

    #[test]
    fn sfloat_specials() {
        assert_eq!(sf(0x07FF), Medfloat::Special(Special::NaN));
        assert_eq!(sf(0x0800), Medfloat::Special(Special::NRes));
        assert_eq!(sf(0x07FE), Medfloat::Special(Special::PositiveInfinity));
        assert_eq!(sf(0x0802), Medfloat::Special(Special::NegativeInfinity));
        assert_eq!(sf(0x0801), Medfloat::Special(Special::Reserved));
        // A reserved mantissa with a non-zero exponent is not a number either.
        assert_eq!(sf(0x17FF), Medfloat::Special(Special::Reserved));
        assert_eq!(sf(0xF800), Medfloat::Special(Special::Reserved));
    }

    #[test]
    fn serialises_as_a_number_or_the_special_name() {
        assert_eq!(
            serde_json::to_string(&sf(0xF4B4)).ok(),
            Some("120.4".into())
        );
        assert_eq!(
            serde_json::to_string(&sf(0x07FF)).ok(),
            Some("\"nan\"".into())
        );
        assert_eq!(
            serde_json::to_string(&sf(0x0802)).ok(),
            Some("\"negative_infinity\"".into())
        );
    }

    #[test]
    fn float32_numbers_and_specials() {
        // 36.4 °C: exponent -1 (0xFF), mantissa 364 (0x00016C).
        assert_eq!(float32(0xFF00_016C).ok(), Some(36.4));
        // -40.25: exponent -2, mantissa -4025.
        let m = (-4025i32 as u32) & 0x00FF_FFFF;
        assert_eq!(float32(0xFE00_0000 | m).ok(), Some(-40.25));
        assert_eq!(float32(0x007F_FFFF), Medfloat::Special(Special::NaN));
        assert_eq!(float32(0x0080_0000), Medfloat::Special(Special::NRes));
        assert_eq!(
            float32(0x007F_FFFE),
            Medfloat::Special(Special::PositiveInfinity)
        );
        assert_eq!(
            float32(0x0080_0002),
            Medfloat::Special(Special::NegativeInfinity)
        );
        assert_eq!(float32(0x0080_0001), Medfloat::Special(Special::Reserved));
        assert_eq!(float32(0x027F_FFFF), Medfloat::Special(Special::Reserved));
    }
}
