"""Tests of course_lib.embeddings: the bundled table, the lookup table and gensim's, and
sentence embedding. The word2vec_sample path is tested in test_word2vec_*.py (one file per
module), the bundled file's rebuild in test_bundled_build.py."""

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import course_lib.embeddings as emb
from course_lib.embeddings import (
    SentenceEmbedding,
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


# ---------------------------------------- the lookup table: numpy alone, gensim's stays apart


def test_lookup_table_holds_the_same_words_and_vectors_as_gensims(bundled):
    table = emb.lookup_table()
    assert isinstance(table, emb.LookupTable) and emb.lookup_table("bundled") is table
    assert list(table.index_to_key) == bundled.index_to_key
    assert dict(table.key_to_index) == bundled.key_to_index
    np.testing.assert_array_equal(table.vectors, bundled.vectors)
    assert table.vector_size == 64 and len(table) == 21745 and "steak" in table
    assert repr(table) == "LookupTable(21745 words x 64)"


def test_lookup_table_is_read_only():
    table = emb.lookup_table()
    with pytest.raises(ValueError, match="read-only"):
        table.vectors[0, 0] = 1.0
    with pytest.raises(TypeError):
        table.key_to_index["steak"] = 0
    with pytest.raises(AttributeError):
        table.vectors = None


def test_changing_gensims_vectors_does_not_change_embed_sentence(monkeypatch):
    monkeypatch.setattr(emb, "_LOADED", {})  # a KeyedVectors of this test's own
    before = embed_sentence(SENTENCE).vectors
    kv = load_embeddings("bundled")
    kv.unit_normalize_all()  # the student's to change
    np.testing.assert_allclose(np.linalg.norm(kv.vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(embed_sentence(SENTENCE).vectors, before)
    assert not np.shares_memory(kv.vectors, emb.lookup_table().vectors)


@pytest.mark.parametrize("source", ["glove", "", None, 5])
def test_lookup_table_names_an_unknown_source(source):
    with pytest.raises(ValueError, match="Unknown source"):
        emb.lookup_table(source)


@pytest.mark.parametrize(
    "embeddings",
    [5, 2.5, ["steak"], {"steak": 0}, np.zeros((3, 4)), object()],
    ids=["int", "float", "list", "dict", "array", "object"],
)
def test_embed_sentence_names_a_wrong_table(embeddings):
    """The issue: embed_sentence("drink", 5) raised AttributeError."""
    with pytest.raises(TypeError, match=r"embeddings must be a source name .* not "):
        embed_sentence("drink", embeddings)


def test_embed_sentence_accepts_every_kind_of_table(bundled):
    from course_lib.vector_table import VectorTable

    reference = embed_sentence(SENTENCE, bundled).vectors
    table = emb.lookup_table()
    as_vector_table = VectorTable(list(table.index_to_key), np.array(table.vectors))
    for embeddings in (None, "bundled", table, as_vector_table):
        np.testing.assert_array_equal(embed_sentence(SENTENCE, embeddings).vectors, reference)


def test_load_embeddings_download_must_be_a_bool():
    with pytest.raises(TypeError, match="download must be True or False"):
        load_embeddings("bundled", download="yes")


FIRST_PICTURE_WITHOUT_GENSIM = """
import sys
sys.modules["gensim"] = None  # any import of gensim now fails
from course_lib import embed_sentence, scaled_dot_product_attention
from course_lib.embeddings import lookup_table
from course_lib.training import verb_object_examples
emb = embed_sentence("I drink coke, but eat steak")
_, weights = scaled_dot_product_attention(emb.vectors, emb.vectors, emb.vectors)
assert lookup_table().vectors.shape == (21745, 64)
assert len(verb_object_examples()) == 6
try:
    from course_lib import load_embeddings
    load_embeddings()
except ImportError:
    print("load_embeddings needs gensim")
print(emb.words, weights.shape)
"""


def test_embed_sentence_and_the_default_table_need_no_gensim():
    """Issue 23 item 4: the first picture needs none of gensim's code; the KeyedVectors a
    student asks for with load_embeddings stays gensim's."""
    out = subprocess.run(
        [sys.executable, "-c", FIRST_PICTURE_WITHOUT_GENSIM],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "load_embeddings needs gensim" in out.stdout
    assert "['i', 'drink', 'coke', 'but', 'eat', 'steak'] (6, 6)" in out.stdout


def test_load_embeddings_gives_gensims_keyed_vectors(bundled):
    from gensim.models import KeyedVectors

    assert type(bundled) is KeyedVectors
