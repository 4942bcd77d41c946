"""The machinery every checker shares: run a student's function safely, word the verdict.

A checker's body raises one of three exceptions to stop at the first problem it finds:
``NotYet(hint)``, ``NotAttempted()``, or ``StudentError`` (the student's code raised). The
function :func:`run_checker` turns that into the single printed line and the return value
(True / False / None), and makes sure nothing ever escapes, so "Run all" always finishes.

:func:`call` runs the student's function:

- on copies of the inputs (the checker keeps its own for the reference answer), and reports
  a function that changed its input in place;
- with a time limit of :data:`TIME_LIMIT` seconds where the platform can interrupt Python
  (a SIGALRM timer in the main thread on Linux, macOS and Colab); elsewhere (Windows,
  Pyodide, a thread) :func:`run_checker` says so in one line before the check starts;
- turning ``sys.exit()`` into a "not yet" line. A KeyboardInterrupt from the user still
  stops everything.
"""

from __future__ import annotations

import copy
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable

import numpy as np

CORRECT = "✅ correct: "
NOT_YET = "❌ not yet: "
NOT_ATTEMPTED = "⏳ not attempted: "
STUB_LEFT = "the stub still raises NotImplementedError; replace that line with your code"

#: Seconds a student's function may run on one hidden case before it is stopped.
TIME_LIMIT = 5.0
# Hidden cases are random but reproducible; a seed that the notebooks do not use.
SEED = 20240607
# Relative tolerance by the precision of the student's answer (float64, float32, float16).
_RTOL = {8: 1e-6, 4: 2e-3, 2: 2e-2}
# Absolute tolerance: 5e-5 lets a result rounded to 4 decimals pass.
_ATOL = {8: 5.01e-5, 4: 5.01e-5, 2: 1e-3}


class NotYet(Exception):
    """Stops a check at the first problem found; the message is the hint."""


class NotAttempted(Exception):
    """The student's function raised NotImplementedError or returned None untouched."""


class StudentError(Exception):
    """The student's function raised; ``hint`` is added after its type and message."""

    def __init__(self, exc: BaseException, hint: str = ""):
        super().__init__(str(exc))
        self.exc = exc
        self.hint = hint


class _TimeUp(BaseException):
    """Raised by the alarm inside the student's code (BaseException: `except Exception` in
    the student's code does not swallow it)."""


# --------------------------------------------------------------------------------------
# Running the student's function
# --------------------------------------------------------------------------------------
def interrupt_problem() -> str:
    """'' when a student's function can be stopped here, else why it cannot."""
    if sys.platform in ("win32", "cygwin"):
        return "Windows has no timer signal"
    if sys.platform in ("emscripten", "wasi"):
        return "this in-browser Python has no timer signal"
    if not hasattr(signal, "setitimer"):
        return "this Python has no timer signal"
    if threading.current_thread() is not threading.main_thread():
        return "the check runs outside Python's main thread"
    return ""


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list | tuple | dict):
        return copy.deepcopy(value)
    return value


def _same(before, after) -> bool:
    if isinstance(before, np.ndarray):
        return (
            isinstance(after, np.ndarray)
            and before.shape == after.shape
            and bool(np.array_equal(before, after, equal_nan=True))
        )
    return True


def _run_with_limit(fn: Callable, args: tuple, seconds: float):
    """``fn(*args)``, raising _TimeUp after ``seconds`` (a repeating SIGALRM timer)."""
    armed = [True]

    def on_alarm(signum, frame):
        if armed[0]:
            raise _TimeUp

    start = time.monotonic()
    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
    try:
        return fn(*args)
    finally:
        while armed[0]:  # an alarm landing here, just as fn returns, must not skip the rest
            try:
                armed[0] = False
            except _TimeUp:
                pass
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay > 0:  # someone else's timer (e.g. pytest-timeout) keeps its deadline
            left = max(old_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


def call(fn: Callable, *args, case: str = "a hidden case", hint: str = ""):
    """Run the student's ``fn`` on copies of ``args`` and return its result.

    ``case`` names the hidden input in messages ("scores of shape (3, 4)"); ``hint`` is
    added when the function raises. Raises NotAttempted, NotYet or StudentError.
    """
    copies = [_copy(a) for a in args]
    limit = TIME_LIMIT if not interrupt_problem() else None
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if limit is None:
                result = fn(*copies)
            else:
                result = _run_with_limit(fn, tuple(copies), limit)
    except _TimeUp:
        raise NotYet(
            f"{name(fn)} did not finish within {limit:g} s on {case} and was stopped; a "
            "right answer takes well under a second there, so look for a loop that never ends"
        ) from None
    except NotImplementedError as exc:
        raise NotAttempted() from exc
    except SystemExit:
        raise NotYet(
            f"{name(fn)} called sys.exit() or exit(), which would stop the notebook; a "
            "function should `return` its result"
        ) from None
    except Exception as exc:  # the student's code may raise anything; report it, never raise
        raise StudentError(exc, hint) from exc
    if result is None:
        raise NotAttempted(
            f"{name(fn)} returns None; write your code and end it with `return` and the result"
        )
    for before, after in zip(args, copies, strict=True):
        if not _same(before, after):
            raise NotYet(
                f"{name(fn)} changed its input array in place; work on a new array "
                "(write `x = x - m` rather than `x -= m`)"
            )
    return result


def run_checker(body: Callable[[], str], not_attempted: str, *, runs_code: bool = True):
    """Run ``body`` (which returns the success message), print one line, return the verdict."""
    problem = interrupt_problem() if runs_code else ""
    if problem:
        print(
            f"note: {problem}, so a function that never returns cannot be stopped here; "
            "if this cell runs for more than a few seconds, interrupt the kernel"
        )
    try:
        message = body()
    except NotAttempted as stop:
        print(NOT_ATTEMPTED + (one_line(stop, 400) or not_attempted))
        return None
    except NotYet as stop:
        print(NOT_YET + one_line(stop, 400))
        return False
    except StudentError as err:
        print(
            NOT_YET
            + f"your function raised {type(err.exc).__name__}: {one_line(err.exc, 140)}"
            + (f" ({err.hint})" if err.hint else "")
        )
        return False
    except (Exception, _TimeUp) as exc:  # a checker must never stop "Run all"
        print(NOT_YET + f"could not check the answer ({type(exc).__name__}: {one_line(exc)})")
        return False
    print(CORRECT + one_line(message, 400))
    return True


def require_callable(fn: object, checker: str, stub: str) -> None:
    if not callable(fn):
        raise NotYet(
            f"pass the function itself, {checker}({stub}), not the result of calling it "
            "(no parentheses after its name)"
        )


def unpack(result, names: tuple[str, ...]) -> tuple:
    """Check that ``result`` is a tuple of len(names) values; NotYet naming the form if not."""
    wanted = ", ".join(names)
    if result is None:
        raise NotYet(f"the function returned None: did you forget `return {wanted}`?")
    if not isinstance(result, tuple | list) or len(result) != len(names):
        shape = getattr(result, "shape", None)
        raise NotYet(
            f"return {len(names)} values: `return {wanted}`; got {type(result).__name__}"
            + (f" of shape {shape}" if shape is not None else "")
        )
    return tuple(result)


# --------------------------------------------------------------------------------------
# Numbers and arrays
# --------------------------------------------------------------------------------------
def as_array(value, what: str) -> np.ndarray:
    """Turn a returned value into a float array (float32 stays float32), or stop with a hint."""
    if value is None:
        raise NotYet(f"{what} is None: did you forget `return`?")
    try:
        array = np.asarray(value)
        if not (np.issubdtype(array.dtype, np.floating) and array.dtype.itemsize in _RTOL):
            array = array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise NotYet(
            f"{what} should be a numpy array, got {type(value).__name__} ({one_line(exc, 60)})"
        ) from exc
    return array


def tolerance(*arrays: np.ndarray) -> tuple[float, float]:
    """(rtol, atol) for comparing ``arrays``: set by the least precise float among them."""
    size = min((a.dtype.itemsize for a in arrays if a.dtype.itemsize in _RTOL), default=8)
    return _RTOL[size], _ATOL[size]


def close(a, b) -> bool:
    """Same shape and equal within the tolerance; NaN only matches NaN."""
    a, b = np.asarray(a), np.asarray(b)
    rtol, atol = tolerance(a, b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def tolerance_note(expected, got) -> str:
    """' (largest difference ..., tolerance ...)' when ``got`` is near ``expected``, else ''."""
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
    if array.dtype.itemsize < 8:
        return f" (your result is {array.dtype}: compute in float64, numpy's default)"
    return ""


def one_line(text: object, limit: int = 160) -> str:
    """Squeeze ``text`` into a single line of at most ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def name(fn: object) -> str:
    return getattr(fn, "__name__", "your function")


def vec(values, limit: int = 4, decimals: int = 2) -> str:
    """``[0.2113, 0.3498, ...]`` -> ``"[0.21, 0.35, ...]"`` (at most ``limit`` numbers)."""
    flat = np.asarray(values, dtype=float).ravel()
    text = ", ".join(f"{v:.{decimals}f}" for v in flat[:limit])
    return "[" + text + (", ..." if flat.size > limit else "") + "]"


def vec_against(values, reference: float, limit: int = 4) -> str:
    """Like :func:`vec`, with enough decimals that a value unequal to ``reference`` never
    prints as ``reference`` does (row sums of 1.0001 are not shown as 1.00)."""
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
    """``"row 2 should be [...], got [...]"`` for the first row that differs, with enough
    decimals to show the difference."""
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


def matmul_hint(exc: BaseException, hint: str) -> str:
    """Return ``hint`` when ``exc`` looks like a shape mismatch in a product, else ''."""
    text = str(exc).lower()
    words = ("matmul", "aligned", "mismatch", "broadcast", "shapes", "dimension")
    return hint if isinstance(exc, ValueError) and any(w in text for w in words) else ""


class Memory:
    """Remembers the answers a student's function gave, to catch a cached result: the same
    answer for a different input."""

    def __init__(self):
        self.seen: list[tuple[np.ndarray, np.ndarray]] = []

    def check(self, got: np.ndarray, expected: np.ndarray) -> None:
        """Call when ``got`` is wrong; raises NotYet if it repeats an earlier answer."""
        for old_got, old_expected in self.seen:
            if close(got, old_got) and not close(expected, old_expected):
                raise NotYet(
                    "your function gave the same answer for two different hidden inputs (a "
                    "cached result?); compute it from the arguments, not from a variable made "
                    "outside the function or saved from an earlier call"
                )

    def add(self, got: np.ndarray, expected: np.ndarray) -> None:
        self.seen.append((np.array(got, dtype=float), np.array(expected, dtype=float)))


def numerical_gradient(loss: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5):
    """Central finite differences of the scalar ``loss`` at ``x`` (float64, same shape)."""
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
