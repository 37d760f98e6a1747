"""The GPU session (ahn_train.gpu_session) end to end on CPU with a tiny model: pack into parts,
receive them one call at a time, refuse damaged or missing parts, install the carried wheel,
train over two calls from the shipped block, evaluate old and new side by side."""

import hashlib
import json
import sys
import zipfile

import numpy as np
import pytest
from test_ahn_train import N_VOCAB, tiny_base

from ahn_ref import gguf_io
from ahn_ref.init import init_ahn
from ahn_train import gpu_session as gs

CONFIG = """
model = "unused"
data = "unused"
out_dir = "unused"
block = "tiny.ahn.gguf"
seq_len = 48
window_choices = [16]
sink_choices = [0, 4]
checkpoint_every = 2
scan_chunk = 8
synthetic_fraction = 0.0
export_window = 16
export_sinks = 4
warmup = 0.0
accel = true
corpus = true
batch = 2
attention_block = 8
[stage1]
steps = 0
[stage2]
steps = 1000000
lr = 3e-2
kl_positions = 0
"""


def probe_wheel(dest):
    """A minimal pure-Python wheel, to check that carried wheels install and import."""
    name = "seahorse_probe-0.0.1-py3-none-any.whl"
    files = {
        "seahorse_probe/__init__.py": "ANSWER = 42\n",
        "seahorse_probe-0.0.1.dist-info/METADATA": (
            "Metadata-Version: 2.1\nName: seahorse-probe\nVersion: 0.0.1\n"
        ),
        "seahorse_probe-0.0.1.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{n},,\n" for n in files) + "seahorse_probe-0.0.1.dist-info/RECORD,,\n"
    with zipfile.ZipFile(dest / name, "w") as z:
        for n, text in files.items():
            z.writestr(n, text)
        z.writestr("seahorse_probe-0.0.1.dist-info/RECORD", record)
    return dest


def token_files(root, name, sizes, rng):
    """Token streams of each split under ``root/tokens``; their manifest entries."""
    entries = []
    for split, n in sizes:
        path = root / "tokens" / split / f"{name}_{split}.npy"
        path.parent.mkdir(parents=True)
        np.save(path, rng.integers(0, N_VOCAB, n).astype(np.uint32))
        data = path.read_bytes()
        entries.append(
            {
                "path": f"tokens/{split}/{path.name}",
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    return entries


def data_dir(root):
    """Token streams for both splits with their manifest, as ahn_train.data writes them, and a
    corpus beside them as ahn_train.corpus writes it."""
    rng = np.random.default_rng(4)
    entries = token_files(root, "s", (("train", 400), ("heldout", 300)), rng)
    corpus = token_files(root / "corpus", "c", (("train", 500), ("heldout", 200)), rng)
    (root / "corpus" / "manifest.json").write_text(json.dumps({"settings": {}, "files": corpus}))
    raw = root / "raw" / "archive.tar.gz"  # listed, but stays here
    raw.parent.mkdir()
    raw.write_bytes(b"archive")
    entries.append(
        {"path": "raw/archive.tar.gz", "bytes": 7, "sha256": hashlib.sha256(b"archive").hexdigest()}
    )
    (root / "manifest.json").write_text(json.dumps({"version": 2, "files": entries}))
    return root


@pytest.fixture
def cargo(tmp_path):
    base, glob, layers = tiny_base()
    model = tmp_path / "model.gguf"
    gguf_io.write(model, base.cfg, glob, layers)
    acfg = base.ahn_config("gdn")
    rng = np.random.default_rng(6)
    block = tmp_path / "shipped.ahn.gguf"
    gguf_io.write_block(
        block, acfg, [init_ahn(rng, acfg, zero_out=False) for _ in range(base.cfg.n_layer)], 16, 4
    )
    (tmp_path / "wheels").mkdir()
    out = tmp_path / "cargo"
    manifest = gs.pack(
        model,
        data_dir(tmp_path / "data"),
        block,
        probe_wheel(tmp_path / "wheels"),
        out,
        20_000,
        log=lambda *_: None,
        corpus=True,
    )
    return out, manifest


def test_pack_cuts_parts_and_lists_the_calls(cargo):
    out, manifest = cargo
    parts = manifest["parts"]
    assert len(parts) >= 3 and all(p["bytes"] <= 20_000 for p in parts)
    joined = b"".join((out / p["name"]).read_bytes() for p in parts)
    assert hashlib.sha256(joined).hexdigest() == manifest["sha256"]
    calls = (out / "calls.txt").read_text().splitlines()
    assert len(calls) == len(parts) + 1
    assert f"receive {parts[0]['name']}" in calls[0] and "train --minutes" in calls[-1]


def test_receive_checks_each_part_and_assemble_needs_them_all(cargo, tmp_path):
    out, manifest = cargo
    stage = tmp_path / "stage"
    first = manifest["parts"][0]["name"]
    missing = gs.receive(first, out, stage, log=lambda *_: None)
    assert first not in missing and len(missing) == len(manifest["parts"]) - 1
    with pytest.raises(gs.SessionError, match="not received yet"):
        gs.assemble(stage)
    damaged = out / manifest["parts"][1]["name"]
    good = damaged.read_bytes()
    # The first byte flipped, so it always differs (b"x" + … did not when the part began with x).
    damaged.write_bytes(bytes([good[0] ^ 0xFF]) + good[1:])
    with pytest.raises(gs.SessionError, match="damaged"):
        gs.receive(damaged.name, out, stage, log=lambda *_: None)
    damaged.write_bytes(good)
    with pytest.raises(gs.SessionError, match="not a part"):
        gs.receive("part-999", out, stage, log=lambda *_: None)
    for p in manifest["parts"]:
        gs.receive(p["name"], out, stage, log=lambda *_: None)
    target = gs.assemble(stage)
    assert (target / "model.gguf").exists() and (
        target / "data" / "tokens" / "train" / "s_train.npy"
    ).exists()
    kept = json.loads((target / "data" / "manifest.json").read_text())["files"]
    assert [e["path"] for e in kept] == ["tokens/train/s_train.npy", "tokens/heldout/s_heldout.npy"]
    # Of the corpus only the training split travels, with its manifest cut down to it.
    corpus = json.loads((target / "data" / "corpus" / "manifest.json").read_text())["files"]
    assert [e["path"] for e in corpus] == ["tokens/train/c_train.npy"]
    assert not (target / "data" / "corpus" / "tokens" / "heldout").exists()
    # A part damaged after it was received is caught when the whole is joined.
    (target / ".complete").unlink()
    last = stage / "parts" / manifest["parts"][-1]["name"]
    last.write_bytes(last.read_bytes()[:-1] + b"!")
    with pytest.raises(gs.SessionError, match="do not match"):
        gs.assemble(stage)


def test_training_goes_on_over_calls_and_ends_with_the_side_by_side_evaluation(cargo, tmp_path):
    out, manifest = cargo
    stage = tmp_path / "stage"
    for p in manifest["parts"]:
        gs.receive(p["name"], out, stage, log=lambda *_: None)
    config = tmp_path / "tiny-gpu.toml"
    config.write_text(CONFIG)
    results = tmp_path / "out"
    kw = dict(stage=stage, config=config, eval_lengths=(40,), eval_sequences=2, eval_window=8, eval_sinks=4)
    # A call whose time is already up stops before its first step: nothing is lost, call again.
    assert not gs.train(0.05, 10, results, reserve_seconds=10, log=lambda *_: None, **kw)
    assert "seahorse_probe" in sys.modules or __import__("seahorse_probe").ANSWER == 42
    assert gs.train(0.05, 600, results, log=lambda *_: None, **kw)
    ev = json.loads((results / "eval.json").read_text())
    kl = ev["eval"]["40"]["kl"]
    assert kl["swa"] > 0 and kl["old"] != kl["new"]
    assert set(ev["eval"]["40"]["recovered"]) == {"old", "new"}
    assert ev["train"]["steps"] >= 1 and ev["train"]["tokens"] > 0
    assert ev["train"]["streams"] == {"s_train": 400, "corpus_c_train": 500}
    new = gguf_io.read_block(results / "new.ahn.gguf")
    old = gguf_io.read_block(stage / "cargo" / "block.gguf")
    assert any(not np.array_equal(a, old.layers[0][n]) for n, a in new.layers[0].items())
    assert "| 40 |" in (results / "summary.md").read_text()
    assert (results / "log.jsonl").read_text().count("\n") == ev["train"]["steps"]
