//! Upload jobs: an uploaded recording waits in `<data>/uploads/` with a `queued` row in the
//! catalog database; one worker thread ingests jobs one at a time (Whisper takes all cores),
//! reporting progress. A job found `running` at start-up was interrupted by a crash: it is
//! queued again, since its upload is still on disk.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::store::Store;

/// Creates the jobs table if needed.
pub fn init(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
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
    )
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
) -> rusqlite::Result<i64> {
    let conn = store.db();
    init(conn)?;
    conn.execute(
        "INSERT INTO jobs (status, upload, name, token_id, meta, language, sha256, size, created_at)
         VALUES ('queued', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            upload.to_string_lossy(),
            name,
            token_id,
            meta,
            language,
            sha256,
            size as i64,
            chrono::Utc::now().to_rfc3339()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Reads a job.
pub fn get(store: &Store, id: i64) -> rusqlite::Result<Option<Job>> {
    let conn = store.db();
    init(conn)?;
    conn.query_row(
        "SELECT id, status, name, sha256, size, session, error, progress_ms, total_ms, token_id FROM jobs WHERE id = ?1",
        params![id],
        |r| {
            Ok(Job {
                id: r.get(0)?,
                status: r.get(1)?,
                name: r.get(2)?,
                sha256: r.get(3)?,
                size: r.get::<_, i64>(4)? as u64,
                session: r.get(5)?,
                error: r.get(6)?,
                progress_ms: r.get::<_, i64>(7)? as u64,
                total_ms: r.get::<_, Option<i64>>(8)?.map(|v| v as u64),
                token_id: r.get(9)?,
            })
        },
    )
    .optional()
}

struct Progress {
    data: PathBuf,
    job: i64,
    total: std::sync::Mutex<Option<u64>>,
}

impl Progress {
    fn write(&self, sql: &str, v: i64) {
        if let Ok(store) = Store::open(&self.data) {
            let _ = store.db().execute(sql, params![v, self.job]);
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

fn run_one(config: &super::Config) -> Result<bool, String> {
    let mut store = Store::open(&config.data).map_err(|e| e.to_string())?;
    init(store.db()).map_err(|e| e.to_string())?;
    let next: Option<(i64, String, String, i64, Option<String>, String)> = store
        .db()
        .query_row(
            "SELECT id, upload, name, token_id, meta, language FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()
        .map_err(|e| e.to_string())?;
    let Some((id, upload, name, token_id, meta, language)) = next else {
        return Ok(false);
    };
    store
        .db()
        .execute(
            "UPDATE jobs SET status = 'running' WHERE id = ?1",
            params![id],
        )
        .map_err(|e| e.to_string())?;
    let step = |step: &str, detail: String| {
        super::requestlog::line(
            config.log_format,
            serde_json::json!({"kind": "job", "at": crate::custody::now(), "job": id, "step": step, "detail": detail}),
        )
    };
    step("running", format!("ingesting {name:?}"));
    // The upload keeps its user-facing name for messages and the manifest.
    let work = tempfile::tempdir_in(upload_dir(&config.data)).map_err(|e| e.to_string())?;
    let named = work.path().join(crate::fsutil::safe_file_name(&name));
    let result = std::fs::hard_link(&upload, &named)
        .map_err(|e| e.to_string())
        .and_then(|_| {
            let meta_path = match &meta {
                Some(m) => {
                    let p = work.path().join("sidecar.json");
                    std::fs::write(&p, m).map_err(|e| e.to_string())?;
                    Some(p)
                }
                None => None,
            };
            let mut opts = config.ingest.clone();
            opts.meta = meta_path;
            opts.language = language;
            // Whose session it becomes is decided by the same rules as reading (access.rs).
            let access =
                crate::access::token_access(&store, token_id).map_err(|e| e.to_string())?;
            opts.owner = access.as_ref().and_then(|a| a.owner());
            opts.by = access.as_ref().map(crate::custody::token_user);
            let progress = Progress {
                data: config.data.clone(),
                job: id,
                total: std::sync::Mutex::new(None),
            };
            crate::ingest::ingest(&mut store, &named, &opts, &progress).map_err(|e| e.to_string())
        });
    match result {
        Ok(summary) => {
            crate::access::record_upload(&store, &summary.session, token_id)
                .map_err(|e| e.to_string())?;
            store
                .db()
                .execute(
                    "UPDATE jobs SET status = 'done', session = ?1, progress_ms = COALESCE(total_ms, progress_ms) WHERE id = ?2",
                    params![summary.session, id],
                )
                .map_err(|e| e.to_string())?;
            let _ = std::fs::remove_file(&upload);
            step("done", format!("session {}", summary.session));
        }
        Err(mut e) => {
            if let Some(hint) = crate::fsutil::disk_full_hint(&config.data) {
                eprintln!("job {id}: {hint}");
                e = format!("{e}; the archive's disk is full: try again later");
            }
            // Clients see the name they uploaded, never the server's paths.
            let e = e
                .replace(&format!("{}/", work.path().display()), "")
                .replace(&upload, &name)
                .replace(&config.data.display().to_string(), "the archive");
            store
                .db()
                .execute(
                    "UPDATE jobs SET status = 'failed', error = ?1 WHERE id = ?2",
                    params![e, id],
                )
                .map_err(|e| e.to_string())?;
            let _ = std::fs::remove_file(&upload);
            step("failed", e);
        }
    }
    Ok(true)
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
            init(store.db()).ok()?;
            let mut st = store
                .db()
                .prepare("SELECT upload FROM jobs WHERE status IN ('queued', 'running')")
                .ok()?;
            let rows = st
                .query_map([], |r| r.get::<_, String>(0))
                .ok()?
                .collect::<rusqlite::Result<_>>()
                .ok()?;
            Some(rows)
        })
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
    if let Ok(store) = Store::open(&config.data) {
        let _ = init(store.db());
        let _ = store.db().execute(
            "UPDATE jobs SET status = 'queued' WHERE status = 'running'",
            [],
        );
    }
    let _ = std::fs::create_dir_all(upload_dir(&config.data));
    std::thread::spawn(move || loop {
        match run_one(&config) {
            Ok(true) => {}
            Ok(false) => std::thread::sleep(std::time::Duration::from_millis(300)),
            Err(e) => {
                eprintln!("job worker: {e}");
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
    });
}
