"""Command line: reference logits of a qwen2 GGUF, with or without an AHN block.

Logits of every position, for the engine's exactness tests (float64 forward, float32 file)::

    python -m ahn_ref.cli logits --model BASE.gguf [--block BLOCK.gguf] --sinks S --window W \\
        --tokens-file TOKENS.txt --out LOGITS.npy
    python -m ahn_ref.cli logits --model BASE.gguf --full --tokens-file TOKENS.txt --out LOGITS.npy

``TOKENS.txt`` holds whitespace-separated token ids; ``LOGITS.npy`` gets float32 ``[n_tokens,
n_vocab]``. The whole sequence is one prefill (``--decode N`` runs the last N tokens as 1-token
decode steps instead; the result is the same up to float64 rounding). ``--full`` is plain full
causal attention (no sinks, no window, no AHN). Without ``--sinks``/``--window`` the block's
defaults (``qwen2.ahn.{sinks,window}``) are used.

Top next tokens of a prompt (the original interface)::

    python -m ahn_ref.cli MODEL.gguf [--block BLOCK.gguf] --tokens 785,6722,315 --sinks 0 --window 4096

prints the top next tokens after the last position and, with ``--out``, saves all logits.
"""

import argparse
import logging
import sys
import time

import jax.numpy as jnp
import numpy as np

from . import gguf_io, model

log = logging.getLogger("ahn_ref")


def compute_logits(loaded, tokens, decode=0):
    """Logits ``[T, V]`` (numpy, the model's dtype) of ``tokens``: a prefill of all but the last
    ``decode`` tokens, then one 1-token decode step per remaining token."""
    tokens = np.asarray(tokens, np.int64)
    if len(tokens) == 0:
        raise ValueError("no tokens")
    bad = tokens[(tokens < 0) | (tokens >= loaded.cfg.n_vocab)]
    if len(bad):
        raise ValueError(f"token id {int(bad[0])} is outside the vocabulary (0..{loaded.cfg.n_vocab - 1})")
    if not 0 <= decode <= len(tokens):
        raise ValueError(f"--decode {decode} is not in 0..{len(tokens)}")
    dtype = loaded.glob["token_embd.weight"].dtype
    caches = model.empty_caches(loaded.cfg, dtype)
    split = len(tokens) - decode
    chunks = [tokens[:split]] + [tokens[i : i + 1] for i in range(split, len(tokens))]
    rows = []
    for chunk in chunks:
        if len(chunk):
            logits, caches = model.forward(loaded.cfg, loaded.glob, loaded.layers, chunk, caches)
            rows.append(np.asarray(logits))
    return np.concatenate(rows)


def window_settings(n_tokens, sinks, window, full):
    """``(S, W)`` for a run over ``n_tokens`` tokens, clamped to ``n_tokens``.

    Clamping is exact: with ``W >= n`` every earlier token is inside the window and nothing is
    ever evicted, and with ``S >= n`` every token is a sink; it only keeps the cache (S+W slots)
    small. ``full`` is S=0, W=n. ``None`` is passed through (the block's default is used).
    """
    if full:
        return 0, n_tokens
    clamp = lambda v: None if v is None else min(int(v), n_tokens)  # noqa: E731
    return clamp(sinks), clamp(window)


def load_for(model_path, block, tokens, sinks, window, full, dtype):
    """Load the model (and block) with S and W resolved for ``tokens``."""
    n = len(tokens)
    if full:
        if block is not None:
            raise ValueError("--full is stock full attention: it takes no --block")
        s, w = window_settings(n, None, None, True)
        return gguf_io.load(model_path, s, w, dtype)
    s, w = window_settings(n, sinks, window, False)
    if s is None or w is None:
        # Take the block's defaults, then clamp them as well.
        probe = gguf_io.read_block(block) if block is not None else None
        defaults = (probe.sinks, probe.window) if probe is not None else (None, None)
        s = s if s is not None else defaults[0]
        w = w if w is not None else defaults[1]
        if s is None or w is None:
            raise ValueError("give --sinks and --window (or --full), or a block that stores defaults")
        s, w = window_settings(n, s, w, False)
    return gguf_io.load(model_path, s, w, dtype, block=block)


def read_tokens(path):
    """Whitespace-separated token ids from a text file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return np.array([int(t) for t in text.split()], np.int64)
    except ValueError as err:
        raise ValueError(f"{path}: token ids must be whitespace-separated integers ({err})") from err


def main_logits(argv):
    """``logits`` subcommand: all logits of one sequence to a float32 ``.npy``."""
    ap = argparse.ArgumentParser(prog="python -m ahn_ref.cli logits", description=main_logits.__doc__)
    ap.add_argument("--model", required=True, help="base qwen2 GGUF (or a merged base + block file)")
    ap.add_argument("--block", help="AHN block GGUF (docs/ahn-gguf.md)")
    ap.add_argument("--sinks", type=int, help="S, attention sinks (default: the block's)")
    ap.add_argument(
        "--window", type=int, help="W, sliding window incl. the current token (default: the block's)"
    )
    ap.add_argument("--full", action="store_true", help="plain full causal attention (no window, no AHN)")
    ap.add_argument("--tokens-file", required=True, help="text file of whitespace-separated token ids")
    ap.add_argument("--out", required=True, help="output .npy: float32 [n_tokens, n_vocab]")
    ap.add_argument("--decode", type=int, default=0, help="run the last N tokens as 1-token decode steps")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="compute dtype")
    args = ap.parse_args(argv)
    if args.full and (args.sinks is not None or args.window is not None):
        ap.error("--full excludes --sinks and --window")

    started = time.time()
    tokens = read_tokens(args.tokens_file)
    if len(tokens) == 0:
        ap.error(f"{args.tokens_file} holds no token ids")
    dtype = jnp.float64 if args.dtype == "float64" else jnp.float32
    loaded = load_for(args.model, args.block, tokens, args.sinks, args.window, args.full, dtype)
    logits = compute_logits(loaded, tokens, args.decode)
    np.save(args.out, logits.astype(np.float32))
    lc = loaded.cfg.layer
    log.info(
        "%d tokens, vocab %d, S=%d W=%d, AHN %s: %s [%d, %d] float32 in %.1f s",
        len(tokens),
        loaded.cfg.n_vocab,
        lc.n_sink,
        lc.n_window,
        lc.ahn.variant if lc.ahn else "none",
        args.out,
        *logits.shape,
        time.time() - started,
    )
    return 0


def main_top(argv):
    """The original interface: top next tokens of a prompt given as comma-separated ids."""
    ap = argparse.ArgumentParser(prog="python -m ahn_ref.cli", description=main_top.__doc__)
    ap.add_argument("model", help="path of a qwen2 GGUF (base, or merged base + block)")
    ap.add_argument("--block", help="AHN block GGUF")
    ap.add_argument("--tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--sinks", type=int, default=128, help="S, attention sinks (default 128)")
    ap.add_argument("--window", type=int, default=32640, help="W, sliding window (default 32640)")
    ap.add_argument("--decode", type=int, default=0, help="run the last N tokens as decode steps")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--top", type=int, default=5, help="how many next-token candidates to print")
    ap.add_argument("--out", help="write all logits [T, V] to this .npy file")
    args = ap.parse_args(argv)

    tokens = np.array([int(t) for t in args.tokens.split(",")], np.int64)
    dtype = jnp.float32 if args.dtype == "float32" else jnp.float64
    started = time.time()
    m = load_for(args.model, args.block, tokens, args.sinks, args.window, False, dtype)
    log.info("loaded %d layers in %.1f s (AHN: %s)", m.cfg.n_layer, time.time() - started, m.cfg.layer.ahn)
    logits = compute_logits(m, tokens, args.decode)
    if args.out:
        np.save(args.out, logits)

    vocab = gguf_io.vocabulary(args.model)
    top = np.argsort(-logits[-1])[: args.top]
    for tok in top:
        label = vocab[int(tok)] if vocab is not None else ""
        sys.stdout.write(f"{tok}\t{logits[-1, tok]:.4f}\t{label}\n")
    return 0


def main(argv=None):
    """Dispatch: ``logits ...``, ``dequantize SRC DST`` or the original ``MODEL.gguf --tokens ...`` form."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if argv[:1] == ["logits"]:
        return main_logits(argv[1:])
    if argv[:1] == ["dequantize"]:
        ap = argparse.ArgumentParser(
            prog="python -m ahn_ref.cli dequantize", description=gguf_io.dequantize.__doc__.split("\n\n")[0]
        )
        ap.add_argument("src", help="GGUF to expand")
        ap.add_argument("dst", help="F32 GGUF to write")
        args = ap.parse_args(argv[1:])
        gguf_io.dequantize(args.src, args.dst)
        return 0
    return main_top(argv)


if __name__ == "__main__":
    sys.exit(main())
