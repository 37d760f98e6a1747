//! Suite `stream`: reading a long document. The default model streams N tokens in chunks,
//! as ingestion does, in three modes, each in its own child process so that memory is
//! measured per mode:
//!
//! - `full`: stock full attention (the KV cache grows with the position);
//! - `window`: stock llama.cpp attention restricted to S sinks + a W-token window;
//! - `ahn`: sinks + window + AHN memory (a GDN block; its weights do not affect speed or
//!   memory, so the suite writes a random block of the same shape).
//!
//! For every chunk: position, throughput of the chunk, resident memory; at the end, the
//! saved state size of the sequence (raw bytes).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use seahorse_engine::tiny_model::SplitMix;
use seahorse_engine::{
    write_block, AhnBlockInfo, AhnType, CacheType, CancelToken, Logits, MemoryOptions, Model, ModelOptions,
    SessionOptions,
};

/// Options of the suite.
#[derive(clap::Args, Clone)]
pub struct StreamArgs {
    /// Tokens to stream.
    #[arg(long, default_value_t = 65536)]
    pub tokens: usize,
    /// Tokens per chunk (one measurement point each).
    #[arg(long, default_value_t = 4096)]
    pub chunk: usize,
    /// Window W of the windowed modes.
    #[arg(long, default_value_t = 1024)]
    pub window: u32,
    /// Sinks S of the windowed modes.
    #[arg(long, default_value_t = 64)]
    pub sinks: u32,
    /// Stop full attention after this many tokens (it needs memory for all of them).
    #[arg(long, default_value_t = 65536)]
    pub full_max: usize,
    /// CPU threads.
    #[arg(long, default_value_t = 2)]
    pub threads: i32,
}

/// Options of one child process.
#[derive(clap::Args, Clone)]
pub struct WorkerArgs {
    /// `full`, `window` or `ahn`.
    #[arg(long)]
    pub mode: String,
    #[command(flatten)]
    pub stream: StreamArgs,
}

/// One measurement point.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Point {
    /// Tokens streamed so far.
    pub position: usize,
    /// Throughput of the last chunk.
    pub tokens_per_s: f64,
    /// Resident memory of the process after the chunk.
    pub rss_bytes: u64,
}

/// The results of one mode.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModeResult {
    /// `full`, `window` or `ahn`.
    pub mode: String,
    /// Points, one per chunk.
    pub points: Vec<Point>,
    /// Peak resident memory of the process (VmHWM).
    pub peak_rss_bytes: u64,
    /// Size of the saved sequence state at the end (raw).
    pub state_bytes: u64,
}

/// The suite's report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StreamReport {
    pub model: String,
    pub tokens: usize,
    pub chunk: usize,
    pub window: u32,
    pub sinks: u32,
    pub threads: i32,
    pub cpu: String,
    pub modes: Vec<ModeResult>,
}

pub fn run(args: &StreamArgs, out: &Path) -> Result<()> {
    let exe = std::env::current_exe()?;
    let mut modes = Vec::new();
    for mode in ["full", "window", "ahn"] {
        eprintln!("stream: {mode}");
        let mut child = Command::new(&exe)
            .args(["stream-worker", "--mode", mode])
            .args(["--tokens", &args.tokens.to_string(), "--chunk", &args.chunk.to_string()])
            .args(["--window", &args.window.to_string(), "--sinks", &args.sinks.to_string()])
            .args(["--full-max", &args.full_max.to_string(), "--threads", &args.threads.to_string()])
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("worker stdout")?;
        let mut result: Option<ModeResult> = None;
        let mut points = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            if let Ok(r) = serde_json::from_str::<ModeResult>(&line) {
                result = Some(r);
            } else if let Ok(p) = serde_json::from_str::<Point>(&line) {
                points.push(p.clone());
                eprintln!(
                    "  {mode}: {:>7} tokens  {:>7.1} tok/s  {:>6} MiB",
                    p.position,
                    p.tokens_per_s,
                    p.rss_bytes >> 20
                );
            }
        }
        if !child.wait()?.success() {
            bail!("stream worker for {mode} failed");
        }
        let mut result = result.context("worker printed no result")?;
        result.points = points;
        modes.push(result);
    }
    let report = StreamReport {
        model: seahorse_models::DEFAULT_MODEL.id.to_owned(),
        tokens: args.tokens,
        chunk: args.chunk,
        window: args.window,
        sinks: args.sinks,
        threads: args.threads,
        cpu: seahorse_engine::cpu_name(),
        modes,
    };
    let dir = out.join("bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("stream.json"), serde_json::to_string_pretty(&report)? + "\n")?;
    crate::plot::stream_svgs(&report, &dir)?;
    Ok(())
}

/// Streams the tokens in one mode and prints JSON lines: a [`Point`] per chunk, then the
/// [`ModeResult`].
pub fn worker(args: &WorkerArgs) -> Result<()> {
    let a = &args.stream;
    let base = crate::default_model()?;
    let tmp = std::env::temp_dir().join(format!("seahorse-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let memory = |block: Option<PathBuf>| MemoryOptions { window: a.window, sinks: a.sinks, block, merged_dir: tmp.clone() };
    let (options, n_tokens) = match args.mode.as_str() {
        "full" => (ModelOptions::default(), a.tokens.min(a.full_max)),
        "window" => (ModelOptions { memory: Some(memory(None)), ..Default::default() }, a.tokens),
        "ahn" => {
            let block = tmp.join("random-gdn.gguf");
            random_gdn_block(&block)?;
            (ModelOptions { memory: Some(memory(Some(block))), ..Default::default() }, a.tokens)
        }
        other => bail!("unknown mode {other}"),
    };
    let model = Model::load(&base, &options)?;
    let tokens = document_tokens(&model, n_tokens);
    let session_options = SessionOptions {
        n_ctx: (n_tokens + 256) as u32,
        n_batch: 512,
        n_ubatch: 512,
        n_threads: Some(a.threads),
        cache_type: CacheType::F16,
        ..Default::default()
    };
    let mut session = model.session(&session_options)?;
    let cancel = CancelToken::new();
    for chunk in tokens.chunks(a.chunk) {
        let started = Instant::now();
        session.evaluate(0, chunk, Logits::Last, &cancel, |_| {})?;
        let point = Point {
            position: session.position(0),
            tokens_per_s: chunk.len() as f64 / started.elapsed().as_secs_f64(),
            rss_bytes: proc_status_kib("VmRSS:") * 1024,
        };
        println!("{}", serde_json::to_string(&point)?);
    }
    let state_bytes = session.save(0)?.len() as u64;
    let result = ModeResult {
        mode: args.mode.clone(),
        points: Vec::new(),
        peak_rss_bytes: proc_status_kib("VmHWM:") * 1024,
        state_bytes,
    };
    let _ = std::fs::remove_dir_all(&tmp);
    // The parent collects the points from the lines above; the result carries the totals.
    println!("{}", serde_json::to_string(&result)?);
    Ok(())
}

/// Tokens of ordinary prose, repeated to the length (speed does not depend on the content).
fn document_tokens(model: &Model, n: usize) -> Vec<i32> {
    let text = "The seahorse drifted through the kelp, reading the currents like the pages of a long \
                book, and remembering every chapter it had passed. ";
    let unit = model.tokenize(text);
    unit.iter().copied().cycle().take(n).collect()
}

/// A GDN block for the default model with random weights.
fn random_gdn_block(path: &Path) -> Result<()> {
    let info = AhnBlockInfo::for_base(&crate::default_model()?, AhnType::Gdn, path)?;
    let mut rng = SplitMix(7);
    write_block(path, &info, |_, ne| (0..ne.iter().product::<i64>()).map(|_| 0.02 * rng.uniform()).collect())?;
    Ok(())
}

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(|l| l.to_owned()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

impl StreamReport {
    fn at(&self, mode: &str) -> Option<&ModeResult> {
        self.modes.iter().find(|m| m.mode == mode)
    }

    /// The report's section of benchmarks.md.
    pub fn markdown(&self) -> String {
        let mut md = String::from("## Reading a long document: AHN vs sinks + window vs full attention\n\n");
        md.push_str(&format!(
            "Model `{}`, {} threads, CPU `{}`; {} tokens streamed in chunks of {} (as ingestion \
             does), W = {}, S = {}; each mode in its own process, in the same run. The AHN block \
             has random weights (speed and memory do not depend on them).\n\n",
            self.model, self.threads, self.cpu, self.tokens, self.chunk, self.window, self.sinks
        ));
        md.push_str("| mode | tok/s at first chunk | tok/s at last chunk | RSS at first chunk | RSS at last chunk | peak RSS | saved state |\n|---|---|---|---|---|---|---|\n");
        for m in &self.modes {
            let (Some(first), Some(last)) = (m.points.first(), m.points.last()) else { continue };
            md.push_str(&format!(
                "| {} (to {} tokens) | {:.1} | {:.1} | {} MiB | {} MiB | {} MiB | {:.1} MiB |\n",
                m.mode,
                last.position,
                first.tokens_per_s,
                last.tokens_per_s,
                first.rss_bytes >> 20,
                last.rss_bytes >> 20,
                m.peak_rss_bytes >> 20,
                m.state_bytes as f64 / (1 << 20) as f64
            ));
        }
        if let (Some(ahn), Some(win)) = (self.at("ahn"), self.at("window")) {
            let mean = |m: &ModeResult| m.points.iter().map(|p| p.tokens_per_s).sum::<f64>() / m.points.len().max(1) as f64;
            let flat = |m: &ModeResult| m.points.last().map(|p| p.tokens_per_s).unwrap_or(0.0)
                / m.points.first().map(|p| p.tokens_per_s).unwrap_or(1.0);
            md.push_str(&format!(
                "\nAHN / sliding window mean throughput: {:.2}×. Last / first chunk throughput: AHN {:.2}, window {:.2}.\n",
                mean(ahn) / mean(win),
                flat(ahn),
                flat(win)
            ));
        }
        md.push_str("\n![throughput](bench/stream-throughput.svg)\n![memory](bench/stream-memory.svg)\n\nRaw numbers: `docs/bench/stream.json`.\n");
        md
    }
}
