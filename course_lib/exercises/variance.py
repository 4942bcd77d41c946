"""Checker for notebook 03's experiment: measure the variance of a score q·k.

The student's function draws queries and keys with given standard deviations and returns
the sample variance of their scores. The checker does not compare with a copied number: it
runs the function at four (d_k, σ_q, σ_k) settings chosen so that the quantities students
measure by mistake all differ from Var(q·k) = d_k σ_q² σ_k² in at least one setting: the
mean squared length E‖q‖² = d_k σ_q² (equal to Var(q·k) when σ_q = σ_k = 1), the standard
deviation, the variance of the scaled score or of one product, q = k, σ² passed as the
standard deviation, and a handful of samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_lib.exercises._format import NotYet, kind_of
from course_lib.exercises._harness import SEED, Exercise, call, name, run_checker

VARIANCE = Exercise("check_variance_experiment", "score_variance")
#: (d_k, sigma_q, sigma_k) of the hidden runs.
SETTINGS = ((4, 1.0, 1.0), (16, 2.0, 0.5), (64, 0.5, 1.5), (256, 1.5, 2.0))
N_SAMPLES = 4000
# With 4000 samples the sample variance of q·k has a relative spread of at most about 4.5 %
# (products of normals have heavy tails: kurtosis 9 at d_k = 1); 15 % is over 3 spreads at
# d_k = 4 and 6 at d_k >= 16.
LEVEL_TOLERANCE = 0.15


def _look_alikes() -> list[tuple[Callable, str]]:
    """Return what students measure by mistake, as functions of (d, sq, sk), with hints."""
    return [
        (
            lambda d, sq, sk: d * sq**2,
            "your numbers are d_k·σ_q²: the mean squared length of q, E‖q‖², which does not "
            "depend on the keys at all; measure the spread of the scores q·k, each query "
            "paired with its own independent key",
        ),
        (
            lambda d, sq, sk: d * sk**2,
            "your numbers are d_k·σ_k²: the mean squared length of k, which does not depend on "
            "the queries; measure the spread of the scores q·k",
        ),
        (
            lambda d, sq, sk: math.sqrt(d) * sq * sk,
            "your numbers are the standard deviation of q·k; the exercise asks for the "
            "variance, its square",
        ),
        (
            lambda d, sq, sk: sq**2 * sk**2,
            "your numbers do not grow with d_k: that is the variance of one product q_i·k_i, "
            "or of the scaled score q·k/√d_k; a score sums all d_k products of one pair",
        ),
        (
            lambda d, sq, sk: sq**2 * sk**2 / d,
            "your numbers shrink as d_k grows: that is the variance of q·k/d_k; measure the raw "
            "score q·k",
        ),
        (
            lambda d, sq, sk: 2 * d * sq**4,
            "your numbers are those of k = q: the score is then ‖q‖², whose variance is "
            "2·d_k·σ_q⁴; draw the keys apart from the queries",
        ),
        (
            lambda d, sq, sk: d * sq**4 * sk**4,
            "your numbers are d_k·σ_q⁴·σ_k⁴: sigma was used as the variance of the entries; "
            "the second argument of rng.normal is the standard deviation",
        ),
        (
            lambda d, sq, sk: d * sq**4,
            "your numbers depend on sigma_q only: draw the keys with sigma_k",
        ),
    ]


def _number(value, setting) -> float:
    if isinstance(value, bool | np.bool_):
        raise NotYet(f"at {_name(setting)} your function returned {value!r}; return the variance")
    array = np.asarray(value) if isinstance(value, int | float | np.ndarray | np.generic) else None
    if array is None or array.size != 1 or array.dtype.kind not in "iuf":
        raise NotYet(
            f"at {_name(setting)} your function returned {kind_of(value)}; return ONE real "
            f"number, the variance of the {N_SAMPLES} scores (one score q·k per pair)"
        )
    return float(array.ravel()[0])


def _name(setting) -> str:
    d_k, sigma_q, sigma_k = setting
    return f"d_k={d_k}, sigma_q={sigma_q:g}, sigma_k={sigma_k:g}"


def _measure(fn: Callable, seed: int) -> list[float]:
    out = []
    for setting in SETTINGS:
        rng = np.random.default_rng(seed + setting[0])
        case = f"{_name(setting)}, n_samples={N_SAMPLES}"
        out.append(_number(call(fn, *setting, N_SAMPLES, rng, case=case), setting))
    return out


def _table(values: list[float]) -> str:
    return "; ".join(f"{_name(s)}: {v:.4g}" for s, v in zip(SETTINGS, values, strict=True))


def _right(d_k: int, sigma_q: float, sigma_k: float) -> float:
    return d_k * sigma_q**2 * sigma_k**2


def _matches(values: list[float], law: Callable, tolerance: float = LEVEL_TOLERANCE) -> bool:
    return all(abs(v / law(*s) - 1) <= tolerance for s, v in zip(SETTINGS, values, strict=True))


def _diagnose(values: list[float]) -> str:
    """Name the wrong quantity behind ``values`` (finite and positive)."""
    if np.allclose(values, values[0], rtol=1e-9):
        return f"your function returns the same number, {values[0]:.4g}, every time; measure it"
    for law, hint in _look_alikes():
        if _matches(values, law):
            return hint
    # the variance over only d_k numbers (one per coordinate) is noisy: a wider band
    if _matches(values, lambda d, sq, sk: N_SAMPLES * sq**2 * sk**2, 0.6):
        return (
            f"your numbers are about n_samples = {N_SAMPLES} times σ_q²·σ_k²: the products were "
            "summed over the samples; a score sums the d_k products of ONE pair, one score per "
            "pair"
        )
    return (
        "these numbers are not the variance of q·k: check that each query's entries have "
        "standard deviation sigma_q and each key's sigma_k, that the keys are drawn apart from "
        "the queries, that a score sums the d_k products of one pair, and that the variance is "
        "taken over the n_samples scores"
    )


def check_variance_experiment(fn: Callable) -> bool | None:
    """Check ``fn(d_k, sigma_q, sigma_k, n_samples, rng)``: the sample variance of q·k.

    The function draws ``n_samples`` queries with ``d_k`` independent entries of mean 0 and
    standard deviation ``sigma_q``, as many keys with standard deviation ``sigma_k``
    (independently), all from ``rng``, and returns the sample variance of the
    ``n_samples`` scores q·k. The checker runs it at the four :data:`SETTINGS` and accepts
    it when every number is within 15 % of what independent draws give. It also runs it
    again with the same seeds (the numbers must repeat: all randomness comes from ``rng``)
    and with other seeds (they must change by about the sampling noise, no more: a function
    that ignores ``n_samples`` and uses a handful of samples is caught).

    Parameters
    ----------
    fn : callable
        ``fn(d_k: int, sigma_q: float, sigma_k: float, n_samples: int,
        rng: numpy.random.Generator) -> float``.

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    The example shows no solution: notebook 03 asks the student to write the experiment
    (``notebooks/solutions`` has one).

    >>> def copied(d_k, sigma_q, sigma_k, n_samples, rng):
    ...     return 64.0
    >>> check_variance_experiment(copied)  # doctest: +NORMALIZE_WHITESPACE
    ❌ not yet: runs with different rng seeds gave the same numbers: your function ignores the
    rng it is given; draw every random number from it
    False
    """

    def body() -> str:
        first = _measure(fn, SEED)
        if not all(math.isfinite(v) for v in first):
            raise NotYet(f"got NaN or inf: {_table(first)}")
        if max(abs(v) for v in first) == 0:
            raise NotYet(
                "your function returns 0 every time: the variance of one score (or of equal "
                "scores) is 0; draw n_samples pairs and take the variance of their n_samples "
                "scores"
            )
        if min(first) <= 0:
            sizes = [math.sqrt(_right(*s)) for s in SETTINGS]  # the spread of one score
            if all(abs(v) < 0.3 * size for v, size in zip(first, sizes, strict=True)):
                hint = "that looks like the MEAN of the scores (about 0); return their variance"
            else:
                hint = "a variance is never negative, and with one score (or none) it is 0"
            raise NotYet(f"your numbers are {_table(first)}: {hint}")
        again = _measure(fn, SEED)
        if not np.allclose(first, again, rtol=1e-12):
            raise NotYet(
                "two runs with the same rng seed gave different numbers; draw every random "
                "number from the rng argument, not from np.random or a new default_rng()"
            )
        other = _measure(fn, SEED + 1)
        if np.allclose(first, other, rtol=1e-12):
            raise NotYet(
                "runs with different rng seeds gave the same numbers: your function ignores "
                "the rng it is given; draw every random number from it"
            )
        spread = float(np.max(np.abs(np.log(first) - np.log(other))))
        if spread > 6 * math.sqrt(2 * 4.5 / N_SAMPLES) and _matches(first, _right, 1.0):
            raise NotYet(
                f"two seeds gave numbers {spread:.0%} apart, far more than {N_SAMPLES} samples "
                "allow: draw and use all n_samples pairs"
            )
        if _matches(first, _right):
            return (
                f"{name(fn)} measures Var(q·k) ≈ d_k·σ_q²·σ_k² ({_table(first)}): the d_k "
                "products q_i·k_i are independent, each of variance σ_q²·σ_k²"
            )
        raise NotYet(f"{_diagnose(first)} (measured {_table(first)})")

    return run_checker(VARIANCE, fn, body)


__all__ = ["check_variance_experiment"]
