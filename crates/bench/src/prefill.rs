//! Suite `prefill`: prompt processing of a 512-token prompt and decoding of 64 tokens,
//! through the patched llama.cpp inside Seahorse, next to stock llama.cpp built from the
//! same vendored tree without patches and with the same CPU options
//! (`scripts/build-stock-baseline`), timed the same way on the same tokens, alternating.

use std::path::PathBuf;

use anyhow::{Context, Result};
use seahorse_engine::{GenerateOptions, Model, ModelOptions};

use crate::report::{Measurement, PrefillReport};
use crate::stats::Summary;
use crate::stock;

/// Options of the suite.
#[derive(clap::Args)]
pub struct PrefillArgs {
    /// Prompt tokens for the prompt-processing test.
    #[arg(long, default_value_t = 512)]
    pub prompt_tokens: usize,
    /// Tokens decoded for the generation test.
    #[arg(long, default_value_t = 64)]
    pub decode_tokens: usize,
    /// Repetitions of each measurement (the report shows median, min and max).
    #[arg(long, default_value_t = 5)]
    pub repetitions: usize,
    /// CPU threads.
    #[arg(long, default_value_t = 2)]
    pub threads: i32,
    /// The stock llama.cpp driver (scripts/build-stock-baseline) to compare with; without
    /// it the baseline is not run and the report says so.
    #[arg(long)]
    pub stock: Option<PathBuf>,
}

pub fn run(args: &PrefillArgs, out: &std::path::Path) -> Result<()> {
    let spec = seahorse_models::DEFAULT_MODEL;
    let model_path = crate::default_model()?;

    eprintln!("{} reps of pp{} / tg{}", args.repetitions, args.prompt_tokens, args.decode_tokens);
    let model = Model::load(&model_path, &ModelOptions::default())?;
    let tokens = prompt_tokens(&model, args.prompt_tokens);
    // Seahorse and stock llama.cpp alternate, one repetition each, so that a change in
    // machine load during the run affects both alike.
    let mut ours = Samples::default();
    let mut theirs = Samples::default();
    bench_engine(&model, &tokens, args, &mut Samples::default()).context("warm-up")?;
    for rep in 0..args.repetitions {
        bench_engine(&model, &tokens, args, &mut ours)?;
        if let Some(bin) = &args.stock {
            let m = stock::run(bin, &model_path, &tokens, args.decode_tokens, args.threads)?;
            theirs.prefill.extend(m.prefill_tokens_per_s.samples);
            theirs.decode.extend(m.decode_tokens_per_s.samples);
        }
        eprintln!(
            "  rep {}: seahorse pp {:.1} tg {:.1} tok/s; stock pp {} tg {} tok/s",
            rep + 1,
            ours.prefill.last().unwrap(),
            ours.decode.last().unwrap(),
            theirs.prefill.last().map_or("-".into(), |v| format!("{v:.1}")),
            theirs.decode.last().map_or("-".into(), |v| format!("{v:.1}")),
        );
    }
    let seahorse = ours.measurement(tokens.len());
    let stock = args.stock.as_ref().map(|_| theirs.measurement(tokens.len()));

    let info = seahorse_engine::Engine::get()?.build_info();
    let report = PrefillReport {
        model: spec.id.to_owned(),
        threads: args.threads,
        prompt_tokens: args.prompt_tokens,
        decode_tokens: args.decode_tokens,
        repetitions: args.repetitions,
        cpu: seahorse_engine::cpu_name(),
        patch_rev: info.patch_rev,
        cpu_features: info.cpu_features.iter().map(|s| s.to_string()).collect(),
        seahorse,
        stock,
    };
    report.write(out)?;
    Ok(())
}

/// Samples of one engine, in tokens/s.
#[derive(Default)]
struct Samples {
    prefill: Vec<f64>,
    decode: Vec<f64>,
}

impl Samples {
    fn measurement(&self, prompt_tokens: usize) -> Measurement {
        Measurement {
            prompt_tokens,
            prefill_tokens_per_s: Summary::of(&self.prefill),
            decode_tokens_per_s: Summary::of(&self.decode),
        }
    }
}

/// One repetition through the engine: a fresh context, the prompt in batches of 512, then
/// `decode_tokens` greedy tokens.
fn bench_engine(model: &Model, tokens: &[i32], args: &PrefillArgs, out: &mut Samples) -> Result<()> {
    let options = GenerateOptions {
        max_tokens: args.decode_tokens,
        n_ctx: (tokens.len() + args.decode_tokens + 16) as u32,
        n_batch: 512,
        n_threads: Some(args.threads),
        stop_at_end_of_turn: false,
        ..Default::default()
    };
    let g = model.complete_tokens(tokens, &options, |_| {})?;
    out.prefill.push(g.prompt_tokens as f64 / g.prefill_time.as_secs_f64());
    out.decode.push(g.generated_tokens as f64 / g.decode_time.as_secs_f64());
    Ok(())
}

/// Exactly `n` tokens of ordinary prose, the same for every engine.
pub fn prompt_tokens(model: &Model, n: usize) -> Vec<i32> {
    let text = "The seahorse drifted through the kelp, reading the currents like pages of a book. ";
    let mut tokens = model.tokenize(&text.repeat(n / 8 + 1));
    assert!(tokens.len() >= n, "prompt text too short");
    tokens.truncate(n);
    tokens
}
