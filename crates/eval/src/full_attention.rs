//! The full-attention baseline of both evaluations (`ask` and `qa`): a document read whole,
//! with its page markers as the memory pass reads it, into one context of stock llama.cpp
//! attention, saved, and every question answered from a restored copy of that context
//! through the same model-facing step as asking (`seahorse_ask::answer_in_session`).

use std::time::Instant;

use anyhow::Result;
use seahorse_ask::citations::{CitablePage, CitablePages};
use seahorse_ask::prompt::DOCUMENT_SYSTEM;
use seahorse_ask::{answer_in_session, Spoken, Turn};
use seahorse_engine::{CancelToken, Logits, Model, SessionOptions};
use seahorse_library::{DocId, Library};

/// Context kept free after the document for the instructions, the question and the answer.
pub const TURN_TOKENS: usize = 1024;

/// A document read whole into one full-attention context.
pub struct FullAttention {
    options: SessionOptions,
    state: Vec<u8>,
    citable: CitablePages,
    sources: Vec<(CitablePage, String)>,
    /// Tokens read.
    pub tokens: usize,
    /// Seconds reading took.
    pub seconds: f64,
}

impl FullAttention {
    /// Reads `tokens` (all of `doc`, page markers included: `Library::document_tokens`) with
    /// `model`, a model loaded without a window.
    pub fn read(model: &Model, library: &Library, doc: DocId, tokens: &[i32]) -> Result<FullAttention> {
        let options =
            SessionOptions { n_ctx: (tokens.len() + TURN_TOKENS).next_multiple_of(256) as u32, ..Default::default() };
        let started = Instant::now();
        let mut session = model.session(&options)?;
        session.evaluate(0, tokens, Logits::None, &CancelToken::new(), |_| {})?;
        let state = session.save(0)?;
        drop(session);
        let seconds = started.elapsed().as_secs_f64();
        let mut citable = CitablePages::default();
        let mut sources = Vec::new();
        for p in library.store().pages(doc)? {
            let page = CitablePage {
                source: 0,
                doc: doc.0,
                page_index: p.index,
                label: p.display_label.clone(),
                locator: p.locator_json.clone(),
            };
            citable.insert(page.clone());
            sources.push((page, p.text));
        }
        Ok(FullAttention { options, state, citable, sources, tokens: tokens.len(), seconds })
    }

    /// `model`'s answer to `question` from the document read, and the milliseconds from
    /// restoring the context to the end of the answer.
    pub fn answer(&self, model: &Model, question: &str, max_tokens: usize) -> Result<(Spoken, f64)> {
        let started = Instant::now();
        let mut session = model.session(&self.options)?;
        session.restore(0, &self.state)?;
        let cancel = CancelToken::new();
        let turn = Turn {
            system: DOCUMENT_SYSTEM,
            history: &[],
            passages: &[],
            question,
            citable: &self.citable,
            sources: &self.sources,
            max_tokens,
            n_threads: None,
            cancel: &cancel,
        };
        let spoken = answer_in_session(&mut session, &turn, started, |_| {})?;
        Ok((spoken, started.elapsed().as_secs_f64() * 1e3))
    }
}
