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
    /// A numbered segment of a recorder's run: (run start, number).
    run: Option<(chrono::DateTime<chrono::FixedOffset>, u64)>,
    /// Its own start is unknown (`start` is placed by `chain_runs`).
    estimated: bool,
}

type Time = chrono::DateTime<chrono::FixedOffset>;

fn meta_time(m: &crate::manifest::Manifest, key: &str) -> Option<Time> {
    m.metadata
        .as_ref()
        .and_then(|md| md.get(key))
        .and_then(|v| v.as_str())
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
}

/// When a session started: its sidecar's `started_at`; for a later segment of a recorder's
/// run without one, placed after the run's earlier segments (`chain_runs`); else its ingest
/// time.
fn place(row: crate::store::SessionRow, m: &crate::manifest::Manifest) -> Option<Placed> {
    let segment = m
        .metadata
        .as_ref()
        .and_then(|md| md.get("segment"))
        .and_then(|v| v.as_u64());
    let run = meta_time(m, "recording_started_at").zip(segment);
    let own = meta_time(m, "started_at");
    let estimated = own.is_none() && run.is_some();
    let start = own
        .or(run.map(|(r, _)| r))
        .or_else(|| chrono::DateTime::parse_from_rfc3339(&m.ingested_at).ok())?;
    Some(Placed {
        session: row.session,
        platform: row.platform,
        room: row.room,
        host: row.host,
        start,
        duration_ms: m.duration_ms,
        run,
        estimated,
    })
}

/// Lays the segments of one run whose starts are unknown end to end after its earlier ones.
fn chain_runs(placed: &mut [Placed]) {
    placed.sort_by(|a, b| {
        (
            &a.platform,
            &a.room,
            a.run.map(|r| r.0),
            a.run.map(|r| r.1),
            a.start,
        )
            .cmp(&(
                &b.platform,
                &b.room,
                b.run.map(|r| r.0),
                b.run.map(|r| r.1),
                b.start,
            ))
    });
    for i in 0..placed.len() {
        let (Some((run, seg)), true) = (placed[i].run, placed[i].estimated) else {
            continue;
        };
        // The latest end among the same room's segments of the same run with lower numbers.
        let end = placed
            .iter()
            .filter(|p| p.room == placed[i].room && p.platform == placed[i].platform)
            .filter(|p| p.run.is_some_and(|(r, s)| r == run && s < seg))
            .map(|p| p.start + chrono::Duration::milliseconds(p.duration_ms as i64))
            .max();
        if let Some(end) = end {
            placed[i].start = end.max(run);
        }
    }
}

/// Every broadcast in the archive, oldest first. Sessions without a room are broadcasts of
/// their own.
pub fn list(store: &Store, gap: Duration) -> Result<Vec<Broadcast>, StoreError> {
    list_visible(store, gap, &|_| true)
}

/// Every broadcast made of the sessions `visible` admits (an API caller's), oldest first.
pub fn list_visible(
    store: &Store,
    gap: Duration,
    visible: &dyn Fn(&crate::store::SessionRow) -> bool,
) -> Result<Vec<Broadcast>, StoreError> {
    let mut placed = Vec::new();
    for row in store.list()?.into_iter().filter(|r| visible(r)) {
        let m = store.manifest(&row.session)?;
        placed.extend(place(row, &m));
    }
    chain_runs(&mut placed);
    Ok(group(placed, gap))
}

/// Finds the broadcast of sessions, reading only their rooms' sessions (one room once).
pub struct Locator<'a> {
    store: &'a Store,
    gap: Duration,
    visible: &'a dyn Fn(&crate::store::SessionRow) -> bool,
    rooms: std::collections::HashMap<(Option<String>, Option<String>), Vec<Broadcast>>,
}

impl<'a> Locator<'a> {
    /// A locator over the sessions of `store` that `visible` admits (an API caller's), with
    /// this gap between segments: a broadcast is made only of sessions its reader may see.
    pub fn new(
        store: &'a Store,
        gap: Duration,
        visible: &'a dyn Fn(&crate::store::SessionRow) -> bool,
    ) -> Self {
        Self {
            store,
            gap,
            visible,
            rooms: Default::default(),
        }
    }

    /// The broadcast holding `session` and where the session starts on its timeline (ms).
    pub fn locate(&mut self, session: &str) -> Result<Option<(Broadcast, u64)>, StoreError> {
        let Some(row) = self.store.get(session)? else {
            return Ok(None);
        };
        let key = (row.platform.clone(), row.room.clone());
        if !self.rooms.contains_key(&key) {
            let mut placed = Vec::new();
            let rows = self.store.list()?;
            for r in rows.into_iter().filter(|r| {
                (&r.platform, &r.room) == (&key.0, &key.1)
                    && (r.room.is_some() || r.session == session)
                    && (self.visible)(r)
            }) {
                let m = self.store.manifest(&r.session)?;
                placed.extend(place(r, &m));
            }
            chain_runs(&mut placed);
            let groups = group(placed, self.gap);
            if key.1.is_none() {
                // Room-less sessions are broadcasts of their own: do not cache them together.
                return Ok(find(&groups, session));
            }
            self.rooms.insert(key.clone(), groups);
        }
        Ok(find(&self.rooms[&key], session))
    }
}

/// Gives each hit its broadcast (made of the sessions `visible` admits) and its time on the
/// broadcast's timeline.
pub fn place_hits(
    store: &Store,
    hits: &mut [crate::search::Hit],
    gap: Duration,
    visible: &dyn Fn(&crate::store::SessionRow) -> bool,
) -> Result<(), StoreError> {
    let mut l = Locator::new(store, gap, visible);
    for h in hits {
        if let Some((b, offset)) = l.locate(&h.session)? {
            h.broadcast = Some(b.broadcast);
            h.broadcast_ms = Some(offset + h.start_ms);
        }
    }
    Ok(())
}

fn find(groups: &[Broadcast], session: &str) -> Option<(Broadcast, u64)> {
    groups.iter().find_map(|b| {
        b.sessions
            .iter()
            .position(|s| s == session)
            .map(|i| (b.clone(), b.offsets_ms[i]))
    })
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

/// The report over a whole broadcast: its sessions' transcripts, claims and comments laid on one
/// timeline, so the disclosure check ("at the start, at the end, every N minutes"), loop
/// detection and the comment signals see the broadcast as viewers did. Labels, C2PA and the
/// sidecar's `host_kind` count when any session has them.
pub fn report(
    store: &Store,
    b: &Broadcast,
    interval_min: u64,
) -> Result<crate::disclosure::Report, StoreError> {
    let mut merged: Option<(crate::manifest::Manifest, crate::transcript::Transcript)> = None;
    let mut comments = Vec::new();
    for (session, &offset) in b.sessions.iter().zip(&b.offsets_ms) {
        let m = store.manifest(session)?;
        let t = store.transcript(session)?;
        let (mm, mt) = merged.get_or_insert_with(|| {
            let mut m0 = m.clone();
            m0.session = b.broadcast.clone();
            m0.labels.clear();
            m0.c2pa = None;
            if let Some(c) = m0.claims.as_mut() {
                c.flags.clear();
            }
            let mut t0 = t.clone();
            t0.session = b.broadcast.clone();
            t0.segments.clear();
            t0.gaps.clear();
            (m0, t0)
        });
        let base = mt.segments.len();
        for s in &t.segments {
            let mut s = s.clone();
            s.index += base;
            s.start_ms += offset;
            s.end_ms += offset;
            mt.segments.push(s);
        }
        if let (Some(all), Some(these)) = (mm.claims.as_mut(), m.claims.as_ref()) {
            all.flags.extend(these.flags.iter().cloned().map(|mut f| {
                f.segment += base;
                f.start_ms += offset;
                f.end_ms += offset;
                f
            }));
        }
        mm.labels.extend(m.labels.iter().cloned());
        if mm.c2pa.is_none() {
            mm.c2pa = m.c2pa.clone();
        }
        let declared = m
            .metadata
            .as_ref()
            .and_then(|md| crate::sidecar::field(md, "host_kind"))
            .map(str::to_string);
        if let (Some(kind), Some(md)) = (declared, mm.metadata.as_mut()) {
            md.entry("host_kind").or_insert(kind.into());
        }
        if let Some(c) = store.comments(session)? {
            comments.extend(c.comments.into_iter().map(|mut x| {
                x.t_ms += offset;
                x
            }));
        }
    }
    let (mut m, t) = merged.ok_or_else(|| StoreError::NoSuchSession(b.broadcast.clone()))?;
    m.duration_ms = b.duration_ms;
    m.segment_count = t.segments.len();
    comments.sort_by_key(|c| c.t_ms);
    for (i, c) in comments.iter_mut().enumerate() {
        c.index = i;
    }
    let mut r = crate::shills::session_report(&m, &t, &comments, interval_min);
    r.broadcast = Some(serde_json::json!({
        "broadcast": b.broadcast, "sessions": b.sessions, "offsets_ms": b.offsets_ms,
        "duration_ms": b.duration_ms,
    }));
    Ok(r)
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
            run: None,
            estimated: false,
        }
    }

    #[test]
    fn later_segments_of_a_run_without_a_start_follow_the_earlier_ones() {
        let run = chrono::DateTime::parse_from_rfc3339("2026-05-01T20:00:00+08:00").unwrap();
        let mut v = vec![
            Placed {
                run: Some((run, 0)),
                ..p("s0", Some("r"), "2026-05-01T20:00:00+08:00", 30)
            },
            Placed {
                run: Some((run, 2)),
                estimated: true,
                ..p("s2", Some("r"), "2026-05-01T20:00:00+08:00", 30)
            },
            Placed {
                run: Some((run, 1)),
                estimated: true,
                ..p("s1", Some("r"), "2026-05-01T20:00:00+08:00", 30)
            },
            // The same room's evening broadcast is not part of the run.
            p("e0", Some("r"), "2026-05-01T23:00:00+08:00", 30),
        ];
        chain_runs(&mut v);
        let b = group(v, DEFAULT_GAP);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].sessions, ["s0", "s1", "s2"]);
        assert_eq!(b[1].sessions, ["e0"]);
        assert_eq!(b[0].offsets_ms, [0, 30 * 60_000, 60 * 60_000]);
        assert_eq!(b[0].duration_ms, 90 * 60_000);
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
