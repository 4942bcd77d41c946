"""Checkers for notebook 01: the cosine similarity of two vectors, and of every pair of rows."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_lib.exercises._format import (
    Memory,
    NotYet,
    as_array,
    close,
    row_diff,
    tolerance,
    tolerance_note,
    two_numbers,
    vec,
)
from course_lib.exercises._harness import SEED, Exercise, call, compare, name, run_checker
from course_lib.exercises._source import nested_loop
from course_lib.exercises._tripwire import FORBIDDEN

COSINE = Exercise(
    "check_cosine_similarity",
    "cosine_similarity",
    FORBIDDEN["cosine"],
    "from a dot product and the two lengths",
)
MATRIX = Exercise(
    "check_cosine_matrix",
    "cosine_matrix",
    FORBIDDEN["cosine"],
    "with whole-array numpy operations",
)

_COLUMNS = ": that compares the features (the columns); compare the rows, one per word"
_NORMS = "the product of the two lengths, ‖a‖ ‖b‖"


def _cosine_hint(value: float, a: np.ndarray, b: np.ndarray) -> str:
    """Name the classic mistake that gives ``value`` for the pair (a, b), or ''."""
    dot = float(a @ b)
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    wrong = [
        (dot, f"you returned the dot product a·b; divide it by both lengths, {_NORMS}"),
        (dot / (na * na * nb * nb), "you divided by squared lengths (a @ a is ‖a‖²)"),
        (dot / (na * na + nb * nb), "you divided by squared lengths (a @ a is ‖a‖²)"),
        (dot / na, f"you divided by only one length; divide by both, {_NORMS}"),
        (dot / nb, f"you divided by only one length; divide by both, {_NORMS}"),
        (
            dot / na * nb,
            "check the brackets: the dot product is divided by BOTH lengths (their product)",
        ),
        (
            dot * na * nb,
            "check the brackets: the dot product is divided by BOTH lengths (their product)",
        ),
    ]
    for number, hint in wrong:
        if math.isclose(value, number, rel_tol=1e-6, abs_tol=1e-12):
            if "squared" in hint:
                hint += f"; divide by the lengths themselves, {_NORMS}"
            return hint
    return ""


def check_cosine_similarity(fn: Callable) -> bool | None:
    """Check ``fn(a, b)``: the cosine similarity of two 1-D vectors.

    The cosine similarity is ``a·b / (‖a‖ ‖b‖)``: the dot product of the two vectors
    after each has been scaled to length 1. It lies in [-1, 1] and ignores the lengths.
    Any number type is accepted (float, numpy scalar, 0-d array), and so is a result
    rounded to 4 decimals.

    Parameters
    ----------
    fn : callable
        ``fn(a, b) -> float`` where ``a`` and ``b`` are ndarrays of shape (d,).

    Returns
    -------
    bool or None
        True if correct on every hidden case, False if not (a hint is printed),
        None if ``fn`` raises NotImplementedError or returns None.

    Examples
    --------
    The examples show no solution: notebook 01 asks the student to write it
    (``notebooks/solutions`` has one).

    >>> check_cosine_similarity(lambda a, b: float(a @ b))  # doctest: +NORMALIZE_WHITESPACE
    ❌ not yet: you returned the dot product a·b; divide it by both lengths, the product of the
    two lengths, ‖a‖ ‖b‖
    False
    """

    def body() -> str:
        rng = np.random.default_rng(SEED)
        a = rng.normal(size=5)
        pairs = [
            (a, rng.normal(size=5)),  # random
            (rng.normal(size=64) * 3.0, rng.normal(size=64) * 0.2),  # very different lengths
            (a, 4.0 * a),  # same direction -> 1
            (a, -0.5 * a),  # opposite -> -1
            (np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])),  # orthogonal -> 0
            (np.array([3.0, 4.0]), np.array([4.0, 3.0])),  # 24/25
        ]
        memory = Memory()
        for a, b in pairs:
            got = call(fn, a, b, case=f"vectors of shape {a.shape}")
            arr = as_array(got, "the returned value")
            if arr.size != 1:
                raise NotYet(
                    f"expected a single number, got an array of shape {arr.shape}: "
                    "sum the products of matching entries (a dot product), not just multiply them"
                )
            value = float(arr.ravel()[0])
            expected = float(a @ b) / float(np.linalg.norm(a) * np.linalg.norm(b))
            rtol, atol = tolerance(arr)
            if math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
                memory.add(np.array(value), np.array(expected))
                continue
            if math.isnan(value):
                raise NotYet(f"got NaN for two vectors of length {a.size}")
            hint = _cosine_hint(value, a, b)
            if hint:
                raise NotYet(hint)
            memory.check(np.array(value), np.array(expected))
            note = " (a cosine always lies between -1 and 1)" if abs(value) > 1 + 1e-9 else ""
            want, have = two_numbers(expected, value)
            raise NotYet(
                f"for a = {vec(a, 3)} and b = {vec(b, 3)} expected {want}, got {have}{note}"
                + tolerance_note(expected, value)
            )
        return (
            f"{name(fn)}(a, b) gives the cosine similarity on {len(pairs)} hidden pairs of vectors"
        )

    return run_checker(COSINE, fn, body)


def _matrix_hint(vectors: np.ndarray, got: np.ndarray) -> str:
    """Name the classic mistake behind a wrong (n, n) matrix, or ''.

    The hints name the mistake and the idea, never the broadcasting expression: notebook 01
    asks the student to work out how to build the (n, n) table of divisors.
    """
    gram = vectors @ vectors.T  # (n, n) dot products
    norms = np.linalg.norm(vectors, axis=-1)  # (n,)
    col_norms = np.linalg.norm(vectors, axis=0)  # (d,)
    unit_cols = vectors / col_norms
    both = (
        "entry [i, j] must be divided by the length of row i and the length of row j: build "
        "that (n, n) table by broadcasting a column against a row"
    )
    own = "each entry needs the lengths of its own two rows"
    wrong = [
        (gram, f"you returned the dot products vectors @ vectors.T; {both}"),
        (
            gram / np.linalg.norm(vectors) ** 2,
            f"you divided by the length of the whole matrix; {own}",
        ),
        (gram / np.linalg.norm(vectors), f"you divided by the length of the whole matrix; {own}"),
        (
            unit_cols @ unit_cols.T,
            "you normalised the columns (axis=0), the features; each row, one word, is a vector "
            "whose length counts",
        ),
        (gram / norms[:, None], f"you divided by one length only, row i's; {both}"),
        (
            gram / norms[None, :],
            "you divided by one length only, row j's (a 1-D array of lengths broadcasts as a "
            f"row); {both}",
        ),
        (gram / np.outer(norms, norms) ** 2, f"you divided by squared lengths; {both}"),
    ]
    for matrix, hint in wrong:
        if close(got, matrix):
            return hint
    return ""


def check_cosine_matrix(fn: Callable) -> bool | None:
    """Check ``fn(vectors)``: the cosine similarity of every pair of rows, as one matrix.

    ``result[i, j] = cos(vectors[i], vectors[j])``, with whole-array operations: no Python
    loop over the pairs. The loop rule is read from the function's source (see
    :mod:`course_lib.exercises._source`): a loop inside a loop, a comprehension over pairs,
    or ``itertools.product``/``np.vectorize`` over pairs is rejected even when its numbers
    are right; a single loop or comprehension (over the rows, say) is not. A result rounded
    to 4 decimals is accepted.

    Parameters
    ----------
    fn : callable
        ``fn(vectors) -> matrix``, vectors an ndarray of shape (n, d), matrix (n, n).

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    The examples show no solution: notebook 01 asks the student to work it out
    (``notebooks/solutions`` has one).

    >>> check_cosine_matrix(lambda v: v)  # doctest: +NORMALIZE_WHITESPACE
    ❌ not yet: for vectors of shape (5, 3) expected an (5, 5) matrix, one entry per pair of
    rows, got shape (5, 3)
    False
    >>> def cosine_matrix(vectors):
    ...     raise NotImplementedError
    >>> check_cosine_matrix(cosine_matrix)
    ⏳ not attempted: the stub still raises NotImplementedError; replace that line with your code
    """

    def body() -> str:
        rng = np.random.default_rng(SEED + 10)
        lengths = np.array([0.1, 1.0, 3.0, 10.0, 0.5])[:, None]
        cases = [
            rng.normal(size=(5, 3)) * lengths,  # rows of very different lengths, n != d
            rng.normal(size=(5, 3)) * lengths[::-1],  # the same shape, other numbers
            rng.normal(size=(4, 8)),
        ]
        memory = Memory()
        for vectors in cases:
            n, d = vectors.shape
            case = f"vectors of shape {vectors.shape}"
            unit = vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)
            expected = unit @ unit.T  # (n, n)

            def wrong_shape(shape, n=n, d=d, case=case):
                return (
                    f"for {case} expected an ({n}, {n}) matrix, one entry per pair of rows, "
                    f"got shape {shape}" + (_COLUMNS if shape == (d, d) else "")
                )

            def differ(got, vectors=vectors, expected=expected, case=case):
                return _matrix_hint(vectors, got) or (
                    f"for {case}, {row_diff(expected, got)}" + tolerance_note(expected, got)
                )

            compare(
                call(fn, vectors, case=case),
                expected,
                what="the result",
                case=case,
                memory=memory,
                wrong_shape=wrong_shape,
                differ=differ,
            )
        loop = nested_loop(fn)
        if loop:
            raise NotYet(
                f"the numbers are right, but {name(fn)} computes the n² entries one pair at a "
                f"time in Python ({loop}); the exercise asks for whole-array operations: one "
                "matrix product of the rows, divided by a table of lengths made by broadcasting"
            )
        return (
            f"{name(fn)}(vectors) gives the cosine similarity of every pair of rows on "
            f"{len(cases)} hidden sets of vectors"
        )

    return run_checker(MATRIX, fn, body)


__all__ = ["check_cosine_similarity", "check_cosine_matrix"]
