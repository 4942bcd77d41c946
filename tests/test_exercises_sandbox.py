"""The time limit cannot be switched off, nothing escapes, and results come back as data.

Each test lowers the limit to a fraction of a second and bounds its own run time, so a
limit that fails makes the test fail instead of hanging. Every trick that defeated the old
SIGALRM timer is here: ignoring or replacing the signal, alarm(0), setitimer, a blocked
signal mask, `except BaseException` in a loop, an `__array__` or `__str__` that loops.
"""

import os
import signal
import sys
import time
import warnings

import numpy as np
import pytest
from exercise_helpers import assert_correct, assert_not_yet, softmax_rows

from course_lib.exercises import _harness, _sandbox, check_softmax
from course_lib.exercises._transfer import Unusual

pytestmark = pytest.mark.skipif(bool(_sandbox.fork_problem()), reason="needs os.fork")


@pytest.fixture
def short_limit(monkeypatch):
    monkeypatch.setattr(_harness, "TIME_LIMIT", 0.3)


def _spin():
    while True:
        try:
            sum(range(1000))
        except BaseException:  # swallows everything, including a timer's exception
            pass


def _ignore_alarm(scores):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    _spin()


def _alarm_off(scores):
    signal.alarm(0)
    signal.setitimer(signal.ITIMER_REAL, 0)
    _spin()


def _own_handler(scores):
    signal.signal(signal.SIGALRM, lambda *args: None)
    signal.setitimer(signal.ITIMER_REAL, 100.0)
    _spin()


def _blocked(scores):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGINT, signal.SIGTERM})
    _spin()


def _sleeps(scores):
    time.sleep(60)


def _forks(scores):
    os.fork()
    _spin()


class _LoopingArray:
    def __array__(self, dtype=None, copy=None):
        _spin()


class _LoopingError(Exception):
    def __str__(self):
        _spin()


def _raises_looping(scores):
    raise _LoopingError


@pytest.mark.parametrize(
    "fn",
    [
        _ignore_alarm,
        _alarm_off,
        _own_handler,
        _blocked,
        _sleeps,
        lambda s: _spin(),
        _forks,
        lambda s: _LoopingArray(),
        _raises_looping,
    ],  # fmt: skip
    ids=[
        "SIG_IGN",
        "alarm-0",
        "own-handler",
        "sigmask",
        "sleep",
        "except-BaseException",
        "fork",
        "__array__-loops",
        "__str__-loops",
    ],  # fmt: skip
)
def test_nothing_switches_the_limit_off(fn, short_limit, capsys):
    start = time.monotonic()
    assert_not_yet(capsys, check_softmax, fn, hint=("did not finish within 0.3 s", "stopped"))
    assert time.monotonic() - start < 3.0
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.default_int_handler, None)


def test_forked_grandchildren_are_killed(short_limit, tmp_path, capsys):
    marker = tmp_path / "pids"

    def spawns(scores):
        for _ in range(3):
            if os.fork() == 0:
                with open(marker, "a") as out:
                    out.write(f"{os.getpid()}\n")
                _spin()
        _spin()

    assert_not_yet(capsys, check_softmax, spawns, hint="did not finish")
    time.sleep(0.3)
    pids = [int(p) for p in marker.read_text().split()]
    assert pids
    for pid in pids:
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for init is dead
                assert stat.read().split()[2] == "Z", f"{pid} still runs"
        except (ProcessLookupError, FileNotFoundError):
            pass


def _running(pid):
    """Whether ``pid`` still runs (a zombie waiting for its parent or init has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def _escapes(marker, then):
    """A function that starts a process outside its group (setsid, its parent gone)."""

    def escapes(scores):
        if os.fork() == 0:
            os.setsid()  # a new session: killpg of the child's group misses it
            if os.fork() == 0:
                with open(marker, "a") as out:
                    out.write(f"{os.getpid()}\n")
                _spin()
            os._exit(0)  # the grandchild is now an orphan
        time.sleep(0.2)
        if then == "returns":
            return softmax_rows(scores)
        if then == "exits":
            os._exit(3)
        _spin()

    return escapes


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="finds processes in /proc (Linux)")
@pytest.mark.parametrize("then", ["returns", "spins", "exits"])
def test_a_process_that_left_the_group_is_stopped_too(then, short_limit, tmp_path, capsys):
    marker = tmp_path / "pids"
    check_softmax(_escapes(marker, then))
    capsys.readouterr()
    time.sleep(0.2)
    pids = [int(p) for p in marker.read_text().split()]
    assert pids  # it really started
    still = [pid for pid in pids if _running(pid)]
    for pid in still:  # do not leave it spinning when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not still, f"{len(still)} of {len(pids)} escaped processes still run"
    children = [p for p in os.listdir("/proc") if p.isdigit() and _running(int(p))]
    ours = [p for p in children if open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1]
            == str(os.getpid())]  # fmt: skip
    assert not ours, "the kernel kept adopted processes"


def test_the_kernel_state_survives_and_the_next_check_runs(short_limit, capsys):
    before = np.geterr()
    assert_not_yet(capsys, check_softmax, _ignore_alarm, hint="did not finish")
    assert np.geterr() == before
    assert_correct(capsys, check_softmax, softmax_rows)


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (GeneratorExit("g"), "raised GeneratorExit"),
        (SystemExit(3), "sys.exit()"),
        (RecursionError("deep"), "raised RecursionError"),
        (MemoryError(), "raised MemoryError"),
        (type("Custom", (BaseException,), {})(), "raised Custom"),
    ],
    ids=["GeneratorExit", "SystemExit", "RecursionError", "MemoryError", "custom-BaseException"],
)
def test_every_base_exception_becomes_a_verdict(exc, words, capsys):
    def raises(scores):
        raise exc

    assert_not_yet(capsys, check_softmax, raises, hint=words)


def test_sys_exit_inside_array_conversion_is_a_verdict(capsys):
    class Exits:
        def __array__(self, dtype=None, copy=None):
            sys.exit(1)

    assert_not_yet(capsys, check_softmax, lambda s: Exits(), hint="sys.exit()")


def test_os_exit_and_a_crash_are_verdicts(capsys):
    assert_not_yet(capsys, check_softmax, lambda s: os._exit(4), hint="os._exit(4)")
    assert_not_yet(capsys, check_softmax, lambda s: os.kill(os.getpid(), 9), hint="signal 9")


def test_keyboard_interrupt_from_the_student_stops_the_run():
    def interrupts(scores):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check_softmax(interrupts)


def test_prints_of_the_student_still_show_above_the_verdict(capsys):
    def chatty(scores):
        print("debug", scores.shape)
        print("to stderr", file=sys.stderr)
        return softmax_rows(scores)

    assert check_softmax(chatty) is True
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "debug (3, 4)" and "to stderr" in lines
    assert lines[-1].startswith("✅ correct: ")


def test_a_flood_of_output_is_cut(short_limit, capsys):
    def floods(scores):
        while True:
            print("x" * 1000)

    check_softmax(floods)
    out = capsys.readouterr().out
    assert "more bytes of output not shown" in out
    assert len(out) < 3 * _sandbox.OUTPUT_LIMIT


def test_input_does_not_wait(capsys):
    assert_not_yet(capsys, check_softmax, lambda s: input("? "), hint="input()")


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (np.arange(3.0), np.ndarray),
        ((1, [2.5, "a"], None), tuple),
        (np.float32(1.5), np.float32),
        (3, int),
        (12345, int),
        (2**70, int),
        (complex(1, 2), complex),
        ("text", str),
        ({"a": 1}, Unusual),
        (np.array([object()]), Unusual),
        (object(), Unusual),
    ],
)
def test_values_cross_back_as_data(value, kind):
    outcome = _sandbox.run(lambda: value, (), 2.0)
    assert outcome.kind == "returned" and isinstance(outcome.value, kind)
    if kind in (int, str, complex, tuple):
        assert outcome.value == value


def test_complex_object_and_text_results_are_named_not_cast(capsys):
    assert_not_yet(capsys, check_softmax, lambda s: softmax_rows(s) + 0j, hint="complex")
    assert_not_yet(capsys, check_softmax, lambda s: softmax_rows(s).astype(object), hint="objects")
    assert_not_yet(capsys, check_softmax, lambda s: softmax_rows(s).astype(str), hint="dtype <U")
    assert_not_yet(capsys, check_softmax, lambda s: {"w": 1}, hint="dict")


def test_results_are_never_pickled(monkeypatch):
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    assert _sandbox.run(lambda: (np.ones(2), [1, "a"]), (), 2.0).kind == "returned"


def test_fork_warning_with_warnings_as_errors(monkeypatch, capsys):
    """Python 3.12+ warns (DeprecationWarning) when a threaded process forks; with the
    notebook's warnings turned into errors the check must still run."""
    real_fork = os.fork

    def warning_fork():
        pid = real_fork()
        if pid:
            warnings.warn(
                "This process is multi-threaded, use of fork() may lead to deadlocks in the child.",
                DeprecationWarning,
                stacklevel=2,
            )
        return pid

    monkeypatch.setattr(os, "fork", warning_fork)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_correct(capsys, check_softmax, softmax_rows)


def test_in_process_fallback_gives_the_same_verdicts(monkeypatch, capsys):
    monkeypatch.setattr(_sandbox, "fork_problem", lambda: "this in-browser Python cannot start")
    assert check_softmax(lambda s: softmax_rows(s) + 0j) is False
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("note: ") and "complex" in lines[1]


def test_a_checker_costs_a_few_milliseconds_per_call():
    start = time.perf_counter()
    for _ in range(20):
        _sandbox.run(lambda: np.ones(3), (), 2.0)
    assert (time.perf_counter() - start) / 20 < 0.25  # generous: shared CI machines


def test_a_huge_result_is_named_not_carried_back(capsys):
    """240 MB of result used to cross into the kernel (721 MB peak, 7 s); now it is named."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    line = assert_not_yet(capsys, check_softmax, lambda s: np.ones(30_000_000), hint="too large")
    assert "(30000000,)" in line and "229 MB" in line
    assert time.monotonic() - start < 4.0
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024  # Linux: kB
    assert grown_mb < 50, f"the kernel's peak memory grew by {grown_mb:.0f} MB"


@pytest.mark.torch
def test_pytorch_works_in_the_check_after_the_kernel_used_it(capsys):
    """PyTorch's thread pool does not survive a fork: its first parallel operation in the
    child waited forever ("did not finish within 5 s"), e.g. a multi-head function written
    with torch in notebook 05 after the kernel had run torch's own layer."""
    torch = pytest.importorskip("torch")
    x = torch.randn(300, 300)
    assert float((x @ x).softmax(-1).sum()) > 0  # the kernel's pool is started

    def with_torch(scores):
        weights = torch.softmax(torch.from_numpy(scores), -1)
        torch.randn(300, 300) @ torch.randn(300, 300)  # a parallel operation
        return weights.numpy()

    assert_correct(capsys, check_softmax, with_torch)
