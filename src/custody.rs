//! Chain of custody: who ingested, exported or verified a session, and the archive's key
//! changes, each an entry of the append-only log (so the signed tree heads cover them and a
//! bundle can prove its session's chain).
//!
//! Invariant: an event is logged in its own write transaction, before the act it records is
//! handed out (an export is logged before the bundle is built, so the bundle carries it).

use crate::args;
use crate::catalog::{self, Catalog};

pub use liveproof_verify::bundle::{CustodyEvent, CUSTODY_FORMAT};

use crate::seal;
use crate::store::{Store, StoreError};

pub use crate::config::local_user;

/// Who is acting through the server: `token:ID (ROLE)`.
pub fn token_user(who: &crate::access::Access) -> String {
    format!("token:{} ({})", who.token_id, who.role.as_str())
}

/// The current time as custody events record it.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A custody event about `session` (empty: the archive itself).
pub fn event(kind: &str, session: &str, by: &str, detail: impl Into<String>) -> CustodyEvent {
    CustodyEvent {
        format: CUSTODY_FORMAT.into(),
        event: kind.into(),
        session: session.into(),
        at: now(),
        by: by.into(),
        detail: detail.into(),
        key: None,
        new_key: None,
    }
}

/// Appends `e` to the log under the archive key, in its own transaction; returns its index.
pub fn record(store: &Store, e: &CustodyEvent) -> Result<u64, StoreError> {
    let key = seal::keys::load_or_create(store.root()).map_err(|k| StoreError::Damaged {
        path: seal::keys::secret_path(store.root()),
        detail: k.to_string(),
    })?;
    record_with(store, &key, e)
}

/// As [`record`], signing the new head with `key` (a key rotation's last act of the old key).
pub fn record_with(
    store: &Store,
    key: &ed25519_dalek::SigningKey,
    e: &CustodyEvent,
) -> Result<u64, StoreError> {
    store
        .db()
        .write(|tx| seal::log::append_custody(tx, key, e, &e.at))
        .map(|(idx, _)| idx)
        .map_err(|e| store.catalog_error(e))
}

/// The catalog table of claim review decisions (each also a custody event in the log).
pub(crate) fn init(conn: &Catalog) -> catalog::Result<()> {
    conn.ddl(
        "CREATE TABLE IF NOT EXISTS claim_reviews (
            session TEXT NOT NULL,
            segment INTEGER NOT NULL,
            category TEXT NOT NULL,
            decision TEXT NOT NULL,
            note TEXT NOT NULL,
            by TEXT NOT NULL,
            at TEXT NOT NULL,
            log_index INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS claim_reviews_session ON claim_reviews(session);",
    )
}

/// A reviewer's decision on one claim flag.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClaimReview {
    /// Segment index in the session's transcript.
    pub segment: usize,
    /// Claim category.
    pub category: String,
    /// `confirmed` or `dismissed`.
    pub decision: String,
    /// The reviewer's note.
    pub note: String,
    /// Who decided.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// The custody event's index in the log.
    pub log_index: u64,
}

/// Records a decision on a claim flag: a custody event in the log (so bundles of the session
/// carry it), then the catalog row the claims desk reads. The latest decision counts.
pub fn review_claim(
    store: &Store,
    session: &str,
    segment: usize,
    category: &str,
    confirmed: bool,
    note: &str,
    by: &str,
) -> Result<ClaimReview, StoreError> {
    let decision = if confirmed { "confirmed" } else { "dismissed" };
    let e = event(
        "claim_review",
        session,
        by,
        format!("{decision} the {category} claim at segment {segment}: {note}"),
    );
    let log_index = record(store, &e)?;
    let r = ClaimReview {
        segment,
        category: category.into(),
        decision: decision.into(),
        note: note.into(),
        by: by.into(),
        at: e.at.clone(),
        log_index,
    };
    store
        .db()
        .execute(
            "INSERT INTO claim_reviews VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            args![
                session,
                segment as i64,
                r.category,
                r.decision,
                r.note,
                r.by,
                r.at,
                log_index as i64
            ],
        )
        .map_err(|e| store.catalog_error(e))?;
    Ok(r)
}

/// The latest decision on each (segment, category) of a session.
pub fn claim_reviews(
    store: &Store,
    session: &str,
) -> Result<std::collections::HashMap<(usize, String), ClaimReview>, StoreError> {
    let cat = |e| store.catalog_error(e);
    let rows = store
        .db()
        .query_map(
            "SELECT segment, category, decision, note, by, at, log_index FROM claim_reviews
             WHERE session = ?1 ORDER BY log_index",
            args![session],
            |r| {
                Ok(ClaimReview {
                    segment: r.get::<i64>(0)? as usize,
                    category: r.get(1)?,
                    decision: r.get(2)?,
                    note: r.get(3)?,
                    by: r.get(4)?,
                    at: r.get(5)?,
                    log_index: r.get::<i64>(6)? as u64,
                })
            },
        )
        .map_err(cat)?;
    let mut out = std::collections::HashMap::new();
    for r in rows {
        out.insert((r.segment, r.category.clone()), r);
    }
    Ok(out)
}

/// Replaces the archive key with a new one. The rotation is logged first, under the old key
/// (its last signed head commits to the new key); the old secret is then deleted. Returns
/// (old, new) public keys.
pub fn rotate_key(store: &Store, by: &str) -> Result<([u8; 32], [u8; 32]), StoreError> {
    let path = seal::keys::secret_path(store.root());
    let damaged = |detail: String| StoreError::Damaged {
        path: path.clone(),
        detail,
    };
    let old = seal::keys::load_or_create(store.root()).map_err(|e| damaged(e.to_string()))?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| damaged(e.to_string()))?;
    let new = ed25519_dalek::SigningKey::from_bytes(&seed);
    let (o, n) = (
        old.verifying_key().to_bytes(),
        new.verifying_key().to_bytes(),
    );
    let mut e = event(
        "key_rotate",
        "",
        by,
        format!(
            "rotated the archive key from fingerprint {} to {}",
            seal::keys::fingerprint(&o),
            seal::keys::fingerprint(&n)
        ),
    );
    e.key = Some(hex::encode(o));
    e.new_key = Some(hex::encode(n));
    record_with(store, &old, &e)?;
    seal::keys::replace(store.root(), &seed).map_err(|e| damaged(e.to_string()))?;
    // Manifests are re-attested under the new key (their bytes, and their log entries under
    // the old key's heads, do not change), so bundles made from now on carry one signer.
    for row in store.list()? {
        store.resign_manifest(&row.session, &new)?;
    }
    Ok((o, n))
}

/// Logs that `public` must no longer be believed, from now on, for `reason`. The current key
/// cannot be revoked: rotate it first.
pub fn revoke_key(
    store: &Store,
    public: &[u8; 32],
    reason: &str,
    by: &str,
) -> Result<CustodyEvent, String> {
    let current = seal::keys::load_or_create(store.root()).map_err(|e| e.to_string())?;
    if current.verifying_key().to_bytes() == *public {
        return Err("that is the current archive key: run `liveproof key rotate` first, then revoke the old one".into());
    }
    let mut e = event(
        "key_revoke",
        "",
        by,
        format!(
            "revoked key fingerprint {}: {reason}",
            seal::keys::fingerprint(public)
        ),
    );
    e.key = Some(hex::encode(public));
    record(store, &e).map_err(|e| e.to_string())?;
    Ok(e)
}

/// A trust file for verifiers (`verify --trust`), from the log's key events: the current key
/// and every retired one under `name`, and `revoked` lines for revoked keys.
pub fn trust_file(store: &Store, name: &str) -> Result<String, String> {
    let current = seal::keys::load_or_create(store.root()).map_err(|e| e.to_string())?;
    let events: Vec<CustodyEvent> = store
        .db()
        .query_map(
            "SELECT event FROM custody WHERE session = '' ORDER BY idx",
            args![],
            |r| r.get::<String>(0),
        )
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(|t| serde_json::from_str(t).ok())
        .collect();
    let mut out = format!(
        "# Keys of {name}, from its log ({}). Pass to: liveproof verify --trust THIS_FILE\n",
        now()
    );
    out.push_str(&format!(
        "ed25519:{} {name}\n",
        hex::encode(current.verifying_key().to_bytes())
    ));
    for e in &events {
        match (e.event.as_str(), &e.key) {
            ("key_rotate", Some(k))
                if !events
                    .iter()
                    .any(|r| r.event == "key_revoke" && r.key.as_ref() == Some(k)) =>
            {
                out.push_str(&format!("ed25519:{k} {name} (retired {})\n", e.at));
            }
            ("key_revoke", Some(k)) => {
                out.push_str(&format!(
                    "revoked ed25519:{k} {} {}\n",
                    utc_seconds(&e.at),
                    e.detail
                ));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// RFC 3339 with milliseconds → `YYYY-MM-DDTHH:MM:SSZ`, as trust files write times.
fn utc_seconds(at: &str) -> String {
    format!("{}Z", &at[..19.min(at.len())])
}
