//! The independent verifier (`verifiers/python/lpverify.py`, written from
//! docs/evidence-format.md alone) and `liveproof verify` must agree on every bundle: fresh,
//! forged and re-signed, with unsigned fields, with every member tampered, polyglot, cut short.

mod common;
use std::collections::BTreeMap;
use std::path::Path;

use common::forge::{self, members, write_bundle};
use common::independent::{failed_checks, lpverify, python};
use common::*;
use serde_json::Value;

struct Outcome {
    status: String,
    failed: Vec<String>,
    signer: Value,
}

fn rust(bundle: &Path, extra: &[&str]) -> Outcome {
    let (code, v) = verify_json(&bundle.with_extension("no-archive"), bundle, extra);
    let status = v["status"].as_str().unwrap().to_string();
    assert_eq!(code, exit_of(&status), "{v:#}");
    Outcome {
        failed: failed_checks(&v),
        status,
        signer: v["signer"].clone(),
    }
}

fn python_verify(bundle: &Path, extra: &[&str]) -> Outcome {
    let (code, v) = lpverify(bundle, extra);
    let status = v["status"].as_str().unwrap().to_string();
    assert_eq!(code, exit_of(&status), "{v:#}");
    Outcome {
        failed: failed_checks(&v),
        status,
        signer: v["signer"].clone(),
    }
}

fn exit_of(status: &str) -> i32 {
    match status {
        "verified" => 0,
        "unknown_signer" => 6,
        _ => 5,
    }
}

/// Both verifiers on `bundle`: the same status, the same failed checks, the same signer.
fn agree(case: &str, bundle: &Path, extra: &[&str]) -> String {
    let (r, p) = (rust(bundle, extra), python_verify(bundle, extra));
    assert_eq!(
        (&r.status, &r.failed),
        (&p.status, &p.failed),
        "{case}: liveproof and the independent verifier disagree"
    );
    for k in ["fingerprint", "public_key", "trusted"] {
        assert_eq!(r.signer[k], p.signer[k], "{case}: signer.{k}");
    }
    r.status
}

#[test]
fn the_independent_verifier_agrees_on_fresh_forged_and_tampered_bundles() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let s = ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"]);
    let id = s["session"].as_str().unwrap().to_string();
    let (_, k) = run(&data, &["key", "show"]);
    let key = k.unwrap()["public_key"].as_str().unwrap().to_string();
    let trust = ["--key", key.as_str()];
    let b = d.path().join("b.zip");
    export_bundle(&data, &id, "2", "8", &b, &[]);
    let with_rec = d.path().join("rec.zip");
    export_bundle(&data, &id, "0", "5", &with_rec, &["--with-recording"]);

    assert_eq!(agree("fresh", &b, &trust), "verified");
    assert_eq!(
        agree("fresh, recording inside", &with_rec, &trust),
        "verified"
    );
    assert_eq!(agree("fresh, no key trusted", &b, &[]), "unknown_signer");
    let other = "ab".repeat(32);
    assert_eq!(
        agree("fresh, another key trusted", &b, &["--key", &other]),
        "unknown_signer"
    );

    let original = members(&b);
    let t = d.path().join("t.zip");
    let check = |case: &str, m: &BTreeMap<String, Vec<u8>>, expect: &str| {
        write_bundle(&t, m);
        assert_eq!(agree(case, &t, &trust), expect, "{case}");
    };
    // Forged and re-signed by a stranger.
    let forger = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    check(
        "forged",
        &forge::forge(&original, &forger, "this cream won the Nobel prize"),
        "unknown_signer",
    );
    // A field outside the format, signed by the archive itself.
    let archive = forge::archive_key(&data);
    let st: Value = serde_json::from_slice(&original["statement.json"]).unwrap();
    let mut extra = st.clone();
    extra["note"] = Value::from("unsigned claim");
    let mut m = original.clone();
    forge::resign_statement(&mut m, extra, &archive);
    check("unknown statement field", &m, "not_verified");
    let mut ex: Value = serde_json::from_slice(&original["excerpt.json"]).unwrap();
    ex["segments"][0]["speaker"] = Value::from("a doctor");
    let mut m = original.clone();
    m.insert(
        "excerpt.json".into(),
        serde_json::to_vec_pretty(&ex).unwrap(),
    );
    forge::resign_statement(&mut m, st.clone(), &archive);
    check("unknown excerpt field", &m, "not_verified");
    // A clip range that leaves out what is quoted.
    let mut narrow = st.clone();
    narrow["clip"]["from_ms"] = Value::from(ex["segments"][0]["start_ms"].as_u64().unwrap() + 1);
    let mut m = original.clone();
    forge::resign_statement(&mut m, narrow, &archive);
    check("narrow clip", &m, "not_verified");
    // Every member: a flipped byte at its start, middle and end; removed; and an extra one.
    for (name, bytes) in &original {
        for pos in [0, bytes.len() / 2, bytes.len() - 1] {
            let mut m = original.clone();
            m.get_mut(name).unwrap()[pos] ^= 0x01;
            check(&format!("{name}[{pos}] flipped"), &m, "not_verified");
        }
        let mut m = original.clone();
        m.remove(name);
        check(&format!("{name} removed"), &m, "not_verified");
    }
    let mut m = original.clone();
    m.insert("notes.txt".into(), b"added".to_vec());
    check("member added", &m, "not_verified");
    // Segments removed or swapped.
    let mut e: Value = serde_json::from_slice(&original["excerpt.json"]).unwrap();
    if e["segments"].as_array().unwrap().len() >= 2 {
        e["segments"].as_array_mut().unwrap().swap(0, 1);
        let mut m = original.clone();
        m.insert(
            "excerpt.json".into(),
            serde_json::to_vec_pretty(&e).unwrap(),
        );
        check("segments swapped", &m, "not_verified");
    }
    // A polyglot: a second archive appended; and a bundle cut short.
    let raw = std::fs::read(&b).unwrap();
    let mut poly = raw.clone();
    poly.extend_from_slice(&std::fs::read(&with_rec).unwrap());
    std::fs::write(&t, &poly).unwrap();
    assert_eq!(agree("polyglot", &t, &trust), "not_verified");
    std::fs::write(&t, &raw[..raw.len() / 2]).unwrap();
    assert_eq!(agree("cut short", &t, &trust), "not_verified");
    std::fs::write(&t, b"not a zip").unwrap();
    assert_eq!(agree("not a zip", &t, &trust), "not_verified");
}

#[test]
fn the_independent_verifier_reproduces_the_published_vectors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = std::process::Command::new(python())
        .arg(dir.join("verifiers/python/check_vectors.py"))
        .arg(dir.join("tests/vectors/seal.json"))
        .output()
        .unwrap();
    assert!(
        o.status.success() && o.stdout.starts_with(b"ok"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_independent_verifier_agrees_on_timestamps_from_a_ca_issued_tsa() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let tsa = start_tsa_with(&d.path().join("tsa"), &["--ca"]);
    let data = d.path().join("data");
    let o = bin()
        .env("LIVEPROOF_TSA_URL", format!("http://127.0.0.1:{}/", tsa.2))
        .env("LIVEPROOF_TSA_CERT", &tsa.1)
        .args([
            "ingest",
            fixture("jfk.wav").to_str().unwrap(),
            "--model",
            "tiny.en",
            "--json",
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(s.get("timestamp_warning").is_none(), "{s}");
    let id = s["session"].as_str().unwrap();
    let (_, k) = run(&data, &["key", "show"]);
    let key = k.unwrap()["public_key"].as_str().unwrap().to_string();
    let b = d.path().join("b.zip");
    let o = bin()
        .env("LIVEPROOF_TSA_URL", format!("http://127.0.0.1:{}/", tsa.2))
        .env("LIVEPROOF_TSA_CERT", &tsa.1)
        .args(["evidence", id, "--from", "0", "--to", "9", "-o"])
        .arg(&b)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    drop(tsa);
    assert!(o.status.success());
    let ca = d.path().join("tsa/ca.crt");
    let leaf = d.path().join("tsa/tsa.crt");
    for anchor in [&ca, &leaf] {
        assert_eq!(
            agree(
                "CA-issued TSA",
                &b,
                &["--key", &key, "--tsa-cert", anchor.to_str().unwrap()]
            ),
            "verified"
        );
    }
    assert_eq!(
        agree("tokens checked against tsa.pem", &b, &["--key", &key]),
        "verified"
    );
    // Another TSA's certificate, and the two tokens swapped.
    let other = start_tsa(&d.path().join("other"));
    assert_eq!(
        agree(
            "another TSA",
            &b,
            &["--key", &key, "--tsa-cert", other.1.to_str().unwrap()]
        ),
        "not_verified"
    );
    let mut m = members(&b);
    let st: Value = serde_json::from_slice(&m["statement.json"]).unwrap();
    let head = m["timestamp.tsr"].clone();
    m.insert("timestamp.tsr".into(), m["recording-timestamp.tsr"].clone());
    m.insert("recording-timestamp.tsr".into(), head);
    forge::resign_statement(&mut m, st.clone(), &forge::archive_key(&data));
    let t = d.path().join("t.zip");
    write_bundle(&t, &m);
    assert_eq!(
        agree(
            "tokens swapped",
            &t,
            &["--key", &key, "--tsa-cert", ca.to_str().unwrap()]
        ),
        "not_verified"
    );
    // No token, but a trusted time asked for.
    let mut m = members(&b);
    for name in ["timestamp.tsr", "recording-timestamp.tsr", "tsa.pem"] {
        m.remove(name);
    }
    forge::resign_statement(&mut m, st, &forge::archive_key(&data));
    write_bundle(&t, &m);
    assert_eq!(
        agree(
            "no token",
            &t,
            &["--key", &key, "--tsa-cert", ca.to_str().unwrap()]
        ),
        "not_verified"
    );
    assert_eq!(
        agree("no token, none asked for", &t, &["--key", &key]),
        "verified"
    );
}
