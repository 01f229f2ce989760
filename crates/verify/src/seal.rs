//! Signatures with domain separation, the canonical binary encodings (segments, gaps, log
//! entries, tree heads) and detached signatures: docs/evidence-format.md §1, §6, §7.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

/// Domain of manifest signatures.
pub const MANIFEST_DOMAIN: &str = "liveproof/manifest/v1";
/// Domain of tree-head signatures.
pub const TREE_HEAD_DOMAIN: &str = "liveproof/tree-head/v1";
/// Domain of v1 bundle statement signatures (statement re-serialised).
pub const BUNDLE_DOMAIN: &str = "liveproof/bundle/v1";
/// Domain of v2 bundle statement signatures (the exact bytes of `statement.json`).
pub const STATEMENT_DOMAIN: &str = "liveproof/statement/v2";
/// Domain of broadcast bundle statements (the exact bytes of `span.json`).
pub const SPAN_DOMAIN: &str = "liveproof/span/v1";
/// Domain of segment leaves.
pub const SEGMENT_DOMAIN: &str = "liveproof/segment/v1";
/// Domain of gap leaves (speech that yielded no text).
pub const GAP_DOMAIN: &str = "liveproof/gap/v1";
/// Domain of live-comment leaves (a second sealed stream beside the transcript).
pub const COMMENT_DOMAIN: &str = "liveproof/comment/v1";
/// Domain of log entries.
pub const LOG_ENTRY_DOMAIN: &str = "liveproof/log-entry/v1";
/// Domain of custody entries in the log.
pub const CUSTODY_DOMAIN: &str = "liveproof/custody/v1";

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

/// Canonical encoding of one segment: domain, session, index, start, end, text (NFC UTF-8),
/// each length-prefixed or fixed-width, so no two segments encode alike.
pub fn segment_encoding(
    session: &str,
    index: u64,
    start_ms: u64,
    end_ms: u64,
    text: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + text.len());
    out.extend_from_slice(SEGMENT_DOMAIN.as_bytes());
    out.push(0);
    put_bytes(&mut out, session.as_bytes());
    out.extend_from_slice(&index.to_be_bytes());
    out.extend_from_slice(&start_ms.to_be_bytes());
    out.extend_from_slice(&end_ms.to_be_bytes());
    put_bytes(&mut out, text.as_bytes());
    out
}

/// Canonical encoding of one live comment: domain, session, index, time, kind, user, text,
/// each length-prefixed or fixed-width (an absent user is the empty string).
pub fn comment_encoding(
    session: &str,
    index: u64,
    t_ms: u64,
    kind: &str,
    user: &str,
    text: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + user.len() + text.len());
    out.extend_from_slice(COMMENT_DOMAIN.as_bytes());
    out.push(0);
    put_bytes(&mut out, session.as_bytes());
    out.extend_from_slice(&index.to_be_bytes());
    out.extend_from_slice(&t_ms.to_be_bytes());
    put_bytes(&mut out, kind.as_bytes());
    put_bytes(&mut out, user.as_bytes());
    put_bytes(&mut out, text.as_bytes());
    out
}

/// Canonical encoding of one gap: domain, session, gap index, start, end, reason, laid out
/// like a segment's but under its own domain, so a gap never encodes like a segment.
pub fn gap_encoding(
    session: &str,
    index: u64,
    start_ms: u64,
    end_ms: u64,
    reason: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + reason.len());
    out.extend_from_slice(GAP_DOMAIN.as_bytes());
    out.push(0);
    put_bytes(&mut out, session.as_bytes());
    out.extend_from_slice(&index.to_be_bytes());
    out.extend_from_slice(&start_ms.to_be_bytes());
    out.extend_from_slice(&end_ms.to_be_bytes());
    put_bytes(&mut out, reason.as_bytes());
    out
}

/// Log entry data for a manifest: domain, session id, manifest SHA-256.
pub fn log_entry(session: &str, manifest_sha256: &Hash) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(LOG_ENTRY_DOMAIN.as_bytes());
    out.push(0);
    put_bytes(&mut out, session.as_bytes());
    out.extend_from_slice(manifest_sha256);
    out
}

/// Log entry data for a custody event: domain, session id (empty for archive-wide events such
/// as key changes), SHA-256 of the event's exact JSON bytes.
pub fn custody_entry(session: &str, event_sha256: &Hash) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(CUSTODY_DOMAIN.as_bytes());
    out.push(0);
    put_bytes(&mut out, session.as_bytes());
    out.extend_from_slice(event_sha256);
    out
}

/// SHA-256 of bytes as an array.
pub fn sha256(b: &[u8]) -> Hash {
    Sha256::digest(b).into()
}

fn domain_message(domain: &str, msg: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(domain.len() + 1 + msg.len());
    m.extend_from_slice(domain.as_bytes());
    m.push(0);
    m.extend_from_slice(msg);
    m
}

/// Signs `msg` under `domain`.
pub fn sign(key: &SigningKey, domain: &str, msg: &[u8]) -> [u8; 64] {
    key.sign(&domain_message(domain, msg)).to_bytes()
}

/// Verifies a signature made by [`sign`].
pub fn verify(public: &[u8; 32], domain: &str, msg: &[u8], sig: &[u8]) -> bool {
    let Ok(vk) = VerifyingKey::from_bytes(public) else {
        return false;
    };
    let Ok(sig) = <[u8; 64]>::try_from(sig) else {
        return false;
    };
    vk.verify(&domain_message(domain, msg), &Signature::from_bytes(&sig))
        .is_ok()
}

/// A detached signature file (`manifest.sig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetachedSignature {
    /// Always `ed25519`.
    pub algorithm: String,
    /// What was signed (the domain).
    pub domain: String,
    /// Public key, hex.
    pub public_key: String,
    /// Signature, hex.
    pub signature: String,
}

impl DetachedSignature {
    /// Signs `msg` under `domain` with `key`.
    pub fn create(key: &SigningKey, domain: &str, msg: &[u8]) -> Self {
        Self {
            algorithm: "ed25519".into(),
            domain: domain.into(),
            public_key: hex::encode(key.verifying_key().to_bytes()),
            signature: hex::encode(sign(key, domain, msg)),
        }
    }

    /// Checks it against `msg`.
    pub fn check(&self, msg: &[u8]) -> bool {
        let Some(pk) = hex32(&self.public_key) else {
            return false;
        };
        let Ok(sig) = hex::decode(&self.signature) else {
            return false;
        };
        self.algorithm == "ed25519" && verify(&pk, &self.domain, msg, &sig)
    }
}

/// Parses 64 hex digits.
pub fn hex32(s: &str) -> Option<[u8; 32]> {
    hex::decode(s.trim()).ok()?.try_into().ok()
}

/// A signed tree head of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeHead {
    /// Number of entries.
    pub size: u64,
    /// Merkle root, hex.
    pub root: String,
    /// When the head was signed (RFC 3339, as the archive's clock said).
    pub timestamp: String,
    /// Public key, hex.
    pub public_key: String,
    /// Signature over (size, root, timestamp), hex.
    pub signature: String,
}

fn tree_head_message(size: u64, root: &Hash, timestamp: &str) -> Vec<u8> {
    let mut m = size.to_be_bytes().to_vec();
    m.extend_from_slice(root);
    m.extend_from_slice(timestamp.as_bytes());
    m
}

impl TreeHead {
    /// Signs a tree head.
    pub fn create(key: &SigningKey, size: u64, root: &Hash, timestamp: &str) -> Self {
        Self {
            size,
            root: hex::encode(root),
            timestamp: timestamp.into(),
            public_key: hex::encode(key.verifying_key().to_bytes()),
            signature: hex::encode(sign(
                key,
                TREE_HEAD_DOMAIN,
                &tree_head_message(size, root, timestamp),
            )),
        }
    }

    /// SHA-256 of the signed bytes: what a time-stamping authority countersigns.
    pub fn digest(&self) -> Option<Hash> {
        let root = hex32(&self.root)?;
        Some(sha256(&domain_message(
            TREE_HEAD_DOMAIN,
            &tree_head_message(self.size, &root, &self.timestamp),
        )))
    }

    /// Checks the signature.
    pub fn check(&self) -> bool {
        let (Some(pk), Some(root), Ok(sig)) = (
            hex32(&self.public_key),
            hex32(&self.root),
            hex::decode(&self.signature),
        ) else {
            return false;
        };
        verify(
            &pk,
            TREE_HEAD_DOMAIN,
            &tree_head_message(self.size, &root, &self.timestamp),
            &sig,
        )
    }
}

/// Short fingerprint of a public key (first 16 hex digits of its SHA-256), for reading aloud.
pub fn fingerprint(public: &[u8; 32]) -> String {
    hex::encode(sha256(public))[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_bound_to_their_domain_and_message() {
        let k = SigningKey::from_bytes(&[7u8; 32]);
        let pk = k.verifying_key().to_bytes();
        let s = sign(&k, MANIFEST_DOMAIN, b"m");
        assert!(verify(&pk, MANIFEST_DOMAIN, b"m", &s));
        assert!(!verify(&pk, TREE_HEAD_DOMAIN, b"m", &s));
        assert!(!verify(&pk, MANIFEST_DOMAIN, b"n", &s));
    }

    #[test]
    fn comment_encoding_separates_fields_and_never_equals_a_segments() {
        let c = comment_encoding("s", 1, 2, "chat", "u", "hi");
        assert_ne!(c, comment_encoding("s", 1, 2, "chat", "", "uhi"));
        assert_ne!(c, comment_encoding("s", 1, 2, "gift", "u", "hi"));
        assert_ne!(c, segment_encoding("s", 1, 2, 2, "hi"));
        assert!(c.starts_with(b"liveproof/comment/v1\0"));
    }

    #[test]
    fn segment_encoding_separates_fields() {
        assert_ne!(
            segment_encoding("ab", 1, 2, 3, "c"),
            segment_encoding("a", 1, 2, 3, "bc")
        );
        assert_ne!(
            segment_encoding("a", 1, 2, 3, "x"),
            segment_encoding("a", 2, 2, 3, "x")
        );
    }

    #[test]
    fn tree_heads_check_and_detect_changes() {
        let k = SigningKey::from_bytes(&[9u8; 32]);
        let mut h = TreeHead::create(&k, 3, &[1u8; 32], "2026-01-01T00:00:00Z");
        assert!(h.check());
        h.size = 4;
        assert!(!h.check());
    }
}
