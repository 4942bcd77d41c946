"""Tests of course_lib.attention: examples, properties (hypothesis) and PyTorch agreement."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_lib.attention import (
    attention_entropy,
    causal_mask,
    dot_product_attention,
    scaled_dot_product_attention,
    softmax,
)

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


@st.composite
def qkv(draw, max_seq=6, max_d=8):
    """Random queries (seq_q, d_k), keys (seq_k, d_k) and values (seq_k, d_v)."""
    seq_q = draw(st.integers(1, max_seq))
    seq_k = draw(st.integers(1, max_seq))
    d_k = draw(st.integers(1, max_d))
    d_v = draw(st.integers(1, max_d))
    queries = draw(arrays(np.float64, (seq_q, d_k), elements=finite))
    keys = draw(arrays(np.float64, (seq_k, d_k), elements=finite))
    values = draw(arrays(np.float64, (seq_k, d_v), elements=finite))
    return queries, keys, values


# --- softmax ---------------------------------------------------------------------------


def test_softmax_known_values():
    got = softmax(np.array([0.0, np.log(3.0)]))
    np.testing.assert_allclose(got, [0.25, 0.75])


@pytest.mark.parametrize("big", [1e4, -1e4, 1e300])
def test_softmax_extreme_scores_do_not_overflow(big):
    got = softmax(np.array([[big, 0.0, big - 1.0]]))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got.sum(axis=-1), 1.0)
    assert got[0].argmax() == (0 if big > 0 else 1)


@given(
    arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=finite),
    st.floats(-1e3, 1e3),
)
def test_softmax_rows_sum_to_one_and_shift_invariant(x, shift):
    p = softmax(x, axis=-1)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    assert (p >= 0).all()
    np.testing.assert_allclose(softmax(x + shift, axis=-1), p, atol=1e-9)


def test_softmax_honours_axis():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(softmax(x, axis=0).sum(axis=0), [1.0, 1.0])
    np.testing.assert_allclose(softmax(x, axis=0), softmax(x.T, axis=-1).T)
    assert not np.allclose(softmax(x, axis=0), softmax(x, axis=1))


def test_softmax_neg_inf_gets_exactly_zero():
    p = softmax(np.array([[1.0, -np.inf, 2.0]]))
    assert p[0, 1] == 0.0
    np.testing.assert_allclose(p.sum(), 1.0)


def test_softmax_all_masked_row_is_an_error():
    with pytest.raises(ValueError, match="all -inf"):
        softmax(np.array([[0.0, 1.0], [-np.inf, -np.inf]]))


def test_softmax_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        softmax(np.array([0.0, np.nan]))


def test_softmax_integer_input_gives_floats():
    np.testing.assert_allclose(softmax(np.array([0, 0])), [0.5, 0.5])


# --- attention: properties ---------------------------------------------------------------


@given(qkv())
def test_weights_rows_sum_to_one(args):
    _, weights = scaled_dot_product_attention(*args)
    assert weights.shape == (args[0].shape[0], args[1].shape[0])
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)
    assert (weights >= 0).all()


@given(qkv(), st.data())
def test_masked_weights_are_exactly_zero(args, data):
    queries, keys, values = args
    seq_q, seq_k = queries.shape[0], keys.shape[0]
    mask = data.draw(arrays(np.bool_, (seq_q, seq_k)))
    mask[np.arange(seq_q), data.draw(st.integers(0, seq_k - 1))] = True  # one key per row
    output, weights = scaled_dot_product_attention(queries, keys, values, mask=mask)
    assert (weights[~mask] == 0.0).all()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(output, weights @ values, atol=1e-9)


@given(qkv(), st.randoms(use_true_random=False))
def test_permuting_queries_permutes_output_rows(args, rnd):
    queries, keys, values = args
    perm = np.array(rnd.sample(range(queries.shape[0]), queries.shape[0]))
    out, w = scaled_dot_product_attention(queries, keys, values)
    out_p, w_p = scaled_dot_product_attention(queries[perm], keys, values)
    np.testing.assert_allclose(out_p, out[perm], atol=1e-9)
    np.testing.assert_allclose(w_p, w[perm], atol=1e-12)


@given(qkv(), st.randoms(use_true_random=False))
def test_permuting_keys_and_values_together_changes_nothing(args, rnd):
    queries, keys, values = args
    perm = np.array(rnd.sample(range(keys.shape[0]), keys.shape[0]))
    out, w = scaled_dot_product_attention(queries, keys, values)
    out_p, w_p = scaled_dot_product_attention(queries, keys[perm], values[perm])
    np.testing.assert_allclose(out_p, out, atol=1e-9)
    np.testing.assert_allclose(w_p, w[:, perm], atol=1e-12)


@given(qkv())
def test_scale_to_zero_gives_uniform_weights(args):
    _, weights = scaled_dot_product_attention(*args, scale=0.0)
    np.testing.assert_allclose(weights, 1.0 / args[1].shape[0])
    _, tiny = scaled_dot_product_attention(*args, scale=1e-12)
    np.testing.assert_allclose(tiny, 1.0 / args[1].shape[0], atol=1e-6)


def test_large_scale_approaches_one_hot_on_the_argmax():
    rng = np.random.default_rng(0)
    queries, keys, values = (
        rng.normal(size=(4, 8)),
        rng.normal(size=(6, 8)),
        rng.normal(size=(6, 3)),
    )
    scores = queries @ keys.T
    _, weights = scaled_dot_product_attention(queries, keys, values, scale=1e6)
    np.testing.assert_allclose(weights, np.eye(6)[scores.argmax(axis=-1)], atol=1e-9)


@given(qkv(), st.floats(-1e3, 1e3))
def test_adding_a_constant_to_a_row_of_scores_changes_nothing(args, c):
    # A key direction orthogonal to nothing: shift the scores of query row 0 by c via softmax.
    queries, keys, values = args
    scores = queries @ keys.T
    shifted = scores.copy()
    shifted[0] += c
    np.testing.assert_allclose(softmax(shifted), softmax(scores), atol=1e-9)


def test_entropy_rises_as_scale_falls():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 64))
    entropies = [
        attention_entropy(scaled_dot_product_attention(x, x, x, scale=1 / s)[1]).mean()
        for s in (1, 2, 8, 64)
    ]
    assert all(a < b for a, b in zip(entropies, entropies[1:], strict=False))
    assert entropies[-1] < math.log(7)


# --- attention: examples and errors ------------------------------------------------------


def test_dot_product_attention_is_scale_one():
    rng = np.random.default_rng(2)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    out, w = dot_product_attention(q, k, v)
    expected_w = softmax(q @ k.T)
    np.testing.assert_allclose(w, expected_w)
    np.testing.assert_allclose(out, expected_w @ v)


def test_default_scale_is_one_over_sqrt_dk():
    rng = np.random.default_rng(3)
    q, k, v = rng.normal(size=(3, 16)), rng.normal(size=(5, 16)), rng.normal(size=(5, 2))
    _, w = scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(w, softmax(q @ k.T / 4.0))


def test_batch_dimensions_broadcast():
    rng = np.random.default_rng(4)
    q = rng.normal(size=(2, 3, 5, 4))  # (batch, heads, seq_q, d_k)
    k = rng.normal(size=(1, 3, 6, 4))  # broadcasts over the batch
    v = rng.normal(size=(6, 2))  # shared values
    out, w = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 5, 2) and w.shape == (2, 3, 5, 6)
    out_0, w_0 = scaled_dot_product_attention(q[1, 2], k[0, 2], v)
    np.testing.assert_allclose(out[1, 2], out_0)
    np.testing.assert_allclose(w[1, 2], w_0)


def test_d_k_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"queries has shape \(3, 4\).*keys has shape \(5, 6\)"):
        scaled_dot_product_attention(np.ones((3, 4)), np.ones((5, 6)), np.ones((5, 2)))


def test_seq_k_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"keys has shape \(5, 4\).*values has shape \(6, 2\)"):
        dot_product_attention(np.ones((3, 4)), np.ones((5, 4)), np.ones((6, 2)))


def test_one_dimensional_input_is_refused():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        scaled_dot_product_attention(np.ones(4), np.ones((5, 4)), np.ones((5, 2)))


def test_batch_mismatch_is_refused():
    with pytest.raises(ValueError, match="batch dimensions do not broadcast"):
        scaled_dot_product_attention(np.ones((2, 3, 4)), np.ones((3, 5, 4)), np.ones((5, 2)))


def test_fully_masked_row_names_the_row():
    mask = np.array([[True, False], [False, False], [True, True]])
    with pytest.raises(ValueError, match="query row 1"):
        scaled_dot_product_attention(np.ones((3, 4)), np.ones((2, 4)), np.ones((2, 1)), mask=mask)


def test_mask_must_be_boolean_and_broadcast():
    q, k, v = np.ones((3, 4)), np.ones((2, 4)), np.ones((2, 1))
    with pytest.raises(ValueError, match="boolean"):
        scaled_dot_product_attention(q, k, v, mask=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"mask of shape \(3, 3\)"):
        scaled_dot_product_attention(q, k, v, mask=np.ones((3, 3), dtype=bool))


def test_causal_mask_blocks_the_future():
    x = np.random.default_rng(5).normal(size=(4, 3))
    _, w = scaled_dot_product_attention(x, x, x, mask=causal_mask(4))
    assert (np.triu(w, k=1) == 0).all()
    assert w[0, 0] == 1.0
    with pytest.raises(ValueError, match="seq_len must be at least 1, got 0"):
        causal_mask(0)


# --- entropy and the softmax's derivative ---------------------------------------------------


@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)), elements=finite))
def test_entropy_is_between_zero_and_log_n(scores):
    h = attention_entropy(softmax(scores))
    assert (h >= -1e-12).all() and (h <= math.log(scores.shape[-1]) + 1e-9).all()


@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 6)), elements=finite))
def test_masked_keys_add_nothing_to_the_entropy(scores):
    """A weight of exactly 0 (a masked key) counts as 0 · log 0 = 0, never NaN."""
    weights = softmax(scores)
    padded = np.concatenate([weights, np.zeros((len(weights), 2))], axis=-1)  # two masked keys
    np.testing.assert_allclose(attention_entropy(padded), attention_entropy(weights), atol=1e-12)


def test_entropy_rejects_negative_weights():
    with pytest.raises(ValueError, match="non-negative"):
        attention_entropy(np.array([1.5, -0.5]))


def _numerical_jacobian(z, eps=1e-6):
    """d softmax(z)_i / d z_j by central differences of course_lib's softmax."""
    return np.stack(
        [(softmax(z + eps * e) - softmax(z - eps * e)) / (2 * eps) for e in np.eye(len(z))],
        axis=1,
    )


def test_softmax_derivative_is_diag_p_minus_p_p_transposed():
    """The Jacobian notebook 03 states (∂A_i/∂s_j = A_i(δ_ij − A_j)) is softmax's own: checked
    on course_lib's softmax by finite differences. (softmax_jacobian itself left the package:
    no notebook calls it and one product with it answers notebook 03's exercise.)"""
    z = np.random.default_rng(6).normal(size=5)
    p = softmax(z)
    np.testing.assert_allclose(_numerical_jacobian(z), np.diag(p) - np.outer(p, p), atol=1e-9)
    saturated = _numerical_jacobian(np.array([30.0, 0.0, 0.0]))
    assert np.abs(saturated).max() < 1e-12  # one-hot: no gradient reaches the scores


@pytest.mark.torch
def test_softmax_derivative_agrees_with_torch_autograd():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (make test installs it)")
    z = np.random.default_rng(8).normal(size=6)
    theirs = torch.autograd.functional.jacobian(
        lambda t: torch.softmax(t, dim=-1), torch.from_numpy(z)
    ).numpy()
    np.testing.assert_allclose(_numerical_jacobian(z), theirs, atol=1e-9)


def test_no_softmax_jacobian_in_the_package():
    import course_lib.attention

    assert not hasattr(course_lib.attention, "softmax_jacobian")
    assert "softmax_jacobian" not in course_lib.attention.__all__


@pytest.mark.parametrize("axis", [None, 1.0, True, "0", (0, 1)])
def test_softmax_axis_must_be_one_whole_number(axis):
    """The issue: softmax(x, axis=None) raised "'<=' not supported"."""
    with pytest.raises(TypeError, match=r"axis must be a whole number naming one axis"):
        softmax(np.zeros((2, 3)), axis=axis)
    with pytest.raises(TypeError, match=r"axis must be a whole number"):
        attention_entropy(np.full((2, 3), 1 / 3), axis=axis)


def test_softmax_axis_may_be_a_numpy_integer():
    np.testing.assert_allclose(softmax(np.zeros((2, 4)), axis=np.int64(0)), 0.5)


@pytest.mark.parametrize(
    ("seq_len", "error"),
    [(0, ValueError), (-2, ValueError), (2.5, TypeError), ("3", TypeError), (True, TypeError)],
)
def test_causal_mask_needs_a_whole_number(seq_len, error):
    with pytest.raises(error, match="seq_len must be"):
        causal_mask(seq_len)
    assert causal_mask(np.int64(2)).shape == (2, 2)


# --- agreement with PyTorch ------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("with_mask", [False, True])
@pytest.mark.parametrize("scale", [None, 1.0, 0.3])
def test_agrees_with_pytorch_sdpa(with_mask, scale):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (make test installs it)")
    functional = torch.nn.functional
    rng = np.random.default_rng(7)
    batch, heads, seq_q, seq_k, d_k, d_v = 3, 2, 5, 7, 16, 4
    q = rng.normal(size=(batch, heads, seq_q, d_k))
    k = rng.normal(size=(batch, heads, seq_k, d_k))
    v = rng.normal(size=(batch, heads, seq_k, d_v))
    mask = None
    if with_mask:
        mask = rng.random((batch, 1, seq_q, seq_k)) < 0.6
        mask[..., 0] = True  # every query keeps at least one key
    ours, weights = scaled_dot_product_attention(q, k, v, mask=mask, scale=scale)
    theirs = functional.scaled_dot_product_attention(
        torch.from_numpy(q),
        torch.from_numpy(k),
        torch.from_numpy(v),
        attn_mask=None if mask is None else torch.from_numpy(mask),
        scale=scale,
    ).numpy()
    assert theirs.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
    # The weights themselves, against torch's softmax of the same masked scores.
    s = (1 / math.sqrt(d_k)) if scale is None else scale
    scores = torch.from_numpy(q) @ torch.from_numpy(k).transpose(-1, -2) * s
    if mask is not None:
        scores = scores.masked_fill(~torch.from_numpy(mask), float("-inf"))
    np.testing.assert_allclose(weights, torch.softmax(scores, dim=-1).numpy(), rtol=0, atol=1e-12)
