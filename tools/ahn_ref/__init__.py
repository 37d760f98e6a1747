"""Independent JAX reference forward of AHN (Artificial Hippocampus Networks) on Qwen2.

Written from the team's AHN design notes and ``tools/tests/golden/README.md``, not from the
official code. Everything is a pure function over dicts of weight arrays, so the same code can be
differentiated by a trainer later.

Modules, in data-flow order:

- ``config``: the static shapes and window/sink settings (frozen dataclasses).
- ``names``: official checkpoint names -> our llama.cpp-GGUF-style names.
- ``norms``: RMSNorm and the three L2-norm forms the official kernels use.
- ``cells``: the AHN cells (GDN, DN, Mamba2): write gates, one recurrent step, read-out, scan.
- ``rope``: NeoX rotary embeddings.
- ``attention``: sinks + sliding-window softmax attention with GQA.
- ``layer``: one Qwen2 decoder layer with AHN, chunked (prefill, decode, any split).
- ``model``: a full Qwen2 model (embeddings -> layers -> norm -> lm_head).
- ``gguf_io``: read/write qwen2 GGUFs and AHN blocks (docs/ahn-gguf.md) into those dicts.
- ``cli``: reference logits of a base GGUF + AHN block (the engine's exactness tests).
- ``convert``: official AHN checkpoint (safetensors) -> AHN block GGUF.
- ``golden_export``: golden layer files -> engine fixtures (base GGUF, block, expected output).

Importing the package enables JAX float64 (``jax_enable_x64``): the reference is meant to run in
float64 so that it is the precise side of every comparison.
"""

import jax

jax.config.update("jax_enable_x64", True)
