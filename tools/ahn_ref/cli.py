"""Command line: reference logits of a qwen2 GGUF (with or without AHN) for given token ids.

    python -m ahn_ref.cli MODEL.gguf --tokens 785,6722,315,9625,374 --sinks 0 --window 4096

prints the top next tokens for the last position and, with ``--out``, saves all logits
``[T, V]`` as ``.npy`` (for comparing the llama.cpp engine against the reference). ``--decode``
runs the last tokens as 1-token decode steps after a prefill of the rest.
"""

import argparse
import logging
import sys
import time

import gguf
import jax.numpy as jnp
import numpy as np

from . import gguf_io, model

log = logging.getLogger("ahn_ref")


def main(argv=None):
    """Parse arguments, load the model, run the forward, report and save."""
    ap = argparse.ArgumentParser(prog="python -m ahn_ref.cli", description=__doc__.splitlines()[0])
    ap.add_argument("model", help="path of a qwen2 GGUF")
    ap.add_argument("--tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--sinks", type=int, default=128, help="S, attention sinks (default 128)")
    ap.add_argument("--window", type=int, default=32640, help="W, sliding window (default 32640)")
    ap.add_argument("--decode", type=int, default=0, help="run the last N tokens as decode steps")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--top", type=int, default=5, help="how many next-token candidates to print")
    ap.add_argument("--out", help="write all logits [T, V] to this .npy file")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    tokens = np.array([int(t) for t in args.tokens.split(",")], np.int64)
    dtype = jnp.float32 if args.dtype == "float32" else jnp.float64
    started = time.time()
    m = gguf_io.load(args.model, args.sinks, args.window, dtype)
    log.info("loaded %d layers in %.1f s (AHN: %s)", m.cfg.n_layer, time.time() - started, m.cfg.layer.ahn)

    caches = model.empty_caches(m.cfg, dtype)
    split = len(tokens) - args.decode
    chunks = [tokens[:split]] + [tokens[i : i + 1] for i in range(split, len(tokens))]
    rows = []
    for chunk in chunks:
        if len(chunk):
            logits, caches = model.forward(m.cfg, m.glob, m.layers, chunk, caches)
            rows.append(np.asarray(logits))
    logits = np.concatenate(rows)
    if args.out:
        np.save(args.out, logits)

    vocab = gguf.GGUFReader(args.model).get_field("tokenizer.ggml.tokens")
    top = np.argsort(-logits[-1])[: args.top]
    for tok in top:
        label = vocab.contents(int(tok)) if vocab is not None else ""
        sys.stdout.write(f"{tok}\t{logits[-1, tok]:.4f}\t{label}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
