//! Chain of custody: ingest, export and verify-on-server are log entries a bundle proves; key
//! rotation and revocation are log entries too, and verify honours them.

mod common;
use std::path::Path;

use common::forge::{self, members, write_bundle};
use common::independent::{failed_checks, lpverify};
use common::server::{get, start, token};
use common::*;
use serde_json::Value;

fn export(data: &Path, id: &str, out: &Path) {
    export_bundle(data, id, "0", "5", out, &[]);
}

/// `liveproof verify` as a stranger with `extra`; and the independent verifier must agree.
fn verify(bundle: &Path, extra: &[&str]) -> (i32, Value) {
    let (code, v) = verify_json(&bundle.with_extension("nowhere"), bundle, extra);
    let (pcode, pv) = lpverify(bundle, extra);
    assert_eq!(
        (pcode, failed_checks(&pv)),
        (code, failed_checks(&v)),
        "the verifiers disagree: {v:#}"
    );
    (code, v)
}

fn events(v: &Value) -> Vec<String> {
    v["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

fn key_of(data: &Path) -> String {
    run(data, &["key", "show"]).1.unwrap()["public_key"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn bundles_carry_their_custody_chain_and_the_server_adds_to_it() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let id = ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"])["session"]
        .as_str()
        .unwrap()
        .to_string();
    let key = key_of(&data);
    let b = d.path().join("b.zip");
    export(&data, &id, &b);
    let (code, v) = verify(&b, &["--key", &key]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(events(&v), vec!["ingest", "export"]);
    let by = v["custody"][0]["by"].as_str().unwrap();
    assert!(by.starts_with("local:"), "{by}");
    let report = String::from_utf8(members(&b)["report.html"].clone()).unwrap();
    assert!(
        report.contains("Chain of custody") && report.contains("exported an evidence bundle"),
        "custody in plain words"
    );

    // An event rewritten (who exported it), the statement re-signed by the archive: refused.
    let mut m = members(&b);
    let mut chain: Value = serde_json::from_slice(&m["custody.json"]).unwrap();
    let text = chain["entries"][1]["event"]
        .as_str()
        .unwrap()
        .replace(by, "local:somebody-else");
    chain["entries"][1]["event"] = Value::from(text);
    m.insert(
        "custody.json".into(),
        serde_json::to_vec_pretty(&chain).unwrap(),
    );
    let st: Value = serde_json::from_slice(&m["statement.json"]).unwrap();
    forge::resign_statement(&mut m, st, &forge::archive_key(&data));
    let t = d.path().join("t.zip");
    write_bundle(&t, &m);
    let (code, v) = verify(&t, &["--key", &key]);
    assert_eq!(code, 5);
    assert!(
        failed_checks(&v).contains(&"custody".to_string()),
        "{:?}",
        failed_checks(&v)
    );

    // Through the server: the export and a verification by a token holder are logged.
    let srv = start(&data, &[]);
    let auditor = token(&data, "auditor", None);
    let (status, bytes) = get(
        &srv.1,
        &format!("/api/sessions/{id}/evidence?from=0&to=5"),
        Some(&auditor),
    );
    assert_eq!(status, 200);
    let mut r = common::server::agent()
        .post(&format!("{}/api/verify", srv.1))
        .header("Authorization", &format!("Bearer {auditor}"))
        .send(&bytes[..])
        .unwrap();
    let v: Value = serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
    assert_eq!(v["status"], "verified", "{v:#}");
    // Anonymous verifications are not custody.
    let (status, _) = common::server::post(&srv.1, "/api/verify", None, &bytes);
    assert_eq!(status, 200);
    drop(srv);
    let b2 = d.path().join("b2.zip");
    export(&data, &id, &b2);
    let (code, v) = verify(&b2, &["--key", &key]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        events(&v),
        vec!["ingest", "export", "export", "verify", "export"]
    );
    let by_token: Vec<&str> = v["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["by"].as_str().unwrap())
        .collect();
    assert!(
        by_token[2].starts_with("token:") && by_token[2].ends_with("(auditor)"),
        "{by_token:?}"
    );
    assert!(by_token[3].starts_with("token:"), "{by_token:?}");
}

#[test]
fn keys_rotate_and_revoke_in_the_log_and_verify_honours_them() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let id = ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"])["session"]
        .as_str()
        .unwrap()
        .to_string();
    let old_key = key_of(&data);
    let before = d.path().join("before.zip");
    export(&data, &id, &before);

    let (o, r) = run(&data, &["key", "rotate"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let new_key = r.unwrap()["new_key"].as_str().unwrap().to_string();
    assert_eq!(key_of(&data), new_key);
    assert_ne!(new_key, old_key);
    // Old bundles stay valid under the old key; new ones are signed by the new key only.
    assert_eq!(verify(&before, &["--key", &old_key]).0, 0);
    let after = d.path().join("after.zip");
    export(&data, &id, &after);
    let (code, v) = verify(&after, &["--key", &new_key]);
    assert_eq!(code, 0, "{v:#}");
    assert!(events(&v).contains(&"key_rotate".to_string()));
    assert_eq!(verify(&after, &["--key", &old_key]).0, 6);
    // The trust file names both; both bundles verify under it.
    let trust = d.path().join("trust.txt");
    let (o, _) = run(&data, &["key", "trust-file", "--name", "Test archive"]);
    assert!(o.status.success());
    let file = bin()
        .args(["key", "trust-file", "--name", "Test archive", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    std::fs::write(&trust, &file.stdout).unwrap();
    let tf = String::from_utf8(file.stdout).unwrap();
    assert!(tf.contains(&new_key) && tf.contains(&old_key), "{tf}");
    for b in [&before, &after] {
        assert_eq!(verify(b, &["--trust", trust.to_str().unwrap()]).0, 0);
    }
    // The current key cannot be revoked; the old one can, and then the old bundle (no trusted
    // timestamp from before) is refused under the trust file.
    let (o, _) = run(&data, &["key", "revoke", &new_key, "--reason", "test"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("rotate"));
    let (o, _) = run(
        &data,
        &["key", "revoke", &old_key, "--reason", "laptop stolen"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let file = bin()
        .args(["key", "trust-file", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    let tf = String::from_utf8(file.stdout.clone()).unwrap();
    assert!(
        tf.contains(&format!("revoked ed25519:{old_key}")) && tf.contains("laptop stolen"),
        "{tf}"
    );
    std::fs::write(&trust, &file.stdout).unwrap();
    let (code, v) = verify(&before, &["--trust", trust.to_str().unwrap()]);
    assert_eq!(code, 5, "{v:#}");
    assert!(failed_checks(&v).contains(&"key.revoked".to_string()));
    assert_eq!(verify(&after, &["--trust", trust.to_str().unwrap()]).0, 0);
}
