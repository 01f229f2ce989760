//! Forging bundles the way an attacker would, with the library's own functions: the text
//! changed, then every hash, proof and signature rebuilt under a key of the forger's choosing,
//! so that every check but "whose key is it" passes.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use ed25519_dalek::SigningKey;
use liveproof::seal::{self, merkle, DetachedSignature, TreeHead};
use serde_json::Value;

fn pretty(v: &impl serde::Serialize) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).unwrap();
    b.push(b'\n');
    b
}

/// Signs `statement` (a JSON value, written as is) with `key` into the bundle, recomputing the
/// member hashes it lists from `m` (members no longer in `m` are dropped from the list).
pub fn resign_statement(m: &mut BTreeMap<String, Vec<u8>>, mut statement: Value, key: &SigningKey) {
    let listed: Vec<Value> = statement["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| m.contains_key(r["file"].as_str().unwrap()))
        .cloned()
        .collect();
    statement["members"] = Value::Array(listed);
    for r in statement["members"].as_array_mut().unwrap() {
        let name = r["file"].as_str().unwrap().to_string();
        if let Some(b) = m.get(&name) {
            r["sha256"] = Value::from(liveproof::hashing::sha256_hex(b));
        }
    }
    if let Some(clip) = statement.get_mut("clip").filter(|c| c.is_object()) {
        let name = clip["file"].as_str().unwrap().to_string();
        clip["sha256"] = Value::from(liveproof::hashing::sha256_hex(&m[&name]));
    }
    let bytes = pretty(&statement);
    let sig = DetachedSignature::create(key, seal::STATEMENT_DOMAIN, &bytes);
    m.insert("statement.json".into(), bytes);
    m.insert("statement.sig".into(), pretty(&sig));
}

/// The bundle `m` with the first quoted segment saying `text`, re-sealed and re-signed
/// throughout with `key` (a one-entry log of the forger's own).
pub fn forge(
    m: &BTreeMap<String, Vec<u8>>,
    key: &SigningKey,
    text: &str,
) -> BTreeMap<String, Vec<u8>> {
    let mut m = m.clone();
    let mut excerpt: Value = serde_json::from_slice(&m["excerpt.json"]).unwrap();
    let session = excerpt["session"].as_str().unwrap().to_string();
    excerpt["segments"][0]["text"] = Value::from(text);
    let segs = excerpt["segments"].as_array().unwrap().clone();
    let count = segs.last().unwrap()["index"].as_u64().unwrap() + 1;
    let leaves: Vec<merkle::Hash> = (0..count)
        .map(|i| match segs.iter().find(|s| s["index"] == i) {
            Some(s) => merkle::leaf_hash(&seal::segment_encoding(
                &session,
                i,
                s["start_ms"].as_u64().unwrap(),
                s["end_ms"].as_u64().unwrap(),
                s["text"].as_str().unwrap(),
            )),
            None => merkle::leaf_hash(&seal::segment_encoding(&session, i, 0, 1, "…")),
        })
        .collect();
    let root = hex::encode(merkle::root(&leaves));
    for s in excerpt["segments"].as_array_mut().unwrap() {
        let i = s["index"].as_u64().unwrap() as usize;
        s["proof"] = merkle::inclusion_proof(&leaves, i)
            .iter()
            .map(hex::encode)
            .collect();
    }
    excerpt["transcript_root"] = Value::from(root.clone());
    excerpt["segment_count"] = Value::from(count);
    excerpt.as_object_mut().unwrap().remove("gap_count");
    excerpt.as_object_mut().unwrap().remove("gaps");
    m.insert("excerpt.json".into(), pretty(&excerpt));

    let mut manifest: Value = serde_json::from_slice(&m["manifest.json"]).unwrap();
    manifest["transcript_root"] = Value::from(root.clone());
    manifest["segment_count"] = Value::from(count);
    manifest.as_object_mut().unwrap().remove("gap_count");
    let manifest_bytes = pretty(&manifest);
    let manifest_sha = seal::sha256(&manifest_bytes);
    m.insert(
        "manifest.sig".into(),
        pretty(&DetachedSignature::create(
            key,
            seal::MANIFEST_DOMAIN,
            &manifest_bytes,
        )),
    );
    m.insert("manifest.json".into(), manifest_bytes);

    let log_root = merkle::root(&[merkle::leaf_hash(&seal::log_entry(&session, &manifest_sha))]);
    let head = TreeHead::create(key, 1, &log_root, "2026-01-01T00:00:00Z");
    let inclusion = serde_json::json!({
        "session": session,
        "manifest_sha256": hex::encode(manifest_sha),
        "index": 0,
        "proof": [],
        "tree_head": head,
    });
    m.insert("log.json".into(), pretty(&inclusion));
    m.insert(
        "public_key.txt".into(),
        format!("{}\n", hex::encode(key.verifying_key().to_bytes())).into_bytes(),
    );
    // The forger's one-entry log has no custody, witnesses or timestamps to show.
    for name in [
        "timestamp.tsr",
        "recording-timestamp.tsr",
        "tsa.pem",
        "custody.json",
        "witnessed.json",
    ] {
        m.remove(name);
    }

    let mut statement: Value = serde_json::from_slice(&m["statement.json"]).unwrap();
    statement["transcript_root"] = Value::from(root);
    resign_statement(&mut m, statement, key);
    m
}

/// The archive's own secret key (what an insider, or the archive itself, signs with).
pub fn archive_key(data: &std::path::Path) -> SigningKey {
    let text = std::fs::read_to_string(data.join("keys/archive.ed25519")).unwrap();
    SigningKey::from_bytes(&seal::hex32(&text).unwrap())
}

/// Every member of a bundle, by name.
pub fn members(bundle: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(bundle).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).unwrap();
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            (e.name().to_string(), b)
        })
        .collect()
}

/// Writes members as a plain zip.
pub fn write_bundle(path: &Path, m: &BTreeMap<String, Vec<u8>>) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, b) in m {
        z.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(b).unwrap();
    }
    z.finish().unwrap();
}
