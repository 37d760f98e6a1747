//! Ingestion: the job queue's worker. Per job: extract the file, store its pages, update the
//! full-text index, then read the document into a memory state (see [`reader`]).

mod reader;
pub(crate) mod tokens;

use std::path::{Path, PathBuf};
use std::time::Duration;

use seahorse_engine::CancelToken;
use sha2::{Digest, Sha256};

pub use reader::{CheckpointFormat, ReadOptions, Reader};

use crate::error::{Error, Result};
use crate::ids::{DocId, JobId};
use crate::library::Library;
use crate::store::{JobInfo, JobState, NewDocument};
use reader::ReadOutcome;

/// Progress of the memory pass of one document.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReadProgress {
    /// The job.
    pub job: JobId,
    /// The document.
    pub doc: DocId,
    /// Pages fully read.
    pub pages_done: u32,
    /// Pages of the document.
    pub pages_total: u32,
    /// Tokens read (including those before a resumed checkpoint).
    pub tokens_done: u64,
    /// Tokens of the whole pass.
    pub tokens_total: u64,
    /// Throughput of this run so far.
    pub tokens_per_second: f64,
    /// Estimated time to the end of the document at that rate.
    pub eta: Option<Duration>,
}

/// What the worker reports while it runs.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum IngestEvent {
    /// A job was picked up.
    JobStarted {
        /// The job.
        job: JobId,
        /// Its file.
        path: PathBuf,
    },
    /// A job moved to another stage.
    Stage {
        /// The job.
        job: JobId,
        /// The new stage.
        state: JobState,
    },
    /// Extraction progress (PDF pages, EPUB chapters).
    Extracting {
        /// The job.
        job: JobId,
        /// Units done.
        done: u32,
        /// Units in all.
        total: u32,
    },
    /// Memory-pass progress, after every chunk.
    Reading(ReadProgress),
    /// A state was persisted.
    Checkpoint {
        /// The job.
        job: JobId,
        /// The document.
        doc: DocId,
        /// Tokens read into it.
        position: u64,
        /// The page holding its last token.
        page_index: u32,
        /// Whether it is the final state.
        is_final: bool,
    },
    /// A job ended (done, failed or cancelled).
    JobFinished {
        /// The job.
        job: JobId,
        /// Its document, if stored.
        doc: Option<DocId>,
        /// How it ended.
        state: JobState,
        /// Why it failed.
        error: Option<String>,
    },
}

/// What one run of the queue did.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RunSummary {
    /// Jobs finished.
    pub done: usize,
    /// Jobs failed (each with its error in the job row).
    pub failed: usize,
    /// Whether the run stopped because of the cancel token (the current job is cancelled
    /// and resumable).
    pub cancelled: bool,
}

/// An error with its whole chain of causes in one line (a cause already quoted by the one
/// before it is not repeated): the job's error column, and any message a person reads.
pub fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

impl Library {
    /// Runs the queue until it is empty or `cancel` fires: queued jobs, and jobs a killed
    /// worker left in a middle state (they resume from their last checkpoint). A job that
    /// fails (a hostile file, a file deleted meanwhile) is marked failed with its error and
    /// the next one runs.
    ///
    /// # Errors
    ///
    /// [`Error::WorkerBusy`] if another process runs this library's queue;
    /// [`Error::DiskFull`] and [`Error::Database`] stop the run (the current job stays
    /// resumable: nothing already stored is lost).
    pub fn run_jobs(
        &self,
        reader: &Reader<'_>,
        cancel: &CancelToken,
        mut on_event: impl FnMut(&IngestEvent),
    ) -> Result<RunSummary> {
        let _lock = self.lock_worker()?;
        // States of other fingerprints stay: each is restorable with the model and settings
        // that built it, until its document is read again (its new final state replaces them).
        let mut summary = RunSummary::default();
        while let Some(job) = self.store().next_job()? {
            if cancel.is_cancelled() {
                summary.cancelled = true;
                break;
            }
            let _span = tracing::info_span!("ingest", job = job.id.0, path = %job.source_path).entered();
            on_event(&IngestEvent::JobStarted { job: job.id, path: PathBuf::from(&job.source_path) });
            let mut doc = job.doc;
            let outcome = self.run_job(&job, reader, cancel, &mut doc, &mut on_event);
            let (state, error) = match outcome {
                Ok(ReadOutcome::Finished) => (JobState::Done, None),
                Ok(ReadOutcome::Cancelled) => (JobState::Cancelled, None),
                Err(Error::Extract(seahorse_docs::Error::Cancelled { .. })) => (JobState::Cancelled, None),
                Err(Error::Database { .. } | Error::NoJob(_))
                    if matches!(self.store().job(job.id), Err(Error::NoJob(_))) =>
                {
                    // `remove` deleted the document (and its job) from another process
                    // while it was being ingested: nothing of it is left to write.
                    let error = Some("the document was removed while it was being ingested".to_owned());
                    on_event(&IngestEvent::JobFinished { job: job.id, doc, state: JobState::Failed, error });
                    summary.failed += 1;
                    continue;
                }
                Err(err @ (Error::DiskFull { .. } | Error::Database { .. } | Error::Index { .. })) => {
                    // The library itself is in trouble: record it (best effort: with a
                    // full disk even this may fail, and the job then stays resumable in
                    // its stage) and stop.
                    let text = error_text(&err);
                    let _ = self.store().set_job_state(job.id, JobState::Failed, Some(&text));
                    on_event(&IngestEvent::JobFinished {
                        job: job.id,
                        doc,
                        state: JobState::Failed,
                        error: Some(text),
                    });
                    return Err(err);
                }
                Err(err) => (JobState::Failed, Some(error_text(&err))),
            };
            if state != JobState::Done {
                self.store().set_job_state(job.id, state, error.as_deref())?;
            }
            on_event(&IngestEvent::JobFinished { job: job.id, doc, state, error });
            match state {
                JobState::Done => summary.done += 1,
                JobState::Cancelled => {
                    summary.cancelled = true;
                    break;
                }
                _ => summary.failed += 1,
            }
        }
        Ok(summary)
    }

    fn run_job(
        &self,
        job: &JobInfo,
        reader: &Reader<'_>,
        cancel: &CancelToken,
        doc_out: &mut Option<DocId>,
        on_event: &mut dyn FnMut(&IngestEvent),
    ) -> Result<ReadOutcome> {
        let store = self.store();
        let path = Path::new(&job.source_path);
        // A job interrupted (or cancelled, or failed) after its pages were stored finds them
        // in SQLite: the file is not needed again.
        let stored = job.doc.and_then(|d| store.document(d).ok());
        let doc = match stored {
            Some(d) if d.extraction_version == seahorse_docs::EXTRACTION_VERSION => d.id,
            _ => {
                store.set_job_state(job.id, JobState::Extracting, None)?;
                tracing::info!(stage = "extracting");
                on_event(&IngestEvent::Stage { job: job.id, state: JobState::Extracting });
                self.extract_and_store(path, job.queued_ms, cancel, &mut |done, total| {
                    on_event(&IngestEvent::Extracting { job: job.id, done, total })
                })?
            }
        };
        *doc_out = Some(doc);
        let pages_total = store.document(doc)?.page_count;
        store.set_job_document(job.id, doc, pages_total, JobState::Indexing)?;
        tracing::info!(stage = "indexing");
        on_event(&IngestEvent::Stage { job: job.id, state: JobState::Indexing });
        self.sync_index()?;
        store.set_job_state(job.id, JobState::Reading, None)?;
        tracing::info!(stage = "reading");
        on_event(&IngestEvent::Stage { job: job.id, state: JobState::Reading });
        let pages = store.pages(doc)?;
        reader.read(store, job.id, doc, &pages, cancel, on_event)
    }

    /// Stores and indexes the pages of the file at `path` without reading it into a memory
    /// state: the document can be searched and asked with passages alone at once, and a
    /// job (`reread`) reads it later. A file already stored (same content and extraction
    /// version) keeps its document. `now_ms` is the caller's clock.
    ///
    /// # Errors
    ///
    /// [`Error::Extract`] for a file that cannot be read or parsed, [`Error::Database`],
    /// [`Error::Index`].
    pub fn add_unread(&self, path: &Path, now_ms: i64, cancel: &CancelToken) -> Result<DocId> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        let doc = self.extract_and_store(&path, now_ms, cancel, &mut |_, _| {})?;
        self.sync_index()?;
        Ok(doc)
    }

    /// Reads the file, and stores its pages unless a document with the same content and
    /// extraction version is stored already.
    fn extract_and_store(
        &self,
        path: &Path,
        added_ms: i64,
        cancel: &CancelToken,
        on_progress: &mut dyn FnMut(u32, u32),
    ) -> Result<DocId> {
        let bytes = std::fs::read(path)
            .map_err(|source| Error::Extract(seahorse_docs::Error::Read { path: path.to_owned(), source }))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if let Some(existing) = self.store().document_by_sha256(&sha256)? {
            if existing.extraction_version == seahorse_docs::EXTRACTION_VERSION {
                return Ok(existing.id);
            }
        }
        let document = seahorse_docs::extract_bytes(path, &bytes, &self.config().extract, cancel, |p| {
            on_progress(p.done, p.total)
        })?;
        let title = document
            .title
            .clone()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "untitled".to_owned());
        let new = NewDocument {
            sha256: &sha256,
            title: title.trim(),
            format: document.format.as_str(),
            size_bytes: bytes.len() as u64,
            source_path: &path.to_string_lossy(),
            added_ms,
            extraction_version: seahorse_docs::EXTRACTION_VERSION,
            warnings: document.warnings.iter().map(|w| w.to_string()).collect(),
            outline: &document.outline,
        };
        self.store().store_document(&new, &document.pages)
    }
}
