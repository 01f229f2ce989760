//! Speech regions of a 16 kHz mono WAV from liveproof's voice detector (earshot) and from
//! whisper.cpp's own Silero VAD, with the time each took, as JSON (issue 18's comparison,
//! scored by `benches/vad_compare.py`; BENCHMARKS.md).
//!
//! Usage: vad_compare FILE.wav ggml-silero-v5.1.2.bin
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(wav), Some(model)) = (args.next(), args.next()) else {
        eprintln!("usage: vad_compare FILE.wav ggml-silero-v5.1.2.bin");
        std::process::exit(2);
    };
    let bytes = std::fs::read(&wav).expect("a readable WAV");
    let at = bytes
        .windows(4)
        .position(|w| w == b"data")
        .expect("a WAV data chunk")
        + 8;
    let samples: Vec<f32> = bytes[at..]
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect();
    let s = |n: u64| n as f64 / 16_000.0;

    // As ingest feeds it: blocks of decoded audio, chunks taken as they are ready.
    let clock = Instant::now();
    let mut earshot: Vec<(f64, f64)> = Vec::new();
    let mut packer = liveproof::transcription::voice::Packer::default();
    let mut take = |packer: &mut liveproof::transcription::voice::Packer| {
        while let Some(c) = packer.next_chunk() {
            for p in &c.pieces {
                earshot.push((s(p.src + p.speech.0 as u64), s(p.src + p.speech.1 as u64)));
            }
        }
    };
    for block in samples.chunks(1 << 16) {
        packer.push(block);
        take(&mut packer);
    }
    packer.finish();
    take(&mut packer);
    let earshot_ms = clock.elapsed().as_secs_f64() * 1000.0;
    earshot.sort_by(|a, b| a.0.total_cmp(&b.0));

    whisper_rs::install_logging_hooks();
    let mut cp = whisper_rs::WhisperVadContextParams::new();
    cp.set_n_threads(1);
    let clock = Instant::now();
    let mut vad = whisper_rs::WhisperVadContext::new(&model, cp).expect("a Silero ggml model");
    let load_ms = clock.elapsed().as_secs_f64() * 1000.0;
    let clock = Instant::now();
    let segs = vad
        .segments_from_samples(whisper_rs::WhisperVadParams::new(), &samples)
        .expect("Silero segments");
    let silero_ms = clock.elapsed().as_secs_f64() * 1000.0;
    let silero: Vec<(f64, f64)> = (0..segs.num_segments())
        .filter_map(|i| {
            Some((
                f64::from(segs.get_segment_start_timestamp(i)?) / 100.0,
                f64::from(segs.get_segment_end_timestamp(i)?) / 100.0,
            ))
        })
        .collect();
    let out = serde_json::json!({
        "seconds": s(samples.len() as u64),
        "earshot": { "ms": earshot_ms, "regions": earshot },
        "silero": { "ms": silero_ms, "load_ms": load_ms, "regions": silero },
    });
    println!("{out}");
}
