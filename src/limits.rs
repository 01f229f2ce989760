//! Every limit that protects the archive from a request or a file, in one typed place, with
//! its documented default (README "Limits"). The CLI and the server read them from here;
//! nothing else hard-codes a bound on untrusted input.

use std::time::Duration;

/// Limits on search pagination, shared by `liveproof search` and `GET /api/search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Most hits on one page (`limit`).
    pub max_limit: usize,
    /// Largest `offset`. Deeper pages are refused (narrow the query or the dates instead),
    /// because ranking them costs memory in proportion to the depth; with `max_limit` this
    /// bounds every page to the first `max_offset + max_limit` hits. Each bound holds on its
    /// own, so the API document can state both exactly.
    pub max_offset: usize,
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            max_limit: 200,
            max_offset: 9_800,
        }
    }
}

/// A page request outside [`Paging`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    /// `limit` is 0 or above the maximum.
    #[error("limit {got} is out of range: ask for 1 to {max} hits per page")]
    Limit {
        /// What was asked.
        got: u64,
        /// The maximum.
        max: usize,
    },
    /// `offset` is past the deepest page served.
    #[error("offset {offset} is past {max}, the deepest page served: narrow the query (words, --since/--until, --platform) instead of paging that far")]
    Depth {
        /// Offset asked.
        offset: u64,
        /// The largest offset.
        max: usize,
    },
}

impl Paging {
    /// Checks a page request; returns `(limit, offset)` as `usize`.
    pub fn check(&self, limit: u64, offset: u64) -> Result<(usize, usize), PagingError> {
        if limit == 0 || limit > self.max_limit as u64 {
            return Err(PagingError::Limit {
                got: limit,
                max: self.max_limit,
            });
        }
        if offset > self.max_offset as u64 {
            return Err(PagingError::Depth {
                offset,
                max: self.max_offset,
            });
        }
        Ok((limit as usize, offset as usize))
    }
}

pub use liveproof_verify::limits::Bundle;

/// Limits of the HTTP server (`liveproof serve`; flags of the same names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Largest upload (recording) in bytes.
    pub max_upload: u64,
    /// Largest body of `POST /api/verify` in bytes.
    pub max_verify_body: u64,
    /// Verifications running at once; more wait, up to the same number again, then get 429.
    pub verify_concurrency: usize,
    /// `POST /api/verify` requests per minute per client IP address.
    pub verify_per_ip_per_minute: u32,
    /// Requests per minute per API token.
    pub token_per_minute: u32,
    /// Longest time a bundle body may take to arrive in all, and an upload may go without
    /// sending anything.
    pub body_timeout: Duration,
    /// Search pagination.
    pub paging: Paging,
    /// Bundle contents.
    pub bundle: Bundle,
}

impl Default for Server {
    fn default() -> Self {
        Self {
            max_upload: 4 << 30,
            max_verify_body: 256 << 20,
            verify_concurrency: 2,
            verify_per_ip_per_minute: 30,
            token_per_minute: 600,
            body_timeout: Duration::from_secs(120),
            paging: Paging::default(),
            bundle: Bundle::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_refuses_zero_huge_and_overflowing_pages() {
        let p = Paging::default();
        assert_eq!(p.check(20, 0), Ok((20, 0)));
        assert_eq!(p.check(200, 9_800), Ok((200, 9_800)));
        assert!(matches!(p.check(1, 9_801), Err(PagingError::Depth { .. })));
        assert!(matches!(p.check(0, 0), Err(PagingError::Limit { .. })));
        assert!(matches!(p.check(201, 0), Err(PagingError::Limit { .. })));
        assert!(matches!(
            p.check(1, 3_000_000_000),
            Err(PagingError::Depth { .. })
        ));
        assert!(matches!(
            p.check(20, u64::MAX),
            Err(PagingError::Depth { .. })
        ));
    }
}
