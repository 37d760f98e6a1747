//! The GPU suite's sections of benchmarks.md, one per backend (CUDA, Vulkan).

use super::{GpuReport, GpuStream};

impl GpuReport {
    /// The backend as the report names it.
    pub(super) fn backend_name(&self) -> &str {
        match self.backend.as_str() {
            "cuda" => "CUDA",
            "vulkan" => "Vulkan",
            other => other,
        }
    }

    /// How the script builds llama.cpp for this backend (crates/bench/gpu/run).
    fn build_phrase(&self) -> &'static str {
        match self.backend.as_str() {
            "vulkan" => {
                "with Vulkan from parts of Debian's packages that the script carries there \
                 (`crates/bench/gpu/prepare --vulkan`: Vulkan 1.4.309 headers, the 1.3.239 loader and \
                 Debian 12's glslc, which lacks the cooperative-matrix and integer-dot-product \
                 extensions, so matrix products use the plain shaders) and run through the NVIDIA \
                 driver's EGL Vulkan library (its GLX one cannot create an instance without a display)"
            }
            _ => {
                "with CUDA for sm_90, without FlashAttention kernels (a shorter build; every mode then \
                 uses the same unfused attention)"
            }
        }
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

    /// The report's section of benchmarks.md.
    pub fn markdown(&self) -> String {
        let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
        let name = self.backend_name();
        let mut md = format!("## On a GPU ({name})\n\n");
        md.push_str(&format!(
            "`{}` — one run of `{}` on a lent GPU machine, imported with \
             `seahorse-bench gpu-import` (raw numbers: `docs/bench/{}.json`). The patched llama.cpp \
             (patch revision `{}`) is built there {}. That machine has no \
             model files: the models are random-weight files with the default model's exact metadata, \
             tensor shapes and tensor types (`qwen2.5-coder-0.5b-instruct-q4_k_m`), with and without the \
             shipped AHN block — speed and memory do not depend on the weights' values.\n\n",
            self.gpu,
            if self.backend == "cuda" {
                "crates/bench/gpu/run".to_owned()
            } else {
                format!("BACKEND={} crates/bench/gpu/run", self.backend)
            },
            self.file_stem(),
            self.patch_rev,
            self.build_phrase()
        ));
        if !self.checks.is_empty() {
            md.push_str(
                &format!("### {name} computes what the CPU computes\n\n\
                 Logits of 600 random tokens at W = 128, S = 4 (so that 468 tokens pass through the \
                 AHN memory), F32 weights and cache, every 37th position and the last, compared with \
                 the CPU at ubatch 64. A random network amplifies rounding, so the CPU's own \
                 difference between ubatch sizes is the scale to read the {name} rows against; the last \
                 row is the AHN's own effect on the same logits (what a broken memory path would \
                 change).\n\n\
                 | mode | backend | ubatch | saved and restored after | max abs difference | largest abs logit | same argmax |\n\
                 |---|---|---|---|---|---|---|\n"),
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
            let warm_up = if self.backend == "vulkan" {
                " (on Vulkan, creating the compute pipelines, which the NVIDIA driver then keeps in its \
                 shader cache: the window mode ran first and read its first chunk at a fraction of the \
                 speed of the modes after it; its decoding, also the first to need the one-token \
                 pipelines, is most likely slower for the same reason)"
            } else {
                ""
            };
            md.push_str(&format!(
                "### Reading a long document on the GPU\n\n\
                 Random tokens streamed in ubatches of 512 (a measurement every chunk), W = 1024, S = 64 \
                 for the windowed modes; full attention to 128K tokens. Device memory is what the GPU \
                 reports in use (weights, caches and compute buffers). After the stream: the saved \
                 state's size, decoding speed (64 greedy tokens), and a 96-token question asked from the \
                 state restored into a new context. The mean leaves out the first chunk, which also \
                 pays for the backend's warm-up{warm_up}.\n\n\
                 | mode | tokens read | tok/s, first chunk | tok/s, last chunk | tok/s, mean after the first chunk | device memory, first → last chunk | saved state | decode tok/s | restore | first token of the question |\n\
                 |---|---|---|---|---|---|---|---|---|---|\n"
            ));
            for s in &self.streams {
                let (Some(first), Some(last)) = (s.points.first(), s.points.last()) else { continue };
                md.push_str(&format!(
                    "| {} | {}{} | {:.0} | {:.0} | {:.0} | {:.0} → {:.0} MiB | {:.1} MiB | {:.1} | {:.3} s | {:.3} s |\n",
                    s.mode,
                    last.position,
                    if s.stopped.is_some() { " (time limit)" } else { "" },
                    first.tokens_per_s,
                    last.tokens_per_s,
                    Self::steady_tokens_per_s(s),
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
                let ratio = Self::steady_tokens_per_s(a) / Self::steady_tokens_per_s(w);
                let flat = |s: &GpuStream| {
                    // Last chunk against the first chunk that compresses (the second).
                    let p = &s.points;
                    if p.len() >= 3 {
                        p[p.len() - 1].tokens_per_s / p[1].tokens_per_s
                    } else {
                        f64::NAN
                    }
                };
                md.push_str(&format!(
                    "\nAHN / window mean throughput on {name}: {ratio:.2}×. Last chunk / second chunk: AHN {:.2}, window {:.2}.\n",
                    flat(a),
                    flat(w)
                ));
                let (ta, tw) = (1e6 / Self::steady_tokens_per_s(a), 1e6 / Self::steady_tokens_per_s(w));
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
                            Self::steady_tokens_per_s(a) / full
                        ));
                    }
                }
            }
            md.push_str(&format!("\n![{name} throughput](bench/{}-throughput.svg)\n\n", self.file_stem()));
        }
        if !self.cpu_threads.is_empty() {
            md.push_str(&self.threads_markdown());
        }
        md
    }
}
