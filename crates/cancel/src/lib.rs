//! Cooperative cancellation: one token type for every long operation of Seahorse's crates
//! (extracting a document, reading it into memory, answering), so a front end cancels them
//! all the same way.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A flag shared between the thread doing the work and whoever may cancel it.
///
/// Long operations check it at safe points (between pages of a document, between llama.cpp
/// calls: every batch, every token) and stop cleanly; nothing is unwound through foreign
/// frames.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that has not fired.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the operation holding this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
