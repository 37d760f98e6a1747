//! The engine's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The llama.cpp library was built from other patches than this engine expects.
    #[error(
        "stale llama.cpp build: the library carries patch revision {built}, the engine expects \
         {expected}; rebuild (cargo re-applies ggml-patches/ when GGML_SEAHORSE_PATCH_REV changes)"
    )]
    StalePatches {
        /// Revision compiled into the library.
        built: String,
        /// Revision of `ggml-patches/` the engine was compiled against.
        expected: String,
    },
    /// The CPU lacks instructions the llama.cpp build uses.
    #[error(
        "this CPU lacks {missing:?}, which this build of llama.cpp uses; rebuild for this CPU \
         with the GGML_* options turned off (docs/cpu-features.md)"
    )]
    UnsupportedCpu {
        /// Missing feature names, as `is_x86_feature_detected!` spells them.
        missing: Vec<&'static str>,
    },
    /// llama.cpp could not be initialised.
    #[error("cannot initialise llama.cpp: {0}")]
    Backend(String),
    /// The model file does not exist or cannot be read.
    #[error("model file {path} cannot be read: {source}")]
    ModelFile {
        /// The model path.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// The file is not a GGUF model llama.cpp can load.
    #[error("{path} is not a loadable GGUF model ({reason})")]
    ModelLoad {
        /// The model path.
        path: PathBuf,
        /// llama.cpp's reason, as far as it gives one.
        reason: String,
    },
    /// The model has no usable chat template.
    #[error("the model has no usable chat template: {0}")]
    ChatTemplate(String),
    /// An inference context could not be created (usually: not enough memory).
    #[error("cannot create an inference context with {n_ctx} tokens: {reason}")]
    Context {
        /// Requested context size.
        n_ctx: u32,
        /// llama.cpp's reason.
        reason: String,
    },
    /// The prompt does not fit the context.
    #[error("the prompt has {prompt} tokens but the context holds {n_ctx}")]
    PromptTooLong {
        /// Prompt tokens.
        prompt: usize,
        /// Context size.
        n_ctx: u32,
    },
    /// A file is not valid GGUF.
    #[error("{path} is not a valid GGUF file: {reason}")]
    BadGguf {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file is not a valid AHN block.
    #[error("{path} is not a valid AHN block: {reason}")]
    BadAhnBlock {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An AHN block does not fit the model it was given with.
    #[error("the AHN block {block} does not fit the model {model}: {reason}")]
    AhnBlockMismatch {
        /// The block.
        block: PathBuf,
        /// The model.
        model: PathBuf,
        /// What differs.
        reason: String,
    },
    /// An official AHN checkpoint (or one of its files, or a conversion option) cannot be
    /// converted into an AHN block; `path` is the file at fault.
    #[error("cannot convert the AHN checkpoint {path}: {reason}")]
    AhnCheckpoint {
        /// The checkpoint, its `config.json` or `model.safetensors`, or the base model.
        path: PathBuf,
        /// What is wrong, naming the offending keys or tensors.
        reason: String,
    },
    /// A file operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A sequence state could not be saved or restored.
    #[error("sequence state: {0}")]
    State(String),
    /// There is nothing to evaluate.
    #[error("the prompt is empty")]
    EmptyPrompt,
    /// `llama_decode` failed.
    #[error("llama.cpp failed to evaluate a batch: {0}")]
    Decode(String),
}

/// `Result` with [`EngineError`].
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
