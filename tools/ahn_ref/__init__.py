"""Independent JAX reference forward of AHN (Artificial Hippocampus Networks) on Qwen2.

Written from ``shared/design/ahn.md`` §2 and ``shared/design/golden/README.md``, not from the
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
- ``gguf_io``: load a qwen2 GGUF (optionally with AHN tensors) into those dicts.

Importing the package enables JAX float64 (``jax_enable_x64``): the reference is meant to run in
float64 so that it is the precise side of every comparison.
"""

import jax

jax.config.update("jax_enable_x64", True)
