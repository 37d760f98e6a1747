//! The model-facing step of an answer: one turn evaluated in a session that already holds
//! what the model should know (a restored memory, or nothing), streamed through the
//! citation filter and the attribution of uncited sentences. Reused by the corpus combiner
//! and the evaluation's full-attention baseline.

use std::time::Instant;

use seahorse_engine::{CancelToken, Event, GenerateOptions};

use crate::attribute::Attributor;
use crate::citations::{tidy, CitablePage, CitablePages, Citation, CitationFilter};
use crate::document::ms;
use crate::error::Result;
use crate::prompt::{self, GivenPassage};

/// One turn to answer in a session that already holds what the model should know.
#[derive(Debug)]
pub struct Turn<'a> {
    /// Instructions.
    pub system: &'a str,
    /// Earlier (question, answer) pairs.
    pub history: &'a [(String, String)],
    /// Passages placed before the question.
    pub passages: &'a [GivenPassage],
    /// The question.
    pub question: &'a str,
    /// What the answer may cite.
    pub citable: &'a CitablePages,
    /// The text the model was given of each citable page (for citing sentences the model
    /// left uncited).
    pub sources: &'a [(CitablePage, String)],
    /// Longest answer in tokens.
    pub max_tokens: usize,
    /// CPU threads.
    pub n_threads: Option<i32>,
    /// Stops the answer.
    pub cancel: &'a CancelToken,
}

/// What [`answer_in_session`] produced.
#[derive(Debug)]
pub struct Spoken {
    /// The generation (stop reason, token counts, times).
    pub generation: seahorse_engine::Generation,
    /// The answer as shown (validated citations only, tidied).
    pub text: String,
    /// Its citations: validated ones the model wrote, then attributed ones.
    pub citations: Vec<Citation>,
    /// Citation spans the model made up (removed).
    pub dropped: Vec<String>,
    /// Citation spans of given pages that do not support their sentence (removed).
    pub unsupported: Vec<String>,
    /// From `started` to the first piece shown.
    pub first_token_ms: Option<f64>,
}

/// Evaluates `turn` after whatever `session` holds and streams the answer through a
/// [`CitationFilter`] and the attribution of uncited sentences.
///
/// # Errors
///
/// [`crate::Error::Engine`].
pub fn answer_in_session(
    session: &mut seahorse_engine::Session<'_>,
    turn: &Turn<'_>,
    started: Instant,
    mut on_text: impl FnMut(&str),
) -> Result<Spoken> {
    let model = session.model();
    let text = prompt::render(model, turn.system, turn.history, turn.passages, turn.question)?;
    let tokens = model.tokenize(&text);
    let gen_options = GenerateOptions {
        max_tokens: turn.max_tokens,
        n_threads: turn.n_threads,
        cancel: turn.cancel.clone(),
        ..GenerateOptions::default()
    };
    let mut filter = CitationFilter::new(turn.citable).with_support(turn.sources);
    let mut attributor = Attributor::new(turn.sources);
    let mut shown = String::new();
    let mut first_token_ms = None;
    let mut emit = |out: String, shown: &mut String| {
        if !out.is_empty() {
            first_token_ms.get_or_insert_with(|| ms(started.elapsed()));
            shown.push_str(&out);
            on_text(&out);
        }
    };
    let generation = session.generate(0, &tokens, &gen_options, |event| {
        if let Event::Text(piece) = event {
            let out = attributor.push(&filter.push(piece));
            emit(out, &mut shown);
        }
    })?;
    let mut rest = attributor.push(&filter.finish());
    rest.push_str(&attributor.finish());
    emit(rest, &mut shown);
    filter.citations.append(&mut attributor.citations);
    Ok(Spoken {
        generation,
        text: tidy(shown.trim()),
        citations: filter.citations,
        dropped: filter.dropped,
        unsupported: filter.unsupported,
        first_token_ms,
    })
}
