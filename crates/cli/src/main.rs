//! `seahorse`: the command-line front end. Parsing and printing only; the work happens in
//! the library crates. Each command group lives in its own module.

/// `println!` that returns the write error (a closed pipe ends the program quietly).
macro_rules! out {
    () => {
        std::io::Write::write_all(&mut std::io::stdout().lock(), b"\n")?
    };
    ($($arg:tt)*) => {
        std::io::Write::write_fmt(&mut std::io::stdout().lock(), format_args!("{}\n", format_args!($($arg)*)))?
    };
}

mod ask_cmd;
mod docs_cmd;
mod home;
mod ingest_cmd;
mod models_cmd;

use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use home::ReadingArgs;

#[derive(Parser)]
#[command(
    name = "seahorse",
    version,
    about = "Read whole books with a local LLM and ask them questions",
    after_help = "The library lives in $SEAHORSE_HOME (default: ~/.local/share/seahorse)."
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add documents (files or directories, recursively): extract, index and read them into memory.
    Add {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Also put the documents in this collection (created if needed).
        #[arg(long)]
        collection: Option<String>,
        #[command(flatten)]
        reading: ReadingArgs,
    },
    /// List the documents in the library.
    List,
    /// Show one document: pages, memory states, storage.
    Show {
        /// Id, sha256 prefix, or part of the title or file name.
        doc: String,
    },
    /// Full-text search over all pages.
    Search {
        /// Words to find (tantivy syntax: "a phrase", +required, -excluded).
        query: String,
        /// Most passages to show.
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Remove a document with its pages, index entries and memory states.
    Remove {
        /// Id, sha256 prefix, or part of the title or file name.
        doc: String,
    },
    /// The full-text index: `rebuild` re-creates it from the library database.
    Index {
        #[command(subcommand)]
        command: IndexCommand,
    },
    /// Ingestion jobs: status (default), resume, clear.
    Jobs {
        #[command(subcommand)]
        command: Option<JobsCommand>,
    },
    /// Ask a document (`ask DOC "question"`), every document (`ask --all "question"`), or
    /// the model itself (`ask "question"`); answers stream with page citations and are kept
    /// as chats.
    Ask {
        /// [DOCUMENT] QUESTION: a document id, sha256 prefix or part of its title, then the
        /// question.
        #[arg(required = true, num_args = 1..=2, value_names = ["DOCUMENT", "QUESTION"])]
        words: Vec<String>,
        /// Continue this chat (its document and settings) instead of starting one.
        #[arg(long, conflicts_with_all = ["all", "collection"])]
        chat: Option<i64>,
        #[command(flatten)]
        answer: ask_cmd::AnswerArgs,
    },
    /// A conversation about a document (or --all): one question per line on stdin, an empty
    /// line ends it; stored, and resumable with --resume.
    Chat {
        /// Id, sha256 prefix, or part of the title or file name.
        doc: Option<String>,
        /// Continue this chat.
        #[arg(long, conflicts_with_all = ["doc", "all", "collection"])]
        resume: Option<i64>,
        #[command(flatten)]
        answer: ask_cmd::AnswerArgs,
    },
    /// Named collections of documents: list (default), add, remove, delete.
    Collection {
        #[command(subcommand)]
        command: Option<CollectionCommand>,
    },
    /// Stored chats: list (default), export as Markdown, remove.
    Chats {
        #[command(subcommand)]
        command: Option<ChatsCommand>,
    },
    /// Manage the model cache.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Show how this build of llama.cpp was made (patch revision, CPU features).
    Info,
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Resume interrupted, cancelled and failed jobs from their last checkpoint.
    Resume {
        #[command(flatten)]
        reading: ReadingArgs,
    },
    /// Forget finished jobs (done, failed, cancelled).
    Clear,
}

#[derive(Subcommand)]
enum CollectionCommand {
    /// Add documents to a collection (created if needed).
    Add {
        /// The collection's name.
        name: String,
        /// Documents: ids, sha256 prefixes, or parts of titles or file names.
        #[arg(required = true)]
        docs: Vec<String>,
    },
    /// Take documents out of a collection.
    Remove {
        /// The collection's name.
        name: String,
        /// Documents.
        #[arg(required = true)]
        docs: Vec<String>,
    },
    /// Delete a collection (its documents stay in the library).
    Delete {
        /// The collection's name.
        name: String,
    },
}

#[derive(Subcommand)]
enum ChatsCommand {
    /// Write a chat as Markdown (questions, answers, citations with their pages) to stdout.
    Export {
        /// The chat's id.
        id: i64,
    },
    /// Delete a chat.
    Remove {
        /// The chat's id.
        id: i64,
    },
}

#[derive(Subcommand)]
enum IndexCommand {
    /// Re-create the search index from the pages stored in SQLite (the source of truth).
    Rebuild,
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Download, assemble and verify a model (idempotent; repairs damaged files).
    Fetch {
        /// Model id from `seahorse models list`.
        #[arg(default_value = seahorse_models::DEFAULT_MODEL.id)]
        model: String,
    },
    /// List known models and whether they are in the cache.
    List,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        // `seahorse list | head`: the reader went away; that is not an error.
        Err(err)
            if err
                .chain()
                .any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == ErrorKind::BrokenPipe)) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("seahorse: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    let json = cli.json;
    match cli.command {
        Command::Add { paths, collection, reading } => {
            return ingest_cmd::add(&paths, collection.as_deref(), &reading, json)
        }
        Command::Jobs { command: Some(JobsCommand::Resume { reading }) } => return ingest_cmd::resume(&reading, json),
        Command::Jobs { command: Some(JobsCommand::Clear) } => docs_cmd::clear_jobs(json)?,
        Command::Jobs { command: None } => docs_cmd::jobs(json)?,
        Command::List => docs_cmd::list(json)?,
        Command::Show { doc } => docs_cmd::show(&doc, json)?,
        Command::Search { query, limit } => docs_cmd::search(&query, limit, json)?,
        Command::Remove { doc } => docs_cmd::remove(&doc, json)?,
        Command::Index { command: IndexCommand::Rebuild } => docs_cmd::rebuild_index(json)?,
        Command::Ask { words, chat, answer } => {
            match (words.as_slice(), answer.all || answer.collection.is_some() || chat.is_some()) {
                // Only a question: the model itself answers, without the library.
                ([question], false) => {
                    let reading = home::Reading::resolve(&home::library_dir()?, &answer.reading)?;
                    let path = match &reading.model_path {
                        Some(p) => p.clone(),
                        None => models_cmd::ensure_model(models_cmd::spec(&reading.model)?, json)?,
                    };
                    models_cmd::ask(&path, question, answer.max_tokens, reading.threads, json)?
                }
                ([question], true) => ask_cmd::ask(None, question, chat, &answer, json)?,
                ([doc, question], _) => ask_cmd::ask(Some(doc), question, chat, &answer, json)?,
                _ => unreachable!("clap allows one or two words"),
            }
        }
        Command::Chat { doc, resume, answer } => ask_cmd::chat(doc.as_deref(), resume, &answer, json)?,
        Command::Collection { command: None } => ask_cmd::list_collections(json)?,
        Command::Collection { command: Some(CollectionCommand::Add { name, docs }) } => {
            ask_cmd::change_collection(&name, &docs, true, json)?
        }
        Command::Collection { command: Some(CollectionCommand::Remove { name, docs }) } => {
            ask_cmd::change_collection(&name, &docs, false, json)?
        }
        Command::Collection { command: Some(CollectionCommand::Delete { name }) } => {
            ask_cmd::delete_collection(&name, json)?
        }
        Command::Chats { command: None } => ask_cmd::list_chats(json)?,
        Command::Chats { command: Some(ChatsCommand::Export { id }) } => ask_cmd::export_chat(id, json)?,
        Command::Chats { command: Some(ChatsCommand::Remove { id }) } => ask_cmd::remove_chat(id, json)?,
        Command::Models { command: ModelsCommand::Fetch { model } } => models_cmd::fetch(&model, json)?,
        Command::Models { command: ModelsCommand::List } => models_cmd::list(json)?,
        Command::Info => models_cmd::info(json)?,
    }
    Ok(0)
}
