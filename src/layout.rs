//! The archive's layout under `--data`: every file and directory name, in one place. Only
//! this module spells them; everything else asks it.

use std::path::{Path, PathBuf};

/// The SQLite catalog: sessions, the log, tokens, jobs, custody.
pub fn catalog(data: &Path) -> PathBuf {
    data.join("catalog.sqlite")
}

/// The tantivy search index (derived; `liveproof reindex` rebuilds it).
pub fn index(data: &Path) -> PathBuf {
    data.join("tantivy")
}

/// How far this node's index has followed the catalog's change sequence (one number).
pub fn index_position(data: &Path) -> PathBuf {
    data.join("tantivy.position")
}

/// This node's identity in a shared catalog (jobs belong to the node holding their upload).
pub fn node_id(data: &Path) -> PathBuf {
    data.join("node-id")
}

/// The archive's Ed25519 signing key (mode 0600).
pub fn archive_key(data: &Path) -> PathBuf {
    data.join("keys/archive.ed25519")
}

/// Originals, content-addressed: `blobs/sha256/ab/cd/abcd…`.
pub fn blob(data: &Path, sha256: &str) -> PathBuf {
    data.join("blobs/sha256")
        .join(sha256.get(0..2).unwrap_or("00"))
        .join(sha256.get(2..4).unwrap_or("00"))
        .join(sha256)
}

/// Files derived from an original (a browser-playable rendition...), by the original's hash:
/// `derived/ab/abcd…/`. Never evidence, always remade from the original when missing.
pub fn derived(data: &Path, sha256: &str) -> PathBuf {
    data.join("derived")
        .join(sha256.get(0..2).unwrap_or("00"))
        .join(sha256)
}

/// The browser-playable rendition in a derived directory (AAC in MP4).
pub const PLAYABLE: &str = "audio.m4a";
/// What the rendition is and its SHA-256, beside it.
pub const PLAYABLE_RECORD: &str = "audio.json";

/// Every session's directory.
pub fn sessions(data: &Path) -> PathBuf {
    data.join("sessions")
}

/// One session's directory: [`MANIFEST`], [`MANIFEST_SIG`], [`TRANSCRIPT`].
pub fn session(data: &Path, id: &str) -> PathBuf {
    sessions(data).join(id)
}

/// A session's signed manifest.
pub const MANIFEST: &str = "manifest.json";
/// The manifest's Ed25519 signature.
pub const MANIFEST_SIG: &str = "manifest.sig";
/// A session's canonical transcript.
pub const TRANSCRIPT: &str = "transcript.json";
/// A session's live comments, canonical (absent when it has none).
pub const COMMENTS: &str = "comments.json";
/// The comments file as received, byte for byte.
pub const COMMENTS_SOURCE: &str = "comments.source";

/// Staging for recordings being ingested (removed when abandoned).
pub fn staging(data: &Path) -> PathBuf {
    data.join("tmp")
}

/// Uploads waiting for their job.
pub fn uploads(data: &Path) -> PathBuf {
    data.join("uploads")
}

/// Bundles `POST /api/verify` is checking.
pub fn spool(data: &Path) -> PathBuf {
    data.join("spool")
}
