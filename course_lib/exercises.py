"""Checkers for the course exercises.

Each ``check_...`` function runs the student's function on hidden cases (random but seeded,
including very large scores and batched inputs where that makes sense), compares the result
with the reference in :mod:`course_lib.attention`, and prints exactly one line:

- ``✅ correct: ...`` and returns ``True``;
- ``❌ not yet: <a specific hint>`` and returns ``False``;
- ``⏳ not attempted: ...`` and returns ``None``, when the stub still raises
  ``NotImplementedError``.

A checker never raises: an exception from the student's code is reported in the printed line
(its type and message), so "Run all" in a notebook always reaches the end.

``check_prediction(question, answer)`` is for predict-then-reveal exercises: the true answer
is computed on the spot (from the bundled embeddings and :mod:`course_lib.attention`), never
written down in this file.

Only numpy and :mod:`course_lib.attention` are imported with this module;
:mod:`course_lib.embeddings` (and with it gensim) is imported inside the questions of
``check_prediction`` that need word vectors.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from course_lib import attention

__all__ = [
    "check_cosine_similarity",
    "check_softmax",
    "check_dot_product_attention",
    "check_scaled_attention",
    "check_causal_mask",
    "check_projections",
    "check_prediction",
    "QUESTIONS",
]

CORRECT = "✅ correct: "
NOT_YET = "❌ not yet: "
NOT_ATTEMPTED = "⏳ not attempted: "

# Hidden cases are random but reproducible; a fixed seed that the notebooks do not use.
_SEED = 20240607
# Relative tolerance by the precision of the student's answer: float64 must be close; a
# float32 or float16 answer is accepted when it is as close as its precision allows.
_RTOL = {8: 1e-6, 4: 2e-3, 2: 2e-2}
_ATOL = {8: 1e-9, 4: 1e-6, 2: 1e-3}


# --------------------------------------------------------------------------------------
# Machinery shared by all checkers
# --------------------------------------------------------------------------------------
class _NotYet(Exception):
    """Stops a check at the first problem found; the message is the hint."""


class _NotAttempted(Exception):
    """The student's function raised NotImplementedError (the stub is untouched)."""


class _StudentError(Exception):
    """The student's function raised; ``hint`` is added after its type and message."""

    def __init__(self, exc: Exception, hint: str = ""):
        super().__init__(str(exc))
        self.exc = exc
        self.hint = hint


def _one_line(text: object, limit: int = 160) -> str:
    """Squeeze ``text`` into a single line of at most ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _name(fn: object) -> str:
    return getattr(fn, "__name__", "your function")


def _fmt(values, limit: int = 4, decimals: int = 2) -> str:
    """``[0.2113, 0.3498, ...]`` -> ``"0.21, 0.35, ..."`` (at most ``limit`` numbers)."""
    flat = np.asarray(values, dtype=float).ravel()
    text = ", ".join(f"{v:.{decimals}f}" for v in flat[:limit])
    return text + (", ..." if flat.size > limit else "")


def _vec(values, limit: int = 4, decimals: int = 2) -> str:
    return "[" + _fmt(values, limit, decimals) + "]"


def _row_diff(expected: np.ndarray, got: np.ndarray) -> str:
    """``"row 2 should be [...], got [...]"`` for the first row that differs, with enough
    decimals to show the difference."""
    flat_exp = expected.reshape(-1, expected.shape[-1])
    flat_got = got.reshape(-1, got.shape[-1])
    bad = [i for i in range(len(flat_exp)) if not _close(flat_got[i], flat_exp[i])] or [0]
    i = bad[0]
    for decimals in (2, 4, 6, 8):
        want, have = _vec(flat_exp[i], 4, decimals), _vec(flat_got[i], 4, decimals)
        if want != have:
            break
    return f"row {i} should be {want}, got {have}"


def _call(fn: Callable, *args, hint: str = ""):
    """Call the student's ``fn`` on copies of ``args``; warnings from numpy are silenced."""
    copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = fn(*copies)
    except NotImplementedError as exc:
        raise _NotAttempted() from exc
    except Exception as exc:  # the student's code may raise anything; report it, never raise
        raise _StudentError(exc, hint) from exc
    for before, after in zip(args, copies, strict=True):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after, equal_nan=True):
            raise _NotYet(
                f"{_name(fn)} changed its input array in place; work on a new array "
                "(write `x = x - m` rather than `x -= m`)"
            )
    return result


def _as_array(value, what: str) -> np.ndarray:
    """Turn a returned value into a float array (float32 stays float32), or stop with a hint."""
    if value is None:
        raise _NotYet(f"{what} is None: did you forget `return`?")
    try:
        array = np.asarray(value)
        if not (np.issubdtype(array.dtype, np.floating) and array.dtype.itemsize in _RTOL):
            array = array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise _NotYet(
            f"{what} should be a numpy array, got {type(value).__name__} ({_one_line(exc, 60)})"
        ) from exc
    return array


def _precision_note(array: np.ndarray) -> str:
    if array.dtype.itemsize < 8:
        return f" (your result is {array.dtype}: compute in float64, numpy's default)"
    return ""


def _has_nan(array: np.ndarray) -> bool:
    return not np.all(np.isfinite(array))


def _tolerance(*arrays: np.ndarray) -> tuple[float, float]:
    """(rtol, atol) for comparing ``arrays``: set by the least precise float among them."""
    size = min((a.dtype.itemsize for a in arrays if a.dtype.itemsize in _RTOL), default=8)
    return _RTOL[size], _ATOL[size]


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    rtol, atol = _tolerance(np.asarray(a), np.asarray(b))
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _matmul_hint(exc: Exception, hint: str) -> str:
    """Return ``hint`` when ``exc`` looks like a shape mismatch in a product, else ''."""
    text = str(exc).lower()
    words = ("matmul", "aligned", "mismatch", "broadcast", "shapes", "dimension")
    return hint if isinstance(exc, ValueError) and any(w in text for w in words) else ""


def _run_checker(body: Callable[[], str], not_attempted: str) -> bool | None:
    """Run ``body`` (which returns the success message), print one line, return the verdict."""
    try:
        message = body()
    except _NotAttempted:
        print(NOT_ATTEMPTED + not_attempted)
        return None
    except _NotYet as stop:
        print(NOT_YET + _one_line(stop, 400))
        return False
    except _StudentError as err:
        hint = err.hint or ""
        print(
            NOT_YET
            + f"your function raised {type(err.exc).__name__}: {_one_line(err.exc, 140)}"
            + (f" ({hint})" if hint else "")
        )
        return False
    except Exception as exc:  # a checker must never stop "Run all"
        print(NOT_YET + f"could not check the answer ({type(exc).__name__}: {_one_line(exc)})")
        return False
    print(CORRECT + _one_line(message, 400))
    return True


def _require_callable(fn: object, checker: str, stub: str) -> None:
    if not callable(fn):
        raise _NotYet(
            f"pass the function itself, {checker}({stub}), not the result of calling it "
            "(no parentheses after its name)"
        )


# --------------------------------------------------------------------------------------
# Cosine similarity (notebook 01)
# --------------------------------------------------------------------------------------
def check_cosine_similarity(fn: Callable) -> bool | None:
    """Check ``fn(a, b)``: the cosine similarity of two 1-D vectors.

    The cosine similarity is ``a·b / (‖a‖ ‖b‖)``: the dot product of the two vectors
    after each has been scaled to length 1. It lies in [-1, 1] and ignores the lengths.

    Parameters
    ----------
    fn : callable
        ``fn(a, b) -> float`` where ``a`` and ``b`` are ndarrays of shape (d,).

    Returns
    -------
    bool or None
        True if correct on every hidden case, False if not (a hint is printed),
        None if ``fn`` raises NotImplementedError.

    Examples
    --------
    >>> import numpy as np
    >>> def cosine(a, b):
    ...     return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    >>> check_cosine_similarity(cosine)
    ✅ correct: cosine(a, b) gives the cosine similarity on 6 hidden pairs of vectors
    True
    >>> check_cosine_similarity(lambda a, b: float(a @ b))  # doctest: +NORMALIZE_WHITESPACE
    ❌ not yet: you returned the dot product a·b; divide it by both lengths, np.linalg.norm(a) *
    np.linalg.norm(b)
    False
    """

    def body() -> str:
        _require_callable(fn, "check_cosine_similarity", "cosine_similarity")
        rng = np.random.default_rng(_SEED)
        a = rng.normal(size=5)
        pairs = [
            (a, rng.normal(size=5)),  # random
            (rng.normal(size=64) * 3.0, rng.normal(size=64) * 0.2),  # very different lengths
            (a, 4.0 * a),  # same direction -> 1
            (a, -0.5 * a),  # opposite -> -1
            (np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])),  # orthogonal -> 0
            (np.array([3.0, 4.0]), np.array([4.0, 3.0])),  # 24/25
        ]
        for a, b in pairs:
            got = _call(fn, a, b)
            arr = _as_array(got, "the returned value")
            if arr.size != 1:
                raise _NotYet(
                    f"expected a single number, got an array of shape {arr.shape}: "
                    "sum the products (a @ b) instead of multiplying element by element"
                )
            value = float(arr.ravel()[0])
            dot = float(a @ b)
            na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
            expected = dot / (na * nb)
            rtol, atol = _tolerance(arr)
            if math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
                continue
            if math.isnan(value):
                raise _NotYet(f"got NaN for two vectors of lengths {na:.2f} and {nb:.2f}")
            if math.isclose(value, dot, rel_tol=1e-6, abs_tol=1e-9):
                raise _NotYet(
                    "you returned the dot product a·b; divide it by both lengths, "
                    "np.linalg.norm(a) * np.linalg.norm(b)"
                )
            if math.isclose(value, dot / (na * na * nb * nb), rel_tol=1e-6) or math.isclose(
                value, dot / (float(a @ a) + float(b @ b)), rel_tol=1e-6
            ):
                raise _NotYet(
                    "you divided by squared lengths (a @ a is ‖a‖²); divide by the lengths "
                    "themselves, np.linalg.norm(a) * np.linalg.norm(b)"
                )
            if math.isclose(value, dot / na, rel_tol=1e-6) or math.isclose(
                value, dot / nb, rel_tol=1e-6
            ):
                raise _NotYet(
                    "you divided by only one length; divide by both, "
                    "np.linalg.norm(a) * np.linalg.norm(b)"
                )
            if math.isclose(value, dot / na * nb, rel_tol=1e-6) or math.isclose(
                value, dot * na * nb, rel_tol=1e-6
            ):
                raise _NotYet(
                    "check the brackets: divide by the product of the lengths, "
                    "a @ b / (np.linalg.norm(a) * np.linalg.norm(b))"
                )
            note = " (a cosine always lies between -1 and 1)" if abs(value) > 1 + 1e-9 else ""
            raise _NotYet(
                f"for a = {_vec(a, 3)} and b = {_vec(b, 3)} expected {expected:.4f}, "
                f"got {value:.4f}{note}"
            )
        return (
            f"{_name(fn)}(a, b) gives the cosine similarity on {len(pairs)} hidden pairs of vectors"
        )

    return _run_checker(
        body, "cosine_similarity still raises NotImplementedError; replace it with your code"
    )


# --------------------------------------------------------------------------------------
# Row-wise softmax (notebook 02)
# --------------------------------------------------------------------------------------
def _softmax_hint(scores: np.ndarray, got: np.ndarray, expected: np.ndarray) -> str:
    """Say what ``got`` looks like when it is not the row-wise softmax of ``scores``."""
    row_sums = got.sum(axis=-1)
    exp = np.exp(scores - scores.max())
    if _close(got, exp / exp.sum()):
        return (
            f"rows sum to {_fmt(row_sums)}; the whole matrix sums to 1; normalise along "
            "axis=-1, one row at a time (.sum(axis=-1, keepdims=True))"
        )
    if _close(got, attention.softmax(scores, axis=0)):
        return (
            f"the columns sum to 1 but the rows sum to {_fmt(row_sums)}; normalise along "
            "axis=-1 (each row), not axis=0"
        )
    with np.errstate(all="ignore"):
        no_exp = scores / scores.sum(axis=-1, keepdims=True)
    if _close(got, no_exp):
        return "you divided the scores by their row sums; take np.exp(scores) first"
    if np.any(got < 0):
        return "some weights are negative; exponentiate the scores (np.exp) before normalising"
    if np.allclose(row_sums, 1.0):
        return (
            f"rows sum to 1 but the values are off: {_row_diff(expected, got)}; "
            "softmax is np.exp(row) / np.exp(row).sum()"
        )
    return (
        f"rows sum to {_fmt(row_sums)}; each row of a softmax sums to 1 "
        f"({_row_diff(expected, got)})"
    )


def check_softmax(fn: Callable) -> bool | None:
    """Check ``fn(scores)``: a softmax over each row (the last axis) of a 2-D array.

    For every row, ``softmax(row) = exp(row) / exp(row).sum()``: positive weights that sum
    to 1. The hidden cases include scores around +1000 and -1000, where ``np.exp`` overflows
    or underflows unless each row's maximum is subtracted first.

    Parameters
    ----------
    fn : callable
        ``fn(scores) -> weights`` with ``scores`` an ndarray of shape (n_rows, n_cols) and
        ``weights`` an ndarray of the same shape.

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError.

    Examples
    --------
    >>> import numpy as np
    >>> def softmax_rows(scores):
    ...     shifted = scores - scores.max(axis=-1, keepdims=True)
    ...     e = np.exp(shifted)
    ...     return e / e.sum(axis=-1, keepdims=True)
    >>> check_softmax(softmax_rows)  # doctest: +NORMALIZE_WHITESPACE
    ✅ correct: every row of softmax_rows(scores) is positive and sums to 1, also for scores near
    ±1000
    True
    >>> def not_written_yet(scores):
    ...     raise NotImplementedError
    >>> check_softmax(not_written_yet)
    ⏳ not attempted: the stub still raises NotImplementedError; replace that line with your code
    """

    def body() -> str:
        _require_callable(fn, "check_softmax", "softmax_rows")
        rng = np.random.default_rng(_SEED + 1)
        cases = [
            ("ordinary", 2.0 * rng.normal(size=(3, 4))),
            ("ordinary", np.vstack([rng.normal(size=(3, 6)), np.full((1, 6), 0.7)])),
            ("one-row", rng.normal(size=(1, 5))),
            # rows near +1000, -1000 and 0: naive np.exp overflows / underflows
            ("large", np.array([[1000.0], [-1000.0], [0.0]]) + rng.normal(size=(3, 4))),
        ]
        for kind, scores in cases:
            got = _as_array(
                _call(
                    fn,
                    scores,
                    hint="sum with keepdims=True so the row sums keep shape (n_rows, 1)",
                ),
                "the returned value",
            )
            if got.shape != scores.shape:
                extra = (
                    "; return the weights, not their sums"
                    if got.shape in {scores.shape[:1], (scores.shape[0], 1), ()}
                    else ""
                )
                raise _NotYet(
                    f"for scores of shape {scores.shape} expected weights of shape "
                    f"{scores.shape} (the same shape), got {got.shape}{extra}"
                )
            expected = attention.softmax(scores)
            if kind == "large" and _has_nan(got):
                finite_rows = np.all(np.isfinite(got), axis=-1)
                if finite_rows[0] and not finite_rows[1:].any():
                    raise _NotYet(
                        "got NaN in rows whose scores are far below the largest score in the "
                        "matrix: subtract each row's own max (axis=-1, keepdims=True), not the "
                        "max of the whole matrix"
                    )
                raise _NotYet(
                    "got NaN for large scores (around ±1000): np.exp overflows; subtract the "
                    "row max first (scores.max(axis=-1, keepdims=True)); softmax does not "
                    "change when a constant is subtracted from a row"
                )
            if _has_nan(got):
                raise _NotYet(f"got NaN or inf for ordinary scores, e.g. row 0 = {_vec(got[0])}")
            if not _close(got, expected):
                raise _NotYet(_softmax_hint(scores, got, expected) + _precision_note(got))
        return (
            f"every row of {_name(fn)}(scores) is positive and sums to 1, "
            "also for scores near ±1000"
        )

    return _run_checker(
        body, "the stub still raises NotImplementedError; replace that line with your code"
    )


# --------------------------------------------------------------------------------------
# Dot-product and scaled dot-product attention (notebooks 02 and 03)
# --------------------------------------------------------------------------------------
_SWAP_HINT = (
    "scores = queries @ keys transposed; transpose only the last two axes, "
    "np.swapaxes(keys, -1, -2), which also works for a batch"
)


def _attention_variants(queries, keys, values):
    """Common wrong answers: name -> weights, for hints."""
    d_k = queries.shape[-1]
    seq_k = keys.shape[-2]
    scores = queries @ np.swapaxes(keys, -1, -2)  # (..., seq_q, seq_k)
    with np.errstate(all="ignore"):
        exp = np.exp(scores - scores.max(axis=(-2, -1), keepdims=True))
        whole = exp / exp.sum(axis=(-2, -1), keepdims=True)
    return {
        "unscaled": attention.softmax(scores),
        "scaled": attention.softmax(scores / math.sqrt(d_k)),
        "by_d_k": attention.softmax(scores / d_k),
        "times_sqrt": attention.softmax(scores * math.sqrt(d_k)),
        "by_sqrt_seq_k": attention.softmax(scores / math.sqrt(seq_k)),
        "columns": attention.softmax(scores, axis=-2),
        "raw": scores,
        "raw_scaled": scores / math.sqrt(d_k),
        "whole": whole,
    }


def _attention_weights_hint(variants: dict, got: np.ndarray, expected: np.ndarray, scaled: bool):
    hints = {
        "unscaled": (
            "your weights use the unscaled scores: multiply queries @ keysᵀ by "
            "1/√d_k (d_k = queries.shape[-1]) before the softmax"
        ),
        "scaled": (
            "your weights are scaled by 1/√d_k; this exercise is plain dot-product "
            "attention, so leave the scores unscaled (scaling comes in notebook 03)"
        ),
        "by_d_k": "you divided the scores by d_k; divide by its square root, np.sqrt(d_k)",
        "times_sqrt": "you multiplied the scores by √d_k; divide by √d_k instead",
        "by_sqrt_seq_k": (
            "you divided by the square root of the number of keys; d_k is the length of "
            "each query/key vector, queries.shape[-1]"
        ),
        "columns": (
            "the columns of your weights sum to 1; apply the softmax to each row "
            "(axis=-1): one row per query"
        ),
        "raw": "your weights are the raw scores; apply a softmax to each row",
        "raw_scaled": "your weights are the scaled scores; apply a softmax to each row",
        "whole": (
            f"weight rows sum to {_fmt(got.reshape(-1, got.shape[-1]).sum(axis=-1))}; "
            "normalise each row (axis=-1), not the whole matrix"
        ),
    }
    for name, weights in variants.items():
        if name == ("scaled" if scaled else "unscaled"):
            continue
        if _close(got, weights):
            return hints[name]
    formula = "softmax(queries @ keysᵀ / √d_k)" if scaled else "softmax(queries @ keysᵀ)"
    return f"weights differ from {formula}: {_row_diff(expected, got)}"


def _check_attention(fn: Callable, *, scaled: bool, checker: str, stub: str) -> str:
    _require_callable(fn, checker, stub)
    rng = np.random.default_rng(_SEED + (3 if scaled else 2))
    seq_q, seq_k, d_k, d_v = 3, 4, 5, 2
    x = rng.normal(size=(6, 4))
    cases = [
        ("one sequence", rng.normal(size=(seq_q, d_k)), rng.normal(size=(seq_k, d_k))),
        ("self-attention", x, x),
        (
            "large scores",
            30.0 * rng.normal(size=(seq_q, d_k)),
            30.0 * rng.normal(size=(seq_k, d_k)),
        ),
        ("a batch", rng.normal(size=(2, seq_q, d_k)), rng.normal(size=(2, seq_k, d_k))),
    ]
    reference = (
        attention.scaled_dot_product_attention if scaled else attention.dot_product_attention
    )
    for kind, queries, keys in cases:
        values = x if kind == "self-attention" else rng.normal(size=keys.shape[:-1] + (d_v,))
        try:
            result = _call(fn, queries, keys, values, hint=_SWAP_HINT)
        except _StudentError as err:
            hint = _matmul_hint(err.exc, _SWAP_HINT)
            if kind == "a batch":
                raise _NotYet(
                    f"works for one sequence but raised {type(err.exc).__name__} for a batch "
                    f"(queries of shape {queries.shape}); transpose only the last two axes "
                    "with np.swapaxes(keys, -1, -2): keys.T reverses every axis"
                ) from err
            raise _StudentError(err.exc, hint) from err
        if result is None:
            raise _NotYet("the function returned None: did you forget `return output, weights`?")
        if not isinstance(result, tuple | list) or len(result) != 2:
            shape = getattr(np.asarray(result, dtype=object), "shape", None)
            raise _NotYet(
                "return a pair (output, weights), e.g. `return weights @ values, weights`; "
                f"got {type(result).__name__}" + (f" of shape {shape}" if shape else "")
            )
        output = _as_array(result[0], "output (the first returned value)")
        weights = _as_array(result[1], "weights (the second returned value)")
        expected_out, expected_w = reference(queries, keys, values)
        batch = queries.shape[:-2]
        want_w = batch + (queries.shape[-2], keys.shape[-2])
        if weights.shape != want_w:
            if kind == "a batch":
                raise _NotYet(
                    f"for a batch (queries {queries.shape}, keys {keys.shape}) weights should "
                    f"have shape {want_w}, got {weights.shape}; use np.swapaxes(keys, -1, -2) "
                    "instead of keys.T (.T reverses every axis)"
                )
            flipped = want_w[:-2] + want_w[-2:][::-1]
            extra = (
                "; one row per query: queries @ keysᵀ, not keys @ queriesᵀ"
                if weights.shape == flipped
                else ""
            )
            raise _NotYet(
                f"weights have shape {weights.shape} but should be (seq_q, seq_k) = {want_w}{extra}"
            )
        if kind == "large scores" and _has_nan(weights):
            raise _NotYet(
                "got NaN when the scores are large (hundreds): the softmax overflows; subtract "
                "each row's max before np.exp, or call course_lib's softmax"
            )
        if _has_nan(weights):
            raise _NotYet(f"got NaN or inf in the weights for {kind}")
        if not _close(weights, expected_w):
            variants = _attention_variants(queries, keys, values)
            hint = _attention_weights_hint(variants, weights, expected_w, scaled)
            raise _NotYet(hint + _precision_note(weights))
        if output.shape != expected_out.shape:
            if output.shape == batch + (queries.shape[-2], keys.shape[-1]) and _close(
                output, expected_w @ keys
            ):
                raise _NotYet(
                    f"output has shape {output.shape} = weights @ keys; the output averages "
                    f"the values: weights @ values, shape (seq_q, d_v) = {expected_out.shape}"
                )
            raise _NotYet(
                f"output has shape {output.shape} but should be (seq_q, d_v) = "
                f"{expected_out.shape}: output = weights @ values"
            )
        if not _close(output, expected_out):
            if scaled and _close(output, expected_out / math.sqrt(queries.shape[-1])):
                raise _NotYet("scale the scores before the softmax, not the output")
            raise _NotYet(
                "weights are right but the output is not weights @ values: "
                + _row_diff(expected_out, output)
            )
    formula = "softmax(Q Kᵀ / √d_k) V" if scaled else "softmax(Q Kᵀ) V"
    return (
        f"{_name(fn)} matches {formula} for one sequence, self-attention, large scores and a batch"
    )


def check_dot_product_attention(fn: Callable) -> bool | None:
    """Check ``fn(queries, keys, values)``: (unscaled) dot-product attention.

    ``weights = softmax(queries @ keysᵀ)`` row by row, ``output = weights @ values``.

    Parameters
    ----------
    fn : callable
        ``fn(queries, keys, values) -> (output, weights)`` with queries of shape
        (..., seq_q, d_k), keys (..., seq_k, d_k), values (..., seq_k, d_v); it returns
        output of shape (..., seq_q, d_v) and weights of shape (..., seq_q, seq_k).
        One hidden case is a batch (a leading axis of size 2).

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib import softmax
    >>> def attend(queries, keys, values):
    ...     weights = softmax(queries @ np.swapaxes(keys, -1, -2))
    ...     return weights @ values, weights
    >>> check_dot_product_attention(attend)  # doctest: +NORMALIZE_WHITESPACE
    ✅ correct: attend matches softmax(Q Kᵀ) V for one sequence, self-attention, large scores and
    a batch
    True
    """

    def body() -> str:
        return _check_attention(
            fn, scaled=False, checker="check_dot_product_attention", stub="attention"
        )

    return _run_checker(
        body, "the stub still raises NotImplementedError; replace that line with your code"
    )


def check_scaled_attention(fn: Callable) -> bool | None:
    """Check ``fn(queries, keys, values)``: scaled dot-product attention.

    ``weights = softmax(queries @ keysᵀ / √d_k)`` row by row, with ``d_k =
    queries.shape[-1]``, and ``output = weights @ values``.

    Parameters
    ----------
    fn : callable
        ``fn(queries, keys, values) -> (output, weights)``; shapes as in
        :func:`check_dot_product_attention`.

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib import dot_product_attention
    >>> forgot_to_scale = dot_product_attention
    >>> check_scaled_attention(forgot_to_scale)  # doctest: +NORMALIZE_WHITESPACE
    ❌ not yet: your weights use the unscaled scores: multiply queries @ keysᵀ by 1/√d_k (d_k =
    queries.shape[-1]) before the softmax
    False
    """

    def body() -> str:
        return _check_attention(
            fn, scaled=True, checker="check_scaled_attention", stub="scaled_attention"
        )

    return _run_checker(
        body, "the stub still raises NotImplementedError; replace that line with your code"
    )


# --------------------------------------------------------------------------------------
# Causal mask (notebook 04)
# --------------------------------------------------------------------------------------
def check_causal_mask(fn: Callable) -> bool | None:
    """Check ``fn(seq_len)``: a causal mask, True where a word may attend.

    Word ``i`` may attend to itself and the words before it, so the mask is True on and
    below the diagonal: ``mask[i, j] = j <= i``.

    Parameters
    ----------
    fn : callable
        ``fn(seq_len) -> mask``, a boolean ndarray of shape (seq_len, seq_len).

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError.

    Examples
    --------
    >>> import numpy as np
    >>> check_causal_mask(lambda n: np.tril(np.ones((n, n), dtype=bool)))
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
        _require_callable(fn, "check_causal_mask", "causal_mask")
        for seq_len in (4, 1, 7):
            got = _call(fn, seq_len)
            if got is None:
                raise _NotYet("the returned value is None: did you forget `return`?")
            got = np.asarray(got)
            expected = attention.causal_mask(seq_len)
            if got.shape != expected.shape:
                raise _NotYet(
                    f"for seq_len={seq_len} expected shape {expected.shape}, got {got.shape}"
                )
            if got.dtype != bool:
                if np.isin(got, (0, 1)).all() and np.array_equal(got == 1, expected):
                    raise _NotYet(
                        f"right pattern, but the dtype is {got.dtype}; return booleans "
                        "(dtype=bool), True = may attend"
                    )
                raise _NotYet(f"expected a boolean array (dtype=bool), got dtype {got.dtype}")
            if np.array_equal(got, expected):
                continue
            if np.array_equal(got, expected.T):
                raise _NotYet(
                    "True is above the diagonal; a word may attend to itself and the words "
                    "BEFORE it, so True goes on and below the diagonal (np.tril)"
                )
            if np.array_equal(got, ~expected):
                raise _NotYet(
                    "you marked the blocked positions; in this course True means "
                    "'may attend': invert it with ~"
                )
            if np.array_equal(got, np.tril(np.ones_like(expected), k=-1)):
                raise _NotYet("the diagonal must be True: each word may attend to itself")
            row = min(1, seq_len - 1)
            raise _NotYet(
                f"for seq_len={seq_len}, row {row} should be {expected[row].tolist()}, "
                f"got {got[row].tolist()}"
            )
        return f"{_name(fn)}(seq_len) lets each word attend to itself and the words before it"

    return _run_checker(
        body, "the stub still raises NotImplementedError; replace that line with your code"
    )


# --------------------------------------------------------------------------------------
# Learned projections (notebook 04)
# --------------------------------------------------------------------------------------
def check_projections(fn: Callable) -> bool | None:
    """Check ``fn(x, w_q, w_k, w_v)``: queries, keys and values as projections of ``x``.

    ``queries = x @ w_q``, ``keys = x @ w_k``, ``values = x @ w_v``.

    Parameters
    ----------
    fn : callable
        ``fn(x, w_q, w_k, w_v) -> (queries, keys, values)`` with x of shape
        (..., seq_len, d_model), w_q and w_k of shape (d_model, d_k), w_v of shape
        (d_model, d_v). One hidden case is a batch of sequences.

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError.

    Examples
    --------
    >>> check_projections(lambda x, w_q, w_k, w_v: (x @ w_q, x @ w_k, x @ w_v))
    ✅ correct: <lambda> returns x @ w_q, x @ w_k and x @ w_v, also for a batch
    True
    """

    hint = (
        "multiply x @ w: x has shape (seq_len, d_model) and each w has shape "
        "(d_model, d_k), so w @ x and x @ w.T do not fit"
    )

    def body() -> str:
        _require_callable(fn, "check_projections", "project")
        rng = np.random.default_rng(_SEED + 4)
        d_model, d_k, d_v = 6, 3, 5
        w = {
            "w_q": rng.normal(size=(d_model, d_k)),
            "w_k": rng.normal(size=(d_model, d_k)),
            "w_v": rng.normal(size=(d_model, d_v)),
        }
        for kind, x in (
            ("one sequence", rng.normal(size=(4, d_model))),
            ("a batch", rng.normal(size=(2, 4, d_model))),
        ):
            try:
                result = _call(fn, x, w["w_q"], w["w_k"], w["w_v"])
            except _StudentError as err:
                raise _StudentError(err.exc, _matmul_hint(err.exc, hint)) from err
            if result is None:
                raise _NotYet("the function returned None: did you forget `return`?")
            if not isinstance(result, tuple | list) or len(result) != 3:
                raise _NotYet(
                    "return three arrays: `return queries, keys, values`; "
                    f"got {type(result).__name__}"
                )
            products = {name: x @ m for name, m in w.items()}
            for role, got, name in zip(
                ("queries", "keys", "values"), result, ("w_q", "w_k", "w_v"), strict=True
            ):
                got = _as_array(got, role)
                want = products[name]
                if _close(got, want):
                    continue
                if got.shape != want.shape:
                    raise _NotYet(
                        f"for x of shape {x.shape}, {role} should have shape {want.shape} "
                        f"= x @ {name}, got {got.shape}"
                    )
                for other, product in products.items():
                    if _close(got, product):
                        raise _NotYet(f"{role} equal x @ {other}; use {name} for the {role}")
                raise _NotYet(f"{role} should be x @ {name} (for {kind})")
        return f"{_name(fn)} returns x @ w_q, x @ w_k and x @ w_v, also for a batch"

    return _run_checker(
        body, "the stub still raises NotImplementedError; replace that line with your code"
    )


# --------------------------------------------------------------------------------------
# Predict-then-reveal questions
# --------------------------------------------------------------------------------------
SENTENCE = "I drink coke, but eat steak"


def _sentence_vectors():
    """Words and (seq_len, 64) vectors of SENTENCE in the bundled embeddings."""
    from course_lib.embeddings import embed_sentence, load_embeddings

    emb = embed_sentence(SENTENCE, load_embeddings("bundled"))
    return [w.lower() for w in emb.words], emb.vectors


def _truth_steak_attends_to():
    words, x = _sentence_vectors()
    _, weights = attention.scaled_dot_product_attention(x, x, x)  # (seq_len, seq_len)
    i = words.index("steak")
    row = weights[i].copy()
    row[i] = -np.inf  # exclude steak itself
    j = int(np.argmax(row))
    runner_up = sorted(
        ((weights[i, k], w) for k, w in enumerate(words) if k not in (i, j)), reverse=True
    )[0]
    detail = (
        f"after itself ({weights[i, i]:.2f}), 'steak' gives its largest weight to "
        f"'{words[j]}' ({weights[i, j]:.2f}; next is '{runner_up[1]}', {runner_up[0]:.2f})"
    )
    return words[j], detail


def _truth_coke_most_similar():
    words, x = _sentence_vectors()
    unit = x / np.linalg.norm(x, axis=-1, keepdims=True)
    cos = unit @ unit.T  # (seq_len, seq_len)
    i = words.index("coke")
    row = cos[i].copy()
    row[i] = -np.inf
    j = int(np.argmax(row))
    return words[j], f"'{words[j]}' has cosine similarity {cos[i, j]:.2f} with 'coke'"


def _truth_scaling_changes_argmax():
    words, x = _sentence_vectors()
    _, plain = attention.dot_product_attention(x, x, x)
    _, scaled = attention.scaled_dot_product_attention(x, x, x)
    changed = bool(np.any(plain.argmax(axis=-1) != scaled.argmax(axis=-1)))
    detail = (
        "dividing every score in a row by the same positive number keeps their order, so each "
        "word's favourite stays the same; only how peaked the weights are changes"
        if not changed
        else "the favourite word changed for at least one query"
    )
    return changed, detail


DONT_PANIC = "Don't panic, it's only a test!"
KOMBUCHA = "I drink kombucha, but eat steak"


def _truth_dont_panic_rows():
    from course_lib.embeddings import embed_sentence, load_embeddings

    emb = embed_sentence(DONT_PANIC, load_embeddings("bundled"))
    detail = f"tokens {emb.tokens}; missing {emb.missing}; vectors of shape {emb.vectors.shape}"
    return int(emb.vectors.shape[0]), detail


def _truth_mislabelled_eat():
    from course_lib.embeddings import embed_sentence, load_embeddings

    emb = embed_sentence(KOMBUCHA, load_embeddings("bundled"))
    pairs = list(zip(KOMBUCHA.split(), emb.words, strict=False))  # the bug: raw labels
    row_word = dict(pairs)["eat"]
    detail = f"{emb.missing} was dropped, so every label after it slides one row: " + ", ".join(
        f"{label!r} -> row of {word!r}" for label, word in pairs
    )
    return row_word, detail


def _truth_drink_is_its_own_top_dot():
    from course_lib.embeddings import load_embeddings

    kv = load_embeddings("bundled")
    table = np.asarray(kv.vectors, dtype=np.float64)  # (vocab_size, d)
    scores = table @ table[kv.key_to_index["drink"]]  # (vocab_size,)
    top = int(np.argmax(scores))
    own = float(scores[kv.key_to_index["drink"]])
    detail = (
        f"the largest dot product with 'drink' is '{kv.index_to_key[top]}' "
        f"({scores[top]:.1f}; 'drink' itself: {own:.1f})"
    )
    return kv.index_to_key[top] == "drink", detail


_GROWTH = {0.0: "constant", 0.5: "sqrt", 1.0: "linear", 2.0: "quadratic"}


def _truth_variance_growth():
    rng = np.random.default_rng(0)
    d_ks = np.array([4, 16, 64, 256])
    variances = []
    for d_k in d_ks:
        q = rng.normal(size=(4000, d_k))
        k = rng.normal(size=(4000, d_k))
        variances.append(np.var(np.sum(q * k, axis=-1)))  # one score q·k per row
    slope = float(np.polyfit(np.log(d_ks), np.log(variances), 1)[0])
    nearest = min(_GROWTH, key=lambda s: abs(s - slope))
    pairs = ", ".join(f"d_k={d}: {v:.0f}" for d, v in zip(d_ks, variances, strict=True))
    return _GROWTH[nearest], f"measured Var(q·k) at {pairs} (log-log slope {slope:.2f})"


def _word_answer(answer) -> str:
    return str(answer).strip().strip("'\"").lower()


def _int_answer(answer) -> int:
    if isinstance(answer, bool | np.bool_):
        raise _NotYet(f"answer a whole number, got {answer!r}")
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise _NotYet(f"answer a whole number, got {answer!r}") from None
    if not value.is_integer():
        raise _NotYet(f"answer a whole number, got {answer!r}")
    return int(value)


def _bool_answer(answer):
    if isinstance(answer, bool | np.bool_):
        return bool(answer)
    text = _word_answer(answer)
    if text in {"yes", "true", "y", "changes", "it changes"}:
        return True
    if text in {"no", "false", "n", "no change", "it does not", "same"}:
        return False
    raise _NotYet(f"answer True or False, got {answer!r}")


_GROWTH_WORDS = {
    "constant": {"constant", "none", "no", "flat", "stays the same", "does not grow", "same"},
    "sqrt": {"sqrt", "square root", "sqrt(d_k)", "√d_k", "like sqrt(d_k)", "root"},
    "linear": {"linear", "linearly", "proportional", "d_k", "like d_k", "o(d_k)", "proportionally"},
    "quadratic": {"quadratic", "quadratically", "squared", "d_k**2", "d_k^2", "d_k²"},
}


def _growth_answer(answer):
    text = _word_answer(answer)
    for label, words in _GROWTH_WORDS.items():
        if text in words:
            return label
    raise _NotYet(
        f"answer one of {sorted(_GROWTH)!r}; got {answer!r}".replace("[", "").replace("]", "")
    )


#: Predict-then-reveal questions: name -> (definition, how to compute the truth, answer parser).
QUESTIONS = {
    "dont_panic_rows": (
        "How many rows does embed_sentence(\"Don't panic, it's only a test!\").vectors have "
        "with the bundled vectors? Answer a whole number.",
        _truth_dont_panic_rows,
        _int_answer,
    ),
    "mislabelled_eat": (
        "embed_sentence('I drink kombucha, but eat steak') drops the unknown word. If its rows "
        "are labelled with the raw sentence, zip(sentence.split(), emb.words), which word's row "
        "does the label 'eat' end up on? Answer a word.",
        _truth_mislabelled_eat,
        _word_answer,
    ),
    "drink_is_its_own_top_dot": (
        "Over the whole bundled vocabulary, is 'drink' itself the word whose vector has the "
        "largest dot product with the vector of 'drink'? Answer True or False.",
        _truth_drink_is_its_own_top_dot,
        _bool_answer,
    ),
    "coke_most_similar": (
        "In 'I drink coke, but eat steak' (bundled 64-d vectors), which other word of the "
        "sentence has the highest cosine similarity with 'coke'? Answer a word.",
        _truth_coke_most_similar,
        _word_answer,
    ),
    "steak_attends_to": (
        "Self-attention on 'I drink coke, but eat steak' with Q = K = V = the bundled 64-d "
        "word vectors and scaled dot-product attention (scores / √d_k): in the row of "
        "'steak', which word other than 'steak' itself gets the largest weight? Answer a word.",
        _truth_steak_attends_to,
        _word_answer,
    ),
    "scaling_changes_argmax": (
        "In the same self-attention, does dividing the scores by √d_k change, for any word, "
        "which word it gives its largest weight to (itself included)? Answer True or False.",
        _truth_scaling_changes_argmax,
        _bool_answer,
    ),
    "variance_growth": (
        "For random q and k whose entries are independent with mean 0 and variance 1, how "
        "does the variance of the score q·k grow with d_k? Answer 'constant', 'sqrt', "
        "'linear' or 'quadratic'.",
        _truth_variance_growth,
        _growth_answer,
    ),
}


def check_prediction(question: str, answer) -> bool | None:
    """Compare a prediction with the answer computed on the spot (predict, then reveal).

    Questions (the keys of :data:`QUESTIONS`):

    ``"dont_panic_rows"``
        How many rows does ``embed_sentence("Don't panic, it's only a test!").vectors`` have
        with the bundled vectors? Answer a whole number.
    ``"mislabelled_eat"``
        ``embed_sentence("I drink kombucha, but eat steak")`` drops the word the bundled
        table does not know. If its rows are labelled with the raw sentence,
        ``zip(sentence.split(), emb.words)``, the label "eat" ends up on the row of which
        word? Answer a word.
    ``"drink_is_its_own_top_dot"``
        Over the whole bundled vocabulary, is "drink" itself the word whose vector has the
        largest dot product with the vector of "drink"? Answer True or False.
    ``"coke_most_similar"``
        In "I drink coke, but eat steak" with the bundled 64-d vectors, which other word
        of the sentence has the highest cosine similarity with "coke"? Answer a word.
    ``"steak_attends_to"``
        Self-attention on "I drink coke, but eat steak" with Q = K = V = the bundled 64-d
        word vectors (as returned by ``embed_sentence``) and scaled dot-product attention:
        in the row of "steak", which word *other than "steak" itself* gets the largest
        weight? Answer a word (case does not matter).
    ``"scaling_changes_argmax"``
        In the same self-attention, does dividing the scores by √d_k change, for any word,
        which word gets its largest weight (itself included)? Answer True or False.
    ``"variance_growth"``
        For random q and k with independent entries of mean 0 and variance 1, how does the
        variance of q·k grow with d_k? Answer "constant", "sqrt", "linear" or "quadratic".

    Parameters
    ----------
    question : str
        One of the names above.
    answer : str, bool or int
        The prediction; ``None`` (the stub's value) means not attempted.

    Returns
    -------
    bool or None
        True if the prediction matches, False if not (the true answer is revealed),
        None if ``answer`` is None.

    Examples
    --------
    >>> check_prediction("variance_growth", "linear")  # doctest: +NORMALIZE_WHITESPACE
    ✅ correct: linear; measured Var(q·k) at d_k=4: 4, d_k=16: 16, d_k=64: 65, d_k=256: 256
    (log-log slope 1.00)
    True
    >>> check_prediction("variance_growth", None)
    ⏳ not attempted: replace None with your prediction, then run the cell again
    """

    def body() -> str:
        if question not in QUESTIONS:
            raise _NotYet(f"unknown question {question!r}; choose one of {', '.join(QUESTIONS)}")
        if answer is None or answer is Ellipsis or (isinstance(answer, str) and not answer.strip()):
            raise _NotAttempted()
        _, truth_fn, parse = QUESTIONS[question]
        predicted = parse(answer)
        if question == "steak_attends_to" and predicted == "steak":
            raise _NotYet(
                "the question asks for a word other than 'steak' itself (a word's score with "
                "itself, q·q = ‖q‖², is often its largest); predict again"
            )
        truth, detail = truth_fn()
        if predicted != truth:
            raise _NotYet(f"you predicted {predicted!r}, the answer is {truth!r}: {detail}")
        return f"{truth}; {detail}" if not isinstance(truth, bool) else f"{truth}: {detail}"

    return _run_checker(body, "replace None with your prediction, then run the cell again")
