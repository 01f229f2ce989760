//! Helpers shared by the integration tests: run the real binary on real audio.
#![allow(dead_code)]

pub mod forge;
pub mod independent;
pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_liveproof"));
    c.env("LIVEPROOF_MODELS", models_dir());
    // Two tests may run at once on a 2-core machine; ggml threads busy-wait.
    c.env("LIVEPROOF_THREADS", "1");
    c
}

/// Installed models: `LIVEPROOF_MODELS` or the repository's `models/`.
pub fn models_dir() -> PathBuf {
    std::env::var_os("LIVEPROOF_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
}

/// Fails with instructions when a model the test needs is not installed.
pub fn require_model(name: &str) {
    let p = models_dir().join(format!("ggml-{name}.bin"));
    assert!(
        p.is_file(),
        "{} is missing: run `bash scripts/test.sh` (or `liveproof models install {name}`) first",
        p.display()
    );
}

/// A fixture file.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Converts `src` with ffmpeg (the test makes its own FLV, TS, MP3...).
pub fn ffmpeg(src: &Path, dst: &Path, args: &[&str]) {
    let st = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(src)
        .args(args)
        .arg(dst)
        .status()
        .expect("ffmpeg runs (apt-get install ffmpeg)");
    assert!(st.success(), "ffmpeg failed making {}", dst.display());
}

/// Runs `liveproof ARGS --data DATA --json` and returns (output, parsed JSON if any).
pub fn run(data: &Path, args: &[&str]) -> (Output, Option<serde_json::Value>) {
    let out = bin()
        .args(args)
        .arg("--data")
        .arg(data)
        .arg("--json")
        .output()
        .expect("binary runs");
    let json = serde_json::from_slice(&out.stdout).ok();
    (out, json)
}

/// Ingests and returns the JSON summary, failing the test with stderr on error.
pub fn ingest(data: &Path, file: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["ingest", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (out, json) = run(data, &args);
    assert!(
        out.status.success(),
        "ingest {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    json.expect("ingest --json prints JSON")
}

/// The normalised segment texts of a session, joined.
pub fn transcript_text(data: &Path, session: &str) -> String {
    let (out, json) = run(data, &["show", session]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json.unwrap()["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn levenshtein<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, y) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(x != y);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// English words: lower case, punctuation removed.
pub fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Word error rate of `hyp` against `reference`.
pub fn wer(reference: &str, hyp: &str) -> f64 {
    let (r, h) = (words(reference), words(hyp));
    levenshtein(&r, &h) as f64 / r.len() as f64
}

/// Character error rate for Mandarin: punctuation and spaces removed.
pub fn cer(reference: &str, hyp: &str) -> f64 {
    let keep = |s: &str| -> Vec<char> { s.chars().filter(|c| c.is_alphanumeric()).collect() };
    let (r, h) = (keep(reference), keep(hyp));
    levenshtein(&r, &h) as f64 / r.len() as f64
}

/// Consistency of an archive: every catalogued session has its original (with the right
/// hash), manifest and transcript; staging is empty. Returns the session ids.
pub fn assert_consistent(data: &Path) -> Vec<String> {
    let (out, json) = run(data, &["sessions"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut ids = Vec::new();
    for s in json.unwrap()["sessions"].as_array().unwrap() {
        let id = s["session"].as_str().unwrap().to_string();
        let sha = s["recording_sha256"].as_str().unwrap();
        let bytes = std::fs::read(blob_of(data, sha)).expect("catalogued session has its original");
        assert_eq!(
            liveproof::hashing::sha256_hex(&bytes),
            sha,
            "original is intact"
        );
        let (out, json) = run(data, &["show", &id]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let j = json.unwrap();
        assert!(!j["segments"].as_array().unwrap().is_empty());
        assert_eq!(j["recording_sha256"], sha);
        ids.push(id);
    }
    ids
}

/// Where the store keeps the original with this SHA-256.
pub fn blob_of(data: &Path, sha: &str) -> PathBuf {
    data.join("blobs/sha256")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(sha)
}

/// Files under `dir/sub`, recursively.
pub fn files_under(dir: &Path, sub: &str) -> Vec<PathBuf> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(p) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out)
                } else {
                    out.push(p)
                }
            }
        }
    }
    let mut v = Vec::new();
    walk(&dir.join(sub), &mut v);
    v
}

/// Speaks English `text` into a WAV file with espeak-ng (Debian package).
pub fn speak(path: &Path, text: &str) {
    let st = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "130", "-w"])
        .arg(path)
        .arg(text)
        .status()
        .expect("espeak-ng runs (apt-get install espeak-ng)");
    assert!(st.success());
}

/// Writes `speech` between `before_s` and `after_s` seconds of digital silence into `out`,
/// with extra ffmpeg output arguments.
pub fn speech_in_silence(speech: &Path, before_s: u32, after_s: u32, out: &Path, extra: &[&str]) {
    let st = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("anullsrc=r=16000:cl=mono:d={before_s}"))
        .arg("-i")
        .arg(speech)
        .args(["-f", "lavfi", "-i"])
        .arg(format!("anullsrc=r=16000:cl=mono:d={after_s}"))
        .args(["-filter_complex", "[0][1][2]concat=n=3:v=0:a=1"])
        .args(extra)
        .arg(out)
        .status()
        .expect("ffmpeg runs");
    assert!(st.success(), "ffmpeg failed making {}", out.display());
}

/// The first 4 s of the JFK clip plus `n` extra samples of silence: distinct bytes, same speech.
pub fn jfk_variant(dir: &Path, n: usize) -> PathBuf {
    let src = std::fs::read(fixture("jfk.wav")).unwrap();
    let data_at = src.windows(4).position(|w| w == b"data").unwrap() + 8;
    let mut pcm = src[data_at..data_at + 16_000 * 2 * 4].to_vec();
    pcm.extend(std::iter::repeat_n(0u8, 2 * n));
    let mut wav = Vec::new();
    wav.extend(b"RIFF");
    wav.extend(&(36 + pcm.len() as u32).to_le_bytes());
    wav.extend(b"WAVEfmt ");
    wav.extend(&16u32.to_le_bytes());
    wav.extend(&1u16.to_le_bytes()); // PCM
    wav.extend(&1u16.to_le_bytes()); // mono
    wav.extend(&16_000u32.to_le_bytes());
    wav.extend(&32_000u32.to_le_bytes());
    wav.extend(&2u16.to_le_bytes());
    wav.extend(&16u16.to_le_bytes());
    wav.extend(b"data");
    wav.extend(&(pcm.len() as u32).to_le_bytes());
    wav.extend(pcm);
    let p = dir.join(format!("take-{n}.wav"));
    std::fs::write(&p, wav).unwrap();
    p
}

/// The two Mandarin fixture clips (AISHELL, PaddleSpeech) and the PaddleSpeech one again, each
/// followed by 1 s of silence, the whole script played `times` times: a short looped script
/// like a digital host's, with a sentence repeated inside every 30-s window.
pub fn mandarin_script(out: &Path, times: u32) {
    let clips = [
        "paddlespeech_zh.wav",
        "aishell_BAC009S0724W0121.wav",
        "paddlespeech_zh.wav",
    ];
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-v", "error", "-y"]);
    for _ in 0..times {
        for clip in clips {
            c.arg("-i").arg(fixture(clip));
        }
    }
    let n = clips.len() * times as usize;
    let mut graph = String::new();
    for k in 0..n {
        graph +=
            &format!("[{k}]aresample=16000,aformat=channel_layouts=mono,apad=pad_dur=1[a{k}];");
    }
    for k in 0..n {
        graph += &format!("[a{k}]");
    }
    graph += &format!("concat=n={n}:v=0:a=1");
    let st = c
        .args(["-filter_complex", &graph])
        .arg(out)
        .status()
        .expect("ffmpeg runs");
    assert!(st.success(), "ffmpeg failed making {}", out.display());
}

/// The local test TSA: killed when dropped.
pub struct Tsa(pub std::process::Child, pub PathBuf, pub u16);

impl Drop for Tsa {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A local RFC 3161 TSA (`tests/support/tsa_server.py`) with a self-signed certificate.
pub fn start_tsa(dir: &Path) -> Tsa {
    start_tsa_with(dir, &[])
}

/// A local TSA; `--ca` makes its certificate (`tsa.crt`) issued by a test CA (`ca.crt`).
pub fn start_tsa_with(dir: &Path, args: &[&str]) -> Tsa {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/tsa_server.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .arg(dir)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let port: u16 = line.trim().parse().expect("the TSA prints its port");
    Tsa(child, dir.join("tsa.crt"), port)
}

/// `liveproof evidence ID --from FROM --to TO -o OUT EXTRA…`, which must succeed.
pub fn export_bundle(data: &Path, id: &str, from: &str, to: &str, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "evidence",
        id,
        "--from",
        from,
        "--to",
        to,
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (o, _) = run(data, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `liveproof verify BUNDLE --json --data DATA EXTRA…`: (exit code, verdict). DATA's archive
/// key, if it has one, is trusted when no key is given.
pub fn verify_json(data: &Path, bundle: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let o = bin()
        .args(["verify", bundle.to_str().unwrap(), "--json", "--data"])
        .arg(data)
        .args(extra)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code().unwrap(), v)
}
