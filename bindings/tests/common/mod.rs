//! Shared by the FFI test files (each is its own crate and takes what it needs).

#![allow(dead_code)]

use nara_ffi::errors::KeyError;
use nara_ffi::keys::KeyProvider;

/// Test-only key provider: XOR with a byte. Never use outside tests.
pub struct XorKeys(pub u8);

impl KeyProvider for XorKeys {
    fn wrap(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyError> {
        Ok(data_key.iter().map(|b| b ^ self.0).collect())
    }
    fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyError> {
        Ok(wrapped.iter().map(|b| b ^ self.0).collect())
    }
    fn forget(&self) -> Result<(), KeyError> {
        Ok(())
    }
}
