"""Checkers for the softmax (notebook 02) and its gradient (notebook 03)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib import attention
from course_lib.exercises._format import (
    Memory,
    NotYet,
    precision_note,
    row_diff,
    tolerance_note,
    vec,
    vec_against,
)
from course_lib.exercises._harness import (
    SEED,
    Exercise,
    StudentError,
    call,
    compare,
    lost_axis,
    name,
    run_checker,
)
from course_lib.exercises._tripwire import FORBIDDEN

SOFTMAX = Exercise(
    "check_softmax", "softmax_rows", FORBIDDEN["softmax"], "with numpy (np.exp, a max, a sum)"
)
BACKWARD = Exercise(
    "check_softmax_backward",
    "softmax_backward",
    FORBIDDEN["softmax_backward"],
    "from the derivative of the softmax, with numpy",
)
_KEEPDIMS = (
    "a sum or max over the last axis loses that axis, so one number per row no longer lines "
    "up with the rows; keep the summed axis (keepdims) so each row's number is a column"
)
_SPREAD = np.array(  # scores that differ by thousands WITHIN a row
    [
        [0.0, 1000.0, 0.0, 0.0],
        [-1000.0, 0.0, -1000.0, -1000.0],
        [-2000.0, 500.0, 400.0, 450.0],
        [3.0, -1.0, 0.5, 2.0],
    ]
)
_MAX_FIRST = "subtract each row's own maximum before np.exp, so its largest exponent is exp(0) = 1"


def _exp_over(scores: np.ndarray, shift, axis=-1, keepdims=True) -> np.ndarray:
    e = np.exp(scores - shift)
    return e / e.sum(axis=axis, keepdims=keepdims)


def _softmax_variants(scores: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Return the softmaxes students really write, each with the hint that names it."""
    row_max = scores.max(axis=-1, keepdims=True)  # (n_rows, 1)
    overflow = "np.exp still overflows for rows whose scores differ by about 1000 (e.g. [0, 1000])"
    variants = [
        (
            _exp_over(scores, scores.max(), axis=None),
            "the whole matrix sums to 1; normalise each row by its own sum (the last axis)",
        ),
        (
            attention.softmax(scores, axis=0) if np.all(np.isfinite(scores)) else scores,
            "the columns sum to 1; normalise along the last axis (each row), not axis 0",
        ),
        (
            scores / scores.sum(axis=-1, keepdims=True),
            "you divided the scores by their row sums; exponentiate them (np.exp) first",
        ),
        (_exp_over(scores, 0.0), f"got NaN: np.exp(1000) overflows to inf; {_MAX_FIRST}"),
        (
            _exp_over(scores, scores.max()),
            "got NaN in rows whose scores are far below the largest score in the matrix: "
            "subtract each row's OWN maximum, not the maximum of the whole matrix",
        ),
        (
            _exp_over(scores, scores.min(axis=-1, keepdims=True)),
            f"you subtracted the row's minimum; after that, {overflow}; subtract the "
            "row's maximum instead: then the largest exponent is exp(0) = 1",
        ),
        (
            _exp_over(scores, scores.mean(axis=-1, keepdims=True)),
            f"you subtracted the row's mean; after that, {overflow}; subtract the "
            "row's maximum instead: then the largest exponent is exp(0) = 1",
        ),
        (
            (scores - row_max) - np.log(np.exp(scores - row_max).sum(-1, keepdims=True)),
            "that is the log of the softmax (log-softmax); return the weights themselves",
        ),
    ]
    if scores.ndim == 2 and scores.shape[0] == scores.shape[1]:
        variants.append(
            (
                _exp_over(scores, row_max, keepdims=False),
                "the row sums lost their axis, so each COLUMN was divided by a row's sum; "
                + _KEEPDIMS,
            )
        )
    return variants


def _softmax_differs(scores: np.ndarray, expected: np.ndarray) -> Callable[[np.ndarray], str]:
    """Say what ``got`` looks like when it is not the row-wise softmax of ``scores``."""

    def differ(got: np.ndarray) -> str:
        if np.any(~np.isfinite(got)):
            row = int(np.flatnonzero(~np.all(np.isfinite(got), axis=-1))[0])
            return f"got NaN or inf in row {row}, whose scores are {vec(scores[row])}: {_MAX_FIRST}"
        if np.any(got < 0):
            return "some weights are negative; exponentiate the scores (np.exp) before normalising"
        row_sums = got.sum(axis=-1)
        if np.allclose(row_sums, 1.0):
            return (
                f"rows sum to 1 but the values are off: {row_diff(expected, got)}"
                + tolerance_note(expected, got)
                + "; each weight is the exponential of its score over the sum of its row's"
                + precision_note(got)
            )
        sums = vec_against(row_sums, 1.0)
        return (
            f"rows sum to {sums}; each row of a softmax sums to 1 ({row_diff(expected, got)})"
            + precision_note(got)
        )

    return differ


def check_softmax(fn: Callable) -> bool | None:
    """Check ``fn(scores)``: a softmax over each row (the last axis) of a 2-D array.

    For every row, the weights are the exponentials of its scores divided by their sum:
    positive, summing to 1. The hidden cases include rows whose scores differ by thousands
    (``[0, 1000]``), where ``np.exp`` overflows unless each row's maximum is subtracted
    first (subtracting the minimum or the mean does not prevent it), and rows near ±1000.
    course_lib's own ``softmax`` is switched off while ``fn`` runs.

    Parameters
    ----------
    fn : callable
        ``fn(scores) -> weights`` with ``scores`` an ndarray of shape (n_rows, n_cols) and
        ``weights`` an ndarray of the same shape.

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    The examples show no solution: notebook 02 asks the student to write it
    (``notebooks/solutions`` has one).

    >>> check_softmax(lambda scores: scores)  # doctest: +ELLIPSIS
    ❌ not yet: some weights are negative; exponentiate the scores (np.exp) before normalising
    False
    >>> def softmax_rows(scores):
    ...     raise NotImplementedError
    >>> check_softmax(softmax_rows)
    ⏳ not attempted: the stub still raises NotImplementedError; replace that line with your code
    """

    def body() -> str:
        rng = np.random.default_rng(SEED + 1)
        cases = [
            2.0 * rng.normal(size=(3, 4)),
            2.0 * rng.normal(size=(3, 4)),  # same shape, other numbers: no cached answer
            np.vstack([rng.normal(size=(3, 6)), np.full((1, 6), 0.7)]),
            rng.normal(size=(1, 5)),
            _SPREAD,
            # rows near +1000, -1000 and 0: a max over the whole matrix underflows
            np.array([[1000.0], [-1000.0], [0.0]]) + rng.normal(size=(3, 4)),
        ]
        memory = Memory()
        for scores in cases:
            case = f"scores of shape {scores.shape}"
            try:
                got = call(fn, scores, case=case)
            except StudentError as err:
                raise lost_axis(err, _KEEPDIMS) or err from None
            expected = attention.softmax(scores)

            def wrong_shape(shape, scores=scores):
                sums = shape in {scores.shape[:1], (scores.shape[0], 1), ()}
                return (
                    f"for scores of shape {scores.shape} expected weights of the same shape, "
                    f"got {shape}" + ("; return the weights, not their sums" if sums else "")
                )

            compare(
                got,
                expected,
                what="the weights",
                case=case,
                memory=memory,
                variants=lambda scores=scores: _softmax_variants(scores),
                wrong_shape=wrong_shape,
                differ=_softmax_differs(scores, expected),
            )
        return (
            f"every row of {name(fn)}(scores) is positive and sums to 1, "
            "also for rows like [0, 1000] and scores near ±1000"
        )

    return run_checker(SOFTMAX, fn, body)


# --------------------------------------------------------------------------------------
# The gradient of the softmax (notebook 03)
# --------------------------------------------------------------------------------------
def _backward_variants(p: np.ndarray, g: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Return wrong gradients students write, each with the hint that names it."""
    inner = (p * g).sum(axis=-1, keepdims=True)  # (..., 1)
    # A nudge, not the answer: the derivative students should start from.
    right = "start from dA_i/ds_j = A_i (δ_ij − A_j) and apply it to one row of grad_weights"
    variants = [
        (
            p * g,
            "you returned weights * grad_weights: that is only the δ_ij part; the −A_j part "
            "subtracts the same weighted average of grad_weights from every entry of the row",
        ),
        (-(p * (g - inner)), "the sign is flipped: " + right),
        (g - inner, f"you forgot to multiply by the weights; {right}"),
        (p * (1 - p) * g, f"that uses only the diagonal of the Jacobian, p(1-p); {right}"),
        (
            p * (g - (p * g).sum()),
            f"you summed over the whole array; sum each row (the last axis): {right}",
        ),
        (
            p * (g - (p * g).sum(axis=0, keepdims=True)),
            f"you summed over axis 0 (down the columns); sum each row (the last axis): {right}",
        ),
        (g, "you returned grad_weights unchanged; it must pass through the softmax's Jacobian"),
    ]
    if p.ndim >= 2 and p.shape[-1] == p.shape[-2]:
        no_keep = p * (g - (p * g).sum(axis=-1)[..., None, :])
        variants.append(
            (
                no_keep,
                "the row sums lost their axis, so entry [i, j] got the sum of row j instead of "
                "row i; " + _KEEPDIMS,
            )
        )
    return variants


_STEP = 1e-30  # the complex step: no two losses are subtracted, so it can be tiny
#: A float64 answer further than this (times the largest |grad_weights|) from the exact
#: gradient is a numerical estimate: finite differences are off by about 1e-10, a formula
#: by about 1e-16.
ESTIMATE_GAP = 1e-12


def _exact_gradient(scores: np.ndarray, grad_weights: np.ndarray) -> np.ndarray:
    """Return d/ds sum(grad_weights * softmax(s)), measured exactly by the complex step.

    The loss is evaluated once for each score moved by an imaginary step i*h; its imaginary
    part over h is that score's derivative, to rounding (no formula, no subtraction).
    """
    n = scores.shape[-1]
    moved = scores[..., None, :] + 1j * _STEP * np.eye(n)  # (..., n moved, n)
    exps = np.exp(moved - moved.real.max(axis=-1, keepdims=True))
    weights = exps / exps.sum(axis=-1, keepdims=True)  # the softmax, in complex numbers
    loss = (grad_weights[..., None, :] * weights).sum(axis=-1)  # (..., n): score j moved
    return loss.imag / _STEP


def check_softmax_backward(fn: Callable) -> bool | None:
    """Check ``fn(weights, grad_weights)``: the gradient of a loss with respect to the scores.

    With ``weights = softmax(scores)`` over the last axis and ``grad_weights`` the gradient
    of a loss with respect to the weights, return the gradient with respect to the scores
    (same shape). The reference is the true softmax's gradient measured by the complex step
    (exact to rounding), not a formula; a float64 answer must be that exact, so a finite-
    difference estimate (the cells above the exercise) is told apart. The hidden cases
    include non-square inputs, one row and a batch.

    Parameters
    ----------
    fn : callable
        ``fn(weights, grad_weights) -> grad_scores``, all ndarrays of shape (..., n).

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    The example shows no solution: notebook 03 asks the student to derive it
    (``notebooks/solutions`` has one).

    >>> def unchanged(weights, grad_weights):
    ...     return grad_weights
    >>> check_softmax_backward(unchanged)
    ❌ not yet: you returned grad_weights unchanged; it must pass through the softmax's Jacobian
    False
    """

    def body() -> str:
        rng = np.random.default_rng(SEED + 11)
        score_cases = [
            rng.normal(size=(3, 5)),
            rng.normal(size=(3, 5)),  # same shape, other numbers
            2.0 * rng.normal(size=(6,)),  # one row
            np.concatenate([rng.normal(size=(2, 2, 4)), _SPREAD[None, :2]], axis=0),  # batch
            rng.normal(size=(4, 4)),  # square: a lost axis broadcasts silently here
        ]
        memory = Memory()
        for scores in score_cases:
            weights = attention.softmax(scores)
            grad_w = rng.normal(size=scores.shape)
            expected = _exact_gradient(scores, grad_w)
            case = f"weights of shape {weights.shape}"
            try:
                got = call(fn, weights, grad_w, case=case)
            except StudentError as err:
                raise lost_axis(err, _KEEPDIMS) or err from None
            compare(
                got,
                expected,
                what="grad_scores",
                case=case,
                memory=memory,
                variants=lambda w=weights, g=grad_w: _backward_variants(w, g),
                wrong_shape=lambda shape, w=weights: (
                    f"for weights of shape {w.shape} grad_scores should have the same shape, "
                    f"got {shape}"
                ),
                differ=lambda got, e=expected: (
                    "grad_scores differ from the softmax's gradient (measured numerically, like "
                    "finite differences but exact): "
                    + row_diff(np.atleast_2d(e), np.atleast_2d(got))
                    + tolerance_note(e, got)
                ),
            )
            got = np.asarray(got)
            gap = float(np.max(np.abs(got - expected)))
            rounded = any(np.array_equal(got, np.round(got, k)) for k in range(1, 11))
            estimate = gap > ESTIMATE_GAP * float(np.max(np.abs(grad_w)))
            if got.dtype == np.float64 and estimate and not rounded:  # rounding is allowed
                raise NotYet(
                    f"your grad_scores are off the exact gradient by {gap:.1g}: that is a "
                    "numerical estimate (finite differences), which the cells above use; "
                    "the exercise asks for the exact gradient, from the chain rule"
                )
        return (
            f"{name(fn)}(weights, grad_weights) is the exact gradient of the softmax on "
            f"{len(score_cases)} hidden cases: rectangular, one row, a batch, a saturated row"
        )

    return run_checker(BACKWARD, fn, body)


__all__ = ["check_softmax", "check_softmax_backward"]
