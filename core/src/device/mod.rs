//! Bluetooth Low Energy measuring devices: decoders for the Bluetooth SIG health
//! characteristics, and the readings they become.
//!
//! The shells do the radio (CoreBluetooth, Android BLE): they connect, subscribe or
//! read, and hand each characteristic value's bytes to the core with the
//! characteristic's UUID. Everything after that is here, so both platforms turn the
//! same bytes into the same reading:
//!
//! - the decoders ([`decode`]) are pure functions over bytes, following the GATT
//!   Specification Supplement field by field, with IEEE-11073 numbers in
//!   [`ieee11073`] and device clocks in [`time`]; a payload that is short, long or
//!   contradicts itself is a [`DecodeError`] naming the field and byte offset, never a
//!   panic and never a made-up value;
//! - [`capture`] turns a decoded measurement into a [`crate::domain::reading::NewReading`]
//!   with source = device, the device's quality flags, and a deterministic id from
//!   device + record key + kind, so importing a device's memory again adds nothing.

pub mod blood_pressure;
pub mod bytes;
pub mod capture;
pub mod error;
pub mod glucose;
pub mod heart_rate;
pub mod ieee11073;
pub mod plx;
pub mod racp;
pub mod temperature;
pub mod time;
pub mod weight;

use std::fmt;

use serde::Serialize;

pub use self::capture::{DeviceInfo, NotAReading, reading_from};
pub use self::error::{DecodeError, DecodeProblem};

/// A characteristic Nära decodes, by its 16-bit Bluetooth SIG assigned number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Characteristic {
    /// Blood Pressure Measurement (0x2A35).
    BloodPressureMeasurement,
    /// Intermediate Cuff Pressure (0x2A36): the pressure while the cuff inflates.
    IntermediateCuffPressure,
    /// Glucose Measurement (0x2A18).
    GlucoseMeasurement,
    /// Glucose Measurement Context (0x2A34).
    GlucoseMeasurementContext,
    /// Record Access Control Point (0x2A52): responses from the device.
    RecordAccessControlPoint,
    /// Weight Measurement (0x2A9D).
    WeightMeasurement,
    /// PLX Spot-Check Measurement (0x2A5E).
    PlxSpotCheckMeasurement,
    /// PLX Continuous Measurement (0x2A5F).
    PlxContinuousMeasurement,
    /// Heart Rate Measurement (0x2A37).
    HeartRateMeasurement,
    /// Temperature Measurement (0x2A1C).
    TemperatureMeasurement,
    /// Date Time (0x2A08).
    DateTime,
}

/// The Bluetooth base UUID's fixed tail: `0000xxxx-0000-1000-8000-00805f9b34fb`.
const BASE_UUID_TAIL: &str = "-0000-1000-8000-00805f9b34fb";

impl Characteristic {
    /// Every characteristic, in assigned-number order.
    pub const ALL: [Characteristic; 11] = [
        Characteristic::DateTime,
        Characteristic::GlucoseMeasurement,
        Characteristic::TemperatureMeasurement,
        Characteristic::GlucoseMeasurementContext,
        Characteristic::BloodPressureMeasurement,
        Characteristic::IntermediateCuffPressure,
        Characteristic::HeartRateMeasurement,
        Characteristic::RecordAccessControlPoint,
        Characteristic::PlxSpotCheckMeasurement,
        Characteristic::PlxContinuousMeasurement,
        Characteristic::WeightMeasurement,
    ];

    /// The 16-bit assigned number.
    pub fn assigned_number(self) -> u16 {
        match self {
            Characteristic::DateTime => 0x2A08,
            Characteristic::GlucoseMeasurement => 0x2A18,
            Characteristic::TemperatureMeasurement => 0x2A1C,
            Characteristic::GlucoseMeasurementContext => 0x2A34,
            Characteristic::BloodPressureMeasurement => 0x2A35,
            Characteristic::IntermediateCuffPressure => 0x2A36,
            Characteristic::HeartRateMeasurement => 0x2A37,
            Characteristic::RecordAccessControlPoint => 0x2A52,
            Characteristic::PlxSpotCheckMeasurement => 0x2A5E,
            Characteristic::PlxContinuousMeasurement => 0x2A5F,
            Characteristic::WeightMeasurement => 0x2A9D,
        }
    }

    /// The characteristic with this assigned number, if Nära decodes it.
    pub fn from_assigned_number(n: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.assigned_number() == n)
    }

    /// Parses a UUID as the platforms write it: `2A35`, `0x2a35`, or the full
    /// 128-bit form on the Bluetooth base UUID
    /// (`00002a35-0000-1000-8000-00805f9b34fb`, any case).
    pub fn parse(uuid: &str) -> Result<Self, DecodeError> {
        let unknown = || {
            DecodeError::new(
                "characteristic UUID",
                0,
                DecodeProblem::UnknownCharacteristic,
            )
        };
        let s = uuid.trim().to_ascii_lowercase();
        let short = if let Some(rest) = s.strip_prefix("0000") {
            match rest.strip_suffix(BASE_UUID_TAIL) {
                Some(short) if short.len() == 4 => short,
                _ => return Err(unknown()),
            }
        } else {
            s.strip_prefix("0x").unwrap_or(&s)
        };
        if short.len() != 4 || !short.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(unknown());
        }
        let n = u16::from_str_radix(short, 16).map_err(|_| unknown())?;
        Self::from_assigned_number(n).ok_or_else(unknown)
    }

    /// The specification's name.
    pub fn name(self) -> &'static str {
        match self {
            Characteristic::BloodPressureMeasurement => "Blood Pressure Measurement",
            Characteristic::IntermediateCuffPressure => "Intermediate Cuff Pressure",
            Characteristic::GlucoseMeasurement => "Glucose Measurement",
            Characteristic::GlucoseMeasurementContext => "Glucose Measurement Context",
            Characteristic::RecordAccessControlPoint => "Record Access Control Point",
            Characteristic::WeightMeasurement => "Weight Measurement",
            Characteristic::PlxSpotCheckMeasurement => "PLX Spot-Check Measurement",
            Characteristic::PlxContinuousMeasurement => "PLX Continuous Measurement",
            Characteristic::HeartRateMeasurement => "Heart Rate Measurement",
            Characteristic::TemperatureMeasurement => "Temperature Measurement",
            Characteristic::DateTime => "Date Time",
        }
    }
}

impl fmt::Display for Characteristic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:04X})", self.name(), self.assigned_number())
    }
}

/// A decoded characteristic value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "characteristic", rename_all = "snake_case")]
pub enum Decoded {
    /// 0x2A35.
    BloodPressure(blood_pressure::BloodPressureMeasurement),
    /// 0x2A36.
    IntermediateCuffPressure(blood_pressure::IntermediateCuffPressure),
    /// 0x2A18.
    Glucose(glucose::GlucoseMeasurement),
    /// 0x2A34.
    GlucoseContext(glucose::GlucoseContext),
    /// 0x2A52, a response from the device.
    RecordAccessControlPoint(racp::RacpResponse),
    /// 0x2A9D.
    Weight(weight::WeightMeasurement),
    /// 0x2A5E.
    PlxSpotCheck(plx::PlxSpotCheck),
    /// 0x2A5F.
    PlxContinuous(plx::PlxContinuous),
    /// 0x2A37.
    HeartRate(heart_rate::HeartRateMeasurement),
    /// 0x2A1C.
    Temperature(temperature::TemperatureMeasurement),
    /// 0x2A08.
    DateTime(time::DeviceTime),
}

/// Decodes one characteristic value. Pure: no I/O, no clock; never panics.
pub fn decode(characteristic: Characteristic, bytes: &[u8]) -> Result<Decoded, DecodeError> {
    Ok(match characteristic {
        Characteristic::BloodPressureMeasurement => {
            Decoded::BloodPressure(blood_pressure::decode_measurement(bytes)?)
        }
        Characteristic::IntermediateCuffPressure => {
            Decoded::IntermediateCuffPressure(blood_pressure::decode_intermediate(bytes)?)
        }
        Characteristic::GlucoseMeasurement => Decoded::Glucose(glucose::decode_measurement(bytes)?),
        Characteristic::GlucoseMeasurementContext => {
            Decoded::GlucoseContext(glucose::decode_context(bytes)?)
        }
        Characteristic::RecordAccessControlPoint => {
            Decoded::RecordAccessControlPoint(racp::decode_response(bytes)?)
        }
        Characteristic::WeightMeasurement => Decoded::Weight(weight::decode(bytes)?),
        Characteristic::PlxSpotCheckMeasurement => {
            Decoded::PlxSpotCheck(plx::decode_spot_check(bytes)?)
        }
        Characteristic::PlxContinuousMeasurement => {
            Decoded::PlxContinuous(plx::decode_continuous(bytes)?)
        }
        Characteristic::HeartRateMeasurement => Decoded::HeartRate(heart_rate::decode(bytes)?),
        Characteristic::TemperatureMeasurement => Decoded::Temperature(temperature::decode(bytes)?),
        Characteristic::DateTime => Decoded::DateTime(time::decode_date_time(bytes)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_in_every_platform_spelling() {
        for s in [
            "2A35",
            "0x2a35",
            "00002A35-0000-1000-8000-00805F9B34FB",
            " 2a35 ",
        ] {
            assert_eq!(
                Characteristic::parse(s),
                Ok(Characteristic::BloodPressureMeasurement),
                "{s}"
            );
        }
        for s in [
            "2A99",
            "",
            "2A3",
            "12345678-0000-1000-8000-00805f9b34fb",
            "zz35",
        ] {
            let err = Characteristic::parse(s).expect_err(s);
            assert_eq!(err.problem, DecodeProblem::UnknownCharacteristic);
        }
        for c in Characteristic::ALL {
            let full = format!("0000{:04x}{BASE_UUID_TAIL}", c.assigned_number());
            assert_eq!(Characteristic::parse(&full), Ok(c));
        }
    }
}
