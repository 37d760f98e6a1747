//! Memory states: the sequence state after reading a document up to a token position,
//! compressed, with the fingerprint of the model and settings that built it.

use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::Store;
use crate::error::Result;
use crate::ids::{DocId, JobId};

/// What a stored state holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    /// The whole sequence state (sinks and window K/V, AHN gates and state): restored as
    /// it is. The final state, the resume point of an unfinished memory pass, and every
    /// state written before schema 5.
    Full,
    /// The AHN state alone: an "as of page N" checkpoint; the window is re-read on restore.
    Memory,
}

impl StateKind {
    fn as_str(self) -> &'static str {
        match self {
            StateKind::Full => "full",
            StateKind::Memory => "memory",
        }
    }

    fn parse(s: &str) -> rusqlite::Result<StateKind> {
        match s {
            "full" => Ok(StateKind::Full),
            "memory" => Ok(StateKind::Memory),
            other => Err(rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("unknown state kind {other:?}").into(),
            )),
        }
    }
}

/// A stored state, without its blob.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StateInfo {
    /// Row id.
    pub id: i64,
    /// The document.
    pub doc: DocId,
    /// What it holds.
    pub kind: StateKind,
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

/// A state to write.
pub(crate) struct NewState<'a> {
    pub doc: DocId,
    pub kind: StateKind,
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

/// How the states of one document are kept as a memory pass writes them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Retention {
    /// Full states only, `keep` intermediate ones (the newest always) beside the final
    /// state: the format of Seahorse before schema 5, kept for comparison and tests.
    FullStates { keep: usize },
    /// The final state, the newest full state while the pass is unfinished (it resumes
    /// from there), and "as of page N" checkpoints (AHN states alone, and full states of
    /// earlier versions) thinned, evenly spread, to at most `max_checkpoints` and until
    /// all of the document's states take at most `budget_bytes`.
    Compact { max_checkpoints: usize, budget_bytes: u64 },
    /// Every state written is kept ([`crate::CheckpointFormat::Every`]); [`Store::replay_retention`]
    /// later keeps what a pass with another retention would have kept.
    KeepAll,
}

impl Retention {
    /// Applies the retention to (doc, fingerprint) after a write at `newest`.
    fn apply(self, tx: &Transaction<'_>, doc: DocId, fingerprint: &str, newest: u64) -> rusqlite::Result<()> {
        match self {
            Retention::FullStates { keep } => prune_full(tx, doc, fingerprint, keep),
            Retention::Compact { max_checkpoints, budget_bytes } => {
                prune_compact(tx, doc, fingerprint, newest, max_checkpoints, budget_bytes)
            }
            Retention::KeepAll => Ok(()),
        }
    }
}

const STATE_COLUMNS: &str =
    "id, doc_id, kind, position, page_index, is_final, fingerprint, stale, raw_bytes, length(blob)";

fn state_from_row(r: &Row<'_>) -> rusqlite::Result<StateInfo> {
    Ok(StateInfo {
        id: r.get(0)?,
        doc: DocId(r.get(1)?),
        kind: StateKind::parse(&r.get::<_, String>(2)?)?,
        position: r.get::<_, i64>(3)? as u64,
        page_index: r.get(4)?,
        is_final: r.get(5)?,
        fingerprint: r.get(6)?,
        stale: r.get(7)?,
        raw_bytes: r.get::<_, i64>(8)? as u64,
        stored_bytes: r.get::<_, i64>(9)? as u64,
    })
}

impl Store {
    /// Writes the states taken at one position (the full state, and for a compact pass
    /// with an AHN block its AHN state alone) in one transaction with the job's progress,
    /// then applies `retention`. A final state also removes the document's stale states and
    /// marks the job done.
    pub(crate) fn write_checkpoint(
        &self,
        states: &[NewState<'_>],
        progress: &CheckpointProgress,
        retention: Retention,
    ) -> Result<i64> {
        let first = states.first().expect("at least one state to write");
        let id = self.write("store a memory state", |tx| {
            let mut full_id = None;
            for state in states {
                let id: i64 = tx.query_row(
                    "INSERT INTO states (doc_id, kind, position, page_index, is_final, fingerprint, raw_bytes, raw_sha256, codec, blob)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (doc_id, fingerprint, position, kind) DO UPDATE SET page_index = excluded.page_index,
                         is_final = excluded.is_final, stale = 0, raw_bytes = excluded.raw_bytes,
                         raw_sha256 = excluded.raw_sha256, codec = excluded.codec, blob = excluded.blob
                     RETURNING id",
                    params![
                        state.doc.0, state.kind.as_str(), state.position as i64, state.page_index, state.is_final,
                        state.fingerprint, state.raw_bytes as i64, state.raw_sha256, state.codec, state.compressed
                    ],
                    |r| r.get(0),
                )?;
                if state.kind == StateKind::Full {
                    full_id = Some(id);
                }
            }
            let job_state = if first.is_final { "done" } else { "reading" };
            tx.execute(
                "UPDATE jobs SET pages_done = ?2, tokens_done = ?3, tokens_total = ?4, state = ?5, error = NULL
                 WHERE id = ?1",
                params![progress.job.0, progress.pages_done, first.position as i64, progress.tokens_total as i64, job_state],
            )?;
            if first.is_final {
                tx.execute(
                    "DELETE FROM states WHERE doc_id = ?1 AND (stale = 1 OR fingerprint != ?2)",
                    params![first.doc.0, first.fingerprint],
                )?;
            }
            retention.apply(tx, first.doc, first.fingerprint, first.position)?;
            Ok(full_id.expect("a full state among those written"))
        })?;
        self.release_free_pages();
        Ok(id)
    }

    /// Keeps of the (doc, fingerprint) states that a pass kept with [`Retention::KeepAll`]
    /// exactly those a pass with `retention` would have kept: the positions are replayed in
    /// order, each followed by `retention` as its write would have applied it, in one
    /// transaction. With `memory` false the AHN states alone go first (a pass that saves
    /// none). Lets a benchmark compare formats on one read of a book.
    pub(crate) fn replay_retention(
        &self,
        doc: DocId,
        fingerprint: &str,
        retention: Retention,
        memory: bool,
    ) -> Result<()> {
        self.write("thin memory states", |tx| {
            if !memory {
                tx.execute(
                    "DELETE FROM states WHERE doc_id = ?1 AND fingerprint = ?2 AND kind = 'memory'",
                    params![doc.0, fingerprint],
                )?;
            }
            // States not yet "written" wait under a fingerprint no pass has.
            let waiting = format!("{fingerprint}\u{0}waiting");
            tx.execute(
                "UPDATE states SET fingerprint = ?3 WHERE doc_id = ?1 AND fingerprint = ?2",
                params![doc.0, fingerprint, waiting],
            )?;
            let positions: Vec<i64> = {
                let mut stmt = tx.prepare(
                    "SELECT DISTINCT position FROM states WHERE doc_id = ?1 AND fingerprint = ?2 ORDER BY position",
                )?;
                let rows = stmt.query_map(params![doc.0, waiting], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            for position in positions {
                tx.execute(
                    "UPDATE states SET fingerprint = ?2 WHERE doc_id = ?1 AND fingerprint = ?3 AND position = ?4",
                    params![doc.0, fingerprint, waiting, position],
                )?;
                retention.apply(tx, doc, fingerprint, position as u64)?;
            }
            Ok(())
        })?;
        self.release_free_pages();
        Ok(())
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

    /// The fresh state with this fingerprint at the greatest position ≤ `max_position`:
    /// of `kind`, or with `None` of either kind (the full one where both are at that
    /// position).
    pub(crate) fn state_at_or_before(
        &self,
        doc: DocId,
        fingerprint: &str,
        max_position: u64,
        kind: Option<StateKind>,
    ) -> Result<Option<StateInfo>> {
        let sql = format!(
            "SELECT {STATE_COLUMNS} FROM states WHERE doc_id = ?1 AND fingerprint = ?2 AND stale = 0
             AND position <= ?3 AND (?4 IS NULL OR kind = ?4)
             ORDER BY position DESC, kind = 'full' DESC, is_final DESC LIMIT 1"
        );
        let max = max_position.min(i64::MAX as u64) as i64;
        self.read("find a memory state", |tx| {
            tx.query_row(&sql, params![doc.0, fingerprint, max, kind.map(StateKind::as_str)], state_from_row).optional()
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

/// Today's format before schema 5: thins the intermediate full states of (doc,
/// fingerprint) down to `keep`: the newest is always kept (resume needs it); otherwise the
/// one closest to its predecessor goes, so the survivors stay spread over the document for
/// "as of page N" questions.
fn prune_full(tx: &Transaction<'_>, doc: DocId, fingerprint: &str, keep: usize) -> rusqlite::Result<()> {
    let mut rows = checkpoint_rows(tx, doc, fingerprint, "kind = 'full' AND is_final = 0")?;
    let keep = keep.max(1);
    while rows.len() > keep {
        let last = rows.len() - 1;
        let victim = closest_to_predecessor(&rows[..last]);
        tx.execute("DELETE FROM states WHERE id = ?1", [rows[victim].id])?;
        rows.remove(victim);
    }
    Ok(())
}

/// The compact format: after a write at `newest`, a full intermediate state older than the
/// newest full state goes once an AHN state stands at its position (or when the memory
/// has no AHN state); then "as of page N" checkpoints are thinned, the one closest to its
/// predecessor first, until at most `max_checkpoints` remain and the document's states
/// fit `budget_bytes`. The final state, the newest full state and its AHN twin are never
/// removed here (the twin is not counted against `max_checkpoints` until it is superseded).
fn prune_compact(
    tx: &Transaction<'_>,
    doc: DocId,
    fingerprint: &str,
    newest: u64,
    max_checkpoints: usize,
    budget_bytes: u64,
) -> rusqlite::Result<()> {
    let newest_full: i64 = tx.query_row(
        "SELECT coalesce(max(position), 0) FROM states WHERE doc_id = ?1 AND fingerprint = ?2 AND kind = 'full'",
        params![doc.0, fingerprint],
        |r| r.get(0),
    )?;
    let has_memory: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM states WHERE doc_id = ?1 AND fingerprint = ?2 AND kind = 'memory')",
        params![doc.0, fingerprint],
        |r| r.get(0),
    )?;
    tx.execute(
        "DELETE FROM states AS s WHERE s.doc_id = ?1 AND s.fingerprint = ?2 AND s.kind = 'full' AND s.is_final = 0
         AND s.position < ?3 AND s.position <= ?4
         AND (NOT ?5 OR EXISTS (SELECT 1 FROM states AS m WHERE m.doc_id = s.doc_id
              AND m.fingerprint = s.fingerprint AND m.position = s.position AND m.kind = 'memory'))",
        params![doc.0, fingerprint, newest_full, newest as i64, has_memory],
    )?;
    // Candidates: every non-final state but the newest full one and its AHN twin (the
    // twin must outlive it, so that the full state goes once superseded).
    let mut rows = checkpoint_rows(tx, doc, fingerprint, &format!("is_final = 0 AND position != {newest_full}"))?;
    let total = |tx: &Transaction<'_>| -> rusqlite::Result<u64> {
        tx.query_row(
            "SELECT coalesce(sum(length(blob)), 0) FROM states WHERE doc_id = ?1 AND fingerprint = ?2",
            params![doc.0, fingerprint],
            |r| r.get::<_, i64>(0).map(|n| n as u64),
        )
    };
    loop {
        let over_budget = total(tx)? > budget_bytes;
        if rows.is_empty() || !(over_budget || rows.len() > max_checkpoints) {
            break;
        }
        // Over the budget, whole states of an earlier version go first (each is several
        // AHN states' worth); otherwise the checkpoint closest to its predecessor.
        let full: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].full).collect();
        let victim = if over_budget && !full.is_empty() {
            let subset: Vec<CheckpointRow> = full.iter().map(|&i| rows[i].clone()).collect();
            full[least_missed(&subset, newest_full as u64)]
        } else {
            least_missed(&rows, newest_full as u64)
        };
        tx.execute("DELETE FROM states WHERE id = ?1", [rows[victim].id])?;
        rows.remove(victim);
    }
    Ok(())
}

/// A checkpoint considered for thinning.
#[derive(Clone)]
struct CheckpointRow {
    id: i64,
    position: u64,
    /// A whole state (not an AHN state alone).
    full: bool,
}

/// The rows of (doc, fingerprint) matching `filter` (SQL over the states table), by position.
fn checkpoint_rows(
    tx: &Transaction<'_>,
    doc: DocId,
    fingerprint: &str,
    filter: &str,
) -> rusqlite::Result<Vec<CheckpointRow>> {
    let mut stmt = tx.prepare(&format!(
        "SELECT id, position, kind = 'full' FROM states WHERE doc_id = ?1 AND fingerprint = ?2 AND {filter}
         ORDER BY position, kind"
    ))?;
    let rows = stmt.query_map(params![doc.0, fingerprint], |r| {
        Ok(CheckpointRow { id: r.get(0)?, position: r.get::<_, i64>(1)? as u64, full: r.get(2)? })
    })?;
    rows.collect()
}

/// The index of the row closest to its predecessor (the first row's predecessor is the
/// document's start): removing it leaves the others most evenly spread.
fn closest_to_predecessor(rows: &[CheckpointRow]) -> usize {
    (0..rows.len())
        .min_by_key(|&i| rows[i].position - if i == 0 { 0 } else { rows[i - 1].position })
        .expect("at least one row")
}

/// The index of the row whose removal leaves the smallest gap between its neighbours (the
/// document's start before the first, `end`, the newest whole state, after the last): the
/// checkpoint an "as of page N" question would miss least.
fn least_missed(rows: &[CheckpointRow], end: u64) -> usize {
    (0..rows.len())
        .min_by_key(|&i| {
            let before = if i == 0 { 0 } else { rows[i - 1].position };
            let after = rows.get(i + 1).map_or(end, |r| r.position);
            after.saturating_sub(before)
        })
        .expect("at least one row")
}
