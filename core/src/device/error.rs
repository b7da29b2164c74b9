//! The typed error of every decoder: which field, at which byte, and what was wrong.
//!
//! Decoders never panic and never make a value up. A payload that is too short, too
//! long, or says something the specification does not allow is refused with a
//! [`DecodeError`] naming the field (as the GATT Specification Supplement names it)
//! and the byte offset where it starts. Errors carry no measured values, so they are
//! safe to log.

use std::fmt;

/// Why a characteristic value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DecodeError {
    /// The field, in the specification's words (for example `"Systolic"`).
    pub field: &'static str,
    /// The byte offset where the field starts (or would start).
    pub offset: usize,
    /// What was wrong.
    pub problem: DecodeProblem,
}

/// What was wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DecodeProblem {
    /// The payload ended inside or before the field.
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the payload.
        available: usize,
    },
    /// Bytes are left over after the last field the flags announce.
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// A value the specification reserves for future use, or does not define.
    Reserved {
        /// The raw value (a code, a flag bit or an enumeration, never a measurement).
        raw: u32,
    },
    /// A value outside the range the specification allows for the field.
    OutOfRange,
    /// The payload contradicts itself (for example a context record without its
    /// measurement, or a response to a request that was never made).
    Inconsistent {
        /// What does not fit, in English, with no measured value.
        detail: &'static str,
    },
    /// The characteristic UUID is not one Nära decodes.
    UnknownCharacteristic,
}

impl DecodeError {
    /// An error at `offset` in `field`.
    pub fn new(field: &'static str, offset: usize, problem: DecodeProblem) -> Self {
        Self {
            field,
            offset,
            problem,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (field, at) = (self.field, self.offset);
        match &self.problem {
            DecodeProblem::Truncated { needed, available } => write!(
                f,
                "{field} at byte {at}: needs {needed} bytes, {available} left"
            ),
            DecodeProblem::TrailingBytes { extra } => {
                write!(f, "{extra} unexpected bytes at byte {at} after {field}")
            }
            DecodeProblem::Reserved { raw } => {
                write!(f, "{field} at byte {at}: reserved value {raw:#x}")
            }
            DecodeProblem::OutOfRange => {
                write!(f, "{field} at byte {at}: outside the allowed range")
            }
            DecodeProblem::Inconsistent { detail } => {
                write!(f, "{field} at byte {at}: {detail}")
            }
            DecodeProblem::UnknownCharacteristic => {
                write!(f, "{field}: not a characteristic Nära decodes")
            }
        }
    }
}

impl std::error::Error for DecodeError {}
