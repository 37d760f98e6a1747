//! The AHN paper's efficiency accounting (FLOPs of one long forward pass, and cache memory),
//! reproduced analytically (the paper's teaser, arXiv 2510.07318 Fig. 1, whose FLOPs and cache sizes this accounting reproduces): for Qwen2.5-3B at 128K tokens with a
//! 32,768-token window, full attention 3.29e15 FLOPs vs AHN 1.95e15 (−40.5 %), and a 9.44 GB
//! KV cache vs 2.45 GB (−74.0 %); and, where suite `stream` reached the length, the same
//! comparison measured on this engine (reading time and saved state).

/// The shapes that matter for the accounting.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub name: &'static str,
    pub hidden: u64,
    pub layers: u64,
    pub heads: u64,
    pub kv_heads: u64,
    pub head_dim: u64,
    pub ffn: u64,
    pub vocab: u64,
}

pub const QWEN25_3B: Shape = Shape {
    name: "Qwen2.5-3B",
    hidden: 2048,
    layers: 36,
    heads: 16,
    kv_heads: 2,
    head_dim: 128,
    ffn: 11008,
    vocab: 151936,
};

pub const QWEN25_CODER_05B: Shape = Shape {
    name: "Qwen2.5-Coder-0.5B",
    hidden: 896,
    layers: 24,
    heads: 14,
    kv_heads: 2,
    head_dim: 64,
    ffn: 4864,
    vocab: 151936,
};

/// Attention variant of the accounting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Full,
    /// Sinks + sliding window, `window` tokens in all (sinks included).
    Window(u64),
    /// Sinks + window + AHN.
    Ahn(u64),
}

/// FLOPs of one forward pass over `n` tokens: per token and layer, 2× the q/k/v/o weights plus
/// 4·H·d per attended token, 2·3·D·FFN for the MLP, and 2·D·V twice per token (embedding
/// counted like the LM head, as the paper does); AHN adds, for every token past the window,
/// its projections (3·2·D·H), its output projection (2·H·d²) and the recurrence (4·H·d²).
pub fn flops(s: &Shape, n: u64, mode: Mode) -> f64 {
    let qkvo = s.hidden * s.heads * s.head_dim * 2 + 2 * s.hidden * s.kv_heads * s.head_dim;
    let attended: u64 = match mode {
        Mode::Full => n * (n + 1) / 2,
        Mode::Window(w) | Mode::Ahn(w) => {
            let w = w.min(n);
            w * (w + 1) / 2 + (n - w) * w
        }
    };
    let mixing =
        s.layers as f64 * (2.0 * qkvo as f64 * n as f64 + 4.0 * (s.heads * s.head_dim) as f64 * attended as f64);
    let mlp = (s.layers * 2 * 3 * s.hidden * s.ffn) as f64 * n as f64;
    let embed = (2 * s.hidden * s.vocab * 2) as f64 * n as f64;
    let ahn = match mode {
        Mode::Ahn(w) if n > w => {
            let per_token = 3 * 2 * s.hidden * s.heads + 6 * s.heads * s.head_dim * s.head_dim;
            (s.layers * per_token) as f64 * (n - w) as f64
        }
        _ => 0.0,
    };
    mixing + mlp + embed + ahn
}

/// Cache bytes at `bytes_per_value` (the paper uses 4): K/V of the attended tokens, plus the
/// AHN state (layers · H · d² values) with AHN.
pub fn cache_bytes(s: &Shape, n: u64, mode: Mode, bytes_per_value: u64) -> u64 {
    let kv_per_token = s.layers * 2 * s.kv_heads * s.head_dim * bytes_per_value;
    match mode {
        Mode::Full => n * kv_per_token,
        Mode::Window(w) => w.min(n) * kv_per_token,
        Mode::Ahn(w) => w.min(n) * kv_per_token + s.layers * s.heads * s.head_dim * s.head_dim * bytes_per_value,
    }
}

/// Cache bytes as this engine stores them: K/V in F16 (the benchmarks' cache type); with AHN
/// (GDN) also the state in F32 and, beside each cached token, its two gates per head in F32
/// (computed when the token enters, used when it leaves the window: ggml-patches/0003).
pub fn engine_cache_bytes(s: &Shape, n: u64, mode: Mode) -> u64 {
    let kv = |tokens: u64| tokens * s.layers * 2 * s.kv_heads * s.head_dim * 2;
    match mode {
        Mode::Full => kv(n),
        Mode::Window(w) => kv(w.min(n)),
        Mode::Ahn(w) => {
            let gates = w.min(n) * s.layers * 2 * s.heads * 4;
            kv(w.min(n)) + gates + s.layers * s.heads * s.head_dim * s.head_dim * 4
        }
    }
}

/// Seconds a stream took to reach `n` tokens (the sum of its chunks' times), if it did.
fn seconds_to(m: &crate::stream::ModeResult, n: usize) -> Option<f64> {
    if m.points.last()?.position < n {
        return None;
    }
    let mut last = 0;
    let mut secs = 0.0;
    for p in m.points.iter().take_while(|p| p.position <= n) {
        secs += (p.position - last) as f64 / p.tokens_per_s;
        last = p.position;
    }
    Some(secs)
}

/// The same comparison measured on the default model by suite `stream`, at the length full
/// attention reached: reading time (FLOPs are what time measures here) and saved state.
fn measured_markdown(stream: &crate::stream::StreamReport) -> Option<String> {
    let (full, ahn) = (stream.at("full")?, stream.at("ahn")?);
    let n = full.points.last()?.position;
    let (tf, ta) = (seconds_to(full, n)?, seconds_to(ahn, n)?);
    let w = u64::from(stream.window + stream.sinks);
    let s = QWEN25_CODER_05B;
    let (ff, fa) = (flops(&s, n as u64, Mode::Full), flops(&s, n as u64, Mode::Ahn(w)));
    let (cf, ca) = (engine_cache_bytes(&s, n as u64, Mode::Full), engine_cache_bytes(&s, n as u64, Mode::Ahn(w)));
    let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
    let mut md = format!(
        "Measured on this engine (suite `stream`, `{}`, {} threads, CPU `{}`) at the length full attention \
         reached, next to the analytic figures for the same N and window (W + S = {w}); the cache as the \
         engine keeps it (K/V in F16; the AHN state, and two gates per head beside each cached token, in \
         F32) against the saved sequence state:\n\n\
         | N | FLOPs change (analytic) | reading time full | reading time AHN | change | cache full (analytic) | saved state full | cache AHN (analytic) | saved state AHN | change (saved) |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
        stream.model, stream.threads, stream.cpu
    );
    md.push_str(&format!(
        "| {n} | {:+.1} % | {tf:.0} s | {ta:.0} s | {:+.1} % | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:+.1} % |\n\n",
        (fa / ff - 1.0) * 100.0,
        (ta / tf - 1.0) * 100.0,
        mib(cf),
        mib(full.state_bytes),
        mib(ca),
        mib(ahn.state_bytes),
        (ahn.state_bytes as f64 / full.state_bytes as f64 - 1.0) * 100.0
    ));
    Some(md)
}

/// The section of benchmarks.md.
pub fn markdown(stream: Option<&crate::stream::StreamReport>) -> String {
    let mut md = String::from("## The paper's efficiency accounting, reproduced\n\n");
    md.push_str(
        "Analytic (`crates/bench/src/accounting.rs`, the accounting that reproduces the paper's teaser, arXiv 2510.07318): FLOPs of \
         one forward pass over N tokens and cache memory at 4 bytes per value. The first row \
         reproduces the paper's teaser (3.29 vs 1.95 ×10¹⁵ FLOPs, −40.5 %; 9.44 vs 2.45 GB, −74.0 %).\n\n",
    );
    md.push_str("| model | N | window | FLOPs full | FLOPs window only | FLOPs AHN | change | cache full | cache AHN | change |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (shape, n, w) in
        [(QWEN25_3B, 128_000, 32_768), (QWEN25_CODER_05B, 65_536, 1_088), (QWEN25_CODER_05B, 1_048_576, 1_088)]
    {
        let (ff, fw, fa) =
            (flops(&shape, n, Mode::Full), flops(&shape, n, Mode::Window(w)), flops(&shape, n, Mode::Ahn(w)));
        let (cf, ca) = (cache_bytes(&shape, n, Mode::Full, 4), cache_bytes(&shape, n, Mode::Ahn(w), 4));
        md.push_str(&format!(
            "| {} | {} | {} | {:.3e} | {:.3e} | {:.3e} | {:+.1} % | {:.2} GB | {:.3} GB | {:+.1} % |\n",
            shape.name,
            n,
            w,
            ff,
            fw,
            fa,
            (fa / ff - 1.0) * 100.0,
            cf as f64 / 1e9,
            ca as f64 / 1e9,
            (ca as f64 / cf as f64 - 1.0) * 100.0
        ));
    }
    md.push('\n');
    if let Some(measured) = stream.and_then(measured_markdown) {
        md.push_str(&measured);
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_papers_numbers_for_qwen25_3b_at_128k() {
        let n = 128_000;
        let full = flops(&QWEN25_3B, n, Mode::Full);
        let window = flops(&QWEN25_3B, n, Mode::Window(32_768));
        let ahn = flops(&QWEN25_3B, n, Mode::Ahn(32_768));
        assert!((full / 3.286e15 - 1.0).abs() < 1e-3, "{full:e}");
        assert!((window / 1.948e15 - 1.0).abs() < 1e-3, "{window:e}");
        assert_eq!(format!("{:.1}", (1.0 - ahn / full) * 100.0), "40.5");
        let kv_full = cache_bytes(&QWEN25_3B, n, Mode::Full, 4);
        let kv_ahn = cache_bytes(&QWEN25_3B, n, Mode::Ahn(32_768), 4);
        assert_eq!(format!("{:.2}", kv_full as f64 / 1e9), "9.44");
        assert_eq!(format!("{:.2}", kv_ahn as f64 / 1e9), "2.45");
        assert_eq!(format!("{:.1}", (1.0 - kv_ahn as f64 / kv_full as f64) * 100.0), "74.0");
    }

    #[test]
    fn engine_cache_matches_what_the_engine_saves() {
        // The sequence states the stream suite saved: full attention at 32K tokens 384.4 MiB,
        // the window (W + S = 1088) 12.8 MiB: K/V in F16 plus a little bookkeeping.
        let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
        assert_eq!(mib(engine_cache_bytes(&QWEN25_CODER_05B, 32_768, Mode::Full)), 384.0);
        assert!((mib(engine_cache_bytes(&QWEN25_CODER_05B, 32_768, Mode::Window(1088))) - 12.75).abs() < 1e-9);
        // AHN: 12.75 MiB of K/V, 2.79 MiB of gates, 5.25 MiB of state; the engine saved 20.8 MiB.
        assert!((mib(engine_cache_bytes(&QWEN25_CODER_05B, 32_768, Mode::Ahn(1088))) - 20.79).abs() < 0.01);
    }

    #[test]
    fn measured_rows_come_from_the_stream_suite() {
        use crate::stream::{ModeResult, Point, StreamReport};
        let mode = |name: &str, tps: &[f64], state_mib: u64| ModeResult {
            mode: name.into(),
            points: tps
                .iter()
                .enumerate()
                .map(|(i, &t)| Point { position: (i + 1) * 4096, tokens_per_s: t, rss_bytes: 0 })
                .collect(),
            peak_rss_bytes: 0,
            state_bytes: state_mib << 20,
            run_unix_s: 0,
            patch_rev: String::new(),
            note: None,
        };
        let report = StreamReport {
            model: "m".into(),
            tokens: 16384,
            chunk: 4096,
            window: 1024,
            sinks: 64,
            threads: 2,
            cpu: "c".into(),
            // full: 4096/100 + 4096/50 s; AHN to the same 8192 tokens: 2 × 4096/200 s.
            modes: vec![mode("full", &[100.0, 50.0], 96), mode("ahn", &[200.0, 200.0, 200.0, 200.0], 24)],
        };
        let md = markdown(Some(&report));
        assert!(md.contains("| 8192 |"), "{md}");
        assert!(md.contains("| 123 s | 41 s | -66.7 % |"), "{md}");
        assert!(md.contains("| 96.0 MiB | "), "{md}");
        assert!(md.contains("| 24.0 MiB | -75.0 % |"), "{md}");
        assert!(!markdown(None).contains("Measured on this engine"));
    }

    #[test]
    fn window_covering_the_sequence_costs_the_same_as_full_attention() {
        let n = 4096;
        assert_eq!(flops(&QWEN25_CODER_05B, n, Mode::Full), flops(&QWEN25_CODER_05B, n, Mode::Window(n)));
        assert_eq!(flops(&QWEN25_CODER_05B, n, Mode::Full), flops(&QWEN25_CODER_05B, n, Mode::Ahn(n)));
    }
}
