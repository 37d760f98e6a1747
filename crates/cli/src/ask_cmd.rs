//! `seahorse ask`, `seahorse chat`, `seahorse chats` and `seahorse collection`: questions
//! about a document, a collection, the whole library or the model alone, streamed to
//! stdout with validated page citations; every answer about documents is kept in a chat.

use std::io::{BufRead, Write};

use anyhow::{bail, Context, Result};
use clap::Args;
use seahorse_api::{AnswerEvent, Answered, CancelToken, ChatAnswer, ChatId, Question, Reply, Scope, Seahorse};

use crate::reading_args::ReadingArgs;

/// How answers are made (shared by `ask` and `chat`). Left out, each takes the API's
/// default.
#[derive(Args, Debug, Clone)]
pub struct AnswerArgs {
    /// Ask every document in the library (the best-matching ones are consulted).
    #[arg(long)]
    pub all: bool,
    /// Ask the documents of this collection (see `seahorse collection`).
    #[arg(long, conflicts_with = "all")]
    pub collection: Option<String>,
    /// Answer from the memory alone: no passages placed in the window.
    #[arg(long)]
    pub no_passages: bool,
    /// Answer from passages alone: do not restore the document's memory.
    #[arg(long, conflicts_with = "no_passages")]
    pub no_memory: bool,
    /// Most passages placed in the window (default 6).
    #[arg(long)]
    pub passages: Option<usize>,
    /// Most tokens of passages (default: half the window).
    #[arg(long)]
    pub passage_tokens: Option<usize>,
    /// Answer as of this page (its printed label, else its number): the memory and the
    /// passages stop there (no spoilers).
    #[arg(long, conflicts_with_all = ["all", "collection"])]
    pub as_of_page: Option<String>,
    /// Documents consulted at most by `--all` and `--collection` (default 3).
    #[arg(long)]
    pub max_documents: Option<usize>,
    /// Longest answer in tokens (default 320).
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// Model, block and reading settings for this question only (not saved).
    #[command(flatten)]
    pub reading: ReadingArgs,
}

impl AnswerArgs {
    /// The question `text` about `scope`, with these settings.
    fn question(&self, seahorse: &Seahorse, text: &str, scope: Scope, cancel: &CancelToken) -> Result<Question> {
        let mut q = Question::new(text, scope);
        q.memory = !self.no_memory;
        q.passages = !self.no_passages;
        q.max_passages = self.passages.unwrap_or(q.max_passages);
        q.passage_tokens = self.passage_tokens.or(q.passage_tokens);
        q.as_of_page = self.as_of_page.clone();
        q.max_documents = self.max_documents.unwrap_or(q.max_documents);
        q.max_tokens = self.max_tokens.unwrap_or(q.max_tokens);
        q.with = self.reading.for_question(seahorse)?;
        q.cancel = cancel.clone();
        Ok(q)
    }

    /// What the question is about: `doc`, or `--collection`, `--all`, or the model alone.
    fn scope(&self, seahorse: &Seahorse, doc: Option<&str>) -> Result<Scope> {
        Ok(match (doc, &self.collection, self.all) {
            (Some(_), Some(_), _) | (Some(_), _, true) => bail!("name a document or --all/--collection, not both"),
            (Some(query), None, false) => Scope::Document(seahorse.find_document(query)?.id),
            (None, Some(name), _) => Scope::Collection(name.clone()),
            (None, None, true) => Scope::Library,
            (None, None, false) => Scope::Model,
        })
    }
}

/// A Ctrl-C handler that cancels the current answer (a second Ctrl-C quits).
fn cancel_on_ctrl_c() -> Result<CancelToken> {
    let cancel = CancelToken::new();
    let token = cancel.clone();
    ctrlc::set_handler(move || {
        if token.is_cancelled() {
            std::process::exit(130);
        }
        token.cancel();
    })
    .context("installing the Ctrl-C handler")?;
    Ok(cancel)
}

/// Asks one question, printing the answer as it streams (text on stdout, progress on
/// stderr).
fn answer_turn(seahorse: &Seahorse, question: &Question, json: bool) -> Result<Answered> {
    let mut stdout = std::io::stdout().lock();
    let mut text_started = false;
    let answered = seahorse.ask(question, |event| {
        if json {
            return;
        }
        match event {
            AnswerEvent::Fetch { progress } => crate::models_cmd::progress(false)(progress),
            AnswerEvent::UsingMemoryOf { choice } => {
                eprintln!("answering with {}, which built this document's memory", choice.describe())
            }
            AnswerEvent::Restored { position, page_index, is_final } => eprintln!(
                "memory: {position} tokens, up to page {}{}",
                u64::from(page_index) + 1,
                if is_final { "" } else { " (a checkpoint)" }
            ),
            AnswerEvent::Passages { passages } if !passages.is_empty() => {
                let pages: Vec<&str> = passages.iter().map(|p| p.page_label.as_str()).collect();
                let tokens: usize = passages.iter().map(|p| p.tokens).sum();
                eprintln!("passages: {} ({tokens} tokens) from pages {}", passages.len(), pages.join(", "));
            }
            AnswerEvent::Ranked { documents } => {
                for d in documents {
                    eprintln!("  [{}] {} (score {:.1})", d.number, d.title, d.score);
                }
            }
            AnswerEvent::Consulting { document } => eprintln!("consulting [{}] {}…", document.number, document.title),
            AnswerEvent::Skipped { document, reason } => eprintln!("skipped {}: {reason}", document.title),
            AnswerEvent::Text { text } => {
                text_started = true;
                let _ = stdout.write_all(text.as_bytes());
                let _ = stdout.flush();
            }
            _ => {}
        }
    })?;
    drop(stdout);
    if json {
        let answer = match &answered.answer {
            Reply::Library(a) => serde_json::to_value(a)?,
            Reply::Model { text, stop } => serde_json::json!({ "scope": "model", "text": text, "stop": stop }),
        };
        out!("{}", serde_json::json!({ "chat": answered.chat, "question": question.text, "answer": answer }));
        return Ok(answered);
    }
    if text_started {
        out!();
    }
    if let Reply::Library(answer) = &answered.answer {
        // The streamed words were the model's; what Seahorse shows instead follows them.
        if let ChatAnswer::Document(a) = answer.as_ref() {
            if a.withheld.is_some() {
                eprintln!("(the answer above names nothing the passages support; Seahorse shows instead:)");
                out!("{}", a.text);
            } else if a.relocated.is_some() {
                eprintln!("(the answer above names no section of the passages; by the document's outline:)");
                out!("{}", a.text);
            }
        }
        print_sources(seahorse, answer)?;
    }
    Ok(answered)
}

/// The citations with their pages, and where the time went (stderr).
fn print_sources(seahorse: &Seahorse, answer: &ChatAnswer) -> Result<()> {
    for c in answer.citations() {
        for p in &c.pages {
            let title = seahorse.document(seahorse_api::DocId(p.doc)).map(|d| d.document.title).unwrap_or_default();
            eprintln!("  {} → {title}, page {}", c.text, p.label);
        }
    }
    match answer {
        ChatAnswer::Document(a) => {
            let t = &a.timings;
            eprintln!(
                "({} prompt tokens; first token after {:.2} s (memory restored in {:.2} s); {} tokens in {:.1} s{})",
                t.prompt_tokens,
                t.first_token_ms / 1e3,
                t.restore_ms / 1e3,
                t.generated_tokens,
                t.total_ms / 1e3,
                dropped_note(a.dropped.len(), a.unsupported.len()),
            );
        }
        ChatAnswer::Corpus(a) => eprintln!(
            "({} document(s) consulted; first token of the combined answer after {:.1} s; {:.1} s in all{})",
            a.documents.len(),
            a.first_token_ms / 1e3,
            a.total_ms / 1e3,
            dropped_note(a.dropped.len(), a.unsupported.len()),
        ),
    }
    Ok(())
}

fn dropped_note(invented: usize, unsupported: usize) -> String {
    let mut note = String::new();
    if invented > 0 {
        note.push_str(&format!("; {invented} citation(s) of pages the model was not given removed"));
    }
    if unsupported > 0 {
        note.push_str(&format!("; {unsupported} citation(s) of pages that do not support their sentence removed"));
    }
    note
}

/// `seahorse ask [DOC] QUESTION`: one question, stored as a new chat (or the next turn of
/// `--chat N`).
pub fn ask(
    seahorse: &Seahorse,
    doc: Option<&str>,
    text: &str,
    chat: Option<i64>,
    args: &AnswerArgs,
    json: bool,
) -> Result<()> {
    let cancel = cancel_on_ctrl_c()?;
    let scope = if chat.is_some() { Scope::Library } else { args.scope(seahorse, doc)? };
    let mut question = args.question(seahorse, text, scope, &cancel)?;
    question.chat = chat.map(ChatId);
    let answered = answer_turn(seahorse, &question, json)?;
    if let (Some(chat), false) = (answered.chat, json) {
        eprintln!("(stored as chat {chat}: `seahorse chat --resume {chat}` continues it)");
    }
    Ok(())
}

/// `seahorse chat [DOC]`: questions from stdin, one per line, until an empty line or EOF.
pub fn chat(seahorse: &Seahorse, doc: Option<&str>, resume: Option<i64>, args: &AnswerArgs, json: bool) -> Result<()> {
    let cancel = cancel_on_ctrl_c()?;
    let scope = if resume.is_some() { Scope::Library } else { args.scope(seahorse, doc)? };
    if scope == Scope::Model {
        bail!("name a document (see `seahorse list`), --collection NAME or --all");
    }
    let mut chat = resume.map(ChatId);
    if let Some(id) = chat {
        let info = seahorse.chat(id)?;
        if !json {
            eprintln!("resuming chat {id}: {} ({} messages)", info.title, info.message_count);
        }
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if !json {
            eprint!("> ");
        }
        let Some(line) = lines.next() else { break };
        let text = line?;
        if text.trim().is_empty() {
            break;
        }
        let mut question = args.question(seahorse, &text, scope.clone(), &cancel)?;
        question.chat = chat;
        let answered = answer_turn(seahorse, &question, json)?;
        chat = chat.or(answered.chat);
        if cancel.is_cancelled() {
            break;
        }
    }
    if let (Some(id), false) = (chat, json) {
        eprintln!("chat {id} saved: `seahorse chats export {id}` writes it as Markdown");
    }
    Ok(())
}

/// `seahorse chats`: list.
pub fn list_chats(seahorse: &Seahorse, json: bool) -> Result<()> {
    let chats = seahorse.chats()?;
    if json {
        out!("{}", serde_json::to_string(&chats)?);
        return Ok(());
    }
    for c in chats {
        let about = seahorse.describe_scope(&c.scope)?;
        out!("{:>4}  {}  [{}; {} messages]", c.id, c.title, about, c.message_count);
    }
    Ok(())
}

/// `seahorse chats export N`: Markdown on stdout.
pub fn export_chat(seahorse: &Seahorse, id: i64, json: bool) -> Result<()> {
    let markdown = seahorse.export_chat(ChatId(id))?;
    if json {
        out!("{}", serde_json::json!({ "chat": id, "markdown": markdown }));
    } else {
        std::io::stdout().lock().write_all(markdown.as_bytes())?;
    }
    Ok(())
}

/// `seahorse chats remove N`.
pub fn remove_chat(seahorse: &Seahorse, id: i64, json: bool) -> Result<()> {
    seahorse.remove_chat(ChatId(id))?;
    if json {
        out!("{}", serde_json::json!({ "removed": id }));
    } else {
        eprintln!("removed chat {id}");
    }
    Ok(())
}

/// `seahorse collection`: list (default).
pub fn list_collections(seahorse: &Seahorse, json: bool) -> Result<()> {
    let collections = seahorse.collections()?;
    if json {
        out!("{}", serde_json::to_string(&collections)?);
        return Ok(());
    }
    for c in collections {
        out!("{}  ({} documents)", c.name, c.documents);
    }
    Ok(())
}

/// `seahorse collection add|remove NAME DOC…`.
pub fn change_collection(seahorse: &Seahorse, name: &str, docs: &[String], add: bool, json: bool) -> Result<()> {
    let ids = docs.iter().map(|d| Ok(seahorse.find_document(d)?.id)).collect::<Result<Vec<_>>>()?;
    let info =
        if add { seahorse.add_to_collection(name, &ids)? } else { seahorse.remove_from_collection(name, &ids)? };
    if json {
        out!("{}", serde_json::to_string(&info)?);
    } else {
        eprintln!("{}: {} documents", info.name, info.documents);
    }
    Ok(())
}

/// `seahorse collection delete NAME`.
pub fn delete_collection(seahorse: &Seahorse, name: &str, json: bool) -> Result<()> {
    seahorse.delete_collection(name)?;
    if json {
        out!("{}", serde_json::json!({ "deleted": name }));
    } else {
        eprintln!("deleted collection {name} (its documents stay in the library)");
    }
    Ok(())
}
