"""The machinery behind every checker: time limit, sys.exit, inputs, odd returns, wording.

The time-limit tests lower the limit to a fraction of a second and bound their own run time,
so a checker that fails to stop a function makes the test fail instead of hanging.
"""

import signal
import sys
import threading
import time

import numpy as np
import pytest
from exercise_helpers import (
    assert_not_attempted,
    assert_not_yet,
    returns_none,
    run,
    scaled_attend,
    softmax_rows,
    stub,
)

from course_lib import attention
from course_lib.exercises import (
    _format,
    _harness,
    _sandbox,
    check_causal_mask,
    check_cosine_matrix,
    check_cosine_similarity,
    check_dot_product_attention,
    check_masked_attention,
    check_multihead_attention,
    check_padding_mask,
    check_projections,
    check_scaled_attention,
    check_score_gradient,
    check_softmax,
    check_softmax_backward,
    check_variance_experiment,
)

CHECKERS = [
    check_cosine_similarity,
    check_cosine_matrix,
    check_softmax,
    check_softmax_backward,
    check_dot_product_attention,
    check_scaled_attention,
    check_masked_attention,
    check_causal_mask,
    check_padding_mask,
    check_variance_experiment,
    check_projections,
    check_score_gradient,
    check_multihead_attention,
]
by_name = pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
ODD_RETURNS = ["text", {"a": 1}, [[1, 2], [3]], (1, 2, 3, 4), object(), np.nan, 7, True]


@pytest.fixture
def short_limit(monkeypatch):
    monkeypatch.setattr(_harness, "TIME_LIMIT", 0.3)
    return 0.3


# --------------------------------------------------------------------------------------
# The missing answer
# --------------------------------------------------------------------------------------
@by_name
def test_a_stub_is_not_attempted(checker, capsys):
    assert_not_attempted(capsys, checker, stub)


@by_name
def test_a_stub_returning_none_is_not_attempted(checker, capsys):
    line = assert_not_attempted(capsys, checker, returns_none)
    assert "returns None" in line and "`return`" in line


# --------------------------------------------------------------------------------------
# Never stuck: a time limit, sys.exit, KeyboardInterrupt
# --------------------------------------------------------------------------------------
@by_name
def test_a_function_that_never_returns_is_stopped(checker, short_limit, capsys):
    def forever(*args):
        while True:
            time.sleep(0.05)

    start = time.monotonic()
    line = assert_not_yet(capsys, checker, forever, hint=("did not finish within 0.3 s", "stopped"))
    assert time.monotonic() - start < 3.0
    assert "forever" in line


def test_a_busy_loop_that_catches_exceptions_is_stopped(short_limit, capsys):
    def stubborn(scores):
        while True:
            try:
                sum(range(1000))
            except Exception:  # the timer is not an Exception: this does not swallow it
                pass

    start = time.monotonic()
    assert_not_yet(capsys, check_softmax, stubborn, hint="did not finish within 0.3 s")
    assert time.monotonic() - start < 3.0


def test_the_default_limit_is_a_few_seconds():
    assert 2 <= _harness.TIME_LIMIT <= 10


def test_the_kernels_alarm_handler_is_left_as_it_was(short_limit, capsys):
    def mine(signum, frame):
        raise AssertionError("the old handler must not fire")

    old = signal.signal(signal.SIGALRM, mine)
    try:
        run(capsys, check_softmax, softmax_rows)
        assert signal.getsignal(signal.SIGALRM) is mine
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no alarm left to come
    finally:
        signal.signal(signal.SIGALRM, old)


def test_someone_elses_timer_keeps_running(capsys):
    fired = []
    old = signal.signal(signal.SIGALRM, lambda s, f: fired.append(s))
    signal.setitimer(signal.ITIMER_REAL, 30.0)
    try:
        run(capsys, check_softmax, softmax_rows)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 20.0 < left <= 30.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert not fired


@by_name
def test_sys_exit_is_a_not_yet(checker, capsys):
    def leaves(*args):
        sys.exit(1)

    assert_not_yet(capsys, checker, leaves, hint=("sys.exit()", "`return`"))


def test_exit_without_a_code_is_a_not_yet(capsys):
    def leaves(scores):
        raise SystemExit

    assert_not_yet(capsys, check_softmax, leaves, hint="sys.exit()")


def test_keyboard_interrupt_still_stops_the_check(capsys):
    def interrupted(scores):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check_softmax(interrupted)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_where_the_platform_cannot_fork_the_checker_says_so(monkeypatch, capsys):
    monkeypatch.setattr(_sandbox, "fork_problem", lambda: "Windows cannot fork a process")
    assert check_softmax(softmax_rows) is True
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("note: Windows cannot fork a process")
    assert "interrupt the kernel" in lines[0]
    assert lines[1].startswith("✅ correct: ")


@pytest.mark.parametrize(
    ("platform", "words"),
    [("win32", "Windows"), ("emscripten", "in-browser"), ("linux", "")],
)
def test_fork_problem_by_platform(monkeypatch, platform, words):
    monkeypatch.setattr(sys, "platform", platform)
    problem = _sandbox.fork_problem()
    assert (words in problem) if words else problem == ""


def test_a_checker_in_a_thread_still_has_a_time_limit(short_limit, capsys):
    results = []

    def forever(scores):
        while True:
            pass

    thread = threading.Thread(target=lambda: results.append(check_softmax(forever)))
    thread.start()
    thread.join(30)
    out = capsys.readouterr().out.splitlines()
    assert results == [False]
    assert "did not finish within 0.3 s" in out[-1]


# --------------------------------------------------------------------------------------
# Inputs: never modified, never trusted after the call
# --------------------------------------------------------------------------------------
def test_in_place_modification_is_named(capsys):
    def in_place(scores):
        scores -= scores.max(axis=-1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=-1, keepdims=True)

    assert_not_yet(capsys, check_softmax, in_place, hint=("in place", "x = x - m"))


def test_in_place_scaling_of_the_queries_is_named(capsys):
    def scales_queries(queries, keys, values):
        queries /= np.sqrt(queries.shape[-1])
        weights = np.exp(queries @ np.swapaxes(keys, -1, -2))
        weights /= weights.sum(axis=-1, keepdims=True)
        return weights @ values, weights

    assert_not_yet(capsys, check_scaled_attention, scales_queries, hint="in place")


def test_the_checker_keeps_its_own_copies(capsys):
    """A function that spoils its inputs after computing cannot change the reference."""

    def spoils(queries, keys, values):
        result = scaled_attend(queries, keys, values)
        for a in (queries, keys, values):
            a[...] = 0.0
        return result

    line = assert_not_yet(capsys, check_scaled_attention, spoils, hint="in place")
    assert "correct" not in line


@by_name
@pytest.mark.parametrize("value", ODD_RETURNS, ids=lambda v: type(v).__name__)
def test_odd_returns_get_a_not_yet(checker, value, capsys):
    result, line = run(capsys, checker, lambda *args: value)
    assert result is False
    assert line.startswith("❌ not yet: ")


@by_name
@pytest.mark.parametrize("exc", [ZeroDivisionError("boom"), KeyError("k"), RecursionError("r")])
def test_student_exceptions_are_reported(checker, exc, capsys):
    def raises(*args):
        raise exc

    result, line = run(capsys, checker, raises)
    assert result is False
    assert f"raised {type(exc).__name__}" in line


@by_name
def test_numpy_warnings_are_not_printed(checker, capsys):
    def noisy(*args):
        return np.log(np.zeros(3)) / 0.0

    result = checker(noisy)
    captured = capsys.readouterr()
    assert result is False
    assert len(captured.out.splitlines()) == 1
    assert captured.err == ""


@by_name
def test_passing_a_result_instead_of_a_function(checker, capsys):
    assert_not_yet(capsys, checker, 0.5, hint="pass the function itself")


# --------------------------------------------------------------------------------------
# Wording
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"), [(0.3471, 0.34712), (1.0, 1.0 + 1e-12), (0.5, 0.4999999), (-2.0, -2.00001)]
)
def test_two_numbers_are_never_shown_equal(a, b):
    want, have = _format.two_numbers(a, b)
    assert want != have


def test_row_diff_shows_a_difference_beyond_two_decimals():
    expected = np.array([[0.2, 0.3, 0.5]])
    got = expected + np.array([[0.0, 3e-4, -3e-4]])
    text = _format.row_diff(expected, got)
    want, have = text.split(" should be ")[1].split(", got ")
    assert want != have


def test_a_close_miss_states_the_tolerance(capsys):
    line = assert_not_yet(
        capsys,
        check_cosine_similarity,
        lambda a, b: 1.0001 * a @ b / np.linalg.norm(a) / np.linalg.norm(b),
    )
    assert "tolerance" in line and "4 decimals" in line


def test_row_sums_near_one_are_printed_with_enough_digits(capsys):
    line = assert_not_yet(capsys, check_softmax, lambda s: 1.0001 * softmax_rows(s))
    sums = line.split("rows sum to [")[1].split("]")[0]
    assert "1.0001" in sums and "1.00," not in sums


def test_vec_against_never_prints_a_different_value_as_the_reference():
    text = _format.vec_against([1.0, 1.0 + 1e-9, 0.99999], 1.0)
    values = text.strip("[]").split(", ")
    assert values[1] != values[0] and values[2] != values[0]


def test_padding_weight_is_shown_even_when_tiny(capsys):
    def leaks(queries, keys, values, keep):
        scores = queries @ keys.T / np.sqrt(queries.shape[-1])
        blocked = scores.max(axis=-1, keepdims=True) - 700.0  # exp(-700) is not 0
        weights = attention.softmax(np.where(keep, scores, blocked))
        return weights @ values, weights

    line = assert_not_yet(capsys, check_masked_attention, leaks, hint="exactly 0")
    assert "e-" in line  # e.g. "as large as 2.3e-304", never "0.00"
