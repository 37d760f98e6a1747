//! Chats: multi-turn conversations about one document (optionally "as of page N") or the
//! whole library, stored in SQLite as they happen (a question and its answer together), so
//! a chat resumes after a restart and exports as Markdown with its citations.
//!
//! Every turn restores the memory afresh and finds passages for the new question; the
//! earlier turns come along as text (the latest that fit a quarter of the window).

use serde::{Deserialize, Serialize};

use seahorse_library::{ChatId, ChatInfo, ChatScope, MessageRole, NewMessage, Store};

use crate::citations::Citation;
use crate::corpus::{CorpusAnswer, CorpusEvent, CorpusOptions, DocumentAnswer};
use crate::document::{Answer, AskEvent, AskOptions};
use crate::error::{Error, Result};
use crate::Asker;

/// Progress of a chat turn.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent<'a> {
    /// A document chat's turn.
    Document(AskEvent<'a>),
    /// A corpus chat's turn.
    Corpus(CorpusEvent<'a>),
}

/// The answer of a chat turn.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum ChatAnswer {
    /// From one document.
    Document(Box<Answer>),
    /// From the library.
    Corpus(CorpusAnswer),
}

impl ChatAnswer {
    /// The text shown.
    pub fn text(&self) -> &str {
        match self {
            ChatAnswer::Document(a) => &a.text,
            ChatAnswer::Corpus(a) => &a.text,
        }
    }

    /// The validated citations.
    pub fn citations(&self) -> &[Citation] {
        match self {
            ChatAnswer::Document(a) => &a.citations,
            ChatAnswer::Corpus(a) => &a.citations,
        }
    }
}

/// What a corpus answer was built from, as stored with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CorpusSources {
    documents: Vec<DocumentAnswer>,
}

/// A title for a chat: its first question, shortened at a word.
pub fn chat_title(question: &str) -> String {
    let q = question.trim();
    if q.chars().count() <= 60 {
        return q.to_owned();
    }
    let cut: String = q.chars().take(60).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
    format!("{cut}…")
}

/// The (question, answer) turns of a chat, oldest first.
///
/// # Errors
///
/// [`Error::Library`].
pub fn history(store: &Store, chat: ChatId) -> Result<Vec<(String, String)>> {
    let messages = store.messages(chat)?;
    let mut turns = Vec::new();
    let mut question: Option<String> = None;
    for m in messages {
        match m.role {
            MessageRole::User => question = Some(m.content),
            MessageRole::Assistant => {
                if let Some(q) = question.take() {
                    turns.push((q, m.content));
                }
            }
        }
    }
    Ok(turns)
}

impl Asker<'_> {
    /// Asks the next question of a chat and stores the question with its answer (in one
    /// transaction, once the answer is complete; a cancelled answer is stored as far as
    /// it got). `document` and `corpus` set how answers are made; a chat "as of page N"
    /// always uses its page.
    ///
    /// # Errors
    ///
    /// As [`Asker::ask_document`] and [`Asker::ask_corpus`], plus [`Error::Library`] when
    /// storing fails.
    pub fn ask_in_chat(
        &self,
        chat: ChatId,
        question: &str,
        document: &AskOptions,
        corpus: &CorpusOptions,
        now_ms: i64,
        mut on_event: impl FnMut(ChatEvent<'_>),
    ) -> Result<ChatAnswer> {
        let store = self.library.store();
        let info: ChatInfo = store.chat(chat)?;
        let turns = history(store, chat)?;
        let (answer, sources) = match info.scope {
            ChatScope::Document { doc, as_of_page } => {
                let mut options = document.clone();
                options.as_of_page = as_of_page.or(options.as_of_page);
                let answer =
                    self.ask_document(doc, question, &turns, &options, |e| on_event(ChatEvent::Document(e)))?;
                let sources = serde_json::to_string(&answer.sources).unwrap_or_default();
                (ChatAnswer::Document(Box::new(answer)), sources)
            }
            ChatScope::Corpus { collection } => {
                let mut corpus = corpus.clone();
                corpus.collection = collection.or(corpus.collection);
                let answer = self.ask_corpus(question, &turns, &corpus, |e| on_event(ChatEvent::Corpus(e)))?;
                let sources =
                    serde_json::to_string(&CorpusSources { documents: answer.documents.clone() }).unwrap_or_default();
                (ChatAnswer::Corpus(answer), sources)
            }
        };
        let citations = serde_json::to_string(answer.citations()).unwrap_or_default();
        store.add_messages(
            chat,
            &[
                NewMessage { role: MessageRole::User, content: question, citations: "[]", sources: "{}" },
                NewMessage {
                    role: MessageRole::Assistant,
                    content: answer.text(),
                    citations: &citations,
                    sources: &sources,
                },
            ],
            now_ms,
        )?;
        Ok(answer)
    }
}

/// A chat as Markdown: the questions and answers, each answer followed by its citations with
/// the pages' locators.
///
/// # Errors
///
/// [`Error::Library`], [`Error::DamagedMessage`].
pub fn export_markdown(store: &Store, chat: ChatId) -> Result<String> {
    let info = store.chat(chat)?;
    let mut out = format!("# {}\n\n", info.title);
    let about = match info.scope {
        ChatScope::Document { doc, as_of_page } => {
            let d = store.document(doc)?;
            match as_of_page {
                Some(p) => format!("About *{}*, as of page index {p}.", d.title),
                None => format!("About *{}*.", d.title),
            }
        }
        ChatScope::Corpus { collection: None } => "About the whole library.".to_owned(),
        ChatScope::Corpus { collection: Some(id) } => format!("About the collection *{}*.", store.collection_name(id)?),
    };
    out.push_str(&about);
    out.push_str("\n\n");
    for m in store.messages(chat)? {
        match m.role {
            MessageRole::User => {
                out.push_str(&format!("**Question:** {}\n\n", m.content.trim()));
            }
            MessageRole::Assistant => {
                out.push_str(&format!("**Answer:** {}\n\n", m.content.trim()));
                let citations: Vec<Citation> = serde_json::from_str(&m.citations)
                    .map_err(|e| Error::DamagedMessage { chat: chat.0, message: m.id, detail: e.to_string() })?;
                for c in &citations {
                    for p in &c.pages {
                        let title = store
                            .document(seahorse_library::DocId(p.doc))
                            .map(|d| d.title)
                            .unwrap_or_else(|_| format!("document {}", p.doc));
                        out.push_str(&format!(
                            "- {}: *{}*, page {} (locator `{}`)\n",
                            c.text, title, p.label, p.locator
                        ));
                    }
                }
                if !citations.is_empty() {
                    out.push('\n');
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_short() {
        assert_eq!(chat_title("  Who is Emma?  "), "Who is Emma?");
        let long = "word ".repeat(30);
        let t = chat_title(&long);
        assert!(t.ends_with('…') && t.chars().count() <= 61, "{t}");
    }
}
