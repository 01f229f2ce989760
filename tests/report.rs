//! `liveproof report`: digital-host verdict, disclosure with evidence, and the claims section.

mod common;
use common::*;
use serde_json::Value;

fn report(data: &std::path::Path, id: &str) -> Value {
    let (o, v) = run(data, &["report", id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    v.unwrap()
}

fn speak(path: &std::path::Path, text: &str) {
    let st = std::process::Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "130", "-w"])
        .arg(path)
        .arg(text)
        .status()
        .expect("espeak-ng runs");
    assert!(st.success());
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
    assert!(!r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "undisclosed_digital_host"));
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
    assert!(r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "undisclosed_digital_host"));
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
    assert!(!r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "undisclosed_digital_host"));
}
