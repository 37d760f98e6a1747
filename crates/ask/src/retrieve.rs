//! Finding the passages of one document that a question needs: full-text search over the
//! document's passages, weak hits dropped, each hit cut to its best fragment. The
//! document path places the best of them in the window within its token budget; the QA
//! benchmark measures how often the page that supports the answer is among them.

use seahorse_library::{DocId, Library, PassageFilter, Ranking};

use crate::error::Result;
use crate::excerpt::{content_words, excerpt, squeeze_leaders};

/// Passages are cut to their best fragment of about this many characters (~150 tokens of
/// English), so that several fit in the window's budget.
///
/// Measured on the QA benchmark (`seahorse-eval qa`, its "what the model reads" table,
/// 2026-12-07): cut to 400, 900 or 1,200 characters instead, the passages given hold the
/// reference answer for fewer questions (75.8, 76.5, 72.0 % against 81.1 %, section names
/// not counted). Windows of the page around each passage's best sentence, free to run past
/// the indexed passage, with the windows of one page joined, hold it for more (84.8 %
/// against 82.6 %, section names counted), yet the 1.5B answered 5 fewer of 132 right (95
/// against 100: right answers withheld as unsure, sections named from the longer windows
/// wrong); not kept. Cut instead to the sentences holding the question's words not yet held
/// as well as the best one ([`excerpt`]: a question asking two things), with sentences read
/// across a PDF page's line wrapping, dot leaders squeezed ([`squeeze_leaders`]) and a
/// passage too long for the room left cut to it (`Asker::pick_passages`), the passages hold
/// it for 86.4 %: kept (2026-12-08), with the answer asked in one sentence and the checks
/// of [`crate::grounding`] that keep the 1.5B's right abstentions (`docs/qa-eval.md`).
pub const PASSAGE_CHARS: usize = 640;

/// Passages scoring below this share of the best one are noise, not evidence.
const MIN_RELATIVE_SCORE: f32 = 0.25;

/// A passage found for a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// 0-based page index.
    pub page_index: u32,
    /// The page label stored with the passage.
    pub page_label: String,
    /// Its relevance (higher is better; comparable within one question only).
    pub score: f32,
    /// Its best fragment for the question.
    pub text: String,
}

/// The best passages of `doc` for `question`, best first, at most `limit`, each cut to at
/// most `max_chars` characters; only pages up to `as_of_page` (0-based) when given.
///
/// # Errors
///
/// [`crate::Error::Library`] when the index cannot be searched.
pub fn candidates(
    library: &Library,
    doc: DocId,
    question: &str,
    as_of_page: Option<u32>,
    limit: usize,
    max_chars: usize,
) -> Result<Vec<Candidate>> {
    candidates_ranked(library, Ranking::default(), doc, question, as_of_page, limit, max_chars)
}

/// [`candidates`] with another full-text [`Ranking`] (to compare rankings).
///
/// # Errors
///
/// [`crate::Error::Library`] when the index cannot be searched.
pub fn candidates_ranked(
    library: &Library,
    ranking: Ranking,
    doc: DocId,
    question: &str,
    as_of_page: Option<u32>,
    limit: usize,
    max_chars: usize,
) -> Result<Vec<Candidate>> {
    let filter = PassageFilter { doc: Some(doc), max_page_index: as_of_page };
    let found = library.passages_ranked(question, ranking, &filter, limit, usize::MAX)?;
    let words = content_words(question);
    let best = found.first().map_or(0.0, |p| p.score);
    Ok(found
        .into_iter()
        .filter(|p| p.score >= best * MIN_RELATIVE_SCORE)
        .map(|p| Candidate {
            page_index: p.page_index,
            page_label: p.page_label,
            score: p.score,
            text: excerpt(&squeeze_leaders(&p.text), &words, max_chars),
        })
        .collect())
}
