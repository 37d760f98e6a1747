//! Seahorse's inference engine.
//!
//! The engine runs GGUF models through llama.cpp, built by the `llama-cpp-sys-2` crate with
//! Seahorse's patches from `ggml-patches/` injected at CMake time (see `ARCHITECTURE.md`).
//! The main types:
//!
//! - [`Engine`]: the process-wide llama.cpp backend. Creating it checks that the library
//!   was built from the current patches and that this CPU has the features it was compiled
//!   for, so a bad build fails with a message instead of a crash.
//! - [`Model`]: a loaded GGUF model; cheap to clone and shareable between threads.
//! - [`Model::chat`]: applies the model's chat template and generates a reply greedily,
//!   streaming [`Event`]s (prefill progress, text pieces) to a callback and stopping early
//!   when a [`CancelToken`] fires.
//!
//! Nothing here blocks on anything but the computation itself: callers that must stay
//! responsive (the desktop app) run these calls on a worker thread and cancel through the
//! token.

#![deny(missing_docs)]

mod ahn_block;
mod ahn_convert;
mod backend;
mod cpu;
mod error;
mod gate;
mod generate;
mod gguf;
mod model;
mod session;
mod state_bytes;
pub mod tiny_model;

pub use ahn_block::{merge, merged_model, write_block, write_gguf, AhnBlockInfo, AhnType, KvValue};
pub use ahn_convert::{ahn_param_count, convert_ahn_checkpoint, ConvertOptions, ConvertReport, AHN_DEFAULT_NORM_EPS};
pub use backend::{gpu_devices, BuildInfo, Engine, GpuDevice};
pub use cpu::{cpu_name, missing_cpu_features, required_cpu_features};
pub use error::{EngineError, Result};
pub use gate::{ComputeGate, GatePass, Priority};
pub use generate::{log_softmax_at, ChatMessage, Event, GenerateOptions, Generation, Role, StopReason};
pub use model::{gguf_architecture, gguf_shape, MemoryOptions, Model, ModelInfo, ModelOptions, ModelShape};
pub use seahorse_cancel::CancelToken;
pub use session::{CacheType, Logits, Progress, Session, SessionOptions};
pub use state_bytes::ahn_state_f32_ranges;

/// Version of what a saved sequence state means: bumped whenever the patched llama.cpp
/// computes or lays out the memory differently, so states saved by an older engine are
/// treated as stale and read again instead of being restored.
///
/// - 1: first AHN memory (session 1).
/// - 2: the attention sinks survive window-cell reuse (version 1 purged them as soon as the
///   cache wrapped around, so states of documents longer than the cache were wrong).
pub const MEMORY_VERSION: u32 = 2;
