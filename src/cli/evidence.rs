//! Evidence commands: export a bundle, verify one.

use std::path::Path;

use anyhow::Context;
use liveproof::evidence::trust::{parse_key, Trust};
use liveproof::evidence::verify::{Status, Verdict};
use liveproof::media::clock;
use liveproof::seal::keys;
use liveproof::store::Store;

use super::args::{EvidenceArgs, VerifyArgs};
use super::{print_json, BadInput, Ctx, Failure};

/// `liveproof evidence`.
pub fn export(ctx: &Ctx, a: EvidenceArgs) -> Result<(), Failure> {
    let store = Store::open(&ctx.data)?;
    if a.broadcast {
        return export_span(ctx, &store, a);
    }
    let req = liveproof::evidence::Request {
        session: &a.session,
        from_ms: liveproof::evidence::parse_time(&a.from)?,
        to_ms: liveproof::evidence::parse_time(&a.to)?,
        output: &a.output,
        with_recording: a.with_recording,
        now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        by: liveproof::custody::local_user(),
        tsa: ctx.config.tsa(),
    };
    let created = liveproof::evidence::create(&store, &req)?;
    let st = &created.statement;
    if let Some(w) = &created.timestamp_warning {
        eprintln!("warning: {w}");
    }
    if ctx.json {
        print_json(
            &serde_json::json!({"bundle": a.output, "statement": st, "timestamp_warning": created.timestamp_warning}),
        )?;
    } else {
        let key = keys::public_hex(&keys::load_or_create(&ctx.data)?);
        println!(
            "wrote {}: session {}, segments {}–{}, {} – {}\nverify with: liveproof verify {} --key {key}",
            a.output.display(),
            st.session,
            st.first_index,
            st.last_index,
            clock(st.from_ms),
            clock(st.to_ms),
            a.output.display(),
        );
    }
    Ok(())
}

/// `liveproof evidence --broadcast`: a bundle over a range of the broadcast's timeline.
fn export_span(ctx: &Ctx, store: &Store, a: EvidenceArgs) -> Result<(), Failure> {
    let req = liveproof::evidence::span::SpanRequest {
        id: &a.session,
        from_ms: liveproof::evidence::parse_time(&a.from)?,
        to_ms: liveproof::evidence::parse_time(&a.to)?,
        output: &a.output,
        with_recording: a.with_recording,
        now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        by: liveproof::custody::local_user(),
        tsa: ctx.config.tsa(),
        gap: std::time::Duration::from_secs(a.gap_minutes.saturating_mul(60)),
        visible: &|_| true,
    };
    let made = liveproof::evidence::span::create_span(store, &req)?;
    for w in &made.timestamp_warnings {
        eprintln!("warning: {w}");
    }
    let st = &made.statement;
    if ctx.json {
        print_json(&serde_json::json!({
            "bundle": a.output, "span": st, "parts": made.parts,
            "timestamp_warnings": made.timestamp_warnings,
        }))?;
    } else {
        let key = keys::public_hex(&keys::load_or_create(&ctx.data)?);
        println!(
            "wrote {}: broadcast {}, {} – {}, {} segment(s):",
            a.output.display(),
            st.broadcast,
            clock(st.from_ms),
            clock(st.to_ms),
            st.parts.len()
        );
        for (p, s) in st.parts.iter().zip(&made.parts) {
            println!(
                "  {}: session {}, segments {}–{}, {} – {} (broadcast time {} – {})",
                p.file,
                p.session,
                s.first_index,
                s.last_index,
                clock(p.from_ms),
                clock(p.to_ms),
                clock(p.offset_ms + p.from_ms),
                clock(p.offset_ms + p.to_ms)
            );
        }
        println!(
            "verify with: liveproof verify {} --key {key}",
            a.output.display()
        );
    }
    Ok(())
}

/// `liveproof verify`: exit 0 verified, 5 a check failed, 6 intact under an untrusted key.
pub fn verify(ctx: &Ctx, a: VerifyArgs) -> Result<(), Failure> {
    let bundle = &a.bundle;
    if !bundle.is_file() {
        let why = if bundle.exists() {
            "is not a regular file"
        } else {
            "does not exist (no such file)"
        };
        return Err(BadInput(format!("bundle `{}` {why}", bundle.display())).into());
    }
    let trust = trusted_keys(&ctx.data, &a.key, a.trust.as_deref())?;
    let mut v = liveproof::evidence::verify::verify(
        bundle,
        &liveproof::evidence::verify::Options {
            recording: a.recording.as_deref(),
            trust,
            witnesses: witness_keys(&a.witness)?,
            tsa_cert: a.tsa_cert.as_deref(),
            limits: Default::default(),
        },
    );
    // The clip against the original: only once the original is known to be the one.
    if let Some(r) = &a.recording {
        if v.checks.iter().any(|c| c.name == "recording.given" && c.ok) {
            if let Some(c) = liveproof::evidence::clipcheck::check(bundle, r) {
                v.add_check(c);
            }
        }
    }
    if ctx.json {
        print_json(&v)?;
    } else {
        print_verdict(&v);
    }
    if v.status == Status::UnknownSigner {
        let sg = v.signer.as_ref().expect("an unknown signer has a key");
        return Err(Failure::new(6, anyhow::anyhow!(
            "{} is intact but signed by key {} (fingerprint {}), which you did not say to trust: pass --key with the archive's published key, or --trust FILE",
            bundle.display(),
            sg.public_key,
            sg.fingerprint
        )));
    }
    if !v.ok {
        let first = v
            .checks
            .iter()
            .find(|c| !c.ok)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .unwrap_or_else(|| "no checks could be made".into());
        return Err(Failure::new(
            5,
            anyhow::anyhow!("{} did not verify: {first}", bundle.display()),
        ));
    }
    Ok(())
}

fn print_verdict(v: &Verdict) {
    for c in &v.checks {
        let mark = if c.ok { "PASS" } else { "FAIL" };
        println!("{mark} {:<22} {}", c.name, c.detail);
    }
    println!();
    if let Some(sg) = &v.signer {
        println!(
            "Signed by: {} (fingerprint {}, key {})",
            sg.name.as_deref().unwrap_or("an UNKNOWN key"),
            sg.fingerprint,
            sg.public_key
        );
    }
    if !v.witnessed_by.is_empty() {
        println!("Witnessed by: {}", v.witnessed_by.join(", "));
    }
    if let Some(sp) = &v.span {
        println!(
            "Broadcast {}, {} – {}, in {} part(s):",
            sp.broadcast,
            clock(sp.from_ms),
            clock(sp.to_ms),
            sp.parts.len()
        );
        for p in &sp.parts {
            println!(
                "  {} session {}: {} – {} (broadcast time {} – {})",
                if p.ok { "PASS" } else { "FAIL" },
                p.session,
                clock(p.from_ms),
                clock(p.to_ms),
                clock(p.offset_ms + p.from_ms),
                clock(p.offset_ms + p.to_ms)
            );
        }
    }
    if v.status == Status::UnknownSigner {
        println!("NOT VERIFIED: intact, but signed by a key you did not say to trust. Anyone can make such a bundle; compare the fingerprint with the one the archive publishes and pass --key or --trust.");
    } else if v.ok {
        println!("VERIFIED. This bundle proves:");
        for p in &v.proven {
            println!("  - {p}");
        }
    } else {
        println!("NOT VERIFIED: see the failed checks above. Nothing in this bundle should be relied on.");
    }
    println!("It does not prove:");
    for p in &v.not_proven {
        println!("  - {p}");
    }
}

/// The keys `verify` trusts: those given, else this machine's own archive key (never created
/// here: a verifier without an archive trusts nothing by default).
fn trusted_keys(data: &Path, given: &[String], file: Option<&Path>) -> Result<Trust, Failure> {
    let mut trust = Trust::default();
    for k in given {
        let pk = parse_key(k).map_err(|e| BadInput(format!("--key: {e}")))?;
        let name = format!("the key you gave ({})", keys::fingerprint(&pk));
        trust.add(name, pk);
    }
    if let Some(f) = file {
        trust
            .add_file(f)
            .map_err(|e| BadInput(format!("--trust: {e}")))?;
    }
    if given.is_empty() && file.is_none() {
        if let Some(pk) = keys::load_public(data)? {
            trust.add(format!("this archive ({})", data.display()), pk);
        }
    }
    Ok(trust)
}

/// Witness verifier keys from `--witness` values (a vkey, or a file of them).
fn witness_keys(args: &[String]) -> Result<Vec<(String, [u8; 32])>, Failure> {
    use liveproof_verify::note::{parse_vkey, TYPE_COSIGNATURE};
    let mut out = Vec::new();
    for a in args {
        let text = if Path::new(a).is_file() {
            std::fs::read_to_string(a).with_context(|| format!("--witness {a}"))?
        } else {
            a.clone()
        };
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            out.push(parse_vkey(line, TYPE_COSIGNATURE).ok_or_else(|| {
                BadInput(format!("--witness: {line:?} is not a witness verifier key (NAME+KEYID+BASE64, as `liveproof witness key` prints it)"))
            })?);
        }
    }
    Ok(out)
}
