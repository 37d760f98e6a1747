//! `seahorse list`, `show`, `search`, `remove` and `jobs`: reading the library.

use std::io::IsTerminal;

use anyhow::Result;
use seahorse_api::{DocumentInfo, Seahorse};
use serde_json::json;

fn mib(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// `seahorse list`.
pub fn list(seahorse: &Seahorse, json: bool) -> Result<()> {
    let docs = seahorse.documents()?;
    if json {
        let list: Vec<_> = docs
            .iter()
            .map(|d| {
                json!({
                    "document": d.document, "memory": d.memory.state.as_str(),
                    "memory_built_with": d.memory.built_with, "memory_bytes": d.memory_bytes,
                })
            })
            .collect();
        out!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    if docs.is_empty() {
        out!("the library is empty; add documents with `seahorse add <files|dirs>`");
        return Ok(());
    }
    out!("{:>4}  {:<40} {:<8} {:>6} {:>8} {:>10}  memory", "id", "title", "format", "pages", "tokens", "memory size");
    for d in &docs {
        let doc = &d.document;
        let tokens = doc.token_count.map_or("–".to_owned(), |t| t.to_string());
        out!(
            "{:>4}  {:<40} {:<8} {:>6} {:>8} {:>10}  {}",
            doc.id,
            truncate(&doc.title, 40),
            doc.format,
            doc.page_count,
            tokens,
            mib(d.memory_bytes),
            d.memory.state.as_str()
        );
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
pub fn show(seahorse: &Seahorse, query: &str, json: bool) -> Result<()> {
    let doc = seahorse.find_document(query)?;
    let details = seahorse.document(doc.id)?;
    if json {
        out!("{}", serde_json::to_string(&details)?);
        return Ok(());
    }
    print_document(&doc, details.memory.state.as_str())?;
    if let Some(by) = &details.memory.built_with {
        out!("memory by: {by}");
    }
    let storage = &details.storage;
    out!(
        "storage:   text {}, index ≈{} ({} passages), {} state(s) {} raw → {} stored",
        mib(storage.text_bytes),
        mib(storage.index_bytes),
        details.passages,
        storage.states,
        mib(storage.state_raw_bytes),
        mib(storage.state_stored_bytes)
    );
    for s in &details.states {
        out!(
            "  state at token {:>7} (page {}{}) {}{}",
            s.position,
            s.page_label,
            if s.is_final { ", final" } else { "" },
            if s.memory_only { "AHN state alone" } else { "whole" },
            if s.current { String::new() } else { format!(", built with {}", s.built_with) }
        );
    }
    out!("pages:");
    let texts: Vec<String> =
        (0..details.pages.len() as u32).map(|i| seahorse.page_text(doc.id, i).unwrap_or_default()).collect();
    for (p, text) in details.pages.iter().zip(&texts) {
        let tokens = p.tokens.map(|(a, b)| format!("tokens {a}–{b}")).unwrap_or_default();
        let first: String = text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(60).collect();
        out!("  {:>5}  {:<18} {first}", p.label, tokens);
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
pub fn search(seahorse: &Seahorse, query: &str, limit: usize, json: bool) -> Result<()> {
    let hits = seahorse.search(query, limit)?;
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
pub fn remove(seahorse: &Seahorse, query: &str, json: bool) -> Result<()> {
    let doc = seahorse.find_document(query)?;
    seahorse.remove(doc.id)?;
    if json {
        out!("{}", json!({ "removed": doc.id, "title": doc.title }));
    } else {
        out!("removed {} ({}) with its pages, index entries and memory states", doc.title, doc.id);
    }
    Ok(())
}

/// `seahorse index rebuild`.
pub fn rebuild_index(seahorse: &Seahorse, json: bool) -> Result<()> {
    let sync = seahorse.rebuild_index()?;
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
pub fn jobs(seahorse: &Seahorse, json: bool) -> Result<()> {
    let jobs = seahorse.jobs()?;
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
pub fn clear_jobs(seahorse: &Seahorse, json: bool) -> Result<()> {
    let n = seahorse.clear_finished_jobs()?;
    if json {
        out!("{}", json!({ "cleared": n }));
    } else {
        out!("cleared {n} finished job(s)");
    }
    Ok(())
}
