//! Commands that set the machine up or run it: models, serve.

use std::time::Duration;

use anyhow::Context;
use liveproof::models::{self, ModelError};
use liveproof::store::Store;

use super::args::{ModelsCmd, ServeArgs};
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
