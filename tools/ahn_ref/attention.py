"""Softmax attention over S sink tokens plus a window of the W most recent tokens, with GQA.

This is the "lossless memory" half of an AHN layer (ahn.md §2.1). Positions are absolute token
indices, so the same function serves a one-shot prefill and a decode step against a cache.
"""

import jax.numpy as jnp


def repeat_kv(x, n_rep):
    """Expand ``[T, H_kv, d]`` to ``[T, H_kv*n_rep, d]`` in HF ``repeat_kv`` order.

    Head h uses kv head ``h // n_rep`` (each kv head repeated in place, not tiled). The AHN
    uses the same expansion for the evicted keys and values.
    """
    return jnp.repeat(x, n_rep, axis=1)


def window_mask(q_pos, k_pos, n_sink, n_window):
    """Visibility ``[T, M]``: key j is seen by query t iff ``j <= t`` and (``t - j < W`` or ``j < S``).

    A negative key position marks an empty cache slot, which nobody sees.
    """
    q = jnp.asarray(q_pos)[:, None]
    k = jnp.asarray(k_pos)[None, :]
    return (k >= 0) & (k <= q) & ((q - k < n_window) | (k < n_sink))


def attend(q, k, v, q_pos, k_pos, n_sink, n_window):
    """Sinks + sliding-window attention, output before ``o_proj``.

    ``q [T, H, d]`` and ``k, v [M, H_kv, d]`` are post-bias (q, k also post-RoPE); ``q_pos [T]``
    and ``k_pos [M]`` are absolute positions. Scale ``1/sqrt(d)``. Returns ``[T, H*d]``
    head-major. Every query must see at least itself, so no row is fully masked.
    """
    t, h, d = q.shape
    n_rep = h // k.shape[1]
    k = repeat_kv(k, n_rep)
    v = repeat_kv(v, n_rep)
    scores = jnp.einsum("thd,mhd->htm", q, k) / jnp.sqrt(jnp.asarray(d, q.dtype))
    mask = window_mask(q_pos, k_pos, n_sink, n_window)
    scores = jnp.where(mask[None], scores, -jnp.inf)
    scores = scores - jnp.max(scores, axis=-1, keepdims=True)
    weights = jnp.exp(scores)
    weights = weights / jnp.sum(weights, axis=-1, keepdims=True)
    out = jnp.einsum("htm,mhd->thd", weights, v)
    return out.reshape(t, h * d)
