//! The hostile corpus: damaged, malicious and mislabelled files. Each must give a clear error
//! (right kind, message naming the problem) or a partial result with a warning that says
//! what was lost; never a panic, never a hang.

mod archives;
mod pdfs;
mod texts;

use std::path::Path;

use std::time::{Duration, Instant};

use seahorse_docs::{extract_bytes, Document, Error, ExtractConfig};

use crate::fixtures::guarded;

/// What a hostile input must yield.
pub enum Expect {
    /// An error of the kind `kind` accepts, whose message contains `mention`.
    Fails(fn(&Error) -> bool, &'static str),
    /// A document that `check` accepts, with a warning whose message contains `mention`
    /// (no warning required when `mention` is empty).
    Partial(fn(&Document) -> bool, &'static str),
}

pub struct Case {
    pub name: &'static str,
    /// The file name it is extracted under (its extension may lie).
    pub file: &'static str,
    pub bytes: Vec<u8>,
    pub config: ExtractConfig,
    pub expect: Expect,
}

impl Case {
    pub fn new(name: &'static str, file: &'static str, bytes: Vec<u8>, expect: Expect) -> Self {
        Self { name, file, bytes, config: ExtractConfig::default(), expect }
    }

    pub fn with_config(mut self, config: ExtractConfig) -> Self {
        self.config = config;
        self
    }
}

/// Runs one case on its own thread; returns a line for the report and whether it passed.
fn run(case: Case) -> (String, bool) {
    let Case { name, file, bytes, config, expect } = case;
    let started = Instant::now();
    let result = guarded(name, Duration::from_secs(120), move || {
        extract_bytes(Path::new(file), &bytes, &config, &seahorse_cancel::CancelToken::new(), |_| {})
    });
    let elapsed = started.elapsed();
    let (yielded, ok) = match (&result, &expect) {
        (Err(e), Expect::Fails(kind, mention)) => (format!("error: {e}"), kind(e) && e.to_string().contains(mention)),
        (Ok(doc), Expect::Partial(check, mention)) => {
            let warnings: Vec<String> = doc.warnings.iter().map(ToString::to_string).collect();
            let warned = mention.is_empty() || warnings.iter().any(|w| w.contains(mention));
            let summary = format!(
                "{} page(s); warnings: {}",
                doc.pages.len(),
                if warnings.is_empty() { "none".into() } else { warnings.join(" | ") }
            );
            (summary, check(doc) && warned)
        }
        (Err(e), Expect::Partial(..)) => (format!("UNEXPECTED error: {e}"), false),
        (Ok(doc), Expect::Fails(..)) => {
            (format!("UNEXPECTED success with {} page(s): {:?}", doc.pages.len(), doc.warnings), false)
        }
    };
    (format!("{name:<34} {file:<22} {:>6} ms  {yielded}", elapsed.as_millis()), ok)
}

#[test]
fn hostile_corpus_gives_clear_errors_or_partial_results() {
    let cases: Vec<Case> = pdfs::cases().into_iter().chain(archives::cases()).chain(texts::cases()).collect();
    let count = cases.len();
    assert!(count >= 30, "the corpus has only {count} inputs");
    let mut failures = Vec::new();
    for case in cases {
        let (line, ok) = run(case);
        eprintln!("{} {line}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            failures.push(line);
        }
    }
    eprintln!("{count} hostile inputs, {} failed", failures.len());
    assert!(failures.is_empty(), "hostile inputs with the wrong outcome:\n{}", failures.join("\n"));
}
