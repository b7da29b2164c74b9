#![no_main]
//! Any bytes as a Record Access Control Point request: decoding never panics, and
//! what decodes encodes back to the same bytes.

use libfuzzer_sys::fuzz_target;
use nara_core::device::racp::decode_request;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = decode_request(data) {
        assert_eq!(request.encode(), data, "a request round-trips");
    }
});
