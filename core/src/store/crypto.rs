//! Sealing of patient values with AES-256-GCM, and keyed index tags.
//!
//! One random 256-bit data key per database. Two subkeys are derived from it with HKDF:
//! one seals values, one computes index tags (HMAC-SHA256) so that lookups by kind never
//! store the kind in plain text. Every sealed value carries a fresh random 96-bit nonce
//! and is bound by its AAD to table, column and row: a ciphertext copied to another row
//! or column fails to open. The data key never leaves this module except wrapped by a
//! [`crate::store::key::KeyProvider`].

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use thiserror::Error;
use zeroize::Zeroizing;

/// Length of the data key in bytes.
pub const DATA_KEY_LEN: usize = 32;
/// Format version byte at the start of every sealed value.
const SEAL_VERSION: u8 = 1;
/// The plaintext of the canary that proves the key on open.
const CANARY_PLAINTEXT: &[u8] = b"nara-canary-v1";

/// A sealing or opening failure; carries no data.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The system random generator failed.
    #[error("random generator failed")]
    Random,
    /// A value did not authenticate: wrong key, tampered or moved ciphertext.
    #[error("a sealed value failed authentication")]
    Unauthentic,
    /// A key had the wrong length.
    #[error("key has the wrong length")]
    BadKey,
}

/// The per-database data key. Zeroed on drop.
pub struct DataKey {
    bytes: Zeroizing<[u8; DATA_KEY_LEN]>,
}

impl DataKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; DATA_KEY_LEN]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| CryptoError::Random)?;
        Ok(Self { bytes })
    }

    /// A key from raw bytes (after unwrapping).
    pub fn from_bytes(raw: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; DATA_KEY_LEN] = raw.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Self {
            bytes: Zeroizing::new(arr),
        })
    }

    /// The raw bytes, only to hand to a key provider for wrapping.
    pub fn expose_for_wrapping(&self) -> &[u8] {
        self.bytes.as_ref()
    }
}

struct HkdfLen(usize);
impl hkdf::KeyType for HkdfLen {
    fn len(&self) -> usize {
        self.0
    }
}

fn derive(key: &DataKey, info: &[u8]) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"nara/v1");
    let prk = salt.extract(key.bytes.as_ref());
    let info = [info];
    let okm = prk
        .expand(&info, HkdfLen(32))
        .map_err(|_| CryptoError::BadKey)?;
    let mut out = Zeroizing::new([0u8; 32]);
    okm.fill(out.as_mut()).map_err(|_| CryptoError::BadKey)?;
    Ok(out)
}

/// Seals and opens values, and computes index tags, for one database.
pub struct Cipher {
    aead: LessSafeKey,
    index: hmac::Key,
    rng: RandomPool,
}

/// Random bytes from the system CSPRNG, fetched 4 KiB at a time: a seal needs only 12
/// bytes, and one `getrandom` call per seal dominated bulk imports. The bytes are the
/// kernel's CSPRNG output either way; each byte is handed out once.
pub struct RandomPool {
    rng: SystemRandom,
    buf: std::sync::Mutex<(Box<[u8; 4096]>, usize)>,
}

impl RandomPool {
    /// An empty pool; it fills on first use.
    pub fn new() -> Self {
        Self {
            rng: SystemRandom::new(),
            buf: std::sync::Mutex::new((Box::new([0u8; 4096]), 4096)),
        }
    }

    /// Fills `out` (at most 4 KiB) with fresh random bytes.
    pub fn fill(&self, out: &mut [u8]) -> Result<(), CryptoError> {
        let mut guard = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        let (buf, pos) = &mut *guard;
        if out.len() > buf.len() {
            return self.rng.fill(out).map_err(|_| CryptoError::Random);
        }
        if *pos + out.len() > buf.len() {
            self.rng
                .fill(buf.as_mut_slice())
                .map_err(|_| CryptoError::Random)?;
            *pos = 0;
        }
        out.copy_from_slice(&buf[*pos..*pos + out.len()]);
        // Never hand out the same bytes twice.
        buf[*pos..*pos + out.len()].fill(0);
        *pos += out.len();
        Ok(())
    }
}

impl Default for RandomPool {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher { .. }")
    }
}

fn aad(table: &str, column: &str, row: &str) -> Vec<u8> {
    let mut a = Vec::with_capacity(table.len() + column.len() + row.len() + 12);
    a.extend_from_slice(b"nara/v1\0");
    for part in [table, column, row] {
        a.extend_from_slice(part.as_bytes());
        a.push(0);
    }
    a
}

impl Cipher {
    /// Derives the sealing and index keys from the data key.
    pub fn new(key: &DataKey) -> Result<Self, CryptoError> {
        let seal_key = derive(key, b"seal")?;
        let index_key = derive(key, b"index")?;
        let unbound =
            UnboundKey::new(&AES_256_GCM, seal_key.as_ref()).map_err(|_| CryptoError::BadKey)?;
        Ok(Self {
            aead: LessSafeKey::new(unbound),
            index: hmac::Key::new(hmac::HMAC_SHA256, index_key.as_ref()),
            rng: RandomPool::new(),
        })
    }

    /// Seals `plaintext` for `table.column` of row `row`.
    /// Layout: version (1) | nonce (12) | ciphertext | tag (16).
    pub fn seal(
        &self,
        table: &str,
        column: &str,
        row: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| CryptoError::Random)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let mut body = out.split_off(1 + NONCE_LEN);
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(table, column, row)),
                &mut body,
            )
            .map_err(|_| CryptoError::Unauthentic)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens a value sealed by [`Cipher::seal`] for the same table, column and row.
    pub fn open(
        &self,
        table: &str,
        column: &str,
        row: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != SEAL_VERSION {
            return Err(CryptoError::Unauthentic);
        }
        let nonce: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN]
            .try_into()
            .map_err(|_| CryptoError::Unauthentic)?;
        let mut body = Zeroizing::new(sealed[1 + NONCE_LEN..].to_vec());
        let len = self
            .aead
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(table, column, row)),
                body.as_mut_slice(),
            )
            .map_err(|_| CryptoError::Unauthentic)?
            .len();
        body.truncate(len);
        Ok(body)
    }

    /// 16 fresh random bytes (for client ids).
    pub fn random16(&self) -> Result<[u8; 16], CryptoError> {
        let mut b = [0u8; 16];
        self.rng.fill(&mut b)?;
        Ok(b)
    }

    /// A keyed 16-byte tag for an indexable value (for example a reading kind), so that
    /// equal values can be found without storing them in plain text.
    pub fn index_tag(&self, domain: &str, value: &str) -> Vec<u8> {
        let mut ctx = hmac::Context::with_key(&self.index);
        ctx.update(domain.as_bytes());
        ctx.update(&[0]);
        ctx.update(value.as_bytes());
        ctx.sign().as_ref()[..16].to_vec()
    }

    /// A sealed canary to store at creation.
    pub fn make_canary(&self) -> Result<Vec<u8>, CryptoError> {
        self.seal("meta", "canary", "canary", CANARY_PLAINTEXT)
    }

    /// True if `sealed` is this key's canary.
    pub fn check_canary(&self, sealed: &[u8]) -> bool {
        self.open("meta", "canary", "canary", sealed)
            .map(|p| p.as_slice() == CANARY_PLAINTEXT)
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    fn cipher() -> Cipher {
        Cipher::new(&DataKey::generate().expect("key")).expect("cipher")
    }

    #[test]
    fn round_trip() {
        let c = cipher();
        let sealed = c.seal("readings", "body", "r1", b"142/91").expect("seal");
        assert_eq!(
            c.open("readings", "body", "r1", &sealed)
                .expect("open")
                .as_slice(),
            b"142/91"
        );
        assert!(!sealed.windows(6).any(|w| w == b"142/91"));
    }

    #[test]
    fn moved_ciphertext_is_rejected() {
        let c = cipher();
        let sealed = c.seal("readings", "body", "r1", b"x").expect("seal");
        assert_eq!(
            c.open("readings", "body", "r2", &sealed).err(),
            Some(CryptoError::Unauthentic)
        );
        assert_eq!(
            c.open("readings", "note", "r1", &sealed).err(),
            Some(CryptoError::Unauthentic)
        );
        assert_eq!(
            c.open("other", "body", "r1", &sealed).err(),
            Some(CryptoError::Unauthentic)
        );
    }

    #[test]
    fn wrong_key_is_detected_by_the_canary() {
        let a = cipher();
        let b = cipher();
        let canary = a.make_canary().expect("canary");
        assert!(a.check_canary(&canary));
        assert!(!b.check_canary(&canary));
    }

    #[test]
    fn no_nonce_repeats_over_many_seals() {
        let c = cipher();
        let mut nonces = HashSet::new();
        for _ in 0..200_000 {
            let s = c.seal("t", "c", "r", b"v").expect("seal");
            assert!(nonces.insert(s[1..13].to_vec()), "nonce repeated");
        }
    }

    #[test]
    fn index_tags_are_keyed_and_stable() {
        let key = DataKey::generate().expect("key");
        let a = Cipher::new(&key).expect("cipher");
        let a2 = Cipher::new(&DataKey::from_bytes(key.expose_for_wrapping()).expect("key"))
            .expect("cipher");
        let b = cipher();
        assert_eq!(a.index_tag("kind", "bp"), a2.index_tag("kind", "bp"));
        assert_ne!(a.index_tag("kind", "bp"), b.index_tag("kind", "bp"));
        assert_ne!(a.index_tag("kind", "bp"), a.index_tag("kind", "hr"));
    }

    proptest! {
        #[test]
        fn any_tampered_byte_is_rejected(
            plain in proptest::collection::vec(any::<u8>(), 0..64),
            pos in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let c = cipher();
            let mut sealed = c.seal("t", "c", "r", &plain).expect("seal");
            let i = pos.index(sealed.len());
            sealed[i] ^= flip;
            prop_assert!(c.open("t", "c", "r", &sealed).is_err());
        }

        #[test]
        fn truncation_is_rejected(plain in proptest::collection::vec(any::<u8>(), 0..64), cut in 1usize..20) {
            let c = cipher();
            let sealed = c.seal("t", "c", "r", &plain).expect("seal");
            let n = sealed.len().saturating_sub(cut);
            prop_assert!(c.open("t", "c", "r", &sealed[..n]).is_err());
        }
    }
}
