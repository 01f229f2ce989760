//! The statistical second opinion on claims: a naive Bayes model over character n-grams
//! (Chinese 1–3) and words and word pairs (English), trained on the project's annotated
//! sentences (`benches/claims_classifier.py --export` writes `data/claims-model.tsv`).
//!
//! On sentences written after the lexicon was frozen it finds paraphrases the rules miss
//! (BENCHMARKS.md), so a sentence it scores above the threshold in a category the rules did not
//! flag gets a flag marked for review, naming the n-grams that weighed most. It never removes
//! or overrides a rule's flag. Invariant: a pure function of the text and the model file, and
//! the features are exactly the Python script's, so its measurements hold here.

use std::collections::HashMap;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

use crate::claims::CATEGORIES;

/// The model shipped with this build.
pub const MODEL_TSV: &str = include_str!("../data/claims-model.tsv");

/// A loaded model.
pub struct Model {
    /// Version string of the data file.
    pub version: String,
    /// Log-odds a sentence must exceed to be flagged.
    pub threshold: f64,
    prior: [f64; 5],
    ratios: HashMap<String, [f32; 5]>,
}

/// One category the model flags, with its score and the features that weighed most.
#[derive(Debug, Clone, PartialEq)]
pub struct Guess {
    /// Index into [`CATEGORIES`].
    pub category: usize,
    /// Log-odds for the category.
    pub score: f64,
    /// Up to three features of the sentence with the largest positive ratios.
    pub features: Vec<String>,
}

/// The built-in model.
pub fn model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| Model::parse(MODEL_TSV).expect("the built-in claims model is valid"))
}

fn five(fields: &[&str], line: usize) -> Result<[f64; 5], String> {
    if fields.len() != 5 {
        return Err(format!("line {line}: expected 5 numbers"));
    }
    let mut out = [0.0; 5];
    for (o, f) in out.iter_mut().zip(fields) {
        *o = f
            .parse()
            .map_err(|_| format!("line {line}: {f:?} is not a number"))?;
    }
    Ok(out)
}

impl Model {
    /// Reads a model file.
    pub fn parse(tsv: &str) -> Result<Self, String> {
        let (mut version, mut threshold, mut prior) = (None, None, None);
        let mut ratios = HashMap::new();
        for (i, line) in tsv.lines().enumerate() {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            match cols[0] {
                "version" if version.is_none() => version = cols.get(1).map(|v| v.to_string()),
                "threshold" if threshold.is_none() => {
                    threshold = cols.get(1).and_then(|t| t.parse::<f64>().ok())
                }
                "prior" if prior.is_none() => prior = Some(five(&cols[1..], i + 1)?),
                feature => {
                    let r = five(&cols[1..], i + 1)?;
                    ratios.insert(feature.to_string(), r.map(|x| x as f32));
                }
            }
        }
        Ok(Model {
            version: version.ok_or("no version line")?,
            threshold: threshold.ok_or("no threshold line")?,
            prior: prior.ok_or("no prior line")?,
            ratios,
        })
    }

    /// The categories this sentence scores above the threshold in.
    pub fn guess(&self, text: &str) -> Vec<Guess> {
        let feats = features(text);
        let mut out = Vec::new();
        for c in 0..CATEGORIES.len() {
            let mut score = self.prior[c];
            let mut weighed: Vec<(&str, f32)> = Vec::new();
            for f in &feats {
                if let Some(r) = self.ratios.get(f) {
                    score += f64::from(r[c]);
                    if r[c] > 0.0 && !weighed.iter().any(|(x, _)| x == f) {
                        weighed.push((f, r[c]));
                    }
                }
            }
            if score > self.threshold {
                weighed.sort_by(|a, b| b.1.total_cmp(&a.1));
                out.push(Guess {
                    category: c,
                    score,
                    features: weighed.iter().take(3).map(|(f, _)| f.to_string()).collect(),
                });
            }
        }
        out
    }
}

/// The stretches of the (normalised) sentence that its weighing features cover, overlapping
/// and adjacent ones merged, in reading order: what a reviewer reads as the flag's words
/// (同价, 价位, 位里 → 同价位里).
pub fn quotes(text: &str, features: &[String]) -> Vec<String> {
    let t: Vec<char> = text
        .nfkc()
        .collect::<String>()
        .to_lowercase()
        .chars()
        .collect();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for f in features {
        let f: Vec<char> = f.chars().collect();
        if f.is_empty() || f.len() > t.len() {
            continue;
        }
        for i in 0..=t.len() - f.len() {
            if t[i..i + f.len()] == f[..] {
                spans.push((i, i + f.len()));
            }
        }
    }
    spans.sort();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 || t[last.1..a].iter().all(|c| c.is_whitespace()) => {
                last.1 = last.1.max(b)
            }
            _ => merged.push((a, b)),
        }
    }
    merged
        .into_iter()
        .map(|(a, b)| t[a..b].iter().collect::<String>().trim().to_string())
        .filter(|q| !q.is_empty())
        .collect()
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// The features of a sentence, as `benches/claims_classifier.py` makes them: NFKC, lower case;
/// every 1-, 2- and 3-character n-gram of each run of CJK ideographs; every run of `a-z` and
/// `'` as a word, and each pair of consecutive words.
pub fn features(text: &str) -> Vec<String> {
    let t: String = text.nfkc().collect::<String>().to_lowercase();
    let mut out = Vec::new();
    let chars: Vec<char> = t.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if is_han(chars[i]) {
            let start = i;
            while i < chars.len() && is_han(chars[i]) {
                i += 1;
            }
            let run = &chars[start..i];
            for n in 1..=3 {
                for w in run.windows(n) {
                    out.push(w.iter().collect());
                }
            }
        } else {
            i += 1;
        }
    }
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in t.chars() {
        if c.is_ascii_lowercase() || c == '\'' {
            cur.push(c);
        } else if !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let pairs: Vec<String> = words
        .windows(2)
        .map(|w| format!("{} {}", w[0], w[1]))
        .collect();
    out.extend(words);
    out.extend(pairs);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_the_python_scripts() {
        assert_eq!(
            features("全网最低！ Don't MISS it"),
            [
                "全",
                "网",
                "最",
                "低",
                "全网",
                "网最",
                "最低",
                "全网最",
                "网最低",
                "don't",
                "miss",
                "it",
                "don't miss",
                "miss it"
            ]
        );
        // NFKC: full-width letters are words.
        assert_eq!(features("ＯＮＬＹ"), ["only"]);
    }

    #[test]
    fn quotes_merge_the_features_into_the_stretches_they_cover() {
        let f = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            quotes("这款面霜在同价位里没有对手", &f(&["同价", "价位", "位里"])),
            ["同价位里"]
        );
        assert_eq!(
            quotes(
                "You won't find a better deal anywhere else",
                &f(&["anywhere", "else", "find"])
            ),
            ["find", "anywhere else"]
        );
        assert!(quotes("abc", &f(&["xyz"])).is_empty());
    }

    #[test]
    fn the_model_flags_a_paraphrase_the_rules_need_not_know_and_names_its_features() {
        let g = model().guess("这款面霜在同价位里没有对手");
        assert!(
            g.iter().any(|x| CATEGORIES[x.category] == "absolute_terms"),
            "{g:?}"
        );
        let a = g
            .iter()
            .find(|x| CATEGORIES[x.category] == "absolute_terms")
            .unwrap();
        assert!(a.score > model().threshold && !a.features.is_empty());
        assert!(model().guess("这款有三个颜色可选").is_empty());
        assert!(model()
            .guess("The fabric is breathable and machine washable")
            .is_empty());
    }
}
