//! Commands that archive recordings and read the archive back: ingest, reproduce, reindex,
//! sessions, show, export.

use std::io::Write;

use anyhow::Context;
use liveproof::media::clock;
use liveproof::store::Store;
use liveproof::transcript::{self, ExportFormat};
use liveproof::{ingest, search};

use super::args::{CommentsArgs, ExportArgs, IngestArgs, ReproduceArgs, ShowArgs};
use super::progress::{self, Bar};
use super::{print_json, BadInput, Ctx, Failure};

/// `liveproof ingest`: one file as before; several, or folders, one after the other.
pub fn ingest(ctx: &Ctx, a: IngestArgs) -> Result<(), Failure> {
    let mut store = Store::open(&ctx.data)?;
    if a.comments.is_some() && (a.files.len() > 1 || a.files[0].is_dir()) {
        return Err(BadInput(
            "--comments belongs to one recording: give one FILE with it (watch picks up comments beside each recording)".into(),
        )
        .into());
    }
    let opts = ingest::Options {
        meta: a.meta,
        comments: a.comments,
        model: a.model,
        language: a.lang.clone().unwrap_or_else(|| "auto".into()),
        sidecar_language: a.lang.is_none(),
        threads: a
            .threads
            .unwrap_or_else(liveproof::transcription::default_threads),
        beam: a.beam,
        allow_truncated: a.allow_truncated,
        vad: a.vad,
        transcribe_repeats: a.transcribe_repeats,
        detect_loops: !a.no_vad,
        config: ctx.config.clone(),
        ..Default::default()
    };
    // With --catalog and --blobs, workers elsewhere transcribe; this process seals.
    let platform = match ctx.config.platform() {
        Some(urls) => Some(std::cell::RefCell::new(urls.connect()?)),
        None => None,
    };
    let one =
        |store: &mut Store, file: &std::path::Path, sink: &dyn ingest::Progress| match &platform {
            Some(p) => {
                let remote = |h: &ingest::Handoff| p.borrow_mut().transcribe(h, file, sink);
                ingest::ingest_from(store, file, &opts, sink, ingest::Source::Elsewhere(&remote))
            }
            None => ingest::ingest(store, file, &opts, sink),
        };
    if let [file] = a.files.as_slice() {
        if !file.is_dir() {
            let s = {
                let sink = progress::sink(a.progress, file);
                one(&mut store, file, sink.as_ref())?
            };
            return print_summary(ctx, &s);
        }
    }
    let mut files = Vec::new();
    for f in &a.files {
        if f.is_dir() {
            files
                .extend(liveproof::watch::scan(f, &ctx.data).map_err(|e| BadInput(e.to_string()))?);
        } else {
            files.push(f.clone());
        }
    }
    if files.is_empty() {
        let given: Vec<String> = a
            .files
            .iter()
            .map(|f| format!("`{}`", f.display()))
            .collect();
        return Err(BadInput(format!(
            "no recordings in {} (looked for .{} files, recursively)",
            given.join(", "),
            liveproof::watch::EXTENSIONS.join(", .")
        ))
        .into());
    }
    // Every file goes to the workers' queue first, so they all work at once; a file that cannot
    // be queued is reported by its own ingest below.
    if let Some(p) = &platform {
        for f in &files {
            if liveproof::media::sniff(f).is_ok() {
                let _ = p.borrow_mut().submit_path(f, &opts);
            }
        }
    }
    let (mut ingested, mut failed, mut first_error) = (Vec::new(), Vec::new(), None);
    for f in &files {
        let r = {
            let sink = progress::sink(a.progress, f);
            one(&mut store, f, sink.as_ref())
        };
        match r {
            Ok(s) => {
                if !ctx.json {
                    print_summary(ctx, &s)?;
                }
                ingested.push(s);
            }
            Err(e) => {
                eprintln!("error: {}: {e}", f.display());
                failed.push(serde_json::json!({"file": f, "error": e.to_string()}));
                first_error.get_or_insert(e);
            }
        }
    }
    if ctx.json {
        print_json(&serde_json::json!({"ingested": ingested, "failed": failed}))?;
    }
    match first_error {
        Some(e) => {
            let code = Failure::from(e).code;
            Err(Failure::new(
                code,
                anyhow::anyhow!("{} of {} recordings failed", failed.len(), files.len()),
            ))
        }
        None => Ok(()),
    }
}

fn print_summary(ctx: &Ctx, s: &ingest::Summary) -> Result<(), Failure> {
    if let Some(w) = &s.timestamp_warning {
        eprintln!("warning: archived and signed, but {w}");
    }
    if let Some(w) = &s.index_warning {
        eprintln!("warning: archived, but not searchable yet: {w}");
    }
    if ctx.json {
        print_json(s)?;
    } else if s.already_archived {
        println!(
            "already archived as session {} ({} segments, {}); nothing changed",
            s.session,
            s.segments,
            clock(s.duration_ms)
        );
    } else {
        println!(
            "archived session {}: {} segments, {}, language {}, model {}\nrecording sha256 {}",
            s.session,
            s.segments,
            clock(s.duration_ms),
            s.language,
            s.model,
            s.recording_sha256
        );
        if s.gaps > 0 {
            eprintln!(
                "note: {} stretch(es) of speech yielded no text even decoded alone; they are sealed as gaps (`liveproof show {}`)",
                s.gaps, s.session
            );
        }
    }
    Ok(())
}

/// `liveproof reproduce`: exit 5 when the transcript root differs.
pub fn reproduce(ctx: &Ctx, a: ReproduceArgs) -> Result<(), Failure> {
    use liveproof::reproduce::ReproduceError;
    let store = Store::open(&ctx.data)?;
    let bar = Bar::new(std::path::Path::new(&a.session));
    let r = liveproof::reproduce::reproduce(
        &store,
        &a.session,
        a.model.as_deref(),
        &ctx.config,
        a.threads
            .unwrap_or_else(liveproof::transcription::default_threads),
        &bar,
    );
    bar.finish();
    let r = match r {
        Ok(r) => r,
        Err(ReproduceError::Ingest(e)) => return Err(e.into()),
        Err(e @ (ReproduceError::OtherWeights { .. } | ReproduceError::OtherPipeline { .. })) => {
            return Err(Failure::new(4, e))
        }
        Err(e) => return Err(BadInput(e.to_string()).into()),
    };
    if ctx.json {
        print_json(&r)?;
    } else if r.reproduced {
        println!(
            "reproduced: session {} transcribed again gives the sealed transcript root {}",
            r.session, r.transcript_root
        );
    } else {
        println!(
            "NOT reproduced: session {} sealed root {}, recomputed {} ({} → {} segments, {} → {} gaps)",
            r.session, r.transcript_root, r.recomputed_root, r.segments.0, r.segments.1, r.gaps.0, r.gaps.1
        );
        if let Some((i, a, b)) = &r.first_difference {
            println!("first difference at segment {i}:\n  sealed:     {a}\n  recomputed: {b}");
        }
    }
    if !r.reproduced {
        return Err(Failure::new(
            5,
            anyhow::anyhow!("session {} did not reproduce", r.session),
        ));
    }
    Ok(())
}

/// `liveproof reindex`.
pub fn reindex(ctx: &Ctx) -> Result<(), Failure> {
    let store = Store::open(&ctx.data)?;
    let n = search::reindex(&store, &|i, n| {
        if !ctx.json {
            eprint!("\rindexed {i}/{n} sessions");
        }
    })?;
    if ctx.json {
        print_json(&serde_json::json!({"sessions": n}))?;
    } else {
        eprintln!();
        println!("search index rebuilt from {n} sessions");
    }
    Ok(())
}

/// `liveproof sessions`.
pub fn sessions(ctx: &Ctx, req: liveproof::listing::Request) -> Result<(), Failure> {
    let store = Store::open(&ctx.data)?;
    let page = liveproof::listing::list(&store, &req, &|_| true).map_err(|e| match e {
        liveproof::listing::ListError::Paging(m) => Failure::new(2, anyhow::anyhow!(m)),
        other => Failure::from(anyhow::Error::from(other)),
    })?;
    if ctx.json {
        print_json(&page)?;
    } else if page.total == 0 {
        println!(
            "no sessions match: archive one with `liveproof ingest FILE`, or loosen the filters"
        );
    } else {
        println!(
            "{:<16}  {:<24}  {:<25}  {:>12}  {:<4}  {:<9}  {:<8}  {:>6}",
            "SESSION",
            "PLATFORM/ROOM/HOST",
            "STARTED",
            "DURATION",
            "LANG",
            "DIGITAL",
            "DISCLOSE",
            "CLAIMS"
        );
        for i in &page.sessions {
            let r = &i.row;
            let place = [&r.platform, &r.room, &r.host]
                .iter()
                .map(|v| v.as_deref().unwrap_or("-"))
                .collect::<Vec<_>>()
                .join("/");
            println!(
                "{:<16}  {:<24}  {:<25}  {:>12}  {:<4}  {:<9}  {:<8}  {:>6}",
                r.session,
                place,
                i.started_at.as_deref().unwrap_or("-"),
                clock(r.duration_ms),
                r.language,
                i.digital_host,
                i.disclosure,
                i.claim_count
            );
        }
        if page.total > page.sessions.len() {
            println!(
                "{} of {} shown (--offset {} for the next page)",
                page.sessions.len(),
                page.total,
                req.offset + page.sessions.len()
            );
        }
    }
    Ok(())
}

/// `liveproof show`.
pub fn show(ctx: &Ctx, a: ShowArgs) -> Result<(), Failure> {
    let store = Store::open(&ctx.data)?;
    let row = store.resolve(&a.session)?;
    let manifest = store.manifest(&row.session)?;
    let t = store.transcript(&row.session)?;
    if ctx.json {
        let mut v = serde_json::to_value(&manifest)?;
        v["segments"] = serde_json::to_value(&t.segments)?;
        v["gaps"] = serde_json::to_value(&t.gaps)?;
        v["legal_hold"] =
            serde_json::to_value(liveproof::retention::hold_of(&store, &row.session)?)?;
        return Ok(print_json(&v)?);
    }
    let m = &manifest;
    println!("session    {}", m.session);
    println!(
        "recording  {} ({} bytes, {})",
        m.recording_sha256, m.recording_size, m.original_name
    );
    println!(
        "audio      {} {} {} Hz {} ch, {}",
        m.audio.container,
        m.audio.codec,
        m.audio.sample_rate,
        m.audio.channels,
        clock(m.duration_ms)
    );
    println!("model      {} ({})", m.model, m.model_sha256);
    println!("language   {}", m.language);
    println!("ingested   {} by {}", m.ingested_at, m.software);
    if let Some(h) = liveproof::retention::hold_of(&store, &row.session)? {
        println!(
            "legal hold since {} by {}: {} (deletion refused until `liveproof release`)",
            h.at, h.by, h.reason
        );
    }
    if let Some(md) = &m.metadata {
        let f = |k: &str| liveproof::sidecar::field(md, k).unwrap_or("-");
        println!(
            "room       {}/{}/{}, started {}",
            f("platform"),
            f("room"),
            f("host"),
            f("started_at")
        );
    }
    println!(
        "tags       {}",
        if m.tags.is_empty() {
            "none".to_string()
        } else {
            m.tags.join(", ")
        }
    );
    let flags = m.claims.as_ref().map(|c| c.flags.as_slice()).unwrap_or(&[]);
    println!("claims     {} flag(s)", flags.len());
    for f in flags {
        println!(
            "           {}  #{:<4} {:<15} [{}]{}",
            clock(f.start_ms),
            f.segment,
            f.flag.category,
            f.flag.words.join(", "),
            if f.flag.review { " (review)" } else { "" }
        );
    }
    if !t.gaps.is_empty() {
        println!(
            "gaps       {} (speech there was not transcribed)",
            t.gaps.len()
        );
    }
    println!();
    print!("{}", transcript::export(&t, ExportFormat::Txt));
    Ok(())
}

/// `liveproof export`.
pub fn export(ctx: &Ctx, a: ExportArgs) -> Result<(), Failure> {
    let store = Store::open(&ctx.data)?;
    let row = store.resolve(&a.session)?;
    let t = store.transcript(&row.session)?;
    let text = transcript::export(&t, a.format);
    match a.output {
        Some(p) => liveproof::fsutil::write_atomic(&p, text.as_bytes())
            .with_context(|| format!("cannot write {}", p.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// `liveproof comments`.
pub fn comments(ctx: &Ctx, a: CommentsArgs) -> Result<(), Failure> {
    let store = Store::open(&ctx.data)?;
    let row = store.resolve(&a.session)?;
    let c = store.comments(&row.session)?.ok_or_else(|| {
        BadInput(format!(
            "session {} has no live comments (give them at ingest with --comments FILE)",
            row.session
        ))
    })?;
    let text = liveproof::comments::export(&c, a.format);
    match a.output {
        Some(p) => liveproof::fsutil::write_atomic(&p, text.as_bytes())
            .with_context(|| format!("cannot write {}", p.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}
