"""Checkers for masks: attention that ignores padding (02), causal and padding masks (05)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_lib import attention
from course_lib.exercises._format import Memory, NotYet, close, kind_of, row_diff, tolerance_note
from course_lib.exercises._harness import (
    SEED,
    Exercise,
    call,
    compare,
    name,
    run_checker,
    unpack,
)
from course_lib.exercises._tripwire import FORBIDDEN
from course_lib.exercises.attention_checks import OVERFLOW

MASKED = Exercise(
    "check_masked_attention",
    "masked_attention",
    FORBIDDEN["attention"],
    "with numpy and course_lib's softmax (which stays allowed)",
)
CAUSAL = Exercise("check_causal_mask", "causal_mask", FORBIDDEN["causal_mask"])
PADDING = Exercise("check_padding_mask", "padding_mask", FORBIDDEN["padding_mask"])
# exp(x) is exactly 0.0 in float64 for x below about -745.13 (the smallest subnormal number
# is 2**-1074 = exp(-744.44); below half of it, exp rounds to 0).
UNDERFLOW = 1075 * math.log(2.0)

# --------------------------------------------------------------------------------------
# Attention that ignores padding (notebook 02)
# --------------------------------------------------------------------------------------
# The hints name the mistake, never the masking expression: notebook 02 asks the student to
# work out which score gives a padded word a weight of exactly 0.
_WHICH = "which score gives exp(score) = 0?"


def _fill_rule(lowest_max: float) -> str:
    """State what a fill value for blocked scores must meet, for these hidden cases."""
    return (
        "a padded weight is exactly 0 only when exp(fill − m) is 0 in float64, where m is the "
        f"largest real score of its row: that needs fill < m − {UNDERFLOW:.0f}. The hidden "
        f"rows have m as low as {lowest_max:.0f}, so a fill below {lowest_max - UNDERFLOW:.0f} "
        "passes them (a fill of -100 does not: exp(-100) is tiny but not 0)"
    )


def _masked_variants(queries, keys, values, keep) -> list[tuple[np.ndarray, str]]:
    d_k = queries.shape[-1]
    scores = queries @ keys.T / math.sqrt(d_k)  # (seq_q, seq_k)
    full = attention.softmax(scores)
    kept = full * keep  # the padded weights zeroed after the softmax
    renormalised = kept / kept.sum(axis=-1, keepdims=True)
    return [
        (full, f"padded keys still get weight: the mask was not applied; {_WHICH}"),
        (
            attention.softmax(scores * keep),
            "multiplying the scores by the mask makes padded scores 0, and exp(0) = 1 still "
            f"gives them weight; {_WHICH}",
        ),
        (
            kept,
            "you zeroed the padded weights after the softmax, so the rows no longer sum to 1; "
            "mask the scores before the softmax",
        ),
        (
            renormalised,
            "got NaN (0/0): you took the softmax of every score, zeroed the padded weights and "
            "divided by the new row sums; in a row whose largest score is a padded key's by "
            f"more than {UNDERFLOW:.0f}, every real weight underflows to exactly 0 in the "
            "softmax, so the new sum is 0 and 0/0 is NaN. Block the padded scores BEFORE the "
            "softmax, so they never compete with the real ones",
        ),
        (
            attention.softmax(np.where(keep, -np.inf, scores)),
            "the mask is inverted: keep is True for the real words; block the columns where "
            "keep is False",
        ),
        (
            attention.softmax(np.where(keep, queries @ keys.T, -np.inf)),
            "the scores are not divided by √d_k (d_k is the length of each query and key)",
        ),
    ]


def _masked_cases(rng) -> list[tuple[np.ndarray, ...]]:
    """Return (queries, keys, values, keep) for each hidden case."""
    seq_q, seq_k, d_k, d_v = 3, 5, 4, 2
    keeps = [
        np.array([True, True, True, False, False]),
        np.array([True, False, True, True, False]),  # padding not only at the end
        np.array([True, True, True, True, True]),  # nothing to mask
        # scores that differ by thousands; in row 0 the padded key's score is the largest by
        # about 3000, so "softmax, zero the padding, renormalise" meets 0/0 there
        np.array([False, True, True, True, True]),
    ]
    cases = []
    for i, keep in enumerate(keeps):
        size = 40.0 if i == 3 else 1.0
        queries = size * rng.normal(size=(seq_q, d_k))
        keys = size * rng.normal(size=(seq_k, d_k))
        cases.append((queries, keys, rng.normal(size=(seq_k, d_v)), keep))
    return cases


def check_masked_attention(fn: Callable) -> bool | None:
    """Check ``fn(queries, keys, values, keep)``: scaled attention that ignores padding.

    ``keep`` is a boolean array of shape (seq_k,): True for a real word, False for padding
    that no query may look at. The weights are the scaled attention weights with the padded
    columns blocked before the softmax: each row sums to 1 and padded columns are exactly
    0 in float64. One hidden case has scores that differ by thousands. course_lib's own
    attention functions are switched off while ``fn`` runs (its softmax is not).

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

    >>> def masked_attention(queries, keys, values, keep):
    ...     raise NotImplementedError
    >>> check_masked_attention(masked_attention)
    ⏳ not attempted: the stub still raises NotImplementedError; replace that line with your code
    """

    def body() -> str:
        cases = _masked_cases(np.random.default_rng(SEED + 12))
        lowest_max = min(
            float((q @ k.T / math.sqrt(q.shape[-1]))[:, keep].max(axis=-1).min())
            for q, k, _, keep in cases
        )
        memory = Memory()
        for queries, keys, values, keep in cases:
            case = f"keep = {keep.astype(int).tolist()}"
            result = call(fn, queries, keys, values, keep, case=case)
            output, weights = unpack(result, ("output", "weights"))
            seq_q, seq_k = queries.shape[0], keys.shape[0]
            expected_out, expected_w = attention.scaled_dot_product_attention(
                queries, keys, values, mask=np.broadcast_to(keep, (seq_q, seq_k))
            )
            if close(output, expected_w) and close(weights, expected_out):
                raise NotYet("you returned (weights, output); return them as (output, weights)")

            def differ(got, keep=keep, case=case, expected_w=expected_w, queries=queries):
                padded = got[:, ~keep]  # (seq_q, number of padded keys)
                if np.any(~np.isfinite(got)):
                    large = float(np.abs(queries).max()) > 10
                    return (
                        OVERFLOW if large else f"got NaN or inf in the weights for {case}; "
                    ) + ("" if large else _WHICH)
                if np.any(padded != 0):
                    largest = float(np.abs(padded).max())
                    return f"for {case}, padded columns get weights up to {largest:.2g}; " + (
                        _fill_rule(lowest_max) if largest < 1e-3 else _WHICH
                    )
                return f"for {case}, {row_diff(expected_w, got)}" + tolerance_note(expected_w, got)

            weights = compare(
                weights,
                expected_w,
                what="weights (the second returned value)",
                case=case,
                memory=memory,
                variants=lambda q=queries, k=keys, v=values, m=keep, c=case: [
                    (w, f"{hint} (for {c})") for w, hint in _masked_variants(q, k, v, m)
                ],
                wrong_shape=lambda shape, e=expected_w: (
                    f"weights should have shape (seq_q, seq_k) = {e.shape}, got {shape}"
                ),
                differ=differ,
            )
            if np.any(weights[:, ~keep] != 0):
                raise NotYet(differ(weights))
            compare(
                output,
                expected_out,
                what="output (the first returned value)",
                case=case,
                differ=lambda got, e=expected_out: (
                    "weights are right but the output is not the weighted average of the "
                    f"values (weights times values): {row_diff(e, got)}"
                ),
            )
        return (
            f"{name(fn)} gives padded words exactly 0 weight and rows that sum to 1, also for "
            "scores that differ by thousands"
        )

    return run_checker(MASKED, fn, body)


# --------------------------------------------------------------------------------------
# Causal mask and padding mask (notebook 05)
# --------------------------------------------------------------------------------------
def _as_mask(value, case: str) -> np.ndarray:
    """Return a returned mask as a bool array; NotYet for anything but True/False (or 0/1)."""
    got = np.asarray(value) if isinstance(value, np.ndarray | list | tuple | bool) else None
    if got is None or got.dtype.kind not in "biuf" or got.dtype == object:
        raise NotYet(f"for {case} expected an array of True/False, got {kind_of(value)}")
    if got.dtype != bool:
        if np.all(np.isin(got, (0.0, -np.inf))) and np.any(got == -np.inf):
            raise NotYet(
                "that is an additive mask (0 where allowed, -inf where blocked); this exercise "
                "asks for True where a word may attend"
            )
        if not np.all(np.isin(got, (0, 1))):
            raise NotYet(f"a mask holds True/False; got the values {np.unique(got)[:4].tolist()}")
    return got


def check_causal_mask(fn: Callable) -> bool | None:
    """Check ``fn(seq_len)``: a causal mask, True where a word may attend.

    Word ``i`` may attend to itself and the words before it and to no word after it.
    Booleans are what :func:`course_lib.attention.scaled_dot_product_attention` takes; an
    int or float array of 0 and 1 is accepted too. course_lib's own ``causal_mask`` is
    switched off while ``fn`` runs.

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
    The example shows no solution: notebook 05 asks the student to write it
    (``notebooks/solutions`` has one).

    >>> import numpy as np
    >>> check_causal_mask(lambda n: np.ones((n, n), dtype=bool))  # doctest: +ELLIPSIS
    ❌ not yet: for seq_len=4, row 1 should be [True, True, False, False], got [True, True, ...
    False
    """

    def body() -> str:
        for seq_len in (4, 1, 7):
            case = f"seq_len={seq_len}"
            got = _as_mask(call(fn, seq_len, case=case), case)
            expected = attention.causal_mask(seq_len)
            if got.shape != expected.shape:
                raise NotYet(f"for {case} expected shape {expected.shape}, got {got.shape}")
            got = got == 1
            if np.array_equal(got, expected):
                continue
            if np.array_equal(got, expected.T):
                raise NotYet(
                    "True is above the diagonal; a word may attend to itself and the words "
                    "BEFORE it, so True goes on and below the diagonal"
                )
            if np.array_equal(got, ~expected):
                raise NotYet(
                    "you marked the blocked positions; in this course True means "
                    "'may attend': invert it"
                )
            if np.array_equal(got, expected & ~np.eye(seq_len, dtype=bool)):
                raise NotYet("the diagonal must be True: each word may attend to itself")
            row = min(1, seq_len - 1)
            raise NotYet(
                f"for {case}, row {row} should be {expected[row].tolist()}, got {got[row].tolist()}"
            )
        return f"{name(fn)}(seq_len) lets each word attend to itself and the words before it"

    return run_checker(CAUSAL, fn, body)


_PADDING_CASES = (([3, 5, 2], 5), ([4, 1, 3, 2], 4), ([6, 6], 6), ([1, 1, 1], 3), ([2], 3))


def _padding_hint(got: np.ndarray, lengths: np.ndarray, seq_len: int) -> str:
    """Name the mistake behind a wrong (batch, 1, seq_len) mask, or ''."""
    j = np.arange(seq_len)
    wrong = [
        (j >= lengths[:, None], "the mask is inverted: True is for the real words"),
        (j <= lengths[:, None], "off by one: a sentence of length L has real words 0 to L-1"),
        (j < lengths[:, None] - 1, "off by one: a sentence of length L has real words 0 to L-1"),
        (np.ones((len(lengths), seq_len), bool), "every word is kept: use the lengths"),
        (
            np.broadcast_to(j < lengths[0], (len(lengths), seq_len)),
            "every sentence got the first sentence's length; each row uses its own length",
        ),
    ]
    for mask, hint in wrong:
        if np.array_equal(got[:, 0, :], mask):
            return hint
    return ""


def check_padding_mask(fn: Callable) -> bool | None:
    """Check ``fn(lengths, seq_len)``: the keys each sentence of a padded batch may attend to.

    ``lengths`` is an int array of shape (batch,), each entry in 1..seq_len: sentence ``b``
    has ``lengths[b]`` real words followed by padding. The mask is boolean, True where a
    query may attend, of shape (batch, 1, seq_len): the axis of length 1 broadcasts over
    the queries, so it can be passed as ``mask=`` to
    :func:`course_lib.attention.scaled_dot_product_attention` with queries and keys of shape
    (batch, seq_len, d_k). A (batch, seq_len, seq_len) mask whose every row is that row is
    accepted too. One hidden case has batch == seq_len, where a (batch, seq_len) mask
    broadcasts without an error and blocks the wrong words.

    Parameters
    ----------
    fn : callable
        ``fn(lengths, seq_len) -> keep``, ``lengths`` an int ndarray of shape (batch,).

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    The example shows no solution: notebook 05 asks the student to write it
    (``notebooks/solutions`` has one).

    >>> import numpy as np
    >>> check_padding_mask(lambda lengths, seq_len: np.ones((len(lengths), 1, seq_len), bool))
    ❌ not yet: every word is kept: use the lengths (for lengths [3, 5, 2], seq_len 5)
    False
    """

    def body() -> str:
        for lengths_list, seq_len in _PADDING_CASES:
            lengths = np.array(lengths_list)
            case = f"lengths {lengths_list}, seq_len {seq_len}"
            value = call(fn, lengths, seq_len, case=case)
            got = _as_mask(value, case)
            batch = len(lengths)
            expected = (np.arange(seq_len) < lengths[:, None])[:, None, :]  # (batch, 1, seq_len)
            if got.dtype != bool:
                raise NotYet(
                    f"your mask holds {got.dtype} 0s and 1s; course_lib's attention takes a "
                    "boolean mask (True = may attend): build it from a comparison, which gives "
                    "True/False"
                )
            if got.shape == (batch, seq_len):
                raise NotYet(
                    f"for {case} the mask has shape (batch, seq_len) = {got.shape}: against "
                    "scores of shape (batch, seq_q, seq_k) numpy lines up its batch axis with "
                    "the queries axis (it aligns the last axes); give the queries an axis of "
                    "length 1"
                )
            if got.shape == (batch, seq_len, seq_len):
                if np.array_equal(got, np.broadcast_to(expected, got.shape)):
                    continue
                if np.array_equal(got, expected & np.swapaxes(expected, -1, -2)):
                    raise NotYet(
                        "you also blocked the padded QUERIES: their rows are left with no key "
                        "at all (a fully masked row); mask only the keys here"
                    )
                if np.array_equal(got, np.broadcast_to(expected, got.shape)):
                    continue
                got = got[:, :1, :]
            if got.shape != (batch, 1, seq_len):
                raise NotYet(
                    f"for {case} expected shape (batch, 1, seq_len) = {(batch, 1, seq_len)}, "
                    f"got {got.shape}"
                )
            if np.array_equal(got, expected):
                continue
            hint = _padding_hint(got, lengths, seq_len)
            b = int(np.flatnonzero(np.any(got != expected, axis=(1, 2)))[0])
            raise NotYet(
                (f"{hint} (for {case})" if hint else "")
                or f"for {case}, sentence {b} (length {lengths[b]}) should be "
                f"{expected[b, 0].tolist()}, got {got[b, 0].tolist()}"
            )
        return (
            f"{name(fn)} keeps each sentence's real words and blocks its padding, with an axis "
            "that broadcasts over the queries"
        )

    return run_checker(PADDING, fn, body)


__all__ = ["check_masked_attention", "check_causal_mask", "check_padding_mask"]
