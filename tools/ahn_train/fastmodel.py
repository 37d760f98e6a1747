"""The training forward: Qwen2 + AHN over a whole sequence, with S and W as *traced* values.

Built from ``ahn_ref``'s pure functions (``project_qkv``, ``attend``, ``finish``, ``cells.step``,
``cells.read_out``), so the maths is the reference's (ahn.md §2.1), but shaped for training:

- Layers are stacked (every weight gets a leading ``[L]`` axis) and run with ``lax.scan``, so the
  network compiles once per sequence length, whatever the number of layers. The frozen weights
  are a jit *argument* (``Base.weights``), never captured constants.
- S and W are traced integers: one compilation serves every random window of ahn.md §3.1.
  Attention uses the sinks + window mask; the AHN pairs every position ``t`` with ``e = t - W``
  and is active only where ``t >= S + W``. An inactive step leaves the state untouched (GDN/DN:
  β = 0 and log-decay 0; otherwise the old state is kept) and its read-out is zeroed, which equals
  the reference's eviction plan.
- GDN and DN run in the chunkwise-parallel form of the gated delta rule (``delta_rule_chunked``):
  per chunk of C steps a unit-lower-triangular solve and a few matmuls, and a scan over N/C chunk
  states. Mamba2 (and ``chunked=False``) runs ``cells.step`` in a rematerialised scan.
- Memory: each layer is rematerialised in the backward pass (``jax.checkpoint``).

Everything runs in float32 (the base weights are dequantized from the GGUF to float32).
"""

import jax
import jax.numpy as jnp
import numpy as np

from ahn_ref import cells, gguf_io
from ahn_ref.attention import attend, repeat_kv
from ahn_ref.config import AhnConfig, LayerConfig
from ahn_ref.layer import LAYER_WEIGHTS, finish, project_qkv
from ahn_ref.norms import L2_NORMS, rms_norm


class Base:
    """A frozen base model: ``cfg`` and ``weights`` = {embed, head, out_norm, layers (stacked)}."""

    def __init__(self, cfg, glob, layers):
        self.cfg = cfg
        embed = jnp.asarray(glob["token_embd.weight"], jnp.float32)
        head = glob.get("output.weight")
        self.weights = {
            "embed": embed,
            "head": embed if (cfg.tied_embeddings or head is None) else jnp.asarray(head, jnp.float32),
            "out_norm": jnp.asarray(glob["output_norm.weight"], jnp.float32),
            "layers": {n: jnp.stack([jnp.asarray(p[n], jnp.float32) for p in layers]) for n in LAYER_WEIGHTS},
        }

    @property
    def lc(self) -> LayerConfig:
        return self.cfg.layer

    def ahn_config(self, variant) -> AhnConfig:
        lc = self.lc
        return AhnConfig(variant=variant, n_head=lc.n_head, head_dim=lc.head_dim, n_embd=lc.n_embd)

    @classmethod
    def load(cls, path):
        """Read a qwen2 base GGUF, dequantizing every tensor to float32."""
        m = gguf_io.load(path, n_sink=0, n_window=1, dtype=jnp.float32)
        return cls(m.cfg, m.glob, m.layers)


def stack(layers):
    """``[{name: array}] * L`` -> ``{name: [L, ...]}`` (float32)."""
    return {n: jnp.stack([jnp.asarray(p[n], jnp.float32) for p in layers]) for n in layers[0]}


def unstack(stacked):
    """``{name: [L, ...]}`` -> ``[{name: numpy array}] * L``."""
    arrays = {n: np.asarray(a) for n, a in stacked.items()}
    n_layer = next(iter(arrays.values())).shape[0]
    return [{n: a[i] for n, a in arrays.items()} for i in range(n_layer)]


def _chunks(a, chunk):
    """``[N, ...]`` -> ``[N/C, C, ...]``, zero-padded at the end."""
    pad = (-a.shape[0]) % chunk
    if pad:
        a = jnp.concatenate([a, jnp.zeros((pad,) + a.shape[1:], a.dtype)])
    return a.reshape((a.shape[0] // chunk, chunk) + a.shape[1:])


def unit_lower_inverse(a, size):
    """``(I + A)⁻¹`` for strictly lower-triangular ``A [..., size, size]``, by doubling blocks.

    With ``L = I + A`` split as ``[[L11, 0], [L21, L22]]``, ``L⁻¹ = [[L11⁻¹, 0], [−L22⁻¹ L21 L11⁻¹,
    L22⁻¹]]``. Starting from the 1×1 diagonal blocks (ones), each level inverts all diagonal blocks
    of twice the size with two batched matmuls, so every intermediate is a block of the true
    inverse: no cancellation. (A power series ``Σ(−A)^k`` overflows and cancels in float32 on real
    keys, which are strongly correlated; XLA's CPU ``triangular_solve`` takes ~10 ms per 64×64
    matrix here, about 100× slower than these matmuls.)
    """
    n = 1
    while n < size:
        n *= 2
    if n != size:  # pad to a power of two with an identity block (exact: no coupling)
        pad = [(0, 0)] * (a.ndim - 2) + [(0, n - size), (0, n - size)]
        return unit_lower_inverse(jnp.pad(a, pad), n)[..., :size, :size]
    lead = a.shape[:-2]
    blocks = jnp.ones(lead + (n, 1, 1), a.dtype)  # inverses of the diagonal blocks of size b
    b = 1
    while b < n:
        m = n // (2 * b)
        lr = a.reshape(lead + (m, 2, b, m, 2, b))[..., :, 1, :, :, 0, :]  # [.., m, b, m, b]
        l21 = jnp.moveaxis(jnp.diagonal(lr, axis1=-4, axis2=-2), -1, -3)  # [.., m, b, b]
        pairs = blocks.reshape(lead + (m, 2, b, b))
        inv11, inv22 = pairs[..., 0, :, :], pairs[..., 1, :, :]
        c = -(inv22 @ l21 @ inv11)
        top = jnp.concatenate([inv11, jnp.zeros_like(inv11)], axis=-1)
        bottom = jnp.concatenate([c, inv22], axis=-1)
        blocks = jnp.concatenate([top, bottom], axis=-2)  # [.., m, 2b, 2b]
        b *= 2
    return blocks[..., 0, :, :]


def delta_rule_chunked(k, v, q, beta, g, scale, chunk):
    """The gated delta rule over a sequence, chunkwise; zero initial state.

    ``S_t = e^{g_t}(I − β_t k_t k_tᵀ) S_{t−1} + β_t k_t v_tᵀ`` and ``o_t = S_tᵀ q_t · scale``.

    ``k, q`` L2-normed ``[N, H, d]``, ``v [N, H, d]``, ``beta, g [N, H]``;
    Returns ``o [N, H, d]``. Chunkwise form: within a chunk, with γ the cumulative log-decay,
    ``u = (I + A)⁻¹ (β v − β e^{γ} K S₀)`` where ``A_ij = β_i e^{γ_i − γ_j} k_i·k_j`` (j < i);
    ``o = e^{γ} Q S₀ + (QKᵀ ⊙ e^{γ_i − γ_j})_{j<=i} u``; ``S₁ = e^{γ_C} S₀ + (e^{γ_C − γ_j} k_j)ᵀ u``.
    """
    n = k.shape[0]
    # [NC, H, C, ...]: heads before the chunk axis, so each chunk is a batch of per-head matrices.
    kc, vc, qc = (jnp.moveaxis(_chunks(x, chunk), 2, 1) for x in (k, v, q))
    bc, gc = (jnp.moveaxis(_chunks(x, chunk), 2, 1) for x in (beta, g))
    gam = jnp.cumsum(gc, axis=-1)  # [NC, H, C]
    diff = gam[..., :, None] - gam[..., None, :]  # γ_i − γ_j
    idx = jnp.arange(chunk)
    strict = idx[:, None] > idx[None, :]
    incl = idx[:, None] >= idx[None, :]
    decay_strict = jnp.exp(jnp.where(strict, diff, -jnp.inf))
    decay_incl = jnp.exp(jnp.where(incl, diff, -jnp.inf))
    kk = jnp.einsum("bhid,bhjd->bhij", kc, kc)
    a = bc[..., :, None] * kk * decay_strict
    t_inv = unit_lower_inverse(a, chunk)
    w_ = t_inv @ (bc[..., None] * jnp.exp(gam)[..., None] * kc)
    u_ = t_inv @ (bc[..., None] * vc)
    qk = jnp.einsum("bhid,bhjd->bhij", qc, kc) * decay_incl
    q_dec = qc * jnp.exp(gam)[..., None]
    k_dec = kc * jnp.exp(gam[..., -1:] - gam)[..., None]
    last = jnp.exp(gam[..., -1])  # [NC, H]

    def body(s, xs):
        w_i, u_i, qk_i, qd_i, kd_i, last_i = xs
        u_new = u_i - jnp.einsum("hck,hkv->hcv", w_i, s)
        o = jnp.einsum("hck,hkv->hcv", qd_i, s) + jnp.einsum("hij,hjv->hiv", qk_i, u_new)
        s = last_i[:, None, None] * s + jnp.einsum("hck,hcv->hkv", kd_i, u_new)
        return s, o

    h, d = k.shape[1], k.shape[2]
    s0 = jnp.zeros((h, d, v.shape[-1]), k.dtype)
    _, o = jax.lax.scan(body, s0, (w_, u_, qk, q_dec, k_dec, last))
    o = jnp.moveaxis(o, 1, 2).reshape((-1, h, v.shape[-1]))[:n]
    return o * scale


def ahn_memory(acfg: AhnConfig, lc: LayerConfig, p, xhat, q, k, v, n_sink, n_window, chunk, chunked=True):
    """AHN output ``[N, H*d]`` of one layer for a whole sequence (zero on rows ``t < S+W``).

    ``q [N, H, d]``, ``k, v [N, H_kv, d]`` are post-RoPE (k, q) as attention uses them; row t
    writes token ``t - W`` (its k, v and the write gates of its x̂), then reads with ``q_t``.
    """
    n = q.shape[0]
    t = jnp.arange(n)
    active = t >= n_sink + n_window
    e = jnp.clip(t - n_window, 0, n - 1)
    n_rep = lc.n_head // lc.n_head_kv
    gates = {g: a[e] for g, a in cells.write_gates(acfg, p, xhat).items()}
    k_e, v_e = repeat_kv(k[e], n_rep), repeat_kv(v[e], n_rep)

    if chunked and acfg.variant in ("gdn", "dn"):
        l2 = L2_NORMS[acfg.l2]
        act = active[:, None]
        beta = jnp.where(act, gates["beta"], 0.0)
        g = jnp.where(act, gates["g"], 0.0) if acfg.variant == "gdn" else jnp.zeros_like(beta)
        core = delta_rule_chunked(
            l2(k_e, acfg.l2_eps), v_e, l2(q, acfg.l2_eps), beta, g, acfg.head_dim**-0.5, chunk
        )
    else:
        gated = {g: _chunks(a, chunk) for g, a in gates.items()}
        xs = (gated, *(_chunks(x, chunk) for x in (k_e, v_e, q, active)))

        def step(state, x):
            g, k_i, v_i, q_i, act = x
            new_state, core = cells.step(acfg, p, state, g, k_i, v_i, q_i)
            return jnp.where(act, new_state, state), jnp.where(act, core, 0.0)

        @jax.checkpoint
        def inner(state, xc):
            return jax.lax.scan(step, state, xc)

        _, core = jax.lax.scan(inner, cells.zero_state(acfg, q.dtype), xs)
        core = core.reshape((-1,) + core.shape[2:])[:n]
    _, out = cells.read_out(acfg, p, core, xhat)
    return jnp.where(active[:, None], out, 0.0)


def layer_forward(lc, acfg, p, h, n_sink, n_window, chunk, extras=False):
    """One layer on a whole sequence ``h [N, D]``; AHN when ``acfg`` is set (``p`` holds its weights)."""
    positions = jnp.arange(h.shape[0])
    xhat = rms_norm(h, p["attn_norm.weight"], lc.rms_eps)
    q, k, v = project_qkv(lc, p, xhat, positions)
    attn = attend(q, k, v, positions, positions, n_sink, n_window)
    mixed = attn
    if acfg is not None:
        mixed = attn + ahn_memory(acfg, lc, p, xhat, q, k, v, n_sink, n_window, chunk)
    out = finish(lc, p, h, mixed)
    if extras:
        return out, {"xhat": xhat, "q": q, "k": k, "v": v, "attn": attn}
    return out


def hidden(cfg, w, acfg, ahn, tokens, n_sink, n_window, chunk=64, remat=True):
    """Final hidden states ``[N, D]`` (before the output norm) of the student, or of the teacher.

    ``w`` = ``Base.weights``; ``ahn`` = stacked AHN weights or None (plain sinks + window; with
    ``n_window >= N`` that is full causal attention, the teacher).
    """
    lc = cfg.layer

    def body(h, p):
        return layer_forward(lc, acfg, p, h, n_sink, n_window, chunk), None

    if remat:
        body = jax.checkpoint(body)
    params = dict(w["layers"])
    if ahn is not None:
        params.update(ahn)
    h, _ = jax.lax.scan(body, w["embed"][tokens], params)
    return h


def log_probs(cfg, w, h):
    """Log-softmax over the vocabulary of ``h [K, D]`` (final norm + LM head)."""
    x = rms_norm(h, w["out_norm"], cfg.layer.rms_eps)
    return jax.nn.log_softmax(jnp.einsum("kd,vd->kv", x, w["head"]), axis=-1)


def kl_rows(teacher_logp, student_logp):
    """Per-row forward KL(teacher ‖ student) over the vocabulary."""
    return jnp.sum(jnp.exp(teacher_logp) * (teacher_logp - student_logp), axis=-1)


def teacher_layers(cfg, w, tokens):
    """Teacher (full attention) pass keeping what layer-wise matching needs, stacked ``[L, ...]``.

    Returns ``(final_hidden [N, D], {xhat, q, k, v, attn})`` with q, k post-RoPE and ``attn`` the
    full-attention output before ``o_proj``.
    """
    n = tokens.shape[0]

    def body(h, p):
        return layer_forward(cfg.layer, None, p, h, 0, n, 64, extras=True)

    return jax.lax.scan(body, w["embed"][tokens], w["layers"])
