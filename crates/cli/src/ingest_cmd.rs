//! `seahorse add` and `seahorse jobs resume`: the API reads the queue on its worker thread;
//! this module draws its events as a progress bar on stderr. Ctrl-C cancels cleanly (the
//! job stays resumable), a second Ctrl-C exits.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use seahorse_api::{IngestEvent, JobId, JobState, ReadingEvent, Seahorse};

use crate::reading_args::ReadingArgs;

/// Exit code after Ctrl-C.
pub const EXIT_CANCELLED: u8 = 130;

/// `seahorse add`. Returns the exit code.
pub fn add(
    seahorse: &Seahorse,
    paths: &[PathBuf],
    collection: Option<&str>,
    args: &ReadingArgs,
    json: bool,
) -> Result<u8> {
    args.save(seahorse)?;
    let jobs = seahorse.add(paths, collection)?;
    if !json {
        eprintln!("queued {} file(s)", jobs.len());
    }
    run_queue(seahorse, json)
}

/// `seahorse jobs resume`. Returns the exit code.
pub fn resume(seahorse: &Seahorse, args: &ReadingArgs, json: bool) -> Result<u8> {
    args.save(seahorse)?;
    let requeued = seahorse.requeue_unfinished()?;
    if !json {
        eprintln!("re-queued {requeued} cancelled or failed job(s)");
    }
    run_queue(seahorse, json)
}

/// `seahorse reread <doc>`. Returns the exit code.
pub fn reread(seahorse: &Seahorse, query: &str, json: bool) -> Result<u8> {
    let doc = seahorse.find_document(query)?;
    seahorse.reread(doc.id)?;
    if !json {
        eprintln!("reading {} again with {}", doc.title, seahorse.active_choice().describe());
    }
    run_queue(seahorse, json)
}

fn run_queue(seahorse: &Seahorse, json: bool) -> Result<u8> {
    let (tx, rx) = mpsc::channel();
    seahorse.start_reading(move |event| {
        let _ = tx.send(event);
    })?;
    let handler = seahorse.clone();
    let mut interrupted = false;
    ctrlc::set_handler(move || {
        if interrupted {
            std::process::exit(EXIT_CANCELLED as i32);
        }
        interrupted = true;
        handler.cancel_reading();
        eprintln!("\ncancelling after the current chunk… (Ctrl-C again to quit at once)");
    })
    .context("installing the Ctrl-C handler")?;

    let mut bar = Bar::new(json);
    let mut finished: Vec<serde_json::Value> = Vec::new();
    let mut fingerprint = None;
    let mut filed = Vec::new();
    for event in rx {
        match event {
            ReadingEvent::Fetch(p) => crate::models_cmd::progress(json)(p),
            ReadingEvent::Started(f) => fingerprint = Some(f),
            ReadingEvent::Ingest(e) => {
                bar.on_event(&e);
                if let IngestEvent::JobFinished { job, doc, state, error } = e {
                    finished.push(serde_json::json!({ "job": job, "doc": doc, "state": state, "error": error }));
                }
            }
            ReadingEvent::Filed { doc, collection } => filed.push((doc, collection)),
            ReadingEvent::Finished { .. } => break,
            _ => {}
        }
    }
    bar.finish();
    let summary = seahorse.wait_reading().context("the reading run vanished")??;
    if json {
        out!("{}", serde_json::json!({ "summary": summary, "jobs": finished, "fingerprint": fingerprint }));
    } else {
        if let Some((_, name)) = filed.first() {
            eprintln!("added {} document(s) to the collection {name}", filed.len());
        }
        eprintln!(
            "{} done, {} failed{}",
            summary.done,
            summary.failed,
            if summary.cancelled {
                "; cancelled: `seahorse jobs resume` continues from the last checkpoint"
            } else {
                ""
            }
        );
    }
    Ok(if summary.cancelled {
        EXIT_CANCELLED
    } else if summary.failed > 0 {
        2
    } else {
        0
    })
}

/// The progress bar: one line per job on stderr (hidden when stderr is not a terminal).
struct Bar {
    bar: Option<ProgressBar>,
    json: bool,
    name: String,
}

impl Bar {
    fn new(json: bool) -> Bar {
        Bar { bar: None, json, name: String::new() }
    }

    fn start(&mut self, job: JobId, name: String) {
        self.finish();
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        if self.json {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template("{prefix:.bold} [{bar:28}] {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("#{job} {name}"));
        bar.enable_steady_tick(Duration::from_millis(250));
        self.name = name;
        self.bar = Some(bar);
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn println(&self, line: String) {
        if self.json {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn on_event(&mut self, event: &IngestEvent) {
        match event {
            IngestEvent::JobStarted { job, path } => {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                self.start(*job, name);
            }
            IngestEvent::Stage { state, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(state.to_string());
                }
            }
            IngestEvent::Extracting { done, total, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("extracting {done}/{total}"));
                }
            }
            IngestEvent::Reading(p) => {
                if let Some(bar) = &self.bar {
                    bar.set_length(p.tokens_total);
                    bar.set_position(p.tokens_done);
                    let eta = p.eta.map_or("–".to_owned(), clock);
                    bar.set_message(format!(
                        "page {}/{} · {}/{} tokens · {:.0} tok/s · ETA {eta}",
                        p.pages_done, p.pages_total, p.tokens_done, p.tokens_total, p.tokens_per_second
                    ));
                }
            }
            IngestEvent::Checkpoint { .. } => {}
            IngestEvent::JobFinished { job, state, error, .. } => {
                let line = match state {
                    JobState::Done => format!("✓ #{job} {}", self.name),
                    JobState::Cancelled => format!("■ #{job} {} cancelled (resumable)", self.name),
                    _ => format!("✗ #{job} {}: {}", self.name, error.as_deref().unwrap_or("failed")),
                };
                self.finish();
                self.println(line);
            }
            _ => {}
        }
    }
}

/// `h:mm:ss` or `m:ss`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}
