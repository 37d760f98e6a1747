//! `seahorse add` and `seahorse jobs resume`: run the ingestion queue with a progress bar
//! on stderr; Ctrl-C cancels cleanly (the job stays resumable), a second Ctrl-C exits.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use seahorse_engine::CancelToken;
use seahorse_library::{IngestEvent, JobId, JobState, Library, Reader, RunSummary};

use crate::home::{library_dir, open_library, Reading, ReadingArgs};

/// Exit code after Ctrl-C.
pub const EXIT_CANCELLED: u8 = 130;

/// `seahorse add`. Returns the exit code.
pub fn add(paths: &[PathBuf], collection: Option<&str>, args: &ReadingArgs, json: bool) -> Result<u8> {
    if paths.is_empty() {
        bail!("nothing to add: name files or directories");
    }
    let library = open_library(json)?;
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let jobs = library.enqueue_paths(paths, now_ms)?;
    if jobs.is_empty() {
        bail!("no supported files found (extensions: {})", seahorse_library::SUPPORTED_EXTENSIONS.join(", "));
    }
    if !json {
        eprintln!("queued {} file(s)", jobs.len());
    }
    let code = run_queue(&library, args, json)?;
    if let Some(name) = collection {
        // Every document stored for these jobs (read or not: a cancelled one still joins).
        let docs: Vec<_> = jobs.iter().filter_map(|&j| library.store().job(j).ok().and_then(|j| j.doc)).collect();
        library.store().add_to_collection(name, &docs)?;
        if !json {
            eprintln!("added {} document(s) to the collection {name}", docs.len());
        }
    }
    Ok(code)
}

/// `seahorse jobs resume`. Returns the exit code.
pub fn resume(args: &ReadingArgs, json: bool) -> Result<u8> {
    let library = open_library(json)?;
    let requeued = library.store().requeue_unfinished()?;
    if !json {
        eprintln!("re-queued {requeued} cancelled or failed job(s)");
    }
    run_queue(&library, args, json)
}

fn run_queue(library: &Library, args: &ReadingArgs, json: bool) -> Result<u8> {
    let reading = Reading::resolve(&library_dir()?, args)?;
    let model = reading.load_model(json)?;
    let reader = Reader::new(&model, &reading.memory()?, reading.read_options())?;
    let cancel = CancelToken::new();
    let handler_token = cancel.clone();
    ctrlc::set_handler(move || {
        if handler_token.is_cancelled() {
            std::process::exit(EXIT_CANCELLED as i32);
        }
        handler_token.cancel();
        eprintln!("\ncancelling after the current chunk… (Ctrl-C again to quit at once)");
    })
    .context("installing the Ctrl-C handler")?;

    let mut bar = Bar::new(json);
    let mut finished: Vec<serde_json::Value> = Vec::new();
    let summary: RunSummary = library.run_jobs(&reader, &cancel, |event| {
        bar.on_event(event);
        if let IngestEvent::JobFinished { job, doc, state, error } = event {
            finished.push(serde_json::json!({ "job": job, "doc": doc, "state": state, "error": error }));
        }
    })?;
    bar.finish();
    if json {
        out!("{}", serde_json::json!({ "summary": summary, "jobs": finished, "fingerprint": reader.fingerprint() }));
    } else {
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
