//! Route handlers, grouped by area.

use std::io::Write;
use std::path::PathBuf;

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;

use super::auth::Caller;
use super::error::ApiError;
use super::State;
use crate::access::{Access, Role};
use crate::store::{SessionRow, Store};

/// The OpenAPI document (kept beside the code; a test checks that the two agree).
pub const OPENAPI_JSON: &str = include_str!("../../data/openapi.json");

/// Every route, as (method, path): the single list that `configure` registers and the
/// OpenAPI test compares with the document.
pub const ROUTES: [(&str, &str); 12] = [
    ("get", "/api/health"),
    ("get", "/api/openapi.json"),
    ("get", "/api/sessions"),
    ("get", "/api/sessions/{id}"),
    ("get", "/api/sessions/{id}/transcript"),
    ("get", "/api/sessions/{id}/report"),
    ("get", "/api/sessions/{id}/evidence"),
    ("get", "/api/sessions/{id}/media"),
    ("get", "/api/search"),
    ("post", "/api/uploads"),
    ("get", "/api/jobs/{id}"),
    ("post", "/api/verify"),
];

const INDEX_HTML: &str = include_str!("../../web/index.html");
const APP_JS: &str = include_str!("../../web/app.js");
const APP_CSS: &str = include_str!("../../web/app.css");

async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(INDEX_HTML)
}

async fn app_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(APP_JS)
}

async fn app_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(APP_CSS)
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI_JSON)
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/app.js", web::get().to(app_js))
        .route("/app.css", web::get().to(app_css))
        .route("/api/health", web::get().to(health))
        .route("/api/openapi.json", web::get().to(openapi))
        .route("/api/sessions", web::get().to(sessions))
        .route("/api/sessions/{id}", web::get().to(session))
        .route("/api/sessions/{id}/transcript", web::get().to(transcript))
        .route("/api/sessions/{id}/report", web::get().to(report))
        .route("/api/sessions/{id}/evidence", web::get().to(evidence))
        .route("/api/sessions/{id}/media", web::get().to(media))
        .route("/api/search", web::get().to(search))
        .route("/api/uploads", web::post().to(upload))
        .route("/api/jobs/{id}", web::get().to(job))
        .route("/api/verify", web::post().to(verify));
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"ok": true, "version": crate::VERSION}))
}

fn data(state: &web::Data<State>) -> PathBuf {
    state.config.data.clone()
}

/// Resolves a session the caller may read; 404 otherwise (existence is not revealed).
fn readable(store: &Store, who: &Access, id: &str) -> Result<SessionRow, ApiError> {
    let row = store.resolve(id)?;
    if who.can_read(store.db(), &row.session, row.platform.as_deref()) {
        Ok(row)
    } else {
        Err(ApiError::not_found("such session"))
    }
}

async fn sessions(state: web::Data<State>, who: Caller) -> Result<HttpResponse, ApiError> {
    let d = data(&state);
    let rows = web::block(move || -> Result<Vec<SessionRow>, ApiError> {
        let store = Store::open(&d)?;
        Ok(store
            .list()?
            .into_iter()
            .filter(|r| {
                who.0
                    .can_read(store.db(), &r.session, r.platform.as_deref())
            })
            .collect())
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "sessions": rows })))
}

async fn session(
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = data(&state);
    let v = web::block(move || -> Result<serde_json::Value, ApiError> {
        let store = Store::open(&d)?;
        let row = readable(&store, &who.0, &id)?;
        let m = store.manifest(&row.session)?;
        let t = store.transcript(&row.session)?;
        let mut v = serde_json::to_value(&m).map_err(|e| ApiError::internal(e.to_string()))?;
        v["segments"] =
            serde_json::to_value(&t.segments).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(v)
    })
    .await??;
    Ok(HttpResponse::Ok().json(v))
}

async fn transcript(
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = data(&state);
    let t = web::block(move || -> Result<crate::transcript::Transcript, ApiError> {
        let store = Store::open(&d)?;
        let row = readable(&store, &who.0, &id)?;
        Ok(store.transcript(&row.session)?)
    })
    .await??;
    Ok(HttpResponse::Ok().json(t))
}

#[derive(Deserialize)]
struct ReportQuery {
    interval: Option<u64>,
}

async fn report(
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let d = data(&state);
    let interval = q
        .interval
        .unwrap_or_else(crate::disclosure::default_interval_min);
    let r = web::block(move || -> Result<crate::disclosure::Report, ApiError> {
        let store = Store::open(&d)?;
        let row = readable(&store, &who.0, &id)?;
        Ok(crate::disclosure::report(
            &store.manifest(&row.session)?,
            &store.transcript(&row.session)?,
            interval,
        ))
    })
    .await??;
    Ok(HttpResponse::Ok().json(r))
}

#[derive(Deserialize)]
struct EvidenceQuery {
    from: String,
    to: String,
    #[serde(default)]
    with_recording: bool,
}

async fn evidence(
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
    q: web::Query<EvidenceQuery>,
) -> Result<HttpResponse, ApiError> {
    let d = data(&state);
    let (bytes, name) = web::block(move || -> Result<(Vec<u8>, String), ApiError> {
        let store = Store::open(&d)?;
        let row = readable(&store, &who.0, &id)?;
        let from_ms = crate::evidence::parse_time(&q.from)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let to_ms =
            crate::evidence::parse_time(&q.to).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let dir = tempfile::tempdir().map_err(|e| ApiError::internal(e.to_string()))?;
        let out = dir.path().join("bundle.zip");
        let req = crate::evidence::Request {
            session: &row.session,
            from_ms,
            to_ms,
            output: &out,
            with_recording: q.with_recording,
            now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        crate::evidence::create(&store, &req).map_err(|e| match e {
            crate::evidence::EvidenceError::Range(m) => ApiError::bad_request(m),
            other => ApiError::internal(other.to_string()),
        })?;
        let bytes = std::fs::read(&out).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok((
            bytes,
            format!("evidence-{}-{}-{}.zip", row.session, from_ms, to_ms),
        ))
    })
    .await??;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes))
}

async fn media(
    req: HttpRequest,
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = data(&state);
    let path = web::block(move || -> Result<PathBuf, ApiError> {
        let store = Store::open(&d)?;
        let row = readable(&store, &who.0, &id)?;
        // The path comes from the catalogue's hash, never from the request.
        Ok(store.blob_path(&row.recording_sha256))
    })
    .await??;
    let file = actix_files::NamedFile::open(&path).map_err(|_| ApiError::not_found("media"))?;
    Ok(file
        .set_content_type("application/octet-stream".parse().expect("valid mime"))
        .into_response(&req))
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
    #[serde(default = "default_limit")]
    limit: usize,
    #[serde(default)]
    offset: usize,
    session: Option<String>,
    platform: Option<String>,
    room: Option<String>,
    host: Option<String>,
    since: Option<String>,
    until: Option<String>,
    lang: Option<String>,
    flag: Option<String>,
    tag: Option<String>,
    #[serde(default)]
    sort: crate::search::Sort,
}

fn default_limit() -> usize {
    20
}

async fn search(
    state: web::Data<State>,
    who: Caller,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let d = data(&state);
    let q = q.into_inner();
    let results = web::block(move || -> Result<crate::search::Results, ApiError> {
        let bad = |e: crate::search::SearchError| ApiError::bad_request(e.to_string());
        let mut req = crate::search::Request {
            query: q.q,
            limit: q.limit.min(200),
            offset: q.offset,
            session: q.session,
            platform: q.platform,
            room: q.room,
            host: q.host,
            since: q
                .since
                .as_deref()
                .map(crate::search::parse_since)
                .transpose()
                .map_err(bad)?,
            until: q
                .until
                .as_deref()
                .map(crate::search::parse_until)
                .transpose()
                .map_err(bad)?,
            language: q.lang,
            flags: q.flag.into_iter().collect(),
            tags: q.tag.into_iter().collect(),
            sort: q.sort,
        };
        match who.0.role {
            Role::Admin | Role::Auditor => {}
            Role::Platform => req.platform = who.0.platform.clone(),
            Role::Consumer => {}
        }
        let mut r = crate::search::search(&d, &req).map_err(|e| match e {
            crate::search::SearchError::Syntax(_) | crate::search::SearchError::Filter(_) => bad(e),
            other => ApiError::internal(other.to_string()),
        })?;
        if who.0.role == Role::Consumer {
            let store = Store::open(&d)?;
            r.hits.retain(|h| {
                who.0
                    .can_read(store.db(), &h.session, h.platform.as_deref())
            });
            r.total = r.hits.len();
        }
        Ok(r)
    })
    .await??;
    Ok(HttpResponse::Ok().json(results))
}

#[derive(Deserialize)]
struct UploadQuery {
    name: String,
    #[serde(default = "default_lang")]
    lang: String,
    meta: Option<String>,
}

fn default_lang() -> String {
    "auto".into()
}

async fn upload(
    state: web::Data<State>,
    who: Caller,
    q: web::Query<UploadQuery>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    if !who.0.can_upload() {
        return Err(ApiError::forbidden());
    }
    if let Some(m) = &q.meta {
        crate::sidecar::parse(m.as_bytes())
            .map_err(|e| ApiError::bad_request(format!("sidecar: {e}")))?;
    }
    let d = data(&state);
    let dir = super::jobs::upload_dir(&d);
    std::fs::create_dir_all(&dir).map_err(|e| ApiError::internal(e.to_string()))?;
    let tmp = tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(&dir)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    // Streamed to disk and hashed on the way in; refused as soon as it passes the limit.
    let limit = state.config.max_upload;
    let mut w = crate::hashing::HashingWriter::new(std::io::BufWriter::new(tmp.as_file()));
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(e.to_string()))?;
        if w.written() + chunk.len() as u64 > limit {
            return Err(ApiError::too_large(limit));
        }
        w.write_all(&chunk)
            .map_err(|e| ApiError::internal(e.to_string()))?;
    }
    let size = w.written();
    let (bw, sha256) = w.finish();
    bw.into_inner()
        .map_err(|e| ApiError::internal(e.to_string()))?
        .sync_all()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if size == 0 {
        return Err(ApiError::bad_request("the upload is empty"));
    }
    let (_, path) = tmp.keep().map_err(|e| ApiError::internal(e.to_string()))?;
    let name = q.name.clone();
    let id = web::block(move || -> Result<i64, ApiError> {
        let store = Store::open(&d)?;
        super::jobs::enqueue(
            store.db(),
            &path,
            &name,
            who.0.token_id,
            q.meta.as_deref(),
            &q.lang,
            &sha256,
            size,
        )
        .map_err(|e| ApiError::internal(e.to_string()))
    })
    .await??;
    Ok(HttpResponse::Accepted()
        .json(serde_json::json!({"job": id, "status": "queued", "size": size})))
}

async fn job(
    state: web::Data<State>,
    who: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let d = data(&state);
    let j = web::block(move || -> Result<super::jobs::Job, ApiError> {
        let store = Store::open(&d)?;
        let j = super::jobs::get(store.db(), *id)
            .map_err(|e| ApiError::internal(e.to_string()))?
            .ok_or_else(|| ApiError::not_found("such job"))?;
        if j.token_id != who.0.token_id && who.0.role != Role::Admin {
            return Err(ApiError::not_found("such job"));
        }
        Ok(j)
    })
    .await??;
    Ok(HttpResponse::Ok().json(j))
}

async fn verify(state: web::Data<State>, mut body: web::Payload) -> Result<HttpResponse, ApiError> {
    let limit = state.config.max_bundle;
    let tmp = tempfile::NamedTempFile::new().map_err(|e| ApiError::internal(e.to_string()))?;
    let mut f = tmp.as_file();
    let mut n = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(e.to_string()))?;
        n += chunk.len() as u64;
        if n > limit {
            return Err(ApiError::too_large(limit));
        }
        f.write_all(&chunk)
            .map_err(|e| ApiError::internal(e.to_string()))?;
    }
    let v =
        web::block(move || crate::evidence::verify::verify(tmp.path(), None, None, None)).await?;
    Ok(HttpResponse::Ok().json(v))
}
