//! The claims desk: every risky-claim flag across the sessions a reviewer may read, without a
//! keyword, filtered by category, platform, time and review state, with the sentence it was
//! found in and the latest decision on it (`custody::review_claim`). One request type serves
//! `liveproof claims list` (clap) and `GET /api/claims` (query string).

use serde::{Deserialize, Serialize};

use crate::listing::ListError;
use crate::store::{SessionRow, Store};

/// Review states a flag can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    /// Nobody has decided yet.
    Open,
    /// A reviewer confirmed it.
    Confirmed,
    /// A reviewer dismissed it.
    Dismissed,
}

/// Filters and page of the claims desk.
#[derive(Debug, Clone, clap::Args, Deserialize)]
pub struct Request {
    /// Only this category (absolute_terms, health_claims, fake_authority, pressure,
    /// after_sales).
    #[arg(long, value_parser = crate::claims::CATEGORIES)]
    pub category: Option<String>,
    /// Only sessions of this platform.
    #[arg(long)]
    pub platform: Option<String>,
    /// Only sessions started on or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = crate::search::parse_since)]
    #[serde(default, deserialize_with = "crate::search::de_since")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only sessions started on or before this date.
    #[arg(long, value_name = "DATE", value_parser = crate::search::parse_until)]
    #[serde(default, deserialize_with = "crate::search::de_until")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only flags in this review state.
    #[arg(long, value_enum)]
    pub review: Option<Review>,
    /// Flags per page (at most 1000).
    #[arg(long, default_value_t = 100)]
    #[serde(default = "default_limit")]
    pub limit: usize,
    /// Flags to skip.
    #[arg(long, default_value_t = 0)]
    #[serde(default)]
    pub offset: usize,
}

fn default_limit() -> usize {
    100
}

/// One flag on the desk.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// Session id.
    pub session: String,
    /// Segment index.
    pub segment: usize,
    /// Segment start (ms).
    pub start_ms: u64,
    /// Segment end (ms).
    pub end_ms: u64,
    /// Category.
    pub category: String,
    /// The words that matched.
    pub words: Vec<String>,
    /// The sentence (segment text).
    pub text: String,
    /// Legal basis.
    pub article: String,
    /// `open`, `confirmed` or `dismissed`.
    pub review: Review,
    /// The latest decision, when there is one (who, when, note, log index).
    pub decision: Option<crate::custody::ClaimReview>,
    /// Why the lexicon thinks the context may exempt it, if it does.
    pub exempt_context: Option<String>,
    /// Platform of the session.
    pub platform: Option<String>,
}

/// A page of the desk.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// Flags matching the filters, all pages.
    pub total: usize,
    /// This page, newest session first, in transcript order within a session.
    pub claims: Vec<Claim>,
}

/// The flags of the sessions `visible` admits that match `req`.
pub fn list(
    store: &Store,
    req: &Request,
    visible: &dyn Fn(&SessionRow) -> bool,
) -> Result<Page, ListError> {
    crate::listing::check_page(req.limit, req.offset).map_err(ListError::Paging)?;
    if let Some(c) = req
        .category
        .as_deref()
        .filter(|c| !crate::claims::CATEGORIES.contains(c))
    {
        return Err(ListError::Paging(format!(
            "category must be one of {}, not {c:?}",
            crate::claims::CATEGORIES.join(", ")
        )));
    }
    let sessions = crate::listing::list(
        store,
        &crate::listing::Request {
            platform: req.platform.clone(),
            since: req.since,
            until: req.until,
            has_claims: true,
            ..Default::default()
        },
        visible,
    )?;
    let mut all = Vec::new();
    for item in sessions.sessions {
        let id = &item.row.session;
        let m = store.manifest(id)?;
        let t = store.transcript(id)?;
        let decisions = crate::custody::claim_reviews(store, id)?;
        for f in m.claims.iter().flat_map(|c| c.flags.iter()) {
            if req
                .category
                .as_deref()
                .is_some_and(|c| c != f.flag.category)
            {
                continue;
            }
            let decision = decisions
                .get(&(f.segment, f.flag.category.clone()))
                .cloned();
            let review = match decision.as_ref().map(|d| d.decision.as_str()) {
                Some("confirmed") => Review::Confirmed,
                Some("dismissed") => Review::Dismissed,
                _ => Review::Open,
            };
            if req.review.is_some_and(|r| r != review) {
                continue;
            }
            all.push(Claim {
                session: id.clone(),
                segment: f.segment,
                start_ms: f.start_ms,
                end_ms: f.end_ms,
                category: f.flag.category.clone(),
                words: f.flag.words.clone(),
                text: t
                    .segments
                    .get(f.segment)
                    .map(|s| s.text.clone())
                    .unwrap_or_default(),
                article: f.flag.article.clone(),
                review,
                decision,
                exempt_context: f.flag.review_reason.clone(),
                platform: item.row.platform.clone(),
            });
        }
    }
    let total = all.len();
    Ok(Page {
        total,
        claims: all.into_iter().skip(req.offset).take(req.limit).collect(),
    })
}
