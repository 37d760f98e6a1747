"""The three AHN cells of ahn.md §2.2-2.4: GDN (gated delta net), DN (delta net), Mamba2.

A cell step pairs one *evicted* token e with one *query* token t (in the model, e = t - W):

1. ``write_gates(x̂_e)``: the per-head write gates, computed from the evicted token's normed hidden
   state. In the model they are computed when the token enters the cache and stored beside its
   K/V, exactly what an engine caches (GDN: β and log-decay g; DN: β; Mamba2: dt_raw).
2. ``step(state, gates_e, k_e, v_e, q_t)``: write e into the recurrent state, then read it with q_t.
   Returns the new state and the "core" read-out (before norm and gate).
3. ``read_out(core, x̂_t)``: output RMS norm + per-head scalar gate from x̂_t, then the per-head
   ``o_proj`` (GroupLinear). The result is added to the attention output before the base o_proj.

Shapes: x̂ ``[D]``, q/k/v ``[H, d]`` (k, v already GQA-expanded to H heads), gates ``[H]``.
State layouts follow the golden files: GDN/DN ``S[h, key, value]`` (fla), Mamba2 ``Hs[h, p, n]``
with p the value (head-dim) index and n the state (key) index (mamba_ssm).

Weight names (``AHN_WEIGHTS``) are the AHN block's GGUF names (docs/ahn-gguf.md) without the
``blk.{i}.`` prefix; ``names.py`` maps the official ones.
"""

import jax
import jax.numpy as jnp

from .config import AhnConfig
from .norms import L2_NORMS, sigmoid, silu, softplus

AHN_WEIGHTS = {
    "gdn": (
        "ahn_beta.weight",  # [H, D]     β logits                      (official b_proj.weight)
        "ahn_alpha.weight",  # [H, D]    decay logits                  (a_proj.weight)
        "ahn_a_log",  # [H]              A_log                         (A_log)
        "ahn_dt_bias",  # [H]            added inside the softplus     (dt_bias)
        "ahn_gate.weight",  # [H, D]     output gate, one scalar/head  (g_proj.weight)
        "ahn_norm.weight",  # [d]        output RMS norm, shared heads (o_norm.weight)
        "ahn_out.weight",  # [H, d, d]   GroupLinear [head, in, out]   (o_proj.weight)
    ),
    "dn": ("ahn_beta.weight", "ahn_gate.weight", "ahn_norm.weight", "ahn_out.weight"),
    "mamba2": (
        "ahn_dt.weight",  # [H, D]       dt logits                     (dt_proj.weight)
        "ahn_dt.bias",  # [H]                                          (dt_proj.bias)
        "ahn_dt_bias",  # [H]            added before the softplus     (dt_bias)
        "ahn_a_log",  # [H]                                            (A_log)
        "ahn_gate.weight",  # [H, D]                                   (g_proj.weight)
        "ahn_gate.bias",  # [H]                                        (g_proj.bias)
        "ahn_norm.weight",  # [H*d]      one gated-RMS group over all heads (norm.weight)
        "ahn_out.weight",  # [H, d, d]                                 (o_proj.weight)
    ),
}
"""Weights each variant reads. GDN's unused ``D`` (``ahn_d``) may be present and is ignored."""

AHN_TENSORS = {
    "gdn": AHN_WEIGHTS["gdn"] + ("ahn_d",),  # [H] official D: never read, kept for the count
    "dn": AHN_WEIGHTS["dn"],
    "mamba2": AHN_WEIGHTS["mamba2"],
}
"""Every tensor an AHN layer stores (an AHN block, docs/ahn-gguf.md): ``AHN_WEIGHTS`` plus GDN's ``ahn_d``."""


def tensor_shapes(cfg: AhnConfig):
    """``{name: shape}`` of one layer's ``AHN_TENSORS`` in the reference (PyTorch) layout.

    Projections are ``[H, D]``, per-head vectors ``[H]``, the output norm ``[d]`` (GDN, DN) or
    ``[H*d]`` (Mamba2) and ``ahn_out.weight`` ``[H, d_in, d_out]``.
    """
    h, d, dim = cfg.n_head, cfg.head_dim, cfg.n_embd
    shapes = {}
    for name in AHN_TENSORS[cfg.variant]:
        if name.endswith(".weight") and name not in ("ahn_norm.weight", "ahn_out.weight"):
            shapes[name] = (h, dim)
        elif name == "ahn_norm.weight":
            shapes[name] = (h * d,) if cfg.variant == "mamba2" else (d,)
        elif name == "ahn_out.weight":
            shapes[name] = (h, d, d)
        else:
            shapes[name] = (h,)
    return shapes


def param_count(variant, n_layer, n_embd, n_head, head_dim):
    """AHN parameters of a whole model, by the formulas of ahn.md §6 (per layer, times ``n_layer``).

    GDN ``3·D·H + 3·H + d + H·d²``; DN ``2·D·H + d + H·d²``;
    Mamba2 ``2·(D·H + H) + 2·H + H·d + H·d²``.
    """
    dim, h, d = n_embd, n_head, head_dim
    per_layer = {
        "gdn": 3 * dim * h + 3 * h + d + h * d * d,
        "dn": 2 * dim * h + d + h * d * d,
        "mamba2": 2 * (dim * h + h) + 2 * h + h * d + h * d * d,
    }[variant]
    return n_layer * per_layer


GATE_NAMES = {"gdn": ("beta", "g"), "dn": ("beta",), "mamba2": ("dt_raw",)}
"""Per-token gate scalars (each ``[H]``) cached beside K/V, per variant (ahn.md §2.5)."""


def _official_round(cfg: AhnConfig, x):
    """``x`` rounded to float32 and back when ``cfg.official_fp32``, else ``x`` unchanged."""
    return x.astype(jnp.float32).astype(x.dtype) if cfg.official_fp32 else x


def decay_rate(cfg: AhnConfig, p):
    """``exp(A_log) [H]``, the positive decay rate (``A = -exp(A_log)``) of GDN and Mamba2."""
    return _official_round(cfg, jnp.exp(p["ahn_a_log"]))


def zero_state(cfg: AhnConfig, dtype=jnp.float64):
    """The initial recurrent state: zeros ``[H, d, d]`` (all three variants start empty)."""
    return jnp.zeros((cfg.n_head, cfg.head_dim, cfg.head_dim), dtype)


def write_gates(cfg: AhnConfig, p, x_e):
    """Write gates of a token from its normed hidden state ``x_e [..., D]``; dict of ``[..., H]``.

    - GDN: ``beta = sigmoid(b·x̂)`` and the log-decay ``g = -exp(A_log)·softplus(a·x̂ + dt_bias)``.
      (The official cache calls g "alpha"; the multiplicative decay is ``exp(g)``.)
    - DN: ``beta`` only.
    - Mamba2: ``dt_raw = dt·x̂ + dt.bias`` (before ``dt_bias`` and the softplus, as cached).
    """
    if cfg.variant == "mamba2":
        return {"dt_raw": x_e @ p["ahn_dt.weight"].T + p["ahn_dt.bias"]}
    gates = {"beta": sigmoid(x_e @ p["ahn_beta.weight"].T)}
    if cfg.variant == "gdn":
        a = _official_round(cfg, x_e @ p["ahn_alpha.weight"].T) + p["ahn_dt_bias"]
        gates["g"] = -decay_rate(cfg, p) * softplus(a)
    return gates


def step(cfg: AhnConfig, p, state, gates, k, v, q):
    """Write one evicted token (``gates``, ``k``, ``v``) into ``state``, then read it with ``q``.

    Returns ``(new_state, core)`` with ``core [H, d]`` the read-out before norm and gate:

    - GDN/DN: ``S ← α·S``; ``S ← S + k̄ (β (v − Sᵀk̄))ᵀ``; ``core = Sᵀ q̄ / sqrt(d)``, with
      ``α = exp(g)`` (1 for DN) and k̄, q̄ the L2-normed key and query.
    - Mamba2: ``Δ = softplus(dt_raw + dt_bias)``; ``Hs ← exp(Δ·A)·Hs + Δ·v Bᵀ``; ``core = Hs C``,
      with ``A = −exp(A_log)``, ``B = k/‖k‖``, ``C = q/‖q‖``, no 1/sqrt(d) and no D skip.
    """
    l2 = L2_NORMS[cfg.l2]
    k_n = l2(k, cfg.l2_eps)
    q_n = l2(q, cfg.l2_eps)
    if cfg.variant == "mamba2":
        delta = softplus(gates["dt_raw"] + p["ahn_dt_bias"])  # [H]
        decay = jnp.exp(-delta * decay_rate(cfg, p))  # exp(Δ·A), A = -exp(A_log)
        state = decay[:, None, None] * state + delta[:, None, None] * (v[:, :, None] * k_n[:, None, :])
        core = jnp.einsum("hpn,hn->hp", state, q_n)
        return state, core
    if cfg.variant == "gdn":
        state = jnp.exp(gates["g"])[:, None, None] * state
    recalled = jnp.einsum("hkv,hk->hv", state, k_n)  # Sᵀ k̄: what the state predicts for k̄
    update = gates["beta"][:, None] * (v - recalled)  # delta rule: write only the error
    state = state + k_n[:, :, None] * update[:, None, :]
    core = jnp.einsum("hkv,hk->hv", state, q_n) * (cfg.head_dim**-0.5)
    return state, core


def read_out(cfg: AhnConfig, p, core, x_t):
    """Output norm, gate and per-head ``o_proj`` of ``core [..., H, d]`` with gate input ``x_t [..., D]``.

    Returns ``(normed, out)``, both ``[..., H*d]`` head-major: ``normed`` is the GroupLinear input
    and ``out`` is what the layer adds to the attention output before the base ``o_proj``.

    - GDN/DN (``FusedRMSNormSwishGate``): per head, ``core / sqrt(mean_d(core²) + eps) ⊙ w_norm[d]
      ⊙ silu(z_h)`` with the scalar ``z_h = g_h·x̂_t`` (no bias). Norm first, then gate.
    - Mamba2 (``RMSNormGated``, ``norm_before_gate=False``, one group): ``u = core ⊙ silu(z_h)``
      with ``z_h = g_h·x̂_t + g.bias_h``, then one RMS norm over all ``H*d`` channels ⊙ ``w_norm``.
    """
    lead = core.shape[:-2]
    h, d = cfg.n_head, cfg.head_dim
    if cfg.variant == "mamba2":
        z = x_t @ p["ahn_gate.weight"].T + p["ahn_gate.bias"]
        u = (core * silu(z)[..., None]).reshape(*lead, h * d)
        u = u / jnp.sqrt(jnp.mean(u * u, axis=-1, keepdims=True) + cfg.norm_eps)
        normed = (u * p["ahn_norm.weight"]).reshape(*lead, h, d)
    else:
        z = x_t @ p["ahn_gate.weight"].T
        o = core / jnp.sqrt(jnp.mean(core * core, axis=-1, keepdims=True) + cfg.norm_eps)
        normed = o * p["ahn_norm.weight"] * silu(z)[..., None]
    out = jnp.einsum("...hi,hij->...hj", normed, p["ahn_out.weight"])
    return normed.reshape(*lead, h * d), out.reshape(*lead, h * d)


def scan(cfg: AhnConfig, p, state, gates, k, v, q):
    """Run ``step`` over T steps (``jax.lax.scan``); gates ``[T, H]``, k/v/q ``[T, H, d]``.

    Returns ``(final_state, core [T, H, d])``.
    """

    def body(s, xs):
        g, k_i, v_i, q_i = xs
        return step(cfg, p, s, g, k_i, v_i, q_i)

    return jax.lax.scan(body, state, (gates, k, v, q))


def forward(cfg: AhnConfig, p, x_e, x_t, q, k, v, state=None):
    """A whole cell over T paired steps, from raw inputs (the golden cell files' layout).

    ``x_e, x_t [T, D]`` are the evicted / query tokens' x̂, ``q, k, v [T, H, d]``. ``state``
    defaults to zeros. Returns a dict with ``out``, ``normed`` ``[T, H*d]``, ``core [T, H, d]``,
    ``state [H, d, d]`` and the gates (``beta``/``g``/``dt_raw``, each ``[T, H]``).
    """
    if state is None:
        state = zero_state(cfg, q.dtype)
    gates = write_gates(cfg, p, x_e)
    state, core = scan(cfg, p, state, gates, k, v, q)
    normed, out = read_out(cfg, p, core, x_t)
    return {"out": out, "normed": normed, "core": core, "state": state, **gates}
