//! Suite `gpu`: the engine on a GPU (CUDA), measured on a lent GPU machine by
//! `crates/bench/gpu/run` (a C++ driver over the patched llama.cpp: that machine has no Rust
//! and no model files). `seahorse-bench gpu-import DIR` reads what the script wrote to DIR
//! and keeps it as `bench/gpu.json` with a plot; the report renders it from there.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Logits of one run compared with the CPU at ubatch 64 (the driver's `compare`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Comparison {
    pub rows: usize,
    pub max_abs_logit: f64,
    pub max_abs_diff: f64,
    pub argmax_agree: usize,
    pub finite: bool,
}

/// One exactness run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Check {
    /// `ahn`, `window`, or `ahn-vs-window` (the AHN's own effect, for scale).
    pub mode: String,
    /// `cpu` or `cuda`.
    pub backend: String,
    pub ubatch: u32,
    /// Tokens after which the state was saved and restored into a new context (0: never).
    pub save_at: u32,
    pub vs_cpu_ubatch_64: Comparison,
}

/// One point of a stream.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GpuPoint {
    pub position: usize,
    pub tokens_per_s: f64,
    /// GPU memory in use (all processes) after the chunk.
    pub device_bytes: u64,
    pub rss_bytes: u64,
}

/// One stream (the driver's `stream`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GpuStream {
    #[serde(default)]
    pub mode: String,
    pub device: String,
    pub ngl: i32,
    pub window: u32,
    pub sinks: u32,
    pub threads: u32,
    pub chunk: usize,
    pub load_s: f64,
    /// GPU memory in use before the stream (model weights and context loaded).
    pub device_bytes_before: u64,
    pub points: Vec<GpuPoint>,
    /// Why the stream ended before its length, if it did.
    pub stopped: Option<String>,
    pub peak_rss_bytes: u64,
    pub state_bytes: u64,
    pub save_s: f64,
    pub decode_tokens_per_s: f64,
    pub restore_s: f64,
    pub question_tokens: usize,
    pub first_token_s: f64,
}

/// Everything the GPU run measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GpuReport {
    /// nvidia-smi's line: name, memory, driver, max SM clock.
    pub gpu: String,
    pub patch_rev: String,
    pub checks: Vec<Check>,
    pub streams: Vec<GpuStream>,
    /// The AHN's recurrent kernel under Nsight Compute (stage `profile`).
    #[serde(default)]
    pub profile: Option<KernelProfile>,
    /// Short CPU streams on that machine at several thread counts (stage `threads`).
    #[serde(default)]
    pub cpu_threads: Vec<GpuStream>,
}

/// Launch durations of `ggml_gated_delta_net`'s CUDA kernel while the AHN model read
/// `tokens` tokens in ubatches of 512, then decoded 64 tokens and read a 96-token question.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KernelProfile {
    pub kernel: String,
    pub tokens: usize,
    /// Every launch's duration in ns, in launch order.
    pub launch_ns: Vec<f64>,
}

impl KernelProfile {
    /// Layers (launches per forward pass): the run made tokens / 512 reading passes, one
    /// question pass and 64 decoding passes.
    fn layers(&self) -> usize {
        self.launch_ns.len() / (self.tokens / 512 + 1 + 64)
    }

    /// Median duration (ns) of a launch over a full 512-token ubatch: the longest
    /// `tokens / 512 × layers` launches.
    fn ubatch_launch_ns(&self) -> f64 {
        let mut v = self.launch_ns.clone();
        v.sort_by(|a, b| b.total_cmp(a));
        v.truncate(self.tokens / 512 * self.layers());
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

/// Nsight Compute's CSV (`--csv`, one metric): the kernel and its launch durations. Lines
/// that are not CSV rows (the driver's own output, ncu's notes) are skipped.
fn parse_profile(text: &str, tokens: usize) -> Result<KernelProfile> {
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| l.starts_with('"'))
        .map(|l| l.trim_matches('"').split("\",\"").map(str::to_owned).collect())
        .collect();
    let header = rows.first().context("no CSV header in the profile")?;
    let col = |name: &str| header.iter().position(|h| h == name).with_context(|| format!("no column {name:?}"));
    let (name, unit, value) = (col("Kernel Name")?, col("Metric Unit")?, col("Metric Value")?);
    let mut launch_ns = Vec::new();
    let mut kernel = String::new();
    for r in &rows[1..] {
        let v: f64 = r[value].replace(',', "").parse().with_context(|| format!("metric value {:?}", r[value]))?;
        let scale = match r[unit].as_str() {
            "ns" => 1.0,
            "us" | "usecond" => 1e3,
            "ms" | "msecond" => 1e6,
            other => bail!("unknown unit {other:?}"),
        };
        launch_ns.push(v * scale);
        kernel = r[name].split('(').next().unwrap_or_default().to_owned();
    }
    Ok(KernelProfile { kernel, tokens, launch_ns })
}

/// Reads the files `crates/bench/gpu/run` wrote to `dir`.
pub fn import(dir: &Path) -> Result<GpuReport> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).with_context(|| format!("reading {name} in {}", dir.display()));
    let gpu = read("gpu.csv")?.lines().nth(1).unwrap_or_default().trim().to_owned();
    let patch_rev = read("patch-rev.txt").map(|s| s.trim().to_owned()).unwrap_or_default();
    let checks: Vec<Check> = match read("check.json") {
        Ok(text) => serde_json::from_str(&text).context("check.json")?,
        Err(_) => Vec::new(),
    };
    let mut streams = Vec::new();
    for mode in ["window", "ahn", "full"] {
        let name = format!("stream-{mode}.json");
        let Ok(text) = read(&name) else { continue };
        if text.trim().is_empty() {
            continue;
        }
        let mut s: GpuStream = serde_json::from_str(&text).with_context(|| name.clone())?;
        s.mode = mode.into();
        streams.push(s);
    }
    // The profiled stream read 3072 tokens (crates/bench/gpu/run, stage `profile`).
    let profile = match read("profile-ahn.csv") {
        Ok(text) => Some(parse_profile(&text, 3072)?),
        Err(_) => None,
    };
    #[derive(Deserialize)]
    struct ThreadRun {
        mode: String,
        result: GpuStream,
    }
    let cpu_threads: Vec<GpuStream> = match read("threads.json") {
        Ok(text) => serde_json::from_str::<Vec<ThreadRun>>(&text)
            .context("threads.json")?
            .into_iter()
            .map(|t| GpuStream { mode: t.mode, ..t.result })
            .collect(),
        Err(_) => Vec::new(),
    };
    if checks.is_empty() && streams.is_empty() && profile.is_none() && cpu_threads.is_empty() {
        bail!("no measurements in {}", dir.display());
    }
    Ok(GpuReport { gpu, patch_rev, checks, streams, profile, cpu_threads })
}

impl GpuReport {
    pub fn write(&self, out: &Path) -> Result<()> {
        let dir = out.join("bench");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("gpu.json"), serde_json::to_string_pretty(self)? + "\n")?;
        let series: Vec<(String, Vec<(f64, f64)>)> = self
            .streams
            .iter()
            .map(|s| (s.mode.clone(), s.points.iter().map(|p| (p.position as f64, p.tokens_per_s)).collect()))
            .collect();
        crate::plot::line_chart(&dir.join("gpu-throughput.svg"), &format!("{}: throughput while reading", self.device()), "tokens/s", &series)
    }

    fn device(&self) -> String {
        self.streams.iter().find(|s| s.ngl > 0).map(|s| s.device.clone()).unwrap_or_else(|| self.gpu.clone())
    }

    fn mean_tokens_per_s(s: &GpuStream) -> f64 {
        // Time-weighted: tokens over seconds, first chunk included.
        let mut tokens = 0.0;
        let mut secs = 0.0;
        let mut last = 0usize;
        for p in &s.points {
            let n = (p.position - last) as f64;
            tokens += n;
            secs += n / p.tokens_per_s;
            last = p.position;
        }
        if secs > 0.0 { tokens / secs } else { 0.0 }
    }

    /// Thread scaling on the GPU machine's own CPU.
    fn threads_markdown(&self) -> String {
        let mut md = String::from(
            "### Thread scaling on the GPU machine's CPU\n\n\
             The same driver on that machine's CPU only (no GPU layers), 3072 random tokens per run \
             (W = 1024, S = 64: the third 1024-token chunk is read while tokens leave the window), one \
             run per thread count. This is not the 2-core machine of the targets above; it shows how \
             reading scales with cores.\n\n\
             | threads | window tok/s, 3rd chunk | AHN tok/s, 3rd chunk | AHN / window | window mean | AHN mean | decode tok/s, window / AHN |\n\
             |---|---|---|---|---|---|---|\n",
        );
        let mut threads: Vec<u32> = self.cpu_threads.iter().map(|s| s.threads).collect();
        threads.sort_unstable();
        threads.dedup();
        for n in threads {
            let find = |m: &str| self.cpu_threads.iter().find(|s| s.mode == m && s.threads == n);
            let (Some(w), Some(a)) = (find("window"), find("ahn")) else { continue };
            let last = |s: &GpuStream| s.points.last().map_or(f64::NAN, |p| p.tokens_per_s);
            md.push_str(&format!(
                "| {n} | {:.0} | {:.0} | {:.2} | {:.0} | {:.0} | {:.1} / {:.1} |\n",
                last(w),
                last(a),
                last(a) / last(w),
                Self::mean_tokens_per_s(w),
                Self::mean_tokens_per_s(a),
                w.decode_tokens_per_s,
                a.decode_tokens_per_s
            ));
        }
        md.push('\n');
        md
    }

    /// Combines the imports of several runs (e.g. one with the checks and streams, one with
    /// the profile and the thread sweep): each part comes from the last run that has it.
    pub fn merge(runs: Vec<GpuReport>) -> Result<GpuReport> {
        let mut it = runs.into_iter();
        let mut r = it.next().context("no run to import")?;
        for next in it {
            if next.patch_rev != r.patch_rev {
                bail!("the runs built different patch revisions ({} and {})", r.patch_rev, next.patch_rev);
            }
            if !next.checks.is_empty() {
                r.checks = next.checks;
            }
            if !next.streams.is_empty() {
                r.streams = next.streams;
            }
            if next.profile.is_some() {
                r.profile = next.profile;
            }
            if !next.cpu_threads.is_empty() {
                r.cpu_threads = next.cpu_threads;
            }
        }
        Ok(r)
    }

    /// The report's section of benchmarks.md.
    pub fn markdown(&self) -> String {
        let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
        let mut md = String::from("## On a GPU (CUDA)\n\n");
        md.push_str(&format!(
            "`{}` — one run of `crates/bench/gpu/run` on a lent GPU machine, imported with \
             `seahorse-bench gpu-import` (raw numbers: `docs/bench/gpu.json`). The patched llama.cpp \
             (patch revision `{}`) is built there with CUDA for sm_90, without FlashAttention kernels \
             (a shorter build; every mode then uses the same unfused attention). That machine has no \
             model files: the models are random-weight files with the default model's exact metadata, \
             tensor shapes and tensor types (`qwen2.5-coder-0.5b-instruct-q4_k_m`), with and without the \
             shipped AHN block — speed and memory do not depend on the weights' values.\n\n",
            self.gpu, self.patch_rev
        ));
        if !self.checks.is_empty() {
            md.push_str(
                "### CUDA computes what the CPU computes\n\n\
                 Logits of 600 random tokens at W = 128, S = 4 (so that 468 tokens pass through the \
                 AHN memory), F32 weights and cache, every 37th position and the last, compared with \
                 the CPU at ubatch 64. A random network amplifies rounding, so the CPU's own \
                 difference between ubatch sizes is the scale to read the CUDA rows against; the last \
                 row is the AHN's own effect on the same logits (what a broken memory path would \
                 change).\n\n\
                 | mode | backend | ubatch | saved and restored after | max abs difference | largest abs logit | same argmax |\n\
                 |---|---|---|---|---|---|---|\n",
            );
            for c in &self.checks {
                let v = &c.vs_cpu_ubatch_64;
                let (mode, backend) = if c.mode == "ahn-vs-window" {
                    ("AHN vs window only (the AHN's effect)".to_owned(), "cpu".to_owned())
                } else {
                    (c.mode.clone(), c.backend.clone())
                };
                md.push_str(&format!(
                    "| {mode} | {backend} | {} | {} | {:.2e}{} | {:.2} | {}/{} |\n",
                    c.ubatch,
                    if c.save_at > 0 { c.save_at.to_string() } else { "—".into() },
                    v.max_abs_diff,
                    if v.finite { "" } else { " (non-finite values!)" },
                    v.max_abs_logit,
                    v.argmax_agree,
                    v.rows
                ));
            }
            md.push('\n');
        }
        if !self.streams.is_empty() {
            md.push_str(
                "### Reading a long document on the GPU\n\n\
                 Random tokens streamed in ubatches of 512 (a measurement every chunk), W = 1024, S = 64 \
                 for the windowed modes; full attention to 128K tokens. Device memory is what the GPU \
                 reports in use (weights, caches and compute buffers). After the stream: the saved \
                 state's size, decoding speed (64 greedy tokens), and a 96-token question asked from the \
                 state restored into a new context.\n\n\
                 | mode | tokens read | tok/s, first chunk | tok/s, last chunk | tok/s, mean | device memory, first → last chunk | saved state | decode tok/s | restore | first token of the question |\n\
                 |---|---|---|---|---|---|---|---|---|---|\n",
            );
            for s in &self.streams {
                let (Some(first), Some(last)) = (s.points.first(), s.points.last()) else { continue };
                md.push_str(&format!(
                    "| {} | {}{} | {:.0} | {:.0} | {:.0} | {:.0} → {:.0} MiB | {:.1} MiB | {:.1} | {:.3} s | {:.3} s |\n",
                    s.mode,
                    last.position,
                    if s.stopped.is_some() { " (time limit)" } else { "" },
                    first.tokens_per_s,
                    last.tokens_per_s,
                    Self::mean_tokens_per_s(s),
                    mib(first.device_bytes),
                    mib(last.device_bytes),
                    mib(s.state_bytes),
                    s.decode_tokens_per_s,
                    s.restore_s,
                    s.first_token_s,
                ));
            }
            let by = |m: &str| self.streams.iter().find(|s| s.mode == m);
            if let (Some(a), Some(w)) = (by("ahn"), by("window")) {
                let ratio = Self::mean_tokens_per_s(a) / Self::mean_tokens_per_s(w);
                let flat = |s: &GpuStream| {
                    // Last chunk against the first chunk that compresses (the second).
                    let p = &s.points;
                    if p.len() >= 3 { p[p.len() - 1].tokens_per_s / p[1].tokens_per_s } else { f64::NAN }
                };
                md.push_str(&format!(
                    "\nAHN / window mean throughput on the GPU: {ratio:.2}×. Last chunk / second chunk: AHN {:.2}, window {:.2}.\n",
                    flat(a),
                    flat(w)
                ));
                let (ta, tw) = (1e6 / Self::mean_tokens_per_s(a), 1e6 / Self::mean_tokens_per_s(w));
                md.push_str(&format!(
                    "Per token the AHN adds {:.1} µs to the window's {tw:.1} µs ({:.1} ms per 512-token ubatch).\n",
                    ta - tw,
                    (ta - tw) * 512.0 / 1000.0
                ));
                if let Some(p) = &self.profile {
                    let per_launch = p.ubatch_launch_ns();
                    md.push_str(&format!(
                        "\n**Where that time goes** (Nsight Compute, `gpu__time_duration`, every launch of \
                         `{}` while the AHN model read {} tokens): one launch over a 512-token ubatch takes \
                         {:.0} µs (median); {} layers make {:.1} ms per ubatch, i.e. {:.0} % of the AHN's extra \
                         {:.1} ms. The kernel walks the ubatch's tokens one after another (its grid is heads × \
                         state columns only), so a few hundred sequential steps leave the GPU mostly idle; a \
                         chunked, parallel-in-time form of the gated delta rule (as in flash-linear-attention) \
                         would remove most of it.\n",
                        p.kernel.trim_start_matches("void "),
                        p.tokens,
                        per_launch / 1e3,
                        p.layers(),
                        per_launch * p.layers() as f64 / 1e6,
                        100.0 * per_launch * p.layers() as f64 / 1e3 / ((ta - tw) * 512.0),
                        (ta - tw) * 512.0 / 1000.0
                    ));
                }
            }
            if let (Some(a), Some(f)) = (by("ahn"), by("full")) {
                let at = |s: &GpuStream, n: usize| s.points.iter().find(|p| p.position == n).map(|p| p.tokens_per_s);
                for n in [32768usize, 131072] {
                    if let Some(full) = at(f, n) {
                        md.push_str(&format!(
                            "At {}K tokens full attention reads {full:.0} tok/s: the AHN's mean is {:.1}× that.\n",
                            n / 1024,
                            Self::mean_tokens_per_s(a) / full
                        ));
                    }
                }
            }
            md.push_str("\n![GPU throughput](bench/gpu-throughput.svg)\n\n");
        }
        if !self.cpu_threads.is_empty() {
            md.push_str(&self.threads_markdown());
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(mode: &str, tps: &[f64]) -> GpuStream {
        GpuStream {
            mode: mode.into(),
            device: "NVIDIA H200".into(),
            ngl: 99,
            window: 1024,
            sinks: 64,
            threads: 16,
            chunk: 100,
            load_s: 1.0,
            device_bytes_before: 1 << 30,
            points: tps
                .iter()
                .enumerate()
                .map(|(i, &t)| GpuPoint { position: (i + 1) * 100, tokens_per_s: t, device_bytes: 1 << 30, rss_bytes: 0 })
                .collect(),
            stopped: None,
            peak_rss_bytes: 0,
            state_bytes: 1 << 20,
            save_s: 0.01,
            decode_tokens_per_s: 300.0,
            restore_s: 0.01,
            question_tokens: 96,
            first_token_s: 0.02,
        }
    }

    #[test]
    fn the_mean_is_tokens_over_seconds() {
        // 100 tokens at 100 tok/s (1 s) + 100 at 50 tok/s (2 s): 200 tokens in 3 s.
        let s = stream("ahn", &[100.0, 50.0]);
        assert!((GpuReport::mean_tokens_per_s(&s) - 200.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn imports_what_the_device_script_writes_and_renders_it() {
        let dir = std::env::temp_dir().join(format!("seahorse-gpu-import-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("gpu.csv"), "name, memory.total [MiB]\nNVIDIA H200, 143771 MiB\n").unwrap();
        std::fs::write(dir.join("patch-rev.txt"), "abc123\n").unwrap();
        std::fs::write(
            dir.join("check.json"),
            r#"[{"mode": "ahn", "backend": "cuda", "ubatch": 64, "save_at": 320, "vs_cpu_ubatch_64": {"rows": 17, "max_abs_logit": 2.5, "max_abs_diff": 0.004, "argmax_agree": 17, "finite": true}}]"#,
        )
        .unwrap();
        let mut s = stream("", &[1000.0, 900.0, 950.0]);
        s.mode = String::new(); // the driver does not write the mode; the file name gives it
        std::fs::write(dir.join("stream-ahn.json"), serde_json::to_string(&s).unwrap()).unwrap();
        std::fs::write(dir.join("stream-window.json"), serde_json::to_string(&stream("", &[1000.0, 1000.0, 1000.0])).unwrap()).unwrap();
        let r = import(&dir).unwrap();
        assert_eq!(r.patch_rev, "abc123");
        assert_eq!(r.gpu, "NVIDIA H200, 143771 MiB");
        assert_eq!(r.streams.iter().map(|s| s.mode.as_str()).collect::<Vec<_>>(), ["window", "ahn"]);
        let md = r.markdown();
        assert!(md.contains("| ahn | cuda | 64 | 320 | 4.00e-3 | 2.50 | 17/17 |"), "{md}");
        assert!(md.contains("AHN / window mean throughput on the GPU: 0.95×"), "{md}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reads_the_kernel_profile_and_finds_the_ubatch_launches() {
        // 2 layers; 1024 tokens = 2 ubatches (4 long launches), a question pass (2) and 64
        // decoding passes (128 short ones). Driver output and ncu notes are mixed in.
        let mut csv = String::from("==PROF== Connected\n{\"device\": \"x\"}\n");
        csv.push_str("\"ID\",\"Kernel Name\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n");
        let mut id = 0;
        let mut row = |ns: &str| {
            csv.push_str(&format!("\"{id}\",\"void k<64>(const float *, int)\",\"gpu__time_duration.sum\",\"ns\",\"{ns}\"\n"));
            id += 1;
        };
        for ns in ["290,000", "300,000", "310,000", "295,000", "60,000", "61,000"] {
            row(ns);
        }
        for _ in 0..128 {
            row("3,200");
        }
        let p = parse_profile(&csv, 1024).unwrap();
        assert_eq!(p.kernel, "void k<64>");
        assert_eq!(p.launch_ns.len(), 134);
        assert_eq!(p.layers(), 2);
        // The 4 longest: 310, 300, 295, 290 µs; their median (the lower middle) is 295 µs.
        assert_eq!(p.ubatch_launch_ns(), 295_000.0);
    }

    #[test]
    fn merging_runs_takes_each_part_from_the_last_run_that_has_it() {
        let a = GpuReport {
            gpu: "H200".into(),
            patch_rev: "r".into(),
            checks: Vec::new(),
            streams: vec![stream("ahn", &[1.0])],
            profile: None,
            cpu_threads: Vec::new(),
        };
        let mut b = a.clone();
        b.streams.clear();
        b.cpu_threads = vec![stream("window", &[2.0])];
        let m = GpuReport::merge(vec![a.clone(), b.clone()]).unwrap();
        assert_eq!((m.streams.len(), m.cpu_threads.len()), (1, 1));
        b.patch_rev = "other".into();
        assert!(GpuReport::merge(vec![a, b]).is_err());
    }

    #[test]
    fn an_empty_directory_is_an_error() {
        let dir = std::env::temp_dir().join(format!("seahorse-gpu-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(import(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
