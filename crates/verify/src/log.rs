//! The archive log's proofs as a verifier checks them: a manifest's inclusion under a signed
//! tree head, and consistency between two heads (docs/evidence-format.md §7).

use serde::{Deserialize, Serialize};

use crate::merkle::{self, Hash};
use crate::seal::{hex32, log_entry, TreeHead};

/// Proof that a session's manifest is in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inclusion {
    /// Session id.
    pub session: String,
    /// SHA-256 of the manifest file, hex.
    pub manifest_sha256: String,
    /// Position in the log.
    pub index: u64,
    /// Audit path, hex, bottom first.
    pub proof: Vec<String>,
    /// The signed head the proof is against.
    pub tree_head: TreeHead,
}

/// Checks an inclusion proof and its head's signature; says what failed.
pub fn verify_inclusion(inc: &Inclusion) -> Result<(), String> {
    if !inc.tree_head.check() {
        return Err("the tree head's signature does not verify".into());
    }
    let m = hex32(&inc.manifest_sha256).ok_or("manifest hash is not 64 hex digits")?;
    let root = hex32(&inc.tree_head.root).ok_or("tree head root is not 64 hex digits")?;
    let proof: Vec<Hash> = inc
        .proof
        .iter()
        .map(|p| hex32(p))
        .collect::<Option<_>>()
        .ok_or("a proof hash is not 64 hex digits")?;
    let leaf = merkle::leaf_hash(&log_entry(&inc.session, &m));
    if merkle::verify_inclusion(
        &leaf,
        inc.index as usize,
        inc.tree_head.size as usize,
        &proof,
        &root,
    ) {
        Ok(())
    } else {
        Err(format!(
            "the manifest is not at position {} of the log with {} entries and root {}",
            inc.index, inc.tree_head.size, inc.tree_head.root
        ))
    }
}

/// Proof that an older head is a prefix of a newer one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consistency {
    /// The older head.
    pub old: TreeHead,
    /// The newer head.
    pub new: TreeHead,
    /// The proof, hex.
    pub proof: Vec<String>,
}

/// Checks a consistency proof and both heads' signatures.
pub fn verify_consistency(c: &Consistency) -> Result<(), String> {
    if !c.old.check() || !c.new.check() {
        return Err("a tree head's signature does not verify".into());
    }
    let (Some(a), Some(b)) = (hex32(&c.old.root), hex32(&c.new.root)) else {
        return Err("a root is not 64 hex digits".into());
    };
    let proof: Vec<Hash> = c
        .proof
        .iter()
        .map(|p| hex32(p))
        .collect::<Option<_>>()
        .ok_or("a proof hash is not 64 hex digits")?;
    if merkle::verify_consistency(c.old.size as usize, c.new.size as usize, &proof, &a, &b) {
        Ok(())
    } else {
        Err(format!(
            "the log of size {} is not a prefix of the log of size {}: entries were changed or removed",
            c.old.size, c.new.size
        ))
    }
}
