//! Trusted time (RFC 3161): ask a time-stamping authority to countersign a tree head, and check
//! such a token offline against the TSA's certificate.
//!
//! Requests are DER built here (a fixed, small structure). Tokens are checked with OpenSSL's
//! `openssl ts -verify`, the reference implementation of RFC 3161 verification, which runs
//! offline (see docs/decisions.md).

pub use liveproof_verify::tsa::{verify, TsaError};

/// The time-stamping authorities to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// TSA URLs, asked in order until one gives a token that verifies.
    pub urls: Vec<String>,
    /// PEM file with the certificates that vouch for them: each TSA's own certificate, an
    /// intermediate or its root CA (any certificate of the chain anchors trust).
    pub cert: std::path::PathBuf,
}

/// A checked token: the DER response, the attested time, the PEM it was checked against.
#[derive(Debug, Clone)]
pub struct Stamped {
    /// DER `TimeStampResp`.
    pub token: Vec<u8>,
    /// Time the TSA attests.
    pub time: String,
    /// The certificates it was checked against (PEM).
    pub pem: String,
}

/// Asks each configured TSA in turn for a token over `digest` and returns the first that
/// verifies against the configured certificates; the error names every TSA's failure.
pub fn obtain(config: &Config, digest: &[u8; 32]) -> Result<Stamped, String> {
    let mut failures = Vec::new();
    for url in &config.urls {
        let r = fetch(url, digest)
            .and_then(|token| Ok((verify(&token, digest, &config.cert, None)?, token)))
            .map_err(|e| e.to_string())
            .and_then(|(time, token)| {
                let pem = std::fs::read_to_string(&config.cert).map_err(|e| {
                    format!(
                        "cannot read the TSA certificate file {} (LIVEPROOF_TSA_CERT): {e}",
                        config.cert.display()
                    )
                })?;
                Ok(Stamped { token, time, pem })
            });
        match r {
            Ok(s) => return Ok(s),
            Err(e) => failures.push(format!("{url}: {e}")),
        }
    }
    Err(failures.join("; "))
}

/// DER `TimeStampReq` for a SHA-256 digest, asking for the TSA certificate in the token.
pub fn request_der(digest: &[u8; 32], nonce: u64) -> Vec<u8> {
    let mut imprint = vec![
        0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
        0x04, 0x20,
    ];
    imprint.extend_from_slice(digest);
    let mut body = vec![0x02, 0x01, 0x01, 0x30, imprint.len() as u8];
    body.extend_from_slice(&imprint);
    // Nonce as a minimal DER INTEGER: 8 bytes, top bit clear, first byte non-zero (TSAs
    // reject non-minimal encodings as bad requests).
    let nonce = (nonce & 0x3FFF_FFFF_FFFF_FFFF) | 0x4000_0000_0000_0000;
    body.extend_from_slice(&[0x02, 0x08]);
    body.extend_from_slice(&nonce.to_be_bytes());
    body.extend_from_slice(&[0x01, 0x01, 0xff]);
    let mut out = vec![0x30, body.len() as u8];
    out.extend_from_slice(&body);
    out
}

/// Asks the TSA at `url` to timestamp `digest`; returns the DER `TimeStampResp`.
pub fn fetch(url: &str, digest: &[u8; 32]) -> Result<Vec<u8>, TsaError> {
    let mut nonce = [0u8; 8];
    let _ = getrandom::fill(&mut nonce);
    let req = request_der(digest, u64::from_be_bytes(nonce));
    let err = |detail: String| TsaError::Request {
        url: url.into(),
        detail,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let mut resp = agent
        .post(url)
        .header("Content-Type", "application/timestamp-query")
        .send(&req[..])
        .map_err(|e| err(e.to_string()))?;
    resp.body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
        .map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_has_the_rfc3161_shape() {
        let r = request_der(&[0xAB; 32], 1);
        assert_eq!(r[0], 0x30);
        assert_eq!(r[1] as usize, r.len() - 2);
        assert_eq!(&r[2..5], &[0x02, 0x01, 0x01]);
        assert!(r.windows(32).any(|w| w == [0xAB; 32]));
        assert_eq!(&r[r.len() - 3..], &[0x01, 0x01, 0xff]);
    }
}
