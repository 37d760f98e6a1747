//! Memory states: the sequence state after reading a document up to a token position,
//! compressed, with the fingerprint of the model and settings that built it.

use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::Store;
use crate::error::Result;
use crate::ids::{DocId, JobId};

/// A stored state, without its blob.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StateInfo {
    /// Row id.
    pub id: i64,
    /// The document.
    pub doc: DocId,
    /// Tokens read into this state (the next token to read), 0-based.
    pub position: u64,
    /// The page holding the last token read (0-based).
    pub page_index: u32,
    /// Whether this is the state after the whole document.
    pub is_final: bool,
    /// The fingerprint (JSON) of the model and settings that built it.
    pub fingerprint: String,
    /// Marked stale ([`Store::mark_stale`]): never restored again, whatever asks for it.
    pub stale: bool,
    /// Size of the state as the engine saved it, in bytes.
    pub raw_bytes: u64,
    /// Size stored (byte planes + zstd), in bytes.
    pub stored_bytes: u64,
}

/// A checkpoint to write.
pub(crate) struct NewState<'a> {
    pub doc: DocId,
    pub position: u64,
    pub page_index: u32,
    pub is_final: bool,
    pub fingerprint: &'a str,
    pub raw_bytes: u64,
    pub raw_sha256: &'a str,
    pub codec: &'a str,
    pub compressed: &'a [u8],
}

/// The job progress written together with a checkpoint.
pub(crate) struct CheckpointProgress {
    pub job: JobId,
    pub pages_done: u32,
    pub tokens_total: u64,
}

const STATE_COLUMNS: &str = "id, doc_id, position, page_index, is_final, fingerprint, stale, raw_bytes, length(blob)";

fn state_from_row(r: &Row<'_>) -> rusqlite::Result<StateInfo> {
    Ok(StateInfo {
        id: r.get(0)?,
        doc: DocId(r.get(1)?),
        position: r.get::<_, i64>(2)? as u64,
        page_index: r.get(3)?,
        is_final: r.get(4)?,
        fingerprint: r.get(5)?,
        stale: r.get(6)?,
        raw_bytes: r.get::<_, i64>(7)? as u64,
        stored_bytes: r.get::<_, i64>(8)? as u64,
    })
}

impl Store {
    /// Writes a checkpoint in one transaction with the job's progress; keeps at most
    /// `keep_intermediate` intermediate checkpoints of the document (the newest is always
    /// kept). A final state also removes the document's stale states and marks the job done.
    pub(crate) fn write_checkpoint(
        &self,
        state: &NewState<'_>,
        progress: &CheckpointProgress,
        keep_intermediate: usize,
    ) -> Result<i64> {
        self.write("store a memory state", |tx| {
            let id: i64 = tx.query_row(
                "INSERT INTO states (doc_id, position, page_index, is_final, fingerprint, raw_bytes, raw_sha256, codec, blob)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (doc_id, fingerprint, position) DO UPDATE SET page_index = excluded.page_index,
                     is_final = excluded.is_final, stale = 0, raw_bytes = excluded.raw_bytes,
                     raw_sha256 = excluded.raw_sha256, codec = excluded.codec, blob = excluded.blob
                 RETURNING id",
                params![
                    state.doc.0, state.position as i64, state.page_index, state.is_final, state.fingerprint,
                    state.raw_bytes as i64, state.raw_sha256, state.codec, state.compressed
                ],
                |r| r.get(0),
            )?;
            let job_state = if state.is_final { "done" } else { "reading" };
            tx.execute(
                "UPDATE jobs SET pages_done = ?2, tokens_done = ?3, tokens_total = ?4, state = ?5, error = NULL
                 WHERE id = ?1",
                params![progress.job.0, progress.pages_done, state.position as i64, progress.tokens_total as i64, job_state],
            )?;
            if state.is_final {
                tx.execute(
                    "DELETE FROM states WHERE doc_id = ?1 AND (stale = 1 OR fingerprint != ?2)",
                    params![state.doc.0, state.fingerprint],
                )?;
            }
            prune(tx, state.doc, state.fingerprint, keep_intermediate)?;
            Ok(id)
        })
    }

    /// Marks a job done whose final state already exists (a document read before).
    pub(crate) fn finish_job(&self, progress: &CheckpointProgress, tokens_done: u64) -> Result<()> {
        self.write("finish a job", |tx| {
            tx.execute(
                "UPDATE jobs SET pages_done = ?2, tokens_done = ?3, tokens_total = ?4, state = 'done', error = NULL
                 WHERE id = ?1",
                params![progress.job.0, progress.pages_done, tokens_done as i64, progress.tokens_total as i64],
            )?;
            Ok(())
        })
    }

    /// The document's states, in order of fingerprint and position (no blobs).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Database`].
    pub fn states(&self, doc: DocId) -> Result<Vec<StateInfo>> {
        let sql = format!("SELECT {STATE_COLUMNS} FROM states WHERE doc_id = ?1 ORDER BY fingerprint, position");
        self.read("list memory states", |tx| {
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map([doc.0], state_from_row)?;
            rows.collect()
        })
    }

    /// The fresh state with this fingerprint at the greatest position ≤ `max_position`.
    pub(crate) fn state_at_or_before(
        &self,
        doc: DocId,
        fingerprint: &str,
        max_position: u64,
    ) -> Result<Option<StateInfo>> {
        let sql = format!(
            "SELECT {STATE_COLUMNS} FROM states WHERE doc_id = ?1 AND fingerprint = ?2 AND stale = 0
             AND position <= ?3 ORDER BY position DESC, is_final DESC LIMIT 1"
        );
        self.read("find a memory state", |tx| {
            tx.query_row(&sql, params![doc.0, fingerprint, max_position.min(i64::MAX as u64) as i64], state_from_row)
                .optional()
        })
    }

    /// The stored blob of a state, its codec, and the sha256 of its raw bytes.
    pub(crate) fn state_blob(&self, id: i64) -> Result<(Vec<u8>, String, String)> {
        self.read("read a memory state", |tx| {
            tx.query_row("SELECT blob, codec, raw_sha256 FROM states WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
        })
    }

    /// Marks every state built with another fingerprint stale, so that it is never restored
    /// (a changed model file, AHN block, window, sinks or extraction). Returns how many
    /// states became stale.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Database`].
    pub fn mark_stale(&self, fingerprint: &str) -> Result<usize> {
        self.write("mark stale memory states", |tx| {
            tx.execute("UPDATE states SET stale = 1 WHERE fingerprint != ?1 AND stale = 0", [fingerprint])
        })
    }

    /// How many of the document's states are stale or built with another fingerprint.
    pub(crate) fn stale_count(&self, doc: DocId, fingerprint: &str) -> Result<usize> {
        self.read("count stale memory states", |tx| {
            tx.query_row(
                "SELECT count(*) FROM states WHERE doc_id = ?1 AND (stale = 1 OR fingerprint != ?2)",
                params![doc.0, fingerprint],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
        })
    }
}

/// Thins the intermediate checkpoints of (doc, fingerprint) down to `keep`: the newest is
/// always kept (resume needs it); otherwise the one closest to its predecessor goes, so the
/// survivors stay spread over the document for "as of page N" questions.
fn prune(tx: &Transaction<'_>, doc: DocId, fingerprint: &str, keep: usize) -> rusqlite::Result<()> {
    let mut rows: Vec<(i64, u64)> = {
        let mut stmt = tx.prepare(
            "SELECT id, position FROM states WHERE doc_id = ?1 AND fingerprint = ?2 AND is_final = 0
             ORDER BY position",
        )?;
        let rows = stmt.query_map(params![doc.0, fingerprint], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let keep = keep.max(1);
    while rows.len() > keep {
        let last = rows.len() - 1;
        let victim =
            (0..last).min_by_key(|&i| rows[i].1 - if i == 0 { 0 } else { rows[i - 1].1 }).expect("more than one row");
        tx.execute("DELETE FROM states WHERE id = ?1", [rows[victim].0])?;
        rows.remove(victim);
    }
    Ok(())
}
