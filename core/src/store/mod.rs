//! The encrypted offline store: SQLite (bundled) in WAL mode, one writer and a few
//! readers, every patient value sealed (see [`crypto`]).
//!
//! Durability: the writer runs with `synchronous = FULL`, so a capture acknowledged to
//! the caller has been fsynced to the WAL and survives a killed process or a power cut.
//! Recovery: a database SQLite reports corrupt, or whose platform key is permanently lost,
//! is moved aside into `quarantine/` with its WAL and wrapped key, and reported; it is
//! never deleted, since it may hold unsynced readings. A wrong key is a typed error and
//! changes nothing on disk.

pub mod chat;
pub mod content_db;
pub mod crypto;
pub mod files;
pub mod key;
pub mod migrations;
pub mod notices;
pub mod outbox;
pub mod readings;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, OptionalExtension, ffi::ErrorCode};
use thiserror::Error;

use self::crypto::{Cipher, CryptoError, DataKey};
use self::key::{KeyProvider, KeyProviderError};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "nara.db";
/// File name of the wrapped data key inside the data directory.
pub const WRAPPED_KEY_FILE: &str = "datakey.wrapped";
/// Folder (inside the data directory) that receives databases moved aside.
pub const QUARANTINE_DIR: &str = "quarantine";
const READERS: usize = 2;

/// Why the store could not be opened or used. Messages carry no patient data.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The platform key cannot be used now (device locked); nothing was changed.
    #[error("the encryption key is not available now; try again after unlocking")]
    KeyUnavailable,
    /// The key does not open this database (wrong passphrase or key); nothing was changed.
    #[error("the encryption key does not match this database")]
    WrongKey,
    /// The platform key that wrapped the data key is permanently gone (or the wrapped key
    /// file is missing), so this database can never be read. Nothing was changed; call
    /// `Nara::open_after_key_loss` to move it aside and start a fresh store.
    #[error("the encryption key for this database is permanently lost")]
    KeyLost,
    /// The key provider failed otherwise.
    #[error("key provider error: {0}")]
    KeyProvider(KeyProviderError),
    /// The database was written by a newer app version; nothing was changed.
    #[error("the database was written by a newer version of the app")]
    TooNew,
    /// A stored value failed authentication (tampering or corruption).
    #[error("a stored value failed authentication")]
    Unauthentic,
    /// A file-system error (kind only).
    #[error("file error: {0}")]
    Io(std::io::ErrorKind),
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(String),
    /// A stored value could not be decoded.
    #[error("a stored value could not be decoded")]
    Decode,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        // rusqlite errors name SQL and codes, never bound values.
        StoreError::Sqlite(e.to_string())
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Io(e.kind())
    }
}

impl From<CryptoError> for StoreError {
    fn from(_: CryptoError) -> Self {
        StoreError::Unauthentic
    }
}

impl From<migrations::MigrationError> for StoreError {
    fn from(e: migrations::MigrationError) -> Self {
        match e {
            migrations::MigrationError::TooNew { .. } => StoreError::TooNew,
            migrations::MigrationError::Sqlite(e) => e.into(),
        }
    }
}

/// Why a database was moved aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuarantineReason {
    /// SQLite reported the file as corrupt or not a database.
    Corrupt,
    /// The platform key that wrapped the data key is permanently gone.
    KeyLost,
}

/// A database moved aside on open.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Quarantined {
    /// Why.
    pub reason: QuarantineReason,
    /// Where the files now are.
    pub path: PathBuf,
}

/// What happened while opening.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct OpenReport {
    /// True if a new, empty store was created.
    pub created: bool,
    /// Schema version found before migrating (0 for a new store).
    pub migrated_from: u32,
    /// A database moved aside, if one was.
    pub quarantined: Option<Quarantined>,
}

/// The store: one writer connection, a small pool of readers, and the cipher.
pub struct Store {
    dir: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    cipher: Cipher,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves the connection usable: SQLite rolls back
    // any open transaction when the guard's statement or transaction is dropped.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt)
    )
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

impl Store {
    /// Opens (or creates) the store in `dir` with the data key unwrapped by `keys`.
    ///
    /// With `recover_lost_key` false, a permanently lost key is [`StoreError::KeyLost`] and
    /// nothing changes; with it true, the unreadable database is moved aside and a fresh
    /// store is created (reported in [`OpenReport::quarantined`]).
    pub fn open(
        dir: &Path,
        keys: &dyn KeyProvider,
        recover_lost_key: bool,
    ) -> Result<(Store, OpenReport), StoreError> {
        fs::create_dir_all(dir)?;
        let mut report = OpenReport::default();
        let db_path = dir.join(DB_FILE);
        let key_path = dir.join(WRAPPED_KEY_FILE);

        let existing_key = match fs::read(&key_path) {
            Ok(w) => Some(w),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let data_key = match existing_key {
            Some(wrapped) => match keys.unwrap_key(&wrapped) {
                Ok(raw) => Some(DataKey::from_bytes(&raw).map_err(|_| StoreError::WrongKey)?),
                Err(KeyProviderError::Unavailable) => return Err(StoreError::KeyUnavailable),
                Err(KeyProviderError::WrongKey) => return Err(StoreError::WrongKey),
                Err(KeyProviderError::Lost) if !recover_lost_key => {
                    return Err(StoreError::KeyLost);
                }
                Err(KeyProviderError::Lost) => {
                    report.quarantined = Some(quarantine(dir, QuarantineReason::KeyLost)?);
                    None
                }
                Err(other) => return Err(StoreError::KeyProvider(other)),
            },
            None if db_path.exists() && !recover_lost_key => return Err(StoreError::KeyLost),
            None if db_path.exists() => {
                // A database without its key can never be read; keep it aside.
                report.quarantined = Some(quarantine(dir, QuarantineReason::KeyLost)?);
                None
            }
            None => None,
        };
        let data_key = match data_key {
            Some(k) => k,
            None => {
                let k = DataKey::generate()?;
                let wrapped = keys.wrap(k.expose_for_wrapping()).map_err(|e| match e {
                    KeyProviderError::Unavailable => StoreError::KeyUnavailable,
                    other => StoreError::KeyProvider(other),
                })?;
                write_atomically(&key_path, &wrapped)?;
                k
            }
        };
        let cipher = Cipher::new(&data_key)?;

        let writer = match Self::open_writer(&db_path, &cipher, &mut report) {
            Ok(c) => c,
            Err(OpenFailure::Corrupt) => {
                report.quarantined = Some(quarantine_db_only(dir, QuarantineReason::Corrupt)?);
                Self::open_writer(&db_path, &cipher, &mut report).map_err(|e| match e {
                    OpenFailure::Corrupt => StoreError::Sqlite("new database corrupt".into()),
                    OpenFailure::Other(e) => e,
                })?
            }
            Err(OpenFailure::Other(e)) => return Err(e),
        };

        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let c = Connection::open_with_flags(
                &db_path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            c.busy_timeout(std::time::Duration::from_secs(5))?;
            readers.push(c);
        }
        let store = Store {
            dir: dir.to_owned(),
            writer: Mutex::new(writer),
            readers: Mutex::new(readers),
            cipher,
        };
        Ok((store, report))
    }

    fn open_writer(
        db_path: &Path,
        cipher: &Cipher,
        report: &mut OpenReport,
    ) -> Result<Connection, OpenFailure> {
        let created = !db_path.exists();
        let mut conn = Connection::open(db_path).map_err(OpenFailure::from_sqlite)?;
        let setup = |conn: &Connection| -> rusqlite::Result<()> {
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.pragma_update(None, "secure_delete", "ON")?;
            // 16 MiB page cache for the writer: a 10,000-reading import chunk fits, so
            // index pages are not spilled and re-read within a transaction.
            conn.pragma_update(None, "cache_size", -16_384)?;
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        };
        setup(&conn).map_err(OpenFailure::from_sqlite)?;
        let from = migrations::migrate(&mut conn).map_err(|e| match e {
            migrations::MigrationError::Sqlite(e) => OpenFailure::from_sqlite(e),
            other => OpenFailure::Other(other.into()),
        })?;
        let canary: Option<Vec<u8>> = conn
            .query_row("SELECT value FROM meta WHERE key = 'canary'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(OpenFailure::from_sqlite)?;
        match canary {
            Some(c) if cipher.check_canary(&c) => {}
            Some(_) => return Err(OpenFailure::Other(StoreError::WrongKey)),
            None => {
                let c = cipher
                    .make_canary()
                    .map_err(|e| OpenFailure::Other(e.into()))?;
                conn.execute("INSERT INTO meta (key, value) VALUES ('canary', ?1)", [c])
                    .map_err(OpenFailure::from_sqlite)?;
            }
        }
        report.created = created || from == 0;
        report.migrated_from = from;
        Ok(conn)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cipher, for sealing rows outside a transaction.
    pub(crate) fn cipher(&self) -> &Cipher {
        &self.cipher
    }

    /// 16 fresh random bytes from the store's pooled CSPRNG (for client ids).
    pub fn random16(&self) -> Result<[u8; 16], StoreError> {
        Ok(self.cipher.random16()?)
    }

    /// Runs `f` in one write transaction, committed durably, or not at all.
    /// If `f` fails, the transaction rolls back and its error is returned.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>, &Cipher) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = lock(&self.writer);
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let out = f(&tx, &self.cipher)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// Runs `f` on a reader connection (a consistent snapshot for its duration).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection, &Cipher) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = lock(&self.readers).pop();
        let conn = match conn {
            Some(c) => c,
            None => Connection::open_with_flags(
                self.dir.join(DB_FILE),
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?,
        };
        let out = (|| {
            let tx = conn.unchecked_transaction()?;
            let out = f(&tx, &self.cipher);
            tx.finish()?;
            out
        })();
        let mut pool = lock(&self.readers);
        if pool.len() < READERS {
            pool.push(conn);
        }
        out
    }

    /// Runs SQLite's full integrity check; true if it reports `ok`.
    pub fn integrity_ok(&self) -> Result<bool, StoreError> {
        let conn = lock(&self.writer);
        let r: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(r == "ok")
    }

    /// Deletes every row, checkpoints and closes, then removes the database files and the
    /// wrapped key, and asks the key provider to forget its key.
    pub fn wipe(self, keys: &dyn KeyProvider) -> Result<(), StoreError> {
        {
            let conn = lock(&self.writer);
            let tables: Vec<String> = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for t in tables {
                conn.execute(&format!("DELETE FROM \"{t}\""), [])?;
            }
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")?;
        }
        let dir = self.dir.clone();
        drop(self);
        for f in [DB_FILE, "nara.db-wal", "nara.db-shm", WRAPPED_KEY_FILE] {
            match fs::remove_file(dir.join(f)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        // The public content cache goes too: which articles are cached says a little
        // about whose phone this was.
        content_db::remove_files(&dir)?;
        keys.forget().map_err(StoreError::KeyProvider)?;
        Ok(())
    }
}

enum OpenFailure {
    Corrupt,
    Other(StoreError),
}

impl OpenFailure {
    fn from_sqlite(e: rusqlite::Error) -> Self {
        if is_corruption(&e) {
            OpenFailure::Corrupt
        } else {
            OpenFailure::Other(e.into())
        }
    }
}

fn quarantine_target(dir: &Path, reason: QuarantineReason) -> Result<PathBuf, StoreError> {
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let tag = match reason {
        QuarantineReason::Corrupt => "corrupt",
        QuarantineReason::KeyLost => "key-lost",
    };
    let mut target = dir.join(QUARANTINE_DIR).join(format!("{stamp}-{tag}"));
    let mut n = 1;
    while target.exists() {
        target = dir.join(QUARANTINE_DIR).join(format!("{stamp}-{tag}-{n}"));
        n += 1;
    }
    fs::create_dir_all(&target)?;
    Ok(target)
}

fn move_files(dir: &Path, target: &Path, files: &[&str]) -> Result<(), StoreError> {
    for f in files {
        let from = dir.join(f);
        if from.exists() {
            fs::rename(&from, target.join(f))?;
        }
    }
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Moves the database, its WAL and the wrapped key aside.
fn quarantine(dir: &Path, reason: QuarantineReason) -> Result<Quarantined, StoreError> {
    let target = quarantine_target(dir, reason)?;
    move_files(
        dir,
        &target,
        &[DB_FILE, "nara.db-wal", "nara.db-shm", WRAPPED_KEY_FILE],
    )?;
    tracing::warn!(?reason, "database moved aside");
    Ok(Quarantined {
        reason,
        path: target,
    })
}

/// Moves the database and its WAL aside, keeping the (valid) wrapped key, and copies
/// the wrapped key along so the quarantined files stay decryptable.
fn quarantine_db_only(dir: &Path, reason: QuarantineReason) -> Result<Quarantined, StoreError> {
    let target = quarantine_target(dir, reason)?;
    if dir.join(WRAPPED_KEY_FILE).exists() {
        fs::copy(dir.join(WRAPPED_KEY_FILE), target.join(WRAPPED_KEY_FILE))?;
    }
    move_files(dir, &target, &[DB_FILE, "nara.db-wal", "nara.db-shm"])?;
    tracing::warn!(?reason, "database moved aside");
    Ok(Quarantined {
        reason,
        path: target,
    })
}

/// Shared handle to the store.
pub type SharedStore = Arc<Store>;

/// Serializes `value` to JSON and seals it for `table.column` of `row`; the plaintext is
/// zeroed after sealing.
pub(crate) fn seal_json<T: serde::Serialize>(
    cipher: &Cipher,
    table: &str,
    column: &str,
    row: &str,
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    let json = zeroize::Zeroizing::new(serde_json::to_vec(value).map_err(|_| StoreError::Decode)?);
    Ok(cipher.seal(table, column, row, &json)?)
}

/// Opens a value sealed by [`seal_json`] for the same table, column and row.
pub(crate) fn open_json<T: serde::de::DeserializeOwned>(
    cipher: &Cipher,
    table: &str,
    column: &str,
    row: &str,
    sealed: &[u8],
) -> Result<T, StoreError> {
    let plain = cipher.open(table, column, row, sealed)?;
    serde_json::from_slice(&plain).map_err(|_| StoreError::Decode)
}
