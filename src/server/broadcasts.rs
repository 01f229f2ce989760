//! Broadcast routes: a room's consecutive sessions as one broadcast, made only of the sessions
//! the caller may read (`crate::broadcasts`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::Caller;
use super::error::ApiError;
use super::State;
use crate::store::{SessionRow, Store};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    #[serde(default = "default_limit")]
    limit: usize,
    #[serde(default)]
    offset: usize,
}

fn default_limit() -> usize {
    100
}

/// `GET /api/broadcasts?limit&offset`: newest first, `{total, broadcasts}`.
pub async fn list(
    http: HttpRequest,
    state: web::Data<State>,
    who: Caller,
) -> Result<HttpResponse, ApiError> {
    let p: Page = serde_html_form::from_str(http.query_string())
        .map_err(|e| ApiError::bad_request(format!("bad query: {e}")))?;
    crate::listing::check_page(p.limit, p.offset).map_err(ApiError::bad_request)?;
    let d = state.config.data.clone();
    let v = web::block(move || -> Result<serde_json::Value, ApiError> {
        let store = Store::open(&d)?;
        let visible = |r: &SessionRow| who.0.can_read(&store, &r.session, r.platform.as_deref());
        let mut all =
            crate::broadcasts::list_visible(&store, crate::broadcasts::DEFAULT_GAP, &visible)?;
        all.reverse();
        let total = all.len();
        let page: Vec<_> = all.into_iter().skip(p.offset).take(p.limit).collect();
        Ok(serde_json::json!({"total": total, "broadcasts": page}))
    })
    .await??;
    Ok(HttpResponse::Ok().json(v))
}

/// `GET /api/broadcasts/{id}`: the broadcast holding session `id` (or whose id it is) and its
/// report over the whole broadcast timeline.
pub async fn one(
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = state.config.data.clone();
    let v = web::block(move || -> Result<serde_json::Value, ApiError> {
        let store = Store::open(&d)?;
        let row = store
            .resolve(&id)
            .map_err(|e| super::admin::deleted(&store, &who.0, e))?;
        let visible = |r: &SessionRow| who.0.can_read(&store, &r.session, r.platform.as_deref());
        if !visible(&row) {
            return Err(ApiError::not_found("such broadcast"));
        }
        let mut l =
            crate::broadcasts::Locator::new(&store, crate::broadcasts::DEFAULT_GAP, &visible);
        let (b, _) = l
            .locate(&row.session)?
            .ok_or_else(|| ApiError::not_found("such broadcast"))?;
        let report =
            crate::broadcasts::report(&store, &b, crate::disclosure::default_interval_min())?;
        Ok(serde_json::json!({"broadcast": b, "report": report}))
    })
    .await??;
    Ok(HttpResponse::Ok().json(v))
}
