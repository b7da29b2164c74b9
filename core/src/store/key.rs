//! Key providers: who keeps the key that wraps the database's data key.
//!
//! The data key is stored only wrapped, in the file `datakey.wrapped` beside the
//! database. Shells implement [`KeyProvider`] with Android Keystore or the iOS Keychain;
//! the CLI and tests use [`PassphraseKeyProvider`] (PBKDF2-HMAC-SHA256) or
//! [`FileKeyProvider`] (a raw key-encryption key in a file, a stand-in for a platform
//! keystore). A provider must not call back into the store: it is called while the store
//! is opening.

use std::fs;
use std::io::Write;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::pbkdf2;
use ring::rand::{SecureRandom, SystemRandom};
use thiserror::Error;
use zeroize::Zeroizing;

/// Why a key provider could not wrap or unwrap.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KeyProviderError {
    /// The platform key exists but cannot be used now (device locked): try later.
    #[error("the platform key is not available now")]
    Unavailable,
    /// The platform key is gone for good (app reinstalled, biometrics reset).
    #[error("the platform key is permanently lost")]
    Lost,
    /// The wrapped key did not unwrap: wrong passphrase or wrong platform key.
    #[error("the data key could not be unwrapped with this key")]
    WrongKey,
    /// Any other failure, described without secrets.
    #[error("key provider failure: {0}")]
    Other(String),
}

/// Wraps and unwraps the data key with a key the platform keeps.
pub trait KeyProvider: Send + Sync {
    /// Encrypts `data_key` for storage.
    fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, KeyProviderError>;
    /// Decrypts what [`KeyProvider::wrap`] returned.
    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyProviderError>;
    /// Deletes the platform key on wipe; the default does nothing.
    fn forget(&self) -> Result<(), KeyProviderError> {
        Ok(())
    }
}

const WRAP_AAD: &[u8] = b"nara/v1 data key";

fn aes_wrap(kek: &[u8], prefix: &[u8], data_key: &[u8]) -> Result<Vec<u8>, KeyProviderError> {
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, kek)
            .map_err(|_| KeyProviderError::Other("bad kek".into()))?,
    );
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| KeyProviderError::Other("rng".into()))?;
    let mut body = data_key.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(WRAP_AAD),
        &mut body,
    )
    .map_err(|_| KeyProviderError::Other("seal".into()))?;
    let mut out = prefix.to_vec();
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

fn aes_unwrap(kek: &[u8], rest: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyProviderError> {
    if rest.len() < NONCE_LEN + 16 {
        return Err(KeyProviderError::WrongKey);
    }
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, kek)
            .map_err(|_| KeyProviderError::Other("bad kek".into()))?,
    );
    let nonce: [u8; NONCE_LEN] = rest[..NONCE_LEN]
        .try_into()
        .map_err(|_| KeyProviderError::WrongKey)?;
    let mut body = Zeroizing::new(rest[NONCE_LEN..].to_vec());
    let n = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(WRAP_AAD),
            body.as_mut_slice(),
        )
        .map_err(|_| KeyProviderError::WrongKey)?
        .len();
    body.truncate(n);
    Ok(body)
}

/// Derives the wrapping key from a passphrase with PBKDF2-HMAC-SHA256 and a random salt.
pub struct PassphraseKeyProvider {
    passphrase: Zeroizing<String>,
    iterations: NonZeroU32,
}

impl PassphraseKeyProvider {
    /// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
    pub const DEFAULT_ITERATIONS: u32 = 600_000;

    /// A provider for `passphrase` with the default iteration count.
    pub fn new(passphrase: impl Into<String>) -> Self {
        Self::with_iterations(passphrase, Self::DEFAULT_ITERATIONS)
    }

    /// A provider with a chosen iteration count (new wraps only; unwrapping reads the
    /// count stored in the wrapped key).
    pub fn with_iterations(passphrase: impl Into<String>, iterations: u32) -> Self {
        Self {
            passphrase: Zeroizing::new(passphrase.into()),
            iterations: NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN),
        }
    }

    fn kek(&self, salt: &[u8], iterations: NonZeroU32) -> Zeroizing<[u8; 32]> {
        let mut kek = Zeroizing::new([0u8; 32]);
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            salt,
            self.passphrase.as_bytes(),
            kek.as_mut(),
        );
        kek
    }
}

impl KeyProvider for PassphraseKeyProvider {
    /// Layout: `P1` | iterations (u32 BE) | salt (16) | nonce | ciphertext+tag.
    fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, KeyProviderError> {
        let mut salt = [0u8; 16];
        SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| KeyProviderError::Other("rng".into()))?;
        let mut prefix = b"P1".to_vec();
        prefix.extend_from_slice(&self.iterations.get().to_be_bytes());
        prefix.extend_from_slice(&salt);
        aes_wrap(self.kek(&salt, self.iterations).as_ref(), &prefix, data_key)
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyProviderError> {
        if wrapped.len() < 22 || &wrapped[..2] != b"P1" {
            return Err(KeyProviderError::WrongKey);
        }
        let iters = u32::from_be_bytes([wrapped[2], wrapped[3], wrapped[4], wrapped[5]]);
        let iters = NonZeroU32::new(iters).ok_or(KeyProviderError::WrongKey)?;
        let salt = &wrapped[6..22];
        aes_unwrap(self.kek(salt, iters).as_ref(), &wrapped[22..])
    }
}

/// Keeps a random key-encryption key in a file (created 0600 on first use): a stand-in
/// for a platform keystore in the CLI and tests. Keep the file apart from the data.
pub struct FileKeyProvider {
    path: PathBuf,
}

impl FileKeyProvider {
    /// A provider whose key lives at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The key file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load_or_create(&self) -> Result<Zeroizing<Vec<u8>>, KeyProviderError> {
        match fs::read(&self.path) {
            Ok(k) if k.len() == 32 => Ok(Zeroizing::new(k)),
            Ok(_) => Err(KeyProviderError::Lost),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut k = Zeroizing::new(vec![0u8; 32]);
                SystemRandom::new()
                    .fill(k.as_mut_slice())
                    .map_err(|_| KeyProviderError::Other("rng".into()))?;
                if let Some(parent) = self.path.parent() {
                    fs::create_dir_all(parent)
                        .map_err(|e| KeyProviderError::Other(e.kind().to_string()))?;
                }
                // Write a temporary file and rename it into place, so a process killed
                // mid-write never leaves a short key file that would read as a lost key.
                let io = |e: std::io::Error| KeyProviderError::Other(e.kind().to_string());
                let tmp = self.path.with_extension("key-tmp");
                let mut opts = fs::OpenOptions::new();
                opts.write(true).create(true).truncate(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                let mut f = opts.open(&tmp).map_err(io)?;
                f.write_all(&k).and_then(|_| f.sync_all()).map_err(io)?;
                drop(f);
                // A hard link never replaces a key another process created meanwhile.
                let linked = fs::hard_link(&tmp, &self.path);
                let _ = fs::remove_file(&tmp);
                match linked {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        return self.load_or_create();
                    }
                    Err(e) => return Err(io(e)),
                }
                Ok(k)
            }
            Err(e) => Err(KeyProviderError::Other(e.kind().to_string())),
        }
    }
}

impl KeyProvider for FileKeyProvider {
    fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, KeyProviderError> {
        aes_wrap(&self.load_or_create()?, b"F1", data_key)
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyProviderError> {
        if !self.path.exists() {
            return Err(KeyProviderError::Lost);
        }
        if wrapped.len() < 2 || &wrapped[..2] != b"F1" {
            return Err(KeyProviderError::WrongKey);
        }
        aes_unwrap(&self.load_or_create()?, &wrapped[2..])
    }

    fn forget(&self) -> Result<(), KeyProviderError> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(KeyProviderError::Other(e.kind().to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_round_trip_and_wrong_passphrase() {
        let p = PassphraseKeyProvider::with_iterations("rätt lösenord", 1000);
        let wrapped = p.wrap(&[7u8; 32]).expect("wrap");
        assert_eq!(
            p.unwrap_key(&wrapped).expect("unwrap").as_slice(),
            &[7u8; 32]
        );
        let q = PassphraseKeyProvider::with_iterations("fel", 1000);
        assert_eq!(
            q.unwrap_key(&wrapped).err(),
            Some(KeyProviderError::WrongKey)
        );
    }

    #[test]
    fn file_key_round_trip_and_lost_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = FileKeyProvider::new(dir.path().join("k/device.key"));
        let wrapped = p.wrap(&[9u8; 32]).expect("wrap");
        assert_eq!(
            p.unwrap_key(&wrapped).expect("unwrap").as_slice(),
            &[9u8; 32]
        );
        p.forget().expect("forget");
        assert_eq!(p.unwrap_key(&wrapped).err(), Some(KeyProviderError::Lost));
    }
}
