//! The commands: each one API call, run on a blocking thread, its error turned into the
//! message a person reads.

use std::path::PathBuf;

use seahorse_api::{
    AnswerEvent, Answered, BlockChoice, CancelToken, ChatId, ChatInfo, CollectionInfo, DocId, DocumentDetails,
    DocumentSummary, FetchProgress, JobInfo, MemoryEstimate, MessageInfo, ModelEntry, ModelRecommendation, Question,
    ReadingEvent, Scope, Seahorse, SearchHit, Settings,
};
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tauri_specta::Event;

use crate::AppState;

/// A command's error: the whole chain of causes, in words.
type Result<T> = std::result::Result<T, String>;

fn message(err: seahorse_api::Error) -> String {
    err.full_message()
}

/// Runs `f` with the API handle on a blocking thread.
async fn blocking<T: Send + 'static>(
    state: State<'_, AppState>,
    f: impl FnOnce(Seahorse) -> seahorse_api::Result<T> + Send + 'static,
) -> Result<T> {
    let seahorse = state.seahorse.clone();
    tauri::async_runtime::spawn_blocking(move || f(seahorse)).await.map_err(|e| e.to_string())?.map_err(message)
}

/// Reading progress, sent to the window as the `reading-update` event.
#[derive(Debug, Clone, Serialize, Type, Event)]
pub struct ReadingUpdate(pub ReadingEvent);

/// Starts the reading worker, forwarding its events to the window (no-op while it reads).
pub fn start_reading(app: &AppHandle, seahorse: &Seahorse) {
    let app = app.clone();
    match seahorse.start_reading(move |event| {
        let _ = ReadingUpdate(event).emit(&app);
    }) {
        Ok(()) | Err(seahorse_api::Error::AlreadyReading) => {}
        Err(e) => tracing_error(&e),
    }
}

fn tracing_error(e: &seahorse_api::Error) {
    eprintln!("seahorse-app: cannot start reading: {e}");
}

/// Everything the library sidebar shows.
#[derive(Debug, Clone, Serialize, Type)]
pub struct LibraryOverview {
    /// The documents with their memory.
    pub documents: Vec<DocumentSummary>,
    /// The collections.
    pub collections: Vec<CollectionInfo>,
    /// The ingestion jobs, newest first.
    pub jobs: Vec<JobInfo>,
    /// Whether the worker is reading.
    pub reading: bool,
}

#[tauri::command]
#[specta::specta]
pub async fn library_overview(state: State<'_, AppState>) -> Result<LibraryOverview> {
    blocking(state, |s| {
        Ok(LibraryOverview {
            documents: s.documents()?,
            collections: s.collections()?,
            jobs: s.jobs()?,
            reading: s.is_reading(),
        })
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn document_details(state: State<'_, AppState>, doc: DocId) -> Result<DocumentDetails> {
    blocking(state, move |s| s.document(doc)).await
}

#[tauri::command]
#[specta::specta]
pub async fn page_text(state: State<'_, AppState>, doc: DocId, page_index: u32) -> Result<String> {
    blocking(state, move |s| s.page_text(doc, page_index)).await
}

/// The 0-based page a label or 1-based number means.
#[tauri::command]
#[specta::specta]
pub async fn page_index(state: State<'_, AppState>, doc: DocId, label: String) -> Result<u32> {
    blocking(state, move |s| s.page_index(doc, &label)).await
}

/// Origins of the app's own pages (Linux and macOS, Windows over http and https): the only
/// ones the `doc:` protocol answers across origins.
const APP_ORIGINS: [&str; 3] = ["tauri://localhost", "http://tauri.localhost", "https://tauri.localhost"];

/// The response of the `doc:` protocol for `path` = `/<document id>`: the original file of
/// a document in the library (for pdf.js), or 404 with the reason. The app's page fetches it
/// from another origin (`doc://localhost` from `tauri://localhost`), so the response allows
/// exactly the app's origin.
pub fn document_response(app: &AppHandle, path: &str, origin: Option<&str>) -> tauri::http::Response<Vec<u8>> {
    let state = app.state::<AppState>();
    let result = path
        .trim_start_matches('/')
        .parse::<i64>()
        .map_err(|_| format!("no document {path:?}"))
        .and_then(|id| state.seahorse.document_file(DocId(id)).map_err(message));
    let mut builder = tauri::http::Response::builder().header("Cache-Control", "no-store");
    if let Some(origin) = origin.filter(|o| APP_ORIGINS.contains(o)) {
        builder = builder.header("Access-Control-Allow-Origin", origin).header("Vary", "Origin");
    }
    match result {
        Ok(bytes) => builder.status(200).header("Content-Type", "application/octet-stream").body(bytes),
        Err(reason) => {
            builder.status(404).header("Content-Type", "text/plain; charset=utf-8").body(reason.into_bytes())
        }
    }
    .expect("a valid response")
}

/// Queues files and folders (dropped or picked) and starts reading them.
#[tauri::command]
#[specta::specta]
pub async fn add_paths(
    app: AppHandle,
    state: State<'_, AppState>,
    paths: Vec<PathBuf>,
    collection: Option<String>,
) -> Result<Vec<seahorse_api::JobId>> {
    let jobs = blocking(state.clone(), move |s| s.add(&paths, collection.as_deref())).await?;
    start_reading(&app, &state.seahorse);
    Ok(jobs)
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_reading(state: State<'_, AppState>) -> Result<bool> {
    Ok(state.seahorse.cancel_reading())
}

/// Puts cancelled and failed jobs back in the queue and reads; how many were re-queued.
#[tauri::command]
#[specta::specta]
pub async fn resume_reading(app: AppHandle, state: State<'_, AppState>) -> Result<u32> {
    let n = blocking(state.clone(), |s| s.requeue_unfinished()).await?;
    start_reading(&app, &state.seahorse);
    Ok(n as u32)
}

#[tauri::command]
#[specta::specta]
pub async fn remove_document(state: State<'_, AppState>, doc: DocId) -> Result<()> {
    blocking(state, move |s| s.remove(doc)).await
}

#[tauri::command]
#[specta::specta]
pub async fn reread(app: AppHandle, state: State<'_, AppState>, doc: DocId) -> Result<seahorse_api::JobId> {
    let job = blocking(state.clone(), move |s| s.reread(doc)).await?;
    start_reading(&app, &state.seahorse);
    Ok(job)
}

#[tauri::command]
#[specta::specta]
pub async fn search(state: State<'_, AppState>, query: String, limit: u32) -> Result<Vec<SearchHit>> {
    blocking(state, move |s| s.search(&query, limit as usize)).await
}

#[tauri::command]
#[specta::specta]
pub async fn add_to_collection(state: State<'_, AppState>, name: String, docs: Vec<DocId>) -> Result<CollectionInfo> {
    blocking(state, move |s| s.add_to_collection(&name, &docs)).await
}

#[tauri::command]
#[specta::specta]
pub async fn remove_from_collection(
    state: State<'_, AppState>,
    name: String,
    docs: Vec<DocId>,
) -> Result<CollectionInfo> {
    blocking(state, move |s| s.remove_from_collection(&name, &docs)).await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_collection(state: State<'_, AppState>, name: String) -> Result<()> {
    blocking(state, move |s| s.delete_collection(&name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn rename_collection(state: State<'_, AppState>, from: String, to: String) -> Result<CollectionInfo> {
    blocking(state, move |s| s.rename_collection(&from, &to)).await
}

/// What the chat pane sends.
#[derive(Debug, Clone, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct QuestionArgs {
    /// The question.
    pub text: String,
    /// What it is about (ignored when continuing a chat).
    pub scope: Scope,
    /// Continue this chat.
    pub chat: Option<ChatId>,
    /// "As of page": a printed label or a 1-based number.
    pub as_of_page: Option<String>,
    /// Restore the memory.
    pub memory: bool,
    /// Place passages in the window.
    pub passages: bool,
}

/// Answers a question, streaming [`AnswerEvent`]s through `on_event`; one answer at a time
/// ([`stop_answer`] stops it, keeping what was said).
#[tauri::command]
#[specta::specta]
pub async fn ask(
    state: State<'_, AppState>,
    question: QuestionArgs,
    on_event: Channel<AnswerEvent>,
) -> Result<Answered> {
    let cancel = CancelToken::new();
    if let Some(previous) = state.answer.lock().unwrap_or_else(|e| e.into_inner()).replace(cancel.clone()) {
        previous.cancel();
    }
    let mut q = Question::new(question.text, question.scope);
    q.chat = question.chat;
    q.as_of_page = question.as_of_page;
    q.memory = question.memory;
    q.passages = question.passages;
    q.cancel = cancel;
    blocking(state, move |s| {
        s.ask(&q, |e| {
            let _ = on_event.send(e);
        })
    })
    .await
}

/// Stops the answer being made; whether there was one.
#[tauri::command]
#[specta::specta]
pub async fn stop_answer(state: State<'_, AppState>) -> Result<bool> {
    Ok(match state.answer.lock().unwrap_or_else(|e| e.into_inner()).take() {
        Some(token) => {
            token.cancel();
            true
        }
        None => false,
    })
}

#[tauri::command]
#[specta::specta]
pub async fn chats(state: State<'_, AppState>) -> Result<Vec<ChatInfo>> {
    blocking(state, |s| s.chats()).await
}

#[tauri::command]
#[specta::specta]
pub async fn chat_messages(state: State<'_, AppState>, chat: ChatId) -> Result<Vec<MessageInfo>> {
    blocking(state, move |s| s.chat_messages(chat)).await
}

/// Writes a chat as Markdown to `path` (chosen by the person in a save dialog).
#[tauri::command]
#[specta::specta]
pub async fn export_chat(state: State<'_, AppState>, chat: ChatId, path: PathBuf) -> Result<()> {
    blocking(state, move |s| {
        let markdown = s.export_chat(chat)?;
        std::fs::write(&path, markdown)
            .map_err(|e| seahorse_api::Error::Invalid(format!("cannot write {}: {e}", path.display())))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn remove_chat(state: State<'_, AppState>, chat: ChatId) -> Result<()> {
    blocking(state, move |s| s.remove_chat(chat)).await
}

#[tauri::command]
#[specta::specta]
pub async fn models(state: State<'_, AppState>) -> Result<Vec<ModelEntry>> {
    blocking(state, |s| Ok(s.models())).await
}

/// Fetches a catalogue model (checked against its pinned sha256), reporting progress; then
/// reading starts (the first run waits for this).
#[tauri::command]
#[specta::specta]
pub async fn fetch_model(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    on_progress: Channel<FetchProgress>,
) -> Result<PathBuf> {
    let path = blocking(state.clone(), move |s| {
        s.fetch_model(&id, |p| {
            let _ = on_progress.send(p);
        })
    })
    .await?;
    start_reading(&app, &state.seahorse);
    Ok(path)
}

/// Adds a Qwen2 GGUF the person picked and makes it the active model.
#[tauri::command]
#[specta::specta]
pub async fn add_model(app: AppHandle, state: State<'_, AppState>, path: PathBuf) -> Result<ModelEntry> {
    let entry = blocking(state.clone(), move |s| {
        let entry = s.add_model(&path)?;
        s.update_settings(|settings| {
            settings.model = entry.id.clone();
            if matches!(settings.block, BlockChoice::File(_)) {
                settings.block = BlockChoice::Shipped;
            }
        })?;
        Ok(entry)
    })
    .await?;
    start_reading(&app, &state.seahorse);
    Ok(entry)
}

/// Adds an AHN block (a block GGUF or an official checkpoint folder, converted) for `model`
/// (the active one if `None`) and makes it the active block.
#[tauri::command]
#[specta::specta]
pub async fn add_block(state: State<'_, AppState>, path: PathBuf, model: Option<String>) -> Result<PathBuf> {
    blocking(state, move |s| s.add_block(&path, model.as_deref(), true)).await
}

#[tauri::command]
#[specta::specta]
pub async fn settings(state: State<'_, AppState>) -> Result<Settings> {
    Ok(state.seahorse.settings())
}

#[tauri::command]
#[specta::specta]
pub async fn update_settings(state: State<'_, AppState>, settings: Settings) -> Result<Settings> {
    blocking(state, move |s| s.update_settings(|current| *current = settings)).await
}

/// The catalogue model for this machine and why (a new library starts with it).
#[tauri::command]
#[specta::specta]
pub async fn model_recommendation(state: State<'_, AppState>) -> Result<ModelRecommendation> {
    blocking(state, |s| Ok(s.model_recommendation())).await
}

/// The memory reading with `model`, W and S needs, before loading it.
#[tauri::command]
#[specta::specta]
pub async fn memory_estimate(
    state: State<'_, AppState>,
    model: String,
    window: u32,
    sinks: u32,
) -> Result<MemoryEstimate> {
    blocking(state, move |s| s.memory_estimate(&model, window, sinks)).await
}
