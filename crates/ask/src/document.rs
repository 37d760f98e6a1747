//! Asking one document: restore its memory, place the best passages in the window, stream
//! the answer with validated citations.

use std::time::{Duration, Instant};

use seahorse_engine::{CancelToken, StopReason};
use seahorse_library::{AsOfFrom, AsOfMethod, DocId, StoredPage};

use crate::citations::{citation_text, CitablePage, CitablePages, Citation};
use crate::error::{Error, Result};
use crate::grounding::{self, Given, Withheld};
use crate::locate::{self, Relocated};
use crate::prompt::{self, GivenPassage};
use crate::selfcheck::{self, Confidence};
use crate::turn::{answer_in_session, Turn};
use crate::Asker;

/// How to answer.
#[derive(Debug, Clone)]
pub struct AskOptions {
    /// Restore the document's memory state (off: the passages alone, "retrieval only").
    pub memory: bool,
    /// Place passages found by full-text search in the window.
    pub passages: bool,
    /// At most this many passages.
    pub max_passages: usize,
    /// At most this many tokens of passages; `None`: half the window. Never more than the
    /// window leaves after the instructions, the question and a quarter of the window (or
    /// `max_tokens`, if less) for the answer.
    pub passage_tokens: Option<usize>,
    /// Answer as of this 0-based page: the memory as of its end
    /// (`Library::restore_as_of_page`) and no passage after it.
    pub as_of_page: Option<u32>,
    /// Which stored states "as of page N" may start from (default: the nearest).
    pub as_of_from: AsOfFrom,
    /// Longest answer, in tokens.
    pub max_tokens: usize,
    /// The model's limit of the mean token log-probability below which an answer with
    /// passages is withheld as unsure ([`grounding::unsure`]; the catalogue has one for
    /// each model).
    pub unsure_below: f32,
    /// Checked between batches and tokens.
    pub cancel: CancelToken,
}

impl Default for AskOptions {
    fn default() -> Self {
        Self {
            memory: true,
            passages: true,
            max_passages: 6,
            passage_tokens: None,
            as_of_page: None,
            as_of_from: AsOfFrom::Nearest,
            max_tokens: 320,
            unsure_below: grounding::MIN_MEAN_LOGPROB,
            cancel: CancelToken::new(),
        }
    }
}

/// What happens while an answer is made.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AskEvent<'a> {
    /// The memory is ready (restored, and caught up for "as of page N").
    Restored {
        /// Tokens of the document it holds.
        position: u64,
        /// 0-based page of its last token.
        page_index: u32,
        /// Whether it is the state after the whole document.
        is_final: bool,
    },
    /// The passages placed in the window.
    Passages(&'a [GivenPassage]),
    /// "As of page N": the pages between the nearest stored checkpoint and the end of
    /// page N are being read.
    CatchingUp {
        /// Tokens read.
        done: usize,
        /// Tokens to read.
        total: usize,
    },
    /// Prompt tokens evaluated.
    Prefill {
        /// Done.
        done: usize,
        /// In all.
        total: usize,
    },
    /// The next piece of the answer (citations already validated).
    Text(&'a str),
}

/// Where an answer's time went.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timings {
    /// Loading and restoring the memory state.
    pub restore_ms: f64,
    /// Tokens evaluated before the answer (instructions, passages, question).
    pub prompt_tokens: usize,
    /// Evaluating them.
    pub prefill_ms: f64,
    /// From the call to the first piece of the answer.
    pub first_token_ms: f64,
    /// Tokens generated.
    pub generated_tokens: usize,
    /// Measuring how sure the model was of its answer ([`selfcheck`]), after it.
    #[serde(default)]
    pub check_ms: f64,
    /// The whole call.
    pub total_ms: f64,
}

/// What an answer was built from (stored with it).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sources {
    /// The document.
    pub doc: i64,
    /// The memory state restored (row id), if any.
    pub state_id: Option<i64>,
    /// Tokens of the document in that state.
    pub state_position: u64,
    /// 0-based page of the state's last token.
    pub state_page_index: u32,
    /// Tokens read after restoring the state to reach the end of the "as of" page (0 when
    /// the state was used as stored).
    #[serde(default)]
    pub caught_up_tokens: u64,
    /// Whether the window was re-read around the state's AHN state ("as of page N" from a
    /// compact checkpoint) rather than restored.
    #[serde(default)]
    pub window_rebuilt: bool,
    /// The passages given.
    pub passages: Vec<GivenPassage>,
    /// 0-based pages still (partly) inside the restored window.
    pub window_pages: Vec<u32>,
}

/// A finished answer.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    /// The answer as shown: only validated citations.
    pub text: String,
    /// The validated citations, in order.
    pub citations: Vec<Citation>,
    /// Citations the model made up (removed from `text`).
    pub dropped: Vec<String>,
    /// Citations of given pages that do not support their sentence (removed from `text`).
    #[serde(default)]
    pub unsupported: Vec<String>,
    /// The model's answer when it said nothing the model was given ([`grounding`]): `text`
    /// then says that the passages do not say, and has no citations.
    #[serde(default)]
    pub withheld: Option<Withheld>,
    /// The model's answer to a question asking which section, when it named no given
    /// passage's section and `text` names the section of the passage holding the question's
    /// words instead ([`locate`]).
    #[serde(default)]
    pub relocated: Option<Relocated>,
    /// How sure the model was of its answer ([`selfcheck`]).
    #[serde(default)]
    pub confidence: Confidence,
    /// What it was built from.
    pub sources: Sources,
    /// Where the time went.
    pub timings: Timings,
    /// Why it ended: "end_of_turn", "max_tokens", "cancelled".
    pub stop: String,
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub(crate) fn stop_name(stop: StopReason) -> &'static str {
    match stop {
        StopReason::EndOfTurn => "end_of_turn",
        StopReason::MaxTokens => "max_tokens",
        StopReason::ContextFull => "context_full",
        StopReason::Cancelled => "cancelled",
        StopReason::Repeating => "repeating",
    }
}

impl Asker<'_> {
    /// Answers `question` about `doc`, with the earlier `history` (question, answer) turns
    /// of a chat, streaming [`AskEvent`]s.
    ///
    /// # Errors
    ///
    /// [`Error::Library`] (no such document, no memory state for the current model and
    /// settings, a damaged state), [`Error::Engine`].
    pub fn ask_document(
        &self,
        doc: DocId,
        question: &str,
        history: &[(String, String)],
        options: &AskOptions,
        mut on_event: impl FnMut(AskEvent<'_>),
    ) -> Result<Answer> {
        let _span = tracing::info_span!("ask_document", doc = doc.0, as_of_page = options.as_of_page).entered();
        let started = Instant::now();
        let library = self.library;
        let reader = self.reader;
        let window = reader.fingerprint().window as u64;
        let pages = library.store().pages(doc)?;
        if question.trim().is_empty() {
            return Err(Error::EmptyQuestion);
        }

        // 1. The memory.
        let (mut session, memory) = if options.memory {
            let (session, memory) = self.restore(doc, &pages, options, &mut on_event)?;
            (session, Some(memory))
        } else {
            (reader.new_session()?, None)
        };
        let restore_ms = ms(started.elapsed());
        let window_pages = memory.as_ref().map(|m| pages_in_window(&pages, m.position, window)).unwrap_or_default();

        // 2. The passages: what of the window the instructions, the question and a share
        //    for the answer leave, so that all of it is still in the window when the
        //    answer is written.
        let (system, history, budget) = self.plan(question, history, options, memory.is_some())?;
        // Pages wholly inside the restored window are there verbatim already.
        let window_start = memory.as_ref().map_or(u64::MAX, |m| m.position.saturating_sub(window));
        let verbatim: Vec<u32> =
            pages.iter().filter(|p| p.token_start.is_some_and(|t| t >= window_start)).map(|p| p.index).collect();
        let passages = if options.passages {
            self.pick_passages(doc, question, &pages, &verbatim, options, budget)?
        } else {
            Vec::new()
        };
        on_event(AskEvent::Passages(&passages));

        // 3. What may be cited: the passages and the pages in the window, with the text
        //    the model was given of each.
        let mut citable = CitablePages::default();
        let mut texts = Vec::new();
        for p in &passages {
            if let Some(page) = pages.get(p.page_index as usize) {
                citable.insert(citable_page(0, doc, page));
                texts.push((citable_page(0, doc, page), p.text.clone()));
            }
        }
        for &i in &window_pages {
            let page = &pages[i as usize];
            citable.insert(citable_page(0, doc, page));
            texts.push((citable_page(0, doc, page), page.text.clone()));
        }

        // 4. The question, and the answer.
        let turn = Turn {
            system: &system,
            history: &history,
            passages: &passages,
            question,
            citable: &citable,
            sources: &texts,
            max_tokens: options.max_tokens,
            n_threads: reader.options().n_threads,
            cancel: &options.cancel,
        };
        let spoken = answer_in_session(&mut session, &turn, started, |piece| on_event(AskEvent::Text(piece)))?;
        let generation = &spoken.generation;
        // 5. How sure the model is of it; an answer that says nothing the model was given,
        //    or that the model is unsure of, is withheld (streamed already: the finished
        //    answer replaces it).
        drop(session); // before the fresh session of the certainty check: one cache at a time
        let check_started = Instant::now();
        let cancelled = generation.stop == StopReason::Cancelled;
        let confidence = if cancelled {
            Confidence::default()
        } else {
            selfcheck::measure(reader.new_session().ok(), &turn, generation)
        };
        let check_ms = ms(check_started.elapsed());
        let labelled = grounding_texts(&texts);
        let sections = section_names(&passages);
        let given = Given {
            question,
            texts: &labelled,
            sections: &sections,
            passages: !passages.is_empty(),
            confidence: Some(confidence),
            min_mean_logprob: options.unsure_below,
        };
        // A question asking which section whose answer names none gets the section of the
        // passage holding the question's words ([`locate`]); other answers are checked.
        let located = (!cancelled)
            .then(|| locate::relocate(question, &spoken.text, &locate::pointed_pages(&spoken, &citable), &passages))
            .flatten();
        let (text, citations, withheld, relocated) = if let Some(located) = located {
            let passage = &passages[located.passage];
            let page = pages.iter().find(|p| p.index == passage.page_index).map(|p| citable_page(0, doc, p));
            let citations: Vec<Citation> = page
                .into_iter()
                .map(|page| Citation {
                    text: citation_text(0, &page.label),
                    pages: vec![page],
                    attributed: !located.pointed,
                })
                .collect();
            let cited = citations.first().map(|c| format!(" {}", c.text)).unwrap_or_default();
            tracing::info!(answer = %spoken.text, section = %located.text, "which-section answer from the outline");
            let relocated = Relocated { model_text: spoken.text, pointed: located.pointed };
            (format!("{}{cited}.", located.text), citations, None, Some(relocated))
        } else {
            match (!cancelled).then(|| grounding::check(&spoken.text, &given)).flatten() {
                Some(reason) => {
                    tracing::info!(?reason, answer = %spoken.text, "answer withheld");
                    let text = reason.replacement();
                    (text, Vec::new(), Some(Withheld { text: spoken.text, citations: spoken.citations, reason }), None)
                }
                None => (spoken.text, spoken.citations, None, None),
            }
        };
        let total_ms = ms(started.elapsed());
        Ok(Answer {
            text,
            citations,
            dropped: spoken.dropped,
            unsupported: spoken.unsupported,
            withheld,
            relocated,
            confidence,
            sources: Sources {
                doc: doc.0,
                state_id: memory.as_ref().and_then(|m| m.state_id),
                state_position: memory.as_ref().map_or(0, |m| m.position),
                state_page_index: memory.as_ref().map_or(0, |m| m.page_index),
                caught_up_tokens: memory.as_ref().map_or(0, |m| m.caught_up),
                window_rebuilt: memory.as_ref().is_some_and(|m| m.rebuilt),
                passages,
                window_pages,
            },
            timings: Timings {
                restore_ms,
                prompt_tokens: generation.prompt_tokens,
                prefill_ms: ms(generation.prefill_time),
                first_token_ms: spoken.first_token_ms.unwrap_or(total_ms),
                generated_tokens: generation.generated_tokens,
                check_ms,
                total_ms,
            },
            stop: stop_name(generation.stop).to_owned(),
        })
    }

    /// The instructions, the earlier turns that fit and the passages' token budget of a
    /// question (with a restored memory or without).
    pub(crate) fn plan(
        &self,
        question: &str,
        history: &[(String, String)],
        options: &AskOptions,
        with_memory: bool,
    ) -> Result<Plan> {
        let model = self.reader.model();
        let window = self.reader.fingerprint().window as usize;
        let base = if with_memory { prompt::DOCUMENT_SYSTEM } else { prompt::PASSAGES_ONLY_SYSTEM };
        let system = prompt::system_for(base, question);
        let history = prompt::fit_history(model, history, (window / 4).max(64));
        let bare = prompt::render(model, &system, &history, &[], question)?;
        let reserve = options.max_tokens.min(window / 4);
        let room = window.saturating_sub(model.tokenize(&bare).len() + reserve + 16);
        // Half the window even without a memory: letting passages take all the window
        // leaves (4-5 passages instead of 3; answers up to 320 tokens) was measured on the
        // QA benchmark (1.5B, 2026-12-07) and lost 1 right answer of 132 and 3 right
        // abstentions of 24 (more passages, more to be misled by), for a longer prefill.
        let budget = options.passage_tokens.unwrap_or(window / 2).min(room);
        Ok((system, history, budget))
    }
}

/// The instructions, the earlier turns kept and the passages' token budget of a question.
type Plan = (std::borrow::Cow<'static, str>, Vec<(String, String)>, usize);

/// The memory a question starts from.
struct Memory {
    state_id: Option<i64>,
    position: u64,
    page_index: u32,
    caught_up: u64,
    rebuilt: bool,
}

impl Asker<'_> {
    /// The document's memory in a fresh session: the final state, or for "as of page N"
    /// the nearest checkpoint at or before the end of page N, then the tokens up to that
    /// end read into it (from the start of the document if no checkpoint is that early).
    fn restore(
        &self,
        doc: DocId,
        pages: &[StoredPage],
        options: &AskOptions,
        on_event: &mut impl FnMut(AskEvent<'_>),
    ) -> Result<(seahorse_engine::Session<'_>, Memory)> {
        let reader = self.reader;
        let fingerprint = reader.fingerprint();
        let Some(n) = options.as_of_page else {
            let state = self.library.load_state(doc, fingerprint, None)?;
            let session = reader.restore(&state)?;
            on_event(AskEvent::Restored {
                position: state.position,
                page_index: state.page_index,
                is_final: state.is_final,
            });
            let memory = Memory {
                state_id: Some(state.id),
                position: state.position,
                page_index: state.page_index,
                caught_up: 0,
                rebuilt: false,
            };
            return Ok((session, memory));
        };
        let page = pages.get(n as usize).or(pages.last());
        let as_of =
            self.library.restore_as_of_page(reader, doc, n, options.as_of_from, &options.cancel, |done, total| {
                on_event(AskEvent::CatchingUp { done, total })
            })?;
        let page_index = page.map_or(0, |p| p.index);
        on_event(AskEvent::Restored { position: as_of.position, page_index, is_final: false });
        let memory = Memory {
            state_id: as_of.checkpoint.map(|c| c.id),
            position: as_of.position,
            page_index,
            caught_up: as_of.tokens_read,
            rebuilt: as_of.method == AsOfMethod::Rebuilt,
        };
        let session = as_of.session;
        Ok((session, memory))
    }
}

pub(crate) fn citable_page(source: u32, doc: DocId, page: &StoredPage) -> CitablePage {
    CitablePage {
        source,
        doc: doc.0,
        page_index: page.index,
        label: page.display_label.clone(),
        locator: page.locator_json.clone(),
    }
}

/// Everything the model was given, as (page label, text) for [`grounding::check`]: the
/// text of each citable page.
fn grounding_texts(texts: &[(CitablePage, String)]) -> Vec<(&str, &str)> {
    texts.iter().map(|(p, t)| (p.label.as_str(), t.as_str())).collect()
}

/// The passages' section names (a "which chapter" answer copies them from the markers).
fn section_names(passages: &[GivenPassage]) -> Vec<&str> {
    passages.iter().filter_map(|p| p.section.as_deref()).collect()
}

/// Pages with a token in the window of a memory at `position`: `[position − W, position)`.
fn pages_in_window(pages: &[StoredPage], position: u64, window: u64) -> Vec<u32> {
    let start = position.saturating_sub(window);
    pages
        .iter()
        .filter(|p| match (p.token_start, p.token_end) {
            (Some(s), Some(e)) => e > start && s < position,
            _ => false,
        })
        .map(|p| p.index)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_of_a_passages_section_name_was_given() {
        let page = CitablePage { source: 0, doc: 1, page_index: 21, label: "22".into(), locator: "{}".into() };
        let texts = vec![(page, "It was the torpedo ram, Thunder Child.".to_owned())];
        let passage = GivenPassage {
            doc: 1,
            page_index: 21,
            page_label: "22".into(),
            section: Some("Chapter 17 - The Thunder Child".into()),
            score: 1.0,
            tokens: 20,
            text: "It was the torpedo ram, Thunder Child.".into(),
        };
        let labelled = grounding_texts(&texts);
        let sections = section_names(std::slice::from_ref(&passage));
        let given = Given {
            question: "Which chapter tells of the ram?",
            texts: &labelled,
            sections: &sections,
            passages: true,
            confidence: None,
            min_mean_logprob: grounding::MIN_MEAN_LOGPROB,
        };
        assert_eq!(grounding::check("Chapter 17 - The Thunder Child [p. 22]", &given), None);
        assert_eq!(grounding::check("It is told in Chapter 17. [p. 22]", &given), None);
        // Given only as a section number, a figure is not a fact: "5.2" is not a version.
        assert!(grounding::check("It was Bash version 17. [p. 22]", &given).is_some());
        let given = Given { sections: &[], ..given };
        assert!(grounding::check("Chapter 17 - The Thunder Child [p. 22]", &given).is_some());
    }
}
