//! `liveproof watch` on recorder-like folders made here: DouyinLiveRecorder segments of one
//! room (the newest still being written, one cut short), a BililiveRecorder room, a kill and a
//! restart; then `broadcasts` and `ingest` of a folder. Real FLV/TS from ffmpeg, real Whisper.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use common::*;
use serde_json::Value;

/// An FLV (AAC) of the JFK clip's first 4 s plus `n` samples of silence: distinct bytes.
fn flv(dir: &Path, n: usize, out: &Path) {
    let wav = jfk_variant(dir, n);
    ffmpeg(&wav, out, &["-c:a", "aac", "-b:a", "64k", "-f", "flv"]);
}

fn age(path: &Path, secs: u64) {
    let t = SystemTime::now() - Duration::from_secs(secs);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// Runs `watch DIR --once --json` with the given extra flags; one JSON object per line.
fn watch_once(data: &Path, dir: &Path, extra: &[&str]) -> Vec<Value> {
    let out = bin()
        .args([
            "watch",
            dir.to_str().unwrap(),
            "--once",
            "--json",
            "--model",
            "tiny.en",
        ])
        .args(["--lang", "en", "--data", data.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "watch failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn state_of<'a>(lines: &'a [Value], file: &str) -> Option<&'a Value> {
    lines
        .iter()
        .find(|v| v["path"].as_str().is_some_and(|p| p.ends_with(file)))
}

#[test]
fn watch_ingests_finished_segments_only_and_a_restart_repeats_nothing() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let rec = d.path().join("downloads");
    let douyin = rec.join("抖音直播").join("好物小店");
    let bili = rec.join("21452505-七海");
    std::fs::create_dir_all(&douyin).unwrap();
    std::fs::create_dir_all(&bili).unwrap();
    // DouyinLiveRecorder names every segment of a run with the run's start and a number.
    let seg = |n: u32| douyin.join(format!("好物小店_2026-05-01_20-00-00_{n:03}.flv"));

    // Segment 0 finished; segment 1 cut short (the recorder was killed), segment 2 being
    // written: its bytes are a prefix of a whole FLV and it changed a moment ago.
    flv(d.path(), 100, &seg(0));
    // A Douyin-style fetcher's comments beside segment 0, in the JSONL format.
    std::fs::write(
        seg(0).with_extension("jsonl"),
        "{\"t_ms\": 1000, \"kind\": \"chat\", \"user\": \"u1\", \"text\": \"想买\"}\n",
    )
    .unwrap();
    let whole = d.path().join("whole1.flv");
    flv(d.path(), 200, &whole);
    let bytes = std::fs::read(&whole).unwrap();
    std::fs::write(seg(1), &bytes[..bytes.len() * 2 / 3]).unwrap();
    let growing = seg(2);
    flv(d.path(), 300, &growing);
    let full = std::fs::read(&growing).unwrap();
    std::fs::write(&growing, &full[..full.len() / 2]).unwrap();
    // A Bilibili room's only recording, its recorder long done.
    let b = bili.join("录制-21452505-20260501-200005-123-今晚好物.flv");
    flv(d.path(), 400, &b);
    std::fs::write(
        bili.join("录制-21452505-20260501-200005-123-今晚好物.xml"),
        r#"<i><d p="1.25,1,25,16777215,0,0,ab,0" user="观众">主播这个真的最低价吗</d></i>"#,
    )
    .unwrap();
    for p in [seg(0), seg(1)] {
        age(&p, 120);
    }
    age(&b, 7200);

    let lines = watch_once(&data, &rec, &["--settle-secs", "30"]);
    let st = |f: &str| state_of(&lines, f).map(|v| v["state"].as_str().unwrap().to_string());
    assert_eq!(st("_000.flv").as_deref(), Some("ingested"), "{lines:#?}");
    let cut = state_of(&lines, "_001.flv").unwrap();
    assert_eq!(cut["state"], "ingested", "{lines:#?}");
    assert!(
        cut["detail"].as_str().unwrap().contains("cut short"),
        "{cut}"
    );
    assert_eq!(st("_002.flv").as_deref(), Some("waiting"));
    assert_eq!(st("今晚好物.flv").as_deref(), Some("ingested"));

    // The cut is in the manifest; the naming gave the metadata.
    let sid = cut["session"].as_str().unwrap();
    let (_, show) = run(&data, &["show", sid]);
    let show = show.unwrap();
    assert_eq!(show["metadata"]["platform"], "douyin");
    assert_eq!(show["metadata"]["room"], "好物小店");
    assert_eq!(show["metadata"]["segment"], 1);
    // Segment 1 starts where segment 0 ended; the run's start is kept as well.
    let zero = state_of(&lines, "_000.flv").unwrap()["session"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, zshow) = run(&data, &["show", &zero]);
    let zshow = zshow.unwrap();
    let d0 = zshow["duration_ms"].as_i64().unwrap();
    let run_start = chrono::DateTime::parse_from_rfc3339("2026-05-01T20:00:00+08:00").unwrap();
    assert_eq!(zshow["metadata"]["started_at"], run_start.to_rfc3339());
    assert_eq!(
        show["metadata"]["started_at"],
        (run_start + chrono::Duration::milliseconds(d0)).to_rfc3339()
    );
    assert_eq!(
        show["metadata"]["recording_started_at"],
        run_start.to_rfc3339()
    );
    assert!(
        show["decode_warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("truncated"),
        "the cut is recorded: {show}"
    );

    // BililiveRecorder's comments beside the recording are sealed with it.
    let bsid = state_of(&lines, "今晚好物.flv").unwrap()["session"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, bshow) = run(&data, &["show", &bsid]);
    assert_eq!(bshow.unwrap()["comments"]["count"], 1);
    assert_eq!(zshow["comments"]["source_format"], "jsonl");

    // A restart repeats nothing; the segment still being written still waits.
    let again = watch_once(&data, &rec, &["--settle-secs", "30"]);
    assert_eq!(
        again
            .iter()
            .map(|v| v["state"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["waiting"],
        "{again:#?}"
    );

    // The watcher keeps going: the recorder finishes segment 2 and starts segment 3; killed
    // mid-way and restarted, the finished segment is archived once.
    let mut child = bin()
        .args([
            "watch",
            rec.to_str().unwrap(),
            "--json",
            "--model",
            "tiny.en",
            "--lang",
            "en",
        ])
        .args([
            "--settle-secs",
            "3",
            "--poll-secs",
            "1",
            "--data",
            data.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::fs::write(&growing, &full).unwrap();
    // The recorder's next segment is an MPEG-TS file.
    let ts = douyin.join("好物小店_2026-05-01_20-00-00_003.ts");
    ffmpeg(
        &jfk_variant(d.path(), 500),
        &ts,
        &["-c:a", "aac", "-f", "mpegts"],
    );
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut got = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
            let done = v["path"].as_str().unwrap().ends_with("_002.flv") && v["state"] != "waiting";
            got.push(v);
            if done {
                break;
            }
        }
        got
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    while !reader.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let got = reader.join().unwrap();
    let two = got.last().expect("segment 2 handled");
    assert_eq!(two["state"], "ingested", "{got:#?}");
    assert!(two["detail"].is_null(), "a whole segment is not cut: {two}");

    let after = watch_once(&data, &rec, &["--settle-secs", "30"]);
    assert!(
        after
            .iter()
            .all(|v| v["path"].as_str().unwrap().ends_with("_003.ts")),
        "only the newest segment is left: {after:#?}"
    );

    // One broadcast for the Douyin room (segments 0-2), one for the Bilibili room.
    let (_, b) = run(&data, &["broadcasts"]);
    let b = b.unwrap();
    let list = b["broadcasts"].as_array().unwrap();
    let room = list
        .iter()
        .find(|x| x["room"] == "好物小店")
        .expect("the Douyin room's broadcast");
    assert_eq!(room["sessions"].as_array().unwrap().len(), 3, "{b:#}");
    assert_eq!(room["platform"], "douyin");
    assert_eq!(room["started_at"], "2026-05-01T20:00:00+08:00");
    assert_eq!(room["offsets_ms"][1], d0);
    let bili_b = list.iter().find(|x| x["room"] == "21452505").unwrap();
    assert_eq!(bili_b["host"], "七海");
    assert_eq!(bili_b["sessions"].as_array().unwrap().len(), 1);
    // Hits and reports give broadcast time; a report may cover the whole broadcast.
    let one = cut["session"].as_str().unwrap();
    let (_, v) = run(&data, &["search", "Americans", "--session", one]);
    let v = v.unwrap();
    assert_eq!(v["hits"][0]["broadcast"], room["broadcast"], "{v}");
    let at = v["hits"][0]["broadcast_ms"].as_u64().unwrap();
    assert_eq!(at, d0 as u64 + v["hits"][0]["start_ms"].as_u64().unwrap());
    let (_, r) = run(&data, &["report", one]);
    assert_eq!(r.unwrap()["broadcast"]["offset_ms"], d0);
    let (_, r) = run(&data, &["report", one, "--broadcast"]);
    let r = r.unwrap();
    assert_eq!(r["session"], room["broadcast"]);
    assert_eq!(r["broadcast"]["sessions"].as_array().unwrap().len(), 3);
    assert_eq!(r["broadcast"]["duration_ms"], room["duration_ms"]);

    // Four sessions, each once; every one whole in the archive.
    assert_eq!(assert_consistent(&data).len(), 4);
}

#[test]
fn ingest_takes_several_files_or_a_folder() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let folder = d.path().join("in");
    std::fs::create_dir(&folder).unwrap();
    let files: Vec<PathBuf> = (0..2)
        .map(|i| {
            let p = folder.join(format!("part{i}.ts"));
            let wav = jfk_variant(d.path(), 50 + i);
            ffmpeg(&wav, &p, &["-c:a", "aac", "-f", "mpegts"]);
            p
        })
        .collect();
    std::fs::write(folder.join("notes.txt"), "not a recording").unwrap();
    let (out, v) = run(
        &data,
        &[
            "ingest",
            folder.to_str().unwrap(),
            "--model",
            "tiny.en",
            "--progress",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = v.unwrap();
    assert_eq!(v["ingested"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["failed"].as_array().unwrap().len(), 0);
    // --progress json: one JSON object per line on stderr, naming the file.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let progress: Vec<Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(progress
        .iter()
        .any(|p| p["file"].as_str().unwrap().ends_with("part1.ts")));
    assert!(progress.iter().any(|p| p["phase"] == "transcribing"));

    // Several files, one of them bad: the good one is archived, the exit code says bad input.
    let bad = d.path().join("bad.flv");
    std::fs::write(&bad, b"FLV not really").unwrap();
    let (out, v) = run(
        &data,
        &[
            "ingest",
            files[0].to_str().unwrap(),
            bad.to_str().unwrap(),
            "--model",
            "tiny.en",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let v = v.unwrap();
    assert_eq!(v["ingested"][0]["already_archived"], true);
    assert!(v["failed"][0]["file"]
        .as_str()
        .unwrap()
        .ends_with("bad.flv"));

    // watch: a model that is not installed stops it at once (exit 4), not on every pass; a
    // folder that does not exist is bad input (exit 3).
    let (out, _) = run(
        &data,
        &["watch", folder.to_str().unwrap(), "--model", "nosuch"],
    );
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gone = d.path().join("gone");
    let (out, _) = run(&data, &["watch", gone.to_str().unwrap(), "--once"]);
    assert_eq!(out.status.code(), Some(3));
}
