//! Offline verification of liveproof evidence bundles, as specified byte for byte in
//! docs/evidence-format.md: the container check, strict parsing, Ed25519 signatures with domain
//! separation, RFC 6962 Merkle proofs, trust in signing keys, RFC 3161 tokens.
//!
//! Invariant: nothing here trusts a byte of the bundle it has not checked, reads a member
//! beyond its declared size, or reads the clock.

pub mod bundle;
pub mod limits;
pub mod log;
pub mod merkle;
pub mod note;
pub mod seal;
pub mod span;
pub mod tombstone;
pub mod trust;
pub mod tsa;
pub mod verify;
pub mod zipcheck;

use sha2::{Digest, Sha256};

/// `HH:MM:SS.mmm` of a time in milliseconds, as checks name times.
pub fn clock(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of a file, hex, streamed.
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}
