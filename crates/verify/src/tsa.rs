//! RFC 3161 timestamp tokens, checked offline with OpenSSL's `openssl ts -verify`, the
//! reference implementation of RFC 3161 verification (docs/evidence-format.md §8).

use std::path::Path;
use std::process::Command;

use thiserror::Error;

/// Why a timestamp could not be obtained or checked.
#[derive(Debug, Error)]
pub enum TsaError {
    /// The TSA could not be reached or refused.
    #[error("time-stamping authority {url}: {detail}")]
    Request {
        /// TSA URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The token does not verify.
    #[error("timestamp token does not verify: {0}")]
    Invalid(String),
    /// OpenSSL is missing.
    #[error("cannot run `openssl` to check timestamp tokens: {0} (apt-get install openssl)")]
    Tool(String),
}

/// Checks a `TimeStampResp` for `digest`; returns the time the TSA attests.
///
/// `anchors` (PEM) holds the certificates trusted to vouch for the TSA: its root CA, an
/// intermediate, or the TSA's own certificate — any certificate of its chain is accepted as a
/// trust anchor (`-partial_chain`), so a user can pin exactly the TSA they trust. `chain`
/// (PEM) may add untrusted certificates that help build the path (e.g. the intermediates the
/// bundle carries); the token usually carries the TSA's certificate itself.
pub fn verify(
    response: &[u8],
    digest: &[u8; 32],
    anchors: &Path,
    chain: Option<&Path>,
) -> Result<String, TsaError> {
    let dir = tempfile::tempdir().map_err(|e| TsaError::Tool(e.to_string()))?;
    let tsr = dir.path().join("token.tsr");
    std::fs::write(&tsr, response).map_err(|e| TsaError::Tool(e.to_string()))?;
    let mut cmd = Command::new("openssl");
    cmd.args(["ts", "-verify", "-partial_chain", "-in"])
        .arg(&tsr)
        .args(["-digest", &hex::encode(digest), "-CAfile"])
        .arg(anchors);
    if let Some(c) = chain {
        cmd.arg("-untrusted").arg(c);
    }
    let out = cmd.output().map_err(|e| TsaError::Tool(e.to_string()))?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || !text.contains("Verification: OK") {
        let why = text
            .lines()
            .filter(|l| l.contains(":error:"))
            .filter_map(|l| l.rsplit_once(':').map(|(_, m)| m.trim().to_string()))
            .next()
            .unwrap_or_else(|| "signature, certificate or digest mismatch".into());
        return Err(TsaError::Invalid(why));
    }
    let info = Command::new("openssl")
        .args(["ts", "-reply", "-text", "-in"])
        .arg(&tsr)
        .output()
        .map_err(|e| TsaError::Tool(e.to_string()))?;
    Ok(String::from_utf8_lossy(&info.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Time stamp: "))
        .unwrap_or("unknown time")
        .trim()
        .to_string())
}
