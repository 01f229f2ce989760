//! Crash safety: 100 SIGKILLs (at every named crash point of ingest, log append and index
//! commit, and at random instants), restarting each time. After every kill no session is
//! half-visible, the log is consistent with every tree head seen before, no original is lost,
//! and re-running the ingest completes.

mod common;
use common::*;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

fn json_of(data: &Path, args: &[&str]) -> Value {
    let (o, v) = run(data, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    v.unwrap()
}

/// The invariants that must hold after any kill; returns the catalogued session ids.
/// Earlier heads are checked a sample at a time (first, last, every tenth); `all` checks each.
fn check(data: &Path, heads: &[Value], all: bool) -> HashSet<String> {
    let sessions = json_of(data, &["sessions"]);
    let mut ids = HashSet::new();
    for s in sessions["sessions"].as_array().unwrap() {
        let id = s["session"].as_str().unwrap().to_string();
        let sha = s["recording_sha256"].as_str().unwrap();
        // Catalogued means whole: original intact, manifest, signature and transcript present.
        let bytes =
            std::fs::read(blob_of(data, sha)).expect("a catalogued session has its original");
        assert_eq!(liveproof::hashing::sha256_hex(&bytes), sha);
        let dir = data.join("sessions").join(&id);
        for f in ["manifest.json", "manifest.sig", "transcript.json"] {
            assert!(dir.join(f).is_file(), "{id} lacks {f}");
        }
        ids.insert(id);
    }
    // The log has exactly two entries per catalogued session, and its newest head verifies.
    let size = if ids.is_empty() {
        let (o, _) = run(data, &["log", "head"]);
        assert!(!o.status.success(), "an empty catalog has an empty log");
        0
    } else {
        json_of(data, &["log", "head"])["size"].as_u64().unwrap()
    };
    // Each session is two entries written in one transaction: its manifest and its ingest event.
    assert_eq!(
        size as usize,
        2 * ids.len(),
        "log size = 2 × catalogued sessions"
    );
    // Every earlier head we saw is a prefix of today's log, with the root we saw then.
    let last = heads.len().saturating_sub(1);
    for (i, old) in heads.iter().enumerate() {
        if !(all || i == 0 || i == last || i % 10 == 0) {
            continue;
        }
        let old_size = old["size"].as_u64().unwrap();
        if old_size == 0 || old_size > size {
            continue;
        }
        let c = json_of(
            data,
            &[
                "log",
                "consistency",
                &old_size.to_string(),
                &size.to_string(),
            ],
        );
        // The command fails unless the proof verifies; the old head must be the one we saw.
        assert_eq!(&c["old"], old, "the log was rewritten");
    }
    // Search shows no session the catalog lacks, and (after its catch-up) every one it has.
    let mut found = HashSet::new();
    for offset in (0..=9_800).step_by(200) {
        let page = json_of(
            data,
            &[
                "search",
                "fellow",
                "--limit",
                "200",
                "--offset",
                &offset.to_string(),
            ],
        );
        let hits = page["hits"].as_array().unwrap();
        found.extend(
            hits.iter()
                .map(|h| h["session"].as_str().unwrap().to_string()),
        );
        if hits.len() < 200 {
            break;
        }
    }
    assert!(found.is_subset(&ids), "index shows uncatalogued sessions");
    ids
}

fn spawn_ingest(data: &Path, file: &Path, crash_at: Option<&str>) -> std::process::Child {
    let mut c = bin();
    c.args([
        "ingest",
        file.to_str().unwrap(),
        "--model",
        "tiny.en",
        "--json",
        "--data",
    ])
    .arg(data)
    .env("LIVEPROOF_THREADS", "1")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(p) = crash_at {
        c.env("LIVEPROOF_CRASH_AT", p);
    }
    c.spawn().unwrap()
}

#[test]
fn a_hundred_kills_during_ingest_log_append_and_index_commit_lose_nothing() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let mut heads: Vec<Value> = Vec::new();
    let mut archived: HashSet<String> = HashSet::new();
    let mut kills = 0;
    let mut n = 0;
    // A deterministic spread of kill delays (ms), so failures reproduce.
    let mut delay = 7u64;
    while kills < 100 {
        n += 1;
        let file = jfk_variant(d.path(), n);
        let before = std::fs::read(&file).unwrap();
        let points = liveproof::fault::POINTS;
        let (child, injected) = if n % 2 == 0 {
            let p = points[(n / 2) % points.len()];
            (spawn_ingest(&data, &file, Some(p)), Some(p))
        } else {
            (spawn_ingest(&data, &file, None), None)
        };
        let mut child = child;
        if injected.is_none() {
            delay = (delay * 37 + 11) % 1900;
            std::thread::sleep(Duration::from_millis(30 + delay));
            let _ = child.kill(); // SIGKILL
        }
        let out = child.wait_with_output().unwrap();
        let killed = !out.status.success();
        if killed {
            kills += 1;
            assert!(
                out.status.code().is_none(),
                "died by a signal, not an error: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let ids = check(&data, &heads, false);
        assert!(archived.is_subset(&ids), "a committed session disappeared");
        // The input is never touched.
        assert_eq!(std::fs::read(&file).unwrap(), before);
        // Re-running completes and the session is then searchable.
        let s = ingest(&data, &file, &["--model", "tiny.en"]);
        let id = s["session"].as_str().unwrap().to_string();
        archived.insert(id.clone());
        let ids = check(&data, &heads, false);
        assert!(ids.contains(&id));
        let hits = json_of(&data, &["search", "fellow", "--session", &id]);
        assert!(
            !hits["hits"].as_array().unwrap().is_empty(),
            "{id} is archived but not searchable after a kill at {injected:?}"
        );
        heads.push(json_of(&data, &["log", "head"]));
    }
    assert!(files_under(&data, "tmp").is_empty(), "staging leftovers");
    check(&data, &heads, true);
    let all = assert_consistent(&data);
    assert_eq!(all.len(), archived.len());
}
