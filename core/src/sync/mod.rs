//! Sync with the region over FHIR R4 and SMART App Launch (DESIGN.md §5).
//!
//! - [`fhir`]: pure mapping between the core's data and FHIR resources;
//! - [`transport`]: the HTTPS client (rustls + ring, HTTPS only, pinning);
//! - [`auth`]: SMART standalone patient launch, PKCE S256, refresh, revoke;
//! - [`engine`]: the outbox upload and the care-plan download, exactly once, within a
//!   time budget.

pub mod auth;
pub mod engine;
pub mod fhir;
#[cfg(feature = "test-login")]
pub mod test_login;
pub mod transport;
