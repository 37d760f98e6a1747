//! The evaluation book: a public-domain novel cut to a token length, with facts ("needles")
//! inserted at known depths, and the questions about them.

use seahorse_engine::tiny_model::SplitMix;
use seahorse_engine::Model;
use serde::{Deserialize, Serialize};

const COLOURS: &[&str] = &[
    "amber", "cobalt", "crimson", "emerald", "ivory", "jade", "scarlet", "violet", "copper", "silver", "indigo",
    "saffron", "walnut", "pewter", "coral", "olive",
];

/// One question with its gold answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Question {
    /// Stable id.
    pub id: String,
    /// "exact": one fact at one depth; "spread": facts from all over the book.
    pub kind: String,
    /// The question.
    pub text: String,
    /// Strings the answer must contain (all of them for full marks; the score is the share).
    pub gold: Vec<String>,
    /// Where the fact sits, as a fraction of the book (exact questions).
    pub depth: Option<f64>,
    /// Whole-book questions: the gold parts must come in this order.
    #[serde(default)]
    pub ordered: bool,
    /// Whole-book questions: quotes of the book that support the answer (whitespace-normalised).
    #[serde(default)]
    pub evidence: Vec<String>,
}

impl Question {
    /// The score of `answer`: the share of gold strings it names (whole-book questions: of
    /// answer parts, see [`crate::whole_book::score`]).
    pub fn score(&self, answer: &str) -> f64 {
        if self.kind == crate::whole_book::KIND {
            crate::whole_book::score(answer, &self.gold, self.ordered)
        } else {
            score(answer, &self.gold)
        }
    }

    /// Whether a cited page supports the answer: it holds a gold string (whole-book questions:
    /// an evidence quote).
    pub fn supported_by(&self, page: &str) -> bool {
        if self.kind == crate::whole_book::KIND {
            crate::whole_book::page_supports(page, &self.evidence)
        } else {
            self.gold.iter().any(|g| page.contains(g.as_str()))
        }
    }
}

/// The book and its questions.
pub struct Book {
    /// The text (the novel's start with the needles).
    pub text: String,
    /// The questions.
    pub questions: Vec<Question>,
    /// Characters of the source text the book takes (from its start).
    pub source_chars: usize,
}

/// Cuts `novel` to about `tokens` tokens of `model` and inserts `needles` facts at evenly
/// spread depths; the codes come from `seed`.
pub fn build(model: &Model, novel: &str, tokens: usize, needles: usize, seed: u64) -> Book {
    // Characters per token of this text, measured on a sample.
    let sample: String = novel.chars().take(40_000).collect();
    let ratio = sample.chars().count() as f64 / model.tokenize(&sample).len().max(1) as f64;
    let mut rng = SplitMix(seed);
    let needles = needles.min(COLOURS.len());
    let facts: Vec<(String, String)> = (0..needles)
        .map(|i| {
            let code = 1000 + ((rng.uniform() + 1.0) * 4499.0) as u32;
            (COLOURS[i].to_owned(), code.to_string())
        })
        .collect();
    let needle_tokens: usize = facts.iter().map(|(c, code)| model.tokenize(&needle(c, code)).len() + 2).sum();
    let chars = ((tokens.saturating_sub(needle_tokens)) as f64 * ratio * 0.97) as usize;
    let base: String = novel.chars().take(chars).collect();

    // Insert each needle at a paragraph break near its depth, from the back so earlier
    // offsets stay valid.
    let mut text = base.clone();
    let mut questions = Vec::new();
    let mut spots: Vec<(usize, usize, f64)> = Vec::new();
    for i in 0..needles {
        let depth = (i as f64 + 0.5) / needles as f64;
        let at = paragraph_break(&base, (base.len() as f64 * depth) as usize);
        spots.push((at, i, depth));
    }
    spots.sort_by_key(|s| std::cmp::Reverse(s.0));
    for &(at, i, _) in &spots {
        let (colour, code) = &facts[i];
        text.insert_str(at, &format!("\n\n{}\n\n", needle(colour, code)));
    }
    spots.sort_by_key(|s| s.1);
    for &(_, i, depth) in &spots {
        let (colour, code) = &facts[i];
        questions.push(Question {
            id: format!("exact-{colour}"),
            kind: "exact".into(),
            text: format!("What is the combination of the {colour} strongbox at Kellynch Hall?"),
            gold: vec![code.clone()],
            depth: Some(depth),
            ordered: false,
            evidence: Vec::new(),
        });
    }
    questions.push(Question {
        id: "spread-colours".into(),
        kind: "spread".into(),
        text: "Strongboxes at Kellynch Hall are mentioned in several places. What colours are they? List every colour."
            .into(),
        gold: facts.iter().map(|(c, _)| c.clone()).collect(),
        depth: None,
        ordered: false,
        evidence: Vec::new(),
    });
    Book { text, questions, source_chars: chars.min(novel.chars().count()) }
}

fn needle(colour: &str, code: &str) -> String {
    format!("The combination of the {colour} strongbox at Kellynch Hall is {code}.")
}

/// The byte offset of the first paragraph break at or after `at` (or the end).
fn paragraph_break(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    text[at..].find("\n\n").map_or(text.len(), |i| at + i)
}

/// The share of `gold` strings found in `answer` (case-insensitive).
pub fn score(answer: &str, gold: &[String]) -> f64 {
    let answer = answer.to_lowercase();
    let found = gold.iter().filter(|g| answer.contains(&g.to_lowercase())).count();
    found as f64 / gold.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_the_share_of_gold_strings_found() {
        let gold = vec!["amber".to_owned(), "jade".to_owned()];
        assert_eq!(score("Amber and JADE.", &gold), 1.0);
        assert_eq!(score("Only amber.", &gold), 0.5);
        assert_eq!(score("", &gold), 0.0);
    }

    #[test]
    fn needles_go_at_paragraph_breaks() {
        let text = "one two\n\nthree four\n\nfive";
        assert_eq!(paragraph_break(text, 0), 7);
        assert_eq!(paragraph_break(text, 8), 19);
        assert_eq!(paragraph_break(text, 21), text.len());
        assert_eq!(paragraph_break("é\n\nx", 1), 2);
    }
}
