//! A scored answer: what was shown for a question, whether it is right, whether it
//! abstains, and how many of its citations support it; the model's own answer beside it
//! where Seahorse withheld it or named a section instead.

use seahorse_ask::citations::Citation;
use seahorse_ask::selfcheck::Confidence;
use serde::{Deserialize, Serialize};

use super::dataset::{Kind, Located};
use super::{score, Mode, Stored};

/// One answer, scored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scored {
    pub model: String,
    pub mode: Mode,
    pub id: String,
    pub file: String,
    pub kind: Kind,
    pub correct: bool,
    pub abstained: bool,
    pub answer: String,
    /// The reference answer.
    pub reference: String,
    /// Pages cited (kept citations), and how many of them support the answer.
    pub cited: usize,
    pub cited_supporting: usize,
    /// Citations removed because they named a page the model was not given.
    pub dropped: usize,
    /// Citations removed because the page named does not support the sentence.
    pub unsupported: usize,
    /// 0-based pages of the passages given, and the supporting pages.
    pub passage_pages: Vec<u32>,
    pub support_pages: Vec<u32>,
    pub prompt_tokens: usize,
    pub first_token_ms: f64,
    pub total_ms: f64,
    /// The model's own answer when Seahorse withheld it (`seahorse_ask::grounding`), scored
    /// the same way; `answer` is then the "do not say" shown instead.
    #[serde(default)]
    pub withheld: Option<WithheldScore>,
    /// How sure the model was of its answer (`seahorse_ask::selfcheck`), and the time
    /// asking it took.
    #[serde(default)]
    pub confidence: Option<Confidence>,
    #[serde(default)]
    pub check_ms: f64,
    /// The model's own answer to a which-section question when Seahorse named the section
    /// of the passage it pointed at instead (`seahorse_ask::locate`).
    #[serde(default)]
    pub relocated: Option<RelocatedScore>,
    /// The answer names the section of a passage given, asked which section: how sure the
    /// model was does not withhold it (`seahorse_ask::locate::names_given_section`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub section_named: bool,
}

/// The model's own answer to a which-section question, replaced by a section of the
/// outline, scored as if it had been shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RelocatedScore {
    pub answer: String,
    pub correct: bool,
    /// Whether the model pointed at the page (else the passage holding the question was
    /// taken).
    pub pointed: bool,
}

/// A withheld answer, scored as if it had been shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WithheldScore {
    /// Why: "not_about", "invented_figures", "invented_words", "restates_question" or
    /// "unsure".
    pub reason: String,
    pub answer: String,
    pub correct: bool,
    pub abstained: bool,
    pub cited: usize,
    pub cited_supporting: usize,
}

impl Scored {
    /// This answer as the model made it, with nothing withheld.
    pub fn as_answered(&self) -> Scored {
        let mut a = self.clone();
        a.show();
        a
    }

    /// Shows what the model said again, if it was withheld.
    pub fn show(&mut self) {
        if let Some(w) = self.withheld.take() {
            self.answer = w.answer;
            self.correct = w.correct;
            self.abstained = w.abstained;
            self.cited = w.cited;
            self.cited_supporting = w.cited_supporting;
        }
    }

    /// Withholds what the model said for `reason`, showing `shown` in its place (an answer
    /// withheld already keeps its scores as made, under the new reason).
    pub fn withhold(&mut self, q: &Located, reason: &str, shown: String) {
        let said = self.withheld.take().unwrap_or_else(|| WithheldScore {
            reason: String::new(),
            answer: std::mem::take(&mut self.answer),
            correct: self.correct,
            abstained: self.abstained,
            cited: self.cited,
            cited_supporting: self.cited_supporting,
        });
        self.withheld = Some(WithheldScore { reason: reason.to_owned(), ..said });
        self.answer = shown;
        self.correct = shown_correct(q, &self.answer, true);
        self.abstained = score::abstains(&self.answer);
        self.cited = 0;
        self.cited_supporting = 0;
    }
}

/// Whether the answer shown is right: a withheld answer (Seahorse's "the passages do not
/// say", which may quote the model's figure) never answers an answerable question.
pub(super) fn shown_correct(q: &Located, shown: &str, withheld: bool) -> bool {
    score::correct(q, shown) && !(withheld && q.question.kind != Kind::Unanswerable)
}

impl Scored {
    /// The answer `shown` to `q` (about `s`) with its `citations`, scored; `withheld`: it
    /// stands in for the model's answer. What the run measured besides (citations removed,
    /// passages, timings, certainty) is left empty for the caller to fill.
    pub(super) fn shown(
        model: &str,
        mode: Mode,
        s: &Stored,
        q: &Located,
        shown: &str,
        citations: &[Citation],
        withheld: bool,
    ) -> Scored {
        let (cited, cited_supporting) = citation_support(s, q, citations);
        Scored {
            model: model.to_owned(),
            mode,
            id: q.question.id.clone(),
            file: s.file.document.file.clone(),
            kind: q.question.kind,
            correct: shown_correct(q, shown, withheld),
            abstained: score::abstains(shown),
            answer: shown.to_owned(),
            reference: q.question.reference.clone(),
            cited,
            cited_supporting,
            dropped: 0,
            unsupported: 0,
            passage_pages: Vec::new(),
            support_pages: q.support_pages(),
            prompt_tokens: 0,
            first_token_ms: 0.0,
            total_ms: 0.0,
            withheld: None,
            confidence: None,
            check_ms: 0.0,
            relocated: None,
            section_named: false,
        }
    }
}

/// Pages cited, and how many of them support the answer to `q` (none counted for an
/// unanswerable question: no page supports an answer to it).
pub(super) fn citation_support(s: &Stored, q: &Located, citations: &[Citation]) -> (usize, usize) {
    if q.question.kind == Kind::Unanswerable {
        return (0, 0);
    }
    let mut cited = 0;
    let mut supporting = 0;
    for p in citations.iter().flat_map(|c| &c.pages) {
        cited += 1;
        let text = s.page_texts.get(p.page_index as usize).map_or("", String::as_str);
        supporting += score::page_supports(q, p.page_index, text) as usize;
    }
    (cited, supporting)
}
