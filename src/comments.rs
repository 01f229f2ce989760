//! Live comments (danmaku) on a recording's timeline: a second sealed stream beside the
//! transcript. Read from BililiveRecorder's XML (`<d>`, `<gift>`, `<sc>`, `<guard>`) or from
//! the JSONL Douyin-style fetchers write (README "Live comments"), kept verbatim (the source
//! file is archived byte for byte) and as canonical JSON whose leaves (`seal::comment_leaf`)
//! have their own Merkle root in the manifest, so one comment can be proven like a segment.
//!
//! Invariant: pure functions of the bytes, the session and the recording's start; a comment
//! outside the recording's time is counted in `dropped`, never moved.

use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Format tag of a session's `comments.json`.
pub const FORMAT: &str = "liveproof/comments/v1";

/// Largest comments file read.
pub const MAX_BYTES: u64 = 256 << 20;

/// Most comments kept from one file.
pub const MAX_COMMENTS: usize = 2_000_000;

/// Comment kinds the JSONL format names.
pub const KINDS: [&str; 8] = [
    "chat",
    "gift",
    "like",
    "follow",
    "enter",
    "superchat",
    "guard",
    "share",
];

/// One comment on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Position in time order, from 0.
    pub index: usize,
    /// Milliseconds from the start of the recording.
    pub t_ms: u64,
    /// `chat`, `gift`, `like`, `follow`, `enter`, `superchat`, `guard`, `share`.
    pub kind: String,
    /// The account as the source names it (a name, or the platform's user hash).
    pub user: Option<String>,
    /// The words (for a gift: what and how many).
    pub text: String,
}

/// A session's comments, as sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comments {
    /// Always [`FORMAT`].
    pub format: String,
    /// Session id.
    pub session: String,
    /// The source file's format: `bilibili-xml` or `jsonl`.
    pub source_format: String,
    /// SHA-256 of the source file, kept beside as `comments.source`.
    pub source_sha256: String,
    /// Comments outside the recording's time (before its start or after its end).
    pub dropped: usize,
    /// The comments, in time order.
    pub comments: Vec<Comment>,
}

/// What the manifest records of the comments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// `bilibili-xml` or `jsonl`.
    pub source_format: String,
    /// SHA-256 of the source file as received.
    pub source_sha256: String,
    /// SHA-256 of the canonical `comments.json`.
    pub comments_sha256: String,
    /// Number of comments on the timeline.
    pub count: usize,
    /// Merkle root over the comments' leaves, hex.
    pub root: String,
}

/// Why a comments file was refused.
#[derive(Debug, Error)]
pub enum CommentsError {
    /// Unreadable or too large.
    #[error("cannot read comments `{path}`: {reason}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// Neither Bilibili XML nor the JSONL format, or malformed.
    #[error("comments `{path}` are not valid: {detail} (Bilibili XML <d p=\"time,…\"> or JSONL {{\"t_ms\"|\"ts\", \"kind\", \"user\", \"text\"}}, one object a line; see README \"Live comments\")")]
    Invalid {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// A comment as read, before it is placed on the timeline.
struct Raw {
    /// Milliseconds from the recording start, or Unix milliseconds (JSONL `ts`).
    at: At,
    kind: String,
    user: Option<String>,
    text: String,
}

enum At {
    Offset(i64),
    Unix(i64),
}

/// Reads a comments file for a recording of `duration_ms` that started at `started_at`
/// (needed only for JSONL `ts` times).
pub fn load(
    path: &std::path::Path,
    session: &str,
    duration_ms: u64,
    started_at: Option<chrono::DateTime<chrono::FixedOffset>>,
) -> Result<(Comments, Vec<u8>), CommentsError> {
    let read = |reason: String| CommentsError::Read {
        path: path.to_path_buf(),
        reason,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| read(e.to_string()))?
        .len();
    if size > MAX_BYTES {
        return Err(read(format!("{size} bytes; the limit is {MAX_BYTES}")));
    }
    let bytes = std::fs::read(path).map_err(|e| read(e.to_string()))?;
    let c = parse(&bytes, session, duration_ms, started_at).map_err(|detail| {
        CommentsError::Invalid {
            path: path.to_path_buf(),
            detail,
        }
    })?;
    Ok((c, bytes))
}

/// Parses comments from bytes (format detected: XML starts with `<`).
pub fn parse(
    bytes: &[u8],
    session: &str,
    duration_ms: u64,
    started_at: Option<chrono::DateTime<chrono::FixedOffset>>,
) -> Result<Comments, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let (format, raw) = if trimmed.starts_with('<') {
        ("bilibili-xml", parse_xml(trimmed)?)
    } else {
        ("jsonl", parse_jsonl(trimmed)?)
    };
    let start_ms = started_at.map(|s| s.timestamp_millis());
    let mut dropped = 0;
    let mut placed = Vec::with_capacity(raw.len());
    for r in raw {
        let t = match r.at {
            At::Offset(t) => t,
            At::Unix(u) => {
                let s = start_ms.ok_or(
                    "JSONL `ts` times need the recording's start: give a sidecar with started_at (or use t_ms)",
                )?;
                u - s
            }
        };
        // A minute of slack after the end: fetchers' clocks and recorders' cuts differ.
        if t < 0 || t as u64 > duration_ms + 60_000 {
            dropped += 1;
            continue;
        }
        placed.push((t as u64, r));
    }
    placed.sort_by_key(|(t, _)| *t);
    let comments = placed
        .into_iter()
        .enumerate()
        .map(|(index, (t_ms, r))| Comment {
            index,
            t_ms,
            kind: r.kind,
            user: r.user,
            text: r.text,
        })
        .collect();
    Ok(Comments {
        format: FORMAT.into(),
        session: session.into(),
        source_format: format.into(),
        source_sha256: crate::hashing::sha256_hex(bytes),
        dropped,
        comments,
    })
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.try_get_attribute(name).ok().flatten().and_then(|a| {
        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .ok()
            .map(|v| v.into_owned())
    })
}

fn secs_to_ms(s: &str) -> Option<i64> {
    let v: f64 = s.trim().parse().ok()?;
    v.is_finite().then(|| (v * 1000.0).round() as i64)
}

/// BililiveRecorder's XML: `<d p="time,mode,size,color,ts,pool,uid_hash,id" user="…">text</d>`,
/// `<gift ts user giftname giftcount/>`, `<sc ts user price>text</sc>`,
/// `<guard ts user level count/>`; other elements (record info, chat server) are skipped.
fn parse_xml(text: &str) -> Result<Vec<Raw>, String> {
    let mut r = quick_xml::Reader::from_str(text);
    let mut out = Vec::new();
    // The element whose text is being read: (time, kind, user, extra).
    let mut open: Option<(i64, String, Option<String>, String)> = None;
    let mut body = String::new();
    loop {
        let before = r.buffer_position() as usize;
        let ev = match r.read_event() {
            Ok(ev) => ev,
            // A recorder killed mid-file leaves a last element cut off: keep what is whole.
            Err(_) if !text.get(before..).unwrap_or("").contains('>') => break,
            Err(e) => return Err(format!("XML at byte {}: {e}", r.buffer_position())),
        };
        let empty = matches!(ev, Event::Empty(_));
        match ev {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if open.is_none() => {
                let name = e.name().as_ref().to_string();
                let item = match name.as_str() {
                    "d" => {
                        let p = attr(&e, "p").ok_or("a <d> without its p attribute")?;
                        let parts: Vec<&str> = p.split(',').collect();
                        let t = secs_to_ms(parts[0])
                            .ok_or_else(|| format!("<d p={p:?}>: the time is not a number"))?;
                        let user = attr(&e, "user")
                            .filter(|u| !u.is_empty())
                            .or_else(|| parts.get(6).map(|s| s.to_string()));
                        // Our own XML export names the kind; Bilibili's <d> are chat.
                        let kind = attr(&e, "kind")
                            .filter(|k| KINDS.contains(&k.as_str()))
                            .unwrap_or_else(|| "chat".into());
                        Some((t, kind, user, String::new()))
                    }
                    "gift" | "sc" | "guard" => {
                        let ts = attr(&e, "ts").ok_or_else(|| format!("a <{name}> without ts"))?;
                        let t = secs_to_ms(&ts)
                            .ok_or_else(|| format!("<{name} ts={ts:?}>: not a number"))?;
                        let user = attr(&e, "user").filter(|u| !u.is_empty());
                        let (kind, extra) = match name.as_str() {
                            "gift" => (
                                "gift",
                                format!(
                                    "{} ×{}",
                                    attr(&e, "giftname").unwrap_or_default(),
                                    attr(&e, "giftcount").unwrap_or_else(|| "1".into())
                                ),
                            ),
                            "guard" => (
                                "guard",
                                format!(
                                    "guard level {} ×{}",
                                    attr(&e, "level").unwrap_or_default(),
                                    attr(&e, "count").unwrap_or_else(|| "1".into())
                                ),
                            ),
                            _ => (
                                "superchat",
                                attr(&e, "price")
                                    .map(|p| format!("[¥{p}] "))
                                    .unwrap_or_default(),
                            ),
                        };
                        Some((t, kind.to_string(), user, extra))
                    }
                    _ => None,
                };
                if let Some(item) = item {
                    if empty {
                        out.push(raw_of(item, String::new()));
                    } else {
                        open = Some(item);
                        body.clear();
                    }
                }
            }
            Event::Text(t) if open.is_some() => {
                // Entity references arrive as their own events (below).
                body.push_str(&t.xml10_content());
            }
            Event::GeneralRef(g) if open.is_some() => {
                let name = g.xml10_content();
                let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                    .map(str::to_string)
                    .or_else(|| g.resolve_char_ref().ok().flatten().map(|c| c.to_string()))
                    .ok_or_else(|| format!("unknown XML entity &{name};"))?;
                body.push_str(&resolved);
            }
            Event::CData(c) if open.is_some() => {
                body.push_str(&c.xml10_content());
            }
            Event::End(_) => {
                if let Some(item) = open.take() {
                    out.push(raw_of(item, std::mem::take(&mut body)));
                }
            }
            _ => {}
        }
        if out.len() > MAX_COMMENTS {
            return Err(format!("more than {MAX_COMMENTS} comments"));
        }
    }
    Ok(out)
}

fn raw_of(item: (i64, String, Option<String>, String), body: String) -> Raw {
    let (t, kind, user, extra) = item;
    Raw {
        at: At::Offset(t),
        kind,
        user,
        text: format!("{extra}{body}"),
    }
}

/// The JSONL format: one object a line, `{"t_ms": ms from the recording start}` or
/// `{"ts": Unix time in seconds (or ms when above 10^11)}`, `"kind"` (default `chat`), `"user"`,
/// `"text"`. Unknown fields are ignored (kept in the verbatim source).
fn parse_jsonl(text: &str) -> Result<Vec<Raw>, String> {
    #[derive(Deserialize)]
    struct Line {
        t_ms: Option<i64>,
        ts: Option<f64>,
        kind: Option<String>,
        user: Option<serde_json::Value>,
        text: Option<String>,
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let l: Line = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        let at = match (l.t_ms, l.ts) {
            (Some(t), _) => At::Offset(t),
            (None, Some(ts)) if ts.is_finite() => At::Unix(if ts > 1e11 {
                ts as i64
            } else {
                (ts * 1000.0) as i64
            }),
            _ => return Err(format!("line {}: no t_ms or ts", i + 1)),
        };
        let kind = l.kind.unwrap_or_else(|| "chat".into());
        if !KINDS.contains(&kind.as_str()) {
            return Err(format!(
                "line {}: kind {kind:?} is not one of {}",
                i + 1,
                KINDS.join(", ")
            ));
        }
        let user = match l.user {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        out.push(Raw {
            at,
            kind,
            user,
            text: l.text.unwrap_or_default(),
        });
        if out.len() > MAX_COMMENTS {
            return Err(format!("more than {MAX_COMMENTS} comments"));
        }
    }
    Ok(out)
}

impl Comments {
    /// Canonical JSON (field order as declared), the bytes `comments_sha256` is over.
    pub fn canonical_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("serialises")
    }

    /// The leaf hashes, in order.
    pub fn leaves(&self) -> Vec<crate::seal::merkle::Hash> {
        self.comments
            .iter()
            .map(|c| crate::seal::comment_leaf(&self.session, c))
            .collect()
    }

    /// What the manifest records.
    pub fn sealed(&self) -> Sealed {
        Sealed {
            source_format: self.source_format.clone(),
            source_sha256: self.source_sha256.clone(),
            comments_sha256: crate::hashing::sha256_hex(&self.canonical_json()),
            count: self.comments.len(),
            root: hex::encode(crate::seal::merkle::root(&self.leaves())),
        }
    }
}

/// Export formats of comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One JSON object a line, in the documented input format (`t_ms`, `kind`, `user`, `text`).
    Jsonl,
    /// Bilibili danmaku XML (`<d p="time,1,25,16777215,0,0,user,index">`).
    Xml,
    /// ASS subtitles scrolling right to left, for players that show danmaku.
    Ass,
}

/// Writes comments in `format`.
pub fn export(c: &Comments, format: ExportFormat) -> String {
    let mut out = String::new();
    match format {
        ExportFormat::Jsonl => {
            for x in &c.comments {
                let v = serde_json::json!({"t_ms": x.t_ms, "kind": x.kind, "user": x.user, "text": x.text});
                out.push_str(&v.to_string());
                out.push('\n');
            }
        }
        ExportFormat::Xml => {
            out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<i>\n");
            for x in &c.comments {
                let esc = |s: &str| quick_xml::escape::escape(s).into_owned();
                out.push_str(&format!(
                    "  <d p=\"{:.3},1,25,16777215,0,0,{},{}\" kind=\"{}\">{}</d>\n",
                    x.t_ms as f64 / 1000.0,
                    esc(x.user.as_deref().unwrap_or("")),
                    x.index,
                    esc(&x.kind),
                    esc(&x.text)
                ));
            }
            out.push_str("</i>\n");
        }
        ExportFormat::Ass => {
            out.push_str("[Script Info]\nScriptType: v4.00+\nPlayResX: 1280\nPlayResY: 720\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, OutlineColour, BorderStyle, Outline, Shadow, Alignment\nStyle: Danmaku, Noto Sans CJK SC, 36, &H00FFFFFF, &H00000000, 1, 2, 0, 7\n\n[Events]\nFormat: Layer, Start, End, Style, Text\n");
            for x in &c.comments {
                // Eight rows, 8 s across the screen.
                let y = 40 + (x.index % 8) * 48;
                let text = x.text.replace(['{', '}'], "").replace('\n', " ");
                out.push_str(&format!(
                    "Dialogue: 0,{},{},Danmaku,{{\\move(1300,{y},-600,{y})}}{text}\n",
                    ass_time(x.t_ms),
                    ass_time(x.t_ms + 8000)
                ));
            }
        }
    }
    out
}

fn ass_time(ms: u64) -> String {
    let cs = ms / 10;
    format!(
        "{}:{:02}:{:02}.{:02}",
        cs / 360_000,
        cs / 6000 % 60,
        cs / 100 % 60,
        cs % 100
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r##"<?xml version="1.0" encoding="utf-8"?>
<?xml-stylesheet type="text/xsl" href="#s"?>
<i><chatserver>chat.bilibili.com</chatserver>
<BililiveRecorderRecordInfo roomid="21452505" name="七海" start_time="2026-05-01T20:00:05+08:00" />
<d p="12.5,1,25,16777215,1714564817000,0,ab12cd34,0" user="小明" uid="1">这个面霜全网最低价 &amp; 包邮</d>
<d p="3.25,1,25,16777215,1714564808000,0,ee99ff00,0">第一</d>
<gift ts="20.0" user="小红" uid="2" giftname="小心心" giftcount="5" />
<sc ts="30" user="大户" uid="3" price="30" time="60">主播说的是真的吗</sc>
<guard ts="40.5" user="舰长" uid="4" level="3" count="1" />
<d p="99999,1,25,16777215,0,0,x,0">after the end</d>
</i>"##;

    #[test]
    fn bililive_recorder_xml_is_read_in_time_order() {
        let c = parse(XML.as_bytes(), "s", 60_000, None).unwrap();
        assert_eq!(c.source_format, "bilibili-xml");
        assert_eq!(c.dropped, 1);
        let got: Vec<(u64, &str, Option<&str>, &str)> = c
            .comments
            .iter()
            .map(|x| (x.t_ms, x.kind.as_str(), x.user.as_deref(), x.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (3250, "chat", Some("ee99ff00"), "第一"),
                (12500, "chat", Some("小明"), "这个面霜全网最低价 & 包邮"),
                (20000, "gift", Some("小红"), "小心心 ×5"),
                (30000, "superchat", Some("大户"), "[¥30] 主播说的是真的吗"),
                (40500, "guard", Some("舰长"), "guard level 3 ×1"),
            ]
        );
        assert_eq!(c.comments[1].index, 1);
    }

    #[test]
    fn jsonl_is_read_with_offsets_or_unix_times() {
        let start = chrono::DateTime::parse_from_rfc3339("2026-05-01T20:00:00+08:00").unwrap();
        let ts = start.timestamp();
        let text = format!(
            "{{\"t_ms\": 1500, \"kind\": \"chat\", \"user\": \"a\", \"text\": \"hi\"}}\n\n{{\"ts\": {}, \"kind\": \"gift\", \"user\": 42, \"text\": \"rose\"}}\n{{\"ts\": {}, \"kind\": \"like\"}}\n",
            ts + 2,
            (ts - 5) * 1000
        );
        let c = parse(text.as_bytes(), "s", 60_000, Some(start)).unwrap();
        assert_eq!(c.source_format, "jsonl");
        assert_eq!(c.dropped, 1, "a like before the recording started");
        assert_eq!(c.comments[1].t_ms, 2000);
        assert_eq!(c.comments[1].user.as_deref(), Some("42"));
        // `ts` without a start time, an unknown kind, a broken line: refused, with the line.
        assert!(parse(text.as_bytes(), "s", 60_000, None)
            .unwrap_err()
            .contains("started_at"));
        let e = parse(b"{\"t_ms\": 1, \"kind\": \"boo\"}", "s", 9, None).unwrap_err();
        assert!(e.contains("line 1"), "{e}");
        assert!(parse(b"{\"t_ms\": 1}\nnot json", "s", 9, None)
            .unwrap_err()
            .contains("line 2"));
    }

    #[test]
    fn a_recorder_killed_mid_file_leaves_xml_whose_whole_comments_are_read() {
        let cut = &XML[..XML.find("<gift").unwrap() + 10];
        let c = parse(cut.as_bytes(), "s", 60_000, None).unwrap();
        assert_eq!(c.comments.len(), 2, "the two whole <d> before the cut");
    }

    #[test]
    fn hostile_xml_is_an_error_not_a_hang_or_an_expansion() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE i [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><i><d p="1,1,25,0,0,0,u,0">&b;</d></i>"#;
        assert!(parse(bomb.as_bytes(), "s", 9_000, None).is_err());
        assert!(parse(b"<i><d>no p</d></i>", "s", 9_000, None).is_err());
        assert!(parse(b"<i><d p=\"x\">t</d></i>", "s", 9_000, None).is_err());
        assert!(parse(&[0xff, 0xfe], "s", 9_000, None).is_err());
    }

    #[test]
    fn the_root_changes_with_any_comment_and_exports_round_trip() {
        let c = parse(XML.as_bytes(), "s", 60_000, None).unwrap();
        let sealed = c.sealed();
        assert_eq!(sealed.count, 5);
        let mut changed = c.clone();
        changed.comments[2].text = "小心心 ×50".into();
        assert_ne!(changed.sealed().root, sealed.root);
        let again = parse(
            export(&c, ExportFormat::Jsonl).as_bytes(),
            "s",
            60_000,
            None,
        )
        .unwrap();
        assert_eq!(again.comments, c.comments);
        let xml = parse(export(&c, ExportFormat::Xml).as_bytes(), "s", 60_000, None).unwrap();
        assert_eq!(
            xml.comments
                .iter()
                .map(|x| (x.t_ms, &x.text))
                .collect::<Vec<_>>(),
            c.comments
                .iter()
                .map(|x| (x.t_ms, &x.text))
                .collect::<Vec<_>>()
        );
        let ass = export(&c, ExportFormat::Ass);
        assert!(ass.contains("Dialogue: 0,0:00:12.50,0:00:20.50,Danmaku,"));
    }
}
