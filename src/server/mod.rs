//! The HTTP API (actix-web on tokio): sessions, transcripts, search, disclosure reports,
//! evidence bundles, public verification, media with range requests, uploads as jobs.
//!
//! Every handler authenticates through [`auth::Caller`], decides through
//! `access::Access::can_read`, and runs slow or blocking work (SQLite, tantivy, ffmpeg,
//! Whisper) off the async runtime with `web::block` or the job worker thread.
//! Invariant: the server calls the same library functions as the CLI; it builds no tantivy
//! query and writes no archive file itself.

pub mod auth;
pub mod error;
pub mod jobs;
pub mod routes;

use std::path::PathBuf;
use std::sync::Mutex;

use actix_web::{web, App, HttpServer};

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory.
    pub data: PathBuf,
    /// Largest upload (recording) in bytes.
    pub max_upload: u64,
    /// Largest bundle accepted by `POST /api/verify`.
    pub max_bundle: u64,
    /// Requests per minute per token.
    pub rate_per_minute: u32,
    /// Ingest options for uploads (model, models dir, threads).
    pub ingest: crate::ingest::Options,
}

/// Shared state.
pub struct State {
    /// Settings.
    pub config: Config,
    /// Per-token request counters: token id → (minute, count).
    pub rate: Mutex<std::collections::HashMap<i64, (u64, u32)>>,
}

/// Adds every route to an actix app (also used by tests).
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes::configure(cfg);
}

/// Runs the server until it is stopped.
pub async fn serve(addr: &str, config: Config) -> std::io::Result<()> {
    jobs::start_worker(config.clone());
    let state = web::Data::new(State {
        config,
        rate: Mutex::new(Default::default()),
    });
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(256 << 20))
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
