//! Broadcasts: one room's consecutive segments on one timeline. Recorders cut a broadcast into
//! files (often 30 minutes each); sessions of the same platform and room whose start follows
//! the previous one's end within a gap (default 10 minutes) form one broadcast. Derived from
//! the catalog and the manifests at any time; nothing is stored.

use std::time::Duration;

use serde::Serialize;

use crate::store::{Store, StoreError};

/// The longest pause between segments of one broadcast unless told otherwise.
pub const DEFAULT_GAP: Duration = Duration::from_secs(600);

/// One broadcast, as `liveproof broadcasts --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Broadcast {
    /// Its id: the id of its first session.
    pub broadcast: String,
    /// Platform (sidecar `platform`).
    pub platform: Option<String>,
    /// Room.
    pub room: Option<String>,
    /// Host.
    pub host: Option<String>,
    /// When its first segment started (RFC 3339).
    pub started_at: String,
    /// From the first segment's start to the last one's end.
    pub duration_ms: u64,
    /// Its sessions, in time order.
    pub sessions: Vec<String>,
    /// Where each session starts on the broadcast's timeline (ms), in the same order.
    pub offsets_ms: Vec<u64>,
}

/// A session placed in time.
#[derive(Debug, Clone)]
struct Placed {
    session: String,
    platform: Option<String>,
    room: Option<String>,
    host: Option<String>,
    start: chrono::DateTime<chrono::FixedOffset>,
    duration_ms: u64,
}

/// When a session started: its sidecar's `started_at`, else its ingest time.
fn start_of(m: &crate::manifest::Manifest) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    m.metadata
        .as_ref()
        .and_then(|md| md.get("started_at"))
        .and_then(|v| v.as_str())
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .or_else(|| chrono::DateTime::parse_from_rfc3339(&m.ingested_at).ok())
}

/// Every broadcast in the archive, oldest first. Sessions without a room are broadcasts of
/// their own.
pub fn list(store: &Store, gap: Duration) -> Result<Vec<Broadcast>, StoreError> {
    let mut placed = Vec::new();
    for row in store.list()? {
        let m = store.manifest(&row.session)?;
        let Some(start) = start_of(&m) else { continue };
        placed.push(Placed {
            session: row.session,
            platform: row.platform,
            room: row.room,
            host: row.host,
            start,
            duration_ms: m.duration_ms,
        });
    }
    Ok(group(placed, gap))
}

fn group(mut placed: Vec<Placed>, gap: Duration) -> Vec<Broadcast> {
    placed.sort_by(|a, b| {
        (&a.platform, &a.room, a.start, &a.session).cmp(&(
            &b.platform,
            &b.room,
            b.start,
            &b.session,
        ))
    });
    let gap_ms = gap.as_millis() as i64;
    let mut out: Vec<(Broadcast, chrono::DateTime<chrono::FixedOffset>, i64)> = Vec::new();
    for p in placed {
        let start_ms = p.start.timestamp_millis();
        let joins = out.last().is_some_and(|(b, first, end_ms)| {
            p.room.is_some()
                && b.room == p.room
                && b.platform == p.platform
                && start_ms - end_ms <= gap_ms
                && start_ms >= first.timestamp_millis()
        });
        let end = start_ms + p.duration_ms as i64;
        if joins {
            let (b, first, end_ms) = out.last_mut().expect("checked");
            b.offsets_ms
                .push((start_ms - first.timestamp_millis()) as u64);
            b.sessions.push(p.session);
            *end_ms = (*end_ms).max(end);
            b.duration_ms = (*end_ms - first.timestamp_millis()) as u64;
            if b.host.is_none() {
                b.host = p.host;
            }
        } else {
            out.push((
                Broadcast {
                    broadcast: p.session.clone(),
                    platform: p.platform,
                    room: p.room,
                    host: p.host,
                    started_at: p.start.to_rfc3339(),
                    duration_ms: p.duration_ms,
                    sessions: vec![p.session],
                    offsets_ms: vec![0],
                },
                p.start,
                end,
            ));
        }
    }
    out.sort_by(|a, b| (a.1, &a.0.broadcast).cmp(&(b.1, &b.0.broadcast)));
    out.into_iter().map(|(b, _, _)| b).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(session: &str, room: Option<&str>, start: &str, minutes: u64) -> Placed {
        Placed {
            session: session.into(),
            platform: Some("douyin".into()),
            room: room.map(str::to_string),
            host: None,
            start: chrono::DateTime::parse_from_rfc3339(start).unwrap(),
            duration_ms: minutes * 60_000,
        }
    }

    #[test]
    fn consecutive_segments_of_a_room_form_one_broadcast() {
        let b = group(
            vec![
                p("s2", Some("r"), "2026-05-01T20:30:00+08:00", 30),
                p("s1", Some("r"), "2026-05-01T20:00:00+08:00", 30),
                p("s3", Some("r"), "2026-05-01T21:02:00+08:00", 10),
                // Three hours later: the next evening's broadcast of the same room.
                p("s4", Some("r"), "2026-05-02T00:30:00+08:00", 10),
                p("q1", Some("q"), "2026-05-01T20:10:00+08:00", 5),
                p("x1", None, "2026-05-01T20:15:00+08:00", 5),
                p("x2", None, "2026-05-01T20:20:00+08:00", 5),
            ],
            DEFAULT_GAP,
        );
        let ids: Vec<Vec<&str>> = b
            .iter()
            .map(|b| b.sessions.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            ids,
            vec![
                vec!["s1", "s2", "s3"],
                vec!["q1"],
                vec!["x1"],
                vec!["x2"],
                vec!["s4"]
            ]
        );
        assert_eq!(b[0].broadcast, "s1");
        assert_eq!(b[0].offsets_ms, [0, 30 * 60_000, 62 * 60_000]);
        assert_eq!(b[0].duration_ms, 72 * 60_000);
        assert_eq!(b[0].started_at, "2026-05-01T20:00:00+08:00");
    }
}
