"""check_variance_experiment: the student's experiment is run at several d_k and the growth law
it measures is judged (slope of log Var against log d_k, and level), so a copied number cannot
pass. Right experiments in several spellings, each named wrong experiment, and a property: a
right slope at a wrong level is rejected.
"""

import numpy as np
import pytest
from exercise_helpers import assert_correct, assert_not_yet, quiet
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.exercises import check_variance_experiment


# --------------------------------------------------------------------------------------
# check_variance_experiment
# --------------------------------------------------------------------------------------
def variance_of_scores(d_k, n_samples, rng):
    q = rng.normal(size=(n_samples, d_k))
    k = rng.normal(size=(n_samples, d_k))
    return np.var(np.sum(q * k, axis=-1))


def _experiment(score, reduce=np.var):
    def fn(d_k, n_samples, rng):
        q = rng.normal(size=(n_samples, d_k))
        k = rng.normal(size=(n_samples, d_k))
        return reduce(score(q, k, d_k))

    return fn


@pytest.mark.parametrize(
    "fn",
    [
        variance_of_scores,
        _experiment(lambda q, k, d: np.einsum("nd,nd->n", q, k), lambda s: np.var(s, ddof=1)),
        _experiment(lambda q, k, d: (q * k).sum(axis=1), lambda s: float(np.mean(s**2))),
        _experiment(lambda q, k, d: np.sum(q * k, axis=-1), lambda s: np.std(s) ** 2),
        _experiment(lambda q, k, d: np.sum(q * k, -1), lambda s: round(float(np.var(s)), 4)),
        lambda d_k, n, rng: np.var([rng.normal(size=d_k) @ rng.normal(size=d_k) for _ in range(n)]),
    ],
    ids=["var", "ddof1", "mean-square", "std-squared", "rounded", "loop"],
)
def test_variance_right_answers(fn, capsys):
    line = assert_correct(capsys, check_variance_experiment, fn)
    assert "slope" in line


VARIANCE_WRONG = [
    (_experiment(lambda q, k, d: np.sum(q * k, -1), np.std), ("√d_k", "standard deviation")),
    (_experiment(lambda q, k, d: np.sum(q * k, -1) / np.sqrt(d)), ("near 1", "scaled")),
    (_experiment(lambda q, k, d: q * k), ("near 1", "one product")),
    (_experiment(lambda q, k, d: np.sum(q * k, axis=0)), ("n_samples", "ONE pair")),
    (_experiment(lambda q, k, d: np.sum(q * q, -1)), ("2·d_k", "independently")),
    (_experiment(lambda q, k, d: np.sum(q * k, -1), np.mean), "MEAN"),
    (_experiment(lambda q, k, d: np.sum(q * k, -1) / d), "1/d_k"),
    (_experiment(lambda q, k, d: np.sum(q * k, -1) ** 2), "slope"),
    (_experiment(lambda q, k, d: np.sum(2 * q * k, -1)), ("level", "Var/d_k")),
    (lambda d_k, n, rng: 64.0, "same number"),
    (lambda d_k, n, rng: float(d_k), "ignores the rng"),
    (lambda d_k, n, rng: variance_of_scores(d_k, n, np.random.default_rng(0)), "ignores"),
    (lambda d_k, n, rng: variance_of_scores(d_k, n, np.random.default_rng()), "same rng seed"),
    (lambda d_k, n, rng: variance_of_scores(d_k, 20, rng), "far more than"),
    (lambda d_k, n, rng: np.sum(rng.normal(size=(n, d_k)) ** 2, -1), "ONE number"),
    (lambda d_k, n, rng: True, "return the variance"),
]
VARIANCE_WRONG_IDS = [
    "std",
    "scaled",
    "elementwise",
    "wrong-axis",
    "q=k",
    "mean",
    "over-d_k",
    "squared",
    "double",
    "constant",
    "d_k-itself",
    "seeded-inside",
    "unseeded",
    "few-samples",
    "array",
    "bool",
]


@pytest.mark.parametrize(("fn", "hint"), VARIANCE_WRONG, ids=VARIANCE_WRONG_IDS)
def test_variance_wrong_answers(fn, hint, capsys):
    assert_not_yet(capsys, check_variance_experiment, fn, hint=hint)


@settings(max_examples=6, deadline=None)
@given(level=st.floats(0.5, 0.8) | st.floats(1.25, 3))
def test_variance_checker_rejects_a_wrong_level(level):
    """Right slope, wrong level: Var = level · d_k is not the law."""

    def off(d_k, n_samples, rng):
        return level * variance_of_scores(d_k, n_samples, rng)

    assert quiet(check_variance_experiment, off) is False
