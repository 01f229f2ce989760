//! Published test vectors (`tests/vectors/seal.json`): leaf hashes, roots, proofs, a segment
//! encoding and a signature. Anyone re-implementing verification can check against them; this
//! test checks that the code still produces exactly them. Regenerate deliberately with
//! `LIVEPROOF_WRITE_VECTORS=1 cargo test --test vectors` (a format change).

use ed25519_dalek::SigningKey;
use liveproof::seal::{self, merkle};
use serde_json::{json, Value};

fn leaves(n: usize) -> Vec<merkle::Hash> {
    (0..n)
        .map(|i| merkle::leaf_hash(format!("leaf {i}").as_bytes()))
        .collect()
}

fn hexes(v: &[merkle::Hash]) -> Vec<String> {
    v.iter().map(hex::encode).collect()
}

fn compute() -> Value {
    let all = leaves(8);
    let roots: Vec<Value> = (1..=8)
        .map(|n| json!({"size": n, "root": hex::encode(merkle::root(&all[..n]))}))
        .collect();
    let inclusion: Vec<Value> = (0..7)
        .map(|i| json!({"size": 7, "index": i, "proof": hexes(&merkle::inclusion_proof(&all[..7], i))}))
        .collect();
    let mut consistency = Vec::new();
    for n in 2..=8 {
        for m in 1..n {
            consistency.push(json!({"old": m, "new": n, "proof": hexes(&merkle::consistency_proof(&all[..n], m))}));
        }
    }
    let enc = seal::segment_encoding("59dfb9a4acb36fe2", 3, 12_000, 15_500, "这是全网最低价");
    let key = SigningKey::from_bytes(&[1u8; 32]);
    let sig = seal::sign(&key, seal::MANIFEST_DOMAIN, b"{\"session\":\"x\"}\n");
    let gap = seal::gap_encoding("59dfb9a4acb36fe2", 0, 20_000, 26_000, "no text");
    let manifest_sha = seal::sha256(b"{\"session\":\"x\"}\n");
    let entry = seal::log_entry("59dfb9a4acb36fe2", &manifest_sha);
    let head = seal::TreeHead::create(&key, 5, &all[4], "2026-11-26T12:00:00.000Z");
    let mut head_message = 5u64.to_be_bytes().to_vec();
    head_message.extend_from_slice(&all[4]);
    head_message.extend_from_slice(b"2026-11-26T12:00:00.000Z");
    let custody_event = r#"{"format":"liveproof/custody/v1","event":"export","session":"59dfb9a4acb36fe2","at":"2026-11-26T12:00:00.000Z","by":"local:auditor","detail":"exported an evidence bundle of 00:00:00.000 – 00:00:05.000"}"#;
    let custody = seal::custody_entry("59dfb9a4acb36fe2", &seal::sha256(custody_event.as_bytes()));
    let witness = SigningKey::from_bytes(&[2u8; 32]);
    let origin = liveproof_verify::note::origin(&key.verifying_key().to_bytes());
    let body = liveproof_verify::note::checkpoint_body(&origin, 5, &all[4]);
    let note = liveproof_verify::note::Note {
        signatures: vec![
            liveproof_verify::note::sign(&body, &origin, &key),
            liveproof_verify::note::cosign(&body, "witness.example/w1", &witness, 1_764_158_400),
        ],
        body,
    };
    let statement = b"{\n  \"format\": \"liveproof/bundle/v2\"\n}\n";
    let statement_sig = seal::DetachedSignature::create(&key, seal::STATEMENT_DOMAIN, statement);
    json!({
        "custody_entry": {
            "session": "59dfb9a4acb36fe2",
            "event": custody_event,
            "encoding": hex::encode(&custody),
            "leaf_hash": hex::encode(merkle::leaf_hash(&custody)),
        },
        "checkpoint": {
            "log_seed": hex::encode([1u8; 32]),
            "witness_seed": hex::encode([2u8; 32]),
            "witness_vkey": liveproof_verify::note::vkey("witness.example/w1", liveproof_verify::note::TYPE_COSIGNATURE, &witness.verifying_key().to_bytes()),
            "note": note.text(),
        },
        "about": "liveproof seal test vectors (docs/evidence-format.md). Leaf i's data is the UTF-8 string \"leaf i\"; leaf hash = SHA-256(0x00 || data); node = SHA-256(0x01 || left || right) (RFC 6962).",
        "leaf_hashes": hexes(&all),
        "roots": roots,
        "inclusion": inclusion,
        "consistency": consistency,
        "segment": {
            "session": "59dfb9a4acb36fe2", "index": 3, "start_ms": 12000, "end_ms": 15500, "text": "这是全网最低价",
            "encoding": hex::encode(&enc),
            "leaf_hash": hex::encode(merkle::leaf_hash(&enc)),
        },
        "signature": {
            "seed": hex::encode([1u8; 32]),
            "public_key": hex::encode(key.verifying_key().to_bytes()),
            "domain": seal::MANIFEST_DOMAIN,
            "message": "{\"session\":\"x\"}\n",
            "signed_bytes": "domain || 0x00 || message",
            "signature": hex::encode(sig),
        },
        "gap": {
            "session": "59dfb9a4acb36fe2", "index": 0, "start_ms": 20000, "end_ms": 26000, "reason": "no text",
            "encoding": hex::encode(&gap),
            "leaf_hash": hex::encode(merkle::leaf_hash(&gap)),
        },
        "log_entry": {
            "session": "59dfb9a4acb36fe2",
            "manifest": "{\"session\":\"x\"}\n",
            "manifest_sha256": hex::encode(manifest_sha),
            "encoding": hex::encode(&entry),
            "leaf_hash": hex::encode(merkle::leaf_hash(&entry)),
        },
        "tree_head": {
            "seed": hex::encode([1u8; 32]),
            "head": head,
            "message": hex::encode(&head_message),
            "timestamped_digest": hex::encode(head.digest().unwrap()),
        },
        "statement": {
            "seed": hex::encode([1u8; 32]),
            "file": String::from_utf8(statement.to_vec()).unwrap(),
            "statement_sig": statement_sig,
        },
    })
}

#[test]
fn the_code_reproduces_the_published_vectors_and_they_verify() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/seal.json");
    let now = compute();
    if std::env::var_os("LIVEPROOF_WRITE_VECTORS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
    }
    let published: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        now, published,
        "seal output changed: this breaks every existing bundle"
    );
    // The published proofs verify with the verification functions.
    let all = leaves(8);
    for v in published["inclusion"].as_array().unwrap() {
        let i = v["index"].as_u64().unwrap() as usize;
        let proof: Vec<merkle::Hash> = v["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| seal::hex32(h.as_str().unwrap()).unwrap())
            .collect();
        assert!(merkle::verify_inclusion(
            &all[i],
            i,
            7,
            &proof,
            &merkle::root(&all[..7])
        ));
    }
    for v in published["consistency"].as_array().unwrap() {
        let (m, n) = (
            v["old"].as_u64().unwrap() as usize,
            v["new"].as_u64().unwrap() as usize,
        );
        let proof: Vec<merkle::Hash> = v["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| seal::hex32(h.as_str().unwrap()).unwrap())
            .collect();
        assert!(
            merkle::verify_consistency(
                m,
                n,
                &proof,
                &merkle::root(&all[..m]),
                &merkle::root(&all[..n])
            ),
            "{m} -> {n}"
        );
    }
    let s = &published["signature"];
    let pk = seal::hex32(s["public_key"].as_str().unwrap()).unwrap();
    let sig = hex::decode(s["signature"].as_str().unwrap()).unwrap();
    assert!(seal::verify(
        &pk,
        seal::MANIFEST_DOMAIN,
        s["message"].as_str().unwrap().as_bytes(),
        &sig
    ));
}
