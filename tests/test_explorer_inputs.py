"""What the explorers are asked to show, checked (course_lib.explorer_inputs): no widgets."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib import embeddings as emb
from course_lib.explorer_inputs import (
    InputProblem,
    check_attention_arguments,
    check_choice,
    check_divisor,
    check_trained_projections,
    check_whole,
    default_query,
    divisor_range,
    embed_text,
    embedding_tables,
    find_query,
    missing_note,
    project,
    shorten,
)
from course_lib.training import random_projections


@given(text=st.text(max_size=300), limit=st.integers(min_value=1, max_value=80))
def test_shorten_is_bounded_and_keeps_the_start(text, limit):
    out = shorten(text, limit)
    assert out.startswith(text[:limit]) and len(out) <= limit + 30
    assert (out == text) == (len(text) <= limit)


@pytest.mark.parametrize("value", [0.5, 8, np.float32(2.0), np.int64(3), 1e6])
def test_check_divisor_takes_positive_numbers(value):
    assert check_divisor(value) == float(value) and type(check_divisor(value)) is float


@pytest.mark.parametrize(
    "value, error",
    [(0, InputProblem), (-1.0, InputProblem), (math.nan, InputProblem), (math.inf, InputProblem),
     ("8", TypeError), (None, TypeError), (True, TypeError)],
)  # fmt: skip
def test_check_divisor_refuses_the_rest(value, error):
    with pytest.raises(error, match="divisor must be a"):
        check_divisor(value)


def test_input_problem_is_a_value_error():
    assert issubclass(InputProblem, ValueError)


def test_check_whole_and_check_choice():
    assert check_whole(np.int64(5), "n", 0, 9) == 5
    with pytest.raises(InputProblem, match="n must be from 0 to 9, not 10"):
        check_whole(10, "n", 0, 9)
    with pytest.raises(TypeError, match="n must be a whole number, not 2.0"):
        check_whole(2.0, "n", 0)
    with pytest.raises(TypeError):
        check_whole(False, "n", 0)
    assert check_choice("b", ("a", "b"), "letter") == "b"
    with pytest.raises(InputProblem, match="letter must be one of 'a', 'b', not 'c'"):
        check_choice("c", ("a", "b"), "letter")
    with pytest.raises(InputProblem, match="not 1"):
        check_choice(1, ("a", "b"), "letter")


def test_check_trained_projections():
    assert check_trained_projections(None) is None
    w_q, w_k = check_trained_projections(([[1, 2]], [[3, 4]]))
    assert w_q.dtype == np.float64 and w_k.shape == (1, 2)
    for bad in (np.ones((4, 2)), (np.ones(3), np.ones(3)), (np.ones((2, 2)), np.ones((2, 3)))):
        with pytest.raises(ValueError):
            check_trained_projections(bad)


def test_check_attention_arguments():
    projections, divisor, max_words = check_attention_arguments("a b", None, None, 4, "a", 9)
    assert (projections, divisor, max_words) == (None, 4.0, 9)
    with pytest.raises(TypeError, match="sentence must be a str, not NoneType"):
        check_attention_arguments(None, None, None, None, None, 60)
    with pytest.raises(TypeError, match="embeddings must be"):
        check_attention_arguments("a", [1, 2], None, None, None, 60)
    with pytest.raises(TypeError, match="query must be a word or an index"):
        check_attention_arguments("a", None, None, None, 2.5, 60)


def test_embedding_tables_of_a_source_and_of_a_table():
    source, tables, sources = embedding_tables(None)
    assert source == "bundled" and "bundled" in sources and tables["bundled"].vector_size == 64
    table = tables["bundled"]
    assert embedding_tables(table) == (None, {None: table}, [None])


def test_divisor_range_covers_eight_sqrt_dk_and_the_divisor():
    low, high = divisor_range(64)
    assert 2**low == 0.25 and 2**high >= 64.0
    assert 2 ** divisor_range(64, 1000.0)[1] >= 1000.0


def test_default_query_prefers_a_word_that_looks_elsewhere():
    words = ["i", "drink", "coke"]
    weights = np.array([[0.1, 0.9, 0.0], [0.1, 0.3, 0.6], [0.0, 0.2, 0.8]])
    assert default_query(words, weights) == 1  # "i" looks elsewhere most, but is short
    assert default_query(["x"], np.ones((1, 1))) == 0


def test_find_query_takes_a_word_or_an_index():
    words = ["the", "cat", "the"]
    assert find_query("the", words) == 0 and find_query(2, words) == 2
    assert find_query(np.int64(1), words) == 1
    for bad in ("dog", 3, -1, True, None, 1.0):
        with pytest.raises(InputProblem, match="Choose a query word"):
            find_query(bad, words)


def test_embed_text_refuses_what_cannot_be_shown():
    table = emb.lookup_table("bundled")
    found, vectors = embed_text("eat steak", table, 10)
    assert list(found.words) == ["eat", "steak"] and vectors.dtype == np.float64
    refused = {"  ": "The sentence box is empty", "?!": "No words found",
               "eat " * 11: "That is 11 words", "zzqxj": "No word of this"}  # fmt: skip
    for text, start in refused.items():
        with pytest.raises(InputProblem, match=start):
            embed_text(text, table, 10)


def test_missing_note_lists_ten_and_counts_the_rest():
    assert missing_note([]) == ""
    note = missing_note([f"w{i}" for i in range(13)])
    assert "'w9'" in note and "'w10'" not in note and note.endswith("and 3 more.")


def test_project_uses_the_course_random_projections():
    x = np.random.default_rng(0).standard_normal((4, 6))
    w_q, w_k = random_projections(6, 6, seed=0)
    queries, keys = project("random", x)
    np.testing.assert_allclose(queries, x @ w_q) and np.testing.assert_allclose(keys, x @ w_k)
    queries, keys = project("shared", x)
    np.testing.assert_allclose(keys, x @ w_q)
    assert project("none", x)[0] is x
    trained = (np.ones((6, 2)), np.zeros((6, 2)))
    assert project("trained", x, trained)[0].shape == (4, 2)
    with pytest.raises(InputProblem, match="expect 5-dimensional"):
        project("trained", x, (np.ones((5, 2)), np.ones((5, 2))))
    with pytest.raises(InputProblem, match="Unknown choice"):
        project("trained", x)  # no trained projections given
