//! Storage measurements per document.

use super::Store;
use crate::error::Result;
use crate::ids::DocId;

/// What one document takes on disk.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct DocumentStorage {
    /// The document.
    pub doc: DocId,
    /// Pages stored.
    pub pages: u32,
    /// UTF-8 bytes of page text in SQLite.
    pub text_bytes: u64,
    /// Bytes of locators and labels in SQLite.
    pub locator_bytes: u64,
    /// Full-text index bytes attributed to the document: the index directory's size shared
    /// out by text bytes (tantivy does not account per document). Filled by the library.
    pub index_bytes: u64,
    /// Memory states stored (checkpoints and the final state).
    pub states: u32,
    /// Their size as the engine saved them, in bytes.
    pub state_raw_bytes: u64,
    /// Their size in SQLite after zstd, in bytes.
    pub state_stored_bytes: u64,
}

impl Store {
    /// Measures the SQLite side of one document's storage (the index share stays 0).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Database`].
    pub fn document_storage(&self, doc: DocId) -> Result<DocumentStorage> {
        self.read("measure storage", |tx| {
            let (pages, text_bytes, locator_bytes) = tx.query_row(
                "SELECT count(*), coalesce(sum(length(CAST(text AS BLOB))), 0),
                        coalesce(sum(length(locator) + coalesce(length(label), 0)), 0)
                 FROM pages WHERE doc_id = ?1",
                [doc.0],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)),
            )?;
            let (states, raw, stored) = tx.query_row(
                "SELECT count(*), coalesce(sum(raw_bytes), 0), coalesce(sum(length(blob)), 0)
                 FROM states WHERE doc_id = ?1",
                [doc.0],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)),
            )?;
            Ok(DocumentStorage {
                doc,
                pages: pages as u32,
                text_bytes: text_bytes as u64,
                locator_bytes: locator_bytes as u64,
                index_bytes: 0,
                states: states as u32,
                state_raw_bytes: raw as u64,
                state_stored_bytes: stored as u64,
            })
        })
    }

    /// UTF-8 bytes of all page text in the library.
    pub(crate) fn total_text_bytes(&self) -> Result<u64> {
        self.read("measure storage", |tx| {
            tx.query_row("SELECT coalesce(sum(length(CAST(text AS BLOB))), 0) FROM pages", [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        })
    }
}
