"""One GPU session of AHN training, for a device that cannot download anything.

Here, once (this machine has the model, the data and the shipped block)::

    cd tools && python -m ahn_train.gpu_session pack

packs the default model, the training and held-out data (``ahn_train.data``), the training split
of the large corpus (``ahn_train.corpus``, when the config reads it), the shipped block and the
``gguf`` wheel into one gzipped tar, cut into parts of at most 50 MB under ``.gpu-train/`` at
the repository root (git-ignored), with ``manifest.json`` (every part's sha256, the whole tar's)
and ``calls.txt``: the device calls to make, in order. Each call carries one part plus the
manifest (the device tool carries at most 64 MiB a call):

    cd tools && python3 -m ahn_train.gpu_session receive part-000      (one call per part)
    cd tools && python3 -m ahn_train.gpu_session train --minutes 10    (until it says "done")

``receive`` copies its part to ``/tmp/seahorse-gpu`` (which outlives the call while the machine
stays warm) and checks it. ``train`` joins the parts, checks the whole, and trains stage 2 on the
accelerator path (``accel``) from the shipped block (a warm start: the committed block is what
carries over between sessions) for ``--minutes`` of training in total, with the learning-rate
schedule spread over exactly that time. A call stops on its own before the device tool's
10-minute limit (``--call-seconds``) after a checkpoint; the next ``train`` call goes on from
there. When the time is up it evaluates the old and the new block side by side on the same
held-out sequences (KL to the full-attention teacher at 8K and 16K tokens, W = 1024, S = 64,
float32 weights, matrix products at full precision) and writes into ``$OUT``: the new block,
the training log, ``eval.json`` and ``summary.md``.

Budget of one 15-minute session: a start (a few minutes), one call per part (12 parts with the
corpus, seconds each), compilation (a minute), training, and the evaluation (about a minute):
``--minutes 9`` fits; the default is 10 for a machine that starts quickly.

Nothing here needs JAX until ``train``; ``receive`` runs on a bare Python.
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

PART_BYTES = 50 * 1000 * 1000
STAGE = Path("/tmp/seahorse-gpu")
REPO = Path(__file__).resolve().parents[2]
CARGO = REPO / ".gpu-train"
CONFIG = Path(__file__).resolve().parent / "configs" / "gpu-0.5b.toml"
GGUF_WHEEL = "gguf==0.19.0"


class SessionError(RuntimeError):
    pass


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# pack (here)


def data_files(data_dir, keep=("tokens", "synthetic"), splits=None, command="ahn_train.data fetch"):
    """``(manifest, files)``: the data a trainer reads (``tokens/``, ``synthetic/``; of ``splits``,
    default all), each checked, and the data manifest cut down to them (the raw archives and
    texts stay here)."""
    data_dir = Path(data_dir)
    if not (data_dir / "manifest.json").exists():
        raise SessionError(f"{data_dir / 'manifest.json'} missing: run {command}")
    manifest = json.loads((data_dir / "manifest.json").read_text())
    kept = [
        e
        for e in manifest["files"]
        if e["path"].split("/")[0] in keep and (splits is None or e["path"].split("/")[1] in splits)
    ]
    for entry in kept:
        if sha256_file(data_dir / entry["path"]) != entry["sha256"]:
            raise SessionError(f"{data_dir / entry['path']} does not match its manifest: run {command}")
    return {**manifest, "files": kept}, [e["path"] for e in kept]


def wants_corpus(config=CONFIG):
    """Whether the session's training config reads the large corpus (``corpus = true``)."""
    import tomllib

    with open(config, "rb") as f:
        return bool(tomllib.load(f).get("corpus", False))


def pack(model, data_dir, block, wheel_dir, out=CARGO, part_bytes=PART_BYTES, log=print, corpus=None):
    """Write the parts, ``manifest.json`` and ``calls.txt`` into ``out``; returns the manifest.

    ``corpus`` (default: what the session's config says): ship the training split of the large
    corpus (``ahn_train.corpus``) too."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    wheels = sorted(Path(wheel_dir).glob("*.whl"))
    if not wheels:
        raise SessionError(f"no wheel in {wheel_dir}")
    data_manifest, files = data_files(data_dir)
    manifests = {"data/manifest.json": data_manifest}
    members = [(Path(model), "model.gguf"), (Path(block), "block.gguf")]
    members += [(Path(data_dir) / f, f"data/{f}") for f in files]
    if wants_corpus() if corpus is None else corpus:
        corpus_manifest, corpus_files = data_files(
            Path(data_dir) / "corpus", keep=("tokens",), splits=("train",), command="ahn_train.corpus fetch"
        )
        manifests["data/corpus/manifest.json"] = corpus_manifest
        members += [(Path(data_dir) / "corpus" / f, f"data/corpus/{f}") for f in corpus_files]
    members += [(w, f"wheels/{w.name}") for w in wheels]
    tar_path = out / "cargo.tar.gz"
    # gzip level 1: token streams shrink to about half (fewer parts, fewer device calls); the
    # quantized model barely does, so a higher level would only cost time here.
    with tarfile.open(tar_path, "w:gz", compresslevel=1) as tar:
        for src, name in members:
            tar.add(src, arcname=name)
        for name, m in manifests.items():
            text = json.dumps(m, indent=1).encode()
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text))
    whole = sha256_file(tar_path)
    parts = []
    with open(tar_path, "rb") as f:
        for i in range(10**6):
            chunk = f.read(part_bytes)
            if not chunk:
                break
            name = f"part-{i:03d}"
            (out / name).write_bytes(chunk)
            parts.append({"name": name, "bytes": len(chunk), "sha256": hashlib.sha256(chunk).hexdigest()})
    tar_path.unlink()
    manifest = {
        "sha256": whole,
        "bytes": sum(p["bytes"] for p in parts),
        "parts": parts,
        "model": {"file": Path(model).name, "sha256": sha256_file(model)},
        "block": {"file": Path(block).name, "sha256": sha256_file(block)},
        "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    rel = out.relative_to(REPO) if out.is_relative_to(REPO) else out
    calls = [
        f'carry ["{rel}/{p["name"]}", "{rel}/manifest.json"]: '
        f"cd tools && python3 -m ahn_train.gpu_session receive {p['name']}"
        for p in parts
    ]
    calls.append(
        f'carry ["{rel}/manifest.json"]: cd tools && python3 -m ahn_train.gpu_session train --minutes 10'
    )
    (out / "calls.txt").write_text("\n".join(calls) + "\n")
    log(
        f"packed {len(parts)} parts ({manifest['bytes'] / 1e6:.1f} MB) into {out}; "
        f"the calls: {out / 'calls.txt'}"
    )
    return manifest


def fetch_wheel(dest):
    """``pip download`` the pinned ``gguf`` wheel (pure Python) into ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "-d",
        str(dest),
        GGUF_WHEEL,
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    return dest


# ---------------------------------------------------------------------------------------------
# receive and assemble (there)


def receive(name, cargo=CARGO, stage=STAGE, log=print):
    """Copy one carried part into ``stage`` and check it; returns the names still missing."""
    manifest = json.loads((Path(cargo) / "manifest.json").read_text())
    entry = next((p for p in manifest["parts"] if p["name"] == name), None)
    if entry is None:
        raise SessionError(f"{name} is not a part of this cargo ({len(manifest['parts'])} parts)")
    src = Path(cargo) / name
    if not src.exists() or sha256_file(src) != entry["sha256"]:
        raise SessionError(f"{src} is missing or damaged: carry it again")
    parts_dir = Path(stage) / "parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    tmp = parts_dir / (name + ".partial")
    shutil.copyfile(src, tmp)
    tmp.replace(parts_dir / name)
    (Path(stage) / "manifest.json").write_text(json.dumps(manifest))
    missing = missing_parts(manifest, stage)
    log(f"{name} received; {len(missing)} part(s) to go" + (f": {', '.join(missing)}" if missing else ""))
    return missing


def missing_parts(manifest, stage=STAGE):
    parts_dir = Path(stage) / "parts"
    return [p["name"] for p in manifest["parts"] if not (parts_dir / p["name"]).exists()]


def assemble(stage=STAGE):
    """Join the parts, check the whole tar and unpack it into ``stage/cargo`` (once)."""
    stage = Path(stage)
    done = stage / "cargo" / ".complete"
    manifest = json.loads((stage / "manifest.json").read_text())
    if done.exists() and done.read_text() == manifest["sha256"]:
        return stage / "cargo"
    missing = missing_parts(manifest, stage)
    if missing:
        raise SessionError(f"parts not received yet: {', '.join(missing)}")
    h = hashlib.sha256()
    buf = io.BytesIO()
    for p in manifest["parts"]:
        chunk = (stage / "parts" / p["name"]).read_bytes()
        h.update(chunk)
        buf.write(chunk)
    if h.hexdigest() != manifest["sha256"]:
        raise SessionError("the joined parts do not match the manifest: receive them again")
    target = stage / "cargo"
    if target.exists():
        shutil.rmtree(target)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        tar.extractall(target, filter="data")
    for what in ("model", "block"):
        got = sha256_file(target / f"{what}.gguf")
        if got != manifest[what]["sha256"]:
            raise SessionError(f"{what}.gguf does not match the manifest")
    done.write_text(manifest["sha256"])
    return target


def install_wheels(cargo, stage=STAGE):
    """Make the carried wheels importable (installed into ``stage/py``, no network)."""
    target = Path(stage) / "py"
    wheels = [str(w) for w in sorted((Path(cargo) / "wheels").glob("*.whl"))]
    if not (target / ".complete").exists():
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-index",
            "--no-deps",
            "--target",
            str(target),
            *wheels,
        ]
        subprocess.run(cmd, check=True, capture_output=True)
        (target / ".complete").write_text("ok")
    if str(target) not in sys.path:
        sys.path.insert(0, str(target))


# ---------------------------------------------------------------------------------------------
# train (there)


def session_config(config, cargo, run_dir, minutes):
    """The GPU config with this session's paths and time."""
    from . import train as tr

    cfg = tr.Config.load(config)
    cfg.model = str(Path(cargo) / "model.gguf")
    cfg.data = str(Path(cargo) / "data")
    cfg.out_dir = str(run_dir)
    cfg.init_block = str(Path(cargo) / "block.gguf")
    cfg.stage2.max_minutes = minutes
    cfg.stage2.schedule = "minutes"
    return cfg


def train(
    minutes,
    call_seconds,
    out,
    stage=STAGE,
    config=CONFIG,
    eval_lengths=(8192, 16384),
    eval_sequences=4,
    eval_window=1024,
    eval_sinks=64,
    reserve_seconds=150,
    log=print,
):
    """Train on (or go on training) and, once the time is up, evaluate and write ``out``.

    A call trains until ``call_seconds − reserve_seconds`` (the evaluation's share) after it
    started. Returns True when done (the results are in ``out``), False when a further call must
    go on."""
    started = time.time()
    stage = Path(stage)
    cargo = assemble(stage)
    install_wheels(cargo, stage)
    import jax
    import numpy as np

    from ahn_ref import gguf_io

    from . import accel
    from . import fastmodel as fm
    from . import train as tr

    log(f"devices: {jax.devices()}")
    run_dir = stage / "run"
    cfg = session_config(config, cargo, run_dir, minutes)
    trainer = tr.Trainer(cfg, log=log)
    # Leave the evaluation its time inside this call.
    trainer.deadline = started + call_seconds - reserve_seconds
    params, done = trainer.run()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (run_dir / "log.jsonl").exists():
        shutil.copyfile(run_dir / "log.jsonl", out / "log.jsonl")
    if not done:
        log("not done: call train again to go on")
        return False
    old = fm.stack(gguf_io.read_block(cfg.init_block).layers)
    w32 = accel.mixed_weights(trainer.base, np.float32)
    band = accel.band_for(cfg.window_choices, cfg.sink_choices, cfg.attention_block)
    band = (band[0], accel.round_up(eval_window, band[0]), max(band[2], eval_sinks))
    results = {}
    with jax.default_matmul_precision("highest"):
        for n in eval_lengths:
            seqs = tr.heldout_sequences(cfg, eval_sequences, n)
            blocks = {"old": old, "new": params}
            res = accel.evaluate_kl(
                trainer.base.cfg, w32, trainer.acfg, blocks, seqs, eval_sinks, eval_window, band
            )
            results[str(n)] = res
            log(f"held-out KL at {n}: " + json.dumps({k: round(v, 5) for k, v in res["kl"].items()}))
    shutil.copyfile(Path(cfg.out_dir) / cfg.block, out / "new.ahn.gguf")
    rows = [json.loads(x) for x in (run_dir / "log.jsonl").read_text().splitlines()]
    summary = summarize(rows, results, jax.devices()[0].device_kind, minutes)
    summary["eval"] = {"window": eval_window, "sinks": eval_sinks, "sequences": eval_sequences}
    summary["streams"] = {
        n: len(s) for n, s in zip(trainer.sampler.names, trainer.sampler.streams, strict=True)
    }
    (out / "eval.json").write_text(json.dumps({"eval": results, "train": summary}, indent=1))
    (out / "summary.md").write_text(summary_markdown(summary, results))
    log((out / "summary.md").read_text())
    return True


def summarize(rows, results, device, minutes):
    steady = rows[2:] or rows  # the first steps compile
    tokens = sum(r["tokens_per_s"] * r["step_s"] for r in rows)
    mean = lambda key: sum(r.get(key, 0.0) for r in steady) / len(steady)  # noqa: E731
    return {
        "device": device,
        "minutes": minutes,
        "steps": len(rows),
        "tokens": int(tokens),
        "tokens_per_s": round(mean("tokens_per_s"), 1),
        "tflops": round(mean("tflops"), 1),
        "mfu": round(mean("mfu"), 4) if "mfu" in steady[-1] else None,
        "first_loss": rows[0]["loss"],
        "last_loss": sum(r["loss"] for r in rows[-10:]) / len(rows[-10:]),
    }


def summary_markdown(s, results):
    md = [
        f"# AHN training session on {s['device']}",
        "",
        f"{s['steps']} steps in {s['minutes']} min, {s['tokens']:,} tokens; steady {s['tokens_per_s']:,.0f} "
        f"tokens/s, {s['tflops']} TFLOP/s" + (f" (MFU {100 * s['mfu']:.1f} %)" if s["mfu"] else "") + ".",
        f"Loss (KL to the teacher): {s['first_loss']:.4f} at the first step, "
        f"{s['last_loss']:.4f} over the last ten.",
        "",
        "| held-out length | KL sinks + window | KL old block | KL new block "
        "| recovered old | recovered new |",
        "|---|---|---|---|---|---|",
    ]
    for n, r in results.items():
        kl, rec = r["kl"], r["recovered"]
        md.append(
            f"| {n} | {kl['swa']:.5f} | {kl['old']:.5f} | {kl['new']:.5f} "
            f"| {100 * rec['old']:.1f} % | {100 * rec['new']:.1f} % |"
        )
    return "\n".join(md) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m ahn_train.gpu_session", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="here: pack model, data, block and wheel into parts")
    p.add_argument("--model", default="~/.cache/seahorse/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    p.add_argument("--data", default="~/.cache/seahorse/data")
    p.add_argument("--block", default=str(REPO / "assets/ahn/qwen2.5-coder-0.5b-instruct.gdn.ahn.gguf"))
    p.add_argument("--out", default=str(CARGO))
    r = sub.add_parser("receive", help="there: take one carried part")
    r.add_argument("part")
    t = sub.add_parser("train", help="there: train, then evaluate old and new blocks")
    t.add_argument("--minutes", type=float, default=10.0, help="training time in total, over all calls")
    t.add_argument("--call-seconds", type=float, default=570.0, help="stop this call after so long")
    t.add_argument("--out", default=os.environ.get("OUT", str(STAGE / "out")))
    args = ap.parse_args(argv)
    try:
        if args.cmd == "pack":
            wheel_dir = fetch_wheel(STAGE / "wheels")
            model, data = Path(args.model).expanduser(), Path(args.data).expanduser()
            pack(model, data, Path(args.block), wheel_dir, Path(args.out))
        elif args.cmd == "receive":
            receive(args.part)
        else:
            return 0 if train(args.minutes, args.call_seconds, args.out) else 3
    except SessionError as e:
        print(f"gpu_session: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
