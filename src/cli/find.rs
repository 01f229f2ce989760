//! Commands that find things in the archive or in text: search, claims, report.

use std::io::Write;

use anyhow::Context;
use liveproof::media::clock;
use liveproof::search;
use liveproof::store::Store;

use super::args::{ClaimsCmd, ReportArgs};
use super::{print_json, Ctx, Failure};

/// `liveproof search`.
pub fn search(ctx: &Ctx, req: search::Request) -> Result<(), Failure> {
    req.paging
        .check(req.limit, req.offset)
        .map_err(search::SearchError::from)?;
    let store = Store::open(&ctx.data)?;
    // A killed ingest may have committed a session without indexing it: repair first (the
    // server does the same when it starts and after every job). With a shared catalog the
    // change sequence says what is new, deletions included, from any node: follow it instead
    // of looking up every session.
    let repaired = match ctx.config.platform() {
        Some(_) => search::follow(&store).map(|_| ()),
        None => search::catch_up(&store).map(|_| ()),
    };
    if let Err(e) = repaired {
        eprintln!("warning: some archived sessions may be missing from the results: {e}");
    }
    let mut results = search::search(&ctx.data, &req)?;
    let gap = liveproof::broadcasts::DEFAULT_GAP;
    liveproof::broadcasts::place_hits(&store, &mut results.hits, gap, &|_| true)?;
    let play = |h: &search::Hit| -> String {
        let blob = store
            .get(&h.session)
            .ok()
            .flatten()
            .map(|r| store.blob_path(&r.recording_sha256).display().to_string())
            .unwrap_or_default();
        format!(
            "ffplay -autoexit -ss {:.3} {}",
            h.start_ms as f64 / 1000.0,
            blob
        )
    };
    if ctx.json {
        let hits: Vec<serde_json::Value> = results
            .hits
            .iter()
            .map(|h| {
                let mut v = serde_json::to_value(h).unwrap_or_default();
                v["play"] = play(h).into();
                v
            })
            .collect();
        print_json(&serde_json::json!({"total": results.total, "hits": hits}))?;
        return Ok(());
    }
    let offset = req.offset as usize;
    let shown = results.hits.len();
    let range = if results.total > shown + offset {
        format!(", showing {}-{}", offset + 1, offset + shown)
    } else {
        String::new()
    };
    println!("{} matching segments{range}", results.total);
    let (on, off) = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    for h in &results.hits {
        let where_ = [&h.platform, &h.room, &h.host]
            .iter()
            .filter_map(|x| x.as_deref())
            .collect::<Vec<_>>()
            .join("/");
        let said = if h.source == "comments" {
            format!(
                "comment by {} at {}",
                h.user.as_deref().unwrap_or("?"),
                clock(h.start_ms)
            )
        } else {
            format!("{}-{}", clock(h.start_ms), clock(h.end_ms))
        };
        println!(
            "\n{} {said} {}\n  {}\n  play: {}",
            h.session,
            where_,
            h.passage.render(on, off, str::to_string),
            play(h)
        );
    }
    Ok(())
}

/// `liveproof claims check|eval`.
pub fn claims(ctx: &Ctx, cmd: ClaimsCmd) -> Result<(), Failure> {
    match cmd {
        ClaimsCmd::Check { file } => claims_check(ctx, &file),
        ClaimsCmd::Eval { file } => claims_eval(ctx, &file),
        ClaimsCmd::List(req) => claims_list(ctx, req),
        ClaimsCmd::Review {
            session,
            segment,
            category,
            confirm,
            dismiss: _,
            note,
        } => claims_review(ctx, &session, segment, &category, confirm, &note),
    }
}

fn claims_list(ctx: &Ctx, req: liveproof::desk::Request) -> Result<(), Failure> {
    let store = liveproof::store::Store::open(&ctx.data)?;
    let page = liveproof::desk::list(&store, &req, &|_| true).map_err(|e| match e {
        liveproof::listing::ListError::Paging(m) => Failure::new(2, anyhow::anyhow!(m)),
        other => Failure::from(anyhow::Error::from(other)),
    })?;
    if ctx.json {
        return Ok(print_json(&page)?);
    }
    if page.total == 0 {
        println!("no claims match");
        return Ok(());
    }
    for c in &page.claims {
        println!(
            "{}  {}  #{:<4} {:<15} {:<9} {}  [{}]",
            c.session,
            liveproof::media::clock(c.start_ms),
            c.segment,
            c.category,
            serde_json::to_value(c.review)?.as_str().unwrap_or(""),
            c.text,
            c.words.join(", ")
        );
    }
    if page.total > page.claims.len() {
        println!(
            "{} of {} shown (--offset {} for the next page)",
            page.claims.len(),
            page.total,
            req.offset + page.claims.len()
        );
    }
    Ok(())
}

fn claims_review(
    ctx: &Ctx,
    session: &str,
    segment: usize,
    category: &str,
    confirm: bool,
    note: &str,
) -> Result<(), Failure> {
    let store = liveproof::store::Store::open(&ctx.data)?;
    let row = store.resolve(session)?;
    let m = store.manifest(&row.session)?;
    let flagged = m
        .claims
        .iter()
        .flat_map(|c| c.flags.iter())
        .any(|f| f.segment == segment && f.flag.category == category);
    if !flagged {
        return Err(super::BadInput(format!(
            "session {} has no {category} flag at segment {segment}: `liveproof claims list` shows the flags",
            row.session
        ))
        .into());
    }
    let r = liveproof::custody::review_claim(
        &store,
        &row.session,
        segment,
        category,
        confirm,
        note,
        &liveproof::custody::local_user(),
    )?;
    if ctx.json {
        print_json(&r)?;
    } else {
        println!(
            "{} the {category} claim at segment {segment} of {} (log entry {})",
            r.decision, row.session, r.log_index
        );
    }
    Ok(())
}

fn claims_check(ctx: &Ctx, file: &str) -> Result<(), Failure> {
    let text = if file == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .context("cannot read standard input (is it UTF-8 text?)")?;
        s
    } else {
        std::fs::read_to_string(file).with_context(|| {
            format!("cannot read `{file}` (a UTF-8 text file, one sentence a line)")
        })?
    };
    let mut out = std::io::stdout().lock();
    for (i, line) in text.lines().enumerate() {
        let flags = liveproof::claims::flags(line);
        if ctx.json {
            let v = serde_json::json!({"line": i + 1, "text": line, "flags": flags});
            writeln!(out, "{}", serde_json::to_string(&v)?)?;
        } else if !flags.is_empty() {
            writeln!(out, "{}: {}", i + 1, line)?;
            for f in flags {
                let review = f
                    .review_reason
                    .as_deref()
                    .map(|r| format!(", REVIEW: {r}"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "    {} [{}] severity {}{review} — {}",
                    f.category,
                    f.words.join(", "),
                    f.severity,
                    f.article
                )?;
            }
        }
    }
    Ok(())
}

fn claims_eval(ctx: &Ctx, file: &std::path::Path) -> Result<(), Failure> {
    let tsv = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read `{}`", file.display()))?;
    let (n, scores) = liveproof::claims::evaluate(&tsv).map_err(anyhow::Error::msg)?;
    let version = liveproof::claims::version();
    let micro = liveproof::claims::micro(&scores);
    if ctx.json {
        print_json(&serde_json::json!({
            "sentences": n, "lexicon": version, "scores": scores, "micro": micro,
        }))?;
        return Ok(());
    }
    println!("{n} sentences, lexicon {version}");
    println!(
        "| category | positives | precision | recall | F1 |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for s in scores.into_iter().chain([micro]) {
        println!(
            "| {} | {} | {:.3} | {:.3} | {:.3} |",
            s.category, s.positives, s.precision, s.recall, s.f1
        );
    }
    Ok(())
}

/// `liveproof report`.
pub fn report(ctx: &Ctx, a: ReportArgs) -> Result<(), Failure> {
    let store = Store::open(&ctx.data)?;
    let row = store.resolve(&a.session)?;
    let m = store.manifest(&row.session)?;
    let t = store.transcript(&row.session)?;
    let gap = liveproof::broadcasts::DEFAULT_GAP;
    let located =
        liveproof::broadcasts::Locator::new(&store, gap, &|_| true).locate(&row.session)?;
    let r = match (&located, a.broadcast) {
        (Some((b, _)), true) => liveproof::broadcasts::report(&store, b, a.interval)?,
        _ => {
            let c = store.comments(&row.session)?.map(|c| c.comments);
            let mut r =
                liveproof::shills::session_report(&m, &t, c.as_deref().unwrap_or(&[]), a.interval);
            r.broadcast = located.as_ref().map(
                |(b, offset)| serde_json::json!({"broadcast": b.broadcast, "offset_ms": offset}),
            );
            r
        }
    };
    if ctx.json {
        return Ok(print_json(&r)?);
    }
    let none_if_empty = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    println!(
        "session       {} ({}, {})",
        r.session,
        m.original_name,
        clock(m.duration_ms)
    );
    if let Some(b) = &r.broadcast {
        match b["offset_ms"].as_u64() {
            Some(o) => println!(
                "broadcast     {} (this session starts at {} of it; `report --broadcast` covers it all)",
                b["broadcast"].as_str().unwrap_or(""),
                clock(o)
            ),
            None => println!(
                "broadcast     {}: {} sessions, {}",
                b["broadcast"].as_str().unwrap_or(""),
                b["sessions"].as_array().map_or(0, |s| s.len()),
                clock(b["duration_ms"].as_u64().unwrap_or(0))
            ),
        }
    }
    println!("digital host  {}", r.digital_host);
    println!("disclosure    {}", r.disclosure);
    println!("findings      {}", none_if_empty(&r.findings));
    println!("\nsignals:");
    if r.signals.is_empty() {
        println!("  none");
    }
    for sig in &r.signals {
        println!("  {} (weight {}): {}", sig.kind, sig.weight, sig.sentence());
    }
    println!("\nrisky claims:");
    let flags = m.claims.as_ref().map(|c| c.flags.as_slice()).unwrap_or(&[]);
    if flags.is_empty() {
        println!("  none");
    }
    for f in flags {
        println!(
            "  {}  {:<15} [{}] severity {}{}",
            clock(f.start_ms),
            f.flag.category,
            f.flag.words.join(", "),
            f.flag.severity,
            if f.flag.review { " (review)" } else { "" }
        );
    }
    if !r.comment_signals.is_empty() {
        println!("\nlive-comment signals (none decisive alone):");
        for sig in &r.comment_signals {
            println!("  {}: {}", sig.kind, comment_sentence(sig));
        }
    }
    println!("\nnot checked yet: {}", r.not_checked.join("; "));
    Ok(())
}

/// A live-comment signal in one sentence: what was posted, how often, by how many, when.
fn comment_sentence(sig: &liveproof::disclosure::Signal) -> String {
    let e = &sig.evidence;
    let list = |k: &str| e[k].as_array().cloned().unwrap_or_default();
    match sig.kind.as_str() {
        "duplicate_comments" => list("clusters")
            .iter()
            .map(|c| {
                format!(
                    "{:?} posted {} times by {} account(s), {} – {}",
                    c["text"].as_str().unwrap_or(""),
                    c["copies"],
                    c["accounts"].as_array().map_or(0, |a| a.len()),
                    clock(c["first_ms"].as_u64().unwrap_or(0)),
                    clock(c["last_ms"].as_u64().unwrap_or(0))
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        "claim_echo_burst" => list("bursts")
            .iter()
            .map(|b| {
                format!(
                    "the {} claim at {} echoed by {} account(s) within a minute",
                    b["claim"]["category"].as_str().unwrap_or(""),
                    clock(b["claim"]["start_ms"].as_u64().unwrap_or(0)),
                    b["accounts"].as_array().map_or(0, |a| a.len())
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        "praise_burst_accounts" => format!(
            "{} account(s) posting nothing but praise in a burst: {}",
            list("accounts").len(),
            list("accounts")
                .iter()
                .filter_map(|a| a["user"].as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => e.to_string(),
    }
}
