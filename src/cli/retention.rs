//! `delete`, `hold`, `release` and `tombstone`.

use liveproof::retention;
use liveproof::store::Store;

use super::args::{RetentionArgs, TombstoneArgs};
use super::{print_json, Ctx, Failure};

/// `liveproof delete`.
pub fn delete(ctx: &Ctx, a: RetentionArgs) -> Result<(), Failure> {
    let store = Store::open(&ctx.data)?;
    let by = liveproof::custody::local_user();
    let d = retention::delete(&store, &a.session, &a.reason, &by)?;
    if ctx.json {
        return Ok(print_json(&d)?);
    }
    println!(
        "deleted session {} (log entry {}); {}",
        d.session,
        d.log_index,
        if d.original_removed {
            "the original, transcript and derived files are gone"
        } else {
            "the transcript is gone; the original stays, another session has the same bytes"
        }
    );
    println!(
        "its tombstone: liveproof tombstone {} -o {}.tombstone.json",
        d.session, d.session
    );
    Ok(())
}

/// `liveproof hold` (`on`) and `liveproof release`.
pub fn hold(ctx: &Ctx, a: RetentionArgs, on: bool) -> Result<(), Failure> {
    let store = Store::open(&ctx.data)?;
    let by = liveproof::custody::local_user();
    let h = if on {
        retention::hold(&store, &a.session, &a.reason, &by)?
    } else {
        retention::release(&store, &a.session, &a.reason, &by)?
    };
    if ctx.json {
        return Ok(print_json(&h)?);
    }
    println!(
        "{} session {} (log entry {}): {}",
        if on {
            "legal hold placed on"
        } else {
            "legal hold released from"
        },
        h.session,
        h.log_index,
        h.reason
    );
    Ok(())
}

/// `liveproof tombstone`.
pub fn tombstone(ctx: &Ctx, a: TombstoneArgs) -> Result<(), Failure> {
    let store = Store::open(&ctx.data)?;
    let t = retention::tombstone(&store, &a.session)?.ok_or_else(|| {
        super::BadInput(format!(
            "session {} was not deleted in this archive (give its full id)",
            a.session
        ))
    })?;
    let text = serde_json::to_string_pretty(&t)? + "\n";
    match a.output {
        Some(p) => {
            std::fs::write(&p, &text)?;
            if !ctx.json {
                eprintln!(
                    "wrote {}; check it with: liveproof verify {} --key <the archive's key>",
                    p.display(),
                    p.display()
                );
            } else {
                print_json(&t)?;
            }
        }
        None => print!("{text}"),
    }
    Ok(())
}
