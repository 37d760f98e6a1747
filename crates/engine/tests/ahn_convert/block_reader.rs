//! Reading a block back, independently of the engine's reader.

use super::*;

#[derive(Debug, PartialEq)]
pub(crate) enum Kv {
    U32(u32),
    F32(f32),
    Str(String),
}

pub(crate) struct BlockTensor {
    pub(crate) name: String,
    pub(crate) ne: Vec<u64>,
    pub(crate) ggml_type: u32,
    pub(crate) data: Vec<f32>,
}

pub(crate) struct Block {
    pub(crate) kv: Vec<(String, Kv)>,
    pub(crate) tensors: Vec<BlockTensor>,
}

/// A cursor over a file's bytes.
pub(crate) struct Cursor<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn take(&mut self, n: usize) -> &'a [u8] {
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        s
    }
    pub(crate) fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    pub(crate) fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().unwrap())
    }
    pub(crate) fn string(&mut self) -> String {
        let n = self.u64() as usize;
        String::from_utf8(self.take(n).to_vec()).unwrap()
    }
}

/// A GGUF v3 file with u32/f32/string keys and F32 tensors, default alignment (32).
pub(crate) fn read_block(path: &Path) -> Block {
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
pub(crate) fn transposed_heads(w: &[f32], h: usize, d: usize) -> Vec<f32> {
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
pub(crate) fn check_block(
    out: &Path,
    ckpt: &Ckpt,
    t: AhnType,
    dims: Dims,
    window: Option<u32>,
    sinks: Option<u32>,
    eps: f32,
) {
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

pub(crate) fn options(window: Option<u32>, sinks: Option<u32>) -> ConvertOptions {
    ConvertOptions { window, sinks, ..ConvertOptions::default() }
}

/// What is in `dir` whose name starts with `prefix` (the block and any partial file).
pub(crate) fn leftovers(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}
