//! Whole-book questions: hand-written questions about the evaluation novel whose answers need
//! a long stretch of it (who did what across chapters, how a situation changed, counts and
//! orderings), the kind of question a few retrieved passages may not answer and a memory of the
//! whole book should. They are read from `crates/eval/ask/whole-book.json` and asked of every
//! book that holds all of a question's evidence.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::book::Question;

/// The question kind of whole-book questions in reports.
pub const KIND: &str = "whole-book";

#[derive(Deserialize)]
struct File {
    source: String,
    questions: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
    text: String,
    parts: Vec<String>,
    #[serde(default)]
    ordered: bool,
    evidence: Vec<String>,
}

/// The questions of one file and the text file they are about.
pub struct WholeBookQuestions {
    /// File name of the text the questions are about (e.g. `austen_persuasion.txt`).
    pub source: String,
    questions: Vec<Question>,
}

impl WholeBookQuestions {
    /// Reads and checks a question file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file: File = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let mut questions = Vec::new();
        for e in file.questions {
            if e.parts.is_empty() || e.evidence.is_empty() || e.parts.iter().any(|p| p.split('|').any(str::is_empty)) {
                anyhow::bail!(
                    "{}: question {} needs answer parts (no empty spelling) and evidence",
                    path.display(),
                    e.id
                );
            }
            questions.push(Question {
                id: e.id,
                kind: KIND.into(),
                text: e.text,
                gold: e.parts,
                depth: None,
                ordered: e.ordered,
                evidence: e.evidence.iter().map(|s| normalize_space(s)).collect(),
            });
        }
        Ok(Self { source: file.source, questions })
    }

    /// The questions whose evidence all lies in `book_text`.
    pub fn answerable_in(&self, book_text: &str) -> Vec<Question> {
        let text = normalize_space(book_text);
        self.questions.iter().filter(|q| q.evidence.iter().all(|e| text.contains(e.as_str()))).cloned().collect()
    }
}

/// Collapses every run of whitespace to one space (pages and quotes wrap lines differently).
pub fn normalize_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where `spelling` first occurs in `lower` (lower-case) at the start of a word.
fn find_word_start(lower: &str, spelling: &str) -> Option<usize> {
    let spelling = spelling.to_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&spelling) {
        let at = from + i;
        if lower[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric()) {
            return Some(at);
        }
        from = at + spelling.len();
    }
    None
}

/// Scores `answer` against answer parts, each `"a|b|…"` (accepted spellings, matched
/// case-insensitively at the start of a word): the share of parts found. When `ordered`, a
/// complete answer whose parts are out of order scores half.
pub fn score(answer: &str, parts: &[String], ordered: bool) -> f64 {
    let lower = answer.to_lowercase();
    let found: Vec<Option<usize>> =
        parts.iter().map(|p| p.split('|').filter_map(|s| find_word_start(&lower, s.trim())).min()).collect();
    let share = found.iter().filter(|f| f.is_some()).count() as f64 / parts.len().max(1) as f64;
    if ordered && share == 1.0 && !found.windows(2).all(|w| w[0] < w[1]) {
        return 0.5;
    }
    share
}

/// Whether a cited page holds any of the question's evidence quotes.
pub fn page_supports(page: &str, evidence: &[String]) -> bool {
    let page = normalize_space(page);
    evidence.iter().any(|e| page.contains(e.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parts_match_any_spelling_at_a_word_start() {
        let p = parts(&["debt|retrench", "Bath"]);
        assert_eq!(score("He must retrench and go to BATH. [p. 3]", &p, false), 1.0);
        assert_eq!(score("Because of his debts.", &p, false), 0.5);
        // Inside a word does not count (the start of one does: a spelling may be a stem).
        assert_eq!(score("A sabbath, and indebted to none.", &p, false), 0.0);
        assert_eq!(score("Bathing, and debtors.", &p, false), 1.0);
        assert_eq!(score("", &p, false), 0.0);
    }

    #[test]
    fn ordered_parts_must_come_in_order() {
        let p = parts(&["Elizabeth", "Anne", "Mary"]);
        assert_eq!(score("Elizabeth, then Anne, then Mary.", &p, true), 1.0);
        assert_eq!(score("Mary, Anne and Elizabeth.", &p, true), 0.5);
        assert_eq!(score("Mary, Anne and Elizabeth.", &p, false), 1.0);
        assert!((score("Elizabeth and Mary.", &p, true) - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn questions_are_asked_only_of_books_holding_their_evidence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.json");
        std::fs::write(
            &path,
            r#"{"source": "novel.txt", "questions": [
                {"id": "a", "text": "Q1?", "parts": ["x"], "evidence": ["the first\n  chapter"]},
                {"id": "b", "text": "Q2?", "parts": ["y|z"], "ordered": true, "evidence": ["the first chapter", "a later chapter"]}
            ]}"#,
        )
        .unwrap();
        let q = WholeBookQuestions::load(&path).unwrap();
        assert_eq!(q.source, "novel.txt");
        let short: Vec<String> = q.answerable_in("In the first\nchapter, much.").into_iter().map(|q| q.id).collect();
        assert_eq!(short, ["a"]);
        let long = q.answerable_in("In the first chapter.\n\nThen a later  chapter.");
        assert_eq!(long.len(), 2);
        assert!(long[1].ordered && long[1].kind == KIND);
        assert!(page_supports("…and then a later\nchapter came", &long[1].evidence));
        assert!(!page_supports("nothing here", &long[1].evidence));
    }

    #[test]
    fn a_question_without_parts_or_evidence_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.json");
        std::fs::write(
            &path,
            r#"{"source": "n.txt", "questions": [{"id": "a", "text": "Q?", "parts": ["x|"], "evidence": ["e"]}]}"#,
        )
        .unwrap();
        let err = WholeBookQuestions::load(&path).err().unwrap().to_string();
        assert!(err.contains("question a"), "{err}");
    }

    #[test]
    fn the_shipped_questions_load() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ask/whole-book.json");
        let q = WholeBookQuestions::load(&path).unwrap();
        assert_eq!(q.source, "austen_persuasion.txt");
        assert!(q.questions.len() >= 15);
        let ids: std::collections::HashSet<&str> = q.questions.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids.len(), q.questions.len(), "question ids are unique");
    }
}
