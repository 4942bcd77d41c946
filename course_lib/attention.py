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
"""

import math
import numbers

import numpy as np

__all__ = [
    "softmax",
    "dot_product_attention",
    "scaled_dot_product_attention",
    "attention_entropy",
    "softmax_jacobian",
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
        If ``x`` is not an array of real numbers (None, strings, complex numbers).
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
    x = _as_float_array(x, "softmax's input")
    if x.ndim == 0:
        raise ValueError("softmax needs an array with at least one axis, got a single number")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis={axis} is out of range for an input of shape {x.shape}")
    if x.shape[axis] == 0:
        raise ValueError(
            f"softmax got an empty axis={axis} (input of shape {x.shape}): there is nothing "
            "to normalise"
        )
    for bad, name in ((np.isnan(x), "NaN"), (np.isposinf(x), "+inf")):
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"softmax got {name} at index {where}; scores must be finite numbers "
                "(or -inf for a masked position)"
            )
    x_max = np.max(x, axis=axis, keepdims=True)
    if np.isneginf(x_max).any():
        where = tuple(int(i) for i in np.argwhere(np.isneginf(np.squeeze(x_max, axis)))[0])
        raise ValueError(
            f"softmax got a slice along axis={axis} whose entries are all -inf (every "
            f"position masked) at index {where} of the other axes: there is nothing to "
            "normalise"
        )
    exps = np.exp(x - x_max)  # the largest entry becomes exp(0) = 1, so no overflow
    return exps / np.sum(exps, axis=axis, keepdims=True)


def _as_float_array(a, name):
    """``a`` as a float array of at least float32 precision; TypeError if not numbers.

    Booleans and integers become float64; float16 becomes float32, so that sums over long
    rows (a softmax's denominator) neither overflow nor lose the small terms.
    """
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        what = type(a.item()).__name__ if a.dtype == object and a.size == 1 else a.dtype
        raise TypeError(f"{name} must be an array of real numbers, got {what}")
    if a.dtype.kind != "f":
        return a.astype(np.float64)
    if a.dtype.itemsize < 4:
        return a.astype(np.float32)
    return a


def _check_shapes(queries, keys, values):
    """Return the three inputs as float arrays after checking their shapes agree."""
    queries, keys, values = (
        _as_float_array(a, name)
        for a, name in ((queries, "queries"), (keys, "keys"), (values, "values"))
    )
    for name, a in (("queries", queries), ("keys", keys), ("values", values)):
        if a.ndim < 2:
            raise ValueError(
                f"{name} must have at least 2 dimensions (seq_len, features), got shape {a.shape}"
            )
    if queries.shape[-1] != keys.shape[-1]:
        raise ValueError(
            f"queries and keys must have the same last dimension d_k: queries has shape "
            f"{queries.shape} (d_k={queries.shape[-1]}), keys has shape {keys.shape} "
            f"(d_k={keys.shape[-1]})"
        )
    if keys.shape[-2] != values.shape[-2]:
        raise ValueError(
            f"keys and values must have the same sequence length seq_k (second-to-last "
            f"dimension): keys has shape {keys.shape} (seq_k={keys.shape[-2]}), values "
            f"has shape {values.shape} (seq_k={values.shape[-2]})"
        )
    try:
        np.broadcast_shapes(queries.shape[:-2], keys.shape[:-2], values.shape[:-2])
    except ValueError:
        raise ValueError(
            f"the batch dimensions do not broadcast: queries {queries.shape}, "
            f"keys {keys.shape}, values {values.shape}"
        ) from None
    if queries.shape[-1] == 0:
        raise ValueError(
            f"d_k is 0 (queries {queries.shape}, keys {keys.shape}): queries and keys "
            "need at least one feature to be compared"
        )
    if keys.shape[-2] == 0:
        raise ValueError(
            f"seq_k is 0 (keys {keys.shape}): there is no key to attend to, so the "
            "weights cannot sum to 1"
        )
    for name, a in (("queries", queries), ("keys", keys), ("values", values)):
        bad = ~np.isfinite(a)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{name} has a non-finite entry ({a[where]}) at index {where}")
    return queries, keys, values


def _check_scale(scale, d_k):
    """The number the scores are multiplied by: ``scale``, or ``1 / sqrt(d_k)`` if None."""
    if scale is None:
        return 1.0 / math.sqrt(d_k)
    if isinstance(scale, bool | np.bool_) or not isinstance(scale, numbers.Real):
        raise TypeError(f"scale must be a real number, got {type(scale).__name__} {scale!r}")
    if not math.isfinite(scale):
        raise ValueError(f"scale must be finite, got {scale}")
    return float(scale)


def _apply_mask(scores, mask):
    """Set the scores of masked positions to -inf; refuse rows with nothing to attend to."""
    if mask is None:
        return scores
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise ValueError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
    try:
        mask = np.broadcast_to(mask, scores.shape)
    except ValueError:
        raise ValueError(
            f"mask of shape {mask.shape} does not broadcast to the scores' shape "
            f"{scores.shape} (..., seq_q, seq_k)"
        ) from None
    empty = ~mask.any(axis=-1)  # (..., seq_q)
    if empty.any():
        where = tuple(int(i) for i in np.argwhere(empty)[0])
        raise ValueError(
            f"mask leaves query row {where[-1]} (index {where}) with no key to attend to; "
            "every row needs at least one True"
        )
    return np.where(mask, scores, -np.inf)


def scaled_dot_product_attention(queries, keys, values, *, mask=None, scale=None):
    """Scaled dot-product attention: ``softmax(scale * Q Kᵀ) V``.

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
    queries, keys, values = _check_shapes(queries, keys, values)
    scale = _check_scale(scale, queries.shape[-1])
    with np.errstate(over="ignore", invalid="ignore"):
        scores = scale * (queries @ np.swapaxes(keys, -1, -2))  # (..., seq_q, seq_k)
    if not np.isfinite(scores).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(scores))[0])
        raise ValueError(
            f"the scores overflowed: scale * (query . key) is {scores[where]} at index "
            f"{where}, beyond the range of {scores.dtype} (largest |entry|: queries "
            f"{np.abs(queries).max():.3g}, keys {np.abs(keys).max():.3g}); use smaller "
            "vectors or a smaller scale"
        )
    scores = _apply_mask(scores, mask)
    weights = softmax(scores, axis=-1)  # (..., seq_q, seq_k), normalised over the keys
    output = weights @ values  # (..., seq_q, d_v)
    return output, weights


def dot_product_attention(queries, keys, values, *, mask=None):
    """Plain (unscaled) dot-product attention: ``softmax(Q Kᵀ) V``.

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
    """Entropy of each row of attention weights, in nats.

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
    weights = np.asarray(weights)
    if weights.dtype.kind not in "biuf":
        raise TypeError(f"attention weights must be real numbers, got {weights.dtype}")
    tolerance = {2: 1e-2, 4: 1e-4}.get(weights.dtype.itemsize, 1e-6)  # float16/32/64
    weights = weights.astype(np.float64)
    if np.isnan(weights).any():
        raise ValueError("attention weights contain NaN")
    if (weights < 0).any():
        raise ValueError("attention weights must be non-negative")
    sums = np.sum(weights, axis=axis)
    off = np.abs(sums - 1.0) > tolerance
    if np.any(off):
        where = tuple(int(i) for i in np.argwhere(np.atleast_1d(off))[0])
        raise ValueError(
            f"attention weights must sum to 1 along axis={axis}: the row at index {where} "
            f"sums to {np.atleast_1d(sums)[where]:.6g} (normalise with softmax first)"
        )
    safe = np.where(weights > 0, weights, 1.0)  # log(1) = 0, so zero weights add nothing
    return 0.0 - np.sum(weights * np.log(safe), axis=axis)  # 0.0 - x turns -0.0 into 0.0


def softmax_jacobian(probs):
    """The Jacobian of the softmax at output ``probs``: ``diag(p) - p pᵀ``.

    Entry ``[i, j]`` is how much output ``i`` moves when input score ``j`` moves. When the
    softmax saturates (one probability near 1) every entry is near 0: the gradient that
    reaches the scores vanishes.

    Parameters
    ----------
    probs : array_like of shape (..., n)
        Softmax outputs (each row sums to 1).

    Returns
    -------
    ndarray of shape (..., n, n)

    Examples
    --------
    >>> softmax_jacobian(np.array([0.5, 0.5]))
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    >>> float(np.abs(softmax_jacobian(np.array([1.0, 0.0]))).max())    # saturated: no gradient
    0.0
    """
    probs = np.asarray(probs, dtype=np.float64)
    outer = probs[..., :, None] * probs[..., None, :]  # (..., n, n)
    return np.eye(probs.shape[-1]) * probs[..., None, :] - outer


def causal_mask(seq_len):
    """A mask that lets each position attend only to itself and earlier positions.

    Parameters
    ----------
    seq_len : int
        Sequence length, at least 1.

    Returns
    -------
    ndarray of bool, shape (seq_len, seq_len)
        ``True`` on and below the diagonal (may attend), ``False`` above it.

    Examples
    --------
    >>> causal_mask(3)
    array([[ True, False, False],
           [ True,  True, False],
           [ True,  True,  True]])
    """
    if int(seq_len) != seq_len or seq_len < 1:
        raise ValueError(f"seq_len must be a positive whole number, got {seq_len!r}")
    return np.tril(np.ones((int(seq_len), int(seq_len)), dtype=bool))
