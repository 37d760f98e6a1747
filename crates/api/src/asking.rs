//! Questions: about one document, a collection, the whole library, or the model alone.
//! Every answer about documents is stored in a chat. The memory state used is one built
//! with the model and settings the question is asked with; when the document was read with
//! another model that is still available, that model answers this question (nothing is
//! saved as a setting), and otherwise the error says what built the memory.

use std::time::{SystemTime, UNIX_EPOCH};

use seahorse_ask::chat::{chat_title, ChatAnswer, ChatEvent};
use seahorse_ask::corpus::{CorpusEvent, CorpusOptions, RankedDocument};
use seahorse_ask::{AskEvent, AskOptions, Asker, GivenPassage};
use seahorse_engine::{CancelToken, ChatMessage, GenerateOptions, Model, ModelOptions, Priority, Role};
use seahorse_library::{ChatId, ChatScope, DocId, Fingerprint, Library};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::models::{self, FetchProgress};
use crate::runtime::{self, Choice, Resolved};
use crate::settings::{BlockChoice, ReadingSettings, Settings};
use crate::Shared;

/// What a question is about.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Scope {
    /// The model alone, without the library (nothing is stored).
    Model,
    /// One document.
    Document(DocId),
    /// The documents of a collection.
    Collection(String),
    /// Every document in the library.
    Library,
}

/// A question and how to answer it. [`Question::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct Question {
    /// The question.
    pub text: String,
    /// What it is about; ignored when continuing a chat (the chat's scope holds).
    pub scope: Scope,
    /// Continue this chat instead of starting one.
    pub chat: Option<ChatId>,
    /// Answer as of this page (its printed label, else its 1-based number): memory and
    /// passages stop there. Document questions only.
    pub as_of_page: Option<String>,
    /// Restore the document's memory (off: passages alone).
    pub memory: bool,
    /// Place passages found by full-text search in the window (off: memory alone).
    pub passages: bool,
    /// Most passages.
    pub max_passages: usize,
    /// Most tokens of passages (`None`: half the window).
    pub passage_tokens: Option<usize>,
    /// Documents consulted at most by a collection or library question.
    pub max_documents: usize,
    /// Longest answer in tokens.
    pub max_tokens: usize,
    /// Another model, block or reading settings for this question only (`None`: the
    /// library's, or the ones that built the document's memory).
    pub with: Option<Choice>,
    /// Stops the answer (what was said so far is kept).
    pub cancel: CancelToken,
}

impl Question {
    /// A question with the default answer settings.
    pub fn new(text: impl Into<String>, scope: Scope) -> Question {
        let d = AskOptions::default();
        Question {
            text: text.into(),
            scope,
            chat: None,
            as_of_page: None,
            memory: d.memory,
            passages: d.passages,
            max_passages: d.max_passages,
            passage_tokens: d.passage_tokens,
            max_documents: CorpusOptions::default().max_documents,
            max_tokens: d.max_tokens,
            with: None,
            cancel: CancelToken::new(),
        }
    }
}

/// A passage given to the model, as shown to a person.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PassageRef {
    /// The document.
    pub doc: DocId,
    /// 0-based page index (for opening the page).
    pub page_index: u32,
    /// The page's printed label.
    pub page_label: String,
    /// Its tokens in the prompt.
    pub tokens: usize,
}

impl From<&GivenPassage> for PassageRef {
    fn from(p: &GivenPassage) -> Self {
        PassageRef { doc: DocId(p.doc), page_index: p.page_index, page_label: p.page_label.clone(), tokens: p.tokens }
    }
}

/// What happens while an answer is made; a GUI forwards these as events.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AnswerEvent {
    /// The model is being fetched.
    Fetch {
        /// Progress.
        progress: FetchProgress,
    },
    /// The document's memory was built with another model or settings than the library's
    /// current ones; this question uses those.
    UsingMemoryOf {
        /// The model and settings.
        choice: Choice,
    },
    /// The memory is ready.
    Restored {
        /// Tokens of the document it holds.
        position: u64,
        /// 0-based page of its last token.
        page_index: u32,
        /// Whether it is the memory of the whole document.
        is_final: bool,
    },
    /// "As of page N": pages after the nearest checkpoint are being read.
    CatchingUp {
        /// Tokens read.
        done: usize,
        /// Tokens to read.
        total: usize,
    },
    /// The passages placed in the window.
    Passages {
        /// Which.
        passages: Vec<PassageRef>,
    },
    /// Prompt tokens evaluated.
    Prefill {
        /// Done.
        done: usize,
        /// In all.
        total: usize,
    },
    /// The documents a collection or library question consults, best first.
    Ranked {
        /// Them.
        documents: Vec<RankedDocument>,
    },
    /// A document is being consulted.
    Consulting {
        /// Which.
        document: RankedDocument,
    },
    /// A document could not be consulted.
    Skipped {
        /// Which.
        document: RankedDocument,
        /// Why.
        reason: String,
    },
    /// The next piece of the answer (citations validated).
    Text {
        /// The piece.
        text: String,
    },
}

impl AnswerEvent {
    fn from_ask(e: AskEvent<'_>) -> Option<AnswerEvent> {
        Some(match e {
            AskEvent::Restored { position, page_index, is_final } => {
                AnswerEvent::Restored { position, page_index, is_final }
            }
            AskEvent::CatchingUp { done, total } => AnswerEvent::CatchingUp { done, total },
            AskEvent::Passages(p) => AnswerEvent::Passages { passages: p.iter().map(PassageRef::from).collect() },
            AskEvent::Prefill { done, total } => AnswerEvent::Prefill { done, total },
            AskEvent::Text(t) => AnswerEvent::Text { text: t.to_owned() },
            _ => return None,
        })
    }

    fn from_chat(e: ChatEvent<'_>) -> Option<AnswerEvent> {
        match e {
            ChatEvent::Document(e) => Self::from_ask(e),
            ChatEvent::Corpus(CorpusEvent::Ranked(d)) => Some(AnswerEvent::Ranked { documents: d.to_vec() }),
            ChatEvent::Corpus(CorpusEvent::Document { document, event: AskEvent::Restored { .. } }) => {
                Some(AnswerEvent::Consulting { document: document.clone() })
            }
            ChatEvent::Corpus(CorpusEvent::Skipped { document, reason }) => {
                Some(AnswerEvent::Skipped { document: document.clone(), reason })
            }
            ChatEvent::Corpus(CorpusEvent::Text(t)) => Some(AnswerEvent::Text { text: t.to_owned() }),
            _ => None,
        }
    }
}

/// An answered question.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answered {
    /// The chat it is stored in (`None` for a question to the model alone).
    pub chat: Option<ChatId>,
    /// The answer: text, validated citations with pages, sources, timings.
    pub answer: Reply,
    /// The model and settings that answered.
    pub choice: Choice,
}

/// The answer itself.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Reply {
    /// From the library (one document, a collection, all).
    Library(Box<ChatAnswer>),
    /// From the model alone.
    Model {
        /// The text.
        text: String,
        /// Why it ended.
        stop: String,
    },
}

impl Reply {
    /// The text shown.
    pub fn text(&self) -> &str {
        match self {
            Reply::Library(a) => a.text(),
            Reply::Model { text, .. } => text,
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The 0-based page a person means by `label`: a page labelled exactly so, else a 1-based
/// page number.
pub(crate) fn page_index(library: &Library, doc: DocId, label: &str) -> Result<u32> {
    let pages = library.store().pages(doc)?;
    let label = label.trim();
    if let Some(p) = pages.iter().find(|p| p.display_label.eq_ignore_ascii_case(label)) {
        return Ok(p.index);
    }
    match label.parse::<u32>() {
        Ok(n) if n >= 1 && (n as usize) <= pages.len() => Ok(n - 1),
        _ => Err(Error::Invalid(format!("the document has no page {label:?} (it has {} pages)", pages.len()))),
    }
}

pub(crate) fn ask(shared: &Shared, q: &Question, on_event: &mut dyn FnMut(AnswerEvent)) -> Result<Answered> {
    let _span = tracing::info_span!("ask", scope = ?q.scope, chat = q.chat.map(|c| c.0)).entered();
    if q.text.trim().is_empty() {
        return Err(Error::Invalid("the question is empty".into()));
    }
    let settings = shared.settings();
    if q.scope == Scope::Model && q.chat.is_none() {
        return ask_model(shared, &settings, q, on_event);
    }
    shared.with_library(|library| {
        let chat = match q.chat {
            Some(id) => id,
            None => new_chat(library, q)?,
        };
        let info = library.store().chat(chat)?;
        let choice = match (&q.with, info.scope) {
            (Some(c), _) => c.clone(),
            (None, ChatScope::Document { doc, .. }) if q.memory => {
                let choice = choice_for_document(shared, &settings, library, doc)?;
                if choice != Choice::active(&settings) {
                    on_event(AnswerEvent::UsingMemoryOf { choice: choice.clone() });
                }
                choice
            }
            (None, _) => Choice::active(&settings),
        };
        let resolved =
            Resolved::new(choice, &settings, &shared.paths, &mut |p| on_event(AnswerEvent::Fetch { progress: p }))?;
        let model = shared.models.get(&resolved)?;
        let reader = runtime::reader(&model, &resolved, &shared.gate, Priority::Interactive)?;
        let asker = Asker::new(library, &reader);
        let document = AskOptions {
            memory: q.memory,
            passages: q.passages,
            max_passages: q.max_passages,
            passage_tokens: q.passage_tokens,
            as_of_page: None,
            as_of_from: Default::default(),
            max_tokens: q.max_tokens,
            unsure_below: seahorse_models::ModelSpec::by_id(&resolved.choice.model)
                .map_or(seahorse_ask::grounding::MIN_MEAN_LOGPROB, |spec| spec.unsure_below),
            cancel: q.cancel.clone(),
        };
        let corpus = CorpusOptions {
            max_documents: q.max_documents,
            // Each consulted document's own answer only feeds the combined one: keep it short.
            per_document: AskOptions { max_tokens: q.max_tokens.min(160), ..document.clone() },
            max_tokens: q.max_tokens,
            ..CorpusOptions::default()
        };
        let answer = asker.ask_in_chat(chat, &q.text, &document, &corpus, now_ms(), |e| {
            if let Some(e) = AnswerEvent::from_chat(e) {
                on_event(e);
            }
        })?;
        Ok(Answered { chat: Some(chat), answer: Reply::Library(Box::new(answer)), choice: resolved.choice })
    })
}

fn new_chat(library: &Library, q: &Question) -> Result<ChatId> {
    let scope = match &q.scope {
        Scope::Model => return Err(Error::Invalid("a question to the model alone is not kept as a chat".into())),
        Scope::Document(doc) => {
            library.store().document(*doc)?;
            let as_of_page = match &q.as_of_page {
                Some(label) => Some(page_index(library, *doc, label)?),
                None => None,
            };
            ChatScope::Document { doc: *doc, as_of_page }
        }
        Scope::Collection(name) if q.as_of_page.is_none() => {
            ChatScope::Corpus { collection: Some(library.store().collection(name)?.id) }
        }
        Scope::Library if q.as_of_page.is_none() => ChatScope::Corpus { collection: None },
        _ => return Err(Error::Invalid("\"as of page\" applies to a question about one document".into())),
    };
    Ok(library.store().create_chat(scope, &chat_title(&q.text), now_ms())?)
}

/// The model alone: no library, nothing stored.
fn ask_model(
    shared: &Shared,
    settings: &Settings,
    q: &Question,
    on_event: &mut dyn FnMut(AnswerEvent),
) -> Result<Answered> {
    let choice = q.with.clone().unwrap_or_else(|| Choice::active(settings));
    let path = models::model_path(settings, &shared.paths, &choice.model, &mut |p| {
        on_event(AnswerEvent::Fetch { progress: p })
    })?;
    let model = Model::load(&path, &ModelOptions { gpu_layers: settings.gpu_layers, memory: None })?;
    let messages = [
        ChatMessage::new(Role::System, "You are a helpful assistant. Answer briefly and accurately."),
        ChatMessage::new(Role::User, q.text.as_str()),
    ];
    let options = GenerateOptions {
        max_tokens: q.max_tokens,
        n_threads: choice.reading.threads,
        cancel: q.cancel.clone(),
        ..GenerateOptions::default()
    };
    let _pass = shared.gate.enter(Priority::Interactive);
    let generation = model.chat(&messages, &options, |e| {
        if let seahorse_engine::Event::Text(t) = e {
            on_event(AnswerEvent::Text { text: t.to_owned() });
        }
    })?;
    let stop = format!("{:?}", generation.stop).to_lowercase();
    Ok(Answered { chat: None, answer: Reply::Model { text: generation.text, stop }, choice })
}

/// The model and settings to answer about `doc` with: the library's current ones when the
/// document has memory built with them; else the ones that built its memory, when that
/// model (and block) is still here; else an error saying which they were.
pub(crate) fn choice_for_document(
    shared: &Shared,
    settings: &Settings,
    library: &Library,
    doc: DocId,
) -> Result<Choice> {
    let active = Choice::active(settings);
    let states = library.store().states(doc)?;
    let title = library.store().document(doc)?.title;
    if states.is_empty() {
        return Err(Error::NotRead { title });
    }
    if let Some(key) = current_key(shared, settings, &active) {
        if states.iter().any(|s| s.fingerprint == key) {
            return Ok(active);
        }
    }
    // The newest state's maker, if it is still available.
    let newest = states.iter().filter(|s| !s.stale).max_by_key(|s| (s.is_final, s.position)).or(states.first());
    let Some(fingerprint) = newest.and_then(|s| Fingerprint::from_key(&s.fingerprint)) else {
        return Err(Error::NotRead { title });
    };
    match choice_from_fingerprint(shared, settings, &fingerprint) {
        Some(choice) => Ok(choice),
        None => Err(Error::MemoryOfAnotherModel { title, wanted: active.describe(), built: fingerprint.describe() }),
    }
}

/// The fingerprint key of `choice` when its files are here (no fetching).
pub(crate) fn current_key(shared: &Shared, settings: &Settings, choice: &Choice) -> Option<String> {
    let mut no_fetch = |_| {};
    let local = settings.local_model(&choice.model).is_some();
    let present = local
        || seahorse_models::ModelSpec::by_id(&choice.model)
            .and_then(|s| seahorse_models::locate(s, &shared.paths.models))
            .is_some();
    if !present {
        return None;
    }
    let resolved = Resolved::new(choice.clone(), settings, &shared.paths, &mut no_fetch).ok()?;
    resolved.fingerprint().ok().map(|f| f.key())
}

/// A choice whose fingerprint equals `fp`, among the models and blocks on this machine.
pub(crate) fn choice_from_fingerprint(shared: &Shared, settings: &Settings, fp: &Fingerprint) -> Option<Choice> {
    let reading = ReadingSettings {
        window: fp.window,
        sinks: fp.sinks,
        chunk_tokens: fp.chunk_tokens,
        ..settings.reading.clone()
    };
    let blocks = [BlockChoice::Shipped, BlockChoice::None, settings.block.clone()];
    for entry in models::list(settings, &shared.paths) {
        let Some(path) = &entry.path else { continue };
        if path.file_name().map(|n| n.to_string_lossy().into_owned()).as_deref() != Some(fp.model_file.as_str())
            || entry.size != fp.model_bytes
        {
            continue;
        }
        for block in &blocks {
            let choice = Choice { model: entry.id.clone(), block: block.clone(), reading: reading.clone() };
            if current_key(shared, settings, &choice).is_some_and(|k| k == fp.key()) {
                return Some(choice);
            }
        }
    }
    None
}
