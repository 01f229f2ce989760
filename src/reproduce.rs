//! `liveproof reproduce`: transcribes an archived original again with the settings its
//! manifest recorded, and says whether the transcript root comes out identical — the
//! "reproducible extraction" courts ask of electronic evidence.
//!
//! Invariant: reads the store, writes nothing.

use std::path::Path;

use serde::Serialize;
use thiserror::Error;

use crate::ingest::{IngestError, Options, Progress};
use crate::store::Store;
use crate::transcript::Transcript;

/// What `reproduce --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Reproduction {
    /// Session id.
    pub session: String,
    /// True when the recomputed transcript root equals the sealed one.
    pub reproduced: bool,
    /// The sealed root (manifest).
    pub transcript_root: String,
    /// The root recomputed now.
    pub recomputed_root: String,
    /// Segments sealed and recomputed.
    pub segments: (usize, usize),
    /// Gaps sealed and recomputed.
    pub gaps: (usize, usize),
    /// The first segment that differs, when one does: (index, sealed text, recomputed text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_difference: Option<(usize, String, String)>,
    /// The settings used (from the manifest).
    pub settings: crate::manifest::Settings,
}

/// Why a session cannot be reproduced.
#[derive(Debug, Error)]
pub enum ReproduceError {
    /// The manifest predates recorded settings.
    #[error("session {0} was archived before transcription settings were recorded in manifests, so its extraction cannot be re-run exactly; ingest the original again to get a reproducible session")]
    NoSettings(String),
    /// Transcribed by other pipeline rules than this build's.
    #[error("session {session} was transcribed by pipeline `{sealed}`, and this build runs `{current}`, whose rules give other text: re-run it with a liveproof release that runs `{sealed}`")]
    OtherPipeline {
        /// Session.
        session: String,
        /// The sealed settings' format.
        sealed: String,
        /// This build's.
        current: String,
    },
    /// Other weights than the sealed ones.
    #[error("model `{model}` has SHA-256 {found}, but session {session} was transcribed with weights {sealed}: install the same weights (`liveproof models install`) or pass them with --model PATH")]
    OtherWeights {
        /// Session.
        session: String,
        /// Model asked for.
        model: String,
        /// Their hash.
        found: String,
        /// The sealed hash.
        sealed: String,
    },
    /// Reading, decoding or transcribing failed.
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

/// Re-runs the extraction of `session`; `model` overrides the model name recorded (a path to
/// the same weights), `threads` only changes the speed.
pub fn reproduce(
    store: &Store,
    session: &str,
    model: Option<&str>,
    config: &crate::config::Config,
    threads: usize,
    progress: &dyn Progress,
) -> Result<Reproduction, ReproduceError> {
    let row = store.resolve(session).map_err(IngestError::from)?;
    let manifest = store.manifest(&row.session).map_err(IngestError::from)?;
    let sealed = store.transcript(&row.session).map_err(IngestError::from)?;
    let settings = manifest
        .transcription
        .clone()
        .ok_or_else(|| ReproduceError::NoSettings(row.session.clone()))?;
    if settings.format != crate::manifest::TRANSCRIPTION_FORMAT {
        return Err(ReproduceError::OtherPipeline {
            session: row.session.clone(),
            sealed: settings.format.clone(),
            current: crate::manifest::TRANSCRIPTION_FORMAT.into(),
        });
    }
    let resolved = crate::models::resolve(model.unwrap_or(&settings.model), &config.models)
        .map_err(IngestError::from)?;
    if resolved.sha256 != manifest.model_sha256 {
        return Err(ReproduceError::OtherWeights {
            session: row.session.clone(),
            model: resolved.name,
            found: resolved.sha256,
            sealed: manifest.model_sha256,
        });
    }
    let blob = store
        .original(&manifest.recording_sha256)
        .map_err(IngestError::from)?;
    let label = Path::new(&manifest.original_name);
    let probe = crate::media::probe(&blob, label).map_err(IngestError::from)?;
    let opts = Options {
        model: resolved.name.clone(),
        config: config.clone(),
        language: settings.language.clone(),
        threads,
        beam: settings.beam,
        allow_truncated: settings.allow_truncated,
        vad: settings.vad,
        transcribe_repeats: settings.vad && !settings.reuse_repeats,
        // The manifest records the path the ingest took.
        detect_loops: false,
        ..Default::default()
    };
    let language =
        crate::transcription::Language::parse(&opts.language).map_err(IngestError::from)?;
    progress.start(probe.declared_ms);
    let (out, _) =
        crate::ingest::transcribe_file(&blob, label, probe, &resolved, language, &opts, progress)?;
    let (segments, gaps) = (out.segments, out.gaps);
    let again = Transcript {
        segments,
        gaps,
        ..sealed.clone()
    };
    let recomputed = hex::encode(crate::seal::transcript_root(&again));
    let first_difference = sealed
        .segments
        .iter()
        .zip(&again.segments)
        .find(|(a, b)| a != b)
        .map(|(a, b)| (a.index, a.text.clone(), b.text.clone()));
    Ok(Reproduction {
        session: row.session,
        reproduced: recomputed == manifest.transcript_root,
        transcript_root: manifest.transcript_root,
        recomputed_root: recomputed,
        segments: (sealed.segments.len(), again.segments.len()),
        gaps: (sealed.gaps.len(), again.gaps.len()),
        first_difference,
        settings,
    })
}
