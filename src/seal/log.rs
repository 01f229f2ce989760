//! The append-only log: every manifest hash is a leaf of an RFC 6962 Merkle tree, and every
//! append signs a new tree head. Entries and heads live in the catalog database and are written
//! in the same transaction that makes a session visible, so the two never disagree.

use crate::args;
use crate::catalog::{self, Catalog, CatalogError};
use ed25519_dalek::SigningKey;

use super::merkle::{self, Hash};
use super::tree;
use super::TreeHead;
pub use liveproof_verify::log::{verify_consistency, verify_inclusion, Consistency, Inclusion};

/// Creates the log tables if needed.
pub fn init(conn: &Catalog) -> catalog::Result<()> {
    conn.ddl(
        "CREATE TABLE IF NOT EXISTS log_entries (
            idx INTEGER PRIMARY KEY,
            session TEXT NOT NULL,
            manifest_sha256 TEXT NOT NULL,
            leaf BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS tree_heads (
            size INTEGER PRIMARY KEY,
            head TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS tree_head_tokens (
            size INTEGER PRIMARY KEY,
            token BLOB NOT NULL,
            tsa_time TEXT NOT NULL,
            tsa_cert TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS cosignatures (
            size INTEGER NOT NULL,
            name TEXT NOT NULL,
            key_id BLOB NOT NULL,
            line TEXT NOT NULL,
            PRIMARY KEY (size, name, key_id)
        );
        CREATE TABLE IF NOT EXISTS custody (
            idx INTEGER PRIMARY KEY,
            session TEXT NOT NULL,
            event TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS recording_tokens (
            recording_sha256 TEXT PRIMARY KEY,
            token BLOB NOT NULL,
            tsa_time TEXT NOT NULL,
            tsa_cert TEXT NOT NULL
        );",
    )?;
    conn.ddl(super::tree::SCHEMA)
}

/// All leaf hashes, in order.
pub fn leaves(conn: &Catalog) -> catalog::Result<Vec<Hash>> {
    conn.query_map("SELECT leaf FROM log_entries ORDER BY idx", args![], |r| {
        let b: Vec<u8> = r.get(0)?;
        Ok(b.try_into().unwrap_or([0u8; 32]))
    })
}

/// What an ingest appends to the log in the transaction that commits its session: the
/// manifest's entry and the ingest's custody event, each with a signed head.
pub struct SessionEntries<'a> {
    /// The archive key.
    pub key: &'a SigningKey,
    /// Session id.
    pub session: &'a str,
    /// SHA-256 of the manifest's bytes.
    pub manifest_sha256: &'a Hash,
    /// The ingest time (RFC 3339), the heads' timestamp.
    pub at: &'a str,
    /// The ingest's custody event.
    pub custody: &'a liveproof_verify::bundle::CustodyEvent,
}

impl SessionEntries<'_> {
    /// Appends both entries. Call inside the committing transaction.
    pub(crate) fn append(&self, conn: &Catalog) -> catalog::Result<()> {
        append(conn, self.key, self.session, self.manifest_sha256, self.at)?;
        append_custody(conn, self.key, self.custody, self.at).map(|_| ())
    }
}

/// Appends a manifest and signs the new head. Call inside the committing transaction.
pub fn append(
    conn: &Catalog,
    key: &SigningKey,
    session: &str,
    manifest_sha256: &Hash,
    timestamp: &str,
) -> catalog::Result<(u64, TreeHead)> {
    let leaf = merkle::leaf_hash(&super::log_entry(session, manifest_sha256));
    append_leaf(conn, key, session, manifest_sha256, leaf, timestamp)
}

/// Appends a custody event (its exact JSON bytes are kept) and signs the new head. Call inside
/// a write transaction.
pub fn append_custody(
    conn: &Catalog,
    key: &SigningKey,
    event: &liveproof_verify::bundle::CustodyEvent,
    timestamp: &str,
) -> catalog::Result<(u64, TreeHead)> {
    let text = serde_json::to_string(event).expect("serialises");
    let sha = super::sha256(text.as_bytes());
    let leaf = merkle::leaf_hash(&super::custody_entry(&event.session, &sha));
    let (idx, head) = append_leaf(conn, key, &event.session, &sha, leaf, timestamp)?;
    conn.execute(
        "INSERT INTO custody (idx, session, event) VALUES (?1, ?2, ?3)",
        args![idx as i64, event.session, text],
    )?;
    Ok((idx, head))
}

/// Refuses to sign when the log's newest head was signed by another key than `key`, unless
/// `key` is the one a logged rotation named: several sealing nodes share one log only with the
/// one archive key.
fn same_signer(conn: &Catalog, key: &SigningKey) -> catalog::Result<()> {
    let ours = hex::encode(key.verifying_key().to_bytes());
    let Some(prev) = head(conn)? else {
        return Ok(());
    };
    if prev.public_key == ours {
        return Ok(());
    }
    let rotated_to_us = conn
        .query_map(
            "SELECT event FROM custody WHERE session = '' ORDER BY idx DESC",
            args![],
            |r| r.get::<String>(0),
        )?
        .iter()
        .filter_map(|e| serde_json::from_str::<liveproof_verify::bundle::CustodyEvent>(e).ok())
        .any(|e| e.event == "key_rotate" && e.new_key.as_deref() == Some(ours.as_str()));
    if rotated_to_us {
        return Ok(());
    }
    Err(CatalogError::Refused(format!(
        "the log's newest head is signed by archive key {}, and this node's key is {ours}: every \
         node that seals into one catalog must hold the same archive key (copy \
         keys/archive.ed25519 from the node that made it); nothing was written",
        prev.public_key
    )))
}

fn append_leaf(
    conn: &Catalog,
    key: &SigningKey,
    session: &str,
    entry_sha256: &Hash,
    leaf: Hash,
    timestamp: &str,
) -> catalog::Result<(u64, TreeHead)> {
    same_signer(conn, key)?;
    let idx = head(conn)?.map_or(0, |h| h.size);
    let (mut frontier, mut made) = tree::frontier(conn, idx)?;
    made.extend(tree::push(&mut frontier, idx, leaf));
    let head = TreeHead::create(key, idx + 1, &tree::root(&frontier), timestamp);
    conn.execute(
        "INSERT INTO log_entries (idx, session, manifest_sha256, leaf) VALUES (?1, ?2, ?3, ?4)",
        args![
            idx as i64,
            session,
            hex::encode(entry_sha256),
            leaf.to_vec()
        ],
    )?;
    crate::fault::point("log.leaf_inserted");
    conn.execute(
        "INSERT INTO tree_heads (size, head) VALUES (?1, ?2)",
        args![
            head.size as i64,
            serde_json::to_string(&head).expect("serialises")
        ],
    )?;
    tree::store(conn, idx + 1, &frontier, &made)?;
    crate::fault::point("log.head_inserted");
    Ok((idx, head))
}

/// The custody chain of `session` (its events and the archive's key events) within the head
/// of `size`, each with its inclusion proof against that head.
pub fn custody_chain(
    conn: &Catalog,
    session: &str,
    size: u64,
) -> catalog::Result<liveproof_verify::bundle::Custody> {
    let rows = conn.query_map(
        "SELECT idx, event FROM custody WHERE (session = ?1 OR session = '') AND idx < ?2 ORDER BY idx",
        args![session, size as i64],
        |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
    )?;
    let size = size.min(head(conn)?.map_or(0, |h| h.size));
    let tree = tree::Tree::open(conn, size)?;
    let mut entries = Vec::new();
    for (idx, event) in rows {
        entries.push(liveproof_verify::bundle::CustodyEntry {
            index: idx as u64,
            event,
            proof: tree
                .inclusion(idx as u64, size)?
                .iter()
                .map(hex::encode)
                .collect(),
        });
    }
    Ok(liveproof_verify::bundle::Custody { entries })
}

fn parse_head(s: String) -> catalog::Result<TreeHead> {
    serde_json::from_str(&s).map_err(|_| CatalogError::Type {
        index: 0,
        expected: "a signed tree head",
        found: "damaged JSON",
    })
}

/// The newest signed tree head.
pub fn head(conn: &Catalog) -> catalog::Result<Option<TreeHead>> {
    conn.query_opt(
        "SELECT head FROM tree_heads ORDER BY size DESC LIMIT 1",
        args![],
        |r| r.get(0),
    )?
    .map(parse_head)
    .transpose()
}

/// The signed tree head of a given size.
pub fn head_at(conn: &Catalog, size: u64) -> catalog::Result<Option<TreeHead>> {
    conn.query_opt(
        "SELECT head FROM tree_heads WHERE size = ?1",
        args![size as i64],
        |r| r.get(0),
    )?
    .map(parse_head)
    .transpose()
}

/// Whether `session`'s manifest is in the log (without building a proof).
pub fn is_logged(conn: &Catalog, session: &str) -> catalog::Result<bool> {
    conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM log_entries WHERE session = ?1
         AND idx NOT IN (SELECT idx FROM custody))",
        args![session],
        |r| r.get(0),
    )
}

/// Inclusion proof of the newest manifest entry of `session` against the newest head.
pub fn prove(conn: &Catalog, session: &str) -> catalog::Result<Option<Inclusion>> {
    let entry: Option<(i64, String)> = conn.query_opt(
        "SELECT idx, manifest_sha256 FROM log_entries WHERE session = ?1
         AND idx NOT IN (SELECT idx FROM custody) ORDER BY idx DESC LIMIT 1",
        args![session],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (Some((idx, manifest_sha256)), Some(head)) = (entry, head(conn)?) else {
        return Ok(None);
    };
    let proof = tree::Tree::open(conn, head.size)?.inclusion(idx as u64, head.size)?;
    Ok(Some(Inclusion {
        session: session.into(),
        manifest_sha256,
        index: idx as u64,
        proof: proof.iter().map(hex::encode).collect(),
        tree_head: head,
    }))
}

/// Consistency proof between the heads of sizes `old` and `new`.
pub fn consistency(conn: &Catalog, old: u64, new: u64) -> catalog::Result<Option<Consistency>> {
    let (Some(o), Some(n)) = (head_at(conn, old)?, head_at(conn, new)?) else {
        return Ok(None);
    };
    if old > new {
        return Ok(None);
    }
    let proof = tree::Tree::open(conn, new)?.consistency(old, new)?;
    Ok(Some(Consistency {
        proof: proof.iter().map(hex::encode).collect(),
        old: o,
        new: n,
    }))
}

/// An RFC 3161 timestamp token over a tree head.
#[derive(Debug, Clone)]
pub struct Token {
    /// DER `TimeStampResp`.
    pub token: Vec<u8>,
    /// Time the TSA attests.
    pub tsa_time: String,
    /// PEM certificate(s) of the TSA it was checked against.
    pub tsa_cert: String,
}

/// Stores a verified token for the head of `size`.
pub fn put_token(conn: &Catalog, size: u64, t: &Token) -> catalog::Result<()> {
    conn.execute(
        "INSERT INTO tree_head_tokens (size, token, tsa_time, tsa_cert) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (size) DO UPDATE SET token = excluded.token, tsa_time = excluded.tsa_time,
           tsa_cert = excluded.tsa_cert",
        args![size as i64, t.token, t.tsa_time, t.tsa_cert],
    )
    .map(|_| ())
}

/// The token for the head of `size`, if one was obtained.
pub fn token(conn: &Catalog, size: u64) -> catalog::Result<Option<Token>> {
    token_row(
        conn,
        "SELECT token, tsa_time, tsa_cert FROM tree_head_tokens WHERE size = ?1",
        size as i64,
    )
}

fn token_row(conn: &Catalog, sql: &str, key: impl catalog::Arg) -> catalog::Result<Option<Token>> {
    conn.query_opt(sql, args![key], |r| {
        Ok(Token {
            token: r.get(0)?,
            tsa_time: r.get(1)?,
            tsa_cert: r.get(2)?,
        })
    })
}

/// Timestamps the newest head with the TSAs `tsa` names, unless it has a token already, and
/// stores the checked token. Returns the attested time; None when no TSA is configured.
pub fn timestamp_head(
    conn: &Catalog,
    tsa: Option<&super::tsa::Config>,
) -> Result<Option<String>, String> {
    let Some(config) = tsa else {
        return Ok(None);
    };
    let head = head(conn)
        .map_err(|e| e.to_string())?
        .ok_or("the log is empty")?;
    if let Some(t) = token(conn, head.size).map_err(|e| e.to_string())? {
        return Ok(Some(t.tsa_time));
    }
    let digest = head.digest().ok_or("the tree head is malformed")?;
    let s = super::tsa::obtain(config, &digest)?;
    put_token(
        conn,
        head.size,
        &Token {
            token: s.token,
            tsa_time: s.time.clone(),
            tsa_cert: s.pem,
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(Some(s.time))
}

/// The token over a recording's SHA-256, if one was obtained.
pub fn recording_token(conn: &Catalog, sha256: &str) -> catalog::Result<Option<Token>> {
    token_row(
        conn,
        "SELECT token, tsa_time, tsa_cert FROM recording_tokens WHERE recording_sha256 = ?1",
        sha256,
    )
}

/// Timestamps a recording's SHA-256 (the hash itself is the message imprint), unless it has a
/// token already. None when no TSA is configured.
pub fn timestamp_recording(
    conn: &Catalog,
    tsa: Option<&super::tsa::Config>,
    sha256: &str,
) -> Result<Option<String>, String> {
    let Some(config) = tsa else {
        return Ok(None);
    };
    if let Some(t) = recording_token(conn, sha256).map_err(|e| e.to_string())? {
        return Ok(Some(t.tsa_time));
    }
    let digest = super::hex32(sha256).ok_or("the recording hash is malformed")?;
    let s = super::tsa::obtain(config, &digest)?;
    conn.execute(
        "INSERT INTO recording_tokens (recording_sha256, token, tsa_time, tsa_cert) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (recording_sha256) DO UPDATE SET token = excluded.token,
           tsa_time = excluded.tsa_time, tsa_cert = excluded.tsa_cert",
        args![sha256, s.token, s.time, s.pem],
    )
    .map_err(|e| e.to_string())?;
    Ok(Some(s.time))
}

/// What `liveproof log timestamp` did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CatchUp {
    /// The newest tree head's size and attested time, once it has a token.
    pub tree_head: Option<(u64, String)>,
    /// Recordings timestamped in this run.
    pub recordings_timestamped: usize,
    /// What still has no token (the newest head counts as one), to be tried again later.
    pub pending: usize,
    /// Why, per failure.
    pub errors: Vec<String>,
}

/// Fetches the tokens that could not be had earlier: the newest tree head's and those of
/// `recordings` (SHA-256 hex of every archived recording) from the TSAs `tsa` names.
pub fn catch_up(
    conn: &Catalog,
    tsa: &super::tsa::Config,
    recordings: &[String],
) -> Result<CatchUp, String> {
    let mut out = CatchUp::default();
    if head(conn).map_err(|e| e.to_string())?.is_some() {
        match timestamp_head(conn, Some(tsa)) {
            Ok(Some(t)) => {
                let size = head(conn)
                    .map_err(|e| e.to_string())?
                    .map(|h| h.size)
                    .unwrap_or(0);
                out.tree_head = Some((size, t));
            }
            Ok(None) => {}
            Err(e) => {
                out.pending += 1;
                out.errors.push(format!("tree head: {e}"));
            }
        }
    }
    for sha in recordings {
        match recording_token(conn, sha).map_err(|e| e.to_string())? {
            Some(_) => {}
            None => match timestamp_recording(conn, Some(tsa), sha) {
                Ok(_) => out.recordings_timestamped += 1,
                Err(e) => {
                    out.pending += 1;
                    out.errors.push(format!("recording {sha}: {e}"));
                }
            },
        }
    }
    Ok(out)
}

/// Most cosignatures kept per tree head (anyone may submit; verifiers pick the witnesses they
/// trust, so the count is bounded rather than the submitters).
pub const MAX_COSIGNATURES: usize = 32;

/// The head of `size` (newest when None; size 0 for an empty log) as a C2SP checkpoint signed
/// by the archive key, with every cosignature stored for it.
pub fn checkpoint(
    conn: &Catalog,
    key: &SigningKey,
    size: Option<u64>,
) -> catalog::Result<Option<liveproof_verify::note::Note>> {
    use liveproof_verify::note;
    let head = match size {
        Some(s) => head_at(conn, s)?,
        None => head(conn)?,
    };
    let origin = note::origin(&key.verifying_key().to_bytes());
    // The empty log has a checkpoint too (RFC 6962: the empty tree's hash is SHA-256 of
    // nothing), so a witness or auditor can start from the beginning.
    let (size, root) = match (&head, size) {
        (Some(h), _) => match super::hex32(&h.root) {
            Some(r) => (h.size, r),
            None => return Ok(None),
        },
        (None, None) => (0, merkle::root(&[])),
        (None, Some(_)) => return Ok(None),
    };
    let body = note::checkpoint_body(&origin, size, &root);
    let mut signatures = vec![note::sign(&body, &origin, key)];
    let lines = conn.query_map(
        "SELECT line FROM cosignatures WHERE size = ?1 ORDER BY name",
        args![size as i64],
        |r| r.get::<String>(0),
    )?;
    for l in lines {
        if let Some(s) = note::SigLine::parse(l.trim_end()) {
            signatures.push(s);
        }
    }
    Ok(Some(note::Note { body, signatures }))
}

/// Stores the cosignatures on `text`, a checkpoint of this log as `checkpoint` gives it with
/// witnesses' lines added. Only lines shaped like cosignature/v1 are kept (their validity is
/// each verifier's to judge, against the witnesses it trusts); returns how many were new.
pub fn add_cosignatures(conn: &Catalog, key: &SigningKey, text: &str) -> Result<usize, String> {
    use liveproof_verify::note::{self, Note};
    let n = Note::parse(text)?;
    let (origin, size, root) = n.checkpoint()?;
    let ours = note::origin(&key.verifying_key().to_bytes());
    if origin != ours {
        return Err(format!(
            "the checkpoint is of log {origin:?}, this archive is {ours:?}"
        ));
    }
    let head = head_at(conn, size)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("this log has no tree head of size {size}"))?;
    if super::hex32(&head.root) != Some(root) {
        return Err(format!(
            "the checkpoint's root is not this log's root at size {size}"
        ));
    }
    let mut added = 0;
    for s in n
        .signatures
        .iter()
        .filter(|s| s.name != ours && s.signature.len() == 72)
    {
        let count: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM cosignatures WHERE size = ?1",
                args![size as i64],
                |r| r.get(0),
            )
            .map_err(|e| e.to_string())?;
        if count as usize >= MAX_COSIGNATURES {
            return Err(format!(
                "the head of size {size} already has {MAX_COSIGNATURES} cosignatures"
            ));
        }
        added += conn
            .execute(
                "INSERT INTO cosignatures (size, name, key_id, line) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
                args![size as i64, s.name, s.key_id.to_vec(), s.line()],
            )
            .map_err(|e| e.to_string())?;
    }
    Ok(added)
}

/// The newest cosigned checkpoint that includes entry `index`, with the entry's inclusion
/// proof against it.
pub fn witnessed(
    conn: &Catalog,
    key: &SigningKey,
    index: u64,
) -> catalog::Result<Option<liveproof_verify::bundle::Witnessed>> {
    let size: Option<i64> = conn
        .query_opt(
            "SELECT MAX(size) FROM cosignatures WHERE size > ?1",
            args![index as i64],
            |r| r.get(0),
        )?
        .flatten();
    let Some(size) = size else { return Ok(None) };
    let Some(note) = checkpoint(conn, key, Some(size as u64))? else {
        return Ok(None);
    };
    let proof = tree::Tree::open(conn, size as u64)?.inclusion(index, size as u64)?;
    Ok(Some(liveproof_verify::bundle::Witnessed {
        checkpoint: note.text(),
        index,
        proof: proof.iter().map(hex::encode).collect(),
    }))
}

/// The log of an open archive (`Store::log`): typed operations whose errors name the catalog,
/// so that no caller outside the store and the seal needs the database connection.
pub struct Log<'a>(pub(crate) &'a crate::store::Store);

type StoreResult<T> = Result<T, crate::store::StoreError>;

impl Log<'_> {
    fn run<T>(&self, f: impl FnOnce(&Catalog) -> catalog::Result<T>) -> StoreResult<T> {
        f(self.0.db()).map_err(|e| self.0.catalog_error(e))
    }

    /// The newest signed tree head; `None` while the log is empty.
    pub fn head(&self) -> StoreResult<Option<TreeHead>> {
        self.run(head)
    }

    /// Whether a session's manifest is in the log.
    pub fn is_logged(&self, session: &str) -> StoreResult<bool> {
        self.run(|c| is_logged(c, session))
    }

    /// An inclusion proof of a session's manifest against the newest head.
    pub fn prove(&self, session: &str) -> StoreResult<Option<Inclusion>> {
        self.run(|c| prove(c, session))
    }

    /// A consistency proof between the heads of sizes `old` and `new`.
    pub fn consistency(&self, old: u64, new: u64) -> StoreResult<Option<Consistency>> {
        self.run(|c| consistency(c, old, new))
    }

    /// A head (the newest unless `size`) as a C2SP checkpoint with its stored cosignatures.
    pub fn checkpoint(
        &self,
        key: &SigningKey,
        size: Option<u64>,
    ) -> StoreResult<Option<liveproof_verify::note::Note>> {
        self.run(|c| checkpoint(c, key, size))
    }

    /// Stores the witnesses' cosignatures of one of our checkpoints; how many were new.
    pub fn add_cosignatures(&self, key: &SigningKey, text: &str) -> Result<usize, String> {
        add_cosignatures(self.0.db(), key, text)
    }

    /// The trusted timestamp of the head of `size`, if one was obtained.
    pub fn token(&self, size: u64) -> StoreResult<Option<Token>> {
        self.run(|c| token(c, size))
    }

    /// The trusted timestamp of a recording's hash, if one was obtained.
    pub fn recording_token(&self, sha256: &str) -> StoreResult<Option<Token>> {
        self.run(|c| recording_token(c, sha256))
    }

    /// A session's custody events up to the head of `size`, with their proofs.
    pub fn custody_chain(
        &self,
        session: &str,
        size: u64,
    ) -> StoreResult<liveproof_verify::bundle::Custody> {
        self.run(|c| custody_chain(c, session, size))
    }

    /// The newest cosigned checkpoint covering entry `index`, with a proof from it.
    pub fn witnessed(
        &self,
        key: &SigningKey,
        index: u64,
    ) -> StoreResult<Option<liveproof_verify::bundle::Witnessed>> {
        self.run(|c| witnessed(c, key, index))
    }

    /// Timestamps the newest head (see [`timestamp_head`]).
    pub fn timestamp_head(
        &self,
        tsa: Option<&super::tsa::Config>,
    ) -> Result<Option<String>, String> {
        timestamp_head(self.0.db(), tsa)
    }

    /// Timestamps a recording's hash (see [`timestamp_recording`]).
    pub fn timestamp_recording(
        &self,
        tsa: Option<&super::tsa::Config>,
        sha256: &str,
    ) -> Result<Option<String>, String> {
        timestamp_recording(self.0.db(), tsa, sha256)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_second_signing_key_is_refused_unless_a_logged_rotation_named_it() {
        let d = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(d.path()).unwrap();
        let a = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        let b = ed25519_dalek::SigningKey::from_bytes(&[2; 32]);
        let e = crate::custody::event("note", "s", "test", "first");
        crate::custody::record_with(&store, &a, &e).unwrap();
        let err = crate::custody::record_with(&store, &b, &e).unwrap_err();
        assert!(err.to_string().contains("same archive key"), "{err}");
        assert_eq!(
            store.log().head().unwrap().unwrap().size,
            1,
            "nothing written"
        );
        // A rotation logged under the old key names the new one: then the new key signs.
        let mut r = crate::custody::event("key_rotate", "", "test", "rotate");
        r.new_key = Some(hex::encode(b.verifying_key().to_bytes()));
        crate::custody::record_with(&store, &a, &r).unwrap();
        crate::custody::record_with(&store, &b, &e).unwrap();
        assert_eq!(store.log().head().unwrap().unwrap().size, 3);
    }
}
