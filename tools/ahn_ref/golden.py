"""Read the official AHN golden vectors (``tools/tests/golden/*.npz``) into reference inputs.

Where the files come from and their layouts are described in ``tools/tests/golden/README.md``.
This module only turns a file into ``(config, weights, arrays)``; the comparisons live in
``tools/tests/``.
"""

import json
import os
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from .config import AhnConfig, LayerConfig
from .names import layer_from_official

GOLDEN_ENV = "SEAHORSE_GOLDEN_DIR"


def golden_dir() -> Path:
    """Where the golden files are: ``$SEAHORSE_GOLDEN_DIR`` if set, else ``tools/tests/golden``
    inside this repository. Nothing outside the repository is looked at by default.

    Raises ``FileNotFoundError`` rather than returning a path without files, so tests fail loudly.
    """
    if os.environ.get(GOLDEN_ENV):
        path = Path(os.environ[GOLDEN_ENV])
    else:
        path = Path(__file__).resolve().parents[1] / "tests" / "golden"
    if any(path.glob("*.npz")):
        return path
    raise FileNotFoundError(f"no golden *.npz in {path} (${GOLDEN_ENV} or tools/tests/golden)")


def meta(z):
    """The file's config, from its ``meta_json`` entry."""
    return json.loads(str(z["meta_json"]))


def weights(z, dtype=jnp.float64):
    """All weights of a golden file, renamed to reference names and cast to ``dtype``.

    The stored float32 values are exactly what the official float64 run used (README §1).
    """
    return {k: jnp.asarray(np.asarray(v), dtype) for k, v in layer_from_official(dict(z)).items()}


def array(z, key, dtype=jnp.float64):
    """One stored array cast to ``dtype``."""
    return jnp.asarray(np.asarray(z[key]), dtype)


def cell_config(z) -> AhnConfig:
    """``AhnConfig`` of a ``cell_*`` file."""
    m = meta(z)
    return AhnConfig(m["variant"], m["num_heads"], m["head_dim"], m["hidden_size"], m["norm_eps"])


def layer_config(z) -> LayerConfig:
    """``LayerConfig`` (with its AHN) of a ``layer_*`` file."""
    m = meta(z)
    if not m["attention_bias_qkv"] or m["hidden_act"] != "silu":
        raise ValueError("golden layer is not a Qwen2 layer (q/k/v bias, SiLU MLP)")
    return LayerConfig(
        n_embd=m["hidden_size"],
        n_head=m["num_attention_heads"],
        n_head_kv=m["num_key_value_heads"],
        head_dim=m["head_dim"],
        n_ff=m["intermediate_size"],
        n_sink=m["num_attn_sinks"],
        n_window=m["sliding_window"],
        rms_eps=m["rms_norm_eps"],
        rope_theta=m["rope_theta"],
        ahn=AhnConfig(m["variant"], m["num_attention_heads"], m["head_dim"], m["hidden_size"]),
    )


def files(kind):
    """Sorted golden files of one kind (``"cell"`` or ``"layer"``)."""
    return sorted(golden_dir().glob(f"{kind}_*.npz"))
