//! Seahorse's one library API: every workflow of the command line and the desktop app,
//! behind one owned handle, [`Seahorse`], that is `Send + Sync + 'static` and cheap to
//! clone.
//!
//! - **Settings** in one place ([`Settings`], `settings.json` in the library): the active
//!   model and AHN block, W, S, chunk and checkpoint sizes, threads. Front ends turn their
//!   environment into [`Paths`]; this crate reads no environment variable.
//! - **Documents**: [`Seahorse::add`] queues files and folders (optionally for a
//!   collection), [`Seahorse::start_reading`] reads the queue on a worker thread with its
//!   own SQLite connection and reports [`ReadingEvent`]s; [`Seahorse::cancel_reading`]
//!   stops it after the current chunk (resumable).
//! - **Questions**: [`Seahorse::ask`] answers about a document, a collection, the library
//!   or the model alone, streaming [`AnswerEvent`]s, and keeps the answer in a chat. It
//!   runs on the caller's thread; a GUI calls it from a worker and stops it with the
//!   question's cancel token.
//! - **One computation at a time**: every llama.cpp call of this handle passes one
//!   [`seahorse_engine::ComputeGate`]; questions go before reading, so a question waits
//!   for at most one chunk of the book being read.
//!
//! ```no_run
//! use seahorse_api::{Paths, Question, Scope, Seahorse};
//!
//! let seahorse = Seahorse::open(Paths::from_env(|k| std::env::var_os(k))?)?;
//! seahorse.add(&["book.epub".into()], None)?;
//! seahorse.start_reading(|event| eprintln!("{event:?}"))?;
//! seahorse.wait_reading().unwrap()?;
//! let doc = seahorse.find_document("book")?.id;
//! let answered = seahorse.ask(&Question::new("Who is the narrator?", Scope::Document(doc)), |_| {})?;
//! println!("{}", answered.answer.text());
//! # Ok::<(), seahorse_api::Error>(())
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod asking;
mod documents;
mod error;
mod machine;
mod models;
mod reading;
mod runtime;
mod settings;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use seahorse_engine::{BuildInfo, ComputeGate, Engine};
use seahorse_library::{Library, LibraryConfig};

pub use asking::{AnswerEvent, Answered, PassageRef, Question, Reply, Scope};
pub use documents::{DocumentDetails, DocumentSummary, Memory, MemoryState, PageSummary, StateSummary};
pub use error::{Error, Result};
pub use machine::{recommend, Gpu, Machine, ModelFacts, ModelRecommendation};
pub use models::{FetchProgress, MemoryEstimate, ModelEntry};
pub use reading::ReadingEvent;
pub use runtime::Choice;
pub use settings::{BlockChoice, LocalModel, Paths, ReadingSettings, Settings};

// Types of the libraries that appear in this API.
pub use seahorse_ask::chat::ChatAnswer;
pub use seahorse_ask::corpus::RankedDocument;
pub use seahorse_engine::CancelToken;
pub use seahorse_library::{
    ChatId, ChatInfo, ChatScope, CollectionId, CollectionInfo, DocId, DocumentInfo, DocumentStorage, Fingerprint,
    IndexSync, IngestEvent, JobId, JobInfo, JobState, LibraryStorage, MessageInfo, ReadProgress, RunSummary, SearchHit,
    StateId, SUPPORTED_EXTENSIONS,
};

/// The crates underneath, for tests and tools that inspect what the API stored (front
/// ends use the API itself).
pub mod crates {
    pub use seahorse_ask as ask;
    pub use seahorse_engine as engine;
    pub use seahorse_library as library;
    pub use seahorse_models as models;
}

/// The state every clone of a [`Seahorse`] shares.
pub(crate) struct Shared {
    pub paths: Paths,
    settings: Mutex<Settings>,
    /// Open library connections not in use (each call takes one, or opens one).
    libraries: Mutex<Vec<Library>>,
    /// What opening the library repaired, the first time.
    opened: IndexSync,
    pub gate: ComputeGate,
    pub models: runtime::ModelCache,
    pub worker: Mutex<Option<reading::Worker>>,
    pub filing: reading::Filing,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// Runs `f` on a library connection of its own (taken from the pool, or opened).
    pub fn with_library<T>(&self, f: impl FnOnce(&Library) -> Result<T>) -> Result<T> {
        let library = match lock(&self.libraries).pop() {
            Some(l) => l,
            None => Library::open(&self.paths.library, &LibraryConfig::default())?,
        };
        let out = f(&library);
        lock(&self.libraries).push(library);
        out
    }
}

/// The handle: one per library directory and process. Clones share everything.
#[derive(Clone)]
pub struct Seahorse {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Seahorse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seahorse").field("paths", &self.shared.paths).finish_non_exhaustive()
    }
}

impl Seahorse {
    /// Opens (creating if needed) the library in `paths.library` with the settings saved
    /// there. The search index is brought in step with the database first
    /// ([`Seahorse::opened_repairs`] says what that took).
    ///
    /// # Errors
    ///
    /// [`Error::Library`] (the database or index cannot be opened), [`Error::Settings`].
    pub fn open(paths: Paths) -> Result<Seahorse> {
        let _span = tracing::info_span!("open", library = %paths.library.display()).entered();
        let mut settings = Settings::load(&paths)?;
        if settings::never_saved(&paths) {
            // A new library: the model for this machine, until the person chooses.
            settings.model = machine::recommend(&machine::Machine::detect()).model;
        }
        let library = Library::open(&paths.library, &LibraryConfig::default())?;
        let opened = library.opened_sync().clone();
        Ok(Seahorse {
            shared: Arc::new(Shared {
                paths,
                settings: Mutex::new(settings),
                libraries: Mutex::new(vec![library]),
                opened,
                gate: ComputeGate::new(),
                models: runtime::ModelCache::default(),
                worker: Mutex::new(None),
                filing: Default::default(),
            }),
        })
    }

    /// Where things live.
    pub fn paths(&self) -> &Paths {
        &self.shared.paths
    }

    /// What opening the library did to bring the search index in step.
    pub fn opened_repairs(&self) -> &IndexSync {
        &self.shared.opened
    }

    /// How this build of llama.cpp was made (patch revision, CPU features).
    ///
    /// # Errors
    ///
    /// [`Error::Engine`] if the engine cannot start on this machine.
    pub fn build_info(&self) -> Result<BuildInfo> {
        Ok(Engine::get()?.build_info())
    }

    // ----- settings -----

    /// The settings.
    pub fn settings(&self) -> Settings {
        self.shared.settings()
    }

    /// Changes the settings with `change` and saves them; refused (and nothing changed)
    /// when the result is invalid (an unknown model, W = 0, …).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`], [`Error::UnknownModel`], [`Error::Settings`].
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> Result<Settings> {
        let mut guard = lock(&self.shared.settings);
        let mut next = guard.clone();
        change(&mut next);
        next.reading.validate()?;
        models::check_id(&next, &next.model)?;
        if next != *guard {
            next.save(&self.shared.paths)?;
            *guard = next.clone();
        }
        Ok(next)
    }

    /// The catalogue model for this machine (cores, GPU, memory) and why; a new library
    /// starts with it.
    pub fn model_recommendation(&self) -> ModelRecommendation {
        machine::recommend(&machine::Machine::detect())
    }

    /// The active model, block and reading settings.
    pub fn active_choice(&self) -> Choice {
        Choice::active(&self.settings())
    }

    // ----- models -----

    /// Every model: the catalogue and the added GGUFs, with what is on disk.
    pub fn models(&self) -> Vec<ModelEntry> {
        models::list(&self.settings(), &self.shared.paths)
    }

    /// Makes sure model `id` is on disk (a catalogue model is fetched and checked against
    /// its pinned sha256), reporting progress; returns its file.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownModel`], [`Error::Fetch`].
    pub fn fetch_model(&self, id: &str, mut on_progress: impl FnMut(FetchProgress)) -> Result<PathBuf> {
        models::model_path(&self.settings(), &self.shared.paths, id, &mut on_progress)
    }

    /// Registers a GGUF the person has (any Qwen2 / Qwen2.5 model) under an id derived
    /// from its file name; it is loaded once to check it. The file stays where it is.
    ///
    /// # Errors
    ///
    /// [`Error::Engine`] for a file llama.cpp cannot load, [`Error::UnsupportedModel`]
    /// for another architecture. Nothing is registered then.
    pub fn add_model(&self, path: &Path) -> Result<ModelEntry> {
        let path =
            std::path::absolute(path).map_err(|e| Error::Invalid(format!("cannot resolve {}: {e}", path.display())))?;
        let _span = tracing::info_span!("add_model", path = %path.display()).entered();
        models::check_model_file(&path)?;
        let settings = self.update_settings(|s| {
            if !s.local_models.iter().any(|m| m.path == path) {
                let id = models::local_id_for(&path, &s.local_models);
                s.local_models.push(LocalModel { id, path: path.clone() });
            }
        })?;
        let id = settings.local_models.iter().find(|m| m.path == path).map(|m| m.id.clone()).unwrap_or_default();
        Ok(self.models().into_iter().find(|m| m.id == id).expect("just registered"))
    }

    /// Adds an AHN block for model `model` (the active one if `None`): a block GGUF, or an
    /// official AHN checkpoint (a directory with `config.json` and `model.safetensors`,
    /// or that safetensors file) converted here. The block is checked against the model
    /// and kept in the model cache; with `activate` it becomes the active block.
    ///
    /// # Errors
    ///
    /// [`Error::Engine`] for a checkpoint or block that cannot be read or converted,
    /// [`Error::UnsupportedModel`] for a block of another model shape. Nothing is kept
    /// then.
    pub fn add_block(&self, source: &Path, model: Option<&str>, activate: bool) -> Result<PathBuf> {
        let settings = self.settings();
        let model_id = model.unwrap_or(&settings.model).to_owned();
        let model_path = models::model_path(&settings, &self.shared.paths, &model_id, &mut |_| {})?;
        let path = models::add_block(&self.shared.paths, source, &model_id, &model_path)?;
        if activate {
            self.update_settings(|s| {
                s.model = model_id.clone();
                s.block = BlockChoice::File(path.clone());
            })?;
        }
        Ok(path)
    }

    // ----- documents -----

    /// Queues files and folders (recursively) for reading; their documents join
    /// `collection` (created if needed) once stored. Returns the new jobs.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when nothing readable was found, [`Error::Library`].
    pub fn add(&self, paths: &[PathBuf], collection: Option<&str>) -> Result<Vec<JobId>> {
        if paths.is_empty() {
            return Err(Error::Invalid("nothing to add: name files or folders".into()));
        }
        let jobs = self.shared.with_library(|l| Ok(l.enqueue_paths(paths, asking::now_ms())?))?;
        if jobs.is_empty() {
            return Err(Error::Invalid(format!(
                "no supported files found (extensions: {})",
                SUPPORTED_EXTENSIONS.join(", ")
            )));
        }
        if let Some(name) = collection {
            let mut filing = lock(&self.shared.filing);
            for &job in &jobs {
                filing.insert(job, name.to_owned());
            }
        }
        Ok(jobs)
    }

    /// Starts reading the queue (and jobs a quit or crash left unfinished, from their last
    /// checkpoint) on a worker thread with the active settings, reporting to `on_event`
    /// from that thread. Returns at once.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyReading`] if this handle is reading.
    pub fn start_reading(&self, on_event: impl Fn(ReadingEvent) + Send + Sync + 'static) -> Result<()> {
        reading::start(&self.shared, self.active_choice(), Box::new(on_event))
    }

    /// Whether the worker is reading.
    pub fn is_reading(&self) -> bool {
        lock(&self.shared.worker).as_ref().is_some_and(|w| !w.is_finished())
    }

    /// Stops reading after the current chunk; the job stays resumable. Whether a run was
    /// stopped.
    pub fn cancel_reading(&self) -> bool {
        reading::cancel(&self.shared)
    }

    /// Waits for the reading run to end and returns what it did; `None` if none was
    /// started since the last wait.
    pub fn wait_reading(&self) -> Option<Result<RunSummary>> {
        reading::wait(&self.shared)
    }

    /// Puts cancelled and failed jobs back in the queue (reading resumes them from their
    /// last checkpoint). How many.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn requeue_unfinished(&self) -> Result<usize> {
        self.shared.with_library(|l| Ok(l.store().requeue_unfinished()?))
    }

    /// Queues `doc` to be read again (with the active settings, say after changing the
    /// model).
    ///
    /// # Errors
    ///
    /// [`Error::Library`] (no such document), [`Error::Invalid`] if its file is gone.
    pub fn reread(&self, doc: DocId) -> Result<JobId> {
        self.shared.with_library(|l| {
            let info = l.store().document(doc)?;
            let path = PathBuf::from(&info.source_path);
            if !path.is_file() {
                return Err(Error::Invalid(format!(
                    "\"{}\" cannot be read again: its file {} is gone",
                    info.title,
                    path.display()
                )));
            }
            let jobs = l.store().enqueue(&[path], asking::now_ms())?;
            jobs.first().copied().ok_or_else(|| Error::Invalid("the file is already queued".into()))
        })
    }

    /// The ingestion jobs, newest first.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn jobs(&self) -> Result<Vec<JobInfo>> {
        self.shared.with_library(|l| Ok(l.store().jobs()?))
    }

    /// Forgets finished jobs. How many.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn clear_finished_jobs(&self) -> Result<usize> {
        self.shared.with_library(|l| Ok(l.store().clear_finished_jobs()?))
    }

    /// The documents, with their memory judged against the active settings.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn documents(&self) -> Result<Vec<DocumentSummary>> {
        let current = self.current_key();
        self.shared.with_library(|l| {
            let mut out = Vec::new();
            for document in l.store().documents()? {
                let states = l.store().states(document.id)?;
                out.push(DocumentSummary {
                    memory: Memory::of(&states, current.as_deref()),
                    memory_bytes: states.iter().map(|s| s.stored_bytes).sum(),
                    document,
                });
            }
            Ok(out)
        })
    }

    /// The document `query` names: an id, a sha256 prefix, or part of its title or file
    /// name.
    ///
    /// # Errors
    ///
    /// [`Error::Library`] when none or several match.
    pub fn find_document(&self, query: &str) -> Result<DocumentInfo> {
        self.shared.with_library(|l| Ok(l.find_document(query)?))
    }

    /// One document in full: pages, memory states, storage.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn document(&self, doc: DocId) -> Result<DocumentDetails> {
        let current = self.current_key();
        self.shared.with_library(|l| {
            let document = l.store().document(doc)?;
            let pages = l.store().pages(doc)?;
            let states = l.store().states(doc)?;
            Ok(DocumentDetails {
                memory: Memory::of(&states, current.as_deref()),
                states: states.iter().map(|s| documents::state_summary(s, &pages, current.as_deref())).collect(),
                pages: pages.iter().map(PageSummary::from).collect(),
                storage: l.document_storage(doc)?,
                passages: l.passage_count(doc)?,
                document,
            })
        })
    }

    /// The text of one page (0-based index).
    ///
    /// # Errors
    ///
    /// [`Error::Library`], [`Error::Invalid`] for a page the document does not have.
    pub fn page_text(&self, doc: DocId, page_index: u32) -> Result<String> {
        self.shared.with_library(|l| {
            let pages = l.store().pages(doc)?;
            pages
                .into_iter()
                .find(|p| p.index == page_index)
                .map(|p| p.text)
                .ok_or_else(|| Error::Invalid(format!("the document has no page {}", u64::from(page_index) + 1)))
        })
    }

    /// The original file of a document in the library, as bytes (for rendering it).
    ///
    /// # Errors
    ///
    /// [`Error::Library`] (no such document), [`Error::Invalid`] when the file is gone or
    /// has changed since it was added (its sha256 differs).
    pub fn document_file(&self, doc: DocId) -> Result<Vec<u8>> {
        let info = self.shared.with_library(|l| Ok(l.store().document(doc)?))?;
        let bytes = std::fs::read(&info.source_path).map_err(|e| {
            Error::Invalid(format!("the file of \"{}\" cannot be read ({}): {e}", info.title, info.source_path))
        })?;
        if seahorse_models::sha256_hex(&bytes) != info.sha256 {
            return Err(Error::Invalid(format!(
                "the file of \"{}\" ({}) has changed since it was added; read it again to see the new one",
                info.title, info.source_path
            )));
        }
        Ok(bytes)
    }

    /// The memory reading with `model` at W = `window`, S = `sinks` needs, from the model
    /// file's header (no loading): the model file, the window's F16 K/V cache and the AHN
    /// state. A catalogue model not fetched yet is estimated from its pinned size and
    /// shape only after it is fetched; until then `None`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownModel`], [`Error::Engine`] for an unreadable header.
    pub fn memory_estimate(&self, model: &str, window: u32, sinks: u32) -> Result<MemoryEstimate> {
        models::memory_estimate(&self.settings(), &self.shared.paths, model, window, sinks)
    }

    /// Removes a document with its pages, index entries, memory states and chats.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn remove(&self, doc: DocId) -> Result<()> {
        self.shared.with_library(|l| Ok(l.remove(doc)?))
    }

    /// Full-text search over every page.
    ///
    /// # Errors
    ///
    /// [`Error::Library`] (a malformed query says so).
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        self.shared.with_library(|l| Ok(l.search(query, limit)?))
    }

    /// Re-creates the search index from the database.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn rebuild_index(&self) -> Result<IndexSync> {
        self.shared.with_library(|l| Ok(l.rebuild_index()?))
    }

    /// Sizes of the whole library on disk.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn storage(&self) -> Result<LibraryStorage> {
        self.shared.with_library(|l| Ok(l.storage()))
    }

    /// The fingerprint key of the active settings when the model is on disk.
    fn current_key(&self) -> Option<String> {
        let settings = self.settings();
        asking::current_key(&self.shared, &settings, &Choice::active(&settings))
    }

    // ----- collections -----

    /// The collections.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn collections(&self) -> Result<Vec<CollectionInfo>> {
        self.shared.with_library(|l| Ok(l.store().collections()?))
    }

    /// Adds documents to a collection (created if needed).
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn add_to_collection(&self, name: &str, docs: &[DocId]) -> Result<CollectionInfo> {
        self.shared.with_library(|l| {
            l.store().add_to_collection(name, docs)?;
            Ok(l.store().collection(name)?)
        })
    }

    /// Takes documents out of a collection.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn remove_from_collection(&self, name: &str, docs: &[DocId]) -> Result<CollectionInfo> {
        self.shared.with_library(|l| {
            l.store().remove_from_collection(name, docs)?;
            Ok(l.store().collection(name)?)
        })
    }

    /// Renames a collection.
    ///
    /// # Errors
    ///
    /// [`Error::Library`] (no such collection, the name is taken or empty).
    pub fn rename_collection(&self, from: &str, to: &str) -> Result<CollectionInfo> {
        self.shared.with_library(|l| Ok(l.store().rename_collection(from, to)?))
    }

    /// Deletes a collection; its documents stay in the library.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn delete_collection(&self, name: &str) -> Result<()> {
        self.shared.with_library(|l| Ok(l.store().delete_collection(name)?))
    }

    // ----- questions and chats -----

    /// Answers `question`, streaming [`AnswerEvent`]s to `on_event` on this thread. An
    /// answer about documents is stored in a chat (a new one, or `question.chat`).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] (empty question, no such page), [`Error::NotRead`],
    /// [`Error::MemoryOfAnotherModel`], [`Error::Ask`], [`Error::Library`],
    /// [`Error::Engine`].
    pub fn ask(&self, question: &Question, mut on_event: impl FnMut(AnswerEvent)) -> Result<Answered> {
        asking::ask(&self.shared, question, &mut on_event)
    }

    /// The 0-based index of the page a person means by `label` (its printed label, else
    /// its 1-based number).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for a page the document does not have.
    pub fn page_index(&self, doc: DocId, label: &str) -> Result<u32> {
        self.shared.with_library(|l| asking::page_index(l, doc, label))
    }

    /// The stored chats, newest first.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn chats(&self) -> Result<Vec<ChatInfo>> {
        self.shared.with_library(|l| Ok(l.store().chats()?))
    }

    /// One chat.
    ///
    /// # Errors
    ///
    /// [`Error::Library`] (no such chat).
    pub fn chat(&self, chat: ChatId) -> Result<ChatInfo> {
        self.shared.with_library(|l| Ok(l.store().chat(chat)?))
    }

    /// A chat's messages, oldest first (answers with their citations as JSON).
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn chat_messages(&self, chat: ChatId) -> Result<Vec<MessageInfo>> {
        self.shared.with_library(|l| Ok(l.store().messages(chat)?))
    }

    /// A chat as Markdown, citations with their pages.
    ///
    /// # Errors
    ///
    /// [`Error::Ask`], [`Error::Library`].
    pub fn export_chat(&self, chat: ChatId) -> Result<String> {
        self.shared.with_library(|l| Ok(seahorse_ask::chat::export_markdown(l.store(), chat)?))
    }

    /// Deletes a chat.
    ///
    /// # Errors
    ///
    /// [`Error::Library`] (no such chat).
    pub fn remove_chat(&self, chat: ChatId) -> Result<()> {
        self.shared.with_library(|l| {
            if l.store().remove_chat(chat)? {
                Ok(())
            } else {
                Err(seahorse_library::Error::NoChat(chat).into())
            }
        })
    }

    /// What a title or collection name means in words, for a chat's scope.
    ///
    /// # Errors
    ///
    /// [`Error::Library`].
    pub fn describe_scope(&self, scope: &ChatScope) -> Result<String> {
        self.shared.with_library(|l| {
            Ok(match scope {
                ChatScope::Document { doc, as_of_page } => {
                    let title =
                        l.store().document(*doc).map(|d| d.title).unwrap_or_else(|_| "a removed document".into());
                    match as_of_page {
                        Some(p) => {
                            let pages = l.store().pages(*doc)?;
                            let label = pages
                                .get(*p as usize)
                                .map_or_else(|| (u64::from(*p) + 1).to_string(), |pg| pg.display_label.clone());
                            format!("{title} (as of page {label})")
                        }
                        None => title,
                    }
                }
                ChatScope::Corpus { collection: None } => "all documents".to_owned(),
                ChatScope::Corpus { collection: Some(id) } => format!("collection {}", l.store().collection_name(*id)?),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handle_is_shareable_between_threads() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Seahorse>();
        shareable::<Question>();
        shareable::<AnswerEvent>();
        shareable::<ReadingEvent>();
    }
}
