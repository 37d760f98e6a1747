//! The QA benchmark's questions (`crates/eval/qa/*.json`, one file per document) and the
//! pages that support each answer, found by locating the question's evidence quotes in the
//! pages as Seahorse extracted them.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// One document's questions.
#[derive(Debug, Clone, Deserialize)]
pub struct QaFile {
    pub document: QaDocument,
    pub questions: Vec<QaQuestion>,
}

/// Where the document comes from.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct QaDocument {
    /// Its file name in the books folder (`scripts/fetch-sample-books`).
    pub file: String,
    pub title: String,
    /// novel, manual, history, technical reference.
    pub kind: String,
    pub source: String,
    pub licence: String,
}

/// What a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A fact stated in one sentence, asked in the page's words.
    Fact,
    /// A fact asked in other words than the page's.
    Paraphrase,
    /// Two facts from the same chapter.
    MultiHop,
    /// Which chapter or section.
    Where,
    /// Lists and counts.
    List,
    /// Not in the document: the right answer says so.
    Unanswerable,
}

impl Kind {
    pub const ALL: [Kind; 6] =
        [Kind::Fact, Kind::Paraphrase, Kind::MultiHop, Kind::Where, Kind::List, Kind::Unanswerable];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Fact => "fact",
            Kind::Paraphrase => "paraphrase",
            Kind::MultiHop => "multi-hop",
            Kind::Where => "where",
            Kind::List => "list",
            Kind::Unanswerable => "unanswerable",
        }
    }
}

/// One question with its reference answer.
#[derive(Debug, Clone, Deserialize)]
pub struct QaQuestion {
    pub id: String,
    pub kind: Kind,
    pub question: String,
    /// Required parts, each a list of alternatives (empty for unanswerable questions).
    #[serde(default)]
    pub answer: Vec<Vec<String>>,
    /// A full reference answer, for people.
    pub reference: String,
    /// Exact quotes of the supporting text, one per fact.
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// A question with the 0-based pages its evidence is on.
#[derive(Debug, Clone)]
pub struct Located {
    pub question: QaQuestion,
    /// For each evidence quote, the pages it is on (never empty).
    pub support: Vec<Vec<u32>>,
}

impl Located {
    /// Every page holding some evidence.
    pub fn support_pages(&self) -> Vec<u32> {
        let mut pages: Vec<u32> = self.support.iter().flatten().copied().collect();
        pages.sort_unstable();
        pages.dedup();
        pages
    }
}

/// Loads every `*.json` of `dir`, checked: unique ids, answers and evidence where they
/// belong.
pub fn load(dir: &Path) -> Result<Vec<QaFile>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("read the questions folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("no question files (*.json) in {}", dir.display());
    }
    let mut files = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
        let file: QaFile = serde_json::from_str(&text).with_context(|| format!("parse {}", path.display()))?;
        for q in &file.questions {
            if !ids.insert(q.id.clone()) {
                bail!("{}: question id {} is used twice", path.display(), q.id);
            }
            let answerable = q.kind != Kind::Unanswerable;
            if answerable && (q.answer.is_empty() || q.answer.iter().any(|p| p.iter().all(|a| normalise(a).is_empty())))
            {
                bail!("{}: {} needs an answer with at least one alternative per part", path.display(), q.id);
            }
            if answerable && q.evidence.is_empty() {
                bail!("{}: {} needs evidence", path.display(), q.id);
            }
            if !answerable && (!q.answer.is_empty() || !q.evidence.is_empty()) {
                bail!("{}: {} is unanswerable and must have no answer or evidence", path.display(), q.id);
            }
        }
        files.push(file);
    }
    Ok(files)
}

/// Finds each question's evidence in `pages` (the document's page texts in order).
///
/// # Errors
///
/// A quote found on no page: the question file and the extraction disagree, and the
/// question could not be scored.
pub fn locate(file: &QaFile, pages: &[String]) -> Result<Vec<Located>> {
    let squeezed: Vec<String> = pages.iter().map(|p| squeeze(p)).collect();
    let mut out = Vec::new();
    for q in &file.questions {
        let mut support = Vec::new();
        for quote in &q.evidence {
            let needle = squeeze(quote);
            if needle.len() < 12 {
                bail!("{}: the evidence quote {quote:?} is too short to locate", q.id);
            }
            let on: Vec<u32> =
                squeezed.iter().enumerate().filter(|(_, p)| p.contains(&needle)).map(|(i, _)| i as u32).collect();
            if on.is_empty() {
                bail!(
                    "{} ({}): the evidence quote {quote:?} is on no page of the extracted text",
                    q.id,
                    file.document.file
                );
            }
            support.push(on);
        }
        out.push(Located { question: q.clone(), support });
    }
    Ok(out)
}

/// Text reduced to its ASCII letters and digits, lower-cased, after compatibility
/// normalisation (ligatures, full-width forms): how evidence quotes are matched, so that
/// spacing, punctuation, line-end hyphenation and ligatures do not matter.
pub fn squeeze(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfkc().flat_map(char::to_lowercase).filter(char::is_ascii_alphanumeric).collect()
}

/// Text as answers are compared: compatibility-normalised, lower-cased, every run of
/// characters other than letters, digits and `_` one space (a `-` that starts a word, as
/// in a command's option `-e` or `--norc`, is kept), with a space at each end so that
/// alternatives match whole words (`" 3 "` is not found in `" 32 "`, `" profile "` not in
/// `" bash_profile "`).
pub fn normalise(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let chars: Vec<char> = text.nfkc().flat_map(char::to_lowercase).collect();
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for (i, &c) in chars.iter().enumerate() {
        // An option's dashes: the first character after them is a letter or digit.
        let next_is_word = chars[i + 1..].iter().find(|&&n| n != '-').is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() || c == '_' || (c == '-' && (out.ends_with(' ') || out.ends_with('-')) && next_is_word) {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    if out.trim().is_empty() {
        String::new()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_found_across_spacing_hyphenation_and_ligatures() {
        let pages = vec![
            "Nothing here.".to_owned(),
            "The \u{FB01}rst cylin-\nder fell on Horsell  Common, near Woking.".to_owned(),
        ];
        let file = QaFile {
            document: QaDocument {
                file: "b.pdf".into(),
                title: "B".into(),
                kind: "novel".into(),
                source: "s".into(),
                licence: "l".into(),
            },
            questions: vec![QaQuestion {
                id: "b-1".into(),
                kind: Kind::Fact,
                question: "Where did the first cylinder fall?".into(),
                answer: vec![vec!["Horsell Common".into()]],
                reference: "On Horsell Common.".into(),
                evidence: vec!["first cylinder fell on Horsell Common".into()],
            }],
        };
        let located = locate(&file, &pages).unwrap();
        assert_eq!(located[0].support, vec![vec![1]]);
        let mut missing = file.clone();
        missing.questions[0].evidence = vec!["the second cylinder fell on Woking".into()];
        assert!(locate(&missing, &pages).is_err());
    }

    #[test]
    fn normalised_text_keeps_word_boundaries() {
        assert_eq!(normalise("The set -e option!"), " the set -e option ");
        assert_eq!(normalise("non-interactive --norc - x"), " non interactive --norc x ");
        assert!(!normalise("~/.bash_profile").contains(&normalise("~/.profile")));
        assert!(normalise("It has 32 pages").contains(&normalise("32")));
        assert!(!normalise("It has 32 pages").contains(&normalise("3")));
        assert_eq!(normalise(" -- "), "");
    }
}
