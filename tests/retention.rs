//! Retention on purpose: a legal hold blocks deletion; deletion removes the original, the
//! transcript, derived files and index entries but leaves a signed tombstone in the log, which
//! both verifiers check and a forger cannot alter; the log stays consistent; the API does the
//! same for admins only; revoked tokens get 401.

mod common;
use std::path::Path;

use common::independent::{failed_checks, lpverify};
use common::server::*;
use common::*;
use serde_json::Value;

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)))
}

fn archive_key_hex(data: &Path) -> String {
    let (_, v) = run(data, &["key", "show"]);
    v.unwrap()["public_key"].as_str().unwrap().to_string()
}

fn log_size(data: &Path) -> u64 {
    let (_, v) = run(data, &["log", "head"]);
    v.unwrap()["size"].as_u64().unwrap()
}

/// Every file under `dir` (recursively) whose path contains `needle`.
fn files_with(dir: &Path, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            if p.to_string_lossy().contains(needle) {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    out
}

/// An archive holding the JFK clip: (its directory, the data directory, session, recording hash).
fn archived_jfk() -> (tempfile::TempDir, std::path::PathBuf, String, String) {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let s = ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"]);
    let id = s["session"].as_str().unwrap().to_string();
    let sha = s["recording_sha256"].as_str().unwrap().to_string();
    (d, data, id, sha)
}

#[test]
fn a_held_session_cannot_be_deleted_and_a_deleted_one_leaves_a_verified_tombstone() {
    let (d, data, id, sha) = archived_jfk();
    let before = log_size(&data);

    // Under hold: refused with exit 3, nothing removed.
    let (o, _) = run(&data, &["hold", &id, "--reason", "SAMR case 2026-117"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (o, _) = run(&data, &["hold", &id, "--reason", "again"]);
    assert_eq!(o.status.code(), Some(3), "a second hold is refused");
    let (o, _) = run(&data, &["delete", &id, "--reason", "withdrawn"]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("legal hold") && err.contains("release"),
        "{err}"
    );
    assert!(!files_with(&data.join("blobs"), &sha).is_empty());
    let (o, shown) = run(&data, &["show", &id]);
    assert!(o.status.success());
    assert_eq!(shown.unwrap()["legal_hold"]["reason"], "SAMR case 2026-117");
    let (o, _) = run(&data, &["delete", &id, "--reason", "  "]);
    assert_eq!(o.status.code(), Some(2), "a reason is required");

    // Released, then deleted.
    let (o, _) = run(&data, &["release", &id, "--reason", "case closed"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (o, v) = run(
        &data,
        &["delete", &id, "--reason", "consumer withdrew (ticket 4411)"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let del = v.unwrap();
    assert_eq!(del["original_removed"], true);
    assert!(
        files_with(&data, &sha).is_empty(),
        "original and derived files are gone"
    );
    assert!(!data.join("sessions").join(&id).exists());
    let (_, hits) = run(&data, &["search", "country"]);
    assert_eq!(hits.unwrap()["total"], 0, "its index entries are gone");
    let (o, _) = run(&data, &["show", &id]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("was deleted"));
    let (_, list) = run(&data, &["sessions"]);
    assert_eq!(list.unwrap()["total"], 0);

    // The log only grew: the head before the hold is a prefix of the head after deletion.
    let after = log_size(&data);
    assert_eq!(
        after,
        before + 3,
        "hold, release and deletion are log entries"
    );
    let (o, c) = run(
        &data,
        &[
            "log",
            "consistency",
            &before.to_string(),
            &after.to_string(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(c.unwrap()["proof"].is_array());

    // The tombstone verifies with the archive's key, in both verifiers; it names the reason.
    let tomb = d.path().join("t.json");
    let (o, _) = run(&data, &["tombstone", &id, "-o", tomb.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let key = archive_key_hex(&data);
    let other = tempfile::tempdir().unwrap();
    let (code, v) = verify_json(other.path(), &tomb, &["--key", &key]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["status"], "verified");
    assert_eq!(v["session"], id.as_str());
    assert_eq!(v["custody"][0]["event"], "deleted");
    assert!(v["proven"][0]
        .as_str()
        .unwrap()
        .contains("consumer withdrew (ticket 4411)"));
    let (code, pv) = lpverify(&tomb, &["--key", &key]);
    assert_eq!(code, 0, "{pv}");
    // Without the key: intact, but an unknown signer.
    let (code, v) = verify_json(other.path(), &tomb, &[]);
    assert_eq!((code, v["status"].as_str()), (6, Some("unknown_signer")));

    // A forger changes the reason, or re-signs the document with a key of their own: refused.
    let t: Value = serde_json::from_slice(&std::fs::read(&tomb).unwrap()).unwrap();
    let mut changed = t.clone();
    changed["reason"] = "routine clean-up".into();
    let f1 = d.path().join("changed.json");
    std::fs::write(&f1, serde_json::to_vec(&changed).unwrap()).unwrap();
    let (code, v) = verify_json(other.path(), &f1, &["--key", &key]);
    assert_eq!(code, 5);
    assert_eq!(failed_checks(&v), ["tombstone.deletion"]);
    let (code, pv) = lpverify(&f1, &["--key", &key]);
    assert_eq!(code, 5);
    assert_eq!(failed_checks(&pv), ["tombstone.deletion"]);
    let mut moved = t.clone();
    moved["deletion"]["index"] = Value::from(t["deletion"]["index"].as_u64().unwrap() - 1);
    let f2 = d.path().join("moved.json");
    std::fs::write(&f2, serde_json::to_vec(&moved).unwrap()).unwrap();
    let (code, _) = verify_json(other.path(), &f2, &["--key", &key]);
    assert_eq!(code, 5);
    let (code, _) = lpverify(&f2, &["--key", &key]);
    assert_eq!(code, 5);

    // The same recording cannot come back under the deleted session's id.
    let (o, _) = run(
        &data,
        &[
            "ingest",
            fixture("jfk.wav").to_str().unwrap(),
            "--model",
            "tiny.en",
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("was deleted"));
}

#[test]
fn the_api_lets_only_admins_hold_and_delete_and_a_revoked_token_gets_401() {
    let (_d, data, id, sha) = archived_jfk();
    let admin = token(&data, "admin", None);
    let auditor = token(&data, "auditor", None);
    let consumer = token(&data, "consumer", None);
    let srv = start(&data, &[]);
    let send = |method: &str, path: &str, t: &str| -> (u16, Value) {
        let url = format!("{}{path}", srv.1);
        let a = agent();
        let r = match method {
            "DELETE" => a
                .delete(&url)
                .header("Authorization", &format!("Bearer {t}"))
                .call(),
            _ => a
                .post(&url)
                .header("Authorization", &format!("Bearer {t}"))
                .send(&b""[..]),
        };
        let mut r = r.unwrap();
        let st = r.status().as_u16();
        (st, json(&r.body_mut().read_to_vec().unwrap()))
    };

    // The consumer uploads the same bytes: a session of its own, sharing the original.
    let (st, up) = post(
        &srv.1,
        "/api/uploads?name=jfk.wav&lang=en",
        Some(&consumer),
        &std::fs::read(fixture("jfk.wav")).unwrap(),
    );
    assert_eq!(st, 202, "{up}");
    let job = up["job"].as_i64().unwrap();
    let mut owned = String::new();
    for _ in 0..3000 {
        let (_, b) = get(&srv.1, &format!("/api/jobs/{job}"), Some(&consumer));
        let j = json(&b);
        if j["status"] == "done" {
            owned = j["session"].as_str().unwrap().to_string();
            break;
        }
        assert_ne!(j["status"], "failed", "{j}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!owned.is_empty() && owned != id);

    // Not an admin: 403, and nothing changes.
    for t in [&auditor, &consumer] {
        let (st, _) = send("DELETE", &format!("/api/sessions/{id}?reason=x"), t);
        assert_eq!(st, 403);
        let (st, _) = send("POST", &format!("/api/sessions/{id}/hold?reason=x"), t);
        assert_eq!(st, 403);
    }
    let (st, _) = send("DELETE", &format!("/api/sessions/{id}"), &admin);
    assert_eq!(st, 400, "a reason is required");
    let (st, h) = send(
        "POST",
        &format!("/api/sessions/{id}/hold?reason=court%20order"),
        &admin,
    );
    assert_eq!(st, 200, "{h}");
    assert_eq!(h["reason"], "court order");
    let (st, e) = send("DELETE", &format!("/api/sessions/{id}?reason=x"), &admin);
    assert_eq!(st, 409, "{e}");
    let (st, _) = send(
        "POST",
        &format!("/api/sessions/{id}/release?reason=done"),
        &admin,
    );
    assert_eq!(st, 200);
    let (st, del) = send(
        "DELETE",
        &format!("/api/sessions/{id}?reason=duplicate"),
        &admin,
    );
    assert_eq!(st, 200, "{del}");
    assert_eq!(
        del["original_removed"], false,
        "the consumer's session has the same bytes"
    );
    assert!(!files_with(&data.join("blobs"), &sha).is_empty());
    let (st, _) = get(
        &srv.1,
        &format!("/api/sessions/{owned}/audio"),
        Some(&consumer),
    );
    assert_eq!(st, 200, "the other session still plays");

    // Gone for those who could read it, unknown to the others; its tombstone verifies at the
    // public verify endpoint.
    let (st, b) = get(&srv.1, &format!("/api/sessions/{id}"), Some(&auditor));
    assert_eq!(st, 410, "{}", String::from_utf8_lossy(&b));
    assert!(json(&b)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("tombstone"));
    let (st, _) = get(&srv.1, &format!("/api/sessions/{id}"), Some(&consumer));
    assert_eq!(st, 404);
    let (st, _) = get(
        &srv.1,
        &format!("/api/sessions/{id}/tombstone"),
        Some(&consumer),
    );
    assert_eq!(st, 404);
    let (st, tomb) = get(
        &srv.1,
        &format!("/api/sessions/{id}/tombstone"),
        Some(&auditor),
    );
    assert_eq!(st, 200);
    let (st, v) = post(&srv.1, "/api/verify", None, &tomb);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "verified", "{v}");

    // Tokens: listed without secrets, created, revoked → 401.
    let (st, b) = get(&srv.1, "/api/tokens", Some(&auditor));
    assert_eq!(st, 403);
    let (st, b2) = post(
        &srv.1,
        "/api/tokens",
        Some(&admin),
        br#"{"role":"auditor","expires":"30d"}"#,
    );
    assert_eq!(st, 201, "{b2} {}", String::from_utf8_lossy(&b));
    let fresh = b2["token"].as_str().unwrap().to_string();
    let (st, _) = get(&srv.1, "/api/sessions", Some(&fresh));
    assert_eq!(st, 200);
    let (st, list) = get(&srv.1, "/api/tokens", Some(&admin));
    assert_eq!(st, 200);
    let list = json(&list);
    assert!(!String::from_utf8_lossy(&serde_json::to_vec(&list).unwrap()).contains(&fresh));
    assert_eq!(list["tokens"].as_array().unwrap().len(), 4);
    let (st, r) = send("POST", &format!("/api/tokens/{}/revoke", b2["id"]), &admin);
    assert_eq!(st, 200, "{r}");
    let (st, _) = get(&srv.1, "/api/sessions", Some(&fresh));
    assert_eq!(st, 401);
}
