//! AHN blocks: the small GGUF files that carry a model's AHN weights (docs/ahn-gguf.md).
//!
//! Users keep their stock base GGUF. To run it with an AHN block, the engine writes a merged
//! GGUF into a cache directory once: the base file's metadata and tensors, plus the block's
//! `<arch>.ahn.*` keys and `blk.N.ahn_*` tensors. The merge streams both files tensor by
//! tensor (a 1 MiB buffer), so it never holds a model in memory, and it is redone only when
//! the base file or the block changes.

use std::ffi::CString;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use llama_cpp_sys_2 as sys;
use sha2::{Digest, Sha256};

use crate::error::{EngineError, Result};
use crate::gguf::GgufFile;

/// The AHN cell of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AhnType {
    /// Gated delta net.
    Gdn,
    /// Delta net.
    Dn,
    /// Mamba2 state-space cell.
    Mamba2,
}

impl AhnType {
    /// The name used in GGUF metadata (`gdn`, `dn`, `mamba2`).
    pub fn as_str(self) -> &'static str {
        match self {
            AhnType::Gdn => "gdn",
            AhnType::Dn => "dn",
            AhnType::Mamba2 => "mamba2",
        }
    }

    fn parse(s: &str) -> Option<AhnType> {
        match s {
            "gdn" => Some(AhnType::Gdn),
            "dn" => Some(AhnType::Dn),
            "mamba2" => Some(AhnType::Mamba2),
            _ => None,
        }
    }
}

/// What an AHN block file declares.
#[derive(Clone, Debug)]
pub struct AhnBlockInfo {
    /// The file.
    pub path: PathBuf,
    /// Base architecture it belongs to (`qwen2`).
    pub architecture: String,
    /// The cell.
    pub ahn_type: AhnType,
    /// Layers (must equal the base model's).
    pub block_count: u32,
    /// Heads (must equal the base model's attention heads).
    pub head_count: u32,
    /// Head size (must equal the base model's head size).
    pub head_dim: u32,
    /// Hidden size of the base model.
    pub embedding_length: u32,
    /// Default window W stored in the block, if any.
    pub window: Option<u32>,
    /// Default sink count S stored in the block, if any.
    pub sinks: Option<u32>,
    /// Parameters in the block.
    pub n_params: u64,
}

const BLOCK_TYPE: &str = "ahn";

impl AhnBlockInfo {
    /// Reads and checks a block file's metadata and tensor table.
    pub fn read(path: &Path) -> Result<AhnBlockInfo> {
        let file = GgufFile::open(path)?;
        Self::from_gguf(&file)
    }

    fn from_gguf(file: &GgufFile) -> Result<AhnBlockInfo> {
        let bad = |reason: String| EngineError::BadAhnBlock { path: file.path.clone(), reason };
        if file.string("general.type").as_deref() != Some(BLOCK_TYPE) {
            return Err(bad("general.type is not \"ahn\": this is not an AHN block".into()));
        }
        let arch =
            file.string("ahn.base_architecture").ok_or_else(|| bad("ahn.base_architecture is missing".into()))?;
        let key = |k: &str| format!("{arch}.ahn.{k}");
        let req_u32 =
            |k: &str| file.u32(&key(k)).ok_or_else(|| bad(format!("{} is missing or not an integer", key(k))));
        let type_name = file.string(&key("type")).ok_or_else(|| bad(format!("{} is missing", key("type"))))?;
        let ahn_type = AhnType::parse(&type_name)
            .ok_or_else(|| bad(format!("unknown AHN type {type_name:?} (expected gdn, dn or mamba2)")))?;
        let info = AhnBlockInfo {
            path: file.path.clone(),
            architecture: arch.clone(),
            ahn_type,
            block_count: req_u32("block_count")?,
            head_count: req_u32("head_count")?,
            head_dim: req_u32("head_dim")?,
            embedding_length: req_u32("embedding_length")?,
            window: file.u32(&key("window")),
            sinks: file.u32(&key("sinks")),
            n_params: (0..file.n_tensors()).map(|i| file.tensor(i).ne.iter().product::<i64>() as u64).sum(),
        };
        // Every tensor must be an AHN tensor of an existing layer, with the expected shape.
        let expected = info.expected_tensors();
        for i in 0..file.n_tensors() {
            let t = file.tensor(i);
            match expected.iter().find(|(name, _)| *name == t.name) {
                Some((_, ne)) if *ne == t.ne => {}
                Some((_, ne)) => {
                    return Err(bad(format!("tensor {} has shape {:?}, expected {:?}", t.name, t.ne, ne)));
                }
                None => return Err(bad(format!("unexpected tensor {}", t.name))),
            }
            if t.ggml_type != sys::GGML_TYPE_F32 && t.ggml_type != sys::GGML_TYPE_F16 {
                return Err(bad(format!("tensor {} must be F32 or F16", t.name)));
            }
        }
        if file.n_tensors() as usize != expected.len() {
            return Err(bad(format!("{} tensors, expected {}", file.n_tensors(), expected.len())));
        }
        Ok(info)
    }

    /// The shape a block of `ahn_type` must have to fit the base model file `base`, to be
    /// written at `path` (with [`write_block`]); no window or sink defaults.
    pub fn for_base(base: &Path, ahn_type: AhnType, path: &Path) -> Result<AhnBlockInfo> {
        let file = GgufFile::open(base)?;
        let arch = file.string("general.architecture").unwrap_or_default();
        let get = |k: &str| {
            file.u32(&format!("{arch}.{k}"))
                .ok_or_else(|| EngineError::BadGguf { path: base.to_owned(), reason: format!("{arch}.{k} is missing") })
        };
        let (layers, hidden, heads) = (get("block_count")?, get("embedding_length")?, get("attention.head_count")?);
        let head_dim = file.u32(&format!("{arch}.attention.key_length")).unwrap_or(hidden / heads.max(1));
        Ok(AhnBlockInfo {
            path: path.to_owned(),
            architecture: arch,
            ahn_type,
            block_count: layers,
            head_count: heads,
            head_dim,
            embedding_length: hidden,
            window: None,
            sinks: None,
            n_params: 0,
        })
    }

    /// The tensors a block of this type and size holds: name and ggml shape (ne).
    pub fn expected_tensors(&self) -> Vec<(String, [i64; 4])> {
        let (h, d, e) = (self.head_count as i64, self.head_dim as i64, self.embedding_length as i64);
        let mut out = Vec::new();
        for i in 0..self.block_count {
            let mut add = |name: &str, ne: [i64; 4]| out.push((format!("blk.{i}.{name}"), ne));
            match self.ahn_type {
                AhnType::Gdn | AhnType::Dn => {
                    if self.ahn_type == AhnType::Gdn {
                        add("ahn_alpha.weight", [e, h, 1, 1]);
                        add("ahn_a_log", [h, 1, 1, 1]);
                        add("ahn_dt_bias", [h, 1, 1, 1]);
                        add("ahn_d", [h, 1, 1, 1]);
                    }
                    add("ahn_beta.weight", [e, h, 1, 1]);
                    add("ahn_gate.weight", [e, h, 1, 1]);
                    add("ahn_norm.weight", [d, 1, 1, 1]);
                    add("ahn_out.weight", [d, d, h, 1]);
                }
                AhnType::Mamba2 => {
                    add("ahn_dt.weight", [e, h, 1, 1]);
                    add("ahn_dt.bias", [h, 1, 1, 1]);
                    add("ahn_dt_bias", [h, 1, 1, 1]);
                    add("ahn_a_log", [h, 1, 1, 1]);
                    add("ahn_gate.weight", [e, h, 1, 1]);
                    add("ahn_gate.bias", [h, 1, 1, 1]);
                    add("ahn_norm.weight", [h * d, 1, 1, 1]);
                    add("ahn_out.weight", [d, d, h, 1]);
                }
            }
        }
        out
    }

    /// Checks that the block fits a base model file.
    fn check_fits(&self, base: &GgufFile) -> Result<()> {
        let bad = |reason: String| EngineError::AhnBlockMismatch {
            block: self.path.clone(),
            model: base.path.clone(),
            reason,
        };
        let arch = base.string("general.architecture").unwrap_or_default();
        if arch != self.architecture {
            return Err(bad(format!("the block is for {:?} models, the model is {arch:?}", self.architecture)));
        }
        let get = |k: &str| base.u32(&format!("{arch}.{k}"));
        let n_layer = get("block_count").unwrap_or(0);
        let n_embd = get("embedding_length").unwrap_or(0);
        let n_head = get("attention.head_count").unwrap_or(0);
        let head_dim = get("attention.key_length").unwrap_or(n_embd.checked_div(n_head).unwrap_or(0));
        let checks = [
            ("layers", self.block_count, n_layer),
            ("hidden size", self.embedding_length, n_embd),
            ("heads", self.head_count, n_head),
            ("head size", self.head_dim, head_dim),
        ];
        for (what, block, model) in checks {
            if block != model {
                return Err(bad(format!("{what}: the block has {block}, the model {model}")));
            }
        }
        if base.keys().iter().any(|k| k.starts_with(&format!("{arch}.ahn.type"))) {
            return Err(bad("the model file already contains an AHN block".into()));
        }
        Ok(())
    }
}

/// Where the merged file for (`base`, `block`) lives in `cache_dir`, and whether it is up
/// to date; merges when it is not. Returns the merged file's path.
pub fn merged_model(base: &Path, block: &Path, cache_dir: &Path) -> Result<PathBuf> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| EngineError::Io { action, path, source }
    };
    let block_bytes = std::fs::read(block).map_err(io("read", block))?;
    let block_hash = hex16(&Sha256::digest(&block_bytes));
    let base_meta =
        std::fs::metadata(base).map_err(|source| EngineError::ModelFile { path: base.to_owned(), source })?;
    let base_mtime = base_meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    let stamp_text = format!(
        "base {} {} {}\nblock {}\n",
        base.display(),
        base_meta.len(),
        base_mtime.map(|d| d.as_nanos()).unwrap_or(0),
        block_hash
    );
    let stem = base.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    let out = cache_dir.join(format!("{stem}.ahn-{block_hash}.gguf"));
    let stamp = out.with_extension("gguf.source");
    if out.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(stamp_text.as_str()) {
        return Ok(out);
    }
    std::fs::create_dir_all(cache_dir).map_err(io("create", cache_dir))?;
    merge(base, block, &out)?;
    std::fs::write(&stamp, stamp_text).map_err(io("write", &stamp))?;
    Ok(out)
}

fn hex16(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Writes `out` = `base` + `block` (metadata and tensors), streaming the tensor data.
/// The file appears under its final name only when complete.
pub fn merge(base_path: &Path, block_path: &Path, out: &Path) -> Result<AhnBlockInfo> {
    let base = GgufFile::open(base_path)?;
    let block = GgufFile::open(block_path)?;
    let info = AhnBlockInfo::from_gguf(&block)?;
    info.check_fits(&base)?;

    // SAFETY (whole block): the contexts are valid for the lifetime of `base`/`block`; the
    // ggml tensors returned by ggml_get_first/next_tensor describe their tensors (no data).
    let merged = unsafe { sys::gguf_init_empty() };
    struct Guard(*mut sys::gguf_context);
    impl Drop for Guard {
        fn drop(&mut self) {
            // SAFETY: created by gguf_init_empty, freed once.
            unsafe { sys::gguf_free(self.0) }
        }
    }
    let _guard = Guard(merged);
    let mut sources: Vec<(&GgufFile, usize, usize)> = Vec::new(); // (file, offset, size)
    unsafe {
        // Block keys first, then the base's on top: the base's general.* win, the block's
        // <arch>.ahn.* keys are new. The block's general.type ("ahn") must not survive.
        sys::gguf_set_kv(merged, block.ctx);
        let general_type = CString::new("general.type").unwrap();
        sys::gguf_remove_key(merged, general_type.as_ptr());
        let base_arch = CString::new("ahn.base_architecture").unwrap();
        sys::gguf_remove_key(merged, base_arch.as_ptr());
        sys::gguf_set_kv(merged, base.ctx);

        for file in [&base, &block] {
            let mut t = sys::ggml_get_first_tensor(file.tensors);
            let mut i = 0;
            while !t.is_null() {
                let info = file.tensor(i);
                sys::gguf_add_tensor(merged, t);
                sources.push((file, info.file_offset, info.size));
                t = sys::ggml_get_next_tensor(file.tensors, t);
                i += 1;
            }
        }
    }

    let io = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| EngineError::Io { action, path, source }
    };
    let partial = out.with_extension("gguf.partial");
    {
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&partial).map_err(io("create", &partial))?);
        // SAFETY: the buffer has gguf_get_meta_size bytes.
        let meta = unsafe {
            let mut meta = vec![0u8; sys::gguf_get_meta_size(merged)];
            sys::gguf_get_meta_data(merged, meta.as_mut_ptr().cast());
            meta
        };
        w.write_all(&meta).map_err(io("write", &partial))?;
        let alignment = unsafe { sys::gguf_get_alignment(merged) };
        let mut base_file = File::open(base_path).map_err(io("open", base_path))?;
        let mut block_file = File::open(block_path).map_err(io("open", block_path))?;
        let mut buf = vec![0u8; 1 << 20];
        for (file, offset, size) in sources {
            let src = if std::ptr::eq(file, &base) { &mut base_file } else { &mut block_file };
            src.seek(SeekFrom::Start(offset as u64)).map_err(io("read", &file.path))?;
            let mut left = size;
            while left > 0 {
                let n = left.min(buf.len());
                src.read_exact(&mut buf[..n]).map_err(io("read", &file.path))?;
                w.write_all(&buf[..n]).map_err(io("write", &partial))?;
                left -= n;
            }
            let pad = size.next_multiple_of(alignment) - size;
            w.write_all(&vec![0u8; pad]).map_err(io("write", &partial))?;
        }
        let file = w.into_inner().map_err(|e| EngineError::Io {
            action: "write",
            path: partial.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io("sync", &partial))?;
    }
    // The result must read back as GGUF with every tensor in place.
    let check = GgufFile::open(&partial)?;
    if check.n_tensors() != base.n_tensors() + block.n_tensors() {
        let _ = std::fs::remove_file(&partial);
        return Err(EngineError::BadGguf { path: partial, reason: "merged tensor count mismatch".into() });
    }
    drop(check);
    std::fs::rename(&partial, out).map_err(io("rename into", out))?;
    Ok(info)
}

/// Writes an AHN block file with every tensor `info` calls for, F32, filled by `fill(name,
/// ne)` (which returns ne[0]*ne[1]*ne[2]*ne[3] values in ggml order). The window and sinks
/// of `info`, if set, become the block's defaults.
pub fn write_block(path: &Path, info: &AhnBlockInfo, fill: impl FnMut(&str, [i64; 4]) -> Vec<f32>) -> Result<()> {
    let arch = info.architecture.clone();
    let mut kv = vec![
        ("general.type".to_owned(), KvValue::Str(BLOCK_TYPE.into())),
        ("ahn.base_architecture".to_owned(), KvValue::Str(arch.clone())),
        (format!("{arch}.ahn.type"), KvValue::Str(info.ahn_type.as_str().into())),
        (format!("{arch}.ahn.block_count"), KvValue::U32(info.block_count)),
        (format!("{arch}.ahn.head_count"), KvValue::U32(info.head_count)),
        (format!("{arch}.ahn.head_dim"), KvValue::U32(info.head_dim)),
        (format!("{arch}.ahn.embedding_length"), KvValue::U32(info.embedding_length)),
        (format!("{arch}.ahn.norm_eps"), KvValue::F32(1e-5)),
    ];
    if let Some(w) = info.window {
        kv.push((format!("{arch}.ahn.window"), KvValue::U32(w)));
    }
    if let Some(s) = info.sinks {
        kv.push((format!("{arch}.ahn.sinks"), KvValue::U32(s)));
    }
    write_gguf(path, None, &kv, &info.expected_tensors(), fill)
}

/// A metadata value to write.
#[derive(Clone, Debug)]
pub enum KvValue {
    /// Unsigned 32-bit integer.
    U32(u32),
    /// 32-bit float.
    F32(f32),
    /// String.
    Str(String),
}

/// Writes a GGUF file: the keys of `copy_keys_from` (a GGUF file and a key prefix, e.g. a
/// model's `tokenizer.` keys), then `kv`, then F32 tensors of the given shapes filled by
/// `fill(name, ne)`.
pub fn write_gguf(
    path: &Path,
    copy_keys_from: Option<(&Path, &str)>,
    kv: &[(String, KvValue)],
    tensors: &[(String, [i64; 4])],
    mut fill: impl FnMut(&str, [i64; 4]) -> Vec<f32>,
) -> Result<()> {
    let source = match copy_keys_from {
        Some((p, _)) => Some(GgufFile::open(p)?),
        None => None,
    };
    let data_bytes: usize = tensors.iter().map(|(_, ne)| ne.iter().product::<i64>() as usize * 4).sum();
    // SAFETY: a ggml context large enough for every tensor and its header; tensors are
    // filled through their data pointers with exactly ggml_nbytes bytes; everything is freed
    // before returning.
    unsafe {
        let params = sys::ggml_init_params {
            mem_size: data_bytes + (tensors.len() + 1) * (sys::ggml_tensor_overhead() + 64) + (1 << 16),
            mem_buffer: std::ptr::null_mut(),
            no_alloc: false,
        };
        let ctx = sys::ggml_init(params);
        let gguf = sys::gguf_init_empty();
        if let (Some(src), Some((_, prefix))) = (&source, copy_keys_from) {
            sys::gguf_set_kv(gguf, src.ctx);
            for key in src.keys() {
                if !key.starts_with(prefix) {
                    let k = CString::new(key).unwrap();
                    sys::gguf_remove_key(gguf, k.as_ptr());
                }
            }
        }
        for (key, value) in kv {
            let k = CString::new(key.as_str()).unwrap();
            match value {
                KvValue::U32(v) => sys::gguf_set_val_u32(gguf, k.as_ptr(), *v),
                KvValue::F32(v) => sys::gguf_set_val_f32(gguf, k.as_ptr(), *v),
                KvValue::Str(v) => {
                    let v = CString::new(v.as_str()).unwrap();
                    sys::gguf_set_val_str(gguf, k.as_ptr(), v.as_ptr());
                }
            }
        }
        for (name, ne) in tensors {
            let t = sys::ggml_new_tensor(ctx, sys::GGML_TYPE_F32, 4, ne.as_ptr());
            let cname = CString::new(name.as_str()).unwrap();
            sys::ggml_set_name(t, cname.as_ptr());
            let values = fill(name, *ne);
            assert_eq!(values.len() * 4, sys::ggml_nbytes(t), "wrong value count for {name}");
            std::ptr::copy_nonoverlapping(values.as_ptr(), (*t).data.cast::<f32>(), values.len());
            sys::gguf_add_tensor(gguf, t);
        }
        let cpath = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        let ok = sys::gguf_write_to_file(gguf, cpath.as_ptr(), false);
        sys::gguf_free(gguf);
        sys::ggml_free(ctx);
        if !ok {
            return Err(EngineError::Io {
                action: "write",
                path: path.to_owned(),
                source: std::io::Error::other("gguf_write_to_file failed"),
            });
        }
    }
    Ok(())
}
