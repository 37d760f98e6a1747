"""The official-checkpoint converter (``ahn_ref.convert``) on synthetic checkpoints.

A synthetic checkpoint is a directory with a ``config.json`` and a ``model.safetensors`` holding
random weights under the official names and shapes of ahn.md §4, in bf16 (written through
``ml_dtypes.bfloat16``; the releases are probably bf16) or f32. For the 3B/7B/14B shapes of the
releases and for our 0.5B/1.5B models, every variant is converted with the command line, the
printed parameter count must equal ahn.md §6, and the block read back by the reference loader
must hold every weight exactly (bf16 -> f32 is exact). The big checkpoints are written, converted
and compared one tensor at a time where the libraries allow it (``save_file`` needs them all).
"""

import json
import re

import ml_dtypes
import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from ahn_ref import cells, convert, gguf_io
from ahn_ref.config import AhnConfig, LayerConfig, ModelConfig
from ahn_ref.init import random_model
from ahn_ref.names import AHN_OFFICIAL_BY_VARIANT

MODELS = {  # layers, hidden size, heads, head dim
    "3B": (36, 2048, 16, 128),
    "7B": (28, 3584, 28, 128),
    "14B": (48, 5120, 40, 128),
    "0.5B": (24, 896, 14, 64),
    "1.5B": (28, 1536, 12, 128),
}
PARAMS = {
    # ahn.md §6 table
    ("3B", "gdn"): 12_982_464,
    ("3B", "dn"): 11_801_088,
    ("3B", "mamba2"): 11_872_512,
    ("7B", "gdn"): 21_280_560,
    ("7B", "dn"): 18_468_352,
    ("7B", "mamba2"): 18_568_256,
    ("14B", "gdn"): 60_960_384,
    ("14B", "dn"): 51_124_224,
    ("14B", "mamba2"): 51_371_520,
    # ahn.md §6 formulas by hand: 0.5B (L=24, D=896, H=14, d=64), 1.5B (L=28, D=1536, H=12, d=128)
    ("0.5B", "gdn"): 24 * (3 * 896 * 14 + 3 * 14 + 64 + 14 * 64 * 64),  # 2,281,968
    ("0.5B", "dn"): 24 * (2 * 896 * 14 + 64 + 14 * 64 * 64),  # 1,979,904
    ("0.5B", "mamba2"): 24 * (2 * (896 * 14 + 14) + 2 * 14 + 14 * 64 + 14 * 64 * 64),  # 2,001,216
    ("1.5B", "gdn"): 28 * (3 * 1536 * 12 + 3 * 12 + 128 + 12 * 128 * 128),  # 7,057,904
    ("1.5B", "dn"): 28 * (2 * 1536 * 12 + 128 + 12 * 128 * 128),  # 6,540,800
    ("1.5B", "mamba2"): 28 * (2 * (1536 * 12 + 12) + 2 * 12 + 12 * 128 + 12 * 128 * 128),  # 6,581,568
}
IMPL = {"gdn": "GatedDeltaNet", "dn": "DeltaNet", "mamba2": "Mamba2"}
DTYPES = {"bf16": ml_dtypes.bfloat16, "f32": np.float32, "f16": np.float16}

CASES = [(m, v, "bf16") for m in MODELS for v in IMPL]
CASES += [(m, v, "f32") for m in ("0.5B", "1.5B", "3B") for v in IMPL]


def official_shapes(variant, hidden, heads, head_dim):
    """Official tensor name (``ahn.fn.`` local) -> PyTorch shape, from ahn.md §4 (written out here)."""
    proj, vec, out = (heads, hidden), (heads,), (heads, head_dim, head_dim)
    return {
        "gdn": {
            "b_proj.weight": proj,
            "a_proj.weight": proj,
            "A_log": vec,
            "dt_bias": vec,
            "D": vec,
            "g_proj.weight": proj,
            "o_norm.weight": (head_dim,),
            "o_proj.weight": out,
        },
        "dn": {
            "b_proj.weight": proj,
            "g_proj.weight": proj,
            "o_norm.weight": (head_dim,),
            "o_proj.weight": out,
        },
        "mamba2": {
            "dt_proj.weight": proj,
            "dt_proj.bias": vec,
            "g_proj.weight": proj,
            "g_proj.bias": vec,
            "dt_bias": vec,
            "A_log": vec,
            "norm.weight": (heads * head_dim,),
            "o_proj.weight": out,
        },
    }[variant]


def write_checkpoint(path, variant, model="0.5B", dtype="bf16", seed=0, n_layer=None, config=None, edit=None):
    """A synthetic official checkpoint directory; ``edit(tensors)`` may corrupt the tensor dict."""
    layers, hidden, heads, head_dim = MODELS[model]
    layers = layers if n_layer is None else n_layer
    path.mkdir(parents=True, exist_ok=True)
    conf = {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "_ahn_implementation": IMPL[variant],
        "_layer_implementation": "Qwen2MemDecoderLayer",
        "num_hidden_layers": layers,
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_key_value_heads": 2,
        "sliding_window": 256,
        "use_ahn_router": False,
        "save_ahn_only": True,
        **(config or {}),
    }
    (path / "config.json").write_text(json.dumps(conf))
    rng = np.random.default_rng(seed)
    tensors = {}
    for i in range(layers):
        for name, shape in official_shapes(variant, hidden, heads, head_dim).items():
            values = rng.random(shape, np.float32) * 2.0 - 1.0
            tensors[f"model.layers.{i}.ahn.fn.{name}"] = values.astype(DTYPES[dtype])
    if edit is not None:
        edit(tensors)
    save_file(tensors, str(path / "model.safetensors"))
    return path


@pytest.mark.parametrize("model,variant,dtype", CASES)
def test_convert_synthetic_checkpoints(tmp_path, capsys, model, variant, dtype):
    """CLI conversion: printed count = ahn.md §6; block metadata; every weight exact after read-back."""
    ckpt = write_checkpoint(tmp_path / "ckpt", variant, model, dtype)
    out = tmp_path / "block.gguf"
    assert convert.main([str(ckpt), "--out", str(out), "--window", "8064", "--sinks", "128"]) == 0
    printed = capsys.readouterr().out
    count = int(re.search(r"parameters: ([\d,]+)", printed).group(1).replace(",", ""))
    assert count == PARAMS[model, variant], printed
    print(f"{model} {variant} {dtype}: {count:,} parameters")
    layers, hidden, heads, head_dim = MODELS[model]
    assert count == cells.param_count(variant, layers, hidden, heads, head_dim)

    blk = gguf_io.read_block(out)
    assert blk.cfg == AhnConfig(variant, heads, head_dim, hidden, norm_eps=float(np.float32(1e-5)))
    assert (blk.n_layer, blk.window, blk.sinks, blk.n_params) == (layers, 8064, 128, count)
    raw = gguf_io.GgufFile(out)
    mapping = AHN_OFFICIAL_BY_VARIANT[variant]
    with safe_open(ckpt / "model.safetensors", framework="np") as f:
        assert len(f.keys()) == sum(len(p) for p in blk.layers)
        for name in f.keys():
            i, local = re.match(r"model\.layers\.(\d+)\.ahn\.fn\.(.+)$", name).groups()
            want = np.asarray(f.get_tensor(name), np.float32)
            got = blk.layers[int(i)][mapping[local]]
            assert got.dtype == np.float32 and got.shape == want.shape, name
            np.testing.assert_array_equal(got, want, err_msg=name)
            if local == "o_proj.weight":  # on disk per head transposed: numpy [H, out, in]
                disk = raw.tensors[f"blk.{i}.ahn_out.weight"].to_numpy()
                np.testing.assert_array_equal(disk, want.transpose(0, 2, 1))


def drop(name):
    return lambda t: t.pop(name)


def add(name, shape=(2,), dtype=np.float32):
    return lambda t: t.__setitem__(name, np.zeros(shape, dtype))


def reshape(name, shape):
    return lambda t: t.__setitem__(name, np.zeros(shape, t[name].dtype))


ERRORS = {
    "missing tensor": (
        "gdn",
        {"edit": drop("model.layers.1.ahn.fn.D")},
        "1 gdn AHN tensors missing: model.layers.1.ahn.fn.D",
    ),
    "wrong shape": (
        "dn",
        {"edit": reshape("model.layers.0.ahn.fn.o_proj.weight", (14, 64, 63))},
        r"model.layers.0.ahn.fn.o_proj.weight has shape \[14, 64, 63\], expected \[14, 64, 64\]",
    ),
    "transposed projection": (
        "mamba2",
        {"edit": reshape("model.layers.1.ahn.fn.dt_proj.weight", (896, 14))},
        r"dt_proj.weight has shape \[896, 14\], expected \[14, 896\]",
    ),
    "router tensors": (
        "gdn",
        {"edit": add("model.layers.0.ahn_router.alpha", (14,))},
        "holds the AHN router .*model.layers.0.ahn_router.alpha",
    ),
    "router in config": ("gdn", {"config": {"use_ahn_router": True}}, "use_ahn_router is true"),
    "unknown variant": (
        "dn",
        {"config": {"_ahn_implementation": "RWKV7"}},
        "unknown _ahn_implementation 'RWKV7'",
    ),
    "no variant": ("dn", {"config": {"_ahn_implementation": None}}, "unknown _ahn_implementation None"),
    "other variant's tensor": (
        "gdn",
        {"edit": add("model.layers.0.ahn.fn.norm.weight", (14 * 64,))},
        "not gdn AHN tensors of a 2-layer model: model.layers.0.ahn.fn.norm.weight",
    ),
    "base model tensor": (
        "dn",
        {"edit": add("model.layers.0.self_attn.q_proj.weight", (896, 896))},
        "not dn AHN tensors .*self_attn.q_proj.weight",
    ),
    "layer too many": (
        "mamba2",
        {"edit": add("model.layers.2.ahn.fn.A_log", (14,))},
        "model.layers.2.ahn.fn.A_log",
    ),
    "integer dtype": (
        "dn",
        {"edit": lambda t: t.__setitem__("model.layers.0.ahn.fn.o_norm.weight", np.ones(64, np.int32))},
        "o_norm.weight has dtype I32",
    ),
    "not qwen2": ("gdn", {"config": {"model_type": "llama"}}, "model_type 'llama'"),
    "no layer count": ("gdn", {"config": {"num_hidden_layers": None}}, "missing num_hidden_layers"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_convert_refuses_bad_checkpoints(tmp_path, capsys, case):
    """Each defect gives a clear message, exit status 1 and no output file."""
    variant, kwargs, message = ERRORS[case]
    ckpt = write_checkpoint(tmp_path / "ckpt", variant, n_layer=2, **kwargs)
    out = tmp_path / "block.gguf"
    with pytest.raises(convert.ConversionError, match=message):
        convert.convert(ckpt, out)
    assert convert.main([str(ckpt), "--out", str(out)]) == 1
    assert re.search(message, capsys.readouterr().err)
    assert list(tmp_path.glob("block.gguf*")) == []


def test_convert_missing_files_and_base_check(tmp_path):
    """Missing config/weights are named; ``--base`` refuses a model the block does not fit."""
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(convert.ConversionError, match="config.json not found"):
        convert.convert(empty, tmp_path / "b.gguf")
    ckpt = write_checkpoint(tmp_path / "ckpt", "gdn", n_layer=2)
    (ckpt / "model.safetensors").rename(ckpt / "other.safetensors")
    with pytest.raises(convert.ConversionError, match="model.safetensors not found"):
        convert.convert(ckpt, tmp_path / "b.gguf")
    (ckpt / "other.safetensors").rename(ckpt / "model.safetensors")

    def base_model(n_layer, n_embd, n_head, n_ff=32):
        lc = LayerConfig(n_embd, n_head, 2, 64, n_ff, 1, 4, 1e-6, 1e6, None)
        cfg = ModelConfig(20, n_layer, lc, tied_embeddings=True)
        glob, layers = random_model(np.random.default_rng(0), cfg)
        path = tmp_path / f"base-{n_layer}-{n_embd}-{n_head}.gguf"
        gguf_io.write(path, cfg, glob, layers)
        return path

    fits = base_model(2, 896, 14)
    c = convert.convert(ckpt, tmp_path / "ok.gguf", base=fits)
    assert c.n_params == 2 * PARAMS["0.5B", "gdn"] // 24
    with pytest.raises(convert.ConversionError, match="layers: checkpoint 2, model 3"):
        convert.convert(ckpt, tmp_path / "no.gguf", base=base_model(3, 896, 14))
    assert not (tmp_path / "no.gguf").exists()
    # The converted block loads with the base and runs.
    m = gguf_io.load(fits, block=tmp_path / "ok.gguf", n_sink=1, n_window=2)
    assert m.cfg.layer.ahn.variant == "gdn" and m.cfg.n_layer == 2


def test_mixed_dtypes_convert_exactly(tmp_path):
    """A checkpoint mixing f16, bf16 and f32 tensors converts each exactly to F32."""

    def mix(t):
        for k in list(t):
            if "o_proj" in k:
                t[k] = t[k].astype(np.float32).astype(np.float16)
            elif "norm" in k:
                t[k] = t[k].astype(np.float32)

    ckpt = write_checkpoint(tmp_path / "ckpt", "mamba2", n_layer=3, edit=mix)
    c = convert.convert(ckpt, tmp_path / "b.gguf")
    assert c.dtypes == ("BF16", "F16", "F32")
    blk = gguf_io.read_block(tmp_path / "b.gguf")
    with safe_open(ckpt / "model.safetensors", framework="np") as f:
        for name in f.keys():
            i, local = re.match(r"model\.layers\.(\d+)\.ahn\.fn\.(.+)$", name).groups()
            got = blk.layers[int(i)][AHN_OFFICIAL_BY_VARIANT["mamba2"][local]]
            np.testing.assert_array_equal(got, np.asarray(f.get_tensor(name), np.float32))
