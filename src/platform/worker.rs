//! `liveproof worker`: leases transcription tasks from the queue, fetches each original from the
//! bucket (checking its hash), transcribes it with the settings the task records
//! (`ingest::transcribe_file`, the same call a local ingest makes) and puts the result back. A
//! heartbeat thread keeps the lease while Whisper works; on SIGTERM or SIGINT the task held is
//! given back before the process exits. Invariant: a worker holds no archive key and writes
//! nothing but results and task states.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use super::{blobs, Platform, PlatformError, Queue, TaskResult, RESULT_FORMAT};
use crate::ingest::{self, IngestError};

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Its name in the queue (`host:pid` unless given).
    pub name: String,
    /// Inference threads.
    pub threads: usize,
    /// Settings: where its models are.
    pub config: crate::config::Config,
    /// How long a lease lasts without a heartbeat; heartbeats come three times as often.
    pub lease: Duration,
    /// How often an idle worker asks for work.
    pub poll: Duration,
    /// Stop after this many tasks (`None`: run until stopped).
    pub max_tasks: Option<u64>,
    /// Stop when the queue is empty instead of waiting.
    pub drain: bool,
    /// Where originals are downloaded to while being transcribed.
    pub scratch: PathBuf,
    /// The PostgreSQL URL (the heartbeat and the shutdown hook each open their own connection).
    pub catalog: String,
}

/// What a worker did, as `worker --json` prints it when it stops.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    /// The worker's name.
    pub worker: String,
    /// Tasks transcribed and handed back.
    pub done: u64,
    /// Tasks failed for good (bad input).
    pub failed: u64,
    /// Audio transcribed (ms).
    pub audio_ms: u64,
}

/// Why the worker stopped early.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The platform failed.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// This worker cannot run the task's model (the task went back to the queue).
    #[error("{0}")]
    Model(#[from] crate::models::ModelError),
}

/// A task in progress, shared with the heartbeat and the signal handler.
#[derive(Default)]
struct Held {
    task: Mutex<Option<i64>>,
    progress_ms: AtomicU64,
    total_ms: AtomicU64,
}

/// The default worker name: host name and process id.
pub fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "worker".into());
    format!("{host}:{}", std::process::id())
}

/// Runs the worker loop until stopped, drained or `max_tasks` are done.
pub fn run(
    platform: &mut Platform,
    opts: &Options,
    log: &dyn Fn(serde_json::Value),
) -> Result<Summary, WorkerError> {
    std::fs::create_dir_all(&opts.scratch).map_err(|e| {
        PlatformError::Config(format!("cannot create {}: {e}", opts.scratch.display()))
    })?;
    let held = Arc::new(Held::default());
    let stopping = Arc::new(AtomicBool::new(false));
    on_signal(opts, held.clone(), stopping.clone());
    let heart = heartbeat(opts, held.clone(), stopping.clone())?;
    let mut summary = Summary {
        worker: opts.name.clone(),
        ..Default::default()
    };
    let result = (|| {
        while !stopping.load(Ordering::SeqCst)
            && opts
                .max_tasks
                .is_none_or(|m| summary.done + summary.failed < m)
        {
            // The task is marked held inside the same critical section that leases it, so a
            // signal in between still finds it and gives it back.
            let mut slot = held.task.lock().expect("not poisoned");
            let Some(task) = platform.queue.lease(&opts.name, opts.lease)? else {
                drop(slot);
                if opts.drain {
                    break;
                }
                std::thread::sleep(opts.poll);
                continue;
            };
            *slot = Some(task.id);
            held.progress_ms.store(0, Ordering::SeqCst);
            held.total_ms.store(0, Ordering::SeqCst);
            drop(slot);
            log(
                serde_json::json!({"step": "leased", "task": task.key, "attempt": task.attempt,
                "recording_sha256": task.request.recording_sha256}),
            );
            let outcome = transcribe(platform, opts, &task, &held);
            *held.task.lock().expect("not poisoned") = None;
            match outcome {
                Ok(r) => {
                    platform.queue.finish(task.id, r.decoded_ms)?;
                    summary.done += 1;
                    summary.audio_ms += r.decoded_ms;
                    log(serde_json::json!({"step": "done", "task": task.key,
                        "segments": r.segments.len(), "decoded_ms": r.decoded_ms}));
                }
                Err(Failure::Model(e)) => {
                    platform.queue.release(task.id, &opts.name)?;
                    return Err(WorkerError::Model(e));
                }
                Err(Failure::Platform(e)) => {
                    platform.queue.release(task.id, &opts.name)?;
                    return Err(e.into());
                }
                Err(Failure::Task(e)) => {
                    platform.queue.fail(task.id, &e)?;
                    summary.failed += 1;
                    log(serde_json::json!({"step": "failed", "task": task.key, "error": e}));
                }
            }
        }
        Ok(())
    })();
    stopping.store(true, Ordering::SeqCst);
    let _ = heart.join();
    result.map(|_| summary)
}

enum Failure {
    Model(crate::models::ModelError),
    Platform(PlatformError),
    Task(String),
}

fn transcribe(
    platform: &mut Platform,
    opts: &Options,
    task: &super::queue::Leased,
    held: &Held,
) -> Result<TaskResult, Failure> {
    let req = &task.request;
    let settings = &req.settings;
    if settings.format != crate::manifest::TRANSCRIPTION_FORMAT {
        return Err(Failure::Task(format!(
            "the task asks for pipeline {:?}; this worker runs {}",
            settings.format,
            crate::manifest::TRANSCRIPTION_FORMAT
        )));
    }
    // A model this worker could install but has not: give the task back for another worker
    // and stop. Anything else about the model is the task's fault.
    let model =
        crate::models::resolve(&settings.model, &opts.config.models).map_err(|e| match e {
            crate::models::ModelError::NotInstalled { .. } => Failure::Model(e),
            e => Failure::Task(e.to_string()),
        })?;
    let language = crate::transcription::Language::parse(&settings.language)
        .map_err(|e| Failure::Task(e.to_string()))?;
    let work = tempfile::tempdir_in(&opts.scratch)
        .map_err(|e| Failure::Platform(PlatformError::Blobs(format!("no scratch space: {e}"))))?;
    // The name keeps its extension for messages; the bytes decide the container.
    let label = PathBuf::from(crate::fsutil::safe_file_name(&req.name));
    let file = work.path().join("original");
    let sha = platform
        .blobs
        .get_file(&blobs::original_key(&req.recording_sha256), &file)
        .map_err(Failure::Platform)?;
    if sha != req.recording_sha256 {
        return Err(Failure::Task(format!(
            "the bucket's original has SHA-256 {sha}, not {}",
            req.recording_sha256
        )));
    }
    let task_err = |e: IngestError| {
        Failure::Task(
            e.to_string()
                .replace(&file.display().to_string(), &req.name),
        )
    };
    let probe = crate::media::probe(&file, &label).map_err(|e| task_err(e.into()))?;
    if let Some(e) = probe
        .cut_error(&label)
        .filter(|_| !settings.allow_truncated)
    {
        return Err(task_err(e.into()));
    }
    if let Some(t) = probe.declared_ms {
        held.total_ms.store(t, Ordering::SeqCst);
    }
    let iopts = ingest::Options {
        model: settings.model.clone(),
        config: opts.config.clone(),
        language: settings.language.clone(),
        threads: opts.threads,
        beam: settings.beam,
        allow_truncated: settings.allow_truncated,
        vad: settings.vad,
        transcribe_repeats: !settings.reuse_repeats,
        ..Default::default()
    };
    let progress = Advance(held);
    let (out, report) =
        ingest::transcribe_file(&file, &label, probe, &model, language, &iopts, &progress)
            .map_err(task_err)?;
    let result = TaskResult {
        format: RESULT_FORMAT.into(),
        key: task.key.clone(),
        recording_sha256: req.recording_sha256.clone(),
        model: model.name,
        model_sha256: model.sha256,
        segments: out.segments,
        gaps: out.gaps,
        stats: out.stats,
        decoded_ms: report.decoded_ms,
        warnings: report.warnings,
        worker: opts.name.clone(),
    };
    let body = serde_json::to_vec(&result).expect("result serialises");
    platform
        .blobs
        .put_bytes(&blobs::result_key(&task.key), body)
        .map_err(Failure::Platform)?;
    Ok(result)
}

struct Advance<'a>(&'a Held);

impl ingest::Progress for Advance<'_> {
    fn start(&self, total: Option<u64>) {
        if let Some(t) = total {
            self.0.total_ms.store(t, Ordering::SeqCst);
        }
    }
    fn advance(&self, done_ms: u64) {
        self.0.progress_ms.store(done_ms, Ordering::SeqCst);
    }
    fn phase(&self, _: &str) {}
}

/// Keeps the held task's lease alive and reports its progress, on its own connection.
fn heartbeat(
    opts: &Options,
    held: Arc<Held>,
    stopping: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>, PlatformError> {
    let mut queue = Queue::connect(&opts.catalog)?;
    let (name, lease) = (opts.name.clone(), opts.lease);
    let every = lease / 3;
    Ok(std::thread::spawn(move || {
        let step = Duration::from_millis(100);
        let mut waited = Duration::ZERO;
        while !stopping.load(Ordering::SeqCst) {
            std::thread::sleep(step);
            waited += step;
            if waited < every {
                continue;
            }
            waited = Duration::ZERO;
            let Some(id) = *held.task.lock().expect("not poisoned") else {
                continue;
            };
            let total = held.total_ms.load(Ordering::SeqCst);
            let progress = held.progress_ms.load(Ordering::SeqCst);
            if let Err(e) =
                queue.heartbeat(id, &name, lease, progress, (total > 0).then_some(total))
            {
                eprintln!("worker {name}: heartbeat failed: {e}");
            }
        }
    }))
}

/// On SIGTERM or SIGINT: give the held task back to the queue, then exit.
fn on_signal(opts: &Options, held: Arc<Held>, stopping: Arc<AtomicBool>) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) else {
        return;
    };
    let (name, catalog) = (opts.name.clone(), opts.catalog.clone());
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            stopping.store(true, Ordering::SeqCst);
            let slot = held.task.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(id) = *slot {
                match Queue::connect(&catalog).and_then(|mut q| q.release(id, &name)) {
                    Ok(()) => eprintln!("worker {name}: signal {sig}: task {id} given back to the queue"),
                    Err(e) => eprintln!("worker {name}: signal {sig}: could not give task {id} back ({e}); its lease will run out"),
                }
            }
            std::process::exit(0);
        }
    });
}
