//! Digital-host evaluation: a labelled corpus of generated sessions, ingested with the real
//! models, scored for `digital_host` and `undisclosed_digital_host`.
//!
//! Run: `bash scripts/bench-digital-host.sh` (needs tests/fixtures, ffmpeg, espeak-ng, and the
//! tiny.en and base models). Digital-host sessions are English TTS voices (espeak-ng) reading
//! looped sales scripts, and Mandarin scripts made of real recorded utterances looped (Debian
//! has no usable Mandarin TTS voice), with and without spoken disclosure, AIGC labels in MP4,
//! FLV, MP3 and WAV, and a sidecar. Human sessions are distinct real recordings and TTS lines
//! with catch-phrases repeated between them.

use std::path::{Path, PathBuf};
use std::process::Command;

use liveproof::ingest::{self, Options, Quiet};
use liveproof::store::Store;

const LABEL: &str = r#"{"Label":"1","ContentProducer":"001191110108MA01KP2T5U00000","ProduceID":"bench","ReservedCode1":"","ContentPropagator":"001191110108MA01KP2T5U00000","PropagateID":"bench","ReservedCode2":""}"#;

const SCRIPTS: [&str; 3] = [
    "Welcome to our live room everyone. Today we have a special offer on this moisturizing face cream. It is made with natural plant extracts and it is gentle on sensitive skin. Order now and get two free samples.",
    "Hello friends and thank you for joining. This air fryer cooks with almost no oil and it is very easy to clean. The price today is only forty nine dollars. Click the link below before the offer ends.",
    "Good evening and welcome back. These running shoes are light, soft and they last for years. Every order ships for free and you can return them within seven days. Choose your size now.",
];
const DISCLOSE: &str = "Please note, I am an AI host and this video is AI generated. ";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn sh(cmd: &mut Command) {
    let st = cmd.status().expect("tool runs");
    assert!(st.success(), "{cmd:?}");
}

fn speak(out: &Path, text: &str, speed: u32) {
    sh(Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", &speed.to_string(), "-w"])
        .arg(out)
        .arg(text));
}

/// Loops `input` `times` times with a pause, into `out` with ffmpeg args `extra`.
fn looped(input: &Path, times: u32, out: &Path, extra: &[&str]) {
    sh(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(input)
        .args([
            "-af",
            &format!(
                "aresample=16000,apad=pad_dur=2,aloop=loop={}:size=2000000000",
                times - 1
            ),
        ])
        .args(extra)
        .arg(out));
}

fn concat(inputs: &[PathBuf], out: &Path) {
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-v", "error", "-y"]);
    for i in inputs {
        c.arg("-i").arg(i);
    }
    let mut graph = String::new();
    for k in 0..inputs.len() {
        graph +=
            &format!("[{k}]aresample=16000,aformat=channel_layouts=mono,apad=pad_dur=1[a{k}];");
    }
    for k in 0..inputs.len() {
        graph += &format!("[a{k}]");
    }
    graph += &format!("concat=n={}:v=0:a=1", inputs.len());
    c.args(["-filter_complex", &graph]).arg(out);
    sh(&mut c);
}

fn wav_label(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    b.extend_from_slice(b"AIGC");
    b.extend_from_slice(&(LABEL.len() as u32).to_le_bytes());
    b.extend_from_slice(LABEL.as_bytes());
    if LABEL.len() % 2 == 1 {
        b.push(0);
    }
    let n = (b.len() - 8) as u32;
    b[4..8].copy_from_slice(&n.to_le_bytes());
    std::fs::write(path, b).unwrap();
}

struct Case {
    name: String,
    file: PathBuf,
    meta: Option<PathBuf>,
    model: &'static str,
    digital: bool,
    undisclosed: bool,
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut cases: Vec<Case> = Vec::new();
    let sidecar = d.join("digital.json");
    std::fs::write(
        &sidecar,
        r#"{"platform":"bench","host_kind":"digital_human"}"#,
    )
    .unwrap();
    let labelled = ["-metadata", &format!("AIGC={LABEL}")];

    // Digital hosts, English.
    for (k, script) in SCRIPTS.iter().enumerate() {
        for disclosed in [false, true] {
            let text = if disclosed {
                format!("{DISCLOSE}{script}")
            } else {
                script.to_string()
            };
            let once = d.join(format!("s{k}{disclosed}.wav"));
            speak(&once, &text, 135 + 5 * k as u32);
            let variants: Vec<(&str, Vec<&str>)> = vec![
                ("plain.wav", vec![]),
                (
                    "label.mp4",
                    [
                        &labelled[..],
                        &["-c:a", "aac", "-movflags", "use_metadata_tags"],
                    ]
                    .concat(),
                ),
                (
                    "label.flv",
                    [&labelled[..], &["-c:a", "aac", "-f", "flv"]].concat(),
                ),
                (
                    "label.mp3",
                    [&labelled[..], &["-c:a", "libmp3lame"]].concat(),
                ),
            ];
            for (v, extra) in variants {
                // Keep the corpus moderate: every script plain, each label kind on one script.
                let pick = v == "plain.wav"
                    || (v.ends_with("mp4") && k == 0)
                    || (v.ends_with("flv") && k == 1)
                    || (v.ends_with("mp3") && k == 2);
                if !pick {
                    continue;
                }
                let out = d.join(format!("digital-{k}-{disclosed}-{v}"));
                looped(&once, 3, &out, &extra);
                cases.push(Case {
                    name: out.file_name().unwrap().to_string_lossy().into(),
                    file: out,
                    meta: None,
                    model: "tiny.en",
                    digital: true,
                    undisclosed: !disclosed,
                });
            }
        }
        let out = d.join(format!("digital-{k}-sidecar-wavlabel.wav"));
        looped(&d.join(format!("s{k}false.wav")), 3, &out, &[]);
        wav_label(&out);
        cases.push(Case {
            name: format!("digital-{k}-sidecar-wavlabel"),
            file: out,
            meta: Some(sidecar.clone()),
            model: "tiny.en",
            digital: true,
            undisclosed: true,
        });
    }
    // Digital host, Mandarin: a script of real utterances, looped.
    let zh_script = d.join("zh-script.wav");
    concat(
        &[
            fixtures().join("paddlespeech_zh.wav"),
            fixtures().join("aishell_BAC009S0724W0121.wav"),
            fixtures().join("paddlespeech_zh.wav"),
        ],
        &zh_script,
    );
    let out = d.join("digital-zh.wav");
    looped(&zh_script, 4, &out, &[]);
    cases.push(Case {
        name: "digital-zh".into(),
        file: out,
        meta: None,
        model: "base",
        digital: true,
        undisclosed: true,
    });

    // Human hosts: distinct material, catch-phrases repeated.
    let phrase = d.join("phrase.wav");
    speak(&phrase, "Hi family, please follow us, link in bio.", 140);
    let lines = [
        "This lipstick has a soft matte finish and lasts all day.",
        "Let me show you the stitching on this leather bag.",
        "The durian today is sweet and the seeds are small.",
        "I tried this curling iron myself this morning.",
        "Our warehouse is in Guangzhou and orders ship tomorrow.",
        "The blender has three speeds and a glass jar.",
    ];
    let mut clips = Vec::new();
    for (k, l) in lines.iter().enumerate() {
        let p = d.join(format!("line{k}.wav"));
        speak(&p, l, 130 + 3 * k as u32);
        clips.push(p);
    }
    for h in 0..4 {
        let mut parts = vec![phrase.clone(), fixtures().join("jfk.wav"), phrase.clone()];
        parts.push(clips[h].clone());
        parts.push(phrase.clone());
        parts.push(clips[(h + 2) % clips.len()].clone());
        parts.push(phrase.clone());
        let out = d.join(format!("human-en-{h}.wav"));
        concat(&parts, &out);
        cases.push(Case {
            name: format!("human-en-{h}"),
            file: out,
            meta: None,
            model: "tiny.en",
            digital: false,
            undisclosed: false,
        });
    }
    let out = d.join("human-zh.wav");
    concat(
        &[
            fixtures().join("aishell_BAC009S0724W0121.wav"),
            fixtures().join("paddlespeech_zh.wav"),
        ],
        &out,
    );
    cases.push(Case {
        name: "human-zh".into(),
        file: out,
        meta: None,
        model: "base",
        digital: false,
        undisclosed: false,
    });

    // Ingest and score.
    let data = d.join("data");
    let mut store = Store::open(&data).unwrap();
    let models = std::env::var_os("LIVEPROOF_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    let (mut tp, mut fp, mut fn_, mut utp, mut ufp, mut ufn, mut human_suspected) =
        (0, 0, 0, 0, 0, 0, 0);
    println!(
        "| session | expected digital / undisclosed | digital_host | disclosure | undisclosed |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for c in &cases {
        let opts = Options {
            meta: c.meta.clone(),
            model: c.model.into(),
            config: liveproof::config::Config {
                models: models.clone(),
                ..Default::default()
            },
            language: if c.model == "base" {
                "zh".into()
            } else {
                "en".into()
            },
            ..Default::default()
        };
        let s = ingest::ingest(&mut store, &c.file, &opts, &Quiet).unwrap();
        let r = liveproof::disclosure::report(
            &store.manifest(&s.session).unwrap(),
            &store.transcript(&s.session).unwrap(),
            10,
        );
        let digital = r.digital_host != "none";
        let undisclosed = r.findings.iter().any(|f| f == "undisclosed_digital_host");
        match (c.digital, digital) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            _ => {}
        }
        match (c.undisclosed, undisclosed) {
            (true, true) => utp += 1,
            (false, true) => ufp += 1,
            (true, false) => ufn += 1,
            _ => {}
        }
        if !c.digital && r.digital_host == "suspected" {
            human_suspected += 1;
        }
        println!(
            "| {} | {} / {} | {} | {} | {} |",
            c.name, c.digital, c.undisclosed, r.digital_host, r.disclosure, undisclosed
        );
    }
    let f1 = liveproof::claims::precision_recall_f1;
    let (p, r, f) = f1(tp, fp, fn_);
    let (up, ur, uf) = f1(utp, ufp, ufn);
    println!();
    println!("| measure | precision | recall | F1 |");
    println!("| --- | ---: | ---: | ---: |");
    println!("| digital_host (declared or suspected) | {p:.3} | {r:.3} | {f:.3} |");
    println!("| undisclosed_digital_host | {up:.3} | {ur:.3} | {uf:.3} |");
    println!();
    println!(
        "{} sessions ({} digital, {} human); human sessions marked suspected: {human_suspected}",
        cases.len(),
        cases.iter().filter(|c| c.digital).count(),
        cases.iter().filter(|c| !c.digital).count()
    );
}
