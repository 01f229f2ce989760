//! The archive's Ed25519 key: created on first use, kept in `<data>/keys/` with mode 0600.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use thiserror::Error;

/// Why the key could not be loaded or created.
#[derive(Debug, Error)]
pub enum KeyError {
    /// A file operation failed.
    #[error("archive key `{path}`: {source}")]
    Io {
        /// Key path.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// The key file does not hold a key.
    #[error("archive key `{0}` is damaged (expected 64 hex digits): restore it from your backup; without it new evidence cannot be signed")]
    Damaged(PathBuf),
    /// No randomness available.
    #[error("cannot get randomness for a new key: {0}")]
    Random(String),
}

/// Path of the secret key file.
pub fn secret_path(data: &Path) -> PathBuf {
    crate::layout::archive_key(data)
}

/// Loads the archive key, creating it (atomically, once) if there is none.
pub fn load_or_create(data: &Path) -> Result<SigningKey, KeyError> {
    let path = secret_path(data);
    let io = |source| KeyError::Io {
        path: path.clone(),
        source,
    };
    if !path.exists() {
        let dir = path.parent().expect("key path has a parent");
        fs::create_dir_all(dir).map_err(io)?;
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        let tmp = secret_file(dir, &seed).map_err(io)?;
        // Never replace an existing key: if another process created one first, use that.
        match tmp.persist_noclobber(&path) {
            Ok(_) => crate::fsutil::sync_dir(dir),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e.error)),
        }
    }
    let text = fs::read_to_string(&path).map_err(io)?;
    let seed = super::hex32(&text).ok_or_else(|| KeyError::Damaged(path.clone()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// A synced temporary file (mode 0600) in `dir` holding `seed` in hex, to be persisted.
fn secret_file(dir: &Path, seed: &[u8; 32]) -> std::io::Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".key-")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    writeln!(tmp, "{}", hex::encode(seed))?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// Replaces the archive key with `seed` (atomically; the old secret is gone afterwards).
pub fn replace(data: &Path, seed: &[u8; 32]) -> Result<(), KeyError> {
    let path = secret_path(data);
    let io = |source| KeyError::Io {
        path: path.clone(),
        source,
    };
    let dir = path.parent().expect("key path has a parent");
    let tmp = secret_file(dir, seed).map_err(io)?;
    tmp.persist(&path).map_err(|e| io(e.error))?;
    crate::fsutil::sync_dir(dir);
    Ok(())
}

/// The archive's public key, if it has one (never creates a key).
pub fn load_public(data: &Path) -> Result<Option<[u8; 32]>, KeyError> {
    if !secret_path(data).is_file() {
        return Ok(None);
    }
    Ok(Some(load_or_create(data)?.verifying_key().to_bytes()))
}

/// Public key as hex.
pub fn public_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
}

pub use liveproof_verify::seal::fingerprint;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_once_with_mode_0600() {
        let d = tempfile::tempdir().unwrap();
        let a = load_or_create(d.path()).unwrap();
        let b = load_or_create(d.path()).unwrap();
        assert_eq!(a.to_bytes(), b.to_bytes());
        let mode = fs::metadata(secret_path(d.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
