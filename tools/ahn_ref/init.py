"""Weight initialisation: the AHN training init of ahn.md §5.1, and random base layers for tests.

Uses a numpy ``Generator`` so results are reproducible from one seed, and returns jnp arrays in
the reference's naming (``cells.AHN_WEIGHTS``, ``layer.LAYER_WEIGHTS``).
"""

import jax.numpy as jnp
import numpy as np

from .config import AhnConfig, LayerConfig, ModelConfig


def _linear(rng, n_out, n_in):
    """PyTorch ``nn.Linear`` default: U(-1/sqrt(in), 1/sqrt(in)), layout ``[out, in]``."""
    bound = 1.0 / np.sqrt(n_in)
    return rng.uniform(-bound, bound, (n_out, n_in))


def init_ahn(rng, cfg: AhnConfig, zero_out=True, dtype=jnp.float64):
    """AHN weights as training starts them (ahn.md §5.1).

    - GDN: ``A ~ U(0, 16)``, ``A_log = log A``; ``dt ~ logU(1e-3, 1e-1)`` floored at 1e-4 and
      ``dt_bias = softplus⁻¹(dt)``; ``D = 1`` (unused).
    - Mamba2: ``A_log = log(1..H)``, ``dt_bias = 1``.
    - Norm weights 1; projections ``nn.Linear``-style uniform.
    - ``ahn_out`` (GroupLinear o_proj) is zero, so the layer starts as plain sinks + window
      attention. ``zero_out=False`` draws it instead (tests need a visible AHN term).
    """
    h, d, dim = cfg.n_head, cfg.head_dim, cfg.n_embd
    p = {"ahn_gate.weight": _linear(rng, h, dim)}
    if cfg.variant in ("gdn", "dn"):
        p["ahn_beta.weight"] = _linear(rng, h, dim)
        p["ahn_norm.weight"] = np.ones(d)
    if cfg.variant == "gdn":
        p["ahn_alpha.weight"] = _linear(rng, h, dim)
        p["ahn_a_log"] = np.log(rng.uniform(0.0, 16.0, h) + 1e-12)
        dt = np.maximum(np.exp(rng.uniform(np.log(1e-3), np.log(1e-1), h)), 1e-4)
        p["ahn_dt_bias"] = dt + np.log(-np.expm1(-dt))  # softplus⁻¹(dt)
        p["ahn_d"] = np.ones(h)
    if cfg.variant == "mamba2":
        p["ahn_dt.weight"] = _linear(rng, h, dim)
        p["ahn_dt.bias"] = rng.uniform(-1.0, 1.0, h) / np.sqrt(dim)
        p["ahn_dt_bias"] = np.ones(h)
        p["ahn_a_log"] = np.log(np.arange(1, h + 1, dtype=np.float64))
        p["ahn_gate.bias"] = rng.uniform(-1.0, 1.0, h) / np.sqrt(dim)
        p["ahn_norm.weight"] = np.ones(h * d)
    if zero_out:
        p["ahn_out.weight"] = np.zeros((h, d, d))
    else:
        p["ahn_out.weight"] = rng.uniform(-1.0, 1.0, (h, d, d)) / np.sqrt(d)
    return {k: jnp.asarray(v, dtype) for k, v in p.items()}


def random_layer(rng, cfg: LayerConfig, zero_out=False, dtype=jnp.float64):
    """A random Qwen2 layer (plus its AHN when ``cfg.ahn`` is set) with O(1) activations."""
    dim, hd = cfg.n_embd, cfg.head_dim
    p = {
        "attn_norm.weight": rng.uniform(0.5, 1.5, dim),
        "attn_q.weight": _linear(rng, cfg.n_head * hd, dim) * 2.0,
        "attn_q.bias": rng.normal(0.0, 0.3, cfg.n_head * hd),
        "attn_k.weight": _linear(rng, cfg.n_head_kv * hd, dim) * 2.0,
        "attn_k.bias": rng.normal(0.0, 0.3, cfg.n_head_kv * hd),
        "attn_v.weight": _linear(rng, cfg.n_head_kv * hd, dim),
        "attn_v.bias": rng.normal(0.0, 0.3, cfg.n_head_kv * hd),
        "attn_output.weight": _linear(rng, dim, cfg.n_head * hd),
        "ffn_norm.weight": rng.uniform(0.5, 1.5, dim),
        "ffn_gate.weight": _linear(rng, cfg.n_ff, dim),
        "ffn_up.weight": _linear(rng, cfg.n_ff, dim),
        "ffn_down.weight": _linear(rng, dim, cfg.n_ff),
    }
    p = {k: jnp.asarray(v, dtype) for k, v in p.items()}
    if cfg.ahn is not None:
        p.update(init_ahn(rng, cfg.ahn, zero_out=zero_out, dtype=dtype))
    return p


def random_model(rng, cfg: ModelConfig, zero_out=False, dtype=jnp.float64):
    """A random model: ``(glob, layers)`` as ``model.forward`` takes them."""
    dim = cfg.layer.n_embd
    glob = {
        "token_embd.weight": jnp.asarray(rng.normal(0.0, 1.0, (cfg.n_vocab, dim)), dtype),
        "output_norm.weight": jnp.asarray(rng.uniform(0.5, 1.5, dim), dtype),
    }
    if not cfg.tied_embeddings:
        glob["output.weight"] = jnp.asarray(_linear(rng, cfg.n_vocab, dim), dtype)
    layers = [random_layer(rng, cfg.layer, zero_out, dtype) for _ in range(cfg.n_layer)]
    return glob, layers
