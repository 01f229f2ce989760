//! Transcription accuracy and container coverage, on real speech with the real models.

mod common;
use common::*;

const JFK: &str = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";
const AISHELL: &str = "广州市房地产中介协会分析";
const PADDLE: &str = "我认为跑步最重要的就是给我带来了身体健康";

#[test]
fn jfk_transcript_word_error_rate_is_at_most_10_percent_with_tiny_en() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let s = ingest(
        d.path(),
        &fixture("jfk.wav"),
        &["--model", "tiny.en", "--lang", "en"],
    );
    assert_eq!(s["language"], "en");
    assert_eq!(s["model"], "tiny.en");
    assert_eq!(s["duration_ms"], 11000);
    let text = transcript_text(d.path(), s["session"].as_str().unwrap());
    let w = wer(JFK, &text);
    assert!(w <= 0.10, "WER {w:.3}: {text}");
}

#[test]
fn mandarin_character_error_rate_is_at_most_25_percent_with_base_and_auto_language() {
    require_model("base");
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("script.wav");
    mandarin_script(&f, 1);
    let s = ingest(d.path(), &f, &["--model", "base"]);
    assert_eq!(s["language"], "zh", "language detected per window");
    let text = transcript_text(d.path(), s["session"].as_str().unwrap());
    let reference = format!("{PADDLE}{AISHELL}{PADDLE}");
    let c = cer(&reference, &text);
    assert!(c <= 0.25, "CER {c:.3}: {text}");
}

#[test]
fn a_looped_mandarin_script_keeps_every_repeat() {
    // Whisper given a fixed prompt collapsed windows like these into their first sentence,
    // and a digital host's loop went unseen.
    require_model("base");
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("loop.wav");
    mandarin_script(&f, 4);
    let s = ingest(d.path(), &f, &["--model", "base", "--lang", "zh"]);
    let text = transcript_text(d.path(), s["session"].as_str().unwrap());
    let said = text.matches("身体健康").count();
    assert!(said >= 7, "8 times said, {said} transcribed: {text}");
    let c = cer(&[PADDLE, AISHELL, PADDLE].concat().repeat(4), &text);
    assert!(c <= 0.25, "CER {c:.3}: {text}");
}

#[test]
fn repeated_audio_takes_the_earlier_transcript_at_its_own_time() {
    // A looped script: the PaddleSpeech clip six times, the AISHELL clip three times.
    require_model("base-q8_0");
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("loop.wav");
    mandarin_script(&f, 3);
    let segments = |s: &serde_json::Value| -> Vec<(u64, String)> {
        let (out, json) = run(d.path(), &["show", s["session"].as_str().unwrap()]);
        assert!(out.status.success());
        json.unwrap()["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["start_ms"].as_u64().unwrap(),
                    g["text"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    // Repeat reuse belongs to the voice-active packing (`--vad`).
    let s = ingest(
        d.path(),
        &f,
        &["--model", "base-q8_0", "--lang", "zh", "--vad"],
    );
    let reused = s["timings"]["repeats_reused"].as_u64().unwrap();
    assert!(reused >= 5, "7 repeats, {reused} reused: {s}");
    assert!(s["timings"]["repeats_reused_ms"].as_u64().unwrap() >= 5 * 3_000);
    let got = segments(&s);
    // Every occurrence is transcribed, in order, at its own time.
    let paddle: Vec<u64> = got
        .iter()
        .filter(|(_, t)| t.contains("身体健康"))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(paddle.len(), 6, "{got:?}");
    assert!(paddle.windows(2).all(|w| w[1] > w[0] + 3_000), "{paddle:?}");
    assert!(
        got.windows(2).all(|w| w[0].0 <= w[1].0),
        "in recording order"
    );
    let text: String = got.iter().map(|(_, t)| t.as_str()).collect();
    let c = cer(&[PADDLE, AISHELL, PADDLE].concat().repeat(3), &text);
    assert!(c <= 0.25, "CER {c:.3}: {text}");
    // Asked to, every repeat goes through Whisper again: the same occurrences are found.
    let d2 = tempfile::tempdir().unwrap();
    let s2 = ingest(
        d2.path(),
        &f,
        &[
            "--model",
            "base-q8_0",
            "--lang",
            "zh",
            "--vad",
            "--transcribe-repeats",
        ],
    );
    assert_eq!(s2["timings"]["repeats_reused"], 0);
    let text2 = transcript_text(d2.path(), s2["session"].as_str().unwrap());
    assert!(text2.matches("身体健康").count() >= 5, "{text2}");
}

#[test]
fn a_looped_script_takes_the_packed_path_by_itself_and_says_so() {
    // A digital host's loop (the same clips again and again) needs no --vad: the opening is
    // listened to first, and the manifest records the path taken, so reproduce follows it.
    require_model("base-q8_0");
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("loop.wav");
    mandarin_script(&f, 3);
    let data = d.path().join("auto");
    let s = ingest(&data, &f, &["--model", "base-q8_0", "--lang", "zh"]);
    let t = &s["timings"];
    assert!(t["loop_share"].as_f64().unwrap() > 0.5, "{s}");
    assert!(t["repeats_reused"].as_u64().unwrap() >= 5, "{s}");
    let id = s["session"].as_str().unwrap();
    let (_, m) = run(&data, &["show", id]);
    let m = m.unwrap();
    assert_eq!(m["transcription"]["vad"], true);
    assert_eq!(m["transcription"]["reuse_repeats"], true);
    let text = transcript_text(&data, id);
    assert_eq!(text.matches("身体健康").count(), 6, "{text}");
    let (o, r) = run(&data, &["reproduce", id]);
    assert!(o.status.success());
    let r = r.unwrap();
    assert_eq!(r["transcript_root"], r["recomputed_root"], "{r}");
    // --no-vad: plain windows, no check, every repeat through Whisper.
    let plain = d.path().join("plain");
    let s = ingest(
        &plain,
        &f,
        &["--model", "base-q8_0", "--lang", "zh", "--no-vad"],
    );
    assert!(s["timings"].get("loop_share").is_none(), "{s}");
    assert_eq!(s["timings"]["repeats_reused"], 0);
    let (_, m) = run(&plain, &["show", s["session"].as_str().unwrap()]);
    assert_eq!(m.unwrap()["transcription"]["vad"], false);
    // Speech that does not mostly repeat stays on the plain path (one repeat in three clips).
    mandarin_script(&f, 1);
    let once = d.path().join("once");
    let s = ingest(&once, &f, &["--model", "base-q8_0", "--lang", "zh"]);
    let share = s["timings"]["loop_share"].as_f64().unwrap();
    assert!(share < 0.5, "{s}");
    let (_, m) = run(&once, &["show", s["session"].as_str().unwrap()]);
    assert_eq!(m.unwrap()["transcription"]["vad"], false);
}

/// Ingests a Mandarin script and the JFK clip with `model` and holds both within the f16
/// bounds (CER / WER at most 0.25); returns the data directory for further ingests.
fn transcribes_within_f16_bounds(model: &str) -> tempfile::TempDir {
    require_model(model);
    let d = tempfile::tempdir().unwrap();
    let script = d.path().join("script.wav");
    mandarin_script(&script, 1);
    let zh = [PADDLE, AISHELL, PADDLE].concat();
    for (file, reference, lang) in [(script, zh.as_str(), "zh"), (fixture("jfk.wav"), JFK, "en")] {
        let s = ingest(d.path(), &file, &["--model", model, "--lang", lang]);
        assert_eq!(s["model"], model);
        let text = transcript_text(d.path(), s["session"].as_str().unwrap());
        let e = if lang == "zh" {
            cer(reference, &text)
        } else {
            wer(reference, &text)
        };
        assert!(
            e <= 0.25,
            "{model}, {}: error {e:.3}: {text}",
            file.display()
        );
    }
    d
}

#[test]
fn a_q8_0_decoder_beside_an_f16_encoder_loads_and_transcribes_like_f16() {
    // The vendored whisper.cpp patch (ftype 100 + t): encoder and decoder weights of two types.
    transcribes_within_f16_bounds("base-q8_0-decoder");
}

#[test]
fn q8_0_weights_from_the_converter_transcribe_as_well_as_f16() {
    let d = transcribes_within_f16_bounds("base-q8_0");
    // The ingest reports where its time went.
    let s = ingest(
        d.path(),
        &jfk_variant(d.path(), 3),
        &["--model", "base-q8_0"],
    );
    let t = &s["timings"];
    for k in [
        "hash_ms",
        "transcribe_ms",
        "seal_ms",
        "index_ms",
        "speech_ms",
        "windows",
    ] {
        assert!(t[k].is_u64(), "timings.{k}: {s:#}");
    }
    assert!(t["windows"].as_u64().unwrap() >= 1);
    // whisper.cpp's own counters (a vendored accessor): encoder and decoder time, encoder
    // passes (at least one per window), decoder runs (at least one per token of text).
    let n = |k: &str| {
        t[k].as_u64()
            .unwrap_or_else(|| panic!("timings.{k}: {s:#}"))
    };
    assert!(n("encoder_passes") >= n("windows"), "{s:#}");
    assert!(n("encoder_ms") > 0 && n("decoder_ms") > 0, "{s:#}");
    // A run for the prompt and the language check, then at least one per word and one per
    // timestamp around them.
    let text = transcript_text(d.path(), s["session"].as_str().unwrap());
    let words = text.split_whitespace().count() as u64;
    assert!(words >= 3, "{text}");
    assert!(n("decoder_runs") >= words + 3, "{text}: {s:#}");
    // English with the default `--lang auto`: the detector asks on the encoder output that
    // the decoding then reuses (vendored patch), so one window costs one encoder pass and
    // one decoding, not a first decoding in a guessed language and a second pass.
    assert_eq!(n("encoder_passes"), n("windows"), "{s:#}");
    assert!(t["fallbacks"].is_u64(), "{s:#}");
    assert!(
        n("encoder_ms") + n("decoder_ms") <= n("worker_busy_ms") + 50,
        "the engine's time is part of the workers' time: {s:#}"
    );
}

#[test]
fn mandarin_is_stored_in_simplified_characters_with_the_raw_text_kept() {
    require_model("base");
    let d = tempfile::tempdir().unwrap();
    let s = ingest(
        d.path(),
        &fixture("paddlespeech_zh.wav"),
        &["--model", "base", "--lang", "zh"],
    );
    let (_, json) = run(d.path(), &["show", s["session"].as_str().unwrap()]);
    let json = json.unwrap();
    let segs = json["segments"].as_array().unwrap();
    let text: String = segs.iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert!(cer(PADDLE, &text) <= 0.25, "{text}");
    for s in segs {
        let t = s["text"].as_str().unwrap();
        assert_eq!(zhconv::zhconv(t, zhconv::Variant::ZhHans), t, "simplified");
        assert!(!s["raw_text"].as_str().unwrap().is_empty());
        assert_eq!(s["language"], "zh");
        let c = s["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c));
    }
}

#[test]
fn the_same_speech_in_wav_mp3_and_flac_gives_the_same_words() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let mp3 = d.path().join("jfk.mp3");
    let flac = d.path().join("jfk.flac");
    ffmpeg(
        &fixture("jfk.wav"),
        &mp3,
        &["-c:a", "libmp3lame", "-b:a", "64k"],
    );
    // 44.1 kHz stereo 24-bit, like the corpus FLAC, so resampling and downmixing are exercised.
    ffmpeg(
        &fixture("jfk.wav"),
        &flac,
        &[
            "-ar",
            "44100",
            "-ac",
            "2",
            "-sample_fmt",
            "s32",
            "-c:a",
            "flac",
        ],
    );
    let data = d.path().join("data");
    let mut texts = Vec::new();
    for f in [fixture("jfk.wav"), mp3, flac] {
        let s = ingest(&data, &f, &["--model", "tiny.en", "--lang", "en"]);
        texts.push(words(&transcript_text(
            &data,
            s["session"].as_str().unwrap(),
        )));
    }
    assert_eq!(texts[0], texts[1], "wav vs mp3");
    assert_eq!(texts[0], texts[2], "wav vs flac");
    assert!(wer(JFK, &texts[0].join(" ")) <= 0.10);
}

#[test]
fn flv_mpegts_and_m4a_recordings_made_like_live_recorders_transcribe() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let cases = [
        (
            "room.flv",
            vec!["-c:a", "aac", "-ar", "44100", "-f", "flv"],
            "flv",
        ),
        (
            "room.ts",
            vec!["-c:a", "aac", "-ar", "48000", "-f", "mpegts"],
            "mpegts",
        ),
        ("room.m4a", vec!["-c:a", "aac"], "mp4"),
    ];
    for (name, args, container) in cases {
        let f = d.path().join(name);
        ffmpeg(&fixture("jfk.wav"), &f, &args);
        let s = ingest(&data, &f, &["--model", "tiny.en", "--lang", "en"]);
        let id = s["session"].as_str().unwrap();
        let text = transcript_text(&data, id);
        assert!(wer(JFK, &text) <= 0.10, "{name}: {text}");
        let (_, show) = run(&data, &["show", id]);
        assert_eq!(show.unwrap()["audio"]["container"], container, "{name}");
        assert!(
            (10_900..=11_200).contains(&s["duration_ms"].as_u64().unwrap()),
            "{name}: whole file decoded"
        );
    }
}

#[test]
fn a_stream_with_long_silences_is_cut_into_windows_with_correct_timestamps() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    // 40 s of silence, then the speech, then 35 s of silence: three windows, one with speech.
    let f = d.path().join("gaps.wav");
    speech_in_silence(&fixture("jfk.wav"), 40, 35, &f, &[]);
    let data = d.path().join("data");
    let s = ingest(&data, &f, &["--model", "tiny.en"]);
    let (_, show) = run(&data, &["show", s["session"].as_str().unwrap()]);
    let show = show.unwrap();
    let segs = show["segments"].as_array().unwrap();
    let first = segs[0]["start_ms"].as_u64().unwrap();
    let last = segs.last().unwrap()["end_ms"].as_u64().unwrap();
    assert!(
        (39_000..=41_500).contains(&first),
        "speech starts near 40 s, got {first}"
    );
    assert!(
        (49_000..=52_500).contains(&last),
        "speech ends near 51 s, got {last}"
    );
    let text: Vec<&str> = segs.iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert!(wer(JFK, &text.join(" ")) <= 0.15, "{text:?}");
}

/// Peak resident memory (KiB) of the largest child process waited for so far.
fn children_peak_rss_kib() -> i64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage only writes into the struct we pass.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    assert_eq!(rc, 0);
    u.ru_maxrss
}

#[test]
fn a_three_hour_recording_is_processed_in_bounded_memory() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    // Three hours, mostly room noise at a low level, with the speech in the middle; FLAC keeps
    // the file small. Decoded whole it would take 3 h × 16 kHz × 4 B = 691 MB.
    let f = d.path().join("three-hours.flac");
    speech_in_silence(&fixture("jfk.wav"), 5400, 5389, &f, &["-c:a", "flac"]);
    let data = d.path().join("data");
    let s = ingest(&data, &f, &["--model", "tiny.en"]);
    assert_eq!(s["duration_ms"], 3 * 3600 * 1000);
    let peak_mib = children_peak_rss_kib() / 1024;
    assert!(
        peak_mib < 450,
        "peak RSS {peak_mib} MiB: the recording was held in memory"
    );
    let text = transcript_text(&data, s["session"].as_str().unwrap());
    assert!(wer(JFK, &text) <= 0.15, "{text}");
}

#[test]
fn parallel_sections_come_back_in_recording_order_with_their_times() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    // JFK at 0 s, 80 s and 160 s: with two workers the sections (60-90 s, cut at quiet
    // points) are transcribed in parallel and must be merged back in order.
    let a = d.path().join("a.wav");
    speech_in_silence(&fixture("jfk.wav"), 0, 69, &a, &[]);
    let ab = d.path().join("ab.wav");
    ffmpeg(&a, &ab, &["-af", "aloop=loop=2:size=2000000000"]);
    let data = d.path().join("data");
    let s = ingest(&data, &ab, &["--model", "tiny.en", "--threads", "2"]);
    assert_eq!(s["timings"]["workers"], 2);
    let (_, show) = run(&data, &["show", s["session"].as_str().unwrap()]);
    let show = show.unwrap();
    let segs = show["segments"].as_array().unwrap();
    let starts: Vec<u64> = segs
        .iter()
        .map(|s| s["start_ms"].as_u64().unwrap())
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] <= w[1]),
        "in order: {starts:?}"
    );
    for at in [0u64, 80_000, 160_000] {
        let near: Vec<&str> = segs
            .iter()
            .filter(|s| s["start_ms"].as_u64().unwrap().abs_diff(at) < 12_000)
            .map(|s| s["text"].as_str().unwrap())
            .collect();
        assert!(wer(JFK, &near.join(" ")) <= 0.15, "at {at} ms: {near:?}");
    }
}

#[test]
fn auto_language_follows_a_switch_from_english_to_mandarin_and_back() {
    // One worker: after its first window each window is decoded in the previous window's
    // language and checked on the same encoder output, so the switches must be caught there.
    require_model("base");
    let d = tempfile::tempdir().unwrap();
    let en = d.path().join("en.wav");
    ffmpeg(
        &fixture("jfk.wav"),
        &en,
        &["-af", "apad=pad_dur=2,aloop=loop=2:size=2000000000"],
    );
    let zh = d.path().join("zh.wav");
    mandarin_script(&zh, 2);
    let f = d.path().join("switch.wav");
    let st = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(&en)
        .arg("-i")
        .arg(&zh)
        .arg("-i")
        .arg(&en)
        .args(["-filter_complex", "[0][1][2]concat=n=3:v=0:a=1"])
        .arg(&f)
        .status()
        .unwrap();
    assert!(st.success());
    let data = d.path().join("data");
    let s = ingest(
        &data,
        &f,
        &["--model", "base", "--lang", "auto", "--threads", "1"],
    );
    let (_, show) = run(&data, &["show", s["session"].as_str().unwrap()]);
    let show = show.unwrap();
    let segs = show["segments"].as_array().unwrap();
    let text_in = |lang: &str| -> String {
        segs.iter()
            .filter(|s| s["language"] == lang)
            .map(|s| s["text"].as_str().unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let zh_text = text_in("zh");
    let en_text = text_in("en");
    assert!(
        zh_text.matches("身体健康").count() >= 2,
        "Mandarin found: {zh_text}"
    );
    assert!(
        en_text.matches("country").count() >= 4,
        "English on both sides: {en_text}"
    );
    let last = segs.last().unwrap();
    assert_eq!(last["language"], "en", "back to English at the end");
}

const FUNASR: &str = "欢迎大家来体验达摩院推出的语音识别模型";

/// Clips joined with 0.5 s of silence between them (a host switching language mid-stream).
fn switching(out: &std::path::Path, clips: &[&str]) {
    let mut c = std::process::Command::new("ffmpeg");
    c.args(["-nostdin", "-v", "error", "-y"]);
    for clip in clips {
        c.arg("-i").arg(fixture(clip));
    }
    let mut graph = String::new();
    for k in 0..clips.len() {
        graph +=
            &format!("[{k}]aresample=16000,aformat=channel_layouts=mono,apad=pad_dur=0.5[a{k}];");
    }
    for k in 0..clips.len() {
        graph += &format!("[a{k}]");
    }
    graph += &format!("concat=n={}:v=0:a=1", clips.len());
    let st = c
        .args(["-filter_complex", &graph])
        .arg(out)
        .status()
        .unwrap();
    assert!(st.success());
}

/// The segments of a session: (language, text).
fn segments(data: &std::path::Path, id: &str) -> Vec<(String, String)> {
    let (_, v) = run(data, &["show", id]);
    v.unwrap()["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["language"].as_str().unwrap().to_string(),
                s["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_code_switching_recording_keeps_every_utterance_in_its_own_language() {
    require_model("base");
    let d = tempfile::tempdir().unwrap();
    for (name, clips, zh_ref) in [
        (
            "a.wav",
            [
                "jfk.wav",
                "paddlespeech_zh.wav",
                "aishell_BAC009S0724W0121.wav",
            ],
            format!("{PADDLE}{AISHELL}"),
        ),
        (
            "b.wav",
            ["funasr_zh.wav", "jfk.wav", "paddlespeech_zh.wav"],
            format!("{FUNASR}{PADDLE}"),
        ),
    ] {
        let f = d.path().join(name);
        switching(&f, &clips);
        for lang in ["auto", "zh"] {
            let data = d.path().join(format!("data-{name}-{lang}"));
            let s = ingest(&data, &f, &["--model", "base", "--lang", lang]);
            let segs = segments(&data, s["session"].as_str().unwrap());
            let en: String = segs
                .iter()
                .filter(|(l, _)| l == "en")
                .map(|(_, t)| t.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let zh: String = segs
                .iter()
                .filter(|(l, _)| l == "zh")
                .map(|(_, t)| t.as_str())
                .collect();
            let (w, c) = (wer(JFK, &en), cer(&zh_ref, &zh));
            assert!(
                w <= 0.3,
                "{name} --lang {lang}: English WER {w:.2}: {segs:?}"
            );
            assert!(
                c <= 0.35,
                "{name} --lang {lang}: Mandarin CER {c:.2}: {segs:?}"
            );
            // Each segment is labelled with the language it is written in: nothing translated.
            for (l, t) in &segs {
                let han = t.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch));
                assert_eq!(han, l == "zh", "{name}: {l} {t}");
            }
            let cov = s["timings"]["coverage"].as_f64().unwrap();
            assert!(cov >= 0.8, "{name} --lang {lang}: coverage {cov}");
            assert_eq!(s["gaps"], 0);
        }
    }
}

#[test]
fn speech_that_yields_no_text_is_a_sealed_gap_shown_exported_and_proven() {
    require_model("base");
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("b.wav");
    switching(&f, &["funasr_zh.wav", "jfk.wav", "paddlespeech_zh.wav"]);
    let data = d.path().join("data");
    // The fault makes every region decoded alone come back empty: what the packed window
    // (`--vad`, where Whisper drops the clips after the first) left out can only be a gap.
    let out = bin()
        .env("LIVEPROOF_FAULT", "coverage.deaf")
        .args([
            "ingest",
            f.to_str().unwrap(),
            "--model",
            "base",
            "--vad",
            "--json",
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = s["session"].as_str().unwrap();
    let n = s["gaps"].as_u64().unwrap();
    assert!(n >= 1, "{s}");
    assert_eq!(s["timings"]["gaps"], n);
    assert!(s["timings"]["coverage"].as_f64().unwrap() < 0.9);
    let (_, show) = run(&data, &["show", id]);
    let show = show.unwrap();
    let gaps = show["gaps"].as_array().unwrap().clone();
    assert_eq!(gaps.len() as u64, n);
    assert_eq!(show["gap_count"], n);
    assert_eq!(gaps[0]["reason"], "no_text_decoded");
    let txt = bin()
        .args(["export", id, "--format", "txt", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&txt.stdout).contains("speech here was not transcribed"));
    // An excerpt over the gap proves it, and a changed gap fails verification.
    let g0 = gaps[0]["start_ms"].as_u64().unwrap();
    let bundle = d.path().join("gap.zip");
    let (o, _) = run(
        &data,
        &[
            "evidence",
            id,
            "--from",
            &format!("{:.3}", g0.saturating_sub(1000) as f64 / 1000.0),
            "--to",
            &format!(
                "{:.3}",
                (s["duration_ms"].as_u64().unwrap()) as f64 / 1000.0
            ),
            "-o",
            bundle.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (o, v) = run(&data, &["verify", bundle.to_str().unwrap()]);
    assert!(o.status.success(), "{v:?}");
    let mut z = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
    let mut members = std::collections::BTreeMap::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut b).unwrap();
        members.insert(e.name().to_string(), b);
    }
    let html = String::from_utf8_lossy(&members["report.html"]).to_string();
    assert!(html.contains("speech here was not transcribed"));
    let mut excerpt: serde_json::Value = serde_json::from_slice(&members["excerpt.json"]).unwrap();
    assert!(!excerpt["gaps"].as_array().unwrap().is_empty());
    excerpt["gaps"][0]["end_ms"] = (excerpt["gaps"][0]["end_ms"].as_u64().unwrap() - 500).into();
    members.insert(
        "excerpt.json".into(),
        serde_json::to_vec_pretty(&excerpt).unwrap(),
    );
    let forged = d.path().join("forged.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&forged).unwrap());
    for (name, bytes) in &members {
        w.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, bytes).unwrap();
    }
    w.finish().unwrap();
    let (o, _) = run(&data, &["verify", forged.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5), "a shortened gap must not verify");
}

#[test]
fn the_transcript_root_is_the_same_on_one_and_two_threads_and_reproduces() {
    require_model("base");
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("b.wav");
    switching(
        &f,
        &["funasr_zh.wav", "jfk.wav", "paddlespeech_zh.wav", "jfk.wav"],
    );
    let mut roots = Vec::new();
    for threads in ["1", "2"] {
        for vad in [true, false] {
            let data = d.path().join(format!("data-{threads}-{vad}"));
            let mut args = vec!["--model", "base", "--threads", threads];
            if vad {
                args.push("--vad");
            }
            let s = ingest(&data, &f, &args);
            let id = s["session"].as_str().unwrap().to_string();
            let (_, m) = run(&data, &["show", &id]);
            let m = m.unwrap();
            assert_eq!(m["transcription"]["vad"], vad);
            assert_eq!(m["transcription"]["language"], "auto");
            assert_eq!(m["transcription"]["format"], "liveproof/transcription/v3");
            roots.push((vad, m["transcript_root"].as_str().unwrap().to_string()));
            // Re-running the recorded extraction, on another thread count, gives the same root.
            let other = if threads == "1" { "2" } else { "1" };
            let (o, r) = run(&data, &["reproduce", &id, "--threads", other]);
            let r = r.unwrap();
            assert!(o.status.success(), "{r}");
            assert_eq!(r["reproduced"], true);
            assert_eq!(r["session"], id.as_str());
            assert_eq!(r["transcript_root"], r["recomputed_root"]);
            if threads == "2" && !vad {
                // A session transcribed under other pipeline rules is not re-run as if it
                // were this build's: it says which version made it.
                let path = data.join("sessions").join(&id).join("manifest.json");
                let text = std::fs::read_to_string(&path).unwrap();
                let older =
                    text.replace("liveproof/transcription/v3", "liveproof/transcription/v2");
                assert_ne!(text, older);
                std::fs::write(&path, older).unwrap();
                let (o, _) = run(&data, &["reproduce", &id]);
                assert_eq!(o.status.code(), Some(4));
                let err = String::from_utf8_lossy(&o.stderr);
                assert!(err.contains("liveproof/transcription/v2"), "{err}");
            }
        }
    }
    let with_vad: Vec<_> = roots.iter().filter(|r| r.0).collect();
    let without: Vec<_> = roots.iter().filter(|r| !r.0).collect();
    assert_eq!(
        with_vad[0].1, with_vad[1].1,
        "--threads 1 and 2 (voice activity)"
    );
    assert_eq!(
        without[0].1, without[1].1,
        "--threads 1 and 2 (plain windows)"
    );
}

/// 16-kHz mono f32 samples of a file, decoded by ffmpeg.
fn samples_of(path: &std::path::Path) -> Vec<f32> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "f32le", "-ac", "1", "-ar", "16000", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn a_window_decodes_the_same_whatever_the_worker_decoded_before() {
    // Speech buried in loud noise makes Whisper fall back to sampling at a higher
    // temperature; the sampler's state must not carry over from one window to the next, or
    // the text would depend on which worker got which windows (the thread count).
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let noisy = d.path().join("noisy.wav");
    let st = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(fixture("jfk.wav"))
        .args([
            "-f",
            "lavfi",
            "-i",
            "anoisesrc=color=pink:amplitude=1.0:seed=7:duration=11,aformat=sample_rates=16000:channel_layouts=mono",
            "-filter_complex",
            "[0:a]volume=0.5[s];[s][1:a]amix=inputs=2:duration=first:normalize=0",
            "-ar",
            "16000",
            "-ac",
            "1",
            "-y",
        ])
        .arg(&noisy)
        .status()
        .unwrap();
    assert!(st.success());
    let pcm = samples_of(&noisy);
    let model = models_dir().join("ggml-tiny.en.bin");
    let lang = liveproof::transcription::Language::parse("en").unwrap();
    let mut t = liveproof::transcription::Transcriber::load(&model, "tiny.en", lang, 1, 1).unwrap();
    let texts: Vec<String> = (0..4)
        .map(|_| {
            let r = t.window(&pcm, 0, false).unwrap();
            r.segments
                .iter()
                .map(|s| s.raw_text.as_str())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    assert!(texts.iter().all(|x| x == &texts[0]), "{texts:#?}");
}

#[test]
fn a_sidecar_language_fixes_the_transcription_language_unless_lang_is_given() {
    // The platform's sidecar says what the room speaks: with no --lang it fixes the language
    // (recorded in the manifest, so reproduce uses it); an explicit --lang, auto included,
    // overrides it; a language Whisper does not know is refused before anything is archived.
    require_model("base");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let meta = |name: &str, language: serde_json::Value| {
        let p = d.path().join(name);
        let v = serde_json::json!({"platform": "douyin", "room": "r1", "language": language});
        std::fs::write(&p, v.to_string()).unwrap();
        p
    };
    let jfk = fixture("jfk.wav");
    let en = meta("en.json", "en-US".into());
    let s = ingest(
        &data,
        &jfk,
        &["--model", "base", "--meta", en.to_str().unwrap()],
    );
    assert_eq!(s["language"], "en", "{s}");
    let id = s["session"].as_str().unwrap();
    let (_, m) = run(&data, &["show", id]);
    assert_eq!(m.unwrap()["transcription"]["language"], "en");
    let text = transcript_text(&data, id);
    assert!(text.to_lowercase().contains("country"), "{text}");

    // --lang auto given: the sidecar's language is not used.
    let other = d.path().join("other");
    let s = ingest(
        &other,
        &jfk,
        &[
            "--model",
            "base",
            "--lang",
            "auto",
            "--meta",
            en.to_str().unwrap(),
        ],
    );
    let (_, m) = run(&other, &["show", s["session"].as_str().unwrap()]);
    assert_eq!(m.unwrap()["transcription"]["language"], "auto");

    // Unknown or not a string: a clear error, nothing archived.
    for (name, value) in [("bad.json", "Klingon".into()), ("num.json", 7.into())] {
        let bad = meta(name, value);
        let empty = d.path().join(format!("empty-{name}"));
        let (o, _) = run(
            &empty,
            &[
                "ingest",
                jfk.to_str().unwrap(),
                "--meta",
                bad.to_str().unwrap(),
            ],
        );
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("language"), "{err}");
        assert!(files_under(&empty, "sessions").is_empty(), "{err}");
    }
}
