//! Transcription: decoded audio in, transcript segments and gaps out, with what it cost. One
//! entry point, [`transcribe`], which `ingest` and `reproduce` call once each.
//!
//! Inside, data flows one way: `windows` cuts the stream (sections, 30-s windows) or `voice`
//! finds voice-active regions and packs them (`--vad`), `repeats` spots regions repeating
//! earlier audio exactly, `workers` runs parallel Whisper workers (`whisper`, the whisper.cpp
//! binding) over sections and chunks, each checking its own coverage (`coverage`: voice-active
//! audio left without text is decoded again alone, and what still yields nothing becomes a
//! gap); `pipeline` drives the whole. Invariant: the text is a function of the samples, the
//! weights and [`Options`] other than `threads`; this module never touches the store.

pub mod coverage;
pub mod path;
mod pipeline;
pub mod repeats;
pub mod voice;
pub mod whisper;
pub mod windows;
pub mod workers;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::media::MediaError;
use crate::transcript::{Gap, Segment};

pub use pipeline::{transcribe, transcribe_on, Engine};

/// The whisper.cpp version linked in, for the manifest.
pub fn engine_version() -> String {
    whisper_rs::get_whisper_version().to_string()
}
pub use whisper::{default_threads, language_codes, Language, TranscribeError, Transcriber};

/// How to transcribe. Every field but `threads` can change the text; they are recorded in the
/// manifest (`manifest::Settings`).
#[derive(Debug, Clone)]
pub struct Options {
    /// The ggml weights file.
    pub model_path: std::path::PathBuf,
    /// The model's name, for messages.
    pub model_name: String,
    /// The language, or detection per window.
    pub language: Language,
    /// Inference threads (speed only, never the text).
    pub threads: usize,
    /// Beam width (1 = greedy).
    pub beam: usize,
    /// Voice-active audio only, packed into windows; off: plain 30-s windows.
    pub vad: bool,
    /// With `vad`: regions repeating earlier audio exactly take its text.
    pub reuse_repeats: bool,
    /// The recording's declared length, when known: it sets the section length (never the
    /// thread count, so the windows do not depend on it).
    pub declared_ms: Option<u64>,
}

/// The decoded audio, read in blocks.
pub trait Audio {
    /// Appends up to `max` samples to `out`; 0 at the end of the stream.
    fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, MediaError>;
    /// Called once the stream has ended, before the last audio is transcribed: a source that
    /// turns out to be damaged fails here rather than after the work.
    fn ended(&mut self) -> Result<(), MediaError>;
}

/// What transcription cost and found, as `ingest --json` reports it under `timings`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Waiting for decoded audio.
    pub decode_wait_ms: u64,
    /// Voice-activity detection and packing.
    pub vad_ms: u64,
    /// Whisper (language detection, encoding, decoding): wall time, all workers together.
    pub transcribe_ms: u64,
    /// Seconds of audio judged to be speech and sent to Whisper (ms).
    pub speech_ms: u64,
    /// Windows (chunks) Whisper processed.
    pub windows: u64,
    /// Whisper workers run in parallel (one decoding state and thread each).
    pub workers: u64,
    /// Time the workers spent transcribing, summed over workers (ms).
    pub worker_busy_ms: u64,
    /// Speech regions found to repeat earlier audio exactly.
    pub repeats_found: u64,
    /// Of those, the ones that took the earlier region's transcript (the others were
    /// transcribed: the earlier text could not be told apart from its neighbours').
    pub repeats_reused: u64,
    /// Their audio (ms), not sent to Whisper.
    pub repeats_reused_ms: u64,
    /// Share of voice-active audio covered by text after the coverage audit, 0 to 1.
    pub coverage: Option<f64>,
    /// Regions decoded again alone because their window left them without text.
    pub regions_redecoded: u64,
    /// Voice-active stretches that still yielded no text: sealed as gaps.
    pub gaps: u64,
    /// whisper.cpp's encoder time, summed over workers (ms).
    #[serde(default)]
    pub encoder_ms: u64,
    /// Encoder passes (a window's 30 s, or a re-decoded region's fitted length).
    #[serde(default)]
    pub encoder_passes: u64,
    /// whisper.cpp's decoder time, summed over workers (ms).
    #[serde(default)]
    pub decoder_ms: u64,
    /// Decoder runs: one per token sampled, fallbacks and language checks included.
    #[serde(default)]
    pub decoder_runs: u64,
    /// Decodings redone at a higher temperature (text repeating itself, or unlikely).
    #[serde(default)]
    pub fallbacks: u64,
}

/// The transcript's content: segments and gaps in recording order, indexed.
#[derive(Debug, Clone)]
pub struct Output {
    /// Segments.
    pub segments: Vec<Segment>,
    /// Voice-active audio that yielded no text.
    pub gaps: Vec<Gap>,
    /// What it cost.
    pub stats: Stats,
}

/// Why transcription failed.
#[derive(Debug, Error)]
pub enum TranscriptionError {
    /// Whisper failed (loading, a worker, a window).
    #[error(transparent)]
    Whisper(#[from] TranscribeError),
    /// The audio could not be read to its end.
    #[error(transparent)]
    Audio(#[from] MediaError),
}

/// Real speech from `tests/fixtures` (16 kHz mono 16-bit WAV) as samples, for unit tests.
#[cfg(test)]
pub(crate) fn fixture_samples(name: &str) -> Vec<f32> {
    let bytes = std::fs::read(format!("tests/fixtures/{name}")).unwrap();
    let at = bytes.windows(4).position(|w| w == b"data").unwrap() + 8;
    bytes[at..]
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect()
}
