//! Reading stored memory states back: the final state, or the memory "as of page N" (from
//! the nearest checkpoint at or before the end of page N), only ever for the fingerprint
//! that built it.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::ids::DocId;
use crate::ingest::Reader;
use crate::library::Library;
use crate::store::{StateKind, Store};

/// Tokens before the end of page N that an "as of page N" restore re-reads around a
/// checkpoint's AHN state (besides the S sinks), whatever W: the time a question may wait
/// bounds it. The default model on 2 cores re-reads about 160 tokens/s in this mode
/// (`docs/memory-states.md`: 2,112 tokens took 13.4 s), so S + 512 = 576 tokens
/// take about 3.6 s, and the question with its passages (about 4 s more) stays under the
/// 10 s an "as of page N" answer may take to start. A window of more than 512 tokens is
/// then not full after a rebuild; what it would have held before is in neither the window
/// nor the AHN state (passages from those pages still reach the question).
pub const AS_OF_REREAD_TOKENS: u64 = 512;

/// A memory state ready to restore.
#[derive(Clone)]
pub struct LoadedState {
    /// The state's row id.
    pub id: i64,
    /// The document.
    pub doc: DocId,
    /// Tokens read into the state.
    pub position: u64,
    /// The page holding the last token read (0-based).
    pub page_index: u32,
    /// Whether it is the state after the whole document.
    pub is_final: bool,
    /// The fingerprint key it was built with.
    pub fingerprint: String,
    /// What it holds.
    pub kind: StateKind,
    /// The raw state bytes, as `Session::save` (or, for [`StateKind::Memory`],
    /// `Session::save_memory`) gave them.
    pub bytes: Vec<u8>,
}

/// The memory "as of page N": a session that has read the document up to the end of page N
/// (or as much of it as the memory keeps), ready for a question.
pub struct AsOfPage<'m> {
    /// The session.
    pub session: seahorse_engine::Session<'m>,
    /// Tokens of the document behind it (the end of page N).
    pub position: u64,
    /// The stored state it started from, if any.
    pub checkpoint: Option<StateInfoBrief>,
    /// How it was made.
    pub method: AsOfMethod,
    /// Tokens read to make it.
    pub tokens_read: u64,
}

/// The stored state an "as of page N" memory started from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateInfoBrief {
    /// Row id.
    pub id: i64,
    /// Tokens read into it.
    pub position: u64,
    /// What it holds.
    pub kind: StateKind,
}

/// How an "as of page N" memory was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOfMethod {
    /// A whole state restored, then the tokens after it read: exactly the memory a pass
    /// that stopped at page N would hold.
    Exact,
    /// The sinks and the last tokens before the end of page N re-read around an AHN state
    /// from a checkpoint at or before page N (or the empty one): the window approximates
    /// the one the pass held, and what lies between the checkpoint and the re-read tokens
    /// is in neither (passages from those pages still reach the question).
    Rebuilt,
}

/// Which stored states an "as of page N" restore may start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AsOfFrom {
    /// The nearest checkpoint; a whole state when it is close enough to read on from it
    /// exactly at no more cost than a rebuild.
    #[default]
    Nearest,
    /// Whole states only, read on from the nearest one however far (the method of Seahorse
    /// before schema 5; for benchmarks comparing the two).
    FullStates,
}

impl std::fmt::Debug for LoadedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedState")
            .field("doc", &self.doc)
            .field("position", &self.position)
            .field("page_index", &self.page_index)
            .field("is_final", &self.is_final)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// Decodes a stored state and checks it against its sha256.
pub(crate) fn load_raw(store: &Store, doc: DocId, id: i64) -> Result<Vec<u8>> {
    let (blob, codec, sha) = store.state_blob(id)?;
    let corrupt = |detail: String| Error::CorruptState { doc, state: id, detail };
    let raw = crate::codec::decode(&codec, &blob).map_err(corrupt)?;
    if hex::encode(Sha256::digest(&raw)) != sha {
        return Err(corrupt("checksum mismatch".into()));
    }
    Ok(raw)
}

impl Library {
    /// Tokens `range` (clamped to the document) of the stream the memory pass reads for
    /// `doc` with `model`, page markers included: what a full-attention baseline reads to
    /// see the same document (`0..u64::MAX`), or the stretch an "as of page N" memory
    /// still has to read. The stream is the pages tokenized one by one, so only the pages
    /// the range overlaps are tokenized.
    ///
    /// # Errors
    ///
    /// [`Error::NoDocument`], [`Error::Database`].
    pub fn document_tokens(
        &self,
        model: &seahorse_engine::Model,
        doc: DocId,
        range: std::ops::Range<u64>,
    ) -> Result<Vec<i32>> {
        let pages = self.store().pages(doc)?;
        if pages.is_empty() {
            self.store().document(doc)?;
        }
        // Pages whose token ranges are not known yet (an unread document) are all read.
        let first = pages.iter().position(|p| p.token_end.is_some_and(|e| e > range.start)).unwrap_or(0);
        let offset = pages.get(first).and_then(|p| p.token_start).unwrap_or(0);
        let count = pages[first..].iter().take_while(|p| p.token_start.is_none_or(|s| s < range.end)).count();
        let tokens = crate::ingest::tokens::tokenize(model, &pages[first..first + count]).tokens;
        let start = (range.start.saturating_sub(offset) as usize).min(tokens.len());
        let end = (range.end.saturating_sub(offset) as usize).clamp(start, tokens.len());
        Ok(tokens[start..end].to_vec())
    }

    /// The memory state of `doc` built with `fingerprint`: with `page_index` `Some(n)`, the
    /// newest checkpoint that has read no further than the end of page `n` (0-based); with
    /// `None`, the newest state (the final one once the document is read).
    ///
    /// # Errors
    ///
    /// [`Error::NoState`] if there is none (it counts the stale states, built with another
    /// model or settings, which are never returned), [`Error::CorruptState`],
    /// [`Error::NoDocument`], [`Error::Database`].
    pub fn load_state(&self, doc: DocId, fingerprint: &Fingerprint, page_index: Option<u32>) -> Result<LoadedState> {
        let store = self.store();
        store.document(doc)?;
        let key = fingerprint.key();
        let max_position = match page_index {
            None => u64::MAX,
            Some(n) => {
                let pages = store.pages(doc)?;
                let page = pages.get(n as usize).or(pages.last());
                page.and_then(|p| p.token_end).unwrap_or(0)
            }
        };
        let no_state =
            || -> Result<Error> { Ok(Error::NoState { doc, page_index, stale: store.stale_count(doc, &key)? }) };
        let Some(info) = store.state_at_or_before(doc, &key, max_position, Some(StateKind::Full))? else {
            return Err(no_state()?);
        };
        self.load_state_by_id(doc, &info)
    }

    /// Keeps of `doc`'s states, read by a pass in [`crate::CheckpointFormat::Every`] with
    /// `reader`'s fingerprint, exactly those a pass in `reader`'s format would have kept
    /// (its checkpoints replayed in order through that format's thinning): a benchmark
    /// reads a book once and compares formats on copies of the library.
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn keep_states_as(&self, doc: DocId, reader: &Reader<'_>) -> Result<()> {
        let memory = reader.options().checkpoint_format != crate::CheckpointFormat::FullStates;
        self.store().replay_retention(doc, reader.fingerprint_key(), reader.retention(), memory)
    }

    /// The memory of `doc` as of the end of page `page_index` (0-based; past the last page:
    /// the last), built with `reader`'s fingerprint. From a whole state at or before it
    /// when one is close enough (or with [`AsOfFrom::FullStates`]): restored, then the
    /// tokens up to the end of the page read into it ([`AsOfMethod::Exact`]). Otherwise
    /// rebuilt from the nearest checkpoint's AHN state ([`AsOfMethod::Rebuilt`]): the S
    /// sink tokens, then the last [`AS_OF_REREAD_TOKENS`] tokens before the end of the
    /// page (from W before the checkpoint when that is nearer, so nothing is lost); a page
    /// inside the first S + [`AS_OF_REREAD_TOKENS`] tokens is read from the start, exactly.
    /// `on_progress(done, total)` reports the tokens read; `cancel` stops between batches
    /// (the session then holds less than asked; [`AsOfPage::position`] says what).
    ///
    /// # Errors
    ///
    /// [`Error::NoState`] if the document was never read with this fingerprint (so its
    /// token map may not fit), [`Error::CorruptState`], [`Error::StaleState`],
    /// [`Error::Engine`], [`Error::NoDocument`], [`Error::Database`].
    pub fn restore_as_of_page<'m>(
        &self,
        reader: &Reader<'m>,
        doc: DocId,
        page_index: u32,
        from: AsOfFrom,
        cancel: &seahorse_engine::CancelToken,
        mut on_progress: impl FnMut(usize, usize),
    ) -> Result<AsOfPage<'m>> {
        let store = self.store();
        let key = reader.fingerprint_key();
        store.document(doc)?;
        // A state must exist with these settings: the token map the page ends come from is
        // this reading's.
        if store.state_at_or_before(doc, key, u64::MAX, Some(StateKind::Full))?.is_none() {
            return Err(Error::NoState { doc, page_index: Some(page_index), stale: store.stale_count(doc, key)? });
        }
        let pages = store.pages(doc)?;
        let end = pages.get(page_index as usize).or(pages.last()).and_then(|p| p.token_end).unwrap_or(0);
        let (window, sinks) = (u64::from(reader.fingerprint().window), u64::from(reader.fingerprint().sinks));
        let rebuild_cost = sinks + AS_OF_REREAD_TOKENS;
        let full = store.state_at_or_before(doc, key, end, Some(StateKind::Full))?;
        let nearest = match from {
            AsOfFrom::Nearest => store.state_at_or_before(doc, key, end, None)?,
            AsOfFrom::FullStates => full.clone(),
        };
        let brief = |s: &crate::store::StateInfo| StateInfoBrief { id: s.id, position: s.position, kind: s.kind };
        let exact_from = match (&full, from) {
            (Some(f), AsOfFrom::FullStates) => Some(f),
            (Some(f), AsOfFrom::Nearest) if end - f.position <= rebuild_cost => Some(f),
            _ => None,
        };
        if let Some(f) = exact_from {
            let state = self.load_state_by_id(doc, f)?;
            let mut session = reader.restore(&state)?;
            let read = self.read_into(reader, &mut session, doc, f.position..end, cancel, &mut on_progress)?;
            return Ok(AsOfPage {
                session,
                position: f.position + read,
                checkpoint: Some(brief(f)),
                method: AsOfMethod::Exact,
                tokens_read: read,
            });
        }
        if end <= rebuild_cost || from == AsOfFrom::FullStates {
            // Near the start, or whole states only and none before the page (a near or
            // any whole state was taken above): read everything, exactly as the pass did.
            let mut session = reader.new_session()?;
            let read = self.read_into(reader, &mut session, doc, 0..end, cancel, &mut on_progress)?;
            return Ok(AsOfPage {
                session,
                position: read,
                checkpoint: None,
                method: AsOfMethod::Exact,
                tokens_read: read,
            });
        }
        // Rebuild around the nearest checkpoint's AHN state (none: the empty state).
        let memory = match (&nearest, reader.model().has_ahn()) {
            (Some(c), true) => Some(self.ahn_state_of(reader, doc, c)?),
            _ => None,
        };
        let from_position = nearest.as_ref().map_or(0, |c| c.position);
        let start = from_position.saturating_sub(window).max(end.saturating_sub(AS_OF_REREAD_TOKENS)).max(sinks);
        let sink_tokens = self.document_tokens(reader.model(), doc, 0..sinks.min(end))?;
        let window_tokens = self.document_tokens(reader.model(), doc, start..end)?;
        let mut session = reader.new_session()?;
        session.rebuild_window(0, &sink_tokens, memory.as_deref(), start as usize, &window_tokens, cancel, |p| {
            on_progress(p.done, p.total)
        })?;
        let tokens_read = (sink_tokens.len() + window_tokens.len()) as u64;
        Ok(AsOfPage {
            position: session.position(0) as u64,
            session,
            checkpoint: nearest.as_ref().map(brief),
            method: AsOfMethod::Rebuilt,
            tokens_read,
        })
    }

    /// A stored full state by its listing.
    fn load_state_by_id(&self, doc: DocId, info: &crate::store::StateInfo) -> Result<LoadedState> {
        Ok(LoadedState {
            id: info.id,
            doc,
            position: info.position,
            page_index: info.page_index,
            is_final: info.is_final,
            fingerprint: info.fingerprint.clone(),
            kind: info.kind,
            bytes: load_raw(self.store(), doc, info.id)?,
        })
    }

    /// The AHN state of a stored checkpoint (a whole state's is taken out through a
    /// session).
    fn ahn_state_of(&self, reader: &Reader<'_>, doc: DocId, info: &crate::store::StateInfo) -> Result<Vec<u8>> {
        match info.kind {
            StateKind::Memory => load_raw(self.store(), doc, info.id),
            StateKind::Full => {
                let session = reader.restore(&self.load_state_by_id(doc, info)?)?;
                Ok(session.save_memory(0)?)
            }
        }
    }

    /// Reads tokens `range` of the document into `session`; returns how many were read.
    fn read_into(
        &self,
        reader: &Reader<'_>,
        session: &mut seahorse_engine::Session<'_>,
        doc: DocId,
        range: std::ops::Range<u64>,
        cancel: &seahorse_engine::CancelToken,
        on_progress: &mut impl FnMut(usize, usize),
    ) -> Result<u64> {
        if range.is_empty() {
            return Ok(0);
        }
        let tokens = self.document_tokens(reader.model(), doc, range)?;
        let before = session.position(0);
        session.evaluate(0, &tokens, seahorse_engine::Logits::None, cancel, |p| on_progress(p.done, p.total))?;
        Ok((session.position(0) - before) as u64)
    }
}

impl<'m> Reader<'m> {
    /// A fresh session holding a loaded state, ready to continue after its last token.
    ///
    /// # Errors
    ///
    /// [`Error::StaleState`] if the state was built with another fingerprint than this
    /// reader's (it is never restored), [`Error::Engine`] if llama.cpp refuses it.
    pub fn restore(&self, state: &LoadedState) -> Result<seahorse_engine::Session<'m>> {
        if state.fingerprint != self.fingerprint_key() {
            let found = Fingerprint::from_key(&state.fingerprint)
                .map(|f| f.describe())
                .unwrap_or_else(|| state.fingerprint.clone());
            return Err(Error::StaleState { doc: state.doc, expected: self.fingerprint().describe(), found });
        }
        self.session_from(&state.bytes)
    }
}
