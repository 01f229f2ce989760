//! The one API error type: a status and a JSON body `{"error": {"status", "code", "message"}}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Short machine-readable code.
    pub code: &'static str,
    /// What happened and what to do.
    pub message: String,
}

impl ApiError {
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    /// 401.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send an API token: `Authorization: Bearer lp_…` (create one with `liveproof token create`)",
        )
    }
    /// 403.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this token's role may not do this",
        )
    }
    /// 403 with the reason.
    pub fn forbidden_because(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    /// 404 (also for sessions the caller may not see, so their existence does not leak).
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {what} here"),
        )
    }
    /// 409: the request conflicts with the session's state (a legal hold).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
    /// 410: the session was deleted on purpose.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "gone", message)
    }
    /// 413.
    pub fn too_large(limit: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body exceeds the {limit}-byte limit"),
        )
    }
    /// 429.
    pub fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests for this token; wait a minute",
        )
    }
    /// 500: the detail (which may name server paths) goes to the server's log, and the
    /// client gets a reference to quote.
    pub fn internal(detail: impl Into<String>) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let reference = format!(
            "{:x}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        eprintln!("internal error {reference}: {}", detail.into());
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the server failed (reference {reference}); its log has the details"),
        )
    }

    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(serde_json::json!({
            "error": {"status": self.status.as_u16(), "code": self.code, "message": self.message}
        }))
    }
}

impl From<crate::listing::ListError> for ApiError {
    fn from(e: crate::listing::ListError) -> Self {
        match e {
            crate::listing::ListError::Paging(m) => ApiError::bad_request(m),
            crate::listing::ListError::Store(s) => s.into(),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::NoSuchSession(_)
            | crate::store::StoreError::Ambiguous(_)
            | crate::store::StoreError::Deleted { .. } => ApiError::not_found("such session"),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(e.to_string())
    }
}

impl ApiError {
    /// 405, with the methods the path does allow.
    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this path answers {} only", allowed.join(", ")),
        )
    }
    /// 408.
    pub fn body_timeout(secs: u64) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the request body did not arrive within {secs} s; send it again"),
        )
    }
    /// 429 for an address or a busy verifier.
    pub fn busy(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
    }
}

/// Query-string errors (`?offset=abc`) as JSON 400s instead of actix's plain text.
pub fn query_config() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default()
        .error_handler(|e, _| ApiError::bad_request(format!("bad query parameters: {e}")).into())
}

/// Path errors (`/api/jobs/abc`) as JSON 400s.
pub fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default()
        .error_handler(|e, _| ApiError::bad_request(format!("bad path: {e}")).into())
}

/// Requests no route answers: 405 (with `Allow`) when the path exists for other methods,
/// otherwise 404, both as JSON.
pub async fn fallback(req: actix_web::HttpRequest) -> HttpResponse {
    let path = req.path();
    let allowed: Vec<&str> = super::routes::ROUTES
        .iter()
        .chain(super::routes::PAGES.iter())
        .filter(|(_, pattern)| path_matches(pattern, path))
        .map(|(m, _)| *m)
        .collect();
    if allowed.is_empty() {
        return ApiError::not_found("such path").error_response();
    }
    let upper: Vec<String> = allowed.iter().map(|m| m.to_uppercase()).collect();
    let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
    let mut r = ApiError::method_not_allowed(&upper).error_response();
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&upper.join(", ")) {
        r.headers_mut().insert(actix_web::http::header::ALLOW, v);
    }
    r
}

/// Whether a route pattern (`/api/sessions/{id}`) matches a request path.
fn path_matches(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let q: Vec<&str> = path.split('/').collect();
    p.len() == q.len()
        && p.iter()
            .zip(&q)
            .all(|(a, b)| (a.starts_with('{') && !b.is_empty()) || a == b)
}
