//! `seahorse-eval`: measures quality against the baselines and regenerates the reports in
//! `docs/` from the JSON it writes to `docs/eval/`:
//! - `ask`: answers on the same questions across modes (sliding window, retrieval, AHN memory,
//!   AHN + retrieval, full attention) → `docs/ask-eval.md`;
//! - `qa`: hand-written questions about real documents: retrieval recall, answer correctness,
//!   abstention and citation support by model and mode → `docs/qa-eval.md`;
//! - `memory`: per-token KL to full attention and perplexity of sinks + window and AHN on
//!   held-out text, and `tasks`: synthetic long-context tasks → `docs/memory-eval.md`.

mod book;
mod full_attention;
mod memory;
mod memory_report;
mod qa;
mod report;
mod run;
mod tasks;
mod whole_book;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Evaluate Seahorse's answers against its baselines")]
struct Cli {
    /// Where eval/*.json and ask-eval.md go.
    #[arg(long, default_value = "docs", global = true)]
    out: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Questions with exact answers about a long book, in every mode.
    Ask {
        /// Book lengths in tokens.
        #[arg(long, value_delimiter = ',', default_value = "16384")]
        tokens: Vec<usize>,
        /// W (default: the library's default reading settings).
        #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().window)]
        window: u32,
        /// S (default: the library's default reading settings).
        #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().sinks)]
        sinks: u32,
        /// A trained AHN block (default: the one shipped for the default model).
        #[arg(long, conflicts_with = "no_block")]
        block: Option<PathBuf>,
        /// Skip the AHN modes (they are reported as not run).
        #[arg(long)]
        no_block: bool,
        /// Facts inserted.
        #[arg(long, default_value_t = 8)]
        needles: usize,
        /// Seed of the facts.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Longest book read with full attention.
        #[arg(long, default_value_t = 32768)]
        full_attention_max: usize,
        /// Skip full attention and keep the full-attention answers of the existing
        /// docs/eval/ask-N.json when it is about the same book (full attention does not use
        /// the windowed memory, so a change to the memory leaves those answers as they were).
        #[arg(long)]
        keep_full: bool,
        /// The book's text, one or more files read one after another (default: the held-out
        /// Persuasion of `python -m ahn_train.data fetch`, then the held-out King James Bible
        /// books, which only books longer than the novel, about 110K tokens, reach).
        #[arg(long, value_delimiter = ',')]
        text: Vec<PathBuf>,
        /// Hand-written questions whose answers need a long stretch of the novel; each is asked
        /// of the books that hold its evidence.
        #[arg(long, default_value = "crates/eval/ask/whole-book.json")]
        whole_book: PathBuf,
        /// Scratch directory.
        #[arg(long)]
        work: Option<PathBuf>,
    },
    /// Per-token KL to the full-attention teacher and perplexity on held-out text, for sinks +
    /// window and AHN at several W.
    Memory {
        /// Context lengths reported (one pass of the longest gives all).
        #[arg(long, value_delimiter = ',', default_value = "8192,16384,32768")]
        tokens: Vec<usize>,
        /// Windows W.
        #[arg(long, value_delimiter = ',', default_value = "512,1024,2048")]
        windows: Vec<u32>,
        /// S (default: the library's default reading settings).
        #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().sinks)]
        sinks: u32,
        /// Held-out sequences (Persuasion, then the King James Bible's held-out books).
        #[arg(long, default_value_t = 1)]
        sequences: usize,
        /// Tokens per evaluation chunk (and micro-batch).
        #[arg(long, default_value_t = 512)]
        chunk: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Synthetic long-context tasks (passkey, multi-key needle, variable tracking, QA).
    Tasks {
        /// Prompt length (a generated length: 8192, 16384 or 32768).
        #[arg(long, default_value_t = 16384)]
        tokens: usize,
        /// Records per task.
        #[arg(long, default_value_t = 2)]
        per_task: usize,
        /// W (default: the library's default reading settings).
        #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().window)]
        window: u32,
        /// S (default: the library's default reading settings).
        #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().sinks)]
        sinks: u32,
        #[command(flatten)]
        common: Common,
    },
    /// Hand-written questions about real documents (crates/eval/qa/*.json): retrieval
    /// recall@k, then answers by model and mode.
    Qa {
        /// The question files.
        #[arg(long, default_value = "crates/eval/qa")]
        questions: PathBuf,
        /// The books (`scripts/fetch-sample-books all`; default: $SEAHORSE_BOOKS_DIR or
        /// ~/.cache/seahorse/books).
        #[arg(long)]
        books: Option<PathBuf>,
        /// Catalogue models that answer.
        #[arg(long, value_delimiter = ',', default_value = "qwen2.5-coder-0.5b")]
        models: Vec<String>,
        /// Ways of answering.
        #[arg(long, value_delimiter = ',', default_value = "passages")]
        modes: Vec<qa::Mode>,
        /// Only N questions of each document, evenly spread over its file (a quick check; the
        /// report says so).
        #[arg(long)]
        per_document: Option<usize>,
        /// Only measure retrieval.
        #[arg(long)]
        recall_only: bool,
        /// Only score the answers of the existing docs/eval/qa.json again (after a change to
        /// the scoring or the reference alternatives).
        #[arg(long)]
        rescore: bool,
        /// Check the answers of the existing report again with the current grounding
        /// checks (`seahorse_ask::grounding`; passages mode: its passages are found again),
        /// without making them again.
        #[arg(long, conflicts_with = "rescore")]
        reground: bool,
        /// Longest answer, in tokens.
        #[arg(long, default_value_t = 160)]
        max_tokens: usize,
        /// W (default: the library's default reading settings).
        #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().window)]
        window: u32,
        /// S (default: the library's default reading settings).
        #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().sinks)]
        sinks: u32,
        #[command(flatten)]
        common: Common,
        /// Scratch directory (the evaluation library).
        #[arg(long)]
        work: Option<PathBuf>,
        /// Name of the report: eval/NAME.json and NAME-eval.md (it must start with "qa").
        #[arg(long, default_value = "qa")]
        report: String,
    },
    /// Only regenerate ask-eval.md, memory-eval.md and qa-eval.md.
    Render,
}

#[derive(clap::Args)]
struct Common {
    /// The AHN block (default: the one shipped for the default model).
    #[arg(long, conflicts_with = "no_block")]
    block: Option<PathBuf>,
    /// Only sinks + window (and full attention).
    #[arg(long)]
    no_block: bool,
    /// Data directory of `python -m ahn_train.data fetch` (default: ~/.cache/seahorse/data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// CPU threads (default: all cores).
    #[arg(long)]
    threads: Option<i32>,
}

impl Common {
    fn block(&self) -> Result<Option<PathBuf>> {
        if self.no_block {
            return Ok(None);
        }
        match &self.block {
            Some(b) => Ok(Some(b.clone())),
            None => Ok(Some(
                seahorse_models::default_block(&seahorse_models::cache_dir_in(|k| std::env::var_os(k)))?
                    .context("the default model has no shipped AHN block; pass --block")?,
            )),
        }
    }

    fn data(&self) -> PathBuf {
        self.data.clone().unwrap_or_else(data_dir)
    }
}

fn data_dir() -> PathBuf {
    let cache = seahorse_models::cache_dir_in(|k| std::env::var_os(k));
    cache.parent().map(PathBuf::from).unwrap_or(cache).join("data")
}

/// Held-out sequences of `n` tokens: Persuasion first, then the Bible's held-out books.
fn heldout_sequences(
    model: &seahorse_engine::Model,
    data: &std::path::Path,
    count: usize,
    n: usize,
) -> Result<Vec<memory::Sequence>> {
    let mut out = Vec::new();
    for name in ["austen_persuasion.txt", "kjv.txt"].into_iter().take(count) {
        let path = data.join("text/heldout").join(name);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("reading {} (fetch it with `cd tools && python -m ahn_train.data fetch`)", path.display())
        })?;
        let tokens = model.tokenize(&text);
        if tokens.len() < n {
            anyhow::bail!("{} has {} tokens, fewer than {n}", path.display(), tokens.len());
        }
        out.push(memory::Sequence { source: name.trim_end_matches(".txt").to_owned(), tokens: tokens[..n].to_vec() });
    }
    if out.len() < count {
        anyhow::bail!("only {} held-out texts exist", out.len());
    }
    Ok(out)
}

/// Writes `report` as pretty JSON to `path` (creating its folder) and says so.
fn write_report(path: &std::path::Path, report: &impl serde::Serialize) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(report)? + "\n")?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Command::Memory { tokens, windows, sinks, sequences, chunk, common } = &cli.command {
        let base = seahorse_models::default_model(&seahorse_models::cache_dir_in(|k| std::env::var_os(k)))?;
        let settings = memory::Settings {
            lengths: tokens.clone(),
            windows: windows.clone(),
            sinks: *sinks,
            block: common.block()?,
            chunk: *chunk,
            threads: common.threads,
        };
        let longest = *tokens.iter().max().context("--tokens is empty")?;
        let tokenizer = seahorse_engine::Model::load(&base, &Default::default())?;
        let seqs = heldout_sequences(&tokenizer, &common.data(), *sequences, longest)?;
        drop(tokenizer);
        let report = memory::run(&base, &seqs, &settings)?;
        let path = cli.out.join("eval/memory.json");
        write_report(&path, &report)?;
    }
    if let Command::Tasks { tokens, per_task, window, sinks, common } = &cli.command {
        let base = seahorse_models::default_model(&seahorse_models::cache_dir_in(|k| std::env::var_os(k)))?;
        let mut records = Vec::new();
        for task in tasks::TASKS {
            records.extend(tasks::records(&common.data(), task, *tokens, *per_task)?);
        }
        let settings = tasks::Settings {
            length: *tokens,
            per_task: *per_task,
            window: *window,
            sinks: *sinks,
            block: common.block()?,
            threads: common.threads,
        };
        let report = tasks::run(&base, &records, &settings)?;
        let path = cli.out.join(format!("eval/tasks-{tokens}.json"));
        write_report(&path, &report)?;
    }
    if let Command::Qa {
        questions,
        books,
        models,
        modes,
        per_document,
        recall_only,
        rescore,
        reground,
        max_tokens,
        window,
        sinks,
        common,
        work,
        report: name,
    } = &cli.command
    {
        if !name.starts_with("qa") || name.contains(['/', '\\']) {
            anyhow::bail!("--report must be a file name starting with \"qa\"");
        }
        let path = cli.out.join("eval").join(format!("{name}.json"));
        if *rescore {
            let text = std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
            let mut report: qa::Report = serde_json::from_str(&text)?;
            let changed = qa::rescore::rescore(&mut report, questions)?;
            eprintln!("rescored: {changed} verdict(s) changed");
            write_report(&path, &report)?;
        }
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
        let books = books.clone().unwrap_or_else(|| {
            std::env::var_os("SEAHORSE_BOOKS_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".cache/seahorse/books"))
        });
        let settings = qa::Settings {
            window: *window,
            sinks: *sinks,
            block: common.block()?.map(|b| b.to_string_lossy().into_owned()),
            models: models.clone(),
            modes: modes.clone(),
            per_document: *per_document,
            max_tokens: *max_tokens,
        };
        let work = work.clone().unwrap_or_else(|| std::env::temp_dir().join("seahorse-eval-qa"));
        let models_dir = seahorse_models::cache_dir_in(|k| std::env::var_os(k));
        let inputs = qa::Inputs { questions, books: &books, models: &models_dir, work: &work };
        if *reground {
            let text = std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
            let mut report: qa::Report = serde_json::from_str(&text)?;
            let changed = qa::reground::reground(&mut report, &inputs)?;
            eprintln!("regrounded: {changed} answer(s) shown differently");
            write_report(&path, &report)?;
        } else if !*rescore {
            let report = qa::run(&inputs, &settings, *recall_only)?;
            write_report(&path, &report)?;
        }
    }
    if let Command::Ask {
        tokens,
        window,
        sinks,
        block,
        no_block,
        needles,
        seed,
        full_attention_max,
        keep_full,
        text,
        whole_book: whole_book_file,
        work,
    } = cli.command
    {
        let block = match (block, no_block) {
            (_, true) => None,
            (Some(b), false) => Some(b),
            (None, false) => seahorse_models::default_block(&seahorse_models::cache_dir_in(|k| std::env::var_os(k)))?,
        };
        let texts = if text.is_empty() {
            vec![data_dir().join("text/heldout/austen_persuasion.txt"), data_dir().join("text/heldout/kjv.txt")]
        } else {
            text
        };
        let mut novel = String::new();
        let mut sources = Vec::new();
        for path in &texts {
            let part = std::fs::read_to_string(path).with_context(|| {
                format!("reading {} (fetch it with `cd tools && python -m ahn_train.data fetch`)", path.display())
            })?;
            if !novel.is_empty() {
                novel.push_str("\n\n");
            }
            novel.push_str(&part);
            sources.push((memory::file_name(path), part.chars().count()));
        }
        let whole_book_questions = whole_book::WholeBookQuestions::load(&whole_book_file)?;
        // The whole-book questions are about one text; a book made of others gets none.
        let whole_book =
            sources.iter().any(|(name, _)| *name == whole_book_questions.source).then_some(&whole_book_questions);
        if whole_book.is_none() {
            eprintln!(
                "no whole-book questions: they are about {}, which this book does not hold",
                whole_book_questions.source
            );
        }
        let work = work.unwrap_or_else(|| std::env::temp_dir().join("seahorse-eval"));
        let model = seahorse_models::default_model(&seahorse_models::cache_dir_in(|k| std::env::var_os(k)))?;
        for n in tokens {
            let settings = run::Settings {
                tokens: n,
                window,
                sinks,
                block: block.clone(),
                needles,
                seed,
                full_attention_max,
                keep_full,
                text_source: String::new(), // set by run::run to the files the book reaches
            };
            let mut report = run::run(&model, &novel, &sources, whole_book, &settings, &work.join(n.to_string()))?;
            let path = cli.out.join("eval").join(format!("ask-{n}.json"));
            if keep_full {
                let previous: Option<run::LengthReport> =
                    std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok());
                if let Some(p) = previous {
                    report.carry_full_attention_from(&p);
                }
            }
            write_report(&path, &report)?;
        }
    }
    report::render(&cli.out)?;
    memory_report::render(&cli.out)?;
    qa::report::render(&cli.out)?;
    eprintln!(
        "wrote {}, {} and {}",
        cli.out.join("ask-eval.md").display(),
        cli.out.join("memory-eval.md").display(),
        cli.out.join("qa-eval.md").display()
    );
    Ok(())
}
