"""Golden layer files -> engine fixtures (``ahn_ref.golden_export``), checked with the reference.

Each exported fixture is run through the same command line the engine tests use
(``python -m ahn_ref.cli logits`` with the fixture's base + block, S and W from the block's
defaults, tokens ``0..N-1``): the first D logits must reproduce ``expected.npy`` (RMSNorm of the
official clean layer output) to 1e-5, the other logits must be exactly 0. The tokenizer source is
a small synthetic GGUF here; for the engine it is a real model's.
"""

import json

import gguf
import numpy as np
import pytest

from ahn_ref import cli, gguf_io, golden, golden_export

TOL = 1e-5  # float64 reference vs official float64 output, normalised (README tolerance table)
N_VOCAB = 100


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    path = tmp_path_factory.mktemp("tok") / "tokenizer.gguf"
    w = gguf.GGUFWriter(path, "qwen2")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list([f"t{i}" for i in range(N_VOCAB)])
    w.add_token_types([1] * N_VOCAB)
    w.add_token_merges(["t 1"])
    w.add_eos_token_id(N_VOCAB - 1)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory, tokenizer):
    out = tmp_path_factory.mktemp("fixtures")
    return out, golden_export.export_all(out, tokenizer)


def test_every_golden_layer_file_is_exported(exported):
    out, fixtures = exported
    assert sorted(fixtures) == [p.stem for p in golden.files("layer")]
    for stem in fixtures:
        assert sorted(p.name for p in (out / stem).iterdir()) == sorted(golden_export.FILES)


@pytest.mark.parametrize("path", golden.files("layer"), ids=lambda p: p.stem)
def test_reference_reproduces_exported_fixture(tmp_path, exported, path, check):
    out, fixtures = exported
    d = out / path.stem
    fx = json.loads((d / "fixture.json").read_text())
    assert fx == fixtures[path.stem]
    z = np.load(path)
    meta = golden.meta(z)
    n, dim = z["in_hidden"].shape
    assert (fx["sinks"], fx["window"], fx["n_tokens"], fx["n_embd"]) == (
        meta["num_attn_sinks"],
        meta["sliding_window"],
        n,
        dim,
    )
    assert fx["variant"] == meta["variant"] and fx["tokens"] == list(range(n))
    assert fx["rms_norm_eps"] == meta["rms_norm_eps"] and fx["n_vocab"] == N_VOCAB
    assert fx["llama_cpp_qwen2_shapes"] == (meta["num_attention_heads"] * meta["head_dim"] == dim)

    # The files: a stock-looking base (tokenizer, no AHN) and a block with S and W as defaults.
    base = gguf_io.GgufFile(d / "base.gguf")
    assert base.get("tokenizer.ggml.tokens") == [f"t{i}" for i in range(N_VOCAB)]
    assert not any(k.startswith("qwen2.ahn.") for k in base.fields)
    assert base.get("qwen2.block_count") == 1 and base.get("qwen2.attention.key_length") == meta["head_dim"]
    embd = base.tensors["token_embd.weight"].to_numpy()
    np.testing.assert_array_equal(embd[:n], z["in_hidden"])
    assert not embd[n:].any()
    output = base.tensors["output.weight"].to_numpy()
    np.testing.assert_array_equal(output[:dim], np.eye(dim, dtype=np.float32))
    assert not output[dim:].any()
    blk = gguf_io.read_block(d / "block.gguf")
    assert (blk.sinks, blk.window, blk.cfg.variant, blk.n_layer) == (
        fx["sinks"],
        fx["window"],
        fx["variant"],
        1,
    )

    expected = np.load(d / "expected.npy")
    assert expected.shape == (n, dim) and expected.dtype == np.float32
    want = z["out_f64"] / np.sqrt(np.mean(z["out_f64"] ** 2, axis=-1, keepdims=True) + meta["rms_norm_eps"])
    np.testing.assert_array_equal(expected, want.astype(np.float32))

    tokens = tmp_path / "tokens.txt"
    tokens.write_text(" ".join(str(t) for t in fx["tokens"]))
    for decode in (0, n - fx["sinks"] - fx["window"]):
        logits_path = tmp_path / f"logits{decode}.npy"
        args = ["logits", "--model", str(d / "base.gguf"), "--block", str(d / "block.gguf")]
        args += ["--tokens-file", str(tokens), "--out", str(logits_path), "--decode", str(decode)]
        assert cli.main(args) == 0
        logits = np.load(logits_path)
        assert logits.shape == (n, N_VOCAB)
        mode = f"prefill{n - decode}+decode{decode}" if decode else "prefill"
        check(f"export.logits_vs_expected.{mode}", logits[:, :dim], expected, TOL)
        assert not logits[:, dim:].any()


def test_export_refuses_a_too_small_vocabulary(tmp_path):
    tok = tmp_path / "tok.gguf"
    w = gguf.GGUFWriter(tok, "qwen2")
    w.add_token_list([f"t{i}" for i in range(40)])  # < D = 64
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.raises(ValueError, match="vocabulary of 40 < max"):
        golden_export.export_all(tmp_path / "out", tok, only="layer_dn_hd16_seed0")
    with pytest.raises(FileNotFoundError, match="no golden layer"):
        golden_export.export_all(tmp_path / "out", tok, only="nothing*")
