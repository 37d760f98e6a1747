//! Build script of the engine crate.
//!
//! 1. Computes the revision of `ggml-patches/` (the same hash as `ggml-patches/inject.cmake`
//!    and `ggml-patches/update-rev`) and fails the build when `.cargo/config.toml` carries a
//!    different `GGML_SEAHORSE_PATCH_REV`: cargo would otherwise keep using a llama.cpp built
//!    from older patches. The value is exported so the engine can compare it at run time with
//!    the revision compiled into the library.
//! 2. Exports the x86 CPU features the llama.cpp build was configured with (the `GGML_*`
//!    options of `.cargo/config.toml`), so the engine can refuse to start on a CPU without
//!    them instead of crashing with SIGILL.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let patches = manifest.join("../../ggml-patches");
    println!("cargo:rerun-if-changed={}", patches.display());

    let rev = patch_rev(&patches);
    println!("cargo:rerun-if-env-changed=GGML_SEAHORSE_PATCH_REV");
    match std::env::var("GGML_SEAHORSE_PATCH_REV") {
        Ok(configured) if configured == rev => {}
        Ok(configured) => panic!(
            "ggml-patches/ changed (revision {rev}) but GGML_SEAHORSE_PATCH_REV is \
             \"{configured}\": run ggml-patches/update-rev, then build again"
        ),
        Err(_) => panic!(
            "GGML_SEAHORSE_PATCH_REV is not set: build from the workspace root so that \
             .cargo/config.toml applies"
        ),
    }
    println!("cargo:rustc-env=SEAHORSE_EXPECTED_PATCH_REV={rev}");

    // GGML option -> the name std::arch::is_x86_feature_detected! knows.
    const FEATURES: &[(&str, &[&str])] = &[
        ("GGML_AVX", &["avx"]),
        ("GGML_AVX2", &["avx2"]),
        ("GGML_FMA", &["fma"]),
        ("GGML_F16C", &["f16c"]),
        ("GGML_BMI2", &["bmi2"]),
        ("GGML_AVX512", &["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]),
        ("GGML_AVX512_VBMI", &["avx512vbmi"]),
        ("GGML_AVX512_VNNI", &["avx512vnni"]),
        ("GGML_AVX512_BF16", &["avx512bf16"]),
        ("GGML_AVX_VNNI", &["avxvnni"]),
    ];
    let mut required = Vec::new();
    for (option, names) in FEATURES {
        println!("cargo:rerun-if-env-changed={option}");
        if std::env::var(option).is_ok_and(|v| v.eq_ignore_ascii_case("on")) {
            required.extend_from_slice(names);
        }
    }
    println!("cargo:rustc-env=SEAHORSE_GGML_CPU_FEATURES={}", required.join(","));
}

/// sha256 over "<file name> <sha256 of the file>\n" for the sorted `*.patch` files followed
/// by `inject.cmake`; the first 16 hex digits.
fn patch_rev(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".patch"))
        .collect();
    names.sort();
    names.push("inject.cmake".to_owned());
    let mut listing = String::new();
    for name in &names {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        listing.push_str(&format!("{name} {}\n", hex::encode(Sha256::digest(&bytes))));
    }
    hex::encode(Sha256::digest(listing.as_bytes()))[..16].to_owned()
}
