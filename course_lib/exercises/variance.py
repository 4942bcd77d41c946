"""Checker for notebook 03's experiment: measure how Var(q·k) grows with d_k.

The checker does not compare the student's numbers with a copied answer: it runs the
student's function at several d_k and judges the growth law it measures, a slope of
log Var against log d_k near 1 AND a level near d_k.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_lib.exercises._harness import (
    SEED,
    STUB_LEFT,
    NotYet,
    call,
    name,
    require_callable,
    run_checker,
)

D_KS = (4, 16, 64, 256)
N_SAMPLES = 4000
# With n samples the sample variance of q·k has a relative spread of about sqrt(2 / n)
# (2.2 % for n = 4000); the bounds below are about six of those spreads wide.
SLOPE_TOLERANCE = 0.1
LEVEL_TOLERANCE = 0.15


def _number(value, d_k: int) -> float:
    if isinstance(value, bool | np.bool_):
        raise NotYet(f"at d_k={d_k} your function returned {value!r}; return the variance")
    array = np.asarray(value)
    if array.size != 1 or not np.issubdtype(array.dtype, np.number):
        raise NotYet(
            f"at d_k={d_k} your function returned {type(value).__name__} of shape "
            f"{getattr(array, 'shape', '?')}; return ONE number, the variance of the "
            f"{N_SAMPLES} scores, one score q·k per sample"
        )
    return float(array.ravel()[0])


def _measure(fn: Callable, seed: int) -> list[float]:
    out = []
    for d_k in D_KS:
        rng = np.random.default_rng(seed + d_k)
        value = call(fn, d_k, N_SAMPLES, rng, case=f"d_k={d_k}, n_samples={N_SAMPLES}")
        out.append(_number(value, d_k))
    return out


def _slope(values: list[float]) -> float:
    return float(np.polyfit(np.log(D_KS), np.log(values), 1)[0])


def _table(values: list[float]) -> str:
    return ", ".join(f"d_k={d}: {v:.3g}" for d, v in zip(D_KS, values, strict=True))


def _diagnose(values: list[float]) -> str:
    """Name the wrong experiment behind ``values`` (all finite and positive)."""
    d = np.array(D_KS, dtype=float)
    v = np.array(values)
    slope = _slope(values)
    near = np.allclose
    if near(v, v[0], rtol=1e-9):
        return f"your function returns the same number, {v[0]:.3g}, for every d_k; measure it"
    if abs(slope - 0.5) < SLOPE_TOLERANCE and near(v, np.sqrt(d), rtol=LEVEL_TOLERANCE):
        return (
            "your numbers grow like √d_k: that is the standard deviation of q·k; the exercise "
            "asks for the variance, its square"
        )
    if abs(slope) < SLOPE_TOLERANCE and near(v, 1.0, rtol=LEVEL_TOLERANCE):
        return (
            "your numbers stay near 1 at every d_k: that is the variance of the scaled score "
            "q·k/√d_k, or of one product q_i k_i; measure the raw score q·k, the sum of all "
            "d_k products"
        )
    if abs(slope + 1) < SLOPE_TOLERANCE and near(v, 1 / d, rtol=LEVEL_TOLERANCE):
        return (
            "your numbers shrink like 1/d_k: that is the variance of q·k/d_k; measure the raw "
            "score q·k"
        )
    if abs(slope) < 0.3 and 0.5 < float(np.median(v)) / N_SAMPLES < 2:
        return (
            f"your numbers stay around n_samples = {N_SAMPLES}: the products were summed over "
            "the samples; a score q·k sums the d_k products of ONE pair, so there is one score "
            "per sample"
        )
    if abs(slope - 1) < SLOPE_TOLERANCE and near(v, 2 * d, rtol=LEVEL_TOLERANCE):
        return (
            "your numbers are near 2·d_k: with k = q the score is ‖q‖², whose variance is "
            "2·d_k; draw k independently of q (a second rng.normal call)"
        )
    if abs(slope - 1) < SLOPE_TOLERANCE:
        return (
            f"the growth is right (slope {slope:.2f}) but the level is not: Var/d_k is "
            + ", ".join(f"{x:.2f}" for x in v / d)
            + f" (should be within {LEVEL_TOLERANCE:.0%} of 1); every entry of q and k should "
            "have mean 0 and variance 1 (standard normal)"
        )
    return (
        f"the log-log slope of your numbers is {slope:.2f}, which says Var grows like "
        f"d_k^{slope:.2f}; measure the variance of the raw score q·k, for q and k drawn "
        "independently, with d_k standard-normal entries each"
    )


def check_variance_experiment(fn: Callable) -> bool | None:
    """Check ``fn(d_k, n_samples, rng)``: the sample variance of q·k at one d_k.

    The function draws ``n_samples`` pairs q, k of independent standard-normal entries with
    ``rng`` and returns the variance of their scores q·k. The checker runs it at d_k = 4,
    16, 64 and 256 and accepts it when the measured law is Var = d_k: a log-log slope within
    0.1 of 1 and every Var/d_k within 15 % of 1. It also runs it twice with the same seed
    (the result must repeat: all randomness comes from ``rng``) and with another seed (the
    result must change by about the sampling noise, no more: a function that ignores
    ``n_samples`` and uses a handful of samples is caught).

    Parameters
    ----------
    fn : callable
        ``fn(d_k: int, n_samples: int, rng: numpy.random.Generator) -> float``.

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    The example shows no solution: notebook 03 asks the student to write the experiment
    (``notebooks/solutions`` has one).

    >>> def one_product(d_k, n_samples, rng):  # the variance of ONE product q_i k_i
    ...     return float((rng.normal(size=n_samples) * rng.normal(size=n_samples)).var())
    >>> check_variance_experiment(one_product)  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
    ❌ not yet: your numbers stay near 1 at every d_k: that is the variance of the scaled score
    q·k/√d_k, or of one product q_i k_i; measure the raw score q·k, the sum of all d_k products
    (measured d_k=4: ...)
    False
    """

    def body() -> str:
        require_callable(fn, "check_variance_experiment", "variance_of_scores")
        first = _measure(fn, SEED)
        if not all(math.isfinite(v) for v in first):
            raise NotYet(f"got NaN or inf: {_table(first)}")
        if min(first) <= 0:
            if all(abs(v) < 0.2 * math.sqrt(d) for v, d in zip(first, D_KS, strict=True)):
                return_hint = "that looks like the MEAN of q·k (about 0); return its variance"
            else:
                return_hint = "a variance is never negative or zero"
            raise NotYet(f"your numbers are {_table(first)}; {return_hint}")
        again = _measure(fn, SEED)
        if not np.allclose(first, again, rtol=1e-12):
            raise NotYet(
                "two runs with the same rng seed gave different numbers; draw every random "
                "number from the rng argument (rng.normal), not np.random.normal or a new "
                "default_rng()"
            )
        other = _measure(fn, SEED + 1)
        if np.allclose(first, other, rtol=1e-12) and len(set(first)) > 1:
            raise NotYet(
                "runs with different rng seeds gave the same numbers: your function ignores "
                "the rng it is given; draw every random number from it"
            )
        spread = float(np.max(np.abs(np.log(first) - np.log(other))))
        if spread > 6 * math.sqrt(2 * 2 / N_SAMPLES) and abs(_slope(first) - 1) < 0.4:
            raise NotYet(
                f"two seeds gave numbers {spread:.0%} apart, far more than {N_SAMPLES} samples "
                "allow: draw and use all n_samples pairs"
            )
        slope = _slope(first)
        level = np.array(first) / np.array(D_KS)
        if abs(slope - 1) <= SLOPE_TOLERANCE and np.all(np.abs(level - 1) <= LEVEL_TOLERANCE):
            return (
                f"{name(fn)} measures Var(q·k) ≈ d_k ({_table(first)}; log-log slope {slope:.2f})"
            )
        raise NotYet(f"{_diagnose(first)} (measured {_table(first)})")

    return run_checker(body, STUB_LEFT)


__all__ = ["check_variance_experiment"]
