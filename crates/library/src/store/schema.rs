//! Versioned migrations. `schema_version` holds one row; each migration runs in its own
//! transaction together with the version bump, so a crash leaves either version.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::error::{is_disk_full, Error, Result};

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 6;

/// Migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [V1, V2, V3, V4, V5, V6];

/// Version 1: documents, pages with the token → page map, the index generation, jobs and
/// memory states.
const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('generation', 0);

CREATE TABLE documents (
    id                 INTEGER PRIMARY KEY,
    sha256             TEXT NOT NULL UNIQUE,
    title              TEXT NOT NULL,
    format             TEXT NOT NULL,
    size_bytes         INTEGER NOT NULL,
    page_count         INTEGER NOT NULL,
    source_path        TEXT NOT NULL,
    added_ms           INTEGER NOT NULL,
    extraction_version INTEGER NOT NULL,
    warnings           TEXT NOT NULL DEFAULT '[]',
    token_count        INTEGER,
    generation         INTEGER NOT NULL
);

CREATE TABLE pages (
    doc_id      INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page_index  INTEGER NOT NULL,
    label       TEXT,
    locator     TEXT NOT NULL,
    text        TEXT NOT NULL,
    token_start INTEGER,
    token_end   INTEGER,
    PRIMARY KEY (doc_id, page_index)
) WITHOUT ROWID;
CREATE INDEX pages_by_token ON pages (doc_id, token_start);

CREATE TABLE index_tombstones (
    doc_id     INTEGER NOT NULL,
    generation INTEGER NOT NULL
);

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    source_path  TEXT NOT NULL,
    doc_id       INTEGER REFERENCES documents(id) ON DELETE SET NULL,
    state        TEXT NOT NULL CHECK (state IN
                   ('queued', 'extracting', 'indexing', 'reading', 'done', 'failed', 'cancelled')),
    error        TEXT,
    pages_done   INTEGER NOT NULL DEFAULT 0,
    pages_total  INTEGER NOT NULL DEFAULT 0,
    tokens_done  INTEGER NOT NULL DEFAULT 0,
    tokens_total INTEGER NOT NULL DEFAULT 0,
    queued_ms    INTEGER NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state, id);

CREATE TABLE states (
    id          INTEGER PRIMARY KEY,
    doc_id      INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    page_index  INTEGER NOT NULL,
    is_final    INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    stale       INTEGER NOT NULL DEFAULT 0,
    raw_bytes   INTEGER NOT NULL,
    raw_sha256  TEXT NOT NULL,
    codec       TEXT NOT NULL,
    blob        BLOB NOT NULL,
    UNIQUE (doc_id, fingerprint, position)
);
"#;

/// Version 2: chats and messages (filled by the asking side).
const V2: &str = r#"
CREATE TABLE chats (
    id         INTEGER PRIMARY KEY,
    doc_id     INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX chats_by_doc ON chats (doc_id);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content    TEXT NOT NULL,
    citations  TEXT NOT NULL DEFAULT '[]',
    created_ms INTEGER NOT NULL
);
CREATE INDEX messages_by_chat ON messages (chat_id, id);
"#;

/// Version 3: chats about the whole corpus (no document), "as of page N" chats, and what
/// each answer was built from (the memory state and the passages given to the model).
/// SQLite cannot relax a NOT NULL, so both tables are rebuilt, keeping their rows.
const V3: &str = r#"
CREATE TABLE chats_v3 (
    id         INTEGER PRIMARY KEY,
    scope      TEXT NOT NULL CHECK (scope IN ('document', 'corpus')),
    doc_id     INTEGER REFERENCES documents(id) ON DELETE CASCADE,
    as_of_page INTEGER,
    title      TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    CHECK ((scope = 'document') = (doc_id IS NOT NULL))
);
INSERT INTO chats_v3 (id, scope, doc_id, title, created_ms)
    SELECT id, 'document', doc_id, title, created_ms FROM chats;

CREATE TABLE messages_v3 (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL REFERENCES chats_v3(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content    TEXT NOT NULL,
    citations  TEXT NOT NULL DEFAULT '[]',
    sources    TEXT NOT NULL DEFAULT '{}',
    created_ms INTEGER NOT NULL
);
INSERT INTO messages_v3 (id, chat_id, role, content, citations, created_ms)
    SELECT id, chat_id, role, content, citations, created_ms FROM messages;

DROP TABLE messages;
DROP TABLE chats;
ALTER TABLE chats_v3 RENAME TO chats;
ALTER TABLE messages_v3 RENAME TO messages;
CREATE INDEX chats_by_doc ON chats (doc_id);
CREATE INDEX messages_by_chat ON messages (chat_id, id);
"#;

/// Version 4: named collections of documents, and corpus chats limited to one.
const V4: &str = r#"
CREATE TABLE collections (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE collection_documents (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    doc_id        INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    PRIMARY KEY (collection_id, doc_id)
) WITHOUT ROWID;
CREATE INDEX collection_documents_by_doc ON collection_documents (doc_id);
ALTER TABLE chats ADD COLUMN collection_id INTEGER REFERENCES collections(id) ON DELETE CASCADE;
"#;

/// Version 5: what a state holds (`kind`): `full` (window with sinks, gates and AHN state:
/// the final state, the resume point of a memory pass, and every state written before), or
/// `memory` (the AHN state alone, an "as of page N" checkpoint whose window is re-read on
/// restore). Both kinds may exist at one position, so the unique key gains the kind and the
/// table is rebuilt, keeping its rows as `full`.
const V5: &str = r#"
CREATE TABLE states_v5 (
    id          INTEGER PRIMARY KEY,
    doc_id      INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL DEFAULT 'full' CHECK (kind IN ('full', 'memory')),
    position    INTEGER NOT NULL,
    page_index  INTEGER NOT NULL,
    is_final    INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    stale       INTEGER NOT NULL DEFAULT 0,
    raw_bytes   INTEGER NOT NULL,
    raw_sha256  TEXT NOT NULL,
    codec       TEXT NOT NULL,
    blob        BLOB NOT NULL,
    UNIQUE (doc_id, fingerprint, position, kind)
);
INSERT INTO states_v5 (id, doc_id, kind, position, page_index, is_final, fingerprint, stale, raw_bytes, raw_sha256, codec, blob)
    SELECT id, doc_id, 'full', position, page_index, is_final, fingerprint, stale, raw_bytes, raw_sha256, codec, blob
    FROM states;
DROP TABLE states;
ALTER TABLE states_v5 RENAME TO states;
"#;

/// Version 6: a document's outline (the chapters and sections a PDF lists with their
/// pages), JSON `[{"level", "title", "page_index"}, …]`; NULL for documents stored before
/// (their passages name no section until they are added again).
const V6: &str = r#"
ALTER TABLE documents ADD COLUMN outline TEXT;
"#;

/// The schema version of `conn` (0 for a new, empty database).
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<u32> {
    let exists: Option<i64> = conn
        .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'", [], |r| r.get(0))
        .optional()?;
    if exists.is_none() {
        return Ok(0);
    }
    conn.query_row("SELECT version FROM schema_version", [], |r| r.get::<_, u32>(0))
}

/// Migrates `conn` to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    migrate_to(conn, path, SCHEMA_VERSION)
}

/// Migrates `conn` to `target` (tests stop at older versions).
pub(crate) fn migrate_to(conn: &Connection, path: &Path, target: u32) -> Result<()> {
    let err = |action: &'static str| {
        move |source: rusqlite::Error| {
            if is_disk_full(&source) {
                Error::DiskFull { path: path.to_owned(), action }
            } else {
                Error::Database { path: path.to_owned(), action, source }
            }
        }
    };
    loop {
        // Each step re-reads the version inside its write transaction, so two processes
        // opening a new library at once do not both migrate.
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(err("migrate"))?;
        let current = version(&tx).map_err(err("read the schema version"))?;
        if current > SCHEMA_VERSION {
            return Err(Error::SchemaTooNew { path: path.to_owned(), found: current, supported: SCHEMA_VERSION });
        }
        if current >= target {
            return Ok(());
        }
        tx.execute_batch(MIGRATIONS[current as usize]).map_err(err("migrate"))?;
        if current == 0 {
            tx.execute_batch(
                "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (0);",
            )
            .map_err(err("migrate"))?;
        }
        tx.execute("UPDATE schema_version SET version = ?1", [current + 1]).map_err(err("migrate"))?;
        tx.commit().map_err(err("migrate"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrades_from_version_1_keeping_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lib.sqlite3");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        migrate_to(&conn, &path, 1).unwrap();
        assert_eq!(version(&conn).unwrap(), 1);
        conn.execute(
            "INSERT INTO documents (sha256, title, format, size_bytes, page_count, source_path, added_ms, extraction_version, generation)
             VALUES ('abc', 'Old book', 'text', 10, 1, '/b.txt', 0, 1, 1)",
            [],
        )
        .unwrap();
        let no_chats: Option<i64> =
            conn.query_row("SELECT 1 FROM sqlite_master WHERE name = 'chats'", [], |r| r.get(0)).optional().unwrap();
        assert!(no_chats.is_none());
        drop(conn);

        let store = crate::store::Store::open(&path, &Default::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let docs = store.documents().unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].title, "Old book");
        store
            .conn
            .execute(
                "INSERT INTO chats (scope, doc_id, title, created_ms) VALUES ('document', ?1, 'q', 0)",
                [docs[0].id.0],
            )
            .unwrap();
        // Opening again is a no-op.
        drop(store);
        let store = crate::store::Store::open(&path, &Default::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn upgrades_chats_from_version_2_keeping_messages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lib.sqlite3");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        migrate_to(&conn, &path, 2).unwrap();
        conn.execute_batch(
            "INSERT INTO documents (sha256, title, format, size_bytes, page_count, source_path, added_ms, extraction_version, generation)
             VALUES ('abc', 'Old book', 'text', 10, 1, '/b.txt', 0, 1, 1);
             INSERT INTO chats (doc_id, title, created_ms) VALUES (1, 'old chat', 5);
             INSERT INTO messages (chat_id, role, content, citations, created_ms)
               VALUES (1, 'user', 'who?', '[]', 6), (1, 'assistant', 'Emma [p. 3]', '[3]', 7);",
        )
        .unwrap();
        drop(conn);

        let store = crate::store::Store::open(&path, &Default::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let chats = store.chats().unwrap();
        assert_eq!(chats.len(), 1);
        assert_eq!(chats[0].title, "old chat");
        assert_eq!(chats[0].doc(), Some(crate::ids::DocId(1)));
        let messages = store.messages(chats[0].id).unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[1].content, "Emma [p. 3]");
        assert_eq!(messages[1].citations, "[3]");
        assert_eq!(messages[1].sources, "{}");
        // A corpus chat has no document; a document chat must have one.
        store.conn.execute("INSERT INTO chats (scope, title, created_ms) VALUES ('corpus', 'all', 0)", []).unwrap();
        assert!(store
            .conn
            .execute("INSERT INTO chats (scope, title, created_ms) VALUES ('document', 'x', 0)", [],)
            .is_err());
        // Removing the document removes its chats and their messages.
        store.remove_document(crate::ids::DocId(1)).unwrap();
        assert_eq!(store.chats().unwrap().len(), 1);
    }

    #[test]
    fn upgrades_states_from_version_4_as_whole_states() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lib.sqlite3");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        migrate_to(&conn, &path, 4).unwrap();
        let blob = crate::codec::encode(b"window and memory").unwrap();
        conn.execute_batch(
            "INSERT INTO documents (sha256, title, format, size_bytes, page_count, source_path, added_ms, extraction_version, generation)
             VALUES ('abc', 'Old book', 'text', 10, 1, '/b.txt', 0, 1, 1);",
        )
        .unwrap();
        for (position, is_final) in [(512, false), (900, true)] {
            conn.execute(
                "INSERT INTO states (doc_id, position, page_index, is_final, fingerprint, raw_bytes, raw_sha256, codec, blob)
                 VALUES (1, ?1, 0, ?2, 'fp', 17, 'sha', 'zstd-shuffle2', ?3)",
                rusqlite::params![position, is_final, blob],
            )
            .unwrap();
        }
        drop(conn);

        let store = crate::store::Store::open(&path, &Default::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let states = store.states(crate::ids::DocId(1)).unwrap();
        assert_eq!(states.len(), 2);
        assert!(states.iter().all(|s| s.kind == crate::store::StateKind::Full));
        assert_eq!((states[0].position, states[1].is_final), (512, true));
        let (stored, codec, _) = store.state_blob(states[0].id).unwrap();
        assert_eq!(crate::codec::decode(&codec, &stored).unwrap(), b"window and memory");
        // Both kinds may now stand at one position, but not two of one kind.
        let insert = |kind: &str| {
            store.conn.execute(
                "INSERT INTO states (doc_id, kind, position, page_index, is_final, fingerprint, raw_bytes, raw_sha256, codec, blob)
                 VALUES (1, ?1, 512, 0, 0, 'fp', 1, 's', 'zstd-bf16', x'00')",
                [kind],
            )
        };
        insert("memory").unwrap();
        assert!(insert("memory").is_err());
        assert!(insert("window").is_err(), "an unknown kind");
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lib.sqlite3");
        drop(crate::store::Store::open(&path, &Default::default()).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE schema_version SET version = 99", []).unwrap();
        drop(conn);
        let err = crate::store::Store::open(&path, &Default::default()).unwrap_err();
        assert!(matches!(err, Error::SchemaTooNew { found: 99, .. }), "{err}");
    }
}
