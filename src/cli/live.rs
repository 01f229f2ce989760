//! Live-room commands: watch a recorders' folder, list broadcasts.

use std::time::Duration;

use liveproof::media::clock;
use liveproof::store::Store;
use liveproof::watch::{self, Outcome};

use super::args::{BroadcastsArgs, WatchArgs};
use super::progress;
use super::{print_json, BadInput, Ctx, Failure};

/// `liveproof watch`: passes over the folder on every file event and every --poll-secs.
pub fn watch(ctx: &Ctx, a: WatchArgs) -> Result<(), Failure> {
    if !a.dir.is_dir() {
        return Err(BadInput(format!(
            "`{}` is not a folder: give the folder your recorder writes into",
            a.dir.display()
        ))
        .into());
    }
    // A missing model is the machine's problem, not a file's: say so now, not on every pass.
    liveproof::models::resolve(&a.model, &ctx.config.models)?;
    let mut store = Store::open(&ctx.data)?;
    let opts = watch::Options {
        settle: Duration::from_secs(a.settle_secs),
        finish_after: Duration::from_secs(a.finish_after_secs.max(a.settle_secs)),
        offset_secs: a.utc_offset,
        meta: a.meta,
        ingest: liveproof::ingest::Options {
            model: a.model,
            language: a.lang.clone().unwrap_or_else(|| "auto".into()),
            sidecar_language: a.lang.is_none(),
            threads: a
                .threads
                .unwrap_or_else(liveproof::transcription::default_threads),
            config: ctx.config.clone(),
            ..Default::default()
        },
    };
    let mode = a.progress;
    let sink = |p: &std::path::Path| progress::sink(mode, p);
    if a.once {
        let out = watch::pass(&mut store, &a.dir, &opts, &sink)?;
        out.iter().try_for_each(|o| report(ctx, o))?;
        if out.iter().any(|o| o.state == "failed") {
            return Err(anyhow::anyhow!("some recordings failed (see above)").into());
        }
        return Ok(());
    }
    // File events only wake the loop early; every pass looks at the whole folder, so a
    // missed event (or no inotify at all) costs at most --poll-secs.
    let (tx, rx) = std::sync::mpsc::channel();
    let watcher = notify::recommended_watcher(move |_e: notify::Result<notify::Event>| {
        let _ = tx.send(());
    })
    .and_then(|mut w| {
        use notify::Watcher;
        w.watch(&a.dir, notify::RecursiveMode::Recursive).map(|_| w)
    });
    let _watcher = match watcher {
        Ok(w) => Some(w),
        Err(e) => {
            eprintln!(
                "note: no file events ({e}); looking every {}s instead",
                a.poll_secs
            );
            None
        }
    };
    eprintln!(
        "watching {} (archive {}); stop with Ctrl-C",
        a.dir.display(),
        ctx.data.display()
    );
    let mut waiting_before = std::collections::BTreeSet::new();
    loop {
        let out = watch::pass(&mut store, &a.dir, &opts, &sink)?;
        let mut waiting = std::collections::BTreeSet::new();
        for o in &out {
            // Say once that a file waits, not on every pass.
            if o.state == "waiting" {
                waiting.insert(o.path.clone());
                if waiting_before.contains(&o.path) {
                    continue;
                }
            }
            report(ctx, o)?;
        }
        waiting_before = waiting;
        let _ = rx.recv_timeout(Duration::from_secs(a.poll_secs.max(1)));
        // Let a burst of events (a recorder writing) settle into one pass.
        while rx.try_recv().is_ok() {}
    }
}

fn report(ctx: &Ctx, o: &Outcome) -> Result<(), Failure> {
    if ctx.json {
        println!("{}", serde_json::to_string(o)?);
        return Ok(());
    }
    let what = match (o.state, &o.session) {
        ("ingested", Some(s)) => format!("archived as session {s}"),
        ("already_archived", Some(s)) => format!("already archived as session {s}"),
        (state, _) => state.to_string(),
    };
    let detail = o
        .detail
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    println!("{}  {what}{detail}", o.path.display());
    Ok(())
}

/// `liveproof broadcasts`.
pub fn broadcasts(ctx: &Ctx, a: BroadcastsArgs) -> Result<(), Failure> {
    let store = Store::open(&ctx.data)?;
    let gap = Duration::from_secs(a.gap_minutes.saturating_mul(60));
    let list = liveproof::broadcasts::list(&store, gap)?;
    if ctx.json {
        return Ok(print_json(&serde_json::json!({ "broadcasts": list }))?);
    }
    if list.is_empty() {
        println!(
            "no broadcasts yet: archive recordings with `liveproof ingest` or `liveproof watch`"
        );
    }
    for b in list {
        let where_ = [&b.platform, &b.room, &b.host]
            .iter()
            .filter_map(|x| x.as_deref())
            .collect::<Vec<_>>()
            .join("/");
        println!(
            "{}  {}  {}  {} segment(s)  {}",
            b.broadcast,
            b.started_at,
            clock(b.duration_ms),
            b.sessions.len(),
            if where_.is_empty() { "-" } else { &where_ }
        );
    }
    Ok(())
}
