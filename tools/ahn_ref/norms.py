"""Normalisations used by Qwen2 and the AHN cells.

The official kernels use three slightly different L2 norms (golden README §6.2). They differ by
O(eps/‖x‖) relative, which is invisible for real activations but not for tiny vectors, so each
form is kept under its own name and each cell picks the one the official code uses.
"""

import jax.numpy as jnp


def rms_norm(x, weight, eps):
    """Qwen2 RMSNorm over the last axis: ``x / sqrt(mean(x²) + eps) * weight``."""
    return x / jnp.sqrt(jnp.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def l2_norm_sqrt(x, eps=1e-6):
    """``x / sqrt(Σx² + eps)``: fla ``l2norm_fwd`` (DN on every path, GDN chunk path)."""
    return x / jnp.sqrt(jnp.sum(x * x, axis=-1, keepdims=True) + eps)


def l2_norm_plus(x, eps=1e-6):
    """``x / (‖x‖ + eps)``: the in-kernel norm of fla's fused-recurrent gated delta rule (GDN)."""
    return x / (jnp.sqrt(jnp.sum(x * x, axis=-1, keepdims=True)) + eps)


def l2_norm_max(x, eps=1e-12):
    """``x / max(‖x‖, eps)``: ``torch.nn.functional.normalize`` (Mamba2) and ``ggml_l2_norm``."""
    return x / jnp.maximum(jnp.sqrt(jnp.sum(x * x, axis=-1, keepdims=True)), eps)


L2_NORMS = {"sqrt": l2_norm_sqrt, "plus": l2_norm_plus, "max": l2_norm_max}
"""Name -> function, so a config can say which L2 form a cell uses."""


def silu(x):
    """``x * sigmoid(x)``."""
    return x * (1.0 / (1.0 + jnp.exp(-x)))


def softplus(x):
    """``log(1 + exp(x))``, computed stably (no threshold, unlike torch's default of 20)."""
    return jnp.logaddexp(x, 0.0)


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    return 1.0 / (1.0 + jnp.exp(-x))
