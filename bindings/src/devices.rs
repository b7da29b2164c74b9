//! The Bluetooth devices area: decode what a measuring device sent, preview the reading
//! it would become, import a device's stored records without duplicates, and follow a
//! glucose meter's Record Access Control Point exchange.
//!
//! The shells own the radio (Android BLE, CoreBluetooth): they connect, subscribe, read
//! the Device Information service and hand every characteristic value to the core as
//! its UUID and bytes. Everything after that — the decoders, units, device clocks in
//! the patient's zone, quality flags, record identity, which values are not the
//! patient's — is `nara_core::devices` and `nara_core::device`; this module converts
//! and forwards.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use nara_core::device::capture::{CaptureContext, DeviceInfo as CoreDeviceInfo, NotAReading};
use nara_core::device::racp::{GlucoseSession, RacpFilter, RacpResponseCode, SessionStep};
use nara_core::device::{Characteristic, DecodeError};
use nara_core::devices::{
    DeviceImportReport as CoreReport, DeviceValue as CoreValue, Preview, RejectedBecause,
};

use crate::errors::{DeviceError, FieldProblem};
use crate::nara::Shared;
use crate::platform::blocking;
use crate::readings::ImportProgress;
use crate::types::{LocalizedText, Reading};

/// The device as the shell identified it from the Device Information service.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceInfo {
    /// Serial Number String (0x2A25), or the System ID (0x2A23) in hex when the device
    /// has no serial number. Never the Bluetooth address, which phones randomise.
    /// 1–64 printable characters.
    pub device_id: String,
    /// Manufacturer Name (0x2A29) and Model Number (0x2A24) as the patient would
    /// recognise it (for example "Omron M7 Intelli IT"); at most 64 characters.
    #[uniffi(default)]
    pub model: Option<String>,
}

/// One characteristic value as the shell received it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceValue {
    /// The characteristic's UUID as the platform writes it: `2A35`, `0x2a35` or the
    /// full 128-bit form `00002a35-0000-1000-8000-00805f9b34fb` (any case).
    pub characteristic_uuid: String,
    /// The bytes, exactly as received.
    pub bytes: Vec<u8>,
}

/// What a decoded value would become.
// Lowered to the foreign side as soon as it is built, one value per call: boxing the
// reading would save nothing, and UniFFI passes enum fields by value.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum DeviceOutcome {
    /// This reading, validated and triaged as it would be stored (not stored).
    Reading {
        /// The reading.
        reading: Reading,
    },
    /// The value was understood and is no measurement of the patient.
    NotAReading {
        /// A stable code: `in_progress`, `not_a_measurement`,
        /// `context_without_measurement`, `control_solution`,
        /// `demonstration_or_test_data`, `other_user`, `no_value` or `unsuccessful`.
        reason: String,
        /// Why, for the patient.
        text: LocalizedText,
    },
    /// A reading the core would refuse (for example a device clock far ahead).
    Invalid {
        /// The problems, with messages for the patient.
        problems: Vec<FieldProblem>,
    },
}

/// A decoded characteristic value and what it would become.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DecodedValue {
    /// The characteristic's name in the specification ("Blood Pressure Measurement").
    pub characteristic: String,
    /// Its 16-bit assigned number (0x2A35).
    pub assigned_number: u16,
    /// Every decoded field, unit and flag as pretty-printed JSON, for a diagnostics
    /// screen or a support log the patient chooses to share. Contains measured values.
    pub json: String,
    /// The reading it would become, or why not.
    pub outcome: DeviceOutcome,
}

/// A value of an import that made no reading.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SkippedDeviceValue {
    /// Its position in the import, from 0.
    pub index: u64,
    /// A stable code, as in [`DeviceOutcome::NotAReading`].
    pub reason: String,
    /// Why, for the patient.
    pub text: LocalizedText,
}

/// A value of an import that was refused.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RejectedDeviceValue {
    /// Its position in the import, from 0.
    pub index: u64,
    /// For bytes that do not decode: the field, in the specification's words.
    pub field: Option<String>,
    /// For bytes that do not decode: the byte offset where the field starts.
    pub offset: Option<u64>,
    /// What was wrong, in English, without measured values.
    pub detail: String,
}

/// The outcome of a device import.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceImportReport {
    /// New readings stored.
    pub inserted: u64,
    /// Readings already stored by an earlier import (or twice in this one).
    pub duplicates: u64,
    /// Values that are not readings (progress, control solution, another user, …).
    pub skipped: Vec<SkippedDeviceValue>,
    /// Values that were refused; everything else was imported.
    pub rejected: Vec<RejectedDeviceValue>,
}

/// What a [`GlucoseRecordSession`] needs next.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum GlucoseSessionStep {
    /// Keep passing notifications and indications.
    Continue,
    /// The meter answered the request; pass `values()` to `Device.import`.
    Done {
        /// The meter reported success, or that it had no matching records: the values
        /// received are all there is.
        complete: bool,
        /// The meter's response code: `success`, `no_records_found`,
        /// `op_code_not_supported`, `invalid_operator`, `operator_not_supported`,
        /// `invalid_operand`, `abort_unsuccessful`, `procedure_not_completed`,
        /// `operand_not_supported` or `reserved_<n>`.
        response: String,
    },
}

fn reason_code(reason: &NotAReading) -> &'static str {
    match reason {
        NotAReading::InProgress => "in_progress",
        NotAReading::NotAMeasurement => "not_a_measurement",
        NotAReading::ContextWithoutMeasurement => "context_without_measurement",
        NotAReading::ControlSolution => "control_solution",
        NotAReading::DemonstrationOrTestData => "demonstration_or_test_data",
        NotAReading::OtherUser { .. } => "other_user",
        NotAReading::NoValue { .. } => "no_value",
        NotAReading::Unsuccessful => "unsuccessful",
    }
}

fn response_code(code: RacpResponseCode) -> String {
    match code {
        RacpResponseCode::Success => "success",
        RacpResponseCode::OpCodeNotSupported => "op_code_not_supported",
        RacpResponseCode::InvalidOperator => "invalid_operator",
        RacpResponseCode::OperatorNotSupported => "operator_not_supported",
        RacpResponseCode::InvalidOperand => "invalid_operand",
        RacpResponseCode::NoRecordsFound => "no_records_found",
        RacpResponseCode::AbortUnsuccessful => "abort_unsuccessful",
        RacpResponseCode::ProcedureNotCompleted => "procedure_not_completed",
        RacpResponseCode::OperandNotSupported => "operand_not_supported",
        RacpResponseCode::Reserved(raw) => return format!("reserved_{raw}"),
    }
    .to_owned()
}

fn characteristic(uuid: &str, index: Option<u64>) -> Result<Characteristic, DeviceError> {
    Characteristic::parse(uuid).map_err(|_| DeviceError::UnknownCharacteristic {
        uuid: uuid.to_owned(),
        index,
    })
}

fn skipped(index: usize, reason: &NotAReading) -> SkippedDeviceValue {
    SkippedDeviceValue {
        index: index as u64,
        reason: reason_code(reason).to_owned(),
        text: reason.text(),
    }
}

fn rejected(index: usize, problem: &RejectedBecause) -> RejectedDeviceValue {
    match problem {
        RejectedBecause::Decode(e) => RejectedDeviceValue {
            index: index as u64,
            field: Some(e.field.to_owned()),
            offset: Some(e.offset as u64),
            detail: e.to_string(),
        },
        RejectedBecause::Invalid(errors) => RejectedDeviceValue {
            index: index as u64,
            field: None,
            offset: None,
            detail: errors
                .0
                .iter()
                .map(|e| e.message().en)
                .collect::<Vec<_>>()
                .join("; "),
        },
    }
}

impl From<CoreReport> for DeviceImportReport {
    fn from(r: CoreReport) -> Self {
        DeviceImportReport {
            inserted: r.inserted,
            duplicates: r.duplicates,
            skipped: r
                .skipped
                .iter()
                .map(|s| skipped(s.index, &s.reason))
                .collect(),
            rejected: r
                .rejected
                .iter()
                .map(|x| rejected(x.index, &x.problem))
                .collect(),
        }
    }
}

/// One Bluetooth measuring device of the patient, ready to decode and import its
/// values. Made by `Nara.device`; cheap, make one per connection.
#[derive(uniffi::Object)]
pub struct Device {
    shared: Arc<Shared>,
    device: CoreDeviceInfo,
    user: Option<u8>,
    tz: TimeZone,
}

impl Device {
    /// Checks the shell's device info and time zone.
    pub(crate) fn new(
        shared: Arc<Shared>,
        info: DeviceInfo,
        user: Option<u8>,
        time_zone: &str,
    ) -> Result<Self, DeviceError> {
        let device = CoreDeviceInfo::new(&info.device_id, info.model.as_deref())?;
        let tz = TimeZone::get(time_zone).map_err(|_| DeviceError::UnknownTimeZone {
            name: time_zone.to_owned(),
        })?;
        Ok(Device {
            shared,
            device,
            user,
            tz,
        })
    }

    /// The capture context, received now.
    fn context(&self) -> CaptureContext {
        CaptureContext {
            device: self.device.clone(),
            user: self.user,
            tz: self.tz.clone(),
            received_at: Timestamp::now(),
        }
    }
}

#[uniffi::export]
impl Device {
    /// Decodes one value and tells what it would become, without storing anything: the
    /// decoded fields (`json`), and the reading (validated and triaged), the reason it is
    /// no reading, or the validation problems.
    ///
    /// Fails with `UnknownCharacteristic` for a UUID Nära does not decode and `Decode`
    /// (field and byte offset) for bytes that do not follow the specification.
    pub async fn decode(
        &self,
        characteristic_uuid: String,
        bytes: Vec<u8>,
    ) -> Result<DecodedValue, DeviceError> {
        let characteristic = characteristic(&characteristic_uuid, None)?;
        let core = self.shared.get()?;
        let cx = self.context();
        blocking(move || {
            let value = CoreValue {
                characteristic,
                bytes,
            };
            let (decoded, preview) = core.devices().preview(&value, &cx)?;
            let json =
                serde_json::to_string_pretty(&decoded).map_err(|e| DeviceError::Internal {
                    detail: format!("the decoded value could not be written as JSON: {e}"),
                })?;
            let outcome = match preview {
                Preview::Reading(reading) => DeviceOutcome::Reading {
                    reading: Reading::from(*reading),
                },
                Preview::NotAReading(reason) => DeviceOutcome::NotAReading {
                    reason: reason_code(&reason).to_owned(),
                    text: reason.text(),
                },
                Preview::Invalid(errors) => DeviceOutcome::Invalid {
                    problems: errors.0.iter().map(FieldProblem::from).collect(),
                },
            };
            Ok(DecodedValue {
                characteristic: characteristic.name().to_owned(),
                assigned_number: characteristic.assigned_number(),
                json,
                outcome,
            })
        })
        .await
    }

    /// Imports values from this device (a live measurement, or its memory as a glucose
    /// session or a cuff delivered it) in one transaction. Glucose contexts are joined to
    /// their measurement by sequence number. Values that do not decode or validate are
    /// listed in `rejected`, values that are no reading in `skipped`, and everything
    /// else is stored; records already stored count as `duplicates`, never stored twice.
    /// `progress` receives (done, total) for the store step.
    ///
    /// Fails with `UnknownCharacteristic` (naming the value's index) before storing
    /// anything if a UUID is not one Nära decodes.
    pub async fn import(
        &self,
        values: Vec<DeviceValue>,
        progress: Option<Arc<dyn ImportProgress>>,
    ) -> Result<DeviceImportReport, DeviceError> {
        let mut converted = Vec::with_capacity(values.len());
        for (index, value) in values.into_iter().enumerate() {
            converted.push(CoreValue {
                characteristic: characteristic(&value.characteristic_uuid, Some(index as u64))?,
                bytes: value.bytes,
            });
        }
        let core = self.shared.get()?;
        let cx = self.context();
        blocking(move || {
            let report = core.devices().import(&converted, &cx, |done, total| {
                if let Some(p) = &progress {
                    let _ = p.on_progress(done, total);
                }
            })?;
            Ok(DeviceImportReport::from(report))
        })
        .await
    }
}

/// One "report stored records" exchange with a glucose meter's Record Access Control
/// Point (0x2A52): write `request()` to the control point, pass every Glucose
/// Measurement (0x2A18), Glucose Measurement Context (0x2A34) and control-point value
/// to `receive` as it arrives, and once it returns `Done`, import `values()`.
///
/// Safe to share between threads (the BLE callback thread and the UI).
#[derive(uniffi::Object)]
pub struct GlucoseRecordSession {
    session: Mutex<GlucoseSession>,
    request: Vec<u8>,
}

#[uniffi::export]
impl GlucoseRecordSession {
    /// A session for the records from sequence number `since_sequence` on (the last
    /// imported one, or one past it: a repeat is only a duplicate), or every record.
    #[uniffi::constructor]
    pub fn new(since_sequence: Option<u16>) -> Arc<Self> {
        let filter = match since_sequence {
            Some(n) => RacpFilter::AtLeast(n),
            None => RacpFilter::All,
        };
        let (session, request) = GlucoseSession::start(filter);
        Arc::new(GlucoseRecordSession {
            session: Mutex::new(session),
            request,
        })
    }

    /// The bytes to write (with response) to the Record Access Control Point (0x2A52),
    /// after enabling notifications on 0x2A18 and 0x2A34 and indications on 0x2A52.
    pub fn request(&self) -> Vec<u8> {
        self.request.clone()
    }

    /// Takes one value from the meter. Refused (`Decode`), leaving the session as it
    /// was: bytes that do not decode, any value after the meter answered, a context
    /// without its measurement, a control-point value that does not answer this request;
    /// `UnknownCharacteristic` for a UUID Nära does not decode.
    pub fn receive(
        &self,
        characteristic_uuid: String,
        bytes: Vec<u8>,
    ) -> Result<GlucoseSessionStep, DeviceError> {
        let characteristic = characteristic(&characteristic_uuid, None)?;
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        Ok(match session.receive(characteristic, &bytes)? {
            SessionStep::Continue => GlucoseSessionStep::Continue,
            SessionStep::Done(code) => GlucoseSessionStep::Done {
                complete: matches!(
                    code,
                    RacpResponseCode::Success | RacpResponseCode::NoRecordsFound
                ),
                response: response_code(code),
            },
        })
    }

    /// The measurements and contexts received so far, in order, ready for
    /// `Device.import`.
    pub fn values(&self) -> Vec<DeviceValue> {
        let session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        session
            .clone()
            .into_records()
            .into_iter()
            .map(|(c, bytes)| DeviceValue {
                characteristic_uuid: format!("{:04X}", c.assigned_number()),
                bytes,
            })
            .collect()
    }
}

impl From<DecodeError> for DeviceError {
    fn from(e: DecodeError) -> Self {
        use nara_core::device::DecodeProblem;
        if e.problem == DecodeProblem::UnknownCharacteristic {
            return DeviceError::UnknownCharacteristic {
                uuid: String::new(),
                index: None,
            };
        }
        DeviceError::Decode {
            field: e.field.to_owned(),
            offset: e.offset as u64,
            detail: e.to_string(),
        }
    }
}
