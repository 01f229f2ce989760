//! The archive on disk: originals by content hash, per-session manifest and transcript files,
//! and the catalog database that says which sessions exist.
//!
//! Layout under the data directory:
//! - `blobs/sha256/ab/cd/<hash>`: originals, written once, read-only.
//! - `sessions/<id>/manifest.json`, `sessions/<id>/transcript.json`: written once, atomically.
//! - `catalog.sqlite`: one row per session; a session exists only once its row is committed.
//! - `tmp/`: staging copies of recordings being ingested, named after the ingesting process.
//!
//! Invariant: a session is visible (catalog row) only after its blob and files are durable, so a
//! crash at any point leaves either nothing or a complete session; leftovers of dead processes
//! in `tmp/` are removed when the store is next opened.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use crate::args;
use crate::catalog::{self, Catalog, CatalogError, Dialect};
use crate::fsutil;
use crate::hashing::HashingWriter;
use crate::layout;
use crate::manifest::Manifest;
use crate::transcript::Transcript;

/// Why the archive could not be read or written.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A file operation failed.
    #[error("{action} `{path}`: {source}{hint}", hint = hint(source))]
    Io {
        /// What was attempted.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The catalog database failed.
    #[error("catalog `{place}`: {source}")]
    Catalog {
        /// Its file, or its PostgreSQL URL without the password.
        place: String,
        /// What failed.
        source: CatalogError,
    },
    /// No session matches.
    #[error("no session `{0}` in this archive: list them with `liveproof sessions`")]
    NoSuchSession(String),
    /// A prefix matches several sessions.
    #[error("`{0}` matches several sessions: give more characters of the id")]
    Ambiguous(String),
    /// The session was deleted on purpose; its tombstone remains.
    #[error("session {session} was deleted at {at} ({reason}); `liveproof tombstone {session}` prints the signed proof of its deletion")]
    Deleted {
        /// Session id.
        session: String,
        /// When.
        at: String,
        /// Why.
        reason: String,
    },
    /// The bucket that shares session files between nodes failed.
    #[error("shared session files: {0}")]
    Shared(String),
    /// A stored file does not parse.
    #[error("stored file `{path}` is damaged: {detail}")]
    Damaged {
        /// Its path.
        path: PathBuf,
        /// The parse error.
        detail: String,
    },
}

impl From<CatalogError> for StoreError {
    fn from(source: CatalogError) -> Self {
        StoreError::Catalog {
            place: catalog::bound()
                .map(catalog::describe_url)
                .unwrap_or_else(|| "catalog.sqlite in the data directory".into()),
            source,
        }
    }
}

fn hint(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(28) => " (the disk is full: free space and re-run; nothing was archived)",
        Some(13) | Some(30) => " (no permission to write here: pick another --data directory)",
        _ => "",
    }
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// A recording copied into staging, with its hash.
#[derive(Debug)]
pub struct Staged {
    /// The staging copy.
    pub path: PathBuf,
    /// SHA-256 of the bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl Drop for Staged {
    fn drop(&mut self) {
        // A staging copy never outlives its ingest: committed ones were renamed away already.
        let _ = fs::remove_file(&self.path);
    }
}

/// One catalog row.
#[derive(Debug, Clone, Serialize)]
pub struct SessionRow {
    /// Session id.
    pub session: String,
    /// SHA-256 of the original.
    pub recording_sha256: String,
    /// Name it was ingested from.
    pub original_name: String,
    /// Duration in milliseconds.
    pub duration_ms: u64,
    /// Dominant language.
    pub language: String,
    /// Number of segments.
    pub segments: usize,
    /// Model name.
    pub model: String,
    /// Ingest time (RFC 3339).
    pub ingested_at: String,
    /// Sidecar platform, if any.
    pub platform: Option<String>,
    /// Sidecar room, if any.
    pub room: Option<String>,
    /// Sidecar host, if any.
    pub host: Option<String>,
}

/// The catalog's schema version (SQLite `user_version`): bump it whenever `Store::open`
/// creates or migrates anything new, so that archives at an older version run the schema step.
const SCHEMA_VERSION: i64 = 4;

/// What `liveproof watch` has done with each file it saw, so that a restart neither loses nor
/// repeats work: a file is looked at again only when its size or modification time changed.
const WATCHED_TABLE: &str = "CREATE TABLE IF NOT EXISTS watched (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    session TEXT,
    detail TEXT,
    at TEXT NOT NULL
);";

/// A file `watch` finished with: ingested (or found already archived), or refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Watched {
    /// The file, as found under the watched folder.
    pub path: String,
    /// Its size when it was handled.
    pub size: u64,
    /// Its modification time then (ms since the Unix epoch).
    pub mtime_ms: i64,
    /// `ingested`, `already_archived` or `failed`.
    pub state: String,
    /// The session, when there is one.
    pub session: Option<String>,
    /// Why it failed, or what was noted (e.g. archived as cut short).
    pub detail: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// One entry of the catalog's change sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its place in the sequence (increasing in commit order; gaps possible).
    pub seq: i64,
    /// The session.
    pub session: String,
    /// Deleted (else sealed).
    pub deleted: bool,
}

/// An open archive.
pub struct Store {
    root: PathBuf,
    db: Catalog,
}

fn blob_path(root: &Path, sha256: &str) -> PathBuf {
    layout::blob(root, sha256)
}

fn session_dir(root: &Path, id: &str) -> PathBuf {
    layout::session(root, id)
}

/// Session id for a recording hash: the first 16 hex digits (64 bits).
pub fn session_id(sha256: &str) -> String {
    sha256.chars().take(16).collect()
}

/// Session id for a recording archived on behalf of an API owner (a consumer or a platform):
/// the first 16 hex digits of SHA-256("liveproof/owned-session/v1\0" ‖ recording hash ‖ "\0" ‖
/// owner), so the same bytes uploaded by two owners make two sessions, each with its owner's
/// metadata, and neither id reveals the other. `None` is the archive operator's own session.
pub fn owned_session_id(sha256: &str, owner: Option<&str>) -> String {
    match owner {
        None => session_id(sha256),
        Some(o) => session_id(&crate::hashing::sha256_hex(
            format!("liveproof/owned-session/v1\0{sha256}\0{o}").as_bytes(),
        )),
    }
}

/// [`StoreError::Deleted`] when `id` is a deleted session's exact id (its tombstone row).
fn deleted_in(conn: &Catalog, id: &str) -> catalog::Result<Option<StoreError>> {
    conn.query_opt(
        "SELECT at, reason FROM tombstones WHERE session = ?1",
        args![id],
        |r| {
            Ok(StoreError::Deleted {
                session: id.into(),
                at: r.get(0)?,
                reason: r.get(1)?,
            })
        },
    )
}

/// Archives made before owned sessions allowed one session per recording; lift that.
fn migrate_shared_recordings(db: &rusqlite::Connection) -> rusqlite::Result<()> {
    let sql: String = db.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sessions'",
        [],
        |r| r.get(0),
    )?;
    if !sql.contains("UNIQUE") {
        return db.execute_batch(
            "CREATE INDEX IF NOT EXISTS sessions_recording ON sessions(recording_sha256);",
        );
    }
    // Runs inside the transaction `Store::open` holds.
    db.execute_batch(&format!(
        "CREATE TABLE sessions_new ({SESSION_COLUMNS});
         INSERT INTO sessions_new SELECT * FROM sessions;
         DROP TABLE sessions;
         ALTER TABLE sessions_new RENAME TO sessions;
         CREATE INDEX IF NOT EXISTS sessions_recording ON sessions(recording_sha256);"
    ))
}

/// The catalog's change sequence: one row per session sealed or deleted, in commit order, so
/// that every node's search index can follow the catalog (`search::follow`).
const CHANGE_COLUMNS: &str = "seq INTEGER PRIMARY KEY, session TEXT NOT NULL, kind TEXT NOT NULL";

const SESSION_COLUMNS: &str = "session TEXT PRIMARY KEY,
                recording_sha256 TEXT NOT NULL,
                original_name TEXT NOT NULL,
                duration_ms INTEGER NOT NULL,
                language TEXT NOT NULL,
                segments INTEGER NOT NULL,
                model TEXT NOT NULL,
                ingested_at TEXT NOT NULL,
                platform TEXT, room TEXT, host TEXT";

/// Every catalog table, created where missing (inside the write lock).
fn create_schema(c: &Catalog) -> catalog::Result<()> {
    c.ddl(&format!(
        "CREATE TABLE IF NOT EXISTS sessions ({SESSION_COLUMNS});
         CREATE TABLE IF NOT EXISTS changes ({CHANGE_COLUMNS});"
    ))?;
    if let Some(lite) = c.as_sqlite() {
        migrate_shared_recordings(lite)?;
    } else {
        c.batch("CREATE INDEX IF NOT EXISTS sessions_recording ON sessions(recording_sha256);")?;
    }
    crate::seal::log::init(c)?;
    crate::access::init(c)?;
    crate::custody::init(c)?;
    crate::retention::init(c)?;
    crate::server::jobs::init(c)?;
    c.ddl(WATCHED_TABLE)
}

fn open_sqlite(root: &Path) -> Result<Catalog, StoreError> {
    let db_path = layout::catalog(root);
    let cat = |source: rusqlite::Error| StoreError::Catalog {
        place: db_path.display().to_string(),
        source: source.into(),
    };
    let db = rusqlite::Connection::open(&db_path).map_err(cat)?;
    db.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(cat)?;
    db.pragma_update(None, "journal_mode", "WAL").map_err(cat)?;
    db.pragma_update(None, "synchronous", "FULL").map_err(cat)?;
    // The schema is created and migrated under the write lock, once per schema version:
    // processes opening a fresh archive at once take turns instead of racing on ALTER
    // TABLE, and every later open (one per API request) skips it without locking.
    let version: i64 = db
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(cat)?;
    let db = Catalog::sqlite(db);
    if version < SCHEMA_VERSION {
        db.write(|c| {
            create_schema(c)?;
            c.batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
        })
        .map_err(|source| StoreError::Catalog {
            place: db_path.display().to_string(),
            source,
        })?;
    }
    Ok(db)
}

/// Catalogs whose schema this process has checked already.
static POSTGRES_SCHEMA: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn open_postgres(url: &str) -> Result<Catalog, StoreError> {
    let cat = |source| StoreError::Catalog {
        place: catalog::describe_url(url),
        source,
    };
    let db = Catalog::postgres(url).map_err(cat)?;
    let mut done = POSTGRES_SCHEMA.lock().unwrap_or_else(|p| p.into_inner());
    if !done.iter().any(|u| u == url) {
        db.write(create_schema).map_err(cat)?;
        done.push(url.to_string());
    }
    Ok(db)
}

impl Store {
    /// Opens (creating if needed) the archive at `root`, its catalog in `root` or, when this
    /// process is bound to one (`catalog::bind`, the `--catalog` flag), in PostgreSQL.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let blobs = layout::blob(root, "");
        for p in [
            blobs.parent().unwrap_or(root).to_path_buf(),
            layout::sessions(root),
            layout::staging(root),
        ] {
            fs::create_dir_all(&p).map_err(io_err("cannot create data directory", &p))?;
        }
        let db = match catalog::bound() {
            Some(url) => open_postgres(url)?,
            None => open_sqlite(root)?,
        };
        let store = Self {
            root: root.to_path_buf(),
            db,
        };
        store.remove_stale_staging();
        Ok(store)
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the original with this hash lives.
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        blob_path(&self.root, sha256)
    }

    fn session_dir(&self, id: &str) -> PathBuf {
        session_dir(&self.root, id)
    }

    /// Staging files are `tmp/<pid>-*`; those of processes no longer running are leftovers.
    fn remove_stale_staging(&self) {
        let Ok(entries) = fs::read_dir(layout::staging(&self.root)) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').next().and_then(|p| p.parse::<u32>().ok());
            let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
            if !alive {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    /// Copies `src` into staging while hashing it (one pass over the bytes).
    pub fn stage(&self, src: &Path) -> Result<Staged, StoreError> {
        let mut input = File::open(src).map_err(io_err("cannot read recording", src))?;
        let tmp_dir = layout::staging(&self.root);
        let file = tempfile::Builder::new()
            .prefix(&format!("{}-", std::process::id()))
            .tempfile_in(&tmp_dir)
            .map_err(io_err("cannot create a staging file in", &tmp_dir))?;
        let (file, path) = file
            .keep()
            .map_err(|e| io_err("cannot keep staging file in", &tmp_dir)(e.error))?;
        let staged_path = path.clone();
        // From here on the staging file is removed if anything fails.
        let mut guard = Staged {
            path,
            sha256: String::new(),
            size: 0,
        };
        let mut w = HashingWriter::new(io::BufWriter::with_capacity(1 << 20, file));
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = input
                .read(&mut buf)
                .map_err(io_err("cannot read recording", src))?;
            if n == 0 {
                break;
            }
            w.write_all(&buf[..n])
                .map_err(io_err("cannot write staging copy", &staged_path))?;
        }
        let size = w.written();
        let (bw, sha256) = w.finish();
        let f = bw
            .into_inner()
            .map_err(|e| io_err("cannot write staging copy", &staged_path)(e.into_error()))?;
        f.sync_all()
            .map_err(io_err("cannot write staging copy", &staged_path))?;
        guard.sha256 = sha256;
        guard.size = size;
        Ok(guard)
    }

    /// The catalog row of a session, by exact id.
    pub fn get(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        self.query("WHERE session = ?1", args![id])
            .map(|mut v| v.pop())
    }

    /// Resolves a session id or a unique prefix of it.
    pub fn resolve(&self, id_or_prefix: &str) -> Result<SessionRow, StoreError> {
        if let Some(row) = self.get(id_or_prefix)? {
            return Ok(row);
        }
        if let Some(e) = self.deleted(id_or_prefix)? {
            return Err(e);
        }
        let clean: String = id_or_prefix
            .chars()
            .filter(|c| c.is_ascii_hexdigit())
            .collect();
        if clean.len() != id_or_prefix.len() || clean.is_empty() {
            return Err(StoreError::NoSuchSession(id_or_prefix.into()));
        }
        let mut rows = self.query("WHERE session LIKE ?1", args![format!("{clean}%")])?;
        match rows.len() {
            0 => Err(StoreError::NoSuchSession(id_or_prefix.into())),
            1 => Ok(rows.remove(0)),
            _ => Err(StoreError::Ambiguous(id_or_prefix.into())),
        }
    }

    /// [`StoreError::Deleted`] when `id` is a deleted session's exact id.
    fn deleted(&self, id: &str) -> Result<Option<StoreError>, StoreError> {
        deleted_in(&self.db, id).map_err(|e| self.catalog_error(e))
    }

    /// Removes a session's catalog row (inside the deleting transaction, `retention`).
    pub(crate) fn forget_session(&self, conn: &Catalog, session: &str) -> catalog::Result<()> {
        conn.execute("DELETE FROM sessions WHERE session = ?1", args![session])?;
        conn.execute(
            "INSERT INTO changes (session, kind) VALUES (?1, 'deleted')",
            args![session],
        )
        .map(|_| ())
    }

    /// Whether a deleted session left files: its directory, or an original no session uses.
    pub(crate) fn has_session_files(&self, session: &str, recording_sha256: &str) -> bool {
        self.session_dir(session).exists()
            || (self.blob_path(recording_sha256).exists()
                && !self.recording_in_use(recording_sha256))
    }

    fn recording_in_use(&self, sha256: &str) -> bool {
        self.db
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM sessions WHERE recording_sha256 = ?1)",
                args![sha256],
                |r| r.get(0),
            )
            .unwrap_or(true)
    }

    /// Removes a deleted session's directory, and its original and derived files unless
    /// another session has the same recording. Returns whether the original is gone.
    pub(crate) fn remove_session_files(
        &self,
        session: &str,
        recording_sha256: &str,
    ) -> Result<bool, StoreError> {
        let dir = self.session_dir(session);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(io_err("cannot remove", &dir))?;
        }
        if self.recording_in_use(recording_sha256) {
            crate::shared::remove(session, None)?;
            return Ok(false);
        }
        crate::shared::remove(session, Some(recording_sha256))?;
        let derived = layout::derived(&self.root, recording_sha256);
        if derived.exists() {
            fs::remove_dir_all(&derived).map_err(io_err("cannot remove", &derived))?;
        }
        let blob = self.blob_path(recording_sha256);
        if blob.exists() {
            fs::remove_file(&blob).map_err(io_err("cannot remove", &blob))?;
        }
        if let Some(parent) = blob.parent() {
            fsutil::sync_dir(parent);
        }
        Ok(true)
    }

    /// Fetches the trusted timestamps that could not be had at ingest: the newest tree head's
    /// and every archived recording's (`seal::log::catch_up`), from the TSAs `tsa` names.
    pub fn catch_up_timestamps(
        &self,
        tsa: &crate::seal::tsa::Config,
    ) -> Result<crate::seal::log::CatchUp, String> {
        let mut recordings: Vec<String> = self
            .list()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|r| r.recording_sha256)
            .collect();
        recordings.sort();
        recordings.dedup();
        crate::seal::log::catch_up(self.db(), tsa, &recordings)
    }

    /// What `watch` did with `path`, if it handled it before.
    pub fn watched(&self, path: &str) -> Result<Option<Watched>, StoreError> {
        self.db
            .query_opt(
                "SELECT path, size, mtime_ms, state, session, detail, at FROM watched WHERE path = ?1",
                args![path],
                |r| {
                    Ok(Watched {
                        path: r.get(0)?,
                        size: r.get::<i64>(1)? as u64,
                        mtime_ms: r.get(2)?,
                        state: r.get(3)?,
                        session: r.get(4)?,
                        detail: r.get(5)?,
                        at: r.get(6)?,
                    })
                },
            )
            .map_err(|e| self.catalog_error(e))
    }

    /// Records what `watch` did with a file (replacing what it did with an older version).
    pub fn record_watched(&self, w: &Watched) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO watched (path, size, mtime_ms, state, session, detail, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (path) DO UPDATE SET size = excluded.size,
                   mtime_ms = excluded.mtime_ms, state = excluded.state,
                   session = excluded.session, detail = excluded.detail, at = excluded.at",
                args![
                    w.path,
                    w.size as i64,
                    w.mtime_ms,
                    w.state,
                    w.session,
                    w.detail,
                    w.at
                ],
            )
            .map(|_| ())
            .map_err(|e| self.catalog_error(e))
    }

    /// The append-only log of this archive.
    pub fn log(&self) -> crate::seal::log::Log<'_> {
        crate::seal::log::Log(self)
    }

    /// The error for a failed catalog operation, naming the catalog.
    pub fn catalog_error(&self, source: CatalogError) -> StoreError {
        StoreError::Catalog {
            place: match (self.db.dialect(), catalog::bound()) {
                (Dialect::Postgres, Some(url)) => catalog::describe_url(url),
                _ => layout::catalog(&self.root).display().to_string(),
            },
            source,
        }
    }

    /// Changes after `seq` in the catalog's change sequence, oldest first, at most `limit`.
    pub fn changes_after(&self, seq: i64, limit: i64) -> Result<Vec<Change>, StoreError> {
        self.db
            .query_map(
                "SELECT seq, session, kind FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                args![seq, limit],
                |r| {
                    Ok(Change {
                        seq: r.get(0)?,
                        session: r.get(1)?,
                        deleted: r.get::<String>(2)? == "deleted",
                    })
                },
            )
            .map_err(|e| self.catalog_error(e))
    }

    /// The newest change's place in the sequence (0 when there is none).
    pub fn last_change(&self) -> Result<i64, StoreError> {
        self.db
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM changes", args![], |r| {
                r.get(0)
            })
            .map_err(|e| self.catalog_error(e))
    }

    /// All sessions, newest ingest first.
    pub fn list(&self) -> Result<Vec<SessionRow>, StoreError> {
        self.query("ORDER BY ingested_at DESC, session", args![])
    }

    fn query(&self, clause: &str, args: &[catalog::Value]) -> Result<Vec<SessionRow>, StoreError> {
        let sql = format!(
            "SELECT session, recording_sha256, original_name, duration_ms, language, segments,
                    model, ingested_at, platform, room, host FROM sessions {clause}"
        );
        self.db
            .query_map(&sql, args, |r| {
                Ok(SessionRow {
                    session: r.get(0)?,
                    recording_sha256: r.get(1)?,
                    original_name: r.get(2)?,
                    duration_ms: r.get::<i64>(3)? as u64,
                    language: r.get(4)?,
                    segments: r.get::<i64>(5)? as usize,
                    model: r.get(6)?,
                    ingested_at: r.get(7)?,
                    platform: r.get(8)?,
                    room: r.get(9)?,
                    host: r.get(10)?,
                })
            })
            .map_err(|e| self.catalog_error(e))
    }

    /// Makes a session durable and visible: blob, transcript, manifest and `extra` files, then
    /// the catalog row and the log's entries (manifest, ingest custody event), in one transaction.
    /// Returns false (and changes nothing) when another ingest committed the session first.
    pub fn commit(
        &mut self,
        staged: Staged,
        manifest: &Manifest,
        transcript: &Transcript,
        extra: &[(&str, Vec<u8>)],
        log: &crate::seal::log::SessionEntries<'_>,
    ) -> Result<bool, StoreError> {
        let root = self.root.clone();
        // The write lock is taken first, so concurrent ingests of the same bytes commit once
        // and never interleave their files.
        let db = &self.db;
        let cat = |e| self.catalog_error(e);
        let committed = db.write(|tx| -> Result<bool, StoreError> {
            let exists: bool = tx
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM sessions WHERE session = ?1)",
                    args![manifest.session],
                    |r| r.get(0),
                )
                .map_err(cat)?;
            if exists {
                return Ok(false);
            }
            if let Some(e) = deleted_in(tx, &manifest.session).map_err(cat)? {
                return Err(e);
            }

            let blob = blob_path(&root, &staged.sha256);
            if !blob.exists() {
                let dir = blob.parent().expect("blob path has a parent");
                fs::create_dir_all(dir).map_err(io_err("cannot create", dir))?;
                fs::rename(&staged.path, &blob)
                    .map_err(io_err("cannot store original as", &blob))?;
                // Originals are evidence: make accidental edits fail.
                let _ = fs::set_permissions(&blob, fs::Permissions::from_mode(0o444));
                fsutil::sync_dir(dir);
            }
            drop(staged);
            crate::fault::point("store.blob_stored");

            let dir = session_dir(&root, &manifest.session);
            fs::create_dir_all(&dir).map_err(io_err("cannot create", &dir))?;
            let mut files: Vec<(&str, Vec<u8>)> = vec![
                (layout::TRANSCRIPT, transcript.canonical_json()),
                (layout::MANIFEST, manifest.canonical_json()),
            ];
            files.extend(extra.iter().map(|(n, b)| (*n, b.clone())));
            for (name, bytes) in &files {
                let p = dir.join(name);
                fsutil::write_atomic(&p, bytes).map_err(io_err("cannot write", &p))?;
            }
            fsutil::sync_dir(&root.join("sessions"));
            crate::shared::publish(&manifest.session, &files)?;
            crate::fault::point("store.files_written");

            let meta = manifest.metadata.as_ref();
            let field = |k: &str| {
                meta.and_then(|m| crate::sidecar::field(m, k))
                    .map(str::to_string)
            };
            tx.execute(
                "INSERT INTO sessions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                args![
                    manifest.session,
                    manifest.recording_sha256,
                    manifest.original_name,
                    manifest.duration_ms as i64,
                    manifest.language,
                    manifest.segment_count as i64,
                    manifest.model,
                    manifest.ingested_at,
                    field("platform"),
                    field("room"),
                    field("host"),
                ],
            )
            .map_err(cat)?;
            tx.execute(
                "INSERT INTO changes (session, kind) VALUES (?1, 'sealed')",
                args![manifest.session],
            )
            .map_err(cat)?;
            log.append(tx).map_err(cat)?;
            Ok(true)
        })?;
        if !committed {
            return Ok(false);
        }
        crate::fault::point("store.committed");
        Ok(true)
    }

    /// Reads a session's manifest.
    pub fn manifest(&self, id: &str) -> Result<Manifest, StoreError> {
        self.read_json(&self.local_file(id, layout::MANIFEST)?)
    }

    /// Signs a session's manifest again with `key` (after a key rotation).
    pub fn resign_manifest(
        &self,
        id: &str,
        key: &ed25519_dalek::SigningKey,
    ) -> Result<(), StoreError> {
        let bytes = self.session_file(id, layout::MANIFEST)?;
        let sig = crate::seal::DetachedSignature::create(key, crate::seal::MANIFEST_DOMAIN, &bytes);
        let path = self.session_dir(id).join(layout::MANIFEST_SIG);
        let bytes = serde_json::to_vec_pretty(&sig).expect("serialises");
        fsutil::write_atomic(&path, &bytes).map_err(io_err("cannot write", &path))?;
        crate::shared::publish(id, &[(layout::MANIFEST_SIG, bytes)])
    }

    /// The exact bytes of a stored session file (`manifest.json`, `manifest.sig`, ...).
    pub fn session_file(&self, id: &str, name: &str) -> Result<Vec<u8>, StoreError> {
        let p = self.local_file(id, name)?;
        fs::read(&p).map_err(io_err("cannot read", &p))
    }

    /// Where a session file is on this node: fetched from the shared bucket first when another
    /// node sealed the session (`shared`).
    fn local_file(&self, id: &str, name: &str) -> Result<PathBuf, StoreError> {
        let p = self.session_dir(id).join(name);
        if !p.exists() {
            crate::shared::fetch(id, name, &p)?;
        }
        Ok(p)
    }

    /// The original with this hash on this node's disk, fetched from the shared bucket (hash
    /// checked) when another node archived it.
    pub fn original(&self, sha256: &str) -> Result<PathBuf, StoreError> {
        let p = self.blob_path(sha256);
        if !p.exists() {
            crate::shared::fetch_original(sha256, &p)?;
        }
        Ok(p)
    }

    /// The catalog connection, for the modules that own catalog tables — the log
    /// (`seal::log`), tokens and uploads (`access`), custody, the job queue (`server::jobs`).
    /// Everything else calls their typed operations (`tests/layers.rs` checks).
    pub(crate) fn db(&self) -> &Catalog {
        &self.db
    }

    /// Reads a session's canonical transcript.
    pub fn transcript(&self, id: &str) -> Result<Transcript, StoreError> {
        self.read_json(&self.local_file(id, layout::TRANSCRIPT)?)
    }

    /// Reads a session's live comments; `None` when it has none.
    pub fn comments(&self, id: &str) -> Result<Option<crate::comments::Comments>, StoreError> {
        let path = self.local_file(id, layout::COMMENTS)?;
        if !path.exists() {
            return Ok(None);
        }
        self.read_json(&path).map(Some)
    }

    fn read_json<T: serde::de::DeserializeOwned>(&self, path: &Path) -> Result<T, StoreError> {
        let bytes = fs::read(path).map_err(io_err("cannot read", path))?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Damaged {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_catalog_is_migrated_once_and_then_opened_without_the_schema_step() {
        let d = tempfile::tempdir().unwrap();
        // A catalog from before token expiry, at schema version 0.
        let c = rusqlite::Connection::open(d.path().join("catalog.sqlite")).unwrap();
        c.execute_batch(
            "CREATE TABLE tokens (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE,
             role TEXT NOT NULL, platform TEXT, created_at TEXT NOT NULL);",
        )
        .unwrap();
        drop(c);
        let s = Store::open(d.path()).unwrap();
        let version: i64 = s
            .db()
            .query_row("PRAGMA user_version", args![], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let cols: i64 = s
            .db()
            .query_row(
                "SELECT COUNT(*) FROM pragma_table_info('tokens') WHERE name IN ('expires_unix', 'revoked_at')",
                args![],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(cols, 2);
        assert!(s.watched("x").unwrap().is_none(), "the watch table exists");
        drop(s);
        Store::open(d.path()).unwrap();
    }

    #[test]
    fn staging_hashes_while_copying_and_cleans_up_on_drop() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("rec.bin");
        fs::write(&src, b"abc").unwrap();
        let store = Store::open(&d.path().join("data")).unwrap();
        let staged = store.stage(&src).unwrap();
        assert_eq!(
            staged.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(fs::read(&staged.path).unwrap(), b"abc");
        let p = staged.path.clone();
        drop(staged);
        assert!(!p.exists());
    }

    #[test]
    fn stale_staging_of_dead_processes_is_removed_on_open() {
        let d = tempfile::tempdir().unwrap();
        Store::open(d.path()).unwrap();
        // pid 0 never names a user process.
        let stale = d.path().join("tmp/0-abandoned");
        fs::write(&stale, b"x").unwrap();
        let mine = d.path().join(format!("tmp/{}-live", std::process::id()));
        fs::write(&mine, b"x").unwrap();
        Store::open(d.path()).unwrap();
        assert!(!stale.exists());
        assert!(mine.exists());
    }
}
