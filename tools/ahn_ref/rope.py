"""NeoX-style rotary position embedding (HF Qwen2 ``rotate_half``), absolute positions.

Keys are rotated once, at their own absolute position, and never re-rotated after they leave
the window (ahn.md §2.5): the AHN receives post-RoPE keys.
"""

import jax.numpy as jnp


def rope_tables(positions, head_dim, theta, dtype=jnp.float64):
    """``(cos, sin)`` tables ``[T, head_dim]`` for integer ``positions [T]``.

    ``inv_freq[i] = theta^(-2i/d)``; the angle table is duplicated (``cat(f, f)``), matching
    the rotate-half pairing of dimension i with i + d/2.
    """
    inv_freq = theta ** (-jnp.arange(0, head_dim, 2, dtype=dtype) / head_dim)
    angles = jnp.asarray(positions, dtype)[:, None] * inv_freq[None, :]
    angles = jnp.concatenate([angles, angles], axis=-1)
    return jnp.cos(angles), jnp.sin(angles)


def apply_rope(x, cos, sin):
    """Rotate ``x [T, heads, d]`` with tables ``[T, d]``: ``x·cos + rotate_half(x)·sin``."""
    half = x.shape[-1] // 2
    rotated = jnp.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos[:, None, :] + rotated * sin[:, None, :]
