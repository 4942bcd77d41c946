"""Checkers for the softmax (notebook 02) and its gradient (notebook 03)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib import attention
from course_lib.exercises._harness import (
    SEED,
    STUB_LEFT,
    Memory,
    NotYet,
    as_array,
    call,
    close,
    name,
    numerical_gradient,
    precision_note,
    require_callable,
    row_diff,
    run_checker,
    tolerance_note,
    vec,
    vec_against,
)

_KEEPDIMS = "sum with keepdims=True so the row sums keep shape (n_rows, 1)"
_SPREAD = np.array(  # scores that differ by thousands WITHIN a row
    [
        [0.0, 1000.0, 0.0, 0.0],
        [-1000.0, 0.0, -1000.0, -1000.0],
        [-2000.0, 500.0, 400.0, 450.0],
        [3.0, -1.0, 0.5, 2.0],
    ]
)


def _exp_over(scores: np.ndarray, shift: np.ndarray, axis=-1, keepdims=True) -> np.ndarray:
    e = np.exp(scores - shift)
    return e / e.sum(axis=axis, keepdims=keepdims)


def _softmax_variants(scores: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """The softmaxes students really write, each with the hint that names it."""
    row_max = scores.max(axis=-1, keepdims=True)
    overflow = "np.exp still overflows for rows whose scores differ by about 1000 (e.g. [0, 1000])"
    with np.errstate(all="ignore"):
        variants = [
            (
                _exp_over(scores, scores.max(), axis=None),
                "the whole matrix sums to 1; normalise along axis=-1, one row at a time "
                "(.sum(axis=-1, keepdims=True))",
            ),
            (
                attention.softmax(scores, axis=0) if np.all(np.isfinite(scores)) else scores,
                "the columns sum to 1; normalise along axis=-1 (each row), not axis=0",
            ),
            (
                scores / scores.sum(axis=-1, keepdims=True),
                "you divided the scores by their row sums; take np.exp(scores) first",
            ),
            (
                _exp_over(scores, 0.0),
                "got NaN: np.exp(1000) overflows to inf; subtract each row's max first "
                "(scores.max(axis=-1, keepdims=True))",
            ),
            (
                _exp_over(scores, scores.max()),
                "got NaN in rows whose scores are far below the largest score in the matrix: "
                "subtract each row's own max (axis=-1, keepdims=True), not the max of the "
                "whole matrix",
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
                _exp_over(scores, row_max, keepdims=False)
                if scores.shape[0] == scores.shape[1]
                else scores,
                "the row sums lost their axis, so each COLUMN was divided by a row's sum; "
                + _KEEPDIMS,
            ),
            (
                (scores - row_max) - np.log(np.exp(scores - row_max).sum(-1, keepdims=True)),
                "that is the log of the softmax (log-softmax); return the weights themselves, "
                "np.exp(...) / sum",
            ),
        ]
    return variants


def _softmax_hint(scores: np.ndarray, got: np.ndarray, expected: np.ndarray) -> str:
    """Say what ``got`` looks like when it is not the row-wise softmax of ``scores``."""
    for variant, hint in _softmax_variants(scores):
        if variant.shape == got.shape and close(got, variant):
            return hint
    if np.any(~np.isfinite(got)):
        rows = np.flatnonzero(~np.all(np.isfinite(got), axis=-1))
        return (
            f"got NaN or inf in row {rows[0]}, whose scores are {vec(scores[rows[0]])}: "
            "subtract each row's maximum before np.exp, so the largest exponent is exp(0) = 1"
        )
    if np.any(got < 0):
        return "some weights are negative; exponentiate the scores (np.exp) before normalising"
    row_sums = got.sum(axis=-1)
    if np.allclose(row_sums, 1.0):
        return (
            f"rows sum to 1 but the values are off: {row_diff(expected, got)}"
            + tolerance_note(expected, got)
            + "; softmax is np.exp(row) / np.exp(row).sum()"
        )
    sums = vec_against(row_sums, 1.0)
    return f"rows sum to {sums}; each row of a softmax sums to 1 ({row_diff(expected, got)})"


def check_softmax(fn: Callable) -> bool | None:
    """Check ``fn(scores)``: a softmax over each row (the last axis) of a 2-D array.

    For every row, ``softmax(row) = exp(row) / exp(row).sum()``: positive weights that sum
    to 1. The hidden cases include rows whose scores differ by thousands (``[0, 1000]``),
    where ``np.exp`` overflows unless each row's maximum is subtracted first (subtracting the
    minimum or the mean does not prevent it), and rows near ±1000.

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
    >>> import numpy as np
    >>> def softmax_rows(scores):
    ...     shifted = scores - scores.max(axis=-1, keepdims=True)
    ...     e = np.exp(shifted)
    ...     return e / e.sum(axis=-1, keepdims=True)
    >>> check_softmax(softmax_rows)  # doctest: +NORMALIZE_WHITESPACE
    ✅ correct: every row of softmax_rows(scores) is positive and sums to 1, also for rows
    like [0, 1000] and scores near ±1000
    True
    >>> def not_written_yet(scores):
    ...     raise NotImplementedError
    >>> check_softmax(not_written_yet)
    ⏳ not attempted: the stub still raises NotImplementedError; replace that line with your code
    """

    def body() -> str:
        require_callable(fn, "check_softmax", "softmax_rows")
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
            got = as_array(
                call(fn, scores, case=f"scores of shape {scores.shape}", hint=_KEEPDIMS),
                "the returned value",
            )
            if got.shape != scores.shape:
                extra = (
                    "; return the weights, not their sums"
                    if got.shape in {scores.shape[:1], (scores.shape[0], 1), ()}
                    else ""
                )
                raise NotYet(
                    f"for scores of shape {scores.shape} expected weights of shape "
                    f"{scores.shape} (the same shape), got {got.shape}{extra}"
                )
            expected = attention.softmax(scores)
            if close(got, expected):
                memory.add(got, expected)
                continue
            memory.check(got, expected)
            raise NotYet(_softmax_hint(scores, got, expected) + precision_note(got))
        return (
            f"every row of {name(fn)}(scores) is positive and sums to 1, "
            "also for rows like [0, 1000] and scores near ±1000"
        )

    return run_checker(body, STUB_LEFT)


# --------------------------------------------------------------------------------------
# The gradient of the softmax (notebook 03)
# --------------------------------------------------------------------------------------
def _backward_variants(p: np.ndarray, g: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Wrong gradients students write, each with the hint that names it."""
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
            f"you summed over the whole array; sum each row (axis=-1): {right}",
        ),
        (
            p * (g - (p * g).sum(axis=0, keepdims=True)),
            f"you summed over axis 0 (down the columns); sum each row (axis=-1): {right}",
        ),
        (g, "you returned grad_weights unchanged; it must pass through the softmax's Jacobian"),
    ]
    if p.ndim >= 2 and p.shape[-1] == p.shape[-2]:
        no_keep = p * (g - (p * g).sum(axis=-1)[..., None, :])
        variants.append(
            (
                no_keep,
                "the row sums lost their axis, so entry [i, j] got the sum of row j instead of "
                "row i; keep one sum per row, as a column",
            )
        )
    return variants


def _loss_through_softmax(grad_weights: np.ndarray) -> Callable[[np.ndarray], float]:
    """scores -> sum(grad_weights * softmax(scores)), whose gradient is the answer."""
    return lambda scores: float(np.sum(grad_weights * attention.softmax(scores)))


def check_softmax_backward(fn: Callable) -> bool | None:
    """Check ``fn(weights, grad_weights)``: the gradient of a loss with respect to the scores.

    With ``weights = softmax(scores)`` over the last axis and ``grad_weights`` the gradient
    of a loss with respect to the weights, return the gradient with respect to the scores
    (same shape). The reference is central finite differences of the true softmax, not a
    formula.

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

    >>> def delta_part_only(weights, grad_weights):
    ...     return weights * grad_weights
    >>> check_softmax_backward(delta_part_only)  # doctest: +NORMALIZE_WHITESPACE
    ❌ not yet: you returned weights * grad_weights: that is only the δ_ij part; the −A_j part
    subtracts the same weighted average of grad_weights from every entry of the row
    False
    """

    def body() -> str:
        require_callable(fn, "check_softmax_backward", "softmax_backward")
        rng = np.random.default_rng(SEED + 11)
        score_cases = [
            rng.normal(size=(3, 5)),
            rng.normal(size=(3, 5)),  # same shape, other numbers
            2.0 * rng.normal(size=(6,)),  # one row
            np.concatenate([rng.normal(size=(2, 2, 4)), _SPREAD[None, :2]], axis=0),  # batch
        ]
        memory = Memory()
        for scores in score_cases:
            weights = attention.softmax(scores)
            grad_w = rng.normal(size=scores.shape)
            expected = numerical_gradient(_loss_through_softmax(grad_w), scores)
            got = call(fn, weights, grad_w, case=f"weights of shape {weights.shape}")
            got = as_array(got, "grad_scores")
            if got.shape != weights.shape:
                raise NotYet(
                    f"for weights of shape {weights.shape} grad_scores should have the same "
                    f"shape, got {got.shape}"
                )
            if close(got, expected):
                memory.add(got, expected)
                continue
            memory.check(got, expected)
            for variant, hint in _backward_variants(weights, grad_w):
                if close(got, variant):
                    raise NotYet(hint)
            raise NotYet(
                f"grad_scores differ from finite differences of the softmax: "
                f"{row_diff(np.atleast_2d(expected), np.atleast_2d(got))}"
                + tolerance_note(expected, got)
            )
        return (
            f"{name(fn)}(weights, grad_weights) matches finite differences of the softmax on "
            f"{len(score_cases)} hidden cases, one row, a batch and a saturated row"
        )

    return run_checker(body, STUB_LEFT)


__all__ = ["check_softmax", "check_softmax_backward"]
