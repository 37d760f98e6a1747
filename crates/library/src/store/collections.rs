//! Named collections of documents ("Austen", "work papers"), for asking a group of
//! documents at once. A document may be in several; removing it removes it from all.

use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::error::{Error, Result};
use crate::ids::{CollectionId, DocId};

/// A collection and the documents it holds.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CollectionInfo {
    /// Row id.
    pub id: CollectionId,
    /// Its name.
    pub name: String,
    /// How many documents are in it.
    pub documents: u64,
    /// Those documents, by id.
    pub members: Vec<DocId>,
}

const COLUMNS: &str = "c.id, c.name,
    (SELECT group_concat(d.doc_id) FROM collection_documents d WHERE d.collection_id = c.id)";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CollectionInfo> {
    let list: Option<String> = r.get(2)?;
    let mut members = list
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map(DocId)
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e)))
        })
        .collect::<rusqlite::Result<Vec<DocId>>>()?;
    members.sort();
    Ok(CollectionInfo { id: CollectionId(r.get(0)?), name: r.get(1)?, documents: members.len() as u64, members })
}

impl Store {
    /// Every collection, by name.
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn collections(&self) -> Result<Vec<CollectionInfo>> {
        let sql = format!("SELECT {COLUMNS} FROM collections c ORDER BY c.name");
        self.read("list collections", |tx| {
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map([], from_row)?;
            rows.collect()
        })
    }

    /// The collection named `name`.
    ///
    /// # Errors
    ///
    /// [`Error::NoCollection`], [`Error::Database`].
    pub fn collection(&self, name: &str) -> Result<CollectionInfo> {
        let sql = format!("SELECT {COLUMNS} FROM collections c WHERE c.name = ?1");
        self.read("read a collection", |tx| tx.query_row(&sql, [name], from_row).optional())?
            .ok_or_else(|| Error::NoCollection(name.to_owned()))
    }

    /// The name of collection `id` (`"collection ID"` if it is gone).
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn collection_name(&self, id: CollectionId) -> Result<String> {
        let name = self.read("read a collection", |tx| {
            tx.query_row("SELECT name FROM collections WHERE id = ?1", [id.0], |r| r.get(0)).optional()
        })?;
        Ok(name.unwrap_or_else(|| format!("collection {id}")))
    }

    /// Adds documents to the collection `name`, creating it if needed (one transaction).
    ///
    /// # Errors
    ///
    /// [`Error::NoDocument`] (then nothing changed), [`Error::Database`], [`Error::DiskFull`].
    pub fn add_to_collection(&self, name: &str, docs: &[DocId]) -> Result<CollectionId> {
        for &doc in docs {
            self.document(doc)?;
        }
        self.write("add to a collection", |tx| {
            tx.execute("INSERT INTO collections (name) VALUES (?1) ON CONFLICT (name) DO NOTHING", [name])?;
            let id: i64 = tx.query_row("SELECT id FROM collections WHERE name = ?1", [name], |r| r.get(0))?;
            for doc in docs {
                tx.execute(
                    "INSERT OR IGNORE INTO collection_documents (collection_id, doc_id)
                     VALUES (?1, ?2)",
                    params![id, doc.0],
                )?;
            }
            Ok(CollectionId(id))
        })
    }

    /// Takes documents out of a collection. Returns how many were in it.
    ///
    /// # Errors
    ///
    /// [`Error::NoCollection`], [`Error::Database`].
    pub fn remove_from_collection(&self, name: &str, docs: &[DocId]) -> Result<usize> {
        let id = self.collection(name)?.id;
        self.write("remove from a collection", |tx| {
            let mut n = 0;
            for doc in docs {
                n += tx.execute(
                    "DELETE FROM collection_documents WHERE collection_id = ?1 AND doc_id = ?2",
                    params![id.0, doc.0],
                )?;
            }
            Ok(n)
        })
    }

    /// Deletes a collection (its documents stay in the library; its chats go).
    ///
    /// # Errors
    ///
    /// [`Error::NoCollection`], [`Error::Database`].
    pub fn delete_collection(&self, name: &str) -> Result<()> {
        let id = self.collection(name)?.id;
        self.write("delete a collection", |tx| {
            tx.execute("DELETE FROM collections WHERE id = ?1", [id.0])?;
            Ok(())
        })
    }

    /// Renames a collection; refused when another collection has the new name.
    ///
    /// # Errors
    ///
    /// [`Error::NoCollection`], [`Error::CollectionExists`], [`Error::Database`].
    pub fn rename_collection(&self, from: &str, to: &str) -> Result<CollectionInfo> {
        let id = self.collection(from)?.id;
        let to = to.trim();
        if to.is_empty() {
            return Err(Error::CollectionExists(String::new()));
        }
        if from != to && self.collection(to).is_ok() {
            return Err(Error::CollectionExists(to.to_owned()));
        }
        self.write("rename a collection", |tx| {
            tx.execute("UPDATE collections SET name = ?1 WHERE id = ?2", params![to, id.0])?;
            Ok(())
        })?;
        self.collection(to)
    }

    /// The documents of a collection, by id.
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn collection_documents(&self, id: CollectionId) -> Result<Vec<DocId>> {
        self.read("read a collection", |tx| {
            let mut stmt =
                tx.prepare("SELECT doc_id FROM collection_documents WHERE collection_id = ?1 ORDER BY doc_id")?;
            let rows = stmt.query_map([id.0], |r| Ok(DocId(r.get(0)?)))?;
            rows.collect()
        })
    }
}
