//! The baseline: stock `llama-bench`, built from the same vendored llama.cpp without
//! Seahorse's patches (scripts/build-stock-llama-bench), run on the same model.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::report::Measurement;
use crate::stats::Summary;
use crate::Args;

pub fn run(bin: &Path, model: &Path, args: &Args) -> Result<Measurement> {
    let out = Command::new(bin)
        .arg("-m")
        .arg(model)
        .args(["-p", &args.prompt_tokens.to_string()])
        .args(["-n", &args.decode_tokens.to_string()])
        .args(["-t", &args.threads.to_string()])
        .args(["-r", &args.repetitions.to_string()])
        .args(["-b", "512", "-ub", "512", "-o", "json"])
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    if !out.status.success() {
        bail!("{} failed: {}", bin.display(), String::from_utf8_lossy(&out.stderr));
    }
    parse(&String::from_utf8_lossy(&out.stdout), args.prompt_tokens)
}

/// llama-bench's JSON: one object per test, `n_prompt`/`n_gen` and `samples_ts`.
fn parse(json: &str, prompt_tokens: usize) -> Result<Measurement> {
    let tests: Vec<serde_json::Value> = serde_json::from_str(json).context("llama-bench JSON")?;
    let samples = |pred: &dyn Fn(&serde_json::Value) -> bool| -> Result<Vec<f64>> {
        let t = tests.iter().find(|t| pred(t)).context("test missing from llama-bench output")?;
        let s = t["samples_ts"].as_array().context("samples_ts")?;
        Ok(s.iter().filter_map(|v| v.as_f64()).collect())
    };
    let pp = samples(&|t| t["n_prompt"].as_u64() > Some(0) && t["n_gen"].as_u64() == Some(0))?;
    let tg = samples(&|t| t["n_gen"].as_u64() > Some(0) && t["n_prompt"].as_u64() == Some(0))?;
    Ok(Measurement {
        prompt_tokens,
        prefill_tokens_per_s: Summary::of(&pp),
        decode_tokens_per_s: Summary::of(&tg),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_llama_bench_json() {
        let json = r#"[{"n_prompt": 512, "n_gen": 0, "samples_ts": [180.0, 190.0, 185.0]},
                       {"n_prompt": 0, "n_gen": 64, "samples_ts": [27.0, 26.0, 28.0]}]"#;
        let m = parse(json, 512).unwrap();
        assert_eq!(m.prefill_tokens_per_s.median, 185.0);
        assert_eq!(m.decode_tokens_per_s.median, 27.0);
        assert!(parse("[]", 512).is_err());
    }
}
