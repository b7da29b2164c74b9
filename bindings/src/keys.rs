//! The key provider the shell implements with Android Keystore or the iOS Keychain.
//!
//! The core keeps its data key only wrapped; the provider wraps and unwraps it with a
//! key the platform holds. Providers are called while a store opens or is wiped: they
//! must not call back into Nära (that would deadlock).

use std::sync::Arc;

use nara_core::KeyProviderError;
use zeroize::Zeroizing;

use crate::errors::KeyError;

/// Wraps and unwraps Nära's data key with a key the platform keeps.
///
/// Android: an AES-GCM key in `AndroidKeyStore`. iOS: a key in the Keychain with
/// `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`. Report a locked device as
/// [`KeyError::Unavailable`], a key that is gone for good as [`KeyError::Lost`] and a
/// failed authentication as [`KeyError::WrongKey`]. Never call back into Nära from here.
#[uniffi::export(with_foreign)]
pub trait KeyProvider: Send + Sync {
    /// Encrypts `data_key` (32 bytes) for storage on disk.
    fn wrap(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyError>;
    /// Decrypts what [`KeyProvider::wrap`] returned.
    fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyError>;
    /// Deletes the platform key (logout, wipe).
    fn forget(&self) -> Result<(), KeyError>;
}

/// Adapts a shell's provider to the core's trait.
pub(crate) struct ForeignKeys(pub(crate) Arc<dyn KeyProvider>);

impl nara_core::KeyProvider for ForeignKeys {
    fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, KeyProviderError> {
        Ok(self.0.wrap(data_key.to_vec())?)
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyProviderError> {
        Ok(Zeroizing::new(self.0.unwrap_key(wrapped.to_vec())?))
    }

    fn forget(&self) -> Result<(), KeyProviderError> {
        Ok(self.0.forget()?)
    }
}
