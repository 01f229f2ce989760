//! RFC 6962 / RFC 9162 Merkle trees: leaf hash `SHA-256(0x00 || data)`, node hash
//! `SHA-256(0x01 || left || right)`, inclusion and consistency proofs. Pure functions.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// Hash of a leaf's data.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// Hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly smaller than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// Merkle tree hash of leaf hashes (the empty tree hashes to SHA-256 of nothing).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// Audit path for leaf `index` (RFC 6962 PATH), bottom first.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Vec<Hash> {
    fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
        let n = d.len();
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            path(m, &d[..k], out);
            out.push(root(&d[k..]));
        } else {
            path(m - k, &d[k..], out);
            out.push(root(&d[..k]));
        }
    }
    let mut out = Vec::new();
    if index < leaves.len() {
        path(index, leaves, &mut out);
    }
    out
}

/// Checks that `leaf` is at `index` in a tree of `size` leaves with root `root` (RFC 9162 2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: usize,
    size: usize,
    proof: &[Hash],
    root: &Hash,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && &r == root
}

/// Consistency proof between the first `old` leaves and all of `leaves` (RFC 6962 PROOF).
pub fn consistency_proof(leaves: &[Hash], old: usize) -> Vec<Hash> {
    fn sub(m: usize, d: &[Hash], complete: bool, out: &mut Vec<Hash>) {
        let n = d.len();
        if m == n {
            if !complete {
                out.push(root(d));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            sub(m, &d[..k], complete, out);
            out.push(root(&d[k..]));
        } else {
            sub(m - k, &d[k..], false, out);
            out.push(root(&d[..k]));
        }
    }
    let mut out = Vec::new();
    if old > 0 && old < leaves.len() {
        sub(old, leaves, true, &mut out);
    }
    out
}

/// Checks that a tree of `old` leaves with `old_root` is a prefix of the tree of `new` leaves
/// with `new_root` (RFC 9162 2.1.4.2).
pub fn verify_consistency(
    old: usize,
    new: usize,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> bool {
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 || old > new || proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let (mut fnode, mut snode) = (old - 1, new - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && &fr == old_root && &sr == new_root
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&[i as u8, (i >> 8) as u8]))
            .collect()
    }

    #[test]
    fn rfc6962_empty_and_single_leaf() {
        assert_eq!(
            hex::encode(root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // RFC 6962 test vector: leaf hash of the empty string.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn roots_match_the_certificate_transparency_reference_vectors() {
        let data = [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ];
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let leaves: Vec<Hash> = data
            .iter()
            .map(|d| leaf_hash(&hex::decode(d).unwrap()))
            .collect();
        for n in 1..=8 {
            assert_eq!(hex::encode(root(&leaves[..n])), roots[n - 1], "size {n}");
        }
    }

    proptest! {
        #[test]
        fn every_inclusion_proof_verifies_and_a_changed_leaf_fails(n in 1usize..70, seed in 0usize..1000) {
            let l = leaves(n);
            let r = root(&l);
            let i = seed % n;
            let p = inclusion_proof(&l, i);
            prop_assert!(verify_inclusion(&l[i], i, n, &p, &r));
            let other = leaf_hash(b"tampered");
            prop_assert!(!verify_inclusion(&other, i, n, &p, &r));
            if n > 1 {
                prop_assert!(!verify_inclusion(&l[i], (i + 1) % n, n, &p, &r));
            }
        }

        #[test]
        fn every_consistency_proof_verifies_and_a_rewritten_history_fails(n in 2usize..70, seed in 0usize..1000) {
            let l = leaves(n);
            let m = 1 + seed % (n - 1);
            let p = consistency_proof(&l, m);
            prop_assert!(verify_consistency(m, n, &p, &root(&l[..m]), &root(&l)));
            let mut forged = l.clone();
            forged[seed % m] = leaf_hash(b"back-dated");
            prop_assert!(!verify_consistency(m, n, &p, &root(&forged[..m]), &root(&l)));
        }
    }
}
