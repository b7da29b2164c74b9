//! Nära core.
pub mod domain;
