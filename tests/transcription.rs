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
    let s = ingest(d.path(), &f, &["--model", "base-q8_0", "--lang", "zh"]);
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
            "--transcribe-repeats",
        ],
    );
    assert_eq!(s2["timings"]["repeats_reused"], 0);
    let text2 = transcript_text(d2.path(), s2["session"].as_str().unwrap());
    assert!(text2.matches("身体健康").count() >= 5, "{text2}");
}

#[test]
fn q8_0_weights_from_the_converter_transcribe_as_well_as_f16() {
    require_model("base-q8_0");
    let d = tempfile::tempdir().unwrap();
    let script = d.path().join("script.wav");
    mandarin_script(&script, 1);
    let zh = [PADDLE, AISHELL, PADDLE].concat();
    for (file, reference, lang) in [(script, zh.as_str(), "zh"), (fixture("jfk.wav"), JFK, "en")] {
        let s = ingest(d.path(), &file, &["--model", "base-q8_0", "--lang", lang]);
        assert_eq!(s["model"], "base-q8_0");
        let text = transcript_text(d.path(), s["session"].as_str().unwrap());
        let e = if lang == "zh" {
            cer(reference, &text)
        } else {
            wer(reference, &text)
        };
        assert!(e <= 0.25, "{}: error {e:.3}: {text}", file.display());
    }
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
