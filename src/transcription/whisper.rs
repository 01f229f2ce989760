//! Speech to timestamped text with whisper.cpp (through `whisper-rs`), one window at a time.
//!
//! The stream is cut into windows of at most 30 s at the quietest moment near the end of each,
//! silent windows are skipped, and every window is decoded on its own: no text is carried over
//! from the previous window (Whisper invents repeats when it is), no prompt is given (a fixed
//! one made Whisper skip repeated sentences) and, with `--lang auto`, the language is detected
//! per window, so a stream that opens in English keeps its Mandarin. Whisper makes one encoder
//! pass per window; the unfinished sentence it leaves at the end starts the next window.
//! Invariant: this module never touches the store; it turns samples into segments.

use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

use crate::media::SAMPLE_RATE;
use crate::text;

use super::windows::{Window, Windower};

/// Which language to transcribe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Language {
    /// Detect per window.
    Auto,
    /// A fixed ISO 639-1 code (`zh`, `en`, ...).
    Fixed(String),
}

impl Language {
    /// Parses `auto` or a language code Whisper knows.
    pub fn parse(s: &str) -> Result<Self, TranscribeError> {
        if s == "auto" {
            return Ok(Language::Auto);
        }
        whisper_rs::get_lang_id(s)
            .map(|_| Language::Fixed(s.to_string()))
            .ok_or_else(|| TranscribeError::Language(s.to_string()))
    }
}

/// Every language code Whisper knows (`en`, `zh`, ...), in Whisper's order.
pub fn language_codes() -> Vec<&'static str> {
    (0..=whisper_rs::get_lang_max_id())
        .filter_map(whisper_rs::get_lang_str)
        .collect()
}

/// One recognised stretch of speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawSegment {
    /// Start, from the beginning of the recording.
    pub start_ms: u64,
    /// End, from the beginning of the recording.
    pub end_ms: u64,
    /// Text as Whisper wrote it.
    pub raw_text: String,
    /// Language of the window it came from.
    pub language: String,
    /// Mean token probability, 0..1.
    pub confidence: f32,
}

#[cfg(test)]
impl RawSegment {
    /// A Mandarin segment for unit tests.
    pub fn mandarin_for_tests(start_ms: u64, end_ms: u64, text: &str) -> Self {
        Self {
            start_ms,
            end_ms,
            raw_text: text.into(),
            language: "zh".into(),
            confidence: 0.9,
        }
    }
}

/// Why transcription failed.
#[derive(Debug, Error)]
pub enum TranscribeError {
    /// whisper.cpp could not load the file.
    #[error("cannot load Whisper model `{path}`: {detail}; reinstall it with `liveproof models install NAME` or pass another --model")]
    Load {
        /// Model path.
        path: String,
        /// whisper.cpp's error.
        detail: String,
    },
    /// Unknown `--lang`.
    #[error("unknown language `{0}`: use auto, zh, en, or another ISO 639-1 code Whisper knows")]
    Language(String),
    /// An English-only model was asked for another language.
    #[error("model `{model}` is English-only and cannot transcribe `{lang}`: use --model base (multilingual)")]
    EnglishOnly {
        /// Model name.
        model: String,
        /// Requested language.
        lang: String,
    },
    /// Inference failed.
    #[error("Whisper failed on the window starting at {at}: {detail}")]
    Inference {
        /// Window start as HH:MM:SS.mmm.
        at: String,
        /// whisper.cpp's error.
        detail: String,
    },
}

/// A loaded model, ready to transcribe windows.
pub struct Transcriber {
    ctx: std::sync::Arc<WhisperContext>,
    /// The decoding state; a fresh one for every input (see `run_full`).
    state: Option<whisper_rs::WhisperState>,
    threads: usize,
    /// Threads of pool workers that have finished, shared among those still busy.
    spare: Option<std::sync::Arc<SpareThreads>>,
    beam: usize,
    language: Language,
    /// Boxed so its address stays fixed while whisper.cpp holds a pointer to it.
    gate: Box<EncoderGate>,
    /// The state holds the mel and first encoder pass of the next `full` call's input, in
    /// this context (see [`Transcriber::encode_first`]).
    encoded: Option<Context>,
    /// whisper.cpp's counters of the states already dropped.
    spent: EngineCounters,
}

/// Threads given up by pool workers that have no more work, for the workers still busy: at
/// the end of a recording one part is often still running while the other cores idle. The
/// thread count never changes the text (whisper.cpp and the BLAS patch split rows between
/// threads, never a dot product).
#[derive(Debug, Default)]
pub struct SpareThreads {
    /// Threads of the workers that have left.
    lent: std::sync::atomic::AtomicUsize,
    /// Workers still taking jobs.
    busy: std::sync::atomic::AtomicUsize,
}

impl SpareThreads {
    /// Shared by `workers` busy workers, nothing lent yet.
    pub fn new(workers: usize) -> Self {
        Self {
            lent: 0.into(),
            busy: workers.into(),
        }
    }

    /// A worker with `threads` threads leaves: its threads go to the others.
    pub fn leave(&self, threads: usize) {
        use std::sync::atomic::Ordering::SeqCst;
        self.lent.fetch_add(threads, SeqCst);
        let _ = self
            .busy
            .fetch_update(SeqCst, SeqCst, |b| Some(b.saturating_sub(1)));
    }

    /// One busy worker's share of the lent threads.
    fn share(&self) -> usize {
        use std::sync::atomic::Ordering::SeqCst;
        self.lent.load(SeqCst) / self.busy.load(SeqCst).max(1)
    }
}

/// What one window gave: its segments, and how much of it Whisper used.
pub struct WindowResult {
    /// Recognised segments, in recording time.
    pub segments: Vec<RawSegment>,
    /// Samples from the window's start that were transcribed; the rest (an unfinished
    /// sentence at the end) belongs at the start of the next window.
    pub consumed: usize,
}

/// Counts whisper.cpp's encoder passes within one `full` call and, when asked, stops it after
/// the first. Whisper ends a pass at its last complete segment and encodes the remainder as
/// a new 30-s input, padded with silence: a second encoder pass costing as much as the first
/// for a few seconds of audio. Handing the remainder back to the caller instead lets it start
/// the next window, which then holds 30 s of real audio.
#[derive(Default)]
struct EncoderGate {
    passes: u32,
    one_pass: bool,
    /// Stop before the first encoder pass (the call only computes the mel and sets the
    /// context: see [`Transcriber::encode_first`]).
    none: bool,
    /// Address of the whisper.cpp state the call runs on (0 until its first encoder pass),
    /// for reading its counters.
    state: usize,
}

/// What whisper.cpp spent, summed over calls: reported under `ingest --json`'s `timings`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineCounters {
    /// Encoder time (µs), convolutions and cross-attention keys included.
    pub encode_us: u64,
    /// Encoder passes.
    pub encoder_passes: u64,
    /// Decoder time (µs): every decoder run, prompts and language detection included.
    pub decode_us: u64,
    /// Decoder runs (one per sampled token, plus detection steps).
    pub decoder_runs: u64,
    /// Windows decoded again at a higher temperature (low log-probability or repetition).
    pub fallbacks: u64,
}

impl EngineCounters {
    /// What was spent between `earlier` and `self`.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            encode_us: self.encode_us - earlier.encode_us,
            encoder_passes: self.encoder_passes - earlier.encoder_passes,
            decode_us: self.decode_us - earlier.decode_us,
            decoder_runs: self.decoder_runs - earlier.decoder_runs,
            fallbacks: self.fallbacks - earlier.fallbacks,
        }
    }

    /// Adds `other` to these.
    pub fn add(&mut self, other: &Self) {
        self.encode_us += other.encode_us;
        self.encoder_passes += other.encoder_passes;
        self.decode_us += other.decode_us;
        self.decoder_runs += other.decoder_runs;
        self.fallbacks += other.fallbacks;
    }
}

extern "C" {
    // The vendored whisper.cpp's accessor for one state's counters (vendor/README.md).
    fn whisper_liveproof_state_counters(state: *mut std::ffi::c_void, out: *mut i64);
    // Its switch for reusing the first encoder pass already in a state (vendor/README.md).
    fn whisper_liveproof_keep_first_encoding(state: *mut std::ffi::c_void);
    // Its ggml frees the large buffers it keeps for the next state (vendor/README.md).
    fn ggml_liveproof_release_buffers();
}

/// Frees the buffers whisper.cpp kept from dropped states for the next one (they save the
/// page faults of fresh memory on every window); called once a transcription's workers are gone.
pub(crate) fn release_kept_buffers() {
    // SAFETY: takes no arguments and frees only blocks no state owns any more.
    unsafe { ggml_liveproof_release_buffers() }
}

/// whisper.cpp's `encoder_begin_callback`: returning false ends `full` with the segments of
/// the passes so far.
unsafe extern "C" fn encoder_gate(
    _ctx: *mut whisper_rs::WhisperSysContext,
    state: *mut whisper_rs::WhisperSysState,
    user: *mut std::ffi::c_void,
) -> bool {
    // SAFETY: `user` is the Transcriber's boxed gate, alive and not otherwise borrowed
    // while `full` runs (the Transcriber is borrowed mutably for the whole call).
    let gate = unsafe { &mut *(user as *mut EncoderGate) };
    gate.passes += 1;
    gate.state = state as usize;
    !gate.none && (!gate.one_pass || gate.passes == 1)
}

/// Keeps glibc from raising its mmap threshold: each window gets a fresh decoding state (its
/// compute buffers are tens of MB), and once such a buffer is freed glibc would serve the next
/// ones from the heap, which it does not give back, so the peak memory would grow by a state
/// per worker.
fn fixed_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: mallopt only sets an allocator parameter; called once, before the buffers.
        ONCE.call_once(|| unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        });
    }
}

/// Language of an input too short for Whisper (under 100 ms) to detect one: nothing is decoded
/// from it either way; live-commerce streams here are mostly Mandarin.
const DEFAULT_GUESS: &str = "zh";

/// Audio heard beyond the end of a short input (3 s): the encoder's context ends this long
/// after the last sample, so Whisper still hears the input end in silence, as in training.
const CONTEXT_PAD: usize = 3 * SAMPLE_RATE as usize;

/// How much of Whisper's 30-s receptive field the encoder computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// All 30 s, as in training: every window of the recording.
    Full,
    /// The input's length plus [`CONTEXT_PAD`] ([`audio_ctx`]): regions the coverage audit
    /// decodes alone, and a section's last window (what is left of the section, often a few
    /// seconds); a window more audio follows keeps the full context, as in training.
    Fitted,
}

impl Context {
    /// A window's context: full when more audio follows it, fitted to what is left when it
    /// is a section's last (its encoder pass costs a share of a full one; measured in
    /// BENCHMARKS.md, issue 18, session 25).
    fn of_window(more_follows: bool) -> Context {
        if more_follows {
            Context::Full
        } else {
            Context::Fitted
        }
    }
}

/// Encoder frames per second of audio (one frame per 20 ms).
const FRAMES_PER_SECOND: usize = 50;

/// whisper.cpp's `audio_ctx` for a region of `len` samples decoded alone: its length plus
/// [`CONTEXT_PAD`], in steps of 64 frames less 4; the whole 30-s context (0) when that is nearly all. The encoder's cost
/// grows with its context, so a 5-s region costs about a quarter of a full pass instead of
/// all of it; measured in BENCHMARKS.md (docs/decisions.md, "Where a window's time goes").
fn audio_ctx(len: usize) -> i32 {
    const STEP: usize = 64;
    const FULL: usize = 30 * FRAMES_PER_SECOND;
    let frames = (len + CONTEXT_PAD) * FRAMES_PER_SECOND / SAMPLE_RATE as usize;
    // 4 frames short of a multiple of 64, as the full 1,500 is of 16: the encoder's products
    // then take the same kernels, and the same work memory, as on a full window (a multiple of
    // 16 sends one to a kernel whose f16 copy of its input added ~18 MB to a state).
    let frames = frames.div_ceil(STEP) * STEP - 4;
    if frames >= FULL - STEP {
        0
    } else {
        frames as i32
    }
}

/// A whisper-rs error as the failure of the input starting at `offset_ms`.
fn failed_at(offset_ms: u64) -> impl Fn(whisper_rs::WhisperError) -> TranscribeError {
    move |e| TranscribeError::Inference {
        at: crate::media::clock(offset_ms),
        detail: e.to_string(),
    }
}

/// Threads to use: the free cores, since ggml's workers busy-wait.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8)
}

impl Transcriber {
    /// Loads a ggml model file.
    pub fn load(
        path: &Path,
        model_name: &str,
        language: Language,
        threads: usize,
        beam: usize,
    ) -> Result<Self, TranscribeError> {
        whisper_rs::install_logging_hooks();
        fixed_mmap_threshold();
        let load_err = |detail: String| TranscribeError::Load {
            path: path.display().to_string(),
            detail,
        };
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        // Flash attention saves memory but was 1.19× slower on this CPU (2-min Mandarin test,
        // base-q8_0, 2 threads): off.
        params.flash_attn(false);
        let ctx =
            WhisperContext::new_with_params(path, params).map_err(|e| load_err(e.to_string()))?;
        if !ctx.is_multilingual() {
            if let Language::Fixed(l) = &language {
                if l != "en" {
                    return Err(TranscribeError::EnglishOnly {
                        model: model_name.into(),
                        lang: l.clone(),
                    });
                }
            }
        }
        let state = ctx.create_state().map_err(|e| load_err(e.to_string()))?;
        Ok(Self {
            ctx: std::sync::Arc::new(ctx),
            state: Some(state),
            threads: threads.max(1),
            spare: None,
            beam: beam.max(1),
            language,
            gate: Box::default(),
            encoded: None,
            spent: EngineCounters::default(),
        })
    }

    /// Another transcriber on the same loaded weights (its own decoding state, ~tens of MB),
    /// with `threads` threads: for transcribing parts of a recording in parallel.
    pub fn fork(&self, threads: usize) -> Result<Self, TranscribeError> {
        let state = self.ctx.create_state().map_err(|e| TranscribeError::Load {
            path: "(second decoding state)".into(),
            detail: e.to_string(),
        })?;
        Ok(Self {
            ctx: self.ctx.clone(),
            state: Some(state),
            threads: threads.max(1),
            spare: None,
            beam: self.beam,
            language: self.language.clone(),
            gate: Box::default(),
            encoded: None,
            spent: EngineCounters::default(),
        })
    }

    fn st(&mut self) -> &mut whisper_rs::WhisperState {
        self.state
            .as_mut()
            .expect("a decoding state outside `full`")
    }

    fn st_ref(&self) -> &whisper_rs::WhisperState {
        self.state
            .as_ref()
            .expect("a decoding state outside `full`")
    }

    /// What whisper.cpp has spent on this transcriber's calls so far.
    pub fn engine_counters(&self) -> EngineCounters {
        let mut total = self.spent;
        if self.gate.state != 0 && self.state.is_some() {
            let mut out = [0i64; 7];
            // SAFETY: `gate.state` is the address whisper.cpp gave the encoder callback during
            // the last `full` on `self.state`, which is still alive (it is reset whenever the
            // state is replaced); the function only reads plain counters.
            unsafe {
                whisper_liveproof_state_counters(
                    self.gate.state as *mut std::ffi::c_void,
                    out.as_mut_ptr(),
                )
            };
            let u = |i: usize| out[i].max(0) as u64;
            total.add(&EngineCounters {
                encode_us: u(0),
                encoder_passes: u(1),
                decode_us: u(2),
                decoder_runs: u(3),
                fallbacks: u(5),
            });
        }
        total
    }

    /// Sets the threads this transcriber's Whisper calls use.
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    /// Lets this transcriber's calls also use threads that finished pool workers lend.
    pub fn borrow_from(&mut self, spare: std::sync::Arc<SpareThreads>) {
        self.spare = Some(spare);
    }

    /// Threads for the next Whisper call: its own and its share of the lent ones.
    fn threads_now(&self) -> usize {
        self.threads + self.spare.as_ref().map_or(0, |s| s.share())
    }

    /// Transcribes a stretch of the recording starting at sample `offset`, window by window,
    /// each window starting where Whisper left the one before.
    pub fn section(
        &mut self,
        offset: u64,
        samples: Vec<f32>,
    ) -> Result<(Vec<RawSegment>, SectionStats), TranscribeError> {
        let mut w = Windower::with_samples(offset, samples);
        let mut out = Vec::new();
        let mut stats = SectionStats::default();
        loop {
            let (win, more) = match w.next_full() {
                Some(win) => (win, true),
                None => match w.finish() {
                    Some(win) => (win, false),
                    None => break,
                },
            };
            let mut consumed = win.samples.len();
            if win.has_sound {
                let r = self.window(&win.samples, win.offset_ms, more)?;
                consumed = r.consumed;
                stats.windows += 1;
                stats.speech_samples += consumed as u64;
                let segments = self.audit_window(&win, consumed, r.segments, &mut stats)?;
                out.extend(segments);
            }
            if more {
                w.give_back(&win.samples[consumed..]);
            } else {
                break;
            }
        }
        Ok((out, stats))
    }

    /// The coverage audit of a plain window: its voice-active regions (in the part Whisper
    /// used; the rest is heard again in the next window) are checked against the text, as
    /// packed chunks are (see `coverage`). Returns the window's segments after the audit.
    fn audit_window(
        &mut self,
        win: &Window,
        consumed: usize,
        segments: Vec<RawSegment>,
        stats: &mut SectionStats,
    ) -> Result<Vec<RawSegment>, TranscribeError> {
        let used = &win.samples[..consumed.min(win.samples.len())];
        let first = win.offset_ms * u64::from(SAMPLE_RATE) / 1000;
        let pieces: Vec<crate::transcription::voice::Piece> =
            crate::transcription::voice::voice_regions(used)
                .into_iter()
                .map(|p| crate::transcription::voice::Piece {
                    src: first + p.at as u64,
                    ..p
                })
                .collect();
        if pieces.is_empty() {
            return Ok(segments);
        }
        let view = crate::transcription::voice::Chunk {
            samples: used.to_vec(),
            pieces,
        };
        let local: Vec<RawSegment> = segments
            .iter()
            .map(|s| RawSegment {
                start_ms: s.start_ms.saturating_sub(win.offset_ms),
                end_ms: s.end_ms.saturating_sub(win.offset_ms),
                ..s.clone()
            })
            .collect();
        let mixed =
            view.pieces.len() > 1 && self.zh_en_mix()? >= crate::transcription::coverage::MIXED;
        let mut a = crate::transcription::coverage::audit(&view, &local, mixed, |samples, ask| {
            self.decode_for_audit(samples, ask)
        })?;
        stats.windows += a.redecoded;
        stats.redecoded += a.redecoded;
        stats.voice_ms += a.voice_ms;
        stats.covered_ms += a.covered_ms;
        stats.gaps.append(&mut a.gaps);
        Ok(a.apply(segments))
    }

    /// Decodes the window in its language: the fixed one; or, with `--lang auto`, the one
    /// Whisper's detector hears in its first 30 s (see [`Transcriber::decode_detected`]).
    /// Returns the language used.
    fn decode_in_language(
        &mut self,
        samples: &[f32],
        offset_ms: u64,
        more_follows: bool,
    ) -> Result<String, TranscribeError> {
        let lang = if !self.ctx.is_multilingual() {
            "en".to_string()
        } else if let Language::Fixed(l) = &self.language {
            l.clone()
        } else {
            return self.decode_detected(
                samples,
                offset_ms,
                more_follows,
                Context::of_window(more_follows),
            );
        };
        self.full(
            samples,
            offset_ms,
            &lang,
            more_follows,
            Context::of_window(more_follows),
        )?;
        Ok(lang)
    }

    /// Encodes the input's first 30 s, asks Whisper's detector on that encoder output (one
    /// decoder step) and decodes in the language it hears, reusing the encoder pass: one pass
    /// and one decoding, whatever the language. The detection depends on the audio alone, so
    /// the language, and so the text, never depend on which inputs this worker decoded before
    /// (reproducible on any thread count). Returns the language used.
    fn decode_detected(
        &mut self,
        samples: &[f32],
        offset_ms: u64,
        more_follows: bool,
        context: Context,
    ) -> Result<String, TranscribeError> {
        let fail = failed_at(offset_ms);
        let lang = if self.encode_first(samples, offset_ms, context)? {
            let (id, probs) = self.detect_on_last_encoding().map_err(fail)?;
            pick_language(id, &probs)
        } else {
            DEFAULT_GUESS.to_string()
        };
        self.full(samples, offset_ms, &lang, more_follows, context)?;
        Ok(lang)
    }

    /// A fresh state holding the mel of `samples` and the encoder output of their first 30 s
    /// in `context`, nothing decoded; the next [`Transcriber::full`] on the same samples and
    /// context reuses both (a vendored whisper.cpp patch, vendor/README.md). False when the
    /// input is too short for whisper.cpp to encode (under 100 ms).
    fn encode_first(
        &mut self,
        samples: &[f32],
        offset_ms: u64,
        context: Context,
    ) -> Result<bool, TranscribeError> {
        let fail = failed_at(offset_ms);
        // A `full` call stopped by the gate before its first pass: it computes the mel and
        // sets the encoder's context as the decoding call will, and hands over the state.
        self.run_full(samples, offset_ms, DEFAULT_GUESS, false, context, true)?;
        if self.gate.passes == 0 || self.gate.state == 0 {
            return Ok(false);
        }
        let threads = self.threads_now();
        self.st().encode(0, threads).map_err(fail)?;
        self.encoded = Some(context);
        Ok(true)
    }

    /// Language probabilities from the encoder output left in the state by the last `full`:
    /// the decoder's first step after <|startoftranscript|>, as whisper.cpp's detector does
    /// after its own encoder pass.
    fn detect_on_last_encoding(&mut self) -> Result<(i32, Vec<f32>), whisper_rs::WhisperError> {
        let (sot, threads) = (self.ctx.token_sot(), self.threads_now());
        self.st().decode(&[sot], 0, threads)?;
        let logits = self.st_ref().get_logits()?;
        let n = whisper_rs::get_lang_max_id() + 1;
        let scores: Vec<f32> = (0..n)
            .map(|i| {
                let t = self.ctx.token_lang(i) as usize;
                logits.get(t).copied().unwrap_or(f32::NEG_INFINITY)
            })
            .collect();
        let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
        let sum: f32 = exp.iter().sum();
        let probs: Vec<f32> = exp.iter().map(|e| e / sum).collect();
        let best = (0..n as usize)
            .max_by(|&a, &b| probs[a].total_cmp(&probs[b]))
            .unwrap_or(0) as i32;
        Ok((best, probs))
    }

    /// One `whisper_full` call on the window, results left in the state.
    fn full(
        &mut self,
        samples: &[f32],
        offset_ms: u64,
        lang: &str,
        more_follows: bool,
        context: Context,
    ) -> Result<(), TranscribeError> {
        self.run_full(samples, offset_ms, lang, more_follows, context, false)
    }

    /// A `whisper_full` call; with `only_mel`, stopped before the first encoder pass. On a
    /// fresh state, unless the state holds this input's first pass (`encode_first`).
    fn run_full(
        &mut self,
        samples: &[f32],
        offset_ms: u64,
        lang: &str,
        more_follows: bool,
        context: Context,
        only_mel: bool,
    ) -> Result<(), TranscribeError> {
        let strategy = if self.beam > 1 {
            SamplingStrategy::BeamSearch {
                beam_size: self.beam as i32,
                patience: -1.0,
            }
        } else {
            SamplingStrategy::Greedy { best_of: 1 }
        };
        // Every call consumes what `encode_first` prepared, so a prepared state is reused by
        // the very next call only (the one given the same samples), never by a later one.
        let prepared = self.encoded.take();
        let reuse = !only_mel && prepared == Some(context) && self.gate.state != 0;
        if reuse {
            // SAFETY: `gate.state` is the address of `self.state`'s whisper.cpp state (set by
            // the gate during `encode_first`, on this same state); the call sets one flag.
            unsafe {
                whisper_liveproof_keep_first_encoding(self.gate.state as *mut std::ffi::c_void)
            };
        } else {
            // A fresh decoding state for every input: whisper.cpp seeds the first decoder's
            // sampler only when a state is made, so at a fallback temperature (> 0) the text
            // would depend on how many samples this worker drew for earlier windows, i.e. on
            // the thread count. The old state goes first: two at once would double the peak
            // memory.
            self.spent = self.engine_counters();
            self.gate.state = 0;
            self.state = None;
            self.state = Some(
                self.ctx
                    .create_state()
                    .map_err(|e| TranscribeError::Inference {
                        at: crate::media::clock(offset_ms),
                        detail: format!("cannot make a decoding state: {e}"),
                    })?,
            );
        }
        let mut p = FullParams::new(strategy);
        p.set_n_threads(self.threads_now() as i32);
        p.set_no_context(true);
        // No earlier text as prompt either when whisper.cpp moves on inside one call (a
        // window's tail): a prompt of 32+ tokens sends the vocabulary projection through
        // BLAS, which converts the whole q8_0 embedding to a 106-MB f32 copy per worker.
        p.set_n_max_text_ctx(0);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_special(false);
        p.set_print_timestamps(false);
        p.set_suppress_blank(true);
        p.set_language(Some(lang));
        if context == Context::Fitted {
            p.set_audio_ctx(audio_ctx(samples.len()));
        }
        *self.gate = EncoderGate {
            passes: 0,
            one_pass: more_follows,
            none: only_mel,
            state: self.gate.state,
        };
        // SAFETY: the callback only touches the gate, whose box outlives this call.
        unsafe {
            p.set_start_encoder_callback(Some(encoder_gate));
            p.set_start_encoder_callback_user_data(
                &mut *self.gate as *mut EncoderGate as *mut std::ffi::c_void,
            );
        }
        self.st()
            .full(p, samples)
            .map_err(|e| TranscribeError::Inference {
                at: crate::media::clock(offset_ms),
                detail: e.to_string(),
            })
    }

    /// The segments whisper.cpp left in the state, in recording time, and how far (10 ms
    /// units from the window's start) they reach.
    fn segments_of_last_call(
        &self,
        offset_ms: u64,
        window_end: u64,
        lang: &str,
    ) -> (Vec<RawSegment>, u64) {
        let eot = self.ctx.token_eot();
        let mut out = Vec::new();
        let mut used_to = 0u64;
        for seg in self.st_ref().as_iter() {
            used_to = used_to.max(seg.end_timestamp().max(0) as u64);
            let raw = seg
                .to_str_lossy()
                .map(|s| s.into_owned())
                .unwrap_or_default();
            let raw = raw.trim().to_string();
            if raw.is_empty() || text::is_non_speech_annotation(&raw) {
                continue;
            }
            let (mut sum, mut n) = (0f32, 0u32);
            for i in 0..seg.n_tokens() {
                if let Some(t) = seg.get_token(i) {
                    if t.token_id() < eot {
                        sum += t.token_probability();
                        n += 1;
                    }
                }
            }
            // Whisper's timestamps are in 10 ms units, relative to the window.
            let start = (offset_ms + (seg.start_timestamp().max(0) as u64) * 10).min(window_end);
            let end = (offset_ms + (seg.end_timestamp().max(0) as u64) * 10)
                .min(window_end)
                .max(start);
            out.push(RawSegment {
                start_ms: start,
                end_ms: end,
                raw_text: raw,
                language: lang.to_string(),
                confidence: if n == 0 { 0.0 } else { sum / n as f32 },
            });
        }
        (out, used_to)
    }

    /// Decodes one speech region on its own (times from the region's start): in `lang`, or,
    /// with `None`, in the language Whisper's detector hears in this region alone. Used to
    /// recover speech a packed window dropped. Returns the segments and the language used.
    pub fn region(
        &mut self,
        samples: &[f32],
        lang: Option<&str>,
    ) -> Result<(Vec<RawSegment>, String), TranscribeError> {
        let end = samples.len() as u64 * 1000 / u64::from(SAMPLE_RATE);
        let lang = match lang {
            Some(l) => l.to_string(),
            None if !self.ctx.is_multilingual() => "en".into(),
            None => {
                // The language the detector hears in this region alone, on the encoder pass
                // the decoding then reuses.
                let used = self.decode_detected(samples, 0, false, Context::Fitted)?;
                return Ok((self.segments_of_last_call(0, end, &used).0, used));
            }
        };
        self.full(samples, 0, &lang, false, Context::Fitted)?;
        Ok((self.segments_of_last_call(0, end, &lang).0, lang))
    }

    /// How mixed Mandarin and English sound in the audio the last call encoded: the share of
    /// the less likely of the two in their combined probability (0: one language; 0.5: as
    /// much of each). One decoder step on the encoder output already computed.
    pub fn zh_en_mix(&mut self) -> Result<f32, TranscribeError> {
        if !self.ctx.is_multilingual() {
            return Ok(0.0);
        }
        let (_, probs) =
            self.detect_on_last_encoding()
                .map_err(|e| TranscribeError::Inference {
                    at: "language check".into(),
                    detail: e.to_string(),
                })?;
        let p = |code: &str| {
            whisper_rs::get_lang_id(code)
                .and_then(|i| probs.get(i as usize).copied())
                .unwrap_or(0.0)
        };
        let (zh, en) = (p("zh"), p("en"));
        Ok(if zh + en <= 0.0 {
            0.0
        } else {
            zh.min(en) / (zh + en)
        })
    }

    /// Decodes a stretch alone for the coverage audit: `Default` is the session's setting (own
    /// detection with `auto`, else the fixed language), `Detect` its own detection whatever
    /// the setting, `In(l)` that language. `LIVEPROOF_FAULT=coverage.deaf` (tests) makes it
    /// come back empty.
    pub fn decode_for_audit(
        &mut self,
        samples: &[f32],
        ask: crate::transcription::coverage::Ask,
    ) -> Result<(Vec<RawSegment>, String), TranscribeError> {
        let fixed = match &self.language {
            Language::Fixed(l) => Some(l.clone()),
            Language::Auto => None,
        };
        let lang = match ask {
            crate::transcription::coverage::Ask::Default => fixed,
            crate::transcription::coverage::Ask::Detect => None,
            crate::transcription::coverage::Ask::In(l) => Some(l.to_string()),
        };
        let (found, used) = self.region(samples, lang.as_deref())?;
        let deaf = crate::fault::injected("coverage.deaf");
        Ok((if deaf { Vec::new() } else { found }, used))
    }

    /// Whether the model knows more than English.
    pub fn multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }

    /// The language setting (`auto` or fixed).
    pub fn language(&self) -> &Language {
        &self.language
    }

    /// Transcribes one window whose first sample is at `offset_ms` in the recording. With
    /// `more_follows`, Whisper makes one pass only and an unfinished tail is left unconsumed
    /// (see [`WindowResult::consumed`]); on the last window it finishes everything.
    pub fn window(
        &mut self,
        samples: &[f32],
        offset_ms: u64,
        more_follows: bool,
    ) -> Result<WindowResult, TranscribeError> {
        let lang = self.decode_in_language(samples, offset_ms, more_follows)?;
        // Stopped after a first pass that kept nothing (its start judged no-speech: music,
        // noise): where Whisper would have resumed is unknown, so it runs to the end instead.
        if self.gate.one_pass && self.gate.passes > 1 && self.st_ref().full_n_segments() == 0 {
            self.full(samples, offset_ms, &lang, false, Context::Full)?;
        }
        let window_end = offset_ms + samples.len() as u64 * 1000 / u64::from(SAMPLE_RATE);
        let (out, used_to) = self.segments_of_last_call(offset_ms, window_end, &lang);
        // When more audio follows, the window counts as used up to its last segment's end
        // (10 ms units) whether Whisper stopped before a second pass or ended the pass early
        // (it sometimes skips the rest of a window, mostly after a repeated sentence): the
        // rest is heard again at the start of the next window.
        let consumed = if more_follows && used_to > 0 {
            ((used_to * u64::from(SAMPLE_RATE) / 100) as usize).min(samples.len())
        } else {
            samples.len()
        };
        Ok(WindowResult {
            segments: out,
            consumed,
        })
    }
}

/// Live-commerce streams here are Mandarin or English; on short, noisy windows Whisper's
/// detector often wavers towards neighbours (Cantonese, Japanese, Korean...), which then yields
/// a transcript in the wrong language. Another language is kept only when it is clearly
/// dominant; otherwise the likelier of Mandarin and English wins.
fn pick_language(id: i32, probs: &[f32]) -> String {
    const CONFIDENT: f32 = 0.7;
    let prob = |code: &str| {
        whisper_rs::get_lang_id(code)
            .and_then(|i| probs.get(i as usize).copied())
            .unwrap_or(0.0)
    };
    let top = whisper_rs::get_lang_str(id).unwrap_or("en");
    if top == "zh" || top == "en" || probs.get(id as usize).copied().unwrap_or(0.0) >= CONFIDENT {
        return top.to_string();
    }
    if prob("zh") >= prob("en") { "zh" } else { "en" }.to_string()
}

/// What a section cost.
#[derive(Debug, Default, Clone)]
pub struct SectionStats {
    /// Windows sent to Whisper (and regions decoded again alone).
    pub windows: u64,
    /// Samples transcribed.
    pub speech_samples: u64,
    /// Speech that yielded no text.
    pub gaps: Vec<crate::transcription::coverage::RawGap>,
    /// Voice-active audio in the windows (ms).
    pub voice_ms: u64,
    /// Of it, covered by text (ms).
    pub covered_ms: u64,
    /// Regions decoded again alone by the coverage audit.
    pub redecoded: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_workers_threads_are_shared_by_the_workers_still_busy() {
        let spare = SpareThreads::new(3);
        assert_eq!(spare.share(), 0);
        spare.leave(2);
        assert_eq!(spare.share(), 1, "two threads over two busy workers");
        spare.leave(2);
        assert_eq!(spare.share(), 4, "the last busy worker gets all");
        spare.leave(2);
        assert_eq!(spare.share(), 6, "never divides by zero");
    }

    #[test]
    fn a_wavering_detection_falls_back_to_mandarin_or_english() {
        let n = whisper_rs::get_lang_max_id() as usize + 1;
        let id = |c: &str| whisper_rs::get_lang_id(c).unwrap();
        let mut p = vec![0.0f32; n];
        p[id("ja") as usize] = 0.4;
        p[id("zh") as usize] = 0.35;
        p[id("en") as usize] = 0.1;
        assert_eq!(pick_language(id("ja"), &p), "zh");
        p[id("ja") as usize] = 0.9;
        assert_eq!(
            pick_language(id("ja"), &p),
            "ja",
            "a clear other language is kept"
        );
        assert_eq!(pick_language(id("en"), &p), "en");
    }

    #[test]
    fn short_inputs_get_a_context_of_their_length_and_full_windows_all_of_it() {
        let s = SAMPLE_RATE as usize;
        // 5 s + 3 s of context: 400 frames, rounded up to 448, less 4.
        assert_eq!(audio_ctx(5 * s), 444);
        assert_eq!(audio_ctx(0), 188);
        assert!(audio_ctx(20 * s) > audio_ctx(10 * s));
        for len in [26 * s, 27 * s, 30 * s, 40 * s] {
            assert_eq!(audio_ctx(len), 0, "{len} samples use the whole context");
        }
        // Never more than the model's 1500 frames.
        assert!((0..30 * s).step_by(s / 10).all(|n| audio_ctx(n) < 1500));
        assert!(
            (0..30 * s)
                .step_by(s / 10)
                .all(|n| audio_ctx(n) == 0 || audio_ctx(n) % 16 == 1500 % 16),
            "a fitted context takes the full one's kernels"
        );
    }
}
