//! Asking Seahorse's library.
//!
//! An answer about a document is built without re-reading it:
//! 1. the document's saved memory state (sinks + window K/V + the AHN state, the gist of
//!    everything before the window) is restored into a fresh context;
//! 2. the passages that full-text search finds for the question are placed in the lossless
//!    window, each behind its page marker (compressed memory is weak at exact recall:
//!    names, numbers, quotes);
//! 3. the question follows in the model's chat template and the answer streams.
//!
//! Citations (`[p. 12]`) are validated while the answer streams against the pages the model
//! was actually given; invented ones never reach the person ([`citations`]). Corpus
//! An answer that says nothing the model was given (an invented figure, the question
//! repeated) is withheld in favour of "the passages do not say" ([`grounding`]). Corpus
//! questions consult the documents that full-text search ranks highest, then combine their
//! answers ([`corpus`]). Chats persist every question and answer with what the answer was
//! built from ([`chat`]).
//!
//! Everything runs on the caller's thread and reports through callbacks; a UI runs it on a
//! worker thread and stops it with the [`seahorse_engine::CancelToken`] in the options.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod attribute;
pub mod chat;
pub mod citations;
pub mod corpus;
mod document;
mod error;
mod excerpt;
mod figure_context;
mod figures;
pub mod grounding;
pub mod locate;
mod numerals;
mod picking;
pub mod prompt;
mod quantity;
pub mod retrieve;
mod sections;
pub mod selfcheck;
mod turn;

pub use document::{Answer, AskEvent, AskOptions, Sources, Timings};
pub use error::{Error, Result};
pub use prompt::GivenPassage;
pub use turn::{answer_in_session, Spoken, Turn};

use seahorse_library::{Library, Reader};

/// Answers questions about a library's documents with one model and reading settings
/// (those that built the memory states: a state is only restored with its fingerprint).
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    library: &'a Library,
    reader: &'a Reader<'a>,
}

impl<'a> Asker<'a> {
    /// An asker over `library`, restoring states built by `reader`'s model and settings.
    pub fn new(library: &'a Library, reader: &'a Reader<'a>) -> Self {
        Self { library, reader }
    }

    /// The library.
    pub fn library(&self) -> &'a Library {
        self.library
    }
}
