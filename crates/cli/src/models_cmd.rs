//! `seahorse models …` and `seahorse info`: the models, their AHN blocks, the build.

use std::path::Path;

use anyhow::Result;
use seahorse_api::{BlockChoice, FetchProgress, Seahorse};

use crate::reading_args::ReadingArgs;

/// Fetch progress on stderr (nothing with `--json`).
pub fn progress(json: bool) -> impl FnMut(FetchProgress) {
    move |event| {
        if json {
            return;
        }
        match event {
            FetchProgress::Verifying => eprintln!("checking the model file"),
            FetchProgress::AlreadyPresent => eprintln!("model present and intact"),
            FetchProgress::Damaged { reason } => eprintln!("model file damaged ({reason}); fetching again"),
            FetchProgress::Downloading { parts } => eprintln!("downloading the model ({parts} parts)"),
            FetchProgress::Assembled { part, parts } => eprint!("\rassembling {part}/{parts}"),
            FetchProgress::Ready { path } => eprintln!("\nmodel ready: {}", path.display()),
        }
    }
}

/// `seahorse models fetch [ID]`.
pub fn fetch(seahorse: &Seahorse, model: Option<&str>, json: bool) -> Result<()> {
    let id = model.map_or_else(|| seahorse.settings().model, str::to_owned);
    let path = seahorse.fetch_model(&id, progress(json))?;
    if json {
        out!("{}", serde_json::json!({ "model": id, "path": path }));
    } else {
        out!("{}", path.display());
    }
    Ok(())
}

/// `seahorse models list`.
pub fn list(seahorse: &Seahorse, json: bool) -> Result<()> {
    let models = seahorse.models();
    if json {
        out!("{}", serde_json::to_string(&models)?);
        return Ok(());
    }
    let settings = seahorse.settings();
    for m in &models {
        let state = if m.path.is_some() { "on disk" } else { "not fetched" };
        out!("{} {:<34} {:<12} {}", if m.active { "*" } else { " " }, m.id, state, m.description);
    }
    let block = match &settings.block {
        BlockChoice::Shipped => "the shipped AHN block of the model (if it has one)".to_owned(),
        BlockChoice::None => "no AHN block".to_owned(),
        BlockChoice::File(p) => format!("AHN block {}", p.display()),
    };
    out!("active: {} with {block}, W={} S={}", settings.model, settings.reading.window, settings.reading.sinks);
    out!("cache:  {}", seahorse.paths().models.display());
    out!("for this machine: {} (`seahorse models recommend` says why)", seahorse.model_recommendation().model);
    Ok(())
}

/// `seahorse models recommend`.
pub fn recommend(seahorse: &Seahorse, json: bool) -> Result<()> {
    let r = seahorse.model_recommendation();
    if json {
        out!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    out!("{}", r.reason);
    if seahorse.settings().model != r.model {
        out!("active: {} (choose with `seahorse models use {}`)", seahorse.settings().model, r.model);
    }
    Ok(())
}

/// `seahorse models add PATH.gguf`.
pub fn add(seahorse: &Seahorse, path: &Path, activate: bool, json: bool) -> Result<()> {
    let entry = seahorse.add_model(path)?;
    if activate {
        seahorse.update_settings(|s| {
            s.model = entry.id.clone();
            // A block belongs to one model; the new one starts without.
            if matches!(s.block, BlockChoice::File(_)) {
                s.block = BlockChoice::Shipped;
            }
        })?;
    }
    if json {
        out!("{}", serde_json::json!({ "model": entry, "active": activate }));
    } else {
        eprintln!(
            "added model {} ({}){}",
            entry.id,
            path.display(),
            if activate { "; it is now the active model" } else { "" }
        );
    }
    Ok(())
}

/// `seahorse models add-ahn DIR|FILE`.
pub fn add_ahn(seahorse: &Seahorse, source: &Path, model: Option<&str>, activate: bool, json: bool) -> Result<()> {
    let path = seahorse.add_block(source, model, activate)?;
    if json {
        out!("{}", serde_json::json!({ "block": path, "active": activate }));
    } else {
        eprintln!("added AHN block {}{}", path.display(), if activate { "; it is now the active block" } else { "" });
    }
    Ok(())
}

/// `seahorse models use ID [reading flags]`.
pub fn use_model(seahorse: &Seahorse, model: &str, reading: &ReadingArgs, json: bool) -> Result<()> {
    let reading = ReadingArgs { model: Some(model.to_owned()), ..reading.clone() };
    let settings = reading.save(seahorse)?;
    if json {
        out!("{}", serde_json::to_string(&settings)?);
    } else {
        eprintln!("active model: {} (W={} S={})", settings.model, settings.reading.window, settings.reading.sinks);
    }
    Ok(())
}

/// `seahorse info`.
pub fn info(seahorse: &Seahorse, json: bool) -> Result<()> {
    let info = seahorse.build_info()?;
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
