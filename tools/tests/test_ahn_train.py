"""The AHN trainer (tools/ahn_train) on tiny random models: forward = reference, losses,
gradients, resumption, block output."""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ahn_ref import gguf_io
from ahn_ref import layer as ref_layer
from ahn_ref import model as ref_model
from ahn_ref.config import AhnConfig, LayerConfig, ModelConfig
from ahn_ref.init import random_layer, random_model
from ahn_train import fastmodel as fm
from ahn_train import train as tr

TOL_F64 = 1e-12
"""The training forward against the reference layer, both float64: same arithmetic."""
TOL_F32 = 2e-4
"""float32 training forward against the float64 reference model (logits)."""

N_VOCAB = 61


@functools.cache
def tiny_base(seed=0, n_layer=2, sharp=3.0):
    """A tiny float32 base model; ``sharp`` scales q/k so attention is peaked (visible KL gaps)."""
    lc = LayerConfig(n_embd=32, n_head=4, n_head_kv=2, head_dim=8, n_ff=48, n_sink=0, n_window=1)
    cfg = ModelConfig(n_vocab=N_VOCAB, n_layer=n_layer, layer=lc, tied_embeddings=True)
    glob, layers = random_model(np.random.default_rng(seed), cfg, dtype=jnp.float32)
    for p in layers:
        for n in ("attn_q.weight", "attn_k.weight"):
            p[n] = p[n] * sharp
    layers = [{k: v for k, v in p.items() if not k.startswith("ahn_")} for p in layers]
    return fm.Base(cfg, glob, layers), glob, layers


def tiny_config(tmp_path, **over):
    d = dict(
        model="unused",
        data="unused",
        out_dir=str(tmp_path),
        block="tiny.ahn.gguf",
        seq_len=48,
        window_choices=[8, 16],
        sink_choices=[0, 4],
        checkpoint_every=2,
        scan_chunk=8,
        synthetic_fraction=0.0,
        export_window=16,
        export_sinks=4,
        stage1={"steps": 4, "lr": 1e-2, "steps_per_sequence": 2},
        stage2={"steps": 4, "lr": 1e-2, "kl_positions": 0},
    )
    for k, v in over.items():
        d[k] = v
    return tr.Config.from_dict(d)


def tiny_streams(seed=1, lengths=(400, 300)):
    rng = np.random.default_rng(seed)
    return {f"s{i}": rng.integers(0, N_VOCAB, n) for i, n in enumerate(lengths)}


@pytest.mark.parametrize("variant", ["gdn", "dn", "mamba2"])
@pytest.mark.parametrize("sinks,window", [(0, 5), (3, 7), (2, 40)])
def test_training_forward_equals_reference_layer(check, variant, sinks, window):
    """Traced S/W, masked AHN steps and the chunkwise delta rule = ahn_ref's layer prefill."""
    n = 37
    acfg = AhnConfig(variant=variant, n_head=4, head_dim=8, n_embd=32)
    lc = LayerConfig(
        n_embd=32, n_head=4, n_head_kv=2, head_dim=8, n_ff=48, n_sink=sinks, n_window=window, ahn=acfg
    )
    p = random_layer(np.random.default_rng(0), lc, zero_out=False)
    h = jnp.asarray(np.random.default_rng(1).normal(size=(n, 32)))
    ref, _, ex = ref_layer.prefill(lc, p, h)
    check("layer out", fm.layer_forward(lc, acfg, p, h, sinks, window, 8), ref, TOL_F64)
    for chunked in (True, False):
        mem = fm.ahn_memory(acfg, lc, p, ex["xhat"], ex["q"], ex["k"], ex["v"], sinks, window, 8, chunked)
        check(f"ahn chunked={chunked}", mem, ex["ahn"], TOL_F64)


def test_kl_zero_when_window_covers_sequence_and_positive_otherwise(tmp_path):
    base, _, _ = tiny_base()
    acfg = base.ahn_config("gdn")
    params = tr.init_params(base, "gdn", 0)
    params["ahn_out.weight"] = params["ahn_out.weight"] + 0.3  # even a live AHN: nothing is evicted
    tokens = jnp.asarray(np.random.default_rng(2).integers(0, N_VOCAB, 48))
    t_h = fm.hidden(base.cfg, base.weights, None, None, tokens, 0, 48, remat=False)
    loss = tr.stage2_loss_fn(base, acfg, 8)
    idx, w = (jnp.asarray(x) for x in tr.kl_rows_for(0, 48, 0, None))
    assert float(loss(params, base.weights, tokens, t_h, idx, w, 0, 48)) == pytest.approx(0.0, abs=1e-6)
    assert float(loss(params, base.weights, tokens, t_h, idx, w, 4, 60)) == pytest.approx(0.0, abs=1e-6)
    zero = tr.init_params(base, "gdn", 0)
    idx, w = (jnp.asarray(x) for x in tr.kl_rows_for(0, 48, 12, None))
    assert float(loss(zero, base.weights, tokens, t_h, idx, w, 4, 8)) > 1e-4


def test_stage1_loss_is_one_at_zero_init(tmp_path):
    """``o_proj`` loss = share of the SWA gap left: exactly 1 while ``ahn_out`` is zero."""
    base, _, _ = tiny_base()
    acfg = base.ahn_config("gdn")
    tokens = jnp.asarray(np.random.default_rng(2).integers(0, N_VOCAB, 48))
    _, cache = fm.teacher_layers(base.cfg, base.weights, tokens)
    loss, per_layer = tr.stage1_loss_fn(base, acfg, "o_proj", 8)(
        tr.init_params(base, "gdn", 0), base.weights, cache, 4, 8
    )
    np.testing.assert_allclose(np.asarray(per_layer), 1.0, rtol=1e-6)


def test_only_ahn_weights_change_and_zero_init_grads_reach_o_proj_only(tmp_path):
    base, _, _ = tiny_base()
    before = jax.tree_util.tree_map(np.array, base.weights)
    acfg = base.ahn_config("gdn")
    params = tr.init_params(base, "gdn", 0)
    tokens = jnp.asarray(np.random.default_rng(2).integers(0, N_VOCAB, 48))
    t_h = fm.hidden(base.cfg, base.weights, None, None, tokens, 0, 48, remat=False)
    idx, w = (jnp.asarray(x) for x in tr.kl_rows_for(0, 48, 12, None))
    grads = jax.grad(tr.stage2_loss_fn(base, acfg, 8))(params, base.weights, tokens, t_h, idx, w, 4, 8)
    assert set(grads) == set(params)  # the trainer differentiates the AHN weights only
    nonzero = {n for n, g in grads.items() if float(jnp.max(jnp.abs(g))) > 0}
    assert nonzero == {"ahn_out.weight"}  # ahn.md §5.1: o_proj = 0 blocks every other gradient at step 0

    trainer = tr.Trainer(
        tiny_config(tmp_path), base=base, streams=tiny_streams(), synthetic={}, log=lambda *_: None
    )
    trained, done = trainer.run()
    assert done
    after = jax.tree_util.tree_map(np.array, base.weights)
    for a, b in zip(jax.tree_util.tree_leaves(before), jax.tree_util.tree_leaves(after), strict=True):
        np.testing.assert_array_equal(a, b)
    changed = {n for n in params if not np.array_equal(np.asarray(params[n]), np.asarray(trained[n]))}
    assert "ahn_out.weight" in changed and "ahn_beta.weight" in changed
    assert "ahn_d" not in changed  # unused by GDN: no gradient, no decay


def _fixed_trainer(tmp_path, stage1_steps, stage2_steps, **over):
    cfg = tiny_config(
        tmp_path,
        window_choices=[16],
        sink_choices=[0],
        stage1={"steps": stage1_steps, "lr": 3e-2, "steps_per_sequence": 1},
        stage2={"steps": stage2_steps, "lr": 3e-2, "kl_positions": 0},
        warmup=0.0,
        **over,
    )
    base, _, _ = tiny_base()
    # One stream just longer than a sequence: every step sees (nearly) the same tokens.
    streams = tiny_streams(lengths=(49,))
    return tr.Trainer(cfg, base=base, streams=streams, synthetic={}, log=lambda *_: None)


def _losses(tmp_path, stage):
    import json

    rows = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    return [r["loss"] for r in rows if r["stage"] == stage]


def test_a_few_steps_lower_both_losses(tmp_path):
    trainer = _fixed_trainer(tmp_path, 12, 12)
    trainer.run()
    s1, s2 = _losses(tmp_path, 1), _losses(tmp_path, 2)
    assert np.mean(s1[-3:]) < 0.8 * s1[0], s1
    assert np.mean(s2[-3:]) < 0.8 * s2[0], s2


def test_resume_gives_bit_identical_weights(tmp_path):
    straight, _ = _fixed_trainer(tmp_path / "a", 4, 4, checkpoint_every=1).run()
    for stop in ((1, 1), (1, 3), (2, 2)):
        t = _fixed_trainer(tmp_path / "b", 4, 4, checkpoint_every=1)
        _, done = t.run(stop_at=stop)
        assert not done
    resumed, done = _fixed_trainer(tmp_path / "b", 4, 4, checkpoint_every=1).run()
    assert done
    for n in straight:
        np.testing.assert_array_equal(np.asarray(straight[n]), np.asarray(resumed[n]), err_msg=n)
    a = (tmp_path / "a" / "tiny.ahn.gguf").read_bytes()
    assert a == (tmp_path / "b" / "tiny.ahn.gguf").read_bytes()
    _, _, _, meta = tr.load_checkpoint(tmp_path / "b" / "ckpt-stage2.npz")
    assert meta["step"] == 4 and meta["done"] and meta["rng"]["seed"] == 0


def test_checkpoint_of_other_settings_is_refused(tmp_path):
    _fixed_trainer(tmp_path, 2, 0).run(stop_at=(1, 1))
    t = _fixed_trainer(tmp_path, 2, 0, seed=5)
    with pytest.raises(ValueError, match="other settings"):
        t.run()


def test_stage1_checkpoint_survives_a_change_of_stage2_settings(tmp_path):
    _, done = _fixed_trainer(tmp_path, 3, 4).run(stop_at=(1, 2))
    assert not done
    # A shorter stage 2 does not touch what stage 1 computed: its checkpoint resumes...
    _, done = _fixed_trainer(tmp_path, 3, 2).run()
    assert done
    # ...but a stage-2 checkpoint is tied to the stage-2 settings it ran with.
    with pytest.raises(ValueError, match="other settings"):
        _fixed_trainer(tmp_path, 3, 3).run()


def test_written_block_loads_in_the_reference_and_matches(tmp_path, check):
    trainer = _fixed_trainer(tmp_path, 3, 3)
    params, done = trainer.run()
    assert done
    block = gguf_io.read_block(tmp_path / "tiny.ahn.gguf")
    assert (block.window, block.sinks, block.cfg.variant, block.n_layer) == (16, 4, "gdn", 2)
    for i, layer in enumerate(block.layers):
        for n, a in layer.items():
            np.testing.assert_array_equal(a, np.asarray(params[n][i]), err_msg=f"blk.{i}.{n}")
    # The reference reads base + block and computes what the trainer's forward computes.
    _, glob, layers = tiny_base()
    base_path = tmp_path / "base.gguf"
    cfg = trainer.base.cfg
    gguf_io.write(base_path, cfg, glob, layers)
    loaded = gguf_io.load(base_path, n_sink=4, n_window=8, block=tmp_path / "tiny.ahn.gguf")
    tokens = np.random.default_rng(3).integers(0, N_VOCAB, 40)
    ref_logits, _ = ref_model.forward(
        loaded.cfg, loaded.glob, loaded.layers, tokens, ref_model.empty_caches(loaded.cfg)
    )
    h = fm.hidden(cfg, trainer.base.weights, trainer.acfg, params, jnp.asarray(tokens), 4, 8, 8, remat=False)
    x = fm.rms_norm(h, trainer.base.weights["out_norm"], cfg.layer.rms_eps)
    ours = x @ trainer.base.weights["head"].T
    check("logits f32 vs reference", ours, ref_logits, TOL_F32)
    assert (
        float(
            jnp.max(
                jnp.abs(
                    ref_logits[12:]
                    - ref_model.forward(
                        dataclasses.replace(
                            loaded.cfg, layer=dataclasses.replace(loaded.cfg.layer, ahn=None)
                        ),
                        loaded.glob,
                        [{k: v for k, v in p.items() if not k.startswith("ahn_")} for p in loaded.layers],
                        tokens,
                        ref_model.empty_caches(
                            dataclasses.replace(
                                loaded.cfg, layer=dataclasses.replace(loaded.cfg.layer, ahn=None)
                            )
                        ),
                    )[0][12:]
                )
            )
        )
        > 1e-4
    )  # the trained AHN is live


def test_window_draws_follow_the_paper_rule():
    cfg = tr.Config.from_dict(dict(model="m", data="d", out_dir="/tmp/x"))
    for i in range(200):
        w_tr, s = tr.draw_window(cfg, tr.rng_for(0, 2, i, 1), 2048)
        assert 2048 / 8 < w_tr < 2048 and s <= w_tr / 2 and w_tr - s >= 1
    with pytest.raises(ValueError, match=r"0\.125·L < W_tr < L"):
        tr.draw_window(dataclasses.replace(cfg, window_choices=(32,)), tr.rng_for(0, 2, 0, 1), 2048)
    # A config may lower the share (the GPU config trains W_tr = 1024 on 8K sequences).
    wide = dataclasses.replace(cfg, window_choices=(1024, 2048), min_window_share=0.12)
    assert {tr.draw_window(wide, tr.rng_for(0, 2, i, 1), 8192)[0] for i in range(50)} == {1024, 2048}


def test_lr_schedule_warmup_then_cosine():
    lrs = [tr.lr_at(s, 100, 1e-4, 0.1) for s in range(100)]
    assert lrs[0] == pytest.approx(1e-5) and lrs[9] == pytest.approx(1e-4)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:], strict=False)) and lrs[-1] < 1e-6


def test_sampler_is_a_pure_function_of_seed_stage_index():
    recs = {
        "passkey_32": [
            {
                "task": "passkey",
                "target_length": 32,
                "index": 0,
                "n_tokens": 20,
                "input_ids": list(range(20)),
                "answer_ids": [7, 8],
            }
        ]
    }
    a = tr.Sampler(tiny_streams(), recs, 48, 0.5, 0)
    b = tr.Sampler(tiny_streams(), recs, 48, 0.5, 0)
    seqs = [a.sequence(2, i) for i in range(20)]
    assert all(len(s) == 48 for s in seqs)
    assert all(np.array_equal(s, b.sequence(2, i)) for i, s in enumerate(seqs))
    tails = [s for s in seqs if list(s[-22:]) == list(range(20)) + [7, 8]]
    assert 0 < len(tails) < 20  # some sequences end with the task and its answer


@pytest.mark.parametrize("size", [1, 2, 7, 8, 64])
def test_unit_lower_inverse(check, size):
    # |A_ij| = β·|k_i·k_j|·decay <= 1 in the delta rule; uniform(-1, 1) entries cover that range.
    a = np.tril(np.random.default_rng(size).uniform(-1, 1, (3, size, size)), -1)
    expected = np.linalg.inv(np.eye(size) + a)
    got = np.asarray(fm.unit_lower_inverse(jnp.asarray(a), size))
    check(
        f"inverse {size} (relative)",
        got / np.max(np.abs(expected)),
        expected / np.max(np.abs(expected)),
        1e-12,
    )


def test_unit_lower_inverse_float32_correlated_keys(check):
    """Nearly equal keys with β = 1 (A = ones below the diagonal): the inverse is bidiagonal (1, −1).
    A power series of A overflows and cancels here in float32 (NaN on the real model)."""
    a = np.tril(np.ones((2, 64, 64), np.float32), -1)
    expected = np.broadcast_to(np.eye(64) - np.eye(64, k=-1), a.shape)
    check("inverse ones float32", fm.unit_lower_inverse(jnp.asarray(a), 64), expected, 1e-6)


def test_chunked_delta_rule_float32_on_correlated_keys(check):
    """float32 chunked delta rule = float64 sequential scan when all keys point the same way."""
    rng = np.random.default_rng(4)
    n, h, d = 200, 2, 16
    base_key = rng.normal(size=(1, h, d))
    k = base_key + 0.01 * rng.normal(size=(n, h, d))
    k = k / np.linalg.norm(k, axis=-1, keepdims=True)
    v, q = rng.normal(size=(n, h, d)), rng.normal(size=(n, h, d))
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    beta, g = np.full((n, h), 0.9), np.full((n, h), -0.01)
    state, expected = np.zeros((h, d, d)), []
    for t in range(n):
        state = np.exp(g[t])[:, None, None] * state
        state = (
            state
            + k[t][:, :, None]
            * (beta[t][:, None] * (v[t] - np.einsum("hkv,hk->hv", state, k[t])))[:, None, :]
        )
        expected.append(np.einsum("hkv,hk->hv", state, q[t]) * d**-0.5)
    f32 = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
    got = fm.delta_rule_chunked(f32(k), f32(v), f32(q), f32(beta), f32(g), d**-0.5, 64)
    assert np.isfinite(np.asarray(got)).all()
    check("chunked f32 vs scan f64", got, np.stack(expected), 1e-4)


def test_publish_writes_block_checksum_and_manifest(tmp_path):
    import hashlib
    import json

    from ahn_train import publish as pub

    model = tmp_path / "base.gguf"
    model.write_bytes(b"not really a model")
    data = tmp_path / "data"
    data.mkdir()
    (data / "manifest.json").write_text(
        json.dumps({"settings": {"seed": 0}, "files": [{"path": "x", "sha256": "ab"}]})
    )
    out = tmp_path / "run"
    trainer = _fixed_trainer(out, 2, 2, model=str(model), data=str(data))
    config = tmp_path / "cfg.toml"
    config.write_text("# the config text\n")
    with pytest.raises(SystemExit, match="missing"):
        pub.publish(trainer.cfg, config, tmp_path / "assets")
    _, done = trainer.run()
    assert done
    m = pub.publish(trainer.cfg, config, tmp_path / "assets")
    shipped = (tmp_path / "assets" / "tiny.ahn.gguf").read_bytes()
    assert shipped == (out / "tiny.ahn.gguf").read_bytes()
    assert m["block_sha256"] == hashlib.sha256(shipped).hexdigest()
    assert (tmp_path / "assets" / "tiny.ahn.gguf.sha256").read_text().strip() == m["block_sha256"]
    saved = json.loads((tmp_path / "assets" / "tiny.ahn.gguf.manifest.json").read_text())
    assert saved["base_model"]["sha256"] == hashlib.sha256(b"not really a model").hexdigest()
    assert saved["stages"]["stage1"]["steps"] == 2 and saved["stages"]["stage2"]["log"]["steps_logged"] == 2
    assert saved["config_text"] == "# the config text\n" and saved["seed"] == 0
    assert saved["data"]["files"] == [{"path": "x", "sha256": "ab"}]
    assert saved["wall_s_total"] > 0


def test_publish_refuses_an_unfinished_run(tmp_path):
    from ahn_train import publish as pub

    trainer = _fixed_trainer(tmp_path, 3, 2)
    trainer.run(stop_at=(1, 2))
    (tmp_path / "tiny.ahn.gguf").write_bytes(b"stale")
    with pytest.raises(SystemExit, match="stopped at step 2 of 3"):
        pub.manifest(trainer.cfg, tmp_path / "cfg.toml", tmp_path / "tiny.ahn.gguf")
