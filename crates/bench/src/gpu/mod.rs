//! Suite `gpu`: the engine on a GPU (CUDA or Vulkan), measured on a lent GPU machine by
//! `crates/bench/gpu/run` (a C++ driver over the patched llama.cpp: that machine has no Rust
//! and no model files). `seahorse-bench gpu-import DIR...` reads what the script wrote to each
//! DIR and keeps it per backend, as `bench/gpu.json` (CUDA) or `bench/gpu-vulkan.json`, with a
//! plot; the report renders them from there (markdown.rs).

mod markdown;

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
    /// `cpu`, or the GPU backend (`cuda`, `vulkan`).
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
    /// The llama.cpp backend the GPU ran on: `cuda` or `vulkan`.
    #[serde(default = "cuda")]
    pub backend: String,
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
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).with_context(|| format!("reading {name} in {}", dir.display()))
    };
    let gpu = read("gpu.csv")?.lines().nth(1).unwrap_or_default().trim().to_owned();
    // Runs from before the script took BACKEND were CUDA runs.
    let backend = read("backend.txt").map(|s| s.trim().to_owned()).unwrap_or_else(|_| cuda());
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
    Ok(GpuReport { backend, gpu, patch_rev, checks, streams, profile, cpu_threads })
}

fn cuda() -> String {
    "cuda".into()
}

/// Imports several runs and merges them per backend, in the order given.
pub fn import_runs(dirs: &[std::path::PathBuf]) -> Result<Vec<GpuReport>> {
    let mut by_backend: Vec<Vec<GpuReport>> = Vec::new();
    for dir in dirs {
        let run = import(dir)?;
        match by_backend.iter_mut().find(|runs| runs[0].backend == run.backend) {
            Some(runs) => runs.push(run),
            None => by_backend.push(vec![run]),
        }
    }
    by_backend.into_iter().map(GpuReport::merge).collect()
}

impl GpuReport {
    /// The backend's file names in `bench/`: `gpu` (CUDA, as before there was a choice) or
    /// `gpu-<backend>`, then `.json` and `-throughput.svg`.
    pub fn file_stem(&self) -> String {
        if self.backend == "cuda" {
            "gpu".into()
        } else {
            format!("gpu-{}", self.backend)
        }
    }

    pub fn write(&self, out: &Path) -> Result<()> {
        let dir = out.join("bench");
        std::fs::create_dir_all(&dir)?;
        let stem = self.file_stem();
        std::fs::write(dir.join(format!("{stem}.json")), serde_json::to_string_pretty(self)? + "\n")?;
        let series: Vec<(String, Vec<(f64, f64)>)> = self
            .streams
            .iter()
            .map(|s| (s.mode.clone(), s.points.iter().map(|p| (p.position as f64, p.tokens_per_s)).collect()))
            .collect();
        let title = format!("{} ({}): throughput while reading", self.device(), self.backend_name());
        crate::plot::line_chart(&dir.join(format!("{stem}-throughput.svg")), &title, "tokens/s", &series)
    }

    fn device(&self) -> String {
        self.streams.iter().find(|s| s.ngl > 0).map(|s| s.device.clone()).unwrap_or_else(|| self.gpu.clone())
    }

    fn mean_tokens_per_s(s: &GpuStream) -> f64 {
        Self::mean_from(s, 0)
    }

    /// The mean after the first chunk, which also pays for the backend's warm-up (kernel and
    /// pipeline creation); the whole mean where there is only one chunk.
    fn steady_tokens_per_s(s: &GpuStream) -> f64 {
        Self::mean_from(s, if s.points.len() > 1 { 1 } else { 0 })
    }

    /// Time-weighted mean (tokens over seconds) of the chunks from the `first`-th on.
    fn mean_from(s: &GpuStream, first: usize) -> f64 {
        let mut tokens = 0.0;
        let mut secs = 0.0;
        let mut last = if first == 0 { 0 } else { s.points[first - 1].position };
        for p in &s.points[first..] {
            let n = (p.position - last) as f64;
            tokens += n;
            secs += n / p.tokens_per_s;
            last = p.position;
        }
        if secs > 0.0 {
            tokens / secs
        } else {
            0.0
        }
    }

    /// Combines the imports of several runs (e.g. one with the checks and streams, one with
    /// the profile and the thread sweep): each part comes from the last run that has it.
    pub fn merge(runs: Vec<GpuReport>) -> Result<GpuReport> {
        let mut it = runs.into_iter();
        let mut r = it.next().context("no run to import")?;
        for next in it {
            if next.backend != r.backend {
                bail!("the runs used different backends ({} and {})", r.backend, next.backend);
            }
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
                .map(|(i, &t)| GpuPoint {
                    position: (i + 1) * 100,
                    tokens_per_s: t,
                    device_bytes: 1 << 30,
                    rss_bytes: 0,
                })
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
        // After the first chunk: 100 tokens in 2 s.
        assert!((GpuReport::steady_tokens_per_s(&s) - 50.0).abs() < 1e-9);
        assert_eq!(GpuReport::steady_tokens_per_s(&stream("ahn", &[80.0])), 80.0);
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
        std::fs::write(
            dir.join("stream-window.json"),
            serde_json::to_string(&stream("", &[1000.0, 1000.0, 1000.0])).unwrap(),
        )
        .unwrap();
        let r = import(&dir).unwrap();
        assert_eq!(r.patch_rev, "abc123");
        assert_eq!(r.gpu, "NVIDIA H200, 143771 MiB");
        assert_eq!(r.streams.iter().map(|s| s.mode.as_str()).collect::<Vec<_>>(), ["window", "ahn"]);
        let md = r.markdown();
        assert!(md.contains("| ahn | cuda | 64 | 320 | 4.00e-3 | 2.50 | 17/17 |"), "{md}");
        assert!(md.contains("AHN / window mean throughput on CUDA: 0.92×"), "{md}");
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
            csv.push_str(&format!(
                "\"{id}\",\"void k<64>(const float *, int)\",\"gpu__time_duration.sum\",\"ns\",\"{ns}\"\n"
            ));
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
            backend: "cuda".into(),
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
    fn runs_are_kept_per_backend_and_each_renders_its_own_section() {
        let base = std::env::temp_dir().join(format!("seahorse-gpu-backends-{}", std::process::id()));
        let run = |name: &str, backend: Option<&str>| {
            let dir = base.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("gpu.csv"), "name\nNVIDIA H100 80GB HBM3\n").unwrap();
            std::fs::write(dir.join("patch-rev.txt"), "abc123\n").unwrap();
            if let Some(b) = backend {
                std::fs::write(dir.join("backend.txt"), format!("{b}\n")).unwrap();
            }
            let check = format!(
                r#"[{{"mode": "window", "backend": "{}", "ubatch": 512, "save_at": 0, "vs_cpu_ubatch_64": {{"rows": 17, "max_abs_logit": 2.6, "max_abs_diff": 0.007, "argmax_agree": 17, "finite": true}}}}]"#,
                backend.unwrap_or("cuda")
            );
            std::fs::write(dir.join("check.json"), check).unwrap();
            dir
        };
        // A run from before BACKEND existed is a CUDA run.
        let dirs = [run("old", None), run("vk", Some("vulkan"))];
        let reports = import_runs(&dirs).unwrap();
        let got: Vec<(String, String)> = reports.iter().map(|r| (r.backend.clone(), r.file_stem())).collect();
        assert_eq!(got, [("cuda".into(), "gpu".into()), ("vulkan".into(), "gpu-vulkan".into())]);
        let md = reports[1].markdown();
        assert!(md.starts_with("## On a GPU (Vulkan)"), "{md}");
        assert!(md.contains("### Vulkan computes what the CPU computes"), "{md}");
        assert!(md.contains("| window | vulkan | 512 | — | 7.00e-3 | 2.60 | 17/17 |"), "{md}");
        assert!(md.contains("BACKEND=vulkan crates/bench/gpu/run"), "{md}");
        assert!(reports[0].markdown().starts_with("## On a GPU (CUDA)"));
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn an_empty_directory_is_an_error() {
        let dir = std::env::temp_dir().join(format!("seahorse-gpu-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(import(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
