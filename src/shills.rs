//! Shill-comment signals ("professional barrage"): patterns in a session's live comments that
//! paid posters leave, each with its evidence (comments, accounts, times) and never decisive
//! alone — the finding `suspected_shill_comments` needs two different kinds.
//!
//! - `duplicate_comments`: the same words (after folding width, case, script and punctuation)
//!   posted again and again by few accounts.
//! - `claim_echo_burst`: within a minute of the host making a risky claim, several accounts
//!   repeat the claim's words.
//! - `praise_burst_accounts`: accounts that post nothing but praise, all within a few minutes.
//!
//! Invariant: pure functions of the comments and the transcript's claims; thresholds are in
//! [`Params`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::comments::Comment;
use crate::disclosure::Signal;
use crate::manifest::Manifest;

/// The finding when two different kinds of signal are present.
pub const FINDING: &str = "suspected_shill_comments";

/// Thresholds.
#[derive(Debug, Clone)]
pub struct Params {
    /// Least copies of one text for `duplicate_comments`.
    pub min_copies: usize,
    /// Most accounts behind them, as a share of the copies.
    pub max_account_share: f64,
    /// How long after a claim an echo counts (ms).
    pub echo_window_ms: u64,
    /// Least echoing comments (from distinct accounts) for `claim_echo_burst`.
    pub min_echoes: usize,
    /// Least praise comments of one account for `praise_burst_accounts`.
    pub min_praise: usize,
    /// Within how long an account's praise must fall (ms).
    pub praise_window_ms: u64,
    /// Least such accounts.
    pub min_praise_accounts: usize,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            min_copies: 4,
            max_account_share: 0.5,
            echo_window_ms: 60_000,
            min_echoes: 3,
            min_praise: 3,
            praise_window_ms: 300_000,
            min_praise_accounts: 2,
        }
    }
}

/// Words of praise and buying, folded (simplified, lower case).
const PRAISE: [&str; 30] = [
    "好用",
    "太好用",
    "真的有效",
    "有效果",
    "效果好",
    "推荐",
    "强烈推荐",
    "已下单",
    "下单了",
    "已买",
    "买了",
    "回购",
    "无限回购",
    "绝了",
    "好评",
    "五星",
    "必买",
    "冲",
    "太值了",
    "划算",
    "宝藏",
    "爱了",
    "真香",
    "amazing",
    "love it",
    "works great",
    "recommend",
    "best ever",
    "bought",
    "must buy",
];

/// Text folded for comparison: `text::fold`, then letters and digits only.
fn key(text: &str) -> String {
    crate::text::fold(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

fn is_praise(text: &str) -> bool {
    let f = crate::text::fold(text);
    PRAISE.iter().any(|p| f.contains(p))
}

fn quote(c: &Comment) -> serde_json::Value {
    json!({"t_ms": c.t_ms, "user": c.user, "text": c.text})
}

/// Every shill-comment signal in a session's comments.
pub fn signals(comments: &[Comment], m: &Manifest, p: &Params) -> Vec<Signal> {
    let chats: Vec<&Comment> = comments
        .iter()
        .filter(|c| c.kind == "chat" || c.kind == "superchat")
        .collect();
    let mut out = Vec::new();

    // Duplicates from few accounts.
    let mut by_text: BTreeMap<String, Vec<&Comment>> = BTreeMap::new();
    for c in &chats {
        let k = key(&c.text);
        if k.chars().count() >= 4 {
            by_text.entry(k).or_default().push(c);
        }
    }
    let clusters: Vec<serde_json::Value> = by_text
        .values()
        .filter(|v| v.len() >= p.min_copies)
        .filter_map(|v| {
            let users: BTreeSet<&str> = v.iter().filter_map(|c| c.user.as_deref()).collect();
            let few = (users.len() as f64) <= (v.len() as f64 * p.max_account_share);
            few.then(|| {
                json!({"text": v[0].text, "copies": v.len(), "accounts": users,
                       "first_ms": v[0].t_ms, "last_ms": v[v.len() - 1].t_ms})
            })
        })
        .collect();
    if !clusters.is_empty() {
        out.push(Signal {
            kind: "duplicate_comments".into(),
            weight: 0.5,
            evidence: json!({"clusters": clusters}),
        });
    }

    // Echoes of the host's risky claims.
    let flags = m.claims.as_ref().map(|c| c.flags.as_slice()).unwrap_or(&[]);
    let mut bursts = Vec::new();
    for f in flags {
        let words: Vec<String> = f
            .flag
            .words
            .iter()
            .map(|w| key(w))
            .filter(|w| !w.is_empty())
            .collect();
        let echoes: Vec<&&Comment> = chats
            .iter()
            .filter(|c| c.t_ms >= f.start_ms && c.t_ms <= f.end_ms + p.echo_window_ms)
            .filter(|c| {
                let k = key(&c.text);
                words.iter().any(|w| k.contains(w.as_str()))
            })
            .collect();
        let users: BTreeSet<&str> = echoes.iter().filter_map(|c| c.user.as_deref()).collect();
        if users.len() >= p.min_echoes {
            bursts.push(json!({
                "claim": {"category": f.flag.category, "words": f.flag.words,
                          "start_ms": f.start_ms, "end_ms": f.end_ms},
                "echoes": echoes.iter().map(|c| quote(c)).collect::<Vec<_>>(),
                "accounts": users,
            }));
        }
    }
    if !bursts.is_empty() {
        out.push(Signal {
            kind: "claim_echo_burst".into(),
            weight: 0.5,
            evidence: json!({"bursts": bursts}),
        });
    }

    // Accounts posting nothing but praise, in a burst.
    let mut by_user: BTreeMap<&str, Vec<&Comment>> = BTreeMap::new();
    for c in &chats {
        if let Some(u) = c.user.as_deref() {
            by_user.entry(u).or_default().push(c);
        }
    }
    let accounts: Vec<serde_json::Value> = by_user
        .iter()
        .filter(|(_, v)| {
            v.len() >= p.min_praise
                && v.iter().all(|c| is_praise(&c.text))
                && v[v.len() - 1].t_ms - v[0].t_ms <= p.praise_window_ms
        })
        .map(
            |(u, v)| json!({"user": u, "comments": v.iter().map(|c| quote(c)).collect::<Vec<_>>()}),
        )
        .collect();
    if accounts.len() >= p.min_praise_accounts {
        out.push(Signal {
            kind: "praise_burst_accounts".into(),
            weight: 0.5,
            evidence: json!({"accounts": accounts}),
        });
    }
    out
}

/// Whether the signals amount to the finding: two different kinds, never one alone.
pub fn suspected(signals: &[Signal]) -> bool {
    signals
        .iter()
        .map(|s| s.kind.as_str())
        .collect::<BTreeSet<_>>()
        .len()
        >= 2
}

/// A session's report (`disclosure::report`) with its comments' signals and, when they amount
/// to it, the finding: what `report`, `GET /api/sessions/{id}/report` and the ingest's tags use.
pub fn session_report(
    m: &Manifest,
    t: &crate::transcript::Transcript,
    comments: &[Comment],
    interval_min: u64,
) -> crate::disclosure::Report {
    let mut report = crate::disclosure::report(m, t, interval_min);
    let s = signals(comments, m, &Params::default());
    if suspected(&s) {
        report.findings.push(FINDING.into());
    }
    report.comment_signals = s;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(i: usize, t_s: u64, user: &str, text: &str) -> Comment {
        Comment {
            index: i,
            t_ms: t_s * 1000,
            kind: "chat".into(),
            user: Some(user.into()),
            text: text.into(),
        }
    }

    fn manifest_with_claim(start_ms: u64, words: &[&str]) -> Manifest {
        let mut m: Manifest = serde_json::from_value(json!({
            "format": "liveproof/manifest/v1", "session": "s", "recording_sha256": "", "recording_size": 0,
            "original_name": "", "audio": {"container": "", "codec": "", "sample_rate": 0, "channels": 0},
            "duration_ms": 600000, "language": "zh", "segment_count": 1, "transcript_sha256": "",
            "transcript_root": "", "model": "", "model_sha256": "", "software": "", "whisper_version": "",
            "ingested_at": "", "metadata": null, "decode_warnings": []
        }))
        .unwrap();
        m.claims = Some(
            serde_json::from_value(json!({"lexicon": "t", "flags": [{
                "segment": 0, "start_ms": start_ms, "end_ms": start_ms + 5000,
                "category": "absolute_terms", "words": words, "article": "9(3)", "severity": 2,
                "review": false
            }]}))
            .unwrap(),
        );
        m
    }

    #[test]
    fn an_organic_chat_raises_nothing() {
        let m = manifest_with_claim(10_000, &["最低价"]);
        let chat = vec![
            c(0, 12, "a", "真的是最低价吗"),
            c(1, 14, "b", "多少钱"),
            c(2, 20, "c", "主播好"),
            c(3, 30, "d", "已下单"),
            c(4, 31, "e", "发货快吗"),
        ];
        let s = signals(&chat, &m, &Params::default());
        assert!(s.is_empty(), "{s:?}");
    }

    #[test]
    fn copies_from_few_accounts_echoes_and_praise_bursts_are_signals_each_with_evidence() {
        let m = manifest_with_claim(10_000, &["全网最低价"]);
        let mut chat = Vec::new();
        // One account pastes the same line five times (with width and punctuation varied).
        for (i, t) in [
            "买它！买它！",
            "买它买它",
            "买它，买它",
            "ＢＵＹ",
            "买它!买它!",
        ]
        .iter()
        .enumerate()
        {
            chat.push(c(i, 100 + i as u64, "shill1", t));
        }
        let s = signals(&chat, &m, &Params::default());
        assert_eq!(
            s.iter().map(|s| s.kind.as_str()).collect::<Vec<_>>(),
            ["duplicate_comments"]
        );
        assert_eq!(s[0].evidence["clusters"][0]["copies"], 4);
        assert!(!suspected(&s), "one kind alone is never decisive");

        // Three accounts repeat the claim within a minute; two post only praise in a burst.
        chat.extend([
            c(10, 16, "x", "全网最低价！"),
            c(11, 20, "y", "真的全网最低价"),
            c(12, 40, "z", "全網最低價 冲"),
            c(13, 200, "p1", "好用"),
            c(14, 210, "p1", "强烈推荐"),
            c(15, 230, "p1", "已下单 回购"),
            c(16, 205, "p2", "绝了 好评"),
            c(17, 215, "p2", "太值了"),
            c(18, 260, "p2", "真香 买了"),
        ]);
        let s = signals(&chat, &m, &Params::default());
        let kinds: Vec<&str> = s.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "duplicate_comments",
                "claim_echo_burst",
                "praise_burst_accounts"
            ]
        );
        assert_eq!(
            s[1].evidence["bursts"][0]["accounts"],
            json!(["x", "y", "z"]),
            "traditional characters fold"
        );
        assert_eq!(s[2].evidence["accounts"].as_array().unwrap().len(), 2);
        assert!(suspected(&s));
    }
}
