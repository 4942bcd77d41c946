"""check_variance_experiment: the student's experiment runs at four (d_k, sigma_q, sigma_k)
settings and its numbers are judged against what independent draws give, Var(q·k) =
d_k σ_q² σ_k²: a copied number cannot pass, and the look-alikes (E‖q‖², the std, scaled
scores, q = k, σ² as the std, one product, a handful of samples) are each named.
"""

import numpy as np
import pytest
from exercise_helpers import assert_correct, assert_not_yet, quiet
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.exercises import check_variance_experiment, variance


def score_variance(d_k, sigma_q, sigma_k, n_samples, rng):
    queries = rng.normal(0.0, sigma_q, size=(n_samples, d_k))
    keys = rng.normal(0.0, sigma_k, size=(n_samples, d_k))
    return float(np.var(np.sum(queries * keys, axis=-1)))


def _experiment(score, reduce=np.var, draw=None):
    def fn(d_k, sigma_q, sigma_k, n_samples, rng):
        if draw is None:
            q = rng.normal(0.0, sigma_q, size=(n_samples, d_k))
            k = rng.normal(0.0, sigma_k, size=(n_samples, d_k))
        else:
            q, k = draw(d_k, sigma_q, sigma_k, n_samples, rng)
        return reduce(score(q, k, d_k))

    return fn


def _standard_times_sigma(d_k, sq, sk, n, rng):
    return sq * rng.standard_normal((n, d_k)), sk * rng.standard_normal((n, d_k))


@pytest.mark.parametrize(
    "fn",
    [
        score_variance,
        _experiment(lambda q, k, d: np.einsum("nd,nd->n", q, k), lambda s: np.var(s, ddof=1)),
        _experiment(lambda q, k, d: (q * k).sum(axis=1), lambda s: float(np.mean(s**2))),
        _experiment(lambda q, k, d: np.sum(q * k, axis=-1), lambda s: np.std(s) ** 2),
        _experiment(lambda q, k, d: np.sum(q * k, -1), lambda s: round(float(np.var(s)), 4)),
        _experiment(lambda q, k, d: np.sum(q * k, -1), draw=_standard_times_sigma),
        lambda d_k, sq, sk, n, rng: np.var(
            [rng.normal(0, sq, d_k) @ rng.normal(0, sk, d_k) for _ in range(n)]
        ),
    ],
    ids=["var", "ddof1", "mean-square", "std-squared", "rounded", "standard-normal", "loop"],
)
def test_variance_right_answers(fn, capsys):
    line = assert_correct(capsys, check_variance_experiment, fn)
    assert "d_k·σ_q²·σ_k²" in line


def _sq_length(d_k, sq, sk, n, rng):
    return float(np.sum(rng.normal(0, sq, (n, d_k)) ** 2, -1).mean())


VARIANCE_WRONG = [
    (_sq_length, ("d_k·σ_q²", "E‖q‖²", "keys")),
    (_experiment(lambda q, k, d: np.sum(q * k, -1), np.std), "standard deviation"),
    (_experiment(lambda q, k, d: np.sum(q * k, -1) / np.sqrt(d)), ("do not grow", "scaled")),
    (_experiment(lambda q, k, d: q * k), ("do not grow", "one product")),
    (_experiment(lambda q, k, d: np.sum(q * k, axis=0)), ("n_samples", "ONE pair")),
    (_experiment(lambda q, k, d: np.sum(q * q, -1)), ("k = q", "apart from the queries")),
    (_experiment(lambda q, k, d: np.sum(q * k, -1), np.mean), "MEAN"),
    (_experiment(lambda q, k, d: np.sum(q * k, -1) / d), "q·k/d_k"),
    (
        _experiment(
            lambda q, k, d: np.sum(q * k, -1),
            draw=lambda d, sq, sk, n, rng: (
                rng.normal(0, sq**2, (n, d)),
                rng.normal(0, sk**2, (n, d)),
            ),
        ),
        ("σ_q⁴·σ_k⁴", "standard deviation"),
    ),
    (
        _experiment(
            lambda q, k, d: np.sum(q * k, -1),
            draw=lambda d, sq, sk, n, rng: (rng.normal(0, sq, (n, d)), rng.normal(0, sq, (n, d))),
        ),
        "sigma_q only",
    ),
    (_experiment(lambda q, k, d: np.sum(2 * q * k, -1)), "not the variance of q·k"),
    (lambda d_k, sq, sk, n, rng: 64.0, "same number"),
    (lambda d_k, sq, sk, n, rng: float(d_k * sq**2 * sk**2), "ignores the rng"),
    (
        lambda d_k, sq, sk, n, rng: score_variance(d_k, sq, sk, n, np.random.default_rng(0)),
        "ignores",
    ),
    (
        lambda d_k, sq, sk, n, rng: score_variance(d_k, sq, sk, n, np.random.default_rng()),
        "same rng seed",
    ),
    (lambda d_k, sq, sk, n, rng: score_variance(d_k, sq, sk, 20, rng), "far more than"),
    (lambda d_k, sq, sk, n, rng: score_variance(d_k, sq, sk, 1, rng), "variance of one score"),
    (lambda d_k, sq, sk, n, rng: np.sum(rng.normal(size=(n, d_k)) ** 2, -1), "ONE real number"),
    (lambda d_k, sq, sk, n, rng: True, "return the variance"),
    (lambda d_k, sq, sk, n, rng: complex(score_variance(d_k, sq, sk, n, rng)), "ONE real number"),
    (lambda d_k, sq, sk, n, rng: str(score_variance(d_k, sq, sk, n, rng)), "text"),
]
VARIANCE_WRONG_IDS = [
    "squared-length",
    "std",
    "scaled",
    "elementwise",
    "wrong-axis",
    "q=k",
    "mean",
    "over-d_k",
    "sigma-squared",
    "sigma-q-only",
    "double",
    "constant",
    "formula",
    "seeded-inside",
    "unseeded",
    "few-samples",
    "one-sample",
    "array",
    "bool",
    "complex",
    "string",
]


@pytest.mark.parametrize(("fn", "hint"), VARIANCE_WRONG, ids=VARIANCE_WRONG_IDS)
def test_variance_wrong_answers(fn, hint, capsys):
    assert_not_yet(capsys, check_variance_experiment, fn, hint=hint)


def test_each_look_alike_differs_from_the_truth_in_some_setting():
    """The settings are chosen so that no named look-alike equals d_k σ_q² σ_k² everywhere."""
    for law, _ in variance._look_alikes():
        ratios = [law(*s) / variance._right(*s) for s in variance.SETTINGS]
        assert max(abs(r - 1) for r in ratios) > 3 * variance.LEVEL_TOLERANCE, ratios


def test_the_old_unit_variance_experiment_cannot_pass(capsys):
    """E‖q‖² and Var(q·k) are both d_k when σ_q = σ_k = 1: the old exercise's loophole."""

    def unit_only(d_k, sigma_q, sigma_k, n_samples, rng):
        return score_variance(d_k, 1.0, 1.0, n_samples, rng)

    assert_not_yet(capsys, check_variance_experiment, unit_only)


@settings(max_examples=5, deadline=None)
@given(level=st.floats(0.5, 0.8) | st.floats(1.25, 3))
def test_variance_checker_rejects_a_wrong_level(level):
    """The right shape of law at a wrong level (level · d_k σ_q² σ_k²) is not the truth."""

    def off(d_k, sigma_q, sigma_k, n_samples, rng):
        return level * score_variance(d_k, sigma_q, sigma_k, n_samples, rng)

    assert quiet(check_variance_experiment, off) is False
