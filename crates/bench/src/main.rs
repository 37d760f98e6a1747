//! `seahorse-bench`: measures the engine and, in the same run, stock llama.cpp on the same
//! model and machine; writes JSON, an SVG plot and `docs/benchmarks.md`.
//!
//! Suite `prefill` (the foundation's check of the CPU build): prompt processing of a
//! 512-token prompt and decoding of 64 tokens with 2 threads, through the patched
//! llama.cpp inside Seahorse, next to `llama-bench` built from the same vendored llama.cpp
//! without patches and with the same CPU options (`scripts/build-stock-llama-bench`).

mod plot;
mod report;
mod stats;
mod stock;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use seahorse_engine::{GenerateOptions, Model, ModelOptions};

use crate::report::{Measurement, PrefillReport};
use crate::stats::Summary;

#[derive(Parser)]
#[command(about = "Benchmark Seahorse against stock llama.cpp")]
struct Args {
    /// Prompt tokens for the prompt-processing test.
    #[arg(long, default_value_t = 512)]
    prompt_tokens: usize,
    /// Tokens decoded for the generation test.
    #[arg(long, default_value_t = 64)]
    decode_tokens: usize,
    /// Repetitions of each measurement (the report shows median, min and max).
    #[arg(long, default_value_t = 5)]
    repetitions: usize,
    /// CPU threads.
    #[arg(long, default_value_t = 2)]
    threads: i32,
    /// The stock `llama-bench` binary to compare with; without it the baseline is skipped
    /// and the report says so.
    #[arg(long)]
    stock_llama_bench: Option<PathBuf>,
    /// Where the JSON, the plot and benchmarks.md go.
    #[arg(long, default_value = "docs")]
    out: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let spec = seahorse_models::DEFAULT_MODEL;
    let dir = seahorse_models::cache_dir();
    let model_path = match seahorse_models::locate(spec, &dir) {
        Some(p) => p,
        None => seahorse_models::fetch(spec, &dir, |_| {})?,
    };

    eprintln!("seahorse engine: {} reps of pp{} / tg{}", args.repetitions, args.prompt_tokens, args.decode_tokens);
    let seahorse = bench_engine(&model_path, &args)?;
    let stock = match &args.stock_llama_bench {
        Some(bin) => {
            eprintln!("stock llama-bench: {}", bin.display());
            Some(stock::run(bin, &model_path, &args)?)
        }
        None => None,
    };

    let info = seahorse_engine::Engine::get()?.build_info();
    let report = PrefillReport {
        model: spec.id.to_owned(),
        threads: args.threads,
        prompt_tokens: args.prompt_tokens,
        decode_tokens: args.decode_tokens,
        repetitions: args.repetitions,
        cpu: report::cpu_name(),
        patch_rev: info.patch_rev,
        cpu_features: info.cpu_features.iter().map(|s| s.to_string()).collect(),
        seahorse,
        stock,
    };
    report.write(&args.out)?;
    eprintln!("wrote {}", args.out.join("benchmarks.md").display());
    Ok(())
}

/// Prompt processing and decoding through the engine, repeated.
fn bench_engine(model_path: &PathBuf, args: &Args) -> Result<Measurement> {
    let model = Model::load(model_path, &ModelOptions::default())?;
    // A prompt of exactly `prompt_tokens` tokens of ordinary prose.
    let text = "The seahorse drifted through the kelp, reading the currents like pages of a book. ";
    let mut prompt = String::new();
    while model.tokenize(&prompt).len() < args.prompt_tokens {
        prompt.push_str(text);
    }
    let mut tokens = model.tokenize(&prompt);
    tokens.truncate(args.prompt_tokens - 1); // complete() evaluates exactly these tokens
    let prompt = detokenize_prefix(&model, &prompt, tokens.len());

    let options = GenerateOptions {
        max_tokens: args.decode_tokens,
        n_ctx: (args.prompt_tokens + args.decode_tokens + 16) as u32,
        n_batch: 512,
        n_threads: Some(args.threads),
        stop_at_end_of_turn: false,
        ..Default::default()
    };
    // One warm-up run (page cache, thread pool), not counted.
    model.complete(&prompt, &options, |_| {}).context("warm-up")?;
    let mut prefill = Vec::new();
    let mut decode = Vec::new();
    let mut n_prompt = 0;
    for rep in 0..args.repetitions {
        let started = Instant::now();
        let g = model.complete(&prompt, &options, |_| {})?;
        n_prompt = g.prompt_tokens;
        prefill.push(g.prompt_tokens as f64 / g.prefill_time.as_secs_f64());
        decode.push(g.generated_tokens as f64 / g.decode_time.as_secs_f64());
        eprintln!(
            "  rep {}: pp {:.1} tok/s, tg {:.1} tok/s ({:.1} s)",
            rep + 1,
            prefill.last().unwrap(),
            decode.last().unwrap(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(Measurement {
        prompt_tokens: n_prompt,
        prefill_tokens_per_s: Summary::of(&prefill),
        decode_tokens_per_s: Summary::of(&decode),
    })
}

/// The longest prefix of `text` that tokenizes to `n` tokens or fewer (greedy by words).
fn detokenize_prefix(model: &Model, text: &str, n: usize) -> String {
    let mut out = String::new();
    for word in text.split_inclusive(' ') {
        let candidate = format!("{out}{word}");
        if model.tokenize(&candidate).len() > n {
            break;
        }
        out = candidate;
    }
    out
}
