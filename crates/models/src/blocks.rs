//! AHN blocks shipped with Seahorse: small GGUF files trained by `tools/ahn_train` and committed
//! under `assets/ahn/` (with the manifest that reproduces them). They are compiled into the
//! binary and written to the model cache on first use, so a user needs nothing but the base
//! model.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::fetch::FetchError;

/// An AHN block trained for one catalogue model.
#[derive(Debug)]
pub struct BlockSpec {
    /// The catalogue id of the base model it was trained for.
    pub model_id: &'static str,
    /// File name in the cache (and under `assets/ahn/`).
    pub file_name: &'static str,
    /// sha256 of the file, as recorded in its manifest.
    pub sha256: &'static str,
    /// The file itself.
    pub bytes: &'static [u8],
}

/// The shipped blocks.
pub static BLOCKS: &[BlockSpec] = &[BlockSpec {
    model_id: "qwen2.5-coder-0.5b",
    file_name: "qwen2.5-coder-0.5b-instruct.gdn.ahn.gguf",
    sha256: include_str!("../../../assets/ahn/qwen2.5-coder-0.5b-instruct.gdn.ahn.gguf.sha256"),
    bytes: include_bytes!("../../../assets/ahn/qwen2.5-coder-0.5b-instruct.gdn.ahn.gguf"),
}];

/// The block shipped for catalogue model `model_id`, if any.
pub fn shipped_block(model_id: &str) -> Option<&'static BlockSpec> {
    BLOCKS.iter().find(|b| b.model_id == model_id)
}

/// Writes `spec` into `dir/blocks/` unless an identical file is already there; returns its
/// path. The file is written under a temporary name and renamed into place.
pub fn install_block(spec: &BlockSpec, dir: &Path) -> Result<PathBuf, FetchError> {
    let blocks = dir.join("blocks");
    let path = blocks.join(spec.file_name);
    if fs::read(&path).is_ok_and(|have| have == spec.bytes) {
        return Ok(path);
    }
    let io = |action: &'static str, p: &Path| {
        let p = p.to_owned();
        move |source| FetchError::Io { action, path: p, source }
    };
    fs::create_dir_all(&blocks).map_err(io("create", &blocks))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&blocks).map_err(io("create a file in", &blocks))?;
    tmp.write_all(spec.bytes).map_err(io("write", tmp.path()))?;
    tmp.as_file().sync_all().map_err(io("sync", &path))?;
    tmp.persist(&path).map_err(|e| FetchError::Io { action: "rename into", path: path.clone(), source: e.error })?;
    Ok(path)
}

/// The shipped block of the default model, installed in the model cache `dir`.
pub fn default_block(dir: &Path) -> Result<Option<PathBuf>, FetchError> {
    match shipped_block(crate::DEFAULT_MODEL.id) {
        Some(spec) => install_block(spec, dir).map(Some),
        None => Ok(None),
    }
}

/// sha256 of `bytes` in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_blocks_match_their_manifest_hashes() {
        for b in BLOCKS {
            assert_eq!(sha256_hex(b.bytes), b.sha256.trim(), "{}", b.file_name);
            assert!(crate::CATALOG.iter().any(|m| m.id == b.model_id), "{} has no model", b.model_id);
        }
        assert!(shipped_block(crate::DEFAULT_MODEL.id).is_some());
    }

    #[test]
    fn install_writes_once_and_repairs_a_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let spec = &BLOCKS[0];
        let path = install_block(spec, dir.path()).unwrap();
        assert_eq!(fs::read(&path).unwrap(), spec.bytes);
        let mtime = fs::metadata(&path).unwrap().modified().unwrap();
        assert_eq!(install_block(spec, dir.path()).unwrap(), path);
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime, "an intact file is kept");
        fs::write(&path, b"truncated").unwrap();
        install_block(spec, dir.path()).unwrap();
        assert_eq!(fs::read(&path).unwrap(), spec.bytes, "a damaged file is replaced");
    }
}
