//! `seahorse-eval qa --reground`: the stored answers of a report checked again by the
//! current [`grounding`] (after a change to what withholds an answer), without making them
//! again, and what the model reads measured again (`given`). Greedy answers are the same
//! run after run, and so are the passages given for a question (retrieval and the token
//! budget are deterministic); the passages are found again and each answer in passages
//! mode is checked against them, with the certainty measured when it was made.
//! Which-section answers named from the outline are left as they are (no check applies to
//! them); memory modes are left as they are (what the window held is not stored).

use anyhow::{bail, Result};
use seahorse_ask::grounding::{self, Given, Ungrounded};
use seahorse_ask::Asker;
use seahorse_engine::CancelToken;
use seahorse_library::{ReadOptions, Reader};

use super::dataset::{self, Located};
use super::{fresh_library, load_model, store_book, Inputs, Mode, Report};

/// The name of a reason in the report.
pub fn reason_name(reason: &Ungrounded) -> &'static str {
    match reason {
        Ungrounded::InventedFigures { .. } => "invented_figures",
        Ungrounded::FiguresOutOfContext { .. } => "figures_out_of_context",
        Ungrounded::InventedWords { .. } => "invented_words",
        Ungrounded::NotAbout { .. } => "not_about",
        Ungrounded::NoNumber => "no_number",
        Ungrounded::RestatesQuestion => "restates_question",
        Ungrounded::Unsure { .. } => "unsure",
    }
}

/// Checks the passages-mode answers of `report` again; returns how many were withheld or
/// shown differently than before.
pub fn reground(report: &mut Report, inputs: &Inputs<'_>) -> Result<usize> {
    let files = dataset::load(inputs.questions)?;
    let library = fresh_library(inputs.work)?;
    let cancel = CancelToken::new();
    let mut docs = Vec::new();
    for file in &files {
        let (_, doc) = store_book(&library, inputs.books, file, &cancel)?;
        let page_texts: Vec<String> = library.store().pages(doc)?.into_iter().map(|p| p.text).collect();
        docs.push((doc, dataset::locate(file, &page_texts)?));
    }
    let settings = report.settings.clone();
    let mut changed = 0;
    for model_id in &settings.models {
        let (model, memory) = load_model(inputs.models, &settings, model_id)?;
        let reader = Reader::new(&model, &memory, ReadOptions::default())?;
        let asker = Asker::new(&library, &reader);
        let options = super::ask_options(model_id, Mode::Passages, settings.max_tokens);
        if settings.models.first() == Some(model_id) {
            // What the model reads, measured as a run measures it.
            let questions = super::given::answerable(
                files.iter().zip(&docs).map(|(f, (doc, qs))| (f.document.file.as_str(), *doc, qs.as_slice())),
            );
            report.given = Some(super::given::measure(&asker, &options, &questions)?);
        }
        for a in report.answers.iter_mut().filter(|a| &a.model == model_id && a.mode == Mode::Passages) {
            if a.relocated.is_some() {
                continue;
            }
            let Some((doc, q)) =
                docs.iter().find_map(|(doc, qs)| qs.iter().find(|q| q.question.id == a.id).map(|q| (*doc, q)))
            else {
                bail!("{} is in the report but in no question file", a.id);
            };
            let passages = asker.passages_without_memory(doc, &q.question.question, &[], &options)?;
            let pages: Vec<u32> = passages.iter().map(|p| p.page_index).collect();
            if pages != a.passage_pages {
                bail!("{}: passages {pages:?} found now, {:?} when answered", a.id, a.passage_pages);
            }
            let texts: Vec<(&str, &str)> = passages.iter().map(|p| (p.page_label.as_str(), p.text.as_str())).collect();
            let sections: Vec<&str> = passages.iter().filter_map(|p| p.section.as_deref()).collect();
            let given = Given {
                question: &q.question.question,
                texts: &texts,
                sections: &sections,
                passages: true,
                confidence: a.confidence,
                min_mean_logprob: options.unsure_below,
            };
            let said = a.withheld.as_ref().map_or(&a.answer, |w| &w.answer);
            a.section_named = seahorse_ask::locate::names_given_section(&q.question.question, said, &sections);
            let verdict = grounding::check(said, &given);
            changed += apply(a, q, verdict) as usize;
        }
    }
    Ok(changed)
}

/// Shows or withholds what the model said for `a` as `verdict` says; whether that changed
/// what is shown.
fn apply(a: &mut super::Scored, q: &Located, verdict: Option<Ungrounded>) -> bool {
    let before = (a.answer.clone(), a.correct);
    match verdict {
        None => a.show(),
        Some(reason) => a.withhold(q, reason_name(&reason), reason.replacement()),
    }
    before != (a.answer.clone(), a.correct)
}
