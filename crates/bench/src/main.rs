//! `seahorse-bench`: measures the engine against its baselines on the same model and
//! machine, in the same run; writes JSON and SVG plots to `docs/bench/` and regenerates
//! `docs/benchmarks.md` from them.
//!
//! Suites: `prefill` (CPU build vs stock llama.cpp, see prefill.rs), `stream` (reading a
//! long document: AHN vs sinks + sliding window vs full attention, see stream.rs) and `ask`
//! (time to the first answer token from a saved memory against the book's length, see ask.rs);
//! `gpu-import` keeps what `crates/bench/gpu/run` measured on a lent GPU machine, per backend
//! (gpu/).

mod accounting;
mod ask;
mod gpu;
mod plot;
mod prefill;
mod report;
mod stats;
mod stock;
mod stream;
mod targets;
mod threads;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Benchmark Seahorse against its baselines")]
struct Cli {
    /// Where bench/*.json, the plots and benchmarks.md go.
    #[arg(long, default_value = "docs", global = true)]
    out: PathBuf,
    #[command(subcommand)]
    suite: Suite,
}

#[derive(Subcommand)]
enum Suite {
    /// Prompt processing and decoding vs stock llama.cpp.
    Prefill(prefill::PrefillArgs),
    /// Streaming a long token sequence: throughput and memory against position.
    Stream(stream::StreamArgs),
    /// Keep the modes of a stream.json written elsewhere (e.g. one long mode run with another
    /// --out); the other modes stay when the settings agree.
    StreamImport {
        /// The stream.json to import.
        file: PathBuf,
        /// A sentence the report shows with the imported modes (e.g. other work that shared
        /// the machine for a stretch of the run).
        #[arg(long)]
        note: Option<String>,
    },
    /// One mode of `stream` (run by `stream` in a child process, so memory is per mode).
    #[command(hide = true)]
    StreamWorker(stream::WorkerArgs),
    /// Asking a read book: time to first token from the restored memory, against length.
    Ask(ask::AskArgs),
    /// Throughput at 1, 2, … threads, and AHN / window, in interleaved repeated runs.
    Threads(threads::ThreadsArgs),
    /// Import what `crates/bench/gpu/run` measured on a GPU machine (its output directory).
    GpuImport {
        /// The directories the script wrote (its $OUT), one per run; runs are kept per backend
        /// (CUDA, Vulkan), and each part of a backend's report comes from its last run that has it.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// Only regenerate benchmarks.md from the JSON files.
    Render,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.suite {
        Suite::Prefill(args) => prefill::run(&args, &cli.out)?,
        Suite::Stream(args) => stream::run(&args, &cli.out)?,
        Suite::StreamWorker(args) => return stream::worker(&args),
        Suite::StreamImport { file, note } => stream::import(&file, note.as_deref(), &cli.out)?,
        Suite::Ask(args) => ask::run(&args, &cli.out)?,
        Suite::Threads(args) => threads::run(&args, &cli.out)?,
        Suite::GpuImport { dirs } => {
            for report in gpu::import_runs(&dirs)? {
                report.write(&cli.out)?;
            }
        }
        Suite::Render => {}
    }
    report::render(&cli.out)?;
    eprintln!("wrote {}", cli.out.join("benchmarks.md").display());
    Ok(())
}

/// The default model, fetched if needed.
pub fn default_model() -> Result<PathBuf> {
    Ok(seahorse_models::default_model(&seahorse_models::cache_dir_in(|k| std::env::var_os(k)))?)
}
