//! Route handlers, grouped by area.

use std::io::Write;
use std::path::PathBuf;

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;

use super::auth::Caller;
use super::error::ApiError;
use super::State;
use crate::access::Access;
use crate::store::{SessionRow, Store};

/// The OpenAPI document (kept beside the code; a test checks that the two agree).
pub const OPENAPI_JSON: &str = include_str!("../../data/openapi.json");

/// Declares the route table once: `ROUTES` (the API, compared with the OpenAPI document by a
/// test), `PAGES` (the web page) and `configure`, which registers exactly those.
macro_rules! route_table {
    (api: [$($m:ident $p:literal => $h:path),* $(,)?], pages: [$($pm:ident $pp:literal => $ph:path),* $(,)?]) => {
        /// Every API route, as (method, path): what `configure` registers and the OpenAPI
        /// document lists.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($m), $p)),*];
        /// The web page's routes (not in the API document).
        pub const PAGES: &[(&str, &str)] = &[$((stringify!($pm), $pp)),*];
        /// Registers every route of `ROUTES` and `PAGES`, and nothing else.
        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(cfg.route($pp, web::$pm().to($ph));)*
            $(cfg.route($p, web::$m().to($h));)*
        }
    };
}

route_table! {
    api: [
        get "/api/health" => health,
        get "/api/ready" => ready,
        get "/api/openapi.json" => openapi,
        get "/api/sessions" => sessions,
        get "/api/sessions/{id}" => session,
        delete "/api/sessions/{id}" => super::admin::delete,
        post "/api/sessions/{id}/hold" => super::admin::hold,
        post "/api/sessions/{id}/release" => super::admin::release,
        get "/api/sessions/{id}/tombstone" => super::admin::tombstone,
        get "/api/sessions/{id}/transcript" => transcript,
        get "/api/sessions/{id}/comments" => comments,
        get "/api/sessions/{id}/report" => report,
        get "/api/sessions/{id}/evidence" => evidence,
        get "/api/sessions/{id}/media" => media,
        get "/api/sessions/{id}/audio" => audio,
        get "/api/broadcasts" => super::broadcasts::list,
        get "/api/broadcasts/{id}" => super::broadcasts::one,
        get "/api/search" => search,
        get "/api/claims" => claims,
        post "/api/claims/review" => claim_review,
        post "/api/uploads" => upload,
        get "/api/jobs/{id}" => job,
        post "/api/verify" => verify,
        get "/api/me" => super::admin::me,
        get "/api/tokens" => super::admin::tokens,
        post "/api/tokens" => super::admin::create_token,
        post "/api/tokens/{id}/revoke" => super::admin::revoke_token,
        get "/api/log/checkpoint" => super::transparency::checkpoint,
        get "/api/log/consistency" => super::transparency::consistency,
        post "/api/log/cosignatures" => super::transparency::cosignatures,
    ],
    pages: [
        get "/" => index,
        get "/app.js" => app_js,
        get "/app.css" => app_css,
    ]
}

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

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"ok": true, "version": crate::VERSION}))
}

/// Readiness: the archive opens and, with the platform, PostgreSQL and the bucket answer.
async fn ready(state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let checks = web::block(move || {
        // The probe is public: a failing check names itself, and its cause (paths, hosts)
        // goes to the server's log under the reference it gives.
        let said = |name: &str, r: Result<(), String>| match r {
            Ok(()) => "ok".to_string(),
            Err(e) => {
                let reference = format!("{:x}-ready-{name}", std::process::id());
                eprintln!("readiness check {name} failed ({reference}): {e}");
                format!("failed: the server's log has the cause (reference {reference})")
            }
        };
        let mut checks = serde_json::Map::new();
        let archive = Store::open(&config.data)
            .map(|_| ())
            .map_err(|e| e.to_string());
        checks.insert("archive".into(), said("archive", archive).into());
        if let Some(urls) = config.ingest.config.platform() {
            let platform = urls
                .connect()
                .and_then(|mut p| {
                    p.queue.counts()?;
                    p.blobs.exists("originals/")?;
                    Ok(())
                })
                .map_err(|e| e.to_string());
            checks.insert("platform".into(), said("platform", platform).into());
        }
        checks
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let ok = checks.values().all(|v| v == "ok");
    let body = serde_json::json!({"ready": ok, "checks": checks});
    Ok(if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    })
}

fn data(state: &web::Data<State>) -> PathBuf {
    state.config.data.clone()
}

/// Resolves a session the caller may read; 404 otherwise (existence is not revealed).
fn readable(store: &Store, who: &Access, id: &str) -> Result<SessionRow, ApiError> {
    let row = store
        .resolve(id)
        .map_err(|e| super::admin::deleted(store, who, e))?;
    if who.can_read(store, &row.session, row.platform.as_deref()) {
        Ok(row)
    } else {
        Err(ApiError::not_found("such session"))
    }
}

async fn sessions(
    http: HttpRequest,
    state: web::Data<State>,
    who: Caller,
) -> Result<HttpResponse, ApiError> {
    let req: crate::listing::Request = serde_html_form::from_str(http.query_string())
        .map_err(|e| ApiError::bad_request(format!("bad query: {e}")))?;
    let d = data(&state);
    let page = web::block(move || -> Result<crate::listing::Page, ApiError> {
        let store = Store::open(&d)?;
        let visible = |r: &SessionRow| who.0.can_read(&store, &r.session, r.platform.as_deref());
        Ok(crate::listing::list(&store, &req, &visible)?)
    })
    .await??;
    Ok(HttpResponse::Ok().json(page))
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
        v["gaps"] = serde_json::to_value(&t.gaps).map_err(|e| ApiError::internal(e.to_string()))?;
        let hold = crate::retention::hold_of(&store, &row.session)?;
        v["legal_hold"] =
            serde_json::to_value(hold).map_err(|e| ApiError::internal(e.to_string()))?;
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

/// A session's live comments; an empty list when it has none.
async fn comments(
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = data(&state);
    let c = web::block(move || -> Result<Vec<crate::comments::Comment>, ApiError> {
        let store = Store::open(&d)?;
        let row = readable(&store, &who.0, &id)?;
        Ok(store
            .comments(&row.session)?
            .map(|c| c.comments)
            .unwrap_or_default())
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "comments": c })))
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
    if !(1..=crate::disclosure::MAX_INTERVAL_MIN).contains(&interval) {
        return Err(ApiError::bad_request(format!(
            "interval must be 1 to {} minutes",
            crate::disclosure::MAX_INTERVAL_MIN
        )));
    }
    let r = web::block(move || -> Result<crate::disclosure::Report, ApiError> {
        let store = Store::open(&d)?;
        let row = readable(&store, &who.0, &id)?;
        let comments = store.comments(&row.session)?.map(|c| c.comments);
        Ok(crate::shills::session_report(
            &store.manifest(&row.session)?,
            &store.transcript(&row.session)?,
            comments.as_deref().unwrap_or(&[]),
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
    /// `from`/`to` on the broadcast's timeline; the bundle may span segments.
    #[serde(default)]
    broadcast: bool,
}

async fn evidence(
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
    q: web::Query<EvidenceQuery>,
) -> Result<HttpResponse, ApiError> {
    let d = data(&state);
    let tsa = state.config.ingest.config.tsa();
    let (bytes, name) = web::block(move || -> Result<(Vec<u8>, String), ApiError> {
        let store = Store::open(&d)?;
        let row = readable(&store, &who.0, &id)?;
        let from_ms = crate::evidence::parse_time(&q.from)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let to_ms =
            crate::evidence::parse_time(&q.to).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let dir = tempfile::tempdir().map_err(|e| ApiError::internal(e.to_string()))?;
        let out = dir.path().join("bundle.zip");
        let range_or_internal = |e: crate::evidence::EvidenceError| match e {
            crate::evidence::EvidenceError::Range(m) => ApiError::bad_request(m),
            other => ApiError::internal(other.to_string()),
        };
        if q.broadcast {
            // A broadcast is made only of sessions this caller may read.
            let visible =
                |r: &SessionRow| who.0.can_read(&store, &r.session, r.platform.as_deref());
            let made = crate::evidence::span::create_span(
                &store,
                &crate::evidence::span::SpanRequest {
                    id: &row.session,
                    from_ms,
                    to_ms,
                    output: &out,
                    with_recording: q.with_recording,
                    now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    by: crate::custody::token_user(&who.0),
                    tsa,
                    gap: crate::broadcasts::DEFAULT_GAP,
                    visible: &visible,
                },
            )
            .map_err(range_or_internal)?;
            let bytes = std::fs::read(&out).map_err(|e| ApiError::internal(e.to_string()))?;
            return Ok((
                bytes,
                format!(
                    "evidence-broadcast-{}-{}-{}.zip",
                    made.statement.broadcast, from_ms, to_ms
                ),
            ));
        }
        let req = crate::evidence::Request {
            session: &row.session,
            from_ms,
            to_ms,
            output: &out,
            with_recording: q.with_recording,
            now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            by: crate::custody::token_user(&who.0),
            tsa,
        };
        crate::evidence::create(&store, &req).map_err(range_or_internal)?;
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
    let (path, container, name) =
        web::block(move || -> Result<(PathBuf, String, String), ApiError> {
            let store = Store::open(&d)?;
            let row = readable(&store, &who.0, &id)?;
            let m = store.manifest(&row.session)?;
            // The path comes from the catalogue's hash, never from the request.
            Ok((
                store.original(&row.recording_sha256)?,
                m.audio.container,
                download_name(&row.session, &m.original_name),
            ))
        })
        .await??;
    let file = actix_files::NamedFile::open(&path).map_err(|_| ApiError::not_found("media"))?;
    Ok(file
        .set_content_type(
            crate::derived::original_content_type(&container)
                .parse()
                .expect("valid mime"),
        )
        .set_content_disposition(actix_web::http::header::ContentDisposition {
            disposition: actix_web::http::header::DispositionType::Attachment,
            parameters: vec![actix_web::http::header::DispositionParam::Filename(name)],
        })
        .into_response(&req))
}

/// The original's name for a download: its ingest name, made safe, prefixed by the session.
fn download_name(session: &str, original: &str) -> String {
    let clean: String = original
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    format!("{session}-{clean}")
}

/// A browser-playable rendition of the original (AAC in MP4), made once and cached; ranges.
async fn audio(
    req: HttpRequest,
    state: web::Data<State>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = data(&state);
    let (path, rendition) = web::block(move || -> Result<_, ApiError> {
        let store = Store::open(&d)?;
        let row = readable(&store, &who.0, &id)?;
        let blob = store.original(&row.recording_sha256)?;
        crate::derived::playable(&d, &blob, &row.recording_sha256)
            .map_err(|e| ApiError::internal(e.to_string()))
    })
    .await??;
    let file = actix_files::NamedFile::open(&path).map_err(|_| ApiError::not_found("audio"))?;
    let mut res = file
        .set_content_type("audio/mp4".parse().expect("valid mime"))
        .disable_content_disposition()
        .into_response(&req);
    // The rendition's own hash, so a player (or a reviewer) can tell which one it got.
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&rendition.sha256) {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-rendition-sha256"),
            v,
        );
    }
    Ok(res)
}

/// The claims desk: every flag the caller may read, no keyword needed.
async fn claims(
    http: HttpRequest,
    state: web::Data<State>,
    who: Caller,
) -> Result<HttpResponse, ApiError> {
    let req: crate::desk::Request = serde_html_form::from_str(http.query_string())
        .map_err(|e| ApiError::bad_request(format!("bad query: {e}")))?;
    let d = data(&state);
    let page = web::block(move || -> Result<crate::desk::Page, ApiError> {
        let store = Store::open(&d)?;
        let visible = |r: &SessionRow| who.0.can_read(&store, &r.session, r.platform.as_deref());
        Ok(crate::desk::list(&store, &req, &visible)?)
    })
    .await??;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    session: String,
    /// A JSON number; 12.0 is 12 (JSON Schema's integers), 12.5 is refused.
    segment: serde_json::Number,
    category: String,
    decision: String,
    #[serde(default)]
    note: String,
}

/// A reviewer confirms or dismisses a flag; consumers may not.
async fn claim_review(
    state: web::Data<State>,
    who: Caller,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    if who.0.role == crate::access::Role::Consumer {
        return Err(ApiError::forbidden());
    }
    // Parsed here, not by actix's Json extractor, so every refusal is a JSON error.
    let b: ReviewBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be {{\"session\", \"segment\", \"category\", \"decision\", \"note\"}}: {e}"
        ))
    })?;
    let segment = b
        .segment
        .as_u64()
        .or_else(|| {
            b.segment
                .as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e15)
                .map(|f| f as u64)
        })
        .ok_or_else(|| ApiError::bad_request("segment must be a whole number, 0 or more"))?
        as usize;
    let confirmed = match b.decision.as_str() {
        "confirmed" => true,
        "dismissed" => false,
        other => {
            return Err(ApiError::bad_request(format!(
                "decision must be confirmed or dismissed, not {other:?}"
            )))
        }
    };
    if b.note.len() > 4096 {
        return Err(ApiError::bad_request("the note is longer than 4096 bytes"));
    }
    let d = data(&state);
    let r = web::block(move || -> Result<crate::custody::ClaimReview, ApiError> {
        let store = Store::open(&d)?;
        let row = readable(&store, &who.0, &b.session)?;
        let m = store.manifest(&row.session)?;
        if !m
            .claims
            .iter()
            .flat_map(|c| c.flags.iter())
            .any(|f| f.segment == segment && f.flag.category == b.category)
        {
            return Err(ApiError::not_found(&format!(
                "{} flag at segment {segment} of this session",
                b.category
            )));
        }
        Ok(crate::custody::review_claim(
            &store,
            &row.session,
            segment,
            &b.category,
            confirmed,
            &b.note,
            &crate::custody::token_user(&who.0),
        )?)
    })
    .await??;
    Ok(HttpResponse::Ok().json(r))
}

async fn search(
    state: web::Data<State>,
    who: Caller,
    http: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let d = data(&state);
    // serde_html_form, unlike actix's Query, takes repeated `flag` and `tag` keys.
    let mut req: crate::search::Request = serde_html_form::from_str(http.query_string())
        .map_err(|e| ApiError::bad_request(format!("query string: {e}")))?;
    req.paging = state.config.limits.paging;
    req.paging
        .check(req.limit, req.offset)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let results = web::block(move || -> Result<crate::search::Results, ApiError> {
        let store = Store::open(&d)?;
        who.0.search_scope(&store).apply(&mut req);
        let mut results = crate::search::search(&d, &req).map_err(|e| match e {
            crate::search::SearchError::Syntax(_)
            | crate::search::SearchError::Filter(_)
            | crate::search::SearchError::Paging(_) => ApiError::bad_request(e.to_string()),
            other => ApiError::internal(other.to_string()),
        })?;
        let gap = crate::broadcasts::DEFAULT_GAP;
        // Broadcasts are made only of sessions this caller may read: no other id leaks.
        let visible = |r: &SessionRow| who.0.can_read(&store, &r.session, r.platform.as_deref());
        crate::broadcasts::place_hits(&store, &mut results.hits, gap, &visible)?;
        Ok(results)
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

/// Checks an upload's file name: a plain name, as a recorder would write it.
fn check_upload_name(name: &str) -> Result<(), ApiError> {
    let bad = |why: &str| Err(ApiError::bad_request(format!("name {name:?} {why}")));
    if name.trim().is_empty() {
        return bad("is empty: give the recording's file name, e.g. room-17.flv");
    }
    if name.chars().count() > 255 {
        return bad("is longer than 255 characters");
    }
    if name == "." || name == ".." || name.contains(['/', '\\']) {
        return bad("must be a file name, not a path");
    }
    if name.chars().any(char::is_control) {
        return bad("contains control characters");
    }
    Ok(())
}

/// How long a body may take: in all (a bundle), or between two chunks (a recording, which may
/// take long to arrive but must keep arriving).
#[derive(Clone, Copy)]
enum BodyTime {
    Total,
    Idle,
}

/// Reads a request body to a file within `limit` bytes and the body timeout, hashing it.
async fn spool_body(
    body: &mut web::Payload,
    file: &std::fs::File,
    limit: u64,
    timeout: std::time::Duration,
    mode: BodyTime,
) -> Result<(u64, String), ApiError> {
    let mut deadline = tokio::time::Instant::now() + timeout;
    let mut w = crate::hashing::HashingWriter::new(std::io::BufWriter::new(file));
    loop {
        let next = tokio::time::timeout_at(deadline, body.next())
            .await
            .map_err(|_| ApiError::body_timeout(timeout.as_secs()))?;
        if let BodyTime::Idle = mode {
            deadline = tokio::time::Instant::now() + timeout;
        }
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("the body broke off: {e}")))?;
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
    Ok((size, sha256))
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
    // Everything a job would fail on later is refused now, before the body is read.
    check_upload_name(&q.name)?;
    if q.lang != "auto"
        && !crate::transcription::whisper::language_codes().contains(&q.lang.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "lang {:?} is not auto or a language code Whisper knows (zh, en, ja, ...)",
            q.lang
        )));
    }
    let meta = who
        .0
        .upload_sidecar(q.meta.as_deref())
        .map_err(|e| match e {
            crate::access::SidecarRefusal::Invalid(_) => ApiError::bad_request(e.to_string()),
            crate::access::SidecarRefusal::OtherPlatform(m) => ApiError::forbidden_because(m),
        })?;
    let d = data(&state);
    let dir = super::jobs::upload_dir(&d);
    std::fs::create_dir_all(&dir).map_err(|e| ApiError::internal(e.to_string()))?;
    let tmp = tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(&dir)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    // Streamed to disk and hashed on the way in; refused as soon as it passes the limit.
    let limits = &state.config.limits;
    let (size, sha256) = spool_body(
        &mut body,
        tmp.as_file(),
        limits.max_upload,
        limits.body_timeout,
        BodyTime::Idle,
    )
    .await?;
    if size == 0 {
        return Err(ApiError::bad_request("the upload is empty"));
    }
    let (_, path) = tmp.keep().map_err(|e| ApiError::internal(e.to_string()))?;
    let name = q.name.clone();
    let lang = q.lang.clone();
    let id = web::block(move || -> Result<i64, ApiError> {
        let store = Store::open(&d)?;
        super::jobs::enqueue(
            &store,
            &path,
            &name,
            who.0.token_id,
            meta.as_deref(),
            &lang,
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
        let j = super::jobs::get(&store, *id)
            .map_err(|e| ApiError::internal(e.to_string()))?
            .ok_or_else(|| ApiError::not_found("such job"))?;
        if !who.0.can_read_job(j.token_id) {
            return Err(ApiError::not_found("such job"));
        }
        Ok(j)
    })
    .await??;
    Ok(HttpResponse::Ok().json(j))
}

/// Releases a verification's admission when the request ends, however it ends.
/// The keys `POST /api/verify` trusts: this archive's own, and any `key=HEX` the caller pins
/// (the web page sends the keys its user pinned).
fn verify_trust(
    data: &std::path::Path,
    query: &str,
) -> Result<crate::evidence::trust::Trust, ApiError> {
    let mut trust = crate::evidence::trust::Trust::default();
    if let Some(pk) =
        crate::seal::keys::load_public(data).map_err(|e| ApiError::internal(e.to_string()))?
    {
        trust.add("this archive", pk);
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name != "key" {
            return Err(ApiError::bad_request(format!(
                "unknown query parameter {name:?}: POST /api/verify takes only key=HEX (a key to trust, repeatable)"
            )));
        }
        let value = value.replace("%3A", ":").replace("%3a", ":");
        let pk = crate::evidence::trust::parse_key_text(&value).ok_or_else(|| {
            ApiError::bad_request(
                "key must be an Ed25519 public key: 64 hex digits, optionally ed25519: in front",
            )
        })?;
        trust.add(
            format!("a key you pinned ({})", crate::seal::keys::fingerprint(&pk)),
            pk,
        );
    }
    Ok(trust)
}

struct Admitted<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn verify(
    req: HttpRequest,
    state: web::Data<State>,
    who: Option<Caller>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let limits = state.config.limits.clone();
    if let Some(ip) = req.peer_addr().map(|a| a.ip()) {
        if !super::within_rate(&state.verify_rate, ip, limits.verify_per_ip_per_minute) {
            return Err(ApiError::busy(format!(
                "more than {} verifications a minute from this address; wait a minute, or verify offline with `liveproof verify`",
                limits.verify_per_ip_per_minute
            )));
        }
    }
    // At most `verify_concurrency` run and as many wait (bodies spooled); more are refused.
    let admitted = state
        .verify_admitted
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let _admission = Admitted(&state.verify_admitted);
    if admitted >= 2 * limits.verify_concurrency {
        return Err(ApiError::busy(
            "the verifier is busy; try again in a few seconds, or verify offline with `liveproof verify`",
        ));
    }
    let spool = super::spool_dir(&state.config.data);
    std::fs::create_dir_all(&spool).map_err(|e| ApiError::internal(e.to_string()))?;
    let tmp = tempfile::Builder::new()
        .prefix("verify-")
        .tempfile_in(&spool)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let (size, _) = spool_body(
        &mut body,
        tmp.as_file(),
        limits.max_verify_body,
        limits.body_timeout,
        BodyTime::Total,
    )
    .await?;
    if size == 0 {
        return Err(ApiError::bad_request(
            "the body is empty: send the bundle's bytes (Content-Type: application/zip)",
        ));
    }
    let _slot = state
        .verify_slots
        .acquire()
        .await
        .map_err(|_| ApiError::internal("verifier closed"))?;
    let trust = verify_trust(&state.config.data, req.query_string())?;
    let v = web::block(move || {
        crate::evidence::verify::verify_with(
            tmp.path(),
            "the uploaded bundle",
            &crate::evidence::verify::Options {
                limits: limits.bundle,
                trust,
                ..Default::default()
            },
        )
    })
    .await?;
    // Custody: a token holder verifying one of this archive's sessions is handling it.
    if let (Some(Caller(a)), Some(session)) = (who, v.session.clone()) {
        if v.status == crate::evidence::verify::Status::Verified {
            let d = data(&state);
            let status = v.status;
            web::block(move || -> Result<(), ApiError> {
                let store = Store::open(&d)?;
                let readable = store
                    .get(&session)?
                    .is_some_and(|row| a.can_read(&store, &session, row.platform.as_deref()));
                if readable {
                    let e = crate::custody::event(
                        "verify",
                        &session,
                        &crate::custody::token_user(&a),
                        format!(
                            "verified an evidence bundle of this session on the server: {status:?}"
                        ),
                    );
                    crate::custody::record(&store, &e)?;
                }
                Ok(())
            })
            .await??;
        }
    }
    Ok(HttpResponse::Ok().json(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_upload_languages_are_the_accepted_ones() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        let lang = doc["paths"]["/api/uploads"]["post"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "lang")
            .unwrap();
        let documented: Vec<&str> = lang["schema"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut accepted = vec!["auto"];
        accepted.extend(crate::transcription::whisper::language_codes());
        assert_eq!(documented, accepted);
    }

    #[test]
    fn upload_names_are_plain_file_names() {
        for ok in [
            "room-17.flv",
            "录制-22389206-20231215-203000-123-标题.flv",
            ".hidden.wav",
        ] {
            assert!(check_upload_name(ok).is_ok(), "{ok}");
        }
        let long = "长".repeat(256);
        for bad in [
            "",
            " ",
            ".",
            "..",
            "a/b",
            "/",
            "a\\b",
            "a\0b",
            "a\nb",
            long.as_str(),
        ] {
            assert!(check_upload_name(bad).is_err(), "{bad:?}");
        }
    }
}
