//! Loading GGUF models.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::ffi::CString;

use llama_cpp_2::model::params::kv_overrides::ParamOverrideValue;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;

use crate::ahn_block::merged_model;
use crate::backend::Engine;
use crate::error::{EngineError, Result};
use crate::gguf::GgufFile;

/// How to load a model.
#[derive(Clone, Debug)]
pub struct ModelOptions {
    /// Layers to offload to a GPU (ignored by CPU builds). `u32::MAX` offloads all.
    pub gpu_layers: u32,
    /// Sinks + sliding window (and AHN memory) instead of full attention; `None` runs the
    /// model exactly as stock llama.cpp does.
    pub memory: Option<MemoryOptions>,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self { gpu_layers: u32::MAX, memory: None }
    }
}

/// Sinks + sliding window attention, optionally with an AHN block compressing the tokens
/// that leave the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryOptions {
    /// W: recent tokens attended, including the current one.
    pub window: u32,
    /// S: first tokens always attended and never compressed.
    pub sinks: u32,
    /// The AHN block (docs/ahn-gguf.md); without it, tokens that leave the window are gone.
    pub block: Option<PathBuf>,
    /// Where the merged base + block GGUF is cached (written once per base and block).
    pub merged_dir: PathBuf,
}

/// A loaded GGUF model, shareable between threads.
#[derive(Clone)]
pub struct Model {
    pub(crate) inner: Arc<LlamaModel>,
    pub(crate) engine: &'static Engine,
    info: Arc<ModelInfo>,
    windowed: bool,
    has_ahn: bool,
}

/// Facts about a loaded model.
#[derive(Clone, Debug)]
pub struct ModelInfo {
    /// The file it was loaded from.
    pub path: PathBuf,
    /// `general.architecture`, e.g. `qwen2`.
    pub architecture: String,
    /// `general.name`, when present.
    pub name: Option<String>,
    /// Transformer layers.
    pub n_layer: u32,
    /// Attention (query) heads.
    pub n_head: u32,
    /// Key/value heads.
    pub n_head_kv: u32,
    /// Embedding width.
    pub n_embd: i32,
    /// Context length the model was trained with.
    pub n_ctx_train: u32,
    /// Parameter count.
    pub n_params: u64,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("info", &self.info).finish()
    }
}

/// `general.architecture` of a GGUF file, read from its header without loading it.
///
/// # Errors
///
/// [`EngineError::ModelFile`] if it cannot be opened, [`EngineError::BadGguf`] if it is not
/// a GGUF file.
pub fn gguf_architecture(path: &Path) -> Result<String> {
    std::fs::metadata(path).map_err(|source| EngineError::ModelFile { path: path.to_owned(), source })?;
    Ok(GgufFile::open(path)?.string("general.architecture").unwrap_or_default())
}

/// The shape of a model, from its GGUF header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelShape {
    /// `general.architecture`.
    pub architecture: String,
    /// Layers.
    pub n_layer: u32,
    /// Hidden size.
    pub n_embd: u32,
    /// Query heads.
    pub n_head: u32,
    /// Key/value heads.
    pub n_head_kv: u32,
    /// Head size.
    pub head_dim: u32,
}

/// The shape of the model in a GGUF file, read from its header without loading it.
///
/// # Errors
///
/// As [`gguf_architecture`], and [`EngineError::BadGguf`] when a size is missing.
pub fn gguf_shape(path: &Path) -> Result<ModelShape> {
    std::fs::metadata(path).map_err(|source| EngineError::ModelFile { path: path.to_owned(), source })?;
    let file = GgufFile::open(path)?;
    let arch = file.string("general.architecture").unwrap_or_default();
    let get = |k: &str| {
        file.u32(&format!("{arch}.{k}"))
            .ok_or_else(|| EngineError::BadGguf { path: path.to_owned(), reason: format!("{arch}.{k} is missing") })
    };
    let (n_layer, n_embd, n_head) = (get("block_count")?, get("embedding_length")?, get("attention.head_count")?);
    let n_head_kv = file.u32(&format!("{arch}.attention.head_count_kv")).unwrap_or(n_head);
    let head_dim = file.u32(&format!("{arch}.attention.key_length")).unwrap_or(n_embd / n_head.max(1));
    Ok(ModelShape { architecture: arch, n_layer, n_embd, n_head, n_head_kv, head_dim })
}

impl Model {
    /// Loads a GGUF file.
    pub fn load(path: impl AsRef<Path>, options: &ModelOptions) -> Result<Model> {
        let path = path.as_ref();
        let engine = Engine::get()?;
        // llama.cpp reports a missing or unreadable file only as a null model; check first
        // so the user learns which file and why.
        let meta =
            std::fs::metadata(path).map_err(|source| EngineError::ModelFile { path: path.to_owned(), source })?;
        if !meta.is_file() {
            return Err(EngineError::ModelFile {
                path: path.to_owned(),
                source: std::io::Error::other("not a regular file"),
            });
        }
        // Read the metadata first: a malformed file gets a clear error before llama.cpp sees it.
        let gguf = GgufFile::open(path).map_err(|e| match e {
            EngineError::BadGguf { reason, .. } => EngineError::ModelLoad { path: path.to_owned(), reason },
            other => other,
        })?;
        let arch = gguf.string("general.architecture").unwrap_or_default();
        drop(gguf);

        let mut load_path = path.to_owned();
        let mut overrides: Vec<(String, i64)> = Vec::new();
        if let Some(memory) = &options.memory {
            if arch != "qwen2" {
                return Err(EngineError::ModelLoad {
                    path: path.to_owned(),
                    reason: format!("sliding-window memory supports qwen2 models, this one is {arch:?}"),
                });
            }
            if memory.window == 0 {
                return Err(EngineError::ModelLoad {
                    path: path.to_owned(),
                    reason: "the window must hold at least one token".into(),
                });
            }
            if let Some(block) = &memory.block {
                load_path = merged_model(path, block, &memory.merged_dir)?;
            }
            overrides.push((format!("{arch}.ahn.window"), memory.window as i64));
            overrides.push((format!("{arch}.ahn.sinks"), memory.sinks as i64));
        }

        let mut params = std::pin::pin!(LlamaModelParams::default().with_n_gpu_layers(options.gpu_layers));
        for (key, value) in &overrides {
            let key = CString::new(key.as_str()).expect("no NUL in keys");
            // llama-cpp-2 prints a debug line to stderr here; keep it off the terminal.
            quiet_stderr(|| params.as_mut().append_kv_override(&key, ParamOverrideValue::Int(*value)));
        }
        let model =
            LlamaModel::load_from_file(&engine.backend, &load_path, &params).map_err(|e| EngineError::ModelLoad {
                path: load_path.clone(),
                reason: format!("{e} (llama.cpp's log says why: tracing target llama-cpp-2)"),
            })?;
        let info = ModelInfo {
            path: path.to_owned(),
            architecture: model.meta_val_str("general.architecture").unwrap_or_default(),
            name: model.meta_val_str("general.name").ok(),
            n_layer: model.n_layer(),
            n_head: model.n_head(),
            n_head_kv: model.n_head_kv(),
            n_embd: model.n_embd(),
            n_ctx_train: model.n_ctx_train(),
            n_params: model.n_params(),
        };
        let has_ahn = options.memory.as_ref().is_some_and(|m| m.block.is_some());
        Ok(Model { inner: Arc::new(model), engine, info: Arc::new(info), windowed: options.memory.is_some(), has_ahn })
    }

    /// Whether the model runs with sinks + a sliding window (context length unbounded).
    pub fn windowed(&self) -> bool {
        self.windowed
    }

    /// Whether an AHN block compresses what leaves the window (a windowed model without
    /// one keeps sinks + window only).
    pub fn has_ahn(&self) -> bool {
        self.has_ahn
    }

    /// Facts about the model.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Tokenizes text as the model does, with special tokens parsed (`<|im_start|>`…).
    pub fn tokenize(&self, text: &str) -> Vec<i32> {
        self.inner.vocab().tokenize(text.as_bytes(), false, true).into_iter().map(|t| t.0).collect()
    }
}

/// Runs `f` with the process's stderr pointed at /dev/null.
fn quiet_stderr<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: plain fd juggling; fd 2 is restored before returning.
    unsafe {
        let saved = libc::dup(2);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        if saved < 0 || null < 0 {
            return f();
        }
        libc::dup2(null, 2);
        libc::close(null);
        let out = f();
        libc::dup2(saved, 2);
        libc::close(saved);
        out
    }
}
