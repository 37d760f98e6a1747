//! Reading the tensors of a `model.safetensors` file.
//!
//! The header is parsed and validated by the `safetensors` crate (`Metadata`: offsets
//! contiguous, each tensor's byte size equal to its shape times its dtype size); the file length
//! is then checked against the header, so a truncated file is refused before anything is
//! written. Tensor data is read with a seek and one `read_exact` per tensor instead of mapping
//! the file: a memory map is `unsafe` in Rust (a file truncated or rewritten while mapped is
//! undefined behaviour, a SIGBUS at best), and the converter needs each tensor exactly once, so
//! reading it into one buffer costs nothing over a map and keeps one tensor in memory at a time.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use safetensors::tensor::Metadata;
use safetensors::Dtype;

use super::refuse;
use crate::error::{EngineError, Result};

/// The safetensors format's limit on the header size (the crate's `MAX_HEADER_SIZE`).
const MAX_HEADER: u64 = 100_000_000;

/// One tensor of the file: dtype, shape, and where its bytes are.
#[derive(Clone, Debug)]
pub(super) struct TensorEntry {
    pub(super) dtype: Dtype,
    pub(super) shape: Vec<usize>,
    /// Absolute file offset of the first byte.
    offset: u64,
    /// Size in bytes.
    size: usize,
}

/// An open `model.safetensors` whose header has been read and checked.
pub(super) struct Checkpoint {
    pub(super) path: PathBuf,
    file: File,
    /// Every tensor by name (sorted).
    pub(super) tensors: BTreeMap<String, TensorEntry>,
}

impl Checkpoint {
    /// Opens `path` and reads its header. A file that is truncated, or whose header is not a
    /// valid safetensors header, is refused with one error that says so.
    pub(super) fn open(path: &Path) -> Result<Checkpoint> {
        let io = |source| EngineError::Io { action: "read", path: path.to_owned(), source };
        let corrupt = |what: String| refuse(path, format!("truncated or corrupt safetensors file: {what}"));
        let mut file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut n = [0u8; 8];
        if len < 8 {
            return Err(corrupt(format!("{len} bytes, shorter than the 8-byte header size")));
        }
        file.read_exact(&mut n).map_err(io)?;
        let n = u64::from_le_bytes(n);
        if n > MAX_HEADER || 8 + n > len {
            return Err(corrupt(format!("the header claims {n} bytes, the file has {len} bytes")));
        }
        let mut header = vec![0u8; n as usize];
        file.read_exact(&mut header).map_err(io)?;
        let metadata: Metadata =
            serde_json::from_slice(&header).map_err(|e| corrupt(format!("invalid header ({e})")))?;
        let data_start = 8 + n;
        let end = data_start + metadata.data_len() as u64;
        if end != len {
            return Err(corrupt(format!("the header describes {end} bytes, the file has {len} bytes")));
        }
        let tensors = metadata
            .tensors()
            .into_iter()
            .map(|(name, info)| {
                let (start, stop) = info.data_offsets;
                let entry = TensorEntry {
                    dtype: info.dtype,
                    shape: info.shape.clone(),
                    offset: data_start + start as u64,
                    size: stop - start,
                };
                (name, entry)
            })
            .collect();
        Ok(Checkpoint { path: path.to_owned(), file, tensors })
    }

    /// Tensor `name` as F32 values in its own (row-major) order. The dtype must be a float type
    /// (checked before: [`is_float`]).
    pub(super) fn read_f32(&mut self, name: &str) -> Result<Vec<f32>> {
        let entry = &self.tensors[name];
        let io = |source| EngineError::Io { action: "read", path: self.path.clone(), source };
        let mut bytes = vec![0u8; entry.size];
        self.file.seek(SeekFrom::Start(entry.offset)).map_err(io)?;
        self.file.read_exact(&mut bytes).map_err(io)?;
        to_f32(entry.dtype, &bytes).ok_or_else(|| refuse(&self.path, format!("{name} has dtype {}", entry.dtype)))
    }
}

/// The dtypes that are read (and cast to F32).
pub(super) const FLOAT_DTYPES: [Dtype; 4] = [Dtype::F32, Dtype::F16, Dtype::BF16, Dtype::F64];

/// Whether `dtype` is one of [`FLOAT_DTYPES`].
pub(super) fn is_float(dtype: Dtype) -> bool {
    FLOAT_DTYPES.contains(&dtype)
}

/// Little-endian values of `dtype` as F32; `None` for a dtype that is not read. Every
/// conversion is exact except F64, which rounds to nearest (as numpy's `astype(float32)`).
fn to_f32(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f32>> {
    let u16s = || bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    Some(match dtype {
        Dtype::F32 => bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect(),
        Dtype::F64 => bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32).collect(),
        Dtype::BF16 => u16s().map(|h| f32::from_bits((h as u32) << 16)).collect(),
        Dtype::F16 => u16s().map(f16_to_f32).collect(),
        _ => return None,
    })
}

/// IEEE half precision to single precision (exact; NaN payloads kept, as numpy does).
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h & 0x8000) as u32) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let mant = (h & 0x3ff) as u32;
    match exp {
        // Zero and subnormals: mant · 2⁻²⁴, exact in f32.
        0 => f32::from_bits(sign | (mant as f32 * f32::powi(2.0, -24)).to_bits()),
        0x1f => f32::from_bits(sign | 0x7f80_0000 | (mant << 13)),
        _ => f32::from_bits(sign | ((exp + 127 - 15) << 23) | (mant << 13)),
    }
}

#[cfg(test)]
mod tests {
    use super::f16_to_f32;

    #[test]
    fn f16_conversion_is_exact() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }
}
