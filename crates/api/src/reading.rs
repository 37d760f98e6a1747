//! Reading documents into memory on a worker thread of its own, with its own library
//! connection (SQLite WAL: questions are answered through another one meanwhile), its
//! sessions behind the process's compute gate at background priority.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use seahorse_engine::{CancelToken, Priority};
use seahorse_library::{DocId, Fingerprint, IngestEvent, JobId, Library, RunSummary};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::models::FetchProgress;
use crate::runtime::{self, Choice, Resolved};
use crate::Shared;

/// What a reading run reports; a GUI forwards these as events.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReadingEvent {
    /// The model is being fetched.
    Fetch(FetchProgress),
    /// The model is loaded; states are built with this fingerprint.
    Started(Fingerprint),
    /// Ingestion progress (a job started, extraction, reading with tokens/s and ETA, a
    /// checkpoint, a job finished).
    Ingest(IngestEvent),
    /// A document was filed into the collection it was added for.
    Filed {
        /// The document.
        doc: DocId,
        /// The collection's name.
        collection: String,
    },
    /// The run ended: the queue is empty, or it was cancelled (resumable), or it failed.
    Finished {
        /// What it did.
        summary: RunSummary,
        /// Why it stopped early, if it failed.
        error: Option<String>,
    },
}

/// The running worker.
pub(crate) struct Worker {
    cancel: CancelToken,
    thread: JoinHandle<Result<RunSummary>>,
}

impl Worker {
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }
}

/// Collections that documents of queued jobs join once they are stored.
pub(crate) type Filing = Arc<Mutex<HashMap<JobId, String>>>;

/// Starts the worker unless one runs.
pub(crate) fn start(
    shared: &Arc<Shared>,
    choice: Choice,
    on_event: Box<dyn Fn(ReadingEvent) + Send + Sync>,
) -> Result<()> {
    let mut slot = shared.worker.lock().unwrap_or_else(|e| e.into_inner());
    if slot.as_ref().is_some_and(|w| !w.is_finished()) {
        return Err(Error::AlreadyReading);
    }
    let cancel = CancelToken::new();
    let shared2 = Arc::clone(shared);
    let token = cancel.clone();
    let thread = std::thread::Builder::new()
        .name("seahorse-reading".into())
        .spawn(move || {
            let result = run(&shared2, choice, &token, &*on_event);
            let (summary, error) = match &result {
                Ok(s) => (s.clone(), None),
                Err(e) => (RunSummary::default(), Some(seahorse_library::error_text(e))),
            };
            on_event(ReadingEvent::Finished { summary, error });
            result
        })
        .map_err(|e| Error::Invalid(format!("cannot start the reading thread: {e}")))?;
    *slot = Some(Worker { cancel, thread });
    Ok(())
}

fn run(shared: &Shared, choice: Choice, cancel: &CancelToken, on_event: &dyn Fn(ReadingEvent)) -> Result<RunSummary> {
    let _span = tracing::info_span!("reading", choice = %choice.describe()).entered();
    // Nothing to read: do not load the model for an empty queue (the app starts a run at
    // every start, to continue what a quit interrupted).
    let pending = shared.with_library(|l| Ok(l.store().jobs()?.iter().any(|j| !j.state.is_final())))?;
    if !pending {
        return Ok(RunSummary::default());
    }
    let settings = shared.settings();
    let resolved = Resolved::new(choice, &settings, &shared.paths, &mut |p| on_event(ReadingEvent::Fetch(p)))?;
    let model = shared.models.get(&resolved)?;
    let reader = runtime::reader(&model, &resolved, &shared.gate, Priority::Background)?;
    on_event(ReadingEvent::Started(reader.fingerprint().clone()));
    // A connection of its own, for hours, beside the ones that answer questions.
    let library = Library::open(&shared.paths.library, &Default::default())?;
    let summary = library.run_jobs(&reader, cancel, |event| {
        if let IngestEvent::JobFinished { job, doc: Some(doc), .. } = event {
            file_into_collection(&library, &shared.filing, *job, *doc, on_event);
        }
        if let IngestEvent::JobFinished { job, state, error, .. } = event {
            tracing::info!(job = job.0, state = %state, error = error.as_deref().unwrap_or(""), "job finished");
        }
        on_event(ReadingEvent::Ingest(event.clone()));
    })?;
    Ok(summary)
}

/// Files the document of `job` into the collection it was added for (best effort: a
/// failure is logged and the document stays in the library).
fn file_into_collection(library: &Library, filing: &Filing, job: JobId, doc: DocId, on_event: &dyn Fn(ReadingEvent)) {
    let Some(collection) = filing.lock().unwrap_or_else(|e| e.into_inner()).remove(&job) else { return };
    match library.store().add_to_collection(&collection, &[doc]) {
        Ok(_) => on_event(ReadingEvent::Filed { doc, collection }),
        Err(e) => tracing::warn!(%collection, doc = doc.0, "cannot file the document: {e}"),
    }
}

/// Asks the worker to stop after the chunk it is reading (the job stays resumable).
pub(crate) fn cancel(shared: &Shared) -> bool {
    match shared.worker.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        Some(w) if !w.is_finished() => {
            w.cancel.cancel();
            true
        }
        _ => false,
    }
}

/// Waits for the worker to end; `None` if none was started since the last wait.
pub(crate) fn wait(shared: &Shared) -> Option<Result<RunSummary>> {
    let worker = shared.worker.lock().unwrap_or_else(|e| e.into_inner()).take()?;
    Some(worker.thread.join().unwrap_or_else(|_| Err(Error::Invalid("the reading thread panicked".into()))))
}
