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

/// A search with its filters.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Query text (see [`query`] for the syntax).
    pub query: String,
    /// Hits per page.
    pub limit: usize,
    /// Hits to skip (pagination).
    pub offset: usize,
    /// Only this session.
    pub session: Option<String>,
    /// Only this platform.
    pub platform: Option<String>,
    /// Only this room.
    pub room: Option<String>,
    /// Only this host.
    pub host: Option<String>,
    /// Sessions started at or after this time.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Sessions started before this time.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only segments in this language.
    pub language: Option<String>,
    /// Only segments carrying all these claim flags.
    pub flags: Vec<String>,
    /// Only sessions carrying all these tags.
    pub tags: Vec<String>,
    /// Order.
    pub sort: Sort,
    /// Only these sessions (a consumer's own), applied inside the query so that `total` and
    /// paging count only them; `None` means no such restriction.
    pub within: Option<Vec<String>>,
    /// Paging limits `limit` and `offset` are checked against.
    pub paging: crate::limits::Paging,
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
    /// Text with the matched words in `<b>…</b>` (HTML-escaped).
    pub snippet: String,
    /// Language of the segment.
    pub language: String,
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
    data.join("tantivy")
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
    let (index, f) = open_or_create(&dir)?;
    let mut w = writer(&index, &dir, 1, 50_000_000)?;
    add_session(&w, &f, &m, &t).map_err(err)?;
    crate::fault::point("index.before_commit");
    w.commit().map_err(err)?;
    crate::fault::point("index.committed");
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
    let sessions = store.list()?;
    for (i, row) in sessions.iter().enumerate() {
        let m = store.manifest(&row.session)?;
        let t = store.transcript(&row.session)?;
        add_session(&w, &f, &m, &t).map_err(err)?;
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
        req.paging.check(req.limit as u64, req.offset as u64)?;
        let ast = query::parse(&req.query)?;
        let dir = &self.dir;
        let err = |source| SearchError::Index {
            path: dir.clone(),
            source,
        };
        let f = self.fields;
        let text_query = query::compile(&ast, f.text);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, text_query.box_clone()),
            (Occur::Must, term(f.kind, "segment")),
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
        let top = TopDocs::with_limit(req.limit.max(1)).and_offset(req.offset);
        let addrs: Vec<(f32, tantivy::DocAddress)> = match req.sort {
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
            let mut snippet = snippets.snippet(&text);
            if snippet.is_empty() {
                // Prefix queries give the generator no terms: show the start of the text.
                snippet = tantivy::snippet::Snippet::empty();
            }
            let html = if snippet.fragment().is_empty() {
                html_escape(&text.chars().take(160).collect::<String>())
            } else {
                snippet.to_html()
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
                snippet: html,
                language: s(f.language).unwrap_or_default(),
                platform: s(f.platform),
                room: s(f.room),
                host: s(f.host),
                started_at,
                score,
            });
        }
        Ok(Results { total, hits })
    }
}

/// Runs one search (opens the index; use [`Searcher`] for many).
pub fn search(data: &Path, req: &Request) -> Result<Results, SearchError> {
    req.paging.check(req.limit as u64, req.offset as u64)?;
    query::parse(&req.query)?;
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
}
