//! Looped-script detection: digital hosts replay the same script, so long passages recur
//! verbatim or nearly (ASR noise differs between repeats) far apart in the session. Human hosts
//! repeat catch-phrases (家人们, 点点关注, "link in bio"), which are short and surrounded by
//! varying talk, so only long passages count.
//!
//! Method: every segment is reduced to its set of character trigrams (folded text, letters and
//! digits only); segment pairs at least `min_gap_ms` apart whose trigram sets are similar
//! (Jaccard) are found through an inverted index; runs of such pairs along diagonals, chained
//! when consecutive, form repeated passages; a passage must last `min_passage_ms` and hold
//! `min_passage_chars` characters. The share of the session's speech inside repeated passages is the coverage.
//! Invariant: a pure function of the segments and the thresholds.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::search::analyzer;
use crate::transcript::Segment;

/// Thresholds (versioned with the code; see `data/digital-host.json` for the verdict rules).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Params {
    /// Two occurrences must be at least this far apart.
    pub min_gap_ms: u64,
    /// Trigram Jaccard similarity for two segments to count as the same text.
    pub min_similarity: f64,
    /// Fewest letters/characters in a repeated passage.
    pub min_passage_chars: usize,
    /// Shortest repeated passage in time: language-independent (Mandarin packs more speech
    /// into fewer characters than English), and longer than any catch-phrase.
    pub min_passage_ms: u64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            min_gap_ms: 20_000,
            min_similarity: 0.6,
            min_passage_chars: 20,
            min_passage_ms: 8_000,
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
    analyzer::fold(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

fn trigrams(chars: &[char]) -> HashSet<[char; 3]> {
    chars.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
}

fn median(mut v: Vec<u64>) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

/// Finds repeated passages in a transcript.
pub fn detect(segments: &[Segment], p: &Params) -> Loops {
    let chars: Vec<Vec<char>> = segments.iter().map(|s| key_chars(&s.text)).collect();
    let grams: Vec<HashSet<[char; 3]>> = chars.iter().map(|c| trigrams(c)).collect();
    let total: usize = chars.iter().map(Vec::len).sum();
    let mut index: HashMap<[char; 3], Vec<usize>> = HashMap::new();
    for (i, g) in grams.iter().enumerate() {
        for t in g {
            index.entry(*t).or_default().push(i);
        }
    }
    // Similar pairs (i < j), found by counting shared trigrams.
    let mut similar: HashSet<(usize, usize)> = HashSet::new();
    for i in 0..segments.len() {
        if grams[i].len() < 3 {
            continue;
        }
        let mut shared: HashMap<usize, usize> = HashMap::new();
        for t in &grams[i] {
            for &j in &index[t] {
                if j > i {
                    *shared.entry(j).or_default() += 1;
                }
            }
        }
        for (j, n) in shared {
            let union = grams[i].len() + grams[j].len() - n;
            let far = segments[j].start_ms >= segments[i].end_ms + p.min_gap_ms
                || segments[j].start_ms >= segments[i].start_ms + p.min_gap_ms;
            if far && union > 0 && n as f64 / union as f64 >= p.min_similarity {
                similar.insert((i, j));
            }
        }
    }
    // Runs along diagonals: (i, j), (i+1, j+1), ...
    let mut in_loop = vec![false; segments.len()];
    let mut runs: Vec<(usize, usize, usize)> = Vec::new(); // (i, j, length)
    let mut starts: Vec<&(usize, usize)> = similar
        .iter()
        .filter(|(i, j)| *i == 0 || !similar.contains(&(i - 1, j - 1)))
        .collect();
    starts.sort();
    for &(i, j) in starts {
        let mut len = 1;
        while similar.contains(&(i + len, j + len)) {
            len += 1;
        }
        let n_chars: usize = (i..i + len).map(|k| chars[k].len()).sum();
        let span = segments[i + len - 1]
            .end_ms
            .saturating_sub(segments[i].start_ms);
        if n_chars >= p.min_passage_chars && span >= p.min_passage_ms {
            runs.push((i, j, len));
            for k in 0..len {
                in_loop[i + k] = true;
                in_loop[j + k] = true;
            }
        }
    }
    // A run at lag d (in segments) longer than d is a passage repeated more than twice in a
    // row: split it into the passage (d segments) and its occurrences every d segments. Runs
    // at multiples of the lag repeat what a shorter lag already found, so they are dropped.
    runs.sort_by_key(|&(i, j, len)| (j - i, std::cmp::Reverse(len), i));
    let mut kept: Vec<Vec<(usize, usize)>> = Vec::new(); // occurrences as segment ranges
    let mut by_first: Vec<Passage> = Vec::new();
    for &(i, j, len) in &runs {
        let d = j - i;
        let plen = len.min(d);
        let mut occ_ranges = Vec::new();
        let mut start = i;
        while start + plen <= j + len {
            occ_ranges.push((start, start + plen));
            start += d;
        }
        let covered = |r: &(usize, usize)| kept.iter().flatten().any(|k| k.0 <= r.0 && r.1 <= k.1);
        if occ_ranges.iter().all(covered) {
            continue;
        }
        let occ: Vec<[u64; 2]> = occ_ranges
            .iter()
            .map(|&(a, b)| [segments[a].start_ms, segments[b - 1].end_ms])
            .collect();
        let period = median(occ.windows(2).map(|w| w[1][0] - w[0][0]).collect());
        let text: String = segments[i..i + plen]
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        by_first.push(Passage {
            text: text.chars().take(120).collect(),
            chars: (i..i + plen).map(|k| chars[k].len()).sum(),
            occurrences: occ,
            period_ms: period,
        });
        kept.push(occ_ranges);
    }
    by_first.sort_by_key(|p| std::cmp::Reverse(p.chars));
    let covered: usize = (0..segments.len())
        .filter(|&k| in_loop[k])
        .map(|k| chars[k].len())
        .sum();
    let period_ms = median(by_first.iter().map(|p| p.period_ms).collect());
    Loops {
        coverage: if total == 0 {
            0.0
        } else {
            covered as f64 / total as f64
        },
        passages: by_first,
        period_ms,
    }
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
