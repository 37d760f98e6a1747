//! `seahorse ask`, `seahorse chat` and `seahorse chats`: questions about a document or the
//! whole library, answered from the saved memory plus passages, streamed to stdout with
//! validated page citations; every answer is stored in a chat.

use std::io::{BufRead, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::Args;
use seahorse_ask::chat::{chat_title, export_markdown, ChatAnswer, ChatEvent};
use seahorse_ask::corpus::{CorpusEvent, CorpusOptions};
use seahorse_ask::{AskEvent, AskOptions, Asker};
use seahorse_engine::CancelToken;
use seahorse_library::{ChatId, ChatScope, Library, Reader};

use crate::home::{library_dir, open_library, Reading, ReadingArgs};

/// How answers are made (shared by `ask` and `chat`).
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
    /// Most passages placed in the window.
    #[arg(long, default_value_t = 6)]
    pub passages: usize,
    /// Most tokens of passages (default: half the window).
    #[arg(long)]
    pub passage_tokens: Option<usize>,
    /// Answer as of this page (its printed label, else its number): the memory and the
    /// passages stop there (no spoilers).
    #[arg(long, conflicts_with_all = ["all", "collection"])]
    pub as_of_page: Option<String>,
    /// Documents consulted at most by `--all`.
    #[arg(long, default_value_t = 3)]
    pub max_documents: usize,
    /// Longest answer in tokens.
    #[arg(long, default_value_t = 320)]
    pub max_tokens: usize,
    #[command(flatten)]
    pub reading: ReadingArgs,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
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

/// The 0-based page a person means by `label`: a page whose label is exactly that, else a
/// 1-based page number.
fn page_index(library: &Library, doc: seahorse_library::DocId, label: &str) -> Result<u32> {
    let pages = library.store().pages(doc)?;
    if let Some(p) = pages.iter().find(|p| p.display_label.eq_ignore_ascii_case(label.trim())) {
        return Ok(p.index);
    }
    match label.trim().parse::<u32>() {
        Ok(n) if n >= 1 && (n as usize) <= pages.len() => Ok(n - 1),
        _ => bail!("the document has no page {label:?} (it has {} pages)", pages.len()),
    }
}

struct AskSetup {
    library: Library,
    reading: Reading,
}

impl AskSetup {
    fn open(args: &AnswerArgs, json: bool) -> Result<AskSetup> {
        let library = open_library(json)?;
        let reading = Reading::resolve(&library_dir()?, &args.reading)?;
        Ok(AskSetup { library, reading })
    }

    fn options(&self, args: &AnswerArgs, cancel: &CancelToken) -> (AskOptions, CorpusOptions) {
        let document = AskOptions {
            memory: !args.no_memory,
            passages: !args.no_passages,
            max_passages: args.passages,
            passage_tokens: args.passage_tokens,
            as_of_page: None,
            max_tokens: args.max_tokens,
            cancel: cancel.clone(),
        };
        let corpus = CorpusOptions {
            max_documents: args.max_documents,
            per_document: AskOptions { max_tokens: args.max_tokens.min(160), ..document.clone() },
            max_tokens: args.max_tokens,
            ..CorpusOptions::default()
        };
        (document, corpus)
    }

    /// Starts a chat for `doc` (or the corpus with `all`).
    fn new_chat(&self, doc: Option<&str>, args: &AnswerArgs, title: &str) -> Result<ChatId> {
        let corpus = args.all || args.collection.is_some();
        let scope = match (doc, corpus) {
            (Some(_), true) => bail!("name a document or --all/--collection, not both"),
            (None, false) => {
                bail!("name a document (see `seahorse list`), --collection NAME or --all")
            }
            (None, true) => ChatScope::Corpus {
                collection: match &args.collection {
                    Some(name) => Some(self.library.store().collection(name)?.id),
                    None => None,
                },
            },
            (Some(query), false) => {
                let doc = self.library.find_document(query)?.id;
                let as_of_page = match &args.as_of_page {
                    Some(label) => Some(page_index(&self.library, doc, label)?),
                    None => None,
                };
                ChatScope::Document { doc, as_of_page }
            }
        };
        Ok(self.library.store().create_chat(scope, &chat_title(title), now_ms())?)
    }
}

/// Prints one turn's answer as it streams (text on stdout, progress on stderr) and returns it.
fn answer_turn(
    asker: &Asker<'_>,
    chat: ChatId,
    question: &str,
    document: &AskOptions,
    corpus: &CorpusOptions,
    json: bool,
) -> Result<ChatAnswer> {
    let mut stdout = std::io::stdout().lock();
    let mut text_started = false;
    let answer = asker.ask_in_chat(chat, question, document, corpus, now_ms(), |event| {
        if json {
            return;
        }
        match event {
            ChatEvent::Document(AskEvent::Restored { position, page_index, is_final }) => eprintln!(
                "memory: {position} tokens up to page index {page_index}{}",
                if is_final { "" } else { " (a checkpoint)" }
            ),
            ChatEvent::Document(AskEvent::Passages(p)) if !p.is_empty() => {
                let pages: Vec<&str> = p.iter().map(|p| p.page_label.as_str()).collect();
                let tokens: usize = p.iter().map(|p| p.tokens).sum();
                eprintln!("passages: {} ({tokens} tokens) from pages {}", p.len(), pages.join(", "));
            }
            ChatEvent::Corpus(CorpusEvent::Ranked(docs)) => {
                for d in docs {
                    eprintln!("  [{}] {} (score {:.1})", d.number, d.title, d.score);
                }
            }
            ChatEvent::Corpus(CorpusEvent::Document { document, event: AskEvent::Restored { .. } }) => {
                eprintln!("consulting [{}] {}…", document.number, document.title)
            }
            ChatEvent::Corpus(CorpusEvent::Skipped { document, reason }) => {
                eprintln!("skipped {}: {reason}", document.title);
            }
            ChatEvent::Document(AskEvent::Text(piece)) | ChatEvent::Corpus(CorpusEvent::Text(piece)) => {
                text_started = true;
                let _ = stdout.write_all(piece.as_bytes());
                let _ = stdout.flush();
            }
            _ => {}
        }
    })?;
    drop(stdout);
    if json {
        out!("{}", serde_json::json!({ "chat": chat, "question": question, "answer": answer }));
        return Ok(answer);
    }
    if text_started {
        out!();
    }
    print_sources(asker.library(), &answer)?;
    Ok(answer)
}

/// The citations with their pages, and where the time went (stderr).
fn print_sources(library: &Library, answer: &ChatAnswer) -> Result<()> {
    for c in answer.citations() {
        for p in &c.pages {
            let title = library.store().document(seahorse_library::DocId(p.doc)).map(|d| d.title).unwrap_or_default();
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
                dropped_note(a.dropped.len()),
            );
        }
        ChatAnswer::Corpus(a) => eprintln!(
            "({} document(s) consulted; first token of the combined answer after {:.1} s; {:.1} s in all{})",
            a.documents.len(),
            a.first_token_ms / 1e3,
            a.total_ms / 1e3,
            dropped_note(a.dropped.len()),
        ),
    }
    Ok(())
}

fn dropped_note(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("; {n} citation(s) of pages the model was not given removed")
    }
}

/// `seahorse ask [DOC] QUESTION`: one question, stored as a new chat (or the next turn of
/// `--chat N`).
pub fn ask(doc: Option<&str>, question: &str, chat: Option<i64>, args: &AnswerArgs, json: bool) -> Result<()> {
    let session = AskSetup::open(args, json)?;
    let chat = match chat {
        Some(id) => ChatId(id),
        None => session.new_chat(doc, args, question)?,
    };
    let model = session.reading.load_model(json)?;
    let reader = Reader::new(&model, &session.reading.memory()?, session.reading.read_options())?;
    let asker = Asker::new(&session.library, &reader);
    let cancel = cancel_on_ctrl_c()?;
    let (document, corpus) = session.options(args, &cancel);
    answer_turn(&asker, chat, question, &document, &corpus, json)?;
    if !json {
        eprintln!("(stored as chat {chat}: `seahorse chat --resume {chat}` continues it)");
    }
    Ok(())
}

/// `seahorse chat [DOC]`: questions from stdin, one per line, until an empty line or EOF.
pub fn chat(doc: Option<&str>, resume: Option<i64>, args: &AnswerArgs, json: bool) -> Result<()> {
    let session = AskSetup::open(args, json)?;
    let model = session.reading.load_model(json)?;
    let reader = Reader::new(&model, &session.reading.memory()?, session.reading.read_options())?;
    let asker = Asker::new(&session.library, &reader);
    let cancel = cancel_on_ctrl_c()?;
    let (document, corpus) = session.options(args, &cancel);
    let mut chat = resume.map(ChatId);
    if let Some(id) = chat {
        let info = session.library.store().chat(id)?;
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
        let question = line?;
        if question.trim().is_empty() {
            break;
        }
        let id = match chat {
            Some(id) => id,
            None => *chat.insert(session.new_chat(doc, args, &question)?),
        };
        answer_turn(&asker, id, &question, &document, &corpus, json)?;
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
pub fn list_chats(json: bool) -> Result<()> {
    let library = open_library(json)?;
    let chats = library.store().chats()?;
    if json {
        out!("{}", serde_json::to_string(&chats)?);
        return Ok(());
    }
    for c in chats {
        let about = match c.scope {
            ChatScope::Document { doc, as_of_page } => {
                let title = library.store().document(doc).map(|d| d.title).unwrap_or_default();
                match as_of_page {
                    Some(p) => format!("{title} (as of page index {p})"),
                    None => title,
                }
            }
            ChatScope::Corpus { collection: None } => "all documents".to_owned(),
            ChatScope::Corpus { collection: Some(id) } => {
                format!("collection {}", library.store().collection_name(id)?)
            }
        };
        out!("{:>4}  {}  [{}; {} messages]", c.id, c.title, about, c.message_count);
    }
    Ok(())
}

/// `seahorse chats export N`: Markdown on stdout.
pub fn export_chat(id: i64, json: bool) -> Result<()> {
    let library = open_library(json)?;
    let markdown = export_markdown(library.store(), ChatId(id))?;
    if json {
        out!("{}", serde_json::json!({ "chat": id, "markdown": markdown }));
    } else {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(markdown.as_bytes())?;
    }
    Ok(())
}

/// `seahorse chats remove N`.
pub fn remove_chat(id: i64, json: bool) -> Result<()> {
    let library = open_library(json)?;
    if !library.store().remove_chat(ChatId(id))? {
        bail!("no chat {id} (see `seahorse chats`)");
    }
    if json {
        out!("{}", serde_json::json!({ "removed": id }));
    } else {
        eprintln!("removed chat {id}");
    }
    Ok(())
}

/// `seahorse collection`: list (default).
pub fn list_collections(json: bool) -> Result<()> {
    let library = open_library(json)?;
    let collections = library.store().collections()?;
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
pub fn change_collection(name: &str, docs: &[String], add: bool, json: bool) -> Result<()> {
    let library = open_library(json)?;
    let ids = docs.iter().map(|d| Ok(library.find_document(d)?.id)).collect::<Result<Vec<_>>>()?;
    let store = library.store();
    if add {
        store.add_to_collection(name, &ids)?;
    } else {
        store.remove_from_collection(name, &ids)?;
    }
    let info = store.collection(name)?;
    if json {
        out!("{}", serde_json::to_string(&info)?);
    } else {
        eprintln!("{}: {} documents", info.name, info.documents);
    }
    Ok(())
}

/// `seahorse collection delete NAME`.
pub fn delete_collection(name: &str, json: bool) -> Result<()> {
    let library = open_library(json)?;
    library.store().delete_collection(name)?;
    if json {
        out!("{}", serde_json::json!({ "deleted": name }));
    } else {
        eprintln!("deleted collection {name} (its documents stay in the library)");
    }
    Ok(())
}
