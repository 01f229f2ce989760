//! One structured line per request on standard error (method, route, status, duration, who),
//! as text or JSON lines (`serve --log-format`). The route is the matched pattern
//! (`/api/sessions/{id}`), never the query string (an `access_token` may ride there), and the
//! caller is named by token id and role, never by the token.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::HttpMessage;

/// How request and job lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// `2026-05-01T12:00:00.000Z GET /api/sessions 200 12ms token:3 (auditor)`.
    #[default]
    Text,
    /// One JSON object a line: `{"at","method","route","status","ms","by"}`.
    Json,
    /// Nothing.
    Off,
}

/// Who made a request, set by the authenticating extractor for the log line.
#[derive(Clone)]
pub struct Who(pub String);

/// Writes one line: a request, or a job step (`kind` = `job`).
pub fn line(format: LogFormat, fields: serde_json::Value) {
    match format {
        LogFormat::Off => {}
        LogFormat::Json => eprintln!("{fields}"),
        LogFormat::Text => {
            let f = |k: &str| match &fields[k] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "-".into(),
                v => v.to_string(),
            };
            if fields["kind"] == "job" {
                eprintln!("{} job {} {} {}", f("at"), f("job"), f("step"), f("detail"));
            } else {
                eprintln!(
                    "{} {} {} {} {}ms {}",
                    f("at"),
                    f("method"),
                    f("route"),
                    f("status"),
                    f("ms"),
                    f("by")
                );
            }
        }
    }
}

/// The middleware: times the request and logs it once answered.
pub async fn log(
    format: LogFormat,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().to_string();
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(no route)".into());
    let by = res.request().extensions().get::<Who>().map(|w| w.0.clone());
    line(
        format,
        serde_json::json!({
            "kind": "request",
            "at": crate::custody::now(),
            "method": method,
            "route": route,
            "status": res.status().as_u16(),
            "ms": start.elapsed().as_millis() as u64,
            "by": by,
        }),
    );
    Ok(res)
}
