//! Admin routes: tokens (list, create, revoke) and retention (legal hold, release, delete with
//! a tombstone). Only admin tokens may call them, except reading a tombstone, which anyone who
//! could read the session may.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::Caller;
use super::error::ApiError;
use super::State;
use crate::access::{Access, Role};
use crate::retention::{self, RetentionError};
use crate::store::{Store, StoreError};

fn admin(who: &Access) -> Result<(), ApiError> {
    if who.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden_because(
            "only an admin token may manage tokens, legal holds and deletions",
        ))
    }
}

impl From<RetentionError> for ApiError {
    fn from(e: RetentionError) -> Self {
        match e {
            RetentionError::Store(s) => s.into(),
            RetentionError::Held { .. }
            | RetentionError::AlreadyHeld(_)
            | RetentionError::NotHeld(_) => ApiError::conflict(e.to_string()),
            RetentionError::NoReason => {
                ApiError::bad_request("give a reason (?reason=…): it is logged with the act")
            }
            other => ApiError::internal(other.to_string()),
        }
    }
}

/// `GET /api/tokens`: every token, never a secret.
pub async fn tokens(state: web::Data<State>, who: Caller) -> Result<HttpResponse, ApiError> {
    admin(&who.0)?;
    let d = state.config.data.clone();
    let list = web::block(move || -> Result<_, ApiError> {
        let store = Store::open(&d)?;
        crate::access::list(&store, chrono::Utc::now().timestamp())
            .map_err(|e| store.catalog_error(e).into())
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "tokens": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    role: Role,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    expires: Option<String>,
}

/// `POST /api/tokens`: a new token, its secret shown once.
pub async fn create_token(
    state: web::Data<State>,
    who: Caller,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    admin(&who.0)?;
    let bad = |e: String| {
        ApiError::bad_request(format!(
            "the body must be {{\"role\", \"platform\"?, \"expires\"?}} (role admin, auditor, platform or consumer; expires like 30d; leave out what does not apply): {e}"
        ))
    };
    // Strict: an explicit null is refused like any other wrong type, not taken as absent.
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    if let Some(k) = v
        .as_object()
        .and_then(|o| o.iter().find(|(_, x)| x.is_null()))
        .map(|(k, _)| k.clone())
    {
        return Err(bad(format!("{k} is null")));
    }
    let b: NewToken = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
    let now = chrono::Utc::now();
    let expires_unix = b
        .expires
        .as_deref()
        .map(|e| crate::access::expiry(now.timestamp(), e))
        .transpose()
        .map_err(|m| ApiError::bad_request(format!("expires {m}")))?;
    let d = state.config.data.clone();
    let created = web::block(move || -> Result<_, ApiError> {
        let store = Store::open(&d)?;
        crate::access::create(
            &store,
            b.role,
            b.platform.as_deref().filter(|p| !p.is_empty()),
            &now.to_rfc3339(),
            expires_unix,
        )
        .map_err(ApiError::bad_request)
    })
    .await??;
    Ok(HttpResponse::Created().json(created))
}

/// `POST /api/tokens/{id}/revoke`: the token gets 401 from then on.
pub async fn revoke_token(
    state: web::Data<State>,
    who: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    admin(&who.0)?;
    let d = state.config.data.clone();
    let id = id.into_inner();
    let revoked = web::block(move || -> Result<_, ApiError> {
        let store = Store::open(&d)?;
        crate::access::revoke(&store, &id.to_string(), &chrono::Utc::now().to_rfc3339())
            .map_err(|e| store.catalog_error(e).into())
    })
    .await??;
    match revoked {
        Some(id) => Ok(HttpResponse::Ok().json(serde_json::json!({"id": id, "status": "revoked"}))),
        None => Err(ApiError::not_found("such token")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    #[serde(default)]
    reason: String,
}

fn reason(req: &HttpRequest) -> Result<String, ApiError> {
    let r: Reason = serde_html_form::from_str(req.query_string())
        .map_err(|e| ApiError::bad_request(format!("bad query: {e}")))?;
    if r.reason.len() > 4096 {
        return Err(ApiError::bad_request(
            "the reason is longer than 4096 bytes",
        ));
    }
    Ok(r.reason)
}

/// `DELETE /api/sessions/{id}?reason=…`: deletes the session, leaving its tombstone.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    admin(&who.0)?;
    let why = reason(&req)?;
    let d = state.config.data.clone();
    let by = crate::custody::token_user(&who.0);
    let done = web::block(move || -> Result<_, ApiError> {
        let store = Store::open(&d)?;
        Ok(retention::delete(&store, &id, &why, &by)?)
    })
    .await??;
    Ok(HttpResponse::Ok().json(done))
}

/// `POST /api/sessions/{id}/hold?reason=…` and `/release`.
async fn hold_or_release(
    req: HttpRequest,
    state: web::Data<State>,
    who: Caller,
    id: String,
    on: bool,
) -> Result<HttpResponse, ApiError> {
    admin(&who.0)?;
    let why = reason(&req)?;
    let d = state.config.data.clone();
    let by = crate::custody::token_user(&who.0);
    let h = web::block(move || -> Result<_, ApiError> {
        let store = Store::open(&d)?;
        Ok(if on {
            retention::hold(&store, &id, &why, &by)?
        } else {
            retention::release(&store, &id, &why, &by)?
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(h))
}

/// `POST /api/sessions/{id}/hold?reason=…`.
pub async fn hold(
    req: HttpRequest,
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    hold_or_release(req, state, who, id.into_inner(), true).await
}

/// `POST /api/sessions/{id}/release?reason=…`.
pub async fn release(
    req: HttpRequest,
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    hold_or_release(req, state, who, id.into_inner(), false).await
}

/// `GET /api/sessions/{id}/tombstone`: a deleted session's signed tombstone, for whoever could
/// read the session (404 for anyone else, and for sessions not deleted).
pub async fn tombstone(
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = state.config.data.clone();
    let t = web::block(move || -> Result<_, ApiError> {
        let store = Store::open(&d)?;
        let gone = ApiError::not_found("deleted session of that id");
        let Some(platform) = retention::tombstone_platform(&store, &id)? else {
            return Err(gone);
        };
        if !who.0.can_read(&store, &id, platform.as_deref()) {
            return Err(gone);
        }
        retention::tombstone(&store, &id)?.ok_or(gone)
    })
    .await??;
    Ok(HttpResponse::Ok().json(t))
}

/// The answer for a session that was deleted: 410 to those who could read it, naming its
/// tombstone; 404 to others.
pub fn deleted(store: &Store, who: &Access, e: StoreError) -> ApiError {
    if let StoreError::Deleted {
        session,
        at,
        reason,
    } = &e
    {
        let platform = retention::tombstone_platform(store, session).ok().flatten();
        if let Some(p) = platform {
            if who.can_read(store, session, p.as_deref()) {
                return ApiError::gone(format!(
                    "session {session} was deleted at {at} ({reason}); its signed tombstone: GET /api/sessions/{session}/tombstone"
                ));
            }
        }
        return ApiError::not_found("such session");
    }
    e.into()
}

/// `GET /api/me`: who this token is (id, role, platform), for the page's sign-in screen.
pub async fn me(who: Caller) -> HttpResponse {
    HttpResponse::Ok().json(&who.0)
}
