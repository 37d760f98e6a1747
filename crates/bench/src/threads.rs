//! Suite `threads`: reading throughput at each thread count, and the AHN memory's cost over
//! the sliding window alone, measured so that a shared machine's slow spells cannot decide
//! it. For each repetition, each thread count and each mode (interleaved, so that a slow
//! spell hits every mode alike), a child process (`stream-worker`) streams N tokens in
//! chunks; a run's throughput is taken after its first chunk (warm-up, and with W + S =
//! 1,088 the first tokens evict nothing). Reported: median and min–max over repetitions, and
//! the AHN / window ratio of each repetition (same thread count, run back to back).
//!
//! Every run is kept in `threads.json` under its label (default: the engine's patch
//! revision), so an engine change shows its before and after.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::stats::Summary;
use crate::stream::{run_worker, Point, StreamArgs};

/// Options of the suite.
#[derive(clap::Args, Clone)]
pub struct ThreadsArgs {
    /// Thread counts.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads: Vec<i32>,
    /// Tokens streamed per run.
    #[arg(long, default_value_t = 6144)]
    pub tokens: usize,
    /// Tokens per chunk; the first chunk is not counted.
    #[arg(long, default_value_t = 2048)]
    pub chunk: usize,
    /// Repetitions of every (thread count, mode).
    #[arg(long, default_value_t = 3)]
    pub repetitions: usize,
    /// W (default: the library's default reading settings).
    #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().window)]
    pub window: u32,
    /// S (default: the library's default reading settings).
    #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().sinks)]
    pub sinks: u32,
    /// Modes (`window`, `ahn`, `full`).
    #[arg(long, value_delimiter = ',', default_value = "window,ahn")]
    pub modes: Vec<String>,
    /// What this run measures (e.g. "before patch 0005"); default: "patch revision <rev>".
    /// A run replaces an earlier one with the same label.
    #[arg(long)]
    pub label: Option<String>,
}

/// One thread count of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ThreadsRow {
    pub threads: i32,
    /// Tokens/s after the first chunk, per mode.
    pub modes: Vec<(String, Summary)>,
    /// AHN / window throughput of each repetition.
    pub ahn_over_window: Option<Summary>,
}

/// One run of the suite.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ThreadsRun {
    pub label: String,
    pub patch_rev: String,
    pub run_unix_s: u64,
    pub model: String,
    pub cpu: String,
    pub tokens: usize,
    pub chunk: usize,
    pub window: u32,
    pub sinks: u32,
    pub repetitions: usize,
    pub rows: Vec<ThreadsRow>,
}

/// Every run, oldest first.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ThreadsReport {
    pub runs: Vec<ThreadsRun>,
}

/// Throughput over the chunks after the first: their tokens over their summed time.
pub fn steady_tokens_per_s(points: &[Point]) -> Option<f64> {
    let (mut tokens, mut seconds) = (0.0, 0.0);
    for pair in points.windows(2) {
        let n = pair[1].position.saturating_sub(pair[0].position) as f64;
        if pair[1].tokens_per_s > 0.0 {
            tokens += n;
            seconds += n / pair[1].tokens_per_s;
        }
    }
    (seconds > 0.0).then(|| tokens / seconds)
}

pub fn run(args: &ThreadsArgs, out: &Path) -> Result<()> {
    if let Some(bad) = args.modes.iter().find(|m| !["window", "ahn", "full"].contains(&m.as_str())) {
        bail!("unknown mode {bad:?} (modes: window, ahn, full)");
    }
    if args.tokens < 2 * args.chunk {
        bail!("--tokens must be at least two chunks (the first one is not counted)");
    }
    let info = seahorse_engine::Engine::get()?.build_info();
    let run_unix_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    // samples[thread index][mode index][repetition]
    let mut samples = vec![vec![Vec::new(); args.modes.len()]; args.threads.len()];
    for rep in 0..args.repetitions.max(1) {
        for (ti, &threads) in args.threads.iter().enumerate() {
            for (mi, mode) in args.modes.iter().enumerate() {
                let stream = StreamArgs {
                    tokens: args.tokens,
                    chunk: args.chunk,
                    window: args.window,
                    sinks: args.sinks,
                    full_max: args.tokens,
                    threads,
                    modes: vec![mode.clone()],
                };
                let result = run_worker(&stream, mode, |_| {})?;
                let tps = steady_tokens_per_s(&result.points).context("the worker measured no chunk")?;
                eprintln!("threads: rep {} — {threads} thread(s), {mode}: {tps:.1} tok/s", rep + 1);
                samples[ti][mi].push(tps);
            }
        }
    }
    let index = |name: &str| args.modes.iter().position(|m| m == name);
    let rows = args
        .threads
        .iter()
        .enumerate()
        .map(|(ti, &threads)| ThreadsRow {
            threads,
            modes: args.modes.iter().cloned().zip(samples[ti].iter().map(|s| Summary::of(s))).collect(),
            ahn_over_window: index("ahn").zip(index("window")).map(|(a, w)| {
                let ratios: Vec<f64> = samples[ti][a].iter().zip(&samples[ti][w]).map(|(a, w)| a / w).collect();
                Summary::of(&ratios)
            }),
        })
        .collect();
    let run = ThreadsRun {
        label: args.label.clone().unwrap_or_else(|| default_label(&info.patch_rev)),
        patch_rev: info.patch_rev,
        run_unix_s,
        model: seahorse_models::DEFAULT_MODEL.id.to_owned(),
        cpu: seahorse_engine::cpu_name(),
        tokens: args.tokens,
        chunk: args.chunk,
        window: args.window,
        sinks: args.sinks,
        repetitions: args.repetitions.max(1),
        rows,
    };
    let dir = out.join("bench");
    let path = dir.join("threads.json");
    let mut report: ThreadsReport = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?,
        Err(_) => ThreadsReport::default(),
    };
    report.add(run);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    Ok(())
}

fn default_label(patch_rev: &str) -> String {
    format!("patch revision {patch_rev}")
}

fn span(s: &Summary, digits: usize) -> String {
    format!("{:.d$} ({:.d$}–{:.d$})", s.median, s.min, s.max, d = digits)
}

impl ThreadsReport {
    /// Adds a run, replacing an earlier one with the same label.
    pub fn add(&mut self, run: ThreadsRun) {
        self.runs.retain(|r| r.label != run.label);
        self.runs.push(run);
    }

    /// AHN / window at `threads` threads in the newest run.
    pub fn ahn_over_window(&self, threads: i32) -> Option<Summary> {
        self.runs.last()?.rows.iter().find(|r| r.threads == threads)?.ahn_over_window.clone()
    }

    /// The report's section of benchmarks.md: the newest run, then every run's AHN / window.
    pub fn markdown(&self) -> String {
        let Some(last) = self.runs.last() else { return String::new() };
        let mut md = String::from("## Thread scaling, and AHN's cost over the sliding window\n\n");
        md.push_str(&format!(
            "Model `{}`, CPU `{}`, engine patch revision `{}`{}. Each run streams {} tokens in \
             chunks of {} in a fresh process and counts the throughput after the first chunk; \
             W = {}, S = {}, a random-weight AHN block. {} repetitions, the modes and thread \
             counts interleaved within each; median (min–max). AHN / window is the ratio of the \
             two runs of the same repetition.\n\n",
            last.model,
            last.cpu,
            last.patch_rev,
            if last.label == default_label(&last.patch_rev) { String::new() } else { format!(" ({})", last.label) },
            last.tokens,
            last.chunk,
            last.window,
            last.sinks,
            last.repetitions
        ));
        let modes: Vec<&str> =
            last.rows.first().map(|r| r.modes.iter().map(|(m, _)| m.as_str()).collect()).unwrap_or_default();
        md.push_str("| threads |");
        for m in &modes {
            md.push_str(&format!(" {m} tok/s |"));
        }
        md.push_str(" AHN / window |");
        for m in &modes {
            md.push_str(&format!(" {m} speed-up over 1 thread |"));
        }
        md.push_str("\n|---|");
        md.push_str(&"---|".repeat(2 * modes.len() + 1));
        md.push('\n');
        let one = last.rows.iter().find(|r| r.threads == 1);
        for row in &last.rows {
            md.push_str(&format!("| {} |", row.threads));
            for (_, s) in &row.modes {
                md.push_str(&format!(" {} |", span(s, 1)));
            }
            md.push_str(&format!(" {} |", row.ahn_over_window.as_ref().map_or("—".into(), |s| span(s, 2))));
            for (m, s) in &row.modes {
                let base = one.and_then(|o| o.modes.iter().find(|(n, _)| n == m)).map(|(_, s)| s.median);
                md.push_str(&format!(" {} |", base.map_or("—".into(), |b| format!("{:.2}×", s.median / b))));
            }
            md.push('\n');
        }
        if let Some(ratio) = self.ahn_over_window(2) {
            md.push_str(&format!(
                "\nTarget AHN ≥ 0.9× the sliding window's throughput at 2 threads: {} ({:.2}×, min {:.2}×).\n",
                if ratio.median >= 0.9 { "met" } else { "not met" },
                ratio.median,
                ratio.min
            ));
        }
        if self.runs.len() > 1 {
            md.push_str("\nEvery run kept in `threads.json` (engine changes show before and after):\n\n");
            md.push_str("| run | patch revision | threads | window tok/s | AHN tok/s | AHN / window |\n|---|---|---|---|---|---|\n");
            for run in &self.runs {
                for row in &run.rows {
                    let get =
                        |m: &str| row.modes.iter().find(|(n, _)| n == m).map_or("—".into(), |(_, s)| span(s, 1));
                    md.push_str(&format!(
                        "| {} | `{}` | {} | {} | {} | {} |\n",
                        run.label,
                        run.patch_rev,
                        row.threads,
                        get("window"),
                        get("ahn"),
                        row.ahn_over_window.as_ref().map_or("—".into(), |s| span(s, 2))
                    ));
                }
            }
        }
        md.push_str("\nRaw numbers: `docs/bench/threads.json`.\n\n");
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(position: usize, tokens_per_s: f64) -> Point {
        Point { position, tokens_per_s, rss_bytes: 0 }
    }

    #[test]
    fn steady_throughput_leaves_out_the_first_chunk_and_weighs_by_time() {
        // chunks of 100 tokens: the first at 10 tok/s (ignored), then 1 s and 2 s
        let points = [point(100, 10.0), point(200, 100.0), point(300, 50.0)];
        let tps = steady_tokens_per_s(&points).unwrap();
        assert!((tps - 200.0 / 3.0).abs() < 1e-9, "{tps}");
        assert_eq!(steady_tokens_per_s(&points[..1]), None);
    }

    fn run(label: &str, ratio: f64) -> ThreadsRun {
        let s = |v: f64| Summary::of(&[v]);
        ThreadsRun {
            label: label.into(),
            patch_rev: "abc".into(),
            run_unix_s: 0,
            model: "m".into(),
            cpu: "cpu".into(),
            tokens: 6144,
            chunk: 2048,
            window: 1024,
            sinks: 64,
            repetitions: 1,
            rows: [1, 2]
                .into_iter()
                .map(|threads| ThreadsRow {
                    threads,
                    modes: vec![
                        ("window".into(), s(100.0 * threads as f64)),
                        ("ahn".into(), s(100.0 * threads as f64 * ratio)),
                    ],
                    ahn_over_window: Some(s(ratio)),
                })
                .collect(),
        }
    }

    #[test]
    fn runs_with_the_same_label_replace_each_other_and_the_target_is_judged() {
        let mut report = ThreadsReport::default();
        report.add(run("before", 0.85));
        report.add(run("after", 0.95));
        report.add(run("after", 0.93));
        assert_eq!(report.runs.len(), 2);
        let md = report.markdown();
        assert!(md.contains("met (0.93×"), "{md}");
        assert!(md.contains("| before | `abc` | 2 |"), "{md}");
        assert!(
            md.contains("| 2 | 200.0 (200.0–200.0) | 186.0 (186.0–186.0) | 0.93 (0.93–0.93) | 2.00× | 2.00× |"),
            "{md}"
        );
        report.add(run("worse", 0.8));
        assert!(report.markdown().contains("not met (0.80×"));
    }
}
