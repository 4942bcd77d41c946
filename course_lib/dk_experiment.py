"""The d_k explorer's experiment, in numpy: random queries and keys, three divisors.

A score q . k of two random vectors with independent standard-normal entries is a sum of
d_k unit-variance terms, so its spread grows like sqrt(d_k). :func:`draw` makes seeded
random queries, keys, values and an upstream gradient; :func:`measure` divides the scores
by 1, sqrt(d_k) and d_k and returns, for each, the weights (from
:func:`course_lib.attention.scaled_dot_product_attention`), the spread of the scores, the
entropy of the rows, the mean largest weight and the size of the gradient reaching the
scores. That size is *measured*, by differentiating the loss numerically (the complex step),
not computed from a formula: the formula is what notebooks 03 and 04 ask the student to
derive. No widgets here: :mod:`course_lib.explorer_dk` shows the results.
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.attention import attention_entropy, scaled_dot_product_attention

__all__ = ["DIVIDE_BY", "D_V", "divisor", "draw", "measure"]

DIVIDE_BY = ("1", "sqrt(d_k)", "d_k")
D_V = 8  # size of the random values in the gradient measurement
_STEP = 1e-30  # the complex step (no two losses are subtracted, so it can be tiny)


def divisor(divide_by, d_k):
    """Return the number the scores are divided by: 1, sqrt(d_k) or d_k.

    Examples
    --------
    >>> divisor("sqrt(d_k)", 64)
    8.0
    """
    return {"1": 1.0, "sqrt(d_k)": math.sqrt(d_k), "d_k": float(d_k)}[divide_by]


def _measured_gradient_norms(scores, values, upstream):
    """Measure, row by row, the size of dL/dS for L = sum(upstream * (softmax(S) @ values)).

    Numerically, by the complex step: L is evaluated once for each score moved by an
    imaginary step i*h, and the imaginary part of L divided by h is that score's derivative.
    No difference of two losses is taken, so h can be tiny and the result is accurate to
    rounding (about 1e-16 absolute on a saturated row). No backward formula is used.

    Parameters
    ----------
    scores : ndarray of shape (samples, seq_q, seq_k)
    values : ndarray of shape (samples, seq_k, d_v)
    upstream : ndarray of shape (samples, seq_q, d_v)

    Returns
    -------
    ndarray of shape (samples, seq_q)
        The Euclidean norm of each row of dL/dS.
    """
    n = scores.shape[-1]
    moved = scores[..., None, :] + 1j * _STEP * np.eye(n)  # (samples, seq_q, n moved, seq_k)
    exps = np.exp(moved - moved.real.max(axis=-1, keepdims=True))
    weights = exps / exps.sum(axis=-1, keepdims=True)  # the forward pass, in complex numbers
    per_key = np.einsum("skv,sqv->sqk", values, upstream)  # (samples, seq_q, seq_k)
    loss = np.einsum("sqjk,sqk->sqj", weights, per_key)  # row q's loss, score (q, j) moved
    return np.linalg.norm(loss.imag / _STEP, axis=-1)  # (samples, seq_q)


def draw(d_k, seq_len, samples, seed):
    """Return seeded random (queries, keys, values, upstream), standard normal.

    Parameters
    ----------
    d_k, seq_len, samples, seed : int

    Returns
    -------
    queries, keys : ndarray of shape (samples, seq_len, d_k)
    values, upstream : ndarray of shape (samples, seq_len, D_V)
        Of a fixed size D_V at every d_k, so only the softmax changes with d_k.
    """
    rng = np.random.default_rng(seed)
    queries, keys = rng.standard_normal((2, samples, seq_len, d_k))  # each (samples, seq, d_k)
    values, upstream = rng.standard_normal((2, samples, seq_len, D_V))
    return queries, keys, values, upstream


def measure(queries, keys, values, upstream, *, same_qk=False):
    """Return, for each of :data:`DIVIDE_BY`, the weights and what they show.

    Parameters
    ----------
    queries, keys, values, upstream : ndarray
        As :func:`draw` returns them; with ``same_qk`` the keys are the queries.

    Returns
    -------
    dict
        For each divisor name, a dict: ``weights`` (samples, seq_q, seq_k), ``score_std``,
        ``entropy`` (mean over rows, nats), ``max_weight`` (mean largest weight of a row)
        and ``grad_norm``: the median over rows of the norm of dL/dS for the loss
        L = sum(upstream * (A @ values)), S the scores after division.

    Examples
    --------
    >>> results = measure(*draw(256, 4, 8, seed=0))
    >>> results["1"]["entropy"] < results["sqrt(d_k)"]["entropy"] < results["d_k"]["entropy"]
    True
    """
    if same_qk:
        keys = queries
    d_k = queries.shape[-1]
    results = {}
    for divide_by in DIVIDE_BY:
        by = divisor(divide_by, d_k)
        _, weights = scaled_dot_product_attention(
            queries, keys, values, scale=1.0 / by
        )  # (samples, seq_q, seq_k)
        scores = queries @ np.swapaxes(keys, -1, -2) / by  # (samples, seq_q, seq_k)
        norms = _measured_gradient_norms(scores, values, upstream)  # (samples, seq_q)
        results[divide_by] = {
            "weights": weights,
            "score_std": float(scores.std()),
            "entropy": float(attention_entropy(weights).mean()),
            "max_weight": float(weights.max(axis=-1).mean()),
            "grad_norm": float(np.median(norms)),
        }
    return results
