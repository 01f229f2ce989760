//! Full-text search over every transcript, in Chinese and English, with tantivy.
//!
//! The index lives in `<data>/tantivy` and is derived: the store is the source of truth, and
//! [`reindex`] rebuilds it from the store at any time. One document per segment and one per
//! session. Invariant: nothing outside this module builds a tantivy query or names a field.

pub mod analyzer;
pub mod query;
pub mod schema;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery, TermSetQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DateTime, Index, IndexWriter, Order, TantivyDocument, Term};
use thiserror::Error;

use crate::manifest::Manifest;
use crate::store::{Store, StoreError};
use crate::transcript::Transcript;
use schema::Fields;

/// Why a search or an index update failed.
#[derive(Debug, Error)]
pub enum SearchError {
    /// The query does not parse.
    #[error(transparent)]
    Syntax(#[from] query::SyntaxError),
    /// A filter value is malformed.
    #[error("{0}")]
    Filter(String),
    /// The page asked for is outside the paging limits.
    #[error(transparent)]
    Paging(#[from] crate::limits::PagingError),
    /// The index is damaged or unreadable.
    #[error("search index `{path}`: {source}; rebuild it with `liveproof reindex`")]
    Index {
        /// Index directory.
        path: PathBuf,
        /// tantivy's error.
        source: tantivy::TantivyError,
    },
    /// Another process held the index writer for too long.
    #[error("search index `{0}` is busy (another ingest or reindex is writing); try again")]
    Busy(PathBuf),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a search looks in: what was said, the live comments, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The transcripts.
    #[default]
    Speech,
    /// The live comments (danmaku).
    Comments,
    /// Both.
    All,
}

/// How hits are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Best match first (BM25).
    #[default]
    Relevance,
    /// Oldest first (session start + offset).
    Time,
}

/// A search with its filters: the one struct behind `liveproof search` (clap), the query string
/// of `GET /api/search` (serde: `q`, `limit`, `offset`, `session`, `platform`, `room`, `host`,
/// `since`, `until`, `lang`, `flag`, `tag`, `sort`; `flag` and `tag` may repeat) and library
/// callers. Adding a filter means a field here and its clause in [`Searcher::search`].
#[derive(Debug, Clone, clap::Args, serde::Deserialize)]
pub struct Request {
    /// The query; may be empty ("") when a filter is given: every segment the filters keep,
    /// in time order.
    #[arg(allow_hyphen_values = true)]
    #[serde(rename = "q", default)]
    pub query: String,
    /// Hits per page (1 to 200).
    #[arg(long, default_value_t = DEFAULT_LIMIT)]
    #[serde(default = "default_limit")]
    pub limit: u64,
    /// Hits to skip (next pages), at most 9,800: narrow the query to reach further.
    #[arg(long, default_value_t = 0)]
    #[serde(default)]
    pub offset: u64,
    /// Only this session (id).
    #[arg(long)]
    pub session: Option<String>,
    /// Only this platform (sidecar `platform`).
    #[arg(long)]
    pub platform: Option<String>,
    /// Only this room (sidecar `room`).
    #[arg(long)]
    pub room: Option<String>,
    /// Only this host (sidecar `host`).
    #[arg(long)]
    pub host: Option<String>,
    /// Sessions started on or after this date.
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    #[serde(default, deserialize_with = "de_since")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Sessions started on or before this date.
    #[arg(long, value_name = "DATE", value_parser = parse_until)]
    #[serde(default, deserialize_with = "de_until")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only segments in this language (zh, en, ...).
    #[arg(long = "lang")]
    #[serde(rename = "lang")]
    pub language: Option<String>,
    /// Only segments flagged with this claim category (repeatable).
    #[arg(long = "flag", value_name = "CATEGORY")]
    #[serde(default, rename = "flag")]
    pub flags: Vec<String>,
    /// Only sessions with this tag (repeatable).
    #[arg(long = "tag")]
    #[serde(default, rename = "tag")]
    pub tags: Vec<String>,
    /// Order of hits.
    #[arg(long, value_enum, default_value = "relevance")]
    #[serde(default)]
    pub sort: Sort,
    /// Search what was said, the live comments, or both.
    #[arg(long, value_enum, default_value = "speech")]
    #[serde(default)]
    pub source: Source,
    /// Only these sessions (a consumer's own), applied inside the query so that `total` and
    /// paging count only them; `None` means no such restriction. Set from the caller's
    /// access scope, never from user input.
    #[arg(skip)]
    #[serde(skip)]
    pub within: Option<Vec<String>>,
    /// Paging limits `limit` and `offset` are checked against.
    #[arg(skip)]
    #[serde(skip)]
    pub paging: crate::limits::Paging,
}

impl Default for Request {
    /// An empty query, first page of [`DEFAULT_LIMIT`] hits, no filters, by relevance: the
    /// defaults an empty query string gets, so that they are written down once.
    fn default() -> Self {
        serde_json::from_value(serde_json::json!({ "q": "" }))
            .expect("every field but q has a serde default")
    }
}

/// Hits per page unless a request says otherwise.
pub const DEFAULT_LIMIT: u64 = 20;

fn default_limit() -> u64 {
    DEFAULT_LIMIT
}

impl Request {
    /// Whether the caller gave a filter (an empty query needs one; the access scope `within`
    /// is not the caller's filter).
    pub fn is_filtered(&self) -> bool {
        self.session.is_some()
            || self.platform.is_some()
            || self.room.is_some()
            || self.host.is_some()
            || self.language.is_some()
            || self.since.is_some()
            || self.until.is_some()
            || !self.flags.is_empty()
            || !self.tags.is_empty()
    }

    /// The parsed query; `None` for an empty query with a filter (everything it keeps).
    fn parsed(&self) -> Result<Option<query::Ast>, SearchError> {
        if self.query.trim().is_empty() && self.is_filtered() {
            return Ok(None);
        }
        query::parse(&self.query).map(Some).map_err(|mut e| {
            if self.query.trim().is_empty() {
                e.message = "the query is empty: give words, or a filter (--platform, --since, --flag …) to list everything it keeps".into();
            }
            e.into()
        })
    }
}

/// Deserializes a `since` date (YYYY-MM-DD or RFC 3339) from a query string.
pub(crate) fn de_since<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    s.as_deref()
        .map(parse_since)
        .transpose()
        .map_err(serde::de::Error::custom)
}

/// Deserializes an `until` date (inclusive) from a query string.
pub(crate) fn de_until<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    s.as_deref()
        .map(parse_until)
        .transpose()
        .map_err(serde::de::Error::custom)
}

/// One matching segment.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// Session id.
    pub session: String,
    /// Segment index in the session.
    pub index: u64,
    /// Start, ms from the start of the recording.
    pub start_ms: u64,
    /// End, ms from the start of the recording.
    pub end_ms: u64,
    /// Normalised text of the segment.
    pub text: String,
    /// Text with the matched words in `<b>…</b>` (HTML-escaped): `passage` rendered for a
    /// web page.
    pub snippet: String,
    /// The passage shown and where the matched words are in it, for other renderings (a
    /// terminal's bold).
    #[serde(skip)]
    pub passage: Passage,
    /// Language of the segment (empty for a comment).
    pub language: String,
    /// `speech` (a transcript segment) or `comments` (a live comment).
    pub source: &'static str,
    /// The comment's account (comments only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Platform, room, host from the sidecar, when known.
    pub platform: Option<String>,
    /// Room.
    pub room: Option<String>,
    /// Host.
    pub host: Option<String>,
    /// Session start (RFC 3339).
    pub started_at: String,
    /// BM25 score (0 when sorted by time).
    pub score: f32,
    /// The broadcast the session belongs to (`broadcasts::place_hits`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<String>,
    /// Where the hit starts on the broadcast's timeline (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcast_ms: Option<u64>,
}

/// The part of a segment's text a hit shows, with the matched words marked by byte ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Passage {
    /// The text shown (at most 160 characters of the segment).
    pub fragment: String,
    /// Byte ranges of `fragment` holding matched words, in order, not overlapping.
    pub highlighted: Vec<std::ops::Range<usize>>,
}

impl Passage {
    /// The fragment with each matched word between `on` and `off`, every piece of text
    /// passed through `escape` first (HTML escaping for a page, nothing for a terminal).
    pub fn render(&self, on: &str, off: &str, escape: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut at = 0;
        for r in &self.highlighted {
            let (Some(before), Some(word)) =
                (self.fragment.get(at..r.start), self.fragment.get(r.clone()))
            else {
                continue;
            };
            out.push_str(&escape(before));
            out.push_str(on);
            out.push_str(&escape(word));
            out.push_str(off);
            at = r.end;
        }
        out.push_str(&escape(self.fragment.get(at..).unwrap_or_default()));
        out
    }
}

/// A page of results.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// Matching segments in all.
    pub total: usize,
    /// This page.
    pub hits: Vec<Hit>,
}

/// Index directory inside a data directory.
pub fn index_dir(data: &Path) -> PathBuf {
    crate::layout::index(data)
}

fn open_or_create(dir: &Path) -> Result<(Index, Fields), SearchError> {
    let err = |source| SearchError::Index {
        path: dir.to_path_buf(),
        source,
    };
    let (schema, fields) = schema::build();
    std::fs::create_dir_all(dir).map_err(|e| err(e.into()))?;
    let index = Index::open_or_create(
        tantivy::directory::MmapDirectory::open(dir).map_err(|e| err(e.into()))?,
        schema,
    )
    .map_err(err)?;
    index
        .tokenizers()
        .register(analyzer::NAME, analyzer::analyzer());
    Ok((index, fields))
}

/// Takes the index writer, waiting while another process holds it.
fn writer(
    index: &Index,
    dir: &Path,
    threads: usize,
    budget: usize,
) -> Result<IndexWriter, SearchError> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        match index.writer_with_num_threads(threads, budget) {
            Ok(w) => return Ok(w),
            Err(tantivy::TantivyError::LockFailure(..)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(tantivy::TantivyError::LockFailure(..)) => {
                return Err(SearchError::Busy(dir.to_path_buf()))
            }
            Err(source) => {
                return Err(SearchError::Index {
                    path: dir.to_path_buf(),
                    source,
                })
            }
        }
    }
}

fn session_start(m: &Manifest) -> chrono::DateTime<chrono::Utc> {
    m.metadata
        .as_ref()
        .and_then(|md| crate::sidecar::field(md, "started_at"))
        .or(Some(m.ingested_at.as_str()))
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default()
}

/// Adds one session's documents (after removing any earlier ones) to `w`.
pub fn add_session(
    w: &IndexWriter,
    f: &Fields,
    m: &Manifest,
    t: &Transcript,
    comments: &[crate::comments::Comment],
) -> tantivy::Result<()> {
    w.delete_term(Term::from_field_text(f.session, &m.session));
    let start = session_start(m);
    let started = DateTime::from_timestamp_millis(start.timestamp_millis());
    let meta = |k: &str| {
        m.metadata
            .as_ref()
            .and_then(|md| crate::sidecar::field(md, k))
            .map(str::to_string)
    };
    let (platform, room, host) = (meta("platform"), meta("room"), meta("host"));
    let base = |kind: &str| {
        let mut d = TantivyDocument::default();
        d.add_text(f.kind, kind);
        d.add_text(f.session, &m.session);
        for (field, v) in [(f.platform, &platform), (f.room, &room), (f.host, &host)] {
            if let Some(v) = v {
                d.add_text(field, v);
            }
        }
        d.add_date(f.started_at, started);
        for tag in &m.tags {
            d.add_text(f.tags, tag);
        }
        d
    };
    let epoch_ms = start.timestamp_millis().max(0) as u64;
    let flags_of = |index: usize| -> Vec<&str> {
        let mut v: Vec<&str> = m
            .claims
            .iter()
            .flat_map(|c| c.flags.iter())
            .filter(|f| f.segment == index)
            .map(|f| f.flag.category.as_str())
            .collect();
        v.dedup();
        v
    };
    for s in &t.segments {
        let mut d = base("segment");
        for flag in flags_of(s.index) {
            d.add_text(f.flags, flag);
        }
        d.add_text(f.language, &s.language);
        d.add_u64(f.index, s.index as u64);
        d.add_u64(f.start_ms, s.start_ms);
        d.add_u64(f.end_ms, s.end_ms);
        d.add_u64(f.at_ms, epoch_ms + s.start_ms);
        d.add_text(f.text, &s.text);
        d.add_text(f.raw_text, &s.raw_text);
        w.add_document(d)?;
    }
    // Live comments: documents of their own kind, at their time; the account in `raw_text`.
    for c in comments {
        let mut d = base("comment");
        d.add_u64(f.index, c.index as u64);
        d.add_u64(f.start_ms, c.t_ms);
        d.add_u64(f.end_ms, c.t_ms);
        d.add_u64(f.at_ms, epoch_ms + c.t_ms);
        d.add_text(f.text, &c.text);
        d.add_text(f.raw_text, c.user.as_deref().unwrap_or(""));
        w.add_document(d)?;
    }
    let mut d = base("session");
    d.add_text(f.language, &m.language);
    d.add_u64(f.start_ms, 0);
    d.add_u64(f.end_ms, m.duration_ms);
    d.add_u64(f.at_ms, epoch_ms);
    let full: Vec<&str> = t.segments.iter().map(|s| s.text.as_str()).collect();
    d.add_text(f.text, full.join("\n"));
    w.add_document(d)?;
    Ok(())
}

/// Indexes (or re-indexes) one session of the store and commits.
pub fn index_session(store: &Store, session: &str) -> Result<(), SearchError> {
    let dir = index_dir(store.root());
    let err = |source| SearchError::Index {
        path: dir.clone(),
        source,
    };
    let m = store.manifest(session)?;
    let t = store.transcript(session)?;
    let c = store
        .comments(session)?
        .map(|c| c.comments)
        .unwrap_or_default();
    let (index, f) = open_or_create(&dir)?;
    let mut w = writer(&index, &dir, 1, 50_000_000)?;
    add_session(&w, &f, &m, &t, &c).map_err(err)?;
    crate::fault::point("index.before_commit");
    w.commit().map_err(err)?;
    crate::fault::point("index.committed");
    Ok(())
}

/// Removes one session's documents (a deletion) and commits.
pub fn remove_session(store: &Store, session: &str) -> Result<(), SearchError> {
    let dir = index_dir(store.root());
    if !dir.join("meta.json").exists() {
        return Ok(());
    }
    let err = |source| SearchError::Index {
        path: dir.clone(),
        source,
    };
    let (index, f) = open_or_create(&dir)?;
    let mut w = writer(&index, &dir, 1, 15_000_000)?;
    w.delete_term(Term::from_field_text(f.session, session));
    w.commit().map_err(err)?;
    Ok(())
}

/// Indexes every catalogued session the index lacks (a run killed between the catalog commit
/// and the index commit leaves one); returns their ids.
pub fn catch_up(store: &Store) -> Result<Vec<String>, SearchError> {
    let dir = index_dir(store.root());
    let err = |source| SearchError::Index {
        path: dir.clone(),
        source,
    };
    let (index, f) = open_or_create(&dir)?;
    let searcher = index.reader().map_err(err)?.searcher();
    let mut missing = Vec::new();
    for row in store.list()? {
        let q = TermQuery::new(
            Term::from_field_text(f.session, &row.session),
            IndexRecordOption::Basic,
        );
        if searcher.search(&q, &Count).map_err(err)? == 0 {
            missing.push(row.session);
        }
    }
    drop(searcher);
    for s in &missing {
        index_session(store, s)?;
    }
    Ok(missing)
}

/// Brings this node's index up to the catalog's change sequence — sessions sealed or deleted
/// by any node sharing the catalog since the position kept beside the index — so every API
/// node answers searches over the same sessions. Returns how many changes were applied.
pub fn follow(store: &Store) -> Result<usize, SearchError> {
    let pos_path = crate::layout::index_position(store.root());
    let mut pos: i64 = std::fs::read_to_string(&pos_path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let mut applied = 0;
    loop {
        let batch = store.changes_after(pos, 256)?;
        let Some(last) = batch.last().map(|c| c.seq) else {
            break;
        };
        for c in &batch {
            if c.deleted {
                remove_session(store, &c.session)?;
            } else if store.get(&c.session)?.is_some() && !has_session(store.root(), &c.session)? {
                index_session(store, &c.session)?;
            }
        }
        applied += batch.len();
        pos = last;
        crate::fsutil::write_atomic(&pos_path, pos.to_string().as_bytes()).map_err(|e| {
            SearchError::Index {
                path: pos_path.clone(),
                source: e.into(),
            }
        })?;
    }
    Ok(applied)
}

/// True when the index has documents for `session`.
pub fn has_session(data: &Path, session: &str) -> Result<bool, SearchError> {
    let dir = index_dir(data);
    if !dir.join("meta.json").exists() {
        return Ok(false);
    }
    let (index, f) = open_or_create(&dir)?;
    let reader = index.reader().map_err(|source| SearchError::Index {
        path: dir.clone(),
        source,
    })?;
    let q = TermQuery::new(
        Term::from_field_text(f.session, session),
        IndexRecordOption::Basic,
    );
    let n = reader
        .searcher()
        .search(&q, &Count)
        .map_err(|source| SearchError::Index { path: dir, source })?;
    Ok(n > 0)
}

/// Rebuilds the whole index from the store; returns the number of sessions indexed.
/// The old index stays readable (and its writer is held, so ingests wait) until the new one
/// is complete, then the two are swapped.
pub fn reindex(store: &Store, progress: &dyn Fn(usize, usize)) -> Result<usize, SearchError> {
    let root = store.root();
    let dir = index_dir(root);
    let new_dir = root.join("tantivy.new");
    let old_dir = root.join("tantivy.old");
    let _ = std::fs::remove_dir_all(&new_dir);
    let _ = std::fs::remove_dir_all(&old_dir);
    let (old_index, _) = open_or_create(&dir)?;
    let _hold = writer(&old_index, &dir, 1, 15_000_000)?;
    let err = |source| SearchError::Index {
        path: new_dir.clone(),
        source,
    };
    let (index, f) = open_or_create(&new_dir)?;
    let mut w = writer(&index, &new_dir, 1, 100_000_000)?;
    // Everything up to here is in the rebuilt index; followers go on from this position.
    let position = store.last_change()?;
    let sessions = store.list()?;
    for (i, row) in sessions.iter().enumerate() {
        let m = store.manifest(&row.session)?;
        let t = store.transcript(&row.session)?;
        let c = store
            .comments(&row.session)?
            .map(|c| c.comments)
            .unwrap_or_default();
        add_session(&w, &f, &m, &t, &c).map_err(err)?;
        progress(i + 1, sessions.len());
    }
    w.commit().map_err(err)?;
    w.wait_merging_threads().map_err(err)?;
    drop(_hold);
    let io = |e: std::io::Error| SearchError::Index {
        path: dir.clone(),
        source: e.into(),
    };
    std::fs::rename(&dir, &old_dir).map_err(io)?;
    std::fs::rename(&new_dir, &dir).map_err(io)?;
    let _ = std::fs::remove_dir_all(&old_dir);
    crate::fsutil::write_atomic(
        &crate::layout::index_position(root),
        position.to_string().as_bytes(),
    )
    .map_err(io)?;
    crate::fsutil::sync_dir(root);
    Ok(sessions.len())
}

fn parse_date(s: &str, end_of_day: bool) -> Result<chrono::DateTime<chrono::Utc>, SearchError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        SearchError::Filter(format!(
            "date {s:?} is neither YYYY-MM-DD nor RFC 3339 (2026-05-01T20:00:00+08:00)"
        ))
    })?;
    let d = if end_of_day {
        d.succ_opt().unwrap_or(d)
    } else {
        d
    };
    Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// Parses `--since` (inclusive, start of day for a bare date, UTC).
pub fn parse_since(s: &str) -> Result<chrono::DateTime<chrono::Utc>, SearchError> {
    parse_date(s, false)
}

/// Parses `--until` (inclusive: a bare date means up to the end of that day, UTC).
pub fn parse_until(s: &str) -> Result<chrono::DateTime<chrono::Utc>, SearchError> {
    parse_date(s, true)
}

/// The document kinds a source covers.
fn kinds(kind: tantivy::schema::Field, source: Source) -> Box<dyn Query> {
    match source {
        Source::Speech => term(kind, "segment"),
        Source::Comments => term(kind, "comment"),
        Source::All => Box::new(TermSetQuery::new([
            Term::from_field_text(kind, "segment"),
            Term::from_field_text(kind, "comment"),
        ])),
    }
}

fn term(field: tantivy::schema::Field, v: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, v),
        IndexRecordOption::Basic,
    ))
}

/// An open index with a reader, for running many searches (the server keeps one).
pub struct Searcher {
    dir: PathBuf,
    fields: Fields,
    reader: tantivy::IndexReader,
}

impl Searcher {
    /// Opens the index of a data directory; `None` when nothing was indexed yet.
    pub fn open(data: &Path) -> Result<Option<Self>, SearchError> {
        let dir = index_dir(data);
        if !dir.join("meta.json").exists() {
            return Ok(None);
        }
        let (index, fields) = open_or_create(&dir)?;
        let reader = index.reader().map_err(|source| SearchError::Index {
            path: dir.clone(),
            source,
        })?;
        Ok(Some(Self {
            dir,
            fields,
            reader,
        }))
    }

    /// Runs a search.
    pub fn search(&self, req: &Request) -> Result<Results, SearchError> {
        let (limit, offset) = req.paging.check(req.limit, req.offset)?;
        let ast = req.parsed()?;
        let dir = &self.dir;
        let err = |source| SearchError::Index {
            path: dir.clone(),
            source,
        };
        let f = self.fields;
        let text_query: Box<dyn Query> = match &ast {
            Some(ast) => query::compile(ast, f.text),
            None => Box::new(tantivy::query::AllQuery),
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, text_query.box_clone()),
            (Occur::Must, kinds(f.kind, req.source)),
        ];
        for (field, v) in [
            (f.session, &req.session),
            (f.platform, &req.platform),
            (f.room, &req.room),
            (f.host, &req.host),
            (f.language, &req.language),
        ] {
            if let Some(v) = v {
                clauses.push((Occur::Must, term(field, v)));
            }
        }
        if let Some(within) = &req.within {
            let terms = within.iter().map(|s| Term::from_field_text(f.session, s));
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
        }
        for flag in &req.flags {
            clauses.push((Occur::Must, term(f.flags, flag)));
        }
        for tag in &req.tags {
            clauses.push((Occur::Must, term(f.tags, tag)));
        }
        if req.since.is_some() || req.until.is_some() {
            use std::ops::Bound;
            let bound = |t: Option<chrono::DateTime<chrono::Utc>>, incl: bool| match t {
                Some(t) => {
                    let term = Term::from_field_date(
                        f.started_at,
                        DateTime::from_timestamp_millis(t.timestamp_millis()),
                    );
                    if incl {
                        Bound::Included(term)
                    } else {
                        Bound::Excluded(term)
                    }
                }
                None => Bound::Unbounded,
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    bound(req.since, true),
                    bound(req.until, false),
                )),
            ));
        }
        let full = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let total = searcher.search(&full, &Count).map_err(err)?;
        let top = TopDocs::with_limit(limit).and_offset(offset);
        // Without words there is no relevance: filtered listings come in time order.
        let sort = if ast.is_none() { Sort::Time } else { req.sort };
        let addrs: Vec<(f32, tantivy::DocAddress)> = match sort {
            Sort::Relevance => searcher.search(&full, &top.order_by_score()).map_err(err)?,
            Sort::Time => searcher
                .search(&full, &top.order_by_fast_field::<u64>("at_ms", Order::Asc))
                .map_err(err)?
                .into_iter()
                .map(|(_, a)| (0.0, a))
                .collect(),
        };
        let mut snippets =
            SnippetGenerator::create(&searcher, &*text_query, f.text).map_err(err)?;
        snippets.set_max_num_chars(160);
        let mut hits = Vec::with_capacity(addrs.len());
        for (score, addr) in addrs {
            let doc: TantivyDocument = searcher.doc(addr).map_err(err)?;
            let s = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let n = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
            let text = s(f.text).unwrap_or_default();
            let is_comment = s(f.kind).as_deref() == Some("comment");
            let snippet = snippets.snippet(&text);
            let passage = if snippet.fragment().is_empty() {
                // Prefix queries give the generator no terms: show the start of the text.
                Passage {
                    fragment: text.chars().take(160).collect(),
                    highlighted: Vec::new(),
                }
            } else {
                Passage {
                    fragment: snippet.fragment().to_string(),
                    highlighted: snippet.highlighted().to_vec(),
                }
            };
            let started_at = doc
                .get_first(f.started_at)
                .and_then(|v| v.as_datetime())
                .map(|d| {
                    chrono::DateTime::from_timestamp_millis(d.into_timestamp_millis())
                        .unwrap_or_default()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                })
                .unwrap_or_default();
            hits.push(Hit {
                session: s(f.session).unwrap_or_default(),
                index: n(f.index),
                start_ms: n(f.start_ms),
                end_ms: n(f.end_ms),
                text,
                snippet: passage.render("<b>", "</b>", html_escape),
                passage,
                language: s(f.language).unwrap_or_default(),
                source: if is_comment { "comments" } else { "speech" },
                user: if is_comment {
                    s(f.raw_text).filter(|u| !u.is_empty())
                } else {
                    None
                },
                platform: s(f.platform),
                room: s(f.room),
                host: s(f.host),
                started_at,
                score,
                broadcast: None,
                broadcast_ms: None,
            });
        }
        Ok(Results { total, hits })
    }
}

/// Runs one search (opens the index; use [`Searcher`] for many).
pub fn search(data: &Path, req: &Request) -> Result<Results, SearchError> {
    req.paging.check(req.limit, req.offset)?;
    req.parsed()?;
    match Searcher::open(data)? {
        Some(s) => s.search(req),
        None => Ok(Results {
            total: 0,
            hits: Vec::new(),
        }),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        request: Request,
    }

    /// The command line and the query string are the same struct: the same words give the
    /// same request.
    #[test]
    fn command_line_and_query_string_give_the_same_request() {
        let cli = Cli::try_parse_from([
            "search",
            "最好",
            "--limit",
            "5",
            "--offset",
            "10",
            "--platform",
            "douyin",
            "--since",
            "2026-05-01",
            "--until",
            "2026-05-31",
            "--lang",
            "zh",
            "--flag",
            "absolute_terms",
            "--flag",
            "pressure",
            "--tag",
            "digital_host",
            "--sort",
            "time",
        ])
        .unwrap()
        .request;
        let web: Request = serde_html_form::from_str(
            "q=%E6%9C%80%E5%A5%BD&limit=5&offset=10&platform=douyin&since=2026-05-01&until=2026-05-31&lang=zh&flag=absolute_terms&flag=pressure&tag=digital_host&sort=time",
        )
        .unwrap();
        assert_eq!(format!("{cli:?}"), format!("{web:?}"));
        assert_eq!(web.flags, ["absolute_terms", "pressure"]);
        assert_eq!(web.limit, 5);
        assert!(web.until.unwrap() > web.since.unwrap());
    }

    #[test]
    fn defaults_are_the_same_everywhere() {
        let cli = Cli::try_parse_from(["search", "x"]).unwrap().request;
        let web: Request = serde_html_form::from_str("q=x").unwrap();
        let lib = Request {
            query: "x".into(),
            ..Default::default()
        };
        assert_eq!(format!("{cli:?}"), format!("{web:?}"));
        assert_eq!(format!("{cli:?}"), format!("{lib:?}"));
        assert_eq!(lib.limit, DEFAULT_LIMIT);
    }

    #[test]
    fn a_bad_date_or_a_missing_query_is_refused_with_its_reason() {
        let e = serde_html_form::from_str::<Request>("q=x&since=last-tuesday").unwrap_err();
        assert!(e.to_string().contains("last-tuesday"), "{e}");
        // No query is an empty one: refused unless a filter narrows it.
        let r: Request = serde_html_form::from_str("limit=3").unwrap();
        assert!(r
            .parsed()
            .unwrap_err()
            .to_string()
            .contains("give words, or a filter"));
        let r: Request = serde_html_form::from_str("platform=douyin").unwrap();
        assert!(r.parsed().unwrap().is_none());
        // The access scope is never taken from the caller.
        let r: Request = serde_html_form::from_str("q=x&within=abc&paging=1").unwrap();
        assert!(r.within.is_none());
    }

    #[test]
    fn a_passage_renders_escaped_for_a_page_and_plain_for_a_terminal() {
        let p = Passage {
            fragment: "a <b> 最好 & 第一".into(),
            highlighted: vec![6..12, 15..21],
        };
        assert_eq!(
            p.render("<b>", "</b>", html_escape),
            "a &lt;b&gt; <b>最好</b> &amp; <b>第一</b>"
        );
        assert_eq!(p.render("[", "]", str::to_string), "a <b> [最好] & [第一]");
        // Ranges off character boundaries are skipped, never a panic.
        let bad = Passage {
            fragment: "最好".into(),
            highlighted: vec![1..2, 4..5],
        };
        assert_eq!(bad.render("[", "]", str::to_string), "最好");
    }
}
