//! `seahorse-eval qa --rescore`: the stored answers of a report scored again, after a fix
//! to the scoring or to the reference alternatives, or withheld and shown again by the
//! certainty measured when they were made, after a change to a certainty limit.

use std::path::Path;

use anyhow::{Context, Result};
use seahorse_ask::grounding;

use super::dataset::{self, Located};
use super::{score, shown_correct, unsure_below, Mode, Report, Scored};

/// Scores the stored answers of `report` again with the question files in `questions`
/// (after a fix to the scoring or to the reference alternatives: answers need not be made
/// again). Citation support is kept as measured. Returns how many verdicts changed.
pub fn rescore(report: &mut Report, questions: &Path) -> Result<usize> {
    let files = dataset::load(questions)?;
    let mut changed = 0;
    for a in &mut report.answers {
        let q = files
            .iter()
            .flat_map(|f| &f.questions)
            .find(|q| q.id == a.id)
            .with_context(|| format!("{} is in the report but in no question file", a.id))?;
        let located = Located { question: q.clone(), support: vec![a.support_pages.clone()] };
        let correct = shown_correct(&located, &a.answer, a.withheld.is_some());
        changed += (correct != a.correct) as usize;
        a.correct = correct;
        a.abstained = score::abstains(&a.answer);
        a.reference = q.reference.clone();
        if let Some(w) = &mut a.withheld {
            let correct = score::correct(&located, &w.answer);
            changed += (correct != w.correct) as usize;
            w.correct = correct;
            w.abstained = score::abstains(&w.answer);
        }
        if let Some(r) = &mut a.relocated {
            r.correct = score::correct(&located, &r.answer);
        }
        changed += apply_certainty(a, &located) as usize;
    }
    Ok(changed)
}

/// Withholds or shows `a` again as `seahorse_ask::grounding` would now decide from the
/// certainty measured when it was made (after a change to [`grounding::MIN_LIFT`] or a
/// model's [`unsure_below`]: answers need not be made again). Answers withheld for
/// another reason stay withheld. Returns whether the verdict changed.
pub(super) fn apply_certainty(a: &mut Scored, q: &Located) -> bool {
    // A section named from the outline is not the model's words, and one named off a
    // passage's marker was given: not checked.
    let Some(confidence) = a.confidence.filter(|_| a.relocated.is_none() && !a.section_named) else { return false };
    let passages = a.mode != Mode::Memory;
    let unsure = passages && grounding::unsure(&confidence, unsure_below(&a.model));
    match &a.withheld {
        None if unsure && !grounding::says_not_found(&a.answer) => {
            let shown = grounding::Ungrounded::Unsure { mean_logprob: confidence.mean_logprob, lift: confidence.lift }
                .replacement();
            let before = a.correct;
            a.withhold(q, "unsure", shown);
            before != a.correct
        }
        Some(w) if w.reason == "unsure" && !unsure => {
            let before = a.correct;
            a.show();
            before != a.correct
        }
        _ => false,
    }
}
