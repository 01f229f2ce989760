//! The session manifest: what was archived, when, from what, and with which model.
//!
//! Written once per session, atomically, beside the canonical transcript.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Format tag written into every manifest.
pub const FORMAT: &str = "liveproof/manifest/v1";

/// Facts about the recording's audio track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    /// Container detected from the bytes (`wav`, `mp4`, `flv`, ...).
    pub container: String,
    /// Audio codec.
    pub codec: String,
    /// Original sample rate in Hz.
    pub sample_rate: u32,
    /// Original channel count.
    pub channels: u32,
}

/// Everything recorded about one archived session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Session id (derived from the recording hash).
    pub session: String,
    /// SHA-256 of the original bytes.
    pub recording_sha256: String,
    /// Size of the original in bytes.
    pub recording_size: u64,
    /// File name the recording was ingested from (informational).
    pub original_name: String,
    /// Audio track facts.
    pub audio: AudioInfo,
    /// Decoded duration in milliseconds.
    pub duration_ms: u64,
    /// Dominant language.
    pub language: String,
    /// Number of transcript segments.
    pub segment_count: usize,
    /// Number of gaps (speech not transcribed) sealed after the segments.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gap_count: usize,
    /// SHA-256 of the canonical transcript JSON.
    pub transcript_sha256: String,
    /// Merkle root (RFC 6962) over the segments' leaf hashes, hex: proves single segments.
    pub transcript_root: String,
    /// Model name.
    pub model: String,
    /// SHA-256 of the model weights file.
    pub model_sha256: String,
    /// `liveproof <version>`.
    pub software: String,
    /// whisper.cpp version linked in.
    pub whisper_version: String,
    /// Ingest time, RFC 3339 UTC.
    pub ingested_at: String,
    /// Sidecar metadata as given, or null.
    pub metadata: Option<Map<String, Value>>,
    /// Decoder complaints that did not stop the decode.
    pub decode_warnings: Vec<String>,
    /// Risky sales claims found in the transcript, with the lexicon version.
    #[serde(default)]
    pub claims: Option<crate::claims::Findings>,
    /// Implicit AI-content labels (GB 45438 `AIGC`) found in the file, with their problems.
    #[serde(default)]
    pub labels: Vec<crate::media::labels::Label>,
    /// C2PA content credentials found in the file (absent when there are none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c2pa: Option<crate::media::provenance::Credentials>,
    /// Verdict tags at ingest: `digital_host:…`, `disclosure:…` and findings.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Every transcription setting that can change the text (absent in manifests made before
    /// they were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcription: Option<Settings>,
    /// The live comments sealed with the session: their source file's hash and their own
    /// Merkle root (absent when the session has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<crate::comments::Sealed>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Format tag of [`Settings`]: bumped whenever the pipeline's rules change what it writes
/// (v2: regions the coverage audit decodes alone are encoded with a context of their own
/// length, and their language comes from their own decoding; v3: so is a section's last
/// window; see `transcription::whisper`).
pub const TRANSCRIPTION_FORMAT: &str = "liveproof/transcription/v3";

/// The transcription settings of a session: with the recording's bytes and the weights, they
/// determine the transcript (`liveproof reproduce` re-runs them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Always [`TRANSCRIPTION_FORMAT`].
    pub format: String,
    /// Model name as resolved.
    pub model: String,
    /// `auto` or a fixed language code.
    pub language: String,
    /// Beam width (1 = greedy).
    pub beam: usize,
    /// Voice-active audio only, packed into windows (`ingest --no-vad` turns it off).
    pub vad: bool,
    /// Regions repeating earlier audio exactly take that audio's text (`--transcribe-repeats`
    /// turns it off).
    pub reuse_repeats: bool,
    /// Archived although cut short.
    pub allow_truncated: bool,
}

impl Manifest {
    /// Canonical bytes (pretty JSON with a final newline).
    pub fn canonical_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("manifest serialises");
        v.push(b'\n');
        v
    }
}
