//! The platform on real engines (issue 21): PostgreSQL and SeaweedFS started on loopback by
//! `scripts/platform-services.sh`, two API nodes (`serve --catalog --blobs`, each with its own
//! data directory and index) and two `liveproof worker`s, one killed with SIGKILL while it
//! holds a task.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use common::server::{agent, get};
use common::{bin, require_model, speak};
use serde_json::Value;

/// PostgreSQL and SeaweedFS for one test, stopped when dropped: (directory, catalog, blobs).
struct Services(PathBuf, String, String);

impl Drop for Services {
    fn drop(&mut self) {
        let _ = script().arg("stop").arg(&self.0).status();
    }
}

fn script() -> Command {
    let mut c = Command::new("bash");
    c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/platform-services.sh"));
    c
}

fn services(dir: &Path) -> Services {
    let out = script().arg("start").arg(dir).output().unwrap();
    assert!(
        out.status.success(),
        "platform-services.sh start failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env = String::from_utf8(out.stdout).unwrap();
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} missing in {env}"))
            .to_string()
    };
    Services(
        dir.to_path_buf(),
        var("LIVEPROOF_CATALOG"),
        var("LIVEPROOF_BLOBS"),
    )
}

/// A running process, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a worker with a lease of `lease_secs`, whose JSON lines are collected as they come.
fn worker(s: &Services, name: &str, lease_secs: &str) -> (Running, Arc<Mutex<Vec<Value>>>) {
    let mut child = bin()
        .args(["worker", "--json", "--threads", "1", "--poll-ms", "100"])
        .args(["--lease-secs", lease_secs, "--name", name])
        .args(["--catalog", &s.1, "--blobs", &s.2])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let out = child.stdout.take().unwrap();
    let sink = lines.clone();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&l) {
                sink.lock().unwrap().push(v);
            }
        }
    });
    (Running(child), lines)
}

/// Runs the CLI on `data` against the shared catalog and bucket, with `--json`.
fn on(s: &Services, data: &Path, args: &[&str]) -> (std::process::Output, Option<Value>) {
    let o = bin()
        .args(args)
        .args(["--json", "--catalog", &s.1, "--blobs", &s.2, "--data"])
        .arg(data)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&o.stdout).ok();
    (o, v)
}

fn log_head(s: &Services, data: &Path) -> Value {
    let (o, v) = on(s, data, &["log", "head"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    v.unwrap()
}

#[test]
fn two_api_nodes_two_workers_one_killed_six_uploads_six_sessions_verified_and_found_on_both() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let s = services(&d.path().join("engines"));
    // Two API nodes, each with its own data directory (local caches and its own index), one
    // catalog and one bucket; both seal, with the one archive key.
    let (data_a, data_b) = (d.path().join("api-a"), d.path().join("api-b"));
    let (o, _) = on(&s, &data_a, &["key", "show"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::create_dir_all(data_b.join("keys")).unwrap();
    std::fs::copy(
        data_a.join("keys/archive.ed25519"),
        data_b.join("keys/archive.ed25519"),
    )
    .unwrap();
    let (o, token) = on(&s, &data_a, &["token", "create", "--role", "consumer"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let uploader = token.unwrap()["token"].as_str().unwrap().to_string();
    let flags = ["--rate-limit", "100000", "--catalog", &s.1, "--blobs", &s.2];
    let logs = [d.path().join("api-a.log"), d.path().join("api-b.log")];
    let api_a = common::server::start_logged(&data_a, &flags, &logs[0]);
    let api_b = common::server::start_logged(&data_b, &flags, &logs[1]);
    let bases = [api_a.1.clone(), api_b.1.clone()];
    for (base, log) in bases.iter().zip(&logs) {
        // Readiness is a probe an orchestrator repeats; on a busy machine the engines may
        // answer a moment later (bounded by attempts, not a time budget).
        let mut last = (0, Value::Null);
        for _ in 0..120 {
            let (st, body) = get(base, "/api/ready", None);
            last = (st, serde_json::from_slice(&body).unwrap());
            if st == 200 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        let (st, ready) = last;
        assert_eq!(
            (st, &ready["checks"]["platform"]),
            (200, &Value::from("ok")),
            "{ready}; the server's log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    // Six recordings, each with its own word, long enough that a worker is killed mid-task;
    // uploaded to the two nodes in turn (the token was made on node A: one catalog).
    let words = ["coffee", "garden", "kitchen", "window", "jacket", "river"];
    let mut jobs = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let wav = d.path().join(format!("{w}.wav"));
        let sentence = format!(
            "Today we talk about the {w}. The {w} is on sale in this room tonight. \
             Everyone who buys a {w} before midnight gets a second one for free. "
        );
        speak(&wav, &sentence.repeat(3));
        let base = &bases[i % 2];
        let (status, v) = upload(base, &uploader, &wav, &format!("{w}.wav"));
        assert_eq!(status, 202, "{v}");
        jobs.push(v["job"].as_i64().unwrap());
    }
    let (victim, victim_lines) = worker(&s, "victim", "3");
    let mut victim = Some(victim);
    let (_survivor, survivor_lines) = worker(&s, "survivor", "3");

    let mut head_before_kill = None;
    let mut sessions = Vec::new();
    for _ in 0..6000 {
        // Every job is read on the other node than the one that took its upload.
        let states: Vec<Value> = jobs
            .iter()
            .enumerate()
            .map(|(i, j)| {
                let (st, body) = get(
                    &bases[(i + 1) % 2],
                    &format!("/api/jobs/{j}"),
                    Some(&uploader),
                );
                assert_eq!(st, 200);
                serde_json::from_slice(&body).unwrap()
            })
            .collect();
        for j in &states {
            assert_ne!(j["status"], "failed", "{j}");
        }
        let done = states.iter().filter(|j| j["status"] == "done").count();
        // Kill the victim while it holds a task, once the log has a head to be consistent with.
        if victim.is_some() && done >= 1 {
            let lines = victim_lines.lock().unwrap();
            let leased = lines.iter().filter(|v| v["step"] == "leased").count();
            let finished = lines.iter().filter(|v| v["step"] == "done").count();
            if leased > finished {
                head_before_kill = Some(log_head(&s, &data_a));
                let mut v = victim.take().unwrap();
                // SAFETY: kill(2) on our own child's pid.
                unsafe { libc::kill(v.0.id() as i32, libc::SIGKILL) };
                let _ = v.0.wait();
            }
        }
        if done == jobs.len() {
            sessions = states
                .iter()
                .map(|j| j["session"].as_str().unwrap().to_string())
                .collect();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(sessions.len(), 6, "every job finished");
    let before = head_before_kill.expect("the victim was killed holding a task");
    // The task the victim died on was leased again by the survivor, after its lease ran out.
    let orphan = victim_lines
        .lock()
        .unwrap()
        .iter()
        .rfind(|v| v["step"] == "leased")
        .map(|v| v["task"].clone())
        .unwrap();
    let retried = survivor_lines
        .lock()
        .unwrap()
        .iter()
        .find(|v| v["step"] == "done" && v["task"] == orphan)
        .cloned();
    assert!(
        retried.is_some(),
        "the survivor finished the victim's task {orphan}"
    );

    // Exactly six sessions, each logged once (its manifest and its ingest custody event), the
    // same on both nodes: one catalog, one log, one signer.
    let mut unique = sessions.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 6);
    for data in [&data_a, &data_b] {
        let (o, v) = on(&s, data, &["sessions"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(v.unwrap()["total"], 6);
    }
    let after = log_head(&s, &data_a);
    assert_eq!(
        after["size"], 12,
        "two log entries per session, no more: {after}"
    );
    assert_eq!(after, log_head(&s, &data_b), "one log");
    // Each session's manifest is in that log, proven on either node.
    for (i, session) in sessions.iter().enumerate() {
        let (o, p) = on(
            &s,
            if i % 2 == 0 { &data_b } else { &data_a },
            &["log", "prove", session],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let p: liveproof_verify::log::Inclusion = serde_json::from_value(p.unwrap()).unwrap();
        liveproof_verify::log::verify_inclusion(&p).unwrap();
    }

    // The head seen before the kill is a prefix of the head after it.
    let (o, c) = on(
        &s,
        &data_b,
        &[
            "log",
            "consistency",
            &before["size"].to_string(),
            &after["size"].to_string(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c: liveproof_verify::log::Consistency = serde_json::from_value(c.unwrap()).unwrap();
    liveproof_verify::log::verify_consistency(&c).unwrap();
    assert_eq!(Value::String(c.old.root.clone()), before["root"]);

    for (i, (w, session)) in words.iter().zip(&sessions).enumerate() {
        // Found by search on every API node (each follows the catalog into its own index)...
        for base in &bases {
            let mut found = false;
            for _ in 0..100 {
                let (st, body) = get(base, &format!("/api/search?q={w}"), Some(&uploader));
                assert_eq!(st, 200);
                let hits: Value = serde_json::from_slice(&body).unwrap();
                found = hits["hits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|h| h["session"] == session.as_str());
                if found {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            assert!(found, "{w} ({session}) not found on {base}");
        }
        // ...and its evidence bundle, exported on the node that did not seal it, verifies.
        let data = if i % 2 == 0 { &data_b } else { &data_a };
        let bundle = d.path().join(format!("{w}.zip"));
        let (o, _) = on(
            &s,
            data,
            &[
                "evidence",
                session,
                "--from",
                "0:00",
                "--to",
                "0:05",
                "-o",
                bundle.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (code, verdict) = common::verify_json(data, &bundle, &[]);
        assert_eq!(code, 0, "{verdict}");
    }

    // A deletion on one node is followed by the other: gone from its search, its files gone
    // from the bucket, the tombstone readable there.
    let (gone_word, gone) = (words[0], &sessions[0]);
    let (o, _) = on(
        &s,
        &data_a,
        &["delete", gone, "--reason", "test of deletion"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut still_found = true;
    for _ in 0..100 {
        let (_, body) = get(
            &bases[1],
            &format!("/api/search?q={gone_word}"),
            Some(&uploader),
        );
        let hits: Value = serde_json::from_slice(&body).unwrap();
        still_found = hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["session"] == gone.as_str());
        if !still_found {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!still_found, "node B still finds the deleted {gone}");
    let (o, t) = on(&s, &data_b, &["tombstone", gone]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(t.is_some());
    let endpoint = s.2.split("endpoint=").nth(1).unwrap().to_string();
    let in_bucket = |session: &str| {
        let url = format!("{endpoint}/liveproof/sessions/{session}/manifest.json");
        agent().get(&url).call().unwrap().status().as_u16()
    };
    assert_eq!(
        in_bucket(&sessions[1]),
        200,
        "session files are in the bucket"
    );
    assert_eq!(
        in_bucket(gone),
        404,
        "a deleted session's files leave the bucket"
    );

    // PostgreSQL and the bucket go away: the public probe says which checks fail, without
    // naming hosts or paths (the server's log has the cause).
    let _ = script().arg("stop").arg(&s.0).status();
    let (st, body) = get(&bases[0], "/api/ready", None);
    let ready: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(st, 503, "{ready}");
    assert_ne!(ready["checks"]["archive"], "ok", "{ready}");
    assert_ne!(ready["checks"]["platform"], "ok", "{ready}");
    assert!(!ready.to_string().contains("127.0.0.1"), "{ready}");
}

fn upload(base: &str, token: &str, file: &Path, name: &str) -> (u16, Value) {
    let bytes = std::fs::read(file).unwrap();
    let mut resp = agent()
        .post(&format!("{base}/api/uploads?name={name}&lang=en"))
        .header("Authorization", &format!("Bearer {token}"))
        .send(&bytes[..])
        .unwrap();
    (
        resp.status().as_u16(),
        serde_json::from_slice(&resp.body_mut().read_to_vec().unwrap()).unwrap_or(Value::Null),
    )
}

fn tasks(s: &Services) -> Value {
    let o = bin()
        .args(["tasks", "--json", "--catalog", &s.1, "--blobs", &s.2])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn sigterm_gives_the_task_back_and_the_same_work_is_never_done_twice() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let s = services(&d.path().join("engines"));
    let wav = d.path().join("long.wav");
    speak(
        &wav,
        &"The blender is on sale tonight, and the price will never be lower. ".repeat(12),
    );
    // A sealing node waits for the platform to transcribe.
    let ingest = |data: &Path| {
        bin()
            .args(["ingest", "--lang", "en", "--model", "tiny.en", "--json"])
            .args(["--catalog", &s.1, "--blobs", &s.2, "--data"])
            .arg(data)
            .arg(&wav)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // Workers resolve models by name: a model file of this machine is refused before queueing.
    let o = bin()
        .args(["ingest", "--lang", "en", "--model", "/tmp/ggml-mine.bin"])
        .args(["--catalog", &s.1, "--blobs", &s.2, "--data"])
        .arg(d.path().join("node-x"))
        .arg(&wav)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("installable model name"));
    assert_eq!(tasks(&s)["tasks"].as_array().unwrap().len(), 0);

    let first = Running(ingest(&d.path().join("node-a")));
    // A worker with a long lease: only its own shutdown can put the task back in time.
    let (mut w, lines) = worker(&s, "patient", "600");
    for _ in 0..3000 {
        if lines.lock().unwrap().iter().any(|v| v["step"] == "leased") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(tasks(&s)["counts"]["leased"], 1);
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(w.0.id() as i32, libc::SIGTERM) };
    let status = w.0.wait().unwrap();
    assert!(
        status.success(),
        "a worker told to stop exits cleanly: {status:?}"
    );
    let t = tasks(&s);
    assert_eq!(t["counts"]["queued"], 1, "{t}");
    assert_eq!(
        t["tasks"][0]["attempts"], 0,
        "a returned lease is not an attempt: {t}"
    );

    // Another worker drains the queue; the waiting ingest seals the session.
    let o = bin()
        .args(["worker", "--json", "--threads", "1", "--drain"])
        .args(["--catalog", &s.1, "--blobs", &s.2])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut first = first;
    let out = {
        let mut buf = String::new();
        std::io::Read::read_to_string(first.0.stdout.as_mut().unwrap(), &mut buf).unwrap();
        buf
    };
    assert!(first.0.wait().unwrap().success());
    let a: Value = serde_json::from_str(&out).unwrap();
    assert!(!a["already_archived"].as_bool().unwrap());

    // A second sealing node archiving the same bytes with the same settings finds the task
    // done: no worker runs, the transcript is the same.
    let mut second = ingest(&d.path().join("node-b"));
    let mut out = String::new();
    std::io::Read::read_to_string(second.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(second.wait().unwrap().success());
    let b: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(a["session"], b["session"]);
    assert!(b["already_archived"].as_bool().unwrap(), "one catalog: {b}");
    let t = tasks(&s);
    assert_eq!(t["counts"]["done"], 1, "one task for the same work: {t}");
    assert_eq!(t["tasks"].as_array().unwrap().len(), 1);
    let root = |node: &str, session: &Value| {
        let (_, m) = on(
            &s,
            &d.path().join(node),
            &["show", session.as_str().unwrap()],
        );
        m.unwrap()["transcript_root"].clone()
    };
    assert_eq!(root("node-a", &a["session"]), root("node-b", &b["session"]));

    // The rest of the catalog lives in PostgreSQL too: a hold placed on one node stops a
    // deletion on the other; tokens made on one are listed and revoked on the other.
    let id = a["session"].as_str().unwrap();
    let (na, nb) = (d.path().join("node-a"), d.path().join("node-b"));
    let (o, _) = on(&s, &na, &["hold", id, "--reason", "a complaint is pending"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (o, _) = on(&s, &nb, &["delete", id, "--reason", "retention"]);
    assert!(!o.status.success(), "a held session is not deleted");
    assert!(String::from_utf8_lossy(&o.stderr).contains("hold"));
    let (o, _) = on(&s, &na, &["release", id, "--reason", "settled"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Node B never got node A's archive key: it may read the log, never sign into it.
    let (o, _) = on(&s, &nb, &["hold", id, "--reason", "from the wrong node"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("same archive key"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let (o, t) = on(&s, &na, &["token", "create", "--role", "auditor"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let token_id = t.unwrap()["id"].as_i64().unwrap();
    let (o, _) = on(&s, &nb, &["token", "revoke", &token_id.to_string()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, list) = on(&s, &na, &["token", "list"]);
    let list = list.unwrap();
    let revoked = list
        .as_array()
        .or_else(|| list["tokens"].as_array())
        .unwrap()
        .iter()
        .any(|t| t["id"] == token_id && t["status"] == "revoked");
    assert!(revoked, "{list}");
    // The hold and the release are custody events in the one log, after the ingest's two.
    let (o, head) = on(&s, &na, &["log", "head"]);
    assert!(o.status.success());
    assert_eq!(
        head.unwrap()["size"],
        4,
        "ingest's two entries, the hold and the release"
    );
}
