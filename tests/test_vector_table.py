"""VectorTable (the numpy table used in the browser) against gensim's KeyedVectors.

Both are built from the same words and the same float32 array: the bundled table of the
course, and small random tables drawn by hypothesis. Similarities must agree to 1e-6 and
``most_similar`` must return the same words in the same order (cosines to 1e-6). The
tolerance is float32 rounding (gensim works in float32 too, but may sum in another order);
a wrong formula (no normalisation, a missing mean, inputs not left out) is off by far more.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_lib.vector_table import VectorTable

gensim_models = pytest.importorskip("gensim.models")

TOL = 1e-6


def keyed_vectors(words, vectors):
    """A gensim KeyedVectors holding exactly ``words`` and ``vectors``."""
    kv = gensim_models.KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=vectors.dtype)
    kv.add_vectors(list(words), vectors)
    return kv


@pytest.fixture(scope="module")
def bundled_pair():
    """(gensim KeyedVectors, VectorTable) of the course's bundled table, from the file itself."""
    from course_lib.embeddings import BUNDLED_PATH

    with np.load(BUNDLED_PATH, allow_pickle=False) as data:
        words = data["words"].tolist()
        vectors = data["vectors"].astype(np.float32)  # (n_words, 64)
    return keyed_vectors(words, vectors), VectorTable(words, vectors)


def test_lookups_match_gensim(bundled_pair):
    kv, table = bundled_pair
    assert table.index_to_key == kv.index_to_key
    assert table.key_to_index == kv.key_to_index
    assert table.vector_size == kv.vector_size == 64
    assert len(table) == len(kv) == 21_745
    np.testing.assert_array_equal(table.vectors, kv.vectors)
    for word in ["drink", "coke", "steak", "the"]:
        assert word in table and word in kv
        assert table.get_index(word) == kv.get_index(word)
        np.testing.assert_array_equal(table[word], kv[word])
    np.testing.assert_array_equal(table[["eat", "drink", "eat"]], kv[["eat", "drink", "eat"]])
    assert "zzyzxq" not in table and "zzyzxq" not in kv
    with pytest.raises(KeyError, match="zzyzxq"):
        table["zzyzxq"]
    with pytest.raises(KeyError):
        kv["zzyzxq"]


def test_similarities_match_gensim_on_the_bundled_table(bundled_pair):
    kv, table = bundled_pair
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, len(kv), size=(500, 2))
    pairs = [(kv.index_to_key[i], kv.index_to_key[j]) for i, j in pairs]
    pairs += [("drink", "coke"), ("eat", "steak"), ("drink", "drink")]
    worst = max(abs(table.similarity(a, b) - float(kv.similarity(a, b))) for a, b in pairs)
    assert worst <= TOL
    assert table.similarity("drink", "drink") == pytest.approx(1.0, abs=TOL)


@pytest.mark.parametrize(
    "positive, negative, topn",
    [
        ("drink", None, 5),
        ("steak", None, 3),
        (["eat", "drink"], None, 10),
        (["king", "woman"], ["man"], 10),
        ("the", None, 25),
    ],
)
def test_most_similar_matches_gensim_on_the_bundled_table(bundled_pair, positive, negative, topn):
    kv, table = bundled_pair
    ours = table.most_similar(positive=positive, negative=negative, topn=topn)
    theirs = kv.most_similar(positive=positive, negative=negative, topn=topn)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([c for _, c in ours], [c for _, c in theirs], atol=TOL)
    inputs = {positive} if isinstance(positive, str) else set(positive)
    assert not inputs & {w for w, _ in ours}


def test_most_similar_of_many_words_matches_gensim(bundled_pair):
    kv, table = bundled_pair
    rng = np.random.default_rng(1)
    for i in rng.choice(len(kv), size=40, replace=False):
        word = kv.index_to_key[i]
        ours, theirs = table.most_similar(word, topn=10), kv.most_similar(word, topn=10)
        assert [w for w, _ in ours] == [w for w, _ in theirs], word


def test_most_similar_of_a_vector_matches_gensim(bundled_pair):
    kv, table = bundled_pair
    vector = kv["coke"] - kv["drink"] + kv["eat"]
    ours, theirs = table.most_similar(positive=[vector], topn=8), kv.most_similar([vector], topn=8)
    assert [w for w, _ in ours] == [w for w, _ in theirs]


def test_bad_input_gets_a_clear_message():
    with pytest.raises(ValueError, match="2 words but vectors of shape"):
        VectorTable(["a", "b"], np.zeros((3, 4)))
    with pytest.raises(ValueError, match="2-d"):
        VectorTable(["a"], np.zeros(4))
    with pytest.raises(ValueError, match="repeated: \\['a'\\]"):
        VectorTable(["a", "b", "a"], np.zeros((3, 2)))
    table = VectorTable(["a", "b"], np.eye(2))
    with pytest.raises(ValueError, match="at least one"):
        table.most_similar()
    with pytest.raises(ValueError, match="topn"):
        table.most_similar("a", topn=0)
    with pytest.raises(KeyError, match="'c'"):
        table.most_similar("c")


@st.composite
def small_tables(draw):
    n = draw(st.integers(3, 12))
    d = draw(st.integers(2, 6))
    elements = st.floats(-10, 10, width=32).filter(lambda x: abs(x) > 1e-3)
    vectors = draw(arrays(np.float32, (n, d), elements=elements))
    return [f"w{i}" for i in range(n)], vectors


@settings(max_examples=60, deadline=None)
@given(small_tables(), st.data())
def test_random_tables_agree_with_gensim(table_data, data):
    words, vectors = table_data
    kv, table = keyed_vectors(words, vectors), VectorTable(words, vectors)
    a, b = data.draw(st.sampled_from(words)), data.draw(st.sampled_from(words))
    assert table.similarity(a, b) == pytest.approx(float(kv.similarity(a, b)), abs=TOL)
    assert -1 - TOL <= table.similarity(a, b) <= 1 + TOL
    ours = table.most_similar(a, topn=len(words) - 1)
    theirs = kv.most_similar(a, topn=len(words) - 1)
    assert a not in {w for w, _ in ours}
    assert len(ours) == len(words) - 1
    # Equal cosines may come in either order: compare the cosines, and the words where
    # the cosines are clearly apart.
    np.testing.assert_allclose([c for _, c in ours], [c for _, c in theirs], atol=TOL)
    ours_cos = dict(ours)
    for word, cosine in theirs:
        assert ours_cos[word] == pytest.approx(cosine, abs=TOL)
