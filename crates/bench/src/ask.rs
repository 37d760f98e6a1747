//! Suite `ask`: answering a question about an ingested book, against the book's length.
//!
//! For each length (in pages of about 1,800 characters of the King James Bible, from the
//! data of `tools/ahn_train`): the book is read once into a library (W, S, optionally an
//! AHN block), then a question is asked repeatedly from the restored memory alone and with
//! passages; each time: restore time, time to the first answer token, prompt tokens, decode
//! speed. The baseline is re-reading the book under full attention for the question (the
//! prefill of the whole book), measured where the book fits the model's context.
//!
//! Each book is kept in two libraries, one per checkpoint format (the compact one, and
//! today's before it: every checkpoint a whole state), made from one read (see
//! [`read_books`]): bytes on disk per book, and an "as of page N" question (N at 60% of the
//! book) from each, side by side.
//!
//! A run measures the lengths of `--pages`; the other lengths of an earlier `ask.json` with
//! the same model, machine and settings stay in the report, so the longest book can be
//! measured in a run of its own.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use seahorse_ask::{AskOptions, Asker};
use seahorse_engine::{CancelToken, Logits, MemoryOptions, Model, ModelOptions, SessionOptions};
use seahorse_library::{AsOfFrom, CheckpointFormat, DocId, Library, LibraryConfig, ReadOptions, Reader};
use serde::{Deserialize, Serialize};

use crate::stats::Summary;

/// Options of the suite.
#[derive(clap::Args, Clone)]
pub struct AskArgs {
    /// Book lengths in pages.
    #[arg(long, value_delimiter = ',', default_value = "50,300,1000")]
    pub pages: Vec<usize>,
    /// W (default: the library's default reading settings).
    #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().window)]
    pub window: u32,
    /// S (default: the library's default reading settings).
    #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().sinks)]
    pub sinks: u32,
    /// An AHN block (default: none, sinks + window).
    #[arg(long, conflicts_with = "shipped_block")]
    pub block: Option<PathBuf>,
    /// The AHN block shipped for the default model.
    #[arg(long)]
    pub shipped_block: bool,
    /// Repetitions of each question.
    #[arg(long, default_value_t = 3)]
    pub repetitions: usize,
    /// Longest book re-read with full attention (the model's context).
    #[arg(long, default_value_t = 32768)]
    pub full_max: usize,
    /// The source text (default: the KJV of `python -m ahn_train.data fetch`).
    #[arg(long)]
    pub text: Option<PathBuf>,
    /// CPU threads.
    #[arg(long, default_value_t = 2)]
    pub threads: i32,
    /// Keep a book an earlier run read (same text, same reading fingerprint, still in the
    /// work directory) and its reading and full re-read times from `ask.json`: only the
    /// questions are measured again (reading 1,000 pages takes most of an hour on 2 cores).
    #[arg(long)]
    pub reuse_books: bool,
}

/// One mode's repeated measurements.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AskTimes {
    pub restore_ms: Summary,
    pub first_token_ms: Summary,
    pub prompt_tokens: usize,
    /// Evaluating the prompt (absent in reports from before it was recorded).
    #[serde(default)]
    pub prefill_ms: Option<Summary>,
    pub decode_tokens_per_s: Summary,
}

/// One book length.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AskPoint {
    pub pages: usize,
    pub tokens: u64,
    /// `None`: the book was read by an earlier run whose reading time is not on record.
    pub reading_s: Option<f64>,
    pub state_raw_bytes: u64,
    pub state_stored_bytes: u64,
    pub memory_only: AskTimes,
    pub with_passages: AskTimes,
    /// Prefill of the whole book under full attention, where it fits.
    pub full_reread_ms: Option<f64>,
    /// `reading_s` and `full_reread_ms` come from an earlier run on the same book
    /// (`--reuse-books`); the question times are this run's.
    #[serde(default)]
    pub reading_carried: bool,
    /// The two checkpoint formats side by side (absent in reports from before).
    #[serde(default)]
    pub formats: Option<FormatComparison>,
    /// The CPU this length was measured on (`None`: the report's, in reports from before).
    /// Each length compares its formats within one run, on one machine; lengths measured on
    /// other machines are kept and say so.
    #[serde(default)]
    pub cpu: Option<String>,
}

impl AskPoint {
    /// The CPU this length was measured on (`report_cpu`, the report's, for points from before
    /// lengths recorded their own).
    fn machine<'a>(&'a self, report_cpu: &'a str) -> &'a str {
        self.cpu.as_deref().unwrap_or(report_cpu)
    }
}

/// One checkpoint format on one book.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FormatPoint {
    /// States stored for the book.
    pub states: usize,
    /// Their bytes on disk (compressed blobs).
    pub stored_bytes: u64,
    /// Reading the book with this format (`None`: not on record, see [`AskPoint::reading_s`]).
    pub reading_s: Option<f64>,
    /// Making the memory as of the page (restore, and the tokens read or re-read).
    pub as_of_restore_ms: Summary,
    /// First answer token of the "as of page" question (with passages).
    pub as_of_first_token_ms: Summary,
    /// Tokens read to make the memory as of the page.
    pub as_of_tokens_read: u64,
    /// Whether the window was re-read around an AHN state (compact) or a whole state was
    /// restored and read on from (exact).
    pub as_of_rebuilt: bool,
}

/// Today's format against the compact one, on the same book.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FormatComparison {
    /// The "as of" page (1-based).
    pub as_of_page: u32,
    /// Every checkpoint a whole state, `checkpoints_kept` = 4 (Seahorse before schema 5).
    pub full_states: FormatPoint,
    /// The final state whole, checkpoints as AHN states alone, within the byte budget.
    pub compact: FormatPoint,
    /// Whether both final states have the same raw bytes (sha256).
    pub final_identical: bool,
}

/// The suite's report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AskReport {
    pub model: String,
    pub cpu: String,
    pub threads: i32,
    pub window: u32,
    pub sinks: u32,
    pub block: Option<String>,
    pub question: String,
    pub points: Vec<AskPoint>,
}

const QUESTION: &str = "What did Jesus say to Nicodemus about being born again?";
const PAGE_CHARS: usize = 1_800;

/// A Markdown book of `pages` pages (one heading each) from `text`.
fn book(text: &str, pages: usize) -> Result<String> {
    let mut out = String::new();
    let mut rest = text;
    for page in 0..pages {
        if rest.len() < PAGE_CHARS {
            bail!("the source text is too short for {pages} pages");
        }
        let mut cut = PAGE_CHARS;
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let cut = rest[..cut].rfind('\n').filter(|&i| i > PAGE_CHARS / 2).unwrap_or(cut);
        out.push_str(&format!("# Page {}\n\n{}\n\n", page + 1, rest[..cut].trim()));
        rest = &rest[cut..];
    }
    Ok(out)
}

fn times(samples: &[seahorse_ask::Answer]) -> AskTimes {
    let f = |g: &dyn Fn(&seahorse_ask::Answer) -> f64| Summary::of(&samples.iter().map(g).collect::<Vec<_>>());
    AskTimes {
        restore_ms: f(&|a| a.timings.restore_ms),
        first_token_ms: f(&|a| a.timings.first_token_ms),
        prompt_tokens: samples[0].timings.prompt_tokens,
        prefill_ms: Some(f(&|a| a.timings.prefill_ms)),
        decode_tokens_per_s: f(&|a| {
            let decode_s = (a.timings.total_ms - a.timings.first_token_ms) / 1e3;
            a.timings.generated_tokens.saturating_sub(1) as f64 / decode_s.max(1e-3)
        }),
    }
}

/// A book read into a library, or found read by an earlier run.
struct ReadBook {
    library: Library,
    doc: DocId,
    reading_s: Option<f64>,
    carried: bool,
}

/// The book in `dir`, in two libraries: `library` with the states `reader` keeps and
/// `library-full-states` with those `today` keeps. Found read by an earlier run with the
/// same text and fingerprint (`reading_s` then comes from `earlier`), or read now: once,
/// by `every` (every checkpoint whole and as an AHN state alone), into a library then
/// copied, each copy thinned as its format's pass would have thinned it (the formats'
/// own retention code, replayed over the same checkpoints; a test checks that this keeps
/// exactly what a read in that format keeps). One read instead of two halves the run.
fn read_books(
    dir: &Path,
    book_text: &str,
    [every, reader, today]: [&Reader<'_>; 3],
    earlier: Option<(u64, Option<f64>)>,
    reuse_any: bool,
) -> Result<[ReadBook; 2]> {
    let file = dir.join("book.md");
    let names = ["library", "library-full-states"];
    let sha = seahorse_models::sha256_hex(book_text.as_bytes());
    let found = |name: &str, format: &Reader<'_>, tokens: Option<u64>| -> Result<Option<(Library, DocId)>> {
        let lib_dir = dir.join(name);
        if std::fs::read_to_string(&file).ok().as_deref() != Some(book_text) || !lib_dir.exists() {
            return Ok(None);
        }
        let library = Library::open(&lib_dir, &LibraryConfig::default())?;
        let doc = library.store().document_by_sha256(&sha)?;
        Ok(doc
            .filter(|d| {
                d.token_count.is_some()
                    && tokens.is_none_or(|t| d.token_count == Some(t))
                    && library.load_state(d.id, format.fingerprint(), None).is_ok()
            })
            .map(|d| (library, d.id)))
    };
    // With `--reuse-books` and no earlier report of this length (it was lost), the books
    // are still reused; their reading time is then not on record.
    let reuse = earlier.map(|(tokens, s)| (Some(tokens), s)).or(reuse_any.then_some((None, None)));
    if let Some((tokens, reading_s)) = reuse {
        if let (Some((a, doc_a)), Some((b, doc_b))) =
            (found(names[0], reader, tokens)?, found(names[1], today, tokens)?)
        {
            eprintln!("ask: {} read by an earlier run (--reuse-books)", dir.display());
            return Ok([
                ReadBook { library: a, doc: doc_a, reading_s, carried: true },
                ReadBook { library: b, doc: doc_b, reading_s, carried: true },
            ]);
        }
    }
    for name in names {
        if dir.join(name).exists() {
            std::fs::remove_dir_all(dir.join(name))?;
        }
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(&file, book_text)?;
    let first = dir.join(names[0]);
    let (doc, reading_s) = {
        let library = Library::open(&first, &LibraryConfig::default())?;
        let jobs = library.enqueue_paths(&[file], 0)?;
        eprintln!("ask: reading into {}…", first.display());
        let started = Instant::now();
        let summary = library.run_jobs(every, &CancelToken::new(), |_| {})?;
        let reading_s = started.elapsed().as_secs_f64();
        if summary.done != 1 {
            bail!("reading {} failed: {summary:?}", first.display());
        }
        (library.store().job(jobs[0])?.doc.context("no document")?, Some(reading_s))
    };
    copy_dir(&first, &dir.join(names[1]))?;
    let thinned = |name: &str, format: &Reader<'_>| -> Result<ReadBook> {
        let library = Library::open(&dir.join(name), &LibraryConfig::default())?;
        library.keep_states_as(doc, format)?;
        Ok(ReadBook { library, doc, reading_s, carried: false })
    };
    Ok([thinned(names[0], reader)?, thinned(names[1], today)?])
}

/// A closed library's folder copied, files and subfolders.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).with_context(|| format!("copying to {}", target.display()))?;
        }
    }
    Ok(())
}

/// One format's bytes on disk and "as of page" question.
fn format_point(
    book: &ReadBook,
    reader: &Reader<'_>,
    as_of_page: u32,
    from: AsOfFrom,
    repetitions: usize,
) -> Result<FormatPoint> {
    let states = book.library.store().states(book.doc)?;
    let asker = Asker::new(&book.library, reader);
    let options =
        AskOptions { as_of_page: Some(as_of_page - 1), as_of_from: from, max_tokens: 48, ..AskOptions::default() };
    let answers: Vec<seahorse_ask::Answer> = (0..repetitions.max(1))
        .map(|_| Ok(asker.ask_document(book.doc, QUESTION, &[], &options, |_| {})?))
        .collect::<Result<_>>()?;
    let summary = |g: &dyn Fn(&seahorse_ask::Answer) -> f64| Summary::of(&answers.iter().map(g).collect::<Vec<_>>());
    Ok(FormatPoint {
        states: states.len(),
        stored_bytes: states.iter().map(|s| s.stored_bytes).sum(),
        reading_s: book.reading_s,
        as_of_restore_ms: summary(&|a| a.timings.restore_ms),
        as_of_first_token_ms: summary(&|a| a.timings.first_token_ms),
        as_of_tokens_read: answers[0].sources.caught_up_tokens,
        as_of_rebuilt: answers[0].sources.window_rebuilt,
    })
}

/// The sha256 of a book's final state's raw bytes.
fn final_sha(book: &ReadBook, reader: &Reader<'_>) -> Result<String> {
    let state = book.library.load_state(book.doc, reader.fingerprint(), None)?;
    Ok(seahorse_models::sha256_hex(&state.bytes))
}

pub fn run(args: &AskArgs, out: &Path) -> Result<()> {
    let model_path = crate::default_model()?;
    let cache = seahorse_models::cache_dir_in(|k| std::env::var_os(k));
    let home = cache.parent().map(PathBuf::from).unwrap_or(cache.clone());
    let text_path = args.text.clone().unwrap_or_else(|| home.join("data/text/train/kjv.txt"));
    let text = std::fs::read_to_string(&text_path).with_context(|| {
        format!("reading {} (fetch it with `cd tools && python -m ahn_train.data fetch`)", text_path.display())
    })?;
    let block = if args.shipped_block {
        Some(seahorse_models::default_block(&cache)?.context("no AHN block is shipped for the default model")?)
    } else {
        args.block.clone()
    };
    let memory = MemoryOptions {
        window: args.window,
        sinks: args.sinks,
        block: block.clone(),
        merged_dir: cache.join("merged"),
    };
    let model = Model::load(&model_path, &ModelOptions { memory: Some(memory.clone()), ..Default::default() })?;
    let read = ReadOptions { n_threads: Some(args.threads), ..ReadOptions::default() };
    let reader = Reader::new(&model, &memory, read.clone())?;
    let today = ReadOptions { checkpoint_format: CheckpointFormat::FullStates, checkpoints_kept: 4, ..read.clone() };
    let today_reader = Reader::new(&model, &memory, today)?;
    let every_reader =
        Reader::new(&model, &memory, ReadOptions { checkpoint_format: CheckpointFormat::Every, ..read })?;
    let work = std::env::temp_dir().join("seahorse-bench-ask");
    let mut report = AskReport {
        model: model_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        cpu: seahorse_engine::cpu_name(),
        threads: args.threads,
        window: args.window,
        sinks: args.sinks,
        block: block
            .as_ref()
            .map(|b| b.file_name().map_or(b.display().to_string(), |n| n.to_string_lossy().into_owned())),
        question: QUESTION.to_owned(),
        points: Vec::new(),
    };
    let json = out.join("bench").join("ask.json");
    let previous: Option<AskReport> = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str::<AskReport>(&t).ok())
        .filter(|p| p.same_settings(&report));
    // Lengths this run does not measure stay as an earlier run with these settings left them
    // (a 1,000-page book can then be measured in a run of its own), with their machine.
    if let Some(p) = &previous {
        report.keep_other_lengths(p, &args.pages);
    }
    let previous = previous.filter(|_| args.reuse_books);
    for &pages in &args.pages {
        let dir = work.join(pages.to_string());
        let book_text = book(&text, pages)?;
        // A book on disk is reused only with a length measured on this machine.
        let earlier = previous
            .as_ref()
            .and_then(|p| p.points.iter().find(|q| q.pages == pages && q.machine(&p.cpu) == report.cpu));
        let [compact, full_states] = read_books(
            &dir,
            &book_text,
            [&every_reader, &reader, &today_reader],
            earlier.filter(|e| e.formats.is_some()).map(|e| (e.tokens, e.reading_s)),
            args.reuse_books,
        )?;
        let carried_full = earlier.filter(|_| compact.carried).map(|e| e.full_reread_ms);
        let (library, doc) = (&compact.library, compact.doc);
        let tokens = library.store().document(doc)?.token_count.unwrap_or(0);
        let states = library.store().states(doc)?;
        let last = states.iter().find(|s| s.is_final).context("no final state")?;
        let asker = Asker::new(library, &reader);
        let ask = |passages: bool| -> Result<Vec<seahorse_ask::Answer>> {
            let options = AskOptions { passages, max_tokens: 48, ..AskOptions::default() };
            (0..args.repetitions.max(1))
                .map(|_| Ok(asker.ask_document(doc, QUESTION, &[], &options, |_| {})?))
                .collect()
        };
        let memory_only = times(&ask(false)?);
        let with_passages = times(&ask(true)?);
        let as_of_page = ((pages as u32 * 3).div_ceil(5)).max(1);
        let formats = FormatComparison {
            as_of_page,
            full_states: format_point(&full_states, &today_reader, as_of_page, AsOfFrom::FullStates, args.repetitions)?,
            compact: format_point(&compact, &reader, as_of_page, AsOfFrom::Nearest, args.repetitions)?,
            final_identical: final_sha(&compact, &reader)? == final_sha(&full_states, &today_reader)?,
        };
        let full_reread_ms = if let Some(carried) = carried_full {
            carried
        } else if (tokens as usize) + 1024 <= args.full_max {
            let full = Model::load(&model_path, &ModelOptions::default())?;
            let book_tokens = library.document_tokens(&model, doc, 0..u64::MAX)?;
            let options = SessionOptions {
                n_ctx: (book_tokens.len() + 1024).next_multiple_of(256) as u32,
                n_threads: Some(args.threads),
                ..SessionOptions::default()
            };
            let mut session = full.session(&options)?;
            let started = Instant::now();
            session.evaluate(0, &book_tokens, Logits::Last, &CancelToken::new(), |_| {})?;
            Some(started.elapsed().as_secs_f64() * 1e3)
        } else {
            None
        };
        eprintln!(
            "ask: {pages} pages, {tokens} tokens: first token {:.2} s (memory), {:.2} s (passages); full re-read {}; \
             on disk {:.1} MB (compact) vs {:.1} MB (whole states); as of page {as_of_page}: {:.2} s vs {:.2} s",
            memory_only.first_token_ms.median / 1e3,
            with_passages.first_token_ms.median / 1e3,
            full_reread_ms.map_or("beyond the context".to_owned(), |ms| format!("{:.1} s", ms / 1e3)),
            formats.compact.stored_bytes as f64 / 1e6,
            formats.full_states.stored_bytes as f64 / 1e6,
            formats.compact.as_of_first_token_ms.median / 1e3,
            formats.full_states.as_of_first_token_ms.median / 1e3,
        );
        report.points.push(AskPoint {
            pages,
            tokens,
            reading_s: compact.reading_s,
            state_raw_bytes: last.raw_bytes,
            state_stored_bytes: last.stored_bytes,
            memory_only,
            with_passages,
            full_reread_ms,
            reading_carried: compact.carried,
            formats: Some(formats),
            cpu: Some(report.cpu.clone()),
        });
        report.points.sort_by_key(|p| p.pages);
        // Written after every length, so a long run that is stopped keeps what it measured.
        std::fs::create_dir_all(out.join("bench"))?;
        std::fs::write(&json, serde_json::to_string_pretty(&report)? + "\n")?;
    }
    Ok(())
}

impl AskReport {
    /// Whether `other` was measured with the same model, threads and settings (on any machine:
    /// each length records its own).
    fn same_settings(&self, other: &AskReport) -> bool {
        (&self.model, self.threads, self.window, self.sinks, &self.block, &self.question)
            == (&other.model, other.threads, other.window, other.sinks, &other.block, &other.question)
    }

    /// Takes the points of `earlier` (same settings) whose length is not in `measured`, each
    /// with the machine it was measured on.
    fn keep_other_lengths(&mut self, earlier: &AskReport, measured: &[usize]) {
        if self.same_settings(earlier) {
            self.points.extend(
                earlier
                    .points
                    .iter()
                    .filter(|q| !measured.contains(&q.pages))
                    .map(|q| AskPoint { cpu: Some(q.machine(&earlier.cpu).to_owned()), ..q.clone() }),
            );
            self.points.sort_by_key(|p| p.pages);
        }
    }

    /// "Measured on X", or which lengths were measured on which machine.
    fn machines(&self) -> String {
        let mut by_cpu: Vec<(String, Vec<usize>)> = Vec::new();
        for p in &self.points {
            let cpu = p.machine(&self.cpu);
            match by_cpu.iter_mut().find(|(c, _)| c == cpu) {
                Some((_, pages)) => pages.push(p.pages),
                None => by_cpu.push((cpu.to_owned(), vec![p.pages])),
            }
        }
        if by_cpu.len() <= 1 {
            return by_cpu.pop().map_or_else(|| self.cpu.clone(), |(cpu, _)| cpu);
        }
        let parts: Vec<String> = by_cpu
            .iter()
            .map(|(cpu, pages)| {
                let pages: Vec<String> = pages.iter().map(ToString::to_string).collect();
                format!("{} pages on {cpu}", pages.join(" and "))
            })
            .collect();
        format!("{} (each length's formats side by side in one run, on one machine)", parts.join(", "))
    }

    pub fn markdown(&self) -> String {
        let mut md = format!(
            "## Asking a read book (suite `ask`)\n\nModel `{}`, {}, {} threads, W = {}, S = {}, block: {}. \
             Question: \"{}\" (48 tokens of answer at most), each mode repeated; medians (min–max). \
             *Memory only*: the saved state restored, then the question. *With passages*: plus the \
             passages full-text search finds (their tokens are in the prompt column). *Full re-read*: \
             the prefill of the whole book under full attention, which a reader without a saved \
             memory pays for every new question (only where the book fits the model's 32K context).\n\n",
            self.model,
            self.machines(),
            self.threads,
            self.window,
            self.sinks,
            self.block
                .as_deref()
                .map(|b| format!("`{}`", Path::new(b).file_name().map_or(b.into(), |n| n.to_string_lossy())))
                .unwrap_or_else(|| "none (sinks + window)".into()),
            self.question,
        );
        md.push_str("| pages | tokens | reading once | state raw / stored | restore | first token, memory only | prompt | first token, with passages | prompt | decode tok/s | full re-read |\n");
        md.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
        let s = |x: &Summary| format!("{:.2} s ({:.2}–{:.2})", x.median / 1e3, x.min / 1e3, x.max / 1e3);
        for p in &self.points {
            md.push_str(&format!(
                "| {} | {} | {}{} | {:.1} / {:.1} MiB | {} | {} | {} | {} | {} | {:.1} | {}{} |\n",
                p.pages,
                p.tokens,
                p.reading_s.map_or("not on record".to_owned(), |s| format!("{s:.0} s")),
                if p.reading_carried { "\\*" } else { "" },
                p.state_raw_bytes as f64 / 1048576.0,
                p.state_stored_bytes as f64 / 1048576.0,
                s(&p.memory_only.restore_ms),
                s(&p.memory_only.first_token_ms),
                p.memory_only.prompt_tokens,
                s(&p.with_passages.first_token_ms),
                p.with_passages.prompt_tokens,
                p.with_passages.decode_tokens_per_s.median,
                p.full_reread_ms.map_or("beyond the context".to_owned(), |ms| format!("{:.1} s", ms / 1e3)),
                if p.reading_carried && p.full_reread_ms.is_some() { "\\*" } else { "" },
            ));
        }
        if self.points.iter().any(|p| p.reading_carried) {
            md.push_str(
                "\n\\* Carried over from an earlier run that read the same book with the same reading \
                 settings (`--reuse-books`); the restore and answer times are this run's.\n",
            );
        }
        let compared: Vec<(&AskPoint, &FormatComparison)> =
            self.points.iter().filter_map(|p| Some((p, p.formats.as_ref()?))).collect();
        if !compared.is_empty() {
            md.push_str(&formats_markdown(&compared));
        }
        if !self.points.is_empty() {
            let slow: Vec<String> = self
                .points
                .iter()
                .filter(|p| p.memory_only.first_token_ms.median > 1000.0)
                .map(|p| format!("{} pages", p.pages))
                .collect();
            md.push_str(&format!(
                "\nTarget: first answer token ≤ 1 s from the restored memory alone, at every length: {}.\n",
                if slow.is_empty() { "met".to_owned() } else { format!("not met at {}", slow.join(", ")) }
            ));
            // With passages: ≤ 1 s plus the prefill of the passages, i.e. the first token minus
            // the extra prefill time of the longer prompt (medians).
            let beyond: Option<Vec<(usize, f64, usize)>> = self
                .points
                .iter()
                .map(|p| {
                    let (w, m) = (p.with_passages.prefill_ms.as_ref()?, p.memory_only.prefill_ms.as_ref()?);
                    let extra_ms = (w.median - m.median).max(0.0);
                    let extra_tokens = p.with_passages.prompt_tokens.saturating_sub(p.memory_only.prompt_tokens);
                    Some((p.pages, p.with_passages.first_token_ms.median - extra_ms, extra_tokens))
                })
                .collect();
            if let Some(beyond) = beyond {
                let parts: Vec<String> = beyond
                    .iter()
                    .map(|(pages, rest_ms, tokens)| {
                        format!("{pages} pages {:.2} s (+{tokens} passage tokens)", rest_ms / 1e3)
                    })
                    .collect();
                md.push_str(&format!(
                    "With passages, ≤ 1 s plus the prefill of the passages: the first token less the passages' extra \
                     prefill time is {}: {}.\n",
                    parts.join(", "),
                    if beyond.iter().all(|(_, ms, _)| *ms <= 1000.0) { "met" } else { "not met" }
                ));
            }
        }
        md.push('\n');
        md
    }
}

/// Budget of memory states on disk per book (issue: a real library of many books).
const BOOK_BUDGET_BYTES: u64 = 25_000_000;
/// Longest acceptable wait for the first token of an "as of page N" question.
const AS_OF_FIRST_TOKEN_MS: f64 = 10_000.0;

fn formats_markdown(compared: &[(&AskPoint, &FormatComparison)]) -> String {
    let mut md = String::from(
        "\n### Memory states on disk, and \"as of page N\"\n\nEach book is read once, keeping every \
         checkpoint whole and as an AHN state alone; each format's library is a copy thinned by that \
         format's own retention, replayed over the same checkpoints (what a read in the format keeps: \
         tested), so the final states are the same pass's. *Whole states*: every checkpoint is the whole sequence state (window K/V, gates, AHN \
         state), 4 kept besides the final state (Seahorse before schema 5); \"as of page N\" restores the \
         nearest one and reads on to the end of the page. *Compact*: the final state whole, checkpoints \
         as the AHN state alone, thinned to fit 25 MB per book; \"as of page N\" re-reads the sinks and \
         the last 512 tokens before the end of the page around the nearest checkpoint's AHN state \
         (none before the page: the empty state). The question is asked as of the page at 60% of the book, with passages.\n\n\
         | pages | as of page | whole states: states, on disk | compact: states, on disk | final state identical | \
         whole states: restore, first token (tokens read) | compact: restore, first token (tokens re-read) |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let s = |x: &Summary| format!("{:.2} s", x.median / 1e3);
    for (p, f) in compared {
        md.push_str(&format!(
            "| {} | {} | {}, {:.1} MB | {}, {:.1} MB | {} | {}, {} ({}) | {}, {} ({}) |\n",
            p.pages,
            f.as_of_page,
            f.full_states.states,
            f.full_states.stored_bytes as f64 / 1e6,
            f.compact.states,
            f.compact.stored_bytes as f64 / 1e6,
            if f.final_identical { "yes" } else { "**no**" },
            s(&f.full_states.as_of_restore_ms),
            s(&f.full_states.as_of_first_token_ms),
            f.full_states.as_of_tokens_read,
            s(&f.compact.as_of_restore_ms),
            s(&f.compact.as_of_first_token_ms),
            f.compact.as_of_tokens_read,
        ));
    }
    let over: Vec<String> = compared
        .iter()
        .filter(|(_, f)| f.compact.stored_bytes > BOOK_BUDGET_BYTES)
        .map(|(p, _)| format!("{} pages", p.pages))
        .collect();
    md.push_str(&format!(
        "\nTarget: ≤ 25 MB of memory states on disk per book (compact): {}.\n",
        if over.is_empty() { "met".to_owned() } else { format!("not met at {}", over.join(", ")) }
    ));
    let slow: Vec<String> = compared
        .iter()
        .filter(|(_, f)| f.compact.as_of_first_token_ms.median > AS_OF_FIRST_TOKEN_MS)
        .map(|(p, _)| format!("{} pages", p.pages))
        .collect();
    md.push_str(&format!(
        "Target: an \"as of page N\" question's first token ≤ 10 s (compact): {}.\n",
        if slow.is_empty() { "met".to_owned() } else { format!("not met at {}", slow.join(", ")) }
    ));
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(first_token_ms: f64) -> AskTimes {
        AskTimes {
            restore_ms: Summary::of(&[100.0]),
            first_token_ms: Summary::of(&[first_token_ms]),
            prompt_tokens: 93,
            prefill_ms: None,
            decode_tokens_per_s: Summary::of(&[30.0]),
        }
    }

    fn point(pages: usize, first_token_ms: f64, reading_carried: bool) -> AskPoint {
        AskPoint {
            pages,
            tokens: pages as u64 * 470,
            reading_s: Some(100.0),
            state_raw_bytes: 1 << 20,
            state_stored_bytes: 1 << 20,
            memory_only: times(first_token_ms),
            with_passages: times(first_token_ms + 2000.0),
            full_reread_ms: Some(5000.0),
            reading_carried,
            formats: None,
            cpu: None,
        }
    }

    fn format_point(stored_bytes: u64, first_token_ms: f64, rebuilt: bool) -> FormatPoint {
        FormatPoint {
            states: 2,
            stored_bytes,
            reading_s: Some(60.0),
            as_of_restore_ms: Summary::of(&[first_token_ms / 2.0]),
            as_of_first_token_ms: Summary::of(&[first_token_ms]),
            as_of_tokens_read: 2112,
            as_of_rebuilt: rebuilt,
        }
    }

    #[test]
    fn a_run_keeps_the_lengths_an_earlier_run_with_the_same_settings_measured() {
        let report = |points: Vec<AskPoint>, block: Option<&str>| AskReport {
            model: "m".into(),
            cpu: "cpu".into(),
            threads: 2,
            window: 1024,
            sinks: 64,
            block: block.map(Into::into),
            question: "q".into(),
            points,
        };
        let earlier = report(vec![point(50, 600.0, false), point(300, 650.0, false)], Some("b"));
        let mut now = report(vec![point(300, 700.0, false), point(1000, 800.0, false)], Some("b"));
        now.keep_other_lengths(&earlier, &[300, 1000]);
        let kept: Vec<(usize, f64)> =
            now.points.iter().map(|p| (p.pages, p.memory_only.first_token_ms.median)).collect();
        assert_eq!(kept, [(50, 600.0), (300, 700.0), (1000, 800.0)]);
        let mut other_block = report(vec![point(1000, 800.0, false)], None);
        other_block.keep_other_lengths(&earlier, &[1000]);
        assert_eq!(other_block.points.len(), 1, "another block's numbers are not mixed in");
        assert!(now.markdown().contains("Model `m`, cpu, 2 threads"), "one machine: named once");

        // Lengths measured on another machine are kept, and the report says which is which.
        let mut elsewhere = report(vec![point(1000, 800.0, false)], Some("b"));
        elsewhere.cpu = "other cpu".into();
        elsewhere.points[0].cpu = Some("other cpu".into());
        elsewhere.keep_other_lengths(&earlier, &[1000]);
        let cpus: Vec<(usize, Option<&str>)> = elsewhere.points.iter().map(|p| (p.pages, p.cpu.as_deref())).collect();
        assert_eq!(cpus, [(50, Some("cpu")), (300, Some("cpu")), (1000, Some("other cpu"))]);
        assert!(
            elsewhere.markdown().contains("50 and 300 pages on cpu, 1000 pages on other cpu"),
            "{}",
            elsewhere.markdown()
        );
    }

    #[test]
    fn the_report_compares_the_checkpoint_formats_and_judges_their_targets() {
        let mut p = point(300, 700.0, false);
        p.formats = Some(FormatComparison {
            as_of_page: 180,
            full_states: format_point(90_000_000, 40_000.0, false),
            compact: format_point(24_000_000, 6_000.0, true),
            final_identical: true,
        });
        let mut report = AskReport {
            model: "m".into(),
            cpu: "cpu".into(),
            threads: 2,
            window: 1024,
            sinks: 64,
            block: None,
            question: "q".into(),
            points: vec![point(50, 700.0, false), p.clone()],
        };
        let md = report.markdown();
        assert!(
            md.contains(
                "| 300 | 180 | 2, 90.0 MB | 2, 24.0 MB | yes | 20.00 s, 40.00 s (2112) | 3.00 s, 6.00 s (2112) |"
            ),
            "{md}"
        );
        let section = md.split("### Memory states on disk").nth(1).expect("the comparison section");
        assert!(!section.contains("| 50 | "), "a point without the comparison has no row there: {md}");
        assert!(md.contains("≤ 25 MB of memory states on disk per book (compact): met."), "{md}");
        assert!(md.contains("first token ≤ 10 s (compact): met."), "{md}");
        let f = p.formats.as_mut().unwrap();
        f.compact = format_point(26_000_000, 12_000.0, true);
        f.final_identical = false;
        report.points = vec![p];
        let md = report.markdown();
        assert!(md.contains("| **no** |"), "{md}");
        assert!(md.contains("(compact): not met at 300 pages."), "{md}");
        assert!(md.contains("first token ≤ 10 s (compact): not met at 300 pages."), "{md}");
    }

    #[test]
    fn the_report_marks_carried_readings_and_judges_the_first_token_target() {
        let mut report = AskReport {
            model: "m".into(),
            cpu: "cpu".into(),
            threads: 2,
            window: 1024,
            sinks: 64,
            block: None,
            question: "q".into(),
            points: vec![point(50, 1100.0, false), point(300, 700.0, true)],
        };
        let md = report.markdown();
        assert!(md.contains("| 300 | 141000 | 100 s\\* |"), "{md}");
        assert!(md.contains("| 5.0 s\\* |"), "{md}");
        assert!(md.contains("Carried over from an earlier run"), "{md}");
        assert!(md.contains("at every length: not met at 50 pages."), "{md}");
        report.points[0].memory_only = times(900.0);
        report.points[1].reading_carried = false;
        let md = report.markdown();
        assert!(md.contains("at every length: met."), "{md}");
        assert!(!md.contains("Carried over"), "{md}");
        assert!(!md.contains("With passages, ≤ 1 s"), "no prefill times recorded: {md}");

        // 600 prompt tokens with passages vs 93: 2.4 s of the 3.0 s to the first token are
        // the passages' extra prefill, leaving 0.6 s
        for p in &mut report.points {
            p.memory_only.prefill_ms = Some(Summary::of(&[500.0]));
            p.with_passages.first_token_ms = Summary::of(&[3000.0]);
            p.with_passages.prompt_tokens = 600;
            p.with_passages.prefill_ms = Some(Summary::of(&[2900.0]));
        }
        let md = report.markdown();
        assert!(
            md.contains("is 50 pages 0.60 s (+507 passage tokens), 300 pages 0.60 s (+507 passage tokens): met."),
            "{md}"
        );
        report.points[1].with_passages.prefill_ms = Some(Summary::of(&[1500.0]));
        assert!(report.markdown().contains("300 pages 2.00 s (+507 passage tokens): not met."));
    }
}
