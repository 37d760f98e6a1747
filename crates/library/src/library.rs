//! `Library`: one directory holding the SQLite store (the source of truth) and the
//! full-text index derived from it, kept in step by generations.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use seahorse_docs::ExtractConfig;

use crate::error::{Error, Result};
use crate::ids::{DocId, JobId};
use crate::index::{dir_bytes, Hit, Passage, PassageFilter, Ranking, TextIndex};
use crate::scan::collect_files;
use crate::store::{DocumentInfo, DocumentStorage, Store, StoreConfig};

/// Settings of [`Library::open`].
#[derive(Debug, Clone, Default)]
pub struct LibraryConfig {
    /// SQLite settings.
    pub store: StoreConfig,
    /// Extraction limits.
    pub extract: ExtractConfig,
}

/// What bringing the index in step with the store did.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IndexSync {
    /// The index was unreadable and was created anew.
    pub recreated: bool,
    /// The generation the index reflected before.
    pub from_generation: u64,
    /// The generation it reflects now.
    pub to_generation: u64,
    /// Documents whose passages were (re)written.
    pub reindexed: usize,
    /// Documents whose passages were deleted.
    pub removed: usize,
}

/// A search hit with its document's title.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    /// The document's title.
    pub title: String,
    /// The passage hit.
    #[serde(flatten)]
    pub hit: Hit,
}

/// Sizes of the whole library on disk.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LibraryStorage {
    /// The SQLite file with its WAL, in bytes.
    pub database_bytes: u64,
    /// The index directory, in bytes.
    pub index_bytes: u64,
}

/// A library directory: `library.sqlite3` (store), `index/` (tantivy), `worker.lock`.
pub struct Library {
    store: Store,
    index: TextIndex,
    root: PathBuf,
    config: LibraryConfig,
    opened: IndexSync,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").field("root", &self.root).finish()
    }
}

/// Held while a process runs the queue; released on drop (and by the OS on a kill).
pub(crate) struct WorkerLock(#[allow(dead_code)] File);

impl Library {
    /// Opens (creating if needed) the library in `root`. If the index does not reflect the
    /// store's generation (a crash between the two, or a damaged index), the affected
    /// documents are re-indexed now; [`Library::opened_sync`] says what was done.
    ///
    /// # Errors
    ///
    /// [`Error::Io`], [`Error::Database`], [`Error::SchemaTooNew`], [`Error::Index`].
    pub fn open(root: &Path, config: &LibraryConfig) -> Result<Library> {
        std::fs::create_dir_all(root).map_err(|source| Error::Io {
            action: "create the library directory",
            path: root.to_owned(),
            source,
        })?;
        let store = Store::open(&root.join("library.sqlite3"), &config.store)?;
        let (index, recreated) = TextIndex::open(&root.join("index"))?;
        let mut library =
            Library { store, index, root: root.to_owned(), config: config.clone(), opened: IndexSync::default() };
        let mut sync = library.sync_index_inner(recreated)?;
        sync.recreated = recreated;
        library.opened = sync;
        Ok(library)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The library directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &LibraryConfig {
        &self.config
    }

    /// What [`Library::open`] did to bring the index in step (all zero when it was).
    pub fn opened_sync(&self) -> &IndexSync {
        &self.opened
    }

    /// Brings the index in step with the store: applies every change after the generation
    /// of the index's last commit (documents stored or removed), then commits with the
    /// store's generation. Idempotent.
    ///
    /// # Errors
    ///
    /// [`Error::Index`], [`Error::Database`].
    pub fn sync_index(&self) -> Result<IndexSync> {
        self.sync_index_inner(false)
    }

    /// Rebuilds the index from the store from scratch.
    ///
    /// # Errors
    ///
    /// [`Error::Index`], [`Error::Database`].
    pub fn rebuild_index(&self) -> Result<IndexSync> {
        self.sync_index_inner(true)
    }

    fn sync_index_inner(&self, everything: bool) -> Result<IndexSync> {
        if !everything {
            // Cheap check without the writer lock (read-only commands open libraries too).
            let applied = self.index.committed_generation()?;
            if applied == self.store.generation()? {
                return Ok(IndexSync { from_generation: applied, to_generation: applied, ..Default::default() });
            }
        }
        // The writer lock first: the committed generation read under it cannot move.
        let writer = self.index.writer()?;
        let applied = self.index.committed_generation()?;
        let (current, _, _) = self.store.index_changes(u64::MAX)?;
        // An index ahead of the store (the database was replaced) is rebuilt too.
        let full = everything || applied > current;
        if !full && applied == current {
            return Ok(IndexSync { from_generation: applied, to_generation: current, ..Default::default() });
        }
        let (current, changed, removed) = self.store.index_changes(if full { 0 } else { applied })?;
        if full {
            writer.delete_all_documents().map_err(|source| Error::Index {
                path: self.root.join("index"),
                action: "clear",
                source,
            })?;
        }
        for doc in removed.iter().chain(&changed) {
            self.index.delete(&writer, *doc);
        }
        let mut reindexed = 0;
        for doc in &changed {
            let pages = self.store.pages(*doc)?;
            self.index.add(&writer, *doc, &pages)?;
            reindexed += 1;
        }
        self.index.commit(writer, current)?;
        self.store.purge_tombstones(current)?;
        Ok(IndexSync {
            recreated: false,
            from_generation: applied,
            to_generation: current,
            reindexed,
            removed: removed.len(),
        })
    }

    /// Queues the files in `paths` (directories are walked recursively for supported
    /// extensions); `now_ms` is the caller's clock. Returns the jobs (an already queued file
    /// keeps its job).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] for a path that does not exist, [`Error::Database`].
    pub fn enqueue_paths(&self, paths: &[PathBuf], now_ms: i64) -> Result<Vec<JobId>> {
        let files = collect_files(paths)?;
        self.store.enqueue(&files, now_ms)
    }

    /// BM25 search over all passages; the `limit` best, each with a highlighted snippet.
    ///
    /// # Errors
    ///
    /// [`Error::Index`], [`Error::Database`].
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let hits = self.index.search(query, limit)?;
        let mut titles = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(hits.len());
        for hit in hits {
            let title = match titles.get(&hit.doc) {
                Some(t) => Clone::clone(t),
                None => {
                    // A hit on a document removed by another process since the last sync
                    // is skipped: SQLite is the source of truth.
                    let Ok(doc) = self.store.document(hit.doc) else {
                        continue;
                    };
                    titles.insert(hit.doc, doc.title.clone());
                    doc.title
                }
            };
            out.push(SearchHit { title, hit });
        }
        Ok(out)
    }

    /// The `limit` best passages for a question in plain words (not query syntax:
    /// punctuation and operators are ignored, every word counts), within `filter`, for
    /// placing in a prompt: each cut to its best fragment of about `max_chars` characters.
    /// Passages of documents removed since the last sync are skipped.
    ///
    /// # Errors
    ///
    /// [`Error::Index`], [`Error::Database`].
    pub fn passages(
        &self,
        question: &str,
        filter: &PassageFilter,
        limit: usize,
        max_chars: usize,
    ) -> Result<Vec<Passage>> {
        self.passages_ranked(question, Ranking::default(), filter, limit, max_chars)
    }

    /// [`Library::passages`] with another [`Ranking`] (to compare rankings).
    ///
    /// # Errors
    ///
    /// [`Error::Index`], [`Error::Database`].
    pub fn passages_ranked(
        &self,
        question: &str,
        ranking: Ranking,
        filter: &PassageFilter,
        limit: usize,
        max_chars: usize,
    ) -> Result<Vec<Passage>> {
        let words = plain_words(question);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = self.index.passages(&words, ranking, filter, limit, max_chars)?;
        let docs = self.store.documents()?;
        found.retain(|p| docs.iter().any(|d| d.id == p.doc));
        Ok(found)
    }

    /// Removes a document: its rows, memory states and jobs in one SQLite transaction, then
    /// its index entries (a crash in between is repaired at the next open).
    ///
    /// # Errors
    ///
    /// [`Error::NoDocument`], [`Error::Database`], [`Error::Index`].
    pub fn remove(&self, doc: DocId) -> Result<()> {
        if !self.store.remove_document(doc)? {
            return Err(Error::NoDocument(doc));
        }
        self.sync_index()?;
        Ok(())
    }

    /// The document a person means: an id, a sha256 prefix (6+ hex digits), or a unique
    /// case-insensitive part of a title or of the file's name.
    ///
    /// # Errors
    ///
    /// [`Error::NoMatch`], [`Error::Ambiguous`], [`Error::Database`].
    pub fn find_document(&self, query: &str) -> Result<DocumentInfo> {
        let docs = self.store.documents()?;
        let q = query.trim();
        if let Ok(id) = q.parse::<i64>() {
            if let Some(d) = docs.iter().find(|d| d.id.0 == id) {
                return Ok(d.clone());
            }
        }
        let lower = q.to_lowercase();
        let by_sha: Vec<_> = if q.len() >= 6 && q.chars().all(|c| c.is_ascii_hexdigit()) {
            docs.iter().filter(|d| d.sha256.starts_with(&lower)).collect()
        } else {
            Vec::new()
        };
        let matches = if by_sha.is_empty() {
            let file_name = |d: &DocumentInfo| {
                Path::new(&d.source_path).file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default()
            };
            let exact: Vec<_> =
                docs.iter().filter(|d| d.title.to_lowercase() == lower || file_name(d) == lower).collect();
            if exact.is_empty() {
                docs.iter()
                    .filter(|d| d.title.to_lowercase().contains(&lower) || file_name(d).contains(&lower))
                    .collect()
            } else {
                exact
            }
        } else {
            by_sha
        };
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::NoMatch(q.to_owned())),
            many => Err(Error::Ambiguous { query: q.to_owned(), count: many.len() }),
        }
    }

    /// One document's storage: SQLite text and states, plus its share of the index
    /// directory (shared out by text bytes).
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn document_storage(&self, doc: DocId) -> Result<DocumentStorage> {
        let mut storage = self.store.document_storage(doc)?;
        let total_text = self.store.total_text_bytes()?;
        if total_text > 0 {
            storage.index_bytes =
                (self.index.disk_bytes() as u128 * storage.text_bytes as u128 / total_text as u128) as u64;
        }
        Ok(storage)
    }

    /// Passages of `doc` in the full-text index.
    ///
    /// # Errors
    ///
    /// [`Error::Index`].
    pub fn passage_count(&self, doc: DocId) -> Result<u64> {
        self.index.passage_count(doc)
    }

    /// Sizes of the library on disk.
    pub fn storage(&self) -> LibraryStorage {
        let db = self.store.path();
        let len = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let wal = PathBuf::from(format!("{}-wal", db.display()));
        LibraryStorage {
            database_bytes: len(db.to_owned()) + len(wal),
            index_bytes: dir_bytes(&self.root.join("index")),
        }
    }

    /// Takes the worker lock (one queue runner per library).
    pub(crate) fn lock_worker(&self) -> Result<WorkerLock> {
        let path = self.root.join("worker.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| Error::Io { action: "open", path: path.clone(), source })?;
        match file.try_lock() {
            Ok(()) => Ok(WorkerLock(file)),
            Err(TryLockError::WouldBlock) => Err(Error::WorkerBusy { path: self.root.clone() }),
            Err(TryLockError::Error(source)) => Err(Error::Io { action: "lock", path, source }),
        }
    }
}

/// The words of `text` (letters and digits), lower-cased and space-separated: a query that
/// tantivy's parser reads as "any of these words", whatever punctuation the text had.
pub(crate) fn plain_words(text: &str) -> String {
    crate::question::words(text).join(" ")
}
