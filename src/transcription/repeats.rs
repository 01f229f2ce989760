//! Repeated speech (a digital host's looped audio): found acoustically, transcribed once.
//!
//! Each speech region the voice detector closes is compared with the regions heard before
//! it. A region counts as a repeat only when its waveform matches an earlier one sample for
//! sample (after aligning them): correlation ≥ `MIN_NCC` over the whole region and in every
//! loud 100-ms block, lengths within `LEN_TOLERANCE`. Two different sentences never
//! correlate like that, even in the same synthetic voice; the same audio looped, or the same
//! audio encoded twice, does. A repeat then takes the earlier region's transcript, shifted to
//! its own time, instead of a Whisper pass; if the earlier region's text could not be told
//! apart from its neighbours' (a Whisper segment ran across the boundary), the repeat is
//! transcribed like any other region.
//! Invariant: only regions whose audio was verified against the reference reuse its text.

use std::collections::{HashMap, VecDeque};

use crate::media::SAMPLE_RATE;
use crate::transcription::whisper::RawSegment;

/// Envelope frame (10 ms).
const FRAME: usize = SAMPLE_RATE as usize / 100;
/// Lengths of a region and its reference may differ by this much (the detector's edges move
/// by a frame or two with the audio around them): 0.15 s.
const LEN_TOLERANCE: usize = SAMPLE_RATE as usize * 15 / 100;
/// Envelope alignment searched, in frames either way (0.2 s).
const MAX_LAG_FRAMES: i64 = 20;
/// Envelope correlation a candidate needs before the waveform is compared.
const MIN_ENV_CORR: f64 = 0.95;
/// Waveform correlation (whole region and every loud block) for a repeat.
const MIN_NCC: f64 = 0.9;
/// Block for the per-block check (100 ms).
const BLOCK: usize = SAMPLE_RATE as usize / 10;
/// Samples the fine alignment is searched on (0.25 s).
const PROBE: usize = SAMPLE_RATE as usize / 4;
/// Shortest region worth matching (1 s): shorter ones are cheap to transcribe and too short
/// to tell apart safely.
const MIN_LEN: usize = SAMPLE_RATE as usize;
/// Speech kept for comparison, as 16-bit samples (20 minutes, 38 MB): loops that come back
/// later than that are transcribed again.
const KEEP_SAMPLES: usize = 20 * 60 * SAMPLE_RATE as usize;

/// An earlier region, kept for comparison.
struct Reference {
    id: usize,
    at: u64,
    samples: Vec<i16>,
    env: Vec<f32>,
}

/// A region matched to an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// The earlier region.
    pub id: usize,
    /// Sample `i` of the region is sample `i + lag` of the earlier one.
    pub lag: i64,
    /// Where the earlier region starts in the recording (sample).
    pub at: u64,
}

/// The regions heard so far (the most recent `KEEP_SAMPLES` of them).
#[derive(Default)]
pub struct Library {
    refs: VecDeque<Reference>,
    kept: usize,
    next_id: usize,
}

impl Library {
    /// Finds an earlier region with the same audio as `core`.
    pub fn find(&self, core: &[f32]) -> Option<Match> {
        if core.len() < MIN_LEN {
            return None;
        }
        let env = envelope(core);
        // Most recent first: a loop's last occurrence is the likeliest.
        self.refs
            .iter()
            .rev()
            .filter(|r| r.samples.len().abs_diff(core.len()) <= LEN_TOLERANCE)
            .find_map(|r| {
                let lag = coarse_lag(&r.env, &env)?;
                let lag = fine_lag(&r.samples, core, lag * FRAME as i64)?;
                verify(&r.samples, core, lag).then_some(Match {
                    id: r.id,
                    lag,
                    at: r.at,
                })
            })
    }

    /// Keeps `core`, which starts at recording sample `at`, for later comparisons; its id.
    /// Regions too short to match get an id but are not kept.
    pub fn add(&mut self, at: u64, core: &[f32]) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        if core.len() >= MIN_LEN {
            let samples: Vec<i16> = core
                .iter()
                .map(|&x| (x.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                .collect();
            self.kept += samples.len();
            self.refs.push_back(Reference {
                id,
                at,
                env: envelope(core),
                samples,
            });
            while self.kept > KEEP_SAMPLES {
                let Some(old) = self.refs.pop_front() else {
                    break;
                };
                self.kept -= old.samples.len();
            }
        }
        id
    }
}

/// Log energy per 10-ms frame.
fn envelope(x: &[f32]) -> Vec<f32> {
    x.chunks(FRAME)
        .map(|f| {
            let e = f.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / f.len() as f64;
            (e + 1e-10).log10() as f32
        })
        .collect()
}

/// Frame lag (region frame `i` = reference frame `i + lag`) with the best envelope
/// correlation, if it is high enough.
fn coarse_lag(reference: &[f32], env: &[f32]) -> Option<i64> {
    let mut best: Option<(f64, i64)> = None;
    for lag in -MAX_LAG_FRAMES..=MAX_LAG_FRAMES {
        let pairs = (0..env.len() as i64).filter_map(|i| {
            let j = i + lag;
            (j >= 0 && (j as usize) < reference.len())
                .then(|| (f64::from(env[i as usize]), f64::from(reference[j as usize])))
        });
        let Some(c) = pearson(pairs) else { continue };
        if best.is_none_or(|(b, _)| c > b) {
            best = Some((c, lag));
        }
    }
    best.filter(|&(c, _)| c >= MIN_ENV_CORR).map(|(_, lag)| lag)
}

/// Sample lag near `around` with the best waveform correlation (searched on the loudest
/// quarter second, one frame either way; `verify` then checks the whole region).
fn fine_lag(reference: &[i16], x: &[f32], around: i64) -> Option<i64> {
    let probe = loudest_probe(x);
    let mut best: Option<(f64, i64)> = None;
    for lag in around - FRAME as i64..=around + FRAME as i64 {
        let Some(c) = ncc(reference, x, lag, probe.clone()) else {
            continue;
        };
        if best.is_none_or(|(b, _)| c > b) {
            best = Some((c, lag));
        }
    }
    best.filter(|&(c, _)| c >= MIN_NCC).map(|(_, lag)| lag)
}

/// The whole overlap and every loud 100-ms block correlate; the overlap covers nearly all
/// of both regions.
fn verify(reference: &[i16], x: &[f32], lag: i64) -> bool {
    let from = (-lag).max(0) as usize;
    let to = (reference.len() as i64 - lag).clamp(0, x.len() as i64) as usize;
    if to <= from || to - from + LEN_TOLERANCE < x.len().max(reference.len()) {
        return false;
    }
    if !ncc(reference, x, lag, from..to).is_some_and(|c| c >= MIN_NCC) {
        return false;
    }
    let loudest = (from..to)
        .step_by(BLOCK)
        .map(|b| block_energy(&x[b..(b + BLOCK).min(to)]))
        .fold(0.0, f64::max);
    (from..to).step_by(BLOCK).all(|b| {
        let r = b..(b + BLOCK).min(to);
        // Near-silent blocks carry no words; their correlation is noise.
        block_energy(&x[r.clone()]) < loudest * 1e-3
            || ncc(reference, x, lag, r).is_some_and(|c| c >= MIN_NCC)
    })
}

fn block_energy(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len().max(1) as f64
}

/// The loudest `PROBE` samples of `x` (or all of it), as a range starting on a frame.
fn loudest_probe(x: &[f32]) -> std::ops::Range<usize> {
    let n = PROBE.min(x.len());
    let mut sum: f64 = x[..n].iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    let (mut best, mut best_sum) = (0, sum);
    // Slide one frame at a time: add the frame entering, drop the one leaving.
    let mut start = 0;
    while start + FRAME + n <= x.len() {
        let sq = |r: std::ops::Range<usize>| {
            x[r].iter()
                .map(|&v| f64::from(v) * f64::from(v))
                .sum::<f64>()
        };
        sum += sq(start + n..start + n + FRAME) - sq(start..start + FRAME);
        start += FRAME;
        if sum > best_sum {
            (best, best_sum) = (start, sum);
        }
    }
    best..best + n
}

/// Normalised correlation of `x[range]` with `reference[range + lag]`, over the part of the
/// range both have (None when that is empty or silent).
fn ncc(reference: &[i16], x: &[f32], lag: i64, range: std::ops::Range<usize>) -> Option<f64> {
    let start = (range.start as i64).max(-lag).max(0) as usize;
    let end = (range.end as i64).min(reference.len() as i64 - lag).max(0) as usize;
    if start >= end {
        return None;
    }
    let range = start..end;
    let a = start as i64 + lag;
    let (mut xy, mut xx, mut yy) = (0.0f64, 0.0f64, 0.0f64);
    for (i, &v) in x[range].iter().enumerate() {
        let y = f64::from(reference[a as usize + i]) / 32767.0;
        let v = f64::from(v);
        xy += v * y;
        xx += v * v;
        yy += y * y;
    }
    (xx > 0.0 && yy > 0.0).then(|| xy / (xx * yy).sqrt())
}

fn pearson(pairs: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let (mut n, mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (x, y) in pairs {
        n += 1.0;
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
    }
    if n < 10.0 {
        return None;
    }
    let cov = sxy - sx * sy / n;
    let vx = sxx - sx * sx / n;
    let vy = syy - sy * sy / n;
    (vx > 0.0 && vy > 0.0).then(|| cov / (vx * vy).sqrt())
}

/// A region found to repeat an earlier one, waiting for that one's transcript.
#[derive(Debug)]
pub struct Repeat {
    /// First sample of the (padded) region in the recording.
    pub src: u64,
    /// The region's samples (transcribed after all if the reference's text is unusable).
    pub samples: Vec<f32>,
    /// Where its speech starts and ends, in samples into it.
    pub speech: (usize, usize),
    /// The earlier region.
    pub of: usize,
    /// Recording samples to add to the reference's times.
    pub shift: i64,
    /// Set when this repeat is transcribed in place of an unusable reference: its text
    /// becomes the reference's (the id).
    pub retry: Option<usize>,
}

/// What is known of a reference region's transcript.
enum Text {
    /// Its Whisper pass has not come back yet.
    Pending,
    /// Its segments, in recording time.
    Clean(Vec<RawSegment>),
    /// A Whisper segment ran across its edges (or it had none): its own text is unknown.
    Unusable,
}

/// Repeats waiting for their reference's transcript, and the segments reused so far.
#[derive(Default)]
pub struct Reuse {
    texts: HashMap<usize, Text>,
    waiting: Vec<Repeat>,
    /// Segments given to repeats, in recording time.
    pub segments: Vec<RawSegment>,
    /// Repeats found.
    pub found: u64,
    /// Repeats that took an earlier transcript.
    pub reused: u64,
    /// Their audio (samples).
    pub reused_samples: u64,
}

impl Reuse {
    /// A reference region went to Whisper.
    pub fn sent(&mut self, id: usize) {
        self.texts.insert(id, Text::Pending);
    }

    /// A reference region's transcript came back (`None`: unusable).
    pub fn learn(&mut self, id: usize, segments: Option<Vec<RawSegment>>) {
        self.texts.insert(
            id,
            match segments {
                Some(s) if !s.is_empty() => Text::Clean(s),
                _ => Text::Unusable,
            },
        );
    }

    /// A repeat to resolve once its reference's transcript is known.
    pub fn defer(&mut self, r: Repeat) {
        self.found += 1;
        self.waiting.push(r);
    }

    /// Samples held by waiting repeats.
    pub fn waiting_samples(&self) -> usize {
        self.waiting.iter().map(|r| r.samples.len()).sum()
    }

    /// True while repeats wait.
    pub fn is_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Resolves what can be: repeats of a clean reference take its text; for an unusable
    /// one, one repeat is returned to be transcribed in its place (`retry`), the others
    /// wait. With `all`, every repeat not resolved is returned.
    pub fn settle(&mut self, all: bool) -> Vec<Repeat> {
        let mut transcribe = Vec::new();
        for r in std::mem::take(&mut self.waiting) {
            match self.texts.get(&r.of) {
                Some(Text::Clean(segs)) => {
                    let end = (r.src + r.samples.len() as u64) * 1000 / u64::from(SAMPLE_RATE);
                    let begin = r.src * 1000 / u64::from(SAMPLE_RATE);
                    let shift_ms = r.shift * 1000 / i64::from(SAMPLE_RATE);
                    let moved = |t: u64| (t as i64 + shift_ms).clamp(begin as i64, end as i64);
                    self.segments.extend(segs.iter().map(|s| RawSegment {
                        start_ms: moved(s.start_ms) as u64,
                        end_ms: moved(s.end_ms) as u64,
                        ..s.clone()
                    }));
                    self.reused += 1;
                    self.reused_samples += r.samples.len() as u64;
                }
                // Transcribed in the reference's place; the others wait for its text.
                Some(Text::Unusable) if !all => {
                    self.texts.insert(r.of, Text::Pending);
                    transcribe.push(Repeat {
                        retry: Some(r.of),
                        ..r
                    });
                }
                // Not back yet, or still in the packer's open chunk.
                Some(Text::Pending) | None if !all => self.waiting.push(r),
                _ => transcribe.push(r),
            }
        }
        transcribe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Speech-like noise: bursts of filtered noise with a syllable rhythm (seeded).
    fn babble(seconds: f32, seed: u64) -> Vec<f32> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut prev = 0.0f32;
        (0..(seconds * SAMPLE_RATE as f32) as usize)
            .map(|i| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let white = ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5;
                prev = 0.9 * prev + 0.1 * white;
                let syllable = (i as f32 / SAMPLE_RATE as f32 * (4.0 + (seed % 3) as f32))
                    .sin()
                    .abs();
                prev * syllable * 2.0
            })
            .collect()
    }

    #[test]
    fn the_same_audio_at_another_offset_is_found_with_its_lag() {
        let a = babble(3.0, 1);
        let mut lib = Library::default();
        let id = lib.add(1000, &a);
        lib.add(90_000, &babble(3.0, 2));
        // The repeat's region starts 37 samples later into the same audio, ends 200 later.
        let mut b = a[37..].to_vec();
        b.extend(std::iter::repeat_n(0.0, 200));
        assert_eq!(
            lib.find(&b),
            Some(Match {
                id,
                lag: 37,
                at: 1000
            })
        );
        // A little noise (a second encoding) still matches.
        let noisy: Vec<f32> = b
            .iter()
            .enumerate()
            .map(|(i, &v)| v + 0.002 * ((i * 7919 % 13) as f32 / 13.0 - 0.5))
            .collect();
        assert_eq!(lib.find(&noisy).map(|m| m.id), Some(id));
    }

    #[test]
    fn different_audio_or_a_changed_word_is_not_a_repeat() {
        let a = babble(3.0, 1);
        let mut lib = Library::default();
        lib.add(0, &a);
        assert_eq!(lib.find(&babble(3.0, 5)), None);
        // Same sentence with 200 ms in the middle replaced ("99" said instead of "98").
        let mut changed = a.clone();
        let other = babble(0.2, 9);
        changed[24_000..24_000 + other.len()].copy_from_slice(&other);
        assert_eq!(lib.find(&changed), None);
        // Too short to tell apart safely.
        let mut lib = Library::default();
        lib.add(0, &a[..8_000]);
        assert_eq!(lib.find(&a[..8_000]), None);
    }

    #[test]
    fn repeats_take_a_clean_reference_text_and_fall_back_otherwise() {
        let seg = RawSegment::mandarin_for_tests;
        let mut reuse = Reuse::default();
        reuse.sent(0);
        reuse.sent(1);
        let repeat = |of, src| Repeat {
            src,
            samples: vec![0.0; 48_000],
            speech: (8_000, 40_000),
            of,
            shift: 160_000,
            retry: None,
        };
        reuse.defer(repeat(0, 480_000));
        reuse.defer(repeat(1, 640_000));
        assert!(reuse.settle(false).is_empty(), "both references pending");
        reuse.learn(0, Some(vec![seg(20_500, 22_000, "全网最低价")]));
        reuse.learn(1, None);
        reuse.defer(repeat(1, 800_000));
        let back = reuse.settle(false);
        // One repeat of the unusable reference is transcribed in its place, one waits.
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].retry, Some(1));
        assert!(reuse.is_waiting());
        // Shifted by 10 s (160,000 samples), inside the repeat's own span (30 s..33 s).
        assert_eq!(reuse.segments, vec![seg(30_500, 32_000, "全网最低价")]);
        assert_eq!(reuse.reused, 1);
        reuse.learn(1, Some(vec![seg(40_100, 42_000, "假一赔十")]));
        assert!(reuse.settle(false).is_empty());
        assert!(!reuse.is_waiting());
        assert_eq!(reuse.segments[1].start_ms, 50_100);
    }
}
