#![no_main]
//! Any bytes as a GlucoseMeasurementContext value.

use libfuzzer_sys::fuzz_target;
use nara_core::device::Characteristic;

fuzz_target!(|data: &[u8]| nara_core_fuzz::check(Characteristic::GlucoseMeasurementContext, data));
