//! Retention on purpose: legal holds, and deletion that leaves a signed tombstone.
//!
//! `delete` removes a session's original, transcript, comments, derived files and index
//! documents, but never its log entries: a `deleted` custody event is appended in the same
//! transaction that removes the catalog row, so the log stays consistent (every old head is
//! still a prefix) and the deletion itself is evidence (`liveproof_verify::tombstone`). A
//! session under legal hold cannot be deleted until the hold is released; both are logged.
//!
//! Invariant: the tombstone is committed before any file is removed; a run stopped in between
//! leaves files that [`purge_pending`] removes on the next deletion or server start.

use serde::Serialize;
use thiserror::Error;

use crate::args;
use crate::catalog::{self, Catalog};
use crate::custody;
use crate::custody::CustodyEvent;
use crate::seal;
use crate::store::{SessionRow, Store, StoreError};
pub use liveproof_verify::tombstone::{Tombstone, DELETED_EVENT, TOMBSTONE_FORMAT};

/// Why a hold, release or deletion was refused.
#[derive(Debug, Error)]
pub enum RetentionError {
    /// The archive failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The search index failed while removing the session's documents.
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
    /// A deletion of a held session.
    #[error("session {session} is under legal hold since {since} ({by}: {reason}); release it first with `liveproof release {session} --reason …`")]
    Held {
        /// Session id.
        session: String,
        /// When the hold was placed.
        since: String,
        /// Who placed it.
        by: String,
        /// Why.
        reason: String,
    },
    /// A hold on a session already held.
    #[error("session {0} is already under legal hold")]
    AlreadyHeld(String),
    /// A release of a session not held.
    #[error("session {0} is not under legal hold")]
    NotHeld(String),
    /// No reason was given.
    #[error("give a reason (--reason \"…\"): it is logged and shown with the tombstone or hold")]
    NoReason,
    /// The archive key could not be loaded.
    #[error("cannot load the archive key: {0}")]
    Key(String),
}

/// A legal hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    /// Session id.
    pub session: String,
    /// Why.
    pub reason: String,
    /// Who placed it.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// The custody event's index in the log.
    pub log_index: u64,
}

impl Hold {
    /// The record of a hold or release: its session, reason, actor, and logged event.
    fn record(row: SessionRow, reason: &str, by: &str, e: CustodyEvent, log_index: u64) -> Self {
        Hold {
            session: row.session,
            reason: reason.into(),
            by: by.into(),
            at: e.at,
            log_index,
        }
    }
}

/// What a deletion did.
#[derive(Debug, Clone, Serialize)]
pub struct Deleted {
    /// Session id.
    pub session: String,
    /// The deletion's custody event index in the log.
    pub log_index: u64,
    /// Whether the original's bytes were removed (kept while another session has them).
    pub original_removed: bool,
    /// The tombstone, provable against the newest tree head.
    pub tombstone: Tombstone,
}

/// Creates the retention tables.
pub(crate) fn init(conn: &Catalog) -> catalog::Result<()> {
    conn.ddl(
        "CREATE TABLE IF NOT EXISTS holds (
            session TEXT PRIMARY KEY,
            reason TEXT NOT NULL,
            by TEXT NOT NULL,
            at TEXT NOT NULL,
            log_index INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS tombstones (
            session TEXT PRIMARY KEY,
            recording_sha256 TEXT NOT NULL,
            manifest_sha256 TEXT NOT NULL,
            platform TEXT,
            reason TEXT NOT NULL,
            by TEXT NOT NULL,
            at TEXT NOT NULL,
            log_index INTEGER NOT NULL
        );",
    )
}

fn reason_of(reason: &str) -> Result<&str, RetentionError> {
    let r = reason.trim();
    if r.is_empty() {
        Err(RetentionError::NoReason)
    } else {
        Ok(r)
    }
}

fn key(store: &Store) -> Result<ed25519_dalek::SigningKey, RetentionError> {
    seal::keys::load_or_create(store.root()).map_err(|e| RetentionError::Key(e.to_string()))
}

/// The hold on `session`, if any.
pub fn hold_of(store: &Store, session: &str) -> Result<Option<Hold>, RetentionError> {
    store
        .db()
        .query_opt(
            "SELECT session, reason, by, at, log_index FROM holds WHERE session = ?1",
            args![session],
            |r| {
                Ok(Hold {
                    session: r.get(0)?,
                    reason: r.get(1)?,
                    by: r.get(2)?,
                    at: r.get(3)?,
                    log_index: r.get::<i64>(4)? as u64,
                })
            },
        )
        .map_err(|e| store.catalog_error(e).into())
}

impl From<catalog::CatalogError> for RetentionError {
    fn from(e: catalog::CatalogError) -> Self {
        RetentionError::Store(e.into())
    }
}

/// One retention act on a session, in one write transaction: `decide` sees the session and
/// its hold and names the custody event (or refuses), the event is logged, and `apply` changes
/// the catalog. Returns the session, the event and its log index.
fn act(
    store: &Store,
    session: &str,
    reason: &str,
    by: &str,
    decide: impl FnOnce(
        &Catalog,
        &SessionRow,
        Option<Hold>,
    ) -> Result<(&'static str, String), RetentionError>,
    apply: impl FnOnce(&Catalog, &SessionRow, &CustodyEvent, u64) -> catalog::Result<()>,
) -> Result<(SessionRow, CustodyEvent, u64), RetentionError> {
    reason_of(reason)?;
    let row = store.resolve(session)?;
    let key = key(store)?;
    let cat = |e| store.catalog_error(e);
    store.db().write(|tx| -> Result<_, RetentionError> {
        let (kind, detail) = decide(tx, &row, hold_of(store, &row.session)?)?;
        let e = custody::event(kind, &row.session, by, detail);
        let (idx, _) = seal::log::append_custody(tx, &key, &e, &e.at).map_err(cat)?;
        apply(tx, &row, &e, idx).map_err(cat)?;
        Ok((row, e, idx))
    })
}

/// Places a legal hold on `session` (an id or prefix): it cannot be deleted until released.
pub fn hold(store: &Store, session: &str, reason: &str, by: &str) -> Result<Hold, RetentionError> {
    let reason = reason.trim();
    let (row, e, idx) = act(
        store,
        session,
        reason,
        by,
        |_, row, held| match held {
            Some(_) => Err(RetentionError::AlreadyHeld(row.session.clone())),
            None => Ok(("legal_hold", format!("placed a legal hold: {reason}"))),
        },
        |tx, row, e, idx| {
            tx.execute(
                "INSERT INTO holds VALUES (?1, ?2, ?3, ?4, ?5)",
                args![row.session, reason, by, e.at, idx as i64],
            )
            .map(|_| ())
        },
    )?;
    Ok(Hold::record(row, reason, by, e, idx))
}

/// Releases the legal hold on `session`; returns the release as a hold record (who, when, why).
pub fn release(
    store: &Store,
    session: &str,
    reason: &str,
    by: &str,
) -> Result<Hold, RetentionError> {
    let reason = reason.trim();
    let (row, e, idx) = act(
        store,
        session,
        reason,
        by,
        |_, row, held| match held {
            None => Err(RetentionError::NotHeld(row.session.clone())),
            Some(h) => Ok((
                "hold_released",
                format!(
                    "released the legal hold placed at {} by {}: {reason}",
                    h.at, h.by
                ),
            )),
        },
        |tx, row, _, _| {
            tx.execute("DELETE FROM holds WHERE session = ?1", args![row.session])
                .map(|_| ())
        },
    )?;
    Ok(Hold::record(row, reason, by, e, idx))
}

/// Deletes `session` (an id or prefix): logs the deletion and removes the catalog row in one
/// transaction, then the files and index documents. Refused under legal hold.
pub fn delete(
    store: &Store,
    session: &str,
    reason: &str,
    by: &str,
) -> Result<Deleted, RetentionError> {
    let reason = reason.trim();
    // Found by `decide`, written by `apply`, under the same lock.
    let manifest_sha256 = std::cell::RefCell::new(String::new());
    let (row, _, idx) = act(
        store,
        session,
        reason,
        by,
        |tx, row, held| {
            if let Some(h) = held {
                return Err(RetentionError::Held {
                    session: h.session,
                    since: h.at,
                    by: h.by,
                    reason: h.reason,
                });
            }
            let sha = seal::log::prove(tx, &row.session)
                .map_err(|e| store.catalog_error(e))?
                .map(|i| i.manifest_sha256)
                .ok_or_else(|| StoreError::NoSuchSession(row.session.clone()))?;
            let detail =
                liveproof_verify::tombstone::deletion_detail(reason, &row.recording_sha256, &sha);
            *manifest_sha256.borrow_mut() = sha;
            Ok((DELETED_EVENT, detail))
        },
        |tx, row, e, idx| {
            tx.execute(
                "INSERT INTO tombstones VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                args![
                    row.session,
                    row.recording_sha256,
                    manifest_sha256.borrow().as_str(),
                    row.platform,
                    reason,
                    by,
                    e.at,
                    idx as i64
                ],
            )?;
            store.forget_session(tx, &row.session)
        },
    )?;
    crate::fault::point("retention.tombstoned");
    let original_removed = purge(store, &row.session, &row.recording_sha256)?;
    let tombstone = tombstone(store, &row.session)?
        .ok_or_else(|| StoreError::NoSuchSession(row.session.clone()))?;
    Ok(Deleted {
        session: row.session,
        log_index: idx,
        original_removed,
        tombstone,
    })
}

/// Removes what a tombstoned session left: index documents, files, and the original unless
/// another session has the same bytes. Returns whether the original is gone.
fn purge(store: &Store, session: &str, recording_sha256: &str) -> Result<bool, RetentionError> {
    crate::search::remove_session(store, session)?;
    Ok(store.remove_session_files(session, recording_sha256)?)
}

/// Finishes deletions a stopped run left half done (tombstone committed, files still there).
pub fn purge_pending(store: &Store) -> Result<usize, RetentionError> {
    let rows: Vec<(String, String)> = store
        .db()
        .query_map(
            "SELECT session, recording_sha256 FROM tombstones",
            args![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|e| store.catalog_error(e))?;
    let mut n = 0;
    for (session, sha) in rows {
        if store.has_session_files(&session, &sha)
            || crate::search::has_session(store.root(), &session)?
        {
            purge(store, &session, &sha)?;
            n += 1;
        }
    }
    Ok(n)
}

/// The tombstone of a deleted session (exact id), proven against the newest tree head.
pub fn tombstone(store: &Store, session: &str) -> Result<Option<Tombstone>, RetentionError> {
    let cat = |e| store.catalog_error(e);
    let row: Option<(String, String, String, i64)> = store
        .db()
        .query_opt(
            "SELECT recording_sha256, manifest_sha256, reason, log_index FROM tombstones WHERE session = ?1",
            args![session],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .map_err(cat)?;
    let Some((recording_sha256, manifest_sha256, reason, idx)) = row else {
        return Ok(None);
    };
    let Some(archived) = seal::log::prove(store.db(), session).map_err(cat)? else {
        return Ok(None);
    };
    let chain =
        seal::log::custody_chain(store.db(), session, archived.tree_head.size).map_err(cat)?;
    let Some(deletion) = chain.entries.into_iter().find(|e| e.index == idx as u64) else {
        return Ok(None);
    };
    Ok(Some(Tombstone {
        format: TOMBSTONE_FORMAT.into(),
        session: session.into(),
        recording_sha256,
        manifest_sha256,
        reason,
        archived,
        deletion,
    }))
}

/// A deleted session's platform (for who may see its tombstone), if it was tombstoned.
pub fn tombstone_platform(
    store: &Store,
    session: &str,
) -> Result<Option<Option<String>>, RetentionError> {
    store
        .db()
        .query_opt(
            "SELECT platform FROM tombstones WHERE session = ?1",
            args![session],
            |r| r.get::<Option<String>>(0),
        )
        .map_err(|e| store.catalog_error(e).into())
}
