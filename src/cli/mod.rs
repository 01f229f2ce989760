//! The command line: clap definitions in [`args`], and one small function per command that
//! calls the library and prints its result (text, or one JSON document with `--json`).
//! Invariant: nothing here is needed by the server; what both need lives in the library.

mod archive;
pub mod args;
mod evidence;
mod find;
mod keys;
mod live;
mod progress;
mod retention;
mod serve;

use std::io::Write;
use std::path::PathBuf;

use liveproof::ingest::IngestError;
use liveproof::models::ModelError;
use liveproof::search::SearchError;

use args::{Cli, Command};

/// What every command gets besides its own arguments.
pub struct Ctx {
    /// The archive (`--data`).
    pub data: PathBuf,
    /// Print one JSON document instead of text (`--json`).
    pub json: bool,
    /// The settings (global flags and `LIVEPROOF_*` variables), read once.
    pub config: liveproof::config::Config,
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let ctx = Ctx {
        data: cli.data,
        json: cli.json,
        config: cli.config,
    };
    // With the platform, every archive this process opens keeps its catalog in PostgreSQL and
    // shares its session files through the bucket, so any node reads what any node sealed.
    if let Some(urls) = ctx.config.platform() {
        let blobs = liveproof::platform::Blobs::open(&urls.blobs, urls.credentials.clone())
            .map_err(|e| Failure::new(2, e))?;
        liveproof::catalog::bind(&urls.catalog);
        liveproof::shared::bind(blobs);
    }
    match cli.command {
        Command::Models(c) => serve::models(&ctx, c),
        Command::Ingest(a) => archive::ingest(&ctx, a),
        Command::Watch(a) => live::watch(&ctx, a),
        Command::Broadcasts(a) => live::broadcasts(&ctx, a),
        Command::Search(a) => find::search(&ctx, a.request),
        Command::Claims(c) => find::claims(&ctx, c),
        Command::Evidence(a) => evidence::export(&ctx, a),
        Command::Verify(a) => evidence::verify(&ctx, a),
        Command::Report(a) => find::report(&ctx, a),
        Command::Token(c) => keys::token(&ctx, c),
        Command::Serve(a) => serve::serve(&ctx, a),
        Command::Worker(a) => serve::worker(&ctx, a),
        Command::Tasks(a) => serve::tasks(&ctx, a),
        Command::Witness(c) => keys::witness(&ctx, c),
        Command::Key(c) => keys::key(&ctx, c),
        Command::Log(c) => keys::log(&ctx, c),
        Command::Reindex => archive::reindex(&ctx),
        Command::Reproduce(a) => archive::reproduce(&ctx, a),
        Command::Sessions(req) => archive::sessions(&ctx, req),
        Command::Show(a) => archive::show(&ctx, a),
        Command::Export(a) => archive::export(&ctx, a),
        Command::Comments(a) => archive::comments(&ctx, a),
        Command::Delete(a) => retention::delete(&ctx, a),
        Command::Hold(a) => retention::hold(&ctx, a, true),
        Command::Release(a) => retention::hold(&ctx, a, false),
        Command::Tombstone(a) => retention::tombstone(&ctx, a),
    }
}

/// An input the user gave cannot be used (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Failure with its exit code.
pub struct Failure {
    /// The process's exit code.
    pub code: u8,
    /// What went wrong.
    pub error: anyhow::Error,
}

impl Failure {
    /// A failure with an explicit exit code.
    pub fn new(code: u8, error: impl Into<anyhow::Error>) -> Self {
        Self {
            code,
            error: error.into(),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        let error = e.into();
        let code = exit_code(&error);
        Failure { code, error }
    }
}

/// The exit code `--help` documents for an error: 2 bad usage, 3 bad input, 4 model missing.
fn exit_code(error: &anyhow::Error) -> u8 {
    let model_missing =
        |m: &ModelError| matches!(m, ModelError::NotInstalled { .. } | ModelError::Unknown(_));
    if let Some(i) = error.downcast_ref::<IngestError>() {
        return match i {
            IngestError::Model(m) if model_missing(m) => 4,
            IngestError::Platform(liveproof::platform::PlatformError::Config(_)) => 2,
            e if e.is_bad_input() => 3,
            _ => 1,
        };
    }
    if let Some(liveproof::platform::PlatformError::Config(_)) = error.downcast_ref() {
        return 2;
    }
    if let Some(liveproof::platform::worker::WorkerError::Model(m)) = error.downcast_ref() {
        if model_missing(m) {
            return 4;
        }
    }
    if error
        .downcast_ref::<ModelError>()
        .is_some_and(model_missing)
    {
        return 4;
    }
    if let Some(liveproof::evidence::EvidenceError::Range(_)) =
        error.downcast_ref::<liveproof::evidence::EvidenceError>()
    {
        return 2;
    }
    if let Some(SearchError::Syntax(_) | SearchError::Filter(_) | SearchError::Paging(_)) =
        error.downcast_ref::<SearchError>()
    {
        return 2;
    }
    if let Some(e) = error.downcast_ref::<liveproof::retention::RetentionError>() {
        use liveproof::retention::RetentionError as R;
        return match e {
            R::NoReason => 2,
            R::Held { .. } | R::AlreadyHeld(_) | R::NotHeld(_) => 3,
            R::Store(
                liveproof::store::StoreError::NoSuchSession(_)
                | liveproof::store::StoreError::Deleted { .. },
            ) => 3,
            _ => 1,
        };
    }
    if let Some(
        liveproof::store::StoreError::NoSuchSession(_)
        | liveproof::store::StoreError::Ambiguous(_)
        | liveproof::store::StoreError::Deleted { .. },
    ) = error.downcast_ref::<liveproof::store::StoreError>()
    {
        return 3;
    }
    if let Some(liveproof::watch::WatchError::Folder { .. }) =
        error.downcast_ref::<liveproof::watch::WatchError>()
    {
        return 3;
    }
    let bad_file = error.downcast_ref::<std::io::Error>().is_some_and(|e| {
        matches!(
            e.kind(),
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::NotFound
        )
    });
    if error.downcast_ref::<BadInput>().is_some() || bad_file {
        3
    } else {
        1
    }
}

/// The error and its causes, skipping causes the message above already quotes.
pub fn message(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out = format!("{out}: {c}");
        }
    }
    out
}

/// Prints one pretty JSON document on stdout.
pub fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}
