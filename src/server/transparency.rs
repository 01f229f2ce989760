//! The log's public routes, for witnesses and auditors: the newest checkpoint (a C2SP signed
//! note with the cosignatures stored for it), consistency proofs between heads, and a door for
//! witnesses to hand cosignatures back. No token: the log is public by design.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::error::ApiError;
use super::State;
use crate::store::Store;

/// Largest cosigned note accepted (a checkpoint with 64 signature lines fits easily).
const MAX_NOTE: usize = 16 << 10;

/// Runs `f` with the archive and its key on a blocking thread (the catalog's drivers block).
async fn with_log<T: Send + 'static>(
    state: &web::Data<State>,
    f: impl FnOnce(Store, ed25519_dalek::SigningKey) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let data = state.config.data.clone();
    web::block(move || {
        let store = Store::open(&data)?;
        let key = crate::seal::keys::load_or_create(store.root())
            .map_err(|e| ApiError::internal(e.to_string()))?;
        f(store, key)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
}

pub(super) async fn checkpoint(state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let note = with_log(&state, |store, key| {
        store
            .log()
            .checkpoint(&key, None)
            .map_err(|e| ApiError::internal(e.to_string()))?
            .ok_or_else(|| ApiError::internal("the log's newest tree head is damaged"))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(note.text()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Sizes {
    old: u64,
    new: u64,
}

pub(super) async fn consistency(
    state: web::Data<State>,
    q: web::Query<Sizes>,
) -> Result<HttpResponse, ApiError> {
    let (old, new) = (q.old, q.new);
    let c = with_log(&state, move |store, _| {
        store
            .log()
            .consistency(old, new)
            .map_err(|e| ApiError::internal(e.to_string()))?
            .ok_or_else(|| {
                ApiError::not_found(&format!(
                    "pair of tree heads of sizes {old} and {new} (old must be at least 1 and at most new, new at most the log's size)"
                ))
            })
    })
    .await?;
    Ok(HttpResponse::Ok().json(c))
}

pub(super) async fn cosignatures(
    state: web::Data<State>,
    body: String,
) -> Result<HttpResponse, ApiError> {
    if body.len() > MAX_NOTE {
        return Err(ApiError::bad_request(format!(
            "a cosigned checkpoint is at most {MAX_NOTE} bytes"
        )));
    }
    let added = with_log(&state, move |store, key| {
        store
            .log()
            .add_cosignatures(&key, &body)
            .map_err(|e| ApiError::bad_request(format!("cosignature not accepted: {e}")))
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"added": added})))
}
