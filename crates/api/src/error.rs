//! Errors of the API: each says what went wrong in words a person can act on, and names no
//! command of any front end.

use std::path::PathBuf;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The library (SQLite, the index, a document, a memory state) failed.
    #[error(transparent)]
    Library(#[from] seahorse_library::Error),
    /// Answering failed.
    #[error(transparent)]
    Ask(#[from] seahorse_ask::Error),
    /// The engine (loading a model, a block, computing) failed.
    #[error(transparent)]
    Engine(#[from] seahorse_engine::EngineError),
    /// Fetching or installing a model failed.
    #[error(transparent)]
    Fetch(#[from] seahorse_models::FetchError),
    /// The settings file cannot be read or written.
    #[error("settings {}: {reason}", .path.display())]
    Settings {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A model id that is neither in the catalogue nor added.
    #[error("unknown model {id:?}; known models: {}", .known.join(", "))]
    UnknownModel {
        /// The id asked for.
        id: String,
        /// The ids there are.
        known: Vec<String>,
    },
    /// A GGUF that Seahorse cannot read with: not qwen2, malformed, wrong shapes.
    #[error("{} cannot be used: {reason}", .path.display())]
    UnsupportedModel {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The document was read into memory with another model or settings than asked with,
    /// and that model is not available.
    #[error(
        "\"{title}\" has no memory for {wanted}; its memory was built with {built}. Ask without memory, \
         switch to that model and settings, or read the document again with the current ones"
    )]
    MemoryOfAnotherModel {
        /// The document's title.
        title: String,
        /// What was asked with (model, block, W, S).
        wanted: String,
        /// What built the memory.
        built: String,
    },
    /// The document has not been read into memory yet.
    #[error("\"{title}\" is not read into memory yet (its reading is queued, running or failed)")]
    NotRead {
        /// The document's title.
        title: String,
    },
    /// Reading is already running in this process.
    #[error("the library is already being read")]
    AlreadyReading,
    /// A value a person gave is out of range or does not fit.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// The error with its whole chain of causes, in one line: what a front end shows.
    pub fn full_message(&self) -> String {
        seahorse_library::error_text(self)
    }
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
