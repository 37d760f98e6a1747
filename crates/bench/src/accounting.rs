//! The AHN paper's efficiency accounting (FLOPs of one long forward pass, and cache memory),
//! reproduced analytically (shared/design/ahn.md §5.5): for Qwen2.5-3B at 128K tokens with a
//! 32,768-token window, full attention 3.29e15 FLOPs vs AHN 1.95e15 (−40.5 %), and a 9.44 GB
//! KV cache vs 2.45 GB (−74.0 %).

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
    let mixing = s.layers as f64 * (2.0 * qkvo as f64 * n as f64 + 4.0 * (s.heads * s.head_dim) as f64 * attended as f64);
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

/// The section of benchmarks.md.
pub fn markdown() -> String {
    let mut md = String::from("## The paper's efficiency accounting, reproduced\n\n");
    md.push_str(
        "Analytic (`crates/bench/src/accounting.rs`, method of `shared/design/ahn.md` §5.5): FLOPs of \
         one forward pass over N tokens and cache memory at 4 bytes per value. The first row \
         reproduces the paper's teaser (3.29 vs 1.95 ×10¹⁵ FLOPs, −40.5 %; 9.44 vs 2.45 GB, −74.0 %).\n\n",
    );
    md.push_str("| model | N | window | FLOPs full | FLOPs window only | FLOPs AHN | change | cache full | cache AHN | change |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (shape, n, w) in [
        (QWEN25_3B, 128_000, 32_768),
        (QWEN25_CODER_05B, 65_536, 1_088),
        (QWEN25_CODER_05B, 1_048_576, 1_088),
    ] {
        let (ff, fw, fa) = (flops(&shape, n, Mode::Full), flops(&shape, n, Mode::Window(w)), flops(&shape, n, Mode::Ahn(w)));
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
    fn window_covering_the_sequence_costs_the_same_as_full_attention() {
        let n = 4096;
        assert_eq!(flops(&QWEN25_CODER_05B, n, Mode::Full), flops(&QWEN25_CODER_05B, n, Mode::Window(n)));
        assert_eq!(flops(&QWEN25_CODER_05B, n, Mode::Full), flops(&QWEN25_CODER_05B, n, Mode::Ahn(n)));
    }
}
