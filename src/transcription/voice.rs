//! Voice-activity detection and speech packing: only speech reaches Whisper.
//!
//! Each 16 ms frame is scored by `earshot` (a small neural VAD, pure Rust, weights built in).
//! Speech regions (score ≥ 0.5, bridged over pauses shorter than `HANGOVER`, padded by `PAD`
//! on both sides) are packed, in order, into chunks of at most 30 s separated by a short
//! silence, since whisper.cpp pads every input to 30 s anyway: a chunk full of speech costs
//! the same as a 30-s window that is mostly music or silence. Regions more than `MAX_GAP`
//! apart are not packed together. Each chunk keeps the map from
//! its samples back to the recording, so timestamps stay those of the recording.
//! Invariant: every sample scored as speech (plus padding) is in exactly one chunk, in order.

use crate::media::SAMPLE_RATE;
use crate::transcription::repeats::{Library, Repeat};

/// Samples per earshot frame (16 ms at 16 kHz).
const FRAME: usize = 256;
/// Score at or above which a frame is speech.
const THRESHOLD: f32 = 0.5;
/// A pause shorter than this does not end a region (1 s: at least both paddings, so padded
/// regions never overlap).
const HANGOVER: usize = SAMPLE_RATE as usize;
/// Padding kept before and after each region (0.5 s): word edges are not clipped, and Whisper
/// hears the lead-in it was trained with (0.2 s cost the AISHELL clip three characters).
const PAD: usize = SAMPLE_RATE as usize / 2;
/// Regions shorter than this are clicks, not speech (0.25 s).
const MIN_REGION: usize = SAMPLE_RATE as usize / 4;
/// Silence put between packed regions (0.3 s), so Whisper hears a pause there.
pub const JOIN: usize = SAMPLE_RATE as usize * 3 / 10;
/// A longer stretch without speech closes the chunk: what follows may be another speaker or
/// language, and one Whisper window has one language and tends to drop a repeat of what it
/// just heard (10 s).
const MAX_GAP: u64 = 10 * SAMPLE_RATE as u64;
/// Longest chunk (Whisper's receptive field).
const MAX_CHUNK: usize = 30 * SAMPLE_RATE as usize;
/// A region is cut when it reaches this length, at its quietest point after `MIN_CUT`.
const MIN_CUT: usize = 20 * SAMPLE_RATE as usize;

/// One stretch of recording inside a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// First sample, in the chunk.
    pub at: usize,
    /// First sample, in the recording.
    pub src: u64,
    /// Samples.
    pub len: usize,
    /// The region's id among possible repeat references (see `repeats`), if it has one.
    pub id: Option<usize>,
    /// Where its speech starts and ends, in samples from `at` (the rest is padding).
    pub speech: (usize, usize),
}

/// Packed speech, ready for Whisper.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The samples (speech regions with short silences between).
    pub samples: Vec<f32>,
    /// Where each region came from, in order.
    pub pieces: Vec<Piece>,
}

impl Chunk {
    /// Maps a time in the chunk (ms) to the recording (ms). `end` picks the piece that ends
    /// at a boundary rather than the one that starts there.
    pub fn to_recording_ms(&self, chunk_ms: u64, end: bool) -> u64 {
        let rate = u64::from(SAMPLE_RATE);
        let t = (chunk_ms * rate / 1000) as usize;
        let piece = self
            .pieces
            .iter()
            .rev()
            .find(|p| if end { p.at < t } else { p.at <= t })
            .or(self.pieces.first());
        let Some(p) = piece else { return 0 };
        let within = t.saturating_sub(p.at).min(p.len) as u64;
        (p.src + within) * 1000 / rate
    }

    /// Recording time of the chunk's first sample (ms).
    pub fn start_ms(&self) -> u64 {
        self.pieces
            .first()
            .map_or(0, |p| p.src * 1000 / u64::from(SAMPLE_RATE))
    }

    /// Seconds of recorded audio in the chunk (without the joins).
    pub fn speech_samples(&self) -> usize {
        self.pieces.iter().map(|p| p.len).sum()
    }

    /// Appends a region (after a short silence); its speech is `speech` (samples into it).
    pub fn add(&mut self, src: u64, samples: &[f32], id: Option<usize>, speech: (usize, usize)) {
        if !self.samples.is_empty() {
            self.samples.extend(std::iter::repeat_n(0.0, JOIN));
        }
        self.pieces.push(Piece {
            at: self.samples.len(),
            src,
            len: samples.len(),
            id,
            speech,
        });
        self.samples.extend_from_slice(samples);
    }

    /// True when a region of `n` samples still fits.
    pub fn room_for(&self, n: usize) -> bool {
        self.samples.is_empty() || self.samples.len() + JOIN + n <= MAX_CHUNK
    }
}

/// Spectral bands for the stationarity measure: 3 FFT bins (187.5 Hz) each, 125 Hz to 4 kHz.
const BANDS: std::ops::Range<usize> = 2..65;
/// Frames between the two spectra compared (6 × 16 ms ≈ 0.1 s: speech changes its spectrum
/// within that, a held chord or a hum does not).
const STATIONARY_LAG: usize = 6;
/// Frames judged together (0.5 s).
const STATIONARY_SPAN: usize = 31;
/// Spectral similarity over 0.1 s that three quarters of the span must reach for it to be
/// music or noise rather than speech (a held chord: 0.96–0.97; speech: below 0.8; speech at
/// −10 dB under the same chord: at most 0.93).
const STATIONARY: f32 = 0.95;

/// How far back a steady sound began when the gate notices it (samples): three quarters of
/// the span plus the lag.
const STEADY_ONSET: u64 = ((STATIONARY_SPAN * 3 / 4 + STATIONARY_LAG) * FRAME) as u64;

/// Tells steady sounds (held chords, hums, tones), which the speech detector takes for voice,
/// from speech: the shape of the spectrum barely changes over a tenth of a second.
struct SteadyGate {
    fft: std::sync::Arc<dyn realfft::RealToComplex<f32>>,
    hann: Vec<f32>,
    shapes: std::collections::VecDeque<Vec<f32>>,
    similarity: std::collections::VecDeque<f32>,
}

impl Default for SteadyGate {
    fn default() -> Self {
        let hann = (0..FRAME)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / FRAME as f32).cos())
            .collect();
        Self {
            fft: realfft::RealFftPlanner::<f32>::new().plan_fft_forward(FRAME),
            hann,
            shapes: Default::default(),
            similarity: Default::default(),
        }
    }
}

impl SteadyGate {
    /// Takes the next frame; true while the last half second has been steady.
    fn steady(&mut self, frame: &[f32; FRAME]) -> bool {
        let mut buf: Vec<f32> = frame.iter().zip(&self.hann).map(|(x, w)| x * w).collect();
        let mut spec = self.fft.make_output_vec();
        if self.fft.process(&mut buf, &mut spec).is_err() {
            return false;
        }
        let bands: Vec<f32> = BANDS
            .step_by(3)
            .map(|k| (spec[k..k + 3].iter().map(|c| c.norm_sqr()).sum::<f32>() + 1e-9).ln())
            .collect();
        let mean = bands.iter().sum::<f32>() / bands.len() as f32;
        let shape: Vec<f32> = bands.iter().map(|b| b - mean).collect();
        if self.shapes.len() == STATIONARY_LAG {
            let old = self.shapes.pop_front().expect("full");
            let dot: f32 = old.iter().zip(&shape).map(|(a, b)| a * b).sum();
            let norms = old.iter().map(|a| a * a).sum::<f32>().sqrt()
                * shape.iter().map(|b| b * b).sum::<f32>().sqrt();
            // A silent frame has no shape: not steady.
            let sim = if norms > 1e-6 { dot / norms } else { 0.0 };
            if self.similarity.len() == STATIONARY_SPAN {
                self.similarity.pop_front();
            }
            self.similarity.push_back(sim);
        }
        self.shapes.push_back(shape);
        if self.similarity.len() < STATIONARY_SPAN {
            return false;
        }
        let mut s: Vec<f32> = self.similarity.iter().copied().collect();
        s.sort_by(f32::total_cmp);
        s[s.len() / 4] >= STATIONARY
    }
}

/// Streams samples in, chunks of packed speech out.
#[derive(Default)]
pub struct Packer {
    detector: earshot::Detector,
    steady: SteadyGate,
    was_steady: bool,
    /// Samples not yet scored or not yet assigned; `buf[0]` is recording sample `buf_start`.
    buf: Vec<f32>,
    buf_start: u64,
    /// Frames scored so far, as the recording sample where scoring resumes.
    scored_to: u64,
    /// The region being heard, if any.
    open: Option<Open>,
    /// End of the last packed region: a new region's padding never reaches back over it.
    packed_to: u64,
    chunk: Chunk,
    ready: std::collections::VecDeque<Chunk>,
    /// Regions heard so far, when repeats are looked for.
    library: Option<Library>,
    repeats: std::collections::VecDeque<Repeat>,
    /// Samples of speech seen (for reports).
    pub speech_samples: u64,
    /// Samples seen.
    pub total_samples: u64,
}

impl Packer {
    /// Adds decoded samples (16 kHz mono).
    pub fn push(&mut self, samples: &[f32]) {
        self.total_samples += samples.len() as u64;
        self.buf.extend_from_slice(samples);
        let end = self.buf_start + self.buf.len() as u64;
        while self.scored_to + FRAME as u64 <= end {
            let i = (self.scored_to - self.buf_start) as usize;
            let frame: [f32; FRAME] = self.buf[i..i + FRAME].try_into().expect("frame size");
            // Both run on every frame: each keeps its own history.
            let voice = self.detector.predict_f32(&frame) >= THRESHOLD;
            let steady = self.steady.steady(&frame);
            let speech = !steady && voice;
            let (s, e) = (self.scored_to, self.scored_to + FRAME as u64);
            if steady && !self.was_steady {
                // The steady sound began about a span ago: what was taken for speech since
                // then was its start. A region that began inside it is dropped.
                let onset = s.saturating_sub(STEADY_ONSET);
                match self.open {
                    Some(o) if o.first >= onset => self.open = None,
                    Some(ref mut o) => o.last = o.last.min(onset).max(o.first + FRAME as u64),
                    None => {}
                }
            }
            self.was_steady = steady;
            self.scored_to = e;
            match (self.open.as_mut(), speech) {
                (None, true) => {
                    self.open = Some(Open {
                        start: s.saturating_sub(PAD as u64).max(self.packed_to),
                        first: s,
                        last: e,
                    })
                }
                (Some(o), true) => o.last = e,
                (Some(o), false) if e - o.last >= HANGOVER as u64 => self.close(),
                _ => {}
            }
            if let Some(start) = self.open.as_ref().map(|o| o.start) {
                if self.scored_to - start >= MAX_CHUNK as u64 {
                    self.cut_long_region(start);
                }
            }
            if self.open.is_none() {
                // Nothing open: keep only the padding a region starting next may need.
                let keep_from = self.scored_to.saturating_sub(PAD as u64);
                self.drop_before(keep_from);
            }
        }
    }

    /// Ends the stream; the last chunks become ready.
    pub fn finish(&mut self) {
        if self.open.is_some() {
            self.close();
        }
        if !self.chunk.samples.is_empty() {
            self.ready.push_back(std::mem::take(&mut self.chunk));
        }
    }

    /// A packer that also looks for repeated regions (see `repeats`): a region heard before
    /// comes out of `next_repeat` instead of a chunk.
    pub fn with_repeats() -> Self {
        Self {
            library: Some(Library::default()),
            ..Self::default()
        }
    }

    /// The next chunk ready for Whisper.
    pub fn next_chunk(&mut self) -> Option<Chunk> {
        self.ready.pop_front()
    }

    /// The next region found to repeat an earlier one.
    pub fn next_repeat(&mut self) -> Option<Repeat> {
        self.repeats.pop_front()
    }

    fn slice(&self, from: u64, to: u64) -> &[f32] {
        let a = (from.max(self.buf_start) - self.buf_start) as usize;
        let b = ((to - self.buf_start) as usize).min(self.buf.len());
        &self.buf[a.min(b)..b]
    }

    fn drop_before(&mut self, sample: u64) {
        if sample > self.buf_start {
            let n = ((sample - self.buf_start) as usize).min(self.buf.len());
            self.buf.drain(..n);
            self.buf_start += n as u64;
        }
    }

    /// Closes the open region (with its trailing padding) and packs it.
    fn close(&mut self) {
        let Some(Open { start, first, last }) = self.open.take() else {
            return;
        };
        let end = (last + PAD as u64).min(self.buf_start + self.buf.len() as u64);
        if last - start >= MIN_REGION as u64 {
            let region = self.slice(start, end).to_vec();
            self.emit(
                start,
                region,
                ((first - start) as usize, (last - start) as usize),
            );
        }
        self.drop_before(end.saturating_sub(PAD as u64));
    }

    /// A region reached 30 s: cut it at its quietest 100 ms after 20 s and pack the head.
    /// The cut depends only on the audio, so a looped passage is cut the same way each time.
    fn cut_long_region(&mut self, start: u64) {
        let mut region = self.slice(start, start + MAX_CHUNK as u64).to_vec();
        let cut = crate::transcription::windows::quietest_cut(&region, MIN_CUT);
        region.truncate(cut);
        let first = self
            .open
            .map_or(start, |o| o.first.clamp(start, start + cut as u64));
        self.emit(start, region, ((first - start) as usize, cut));
        let next = start + cut as u64;
        self.open = self.open.map(|o| Open {
            start: next,
            first: next,
            last: o.last.max(next),
        });
        self.drop_before(next);
    }

    /// Packs a region for Whisper or, when its speech repeats an earlier region's, sets it
    /// aside as a repeat (its text will come from the earlier region).
    fn emit(&mut self, src: u64, region: Vec<f32>, speech: (usize, usize)) {
        let core_at = src + speech.0 as u64;
        let id = match self.library.as_mut() {
            None => None,
            Some(lib) => {
                let core = &region[speech.0..speech.1.min(region.len())];
                match lib.find(core) {
                    Some(m) => {
                        self.speech_samples += region.len() as u64;
                        self.packed_to = src + region.len() as u64;
                        self.repeats.push_back(Repeat {
                            src,
                            speech,
                            samples: region,
                            of: m.id,
                            shift: core_at as i64 - m.at as i64 - m.lag,
                            retry: None,
                        });
                        return;
                    }
                    None => Some(lib.add(core_at, core)),
                }
            }
        };
        self.pack(src, &region, id, speech);
    }

    fn pack(&mut self, src: u64, region: &[f32], id: Option<usize>, speech: (usize, usize)) {
        self.speech_samples += region.len() as u64;
        self.packed_to = src + region.len() as u64;
        let gap = self
            .chunk
            .pieces
            .last()
            .map_or(0, |p| src.saturating_sub(p.src + p.len as u64));
        if !self.chunk.room_for(region.len()) || gap > MAX_GAP {
            self.ready.push_back(std::mem::take(&mut self.chunk));
        }
        self.chunk.add(src, region, id, speech);
    }
}

/// The voice-active regions of `samples` (a window transcribed as it is), as pieces of one
/// chunk laid over the samples themselves: `at` and `src` are the region's first sample in
/// `samples`, `speech` where its speech lies. For the coverage audit of plain windows.
pub fn voice_regions(samples: &[f32]) -> Vec<Piece> {
    let mut p = Packer::default();
    p.push(samples);
    p.finish();
    let mut out = Vec::new();
    while let Some(c) = p.next_chunk() {
        for piece in c.pieces {
            let src = piece.src as usize;
            out.push(Piece {
                at: src,
                src: piece.src,
                len: piece.len.min(samples.len().saturating_sub(src)),
                id: None,
                speech: piece.speech,
            });
        }
    }
    out
}

/// The region being heard: its first sample (padding included), its first speech frame,
/// and the end of its last speech frame.
#[derive(Debug, Clone, Copy)]
struct Open {
    start: u64,
    first: u64,
    last: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_times_map_back_to_the_recording() {
        let mut c = Chunk::default();
        c.add(16_000 * 10, &vec![0.1; 16_000], None, (0, 16_000)); // 10 s..11 s
        c.add(16_000 * 50, &vec![0.1; 8_000], None, (0, 8_000)); // 50 s..50.5 s
        assert_eq!(c.to_recording_ms(0, false), 10_000);
        assert_eq!(c.to_recording_ms(500, false), 10_500);
        assert_eq!(c.to_recording_ms(1000, true), 11_000);
        // The join (1.0 s..1.3 s) belongs to the region before it.
        assert_eq!(c.to_recording_ms(1_200, true), 11_000);
        assert_eq!(c.to_recording_ms(1_300, false), 50_000);
        assert_eq!(c.to_recording_ms(1_550, true), 50_250);
        assert_eq!(c.start_ms(), 10_000);
    }

    #[test]
    fn regions_never_overlap_so_no_audio_is_transcribed_twice() {
        // Real speech (the JFK fixture) cut into 1.5-s pieces with pauses of 0.6 to 2.4 s.
        let speech = jfk();
        let mut p = Packer::default();
        for (k, piece) in speech.chunks(24_000).enumerate() {
            p.push(piece);
            p.push(&vec![0.0; 9_600 + (k % 4) * 9_600]);
        }
        p.finish();
        let mut pieces = Vec::new();
        while let Some(c) = p.next_chunk() {
            assert!(c.samples.len() <= MAX_CHUNK);
            pieces.extend(c.pieces);
        }
        assert!(pieces.len() >= 2, "the bursts are heard: {pieces:?}");
        for w in pieces.windows(2) {
            assert!(w[0].src + w[0].len as u64 <= w[1].src, "{w:?}");
        }
    }

    /// A held chord with a 3-Hz tremolo (what jingles and background loops often are).
    fn chord(seconds: usize, gain: f32) -> Vec<f32> {
        (0..seconds * 16_000)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                let tau = 2.0 * std::f32::consts::PI;
                gain * (0.08 * (tau * 220.0 * t).sin() * (0.6 + 0.4 * (tau * 3.0 * t).sin())
                    + 0.06 * (tau * 275.0 * t).sin()
                    + 0.05 * (tau * 330.0 * t).sin())
            })
            .collect()
    }

    fn jfk() -> Vec<f32> {
        crate::transcription::fixture_samples("jfk.wav")
    }

    #[test]
    fn a_held_chord_is_not_speech_but_a_voice_over_it_is() {
        let mut p = Packer::default();
        p.push(&chord(8, 1.0));
        p.finish();
        let music: usize = std::iter::from_fn(|| p.next_chunk())
            .map(|c| c.speech_samples())
            .sum();
        // At most the half second before the gate has heard enough, and its padding.
        assert!(
            music < 16_000 * 3 / 2,
            "{music} samples of a chord taken for speech"
        );
        // The JFK clip mixed over the same chord (voice 10 dB below it): still heard.
        let speech = jfk();
        let bed = chord(speech.len() / 16_000 + 1, 1.0);
        let mixed: Vec<f32> = speech.iter().zip(&bed).map(|(v, m)| 0.3 * v + m).collect();
        let mut p = Packer::default();
        p.push(&mixed);
        p.finish();
        let heard: usize = std::iter::from_fn(|| p.next_chunk())
            .map(|c| c.speech_samples())
            .sum();
        assert!(
            heard > speech.len() * 3 / 4,
            "{heard} of {} samples",
            speech.len()
        );
    }

    #[test]
    fn silence_gives_no_chunk_and_memory_stays_bounded() {
        let mut p = Packer::default();
        for _ in 0..600 {
            p.push(&vec![0.0; 16_000]);
            assert!(p.buf.len() < 2 * 16_000);
        }
        p.finish();
        assert!(p.next_chunk().is_none());
        assert_eq!(p.speech_samples, 0);
    }
}
