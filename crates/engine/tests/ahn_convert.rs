//! The official-checkpoint converter (`convert_ahn_checkpoint`) on synthetic checkpoints.
//!
//! A synthetic checkpoint is a directory with a `config.json` and a `model.safetensors` holding
//! random weights under the official names and shapes of ahn.md §4 (written out here from the
//! spec, independently of the converter), in BF16, F16, F32, F64 or a mix, written with the
//! `safetensors` crate. The converted blocks are read back with a small GGUF reader of this file:
//! metadata keys in order, tensor names, shapes and types, and every value exactly. The Python
//! converter (`tools/ahn_convert.py`) must write byte-identical files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use safetensors::tensor::TensorView;
use safetensors::Dtype;
use seahorse_engine::{
    ahn_param_count, convert_ahn_checkpoint, write_gguf, AhnBlockInfo, AhnType, ConvertOptions, ConvertReport,
    EngineError, KvValue,
};
use serde_json::{json, Value};

// ------------------------------------------------------------------------------------------
// Synthetic checkpoints

/// Layers, hidden size, heads, head size.
type Dims = (u32, u32, u32, u32);

const TINY: Dims = (2, 24, 3, 8);
const Q05B: Dims = (24, 896, 14, 64);
const MODELS: [(&str, Dims); 5] = [
    ("0.5B", Q05B),
    ("1.5B", (28, 1536, 12, 128)),
    ("3B", (36, 2048, 16, 128)),
    ("7B", (28, 3584, 28, 128)),
    ("14B", (48, 5120, 40, 128)),
];
/// tools/README.md (ahn.md §6): GDN, DN, Mamba2 per model.
const PARAMS: [(&str, [u64; 3]); 5] = [
    ("0.5B", [2_281_968, 1_979_904, 2_001_216]),
    ("1.5B", [7_057_904, 6_540_800, 6_581_568]),
    ("3B", [12_982_464, 11_801_088, 11_872_512]),
    ("7B", [21_280_560, 18_468_352, 18_568_256]),
    ("14B", [60_960_384, 51_124_224, 51_371_520]),
];
const VARIANTS: [AhnType; 3] = [AhnType::Gdn, AhnType::Dn, AhnType::Mamba2];

fn implementation(t: AhnType) -> &'static str {
    match t {
        AhnType::Gdn => "GatedDeltaNet",
        AhnType::Dn => "DeltaNet",
        AhnType::Mamba2 => "Mamba2",
    }
}

/// Per cell, in block order (docs/ahn-gguf.md, `cells.AHN_TENSORS`): official `ahn.fn.` name,
/// block name and PyTorch shape (ahn.md §4).
fn official_tensors(t: AhnType, (_, e, h, d): Dims) -> Vec<(&'static str, &'static str, Vec<usize>)> {
    let (e, h, d) = (e as usize, h as usize, d as usize);
    let (proj, vec, out) = (vec![h, e], vec![h], vec![h, d, d]);
    match t {
        AhnType::Gdn => vec![
            ("b_proj.weight", "ahn_beta.weight", proj.clone()),
            ("a_proj.weight", "ahn_alpha.weight", proj.clone()),
            ("A_log", "ahn_a_log", vec.clone()),
            ("dt_bias", "ahn_dt_bias", vec.clone()),
            ("g_proj.weight", "ahn_gate.weight", proj),
            ("o_norm.weight", "ahn_norm.weight", vec![d]),
            ("o_proj.weight", "ahn_out.weight", out),
            ("D", "ahn_d", vec),
        ],
        AhnType::Dn => vec![
            ("b_proj.weight", "ahn_beta.weight", proj.clone()),
            ("g_proj.weight", "ahn_gate.weight", proj),
            ("o_norm.weight", "ahn_norm.weight", vec![d]),
            ("o_proj.weight", "ahn_out.weight", out),
        ],
        AhnType::Mamba2 => vec![
            ("dt_proj.weight", "ahn_dt.weight", proj.clone()),
            ("dt_proj.bias", "ahn_dt.bias", vec.clone()),
            ("dt_bias", "ahn_dt_bias", vec.clone()),
            ("A_log", "ahn_a_log", vec.clone()),
            ("g_proj.weight", "ahn_gate.weight", proj),
            ("g_proj.bias", "ahn_gate.bias", vec),
            ("norm.weight", "ahn_norm.weight", vec![h * d]),
            ("o_proj.weight", "ahn_out.weight", out),
        ],
    }
}

/// splitmix64: deterministic random bits.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// The value of IEEE half `bits`, from the definition (not by bit manipulation).
fn half_value(bits: u16) -> f32 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let (exp, mant) = (((bits >> 10) & 0x1f) as i32, (bits & 0x3ff) as f64);
    let v = if exp == 0 { mant * 2f64.powi(-24) } else { (1.0 + mant / 1024.0) * 2f64.powi(exp - 15) };
    (sign * v) as f32
}

/// One checkpoint tensor: name, dtype, shape, little-endian bytes, and its exact F32 values.
struct SourceTensor {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
    values: Vec<f32>,
}

/// Random values of `dtype` (finite; half values over the whole finite range).
fn random_tensor(rng: &mut Rng, name: String, dtype: Dtype, shape: Vec<usize>) -> SourceTensor {
    let n: usize = shape.iter().product();
    let (mut bytes, mut values) = (Vec::new(), Vec::with_capacity(n));
    for _ in 0..n {
        match dtype {
            Dtype::F32 => {
                let v = rng.unit() as f32;
                bytes.extend(v.to_le_bytes());
                values.push(v);
            }
            Dtype::F64 => {
                let v = rng.unit() * 3.0;
                bytes.extend(v.to_le_bytes());
                values.push(v as f32);
            }
            Dtype::BF16 => {
                let bits = ((rng.unit() as f32).to_bits() >> 16) as u16;
                bytes.extend(bits.to_le_bytes());
                values.push(f32::from_bits((bits as u32) << 16));
            }
            Dtype::F16 => {
                let mut bits = rng.next() as u16;
                if (bits >> 10) & 0x1f == 0x1f {
                    bits &= !0x4000; // no inf/NaN
                }
                bytes.extend(bits.to_le_bytes());
                values.push(half_value(bits));
            }
            Dtype::I32 => {
                let v = (rng.next() % 7) as i32;
                bytes.extend(v.to_le_bytes());
                values.push(v as f32);
            }
            other => panic!("no test values for {other}"),
        }
    }
    SourceTensor { name, dtype, shape, bytes, values }
}

/// Which dtype each tensor gets: one for all, or a mix over the tensors.
#[derive(Clone, Copy)]
enum Dtypes {
    All(Dtype),
    Mixed,
}

impl Dtypes {
    fn pick(self, index: usize) -> Dtype {
        match self {
            Dtypes::All(d) => d,
            Dtypes::Mixed => [Dtype::BF16, Dtype::F16, Dtype::F32, Dtype::F64][index % 4],
        }
    }
}

/// A synthetic official checkpoint.
struct Ckpt {
    dir: PathBuf,
    tensors: Vec<SourceTensor>,
}

impl Ckpt {
    fn weights(&self) -> PathBuf {
        self.dir.join("model.safetensors")
    }
    fn config(&self) -> PathBuf {
        self.dir.join("config.json")
    }
    fn values(&self, name: &str) -> &[f32] {
        &self.tensors.iter().find(|t| t.name == name).unwrap().values
    }
}

/// Writes a checkpoint in the official layout; `config` edits `config.json` (a `null` value
/// removes nothing: it sets the key to null, as the Python tests do), `edit` the tensor list.
fn write_checkpoint(
    dir: &Path,
    t: AhnType,
    dims: Dims,
    dtypes: Dtypes,
    config: Value,
    edit: impl FnOnce(&mut Vec<SourceTensor>, &mut Rng),
) -> Ckpt {
    let (layers, hidden, heads, _) = dims;
    std::fs::create_dir_all(dir).unwrap();
    let mut conf = json!({
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "_ahn_implementation": implementation(t),
        "_layer_implementation": "Qwen2MemDecoderLayer",
        "num_hidden_layers": layers,
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_key_value_heads": 1,
        "sliding_window": 256,
        "use_ahn_router": false,
        "save_ahn_only": true,
    });
    if dims.3 != hidden / heads {
        conf["head_dim"] = json!(dims.3);
    }
    for (k, v) in config.as_object().unwrap() {
        conf[k] = v.clone();
    }
    std::fs::write(dir.join("config.json"), conf.to_string()).unwrap();
    let mut rng = Rng(u64::from(layers) * 1000 + u64::from(hidden) + t as u64);
    let mut tensors = Vec::new();
    for i in 0..layers {
        for (official, _, shape) in official_tensors(t, dims) {
            let dtype = dtypes.pick(tensors.len());
            tensors.push(random_tensor(&mut rng, format!("model.layers.{i}.ahn.fn.{official}"), dtype, shape));
        }
    }
    edit(&mut tensors, &mut rng);
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|t| (t.name.clone(), TensorView::new(t.dtype, t.shape.clone(), &t.bytes).unwrap()))
        .collect();
    safetensors::serialize_to_file(views, None, &dir.join("model.safetensors")).unwrap();
    Ckpt { dir: dir.to_owned(), tensors }
}

fn no_edit(_: &mut Vec<SourceTensor>, _: &mut Rng) {}

// ------------------------------------------------------------------------------------------
// Reading a block back (independently of the engine's reader)

#[derive(Debug, PartialEq)]
enum Kv {
    U32(u32),
    F32(f32),
    Str(String),
}

struct BlockTensor {
    name: String,
    ne: Vec<u64>,
    ggml_type: u32,
    data: Vec<f32>,
}

struct Block {
    kv: Vec<(String, Kv)>,
    tensors: Vec<BlockTensor>,
}

/// A cursor over a file's bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        s
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().unwrap())
    }
    fn string(&mut self) -> String {
        let n = self.u64() as usize;
        String::from_utf8(self.take(n).to_vec()).unwrap()
    }
}

/// A GGUF v3 file with u32/f32/string keys and F32 tensors, default alignment (32).
fn read_block(path: &Path) -> Block {
    let bytes = std::fs::read(path).unwrap();
    let mut c = Cursor { bytes: &bytes, pos: 0 };
    assert_eq!(c.take(4), b"GGUF");
    assert_eq!(c.u32(), 3, "GGUF version");
    let n_tensors = c.u64();
    let n_kv = c.u64();
    let mut kv = Vec::new();
    for _ in 0..n_kv {
        let key = c.string();
        let value = match c.u32() {
            4 => Kv::U32(c.u32()),
            6 => Kv::F32(f32::from_le_bytes(c.take(4).try_into().unwrap())),
            8 => Kv::Str(c.string()),
            other => panic!("{key}: unexpected value type {other}"),
        };
        kv.push((key, value));
    }
    let mut infos = Vec::new();
    for _ in 0..n_tensors {
        let name = c.string();
        let n_dims = c.u32() as usize;
        let ne: Vec<u64> = (0..n_dims).map(|_| c.u64()).collect();
        let ggml_type = c.u32();
        let offset = c.u64() as usize;
        infos.push((name, ne, ggml_type, offset));
    }
    let data_start = c.pos.next_multiple_of(32);
    assert!(bytes[c.pos..data_start].iter().all(|&b| b == 0), "header padding is zeros");
    let mut tensors = Vec::new();
    let mut next = 0usize;
    for (name, ne, ggml_type, offset) in infos {
        assert_eq!(offset, next, "{name}: tensors packed in order, 32-aligned");
        let n = ne.iter().product::<u64>() as usize;
        let start = data_start + offset;
        let data =
            bytes[start..start + 4 * n].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        next = (offset + 4 * n).next_multiple_of(32);
        tensors.push(BlockTensor { name, ne, ggml_type, data });
    }
    assert_eq!(bytes.len(), data_start + next, "the file ends after the last tensor's padding");
    Block { kv, tensors }
}

/// The PyTorch array `w [H, in, out]` as the block stores it: per head transposed.
fn transposed_heads(w: &[f32], h: usize, d: usize) -> Vec<f32> {
    let mut out = vec![0.0; w.len()];
    for k in 0..h {
        for i in 0..d {
            for j in 0..d {
                out[k * d * d + j * d + i] = w[k * d * d + i * d + j];
            }
        }
    }
    out
}

/// Checks every key and every tensor of the block converted from `ckpt`.
fn check_block(out: &Path, ckpt: &Ckpt, t: AhnType, dims: Dims, window: Option<u32>, sinks: Option<u32>, eps: f32) {
    let (layers, hidden, heads, head_dim) = dims;
    let block = read_block(out);
    let mut want = vec![
        ("general.type".to_owned(), Kv::Str("ahn".into())),
        ("ahn.base_architecture".to_owned(), Kv::Str("qwen2".into())),
        ("qwen2.ahn.type".to_owned(), Kv::Str(t.as_str().into())),
        ("qwen2.ahn.block_count".to_owned(), Kv::U32(layers)),
        ("qwen2.ahn.head_count".to_owned(), Kv::U32(heads)),
        ("qwen2.ahn.head_dim".to_owned(), Kv::U32(head_dim)),
        ("qwen2.ahn.embedding_length".to_owned(), Kv::U32(hidden)),
        ("qwen2.ahn.norm_eps".to_owned(), Kv::F32(eps)),
    ];
    if let Some(w) = window {
        want.push(("qwen2.ahn.window".to_owned(), Kv::U32(w)));
    }
    if let Some(s) = sinks {
        want.push(("qwen2.ahn.sinks".to_owned(), Kv::U32(s)));
    }
    assert_eq!(block.kv, want, "block metadata");
    let mut names = Vec::new();
    for i in 0..layers {
        for (official, ours, shape) in official_tensors(t, dims) {
            names.push((format!("blk.{i}.{ours}"), format!("model.layers.{i}.ahn.fn.{official}"), shape));
        }
    }
    assert_eq!(block.tensors.len(), names.len());
    for (bt, (name, official, shape)) in block.tensors.iter().zip(&names) {
        assert_eq!(&bt.name, name, "tensor order");
        assert_eq!(bt.ggml_type, 0, "{name} is F32");
        let ne: Vec<u64> = shape.iter().rev().map(|&n| n as u64).collect();
        assert_eq!(bt.ne, ne, "{name}: ne");
        let source = ckpt.values(official);
        let want = if name.ends_with("ahn_out.weight") {
            transposed_heads(source, heads as usize, head_dim as usize)
        } else {
            source.to_vec()
        };
        let same = bt.data.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same && bt.data.len() == want.len(), "{name}: values differ from {official}");
    }
    // The engine's own reader accepts it as a block of this shape.
    let info = AhnBlockInfo::read(out).unwrap();
    assert_eq!((info.ahn_type, info.block_count, info.head_count, info.head_dim), (t, layers, heads, head_dim));
    assert_eq!((info.embedding_length, info.window, info.sinks), (hidden, window, sinks));
    assert_eq!(info.n_params, ahn_param_count(t, layers, hidden, heads, head_dim));
}

fn options(window: Option<u32>, sinks: Option<u32>) -> ConvertOptions {
    ConvertOptions { window, sinks, ..ConvertOptions::default() }
}

/// What is in `dir` whose name starts with `prefix` (the block and any partial file).
fn leftovers(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

// ------------------------------------------------------------------------------------------
// Conversions

#[test]
fn every_cell_and_dtype_converts_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let dtypes = [
        Dtypes::All(Dtype::BF16),
        Dtypes::All(Dtype::F16),
        Dtypes::All(Dtype::F32),
        Dtypes::All(Dtype::F64),
        Dtypes::Mixed,
    ];
    for t in VARIANTS {
        for (k, dt) in dtypes.into_iter().enumerate() {
            // Head size from hidden/heads, and an explicit head_dim that differs from it.
            let dims = if k % 2 == 0 { TINY } else { (3, 20, 2, 6) };
            let dir = tmp.path().join(format!("{}-{k}", t.as_str()));
            let ckpt = write_checkpoint(&dir.join("ckpt"), t, dims, dt, json!({}), no_edit);
            let out = dir.join("block.gguf");
            let (window, sinks) = if k % 3 == 0 { (Some(64), Some(4)) } else { (None, Some(0)) };
            let report = convert_ahn_checkpoint(&ckpt.dir, &out, &options(window, sinks)).unwrap();
            check_block(&out, &ckpt, t, dims, window, sinks, 1e-5);
            let (layers, hidden, heads, head_dim) = dims;
            assert_eq!((report.ahn_type, report.layers, report.hidden), (t, layers, hidden));
            assert_eq!((report.heads, report.head_dim), (heads, head_dim));
            assert_eq!(report.tensors, ckpt.tensors.len());
            let want_dtypes: Vec<&str> = match dt {
                Dtypes::All(d) => vec![match d {
                    Dtype::BF16 => "BF16",
                    Dtype::F16 => "F16",
                    Dtype::F32 => "F32",
                    _ => "F64",
                }],
                Dtypes::Mixed => vec!["BF16", "F16", "F32", "F64"],
            };
            assert_eq!(report.source_dtypes, want_dtypes);
            let formula = ahn_param_count(t, layers, hidden, heads, head_dim);
            assert_eq!((report.params, report.formula_params), (formula, formula));
            assert_eq!(report.bytes_written, std::fs::metadata(&out).unwrap().len());
            assert_eq!((report.window, report.sinks, report.norm_eps), (window, sinks, 1e-5));
            assert_eq!(leftovers(&dir, "block.gguf"), ["block.gguf"], "no partial file remains");
        }
    }
}

#[test]
fn source_may_be_the_safetensors_file_and_eps_is_an_option() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = write_checkpoint(&tmp.path().join("ckpt"), AhnType::Mamba2, TINY, Dtypes::Mixed, json!({}), no_edit);
    let renamed = ckpt.dir.join("weights-v1.safetensors");
    std::fs::rename(ckpt.weights(), &renamed).unwrap();
    let out = tmp.path().join("m2.gguf");
    let opts = ConvertOptions { window: Some(5), norm_eps: Some(1e-6), ..ConvertOptions::default() };
    let report = convert_ahn_checkpoint(&renamed, &out, &opts).unwrap();
    check_block(&out, &ckpt, AhnType::Mamba2, TINY, Some(5), None, 1e-6);
    let text = report.to_string();
    assert!(
        text.starts_with("mamba2: 2 layers, 3 heads of 8, hidden 24; 16 tensors (BF16/F16/F32/F64 -> F32)"),
        "{text}"
    );
    assert!(text.contains("; defaults W=5"), "{text}");
    // An existing block is replaced.
    let report = convert_ahn_checkpoint(&renamed, &out, &ConvertOptions::default()).unwrap();
    check_block(&out, &ckpt, AhnType::Mamba2, TINY, None, None, 1e-5);
    assert_eq!(report.bytes_written, std::fs::metadata(&out).unwrap().len());
}

#[test]
fn parameter_counts_match_ahn_md() {
    // The formula on every release and default-model shape (cheap: no tensors), and the
    // official shapes written out in this file, summed.
    for ((model, dims), (model2, counts)) in MODELS.iter().zip(PARAMS) {
        assert_eq!(*model, model2);
        let (layers, hidden, heads, head_dim) = *dims;
        for (t, want) in VARIANTS.into_iter().zip(counts) {
            assert_eq!(ahn_param_count(t, layers, hidden, heads, head_dim), want, "{model} {}", t.as_str());
            let per_layer: usize = official_tensors(t, *dims).iter().map(|(_, _, s)| s.iter().product::<usize>()).sum();
            assert_eq!(layers as u64 * per_layer as u64, want, "{model} {}: shapes", t.as_str());
        }
    }
    assert_eq!(ahn_param_count(AhnType::Gdn, u32::MAX, u32::MAX, u32::MAX, u32::MAX), u64::MAX, "saturates");
    // Real conversions at the 0.5B shapes (BF16, as the releases): the counted parameters.
    let tmp = tempfile::tempdir().unwrap();
    for (t, want) in VARIANTS.into_iter().zip(PARAMS[0].1) {
        let dir = tmp.path().join(t.as_str());
        let ckpt = write_checkpoint(&dir.join("ckpt"), t, Q05B, Dtypes::All(Dtype::BF16), json!({}), no_edit);
        let out = dir.join("block.gguf");
        let report = convert_ahn_checkpoint(&ckpt.dir, &out, &options(Some(8064), Some(128))).unwrap();
        println!("0.5B {}: {} parameters, {} bytes", t.as_str(), report.params, report.bytes_written);
        assert_eq!((report.params, report.formula_params), (want, want));
        assert_eq!(report.tensors, 24 * official_tensors(t, Q05B).len());
        check_block(&out, &ckpt, t, Q05B, Some(8064), Some(128), 1e-5);
    }
}

// ------------------------------------------------------------------------------------------
// Refusals

/// Asserts a checkpoint refusal naming `path` and containing every needle.
fn assert_refused(result: seahorse_engine::Result<ConvertReport>, path: &Path, needles: &[&str]) {
    let err = result.expect_err("the conversion must be refused");
    let text = err.to_string();
    match &err {
        EngineError::AhnCheckpoint { path: p, reason } => {
            assert_eq!(p, path, "{text}");
            for needle in needles {
                assert!(reason.contains(needle), "{needle:?} not in {text:?}");
            }
        }
        other => panic!("expected AhnCheckpoint, got {other:?}"),
    }
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(!text.contains("--"), "no command-line flags in engine errors: {text}");
}

fn drop_tensor(name: &'static str) -> impl FnOnce(&mut Vec<SourceTensor>, &mut Rng) {
    move |ts, _| ts.retain(|t| t.name != name)
}

fn add_tensor(
    name: &'static str,
    dtype: Dtype,
    shape: &'static [usize],
) -> impl FnOnce(&mut Vec<SourceTensor>, &mut Rng) {
    move |ts, rng| ts.push(random_tensor(rng, name.to_owned(), dtype, shape.to_vec()))
}

fn reshape(name: &'static str, shape: &'static [usize]) -> impl FnOnce(&mut Vec<SourceTensor>, &mut Rng) {
    move |ts, rng| {
        let t = ts.iter_mut().find(|t| t.name == name).unwrap();
        *t = random_tensor(rng, name.to_owned(), t.dtype, shape.to_vec());
    }
}

fn retype(name: &'static str, dtype: Dtype) -> impl FnOnce(&mut Vec<SourceTensor>, &mut Rng) {
    move |ts, rng| {
        let t = ts.iter_mut().find(|t| t.name == name).unwrap();
        *t = random_tensor(rng, name.to_owned(), dtype, t.shape.clone());
    }
}

type Edit = Box<dyn FnOnce(&mut Vec<SourceTensor>, &mut Rng)>;

/// A bad checkpoint: name, cell, config.json edits, tensor edits, the file the error must
/// name, and what the message must say.
type Refusal = (&'static str, AhnType, Value, Edit, At, Vec<&'static str>);

/// Where a refusal is expected to point.
#[derive(Clone, Copy)]
enum At {
    Config,
    Weights,
}

#[test]
fn bad_checkpoints_are_refused_and_nothing_is_written() {
    let cases: Vec<Refusal> = vec![
        (
            "missing tensor",
            AhnType::Gdn,
            json!({}),
            Box::new(drop_tensor("model.layers.1.ahn.fn.D")),
            At::Weights,
            vec!["1 gdn AHN tensors missing: model.layers.1.ahn.fn.D"],
        ),
        (
            "wrong shape",
            AhnType::Dn,
            json!({}),
            Box::new(reshape("model.layers.0.ahn.fn.o_proj.weight", &[3, 8, 7])),
            At::Weights,
            vec!["model.layers.0.ahn.fn.o_proj.weight has shape [3, 8, 7], expected [3, 8, 8]"],
        ),
        (
            "transposed projection",
            AhnType::Mamba2,
            json!({}),
            Box::new(reshape("model.layers.1.ahn.fn.dt_proj.weight", &[24, 3])),
            At::Weights,
            vec!["model.layers.1.ahn.fn.dt_proj.weight has shape [24, 3], expected [3, 24]"],
        ),
        (
            "router tensors",
            AhnType::Gdn,
            json!({}),
            Box::new(add_tensor("model.layers.0.ahn_router.alpha", Dtype::F32, &[3])),
            At::Weights,
            vec!["holds the AHN router", "model.layers.0.ahn_router.alpha", "not supported"],
        ),
        (
            "router in config",
            AhnType::Gdn,
            json!({"use_ahn_router": true}),
            Box::new(no_edit),
            At::Config,
            vec!["use_ahn_router is true"],
        ),
        (
            "unknown variant",
            AhnType::Dn,
            json!({"_ahn_implementation": "RWKV7"}),
            Box::new(no_edit),
            At::Config,
            vec!["unknown _ahn_implementation \"RWKV7\", expected one of DeltaNet, GatedDeltaNet, Mamba2"],
        ),
        (
            "no variant",
            AhnType::Dn,
            json!({"_ahn_implementation": null}),
            Box::new(no_edit),
            At::Config,
            vec!["unknown _ahn_implementation null"],
        ),
        (
            "other variant's tensor",
            AhnType::Gdn,
            json!({}),
            Box::new(add_tensor("model.layers.0.ahn.fn.norm.weight", Dtype::F32, &[24])),
            At::Weights,
            vec!["not gdn AHN tensors of a 2-layer model: model.layers.0.ahn.fn.norm.weight"],
        ),
        (
            "base model tensor",
            AhnType::Dn,
            json!({}),
            Box::new(add_tensor("model.layers.0.self_attn.q_proj.weight", Dtype::BF16, &[24, 24])),
            At::Weights,
            vec!["not dn AHN tensors", "model.layers.0.self_attn.q_proj.weight"],
        ),
        (
            "layer too many",
            AhnType::Mamba2,
            json!({}),
            Box::new(add_tensor("model.layers.2.ahn.fn.A_log", Dtype::F32, &[3])),
            At::Weights,
            vec!["model.layers.2.ahn.fn.A_log"],
        ),
        (
            "integer dtype",
            AhnType::Dn,
            json!({}),
            Box::new(retype("model.layers.0.ahn.fn.o_norm.weight", Dtype::I32)),
            At::Weights,
            vec!["model.layers.0.ahn.fn.o_norm.weight has dtype I32, expected one of F32, F16, BF16, F64"],
        ),
        (
            "not qwen2",
            AhnType::Gdn,
            json!({"model_type": "llama"}),
            Box::new(no_edit),
            At::Config,
            vec!["model_type \"llama\""],
        ),
        (
            "no layer count",
            AhnType::Gdn,
            json!({"num_hidden_layers": null}),
            Box::new(no_edit),
            At::Config,
            vec!["missing num_hidden_layers"],
        ),
        (
            "bad size",
            AhnType::Gdn,
            json!({"num_attention_heads": -3}),
            Box::new(no_edit),
            At::Config,
            vec!["num_attention_heads is -3, expected a positive integer"],
        ),
        (
            "absurd layer count",
            AhnType::Dn,
            json!({"num_hidden_layers": 4_000_000_000u32}),
            Box::new(no_edit),
            At::Config,
            vec!["num_hidden_layers is 4000000000, more than any model has"],
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (k, (case, t, config, edit, at, needles)) in cases.into_iter().enumerate() {
        let dir = tmp.path().join(format!("case{k}"));
        let ckpt = write_checkpoint(&dir.join("ckpt"), t, TINY, Dtypes::All(Dtype::BF16), config, edit);
        let out = dir.join("block.gguf");
        let path = match at {
            At::Config => ckpt.config(),
            At::Weights => ckpt.weights(),
        };
        println!("{case}: {}", convert_ahn_checkpoint(&ckpt.dir, &out, &ConvertOptions::default()).unwrap_err());
        assert_refused(convert_ahn_checkpoint(&ckpt.dir, &out, &options(Some(4), Some(1))), &path, &needles);
        assert!(leftovers(&dir, "block.gguf").is_empty(), "{case}: a file was written");
    }
}

#[test]
fn truncated_or_corrupt_safetensors_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt =
        write_checkpoint(&tmp.path().join("ckpt"), AhnType::Gdn, TINY, Dtypes::All(Dtype::BF16), json!({}), no_edit);
    let good = std::fs::read(ckpt.weights()).unwrap();
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut garbage_header = good.clone();
    garbage_header[8 + header_len / 2] = b'\x01';
    let mut huge = good.clone();
    huge[..8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    let mut longer = good.clone();
    longer.extend([0u8; 8]);
    let cases: [(&str, Vec<u8>); 6] = [
        ("truncated data", good[..good.len() - 10].to_vec()),
        ("truncated header", good[..8 + header_len / 2].to_vec()),
        ("empty", Vec::new()),
        ("garbage in header", garbage_header),
        ("huge header length", huge),
        ("trailing bytes", longer),
    ];
    // A block already at the destination stays as it was.
    let out = tmp.path().join("block.gguf");
    std::fs::write(&out, b"previous block").unwrap();
    for (case, bytes) in cases {
        std::fs::write(ckpt.weights(), &bytes).unwrap();
        let result = convert_ahn_checkpoint(&ckpt.dir, &out, &ConvertOptions::default());
        println!("{case}: {}", result.as_ref().unwrap_err());
        assert_refused(result, &ckpt.weights(), &["truncated or corrupt safetensors file"]);
        assert_eq!(std::fs::read(&out).unwrap(), b"previous block", "{case}");
        assert_eq!(leftovers(tmp.path(), "block.gguf"), ["block.gguf"], "{case}");
    }
    std::fs::write(ckpt.weights(), &good).unwrap();
    convert_ahn_checkpoint(&ckpt.dir, &out, &ConvertOptions::default()).unwrap();
    check_block(&out, &ckpt, AhnType::Gdn, TINY, None, None, 1e-5);
}

#[test]
fn missing_files_and_bad_options_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("block.gguf");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let none = ConvertOptions::default();
    assert_refused(convert_ahn_checkpoint(&empty, &out, &none), &empty.join("config.json"), &["not found"]);
    let nowhere = tmp.path().join("nowhere");
    assert_refused(convert_ahn_checkpoint(&nowhere, &out, &none), &nowhere, &["not found"]);
    let ckpt =
        write_checkpoint(&tmp.path().join("ckpt"), AhnType::Dn, TINY, Dtypes::All(Dtype::F32), json!({}), no_edit);
    let weights = ckpt.weights();
    std::fs::rename(&weights, ckpt.dir.join("other.bin")).unwrap();
    assert_refused(
        convert_ahn_checkpoint(&ckpt.dir, &out, &none),
        &weights,
        &["not found (the official AHN releases ship one model.safetensors)"],
    );
    std::fs::rename(ckpt.dir.join("other.bin"), &weights).unwrap();
    std::fs::write(ckpt.config(), "{not json").unwrap();
    assert_refused(convert_ahn_checkpoint(&ckpt.dir, &out, &none), &ckpt.config(), &["not valid JSON"]);
    assert_refused(convert_ahn_checkpoint(&weights, &out, &none), &ckpt.config(), &["not valid JSON"]);
    let zero_window = ConvertOptions { window: Some(0), ..ConvertOptions::default() };
    assert_refused(convert_ahn_checkpoint(&ckpt.dir, &out, &zero_window), &ckpt.dir, &["window W must be at least 1"]);
    let nan_eps = ConvertOptions { norm_eps: Some(f32::NAN), ..ConvertOptions::default() };
    assert_refused(convert_ahn_checkpoint(&ckpt.dir, &out, &nan_eps), &ckpt.dir, &["norm eps"]);
    assert!(leftovers(tmp.path(), "block.gguf").is_empty());
}

/// A base model GGUF with just the metadata the fit check reads (and one tensor).
fn base_model(path: &Path, arch: &str, (layers, hidden, heads, head_dim): Dims) -> PathBuf {
    let kv = vec![
        ("general.architecture".to_owned(), KvValue::Str(arch.into())),
        (format!("{arch}.block_count"), KvValue::U32(layers)),
        (format!("{arch}.embedding_length"), KvValue::U32(hidden)),
        (format!("{arch}.attention.head_count"), KvValue::U32(heads)),
        (format!("{arch}.attention.key_length"), KvValue::U32(head_dim)),
    ];
    let tensors = [("token_embd.weight".to_owned(), [hidden as i64, 16, 1, 1])];
    write_gguf(path, None, &kv, &tensors, |_, ne| vec![0.0; ne.iter().product::<i64>() as usize]).unwrap();
    path.to_owned()
}

#[test]
fn base_model_must_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt =
        write_checkpoint(&tmp.path().join("ckpt"), AhnType::Gdn, TINY, Dtypes::All(Dtype::BF16), json!({}), no_edit);
    let out = tmp.path().join("block.gguf");
    let with_base = |base: &Path| ConvertOptions { base: Some(base.to_owned()), ..ConvertOptions::default() };

    let fits = base_model(&tmp.path().join("fits.gguf"), "qwen2", TINY);
    let report = convert_ahn_checkpoint(&ckpt.dir, &out, &with_base(&fits)).unwrap();
    assert_eq!(report.params, ahn_param_count(AhnType::Gdn, 2, 24, 3, 8));
    check_block(&out, &ckpt, AhnType::Gdn, TINY, None, None, 1e-5);
    // The block merges with that base (the engine's own fit check).
    seahorse_engine::merge(&fits, &out, &tmp.path().join("merged.gguf")).unwrap();
    std::fs::remove_file(&out).unwrap();

    let mismatches = [
        ((3, 24, 3, 8), "layers: checkpoint 2, model 3"),
        ((2, 32, 3, 8), "hidden size: checkpoint 24, model 32"),
        ((2, 24, 4, 8), "heads: checkpoint 3, model 4"),
        ((2, 24, 3, 6), "head size: checkpoint 8, model 6"),
    ];
    for (k, (dims, needle)) in mismatches.into_iter().enumerate() {
        let base = base_model(&tmp.path().join(format!("no{k}.gguf")), "qwen2", dims);
        let fit = format!("does not fit the base model {}", base.display());
        assert_refused(convert_ahn_checkpoint(&ckpt.dir, &out, &with_base(&base)), &ckpt.dir, &[&fit, needle]);
    }
    let llama = base_model(&tmp.path().join("llama.gguf"), "llama", TINY);
    assert_refused(convert_ahn_checkpoint(&ckpt.dir, &out, &with_base(&llama)), &llama, &["\"llama\" model"]);
    convert_ahn_checkpoint(&ckpt.dir, &tmp.path().join("a-block.gguf"), &ConvertOptions::default()).unwrap();
    let block = tmp.path().join("a-block.gguf");
    assert_refused(
        convert_ahn_checkpoint(&ckpt.dir, &out, &with_base(&block)),
        &block,
        &["AHN block, not a base model"],
    );
    let missing = tmp.path().join("missing.gguf");
    let err = convert_ahn_checkpoint(&ckpt.dir, &out, &with_base(&missing)).unwrap_err();
    assert!(err.to_string().contains("missing.gguf"), "{err}");
    assert!(leftovers(tmp.path(), "block.gguf").is_empty());
}

// ------------------------------------------------------------------------------------------
// Same bytes as the Python converter

#[test]
fn python_converter_writes_identical_blocks() {
    let (python, tools) = common::tools_python();
    let tmp = tempfile::tempdir().unwrap();
    // Cell, shape, dtypes, window, sinks, norm eps.
    type Case = (AhnType, Dims, Dtypes, Option<u32>, Option<u32>, Option<f32>);
    let cases: [Case; 5] = [
        (AhnType::Gdn, TINY, Dtypes::All(Dtype::BF16), Some(8064), Some(128), None),
        (AhnType::Dn, (3, 20, 2, 6), Dtypes::All(Dtype::F16), None, None, None),
        (AhnType::Mamba2, TINY, Dtypes::Mixed, Some(7), None, Some(1e-6)),
        (AhnType::Gdn, (2, 40, 5, 8), Dtypes::All(Dtype::F64), None, Some(0), None),
        (AhnType::Mamba2, Q05B, Dtypes::All(Dtype::BF16), Some(32640), Some(128), None),
    ];
    for (k, (t, dims, dtypes, window, sinks, eps)) in cases.into_iter().enumerate() {
        let dir = tmp.path().join(format!("case{k}"));
        let ckpt = write_checkpoint(&dir.join("ckpt"), t, dims, dtypes, json!({}), no_edit);
        let (rust_out, py_out) = (dir.join("rust.gguf"), dir.join("python.gguf"));
        let opts = ConvertOptions { window, sinks, base: None, norm_eps: eps };
        convert_ahn_checkpoint(&ckpt.dir, &rust_out, &opts).unwrap();

        let mut cmd = Command::new(&python);
        cmd.arg(tools.join("ahn_convert.py")).arg(&ckpt.dir).arg("--out").arg(&py_out);
        for (flag, value) in [("--window", window), ("--sinks", sinks)] {
            if let Some(v) = value {
                cmd.arg(flag).arg(v.to_string());
            }
        }
        if let Some(eps) = eps {
            cmd.arg("--norm-eps").arg(eps.to_string());
        }
        let run = cmd.output().expect("run the Python converter");
        assert!(
            run.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );

        let (rust, py) = (std::fs::read(&rust_out).unwrap(), std::fs::read(&py_out).unwrap());
        let first_diff = rust.iter().zip(&py).position(|(a, b)| a != b);
        assert!(
            rust == py,
            "case {k} ({} {dims:?}): Rust {} bytes, Python {} bytes, first difference at {first_diff:?}",
            t.as_str(),
            rust.len(),
            py.len()
        );
        println!("case {k}: {} {dims:?}: {} identical bytes", t.as_str(), rust.len());
    }
}
