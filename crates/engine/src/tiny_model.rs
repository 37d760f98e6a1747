//! Tiny random-weight qwen2 models for exactness tests: F32 weights, so that engine and
//! reference can be compared to 1e-3, with the tokenizer of a real model copied in (the
//! engine needs a vocabulary to load; tests feed token ids directly).

use std::path::Path;

use crate::ahn_block::{write_gguf, KvValue};
use crate::error::Result;

/// Shape of a tiny qwen2 model.
#[derive(Clone, Debug)]
pub struct TinyQwen2 {
    /// Layers.
    pub n_layer: u32,
    /// Hidden size.
    pub n_embd: u32,
    /// Query heads.
    pub n_head: u32,
    /// Key/value heads (GQA when fewer than `n_head`).
    pub n_head_kv: u32,
    /// FFN width.
    pub n_ff: u32,
    /// Seed of the weights.
    pub seed: u64,
}

impl TinyQwen2 {
    /// Head size (`n_embd / n_head`).
    pub fn head_dim(&self) -> u32 {
        self.n_embd / self.n_head
    }

    /// Writes the model to `path`, copying the `tokenizer.*` metadata (and so the vocabulary
    /// size) from `tokenizer_from`.
    pub fn write(&self, path: &Path, tokenizer_from: &Path) -> Result<()> {
        let src = crate::gguf::GgufFile::open(tokenizer_from)?;
        let id = src.find_key("tokenizer.ggml.tokens").expect("tokenizer_from has no vocabulary");
        // SAFETY: id is a valid array key of src.
        let n_vocab = unsafe { llama_cpp_sys_2::gguf_get_arr_n(src.ctx, id) } as i64;
        drop(src);

        let (e, hd) = (self.n_embd as i64, self.head_dim() as i64);
        let (q, kv, ff) = (self.n_head as i64 * hd, self.n_head_kv as i64 * hd, self.n_ff as i64);
        let mut tensors =
            vec![("token_embd.weight".to_owned(), [e, n_vocab, 1, 1]), ("output_norm.weight".to_owned(), [e, 1, 1, 1])];
        for i in 0..self.n_layer {
            for (name, ne) in [
                ("attn_norm.weight", [e, 1, 1, 1]),
                ("attn_q.weight", [e, q, 1, 1]),
                ("attn_q.bias", [q, 1, 1, 1]),
                ("attn_k.weight", [e, kv, 1, 1]),
                ("attn_k.bias", [kv, 1, 1, 1]),
                ("attn_v.weight", [e, kv, 1, 1]),
                ("attn_v.bias", [kv, 1, 1, 1]),
                ("attn_output.weight", [q, e, 1, 1]),
                ("ffn_norm.weight", [e, 1, 1, 1]),
                ("ffn_gate.weight", [e, ff, 1, 1]),
                ("ffn_up.weight", [e, ff, 1, 1]),
                ("ffn_down.weight", [ff, e, 1, 1]),
            ] {
                tensors.push((format!("blk.{i}.{name}"), ne));
            }
        }
        let kv_pairs = vec![
            ("general.architecture".to_owned(), KvValue::Str("qwen2".into())),
            ("general.name".to_owned(), KvValue::Str(format!("tiny-qwen2-seed{}", self.seed))),
            ("qwen2.block_count".to_owned(), KvValue::U32(self.n_layer)),
            ("qwen2.context_length".to_owned(), KvValue::U32(32768)),
            ("qwen2.embedding_length".to_owned(), KvValue::U32(self.n_embd)),
            ("qwen2.feed_forward_length".to_owned(), KvValue::U32(self.n_ff)),
            ("qwen2.attention.head_count".to_owned(), KvValue::U32(self.n_head)),
            ("qwen2.attention.head_count_kv".to_owned(), KvValue::U32(self.n_head_kv)),
            ("qwen2.rope.freq_base".to_owned(), KvValue::F32(1e6)),
            ("qwen2.attention.layer_norm_rms_epsilon".to_owned(), KvValue::F32(1e-6)),
        ];
        let mut rng = SplitMix(self.seed);
        write_gguf(path, Some((tokenizer_from, "tokenizer.")), &kv_pairs, &tensors, |name, ne| {
            let n = ne.iter().product::<i64>() as usize;
            if name.ends_with("norm.weight") {
                return (0..n).map(|_| 1.0 + 0.1 * rng.uniform()).collect();
            }
            let fan_in = ne[0] as f32;
            let scale = if name.ends_with(".bias") || name == "token_embd.weight" { 0.1 } else { 1.0 / fan_in.sqrt() };
            (0..n).map(|_| scale * rng.uniform()).collect()
        })
    }
}

/// SplitMix64: a small, well-mixed, reproducible generator (uniform in [-1, 1)).
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Next value, uniform in [-1, 1).
    pub fn uniform(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}
