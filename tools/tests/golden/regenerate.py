"""Regenerate the golden outputs in this folder from the OFFICIAL AHN code, and compare.

Not a test (pytest does not collect it) and not run in CI. It needs a checkout of
github.com/ByteDance-Seed/AHN at commit 3d2d174 and the environment of
``requirements-official.txt`` (torch 2.6.0, transformers 4.51.0, flash-linear-attention 0.2.0)::

    python3.11 -m venv venv && venv/bin/pip install -r tools/tests/golden/requirements-official.txt
    git clone https://github.com/ByteDance-Seed/AHN ahn && git -C ahn checkout 3d2d174
    venv/bin/python tools/tests/golden/regenerate.py --official ahn --out /tmp/golden-regen

What it does, per ``*.npz`` file (README §1-§4):

- It takes the INPUTS AND WEIGHTS from the committed file (``in_*``, the weights, ``meta_json``);
  the official files do not document the order of their random draws, so they are not redrawn.
- It imports the official modules from ``--official``/src, unmodified, and runs them on CPU:
  - cell files: ``BaseAHN`` (``ahn.fn`` = GatedDeltaNet / DeltaNet / Mamba2) on the T steps in one
    call, and again as one chunk of ``meta.stepwise_splits[0]`` steps followed by single steps
    carrying the state in the fla ``Cache`` (float64 only); each call's gates come from
    ``ahn.fn.get_beta_alpha`` on that call's evicted tokens (``in_xe``);
  - layer files: ``Qwen2MemDecoderLayer`` (inference path) with a one-layer driver doing what
    ``Qwen2Model.forward`` does: ``_is_fa_layer``, the block mask of ``pre_model_forward`` (built with
    ``_compile=False``), the rotary embeddings, explicit positions 0..N-1, ``use_cache=True`` with an
    HF ``DynamicCache`` and an fla ``Cache``. One prefill of all N tokens (float64 and float32), then
    the two ``quirk_*`` runs: prefill of ``meta.decode_prefix`` tokens + 1-token steps, and
    token by token from t=0, both with the official code as is (README §6.1).
- It runs every model in float64 and float32 with the official dtype handling (the fp32 steps
  inside the official code stay), and writes ``--out/<name>.npz`` with the committed file's
  inputs and weights plus the regenerated ``*_f64`` / ``*_f32`` outputs and intermediates.
- It prints max|Δ| per file and key against the committed file and exits with 1 if a committed
  output key was not regenerated or differs by more than ``--tol-f64`` (keys ``*_f64``; default
  1e-12) or ``--tol-f32`` (keys ``*_f32``; default 1e-5), 0 otherwise.

Only the GPU kernels are replaced, by our own plain PyTorch functions below (README §1 table),
monkeypatched at the official call sites:

- ``ahn.rnn.gated_deltanet.{fused_recurrent,chunk}_gated_delta_rule`` and
  ``ahn.rnn.delta_net.{fused_recurrent,chunk}_delta_rule``: token recurrence, with fla 0.2.0's q/k
  L2 norms (GDN fused-recurrent: in-kernel ``x/(|x|+1e-6)``; GDN chunk and both DN paths:
  ``l2norm_fwd``, ``x*rsqrt(sum x^2+1e-6)``);
- ``ahn.rnn.mamba2.{mamba_chunk_scan_combined,selective_state_update}`` (mamba_ssm is not
  installed, so the official module holds ``None`` there): plain SSD recurrence; the single
  step updates the cached state in place, as the Triton kernel does;
- ``fla.modules.fused_norm_gate.rms_norm_gated`` (``FusedRMSNormSwishGate``):
  ``x*rsqrt(mean x^2+eps)*w*g*sigmoid(g)``;
- ``fla.modules.layernorm_gated.rmsnorm_fn`` (``RMSNormGated``): fla's own ``rms_norm_ref`` with
  ``upcast=False``;
- ``qwen2_ahn.flex_attention`` (module-level ``torch.compile``): the same ``flex_attention``
  un-compiled (eager math path, same BlockMask); ``qwen2_ahn.create_block_mask``: called with
  ``_compile=False``;
- ``qwen2_ahn._flash_attention_forward`` (decode): dense softmax attention with flash-attn's
  bottom-right causal alignment.

The replacements compute in the dtype of their inputs and keep the recurrent state in it (the
Triton kernels accumulate in fp32 and return an fp32 state), and return contiguous outputs. Their
operation order is the one that reproduces the committed files bit for bit; mathematically
equal forms change the last bits (e.g. ``x/sqrt(..)`` instead of ``x*rsqrt(..)`` in the DN L2 norm
moves ``out_f32`` by up to 4e-6 and ``out_f64`` by 6e-15).

Workaround (CPU only): importing fla 0.2.0 with triton 3.2.0 and no GPU fails inside
``@triton.autotune`` ("0 active drivers"), because the Autotuner asks the active driver for a
benchmarker when the decorator runs. Before importing fla the script installs a stand-in driver
with ``triton.runtime.driver.set_active`` (only when no real driver is active): it has no
``get_current_target``, so fla's own ``get_available_device()`` falls back to 'cpu' as fla
intends, and no Triton kernel is ever launched (every kernel call site is replaced above).

Measured with requirements-official.txt (Python 3.11.7, x86-64 CPU, 2 cores, ~85 s for all 24
files): every array of every regenerated file, all ``*_f64`` intermediates, ``quirk_*``, ``out_f32``
and ``state_f32`` included, is bit-identical to the committed one (max|Δ| = 0). The tolerances leave
room for other CPUs / BLAS builds, whose float64 rounding may differ in the last bits.
"""

import argparse
import fnmatch
import functools
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OFFICIAL_COMMIT = "3d2d174"
CALLS = Counter()  # kernel replacements called, per name (printed per file)
LAST = {}  # last recurrence output before norm/gate ("core"), for core_f64


# --------------------------------------------------------------------------------------------
# Plain PyTorch replacements for the GPU kernels (same mathematical definition).
# Shapes follow fla / mamba_ssm with head_first=False: q, k, v [B, T, H, d], gates [B, T, H].
# --------------------------------------------------------------------------------------------


def _l2_plus_eps(x):
    """GDN fused-recurrent kernel, USE_QK_L2NORM_IN_KERNEL: x / (||x|| + 1e-6)."""
    return x / (torch.sqrt((x * x).sum(-1, keepdim=True)) + 1e-6)


def _l2_sqrt_eps(x):
    """fla ``l2norm_fwd`` (eps 1e-6): x * 1/sqrt(sum x^2 + eps)."""
    return x * torch.rsqrt((x * x).sum(-1, keepdim=True) + 1e-6)


def _delta_rule(q, k, v, beta, g, scale, initial_state, output_final_state):
    """h <- h*e^g; v' = beta*(v - h^T k); h <- h + k v'^T; o = h^T (q*scale). State h[B,H,K,V]."""
    B, T, H, K = q.shape
    h = q.new_zeros(B, H, K, v.shape[-1]) if initial_state is None else initial_state.to(q.dtype)
    scale = K**-0.5 if scale is None else scale
    beta = torch.ones_like(q[..., 0]) if beta is None else beta
    o = v.new_empty(v.shape)  # contiguous, as the kernels return it
    for t in range(T):
        if g is not None:
            h = h * torch.exp(g[:, t])[..., None, None]
        u = (v[:, t] - torch.einsum("bhkv,bhk->bhv", h, k[:, t])) * beta[:, t, :, None]
        h = h + k[:, t, :, :, None] * u[:, :, None, :]
        o[:, t] = torch.einsum("bhkv,bhk->bhv", h, q[:, t] * scale)
    LAST["core"] = o.clone()
    return o, (h if output_final_state else None)


def _gated_delta_rule(name, l2):
    """fla's ``{fused_recurrent,chunk}_gated_delta_rule`` (keyword call); ``l2``: that path's q/k norm."""

    def fn(q, k, v, g, beta=None, scale=None, initial_state=None, output_final_state=False, **kw):
        assert kw.get("cu_seqlens") is None and not kw.get("head_first"), "the official AHN never sets these"
        CALLS[name] += 1
        if kw.get("use_qk_l2norm_in_kernel"):
            q, k = l2(q), l2(k)
        return _delta_rule(q, k, v, beta, g, scale, initial_state, output_final_state)

    return fn


def _delta_rule_nogate(name):
    """fla's ``{fused_recurrent,chunk}_delta_rule`` (no g); both paths normalise q/k with ``l2norm_fwd``."""

    def fn(q, k, v, beta=None, scale=None, initial_state=None, output_final_state=False, **kw):
        assert kw.get("cu_seqlens") is None and not kw.get("head_first"), "the official AHN never sets these"
        CALLS[name] += 1
        if kw.get("use_qk_l2norm_in_kernel"):
            q, k = _l2_sqrt_eps(q), _l2_sqrt_eps(k)
        return _delta_rule(q, k, v, beta, None, scale, initial_state, output_final_state)

    return fn


def _mamba_chunk_scan_combined(
    x, dt, A, B, C, chunk_size, dt_bias=None, initial_states=None, dt_softplus=False, **kw
):
    """SSD recurrence: dt = softplus(dt+dt_bias); s <- e^{dt A} s + dt x B^T; y = s C.
    x [b,l,h,p], dt [b,l,h], A [h], B/C [b,l,h,n]; state s[b,h,p,n] (mamba_ssm layout)."""
    return_final_states = kw.pop("return_final_states", False)
    assert all(v is None for v in kw.values()), kw  # D, z, seq_idx are None; no dt_limit
    CALLS["mamba_chunk_scan_combined"] += 1
    dt = dt + dt_bias if dt_bias is not None else dt
    dt = F.softplus(dt) if dt_softplus else dt
    b, L, h, p = x.shape
    s = x.new_zeros(b, h, p, B.shape[-1]) if initial_states is None else initial_states.to(x.dtype)
    y = x.new_empty(x.shape)  # contiguous, as the kernel returns it
    for t in range(L):
        dA = torch.exp(dt[:, t] * A)  # [b, h]
        s = s * dA[..., None, None] + (dt[:, t, :, None] * x[:, t])[..., None] * B[:, t, :, None, :]
        y[:, t] = torch.einsum("bhpn,bhn->bhp", s, C[:, t])
    LAST["core"] = y.clone()
    return (y, s) if return_final_states else y


def _selective_state_update(
    state, x, dt, A, B, C, D=None, z=None, dt_bias=None, dt_softplus=False, state_batch_indices=None
):
    """One step of the same recurrence, updating ``state`` [b,h,p,n] IN PLACE like the kernel.
    x, dt [b,h,p]; A [h,p,n]; B/C [b,h,n]; dt_bias [h,p]."""
    assert D is None and z is None and state_batch_indices is None
    CALLS["selective_state_update"] += 1
    dt = dt + dt_bias if dt_bias is not None else dt
    dt = F.softplus(dt) if dt_softplus else dt
    dA = torch.exp(A * dt[..., None])  # [b, h, p, n]
    dB = dt[..., None] * B[:, :, None, :]  # [b, h, p, n]
    state.copy_(state * dA + dB * x[..., None])
    y = torch.einsum("bhpn,bhn->bhp", state, C)
    LAST["core"] = y.clone()
    return y


def _rms_norm_gated(
    x, g, weight, bias, activation="swish", residual=None, prenorm=False, residual_in_fp32=False, eps=1e-6
):
    """FusedRMSNormSwishGate: x * rsqrt(mean x^2 + eps) * w * g * sigmoid(g)."""
    assert bias is None and residual is None and not prenorm and activation in ("swish", "silu")
    CALLS["rms_norm_gated"] += 1
    return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps) * weight * g * torch.sigmoid(g)


def _dense_attention(
    q, k, v, attention_mask, query_length, is_causal, dropout=0.0, sliding_window=None, **kw
):
    """flash-attn replacement: softmax(q k^T * scale) v, bottom-right causal (flash-attn >= 2.1).
    Inputs [B, L, H, D] (k/v already GQA-expanded by the caller); output [B, Lq, H, D]."""
    assert (
        attention_mask is None
        and dropout == 0.0
        and sliding_window is None
        and kw.get("softmax_scale") is None
    )
    CALLS["flash_attention_forward"] += 1
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))
    scale = q.shape[-1] ** -0.5  # flash-attn's default softmax_scale
    scores = (q @ k.transpose(-1, -2)) * scale
    if is_causal:
        lq, lk = q.shape[-2], k.shape[-2]
        above = torch.ones(lq, lk, dtype=torch.bool).triu(lk - lq + 1)  # key j > i + (lk - lq)
        scores = scores.masked_fill(above, float("-inf"))
    return (torch.softmax(scores, dim=-1) @ v).transpose(1, 2)


# --------------------------------------------------------------------------------------------
# Importing the official code and patching its kernel call sites
# --------------------------------------------------------------------------------------------


class _NoGpuTritonDriver:
    """Stand-in for triton's active driver on a machine without GPU (see the module docstring)."""

    def get_benchmarker(self):
        def never(*args, **kwargs):
            raise RuntimeError("Triton autotuning reached on CPU: a kernel call site is not replaced")

        return never


def load_official(official):
    """Import the official modules from ``official``/src, patch the kernels, return a namespace."""
    import warnings

    import triton

    try:
        triton.runtime.driver.active.get_current_target()
    except RuntimeError:  # "0 active drivers": no GPU
        triton.runtime.driver.set_active(_NoGpuTritonDriver())

    src = (Path(official) / "src").resolve()
    if not (src / "ahn" / "transformer" / "qwen2_ahn" / "qwen2_ahn.py").is_file():
        sys.exit(f"--official {official}: no src/ahn/transformer/qwen2_ahn/qwen2_ahn.py there")
    sys.path.insert(0, str(src))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fla: "Triton is not supported on current platform"
        import transformers

        transformers.logging.set_verbosity_error()  # Mamba2: "The fast path is not available"
        import fla.modules.fused_norm_gate as fla_norm_gate
        import fla.modules.layernorm_gated as fla_layernorm_gated
        from ahn.rnn import delta_net, gated_deltanet, mamba2
        from ahn.transformer.qwen2_ahn import qwen2_ahn
        from ahn.utils import BaseAHN
        from fla.models.utils import Cache as MemCache
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention
        from transformers.cache_utils import DynamicCache

    gated_deltanet.fused_recurrent_gated_delta_rule = _gated_delta_rule("gdr_fused_recurrent", _l2_plus_eps)
    gated_deltanet.chunk_gated_delta_rule = _gated_delta_rule("gdr_chunk", _l2_sqrt_eps)
    delta_net.fused_recurrent_delta_rule = _delta_rule_nogate("dr_fused_recurrent")
    delta_net.chunk_delta_rule = _delta_rule_nogate("dr_chunk")
    mamba2.mamba_chunk_scan_combined = _mamba_chunk_scan_combined
    mamba2.selective_state_update = _selective_state_update
    fla_norm_gate.rms_norm_gated = _rms_norm_gated

    def rmsnorm_fn(*args, **kwargs):
        CALLS["rmsnorm_fn(RMSNormGated)"] += 1
        return fla_layernorm_gated.rms_norm_ref(*args, **kwargs, upcast=False)

    fla_layernorm_gated.rmsnorm_fn = rmsnorm_fn

    def eager_flex_attention(*args, **kwargs):
        CALLS["flex_attention(eager)"] += 1
        return flex_attention(*args, **kwargs)

    qwen2_ahn.flex_attention = eager_flex_attention
    qwen2_ahn.create_block_mask = functools.partial(create_block_mask, _compile=False)
    qwen2_ahn._flash_attention_forward = _dense_attention

    import fla

    versions = {"torch": torch.__version__, "transformers": transformers.__version__, "fla": fla.__version__}
    return dict(q=qwen2_ahn, BaseAHN=BaseAHN, MemCache=MemCache, DynamicCache=DynamicCache, versions=versions)


# --------------------------------------------------------------------------------------------
# Drivers
# --------------------------------------------------------------------------------------------


def _t(a, dtype):
    return torch.from_numpy(np.asarray(a)).to(dtype)


def _np(x):
    return x.detach().squeeze(0).to(torch.float64).numpy()


def _is_weight(key):
    """Weights are the keys that are neither inputs (``in_*``), outputs (``*_f64``/``*_f32``) nor meta."""
    return not (key.startswith("in_") or key.endswith(("_f64", "_f32")) or key == "meta_json")


def _load(module, z, dtype):
    """load_state_dict(strict=True) with the official names stored in the file."""
    module.to(dtype)
    module.load_state_dict({k: _t(z[k], dtype) for k in z.files if _is_weight(k)}, strict=True)
    return module.eval()


def run_cell(off, z, meta, dtype):
    """One AHN module (``ahn.fn``) on T (evicted, query) steps from a zero state."""
    holder = torch.nn.Module()
    holder.ahn = off["BaseAHN"](
        ahn_cls=off["q"].AHN_CLS[meta["ahn_implementation"]],
        layer_idx=0,
        hidden_size=meta["hidden_size"],
        num_heads=meta["num_heads"],
        head_dim=meta["head_dim"],
        use_q_proj=False,  # as Qwen2MemDecoderLayer passes it
    )
    ahn = _load(holder, z, dtype).ahn
    norm = ahn.fn.norm if meta["variant"] == "mamba2" else ahn.fn.o_norm
    assert norm.eps == meta["norm_eps"], (norm.eps, meta["norm_eps"])
    xe, xt, q, k, v = (_t(z[f"in_{n}"], dtype)[None] for n in ("xe", "xt", "q", "k", "v"))
    normed = []
    hook = ahn.fn.o_proj.register_forward_hook(lambda m, args, out: normed.append(args[0].clone()))

    def steps(a, b, cache):
        """Steps a..b-1 in one call; the gates of these steps' evicted tokens (what the official
        gate cache holds for them) come from ``get_beta_alpha`` on those tokens."""
        beta, alpha = ahn.fn.get_beta_alpha(xe[:, a:b])
        gates = {"beta": beta, "alpha": alpha}
        o, _ = ahn(
            hidden_states=[gates, xt[:, a:b]],
            q_states=q[:, a:b].contiguous(),
            k_states=k[:, a:b],
            v_states=v[:, a:b],
            use_cache=True,
            past_key_values=cache,
        )
        return o

    cache = off["MemCache"]()
    out = steps(0, meta["T"], cache)
    res = {"out": _np(out), "state": _np(cache[0]["recurrent_state"])}
    res["core"], res["normed"] = _np(LAST["core"]), _np(normed[0])
    hook.remove()
    beta, alpha = ahn.fn.get_beta_alpha(xe)
    if meta["variant"] == "mamba2":
        res["dt_raw"] = _np(beta)
    else:
        res["beta"] = _np(beta)
        if alpha is not None:
            res["g"] = _np(alpha)
    if dtype != torch.float64:  # the files hold the stepwise run for float64 only
        return res
    cache, outs, a = off["MemCache"](), [], 0
    for n in meta["stepwise_splits"]:
        outs.append(steps(a, a + n, cache))
        a += n
    assert a == meta["T"]
    res["out_stepwise"] = _np(torch.cat(outs, dim=1))
    return res


def _layer_config(off, meta):
    return off["q"].Qwen2Config(  # vocab_size, max_position_embeddings: unused by one layer
        vocab_size=32,
        hidden_size=meta["hidden_size"],
        intermediate_size=meta["intermediate_size"],
        num_hidden_layers=1,
        num_attention_heads=meta["num_attention_heads"],
        num_key_value_heads=meta["num_key_value_heads"],
        head_dim=meta["head_dim"],
        hidden_act=meta["hidden_act"],
        max_position_embeddings=4096,
        rms_norm_eps=meta["rms_norm_eps"],
        rope_theta=meta["rope_theta"],
        sliding_window=meta["sliding_window"],
        num_attn_sinks=meta["num_attn_sinks"],
        _layer_implementation="Qwen2MemDecoderLayer",
        _ahn_implementation=meta["ahn_implementation"],
    )


def run_layer_calls(off, layer, rotary, config, hidden, chunks):
    """Feed ``hidden`` [N, D] through the layer in consecutive calls of ``chunks`` tokens each,
    doing for one layer what Qwen2Model.forward does (eval, use_cache=True). Returns the output
    rows [1, N, D] and the fla cache."""
    q = off["q"]
    model = type("OneLayerModel", (), {})()  # what pre_model_forward reads from self
    model.training, model.layer_cls, model.config = False, config._layer_implementation, config
    model.create_sparse_mask = q.Qwen2Model.create_sparse_mask
    kv, mem = off["DynamicCache"](), off["MemCache"]()
    layer.ahn.reset_cache()  # as Qwen2Model.forward does with a fresh fla Cache
    layer.enable_ahn = q.Qwen2Model._is_fa_layer(config, layer)
    assert layer.enable_ahn
    outs, start = [], 0
    for n in chunks:
        h = hidden[:, start : start + n]
        positions = torch.arange(start, start + n)[None]  # absolute positions (generate's cache_position)
        mask = q.Qwen2Model.pre_model_forward(model, input_ids=positions)
        out = layer(
            hidden_states=h,
            attention_mask=mask,
            position_ids=positions,
            past_key_value=kv,
            mem_past_key_value=mem,
            output_attentions=False,
            use_cache=True,
            cache_position=positions[0],
            position_embeddings=rotary(h, positions),
        )
        outs.append(out[0])
        start += n
    assert start == hidden.shape[1]
    return torch.cat(outs, dim=1), mem


def run_layer(off, z, meta, dtype, intermediates):
    """One Qwen2MemDecoderLayer; the prefill outputs, and with ``intermediates`` the captured
    intermediates and the two quirk runs."""
    q = off["q"]
    config = _layer_config(off, meta)
    layer = _load(q.Qwen2MemDecoderLayer(config, 0, meta["ahn_implementation"]), z, dtype)
    rotary = q.Qwen2RotaryEmbedding(config=config)
    hidden = _t(z["in_hidden"], dtype)[None]
    N, S, W = meta["N"], meta["num_attn_sinks"], meta["sliding_window"]
    cap, hooks = {}, []
    if intermediates:
        # Forward hooks on the official submodules (they return None, so they change nothing).
        def on_attn(m, args, out):  # attn_output is changed in place afterwards (the AHN add)
            attn, _, (qs, ks, vs) = out
            groups = m.num_key_value_groups  # k/v come GQA-expanded: kv head j = head j*groups
            cap.update(attn=attn.clone(), q=qs.clone(), k=ks[:, :, ::groups].clone())
            cap.update(v=vs[:, :, ::groups].clone())

        def on_norm(m, args, out):
            cap["xhat"] = out.clone()

        def on_ahn(m, args, out):
            cap["ahn"] = out[0].clone()

        hooks.append(layer.input_layernorm.register_forward_hook(on_norm))
        hooks.append(layer.self_attn.register_forward_hook(on_attn))
        hooks.append(layer.ahn.register_forward_hook(on_ahn))
        get_beta_alpha = layer.ahn.fn.get_beta_alpha

        def gates(x):  # called by BaseAHN.update_cache when the N tokens enter the gate cache
            cap["gates"] = get_beta_alpha(x)
            return cap["gates"]

        layer.ahn.fn.get_beta_alpha = gates
    out, mem = run_layer_calls(off, layer, rotary, config, hidden, [N])
    res = {"out": _np(out)}
    if not intermediates:
        return res
    for h in hooks:
        h.remove()
    layer.ahn.fn.get_beta_alpha = get_beta_alpha
    ahn = torch.zeros_like(cap["attn"])
    n_ahn = N - S - W
    ahn[:, -n_ahn:] = cap["ahn"]
    res.update({k: _np(cap[k]) for k in ("attn", "q", "k", "v", "xhat")}, ahn=_np(ahn))
    res["state"] = _np(mem[0]["recurrent_state"])
    beta, alpha = cap["gates"]
    if meta["variant"] == "mamba2":
        res["dt_raw"] = _np(beta)
    else:
        res["beta"] = _np(beta)
        if alpha is not None:
            res["g"] = _np(alpha)
    prefix = meta["decode_prefix"]
    res["quirk_out_decode_official"] = _np(
        run_layer_calls(off, layer, rotary, config, hidden, [prefix] + [1] * (N - prefix))[0]
    )
    res["quirk_out_tokenwise_official"] = _np(run_layer_calls(off, layer, rotary, config, hidden, [1] * N)[0])
    return res


def regenerate(off, z):
    """All outputs of one golden file, keyed as in the file."""
    meta = json.loads(str(z["meta_json"]))
    out = {}
    for dtype, suffix in ((torch.float64, "_f64"), (torch.float32, "_f32")):
        f64 = dtype == torch.float64
        if meta["level"] == "cell":
            res = run_cell(off, z, meta, dtype)
        else:
            res = run_layer(off, z, meta, dtype, intermediates=f64)
        if not f64:  # the committed files keep only out/state of the float32 run
            res = {k: v for k, v in res.items() if k in ("out", "state")}
        out.update({k + suffix: v.astype(np.float64 if f64 else np.float32) for k, v in res.items()})
    return out


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main(argv=None):
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--official", required=True, help=f"checkout of ByteDance-Seed/AHN at {OFFICIAL_COMMIT}")
    ap.add_argument("--golden-dir", default=str(here), help="committed *.npz files (default: %(default)s)")
    ap.add_argument("--out", required=True, help="folder for the regenerated *.npz files")
    ap.add_argument("--only", default="*.npz", help="file-name glob (default: %(default)s)")
    ap.add_argument("--tol-f64", type=float, default=1e-12, help="max |Δ| for *_f64 keys")
    ap.add_argument("--tol-f32", type=float, default=1e-5, help="max |Δ| for *_f32 keys")
    args = ap.parse_args(argv)

    files = sorted(p for p in Path(args.golden_dir).glob("*.npz") if fnmatch.fnmatch(p.name, args.only))
    if not files:
        sys.exit(f"no *.npz matching {args.only!r} in {args.golden_dir}")
    torch.set_grad_enabled(False)
    off = load_official(args.official)
    print("versions:", ", ".join(f"{k} {v}" for k, v in off["versions"].items()))
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    worst, failures = {}, []
    for path in files:
        CALLS.clear()
        with np.load(path) as z:
            committed = {k: z[k] for k in z.files}
            outputs = regenerate(off, z)
        # the regenerated file: the committed inputs, weights and meta, plus the new outputs
        kept = {k: v for k, v in committed.items() if not k.endswith(("_f64", "_f32"))}
        np.savez_compressed(out_dir / path.name, **kept, **outputs)
        print(f"{path.name}  kernels: {dict(sorted(CALLS.items()))}")
        missing = sorted(k for k in committed if k.endswith(("_f64", "_f32")) and k not in outputs)
        if missing:
            failures.append(f"{path.name}: not regenerated: {missing}")
        meta = json.loads(str(committed["meta_json"]))
        for key in sorted(outputs):
            if key not in committed:
                continue
            diff = float(np.max(np.abs(outputs[key] - committed[key].astype(outputs[key].dtype))))
            tol = args.tol_f32 if key.endswith("_f32") else args.tol_f64
            flag = "" if diff <= tol else "  > tol"
            print(f"    {key:34s} max|Δ| {diff:.2e}{flag}")
            kind = (meta["level"], meta["variant"], key)
            worst[kind] = max(worst.get(kind, 0.0), diff)
            if diff > tol:
                failures.append(f"{path.name}: {key} max|Δ| {diff:.3e} > {tol:.0e}")

    print("\nmax |Δ| over the files, per level / variant / key:")
    for (level, variant, key), diff in sorted(worst.items()):
        print(f"  {level:5s} {variant:6s} {key:34s} {diff:.2e}")
    print(f"\nwritten to {out_dir}")
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"OK: {len(files)} files, *_f64 within {args.tol_f64:.0e}, *_f32 within {args.tol_f32:.0e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
