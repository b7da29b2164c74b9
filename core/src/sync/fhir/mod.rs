//! FHIR R4 mapping: Nära's data to and from the region's FHIR resources.
//!
//! This module owns the *shape* of what goes over the wire, as pure functions:
//! - [`observation`]: a [`Reading`](crate::domain::reading::Reading) becomes an
//!   `Observation` (vital-signs profile codes, UCUM units, the client id as identifier,
//!   triage as interpretation, corrections as a new Observation plus a retraction);
//! - [`bundle`]: `transaction`/`batch` Bundles of conditional creates, and the parser
//!   that turns the server's response into one [`EntryOutcome`] per sent entry;
//! - [`goal`]: the care team's thresholds as `Goal`s, to and from
//!   [`ThresholdSet`](crate::domain::triage::ThresholdSet);
//! - [`care_plan`]: measurement schedules as a `CarePlan`, to and from
//!   [`MeasurementSchedule`](crate::domain::schedule::MeasurementSchedule);
//! - [`communication`]: chat threads (`CommunicationRequest`), messages and read
//!   receipts (`Communication`) and photos (`Binary`), to and from
//!   [`crate::domain::chat`] (ADR 0009).
//!
//! It must not do I/O (no network, no database, no clock, no logging): the sync engine
//! calls it with data and sends or stores the results. Errors name resources, elements
//! and codes, never values: a patient's note or a measured value must not reach a log
//! through an error message. The mapping is documented in
//! `docs/adr/0007-fhir-mapping.md` and, for chat, `docs/adr/0009-chat-fhir-mapping.md`.

pub mod appointment;
pub mod bundle;
pub mod care_plan;
pub mod communication;
pub mod document;
pub mod goal;
mod json;
pub mod observation;
pub mod types;

use std::fmt;

use thiserror::Error;

pub use crate::sync::fhir::bundle::{
    Bundle, BundleEntry, BundleFailure, BundleResponse, EntryOutcome, ResponseError,
    parse_response, reading_entry, retraction_entry,
};
pub use crate::sync::fhir::care_plan::{
    CarePlanSchedules, care_plan_from_schedules, schedules_from_care_plan,
};
pub use crate::sync::fhir::communication::{
    Binary, Communication, Downloaded, IncomingMessage, PhotoRef, Receipt, ThreadRef, binary,
    binary_entry, binary_from_fhir, communication, communication_from_fhir, delivery_state,
    message_entry, message_from_fhir, receipt, receipt_entry, receipt_from_fhir, thread_from_fhir,
};
pub use crate::sync::fhir::goal::{DownloadedGoal, goal_from_thresholds, thresholds_from_goal};
pub use crate::sync::fhir::json::{DownloadError, Problem, next_page, search_resources};
pub use crate::sync::fhir::observation::{Observation, observation, retracted_observation};

/// UCUM's code system URI, the `system` of every quantity Nära sends.
pub const UCUM_SYSTEM: &str = "http://unitsofmeasure.org";
/// The identifier system of a URI-valued identifier (RFC 3986).
pub const URI_IDENTIFIER_SYSTEM: &str = "urn:ietf:rfc:3986";
/// The identifier system of device identifiers in `Observation.device`.
pub const DEVICE_ID_SYSTEM: &str = "https://nara.se/fhir/device-id";
/// The base of Nära's own extension definitions.
pub const NARA_EXTENSION_BASE: &str = "https://nara.se/fhir/StructureDefinition/";

/// A FHIR `Patient` resource id, as the login's `patient` launch context gives it.
///
/// Checked against FHIR's `id` rule (1–64 of `A-Z a-z 0-9 - .`), so it can be put in a
/// reference and a search URL as is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PatientId(String);

impl PatientId {
    /// Checks `id` and wraps it.
    pub fn new(id: impl Into<String>) -> Result<Self, FhirError> {
        let id = id.into();
        if is_fhir_id(&id) {
            Ok(PatientId(id))
        } else {
            Err(FhirError::InvalidPatientId)
        }
    }

    /// The id itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The literal reference `Patient/<id>`.
    pub fn reference(&self) -> String {
        format!("Patient/{}", self.0)
    }
}

impl fmt::Display for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// True if `s` is a valid FHIR resource id.
pub fn is_fhir_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Why Nära data could not be mapped to FHIR. Never carries a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FhirError {
    /// A number to send is NaN or infinite (validation should have stopped it).
    #[error("a value to send is not a finite number")]
    NotFinite,
    /// The patient id is not a valid FHIR id.
    #[error("the patient id is not a valid FHIR id")]
    InvalidPatientId,
    /// A resource id for a written resource is not a valid FHIR id.
    #[error("a resource id is not a valid FHIR id")]
    InvalidResourceId,
    /// A date or time could not be written (out of FHIR's range).
    #[error("a date or time cannot be written in FHIR form")]
    InvalidTime,
    /// Serializing to JSON failed.
    #[error("the resource could not be serialized")]
    Serialize,
    /// An Observation to send has no client identifier.
    #[error("the resource has no client identifier")]
    MissingIdentifier,
    /// The data has nothing FHIR can carry (e.g. a schedule list that is empty).
    #[error("there is nothing to map")]
    Empty,
}

#[cfg(test)]
mod tests;
