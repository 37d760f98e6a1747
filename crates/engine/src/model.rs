//! Loading GGUF models.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;

use crate::backend::Engine;
use crate::error::{EngineError, Result};

/// How to load a model.
#[derive(Clone, Debug)]
pub struct ModelOptions {
    /// Layers to offload to a GPU (ignored by CPU builds). `u32::MAX` offloads all.
    pub gpu_layers: u32,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self { gpu_layers: u32::MAX }
    }
}

/// A loaded GGUF model, shareable between threads.
#[derive(Clone)]
pub struct Model {
    pub(crate) inner: Arc<LlamaModel>,
    pub(crate) engine: &'static Engine,
    info: Arc<ModelInfo>,
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

impl Model {
    /// Loads a GGUF file.
    pub fn load(path: impl AsRef<Path>, options: &ModelOptions) -> Result<Model> {
        let path = path.as_ref();
        let engine = Engine::get()?;
        // llama.cpp reports a missing or unreadable file only as a null model; check first
        // so the user learns which file and why.
        let meta = std::fs::metadata(path)
            .map_err(|source| EngineError::ModelFile { path: path.to_owned(), source })?;
        if !meta.is_file() {
            return Err(EngineError::ModelFile {
                path: path.to_owned(),
                source: std::io::Error::other("not a regular file"),
            });
        }
        let mut magic = [0u8; 4];
        {
            use std::io::Read;
            let mut f = std::fs::File::open(path)
                .map_err(|source| EngineError::ModelFile { path: path.to_owned(), source })?;
            if f.read_exact(&mut magic).is_err() || &magic != b"GGUF" {
                return Err(EngineError::ModelLoad {
                    path: path.to_owned(),
                    reason: "the file does not start with the GGUF magic".into(),
                });
            }
        }
        let params = LlamaModelParams::default().with_n_gpu_layers(options.gpu_layers);
        let model = LlamaModel::load_from_file(&engine.backend, path, &params).map_err(|e| {
            EngineError::ModelLoad {
                path: path.to_owned(),
                reason: format!("{e}; set SEAHORSE_LLAMA_LOG=1 to see llama.cpp's log"),
            }
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
        Ok(Model { inner: Arc::new(model), engine, info: Arc::new(info) })
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
