//! One module per command group, plus what they share: the context and opening the store.

pub mod chat;
pub mod content;
pub mod device;
pub mod form;
pub mod init;
pub mod notices;
pub mod reading;
pub mod region;
pub mod schedule;
pub mod thresholds;
pub mod trend;
pub mod wipe;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use nara_core::domain::reading::ReadingKind;
use nara_core::domain::text::Lang;
use nara_core::{FileKeyProvider, KeyProvider, Nara, PassphraseKeyProvider};

use crate::UserError;

/// Exit code of every command: bad input (a URL, an id, a language, a time, a value),
/// told in both languages.
pub const EXIT_INPUT: u8 = 2;

/// What every command needs: where the data is, how to print.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The data directory.
    pub data_dir: PathBuf,
    /// An explicit key file, if given.
    pub key_file: Option<PathBuf>,
    /// JSON output.
    pub json: bool,
    /// Language of patient-facing text.
    pub lang: Lang,
    /// Colours on.
    pub color: bool,
}

impl Ctx {
    /// The default key file: `<data-dir>/../nara-keys/<name>.key`, outside the data dir.
    pub fn key_path(&self) -> PathBuf {
        if let Some(k) = &self.key_file {
            return k.clone();
        }
        default_key_path(&self.data_dir)
    }

    /// The key provider: a passphrase from `NARA_PASSPHRASE`, else the key file.
    pub fn keys(&self) -> anyhow::Result<Arc<dyn KeyProvider>> {
        if let Some(p) = std::env::var_os("NARA_PASSPHRASE").filter(|p| !p.is_empty()) {
            let p = p
                .into_string()
                .map_err(|_| anyhow::anyhow!("NARA_PASSPHRASE is not UTF-8"))?;
            return Ok(Arc::new(PassphraseKeyProvider::new(p)));
        }
        let path = self.key_path();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating key directory {}", parent.display()))?;
        }
        Ok(Arc::new(FileKeyProvider::new(path)))
    }

    /// A short, non-secret description of the key provider in use.
    pub fn key_description(&self) -> String {
        if std::env::var_os("NARA_PASSPHRASE").is_some_and(|p| !p.is_empty()) {
            "passphrase (NARA_PASSPHRASE)".to_owned()
        } else {
            format!("key file {}", self.key_path().display())
        }
    }

    /// Opens (or creates) the store.
    pub fn open(&self) -> anyhow::Result<Nara> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data directory {}", self.data_dir.display()))?;
        let keys = self.keys()?;
        Ok(Nara::open(&self.data_dir, keys)?)
    }
}

/// `<data-dir>/../nara-keys/<last component>.key`.
pub fn default_key_path(data_dir: &Path) -> PathBuf {
    let name = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "nara".to_owned());
    let parent = data_dir.parent().unwrap_or_else(|| Path::new("."));
    parent.join("nara-keys").join(format!("{name}.key"))
}

/// Parses a kind's short name (`bp`, `glucose`, ...), as a clap value parser.
pub fn parse_kind(s: &str) -> Result<ReadingKind, String> {
    ReadingKind::from_short_name(&s.to_ascii_lowercase()).ok_or_else(|| {
        let names: Vec<&str> = ReadingKind::ALL.iter().map(|k| k.short_name()).collect();
        format!("unknown kind '{s}'; one of: {}", names.join(", "))
    })
}

/// An error for the user with exit code `code`.
pub fn user_error(code: u8, line: impl Into<String>) -> anyhow::Error {
    UserError {
        lines: vec![line.into()],
        code,
    }
    .into()
}

/// Prints `value` as pretty JSON.
pub fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
