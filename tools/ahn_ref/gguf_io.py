"""GGUF input and output: a stock ``qwen2`` base model plus an optional AHN block.

The AHN block format is ``docs/ahn-gguf.md`` (what the engine and the llama.cpp patches use):

- A block is a separate small GGUF with ``general.type = "ahn"``, ``ahn.base_architecture =
  "qwen2"`` and the keys ``qwen2.ahn.{type, block_count, head_count, head_dim,
  embedding_length, norm_eps}``, optionally ``qwen2.ahn.{window, sinks}`` (default W and S).
- Its tensors are ``blk.{i}.<name>`` for every name of ``cells.AHN_TENSORS[variant]``, F32 (F16
  accepted), nothing else.
- Every tensor keeps its PyTorch shape as the numpy shape (ggml ``ne`` reversed), except
  ``blk.{i}.ahn_out.weight``: stored per head transposed, numpy ``[H, d_out, d_in]`` (ggml
  ``ne = [d_in, d_out, H]``, ready for ``ggml_mul_mat``). In memory the reference keeps the
  checkpoint's ``[H, d_in, d_out]``; ``read_block`` and the writers transpose.

``load`` reads a base file and, optionally, a block, checking that the two fit (same
architecture, layers, hidden size, heads and head size), as the engine does. It also reads a
*merged* file (base + block keys and tensors in one GGUF, what the engine writes into its cache).

Reading uses ``GgufFile``, a small reader written from the GGUF v3 layout: gguf-py's
``GGUFReader`` takes ~8 s on the ~300k tokenizer strings of a Qwen2.5 vocabulary, this one a
fraction of a second. Tensor data stays memory-mapped; tensors of any type
``gguf.quants.dequantize`` knows (F32, F16, BF16, Q8_0, K-quants, ...) are dequantized to
float32, then cast to the requested dtype. Writing uses ``gguf.GGUFWriter``.
"""

import dataclasses
import mmap
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gguf
import jax.numpy as jnp
import numpy as np

from . import cells
from .config import AhnConfig, LayerConfig, ModelConfig
from .names import split_layers

ARCH = gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.QWEN2]

BLOCK_TYPE = "ahn"
"""``general.type`` of an AHN block."""
KEY_GENERAL_TYPE = "general.type"
KEY_BASE_ARCH = "ahn.base_architecture"

AHN_KEYS = {
    name: f"{ARCH}.ahn.{name}"
    for name in ("type", "block_count", "head_count", "head_dim", "embedding_length", "norm_eps")
    + ("window", "sinks")
}
"""The block's ``qwen2.ahn.*`` metadata keys (docs/ahn-gguf.md); window and sinks are optional."""

AHN_OUT = "ahn_out.weight"
CONTEXT_LENGTH = 32768
"""``qwen2.context_length`` written into base files (llama.cpp requires the key)."""


class GgufError(ValueError):
    """A GGUF file is not what it should be (bad layout, wrong kind, missing or unexpected data)."""


# --------------------------------------------------------------------------------------------
# Reading


_SCALARS = {
    gguf.GGUFValueType.UINT8: "<B",
    gguf.GGUFValueType.INT8: "<b",
    gguf.GGUFValueType.UINT16: "<H",
    gguf.GGUFValueType.INT16: "<h",
    gguf.GGUFValueType.UINT32: "<I",
    gguf.GGUFValueType.INT32: "<i",
    gguf.GGUFValueType.FLOAT32: "<f",
    gguf.GGUFValueType.BOOL: "<?",
    gguf.GGUFValueType.UINT64: "<Q",
    gguf.GGUFValueType.INT64: "<q",
    gguf.GGUFValueType.FLOAT64: "<d",
}


@dataclass(frozen=True)
class GgufField:
    """One metadata entry: its value type, value (scalar, str, list of str, or numpy array for
    numeric arrays) and, for arrays, the element type."""

    vtype: gguf.GGUFValueType
    value: object
    sub_type: gguf.GGUFValueType | None = None


@dataclass(frozen=True)
class GgufTensor:
    """One tensor: name, numpy shape (ggml ``ne`` reversed), ggml type and raw bytes."""

    name: str
    shape: tuple
    ttype: gguf.GGMLQuantizationType
    raw: np.ndarray

    def to_numpy(self):
        """The tensor as a float32 array of ``shape`` (a view of the file for F32)."""
        byte_shape = gguf.quants.quant_shape_to_byte_shape(self.shape, self.ttype)
        out = gguf.quants.dequantize(self.raw.reshape(byte_shape), self.ttype)
        return np.asarray(out, np.float32).reshape(self.shape)


class GgufFile:
    """A GGUF v2/v3 file: ``fields`` (key -> ``GgufField``) and ``tensors`` (name -> ``GgufTensor``).

    The file is memory-mapped; tensor bytes are views of the map, read only when used.
    """

    def __init__(self, path):
        self.path = Path(path)
        self._pos = 0
        try:
            with open(self.path, "rb") as f:
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            self._parse()
        except (struct.error, UnicodeDecodeError, ValueError, IndexError) as err:
            if isinstance(err, GgufError):
                raise
            raise GgufError(f"{self.path}: not a readable GGUF file ({err})") from err

    def _read(self, fmt):
        value = struct.unpack_from(fmt, self._map, self._pos)
        self._pos += struct.calcsize(fmt)
        return value[0]

    def _string(self):
        n = self._read("<Q")
        if self._pos + n > len(self._map):
            raise GgufError(f"{self.path}: string runs past the end of the file")
        s = self._map[self._pos : self._pos + n].decode("utf-8")
        self._pos += n
        return s

    def _value(self, vtype):
        if vtype in _SCALARS:
            return self._read(_SCALARS[vtype])
        if vtype == gguf.GGUFValueType.STRING:
            return self._string()
        if vtype == gguf.GGUFValueType.ARRAY:
            sub = gguf.GGUFValueType(self._read("<I"))
            n = self._read("<Q")
            if sub in _SCALARS and sub != gguf.GGUFValueType.BOOL:
                dt = np.dtype(_SCALARS[sub])
                arr = np.frombuffer(self._map, dt, n, self._pos)
                self._pos += n * dt.itemsize
                return arr, sub
            return [self._value(sub) for _ in range(n)], sub
        raise GgufError(f"{self.path}: unknown metadata value type {vtype}")

    def _parse(self):
        if self._read("<I") != gguf.GGUF_MAGIC:
            raise GgufError(f"{self.path}: not a GGUF file (bad magic)")
        version = self._read("<I")
        if version not in (2, 3):
            raise GgufError(f"{self.path}: unsupported GGUF version {version}")
        n_tensors = self._read("<Q")
        n_kv = self._read("<Q")
        self.fields = {}
        for _ in range(n_kv):
            key = self._string()
            vtype = gguf.GGUFValueType(self._read("<I"))
            value = self._value(vtype)
            if vtype == gguf.GGUFValueType.ARRAY:
                self.fields[key] = GgufField(vtype, value[0], value[1])
            else:
                self.fields[key] = GgufField(vtype, value)
        infos = []
        for _ in range(n_tensors):
            name = self._string()
            n_dims = self._read("<I")
            ne = [self._read("<Q") for _ in range(n_dims)]
            ttype = gguf.GGMLQuantizationType(self._read("<I"))
            offset = self._read("<Q")
            infos.append((name, tuple(reversed(ne)), ttype, offset))
        align = int(self.get(gguf.Keys.General.ALIGNMENT, gguf.GGUF_DEFAULT_ALIGNMENT))
        start = -(-self._pos // align) * align
        self.tensors = {}
        for name, shape, ttype, offset in infos:
            block, type_size = gguf.GGML_QUANT_SIZES[ttype]
            n_bytes = int(np.prod(shape, dtype=np.int64)) // block * type_size
            if start + offset + n_bytes > len(self._map):
                raise GgufError(f"{self.path}: tensor {name} runs past the end of the file (truncated?)")
            raw = np.frombuffer(self._map, np.uint8, n_bytes, start + offset)
            if name in self.tensors:
                raise GgufError(f"{self.path}: duplicate tensor {name}")
            self.tensors[name] = GgufTensor(name, shape, ttype, raw)

    def get(self, key, default=None):
        """The value of metadata ``key``, or ``default`` when absent."""
        f = self.fields.get(key)
        return default if f is None else f.value

    def require(self, key):
        """The value of metadata ``key``; ``GgufError`` when absent."""
        if key not in self.fields:
            raise GgufError(f"{self.path}: metadata {key!r} is missing")
        return self.fields[key].value


@dataclass
class LoadedModel:
    """A model read from GGUF: its config, model-level tensors and per-layer tensor dicts."""

    cfg: ModelConfig
    glob: dict
    layers: list


@dataclass
class AhnBlock:
    """An AHN block read from GGUF: its config, layer count, default W/S and per-layer weights.

    ``layers[i]`` maps each name of ``cells.AHN_TENSORS`` to a float32 numpy array in the
    reference layout (``ahn_out.weight`` back to ``[H, d_in, d_out]``); F32 tensors are views of
    the memory-mapped file.
    """

    path: Path
    architecture: str
    cfg: AhnConfig
    n_layer: int
    window: int | None
    sinks: int | None
    layers: list = field(repr=False)

    @property
    def n_params(self):
        """Parameters stored in the block (every element of every tensor)."""
        return sum(int(a.size) for p in self.layers for a in p.values())


def _ahn_config(f: GgufFile, arch=ARCH):
    """``(AhnConfig, n_layer, window, sinks)`` from a file's ``<arch>.ahn.*`` keys."""
    key = lambda name: f"{arch}.ahn.{name}"  # noqa: E731
    variant = f.require(key("type"))
    if variant not in cells.AHN_TENSORS:
        raise GgufError(f"{f.path}: unknown AHN type {variant!r} (expected gdn, dn or mamba2)")
    cfg = AhnConfig(
        variant=variant,
        n_head=int(f.require(key("head_count"))),
        head_dim=int(f.require(key("head_dim"))),
        n_embd=int(f.require(key("embedding_length"))),
        norm_eps=float(f.require(key("norm_eps"))),
    )
    window, sinks = f.get(key("window")), f.get(key("sinks"))
    return (
        cfg,
        int(f.require(key("block_count"))),
        None if window is None else int(window),
        None if sinks is None else int(sinks),
    )


def expected_block_tensors(cfg: AhnConfig, n_layer):
    """``{gguf name: numpy shape on disk}`` of every tensor a block must hold."""
    out = {}
    for i in range(n_layer):
        for name, shape in cells.tensor_shapes(cfg).items():
            out[f"blk.{i}.{name}"] = shape  # ahn_out is square per head: [H, d, d] either way
    return out


def _read_ahn_tensors(f: GgufFile, cfg: AhnConfig, n_layer, only_ahn):
    """Check and read the AHN tensors of ``f`` into one dict per layer (reference layout).

    With ``only_ahn`` (a block), any other tensor is an error; otherwise (a merged file) the
    tensors named ``blk.{i}.ahn_*`` are checked and the rest left alone.
    """
    expected = expected_block_tensors(cfg, n_layer)
    layers = [{} for _ in range(n_layer)]
    for name, t in f.tensors.items():
        if name not in expected:
            if only_ahn or name.split(".", 2)[-1].startswith("ahn_"):
                what = f"a {cfg.variant} AHN of {n_layer} layers"
                raise GgufError(f"{f.path}: unexpected tensor {name} for {what}")
            continue
        if t.shape != expected[name]:
            ne = list(reversed(t.shape))
            raise GgufError(f"{f.path}: tensor {name} has ne {ne}, expected {list(reversed(expected[name]))}")
        if t.ttype not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            raise GgufError(f"{f.path}: tensor {name} is {t.ttype.name}, an AHN tensor must be F32 or F16")
        arr = t.to_numpy()
        idx, local = name[4:].split(".", 1)
        layers[int(idx)][local] = np.swapaxes(arr, 1, 2) if local == AHN_OUT else arr
    names = cells.AHN_TENSORS[cfg.variant]
    missing = [f"blk.{i}.{n}" for i, p in enumerate(layers) for n in names if n not in p]
    if missing:
        raise GgufError(f"{f.path}: {len(missing)} AHN tensors missing, e.g. {missing[0]}")
    return layers


def read_block(path):
    """Read and check an AHN block file (docs/ahn-gguf.md) into an ``AhnBlock``.

    Refused with ``GgufError``: not a block (``general.type``), an unknown base architecture or
    AHN type, a missing key, a missing, unexpected or misshapen tensor, a tensor not F32/F16.
    """
    f = path if isinstance(path, GgufFile) else GgufFile(path)
    if f.get(KEY_GENERAL_TYPE) != BLOCK_TYPE:
        raise GgufError(f'{f.path}: general.type is not "{BLOCK_TYPE}": this is not an AHN block')
    arch = f.require(KEY_BASE_ARCH)
    if arch != ARCH:
        raise GgufError(f"{f.path}: block for {arch!r} models; the reference implements {ARCH!r} only")
    cfg, n_layer, window, sinks = _ahn_config(f, arch)
    layers = _read_ahn_tensors(f, cfg, n_layer, only_ahn=True)
    return AhnBlock(f.path, arch, cfg, n_layer, window, sinks, layers)


def read_config(f: GgufFile, n_sink, n_window, ahn: AhnConfig | None = None):
    """Build the ``ModelConfig`` of a base model from its metadata.

    S and W come from the caller; ``ahn`` is the AHN config (from a block or merged keys).
    """
    if f.get(KEY_GENERAL_TYPE) == BLOCK_TYPE:
        raise GgufError(f"{f.path}: this is an AHN block, not a model (pass it as the block)")
    arch = f.require(gguf.Keys.General.ARCHITECTURE)
    if arch != ARCH:
        raise GgufError(f"{f.path}: expected a {ARCH!r} GGUF, got {arch!r}")
    llm, att = gguf.Keys.LLM, gguf.Keys.Attention
    n_embd = int(f.require(llm.EMBEDDING_LENGTH.format(arch=ARCH)))
    n_head = int(f.require(att.HEAD_COUNT.format(arch=ARCH)))
    head_dim = int(f.get(att.KEY_LENGTH.format(arch=ARCH), n_embd // n_head))
    layer = LayerConfig(
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=int(f.require(att.HEAD_COUNT_KV.format(arch=ARCH))),
        head_dim=head_dim,
        n_ff=int(f.require(llm.FEED_FORWARD_LENGTH.format(arch=ARCH))),
        n_sink=n_sink,
        n_window=n_window,
        rms_eps=float(f.require(att.LAYERNORM_RMS_EPS.format(arch=ARCH))),
        rope_theta=float(f.get(gguf.Keys.Rope.FREQ_BASE.format(arch=ARCH), 10000.0)),
        ahn=ahn,
    )
    embd_name = gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.TOKEN_EMBD] + ".weight"
    if embd_name not in f.tensors:
        raise GgufError(f"{f.path}: {embd_name} is missing")
    return ModelConfig(
        n_vocab=int(f.tensors[embd_name].shape[0]),
        n_layer=int(f.require(llm.BLOCK_COUNT.format(arch=ARCH))),
        layer=layer,
        tied_embeddings=gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.OUTPUT] + ".weight" not in f.tensors,
    )


def _check_fits(block: AhnBlock, base: GgufFile, n_layer, lc_embd, n_head, head_dim):
    """Refuse a block that does not fit the base model (the engine's checks)."""
    for what, have, want in (
        ("layers", block.n_layer, n_layer),
        ("hidden size", block.cfg.n_embd, lc_embd),
        ("heads", block.cfg.n_head, n_head),
        ("head size", block.cfg.head_dim, head_dim),
    ):
        if have != want:
            raise GgufError(
                f"{block.path} does not fit {base.path}: {what}: the block has {have}, the model {want}"
            )


def _resolve(value, default, what):
    if value is not None:
        return int(value)
    if default is not None:
        return int(default)
    raise ValueError(f"{what} is not given and the AHN block stores no default")


def load(path, n_sink=None, n_window=None, dtype=jnp.float64, block=None):
    """Read a qwen2 GGUF (plus an optional AHN block) into a ``LoadedModel`` for ``model.forward``.

    - ``block``: path of an AHN block; refused when it does not fit the model or when the model
      file already holds AHN keys.
    - A *merged* file (AHN keys and ``blk.{i}.ahn_*`` tensors inside the model) is read as is.
    - ``n_sink``/``n_window``: S and W; ``None`` takes the block's ``qwen2.ahn.{sinks,window}``.
    """
    f = GgufFile(path)
    if f.get(KEY_GENERAL_TYPE) == BLOCK_TYPE:
        raise GgufError(f"{f.path}: this is an AHN block, not a model (pass it as the block)")
    base_has_ahn = AHN_KEYS["type"] in f.fields
    ahn_src, ahn_layers, blk = None, None, None
    if block is not None:
        if base_has_ahn:
            raise GgufError(f"{f.path}: the model file already contains an AHN block")
        blk = read_block(block)
        ahn_src = blk
    elif base_has_ahn:
        cfg, n_layer, window, sinks = _ahn_config(f)
        blk = AhnBlock(f.path, ARCH, cfg, n_layer, window, sinks, [])
        blk.layers = _read_ahn_tensors(f, cfg, n_layer, only_ahn=False)
        ahn_src = blk
    window_default = ahn_src.window if ahn_src else None
    sinks_default = ahn_src.sinks if ahn_src else None
    n_window = _resolve(n_window, window_default, "the window W")
    n_sink = _resolve(n_sink, sinks_default, "the sink count S")
    cfg = read_config(f, n_sink, n_window, None)
    lc = cfg.layer
    if ahn_src is not None:
        _check_fits(ahn_src, f, cfg.n_layer, lc.n_embd, lc.n_head, lc.head_dim)
        ahn_layers = ahn_src.layers
        lc = dataclasses.replace(lc, ahn=ahn_src.cfg)
        cfg = ModelConfig(cfg.n_vocab, cfg.n_layer, lc, cfg.tied_embeddings)
    tensors = {}
    for name, t in f.tensors.items():
        if name.split(".", 2)[-1].startswith("ahn_"):
            if block is None and base_has_ahn:
                continue  # taken from ahn_layers below
            raise GgufError(f"{f.path}: AHN tensor {name} in a model without {AHN_KEYS['type']}")
        tensors[name] = jnp.asarray(t.to_numpy(), dtype)
    glob, layers = split_layers(tensors, cfg.n_layer)
    if ahn_layers is not None:
        for p, extra in zip(layers, ahn_layers, strict=True):
            p.update({k: jnp.asarray(v, dtype) for k, v in extra.items()})
    return LoadedModel(cfg, glob, layers)


def vocabulary(path):
    """The ``tokenizer.ggml.tokens`` of a GGUF file (a list of str), or None."""
    return GgufFile(path).get("tokenizer.ggml.tokens")


# --------------------------------------------------------------------------------------------
# Writing


def _new_writer(path, arch=ARCH, with_arch=True):
    writer = gguf.GGUFWriter(path, arch)
    if not with_arch:
        # An AHN block has no general.architecture (docs/ahn-gguf.md; the engine's writer neither).
        writer.kv_data[0].pop(gguf.Keys.General.ARCHITECTURE)
    return writer


def copy_fields(writer, source, prefix):
    """Copy every metadata key of GGUF ``source`` starting with ``prefix`` (e.g. ``tokenizer.``)."""
    f = source if isinstance(source, GgufFile) else GgufFile(source)
    n = 0
    for key, fld in f.fields.items():
        if not key.startswith(prefix):
            continue
        value = fld.value
        if isinstance(value, np.ndarray):
            value = value.tolist()
        writer.add_key_value(key, value, fld.vtype, sub_type=fld.sub_type)
        n += 1
    return n


def _add_ahn_keys(writer, cfg: AhnConfig, n_layer, window, sinks):
    writer.add_string(AHN_KEYS["type"], cfg.variant)
    writer.add_uint32(AHN_KEYS["block_count"], n_layer)
    writer.add_uint32(AHN_KEYS["head_count"], cfg.n_head)
    writer.add_uint32(AHN_KEYS["head_dim"], cfg.head_dim)
    writer.add_uint32(AHN_KEYS["embedding_length"], cfg.n_embd)
    writer.add_float32(AHN_KEYS["norm_eps"], cfg.norm_eps)
    if window is not None:
        writer.add_uint32(AHN_KEYS["window"], int(window))
    if sinks is not None:
        writer.add_uint32(AHN_KEYS["sinks"], int(sinks))


def _ahn_disk(name, arr):
    """An AHN tensor in its on-disk F32 layout (``ahn_out`` transposed per head)."""
    arr = np.asarray(arr, np.float32)
    return np.ascontiguousarray(np.swapaxes(arr, 1, 2) if name == AHN_OUT else arr)


def write_block_streaming(path, cfg: AhnConfig, n_layer, source: Callable, window=None, sinks=None):
    """Write an AHN block, one tensor in memory at a time.

    ``source(i, name)`` returns layer ``i``'s tensor ``name`` (reference layout, any float
    dtype); it is called once per tensor, in file order, after the header is written. Each
    result is checked against the expected shape and written as F32.
    """
    writer = _new_writer(path, with_arch=False)
    writer.add_string(KEY_GENERAL_TYPE, BLOCK_TYPE)
    writer.add_string(KEY_BASE_ARCH, ARCH)
    _add_ahn_keys(writer, cfg, n_layer, window, sinks)
    shapes = cells.tensor_shapes(cfg)
    order = [(i, name) for i in range(n_layer) for name in cells.AHN_TENSORS[cfg.variant]]
    for i, name in order:
        n_bytes = 4 * int(np.prod(shapes[name]))
        writer.add_tensor_info(f"blk.{i}.{name}", shapes[name], np.dtype(np.float32), n_bytes)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for i, name in order:
        arr = source(i, name)
        if tuple(np.shape(arr)) != shapes[name]:
            writer.close()
            Path(path).unlink()
            raise ValueError(f"blk.{i}.{name}: shape {tuple(np.shape(arr))}, expected {shapes[name]}")
        writer.write_tensor_data(_ahn_disk(name, arr))
    writer.close()


def write_block(path, cfg: AhnConfig, layers, window=None, sinks=None):
    """Write an AHN block from one dict of AHN weights per layer (reference layout).

    Every tensor of ``cells.AHN_TENSORS[cfg.variant]`` must be present (GDN: ``ahn_d`` too);
    other entries of the dicts (base weights) are ignored.
    """
    for i, p in enumerate(layers):
        missing = [n for n in cells.AHN_TENSORS[cfg.variant] if n not in p]
        if missing:
            raise ValueError(f"layer {i}: AHN weights missing: {missing}")
    write_block_streaming(path, cfg, len(layers), lambda i, name: layers[i][name], window, sinks)


def write(path, cfg: ModelConfig, glob, layers, block=None, tokenizer_from=None, window=None, sinks=None):
    """Write a qwen2 model as float32 GGUF (tests, engine test models, fixtures).

    The base model goes to ``path``. When ``cfg.layer.ahn`` is set, the AHN weights of
    ``layers`` go to the block file ``block``; with ``block=None`` they go into ``path`` itself,
    in the merged layout (the engine's cached base + block). ``window``/``sinks`` are the block's
    optional defaults. ``tokenizer_from``: a GGUF whose ``tokenizer.*`` keys are copied (llama.cpp
    needs a vocabulary to load a model).
    """
    lc, ahn = cfg.layer, cfg.layer.ahn
    writer = _new_writer(path)
    writer.add_block_count(cfg.n_layer)
    writer.add_context_length(CONTEXT_LENGTH)
    writer.add_embedding_length(lc.n_embd)
    writer.add_feed_forward_length(lc.n_ff)
    writer.add_head_count(lc.n_head)
    writer.add_head_count_kv(lc.n_head_kv)
    writer.add_key_length(lc.head_dim)
    writer.add_value_length(lc.head_dim)
    writer.add_layer_norm_rms_eps(lc.rms_eps)
    writer.add_rope_freq_base(lc.rope_theta)
    if tokenizer_from is not None:
        copy_fields(writer, tokenizer_from, "tokenizer.")
    merged = ahn is not None and block is None
    if merged:
        _add_ahn_keys(writer, ahn, cfg.n_layer, window, sinks)
    tensors = dict(glob)
    for i, p in enumerate(layers):
        for name, value in p.items():
            if name.startswith("ahn_"):
                if merged:
                    tensors[f"blk.{i}.{name}"] = _ahn_disk(name, value)
            else:
                tensors[f"blk.{i}.{name}"] = value
    for name, value in tensors.items():
        writer.add_tensor(name, np.ascontiguousarray(np.asarray(value, np.float32)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if ahn is not None and block is not None:
        write_block(block, ahn, layers, window, sinks)


def dequantize(src, dst):
    """Write GGUF ``src`` as ``dst`` with every tensor in F32 and every metadata key copied
    (``general.file_type`` becomes ALL_F32). Quantized weights are expanded exactly as the
    reference reads them, so an engine run on ``dst`` with F32 cache computes what the reference
    computes on ``src`` (up to float32 arithmetic), which a quantized run cannot (llama.cpp
    quantizes activations for quantized weights)."""
    f = GgufFile(src)
    arch = f.require(gguf.Keys.General.ARCHITECTURE)
    writer = _new_writer(dst, arch)
    for key, fld in f.fields.items():
        if key in (gguf.Keys.General.ARCHITECTURE, gguf.Keys.General.ALIGNMENT, gguf.Keys.General.FILE_TYPE):
            continue
        value = fld.value.tolist() if isinstance(fld.value, np.ndarray) else fld.value
        writer.add_key_value(key, value, fld.vtype, sub_type=fld.sub_type)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    names = list(f.tensors)
    for name in names:
        t = f.tensors[name]
        writer.add_tensor_info(name, t.shape, np.dtype(np.float32), 4 * int(np.prod(t.shape)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for name in names:
        writer.write_tensor_data(np.ascontiguousarray(f.tensors[name].to_numpy()))
    writer.close()
