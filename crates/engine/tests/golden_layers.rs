//! The engine reproduces the official AHN implementation's golden decoder layers
//! (tools/tests/golden/layer_*_hd16_*.npz: GDN, DN, Mamba2; S=2, W=5, N=23), exported to
//! GGUF by `tools/ahn_ref/golden_export.py`: a 1-layer qwen2 model whose token embeddings are
//! the golden inputs and whose LM head is the identity, plus the golden AHN block. The first D
//! logits of token i are then RMSNorm(layer output i), compared with the golden output.
//! (The hd32 files have n_head·head_dim ≠ n_embd, which llama.cpp's qwen2 cannot load.)

mod common;

use common::{default_model, read_npy_f32, tools_python};

use seahorse_engine::{CacheType, CancelToken, Logits, MemoryOptions, Model, ModelOptions, SessionOptions};

/// Golden outputs are float64; the engine computes in F32: 1e-4 on unit-RMS values.
const TOL: f32 = 1e-4;

#[test]
fn engine_reproduces_the_official_golden_layers() {
    let (python, tools) = tools_python();
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(python)
        .current_dir(&tools)
        .args(["-m", "ahn_ref.golden_export", "--out"])
        .arg(dir.path())
        .arg("--tokenizer-from")
        .arg(default_model())
        .args(["--only", "layer_*_hd16_*"])
        .output()
        .unwrap();
    assert!(out.status.success(), "export failed: {}", String::from_utf8_lossy(&out.stderr));

    let mut checked = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let fixture_dir = entry.unwrap().path();
        if !fixture_dir.is_dir() {
            continue;
        }
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture_dir.join("fixture.json")).unwrap()).unwrap();
        let (s, w, n, d) = (
            meta["sinks"].as_u64().unwrap() as u32,
            meta["window"].as_u64().unwrap() as u32,
            meta["n_tokens"].as_u64().unwrap() as usize,
            meta["n_embd"].as_u64().unwrap() as usize,
        );
        let expected = read_npy_f32(&fixture_dir.join("expected.npy"));
        assert_eq!(expected.len(), n * d);
        let memory = MemoryOptions {
            window: w,
            sinks: s,
            block: Some(fixture_dir.join("block.gguf")),
            merged_dir: dir.path().join("merged"),
        };
        let model =
            Model::load(fixture_dir.join("base.gguf"), &ModelOptions { memory: Some(memory), ..Default::default() })
                .unwrap();
        let tokens: Vec<i32> = (0..n as i32).collect();
        for n_ubatch in [512, 1] {
            let opts = SessionOptions {
                n_ctx: 256,
                n_batch: 512,
                n_ubatch,
                cache_type: CacheType::F32,
                flash_attention: Some(false),
                ..Default::default()
            };
            let logits =
                model.session(&opts).unwrap().evaluate(0, &tokens, Logits::All, &CancelToken::new(), |_| {}).unwrap();
            let n_vocab = logits.len() / n;
            let mut worst = 0f32;
            for i in 0..n {
                for j in 0..d {
                    worst = worst.max((logits[i * n_vocab + j] - expected[i * d + j]).abs());
                }
            }
            let name = meta["source"].as_str().unwrap();
            eprintln!("{name}, n_ubatch {n_ubatch}: max |Δ| = {worst:.2e}");
            assert!(worst <= TOL, "{name}, n_ubatch {n_ubatch}: max |Δ| = {worst}");
        }
        checked.push(meta["variant"].as_str().unwrap().to_owned());
    }
    checked.sort();
    assert_eq!(checked, ["dn", "dn", "gdn", "gdn", "mamba2", "mamba2"], "one fixture per variant and seed");
}
