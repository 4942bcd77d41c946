"""Checkers for masks: attention that ignores padding (notebook 02), a causal mask (04)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_lib import attention
from course_lib.exercises._harness import (
    SEED,
    STUB_LEFT,
    Memory,
    NotYet,
    as_array,
    call,
    close,
    name,
    require_callable,
    row_diff,
    run_checker,
    tolerance_note,
    unpack,
)
from course_lib.exercises.attention_checks import OVERFLOW

# --------------------------------------------------------------------------------------
# Attention that ignores padding (notebook 02)
# --------------------------------------------------------------------------------------
# The hints name the mistake, never the masking expression: notebook 02 asks the student to
# work out which score gives a padded word a weight of exactly 0.
_WHICH = "which score gives exp(score) = 0?"
_EXACTLY_0 = f"they must be exactly 0, not just small (exp(-100) is tiny but not 0): {_WHICH}"


def _masked_variants(queries, keys, values, keep) -> list[tuple[np.ndarray, str]]:
    d_k = queries.shape[-1]
    scores = queries @ keys.T / math.sqrt(d_k)  # (seq_q, seq_k)
    full = attention.softmax(scores)
    out = [
        (full, f"padded keys still get weight: the mask was not applied; {_WHICH}"),
        (
            attention.softmax(scores * keep),
            "multiplying the scores by the mask makes padded scores 0, and exp(0) = 1 still "
            f"gives them weight; {_WHICH}",
        ),
        (
            full * keep,
            "you zeroed the padded weights after the softmax, so the rows no longer sum to 1; "
            "mask the scores before the softmax",
        ),
        (
            attention.softmax(np.where(keep, -np.inf, scores)),
            "the mask is inverted: keep is True for the real words; block the columns where "
            "keep is False",
        ),
        (
            attention.softmax(np.where(keep, queries @ keys.T, -np.inf)),
            "the scores are not divided by √d_k (d_k = queries.shape[-1])",
        ),
    ]
    return out


def check_masked_attention(fn: Callable) -> bool | None:
    """Check ``fn(queries, keys, values, keep)``: scaled attention that ignores padding.

    ``keep`` is a boolean array of shape (seq_k,): True for a real word, False for padding
    that no query may look at. The weights are ``softmax(queries @ keysᵀ / √d_k)`` with the
    padded columns blocked before the softmax: each row sums to 1 and padded columns are
    exactly 0.

    Parameters
    ----------
    fn : callable
        ``fn(queries, keys, values, keep) -> (output, weights)`` with queries (seq_q, d_k),
        keys (seq_k, d_k), values (seq_k, d_v), keep (seq_k,) of bool.

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    The example shows no solution: notebook 02 asks the student to work out which score
    gives a padded word exactly 0 weight (``notebooks/solutions`` has one).

    >>> from course_lib import scaled_dot_product_attention
    >>> def ignores_keep(queries, keys, values, keep):
    ...     return scaled_dot_product_attention(queries, keys, values)
    >>> check_masked_attention(ignores_keep)  # doctest: +NORMALIZE_WHITESPACE
    ❌ not yet: padded keys still get weight: the mask was not applied; which score gives
    exp(score) = 0? (for keep = [1, 1, 1, 0, 0])
    False
    """

    def body() -> str:
        require_callable(fn, "check_masked_attention", "masked_attention")
        rng = np.random.default_rng(SEED + 12)
        seq_q, seq_k, d_k, d_v = 3, 5, 4, 2
        keeps = [
            np.array([True, True, True, False, False]),
            np.array([True, False, True, True, False]),  # padding not only at the end
            np.array([True, True, True, True, True]),  # nothing to mask
            np.array([False, True, True, True, True]),
        ]
        memory = Memory()
        for i, keep in enumerate(keeps):
            size = 40.0 if i == 3 else 1.0  # the last case: scores that differ by thousands
            queries = size * rng.normal(size=(seq_q, d_k))
            keys = size * rng.normal(size=(seq_k, d_k))
            values = rng.normal(size=(seq_k, d_v))
            case = f"keep = {keep.astype(int).tolist()}"
            result = call(fn, queries, keys, values, keep, case=case)
            output, weights = unpack(result, ("output", "weights"))
            output = as_array(output, "output (the first returned value)")
            weights = as_array(weights, "weights (the second returned value)")
            expected_out, expected_w = attention.scaled_dot_product_attention(
                queries, keys, values, mask=np.broadcast_to(keep, (seq_q, seq_k))
            )
            if close(output, expected_w) and close(weights, expected_out):
                raise NotYet("you returned (weights, output); return them as (output, weights)")
            if weights.shape != expected_w.shape:
                raise NotYet(
                    f"weights should have shape (seq_q, seq_k) = {expected_w.shape}, got "
                    f"{weights.shape}"
                )
            padded = weights[:, ~keep]  # (seq_q, number of padded keys)
            if close(weights, expected_w) and np.any(padded != 0):
                raise NotYet(
                    f"for {case}, padded columns get weights as large as "
                    f"{np.abs(padded).max():.2g}; {_EXACTLY_0}"
                )
            if not close(weights, expected_w):
                memory.check(weights, expected_w)
                for variant, hint in _masked_variants(queries, keys, values, keep):
                    if close(weights, variant):
                        raise NotYet(hint + f" (for {case})")
                if np.any(~np.isfinite(weights)):
                    raise NotYet(OVERFLOW)
                if np.any(padded != 0):
                    raise NotYet(
                        f"for {case}, padded columns get weights as large as "
                        f"{np.abs(padded).max():.2g}; {_EXACTLY_0}"
                    )
                raise NotYet(
                    f"for {case}, {row_diff(expected_w, weights)}"
                    + tolerance_note(expected_w, weights)
                )
            if not close(output, expected_out):
                raise NotYet(
                    "weights are right but the output is not weights @ values: "
                    + row_diff(expected_out, output)
                )
            memory.add(weights, expected_w)
        return (
            f"{name(fn)} gives padded words exactly 0 weight and rows that sum to 1, also for "
            "scores that differ by thousands"
        )

    return run_checker(body, STUB_LEFT)


# --------------------------------------------------------------------------------------
# Causal mask (notebook 04)
# --------------------------------------------------------------------------------------
def check_causal_mask(fn: Callable) -> bool | None:
    """Check ``fn(seq_len)``: a causal mask, True (or 1) where a word may attend.

    Word ``i`` may attend to itself and the words before it, so the mask is True on and
    below the diagonal: ``mask[i, j] = j <= i``. Booleans are what
    :func:`course_lib.attention.scaled_dot_product_attention` takes; a float or int array
    of 0 and 1 (``np.tril(np.ones((n, n)))``) is accepted too.

    Parameters
    ----------
    fn : callable
        ``fn(seq_len) -> mask``, an ndarray of shape (seq_len, seq_len).

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    >>> import numpy as np
    >>> check_causal_mask(lambda n: np.tril(np.ones((n, n))))
    ✅ correct: <lambda>(seq_len) lets each word attend to itself and the words before it
    True
    >>> def above(n):
    ...     return np.triu(np.ones((n, n), dtype=bool))
    >>> check_causal_mask(above)  # doctest: +NORMALIZE_WHITESPACE
    ❌ not yet: True is above the diagonal; a word may attend to itself and the words BEFORE it,
    so True goes on and below the diagonal (np.tril)
    False
    """

    def body() -> str:
        require_callable(fn, "check_causal_mask", "causal_mask")
        for seq_len in (4, 1, 7):
            got = np.asarray(call(fn, seq_len, case=f"seq_len={seq_len}"))
            expected = attention.causal_mask(seq_len)
            if got.shape != expected.shape:
                raise NotYet(
                    f"for seq_len={seq_len} expected shape {expected.shape}, got {got.shape}"
                )
            if got.dtype != bool:
                if not np.issubdtype(got.dtype, np.number):
                    raise NotYet(f"expected booleans (or 0 and 1), got dtype {got.dtype}")
                if np.all(np.isin(got, (0.0, -np.inf))) and np.array_equal(got == 0, expected):
                    raise NotYet(
                        "that is an additive mask (0 where allowed, -inf where blocked); this "
                        "exercise asks for True (or 1) where a word may attend"
                    )
                if not np.all(np.isin(got, (0, 1))):
                    raise NotYet(
                        "a mask holds True/False (or 1/0); got the values "
                        f"{np.unique(got)[:4].tolist()}"
                    )
                got = got == 1
            if np.array_equal(got, expected):
                continue
            if np.array_equal(got, expected.T):
                raise NotYet(
                    "True is above the diagonal; a word may attend to itself and the words "
                    "BEFORE it, so True goes on and below the diagonal (np.tril)"
                )
            if np.array_equal(got, ~expected):
                raise NotYet(
                    "you marked the blocked positions; in this course True means "
                    "'may attend': invert it with ~"
                )
            if np.array_equal(got, np.tril(np.ones_like(expected), k=-1)):
                raise NotYet("the diagonal must be True: each word may attend to itself")
            row = min(1, seq_len - 1)
            raise NotYet(
                f"for seq_len={seq_len}, row {row} should be {expected[row].tolist()}, "
                f"got {got[row].tolist()}"
            )
        return f"{name(fn)}(seq_len) lets each word attend to itself and the words before it"

    return run_checker(body, STUB_LEFT)


__all__ = ["check_masked_attention", "check_causal_mask"]
