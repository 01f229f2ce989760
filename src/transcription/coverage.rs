//! The coverage audit: every voice-active region of a packed chunk either has text or is
//! decoded again, alone, and whatever still yields nothing becomes an explicit gap.
//!
//! Whisper decodes a packed chunk in one language and often stops at a language switch or
//! skips a region it finds unlikely; the text of the regions after it is then silently absent.
//! Here each region's share of its speech that the chunk's segments cover is measured; a
//! region below [`MIN_COVERED`] is decoded on its own with its own language detection, then in
//! the other of Mandarin and English, and its recovered segments replace the chunk's. Invariant:
//! pure bookkeeping over a decode function the caller passes, so it is tested without Whisper.

use crate::media::SAMPLE_RATE;
use crate::transcription::voice::Chunk;
use crate::transcription::whisper::{RawSegment, TranscribeError};

/// A region counts as transcribed when segments cover at least this share of its speech.
pub const MIN_COVERED: f64 = 0.3;
/// Voice-active stretches shorter than this (ms) that yield no text are taken for non-speech
/// (a cough, a click), not reported as gaps.
pub const MIN_GAP_MS: u64 = 600;
/// Share of the less likely of Mandarin and English above which a window counts as mixed
/// (measured: one language 0.001; an English clip then two Mandarin ones 0.125).
pub const MIXED: f32 = 0.05;
/// Reason recorded for a gap.
pub const NO_TEXT: &str = "no_text_decoded";

/// Speech that yielded no text, in recording time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawGap {
    /// Start (ms).
    pub start_ms: u64,
    /// End (ms).
    pub end_ms: u64,
    /// Why.
    pub reason: &'static str,
}

/// What the audit of one chunk found and did.
#[derive(Debug, Default)]
pub struct Audit {
    /// Indices of the chunk's segments to drop (their region was decoded again).
    pub dropped: Vec<usize>,
    /// Segments recovered by decoding regions alone, in recording time.
    pub recovered: Vec<RawSegment>,
    /// Per region (index among the chunk's pieces) decoded again: its new segments, in
    /// recording time, or `None` when it became a gap.
    pub redone: Vec<(usize, Option<Vec<RawSegment>>)>,
    /// Gaps.
    pub gaps: Vec<RawGap>,
    /// Voice-active audio in the chunk (ms).
    pub voice_ms: u64,
    /// Of it, covered by segments after the audit (ms).
    pub covered_ms: u64,
    /// Regions decoded again.
    pub redecoded: u64,
}

impl Audit {
    /// The part's segments after the audit: those of regions decoded again give way to the
    /// recovered ones (taken out of `self`).
    pub fn apply(&mut self, segments: Vec<RawSegment>) -> Vec<RawSegment> {
        segments
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.dropped.binary_search(i).is_err())
            .map(|(_, s)| s)
            .chain(std::mem::take(&mut self.recovered))
            .collect()
    }
}

fn ms(samples: usize) -> u64 {
    samples as u64 * 1000 / u64::from(SAMPLE_RATE)
}

fn overlap(s: &RawSegment, (a, b): (u64, u64)) -> u64 {
    s.end_ms.min(b).saturating_sub(s.start_ms.max(a))
}

/// The other of Mandarin and English, for a second try.
pub fn other_language(lang: &str) -> Option<&'static str> {
    match lang {
        "zh" => Some("en"),
        "en" => Some("zh"),
        _ => None,
    }
}

/// Uncovered stretches of a region's speech at least this long (ms) are decoded again alone,
/// even when the rest of the region has text (a language switch inside one region).
pub const MIN_HOLE_MS: u64 = 2000;
/// Margin (ms) kept around a hole when it is decoded alone.
const HOLE_MARGIN_MS: u64 = 250;

/// A segment at least this long (ms) whose text is too short for it marks its region for a
/// split: Whisper kept one language of two and stretched the timestamps over both.
pub const LONG_SEGMENT_MS: u64 = 6000;
/// Text "too short": saying it at a brisk pace would take less than this share of the time
/// the segment claims.
pub const MIN_TEXT_SHARE: f64 = 0.45;

/// How long saying `text` takes at a brisk pace (ms): 180 ms a Han character, 280 ms a Latin
/// word (live hosts speak fast; the estimate errs short, so slow speech is not flagged).
pub fn text_ms(segments: &[RawSegment]) -> u64 {
    segments
        .iter()
        .map(|s| {
            let han = s
                .raw_text
                .chars()
                .filter(
                    |c| matches!(*c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF),
                )
                .count() as u64;
            let words = s
                .raw_text
                .split(|c: char| !c.is_alphanumeric() || (c as u32) >= 0x3400)
                .filter(|w| !w.is_empty())
                .count() as u64;
            han * 180 + words * 280
        })
        .sum()
}

/// The quietest 100-ms frame of `samples` between `from` and `to` (ms), as a sample index.
fn quietest(samples: &[f32], from: u64, to: u64) -> usize {
    let frame = SAMPLE_RATE as usize / 10;
    let rate = u64::from(SAMPLE_RATE);
    let (a, b) = (
        (from * rate / 1000) as usize,
        ((to * rate / 1000) as usize).min(samples.len()),
    );
    (a..b.saturating_sub(frame))
        .step_by(frame / 2)
        .min_by(|&x, &y| {
            let e = |i: usize| samples[i..i + frame].iter().map(|v| v * v).sum::<f32>();
            e(x).total_cmp(&e(y))
        })
        .map_or((a + b) / 2, |i| i + frame / 2)
}

/// Share of 100-ms frames above the silence level in `samples`.
fn sound_share(samples: &[f32]) -> f64 {
    let frame = SAMPLE_RATE as usize / 10;
    let frames: Vec<bool> = samples
        .chunks(frame)
        .map(|f| (f.iter().map(|x| x * x).sum::<f32>() / f.len().max(1) as f32).sqrt() > 0.005)
        .collect();
    if frames.is_empty() {
        0.0
    } else {
        frames.iter().filter(|&&b| b).count() as f64 / frames.len() as f64
    }
}

/// Stretches of `(from, to)` not covered by `spans`, at least `min` long.
fn holes(from: u64, to: u64, spans: &[(u64, u64)], min: u64) -> Vec<(u64, u64)> {
    let mut spans: Vec<(u64, u64)> = spans.to_vec();
    spans.sort_unstable();
    let mut out = Vec::new();
    let mut at = from;
    for (a, b) in spans {
        if a > at && a.min(to) - at >= min {
            out.push((at, a.min(to)));
        }
        at = at.max(b);
        if at >= to {
            break;
        }
    }
    if to > at && to - at >= min {
        out.push((at, to));
    }
    out
}

/// The language a stretch is decoded in when it is decoded alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask<'a> {
    /// The session's setting: its own detection with `auto`, else the fixed language.
    Default,
    /// Its own detection, whatever the setting (the region mixes Mandarin and English).
    Detect,
    /// This language.
    In(&'a str),
}

/// Decodes `samples` alone, then in the other of Mandarin and English if that gave nothing.
fn decode_alone<F>(
    samples: &[f32],
    first: Ask,
    decode: &mut F,
) -> Result<Vec<RawSegment>, TranscribeError>
where
    F: FnMut(&[f32], Ask) -> Result<(Vec<RawSegment>, String), TranscribeError>,
{
    let (found, used) = decode(samples, first)?;
    if !found.is_empty() {
        return Ok(found);
    }
    match other_language(&used) {
        Some(other) => Ok(decode(samples, Ask::In(other))?.0),
        None => Ok(found),
    }
}

/// A segment that mixes Han characters with several English words: Whisper half-translated
/// a switch of language (a brand name or two inside Mandarin is normal, three words not).
pub fn mixes_scripts(s: &RawSegment) -> bool {
    let han = s
        .raw_text
        .chars()
        .filter(|c| matches!(*c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF))
        .count();
    let words = s
        .raw_text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() > 1)
        .count();
    han >= 2 && words >= 3
}

/// Audits `segments` (chunk time, as Whisper returned them for `c`). `decode(samples, ask)`
/// decodes one stretch alone and returns segments with times from the stretch's start and
/// the language used. With `mixed` (the chunk sounds like both Mandarin and English), every
/// region is decoded alone in the language it is detected to be in, so that none is
/// translated into its neighbours' language.
pub fn audit<F>(
    c: &Chunk,
    segments: &[RawSegment],
    mixed: bool,
    mut decode: F,
) -> Result<Audit, TranscribeError>
where
    F: FnMut(&[f32], Ask) -> Result<(Vec<RawSegment>, String), TranscribeError>,
{
    let speech: Vec<(u64, u64)> = c
        .pieces
        .iter()
        .map(|p| (ms(p.at + p.speech.0), ms(p.at + p.speech.1)))
        .collect();
    // Each segment belongs to the region whose speech it overlaps most.
    let owner: Vec<Option<usize>> = segments
        .iter()
        .map(|s| {
            (0..speech.len())
                .filter(|&k| overlap(s, speech[k]) > 0)
                .max_by_key(|&k| overlap(s, speech[k]))
        })
        .collect();
    // The chunk's segments that region `k` owns (dropped when its text is redone).
    let owned_by = |k: usize| {
        owner
            .iter()
            .enumerate()
            .filter(move |(_, o)| **o == Some(k))
            .map(|(i, _)| i)
    };
    let rate = u64::from(SAMPLE_RATE);
    let mut a = Audit::default();
    for (k, p) in c.pieces.iter().enumerate() {
        let span = speech[k].1.saturating_sub(speech[k].0);
        a.voice_ms += span;
        if span == 0 {
            continue;
        }
        let piece = &c.samples[p.at..p.at + p.len];
        let base = ms(p.at);
        let src = p.src * 1000 / rate;
        let (s0, s1) = (ms(p.speech.0), ms(p.speech.1));
        // The region's own text so far, in region time.
        let mut mine: Vec<RawSegment> = segments
            .iter()
            .zip(&owner)
            .filter(|(_, o)| **o == Some(k))
            .map(|(s, _)| RawSegment {
                start_ms: s.start_ms.saturating_sub(base),
                end_ms: s.end_ms.saturating_sub(base),
                ..s.clone()
            })
            .collect();
        // Segments of neighbouring regions that run into this one cover it too (one sentence
        // over a pause): region time.
        let others: Vec<(u64, u64)> = segments
            .iter()
            .zip(&owner)
            .filter(|(s, o)| **o != Some(k) && overlap(s, speech[k]) > 0)
            .map(|(s, _)| {
                (
                    s.start_ms.saturating_sub(base),
                    s.end_ms.saturating_sub(base),
                )
            })
            .collect();
        let spans_with = |v: &[RawSegment]| -> Vec<(u64, u64)> {
            v.iter()
                .map(|s| (s.start_ms, s.end_ms))
                .chain(others.iter().copied())
                .collect()
        };
        let covered = |v: &[RawSegment]| -> u64 {
            let gaps: u64 = holes(s0, s1, &spans_with(v), 0)
                .iter()
                .map(|(x, y)| y - x)
                .sum();
            (s1 - s0).saturating_sub(gaps)
        };
        let mut changed = false;
        if mixed || mine.iter().any(mixes_scripts) {
            // Decoded alone in its own language; kept when that gives text.
            a.redecoded += 1;
            let found = decode_alone(piece, Ask::Detect, &mut decode)?;
            if !found.is_empty() {
                a.dropped.extend(owned_by(k));
                mine = found;
                changed = true;
            }
        }
        if (covered(&mine) as f64) < MIN_COVERED * span as f64 {
            a.redecoded += 1;
            let found = decode_alone(piece, Ask::Default, &mut decode)?;
            if found.is_empty() {
                if span >= MIN_GAP_MS && sound_share(piece) > 0.0 {
                    a.gaps.push(RawGap {
                        start_ms: src + s0,
                        end_ms: src + s1,
                        reason: NO_TEXT,
                    });
                }
                a.redone.push((k, None));
                a.covered_ms += covered(&mine);
                continue;
            }
            a.dropped.extend(owned_by(k));
            mine = found;
            changed = true;
        }
        // Long stretches still without text (a switch of language inside the region, a
        // sentence Whisper skipped) are decoded alone too.
        let spans = spans_with(&mine);
        let len_ms = ms(p.len);
        for (h0, h1) in holes(s0, s1, &spans, MIN_HOLE_MS) {
            let (m0, m1) = (
                h0.saturating_sub(HOLE_MARGIN_MS),
                (h1 + HOLE_MARGIN_MS).min(len_ms),
            );
            let stretch =
                &piece[(m0 * rate / 1000) as usize..((m1 * rate / 1000) as usize).min(piece.len())];
            if sound_share(stretch) < 0.3 {
                continue;
            }
            a.redecoded += 1;
            let found = decode_alone(stretch, Ask::Detect, &mut decode)?;
            if found.is_empty() {
                a.gaps.push(RawGap {
                    start_ms: src + h0,
                    end_ms: src + h1,
                    reason: NO_TEXT,
                });
                continue;
            }
            changed = true;
            mine.extend(found.into_iter().map(|s| RawSegment {
                start_ms: (m0 + s.start_ms).min(len_ms),
                end_ms: (m0 + s.end_ms).min(len_ms),
                ..s
            }));
        }
        // Text far too short for the speech (Whisper kept one language of two and stretched
        // its timestamps over both): split at the quietest point, decode each half alone.
        let stretched = mine.iter().any(|s| {
            let d = s.end_ms.saturating_sub(s.start_ms);
            d >= LONG_SEGMENT_MS
                && (text_ms(std::slice::from_ref(s)) as f64) < MIN_TEXT_SHARE * d as f64
        });
        if stretched {
            let cut = quietest(piece, s0 + span * 3 / 10, s0 + span * 7 / 10);
            let margin = (HOLE_MARGIN_MS * rate / 1000) as usize;
            let left = decode_alone(
                &piece[..(cut + margin).min(piece.len())],
                Ask::Detect,
                &mut decode,
            )?;
            let right_from = cut.saturating_sub(margin);
            let right = decode_alone(&piece[right_from..], Ask::Detect, &mut decode)?;
            a.redecoded += 2;
            let offset = ms(right_from);
            let halves: Vec<RawSegment> = left
                .into_iter()
                .chain(right.into_iter().map(|s| RawSegment {
                    start_ms: (offset + s.start_ms).min(len_ms),
                    end_ms: (offset + s.end_ms).min(len_ms),
                    ..s
                }))
                .collect();
            // Only clearly more text replaces what was there.
            if text_ms(&halves) * 10 > text_ms(&mine) * 13 {
                mine = halves;
                changed = true;
            }
        }
        a.covered_ms += covered(&mine).min(span);
        if !changed {
            continue;
        }
        // The region's text is now its own: its chunk segments give way to it.
        a.dropped.extend(owned_by(k));
        mine.sort_by_key(|s| (s.start_ms, s.end_ms));
        let mine: Vec<RawSegment> = mine
            .into_iter()
            .map(|s| RawSegment {
                start_ms: src + s.start_ms.min(len_ms),
                end_ms: src + s.end_ms.min(len_ms).max(s.start_ms.min(len_ms)),
                ..s
            })
            .collect();
        a.recovered.extend(mine.iter().cloned());
        a.redone.push((k, Some(mine)));
    }
    a.dropped.sort_unstable();
    a.dropped.dedup();
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(a: u64, b: u64, text: &str, lang: &str) -> RawSegment {
        RawSegment {
            start_ms: a,
            end_ms: b,
            raw_text: text.into(),
            language: lang.into(),
            confidence: 0.9,
        }
    }

    /// Three regions of 4 s, packed with joins, starting at 10 s, 20 s and 30 s.
    fn chunk() -> Chunk {
        let mut c = Chunk::default();
        let n = 4 * SAMPLE_RATE as usize;
        for (i, src) in [10u64, 20, 30].iter().enumerate() {
            let samples = vec![i as f32; n];
            c.add(src * u64::from(SAMPLE_RATE), &samples, None, (0, n));
        }
        c
    }

    #[test]
    fn regions_the_chunk_dropped_are_decoded_alone_and_what_stays_silent_is_a_gap() {
        let c = chunk();
        // Whisper wrote the first region only.
        let segments = vec![seg(0, 3900, "and so my fellow Americans", "zh")];
        let mut calls = Vec::new();
        let a = audit(&c, &segments, false, |samples, ask| {
            let lang = match ask {
                Ask::In(l) => Some(l.to_string()),
                _ => None,
            };
            calls.push((samples[0], lang.clone()));
            Ok(match (samples[0] as u32, lang) {
                // The second region, alone, is Mandarin.
                (1, None) => (vec![seg(200, 3500, "我认为跑步最重要", "zh")], "zh".into()),
                // The third yields nothing in either language.
                (2, None) => (vec![], "zh".into()),
                _ => (vec![], "en".into()),
            })
        })
        .unwrap();
        assert_eq!(
            calls,
            vec![(1.0, None), (2.0, None), (2.0, Some("en".into()))],
            "alone, then in the other language"
        );
        assert!(a.dropped.is_empty());
        assert_eq!(a.recovered.len(), 1);
        assert_eq!(a.recovered[0].start_ms, 20_200, "recording time");
        assert_eq!(
            a.gaps,
            vec![RawGap {
                start_ms: 30_000,
                end_ms: 34_000,
                reason: NO_TEXT
            }]
        );
        assert_eq!(a.redecoded, 2);
        assert_eq!(a.voice_ms, 12_000);
        assert_eq!(a.covered_ms, 3900 + 3300);
    }

    #[test]
    fn covered_regions_are_left_alone() {
        let c = chunk();
        let (b1, b2) = (ms(c.pieces[1].at), ms(c.pieces[2].at));
        let segments = vec![
            seg(0, 4000, "one", "en"),
            seg(b1, b1 + 3000, "two", "en"),
            seg(b2 + 500, b2 + 3500, "three", "en"),
        ];
        let a = audit(&c, &segments, false, |_, _| panic!("nothing to redo")).unwrap();
        assert!(a.gaps.is_empty() && a.recovered.is_empty() && a.redecoded == 0);
        assert_eq!(a.covered_ms, 4000 + 3000 + 3000);
    }

    #[test]
    fn a_long_stretch_without_text_inside_a_region_is_decoded_alone() {
        // One 8-s region: Whisper wrote its first 3 s (English), then stopped.
        let mut c = Chunk::default();
        let n = 8 * SAMPLE_RATE as usize;
        c.add(0, &vec![0.5f32; n], None, (0, n));
        let segments = vec![seg(0, 3000, "and so my fellow Americans", "en")];
        let mut asked = Vec::new();
        let a = audit(&c, &segments, false, |samples, ask| {
            asked.push((samples.len(), ask == Ask::Detect));
            Ok((vec![seg(300, 4800, "我认为跑步最重要", "zh")], "zh".into()))
        })
        .unwrap();
        // 3.0-8.0 s, with a 250-ms margin before it.
        assert_eq!(asked, vec![(5250 * 16, true)]);
        assert_eq!(a.dropped, vec![0]);
        let texts: Vec<(u64, &str)> = a
            .recovered
            .iter()
            .map(|s| (s.start_ms, s.raw_text.as_str()))
            .collect();
        assert_eq!(
            texts,
            vec![
                (0, "and so my fellow Americans"),
                (3050, "我认为跑步最重要")
            ]
        );
        assert!(a.gaps.is_empty());
    }

    #[test]
    fn a_region_whose_text_is_too_short_for_its_speech_is_split_and_decoded_in_halves() {
        // 10 s of sound with a quiet moment at 6 s; Whisper kept one short sentence for all.
        let mut c = Chunk::default();
        let n = 10 * SAMPLE_RATE as usize;
        let mut samples = vec![0.5f32; n];
        for v in &mut samples[6 * 16_000..6 * 16_000 + 4_000] {
            *v = 0.0;
        }
        c.add(0, &samples, None, (0, n));
        let segments = vec![seg(0, 10_000, "我认为跑步最重要", "zh")];
        let mut lens = Vec::new();
        let a = audit(&c, &segments, false, |s, _| {
            lens.push(s.len() / 16);
            Ok(if lens.len() == 1 {
                (
                    vec![seg(
                        0,
                        5000,
                        "what your country can do for you ask what you can do",
                        "en",
                    )],
                    "en".into(),
                )
            } else {
                (
                    vec![seg(
                        0,
                        3500,
                        "我认为跑步最重要的就是给我带来了身体健康",
                        "zh",
                    )],
                    "zh".into(),
                )
            })
        })
        .unwrap();
        assert_eq!(lens.len(), 2, "two halves: {lens:?}");
        assert!(
            (6000..6600).contains(&lens[0]),
            "cut in the quiet moment: {lens:?}"
        );
        assert_eq!(a.recovered.len(), 2);
        assert_eq!(a.recovered[0].language, "en");
        assert!(a.recovered[1].start_ms >= 5800, "{:?}", a.recovered[1]);
    }

    #[test]
    fn a_half_translated_segment_or_a_mixed_chunk_sends_regions_to_their_own_detection() {
        let c = chunk();
        let b1 = ms(c.pieces[1].at);
        let segments = vec![
            seg(0, 3800, "欢迎大家来体验", "zh"),
            seg(b1, b1 + 3800, "看你的 country can do for you", "zh"),
        ];
        assert!(mixes_scripts(&segments[1]) && !mixes_scripts(&segments[0]));
        assert!(!mixes_scripts(&seg(
            0,
            1,
            "这款iPhone 15 Pro真的很好用",
            "zh"
        )));
        let mut asked = Vec::new();
        let a = audit(&c, &segments, false, |s, ask| {
            asked.push((s[0] as u32, ask == Ask::Detect));
            Ok((
                vec![seg(
                    0,
                    3800,
                    "ask not what your country can do for you",
                    "en",
                )],
                "en".into(),
            ))
        })
        .unwrap();
        assert_eq!(asked[0], (1, true), "{asked:?}");
        assert_eq!(a.dropped, vec![1]);
        assert_eq!(a.recovered[0].language, "en");
        let mut n = 0;
        audit(&c, &segments, true, |_, ask| {
            assert_eq!(ask, Ask::Detect);
            n += 1;
            Ok((
                vec![seg(0, 3800, "每个区域自己的语言和文字", "zh")],
                "zh".into(),
            ))
        })
        .unwrap();
        assert!(n >= 3, "every region of a mixed chunk: {n}");
    }

    #[test]
    fn a_sentence_running_over_a_pause_covers_both_regions() {
        let c = chunk();
        let b1 = ms(c.pieces[1].at);
        let b2 = ms(c.pieces[2].at);
        // One sentence from the first region well into the second, another in the third.
        let segments = vec![
            seg(
                0,
                b1 + 3000,
                "and so my fellow Americans ask not what your country can do",
                "en",
            ),
            seg(b2, b2 + 3800, "ask what you can do for your country", "en"),
        ];
        let a = audit(&c, &segments, false, |_, _| panic!("nothing to redo")).unwrap();
        assert_eq!(a.redecoded, 0);
    }

    #[test]
    fn holes_are_the_long_uncovered_stretches() {
        assert_eq!(
            holes(0, 10, &[(2, 3), (5, 6)], 2),
            vec![(0, 2), (3, 5), (6, 10)]
        );
        assert_eq!(holes(0, 10, &[(2, 3), (5, 6)], 3), vec![(6, 10)]);
        assert_eq!(holes(0, 10, &[(0, 10)], 1), vec![]);
        assert_eq!(holes(0, 10, &[], 1), vec![(0, 10)]);
        assert_eq!(holes(0, 10, &[(3, 4), (1, 5)], 1), vec![(0, 1), (5, 10)]);
    }

    #[test]
    fn a_region_recovered_alone_replaces_the_chunks_scraps_of_it() {
        let c = chunk();
        let b1 = ms(c.pieces[1].at);
        let segments = vec![seg(0, 4000, "one", "en"), seg(b1, b1 + 500, "uh", "en")];
        let a = audit(&c, &segments, false, |_, _| {
            Ok((vec![seg(0, 3800, "两个", "zh")], "zh".into()))
        })
        .unwrap();
        assert_eq!(a.dropped, vec![1]);
        assert_eq!(a.recovered[0].raw_text, "两个");
    }
}
