"""Properties of the layer that need no golden file, on random weights.

The comparisons use ``naive_layer``, a loop-per-query numpy re-derivation of a Qwen2 layer with
an explicit key list, written separately from ``ahn_ref`` (its own RMSNorm, RoPE pairing, GQA
indexing and softmax), so these tests do not check the reference against itself.
Tolerance 1e-12: both sides are float64 and differ only in summation order.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ahn_ref import cells, layer
from ahn_ref.attention import repeat_kv, window_mask
from ahn_ref.config import AhnConfig, LayerConfig
from ahn_ref.init import random_layer

TOL = 1e-12  # float64 on both sides
VISIBLE_GAP = 1e-3  # an AHN term that is really there moves outputs by far more than this


def make_cfg(variant, n_sink, n_window, n_head=4, n_head_kv=2, head_dim=8, n_embd=24):
    ahn = None if variant is None else AhnConfig(variant, n_head, head_dim, n_embd)
    return LayerConfig(n_embd, n_head, n_head_kv, head_dim, 40, n_sink, n_window, 1e-6, 1e4, ahn)


def naive_layer(cfg, p, h, visible):
    """Qwen2 layer without AHN; query t attends exactly the key positions ``visible(t)``."""
    p = {k: np.asarray(v, np.float64) for k, v in p.items()}
    h = np.asarray(h, np.float64)
    n, d, g = h.shape[0], cfg.head_dim, cfg.n_head // cfg.n_head_kv

    def rms(x, w):
        return x / np.sqrt((x**2).mean(-1, keepdims=True) + cfg.rms_eps) * w

    def rope(x):  # x [n, heads, d]; pairs (i, i + d/2) rotate by t * theta^(-2i/d)
        out = x.copy()
        for t in range(n):
            for i in range(d // 2):
                ang = t * cfg.rope_theta ** (-2.0 * i / d)
                c, s = np.cos(ang), np.sin(ang)
                a, b = x[t, :, i], x[t, :, i + d // 2]
                out[t, :, i], out[t, :, i + d // 2] = a * c - b * s, b * c + a * s
        return out

    x = rms(h, p["attn_norm.weight"])
    q = rope((x @ p["attn_q.weight"].T + p["attn_q.bias"]).reshape(n, cfg.n_head, d))
    k = rope((x @ p["attn_k.weight"].T + p["attn_k.bias"]).reshape(n, cfg.n_head_kv, d))
    v = (x @ p["attn_v.weight"].T + p["attn_v.bias"]).reshape(n, cfg.n_head_kv, d)
    o = np.zeros((n, cfg.n_head, d))
    for t in range(n):
        keys = list(visible(t))
        for hq in range(cfg.n_head):
            kv = hq // g
            s = np.array([q[t, hq] @ k[j, kv] for j in keys]) / np.sqrt(d)
            w = np.exp(s - s.max())
            o[t, hq] = (w / w.sum()) @ v[keys, kv]
    h1 = h + o.reshape(n, -1) @ p["attn_output.weight"].T
    x2 = rms(h1, p["ffn_norm.weight"])
    gate = x2 @ p["ffn_gate.weight"].T
    return h1 + (gate / (1 + np.exp(-gate)) * (x2 @ p["ffn_up.weight"].T)) @ p["ffn_down.weight"].T


def sinks_window(cfg):
    return lambda t: [j for j in range(t + 1) if j < cfg.n_sink or t - j < cfg.n_window]


def full_causal(t):
    return range(t + 1)


def inputs(seed, n, dim):
    return jnp.asarray(np.random.default_rng(seed).normal(0.0, 1.0, (n, dim)))


@pytest.mark.parametrize("variant", ["gdn", "dn", "mamba2"])
@pytest.mark.parametrize("n_sink,n_window", [(0, 3), (2, 5), (4, 1)])
def test_zero_o_proj_equals_sinks_window_attention(variant, n_sink, n_window, check):
    """With the AHN o_proj at zero (the training init), the layer is plain sinks + sliding window
    attention, in prefill and in decode; with a non-zero o_proj it is not (from t = S+W on)."""
    n = 16
    cfg = make_cfg(variant, n_sink, n_window)
    p = random_layer(np.random.default_rng(1), cfg, zero_out=True)
    h = inputs(2, n, cfg.n_embd)
    expected = naive_layer(cfg, p, h, sinks_window(cfg))
    check("zero_o.prefill", layer.prefill(cfg, p, h)[0], expected, TOL)
    check("zero_o.tokenwise", layer.run_chunks(cfg, p, h, [1] * n)[0], expected, TOL)
    plain = make_cfg(None, n_sink, n_window)
    check("no_ahn.prefill", layer.prefill(plain, p, h)[0], expected, TOL)

    p_live = {**p, "ahn_out.weight": random_layer(np.random.default_rng(3), cfg)["ahn_out.weight"]}
    live = np.asarray(layer.prefill(cfg, p_live, h)[0])
    first = n_sink + n_window
    check("live.rows<S+W", live[:first], expected[:first], TOL)
    assert np.all(np.max(np.abs(live[first:] - expected[first:]), axis=-1) > VISIBLE_GAP)


@pytest.mark.parametrize("variant", ["gdn", "dn", "mamba2"])
@pytest.mark.parametrize("n_sink,n_window", [(0, 12), (3, 9), (5, 20)])
def test_window_covering_sequence_equals_full_causal(variant, n_sink, n_window, check):
    """With S + W >= N nothing is evicted: the layer (with a live AHN) is full causal attention."""
    n = 12
    cfg = make_cfg(variant, n_sink, n_window)
    p = random_layer(np.random.default_rng(4), cfg)
    h = inputs(5, n, cfg.n_embd)
    expected = naive_layer(cfg, p, h, full_causal)
    out, cache, ex = layer.prefill(cfg, p, h)
    check("full.prefill", out, expected, TOL)
    check("full.tokenwise", layer.run_chunks(cfg, p, h, [1] * n)[0], expected, TOL)
    assert np.all(np.asarray(ex["ahn"]) == 0.0)
    assert np.all(np.asarray(cache.ahn_state) == 0.0)


@pytest.mark.parametrize(
    "variant,n_sink,n_window,n_head_kv",
    [
        ("gdn", 0, 1, 2),  # no sinks, the smallest window
        ("gdn", 2, 3, 1),  # G = 4 heads per kv head
        ("dn", 3, 4, 2),
        ("dn", 1, 6, 4),  # no GQA
        ("mamba2", 0, 5, 2),
        ("mamba2", 2, 3, 1),
    ],
)
def test_prefill_equals_any_decode_split(variant, n_sink, n_window, n_head_kv, check):
    """One prefill, token-by-token decode and random chunkings agree, output and state."""
    n = 20
    cfg = make_cfg(variant, n_sink, n_window, n_head_kv=n_head_kv)
    p = random_layer(np.random.default_rng(6), cfg)
    h = inputs(7, n, cfg.n_embd)
    out, cache, _ = layer.prefill(cfg, p, h)
    rng = np.random.default_rng(8)
    cuts = sorted(rng.choice(np.arange(1, n), size=4, replace=False))
    ragged = np.diff([0, *cuts, n]).tolist()
    for sizes in ([1] * n, ragged, [n_sink + n_window] + [1] * (n - n_sink - n_window)):
        got, got_cache = layer.run_chunks(cfg, p, h, sizes)
        check("split.out", got, out, TOL)
        check("split.state", got_cache.ahn_state, cache.ahn_state, TOL)
    # A live AHN state after N > S+W tokens: the test compares something non-trivial.
    assert np.max(np.abs(np.asarray(cache.ahn_state))) > VISIBLE_GAP


@pytest.mark.parametrize("variant", ["gdn", "dn", "mamba2"])
def test_ahn_pairs_evicted_token_with_query(variant, check):
    """Row t >= S+W writes token e = t - W (its k, v and gates) and reads with q_t, x̂_t: the
    layer's AHN term equals the cell fed with those explicitly sliced sequences."""
    n, s, w = 18, 2, 4
    cfg = make_cfg(variant, s, w)
    p = random_layer(np.random.default_rng(9), cfg)
    h = inputs(10, n, cfg.n_embd)
    _, cache, ex = layer.prefill(cfg, p, h)
    g = cfg.n_head // cfg.n_head_kv
    r = cells.forward(
        cfg.ahn,
        p,
        ex["xhat"][s : n - w],
        ex["xhat"][s + w :],
        ex["q"][s + w :],
        repeat_kv(ex["k"][s : n - w], g),
        repeat_kv(ex["v"][s : n - w], g),
    )
    check("pairing.out", ex["ahn"][s + w :], r["out"], TOL)
    check("pairing.state", cache.ahn_state, r["state"], TOL)


def test_repeat_kv_is_interleaved():
    """Head h uses kv head h // G (HF ``repeat_kv``), not h % H_kv."""
    k = jnp.arange(3 * 2 * 1, dtype=jnp.float64).reshape(3, 2, 1)
    got = np.asarray(repeat_kv(k, 3))[:, :, 0]
    assert got[0].tolist() == [0, 0, 0, 1, 1, 1]


def test_window_mask_sinks_and_window():
    """S=2, W=3: token 6 sees the sinks 0, 1 and the window 4, 5, 6; token 3 sees 0..3."""
    m = np.asarray(window_mask(np.arange(8), np.arange(8), 2, 3))
    assert np.flatnonzero(m[6]).tolist() == [0, 1, 4, 5, 6]
    assert np.flatnonzero(m[3]).tolist() == [0, 1, 2, 3]
    assert not np.asarray(window_mask([5], [-1], 2, 3)).any()  # empty cache slot


@pytest.mark.parametrize("variant", ["gdn", "dn", "mamba2"])
def test_gradients_reach_the_ahn(variant):
    """The forward is differentiable end to end. At the training init (o_proj = 0) only o_proj
    gets a gradient; with a live o_proj every AHN weight the variant reads does."""
    n = 12
    cfg = make_cfg(variant, 1, 3)
    base = random_layer(np.random.default_rng(11), cfg, zero_out=True)
    h = inputs(12, n, cfg.n_embd)
    names = [k for k in cells.AHN_WEIGHTS[variant]]

    def loss(ahn):
        out, _, _ = layer.prefill(cfg, {**base, **ahn}, h)
        return jnp.sum(out**2)

    grads = jax.grad(loss)({k: base[k] for k in names})
    assert np.max(np.abs(np.asarray(grads["ahn_out.weight"]))) > VISIBLE_GAP
    for k in names:
        if k != "ahn_out.weight":
            assert np.all(np.asarray(grads[k]) == 0.0), k

    live = {k: base[k] for k in names}
    live["ahn_out.weight"] = random_layer(np.random.default_rng(13), cfg)["ahn_out.weight"]
    grads = jax.grad(loss)(live)
    for k in names:
        gk = np.asarray(grads[k])
        assert np.all(np.isfinite(gk)) and np.max(np.abs(gk)) > 0.0, k
