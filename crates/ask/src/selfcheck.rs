//! How sure the model is of its answer. Small models rarely say "the document does not
//! say": asked what the passages do not contain, they answer anyway, fluently and with a
//! citation. Two signals, measured after every answer, tell such answers apart from the
//! ones the passages gave (`docs/qa-eval.md` measures how well):
//!
//! - **certainty**: the mean natural-log probability the model gave the words it chose
//!   ([`seahorse_engine::Generation::token_logprobs`]). Invented names, figures and
//!   versions are picked among several candidates; words read off a passage are not.
//! - **lift**: how much more probable the passages made the answer's words than the
//!   question alone does. The answer is evaluated once more after the question without the
//!   passages (or memory), in a fresh session, and the mean difference of its tokens'
//!   log-probabilities is taken; only the rows that predict the answer's tokens are
//!   computed. It runs after the answer has streamed, nothing before the first token: a
//!   median 0.85 s (0.5B) and 1.8 s (1.5B) on 2 cores over the QA benchmark's which-section
//!   questions (1.2 s and 2.2 s when every position's row was computed; `check_ms`). Words
//!   copied from a passage gain much; an answer the model would have given without reading
//!   ("the narrator's name is John") gains little.
//!
//! Asking the model itself whether the passages state its answer was tried and dropped:
//! both catalogue models say "yes" with about the same probability to right answers and
//! to inventions (`docs/qa-eval.md`).
//!
//! [`crate::grounding`] withholds an answer the model is unsure of.

use seahorse_engine::{log_softmax_at, CancelToken, Generation, Logits, Session, StopReason};

use crate::prompt;
use crate::turn::Turn;

/// What was measured of an answer's certainty.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Confidence {
    /// Mean natural-log probability of the answer's tokens (0 for an empty answer).
    pub mean_logprob: f32,
    /// The least probable token's natural-log probability (0 for an empty answer).
    pub min_logprob: f32,
    /// Mean over the answer's tokens of ln P(token | what the model was given) −
    /// ln P(token | the question alone). `None` where not measured (a cancelled or empty
    /// answer).
    pub lift: Option<f32>,
}

/// Measures [`Confidence`] of `generation`, the answer to `turn`; `fresh` is an empty
/// session of the same model, for the lift.
pub fn measure(fresh: Option<Session<'_>>, turn: &Turn<'_>, generation: &Generation) -> Confidence {
    let logprobs = &generation.token_logprobs;
    let mean_logprob = if logprobs.is_empty() { 0.0 } else { logprobs.iter().sum::<f32>() / logprobs.len() as f32 };
    let min_logprob = logprobs.iter().copied().fold(0.0f32, f32::min);
    let complete = matches!(generation.stop, StopReason::EndOfTurn | StopReason::MaxTokens | StopReason::Repeating);
    let lift = fresh.filter(|_| complete).and_then(|fresh| lift(fresh, turn, generation));
    Confidence { mean_logprob, min_logprob, lift }
}

fn lift(mut fresh: Session<'_>, turn: &Turn<'_>, generation: &Generation) -> Option<f32> {
    if generation.tokens.is_empty() || generation.tokens.len() != generation.token_logprobs.len() {
        return None;
    }
    let model = fresh.model();
    let bare = prompt::render(model, turn.system, turn.history, &[], turn.question).ok()?;
    let question = model.tokenize(&bare);
    let (last, before) = question.split_last()?;
    // Only the question's last token and the answer's need logits (a vocabulary-sized row
    // each): the rows after token `last` and after each answer token but the final one
    // predict the answer's tokens.
    fresh.evaluate(0, before, Logits::None, &CancelToken::new(), |_| {}).ok()?;
    let mut scored = vec![*last];
    scored.extend_from_slice(&generation.tokens);
    let logits = fresh.evaluate(0, &scored, Logits::All, &CancelToken::new(), |_| {}).ok()?;
    let n_vocab = logits.len() / scored.len();
    if n_vocab == 0 || logits.len() != n_vocab * scored.len() {
        return None;
    }
    let gained: f32 = generation
        .tokens
        .iter()
        .zip(&generation.token_logprobs)
        .enumerate()
        .map(|(i, (&token, &given))| {
            let row = &logits[i * n_vocab..(i + 1) * n_vocab];
            given - log_softmax_at(row, token as usize)
        })
        .sum();
    Some(gained / generation.tokens.len() as f32)
}
