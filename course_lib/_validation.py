"""Checks of the inputs of course_lib's maths, kept apart from the maths.

As scikit-learn's ``utils.validation``: each public function of :mod:`course_lib.attention`
and :mod:`course_lib.training` calls one check here and then reads as its formula. Every
check returns its inputs in the form the formula needs (float arrays, a whole number) or
raises a ``TypeError`` (wrong kind) or ``ValueError`` (wrong value) whose message names the
input, its shape and, for an array, the first bad index.
"""

import math
import numbers

import numpy as np


def first_index(bad):
    """Return the index of the first True entry of the boolean array ``bad``, as ints."""
    return tuple(int(i) for i in np.argwhere(bad)[0])


def whole_number(value, name, minimum):
    """Return ``value`` as an int if it is a whole number >= ``minimum``; else a clear error."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def as_float_array(a, name):
    """Return ``a`` as a float array of at least float32 precision; TypeError if not numbers.

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


def check_axis(axis, a, what):
    """Return ``axis`` if it is an int naming an axis of the array ``a``."""
    if isinstance(axis, bool | np.bool_) or not isinstance(axis, numbers.Integral):
        raise TypeError(
            f"axis must be a whole number naming one axis (-1 for the rows of attention "
            f"scores), got {axis!r}; for {what} over every entry, reshape to one row first"
        )
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"axis={axis} is out of range for an input of shape {a.shape}")
    return int(axis)


def check_scores(x, axis):
    """Return ``(x, axis)`` checked for a softmax: finite or ``-inf``, something to normalise."""
    x = as_float_array(x, "softmax's input")
    if x.ndim == 0:
        raise ValueError("softmax needs an array with at least one axis, got a single number")
    axis = check_axis(axis, x, "one softmax")
    if x.shape[axis] == 0:
        raise ValueError(
            f"softmax got an empty axis={axis} (input of shape {x.shape}): there is nothing "
            "to normalise"
        )
    for bad, name in ((np.isnan(x), "NaN"), (np.isposinf(x), "+inf")):
        if bad.any():
            raise ValueError(
                f"softmax got {name} at index {first_index(bad)}; scores must be finite "
                "numbers (or -inf for a masked position)"
            )
    all_masked = np.isneginf(x).all(axis=axis)
    if all_masked.any():
        raise ValueError(
            f"softmax got a slice along axis={axis} whose entries are all -inf (every "
            f"position masked) at index {first_index(all_masked)} of the other axes: there "
            "is nothing to normalise"
        )
    return x, axis


def check_attention_inputs(queries, keys, values):
    """Return queries, keys and values as float arrays after checking that their shapes agree."""
    queries, keys, values = (
        as_float_array(a, name)
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
            where = first_index(bad)
            raise ValueError(f"{name} has a non-finite entry ({a[where]}) at index {where}")
    return queries, keys, values


def check_scale(scale, d_k):
    """Return the number the scores are multiplied by: ``scale``, or ``1 / sqrt(d_k)``."""
    if scale is None:
        return 1.0 / math.sqrt(d_k)
    if isinstance(scale, bool | np.bool_) or not isinstance(scale, numbers.Real):
        raise TypeError(f"scale must be a real number, got {type(scale).__name__} {scale!r}")
    if not math.isfinite(scale):
        raise ValueError(f"scale must be finite, got {scale}")
    return float(scale)


def check_scores_finite(scores, queries, keys):
    """Raise a ValueError if ``scale * Q Kᵀ`` overflowed (an inf is not a mask)."""
    bad = ~np.isfinite(scores)
    if bad.any():
        where = first_index(bad)
        raise ValueError(
            f"the scores overflowed: scale * (query . key) is {scores[where]} at index "
            f"{where}, beyond the range of {scores.dtype} (largest |entry|: queries "
            f"{np.abs(queries).max():.3g}, keys {np.abs(keys).max():.3g}); use smaller "
            "vectors or a smaller scale"
        )


def check_mask(mask, shape):
    """Return ``mask`` broadcast to the scores' ``shape``; every row must keep a key."""
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise ValueError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
    try:
        mask = np.broadcast_to(mask, shape)
    except ValueError:
        raise ValueError(
            f"mask of shape {mask.shape} does not broadcast to the scores' shape "
            f"{shape} (..., seq_q, seq_k)"
        ) from None
    empty = ~mask.any(axis=-1)  # (..., seq_q)
    if empty.any():
        where = first_index(empty)
        raise ValueError(
            f"mask leaves query row {where[-1]} (index {where}) with no key to attend to; "
            "every row needs at least one True"
        )
    return mask


def check_distributions(weights, axis):
    """Return ``(weights, axis)``, weights as float64 rows that are probability distributions.

    A row must sum to 1 within the rounding of its dtype: 1e-6 for float64, 1e-4 for
    float32, 1e-2 for float16.
    """
    weights = np.asarray(weights)
    if weights.dtype.kind not in "biuf":
        raise TypeError(f"attention weights must be real numbers, got {weights.dtype}")
    tolerance = {2: 1e-2, 4: 1e-4}.get(weights.dtype.itemsize, 1e-6)  # float16/32/64
    weights = weights.astype(np.float64)
    axis = check_axis(axis, weights, "one entropy")
    if np.isnan(weights).any():
        raise ValueError("attention weights contain NaN")
    if (weights < 0).any():
        raise ValueError("attention weights must be non-negative")
    sums = np.atleast_1d(np.sum(weights, axis=axis))
    off = np.abs(sums - 1.0) > tolerance
    if off.any():
        where = first_index(off)
        raise ValueError(
            f"attention weights must sum to 1 along axis={axis}: the row at index {where} "
            f"sums to {sums[where]:.6g} (normalise with softmax first)"
        )
    return weights, axis


# ------------------------------------------------------------------- course_lib.training


def _indices(values, name):
    """Return word indices as a 1-d intp array; TypeError for 0.7, True or "2"."""
    array = np.asarray(values)
    if array.size and (array.dtype.kind not in "iu"):
        raise TypeError(f"{name} must be whole numbers (word indices), got {array.tolist()!r}")
    return array.astype(np.intp).reshape(-1)  # (n_pairs,)


def check_training_example(words, x, rows, targets):
    """Return x, rows and targets of a TrainingExample as arrays, after checking them."""
    x = np.asarray(x, dtype=np.float64)
    rows, targets = _indices(rows, "rows"), _indices(targets, "targets")
    if x.ndim != 2:
        raise ValueError(f"x must have shape (seq_len, d), got shape {x.shape}")
    if x.shape[1] == 0:
        raise ValueError(f"x has shape {x.shape}: each word needs at least one number (d >= 1)")
    if rows.shape != targets.shape:
        raise ValueError(
            f"rows and targets must have the same shape: rows {rows.shape}, targets {targets.shape}"
        )
    seq_len = x.shape[0]
    for name, idx in (("rows", rows), ("targets", targets)):
        if idx.size and (idx.min() < 0 or idx.max() >= seq_len):
            raise ValueError(
                f"{name} must be word indices in 0..{seq_len - 1} for x of shape "
                f"{x.shape}, got {idx.tolist()}"
            )
    if len(words) != seq_len:
        raise ValueError(
            f"words has {len(words)} entries but x has shape {x.shape} (seq_len={seq_len})"
        )
    return x, rows, targets


def check_projections(w_q, w_k, examples):
    """Return w_q and w_k as float arrays and the number of pairs, after checking shapes."""
    w_q = np.asarray(w_q, dtype=np.float64)
    w_k = np.asarray(w_k, dtype=np.float64)
    if w_q.ndim != 2 or w_q.shape != w_k.shape:
        raise ValueError(
            f"w_q and w_k must both have shape (d, d_k): w_q has shape {w_q.shape}, "
            f"w_k has shape {w_k.shape}"
        )
    if w_q.shape[1] == 0:
        raise ValueError(f"d_k is 0 (w_q has shape {w_q.shape}): queries need a feature")
    for ex in examples:
        if ex.x.shape[1] != w_q.shape[0]:
            raise ValueError(
                f"x has shape {ex.x.shape} (d={ex.x.shape[1]}) but w_q has shape "
                f"{w_q.shape} (d={w_q.shape[0]})"
            )
    n_pairs = sum(len(ex.rows) for ex in examples)
    if n_pairs == 0:
        raise ValueError("loss_and_grads needs at least one (row, target) pair")
    return w_q, w_k, n_pairs


def check_training(examples, steps, learning_rate):
    """Return ``steps`` as an int after checking the arguments of train_projections."""
    if not examples:
        raise ValueError("examples is empty: give at least one TrainingExample to train on")
    steps = whole_number(steps, "steps", minimum=0)
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise TypeError(f"learning_rate must be a number, got {learning_rate!r}")
    if not (math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a finite number above 0, got {learning_rate}")
    return steps
