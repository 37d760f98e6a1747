"""Publish a trained AHN block with the manifest that reproduces it.

``python -m ahn_train.publish --config CONFIG.toml --dest ../assets/ahn`` copies
``<out_dir>/<block>`` to ``DEST/<block>`` and writes beside it:

- ``<block>.sha256``: the block's sha256 (the Rust side checks the shipped bytes against it);
- ``<block>.manifest.json``: the exact commands, the config (text and digest per stage), the
  seed and step counts, the data manifest's settings and checksums, the base model's sha256,
  the wall time of each stage (from its final checkpoint: the time an uninterrupted run would
  have taken), loss summaries from the log, the machine and the software versions.

Refuses a run whose stages are not both finished.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from . import train as tr
from .data import sha256_file


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit(repo):
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "tools"], cwd=repo, capture_output=True, text=True
        )
        return {"commit": head.stdout.strip(), "tools_dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "tools_dirty": None}


def loss_summary(rows, stage):
    """First and last five losses' means and the median step time of a stage (last row per step)."""
    by_step = {}
    for r in rows:
        if r["stage"] == stage:
            by_step[r["step"]] = r  # a step re-run after a resume replaces the lost one
    steps = [by_step[k] for k in sorted(by_step)]
    if not steps:
        return None
    losses = [r["loss"] for r in steps]
    return {
        "steps_logged": len(steps),
        "loss_first5_mean": statistics.fmean(losses[:5]),
        "loss_last5_mean": statistics.fmean(losses[-5:]),
        "median_step_s": statistics.median(r["step_s"] for r in steps),
    }


def manifest(cfg: tr.Config, config_path: Path, block_path: Path):
    out = Path(cfg.out_dir)
    stages = {}
    for stage in (1, 2):
        sc = cfg.stage1 if stage == 1 else cfg.stage2
        if sc.steps == 0:
            stages[f"stage{stage}"] = {"steps": 0}
            continue
        ckpt = out / f"ckpt-stage{stage}.npz"
        if not ckpt.exists():
            raise SystemExit(f"{ckpt} missing: stage {stage} has not run")
        _, _, _, meta = tr.load_checkpoint(ckpt)
        if not meta["done"]:
            raise SystemExit(
                f"stage {stage} stopped at step {meta['step']} of {sc.steps}: rerun the training"
            )
        stages[f"stage{stage}"] = {
            "steps": sc.steps,
            "lr": sc.lr,
            "settings": {k: v for k, v in sc.__dict__.items() if k != "max_minutes"},
            "config_digest": meta["config"],
            "wall_s": round(meta["wall_s"], 1),
        }
    rows = []
    log = out / "log.jsonl"
    if log.exists():
        rows = [json.loads(x) for x in log.read_text().splitlines() if x.strip()]
    for stage in (1, 2):
        s = loss_summary(rows, stage)
        if s:
            stages[f"stage{stage}"]["log"] = s
    data_manifest = json.loads((Path(cfg.data) / "manifest.json").read_text())
    repo = Path(__file__).resolve().parents[2]
    try:
        rel_config = config_path.resolve().relative_to(repo / "tools")
    except ValueError:
        rel_config = config_path
    import jax
    import numpy

    return {
        "block": block_path.name,
        "block_sha256": sha256_file(block_path),
        "block_bytes": block_path.stat().st_size,
        "commands": [
            "cd tools && python -m ahn_train.data fetch",
            f"cd tools && python -m ahn_train.train --config {rel_config}",
            f"cd tools && python -m ahn_train.publish --config {rel_config} --dest ../assets/ahn",
        ],
        "config_file": str(rel_config),
        "config_text": config_path.read_text(),
        "seed": cfg.seed,
        "variant": cfg.variant,
        "base_model": {"file": Path(cfg.model).name, "sha256": sha256_file(cfg.model)},
        "stages": stages,
        "wall_s_total": round(sum(s.get("wall_s", 0.0) for s in stages.values()), 1),
        "data": {
            "settings": data_manifest.get("settings"),
            "files": data_manifest.get("files"),
        },
        "machine": {
            "cpu": cpu_model(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "jax_backend": jax.default_backend(),
        },
        "software": {
            "python": sys.version.split()[0],
            "jax": jax.__version__,
            "numpy": numpy.__version__,
            "git": git_commit(repo),
        },
    }


def publish(cfg: tr.Config, config_path: Path, dest: Path):
    block = Path(cfg.out_dir) / cfg.block
    if not block.exists():
        raise SystemExit(f"{block} missing: the training has not finished")
    m = manifest(cfg, config_path, block)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(block, dest / cfg.block)
    (dest / f"{cfg.block}.sha256").write_text(m["block_sha256"] + "\n")
    (dest / f"{cfg.block}.manifest.json").write_text(json.dumps(m, indent=1) + "\n")
    return m


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m ahn_train.publish", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--dest", required=True, help="directory (e.g. ../assets/ahn)")
    args = ap.parse_args(argv)
    cfg = tr.Config.load(args.config)
    m = publish(cfg, Path(args.config), Path(args.dest))
    print(
        f"published {m['block']} ({m['block_bytes']} bytes, sha256 {m['block_sha256'][:16]}…) to {args.dest}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
