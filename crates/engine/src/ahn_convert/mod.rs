//! Converting an official AHN checkpoint into an AHN block (docs/ahn-gguf.md).
//!
//! The official releases `ByteDance-Seed/AHN-{GDN,DN,Mamba2}-for-Qwen-2.5-Instruct-{3B,7B,14B}`
//! are a directory with `config.json` and one `model.safetensors` holding only the AHN tensors
//! `model.layers.{i}.ahn.fn.*` (ahn.md §4). [`convert_ahn_checkpoint`] does what the Python
//! converter `tools/ahn_ref/convert.py` does, and writes the same bytes:
//!
//! - the cell comes from `config.json` `_ahn_implementation`, the shapes from
//!   `num_hidden_layers`, `hidden_size`, `num_attention_heads` and `head_dim` (default
//!   `hidden_size / num_attention_heads`); W and S are never taken from `config.json`;
//! - exactly the cell's tensors must be present for every layer, with the official shapes and a
//!   float dtype (F32, F16, BF16, F64); the router (`ahn_router.*` tensors or
//!   `use_ahn_router: true`) is refused;
//! - tensors are renamed, the GroupLinear `o_proj` is transposed per head, GDN's unused `D` is
//!   kept, and everything is written as F32;
//! - with a base model, the block must fit it (layers, hidden size, heads, head size);
//! - nothing is written on any error: the block is written to `<out>.partial` beside `out`,
//!   checked, and renamed.
//!
//! Memory: the checkpoint is read one tensor at a time (`checkpoint.rs`). The block itself is
//! written by [`write_gguf`], which assembles it in a ggml context before writing, so the peak
//! is the block's F32 size (about 245 MB for the largest release, 14B GDN) plus one tensor.

mod checkpoint;
mod config;
mod tensors;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

pub use tensors::ahn_param_count;

use self::checkpoint::{is_float, Checkpoint, FLOAT_DTYPES};
use self::config::{read_config, CheckpointConfig};
use self::tensors::{layer_tensors, TRANSPOSED};
use crate::ahn_block::{write_gguf, AhnBlockInfo, AhnType, KvValue};
use crate::error::{EngineError, Result};
use crate::gguf::GgufFile;

/// Output RMS-norm eps of the official AHN modules (not a `config.json` key).
pub const AHN_DEFAULT_NORM_EPS: f32 = 1e-5;

/// The only base architecture AHN checkpoints exist for.
const ARCH: &str = "qwen2";

/// Options of [`convert_ahn_checkpoint`] (all optional).
#[derive(Clone, Debug, Default)]
pub struct ConvertOptions {
    /// Default window W stored in the block (`qwen2.ahn.window`); at least 1.
    pub window: Option<u32>,
    /// Default sink count S stored in the block (`qwen2.ahn.sinks`).
    pub sinks: Option<u32>,
    /// A base model GGUF the block must fit; checked before anything is written.
    pub base: Option<PathBuf>,
    /// Eps of the AHN output norm; [`AHN_DEFAULT_NORM_EPS`] when `None`.
    pub norm_eps: Option<f32>,
}

/// What a conversion found and wrote.
#[derive(Clone, Debug)]
pub struct ConvertReport {
    /// The block written.
    pub out: PathBuf,
    /// The cell.
    pub ahn_type: AhnType,
    /// Layers.
    pub layers: u32,
    /// AHN heads.
    pub heads: u32,
    /// Head size.
    pub head_dim: u32,
    /// Hidden size of the base model.
    pub hidden: u32,
    /// Tensors converted.
    pub tensors: usize,
    /// The checkpoint's dtypes (`BF16`, `F16`, `F32`, `F64`), sorted; all written as F32.
    pub source_dtypes: Vec<String>,
    /// Parameters in the checkpoint (every element of every tensor).
    pub params: u64,
    /// Parameters by the formulas of ahn.md §6 ([`ahn_param_count`]); equals `params`.
    pub formula_params: u64,
    /// Size of the block file.
    pub bytes_written: u64,
    /// Default W stored in the block.
    pub window: Option<u32>,
    /// Default S stored in the block.
    pub sinks: Option<u32>,
    /// Output norm eps stored in the block.
    pub norm_eps: f32,
}

impl fmt::Display for ConvertReport {
    /// Three lines, as the Python converter prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (t, dtypes) = (self.ahn_type.as_str(), self.source_dtypes.join("/"));
        write!(f, "{t}: {} layers, {} heads of {}, hidden {}; ", self.layers, self.heads, self.head_dim, self.hidden)?;
        writeln!(f, "{} tensors ({dtypes} -> F32)", self.tensors)?;
        write!(f, "parameters: {} (ahn.md §6 formula: {})", thousands(self.params), thousands(self.formula_params))?;
        write!(f, "\nwrote {} ({} bytes)", self.out.display(), thousands(self.bytes_written))?;
        let defaults: Vec<String> = [("W", self.window), ("S", self.sinks)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
            .collect();
        if !defaults.is_empty() {
            write!(f, "; defaults {}", defaults.join(", "))?;
        }
        Ok(())
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The error for a checkpoint (or one of its files, or an option) that cannot be converted.
fn refuse(path: &Path, reason: String) -> EngineError {
    EngineError::AhnCheckpoint { path: path.to_owned(), reason }
}

/// Converts the official AHN checkpoint `source` into the AHN block `out`.
///
/// `source` is a checkpoint directory (`config.json` + `model.safetensors`) or a safetensors
/// file with `config.json` beside it. Checks everything before writing; on any error nothing
/// is left at `out` (an existing file there is untouched) and no temporary file remains.
pub fn convert_ahn_checkpoint(source: &Path, out: &Path, options: &ConvertOptions) -> Result<ConvertReport> {
    if options.window == Some(0) {
        return Err(refuse(source, "the window W must be at least 1, got 0".into()));
    }
    let norm_eps = options.norm_eps.unwrap_or(AHN_DEFAULT_NORM_EPS);
    if !(norm_eps.is_finite() && norm_eps >= 0.0) {
        return Err(refuse(source, format!("the norm eps must be a finite non-negative number, got {norm_eps}")));
    }
    let (config_path, weights_path) = if source.is_dir() {
        (source.join("config.json"), source.join("model.safetensors"))
    } else if source.is_file() {
        (source.with_file_name("config.json"), source.to_owned())
    } else {
        return Err(refuse(source, "not found (expected a checkpoint directory or its safetensors file)".into()));
    };
    let cfg = read_config(&config_path)?;
    if !weights_path.is_file() {
        let why = "not found (the official AHN releases ship one model.safetensors)";
        return Err(refuse(&weights_path, why.into()));
    }
    if let Some(base) = &options.base {
        check_base(base, &cfg, source, out)?;
    }
    let mut ckpt = Checkpoint::open(&weights_path)?;
    let dtypes = check_tensors(&ckpt, &cfg)?;
    let params: u64 = ckpt.tensors.values().map(|t| t.shape.iter().product::<usize>() as u64).sum();
    let formula = ahn_param_count(cfg.ahn_type, cfg.n_layer, cfg.hidden, cfg.heads, cfg.head_dim);
    if params != formula {
        // Cannot happen once the shapes are checked; kept as a guard, as in the Python converter.
        return Err(refuse(&weights_path, format!("{params} parameters, ahn.md §6 gives {formula}")));
    }
    let info = AhnBlockInfo {
        path: out.to_owned(),
        architecture: ARCH.to_owned(),
        ahn_type: cfg.ahn_type,
        block_count: cfg.n_layer,
        head_count: cfg.heads,
        head_dim: cfg.head_dim,
        embedding_length: cfg.hidden,
        window: options.window,
        sinks: options.sinks,
        n_params: params,
    };
    let bytes_written = write(&info, norm_eps, &mut ckpt, out)?;
    Ok(ConvertReport {
        out: out.to_owned(),
        ahn_type: cfg.ahn_type,
        layers: cfg.n_layer,
        heads: cfg.heads,
        head_dim: cfg.head_dim,
        hidden: cfg.hidden,
        tensors: ckpt.tensors.len(),
        source_dtypes: dtypes,
        params,
        formula_params: formula,
        bytes_written,
        window: options.window,
        sinks: options.sinks,
        norm_eps,
    })
}

/// Refuses a conversion whose block would not fit the base model `base`.
fn check_base(base: &Path, cfg: &CheckpointConfig, source: &Path, out: &Path) -> Result<()> {
    {
        let file = GgufFile::open(base)?;
        if file.string("general.type").as_deref() == Some("ahn") {
            return Err(refuse(base, "this is an AHN block, not a base model".into()));
        }
        let arch = file.string("general.architecture").unwrap_or_default();
        if arch != ARCH {
            let why = format!("the base model is a {arch:?} model; AHN checkpoints exist for {ARCH} only");
            return Err(refuse(base, why));
        }
    }
    let model = AhnBlockInfo::for_base(base, cfg.ahn_type, out)?;
    let checks = [
        ("layers", cfg.n_layer, model.block_count),
        ("hidden size", cfg.hidden, model.embedding_length),
        ("heads", cfg.heads, model.head_count),
        ("head size", cfg.head_dim, model.head_dim),
    ];
    for (what, have, want) in checks {
        if have != want {
            let why =
                format!("does not fit the base model {}: {what}: checkpoint {have}, model {want}", base.display());
            return Err(refuse(source, why));
        }
    }
    Ok(())
}

/// The first names of a list, sorted, for a message.
fn some(names: &[&str]) -> String {
    const N: usize = 4;
    let mut names = names.to_vec();
    names.sort_unstable();
    let more = if names.len() > N { format!(" (and {} more)", names.len() - N) } else { String::new() };
    names.truncate(N);
    names.join(", ") + &more
}

/// Checks the checkpoint's tensors against the cell; returns the dtypes seen (sorted names).
///
/// Refuses, in this order (as the Python converter): the router, names that are not the cell's
/// tensors of an existing layer, missing tensors, then per tensor a wrong shape or a dtype that
/// is not a float type. Each message names the tensors.
fn check_tensors(ckpt: &Checkpoint, cfg: &CheckpointConfig) -> Result<Vec<String>> {
    let bad = |reason: String| refuse(&ckpt.path, reason);
    let names: Vec<&str> = ckpt.tensors.keys().map(String::as_str).collect();
    let router: Vec<&str> = names.iter().copied().filter(|n| is_router(n)).collect();
    if !router.is_empty() {
        return Err(bad(format!(
            "holds the AHN router ({}), which the official inference never uses (use_ahn_router=False); \
             such a checkpoint is not supported",
            some(&router)
        )));
    }
    let expected = expected_official(cfg);
    let unknown: Vec<&str> = names.iter().copied().filter(|n| !expected.contains_key(*n)).collect();
    let t = cfg.ahn_type.as_str();
    if !unknown.is_empty() {
        let mut official: Vec<&str> = layer_tensors(cfg.ahn_type).iter().map(|t| t.official).collect();
        official.sort_unstable();
        return Err(bad(format!(
            "tensors that are not {t} AHN tensors of a {}-layer model: {} (expected only \
             model.layers.{{i}}.ahn.fn.* of {})",
            cfg.n_layer,
            some(&unknown),
            official.join(", ")
        )));
    }
    let missing: Vec<&str> = expected.keys().map(String::as_str).filter(|n| !ckpt.tensors.contains_key(*n)).collect();
    if !missing.is_empty() {
        return Err(bad(format!("{} {t} AHN tensors missing: {}", missing.len(), some(&missing))));
    }
    let mut dtypes = BTreeSet::new();
    for (name, entry) in &ckpt.tensors {
        let want = &expected[name];
        if entry.shape != *want {
            return Err(bad(format!("{name} has shape {:?}, expected {want:?}", entry.shape)));
        }
        if !is_float(entry.dtype) {
            let floats: Vec<String> = FLOAT_DTYPES.iter().map(|d| d.to_string()).collect();
            return Err(bad(format!("{name} has dtype {}, expected one of {}", entry.dtype, floats.join(", "))));
        }
        dtypes.insert(entry.dtype.to_string());
    }
    Ok(dtypes.into_iter().collect())
}

/// `model.layers.{i}.ahn_router.*`.
fn is_router(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("model.layers.") else { return false };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(".ahn_router.")
}

/// Every official tensor name of the checkpoint and its PyTorch shape.
fn expected_official(cfg: &CheckpointConfig) -> HashMap<String, Vec<usize>> {
    let mut out = HashMap::new();
    for i in 0..cfg.n_layer {
        for t in layer_tensors(cfg.ahn_type) {
            out.insert(
                format!("model.layers.{i}.ahn.fn.{}", t.official),
                t.shape.dims(cfg.hidden, cfg.heads, cfg.head_dim),
            );
        }
    }
    out
}

/// Removes a file when dropped, unless disarmed: the partial block on any error or panic.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Writes the block `info` to `out` (through `<out>.partial`), reading each tensor from `ckpt`
/// when its turn comes. Returns the file size.
///
/// The metadata keys are those of [`crate::write_block`] and of the Python writer, in the same
/// order, with `norm_eps` as given. The tensors have the shapes of
/// [`AhnBlockInfo::expected_tensors`], listed in the Python writer's order (per layer,
/// `cells.AHN_TENSORS`), so that both converters write identical files.
fn write(info: &AhnBlockInfo, norm_eps: f32, ckpt: &mut Checkpoint, out: &Path) -> Result<u64> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| EngineError::Io { action, path, source }
    };
    let file_name = out.file_name().ok_or_else(|| refuse(out, "the output path names no file".into()))?;
    let mut partial_name = file_name.to_owned();
    partial_name.push(".partial");
    let partial = out.with_file_name(partial_name);

    let arch = &info.architecture;
    let mut kv = vec![
        ("general.type".to_owned(), KvValue::Str("ahn".into())),
        ("ahn.base_architecture".to_owned(), KvValue::Str(arch.clone())),
        (format!("{arch}.ahn.type"), KvValue::Str(info.ahn_type.as_str().into())),
        (format!("{arch}.ahn.block_count"), KvValue::U32(info.block_count)),
        (format!("{arch}.ahn.head_count"), KvValue::U32(info.head_count)),
        (format!("{arch}.ahn.head_dim"), KvValue::U32(info.head_dim)),
        (format!("{arch}.ahn.embedding_length"), KvValue::U32(info.embedding_length)),
        (format!("{arch}.ahn.norm_eps"), KvValue::F32(norm_eps)),
    ];
    if let Some(w) = info.window {
        kv.push((format!("{arch}.ahn.window"), KvValue::U32(w)));
    }
    if let Some(s) = info.sinks {
        kv.push((format!("{arch}.ahn.sinks"), KvValue::U32(s)));
    }

    let shapes: HashMap<String, [i64; 4]> = info.expected_tensors().into_iter().collect();
    let mut tensors = Vec::with_capacity(shapes.len());
    let mut source = HashMap::with_capacity(shapes.len()); // block name -> official name
    for i in 0..info.block_count {
        for t in layer_tensors(info.ahn_type) {
            let name = format!("blk.{i}.{}", t.block);
            let ne = shapes[&name];
            source.insert(name.clone(), format!("model.layers.{i}.ahn.fn.{}", t.official));
            tensors.push((name, ne));
        }
    }
    assert_eq!(tensors.len(), shapes.len(), "the converter's tensor list must be the block's");

    let mut cleanup = RemoveOnDrop(Some(partial.clone()));
    let mut failure = None;
    write_gguf(&partial, None, &kv, &tensors, |name, ne| {
        let n = ne.iter().product::<i64>() as usize;
        if failure.is_some() {
            return vec![0.0; n];
        }
        match ckpt.read_f32(&source[name]) {
            Ok(values) if name.ends_with(TRANSPOSED) => transpose_heads(&values, ne[0] as usize, ne[2] as usize),
            Ok(values) => values,
            Err(e) => {
                failure = Some(e);
                vec![0.0; n]
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    // The result must read back as a block of the expected shape.
    let check = AhnBlockInfo::read(&partial)?;
    if check.n_params != info.n_params {
        return Err(EngineError::BadAhnBlock {
            path: partial.clone(),
            reason: format!("{} parameters written, {} read", info.n_params, check.n_params),
        });
    }
    let bytes = std::fs::metadata(&partial).map_err(io("read", &partial))?.len();
    std::fs::rename(&partial, out).map_err(io("rename into", out))?;
    cleanup.0 = None;
    Ok(bytes)
}

/// `W[h, in, out]` (row-major, square heads of `d`) as stored in a block: per head transposed,
/// i.e. `[h, out, in]` row-major, which is ggml ne `[in, out, H]`.
fn transpose_heads(w: &[f32], d: usize, heads: usize) -> Vec<f32> {
    let mut out = vec![0.0; w.len()];
    for h in 0..heads {
        let (src, dst) = (&w[h * d * d..(h + 1) * d * d], &mut out[h * d * d..(h + 1) * d * d]);
        for i in 0..d {
            for j in 0..d {
                dst[j * d + i] = src[i * d + j];
            }
        }
    }
    out
}
