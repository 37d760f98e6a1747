//! The tantivy full-text index: one entry per passage (document id, page index, page label,
//! text), BM25 search with highlighted snippets.
//!
//! The index is derived data. SQLite is the source of truth; each commit here carries, as
//! its payload, the store generation it reflects (`Library` keeps the two in step and
//! repairs a mismatch).

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tantivy::collector::TopDocs;
use tantivy::directory::error::LockError;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED, TEXT,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError, Term};

use crate::error::{Error, Result};
use crate::ids::DocId;
use crate::passages::{split, PASSAGE_MAX_BYTES};
use crate::question::{words, PHRASE_SLOP, PHRASE_WEIGHT, STEM_WEIGHT};
use crate::store::StoredPage;

/// How long to wait for another process's index writer before giving up.
const WRITER_WAIT: Duration = Duration::from_secs(30);

/// One search hit: a passage of one page.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    /// The document.
    pub doc: DocId,
    /// The page's 0-based index.
    pub page_index: u32,
    /// The page label to show.
    pub page_label: String,
    /// BM25 score (higher is better).
    pub score: f32,
    /// A fragment of the passage around the best matches.
    pub snippet: String,
    /// Byte ranges of `snippet` that match the query.
    pub highlights: Vec<(usize, usize)>,
}

impl Hit {
    /// The snippet with each match wrapped in `open` … `close` (for example `"\x1b[1m"`,
    /// `"\x1b[0m"`, or `"**"`, `"**"`).
    pub fn snippet_marked(&self, open: &str, close: &str) -> String {
        let mut out = String::with_capacity(self.snippet.len() + 16);
        let mut at = 0;
        for &(s, e) in &self.highlights {
            out.push_str(&self.snippet[at..s]);
            out.push_str(open);
            out.push_str(&self.snippet[s..e]);
            out.push_str(close);
            at = e;
        }
        out.push_str(&self.snippet[at..]);
        out
    }
}

/// A whole passage found by [`TextIndex::passages`], for placing in a prompt.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Passage {
    /// The document.
    pub doc: DocId,
    /// The page's 0-based index.
    pub page_index: u32,
    /// The page label to show.
    pub page_label: String,
    /// BM25 score (higher is better).
    pub score: f32,
    /// The passage's text (a part of one page), or its best fragment.
    pub text: String,
}

/// How a question is turned into a query for [`TextIndex::passages`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Ranking {
    /// BM25 over every word of the question as written: the first ranking, kept to
    /// measure the others against (`seahorse-eval qa`).
    Words,
    /// Every word of the question matched as written and by its English stem, and
    /// neighbouring words also as a phrase (see `question.rs`).
    #[default]
    Question,
}

/// Which passages a search may return.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassageFilter {
    /// Only this document's.
    pub doc: Option<DocId>,
    /// Only pages up to this 0-based index ("as of page N").
    pub max_page_index: Option<u32>,
}

#[derive(Clone, Copy)]
struct Fields {
    doc_id: Field,
    page_index: Field,
    page_label: Field,
    text: Field,
    /// The same text, stemmed (English), not stored.
    text_stem: Field,
}

/// The full-text index in one directory.
pub(crate) struct TextIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    path: PathBuf,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        doc_id: b.add_u64_field("doc_id", INDEXED | STORED | FAST),
        // Indexed so that "as of page N" can exclude later pages inside the query.
        page_index: b.add_u64_field("page_index", INDEXED | STORED | FAST),
        page_label: b.add_text_field("page_label", STORED),
        text: b.add_text_field("text", TEXT | STORED),
        text_stem: b.add_text_field(
            "text_stem",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("en_stem")
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        ),
    };
    (b.build(), fields)
}

impl TextIndex {
    /// Opens the index in `path`, creating it if needed. An index that cannot be opened
    /// (damaged, or another schema) is deleted and created empty; the second value is then
    /// true and the caller must rebuild it from the store.
    pub fn open(path: &Path) -> Result<(TextIndex, bool)> {
        match Self::try_open(path) {
            Ok(index) => Ok((index, false)),
            Err(_) => {
                if path.exists() {
                    std::fs::remove_dir_all(path).map_err(|source| Error::Io {
                        action: "remove the damaged index",
                        path: path.to_owned(),
                        source,
                    })?;
                }
                Ok((Self::try_open(path)?, true))
            }
        }
    }

    fn try_open(path: &Path) -> Result<TextIndex> {
        std::fs::create_dir_all(path).map_err(|source| Error::Io {
            action: "create the index directory",
            path: path.to_owned(),
            source,
        })?;
        let err = |action| move |source| Error::Index { path: path.to_owned(), action, source };
        let (schema, fields) = schema();
        let dir = MmapDirectory::open(path).map_err(|e| Error::Index {
            path: path.to_owned(),
            action: "open",
            source: TantivyError::from(e),
        })?;
        let index = Index::open_or_create(dir, schema).map_err(err("open"))?;
        // Reading the metas checks that the last commit is readable.
        index.load_metas().map_err(err("read the index metadata"))?;
        let reader =
            index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(err("open a reader"))?;
        Ok(TextIndex { index, reader, fields, path: path.to_owned() })
    }

    fn err(&self, action: &'static str) -> impl Fn(TantivyError) -> Error + '_ {
        move |source| Error::Index { path: self.path.clone(), action, source }
    }

    /// The store generation of the last commit (0 for a new index).
    pub fn committed_generation(&self) -> Result<u64> {
        let metas = self.index.load_metas().map_err(self.err("read the index metadata"))?;
        Ok(metas.payload.and_then(|p| p.parse().ok()).unwrap_or(0))
    }

    /// Takes the index's writer lock, waiting for another process to finish its commit.
    pub fn writer(&self) -> Result<IndexWriter> {
        let started = Instant::now();
        loop {
            match self.index.writer_with_num_threads(1, 20_000_000) {
                Ok(w) => return Ok(w),
                Err(TantivyError::LockFailure(LockError::LockBusy, _)) if started.elapsed() < WRITER_WAIT => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(self.err("take the writer lock")(e)),
            }
        }
    }

    /// Deletes every passage of `doc` (in the writer's pending commit).
    pub fn delete(&self, writer: &IndexWriter, doc: DocId) {
        writer.delete_term(Term::from_field_u64(self.fields.doc_id, doc.0 as u64));
    }

    /// Adds the passages of `pages` (in the writer's pending commit).
    pub fn add(&self, writer: &IndexWriter, doc: DocId, pages: &[StoredPage]) -> Result<u64> {
        let f = self.fields;
        let mut n = 0;
        for page in pages {
            for passage in split(&page.text, PASSAGE_MAX_BYTES) {
                writer
                    .add_document(doc!(
                        f.doc_id => doc.0 as u64,
                        f.page_index => page.index as u64,
                        f.page_label => page.display_label.as_str(),
                        f.text => passage,
                        f.text_stem => passage,
                    ))
                    .map_err(self.err("add a passage"))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Commits the pending changes, recording `generation` as the payload, and makes them
    /// visible to searches.
    pub fn commit(&self, mut writer: IndexWriter, generation: u64) -> Result<()> {
        let mut prepared = writer.prepare_commit().map_err(self.err("prepare a commit"))?;
        prepared.set_payload(&generation.to_string());
        prepared.commit().map_err(self.err("commit"))?;
        writer.wait_merging_threads().map_err(self.err("merge segments"))?;
        self.reader.reload().map_err(self.err("reload the reader"))
    }

    /// The `limit` best passages for `query` (tantivy query syntax; syntax errors are
    /// forgiven by searching the words that parse).
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>> {
        let parsed = self.parse(query);
        let found = self.run_query(&*parsed, &PassageFilter::default(), limit)?;
        let searcher = self.reader.searcher();
        let mut snippets =
            SnippetGenerator::create(&searcher, &*parsed, self.fields.text).map_err(self.err("search"))?;
        snippets.set_max_num_chars(240);
        let mut hits = Vec::with_capacity(found.len());
        for (score, stored) in found {
            let snippet = snippets.snippet_from_doc(&stored);
            let mut text = snippet.fragment().to_owned();
            let mut highlights: Vec<(usize, usize)> = snippet.highlighted().iter().map(|r| (r.start, r.end)).collect();
            let fields = self.stored_fields(&stored);
            if text.is_empty() {
                // A match the snippet generator cannot place (a phrase across passages):
                // show the passage's start instead.
                text = fields.3.chars().take(240).collect();
                highlights.clear();
            }
            hits.push(Hit {
                doc: fields.0,
                page_index: fields.1,
                page_label: fields.2,
                score,
                snippet: text,
                highlights,
            });
        }
        Ok(hits)
    }

    /// The `limit` best passages for `question` (ranked as `ranking` says) within `filter`,
    /// best first, each cut to the fragment of at most about `max_chars` characters around
    /// its best matches (the whole passage when it is shorter).
    pub fn passages(
        &self,
        question: &str,
        ranking: Ranking,
        filter: &PassageFilter,
        limit: usize,
        max_chars: usize,
    ) -> Result<Vec<Passage>> {
        let query = match ranking {
            Ranking::Words => self.parse(question),
            Ranking::Question => self.question_query(question),
        };
        let found = self.run_query(&*query, filter, limit)?;
        let searcher = self.reader.searcher();
        let mut snippets =
            SnippetGenerator::create(&searcher, &*query, self.fields.text).map_err(self.err("search"))?;
        snippets.set_max_num_chars(max_chars.max(1));
        Ok(found
            .into_iter()
            .map(|(score, stored)| {
                let (doc, page_index, page_label, text) = self.stored_fields(&stored);
                let text = if text.chars().count() <= max_chars {
                    text
                } else {
                    let fragment = snippets.snippet_from_doc(&stored).fragment().to_owned();
                    if fragment.trim().is_empty() {
                        text.chars().take(max_chars).collect()
                    } else {
                        fragment
                    }
                };
                Passage { doc, page_index, page_label, score, text }
            })
            .collect())
    }

    /// `query` in tantivy's syntax, over the text as written; syntax errors are forgiven
    /// by searching the words that parse.
    fn parse(&self, query: &str) -> Box<dyn Query> {
        let parser = QueryParser::for_index(&self.index, vec![self.fields.text]);
        parser.parse_query_lenient(query).0
    }

    /// The query of [`Ranking::Question`] for a question in plain words.
    fn question_query(&self, question: &str) -> Box<dyn Query> {
        let f = self.fields;
        let words = words(question);
        let mut stemmer = self.index.tokenizers().get("en_stem");
        let mut stem = |word: &str| -> Option<Term> {
            let analyzer: &mut TextAnalyzer = stemmer.as_mut()?;
            let mut stream = analyzer.token_stream(word);
            stream.advance().then(|| Term::from_field_text(f.text_stem, &stream.token().text))
        };
        let stems: Vec<Option<Term>> = words.iter().map(|w| stem(w)).collect();
        let weighted = |query: Box<dyn Query>, weight: f32| -> (Occur, Box<dyn Query>) {
            (Occur::Should, Box::new(BoostQuery::new(query, weight)))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (word, stemmed) in words.iter().zip(&stems) {
            let exact = Term::from_field_text(f.text, word);
            clauses.push((Occur::Should, Box::new(TermQuery::new(exact, IndexRecordOption::WithFreqs))));
            if let Some(term) = stemmed {
                clauses
                    .push(weighted(Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)), STEM_WEIGHT));
            }
        }
        for pair in stems.windows(2) {
            if let [Some(a), Some(b)] = pair {
                let phrase = PhraseQuery::new_with_offset_and_slop(vec![(0, a.clone()), (1, b.clone())], PHRASE_SLOP);
                clauses.push(weighted(Box::new(phrase), PHRASE_WEIGHT));
            }
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Runs `text_query` restricted to `filter`: the `limit` best passages with their scores.
    fn run_query(
        &self,
        text_query: &dyn Query,
        filter: &PassageFilter,
        limit: usize,
    ) -> Result<Vec<(f32, TantivyDocument)>> {
        // Another process may have committed since; a reload is cheap.
        self.reader.reload().map_err(self.err("reload the reader"))?;
        let searcher = self.reader.searcher();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(doc) = filter.doc {
            let term = Term::from_field_u64(self.fields.doc_id, doc.0 as u64);
            clauses.push((Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
        }
        if let Some(max) = filter.max_page_index {
            let lower = Term::from_field_u64(self.fields.page_index, 0);
            let upper = Term::from_field_u64(self.fields.page_index, max as u64);
            clauses.push((Occur::Must, Box::new(RangeQuery::new(Bound::Included(lower), Bound::Included(upper)))));
        }
        let full: Box<dyn Query> = if clauses.is_empty() {
            text_query.box_clone()
        } else {
            clauses.push((Occur::Must, text_query.box_clone()));
            Box::new(BooleanQuery::new(clauses))
        };
        let top =
            searcher.search(&*full, &TopDocs::with_limit(limit.max(1)).order_by_score()).map_err(self.err("search"))?;
        let mut found = Vec::with_capacity(top.len());
        for (score, address) in top {
            let stored: TantivyDocument = searcher.doc(address).map_err(self.err("read a passage"))?;
            found.push((score, stored));
        }
        Ok(found)
    }

    /// Document, page index, page label and text of a stored passage.
    fn stored_fields(&self, stored: &TantivyDocument) -> (DocId, u32, String, String) {
        let u = |field| stored.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
        let s = |field| stored.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        (
            DocId(u(self.fields.doc_id) as i64),
            u(self.fields.page_index) as u32,
            s(self.fields.page_label),
            s(self.fields.text),
        )
    }

    /// Passages stored for `doc` (for checks and storage accounting).
    pub fn passage_count(&self, doc: DocId) -> Result<u64> {
        self.reader.reload().map_err(self.err("reload the reader"))?;
        let searcher = self.reader.searcher();
        let term = Term::from_field_u64(self.fields.doc_id, doc.0 as u64);
        let query = TermQuery::new(term, IndexRecordOption::Basic);
        let n = searcher.search(&query, &tantivy::collector::Count).map_err(self.err("count passages"))?;
        Ok(n as u64)
    }

    /// Bytes of the index directory.
    pub fn disk_bytes(&self) -> u64 {
        dir_bytes(&self.path)
    }
}

pub(crate) fn dir_bytes(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
