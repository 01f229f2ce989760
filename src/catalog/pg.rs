//! The PostgreSQL side of [`super::Catalog`]: pooled connections per URL, `?N` → `$N`, and
//! values converted to the column types PostgreSQL asks for.

use std::collections::HashMap;
use std::error::Error;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use bytes::BytesMut;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;

use super::{CatalogError, Result, Row, Value};

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// Begins a write transaction holding the catalog's write lock (released at COMMIT/ROLLBACK).
pub(super) const BEGIN_WRITE: &str = "BEGIN; SELECT pg_advisory_xact_lock(7431203344001)";

/// Connections one process keeps open to one catalog.
const POOL_SIZE: u32 = 16;

static BOUND: OnceLock<String> = OnceLock::new();
static POOLS: OnceLock<Mutex<HashMap<String, Pool>>> = OnceLock::new();

/// Makes every archive this process opens keep its catalog in PostgreSQL at `url` (set once, by
/// the command line's `--catalog`); the data directory then holds only local files and caches.
pub fn bind(url: &str) {
    let _ = BOUND.set(url.to_string());
}

/// The PostgreSQL catalog this process is bound to, if any.
pub fn bound() -> Option<&'static str> {
    BOUND.get().map(String::as_str)
}

/// `url` with its password replaced by `***`, for messages.
pub fn describe_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = &url[s + 3..at];
            match user.split_once(':') {
                Some((u, _)) => format!("{}{u}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A PostgreSQL error with the server's own message when there is one.
pub(super) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "PostgreSQL: {} (SQLSTATE {})",
            db.message(),
            db.code().code()
        ),
        None => match e.source() {
            Some(s) => format!("PostgreSQL: {e}: {s}"),
            None => format!("PostgreSQL: {e}"),
        },
    }
}

fn pool(url: &str) -> Result<Pool> {
    let pools = POOLS.get_or_init(Default::default);
    let mut pools = pools.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = pools.get(url) {
        return Ok(p.clone());
    }
    let config: postgres::Config = url
        .parse()
        .map_err(|e| CatalogError::Connect(format!("{e}")))?;
    let manager = PostgresConnectionManager::new(config, NoTls);
    let p = r2d2::Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(5))
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build(manager)
        .map_err(|e| CatalogError::Connect(e.to_string()))?;
    pools.insert(url.to_string(), p.clone());
    Ok(p)
}

/// A pooled connection.
pub(super) struct Conn(
    std::cell::RefCell<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>>,
);

pub(super) fn connect(url: &str) -> Result<Conn> {
    let p = pool(url)?;
    let c = p.get().map_err(|e| CatalogError::Connect(e.to_string()))?;
    Ok(Conn(std::cell::RefCell::new(c)))
}

/// `?N` placeholders (outside quoted text) become `$N`.
fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '?' && !quoted && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// SQLite table definitions in PostgreSQL's types.
pub(super) fn translate_ddl(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY")
        .replace("INTEGER", "BIGINT")
        .replace("BLOB", "BYTEA")
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn row(r: &postgres::Row) -> Result<Row> {
    let mut values = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let v = match *col.type_() {
            Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Value::Int),
            Type::INT4 => r
                .try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::INT2 => r
                .try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::BOOL => r
                .try_get::<_, Option<bool>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
            _ => r.try_get::<_, Option<String>>(i)?.map(Value::Text),
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

fn params(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl Conn {
    pub(super) fn execute(&self, sql: &str, args: &[Value]) -> Result<usize> {
        let n = self
            .0
            .borrow_mut()
            .execute(&placeholders(sql), &params(args))?;
        Ok(n as usize)
    }

    pub(super) fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        let rows = self
            .0
            .borrow_mut()
            .query(&placeholders(sql), &params(args))?;
        rows.iter().map(row).collect()
    }

    pub(super) fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.0.borrow_mut().batch_execute(sql)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_outside_quoted_text() {
        assert_eq!(
            placeholders("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d LIKE ?12 || '%'"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d LIKE $12 || '%'"
        );
    }

    #[test]
    fn sqlite_table_definitions_get_postgres_types() {
        assert_eq!(
            translate_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, b BLOB)"),
            "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL, b BYTEA)"
        );
    }
}
