"""check_padding_mask (notebook 05) and the masked-attention and backward messages of issue 17.

The masked-attention checker names 0/0 after underflow (softmax, zero the padding,
renormalise) and states the criterion a fill value must meet; the backward checker names a
lost axis instead of printing numpy's broadcast error.
"""

import numpy as np
import pytest
from exercise_helpers import assert_correct, assert_not_yet

from course_lib import attention
from course_lib.exercises import check_masked_attention, check_padding_mask, check_softmax_backward
from course_lib.exercises.masks import UNDERFLOW


def padding_mask(lengths, seq_len):
    return (np.arange(seq_len) < np.asarray(lengths)[:, None])[:, None, :]


@pytest.mark.parametrize(
    "fn",
    [
        padding_mask,
        lambda lengths, n: np.arange(n)[None, None, :] < lengths[:, None, None],
        lambda lengths, n: np.broadcast_to(padding_mask(lengths, n), (len(lengths), n, n)),
        lambda lengths, n: np.array([[[j < L for j in range(n)]] for L in lengths]),
        lambda lengths, n: padding_mask(lengths, n).tolist(),
    ],
    ids=["compare", "three-axes", "full-rows", "loops", "list"],
)
def test_padding_mask_right_answers(fn, capsys):
    assert_correct(capsys, check_padding_mask, fn)


PADDING_WRONG = [
    (lambda L, n: padding_mask(L, n)[:, 0, :], ("(batch, seq_len)", "axis of length 1")),
    (lambda L, n: padding_mask(L, n) & np.swapaxes(padding_mask(L, n), 1, 2), "padded QUERIES"),
    (lambda L, n: ~padding_mask(L, n), "inverted"),
    (lambda L, n: (np.arange(n) <= L[:, None])[:, None, :], "off by one"),
    (lambda L, n: (np.arange(n) < L[:, None] - 1)[:, None, :], "off by one"),
    (lambda L, n: np.ones((len(L), 1, n), bool), "use the lengths"),
    (lambda L, n: padding_mask(np.full_like(L, L[0]), n), "first sentence's length"),
    (lambda L, n: padding_mask(L, n).astype(int), ("0s and 1s", "comparison")),
    (lambda L, n: padding_mask(L, n).astype(float), "boolean"),
    (lambda L, n: padding_mask(L, n)[0], "expected shape (batch, 1, seq_len)"),
    (lambda L, n: padding_mask(L, n).astype(str), "True/False"),
    (lambda L, n: np.where(padding_mask(L, n), 0.0, -np.inf), "additive mask"),
]


@pytest.mark.parametrize(("fn", "hint"), PADDING_WRONG, ids=[str(i) for i in range(12)])
def test_padding_mask_wrong_answers(fn, hint, capsys):
    line = assert_not_yet(capsys, check_padding_mask, fn, hint=hint)
    for code in ("np.arange", "[:, None", "None, :]", "lengths[:, None]"):
        assert code not in line  # the hint names the mistake, not the code


def _masked(fill=None, renormalise=False):
    def fn(queries, keys, values, keep):
        scores = queries @ keys.T / np.sqrt(queries.shape[-1])  # (seq_q, seq_k)
        if renormalise:
            e = np.exp(scores - scores.max(axis=-1, keepdims=True))
            weights = e / e.sum(axis=-1, keepdims=True) * keep
            weights = weights / weights.sum(axis=-1, keepdims=True)
        else:
            weights = attention.softmax(np.where(keep, scores, fill))
        return weights @ values, weights

    return fn


def test_renormalising_after_the_softmax_is_told_the_real_cause(capsys):
    line = assert_not_yet(capsys, check_masked_attention, _masked(renormalise=True))
    assert "0/0" in line and "underflows" in line
    assert "overflows" not in line and "call course_lib's softmax" not in line


@pytest.mark.parametrize("fill", [-1e4, -1e9, -np.inf, -1e300])
def test_fills_far_enough_below_pass(fill, capsys):
    assert_correct(capsys, check_masked_attention, _masked(fill))


@pytest.mark.parametrize("fill", [-100.0, -700.0])
def test_fills_too_close_are_told_the_criterion(fill, capsys):
    line = assert_not_yet(capsys, check_masked_attention, _masked(fill))
    assert f"fill < m − {UNDERFLOW:.0f}" in line and "exactly 0" in line
    bound = float(line.split("a fill below ")[1].split(" ")[0])
    assert -1e4 < bound < fill  # the stated bound: -1e4 passes, this fill does not
    capsys.readouterr()
    assert_correct(capsys, check_masked_attention, _masked(bound - 1.0))  # the rule is true:
    assert_not_yet(capsys, check_masked_attention, _masked(bound + 30.0))  # just below passes


def test_the_stated_bound_is_the_float64_underflow_of_exp():
    assert np.exp(-UNDERFLOW - 0.01) == 0.0 and np.exp(-UNDERFLOW + 0.7) > 0.0


def test_backward_without_keepdims_on_a_rectangle_names_the_lost_axis(capsys):
    def no_keepdims(weights, grad_weights):
        return weights * (grad_weights - (weights * grad_weights).sum(axis=-1))

    line = assert_not_yet(capsys, check_softmax_backward, no_keepdims, hint="keepdims")
    assert "(3, 5) and (3,)" in line and "operands could not be broadcast" not in line
