"""A full Qwen2 model with AHN layers: embeddings -> N decoder layers -> RMSNorm -> LM head.

Weights come as a dict of model-level tensors (``token_embd.weight``, ``output_norm.weight``,
``output.weight``) plus one dict per layer with the names of ``layer.LAYER_WEIGHTS`` and
``cells.AHN_WEIGHTS`` (the GGUF names without the ``blk.{i}.`` prefix); ``names.split_layers``
builds that split from a flat GGUF-named dict.
"""

import jax.numpy as jnp

from . import layer
from .config import ModelConfig
from .norms import rms_norm


def empty_caches(cfg: ModelConfig, dtype=jnp.float64):
    """One empty ``layer.LayerCache`` per layer."""
    return [layer.LayerCache.empty(cfg.layer, dtype) for _ in range(cfg.n_layer)]


def lm_head(cfg: ModelConfig, glob):
    """The ``[V, D]`` output matrix: ``output.weight``, or ``token_embd.weight`` when tied."""
    if cfg.tied_embeddings or "output.weight" not in glob:
        return glob["token_embd.weight"]
    return glob["output.weight"]


def forward(cfg: ModelConfig, glob, layers, tokens, caches):
    """Logits ``[T, V]`` for a chunk of token ids ``tokens [T]``, continuing from ``caches``.

    Returns ``(logits, new_caches)``. Use ``empty_caches`` for a fresh sequence; a chunk of the
    whole prompt is a prefill, later chunks of one token are decode steps.
    """
    dtype = glob["token_embd.weight"].dtype
    h = jnp.asarray(glob["token_embd.weight"])[jnp.asarray(tokens)].astype(dtype)
    new_caches = []
    for p, cache in zip(layers, caches, strict=True):
        h, cache, _ = layer.forward(cfg.layer, p, h, cache)
        new_caches.append(cache)
    h = rms_norm(h, glob["output_norm.weight"], cfg.layer.rms_eps)
    # einsum contracts D of both operands directly; ``h @ W.T`` would first copy the transposed
    # [V, D] head on every eager call (~0.4 s per decode step at a 152k vocabulary).
    return jnp.einsum("td,vd->tv", h, lm_head(cfg, glob)), new_caches
