//! The SQLite store: the library's source of truth (documents, pages, the token → page map,
//! jobs, memory states, chats). One file, WAL mode, foreign keys on, versioned migrations;
//! every multi-step write runs in one transaction.

mod chats;
mod collections;
mod documents;
mod jobs;
mod schema;
mod states;
mod usage;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{is_disk_full, Error, Result};

pub use chats::{ChatInfo, ChatScope, MessageInfo, MessageRole, NewMessage};
pub use collections::CollectionInfo;
pub use documents::{DocumentInfo, NewDocument, StoredPage};
pub use jobs::{JobInfo, JobState};
pub use schema::SCHEMA_VERSION;
pub use states::{StateInfo, StateKind};
pub use usage::DocumentStorage;

pub(crate) use states::{CheckpointProgress, NewState, Retention};

/// Settings of [`Store::open`].
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// Caps the database at this many SQLite pages (`PRAGMA max_page_count`); writes past
    /// it fail with [`Error::DiskFull`] as on a full disk. `None` leaves SQLite's default.
    pub max_page_count: Option<u64>,
}

/// The SQLite database of a library.
///
/// A `Store` is one connection: use it from one thread at a time (it is `Send`, not `Sync`).
/// Several processes may open the same file; SQLite serialises their writes.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it to
    /// [`SCHEMA_VERSION`].
    ///
    /// # Errors
    ///
    /// [`Error::Database`] if the file cannot be opened or migrated, [`Error::SchemaTooNew`]
    /// if a newer Seahorse wrote it.
    pub fn open(path: &Path, config: &StoreConfig) -> Result<Store> {
        let conn = Connection::open(path).map_err(|source| Error::Database {
            path: path.to_owned(),
            action: "open",
            source,
        })?;
        let store = Store { conn, path: path.to_owned() };
        store.configure(config)?;
        schema::migrate(&store.conn, &store.path)?;
        Ok(store)
    }

    fn configure(&self, config: &StoreConfig) -> Result<()> {
        let err = self.err("configure");
        // First: every later statement may meet another process's lock.
        self.conn.busy_timeout(Duration::from_secs(10)).map_err(&err)?;
        // Before any table exists (later it changes nothing): a new library gives the pages
        // of deleted memory states and documents back to the file system
        // (`release_free_pages`) instead of keeping them in the file. A library created
        // before keeps its free pages for SQLite to reuse.
        self.conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL").map_err(&err)?;
        // WAL: readers never block the writer, and a killed writer loses only its open
        // transaction. NORMAL sync is durable across process crashes (WAL is fsynced at
        // checkpoints), which is what a kill-and-resume needs.
        let mode: String = self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(&err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Database {
                path: self.path.clone(),
                action: "switch to WAL mode",
                source: rusqlite::Error::InvalidQuery,
            });
        }
        // The WAL file shrinks back after each checkpoint of it rather than keeping the size
        // of the largest write (a whole memory state is ~20 MB).
        self.conn
            .execute_batch(
                "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 4194304;",
            )
            .map_err(&err)?;
        if let Some(pages) = config.max_page_count {
            self.conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(())).map_err(&err)?;
        }
        Ok(())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database (always [`SCHEMA_VERSION`] after `open`).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] if it cannot be read.
    pub fn schema_version(&self) -> Result<u32> {
        schema::version(&self.conn).map_err(self.err("read the schema version"))
    }

    /// Bytes of the database file that hold nothing: pages freed by deletions and not given
    /// back to the file system (a library created before Seahorse released them keeps them
    /// for reuse).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] if it cannot be read.
    pub fn free_bytes(&self) -> Result<u64> {
        let pragma = |name: &str| self.conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0));
        let (free, size) = (pragma("freelist_count"), pragma("page_size"));
        free.and_then(|f| size.map(|s| (f * s) as u64)).map_err(self.err("count free pages"))
    }

    /// Gives free pages back to the file system after a deletion (incremental auto-vacuum;
    /// nothing in a library created without it). Best effort: the deletion is committed
    /// already, and pages not released now stay free for SQLite to reuse and for the next
    /// release.
    pub(crate) fn release_free_pages(&self) {
        // The pragma yields a row for each page it releases: step it to the end.
        let release = || -> rusqlite::Result<()> {
            let mut stmt = self.conn.prepare("PRAGMA incremental_vacuum")?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {}
            Ok(())
        };
        let _ = release();
    }

    /// A mapper from SQLite errors to [`Error`], naming what was being done.
    pub(crate) fn err(&self, action: &'static str) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |source| {
            if is_disk_full(&source) {
                Error::DiskFull { path: self.path.clone(), action }
            } else {
                Error::Database { path: self.path.clone(), action, source }
            }
        }
    }

    /// Runs `f` in one immediate (write-locking) transaction and commits it; on any error
    /// everything `f` wrote is rolled back.
    pub(crate) fn write<T>(
        &self,
        action: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        self.transaction(TransactionBehavior::Immediate, action, f)
    }

    /// Runs `f` in one read transaction (one consistent snapshot).
    pub(crate) fn read<T>(
        &self,
        action: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        self.transaction(TransactionBehavior::Deferred, action, f)
    }

    fn transaction<T>(
        &self,
        behavior: TransactionBehavior,
        action: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let err = self.err(action);
        let tx = Transaction::new_unchecked(&self.conn, behavior).map_err(&err)?;
        let out = f(&tx).map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(out)
    }

    /// The current index generation: it grows with every change of what the full-text index
    /// must contain (pages stored, a document removed).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] if it cannot be read.
    pub fn generation(&self) -> Result<u64> {
        self.read("read the index generation", |tx| generation(tx))
    }
}

pub(crate) fn generation(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT value FROM meta WHERE key = 'generation'", [], |r| r.get::<_, i64>(0)).map(|g| g as u64)
}

/// Increments the index generation and returns the new value.
pub(crate) fn bump_generation(tx: &Transaction<'_>) -> rusqlite::Result<u64> {
    tx.query_row("UPDATE meta SET value = value + 1 WHERE key = 'generation' RETURNING value", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|g| g as u64)
}
