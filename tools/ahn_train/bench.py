"""Step times of both training stages on a real base model (the compute plan in tools/README.md).

``python -m ahn_train.bench --model BASE.gguf --lengths 1024,2048 --windows 256,1024`` prints one
JSON line per (length, window): compile time and steady step time of the teacher pass that stage 1
caches, of a stage-1 step (all layers) and of a stage-2 step (student forward + backward, teacher
hidden states, KL on ``--kl-positions`` rows), as wall and process CPU seconds. Random tokens: the
cost does not depend on them.
"""

import argparse
import json
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import fastmodel as fm
from . import train as tr


def timed(fn, repeat, label=""):
    t0 = time.time()
    jax.block_until_ready(fn())
    first = time.time() - t0
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.time(), time.process_time()
        jax.block_until_ready(fn())
        times.append(time.time() - t0)
        cpu.append(time.process_time() - c0)
    if label:
        row = {"measured": label, "first_s": round(first, 2), "step_s": round(min(times), 2)}
        # CPU seconds of this process (all threads): on a shared machine the wall time depends on
        # the other load, the CPU time much less; an idle 2-core machine needs at least cpu_s / 2.
        row["cpu_s"] = round(min(cpu), 2)
        print(json.dumps(row), flush=True)
    return first, min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m ahn_train.bench")
    ap.add_argument("--model", required=True)
    ap.add_argument("--variant", default="gdn")
    ap.add_argument("--lengths", default="1024,2048")
    ap.add_argument("--windows", default="256,1024")
    ap.add_argument("--sinks", type=int, default=64)
    ap.add_argument("--kl-positions", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--stages", default="1,2")
    ap.add_argument("--chunk", type=int, default=64)
    args = ap.parse_args(argv)
    t0 = time.time()
    base = fm.Base.load(args.model)
    print(json.dumps({"load_s": round(time.time() - t0, 1)}), flush=True)
    params = tr.init_params(base, args.variant, 0)
    params = {k: v + 0.0 for k, v in params.items()}
    acfg = base.ahn_config(args.variant)
    stages = {int(s) for s in args.stages.split(",")}
    rng = np.random.default_rng(0)
    for n in (int(x) for x in args.lengths.split(",")):
        for row in bench_length(base, acfg, params, n, stages, args, rng):
            print(
                json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}),
                flush=True,
            )


def bench_length(base, acfg, params, n, stages, args, rng):
    """Rows of timings for one sequence length ``n``, one per window."""
    w = base.weights
    tokens = jnp.asarray(rng.integers(0, 150_000, n))
    teacher = jax.jit(lambda w, t: fm.teacher_layers(base.cfg, w, t))
    hid = jax.jit(lambda w, t: fm.hidden(base.cfg, w, None, None, t, 0, n, remat=False))
    s1 = jax.jit(jax.value_and_grad(tr.stage1_loss_fn(base, acfg, "o_proj", args.chunk), has_aux=True))
    s2 = jax.jit(jax.value_and_grad(tr.stage2_loss_fn(base, acfg, args.chunk)))
    row = {"seq_len": n}
    if 1 in stages:
        row["teacher_compile_s"], row["teacher_s"] = timed(
            lambda: teacher(w, tokens), args.repeat, f"teacher {n}"
        )
        _, cache = teacher(w, tokens)
    if 2 in stages:
        row["teacher_hidden_compile_s"], row["teacher_hidden_s"] = timed(
            lambda: hid(w, tokens), args.repeat, f"teacher hidden {n}"
        )
        t_h = hid(w, tokens)
    rows = []
    for win in (int(x) for x in args.windows.split(",")):
        r = dict(row, window=win, sinks=args.sinks)
        if 1 in stages:
            step1 = partial(s1, params, w, cache, args.sinks, win)
            r["stage1_compile_s"], r["stage1_step_s"] = timed(step1, args.repeat, f"stage 1 {n} W={win}")
        if 2 in stages and win + args.sinks < n:
            idx, wt = tr.kl_rows_for(args.kl_positions, n, win + args.sinks, rng)
            step2 = partial(s2, params, w, tokens, t_h, jnp.asarray(idx), jnp.asarray(wt), args.sinks, win)
            r["stage2_compile_s"], r["stage2_step_s"] = timed(step2, args.repeat, f"stage 2 {n} W={win}")
        rows.append(r)
    return rows


if __name__ == "__main__":
    main()
