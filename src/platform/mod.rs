//! The platform: transcription spread over machines. With `--catalog postgres://…` and
//! `--blobs s3://…`, `ingest` and `serve` put the original into the bucket and a task into the
//! PostgreSQL queue (`queue`); `liveproof worker`s (`worker`) lease tasks, fetch the original,
//! transcribe it with the settings the task records and put the result back; the node that
//! submitted it seals, stores and indexes the session as it does for its own transcriptions —
//! the archive key never leaves the sealing node. Invariant: a task is a function of
//! (recording bytes, settings); whoever transcribes it, however often, the text is the same.

pub mod blobs;
pub mod queue;
pub mod worker;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use blobs::Blobs;
pub use queue::{Queue, Request, Status};

/// Why the platform could not be used.
#[derive(Debug, Error)]
pub enum PlatformError {
    /// A bad `--catalog` or `--blobs` value.
    #[error("{0}")]
    Config(String),
    /// PostgreSQL refused or is unreachable.
    #[error("catalog: {0}")]
    Catalog(String),
    /// The object store refused or is unreachable.
    #[error("blobs: {0}")]
    Blobs(String),
    /// A result that is not what was asked for.
    #[error("the result of task {key} is unusable: {reason}")]
    Result {
        /// Task key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Both engines, as `--catalog` and `--blobs` name them.
pub struct Platform {
    /// The task queue.
    pub queue: Queue,
    /// The bucket.
    pub blobs: Blobs,
}

/// Result formats a sealing node accepts.
pub const RESULT_FORMAT: &str = "liveproof/remote-transcription/v1";

/// Results larger than this are refused (a 24-hour transcript is a few megabytes).
pub const MAX_RESULT_BYTES: u64 = 256 << 20;

/// What a worker hands back: the transcription of one recording with the weights it used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskResult {
    /// Always [`RESULT_FORMAT`].
    pub format: String,
    /// The task's key.
    pub key: String,
    /// The recording transcribed.
    pub recording_sha256: String,
    /// Model name and the SHA-256 of the weights the worker loaded.
    pub model: String,
    /// SHA-256 of those weights.
    pub model_sha256: String,
    /// Segments, in recording order.
    pub segments: Vec<crate::transcript::Segment>,
    /// Voice-active audio that yielded no text.
    pub gaps: Vec<crate::transcript::Gap>,
    /// What it cost the worker.
    pub stats: crate::transcription::Stats,
    /// Decoded duration (ms).
    pub decoded_ms: u64,
    /// Decoder complaints that did not stop it.
    pub warnings: Vec<String>,
    /// Which worker did it.
    pub worker: String,
}

impl Platform {
    /// Connects to both; `credentials` for the bucket (key id, secret), else anonymous.
    pub fn connect(
        catalog: &str,
        blobs: &str,
        credentials: Option<(String, String)>,
    ) -> Result<Self, PlatformError> {
        if !(catalog.starts_with("postgres://") || catalog.starts_with("postgresql://")) {
            return Err(PlatformError::Config(format!(
                "--catalog {}: expected postgres://USER@HOST:PORT/DB",
                queue::redact(catalog)
            )));
        }
        Ok(Self {
            blobs: Blobs::open(blobs, credentials)?,
            queue: Queue::connect(catalog)?,
        })
    }

    /// Puts the original at `path` (hash `req.recording_sha256`) into the bucket unless it is
    /// there, and queues the task. Returns its key.
    pub fn submit(
        &mut self,
        path: &std::path::Path,
        req: &Request,
    ) -> Result<String, PlatformError> {
        // Workers resolve the model by name in their own models directory; a file on this
        // machine means nothing there.
        if crate::models::known(&req.settings.model).is_none() {
            return Err(PlatformError::Config(format!(
                "--model {:?}: the platform's workers take an installable model name ({}), not a file",
                req.settings.model,
                crate::models::known_names()
            )));
        }
        let key = blobs::original_key(&req.recording_sha256);
        if !self.blobs.exists(&key)? {
            self.blobs.put_file(&key, path)?;
        }
        self.queue.submit(req)
    }

    /// The result of the finished task `key`, checked against what was asked.
    pub fn result(&self, key: &str, req: &Request) -> Result<TaskResult, PlatformError> {
        let bytes = self
            .blobs
            .get_bytes(&blobs::result_key(key), MAX_RESULT_BYTES)?;
        check(&bytes, key, req)
    }
}

/// Parses a worker's result and checks it answers `req` with the pinned weights.
fn check(bytes: &[u8], key: &str, req: &Request) -> Result<TaskResult, PlatformError> {
    let bad = |reason: String| PlatformError::Result {
        key: key.into(),
        reason,
    };
    let r: TaskResult = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    if r.format != RESULT_FORMAT {
        return Err(bad(format!(
            "format {:?}, expected {RESULT_FORMAT}",
            r.format
        )));
    }
    if r.key != key || r.recording_sha256 != req.recording_sha256 || r.model != req.settings.model {
        return Err(bad("it answers another task".into()));
    }
    // A worker whose weights differ from the pinned conversion would seal a transcript no one
    // can reproduce.
    if let Some(m) = crate::models::known(&r.model).filter(|m| m.output_sha256 != r.model_sha256) {
        return Err(bad(format!(
            "the worker ran {} weights with SHA-256 {}, not the pinned {}; reinstall the model on that worker (`liveproof models install {}`)",
            m.name, r.model_sha256, m.output_sha256, m.name
        )));
    }
    Ok(r)
}

/// How often a waiting submitter asks the queue.
pub const POLL: std::time::Duration = std::time::Duration::from_millis(250);

impl Platform {
    /// The request a handoff makes.
    pub fn request(h: &crate::ingest::Handoff) -> Request {
        Request {
            recording_sha256: h.sha256.into(),
            size: h.size,
            name: h.name.clone(),
            settings: h.settings.clone(),
        }
    }

    /// Queues the recording at `path` for `opts` (hashing it here) without waiting: a batch
    /// ingest submits every file first, so all workers start at once.
    pub fn submit_path(
        &mut self,
        path: &std::path::Path,
        opts: &crate::ingest::Options,
    ) -> Result<String, crate::ingest::IngestError> {
        let input = |e: std::io::Error| crate::ingest::IngestError::Input {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let size = path.metadata().map_err(input)?.len();
        let sha256 = crate::hashing::sha256_file(path).map_err(input)?;
        let req = Request {
            recording_sha256: sha256,
            size,
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            settings: crate::ingest::settings(opts, &opts.model),
        };
        Ok(self.submit(path, &req)?)
    }

    /// What the finished (or failed) task `key` gives an ingest; `None` while it is open.
    pub fn outcome(
        &mut self,
        key: &str,
        req: &Request,
        path: &std::path::Path,
    ) -> Result<Option<crate::ingest::Transcribed>, crate::ingest::IngestError> {
        let status = self
            .queue
            .status(key)?
            .ok_or_else(|| PlatformError::Result {
                key: key.into(),
                reason: "the task is not in the queue".into(),
            })?;
        match status.state.as_str() {
            "done" => {
                let r = match self.result(key, req) {
                    Ok(r) => r,
                    // An unusable result is refused for good; the bucket being away is not.
                    Err(e @ PlatformError::Result { .. }) => {
                        self.queue.refuse(key, &e.to_string())?;
                        return Err(e.into());
                    }
                    Err(e) => return Err(e.into()),
                };
                Ok(Some(crate::ingest::Transcribed {
                    output: crate::transcription::Output {
                        segments: r.segments,
                        gaps: r.gaps,
                        stats: r.stats,
                    },
                    report: crate::media::DecodeReport {
                        decoded_ms: r.decoded_ms,
                        warnings: r.warnings,
                    },
                    model: r.model,
                    model_sha256: r.model_sha256,
                }))
            }
            "failed" => Err(crate::ingest::IngestError::Worker {
                path: path.to_path_buf(),
                reason: status
                    .error
                    .unwrap_or_else(|| "the worker gave no reason".into()),
            }),
            _ => Ok(None),
        }
    }

    /// Transcribes through the platform and waits: submit, follow the worker's progress, fetch
    /// the result. What `ingest` runs with `--catalog` and `--blobs`.
    pub fn transcribe(
        &mut self,
        h: &crate::ingest::Handoff,
        label: &std::path::Path,
        progress: &dyn crate::ingest::Progress,
    ) -> Result<crate::ingest::Transcribed, crate::ingest::IngestError> {
        let req = Self::request(h);
        progress.phase("uploading");
        let key = self.submit(h.staged, &req)?;
        progress.phase("waiting for a worker");
        let mut started = false;
        loop {
            if let Some(done) = self.outcome(&key, &req, label)? {
                return Ok(done);
            }
            if let Some(s) = self.queue.status(&key)? {
                if s.state == "leased" {
                    if !started {
                        progress.phase("transcribing");
                        progress.start(s.total_ms);
                        started = s.total_ms.is_some();
                    }
                    progress.advance(s.progress_ms);
                }
            }
            std::thread::sleep(POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> Request {
        Request {
            recording_sha256: "ab".into(),
            size: 3,
            name: "a.wav".into(),
            settings: crate::manifest::Settings {
                format: crate::manifest::TRANSCRIPTION_FORMAT.into(),
                model: "base".into(),
                language: "zh".into(),
                beam: 1,
                vad: false,
                reuse_repeats: true,
                allow_truncated: false,
            },
        }
    }

    fn result(model_sha256: &str) -> TaskResult {
        TaskResult {
            format: RESULT_FORMAT.into(),
            key: req().key(),
            recording_sha256: "ab".into(),
            model: "base".into(),
            model_sha256: model_sha256.into(),
            segments: vec![],
            gaps: vec![],
            stats: Default::default(),
            decoded_ms: 1000,
            warnings: vec![],
            worker: "w".into(),
        }
    }

    #[test]
    fn a_result_must_answer_its_task_with_the_pinned_weights() {
        let pinned = crate::models::known("base").unwrap().output_sha256;
        let key = req().key();
        let ok = serde_json::to_vec(&result(pinned)).unwrap();
        assert!(check(&ok, &key, &req()).is_ok());
        let other_weights = serde_json::to_vec(&result(&"0".repeat(64))).unwrap();
        let e = check(&other_weights, &key, &req()).unwrap_err().to_string();
        assert!(e.contains("reinstall"), "{e}");
        let mut other = req();
        other.recording_sha256 = "cd".into();
        assert!(check(&ok, &other.key(), &other).is_err());
        assert!(check(b"{}", &key, &req()).is_err());
    }
}
