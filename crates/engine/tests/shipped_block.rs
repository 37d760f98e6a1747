//! The AHN block shipped for the default model (assets/ahn/, trained by tools/ahn_train): the
//! engine loads it and computes what the independent JAX reference (tools/ahn_ref, float64)
//! computes, before and after cells of the window cache are reused, at ubatches 512, 16 and 1.
//!
//! Both run the base model with its Q4_K_M weights expanded to F32 (`ahn_ref.cli dequantize`):
//! on the quantized file llama.cpp also quantizes the activations, which alone moves logits by
//! ~1.7, far more than the block's effect. With F32 weights and cache and flash attention off the
//! engine matches the reference to ~2e-4 (measured); tolerance 2e-3, and the block must move the
//! reference's logits by more than ten times that.

mod common;

use std::path::Path;

use common::{default_model, read_npy_f32, tools_python};
use seahorse_engine::{CacheType, CancelToken, Logits, MemoryOptions, Model, ModelOptions, SessionOptions};

const W: u32 = 32;
const S: u32 = 4;
/// Largest |Δ| of a logit allowed between the engine (float32) and the reference (float64).
const TOL: f32 = 2e-3;

const TEXT: &str = "Sir Walter Elliot, of Kellynch Hall, in Somersetshire, was a man who, for his own \
amusement, never took up any book but the Baronetage; there he found occupation for an idle hour, and \
consolation in a distressed one; there his faculties were roused into admiration and respect, by \
contemplating the limited remnant of the earliest patents; there any unwelcome sensations, arising from \
domestic affairs changed naturally into pity and contempt as he turned over the almost endless creations \
of the last century; and there, if every other leaf were powerless, he could read his own history with an \
interest which never failed. The seahorse kept a ledger of every current it had crossed.";

fn engine_logits(base: &Path, block: Option<&Path>, toks: &[i32], n_ubatch: u32, dir: &Path) -> Vec<f32> {
    let memory =
        Some(MemoryOptions { window: W, sinks: S, block: block.map(Path::to_owned), merged_dir: dir.to_owned() });
    let model = Model::load(base, &ModelOptions { memory, ..Default::default() }).unwrap();
    let opts = SessionOptions {
        n_ctx: 1024,
        n_batch: 512,
        n_ubatch,
        cache_type: CacheType::F32,
        flash_attention: Some(false),
        ..Default::default()
    };
    let mut session = model.session(&opts).unwrap();
    session.evaluate(0, toks, Logits::All, &CancelToken::new(), |_| {}).unwrap()
}

fn reference_logits(base: &Path, block: Option<&Path>, toks: &[i32], dir: &Path) -> Vec<f32> {
    let (python, tools) = tools_python();
    let tokens_file = dir.join("tokens.txt");
    std::fs::write(&tokens_file, toks.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" ")).unwrap();
    let out = dir.join("reference.npy");
    let mut cmd = std::process::Command::new(python);
    cmd.current_dir(&tools)
        .args(["-m", "ahn_ref.cli", "logits", "--model"])
        .arg(base)
        .args(["--sinks", &S.to_string(), "--window", &W.to_string(), "--tokens-file"])
        .arg(&tokens_file)
        .arg("--out")
        .arg(&out);
    if let Some(b) = block {
        cmd.arg("--block").arg(b);
    }
    let run = cmd.output().unwrap();
    assert!(run.status.success(), "reference failed: {}", String::from_utf8_lossy(&run.stderr));
    read_npy_f32(&out)
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// The base model with every weight expanded to F32 (`python -m ahn_ref.cli dequantize`).
fn dequantized(base: &Path, dir: &Path) -> std::path::PathBuf {
    let (python, tools) = tools_python();
    let out = dir.join("base-f32.gguf");
    let run = std::process::Command::new(python)
        .current_dir(&tools)
        .args(["-m", "ahn_ref.cli", "dequantize"])
        .arg(base)
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "dequantize failed: {}", String::from_utf8_lossy(&run.stderr));
    out
}

#[test]
fn shipped_block_runs_in_the_engine_as_in_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let block = seahorse_models::default_block(&seahorse_models::cache_dir_in(|k| std::env::var_os(k)))
        .unwrap()
        .expect("the default model ships a block");
    let base = dequantized(&default_model(), dir.path());
    // Twice the text: more tokens than the 256 cells of the window cache at ubatches 16 and 1.
    let toks = Model::load(&base, &ModelOptions::default()).unwrap().tokenize(&TEXT.repeat(2));
    assert!(toks.len() > 256, "{} tokens", toks.len());

    let ref_window = reference_logits(&base, None, &toks, dir.path());
    let ref_ahn = reference_logits(&base, Some(&block), &toks, dir.path());
    let effect = max_abs(&ref_ahn, &ref_window);
    let d_window = max_abs(&engine_logits(&base, None, &toks, 512, dir.path()), &ref_window);
    eprintln!("sinks + window: max |engine − reference| {d_window:.2e}; the block moves the reference's logits by up to {effect:.3}");
    assert!(d_window <= TOL, "sinks + window: {d_window}");
    assert!(effect > 10.0 * TOL, "the block changes nothing measurable: {effect}");
    for n_ubatch in [512, 16, 1] {
        let d = max_abs(&engine_logits(&base, Some(&block), &toks, n_ubatch, dir.path()), &ref_ahn);
        eprintln!("AHN, n_ubatch {n_ubatch}: max |engine − reference| {d:.2e}");
        assert!(d <= TOL, "AHN, n_ubatch {n_ubatch}: max |engine − reference| = {d}");
    }
}
