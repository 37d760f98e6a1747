"""Static configuration of the reference: shapes, AHN variant, sinks and window.

Configs are frozen dataclasses so they can be passed to ``jax.jit`` as static arguments and
never change under a running forward.
"""

from dataclasses import dataclass

VARIANTS = ("gdn", "dn", "mamba2")
"""AHN cell variants: gated delta net (the priority), delta net, Mamba2."""

DEFAULT_L2 = {"gdn": "plus", "dn": "sqrt", "mamba2": "max"}
"""L2-norm form of q/k per variant, as the official code computes it (golden README §6.2).

GDN uses fla's fused-recurrent form ``x/(‖x‖+1e-6)`` (official decode and prefills of at most 64
evictions); its chunk path (longer prefills) uses ``x/sqrt(Σx²+1e-6)``. The two agree to ~1e-7
relative for real activations; pick ``"sqrt"`` in ``AhnConfig.l2`` to model the chunk path.
"""

DEFAULT_L2_EPS = {"plus": 1e-6, "sqrt": 1e-6, "max": 1e-12}


@dataclass(frozen=True)
class AhnConfig:
    """One AHN module: ``n_head`` heads of size ``head_dim`` reading ``n_embd``-wide x̂."""

    variant: str
    n_head: int
    head_dim: int
    n_embd: int
    norm_eps: float = 1e-5
    """Epsilon of the output RMS norm (GDN/DN ``o_norm``, Mamba2 gated ``norm``)."""
    l2: str = ""
    """L2-norm form for q/k: ``"plus"``, ``"sqrt"`` or ``"max"``; empty = the variant default."""
    official_fp32: bool = False
    """Round to float32 where the official code casts even in a float64 run (golden README §1):
    GDN ``exp(A_log)`` and the ``a_proj`` output, Mamba2 ``exp(A_log)``. Diagnostic only: with it a
    float64 run matches the golden ``*_f64`` cells to ~1e-14 instead of ~1e-7."""

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown AHN variant {self.variant!r}, expected one of {VARIANTS}")
        if self.l2 == "":
            object.__setattr__(self, "l2", DEFAULT_L2[self.variant])

    @property
    def l2_eps(self) -> float:
        """Epsilon that goes with ``l2``."""
        return DEFAULT_L2_EPS[self.l2]


@dataclass(frozen=True)
class LayerConfig:
    """One Qwen2 decoder layer with sinks + sliding-window attention and an AHN.

    ``n_sink`` is S and ``n_window`` is W of ahn.md §1: token t attends the sinks ``0..S-1`` and
    the W most recent tokens ``t-W+1..t`` (itself included). ``ahn=None`` gives the plain
    sinks + sliding-window layer (evicted tokens are simply dropped).
    """

    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    n_sink: int
    n_window: int
    rms_eps: float = 1e-6
    rope_theta: float = 1_000_000.0
    ahn: AhnConfig | None = None

    def __post_init__(self):
        if self.n_head % self.n_head_kv:
            raise ValueError("n_head must be a multiple of n_head_kv (GQA)")
        if self.n_window < 1 or self.n_sink < 0:
            raise ValueError("need n_window >= 1 and n_sink >= 0")
        if self.ahn is not None and (
            self.ahn.n_head != self.n_head
            or self.ahn.head_dim != self.head_dim
            or self.ahn.n_embd != self.n_embd
        ):
            raise ValueError("the AHN must use the attention's heads, head_dim and n_embd")


@dataclass(frozen=True)
class ModelConfig:
    """A Qwen2 model: ``n_layer`` identical layers plus embeddings, final norm and LM head."""

    n_vocab: int
    n_layer: int
    layer: LayerConfig
    tied_embeddings: bool = False
    """Qwen2.5-0.5B/1.5B/3B reuse ``token_embd`` as the LM head (no ``output.weight``)."""
