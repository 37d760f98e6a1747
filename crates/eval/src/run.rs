//! One evaluation at one book length: read the book with each memory configuration, then ask
//! every question in every mode.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use seahorse_ask::citations::Citation;
use seahorse_ask::{AskOptions, Asker};
use seahorse_engine::{CancelToken, MemoryOptions, Model, ModelOptions};
use seahorse_library::{DocId, Library, LibraryConfig, ReadOptions, Reader};
use serde::{Deserialize, Serialize};

use crate::book::{self, Book, Question};
use crate::full_attention::FullAttention;
use crate::whole_book::WholeBookQuestions;

/// Settings of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub tokens: usize,
    pub window: u32,
    pub sinks: u32,
    pub block: Option<PathBuf>,
    pub needles: usize,
    pub seed: u64,
    pub full_attention_max: usize,
    /// Full attention not rerun: its answers are to be carried from an earlier run.
    #[serde(default)]
    pub keep_full: bool,
    pub text_source: String,
}

/// One answer, scored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scored {
    pub mode: String,
    pub question: String,
    pub kind: String,
    pub beyond_window: bool,
    pub score: f64,
    pub answer: String,
    pub cited_pages: usize,
    pub cited_pages_with_answer: usize,
    pub dropped_citations: usize,
    pub prompt_tokens: usize,
    pub first_token_ms: f64,
    pub total_ms: f64,
}

/// What one length produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LengthReport {
    pub settings: Settings,
    pub model: String,
    pub cpu: String,
    pub book_tokens: usize,
    pub pages: usize,
    /// Seconds to read the book, per memory configuration.
    pub reading_seconds: Vec<(String, f64)>,
    pub answers: Vec<Scored>,
    /// Modes that could not run, and why.
    pub skipped: Vec<(String, String)>,
    /// Remarks on how this report was made (e.g. answers carried over from an earlier run).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl LengthReport {
    /// Takes the full-attention answers of `previous` (a run on the same book: same length,
    /// facts and seed) when this run skipped full attention. Full attention never touches the
    /// windowed memory, so its answers do not change when only the memory does.
    pub fn carry_full_attention_from(&mut self, previous: &LengthReport) -> bool {
        let same_book = previous.book_tokens == self.book_tokens
            && previous.settings.needles == self.settings.needles
            && previous.settings.seed == self.settings.seed
            && previous.settings.text_source == self.settings.text_source;
        let have = self.answers.iter().any(|a| a.mode == "full");
        let prev: Vec<Scored> = previous.answers.iter().filter(|a| a.mode == "full").cloned().collect();
        // Every question of this run must have its full-attention answer (questions may have
        // been added since).
        let covered = self.answers.iter().all(|a| prev.iter().any(|p| p.question == a.question));
        if !same_book || have || prev.is_empty() || !covered {
            return false;
        }
        self.answers.extend(prev);
        self.skipped.retain(|(m, _)| m != "full");
        if let Some(r) = previous.reading_seconds.iter().find(|(m, _)| m == "full") {
            self.reading_seconds.push(r.clone());
        }
        self.notes.push(format!(
            "Full-attention answers carried over from the previous run on the same book (model {}, {}).",
            previous.model, previous.cpu
        ));
        true
    }
}

/// The names of the sources (joined with "\n\n") that the first `chars` characters reach.
fn sources_reached(sources: &[(String, usize)], chars: usize) -> String {
    let mut names = Vec::new();
    let mut start = 0;
    for (name, len) in sources {
        if start >= chars && !names.is_empty() {
            break;
        }
        names.push(name.as_str());
        start += len + 2;
    }
    names.join("+")
}

/// Reads `book` into a new library under `dir` with the given memory.
fn read_book(dir: &Path, model: &Model, memory: &MemoryOptions, text: &str) -> Result<(Library, DocId, f64)> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let file = dir.join("book.txt");
    std::fs::write(&file, text)?;
    let library = Library::open(&dir.join("library"), &LibraryConfig::default())?;
    let reader = Reader::new(model, memory, ReadOptions::default())?;
    let jobs = library.enqueue_paths(&[file], 0)?;
    let started = Instant::now();
    let summary = library.run_jobs(&reader, &CancelToken::new(), |_| {})?;
    if summary.done != 1 {
        bail!("reading the evaluation book failed: {summary:?}");
    }
    let doc = library.store().job(jobs[0])?.doc.context("the job has no document")?;
    Ok((library, doc, started.elapsed().as_secs_f64()))
}

fn load(path: &Path, memory: Option<MemoryOptions>) -> Result<Model> {
    Ok(Model::load(path, &ModelOptions { memory, ..Default::default() })?)
}

/// Scores an answer against a question and the pages of the document.
#[allow(clippy::too_many_arguments)]
fn scored(
    mode: &str,
    q: &Question,
    beyond_window: bool,
    text: &str,
    citations: &[Citation],
    dropped: usize,
    page_texts: &[String],
    timings: (usize, f64, f64),
) -> Scored {
    let mut cited = 0;
    let mut with_answer = 0;
    for c in citations {
        for p in &c.pages {
            cited += 1;
            let page = page_texts.get(p.page_index as usize).map_or("", String::as_str);
            if q.supported_by(page) {
                with_answer += 1;
            }
        }
    }
    Scored {
        mode: mode.to_owned(),
        question: q.id.clone(),
        kind: q.kind.clone(),
        beyond_window,
        score: q.score(text),
        answer: text.to_owned(),
        cited_pages: cited,
        cited_pages_with_answer: with_answer,
        dropped_citations: dropped,
        prompt_tokens: timings.0,
        first_token_ms: timings.1,
        total_ms: timings.2,
    }
}

/// Runs every mode on one book length.
///
/// `sources`: the files `novel` was joined from (name, characters, in order); the report names
/// those the book reaches. `whole_book`: hand-written questions, asked when the book holds
/// their evidence.
pub fn run(
    model_path: &Path,
    novel: &str,
    sources: &[(String, usize)],
    whole_book: Option<&WholeBookQuestions>,
    settings: &Settings,
    work: &Path,
) -> Result<LengthReport> {
    let merged_dir = seahorse_models::cache_dir_in(|k| std::env::var_os(k)).join("merged");
    let window_memory =
        MemoryOptions { window: settings.window, sinks: settings.sinks, block: None, merged_dir: merged_dir.clone() };
    let window_model = load(model_path, Some(window_memory.clone()))?;
    let mut book: Book = book::build(&window_model, novel, settings.tokens, settings.needles, settings.seed);
    if let Some(questions) = whole_book {
        book.questions.extend(questions.answerable_in(&book.text));
    }
    let mut report = LengthReport {
        settings: Settings { text_source: sources_reached(sources, book.source_chars), ..settings.clone() },
        model: model_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        cpu: seahorse_engine::cpu_name(),
        book_tokens: 0,
        pages: 0,
        reading_seconds: Vec::new(),
        answers: Vec::new(),
        skipped: Vec::new(),
        notes: Vec::new(),
    };

    // Sliding window (and retrieval, which needs only the index).
    eprintln!("reading the book with sinks + window…");
    let (library, doc, secs) = read_book(&work.join("window"), &window_model, &window_memory, &book.text)?;
    report.reading_seconds.push(("window".into(), secs));
    let pages = library.store().pages(doc)?;
    let page_texts: Vec<String> = pages.iter().map(|p| p.text.clone()).collect();
    report.pages = pages.len();
    report.book_tokens = library.store().document(doc)?.token_count.unwrap_or(0) as usize;
    let total = report.book_tokens as f64;
    let beyond = |q: &Question| q.depth.is_none_or(|d| d * total < total - settings.window as f64);
    let reader = Reader::new(&window_model, &window_memory, ReadOptions::default())?;
    let asker = Asker::new(&library, &reader);
    let modes: [(&str, bool, bool); 3] =
        [("window", true, false), ("retrieval", false, true), ("window+retrieval", true, true)];
    for (mode, memory, passages) in modes {
        ask_all(&asker, doc, &book, mode, memory, passages, &page_texts, &beyond, &mut report)?;
    }
    drop(reader);

    // AHN memory (needs a trained block).
    match &settings.block {
        Some(block) => {
            let ahn_memory = MemoryOptions { block: Some(block.clone()), ..window_memory.clone() };
            let ahn_model = load(model_path, Some(ahn_memory.clone()))?;
            eprintln!("reading the book with AHN memory…");
            let (library, doc, secs) = read_book(&work.join("ahn"), &ahn_model, &ahn_memory, &book.text)?;
            report.reading_seconds.push(("ahn".into(), secs));
            let reader = Reader::new(&ahn_model, &ahn_memory, ReadOptions::default())?;
            let asker = Asker::new(&library, &reader);
            for (mode, passages) in [("ahn", false), ("ahn+retrieval", true)] {
                ask_all(&asker, doc, &book, mode, true, passages, &page_texts, &beyond, &mut report)?;
            }
        }
        None => {
            for mode in ["ahn", "ahn+retrieval"] {
                report.skipped.push((mode.into(), "run with --no-block".into()));
            }
        }
    }

    // Full attention: read once, then every question from a restored copy.
    // The question (about 100 tokens) and the answer (96 at most) must fit too.
    if report.book_tokens + 512 > settings.full_attention_max {
        report.skipped.push((
            "full".into(),
            format!(
                "{} tokens, with 512 for the question and answer, exceed the full-attention limit of {}",
                report.book_tokens, settings.full_attention_max
            ),
        ));
    } else if settings.keep_full {
        report.skipped.push(("full".into(), "not rerun (--keep-full) and no earlier answers on this book".into()));
    } else {
        full_attention(model_path, &library, doc, &window_model, &book, &page_texts, &mut report)?;
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn ask_all(
    asker: &Asker<'_>,
    doc: DocId,
    book: &Book,
    mode: &str,
    memory: bool,
    passages: bool,
    page_texts: &[String],
    beyond: &dyn Fn(&Question) -> bool,
    report: &mut LengthReport,
) -> Result<()> {
    for q in &book.questions {
        let options = AskOptions { memory, passages, max_tokens: 96, ..AskOptions::default() };
        let a = asker.ask_document(doc, &q.text, &[], &options, |_| {})?;
        let s = scored(
            mode,
            q,
            beyond(q),
            &a.text,
            &a.citations,
            a.dropped.len(),
            page_texts,
            (a.timings.prompt_tokens, a.timings.first_token_ms, a.timings.total_ms),
        );
        eprintln!("  {mode:<17} {:<16} {:.2}  {}", q.id, s.score, one_line(&a.text));
        report.answers.push(s);
    }
    Ok(())
}

fn full_attention(
    model_path: &Path,
    library: &Library,
    doc: DocId,
    tokenizer: &Model,
    book: &Book,
    page_texts: &[String],
    report: &mut LengthReport,
) -> Result<()> {
    let model = load(model_path, None)?;
    let tokens = library.document_tokens(tokenizer, doc, 0..u64::MAX)?;
    eprintln!("reading the book with full attention ({} tokens)…", tokens.len());
    let read = FullAttention::read(&model, library, doc, &tokens)?;
    report.reading_seconds.push(("full".into(), read.seconds));
    for q in &book.questions {
        let (spoken, total_ms) = read.answer(&model, &q.text, 96)?;
        let (generation, text) = (&spoken.generation, &spoken.text);
        let s = scored(
            "full",
            q,
            true,
            text,
            &spoken.citations,
            spoken.dropped.len(),
            page_texts,
            (generation.prompt_tokens, spoken.first_token_ms.unwrap_or(total_ms), total_ms),
        );
        eprintln!(
            "  {:<17} {:<16} {:.2}  {} ({:?}, {} tokens)",
            "full",
            q.id,
            s.score,
            one_line(text),
            generation.stop,
            generation.generated_tokens
        );
        report.answers.push(s);
    }
    Ok(())
}

fn one_line(text: &str) -> String {
    let t: String = text.replace('\n', " ").chars().take(90).collect();
    t
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A report with one exact answer (score 1) per mode.
    pub(crate) fn report(tokens: usize, modes: &[&str]) -> LengthReport {
        LengthReport {
            settings: Settings {
                tokens,
                window: 1024,
                sinks: 64,
                block: None,
                needles: 8,
                seed: 7,
                full_attention_max: 0,
                keep_full: false,
                text_source: "p.txt".into(),
            },
            model: "m.gguf".into(),
            cpu: "cpu".into(),
            book_tokens: tokens,
            pages: 3,
            reading_seconds: vec![("full".into(), 5.0)],
            answers: modes
                .iter()
                .map(|m| Scored {
                    mode: (*m).into(),
                    question: "q".into(),
                    kind: "exact".into(),
                    beyond_window: true,
                    score: 1.0,
                    answer: "a".into(),
                    cited_pages: 0,
                    cited_pages_with_answer: 0,
                    dropped_citations: 0,
                    prompt_tokens: 1,
                    first_token_ms: 1.0,
                    total_ms: 1.0,
                })
                .collect(),
            skipped: vec![("full".into(), "skipped".into())],
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_book_names_only_the_sources_it_reaches() {
        let sources = [("a.txt".to_owned(), 100), ("b.txt".to_owned(), 50)];
        assert_eq!(sources_reached(&sources, 10), "a.txt");
        assert_eq!(sources_reached(&sources, 100), "a.txt");
        assert_eq!(sources_reached(&sources, 103), "a.txt+b.txt");
        assert_eq!(sources_reached(&sources, 1000), "a.txt+b.txt");
    }

    #[test]
    fn full_attention_answers_carry_over_only_for_the_same_book() {
        let previous = report(100, &["window", "full"]);
        let mut other_book = report(101, &["window"]);
        other_book.reading_seconds.clear();
        assert!(!other_book.carry_full_attention_from(&previous));
        let mut same = report(100, &["window", "ahn"]);
        same.reading_seconds.clear();
        assert!(same.carry_full_attention_from(&previous));
        assert_eq!(same.answers.iter().filter(|a| a.mode == "full").count(), 1);
        assert!(same.skipped.is_empty() && same.notes.len() == 1);
        assert_eq!(same.reading_seconds, vec![("full".to_owned(), 5.0)]);
        // Never twice, never over answers of its own.
        assert!(!same.carry_full_attention_from(&previous));
        // Not when this run asks a question the earlier one did not.
        let mut more = report(100, &["window"]);
        let mut added = more.answers[0].clone();
        added.question = "wb-new".into();
        more.answers.push(added);
        assert!(!more.carry_full_attention_from(&previous));
    }
}
