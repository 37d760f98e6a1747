//! Chats and their messages: conversations about one document (optionally "as of page N")
//! or about the whole corpus, kept so that they survive restarts and can be exported.
//!
//! The store keeps citations and sources as JSON text written by the asking side; it does
//! not interpret them.

use rusqlite::{params, OptionalExtension, Row};

use super::Store;
use crate::error::{Error, Result};
use crate::ids::{ChatId, CollectionId, DocId};

/// What a chat is about.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum ChatScope {
    /// One document; with `as_of_page`, only what comes up to that 0-based page.
    Document {
        /// The document.
        doc: DocId,
        /// The last page the reader has reached (0-based), if any.
        as_of_page: Option<u32>,
    },
    /// Every document in the library, or in one collection.
    Corpus {
        /// The collection, if the chat is limited to one.
        collection: Option<CollectionId>,
    },
}

/// A stored chat.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChatInfo {
    /// Row id.
    pub id: ChatId,
    /// What it is about.
    #[serde(flatten)]
    pub scope: ChatScope,
    /// Its title (the first question, shortened).
    pub title: String,
    /// When it was started (milliseconds since the Unix epoch).
    pub created_ms: i64,
    /// Messages in it.
    pub message_count: u64,
}

impl ChatInfo {
    /// The document, for a document chat.
    pub fn doc(&self) -> Option<DocId> {
        match self.scope {
            ChatScope::Document { doc, .. } => Some(doc),
            ChatScope::Corpus { .. } => None,
        }
    }
}

/// Who wrote a message.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageRole {
    /// The person.
    User,
    /// The model.
    Assistant,
}

impl MessageRole {
    fn as_str(self) -> &'static str {
        match self {
            MessageRole::User => "user",
            MessageRole::Assistant => "assistant",
        }
    }
}

/// A stored message.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MessageInfo {
    /// Row id.
    pub id: i64,
    /// The chat.
    pub chat: ChatId,
    /// Who wrote it.
    pub role: MessageRole,
    /// The text (for answers: as shown, with only validated citations).
    pub content: String,
    /// The validated citations (JSON written by the asking side).
    pub citations: String,
    /// What the answer was built from: memory state and passages (JSON).
    pub sources: String,
    /// When it was written (milliseconds since the Unix epoch).
    pub created_ms: i64,
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Who wrote it.
    pub role: MessageRole,
    /// The text.
    pub content: &'a str,
    /// Citations as JSON (`"[]"` for none).
    pub citations: &'a str,
    /// Sources as JSON (`"{}"` for none).
    pub sources: &'a str,
}

const CHAT_COLUMNS: &str = "c.id, c.scope, c.doc_id, c.as_of_page, c.title, c.created_ms,
    (SELECT count(*) FROM messages m WHERE m.chat_id = c.id), c.collection_id";

fn chat_from_row(r: &Row<'_>) -> rusqlite::Result<ChatInfo> {
    let scope: String = r.get(1)?;
    let doc: Option<i64> = r.get(2)?;
    let scope = match (scope.as_str(), doc) {
        ("document", Some(doc)) => {
            ChatScope::Document { doc: DocId(doc), as_of_page: r.get::<_, Option<i64>>(3)?.map(|p| p as u32) }
        }
        _ => ChatScope::Corpus { collection: r.get::<_, Option<i64>>(7)?.map(CollectionId) },
    };
    Ok(ChatInfo {
        id: ChatId(r.get(0)?),
        scope,
        title: r.get(4)?,
        created_ms: r.get(5)?,
        message_count: r.get::<_, i64>(6)? as u64,
    })
}

fn message_from_row(r: &Row<'_>) -> rusqlite::Result<MessageInfo> {
    let role: String = r.get(2)?;
    Ok(MessageInfo {
        id: r.get(0)?,
        chat: ChatId(r.get(1)?),
        role: if role == "user" { MessageRole::User } else { MessageRole::Assistant },
        content: r.get(3)?,
        citations: r.get(4)?,
        sources: r.get(5)?,
        created_ms: r.get(6)?,
    })
}

impl Store {
    /// Starts a chat.
    ///
    /// # Errors
    ///
    /// [`Error::NoDocument`] for a document chat whose document is gone, [`Error::Database`],
    /// [`Error::DiskFull`].
    pub fn create_chat(&self, scope: ChatScope, title: &str, now_ms: i64) -> Result<ChatId> {
        if let ChatScope::Document { doc, .. } = scope {
            self.document(doc)?;
        }
        let (kind, doc, as_of, collection) = match scope {
            ChatScope::Document { doc, as_of_page } => ("document", Some(doc.0), as_of_page.map(i64::from), None),
            ChatScope::Corpus { collection } => ("corpus", None, None, collection.map(|c| c.0)),
        };
        self.write("start a chat", |tx| {
            tx.execute(
                "INSERT INTO chats (scope, doc_id, as_of_page, title, created_ms, collection_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![kind, doc, as_of, title, now_ms, collection],
            )?;
            Ok(ChatId(tx.last_insert_rowid()))
        })
    }

    /// Every chat, newest first.
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn chats(&self) -> Result<Vec<ChatInfo>> {
        let sql = format!("SELECT {CHAT_COLUMNS} FROM chats c ORDER BY c.id DESC");
        self.read("list chats", |tx| {
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map([], chat_from_row)?;
            rows.collect()
        })
    }

    /// One chat.
    ///
    /// # Errors
    ///
    /// [`Error::NoChat`], [`Error::Database`].
    pub fn chat(&self, id: ChatId) -> Result<ChatInfo> {
        let sql = format!("SELECT {CHAT_COLUMNS} FROM chats c WHERE c.id = ?1");
        self.read("read a chat", |tx| tx.query_row(&sql, [id.0], chat_from_row).optional())?.ok_or(Error::NoChat(id))
    }

    /// The messages of a chat, oldest first.
    ///
    /// # Errors
    ///
    /// [`Error::NoChat`], [`Error::Database`].
    pub fn messages(&self, chat: ChatId) -> Result<Vec<MessageInfo>> {
        self.chat(chat)?;
        self.read("read messages", |tx| {
            let mut stmt = tx.prepare(
                "SELECT id, chat_id, role, content, citations, sources, created_ms
                 FROM messages WHERE chat_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([chat.0], message_from_row)?;
            rows.collect()
        })
    }

    /// Appends messages to a chat in one transaction (a question and its answer are stored
    /// together or not at all). Returns their ids.
    ///
    /// # Errors
    ///
    /// [`Error::NoChat`], [`Error::Database`], [`Error::DiskFull`].
    pub fn add_messages(&self, chat: ChatId, messages: &[NewMessage<'_>], now_ms: i64) -> Result<Vec<i64>> {
        self.chat(chat)?;
        self.write("store messages", |tx| {
            let mut ids = Vec::with_capacity(messages.len());
            for m in messages {
                tx.execute(
                    "INSERT INTO messages (chat_id, role, content, citations, sources, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![chat.0, m.role.as_str(), m.content, m.citations, m.sources, now_ms],
                )?;
                ids.push(tx.last_insert_rowid());
            }
            Ok(ids)
        })
    }

    /// Deletes a chat with its messages. Returns whether it existed.
    ///
    /// # Errors
    ///
    /// [`Error::Database`].
    pub fn remove_chat(&self, chat: ChatId) -> Result<bool> {
        self.write("remove a chat", |tx| Ok(tx.execute("DELETE FROM chats WHERE id = ?1", [chat.0])? > 0))
    }
}
