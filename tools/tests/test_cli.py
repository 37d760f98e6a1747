"""``python -m ahn_ref.cli logits`` on models shaped like the engine's exactness-test models.

Those are 2-layer random F32 qwen2 models with n_embd 256, heads 4/kv 2 (head dim 64) or 2/kv 1
(head dim 128), FFN 384, tied embeddings, q/k/v biases, rope base 1e6, rms eps 1e-6, a real
Qwen2.5 vocabulary (151,936 tokens; here a synthetic tokenizer of the same size, so the reader
has ~300k strings to skip) and a separate AHN block with random non-zero weights; S=4, W=16 and
60 = 3·(S+W) tokens. The reference writes them with its own writer.
"""

import dataclasses
import time

import gguf
import jax.numpy as jnp
import numpy as np
import pytest

from ahn_ref import cli, gguf_io
from ahn_ref.config import AhnConfig, LayerConfig, ModelConfig
from ahn_ref.init import init_ahn, random_layer

N_VOCAB = 151_936
S, W, N = 4, 16, 60
TOL = 1e-12  # float64 prefill vs decode: same arithmetic up to rounding
F32_EPS = float(np.float32(1e-6))
F32_AHN_EPS = float(np.float32(1e-5))
SHAPES = {"hd64": (4, 2), "hd128": (2, 1)}  # n_head, n_head_kv with n_embd 256
CASES = [("gdn", "hd64"), ("dn", "hd64"), ("gdn", "hd128"), ("mamba2", "hd128")]


def layer_config(shape, variant=None):
    n_head, n_head_kv = SHAPES[shape]
    hd = 256 // n_head
    ahn = None if variant is None else AhnConfig(variant, n_head, hd, 256, norm_eps=F32_AHN_EPS)
    return LayerConfig(256, n_head, n_head_kv, hd, 384, S, W, F32_EPS, 1e6, ahn)


@pytest.fixture(scope="module")
def engine_models(tmp_path_factory):
    """Two base files (head dims 64 and 128) with a 151,936-token tokenizer, and one AHN block per case."""
    root = tmp_path_factory.mktemp("engine_models")
    tok = root / "tokenizer.gguf"
    w = gguf.GGUFWriter(tok, "qwen2")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list([f"tok{i}" for i in range(N_VOCAB)])
    w.add_token_types([1] * N_VOCAB)
    w.add_token_merges([f"tok {i}" for i in range(N_VOCAB - 549)])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    rng = np.random.default_rng(7)
    files = {}
    for shape in SHAPES:
        lc = layer_config(shape)
        cfg = ModelConfig(N_VOCAB, 2, lc, tied_embeddings=True)
        glob = {
            "token_embd.weight": (rng.standard_normal((N_VOCAB, 256), np.float32) * 0.5),
            "output_norm.weight": rng.uniform(0.5, 1.5, 256),
        }
        layers = [random_layer(rng, lc) for _ in range(2)]
        base = root / f"tiny-{shape}.gguf"
        gguf_io.write(base, cfg, glob, layers, tokenizer_from=tok)
        files[shape] = base
    for variant, shape in CASES:
        ahn = layer_config(shape, variant).ahn
        block = root / f"block-{shape}-{variant}.gguf"
        gguf_io.write_block(block, ahn, [init_ahn(rng, ahn, zero_out=False) for _ in range(2)])
        files[shape, variant] = block
    files["tokens"] = rng.integers(0, N_VOCAB, N)
    return files


def write_tokens(path, tokens):
    # Whitespace of any kind between ids, as the engine tests may write them.
    path.write_text(
        "  ".join(str(t) for t in tokens[:7]) + "\n" + "\n\t".join(str(t) for t in tokens[7:]) + "\n"
    )
    return path


@pytest.mark.parametrize("variant,shape", CASES)
def test_logits_cli_on_engine_shaped_models(tmp_path, engine_models, variant, shape, check):
    """Shape and dtype of the file; prefill == token-by-token decode; the block changes rows >= S+W."""
    base, block, tokens = engine_models[shape], engine_models[shape, variant], engine_models["tokens"]
    tf = write_tokens(tmp_path / "tokens.txt", tokens)
    out, out_dec = tmp_path / "logits.npy", tmp_path / "logits_decode.npy"
    args = ["logits", "--model", str(base), "--block", str(block), "--sinks", str(S), "--window", str(W)]
    args += ["--tokens-file", str(tf)]
    started = time.time()
    assert cli.main(args + ["--out", str(out)]) == 0
    seconds = time.time() - started
    got = np.load(out)
    assert got.shape == (N, N_VOCAB) and got.dtype == np.float32
    assert np.all(np.isfinite(got))
    print(f"{variant}/{shape}: logits CLI, {N} tokens x {N_VOCAB} vocab, one prefill: {seconds:.1f} s")

    m = gguf_io.load(base, S, W, jnp.float64, block=block)
    assert m.cfg.layer.ahn.variant == variant and m.cfg.tied_embeddings
    prefill = cli.compute_logits(m, tokens)
    decode = cli.compute_logits(m, tokens, decode=N)
    check("cli.decode_vs_prefill", decode, prefill, TOL)
    np.testing.assert_array_equal(got, prefill.astype(np.float32))

    if (variant, shape) == CASES[0]:
        assert cli.main(args + ["--out", str(out_dec), "--decode", str(N)]) == 0
        np.testing.assert_array_equal(np.load(out_dec), decode.astype(np.float32))

    # The same weights without the AHN: plain sinks + sliding window.
    plain_cfg = dataclasses.replace(m.cfg, layer=dataclasses.replace(m.cfg.layer, ahn=None))
    plain = cli.compute_logits(gguf_io.LoadedModel(plain_cfg, m.glob, m.layers), tokens)
    check("cli.no_eviction_rows_vs_plain_window", prefill[: S + W], plain[: S + W], TOL)
    assert np.min(np.max(np.abs(prefill[S + W :] - plain[S + W :]), axis=1)) > 1e-3


def test_full_attention_and_argument_errors(tmp_path, engine_models, check):
    """``--full`` is plain causal attention; a window covering everything gives the same logits."""
    base, block, tokens = engine_models["hd64"], engine_models["hd64", "gdn"], engine_models["tokens"]
    tf = write_tokens(tmp_path / "tokens.txt", tokens)
    full, wide = tmp_path / "full.npy", tmp_path / "wide.npy"

    def run(*args, tokens_file=tf, out=full):
        argv = ["logits", "--model", str(base), *args, "--tokens-file", str(tokens_file), "--out", str(out)]
        return cli.main(argv)

    assert run("--full") == 0
    want = cli.compute_logits(gguf_io.load(base, 0, N), tokens)
    np.testing.assert_array_equal(np.load(full), want.astype(np.float32))
    # S + W >= N: no token ever leaves the window, the AHN stays empty (W is clamped to N).
    assert run("--block", str(block), "--sinks", "0", "--window", "100000", out=wide) == 0
    check("cli.wide_window_vs_full", np.load(wide), np.load(full), 0.0)
    # S=4, W=16 differs from full attention after S+W tokens.
    windowed = cli.compute_logits(gguf_io.load(base, S, W), tokens)
    assert np.max(np.abs(windowed[S + W :] - want[S + W :])) > 1e-3

    with pytest.raises(ValueError, match="--full is stock full attention"):
        run("--block", str(block), "--full")
    with pytest.raises(SystemExit):
        run("--full", "--sinks", "4")
    with pytest.raises(ValueError, match="give --sinks and --window"):
        run()
    bad = write_tokens(tmp_path / "bad.txt", [1, 2, N_VOCAB])
    with pytest.raises(ValueError, match="token id 151936 is outside the vocabulary"):
        run("--full", tokens_file=bad)
    empty = tmp_path / "empty.txt"
    empty.write_text(" \n")
    with pytest.raises(SystemExit):
        run("--full", tokens_file=empty)


def test_original_top_tokens_interface(tmp_path, engine_models, capsys):
    """``python -m ahn_ref.cli MODEL --tokens ...`` still prints the top next tokens with labels."""
    base, block = engine_models["hd128"], engine_models["hd128", "mamba2"]
    out = tmp_path / "top.npy"
    argv = [str(base), "--block", str(block), "--tokens", "5,17,99,3", "--sinks", "1", "--window", "2"]
    assert cli.main(argv + ["--top", "3", "--out", str(out), "--dtype", "float64"]) == 0
    lines = capsys.readouterr().out.splitlines()
    logits = np.load(out)
    assert logits.shape == (4, N_VOCAB)
    top = np.argsort(-logits[-1])[:3]
    assert [line.split("\t")[0] for line in lines] == [str(t) for t in top]
    assert [line.split("\t")[2] for line in lines] == [f"tok{t}" for t in top]
