//! The query language: words, "phrases", prefix*, AND / OR / NOT (or -), parentheses.
//!
//! Words next to each other must all match (AND is implicit); OR binds looser than AND;
//! NOT/-word excludes. A word that the analyzer splits in several (诺贝尔奖, or a Chinese
//! sentence typed without spaces) must match as a phrase. `prefix*` matches words starting with
//! `prefix` (at least two characters). Syntax errors say where and what.

use tantivy::query::{BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query, RegexQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TokenStream;
use tantivy::Term;
use thiserror::Error;

use super::analyzer;

/// A query that cannot be parsed.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("bad query {query:?} at character {at}: {message} (syntax: words, \"a phrase\", prefix*, AND, OR, NOT or -word, parentheses)")]
pub struct SyntaxError {
    /// The query as given.
    pub query: String,
    /// 1-based character position.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

/// Parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ast {
    /// A word (may analyse into several tokens: then a phrase).
    Word(String),
    /// A prefix.
    Prefix(String),
    /// A quoted phrase.
    Phrase(String),
    /// All must match.
    And(Vec<Ast>),
    /// Any may match.
    Or(Vec<Ast>),
    /// Must not match.
    Not(Box<Ast>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String, bool),
    Phrase(String),
    And,
    Or,
    Not,
    Open,
    Close,
}

fn lex(q: &str) -> Result<Vec<(usize, Tok)>, SyntaxError> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | '（' => {
                out.push((at, Tok::Open));
                i += 1
            }
            ')' | '）' => {
                out.push((at, Tok::Close));
                i += 1
            }
            '"' | '“' | '”' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '"' || c == '”' || c == '“')
                    .ok_or(SyntaxError {
                        query: String::new(),
                        at,
                        message: "this quote is never closed".into(),
                    })?;
                let phrase: String = chars[i + 1..i + 1 + end].iter().collect();
                out.push((at, Tok::Phrase(phrase)));
                i += end + 2;
            }
            '-' if out.is_empty()
                || chars
                    .get(i.wrapping_sub(1))
                    .is_some_and(|p| p.is_whitespace() || *p == '(') =>
            {
                out.push((at, Tok::Not));
                i += 1;
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '(' | ')' | '（' | '）' | '"' | '“' | '”')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                match word.as_str() {
                    "AND" | "&&" => out.push((at, Tok::And)),
                    "OR" | "||" => out.push((at, Tok::Or)),
                    "NOT" => out.push((at, Tok::Not)),
                    _ => {
                        let (w, prefix) = match word.strip_suffix('*') {
                            Some(w) => (w.to_string(), true),
                            None => (word, false),
                        };
                        if prefix && w.chars().count() < 2 {
                            return Err(SyntaxError {
                                query: String::new(),
                                at,
                                message: "a prefix needs at least two characters before *".into(),
                            });
                        }
                        if w.contains('*') {
                            return Err(SyntaxError {
                                query: String::new(),
                                at,
                                message: "* is only allowed at the end of a word".into(),
                            });
                        }
                        out.push((at, Tok::Word(w, prefix)));
                    }
                }
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }
    fn at(&self) -> usize {
        self.toks
            .get(self.pos)
            .map(|(a, _)| *a)
            .unwrap_or(self.len + 1)
    }
    fn err<T>(&self, message: &str) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            query: String::new(),
            at: self.at(),
            message: message.into(),
        })
    }

    fn or(&mut self) -> Result<Ast, SyntaxError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Ast::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Ast, SyntaxError> {
        let mut parts = vec![self.unary()?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    parts.push(self.unary()?);
                }
                Some(Tok::Or | Tok::Close) | None => break,
                Some(_) => parts.push(self.unary()?),
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Ast::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Ast, SyntaxError> {
        match self.peek().cloned() {
            Some(Tok::Not) => {
                self.pos += 1;
                Ok(Ast::Not(Box::new(self.unary()?)))
            }
            Some(Tok::Open) => {
                self.pos += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return self.err("this parenthesis group is never closed");
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::Word(w, prefix)) => {
                self.pos += 1;
                Ok(if prefix { Ast::Prefix(w) } else { Ast::Word(w) })
            }
            Some(Tok::Phrase(p)) => {
                self.pos += 1;
                Ok(Ast::Phrase(p))
            }
            Some(Tok::Close) => self.err("unexpected closing parenthesis"),
            Some(Tok::And | Tok::Or) => self.err("AND/OR needs a term on both sides"),
            None => self.err("the query ends where a term was expected"),
        }
    }
}

fn has_positive(ast: &Ast) -> bool {
    match ast {
        Ast::Not(_) => false,
        Ast::And(v) => v.iter().any(has_positive),
        Ast::Or(v) => v.iter().all(has_positive),
        _ => true,
    }
}

/// Parses a query string.
pub fn parse(q: &str) -> Result<Ast, SyntaxError> {
    parse_query(q).map_err(|e| SyntaxError {
        query: q.chars().take(200).collect(),
        ..e
    })
}

fn parse_query(q: &str) -> Result<Ast, SyntaxError> {
    let toks = lex(q)?;
    if toks.is_empty() {
        return Err(SyntaxError {
            query: String::new(),
            at: 1,
            message: "the query is empty".into(),
        });
    }
    let mut p = Parser {
        toks,
        pos: 0,
        len: q.chars().count(),
    };
    let ast = p.or()?;
    if p.pos < p.toks.len() {
        return p.err("unexpected closing parenthesis");
    }
    if !has_positive(&ast) {
        return Err(SyntaxError {
            query: String::new(),
            at: 1,
            message: "a query needs at least one word to find, not only exclusions".into(),
        });
    }
    Ok(ast)
}

fn text_query(field: Field, text: &str) -> Box<dyn Query> {
    let mut a = analyzer::analyzer();
    let mut ts = a.token_stream(text);
    let mut terms = Vec::new();
    while ts.advance() {
        let t = ts.token();
        terms.push((t.position, Term::from_field_text(field, &t.text)));
    }
    match terms.len() {
        0 => Box::new(EmptyQuery),
        1 => Box::new(TermQuery::new(
            terms.remove(0).1,
            IndexRecordOption::WithFreqsAndPositions,
        )),
        _ => Box::new(PhraseQuery::new_with_offset(terms)),
    }
}

fn prefix_query(field: Field, prefix: &str) -> Box<dyn Query> {
    let folded = analyzer::fold(prefix);
    let escaped: String = folded
        .chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~\"@<>";
            let esc = special.contains(c).then_some('\\');
            esc.into_iter().chain(std::iter::once(c))
        })
        .collect();
    match RegexQuery::from_pattern(&format!("{escaped}.*"), field) {
        Ok(q) => Box::new(q),
        Err(_) => Box::new(EmptyQuery),
    }
}

/// Compiles a parsed query against the text field.
pub fn compile(ast: &Ast, field: Field) -> Box<dyn Query> {
    match ast {
        Ast::Word(w) | Ast::Phrase(w) => text_query(field, w),
        Ast::Prefix(p) => prefix_query(field, p),
        Ast::And(v) => Box::new(BooleanQuery::new(
            v.iter()
                .map(|a| match a {
                    Ast::Not(inner) => (Occur::MustNot, compile(inner, field)),
                    other => (Occur::Must, compile(other, field)),
                })
                .collect(),
        )),
        Ast::Or(v) => Box::new(BooleanQuery::new(
            v.iter()
                .map(|a| (Occur::Should, compile(a, field)))
                .collect(),
        )),
        Ast::Not(inner) => Box::new(BooleanQuery::new(vec![(
            Occur::MustNot,
            compile(inner, field),
        )])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_implicit_and() {
        assert_eq!(
            parse("a b OR c").unwrap(),
            Ast::Or(vec![
                Ast::And(vec![Ast::Word("a".into()), Ast::Word("b".into())]),
                Ast::Word("c".into())
            ])
        );
        assert_eq!(
            parse("退款 -运费 \"七天 无理由\" promis*").unwrap(),
            Ast::And(vec![
                Ast::Word("退款".into()),
                Ast::Not(Box::new(Ast::Word("运费".into()))),
                Ast::Phrase("七天 无理由".into()),
                Ast::Prefix("promis".into())
            ])
        );
    }

    #[test]
    fn syntax_errors_say_where() {
        assert_eq!(parse("(a OR b").unwrap_err().at, 8);
        assert!(parse("\"open")
            .unwrap_err()
            .message
            .contains("never closed"));
        assert!(parse("a OR").is_err());
        assert!(parse("AND a").is_err());
        assert!(parse("NOT a").is_err());
        assert!(parse("   ").is_err());
        assert!(parse("a)").is_err());
        assert!(parse("x*").is_err());
    }
}
