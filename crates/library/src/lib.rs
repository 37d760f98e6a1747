//! Seahorse's document library: where documents live after they are added.
//!
//! A [`Library`] is one directory with
//! - a SQLite database ([`Store`], the source of truth): documents (deduplicated by the
//!   sha256 of their bytes), pages with text, label and locator, each page's token range in
//!   the memory pass (the token-offset → page map for citations), ingestion jobs, memory
//!   states (compressed, with a [`Fingerprint`] of the model and settings that built
//!   them), chats and messages;
//! - a tantivy full-text index of page passages (BM25, highlighted snippets), derived from
//!   the store and kept in step with it by generation numbers: a crash between the two is
//!   detected and repaired when the library is opened.
//!
//! [`Library::run_jobs`] works through the ingestion queue: extract (seahorse-docs), store
//! the pages, index them, then stream the document's tokens through a windowed model
//! ([`Reader`]), checkpointing the sequence state so that a killed run resumes and ends with
//! exactly the bytes an uninterrupted run produces.
//!
//! What this crate does not do: answer questions (it stores and restores the states the
//! asking side needs, see [`Library::load_state`]), read the clock or environment (callers
//! pass `now` and paths), or print.
//!
//! ```
//! # fn main() -> Result<(), seahorse_library::Error> {
//! use seahorse_library::{Library, LibraryConfig};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let library = Library::open(dir.path(), &LibraryConfig::default())?;
//! assert!(library.store().documents()?.is_empty());
//! assert!(library.search("kelp", 10)?.is_empty());
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod codec;
mod error;
mod fingerprint;
mod ids;
mod index;
mod ingest;
mod library;
mod locator;
mod memory;
mod passages;
mod question;
mod scan;
mod store;

pub use error::{Error, Result};
pub use fingerprint::Fingerprint;
pub use ids::{ChatId, CollectionId, DocId, JobId, StateId};
pub use index::{Hit, Passage, PassageFilter, Ranking};
pub use ingest::{error_text, CheckpointFormat, IngestEvent, ReadOptions, ReadProgress, Reader, RunSummary};
pub use library::{IndexSync, Library, LibraryConfig, LibraryStorage, SearchHit};
pub use memory::{AsOfFrom, AsOfMethod, AsOfPage, LoadedState, StateInfoBrief, AS_OF_REREAD_TOKENS};
pub use scan::{collect_files, SUPPORTED_EXTENSIONS};
pub use store::{
    ChatInfo, ChatScope, CollectionInfo, DocumentInfo, DocumentStorage, JobInfo, JobState, MessageInfo, MessageRole,
    NewDocument, NewMessage, StateInfo, StateKind, Store, StoreConfig, StoredPage, SCHEMA_VERSION,
};
