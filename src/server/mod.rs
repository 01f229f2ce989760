//! The HTTP API (actix-web on tokio): sessions, transcripts, search, disclosure reports,
//! evidence bundles, public verification, media with range requests, uploads as jobs.
//!
//! Every handler authenticates through [`auth::Caller`], decides through
//! `access::Access::can_read`, and runs slow or blocking work (SQLite, tantivy, ffmpeg,
//! Whisper) off the async runtime with `web::block` or the job worker thread.
//! Invariant: the server calls the same library functions as the CLI; it builds no tantivy
//! query and writes no archive file itself.

pub mod admin;
pub mod auth;
pub mod broadcasts;
pub mod error;
pub mod jobs;
pub mod requestlog;
pub mod routes;
pub mod transparency;

use std::path::PathBuf;
use std::sync::Mutex;

use actix_web::{web, App, HttpServer};

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory.
    pub data: PathBuf,
    /// Every limit on requests (sizes, rates, paging, bundles), with documented defaults.
    pub limits: crate::limits::Server,
    /// Ingest options for uploads (model, threads) with the settings (`ingest.config`: models
    /// directory, TSAs, disk reserve) every part of the server uses.
    pub ingest: crate::ingest::Options,
    /// How often to fetch timestamps a TSA could not give at ingest (None: never).
    pub timestamp_every: Option<std::time::Duration>,
    /// Request and job log lines on standard error.
    pub log_format: requestlog::LogFormat,
}

impl Config {
    /// The defaults for an archive in `data`: documented limits, default ingest options,
    /// pending timestamps fetched every ten minutes.
    pub fn new(data: impl Into<PathBuf>) -> Self {
        Self {
            data: data.into(),
            limits: Default::default(),
            ingest: Default::default(),
            timestamp_every: Some(std::time::Duration::from_secs(600)),
            log_format: Default::default(),
        }
    }
}

/// Shared state.
pub struct State {
    /// Settings.
    pub config: Config,
    /// Per-token request counters: token id → (minute, count).
    pub rate: Mutex<std::collections::HashMap<i64, (u64, u32)>>,
    /// Per-address `POST /api/verify` counters: IP → (minute, count).
    pub verify_rate: Mutex<std::collections::HashMap<std::net::IpAddr, (u64, u32)>>,
    /// Verifications running at once.
    pub verify_slots: tokio::sync::Semaphore,
    /// Verifications admitted (running, waiting or receiving their body).
    pub verify_admitted: std::sync::atomic::AtomicUsize,
}

impl State {
    /// Fresh state for these settings.
    pub fn new(config: Config) -> Self {
        let slots = config.limits.verify_concurrency.max(1);
        Self {
            config,
            rate: Mutex::new(Default::default()),
            verify_rate: Mutex::new(Default::default()),
            verify_slots: tokio::sync::Semaphore::new(slots),
            verify_admitted: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

/// Counts one request against a per-minute budget; false when the budget is spent.
pub(crate) fn within_rate<K: std::hash::Hash + Eq>(
    map: &Mutex<std::collections::HashMap<K, (u64, u32)>>,
    key: K,
    per_minute: u32,
) -> bool {
    let minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 60)
        .unwrap_or(0);
    let Ok(mut m) = map.lock() else {
        return false;
    };
    // Forget old minutes so the map cannot grow without bound.
    if m.len() > 100_000 {
        m.retain(|_, v| v.0 == minute);
    }
    let e = m.entry(key).or_insert((minute, 0));
    if e.0 != minute {
        *e = (minute, 0);
    }
    e.1 = e.1.saturating_add(1);
    e.1 <= per_minute
}

/// Adds every route, the JSON error handlers and the JSON fallback to an actix app (also
/// used by tests).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(error::query_config())
        .app_data(error::path_config());
    routes::configure(cfg);
    cfg.default_service(web::to(error::fallback));
}

/// Removes what a killed server left behind: uploads no job refers to and spooled bundles.
pub fn clean_up(data: &std::path::Path) {
    jobs::remove_orphans(data);
    let _ = std::fs::remove_dir_all(spool_dir(data));
}

/// Where `POST /api/verify` spools bundles while it checks them.
pub fn spool_dir(data: &std::path::Path) -> PathBuf {
    crate::layout::spool(data)
}

/// Fetches pending trusted timestamps every `timestamp_every`, when a TSA is configured.
fn start_timestamper(config: &Config) {
    let (Some(every), Some(tsa)) = (config.timestamp_every, config.ingest.config.tsa()) else {
        return;
    };
    let data = config.data.clone();
    std::thread::spawn(move || loop {
        let r = crate::store::Store::open(&data)
            .map_err(|e| e.to_string())
            .and_then(|s| s.catch_up_timestamps(&tsa));
        match r {
            Ok(c) if c.pending > 0 => eprintln!(
                "liveproof: {} trusted timestamp(s) still pending: {}",
                c.pending,
                c.errors.join("; ")
            ),
            Ok(_) => {}
            Err(e) => eprintln!("liveproof: fetching pending timestamps failed: {e}"),
        }
        std::thread::sleep(every);
    });
}

/// With a shared catalog, keeps this node's search index following the catalog's change
/// sequence (sessions sealed or deleted by other nodes) twice a second.
fn start_follower(config: &Config) {
    if config.ingest.config.platform().is_none() {
        return;
    }
    let data = config.data.clone();
    std::thread::spawn(move || loop {
        let r = crate::store::Store::open(&data)
            .map_err(crate::search::SearchError::from)
            .and_then(|s| crate::search::follow(&s));
        if let Err(e) = r {
            eprintln!("liveproof: the search index could not follow the catalog: {e}");
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    });
}

/// Start-up repairs. A killed ingest may have committed a session without indexing it; the CLI
/// repairs before each search, the server once here (each job's ingest indexes its own
/// session). Likewise a deletion stopped after its tombstone was committed left files.
fn repair(data: &std::path::Path) {
    let repaired = crate::store::Store::open(data)
        .map_err(crate::search::SearchError::from)
        .and_then(|s| crate::search::catch_up(&s));
    if let Err(e) = repaired {
        eprintln!("liveproof: some archived sessions may be missing from search: {e}");
    }
    let purged = crate::store::Store::open(data)
        .map_err(crate::retention::RetentionError::from)
        .and_then(|s| crate::retention::purge_pending(&s));
    if let Err(e) = purged {
        eprintln!("liveproof: files of deleted sessions may remain: {e}");
    }
}

/// Runs the server until it is stopped.
pub async fn serve(addr: &str, config: Config) -> std::io::Result<()> {
    // Off the async runtime: the catalog's drivers block.
    let data = config.data.clone();
    let _ = std::thread::spawn(move || {
        clean_up(&data);
        repair(&data)
    })
    .join();
    jobs::start_worker(config.clone());
    start_timestamper(&config);
    start_follower(&config);
    let log_format = config.log_format;
    let state = web::Data::new(State::new(config));
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(actix_web::middleware::from_fn(move |req, next| {
                requestlog::log(log_format, req, next)
            }))
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "no-referrer"))
                    .add(("Content-Security-Policy", "default-src 'self'")),
            )
            .configure(configure)
    })
    .bind(addr)?
    .run()
    .await
}
