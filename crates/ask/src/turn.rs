//! The model-facing step of an answer: one turn evaluated in a session that already holds
//! what the model should know (a restored memory, or nothing), streamed through the
//! citation filter and the attribution of uncited sentences. Reused by the corpus combiner
//! and the evaluation's full-attention baseline.

use std::time::Instant;

use seahorse_engine::{CancelToken, Event, GenerateOptions, StopReason};

use crate::attribute::Attributor;
use crate::citations::{tidy, CitablePage, CitablePages, Citation, CitationFilter};
use crate::document::ms;
use crate::error::Result;
use crate::prompt::{self, GivenPassage};

/// An answer whose last this-many tokens repeat an earlier run of it is stopped
/// ([`GenerateOptions::stop_repeating`]) and its repeated tail cut off: about a clause.
pub const REPEATED_RUN_TOKENS: usize = 20;

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
        stop_repeating: Some(REPEATED_RUN_TOKENS),
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
    let mut text = tidy(shown.trim());
    let mut citations = filter.citations;
    if generation.stop == StopReason::Repeating {
        // Shown already, the repetition is replaced by the answer without it.
        text = without_repeated_tail(&text).trim_end().to_owned();
        citations = still_in(&text, citations);
    }
    Ok(Spoken { generation, text, citations, dropped: filter.dropped, unsupported: filter.unsupported, first_token_ms })
}

/// `text` without its longest tail that also occurs earlier in it (at least
/// [`MIN_REPEATED_CHARS`] long): "A. B. A. B" → "A. B.". `text` itself if none does.
fn without_repeated_tail(text: &str) -> &str {
    for (start, _) in text.char_indices() {
        let tail = &text[start..];
        if tail.len() < MIN_REPEATED_CHARS {
            break;
        }
        if text.find(tail).is_some_and(|first| first < start) {
            return &text[..start];
        }
    }
    text
}

/// The shortest repeated tail [`without_repeated_tail`] cuts: a few words.
const MIN_REPEATED_CHARS: usize = 16;

/// The `citations` whose text is still in `text` (each occurrence kept once, in order).
fn still_in(text: &str, citations: Vec<Citation>) -> Vec<Citation> {
    let mut kept: Vec<Citation> = Vec::new();
    for c in citations {
        let shown = text.matches(c.text.as_str()).count();
        if kept.iter().filter(|k| k.text == c.text).count() < shown {
            kept.push(c);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_tail_is_cut() {
        let once = "The morefloats package raises the limit. [p. 43]";
        let text = format!("{once} This package helps. {once} This package helps. {once} This pack");
        assert_eq!(without_repeated_tail(&text).trim_end(), format!("{once} This package helps."));
        assert_eq!(
            without_repeated_tail("No repetition in this answer at all."),
            "No repetition in this answer at all."
        );
        // A short echo ("set x … set y") is not a repetition.
        assert_eq!(without_repeated_tail("Use set xtics, then set ytics"), "Use set xtics, then set ytics");
    }

    #[test]
    fn citations_cut_with_the_tail_go() {
        let c = |text: &str| Citation { text: text.into(), pages: Vec::new(), attributed: false };
        let kept = still_in("A [p. 4]. B [p. 5].", vec![c("[p. 4]"), c("[p. 5]"), c("[p. 4]"), c("[p. 6]")]);
        let texts: Vec<&str> = kept.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["[p. 4]", "[p. 5]"]);
    }
}
