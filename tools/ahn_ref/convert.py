"""Convert an official AHN checkpoint into an AHN block GGUF (docs/ahn-gguf.md).

    python -m ahn_ref.convert CHECKPOINT_DIR --out BLOCK.gguf [--window W] [--sinks S] [--base BASE.gguf]

``CHECKPOINT_DIR`` is an official AHN release (``ByteDance-Seed/AHN-{GDN,DN,Mamba2}-for-Qwen-2.5-
Instruct-{3B,7B,14B}``): ``config.json`` plus one ``model.safetensors`` holding only the AHN
tensors ``model.layers.{i}.ahn.fn.*`` (ahn.md §4). The converter

- takes the variant from ``config.json`` ``_ahn_implementation`` (``GatedDeltaNet``, ``DeltaNet``,
  ``Mamba2``) and the shapes from ``num_hidden_layers``, ``hidden_size``, ``num_attention_heads``
  and ``head_dim`` (default ``hidden_size / num_attention_heads``);
- demands exactly the variant's tensors for every layer with the official shapes, and refuses
  unknown or missing tensors, wrong shapes, non-float dtypes and the unused AHN router
  (``ahn_router.*`` tensors or ``use_ahn_router: true``);
- renames them (``names.AHN_OFFICIAL_BY_VARIANT``), transposes the GroupLinear ``o_proj`` per head,
  keeps GDN's unused ``D`` and writes every tensor as F32, one tensor in memory at a time;
- prints the parameter count, which equals the formulas of ahn.md §6 (``cells.param_count``).

W and S are not taken from ``config.json`` (its values are training settings, ahn.md §3.3):
``--window``/``--sinks`` are written into the block as defaults when given; the engine and the
reference can always override them at load time. ``--base`` checks that the block fits a base
model GGUF (layers, hidden size, heads, head size) before writing.

Reads ``model.safetensors`` with the ``safetensors`` package (numpy backend, bf16 through
``ml_dtypes``); no torch.
"""

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors import safe_open

from . import cells, gguf_io
from .config import AhnConfig
from .names import AHN_OFFICIAL_BY_VARIANT, OFFICIAL_VARIANTS

DEFAULT_NORM_EPS = 1e-5
"""Output RMS-norm eps of the official AHN modules (not a ``config.json`` key)."""

FLOAT_DTYPES = ("F32", "F16", "BF16", "F64")
"""safetensors dtypes accepted (all cast to F32)."""

_ROUTER_RE = re.compile(r"^model\.layers\.\d+\.ahn_router\.")


class ConversionError(ValueError):
    """The checkpoint is not a convertible official AHN checkpoint; the message says why."""


@dataclass(frozen=True)
class Conversion:
    """What a conversion found and wrote."""

    cfg: AhnConfig
    n_layer: int
    n_tensors: int
    n_params: int
    dtypes: tuple
    out: Path


def read_config(path):
    """``(AhnConfig, n_layer)`` from an official ``config.json``."""
    try:
        with open(path, encoding="utf-8") as f:
            conf = json.load(f)
    except FileNotFoundError as err:
        raise ConversionError(f"{path} not found (a checkpoint directory has config.json)") from err
    except json.JSONDecodeError as err:
        raise ConversionError(f"{path}: not valid JSON ({err})") from err
    impl = conf.get("_ahn_implementation")
    if impl not in OFFICIAL_VARIANTS:
        raise ConversionError(
            f"{path}: unknown _ahn_implementation {impl!r}, expected one of {sorted(OFFICIAL_VARIANTS)}"
        )
    if conf.get("model_type", "qwen2") != "qwen2":
        raise ConversionError(f"{path}: model_type {conf['model_type']!r}; only qwen2 AHN checkpoints exist")
    if conf.get("use_ahn_router"):
        raise ConversionError(f"{path}: use_ahn_router is true; the AHN router is not supported")
    missing = [k for k in ("num_hidden_layers", "hidden_size", "num_attention_heads") if conf.get(k) is None]
    if missing:
        raise ConversionError(f"{path}: missing {', '.join(missing)}")
    hidden, heads = int(conf["hidden_size"]), int(conf["num_attention_heads"])
    head_dim = int(conf.get("head_dim") or hidden // heads)
    cfg = AhnConfig(OFFICIAL_VARIANTS[impl], heads, head_dim, hidden, DEFAULT_NORM_EPS)
    return cfg, int(conf["num_hidden_layers"])


def expected_tensors(cfg: AhnConfig, n_layer):
    """``{official name: (layer, reference name, PyTorch shape)}`` of a checkpoint."""
    shapes = cells.tensor_shapes(cfg)
    out = {}
    for i in range(n_layer):
        for official, ours in AHN_OFFICIAL_BY_VARIANT[cfg.variant].items():
            out[f"model.layers.{i}.ahn.fn.{official}"] = (i, ours, shapes[ours])
    return out


def _some(names, n=4):
    names = sorted(names)
    more = f" (and {len(names) - n} more)" if len(names) > n else ""
    return ", ".join(names[:n]) + more


def check_tensors(header, cfg: AhnConfig, n_layer, where):
    """Check a checkpoint's ``{name: (dtype, shape)}`` against the variant; returns the dtypes seen.

    Refuses the router, unknown names, missing names, wrong shapes and non-float dtypes, each
    with a message that names the tensors.
    """
    router = [n for n in header if _ROUTER_RE.match(n)]
    if router:
        raise ConversionError(
            f"{where}: holds the AHN router ({_some(router)}), which the official inference never uses "
            "(use_ahn_router=False); such a checkpoint is not supported"
        )
    expected = expected_tensors(cfg, n_layer)
    unknown = [n for n in header if n not in expected]
    if unknown:
        raise ConversionError(
            f"{where}: tensors that are not {cfg.variant} AHN tensors of a {n_layer}-layer model: "
            f"{_some(unknown)} (expected only model.layers.{{i}}.ahn.fn.* of "
            f"{sorted(AHN_OFFICIAL_BY_VARIANT[cfg.variant])})"
        )
    missing = [n for n in expected if n not in header]
    if missing:
        raise ConversionError(f"{where}: {len(missing)} {cfg.variant} AHN tensors missing: {_some(missing)}")
    dtypes = set()
    for name, (dtype, shape) in header.items():
        want = expected[name][2]
        if tuple(shape) != want:
            raise ConversionError(f"{where}: {name} has shape {list(shape)}, expected {list(want)}")
        if dtype not in FLOAT_DTYPES:
            raise ConversionError(f"{where}: {name} has dtype {dtype}, expected one of {FLOAT_DTYPES}")
        dtypes.add(dtype)
    return tuple(sorted(dtypes))


def convert(checkpoint_dir, out, window=None, sinks=None, base=None, norm_eps=DEFAULT_NORM_EPS):
    """Convert ``checkpoint_dir`` (``config.json`` + ``model.safetensors``) into the block ``out``.

    Returns a ``Conversion``. Nothing is written unless every check passes; the file appears
    under its final name only when complete.
    """
    checkpoint_dir = Path(checkpoint_dir)
    cfg, n_layer = read_config(checkpoint_dir / "config.json")
    if norm_eps != cfg.norm_eps:
        cfg = AhnConfig(cfg.variant, cfg.n_head, cfg.head_dim, cfg.n_embd, norm_eps)
    weights = checkpoint_dir / "model.safetensors"
    if not weights.is_file():
        raise ConversionError(f"{weights} not found (the official AHN releases ship one model.safetensors)")
    if base is not None:
        _check_base(base, cfg, n_layer)
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    with safe_open(weights, framework="np") as f:
        header = {}
        for name in f.keys():
            sl = f.get_slice(name)
            header[name] = (sl.get_dtype(), tuple(sl.get_shape()))
        dtypes = check_tensors(header, cfg, n_layer, weights)
        n_params = sum(int(np.prod(shape)) for _, shape in header.values())
        formula = cells.param_count(cfg.variant, n_layer, cfg.n_embd, cfg.n_head, cfg.head_dim)
        if n_params != formula:  # cannot happen once the shapes are checked; kept as a guard
            raise ConversionError(f"{weights}: {n_params} parameters, ahn.md §6 gives {formula}")
        official = {(i, ours): name for name, (i, ours, _) in expected_tensors(cfg, n_layer).items()}

        def source(i, ours):
            return np.asarray(f.get_tensor(official[(i, ours)]), np.float32)

        try:
            gguf_io.write_block_streaming(partial, cfg, n_layer, source, window, sinks)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, out)
    return Conversion(cfg, n_layer, len(header), n_params, dtypes, out)


def _check_base(base, cfg: AhnConfig, n_layer):
    """Refuse a conversion whose block would not fit the base model GGUF ``base``."""
    f = gguf_io.GgufFile(base)
    lc_cfg = gguf_io.read_config(f, 0, 1)
    lc = lc_cfg.layer
    for what, have, want in (
        ("layers", n_layer, lc_cfg.n_layer),
        ("hidden size", cfg.n_embd, lc.n_embd),
        ("heads", cfg.n_head, lc.n_head),
        ("head size", cfg.head_dim, lc.head_dim),
    ):
        if have != want:
            raise ConversionError(
                f"the checkpoint does not fit {base}: {what}: checkpoint {have}, model {want}"
            )


def main(argv=None):
    """Command line: convert, then print what was written and the parameter count."""
    ap = argparse.ArgumentParser(prog="python -m ahn_ref.convert", description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", help="directory with config.json and model.safetensors")
    ap.add_argument("--out", required=True, help="AHN block GGUF to write")
    ap.add_argument("--window", type=int, help="default W stored in the block (qwen2.ahn.window)")
    ap.add_argument("--sinks", type=int, help="default S stored in the block (qwen2.ahn.sinks)")
    ap.add_argument("--base", help="base qwen2 GGUF the block must fit (checked before writing)")
    ap.add_argument("--norm-eps", type=float, default=DEFAULT_NORM_EPS, help="AHN output norm eps (1e-5)")
    args = ap.parse_args(argv)
    for flag, value in (("--window", args.window), ("--sinks", args.sinks)):
        if value is not None and value < (1 if flag == "--window" else 0):
            ap.error(f"{flag} {value} is out of range")
    try:
        c = convert(args.checkpoint, args.out, args.window, args.sinks, args.base, args.norm_eps)
    except (ConversionError, gguf_io.GgufError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    cfg = c.cfg
    defaults = ", ".join(f"{k}={v}" for k, v in (("W", args.window), ("S", args.sinks)) if v is not None)
    sys.stdout.write(
        f"{cfg.variant}: {c.n_layer} layers, {cfg.n_head} heads of {cfg.head_dim}, hidden {cfg.n_embd}; "
        f"{c.n_tensors} tensors ({'/'.join(c.dtypes)} -> F32)\n"
        f"parameters: {c.n_params:,} (ahn.md §6 formula: "
        f"{cells.param_count(cfg.variant, c.n_layer, cfg.n_embd, cfg.n_head, cfg.head_dim):,})\n"
        f"wrote {c.out} ({c.out.stat().st_size:,} bytes){'; defaults ' + defaults if defaults else ''}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
