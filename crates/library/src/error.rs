//! Errors returned by `seahorse-library`.

use std::path::PathBuf;

use crate::ids::{ChatId, DocId, JobId};

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The SQLite database failed.
    #[error("library database {}: {action}", .path.display())]
    Database {
        /// The database file.
        path: PathBuf,
        /// What was being done, in words ("store pages", "open").
        action: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The disk (or the database's size limit) is full; the write was rolled back, and
    /// everything stored before it is intact.
    #[error(
        "the disk is full while trying to {action} in {}; nothing already stored was lost \
         (free some space and resume reading)", .path.display()
    )]
    DiskFull {
        /// The database file.
        path: PathBuf,
        /// What was being written.
        action: &'static str,
    },
    /// The database was written by a newer Seahorse.
    #[error(
        "library database {} has schema version {found}, newer than this Seahorse knows \
         ({supported}); upgrade Seahorse", .path.display()
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// The full-text index failed.
    #[error("full-text index {}: {action}", .path.display())]
    Index {
        /// The index directory.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// tantivy's error.
        #[source]
        source: tantivy::TantivyError,
    },
    /// A file or directory operation failed.
    #[error("cannot {action} {}", .path.display())]
    Io {
        /// What was being done ("read", "create").
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Extraction failed (the job fails with this text; other jobs go on).
    #[error(transparent)]
    Extract(#[from] seahorse_docs::Error),
    /// The engine failed while reading a document into memory.
    #[error("reading the document into memory failed")]
    Engine(#[from] seahorse_engine::EngineError),
    /// The model given for reading does not run with sinks + a sliding window.
    #[error("the model must be loaded with sinks + a sliding window (MemoryOptions) to read documents")]
    NotWindowed,
    /// No document with this id.
    #[error("no document {0} in the library")]
    NoDocument(DocId),
    /// No document matches what the person typed.
    #[error("no document matches {0:?}")]
    NoMatch(String),
    /// Several documents match what the person typed.
    #[error("{query:?} matches {count} documents; name one by its id")]
    Ambiguous {
        /// What was typed.
        query: String,
        /// How many documents match.
        count: usize,
    },
    /// No collection with this name.
    #[error("no collection named {0:?}")]
    NoCollection(String),
    /// A collection name that is taken (or empty).
    #[error("{}", if .0.is_empty() { "a collection needs a name".to_owned() } else { format!("there is already a collection named {:?}", .0) })]
    CollectionExists(String),
    /// No chat with this id.
    #[error("no chat {0}")]
    NoChat(ChatId),
    /// No job with this id.
    #[error("no job {0}")]
    NoJob(JobId),
    /// The document has no memory state for this model and settings.
    #[error("document {doc} has no memory state{} for the current model and settings{}", page_hint(*.page_index), stale_hint(*.stale))]
    NoState {
        /// The document.
        doc: DocId,
        /// The 0-based page asked for; `None` for the end of the document.
        page_index: Option<u32>,
        /// How many states exist that were built with another model or settings.
        stale: usize,
    },
    /// A stored state was built with another model or settings and must not be restored.
    #[error("the memory state of document {doc} was built with {found}, not {expected}; read the document again")]
    StaleState {
        /// The document.
        doc: DocId,
        /// The fingerprint of the current model and settings.
        expected: String,
        /// The fingerprint the state was built with.
        found: String,
    },
    /// A stored state blob does not match its checksum.
    #[error("the memory state {state} of document {doc} is corrupted ({detail})")]
    CorruptState {
        /// The document.
        doc: DocId,
        /// The state's row id.
        state: i64,
        /// What is wrong.
        detail: String,
    },
    /// Another process is running the ingestion queue of this library.
    #[error("another seahorse process is already ingesting into {}; its queue picks up new jobs", .path.display())]
    WorkerBusy {
        /// The library directory.
        path: PathBuf,
    },
    /// The operation was cancelled; the job can be resumed.
    #[error("cancelled")]
    Cancelled,
}

fn page_hint(page_index: Option<u32>) -> String {
    match page_index {
        // People count pages from 1.
        Some(p) => format!(" at or before page {}", u64::from(p) + 1),
        None => String::new(),
    }
}

fn stale_hint(stale: usize) -> String {
    if stale == 0 {
        String::new()
    } else {
        format!(" ({stale} state(s) were built with another model or settings)")
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether a SQLite error means "no space left" (a full disk or `max_page_count`).
pub(crate) fn is_disk_full(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::DiskFull
    )
}
