//! `seahorse models …`, `seahorse info` and `seahorse ask`: the model cache and the plain
//! question path.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use seahorse_engine::{ChatMessage, Engine, Event, GenerateOptions, Model, ModelOptions, Role};
use seahorse_models::{FetchEvent, ModelSpec};

/// The catalogue entry for `id`.
pub fn spec(id: &str) -> Result<&'static ModelSpec> {
    match ModelSpec::by_id(id) {
        Some(s) => Ok(s),
        None => {
            let known: Vec<_> = seahorse_models::CATALOG.iter().map(|m| m.id).collect();
            bail!("unknown model {id:?}; known models: {}", known.join(", "))
        }
    }
}

/// The model's path, fetching it first when it is not in the cache.
pub fn ensure_model(spec: &'static ModelSpec, quiet: bool) -> Result<PathBuf> {
    let dir = seahorse_models::cache_dir();
    if let Some(path) = seahorse_models::locate(spec, &dir) {
        return Ok(path);
    }
    let path = seahorse_models::fetch(spec, &dir, |event| {
        if quiet {
            return;
        }
        match event {
            FetchEvent::Verifying(p) => eprintln!("checking {}", p.display()),
            FetchEvent::AlreadyPresent(_) => eprintln!("model present and intact"),
            FetchEvent::Damaged { reason, .. } => {
                eprintln!("model file damaged ({reason}); fetching again")
            }
            FetchEvent::Downloading { parts } => {
                eprintln!("downloading {} ({parts} parts)", spec.id)
            }
            FetchEvent::Assembled { part, parts } => eprint!("\rassembling {part}/{parts}"),
            FetchEvent::Ready(p) => eprintln!("\nmodel ready: {}", p.display()),
        }
    })
    .with_context(|| format!("fetching model {}", spec.id))?;
    Ok(path)
}

/// `seahorse models fetch`.
pub fn fetch(model: &str, json: bool) -> Result<()> {
    let path = ensure_model(spec(model)?, json)?;
    if json {
        out!("{}", serde_json::json!({ "model": model, "path": path }));
    } else {
        out!("{}", path.display());
    }
    Ok(())
}

/// `seahorse models list`.
pub fn list(json: bool) -> Result<()> {
    let dir = seahorse_models::cache_dir();
    let rows: Vec<_> = seahorse_models::CATALOG.iter().map(|m| (m, seahorse_models::locate(m, &dir))).collect();
    if json {
        let list: Vec<_> = rows
            .iter()
            .map(|(m, p)| {
                serde_json::json!({
                    "id": m.id, "description": m.description, "size": m.size,
                    "sha256": m.sha256, "path": p,
                })
            })
            .collect();
        out!("{}", serde_json::Value::Array(list));
    } else {
        for (m, p) in rows {
            let state = if p.is_some() { "fetched" } else { "not fetched" };
            out!("{:<20} {:<12} {}", m.id, state, m.description);
        }
        out!("cache: {}", dir.display());
    }
    Ok(())
}

/// `seahorse info`.
pub fn info(json: bool) -> Result<()> {
    let info = Engine::get()?.build_info();
    if json {
        out!(
            "{}",
            serde_json::json!({
                "patch_rev": info.patch_rev, "cpu_features": info.cpu_features,
                "system_info": info.system_info,
            })
        );
    } else {
        out!("patch revision: {}", info.patch_rev);
        out!("CPU features:   {}", info.cpu_features.join(" "));
        out!("llama.cpp:      {}", info.system_info);
    }
    Ok(())
}

/// `seahorse ask`.
pub fn ask(path: &Path, question: &str, max_tokens: usize, threads: Option<i32>, json: bool) -> Result<()> {
    let model = Model::load(path, &ModelOptions::default())?;
    let messages = [
        ChatMessage::new(Role::System, "You are a helpful assistant. Answer briefly and accurately."),
        ChatMessage::new(Role::User, question),
    ];
    let options = GenerateOptions { max_tokens, n_threads: threads, ..GenerateOptions::default() };
    let mut stdout = std::io::stdout().lock();
    let generation = model.chat(&messages, &options, |event| {
        if let (Event::Text(piece), false) = (event, json) {
            let _ = stdout.write_all(piece.as_bytes());
            let _ = stdout.flush();
        }
    })?;
    if json {
        out!(
            "{}",
            serde_json::json!({
                "answer": generation.text,
                "stop": format!("{:?}", generation.stop),
                "prompt_tokens": generation.prompt_tokens,
                "generated_tokens": generation.generated_tokens,
                "prefill_seconds": generation.prefill_time.as_secs_f64(),
                "decode_seconds": generation.decode_time.as_secs_f64(),
            })
        );
    } else {
        out!();
    }
    Ok(())
}
