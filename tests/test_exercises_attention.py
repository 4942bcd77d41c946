"""Checkers for attention (notebooks 02-04): plain and scaled attention, attention with padding
and the causal mask. Right answers in several spellings get `correct`, each named wrong answer
gets `not yet` with the hint that names it.

(The missing answer, time limits, sys.exit and in-place changes are tested for every checker
in test_exercises_harness.py.)
"""

import numpy as np
import pytest
from exercise_helpers import assert_correct, assert_not_yet, quiet, scaled_attend
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import attention
from course_lib.exercises import (
    check_causal_mask,
    check_dot_product_attention,
    check_masked_attention,
    check_scaled_attention,
)


# --------------------------------------------------------------------------------------
# check_dot_product_attention and check_scaled_attention
# --------------------------------------------------------------------------------------
def attend(queries, keys, values):
    weights = attention.softmax(queries @ np.swapaxes(keys, -1, -2))
    return weights @ values, weights


def _attention_with(score_fn, softmax=attention.softmax, order=lambda o, w: (o, w)):
    def fn(queries, keys, values):
        weights = softmax(score_fn(queries, keys))
        return order(weights @ values, weights)

    return fn


def _by(divisor):
    return lambda q, k: q @ np.swapaxes(k, -1, -2) / divisor(q, k)


@pytest.mark.parametrize(
    ("checker", "fn"),
    [
        (check_dot_product_attention, attend),
        (check_dot_product_attention, lambda q, k, v: list(attend(q, k, v))),
        (
            check_dot_product_attention,
            _attention_with(lambda q, k: np.einsum("...id,...jd->...ij", q, k)),
        ),
        (check_scaled_attention, scaled_attend),
        (
            check_scaled_attention,
            _attention_with(lambda q, k: (q / np.sqrt(q.shape[-1])) @ np.swapaxes(k, -1, -2)),
        ),
        (
            check_scaled_attention,
            _attention_with(
                lambda q, k: q @ k.transpose(*range(k.ndim - 2), -1, -2) / q.shape[-1] ** 0.5
            ),
        ),
        (
            check_scaled_attention,
            lambda q, k, v: tuple(np.round(a, 4) for a in scaled_attend(q, k, v)),
        ),
        (
            check_scaled_attention,
            lambda q, k, v: tuple(a.astype(np.float32) for a in scaled_attend(q, k, v)),
        ),
    ],
    ids=[
        "attend",
        "list",
        "einsum",
        "scaled",
        "scale-queries",
        "transpose",
        "rounded-4",
        "float32",
    ],
)
def test_attention_right_answers(checker, fn, capsys):
    assert_correct(capsys, checker, fn)


def _naive_softmax(shift):
    def softmax(scores):
        e = np.exp(scores - shift(scores))
        return e / e.sum(axis=-1, keepdims=True)

    return softmax


ROOT_DK = _by(lambda q, k: np.sqrt(q.shape[-1]))


@pytest.mark.parametrize(
    ("checker", "fn", "hint"),
    [
        (
            check_dot_product_attention,
            _attention_with(lambda q, k: q @ k.T),
            ("batch", "last two axes"),
        ),
        (
            check_dot_product_attention,
            _attention_with(lambda q, k: q @ k),
            ("ValueError", "last two axes"),
        ),
        (check_dot_product_attention, scaled_attend, "leave the scores"),
        (
            check_dot_product_attention,
            lambda q, k, v: (q @ np.swapaxes(k, -1, -2) @ v, q @ np.swapaxes(k, -1, -2)),
            "apply a softmax",
        ),
        (
            check_dot_product_attention,
            _attention_with(_by(lambda q, k: 1), lambda s: attention.softmax(s, axis=-2)),
            "columns",
        ),
        (check_dot_product_attention, lambda q, k, v: attend(q, k, v)[0], "return 2 values"),
        (check_dot_product_attention, lambda q, k, v: attend(q, k, v)[::-1], "(weights, output)"),
        (
            check_dot_product_attention,
            _attention_with(_by(lambda q, k: 1), _naive_softmax(lambda s: 0)),
            ("NaN", "thousands"),
        ),
        (
            check_dot_product_attention,
            _attention_with(
                _by(lambda q, k: 1), _naive_softmax(lambda s: s.min(-1, keepdims=True))
            ),
            ("NaN", "not its min"),
        ),
        (
            check_dot_product_attention,
            _attention_with(
                _by(lambda q, k: 1), lambda s: np.exp(s - s.max()) / np.exp(s - s.max()).sum()
            ),
            "whole matrix",
        ),
        (check_scaled_attention, attend, ("unscaled", "√d_k")),
        (
            check_scaled_attention,
            _attention_with(_by(lambda q, k: q.shape[-1])),
            "divided the scores by d_k",
        ),
        (
            check_scaled_attention,
            _attention_with(_by(lambda q, k: 1 / np.sqrt(q.shape[-1]))),
            "multiplied the scores",
        ),
        (
            check_scaled_attention,
            _attention_with(_by(lambda q, k: np.sqrt(k.shape[-2]))),
            ("√seq_len", "number of keys"),
        ),
        (
            check_scaled_attention,
            _attention_with(_by(lambda q, k: np.sqrt(q.shape[-2]))),
            "row 0 should be",
        ),
        (
            check_scaled_attention,
            _attention_with(ROOT_DK, order=lambda o, w: (w, o)),
            "(weights, output)",
        ),
        (
            check_scaled_attention,
            _attention_with(ROOT_DK, lambda s: attention.softmax(s, axis=-2)),
            "columns",
        ),
        (
            check_scaled_attention,
            lambda q, k, v: (scaled_attend(q, k, v)[0] * 1.001, scaled_attend(q, k, v)[1]),
            "output is not weights @ values",
        ),
        (
            check_scaled_attention,
            lambda q, k, v: (scaled_attend(q, k, v)[1] @ k, scaled_attend(q, k, v)[1]),
            "weights @ keys",
        ),
    ],
    ids=[
        "keys.T",
        "no-transpose",
        "scaled",
        "no-softmax",
        "axis-2",
        "one-value",
        "swapped",
        "overflow",
        "min",
        "whole",
        "unscaled",
        "d_k",
        "times-root",
        "seq_k",
        "seq_q",
        "swapped-scaled",
        "columns-scaled",
        "output",
        "weights@keys",
    ],
)
def test_attention_wrong_answers(checker, fn, hint, capsys):
    assert_not_yet(capsys, checker, fn, hint=hint)


def test_scaled_attention_by_root_d_v_is_named(capsys):
    def by_d_v(queries, keys, values):
        weights = attention.softmax(queries @ np.swapaxes(keys, -1, -2) / np.sqrt(values.shape[-1]))
        return weights @ values, weights

    assert_not_yet(capsys, check_scaled_attention, by_d_v, hint="√d_v")


@settings(max_examples=25, deadline=None)
@given(factor=st.floats(0.1, 0.9) | st.floats(1.1, 10))
def test_scaled_checker_rejects_any_other_scale(factor):
    def wrong_scale(queries, keys, values):
        d_k = queries.shape[-1]
        return attention.scaled_dot_product_attention(
            queries, keys, values, scale=factor / np.sqrt(d_k)
        )

    assert quiet(check_scaled_attention, wrong_scale) is False


# --------------------------------------------------------------------------------------
# check_masked_attention
# --------------------------------------------------------------------------------------
def _masked(mask_scores, after=lambda w, keep: w):
    def fn(queries, keys, values, keep):
        scores = queries @ keys.T / np.sqrt(queries.shape[-1])
        weights = after(attention.softmax(mask_scores(scores, keep)), keep)
        return weights @ values, weights

    return fn


@pytest.mark.parametrize(
    "fn",
    [
        _masked(lambda s, keep: np.where(keep, s, -np.inf)),
        _masked(lambda s, keep: s + np.where(keep, 0.0, -1e9)),
        _masked(lambda s, keep: np.where(keep[None, :], s, -np.inf)),
        lambda q, k, v, keep: tuple(
            np.round(a, 4) for a in _masked(lambda s, m: np.where(m, s, -np.inf))(q, k, v, keep)
        ),
    ],
    ids=["where-inf", "minus-1e9", "broadcast", "rounded-4"],
)
def test_masked_attention_right_answers(fn, capsys):
    assert_correct(capsys, check_masked_attention, fn)


MASKED_WRONG = [
    (_masked(lambda s, keep: s), "mask was not applied"),
    (_masked(lambda s, keep: s * keep), ("multiplying the scores", "exp(0) = 1")),
    (_masked(lambda s, keep: s, lambda w, keep: w * keep), ("after the softmax", "sum to 1")),
    (_masked(lambda s, keep: np.where(keep, -np.inf, s)), "inverted"),
    (
        _masked(lambda s, keep: np.where(keep, s, -100.0)),
        ("exactly 0 only when", "fill < m − 745", "-100 does not"),
    ),
    (_masked(lambda s, keep: np.where(keep, s * 1.5, -np.inf)), "row 0"),
    (
        lambda q, k, v, keep: _unscaled_masked(q, k, v, keep),
        "not divided by √d_k",
    ),
    (
        lambda q, k, v, keep: _masked(lambda s, m: np.where(m, s, -np.inf))(q, k, v, keep)[::-1],
        "(weights, output)",
    ),
    (
        lambda q, k, v, keep: _naive_masked(q, k, v, keep),
        ("NaN", "thousands"),
    ),
]
MASKED_WRONG_IDS = [
    "no-mask",
    "times-mask",
    "zero-after",
    "inverted",
    "minus-100",
    "other",
    "unscaled",
    "swapped",
    "overflow",
]


@pytest.mark.parametrize(("fn", "hint"), MASKED_WRONG, ids=MASKED_WRONG_IDS)
def test_masked_attention_wrong_answers(fn, hint, capsys):
    assert_not_yet(capsys, check_masked_attention, fn, hint=hint)


def _unscaled_masked(queries, keys, values, keep):
    weights = attention.softmax(np.where(keep, queries @ keys.T, -np.inf))
    return weights @ values, weights


def _naive_masked(queries, keys, values, keep):
    e = np.exp(queries @ keys.T / np.sqrt(queries.shape[-1])) * keep
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ values, weights


# --------------------------------------------------------------------------------------
# check_causal_mask
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda n: np.tril(np.ones((n, n), dtype=bool)),
        lambda n: np.tril(np.ones((n, n))),  # float 0/1, as many courses teach
        lambda n: np.tril(np.ones((n, n), dtype=int)),
        lambda n: np.arange(n)[None, :] <= np.arange(n)[:, None],
        lambda n: ~np.triu(np.ones((n, n), dtype=bool), k=1),
        lambda n: np.tril(np.ones((n, n))).tolist(),
    ],
    ids=["bool", "float", "int", "arange", "not-triu", "list"],
)
def test_causal_mask_right_answers(fn, capsys):
    assert_correct(capsys, check_causal_mask, fn)


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda n: np.triu(np.ones((n, n), dtype=bool)), ("above the diagonal", "BEFORE")),
        (lambda n: np.triu(np.ones((n, n), dtype=bool), k=1), "invert it"),
        (lambda n: 1 - np.tril(np.ones((n, n))), "invert it"),
        (lambda n: np.tril(np.ones((n, n), dtype=bool), k=-1), "diagonal must be True"),
        (lambda n: np.ones(n, dtype=bool), ("expected shape (4, 4)", "(4,)")),
        (lambda n: np.triu(np.full((n, n), -np.inf), k=1), "additive mask"),
        (lambda n: 2 * np.tril(np.ones((n, n))), ("holds True/False", "2.0")),
        (lambda n: np.ones((n, n), dtype=bool), "row 1 should be"),
    ],
    ids=["triu", "inverted", "one-minus", "no-diagonal", "shape", "additive", "twos", "all"],
)
def test_causal_mask_wrong_answers(fn, hint, capsys):
    assert_not_yet(capsys, check_causal_mask, fn, hint=hint)
