//! AHN block files: validation, clear errors for corrupted or mismatched blocks, and the
//! streaming merge with the base model.

mod common;

use std::path::Path;

use common::default_model;

use seahorse_engine::tiny_model::{SplitMix, TinyQwen2};
use seahorse_engine::{
    merge, write_block, write_gguf, AhnBlockInfo, AhnType, EngineError, KvValue, MemoryOptions, Model, ModelOptions,
};

fn tiny() -> TinyQwen2 {
    TinyQwen2 { n_layer: 2, n_embd: 128, n_head: 2, n_head_kv: 1, n_ff: 192, seed: 9 }
}

fn info(path: &Path, ahn_type: AhnType, layers: u32, heads: u32, head_dim: u32, embd: u32) -> AhnBlockInfo {
    AhnBlockInfo {
        path: path.to_owned(),
        architecture: "qwen2".into(),
        ahn_type,
        block_count: layers,
        head_count: heads,
        head_dim,
        embedding_length: embd,
        window: Some(16),
        sinks: Some(4),
        n_params: 0,
    }
}

fn write(path: &Path, info: &AhnBlockInfo) {
    let mut rng = SplitMix(3);
    write_block(path, info, |_, ne| (0..ne.iter().product::<i64>()).map(|_| 0.1 * rng.uniform()).collect()).unwrap();
}

fn load_with(model: &Path, block: &Path, dir: &Path) -> Result<Model, EngineError> {
    let memory =
        Some(MemoryOptions { window: 16, sinks: 4, block: Some(block.to_owned()), merged_dir: dir.to_owned() });
    Model::load(model, &ModelOptions { memory, ..Default::default() })
}

#[test]
fn block_metadata_and_parameter_count_are_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.gguf");
    // A GDN block shaped like Qwen2.5-3B's: 36 layers, 16 heads of 128, hidden 2048.
    let spec = info(&path, AhnType::Gdn, 36, 16, 128, 2048);
    write(&path, &spec);
    let read = AhnBlockInfo::read(&path).unwrap();
    assert_eq!(read.ahn_type, AhnType::Gdn);
    assert_eq!((read.block_count, read.head_count, read.head_dim), (36, 16, 128));
    assert_eq!((read.window, read.sinks), (Some(16), Some(4)));
    // ahn.md §6: 12,982,464 parameters for Qwen2.5-3B GDN.
    assert_eq!(read.n_params, 12_982_464);
}

#[test]
fn corrupted_and_foreign_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny.gguf");
    let cfg = tiny();
    cfg.write(&model, &default_model()).unwrap();
    let good = dir.path().join("good.gguf");
    write(&good, &info(&good, AhnType::Gdn, 2, 2, 64, 128));
    assert!(load_with(&model, &good, dir.path()).is_ok());

    // Truncated block.
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("truncated.gguf");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_with(&model, &truncated, dir.path()).unwrap_err();
    assert!(matches!(err, EngineError::BadGguf { .. }), "{err}");

    // Not GGUF at all.
    let text = dir.path().join("text.gguf");
    std::fs::write(&text, b"definitely not a gguf file").unwrap();
    let err = load_with(&model, &text, dir.path()).unwrap_err();
    assert!(err.to_string().contains("not a valid GGUF"), "{err}");

    // A model file given as the block.
    let err = load_with(&model, &model, dir.path()).unwrap_err();
    assert!(err.to_string().contains("not an AHN block"), "{err}");

    // A block with a tensor missing, and one with a foreign tensor.
    let missing = dir.path().join("missing.gguf");
    let spec = info(&missing, AhnType::Dn, 2, 2, 64, 128);
    let mut tensors = spec.expected_tensors();
    tensors.pop();
    let kv = block_kv(&spec);
    write_gguf(&missing, None, &kv, &tensors, |_, ne| vec![0.0; ne.iter().product::<i64>() as usize]).unwrap();
    let err = load_with(&model, &missing, dir.path()).unwrap_err();
    assert!(err.to_string().contains("tensors, expected"), "{err}");
    let foreign = dir.path().join("foreign.gguf");
    let mut tensors = spec.expected_tensors();
    tensors.push(("blk.0.something_else.weight".into(), [4, 1, 1, 1]));
    write_gguf(&foreign, None, &kv, &tensors, |_, ne| vec![0.0; ne.iter().product::<i64>() as usize]).unwrap();
    let err = load_with(&model, &foreign, dir.path()).unwrap_err();
    assert!(err.to_string().contains("unexpected tensor blk.0.something_else.weight"), "{err}");
}

fn block_kv(spec: &AhnBlockInfo) -> Vec<(String, KvValue)> {
    vec![
        ("general.type".into(), KvValue::Str("ahn".into())),
        ("ahn.base_architecture".into(), KvValue::Str("qwen2".into())),
        ("qwen2.ahn.type".into(), KvValue::Str(spec.ahn_type.as_str().into())),
        ("qwen2.ahn.block_count".into(), KvValue::U32(spec.block_count)),
        ("qwen2.ahn.head_count".into(), KvValue::U32(spec.head_count)),
        ("qwen2.ahn.head_dim".into(), KvValue::U32(spec.head_dim)),
        ("qwen2.ahn.embedding_length".into(), KvValue::U32(spec.embedding_length)),
    ]
}

#[test]
fn mismatched_blocks_are_refused_with_the_difference() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny.gguf");
    tiny().write(&model, &default_model()).unwrap();
    for (spec, expect) in [
        (info(Path::new("x"), AhnType::Gdn, 3, 2, 64, 128), "layers: the block has 3, the model 2"),
        (info(Path::new("x"), AhnType::Gdn, 2, 4, 32, 128), "heads: the block has 4, the model 2"),
        (info(Path::new("x"), AhnType::Mamba2, 2, 2, 64, 256), "hidden size: the block has 256, the model 128"),
    ] {
        let path = dir.path().join("mismatch.gguf");
        write(&path, &spec);
        let err = load_with(&model, &path, dir.path()).unwrap_err();
        assert!(matches!(err, EngineError::AhnBlockMismatch { .. }), "{err}");
        assert!(err.to_string().contains(expect), "{err}");
    }
    // A block for another architecture.
    let path = dir.path().join("llama.gguf");
    let mut spec = info(&path, AhnType::Dn, 2, 2, 64, 128);
    spec.architecture = "llama".into();
    write(&path, &spec);
    let err = load_with(&model, &path, dir.path()).unwrap_err();
    assert!(err.to_string().contains("the block is for \"llama\" models"), "{err}");
}

#[test]
fn merge_streams_every_tensor_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny.gguf");
    tiny().write(&model, &default_model()).unwrap();
    let block = dir.path().join("b.gguf");
    write(&block, &info(&block, AhnType::Mamba2, 2, 2, 64, 128));
    let merged = dir.path().join("merged.gguf");
    merge(&model, &block, &merged).unwrap();
    // The merged file holds both files' bytes: its size is at least their tensor data, and
    // the base model file is untouched.
    let sizes = |p: &Path| std::fs::metadata(p).unwrap().len();
    assert!(sizes(&merged) >= sizes(&block) + sizes(&model) - 64 * 1024, "merged file too small");
    // It loads, with the block's tensors in place, and the result does not change the base.
    let before = std::fs::read(&model).unwrap();
    let m = load_with(&model, &block, dir.path()).unwrap();
    assert_eq!(m.info().n_layer, 2);
    assert_eq!(std::fs::read(&model).unwrap(), before);
    // Loading again reuses the cached merge.
    let cached: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.contains(".ahn-").then_some(name)
        })
        .collect();
    assert_eq!(cached.iter().filter(|n| n.ends_with(".gguf")).count(), 1, "{cached:?}");
    let mtime = |n: &str| std::fs::metadata(dir.path().join(n)).unwrap().modified().unwrap();
    let gguf = cached.iter().find(|n| n.ends_with(".gguf")).unwrap();
    let t0 = mtime(gguf);
    load_with(&model, &block, dir.path()).unwrap();
    assert_eq!(mtime(gguf), t0, "the merge must be reused");
}
