//! The log's Merkle tree kept in the catalog: the frontier (the roots of the perfect subtrees a
//! log of n leaves is made of) and the root of every completed subtree (`log_nodes`), so an
//! append reads O(log n) hashes and a proof O(log² n) — never every leaf, which matters once
//! several sealing nodes append millions of entries under one write lock. A log from before
//! these tables is read from its leaves until its next append stores what is missing.

use super::merkle::{self, Hash};
use crate::args;
use crate::catalog::{self, Catalog};

/// The tables (created with the log's).
pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS log_frontier (
        id INTEGER PRIMARY KEY,
        size INTEGER NOT NULL,
        nodes BLOB NOT NULL
    );
    CREATE TABLE IF NOT EXISTS log_nodes (
        level INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (level, idx)
    );";

/// A completed subtree: its level (2^level leaves), its index among subtrees of that level,
/// and its root.
pub(super) type Node = (u32, u64, Hash);

/// Appends `leaf` as leaf number `size` to `frontier` (a binary increment: equal subtrees
/// merge); returns the subtrees it completed.
pub(super) fn push(frontier: &mut Vec<Hash>, size: u64, leaf: Hash) -> Vec<Node> {
    frontier.push(leaf);
    let mut made = Vec::new();
    let (mut n, mut level) = (size, 0);
    while n & 1 == 1 {
        let right = frontier.pop().expect("a subtree per set bit");
        let left = frontier.pop().expect("a subtree per set bit");
        let h = merkle::node_hash(&left, &right);
        frontier.push(h);
        level += 1;
        made.push((level, size >> level, h));
        n >>= 1;
    }
    made
}

/// The RFC 6962 root of the log a frontier describes: its subtrees folded from the right.
pub(super) fn root(frontier: &[Hash]) -> Hash {
    match frontier.split_last() {
        None => merkle::root(&[]),
        Some((last, rest)) => rest
            .iter()
            .rev()
            .fold(*last, |right, left| merkle::node_hash(left, &right)),
    }
}

fn hash(bytes: Vec<u8>) -> catalog::Result<Hash> {
    bytes.try_into().map_err(|_| catalog::CatalogError::Type {
        index: 0,
        expected: "a 32-byte hash",
        found: "bytes of another length",
    })
}

/// The frontier of the log at `size` leaves, and the subtrees to store when it had to be
/// rebuilt from the leaves (a log from before these tables).
pub(super) fn frontier(conn: &Catalog, size: u64) -> catalog::Result<(Vec<Hash>, Vec<Node>)> {
    let stored = conn.query_opt(
        "SELECT size, nodes FROM log_frontier WHERE id = 1",
        args![],
        |r| Ok((r.get::<i64>(0)?, r.get::<Vec<u8>>(1)?)),
    )?;
    if let Some((s, bytes)) = stored {
        if s as u64 == size && bytes.len() == 32 * size.count_ones() as usize {
            let nodes = bytes
                .chunks_exact(32)
                .map(|c| c.try_into().expect("32 bytes"))
                .collect();
            return Ok((nodes, Vec::new()));
        }
    }
    let mut nodes = Vec::new();
    let mut made = Vec::new();
    for (i, l) in super::log::leaves(conn)?.into_iter().enumerate() {
        made.extend(push(&mut nodes, i as u64, l));
    }
    Ok((nodes, made))
}

/// Records the frontier of a log of `size` leaves and the subtrees completed on the way.
pub(super) fn store(
    conn: &Catalog,
    size: u64,
    frontier: &[Hash],
    made: &[Node],
) -> catalog::Result<()> {
    for (level, idx, h) in made {
        conn.execute(
            "INSERT INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            args![*level as i64, *idx as i64, h.to_vec()],
        )?;
    }
    conn.execute(
        "INSERT INTO log_frontier (id, size, nodes) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET size = excluded.size, nodes = excluded.nodes",
        args![size as i64, frontier.concat()],
    )
    .map(|_| ())
}

/// Roots of leaf ranges, for proofs: from the stored subtrees, or — for a log whose subtrees
/// are not stored yet — from all its leaves.
pub(super) struct Tree<'a> {
    conn: &'a Catalog,
    leaves: Option<Vec<Hash>>,
}

/// The largest power of two below `n` (n ≥ 2): where RFC 6962 splits a tree of n leaves.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

impl<'a> Tree<'a> {
    /// The tree for proofs within the first `size` leaves.
    pub(super) fn open(conn: &'a Catalog, size: u64) -> catalog::Result<Self> {
        let stored: Option<i64> =
            conn.query_opt("SELECT size FROM log_frontier WHERE id = 1", args![], |r| {
                r.get(0)
            })?;
        let leaves = match stored {
            Some(s) if s as u64 >= size => None,
            _ => Some(super::log::leaves(conn)?),
        };
        Ok(Self { conn, leaves })
    }

    /// The root of leaves [a, b).
    fn range(&self, a: u64, b: u64) -> catalog::Result<Hash> {
        if let Some(all) = &self.leaves {
            return Ok(merkle::root(&all[a as usize..b as usize]));
        }
        let n = b - a;
        if n == 1 {
            return hash(self.conn.query_row(
                "SELECT leaf FROM log_entries WHERE idx = ?1",
                args![a as i64],
                |r| r.get(0),
            )?);
        }
        if n.is_power_of_two() && a.is_multiple_of(n) {
            let level = n.trailing_zeros();
            return hash(self.conn.query_row(
                "SELECT hash FROM log_nodes WHERE level = ?1 AND idx = ?2",
                args![level as i64, (a >> level) as i64],
                |r| r.get(0),
            )?);
        }
        let k = split(n);
        Ok(merkle::node_hash(
            &self.range(a, a + k)?,
            &self.range(a + k, b)?,
        ))
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves (RFC 6962
    /// PATH), the same as `merkle::inclusion_proof` over those leaves.
    pub(super) fn inclusion(&self, index: u64, size: u64) -> catalog::Result<Vec<Hash>> {
        let mut out = Vec::new();
        if index < size {
            self.path(index, 0, size, &mut out)?;
        }
        Ok(out)
    }

    fn path(&self, m: u64, a: u64, b: u64, out: &mut Vec<Hash>) -> catalog::Result<()> {
        let n = b - a;
        if n <= 1 {
            return Ok(());
        }
        let k = split(n);
        if m < k {
            self.path(m, a, a + k, out)?;
            out.push(self.range(a + k, b)?);
        } else {
            self.path(m - k, a + k, b, out)?;
            out.push(self.range(a, a + k)?);
        }
        Ok(())
    }

    /// The consistency proof from the first `old` leaves to the first `new` (RFC 6962
    /// PROOF), the same as `merkle::consistency_proof`.
    pub(super) fn consistency(&self, old: u64, new: u64) -> catalog::Result<Vec<Hash>> {
        let mut out = Vec::new();
        if old > 0 && old < new {
            self.sub(old, 0, new, true, &mut out)?;
        }
        Ok(out)
    }

    fn sub(
        &self,
        m: u64,
        a: u64,
        b: u64,
        complete: bool,
        out: &mut Vec<Hash>,
    ) -> catalog::Result<()> {
        let n = b - a;
        if m == n {
            if !complete {
                out.push(self.range(a, b)?);
            }
            return Ok(());
        }
        let k = split(n);
        if m <= k {
            self.sub(m, a, a + k, complete, out)?;
            out.push(self.range(a + k, b)?);
        } else {
            self.sub(m - k, a + k, b, false, out)?;
            out.push(self.range(a, a + k)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frontier_gives_the_same_root_as_all_the_leaves() {
        let mut nodes = Vec::new();
        let mut all = Vec::new();
        assert_eq!(root(&nodes), merkle::root(&all));
        for i in 0..70u64 {
            let leaf = merkle::leaf_hash(&i.to_be_bytes());
            push(&mut nodes, i, leaf);
            all.push(leaf);
            assert_eq!(root(&nodes), merkle::root(&all), "size {}", i + 1);
            assert_eq!(nodes.len(), all.len().count_ones() as usize);
        }
    }

    #[test]
    fn proofs_from_stored_subtrees_equal_proofs_from_all_leaves_before_and_after_an_upgrade() {
        let d = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(d.path()).unwrap();
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let conn = store.db();
        let check = |size: u64| {
            let all = crate::seal::log::leaves(conn).unwrap();
            let t = Tree::open(conn, size).unwrap();
            for i in 0..size {
                assert_eq!(
                    t.inclusion(i, size).unwrap(),
                    merkle::inclusion_proof(&all[..size as usize], i as usize),
                    "inclusion of {i} in {size}"
                );
                assert_eq!(
                    t.consistency(i, size).unwrap(),
                    merkle::consistency_proof(&all[..size as usize], i as usize),
                    "consistency from {i} to {size}"
                );
            }
        };
        for n in 1..=21u64 {
            let e = crate::custody::event("note", "s", "test", format!("event {n}"));
            crate::custody::record_with(&store, &key, &e).unwrap();
            if n % 5 == 0 || n == 21 {
                check(n);
            }
        }
        // A log from before the subtrees were stored: proofs come from the leaves, and the
        // next append stores everything.
        conn.batch("DELETE FROM log_nodes; DELETE FROM log_frontier;")
            .unwrap();
        check(21);
        let e = crate::custody::event("note", "s", "test", "after the upgrade");
        crate::custody::record_with(&store, &key, &e).unwrap();
        assert!(Tree::open(conn, 22).unwrap().leaves.is_none());
        check(22);
    }
}
