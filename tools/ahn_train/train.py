"""Train an AHN block for a qwen2 GGUF by self-distillation (ahn.md §5.1), in two stages.

``python -m ahn_train.train --config CONFIG.toml`` runs, resumably:

- **Stage 1, layer-wise matching** (optional, cheap on CPU). The frozen teacher (full attention)
  runs once per training sequence and keeps each layer's x̂, post-RoPE q/k, v and full-attention
  output before ``o_proj``. Then every layer's AHN is trained, all layers at once but
  independently, so that sinks + window attention plus the AHN read-out matches the
  full-attention output: loss ``o_proj`` = Σ‖(swa + ahn − full)·Woᵀ‖² / Σ‖(swa − full)·Woᵀ‖² over
  the rows ``t >= S+W`` (the share of the gap left, 1 at the zero init), or ``l2norm`` = the MSE of
  the L2-normalised rows (the paper's unused ``distill`` option). No backward pass through the
  network. Each teacher pass serves ``steps_per_sequence`` steps with fresh (W, S).
- **Stage 2, end-to-end self-distillation** (the paper's objective). Teacher = full attention,
  student = sinks + window + AHN with the same frozen weights; loss = forward
  KL(teacher ‖ student) over the positions ``t >= W_tr`` (optionally a random subset of
  ``kl_positions`` of them per step, which estimates the same mean); only AHN weights get
  gradients.

Both stages draw (W_tr, S) per step as ahn.md §3.1 (``L/8 < W_tr < L``, ``S <= W_tr/2``, inference
``W = W_tr − S``) from the config's choices, and use AdamW with a linear warmup and cosine decay.
Stage 2 starts from the stage-1 weights (``o_proj`` zero when stage 1 is skipped: the student then
starts as the sinks + window model).

Out: ``<out_dir>/<block>``, an AHN block GGUF (docs/ahn-gguf.md) written by ``ahn_ref.gguf_io``;
checkpoints ``<out_dir>/ckpt-stage{1,2}.npz`` (weights, AdamW moments, step, data cursor, RNG
scheme and seed, wall time) written atomically every ``checkpoint_every`` steps and on stop; a
JSONL log ``<out_dir>/log.jsonl`` (loss, lr, W, S, step time, tokens/s). Rerunning the same
command resumes from the newest checkpoint and gives bit-identical weights to an uninterrupted run:
the data and the (W, S) of step i depend only on (seed, stage, i).
"""

import argparse
import hashlib
import io
import json
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ahn_ref import gguf_io
from ahn_ref.init import init_ahn

from . import accel
from . import data as data_mod
from . import fastmodel as fm

WINDOW_CHOICES = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
SINK_CHOICES = (0, 32, 64, 128, 512, 2048, 4096)
"""The paper's sets (ahn.md §3.1); a config may restrict them."""


@dataclass
class StageConfig:
    steps: int = 0
    lr: float = 1e-4
    max_minutes: float = 0.0
    """Stop (after a checkpoint) when the stage has run this long in total; 0 = no limit."""
    schedule: str = "steps"
    """``steps``: warmup and cosine over ``steps``. ``minutes``: over ``max_minutes`` of wall time
    (for a GPU session with a fixed budget; the stage is done when the time is up, and a resumed
    run is no longer bit-identical to an uninterrupted one)."""
    steps_per_sequence: int = 1
    loss: str = "o_proj"
    kl_positions: int = 0


@dataclass
class Config:
    model: str
    data: str
    out_dir: str
    block: str = "ahn.gguf"
    variant: str = "gdn"
    seed: int = 0
    seq_len: int = 2048
    window_choices: tuple = WINDOW_CHOICES
    sink_choices: tuple = SINK_CHOICES
    synthetic_fraction: float = 0.25
    min_window_share: float = 0.125
    """W_tr must exceed this share of the sequence (the paper's L/8, ahn.md §3.1)."""
    checkpoint_every: int = 10
    scan_chunk: int = 64
    warmup: float = 0.1
    weight_decay: float = 0.1
    betas: tuple = (0.9, 0.999)
    adam_eps: float = 1e-8
    export_window: int = 1024
    export_sinks: int = 64
    init_block: str = ""
    """Start from this AHN block (a warm start) instead of the zero init; "" = zero init."""
    accel: bool = False
    """Stage 2 on the accelerator path (``accel``): bfloat16 base, banded attention, batches."""
    batch: int = 1
    """Sequences per stage-2 step on the accelerator path."""
    attention_block: int = 256
    """Row block of the accelerator path's banded attention."""
    corpus: bool = False
    """Train on the large corpus (``ahn_train.corpus``) as well as the books and tasks."""
    stage1: StageConfig = field(default_factory=StageConfig)
    stage2: StageConfig = field(default_factory=StageConfig)
    eval: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d, base_dir=Path(".")):
        d = dict(d)
        s1 = StageConfig(**d.pop("stage1", {}))
        s2 = StageConfig(**d.pop("stage2", {}))
        for k in ("window_choices", "sink_choices", "betas"):
            if k in d:
                d[k] = tuple(d[k])
        cfg = cls(**d, stage1=s1, stage2=s2)
        for k in ("model", "data", "out_dir", "init_block"):
            if not getattr(cfg, k):
                continue
            p = Path(getattr(cfg, k)).expanduser()
            setattr(cfg, k, str(p if p.is_absolute() else (base_dir / p).resolve()))
        return cfg

    @classmethod
    def load(cls, path):
        path = Path(path)
        with open(path, "rb") as f:
            return cls.from_dict(tomllib.load(f), path.parent)

    def digest(self, stage):
        """Hash of the settings a stage's checkpoint depends on: the shared ones, and those of this
        stage and the stages before it (not the stop limits, not a later stage's settings)."""
        keep = {k: v for k, v in self.__dict__.items() if k not in ("stage1", "stage2", "eval")}
        for s in ("stage1", "stage2")[:stage]:
            st = dict(getattr(self, s).__dict__)
            if st["schedule"] == "steps":
                st.pop("max_minutes")
            keep[s] = st
        return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Randomness: everything of step i comes from (seed, stage, i, purpose), so a resumed run draws
# exactly what an uninterrupted one would have.


def rng_for(seed, stage, index, purpose):
    return np.random.default_rng([seed, stage, index, purpose])


def draw_window(cfg: Config, rng, seq_len):
    """``(W_tr, S)`` as ahn.md §3.1: ``L/8 < W_tr < L`` and ``S <= W_tr/2`` (inference W = W_tr − S)."""
    windows = [w for w in cfg.window_choices if seq_len * cfg.min_window_share < w < seq_len]
    if not windows:
        rule = f"{cfg.min_window_share:g}·L < W_tr < L"
        raise ValueError(f"no window in {cfg.window_choices} satisfies {rule} for L={seq_len}")
    w_tr = int(rng.choice(windows))
    sinks = [s for s in cfg.sink_choices if s <= 0.5 * w_tr and s < w_tr]
    return w_tr, int(rng.choice(sinks))


class Sampler:
    """Training sequences of ``seq_len`` tokens; sequence i is a pure function of (seed, stage, i).

    A sequence is either a window of a book stream (streams weighted by length) or, with
    probability ``synthetic_fraction``, a synthetic task record that fits, preceded by a window of
    book text so the task (and its answer) ends exactly at ``seq_len``.
    """

    def __init__(self, streams, synthetic, seq_len, synthetic_fraction, seed):
        self.names = sorted(streams)
        self.streams = [np.asarray(streams[n], np.int64) for n in self.names]
        lengths = np.array([len(s) for s in self.streams], np.float64)
        if (lengths <= seq_len).any():
            short = [n for n, s in zip(self.names, self.streams, strict=True) if len(s) <= seq_len]
            raise ValueError(f"streams shorter than seq_len {seq_len}: {short}")
        self.weights = lengths / lengths.sum()
        self.records = [r for recs in synthetic.values() for r in recs if r["n_tokens"] + 2 <= seq_len]
        self.records.sort(key=lambda r: (r["task"], r["target_length"], r["index"]))
        self.seq_len, self.fraction, self.seed = seq_len, synthetic_fraction, seed

    def _book(self, rng, n):
        s = self.streams[int(rng.choice(len(self.streams), p=self.weights))]
        off = int(rng.integers(0, len(s) - n + 1))
        return s[off : off + n]

    def sequence(self, stage, i):
        rng = rng_for(self.seed, stage, i, 0)
        if self.records and rng.uniform() < self.fraction:
            r = self.records[int(rng.integers(len(self.records)))]
            task = np.asarray(r["input_ids"], np.int64)
            # The answer follows the prompt, so the teacher's distribution on it is in the loss.
            answer = np.asarray(r["answer_ids"], np.int64) if "answer_ids" in r else np.zeros(0, np.int64)
            tail = np.concatenate([task, answer])[: self.seq_len]
            head = self._book(rng, self.seq_len - len(tail))
            return np.concatenate([head, tail])
        return self._book(rng, self.seq_len)


# ---------------------------------------------------------------------------------------------
# AdamW with warmup + cosine decay (decoupled weight decay on the projection matrices only)


def lr_at(step, total, peak, warmup):
    n_warm = max(1, int(round(warmup * total)))
    if step < n_warm:
        return peak * (step + 1) / n_warm
    progress = (step - n_warm) / max(1, total - n_warm)
    return peak * 0.5 * (1.0 + np.cos(np.pi * min(1.0, progress)))


def decays(name):
    """Weight decay applies to matrices (projections, ``ahn_out``), not to vectors and norms."""
    return name.endswith(".weight") and name != "ahn_norm.weight"


def make_update(cfg: Config):
    b1, b2 = cfg.betas

    @jax.jit
    def _update(params, grads, m, v, bc1, bc2, lr):
        new_p, new_m, new_v = {}, {}, {}
        for n in params:
            g = grads[n]
            new_m[n] = b1 * m[n] + (1 - b1) * g
            new_v[n] = b2 * v[n] + (1 - b2) * g * g
            mhat = new_m[n] / bc1
            vhat = new_v[n] / bc2
            p = params[n]
            if decays(n):
                p = p * (1 - lr * cfg.weight_decay)
            new_p[n] = p - lr * mhat / (jnp.sqrt(vhat) + cfg.adam_eps)
        return new_p, new_m, new_v

    def update(params, grads, m, v, step, lr):
        """One AdamW step (``step`` counts from 0); scalars go in as float32 so nothing widens."""
        t = step + 1
        f32 = np.float32
        return _update(params, grads, m, v, f32(1 - b1**t), f32(1 - b2**t), f32(lr))

    return update


# ---------------------------------------------------------------------------------------------
# Losses


def stage1_loss_fn(base: fm.Base, acfg, kind, chunk):
    """Σ over layers of the layer-wise matching loss; ``cache`` holds the teacher's stacked tensors."""
    lc = base.lc

    def per_layer(ahn_l, wo, c, n_sink, n_window):
        n = c["q"].shape[0]
        pos = jnp.arange(n)
        swa = fm.attend(c["q"], c["k"], c["v"], pos, pos, n_sink, n_window)
        mem = fm.ahn_memory(acfg, lc, ahn_l, c["xhat"], c["q"], c["k"], c["v"], n_sink, n_window, chunk)
        valid = (pos >= n_sink + n_window)[:, None]
        if kind == "o_proj":
            err = jnp.where(valid, (swa + mem - c["attn"]) @ wo.T, 0.0)
            gap = jnp.where(valid, (swa - c["attn"]) @ wo.T, 0.0)
            return jnp.sum(err * err) / (jnp.sum(gap * gap) + 1e-12)
        if kind == "l2norm":
            unit = lambda x: x / (jnp.linalg.norm(x, axis=-1, keepdims=True) + 1e-6)  # noqa: E731
            d = jnp.where(valid, unit(swa + mem) - unit(c["attn"]), 0.0)
            return jnp.sum(d * d) / jnp.maximum(jnp.sum(valid), 1)
        raise ValueError(f"unknown stage-1 loss {kind!r} (o_proj or l2norm)")

    def loss(ahn, w, cache, n_sink, n_window):
        def body(_, xs):
            ahn_l, wo, c = xs
            return None, per_layer(ahn_l, wo, c, n_sink, n_window)

        _, losses = jax.lax.scan(body, None, (ahn, w["layers"]["attn_output.weight"], cache))
        return jnp.mean(losses), losses

    return loss


def stage2_loss_fn(base: fm.Base, acfg, chunk):
    """Mean forward KL(teacher ‖ student) over rows ``idx`` weighted by ``w`` (teacher given as hidden)."""

    cfg = base.cfg

    def loss(ahn, w, tokens, teacher_h, idx, weight, n_sink, n_window):
        h = fm.hidden(cfg, w, acfg, ahn, tokens, n_sink, n_window, chunk)
        t_logp = jax.lax.stop_gradient(fm.log_probs(cfg, w, teacher_h[idx]))
        s_logp = fm.log_probs(cfg, w, h[idx])
        return jnp.sum(weight * fm.kl_rows(t_logp, s_logp)) / jnp.sum(weight)

    return loss


def kl_rows_for(cfg_positions, n, w_tr, rng):
    """Rows and weights of the KL: all rows ``>= W_tr`` (``0``), or a random subset of that many."""
    if cfg_positions <= 0:
        idx = np.arange(n)
        return idx, (idx >= w_tr).astype(np.float32)
    idx = np.sort(rng.integers(w_tr, n, cfg_positions))
    return idx, np.ones(cfg_positions, np.float32)


# ---------------------------------------------------------------------------------------------
# Checkpoints


def save_checkpoint(path, params, m, v, meta):
    arrays = {}
    for prefix, tree in (("p", params), ("m", m), ("v", v)):
        for n, a in tree.items():
            arrays[f"{prefix}/{n}"] = np.asarray(a)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data_mod.atomic_write(path, buf.getvalue())


def load_checkpoint(path):
    with np.load(path) as z:
        meta = json.loads(bytes(z["meta"]).decode())
        trees = {"p": {}, "m": {}, "v": {}}
        for key in z.files:
            if key != "meta":
                prefix, name = key.split("/", 1)
                trees[prefix][name] = jnp.asarray(z[key])
    return trees["p"], trees["m"], trees["v"], meta


def init_params(base: fm.Base, variant, seed):
    acfg = base.ahn_config(variant)
    rng = np.random.default_rng([seed, 99])
    layers = [init_ahn(rng, acfg, zero_out=True, dtype=jnp.float32) for _ in range(base.cfg.n_layer)]
    return fm.stack(layers)


def export_block(cfg: Config, base: fm.Base, params, path=None):
    """Write the AHN weights as a block GGUF (docs/ahn-gguf.md) with the config's default W and S."""
    path = Path(path or Path(cfg.out_dir) / cfg.block)
    acfg = base.ahn_config(cfg.variant)
    layers = fm.unstack(params)
    tmp = path.with_name(path.name + ".partial")
    gguf_io.write_block(tmp, acfg, layers, window=cfg.export_window, sinks=cfg.export_sinks)
    tmp.replace(path)
    return path


# ---------------------------------------------------------------------------------------------
# The training loop


_COMPILED = {}


def _compiled(base):
    """Jitted functions per ``Base`` object, shared by trainers of the same frozen model (the
    weights are arguments, so only the shapes and settings in the keys matter)."""
    entry = _COMPILED.get(id(base))
    if entry is None or entry[0] is not base:
        entry = _COMPILED[id(base)] = (base, {})
    return entry[1]


class Trainer:
    def __init__(self, cfg: Config, base: fm.Base | None = None, streams=None, synthetic=None, log=print):
        self.cfg = cfg
        self.log = log
        self.out = Path(cfg.out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.base = base or fm.Base.load(cfg.model)
        if streams is None:
            streams, synthetic = data_mod.load_split(cfg.data, "train", corpus=cfg.corpus)
        self.sampler = Sampler(streams, synthetic or {}, cfg.seq_len, cfg.synthetic_fraction, cfg.seed)
        self.acfg = self.base.ahn_config(cfg.variant)
        self.update = make_update(cfg)
        self._jit = _compiled(self.base)
        self.deadline = None
        """Wall-clock time (``time.time()``) after which a stage stops after its step, as a kill
        would: for runs split over several calls of limited length."""

    def _log_row(self, row):
        with open(self.out / "log.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")

    def ckpt_path(self, stage):
        return self.out / f"ckpt-stage{stage}.npz"

    def _start(self, stage, init):
        """``(params, m, v, meta)``: from this stage's checkpoint, else a fresh optimizer on ``init``."""
        path = self.ckpt_path(stage)
        if path.exists():
            params, m, v, meta = load_checkpoint(path)
            if meta["config"] != self.cfg.digest(stage):
                raise ValueError(f"{path} was written with other settings; use another out_dir")
            self.log(f"stage {stage}: resuming at step {meta['step']} from {path.name}")
            return params, m, v, meta
        zeros = {n: jnp.zeros_like(a) for n, a in init.items()}
        meta = {"stage": stage, "step": 0, "cursor": 0, "wall_s": 0.0, "done": False}
        meta.update({"config": self.cfg.digest(stage), "rng": {"seed": self.cfg.seed, "scheme": "per-step"}})
        return dict(init), zeros, dict(zeros), meta

    def teacher_cache(self, tokens):
        if "teacher" not in self._jit:
            self._jit["teacher"] = jax.jit(lambda w, t: fm.teacher_layers(self.base.cfg, w, t))
        return self._jit["teacher"](self.base.weights, jnp.asarray(tokens))

    def teacher_hidden(self, tokens):
        if "teacher_h" not in self._jit:
            cfg = self.base.cfg
            self._jit["teacher_h"] = jax.jit(
                lambda w, t: fm.hidden(cfg, w, None, None, t, 0, t.shape[0], remat=False)
            )
        return self._jit["teacher_h"](self.base.weights, jnp.asarray(tokens))

    def accel_weights(self):
        """The frozen weights in bfloat16 for the accelerator path (made once)."""
        if "accel_w" not in self._jit:
            self._jit["accel_w"] = accel.mixed_weights(self.base)
        return self._jit["accel_w"]

    def accel_band(self):
        return accel.band_for(self.cfg.window_choices, self.cfg.sink_choices, self.cfg.attention_block)

    def accel_teacher(self):
        if "accel_teacher" not in self._jit:
            cfg = self.base.cfg
            self._jit["accel_teacher"] = jax.jit(lambda w, t, i: accel.teacher_log_probs(cfg, w, t, i))
        return self._jit["accel_teacher"]

    def _accel_grad(self):
        key = ("accel_grad", self.cfg.variant, self.cfg.scan_chunk, self.accel_band())
        if key not in self._jit:
            loss_fn = accel.kl_loss_fn(self.base.cfg, self.acfg, self.accel_band(), self.cfg.scan_chunk)
            self._jit[key] = jax.jit(jax.value_and_grad(loss_fn))
        return self._jit[key]

    def run_stage(self, stage, init, stop_at=None):
        """Run (or resume) one stage up to its step count, limits or ``stop_at`` (a step)."""
        sc = self.cfg.stage1 if stage == 1 else self.cfg.stage2
        params, m, v, meta = self._start(stage, init)
        if meta["done"] or sc.steps == 0:
            return params, meta
        on_accel = stage == 2 and self.cfg.accel
        batch = self.cfg.batch if on_accel else 1
        if on_accel:
            grad_fn = self._accel_grad()
        else:
            if stage == 1:
                loss_fn = stage1_loss_fn(self.base, self.acfg, sc.loss, self.cfg.scan_chunk)
            else:
                loss_fn = stage2_loss_fn(self.base, self.acfg, self.cfg.scan_chunk)
            key = ("grad", stage, sc.loss if stage == 1 else "kl", self.cfg.variant, self.cfg.scan_chunk)
            if key not in self._jit:
                self._jit[key] = jax.jit(jax.value_and_grad(loss_fn, has_aux=stage == 1))
            grad_fn = self._jit[key]
        started = time.time()
        wall0 = meta["wall_s"]

        def finished(step, wall):
            timed_out = sc.schedule == "minutes" and wall >= 60 * sc.max_minutes
            return step >= sc.steps or timed_out

        cache, cache_seq = None, None
        peak = accel.peak_tflops() if on_accel else None
        step = meta["step"]
        while step < sc.steps and (stop_at is None or step < stop_at):
            if sc.max_minutes and wall0 + time.time() - started >= 60 * sc.max_minutes:
                self.log(f"stage {stage}: time limit {sc.max_minutes} min reached at step {step}")
                break
            if self.deadline is not None and time.time() >= self.deadline:
                self.log(f"stage {stage}: this call's time is up at step {step}; run again to go on")
                break
            t0, c0 = time.time(), time.process_time()
            seq = step // sc.steps_per_sequence if stage == 1 else step * batch
            tokens = self.sampler.sequence(stage, seq)
            w_tr, sinks = draw_window(self.cfg, rng_for(self.cfg.seed, stage, step, 1), len(tokens))
            window = w_tr - sinks
            aux = None
            flops = None
            if on_accel:
                # Sequences seq .. seq+batch-1, each with the KL rows of its own index (with
                # batch 1 exactly the sequence and rows of the float32 path's step).
                toks = np.stack([tokens] + [self.sampler.sequence(stage, seq + j) for j in range(1, batch)])
                rows = [
                    kl_rows_for(sc.kl_positions, len(tokens), w_tr, rng_for(self.cfg.seed, stage, seq + j, 2))
                    for j in range(batch)
                ]
                idx = jnp.asarray(np.stack([r[0] for r in rows]))
                w = jnp.asarray(np.stack([r[1] for r in rows]))
                toks = jnp.asarray(toks)
                t_logp = self.accel_teacher()(self.accel_weights(), toks, idx)
                loss, grads = grad_fn(params, self.accel_weights(), toks, t_logp, idx, w, sinks, window)
                flops = batch * accel.training_flops(self.base.cfg, len(tokens), idx.shape[1], w_tr)
            elif stage == 1:
                if cache_seq != seq:
                    _, cache = self.teacher_cache(tokens)
                    cache_seq = seq
                (loss, aux), grads = grad_fn(params, self.base.weights, cache, sinks, window)
            else:
                teacher_h = self.teacher_hidden(tokens)
                rng = rng_for(self.cfg.seed, stage, step, 2)
                idx, w = (jnp.asarray(x) for x in kl_rows_for(sc.kl_positions, len(tokens), w_tr, rng))
                toks = jnp.asarray(tokens)
                loss, grads = grad_fn(params, self.base.weights, toks, teacher_h, idx, w, sinks, window)
            if sc.schedule == "minutes":
                # The schedule's time is the step's start: its own length is not known yet.
                lr = lr_at(wall0 + t0 - started, 60 * sc.max_minutes, sc.lr, self.cfg.warmup)
            else:
                lr = lr_at(step, sc.steps, sc.lr, self.cfg.warmup)
            params, m, v = self.update(params, grads, m, v, step, lr)
            loss = float(loss)
            step += 1
            dt = time.time() - t0
            row = {"stage": stage, "step": step, "loss": loss, "lr": lr, "W": window, "S": sinks, "seq": seq}
            row.update({"step_s": round(dt, 3), "cpu_s": round(time.process_time() - c0, 3)})
            row["tokens_per_s"] = round(batch * len(tokens) / dt, 1)
            if flops is not None:
                row["tflops"] = float(f"{flops / dt / 1e12:.4g}")
                if peak:
                    row["mfu"] = round(flops / dt / 1e12 / peak, 4)
            row["wall_s"] = round(wall0 + time.time() - started, 1)
            if aux is not None:
                row["layer_loss"] = [round(float(x), 4) for x in aux]
            self._log_row(row)
            self.log(f"stage {stage} step {step}/{sc.steps}: loss {loss:.5f} W={window} S={sinks} {dt:.1f}s")
            if step % self.cfg.checkpoint_every == 0 or step == sc.steps:
                wall = wall0 + time.time() - started
                meta.update(step=step, cursor=seq + batch, wall_s=wall, done=finished(step, wall))
                save_checkpoint(self.ckpt_path(stage), params, m, v, meta)
        wall = wall0 + time.time() - started
        meta.update(step=step, wall_s=wall, done=finished(step, wall))
        save_checkpoint(self.ckpt_path(stage), params, m, v, meta)
        return params, meta

    def run(self, stop_at=None):
        """Stage 1 then stage 2 (each resumed if checkpointed); write the block when both are done.

        ``stop_at = (stage, step)`` stops (after a checkpoint) when that stage reaches that step, as
        a kill would; returns ``(params, done)``.
        """
        if self.cfg.init_block:
            init = fm.stack(gguf_io.read_block(self.cfg.init_block).layers)
            self.log(f"warm start from {self.cfg.init_block}")
        else:
            init = init_params(self.base, self.cfg.variant, self.cfg.seed)
        stop1 = stop_at[1] if stop_at and stop_at[0] == 1 else None
        params, meta1 = self.run_stage(1, init, stop1)
        if not meta1["done"] and self.cfg.stage1.steps:
            return params, False
        stop2 = stop_at[1] if stop_at and stop_at[0] == 2 else None
        params, meta2 = self.run_stage(2, params, stop2)
        if not meta2["done"] and self.cfg.stage2.steps:
            return params, False
        path = export_block(self.cfg, self.base, params)
        self.log(f"wrote {path}")
        return params, True


# ---------------------------------------------------------------------------------------------
# Held-out evaluation: mean KL to the full-attention teacher, sinks + window vs AHN


def heldout_sequences(cfg: Config, n_seq, seq_len, seed=1234):
    streams, _ = data_mod.load_split(cfg.data, "heldout")
    names = sorted(streams)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_seq):
        s = streams[names[i % len(names)]]
        off = int(rng.integers(0, len(s) - seq_len))
        out.append(np.asarray(s[off : off + seq_len], np.int64))
    return out


def evaluate_kl(base: fm.Base, variant, params, sequences, sinks, window, chunk=64):
    """Mean per-token KL(teacher ‖ student) over rows ``t >= S+W``: ``{"swa": .., "ahn": ..}``."""
    acfg = base.ahn_config(variant)
    cfg = base.cfg
    n = len(sequences[0])

    @jax.jit
    def kls(w, tokens, ahn):
        idx = jnp.arange(sinks + window, n)
        t_logp = fm.log_probs(cfg, w, fm.hidden(cfg, w, None, None, tokens, 0, n, chunk, remat=False)[idx])
        swa = fm.hidden(cfg, w, None, None, tokens, sinks, window, chunk, remat=False)
        mem = fm.hidden(cfg, w, acfg, ahn, tokens, sinks, window, chunk, remat=False)
        kl_swa = fm.kl_rows(t_logp, fm.log_probs(cfg, w, swa[idx]))
        kl_mem = fm.kl_rows(t_logp, fm.log_probs(cfg, w, mem[idx]))
        return jnp.mean(kl_swa), jnp.mean(kl_mem)

    res = np.array([[float(x) for x in kls(base.weights, jnp.asarray(s), params)] for s in sequences])
    swa, ahn = res.mean(axis=0)
    recovered = (swa - ahn) / swa if swa > 0 else 0.0
    return {"swa": swa, "ahn": ahn, "recovered": recovered, "per_sequence": res.tolist()}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m ahn_train.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--eval-only", action="store_true", help="evaluate the block in out_dir (or --block)")
    ap.add_argument("--block", help="AHN block for --eval-only (default: the config's output)")
    args = ap.parse_args(argv)
    cfg = Config.load(args.config)
    if args.eval_only:
        base = fm.Base.load(cfg.model)
        path = args.block or Path(cfg.out_dir) / cfg.block
        params = fm.stack(gguf_io.read_block(path).layers)
        e = cfg.eval
        seqs = heldout_sequences(cfg, e.get("sequences", 2), e.get("seq_len", 2048))
        res = evaluate_kl(base, cfg.variant, params, seqs, e.get("sinks", 64), e.get("window", 512))
        print(json.dumps(res))
        return 0
    trainer = Trainer(cfg)
    _, done = trainer.run()
    return 0 if done else 3


if __name__ == "__main__":
    sys.exit(main())
