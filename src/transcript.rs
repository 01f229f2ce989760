//! The canonical transcript of a session and its exports (SRT, WebVTT, JSON, plain text).
//!
//! Canonical form: fields in declaration order, UTF-8 NFC text, integer milliseconds, segments
//! in time order with consecutive indices. Its SHA-256 goes into the manifest.

use serde::{Deserialize, Serialize};

use crate::hashing;

/// Format tag written into every transcript file.
pub const FORMAT: &str = "liveproof/transcript/v1";

/// One timestamped stretch of speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Position in the transcript, from 0.
    pub index: usize,
    /// Start in milliseconds from the start of the recording.
    pub start_ms: u64,
    /// End in milliseconds from the start of the recording.
    pub end_ms: u64,
    /// Normalised text (NFC, simplified Chinese): what search and evidence use.
    pub text: String,
    /// Text exactly as the model wrote it.
    pub raw_text: String,
    /// Language code of this segment.
    pub language: String,
    /// Mean token probability, 0..1, rounded to 3 decimals.
    pub confidence: f64,
}

/// Voice-active audio that yielded no text, even decoded alone and in the other of Mandarin
/// and English: sealed like a segment, so its absence is part of the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// Position among the transcript's gaps, from 0.
    pub index: usize,
    /// Start in milliseconds from the start of the recording.
    pub start_ms: u64,
    /// End in milliseconds from the start of the recording.
    pub end_ms: u64,
    /// Why there is no text (e.g. `no_text_decoded`).
    pub reason: String,
}

/// Below this mean token probability a segment is marked "(?)" in `show` and the text and
/// subtitle exports (and highlighted on the web page): listen before relying on its words.
pub const LOW_CONFIDENCE: f64 = 0.5;

/// What a reader is told about a gap.
pub const GAP_NOTE: &str = "speech here was not transcribed";

/// A whole session transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// Always [`FORMAT`].
    pub format: String,
    /// Session id.
    pub session: String,
    /// SHA-256 of the recording it transcribes.
    pub recording_sha256: String,
    /// Dominant language (most speech time).
    pub language: String,
    /// Model name.
    pub model: String,
    /// The segments in time order.
    pub segments: Vec<Segment>,
    /// Speech that could not be transcribed, in time order (absent when there is none, so
    /// transcripts without gaps keep their earlier bytes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Gap>,
}

impl Transcript {
    /// Canonical bytes (pretty JSON with a final newline; deterministic for equal values).
    pub fn canonical_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("transcript serialises");
        v.push(b'\n');
        v
    }

    /// SHA-256 of the canonical bytes.
    pub fn sha256(&self) -> String {
        hashing::sha256_hex(&self.canonical_json())
    }
}

/// The language spoken longest over `segments`, or `und` when there is none.
pub fn dominant_language<'a>(segments: impl Iterator<Item = (&'a str, u64)>) -> String {
    let mut totals: Vec<(&str, u64)> = Vec::new();
    for (lang, ms) in segments {
        match totals.iter_mut().find(|(l, _)| *l == lang) {
            Some((_, t)) => *t += ms,
            None => totals.push((lang, ms)),
        }
    }
    totals
        .into_iter()
        .max_by_key(|&(_, t)| t)
        .map(|(l, _)| l.to_string())
        .unwrap_or_else(|| "und".into())
}

/// Export formats of `liveproof export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
    /// The canonical transcript JSON.
    Json,
    /// One line per segment: `[HH:MM:SS.mmm --> HH:MM:SS.mmm] text`.
    Txt,
}

fn stamp(ms: u64, sep: char) -> String {
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Segments and gaps in time order, as (start, end, line of text).
pub fn lines(t: &Transcript) -> Vec<(u64, u64, String)> {
    let mut v: Vec<(u64, u64, String)> = t
        .segments
        .iter()
        .map(|s| {
            let text = if s.confidence < LOW_CONFIDENCE {
                format!("(?) {}", s.text)
            } else {
                s.text.clone()
            };
            (s.start_ms, s.end_ms, text)
        })
        .chain(
            t.gaps
                .iter()
                .map(|g| (g.start_ms, g.end_ms, format!("[{GAP_NOTE}: {}]", g.reason))),
        )
        .collect();
    v.sort_by_key(|l| (l.0, l.1));
    v
}

/// Renders the transcript in `format` (gaps appear as bracketed lines and low-confidence
/// segments start with "(?)" in the text formats).
pub fn export(t: &Transcript, format: ExportFormat) -> String {
    let mut out = String::new();
    match format {
        ExportFormat::Json => {
            return String::from_utf8(t.canonical_json()).expect("JSON is UTF-8");
        }
        ExportFormat::Srt => {
            for (i, (a, b, text)) in lines(t).iter().enumerate() {
                out += &format!(
                    "{}\n{} --> {}\n{}\n\n",
                    i + 1,
                    stamp(*a, ','),
                    stamp(*b, ','),
                    text
                );
            }
        }
        ExportFormat::Vtt => {
            out += "WEBVTT\n\n";
            for (a, b, text) in lines(t) {
                out += &format!("{} --> {}\n{}\n\n", stamp(a, '.'), stamp(b, '.'), text);
            }
        }
        ExportFormat::Txt => {
            for (a, b, text) in lines(t) {
                out += &format!("[{} --> {}] {}\n", stamp(a, '.'), stamp(b, '.'), text);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Transcript {
        Transcript {
            format: FORMAT.into(),
            session: "abc".into(),
            recording_sha256: "00".into(),
            language: "en".into(),
            model: "tiny.en".into(),
            segments: vec![Segment {
                index: 0,
                start_ms: 1_500,
                end_ms: 3_723_004,
                text: "ask not".into(),
                raw_text: " ask not".into(),
                language: "en".into(),
                confidence: 0.9,
            }],
            gaps: Vec::new(),
        }
    }

    #[test]
    fn low_confidence_segments_are_marked_in_text_exports() {
        let mut t = sample();
        t.segments[0].confidence = 0.31;
        assert!(export(&t, ExportFormat::Txt).contains("] (?) ask not"));
        assert!(export(&t, ExportFormat::Srt).contains("\n(?) ask not\n"));
    }

    #[test]
    fn gaps_appear_in_time_order_in_text_exports_and_only_when_present_in_json() {
        let mut t = sample();
        let plain = String::from_utf8(t.canonical_json()).unwrap();
        assert!(
            !plain.contains("gaps"),
            "transcripts without gaps keep their bytes"
        );
        t.gaps.push(Gap {
            index: 0,
            start_ms: 500,
            end_ms: 1_200,
            reason: "no_text_decoded".into(),
        });
        let txt = export(&t, ExportFormat::Txt);
        assert!(txt.starts_with(
            "[00:00:00.500 --> 00:00:01.200] [speech here was not transcribed: no_text_decoded]"
        ), "{txt}");
        assert!(String::from_utf8(t.canonical_json())
            .unwrap()
            .contains("\"gaps\""));
    }

    #[test]
    fn srt_and_vtt_use_their_own_separators() {
        let t = sample();
        assert_eq!(
            export(&t, ExportFormat::Srt),
            "1\n00:00:01,500 --> 01:02:03,004\nask not\n\n"
        );
        assert!(
            export(&t, ExportFormat::Vtt).starts_with("WEBVTT\n\n00:00:01.500 --> 01:02:03.004\n")
        );
    }

    #[test]
    fn canonical_json_round_trips_to_the_same_hash() {
        let t = sample();
        let back: Transcript = serde_json::from_slice(&t.canonical_json()).unwrap();
        assert_eq!(back.sha256(), t.sha256());
    }

    #[test]
    fn dominant_language_counts_time_not_segments() {
        let l = dominant_language([("en", 100), ("en", 100), ("zh", 5000)].into_iter());
        assert_eq!(l, "zh");
    }
}
