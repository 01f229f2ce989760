//! Authentication: `Authorization: Bearer <token>` resolved to an [`Access`], with a
//! per-token request rate limit.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};

use super::error::ApiError;
use super::State;
use crate::access::Access;

/// An authenticated caller.
pub struct Caller(pub Access);

/// Routes that take the token from the `access_token` query parameter too: only the media
/// routes, which an `<audio>` element fetches without being able to send headers.
const QUERY_TOKEN_ROUTES: [&str; 2] = ["/api/sessions/{id}/media", "/api/sessions/{id}/audio"];

/// The token from `Authorization: Bearer …`, or, for GET requests to [`QUERY_TOKEN_ROUTES`],
/// from the `access_token` query parameter.
fn bearer(req: &HttpRequest) -> Option<String> {
    let header = req
        .headers()
        .get("Authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    header.or_else(|| {
        (req.method() == actix_web::http::Method::GET
            && req
                .match_pattern()
                .is_some_and(|p| QUERY_TOKEN_ROUTES.contains(&p.as_str())))
        .then(|| {
            web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
                .ok()
                .and_then(|q| q.get("access_token").cloned())
        })
        .flatten()
        .filter(|t| !t.is_empty())
    })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let token = bearer(req);
        let http = req.clone();
        let state = req.app_data::<web::Data<State>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("no state"))?;
            let token = token.ok_or_else(ApiError::unauthorized)?;
            let data = state.config.data.clone();
            let access = web::block(move || {
                let store = crate::store::Store::open(&data)?;
                crate::access::lookup(&store, &token, chrono::Utc::now().timestamp())
                    .map_err(|e| store.catalog_error(e))
            })
            .await??
            .ok_or_else(ApiError::unauthorized)?;
            // For the request log: the token's id and role, never the token.
            actix_web::HttpMessage::extensions_mut(&http)
                .insert(super::requestlog::Who(crate::custody::token_user(&access)));
            if !super::within_rate(
                &state.rate,
                access.token_id,
                state.config.limits.token_per_minute,
            ) {
                return Err(ApiError::rate_limited());
            }
            Ok(Caller(access))
        })
    }
}
