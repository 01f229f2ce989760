//! Derived files: a browser-playable rendition of an original (AAC in MP4; browsers play no
//! FLV or MPEG-TS), made once by ffmpeg and cached beside the archive with its own SHA-256
//! recorded. Never evidence and never replacing the original: delete the directory and it is
//! made again.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::layout;

/// What `audio.json` records about a rendition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendition {
    /// SHA-256 of the original it was made from.
    pub from_sha256: String,
    /// SHA-256 of the rendition.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// `audio/mp4`.
    pub content_type: String,
    /// How it was made.
    pub made_with: String,
}

/// Why a rendition could not be made.
#[derive(Debug, Error)]
pub enum DerivedError {
    /// ffmpeg failed or could not run.
    #[error("cannot make a playable rendition of recording {sha256}: {detail}")]
    Transcode {
        /// The original's hash.
        sha256: String,
        /// What failed.
        detail: String,
    },
    /// Writing the cache failed.
    #[error("cannot write `{path}`: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

const ARGS: &[&str] = &[
    "-map",
    "0:a:0",
    "-vn",
    "-c:a",
    "aac",
    "-b:a",
    "96k",
    "-movflags",
    "+faststart",
    "-f",
    "mp4",
];

/// The playable rendition of the original at `blob` (hash `sha256`) under the archive at
/// `data`, made now if it is missing or its record does not match it.
pub fn playable(
    data: &Path,
    blob: &Path,
    sha256: &str,
) -> Result<(PathBuf, Rendition), DerivedError> {
    let dir = layout::derived(data, sha256);
    let path = dir.join(layout::PLAYABLE);
    if let Some(r) = recorded(&dir, sha256) {
        return Ok((path, r));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DerivedError::Io { path, source }
    };
    let parent = dir.parent().expect("a derived directory has a parent");
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    // Made in a directory of its own and renamed into place whole: a reader never sees half a
    // rendition, and two requests racing both succeed (the second's copy is dropped).
    let work = tempfile::Builder::new()
        .prefix(".making-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    let out = work.path().join(layout::PLAYABLE);
    let run = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-i"])
        .arg(blob)
        .args(ARGS)
        .arg("-y")
        .arg(&out)
        .output()
        .map_err(|e| DerivedError::Transcode {
            sha256: sha256.into(),
            detail: format!("cannot run ffmpeg: {e}"),
        })?;
    if !run.status.success() {
        return Err(DerivedError::Transcode {
            sha256: sha256.into(),
            detail: String::from_utf8_lossy(&run.stderr).trim().to_string(),
        });
    }
    let r = Rendition {
        from_sha256: sha256.into(),
        sha256: crate::hashing::sha256_file(&out).map_err(io(&out))?,
        size: std::fs::metadata(&out).map_err(io(&out))?.len(),
        content_type: "audio/mp4".into(),
        made_with: format!("ffmpeg {}", ARGS.join(" ")),
    };
    let record = work.path().join(layout::PLAYABLE_RECORD);
    let mut bytes = serde_json::to_vec_pretty(&r).expect("serialises");
    bytes.push(b'\n');
    std::fs::write(&record, bytes).map_err(io(&record))?;
    let made = work.keep();
    if std::fs::rename(&made, &dir).is_ok() {
        return Ok((path, r));
    }
    // Another request put one in place first: use it. A stale or broken one is replaced once.
    if let Some(theirs) = recorded(&dir, sha256) {
        let _ = std::fs::remove_dir_all(&made);
        return Ok((path, theirs));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let moved = std::fs::rename(&made, &dir);
    if moved.is_err() {
        let _ = std::fs::remove_dir_all(&made);
    }
    moved.map_err(io(&dir))?;
    Ok((path, r))
}

/// The record in `dir`, if it is about `sha256` and the rendition beside it has its size.
fn recorded(dir: &Path, sha256: &str) -> Option<Rendition> {
    let r: Rendition =
        serde_json::from_slice(&std::fs::read(dir.join(layout::PLAYABLE_RECORD)).ok()?).ok()?;
    let size = std::fs::metadata(dir.join(layout::PLAYABLE)).ok()?.len();
    (r.from_sha256 == sha256 && r.size == size).then_some(r)
}

/// The content type of an original, by its container, for downloads.
pub fn original_content_type(container: &str) -> &'static str {
    match container {
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "mp3" => "audio/mpeg",
        "aac" => "audio/aac",
        "mp4" => "video/mp4",
        "flv" => "video/x-flv",
        "mpegts" => "video/mp2t",
        "ogg" => "audio/ogg",
        "matroska" => "video/x-matroska",
        _ => "application/octet-stream",
    }
}
