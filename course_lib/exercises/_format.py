"""Numbers and arrays for the checkers: tolerances, comparisons, and how values are shown.

Everything here works on plain values that came back from the sandbox (numpy arrays,
numbers, strings, tuples, lists, None or :class:`~course_lib.exercises._sandbox.Unusual`),
never on an object the student made, so nothing here can run student code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib.exercises._transfer import Unusual

# Relative tolerance by the precision of the student's answer (float64, float32, float16).
_RTOL = {8: 1e-6, 4: 2e-3, 2: 2e-2}
# Absolute tolerance: 5e-5 lets a result rounded to 4 decimals pass.
_ATOL = {8: 5.01e-5, 4: 5.01e-5, 2: 1e-3}


class NotYet(Exception):
    """Stop a check at the first problem found; the message is the hint."""


def kind_of(value) -> str:
    """Name what a returned value is, in words ("a tuple of 2 values", "text", ...)."""
    if isinstance(value, Unusual):
        return f"a {value.type_name}" + (f" ({value.text})" if value.text else "")
    if isinstance(value, str):
        return f"text ({value[:40]!r})"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)} values"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def as_array(value, what: str) -> np.ndarray:
    """Return a returned value as a real float array (float32 stays float32), or NotYet."""
    if value is None:
        raise NotYet(f"{what} is None: did you forget `return`?")
    if isinstance(value, Unusual | str | dict):
        raise NotYet(
            f"{what} should be a numpy array of numbers; your function returned {kind_of(value)}"
        )
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise NotYet(
            f"{what} should be a numpy array of numbers; got {kind_of(value)} that numpy "
            f"cannot turn into one array ({one_line(exc, 80)})"
        ) from None
    if array.dtype.kind == "c":
        raise NotYet(
            f"{what} holds complex numbers (dtype {array.dtype}); weights, scores and "
            "similarities are real: look for a square root of a negative number or np.emath"
        )
    if array.dtype.kind not in "biuf":
        raise NotYet(
            f"{what} should hold numbers; got an array of dtype {array.dtype} "
            f"({'text' if array.dtype.kind in 'SU' else 'not numbers'})"
        )
    if not (array.dtype.kind == "f" and array.dtype.itemsize in _RTOL):
        array = array.astype(np.float64)
    return array


def tolerance(*arrays: np.ndarray) -> tuple[float, float]:
    """Return (rtol, atol) for comparing ``arrays``: set by the least precise float."""
    size = min((a.dtype.itemsize for a in arrays if a.dtype.itemsize in _RTOL), default=8)
    return _RTOL[size], _ATOL[size]


def close(a, b) -> bool:
    """Return True for the same shape and values equal within the tolerance (NaN only NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    rtol, atol = tolerance(a, b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def tolerance_note(expected, got) -> str:
    """Return ' (largest difference ..., tolerance ...)' when ``got`` is near, else ''."""
    expected, got = np.asarray(expected, dtype=float), np.asarray(got, dtype=float)
    if expected.shape != got.shape or not np.all(np.isfinite(got)):
        return ""
    diff = float(np.max(np.abs(expected - got), initial=0.0))
    if diff > 0.05 * max(1.0, float(np.max(np.abs(expected), initial=0.0))):
        return ""
    rtol, atol = tolerance(np.asarray(got))
    return (
        f" (largest difference {diff:.2g}; the tolerance is {atol:.2g} plus {rtol:.0e} of the "
        "value, so a result rounded to 4 decimals passes)"
    )


def precision_note(array: np.ndarray) -> str:
    """Return a note when ``array`` is less precise than float64, else ''."""
    if array.dtype.itemsize < 8:
        return f" (your result is {array.dtype}: compute in float64, numpy's default)"
    return ""


def one_line(text: object, limit: int = 160) -> str:
    """Squeeze ``text`` into a single line of at most ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def vec(values, limit: int = 4, decimals: int = 2) -> str:
    """Show at most ``limit`` numbers: ``[0.2113, 0.3498, ...]`` -> ``"[0.21, 0.35, ...]"``."""
    flat = np.asarray(values, dtype=float).ravel()
    text = ", ".join(f"{v:.{decimals}f}" for v in flat[:limit])
    return "[" + text + (", ..." if flat.size > limit else "") + "]"


def vec_against(values, reference: float, limit: int = 4) -> str:
    """Show numbers like :func:`vec`, with enough decimals to tell each from ``reference``."""
    flat = np.asarray(values, dtype=float).ravel()[:limit]
    for decimals in range(2, 17):
        ref = f"{reference:.{decimals}f}"
        if all(v == reference or f"{v:.{decimals}f}" != ref for v in flat):
            break
    return vec(values, limit, decimals)


def two_numbers(expected: float, got: float) -> tuple[str, str]:
    """Format two different numbers with just enough decimals to tell them apart."""
    for decimals in range(2, 17):
        want, have = f"{expected:.{decimals}f}", f"{got:.{decimals}f}"
        if want != have:
            return want, have
    return repr(float(expected)), repr(float(got))


def row_diff(expected: np.ndarray, got: np.ndarray) -> str:
    """Return ``"row 2 should be [...], got [...]"`` for the first row that differs."""
    flat_exp = np.asarray(expected, dtype=float).reshape(-1, expected.shape[-1])
    flat_got = np.asarray(got, dtype=float).reshape(-1, got.shape[-1])
    bad = [i for i in range(len(flat_exp)) if not close(flat_got[i], flat_exp[i])] or [0]
    i = bad[0]
    want = have = ""
    for decimals in range(2, 17):
        want, have = vec(flat_exp[i], 4, decimals), vec(flat_got[i], 4, decimals)
        if want != have:
            break
    if want == have:  # the difference is beyond the first four numbers
        j = int(np.argmax(np.abs(flat_exp[i] - flat_got[i])))
        a, b = two_numbers(flat_exp[i, j], flat_got[i, j])
        return f"row {i}, entry {j} should be {a}, got {b}"
    return f"row {i} should be {want}, got {have}"


class Memory:
    """Remember a student's answers, to catch a cached one (the same for another input)."""

    def __init__(self):
        self.seen: list[tuple[np.ndarray, np.ndarray]] = []

    def check(self, got: np.ndarray, expected: np.ndarray) -> None:
        """Raise NotYet if the wrong ``got`` repeats an earlier answer to another input."""
        for old_got, old_expected in self.seen:
            if close(got, old_got) and not close(expected, old_expected):
                raise NotYet(
                    "your function gave the same answer for two different hidden inputs (a "
                    "cached result?); compute it from the arguments, not from a variable made "
                    "outside the function or saved from an earlier call"
                )

    def add(self, got: np.ndarray, expected: np.ndarray) -> None:
        """Remember a right answer."""
        self.seen.append((np.array(got, dtype=float), np.array(expected, dtype=float)))


def numerical_gradient(loss: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5):
    """Return central finite differences of the scalar ``loss`` at ``x`` (float64)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        up = loss(x)
        x[index] = saved - h
        down = loss(x)
        x[index] = saved
        grad[index] = (up - down) / (2 * h)
    return grad
