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

use crate::stats::Summary;
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
    /// Window W of the windowed modes (default: the library's default reading settings).
    #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().window)]
    pub window: u32,
    /// Sinks S of the windowed modes (default: the library's default reading settings).
    #[arg(long, default_value_t = seahorse_api::ReadingSettings::default().sinks)]
    pub sinks: u32,
    /// Stop full attention after this many tokens (it needs memory for all of them).
    #[arg(long, default_value_t = 65536)]
    pub full_max: usize,
    /// CPU threads.
    #[arg(long, default_value_t = 2)]
    pub threads: i32,
    /// Modes to run (`full`, `window`, `ahn`). Modes left out keep their results (and their
    /// lengths) from the existing stream.json when it was made with the same settings, so that
    /// long streams (1M tokens take hours per mode on 2 cores) can be measured one mode at a
    /// time; `stream-import` does the same for a stream.json written elsewhere.
    #[arg(long, value_delimiter = ',', default_value = "full,window,ahn")]
    pub modes: Vec<String>,
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
    /// When the `stream` command that measured this mode started (Unix seconds; 0: before
    /// this was recorded): modes with different values come from different runs.
    #[serde(default)]
    pub run_unix_s: u64,
    /// The engine's patch revision in that run ("" before this was recorded).
    #[serde(default)]
    pub patch_rev: String,
    /// What the report should say about this run (`stream-import --note`), e.g. other work
    /// that shared the machine for a stretch of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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

const MODES: [&str; 3] = ["full", "window", "ahn"];

pub fn run(args: &StreamArgs, out: &Path) -> Result<()> {
    if let Some(bad) = args.modes.iter().find(|m| !MODES.contains(&m.as_str())) {
        bail!("unknown mode {bad:?} (modes: {})", MODES.join(", "));
    }
    let run_unix_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let patch_rev = seahorse_engine::Engine::get()?.build_info().patch_rev;
    let mut modes = Vec::new();
    for mode in MODES.into_iter().filter(|m| args.modes.iter().any(|a| a == m)) {
        eprintln!("stream: {mode}");
        let mut result = run_worker(args, mode, |p| {
            eprintln!("  {mode}: {:>7} tokens  {:>7.1} tok/s  {:>6} MiB", p.position, p.tokens_per_s, p.rss_bytes >> 20)
        })?;
        result.run_unix_s = run_unix_s;
        result.patch_rev = patch_rev.clone();
        modes.push(result);
    }
    let mut report = StreamReport {
        model: seahorse_models::DEFAULT_MODEL.id.to_owned(),
        tokens: args.tokens,
        chunk: args.chunk,
        window: args.window,
        sinks: args.sinks,
        threads: args.threads,
        cpu: seahorse_engine::cpu_name(),
        modes,
    };
    if args.modes.len() < MODES.len() {
        report.keep_modes_from_existing(out);
    }
    report.write(out)
}

/// `stream-import FILE [--note TEXT]`: the modes of a stream.json written by a run elsewhere
/// (e.g. a 1M-token run with `--out` in a scratch directory) replace those modes in
/// `<out>/bench/stream.json`; the other modes stay when the settings agree. The note is
/// shown with the imported modes.
pub fn import(file: &Path, note: Option<&str>, out: &Path) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut report: StreamReport =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    if report.modes.is_empty() {
        bail!("{} has no modes", file.display());
    }
    if let Some(note) = note {
        for m in &mut report.modes {
            m.note = Some(note.to_owned());
        }
    }
    report.keep_modes_from_existing(out);
    report.write(out)
}

/// Runs one mode in a child process (`stream-worker`), calling `on_point` for each chunk.
pub fn run_worker(args: &StreamArgs, mode: &str, mut on_point: impl FnMut(&Point)) -> Result<ModeResult> {
    let mut child = Command::new(std::env::current_exe()?)
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
            on_point(&p);
            points.push(p);
        }
    }
    if !child.wait()?.success() {
        bail!("stream worker for {mode} failed");
    }
    let mut result = result.context("worker printed no result")?;
    result.points = points;
    Ok(result)
}

/// Streams the tokens in one mode and prints JSON lines: a [`Point`] per chunk, then the
/// [`ModeResult`].
pub fn worker(args: &WorkerArgs) -> Result<()> {
    let a = &args.stream;
    let base = crate::default_model()?;
    let tmp = std::env::temp_dir().join(format!("seahorse-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let memory =
        |block: Option<PathBuf>| MemoryOptions { window: a.window, sinks: a.sinks, block, merged_dir: tmp.clone() };
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
        run_unix_s: 0, // set by the parent
        patch_rev: String::new(),
        note: None,
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

/// `YYYY-MM-DD HH:MM UTC` of Unix seconds (civil-from-days, proleptic Gregorian).
fn utc_date(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let (hh, mm) = ((unix_s % 86_400) / 3600, (unix_s % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02} UTC")
}

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(|l| l.to_owned()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Chunks at each end of a stream whose median throughput stands for "at the start" and "at
/// the end": one chunk swings by ±10 % on a shared 2-core machine, the median of 8 much less.
pub const FLAT_CHUNKS: usize = 8;

impl ModeResult {
    /// Median tokens/s of the first and of the last [`FLAT_CHUNKS`] chunks (fewer when the
    /// stream is short: the halves then do not overlap).
    pub fn ends_tokens_per_s(&self) -> Option<(f64, f64)> {
        if self.points.is_empty() {
            return None;
        }
        let n = FLAT_CHUNKS.min(self.points.len() / 2).max(1);
        let median = |ps: &[Point]| Summary::of(&ps.iter().map(|p| p.tokens_per_s).collect::<Vec<_>>()).median;
        Some((median(&self.points[..n]), median(&self.points[self.points.len() - n..])))
    }
}

/// "start → end tok/s (end / start)" of one mode.
fn flatness_phrase(m: &ModeResult) -> String {
    match m.ends_tokens_per_s() {
        Some((start, end)) => format!("{start:.1} → {end:.1} tok/s ({:.2}×)", end / start),
        None => "—".into(),
    }
}

impl StreamReport {
    pub fn at(&self, mode: &str) -> Option<&ModeResult> {
        self.modes.iter().find(|m| m.mode == mode)
    }

    /// Adds the modes this report lacks from `previous`, when it was made with the same
    /// settings on the same machine; each mode keeps the length it was streamed to, and
    /// `tokens` becomes the longer request. Keeps the order full, window, ahn.
    pub fn keep_modes_from(&mut self, previous: StreamReport) -> bool {
        let same = previous.model == self.model
            && previous.chunk == self.chunk
            && previous.window == self.window
            && previous.sinks == self.sinks
            && previous.threads == self.threads
            && previous.cpu == self.cpu;
        if !same {
            return false;
        }
        for m in previous.modes {
            if self.at(&m.mode).is_none() {
                self.modes.push(m);
            }
        }
        self.tokens = self.tokens.max(previous.tokens);
        self.modes.sort_by_key(|m| MODES.iter().position(|x| *x == m.mode));
        true
    }

    /// [`Self::keep_modes_from`] the stream.json already in `<out>/bench/`, if any.
    fn keep_modes_from_existing(&mut self, out: &Path) {
        let previous: Option<StreamReport> =
            std::fs::read_to_string(out.join("bench/stream.json")).ok().and_then(|t| serde_json::from_str(&t).ok());
        if let Some(previous) = previous {
            if !self.keep_modes_from(previous) {
                eprintln!("stream: the existing stream.json has other settings; its modes are not kept");
            }
        }
    }

    fn write(&self, out: &Path) -> Result<()> {
        let dir = out.join("bench");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("stream.json"), serde_json::to_string_pretty(self)? + "\n")?;
        crate::plot::stream_svgs(self, &dir)
    }

    /// "in the same run", or which run measured which mode.
    fn runs_phrase(&self) -> String {
        let mut runs: Vec<u64> = self.modes.iter().map(|m| m.run_unix_s).collect();
        runs.sort_unstable();
        runs.dedup();
        let mut revs: Vec<&str> = self.modes.iter().map(|m| m.patch_rev.as_str()).filter(|r| !r.is_empty()).collect();
        revs.sort_unstable();
        revs.dedup();
        let engine = match revs.as_slice() {
            [] => String::new(),
            [rev] => format!(", engine patch revision `{rev}`"),
            _ => {
                let parts: Vec<String> = self
                    .modes
                    .iter()
                    .map(|m| {
                        format!("{} `{}`", m.mode, if m.patch_rev.is_empty() { "unrecorded" } else { &m.patch_rev })
                    })
                    .collect();
                format!(", engine patch revisions {}", parts.join(", "))
            }
        };
        if runs.len() <= 1 {
            return format!("in the same run{engine}");
        }
        let parts: Vec<String> = self
            .modes
            .iter()
            .map(|m| match m.run_unix_s {
                0 => format!("{} in an earlier run", m.mode),
                t => format!("{} in the run of {}", m.mode, utc_date(t)),
            })
            .collect();
        format!("measured in separate runs with the same settings on the same machine ({}){engine}", parts.join(", "))
    }

    /// The report's section of benchmarks.md.
    pub fn markdown(&self) -> String {
        let mut md = String::from("## Reading a long document: AHN vs sinks + window vs full attention\n\n");
        md.push_str(&format!(
            "Model `{}`, {} threads, CPU `{}`; tokens streamed in chunks of {} (as ingestion \
             does) to the length in each row, W = {}, S = {}; each mode in its own process, {}. The \
             AHN block has random weights (speed and memory do not depend on them).\n\n",
            self.model,
            self.threads,
            self.cpu,
            self.chunk,
            self.window,
            self.sinks,
            self.runs_phrase()
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
            // Over the positions both modes reached.
            let common = |m: &ModeResult| m.points.last().map_or(0, |p| p.position);
            let upto = common(ahn).min(common(win));
            let mean = |m: &ModeResult| {
                let v: Vec<f64> = m.points.iter().filter(|p| p.position <= upto).map(|p| p.tokens_per_s).collect();
                v.iter().sum::<f64>() / v.len().max(1) as f64
            };
            md.push_str(&format!(
                "\nAHN / sliding window mean throughput to {upto} tokens: {:.2}× (one run of each mode; on a shared \
                 machine a slow spell can hit one mode and not the other: suite `threads` repeats short runs \
                 interleaved). Throughput at the start and the end of each stream, as the targets judge it (the \
                 median of the first and of the last {FLAT_CHUNKS} chunks): AHN {}, window {}.\n",
                mean(ahn) / mean(win),
                flatness_phrase(ahn),
                flatness_phrase(win)
            ));
        }
        for m in &self.modes {
            if let Some(note) = &m.note {
                md.push_str(&format!("\nNote on the {} run: {note}\n", m.mode));
            }
        }
        md.push_str("\n![throughput](bench/stream-throughput.svg)\n![memory](bench/stream-memory.svg)\n\nRaw numbers: `docs/bench/stream.json`.\n");
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(name: &str, run_unix_s: u64) -> ModeResult {
        ModeResult {
            mode: name.into(),
            points: vec![Point { position: 1024, tokens_per_s: 100.0, rss_bytes: 1 << 20 }],
            peak_rss_bytes: 1 << 20,
            state_bytes: 1 << 20,
            run_unix_s,
            patch_rev: String::new(),
            note: None,
        }
    }

    fn report(modes: Vec<ModeResult>) -> StreamReport {
        StreamReport {
            model: "m".into(),
            tokens: 1024,
            chunk: 1024,
            window: 1024,
            sinks: 64,
            threads: 2,
            cpu: "cpu".into(),
            modes,
        }
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc_date(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_date(1_795_661_400), "2026-11-26 02:50 UTC");
    }

    #[test]
    fn modes_run_alone_keep_the_others_from_a_run_with_the_same_settings() {
        let previous = report(vec![mode("full", 1), mode("window", 1), mode("ahn", 1)]);
        let mut r = report(vec![mode("window", 2)]);
        assert!(r.keep_modes_from(previous.clone()));
        let got: Vec<(&str, u64)> = r.modes.iter().map(|m| (m.mode.as_str(), m.run_unix_s)).collect();
        assert_eq!(got, [("full", 1), ("window", 2), ("ahn", 1)]);
        assert!(r.markdown().contains("measured in separate runs"), "{}", r.markdown());

        let mut other = report(vec![mode("window", 2)]);
        other.threads = 1;
        assert!(!other.keep_modes_from(previous.clone()));
        assert_eq!(other.modes.len(), 1);
        assert!(previous.markdown().contains("in the same run"));

        let mut revs = report(vec![mode("window", 3), mode("ahn", 3)]);
        revs.modes[0].patch_rev = "aaa".into();
        revs.modes[1].patch_rev = "aaa".into();
        assert!(revs.markdown().contains("in the same run, engine patch revision `aaa`"), "{}", revs.markdown());
        revs.modes[1].patch_rev = "bbb".into();
        assert!(revs.markdown().contains("engine patch revisions window `aaa`, ahn `bbb`"), "{}", revs.markdown());
    }

    #[test]
    fn a_longer_run_of_one_mode_keeps_the_others_at_their_lengths() {
        let previous = report(vec![mode("full", 1), mode("window", 1), mode("ahn", 1)]);
        let mut long = report(vec![ModeResult {
            points: (1..=4).map(|i| Point { position: i * 1024, tokens_per_s: 100.0, rss_bytes: 1 << 20 }).collect(),
            ..mode("ahn", 2)
        }]);
        long.tokens = 4096;
        assert!(long.keep_modes_from(previous));
        let got: Vec<(&str, usize)> =
            long.modes.iter().map(|m| (m.mode.as_str(), m.points.last().unwrap().position)).collect();
        assert_eq!(got, [("full", 1024), ("window", 1024), ("ahn", 4096)]);
        assert_eq!(long.tokens, 4096);
        // The ratio is taken where both modes have points.
        assert!(long.markdown().contains("mean throughput to 1024 tokens: 1.00×"), "{}", long.markdown());
    }

    #[test]
    fn an_imported_run_replaces_its_modes_and_carries_its_note() {
        let out = std::env::temp_dir().join(format!("seahorse-stream-import-{}", std::process::id()));
        report(vec![mode("full", 1), mode("window", 1), mode("ahn", 1)]).write(&out).unwrap();
        let mut long = report(vec![ModeResult {
            points: (1..=4).map(|i| Point { position: i * 1024, tokens_per_s: 90.0, rss_bytes: 1 << 20 }).collect(),
            ..mode("ahn", 2)
        }]);
        long.tokens = 4096;
        let file = out.join("long.json");
        std::fs::write(&file, serde_json::to_string(&long).unwrap()).unwrap();
        import(&file, Some("a build shared the machine at 8K"), &out).unwrap();
        let merged: StreamReport =
            serde_json::from_str(&std::fs::read_to_string(out.join("bench/stream.json")).unwrap()).unwrap();
        let got: Vec<(&str, u64, usize)> =
            merged.modes.iter().map(|m| (m.mode.as_str(), m.run_unix_s, m.points.len())).collect();
        assert_eq!(got, [("full", 1, 1), ("window", 1, 1), ("ahn", 2, 4)]);
        let md = merged.markdown();
        assert!(md.contains("Note on the ahn run: a build shared the machine at 8K"), "{md}");
        assert!(!md.contains("Note on the window run"), "{md}");
        assert!(out.join("bench/stream-throughput.svg").exists());
        std::fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn the_ends_of_a_stream_are_medians_of_chunks() {
        let tps = [100.0, 90.0, 300.0, 95.0, 5.0, 80.0, 85.0, 70.0, 75.0, 1.0];
        let mut m = mode("ahn", 1);
        m.points = tps
            .iter()
            .enumerate()
            .map(|(i, &t)| Point { position: (i + 1) * 4096, tokens_per_s: t, rss_bytes: 0 })
            .collect();
        // 10 chunks: 5 at each end. Medians of 100, 90, 300, 95, 5 and of 80, 85, 70, 75, 1.
        assert_eq!(m.ends_tokens_per_s(), Some((95.0, 75.0)));
        m.points.truncate(1);
        assert_eq!(m.ends_tokens_per_s(), Some((100.0, 100.0)));
        m.points.clear();
        assert_eq!(m.ends_tokens_per_s(), None);
    }
}
