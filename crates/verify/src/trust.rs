//! Which signing keys a verifier trusts. A valid signature proves only that the bundle is
//! intact under *some* key; whose key it is comes from here, never from the bundle.
//!
//! A trust file has one key per line, `KEY NAME`: the key as 64 hex digits (optionally
//! `ed25519:` in front, as `liveproof key show` prints it), then the name shown when that key
//! signed. A line `revoked KEY SINCE [REASON]` (SINCE in RFC 3339, UTC) says a key must not be
//! believed for anything signed from SINCE on: a bundle under it verifies only if a trusted
//! timestamp shows its tree head existed before. `liveproof key trust-file` writes such a file
//! from the archive's log. Blank lines and lines starting with `#` are ignored.

use std::path::Path;

use serde::Serialize;
use thiserror::Error;

use crate::seal;

/// Why a key or trust file cannot be used.
#[derive(Debug, Error)]
pub enum TrustError {
    /// A key argument is not a key.
    #[error("{0:?} is not an Ed25519 public key (64 hex digits, optionally `ed25519:` in front) nor a file holding one")]
    NotAKey(String),
    /// The trust file cannot be read.
    #[error("cannot read trust file `{path}`: {source}")]
    Read {
        /// File.
        path: std::path::PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// A line of the trust file is not `KEY NAME`.
    #[error("trust file `{path}` line {line}: expected `KEY NAME` (64 hex digits, then a name)")]
    Line {
        /// File.
        path: std::path::PathBuf,
        /// 1-based line number.
        line: usize,
    },
}

/// A key the verifier was told to trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// Name shown when this key signed (e.g. "Douyin archive 2026").
    pub name: String,
    /// Ed25519 public key.
    pub public: [u8; 32],
}

/// The keys a verification trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    keys: Vec<TrustedKey>,
    revoked: Vec<Revoked>,
}

/// A key revoked from a time on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// Ed25519 public key.
    pub public: [u8; 32],
    /// From when (RFC 3339, UTC).
    pub since: String,
    /// Why, as given.
    pub reason: String,
}

/// Who signed a bundle, as the verifier sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signer {
    /// Short fingerprint (first 16 hex digits of the key's SHA-256).
    pub fingerprint: String,
    /// The whole public key, hex.
    pub public_key: String,
    /// Whether the verifier was told to trust this key.
    pub trusted: bool,
    /// The trusted key's name, when trusted.
    pub name: Option<String>,
}

/// Parses a key: hex (optionally `ed25519:`-prefixed), or a file holding one.
pub fn parse_key(arg: &str) -> Result<[u8; 32], TrustError> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).map_err(|_| TrustError::NotAKey(arg.into()))?
    } else {
        arg.to_string()
    };
    parse_key_text(&text).ok_or_else(|| TrustError::NotAKey(arg.into()))
}

/// Parses a key's text: 64 hex digits, optionally `ed25519:` in front; a second line (the
/// fingerprint `liveproof key show` prints) is ignored.
pub fn parse_key_text(text: &str) -> Option<[u8; 32]> {
    let first = text.trim().lines().next().unwrap_or("").trim();
    seal::hex32(first.strip_prefix("ed25519:").unwrap_or(first))
}

impl Trust {
    /// Trusts `public` under `name` too.
    pub fn add(&mut self, name: impl Into<String>, public: [u8; 32]) {
        if self.find(&public).is_none() {
            self.keys.push(TrustedKey {
                name: name.into(),
                public,
            });
        }
    }

    /// Reads a trust file (`KEY NAME` per line) and adds its keys.
    pub fn add_file(&mut self, path: &Path) -> Result<(), TrustError> {
        let text = std::fs::read_to_string(path).map_err(|source| TrustError::Read {
            path: path.into(),
            source,
        })?;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || TrustError::Line {
                path: path.into(),
                line: i + 1,
            };
            if let Some(rest) = line.strip_prefix("revoked ") {
                let mut parts = rest.trim().splitn(3, char::is_whitespace);
                let key = parts.next().unwrap_or("");
                let key =
                    seal::hex32(key.strip_prefix("ed25519:").unwrap_or(key)).ok_or_else(bad)?;
                let since = parts
                    .next()
                    .filter(|s| s.len() >= 19 && s.ends_with('Z'))
                    .ok_or_else(bad)?;
                self.revoked.push(Revoked {
                    public: key,
                    since: since.to_string(),
                    reason: parts.next().unwrap_or("").trim().to_string(),
                });
                continue;
            }
            let (key, name) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
            let key = seal::hex32(key.strip_prefix("ed25519:").unwrap_or(key)).ok_or_else(bad)?;
            let name = name.trim();
            if name.is_empty() {
                return Err(bad());
            }
            self.add(name, key);
        }
        Ok(())
    }

    /// The trusted key equal to `public`, if any.
    pub fn find(&self, public: &[u8; 32]) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| &k.public == public)
    }

    /// The revocation of `public`, if any.
    pub fn revoked(&self, public: &[u8; 32]) -> Option<&Revoked> {
        self.revoked.iter().find(|r| &r.public == public)
    }

    /// True when no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How `public` is seen: fingerprint, and name if trusted.
    pub fn signer(&self, public: &[u8; 32]) -> Signer {
        let known = self.find(public);
        Signer {
            fingerprint: seal::fingerprint(public),
            public_key: hex::encode(public),
            trusted: known.is_some(),
            name: known.map(|k| k.name.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_files_name_keys_and_refuse_bad_lines() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("trust.txt");
        let k = [3u8; 32];
        std::fs::write(
            &f,
            format!(
                "# archives we trust\n\ned25519:{} Douyin archive 2026\n",
                hex::encode(k)
            ),
        )
        .unwrap();
        let mut t = Trust::default();
        t.add_file(&f).unwrap();
        let s = t.signer(&k);
        assert!(s.trusted);
        assert_eq!(s.name.as_deref(), Some("Douyin archive 2026"));
        assert!(!t.signer(&[4u8; 32]).trusted);
        std::fs::write(&f, format!("{}\n", hex::encode(k))).unwrap();
        assert!(matches!(
            Trust::default().add_file(&f),
            Err(TrustError::Line { line: 1, .. })
        ));
    }

    #[test]
    fn revocations_are_read_with_their_time() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("trust.txt");
        let k = [6u8; 32];
        std::fs::write(
            &f,
            format!(
                "revoked ed25519:{} 2026-11-26T12:00:00Z key leaked\n",
                hex::encode(k)
            ),
        )
        .unwrap();
        let mut t = Trust::default();
        t.add_file(&f).unwrap();
        let r = t.revoked(&k).unwrap();
        assert_eq!(
            (r.since.as_str(), r.reason.as_str()),
            ("2026-11-26T12:00:00Z", "key leaked")
        );
        std::fs::write(&f, format!("revoked {} yesterday\n", hex::encode(k))).unwrap();
        assert!(Trust::default().add_file(&f).is_err());
    }

    #[test]
    fn keys_parse_as_key_show_prints_them() {
        let k = [5u8; 32];
        assert_eq!(parse_key(&hex::encode(k)).unwrap(), k);
        assert_eq!(
            parse_key(&format!("ed25519:{}", hex::encode(k))).unwrap(),
            k
        );
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("k");
        std::fs::write(&f, format!("ed25519:{}\nfingerprint abc\n", hex::encode(k))).unwrap();
        assert_eq!(parse_key(f.to_str().unwrap()).unwrap(), k);
        assert!(parse_key("nope").is_err());
    }
}
