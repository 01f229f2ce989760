//! The bad-input battery: every case gives a clear error naming the input and a documented
//! non-zero exit (or, for odd but valid input, archives it), and the archive is left exactly as
//! it was: same sessions, same originals, same log, no staging leftovers.
//!
//! Cases are generated here from the bundled fixtures; docs/reliability.md counts them.

mod common;
use common::*;
use serde_json::Value;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a case must do.
enum Expect {
    /// Exit with this code; stderr names the input and contains each needle (any of them).
    Refused(i32, &'static [&'static str]),
    /// Archive the input (odd but valid).
    Archived,
}

struct Case {
    name: String,
    /// Command line after `--data DATA`; `{}` is replaced by the input path.
    args: Vec<String>,
    input: PathBuf,
    expect: Expect,
}

/// What must not change when a case is refused.
#[derive(Debug, PartialEq)]
struct Snapshot {
    sessions: Vec<String>,
    blobs: Vec<PathBuf>,
    log_size: u64,
}

fn snapshot(data: &Path) -> Snapshot {
    let (_, s) = run(data, &["sessions"]);
    let mut sessions: Vec<String> = s.unwrap()["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["session"].as_str().unwrap().to_string())
        .collect();
    sessions.sort();
    let mut blobs = files_under(data, "blobs");
    blobs.sort();
    let (_, h) = run(data, &["log", "head"]);
    let log_size = h.map(|h| h["size"].as_u64().unwrap_or(0)).unwrap_or(0);
    Snapshot {
        sessions,
        blobs,
        log_size,
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    p
}

fn ingest_case(name: &str, input: PathBuf, expect: Expect) -> Case {
    Case {
        name: name.to_string(),
        args: ["ingest", "{}", "--model", "tiny.en"]
            .map(String::from)
            .to_vec(),
        input,
        expect,
    }
}

/// Pseudo-random bytes (fixed seed: failures reproduce).
fn noise(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 11) as u8
        })
        .collect()
}

/// A WAV header with the given fields around `pcm`.
fn wav(channels: u16, rate: u32, format: u16, pcm: &[u8]) -> Vec<u8> {
    let mut w = Vec::new();
    w.extend(b"RIFF");
    w.extend((36 + pcm.len() as u32).to_le_bytes());
    w.extend(b"WAVEfmt ");
    w.extend(16u32.to_le_bytes());
    w.extend(format.to_le_bytes());
    w.extend(channels.to_le_bytes());
    w.extend(rate.to_le_bytes());
    w.extend((rate * 2 * u32::from(channels.max(1))).to_le_bytes());
    w.extend((2 * channels).to_le_bytes());
    w.extend(16u16.to_le_bytes());
    w.extend(b"data");
    w.extend((pcm.len() as u32).to_le_bytes());
    w.extend(pcm);
    w
}

fn cases(dir: &Path) -> Vec<Case> {
    let jfk = fs::read(fixture("jfk.wav")).unwrap();
    let pcm_at = jfk.windows(4).position(|w| w == b"data").unwrap() + 8;
    let pcm = &jfk[pcm_at..];
    let mut c = Vec::new();
    let refused = |code, needles| Expect::Refused(code, needles);

    // Empty files and non-media with media names.
    for ext in ["wav", "mp4", "flv", "ts", "mp3", "m4a"] {
        let name = format!("empty.{ext}");
        c.push(ingest_case(
            &name,
            write(dir, &name, b""),
            refused(3, &["empty"]),
        ));
    }
    for (k, ext) in ["wav", "mp4", "flv", "ts", "mp3", "mkv"].iter().enumerate() {
        let name = format!("random.{ext}");
        let p = write(dir, &name, &noise(64 * 1024, k as u32 + 1));
        c.push(ingest_case(
            &name,
            p,
            refused(3, &["not a recording", "corrupt", "cannot"]),
        ));
    }
    let html = write(dir, "page.m4a", b"<!doctype html><title>404</title>");
    c.push(ingest_case(
        "page.m4a",
        html,
        refused(3, &["not a recording"]),
    ));

    // Real containers cut short at several points.
    for (ext, codec) in [
        ("mp4", &["-c:a", "aac"][..]),
        ("flv", &["-c:a", "aac"][..]),
        ("ts", &["-c:a", "aac"][..]),
        ("mp3", &["-c:a", "libmp3lame"][..]),
    ] {
        let full = dir.join(format!("full.{ext}"));
        ffmpeg(&fixture("jfk.wav"), &full, codec);
        let bytes = fs::read(&full).unwrap();
        for (k, frac) in [0.31, 0.62, 0.93].iter().enumerate() {
            let name = format!("cut{k}.{ext}");
            let at = (bytes.len() as f64 * frac) as usize;
            let p = write(dir, &name, &bytes[..at]);
            c.push(ingest_case(
                &name,
                p,
                refused(3, &["truncated", "cut", "corrupt"]),
            ));
        }
    }
    let cut = write(dir, "cut.wav", &jfk[..jfk.len() / 3]);
    c.push(ingest_case("cut.wav", cut, refused(3, &["truncated"])));

    // Odd formats: zero channels, zero rate and an unknown codec are refused; eight
    // channels and unusual rates are valid and archived.
    let p = write(dir, "zero-channels.wav", &wav(0, 16_000, 1, pcm));
    c.push(ingest_case(
        "zero-channels.wav",
        p,
        refused(3, &["corrupt", "channel"]),
    ));
    let p = write(dir, "zero-rate.wav", &wav(1, 0, 1, pcm));
    c.push(ingest_case(
        "zero-rate.wav",
        p,
        refused(3, &["corrupt", "rate"]),
    ));
    let p = write(dir, "codec-0x1234.wav", &wav(1, 16_000, 0x1234, pcm));
    c.push(ingest_case(
        "codec-0x1234.wav",
        p,
        refused(3, &["codec", "corrupt", "not a recording"]),
    ));
    let eight = dir.join("eight-channels.wav");
    ffmpeg(&fixture("jfk.wav"), &eight, &["-ac", "8"]);
    c.push(ingest_case("eight-channels.wav", eight, Expect::Archived));
    for rate in ["8000", "11025", "44100", "96000"] {
        let name = format!("rate-{rate}.flac");
        let p = dir.join(&name);
        ffmpeg(&fixture("jfk.wav"), &p, &["-ar", rate]);
        c.push(ingest_case(&name, p, Expect::Archived));
    }
    // A video with no audio stream at all.
    let video = dir.join("no-audio.mp4");
    let st = std::process::Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=64x64:d=2",
            "-c:v",
            "mpeg4",
        ])
        .arg(&video)
        .status()
        .unwrap();
    assert!(st.success());
    c.push(ingest_case(
        "no-audio.mp4",
        video,
        refused(3, &["no audio"]),
    ));
    // A long silent file (20 minutes): no speech is a clear refusal, not an empty session.
    let silent = write(
        dir,
        "silent-20min.wav",
        &wav(1, 8_000, 1, &vec![0u8; 8_000 * 2 * 1200]),
    );
    c.push(ingest_case(
        "silent-20min.wav",
        silent,
        refused(3, &["no speech"]),
    ));

    // Paths: missing, a directory, odd names.
    c.push(ingest_case(
        "missing.wav",
        dir.join("missing.wav"),
        refused(3, &["no such file"]),
    ));
    // A folder is ingested recording by recording (live rooms); an empty one is refused.
    let d2 = dir.join("folder.wav");
    fs::create_dir_all(&d2).unwrap();
    c.push(ingest_case(
        "folder.wav",
        d2,
        refused(3, &["no recordings", "folder.wav"]),
    ));
    let odd = dir.join("主播 \u{7}bell\ttab.wav");
    fs::copy(fixture("jfk.wav"), &odd).unwrap();
    c.push(ingest_case("bell", odd, Expect::Archived));
    {
        use std::os::unix::ffi::OsStrExt;
        let raw = dir.join(std::ffi::OsStr::from_bytes(b"bad-\xff\xfe-utf8.wav"));
        // Same speech, different bytes, so it is a new session.
        fs::write(&raw, wav(1, 16_000, 1, &pcm[..pcm.len() - 2])).unwrap();
        c.push(ingest_case("bad-", raw, Expect::Archived));
    }

    // Sidecars: huge, deeply nested, invalid UTF-8, control characters, wrong shapes.
    let sidecars: Vec<(&str, Vec<u8>, &'static [&'static str])> = vec![
        (
            "huge.json",
            {
                let mut v = b"{\"x\":\"".to_vec();
                v.extend(std::iter::repeat_n(b'a', 3 << 20));
                v.extend(b"\"}");
                v
            },
            &["limit"],
        ),
        (
            "deep.json",
            [b"{\"a\":".repeat(5000), b"1".to_vec(), b"}".repeat(5000)].concat(),
            &["not JSON", "recursion"],
        ),
        (
            "latin1.json",
            b"{\"host\":\"caf\xe9\"}".to_vec(),
            &["not JSON", "UTF-8", "utf-8"],
        ),
        (
            "control.json",
            br#"{"host":"a\u0007b"}"#.to_vec(),
            &["control"],
        ),
        ("array.json", b"[1,2,3]".to_vec(), &["object"]),
        (
            "kind.json",
            br#"{"host_kind":"robot"}"#.to_vec(),
            &["host_kind"],
        ),
        (
            "time.json",
            br#"{"started_at":"yesterday"}"#.to_vec(),
            &["started_at"],
        ),
        ("number.json", br#"{"platform":42}"#.to_vec(), &["platform"]),
    ];
    for (name, bytes, needles) in sidecars {
        let meta = write(dir, name, &bytes);
        c.push(Case {
            name: name.to_string(),
            args: vec![
                "ingest".into(),
                fixture("jfk.wav").display().to_string(),
                "--meta".into(),
                "{}".into(),
                "--model".into(),
                "tiny.en".into(),
            ],
            input: meta,
            expect: refused(3, needles),
        });
    }

    // Malformed labels in metadata are findings, not failures: archived, reported.
    let label = dir.join("bad-label.mp3");
    ffmpeg(
        &fixture("jfk.wav"),
        &label,
        &[
            "-c:a",
            "libmp3lame",
            "-metadata",
            "AIGC={\"Label\":\"9\", \"x\":\"a b\"}",
        ],
    );
    c.push(ingest_case("bad-label.mp3", label, Expect::Archived));
    // Garbage where a C2PA store would be (a `C2PA` chunk in a WAV).
    let mut garbage = wav(1, 16_000, 1, &pcm[..pcm.len() - 4]);
    garbage.extend(b"C2PA");
    garbage.extend(64u32.to_le_bytes());
    garbage.extend(noise(64, 99));
    let riff = (garbage.len() - 8) as u32;
    garbage[4..8].copy_from_slice(&riff.to_le_bytes());
    let p = write(dir, "bad-c2pa.wav", &garbage);
    c.push(ingest_case("bad-c2pa.wav", p, Expect::Archived));

    // Bundles for `verify`: not a zip, empty zip, traversal names, a bomb, a missing file.
    let verify = |name: &str, input: PathBuf, codes: i32, needles: &'static [&'static str]| Case {
        name: name.to_string(),
        args: vec!["verify".into(), "{}".into()],
        input,
        expect: Expect::Refused(codes, needles),
    };
    c.push(verify(
        "noise.zip",
        write(dir, "noise.zip", &noise(4096, 7)),
        5,
        &["zip", "bundle"],
    ));
    let empty_zip = {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        z.set_comment("");
        z.finish().unwrap().into_inner()
    };
    c.push(verify(
        "empty.zip",
        write(dir, "empty.zip", &empty_zip),
        5,
        &["missing", "bundle"],
    ));
    let mk_zip = |members: &[(&str, Vec<u8>)]| {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (n, b) in members {
            z.start_file(*n, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(b).unwrap();
        }
        z.finish().unwrap().into_inner()
    };
    let trav = mk_zip(&[
        ("../../etc/passwd", b"root".to_vec()),
        ("manifest.json", b"{}".to_vec()),
    ]);
    c.push(verify(
        "traversal.zip",
        write(dir, "traversal.zip", &trav),
        5,
        &["..", "name", "member"],
    ));
    let bomb = mk_zip(&[("transcript.json", vec![b' '; 200 << 20])]);
    c.push(verify(
        "bomb.zip",
        write(dir, "bomb.zip", &bomb),
        5,
        &["large", "limit", "exceeds"],
    ));
    c.push(Case {
        name: "no-bundle.zip".into(),
        args: vec!["verify".into(), "{}".into()],
        input: dir.join("no-bundle.zip"),
        expect: Expect::Refused(3, &["no-bundle.zip"]),
    });

    // Queries and text: syntax errors, bad dates, binary text.
    for (name, q, needle) in [
        ("unclosed-quote", "\"家人们", &["quote"][..]),
        ("dangling-or", "面霜 OR", &["OR"][..]),
        ("unbalanced-paren", "(a b", &[")"][..]),
    ] {
        c.push(Case {
            name: name.into(),
            args: vec!["search".into(), q.into()],
            input: PathBuf::from(q),
            expect: Expect::Refused(2, needle),
        });
    }
    c.push(Case {
        name: "since".into(),
        args: vec![
            "search".into(),
            "面霜".into(),
            "--since".into(),
            "{}".into(),
        ],
        input: PathBuf::from("last-tuesday"),
        expect: Expect::Refused(2, &["since", "last-tuesday"]),
    });
    let bin = write(dir, "binary.txt", &noise(2048, 3));
    c.push(Case {
        name: "binary.txt".into(),
        args: vec!["claims".into(), "check".into(), "{}".into()],
        input: bin,
        expect: Expect::Refused(3, &["UTF-8"]),
    });
    c
}

#[test]
fn every_bad_input_is_refused_clearly_and_loses_nothing() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let inputs = d.path().join("in");
    fs::create_dir_all(&inputs).unwrap();
    // An archive with something in it, which every case must leave as it was.
    ingest(
        &data,
        &fixture("paddlespeech_zh.wav"),
        &["--model", "tiny.en"],
    );
    let cases = cases(&inputs);
    assert!(cases.len() >= 40, "the battery has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let before = snapshot(&data);
        let input = case.input.to_string_lossy().to_string();
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| if a == "{}" { input.clone() } else { a.clone() })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = bin();
        cmd.arg("--data").arg(&data);
        for a in &args {
            if *a == input {
                cmd.arg(&case.input); // keeps non-UTF-8 names intact
            } else {
                cmd.arg(a);
            }
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        let after = snapshot(&data);
        match &case.expect {
            Expect::Refused(code, needles) => {
                let named = err.contains(&case.name)
                    || case
                        .input
                        .file_name()
                        .is_some_and(|f| err.contains(&*f.to_string_lossy()))
                    || err.contains(&input);
                if out.status.code() != Some(*code)
                    || !named
                    || !needles
                        .iter()
                        .any(|n| err.to_lowercase().contains(&n.to_lowercase()))
                {
                    failures.push(format!(
                        "{}: exit {:?} (want {code}), stderr: {err}",
                        case.name,
                        out.status.code()
                    ));
                }
                if before != after {
                    failures.push(format!(
                        "{}: the archive changed: {before:?} → {after:?}",
                        case.name
                    ));
                }
            }
            Expect::Archived => {
                if !out.status.success() || after.sessions.len() != before.sessions.len() + 1 {
                    failures.push(format!("{}: not archived: {err}", case.name));
                }
            }
        }
        if !files_under(&data, "tmp").is_empty() {
            failures.push(format!("{}: staging left behind", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every archived odd input is whole, and the log still matches the catalog.
    let ids = assert_consistent(&data);
    let (_, h) = run(&data, &["log", "head"]);
    // A manifest and an ingest event per session.
    assert_eq!(h.unwrap()["size"].as_u64().unwrap() as usize, 2 * ids.len());
    // The malformed label is reported as such.
    let id = ids
        .iter()
        .find(|id| {
            let (_, s) = run(&data, &["show", id]);
            s.unwrap()["original_name"] == "bad-label.mp3"
        })
        .expect("bad-label.mp3 archived");
    let (_, r) = run(&data, &["report", id]);
    let r: Value = r.unwrap();
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "malformed_aigc_label"),
        "{r:#}"
    );
}
