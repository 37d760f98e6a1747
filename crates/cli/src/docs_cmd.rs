//! `seahorse list`, `show`, `search`, `remove` and `jobs`: reading the library.

use std::io::IsTerminal;

use anyhow::Result;
use seahorse_library::{DocumentInfo, StateInfo};
use serde_json::json;

use crate::home::open_library;

/// How far a document's memory pass got, from its states.
fn memory_status(states: &[StateInfo]) -> &'static str {
    let fresh: Vec<_> = states.iter().filter(|s| !s.stale).collect();
    if fresh.iter().any(|s| s.is_final) {
        "read"
    } else if !fresh.is_empty() {
        "partly read"
    } else if !states.is_empty() {
        "stale"
    } else {
        "not read"
    }
}

fn mib(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// `seahorse list`.
pub fn list(json: bool) -> Result<()> {
    let library = open_library(json)?;
    let docs = library.store().documents()?;
    let mut rows = Vec::with_capacity(docs.len());
    for doc in &docs {
        let states = library.store().states(doc.id)?;
        rows.push((doc, memory_status(&states)));
    }
    if json {
        let list: Vec<_> = rows.iter().map(|(d, m)| json!({ "document": d, "memory": m })).collect();
        out!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    if rows.is_empty() {
        out!("the library is empty; add documents with `seahorse add <files|dirs>`");
        return Ok(());
    }
    out!("{:>4}  {:<40} {:<8} {:>6} {:>8}  memory", "id", "title", "format", "pages", "tokens");
    for (d, m) in rows {
        let tokens = d.token_count.map_or("–".to_owned(), |t| t.to_string());
        out!("{:>4}  {:<40} {:<8} {:>6} {:>8}  {m}", d.id, truncate(&d.title, 40), d.format, d.page_count, tokens);
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// `seahorse show <doc>`.
pub fn show(query: &str, json: bool) -> Result<()> {
    let library = open_library(json)?;
    let doc = library.find_document(query)?;
    let pages = library.store().pages(doc.id)?;
    let states = library.store().states(doc.id)?;
    let storage = library.document_storage(doc.id)?;
    let passages = library.passage_count(doc.id)?;
    if json {
        let pages: Vec<_> = pages
            .iter()
            .map(|p| {
                json!({
                    "index": p.index, "label": p.label, "display_label": p.display_label,
                    "locator": serde_json::from_str::<serde_json::Value>(&p.locator_json).unwrap_or_default(),
                    "token_start": p.token_start, "token_end": p.token_end, "chars": p.text.chars().count(),
                })
            })
            .collect();
        out!(
            "{}",
            json!({
                "document": doc, "memory": memory_status(&states), "pages": pages, "states": states,
                "storage": storage, "passages": passages,
            })
        );
        return Ok(());
    }
    print_document(&doc, memory_status(&states))?;
    out!(
        "storage:   text {}, index ≈{} ({passages} passages), {} state(s) {} raw → {} stored",
        mib(storage.text_bytes),
        mib(storage.index_bytes),
        storage.states,
        mib(storage.state_raw_bytes),
        mib(storage.state_stored_bytes)
    );
    for s in &states {
        let label = pages
            .get(s.page_index as usize)
            .map_or_else(|| (s.page_index + 1).to_string(), |p| p.display_label.clone());
        out!(
            "  state at token {:>7} (page {label}{}){}",
            s.position,
            if s.is_final { ", final" } else { "" },
            if s.stale { ", stale" } else { "" }
        );
    }
    out!("pages:");
    for p in &pages {
        let tokens = match (p.token_start, p.token_end) {
            (Some(a), Some(b)) => format!("tokens {a}–{b}"),
            _ => String::new(),
        };
        let first: String = p.text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(60).collect();
        out!("  {:>5}  {:<18} {first}", p.display_label, tokens);
    }
    Ok(())
}

fn print_document(doc: &DocumentInfo, memory: &str) -> Result<()> {
    out!("{} (id {})", doc.title, doc.id);
    out!("file:      {}", doc.source_path);
    out!("format:    {}, {} bytes, sha256 {}", doc.format, doc.size_bytes, &doc.sha256[..16]);
    out!("pages:     {}", doc.page_count);
    out!("tokens:    {}", doc.token_count.map_or("not tokenized yet".to_owned(), |t| t.to_string()));
    out!("memory:    {memory}");
    for w in &doc.warnings {
        out!("warning:   {w}");
    }
    Ok(())
}

/// `seahorse search <query>`.
pub fn search(query: &str, limit: usize, json: bool) -> Result<()> {
    let library = open_library(json)?;
    let hits = library.search(query, limit)?;
    if json {
        out!("{}", serde_json::to_string(&hits)?);
        return Ok(());
    }
    if hits.is_empty() {
        out!("no passages match {query:?}");
        return Ok(());
    }
    let (open, close) = if std::io::stdout().is_terminal() { ("\x1b[1m", "\x1b[0m") } else { ("«", "»") };
    for h in hits {
        out!("{} — p. {} (doc {}, score {:.2})", h.title, h.hit.page_label, h.hit.doc, h.hit.score);
        out!("    {}", h.hit.snippet_marked(open, close).replace('\n', " "));
    }
    Ok(())
}

/// `seahorse remove <doc>`.
pub fn remove(query: &str, json: bool) -> Result<()> {
    let library = open_library(json)?;
    let doc = library.find_document(query)?;
    library.remove(doc.id)?;
    if json {
        out!("{}", json!({ "removed": doc.id, "title": doc.title }));
    } else {
        out!("removed {} ({}) with its pages, index entries and memory states", doc.title, doc.id);
    }
    Ok(())
}

/// `seahorse index rebuild`.
pub fn rebuild_index(json: bool) -> Result<()> {
    let library = open_library(json)?;
    let sync = library.rebuild_index()?;
    if json {
        out!("{}", json!({ "reindexed": sync.reindexed, "removed": sync.removed, "generation": sync.to_generation }));
    } else {
        out!(
            "index rebuilt: {} documents re-indexed, {} removed (generation {})",
            sync.reindexed,
            sync.removed,
            sync.to_generation
        );
    }
    Ok(())
}

/// `seahorse jobs`.
pub fn jobs(json: bool) -> Result<()> {
    let library = open_library(json)?;
    let jobs = library.store().jobs()?;
    if json {
        out!("{}", serde_json::to_string(&jobs)?);
        return Ok(());
    }
    if jobs.is_empty() {
        out!("no jobs");
        return Ok(());
    }
    for j in jobs {
        let progress = if j.tokens_total > 0 {
            format!("page {}/{}, {}/{} tokens", j.pages_done, j.pages_total, j.tokens_done, j.tokens_total)
        } else {
            String::new()
        };
        out!("#{:<4} {:<10} {:<40} {progress}", j.id, j.state.to_string(), j.source_path);
        if let Some(e) = j.error {
            out!("       {e}");
        }
    }
    Ok(())
}

/// `seahorse jobs clear`.
pub fn clear_jobs(json: bool) -> Result<()> {
    let library = open_library(json)?;
    let n = library.store().clear_finished_jobs()?;
    if json {
        out!("{}", json!({ "cleared": n }));
    } else {
        out!("cleared {n} finished job(s)");
    }
    Ok(())
}
