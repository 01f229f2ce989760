//! The text analyzer shared by indexing and querying: folding, Chinese word segmentation with
//! jieba, English stemming.
//!
//! Folding is character for character (full-width → half-width, lower case, traditional →
//! simplified), so token offsets still point into the original text and highlights land on
//! the matched words. Positions count words of jieba's precise segmentation; the dictionary
//! sub-words of a long word (诺贝尔 inside 诺贝尔奖) are emitted at the same position, so a
//! query for a word finds it inside longer words, and phrases match word by word whatever the
//! punctuation and spacing between them.

use tantivy::tokenizer::{
    Language, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

pub use crate::text::{fold, jieba};

/// Name under which the analyzer is registered with tantivy.
pub const NAME: &str = "liveproof";

/// Builds the analyzer (tokenizer + filters).
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer)
        .filter(RemoveLongFilter::limit(64))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Splits folded text into indexable words with positions and original byte offsets.
pub fn words(text: &str) -> Vec<Token> {
    let folded = fold(text);
    let mut offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    offsets.push(text.len());
    let chars: Vec<char> = folded.chars().collect();
    let j = jieba();
    let mut out = Vec::new();
    let mut position = 0;
    for w in j.cut(&folded, true) {
        if !w.word.chars().any(char::is_alphanumeric) {
            continue; // spaces and punctuation take no position
        }
        let token = |s: usize, e: usize| Token {
            offset_from: offsets[s],
            offset_to: offsets[e],
            position,
            text: chars[s..e].iter().collect(),
            position_length: 1,
        };
        out.push(token(w.start, w.end));
        let len = w.end - w.start;
        if len > 2
            && chars[w.start..w.end]
                .iter()
                .all(|&c| crate::text::is_han(c))
        {
            for n in 2..len.min(4) {
                for s in w.start..=w.end - n {
                    let sub: String = chars[s..s + n].iter().collect();
                    if j.has_word(&sub) {
                        out.push(token(s, s + n));
                    }
                }
            }
        }
        position += 1;
    }
    out
}

/// The tokenizer half of the analyzer.
#[derive(Clone)]
pub struct WordTokenizer;

/// Tokens of one text, computed up front.
pub struct WordStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for WordStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream {
        WordStream {
            tokens: words(text),
            next: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<(String, usize)> {
        let mut a = analyzer();
        let mut ts = a.token_stream(s);
        let mut v = Vec::new();
        while ts.advance() {
            v.push((ts.token().text.clone(), ts.token().position));
        }
        v
    }

    #[test]
    fn folds_width_case_and_script_without_moving_offsets() {
        assert_eq!(fold("ＡＢｃ 正義"), "abc 正义");
        let t = words("他說：正義");
        let w = t.iter().find(|t| t.text == "正义").unwrap();
        assert_eq!(&"他說：正義"[w.offset_from..w.offset_to], "正義");
    }

    #[test]
    fn long_words_carry_their_dictionary_sub_words_at_the_same_position() {
        let t = texts("获得诺贝尔奖");
        let pos = |w: &str| t.iter().find(|(x, _)| x == w).map(|(_, p)| *p);
        assert!(pos("诺贝尔").is_some(), "{t:?}");
        assert_eq!(pos("诺贝尔"), pos("诺贝尔奖").or(pos("诺贝尔")));
    }

    #[test]
    fn english_is_stemmed_and_punctuation_takes_no_position() {
        let t = texts("You, promised refunds!");
        assert_eq!(
            t,
            vec![
                ("you".into(), 0),
                ("promis".into(), 1),
                ("refund".into(), 2)
            ]
        );
    }
}
