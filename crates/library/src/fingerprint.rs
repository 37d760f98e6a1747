//! Fingerprints: what a memory state depends on. A state is restored only into the model
//! and settings that built it; any difference makes it stale.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The model, AHN block and reading settings that a memory state was built with.
///
/// Two fingerprints are equal exactly when a state built under one can be restored under
/// the other; [`Fingerprint::key`] is the stored form.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    /// The model file's name (no directory: moving the cache does not invalidate states).
    pub model_file: String,
    /// The model file's size in bytes.
    pub model_bytes: u64,
    /// sha256 of the model file's first MiB, lowercase hex (cheap, and covers the GGUF
    /// header with every hyper-parameter).
    pub model_head_sha256: String,
    /// sha256 of the whole AHN block file, or `"none"` for sinks + window only.
    pub block_sha256: String,
    /// W: the sliding window, in tokens.
    pub window: u32,
    /// S: attention sinks, in tokens.
    pub sinks: u32,
    /// `seahorse_docs::EXTRACTION_VERSION` (the text that was read).
    pub extraction_version: u32,
    /// How pages become tokens (page markers), see `READING_VERSION`.
    pub reading_version: u32,
    /// Tokens per evaluation chunk (states are taken between chunks).
    pub chunk_tokens: u32,
    /// Precision of the attention cache ("f16" or "f32").
    pub cache: String,
    /// `seahorse_engine::MEMORY_VERSION` of the engine that built the state (0 in keys
    /// written before the field existed).
    #[serde(default)]
    pub memory_version: u32,
}

impl Fingerprint {
    /// The fingerprint of states read from the model file `model` with `memory` and
    /// `options`, computed without loading the model (its first MiB and size, the whole
    /// block file).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the model or block file cannot be read.
    pub fn of(
        model: &Path,
        memory: &seahorse_engine::MemoryOptions,
        options: &crate::ReadOptions,
    ) -> Result<Fingerprint> {
        let (model_file, model_bytes, model_head_sha256) = model_identity(model)?;
        let block_sha256 = match &memory.block {
            Some(path) => file_sha256(path)?,
            None => "none".to_owned(),
        };
        Ok(Fingerprint {
            model_file,
            model_bytes,
            model_head_sha256,
            block_sha256,
            window: memory.window,
            sinks: memory.sinks,
            extraction_version: seahorse_docs::EXTRACTION_VERSION,
            reading_version: crate::ingest::tokens::READING_VERSION,
            chunk_tokens: options.chunk_tokens.max(1),
            cache: match options.cache_type {
                seahorse_engine::CacheType::F16 => "f16",
                seahorse_engine::CacheType::F32 => "f32",
            }
            .to_owned(),
            memory_version: seahorse_engine::MEMORY_VERSION,
        })
    }

    /// The stored form: compact JSON with the fields in declaration order.
    pub fn key(&self) -> String {
        serde_json::to_string(self).expect("plain fields serialise")
    }

    /// Parses a stored key.
    pub fn from_key(key: &str) -> Option<Fingerprint> {
        serde_json::from_str(key).ok()
    }

    /// A short description for people: `model.gguf (469 MiB, 1a2b3c4d), no AHN block, W=64 S=4`.
    pub fn describe(&self) -> String {
        let block = if self.block_sha256 == "none" {
            "no AHN block".to_owned()
        } else {
            format!("AHN block {}", &self.block_sha256[..8.min(self.block_sha256.len())])
        };
        format!(
            "{} ({} MiB, {}), {block}, W={} S={}, extraction v{}, chunk {}",
            self.model_file,
            self.model_bytes >> 20,
            &self.model_head_sha256[..8.min(self.model_head_sha256.len())],
            self.window,
            self.sinks,
            self.extraction_version,
            self.chunk_tokens,
        )
    }
}

/// Identity of a model file: its name, size and the sha256 of its first MiB.
pub(crate) fn model_identity(path: &Path) -> Result<(String, u64, String)> {
    let io = |source| Error::Io { action: "read the model file", path: path.to_owned(), source };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut head = Vec::with_capacity(1 << 20);
    file.by_ref().take(1 << 20).read_to_end(&mut head).map_err(io)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok((name, size, hex::encode(Sha256::digest(&head))))
}

/// sha256 of a whole file, lowercase hex.
pub(crate) fn file_sha256(path: &Path) -> Result<String> {
    let io = |source| Error::Io { action: "read", path: path.to_owned(), source };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_changes_with_the_head_and_the_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        std::fs::write(&path, vec![1u8; (1 << 20) + 10]).unwrap();
        let a = model_identity(&path).unwrap();
        assert_eq!(a.0, "m.gguf");
        assert_eq!(a.1, (1 << 20) + 10);
        // A change after the first MiB is not seen by the hash, but the size catches appends.
        std::fs::write(&path, vec![1u8; (1 << 20) + 11]).unwrap();
        let b = model_identity(&path).unwrap();
        assert_eq!(a.2, b.2);
        assert_ne!(a.1, b.1);
        let mut bytes = vec![1u8; (1 << 20) + 10];
        bytes[100] = 2;
        std::fs::write(&path, bytes).unwrap();
        assert_ne!(model_identity(&path).unwrap().2, a.2);
    }

    #[test]
    fn key_round_trips() {
        let fp = Fingerprint {
            model_file: "m.gguf".into(),
            model_bytes: 5,
            model_head_sha256: "ab".repeat(32),
            block_sha256: "none".into(),
            window: 64,
            sinks: 4,
            extraction_version: 1,
            reading_version: 1,
            chunk_tokens: 128,
            cache: "f16".into(),
            memory_version: 2,
        };
        assert_eq!(Fingerprint::from_key(&fp.key()), Some(fp.clone()));
        let mut other = fp.clone();
        other.window = 65;
        assert_ne!(other.key(), fp.key());
        assert!(fp.describe().contains("W=64 S=4"), "{}", fp.describe());
        // A key from before the engine's memory version was recorded is stale.
        let old = fp.key().replace(",\"memory_version\":2", "");
        assert_ne!(old, fp.key());
        let parsed = Fingerprint::from_key(&old).unwrap();
        assert_eq!(parsed.memory_version, 0);
        assert_ne!(parsed, fp);
    }
}
