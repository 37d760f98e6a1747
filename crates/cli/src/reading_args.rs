//! The flags that choose a model, an AHN block and reading settings. On `add` and `jobs
//! resume` they change the library's settings (kept for the next run); on `ask` and `chat`
//! they apply to that question only.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use seahorse_api::{BlockChoice, Choice, Seahorse, Settings};

/// Model, block and reading settings.
#[derive(Args, Debug, Clone, Default)]
pub struct ReadingArgs {
    /// Model id from `seahorse models list` (catalogue or added).
    #[arg(long)]
    pub model: Option<String>,
    /// A GGUF file to use (added to the models, as `seahorse models add` does).
    #[arg(long)]
    pub model_path: Option<PathBuf>,
    /// W: sliding-window tokens the model attends to while reading.
    #[arg(long)]
    pub window: Option<u32>,
    /// S: attention-sink tokens (the first tokens, always attended).
    #[arg(long)]
    pub sinks: Option<u32>,
    /// An AHN block (GGUF) compressing what leaves the window (default: the block shipped
    /// for the catalogue model, if it has one).
    #[arg(long, conflicts_with_all = ["no_block", "default_block"])]
    pub block: Option<PathBuf>,
    /// Read with sinks + window only, without an AHN block.
    #[arg(long, conflicts_with = "default_block")]
    pub no_block: bool,
    /// Go back to the shipped AHN block (after --block or --no-block).
    #[arg(long)]
    pub default_block: bool,
    /// Tokens per evaluation chunk (states are taken between chunks).
    #[arg(long)]
    pub chunk_tokens: Option<u32>,
    /// Persist a checkpoint after at least this many tokens …
    #[arg(long)]
    pub checkpoint_tokens: Option<u64>,
    /// … or after this many seconds.
    #[arg(long)]
    pub checkpoint_seconds: Option<u64>,
    /// Intermediate checkpoints kept per document (for "as of page N").
    #[arg(long)]
    pub checkpoints_kept: Option<usize>,
    /// CPU threads (default: all cores).
    #[arg(long)]
    pub threads: Option<i32>,
}

impl ReadingArgs {
    /// Whether any flag was given.
    pub fn any(&self) -> bool {
        self.model.is_some()
            || self.model_path.is_some()
            || self.window.is_some()
            || self.sinks.is_some()
            || self.block.is_some()
            || self.no_block
            || self.default_block
            || self.chunk_tokens.is_some()
            || self.checkpoint_tokens.is_some()
            || self.checkpoint_seconds.is_some()
            || self.checkpoints_kept.is_some()
            || self.threads.is_some()
    }

    /// `choice` with these flags applied (`--model-path` registers the file first).
    fn apply(&self, seahorse: &Seahorse, choice: &mut Choice) -> Result<()> {
        if let Some(m) = &self.model {
            choice.model = m.clone();
        }
        if let Some(path) = &self.model_path {
            choice.model = seahorse.add_model(path)?.id;
        }
        let r = &mut choice.reading;
        r.window = self.window.unwrap_or(r.window);
        r.sinks = self.sinks.unwrap_or(r.sinks);
        r.chunk_tokens = self.chunk_tokens.unwrap_or(r.chunk_tokens);
        r.checkpoint_tokens = self.checkpoint_tokens.unwrap_or(r.checkpoint_tokens);
        r.checkpoint_seconds = self.checkpoint_seconds.unwrap_or(r.checkpoint_seconds);
        r.checkpoints_kept = self.checkpoints_kept.unwrap_or(r.checkpoints_kept);
        r.threads = self.threads.or(r.threads);
        if let Some(b) = &self.block {
            choice.block = BlockChoice::File(std::path::absolute(b)?);
        }
        if self.no_block {
            choice.block = BlockChoice::None;
        }
        if self.default_block {
            choice.block = BlockChoice::Shipped;
        }
        Ok(())
    }

    /// Saves the flags into the library's settings (for reading).
    pub fn save(&self, seahorse: &Seahorse) -> Result<Settings> {
        if !self.any() {
            return Ok(seahorse.settings());
        }
        let mut choice = seahorse.active_choice();
        self.apply(seahorse, &mut choice)?;
        Ok(seahorse.update_settings(|s| {
            s.model = choice.model;
            s.block = choice.block;
            s.reading = choice.reading;
        })?)
    }

    /// The choice for one question: `None` when no flag was given (the API then uses the
    /// model and settings that built the document's memory).
    pub fn for_question(&self, seahorse: &Seahorse) -> Result<Option<Choice>> {
        if !self.any() {
            return Ok(None);
        }
        let mut choice = seahorse.active_choice();
        self.apply(seahorse, &mut choice)?;
        Ok(Some(choice))
    }
}
