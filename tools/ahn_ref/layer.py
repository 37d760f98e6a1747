"""One Qwen2 decoder layer with sinks + sliding-window attention and an AHN (ahn.md §2.1, §2.5).

``forward`` processes a *chunk* of consecutive tokens against a carried ``LayerCache``. A one-shot
prefill is one chunk from an empty cache; token-by-token decode is chunks of one; any split gives
the same result (up to float rounding), which the tests check.

Per token t (absolute position, 0-based):

1. ``x̂_t = RMSNorm(h_t)``; q, k, v with bias; RoPE on q, k at position t; the write gates of t
   from x̂_t are computed now and cached beside its K/V (what an engine caches).
2. Attention over the sinks ``0..S-1`` and the window ``t-W+1..t``, before ``o_proj``.
3. If ``t >= S+W``, token ``e = t-W`` leaves the window: its post-RoPE k, its v (GQA-expanded)
   and its cached gates are written into the AHN state, then the state is read with ``q_t`` and
   the output gate of ``x̂_t``. The AHN output is added to the attention output.
4. ``h1 = h + (attn + ahn) @ o_projᵀ``; ``out = h1 + MLP(RMSNorm(h1))`` with a SiLU-gated MLP.

After a chunk the cache keeps only the sinks and the last W tokens, as the official
``trim_cache`` does; the AHN state carries everything older.
"""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import cells
from .attention import attend, repeat_kv
from .config import LayerConfig
from .norms import rms_norm, silu
from .rope import apply_rope, rope_tables

LAYER_WEIGHTS = (
    "attn_norm.weight",
    "attn_q.weight",
    "attn_q.bias",
    "attn_k.weight",
    "attn_k.bias",
    "attn_v.weight",
    "attn_v.bias",
    "attn_output.weight",
    "ffn_norm.weight",
    "ffn_gate.weight",
    "ffn_up.weight",
    "ffn_down.weight",
)
"""Base Qwen2 layer weights (PyTorch ``[out, in]`` layout); the AHN adds ``cells.AHN_WEIGHTS``."""


class LayerCache(NamedTuple):
    """What a layer carries between chunks: sinks + window K/V, their gates, the AHN state.

    The cache has a fixed capacity of ``M = S + W`` slots, like an engine's KV cells, so decode
    steps keep one shape (one ``jax.jit`` compilation). ``pos [M]`` holds the absolute position
    of each slot's token, ascending, with ``-1`` for empty slots (always at the end). ``k``/``v``
    are ``[M, H_kv, d]`` (k post-RoPE), ``gates`` maps each name of ``cells.GATE_NAMES`` to
    ``[M, H]``, ``ahn_state`` is ``[H, d, d]`` (None without AHN) and ``n_past`` counts the tokens
    seen so far (the next token's position).
    """

    pos: jnp.ndarray
    k: jnp.ndarray
    v: jnp.ndarray
    gates: dict
    ahn_state: jnp.ndarray | None
    n_past: int

    @staticmethod
    def empty(cfg: LayerConfig, dtype=jnp.float64):
        """A cache before the first token."""
        slots = cfg.n_sink + cfg.n_window
        kv = jnp.zeros((slots, cfg.n_head_kv, cfg.head_dim), dtype)
        gates, state = {}, None
        if cfg.ahn is not None:
            gates = {n: jnp.zeros((slots, cfg.n_head), dtype) for n in cells.GATE_NAMES[cfg.ahn.variant]}
            state = cells.zero_state(cfg.ahn, dtype)
        return LayerCache(jnp.full((slots,), -1, jnp.int64), kv, kv, gates, state, 0)


def project_qkv(cfg: LayerConfig, p, xhat, positions):
    """q ``[T, H, d]``, k, v ``[T, H_kv, d]`` from x̂: bias, then RoPE on q and k."""
    t = xhat.shape[0]
    q = (xhat @ p["attn_q.weight"].T + p["attn_q.bias"]).reshape(t, cfg.n_head, cfg.head_dim)
    k = (xhat @ p["attn_k.weight"].T + p["attn_k.bias"]).reshape(t, cfg.n_head_kv, cfg.head_dim)
    v = (xhat @ p["attn_v.weight"].T + p["attn_v.bias"]).reshape(t, cfg.n_head_kv, cfg.head_dim)
    cos, sin = rope_tables(positions, cfg.head_dim, cfg.rope_theta, xhat.dtype)
    return apply_rope(q, cos, sin), apply_rope(k, cos, sin), v


def finish(cfg: LayerConfig, p, h, mixed):
    """From the pre-``o_proj`` mix (attention + AHN) ``[T, H*d]`` to the layer output ``[T, D]``.

    ``h1 = h + mixed @ o_projᵀ`` (no bias), then ``h1 + down(silu(gate(x)) * up(x))`` with
    ``x = RMSNorm(h1)``.
    """
    h1 = h + mixed @ p["attn_output.weight"].T
    x = rms_norm(h1, p["ffn_norm.weight"], cfg.rms_eps)
    return h1 + (silu(x @ p["ffn_gate.weight"].T) * (x @ p["ffn_up.weight"].T)) @ p["ffn_down.weight"].T


def eviction_plan(cfg: LayerConfig, n_past, n_tokens, cached_pos):
    """Which rows of a chunk evict a token, and where the evicted tokens sit.

    For a chunk at positions ``n_past .. n_past+n_tokens-1`` whose keys are the cached tokens at
    ``cached_pos`` (``-1`` = empty slot) followed by the chunk itself, returns ``(first, idx)``:
    rows ``first..`` have ``t >= S+W`` and evict ``e = t-W``, found at index ``idx[i]`` of that
    key list. Plain numpy: the plan depends only on positions, never on values, so it stays
    outside ``jax.jit``.
    """
    all_pos = np.concatenate([np.asarray(cached_pos), np.arange(n_past, n_past + n_tokens)])
    first = int(min(n_tokens, max(0, cfg.n_sink + cfg.n_window - n_past)))
    evicted = np.arange(n_past + first, n_past + n_tokens) - cfg.n_window
    slot_of = {int(pos): i for i, pos in enumerate(all_pos) if pos >= 0}
    missing = [int(e) for e in evicted if int(e) not in slot_of]
    if missing:
        raise AssertionError(f"evicted tokens {missing} are missing from the cache")
    return first, np.array([slot_of[int(e)] for e in evicted], np.int64)


def ahn_rows(cfg: LayerConfig, p, state, q, xhat, keys, values, gates, idx):
    """AHN output for query rows ``q [R, H, d]`` / ``xhat [R, D]`` that evict keys ``idx [R]``.

    ``keys``, ``values`` ``[M, H_kv, d]`` and ``gates`` (``[M, H]`` each) hold every token the
    chunk can see; row r writes token ``idx[r]`` (GQA-expanded) into the state, then reads it.
    Returns ``(out [R, H*d], new_state)``.
    """
    n_rep = cfg.n_head // cfg.n_head_kv
    state, core = cells.scan(
        cfg.ahn,
        p,
        state,
        {n: g[idx] for n, g in gates.items()},
        repeat_kv(keys[idx], n_rep),
        repeat_kv(values[idx], n_rep),
        q,
    )
    _, out = cells.read_out(cfg.ahn, p, core, xhat)
    return out, state


@partial(jax.jit, static_argnames=("cfg", "first"))
def _forward_arrays(cfg: LayerConfig, first, p, h, positions, cache, idx):
    """The numeric part of ``forward`` (jitted; shapes and ``first`` fix one compilation)."""
    xhat = rms_norm(h, p["attn_norm.weight"], cfg.rms_eps)
    q, k, v = project_qkv(cfg, p, xhat, positions)
    all_pos = jnp.concatenate([cache.pos, positions])
    all_k = jnp.concatenate([cache.k, k])
    all_v = jnp.concatenate([cache.v, v])
    attn = attend(q, all_k, all_v, positions, all_pos, cfg.n_sink, cfg.n_window)

    ahn_out = jnp.zeros_like(attn)
    gates, all_gates, state = {}, {}, cache.ahn_state
    if cfg.ahn is not None:
        gates = cells.write_gates(cfg.ahn, p, xhat)
        all_gates = {n: jnp.concatenate([cache.gates[n], gates[n]]) for n in gates}
        if first < h.shape[0]:
            rows, state = ahn_rows(cfg, p, state, q[first:], xhat[first:], all_k, all_v, all_gates, idx)
            ahn_out = ahn_out.at[first:].set(rows)

    out = finish(cfg, p, h, attn + ahn_out)
    extras = {"xhat": xhat, "q": q, "k": k, "v": v, "attn": attn, "ahn": ahn_out, **gates}
    return out, (all_k, all_v, all_gates, state), extras


def forward(cfg: LayerConfig, p, h, cache: LayerCache):
    """Run the layer on a chunk ``h [T, D]`` (the tokens at positions ``cache.n_past ...``).

    Returns ``(out [T, D], new_cache, extras)``. ``extras`` holds the intermediates the golden
    layer files store: ``xhat``, ``q``, ``k``, ``v``, ``attn`` and ``ahn`` (``[T, H*d]``, zero on
    rows that evict nothing) and the chunk's gates.
    """
    n_tok = h.shape[0]
    positions = np.arange(cache.n_past, cache.n_past + n_tok)
    first, idx = eviction_plan(cfg, cache.n_past, n_tok, cache.pos)
    out, (all_k, all_v, all_gates, state), extras = _forward_arrays(
        cfg, first, p, h, jnp.asarray(positions), cache, jnp.asarray(idx)
    )

    # Trim back to the sinks and the last W tokens, into the same fixed number of slots.
    all_pos = np.concatenate([np.asarray(cache.pos), positions])
    n_end = cache.n_past + n_tok
    live = (all_pos >= 0) & ((all_pos < cfg.n_sink) | (all_pos >= n_end - cfg.n_window))
    keep = np.flatnonzero(live)
    slots = cache.pos.shape[0]
    take = np.concatenate([keep, np.zeros(slots - len(keep), np.int64)])
    new_pos = np.concatenate([all_pos[keep], np.full(slots - len(keep), -1)])
    new_cache = LayerCache(
        jnp.asarray(new_pos),
        all_k[take],
        all_v[take],
        {n: g[take] for n, g in all_gates.items()},
        state,
        n_end,
    )
    return out, new_cache, extras


def prefill(cfg: LayerConfig, p, h):
    """One-shot forward of a whole sequence from an empty cache; see ``forward``."""
    return forward(cfg, p, h, LayerCache.empty(cfg, h.dtype))


def run_chunks(cfg: LayerConfig, p, h, sizes):
    """Feed ``h [N, D]`` as consecutive chunks of the given ``sizes`` (summing to N).

    Returns ``(out [N, D], final_cache)``. ``sizes=[N]`` is a prefill, ``[1]*N`` is token-by-token
    decode, ``[P, 1, 1, ...]`` is a prefill of P followed by decode steps.
    """
    if sum(sizes) != h.shape[0]:
        raise ValueError("chunk sizes must add up to the sequence length")
    cache = LayerCache.empty(cfg, h.dtype)
    outs, start = [], 0
    for size in sizes:
        out, cache, _ = forward(cfg, p, h[start : start + size], cache)
        outs.append(out)
        start += size
    return jnp.concatenate(outs), cache
