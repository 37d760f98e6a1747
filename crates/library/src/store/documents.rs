//! Documents, their pages and the token-offset → page map.

use rusqlite::{params, OptionalExtension, Row};
use seahorse_docs::{Heading, Locator, Page};

use super::{bump_generation, generation, Store};
use crate::error::{Error, Result};
use crate::ids::DocId;
use crate::locator;

/// A stored document (one row of `documents`).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DocumentInfo {
    /// Its id.
    pub id: DocId,
    /// sha256 of the file's bytes, lowercase hex (the dedupe key).
    pub sha256: String,
    /// The title from the document's metadata, else the file name without extension.
    pub title: String,
    /// The detected format (`seahorse_docs::Format::as_str`).
    pub format: String,
    /// Size of the file in bytes.
    pub size_bytes: u64,
    /// Number of pages (or sections).
    pub page_count: u32,
    /// Where the file was when it was added.
    pub source_path: String,
    /// When it was queued, in milliseconds since the Unix epoch (as the caller gave it).
    pub added_ms: i64,
    /// `seahorse_docs::EXTRACTION_VERSION` of the stored pages.
    pub extraction_version: u32,
    /// The extraction's warnings, as sentences.
    pub warnings: Vec<String>,
    /// Tokens of the memory pass (all pages with their markers), once tokenized.
    pub token_count: Option<u64>,
}

/// What [`Store::store_document`] writes.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    /// sha256 of the file's bytes, lowercase hex.
    pub sha256: &'a str,
    /// The title to show.
    pub title: &'a str,
    /// `seahorse_docs::Format::as_str`.
    pub format: &'a str,
    /// File size in bytes.
    pub size_bytes: u64,
    /// The file's path.
    pub source_path: &'a str,
    /// When it was queued, in milliseconds since the Unix epoch.
    pub added_ms: i64,
    /// `seahorse_docs::EXTRACTION_VERSION`.
    pub extraction_version: u32,
    /// The extraction's warnings, as sentences.
    pub warnings: Vec<String>,
    /// The document's outline (`seahorse_docs::Document::outline`).
    pub outline: &'a [Heading],
}

/// A stored page (or section).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredPage {
    /// 0-based position in the document.
    pub index: u32,
    /// The printed label, where the document has one.
    pub label: Option<String>,
    /// The label to show a person (printed label, else the 1-based page or section number).
    pub display_label: String,
    /// The locator as stored (JSON).
    pub locator_json: String,
    /// The text.
    pub text: String,
    /// First token of the page in the memory pass (0-based), once tokenized.
    pub token_start: Option<u64>,
    /// One past the page's last token, once tokenized.
    pub token_end: Option<u64>,
}

impl StoredPage {
    /// The parsed locator; `None` for a kind this build does not know.
    pub fn locator(&self) -> Option<Locator> {
        locator::from_json(&self.locator_json)
    }
}

/// The label a person sees: the printed label, else PDF page index + 1, else index + 1.
pub(crate) fn display_label(index: u32, label: Option<&str>, locator: Option<&Locator>) -> String {
    match (label, locator) {
        (Some(l), _) => l.to_owned(),
        (None, Some(Locator::Pdf { page_index })) => (page_index + 1).to_string(),
        (None, _) => (index + 1).to_string(),
    }
}

const DOC_COLUMNS: &str = "id, sha256, title, format, size_bytes, page_count, source_path, added_ms, \
                           extraction_version, warnings, token_count";

fn doc_from_row(r: &Row<'_>) -> rusqlite::Result<DocumentInfo> {
    let warnings: String = r.get(9)?;
    Ok(DocumentInfo {
        id: DocId(r.get(0)?),
        sha256: r.get(1)?,
        title: r.get(2)?,
        format: r.get(3)?,
        size_bytes: r.get::<_, i64>(4)? as u64,
        page_count: r.get(5)?,
        source_path: r.get(6)?,
        added_ms: r.get(7)?,
        extraction_version: r.get(8)?,
        warnings: serde_json::from_str(&warnings).unwrap_or_default(),
        token_count: r.get::<_, Option<i64>>(10)?.map(|n| n as u64),
    })
}

fn page_from_row(r: &Row<'_>) -> rusqlite::Result<StoredPage> {
    let index: u32 = r.get(0)?;
    let label: Option<String> = r.get(1)?;
    let locator_json: String = r.get(2)?;
    let display = display_label(index, label.as_deref(), locator::from_json(&locator_json).as_ref());
    Ok(StoredPage {
        index,
        label,
        display_label: display,
        locator_json,
        text: r.get(3)?,
        token_start: r.get::<_, Option<i64>>(4)?.map(|n| n as u64),
        token_end: r.get::<_, Option<i64>>(5)?.map(|n| n as u64),
    })
}

impl Store {
    /// Stores a document and its pages in one transaction, replacing the pages of a document
    /// with the same sha256 (a re-extraction). Bumps the index generation, so the full-text
    /// index picks the pages up at its next sync. Returns the document's id.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] or [`Error::DiskFull`]; then nothing was written.
    pub fn store_document(&self, new: &NewDocument<'_>, pages: &[Page]) -> Result<DocId> {
        let warnings = serde_json::to_string(&new.warnings).expect("strings serialise");
        let outline = (!new.outline.is_empty()).then(|| outline_json(new.outline));
        let rows: Vec<(u32, Option<&str>, String, &str)> = pages
            .iter()
            .map(|p| (p.index, p.label.as_deref(), locator::to_json(&p.locator), p.text.as_str()))
            .collect();
        self.write("store a document", |tx| {
            let gen = bump_generation(tx)? as i64;
            let id: i64 = tx.query_row(
                "INSERT INTO documents (sha256, title, format, size_bytes, page_count, source_path, added_ms,
                                        extraction_version, warnings, generation, outline)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (sha256) DO UPDATE SET title = excluded.title, format = excluded.format,
                     page_count = excluded.page_count, source_path = excluded.source_path,
                     extraction_version = excluded.extraction_version, warnings = excluded.warnings,
                     token_count = NULL, generation = excluded.generation, outline = excluded.outline
                 RETURNING id",
                params![
                    new.sha256,
                    new.title,
                    new.format,
                    new.size_bytes as i64,
                    rows.len() as i64,
                    new.source_path,
                    new.added_ms,
                    new.extraction_version,
                    warnings,
                    gen,
                    outline
                ],
                |r| r.get(0),
            )?;
            tx.execute("DELETE FROM pages WHERE doc_id = ?1", [id])?;
            let mut insert =
                tx.prepare("INSERT INTO pages (doc_id, page_index, label, locator, text) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for (index, label, locator, text) in &rows {
                insert.execute(params![id, index, label, locator, text])?;
            }
            Ok(DocId(id))
        })
    }

    /// The document with this id.
    ///
    /// # Errors
    ///
    /// [`Error::NoDocument`] if there is none, [`Error::Database`].
    pub fn document(&self, id: DocId) -> Result<DocumentInfo> {
        let sql = format!("SELECT {DOC_COLUMNS} FROM documents WHERE id = ?1");
        self.read("read a document", |tx| tx.query_row(&sql, [id.0], doc_from_row).optional())?
            .ok_or(Error::NoDocument(id))
    }

    /// The document with this content hash, if stored.
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn document_by_sha256(&self, sha256: &str) -> Result<Option<DocumentInfo>> {
        let sql = format!("SELECT {DOC_COLUMNS} FROM documents WHERE sha256 = ?1");
        self.read("read a document", |tx| tx.query_row(&sql, [sha256], doc_from_row).optional())
    }

    /// Every document, oldest first.
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn documents(&self) -> Result<Vec<DocumentInfo>> {
        let sql = format!("SELECT {DOC_COLUMNS} FROM documents ORDER BY id");
        self.read("list documents", |tx| {
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map([], doc_from_row)?;
            rows.collect()
        })
    }

    /// The pages of a document, in order.
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn pages(&self, doc: DocId) -> Result<Vec<StoredPage>> {
        self.read("read pages", |tx| {
            let mut stmt = tx.prepare(
                "SELECT page_index, label, locator, text, token_start, token_end FROM pages
                 WHERE doc_id = ?1 ORDER BY page_index",
            )?;
            let rows = stmt.query_map([doc.0], page_from_row)?;
            rows.collect()
        })
    }

    /// The document's outline (chapters and sections with their pages), in document order;
    /// empty if it has none or was stored before outlines were kept.
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn outline(&self, doc: DocId) -> Result<Vec<Heading>> {
        let json: Option<String> = self.read("read the outline", |tx| {
            tx.query_row("SELECT outline FROM documents WHERE id = ?1", [doc.0], |r| r.get(0))
                .optional()
                .map(Option::flatten)
        })?;
        Ok(json.as_deref().map(outline_from_json).unwrap_or_default())
    }

    /// Stores each page's token range (`ranges[i]` for page `i`: start, end) and the
    /// document's token count, in one transaction.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] or [`Error::DiskFull`].
    pub fn set_token_map(&self, doc: DocId, ranges: &[(u64, u64)]) -> Result<()> {
        let total = ranges.last().map_or(0, |r| r.1);
        self.write("store the token map", |tx| {
            let mut update =
                tx.prepare("UPDATE pages SET token_start = ?3, token_end = ?4 WHERE doc_id = ?1 AND page_index = ?2")?;
            for (i, (start, end)) in ranges.iter().enumerate() {
                update.execute(params![doc.0, i as i64, *start as i64, *end as i64])?;
            }
            tx.execute("UPDATE documents SET token_count = ?2 WHERE id = ?1", params![doc.0, total as i64])?;
            Ok(())
        })
    }

    /// The 0-based index of the page that holds token `offset` of the memory pass (for
    /// citations), or `None` if the document is not tokenized or the offset is past its end.
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn page_at_token(&self, doc: DocId, offset: u64) -> Result<Option<u32>> {
        self.read("look up a token's page", |tx| {
            tx.query_row(
                "SELECT page_index FROM pages WHERE doc_id = ?1 AND token_start <= ?2 AND token_end > ?2
                 ORDER BY token_start DESC LIMIT 1",
                params![doc.0, offset as i64],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Removes a document with its pages, memory states, chats and jobs in one transaction,
    /// and records a tombstone so that the full-text index drops its passages at the next
    /// sync. Returns false if there was no such document.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] or [`Error::DiskFull`]; then nothing was removed.
    pub fn remove_document(&self, doc: DocId) -> Result<bool> {
        let removed = self.write("remove a document", |tx| {
            let exists: Option<i64> =
                tx.query_row("SELECT 1 FROM documents WHERE id = ?1", [doc.0], |r| r.get(0)).optional()?;
            if exists.is_none() {
                return Ok(false);
            }
            let gen = bump_generation(tx)? as i64;
            tx.execute("DELETE FROM jobs WHERE doc_id = ?1", [doc.0])?;
            tx.execute("DELETE FROM documents WHERE id = ?1", [doc.0])?;
            tx.execute("INSERT INTO index_tombstones (doc_id, generation) VALUES (?1, ?2)", params![doc.0, gen])?;
            Ok(true)
        })?;
        self.release_free_pages();
        Ok(removed)
    }

    /// In one snapshot: the current generation, the documents whose pages changed after
    /// generation `since`, and the documents removed after it.
    pub(crate) fn index_changes(&self, since: u64) -> Result<(u64, Vec<DocId>, Vec<DocId>)> {
        self.read("read index changes", |tx| {
            let current = generation(tx)?;
            let ids = |sql: &str| -> rusqlite::Result<Vec<DocId>> {
                let mut stmt = tx.prepare(sql)?;
                let rows = stmt.query_map([since as i64], |r| Ok(DocId(r.get(0)?)))?;
                rows.collect()
            };
            let changed = ids("SELECT id FROM documents WHERE generation > ?1 ORDER BY id")?;
            let removed = ids("SELECT DISTINCT doc_id FROM index_tombstones WHERE generation > ?1")?;
            Ok((current, changed, removed))
        })
    }

    /// Forgets tombstones the index has applied (generation ≤ `applied`).
    pub(crate) fn purge_tombstones(&self, applied: u64) -> Result<()> {
        self.write("purge index tombstones", |tx| {
            tx.execute("DELETE FROM index_tombstones WHERE generation <= ?1", [applied as i64])?;
            Ok(())
        })
    }
}

/// An outline as stored: `[{"level", "title", "page_index"}, …]`.
fn outline_json(outline: &[Heading]) -> String {
    let items: Vec<serde_json::Value> = outline
        .iter()
        .map(|h| serde_json::json!({ "level": h.level, "title": h.title, "page_index": h.page_index }))
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// Parses [`outline_json`]'s form; entries it cannot read are skipped.
fn outline_from_json(text: &str) -> Vec<Heading> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|v| {
            Some(Heading {
                level: u32::try_from(v.get("level")?.as_u64()?).ok()?,
                title: v.get("title")?.as_str()?.to_owned(),
                page_index: u32::try_from(v.get("page_index")?.as_u64()?).ok()?,
            })
        })
        .collect()
}
