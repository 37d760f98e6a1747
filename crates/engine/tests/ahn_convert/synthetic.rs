//! Synthetic checkpoints in the official layout.

use super::*;

/// Layers, hidden size, heads, head size.
pub(crate) type Dims = (u32, u32, u32, u32);

pub(crate) const TINY: Dims = (2, 24, 3, 8);
pub(crate) const Q05B: Dims = (24, 896, 14, 64);
pub(crate) const MODELS: [(&str, Dims); 5] = [
    ("0.5B", Q05B),
    ("1.5B", (28, 1536, 12, 128)),
    ("3B", (36, 2048, 16, 128)),
    ("7B", (28, 3584, 28, 128)),
    ("14B", (48, 5120, 40, 128)),
];
/// tools/README.md (ahn.md §6): GDN, DN, Mamba2 per model.
pub(crate) const PARAMS: [(&str, [u64; 3]); 5] = [
    ("0.5B", [2_281_968, 1_979_904, 2_001_216]),
    ("1.5B", [7_057_904, 6_540_800, 6_581_568]),
    ("3B", [12_982_464, 11_801_088, 11_872_512]),
    ("7B", [21_280_560, 18_468_352, 18_568_256]),
    ("14B", [60_960_384, 51_124_224, 51_371_520]),
];
pub(crate) const VARIANTS: [AhnType; 3] = [AhnType::Gdn, AhnType::Dn, AhnType::Mamba2];

pub(crate) fn implementation(t: AhnType) -> &'static str {
    match t {
        AhnType::Gdn => "GatedDeltaNet",
        AhnType::Dn => "DeltaNet",
        AhnType::Mamba2 => "Mamba2",
    }
}

/// Per cell, in block order (docs/ahn-gguf.md, `cells.AHN_TENSORS`): official `ahn.fn.` name,
/// block name and PyTorch shape (ahn.md §4).
pub(crate) fn official_tensors(t: AhnType, (_, e, h, d): Dims) -> Vec<(&'static str, &'static str, Vec<usize>)> {
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
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// The value of IEEE half `bits`, from the definition (not by bit manipulation).
pub(crate) fn half_value(bits: u16) -> f32 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let (exp, mant) = (((bits >> 10) & 0x1f) as i32, (bits & 0x3ff) as f64);
    let v = if exp == 0 { mant * 2f64.powi(-24) } else { (1.0 + mant / 1024.0) * 2f64.powi(exp - 15) };
    (sign * v) as f32
}

/// One checkpoint tensor: name, dtype, shape, little-endian bytes, and its exact F32 values.
pub(crate) struct SourceTensor {
    pub(crate) name: String,
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) bytes: Vec<u8>,
    pub(crate) values: Vec<f32>,
}

/// Random values of `dtype` (finite; half values over the whole finite range).
pub(crate) fn random_tensor(rng: &mut Rng, name: String, dtype: Dtype, shape: Vec<usize>) -> SourceTensor {
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
pub(crate) enum Dtypes {
    All(Dtype),
    Mixed,
}

impl Dtypes {
    pub(crate) fn pick(self, index: usize) -> Dtype {
        match self {
            Dtypes::All(d) => d,
            Dtypes::Mixed => [Dtype::BF16, Dtype::F16, Dtype::F32, Dtype::F64][index % 4],
        }
    }
}

/// A synthetic official checkpoint.
pub(crate) struct Ckpt {
    pub(crate) dir: PathBuf,
    pub(crate) tensors: Vec<SourceTensor>,
}

impl Ckpt {
    pub(crate) fn weights(&self) -> PathBuf {
        self.dir.join("model.safetensors")
    }
    pub(crate) fn config(&self) -> PathBuf {
        self.dir.join("config.json")
    }
    pub(crate) fn values(&self, name: &str) -> &[f32] {
        &self.tensors.iter().find(|t| t.name == name).unwrap().values
    }
}

/// Writes a checkpoint in the official layout; `config` edits `config.json` (a `null` value
/// removes nothing: it sets the key to null, as the Python tests do), `edit` the tensor list.
pub(crate) fn write_checkpoint(
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

pub(crate) fn no_edit(_: &mut Vec<SourceTensor>, _: &mut Rng) {}
