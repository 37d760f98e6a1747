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
    if checks.is_empty() && streams.is_empty() {
        bail!("no measurements in {}", dir.display());
    }
    Ok(GpuReport { gpu, patch_rev, checks, streams })
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
            }
            md.push_str("\n![GPU throughput](bench/gpu-throughput.svg)\n\n");
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
    fn an_empty_directory_is_an_error() {
        let dir = std::env::temp_dir().join(format!("seahorse-gpu-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(import(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
