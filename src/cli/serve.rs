//! Commands that set the machine up or run it: models, serve, worker.

use std::time::Duration;

use anyhow::Context;
use liveproof::models::{self, ModelError};
use liveproof::store::Store;

use super::args::{ModelsCmd, ServeArgs, TasksArgs, WorkerArgs};
use super::{print_json, BadInput, Ctx, Failure};

/// `liveproof models install|list`.
pub fn models(ctx: &Ctx, cmd: ModelsCmd) -> Result<(), Failure> {
    match cmd {
        ModelsCmd::List => models::describe(&ctx.config.models, &mut std::io::stdout())?,
        ModelsCmd::Install { name, wheels } => {
            let m = models::known(&name).ok_or_else(|| ModelError::Unknown(name.clone()))?;
            let say = |s: &str| eprintln!("{s}");
            let path = models::install(m, &ctx.config, wheels.as_deref(), &say)?;
            if ctx.json {
                print_json(
                    &serde_json::json!({"model": m.name, "path": path, "sha256": m.output_sha256}),
                )?;
            } else {
                println!("installed {} at {}", m.name, path.display());
            }
        }
    }
    Ok(())
}

/// `liveproof serve`: runs until stopped.
pub fn serve(ctx: &Ctx, a: ServeArgs) -> Result<(), Failure> {
    Store::open(&ctx.data)?;
    if a.verify_concurrency == 0 {
        return Err(BadInput("--verify-concurrency must be at least 1".into()).into());
    }
    let mut config = liveproof::server::Config::new(&ctx.data);
    config.timestamp_every =
        (a.timestamp_minutes > 0).then(|| Duration::from_secs(a.timestamp_minutes * 60));
    config.limits = liveproof::limits::Server {
        max_upload: a.max_upload_mib.saturating_mul(1 << 20),
        max_verify_body: a.max_verify_mib.saturating_mul(1 << 20),
        verify_concurrency: a.verify_concurrency,
        verify_per_ip_per_minute: a.verify_rate_limit,
        token_per_minute: a.rate_limit,
        body_timeout: Duration::from_secs(a.body_timeout_secs.max(1)),
        ..Default::default()
    };
    config.ingest.model = a.model;
    config.log_format = a.log_format;
    config.ingest.config = ctx.config.clone();
    eprintln!(
        "liveproof serving {} on http://{}/",
        ctx.data.display(),
        a.addr
    );
    actix_web::rt::System::new()
        .block_on(liveproof::server::serve(&a.addr, config))
        .with_context(|| format!("cannot serve on {}", a.addr))?;
    Ok(())
}

fn platform(ctx: &Ctx, who: &str) -> Result<liveproof::config::PlatformUrls, Failure> {
    ctx.config.platform().ok_or_else(|| {
        BadInput(format!("{who} needs the platform: give --catalog postgres://… and --blobs s3://… (or LIVEPROOF_CATALOG and LIVEPROOF_BLOBS)")).into()
    })
}

/// `liveproof tasks`: the queue's state.
pub fn tasks(ctx: &Ctx, a: TasksArgs) -> Result<(), Failure> {
    let mut platform = platform(ctx, "`tasks`")?.connect()?;
    let counts: serde_json::Map<String, serde_json::Value> = ["queued", "leased", "done", "failed"]
        .into_iter()
        .map(|s| (s.to_string(), 0.into()))
        .chain(
            platform
                .queue
                .counts()?
                .into_iter()
                .map(|(s, n)| (s, n.into())),
        )
        .collect();
    let tasks = platform.queue.list(a.state.as_deref(), a.limit)?;
    if ctx.json {
        return Ok(print_json(
            &serde_json::json!({"counts": counts, "tasks": tasks}),
        )?);
    }
    println!(
        "{}",
        counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for t in tasks {
        println!(
            "{}  {:<7} {:>6}/{:<6} s  attempts {}  {}  {}{}",
            &t.key[..16],
            t.status.state,
            t.status.progress_ms / 1000,
            t.status
                .total_ms
                .map(|m| (m / 1000).to_string())
                .unwrap_or("?".into()),
            t.status.attempts,
            t.worker.as_deref().unwrap_or("-"),
            t.name,
            t.status
                .error
                .map(|e| format!("  error: {e}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// `liveproof worker`: transcribes the platform's queue until stopped or drained.
pub fn worker(ctx: &Ctx, a: WorkerArgs) -> Result<(), Failure> {
    let urls = platform(ctx, "a worker")?;
    let mut platform = urls.connect()?;
    let opts = liveproof::platform::worker::Options {
        name: a
            .name
            .unwrap_or_else(liveproof::platform::worker::default_name),
        threads: a
            .threads
            .unwrap_or_else(liveproof::transcription::default_threads),
        config: ctx.config.clone(),
        lease: Duration::from_secs(a.lease_secs),
        poll: Duration::from_millis(a.poll_ms),
        max_tasks: a.max_tasks,
        drain: a.drain,
        scratch: a.scratch.unwrap_or_else(std::env::temp_dir),
        catalog: urls.catalog.clone(),
    };
    let json = ctx.json;
    let log = move |v: serde_json::Value| {
        if json {
            println!("{v}");
        } else {
            eprintln!(
                "worker: {} {}",
                v["step"].as_str().unwrap_or(""),
                v["task"].as_str().unwrap_or("")
            );
        }
    };
    eprintln!("liveproof worker {} taking tasks", opts.name);
    let summary = liveproof::platform::worker::run(&mut platform, &opts, &log)?;
    if ctx.json {
        print_json(&summary)?;
    } else {
        println!(
            "worker {}: {} done, {} failed, {} s of audio",
            summary.worker,
            summary.done,
            summary.failed,
            summary.audio_ms / 1000
        );
    }
    Ok(())
}
