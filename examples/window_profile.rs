//! Times whisper.cpp on the first N 30-s windows of a 16 kHz mono WAV: mel, encoder alone,
//! and a whole greedy `full` per window (profiling aid for the ingest benchmark).
//! Usage: window_profile MODEL.bin FILE.wav [WINDOWS] [LANG]
//! Environment: T threads (2); ENC_ONLY=1 mel and encoder only; DECODE_BATCH=1,2,4 the cost of
//! one decoder call on that many tokens (REPS calls each, 20); SHOW=1 print the text; also
//! START, DUR, AUDIO_CTX, BEST_OF, TEMP_INC, NST, NOPROMPT.
use std::time::Instant;
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

fn main() {
    let mut args = std::env::args().skip(1);
    let model = args.next().expect("model");
    let wav = args.next().expect("wav");
    let n: usize = args.next().map_or(4, |s| s.parse().unwrap());
    let lang = args.next().unwrap_or_else(|| "zh".into());
    let threads: usize = std::env::var("T").map_or(2, |s| s.parse().unwrap());
    let temp_inc: f32 = std::env::var("TEMP_INC").map_or(0.2, |s| s.parse().unwrap());
    let audio_ctx: i32 = std::env::var("AUDIO_CTX").map_or(0, |s| s.parse().unwrap());
    let start: f64 = std::env::var("START").map_or(0.0, |s| s.parse().unwrap());
    let best_of: i32 = std::env::var("BEST_OF").map_or(1, |s| s.parse().unwrap());
    let show = std::env::var_os("SHOW").is_some();
    let bytes = std::fs::read(wav).unwrap();
    let at = bytes.windows(4).position(|w| w == b"data").unwrap() + 8;
    let samples: Vec<f32> = bytes[at..]
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect();
    whisper_rs::install_logging_hooks();
    let mut cp = WhisperContextParameters::default();
    cp.use_gpu(false);
    let ctx = WhisperContext::new_with_params(&model, cp).unwrap();
    let mut st = ctx.create_state().unwrap();
    let (mut t_mel, mut t_enc, mut t_full, mut toks) = (0f64, 0f64, 0f64, 0usize);
    let dur: f64 = std::env::var("DUR").map_or(30.0, |s| s.parse().unwrap());
    for w in samples[(start * 16000.0) as usize..]
        .chunks((dur * 16000.0) as usize)
        .take(n)
    {
        let t = Instant::now();
        st.pcm_to_mel(w, threads).unwrap();
        t_mel += t.elapsed().as_secs_f64();
        let t = Instant::now();
        st.encode(0, threads).unwrap();
        t_enc += t.elapsed().as_secs_f64();
        if std::env::var_os("ENC_ONLY").is_some() {
            continue;
        }
        if let Some(ns) = std::env::var_os("DECODE_BATCH") {
            // Cost of one decoder call on n tokens at once (the weights are read once per
            // call): how much batching tokens of several sequences would save.
            for n in ns
                .to_str()
                .unwrap()
                .split(',')
                .map(|s| s.parse::<usize>().unwrap())
            {
                let toks: Vec<i32> = (0..n).map(|i| 50364 + i as i32 * 7).collect();
                let reps: usize = std::env::var("REPS").map_or(20, |s| s.parse().unwrap());
                let t = Instant::now();
                for _ in 0..reps {
                    st.decode(&toks, 0, threads).unwrap();
                }
                println!(
                    "decode {n} tokens: {:.2} ms",
                    t.elapsed().as_secs_f64() * 1e3 / reps as f64
                );
            }
            continue;
        }
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of });
        p.set_n_threads(threads as i32);
        p.set_no_context(true);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_timestamps(false);
        p.set_language(Some(&lang));
        p.set_temperature_inc(temp_inc);
        if audio_ctx > 0 {
            p.set_audio_ctx(audio_ctx);
        }
        if std::env::var_os("NST").is_some() {
            p.set_suppress_nst(true);
        }
        if lang == "zh" && std::env::var_os("NOPROMPT").is_none() {
            p.set_initial_prompt("以下是普通话的句子。");
        }
        let t = Instant::now();
        st.full(p, w).unwrap();
        t_full += t.elapsed().as_secs_f64();
        for s in st.as_iter() {
            toks += s.n_tokens() as usize;
            if show {
                println!(
                    "  [{} {}] {}",
                    s.start_timestamp(),
                    s.end_timestamp(),
                    s.to_str_lossy().unwrap()
                );
            }
        }
    }
    println!(
        "windows {n} threads {threads}: mel {:.3}s enc {:.3}s full {:.3}s per window; tokens {:.0}/window",
        t_mel / n as f64,
        t_enc / n as f64,
        t_full / n as f64,
        toks as f64 / n as f64
    );
}
