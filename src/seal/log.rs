//! The append-only log: every manifest hash is a leaf of an RFC 6962 Merkle tree, and every
//! append signs a new tree head. Entries and heads live in the catalog database and are written
//! in the same transaction that makes a session visible, so the two never disagree.

use ed25519_dalek::SigningKey;
use rusqlite::{params, Connection, OptionalExtension};

use super::merkle::{self, Hash};
use super::TreeHead;
pub use liveproof_verify::log::{verify_consistency, verify_inclusion, Consistency, Inclusion};

/// Creates the log tables if needed.
pub fn init(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
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
        );",
    )
}

/// All leaf hashes, in order.
pub fn leaves(conn: &Connection) -> rusqlite::Result<Vec<Hash>> {
    let mut st = conn.prepare("SELECT leaf FROM log_entries ORDER BY idx")?;
    let rows = st.query_map([], |r| {
        let b: Vec<u8> = r.get(0)?;
        Ok(b.try_into().unwrap_or([0u8; 32]))
    })?;
    rows.collect()
}

/// Appends a manifest and signs the new head. Call inside the committing transaction.
pub fn append(
    conn: &Connection,
    key: &SigningKey,
    session: &str,
    manifest_sha256: &Hash,
    timestamp: &str,
) -> rusqlite::Result<(u64, TreeHead)> {
    let mut all = leaves(conn)?;
    let leaf = merkle::leaf_hash(&super::log_entry(session, manifest_sha256));
    let idx = all.len() as u64;
    all.push(leaf);
    let head = TreeHead::create(key, all.len() as u64, &merkle::root(&all), timestamp);
    conn.execute(
        "INSERT INTO log_entries (idx, session, manifest_sha256, leaf) VALUES (?1, ?2, ?3, ?4)",
        params![
            idx as i64,
            session,
            hex::encode(manifest_sha256),
            leaf.to_vec()
        ],
    )?;
    crate::fault::point("log.leaf_inserted");
    conn.execute(
        "INSERT INTO tree_heads (size, head) VALUES (?1, ?2)",
        params![
            head.size as i64,
            serde_json::to_string(&head).expect("serialises")
        ],
    )?;
    crate::fault::point("log.head_inserted");
    Ok((idx, head))
}

fn parse_head(s: String) -> rusqlite::Result<TreeHead> {
    serde_json::from_str(&s).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// The newest signed tree head.
pub fn head(conn: &Connection) -> rusqlite::Result<Option<TreeHead>> {
    conn.query_row(
        "SELECT head FROM tree_heads ORDER BY size DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
    .optional()?
    .map(parse_head)
    .transpose()
}

/// The signed tree head of a given size.
pub fn head_at(conn: &Connection, size: u64) -> rusqlite::Result<Option<TreeHead>> {
    conn.query_row(
        "SELECT head FROM tree_heads WHERE size = ?1",
        params![size as i64],
        |r| r.get(0),
    )
    .optional()?
    .map(parse_head)
    .transpose()
}

/// Inclusion proof of the newest entry of `session` against the newest head.
pub fn prove(conn: &Connection, session: &str) -> rusqlite::Result<Option<Inclusion>> {
    let entry: Option<(i64, String)> = conn
        .query_row(
            "SELECT idx, manifest_sha256 FROM log_entries WHERE session = ?1 ORDER BY idx DESC LIMIT 1",
            params![session],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (Some((idx, manifest_sha256)), Some(head)) = (entry, head(conn)?) else {
        return Ok(None);
    };
    let all = leaves(conn)?;
    let all = &all[..head.size as usize];
    Ok(Some(Inclusion {
        session: session.into(),
        manifest_sha256,
        index: idx as u64,
        proof: merkle::inclusion_proof(all, idx as usize)
            .iter()
            .map(hex::encode)
            .collect(),
        tree_head: head,
    }))
}

/// Consistency proof between the heads of sizes `old` and `new`.
pub fn consistency(conn: &Connection, old: u64, new: u64) -> rusqlite::Result<Option<Consistency>> {
    let (Some(o), Some(n)) = (head_at(conn, old)?, head_at(conn, new)?) else {
        return Ok(None);
    };
    let all = leaves(conn)?;
    if new as usize > all.len() || old > new {
        return Ok(None);
    }
    Ok(Some(Consistency {
        proof: merkle::consistency_proof(&all[..new as usize], old as usize)
            .iter()
            .map(hex::encode)
            .collect(),
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
pub fn put_token(conn: &Connection, size: u64, t: &Token) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO tree_head_tokens (size, token, tsa_time, tsa_cert) VALUES (?1, ?2, ?3, ?4)",
        params![size as i64, t.token, t.tsa_time, t.tsa_cert],
    )
    .map(|_| ())
}

/// The token for the head of `size`, if one was obtained.
pub fn token(conn: &Connection, size: u64) -> rusqlite::Result<Option<Token>> {
    conn.query_row(
        "SELECT token, tsa_time, tsa_cert FROM tree_head_tokens WHERE size = ?1",
        params![size as i64],
        |r| {
            Ok(Token {
                token: r.get(0)?,
                tsa_time: r.get(1)?,
                tsa_cert: r.get(2)?,
            })
        },
    )
    .optional()
}

/// Timestamps the newest head with the configured TSA (if any) and stores the checked token.
/// Returns the attested time, None when no TSA is configured.
pub fn timestamp_head(conn: &Connection) -> Result<Option<String>, String> {
    let Some((url, cert)) = super::tsa::configured() else {
        return Ok(None);
    };
    let head = head(conn)
        .map_err(|e| e.to_string())?
        .ok_or("the log is empty")?;
    let digest = head.digest().ok_or("the tree head is malformed")?;
    let token = super::tsa::fetch(&url, &digest).map_err(|e| e.to_string())?;
    let time = super::tsa::verify(&token, &digest, &cert).map_err(|e| e.to_string())?;
    let pem = std::fs::read_to_string(&cert)
        .map_err(|e| format!("cannot read TSA certificate {}: {e}", cert.display()))?;
    put_token(
        conn,
        head.size,
        &Token {
            token,
            tsa_time: time.clone(),
            tsa_cert: pem,
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(Some(time))
}
