//! Implicit AI-content labels (GB 45438-2025): the metadata key `AIGC` whose value is a compact
//! JSON object with seven string fields in order (`Label`, `ContentProducer`, `ProduceID`,
//! `ReservedCode1`, `ContentPropagator`, `PropagateID`, `ReservedCode2`), printable ASCII, no
//! space, `"` or `\` inside values, exactly one per file.
//!
//! Where labels live: MP4/MOV `moov/udta/meta` key `mdtaAIGC`, FLV `onMetaData` key `AIGC`,
//! MKV SimpleTag `AIGC`, MP3 ID3v2 `TXXX` description `AIGC` (all read through ffprobe's
//! tags), and a WAV chunk `AIGC` (read here: ffprobe does not expose unknown chunks).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The seven fields, in the order the standard fixes.
pub const FIELDS: [&str; 7] = [
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
];

/// One label found in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Where it was found (`format tag AIGC`, `WAV chunk AIGC`, ...).
    pub location: String,
    /// The raw value (truncated to 2,000 characters).
    pub value: String,
    /// The `Label` field ("1" AI-generated, "2" possibly, "3" suspected), when readable.
    pub label: Option<String>,
    /// Every way it breaks the standard; empty when valid.
    pub problems: Vec<String>,
}

/// Checks a label value against the standard.
pub fn validate(value: &str) -> (Option<String>, Vec<String>) {
    let mut problems = Vec::new();
    if !value.chars().all(|c| c.is_ascii_graphic()) {
        problems.push("contains characters other than printable ASCII (or spaces)".to_string());
    }
    let parsed: Result<serde_json::Map<String, serde_json::Value>, _> = serde_json::from_str(value);
    let Ok(map) = parsed else {
        problems.push("is not a JSON object".to_string());
        return (None, problems);
    };
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    if keys != FIELDS {
        problems.push(format!(
            "has fields {keys:?}; the standard requires exactly {FIELDS:?}, in that order"
        ));
    }
    for (k, v) in &map {
        match v.as_str() {
            Some(s)
                if s.chars()
                    .any(|c| c == ' ' || c == '"' || c == '\\' || !c.is_ascii_graphic()) =>
            {
                problems.push(format!(
                    "field {k} contains a space, quote, backslash or non-printable character"
                ));
            }
            Some(_) => {}
            None => problems.push(format!("field {k} is not a string")),
        }
    }
    let label = map
        .get("Label")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    if let Some(l) = &label {
        if !["1", "2", "3"].contains(&l.as_str()) {
            problems.push(format!("Label is {l:?}; it must be \"1\", \"2\" or \"3\""));
        }
    }
    (label, problems)
}

fn make(location: String, value: &str) -> Label {
    let (label, problems) = validate(value);
    Label {
        location,
        value: value.chars().take(2000).collect(),
        label,
        problems,
    }
}

/// Labels among ffprobe's tags (format and stream level).
pub fn from_tags(tags: &[(String, String, String)]) -> Vec<Label> {
    tags.iter()
        .filter(|(_, k, _)| k.eq_ignore_ascii_case("AIGC") || k.eq_ignore_ascii_case("mdtaAIGC"))
        .map(|(level, k, v)| make(format!("{level} tag {k}"), v))
        .collect()
}

/// `AIGC` chunks of a RIFF/WAVE file.
pub fn wav_chunks(path: &Path) -> std::io::Result<Vec<Label>> {
    let mut f = std::fs::File::open(path)?;
    let size = f.metadata()?.len();
    let mut out = Vec::new();
    let mut pos = 12u64;
    while pos + 8 <= size {
        f.seek(SeekFrom::Start(pos))?;
        let mut h = [0u8; 8];
        f.read_exact(&mut h)?;
        let len = u64::from(u32::from_le_bytes([h[4], h[5], h[6], h[7]]));
        if &h[0..4] == b"AIGC" {
            let take = len.min(64 * 1024).min(size - pos - 8);
            let mut b = vec![0u8; take as usize];
            f.read_exact(&mut b)?;
            let text = String::from_utf8_lossy(&b);
            out.push(make("WAV chunk AIGC".into(), text.trim_end_matches('\0')));
        }
        pos += 8 + len + (len & 1);
    }
    Ok(out)
}

/// Findings about the set of labels of one file: none, duplicates, malformed.
pub fn problems(labels: &[Label]) -> Vec<String> {
    let mut out = Vec::new();
    if labels.len() > 1 {
        out.push(format!(
            "{} AIGC labels; the standard allows exactly one per file",
            labels.len()
        ));
    }
    for l in labels {
        for p in &l.problems {
            out.push(format!("{}: {p}", l.location));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"Label":"1","ContentProducer":"001191110108MA01KP2T5U00000","ProduceID":"20260501abc","ReservedCode1":"","ContentPropagator":"001191110108MA01KP2T5U00000","PropagateID":"xyz","ReservedCode2":""}"#;

    #[test]
    fn a_well_formed_label_has_no_problems() {
        let (label, p) = validate(GOOD);
        assert_eq!(label.as_deref(), Some("1"));
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn malformed_labels_say_what_is_wrong() {
        assert!(!validate("AI generated").1.is_empty());
        let reordered = GOOD.replace(r#""Label":"1","ContentProducer""#, r#""ContentProducer""#);
        assert!(validate(&reordered)
            .1
            .iter()
            .any(|p| p.contains("in that order")));
        let spaced = GOOD.replace("xyz", "x y");
        assert!(!validate(&spaced).1.is_empty());
        let bad_label = GOOD.replace(r#""Label":"1""#, r#""Label":"9""#);
        assert!(validate(&bad_label).1.iter().any(|p| p.contains("Label")));
        let pretty = GOOD.replace(",", ", ");
        assert!(!validate(&pretty).1.is_empty(), "not compact");
    }
}
