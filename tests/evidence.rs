//! Evidence bundles: export, offline verification, and every kind of tampering.

mod common;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use common::forge::{members, write_bundle};
use common::*;
use serde_json::Value;

/// A session with several segments: the JFK speech three times with pauses.
fn session(data: &Path, dir: &Path) -> (String, PathBuf) {
    require_model("tiny.en");
    let f = dir.join("three.wav");
    // The clip, its first 8 s, the clip again: the repeat takes the first one's words, the
    // shortened one has different words.
    let st = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(fixture("jfk.wav"))
        .args([
            "-filter_complex",
            "[0]asplit=3[x][y][z];[x]apad=pad_dur=2[a];[y]atrim=0:8,apad=pad_dur=2[b];\
             [z]apad=pad_dur=2[c];[a][b][c]concat=n=3:v=0:a=1",
        ])
        .arg(&f)
        .status()
        .unwrap();
    assert!(st.success());
    let s = ingest(data, &f, &["--model", "tiny.en"]);
    (s["session"].as_str().unwrap().to_string(), f)
}

fn public_key(data: &Path) -> String {
    let (_, v) = run(data, &["key", "show"]);
    v.unwrap()["public_key"].as_str().unwrap().to_string()
}

fn export(data: &Path, id: &str, from: &str, to: &str, out: &Path, extra: &[&str]) {
    export_bundle(data, id, from, to, out, extra)
}

/// `liveproof verify` as a stranger: no archive of its own, so only the keys in `extra` are
/// trusted.
fn verify(bundle: &Path, extra: &[&str]) -> (i32, Value) {
    verify_as(&bundle.with_extension("no-archive"), bundle, extra)
}

fn verify_as(data: &Path, bundle: &Path, extra: &[&str]) -> (i32, Value) {
    verify_json(data, bundle, extra)
}

/// `liveproof verify` on the archive's own machine: its key is trusted.
fn verify_in(data: &Path, bundle: &Path, extra: &[&str]) -> (i32, Value) {
    verify_as(data, bundle, extra)
}

fn failed(v: &Value) -> Vec<String> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_bundle_verifies_offline_with_the_key_and_the_original() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (id, original) = session(&data, d.path());
    let b = d.path().join("b.zip");
    export(&data, &id, "00:00:05", "00:00:20", &b, &[]);
    let key = public_key(&data);
    let (code, v) = verify(
        &b,
        &["--key", &key, "--recording", original.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["ok"], true);
    for c in v["checks"].as_array().unwrap() {
        assert!(c["name"].is_string() && c["detail"].is_string() && c["ok"].is_boolean());
    }
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for n in [
        "bundle.signature",
        "manifest.signature",
        "excerpt.proofs",
        "excerpt.complete",
        "log.inclusion",
        "recording.given",
        "key.trusted",
        "member clip.flac",
    ] {
        assert!(names.contains(&n), "check {n} missing: {names:?}");
    }
    let m = members(&b);
    let excerpt: Value = serde_json::from_slice(&m["excerpt.json"]).unwrap();
    assert!(
        excerpt["segments"].as_array().unwrap().len() >= 2,
        "{excerpt:#}"
    );
    let report = String::from_utf8(m["report.html"].clone()).unwrap();
    assert!(report.contains("What this bundle proves") && report.contains("本证据包证明了什么"));
    assert!(report.contains("What it does not prove") && report.contains("liveproof verify"));
    // The clip is real audio of the excerpt's length.
    let clip = d.path().join("clip.flac");
    std::fs::write(&clip, &m["clip.flac"]).unwrap();
    let probe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(&clip)
        .output()
        .unwrap();
    let secs: f64 = String::from_utf8_lossy(&probe.stdout)
        .trim()
        .parse()
        .unwrap();
    // It holds the range asked for (5-20 s) widened to the quoted segments' bounds.
    let st: Value = serde_json::from_slice(&m["statement.json"]).unwrap();
    let stated = (st["clip"]["to_ms"].as_u64().unwrap() - st["clip"]["from_ms"].as_u64().unwrap())
        as f64
        / 1000.0;
    assert!(
        stated >= 15.0 && (secs - stated).abs() < 0.5,
        "clip lasts {secs}, stated {stated}"
    );

    // With the recording inside, it verifies too, and a different original is refused.
    let b2 = d.path().join("b2.zip");
    export(
        &data,
        &id,
        "00:00:00",
        "00:00:10",
        &b2,
        &["--with-recording"],
    );
    let (code, v) = verify_in(&data, &b2, &[]);
    assert_eq!(code, 0, "{v:#}");
    let (code, v) = verify_in(
        &data,
        &b2,
        &["--recording", fixture("jfk.wav").to_str().unwrap()],
    );
    assert_ne!(code, 0);
    assert_eq!(failed(&v), vec!["recording.given"]);
}

#[test]
fn any_flipped_byte_in_any_member_fails_and_names_the_member() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (id, _) = session(&data, d.path());
    let b = d.path().join("b.zip");
    export(
        &data,
        &id,
        "00:00:00",
        "00:00:30",
        &b,
        &["--with-recording"],
    );
    let original = members(&b);
    for (name, bytes) in &original {
        for pos in [0, bytes.len() / 2, bytes.len() - 1] {
            let mut m = original.clone();
            m.get_mut(name).unwrap()[pos] ^= 0x01;
            let t = d.path().join("t.zip");
            write_bundle(&t, &m);
            let (code, v) = verify_in(&data, &t, &[]);
            assert_ne!(code, 0, "{name}[{pos}] flipped but verified");
            assert_eq!(v["ok"], false);
            let f = failed(&v);
            assert!(!f.is_empty());
            if !name.starts_with("statement.") {
                assert!(
                    f.contains(&format!("member {name}")),
                    "{name}[{pos}]: {f:?}"
                );
            }
        }
    }
    // A flipped byte in the zip file itself.
    let mut raw = std::fs::read(&b).unwrap();
    let mid = raw.len() / 3;
    raw[mid] ^= 0x40;
    let t = d.path().join("raw.zip");
    std::fs::write(&t, &raw).unwrap();
    assert_ne!(verify_in(&data, &t, &[]).0, 0);
}

#[test]
fn removed_reordered_or_swapped_segments_fail() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (id, _) = session(&data, d.path());
    let b = d.path().join("b.zip");
    export(&data, &id, "00:00:00", "00:00:36", &b, &[]);
    let original = members(&b);
    let excerpt: Value = serde_json::from_slice(&original["excerpt.json"]).unwrap();
    let segs = excerpt["segments"].as_array().unwrap().clone();
    assert!(segs.len() >= 3, "need 3 segments, got {}", segs.len());
    let with = |segments: Vec<Value>| {
        let mut e = excerpt.clone();
        e["segments"] = Value::Array(segments);
        let mut m = original.clone();
        m.insert(
            "excerpt.json".into(),
            serde_json::to_vec_pretty(&e).unwrap(),
        );
        let t = d.path().join("t.zip");
        write_bundle(&t, &m);
        verify_in(&data, &t, &[])
    };
    let mut removed = segs.clone();
    removed.remove(1);
    let (code, v) = with(removed);
    assert_ne!(code, 0);
    assert!(
        failed(&v).contains(&"excerpt.complete".to_string()),
        "{:?}",
        failed(&v)
    );
    let mut reordered = segs.clone();
    reordered.swap(0, 1);
    let (_, v) = with(reordered);
    assert!(failed(&v).contains(&"excerpt.complete".to_string()));
    // Two segments with different words (a repeat of the clip has the same words).
    let (i, j) = (0..segs.len())
        .flat_map(|i| (i + 1..segs.len()).map(move |j| (i, j)))
        .find(|&(i, j)| segs[i]["text"] != segs[j]["text"])
        .expect("two segments with different words");
    let mut swapped = segs.clone();
    let ti = swapped[i]["text"].clone();
    swapped[i]["text"] = swapped[j]["text"].clone();
    swapped[j]["text"] = ti;
    let (_, v) = with(swapped);
    let f = failed(&v);
    assert!(f.contains(&"excerpt.proofs".to_string()), "{f:?}");
    let detail = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "excerpt.proofs")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("segment 0") && detail.contains("segment 1"),
        "{detail}"
    );
    let mut retimed = segs.clone();
    retimed[2]["start_ms"] = Value::from(retimed[2]["start_ms"].as_u64().unwrap() + 1000);
    let (_, v) = with(retimed);
    assert!(failed(&v).contains(&"excerpt.proofs".to_string()));
}

#[test]
fn a_proof_from_another_session_and_a_wrong_key_fail() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (a, _) = session(&data, d.path());
    let b_id = ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"])["session"]
        .as_str()
        .unwrap()
        .to_string();
    let ba = d.path().join("a.zip");
    let bb = d.path().join("b.zip");
    export(&data, &a, "00:00:00", "00:00:10", &ba, &[]);
    export(&data, &b_id, "00:00:00", "00:00:10", &bb, &[]);
    let (ma, mb) = (members(&ba), members(&bb));
    for name in ["log.json", "excerpt.json", "manifest.json"] {
        let mut m = ma.clone();
        m.insert(name.into(), mb[name].clone());
        let t = d.path().join("t.zip");
        write_bundle(&t, &m);
        let (code, v) = verify_in(&data, &t, &[]);
        assert_ne!(code, 0, "{name} from another session verified");
        assert!(failed(&v).len() >= 2, "{name}: {:?}", failed(&v));
    }
    // Another archive's key.
    let other = tempfile::tempdir().unwrap();
    let other_key = public_key(other.path());
    let (code, v) = verify(&ba, &["--key", &other_key]);
    assert_eq!(code, 6, "intact but signed by a key not trusted: {v:#}");
    assert_eq!(failed(&v), vec!["key.trusted"]);
    assert_eq!(v["status"], "unknown_signer");
    // A bundle re-signed with another key is refused when the right key is given.
    let key = public_key(&data);
    let mut m = ma.clone();
    m.insert(
        "public_key.txt".into(),
        format!("{other_key}\n").into_bytes(),
    );
    let t = d.path().join("t.zip");
    write_bundle(&t, &m);
    let (code, _) = verify(&t, &["--key", &key]);
    assert_ne!(code, 0);
}

#[test]
fn a_bundle_still_verifies_after_the_log_grows_and_the_heads_are_consistent() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (a, _) = session(&data, d.path());
    let b = d.path().join("a.zip");
    export(&data, &a, "00:00:00", "00:00:10", &b, &[]);
    // The manifest, its ingest event, the export event.
    let (_, head1) = run(&data, &["log", "head"]);
    assert_eq!(head1.unwrap()["size"], 3);
    ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"]);
    ingest(
        &data,
        &fixture("aishell_BAC009S0724W0121.wav"),
        &["--model", "tiny.en"],
    );
    let (_, head3) = run(&data, &["log", "head"]);
    assert_eq!(head3.unwrap()["size"], 7);
    assert_eq!(
        verify_in(&data, &b, &[]).0,
        0,
        "an older bundle stays valid"
    );
    let (o, c) = run(&data, &["log", "consistency", "3", "7"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c = c.unwrap();
    assert_eq!(c["old"]["size"], 3);
    assert_eq!(c["new"]["size"], 7);
    let (o, p) = run(&data, &["log", "prove", &a]);
    assert!(o.status.success());
    assert_eq!(p.unwrap()["tree_head"]["size"], 7);
    // A new bundle for the same session is proven against the newer head.
    let b3 = d.path().join("a3.zip");
    export(&data, &a, "00:00:00", "00:00:10", &b3, &[]);
    let log: Value = serde_json::from_slice(&members(&b3)["log.json"]).unwrap();
    // Proven against the head that includes its own export event.
    assert_eq!(log["tree_head"]["size"], 8);
    assert_eq!(verify_in(&data, &b3, &[]).0, 0);
}

#[test]
fn hostile_bundles_are_refused_without_harm() {
    let d = tempfile::tempdir().unwrap();
    // Path traversal in a member name.
    let t = d.path().join("t.zip");
    let mut m = BTreeMap::new();
    m.insert("../../etc/evil".to_string(), b"x".to_vec());
    write_bundle(&t, &m);
    let (code, v) = verify(&t, &[]);
    assert_ne!(code, 0);
    assert!(v["checks"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("not allowed"));
    // A zip bomb: a member that inflates far beyond the limit for its kind.
    let bomb = d.path().join("bomb.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&bomb).unwrap());
    z.start_file(
        "excerpt.json",
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated),
    )
    .unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..80 {
        z.write_all(&zeros).unwrap();
    }
    z.finish().unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
    let (code, v) = verify(&bomb, &[]);
    assert_ne!(code, 0);
    assert!(
        v["checks"][0]["detail"].as_str().unwrap().contains("limit"),
        "{v}"
    );
    // Not a zip at all.
    let junk = d.path().join("junk.zip");
    std::fs::write(&junk, b"hello").unwrap();
    let (code, v) = verify(&junk, &[]);
    assert_ne!(code, 0);
    assert_eq!(v["ok"], false);
}

#[test]
fn tree_heads_get_a_trusted_timestamp_that_verifies_offline() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let tsa = start_tsa(&d.path().join("tsa"));
    let data = d.path().join("data");
    let out = ingest_with_tsa(&data, format!("http://127.0.0.1:{}/", tsa.2), &tsa.1);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(s.get("timestamp_warning").is_none(), "{s}");
    let id = s["session"].as_str().unwrap().to_string();
    let b = d.path().join("b.zip");
    export_with_tsa(
        &data,
        &id,
        &b,
        &format!("http://127.0.0.1:{}/", tsa.2),
        &tsa.1,
    );
    drop(tsa); // verification is offline
    let m = members(&b);
    assert!(m.contains_key("timestamp.tsr") && m.contains_key("tsa.pem"));
    let cert = d.path().join("tsa/tsa.crt");
    let (code, v) = verify_in(&data, &b, &["--tsa-cert", cert.to_str().unwrap()]);
    assert_eq!(code, 0, "{v:#}");
    let ts = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "timestamp")
        .unwrap()
        .clone();
    assert!(ts["detail"].as_str().unwrap().contains("GMT"), "{ts}");
    assert!(String::from_utf8_lossy(&m["report.html"]).contains("RFC 3161"));

    // Another TSA's certificate does not vouch for these tokens.
    let other = tempfile::tempdir().unwrap();
    let other_tsa = start_tsa(other.path());
    let (code, v) = verify_in(&data, &b, &["--tsa-cert", other_tsa.1.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert_eq!(failed(&v), vec!["timestamp", "timestamp.recording"]);
    // A token for another tree head does not fit this one.
    let mut changed = m.clone();
    let mut log: Value = serde_json::from_slice(&m["log.json"]).unwrap();
    log["tree_head"]["timestamp"] = Value::from("2020-01-01T00:00:00Z");
    changed.insert("log.json".into(), serde_json::to_vec(&log).unwrap());
    let t = d.path().join("t.zip");
    write_bundle(&t, &changed);
    let (_, v) = verify_in(&data, &t, &["--tsa-cert", cert.to_str().unwrap()]);
    assert!(
        failed(&v).contains(&"timestamp".to_string()),
        "{:?}",
        failed(&v)
    );
}

#[test]
fn an_unreachable_tsa_leaves_the_session_archived_with_a_warning() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let out = ingest_with_tsa(&data, "http://127.0.0.1:9/", d.path().join("none.pem"));
    assert!(out.status.success());
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        s["timestamp_warning"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:9"),
        "{s}"
    );
    assert_eq!(assert_consistent(&data).len(), 1);
}

/// Exports 0-10 s with a TSA configured (the export's own log head gets a token).
fn export_with_tsa(data: &Path, id: &str, out: &Path, url: &str, cert: &Path) {
    let o = bin()
        .env("LIVEPROOF_TSA_URL", url)
        .env("LIVEPROOF_TSA_CERT", cert)
        .args(["evidence", id, "--from", "0", "--to", "10", "-o"])
        .arg(out)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("warning"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Ingests the JFK fixture with a TSA configured through the environment.
fn ingest_with_tsa(
    data: &Path,
    url: impl AsRef<std::ffi::OsStr>,
    cert: impl AsRef<std::ffi::OsStr>,
) -> std::process::Output {
    ingest_file_with_tsa(data, &fixture("jfk.wav"), url, cert)
}

fn ingest_file_with_tsa(
    data: &Path,
    file: &Path,
    url: impl AsRef<std::ffi::OsStr>,
    cert: impl AsRef<std::ffi::OsStr>,
) -> std::process::Output {
    bin()
        .env("LIVEPROOF_TSA_URL", url)
        .env("LIVEPROOF_TSA_CERT", cert)
        .args([
            "ingest",
            file.to_str().unwrap(),
            "--model",
            "tiny.en",
            "--json",
            "--data",
        ])
        .arg(data)
        .output()
        .unwrap()
}

fn trusted_fails(v: &Value) -> Vec<String> {
    failed(v)
        .into_iter()
        .filter(|n| n != "key.trusted")
        .collect()
}

#[test]
fn a_forged_bundle_resigned_with_another_key_is_never_verified() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (id, _) = session(&data, d.path());
    let b = d.path().join("b.zip");
    export(&data, &id, "00:00:00", "00:00:10", &b, &[]);
    let key = public_key(&data);
    let forger = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let forger_hex = hex::encode(forger.verifying_key().to_bytes());
    let forged = forge::forge(&members(&b), &forger, "this cream won the Nobel prize");
    let f = d.path().join("forged.zip");
    write_bundle(&f, &forged);

    // A stranger with no key to trust: intact, but never VERIFIED.
    let (code, v) = verify(&f, &[]);
    assert_eq!(code, 6, "{v:#}");
    assert_eq!(v["ok"], false);
    assert_eq!(v["status"], "unknown_signer");
    assert_eq!(v["signer"]["trusted"], false);
    assert_eq!(v["signer"]["public_key"], forger_hex.as_str());
    assert_eq!(v["signer"]["fingerprint"].as_str().unwrap().len(), 16);
    assert!(v["signer"]["name"].is_null());
    assert_eq!(
        failed(&v),
        vec!["key.trusted"],
        "the forgery is otherwise whole"
    );
    // Given the archive's key, or a trust file naming it, or on the archive's own machine.
    let (code, v) = verify(&f, &["--key", &key]);
    assert_eq!((code, v["status"].as_str()), (6, Some("unknown_signer")));
    let trust = d.path().join("trust.txt");
    std::fs::write(&trust, format!("# keys\ned25519:{key} Test archive\n")).unwrap();
    let (code, _) = verify(&f, &["--trust", trust.to_str().unwrap()]);
    assert_eq!(code, 6);
    let (code, v) = verify_in(&data, &f, &[]);
    assert_eq!((code, v["status"].as_str()), (6, Some("unknown_signer")));
    // The real bundle, under the trust file, is verified and names its signer.
    let (code, v) = verify(&b, &["--trust", trust.to_str().unwrap()]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["status"], "verified");
    assert_eq!(v["signer"]["trusted"], true);
    assert_eq!(v["signer"]["name"], "Test archive");
    // Plain output says so in words.
    let o = bin()
        .args(["verify", f.to_str().unwrap(), "--data"])
        .arg(d.path().join("nowhere"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("\nVERIFIED"), "{text}");
    assert!(
        text.contains("UNKNOWN") && text.contains(&forger_hex),
        "{text}"
    );

    // The API trusts the archive's key only, unless the caller pins another.
    let server = common::server::start(&data, &[]);
    let post = |path: &str, body: &[u8]| -> Value {
        let mut r = common::server::agent()
            .post(&format!("{}{path}", server.1))
            .header("Content-Type", "application/zip")
            .send(body)
            .unwrap();
        serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap()
    };
    let v = post("/api/verify", &std::fs::read(&f).unwrap());
    assert_eq!(
        (v["ok"].as_bool(), v["status"].as_str()),
        (Some(false), Some("unknown_signer")),
        "{v:#}"
    );
    assert_eq!(v["signer"]["public_key"], forger_hex.as_str());
    let v = post("/api/verify", &std::fs::read(&b).unwrap());
    assert_eq!(
        (v["ok"].as_bool(), v["status"].as_str()),
        (Some(true), Some("verified")),
        "{v:#}"
    );
    assert_eq!(v["signer"]["name"], "this archive");
    let v = post(
        &format!("/api/verify?key={forger_hex}"),
        &std::fs::read(&f).unwrap(),
    );
    assert_eq!(
        v["status"], "verified",
        "a key the caller pins is trusted: {v:#}"
    );
}

#[test]
fn fields_outside_the_signed_bytes_or_unknown_to_the_format_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (id, _) = session(&data, d.path());
    let b = d.path().join("b.zip");
    export(&data, &id, "00:00:00", "00:00:10", &b, &[]);
    let original = members(&b);
    let key = forge::archive_key(&data);
    let statement: Value = serde_json::from_slice(&original["statement.json"]).unwrap();
    let t = d.path().join("t.zip");

    // Re-signing the statement as it is still verifies (the helper is faithful)...
    let mut m = original.clone();
    forge::resign_statement(&mut m, statement.clone(), &key);
    write_bundle(&t, &m);
    assert_eq!(verify_in(&data, &t, &[]).0, 0);
    // ...but a field the format does not have is refused, even when signed.
    let mut extra = statement.clone();
    extra["note"] = Value::from("this cream won the Nobel prize");
    let mut m = original.clone();
    forge::resign_statement(&mut m, extra, &key);
    write_bundle(&t, &m);
    let (code, v) = verify_in(&data, &t, &[]);
    assert_eq!(code, 5, "{v:#}");
    let detail = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "bundle.signature")
        .unwrap()["detail"]
        .clone();
    assert!(
        detail.as_str().unwrap().contains("unknown field"),
        "{detail}"
    );
    // The same in the excerpt (listed, so signed by hash).
    let mut excerpt: Value = serde_json::from_slice(&original["excerpt.json"]).unwrap();
    excerpt["segments"][0]["speaker"] = Value::from("a doctor");
    let mut m = original.clone();
    m.insert(
        "excerpt.json".into(),
        serde_json::to_vec_pretty(&excerpt).unwrap(),
    );
    forge::resign_statement(&mut m, statement.clone(), &key);
    write_bundle(&t, &m);
    let (code, v) = verify_in(&data, &t, &[]);
    assert_eq!(code, 5);
    assert!(
        trusted_fails(&v).iter().any(|n| n.starts_with("excerpt")),
        "{:?}",
        failed(&v)
    );
    // Statement bytes changed without re-signing (whitespace only): the exact bytes are signed.
    let mut m = original.clone();
    m.get_mut("statement.json").unwrap().insert(1, b' ');
    write_bundle(&t, &m);
    assert_eq!(verify_in(&data, &t, &[]).0, 5);

    // A v1 bundle (statement inside bundle.json) still verifies; with a field added to its
    // statement it does not (v1 signed the statement re-serialised, which dropped such fields).
    let v1 = |extra_field: bool| {
        let mut st = statement.clone();
        st["format"] = Value::from("liveproof/bundle/v1");
        st["clip"].as_object_mut().unwrap().remove("from_ms");
        st["clip"].as_object_mut().unwrap().remove("to_ms");
        let typed: liveproof::evidence::Statement = serde_json::from_value(st.clone()).unwrap();
        let sig = liveproof::seal::DetachedSignature::create(
            &key,
            liveproof::seal::BUNDLE_DOMAIN,
            &liveproof::evidence::statement_bytes_v1(&typed),
        );
        if extra_field {
            st["note"] = Value::from("unsigned");
        }
        let mut m = original.clone();
        m.remove("statement.json");
        m.remove("statement.sig");
        m.insert(
            "bundle.json".into(),
            serde_json::to_vec_pretty(&serde_json::json!({"statement": st, "signature": sig}))
                .unwrap(),
        );
        write_bundle(&t, &m);
        verify_in(&data, &t, &[])
    };
    let (code, v) = v1(false);
    assert_eq!(code, 0, "{v:#}");
    let (code, v) = v1(true);
    assert_eq!(code, 5, "{v:#}");
}

#[test]
fn the_clip_holds_the_quoted_segments_and_is_checked_against_the_original() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (id, original_file) = session(&data, d.path());
    let b = d.path().join("b.zip");
    // A range that starts and ends inside segments.
    export(&data, &id, "3", "9", &b, &[]);
    let m = members(&b);
    let st: Value = serde_json::from_slice(&m["statement.json"]).unwrap();
    let ex: Value = serde_json::from_slice(&m["excerpt.json"]).unwrap();
    let segs = ex["segments"].as_array().unwrap();
    let (first, last) = (
        segs[0]["start_ms"].as_u64().unwrap(),
        segs[segs.len() - 1]["end_ms"].as_u64().unwrap(),
    );
    let (cf, ct) = (
        st["clip"]["from_ms"].as_u64().unwrap(),
        st["clip"]["to_ms"].as_u64().unwrap(),
    );
    assert!(
        cf <= first.min(3000) && ct >= last.max(9000),
        "clip {cf}-{ct}, quoted {first}-{last}"
    );
    let rec = ["--recording", original_file.to_str().unwrap()];
    let (code, v) = verify_in(&data, &b, &rec);
    assert_eq!(code, 0, "{v:#}");
    assert!(v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "clip.samples" && c["ok"] == true));

    // The clip swapped for audio from elsewhere in the recording, the statement re-signed (an
    // insider): the hashes agree, the samples do not.
    let other = d.path().join("other.flac");
    let o = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-ss", "14", "-t"])
        .arg(format!("{:.3}", (ct - cf) as f64 / 1000.0))
        .arg("-i")
        .arg(&original_file)
        .args(["-c:a", "flac"])
        .arg(&other)
        .status()
        .unwrap();
    assert!(o.success());
    let mut swapped = m.clone();
    swapped.insert("clip.flac".into(), std::fs::read(&other).unwrap());
    forge::resign_statement(&mut swapped, st.clone(), &forge::archive_key(&data));
    let t = d.path().join("t.zip");
    write_bundle(&t, &swapped);
    assert_eq!(verify_in(&data, &t, &[]).0, 0, "hashes alone cannot tell");
    let (code, v) = verify_in(&data, &t, &rec);
    assert_eq!(code, 5, "{v:#}");
    assert_eq!(failed(&v), vec!["clip.samples"]);
    // A statement whose clip range does not hold the quoted segments.
    let mut narrow = st.clone();
    narrow["clip"]["from_ms"] = Value::from(first + 500);
    let mut m2 = m.clone();
    forge::resign_statement(&mut m2, narrow, &forge::archive_key(&data));
    write_bundle(&t, &m2);
    let (code, v) = verify_in(&data, &t, &[]);
    assert_eq!(code, 5);
    assert_eq!(failed(&v), vec!["clip.range"]);
}

fn check<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
}

#[test]
fn timestamps_from_a_ca_issued_tsa_with_fallback_and_a_queue() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let tsa = start_tsa_with(&d.path().join("tsa"), &["--ca"]);
    let (ca, leaf) = (d.path().join("tsa/ca.crt"), d.path().join("tsa/tsa.crt"));
    let good = format!("http://127.0.0.1:{}/", tsa.2);
    // Two TSAs, the first down; the TSA's own certificate configured, as README says.
    let data = d.path().join("data");
    let out = ingest_with_tsa(&data, format!("http://127.0.0.1:9/ {good}"), &leaf);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(s.get("timestamp_warning").is_none(), "{s}");
    let id = s["session"].as_str().unwrap().to_string();
    let b = d.path().join("b.zip");
    export_with_tsa(&data, &id, &b, &good, &leaf);
    let m = members(&b);
    assert!(m.contains_key("timestamp.tsr") && m.contains_key("recording-timestamp.tsr"));
    // Trusting the CA, or exactly the TSA's certificate: both verify, both tokens.
    for anchor in [&ca, &leaf] {
        let (code, v) = verify_in(&data, &b, &["--tsa-cert", anchor.to_str().unwrap()]);
        assert_eq!(code, 0, "{v:#}");
        assert_eq!(check(&v, "timestamp").unwrap()["ok"], true);
        assert_eq!(check(&v, "timestamp.recording").unwrap()["ok"], true);
    }
    // OpenSSL agrees, from the CA alone.
    let dir = d.path().join("tokens");
    std::fs::create_dir_all(&dir).unwrap();
    let log: liveproof::seal::log::Inclusion = serde_json::from_slice(&m["log.json"]).unwrap();
    let manifest: Value = serde_json::from_slice(&m["manifest.json"]).unwrap();
    for (file, digest) in [
        (
            "timestamp.tsr",
            hex::encode(log.tree_head.digest().unwrap()),
        ),
        (
            "recording-timestamp.tsr",
            manifest["recording_sha256"].as_str().unwrap().to_string(),
        ),
    ] {
        std::fs::write(dir.join(file), &m[file]).unwrap();
        let o = std::process::Command::new("openssl")
            .args(["ts", "-verify", "-in"])
            .arg(dir.join(file))
            .args(["-digest", &digest, "-CAfile"])
            .arg(&ca)
            .output()
            .unwrap();
        let text =
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        assert!(text.contains("Verification: OK"), "{file}: {text}");
    }

    // A TSA that is down: the session is archived, the tokens are queued...
    let other = d.path().join("other.wav");
    speech_in_silence(&fixture("jfk.wav"), 1, 1, &other, &[]);
    let out = ingest_file_with_tsa(&data, &other, "http://127.0.0.1:9/", &leaf);
    assert!(out.status.success());
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    let warning = s["timestamp_warning"].as_str().unwrap();
    assert!(warning.contains("log timestamp"), "{warning}");
    let id2 = s["session"].as_str().unwrap().to_string();
    let b2 = d.path().join("b2.zip");
    export(&data, &id2, "0", "5", &b2, &[]);
    // ...a bundle without a token fails when a trusted time is asked for...
    let (code, v) = verify_in(&data, &b2, &["--tsa-cert", ca.to_str().unwrap()]);
    assert_eq!(code, 5);
    assert_eq!(failed(&v), vec!["timestamp"]);
    // ...and `log timestamp` fetches them once the TSA answers.
    let lt = |url: &str| {
        bin()
            .env("LIVEPROOF_TSA_URL", url)
            .env("LIVEPROOF_TSA_CERT", &ca)
            .args(["log", "timestamp", "--json", "--data"])
            .arg(&data)
            .output()
            .unwrap()
    };
    let o = lt("http://127.0.0.1:9/");
    assert_eq!(o.status.code(), Some(1), "still pending");
    let o = lt(&good);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["pending"], 0, "{r}");
    assert_eq!(r["recordings_timestamped"], 1, "{r}");
    export_with_tsa(&data, &id2, &b2, &good, &ca);
    let (code, v) = verify_in(&data, &b2, &["--tsa-cert", ca.to_str().unwrap()]);
    assert_eq!(code, 0, "{v:#}");
    assert!(check(&v, "timestamp.recording").is_some());
    // Without a TSA configured, the command says what to set.
    let (o, _) = run(&data, &["log", "timestamp"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("LIVEPROOF_TSA_URL"));
}
