"""Full-model forward, the GGUF loader and the weight-name mapping.

The GGUF round trip writes a tiny random model with ``gguf.GGUFWriter`` into ``tmp_path``,
reads it back with ``gguf_io.load`` and demands identical tensors and logits, so the loader's
layout conventions (PyTorch ``[out, in]``, transposed GroupLinear) are checked both ways.
"""

import gguf
import jax.numpy as jnp
import numpy as np
import pytest

from ahn_ref import cells, gguf_io, golden, layer, model, names
from ahn_ref.config import AhnConfig, LayerConfig, ModelConfig
from ahn_ref.init import random_model

TOL = 1e-12  # float64 on both sides, same arithmetic up to summation order


F32_EPS = float(np.float32(1e-6))  # GGUF stores the epsilons as float32
F32_AHN_EPS = float(np.float32(1e-5))


def tiny_model(variant, tied=False, n_sink=1, n_window=3):
    ahn = None if variant is None else AhnConfig(variant, 4, 8, 32, norm_eps=F32_AHN_EPS)
    lc = LayerConfig(32, 4, 2, 8, 48, n_sink, n_window, F32_EPS, 1e6, ahn)
    return ModelConfig(n_vocab=50, n_layer=2, layer=lc, tied_embeddings=tied)


def test_base_tensor_names_are_gguf_constants():
    """Our base layer and model tensor names are llama.cpp's qwen2 names (``gguf.constants``)."""
    qwen2 = {gguf.TENSOR_NAMES[t] for t in gguf.MODEL_TENSORS[gguf.MODEL_ARCH.QWEN2]}
    for name in layer.LAYER_WEIGHTS:
        stem = name.rsplit(".", 1)[0]
        assert f"blk.{{bid}}.{stem}" in qwen2, name
    for name in names.MODEL_OFFICIAL.values():
        assert name.rsplit(".", 1)[0] in qwen2, name


def test_official_names_map_to_reference_names():
    """A synthetic official checkpoint maps to GGUF names; the unused router is refused."""
    official = {
        "model.embed_tokens.weight": 1,
        "model.norm.weight": 2,
        "lm_head.weight": 3,
        "model.layers.0.self_attn.q_proj.bias": 4,
        "model.layers.11.ahn.fn.o_proj.weight": 5,
        "model.layers.3.ahn.fn.norm.weight": 6,
    }
    assert names.model_from_official(official) == {
        "token_embd.weight": 1,
        "output_norm.weight": 2,
        "output.weight": 3,
        "blk.0.attn_q.bias": 4,
        "blk.11.ahn_out.weight": 5,
        "blk.3.ahn_norm.weight": 6,
    }
    with pytest.raises(KeyError):
        names.model_from_official({"model.layers.0.ahn_router.alpha": 0})
    with pytest.raises(KeyError):
        names.layer_from_official({"self_attn.rotary.weight": 0})


@pytest.mark.parametrize("path", golden.files("cell") + golden.files("layer"), ids=lambda p: p.stem)
def test_golden_weights_cover_the_variant(path):
    """Every weight the variant reads is in every golden file, under our names (strict mapping)."""
    z = np.load(path)
    p = golden.weights(z)
    variant = golden.meta(z)["variant"]
    assert set(cells.AHN_WEIGHTS[variant]) <= set(p)
    if path.stem.startswith("layer_"):
        assert set(layer.LAYER_WEIGHTS) <= set(p)


@pytest.mark.parametrize(
    "variant,tied,layout",
    [
        (None, True, "base"),
        ("gdn", False, "block"),
        ("dn", True, "block"),
        ("mamba2", False, "block"),
        ("gdn", True, "merged"),
        ("mamba2", True, "merged"),
    ],
)
def test_gguf_round_trip(tmp_path, variant, tied, layout, check):
    """Write -> load gives the same config, the same tensors and the same logits.

    ``block``: base GGUF + separate AHN block (the engine's input); ``merged``: both in one file
    (what the engine caches).
    """
    cfg = tiny_model(variant, tied)
    glob, layers = random_model(np.random.default_rng(0), cfg)
    # GGUF stores float32: compare against the float32-rounded weights.
    glob = {k: jnp.asarray(np.asarray(v, np.float32), jnp.float64) for k, v in glob.items()}
    layers = [{k: jnp.asarray(np.asarray(v, np.float32), jnp.float64) for k, v in p.items()} for p in layers]
    path = tmp_path / "tiny.gguf"
    block = tmp_path / "tiny.ahn.gguf" if layout == "block" else None
    gguf_io.write(path, cfg, glob, layers, block=block)
    assert (block is not None and block.exists()) == (layout == "block")

    loaded = gguf_io.load(path, cfg.layer.n_sink, cfg.layer.n_window, block=block)
    assert loaded.cfg.layer == cfg.layer
    assert (loaded.cfg.n_vocab, loaded.cfg.n_layer, loaded.cfg.tied_embeddings) == (50, 2, tied)
    assert set(loaded.glob) == set(glob)
    for k in glob:
        check("gguf.tensor", loaded.glob[k], glob[k], 0.0)
    for ours, theirs in zip(layers, loaded.layers, strict=True):
        assert set(ours) == set(theirs)
        for k in ours:
            check("gguf.tensor", theirs[k], ours[k], 0.0)

    tokens = np.array([3, 17, 42, 0, 9, 9, 31, 8, 1, 49])
    want, _ = model.forward(cfg, glob, layers, tokens, model.empty_caches(cfg))
    got, _ = model.forward(loaded.cfg, loaded.glob, loaded.layers, tokens, model.empty_caches(loaded.cfg))
    check("gguf.logits", got, want, TOL)


@pytest.mark.parametrize("variant", ["gdn", "mamba2"])
def test_model_prefill_then_decode_equals_prefill(variant, check):
    """A prompt prefill followed by 1-token decode steps gives the one-shot logits."""
    cfg = tiny_model(variant)
    glob, layers = random_model(np.random.default_rng(1), cfg)
    tokens = np.random.default_rng(2).integers(0, cfg.n_vocab, 14)
    want, _ = model.forward(cfg, glob, layers, tokens, model.empty_caches(cfg))
    caches = model.empty_caches(cfg)
    got, caches = model.forward(cfg, glob, layers, tokens[:5], caches)
    rows = [got]
    for tok in tokens[5:]:
        step, caches = model.forward(cfg, glob, layers, tok[None], caches)
        rows.append(step)
    check("model.decode_vs_prefill", jnp.concatenate(rows), want, TOL)
    assert all(c.n_past == len(tokens) for c in caches)


def test_tied_embeddings_use_token_embd():
    """Without ``output.weight`` the LM head is the embedding matrix (Qwen2.5-0.5B/1.5B/3B)."""
    cfg = tiny_model(None, tied=True)
    glob, layers = random_model(np.random.default_rng(3), cfg)
    assert "output.weight" not in glob
    tokens = np.array([1, 2, 3])
    logits, _ = model.forward(cfg, glob, layers, tokens, model.empty_caches(cfg))
    untied = {**glob, "output.weight": glob["token_embd.weight"] * 2.0}
    cfg_untied = ModelConfig(cfg.n_vocab, cfg.n_layer, cfg.layer, tied_embeddings=False)
    logits2, _ = model.forward(cfg_untied, untied, layers, tokens, model.empty_caches(cfg))
    np.testing.assert_allclose(np.asarray(logits2), 2.0 * np.asarray(logits), rtol=1e-12, atol=1e-12)
