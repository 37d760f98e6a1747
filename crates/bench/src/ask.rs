//! Suite `ask`: answering a question about an ingested book, against the book's length.
//!
//! For each length (in pages of about 1,800 characters of the King James Bible, from the
//! data of `tools/ahn_train`): the book is read once into a library (W, S, optionally an
//! AHN block), then a question is asked repeatedly from the restored memory alone and with
//! passages; each time: restore time, time to the first answer token, prompt tokens, decode
//! speed. The baseline is re-reading the book under full attention for the question (the
//! prefill of the whole book), measured where the book fits the model's context.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use seahorse_ask::{AskOptions, Asker};
use seahorse_engine::{CancelToken, Logits, MemoryOptions, Model, ModelOptions, SessionOptions};
use seahorse_library::{Library, LibraryConfig, ReadOptions, Reader};
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
    #[arg(long)]
    pub block: Option<PathBuf>,
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
    pub reading_s: f64,
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

/// The library, document and earlier point of a book an earlier run read, if it is still
/// in `dir` with the same text and a final memory state for this reader's fingerprint.
fn reuse_book(
    dir: &Path,
    book_text: &str,
    reader: &Reader<'_>,
    earlier: &AskPoint,
) -> Result<Option<(Library, seahorse_library::DocId, AskPoint)>> {
    let file = dir.join(format!("kjv-{}.md", earlier.pages));
    if std::fs::read_to_string(&file).ok().as_deref() != Some(book_text) || !dir.join("library").exists() {
        return Ok(None);
    }
    let library = Library::open(&dir.join("library"), &LibraryConfig::default())?;
    let sha = seahorse_models::sha256_hex(book_text.as_bytes());
    let Some(doc) = library.store().document_by_sha256(&sha)? else { return Ok(None) };
    if doc.token_count != Some(earlier.tokens) || library.load_state(doc.id, reader.fingerprint(), None).is_err() {
        return Ok(None);
    }
    Ok(Some((library, doc.id, earlier.clone())))
}

pub fn run(args: &AskArgs, out: &Path) -> Result<()> {
    let model_path = crate::default_model()?;
    let cache = seahorse_models::cache_dir_in(|k| std::env::var_os(k));
    let home = cache.parent().map(PathBuf::from).unwrap_or(cache.clone());
    let text_path = args.text.clone().unwrap_or_else(|| home.join("data/text/train/kjv.txt"));
    let text = std::fs::read_to_string(&text_path).with_context(|| {
        format!("reading {} (fetch it with `cd tools && python -m ahn_train.data fetch`)", text_path.display())
    })?;
    let memory = MemoryOptions {
        window: args.window,
        sinks: args.sinks,
        block: args.block.clone(),
        merged_dir: cache.join("merged"),
    };
    let model = Model::load(&model_path, &ModelOptions { memory: Some(memory.clone()), ..Default::default() })?;
    let read = ReadOptions { n_threads: Some(args.threads), ..ReadOptions::default() };
    let reader = Reader::new(&model, &memory, read)?;
    let work = std::env::temp_dir().join("seahorse-bench-ask");
    let mut report = AskReport {
        model: model_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        cpu: seahorse_engine::cpu_name(),
        threads: args.threads,
        window: args.window,
        sinks: args.sinks,
        block: args
            .block
            .as_ref()
            .map(|b| b.file_name().map_or(b.display().to_string(), |n| n.to_string_lossy().into_owned())),
        question: QUESTION.to_owned(),
        points: Vec::new(),
    };
    let json = out.join("bench").join("ask.json");
    let previous: Option<AskReport> = if args.reuse_books {
        std::fs::read_to_string(&json).ok().and_then(|t| serde_json::from_str(&t).ok())
    } else {
        None
    };
    for &pages in &args.pages {
        let dir = work.join(pages.to_string());
        let book_text = book(&text, pages)?;
        let earlier = previous.as_ref().and_then(|p| p.points.iter().find(|q| q.pages == pages));
        let reused = match earlier {
            Some(point) => reuse_book(&dir, &book_text, &reader, point)?,
            None => None,
        };
        let (library, doc, reading_s, carried_full) = match reused {
            Some((library, doc, point)) => {
                eprintln!("ask: {pages} pages already read by an earlier run (--reuse-books)");
                (library, doc, point.reading_s, Some(point.full_reread_ms))
            }
            None => {
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)?;
                }
                std::fs::create_dir_all(&dir)?;
                let file = dir.join(format!("kjv-{pages}.md"));
                std::fs::write(&file, &book_text)?;
                let library = Library::open(&dir.join("library"), &LibraryConfig::default())?;
                let jobs = library.enqueue_paths(&[file], 0)?;
                eprintln!("ask: reading {pages} pages…");
                let started = Instant::now();
                let summary = library.run_jobs(&reader, &CancelToken::new(), |_| {})?;
                let reading_s = started.elapsed().as_secs_f64();
                if summary.done != 1 {
                    bail!("reading the {pages}-page book failed: {summary:?}");
                }
                let doc = library.store().job(jobs[0])?.doc.context("no document")?;
                (library, doc, reading_s, None)
            }
        };
        let tokens = library.store().document(doc)?.token_count.unwrap_or(0);
        let states = library.store().states(doc)?;
        let last = states.iter().find(|s| s.is_final).context("no final state")?;
        let asker = Asker::new(&library, &reader);
        let ask = |passages: bool| -> Result<Vec<seahorse_ask::Answer>> {
            let options = AskOptions { passages, max_tokens: 48, ..AskOptions::default() };
            (0..args.repetitions.max(1))
                .map(|_| Ok(asker.ask_document(doc, QUESTION, &[], &options, |_| {})?))
                .collect()
        };
        let memory_only = times(&ask(false)?);
        let with_passages = times(&ask(true)?);
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
            "ask: {pages} pages, {tokens} tokens: first token {:.2} s (memory), {:.2} s (passages); full re-read {}",
            memory_only.first_token_ms.median / 1e3,
            with_passages.first_token_ms.median / 1e3,
            full_reread_ms.map_or("beyond the context".to_owned(), |ms| format!("{:.1} s", ms / 1e3)),
        );
        report.points.push(AskPoint {
            pages,
            tokens,
            reading_s,
            state_raw_bytes: last.raw_bytes,
            state_stored_bytes: last.stored_bytes,
            memory_only,
            with_passages,
            full_reread_ms,
            reading_carried: carried_full.is_some(),
        });
        // Written after every length, so a long run that is stopped keeps what it measured.
        std::fs::create_dir_all(out.join("bench"))?;
        std::fs::write(&json, serde_json::to_string_pretty(&report)? + "\n")?;
    }
    Ok(())
}

impl AskReport {
    pub fn markdown(&self) -> String {
        let mut md = format!(
            "## Asking a read book (suite `ask`)\n\nModel `{}`, {}, {} threads, W = {}, S = {}, block: {}. \
             Question: \"{}\" (48 tokens of answer at most), each mode repeated; medians (min–max). \
             *Memory only*: the saved state restored, then the question. *With passages*: plus the \
             passages full-text search finds (their tokens are in the prompt column). *Full re-read*: \
             the prefill of the whole book under full attention, which a reader without a saved \
             memory pays for every new question (only where the book fits the model's 32K context).\n\n",
            self.model,
            self.cpu,
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
                "| {} | {} | {:.0} s{} | {:.1} / {:.1} MiB | {} | {} | {} | {} | {} | {:.1} | {}{} |\n",
                p.pages,
                p.tokens,
                p.reading_s,
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
            reading_s: 100.0,
            state_raw_bytes: 1 << 20,
            state_stored_bytes: 1 << 20,
            memory_only: times(first_token_ms),
            with_passages: times(first_token_ms + 2000.0),
            full_reread_ms: Some(5000.0),
            reading_carried,
        }
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
