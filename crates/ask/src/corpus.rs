//! Asking the whole library.
//!
//! Cost model: full-text search ranks documents by the summed BM25 score of their best
//! passages (milliseconds, even over thousands of documents); only the `max_documents` best
//! ranked documents that have a memory state are consulted, each as a one-document question
//! (restore + passages + a short answer: about the time of one document question), and a
//! last short generation combines their answers. So a corpus question costs about
//! `max_documents + 1` document questions, however large the library is; `max_documents`
//! is the knob (default 3).

use std::collections::BTreeMap;
use std::time::Instant;

use seahorse_library::{CollectionId, DocId, PassageFilter, Ranking};

use crate::citations::{CitablePage, CitablePages, Citation};
use crate::document::{citable_page, ms, stop_name, Answer, AskEvent, AskOptions};
use crate::error::{Error, Result};
use crate::prompt::{self, neutralise};
use crate::turn::{answer_in_session, Turn};
use crate::Asker;

/// How to answer a corpus question.
#[derive(Debug, Clone)]
pub struct CorpusOptions {
    /// Only documents of this collection (`None`: the whole library).
    pub collection: Option<CollectionId>,
    /// Documents consulted at most.
    pub max_documents: usize,
    /// A document is consulted only if its score is at least this share of the best
    /// document's (words common to every document do not make a document relevant).
    pub min_relative_score: f32,
    /// How each document is asked (its `max_tokens` bounds each document's answer).
    pub per_document: AskOptions,
    /// Longest combined answer, in tokens.
    pub max_tokens: usize,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        Self {
            collection: None,
            max_documents: 3,
            min_relative_score: 0.5,
            per_document: AskOptions { max_tokens: 160, ..AskOptions::default() },
            max_tokens: 320,
        }
    }
}

/// A document ranked for a question.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RankedDocument {
    /// Its number in the combined answer's citations (1-based).
    pub number: u32,
    /// The document.
    pub doc: i64,
    /// Its title.
    pub title: String,
    /// Summed BM25 score of its best passages.
    pub score: f32,
}

/// What happens while a corpus answer is made.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CorpusEvent<'a> {
    /// The documents that will be consulted, best first.
    Ranked(&'a [RankedDocument]),
    /// Progress of one document's answer.
    Document {
        /// Which one.
        document: &'a RankedDocument,
        /// What happened.
        event: AskEvent<'a>,
    },
    /// A document could not be consulted (no memory state yet, say); it is skipped.
    Skipped {
        /// Which one.
        document: &'a RankedDocument,
        /// Why.
        reason: String,
    },
    /// The next piece of the combined answer.
    Text(&'a str),
}

/// One consulted document's answer.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DocumentAnswer {
    /// The document.
    pub document: RankedDocument,
    /// Its answer.
    pub answer: Answer,
}

/// A finished corpus answer.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CorpusAnswer {
    /// The combined answer as shown: only validated `[n, p. X]` citations.
    pub text: String,
    /// Its validated citations.
    pub citations: Vec<Citation>,
    /// Citations the model made up (removed).
    pub dropped: Vec<String>,
    /// Citations of given answers that do not support their sentence (removed).
    #[serde(default)]
    pub unsupported: Vec<String>,
    /// The documents consulted, with their answers.
    pub documents: Vec<DocumentAnswer>,
    /// From the call to the first piece of the combined answer.
    pub first_token_ms: f64,
    /// The whole call.
    pub total_ms: f64,
    /// Why the combined answer ended.
    pub stop: String,
}

impl Asker<'_> {
    /// The documents best matching `question`, best first (at most `limit`), among
    /// `within` if given.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn rank_documents(
        &self,
        question: &str,
        limit: usize,
        within: Option<&[DocId]>,
    ) -> Result<Vec<RankedDocument>> {
        // A document's score: its three best passages (one lucky passage is not enough,
        // a long book is not favoured for its length), by plain BM25 over the question's
        // words: the phrase boosts of the passage ranking lift a document that matches one
        // part of a two-part question far above one that matches the other, and
        // `min_relative_score` would then drop the second.
        let ranking = Ranking::Words;
        let mut per_doc: BTreeMap<i64, Vec<f32>> = BTreeMap::new();
        match within {
            // A small collection: each document's own best passages.
            Some(docs) if docs.len() <= 64 => {
                for &doc in docs {
                    let filter = PassageFilter { doc: Some(doc), max_page_index: None };
                    for p in self.library.passages_ranked(question, ranking, &filter, 3, 200)? {
                        per_doc.entry(p.doc.0).or_default().push(p.score);
                    }
                }
            }
            _ => {
                let limit = if within.is_some() { 4000 } else { 400 };
                let passages =
                    self.library.passages_ranked(question, ranking, &PassageFilter::default(), limit, 200)?;
                for p in passages {
                    if within.is_none_or(|docs| docs.contains(&p.doc)) {
                        per_doc.entry(p.doc.0).or_default().push(p.score);
                    }
                }
            }
        }
        let mut ranked: Vec<(i64, f32)> = per_doc
            .into_iter()
            .map(|(doc, mut scores)| {
                scores.sort_by(|a, b| b.total_cmp(a));
                (doc, scores.iter().take(3).sum())
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut out = Vec::new();
        for (doc, score) in ranked.into_iter().take(limit) {
            let info = self.library.store().document(DocId(doc))?;
            out.push(RankedDocument { number: out.len() as u32 + 1, doc, title: info.title, score });
        }
        Ok(out)
    }

    /// Answers `question` from the library's most relevant documents (see the module's
    /// cost model), streaming [`CorpusEvent`]s.
    ///
    /// # Errors
    ///
    /// [`Error::NothingRelevant`] if no document matches or none of those has a memory
    /// state, [`Error::Library`], [`Error::Engine`].
    pub fn ask_corpus(
        &self,
        question: &str,
        history: &[(String, String)],
        options: &CorpusOptions,
        mut on_event: impl FnMut(CorpusEvent<'_>),
    ) -> Result<CorpusAnswer> {
        let _span = tracing::info_span!("ask_corpus", collection = options.collection.map(|c| c.0)).entered();
        let started = Instant::now();
        if question.trim().is_empty() {
            return Err(Error::EmptyQuestion);
        }
        // Rank a few more than needed: some may have no state yet.
        let members = match options.collection {
            Some(id) => Some(self.library.store().collection_documents(id)?),
            None => None,
        };
        let mut ranked = self.rank_documents(question, options.max_documents.max(1) * 3, members.as_deref())?;
        let best = ranked.first().map_or(0.0, |d| d.score);
        ranked.retain(|d| d.score >= best * options.min_relative_score);
        on_event(CorpusEvent::Ranked(&ranked));
        let mut documents: Vec<DocumentAnswer> = Vec::new();
        for document in &ranked {
            if documents.len() >= options.max_documents.max(1) || options.per_document.cancel.is_cancelled() {
                break;
            }
            let answer = self.ask_document(DocId(document.doc), question, history, &options.per_document, |event| {
                on_event(CorpusEvent::Document { document, event })
            });
            match answer {
                Ok(answer) => {
                    let mut document = document.clone();
                    document.number = documents.len() as u32 + 1;
                    documents.push(DocumentAnswer { document, answer });
                }
                Err(Error::Library(
                    e @ (seahorse_library::Error::NoState { .. } | seahorse_library::Error::StaleState { .. }),
                )) => on_event(CorpusEvent::Skipped { document, reason: e.to_string() }),
                Err(e) => return Err(e),
            }
        }
        if documents.is_empty() {
            return Err(Error::NothingRelevant);
        }
        if documents.len() == 1 {
            return Ok(single(documents, started, on_event));
        }
        self.combine(question, documents, options, started, on_event)
    }

    /// The last step: one answer from the documents' answers, in a fresh context.
    fn combine(
        &self,
        question: &str,
        documents: Vec<DocumentAnswer>,
        options: &CorpusOptions,
        started: Instant,
        mut on_event: impl FnMut(CorpusEvent<'_>),
    ) -> Result<CorpusAnswer> {
        let mut citable = CitablePages::default();
        let mut texts = Vec::new();
        let mut listing = String::new();
        for d in &documents {
            let pages = self.library.store().pages(DocId(d.document.doc))?;
            let sources = &d.answer.sources;
            let given = sources.passages.iter().map(|p| p.page_index).chain(sources.window_pages.iter().copied());
            for i in given {
                if let Some(page) = pages.get(i as usize) {
                    let citable_page = citable_page(d.document.number, DocId(d.document.doc), page);
                    let text = sources
                        .passages
                        .iter()
                        .find(|p| p.page_index == i)
                        .map_or(page.text.clone(), |p| p.text.clone());
                    texts.push((citable_page.clone(), text));
                    citable.insert(citable_page);
                }
            }
            let n = d.document.number;
            let text = d.answer.text.replace("[p. ", &format!("[{n}, p. "));
            listing.push_str(&format!("Document {n} ({}):\n{}\n\n", neutralise(&d.document.title), neutralise(&text)));
        }
        let user = format!("Question: {}\n\n{listing}", neutralise(question));
        let mut session = self.reader.new_session()?;
        let turn = Turn {
            system: prompt::CORPUS_SYSTEM,
            history: &[],
            passages: &[],
            question: &user,
            citable: &citable,
            sources: &texts,
            max_tokens: options.max_tokens,
            n_threads: self.reader.options().n_threads,
            cancel: &options.per_document.cancel,
        };
        let spoken = answer_in_session(&mut session, &turn, started, |piece| on_event(CorpusEvent::Text(piece)))?;
        let total_ms = ms(started.elapsed());
        Ok(CorpusAnswer {
            text: spoken.text,
            citations: spoken.citations,
            dropped: spoken.dropped,
            unsupported: spoken.unsupported,
            documents,
            first_token_ms: spoken.first_token_ms.unwrap_or(total_ms),
            total_ms,
            stop: stop_name(spoken.generation.stop).to_owned(),
        })
    }
}

/// With one document consulted its answer is the answer (no combining step); its
/// citations gain the document's number.
fn single(documents: Vec<DocumentAnswer>, started: Instant, mut on_event: impl FnMut(CorpusEvent<'_>)) -> CorpusAnswer {
    let answer = &documents[0].answer;
    let number = documents[0].document.number;
    let renumber = |text: &str| text.replace("[p. ", &format!("[{number}, p. "));
    let text = renumber(&answer.text);
    on_event(CorpusEvent::Text(&text));
    let citations = answer
        .citations
        .iter()
        .map(|c| Citation {
            text: renumber(&c.text),
            pages: c.pages.iter().map(|p| CitablePage { source: number, ..p.clone() }).collect(),
            attributed: c.attributed,
        })
        .collect();
    let total_ms = ms(started.elapsed());
    CorpusAnswer {
        text,
        citations,
        dropped: answer.dropped.clone(),
        unsupported: answer.unsupported.clone(),
        first_token_ms: total_ms,
        total_ms,
        stop: answer.stop.clone(),
        documents,
    }
}
