"""Edge cases of the attention API (issue 13, point 6): each is an error naming the problem,
or a result that is right. The PyTorch cross-checks stay in test_attention.py."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.attention import (
    attention_entropy,
    dot_product_attention,
    scaled_dot_product_attention,
    softmax,
)

Q, K, V = np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 2))


@pytest.mark.parametrize(
    ("queries", "keys", "values", "message"),
    [
        (np.ones((2, 0)), np.ones((4, 0)), V, r"d_k is 0 \(queries \(2, 0\), keys \(4, 0\)\)"),
        (Q, np.ones((0, 3)), np.ones((0, 2)), r"seq_k is 0 \(keys \(0, 3\)\)"),
        (Q, K, np.array([[1.0, 2], [np.nan, 0], [0, 0], [0, 0]]), r"values .*nan.* \(1, 0\)"),
        (np.array([[0.0, np.inf, 0]] * 2), K, V, r"queries .*inf.* \(0, 1\)"),
        (Q, np.full((4, 3), -np.inf), V, r"keys .*-inf.* \(0, 0\)"),
    ],
    ids=["d_k = 0", "seq_k = 0", "NaN in values", "inf in queries", "-inf in keys"],
)
def test_degenerate_inputs_are_named(queries, keys, values, message):
    with pytest.raises(ValueError, match=message):
        scaled_dot_product_attention(queries, keys, values)


def test_d_k_zero_with_an_explicit_scale_is_still_an_error():
    with pytest.raises(ValueError, match="d_k is 0"):
        scaled_dot_product_attention(np.ones((2, 0)), np.ones((4, 0)), V, scale=1.0)


def test_no_queries_gives_empty_results():
    output, weights = scaled_dot_product_attention(np.ones((0, 3)), K, V)
    assert output.shape == (0, 2) and weights.shape == (0, 4)


@pytest.mark.parametrize(
    ("scale", "error", "message"),
    [
        ("2", TypeError, r"scale must be a real number, got str '2'"),
        (None, None, None),
        ([2.0], TypeError, "got list"),
        (True, TypeError, "got bool"),
        (float("nan"), ValueError, "scale must be finite"),
        (float("inf"), ValueError, "scale must be finite"),
    ],
)
def test_scale_must_be_a_finite_real_number(scale, error, message):
    if error is None:
        _, weights = scaled_dot_product_attention(Q, K, V, scale=scale)
        np.testing.assert_allclose(weights, 0.25)
        return
    with pytest.raises(error, match=message):
        scaled_dot_product_attention(Q, K, V, scale=scale)


def test_numpy_scalar_scale_is_accepted():
    a = scaled_dot_product_attention(Q, K, V, scale=np.float32(0.5))[1]
    np.testing.assert_allclose(a, scaled_dot_product_attention(Q, K, V, scale=0.5)[1])


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["to +inf", "to -inf"])
def test_overflowing_scores_are_reported_as_overflow_not_masking(sign):
    queries = np.array([[1e200, 0.0]])
    keys = np.array([[sign * 1e200, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="overflowed") as info:
        dot_product_attention(queries, keys, np.ones((2, 1)))
    assert "masked" not in str(info.value)
    assert ("-inf" if sign < 0 else "inf") in str(info.value)


def test_float16_inputs_do_not_overflow_the_scores():
    """q.k of 300 entries of 20 is 120,000, beyond float16's 65,504: computed in float32."""
    x = np.full((3, 300), 20.0, dtype=np.float16)
    _, weights = scaled_dot_product_attention(x, x, x)
    assert weights.dtype == np.float32
    np.testing.assert_allclose(weights, 1 / 3, rtol=1e-6)


# --- softmax -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        ([], ValueError, r"empty axis=-1 \(input of shape \(0,\)\)"),
        (np.zeros((3, 0)), ValueError, "empty axis"),
        (None, TypeError, "must be an array of real numbers, got NoneType"),
        ("scores", TypeError, "real numbers"),
        ([1 + 2j, 0], TypeError, "real numbers"),
        (3.0, ValueError, "at least one axis"),
        (np.array([0.0, np.nan]), ValueError, r"NaN at index \(1,\)"),
        (np.array([[0.0, 1], [np.inf, 0]]), ValueError, r"\+inf at index \(1, 0\)"),
    ],
)
def test_softmax_bad_input_is_named(x, error, message):
    with pytest.raises(error, match=message):
        softmax(x)


def test_softmax_axis_out_of_range_is_named():
    with pytest.raises(ValueError, match=r"axis=2 is out of range for an input of shape \(2, 2\)"):
        softmax(np.zeros((2, 2)), axis=2)


def test_softmax_names_the_fully_masked_row():
    scores = np.zeros((2, 3, 4))
    scores[1, 2] = -np.inf
    with pytest.raises(ValueError, match=r"every position masked\) at index \(1, 2\)"):
        softmax(scores)


def test_softmax_of_many_float16_zeros_sums_to_one():
    """70,000 float16 ones overflow a float16 sum (max 65,504): the sum is done in float32."""
    p = softmax(np.zeros(70_000, dtype=np.float16))
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, 1 / 70_000, rtol=1e-6)
    assert abs(float(p.sum(dtype=np.float64)) - 1.0) < 1e-5


def test_softmax_keeps_float32_and_float64():
    assert softmax(np.zeros(3, np.float32)).dtype == np.float32
    assert softmax(np.zeros(3)).dtype == np.float64
    assert softmax([True, False]).dtype == np.float64


@given(st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=50))
def test_float16_softmax_agrees_with_float64(values):
    x = np.array(values)
    x16 = x.astype(np.float16)
    np.testing.assert_allclose(softmax(x16), softmax(x16.astype(np.float64)), atol=1e-6)


# --- attention_entropy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "error", "message"),
    [
        (np.full((1, 10_000), 1.0), ValueError, r"row at index \(0,\) sums to 10000"),
        (np.array([[0.5, 0.5], [0.2, 0.3]]), ValueError, r"row at index \(1,\) sums to 0\.5"),
        (np.array([0.5, np.nan]), ValueError, "NaN"),
        (np.array([1.5, -0.5]), ValueError, "non-negative"),
        (np.array(["a"]), TypeError, "real numbers"),
    ],
)
def test_entropy_refuses_what_is_not_a_distribution(weights, error, message):
    with pytest.raises(error, match=message):
        attention_entropy(weights)


def test_entropy_accepts_rounding_of_the_dtype():
    row16 = softmax(np.linspace(0, 3, 500).astype(np.float16)).astype(np.float16)
    h = attention_entropy(row16)  # float16 rows sum to 1 only within ~1e-3
    assert 0 < float(h) < math.log(500)
    row = np.full(3, 1 / 3)
    np.testing.assert_allclose(attention_entropy(row), math.log(3))
