"""Attention in plain numpy: softmax, dot-product and scaled dot-product attention.

Every function works on one example or on a batch: leading dimensions broadcast, the last
two are (sequence, features). Shapes follow the Transformer paper's names:

- ``queries`` (..., seq_q, d_k)
- ``keys``    (..., seq_k, d_k)
- ``values``  (..., seq_k, d_v)
- ``weights`` (..., seq_q, seq_k)   one row of weights per query, each row sums to 1
- ``output``  (..., seq_q, d_v)     one weighted average of the values per query

A ``mask`` says which keys each query may look at: ``True`` means "may attend", the same
convention as PyTorch's ``scaled_dot_product_attention``.

Each function is its formula in a few lines; the checks of its inputs (shapes, dtypes,
NaN and inf, masks) live in :mod:`course_lib._validation`, and every bad input is a
``TypeError`` or ``ValueError`` naming the input, its shape and the first bad index.
"""

import numpy as np

from course_lib._validation import (
    check_attention_inputs,
    check_distributions,
    check_mask,
    check_scale,
    check_scores,
    check_scores_finite,
    whole_number,
)

__all__ = [
    "softmax",
    "dot_product_attention",
    "scaled_dot_product_attention",
    "attention_entropy",
    "causal_mask",
]


def softmax(x, axis=-1):
    """Turn scores into probabilities along one axis, without overflow.

    The maximum along ``axis`` is subtracted before exponentiating; this changes nothing
    mathematically (softmax is shift invariant) but keeps ``exp`` from overflowing, so
    scores of +-1e4 are fine. Entries equal to ``-inf`` (masked positions) get exactly 0.

    Parameters
    ----------
    x : array_like of shape (..., n)
        Scores. Any number of dimensions.
    axis : int, default=-1
        The axis that is normalised. For attention weights this is the last axis: each
        query's row of scores becomes a probability distribution over the keys.

    Returns
    -------
    ndarray of the same shape as ``x``, floating point (float32 at least: float16 input is
        computed and returned in float32, so long rows sum to 1)
        Non-negative values that sum to 1 along ``axis``.

    Raises
    ------
    TypeError
        If ``x`` is not an array of real numbers (None, strings, complex numbers), or
        ``axis`` is not a whole number (``axis=None`` included: softmax normalises one axis).
    ValueError
        If ``axis`` is empty or out of range, a slice along ``axis`` is all ``-inf``
        (nothing to normalise; the message gives its index), or an entry is NaN or
        ``+inf`` (the message gives its index).

    Examples
    --------
    >>> softmax(np.array([1.0, 2.0, 3.0])).round(3)
    array([0.09 , 0.245, 0.665])
    >>> scores = np.array([[0.0, 0.0], [1e4, 0.0]])
    >>> softmax(scores, axis=-1)            # each row sums to 1
    array([[0.5, 0.5],
           [1. , 0. ]])
    >>> softmax(np.array([0.0, -np.inf]))   # a masked entry gets exactly 0
    array([1., 0.])
    """
    x, axis = check_scores(x, axis)
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))  # the largest entry: exp(0) = 1
    return exps / np.sum(exps, axis=axis, keepdims=True)


def scaled_dot_product_attention(queries, keys, values, *, mask=None, scale=None):
    """Compute scaled dot-product attention: ``softmax(scale * Q Kᵀ) V``.

    Each query is compared with every key by a dot product; the scores are multiplied by
    ``scale`` (by default ``1 / sqrt(d_k)``, the Transformer's choice), turned into weights
    by a softmax over each row, and the output is the weighted average of the values.

    Parameters
    ----------
    queries : array_like of shape (..., seq_q, d_k)
    keys : array_like of shape (..., seq_k, d_k)
    values : array_like of shape (..., seq_k, d_v)
        Leading (batch) dimensions broadcast against each other.
    mask : array_like of bool, broadcastable to (..., seq_q, seq_k), optional
        ``True`` where a query may attend to a key. Masked weights are exactly 0.
    scale : float, optional
        What the scores are multiplied by. Default ``1 / sqrt(d_k)``. ``scale=1`` gives
        plain dot-product attention; to *divide* the scores by ``s``, pass ``1 / s``.

    Returns
    -------
    output : ndarray of shape (..., seq_q, d_v)
    weights : ndarray of shape (..., seq_q, seq_k)
        Each row is non-negative and sums to 1.

    Raises
    ------
    TypeError
        If an input is not an array of real numbers, or ``scale`` is not a real number
        (``scale="2"``).
    ValueError
        If the shapes disagree (the message names both shapes), d_k or seq_k is 0, an input
        holds NaN or inf, the scores overflow to +-inf, the mask is not boolean or does not
        broadcast, or a query row has every key masked.

    Examples
    --------
    >>> q = np.array([[1.0, 0.0]])                 # (seq_q=1, d_k=2)
    >>> k = np.array([[1.0, 0.0], [0.0, 1.0]])     # (seq_k=2, d_k=2)
    >>> v = np.array([[10.0], [20.0]])             # (seq_k=2, d_v=1)
    >>> output, weights = scaled_dot_product_attention(q, k, v)
    >>> weights.round(3)                           # scores [1, 0] / sqrt(2)
    array([[0.67, 0.33]])
    >>> output.round(2)
    array([[13.3]])
    """
    queries, keys, values = check_attention_inputs(queries, keys, values)
    scale = check_scale(scale, d_k=queries.shape[-1])
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is named just below
        scores = scale * (queries @ np.swapaxes(keys, -1, -2))  # (..., seq_q, seq_k)
    check_scores_finite(scores, queries, keys)
    if mask is not None:
        scores = np.where(check_mask(mask, scores.shape), scores, -np.inf)  # masked: -inf
    weights = softmax(scores, axis=-1)  # (..., seq_q, seq_k), each row sums to 1
    output = weights @ values  # (..., seq_q, d_v)
    return output, weights


def dot_product_attention(queries, keys, values, *, mask=None):
    """Compute plain (unscaled) dot-product attention: ``softmax(Q Kᵀ) V``.

    The same as :func:`scaled_dot_product_attention` with ``scale=1``. With long vectors
    the raw scores are large, so the softmax is close to one-hot; notebook 03 explains why
    the Transformer divides the scores by ``sqrt(d_k)``.

    Parameters
    ----------
    queries : array_like of shape (..., seq_q, d_k)
    keys : array_like of shape (..., seq_k, d_k)
    values : array_like of shape (..., seq_k, d_v)
    mask : array_like of bool, broadcastable to (..., seq_q, seq_k), optional
        ``True`` where a query may attend to a key.

    Returns
    -------
    output : ndarray of shape (..., seq_q, d_v)
    weights : ndarray of shape (..., seq_q, seq_k)

    Examples
    --------
    >>> x = np.array([[1.0, 0.0], [0.0, 2.0]])    # two words, d_k = 2; Q = K = V = x
    >>> output, weights = dot_product_attention(x, x, x)
    >>> weights.round(3)                           # scores [[1, 0], [0, 4]]
    array([[0.731, 0.269],
           [0.018, 0.982]])
    >>> weights.sum(axis=-1)
    array([1., 1.])
    """
    return scaled_dot_product_attention(queries, keys, values, mask=mask, scale=1.0)


def attention_entropy(weights, axis=-1):
    """Return the entropy of each row of attention weights, in nats.

    0 means the query looks at a single key (one-hot); ``log(seq_k)`` means it spreads its
    attention evenly over all keys. Zero weights (masked keys) contribute nothing.

    Parameters
    ----------
    weights : array_like of shape (..., seq_q, seq_k)
        Rows of non-negative weights that sum to 1 along ``axis``.
    axis : int, default=-1
        The axis holding each distribution.

    Returns
    -------
    ndarray of shape (..., seq_q)
        One entropy per row.

    Raises
    ------
    TypeError
        If the weights are not real numbers.
    ValueError
        If some weight is negative or NaN, or a row does not sum to 1 (within 1e-6 for
        float64, 1e-4 for float32, 1e-2 for float16): the entropy of an unnormalised row
        means nothing.

    Examples
    --------
    >>> attention_entropy(np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])).round(4)
    array([0.    , 0.6931])
    >>> float(attention_entropy(np.full(4, 0.25)).round(4))    # log(4)
    1.3863
    """
    weights, axis = check_distributions(weights, axis)
    safe = np.where(weights > 0, weights, 1.0)  # log(1) = 0, so zero weights add nothing
    return 0.0 - np.sum(weights * np.log(safe), axis=axis)  # 0.0 - x turns -0.0 into 0.0


def causal_mask(seq_len):
    """Build a mask that lets each position attend only to itself and earlier positions.

    Parameters
    ----------
    seq_len : int
        Sequence length, at least 1.

    Returns
    -------
    ndarray of bool, shape (seq_len, seq_len)
        ``True`` on and below the diagonal (may attend), ``False`` above it.

    Raises
    ------
    TypeError
        If ``seq_len`` is not a whole number.
    ValueError
        If ``seq_len`` is below 1.

    Examples
    --------
    >>> causal_mask(3)
    array([[ True, False, False],
           [ True,  True, False],
           [ True,  True,  True]])
    """
    seq_len = whole_number(seq_len, "seq_len", minimum=1)
    return np.tril(np.ones((seq_len, seq_len), dtype=bool))  # (seq_len, seq_len)
