//! `liveproof watch DIR`: archive every complete recording under a folder as live recorders
//! write them — a folder per room, numbered segments, the newest still growing.
//!
//! A file is ingested only once the recorder is done with it: unchanged for `settle` and a
//! later segment of the same room has started, or unchanged for `finish_after` (the recorder
//! stopped). A file that its own framing shows cut short is then archived through the
//! truncated-recording path, the cut recorded in the manifest; a half-written segment is never
//! archived as if whole. What was done with each file is kept in the catalog
//! (`Store::watched`), so a restart neither loses nor repeats work; the ingest itself is
//! idempotent by recording hash as well.
//!
//! Metadata for each file: `--meta` (for everything), then `liveproof.json` in the file's
//! folder (per room), then `<file stem>.json` beside it (per file), each overriding the one
//! before; the recorder's naming (`recorders`) fills in platform, room and host when none of
//! them says, and gives `started_at`, `segment` and `title` unless the per-file sidecar does.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::ingest::{self, IngestError, Progress};
use crate::media::MediaError;
use crate::recorders::{self, Named};
use crate::store::{Store, StoreError, Watched};

/// The folder sidecar's name: metadata for every recording in its folder.
pub const FOLDER_SIDECAR: &str = "liveproof.json";

/// Extensions of the recordings `watch` picks up (recorders write FLV, TS, MP4; others too).
pub const EXTENSIONS: [&str; 10] = [
    "flv", "ts", "mp4", "m4a", "mkv", "mp3", "aac", "wav", "flac", "ogg",
];

/// How `watch` decides and ingests.
#[derive(Debug, Clone)]
pub struct Options {
    /// A file must be unchanged this long before anything is decided about it.
    pub settle: Duration,
    /// Unchanged this long with no later segment: the recorder is done with it.
    pub finish_after: Duration,
    /// Offset from UTC of the recorders' clocks, for times in file names.
    pub offset_secs: i32,
    /// Sidecar for every recording (`--meta`).
    pub meta: Option<PathBuf>,
    /// How each recording is ingested (model, language, threads, settings).
    pub ingest: ingest::Options,
}

impl Default for Options {
    /// Settle 30 s, finished after 5 minutes unchanged, China Standard Time, default ingest.
    fn default() -> Self {
        Self {
            settle: Duration::from_secs(30),
            finish_after: Duration::from_secs(300),
            offset_secs: recorders::DEFAULT_OFFSET_SECS,
            meta: None,
            ingest: Default::default(),
        }
    }
}

/// What one pass did with one file.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The file.
    pub path: PathBuf,
    /// `ingested`, `already_archived`, `failed`, or `waiting` (not complete yet).
    pub state: &'static str,
    /// The session, when archived.
    pub session: Option<String>,
    /// Why it waits or failed, or what was noted (archived as cut short).
    pub detail: Option<String>,
}

/// Why `watch` itself (not one file) failed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The folder cannot be read.
    #[error("cannot read the watched folder `{path}`: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The catalog failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A recording file as seen on one pass.
#[derive(Debug, Clone)]
struct Seen {
    path: PathBuf,
    size: u64,
    mtime: SystemTime,
    named: Option<Named>,
}

/// Every recording under `dir`, recursively, in path order (hidden files and folders and the
/// archive's own folder skipped).
pub fn scan(dir: &Path, skip: &Path) -> Result<Vec<PathBuf>, WatchError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let skip = skip.canonicalize().ok();
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| WatchError::Folder {
            path: d.clone(),
            source,
        })?;
        for e in entries.flatten() {
            let p = e.path();
            let hidden = e.file_name().to_string_lossy().starts_with('.');
            let Ok(t) = e.file_type() else { continue };
            if hidden {
                continue;
            }
            if t.is_dir() {
                if skip.is_none() || p.canonicalize().ok() != skip {
                    stack.push(p);
                }
            } else if t.is_file() && is_recording(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// True for a file name with a recording's extension.
pub fn is_recording(p: &Path) -> bool {
    p.extension()
        .and_then(|x| x.to_str())
        .is_some_and(|x| EXTENSIONS.contains(&x.to_ascii_lowercase().as_str()))
}

fn mtime_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Whether a later segment of the same room has started beside `f`: by the recorder's naming
/// when both have one, else any other recording in the folder modified after it stopped.
fn later_segment_started(f: &Seen, all: &[Seen]) -> bool {
    all.iter().any(|o| {
        o.path != f.path
            && o.path.parent() == f.path.parent()
            && match (&f.named, &o.named) {
                (Some(a), Some(b)) => {
                    a.room == b.room
                        && (b.started_at, b.segment.unwrap_or(0))
                            > (a.started_at, a.segment.unwrap_or(0))
                }
                _ => o.mtime > f.mtime,
            }
    })
}

/// Why a file is not ready yet, or `None` when the recorder is done with it.
fn not_ready(f: &Seen, all: &[Seen], now: SystemTime, opts: &Options) -> Option<String> {
    let idle = now.duration_since(f.mtime).unwrap_or(Duration::ZERO);
    if idle < opts.settle {
        return Some(format!(
            "still being written (changed {}s ago)",
            idle.as_secs()
        ));
    }
    if idle >= opts.finish_after || later_segment_started(f, all) {
        return None;
    }
    Some(format!(
        "the newest segment of its room, unchanged for {}s: taken as finished after {}s",
        idle.as_secs(),
        opts.finish_after.as_secs()
    ))
}

/// The sidecar for one file: `--meta`, the folder's, the file's own, and the naming.
fn sidecar_for(
    f: &Seen,
    opts: &Options,
    previous_end: Option<String>,
) -> Result<Map<String, Value>, IngestError> {
    let mut m = Map::new();
    let beside = f.path.with_extension("json");
    let folder = f.path.parent().map(|p| p.join(FOLDER_SIDECAR));
    let own = beside
        .is_file()
        .then(|| crate::sidecar::load(&beside))
        .transpose()?;
    for layer in [
        opts.meta.as_deref().map(crate::sidecar::load).transpose()?,
        folder
            .filter(|p| p.is_file())
            .map(|p| crate::sidecar::load(&p))
            .transpose()?,
        own.clone(),
    ]
    .into_iter()
    .flatten()
    {
        m.extend(layer);
    }
    let own_has = |k: &str| own.as_ref().is_some_and(|o| o.contains_key(k));
    if let Some(n) = &f.named {
        for (k, v) in n.sidecar() {
            let per_file = matches!(
                k.as_str(),
                "started_at" | "segment" | "title" | "recording_started_at"
            );
            if (per_file && !own_has(&k)) || !m.contains_key(&k) {
                m.insert(k, v);
            }
        }
        // A later segment of a run starts where the previous one ended; unknown, it has no
        // start of its own (never the run's, nor a folder-wide one).
        if !n.starts_here() && !own_has("started_at") {
            match previous_end {
                Some(t) => m.insert("started_at".into(), t.into()),
                None => m.remove("started_at"),
            };
        }
    }
    Ok(m)
}

/// Where the previous segment of a DouyinLiveRecorder run ended, when it is archived with a
/// start: this segment's start.
fn previous_end(store: &Store, f: &Seen) -> Option<String> {
    let n = f.named.as_ref().filter(|n| !n.starts_here())?;
    let seg = n.segment?;
    let stem = f.path.file_stem()?.to_str()?;
    let run = &stem[..stem.rfind('_')?];
    let ext = f.path.extension()?.to_str()?;
    let prev = f.path.with_file_name(format!("{run}_{:03}.{ext}", seg - 1));
    let w = store.watched(&prev.to_string_lossy()).ok()??;
    let m = store.manifest(w.session.as_deref()?).ok()?;
    let start = crate::sidecar::field(m.metadata.as_ref()?, "started_at")?;
    let start = chrono::DateTime::parse_from_rfc3339(start).ok()?;
    Some((start + chrono::Duration::milliseconds(m.duration_ms as i64)).to_rfc3339())
}

/// Ingests one finished file: normally, and when its framing shows it cut short, through the
/// truncated-recording path (the recorder is done with it, so the cut is final).
fn ingest_one(
    store: &mut Store,
    f: &Seen,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<(ingest::Summary, Option<String>), IngestError> {
    let meta = sidecar_for(f, opts, previous_end(store, f))?;
    let dir = tempfile::tempdir().map_err(|e| IngestError::Input {
        path: f.path.clone(),
        reason: format!("cannot create a temporary directory: {e}"),
    })?;
    let mut o = opts.ingest.clone();
    // Comments beside the recording, as BililiveRecorder writes them (or a fetcher's JSONL).
    o.comments = ["xml", "jsonl"]
        .iter()
        .map(|x| f.path.with_extension(x))
        .find(|p| p.is_file());
    if !meta.is_empty() {
        let p = dir.path().join("sidecar.json");
        std::fs::write(&p, Value::Object(meta).to_string()).map_err(|e| IngestError::Input {
            path: p.clone(),
            reason: e.to_string(),
        })?;
        o.meta = Some(p);
    }
    let mut notes = Vec::new();
    let summary = loop {
        match ingest::ingest(store, &f.path, &o, progress) {
            Err(IngestError::Media(
                e @ (MediaError::Cut { .. } | MediaError::Truncated { .. }),
            )) if !o.allow_truncated => {
                o.allow_truncated = true;
                notes.push(format!("archived as cut short: {e}"));
            }
            // Unreadable comments never keep the speech out of the archive.
            Err(IngestError::Comments(e)) if o.comments.is_some() => {
                o.comments = None;
                notes.push(format!("comments not sealed: {e}"));
            }
            r => break r?,
        }
    };
    Ok((summary, (!notes.is_empty()).then(|| notes.join("; "))))
}

/// One pass over `dir`: every file not handled before (or changed since) that the recorder is
/// done with is ingested; the others are reported as waiting. `progress` gives a progress sink
/// per file. Failures of one file are recorded and reported, never stop the pass.
pub fn pass(
    store: &mut Store,
    dir: &Path,
    opts: &Options,
    progress: &dyn Fn(&Path) -> Box<dyn Progress>,
) -> Result<Vec<Outcome>, WatchError> {
    let root = store.root().to_path_buf();
    let mut seen = Vec::new();
    for path in scan(dir, &root)? {
        let Ok(md) = std::fs::metadata(&path) else {
            continue; // removed since the scan
        };
        seen.push(Seen {
            named: recorders::parse(&path, opts.offset_secs),
            size: md.len(),
            mtime: md.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            path,
        });
    }
    let now = SystemTime::now();
    let mut out = Vec::new();
    for f in &seen {
        let key = f.path.to_string_lossy().into_owned();
        if let Some(w) = store.watched(&key)? {
            if w.size == f.size && w.mtime_ms == mtime_ms(f.mtime) {
                continue;
            }
        }
        if let Some(why) = not_ready(f, &seen, now, opts) {
            out.push(Outcome {
                path: f.path.clone(),
                state: "waiting",
                session: None,
                detail: Some(why),
            });
            continue;
        }
        let sink = progress(&f.path);
        let (state, session, detail) = match ingest_one(store, f, opts, sink.as_ref()) {
            Ok((s, note)) if s.already_archived => ("already_archived", Some(s.session), note),
            Ok((s, note)) => ("ingested", Some(s.session), note),
            // The machine, not the file, failed: leave it to be tried again.
            Err(e) if !e.is_bad_input() => {
                out.push(Outcome {
                    path: f.path.clone(),
                    state: "failed",
                    session: None,
                    detail: Some(e.to_string()),
                });
                continue;
            }
            Err(e) => ("failed", None, Some(e.to_string())),
        };
        store.record_watched(&Watched {
            path: key,
            size: f.size,
            mtime_ms: mtime_ms(f.mtime),
            state: state.into(),
            session: session.clone(),
            detail: detail.clone(),
            at: chrono::Utc::now().to_rfc3339(),
        })?;
        out.push(Outcome {
            path: f.path.clone(),
            state,
            session,
            detail,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(path: &str, mtime_ago: u64, now: SystemTime) -> Seen {
        Seen {
            path: PathBuf::from(path),
            size: 1,
            mtime: now - Duration::from_secs(mtime_ago),
            named: recorders::parse(Path::new(path), 0),
        }
    }

    #[test]
    fn a_segment_is_ready_once_settled_and_followed_or_long_unchanged() {
        let now = SystemTime::now();
        let opts = Options::default();
        let a = seen("r/r_2026-05-01_20-00-00_000.flv", 60, now);
        let b = seen("r/r_2026-05-01_20-30-00_001.flv", 1, now);
        let all = vec![a.clone(), b.clone()];
        assert_eq!(not_ready(&a, &all, now, &opts), None, "followed by b");
        assert!(not_ready(&b, &all, now, &opts)
            .unwrap()
            .contains("being written"));
        // The newest segment, settled but not long enough to call the broadcast over.
        let b_settled = seen("r/r_2026-05-01_20-30-00_001.flv", 60, now);
        let all = vec![a.clone(), b_settled.clone()];
        assert!(not_ready(&b_settled, &all, now, &opts)
            .unwrap()
            .contains("newest segment"));
        let b_old = seen("r/r_2026-05-01_20-30-00_001.flv", 301, now);
        assert_eq!(
            not_ready(&b_old, &[a.clone(), b_old.clone()], now, &opts),
            None
        );
        // Another room's newer segment in another folder does not finish this one.
        let other = seen("q/q_2026-05-01_21-00-00_000.flv", 1, now);
        assert!(not_ready(&b_settled, &[b_settled.clone(), other], now, &opts).is_some());
    }

    #[test]
    fn files_without_recorder_names_are_followed_by_newer_files_beside_them() {
        let now = SystemTime::now();
        let opts = Options::default();
        let a = seen("room/part1.ts", 100, now);
        let b = seen("room/part2.ts", 40, now);
        let all = vec![a.clone(), b.clone()];
        assert_eq!(not_ready(&a, &all, now, &opts), None);
        assert!(not_ready(&b, &all, now, &opts).is_some());
    }

    #[test]
    fn sidecars_layer_and_the_naming_fills_in() {
        let d = tempfile::tempdir().unwrap();
        let room = d.path().join("好物小店");
        std::fs::create_dir(&room).unwrap();
        let file = room.join("好物小店_2026-05-01_20-00-00_002.flv");
        std::fs::write(&file, b"x").unwrap();
        let base = d.path().join("base.json");
        std::fs::write(&base, r#"{"platform":"douyin","operator":"trust team"}"#).unwrap();
        std::fs::write(
            room.join(FOLDER_SIDECAR),
            r#"{"host":"小王","host_kind":"digital_human","started_at":"2000-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        let f = Seen {
            named: recorders::parse(&file, recorders::DEFAULT_OFFSET_SECS),
            path: file.clone(),
            size: 1,
            mtime: SystemTime::now(),
        };
        let opts = Options {
            meta: Some(base),
            ..Default::default()
        };
        let m = sidecar_for(&f, &opts, None).unwrap();
        assert_eq!(m["operator"], "trust team");
        assert_eq!(m["host"], "小王", "the folder's sidecar names the host");
        assert_eq!(m["host_kind"], "digital_human");
        assert_eq!(m["room"], "好物小店", "the naming fills in the room");
        assert_eq!(m["segment"], 2);
        // A folder-wide start time is not this segment's, and neither is the run's start in
        // its name: segment 2 starts where segment 1 ended, when that is known.
        assert!(!m.contains_key("started_at"), "{m:?}");
        assert_eq!(m["recording_started_at"], "2026-05-01T20:00:00+08:00");
        let m = sidecar_for(&f, &opts, Some("2026-05-01T20:30:00+08:00".into())).unwrap();
        assert_eq!(m["started_at"], "2026-05-01T20:30:00+08:00");
        // Segment 0's start is the run's.
        let zero = room.join("好物小店_2026-05-01_20-00-00_000.flv");
        let f0 = Seen {
            named: recorders::parse(&zero, recorders::DEFAULT_OFFSET_SECS),
            path: zero,
            size: 1,
            mtime: SystemTime::now(),
        };
        let m = sidecar_for(&f0, &opts, None).unwrap();
        assert_eq!(m["started_at"], "2026-05-01T20:00:00+08:00");
        // The file's own sidecar has the last word.
        std::fs::write(
            file.with_extension("json"),
            r#"{"started_at":"2026-05-01T12:00:01Z"}"#,
        )
        .unwrap();
        let m = sidecar_for(&f, &opts, None).unwrap();
        assert_eq!(m["started_at"], "2026-05-01T12:00:01Z");
    }
}
