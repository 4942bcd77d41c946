"""Checkers for attention itself: plain dot-product (notebook 02) and scaled (notebook 03)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_lib import attention
from course_lib.exercises._format import (
    Memory,
    NotYet,
    as_array,
    close,
    precision_note,
    row_diff,
    tolerance_note,
)
from course_lib.exercises._harness import (
    SEED,
    Exercise,
    StudentError,
    call,
    matmul_hint,
    name,
    run_checker,
    unpack,
)
from course_lib.exercises._tripwire import FORBIDDEN

_TASK = "with numpy and course_lib's softmax (which stays allowed)"
PLAIN = Exercise("check_dot_product_attention", "attention", FORBIDDEN["attention"], _TASK)
SCALED = Exercise("check_scaled_attention", "scaled_attention", FORBIDDEN["attention"], _TASK)
_LAST_TWO = (
    "keys.T reverses EVERY axis, which is right for one sequence only; for a batch, "
    "transpose only the last two axes (numpy has a function that swaps two given axes)"
)
_SWAP_HINT = "the scores are queries times the transposed keys; " + _LAST_TWO
OVERFLOW = (
    "got NaN when the scores differ by thousands within a row: your softmax overflows; "
    "subtract each row's own maximum (not its min or mean) before np.exp, or call "
    "course_lib's softmax"
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
            "your weights use the unscaled scores: divide the scores by √d_k (d_k is the "
            "length of each query and key) before the softmax",
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


def _check_attention(fn: Callable, *, scaled: bool) -> str:
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
                    f"works for one sequence but raised {err.type_name} for a batch "
                    f"(queries of shape {queries.shape}): {_LAST_TWO}"
                ) from err
            err.hint = matmul_hint(err, _SWAP_HINT)
            raise
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
                    f"have shape {expected_w.shape}, got {weights.shape}: {_LAST_TWO}"
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
    The example shows no solution: notebook 02 asks the student to write it
    (``notebooks/solutions`` has one). course_lib's own attention functions are switched
    off while ``fn`` runs (its ``softmax`` is not).

    >>> from course_lib import dot_product_attention
    >>> check_dot_product_attention(dot_product_attention)  # doctest: +NORMALIZE_WHITESPACE
    ❌ not yet: dot_product_attention called course_lib's dot_product_attention (directly or
    through another course_lib function): this exercise asks you to write attention yourself,
    with numpy and course_lib's softmax (which stays allowed)
    False
    """
    return run_checker(PLAIN, fn, lambda: _check_attention(fn, scaled=False))


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
    The example shows no solution: notebook 03 asks the student to write it.

    >>> check_scaled_attention(lambda queries, keys, values: values)  # doctest: +ELLIPSIS
    ❌ not yet: return 2 values: `return output, weights`; got an array of shape ...
    False
    """
    return run_checker(SCALED, fn, lambda: _check_attention(fn, scaled=True))


__all__ = ["check_dot_product_attention", "check_scaled_attention"]
