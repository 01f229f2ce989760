//! API tokens and roles: who may see what.
//!
//! Tokens are 32 random bytes shown once at creation; only their SHA-256 is stored (a random
//! 256-bit token needs no slow hash: it cannot be guessed from its hash). Roles: `admin` and
//! `auditor` read everything; `platform` reads its own platform's sessions; `consumer` reads
//! the sessions it uploaded. Invariant: every access decision goes through [`Access::can_read`].

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// A role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including creating tokens.
    Admin,
    /// Reads every session, report and transcript.
    Auditor,
    /// Reads its own platform's sessions and disclosure reports.
    Platform,
    /// Reads only what it uploaded.
    Consumer,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Platform => "platform",
            Role::Consumer => "consumer",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "admin" => Role::Admin,
            "auditor" => Role::Auditor,
            "platform" => Role::Platform,
            "consumer" => Role::Consumer,
            _ => return None,
        })
    }
}

/// The caller behind a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// Token row id.
    pub token_id: i64,
    /// Role.
    pub role: Role,
    /// Platform, for the platform role.
    pub platform: Option<String>,
}

/// Creates the tables if needed.
pub fn init(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS tokens (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            platform TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS uploads (
            session TEXT NOT NULL,
            token_id INTEGER NOT NULL,
            PRIMARY KEY (session, token_id)
        );",
    )
}

/// Creates a token; returns the secret (shown once).
pub fn create(
    conn: &Connection,
    role: Role,
    platform: Option<&str>,
    now: &str,
) -> Result<String, String> {
    if role == Role::Platform && platform.is_none() {
        return Err("a platform token needs --platform NAME".into());
    }
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| e.to_string())?;
    let token = format!("lp_{}", hex::encode(raw));
    conn.execute(
        "INSERT INTO tokens (sha256, role, platform, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            crate::hashing::sha256_hex(token.as_bytes()),
            role.as_str(),
            platform,
            now
        ],
    )
    .map_err(|e| e.to_string())?;
    Ok(token)
}

/// Looks a presented token up.
pub fn lookup(conn: &Connection, token: &str) -> rusqlite::Result<Option<Access>> {
    conn.query_row(
        "SELECT id, role, platform FROM tokens WHERE sha256 = ?1",
        params![crate::hashing::sha256_hex(token.as_bytes())],
        |r| {
            let role: String = r.get(1)?;
            Ok((r.get::<_, i64>(0)?, role, r.get::<_, Option<String>>(2)?))
        },
    )
    .optional()
    .map(|o| {
        o.and_then(|(id, role, platform)| {
            Role::parse(&role).map(|role| Access {
                token_id: id,
                role,
                platform,
            })
        })
    })
}

/// Records that `token_id` uploaded `session`.
pub fn record_upload(conn: &Connection, session: &str, token_id: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO uploads (session, token_id) VALUES (?1, ?2)",
        params![session, token_id],
    )
    .map(|_| ())
}

impl Access {
    /// Whether this caller may read a session with this platform.
    pub fn can_read(&self, conn: &Connection, session: &str, platform: Option<&str>) -> bool {
        match self.role {
            Role::Admin | Role::Auditor => true,
            Role::Platform => self.platform.is_some() && self.platform.as_deref() == platform,
            Role::Consumer => conn
                .query_row(
                    "SELECT 1 FROM uploads WHERE session = ?1 AND token_id = ?2",
                    params![session, self.token_id],
                    |_| Ok(()),
                )
                .optional()
                .ok()
                .flatten()
                .is_some(),
        }
    }

    /// Whether this caller may upload recordings.
    pub fn can_upload(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Consumer | Role::Platform)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_hashed_and_resolve_to_their_role() {
        let c = Connection::open_in_memory().unwrap();
        init(&c).unwrap();
        let t = create(&c, Role::Platform, Some("douyin"), "now").unwrap();
        let stored: String = c
            .query_row("SELECT sha256 FROM tokens", [], |r| r.get(0))
            .unwrap();
        assert!(!stored.contains(&t[3..]));
        let a = lookup(&c, &t).unwrap().unwrap();
        assert_eq!(a.role, Role::Platform);
        assert!(a.can_read(&c, "s", Some("douyin")));
        assert!(!a.can_read(&c, "s", Some("kuaishou")));
        assert!(lookup(&c, "lp_wrong").unwrap().is_none());
        assert!(create(&c, Role::Platform, None, "now").is_err());
        let consumer = lookup(&c, &create(&c, Role::Consumer, None, "now").unwrap())
            .unwrap()
            .unwrap();
        assert!(!consumer.can_read(&c, "s", None));
        record_upload(&c, "s", consumer.token_id).unwrap();
        assert!(consumer.can_read(&c, "s", None));
    }
}
