//! The devices area: decode what a Bluetooth device sent, preview the reading it
//! would become, and import a device's stored records without duplicates.
//!
//! The shells own the radio; they pass each characteristic value with its UUID (see
//! [`crate::device`] for the decoders and [`crate::device::capture`] for the rules from
//! value to reading). An import is one transaction for the whole device memory, and
//! importing the same records again adds nothing, because each record's id is derived
//! from the device, its record key and the kind.

use std::collections::HashMap;

use crate::NaraError;
use crate::device::capture::{BadDeviceInfo, CaptureContext};
use crate::device::glucose::GlucoseContext;
use crate::device::{self, Characteristic, DecodeError, Decoded, NotAReading, reading_from};
use crate::domain::reading::{NewReading, Reading};
use crate::domain::validation::{self, ValidationErrors};

/// One characteristic value as the shell received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceValue {
    /// Which characteristic it came from.
    pub characteristic: Characteristic,
    /// The bytes, exactly as received.
    pub bytes: Vec<u8>,
}

/// Why a device call failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The value could not be decoded (names the field and byte offset).
    #[error("{0}")]
    Decode(#[from] DecodeError),
    /// The device id or model is unusable.
    #[error("{0}")]
    BadDevice(#[from] BadDeviceInfo),
    /// The store or the triage rules failed.
    #[error(transparent)]
    Core(#[from] NaraError),
}

/// What a value would become.
#[derive(Debug, Clone, PartialEq)]
pub enum Preview {
    /// This reading, validated and triaged as it would be stored.
    Reading(Box<Reading>),
    /// No reading, and why.
    NotAReading(NotAReading),
    /// A reading the core would refuse (for example a device clock far ahead).
    Invalid(ValidationErrors),
}

/// A value of an import that made no reading.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedValue {
    /// Its position in the import.
    pub index: usize,
    /// Why.
    pub reason: NotAReading,
}

/// A value of an import that was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedValue {
    /// Its position in the import.
    pub index: usize,
    /// Why.
    pub problem: RejectedBecause,
}

/// Why an import value was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum RejectedBecause {
    /// The bytes do not decode.
    Decode(DecodeError),
    /// The reading does not validate.
    Invalid(ValidationErrors),
}

/// The outcome of a device import.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceImportReport {
    /// New readings stored.
    pub inserted: u64,
    /// Readings already stored by an earlier import (or twice in this one).
    pub duplicates: u64,
    /// Values that are not readings (progress, control solution, another user, …).
    pub skipped: Vec<SkippedValue>,
    /// Values that were refused; everything else was imported.
    pub rejected: Vec<RejectedValue>,
}

/// Bluetooth devices: decode, preview, import.
pub struct Devices<'a> {
    pub(crate) nara: &'a crate::Nara,
}

impl Devices<'_> {
    /// Decodes one value. Pure; see [`crate::device::decode`].
    pub fn decode(&self, value: &DeviceValue) -> Result<Decoded, DecodeError> {
        device::decode(value.characteristic, &value.bytes)
    }

    /// Decodes one value and tells what it would become, without storing anything.
    pub fn preview(
        &self,
        value: &DeviceValue,
        cx: &CaptureContext,
    ) -> Result<(Decoded, Preview), DeviceError> {
        let decoded = self.decode(value)?;
        let preview = match reading_from(&decoded, None, cx) {
            Err(reason) => Preview::NotAReading(reason),
            Ok(new) => match self.nara.readings().prepared(new) {
                Ok(reading) => Preview::Reading(Box::new(reading)),
                Err(NaraError::Invalid(errors)) => Preview::Invalid(errors),
                Err(e) => return Err(e.into()),
            },
        };
        Ok((decoded, preview))
    }

    /// Imports values from one device (a live measurement, or a device's memory as a
    /// Record Access Control Point session delivered it) in one transaction. Glucose
    /// contexts are joined to their measurement by sequence number. Values that do not
    /// decode or validate are listed in the report and everything else is stored;
    /// readings already stored are counted as duplicates, never stored twice.
    /// `progress` receives (done, total) for the store step.
    pub fn import(
        &self,
        values: &[DeviceValue],
        cx: &CaptureContext,
        progress: impl FnMut(u64, u64),
    ) -> Result<DeviceImportReport, DeviceError> {
        let mut report = DeviceImportReport::default();
        let mut decoded = Vec::with_capacity(values.len());
        for (index, value) in values.iter().enumerate() {
            match self.decode(value) {
                Ok(d) => decoded.push((index, d)),
                Err(e) => report.rejected.push(RejectedValue {
                    index,
                    problem: RejectedBecause::Decode(e),
                }),
            }
        }
        let mut contexts: HashMap<u16, (usize, GlucoseContext)> = decoded
            .iter()
            .filter_map(|(i, d)| match d {
                Decoded::GlucoseContext(c) => Some((c.sequence_number, (*i, c.clone()))),
                _ => None,
            })
            .collect();
        let now = self.nara.now();
        let mut batch: Vec<NewReading> = Vec::new();
        for (index, d) in &decoded {
            if matches!(d, Decoded::GlucoseContext(_)) {
                continue;
            }
            let context = match d {
                Decoded::Glucose(g) if g.context_follows => {
                    contexts.remove(&g.sequence_number).map(|(_, c)| c)
                }
                _ => None,
            };
            match reading_from(d, context.as_ref(), cx) {
                Err(reason) => report.skipped.push(SkippedValue {
                    index: *index,
                    reason,
                }),
                Ok(new) => match validation::validate(&new, now) {
                    Ok(()) => batch.push(new),
                    Err(errors) => report.rejected.push(RejectedValue {
                        index: *index,
                        problem: RejectedBecause::Invalid(errors),
                    }),
                },
            }
        }
        for (_, (index, _)) in contexts {
            report.skipped.push(SkippedValue {
                index,
                reason: NotAReading::ContextWithoutMeasurement,
            });
        }
        report.skipped.sort_by_key(|s| s.index);
        report.rejected.sort_by_key(|r| r.index);
        if !batch.is_empty() {
            let stored = self.nara.readings().import(batch, progress)?;
            report.inserted = stored.inserted;
            report.duplicates = stored.duplicates;
        }
        tracing::info!(
            inserted = report.inserted,
            duplicates = report.duplicates,
            skipped = report.skipped.len(),
            rejected = report.rejected.len(),
            "device import"
        );
        Ok(report)
    }
}
