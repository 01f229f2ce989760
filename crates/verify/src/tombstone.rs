//! Tombstones (docs/evidence-format.md §12, `liveproof/tombstone/v1`): what is left of a
//! deleted session. The recording, transcript and derived files are gone; the log keeps the
//! session's manifest entry and a `deleted` custody event, so the log stays consistent and the
//! deletion itself is evidence. A tombstone document proves both entries under one signed
//! tree head: that the session was archived, and that it was deleted — when, by whom, why.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bundle::{CustodyEntry, CustodyEvent, CUSTODY_FORMAT};
use crate::log::{verify_inclusion, Inclusion};
use crate::merkle;
use crate::seal::{self, TreeHead};
use crate::verify::{check_signer, finish, Checks, Options, Verdict};

/// Format tag of tombstone documents.
pub const TOMBSTONE_FORMAT: &str = "liveproof/tombstone/v1";

/// The custody event name of a deletion.
pub const DELETED_EVENT: &str = "deleted";

/// Largest tombstone document read (a few KB in practice: two audit paths).
const MAX_BYTES: u64 = 1 << 20;

/// A tombstone document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tombstone {
    /// Always [`TOMBSTONE_FORMAT`].
    pub format: String,
    /// The deleted session.
    pub session: String,
    /// SHA-256 of the deleted original.
    pub recording_sha256: String,
    /// SHA-256 of the session's manifest (its log entry's hash).
    pub manifest_sha256: String,
    /// Why it was deleted, as the deleting user wrote it.
    pub reason: String,
    /// The session's manifest entry, proven under `tree_head`.
    pub archived: Inclusion,
    /// The `deleted` custody event (exact JSON text), its index and audit path.
    pub deletion: CustodyEntry,
}

/// The `detail` a deletion's custody event carries: the reason and what was removed, so the
/// event alone says what the tombstone says.
pub fn deletion_detail(reason: &str, recording_sha256: &str, manifest_sha256: &str) -> String {
    format!(
        "deleted the original recording {recording_sha256}, its transcript and derived files (manifest {manifest_sha256}): {reason}"
    )
}

/// Whether `path` holds a tombstone document rather than a zip bundle (JSON starts with `{`).
pub fn is_tombstone(path: &Path) -> bool {
    use std::io::Read;
    let mut first = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut first))
        .unwrap_or(0);
    first[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// Verifies a tombstone document: the tree head's signer is trusted, the manifest entry and
/// the deletion event are both in the log under that head, and the event says what the
/// document says.
pub fn verify_tombstone(path: &Path, shown: &str, opts: &Options) -> Verdict {
    let mut c = Checks(Vec::new());
    let not_proven = vec![
        "what the recording said: it was deleted, and only its hashes remain".to_string(),
        "that the reason given is true: it is what the deleting user wrote".to_string(),
        "the time, beyond the archive's own clock".to_string(),
    ];
    let t = match read(path, shown) {
        Ok(t) => t,
        Err(e) => {
            c.add("tombstone.read", false, e);
            return finish(c, vec![], not_proven, None);
        }
    };
    c.add(
        "tombstone.read",
        true,
        format!("{shown} is a tombstone document"),
    );
    let head = &t.archived.tree_head;
    let Some(key) = seal::hex32(&head.public_key) else {
        c.add(
            "tombstone.head",
            false,
            "the tree head's key is not an Ed25519 key in hex",
        );
        return finish(c, vec![], not_proven, None);
    };
    let signer = check_signer(&mut c, &key, &opts.trust);
    c.add(
        "tombstone.head",
        head.check(),
        if head.check() {
            format!(
                "the log's head of {} entries is signed by that key",
                head.size
            )
        } else {
            "the tree head's signature does not verify".to_string()
        },
    );
    let archived_ok = t.archived.session == t.session
        && t.archived.manifest_sha256 == t.manifest_sha256
        && verify_inclusion(&t.archived).is_ok();
    c.add(
        "tombstone.archived",
        archived_ok,
        if archived_ok {
            format!(
                "session {} (manifest {}) is entry {} of the log",
                t.session, t.manifest_sha256, t.archived.index
            )
        } else {
            "the session's manifest entry is not in the log as the tombstone says".to_string()
        },
    );
    let event = check_deletion(&mut c, &t, head);
    let mut v = finish(
        c,
        event
            .iter()
            .map(|e| {
                format!(
                    "session {} (recording {}) was archived at log entry {} and deleted at entry {} by {} at {}: \"{}\"",
                    t.session, t.recording_sha256, t.archived.index, t.deletion.index, e.by, e.at, t.reason
                )
            })
            .chain(std::iter::once(
                "the archive's log still holds both entries, so its heads stay consistent".to_string(),
            ))
            .collect(),
        not_proven,
        Some(signer),
    );
    v.session = Some(t.session.clone());
    v.custody = event.into_iter().collect();
    v
}

fn read(path: &Path, shown: &str) -> Result<Tombstone, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(format!(
            "{shown} is larger than a tombstone can be ({MAX_BYTES} bytes)"
        ));
    }
    let t: Tombstone = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{shown} is not a tombstone document: {e}"))?;
    if t.format != TOMBSTONE_FORMAT {
        return Err(format!(
            "{shown} is in format {:?}, not {TOMBSTONE_FORMAT}",
            t.format
        ));
    }
    Ok(t)
}

/// `tombstone.deletion`: the event is a deletion of this session, with this reason and these
/// hashes, and it is in the log under the same head, after the manifest.
fn check_deletion(c: &mut Checks, t: &Tombstone, head: &TreeHead) -> Option<CustodyEvent> {
    let fail = |c: &mut Checks, why: String| {
        c.add("tombstone.deletion", false, why);
        None
    };
    let ev: CustodyEvent = match serde_json::from_str(&t.deletion.event) {
        Ok(e) => e,
        Err(e) => return fail(c, format!("the deletion entry is not a custody event: {e}")),
    };
    if ev.format != CUSTODY_FORMAT
        || ev.event != DELETED_EVENT
        || ev.session != t.session
        || ev.detail != deletion_detail(&t.reason, &t.recording_sha256, &t.manifest_sha256)
    {
        return fail(
            c,
            "the logged event is not the deletion of this session with this reason and these hashes".into(),
        );
    }
    let (Some(root), Some(proof)) = (
        seal::hex32(&head.root),
        t.deletion
            .proof
            .iter()
            .map(|p| seal::hex32(p))
            .collect::<Option<Vec<_>>>(),
    ) else {
        return fail(
            c,
            "a hash in the deletion's proof is not 64 hex digits".into(),
        );
    };
    let leaf = merkle::leaf_hash(&seal::custody_entry(
        &ev.session,
        &seal::sha256(t.deletion.event.as_bytes()),
    ));
    if t.deletion.index <= t.archived.index
        || !merkle::verify_inclusion(
            &leaf,
            t.deletion.index as usize,
            head.size as usize,
            &proof,
            &root,
        )
    {
        return fail(
            c,
            format!(
                "the deletion is not entry {} of the log after the manifest: it was changed or made up",
                t.deletion.index
            ),
        );
    }
    c.add(
        "tombstone.deletion",
        true,
        format!(
            "entry {} of the log: deleted by {} at {}",
            t.deletion.index, ev.by, ev.at
        ),
    );
    Some(ev)
}
