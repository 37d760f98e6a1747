//! What the library holds, as front ends show it: documents with the state of their memory
//! (read, partly read, not read, or read with another model, and by whom), one document's
//! pages and states, and storage.

use seahorse_library::{DocumentInfo, DocumentStorage, Fingerprint, StateInfo, StoredPage};
use serde::Serialize;

/// How far a document's memory goes, for the current model and settings.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoryState {
    /// Read to the end with the current model and settings.
    Read,
    /// Partly read (reading runs, was cancelled, or resumes later).
    PartlyRead,
    /// Its memory was built with another model or settings.
    OtherModel,
    /// Not read yet.
    NotRead,
}

impl MemoryState {
    /// In words.
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryState::Read => "read",
            MemoryState::PartlyRead => "partly read",
            MemoryState::OtherModel => "read with another model",
            MemoryState::NotRead => "not read",
        }
    }
}

/// A document's memory: how far it goes, and whose it is.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Memory {
    /// How far.
    pub state: MemoryState,
    /// The model and settings that built the newest state, in words.
    pub built_with: Option<String>,
    /// Its fingerprint.
    pub fingerprint: Option<Fingerprint>,
}

impl Memory {
    /// The memory of a document with `states`, judged against `current` (the fingerprint
    /// key of the library's model and settings, when its files are here).
    pub(crate) fn of(states: &[StateInfo], current: Option<&str>) -> Memory {
        let newest = states.iter().max_by_key(|s| (!s.stale, s.is_final, s.position));
        let fingerprint = newest.and_then(|s| Fingerprint::from_key(&s.fingerprint));
        let built_with = fingerprint.as_ref().map(Fingerprint::describe);
        let mine = |s: &&StateInfo| match current {
            Some(key) => s.fingerprint == key,
            None => !s.stale,
        };
        let state = if states.iter().filter(mine).any(|s| s.is_final) {
            MemoryState::Read
        } else if states.iter().any(|s| mine(&s)) {
            MemoryState::PartlyRead
        } else if !states.is_empty() {
            MemoryState::OtherModel
        } else {
            MemoryState::NotRead
        };
        Memory { state, built_with, fingerprint }
    }
}

/// A document in the library list.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentSummary {
    /// The stored document.
    pub document: DocumentInfo,
    /// Its memory.
    pub memory: Memory,
    /// Bytes of its memory states as stored.
    pub memory_bytes: u64,
}

/// One page as shown to a person: 1-based `number`, printed `label`.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageSummary {
    /// 0-based index (what other calls take).
    pub index: u32,
    /// 1-based page number.
    pub number: u32,
    /// The printed label ("iv", "12"), or the number.
    pub label: String,
    /// Where the page is in the file (PDF page, EPUB chapter, …), as JSON.
    pub locator: serde_json::Value,
    /// Tokens of the memory pass that belong to it.
    pub tokens: Option<(u64, u64)>,
    /// Characters of text.
    pub chars: usize,
}

impl From<&StoredPage> for PageSummary {
    fn from(p: &StoredPage) -> Self {
        PageSummary {
            index: p.index,
            number: p.index + 1,
            label: p.display_label.clone(),
            locator: serde_json::from_str(&p.locator_json).unwrap_or_default(),
            tokens: p.token_start.zip(p.token_end),
            chars: p.text.chars().count(),
        }
    }
}

/// A memory state as shown to a person.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateSummary {
    /// Its id.
    pub id: seahorse_library::StateId,
    /// Tokens of the document in it.
    pub position: u64,
    /// The printed label of the page of its last token.
    pub page_label: String,
    /// Whether it is the memory of the whole document.
    pub is_final: bool,
    /// Whether it holds the AHN state alone (an "as of page N" checkpoint, its window
    /// re-read when used) rather than the whole state.
    pub memory_only: bool,
    /// Whether it was built with the current model and settings.
    pub current: bool,
    /// The model and settings that built it, in words.
    pub built_with: String,
    /// Bytes as stored.
    pub stored_bytes: u64,
}

/// One document in full.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentDetails {
    /// The stored document.
    pub document: DocumentInfo,
    /// Its memory.
    pub memory: Memory,
    /// Its pages.
    pub pages: Vec<PageSummary>,
    /// Its memory states.
    pub states: Vec<StateSummary>,
    /// Its storage.
    pub storage: DocumentStorage,
    /// Passages in the full-text index.
    pub passages: u64,
}

pub(crate) fn state_summary(s: &StateInfo, pages: &[StoredPage], current: Option<&str>) -> StateSummary {
    StateSummary {
        id: seahorse_library::StateId(s.id),
        position: s.position,
        page_label: pages
            .get(s.page_index as usize)
            .map_or_else(|| (u64::from(s.page_index) + 1).to_string(), |p| p.display_label.clone()),
        is_final: s.is_final,
        memory_only: s.kind == seahorse_library::StateKind::Memory,
        current: current.map_or(!s.stale, |k| k == s.fingerprint),
        built_with: Fingerprint::from_key(&s.fingerprint).map_or_else(|| "an unknown model".into(), |f| f.describe()),
        stored_bytes: s.stored_bytes,
    }
}
