"""The trainer's accelerator path (ahn_train.accel) on CPU at small scale: banded attention =
the reference's dense sinks + window attention, the mixed-precision forward and loss = the
float32 path's, batches = the mean of their sequences, warm starts, and the side-by-side
evaluation."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_ahn_train import N_VOCAB, tiny_base, tiny_config, tiny_streams

from ahn_ref.attention import attend
from ahn_ref.init import init_ahn
from ahn_train import accel
from ahn_train import fastmodel as fm
from ahn_train import train as tr

TOL_BAND = 1e-5
"""Banded vs dense attention, both float32: the same sums in another order."""
TOL_F32_PATH = 2e-4
"""The accelerator forward with float32 weights vs the float32 path (hidden states, loss)."""
TOL_BF16_SHARE = 1e-3
"""bfloat16 vs float32 teacher: KL between them, as a share of the sinks + window KL gap."""


def _qkv(n, seed=0, h=4, h_kv=2, d=8):
    rng = np.random.default_rng(seed)
    q = jnp.asarray(rng.normal(size=(n, h, d)) * 2, jnp.float32)
    k = jnp.asarray(rng.normal(size=(n, h_kv, d)) * 2, jnp.float32)
    v = jnp.asarray(rng.normal(size=(n, h_kv, d)), jnp.float32)
    return q, k, v


@pytest.mark.parametrize(
    "n,sinks,window,block,span,max_sinks",
    [
        (37, 0, 5, 8, 8, 4),  # no sinks, N not a multiple of the block
        (37, 3, 7, 8, 16, 4),  # sinks inside the first window
        (64, 4, 16, 16, 16, 8),  # window = span exactly
        (50, 2, 40, 16, 48, 2),  # the window covers most of the sequence
        (20, 4, 64, 8, 64, 128),  # window and max sinks beyond the sequence
        (33, 1, 1, 4, 4, 4),  # W = 1: a token sees itself and the sink
    ],
)
def test_banded_attention_equals_dense(check, n, sinks, window, block, span, max_sinks):
    q, k, v = _qkv(n)
    pos = jnp.arange(n)
    dense = attend(q, k, v, pos, pos, sinks, window)
    banded = jax.jit(
        lambda q, k, v, s, w: accel.banded_attention(q, k, v, s, w, block, span, max_sinks, jnp.float32)
    )(q, k, v, sinks, window)  # S and W traced
    check("banded vs dense", banded, dense, TOL_BAND)


def test_banded_attention_gradients_equal_dense(check):
    q, k, v = _qkv(29, seed=3)
    pos = jnp.arange(29)
    dense = jax.grad(lambda q, k, v: jnp.sum(jnp.sin(attend(q, k, v, pos, pos, 2, 6))), argnums=(0, 1, 2))
    banded = jax.grad(
        lambda q, k, v: jnp.sum(jnp.sin(accel.banded_attention(q, k, v, 2, 6, 8, 8, 4, jnp.float32))),
        argnums=(0, 1, 2),
    )
    for name, a, b in zip("qkv", banded(q, k, v), dense(q, k, v), strict=True):
        check(f"d{name}", a, b, TOL_BAND)


def _ahn(base, seed=5):
    """Random, live AHN weights (o_proj not zero) for the tiny base."""
    acfg = base.ahn_config("gdn")
    rng = np.random.default_rng(seed)
    layers = [init_ahn(rng, acfg, zero_out=False, dtype=jnp.float32) for _ in range(base.cfg.n_layer)]
    return acfg, fm.stack(layers)


def test_student_and_teacher_with_float32_weights_equal_the_float32_path(check):
    base, _, _ = tiny_base()
    acfg, ahn = _ahn(base)
    w32 = accel.mixed_weights(base, jnp.float32)
    tokens = jnp.asarray(np.random.default_rng(7).integers(0, N_VOCAB, 45))
    band = (8, 16, 4)
    ours = accel.student_hidden(base.cfg, w32, acfg, ahn, tokens, 4, 12, band, chunk=8, remat=False)
    ref = fm.hidden(base.cfg, base.weights, acfg, ahn, tokens, 4, 12, 8, remat=False)
    check("student hidden", ours, ref, TOL_F32_PATH)
    teacher = accel.teacher_hidden(base.cfg, w32, tokens)
    ref_t = fm.hidden(base.cfg, base.weights, None, None, tokens, 0, 45, remat=False)
    check("teacher hidden", teacher, ref_t, TOL_F32_PATH)


def test_bfloat16_weights_stay_close_to_float32():
    base, _, _ = tiny_base()
    acfg, ahn = _ahn(base)
    wb = accel.mixed_weights(base)
    assert wb["layers"]["attn_q.weight"].dtype == jnp.bfloat16
    assert wb["layers"]["attn_q.bias"].dtype == jnp.float32  # biases and norms stay float32
    assert wb["head"].dtype == jnp.bfloat16
    tokens = jnp.asarray(np.random.default_rng(8).integers(0, N_VOCAB, 40))
    idx = jnp.arange(16, 40)
    t16 = accel.teacher_log_probs(base.cfg, wb, tokens[None], idx[None])[0]
    w32 = accel.mixed_weights(base, jnp.float32)
    t32 = accel.teacher_log_probs(base.cfg, w32, tokens[None], idx[None])[0]
    assert t16.dtype == jnp.float32
    # What bfloat16 changes in the teacher is tiny next to the gap the AHN is trained to close
    # (measured: KL 8.4e-6 against 0.061).
    rounding = float(jnp.mean(fm.kl_rows(t32, t16)))
    swa = accel.student_hidden(base.cfg, w32, None, None, tokens, 4, 8, (8, 8, 4), remat=False)
    gap = float(jnp.mean(fm.kl_rows(t32, accel.log_probs(base.cfg, w32, swa[idx]))))
    assert 0 < rounding < TOL_BF16_SHARE * gap, (rounding, gap)


def test_batch_loss_and_gradients_are_the_mean_of_the_float32_path(check):
    base, _, _ = tiny_base()
    acfg, ahn = _ahn(base)
    w32 = accel.mixed_weights(base, jnp.float32)
    rng = np.random.default_rng(9)
    tokens = jnp.asarray(rng.integers(0, N_VOCAB, (2, 48)))
    idx = jnp.asarray(np.stack([np.sort(rng.integers(12, 48, 10)) for _ in range(2)]))
    weight = jnp.ones((2, 10), jnp.float32)
    t_logp = accel.teacher_log_probs(base.cfg, w32, tokens, idx)
    loss_fn = accel.kl_loss_fn(base.cfg, acfg, (8, 16, 4), 8)
    loss, grads = jax.value_and_grad(loss_fn)(ahn, w32, tokens, t_logp, idx, weight, 4, 8)
    ref_fn = jax.value_and_grad(tr.stage2_loss_fn(base, acfg, 8))
    losses, ref_grads = [], []
    for b in range(2):
        t_h = fm.hidden(base.cfg, base.weights, None, None, tokens[b], 0, 48, remat=False)
        lo, g = ref_fn(ahn, base.weights, tokens[b], t_h, idx[b], weight[b], 4, 8)
        losses.append(lo)
        ref_grads.append(g)
    check("loss", loss, np.mean(losses), TOL_F32_PATH)
    assert float(loss) > 0
    for n in grads:
        mean = (ref_grads[0][n] + ref_grads[1][n]) / 2
        scale = max(1.0, float(jnp.max(jnp.abs(mean))))
        check(f"grad {n} (relative)", grads[n] / scale, mean / scale, TOL_F32_PATH)


def _accel_trainer(tmp_path, steps, **over):
    cfg = tiny_config(
        tmp_path,
        window_choices=[16],
        sink_choices=[0, 4],
        stage1={"steps": 0},
        stage2={"steps": steps, "lr": 3e-2, "kl_positions": 0},
        warmup=0.0,
        accel=True,
        batch=2,
        attention_block=8,
        **over,
    )
    base, _, _ = tiny_base()
    return tr.Trainer(cfg, base=base, streams=tiny_streams(lengths=(49,)), synthetic={}, log=lambda *_: None)


def test_accelerator_training_lowers_the_loss_logs_throughput_and_resumes(tmp_path):
    straight, done = _accel_trainer(tmp_path / "a", 10, checkpoint_every=2).run()
    assert done
    rows = [json.loads(x) for x in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows]
    assert np.mean(losses[-3:]) < 0.8 * losses[0], losses
    assert all(r["tflops"] > 0 and r["tokens_per_s"] > 0 for r in rows)
    assert "mfu" not in rows[0]  # no known peak for a CPU
    t = _accel_trainer(tmp_path / "b", 10, checkpoint_every=2)
    _, done = t.run(stop_at=(2, 4))
    assert not done
    _, _, _, meta = tr.load_checkpoint(tmp_path / "b" / "ckpt-stage2.npz")
    assert meta["cursor"] == 8  # two sequences a step
    resumed, done = _accel_trainer(tmp_path / "b", 10, checkpoint_every=2).run()
    assert done
    for n in straight:
        np.testing.assert_array_equal(np.asarray(straight[n]), np.asarray(resumed[n]), err_msg=n)


def test_a_warm_start_begins_from_the_given_block(tmp_path):
    trained, done = _accel_trainer(tmp_path / "a", 3).run()
    assert done
    block = tmp_path / "a" / "tiny.ahn.gguf"
    # Zero steps from the block: the block comes back unchanged.
    same, done = _accel_trainer(tmp_path / "b", 0, init_block=str(block)).run()
    assert done
    for n in trained:
        np.testing.assert_array_equal(np.asarray(trained[n]), np.asarray(same[n]), err_msg=n)
    # Training on from it moves on from there, not from the zero init.
    zero = tr.init_params(tiny_base()[0], "gdn", 0)
    on, _ = _accel_trainer(tmp_path / "c", 1, init_block=str(block)).run()
    d_block = float(jnp.max(jnp.abs(on["ahn_out.weight"] - trained["ahn_out.weight"])))
    d_zero = float(jnp.max(jnp.abs(on["ahn_out.weight"] - zero["ahn_out.weight"])))
    assert d_block < d_zero


def test_side_by_side_evaluation(check):
    base, _, _ = tiny_base()
    acfg, live = _ahn(base)
    zero = tr.init_params(base, "gdn", 0)
    w32 = accel.mixed_weights(base, jnp.float32)
    rng = np.random.default_rng(11)
    seqs = [rng.integers(0, N_VOCAB, 60) for _ in range(2)]
    res = accel.evaluate_kl(base.cfg, w32, acfg, {"zero": zero, "live": live}, seqs, 4, 12, (8, 16, 4), 8, 16)
    assert res["kl"]["swa"] > 0
    check("zero-init AHN = sinks + window", res["kl"]["zero"], res["kl"]["swa"], 1e-6)
    assert res["recovered"]["zero"] == pytest.approx(0.0, abs=1e-5)
    ref = tr.evaluate_kl(base, "gdn", live, [np.asarray(s) for s in seqs], 4, 12, 8)
    check("swa KL vs the float32 path", res["kl"]["swa"], ref["swa"], 1e-4)
    check("AHN KL vs the float32 path", res["kl"]["live"], ref["ahn"], 1e-4)
    assert len(res["per_sequence"]) == 2
