"""Helpers shared by the tests of course_lib.exercises (test_exercises_*.py)."""

import contextlib
import io

import numpy as np

from course_lib import attention

CORRECT, NOT_YET, NOT_ATTEMPTED = "✅ correct: ", "❌ not yet: ", "⏳ not attempted: "


def run(capsys, checker, *args):
    """Call a checker; return (its return value, the single line it printed)."""
    result = checker(*args)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 1, f"expected exactly one printed line, got {out!r}"
    return result, lines[0]


def assert_correct(capsys, checker, *args):
    result, line = run(capsys, checker, *args)
    assert result is True, line
    assert line.startswith(CORRECT), line
    return line


def assert_not_yet(capsys, checker, *args, hint=()):
    result, line = run(capsys, checker, *args)
    assert result is False, line
    assert line.startswith(NOT_YET), line
    for fragment in (hint,) if isinstance(hint, str) else hint:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def assert_not_attempted(capsys, checker, *args):
    result, line = run(capsys, checker, *args)
    assert result is None, line
    assert line.startswith(NOT_ATTEMPTED), line
    return line


def quiet(checker, *args):
    """Run a checker with its line swallowed (hypothesis calls it many times)."""
    with contextlib.redirect_stdout(io.StringIO()) as out:
        result = checker(*args)
    assert len(out.getvalue().splitlines()) == 1, out.getvalue()
    return result


def stub(*args):
    raise NotImplementedError("write your code here")


def returns_none(*args):
    """A stub whose body is `pass`."""


def softmax_rows(scores):
    shifted = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def scaled_attend(queries, keys, values):
    d_k = queries.shape[-1]
    weights = attention.softmax(queries @ np.swapaxes(keys, -1, -2) / np.sqrt(d_k))
    return weights @ values, weights
