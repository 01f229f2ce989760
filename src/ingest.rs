//! `ingest`: recording (+ sidecar) → staged copy and hash → audio → transcript → manifest →
//! committed session. The one function the CLI (and later the server) calls.
//!
//! Invariant: on any error, nothing new is visible in the store and the staging copy is gone;
//! ingesting bytes that are already archived returns the existing session without work.

use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use crate::manifest::{AudioInfo, Manifest};
use crate::media::{self, MediaError, PcmStream};
use crate::models::{ModelError, ResolvedModel};
use crate::sidecar::{self, SidecarError};
use crate::store::{self, Store, StoreError};
use crate::transcript::{self, Transcript};
use crate::transcription::{self, Language, TranscribeError, TranscriptionError};

/// What an ingest needs besides the recording.
#[derive(Debug, Clone)]
pub struct Options {
    /// Sidecar metadata file.
    pub meta: Option<PathBuf>,
    /// Live comments beside the recording (Bilibili XML or the JSONL format), sealed with it.
    pub comments: Option<PathBuf>,
    /// Model to use (already resolved lazily: name or path).
    pub model: String,
    /// Settings: the models directory, the TSAs, the disk reserve.
    pub config: crate::config::Config,
    /// `auto` or a language code.
    pub language: String,
    /// With `language` auto: a sidecar's `language` (the platform's word on what the room
    /// speaks) fixes it, saving the detection and keeping windows from drifting into another
    /// language. Off when the user named a language, `auto` included (`ingest --lang`).
    pub sidecar_language: bool,
    /// Inference threads.
    pub threads: usize,
    /// Beam width (1 = greedy).
    pub beam: usize,
    /// Archive a recording cut short anyway, recording the cut in the manifest.
    pub allow_truncated: bool,
    /// Send only voice-active audio to Whisper, packed into full windows (`ingest --vad`);
    /// off: plain 30-s windows (the default).
    pub vad: bool,
    /// With `vad`: transcribe regions that repeat earlier audio instead of reusing its text.
    pub transcribe_repeats: bool,
    /// Without `vad`: listen to the opening first and take the packed path with repeat reuse
    /// when most of its speech repeats earlier audio exactly (a looped script,
    /// `transcription::path`). Off (`ingest --no-vad`, `reproduce`): plain windows.
    pub detect_loops: bool,
    /// The API owner the session is archived for (`access::Access::owner`); `None` for the
    /// archive operator (the CLI).
    pub owner: Option<String>,
    /// Who is ingesting, for the custody log (`token:ID (ROLE)`); `None`: the local user.
    pub by: Option<String>,
}

impl Default for Options {
    /// What `ingest` and `serve` use unless told otherwise: the default model from the models
    /// directory, language detected, every core, greedy decoding, plain 30-s windows.
    fn default() -> Self {
        Self {
            meta: None,
            comments: None,
            model: crate::models::DEFAULT_MODEL.into(),
            config: Default::default(),
            language: "auto".into(),
            sidecar_language: true,
            threads: crate::transcription::default_threads(),
            beam: 1,
            allow_truncated: false,
            vad: false,
            transcribe_repeats: false,
            detect_loops: true,
            owner: None,
            by: None,
        }
    }
}

/// Result of an ingest, as `ingest --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Session id.
    pub session: String,
    /// SHA-256 of the recording.
    pub recording_sha256: String,
    /// Size in bytes.
    pub recording_size: u64,
    /// Decoded duration.
    pub duration_ms: u64,
    /// Number of segments.
    pub segments: usize,
    /// Dominant language.
    pub language: String,
    /// Model name.
    pub model: String,
    /// True when these bytes were already archived (nothing was redone).
    pub already_archived: bool,
    /// Gaps: voice-active audio that yielded no text, sealed in the transcript.
    pub gaps: usize,
    /// Why the session is not searchable yet, if it is not (`liveproof reindex` fixes it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_warning: Option<String>,
    /// Why the new log head has no trusted timestamp, when a TSA is configured and failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_warning: Option<String>,
    /// Where the time went, stage by stage (absent when nothing was redone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings: Option<Timings>,
}

/// Wall time per ingest stage, in milliseconds, and what transcription cost. Decoding runs in
/// its own process alongside inference, so `decode_wait_ms` is only the time inference waited
/// for audio.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    /// Copying the recording into the store while hashing it (SHA-256).
    pub hash_ms: u64,
    /// Probing the container (ffprobe, labels, C2PA).
    pub probe_ms: u64,
    /// Listening to the opening for a looped script (`transcription::path`).
    pub loop_check_ms: u64,
    /// Share of the opening's speech that repeats earlier audio exactly (absent when not
    /// checked); above 0.5 the packed path with repeat reuse transcribed the recording.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loop_share: Option<f64>,
    /// Transcription's own figures (waits, windows, workers, repeats, coverage, gaps).
    #[serde(flatten)]
    pub transcription: transcription::Stats,
    /// Claims, disclosure, manifest, signature, catalog and log commit.
    pub seal_ms: u64,
    /// Search index update.
    pub index_ms: u64,
}

/// The settings recorded in the manifest: everything besides the bytes and the weights that
/// can change the text.
pub fn settings(opts: &Options, model: &str) -> crate::manifest::Settings {
    crate::manifest::Settings {
        format: crate::manifest::TRANSCRIPTION_FORMAT.into(),
        model: model.into(),
        language: opts.language.clone(),
        beam: opts.beam.max(1),
        vad: opts.vad,
        reuse_repeats: opts.vad && !opts.transcribe_repeats,
        allow_truncated: opts.allow_truncated,
    }
}

/// The session's files beside transcript and manifest: the manifest's signature, and the
/// comments (canonical, and their source verbatim) when there are any.
fn extra_files(
    sig: Vec<u8>,
    comments: Option<(crate::comments::Comments, Vec<u8>)>,
) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = vec![(crate::layout::MANIFEST_SIG, sig)];
    if let Some((c, source)) = comments {
        out.push((crate::layout::COMMENTS, c.canonical_json()));
        out.push((crate::layout::COMMENTS_SOURCE, source));
    }
    out
}

/// Why an ingest failed. Each message names the input and what to do.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The recording path is missing or unreadable.
    #[error("cannot read recording `{path}`: {reason}")]
    Input {
        /// The path given.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Decoding failed.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The sidecar is invalid.
    #[error(transparent)]
    Sidecar(#[from] SidecarError),
    /// The model is unavailable.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Whisper failed.
    #[error(transparent)]
    Transcribe(#[from] TranscribeError),
    /// The comments file is invalid.
    #[error(transparent)]
    Comments(#[from] crate::comments::CommentsError),
    /// No speech was recognised anywhere.
    #[error("no speech found in `{path}` ({duration}): nothing was archived; check that the right audio track carries the host's voice")]
    NoSpeech {
        /// The recording.
        path: PathBuf,
        /// Its duration.
        duration: String,
    },
    /// The archive could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The archive key is unusable.
    #[error(transparent)]
    Key(#[from] crate::seal::keys::KeyError),
    /// The archive's disk has too little room for this recording.
    #[error("no space left on the archive's disk for `{path}`: {free} bytes free at `{root}`, {need} needed (the recording, its transcript and index, and the {reserve}-byte reserve set by LIVEPROOF_RESERVE_MIB); free some space and run again; nothing was written")]
    NoSpace {
        /// The recording.
        path: PathBuf,
        /// The archive root.
        root: PathBuf,
        /// Bytes free.
        free: u64,
        /// Bytes needed.
        need: u64,
        /// The reserve included in `need`.
        reserve: u64,
    },
    /// The platform (`--catalog`, `--blobs`) failed.
    #[error(transparent)]
    Platform(#[from] crate::platform::PlatformError),
    /// A worker could not transcribe the recording.
    #[error("cannot transcribe `{path}`: {reason}")]
    Worker {
        /// The recording.
        path: PathBuf,
        /// What the worker said.
        reason: String,
    },
}

impl IngestError {
    /// True when the input (recording or sidecar) is at fault rather than the machine.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            IngestError::Input { .. }
                | IngestError::Worker { .. }
                | IngestError::Sidecar(_)
                | IngestError::Comments(_)
                | IngestError::NoSpeech { .. }
                | IngestError::Media(
                    MediaError::Open { .. }
                        | MediaError::NotMedia { .. }
                        | MediaError::NoAudio { .. }
                        | MediaError::UnsupportedCodec { .. }
                        | MediaError::Corrupt { .. }
                        | MediaError::Truncated { .. }
                        | MediaError::Cut { .. }
                )
        )
    }
}

/// Progress of a long ingest.
pub trait Progress {
    /// The recording's duration became known (None when the container does not say).
    fn start(&self, total_ms: Option<u64>);
    /// Audio up to `done_ms` has been transcribed.
    fn advance(&self, done_ms: u64);
    /// A phase started (`hashing`, `transcribing`, ...).
    fn phase(&self, name: &str);
}

/// A progress sink that shows nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn phase(&self, _: &str) {}
}

/// Archives `path`: see the module doc for the steps and guarantees.
pub fn ingest(
    store: &mut Store,
    path: &Path,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<Summary, IngestError> {
    ingest_from(store, path, opts, progress, Source::Here)
}

/// Where a transcript comes from.
pub enum Source<'a> {
    /// Whisper in this process.
    Here,
    /// Somewhere else (a platform worker): called with the staged original and what to do.
    Elsewhere(&'a dyn Fn(&Handoff) -> Result<Transcribed, IngestError>),
}

/// What a transcript made elsewhere is made from.
pub struct Handoff<'a> {
    /// The staged original (the hashed bytes).
    pub staged: &'a Path,
    /// Its SHA-256.
    pub sha256: &'a str,
    /// Its size.
    pub size: u64,
    /// The name it is archived under.
    pub name: String,
    /// The settings recorded in the manifest.
    pub settings: crate::manifest::Settings,
}

/// A transcript with what made it.
pub struct Transcribed {
    /// Segments, gaps and cost.
    pub output: transcription::Output,
    /// Decoded duration and decoder complaints.
    pub report: media::DecodeReport,
    /// Model name.
    pub model: String,
    /// SHA-256 of its weights.
    pub model_sha256: String,
}

/// [`ingest`] with the transcript from `source`: the same checks, seal, store and index.
pub fn ingest_from(
    store: &mut Store,
    path: &Path,
    opts: &Options,
    progress: &dyn Progress,
    source: Source,
) -> Result<Summary, IngestError> {
    let meta = path.metadata().map_err(|e| IngestError::Input {
        path: path.to_path_buf(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".into(),
            _ => e.to_string(),
        },
    })?;
    if !meta.is_file() {
        return Err(IngestError::Input {
            path: path.to_path_buf(),
            reason: "not a regular file".into(),
        });
    }
    // Cheap checks first, so a typo does not cost a copy of a multi-gigabyte file.
    let sidecar = opts.meta.as_deref().map(sidecar::load).transpose()?;
    let started_at = sidecar
        .as_ref()
        .and_then(|m| sidecar::field(m, "started_at"))
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
    // Comments are checked before any copy or decode, and placed on the timeline once the
    // recording's duration is known.
    if let Some(c) = &opts.comments {
        crate::comments::load(c, "", u64::MAX / 2, started_at)?;
    }
    // The settings actually used: the sidecar may fix the language here, and a looped script
    // switches to the packed path below. The manifest records them, so `reproduce` uses them.
    let mut used = opts.clone();
    if opts.sidecar_language && opts.language == "auto" {
        if let Some(l) = sidecar.as_ref().and_then(|m| sidecar::field(m, "language")) {
            used.language = sidecar_language(l).ok_or_else(|| SidecarError::Invalid {
                path: opts.meta.clone().unwrap_or_default(),
                detail: format!(
                    "`language` is `{l}`, not a language Whisper knows: write an ISO 639-1 code \
                     (zh, en, ...), or give --lang to override it"
                ),
            })?;
        }
    }
    let language = Language::parse(&used.language)?;
    media::sniff(path)?;
    // A missing model is found before any copy; a worker elsewhere resolves its own.
    let local_model = match source {
        Source::Here => Some(crate::models::resolve(&opts.model, &opts.config.models)?),
        Source::Elsewhere(_) => None,
    };

    // Refuse up front rather than fail half-way (the failure would be safe, but slower).
    let reserve = opts.config.reserve_bytes();
    let need = meta.len() + meta.len() / 50 + reserve;
    if let Some(free) = crate::fsutil::free_bytes(store.root()).filter(|&f| f < need) {
        return Err(IngestError::NoSpace {
            path: path.to_path_buf(),
            root: store.root().to_path_buf(),
            free,
            need,
            reserve,
        });
    }
    progress.phase("hashing");
    let mut timings = Timings::default();
    let clock = std::time::Instant::now();
    let staged = store.stage(path)?;
    timings.hash_ms = clock.elapsed().as_millis() as u64;
    crate::fault::point("ingest.staged");
    let session = store::owned_session_id(&staged.sha256, opts.owner.as_deref());
    if let Some(row) = store.get(&session)? {
        // Repairs the index if an earlier run was killed between commit and indexing.
        let index_warning = ensure_indexed(store, &session);
        return Ok(Summary {
            index_warning,
            timestamp_warning: None,
            session,
            recording_sha256: row.recording_sha256,
            recording_size: staged.size,
            duration_ms: row.duration_ms,
            segments: row.segments,
            language: row.language,
            model: row.model,
            already_archived: true,
            gaps: store
                .manifest(&row.session)
                .map(|m| m.gap_count)
                .unwrap_or_default(),
            timings: None,
        });
    }

    // Whisper loads (a few tenths of a second) while the file is probed and listened to.
    let loading = local_model.as_ref().map(|model| {
        let topts = transcription_options(model, language.clone(), &used, None);
        std::thread::spawn(move || transcription::Engine::load(&topts))
    });

    // Decode the staged copy: the very bytes that were hashed.
    // Errors name the user's file, though the staged copy (the hashed bytes) is what is read.
    let clock = std::time::Instant::now();
    let probe = media::probe(&staged.path, path)?;
    timings.probe_ms = clock.elapsed().as_millis() as u64;
    if let Some(e) = probe.cut_error(path).filter(|_| !opts.allow_truncated) {
        return Err(e.into());
    }
    let cut_warning = probe.shortfall.as_ref().map(|s| {
        format!(
            "truncated: the {} needs {} bytes but the file has {} (archived with --allow-truncated)",
            s.what, s.needed, s.size
        )
    });
    progress.start(probe.declared_ms);
    progress.phase("transcribing");
    let done = match (source, local_model) {
        (Source::Here, Some(model)) => {
            // The decoder for the transcript starts (and fills its pipe) while the opening is
            // listened to by a decoder of its own.
            let stream = PcmStream::open(&staged.path, path, probe.clone())?;
            if opts.detect_loops && !opts.vad {
                let clock = std::time::Instant::now();
                let found = probe_opening(&staged.path, path, probe.clone())?;
                timings.loop_check_ms = clock.elapsed().as_millis() as u64;
                timings.loop_share = Some((found.share() * 1000.0).round() / 1000.0);
                used.vad = found.looped();
            }
            let topts = transcription_options(&model, language, &used, probe.declared_ms);
            let engine = match loading.map(std::thread::JoinHandle::join) {
                Some(Ok(loaded)) => loaded,
                // Not started, or the loader panicked: load here, where an error is reported.
                _ => transcription::Engine::load(&topts),
            }
            .map_err(transcription_error)?;
            let (output, report) =
                transcribe_loaded(engine, &topts, stream, used.allow_truncated, progress)?;
            Transcribed {
                output,
                report,
                model: model.name,
                model_sha256: model.sha256,
            }
        }
        (Source::Elsewhere(f), _) => f(&Handoff {
            staged: &staged.path,
            sha256: &staged.sha256,
            size: staged.size,
            name: original_name(path),
            settings: settings(&used, &opts.model),
        })?,
        (Source::Here, None) => unreachable!("resolved above"),
    };
    let (out, report) = (done.output, done.report);
    let (model_name, model_sha256) = (done.model, done.model_sha256);
    timings.transcription = out.stats;
    let (segments, gaps) = (out.segments, out.gaps);
    if segments.is_empty() && gaps.is_empty() {
        return Err(IngestError::NoSpeech {
            path: path.to_path_buf(),
            duration: media::clock(report.decoded_ms),
        });
    }

    let language = transcript::dominant_language(
        segments
            .iter()
            .map(|s| (s.language.as_str(), s.end_ms - s.start_ms)),
    );
    let transcript = Transcript {
        format: transcript::FORMAT.into(),
        session: session.clone(),
        recording_sha256: staged.sha256.clone(),
        language: language.clone(),
        model: model_name.clone(),
        segments,
        gaps,
    };
    let clock = std::time::Instant::now();
    let manifest = Manifest {
        format: crate::manifest::FORMAT.into(),
        session: session.clone(),
        recording_sha256: staged.sha256.clone(),
        recording_size: staged.size,
        original_name: original_name(path),
        audio: AudioInfo {
            container: probe.container.name().into(),
            codec: probe.codec.clone(),
            sample_rate: probe.sample_rate,
            channels: probe.channels,
        },
        duration_ms: report.decoded_ms,
        language: language.clone(),
        segment_count: transcript.segments.len(),
        gap_count: transcript.gaps.len(),
        transcript_sha256: transcript.sha256(),
        transcript_root: hex::encode(crate::seal::transcript_root(&transcript)),
        model: model_name.clone(),
        model_sha256: model_sha256.clone(),
        software: format!("liveproof {}", crate::VERSION),
        whisper_version: transcription::engine_version(),
        ingested_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        metadata: sidecar,
        decode_warnings: cut_warning.into_iter().chain(report.warnings).collect(),
        claims: Some(crate::claims::check_transcript(&transcript)),
        labels: probe.labels.clone(),
        c2pa: probe.c2pa.clone(),
        tags: Vec::new(),
        transcription: Some(settings(&used, &model_name)),
        comments: None,
    };
    let mut manifest = manifest;
    let comments = opts
        .comments
        .as_deref()
        .map(|c| crate::comments::load(c, &manifest.session, manifest.duration_ms, started_at))
        .transpose()?;
    manifest.comments = comments.as_ref().map(|(c, _)| c.sealed());
    manifest.tags = crate::shills::session_report(
        &manifest,
        &transcript,
        comments
            .as_ref()
            .map(|(c, _)| c.comments.as_slice())
            .unwrap_or(&[]),
        crate::disclosure::default_interval_min(),
    )
    .tags();
    let summary = Summary {
        session,
        recording_sha256: staged.sha256.clone(),
        recording_size: staged.size,
        duration_ms: manifest.duration_ms,
        segments: manifest.segment_count,
        language,
        model: model_name,
        already_archived: false,
        gaps: manifest.gap_count,
        index_warning: None,
        timestamp_warning: None,
        timings: None,
    };
    progress.phase("sealing");
    let key = crate::seal::keys::load_or_create(store.root())?;
    let manifest_bytes = manifest.canonical_json();
    let signature =
        crate::seal::DetachedSignature::create(&key, crate::seal::MANIFEST_DOMAIN, &manifest_bytes);
    let sig_bytes = serde_json::to_vec_pretty(&signature).expect("serialises");
    let manifest_hash = crate::seal::sha256(&manifest_bytes);
    let mut ingested = crate::custody::event(
        "ingest",
        &manifest.session,
        &opts.by.clone().unwrap_or_else(crate::custody::local_user),
        format!(
            "archived {:?} ({} bytes, SHA-256 {}) and transcribed it with model {}",
            manifest.original_name,
            manifest.recording_size,
            manifest.recording_sha256,
            manifest.model
        ),
    );
    ingested.at = manifest.ingested_at.clone();
    let entries = crate::seal::log::SessionEntries {
        key: &key,
        session: &manifest.session,
        manifest_sha256: &manifest_hash,
        at: &manifest.ingested_at,
        custody: &ingested,
    };
    let tsa = opts.config.tsa();
    if store.commit(
        staged,
        &manifest,
        &transcript,
        &extra_files(sig_bytes, comments),
        &entries,
    )? {
        progress.phase("timestamping");
        // A token that cannot be had now is not lost: `liveproof log timestamp` (and the
        // server, periodically) asks again.
        let warnings: Vec<String> = [
            store
                .log()
                .timestamp_head(tsa.as_ref())
                .err()
                .map(|e| format!("the log head has no trusted timestamp yet: {e}")),
            store
                .log()
                .timestamp_recording(tsa.as_ref(), &manifest.recording_sha256)
                .err()
                .map(|e| format!("the recording has no trusted timestamp yet: {e}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let timestamp_warning = (!warnings.is_empty()).then(|| {
            warnings.join("; ") + "; run `liveproof log timestamp` later to fetch the tokens"
        });
        timings.seal_ms = clock.elapsed().as_millis() as u64;
        progress.phase("indexing");
        let clock = std::time::Instant::now();
        // Also indexes sessions an earlier, killed run committed but did not index.
        let index_warning = crate::search::catch_up(store).err().map(|e| e.to_string());
        timings.index_ms = clock.elapsed().as_millis() as u64;
        return Ok(Summary {
            index_warning,
            timestamp_warning,
            timings: Some(timings),
            ..summary
        });
    }
    // Another process archived the same bytes meanwhile: report its session, unchanged.
    let row = store
        .get(&summary.session)?
        .ok_or_else(|| StoreError::NoSuchSession(summary.session.clone()))?;
    Ok(Summary {
        duration_ms: row.duration_ms,
        segments: row.segments,
        language: row.language,
        model: row.model,
        already_archived: true,
        ..summary
    })
}

/// Indexes the session if the index lacks it; returns a warning instead of failing, since the
/// archive (the source of truth) is complete either way.
fn ensure_indexed(store: &Store, session: &str) -> Option<String> {
    match crate::search::has_session(store.root(), session) {
        Ok(true) => None,
        _ => crate::search::index_session(store, session)
            .err()
            .map(|e| e.to_string()),
    }
}

/// The decoded recording as transcription reads it; the decode's report once it has ended.
struct Decoded {
    stream: Option<PcmStream>,
    allow_truncated: bool,
    report: Option<media::DecodeReport>,
}

impl transcription::Audio for Decoded {
    fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, MediaError> {
        match self.stream.as_mut() {
            Some(s) => s.read(out, max),
            None => Ok(0),
        }
    }

    fn ended(&mut self) -> Result<(), MediaError> {
        if let Some(s) = self.stream.take() {
            self.report = Some(s.finish(self.allow_truncated)?);
        }
        Ok(())
    }
}

/// The name a recording is archived under: its file name.
fn original_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Listens to the opening of the file at `path` for a looped script (`transcription::path`).
fn probe_opening(
    path: &Path,
    label: &Path,
    probe: media::Probe,
) -> Result<transcription::path::LoopProbe, IngestError> {
    let mut audio = Decoded {
        stream: Some(PcmStream::open(path, label, probe)?),
        allow_truncated: true,
        report: None,
    };
    // Dropping the stream stops the decoder at the end of the opening.
    Ok(transcription::path::probe_loops(
        &mut audio,
        transcription::path::PROBE_SECONDS,
    )?)
}

/// What the transcription is told: `model`, `language` and the settings of `opts`.
fn transcription_options(
    model: &ResolvedModel,
    language: Language,
    opts: &Options,
    declared_ms: Option<u64>,
) -> transcription::Options {
    transcription::Options {
        model_path: model.path.clone(),
        model_name: model.name.clone(),
        language,
        threads: opts.threads,
        beam: opts.beam,
        vad: opts.vad,
        reuse_repeats: !opts.transcribe_repeats,
        declared_ms,
    }
}

fn transcription_error(e: TranscriptionError) -> IngestError {
    match e {
        TranscriptionError::Whisper(w) => IngestError::from(w),
        TranscriptionError::Audio(m) => IngestError::from(m),
    }
}

/// Decodes the file at `path` (named `label` in messages) and transcribes it with the
/// settings of `opts` (`transcription::transcribe`): what `reproduce` and platform workers run.
pub(crate) fn transcribe_file(
    path: &Path,
    label: &Path,
    probe: media::Probe,
    model: &ResolvedModel,
    language: Language,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<(transcription::Output, media::DecodeReport), IngestError> {
    let topts = transcription_options(model, language, opts, probe.declared_ms);
    let stream = PcmStream::open(path, label, probe)?;
    let engine = transcription::Engine::load(&topts).map_err(transcription_error)?;
    transcribe_loaded(engine, &topts, stream, opts.allow_truncated, progress)
}

/// Transcribes the decode `stream` on a loaded `engine`.
fn transcribe_loaded(
    engine: transcription::Engine,
    topts: &transcription::Options,
    stream: PcmStream,
    allow_truncated: bool,
    progress: &dyn Progress,
) -> Result<(transcription::Output, media::DecodeReport), IngestError> {
    let mut audio = Decoded {
        stream: Some(stream),
        allow_truncated,
        report: None,
    };
    let out = transcription::transcribe_on(engine, &mut audio, topts, &|ms| progress.advance(ms))
        .map_err(transcription_error)?;
    // `ended` ran before the tail was transcribed; a stream that ended early is judged here.
    transcription::Audio::ended(&mut audio)?;
    let report = audio.report.expect("the stream was judged");
    Ok((out, report))
}

/// A sidecar's spoken language as a Whisper code: `zh`, `en`, and locale forms like `zh-CN` or
/// `en_US` (the primary subtag); `None` when Whisper does not know it. `auto` is not a language
/// a platform states.
fn sidecar_language(value: &str) -> Option<String> {
    let primary = value
        .trim()
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match Language::parse(&primary) {
        Ok(Language::Fixed(code)) => Some(code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sidecar_language_is_read_as_its_primary_subtag() {
        assert_eq!(sidecar_language("zh").as_deref(), Some("zh"));
        assert_eq!(sidecar_language("zh-CN").as_deref(), Some("zh"));
        assert_eq!(sidecar_language(" EN_us ").as_deref(), Some("en"));
        assert_eq!(sidecar_language("auto"), None);
        assert_eq!(sidecar_language("Mandarin"), None);
        assert_eq!(sidecar_language(""), None);
    }
}
