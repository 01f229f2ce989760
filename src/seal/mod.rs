//! Sealing: segment leaf hashes and the transcript Merkle root, Ed25519 signatures with
//! domain separation, the archive key, and the append-only log of manifests.
//!
//! Invariant: seal never reads the clock (callers pass times) and verification functions are
//! pure, so anyone can re-run them offline from a bundle.

pub mod keys;
pub mod log;
mod tree;
pub mod tsa;

pub use liveproof_verify::merkle;
pub use liveproof_verify::seal::*;

use crate::transcript::{Gap, Segment, Transcript};
use merkle::Hash;

/// Leaf hash of a segment.
pub fn segment_leaf(session: &str, s: &Segment) -> Hash {
    merkle::leaf_hash(&segment_encoding(
        session,
        s.index as u64,
        s.start_ms,
        s.end_ms,
        &s.text,
    ))
}

/// Leaf hash of a gap.
pub fn gap_leaf(session: &str, g: &Gap) -> Hash {
    merkle::leaf_hash(&gap_encoding(
        session,
        g.index as u64,
        g.start_ms,
        g.end_ms,
        &g.reason,
    ))
}

/// Leaf hash of a live comment (its own domain: a comment never encodes like a segment).
pub fn comment_leaf(session: &str, c: &crate::comments::Comment) -> Hash {
    merkle::leaf_hash(&comment_encoding(
        session,
        c.index as u64,
        c.t_ms,
        &c.kind,
        c.user.as_deref().unwrap_or(""),
        &c.text,
    ))
}

/// All leaf hashes of a transcript, in order: the segments, then the gaps (gap `i` is leaf
/// `segments + i`).
pub fn transcript_leaves(t: &Transcript) -> Vec<Hash> {
    t.segments
        .iter()
        .map(|s| segment_leaf(&t.session, s))
        .chain(t.gaps.iter().map(|g| gap_leaf(&t.session, g)))
        .collect()
}

/// Merkle root over a transcript's segments and gaps.
pub fn transcript_root(t: &Transcript) -> Hash {
    merkle::root(&transcript_leaves(t))
}
