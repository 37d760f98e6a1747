//! Where the library lives, and the reading settings (model, window, sinks, AHN block,
//! checkpoint budget) that `add` and `jobs resume` use.
//!
//! The library directory is `$SEAHORSE_HOME` if set, else `$XDG_DATA_HOME/seahorse`, else
//! `~/.local/share/seahorse`. The last reading settings are kept in `reading.json` there,
//! so that resuming uses the fingerprint the job started with.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use seahorse_engine::{MemoryOptions, Model, ModelOptions};
use seahorse_library::{Library, LibraryConfig, ReadOptions};
use serde::{Deserialize, Serialize};

use crate::models_cmd::{ensure_model, spec};

/// The library directory.
pub fn library_dir() -> Result<PathBuf> {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(home) = nonempty("SEAHORSE_HOME") {
        return Ok(home);
    }
    if let Some(data) = nonempty("XDG_DATA_HOME") {
        return Ok(data.join("seahorse"));
    }
    match nonempty("HOME") {
        Some(home) => Ok(home.join(".local/share/seahorse")),
        None => bail!("cannot find the library: set SEAHORSE_HOME (or HOME)"),
    }
}

/// Opens the library, saying on stderr if the index had to be repaired.
pub fn open_library(json: bool) -> Result<Library> {
    let dir = library_dir()?;
    let library = Library::open(&dir, &LibraryConfig::default())
        .with_context(|| format!("opening the library in {}", dir.display()))?;
    let sync = library.opened_sync();
    if !json && (sync.recreated || sync.reindexed > 0 || sync.removed > 0) {
        eprintln!(
            "repaired the search index ({} document(s) re-indexed, {} removed{})",
            sync.reindexed,
            sync.removed,
            if sync.recreated { ", index recreated" } else { "" }
        );
    }
    Ok(library)
}

/// Reading settings; every flag left out keeps the value last used in this library.
#[derive(Args, Debug, Clone, Default)]
pub struct ReadingArgs {
    /// Model id from `seahorse models list`.
    #[arg(long)]
    pub model: Option<String>,
    /// A GGUF file to use instead of a catalogue model.
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

/// The persisted form of the reading settings.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(default)]
pub struct Reading {
    pub model: String,
    pub model_path: Option<PathBuf>,
    pub window: u32,
    pub sinks: u32,
    /// A block chosen by the user (None: the shipped one, unless `no_block`).
    pub block: Option<PathBuf>,
    /// Sinks + window only.
    pub no_block: bool,
    pub chunk_tokens: u32,
    pub checkpoint_tokens: u64,
    pub checkpoint_seconds: u64,
    pub checkpoints_kept: usize,
    pub threads: Option<i32>,
}

impl Default for Reading {
    fn default() -> Self {
        let read = ReadOptions::default();
        Self {
            model: seahorse_models::DEFAULT_MODEL.id.to_owned(),
            model_path: None,
            window: 1024,
            sinks: 64,
            block: None,
            no_block: false,
            chunk_tokens: read.chunk_tokens,
            checkpoint_tokens: read.checkpoint_tokens,
            checkpoint_seconds: read.checkpoint_interval.as_secs(),
            checkpoints_kept: read.checkpoints_kept,
            threads: None,
        }
    }
}

impl Reading {
    /// The settings last saved in `dir`, with `args` applied; saved back when they changed.
    pub fn resolve(dir: &Path, args: &ReadingArgs) -> Result<Reading> {
        let file = dir.join("reading.json");
        let saved: Reading = match std::fs::read_to_string(&file) {
            Ok(text) => serde_json::from_str(&text).with_context(|| format!("reading {}", file.display()))?,
            Err(_) => Reading::default(),
        };
        let mut r = saved.clone();
        if let Some(m) = &args.model {
            r.model = m.clone();
            r.model_path = None;
        }
        if let Some(p) = &args.model_path {
            r.model_path = Some(std::path::absolute(p)?);
        }
        r.window = args.window.unwrap_or(r.window);
        r.sinks = args.sinks.unwrap_or(r.sinks);
        if let Some(b) = &args.block {
            r.block = Some(std::path::absolute(b)?);
            r.no_block = false;
        }
        if args.no_block {
            r.block = None;
            r.no_block = true;
        }
        if args.default_block {
            r.block = None;
            r.no_block = false;
        }
        r.chunk_tokens = args.chunk_tokens.unwrap_or(r.chunk_tokens);
        r.checkpoint_tokens = args.checkpoint_tokens.unwrap_or(r.checkpoint_tokens);
        r.checkpoint_seconds = args.checkpoint_seconds.unwrap_or(r.checkpoint_seconds);
        r.checkpoints_kept = args.checkpoints_kept.unwrap_or(r.checkpoints_kept);
        r.threads = args.threads.or(r.threads);
        if r.window == 0 || r.chunk_tokens == 0 {
            bail!("--window and --chunk-tokens must be at least 1");
        }
        if r != saved {
            std::fs::create_dir_all(dir)?;
            std::fs::write(&file, serde_json::to_string_pretty(&r)? + "\n")
                .with_context(|| format!("writing {}", file.display()))?;
        }
        Ok(r)
    }

    /// The AHN block read with: the user's, else the one shipped for a catalogue model
    /// (installed in the model cache on first use), else none.
    pub fn block_path(&self) -> Result<Option<PathBuf>> {
        if self.no_block {
            return Ok(None);
        }
        if let Some(b) = &self.block {
            return Ok(Some(b.clone()));
        }
        if self.model_path.is_some() {
            return Ok(None);
        }
        match seahorse_models::shipped_block(&self.model) {
            Some(spec) => Ok(Some(
                seahorse_models::install_block(spec, &seahorse_models::cache_dir())
                    .context("installing the shipped AHN block")?,
            )),
            None => Ok(None),
        }
    }

    /// The memory options the model is loaded with.
    pub fn memory(&self) -> Result<MemoryOptions> {
        Ok(MemoryOptions {
            window: self.window,
            sinks: self.sinks,
            block: self.block_path()?,
            merged_dir: seahorse_models::cache_dir().join("merged"),
        })
    }

    /// The memory-pass options.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            chunk_tokens: self.chunk_tokens,
            n_threads: self.threads,
            checkpoint_tokens: self.checkpoint_tokens,
            checkpoint_interval: Duration::from_secs(self.checkpoint_seconds),
            checkpoints_kept: self.checkpoints_kept,
            ..ReadOptions::default()
        }
    }

    /// Loads the model (fetching the default one if needed) with these memory options.
    pub fn load_model(&self, quiet: bool) -> Result<Model> {
        let path = match &self.model_path {
            Some(p) => p.clone(),
            None => ensure_model(spec(&self.model)?, quiet)?,
        };
        let options = ModelOptions { memory: Some(self.memory()?), ..Default::default() };
        Model::load(&path, &options).with_context(|| format!("loading {}", path.display()))
    }
}
