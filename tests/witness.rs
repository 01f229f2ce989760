//! Witnesses: their own key and state; they cosign checkpoints that extend what they saw,
//! refuse a forked or shrunken log, and bundles carry the cosignatures that verify reports.

mod common;
use std::path::Path;

use common::forge::members;
use common::server::start;
use common::*;
use serde_json::Value;

fn witness(args: &[&str]) -> (std::process::Output, Option<Value>) {
    let o = bin()
        .arg("witness")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let v = serde_json::from_slice(&o.stdout).ok();
    (o, v)
}

fn key_of(data: &Path) -> String {
    run(data, &["key", "show"]).1.unwrap()["public_key"]
        .as_str()
        .unwrap()
        .to_string()
}

fn vkey(state: &Path, name: &str) -> String {
    let (o, v) = witness(&["key", "--state", state.to_str().unwrap(), "--name", name]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    v.unwrap()["vkey"].as_str().unwrap().to_string()
}

#[test]
fn a_witness_cosigns_a_growing_log_refuses_a_fork_and_bundles_carry_it() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let first = ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"]);
    let id = first["session"].as_str().unwrap().to_string();
    let key = key_of(&data);
    let w = d.path().join("w1");
    let w1 = vkey(&w, "witness.test/w1");
    assert!(w1.starts_with("witness.test/w1+"), "{w1}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(w.join("witness.ed25519"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let ws = w.to_str().unwrap();

    // The archive's checkpoint is a C2SP signed note (a manifest and its ingest event: size 2).
    let (_, v) = run(&data, &["log", "checkpoint"]);
    let note = v.unwrap()["checkpoint"].as_str().unwrap().to_string();
    let lines: Vec<&str> = note.lines().collect();
    assert!(
        lines[0].starts_with("liveproof/") && lines[1] == "2",
        "{note}"
    );
    assert!(
        lines[3].is_empty() && lines[4].starts_with("\u{2014} liveproof/"),
        "{note}"
    );

    // Cosign size 1 from the archive directory, then size 2 over HTTP.
    let (o, v) = witness(&[
        "cosign",
        "--state",
        ws,
        "--log-key",
        &key,
        "--archive",
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let size1 = v.unwrap()["size"].as_u64().unwrap();
    let other = d.path().join("other.wav");
    speech_in_silence(&fixture("jfk.wav"), 1, 1, &other, &[]);
    ingest(&data, &other, &["--model", "tiny.en"]);
    let server = start(&data, &[]);
    let (o, v) = witness(&[
        "cosign",
        "--state",
        ws,
        "--log-key",
        &key,
        "--url",
        &server.1,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = v.unwrap();
    assert!(v["size"].as_u64().unwrap() > size1);
    assert_eq!(v["previous_size"].as_u64(), Some(size1));
    let (status, body) = common::server::get(&server.1, "/api/log/checkpoint", None);
    assert_eq!(status, 200);
    assert!(String::from_utf8(body)
        .unwrap()
        .contains("\u{2014} witness.test/w1 "));

    // A bundle carries the cosigned checkpoint; verify names the witnesses it was told to trust.
    let b = d.path().join("b.zip");
    export_bundle(&data, &id, "0", "5", &b, &[]);
    assert!(members(&b).contains_key("witnessed.json"));
    let (code, v) = verify_json(&data, &b, &["--witness", &w1]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["witnessed_by"], serde_json::json!(["witness.test/w1"]));
    let (code, v) = verify_json(&data, &b, &[]);
    assert_eq!(code, 0, "{v:#}");
    // A witness that never cosigned does not count.
    let w2 = vkey(&d.path().join("w2"), "witness.test/w2");
    let (code, v) = verify_json(&data, &b, &["--witness", &w2]);
    assert_eq!(code, 5);
    // The independent verifier reads the cosignatures the same way.
    for (args, expect) in [
        (vec!["--key", key.as_str(), "--witness", w1.as_str()], 0),
        (vec!["--key", key.as_str(), "--witness", w2.as_str()], 5),
        (vec!["--key", key.as_str()], 0),
    ] {
        let (py, pv) = common::independent::lpverify(&b, &args);
        let (rs, rv) = verify_json(&data, &b, &args);
        assert_eq!(
            (py, common::independent::failed_checks(&pv)),
            (rs, common::independent::failed_checks(&rv)),
            "{args:?}"
        );
        assert_eq!(py, expect);
    }
    let failed: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, vec!["log.witnessed"]);

    // A fork: the same archive key, another history. The witness refuses and keeps its state.
    let fork = d.path().join("fork");
    std::fs::create_dir_all(fork.join("keys")).unwrap();
    std::fs::copy(
        data.join("keys/archive.ed25519"),
        fork.join("keys/archive.ed25519"),
    )
    .unwrap();
    let third = d.path().join("third.wav");
    speech_in_silence(&fixture("jfk.wav"), 2, 0, &third, &[]);
    ingest(&fork, &third, &["--model", "tiny.en"]);
    ingest(&fork, &other, &["--model", "tiny.en"]);
    assert_eq!(key_of(&fork), key);
    let state = std::fs::read(w.join("state.json")).unwrap();
    let (o, _) = witness(&[
        "cosign",
        "--state",
        ws,
        "--log-key",
        &key,
        "--archive",
        fork.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("different history"));
    ingest(
        &fork,
        &fixture("aishell_BAC009S0724W0121.wav"),
        &["--model", "tiny.en"],
    );
    let (o, _) = witness(&[
        "cosign",
        "--state",
        ws,
        "--log-key",
        &key,
        "--archive",
        fork.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not extend"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read(w.join("state.json")).unwrap(),
        state,
        "a refusal changes nothing"
    );
    // A checkpoint signed by another key is refused too.
    let stranger = key_of(&d.path().join("stranger"));
    let (o, _) = witness(&[
        "cosign",
        "--state",
        ws,
        "--log-key",
        &stranger,
        "--url",
        &server.1,
    ]);
    assert_eq!(o.status.code(), Some(5));
    // The archive keeps only cosignatures of its own heads.
    let (status, _) = common::server::post(&server.1, "/api/log/cosignatures", None, b"not a note");
    assert_eq!(status, 400);
}
