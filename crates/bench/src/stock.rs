//! The baseline: stock llama.cpp (the same vendored tree, no patches, same CPU options),
//! driven by crates/bench/stock/stock_baseline.cpp on the same model and prompt tokens.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::report::Measurement;
use crate::stats::Summary;

/// One repetition (after an untimed warm-up) of the stock driver.
pub fn run(bin: &Path, model: &Path, tokens: &[i32], decode_tokens: usize, threads: i32) -> Result<Measurement> {
    let file = tempfile_path("seahorse-bench-tokens");
    let list: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
    std::fs::write(&file, list.join(" "))?;
    let out = Command::new(bin)
        .arg(model)
        .arg(&file)
        .arg(decode_tokens.to_string())
        .arg(threads.to_string())
        .arg("1")
        .output()
        .with_context(|| format!("running {}", bin.display()));
    let _ = std::fs::remove_file(&file);
    let out = out?;
    if !out.status.success() {
        bail!("{} failed: {}", bin.display(), String::from_utf8_lossy(&out.stderr));
    }
    parse(&String::from_utf8_lossy(&out.stdout), tokens.len())
}

fn tempfile_path(stem: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{stem}-{}.txt", std::process::id()))
}

/// The driver's JSON: `{"prefill_tokens_per_s": [...], "decode_tokens_per_s": [...]}`.
fn parse(json: &str, prompt_tokens: usize) -> Result<Measurement> {
    let v: serde_json::Value = serde_json::from_str(json).context("stock driver JSON")?;
    let samples = |key: &str| -> Result<Vec<f64>> {
        let a = v[key].as_array().with_context(|| format!("{key} missing"))?;
        let s: Vec<f64> = a.iter().filter_map(|x| x.as_f64()).collect();
        if s.is_empty() {
            bail!("{key} is empty");
        }
        Ok(s)
    };
    Ok(Measurement {
        prompt_tokens,
        prefill_tokens_per_s: Summary::of(&samples("prefill_tokens_per_s")?),
        decode_tokens_per_s: Summary::of(&samples("decode_tokens_per_s")?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_driver_json() {
        let json = r#"{"prefill_tokens_per_s": [180.0, 190.0, 185.0], "decode_tokens_per_s": [27.0, 26.0, 28.0]}"#;
        let m = parse(json, 512).unwrap();
        assert_eq!(m.prefill_tokens_per_s.median, 185.0);
        assert_eq!(m.decode_tokens_per_s.median, 27.0);
        assert!(parse(r#"{"prefill_tokens_per_s": []}"#, 512).is_err());
    }
}
