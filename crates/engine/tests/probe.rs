//! The first patch (0001-seahorse-patch-rev) is compiled into the llama.cpp library the
//! engine links, and the library matches the patches in this checkout.

use std::path::Path;

use sha2::{Digest, Sha256};

/// The patch revision, computed here independently of build.rs and inject.cmake.
fn current_patch_rev() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ggml-patches");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".patch"))
        .collect();
    names.sort();
    names.push("inject.cmake".into());
    let listing: String = names
        .iter()
        .map(|n| format!("{n} {}\n", hex::encode(Sha256::digest(std::fs::read(dir.join(n)).unwrap()))))
        .collect();
    hex::encode(Sha256::digest(listing.as_bytes()))[..16].to_owned()
}

#[test]
fn library_carries_the_current_patch_revision() {
    let rev = current_patch_rev();
    assert_eq!(seahorse_engine::Engine::library_patch_rev(), rev, "stale llama.cpp build");
    let info = seahorse_engine::Engine::get().expect("engine").build_info();
    assert_eq!(info.expected_patch_rev, rev);
}

#[test]
fn edited_upstream_function_reports_the_patch() {
    // llama_print_system_info is upstream code; the patch makes it name the patch set.
    let info = seahorse_engine::Engine::get().unwrap().build_info();
    let rev = current_patch_rev();
    assert!(info.system_info.contains(&format!("SEAHORSE : PATCH_REV = {rev}")), "{}", info.system_info);
    // And the CPU backend runs with the AVX-512 level chosen in .cargo/config.toml.
    assert!(info.system_info.contains("AVX512 = 1"), "{}", info.system_info);
    assert!(!info.system_info.contains("AMX_INT8 = 1"), "{}", info.system_info);
}

#[test]
fn cargo_config_names_the_current_revision() {
    let config =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cargo/config.toml")).unwrap();
    let line = format!("GGML_SEAHORSE_PATCH_REV = \"{}\"", current_patch_rev());
    assert!(config.lines().any(|l| l == line), "run ggml-patches/update-rev");
}
