"""VectorTable (the numpy table used in the browser) against gensim's KeyedVectors.

Both are built from the same words and the same float32 array: the bundled table of the
course, and small random tables drawn by hypothesis. Similarities must agree to 1e-6 and
``most_similar`` must return the same words in the same order (cosines to 1e-6). The
tolerance is float32 rounding (gensim works in float32 too, but may sum in another order);
a wrong formula (no normalisation, a missing mean, inputs not left out) is off by far more.

A property test (issue 21 item 4) drives both with the same random calls, of every shape a
student might type: words, unknown words, row numbers (in and out of range, numpy ints,
bools), vectors (right and wrong sizes, as lists), lists and tuples of them, (key, weight)
pairs, and topn of every type. A VectorTable must give gensim's answer, or raise a clear
error (TypeError, KeyError or ValueError with a message); it may refuse where gensim answers
only for the shapes its docstring names (a bool as a row number, similarity of lists).
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
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
    from course_lib.word_tables import BUNDLED_PATH

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
    assert table.most_similar("a", topn=0) == [] == table.most_similar("a", topn=-1)  # gensim's
    with pytest.raises(TypeError, match="topn must be a whole number"):
        table.most_similar("a", topn=1.5)
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


# ------------------------------------------- issue 21 item 4: the same random calls, one answer

N_WORDS = 21_745
SOME_WORDS = ["drink", "coke", "steak", "eat", "the", "paris", "beer", "tea", "king", "queen"]


def _keys(kv):
    """Keys of every kind a student might pass where gensim takes a key."""
    return st.one_of(
        st.sampled_from(SOME_WORDS),
        st.sampled_from(SOME_WORDS).map(np.str_),
        st.sampled_from(["zzyzxq", "Steak", "", "the ", "ß"]),  # not in the table
        st.integers(-3, 40),
        st.integers(N_WORDS - 3, N_WORDS + 3),  # around the last row
        st.integers(0, N_WORDS - 1).map(np.int64),
        st.booleans(),
        st.sampled_from([5.0, 2.5, float("nan"), None]),
    )


def _vectors(kv):
    d = kv.vector_size
    word_vector = st.sampled_from(SOME_WORDS).map(lambda w: np.array(kv[w]))
    return st.one_of(
        word_vector,
        word_vector.map(lambda v: v.tolist()),  # the issue's positive=kv["drink"].tolist()
        word_vector.map(lambda v: v[: d - 1]),  # the wrong size
        word_vector.map(lambda v: np.stack([v, v])),  # two at once
        word_vector.map(lambda v: v.astype(np.float64)),
        st.just(np.zeros(d, np.float32)),
    )


def _items(kv):
    key_or_vector = st.one_of(_keys(kv), _vectors(kv))
    weight = st.one_of(st.floats(-2, 2), st.integers(-2, 2))
    return st.one_of(key_or_vector, st.tuples(key_or_vector, weight))


def _positive(kv):
    return st.one_of(
        st.none(),
        _keys(kv),
        _vectors(kv),
        st.lists(_items(kv), max_size=3),
        st.lists(_keys(kv), max_size=3).map(tuple),
    )


TOPN = st.one_of(
    st.integers(-2, 30),
    st.integers(-2, 30).map(np.int64),
    st.booleans(),
    st.none(),
    st.sampled_from([2.0, 2.5, "3", N_WORDS + 5]),
)


def _calls(kv):
    one = _keys(kv) | st.lists(_keys(kv), max_size=3) | st.lists(_keys(kv)).map(tuple)
    return st.one_of(
        st.tuples(st.just("getitem"), st.tuples(one)),
        st.tuples(st.just("contains"), st.tuples(_keys(kv))),
        st.tuples(st.just("get_index"), st.tuples(_keys(kv))),
        st.tuples(st.just("has_index_for"), st.tuples(_keys(kv))),
        st.tuples(st.just("get_vector"), st.tuples(_keys(kv), st.booleans())),
        st.tuples(st.just("similarity"), st.tuples(one, one)),
        st.tuples(st.just("most_similar"), st.tuples(_positive(kv), _positive(kv), TOPN)),
    )


def _call(obj, name, args):
    """(value, None) or (None, the exception) of one call, numpy's warnings silenced."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if name == "getitem":
                return obj[args[0]], None
            if name == "contains":
                return args[0] in obj, None
            return getattr(obj, name)(*args), None
    except Exception as err:  # noqa: BLE001 (any error is compared below)
        return None, err


def _refusal_is_documented(name, args):
    """The shapes where VectorTable may raise although gensim answers (its docstring says)."""

    def has_bool(value):
        if isinstance(value, bool | np.bool_):
            return True
        if isinstance(value, list | tuple):
            return any(has_bool(v) for v in value)
        return False

    if has_bool(args):
        return True  # gensim reads True as row 1 through numpy's boolean indexing
    if name == "similarity":  # of lists: gensim scales a whole stack by one norm
        return any(isinstance(a, list | tuple) for a in args)
    return False


def _same_neighbours(kv, args, ours, theirs):
    assert len(ours) == len(theirs)
    np.testing.assert_allclose([c for _, c in ours], [c for _, c in theirs], atol=2e-5)
    if [w for w, _ in ours] == [w for w, _ in theirs]:
        return
    positive, negative, _ = args
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        every = kv.most_similar(positive, negative, topn=None)  # gensim's cosine of each word
    for (word, _), (_, cosine) in zip(ours, theirs, strict=True):
        # a word in another place only if gensim itself scores it the same (a float32 tie)
        assert abs(every[kv.get_index(word)] - cosine) < 2e-5, (word, cosine)


def _same(kv, name, args, ours, theirs):
    if name == "most_similar" and isinstance(theirs, list):
        assert isinstance(ours, list)
        _same_neighbours(kv, args, ours, theirs)
    elif isinstance(theirs, np.ndarray | np.floating):
        assert type(ours) is type(theirs) and np.shape(ours) == np.shape(theirs)
        assert np.asarray(ours).dtype == np.asarray(theirs).dtype
        np.testing.assert_allclose(ours, theirs, atol=2e-5, equal_nan=True)
        if name in ("get_vector", "getitem"):
            assert ours.flags.writeable == theirs.flags.writeable
    else:
        assert type(ours) is type(theirs) and ours == theirs


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_vector_table_never_answers_differently_from_gensim(bundled_pair, data):
    kv, table = bundled_pair
    name, args = data.draw(_calls(kv))
    theirs, their_error = _call(kv, name, args)
    ours, our_error = _call(table, name, args)
    if our_error is not None:
        assert isinstance(our_error, TypeError | KeyError | ValueError), repr(our_error)
        assert str(our_error), "an error without a message"
        if their_error is None:
            assert _refusal_is_documented(name, args), (
                f"refused where gensim answered: {our_error!r}"
            )
        return
    assert their_error is None, f"answered {ours!r} where gensim raised {their_error!r}"
    _same(kv, name, args, ours, theirs)


ISSUE_CALLS = {
    # the issue's list: (name, args) as _call takes them, and what VectorTable must do
    "vector as a list": ("most_similar", ("drink vector", None, 2), TypeError),
    "positive=[5] is word #5": ("most_similar", ([5], None, 3), "same"),
    "topn=0": ("most_similar", ("drink", None, 0), "same"),
    "topn=-1": ("most_similar", ("drink", None, -1), "same"),
    "topn=np.int64(2)": ("most_similar", ("drink", None, np.int64(2)), "same"),
    "topn=True": ("most_similar", ("drink", None, True), "same"),
    "topn=None": ("most_similar", ("drink", None, None), "same"),
    "weighted pairs": ("most_similar", ([("drink", 2.0), ("coke", -0.5)], None, 3), "same"),
    "t[5]": ("getitem", (5,), "same"),
    "5 in t": ("contains", (5,), "same"),
    "get_index(5)": ("get_index", (5,), "same"),
}


@pytest.mark.parametrize("case", list(ISSUE_CALLS))
def test_the_issues_calls_get_gensims_answer_or_a_clear_error(bundled_pair, case):
    kv, table = bundled_pair
    name, args, expected = ISSUE_CALLS[case]
    if args[0] == "drink vector":
        args = (kv["drink"].tolist(), *args[1:])
    theirs, their_error = _call(kv, name, args)
    ours, our_error = _call(table, name, args)
    if expected == "same":
        assert their_error is None and our_error is None, (their_error, our_error)
        _same(kv, name, args, ours, theirs)
    else:
        assert isinstance(their_error, expected) and isinstance(our_error, expected)
        assert "most_similar takes words, row numbers, vectors of shape (64,)" in str(our_error)
