"""Tests of course_lib.embeddings: the bundled table, the word2vec_sample path and its
cache, and sentence embedding. The bundled file's rebuild is tested in test_bundled_build.py."""

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import course_lib.embeddings as emb
from course_lib.embeddings import (
    EmbeddingsNotFoundError,
    SentenceEmbedding,
    available_sources,
    embed_sentence,
    load_embeddings,
    tokenize,
)

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "course_lib" / "data"
BUILD_SCRIPT = REPO / "scripts" / "build_bundled_vectors.py"
SENTENCE = "I drink coke, but eat steak"


def sha256_file(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- bundled


@pytest.fixture(scope="module")
def bundled():
    return load_embeddings("bundled")


@pytest.fixture(scope="module")
def recorded():
    return json.loads((DATA / "bundled_vectors.json").read_text(encoding="utf-8"))


def test_bundled_shape_vocabulary_and_values(bundled, recorded):
    assert bundled.vectors.shape == (recorded["n_words"], 64) == (21745, 64)
    assert bundled.vectors.dtype == np.float32
    assert np.all(np.isfinite(bundled.vectors))
    assert all(re.fullmatch(r"[a-z]+", w) for w in bundled.index_to_key)
    assert len(set(bundled.index_to_key)) == len(bundled.index_to_key)
    assert {"drink", "coke", "eat", "steak", "i", "the"} <= set(bundled.key_to_index)


def test_bundled_supports_the_gensim_api(bundled):
    neighbours = [w for w, _ in bundled.most_similar("steak", topn=5)]
    assert {"beef", "meat"} & set(neighbours)
    assert bundled.similarity("coke", "drink") > bundled.similarity("coke", "steak")
    assert bundled.get_index("steak") == bundled.index_to_key.index("steak")


def test_bundled_is_memoised(bundled):
    assert load_embeddings() is bundled
    assert load_embeddings("bundled") is bundled


def test_bundled_file_checksum_matches_recorded(recorded):
    path = DATA / recorded["file"]
    assert path.stat().st_size == recorded["size_bytes"]
    assert sha256_file(path) == recorded["sha256"]
    assert path.stat().st_size < 4_000_000


def test_bundled_file_loads_without_pickle():
    with np.load(DATA / "bundled_vectors.npz", allow_pickle=False) as data:
        assert set(data.files) == {"words", "vectors"}
        assert data["words"].dtype.kind == "U"
        assert data["vectors"].dtype == np.float16


def test_notice_names_the_model_and_licence():
    notice = (DATA / "NOTICE").read_text(encoding="utf-8")
    for needle in ("all-MiniLM-L6-v2", "Apache License", "Version 2.0", "MiniLM", "PCA"):
        assert needle in notice


def test_bundled_norms_vary_like_word2vec(bundled):
    """Not L2-normalised: function words are shorter than content words."""
    norms = np.linalg.norm(bundled.vectors, axis=1)
    assert norms.std() / norms.mean() > 0.1
    for short in ("the", "a", "of"):
        for long in ("steak", "coke"):
            assert np.linalg.norm(bundled[short]) < np.linalg.norm(bundled[long])


def _self_attention(vectors, scale):
    """Q = K = V self-attention weights, via course_lib.attention if it is there."""
    try:
        from course_lib.attention import scaled_dot_product_attention
    except ImportError:
        scores = vectors @ vectors.T * scale  # (seq, seq)
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return weights / weights.sum(axis=-1, keepdims=True)
    _, weights = scaled_dot_product_attention(vectors, vectors, vectors, scale=scale)
    return weights


def _top_other(weights, words, word):
    i = words.index(word)
    row = weights[i].copy()
    row[i] = -np.inf
    return words[int(np.argmax(row))]


@pytest.mark.parametrize("scaled", [False, True])
def test_coke_steak_alignment(bundled, scaled):
    sentence = embed_sentence(SENTENCE, bundled)
    assert sentence.words == ["i", "drink", "coke", "but", "eat", "steak"]
    d_k = sentence.vectors.shape[1]
    weights = _self_attention(sentence.vectors, 1 / np.sqrt(d_k) if scaled else 1.0)
    assert _top_other(weights, sentence.words, "drink") == "coke"
    assert _top_other(weights, sentence.words, "eat") == "steak"


def test_unscaled_attention_is_peaked_and_scaled_is_not(bundled):
    vectors = embed_sentence(SENTENCE, bundled).vectors
    unscaled = _self_attention(vectors, 1.0)
    scaled = _self_attention(vectors, 1 / np.sqrt(vectors.shape[1]))
    assert unscaled.max(axis=1).mean() > 0.9  # almost one-hot
    assert scaled.max(axis=1).mean() < 0.7  # readable: weight spread over several words


def test_wordsim353_spearman_above_065(bundled):
    from gensim.test.utils import datapath

    _, spearman, oov_percent = bundled.evaluate_word_pairs(datapath("wordsim353.tsv"))
    assert spearman[0] > 0.65
    assert oov_percent < 10


def test_unknown_source_is_a_value_error():
    with pytest.raises(ValueError, match="word2vec_sample"):
        load_embeddings("glove")


def test_import_does_not_import_gensim_or_nltk():
    code = (
        "import sys, course_lib.embeddings; print('gensim' in sys.modules, 'nltk' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


# --------------------------------------------------------------------- word2vec_sample

WORDS = ["steak", "coke", "drink", "eat", "Paris", "New_York", "café", "the", "i", "I"]


def write_word2vec_text(path, words=WORDS, dim=8, seed=0):
    """A small file in word2vec text format (header "count dim", then word + values)."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((len(words), dim))
    lines = [f"{len(words)} {dim}"]
    lines += [
        w + " " + " ".join(f"{v:.6f}" for v in row) for w, row in zip(words, values, strict=True)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def w2v(tmp_path, monkeypatch):
    """An isolated NLTK_DATA folder (nltk's layout) and cache folder; fresh memo."""
    import nltk

    nltk_home = tmp_path / "nltk_data"
    nltk_home.mkdir()
    cache = tmp_path / "cache"
    monkeypatch.setenv("NLTK_DATA", str(nltk_home))
    monkeypatch.setenv("COURSE_LIB_CACHE", str(cache))
    monkeypatch.setattr(nltk.data, "path", [str(nltk_home)])  # nltk read NLTK_DATA at import
    monkeypatch.setattr(emb, "_LOADED", {})
    text = nltk_home / "models" / "word2vec_sample" / "pruned.word2vec.txt"
    return {"home": nltk_home, "cache": cache, "text": text}


def gensim_parse(path):
    from gensim.models import KeyedVectors

    return KeyedVectors.load_word2vec_format(str(path), binary=False)


def cache_files(cache):
    return {
        name: cache / f"word2vec_sample.{name}"
        for name in ("vectors.npy", "words.txt", "meta.json")
    }


def run_fresh(w2v, code):
    """Run code in a fresh interpreter with the test's NLTK_DATA and cache."""
    env = dict(os.environ, NLTK_DATA=str(w2v["home"]), COURSE_LIB_CACHE=str(w2v["cache"]))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_word2vec_sample_matches_gensim_parser(w2v):
    write_word2vec_text(w2v["text"])
    kv = load_embeddings("word2vec_sample")
    expected = gensim_parse(w2v["text"])
    assert kv.index_to_key == expected.index_to_key == WORDS
    np.testing.assert_array_equal(kv.vectors, expected.vectors)
    assert load_embeddings("word2vec_sample") is kv
    assert "word2vec_sample" in available_sources()


def test_first_load_writes_a_valid_cache(w2v):
    write_word2vec_text(w2v["text"])
    kv = load_embeddings("word2vec_sample")
    files = cache_files(w2v["cache"])
    assert all(p.is_file() for p in files.values())
    assert not list(w2v["cache"].glob("*.tmp"))  # no temporary files left behind
    np.testing.assert_array_equal(np.load(files["vectors.npy"], allow_pickle=False), kv.vectors)
    assert files["words.txt"].read_text(encoding="utf-8").split("\n") == WORDS
    meta = json.loads(files["meta.json"].read_text(encoding="utf-8"))
    assert (meta["n_words"], meta["dim"]) == (len(WORDS), 8)
    assert meta["text_size"] == w2v["text"].stat().st_size


def test_cache_files_are_readable_by_other_users(w2v):
    """mkstemp makes private files; the cache must follow the umask like any new file."""
    old_umask = os.umask(0o022)
    try:
        write_word2vec_text(w2v["text"])
        load_embeddings("word2vec_sample")
    finally:
        os.umask(old_umask)
    for path in cache_files(w2v["cache"]).values():
        assert path.stat().st_mode & 0o777 == 0o644, path


FRESH_LOAD = """
    import hashlib, sys
    import numpy as np
    import course_lib.word2vec_sample

    def no_parsing(*args, **kwargs):
        raise AssertionError("the word2vec text was parsed again")

    course_lib.word2vec_sample.parse_text = no_parsing
    from course_lib.embeddings import load_embeddings
    kv = load_embeddings("word2vec_sample")
    digest = hashlib.sha256(np.ascontiguousarray(kv.vectors).tobytes()).hexdigest()
    print(type(kv.vectors).__name__, digest, ",".join(kv.index_to_key), "nltk" in sys.modules)
"""


def test_fresh_process_uses_the_cache_not_the_text(w2v):
    write_word2vec_text(w2v["text"])
    # Control: with no cache, a fresh process must parse, so the guard makes it fail.
    control = run_fresh(w2v, FRESH_LOAD)
    assert control.returncode != 0 and "parsed again" in control.stderr

    kv = load_embeddings("word2vec_sample")  # parses once, writes the cache
    mtimes = {k: p.stat().st_mtime_ns for k, p in cache_files(w2v["cache"]).items()}
    result = run_fresh(w2v, FRESH_LOAD)
    assert result.returncode == 0, result.stderr
    kind, digest, words, nltk_imported = result.stdout.split()
    assert kind == "memmap"  # read from the .npy cache, memory-mapped
    assert nltk_imported == "False"  # the recorded text file was found without nltk
    assert digest == hashlib.sha256(kv.vectors.tobytes()).hexdigest()
    assert words.split(",") == WORDS
    # The cache was read, not rewritten.
    assert mtimes == {k: p.stat().st_mtime_ns for k, p in cache_files(w2v["cache"]).items()}


def test_cache_works_after_the_text_is_deleted(w2v):
    write_word2vec_text(w2v["text"])
    expected = load_embeddings("word2vec_sample").vectors.copy()
    w2v["text"].unlink()
    assert "word2vec_sample" in available_sources()
    result = run_fresh(w2v, FRESH_LOAD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == hashlib.sha256(expected.tobytes()).hexdigest()


def _flip_byte(path):
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path):
    path.write_bytes(path.read_bytes()[:-16])


def _garbage(path):
    path.write_bytes(b"\x00not json nor npy")


def _swap_words(path):
    path.write_text("\n".join(reversed(WORDS)), encoding="utf-8")


@pytest.mark.parametrize(
    ("target", "damage"),
    [
        ("vectors.npy", _flip_byte),
        ("vectors.npy", _truncate),
        ("vectors.npy", _garbage),
        ("words.txt", _swap_words),
        ("words.txt", Path.unlink),
        ("meta.json", _garbage),
    ],
)
def test_damaged_cache_is_rebuilt(w2v, monkeypatch, capsys, target, damage):
    write_word2vec_text(w2v["text"])
    load_embeddings("word2vec_sample")
    damage(cache_files(w2v["cache"])[target])
    capsys.readouterr()

    monkeypatch.setattr(emb, "_LOADED", {})
    kv = load_embeddings("word2vec_sample")
    expected = gensim_parse(w2v["text"])
    assert kv.index_to_key == expected.index_to_key
    np.testing.assert_array_equal(kv.vectors, expected.vectors)
    out = capsys.readouterr().out
    assert "Reading" in out  # it re-parsed the text

    # The rebuilt cache is valid: the next load reads it (memory-mapped) without parsing.
    monkeypatch.setattr(emb, "_LOADED", {})
    again = load_embeddings("word2vec_sample")
    assert isinstance(again.vectors, np.memmap)
    np.testing.assert_array_equal(again.vectors, expected.vectors)
    # gensim's similarity API works on the read-only memory map.
    assert again.most_similar("steak", topn=3) == expected.most_similar("steak", topn=3)


def test_stale_cache_is_rebuilt_when_the_text_changes(w2v, monkeypatch):
    write_word2vec_text(w2v["text"], seed=0)
    load_embeddings("word2vec_sample")
    write_word2vec_text(w2v["text"], seed=1, words=WORDS[:5])
    monkeypatch.setattr(emb, "_LOADED", {})
    kv = load_embeddings("word2vec_sample")
    np.testing.assert_array_equal(kv.vectors, gensim_parse(w2v["text"]).vectors)
    assert kv.index_to_key == WORDS[:5]


def test_missing_word2vec_sample_gives_a_helpful_error(w2v):
    assert available_sources() == ["bundled"]
    with pytest.raises(EmbeddingsNotFoundError) as info:
        load_embeddings("word2vec_sample")
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    assert "download=True" in message
    assert "bundled" in message and "offline" in message


def test_embed_sentence_with_word2vec_sample_is_case_aware(w2v):
    write_word2vec_text(w2v["text"])
    kv = load_embeddings("word2vec_sample")
    result = embed_sentence("paris and New_York, CAFÉ! I", kv)
    assert result.words == ["Paris", "New_York", "café", "I"]
    assert result.missing == ["and"]
    np.testing.assert_array_equal(result.vectors[0], kv["Paris"])


# ------------------------------------------------------------------------- sentences


def test_tokenize_examples():
    assert tokenize(SENTENCE + "!") == ["I", "drink", "coke", "but", "eat", "steak"]
    assert tokenize("«Steak» — didn't; New_York") == ["Steak", "didn", "t", "New_York"]
    assert tokenize("  \n\t") == []
    with pytest.raises(TypeError):
        tokenize(None)


def test_embed_sentence_result(bundled):
    result = embed_sentence("Eat STEAK, drink zzyzxq and qqqxz!", bundled)
    assert isinstance(result, SentenceEmbedding)
    assert result.words == ["eat", "steak", "drink", "and"]
    assert result.missing == ["zzyzxq", "qqqxz"]
    assert result.tokens == ["Eat", "STEAK", "drink", "zzyzxq", "and", "qqqxz"]
    assert result.vectors.shape == (4, 64) and result.vectors.dtype == np.float64
    np.testing.assert_array_equal(result.vectors[1], bundled["steak"])
    with pytest.raises(AttributeError):
        result.words = []  # frozen


def test_embed_sentence_default_and_source_name(bundled):
    a = embed_sentence(SENTENCE)
    b = embed_sentence(SENTENCE, "bundled")
    np.testing.assert_array_equal(a.vectors, b.vectors)


def test_lookup_order_typed_then_lower_then_capitalised():
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=2)
    kv.add_vectors(["apple", "Apple", "Berlin"], np.array([[1, 0], [0, 1], [1, 1]], float))
    result = embed_sentence("Apple APPLE apple berlin BERLIN", kv)
    assert result.words == ["Apple", "apple", "apple", "Berlin", "Berlin"]
    assert result.missing == []


@pytest.mark.parametrize(
    ("sentence", "needle"),
    [("", "empty"), ("   ", "empty"), ("?!, ... ;", "punctuation"), ("zzyzxq qqqxz", "zzyzxq")],
)
def test_embed_sentence_errors(bundled, sentence, needle):
    with pytest.raises(ValueError, match=needle) as info:
        embed_sentence(sentence, bundled)
    if "zzyzxq" in sentence:
        assert "qqqxz" in str(info.value)


def test_unknown_word_message_is_bounded(bundled):
    with pytest.raises(ValueError, match="and 980 more"):
        embed_sentence(" ".join(f"zq{i}x" for i in range(1000)), bundled)


def test_very_long_and_non_ascii_input(bundled):
    long = " ".join(["steak"] * 50_000 + ["東京", "naïve", "🙂"])
    result = embed_sentence(long, bundled)
    assert result.vectors.shape == (50_000, 64)
    assert result.missing == ["東京", "naïve", "🙂"]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_embed_sentence_never_crashes(sentence):
    kv = load_embeddings("bundled")
    try:
        result = embed_sentence(sentence, kv)
    except ValueError:
        return
    assert len(result.words) + len(result.missing) == len(result.tokens)
    assert result.vectors.shape == (len(result.words), 64)
    assert np.all(np.isfinite(result.vectors))


@given(st.text(alphabet=st.characters(), max_size=200))
def test_tokens_have_no_space_or_punctuation(sentence):
    import unicodedata

    for token in tokenize(sentence):
        assert token and not any(c.isspace() for c in token)
        assert not any(unicodedata.category(c).startswith("P") and c != "_" for c in token)
