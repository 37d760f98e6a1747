//! What the model is given: how often the passages placed in the window for a question
//! (the excerpts asking cuts from the hits, within the window's token budget; not the whole
//! pages they come from) hold the question's evidence and the words of its answer. Recall@k
//! counts a page as found when any passage of it is; this counts what the model can read.

use anyhow::Result;
use seahorse_ask::{AskOptions, Asker};
use seahorse_library::DocId;
use serde::{Deserialize, Serialize};

use super::dataset::{squeeze, Kind, Located};
use super::score::has_parts;

/// The passages given for the answerable questions, in passages mode.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GivenRow {
    /// Answerable questions.
    pub questions: usize,
    /// Questions with every evidence quote whole in one of the passages given.
    pub evidence: usize,
    /// Questions whose reference answer (every required part) is in the passages given.
    pub answer: usize,
    /// Questions with a supporting page among the passages given (recall of the plan).
    pub page: usize,
    /// Per kind: (kind, questions, supporting page, evidence, answer).
    pub by_kind: Vec<(Kind, usize, usize, usize, usize)>,
    /// Mean passages given, and their mean tokens.
    pub mean_passages: f64,
    pub mean_tokens: f64,
    /// Questions whose answer is not in the passages given.
    pub answer_missing: Vec<String>,
}

/// Whether the passages `texts` hold every evidence quote of `q` (each whole in one
/// passage), and whether they hold its reference answer.
pub fn holds(q: &Located, texts: &[&str]) -> (bool, bool) {
    let squeezed: Vec<String> = texts.iter().map(|t| squeeze(t)).collect();
    let evidence = q.question.evidence.iter().all(|quote| {
        let needle = squeeze(quote);
        squeezed.iter().any(|t| t.contains(&needle))
    });
    let answer = has_parts(&q.question.answer, &texts.join("\n"));
    (evidence, answer)
}

/// The answerable questions of `documents` (file, document, its questions), as
/// [`measure`] and recall take them.
pub fn answerable<'a>(
    documents: impl IntoIterator<Item = (&'a str, DocId, &'a [Located])>,
) -> Vec<(&'a str, DocId, &'a Located)> {
    documents
        .into_iter()
        .flat_map(|(file, doc, qs)| {
            qs.iter().filter(|q| q.question.kind != Kind::Unanswerable).map(move |q| (file, doc, q))
        })
        .collect()
}

/// Measures the passages `asker` gives for each of `questions` (file, document, question)
/// with `options` (no memory).
pub fn measure(asker: &Asker<'_>, options: &AskOptions, questions: &[(&str, DocId, &Located)]) -> Result<GivenRow> {
    let mut row = GivenRow::default();
    let (mut passages, mut tokens) = (0usize, 0usize);
    for &(_, doc, q) in questions {
        let given = asker.passages_without_memory(doc, &q.question.question, &[], options)?;
        // The model reads each passage's section after its page marker.
        let texts: Vec<String> =
            given.iter().map(|p| format!("{}\n{}", p.section.as_deref().unwrap_or_default(), p.text)).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let (evidence, answer) = holds(q, &texts);
        let page = given.iter().any(|p| q.support.iter().flatten().any(|&s| s == p.page_index));
        row.questions += 1;
        row.evidence += evidence as usize;
        row.answer += answer as usize;
        row.page += page as usize;
        passages += given.len();
        tokens += given.iter().map(|p| p.tokens).sum::<usize>();
        if !answer {
            row.answer_missing.push(q.question.id.clone());
        }
        let i = match row.by_kind.iter().position(|(k, ..)| *k == q.question.kind) {
            Some(i) => i,
            None => {
                row.by_kind.push((q.question.kind, 0, 0, 0, 0));
                row.by_kind.len() - 1
            }
        };
        row.by_kind[i].1 += 1;
        row.by_kind[i].2 += page as usize;
        row.by_kind[i].3 += evidence as usize;
        row.by_kind[i].4 += answer as usize;
    }
    row.by_kind.sort_by_key(|(k, ..)| *k);
    row.mean_passages = passages as f64 / row.questions.max(1) as f64;
    row.mean_tokens = tokens as f64 / row.questions.max(1) as f64;
    Ok(row)
}

impl GivenRow {
    pub fn summary(&self) -> String {
        let pct = |n: usize| 100.0 * n as f64 / self.questions.max(1) as f64;
        format!(
            "supporting page {:.1} %, every evidence quote {:.1} %, the answer's words {:.1} % ({:.1} passages, {:.0} tokens)",
            pct(self.page),
            pct(self.evidence),
            pct(self.answer),
            self.mean_passages,
            self.mean_tokens
        )
    }
}

/// The section of `docs/qa-eval.md` on what the model is given, with how often each model
/// answered right when the reference answer was in its passages and when it was not.
pub fn table(md: &mut String, report: &super::Report) {
    use super::report::pct;
    use std::fmt::Write as _;
    let Some(g) = &report.given else { return };
    let _ = writeln!(
        md,
        "What the model reads: the passages placed in the window for each answerable question in passages \
         mode (the best fragment of each passage found, within half the window's tokens; {:.1} passages and \
         {:.0} tokens on average). Recall above counts a page as found when any passage of it is; here the passages \
         given must hold the words themselves (a section name counts: the model reads it after the page \
         marker).\n",
        g.mean_passages, g.mean_tokens
    );
    let _ = writeln!(md, "| | questions | a supporting page | every evidence quote | the reference answer's words |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    let _ = writeln!(
        md,
        "| all | {} | {} | {} | {} |",
        g.questions,
        pct(g.page, g.questions),
        pct(g.evidence, g.questions),
        pct(g.answer, g.questions)
    );
    for (kind, n, page, evidence, answer) in &g.by_kind {
        let _ = writeln!(
            md,
            "| *{}* | {n} | {} | {} | {} |",
            kind.name(),
            pct(*page, *n),
            pct(*evidence, *n),
            pct(*answer, *n)
        );
    }
    let _ = writeln!(md);
    let mut lines = Vec::new();
    let models = super::report::runs(report).into_iter().filter(|(_, mode)| *mode == super::Mode::Passages);
    for (model, _) in models {
        let answered: Vec<_> = report
            .answers
            .iter()
            .filter(|a| a.model == model && a.mode == super::Mode::Passages && a.kind != Kind::Unanswerable)
            .collect();
        let (missing, given): (Vec<_>, Vec<_>) = answered.iter().partition(|a| g.answer_missing.contains(&a.id));
        let right = |v: &[&&super::Scored]| v.iter().filter(|a| a.correct).count();
        lines.push(format!(
            "- {model}: {} right where the answer was given ({} of {}), {} where it was not ({} of {}).",
            pct(right(&given), given.len()),
            right(&given),
            given.len(),
            pct(right(&missing), missing.len()),
            right(&missing),
            missing.len()
        ));
    }
    if !lines.is_empty() {
        let _ = writeln!(md, "{}\n", lines.join("\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::super::dataset::QaQuestion;
    use super::*;

    #[test]
    fn evidence_must_be_whole_in_one_passage_and_the_answer_anywhere() {
        let q = Located {
            question: QaQuestion {
                id: "t-1".into(),
                kind: Kind::MultiHop,
                question: "?".into(),
                answer: vec![vec!["Stent".into()], vec!["Ogilvy".into()]],
                reference: String::new(),
                evidence: vec!["Stent, the Astronomer Royal".into(), "met Ogilvy at Ottershaw".into()],
            },
            support: vec![vec![1], vec![2]],
        };
        let both = ["It was Stent,\nthe astronomer royal.", "I met Ogilvy at Ottershaw."];
        assert_eq!(holds(&q, &both), (true, true));
        let cut = ["It was Stent, the Astronomer", "Royal. I met Ogilvy at Ottershaw."];
        assert_eq!(holds(&q, &cut), (false, true), "a quote cut between passages is not given");
        assert_eq!(holds(&q, &both[..1]), (false, false));
    }
}
