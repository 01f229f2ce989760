//! Text normalisation shared by transcription, analysis (claims, loops, disclosure), search and
//! display: Unicode NFC, whitespace, Mandarin in simplified characters (Whisper sometimes
//! writes traditional ones), folding for matching, and jieba word segmentation.

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// True for CJK unified ideographs (the ranges Whisper emits).
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Normalises a transcript line: NFC, collapsed whitespace, simplified Chinese characters.
pub fn normalize(raw: &str) -> String {
    let nfc: String = raw.nfc().collect();
    let collapsed = nfc.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().any(is_han) {
        zhconv::zhconv(&collapsed, zhconv::Variant::ZhHans)
            .nfc()
            .collect()
    } else {
        collapsed
    }
}

/// True for Whisper's non-speech annotations such as `[BLANK_AUDIO]`, `(music)`, `【音乐】`.
pub fn is_non_speech_annotation(text: &str) -> bool {
    let t = text.trim();
    let pairs = [
        ('[', ']'),
        ('(', ')'),
        ('（', '）'),
        ('【', '】'),
        ('*', '*'),
        ('♪', '♪'),
    ];
    pairs.iter().any(|&(open, close)| {
        t.starts_with(open)
            && t.ends_with(close)
            && t.chars().count() >= 2
            && !t[open.len_utf8()..t.len() - close.len_utf8()].contains([open, close])
    })
}

/// The shared jieba segmenter (its dictionary loads once).
pub fn jieba() -> &'static jieba_rs::Jieba {
    static JIEBA: OnceLock<jieba_rs::Jieba> = OnceLock::new();
    JIEBA.get_or_init(jieba_rs::Jieba::new)
}

fn fold_char(c: char) -> char {
    let c = match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Folds `text` character for character; returns the folded string, whose n-th character
/// stands for the n-th character of `text`.
pub fn fold(text: &str) -> String {
    let folded: String = text.chars().map(fold_char).collect();
    if !folded.chars().any(is_han) {
        return folded;
    }
    let simplified = zhconv::zhconv(&folded, zhconv::Variant::ZhHans);
    if simplified.chars().count() == folded.chars().count() {
        return simplified;
    }
    // A phrase-level conversion changed the length: convert character by character instead,
    // so that offsets stay aligned.
    let mut buf = [0u8; 4];
    folded
        .chars()
        .map(|c| {
            let s = zhconv::zhconv(c.encode_utf8(&mut buf), zhconv::Variant::ZhHans);
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(x), None) => x,
                _ => c,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_becomes_simplified_and_english_is_untouched() {
        assert_eq!(normalize("正義 與 說話"), "正义 与 说话");
        assert_eq!(
            normalize("  And so,  my fellow\tAmericans "),
            "And so, my fellow Americans"
        );
    }

    #[test]
    fn non_speech_annotations_are_recognised() {
        assert!(is_non_speech_annotation("[BLANK_AUDIO]"));
        assert!(is_non_speech_annotation("(music)"));
        assert!(is_non_speech_annotation("【音乐】"));
        assert!(!is_non_speech_annotation("(laughs) that is great (really)"));
        assert!(!is_non_speech_annotation("ask not"));
    }
}

/// The language a segment was spoken in, between Mandarin and English, from its script: a
/// packed window is decoded under one language token, but Whisper writes what it hears, so a
/// segment of Han characters is Mandarin (English brand names inside stay part of it) and one
/// of Latin words is English. Other languages keep the decoder's label.
pub fn spoken_language(raw: &str, decoded_as: &str) -> String {
    if decoded_as != "zh" && decoded_as != "en" {
        return decoded_as.to_string();
    }
    let han = raw
        .chars()
        .filter(|c| matches!(*c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF))
        .count();
    let latin_words = raw
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .count();
    if han == 0 && latin_words == 0 {
        decoded_as.to_string()
    } else if han > latin_words {
        "zh".into()
    } else {
        "en".into()
    }
}

#[cfg(test)]
mod language_tests {
    use super::spoken_language;

    #[test]
    fn segments_carry_the_language_of_their_script() {
        assert_eq!(spoken_language("and so my fellow Americans", "zh"), "en");
        assert_eq!(spoken_language("这款iPhone15真的很好用", "en"), "zh");
        assert_eq!(spoken_language("I love 淘宝", "zh"), "en");
        assert_eq!(spoken_language("今天给大家推荐 Dior 口红", "zh"), "zh");
        assert_eq!(spoken_language("123", "zh"), "zh");
        assert_eq!(spoken_language("こんにちは", "ja"), "ja");
    }
}
