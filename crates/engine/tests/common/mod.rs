//! Helpers shared by the engine's integration tests.
#![allow(dead_code)] // each test binary uses a subset

use std::path::{Path, PathBuf};

/// The default model, fetched if needed.
pub fn default_model() -> PathBuf {
    let spec = seahorse_models::DEFAULT_MODEL;
    let dir = seahorse_models::cache_dir_in(|k| std::env::var_os(k));
    seahorse_models::locate(spec, &dir).unwrap_or_else(|| seahorse_models::fetch(spec, &dir, |_| {}).unwrap())
}

/// A little-endian float32 .npy file's values (C order).
pub fn read_npy_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY", "not an npy file");
    let (len, start) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
    };
    let header = std::str::from_utf8(&bytes[start..start + len]).unwrap();
    assert!(header.contains("'<f4'") && header.contains("'fortran_order': False"), "{header}");
    bytes[start + len..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// The python of the tools venv (tools/README.md); `./x test` sets `SEAHORSE_TOOLS_PYTHON`.
pub fn tools_python() -> (String, PathBuf) {
    let python = std::env::var("SEAHORSE_TOOLS_PYTHON")
        .expect("SEAHORSE_TOOLS_PYTHON must name the python of the tools venv (./x test sets it up)");
    (python, Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools"))
}
