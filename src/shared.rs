//! Session files shared through the platform's bucket (`--blobs s3://…` with `--catalog`), so
//! every node bound to one catalog reads the same sessions: the sealing node publishes a
//! session's files (`sessions/<id>/<name>`) before its catalog row commits, and any node fetches
//! the files and originals it lacks on first read, keeping them as a local cache. Without a
//! bucket (the default) files are local only and nothing here does anything.

use std::path::Path;
use std::sync::OnceLock;

use crate::platform::blobs::{self, Blobs};
use crate::store::StoreError;

static BOUND: OnceLock<Blobs> = OnceLock::new();

/// Shares this process's session files through `blobs` (set once, by the command line).
pub fn bind(b: Blobs) {
    let _ = BOUND.set(b);
}

fn key(session: &str, name: &str) -> String {
    format!("sessions/{session}/{name}")
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Shared(e.to_string())
}

/// Uploads a session's files (before its catalog row commits, so a row never names files
/// other nodes cannot fetch).
pub(crate) fn publish(session: &str, files: &[(&str, Vec<u8>)]) -> Result<(), StoreError> {
    let Some(b) = BOUND.get() else {
        return Ok(());
    };
    for (name, bytes) in files {
        b.put_bytes(&key(session, name), bytes.clone())
            .map_err(err)?;
    }
    Ok(())
}

/// Fetches a session file into `dest`; false when there is no bucket or it lacks the file.
pub(crate) fn fetch(session: &str, name: &str, dest: &Path) -> Result<bool, StoreError> {
    fetch_key(&key(session, name), dest)
}

/// Fetches an original into `dest`, checking its hash; false when there is no bucket or it
/// lacks the original.
pub(crate) fn fetch_original(sha256: &str, dest: &Path) -> Result<bool, StoreError> {
    let Some(b) = BOUND.get() else {
        return Ok(false);
    };
    let k = blobs::original_key(sha256);
    if !b.exists(&k).map_err(err)? {
        return Ok(false);
    }
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let got = b.get_file(&k, dest).map_err(err)?;
    if got != sha256 {
        let _ = std::fs::remove_file(dest);
        return Err(err(format!(
            "the bucket's original {sha256} has SHA-256 {got}: it was altered there"
        )));
    }
    let _ = std::fs::set_permissions(dest, std::os::unix::fs::PermissionsExt::from_mode(0o444));
    Ok(true)
}

fn fetch_key(k: &str, dest: &Path) -> Result<bool, StoreError> {
    let Some(b) = BOUND.get() else {
        return Ok(false);
    };
    if !b.exists(k).map_err(err)? {
        return Ok(false);
    }
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    b.get_file(k, dest).map_err(err)?;
    Ok(true)
}

/// Removes a deleted session's files from the bucket, and its original when `original`.
pub(crate) fn remove(session: &str, original: Option<&str>) -> Result<(), StoreError> {
    let Some(b) = BOUND.get() else {
        return Ok(());
    };
    b.delete_prefix(&format!("sessions/{session}"))
        .map_err(err)?;
    if let Some(sha) = original {
        b.delete(&blobs::original_key(sha)).map_err(err)?;
    }
    Ok(())
}
