//! Tauri's build step, pointed at the configuration at the repository root, with the app's
//! commands declared so that each needs an explicit permission in `capabilities/`.

fn main() {
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}

/// The commands of `src/commands.rs` (kept in step by a test in `src/lib.rs`).
const COMMANDS: &[&str] = &[
    "library_overview",
    "document_details",
    "page_text",
    "add_paths",
    "cancel_reading",
    "resume_reading",
    "remove_document",
    "reread",
    "search",
    "add_to_collection",
    "remove_from_collection",
    "delete_collection",
    "rename_collection",
    "ask",
    "stop_answer",
    "chats",
    "chat_messages",
    "export_chat",
    "remove_chat",
    "models",
    "fetch_model",
    "add_model",
    "add_block",
    "settings",
    "update_settings",
    "memory_estimate",
    "model_recommendation",
    "page_index",
];
