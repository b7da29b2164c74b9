//! The domain: every health rule of Nära, as pure functions over data.
//!
//! Nothing here touches a database, a clock, a network or a file; callers pass the
//! current time in. That keeps the rules testable with tables and property tests, and
//! keeps them out of the bindings and shells.

pub mod chat;
pub mod content;
pub mod glucose_context;
pub mod history;
pub mod notice;
pub mod questionnaire;
pub mod reading;
pub mod schedule;
pub mod text;
pub mod trend;
pub mod triage;
pub mod units;
pub mod validation;
