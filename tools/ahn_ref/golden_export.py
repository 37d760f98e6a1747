"""Export the official golden layer files as engine fixtures (base GGUF + AHN block + expectation).

    python -m ahn_ref.golden_export --out DIR --tokenizer-from MODEL.gguf [--golden-dir G] [--only GLOB]

For each golden ``layer_*.npz`` (``tools/tests/golden/README.md`` §4.2) this writes
``DIR/<file stem>/``:

- ``base.gguf``: a 1-layer qwen2 model, F32, whose layer weights are the golden layer's. Its
  ``tokenizer.*`` metadata is copied from ``--tokenizer-from`` (llama.cpp needs a real vocabulary
  to load a model), so the vocabulary size V is that model's. ``token_embd.weight`` rows
  ``0..N-1`` are the golden layer's N input hidden states (``in_hidden``), every other row is 0;
  ``output_norm.weight`` is all ones and an explicit ``output.weight`` is the identity on its
  first D rows (zero elsewhere). Feeding the token ids ``0..N-1`` at positions ``0..N-1`` then
  gives logits whose first D entries are ``RMSNorm(layer output)`` and whose other entries are 0.
- ``block.gguf``: the golden AHN weights as an AHN block (docs/ahn-gguf.md), with the golden S
  and W stored as the block's defaults.
- ``expected.npy``: float32 ``[N, D]``, ``RMSNorm(out_f64)`` with the golden file's eps and unit
  weight: what the engine's ``logits[:, :D]`` must equal (within its tolerance).
- ``fixture.json``: S, W, N, the tokens, both eps, the variant and the shapes.

Stock llama.cpp's qwen2 requires ``n_head·head_dim = n_embd`` (its q/o projections are
``n_embd × n_embd``). The ``hd16`` files satisfy it; the ``hd32`` files (4·32 ≠ 64) do not, so
their base files are marked ``"llama_cpp_qwen2_shapes": false`` in ``fixture.json``.
"""

import argparse
import fnmatch
import json
import sys
from pathlib import Path

import numpy as np

from . import gguf_io, golden, layer
from .config import ModelConfig

FILES = ("base.gguf", "block.gguf", "expected.npy", "fixture.json")


def rms_normalized(x, eps):
    """``x / sqrt(mean(x²) + eps)`` over the last axis, in float64 (unit weight)."""
    x = np.asarray(x, np.float64)
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def export_one(npz_path, out_dir, tokenizer_from):
    """Write the fixture of one golden layer file into ``out_dir``; returns its ``fixture.json`` dict."""
    npz_path, out_dir = Path(npz_path), Path(out_dir)
    z = np.load(npz_path)
    meta = golden.meta(z)
    lc = golden.layer_config(z)
    tok = tokenizer_from if isinstance(tokenizer_from, gguf_io.GgufFile) else gguf_io.GgufFile(tokenizer_from)
    vocab = tok.get("tokenizer.ggml.tokens")
    if vocab is None:
        raise ValueError(f"{tokenizer_from} has no tokenizer.ggml.tokens")
    hidden = np.asarray(z["in_hidden"], np.float32)
    n_tok, dim = hidden.shape
    n_vocab = len(vocab)
    if n_vocab < max(n_tok, dim):
        raise ValueError(f"{tokenizer_from}: vocabulary of {n_vocab} < max(N={n_tok}, D={dim})")

    embd = np.zeros((n_vocab, dim), np.float32)
    embd[:n_tok] = hidden
    output = np.zeros((n_vocab, dim), np.float32)
    output[np.arange(dim), np.arange(dim)] = 1.0
    glob = {
        "token_embd.weight": embd,
        "output_norm.weight": np.ones(dim, np.float32),
        "output.weight": output,
    }
    weights = {k: np.asarray(v, np.float32) for k, v in golden.weights(z, np.float64).items()}
    missing = [n for n in layer.LAYER_WEIGHTS if n not in weights]
    if missing:
        raise ValueError(f"{npz_path}: layer weights missing: {missing}")
    cfg = ModelConfig(n_vocab=n_vocab, n_layer=1, layer=lc, tied_embeddings=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    gguf_io.write(
        out_dir / "base.gguf",
        cfg,
        glob,
        [weights],
        block=out_dir / "block.gguf",
        tokenizer_from=tok,
        window=lc.n_window,
        sinks=lc.n_sink,
    )
    expected = rms_normalized(z["out_f64"], meta["rms_norm_eps"]).astype(np.float32)
    np.save(out_dir / "expected.npy", expected)
    fixture = {
        "source": npz_path.name,
        "variant": lc.ahn.variant,
        "sinks": lc.n_sink,
        "window": lc.n_window,
        "n_tokens": n_tok,
        "tokens": list(range(n_tok)),
        "rms_norm_eps": meta["rms_norm_eps"],
        "ahn_norm_eps": lc.ahn.norm_eps,
        "n_embd": dim,
        "n_head": lc.n_head,
        "n_head_kv": lc.n_head_kv,
        "head_dim": lc.head_dim,
        "n_vocab": n_vocab,
        "compare": "logits[:, :n_embd] vs expected.npy; logits[:, n_embd:] are 0",
        "llama_cpp_qwen2_shapes": lc.n_head * lc.head_dim == dim,
    }
    with open(out_dir / "fixture.json", "w", encoding="utf-8") as f:
        f.write(
            "{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in fixture.items()) + "\n}\n"
        )
    return fixture


def export_all(out, tokenizer_from, golden_dir=None, only="*"):
    """Export every golden layer file matching ``only`` (a glob on the file stem) into ``out``."""
    src = Path(golden_dir) if golden_dir else golden.golden_dir()
    paths = [p for p in sorted(src.glob("layer_*.npz")) if fnmatch.fnmatch(p.stem, only)]
    if not paths:
        raise FileNotFoundError(f"no golden layer_*.npz matching {only!r} in {src}")
    tok = gguf_io.GgufFile(tokenizer_from)  # parsed once, copied into every base file
    return {p.stem: export_one(p, Path(out) / p.stem, tok) for p in paths}


def main(argv=None):
    """Command line: export the fixtures and list them."""
    ap = argparse.ArgumentParser(prog="python -m ahn_ref.golden_export", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output directory (one subdirectory per golden file)")
    ap.add_argument("--tokenizer-from", required=True, help="GGUF whose tokenizer.* metadata is copied")
    ap.add_argument(
        "--golden-dir", help=f"golden files (default: ${golden.GOLDEN_ENV} or tools/tests/golden)"
    )
    ap.add_argument("--only", default="*", help="glob on the file stem, e.g. 'layer_gdn_hd16_*'")
    args = ap.parse_args(argv)
    done = export_all(args.out, args.tokenizer_from, args.golden_dir, args.only)
    for stem, fx in done.items():
        flag = (
            ""
            if fx["llama_cpp_qwen2_shapes"]
            else "  (n_head*head_dim != n_embd: not loadable by stock qwen2)"
        )
        sys.stdout.write(
            f"{stem}: {fx['variant']} S={fx['sinks']} W={fx['window']} N={fx['n_tokens']} "
            f"D={fx['n_embd']} V={fx['n_vocab']}{flag}\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
