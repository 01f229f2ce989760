//! The catalog database behind one small interface: SQLite in the data directory (the default)
//! or PostgreSQL (`--catalog postgres://…`), so sessions, the log, tokens and jobs mean the same
//! on one machine and on many. SQL is written once, in what both accept (`?N` placeholders are
//! rewritten to `$N` for PostgreSQL); table definitions go through [`Catalog::ddl`].
//!
//! Invariant: write transactions ([`Catalog::write`]) are serialised across every process that
//! shares the catalog (SQLite's write lock, a PostgreSQL advisory lock), so the log stays one
//! gap-free sequence however many nodes seal.

mod lite;
mod pg;

use std::cell::Cell;

use thiserror::Error;

pub use pg::{bind, bound, describe_url};

/// Why a catalog operation failed.
#[derive(Debug, Error)]
pub enum CatalogError {
    /// SQLite failed.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("{}", pg::describe(.0))]
    Postgres(#[from] postgres::Error),
    /// No connection could be had (the error that wraps this names the catalog).
    #[error("cannot connect: {0} (is PostgreSQL running there?)")]
    Connect(String),
    /// A column did not hold what the code expects.
    #[error("catalog column {index}: expected {expected}, found {found}")]
    Type {
        /// Column index.
        index: usize,
        /// The Rust type asked for.
        expected: &'static str,
        /// What was there.
        found: &'static str,
    },
    /// The operation was refused (the reason says why and what to do); nothing was written.
    #[error("{0}")]
    Refused(String),
    /// A query that must return a row returned none.
    #[error("the catalog returned no row")]
    NoRow,
}

/// Shorthand.
pub type Result<T> = std::result::Result<T, CatalogError>;

/// One SQL value, as both databases store it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL.
    Null,
    /// An integer (SQLite INTEGER, PostgreSQL BIGINT/INTEGER/BOOLEAN).
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes (SQLite BLOB, PostgreSQL BYTEA).
    Blob(Vec<u8>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Text(_) => "text",
            Value::Blob(_) => "bytes",
        }
    }
}

/// Something that binds as a SQL parameter (see [`args!`]).
pub trait Arg {
    /// The value bound.
    fn value(&self) -> Value;
}

macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn value(&self) -> Value {
                Value::Int(*self as i64)
            }
        }
    )*};
}
int_arg!(i64, i32, u32);

impl Arg for bool {
    fn value(&self) -> Value {
        Value::Int(*self as i64)
    }
}
impl Arg for str {
    fn value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl Arg for String {
    fn value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl Arg for [u8] {
    fn value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl Arg for Vec<u8> {
    fn value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl<T: Arg + ?Sized> Arg for &T {
    fn value(&self) -> Value {
        (**self).value()
    }
}
impl<T: Arg> Arg for Option<T> {
    fn value(&self) -> Value {
        self.as_ref().map_or(Value::Null, Arg::value)
    }
}

/// Parameters for a catalog query: `args![a, b]` binds `?1`, `?2`.
#[macro_export]
macro_rules! args {
    ($($e:expr),* $(,)?) => {
        &[$($crate::catalog::Arg::value(&$e)),*][..]
    };
}

/// One result row.
#[derive(Debug)]
pub struct Row(Vec<Value>);

impl Row {
    /// Column `i`, converted.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let v = self.0.get(i).unwrap_or(&Value::Null);
        T::from_value(v).ok_or(CatalogError::Type {
            index: i,
            expected: std::any::type_name::<T>(),
            found: v.kind(),
        })
    }
}

/// A Rust type a column converts to.
pub trait FromValue: Sized {
    /// None when the value does not fit.
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).map(|i| i != 0)
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// Which database a catalog is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite in the data directory.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

enum Backend {
    Sqlite(rusqlite::Connection),
    Postgres(Box<pg::Conn>),
}

/// An open catalog connection.
pub struct Catalog {
    backend: Backend,
    /// Depth of nested [`Catalog::write`] calls; only the outermost begins and ends.
    depth: Cell<u32>,
}

impl Catalog {
    /// A SQLite catalog over an open connection.
    pub fn sqlite(conn: rusqlite::Connection) -> Self {
        Self::new(Backend::Sqlite(conn))
    }

    /// A connection to the PostgreSQL catalog at `url` (pooled per URL).
    pub fn postgres(url: &str) -> Result<Self> {
        pg::connect(url).map(|c| Self::new(Backend::Postgres(Box::new(c))))
    }

    fn new(backend: Backend) -> Self {
        Self {
            backend,
            depth: Cell::new(0),
        }
    }

    /// Which database this is.
    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas, its schema table).
    pub(crate) fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.backend {
            Backend::Sqlite(c) => Some(c),
            Backend::Postgres(_) => None,
        }
    }

    /// Runs a statement; returns the rows it changed.
    pub fn execute(&self, sql: &str, args: &[Value]) -> Result<usize> {
        match &self.backend {
            Backend::Sqlite(c) => lite::execute(c, sql, args),
            Backend::Postgres(c) => c.execute(sql, args),
        }
    }

    /// Every row of a query, each mapped by `f`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        args: &[Value],
        mut f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let rows = match &self.backend {
            Backend::Sqlite(c) => lite::query(c, sql, args)?,
            Backend::Postgres(c) => c.query(sql, args)?,
        };
        rows.iter().map(&mut f).collect()
    }

    /// The first row of a query, if any.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        args: &[Value],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<Option<T>> {
        let rows = match &self.backend {
            Backend::Sqlite(c) => lite::query(c, sql, args)?,
            Backend::Postgres(c) => c.query(sql, args)?,
        };
        rows.first().map(f).transpose()
    }

    /// The first row of a query; [`CatalogError::NoRow`] when there is none.
    pub fn query_row<T>(
        &self,
        sql: &str,
        args: &[Value],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, args, f)?.ok_or(CatalogError::NoRow)
    }

    /// Runs several statements without parameters.
    pub fn batch(&self, sql: &str) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(c) => c.execute_batch(sql).map_err(Into::into),
            Backend::Postgres(c) => c.batch(sql),
        }
    }

    /// Creates tables: `sql` is written for SQLite; for PostgreSQL, `INTEGER PRIMARY KEY`
    /// becomes `BIGSERIAL PRIMARY KEY`, `INTEGER` `BIGINT` and `BLOB` `BYTEA`.
    pub fn ddl(&self, sql: &str) -> Result<()> {
        match self.dialect() {
            Dialect::Sqlite => self.batch(sql),
            Dialect::Postgres => self.batch(&pg::translate_ddl(sql)),
        }
    }

    /// Adds a column to an existing table unless it has it (older archives).
    pub fn add_column(&self, table: &str, column: &str, sql_type: &str) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(c) => {
                let n: i64 = c.query_row(
                    &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
                    [column],
                    |r| r.get(0),
                )?;
                if n == 0 {
                    c.execute_batch(&format!(
                        "ALTER TABLE {table} ADD COLUMN {column} {sql_type}"
                    ))?;
                }
                Ok(())
            }
            Backend::Postgres(c) => c.batch(&pg::translate_ddl(&format!(
                "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {sql_type}"
            ))),
        }
    }

    /// Runs `f` in a write transaction, serialised against every other writer of this catalog;
    /// commits when it returns `Ok`, rolls back otherwise. Nested calls join the outer one.
    pub fn write<T, E: From<CatalogError>>(
        &self,
        f: impl FnOnce(&Catalog) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        if self.depth.get() > 0 {
            return f(self);
        }
        self.batch(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => pg::BEGIN_WRITE,
        })?;
        self.depth.set(1);
        let out = f(self);
        self.depth.set(0);
        match out {
            Ok(v) => {
                if let Err(e) = self.batch("COMMIT") {
                    let _ = self.batch("ROLLBACK");
                    return Err(e.into());
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

impl Drop for Catalog {
    fn drop(&mut self) {
        // A panic inside `write` must not hand a connection in a transaction back to the pool.
        if self.depth.get() > 0 {
            let _ = self.batch("ROLLBACK");
        }
    }
}
