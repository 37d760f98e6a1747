//! Reading stored memory states back: the final state, or "as of page N" (the nearest
//! checkpoint at or before the end of page N), only ever for the fingerprint that built it.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::ids::DocId;
use crate::ingest::Reader;
use crate::library::Library;
use crate::store::Store;

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
    /// The raw state bytes, as `Session::save` gave them.
    pub bytes: Vec<u8>,
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
        let Some(info) = store.state_at_or_before(doc, &key, max_position)? else {
            return Err(no_state()?);
        };
        let bytes = load_raw(store, doc, info.id)?;
        Ok(LoadedState {
            id: info.id,
            doc,
            position: info.position,
            page_index: info.page_index,
            is_final: info.is_final,
            fingerprint: info.fingerprint,
            bytes,
        })
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
