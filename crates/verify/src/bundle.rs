//! The bundle's structures and member names (docs/evidence-format.md §3–§6).

use serde::{Deserialize, Serialize};

/// Format tag of bundle statements.
pub const FORMAT: &str = "liveproof/bundle/v2";
/// Format tag of the first bundles (statement inside `bundle.json`, signed as re-serialised
/// JSON); still verified.
pub const FORMAT_V1: &str = "liveproof/bundle/v1";

/// Bundle member names, in one place.
pub mod member {
    /// The signed statement (v2): its exact bytes are what `statement.sig` signs.
    pub const STATEMENT: &str = "statement.json";
    /// Detached signature over `statement.json`'s bytes.
    pub const STATEMENT_SIG: &str = "statement.sig";
    /// v1 bundles: statement and signature in one JSON document.
    pub const LEGACY_BUNDLE: &str = "bundle.json";
    /// The session manifest, as signed at ingest.
    pub const MANIFEST: &str = "manifest.json";
    /// Detached signature over `manifest.json`'s bytes.
    pub const MANIFEST_SIG: &str = "manifest.sig";
    /// Segments and gaps with their inclusion proofs.
    pub const EXCERPT: &str = "excerpt.json";
    /// The manifest's inclusion proof in the log, with the signed tree head.
    pub const LOG: &str = "log.json";
    /// The signer's public key, hex.
    pub const PUBLIC_KEY: &str = "public_key.txt";
    /// The excerpt's audio, lossless.
    pub const CLIP: &str = "clip.flac";
    /// Printable report.
    pub const REPORT: &str = "report.html";
    /// RFC 3161 timestamp token over the tree head.
    pub const TIMESTAMP: &str = "timestamp.tsr";
    /// RFC 3161 timestamp token over the recording's SHA-256 (made at ingest).
    pub const RECORDING_TIMESTAMP: &str = "recording-timestamp.tsr";
    /// The session's custody chain, each event proven in the log (`Custody`).
    pub const CUSTODY: &str = "custody.json";
    /// A cosigned checkpoint that includes the session's log entry (`Witnessed`).
    pub const WITNESSED: &str = "witnessed.json";
    /// The certificate (chain) of the TSA that issued the token.
    pub const TSA_PEM: &str = "tsa.pem";
    /// The live comments of the range, each proven against the manifest's comments root.
    pub const COMMENTS: &str = "comments.json";
    /// Prefix of the included original recording (`recording.<ext>`).
    pub const RECORDING_PREFIX: &str = "recording.";
    /// A broadcast bundle's signed statement ([`SpanStatement`](super::SpanStatement)).
    pub const SPAN: &str = "span.json";
    /// Detached signature over `span.json`'s bytes.
    pub const SPAN_SIG: &str = "span.sig";
    /// A broadcast bundle's parts: `part-1.zip`, `part-2.zip`, ... each a whole bundle.
    pub fn part(n: usize) -> String {
        format!("part-{n}.zip")
    }
}

/// Format tag of broadcast bundles: an excerpt of a broadcast that spans segment boundaries,
/// one ordinary bundle per segment inside, tied together by one signed statement.
pub const SPAN_FORMAT: &str = "liveproof/span/v1";

/// One segment's part of a broadcast bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpanPart {
    /// Member name (`part-N.zip`).
    pub file: String,
    /// SHA-256 of the member, hex.
    pub sha256: String,
    /// The session (segment) the part quotes.
    pub session: String,
    /// Where that session starts on the broadcast's timeline (ms).
    pub offset_ms: u64,
    /// The part's range in the session's own time (ms): the broadcast range cut to it.
    pub from_ms: u64,
    /// End of that range (ms).
    pub to_ms: u64,
}

/// `span.json`: what the archive signs about a broadcast bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpanStatement {
    /// Always [`SPAN_FORMAT`].
    pub format: String,
    /// The broadcast's id (its first session's id).
    pub broadcast: String,
    /// When the bundle was made (archive clock).
    pub created_at: String,
    /// Requested range start on the broadcast's timeline (ms).
    pub from_ms: u64,
    /// Requested range end on the broadcast's timeline (ms).
    pub to_ms: u64,
    /// The parts, in time order.
    pub parts: Vec<SpanPart>,
}

/// The bytes of `span.json`: what `span.sig` signs, exactly as written.
pub fn span_file(s: &SpanStatement) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(s).expect("statement serialises");
    b.push(b'\n');
    b
}

/// A segment in an excerpt, with its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenSegment {
    /// Index in the transcript.
    pub index: u64,
    /// Start (ms).
    pub start_ms: u64,
    /// End (ms).
    pub end_ms: u64,
    /// Normalised text (what was sealed).
    pub text: String,
    /// Audit path to the transcript root, hex.
    pub proof: Vec<String>,
}

/// `excerpt.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Excerpt {
    /// Session id.
    pub session: String,
    /// Transcript Merkle root, hex.
    pub transcript_root: String,
    /// Segments in the whole transcript.
    pub segment_count: u64,
    /// The excerpt's segments, in order.
    pub segments: Vec<ProvenSegment>,
    /// Claim flags on these segments (free-form objects, for the reader).
    #[serde(default)]
    pub claims: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Gaps in the whole transcript (sealed after the segments: gap `i` is leaf
    /// `segment_count + i`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gap_count: u64,
    /// Gaps inside the excerpt's range: speech there was not transcribed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<ProvenGap>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A gap in an excerpt, with its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenGap {
    /// Index among the transcript's gaps.
    pub index: u64,
    /// Start (ms).
    pub start_ms: u64,
    /// End (ms).
    pub end_ms: u64,
    /// Why there is no text.
    pub reason: String,
    /// Audit path to the transcript root (leaf `segment_count + index`), hex.
    pub proof: Vec<String>,
}

/// A file described in the statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// Member name.
    pub file: String,
    /// SHA-256, hex.
    pub sha256: String,
}

/// The clip in the statement: which member, its hash, and (v2) the range of the original it
/// was cut from, which covers every quoted segment whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipRef {
    /// Member name.
    pub file: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Start of the clip in the original (ms); absent in v1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<u64>,
    /// End of the clip in the original (ms); absent in v1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ms: Option<u64>,
}

/// What the archive signs about the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Always [`FORMAT`].
    pub format: String,
    /// Session id.
    pub session: String,
    /// When the bundle was made (archive clock).
    pub created_at: String,
    /// Requested range start (ms).
    pub from_ms: u64,
    /// Requested range end (ms).
    pub to_ms: u64,
    /// First segment index in the excerpt.
    pub first_index: u64,
    /// Last segment index in the excerpt.
    pub last_index: u64,
    /// Transcript root, hex.
    pub transcript_root: String,
    /// The audio clip: cut from the recording whose hash is in the manifest.
    pub clip: Option<ClipRef>,
    /// Every other member and its SHA-256.
    pub members: Vec<FileRef>,
}

/// The fields of a signed manifest a verifier reads (docs/evidence-format.md §5); the
/// archive's other fields are signed too, and left to the reader.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ManifestView {
    /// Session id.
    pub session: String,
    /// SHA-256 of the original recording, hex.
    pub recording_sha256: String,
    /// Its size in bytes.
    pub recording_size: u64,
    /// Its duration (ms).
    pub duration_ms: u64,
    /// Transcript Merkle root, hex.
    pub transcript_root: String,
    /// Segments in the transcript.
    pub segment_count: usize,
    /// Gaps in the transcript.
    #[serde(default)]
    pub gap_count: usize,
    /// Model that transcribed it.
    pub model: String,
    /// When it was archived (RFC 3339).
    pub ingested_at: String,
    /// The live comments sealed with the session, when it has any.
    #[serde(default)]
    pub comments: Option<CommentsRoot>,
    /// The metadata supplied at ingest (platform, room, started_at, ...), verbatim.
    #[serde(default)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What a manifest seals of a session's live comments (the fields a verifier reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommentsRoot {
    /// Comments on the timeline.
    pub count: u64,
    /// Merkle root over their leaves, hex.
    pub root: String,
}

/// A live comment in a bundle, with its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenComment {
    /// Position among the session's comments.
    pub index: u64,
    /// Milliseconds from the start of the recording.
    pub t_ms: u64,
    /// `chat`, `gift`, ...
    pub kind: String,
    /// The account, when the source names one.
    pub user: Option<String>,
    /// The words.
    pub text: String,
    /// Inclusion proof against the comments root, hex hashes.
    pub proof: Vec<String>,
}

/// `comments.json`: the live comments of the bundle's range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentsExcerpt {
    /// Session id.
    pub session: String,
    /// The manifest's comments root, hex.
    pub root: String,
    /// The session's comment count (the tree's size).
    pub count: u64,
    /// The comments of the range, in order.
    pub comments: Vec<ProvenComment>,
}

/// `bundle.json` of v1 bundles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleFile {
    /// The statement.
    pub statement: Statement,
    /// Signature over the statement's canonical JSON.
    pub signature: crate::seal::DetachedSignature,
}

/// The bytes a v1 signature covers: the statement re-serialised compactly in field order.
pub fn statement_bytes_v1(s: &Statement) -> Vec<u8> {
    serde_json::to_vec(s).expect("statement serialises")
}

/// The bytes of `statement.json` (v2): what `statement.sig` signs, exactly as written.
pub fn statement_file(s: &Statement) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(s).expect("statement serialises");
    b.push(b'\n');
    b
}

/// `witnessed.json`: a checkpoint of the log that witnesses cosigned (a C2SP signed note
/// carrying the archive's signature and the cosignatures), and the session's log entry's
/// inclusion proof against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Witnessed {
    /// The signed note, as text.
    pub checkpoint: String,
    /// The log entry's index.
    pub index: u64,
    /// Audit path to the checkpoint's root, hex, bottom first.
    pub proof: Vec<String>,
}

/// Format tag of custody events.
pub const CUSTODY_FORMAT: &str = "liveproof/custody/v1";

/// One custody event, as its exact JSON bytes are logged: who did what to a session (or, with
/// an empty session, to the archive: key changes), and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustodyEvent {
    /// Always [`CUSTODY_FORMAT`].
    pub format: String,
    /// `ingest`, `export`, `verify`, `key_rotate` or `key_revoke`.
    pub event: String,
    /// Session id; empty for archive-wide events.
    pub session: String,
    /// When (RFC 3339, the archive's clock).
    pub at: String,
    /// Who: `local:USER` for the command line, `token:ID (ROLE)` for the server.
    pub by: String,
    /// What, in plain words.
    pub detail: String,
    /// The key concerned (key events), hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The key that replaces it (`key_rotate`), hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_key: Option<String>,
}

/// One custody entry in a bundle: the event's exact JSON text, its log index and proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustodyEntry {
    /// Position in the log.
    pub index: u64,
    /// The event's JSON, exactly as logged.
    pub event: String,
    /// Audit path to the tree head in `log.json`, hex, bottom first.
    pub proof: Vec<String>,
}

/// `custody.json`: the session's custody chain (and the archive's key events) up to the tree
/// head in `log.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Custody {
    /// Entries in log order.
    pub entries: Vec<CustodyEntry>,
}
