//! `liveproof report`: digital-host verdict, disclosure with evidence, and the claims section.

mod common;
use common::*;
use serde_json::Value;

fn has_finding(r: &Value, name: &str) -> bool {
    r["findings"].as_array().unwrap().iter().any(|f| f == name)
}

fn report(data: &std::path::Path, id: &str) -> Value {
    let (o, v) = run(data, &["report", id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    v.unwrap()
}

#[test]
fn a_human_session_without_metadata_has_no_digital_host() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let s = ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"]);
    let r = report(&data, s["session"].as_str().unwrap());
    assert_eq!(r["digital_host"], "none");
    assert_eq!(r["disclosure"], "n/a");
    assert!(r["signals"].as_array().unwrap().is_empty());
    assert!(!has_finding(&r, "undisclosed_digital_host"));
}

#[test]
fn a_declared_digital_host_without_spoken_disclosure_is_undisclosed() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let meta = d.path().join("m.json");
    std::fs::write(
        &meta,
        r#"{"platform":"douyin","host_kind":"digital_human"}"#,
    )
    .unwrap();
    let wav = d.path().join("pitch.wav");
    speak(&wav, "Hello everyone, welcome to my live room. This face cream cures insomnia. It is the best cream ever. Only three left, so hurry up. Thank you for watching.");
    let s = ingest(
        &data,
        &wav,
        &["--model", "tiny.en", "--meta", meta.to_str().unwrap()],
    );
    let r = report(&data, s["session"].as_str().unwrap());
    assert_eq!(r["digital_host"], "declared");
    assert_eq!(r["disclosure"], "missing");
    assert!(has_finding(&r, "undisclosed_digital_host"));
    let sig = &r["signals"][0];
    assert_eq!(sig["kind"], "declared_metadata");
    assert_eq!(sig["evidence"]["field"], "host_kind");
    assert_eq!(sig["evidence"]["value"], "digital_human");
    assert!(sig["weight"].as_f64().unwrap() > 0.0);
    // The claims section.
    let total: u64 = r["claims"]["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(total >= 2, "{}", r["claims"]);
    assert!(r["claims"]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["start_ms"].is_u64()));
}

#[test]
fn a_spoken_disclosure_at_start_and_end_is_present_with_its_times() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let wav = d.path().join("ai.wav");
    speak(&wav, "Hello, I am an AI host. Welcome to the live room. Look at this lipstick. Remember, this video is AI generated.");
    let s = ingest(&data, &wav, &["--model", "tiny.en"]);
    let r = report(&data, s["session"].as_str().unwrap());
    assert_eq!(r["digital_host"], "declared", "{r:#}");
    assert_eq!(r["disclosure"], "present", "{r:#}");
    let sig = r["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "spoken_disclosure")
        .unwrap();
    assert!(sig["evidence"]["count"].as_u64().unwrap() >= 1);
    assert!(sig["evidence"]["occurrences"][0]["start_ms"].is_u64());
    assert!(!has_finding(&r, "undisclosed_digital_host"));
}

#[test]
fn a_looped_script_is_suspected_and_undisclosed_and_filterable_in_search() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let once = d.path().join("once.wav");
    speak(&once, "Welcome to our live room everyone. Today we have a special offer on this moisturizing face cream. It is made with natural plant extracts and it is gentle on sensitive skin. Order now and get two free samples. Click the yellow cart below and choose link number three. Stock is limited so please hurry.");
    let looped = d.path().join("looped.wav");
    let st = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(&once)
        .args(["-af", "apad=pad_dur=3,aloop=loop=3:size=1000000000"])
        .arg(&looped)
        .status()
        .unwrap();
    assert!(st.success());
    let s = ingest(&data, &looped, &["--model", "tiny.en"]);
    let id = s["session"].as_str().unwrap();
    let r = report(&data, id);
    assert_eq!(r["digital_host"], "suspected", "{r:#}");
    assert_eq!(r["disclosure"], "missing");
    assert!(has_finding(&r, "undisclosed_digital_host"));
    let sig = r["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "looped_script")
        .unwrap();
    assert!(sig["evidence"]["coverage"].as_f64().unwrap() > 0.6, "{sig}");
    let p = &sig["evidence"]["passages"][0];
    assert!(p["occurrences"].as_array().unwrap().len() >= 2);
    assert!(sig["evidence"]["period_ms"].as_u64().unwrap() > 15_000);
    // Stored as tags at ingest, filterable in search.
    let (_, hits) = run(
        &data,
        &[
            "search",
            "\"face cream\"",
            "--tag",
            "digital_host:suspected",
        ],
    );
    assert!(hits.unwrap()["total"].as_u64().unwrap() >= 1);
    let (_, hits) = run(
        &data,
        &[
            "search",
            "\"face cream\"",
            "--tag",
            "undisclosed_digital_host",
        ],
    );
    assert!(hits.unwrap()["total"].as_u64().unwrap() >= 1);
    let (_, hits) = run(
        &data,
        &["search", "\"face cream\"", "--tag", "digital_host:none"],
    );
    assert_eq!(hits.unwrap()["total"], 0);
}

#[test]
fn a_human_host_repeating_catch_phrases_is_not_suspected() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let phrase = d.path().join("phrase.wav");
    speak(&phrase, "Hi family, please follow us, link in bio.");
    let talk = d.path().join("talk.wav");
    speak(
        &talk,
        "This face cream is gentle on sensitive skin. Order now and get two free samples.",
    );
    let session = d.path().join("human.wav");
    let st = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(["-i"]).arg(&phrase)
        .args(["-i"]).arg(fixture("jfk.wav"))
        .args(["-i"]).arg(&phrase)
        .args(["-i"]).arg(&talk)
        .args(["-i"]).arg(&phrase)
        .args(["-filter_complex", "[0]aresample=16000[a];[1]aresample=16000[b];[2]aresample=16000[c];[3]aresample=16000[d];[4]aresample=16000[e];[a][b][c][d][e]concat=n=5:v=0:a=1"])
        .arg(&session)
        .status()
        .unwrap();
    assert!(st.success());
    let s = ingest(&data, &session, &["--model", "tiny.en"]);
    let r = report(&data, s["session"].as_str().unwrap());
    assert_eq!(r["digital_host"], "none", "{r:#}");
    assert!(
        !r["signals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "looped_script"),
        "{r:#}"
    );
}

const LABEL: &str = r#"{"Label":"1","ContentProducer":"001191110108MA01KP2T5U00000","ProduceID":"20260501abc","ReservedCode1":"","ContentPropagator":"001191110108MA01KP2T5U00000","PropagateID":"xyz","ReservedCode2":""}"#;

fn wav_with_chunks(path: &std::path::Path, values: &[&str]) {
    let mut b = std::fs::read(fixture("jfk.wav")).unwrap();
    for v in values {
        b.extend_from_slice(b"AIGC");
        b.extend_from_slice(&(v.len() as u32).to_le_bytes());
        b.extend_from_slice(v.as_bytes());
        if v.len() % 2 == 1 {
            b.push(0);
        }
    }
    let riff = (b.len() - 8) as u32;
    b[4..8].copy_from_slice(&riff.to_le_bytes());
    std::fs::write(path, b).unwrap();
}

fn labels_of(data: &std::path::Path, file: &std::path::Path) -> Value {
    let s = ingest(data, file, &["--model", "tiny.en"]);
    report(data, s["session"].as_str().unwrap())
}

#[test]
fn aigc_labels_are_read_from_every_container_and_validated() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let meta = ["-metadata", &format!("AIGC={LABEL}")];
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "l.mp4",
            [
                &meta[..],
                &["-c:a", "aac", "-movflags", "use_metadata_tags"],
            ]
            .concat(),
        ),
        ("l.flv", [&meta[..], &["-c:a", "aac", "-f", "flv"]].concat()),
        ("l.mkv", [&meta[..], &["-c:a", "libopus"]].concat()),
        ("l.mp3", [&meta[..], &["-c:a", "libmp3lame"]].concat()),
    ];
    for (name, args) in &cases {
        let f = d.path().join(name);
        ffmpeg(&fixture("jfk.wav"), &f, args);
        let r = labels_of(&data, &f);
        let sig = r["signals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == "aigc_label")
            .unwrap_or_else(|| panic!("{name}: no label in {r:#}"));
        assert_eq!(sig["evidence"]["label"], "1", "{name}");
        assert!(
            sig["evidence"]["problems"].as_array().unwrap().is_empty(),
            "{name}: {sig}"
        );
        assert_eq!(r["digital_host"], "declared", "{name}");
        assert!(
            has_finding(&r, "undisclosed_digital_host"),
            "{name}: a label alone is no spoken disclosure"
        );
    }
    // Without use_metadata_tags, ffmpeg drops the key: nothing is found.
    let f = d.path().join("nolabel.mp4");
    ffmpeg(
        &fixture("jfk.wav"),
        &f,
        &[&meta[..], &["-c:a", "aac"]].concat(),
    );
    assert_eq!(labels_of(&data, &f)["digital_host"], "none");
    // WAV chunk, valid.
    let f = d.path().join("l.wav");
    wav_with_chunks(&f, &[LABEL]);
    let r = labels_of(&data, &f);
    assert_eq!(r["digital_host"], "declared", "{r:#}");
    // Two labels, one malformed: both reported, as problems.
    let f = d.path().join("two.wav");
    wav_with_chunks(&f, &[LABEL, "{\"Label\": \"1\"}"]);
    let r = labels_of(&data, &f);
    assert!(has_finding(&r, "malformed_aigc_label"), "{r:#}");
    let labels: Vec<&Value> = r["signals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "aigc_label")
        .collect();
    assert_eq!(labels.len(), 2);
    assert!(!labels[1]["evidence"]["problems"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn a_human_host_with_a_malformed_label_is_not_accused() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    // An MP4 of the JFK clip (a human) whose AIGC tag is not in the standard's form, once with
    // Label "1" and once as free text; a WAV with one such chunk and a sidecar saying human.
    for (name, value) in [
        ("one.mp4", r#"{"Label":"1"}"#),
        ("text.mp4", "AI generated content"),
    ] {
        let f = d.path().join(name);
        ffmpeg(
            &fixture("jfk.wav"),
            &f,
            &[
                "-metadata",
                &format!("AIGC={value}"),
                "-c:a",
                "aac",
                "-movflags",
                "use_metadata_tags",
            ],
        );
        let r = labels_of(&data, &f);
        assert_eq!(r["digital_host"], "none", "{name}: {r:#}");
        assert_eq!(r["disclosure"], "n/a", "{name}");
        assert!(has_finding(&r, "malformed_aigc_label"), "{name}: {r:#}");
        assert!(
            !has_finding(&r, "undisclosed_digital_host"),
            "{name}: {r:#}"
        );
        let sig = r["signals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == "aigc_label")
            .unwrap();
        assert_eq!(
            sig["weight"], 0.0,
            "{name}: a malformed label does not count"
        );
        assert_eq!(sig["evidence"]["counts"], false);
    }
    // Two valid labels that disagree: a finding of their own.
    let f = d.path().join("two.wav");
    wav_with_chunks(
        &f,
        &[LABEL, &LABEL.replace(r#""Label":"1""#, r#""Label":"3""#)],
    );
    let r = labels_of(&data, &f);
    assert!(has_finding(&r, "contradictory_aigc_labels"), "{r:#}");
}

#[test]
fn a_sidecar_saying_human_against_a_host_saying_ai_is_a_contradiction() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let meta = d.path().join("m.json");
    std::fs::write(&meta, r#"{"platform":"douyin","host_kind":"human"}"#).unwrap();
    let wav = d.path().join("ai.wav");
    speak(
        &wav,
        "Hello, I am an AI host. Welcome to the live room. Look at this lipstick.",
    );
    let s = ingest(
        &data,
        &wav,
        &["--model", "tiny.en", "--meta", meta.to_str().unwrap()],
    );
    let r = report(&data, s["session"].as_str().unwrap());
    assert_eq!(r["digital_host"], "declared", "{r:#}");
    assert!(has_finding(&r, "host_kind_contradicted"), "{r:#}");
    let c = r["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "contradiction")
        .expect("the contradiction names both sides");
    assert_eq!(c["evidence"]["declared"]["value"], "human");
    assert_eq!(c["evidence"]["observed"][0]["signal"], "spoken_disclosure");
    // Without --json, the report reads as sentences with times, not JSON.
    let o = bin()
        .args([
            "report",
            s["session"].as_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("The metadata says a human hosts, but the host says it is an AI"),
        "{text}"
    );
    assert!(
        text.contains("Spoken disclosure 1 time(s), at 00:00:0"),
        "{text}"
    );
    assert!(!text.contains("{\""), "no JSON in the text report: {text}");
    // The same sidecar over a human reading: nothing contradicts it.
    let s = ingest(
        &data,
        &fixture("jfk.wav"),
        &["--model", "tiny.en", "--meta", meta.to_str().unwrap()],
    );
    let r = report(&data, s["session"].as_str().unwrap());
    assert!(!has_finding(&r, "host_kind_contradicted"), "{r:#}");
    assert_eq!(r["digital_host"], "none");
}
