//! Commands about who may do what and what the archive has signed: tokens, the archive key,
//! the log, witnesses.

use liveproof::seal::keys;
use liveproof::store::Store;
use liveproof::witness::{Source, Witness, WitnessError};

use super::args::{KeyCmd, LogCmd, TokenCmd, WitnessCmd};
use super::{print_json, BadInput, Ctx, Failure};

/// `liveproof token create|list|revoke`.
pub fn token(ctx: &Ctx, cmd: TokenCmd) -> Result<(), Failure> {
    let store = Store::open(&ctx.data)?;
    match cmd {
        TokenCmd::Create {
            role,
            platform,
            expires,
        } => {
            let now = chrono::Utc::now();
            let expires_unix = expires
                .as_deref()
                .map(|e| expiry(now.timestamp(), e))
                .transpose()?;
            let created = liveproof::access::create(
                &store,
                role,
                platform.as_deref(),
                &now.to_rfc3339(),
                expires_unix,
            )
            .map_err(BadInput)?;
            if ctx.json {
                print_json(&serde_json::json!({
                    "token": created.token, "id": created.id, "role": role,
                    "platform": platform, "expires_at": created.expires_at,
                }))?;
            } else {
                let until = created
                    .expires_at
                    .map(|e| format!("expires {e}"))
                    .unwrap_or_else(|| "valid until revoked".into());
                println!(
                    "{}\n(id {}; shown once: only its hash is stored; {until})",
                    created.token, created.id
                );
            }
        }
        TokenCmd::List => {
            let tokens = liveproof::access::list(&store, chrono::Utc::now().timestamp())?;
            if ctx.json {
                print_json(&serde_json::json!({ "tokens": tokens }))?;
            } else if tokens.is_empty() {
                println!("no tokens (create one with `liveproof token create --role ROLE`)");
            } else {
                println!(
                    "{:>4}  {:<9} {:<12} {:<26} {:<21} status",
                    "id", "role", "platform", "created", "expires"
                );
                for t in tokens {
                    println!(
                        "{:>4}  {:<9} {:<12} {:<26} {:<21} {}",
                        t.id,
                        serde_json::to_value(t.role)?.as_str().unwrap_or(""),
                        t.platform.as_deref().unwrap_or("-"),
                        t.created_at.chars().take(25).collect::<String>(),
                        t.expires_at.as_deref().unwrap_or("never"),
                        t.status
                    );
                }
            }
        }
        TokenCmd::Revoke { token } => {
            let now = chrono::Utc::now().to_rfc3339();
            let Some(id) = liveproof::access::revoke(&store, &token, &now)? else {
                return Err(BadInput(format!(
                    "no token {token:?}: give an id from `liveproof token list` or the token itself"
                ))
                .into());
            };
            if ctx.json {
                print_json(&serde_json::json!({"revoked": id}))?;
            } else {
                println!("revoked token {id}: it gets 401 from now on");
            }
        }
    }
    Ok(())
}

/// `--expires` as a Unix time `now` + the duration.
fn expiry(now: i64, e: &str) -> Result<i64, BadInput> {
    liveproof::access::expiry(now, e).map_err(|m| BadInput(format!("--expires {m}")))
}

/// `liveproof key show|rotate|revoke|trust-file`.
pub fn key(ctx: &Ctx, cmd: KeyCmd) -> Result<(), Failure> {
    let by = liveproof::custody::local_user();
    match cmd {
        KeyCmd::Show => {
            let pk = keys::load_or_create(&ctx.data)?.verifying_key().to_bytes();
            let fp = keys::fingerprint(&pk);
            if ctx.json {
                print_json(
                    &serde_json::json!({"algorithm": "ed25519", "public_key": hex::encode(pk), "fingerprint": fp}),
                )?;
            } else {
                println!("ed25519:{}\nfingerprint {fp}", hex::encode(pk));
            }
        }
        KeyCmd::Rotate => {
            let store = Store::open(&ctx.data)?;
            let (old, new) = liveproof::custody::rotate_key(&store, &by)?;
            let fp = keys::fingerprint;
            if ctx.json {
                print_json(
                    &serde_json::json!({"old_key": hex::encode(old), "new_key": hex::encode(new), "fingerprint": fp(&new)}),
                )?;
            } else {
                println!(
                    "rotated: the archive key is now ed25519:{} (fingerprint {}); the old one ({}) signed its last tree head. Publish the new key.",
                    hex::encode(new),
                    fp(&new),
                    fp(&old)
                );
            }
        }
        KeyCmd::Revoke { key, reason } => {
            let store = Store::open(&ctx.data)?;
            let pk =
                liveproof::evidence::trust::parse_key(&key).map_err(|e| BadInput(e.to_string()))?;
            let e = liveproof::custody::revoke_key(&store, &pk, &reason, &by).map_err(BadInput)?;
            if ctx.json {
                print_json(&e)?;
            } else {
                println!("{}: {}", e.at, e.detail);
            }
        }
        KeyCmd::TrustFile { name } => {
            let store = Store::open(&ctx.data)?;
            let file = liveproof::custody::trust_file(&store, &name).map_err(anyhow::Error::msg)?;
            print!("{file}");
        }
    }
    Ok(())
}

/// `liveproof log head|prove|consistency|checkpoint|timestamp`.
pub fn log(ctx: &Ctx, cmd: LogCmd) -> Result<(), Failure> {
    use liveproof::seal::log;
    let store = Store::open(&ctx.data)?;
    let value = match cmd {
        LogCmd::Head => {
            let h = store
                .log()
                .head()?
                .ok_or_else(|| anyhow::anyhow!("the log is empty: ingest a recording first"))?;
            if !ctx.json {
                let key = liveproof::seal::hex32(&h.public_key).unwrap_or([0; 32]);
                println!(
                    "log size   {} entries\nroot       {}\nsigned at  {} (the archive's clock)\nkey        {} (fingerprint {})\n\n--json prints the signed tree head; `liveproof log checkpoint` the C2SP note witnesses cosign",
                    h.size,
                    h.root,
                    h.timestamp,
                    h.public_key,
                    keys::fingerprint(&key)
                );
                return Ok(());
            }
            serde_json::to_value(h)?
        }
        LogCmd::Prove { session } => {
            let row = store.resolve(&session)?;
            let inc = store
                .log()
                .prove(&row.session)?
                .ok_or_else(|| anyhow::anyhow!("session {} has no log entry", row.session))?;
            log::verify_inclusion(&inc).map_err(anyhow::Error::msg)?;
            serde_json::to_value(inc)?
        }
        LogCmd::Consistency { old, new } => {
            let c = store
                .log()
                .consistency(old, new)?
                .ok_or_else(|| anyhow::anyhow!("no tree heads of sizes {old} and {new} (OLD must be ≤ NEW ≤ the log size, both ≥ 1)"))?;
            log::verify_consistency(&c).map_err(anyhow::Error::msg)?;
            serde_json::to_value(c)?
        }
        LogCmd::Checkpoint { size } => return checkpoint(ctx, &store, size),
        LogCmd::Timestamp => return timestamp(ctx, &store),
    };
    if ctx.json {
        print_json(&value)?;
    } else {
        println!("{}", serde_json::to_string_pretty(&value)?);
    }
    Ok(())
}

fn checkpoint(ctx: &Ctx, store: &Store, size: Option<u64>) -> Result<(), Failure> {
    let key = keys::load_or_create(&ctx.data)?;
    let note = store.log().checkpoint(&key, size)?.ok_or_else(|| {
        anyhow::anyhow!(
            "no tree head{}: ingest a recording first",
            size.map(|s| format!(" of size {s}")).unwrap_or_default()
        )
    })?;
    if ctx.json {
        print_json(&serde_json::json!({"checkpoint": note.text()}))?;
    } else {
        print!("{}", note.text());
    }
    Ok(())
}

/// `log timestamp`: exit 1 while anything is still pending.
fn timestamp(ctx: &Ctx, store: &Store) -> Result<(), Failure> {
    let Some(tsa) = ctx.config.tsa() else {
        return Err(Failure::new(2, anyhow::anyhow!("no time-stamping authority is configured: set --tsa-url or LIVEPROOF_TSA_URL (one or more URLs) and --tsa-ca or LIVEPROOF_TSA_CERT (the PEM that vouches for them)")));
    };
    let r = store
        .catch_up_timestamps(&tsa)
        .map_err(anyhow::Error::msg)?;
    if ctx.json {
        print_json(&r)?;
    } else {
        match &r.tree_head {
            Some((size, t)) => println!("tree head of size {size}: timestamped {t}"),
            None => println!("tree head: no token"),
        }
        println!("recordings timestamped now: {}", r.recordings_timestamped);
        println!("still pending: {}", r.pending);
        for e in &r.errors {
            println!("  {e}");
        }
    }
    if r.pending > 0 {
        return Err(anyhow::anyhow!(
            "{} timestamp(s) still pending; run `liveproof log timestamp` again when the TSA answers",
            r.pending
        )
        .into());
    }
    Ok(())
}

/// `liveproof witness key|cosign`: exit 5 when a cosignature is refused.
pub fn witness(ctx: &Ctx, cmd: WitnessCmd) -> Result<(), Failure> {
    let refused = |e: WitnessError| {
        let code = if matches!(e, WitnessError::Refused(_)) {
            5
        } else {
            1
        };
        Failure::new(code, e)
    };
    match cmd {
        WitnessCmd::Key { state, name } => {
            let w = Witness::open(&state, name.as_deref()).map_err(refused)?;
            if ctx.json {
                print_json(&serde_json::json!({"vkey": w.vkey()}))?;
            } else {
                println!("{}", w.vkey());
            }
        }
        WitnessCmd::Cosign {
            state,
            log_key,
            url,
            archive,
        } => {
            let w = Witness::open(&state, None).map_err(refused)?;
            let key = liveproof::evidence::trust::parse_key(&log_key)
                .map_err(|e| BadInput(format!("--log-key: {e}")))?;
            let store;
            let source = match (url, archive) {
                (Some(u), _) => Source::Http(u.trim_end_matches('/').to_string()),
                (None, Some(dir)) => {
                    store = Store::open(&dir)?;
                    Source::Local(&store)
                }
                (None, None) => unreachable!("clap requires one"),
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let c = w.cosign(&source, &key, now).map_err(refused)?;
            if ctx.json {
                print_json(&c)?;
            } else {
                let before = c
                    .previous_size
                    .map(|p| format!(", consistent with size {p} cosigned before"))
                    .unwrap_or_default();
                println!(
                    "cosigned {} at size {} (root {}){before}",
                    c.origin, c.size, c.root
                );
            }
        }
    }
    Ok(())
}
