//! Risky sales claims: absolute terms, health claims, fake authority, pressure, after-sales
//! promises, found in transcript text with the versioned lexicon `data/claims-lexicon.json`.
//!
//! Matching runs on the folded text (see `text::fold`) and respects jieba's word
//! boundaries, so 第一次 or 最近 are not 第一 or 最. Context the SAMR guideline exempts
//! (self-comparison, trademarks, official awards, time-limited facts) marks a flag for review
//! instead of dropping it. Invariant: pure functions of the text and the lexicon.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// The lexicon shipped with this build.
pub const LEXICON_JSON: &str = include_str!("../data/claims-lexicon.json");

/// Category names, in report order.
pub const CATEGORIES: [&str; 5] = [
    "absolute_terms",
    "health_claims",
    "fake_authority",
    "pressure",
    "after_sales",
];

#[derive(Deserialize)]
struct RawLexicon {
    version: String,
    categories: BTreeMap<String, RawCategory>,
    review: RawReview,
    entries: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawCategory {
    article: String,
    severity: u8,
}

#[derive(Deserialize)]
struct RawReview {
    applies_to: Vec<String>,
    contexts: Vec<RawContext>,
}

#[derive(Deserialize)]
struct RawContext {
    reason: String,
    pattern: String,
}

#[derive(Deserialize)]
struct RawEntry {
    category: String,
    pattern: String,
    #[serde(default)]
    open_end: bool,
    #[serde(default)]
    not_after: Vec<String>,
    #[serde(default)]
    not_before: Vec<String>,
    #[serde(default)]
    not_in_clause: Vec<String>,
}

struct Entry {
    category: usize,
    re: Regex,
    open_end: bool,
    not_after: Vec<String>,
    not_before: Vec<String>,
    not_in_clause: Vec<String>,
}

/// The part of `before` in the same clause as what follows it (after the last clause mark).
fn clause_tail(before: &str) -> &str {
    before
        .rfind(['，', '。', '！', '？', '；', ',', '.', '!', '?', ';'])
        .map_or(before, |i| &before[i..])
}

/// A compiled lexicon.
pub struct Lexicon {
    /// Version string of the data file.
    pub version: String,
    categories: Vec<(String, String, u8)>,
    review_for: HashSet<usize>,
    contexts: Vec<(String, Regex)>,
    entries: Vec<Entry>,
}

/// One flagged claim in a line or segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    /// Category name.
    pub category: String,
    /// The matched words, as they appear in the text.
    pub words: Vec<String>,
    /// Legal basis.
    pub article: String,
    /// 1 (low) to 3 (high: health and medical).
    pub severity: u8,
    /// True when context suggests an exempt use: a person should review it.
    pub review: bool,
    /// Why it needs review, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_reason: Option<String>,
}

/// The built-in lexicon.
pub fn lexicon() -> &'static Lexicon {
    static L: OnceLock<Lexicon> = OnceLock::new();
    L.get_or_init(|| Lexicon::parse(LEXICON_JSON).expect("the built-in lexicon is valid"))
}

impl Lexicon {
    /// Compiles a lexicon from its JSON text.
    pub fn parse(json: &str) -> Result<Self, String> {
        let raw: RawLexicon = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let categories: Vec<(String, String, u8)> = CATEGORIES
            .iter()
            .map(|c| {
                raw.categories
                    .get(*c)
                    .map(|k| (c.to_string(), k.article.clone(), k.severity))
                    .ok_or_else(|| format!("category {c} is missing"))
            })
            .collect::<Result<_, _>>()?;
        let idx = |c: &str| {
            CATEGORIES
                .iter()
                .position(|x| *x == c)
                .ok_or_else(|| format!("unknown category {c}"))
        };
        let entries = raw
            .entries
            .into_iter()
            .map(|e| {
                Ok(Entry {
                    category: idx(&e.category)?,
                    re: Regex::new(&e.pattern).map_err(|err| format!("{}: {err}", e.pattern))?,
                    open_end: e.open_end,
                    not_after: e.not_after,
                    not_before: e.not_before,
                    not_in_clause: e.not_in_clause,
                })
            })
            .collect::<Result<_, String>>()?;
        let contexts = raw
            .review
            .contexts
            .into_iter()
            .map(|c| Ok((c.reason, Regex::new(&c.pattern).map_err(|e| e.to_string())?)))
            .collect::<Result<_, String>>()?;
        let review_for = raw
            .review
            .applies_to
            .iter()
            .map(|c| idx(c))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            version: raw.version,
            categories,
            review_for,
            contexts,
            entries,
        })
    }

    /// Flags in one sentence or segment, one per category, in category order.
    pub fn check(&self, text: &str) -> Vec<Flag> {
        let folded = crate::text::fold(text);
        // Byte offset in `folded` → byte offset in `text` (folding is char for char).
        let fold_starts: Vec<usize> = folded.char_indices().map(|(i, _)| i).collect();
        let text_starts: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        let to_text = |fold_byte: usize| -> usize {
            match fold_starts.binary_search(&fold_byte) {
                Ok(ci) => text_starts[ci],
                Err(_) => text.len(),
            }
        };
        let mut boundaries: HashSet<usize> = HashSet::new();
        // Without HMM: jieba's guesses at unknown words glue verbs to what follows (能助眠),
        // while dictionary words (第一次, 最近) still keep their boundaries.
        for w in crate::text::jieba().cut(&folded, false) {
            boundaries.insert(w.byte_start);
            boundaries.insert(w.byte_end);
        }
        let mut found: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for e in &self.entries {
            let mut at = 0;
            while let Some(m) = e.re.find_at(&folded, at) {
                if m.start() == folded.len() {
                    break;
                }
                // A match turned down (mid-word start, an exception around it) must not hide a
                // later one that overlaps it: look again from the next character, not its end.
                let next = folded[m.start()..]
                    .chars()
                    .next()
                    .map_or(folded.len(), |c| m.start() + c.len_utf8());
                if !boundaries.contains(&m.start())
                    || (!e.open_end && !boundaries.contains(&m.end()))
                {
                    at = next;
                    continue;
                }
                let after = folded[m.end()..].trim_start();
                let before = folded[..m.start()].trim_end();
                let clause = clause_tail(before);
                if e.not_after.iter().any(|w| after.starts_with(w.as_str()))
                    || e.not_before.iter().any(|w| before.ends_with(w.as_str()))
                    || e.not_in_clause.iter().any(|w| clause.contains(w.as_str()))
                {
                    at = next;
                    continue;
                }
                at = m.end().max(next);
                let word = text[to_text(m.start())..to_text(m.end())].to_string();
                let words = found.entry(e.category).or_default();
                if !words.contains(&word) {
                    words.push(word);
                }
            }
        }
        found
            .into_iter()
            .map(|(c, mut words)| {
                // Keep the longest quotes: 全网最低 says all that 最低 says.
                let all = words.clone();
                words.retain(|w| !all.iter().any(|o| o != w && o.contains(w.as_str())));
                let (name, article, severity) = &self.categories[c];
                let review_reason = if self.review_for.contains(&c) {
                    self.contexts
                        .iter()
                        .find(|(_, re)| re.is_match(&folded))
                        .map(|(reason, _)| reason.clone())
                } else {
                    None
                };
                Flag {
                    category: name.clone(),
                    words,
                    article: article.clone(),
                    severity: *severity,
                    review: review_reason.is_some(),
                    review_reason,
                }
            })
            .collect()
    }
}

impl Lexicon {
    /// A category's legal basis and severity, by name.
    fn basis(&self, category: &str) -> Option<(&str, u8)> {
        self.categories
            .iter()
            .find(|(n, _, _)| n == category)
            .map(|(_, a, s)| (a.as_str(), *s))
    }
}

/// Every flag of a text: the lexicon's, then, in each category the lexicon did not flag, the
/// statistical model's (`claims_model`), marked for review and quoting the stretches its
/// weightiest n-grams cover. What `ingest`, `claims check` and `claims eval` use.
pub fn flags(text: &str) -> Vec<Flag> {
    let lex = lexicon();
    let mut out = lex.check(text);
    let model = crate::claims_model::model();
    for g in model.guess(text) {
        let name = CATEGORIES[g.category];
        if out.iter().any(|f| f.category == name) {
            continue;
        }
        let Some((article, severity)) = lex.basis(name) else {
            continue;
        };
        out.push(Flag {
            category: name.into(),
            words: crate::claims_model::quotes(text, &g.features),
            article: article.into(),
            severity,
            review: true,
            review_reason: Some(format!(
                "no rule matched; the statistical model ({}) scores it {:.1} toward this category (threshold {}): listen and decide",
                model.version, g.score, model.threshold
            )),
        });
    }
    out
}

/// The versions behind [`flags`]: the lexicon's and the model's.
pub fn version() -> String {
    format!(
        "{} + {}",
        lexicon().version,
        crate::claims_model::model().version
    )
}

/// A flag attached to a transcript segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentFlag {
    /// Segment index.
    pub segment: usize,
    /// Segment start (ms).
    pub start_ms: u64,
    /// Segment end (ms).
    pub end_ms: u64,
    /// The flag.
    #[serde(flatten)]
    pub flag: Flag,
}

/// Claims found in a whole transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    /// Lexicon version used.
    pub lexicon: String,
    /// Every flag, in segment order.
    pub flags: Vec<SegmentFlag>,
}

/// Checks every segment of a transcript.
pub fn check_transcript(t: &crate::transcript::Transcript) -> Findings {
    Findings {
        lexicon: version(),
        flags: t
            .segments
            .iter()
            .flat_map(|s| {
                flags(&s.text).into_iter().map(|flag| SegmentFlag {
                    segment: s.index,
                    start_ms: s.start_ms,
                    end_ms: s.end_ms,
                    flag,
                })
            })
            .collect(),
    }
}

/// Precision, recall and F1 of one category over an annotated set.
#[derive(Debug, Clone, Serialize)]
pub struct Score {
    /// Category.
    pub category: String,
    /// Sentences annotated with it.
    pub positives: usize,
    /// True positives.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    /// False negatives.
    pub fn_: usize,
    /// tp / (tp + fp).
    pub precision: f64,
    /// tp / (tp + fn).
    pub recall: f64,
    /// Harmonic mean.
    pub f1: f64,
}

/// Precision, recall and F1 from counts (an empty denominator counts as perfect).
pub fn precision_recall_f1(tp: usize, fp: usize, fn_: usize) -> (f64, f64, f64) {
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let (p, r) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
    let f1 = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f1)
}

/// All categories pooled (micro average): the counts summed, then precision, recall and F1.
pub fn micro(scores: &[Score]) -> Score {
    let sum = |f: fn(&Score) -> usize| scores.iter().map(f).sum::<usize>();
    let (tp, fp, fn_) = (sum(|s| s.tp), sum(|s| s.fp), sum(|s| s.fn_));
    let (precision, recall, f1) = precision_recall_f1(tp, fp, fn_);
    Score {
        category: "all (micro)".into(),
        positives: sum(|s| s.positives),
        tp,
        fp,
        fn_,
        precision,
        recall,
        f1,
    }
}

/// Scores [`flags`] (the lexicon and the model) on lines of `sentence<TAB>categories`
/// (comma-separated, `-` for none).
pub fn evaluate(tsv: &str) -> Result<(usize, Vec<Score>), String> {
    let mut counts = vec![(0usize, 0usize, 0usize, 0usize); CATEGORIES.len()];
    let mut n = 0;
    for (i, line) in tsv.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (sentence, labels) = line
            .split_once('\t')
            .ok_or_else(|| format!("line {}: expected sentence<TAB>categories", i + 1))?;
        let expected: HashSet<&str> = labels
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "-")
            .collect();
        for l in &expected {
            if !CATEGORIES.contains(l) {
                return Err(format!("line {}: unknown category {l}", i + 1));
            }
        }
        let got: HashSet<String> = flags(sentence).into_iter().map(|f| f.category).collect();
        for (c, name) in CATEGORIES.iter().enumerate() {
            let (e, g) = (expected.contains(name), got.contains(*name));
            let k = &mut counts[c];
            k.0 += usize::from(e);
            match (e, g) {
                (true, true) => k.1 += 1,
                (false, true) => k.2 += 1,
                (true, false) => k.3 += 1,
                _ => {}
            }
        }
        n += 1;
    }
    let scores = CATEGORIES
        .iter()
        .zip(counts)
        .map(|(c, (pos, tp, fp, fn_))| {
            let (p, r, f1) = precision_recall_f1(tp, fp, fn_);
            Score {
                category: c.to_string(),
                positives: pos,
                tp,
                fp,
                fn_,
                precision: p,
                recall: r,
                f1,
            }
        })
        .collect();
    Ok((n, scores))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats(s: &str) -> Vec<String> {
        lexicon().check(s).into_iter().map(|f| f.category).collect()
    }

    #[test]
    fn word_boundaries_keep_ordinary_words_out() {
        assert_eq!(cats("这是全网最低价"), vec!["absolute_terms"]);
        assert!(cats("第一次来的家人们点点关注").is_empty());
        assert!(cats("最后一步把面膜撕下来").is_empty());
        assert!(cats("最近天气很冷").is_empty());
        assert!(
            cats("我们第一时间发货").is_empty(),
            "{:?}",
            cats("我们第一时间发货")
        );
    }

    #[test]
    fn categories_articles_and_severity() {
        let f = lexicon().check("这个面霜可以治疗失眠，拿过诺贝尔奖，最后三件");
        let names: Vec<&str> = f.iter().map(|f| f.category.as_str()).collect();
        assert_eq!(names, vec!["health_claims", "fake_authority", "pressure"]);
        assert_eq!(f[0].severity, 3);
        assert!(f[0].article.contains("第十六"));
        assert!(f[1].words.contains(&"诺贝尔".to_string()));
    }

    #[test]
    fn the_sellers_own_newest_model_is_a_fact_newest_technology_a_superlative() {
        // SAMR's guideline on absolute terms exempts a seller's own product updates (本店最新款).
        assert!(cats("我们店里最新款的卷发棒到了").is_empty());
        assert!(cats("最新款的耳机支持降噪").is_empty());
        assert_eq!(cats("采用全球最新科技"), vec!["absolute_terms"]);
    }

    #[test]
    fn words_that_mean_something_else_in_their_context_are_not_claims() {
        // 全退 after a symptom is the symptom receding, not a refund (held-out 14).
        assert!(!cats("红疹全退了").iter().any(|c| c == "after_sales"));
        assert_eq!(cats("不满意直接全退"), vec!["after_sales"]);
        // The last minutes of the host's own talk are not a deadline.
        assert!(cats("最后三分钟给大家讲讲怎么清洗").is_empty());
        assert_eq!(cats("最后三分钟，赶紧拍"), vec!["pressure"]);
        // A specification's maximum is a fact (held-out 16); a top tier is a claim.
        assert!(cats("跑步机的最高时速是十六公里").is_empty());
        assert_eq!(cats("这是最高端的跑步机"), vec!["absolute_terms"]);
        // Frames of claims-lexicon/12-14 stay off ordinary lines of the same shape.
        for line in [
            "Anyone with a Prime account gets it in two days",
            "The latest phones money can buy are expensive",
            "Doctors were consulted about the warning label wording",
            "老师们人手一个平板上课",
            "每个人只有一次抽奖机会",
        ] {
            assert!(cats(line).is_empty(), "{line}: {:?}", cats(line));
        }
        assert_eq!(
            cats("Kids with ADHD calm down within days on these gummies"),
            vec!["health_claims"]
        );
    }

    #[test]
    fn exempt_context_goes_to_review() {
        let f = lexicon().check("这是我们家这个系列里最好用的一款");
        assert_eq!(f[0].category, "absolute_terms");
        assert!(f[0].review);
        let f = lexicon().check("这是全网最好用的面霜");
        assert!(!f[0].review);
    }

    #[test]
    fn a_match_turned_down_does_not_hide_an_overlapping_one() {
        // 天然 starts inside the word 今天 and is turned down; 然后, which overlaps it and starts
        // on a word boundary, must still be found (a scan resuming after 天然 would skip it).
        let cats: Vec<String> = CATEGORIES
            .iter()
            .map(|c| format!(r#""{c}": {{"article": "a", "severity": 1}}"#))
            .collect();
        let lex = Lexicon::parse(&format!(
            r#"{{"version": "t", "categories": {{{}}},
                "review": {{"applies_to": [], "contexts": []}},
                "entries": [{{"category": "pressure", "pattern": "天然|然后"}}]}}"#,
            cats.join(",")
        ))
        .unwrap();
        let f = lex.check("今天然后");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].words, vec!["然后".to_string()]);
    }

    #[test]
    fn traditional_and_full_width_text_is_matched_and_quoted_as_written() {
        let f = lexicon().check("假一賠十，ＯＮＬＹ 3 LEFT");
        let words: Vec<String> = f.iter().flat_map(|f| f.words.clone()).collect();
        assert!(words.contains(&"假一賠十".to_string()), "{words:?}");
        assert!(words.contains(&"ＯＮＬＹ 3 LEFT".to_string()), "{words:?}");
    }
}
