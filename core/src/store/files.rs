//! Sealed files beside the database: chat photos.
//!
//! Each photo is one file in `files/` inside the data directory, sealed whole with the
//! store's [`Cipher`] (AES-256-GCM, AAD `photos|bytes|<photo id>`, so a file renamed to
//! another photo's name fails to open). The file name is a keyed tag of the photo id, so
//! neither the region's ids nor anything else readable appears in a directory listing.
//! Writes are atomic: a temporary file, fsync, rename, fsync of the folder; a crash
//! leaves either the old state or the new file, never half a photo.
//!
//! This module knows nothing of messages or budgets; `store::chat` keeps the metadata
//! and decides what to evict.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::store::StoreError;
use crate::store::crypto::Cipher;

/// Folder (inside the data directory) of the sealed photo files.
pub const FILES_DIR: &str = "files";
const SUFFIX: &str = "photo";
const TMP_SUFFIX: &str = "tmp";

/// The sealed photo files of one data directory.
#[derive(Debug, Clone)]
pub struct PhotoFiles {
    dir: PathBuf,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl PhotoFiles {
    /// The photo folder of `data_dir` (created on first write).
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join(FILES_DIR),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn name(cipher: &Cipher, photo_id: &str) -> String {
        let tag = cipher.index_tag("photo-file", photo_id);
        format!("{}.{SUFFIX}", hex(&tag[..16]))
    }

    fn path(&self, cipher: &Cipher, photo_id: &str) -> PathBuf {
        self.dir.join(Self::name(cipher, photo_id))
    }

    /// Seals `bytes` and writes them atomically as photo `photo_id`. Returns the size of
    /// the sealed file.
    pub fn write(&self, cipher: &Cipher, photo_id: &str, bytes: &[u8]) -> Result<u64, StoreError> {
        let sealed = cipher.seal("photos", "bytes", photo_id, bytes)?;
        fs::create_dir_all(&self.dir)?;
        let path = self.path(cipher, photo_id);
        let tmp = path.with_extension(TMP_SUFFIX);
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&sealed)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        fs::File::open(&self.dir)?.sync_all()?;
        Ok(sealed.len() as u64)
    }

    /// The opened bytes of photo `photo_id`, or `None` if its file is not here.
    pub fn read(
        &self,
        cipher: &Cipher,
        photo_id: &str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        let sealed = match fs::read(self.path(cipher, photo_id)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(Some(cipher.open("photos", "bytes", photo_id, &sealed)?))
    }

    /// Removes photo `photo_id`'s file; a missing file is not an error.
    pub fn remove(&self, cipher: &Cipher, photo_id: &str) -> Result<(), StoreError> {
        match fs::remove_file(self.path(cipher, photo_id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes every file in the folder that is not the file of one of `keep` (photo
    /// ids): temporary files of an interrupted write, and files whose transaction never
    /// committed. Only files last modified at least `min_age` ago are removed, so a
    /// write in progress elsewhere (another process of the app, such as an iOS
    /// extension, between writing a photo and committing its message) is left alone.
    /// Returns how many were removed.
    pub fn sweep(
        &self,
        cipher: &Cipher,
        keep: &[String],
        min_age: std::time::Duration,
    ) -> Result<usize, StoreError> {
        let keep: HashSet<String> = keep.iter().map(|id| Self::name(cipher, id)).collect();
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.file_type()?.is_file() || keep.contains(&name) {
                continue;
            }
            let age = entry
                .metadata()?
                .modified()
                .ok()
                .and_then(|m| m.elapsed().ok())
                .unwrap_or_default();
            if age >= min_age {
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Removes the folder and every file in it (logout).
    pub fn remove_all(&self) -> Result<(), StoreError> {
        match fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
