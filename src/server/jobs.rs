//! Upload jobs: an uploaded recording waits in `<data>/uploads/` with a `queued` row in the
//! catalog database; one worker thread ingests jobs one at a time (Whisper takes all cores),
//! reporting progress. With the platform (`--catalog`, `--blobs`) the thread instead hands
//! every queued job to the workers' queue at once and seals each as its task ends. A job found `running` at start-up was interrupted by a crash: it is
//! queued again, since its upload is still on disk.

use std::path::{Path, PathBuf};

use crate::args;
use crate::catalog::{self, Catalog};
use serde::Serialize;

use crate::store::Store;

/// Creates the jobs table if needed.
pub fn init(conn: &Catalog) -> catalog::Result<()> {
    conn.ddl(
        "CREATE TABLE IF NOT EXISTS jobs (
            id INTEGER PRIMARY KEY,
            status TEXT NOT NULL,
            upload TEXT NOT NULL,
            name TEXT NOT NULL,
            token_id INTEGER NOT NULL,
            meta TEXT,
            language TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            session TEXT,
            error TEXT,
            progress_ms INTEGER NOT NULL DEFAULT 0,
            total_ms INTEGER,
            created_at TEXT NOT NULL
        );",
    )?;
    // The node whose disk holds the upload: only it can ingest the job.
    conn.add_column("jobs", "node", "TEXT")
}

/// This node's identity in a shared catalog (`<data>/node-id`, made once): jobs are ingested
/// by the node that received their upload.
pub fn node_id(data: &Path) -> String {
    let path = crate::layout::node_id(data);
    if let Ok(id) = std::fs::read_to_string(&path) {
        if !id.trim().is_empty() {
            return id.trim().to_string();
        }
    }
    let mut raw = [0u8; 8];
    let _ = getrandom::fill(&mut raw);
    let id = hex::encode(raw);
    let _ = crate::fsutil::write_atomic(&path, id.as_bytes());
    id
}

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// Job id.
    pub id: i64,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// File name given at upload.
    pub name: String,
    /// SHA-256 computed while the upload streamed in.
    pub sha256: String,
    /// Bytes received.
    pub size: u64,
    /// The archived session, when done.
    pub session: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Audio transcribed so far (ms).
    pub progress_ms: u64,
    /// Duration of the recording, when known (ms).
    pub total_ms: Option<u64>,
    /// Who uploaded it.
    #[serde(skip)]
    pub token_id: i64,
}

/// Directory for uploads waiting to be ingested.
pub fn upload_dir(data: &Path) -> PathBuf {
    crate::layout::uploads(data)
}

/// Queues a job for an upload already on disk.
#[allow(clippy::too_many_arguments)]
pub fn enqueue(
    store: &Store,
    upload: &Path,
    name: &str,
    token_id: i64,
    meta: Option<&str>,
    language: &str,
    sha256: &str,
    size: u64,
) -> catalog::Result<i64> {
    store.db().query_row(
        "INSERT INTO jobs (status, upload, name, token_id, meta, language, sha256, size, created_at, node)
         VALUES ('queued', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        args![
            upload.to_string_lossy().into_owned(),
            name,
            token_id,
            meta,
            language,
            sha256,
            size as i64,
            chrono::Utc::now().to_rfc3339(),
            node_id(store.root())
        ],
        |r| r.get(0),
    )
}

/// Reads a job.
pub fn get(store: &Store, id: i64) -> catalog::Result<Option<Job>> {
    store.db().query_opt(
        "SELECT id, status, name, sha256, size, session, error, progress_ms, total_ms, token_id FROM jobs WHERE id = ?1",
        args![id],
        |r| {
            Ok(Job {
                id: r.get(0)?,
                status: r.get(1)?,
                name: r.get(2)?,
                sha256: r.get(3)?,
                size: r.get::<i64>(4)? as u64,
                session: r.get(5)?,
                error: r.get(6)?,
                progress_ms: r.get::<i64>(7)? as u64,
                total_ms: r.get::<Option<i64>>(8)?.map(|v| v as u64),
                token_id: r.get(9)?,
            })
        },
    )
}

struct Progress {
    data: PathBuf,
    job: i64,
    total: std::sync::Mutex<Option<u64>>,
}

impl Progress {
    fn write(&self, sql: &str, v: i64) {
        if let Ok(store) = Store::open(&self.data) {
            let _ = store.db().execute(sql, args![v, self.job]);
        }
    }
}

impl crate::ingest::Progress for Progress {
    fn start(&self, total_ms: Option<u64>) {
        if let Ok(mut t) = self.total.lock() {
            *t = total_ms;
        }
        if let Some(t) = total_ms {
            self.write("UPDATE jobs SET total_ms = ?1 WHERE id = ?2", t as i64);
        }
    }
    fn advance(&self, done_ms: u64) {
        self.write(
            "UPDATE jobs SET progress_ms = ?1 WHERE id = ?2",
            done_ms as i64,
        );
    }
    fn phase(&self, _: &str) {}
}

/// A queued or running job's row: what ingesting it needs.
struct Row {
    id: i64,
    upload: String,
    name: String,
    token_id: i64,
    meta: Option<String>,
    language: String,
    sha256: String,
    size: i64,
}

fn rows(store: &Store, status: &str) -> Result<Vec<Row>, String> {
    store
        .db()
        .query_map(
            "SELECT id, upload, name, token_id, meta, language, sha256, size FROM jobs
             WHERE status = ?1 AND (node = ?2 OR node IS NULL) ORDER BY id LIMIT 100",
            args![status, node_id(store.root())],
            |r| {
                Ok(Row {
                    id: r.get(0)?,
                    upload: r.get(1)?,
                    name: r.get(2)?,
                    token_id: r.get(3)?,
                    meta: r.get(4)?,
                    language: r.get(5)?,
                    sha256: r.get(6)?,
                    size: r.get(7)?,
                })
            },
        )
        .map_err(|e| e.to_string())
}

fn set_status(store: &Store, id: i64, status: &str) -> Result<(), String> {
    store
        .db()
        .execute(
            "UPDATE jobs SET status = ?1 WHERE id = ?2",
            args![status, id],
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn step(config: &super::Config, id: i64, step: &str, detail: String) {
    super::requestlog::line(
        config.log_format,
        serde_json::json!({"kind": "job", "at": crate::custody::now(), "job": id, "step": step, "detail": detail}),
    )
}

/// Ingests the oldest queued job here (no platform): Whisper in this process.
fn run_one(config: &super::Config) -> Result<bool, String> {
    let mut store = Store::open(&config.data).map_err(|e| e.to_string())?;
    let Some(row) = rows(&store, "queued")?.into_iter().next() else {
        return Ok(false);
    };
    set_status(&store, row.id, "running")?;
    step(
        config,
        row.id,
        "running",
        format!("ingesting {:?}", row.name),
    );
    run_job(config, &mut store, &row, crate::ingest::Source::Here)?;
    Ok(true)
}

/// The settings a job's transcription runs with (the same `ingest_from` records).
fn job_options(config: &super::Config, language: &str) -> crate::ingest::Options {
    let mut opts = config.ingest.clone();
    opts.language = language.to_string();
    opts
}

/// The task a job's upload becomes (the settings `ingest_from` will record).
fn job_request(config: &super::Config, row: &Row) -> crate::platform::Request {
    let opts = job_options(config, &row.language);
    crate::platform::Request {
        recording_sha256: row.sha256.clone(),
        size: row.size as u64,
        name: row.name.clone(),
        settings: crate::ingest::settings(&opts, &opts.model),
    }
}

/// With the platform: queued jobs go to the workers' queue; jobs whose task ended are sealed
/// here (a failed task fails the job with the worker's reason). True when anything moved.
fn run_platform(
    config: &super::Config,
    platform: &mut crate::platform::Platform,
) -> Result<bool, String> {
    let mut store = Store::open(&config.data).map_err(|e| e.to_string())?;
    let mut moved = false;
    for row in rows(&store, "queued")? {
        let req = job_request(config, &row);
        let key = platform
            .submit(Path::new(&row.upload), &req)
            .map_err(|e| e.to_string())?;
        set_status(&store, row.id, "running")?;
        step(
            config,
            row.id,
            "queued",
            format!("{:?} waits for a worker (task {key})", row.name),
        );
        moved = true;
    }
    for row in rows(&store, "running")? {
        let key = job_request(config, &row).key();
        let status = platform.queue.status(&key).map_err(|e| e.to_string())?;
        match status.as_ref().map(|s| s.state.as_str()) {
            Some("done" | "failed") => {}
            Some(_) => {
                let s = status.expect("some");
                let _ = store.db().execute(
                    "UPDATE jobs SET progress_ms = ?1, total_ms = COALESCE(?2, total_ms) WHERE id = ?3",
                    args![s.progress_ms as i64, s.total_ms.map(|t| t as i64), row.id],
                );
                continue;
            }
            // The queue lost it (a new database): queue it again.
            None => {
                set_status(&store, row.id, "queued")?;
                continue;
            }
        }
        step(config, row.id, "running", format!("sealing {:?}", row.name));
        let cell = std::cell::RefCell::new(&mut *platform);
        let remote = |h: &crate::ingest::Handoff| {
            let req = crate::platform::Platform::request(h);
            cell.borrow_mut()
                .outcome(&req.key(), &req, Path::new(&row.name))?
                .ok_or_else(|| crate::ingest::IngestError::Worker {
                    path: row.name.clone().into(),
                    reason: "the task reopened while being sealed; it will be sealed when done"
                        .into(),
                })
        };
        run_job(
            config,
            &mut store,
            &row,
            crate::ingest::Source::Elsewhere(&remote),
        )?;
        moved = true;
    }
    Ok(moved)
}

/// Ingests one job's upload (transcribed by `source`) and records the outcome.
fn run_job(
    config: &super::Config,
    store: &mut Store,
    row: &Row,
    source: crate::ingest::Source,
) -> Result<(), String> {
    let (id, name, upload) = (row.id, &row.name, &row.upload);
    // The upload keeps its user-facing name for messages and the manifest.
    let work = tempfile::tempdir_in(upload_dir(&config.data)).map_err(|e| e.to_string())?;
    let named = work.path().join(crate::fsutil::safe_file_name(name));
    let result = std::fs::hard_link(upload, &named)
        .map_err(|e| e.to_string())
        .and_then(|_| {
            let meta_path = match &row.meta {
                Some(m) => {
                    let p = work.path().join("sidecar.json");
                    std::fs::write(&p, m).map_err(|e| e.to_string())?;
                    Some(p)
                }
                None => None,
            };
            let mut opts = job_options(config, &row.language);
            opts.meta = meta_path;
            // Whose session it becomes is decided by the same rules as reading (access.rs).
            let access =
                crate::access::token_access(store, row.token_id).map_err(|e| e.to_string())?;
            opts.owner = access.as_ref().and_then(|a| a.owner());
            opts.by = access.as_ref().map(crate::custody::token_user);
            let progress = Progress {
                data: config.data.clone(),
                job: id,
                total: std::sync::Mutex::new(None),
            };
            crate::ingest::ingest_from(store, &named, &opts, &progress, source)
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(summary) => {
            crate::access::record_upload(store, &summary.session, row.token_id)
                .map_err(|e| e.to_string())?;
            store
                .db()
                .execute(
                    "UPDATE jobs SET status = 'done', session = ?1, progress_ms = COALESCE(total_ms, progress_ms) WHERE id = ?2",
                    args![summary.session, id],
                )
                .map_err(|e| e.to_string())?;
            let _ = std::fs::remove_file(upload);
            step(config, id, "done", format!("session {}", summary.session));
        }
        Err(mut e) => {
            if let Some(hint) = crate::fsutil::disk_full_hint(&config.data) {
                eprintln!("job {id}: {hint}");
                e = format!("{e}; the archive's disk is full: try again later");
            }
            // Clients see the name they uploaded, never the server's paths.
            let e = e
                .replace(&format!("{}/", work.path().display()), "")
                .replace(upload.as_str(), name)
                .replace(&config.data.display().to_string(), "the archive");
            store
                .db()
                .execute(
                    "UPDATE jobs SET status = 'failed', error = ?1 WHERE id = ?2",
                    args![e, id],
                )
                .map_err(|e| e.to_string())?;
            let _ = std::fs::remove_file(upload);
            step(config, id, "failed", e);
        }
    }
    Ok(())
}

/// Removes uploads no queued or running job refers to (a server killed while an upload
/// streamed in leaves one) and work directories of interrupted jobs.
pub fn remove_orphans(data: &Path) {
    let dir = upload_dir(data);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let wanted: std::collections::HashSet<String> = Store::open(data)
        .ok()
        .and_then(|store| {
            store
                .db()
                .query_map(
                    "SELECT upload FROM jobs WHERE status IN ('queued', 'running')",
                    args![],
                    |r| r.get::<String>(0),
                )
                .ok()
        })
        .map(|rows| rows.into_iter().collect())
        .unwrap_or_default();
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            let _ = std::fs::remove_dir_all(&p);
        } else if !wanted.contains(&p.to_string_lossy().into_owned()) {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// Starts the worker thread; jobs left `running` by a crash are queued again first.
pub fn start_worker(config: super::Config) {
    let _ = std::fs::create_dir_all(upload_dir(&config.data));
    std::thread::spawn(move || {
        if let Ok(store) = Store::open(&config.data) {
            let _ = store.db().execute(
                "UPDATE jobs SET status = 'queued' WHERE status = 'running' AND (node = ?1 OR node IS NULL)",
                args![node_id(&config.data)],
            );
        }
        let urls = config.ingest.config.platform();
        let mut platform = None;
        loop {
            let outcome = match &urls {
                None => run_one(&config),
                Some(u) => {
                    if platform.is_none() {
                        platform = u.connect().map_err(|e| eprintln!("job worker: {e}")).ok();
                    }
                    match platform.as_mut() {
                        Some(p) => run_platform(&config, p).inspect_err(|_| {
                            // Reconnect next time: the database or bucket may have restarted.
                            platform = None;
                        }),
                        None => Err("the platform is unreachable; retrying".into()),
                    }
                }
            };
            match outcome {
                Ok(true) => {}
                Ok(false) => std::thread::sleep(std::time::Duration::from_millis(300)),
                Err(e) => {
                    eprintln!("job worker: {e}");
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            }
        }
    });
}
