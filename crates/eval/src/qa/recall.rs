//! Retrieval quality: how often a page that supports the answer is among the first k
//! passages found for a question (recall@k), for every retriever side by side.

use anyhow::Result;
use seahorse_ask::retrieve::{candidates_ranked, PASSAGE_CHARS};
use seahorse_library::{DocId, Library, Ranking};
use serde::{Deserialize, Serialize};

use super::dataset::{Kind, Located};

/// The cut-offs reported.
pub const KS: [usize; 5] = [1, 3, 6, 10, 20];

/// A way of finding passages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retriever {
    /// BM25 over every word of the question (the first ranking).
    Words,
    /// What asking uses: every word as written and stemmed, neighbours as phrases.
    Question,
}

impl Retriever {
    pub const ALL: [Retriever; 2] = [Retriever::Words, Retriever::Question];

    pub fn name(self) -> &'static str {
        match self {
            Retriever::Words => "before: BM25 over every word of the question",
            Retriever::Question => "now: every word exact + stemmed (0.3), neighbouring words as phrases (0.5)",
        }
    }

    fn ranking(self) -> Ranking {
        match self {
            Retriever::Words => Ranking::Words,
            Retriever::Question => Ranking::Question,
        }
    }

    /// The pages of the passages found, best first (a page once per passage).
    fn pages(self, library: &Library, doc: DocId, question: &str, limit: usize) -> Result<Vec<u32>> {
        Ok(candidates_ranked(library, self.ranking(), doc, question, None, limit, PASSAGE_CHARS)?
            .into_iter()
            .map(|c| c.page_index)
            .collect())
    }
}

/// Recall of one retriever.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecallRow {
    pub retriever: String,
    pub ks: Vec<usize>,
    /// Questions asked (answerable ones).
    pub questions: usize,
    /// For each k: questions with a supporting page among the first k passages.
    pub hits: Vec<usize>,
    /// For each k: questions with every fact's page among the first k (multi-hop needs all).
    pub all_hits: Vec<usize>,
    /// Per document: (file, questions, hits for each k).
    pub by_document: Vec<(String, usize, Vec<usize>)>,
    /// Per question kind: (kind, questions, hits for each k).
    pub by_kind: Vec<(Kind, usize, Vec<usize>)>,
    /// Milliseconds per question (mean).
    pub mean_ms: f64,
}

impl RecallRow {
    pub fn summary(&self) -> String {
        self.ks
            .iter()
            .zip(&self.hits)
            .map(|(k, h)| format!("@{k} {:.1} %", 100.0 * *h as f64 / self.questions.max(1) as f64))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Measures `retriever` on `questions` (file, document, question).
pub fn measure(library: &Library, retriever: Retriever, questions: &[(&str, DocId, &Located)]) -> Result<RecallRow> {
    let mut row = RecallRow {
        retriever: retriever.name().to_owned(),
        ks: KS.to_vec(),
        questions: 0,
        hits: vec![0; KS.len()],
        all_hits: vec![0; KS.len()],
        by_document: Vec::new(),
        by_kind: Vec::new(),
        mean_ms: 0.0,
    };
    let started = std::time::Instant::now();
    let max_k = *KS.iter().max().unwrap_or(&1);
    for &(file, doc, q) in questions {
        let pages = retriever.pages(library, doc, &q.question.question, max_k)?;
        row.questions += 1;
        let by_doc = match row.by_document.iter().position(|(f, _, _)| f == file) {
            Some(i) => i,
            None => {
                row.by_document.push((file.to_owned(), 0, vec![0; KS.len()]));
                row.by_document.len() - 1
            }
        };
        let by_kind = match row.by_kind.iter().position(|(k, _, _)| *k == q.question.kind) {
            Some(i) => i,
            None => {
                row.by_kind.push((q.question.kind, 0, vec![0; KS.len()]));
                row.by_kind.len() - 1
            }
        };
        row.by_document[by_doc].1 += 1;
        row.by_kind[by_kind].1 += 1;
        for (i, &k) in KS.iter().enumerate() {
            let first = &pages[..k.min(pages.len())];
            let any = q.support.iter().flatten().any(|p| first.contains(p));
            let all = q.support.iter().all(|on| on.iter().any(|p| first.contains(p)));
            if any {
                row.hits[i] += 1;
                row.by_document[by_doc].2[i] += 1;
                row.by_kind[by_kind].2[i] += 1;
            }
            if all {
                row.all_hits[i] += 1;
            }
        }
    }
    row.by_kind.sort_by_key(|(k, _, _)| *k);
    row.mean_ms = started.elapsed().as_secs_f64() * 1e3 / row.questions.max(1) as f64;
    Ok(row)
}
