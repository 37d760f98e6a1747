//! Conversions that succeed.

use super::*;

#[test]
fn every_cell_and_dtype_converts_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let dtypes = [
        Dtypes::All(Dtype::BF16),
        Dtypes::All(Dtype::F16),
        Dtypes::All(Dtype::F32),
        Dtypes::All(Dtype::F64),
        Dtypes::Mixed,
    ];
    for t in VARIANTS {
        for (k, dt) in dtypes.into_iter().enumerate() {
            // Head size from hidden/heads, and an explicit head_dim that differs from it.
            let dims = if k % 2 == 0 { TINY } else { (3, 20, 2, 6) };
            let dir = tmp.path().join(format!("{}-{k}", t.as_str()));
            let ckpt = write_checkpoint(&dir.join("ckpt"), t, dims, dt, json!({}), no_edit);
            let out = dir.join("block.gguf");
            let (window, sinks) = if k % 3 == 0 { (Some(64), Some(4)) } else { (None, Some(0)) };
            let report = convert_ahn_checkpoint(&ckpt.dir, &out, &options(window, sinks)).unwrap();
            check_block(&out, &ckpt, t, dims, window, sinks, 1e-5);
            let (layers, hidden, heads, head_dim) = dims;
            assert_eq!((report.ahn_type, report.layers, report.hidden), (t, layers, hidden));
            assert_eq!((report.heads, report.head_dim), (heads, head_dim));
            assert_eq!(report.tensors, ckpt.tensors.len());
            let want_dtypes: Vec<&str> = match dt {
                Dtypes::All(d) => vec![match d {
                    Dtype::BF16 => "BF16",
                    Dtype::F16 => "F16",
                    Dtype::F32 => "F32",
                    _ => "F64",
                }],
                Dtypes::Mixed => vec!["BF16", "F16", "F32", "F64"],
            };
            assert_eq!(report.source_dtypes, want_dtypes);
            let formula = ahn_param_count(t, layers, hidden, heads, head_dim);
            assert_eq!((report.params, report.formula_params), (formula, formula));
            assert_eq!(report.bytes_written, std::fs::metadata(&out).unwrap().len());
            assert_eq!((report.window, report.sinks, report.norm_eps), (window, sinks, 1e-5));
            assert_eq!(leftovers(&dir, "block.gguf"), ["block.gguf"], "no partial file remains");
        }
    }
}

#[test]
fn source_may_be_the_safetensors_file_and_eps_is_an_option() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = write_checkpoint(&tmp.path().join("ckpt"), AhnType::Mamba2, TINY, Dtypes::Mixed, json!({}), no_edit);
    let renamed = ckpt.dir.join("weights-v1.safetensors");
    std::fs::rename(ckpt.weights(), &renamed).unwrap();
    let out = tmp.path().join("m2.gguf");
    let opts = ConvertOptions { window: Some(5), norm_eps: Some(1e-6), ..ConvertOptions::default() };
    let report = convert_ahn_checkpoint(&renamed, &out, &opts).unwrap();
    check_block(&out, &ckpt, AhnType::Mamba2, TINY, Some(5), None, 1e-6);
    let text = report.to_string();
    assert!(
        text.starts_with("mamba2: 2 layers, 3 heads of 8, hidden 24; 16 tensors (BF16/F16/F32/F64 -> F32)"),
        "{text}"
    );
    assert!(text.contains("; defaults W=5"), "{text}");
    // An existing block is replaced.
    let report = convert_ahn_checkpoint(&renamed, &out, &ConvertOptions::default()).unwrap();
    check_block(&out, &ckpt, AhnType::Mamba2, TINY, None, None, 1e-5);
    assert_eq!(report.bytes_written, std::fs::metadata(&out).unwrap().len());
}

#[test]
fn parameter_counts_match_ahn_md() {
    // The formula on every release and default-model shape (cheap: no tensors), and the
    // official shapes written out in this file, summed.
    for ((model, dims), (model2, counts)) in MODELS.iter().zip(PARAMS) {
        assert_eq!(*model, model2);
        let (layers, hidden, heads, head_dim) = *dims;
        for (t, want) in VARIANTS.into_iter().zip(counts) {
            assert_eq!(ahn_param_count(t, layers, hidden, heads, head_dim), want, "{model} {}", t.as_str());
            let per_layer: usize = official_tensors(t, *dims).iter().map(|(_, _, s)| s.iter().product::<usize>()).sum();
            assert_eq!(layers as u64 * per_layer as u64, want, "{model} {}: shapes", t.as_str());
        }
    }
    assert_eq!(ahn_param_count(AhnType::Gdn, u32::MAX, u32::MAX, u32::MAX, u32::MAX), u64::MAX, "saturates");
    // Real conversions at the 0.5B shapes (BF16, as the releases): the counted parameters.
    let tmp = tempfile::tempdir().unwrap();
    for (t, want) in VARIANTS.into_iter().zip(PARAMS[0].1) {
        let dir = tmp.path().join(t.as_str());
        let ckpt = write_checkpoint(&dir.join("ckpt"), t, Q05B, Dtypes::All(Dtype::BF16), json!({}), no_edit);
        let out = dir.join("block.gguf");
        let report = convert_ahn_checkpoint(&ckpt.dir, &out, &options(Some(8064), Some(128))).unwrap();
        println!("0.5B {}: {} parameters, {} bytes", t.as_str(), report.params, report.bytes_written);
        assert_eq!((report.params, report.formula_params), (want, want));
        assert_eq!(report.tensors, 24 * official_tensors(t, Q05B).len());
        check_block(&out, &ckpt, t, Q05B, Some(8064), Some(128), 1e-5);
    }
}
