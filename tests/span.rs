//! Evidence across a segment boundary: two segments of one room form a broadcast; a bundle over
//! broadcast time that crosses from one into the other holds each segment's own bundle and a
//! signed span statement. Verified by `liveproof verify` and the independent Python verifier;
//! changed parts, ranges, keys and compressed parts are refused by both.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use common::forge::{archive_key, members};
use common::independent::{failed_checks, lpverify};
use common::*;
use ed25519_dalek::SigningKey;
use liveproof::seal::{self, DetachedSignature};
use serde_json::Value;

/// A segment: the JFK clip's first 4 s and `n` samples of silence, as FLV, with a sidecar
/// naming the room and the segment's start.
fn segment(dir: &Path, data: &Path, n: usize, room: &str, started_at: &str) -> (String, u64) {
    let wav = jfk_variant(dir, n);
    let flv = dir.join(format!("seg-{n}.flv"));
    ffmpeg(&wav, &flv, &["-c:a", "aac", "-b:a", "64k", "-f", "flv"]);
    let meta = dir.join(format!("seg-{n}.json"));
    std::fs::write(
        &meta,
        format!(
            r#"{{"platform":"douyin","room":"{room}","host":"Ann","started_at":"{started_at}"}}"#
        ),
    )
    .unwrap();
    let s = ingest(
        data,
        &flv,
        &[
            "--model",
            "tiny.en",
            "--lang",
            "en",
            "--meta",
            meta.to_str().unwrap(),
        ],
    );
    (
        s["session"].as_str().unwrap().to_string(),
        s["duration_ms"].as_u64().unwrap(),
    )
}

/// Writes a broadcast bundle: small members deflated, parts stored (or deflated when asked).
fn write_span(path: &Path, m: &BTreeMap<String, Vec<u8>>, deflate_parts: bool) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, b) in m {
        let method = if name.starts_with("part-") && !deflate_parts {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        z.start_file(
            name.as_str(),
            zip::write::SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        z.write_all(b).unwrap();
    }
    z.finish().unwrap();
}

/// Re-signs `span.json` (changed by `edit`) with `key`, with that key in public_key.txt.
fn resign(m: &mut BTreeMap<String, Vec<u8>>, key: &SigningKey, edit: impl FnOnce(&mut Value)) {
    let mut st: Value = serde_json::from_slice(&m["span.json"]).unwrap();
    edit(&mut st);
    let bytes = serde_json::to_vec_pretty(&st).unwrap();
    let sig = DetachedSignature::create(key, seal::SPAN_DOMAIN, &bytes);
    m.insert("span.sig".into(), serde_json::to_vec_pretty(&sig).unwrap());
    m.insert("span.json".into(), bytes);
    m.insert(
        "public_key.txt".into(),
        format!("{}\n", hex::encode(key.verifying_key().to_bytes())).into_bytes(),
    );
}

fn rehash(m: &mut BTreeMap<String, Vec<u8>>, st: &mut Value) {
    for p in st["parts"].as_array_mut().unwrap() {
        let file = p["file"].as_str().unwrap().to_string();
        p["sha256"] = liveproof::hashing::sha256_hex(&m[&file]).into();
    }
}

#[test]
fn a_bundle_spans_a_segment_boundary_and_each_part_is_proven() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    // Two segments of one room, the second starting 1 s after the first ends; a third in
    // another room at the same time.
    let (s1, d1) = segment(d.path(), &data, 8_000, "r1", "2026-05-01T20:00:00+08:00");
    assert!((4_000..=5_000).contains(&d1), "{d1}");
    let (s2, d2) = segment(
        d.path(),
        &data,
        16_000,
        "r1",
        "2026-05-01T20:00:05.500+08:00",
    );
    let (s3, _) = segment(
        d.path(),
        &data,
        24_000,
        "r2",
        "2026-05-01T20:00:05.500+08:00",
    );
    let (_, b) = run(&data, &["broadcasts"]);
    let b = b.unwrap();
    let bc = b["broadcasts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["room"] == "r1")
        .unwrap()
        .clone();
    assert_eq!(bc["sessions"], serde_json::json!([s1, s2]), "{b}");
    assert_eq!(bc["offsets_ms"][1], 5_500);

    // 00:02 - 00:08 of the broadcast: 2 s to the end of segment 1, then 0 - 2.5 s of segment 2.
    let out = d.path().join("across.zip");
    let (o, v) = run(
        &data,
        &[
            "evidence",
            &s2,
            "--broadcast",
            "--from",
            "00:00:02",
            "--to",
            "00:00:08",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = v.unwrap();
    let parts = v["span"]["parts"].as_array().unwrap();
    assert_eq!(v["span"]["broadcast"], s1.as_str());
    assert_eq!(parts.len(), 2, "{v}");
    assert_eq!(parts[0]["session"], s1.as_str());
    assert_eq!(
        (parts[0]["from_ms"].as_u64(), parts[0]["to_ms"].as_u64()),
        (Some(2_000), Some(d1))
    );
    assert_eq!(parts[1]["session"], s2.as_str());
    assert_eq!(
        (parts[1]["from_ms"].as_u64(), parts[1]["to_ms"].as_u64()),
        (Some(0), Some(2_500))
    );
    assert!(v["parts"][1]["first_index"].is_u64());
    assert!(d2 > 2_500);

    // Both verifiers: every part proven on its own, the span tied together.
    let (code, verdict) = verify_json(&data, &out, &[]);
    assert_eq!(code, 0, "{verdict:#}");
    assert_eq!(verdict["status"], "verified");
    assert_eq!(verdict["span"]["parts"].as_array().unwrap().len(), 2);
    let names: Vec<&str> = verdict["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for want in [
        "span.signature",
        "span.members",
        "span.timeline",
        "span.room",
        "part-1.excerpt.proofs",
        "part-2.manifest.signature",
        "part-2.range",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert!(verdict["proven"][0]
        .as_str()
        .unwrap()
        .contains("2 recording(s)"));
    let key = seal::keys::public_hex(&archive_key(&data));
    let (code, py) = lpverify(&out, &["--key", &key]);
    assert_eq!(code, 0, "{py:#}");
    // Without a trusted key: intact, unknown signer (exit 6), in both.
    let (code, _) = lpverify(&out, &[]);
    assert_eq!(code, 6);

    // The text form names the parts.
    let o = bin()
        .args([
            "verify",
            out.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(&format!("session {s2}")), "{text}");

    // Forgeries, each refused by both verifiers.
    let m = members(&out);
    let check = |name: &str, m: &BTreeMap<String, Vec<u8>>, deflate: bool, want: &[&str]| {
        let p = d.path().join(format!("{name}.zip"));
        write_span(&p, m, deflate);
        let (code, v) = verify_json(&data, &p, &["--key", &key]);
        assert_eq!(code, 5, "{name}: {v:#}");
        let failed = failed_checks(&v);
        for w in want {
            assert!(
                failed.iter().any(|f| f == w),
                "{name}: {w} not in {failed:?}"
            );
        }
        let (code, py) = lpverify(&p, &["--key", &key]);
        assert_eq!(code, 5, "{name} (python): {py:#}");
        for w in want {
            assert!(
                failed_checks(&py).iter().any(|f| f == w),
                "{name} (python): {w} not in {:?}",
                failed_checks(&py)
            );
        }
    };
    // A part swapped for a bundle of another room's segment, statement untouched.
    let other = d.path().join("other.zip");
    export_bundle(&data, &s3, "00:00:00", "00:00:02.5", &other, &[]);
    let mut swapped = m.clone();
    swapped.insert("part-2.zip".into(), std::fs::read(&other).unwrap());
    check("swapped", &swapped, false, &["span.members"]);
    // ... and re-signed with the archive's own key (an insider): one broadcast, one room.
    let archive = archive_key(&data);
    let mut insider = swapped.clone();
    let mut st: Value = serde_json::from_slice(&m["span.json"]).unwrap();
    rehash(&mut insider, &mut st);
    st["parts"][1]["session"] = s3.clone().into();
    resign(&mut insider, &archive, |s| *s = st.clone());
    check("other-room", &insider, false, &["span.room"]);
    // A range stretched past what the broadcast range cuts from a segment.
    let mut stretched = m.clone();
    resign(&mut stretched, &archive, |s| s["to_ms"] = 7_000.into());
    check("stretched", &stretched, false, &["span.timeline"]);
    // A part dropped from the zip but still listed.
    let mut dropped = m.clone();
    dropped.remove("part-2.zip");
    check("dropped", &dropped, false, &["span.members"]);
    // A stranger's key over the span: its parts are still the archive's.
    let stranger = SigningKey::from_bytes(&[7u8; 32]);
    let mut foreign = m.clone();
    resign(&mut foreign, &stranger, |_| {});
    check("stranger", &foreign, false, &["part-1.key", "part-2.key"]);
    // Compressed parts are not read (stored bytes cannot inflate).
    check("deflated", &m, true, &["bundle.read"]);
    // A span statement with an unknown field is not read.
    let mut unknown = m.clone();
    resign(&mut unknown, &archive, |s| s["note"] = "x".into());
    check("unknown-field", &unknown, false, &["span.signature"]);

    // Ranges: past the broadcast's end, or on a session alone without --broadcast.
    let (o, _) = run(
        &data,
        &[
            "evidence",
            &s1,
            "--broadcast",
            "--from",
            "00:00:02",
            "--to",
            "00:05:00",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("broadcast"));
    let (o, _) = run(
        &data,
        &[
            "evidence",
            &s1,
            "--from",
            "00:00:02",
            "--to",
            "00:00:08",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));

    // The API gives the same kind of bundle; a broadcast is made of what the caller may read.
    let srv = server::start(&data, &[]);
    let admin = server::token(&data, "admin", None);
    let path = format!("/api/sessions/{s2}/evidence?from=2&to=8&broadcast=true");
    let (status, body) = server::get(&srv.1, &path, Some(&admin));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let api = d.path().join("api.zip");
    std::fs::write(&api, body).unwrap();
    let (code, verdict) = verify_json(&data, &api, &[]);
    assert_eq!(code, 0, "{verdict:#}");
    assert_eq!(verdict["span"]["parts"].as_array().unwrap().len(), 2);
    let other = server::token(&data, "platform", Some("bilibili"));
    let (status, _) = server::get(&srv.1, &path, Some(&other));
    assert_eq!(status, 404);
}
