//! The same bytes as the Python converter.

use super::*;

#[test]
fn python_converter_writes_identical_blocks() {
    let (python, tools) = common::tools_python();
    let tmp = tempfile::tempdir().unwrap();
    // Cell, shape, dtypes, window, sinks, norm eps.
    type Case = (AhnType, Dims, Dtypes, Option<u32>, Option<u32>, Option<f32>);
    let cases: [Case; 5] = [
        (AhnType::Gdn, TINY, Dtypes::All(Dtype::BF16), Some(8064), Some(128), None),
        (AhnType::Dn, (3, 20, 2, 6), Dtypes::All(Dtype::F16), None, None, None),
        (AhnType::Mamba2, TINY, Dtypes::Mixed, Some(7), None, Some(1e-6)),
        (AhnType::Gdn, (2, 40, 5, 8), Dtypes::All(Dtype::F64), None, Some(0), None),
        (AhnType::Mamba2, Q05B, Dtypes::All(Dtype::BF16), Some(32640), Some(128), None),
    ];
    for (k, (t, dims, dtypes, window, sinks, eps)) in cases.into_iter().enumerate() {
        let dir = tmp.path().join(format!("case{k}"));
        let ckpt = write_checkpoint(&dir.join("ckpt"), t, dims, dtypes, json!({}), no_edit);
        let (rust_out, py_out) = (dir.join("rust.gguf"), dir.join("python.gguf"));
        let opts = ConvertOptions { window, sinks, base: None, norm_eps: eps };
        convert_ahn_checkpoint(&ckpt.dir, &rust_out, &opts).unwrap();

        let mut cmd = Command::new(&python);
        cmd.arg(tools.join("ahn_convert.py")).arg(&ckpt.dir).arg("--out").arg(&py_out);
        for (flag, value) in [("--window", window), ("--sinks", sinks)] {
            if let Some(v) = value {
                cmd.arg(flag).arg(v.to_string());
            }
        }
        if let Some(eps) = eps {
            cmd.arg("--norm-eps").arg(eps.to_string());
        }
        let run = cmd.output().expect("run the Python converter");
        assert!(
            run.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );

        let (rust, py) = (std::fs::read(&rust_out).unwrap(), std::fs::read(&py_out).unwrap());
        let first_diff = rust.iter().zip(&py).position(|(a, b)| a != b);
        assert!(
            rust == py,
            "case {k} ({} {dims:?}): Rust {} bytes, Python {} bytes, first difference at {first_diff:?}",
            t.as_str(),
            rust.len(),
            py.len()
        );
        println!("case {k}: {} {dims:?}: {} identical bytes", t.as_str(), rust.len());
    }
}
