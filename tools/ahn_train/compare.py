"""Does stage 1 (layer-wise matching) help? Two runs at equal wall time, then held-out KL.

``python -m ahn_train.compare --config CONFIG.toml --minutes M [--stage1-share 0.5]`` trains from
the same config twice, in ``<out_dir>/compare-zero`` and ``<out_dir>/compare-stage1``:

- ``zero``: stage 2 only, from the paper's init (``o_proj = 0``), for M minutes;
- ``stage1``: stage 1 for ``share·M`` minutes, then stage 2 from its weights for the rest.

Step counts come from the config (they set the learning-rate schedules); the minutes stop each
stage early (after a checkpoint). Then both are evaluated on the same held-out sequences
(``[eval]`` of the config: ``sequences``, ``seq_len``, ``window``, ``sinks``): mean per-token
KL(full attention ‖ student) over rows ``t >= S+W`` for sinks + window alone and with each AHN.
Prints and writes ``<out_dir>/compare.json``.
"""

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from . import data as data_mod
from . import fastmodel as fm
from . import train as tr


def run_arm(cfg, base, streams, synth, name, s1_minutes, s2_minutes):
    arm = dataclasses.replace(
        cfg,
        out_dir=str(Path(cfg.out_dir) / f"compare-{name}"),
        stage1=dataclasses.replace(
            cfg.stage1, steps=cfg.stage1.steps if s1_minutes else 0, max_minutes=s1_minutes
        ),
        stage2=dataclasses.replace(cfg.stage2, max_minutes=s2_minutes),
    )
    trainer = tr.Trainer(arm, base=base, streams=streams, synthetic=synth)
    init = tr.init_params(base, cfg.variant, cfg.seed)
    t0 = time.time()
    params, meta1 = trainer.run_stage(1, init) if s1_minutes else (init, {"step": 0, "wall_s": 0.0})
    params, meta2 = trainer.run_stage(2, params)
    return params, {
        "stage1_steps": meta1["step"],
        "stage1_s": round(meta1["wall_s"], 1),
        "stage2_steps": meta2["step"],
        "stage2_s": round(meta2["wall_s"], 1),
        "total_s": round(time.time() - t0, 1),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m ahn_train.compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--minutes", type=float, required=True, help="wall time of each arm")
    ap.add_argument("--stage1-share", type=float, default=0.5)
    args = ap.parse_args(argv)
    cfg = tr.Config.load(args.config)
    base = fm.Base.load(cfg.model)
    streams, synth = data_mod.load_split(cfg.data, "train")
    e = cfg.eval
    seqs = tr.heldout_sequences(cfg, e.get("sequences", 2), e.get("seq_len", 1024))
    sinks, window = e.get("sinks", 64), e.get("window", 256)
    result = {"minutes_per_arm": args.minutes, "eval": {"sequences": len(seqs), "seq_len": len(seqs[0])}}
    result["eval"].update(sinks=sinks, window=window, rows_per_sequence=len(seqs[0]) - sinks - window)
    s1 = args.minutes * args.stage1_share
    for name, m1, m2 in (("zero", 0.0, args.minutes), ("stage1", s1, args.minutes - s1)):
        params, info = run_arm(cfg, base, streams, synth, name, m1, m2)
        info["kl"] = tr.evaluate_kl(base, cfg.variant, params, seqs, sinks, window, cfg.scan_chunk)
        result[name] = info
        print(json.dumps({name: info}), flush=True)
    out = Path(cfg.out_dir) / "compare.json"
    data_mod.atomic_write(out, (json.dumps(result, indent=1) + "\n").encode())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
