//! Refusals: each with its error, and nothing written.

use super::*;

/// Asserts a checkpoint refusal naming `path` and containing every needle.
pub(crate) fn assert_refused(result: seahorse_engine::Result<ConvertReport>, path: &Path, needles: &[&str]) {
    let err = result.expect_err("the conversion must be refused");
    let text = err.to_string();
    match &err {
        EngineError::AhnCheckpoint { path: p, reason } => {
            assert_eq!(p, path, "{text}");
            for needle in needles {
                assert!(reason.contains(needle), "{needle:?} not in {text:?}");
            }
        }
        other => panic!("expected AhnCheckpoint, got {other:?}"),
    }
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(!text.contains("--"), "no command-line flags in engine errors: {text}");
}

pub(crate) fn drop_tensor(name: &'static str) -> impl FnOnce(&mut Vec<SourceTensor>, &mut Rng) {
    move |ts, _| ts.retain(|t| t.name != name)
}

pub(crate) fn add_tensor(
    name: &'static str,
    dtype: Dtype,
    shape: &'static [usize],
) -> impl FnOnce(&mut Vec<SourceTensor>, &mut Rng) {
    move |ts, rng| ts.push(random_tensor(rng, name.to_owned(), dtype, shape.to_vec()))
}

pub(crate) fn reshape(name: &'static str, shape: &'static [usize]) -> impl FnOnce(&mut Vec<SourceTensor>, &mut Rng) {
    move |ts, rng| {
        let t = ts.iter_mut().find(|t| t.name == name).unwrap();
        *t = random_tensor(rng, name.to_owned(), t.dtype, shape.to_vec());
    }
}

pub(crate) fn retype(name: &'static str, dtype: Dtype) -> impl FnOnce(&mut Vec<SourceTensor>, &mut Rng) {
    move |ts, rng| {
        let t = ts.iter_mut().find(|t| t.name == name).unwrap();
        *t = random_tensor(rng, name.to_owned(), dtype, t.shape.clone());
    }
}

pub(crate) type Edit = Box<dyn FnOnce(&mut Vec<SourceTensor>, &mut Rng)>;

/// A bad checkpoint: name, cell, config.json edits, tensor edits, the file the error must
/// name, and what the message must say.
pub(crate) type Refusal = (&'static str, AhnType, Value, Edit, At, Vec<&'static str>);

/// Where a refusal is expected to point.
#[derive(Clone, Copy)]
pub(crate) enum At {
    Config,
    Weights,
}

#[test]
fn bad_checkpoints_are_refused_and_nothing_is_written() {
    let cases: Vec<Refusal> = vec![
        (
            "missing tensor",
            AhnType::Gdn,
            json!({}),
            Box::new(drop_tensor("model.layers.1.ahn.fn.D")),
            At::Weights,
            vec!["1 gdn AHN tensors missing: model.layers.1.ahn.fn.D"],
        ),
        (
            "wrong shape",
            AhnType::Dn,
            json!({}),
            Box::new(reshape("model.layers.0.ahn.fn.o_proj.weight", &[3, 8, 7])),
            At::Weights,
            vec!["model.layers.0.ahn.fn.o_proj.weight has shape [3, 8, 7], expected [3, 8, 8]"],
        ),
        (
            "transposed projection",
            AhnType::Mamba2,
            json!({}),
            Box::new(reshape("model.layers.1.ahn.fn.dt_proj.weight", &[24, 3])),
            At::Weights,
            vec!["model.layers.1.ahn.fn.dt_proj.weight has shape [24, 3], expected [3, 24]"],
        ),
        (
            "router tensors",
            AhnType::Gdn,
            json!({}),
            Box::new(add_tensor("model.layers.0.ahn_router.alpha", Dtype::F32, &[3])),
            At::Weights,
            vec!["holds the AHN router", "model.layers.0.ahn_router.alpha", "not supported"],
        ),
        (
            "router in config",
            AhnType::Gdn,
            json!({"use_ahn_router": true}),
            Box::new(no_edit),
            At::Config,
            vec!["use_ahn_router is true"],
        ),
        (
            "unknown variant",
            AhnType::Dn,
            json!({"_ahn_implementation": "RWKV7"}),
            Box::new(no_edit),
            At::Config,
            vec!["unknown _ahn_implementation \"RWKV7\", expected one of DeltaNet, GatedDeltaNet, Mamba2"],
        ),
        (
            "no variant",
            AhnType::Dn,
            json!({"_ahn_implementation": null}),
            Box::new(no_edit),
            At::Config,
            vec!["unknown _ahn_implementation null"],
        ),
        (
            "other variant's tensor",
            AhnType::Gdn,
            json!({}),
            Box::new(add_tensor("model.layers.0.ahn.fn.norm.weight", Dtype::F32, &[24])),
            At::Weights,
            vec!["not gdn AHN tensors of a 2-layer model: model.layers.0.ahn.fn.norm.weight"],
        ),
        (
            "base model tensor",
            AhnType::Dn,
            json!({}),
            Box::new(add_tensor("model.layers.0.self_attn.q_proj.weight", Dtype::BF16, &[24, 24])),
            At::Weights,
            vec!["not dn AHN tensors", "model.layers.0.self_attn.q_proj.weight"],
        ),
        (
            "layer too many",
            AhnType::Mamba2,
            json!({}),
            Box::new(add_tensor("model.layers.2.ahn.fn.A_log", Dtype::F32, &[3])),
            At::Weights,
            vec!["model.layers.2.ahn.fn.A_log"],
        ),
        (
            "integer dtype",
            AhnType::Dn,
            json!({}),
            Box::new(retype("model.layers.0.ahn.fn.o_norm.weight", Dtype::I32)),
            At::Weights,
            vec!["model.layers.0.ahn.fn.o_norm.weight has dtype I32, expected one of F32, F16, BF16, F64"],
        ),
        (
            "not qwen2",
            AhnType::Gdn,
            json!({"model_type": "llama"}),
            Box::new(no_edit),
            At::Config,
            vec!["model_type \"llama\""],
        ),
        (
            "no layer count",
            AhnType::Gdn,
            json!({"num_hidden_layers": null}),
            Box::new(no_edit),
            At::Config,
            vec!["missing num_hidden_layers"],
        ),
        (
            "bad size",
            AhnType::Gdn,
            json!({"num_attention_heads": -3}),
            Box::new(no_edit),
            At::Config,
            vec!["num_attention_heads is -3, expected a positive integer"],
        ),
        (
            "absurd layer count",
            AhnType::Dn,
            json!({"num_hidden_layers": 4_000_000_000u32}),
            Box::new(no_edit),
            At::Config,
            vec!["num_hidden_layers is 4000000000, more than any model has"],
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (k, (case, t, config, edit, at, needles)) in cases.into_iter().enumerate() {
        let dir = tmp.path().join(format!("case{k}"));
        let ckpt = write_checkpoint(&dir.join("ckpt"), t, TINY, Dtypes::All(Dtype::BF16), config, edit);
        let out = dir.join("block.gguf");
        let path = match at {
            At::Config => ckpt.config(),
            At::Weights => ckpt.weights(),
        };
        println!("{case}: {}", convert_ahn_checkpoint(&ckpt.dir, &out, &ConvertOptions::default()).unwrap_err());
        assert_refused(convert_ahn_checkpoint(&ckpt.dir, &out, &options(Some(4), Some(1))), &path, &needles);
        assert!(leftovers(&dir, "block.gguf").is_empty(), "{case}: a file was written");
    }
}

#[test]
fn truncated_or_corrupt_safetensors_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt =
        write_checkpoint(&tmp.path().join("ckpt"), AhnType::Gdn, TINY, Dtypes::All(Dtype::BF16), json!({}), no_edit);
    let good = std::fs::read(ckpt.weights()).unwrap();
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut garbage_header = good.clone();
    garbage_header[8 + header_len / 2] = b'\x01';
    let mut huge = good.clone();
    huge[..8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    let mut longer = good.clone();
    longer.extend([0u8; 8]);
    let cases: [(&str, Vec<u8>); 6] = [
        ("truncated data", good[..good.len() - 10].to_vec()),
        ("truncated header", good[..8 + header_len / 2].to_vec()),
        ("empty", Vec::new()),
        ("garbage in header", garbage_header),
        ("huge header length", huge),
        ("trailing bytes", longer),
    ];
    // A block already at the destination stays as it was.
    let out = tmp.path().join("block.gguf");
    std::fs::write(&out, b"previous block").unwrap();
    for (case, bytes) in cases {
        std::fs::write(ckpt.weights(), &bytes).unwrap();
        let result = convert_ahn_checkpoint(&ckpt.dir, &out, &ConvertOptions::default());
        println!("{case}: {}", result.as_ref().unwrap_err());
        assert_refused(result, &ckpt.weights(), &["truncated or corrupt safetensors file"]);
        assert_eq!(std::fs::read(&out).unwrap(), b"previous block", "{case}");
        assert_eq!(leftovers(tmp.path(), "block.gguf"), ["block.gguf"], "{case}");
    }
    std::fs::write(ckpt.weights(), &good).unwrap();
    convert_ahn_checkpoint(&ckpt.dir, &out, &ConvertOptions::default()).unwrap();
    check_block(&out, &ckpt, AhnType::Gdn, TINY, None, None, 1e-5);
}

#[test]
fn missing_files_and_bad_options_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("block.gguf");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let none = ConvertOptions::default();
    assert_refused(convert_ahn_checkpoint(&empty, &out, &none), &empty.join("config.json"), &["not found"]);
    let nowhere = tmp.path().join("nowhere");
    assert_refused(convert_ahn_checkpoint(&nowhere, &out, &none), &nowhere, &["not found"]);
    let ckpt =
        write_checkpoint(&tmp.path().join("ckpt"), AhnType::Dn, TINY, Dtypes::All(Dtype::F32), json!({}), no_edit);
    let weights = ckpt.weights();
    std::fs::rename(&weights, ckpt.dir.join("other.bin")).unwrap();
    assert_refused(
        convert_ahn_checkpoint(&ckpt.dir, &out, &none),
        &weights,
        &["not found (the official AHN releases ship one model.safetensors)"],
    );
    std::fs::rename(ckpt.dir.join("other.bin"), &weights).unwrap();
    std::fs::write(ckpt.config(), "{not json").unwrap();
    assert_refused(convert_ahn_checkpoint(&ckpt.dir, &out, &none), &ckpt.config(), &["not valid JSON"]);
    assert_refused(convert_ahn_checkpoint(&weights, &out, &none), &ckpt.config(), &["not valid JSON"]);
    let zero_window = ConvertOptions { window: Some(0), ..ConvertOptions::default() };
    assert_refused(convert_ahn_checkpoint(&ckpt.dir, &out, &zero_window), &ckpt.dir, &["window W must be at least 1"]);
    let nan_eps = ConvertOptions { norm_eps: Some(f32::NAN), ..ConvertOptions::default() };
    assert_refused(convert_ahn_checkpoint(&ckpt.dir, &out, &nan_eps), &ckpt.dir, &["norm eps"]);
    assert!(leftovers(tmp.path(), "block.gguf").is_empty());
}

/// A base model GGUF with just the metadata the fit check reads (and one tensor).
pub(crate) fn base_model(path: &Path, arch: &str, (layers, hidden, heads, head_dim): Dims) -> PathBuf {
    let kv = vec![
        ("general.architecture".to_owned(), KvValue::Str(arch.into())),
        (format!("{arch}.block_count"), KvValue::U32(layers)),
        (format!("{arch}.embedding_length"), KvValue::U32(hidden)),
        (format!("{arch}.attention.head_count"), KvValue::U32(heads)),
        (format!("{arch}.attention.key_length"), KvValue::U32(head_dim)),
    ];
    let tensors = [("token_embd.weight".to_owned(), [hidden as i64, 16, 1, 1])];
    write_gguf(path, None, &kv, &tensors, |_, ne| vec![0.0; ne.iter().product::<i64>() as usize]).unwrap();
    path.to_owned()
}

#[test]
fn base_model_must_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt =
        write_checkpoint(&tmp.path().join("ckpt"), AhnType::Gdn, TINY, Dtypes::All(Dtype::BF16), json!({}), no_edit);
    let out = tmp.path().join("block.gguf");
    let with_base = |base: &Path| ConvertOptions { base: Some(base.to_owned()), ..ConvertOptions::default() };

    let fits = base_model(&tmp.path().join("fits.gguf"), "qwen2", TINY);
    let report = convert_ahn_checkpoint(&ckpt.dir, &out, &with_base(&fits)).unwrap();
    assert_eq!(report.params, ahn_param_count(AhnType::Gdn, 2, 24, 3, 8));
    check_block(&out, &ckpt, AhnType::Gdn, TINY, None, None, 1e-5);
    // The block merges with that base (the engine's own fit check).
    seahorse_engine::merge(&fits, &out, &tmp.path().join("merged.gguf")).unwrap();
    std::fs::remove_file(&out).unwrap();

    let mismatches = [
        ((3, 24, 3, 8), "layers: checkpoint 2, model 3"),
        ((2, 32, 3, 8), "hidden size: checkpoint 24, model 32"),
        ((2, 24, 4, 8), "heads: checkpoint 3, model 4"),
        ((2, 24, 3, 6), "head size: checkpoint 8, model 6"),
    ];
    for (k, (dims, needle)) in mismatches.into_iter().enumerate() {
        let base = base_model(&tmp.path().join(format!("no{k}.gguf")), "qwen2", dims);
        let fit = format!("does not fit the base model {}", base.display());
        assert_refused(convert_ahn_checkpoint(&ckpt.dir, &out, &with_base(&base)), &ckpt.dir, &[&fit, needle]);
    }
    let llama = base_model(&tmp.path().join("llama.gguf"), "llama", TINY);
    assert_refused(convert_ahn_checkpoint(&ckpt.dir, &out, &with_base(&llama)), &llama, &["\"llama\" model"]);
    convert_ahn_checkpoint(&ckpt.dir, &tmp.path().join("a-block.gguf"), &ConvertOptions::default()).unwrap();
    let block = tmp.path().join("a-block.gguf");
    assert_refused(
        convert_ahn_checkpoint(&ckpt.dir, &out, &with_base(&block)),
        &block,
        &["AHN block, not a base model"],
    );
    let missing = tmp.path().join("missing.gguf");
    let err = convert_ahn_checkpoint(&ckpt.dir, &out, &with_base(&missing)).unwrap_err();
    assert!(err.to_string().contains("missing.gguf"), "{err}");
    assert!(leftovers(tmp.path(), "block.gguf").is_empty());
}
