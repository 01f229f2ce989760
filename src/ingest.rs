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
use crate::text;
use crate::transcribe::{Language, Sectioner, TranscribeError, Transcriber};
use crate::transcript::{self, Segment, Transcript};
use crate::workers::{Done, Job, Pool};

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
            threads: crate::transcribe::default_threads(),
            beam: 1,
            allow_truncated: false,
            vad: false,
            transcribe_repeats: false,
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

/// Wall time per ingest stage, in milliseconds. Decoding runs in its own process alongside
/// inference, so `decode_wait_ms` is only the time inference waited for audio.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    /// Copying the recording into the store while hashing it (SHA-256).
    pub hash_ms: u64,
    /// Probing the container (ffprobe, labels, C2PA).
    pub probe_ms: u64,
    /// Waiting for decoded audio.
    pub decode_wait_ms: u64,
    /// Voice-activity detection and packing.
    pub vad_ms: u64,
    /// Whisper (language detection, encoding, decoding): wall time, all workers together.
    pub transcribe_ms: u64,
    /// Claims, disclosure, manifest, signature, catalog and log commit.
    pub seal_ms: u64,
    /// Search index update.
    pub index_ms: u64,
    /// Seconds of audio judged to be speech and sent to Whisper (ms).
    pub speech_ms: u64,
    /// Windows (chunks) Whisper processed.
    pub windows: u64,
    /// Whisper workers run in parallel (one decoding state and thread each).
    pub workers: u64,
    /// Time the workers spent transcribing, summed over workers (ms).
    pub worker_busy_ms: u64,
    /// Speech regions found to repeat earlier audio exactly.
    pub repeats_found: u64,
    /// Of those, the ones that took the earlier region's transcript (the others were
    /// transcribed: the earlier text could not be told apart from its neighbours').
    pub repeats_reused: u64,
    /// Their audio (ms), not sent to Whisper.
    pub repeats_reused_ms: u64,
    /// Share of voice-active audio covered by text after the coverage audit, 0 to 1.
    pub coverage: Option<f64>,
    /// Regions decoded again alone because their window left them without text.
    pub regions_redecoded: u64,
    /// Voice-active stretches that still yielded no text: sealed as gaps.
    pub gaps: u64,
}

/// Section length (s) for parallel transcription with `--no-vad`: a function of the
/// recording's declared length only, never of the thread count (sections decide where
/// windows are cut, so the text must not depend on how many workers there are): 1/16 of the
/// recording (about four sections for each of up to four workers), between 60 s (each
/// section's last window is partly empty) and 150 s (bounded audio in memory).
fn section_seconds(declared_ms: Option<u64>) -> u64 {
    declared_ms.map_or(120, |ms| (ms / 1000 / 16).clamp(60, 150))
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
}

impl IngestError {
    /// True when the input (recording or sidecar) is at fault rather than the machine.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            IngestError::Input { .. }
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
    let language = Language::parse(&opts.language)?;
    media::sniff(path)?;
    let model = crate::models::resolve(&opts.model, &opts.config.models)?;

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
    let (segments, gaps, report) = transcribe_file(
        &staged.path,
        path,
        probe.clone(),
        &model,
        language,
        opts,
        progress,
        &mut timings,
    )?;
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
        model: model.name.clone(),
        segments,
        gaps,
    };
    let clock = std::time::Instant::now();
    let manifest = Manifest {
        format: crate::manifest::FORMAT.into(),
        session: session.clone(),
        recording_sha256: staged.sha256.clone(),
        recording_size: staged.size,
        original_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
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
        model: model.name.clone(),
        model_sha256: model.sha256.clone(),
        software: format!("liveproof {}", crate::VERSION),
        whisper_version: whisper_rs::get_whisper_version().to_string(),
        ingested_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        metadata: sidecar,
        decode_warnings: cut_warning.into_iter().chain(report.warnings).collect(),
        claims: Some(crate::claims::check_transcript(&transcript)),
        labels: probe.labels.clone(),
        c2pa: probe.c2pa.clone(),
        tags: Vec::new(),
        transcription: Some(settings(opts, &model.name)),
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
        model: model.name,
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

/// Decodes a whole file and transcribes it in sections cut at quiet points (with VAD: packed
/// speech chunks, see `vad`), spread over parallel Whisper workers (see `workers`), in
/// bounded memory.
#[allow(clippy::too_many_arguments)]
pub(crate) fn transcribe_file(
    path: &Path,
    label: &Path,
    probe: media::Probe,
    model: &ResolvedModel,
    language: Language,
    opts: &Options,
    progress: &dyn Progress,
    timings: &mut Timings,
) -> Result<
    (
        Vec<Segment>,
        Vec<crate::transcript::Gap>,
        media::DecodeReport,
    ),
    IngestError,
> {
    use std::time::Instant;
    let transcriber =
        Transcriber::load(&model.path, &model.name, language, opts.threads, opts.beam)?;
    let section_len = section_seconds(probe.declared_ms);
    let mut stream = PcmStream::open(path, label, probe)?;
    let mut pool = Pool::start(transcriber, opts.threads)?;
    let mut sectioner = Sectioner::new(section_len);
    let mut packer = opts.vad.then(|| {
        if opts.transcribe_repeats {
            crate::vad::Packer::default()
        } else {
            crate::vad::Packer::with_repeats()
        }
    });
    let mut reuse = RepeatFlow::default();
    let mut done = Vec::new();
    let mut block = Vec::with_capacity(1 << 16);
    let clock = Instant::now();
    loop {
        block.clear();
        let waited = Instant::now();
        let n = stream.read(&mut block, 1 << 16)?;
        timings.decode_wait_ms += waited.elapsed().as_millis() as u64;
        if n == 0 {
            break;
        }
        if let Some(p) = packer.as_mut() {
            let vad_clock = Instant::now();
            p.push(&block);
            timings.vad_ms += vad_clock.elapsed().as_millis() as u64;
            reuse.feed(p, &mut pool, &mut done)?;
        } else {
            sectioner.push(&block);
            while let Some((at, samples)) = sectioner.next_section() {
                pool.submit(Job::Section(at, samples))?;
            }
        }
        progress.advance(pool.progress_ms());
    }
    // Judge the decode before transcribing the tail: a truncated file fails as such.
    let report = stream.finish(opts.allow_truncated)?;
    if let Some(p) = packer.as_mut() {
        p.finish();
        reuse.feed(p, &mut pool, &mut done)?;
        reuse.drain(&mut pool, &mut done)?;
    } else if let Some((at, samples)) = sectioner.finish() {
        pool.submit(Job::Section(at, samples))?;
    }
    done.extend(pool.finish()?);
    done.sort_by_key(|d| d.index);
    // Wall time of the parallel transcription, less the time spent waiting for audio.
    timings.transcribe_ms = (clock.elapsed().as_millis() as u64)
        .saturating_sub(timings.decode_wait_ms + timings.vad_ms);
    timings.workers = crate::workers::split_threads(opts.threads).0 as u64;
    let mut raw = Vec::new();
    let mut raw_gaps = Vec::new();
    let (mut voice_ms, mut covered_ms) = (0u64, 0u64);
    for d in done {
        timings.windows += d.windows;
        timings.speech_ms += d.speech_ms;
        timings.worker_busy_ms += d.busy_ms;
        timings.regions_redecoded += d.redecoded;
        voice_ms += d.voice_ms;
        covered_ms += d.covered_ms;
        raw.extend(d.segments);
        raw_gaps.extend(d.gaps);
    }
    timings.repeats_found = reuse.state.found;
    timings.repeats_reused = reuse.state.reused;
    timings.repeats_reused_ms = reuse.state.reused_samples * 1000 / u64::from(media::SAMPLE_RATE);
    // Reused repeats have their reference's text over their whole length.
    voice_ms += timings.repeats_reused_ms;
    covered_ms += timings.repeats_reused_ms;
    let share = if voice_ms == 0 {
        1.0
    } else {
        covered_ms as f64 / voice_ms as f64
    };
    timings.coverage = Some((share * 1000.0).round() / 1000.0);
    raw_gaps.sort_by_key(|g| (g.start_ms, g.end_ms));
    timings.gaps = raw_gaps.len() as u64;
    let gaps = raw_gaps
        .into_iter()
        .enumerate()
        .map(|(index, g)| crate::transcript::Gap {
            index,
            start_ms: g.start_ms,
            end_ms: g.end_ms,
            reason: g.reason.to_string(),
        })
        .collect();
    raw.append(&mut reuse.state.segments);
    // Repeats and regions transcribed after all come back out of recording order.
    raw.sort_by_key(|r| (r.start_ms, r.end_ms));
    let segments = raw
        .into_iter()
        .enumerate()
        .map(|(index, r)| Segment {
            index,
            start_ms: r.start_ms,
            end_ms: r.end_ms,
            language: text::spoken_language(&r.raw_text, &r.language),
            text: text::normalize(&r.raw_text),
            raw_text: r.raw_text,
            confidence: (f64::from(r.confidence) * 1000.0).round() / 1000.0,
        })
        .collect();
    Ok((segments, gaps, report))
}

/// Audio of repeats waiting for their reference's text, at most (10 minutes): beyond it the
/// ingest waits for Whisper to catch up.
const MAX_WAITING_SAMPLES: usize = 600 * media::SAMPLE_RATE as usize;

/// Repeated regions between the packer and the workers: references are tracked as they go
/// to Whisper and come back; repeats take their text or, when it is unusable, are packed
/// into chunks of their own and transcribed.
#[derive(Default)]
struct RepeatFlow {
    state: crate::repeats::Reuse,
    fallback: crate::vad::Chunk,
}

impl RepeatFlow {
    /// Submits the packer's ready chunks, takes its repeats, and applies what came back.
    fn feed(
        &mut self,
        p: &mut crate::vad::Packer,
        pool: &mut Pool,
        done: &mut Vec<Done>,
    ) -> Result<(), IngestError> {
        while let Some(c) = p.next_chunk() {
            c.pieces
                .iter()
                .filter_map(|piece| piece.id)
                .for_each(|id| self.state.sent(id));
            pool.submit(Job::Chunk(c))?;
        }
        while let Some(r) = p.next_repeat() {
            self.state.defer(r);
        }
        for d in pool.take_done()? {
            self.learn(d, done);
        }
        while self.state.waiting_samples() > MAX_WAITING_SAMPLES {
            match pool.wait_one()? {
                Some(d) => self.learn(d, done),
                None => break,
            }
        }
        self.settle(pool, false)
    }

    /// After the last chunk: waits until every repeat has its text or has been sent.
    fn drain(&mut self, pool: &mut Pool, done: &mut Vec<Done>) -> Result<(), IngestError> {
        while self.state.is_waiting() {
            match pool.wait_one()? {
                Some(d) => self.learn(d, done),
                None => self.settle(pool, true)?,
            }
            self.settle(pool, false)?;
        }
        if !self.fallback.samples.is_empty() {
            pool.submit(Job::Chunk(std::mem::take(&mut self.fallback)))?;
        }
        Ok(())
    }

    fn learn(&mut self, mut d: Done, done: &mut Vec<Done>) {
        for (id, text) in d.regions.drain(..) {
            self.state.learn(id, text);
        }
        done.push(d);
    }

    /// Resolves waiting repeats; those whose reference text is unusable go to Whisper.
    fn settle(&mut self, pool: &mut Pool, all: bool) -> Result<(), IngestError> {
        for r in self.state.settle(all) {
            if r.retry.is_some() {
                // Alone in its window, so its text cannot run into a neighbour's, and the
                // repeats waiting for it get it as soon as possible.
                let mut alone = crate::vad::Chunk::default();
                alone.add(r.src, &r.samples, r.retry, r.speech);
                pool.submit(Job::Chunk(alone))?;
                continue;
            }
            if !self.fallback.room_for(r.samples.len()) {
                pool.submit(Job::Chunk(std::mem::take(&mut self.fallback)))?;
            }
            self.fallback.add(r.src, &r.samples, None, r.speech);
        }
        if all && !self.fallback.samples.is_empty() {
            pool.submit(Job::Chunk(std::mem::take(&mut self.fallback)))?;
        }
        Ok(())
    }
}
