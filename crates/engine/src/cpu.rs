//! The CPU features the llama.cpp build needs, checked against the running CPU.

/// Features the llama.cpp build was compiled for (from the `GGML_*` options in
/// `.cargo/config.toml`), as `is_x86_feature_detected!` names them.
pub fn required_cpu_features() -> Vec<&'static str> {
    env!("SEAHORSE_GGML_CPU_FEATURES").split(',').filter(|f| !f.is_empty()).collect()
}

/// The CPU's model name (from /proc/cpuinfo), for benchmark and evaluation reports;
/// "unknown" where there is none.
pub fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(str::to_owned))
        .and_then(|l| l.split_once(':').map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_else(|| "unknown".into())
}

/// Required features this CPU does not have; empty when the build can run here.
pub fn missing_cpu_features() -> Vec<&'static str> {
    required_cpu_features().into_iter().filter(|f| !has_feature(f)).collect()
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn has_feature(name: &str) -> bool {
    use std::arch::is_x86_feature_detected as has;
    match name {
        "avx" => has!("avx"),
        "avx2" => has!("avx2"),
        "fma" => has!("fma"),
        "f16c" => has!("f16c"),
        "bmi2" => has!("bmi2"),
        "avx512f" => has!("avx512f"),
        "avx512cd" => has!("avx512cd"),
        "avx512bw" => has!("avx512bw"),
        "avx512dq" => has!("avx512dq"),
        "avx512vl" => has!("avx512vl"),
        "avx512vbmi" => has!("avx512vbmi"),
        "avx512vnni" => has!("avx512vnni"),
        "avx512bf16" => has!("avx512bf16"),
        "avxvnni" => has!("avxvnni"),
        _ => false,
    }
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
fn has_feature(_name: &str) -> bool {
    // The GGML_* x86 options are ignored by llama.cpp on other architectures.
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_feature_names_are_never_assumed_present() {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        assert!(!has_feature("not-a-feature"));
    }

    #[test]
    fn build_requires_avx2_level_at_least() {
        // .cargo/config.toml selects AVX2 and AVX-512; the list must reflect that, or the
        // run-time guard would be checking nothing.
        let req = required_cpu_features();
        for f in ["avx2", "fma", "f16c", "avx512f"] {
            assert!(req.contains(&f), "{f} missing from {req:?}");
        }
    }
}
