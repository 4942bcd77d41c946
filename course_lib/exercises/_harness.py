"""The machinery every checker shares: run the student's function, compare, word the verdict.

A checker's body raises one of three exceptions at the first problem it finds:
``NotYet(hint)``, ``NotAttempted()``, or ``StudentError`` (the student's code raised).
:func:`run_checker` turns that into the single printed line and the return value (True /
False / None). It lets nothing escape but KeyboardInterrupt (the user stopping the run), and
it runs the check with numpy's error state, the warning filters and the print options set
here, so a notebook's ``np.seterr(all="raise")`` or ``warnings.simplefilter("error")`` does
not change a verdict.

:func:`call` runs the student's function through :mod:`course_lib.exercises._sandbox` (a
forked child with a time limit of :data:`TIME_LIMIT` seconds, where the platform has
processes), with course_lib's own answer to the exercise disabled
(:mod:`course_lib.exercises._tripwire`). :func:`compare` is the comparison loop of every
checker: the shape, the values within the tolerance, a repeated (cached) answer, the
classic mistakes the checker lists, and the first row that differs.
"""

from __future__ import annotations

import functools
import re
import types
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from course_lib.exercises import _sandbox, _tripwire
from course_lib.exercises._format import (
    Memory,
    NotYet,
    as_array,
    close,
    kind_of,
    one_line,
    precision_note,
    row_diff,
    tolerance_note,
)

CORRECT = "✅ correct: "
NOT_YET = "❌ not yet: "
NOT_ATTEMPTED = "⏳ not attempted: "
STUB_LEFT = "the stub still raises NotImplementedError; replace that line with your code"

#: Seconds a student's function may run on one hidden case before it is stopped.
TIME_LIMIT = 5.0
# Hidden cases are random but reproducible; a seed that the notebooks do not use.
SEED = 20240607
_PRINT_DEFAULTS = dict(  # numpy's own defaults, whatever the notebook set
    precision=8,
    threshold=1000,
    edgeitems=3,
    linewidth=75,
    suppress=False,
    nanstr="nan",
    infstr="inf",
    formatter=None,
    sign="-",
    floatmode="maxprec",
    legacy=False,
)


class NotAttempted(Exception):
    """The student's function raised NotImplementedError or returned None."""


class StudentError(Exception):
    """The student's function raised; ``hint`` is added after its type and message."""

    def __init__(self, type_name: str, text: str, hint: str = ""):
        super().__init__(text)
        self.type_name, self.text, self.hint = type_name, text, hint


@dataclass(frozen=True)
class Exercise:
    """What a checker checks: its name, the function the student writes, what is disabled."""

    checker: str
    stub: str
    forbidden: tuple[str, ...] = ()
    task: str = "with numpy"


_CURRENT: list[Exercise] = []


def name(fn: object) -> str:
    """Return the name of the student's function, read without running any of its code."""
    if isinstance(fn, functools.partial):
        fn = fn.func
    if isinstance(fn, types.FunctionType | types.BuiltinFunctionType | types.MethodType):
        return fn.__name__
    return "your function"


def call(fn: Callable, *args, case: str = "a hidden case", hint: str = ""):
    """Run the student's ``fn`` on copies of ``args`` and return what it returned.

    ``case`` names the hidden input in messages ("scores of shape (3, 4)"); ``hint`` is
    added when the function raises. Raises NotAttempted, NotYet or StudentError.
    """
    exercise = _CURRENT[-1] if _CURRENT else Exercise("check", "your function")
    outcome = _sandbox.run(fn, args, TIME_LIMIT, exercise.forbidden)
    if outcome.output:
        print(outcome.output, end="" if outcome.output.endswith("\n") else "\n")
    who = name(fn)
    if outcome.kind == "timeout":
        raise NotYet(
            f"{who} did not finish within {TIME_LIMIT:g} s on {case} and was stopped; a right "
            "answer takes well under a second there, so look for a loop that never ends"
        )
    if outcome.kind == "forbidden":
        raise NotYet(
            f"{who} called {_tripwire.shown(outcome.forbidden)} (directly or through another "
            f"course_lib function): this exercise asks you to write {exercise.stub} yourself, "
            f"{exercise.task}"
        )
    if outcome.kind == "not_implemented":
        raise NotAttempted()
    if outcome.kind == "exit":
        raise NotYet(
            f"{who} called sys.exit() or exit(), which would stop the notebook; a function "
            "should `return` its result"
        )
    if outcome.kind == "died":
        how = (
            f"signal {outcome.extra.get('signal')}"
            if outcome.extra.get("signal")
            else (f"os._exit({outcome.extra.get('code')})")
        )
        raise NotYet(
            f"{who} ended the process it ran in ({how}) on {case}; a function should "
            "`return` its result"
        )
    if outcome.kind == "raised":
        raise StudentError(outcome.error_type, outcome.error_text, hint)
    if outcome.value is None:
        raise NotAttempted(
            f"{who} returns None; write your code and end it with `return` and the result"
        )
    if outcome.changed_input >= 0:
        raise NotYet(
            f"{who} changed its input array in place; work on a new array "
            "(write `x = x - m` rather than `x -= m`)"
        )
    return outcome.value


def run_checker(exercise: Exercise | None, fn, body: Callable[[], str], not_attempted=STUB_LEFT):
    """Run ``body`` (which returns the success message), print one line, return the verdict.

    ``exercise`` is None for the predictions, which run no student code.
    """
    if exercise is not None:
        problem = _sandbox.fork_problem()
        if problem:
            print(
                f"note: {problem}, so a function that never returns cannot be stopped here; "
                "if this cell runs for more than a few seconds, interrupt the kernel"
            )
        _CURRENT.append(exercise)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            with np.printoptions(**_PRINT_DEFAULTS):
                if exercise is not None:
                    require_callable(fn, exercise.checker, exercise.stub)
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
            + f"your function raised {err.type_name}: {one_line(err.text, 140)}"
            + (f" ({err.hint})" if err.hint else "")
        )
        return False
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a checker must never stop "Run all"
        print(NOT_YET + f"could not check the answer ({type(exc).__name__}: {one_line(exc)})")
        return False
    finally:
        if exercise is not None:
            _CURRENT.pop()
    print(CORRECT + one_line(message, 400))
    return True


def require_callable(fn: object, checker: str, stub: str) -> None:
    """Stop with a hint when ``fn`` is not a function (the result of calling it, say)."""
    if not callable(fn):
        raise NotYet(
            f"pass the function itself, {checker}({stub}), not the result of calling it "
            f"(no parentheses after its name); got {kind_of(fn)}"
        )


def unpack(result, names: tuple[str, ...]) -> tuple:
    """Return ``result`` as a tuple of len(names) values; NotYet naming the form if not."""
    wanted = ", ".join(names)
    if not isinstance(result, tuple | list) or len(result) != len(names):
        raise NotYet(f"return {len(names)} values: `return {wanted}`; got {kind_of(result)}")
    return tuple(result)


def compare(
    got,
    expected: np.ndarray,
    *,
    what: str,
    case: str,
    memory: Memory | None = None,
    variants: Callable[[], Iterable[tuple[np.ndarray, str]]] | None = None,
    wrong_shape: Callable[[tuple], str] | None = None,
    differ: Callable[[np.ndarray], str] | None = None,
) -> np.ndarray:
    """Check one returned array against the reference; return it, or raise NotYet.

    In order: ``got`` must be an array of real numbers, of the reference's shape
    (``wrong_shape(shape)`` words the hint), equal within the tolerance; else a repeated
    answer is named, then the first of ``variants()`` (classic mistakes, each with its
    hint) that matches, then ``differ(got)`` or the first row that differs.
    """
    got = as_array(got, what)
    if got.shape != expected.shape:
        raise NotYet(
            wrong_shape(got.shape)
            if wrong_shape
            else f"for {case}, {what} should have shape {expected.shape}, got {got.shape}"
        )
    if close(got, expected):
        if memory is not None:
            memory.add(got, expected)
        return got
    if memory is not None:
        memory.check(got, expected)
    for variant, hint in variants() if variants else ():
        if np.shape(variant) == got.shape and close(got, variant):
            raise NotYet(hint)
    if differ is not None:
        raise NotYet(differ(got))
    raise NotYet(
        f"for {case}, {what}: {row_diff(np.atleast_2d(expected), np.atleast_2d(got))}"
        + tolerance_note(expected, got)
        + precision_note(got)
    )


def lost_axis(err: StudentError, kept: str) -> NotYet | None:
    """Return a NotYet naming a lost axis when the student's code failed to broadcast."""
    if err.type_name != "ValueError" or "broadcast" not in err.text:
        return None
    shapes = re.findall(r"\(([\d, ]*)\)", err.text)[:2]
    shown = " and ".join(f"({s.replace(',', ', ').strip()})" for s in shapes) or "two shapes"
    return NotYet(
        f"your function raised ValueError: numpy cannot line up arrays of shapes {shown}: {kept}"
    )


def matmul_hint(err: StudentError, hint: str) -> str:
    """Return ``hint`` when ``err`` looks like a shape mismatch in a product, else ''."""
    text = err.text.lower()
    words = ("matmul", "aligned", "mismatch", "broadcast", "shapes", "dimension")
    return hint if err.type_name == "ValueError" and any(w in text for w in words) else ""
