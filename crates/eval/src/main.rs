//! `seahorse-eval`: measures answer quality on the same questions across modes (sliding
//! window, retrieval, AHN memory, AHN + retrieval, full attention) and regenerates
//! `docs/ask-eval.md` from the JSON it writes to `docs/eval/`.

mod book;
mod report;
mod run;

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
        /// W.
        #[arg(long, default_value_t = 1024)]
        window: u32,
        /// S.
        #[arg(long, default_value_t = 64)]
        sinks: u32,
        /// A trained AHN block (without one the AHN modes are reported as not run).
        #[arg(long)]
        block: Option<PathBuf>,
        /// Facts inserted.
        #[arg(long, default_value_t = 8)]
        needles: usize,
        /// Seed of the facts.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Longest book read with full attention.
        #[arg(long, default_value_t = 32768)]
        full_attention_max: usize,
        /// The novel (default: the held-out Persuasion of `python -m ahn_train.data fetch`).
        #[arg(long)]
        text: Option<PathBuf>,
        /// Scratch directory.
        #[arg(long)]
        work: Option<PathBuf>,
    },
    /// Only regenerate ask-eval.md.
    Render,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Command::Ask { tokens, window, sinks, block, needles, seed, full_attention_max, text, work } = cli.command {
        let cache = seahorse_models::cache_dir();
        let home = cache.parent().map(PathBuf::from).unwrap_or(cache.clone());
        let text = text.unwrap_or_else(|| home.join("data/text/heldout/austen_persuasion.txt"));
        let novel = std::fs::read_to_string(&text).with_context(|| {
            format!("reading {} (fetch it with `cd tools && python -m ahn_train.data fetch`)", text.display())
        })?;
        let work = work.unwrap_or_else(|| std::env::temp_dir().join("seahorse-eval"));
        let model = seahorse_models::default_model()?;
        std::fs::create_dir_all(cli.out.join("eval"))?;
        for n in tokens {
            let settings = run::Settings {
                tokens: n,
                window,
                sinks,
                block: block.clone(),
                needles,
                seed,
                full_attention_max,
                text_source: text.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
            };
            let report = run::run(&model, &novel, &settings, &work.join(n.to_string()))?;
            let path = cli.out.join("eval").join(format!("ask-{n}.json"));
            std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
            eprintln!("wrote {}", path.display());
        }
    }
    report::render(&cli.out)?;
    eprintln!("wrote {}", cli.out.join("ask-eval.md").display());
    Ok(())
}
