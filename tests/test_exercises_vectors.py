"""Checkers of notebooks 01-02 for vectors and the softmax: right answers in several spellings
get `correct`, each named wrong answer gets `not yet` with the hint that names it.

(The missing answer, time limits, sys.exit and in-place changes are tested for every checker
in test_exercises_harness.py.)
"""

import numpy as np
import pytest
from exercise_helpers import assert_correct, assert_not_yet, quiet, softmax_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.exercises import (
    _sandbox,
    check_cosine_matrix,
    check_cosine_similarity,
    check_softmax,
)


# --------------------------------------------------------------------------------------
# check_cosine_similarity
# --------------------------------------------------------------------------------------
def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize(
    "fn",
    [
        cosine,
        lambda a, b: np.dot(a, b) / np.sqrt(np.sum(a**2) * np.sum(b**2)),  # a numpy scalar
        lambda a, b: np.array(cosine(a, b)),  # a 0-d array
        lambda a, b: round(cosine(a, b), 4),  # rounded to 4 decimals
        lambda a, b: np.float32(cosine(a, b)),
        lambda a, b: [cosine(a, b)],  # a one-element list
    ],
    ids=["float", "numpy-scalar", "0-d-array", "rounded-4", "float32", "list"],
)
def test_cosine_right_answers(fn, capsys):
    assert_correct(capsys, check_cosine_similarity, fn)


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda a, b: a @ b, ("dot product", "both lengths")),
        (lambda a, b: a @ b / np.linalg.norm(a), "only one length"),
        (lambda a, b: a @ b / ((a @ a) * (b @ b)), "squared"),
        (lambda a, b: a @ b / np.linalg.norm(a) * np.linalg.norm(b), "brackets"),
        (lambda a, b: a * b, ("single number", "shape (5,)")),
        (lambda a, b: 3.0 + cosine(a, b), ("expected", "between -1 and 1")),
        (lambda a, b: round(cosine(a, b), 3), ("tolerance", "4 decimals")),
        (lambda a, b: 0.3471, "same answer for two different hidden inputs"),
    ],
    ids=["dot", "one-norm", "squared", "brackets", "elementwise", "off", "rounded-3", "cached"],
)
def test_cosine_wrong_answers(fn, hint, capsys):
    assert_not_yet(capsys, check_cosine_similarity, fn, hint=hint)


def test_cosine_rounded_to_3_decimals_never_shows_equal_numbers(capsys):
    line = assert_not_yet(capsys, check_cosine_similarity, lambda a, b: round(cosine(a, b), 3))
    want, have = line.split("expected ")[1].split(" (")[0].split(", got ")
    assert want != have


# --------------------------------------------------------------------------------------
# check_cosine_matrix
# --------------------------------------------------------------------------------------
def cosine_matrix(vectors):
    unit = vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)
    return unit @ unit.T


@pytest.mark.parametrize(
    "fn",
    [
        cosine_matrix,
        lambda v: (v @ v.T) / np.outer(np.linalg.norm(v, axis=1), np.linalg.norm(v, axis=1)),
        lambda v: np.round(cosine_matrix(v), 4),
        lambda v: cosine_matrix(v).astype(np.float32),
        # one comprehension for something else (the lengths) is not a loop over pairs
        lambda v: (v @ v.T) / np.outer(*[[np.linalg.norm(row) for row in v]] * 2),
    ],
    ids=["unit-rows", "outer", "rounded-4", "float32", "comprehension-of-lengths"],
)
def test_cosine_matrix_right_answers(fn, capsys):
    assert_correct(capsys, check_cosine_matrix, fn)


COSINE_MATRIX_WRONG = [
    (lambda v: v @ v.T, "dot products"),
    (lambda v: v @ v.T / np.linalg.norm(v) ** 2, "whole matrix"),
    (lambda v: v @ v.T / np.linalg.norm(v), "whole matrix"),
    (lambda v: _columns_unit(v), "normalised the columns (axis=0)"),
    (lambda v: v @ v.T / np.linalg.norm(v, axis=1, keepdims=True), "only, row i's"),
    (lambda v: v @ v.T / np.linalg.norm(v, axis=1), "only, row j's"),
    (lambda v: cosine_matrix(v) ** 2 * np.sign(cosine_matrix(v)), "row 0 should be"),
    (lambda v: cosine_matrix(v.T), "compares the features"),
]
COSINE_MATRIX_WRONG_IDS = [
    "gram",
    "frobenius2",
    "frobenius",
    "columns",
    "rows-only",
    "no-keepdims",
    "off",
    "dxd",
]


@pytest.mark.parametrize(("fn", "hint"), COSINE_MATRIX_WRONG, ids=COSINE_MATRIX_WRONG_IDS)
def test_cosine_matrix_wrong_answers(fn, hint, capsys):
    assert_not_yet(capsys, check_cosine_matrix, fn, hint=hint)


def _columns_unit(v):
    unit = v / np.linalg.norm(v, axis=0)
    return unit @ unit.T


def test_cosine_matrix_cached_in_process(capsys, monkeypatch):
    """In-process (no fork: Pyodide, Windows) a cache survives between calls and is caught;
    in a forked child every call starts afresh, so a cache computes the answer each time."""
    saved = {}

    def cached(vectors):
        if "m" not in saved:
            saved["m"] = cosine_matrix(vectors)
        return saved["m"]

    assert_correct(capsys, check_cosine_matrix, cached)
    monkeypatch.setattr(_sandbox, "fork_problem", lambda: "no fork here")
    result = check_cosine_matrix(cached)
    assert result is False and "cached result" in capsys.readouterr().out


# --------------------------------------------------------------------------------------
# check_softmax
# --------------------------------------------------------------------------------------
def _exp_rows_axis0(scores):
    e = np.exp(scores - scores.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _exp_rows(shift):
    def fn(scores):
        e = np.exp(scores - shift(scores))
        return e / e.sum(axis=-1, keepdims=True)

    return fn


@pytest.mark.parametrize(
    "fn",
    [
        softmax_rows,
        lambda s: np.exp(s - np.logaddexp.reduce(s, axis=-1, keepdims=True)),
        lambda s: np.round(softmax_rows(s), 4),
        lambda s: softmax_rows(s.astype(np.float32)),
        lambda s: np.array([softmax_rows(row[None])[0] for row in s]),  # a loop over rows
        lambda s: softmax_rows(s).tolist(),  # a nested list
    ],
    ids=["max", "logsumexp", "rounded-4", "float32", "loop", "list"],
)
def test_softmax_right_answers(fn, capsys):
    assert_correct(capsys, check_softmax, fn)


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (_exp_rows(lambda s: s.min(axis=-1, keepdims=True)), ("minimum", "[0, 1000]")),
        (_exp_rows(lambda s: s.mean(axis=-1, keepdims=True)), ("mean", "[0, 1000]")),
        (_exp_rows(lambda s: 0.0), ("NaN", "row's own maximum")),
        (_exp_rows(lambda s: s.max()), "each row's OWN maximum"),
        (lambda s: np.exp(s - s.max()) / np.exp(s - s.max()).sum(), ("whole matrix", "last axis")),
        (_exp_rows_axis0, ("columns sum to 1", "axis 0")),
        (lambda s: s / s.sum(axis=-1, keepdims=True), "np.exp"),
        (lambda s: np.exp(s).sum(axis=-1), ("shape (3, 4)", "got (3,)", "not their sums")),
        (lambda s: np.full_like(s, 1.0 / s.shape[-1]), ("rows sum to 1 but", "row 0 should be")),
        (lambda s: softmax_rows(s / 1.5), "row 0 should be"),
        (lambda s: softmax_rows(s.astype(np.float16)), "float16"),
        (lambda s: np.log(softmax_rows(s)), "log-softmax"),
    ],
    ids=[
        "min",
        "mean",
        "no-shift",
        "global-max",
        "whole",
        "axis0",
        "no-exp",
        "sums",
        "uniform",
        "temperature",
        "float16",
        "log",
    ],
)
def test_softmax_wrong_answers(fn, hint, capsys):
    assert_not_yet(capsys, check_softmax, fn, hint=hint)


def test_softmax_forgot_keepdims(capsys):
    def no_keepdims(scores):
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1)

    assert_not_yet(capsys, check_softmax, no_keepdims, hint=("ValueError", "keep the summed axis"))


def test_softmax_forgot_keepdims_on_a_square_matrix_is_named(capsys):
    """On a square matrix the missing keepdims broadcasts silently: a hidden case is square."""

    def no_keepdims(scores):
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        if scores.shape[0] != scores.shape[1]:
            return e / e.sum(axis=-1, keepdims=True)
        return e / e.sum(axis=-1)

    assert_not_yet(capsys, check_softmax, no_keepdims, hint=("lost their axis", "keepdims"))


def test_softmax_cached_in_process(capsys, monkeypatch):
    first = {}

    def cached(scores):
        return first.setdefault("w", softmax_rows(scores))

    monkeypatch.setattr(_sandbox, "fork_problem", lambda: "no fork here")
    assert check_softmax(cached) is False
    assert "cached result" in capsys.readouterr().out


@settings(max_examples=25, deadline=None)
@given(shift=st.floats(-50, 50))
def test_softmax_checker_accepts_any_row_shift(shift):
    """softmax is unchanged by adding a constant to a row, so this variant is correct."""
    assert quiet(check_softmax, _exp_rows(lambda s: s.max(axis=-1, keepdims=True) - shift))


@settings(max_examples=25, deadline=None)
@given(temperature=st.floats(1.05, 20) | st.floats(0.05, 0.95))
def test_softmax_checker_rejects_any_temperature(temperature):
    assert quiet(check_softmax, lambda s: softmax_rows(s / temperature)) is False


@pytest.mark.parametrize(
    ("fn", "where"),
    [
        (lambda v: np.array([[cosine(a, b) for b in v] for a in v]), "a loop inside a loop"),
        (
            lambda v: (
                np.array([[a @ b for b in v] for a in v])
                / np.outer(*[np.linalg.norm(v, axis=1)] * 2)
            ),
            "a loop inside a loop",
        ),
    ],
    ids=["nested-comprehension", "nested-dot-products"],
)
def test_cosine_matrix_rejects_a_loop_over_pairs(fn, where, capsys):
    line = assert_not_yet(capsys, check_cosine_matrix, fn, hint=("numbers are right", where))
    assert "whole-array" in line


def test_cosine_matrix_rejects_a_double_for_loop_and_a_helper_loop(capsys):
    def cosine_matrix_loops(vectors):
        n = len(vectors)
        out = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                out[i, j] = cosine(vectors[i], vectors[j])
        return out

    def row_of(vectors, a):
        return [cosine(a, b) for b in vectors]

    def cosine_matrix_helper(vectors):
        return np.array([row_of(vectors, a) for a in vectors])

    line = assert_not_yet(capsys, check_cosine_matrix, cosine_matrix_loops, hint="loop inside")
    assert "line 6 of the cell" not in line or "line" in line
    assert_not_yet(capsys, check_cosine_matrix, cosine_matrix_helper, hint="loop inside a loop")


def test_cosine_matrix_rejects_itertools_product(capsys):
    import itertools

    def pairs(vectors):
        n = len(vectors)
        flat = [cosine(vectors[i], vectors[j]) for i, j in itertools.product(range(n), repeat=2)]
        return np.array(flat).reshape(n, n)

    assert_not_yet(
        capsys, check_cosine_matrix, pairs, hint="product runs Python code once per pair"
    )
