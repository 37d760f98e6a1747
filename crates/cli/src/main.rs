//! `seahorse`: the command-line front end. Parsing and printing only; the work happens in
//! the library crates.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use seahorse_engine::{ChatMessage, Engine, Event, GenerateOptions, Model, ModelOptions, Role};
use seahorse_models::{FetchEvent, ModelSpec};

#[derive(Parser)]
#[command(name = "seahorse", version, about = "Read whole books with a local LLM and ask them questions")]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ask the model a question (fetches the default model first if needed).
    Ask {
        /// The question.
        question: String,
        /// Model id from `seahorse models list`.
        #[arg(long, default_value = seahorse_models::DEFAULT_MODEL.id)]
        model: String,
        /// A GGUF file to use instead of a catalogue model.
        #[arg(long)]
        model_path: Option<PathBuf>,
        /// Maximum reply length in tokens.
        #[arg(long, default_value_t = 256)]
        max_tokens: usize,
        /// CPU threads (default: all cores).
        #[arg(long)]
        threads: Option<i32>,
    },
    /// Manage the model cache.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Show how this build of llama.cpp was made (patch revision, CPU features).
    Info,
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Download, assemble and verify a model (idempotent; repairs damaged files).
    Fetch {
        /// Model id from `seahorse models list`.
        #[arg(default_value = seahorse_models::DEFAULT_MODEL.id)]
        model: String,
    },
    /// List known models and whether they are in the cache.
    List,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("seahorse: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Ask { question, model, model_path, max_tokens, threads } => {
            let path = match model_path {
                Some(p) => p,
                None => ensure_model(spec(&model)?, cli.json)?,
            };
            ask(&path, &question, max_tokens, threads, cli.json)
        }
        Command::Models { command: ModelsCommand::Fetch { model } } => {
            let path = ensure_model(spec(&model)?, cli.json)?;
            if cli.json {
                println!("{}", serde_json::json!({ "model": model, "path": path }));
            } else {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Models { command: ModelsCommand::List } => {
            let dir = seahorse_models::cache_dir();
            let rows: Vec<_> = seahorse_models::CATALOG
                .iter()
                .map(|m| (m, seahorse_models::locate(m, &dir)))
                .collect();
            if cli.json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|(m, p)| {
                        serde_json::json!({
                            "id": m.id, "description": m.description, "size": m.size,
                            "sha256": m.sha256, "path": p,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                for (m, p) in rows {
                    let state = if p.is_some() { "fetched" } else { "not fetched" };
                    println!("{:<20} {:<12} {}", m.id, state, m.description);
                }
                println!("cache: {}", dir.display());
            }
            Ok(())
        }
        Command::Info => {
            let info = Engine::get()?.build_info();
            if cli.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "patch_rev": info.patch_rev, "cpu_features": info.cpu_features,
                        "system_info": info.system_info,
                    })
                );
            } else {
                println!("patch revision: {}", info.patch_rev);
                println!("CPU features:   {}", info.cpu_features.join(" "));
                println!("llama.cpp:      {}", info.system_info);
            }
            Ok(())
        }
    }
}

fn spec(id: &str) -> Result<&'static ModelSpec> {
    match ModelSpec::by_id(id) {
        Some(s) => Ok(s),
        None => {
            let known: Vec<_> = seahorse_models::CATALOG.iter().map(|m| m.id).collect();
            bail!("unknown model {id:?}; known models: {}", known.join(", "))
        }
    }
}

/// The model's path, fetching it first when it is not in the cache.
fn ensure_model(spec: &'static ModelSpec, quiet: bool) -> Result<PathBuf> {
    let dir = seahorse_models::cache_dir();
    if let Some(path) = seahorse_models::locate(spec, &dir) {
        return Ok(path);
    }
    let path = seahorse_models::fetch(spec, &dir, |event| {
        if quiet {
            return;
        }
        match event {
            FetchEvent::Verifying(p) => eprintln!("checking {}", p.display()),
            FetchEvent::AlreadyPresent(_) => eprintln!("model present and intact"),
            FetchEvent::Damaged { reason, .. } => eprintln!("model file damaged ({reason}); fetching again"),
            FetchEvent::Downloading { parts } => eprintln!("downloading {} ({parts} parts)", spec.id),
            FetchEvent::Assembled { part, parts } => eprint!("\rassembling {part}/{parts}"),
            FetchEvent::Ready(p) => eprintln!("\nmodel ready: {}", p.display()),
        }
    })
    .with_context(|| format!("fetching model {}", spec.id))?;
    Ok(path)
}

fn ask(path: &PathBuf, question: &str, max_tokens: usize, threads: Option<i32>, json: bool) -> Result<()> {
    let model = Model::load(path, &ModelOptions::default())?;
    let messages = [
        ChatMessage::new(Role::System, "You are a helpful assistant. Answer briefly and accurately."),
        ChatMessage::new(Role::User, question),
    ];
    let options = GenerateOptions { max_tokens, n_threads: threads, ..GenerateOptions::default() };
    let mut stdout = std::io::stdout().lock();
    let generation = model.chat(&messages, &options, |event| {
        if let (Event::Text(piece), false) = (event, json) {
            let _ = stdout.write_all(piece.as_bytes());
            let _ = stdout.flush();
        }
    })?;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "answer": generation.text,
                "stop": format!("{:?}", generation.stop),
                "prompt_tokens": generation.prompt_tokens,
                "generated_tokens": generation.generated_tokens,
                "prefill_seconds": generation.prefill_time.as_secs_f64(),
                "decode_seconds": generation.decode_time.as_secs_f64(),
            })
        );
    } else {
        println!();
    }
    Ok(())
}
