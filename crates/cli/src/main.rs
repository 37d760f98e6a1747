//! `seahorse`: the command-line front end over `seahorse-api`. It parses arguments, turns
//! the environment into paths, installs the tracing subscriber, prints, and handles Ctrl-C;
//! every workflow is one API call. Each command group lives in its own module.

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
mod ingest_cmd;
mod models_cmd;
mod reading_args;

use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use reading_args::ReadingArgs;
use seahorse_api::{Paths, Seahorse};

#[derive(Parser)]
#[command(
    name = "seahorse",
    version,
    about = "Read whole books with a local LLM and ask them questions",
    after_help = "The library lives in $SEAHORSE_HOME (default: ~/.local/share/seahorse), models in \
                  $SEAHORSE_MODELS_DIR (default: ~/.cache/seahorse/models). RUST_LOG filters the log."
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Log what the libraries do on stderr (-v: steps, -vv: details and llama.cpp's log).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
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
    /// Read a document into memory again with the current settings (model, block, W, S).
    Reread {
        /// Id, sha256 prefix, or part of the title or file name.
        doc: String,
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
        /// Model id from `seahorse models list` (default: the active model).
        model: Option<String>,
    },
    /// List known models and whether they are on disk, and which suits this machine.
    List,
    /// The model for this machine (CPU threads, GPU, memory) and why; `models use` changes it.
    Recommend,
    /// Add a Qwen2 / Qwen2.5 GGUF you have (it stays where it is) and make it the active model.
    Add {
        /// The GGUF file.
        path: PathBuf,
        /// Register it without making it the active model.
        #[arg(long)]
        keep_active: bool,
    },
    /// Add an AHN block for a model: an official AHN checkpoint (a directory with
    /// config.json and model.safetensors), converted here, or a block GGUF.
    AddAhn {
        /// The checkpoint directory, its safetensors file, or a block GGUF.
        source: PathBuf,
        /// The model it is for (default: the active model).
        #[arg(long)]
        model: Option<String>,
        /// Add it without making it the active block.
        #[arg(long)]
        keep_active: bool,
    },
    /// Make a model (and optionally a block) the active one for reading and asking.
    Use {
        /// Model id from `seahorse models list`. (Its own id: the reading flags have a
        /// `--model` too, for other commands.)
        #[arg(id = "model_id", value_name = "MODEL")]
        model: String,
        #[command(flatten)]
        reading: ReadingArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
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

/// The log on stderr: `RUST_LOG` if set, else warnings (`-v`: steps, `-vv`: details and
/// llama.cpp's own log).
fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn,llama-cpp-2=off",
        1 => "info,llama-cpp-2=warn",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

/// Opens the library where the environment says, saying on stderr if the index had to be
/// repaired.
pub fn open(json: bool) -> Result<Seahorse> {
    let paths = Paths::from_env(|k| std::env::var_os(k))?;
    let seahorse = Seahorse::open(paths.clone())
        .map_err(anyhow::Error::from)
        .map_err(|e| e.context(format!("opening the library in {}", paths.library.display())))?;
    let sync = seahorse.opened_repairs();
    if !json && (sync.recreated || sync.reindexed > 0 || sync.removed > 0) {
        eprintln!(
            "repaired the search index ({} document(s) re-indexed, {} removed{})",
            sync.reindexed,
            sync.removed,
            if sync.recreated { ", index recreated" } else { "" }
        );
    }
    Ok(seahorse)
}

fn run(cli: Cli) -> Result<u8> {
    let json = cli.json;
    let seahorse = open(json)?;
    let s = &seahorse;
    match cli.command {
        Command::Add { paths, collection, reading } => {
            return ingest_cmd::add(s, &paths, collection.as_deref(), &reading, json)
        }
        Command::Jobs { command: Some(JobsCommand::Resume { reading }) } => {
            return ingest_cmd::resume(s, &reading, json)
        }
        Command::Jobs { command: Some(JobsCommand::Clear) } => docs_cmd::clear_jobs(s, json)?,
        Command::Jobs { command: None } => docs_cmd::jobs(s, json)?,
        Command::Reread { doc } => return ingest_cmd::reread(s, &doc, json),
        Command::List => docs_cmd::list(s, json)?,
        Command::Show { doc } => docs_cmd::show(s, &doc, json)?,
        Command::Search { query, limit } => docs_cmd::search(s, &query, limit, json)?,
        Command::Remove { doc } => docs_cmd::remove(s, &doc, json)?,
        Command::Index { command: IndexCommand::Rebuild } => docs_cmd::rebuild_index(s, json)?,
        Command::Ask { words, chat, answer } => match words.as_slice() {
            [question] => ask_cmd::ask(s, None, question, chat, &answer, json)?,
            [doc, question] => ask_cmd::ask(s, Some(doc), question, chat, &answer, json)?,
            _ => unreachable!("clap allows one or two words"),
        },
        Command::Chat { doc, resume, answer } => ask_cmd::chat(s, doc.as_deref(), resume, &answer, json)?,
        Command::Collection { command: None } => ask_cmd::list_collections(s, json)?,
        Command::Collection { command: Some(CollectionCommand::Add { name, docs }) } => {
            ask_cmd::change_collection(s, &name, &docs, true, json)?
        }
        Command::Collection { command: Some(CollectionCommand::Remove { name, docs }) } => {
            ask_cmd::change_collection(s, &name, &docs, false, json)?
        }
        Command::Collection { command: Some(CollectionCommand::Delete { name }) } => {
            ask_cmd::delete_collection(s, &name, json)?
        }
        Command::Chats { command: None } => ask_cmd::list_chats(s, json)?,
        Command::Chats { command: Some(ChatsCommand::Export { id }) } => ask_cmd::export_chat(s, id, json)?,
        Command::Chats { command: Some(ChatsCommand::Remove { id }) } => ask_cmd::remove_chat(s, id, json)?,
        Command::Models { command: ModelsCommand::Fetch { model } } => models_cmd::fetch(s, model.as_deref(), json)?,
        Command::Models { command: ModelsCommand::List } => models_cmd::list(s, json)?,
        Command::Models { command: ModelsCommand::Recommend } => models_cmd::recommend(s, json)?,
        Command::Models { command: ModelsCommand::Add { path, keep_active } } => {
            models_cmd::add(s, &path, !keep_active, json)?
        }
        Command::Models { command: ModelsCommand::AddAhn { source, model, keep_active } } => {
            models_cmd::add_ahn(s, &source, model.as_deref(), !keep_active, json)?
        }
        Command::Models { command: ModelsCommand::Use { model, reading } } => {
            models_cmd::use_model(s, &model, &reading, json)?
        }
        Command::Info => models_cmd::info(s, json)?,
    }
    Ok(0)
}
