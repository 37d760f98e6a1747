//! The passages a question is given: the best passages found for it, each cut to its
//! sentences that matter, placed in page order within the question's token budget, each
//! with the section it belongs to.

use seahorse_docs::{Heading, Locator};
use seahorse_library::{DocId, StoredPage};

use crate::document::AskOptions;
use crate::error::Result;
use crate::excerpt::{best_sentence, content_words, excerpt};
use crate::prompt::{self, GivenPassage};
use crate::retrieve::{candidates, PASSAGE_CHARS};
use crate::Asker;

/// A passage is cut to the room left in the budget only if this many tokens are left (its
/// page marker and a sentence or two).
const MIN_CUT_TOKENS: usize = 80;

impl Asker<'_> {
    /// The passages [`Asker::ask_document`] gives the model for `question` when no memory
    /// is restored (`options.memory` off): the evaluation checks stored answers against
    /// them again after a change to [`crate::grounding`].
    ///
    /// # Errors
    ///
    /// [`crate::Error::Library`], [`crate::Error::Engine`] (rendering the prompt).
    pub fn passages_without_memory(
        &self,
        doc: DocId,
        question: &str,
        history: &[(String, String)],
        options: &AskOptions,
    ) -> Result<Vec<GivenPassage>> {
        let pages = self.library.store().pages(doc)?;
        let (_, _, budget) = self.plan(question, history, options, false)?;
        self.pick_passages(doc, question, &pages, &[], options, budget)
    }

    /// The best passages of `doc` for `question` within the token budget, in page order;
    /// pages in `verbatim` (wholly inside the restored window) are skipped. A passage that
    /// does not fit whole is cut to the room left (when that holds a sentence or two) before
    /// a worse-ranked one is taken in its place.
    pub(crate) fn pick_passages(
        &self,
        doc: DocId,
        question: &str,
        pages: &[StoredPage],
        verbatim: &[u32],
        options: &AskOptions,
        budget: usize,
    ) -> Result<Vec<GivenPassage>> {
        let max_chars = PASSAGE_CHARS.min(budget * 3);
        let found = candidates(self.library, doc, question, options.as_of_page, options.max_passages * 3, max_chars)?;
        let outline = self.library.store().outline(doc)?;
        let words = content_words(question);
        let model = self.reader.model();
        let mut picked = Vec::new();
        let mut used = 0;
        for c in found {
            if picked.len() >= options.max_passages {
                break;
            }
            if verbatim.contains(&c.page_index) {
                continue;
            }
            let page = pages.get(c.page_index as usize);
            let label = page.map_or(c.page_label, |pg| pg.display_label.clone());
            // The section where the passage's best sentence is: a passage may run over a heading.
            let section = page.and_then(|pg| section_of(pg, &outline, best_sentence(&c.text, &words)));
            let mut text = c.text;
            let mut tokens = model.tokenize(&prompt::passage_block(&label, section.as_deref(), &text)).len();
            if used + tokens > budget {
                // Cut to the room left, in proportion (it ends at a sentence, so is mostly
                // shorter; counted again below). Scaling only the text, not the page marker,
                // was measured too: as often the answer given (85.6 % against 86.4 %).
                let room = budget - used;
                if room < MIN_CUT_TOKENS {
                    continue;
                }
                let chars = text.chars().count() * room / tokens;
                text = excerpt(&text, &words, chars);
                tokens = model.tokenize(&prompt::passage_block(&label, section.as_deref(), &text)).len();
                if text.is_empty() || used + tokens > budget {
                    continue;
                }
            }
            used += tokens;
            picked.push(GivenPassage {
                doc: doc.0,
                page_index: c.page_index,
                page_label: label,
                section,
                score: c.score,
                tokens,
                text,
            });
        }
        picked.sort_by_key(|p| p.page_index);
        Ok(picked)
    }
}

/// The chapter or section a passage of `page` belongs to: from the document's outline
/// (PDF), else where the page's locator names it (EPUB, HTML, Markdown).
fn section_of(page: &StoredPage, outline: &[Heading], passage: &str) -> Option<String> {
    if !outline.is_empty() {
        return crate::sections::section_path(outline, page.index, &page.text, passage);
    }
    match page.locator()? {
        Locator::Epub { chapter_title, .. } => chapter_title,
        Locator::Section { heading, .. } | Locator::Html { heading, .. } => heading,
        _ => None,
    }
}
