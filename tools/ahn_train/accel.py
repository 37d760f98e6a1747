"""Stage 2 shaped for one GPU: bfloat16 base, banded student attention, batches of sequences.

The float32 path (``fastmodel``) is exact and right for 2 CPU cores, but on a GPU it wastes most of
the chip: dense ``N×N`` float32 attention for teacher and student, float32 matrix products, the
teacher's hidden states pushed through the vocabulary inside every gradient step, one sequence per
step. Here, with the same maths (ahn.md §2.1, §5.1):

- **Frozen base weights in bfloat16** (matrices, embedding and head; biases and norms stay
  float32). Every product takes bfloat16 inputs and accumulates in float32
  (``preferred_element_type``); the residual stream, norms, RoPE, softmax and the whole AHN (its
  weights, gates, delta rule and read-out) are float32, as are the optimizer and its moments.
- **The student's attention is banded**: queries in blocks of ``block`` rows see the
  ``span`` keys before their block plus the block itself (the window, ``span >= W``) and the
  first ``max_sinks`` keys (the sinks), masked exactly as ``ahn_ref.attention.window_mask``
  with S and W still traced. Scores are ``[N, H, max_sinks + span + block]``: linear in N, never
  ``N×N``. GQA groups are never expanded.
- **The teacher runs once per sequence, outside the gradient**: full causal attention through
  ``jax.nn.dot_product_attention`` (cuDNN flash attention on an NVIDIA GPU, XLA elsewhere), and
  only its log-probabilities at the KL rows are kept.
- **A step is a batch** of ``batch`` sequences (vmapped), all with the step's (W, S).

Tested on CPU against the float32 path (``tools/tests/test_ahn_accel.py``).
"""

import jax
import jax.numpy as jnp

from ahn_ref.norms import rms_norm, silu
from ahn_ref.rope import apply_rope, rope_tables

from . import fastmodel as fm

COMPUTE = jnp.bfloat16
"""The dtype of the frozen weights and of every product's inputs."""

_MATRICES = (
    "attn_q.weight",
    "attn_k.weight",
    "attn_v.weight",
    "attn_output.weight",
    "ffn_gate.weight",
    "ffn_up.weight",
    "ffn_down.weight",
)


def mixed_weights(base: fm.Base, dtype=COMPUTE):
    """``Base.weights`` with the matrices, embedding and head in ``dtype`` (the rest float32)."""
    w = base.weights
    layers = {n: (a.astype(dtype) if n in _MATRICES else a) for n, a in w["layers"].items()}
    return {
        "embed": w["embed"].astype(dtype),
        "head": w["head"].astype(dtype),
        "out_norm": w["out_norm"],
        "layers": layers,
    }


def mm(x, w):
    """``x @ wᵀ`` with ``x`` cast to ``w``'s dtype, accumulated and returned in float32."""
    return jnp.einsum("...i,oi->...o", x.astype(w.dtype), w, preferred_element_type=jnp.float32)


def round_up(n, m):
    return -(-n // m) * m


def banded_attention(q, k, v, n_sink, n_window, block, span, max_sinks, dtype=COMPUTE):
    """Sinks + sliding-window attention (``ahn_ref.attention.attend``) in row blocks.

    ``q [N, H, d]``, ``k, v [N, H_kv, d]`` (q, k post-RoPE); ``n_sink <= max_sinks`` and
    ``n_window <= span`` may be traced; ``block``, ``span`` (a multiple of ``block``) and
    ``max_sinks`` are static. Returns ``[N, H*d]`` float32.

    Row block ``b`` (rows ``bB .. bB+B-1``) sees keys ``bB − span .. bB+B−1`` for its window and
    keys ``0 .. max_sinks−1`` for its sinks; key j is visible to row t iff ``j <= t`` and either
    ``j < S`` (counted in the sink part only) or ``t − j < W`` (window part, ``j >= S``).
    """
    n, h, d = q.shape
    h_kv = k.shape[1]
    rep = h // h_kv
    if span % block:
        raise ValueError(f"span {span} must be a multiple of block {block}")
    n_pad = round_up(n, block)
    nb = n_pad // block

    def pad(x, front):
        return jnp.pad(x, [(front, n_pad - n)] + [(0, 0)] * (x.ndim - 1))

    qb = pad(q, 0).reshape(nb, block, h_kv, rep, d).astype(dtype)
    # Keys/values padded by `span` in front: window keys of block b are rows b·B .. b·B+span+B−1.
    kp, vp = pad(k, span).astype(dtype), pad(v, span).astype(dtype)
    starts = jnp.arange(nb) * block
    gather = starts[:, None] + jnp.arange(span + block)[None, :]  # [nb, span+B] into kp
    kw, vw = kp[gather], vp[gather]  # [nb, span+B, H_kv, d]
    key_pos = gather - span  # absolute positions (negative: before the sequence)
    row_pos = starts[:, None] + jnp.arange(block)[None, :]  # [nb, B]

    scale = d**-0.5
    s_win = jnp.einsum("bigrd,bjgd->bgrij", qb, kw, preferred_element_type=jnp.float32) * scale
    rel = row_pos[:, :, None] - key_pos[:, None, :]  # t − j, [nb, B, span+B]
    vis_win = (key_pos[:, None, :] >= n_sink) & (rel >= 0) & (rel < n_window)

    n_s = min(max_sinks, n)
    ks, vs = k[:n_s].astype(dtype), v[:n_s].astype(dtype)
    s_sink = jnp.einsum("bigrd,jgd->bgrij", qb, ks, preferred_element_type=jnp.float32) * scale
    sink_pos = jnp.arange(n_s)
    vis_sink = (sink_pos[None, None, :] < n_sink) & (sink_pos[None, None, :] <= row_pos[:, :, None])

    scores = jnp.concatenate([s_sink, s_win], axis=-1)
    visible = jnp.concatenate([vis_sink, vis_win], axis=-1)[:, None, None]  # [nb, 1, 1, B, keys]
    scores = jnp.where(visible, scores, -jnp.inf)
    scores = scores - jax.lax.stop_gradient(jnp.max(scores, axis=-1, keepdims=True))
    weights = jnp.exp(scores)
    weights = (weights / jnp.sum(weights, axis=-1, keepdims=True)).astype(dtype)
    out = jnp.einsum("bgrij,jgd->bigrd", weights[..., :n_s], vs, preferred_element_type=jnp.float32)
    out = out + jnp.einsum("bgrij,bjgd->bigrd", weights[..., n_s:], vw, preferred_element_type=jnp.float32)
    return out.reshape(n_pad, h * d)[:n]


def causal_attention(q, k, v, dtype=COMPUTE):
    """Full causal attention (the teacher): ``jax.nn.dot_product_attention``, GQA as is."""
    n, h, d = q.shape
    out = jax.nn.dot_product_attention(
        q[None].astype(dtype), k[None].astype(dtype), v[None].astype(dtype), is_causal=True
    )
    return out[0].astype(jnp.float32).reshape(n, h * d)


def layer_forward(lc, acfg, p, ahn, h, attention, n_sink, n_window, chunk):
    """One layer on ``h [N, D]`` (float32): ``attention(q, k, v)`` plus the AHN when ``acfg`` is set."""
    n = h.shape[0]
    xhat = rms_norm(h, p["attn_norm.weight"], lc.rms_eps)
    q = (mm(xhat, p["attn_q.weight"]) + p["attn_q.bias"]).reshape(n, lc.n_head, lc.head_dim)
    k = (mm(xhat, p["attn_k.weight"]) + p["attn_k.bias"]).reshape(n, lc.n_head_kv, lc.head_dim)
    v = (mm(xhat, p["attn_v.weight"]) + p["attn_v.bias"]).reshape(n, lc.n_head_kv, lc.head_dim)
    cos, sin = rope_tables(jnp.arange(n), lc.head_dim, lc.rope_theta, jnp.float32)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    mixed = attention(q, k, v)
    if acfg is not None:
        mixed = mixed + fm.ahn_memory(acfg, lc, ahn, xhat, q, k, v, n_sink, n_window, chunk)
    h1 = h + mm(mixed, p["attn_output.weight"])
    x = rms_norm(h1, p["ffn_norm.weight"], lc.rms_eps)
    return h1 + mm(silu(mm(x, p["ffn_gate.weight"])) * mm(x, p["ffn_up.weight"]), p["ffn_down.weight"])


def student_hidden(cfg, w, acfg, ahn, tokens, n_sink, n_window, band, chunk=64, remat=True):
    """Final hidden states ``[N, D]`` of sinks + window + AHN; ``band = (block, span, max_sinks)``."""
    lc = cfg.layer
    block, span, max_sinks = band
    dtype = w["layers"]["attn_q.weight"].dtype  # attention products in the weights' precision

    def body(h, xs):
        p, a = xs

        def attention(q, k, v):
            return banded_attention(q, k, v, n_sink, n_window, block, span, max_sinks, dtype)

        return layer_forward(lc, acfg, p, a, h, attention, n_sink, n_window, chunk), None

    if remat:
        body = jax.checkpoint(body)
    h, _ = jax.lax.scan(body, w["embed"][tokens].astype(jnp.float32), (w["layers"], ahn))
    return h


def teacher_hidden(cfg, w, tokens):
    """Final hidden states ``[N, D]`` of the base model with full causal attention."""
    lc = cfg.layer
    dtype = w["layers"]["attn_q.weight"].dtype

    def body(h, p):
        attention = lambda q, k, v: causal_attention(q, k, v, dtype)  # noqa: E731
        return layer_forward(lc, None, p, None, h, attention, 0, 0, 0), None

    h, _ = jax.lax.scan(body, w["embed"][tokens].astype(jnp.float32), w["layers"])
    return h


def log_probs(cfg, w, h):
    """Log-softmax over the vocabulary (float32) of ``h [..., D]``."""
    x = rms_norm(h, w["out_norm"], cfg.layer.rms_eps)
    return jax.nn.log_softmax(mm(x, w["head"]), axis=-1)


def teacher_log_probs(cfg, w, tokens, idx):
    """The teacher's log-probabilities at rows ``idx [B, K]`` of ``tokens [B, N]``: ``[B, K, V]``."""

    def one(t, i):
        return log_probs(cfg, w, teacher_hidden(cfg, w, t)[i])

    return jax.vmap(one)(tokens, idx)


def kl_loss_fn(cfg, acfg, band, chunk):
    """Mean forward KL(teacher ‖ student) over the weighted rows of a batch."""

    def loss(ahn, w, tokens, t_logp, idx, weight, n_sink, n_window):
        def one(t, i):
            h = student_hidden(cfg, w, acfg, ahn, t, n_sink, n_window, band, chunk)
            return log_probs(cfg, w, h[i])

        s_logp = jax.vmap(one)(tokens, idx)
        return jnp.sum(weight * fm.kl_rows(t_logp, s_logp)) / jnp.sum(weight)

    return loss


def band_for(window_choices, sink_choices, block):
    """Static ``(block, span, max_sinks)`` covering every (W, S) a config can draw."""
    return block, round_up(max(window_choices), block), max(sink_choices)


def training_flops(cfg, n_tokens, n_kl, window):
    """Model FLOPs of one stage-2 sequence (for MFU): the frozen network's matrix products in the
    teacher forward, the student forward and its backward (activation gradients only, about one
    forward), attention as computed (teacher causal N²/2, student N·(W+S) per pass), and the head
    at the KL rows (teacher, student, backward). Rematerialisation is not counted (as usual)."""
    lc = cfg.layer
    d_q = lc.n_head * lc.head_dim
    d_kv = lc.n_head_kv * lc.head_dim
    per_token = 2 * (lc.n_embd * (d_q + 2 * d_kv) + d_q * lc.n_embd + 3 * lc.n_embd * lc.n_ff)
    dense = cfg.n_layer * per_token * n_tokens * 3
    attn_teacher = cfg.n_layer * 2 * 2 * d_q * n_tokens * n_tokens / 2
    attn_student = cfg.n_layer * 2 * 2 * d_q * n_tokens * window * 2
    head = 2 * lc.n_embd * cfg.n_vocab * n_kl * 3
    return dense + attn_teacher + attn_student + head


PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L40S": 362.0}
"""Dense bfloat16 tensor-core peaks (NVIDIA data sheets, SXM parts) for the MFU in the log."""


def peak_tflops():
    """The bfloat16 peak of the first device if known (an NVIDIA part above), else None."""
    kind = jax.devices()[0].device_kind
    return next((v for k, v in PEAK_TFLOPS.items() if k in kind), None)


def evaluate_kl(cfg, w, acfg, blocks, sequences, n_sink, n_window, band, chunk=64, rows_per_pass=512):
    """Mean per-token KL(teacher ‖ student) over the rows ``t >= S+W`` of held-out ``sequences``
    (each ``[N]``), for sinks + window alone (``"swa"``) and each of ``blocks`` (name → stacked
    AHN weights), all on the same sequences and teacher: ``{"kl": {name: ..}, "recovered": {name:
    share of the swa gap}, "per_sequence": [{name: ..}]}``. The vocabulary is visited
    ``rows_per_pass`` rows at a time, so a 16K-token sequence never holds ``N × V`` floats."""
    teacher = jax.jit(lambda w, t: teacher_hidden(cfg, w, t))
    swa = jax.jit(
        lambda w, t: student_hidden(cfg, w, None, None, t, n_sink, n_window, band, chunk, remat=False)
    )
    mem = jax.jit(
        lambda w, a, t: student_hidden(cfg, w, acfg, a, t, n_sink, n_window, band, chunk, remat=False)
    )

    @jax.jit
    def kl_sums(w, ht, hs, valid):
        """Summed KL of each student ``hs [M, R, D]`` against the teacher rows ``ht [R, D]``
        (the teacher's log-probabilities computed once for all of them)."""
        t_logp = log_probs(cfg, w, ht)
        kl = jax.vmap(lambda h: fm.kl_rows(t_logp, log_probs(cfg, w, h)))(hs)
        return jnp.sum(jnp.where(valid[None], kl, 0.0), axis=-1)

    per_sequence = []
    for seq in sequences:
        t = jnp.asarray(seq)
        n = t.shape[0]
        rows = jnp.arange(n_sink + n_window, n)
        pad = (-rows.shape[0]) % rows_per_pass
        rows_p = jnp.concatenate([rows, jnp.zeros(pad, rows.dtype)]).reshape(-1, rows_per_pass)
        valid = (jnp.arange(rows_p.size) < rows.shape[0]).reshape(rows_p.shape)
        ht = teacher(w, t)
        hidden = {"swa": swa(w, t)} | {name: mem(w, a, t) for name, a in blocks.items()}
        students = jnp.stack(list(hidden.values()))  # [M, N, D]
        totals = sum(kl_sums(w, ht[r], students[:, r], v) for r, v in zip(rows_p, valid, strict=True))
        per_sequence.append({name: float(x) / rows.shape[0] for name, x in zip(hidden, totals, strict=True)})
    mean = {name: sum(k[name] for k in per_sequence) / len(per_sequence) for name in per_sequence[0]}
    recovered = {name: (mean["swa"] - v) / mean["swa"] for name, v in mean.items() if name != "swa"}
    return {"kl": mean, "recovered": recovered, "per_sequence": per_sequence}
