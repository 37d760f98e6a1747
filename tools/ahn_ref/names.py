"""Weight names: official AHN / HF Qwen2 checkpoint names -> the reference's names.

The reference uses llama.cpp GGUF tensor names without the ``blk.{i}.`` prefix inside a layer
dict (``attn_q.weight``), so a GGUF loader only strips the prefix. Layouts stay as in PyTorch
(``nn.Linear`` is ``[out, in]``, GroupLinear ``o_proj`` is ``[H, in, out]``), which is also the
numpy shape ``gguf`` reports for a tensor written from that PyTorch array; the one exception on
disk is ``ahn_out.weight`` (``gguf_io``).

The AHN names are those of the AHN block format, ``docs/ahn-gguf.md`` (what the llama.cpp
patches read):

| official (layer-local; checkpoint prefix ``model.layers.{i}.``) | reference / GGUF ``blk.{i}.`` |
|---|---|
| ``input_layernorm.weight``            | ``attn_norm.weight`` |
| ``self_attn.{q,k,v}_proj.{weight,bias}`` | ``attn_{q,k,v}.{weight,bias}`` |
| ``self_attn.o_proj.weight``           | ``attn_output.weight`` |
| ``post_attention_layernorm.weight``   | ``ffn_norm.weight`` |
| ``mlp.{gate,up,down}_proj.weight``    | ``ffn_{gate,up,down}.weight`` |
| ``ahn.fn.b_proj.weight``  (GDN, DN)   | ``ahn_beta.weight`` |
| ``ahn.fn.a_proj.weight``  (GDN)       | ``ahn_alpha.weight`` |
| ``ahn.fn.A_log``          (GDN, M2)   | ``ahn_a_log`` |
| ``ahn.fn.dt_bias``        (GDN, M2)   | ``ahn_dt_bias`` |
| ``ahn.fn.D``              (GDN, unused) | ``ahn_d`` |
| ``ahn.fn.g_proj.{weight,bias}``       | ``ahn_gate.{weight,bias}`` (bias: Mamba2 only) |
| ``ahn.fn.o_norm.weight``  (GDN, DN)   | ``ahn_norm.weight`` ``[d]`` |
| ``ahn.fn.norm.weight``    (Mamba2)    | ``ahn_norm.weight`` ``[H*d]`` |
| ``ahn.fn.dt_proj.{weight,bias}`` (M2) | ``ahn_dt.{weight,bias}`` |
| ``ahn.fn.o_proj.weight``              | ``ahn_out.weight`` ``[H, d_in, d_out]`` |

``AHN_OFFICIAL_BY_VARIANT`` is the same table split per cell, exactly the tensors an official
checkpoint of that cell holds (ahn.md §4); the converter demands that set, nothing more or less.

Model level: ``model.embed_tokens.weight`` -> ``token_embd.weight``, ``model.norm.weight`` ->
``output_norm.weight``, ``lm_head.weight`` -> ``output.weight`` (absent when tied).
"""

import re

AHN_OFFICIAL = {
    "b_proj.weight": "ahn_beta.weight",
    "a_proj.weight": "ahn_alpha.weight",
    "A_log": "ahn_a_log",
    "dt_bias": "ahn_dt_bias",
    "D": "ahn_d",
    "g_proj.weight": "ahn_gate.weight",
    "g_proj.bias": "ahn_gate.bias",
    "o_norm.weight": "ahn_norm.weight",
    "norm.weight": "ahn_norm.weight",
    "dt_proj.weight": "ahn_dt.weight",
    "dt_proj.bias": "ahn_dt.bias",
    "o_proj.weight": "ahn_out.weight",
}
"""Official ``ahn.fn.<name>`` -> reference name (all variants together)."""

AHN_OFFICIAL_BY_VARIANT = {
    "gdn": {
        k: AHN_OFFICIAL[k]
        for k in ("b_proj.weight", "a_proj.weight", "A_log", "dt_bias", "D", "g_proj.weight")
        + ("o_norm.weight", "o_proj.weight")
    },
    "dn": {k: AHN_OFFICIAL[k] for k in ("b_proj.weight", "g_proj.weight", "o_norm.weight", "o_proj.weight")},
    "mamba2": {
        k: AHN_OFFICIAL[k]
        for k in ("dt_proj.weight", "dt_proj.bias", "dt_bias", "A_log", "g_proj.weight", "g_proj.bias")
        + ("norm.weight", "o_proj.weight")
    },
}
"""Per variant, every official ``ahn.fn.<name>`` of a checkpoint -> reference name."""

OFFICIAL_VARIANTS = {"GatedDeltaNet": "gdn", "DeltaNet": "dn", "Mamba2": "mamba2"}
"""``config.json`` ``_ahn_implementation`` -> our variant name."""

LAYER_OFFICIAL = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    **{"ahn.fn." + k: v for k, v in AHN_OFFICIAL.items()},
}
"""Official layer-local name -> reference name."""

MODEL_OFFICIAL = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
"""Official model-level name -> GGUF name."""

_LAYER_RE = re.compile(r"^model\.layers\.(\d+)\.(.+)$")


def layer_from_official(tensors, strict=True):
    """Rename one layer's official layer-local tensors (``self_attn.q_proj.weight``, ``ahn.fn.A_log``).

    Keys that are not weights (golden ``*_f64`` outputs, ``in_*`` inputs, ``meta_json``) are
    dropped. With ``strict``, an unknown key that looks like a weight raises ``KeyError``; the
    unused router (``ahn_router.*``) always raises, since its presence would mean a config we do
    not implement (ahn.md §4).
    """
    out = {}
    for name, value in tensors.items():
        if name.startswith("ahn_router."):
            raise KeyError(f"{name}: the AHN router is not supported (use_ahn_router must be False)")
        if name in LAYER_OFFICIAL:
            out[LAYER_OFFICIAL[name]] = value
        elif strict and name.endswith((".weight", ".bias")):
            raise KeyError(f"unknown official layer tensor {name!r}")
    return out


def model_from_official(tensors):
    """Rename a full official checkpoint to GGUF names (``blk.{i}.attn_q.weight`` ...)."""
    out = {}
    for name, value in tensors.items():
        if name in MODEL_OFFICIAL:
            out[MODEL_OFFICIAL[name]] = value
            continue
        m = _LAYER_RE.match(name)
        if m is None:
            raise KeyError(f"unknown official tensor {name!r}")
        for local, renamed in layer_from_official({m.group(2): value}).items():
            out[f"blk.{m.group(1)}.{local}"] = renamed
    return out


def split_layers(tensors, n_layer):
    """Split GGUF-named tensors into ``(globals, [layer dicts])`` with the ``blk.{i}.`` prefix removed."""
    layers = [{} for _ in range(n_layer)]
    glob = {}
    for name, value in tensors.items():
        if name.startswith("blk."):
            idx, local = name[4:].split(".", 1)
            layers[int(idx)][local] = value
        else:
            glob[name] = value
    return glob, layers
