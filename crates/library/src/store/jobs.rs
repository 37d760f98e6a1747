//! Ingestion jobs: a queue with a state machine
//! queued → extracting → indexing → reading → done | failed(error) | cancelled.

use std::fmt;
use std::path::Path;

use rusqlite::{params, OptionalExtension, Row};

use super::Store;
use crate::error::{Error, Result};
use crate::ids::{DocId, JobId};

/// Where a job is in its life.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for the worker.
    Queued,
    /// The file is being read and its pages extracted.
    Extracting,
    /// The pages are stored; the full-text index is being updated.
    Indexing,
    /// The memory pass: the document's tokens stream through the model.
    Reading,
    /// Finished: the document is stored, indexed and its memory state saved.
    Done,
    /// Gave up; `error` says why. Other jobs are not affected.
    Failed,
    /// Stopped by the person; resumable.
    Cancelled,
}

impl JobState {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Extracting => "extracting",
            Self::Indexing => "indexing",
            Self::Reading => "reading",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> JobState {
        match s {
            "queued" => Self::Queued,
            "extracting" => Self::Extracting,
            "indexing" => Self::Indexing,
            "reading" => Self::Reading,
            "done" => Self::Done,
            "cancelled" => Self::Cancelled,
            // The CHECK constraint allows nothing else.
            _ => Self::Failed,
        }
    }

    /// Whether the job is finished one way or another (done, failed or cancelled).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Cancelled)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job as stored.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JobInfo {
    /// Its id.
    pub id: JobId,
    /// The file to ingest.
    pub source_path: String,
    /// The document, once stored.
    pub doc: Option<DocId>,
    /// Where it is.
    pub state: JobState,
    /// Why it failed.
    pub error: Option<String>,
    /// Pages read by the memory pass so far.
    pub pages_done: u32,
    /// Pages of the document (0 until extracted).
    pub pages_total: u32,
    /// Tokens read by the memory pass so far (up to the last checkpoint after a restart).
    pub tokens_done: u64,
    /// Tokens of the memory pass (0 until tokenized).
    pub tokens_total: u64,
    /// When it was queued, in milliseconds since the Unix epoch.
    pub queued_ms: i64,
}

const JOB_COLUMNS: &str =
    "id, source_path, doc_id, state, error, pages_done, pages_total, tokens_done, tokens_total, queued_ms";

fn job_from_row(r: &Row<'_>) -> rusqlite::Result<JobInfo> {
    Ok(JobInfo {
        id: JobId(r.get(0)?),
        source_path: r.get(1)?,
        doc: r.get::<_, Option<i64>>(2)?.map(DocId),
        state: JobState::parse(&r.get::<_, String>(3)?),
        error: r.get(4)?,
        pages_done: r.get(5)?,
        pages_total: r.get(6)?,
        tokens_done: r.get::<_, i64>(7)? as u64,
        tokens_total: r.get::<_, i64>(8)? as u64,
        queued_ms: r.get(9)?,
    })
}

impl Store {
    /// Queues one job per file, in one transaction. A file that already has an unfinished
    /// job keeps that job (its id is returned again). `now_ms` is the caller's clock.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] or [`Error::DiskFull`]; then nothing was queued.
    pub fn enqueue(&self, files: &[impl AsRef<Path>], now_ms: i64) -> Result<Vec<JobId>> {
        let paths: Vec<String> = files.iter().map(|f| f.as_ref().to_string_lossy().into_owned()).collect();
        self.write("queue jobs", |tx| {
            let mut ids = Vec::with_capacity(paths.len());
            for path in &paths {
                let existing: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM jobs WHERE source_path = ?1
                         AND state IN ('queued', 'extracting', 'indexing', 'reading') LIMIT 1",
                        [path],
                        |r| r.get(0),
                    )
                    .optional()?;
                let id = match existing {
                    Some(id) => id,
                    None => tx.query_row(
                        "INSERT INTO jobs (source_path, state, queued_ms) VALUES (?1, 'queued', ?2) RETURNING id",
                        params![path, now_ms],
                        |r| r.get(0),
                    )?,
                };
                ids.push(JobId(id));
            }
            Ok(ids)
        })
    }

    /// Every job, oldest first.
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn jobs(&self) -> Result<Vec<JobInfo>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id");
        self.read("list jobs", |tx| {
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map([], job_from_row)?;
            rows.collect()
        })
    }

    /// One job.
    ///
    /// # Errors
    ///
    /// [`Error::NoJob`], [`Error::Database`].
    pub fn job(&self, id: JobId) -> Result<JobInfo> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
        self.read("read a job", |tx| tx.query_row(&sql, [id.0], job_from_row).optional())?.ok_or(Error::NoJob(id))
    }

    /// The oldest job that is not finished: queued, or interrupted in a middle state (a
    /// killed worker leaves it there; the caller holds the worker lock, so nobody else is
    /// working on it).
    pub(crate) fn next_job(&self) -> Result<Option<JobInfo>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE state IN ('queued', 'extracting', 'indexing', 'reading')
             ORDER BY id LIMIT 1"
        );
        self.read("pick the next job", |tx| tx.query_row(&sql, [], job_from_row).optional())
    }

    /// Moves a job to `state`, with an error text for [`JobState::Failed`].
    pub(crate) fn set_job_state(&self, id: JobId, state: JobState, error: Option<&str>) -> Result<()> {
        self.write("update a job", |tx| {
            tx.execute("UPDATE jobs SET state = ?2, error = ?3 WHERE id = ?1", params![id.0, state.as_str(), error])?;
            Ok(())
        })
    }

    /// Attaches the stored document to a job and moves it to `state`.
    pub(crate) fn set_job_document(&self, id: JobId, doc: DocId, pages: u32, state: JobState) -> Result<()> {
        self.write("update a job", |tx| {
            tx.execute(
                "UPDATE jobs SET doc_id = ?2, pages_total = ?3, state = ?4 WHERE id = ?1",
                params![id.0, doc.0, pages, state.as_str()],
            )?;
            Ok(())
        })
    }

    /// Records the memory pass's progress; [`Error::NoJob`] if the job is gone (its
    /// document was removed meanwhile).
    pub(crate) fn set_job_progress(
        &self,
        id: JobId,
        pages_done: u32,
        tokens_done: u64,
        tokens_total: u64,
    ) -> Result<()> {
        let updated = self.write("record job progress", |tx| {
            tx.execute(
                "UPDATE jobs SET pages_done = ?2, tokens_done = ?3, tokens_total = ?4 WHERE id = ?1",
                params![id.0, pages_done, tokens_done as i64, tokens_total as i64],
            )
        })?;
        if updated == 0 {
            return Err(Error::NoJob(id));
        }
        Ok(())
    }

    /// Queues cancelled and failed jobs again (interrupted ones are picked up anyway).
    /// Returns how many were re-queued.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] or [`Error::DiskFull`].
    pub fn requeue_unfinished(&self) -> Result<usize> {
        self.write("re-queue jobs", |tx| {
            tx.execute("UPDATE jobs SET state = 'queued', error = NULL WHERE state IN ('cancelled', 'failed')", [])
        })
    }

    /// Deletes finished jobs (done, failed, cancelled); returns how many.
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn clear_finished_jobs(&self) -> Result<usize> {
        self.write("clear finished jobs", |tx| {
            tx.execute("DELETE FROM jobs WHERE state IN ('done', 'failed', 'cancelled')", [])
        })
    }
}
