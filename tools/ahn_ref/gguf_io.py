"""Load a ``qwen2`` GGUF (optionally carrying AHN tensors) into the reference's weight dicts.

Base Qwen2 keys and tensor names come from ``gguf.constants``. The AHN keys and tensor names
are ours (ahn.md §4 "Suggested"), collected in ``AHN_KEYS`` and ``cells.AHN_WEIGHTS``, and stay
provisional until the llama.cpp patches fix them. Their on-disk layout:

- every AHN tensor keeps its PyTorch shape as the numpy shape (ggml ``ne`` reversed), except
- ``blk.{i}.ahn_out.weight``, stored as numpy ``[H, d_out, d_in]`` (ggml ``ne = [d_in, d_out, H]``,
  the ``ggml_mul_mat``-ready layout of ahn.md §4); the loader transposes it back to ``[H, in, out]``.

S and W are not in the file: they are runtime choices (ahn.md §3.3), passed to ``load``.
Tensors of any type ``gguf.quants.dequantize`` knows (F32, F16, BF16, Q8_0, K-quants, ...) are
dequantized to float32 and then cast to the requested dtype.
"""

from dataclasses import dataclass

import gguf
import jax.numpy as jnp
import numpy as np

from .config import AhnConfig, LayerConfig, ModelConfig
from .names import split_layers

ARCH = gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.QWEN2]

AHN_KEYS = {
    "type": f"{ARCH}.ahn.type",  # string: gdn | dn | mamba2
    "head_count": f"{ARCH}.ahn.head_count",  # uint32, = attention.head_count
    "head_dim": f"{ARCH}.ahn.head_dim",  # uint32, = attention head dim
    "norm_eps": f"{ARCH}.ahn.norm_eps",  # float32, output RMS norm eps (1e-5)
}
"""Our GGUF metadata keys for an AHN model (provisional, see module doc)."""

AHN_OUT = "ahn_out.weight"


@dataclass
class LoadedModel:
    """A model read from GGUF: its config, model-level tensors and per-layer tensor dicts."""

    cfg: ModelConfig
    glob: dict
    layers: list


def _field(reader, key, default=None):
    """The scalar or string value of metadata ``key``, or ``default`` when absent."""
    field = reader.get_field(key)
    if field is None:
        if default is None:
            raise KeyError(f"GGUF metadata {key!r} is missing")
        return default
    value = field.contents()
    return value


def read_config(reader, n_sink, n_window):
    """Build the ``ModelConfig`` from GGUF metadata; S and W are given by the caller."""
    arch = _field(reader, gguf.Keys.General.ARCHITECTURE)
    if arch != ARCH:
        raise ValueError(f"expected a {ARCH!r} GGUF, got {arch!r}")
    llm, att = gguf.Keys.LLM, gguf.Keys.Attention
    n_embd = int(_field(reader, llm.EMBEDDING_LENGTH.format(arch=ARCH)))
    n_head = int(_field(reader, att.HEAD_COUNT.format(arch=ARCH)))
    head_dim = int(_field(reader, att.KEY_LENGTH.format(arch=ARCH), n_embd // n_head))
    ahn = None
    ahn_type = reader.get_field(AHN_KEYS["type"])
    if ahn_type is not None:
        ahn = AhnConfig(
            variant=ahn_type.contents(),
            n_head=int(_field(reader, AHN_KEYS["head_count"], n_head)),
            head_dim=int(_field(reader, AHN_KEYS["head_dim"], head_dim)),
            n_embd=n_embd,
            norm_eps=float(_field(reader, AHN_KEYS["norm_eps"], 1e-5)),
        )
    layer = LayerConfig(
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=int(_field(reader, att.HEAD_COUNT_KV.format(arch=ARCH))),
        head_dim=head_dim,
        n_ff=int(_field(reader, llm.FEED_FORWARD_LENGTH.format(arch=ARCH))),
        n_sink=n_sink,
        n_window=n_window,
        rms_eps=float(_field(reader, att.LAYERNORM_RMS_EPS.format(arch=ARCH))),
        rope_theta=float(_field(reader, gguf.Keys.Rope.FREQ_BASE.format(arch=ARCH), 10000.0)),
        ahn=ahn,
    )
    tensors = {t.name: t for t in reader.tensors}
    embd = tensors[gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.TOKEN_EMBD] + ".weight"]
    return ModelConfig(
        n_vocab=int(embd.shape[1]),
        n_layer=int(_field(reader, llm.BLOCK_COUNT.format(arch=ARCH))),
        layer=layer,
        tied_embeddings=gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.OUTPUT] + ".weight" not in tensors,
    )


def read_tensors(reader, dtype=jnp.float64):
    """Every tensor of the file, dequantized, as ``{gguf name: jnp array}`` in PyTorch layout."""
    out = {}
    for t in reader.tensors:
        arr = np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), np.float32)
        arr = arr.reshape(tuple(int(n) for n in reversed(t.shape)))
        if t.name.endswith("." + AHN_OUT):
            arr = np.swapaxes(arr, 1, 2)
        out[t.name] = jnp.asarray(arr, dtype)
    return out


def load(path, n_sink, n_window, dtype=jnp.float64):
    """Read a qwen2 GGUF into a ``LoadedModel`` ready for ``model.forward``."""
    reader = gguf.GGUFReader(path)
    cfg = read_config(reader, n_sink, n_window)
    glob, layers = split_layers(read_tensors(reader, dtype), cfg.n_layer)
    return LoadedModel(cfg, glob, layers)


def write(path, cfg: ModelConfig, glob, layers):
    """Write a model in the layout ``load`` reads (float32 tensors). Used for tests and tiny models."""
    writer = gguf.GGUFWriter(path, ARCH)
    lc = cfg.layer
    writer.add_block_count(cfg.n_layer)
    writer.add_embedding_length(lc.n_embd)
    writer.add_feed_forward_length(lc.n_ff)
    writer.add_head_count(lc.n_head)
    writer.add_head_count_kv(lc.n_head_kv)
    writer.add_key_length(lc.head_dim)
    writer.add_value_length(lc.head_dim)
    writer.add_layer_norm_rms_eps(lc.rms_eps)
    writer.add_rope_freq_base(lc.rope_theta)
    if lc.ahn is not None:
        writer.add_string(AHN_KEYS["type"], lc.ahn.variant)
        writer.add_uint32(AHN_KEYS["head_count"], lc.ahn.n_head)
        writer.add_uint32(AHN_KEYS["head_dim"], lc.ahn.head_dim)
        writer.add_float32(AHN_KEYS["norm_eps"], lc.ahn.norm_eps)
    tensors = dict(glob)
    for i, p in enumerate(layers):
        for name, value in p.items():
            arr = np.asarray(value, np.float32)
            tensors[f"blk.{i}.{name}"] = np.swapaxes(arr, 1, 2) if name == AHN_OUT else arr
    for name, value in tensors.items():
        writer.add_tensor(name, np.ascontiguousarray(np.asarray(value, np.float32)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
