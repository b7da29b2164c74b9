//! `nara-ffi`: the UniFFI layer between `nara-core` and the Kotlin and Swift shells.
//!
//! This crate converts types and errors and forwards calls; it holds no health rule
//! (DESIGN.md §2). Every rule — validation, triage, trends, schedules, text shown to the
//! patient — lives in `nara-core`; a reviewer finds none here.
//!
//! Shape of the API, one module per area, mirroring the core:
//! - [`platform`]: the core's one tokio runtime ([`platform::init_platform`]) and the
//!   bridge that runs blocking store work off the caller's thread;
//! - [`logging`]: `tracing` forwarded to a shell's [`logging::LogSink`] (Logcat, OSLog);
//! - [`keys`]: the shell's [`keys::KeyProvider`] (Keystore, Keychain);
//! - [`nara`]: the [`nara::Nara`] object that hands out one object per area;
//! - [`readings`], [`care_plan`], [`trends`], [`chat`], [`notices`] (appointment notices
//!   and forms), [`content`] (self-care articles), [`devices`] (Bluetooth measuring
//!   devices and a glucose meter's record transfer), [`region`] (login and sync): the
//!   areas;
//! - [`observe`]: listeners and the [`observe::TaskHandle`] that cancels them;
//! - [`types`]: records and enums shared by the areas; [`errors`]: one error enum per area.
//!
//! Every exported call that touches the store is `async`: it runs on the core's runtime
//! (`spawn_blocking`), never on the Kotlin or Swift caller's thread. Cancelling the
//! foreign coroutine or task drops only the wait: a write already started commits whole.

uniffi::setup_scaffolding!("nara");

pub mod care_plan;
pub mod chat;
pub mod content;
pub mod devices;
pub mod errors;
pub mod keys;
pub mod logging;
pub mod nara;
pub mod notices;
pub mod observe;
pub mod platform;
pub mod readings;
pub mod region;
pub mod trends;
pub mod types;
