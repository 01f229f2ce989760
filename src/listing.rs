//! The session list reviewers browse: catalog rows with what each manifest says (start time,
//! digital-host and disclosure verdicts, claim count), filtered, sorted and paged. One request
//! type serves `liveproof sessions` (clap) and `GET /api/sessions` (query string).

use serde::{Deserialize, Serialize};

use crate::store::{SessionRow, Store, StoreError};

/// Most sessions one page may hold.
pub const MAX_LIMIT: usize = 1000;
/// Largest offset a request may ask for (beyond it, narrow the filters).
pub const MAX_OFFSET: usize = 1_000_000;
/// The digital-host verdicts (`disclosure::Report::digital_host`).
pub const DIGITAL_HOSTS: [&str; 3] = ["declared", "suspected", "none"];
/// The disclosure verdicts (`disclosure::Report::disclosure`).
pub const DISCLOSURES: [&str; 4] = ["present", "partial", "missing", "n/a"];

/// Checks a page request against [`MAX_LIMIT`] and [`MAX_OFFSET`] (the claims desk's too).
pub fn check_page(limit: usize, offset: usize) -> Result<(), String> {
    if limit == 0 || limit > MAX_LIMIT {
        return Err(format!("limit must be 1 to {MAX_LIMIT}, not {limit}"));
    }
    if offset > MAX_OFFSET {
        return Err(format!(
            "offset must be at most {MAX_OFFSET}, not {offset}: narrow the filters instead"
        ));
    }
    Ok(())
}

/// Order of the list (newest or largest first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// By start time (sidecar `started_at`, else ingest time).
    #[default]
    Started,
    /// By ingest time.
    Ingested,
    /// By duration.
    Duration,
    /// By number of risky-claim flags.
    Claims,
}

/// Filters, order and page of a session list.
#[derive(Debug, Clone, clap::Args, Deserialize)]
pub struct Request {
    /// Only this platform (sidecar `platform`).
    #[arg(long)]
    pub platform: Option<String>,
    /// Only this room.
    #[arg(long)]
    pub room: Option<String>,
    /// Only this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Only this dominant language (zh, en, ...).
    #[arg(long = "lang")]
    #[serde(rename = "lang")]
    pub language: Option<String>,
    /// Only this digital-host verdict: declared, suspected or none.
    #[arg(long, value_parser = DIGITAL_HOSTS)]
    pub digital_host: Option<String>,
    /// Only this disclosure verdict: present, partial, missing or n/a.
    #[arg(long, value_parser = DISCLOSURES)]
    pub disclosure: Option<String>,
    /// Only sessions with at least one risky-claim flag.
    #[arg(long)]
    #[serde(default)]
    pub has_claims: bool,
    /// Sessions started on or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = crate::search::parse_since)]
    #[serde(default, deserialize_with = "crate::search::de_since")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Sessions started on or before this date.
    #[arg(long, value_name = "DATE", value_parser = crate::search::parse_until)]
    #[serde(default, deserialize_with = "crate::search::de_until")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Order, newest or largest first.
    #[arg(long, value_enum, default_value = "started")]
    #[serde(default)]
    pub sort: Sort,
    /// Sessions per page (at most 1000).
    #[arg(long, default_value_t = 1000)]
    #[serde(default = "default_limit")]
    pub limit: usize,
    /// Sessions to skip.
    #[arg(long, default_value_t = 0)]
    #[serde(default)]
    pub offset: usize,
}

fn default_limit() -> usize {
    MAX_LIMIT
}

impl Default for Request {
    /// No filters, newest first, the first 1000.
    fn default() -> Self {
        serde_json::from_value(serde_json::json!({})).expect("every field has a serde default")
    }
}

/// One session in the list.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// The catalog row (id, hash, name, duration, language, segments, model, ingest time,
    /// platform, room, host).
    #[serde(flatten)]
    pub row: SessionRow,
    /// When the recording started (sidecar `started_at`), if known.
    pub started_at: Option<String>,
    /// `declared`, `suspected` or `none`.
    pub digital_host: String,
    /// `present`, `partial`, `missing` or `n/a`.
    pub disclosure: String,
    /// Risky-claim flags in the transcript.
    pub claim_count: usize,
}

/// A page of the list.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// Sessions matching the filters, all pages.
    pub total: usize,
    /// This page.
    pub sessions: Vec<Item>,
}

/// Why a list (of sessions, or of the claims desk) could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// Paging out of bounds, or a filter value that cannot match anything.
    #[error("{0}")]
    Paging(String),
    /// The archive could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn item(store: &Store, row: SessionRow) -> Result<Item, StoreError> {
    let m = store.manifest(&row.session)?;
    let tag = |prefix: &str, default: &str| {
        m.tags
            .iter()
            .find_map(|t| t.strip_prefix(prefix))
            .unwrap_or(default)
            .to_string()
    };
    Ok(Item {
        started_at: m
            .metadata
            .as_ref()
            .and_then(|md| crate::sidecar::field(md, "started_at"))
            .map(str::to_string),
        digital_host: tag("digital_host:", "none"),
        disclosure: tag("disclosure:", "n/a"),
        claim_count: m.claims.as_ref().map_or(0, |c| c.flags.len()),
        row,
    })
}

fn start_of(i: &Item) -> Option<chrono::DateTime<chrono::Utc>> {
    i.started_at
        .as_deref()
        .or(Some(i.row.ingested_at.as_str()))
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// The sessions `visible` admits (a caller's scope) that match `req`, sorted and paged.
pub fn list(
    store: &Store,
    req: &Request,
    visible: &dyn Fn(&SessionRow) -> bool,
) -> Result<Page, ListError> {
    check_page(req.limit, req.offset).map_err(ListError::Paging)?;
    // The command line checks these with clap; a query string arrives unchecked.
    let one_of = |v: &Option<String>, name: &str, allowed: &[&str]| match v {
        Some(x) if !allowed.contains(&x.as_str()) => Err(ListError::Paging(format!(
            "{name} must be one of {}, not {x:?}",
            allowed.join(", ")
        ))),
        _ => Ok(()),
    };
    one_of(&req.digital_host, "digital_host", &DIGITAL_HOSTS)?;
    one_of(&req.disclosure, "disclosure", &DISCLOSURES)?;
    let eq =
        |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| Some(w) == have);
    let mut items = Vec::new();
    for row in store.list()? {
        if !visible(&row)
            || !eq(&req.platform, row.platform.as_deref())
            || !eq(&req.room, row.room.as_deref())
            || !eq(&req.host, row.host.as_deref())
            || !eq(&req.language, Some(row.language.as_str()))
        {
            continue;
        }
        let i = item(store, row)?;
        let start = start_of(&i);
        if !eq(&req.digital_host, Some(i.digital_host.as_str()))
            || !eq(&req.disclosure, Some(i.disclosure.as_str()))
            || (req.has_claims && i.claim_count == 0)
            || req.since.is_some_and(|s| start.is_none_or(|t| t < s))
            || req.until.is_some_and(|u| start.is_none_or(|t| t >= u))
        {
            continue;
        }
        items.push((start, i));
    }
    match req.sort {
        Sort::Started => items.sort_by_key(|i| std::cmp::Reverse(i.0)),
        Sort::Ingested => items.sort_by(|a, b| b.1.row.ingested_at.cmp(&a.1.row.ingested_at)),
        Sort::Duration => items.sort_by_key(|i| std::cmp::Reverse(i.1.row.duration_ms)),
        Sort::Claims => items.sort_by_key(|i| std::cmp::Reverse(i.1.claim_count)),
    }
    let total = items.len();
    Ok(Page {
        total,
        sessions: items
            .into_iter()
            .skip(req.offset)
            .take(req.limit)
            .map(|(_, i)| i)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_query_string_and_the_cli_defaults_agree() {
        let r = Request::default();
        assert_eq!((r.limit, r.offset, r.sort), (MAX_LIMIT, 0, Sort::Started));
        let q: Request = serde_html_form::from_str(
            "platform=douyin&digital_host=suspected&has_claims=true&since=2026-05-01&sort=claims&limit=5",
        )
        .unwrap();
        assert_eq!(q.platform.as_deref(), Some("douyin"));
        assert!(q.has_claims);
        assert_eq!(q.sort, Sort::Claims);
        assert!(serde_html_form::from_str::<Request>("since=yesterday").is_err());
    }
}
