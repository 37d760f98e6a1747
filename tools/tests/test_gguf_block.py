"""The GGUF reader and the AHN block format of docs/ahn-gguf.md.

- ``gguf_io.GgufFile`` (our fast reader) agrees with gguf-py's ``GGUFReader`` on every kind of
  metadata value and tensor type.
- A block written by ``gguf_io.write_block`` has exactly the keys, tensor names, ggml shapes
  (``ne``) and types of the docs table, checked with gguf-py and a table written out here, and
  ``ahn_out`` is stored per head transposed.
- Broken, foreign or mismatched blocks are refused with a message naming the problem.
"""

import gguf
import numpy as np
import pytest

from ahn_ref import cells, gguf_io
from ahn_ref.config import AhnConfig, LayerConfig, ModelConfig
from ahn_ref.init import random_model

H, HD, D, L = 3, 8, 20, 2  # heads, head dim, hidden size, layers of the test blocks

DOCS_NE = {
    # docs/ahn-gguf.md "Tensors": ggml ne (fastest dimension first) per variant.
    "gdn": {
        "ahn_beta.weight": [D, H],
        "ahn_alpha.weight": [D, H],
        "ahn_a_log": [H],
        "ahn_dt_bias": [H],
        "ahn_d": [H],
        "ahn_gate.weight": [D, H],
        "ahn_norm.weight": [HD],
        "ahn_out.weight": [HD, HD, H],
    },
    "dn": {
        "ahn_beta.weight": [D, H],
        "ahn_gate.weight": [D, H],
        "ahn_norm.weight": [HD],
        "ahn_out.weight": [HD, HD, H],
    },
    "mamba2": {
        "ahn_dt.weight": [D, H],
        "ahn_dt.bias": [H],
        "ahn_dt_bias": [H],
        "ahn_a_log": [H],
        "ahn_gate.weight": [D, H],
        "ahn_gate.bias": [H],
        "ahn_norm.weight": [H * HD],
        "ahn_out.weight": [HD, HD, H],
    },
}

DOCS_PER_LAYER = {  # docs/ahn-gguf.md parameter count per layer
    "gdn": 3 * D * H + 3 * H + HD + H * HD * HD,
    "dn": 2 * D * H + HD + H * HD * HD,
    "mamba2": 2 * (D * H + H) + 2 * H + H * HD + H * HD * HD,
}


def ahn_cfg(variant):
    return AhnConfig(variant, H, HD, D, norm_eps=float(np.float32(1e-5)))


def random_block(variant, seed=0):
    rng = np.random.default_rng(seed)
    cfg = ahn_cfg(variant)
    layers = [
        {n: rng.standard_normal(s).astype(np.float32) for n, s in cells.tensor_shapes(cfg).items()}
        for _ in range(L)
    ]
    return cfg, layers


def write_random_block(path, variant, window=None, sinks=None, seed=0):
    cfg, layers = random_block(variant, seed)
    gguf_io.write_block(path, cfg, layers, window=window, sinks=sinks)
    return cfg, layers


def rewrite(src, dst, drop=(), add=None, retype=None, reshape=None, keys=None, drop_keys=()):
    """Copy GGUF ``src`` to ``dst`` with changes: tensors dropped, added, retyped or reshaped,
    keys set or dropped. Builds the corrupted files of the error tests."""
    f = gguf_io.GgufFile(src)
    w = gguf.GGUFWriter(dst, "qwen2")
    if gguf.Keys.General.ARCHITECTURE not in f.fields:
        w.kv_data[0].pop(gguf.Keys.General.ARCHITECTURE)
    for key, fld in f.fields.items():
        if key in drop_keys or key == gguf.Keys.General.ARCHITECTURE:
            continue
        value = fld.value.tolist() if isinstance(fld.value, np.ndarray) else fld.value
        w.add_key_value(key, value, fld.vtype, sub_type=fld.sub_type)
    for key, (value, vtype) in (keys or {}).items():
        w.add_key_value(key, value, vtype)
    for name, t in f.tensors.items():
        if name in drop:
            continue
        arr = t.to_numpy()
        if reshape and name in reshape:
            arr = np.resize(arr, reshape[name])
        if retype and name in retype:
            arr = arr.astype(retype[name])
        w.add_tensor(name, np.ascontiguousarray(arr))
    for name, arr in (add or {}).items():
        w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_reader_agrees_with_gguf_py(tmp_path):
    """Every value type, array type, tensor type and a non-default alignment read the same."""
    path = tmp_path / "kinds.gguf"
    w = gguf.GGUFWriter(path, "qwen2")
    w.add_custom_alignment(64)
    w.add_string("a.string", "héllo")
    w.add_uint32("a.u32", 7)
    w.add_int64("a.i64", -5)
    w.add_float32("a.f32", 0.25)
    w.add_float64("a.f64", 1e-300)
    w.add_bool("a.bool", True)
    w.add_array("a.strings", ["x", "", "ĠParis", "<|im_end|>"])
    w.add_key_value("a.i32s", [1, -2, 3], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.INT32)
    w.add_key_value("a.f32s", [0.5, 1.5], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.FLOAT32)
    w.add_key_value("a.bools", [True, False], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.BOOL)
    rng = np.random.default_rng(0)
    w.add_tensor("f32", rng.standard_normal((3, 5, 7)).astype(np.float32))
    w.add_tensor("f16", rng.standard_normal((4, 6)).astype(np.float16))
    q = gguf.quants.quantize(rng.standard_normal((2, 64)).astype(np.float32), gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("q8", q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    ours = gguf_io.GgufFile(path)
    theirs = gguf.GGUFReader(path)
    keys = [k for k in theirs.fields if not k.startswith("GGUF.")]
    assert list(ours.fields) == keys
    for key in keys:
        want = theirs.fields[key].contents()
        got = ours.get(key)
        got = got.tolist() if isinstance(got, np.ndarray) else got
        assert got == want, key
        assert ours.fields[key].vtype == theirs.fields[key].types[0], key
    assert list(ours.tensors) == [t.name for t in theirs.tensors]
    for t in theirs.tensors:
        mine = ours.tensors[t.name]
        assert mine.ttype == t.tensor_type
        want = gguf.quants.dequantize(t.data, t.tensor_type).reshape(tuple(reversed(t.shape.tolist())))
        np.testing.assert_array_equal(mine.to_numpy(), want)
        assert mine.shape == tuple(int(n) for n in reversed(t.shape))


@pytest.mark.parametrize("variant", ["gdn", "dn", "mamba2"])
def test_block_layout_is_the_documented_one(tmp_path, variant):
    """Keys, names, ne, types and the ahn_out transpose as docs/ahn-gguf.md says (read by gguf-py)."""
    path = tmp_path / "block.gguf"
    cfg, layers = write_random_block(path, variant, window=4096, sinks=64)
    r = gguf.GGUFReader(path)
    fields = {k: f.contents() for k, f in r.fields.items() if not k.startswith("GGUF.")}
    assert fields == {
        "general.type": "ahn",
        "ahn.base_architecture": "qwen2",
        "qwen2.ahn.type": variant,
        "qwen2.ahn.block_count": L,
        "qwen2.ahn.head_count": H,
        "qwen2.ahn.head_dim": HD,
        "qwen2.ahn.embedding_length": D,
        "qwen2.ahn.norm_eps": pytest.approx(1e-5, rel=1e-7),
        "qwen2.ahn.window": 4096,
        "qwen2.ahn.sinks": 64,
    }
    assert r.fields["qwen2.ahn.norm_eps"].types == [gguf.GGUFValueType.FLOAT32]
    for k in ("block_count", "head_count", "head_dim", "embedding_length", "window", "sinks"):
        assert r.fields[f"qwen2.ahn.{k}"].types == [gguf.GGUFValueType.UINT32], k
    want = {f"blk.{i}.{n}": ne for i in range(L) for n, ne in DOCS_NE[variant].items()}
    got = {t.name: [int(n) for n in t.shape] for t in r.tensors}
    assert got == want
    assert all(t.tensor_type == gguf.GGMLQuantizationType.F32 for t in r.tensors)
    assert sum(int(t.n_elements) for t in r.tensors) == L * DOCS_PER_LAYER[variant]
    assert cells.param_count(variant, L, D, H, HD) == L * DOCS_PER_LAYER[variant]
    for t in r.tensors:
        i, name = int(t.name.split(".")[1]), t.name.split(".", 2)[2]
        disk = np.asarray(t.data).reshape(tuple(reversed(t.shape.tolist())))
        # ahn_out: ggml ne = [in, out, H], i.e. numpy [H, out, in] = W.transpose(0, 2, 1)
        want = layers[i][name].transpose(0, 2, 1) if name == "ahn_out.weight" else layers[i][name]
        np.testing.assert_array_equal(disk, want)


@pytest.mark.parametrize("variant", ["gdn", "dn", "mamba2"])
def test_block_round_trip_is_exact(tmp_path, variant):
    """``read_block`` gives back every weight bit for bit, in the reference layout."""
    path = tmp_path / "block.gguf"
    cfg, layers = write_random_block(path, variant)
    blk = gguf_io.read_block(path)
    assert (blk.cfg, blk.n_layer, blk.window, blk.sinks, blk.architecture) == (cfg, L, None, None, "qwen2")
    assert blk.n_params == cells.param_count(variant, L, D, H, HD)
    for ours, theirs in zip(layers, blk.layers, strict=True):
        assert set(ours) == set(theirs) == set(cells.AHN_TENSORS[variant])
        for k in ours:
            assert theirs[k].dtype == np.float32
            np.testing.assert_array_equal(theirs[k], ours[k])


def test_f16_block_is_accepted(tmp_path):
    """docs: "All F32 (F16 accepted)"; F16 tensors read back as their float16 values."""
    good, half = tmp_path / "good.gguf", tmp_path / "half.gguf"
    cfg, layers = write_random_block(good, "gdn")
    rewrite(good, half, retype={"blk.1.ahn_beta.weight": np.float16, "blk.0.ahn_out.weight": np.float16})
    blk = gguf_io.read_block(half)
    np.testing.assert_array_equal(
        blk.layers[1]["ahn_beta.weight"], layers[1]["ahn_beta.weight"].astype(np.float16)
    )
    np.testing.assert_array_equal(
        blk.layers[0]["ahn_out.weight"], layers[0]["ahn_out.weight"].astype(np.float16)
    )


STR, U32 = gguf.GGUFValueType.STRING, gguf.GGUFValueType.UINT32
CORRUPTIONS = {
    "missing tensor": ({"drop": ["blk.1.ahn_d"]}, "AHN tensors missing, e.g. blk.1.ahn_d"),
    "unexpected tensor": (
        {"add": {"blk.0.ahn_extra.weight": np.zeros(3, np.float32)}},
        "unexpected tensor blk.0.ahn_extra.weight",
    ),
    "tensor of a layer too many": (
        {"add": {"blk.2.ahn_d": np.zeros(H, np.float32)}},
        "unexpected tensor blk.2",
    ),
    "wrong shape": (
        {"reshape": {"blk.0.ahn_gate.weight": (H, D + 1)}},
        "blk.0.ahn_gate.weight has ne [21, 3]",
    ),
    "F64 tensor": ({"retype": {"blk.0.ahn_a_log": np.float64}}, "must be F32 or F16"),
    "unknown type": ({"keys": {"qwen2.ahn.type": ("rwkv", STR)}}, "unknown AHN type 'rwkv'"),
    "missing key": ({"drop_keys": ["qwen2.ahn.head_dim"]}, "'qwen2.ahn.head_dim' is missing"),
    "not a block": ({"drop_keys": ["general.type"]}, "this is not an AHN block"),
    "foreign architecture": ({"keys": {"ahn.base_architecture": ("llama", STR)}}, "block for 'llama' models"),
    "layer count": ({"keys": {"qwen2.ahn.block_count": (3, U32)}}, "AHN tensors missing, e.g. blk.2."),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_broken_blocks_are_refused(tmp_path, case):
    changes, message = CORRUPTIONS[case]
    good, bad = tmp_path / "good.gguf", tmp_path / "bad.gguf"
    write_random_block(good, "gdn")
    rewrite(good, bad, **changes)
    with pytest.raises(gguf_io.GgufError, match=message.replace("[", r"\[").replace("]", r"\]")):
        gguf_io.read_block(bad)


def test_truncated_and_foreign_files_are_refused(tmp_path):
    good = tmp_path / "good.gguf"
    write_random_block(good, "mamba2")
    data = good.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[: len(data) - 100])
    with pytest.raises(gguf_io.GgufError, match="runs past the end of the file"):
        gguf_io.read_block(cut)
    header_only = tmp_path / "header.gguf"
    header_only.write_bytes(data[:200])
    with pytest.raises(gguf_io.GgufError):
        gguf_io.read_block(header_only)
    text = tmp_path / "text.gguf"
    text.write_text("not a gguf at all")
    with pytest.raises(gguf_io.GgufError, match="bad magic"):
        gguf_io.read_block(text)
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(gguf_io.GgufError):
        gguf_io.read_block(empty)


def small_model(variant, n_layer=L, n_head=H, head_dim=HD):
    ahn = AhnConfig(variant, n_head, head_dim, D, norm_eps=float(np.float32(1e-5)))
    lc = LayerConfig(D, n_head, 1, head_dim, 24, 1, 3, float(np.float32(1e-6)), 1e6, ahn)
    return ModelConfig(n_vocab=30, n_layer=n_layer, layer=lc, tied_embeddings=True)


def test_mismatched_blocks_are_refused(tmp_path):
    """The engine's fit checks: layers, heads and head size; and never two AHN sources."""
    cfg = small_model("gdn")
    glob, layers = random_model(np.random.default_rng(1), cfg)
    base, block, merged = tmp_path / "base.gguf", tmp_path / "block.gguf", tmp_path / "merged.gguf"
    gguf_io.write(base, cfg, glob, layers, block=block)
    gguf_io.write(merged, cfg, glob, layers)
    gguf_io.load(base, 1, 3, block=block)  # fits

    for other_cfg, what in (
        (small_model("gdn", n_layer=L + 1), "layers: the block has 3, the model 2"),
        (small_model("gdn", n_head=4, head_dim=5), "heads: the block has 4, the model 3"),
        (small_model("gdn", n_head=H, head_dim=HD + 2), "head size: the block has 10, the model 8"),
    ):
        other = tmp_path / "other.gguf"
        _, other_layers = random_model(np.random.default_rng(2), other_cfg)
        gguf_io.write_block(other, other_cfg.layer.ahn, other_layers)
        with pytest.raises(gguf_io.GgufError, match=f"does not fit .*{what}"):
            gguf_io.load(base, 1, 3, block=other)
    with pytest.raises(gguf_io.GgufError, match="already contains an AHN block"):
        gguf_io.load(merged, 1, 3, block=block)
    with pytest.raises(gguf_io.GgufError, match="this is an AHN block, not a model"):
        gguf_io.load(block, 1, 3)
    with pytest.raises(gguf_io.GgufError, match="not an AHN block"):
        gguf_io.load(base, 1, 3, block=base)


def test_window_and_sinks_default_to_the_block(tmp_path):
    """Without S/W the block's defaults apply; explicit values win; no default and none given fails."""
    cfg = small_model("dn")
    glob, layers = random_model(np.random.default_rng(3), cfg)
    base, block, bare = tmp_path / "base.gguf", tmp_path / "block.gguf", tmp_path / "bare.gguf"
    gguf_io.write(base, cfg, glob, layers, block=block, window=6, sinks=2)
    gguf_io.write_block(bare, cfg.layer.ahn, layers)
    m = gguf_io.load(base, block=block)
    assert (m.cfg.layer.n_sink, m.cfg.layer.n_window) == (2, 6)
    m = gguf_io.load(base, 0, 9, block=block)
    assert (m.cfg.layer.n_sink, m.cfg.layer.n_window) == (0, 9)
    with pytest.raises(ValueError, match="window W is not given"):
        gguf_io.load(base, 1, None, block=bare)
    with pytest.raises(ValueError, match="sink count S is not given"):
        gguf_io.load(base, block=bare, n_window=3)


def test_write_block_checks_its_input(tmp_path):
    cfg, layers = random_block("mamba2")
    del layers[1]["ahn_gate.bias"]
    with pytest.raises(ValueError, match=r"layer 1: AHN weights missing: \['ahn_gate.bias'\]"):
        gguf_io.write_block(tmp_path / "b.gguf", cfg, layers)
    cfg, layers = random_block("dn")
    layers[0]["ahn_norm.weight"] = np.ones(HD + 1, np.float32)
    with pytest.raises(ValueError, match=r"blk.0.ahn_norm.weight: shape \(9,\), expected \(8,\)"):
        gguf_io.write_block(tmp_path / "b.gguf", cfg, layers)
    assert not (tmp_path / "b.gguf").exists()


def test_tokenizer_keys_are_copied(tmp_path):
    """``write(tokenizer_from=...)`` copies every ``tokenizer.*`` key with its type."""
    src = tmp_path / "tok.gguf"
    w = gguf.GGUFWriter(src, "qwen2")
    w.add_tokenizer_model("gpt2")
    w.add_token_list([f"t{i}" for i in range(30)])
    w.add_token_types([1] * 30)
    w.add_token_merges(["t 1", "t 2"])
    w.add_eos_token_id(3)
    w.add_add_bos_token(False)
    w.add_string("general.name", "not copied")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    cfg = small_model("gdn")
    glob, layers = random_model(np.random.default_rng(4), cfg)
    out = tmp_path / "m.gguf"
    gguf_io.write(out, cfg, glob, layers, block=tmp_path / "b.gguf", tokenizer_from=src)
    a, b = gguf.GGUFReader(src), gguf.GGUFReader(out)
    tok = [k for k in a.fields if k.startswith("tokenizer.")]
    assert tok == [k for k in b.fields if k.startswith("tokenizer.")]
    for k in tok:
        assert b.fields[k].contents() == a.fields[k].contents()
        assert b.fields[k].types == a.fields[k].types
    assert "general.name" not in b.fields
    assert gguf_io.vocabulary(out) == [f"t{i}" for i in range(30)]
