//! API tokens and roles: who may see what.
//!
//! Tokens are 32 random bytes shown once at creation; only their SHA-256 is stored (a random
//! 256-bit token needs no slow hash: it cannot be guessed from its hash). Roles: `admin` and
//! `auditor` read everything; `platform` reads its own platform's sessions; `consumer` reads
//! the sessions it uploaded. Invariant: every access decision goes through [`Access::can_read`].

use crate::args;
use crate::catalog::{self, Catalog};
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
    /// The role's name, as tokens and the API spell it.
    pub fn as_str(self) -> &'static str {
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

/// Creates the tables if needed (and adds the expiry and revocation columns to older ones).
pub fn init(conn: &Catalog) -> catalog::Result<()> {
    conn.ddl(
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
    )?;
    conn.add_column("tokens", "expires_unix", "INTEGER")?;
    conn.add_column("tokens", "revoked_at", "TEXT")?;
    Ok(())
}

/// The expiry (Unix seconds) of a token created at `now` with lifetime `text` (12h, 30d, 1w).
pub fn expiry(now: i64, text: &str) -> Result<i64, String> {
    humantime::parse_duration(text)
        .ok()
        .filter(|d| !d.is_zero() && d.as_secs() < 100 * 365 * 86_400)
        .map(|d| now + d.as_secs() as i64)
        .ok_or_else(|| {
            format!("{text:?} is not a duration between 1 s and 100 years: write it like 12h, 30d or 1w")
        })
}

/// A token as `token list` shows it (never the secret).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    /// Row id (what `token revoke` takes).
    pub id: i64,
    /// Role.
    pub role: Role,
    /// Platform, for platform tokens.
    pub platform: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Expiry (RFC 3339), if any.
    pub expires_at: Option<String>,
    /// Revocation time (RFC 3339), if revoked.
    pub revoked_at: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub status: &'static str,
}

/// A newly created token.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    /// Row id.
    pub id: i64,
    /// The secret, shown once.
    pub token: String,
    /// Expiry (RFC 3339), if any.
    pub expires_at: Option<String>,
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Creates a token valid until `expires_unix` (seconds since 1970; `None`: until revoked);
/// returns the secret (shown once).
pub fn create(
    store: &crate::store::Store,
    role: Role,
    platform: Option<&str>,
    now: &str,
    expires_unix: Option<i64>,
) -> Result<Created, String> {
    let conn = store.db();
    if role == Role::Platform && platform.is_none() {
        return Err("a platform token needs --platform NAME".into());
    }
    if role != Role::Platform && platform.is_some() {
        return Err("--platform applies only to --role platform".into());
    }
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| e.to_string())?;
    let token = format!("lp_{}", hex::encode(raw));
    let id: i64 = conn
        .query_row(
            "INSERT INTO tokens (sha256, role, platform, created_at, expires_unix)
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            args![
                crate::hashing::sha256_hex(token.as_bytes()),
                role.as_str(),
                platform,
                now,
                expires_unix
            ],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    Ok(Created {
        id,
        token,
        expires_at: expires_unix.map(rfc3339),
    })
}

/// Every token, oldest first.
pub fn list(store: &crate::store::Store, now_unix: i64) -> catalog::Result<Vec<TokenInfo>> {
    let conn = store.db();
    conn.query_map(
        "SELECT id, role, platform, created_at, expires_unix, revoked_at FROM tokens ORDER BY id",
        args![],
        |r| {
            let role: String = r.get(1)?;
            let expires: Option<i64> = r.get(4)?;
            let revoked_at: Option<String> = r.get(5)?;
            let status = if revoked_at.is_some() {
                "revoked"
            } else if expires.is_some_and(|e| e <= now_unix) {
                "expired"
            } else {
                "active"
            };
            Ok(TokenInfo {
                id: r.get(0)?,
                role: Role::parse(&role).unwrap_or(Role::Consumer),
                platform: r.get(2)?,
                created_at: r.get(3)?,
                expires_at: expires.map(rfc3339),
                revoked_at,
                status,
            })
        },
    )
}

/// Revokes a token given as its id or its secret; returns the id, or `None` when there is no
/// such token. Revoking twice keeps the first time.
pub fn revoke(
    store: &crate::store::Store,
    token_or_id: &str,
    now: &str,
) -> catalog::Result<Option<i64>> {
    let conn = store.db();
    let id: Option<i64> = match token_or_id.parse::<i64>() {
        Ok(id) => conn.query_opt("SELECT id FROM tokens WHERE id = ?1", args![id], |r| {
            r.get(0)
        })?,
        Err(_) => conn.query_opt(
            "SELECT id FROM tokens WHERE sha256 = ?1",
            args![crate::hashing::sha256_hex(token_or_id.trim().as_bytes())],
            |r| r.get(0),
        )?,
    };
    if let Some(id) = id {
        conn.execute(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2",
            args![now, id],
        )?;
    }
    Ok(id)
}

/// Looks a presented token up; expired and revoked tokens resolve to nothing.
pub fn lookup(
    store: &crate::store::Store,
    token: &str,
    now_unix: i64,
) -> catalog::Result<Option<Access>> {
    let conn = store.db();
    conn.query_opt(
        "SELECT id, role, platform FROM tokens WHERE sha256 = ?1 AND revoked_at IS NULL
           AND (expires_unix IS NULL OR expires_unix > ?2)",
        args![crate::hashing::sha256_hex(token.as_bytes()), now_unix],
        |r| {
            let role: String = r.get(1)?;
            Ok((r.get::<i64>(0)?, role, r.get::<Option<String>>(2)?))
        },
    )
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

/// The caller behind a token id, whatever its expiry or revocation (a job keeps the owner its
/// upload had).
pub fn token_access(store: &crate::store::Store, id: i64) -> catalog::Result<Option<Access>> {
    let conn = store.db();
    conn.query_opt(
        "SELECT role, platform FROM tokens WHERE id = ?1",
        args![id],
        |r| Ok((r.get::<String>(0)?, r.get::<Option<String>>(1)?)),
    )
    .map(|o| {
        o.and_then(|(role, platform)| {
            Role::parse(&role).map(|role| Access {
                token_id: id,
                role,
                platform,
            })
        })
    })
}

/// Records that `token_id` uploaded `session`.
pub fn record_upload(
    store: &crate::store::Store,
    session: &str,
    token_id: i64,
) -> catalog::Result<()> {
    let conn = store.db();
    conn.execute(
        "INSERT INTO uploads (session, token_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        args![session, token_id],
    )
    .map(|_| ())
}

/// Why an upload's sidecar was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SidecarRefusal {
    /// Not a valid sidecar.
    #[error("sidecar: {0}")]
    Invalid(String),
    /// A platform token naming another platform.
    #[error("{0}")]
    OtherPlatform(String),
}

/// What a caller's searches are confined to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything.
    All,
    /// One platform's sessions.
    Platform(String),
    /// These sessions only.
    Sessions(Vec<String>),
}

impl Scope {
    /// Confines a search to this scope, inside the query, so that `total` and pages count
    /// only what the caller may read (whatever filters the caller asked for).
    pub fn apply(self, req: &mut crate::search::Request) {
        match self {
            Scope::All => {}
            Scope::Platform(p) => req.platform = Some(p),
            Scope::Sessions(ids) => req.within = Some(ids),
        }
    }
}

impl Access {
    /// Whether this caller may read a session with this platform.
    pub fn can_read(
        &self,
        store: &crate::store::Store,
        session: &str,
        platform: Option<&str>,
    ) -> bool {
        let conn = store.db();
        match self.role {
            Role::Admin | Role::Auditor => true,
            Role::Platform => {
                self.platform.is_some()
                    && self.platform.as_deref() == platform
                    && !consumer_owned(conn, session)
            }
            Role::Consumer => conn
                .query_opt(
                    "SELECT 1 FROM uploads WHERE session = ?1 AND token_id = ?2",
                    args![session, self.token_id],
                    |_| Ok(()),
                )
                .ok()
                .flatten()
                .is_some(),
        }
    }

    /// The sessions this caller's searches may return, decided with the same rules as
    /// [`Access::can_read`].
    pub fn search_scope(&self, store: &crate::store::Store) -> Scope {
        let conn = store.db();
        match self.role {
            Role::Admin | Role::Auditor => Scope::All,
            Role::Platform if consumer_uploads(conn).is_empty() => {
                Scope::Platform(self.platform.clone().unwrap_or_default())
            }
            Role::Platform | Role::Consumer => {
                let ids = conn
                    .query_map("SELECT session, platform FROM sessions", args![], |r| {
                        Ok((r.get::<String>(0)?, r.get::<Option<String>>(1)?))
                    })
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(s, p)| self.can_read(store, s, p.as_deref()))
                    .map(|(s, _)| s)
                    .collect();
                Scope::Sessions(ids)
            }
        }
    }

    /// Whether this caller may see a job uploaded with token `uploader` (its own, or any for
    /// an admin).
    pub fn can_read_job(&self, uploader: i64) -> bool {
        self.role == Role::Admin || self.token_id == uploader
    }

    /// Whether this caller may upload recordings.
    pub fn can_upload(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Consumer | Role::Platform)
    }

    /// The sidecar an upload by this caller is archived with: a platform token writes only
    /// its own platform (filled in when the sidecar leaves it out); others keep theirs.
    pub fn upload_sidecar(&self, meta: Option<&str>) -> Result<Option<String>, SidecarRefusal> {
        let mut map = match meta {
            Some(m) => crate::sidecar::parse(m.as_bytes()).map_err(SidecarRefusal::Invalid)?,
            None if self.role == Role::Platform => serde_json::Map::new(),
            None => return Ok(None),
        };
        if self.role == Role::Platform {
            let own = self.platform.clone().unwrap_or_default();
            match map.get("platform") {
                None => {
                    map.insert("platform".into(), serde_json::Value::String(own));
                }
                Some(serde_json::Value::String(p)) if *p == own => {}
                Some(other) => {
                    return Err(SidecarRefusal::OtherPlatform(format!(
                        "this token uploads for platform {own:?} only; the sidecar says {other}"
                    )))
                }
            }
        }
        serde_json::to_string(&map)
            .map(Some)
            .map_err(|e| SidecarRefusal::Invalid(e.to_string()))
    }

    /// Whose recording an upload by this caller becomes: each owner gets a session of their
    /// own for the same bytes (their own metadata, their own view); `None` is the archive
    /// operator's own, whose session id is the recording hash's prefix.
    pub fn owner(&self) -> Option<String> {
        match self.role {
            Role::Admin | Role::Auditor => None,
            Role::Platform => Some(format!(
                "platform:{}",
                self.platform.as_deref().unwrap_or_default()
            )),
            Role::Consumer => Some(format!("token:{}", self.token_id)),
        }
    }
}

/// Sessions that consumers uploaded (private to them, and to admins and auditors).
fn consumer_uploads(conn: &Catalog) -> Vec<String> {
    conn.query_map(
        "SELECT DISTINCT u.session FROM uploads u JOIN tokens t ON t.id = u.token_id
         WHERE t.role = 'consumer'",
        args![],
        |r| r.get::<String>(0),
    )
    .unwrap_or_default()
}

fn consumer_owned(conn: &Catalog, session: &str) -> bool {
    conn.query_opt(
        "SELECT 1 FROM uploads u JOIN tokens t ON t.id = u.token_id
         WHERE u.session = ?1 AND t.role = 'consumer'",
        args![session],
        |_| Ok(()),
    )
    .ok()
    .flatten()
    .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_hashed_and_resolve_to_their_role() {
        let d = tempfile::tempdir().unwrap();
        let c = crate::store::Store::open(d.path()).unwrap();
        let t = create(&c, Role::Platform, Some("douyin"), "now", None)
            .unwrap()
            .token;
        let stored: String = c
            .db()
            .query_row("SELECT sha256 FROM tokens", args![], |r| r.get(0))
            .unwrap();
        assert!(!stored.contains(&t[3..]));
        let a = lookup(&c, &t, 0).unwrap().unwrap();
        assert_eq!(a.role, Role::Platform);
        assert!(a.can_read(&c, "s", Some("douyin")));
        assert!(!a.can_read(&c, "s", Some("kuaishou")));
        assert!(lookup(&c, "lp_wrong", 0).unwrap().is_none());
        assert!(create(&c, Role::Platform, None, "now", None).is_err());
        let consumer = lookup(
            &c,
            &create(&c, Role::Consumer, None, "now", None).unwrap().token,
            0,
        )
        .unwrap()
        .unwrap();
        assert!(!consumer.can_read(&c, "s", None));
        record_upload(&c, "s", consumer.token_id).unwrap();
        assert!(consumer.can_read(&c, "s", None));
    }

    #[test]
    fn expired_and_revoked_tokens_resolve_to_nothing() {
        let d = tempfile::tempdir().unwrap();
        let c = crate::store::Store::open(d.path()).unwrap();
        let short = create(&c, Role::Auditor, None, "now", Some(100)).unwrap();
        assert!(lookup(&c, &short.token, 99).unwrap().is_some());
        assert!(lookup(&c, &short.token, 100).unwrap().is_none());
        let t = create(&c, Role::Auditor, None, "now", None).unwrap();
        assert_eq!(revoke(&c, &t.token, "then").unwrap(), Some(t.id));
        assert!(lookup(&c, &t.token, 0).unwrap().is_none());
        assert_eq!(revoke(&c, "999", "then").unwrap(), None);
        let l = list(&c, 100).unwrap();
        assert_eq!(l[0].status, "expired");
        assert_eq!(l[1].status, "revoked");
    }

    #[test]
    fn a_platform_token_uploads_only_for_its_own_platform() {
        let a = Access {
            token_id: 1,
            role: Role::Platform,
            platform: Some("douyin".into()),
        };
        assert!(a.upload_sidecar(Some(r#"{"platform":"taobao"}"#)).is_err());
        let filled = a.upload_sidecar(None).unwrap().unwrap();
        assert!(filled.contains(r#""platform":"douyin""#));
        let kept = a
            .upload_sidecar(Some(r#"{"platform":"douyin","room":"7"}"#))
            .unwrap()
            .unwrap();
        assert!(kept.contains(r#""room":"7""#));
    }
}
