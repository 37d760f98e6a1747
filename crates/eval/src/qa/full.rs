//! Full attention where it fits: the model reads a whole document (with its page markers,
//! as the memory pass reads it) in one context of stock llama.cpp attention, then answers
//! each question from a restored copy of that context. It is the baseline the window, the
//! memory and the passages are measured against; nothing is retrieved and nothing is
//! withheld (the grounding checks judge answers against what was given, here the whole
//! document). A document that with the question and answer would not fit in the context the
//! model was trained for is not asked, and the report says so.

use std::path::Path;

use anyhow::{Context, Result};
use seahorse_engine::{Model, ModelOptions};
use seahorse_library::Library;

use super::{Mode, Reading, Report, Scored, Skipped, Stored};
use crate::full_attention::{FullAttention, TURN_TOKENS};

/// Reads each document of `stored` that fits with full attention and answers its questions.
pub(super) fn answer_all(
    model_path: &Path,
    model_id: &str,
    library: &Library,
    stored: &[Stored],
    max_tokens: usize,
    report: &mut Report,
) -> Result<()> {
    let model = Model::load(model_path, &ModelOptions::default())
        .with_context(|| format!("load {} for full attention", model_path.display()))?;
    let limit = model.info().n_ctx_train as usize;
    for s in stored {
        let file = &s.file.document.file;
        let tokens = library.document_tokens(&model, s.doc, 0..u64::MAX)?;
        if tokens.len() + TURN_TOKENS > limit {
            let why = format!(
                "{} tokens and {TURN_TOKENS} for the question and answer exceed the {limit} {model_id} was trained for",
                tokens.len()
            );
            eprintln!("  {model_id} full attention: {file} not asked ({why})");
            report.skipped.push(Skipped { model: model_id.to_owned(), mode: Mode::Full, file: file.clone(), why });
            continue;
        }
        eprintln!("{model_id}: reading {file} with full attention ({} tokens)…", tokens.len());
        let read = FullAttention::read(&model, library, s.doc, &tokens)?;
        report.readings.push(Reading {
            model: model_id.to_owned(),
            file: file.clone(),
            tokens: read.tokens as u64,
            seconds: read.seconds,
            full_attention: true,
        });
        for q in &s.questions {
            let (spoken, total_ms) = read.answer(&model, &q.question.question, max_tokens)?;
            let scored = Scored {
                dropped: spoken.dropped.len(),
                unsupported: spoken.unsupported.len(),
                prompt_tokens: spoken.generation.prompt_tokens,
                first_token_ms: spoken.first_token_ms.unwrap_or(total_ms),
                total_ms,
                ..Scored::shown(model_id, Mode::Full, s, q, &spoken.text, &spoken.citations, false)
            };
            super::log_answer(&scored);
            report.answers.push(scored);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{run, Inputs, Settings};
    use super::*;

    fn question_file(file: &str, id: &str, question: &str, answer: &str, evidence: &str) -> String {
        serde_json::json!({
            "document": {"file": file, "title": file, "kind": "test", "source": "written for this test", "licence": "CC0"},
            "questions": [
                {"id": id, "kind": "fact", "question": question, "answer": [[answer]], "reference": answer, "evidence": [evidence]},
                {"id": format!("{id}-u"), "kind": "unanswerable", "question": "What did the harbour master eat on Sundays?",
                 "answer": [], "reference": "The document does not say.", "evidence": []}
            ]
        })
        .to_string()
    }

    /// A short document is read whole and its questions answered from it with full
    /// attention (the answer needs the document: nothing is retrieved); a document longer
    /// than the model's trained context is not asked, and the report says why.
    #[test]
    fn full_attention_answers_from_the_whole_document_where_it_fits() {
        let models = seahorse_models::cache_dir_in(|k| std::env::var_os(k));
        let spec = seahorse_models::ModelSpec::by_id("qwen2.5-coder-0.5b").unwrap();
        assert!(seahorse_models::locate(spec, &models).is_some(), "run `seahorse models fetch` first");
        let dir = tempfile::tempdir().unwrap();
        let (books, questions) = (dir.path().join("books"), dir.path().join("questions"));
        std::fs::create_dir_all(&books).unwrap();
        std::fs::create_dir_all(&questions).unwrap();
        std::fs::write(
            books.join("keeper.txt"),
            "The Keeper of Gull Point\n\nTamsin Rowe kept the lighthouse at Gull Point for forty years. \
             Every morning she rowed out to check the nets.\n\nHer boat was painted green, and she named it \
             Marigold after her mother's garden.\n\nIn winter the lamp burned oil brought from the mainland.\n",
        )
        .unwrap();
        let ledger: String =
            (1..=3000).map(|i| format!("Entry {i} of the ledger records a crate of iron nails.\n")).collect();
        std::fs::write(books.join("ledger.txt"), ledger).unwrap();
        let keeper = question_file(
            "keeper.txt",
            "keeper-01",
            "What name did Tamsin Rowe give her boat?",
            "Marigold",
            "she named it Marigold after her mother's garden",
        );
        std::fs::write(questions.join("keeper.json"), keeper).unwrap();
        let ledger = question_file(
            "ledger.txt",
            "ledger-01",
            "What does entry 7 of the ledger record?",
            "nails",
            "Entry 7 of the ledger records a crate of iron nails",
        );
        std::fs::write(questions.join("ledger.json"), ledger).unwrap();
        let settings = Settings {
            window: 1024,
            sinks: 64,
            block: None,
            models: vec!["qwen2.5-coder-0.5b".into()],
            modes: vec![Mode::Full],
            per_document: None,
            max_tokens: 48,
        };
        let work = dir.path().join("work");
        let inputs = Inputs { questions: &questions, books: &books, models: &models, work: &work };
        let report = run(&inputs, &settings, false).unwrap();

        let asked: Vec<&Scored> = report.answers.iter().collect();
        assert_eq!(asked.len(), 2, "only the document that fits is asked: {asked:?}");
        assert!(asked.iter().all(|a| a.mode == Mode::Full && a.file == "keeper.txt" && a.passage_pages.is_empty()));
        let fact = asked.iter().find(|a| a.id == "keeper-01").unwrap();
        assert!(fact.correct, "{fact:?}");
        assert!(fact.prompt_tokens > 0 && fact.prompt_tokens < 200, "only the turn is evaluated: {fact:?}");
        let read: Vec<&Reading> = report.readings.iter().collect();
        assert_eq!(read.len(), 1);
        assert!(read[0].full_attention && read[0].file == "keeper.txt" && read[0].tokens > 40, "{read:?}");
        assert_eq!(report.skipped.len(), 1);
        let skipped = &report.skipped[0];
        assert_eq!((skipped.file.as_str(), skipped.mode), ("ledger.txt", Mode::Full));
        assert!(skipped.why.contains("trained for"), "{}", skipped.why);
        let md = super::super::report::markdown(&report, "qa-test");
        assert!(md.contains("ledger.txt: ") && md.contains("| full attention |"), "{md}");
        assert!(md.contains("`docs/eval/qa-test.json`") && md.contains("about two real"), "{md}");
    }
}
