//! Looped-script detection: digital hosts replay the same script, so long passages recur
//! verbatim or nearly (ASR noise differs between repeats) far apart in the session. Human hosts
//! repeat catch-phrases (家人们, 点点关注, "link in bio"), which are short and surrounded by
//! varying talk, so only long passages count.
//!
//! Method: the session is read as one stream of characters (folded, letters and digits only,
//! each timed by interpolating inside its segment), so it does not matter how Whisper split or
//! merged utterances in each repeat. Every `gram`-character shingle is matched to its next
//! occurrences at least `min_gap_ms` later; matches are chained along nearly the same diagonal
//! (ASR insertions and deletions shift it by a few characters), allowing gaps of `max_skip`
//! characters. A chain is a repeat when it is dense (`min_similarity` of its span matched),
//! lasts `min_passage_ms` and holds `min_passage_chars`. Repeats that overlap or are linked are
//! grouped into passages with all their occurrences. Coverage is the share of the session's
//! characters inside any repeat.
//! Invariant: a pure function of the segments and the thresholds.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::transcript::Segment;

/// Thresholds (versioned with the code; see `data/digital-host.json` for the verdict rules).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Params {
    /// Two occurrences must be at least this far apart.
    pub min_gap_ms: u64,
    /// Share of a repeat's characters covered by matching shingles.
    pub min_similarity: f64,
    /// Fewest letters/characters in a repeated passage.
    pub min_passage_chars: usize,
    /// Shortest repeated passage in time: language-independent (Mandarin packs more speech
    /// into fewer characters than English), and longer than any catch-phrase.
    pub min_passage_ms: u64,
    /// Shingle length in characters.
    #[serde(default = "default_gram")]
    pub gram: usize,
    /// Longest run of unmatched characters inside one repeat (ASR noise).
    #[serde(default = "default_max_skip")]
    pub max_skip: usize,
}

fn default_gram() -> usize {
    4
}

fn default_max_skip() -> usize {
    12
}

impl Default for Params {
    fn default() -> Self {
        Self {
            min_gap_ms: 20_000,
            min_similarity: 0.5,
            min_passage_chars: 20,
            min_passage_ms: 8_000,
            gram: default_gram(),
            max_skip: default_max_skip(),
        }
    }
}

/// One repeated passage and where it occurs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Passage {
    /// Text of the first occurrence (abridged to 120 characters).
    pub text: String,
    /// Characters in the passage.
    pub chars: usize,
    /// Every occurrence as [start_ms, end_ms].
    pub occurrences: Vec<[u64; 2]>,
    /// Median distance between consecutive occurrences (the loop period).
    pub period_ms: u64,
}

/// What the detector found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Loops {
    /// Repeated passages, longest first.
    pub passages: Vec<Passage>,
    /// Share of the session's speech (characters) inside repeated passages.
    pub coverage: f64,
    /// Median loop period over all passages.
    pub period_ms: u64,
}

fn key_chars(text: &str) -> Vec<char> {
    crate::text::fold(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

fn median(mut v: Vec<u64>) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

/// The session as one timed character stream.
struct Stream {
    chars: Vec<char>,
    ms: Vec<u64>,
    seg: Vec<usize>,
}

fn stream(segments: &[Segment]) -> Stream {
    let mut st = Stream {
        chars: Vec::new(),
        ms: Vec::new(),
        seg: Vec::new(),
    };
    for (k, s) in segments.iter().enumerate() {
        let c = key_chars(&s.text);
        let span = s.end_ms.saturating_sub(s.start_ms);
        let n = c.len() as u64;
        for (i, ch) in c.into_iter().enumerate() {
            st.chars.push(ch);
            st.ms.push(s.start_ms + span * i as u64 / n.max(1));
            st.seg.push(k);
        }
    }
    st
}

/// A chain of shingle matches: stream positions [a0, a1) repeat at [b0, b1).
#[derive(Clone, Copy)]
struct Chain {
    a0: usize,
    a1: usize,
    b0: usize,
    b1: usize,
    last: (usize, usize),
    matched: usize,
}

/// Matches of each shingle to its next few occurrences at least `min_gap_ms` later.
fn matches(st: &Stream, p: &Params) -> Vec<(usize, usize)> {
    const NEXT: usize = 2;
    let g = p.gram.max(2);
    let mut positions: HashMap<&[char], Vec<usize>> = HashMap::new();
    if st.chars.len() >= g {
        for i in 0..=st.chars.len() - g {
            positions.entry(&st.chars[i..i + g]).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for pos in positions.values() {
        for (x, &i) in pos.iter().enumerate() {
            let far = pos[x + 1..]
                .iter()
                .filter(|&&j| st.ms[j] >= st.ms[i] + p.min_gap_ms)
                .take(NEXT);
            out.extend(far.map(|&j| (i, j)));
        }
    }
    out.sort_unstable();
    out
}

/// Chains matches along nearly the same diagonal.
fn chains(ms: &[(usize, usize)], p: &Params) -> Vec<Chain> {
    const DRIFT: usize = 4;
    let g = p.gram.max(2);
    let mut active: Vec<Chain> = Vec::new();
    let mut done = Vec::new();
    for &(i, j) in ms {
        // Chains that can no longer grow are finished.
        let (keep, old): (Vec<Chain>, Vec<Chain>) = active
            .into_iter()
            .partition(|c| i <= c.last.0 + p.max_skip + 1);
        done.extend(old);
        active = keep;
        let fit = active.iter_mut().find(|c| {
            let (li, lj) = c.last;
            // A repeat ends where its copy begins (back-to-back loops are separate occurrences).
            i > li
                && j > lj
                && i + g <= c.b0
                && (j - lj).abs_diff(i - li) <= DRIFT
                && j - lj <= p.max_skip + 1 + DRIFT
        });
        match fit {
            Some(c) => {
                c.matched += (i - c.last.0).min(g);
                c.a1 = i + g;
                c.b1 = c.b1.max(j + g);
                c.last = (i, j);
            }
            None => active.push(Chain {
                a0: i,
                a1: i + g,
                b0: j,
                b1: j + g,
                last: (i, j),
                matched: g,
            }),
        }
    }
    done.extend(active);
    done
}

/// Finds repeated passages in a transcript.
pub fn detect(segments: &[Segment], p: &Params) -> Loops {
    let st = stream(segments);
    let total = st.chars.len();
    let long = |a: usize, b: usize| {
        b - a >= p.min_passage_chars && st.ms[b - 1].saturating_sub(st.ms[a]) >= p.min_passage_ms
    };
    let repeats: Vec<Chain> = chains(&matches(&st, p), p)
        .into_iter()
        .filter(|c| c.a1 <= c.b0 || st.ms[c.b0] >= st.ms[c.a0] + p.min_gap_ms)
        .filter(|c| c.matched as f64 >= p.min_similarity * (c.a1 - c.a0) as f64)
        .filter(|c| long(c.a0, c.a1) && long(c.b0, c.b1))
        .collect();
    let mut in_loop = vec![false; total];
    for c in &repeats {
        in_loop[c.a0..c.a1].iter_mut().for_each(|x| *x = true);
        in_loop[c.b0..c.b1].iter_mut().for_each(|x| *x = true);
    }
    let covered = in_loop.iter().filter(|&&x| x).count();
    let passages = group(&st, segments, &repeats);
    let period_ms = median(passages.iter().map(|p| p.period_ms).collect());
    Loops {
        coverage: if total == 0 {
            0.0
        } else {
            covered as f64 / total as f64
        },
        passages,
        period_ms,
    }
}

/// Groups repeats into passages: intervals linked by a repeat or overlapping by half are one
/// passage; its occurrences are the merged intervals.
fn group(st: &Stream, segments: &[Segment], repeats: &[Chain]) -> Vec<Passage> {
    let mut iv: Vec<(usize, usize)> = Vec::new();
    for c in repeats {
        iv.push((c.a0, c.a1));
        iv.push((c.b0, c.b1));
    }
    let mut parent: Vec<usize> = (0..iv.len()).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let union = |parent: &mut Vec<usize>, a: usize, b: usize| {
        let (ra, rb) = (root(parent, a), root(parent, b));
        parent[ra] = rb;
    };
    for k in 0..repeats.len() {
        union(&mut parent, 2 * k, 2 * k + 1);
    }
    let mut order: Vec<usize> = (0..iv.len()).collect();
    order.sort_by_key(|&k| iv[k]);
    for w in 0..order.len() {
        for &o in &order[w + 1..] {
            let (a, b) = (iv[order[w]], iv[o]);
            if b.0 >= a.1 {
                break;
            }
            let overlap = a.1.min(b.1) - b.0;
            if 2 * overlap >= (a.1 - a.0).min(b.1 - b.0) {
                union(&mut parent, order[w], o);
            }
        }
    }
    let mut groups: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
    for (k, &v) in iv.iter().enumerate() {
        let r = root(&mut parent, k);
        groups.entry(r).or_default().push(v);
    }
    let mut out: Vec<Passage> = groups
        .into_values()
        .map(|mut g| {
            g.sort_unstable();
            let mut occ: Vec<(usize, usize)> = Vec::new();
            for (a, b) in g {
                // Chains restart a few characters early at loop boundaries: a small overlap
                // is trimmed, a large one is the same occurrence.
                let last = occ.last().copied();
                match last {
                    Some(l) if a < l.1 && 2 * (l.1 - a) >= (b - a).min(l.1 - l.0) => {
                        occ.last_mut().expect("non-empty").1 = l.1.max(b)
                    }
                    Some(l) if a < l.1 => {
                        if b > l.1 {
                            occ.push((l.1, b))
                        }
                    }
                    _ => occ.push((a, b)),
                }
            }
            let (a, b) = occ[0];
            let text = segments[st.seg[a]..=st.seg[b - 1]]
                .iter()
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let times: Vec<[u64; 2]> = occ
                .iter()
                .map(|&(a, b)| {
                    [
                        st.ms[a],
                        segments[st.seg[b - 1]].end_ms.min(st.ms[b - 1] + 1000),
                    ]
                })
                .collect();
            Passage {
                text: text.chars().take(120).collect(),
                chars: b - a,
                period_ms: median(times.windows(2).map(|w| w[1][0] - w[0][0]).collect()),
                occurrences: times,
            }
        })
        .collect();
    out.sort_by_key(|p| (std::cmp::Reverse(p.chars), p.occurrences[0][0]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(i: usize, start: u64, text: &str) -> Segment {
        Segment {
            index: i,
            start_ms: start,
            end_ms: start + 5000,
            text: text.into(),
            raw_text: text.into(),
            language: "zh".into(),
            confidence: 0.9,
        }
    }

    const SCRIPT: [&str; 4] = [
        "家人们欢迎来到直播间今天给大家带来的是这款保湿面霜质地非常细腻",
        "它采用了多种植物精华成分温和不刺激敏感肌也可以放心使用",
        "今天直播间下单立减五十元还送同款小样两份数量有限",
        "点击下方小黄车三号链接就可以拍了喜欢的家人们抓紧时间",
    ];

    #[test]
    fn a_looped_script_is_found_with_its_period_and_coverage() {
        let mut segs = Vec::new();
        for round in 0..3u64 {
            for (k, line) in SCRIPT.iter().enumerate() {
                // ASR noise: one character differs in each repeat.
                let noisy = if round == 1 {
                    line.replacen("非常", "特别", 1)
                } else {
                    line.to_string()
                };
                segs.push(seg(segs.len(), round * 60_000 + k as u64 * 6000, &noisy));
            }
        }
        let l = detect(&segs, &Params::default());
        assert!(l.coverage > 0.9, "{l:?}");
        assert_eq!(l.passages[0].occurrences.len(), 3, "{l:?}");
        assert_eq!(l.period_ms, 60_000);
    }

    #[test]
    fn repeats_split_differently_by_the_recogniser_are_still_found() {
        // Round 0 is one segment per line; round 1 merges lines and cuts mid-line, with
        // different recognition errors; round 2 drops a line's tail.
        let all: String = SCRIPT.concat();
        let mut segs = Vec::new();
        for (k, line) in SCRIPT.iter().enumerate() {
            segs.push(seg(segs.len(), k as u64 * 6000, line));
        }
        let noisy = all.replacen("细腻", "细密", 1).replacen("放心", "安心", 1);
        let cut: Vec<char> = noisy.chars().collect();
        for (k, part) in cut.chunks(37).enumerate() {
            let text: String = part.iter().collect();
            segs.push(seg(segs.len(), 60_000 + k as u64 * 5000, &text));
        }
        for (k, line) in SCRIPT.iter().enumerate() {
            let line: String = if k == 2 {
                line.chars().take(12).collect()
            } else {
                line.to_string()
            };
            segs.push(seg(segs.len(), 120_000 + k as u64 * 6000, &line));
        }
        let l = detect(&segs, &Params::default());
        assert!(l.coverage > 0.85, "{l:?}");
        assert_eq!(l.passages[0].occurrences.len(), 3, "{l:?}");
    }

    #[test]
    fn catch_phrases_amid_varying_talk_are_not_a_loop() {
        let talk = [
            "这个颜色特别显白黄皮也能驾驭",
            "我们看一下这个包装是礼盒装的",
            "面料是纯棉的夏天穿很透气",
            "这款锅不粘底很好清洗",
            "苹果个头特别大汁水很多",
            "这双鞋子是真皮的很软",
        ];
        let mut segs = Vec::new();
        for (k, t) in talk.iter().enumerate() {
            segs.push(seg(
                segs.len(),
                k as u64 * 40_000,
                "家人们点点关注三二一上链接",
            ));
            segs.push(seg(segs.len(), k as u64 * 40_000 + 6000, t));
        }
        let l = detect(&segs, &Params::default());
        assert!(l.passages.is_empty(), "{l:?}");
        assert_eq!(l.coverage, 0.0);
    }
}
