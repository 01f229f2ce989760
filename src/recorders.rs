//! What live recorders' own file names say: platform, room, host, when the segment started and
//! its number. Two layouts are known (README "Live rooms"):
//!
//! - DouyinLiveRecorder: `[PLATFORM/]ROOM/ROOM_YYYY-MM-DD_HH-MM-SS[_NNN].{flv,ts,mp4,…}`, where
//!   ROOM is the streamer's name, PLATFORM a folder such as `抖音直播` and NNN the segment. The
//!   time is when the *recording* started (ffmpeg's segment muxer numbers the files of one run),
//!   so segment NNN > 0 starts later by the earlier segments' durations.
//! - BililiveRecorder: `ROOMID-NAME/录制-ROOMID-YYYYMMDD-HHMMSS-mmm-TITLE.flv`, with the live
//!   comments beside it as `.xml`.
//!
//! Both write the recording machine's local time without a zone; it is read at the offset the
//! caller gives (default UTC+08:00, China Standard Time). Pure functions of the path.

use std::path::Path;
use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use regex::Regex;

/// DouyinLiveRecorder's layout.
pub const DOUYIN: &str = "DouyinLiveRecorder";

/// The offset recorders' local times are read at unless told otherwise (UTC+08:00).
pub const DEFAULT_OFFSET_SECS: i32 = 8 * 3600;

/// What a recorder's file name says about a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// Which recorder's layout it follows.
    pub recorder: &'static str,
    /// Platform (`douyin`, `bilibili`, …).
    pub platform: String,
    /// The room: Bilibili's room number, or the streamer's name for DouyinLiveRecorder.
    pub room: String,
    /// The streamer, when the layout names one.
    pub host: Option<String>,
    /// The time in the name (the recorder's clock, at the given offset): when this file
    /// started, or, for DouyinLiveRecorder's numbered segments, when the whole run started.
    pub started_at: DateTime<FixedOffset>,
    /// Segment number within the broadcast, when the layout has one.
    pub segment: Option<u32>,
    /// The broadcast's title, when the layout has one.
    pub title: Option<String>,
}

impl Named {
    /// Whether the name's time is when this file started (not a later segment of a run).
    pub fn starts_here(&self) -> bool {
        self.recorder != DOUYIN || self.segment.unwrap_or(0) == 0
    }

    /// The sidecar fields this name gives (`platform`, `room`, `host`, `started_at` when the
    /// name says when this file started, and `recorder`, `segment`, `title`,
    /// `recording_started_at` kept as extra fields).
    pub fn sidecar(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("platform".into(), self.platform.clone().into());
        m.insert("room".into(), self.room.clone().into());
        if let Some(h) = &self.host {
            m.insert("host".into(), h.clone().into());
        }
        if self.starts_here() {
            m.insert("started_at".into(), self.started_at.to_rfc3339().into());
        }
        if self.recorder == DOUYIN && self.segment.is_some() {
            m.insert(
                "recording_started_at".into(),
                self.started_at.to_rfc3339().into(),
            );
        }
        m.insert("recorder".into(), self.recorder.into());
        if let Some(s) = self.segment {
            m.insert("segment".into(), s.into());
        }
        if let Some(t) = &self.title {
            m.insert("title".into(), t.clone().into());
        }
        m
    }
}

static DOUYIN_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?P<room>.+?)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<time>\d{2}-\d{2}-\d{2})(?:_(?P<seg>\d{1,6}))?$",
    )
    .expect("valid regex")
});

static BILIBILI_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^录制-(?P<room>\d+)-(?P<date>\d{8})-(?P<time>\d{6})-(?P<ms>\d{3})(?:-(?P<title>.*))?$",
    )
    .expect("valid regex")
});

/// DouyinLiveRecorder's platform folders (it names them in Chinese), as platform ids.
const PLATFORM_FOLDERS: [(&str, &str); 9] = [
    ("抖音", "douyin"),
    ("快手", "kuaishou"),
    ("虎牙", "huya"),
    ("斗鱼", "douyu"),
    ("B站", "bilibili"),
    ("哔哩哔哩", "bilibili"),
    ("小红书", "xiaohongshu"),
    ("淘宝", "taobao"),
    ("TikTok", "tiktok"),
];

/// Reads a recorder's naming from `path` (file name and parent folders); `None` when it
/// follows neither layout. `offset_secs` is the recorder's local time offset from UTC.
pub fn parse(path: &Path, offset_secs: i32) -> Option<Named> {
    let stem = path.file_stem()?.to_str()?;
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str());
    let tz = FixedOffset::east_opt(offset_secs)?;
    if let Some(c) = BILIBILI_NAME.captures(stem) {
        let date = NaiveDate::parse_from_str(&c["date"], "%Y%m%d").ok()?;
        let time = NaiveTime::parse_from_str(&c["time"], "%H%M%S").ok()?;
        let ms: i64 = c["ms"].parse().ok()?;
        let local = NaiveDateTime::new(date, time) + chrono::Duration::milliseconds(ms);
        let room = c["room"].to_string();
        // The folder is `ROOMID-NAME`; the name is the streamer's.
        let host = parent
            .and_then(|p| p.strip_prefix(&format!("{room}-")))
            .filter(|h| !h.is_empty())
            .map(str::to_string);
        return Some(Named {
            recorder: "BililiveRecorder",
            platform: "bilibili".into(),
            room,
            host,
            started_at: tz.from_local_datetime(&local).single()?,
            segment: None,
            title: c
                .name("title")
                .map(|t| t.as_str().to_string())
                .filter(|t| !t.is_empty()),
        });
    }
    let c = DOUYIN_NAME.captures(stem)?;
    let date = NaiveDate::parse_from_str(&c["date"], "%Y-%m-%d").ok()?;
    let time = NaiveTime::parse_from_str(&c["time"], "%H-%M-%S").ok()?;
    let room = c["room"].to_string();
    let platform = path
        .ancestors()
        .skip(2)
        .filter_map(|a| a.file_name()?.to_str())
        .take(2)
        .find_map(|folder| {
            PLATFORM_FOLDERS
                .iter()
                .find(|(name, _)| folder.starts_with(name))
                .map(|(_, id)| id.to_string())
        })
        .unwrap_or_else(|| "douyin".into());
    Some(Named {
        recorder: DOUYIN,
        platform,
        host: Some(room.clone()),
        room,
        started_at: tz
            .from_local_datetime(&NaiveDateTime::new(date, time))
            .single()?,
        segment: c.name("seg").and_then(|s| s.as_str().parse().ok()),
        title: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn douyin_live_recorder_names_give_room_time_and_segment() {
        let p = Path::new("downloads/抖音直播/好物小店/好物小店_2026-05-01_20-00-05_003.ts");
        let n = parse(p, DEFAULT_OFFSET_SECS).unwrap();
        assert_eq!(n.recorder, "DouyinLiveRecorder");
        assert_eq!(n.platform, "douyin");
        assert_eq!(
            (n.room.as_str(), n.host.as_deref()),
            ("好物小店", Some("好物小店"))
        );
        assert_eq!(n.started_at.to_rfc3339(), "2026-05-01T20:00:05+08:00");
        assert_eq!(n.segment, Some(3));
        // Segment 3 of a run: the name's time is the run's start, not this file's.
        let m = n.sidecar();
        assert!(!m.contains_key("started_at"));
        assert_eq!(m["recording_started_at"], "2026-05-01T20:00:05+08:00");
        let zero = parse(
            &p.with_file_name("好物小店_2026-05-01_20-00-05_000.ts"),
            DEFAULT_OFFSET_SECS,
        );
        assert_eq!(
            zero.unwrap().sidecar()["started_at"],
            "2026-05-01T20:00:05+08:00"
        );
        // A name with underscores of its own, another platform folder, no segment number.
        let p = Path::new("快手直播/a_b_c/a_b_c_2026-05-01_09-30-00.flv");
        let n = parse(p, 0).unwrap();
        assert_eq!(
            (n.platform.as_str(), n.room.as_str()),
            ("kuaishou", "a_b_c")
        );
        assert_eq!(n.started_at.to_rfc3339(), "2026-05-01T09:30:00+00:00");
        assert_eq!(n.segment, None);
    }

    #[test]
    fn bililive_recorder_names_give_room_host_time_and_title() {
        let p = Path::new("rec/21452505-七海/录制-21452505-20260501-200005-123-今晚好物.flv");
        let n = parse(p, DEFAULT_OFFSET_SECS).unwrap();
        assert_eq!(n.recorder, "BililiveRecorder");
        assert_eq!(n.platform, "bilibili");
        assert_eq!(
            (n.room.as_str(), n.host.as_deref()),
            ("21452505", Some("七海"))
        );
        assert_eq!(n.started_at.to_rfc3339(), "2026-05-01T20:00:05.123+08:00");
        assert_eq!(n.title.as_deref(), Some("今晚好物"));
        let m = n.sidecar();
        assert_eq!(m["started_at"], "2026-05-01T20:00:05.123+08:00");
        assert_eq!(m["recorder"], "BililiveRecorder");
    }

    #[test]
    fn other_names_and_impossible_dates_are_not_guessed() {
        for p in [
            "room-17.flv",
            "x/x_2026-13-01_20-00-00_001.flv",
            "x/x_2026-05-01_25-00-00.flv",
            "录制-abc-20260501-200005-123-t.flv",
            "录制-1-20260231-200005-123-t.flv",
        ] {
            assert_eq!(parse(Path::new(p), 0), None, "{p}");
        }
    }
}
