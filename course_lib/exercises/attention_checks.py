"""Checkers for attention itself: plain dot-product (notebook 02) and scaled (notebook 03)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_lib import attention
from course_lib.exercises._harness import (
    SEED,
    STUB_LEFT,
    Memory,
    NotYet,
    StudentError,
    as_array,
    call,
    close,
    matmul_hint,
    name,
    precision_note,
    require_callable,
    row_diff,
    run_checker,
    tolerance_note,
    unpack,
)

_SWAP_HINT = (
    "scores = queries @ keys transposed; transpose only the last two axes, "
    "np.swapaxes(keys, -1, -2), which also works for a batch"
)
OVERFLOW = (
    "got NaN when the scores differ by thousands within a row: the softmax overflows; subtract "
    "each row's max (not its min or mean) before np.exp, or call course_lib's softmax"
)


def _variants(queries, keys, values, scaled: bool) -> list[tuple[np.ndarray, str]]:
    """Wrong weights students really compute, each with the hint that names it."""
    d_k, d_v, seq_k = queries.shape[-1], values.shape[-1], keys.shape[-2]
    scores = queries @ np.swapaxes(keys, -1, -2)  # (..., seq_q, seq_k)
    base = scores / math.sqrt(d_k) if scaled else scores  # what the softmax should get
    with np.errstate(all="ignore"):
        exp = np.exp(base - base.max(axis=(-2, -1), keepdims=True))
        whole = exp / exp.sum(axis=(-2, -1), keepdims=True)
    apply = "apply a softmax to each row"
    out = [
        (
            attention.softmax(scores),
            "your weights use the unscaled scores: multiply queries @ keysᵀ by 1/√d_k "
            "(d_k = queries.shape[-1]) before the softmax",
        ),
        (
            attention.softmax(scores / math.sqrt(d_k)),
            "your weights are scaled by 1/√d_k; this exercise is plain dot-product attention, "
            "so leave the scores unscaled (scaling comes in notebook 03)",
        ),
        (attention.softmax(scores / d_k), "you divided the scores by d_k; divide by √d_k"),
        (attention.softmax(scores * math.sqrt(d_k)), "you multiplied the scores by √d_k; divide"),
        (
            attention.softmax(scores / math.sqrt(seq_k)),
            "you divided by √(number of keys), √seq_len; d_k is the length of each query and "
            "key vector, queries.shape[-1]",
        ),
        (
            attention.softmax(scores / math.sqrt(d_v)),
            "you divided by √d_v, the size of the values; d_k is the size of the queries and "
            "keys, queries.shape[-1]",
        ),
        (
            attention.softmax(base, axis=-2),
            "the columns of your weights sum to 1; apply the softmax to each row (axis=-1): "
            "one row per query",
        ),
        (scores, f"your weights are the raw scores; {apply}"),
        (scores / math.sqrt(d_k), f"your weights are the scaled scores; {apply}"),
        (whole, "the whole matrix of weights sums to 1; normalise each row (axis=-1)"),
    ]
    return [pair for i, pair in enumerate(out) if i != (1 if scaled else 0)]


def _check_attention(fn: Callable, *, scaled: bool, checker: str, stub: str) -> str:
    require_callable(fn, checker, stub)
    rng = np.random.default_rng(SEED + (3 if scaled else 2))
    seq_q, seq_k, d_k, d_v = 3, 4, 5, 2
    x = rng.normal(size=(6, 4))
    cases = [
        ("one sequence", rng.normal(size=(seq_q, d_k)), rng.normal(size=(seq_k, d_k))),
        ("one sequence", rng.normal(size=(seq_q, d_k)), rng.normal(size=(seq_k, d_k))),
        ("self-attention", x, x),
        (
            "large scores",
            30.0 * rng.normal(size=(seq_q, d_k)),
            30.0 * rng.normal(size=(seq_k, d_k)),
        ),
        ("a batch", rng.normal(size=(2, seq_q, d_k)), rng.normal(size=(2, seq_k, d_k))),
    ]
    reference = (
        attention.scaled_dot_product_attention if scaled else attention.dot_product_attention
    )
    memory = Memory()
    for kind, queries, keys in cases:
        values = x if kind == "self-attention" else rng.normal(size=keys.shape[:-1] + (d_v,))
        try:
            result = call(fn, queries, keys, values, case=f"{kind} (queries {queries.shape})")
        except StudentError as err:
            if kind == "a batch":
                raise NotYet(
                    f"works for one sequence but raised {type(err.exc).__name__} for a batch "
                    f"(queries of shape {queries.shape}); transpose only the last two axes "
                    "with np.swapaxes(keys, -1, -2): keys.T reverses every axis"
                ) from err
            raise StudentError(err.exc, matmul_hint(err.exc, _SWAP_HINT)) from err
        output, weights = unpack(result, ("output", "weights"))
        output = as_array(output, "output (the first returned value)")
        weights = as_array(weights, "weights (the second returned value)")
        expected_out, expected_w = reference(queries, keys, values)
        if close(output, expected_w) and close(weights, expected_out):
            raise NotYet("you returned (weights, output); return them as (output, weights)")
        if weights.shape != expected_w.shape:
            if kind == "a batch":
                raise NotYet(
                    f"for a batch (queries {queries.shape}, keys {keys.shape}) weights should "
                    f"have shape {expected_w.shape}, got {weights.shape}; use "
                    "np.swapaxes(keys, -1, -2) instead of keys.T (.T reverses every axis)"
                )
            flipped = expected_w.shape[:-2] + expected_w.shape[-2:][::-1]
            extra = "; one row per query: queries @ keysᵀ, not keys @ queriesᵀ"
            raise NotYet(
                f"weights have shape {weights.shape} but should be (seq_q, seq_k) = "
                f"{expected_w.shape}" + (extra if weights.shape == flipped else "")
            )
        if not close(weights, expected_w):
            memory.check(weights, expected_w)
            for variant, hint in _variants(queries, keys, values, scaled):
                if close(weights, variant):
                    raise NotYet(hint)
            if np.any(~np.isfinite(weights)):
                raise NotYet(OVERFLOW if kind == "large scores" else f"got NaN or inf ({kind})")
            formula = "softmax(queries @ keysᵀ / √d_k)" if scaled else "softmax(queries @ keysᵀ)"
            raise NotYet(
                f"weights differ from {formula}: {row_diff(expected_w, weights)}"
                + tolerance_note(expected_w, weights)
                + precision_note(weights)
            )
        if output.shape != expected_out.shape:
            if close(output, expected_w @ keys):
                raise NotYet(
                    f"output has shape {output.shape} = weights @ keys; the output averages "
                    f"the values: weights @ values, shape (seq_q, d_v) = {expected_out.shape}"
                )
            raise NotYet(
                f"output has shape {output.shape} but should be (seq_q, d_v) = "
                f"{expected_out.shape}: output = weights @ values"
            )
        if not close(output, expected_out):
            if scaled and close(output, expected_out / math.sqrt(queries.shape[-1])):
                raise NotYet("scale the scores before the softmax, not the output")
            raise NotYet(
                "weights are right but the output is not weights @ values: "
                + row_diff(expected_out, output)
                + tolerance_note(expected_out, output)
            )
        memory.add(weights, expected_w)
    formula = "softmax(Q Kᵀ / √d_k) V" if scaled else "softmax(Q Kᵀ) V"
    return (
        f"{name(fn)} matches {formula} for one sequence, self-attention, large scores and a batch"
    )


def check_dot_product_attention(fn: Callable) -> bool | None:
    """Check ``fn(queries, keys, values)``: (unscaled) dot-product attention.

    ``weights = softmax(queries @ keysᵀ)`` row by row, ``output = weights @ values``.

    Parameters
    ----------
    fn : callable
        ``fn(queries, keys, values) -> (output, weights)`` with queries of shape
        (..., seq_q, d_k), keys (..., seq_k, d_k), values (..., seq_k, d_v); it returns
        output of shape (..., seq_q, d_v) and weights of shape (..., seq_q, seq_k).
        One hidden case is a batch (a leading axis of size 2).

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib import softmax
    >>> def attend(queries, keys, values):
    ...     weights = softmax(queries @ np.swapaxes(keys, -1, -2))
    ...     return weights @ values, weights
    >>> check_dot_product_attention(attend)  # doctest: +NORMALIZE_WHITESPACE
    ✅ correct: attend matches softmax(Q Kᵀ) V for one sequence, self-attention, large scores and
    a batch
    True
    """

    def body() -> str:
        return _check_attention(
            fn, scaled=False, checker="check_dot_product_attention", stub="attention"
        )

    return run_checker(body, STUB_LEFT)


def check_scaled_attention(fn: Callable) -> bool | None:
    """Check ``fn(queries, keys, values)``: scaled dot-product attention.

    ``weights = softmax(queries @ keysᵀ / √d_k)`` row by row, with ``d_k =
    queries.shape[-1]``, and ``output = weights @ values``.

    Parameters
    ----------
    fn : callable
        ``fn(queries, keys, values) -> (output, weights)``; shapes as in
        :func:`check_dot_product_attention`.

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    >>> from course_lib import dot_product_attention
    >>> forgot_to_scale = dot_product_attention
    >>> check_scaled_attention(forgot_to_scale)  # doctest: +NORMALIZE_WHITESPACE
    ❌ not yet: your weights use the unscaled scores: multiply queries @ keysᵀ by 1/√d_k (d_k =
    queries.shape[-1]) before the softmax
    False
    """

    def body() -> str:
        return _check_attention(
            fn, scaled=True, checker="check_scaled_attention", stub="scaled_attention"
        )

    return run_checker(body, STUB_LEFT)


__all__ = ["check_dot_product_attention", "check_scaled_attention"]
