//! Errors of asking.

/// Why a question could not be answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The library failed (no such document, no memory state, a damaged state, SQLite).
    #[error(transparent)]
    Library(#[from] seahorse_library::Error),
    /// The engine failed.
    #[error("the model failed while answering")]
    Engine(#[from] seahorse_engine::EngineError),
    /// The question is empty.
    #[error("the question is empty")]
    EmptyQuestion,
    /// A corpus question found no document with a memory state that matches it.
    #[error("no document in the library matches the question, or none of those that do is read into memory yet")]
    NothingRelevant,
    /// A stored message could not be decoded.
    #[error("message {message} of chat {chat} is damaged: {detail}")]
    DamagedMessage {
        /// The chat.
        chat: i64,
        /// The message.
        message: i64,
        /// What is wrong.
        detail: String,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
