//! The memory pass: a document's tokens stream through the windowed model in fixed chunks,
//! with the sequence state checkpointed into SQLite.
//!
//! Determinism (a killed-and-resumed run ends with exactly the bytes of an uninterrupted
//! one) rests on two rules:
//! - chunk k is always tokens `[k·C, (k+1)·C)` of the document, evaluated by one call, so
//!   every run splits the work identically, and states exist only between chunks;
//! - after every chunk the state is saved and the next chunk runs in a fresh session
//!   restored from those bytes, whether or not they are persisted. A resumed run restores
//!   the same bytes from SQLite, so from any checkpoint on both runs perform the same
//!   operations on the same inputs.
//!
//! A cancel (checked between chunks) persists the last boundary's state, so Ctrl-C loses
//! nothing; a kill loses the chunks since the last persisted checkpoint.

use std::time::{Duration, Instant};

use seahorse_engine::{
    CacheType, CancelToken, ComputeGate, Logits, MemoryOptions, Model, Priority, Session, SessionOptions,
};
use sha2::{Digest, Sha256};

use super::tokens::{tokenize, DocTokens};
use super::{IngestEvent, ReadProgress};
use crate::codec;
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::ids::{DocId, JobId};
use crate::memory::load_raw;
use crate::store::{CheckpointProgress, NewState, Retention, StateKind, Store, StoredPage};

/// How the memory pass runs and how often it checkpoints.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// C: tokens per evaluation chunk; states are taken only between chunks. Part of the
    /// fingerprint. Default 512.
    pub chunk_tokens: u32,
    /// CPU threads; `None` uses every core.
    pub n_threads: Option<i32>,
    /// Attention cache precision. Part of the fingerprint. Default F16.
    pub cache_type: CacheType,
    /// A checkpoint is persisted once at least this many tokens were read since the last
    /// one. Default 16,384.
    pub checkpoint_tokens: u64,
    /// … or once this much time passed since the last one. Default 3 minutes.
    pub checkpoint_interval: Duration,
    /// How checkpoints are stored. Default [`CheckpointFormat::Compact`].
    pub checkpoint_format: CheckpointFormat,
    /// "As of page N" checkpoints kept per document at most (evenly spread); the final
    /// state is kept besides. Default 8.
    pub checkpoints_kept: usize,
    /// [`CheckpointFormat::Compact`]: checkpoints are thinned until all of a document's
    /// states take at most this many bytes on disk (the final state, and the newest full
    /// state of an unfinished pass, are always kept). Default 25,000,000.
    pub state_budget_bytes: u64,
    /// The gate every evaluation of this reader's sessions passes through (one computation
    /// at a time in a process that also answers questions); `None`: none.
    pub gate: Option<ComputeGate>,
    /// Its sessions' place at the gate: reading is background work, answering interactive.
    pub priority: Priority,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            chunk_tokens: 512,
            n_threads: None,
            cache_type: CacheType::F16,
            checkpoint_tokens: 16_384,
            checkpoint_interval: Duration::from_secs(180),
            checkpoint_format: CheckpointFormat::Compact,
            checkpoints_kept: 8,
            state_budget_bytes: 25_000_000,
            gate: None,
            priority: Priority::Background,
        }
    }
}

/// How a memory pass stores its checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckpointFormat {
    /// The final state whole; "as of page N" checkpoints as the AHN state alone (about a
    /// quarter of a whole state with the default model), the window re-read from the
    /// stored text when one is restored; the newest whole state only while the pass is
    /// unfinished (it resumes from there). Without an AHN block no checkpoint is needed:
    /// "as of page N" re-reads the window alone.
    #[default]
    Compact,
    /// Every checkpoint whole (window, gates and AHN state), `checkpoints_kept` of them:
    /// the format of Seahorse before schema 5, kept to compare against (benchmarks) and to
    /// build libraries as earlier versions wrote them (tests).
    FullStates,
    /// Every checkpoint kept, whole and (with an AHN block) as the AHN state alone, nothing
    /// thinned: one pass from which [`crate::Library::keep_states_as`] keeps what a pass in
    /// another format would have kept, so that a benchmark compares the formats on one
    /// read of a book. Not for libraries people use (it grows with the book).
    Every,
}

/// Reads documents into memory states with one model and one set of settings.
pub struct Reader<'m> {
    model: &'m Model,
    fingerprint: Fingerprint,
    key: String,
    options: ReadOptions,
}

impl std::fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("fingerprint", &self.fingerprint).field("options", &self.options).finish()
    }
}

/// How a memory pass ended.
pub(crate) enum ReadOutcome {
    Finished,
    Cancelled,
}

impl<'m> Reader<'m> {
    /// A reader for `model`, which must have been loaded with exactly `memory` (the
    /// fingerprint is computed from these options and the model's file).
    ///
    /// # Errors
    ///
    /// [`Error::NotWindowed`] for a full-attention model, [`Error::Io`] if the model or
    /// block file cannot be read.
    pub fn new(model: &'m Model, memory: &MemoryOptions, options: ReadOptions) -> Result<Reader<'m>> {
        if !model.windowed() {
            return Err(Error::NotWindowed);
        }
        let fingerprint = Fingerprint::of(&model.info().path, memory, &options)?;
        let key = fingerprint.key();
        Ok(Reader { model, fingerprint, key, options })
    }

    /// What states built by this reader depend on.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// The stored form of the fingerprint.
    pub fn fingerprint_key(&self) -> &str {
        &self.key
    }

    /// The model.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// The options.
    pub fn options(&self) -> &ReadOptions {
        &self.options
    }

    fn chunk(&self) -> usize {
        self.options.chunk_tokens.max(1) as usize
    }

    /// A fresh session as the memory pass uses it (one chunk per batch).
    pub fn new_session(&self) -> Result<Session<'m>> {
        let chunk = self.options.chunk_tokens.max(1);
        let options = SessionOptions {
            // With a windowed model the cache holds only sinks + window; n_ctx bounds the
            // batch, not the document.
            n_ctx: chunk.max(512).next_multiple_of(256),
            n_batch: chunk,
            n_ubatch: chunk.min(512),
            n_seq_max: 1,
            n_threads: self.options.n_threads,
            cache_type: self.options.cache_type,
            gate: self.options.gate.clone(),
            priority: self.options.priority,
            ..SessionOptions::default()
        };
        Ok(self.model.session(&options)?)
    }

    /// A fresh session holding `state` (raw bytes from a checkpoint of this reader).
    pub fn session_from(&self, state: &[u8]) -> Result<Session<'m>> {
        let mut session = self.new_session()?;
        session.restore(0, state)?;
        Ok(session)
    }

    /// Streams the document through the model from its last checkpoint to the end.
    pub(crate) fn read(
        &self,
        store: &Store,
        job: JobId,
        doc: DocId,
        pages: &[StoredPage],
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(&IngestEvent),
    ) -> Result<ReadOutcome> {
        let doc_tokens = tokenize(self.model, pages);
        store.set_token_map(doc, &doc_tokens.ranges)?;
        let tokens = &doc_tokens.tokens;
        let total = tokens.len() as u64;
        let pages_total = pages.len() as u32;
        let chunk = self.chunk() as u64;

        // Resume from the newest fresh checkpoint (states are only ever taken at chunk
        // boundaries or at the end, and a changed fingerprint never matches).
        let resume = store.state_at_or_before(doc, &self.key, total, Some(StateKind::Full))?;
        let (mut session, mut position) = match &resume {
            Some(state) if state.is_final && state.position == total => {
                let progress = CheckpointProgress { job, pages_done: pages_total, tokens_total: total };
                store.finish_job(&progress, total)?;
                return Ok(ReadOutcome::Finished);
            }
            Some(state) if state.position % chunk == 0 && state.position < total => {
                let bytes = load_raw(store, doc, state.id)?;
                (self.session_from(&bytes)?, state.position)
            }
            _ => (self.new_session()?, 0),
        };
        let started = Instant::now();
        let resumed_at = position;
        let mut last_persisted = (position, Instant::now());
        let progress = |position: u64| {
            let elapsed = started.elapsed().as_secs_f64();
            let rate = if elapsed > 0.0 { (position - resumed_at) as f64 / elapsed } else { 0.0 };
            ReadProgress {
                job,
                doc,
                pages_done: doc_tokens.pages_done(position),
                pages_total,
                tokens_done: position,
                tokens_total: total,
                tokens_per_second: rate,
                eta: (rate > 0.0).then(|| Duration::from_secs_f64((total - position) as f64 / rate)),
            }
        };
        store.set_job_progress(job, doc_tokens.pages_done(position), position, total)?;
        on_event(&IngestEvent::Reading(progress(position)));

        let pass = Pass { reader: self, store, job, doc, tokens: &doc_tokens, pages_total };
        // The state at the last chunk boundary when it is not persisted yet: a cancel
        // persists it (it is a chunk boundary, so determinism holds), so Ctrl-C loses nothing.
        let mut pending: Option<Boundary> = None;
        while position < total {
            if cancel.is_cancelled() {
                return pass.cancelled(pending, on_event);
            }
            let end = (position + chunk).min(total);
            session.evaluate(0, &tokens[position as usize..end as usize], Logits::None, cancel, |_| {})?;
            if session.position(0) as u64 != end {
                // Cancelled inside the chunk: the partial chunk is dropped with the session.
                return pass.cancelled(pending, on_event);
            }
            position = end;
            let is_final = position == total;
            let boundary = Boundary {
                position,
                state: session.save(0)?,
                memory: if self.saves_memory() && !is_final { Some(session.save_memory(0)?) } else { None },
            };
            let due = position - last_persisted.0 >= self.options.checkpoint_tokens
                || last_persisted.1.elapsed() >= self.options.checkpoint_interval;
            if is_final || due {
                pass.persist(&boundary, is_final, on_event)?;
                last_persisted = (position, Instant::now());
                pending = None;
            } else {
                store.set_job_progress(job, doc_tokens.pages_done(position), position, total)?;
            }
            on_event(&IngestEvent::Reading(progress(position)));
            if !is_final {
                // Rule 2: continue in a session restored from the saved bytes, exactly as a
                // resumed run would.
                drop(session);
                session = self.session_from(&boundary.state)?;
                if !(is_final || due) {
                    pending = Some(boundary);
                }
            }
        }
        Ok(ReadOutcome::Finished)
    }
}

impl Reader<'_> {
    /// Whether checkpoints get an AHN-state-only twin ("as of page N" in the compact format).
    fn saves_memory(&self) -> bool {
        matches!(self.options.checkpoint_format, CheckpointFormat::Compact | CheckpointFormat::Every)
            && self.model.has_ahn()
    }

    pub(crate) fn retention(&self) -> Retention {
        match self.options.checkpoint_format {
            CheckpointFormat::Compact => Retention::Compact {
                max_checkpoints: self.options.checkpoints_kept,
                budget_bytes: self.options.state_budget_bytes,
            },
            CheckpointFormat::FullStates => Retention::FullStates { keep: self.options.checkpoints_kept },
            CheckpointFormat::Every => Retention::KeepAll,
        }
    }
}

/// The states saved at a chunk boundary.
struct Boundary {
    position: u64,
    /// The whole state.
    state: Vec<u8>,
    /// The AHN state alone (compact format with a block; not for the final state).
    memory: Option<Vec<u8>>,
}

/// One document's memory pass, for writing its checkpoints.
struct Pass<'a, 'm> {
    reader: &'a Reader<'m>,
    store: &'a Store,
    job: JobId,
    doc: DocId,
    tokens: &'a DocTokens,
    pages_total: u32,
}

impl Pass<'_, '_> {
    /// Persists the states of a boundary with the job's progress.
    fn persist(&self, boundary: &Boundary, is_final: bool, on_event: &mut dyn FnMut(&IngestEvent)) -> Result<()> {
        let position = boundary.position;
        let page_index = self.tokens.page_of_last_read(position);
        let full = Encoded::new(&boundary.state, codec::CODEC, self.store)?;
        let memory =
            boundary.memory.as_deref().map(|m| Encoded::new(m, codec::MEMORY_CODEC, self.store)).transpose()?;
        let mut states = vec![new_state(self, StateKind::Full, position, page_index, is_final, &full)];
        if let Some(m) = &memory {
            states.push(new_state(self, StateKind::Memory, position, page_index, is_final, m));
        }
        let pages_done = if is_final { self.pages_total } else { self.tokens.pages_done(position) };
        let progress = CheckpointProgress { job: self.job, pages_done, tokens_total: self.tokens.tokens.len() as u64 };
        self.store.write_checkpoint(&states, &progress, self.reader.retention())?;
        tracing::debug!(
            position,
            page_index,
            is_final,
            stored = full.bytes.len(),
            memory_stored = memory.as_ref().map(|m| m.bytes.len()),
            "checkpoint"
        );
        on_event(&IngestEvent::Checkpoint { job: self.job, doc: self.doc, position, page_index, is_final });
        Ok(())
    }

    /// Persists the last boundary's state if it is newer than the last checkpoint, then
    /// reports the cancellation.
    fn cancelled(&self, pending: Option<Boundary>, on_event: &mut dyn FnMut(&IngestEvent)) -> Result<ReadOutcome> {
        if let Some(boundary) = pending {
            self.persist(&boundary, false, on_event)?;
        }
        Ok(ReadOutcome::Cancelled)
    }
}

fn new_state<'a>(
    pass: &Pass<'a, '_>,
    kind: StateKind,
    position: u64,
    page_index: u32,
    is_final: bool,
    encoded: &'a Encoded,
) -> NewState<'a> {
    NewState {
        doc: pass.doc,
        kind,
        position,
        page_index,
        is_final,
        fingerprint: &pass.reader.key,
        raw_bytes: encoded.raw_bytes,
        raw_sha256: &encoded.sha256,
        codec: encoded.codec,
        compressed: &encoded.bytes,
    }
}

/// A state as stored: compressed, with the size and sha256 of its raw bytes.
struct Encoded {
    bytes: Vec<u8>,
    codec: &'static str,
    raw_bytes: u64,
    sha256: String,
}

impl Encoded {
    fn new(raw: &[u8], codec_name: &'static str, store: &Store) -> Result<Encoded> {
        let io = |source| Error::Io { action: "compress a memory state for", path: store.path().to_owned(), source };
        let bytes = codec::encode_with(codec_name, raw).map_err(io)?;
        // A lossy codec's checksum covers what a restore will get back.
        let sha256 = if codec::is_lossy(codec_name) {
            let decoded = codec::decode(codec_name, &bytes).map_err(|e| io(std::io::Error::other(e)))?;
            hex::encode(Sha256::digest(decoded))
        } else {
            hex::encode(Sha256::digest(raw))
        };
        Ok(Encoded { bytes, codec: codec_name, raw_bytes: raw.len() as u64, sha256 })
    }
}
