//! What a question or a reading run computes with: a resolved [`Choice`] of model, block and
//! reading settings turned into files, a loaded [`Model`] (kept for the next call) and a
//! [`Reader`] whose sessions pass the process's one compute gate.

use std::path::PathBuf;
use std::sync::Mutex;

use seahorse_engine::{ComputeGate, MemoryOptions, Model, ModelOptions, Priority};
use seahorse_library::{Fingerprint, ReadOptions, Reader};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::models::{self, FetchProgress};
use crate::settings::{BlockChoice, Paths, ReadingSettings, Settings};

/// A model, an AHN block and reading settings: what the library reads with, or what one
/// question is asked with.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Catalogue or added model id.
    pub model: String,
    /// The AHN block.
    pub block: BlockChoice,
    /// W, S, chunk size, threads, …
    pub reading: ReadingSettings,
}

impl Choice {
    /// The active choice of `settings`.
    pub fn active(settings: &Settings) -> Choice {
        Choice { model: settings.model.clone(), block: settings.block.clone(), reading: settings.reading.clone() }
    }

    /// "qwen2.5-coder-0.5b with its shipped AHN block, W=1024 S=64".
    pub fn describe(&self) -> String {
        let block = match &self.block {
            BlockChoice::Shipped => "its shipped AHN block (if any)".to_owned(),
            BlockChoice::None => "no AHN block".to_owned(),
            BlockChoice::File(p) => format!("the AHN block {}", p.display()),
        };
        format!("{} with {block}, W={} S={}", self.model, self.reading.window, self.reading.sinks)
    }
}

/// A choice turned into files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub choice: Choice,
    pub model_path: PathBuf,
    pub memory: MemoryOptions,
    pub gpu_layers: u32,
}

impl Resolved {
    /// Fetches what is missing (a catalogue model, a shipped block) and resolves the paths.
    pub fn new(
        choice: Choice,
        settings: &Settings,
        paths: &Paths,
        on_fetch: &mut dyn FnMut(FetchProgress),
    ) -> Result<Resolved> {
        choice.reading.validate()?;
        let model_path = models::model_path(settings, paths, &choice.model, on_fetch)?;
        let block = models::block_path(paths, &choice.model, &choice.block)?;
        let memory = MemoryOptions {
            window: choice.reading.window,
            sinks: choice.reading.sinks,
            block,
            merged_dir: paths.merged_dir(),
        };
        Ok(Resolved { choice, model_path, memory, gpu_layers: settings.gpu_layers })
    }

    /// The memory-pass options, passing `gate` with `priority`.
    pub fn read_options(&self, gate: &ComputeGate, priority: Priority) -> ReadOptions {
        ReadOptions { gate: Some(gate.clone()), priority, ..self.choice.reading.read_options() }
    }

    /// The fingerprint of states read with this choice (no model loaded).
    pub fn fingerprint(&self) -> Result<Fingerprint> {
        Ok(Fingerprint::of(&self.model_path, &self.memory, &self.choice.reading.read_options())?)
    }
}

/// The last loaded model, reused while the next call needs the same file, block, W and S.
#[derive(Default)]
pub(crate) struct ModelCache {
    loaded: Mutex<Option<(Resolved, Model)>>,
}

impl ModelCache {
    /// The model for `resolved`, loaded now unless the last one fits.
    pub fn get(&self, resolved: &Resolved) -> Result<Model> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((r, model)) = loaded.as_ref() {
            if r.model_path == resolved.model_path && r.memory == resolved.memory && r.gpu_layers == resolved.gpu_layers
            {
                return Ok(model.clone());
            }
        }
        let _span = tracing::info_span!("load_model", path = %resolved.model_path.display()).entered();
        let options = ModelOptions { gpu_layers: resolved.gpu_layers, memory: Some(resolved.memory.clone()) };
        let model = Model::load(&resolved.model_path, &options)?;
        *loaded = Some((resolved.clone(), model.clone()));
        Ok(model)
    }
}

/// A reader for `model` loaded from `resolved`.
pub(crate) fn reader<'m>(
    model: &'m Model,
    resolved: &Resolved,
    gate: &ComputeGate,
    priority: Priority,
) -> Result<Reader<'m>> {
    Ok(Reader::new(model, &resolved.memory, resolved.read_options(gate, priority))?)
}
