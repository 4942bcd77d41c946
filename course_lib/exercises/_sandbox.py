"""Run a student's function where it can always be stopped, and bring back what it returned.

Where the platform has processes (Linux, macOS, Colab), :func:`run` forks the kernel: the
child is a copy of it, so the student's function sees the notebook's globals, and it runs
there under a deadline. When the deadline passes, the child's whole process group gets
SIGKILL, which no signal handler, ``signal.alarm(0)``, blocked signal mask or ``except
BaseException`` can refuse; any processes the student's code forked go with it. The kernel
and its state are untouched, so the next cell runs. A process that left the group
(``os.setsid()``) is found and stopped too, on Linux (:mod:`course_lib.exercises._reaper`).

Nothing crosses back as a pickle. The child sends one frame: a JSON description of the
result, with numpy arrays written by ``np.save(..., allow_pickle=False)``. Tuples, lists,
numbers, strings and None are described; anything else is named by its type, not
converted. Every conversion that could run student code (``__array__``, ``__str__`` of an
exception) happens in the child, under the deadline. The child's stdout and stderr go into a
pipe and the parent prints them, so a student's debugging prints still show, while the child
never touches the kernel's own output streams.

Where there is no ``os.fork`` (Pyodide in JupyterLite, Windows), :func:`run` calls the
function in the kernel itself, with the same conversions and no time limit.
"""

from __future__ import annotations

import builtins
import copy
import gc
import io
import os
import select
import signal
import struct
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from course_lib.exercises import _reaper, _tripwire
from course_lib.exercises._transfer import Unusual, describe, pack, rebuild, safe_text, unpack

#: Printed output of the student's function kept for display (the rest is counted, not kept).
OUTPUT_LIMIT = 20_000
_STARTED, _RESULT = b"S", b"R"
_FORK_BROKEN: list[str] = []  # why forking failed once in this kernel (then: run in-process)


@dataclass
class Outcome:
    """What happened when the student's function ran.

    ``kind`` is one of "returned", "raised", "not_implemented", "exit", "forbidden",
    "interrupted", "timeout", "died".
    """

    kind: str
    value: object = None
    error_type: str = ""
    error_text: str = ""
    forbidden: str = ""
    changed_input: int = -1  # index of an argument the function changed in place
    output: str = ""
    extra: dict = field(default_factory=dict)


def fork_problem() -> str:
    """Return '' when student code runs in a child process here, else why it cannot."""
    if sys.platform in ("emscripten", "wasi"):
        return "this in-browser Python cannot start processes"
    if not hasattr(os, "fork") or sys.platform in ("win32", "cygwin"):
        return "Windows cannot fork a process"
    if _FORK_BROKEN:
        return _FORK_BROKEN[0]
    return ""


# --------------------------------------------------------------------------------------
# One call, the same in the child and in-process
# --------------------------------------------------------------------------------------
def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list | tuple | dict):
        return copy.deepcopy(value)
    return value


def _unchanged(before, after) -> bool:
    if isinstance(before, np.ndarray):
        return (
            isinstance(after, np.ndarray)
            and before.shape == after.shape
            and bool(np.array_equal(before, after, equal_nan=True))
        )
    return True


def _call_here(fn: Callable, args: tuple, forbidden: tuple[str, ...], child: bool):
    """Call ``fn`` on copies of ``args``; return (report, blobs).

    In the kernel itself (``child`` False) a KeyboardInterrupt is raised again.
    """
    copies = [_copy(a) for a in args]
    blobs: list[bytes] = []
    with _tripwire.disabled(forbidden, restore=not child) as trips:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                value = fn(*copies)
                report = {"kind": "returned", "value": describe(value, blobs)}
            except _tripwire.Tripped:
                report = {"kind": "forbidden"}
            except NotImplementedError:
                report = {"kind": "not_implemented"}
            except SystemExit as exc:
                report = {"kind": "exit", "error_text": safe_text(exc.code)}
            except KeyboardInterrupt:
                if not child:
                    raise
                report = {"kind": "interrupted"}
            except BaseException as exc:  # anything else the student's code raises
                report = {
                    "kind": "raised",
                    "error_type": safe_text(type(exc).__name__, 80),
                    "error_text": safe_text(exc),
                }
    if trips:
        report = {"kind": "forbidden", "forbidden": trips[0]}
    for i, (before, after) in enumerate(zip(args, copies, strict=True)):
        if not _unchanged(before, after):
            report["changed_input"] = i
            break
    return report, blobs


def _outcome(report: dict, blobs: list[bytes], output: str):
    value = rebuild(report["value"], blobs) if report["kind"] == "returned" else None
    return Outcome(
        kind=report["kind"],
        value=value,
        error_type=report.get("error_type", ""),
        error_text=report.get("error_text", ""),
        forbidden=report.get("forbidden", ""),
        changed_input=report.get("changed_input", -1),
        output=output,
    )


def run_in_process(fn: Callable, args: tuple, forbidden: tuple[str, ...] = ()) -> Outcome:
    """Call ``fn(*args)`` in this process (no time limit) and describe what happened."""
    report, blobs = _call_here(fn, args, forbidden, child=False)
    try:
        return _outcome(report, blobs, "")
    except (ValueError, OSError) as exc:  # np.load refusing what np.save wrote: a dtype
        return Outcome("returned", Unusual("array", safe_text(exc)))


# --------------------------------------------------------------------------------------
# The forked child
# --------------------------------------------------------------------------------------
def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _child(fn, args, forbidden, result_w: int, output_w: int) -> None:
    """Body of the forked child: never returns, always ends with os._exit."""
    code = 0
    try:
        os.setpgid(0, 0)  # its own process group: one killpg stops it and what it forks
        _reaper.adopt_orphans(True)  # and the orphans of whatever leaves the group
        gc.disable()  # no finalizer of the kernel's objects runs here
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        for name in ("stdout", "stderr", "__stdout__", "__stderr__"):
            fd = 2 if "err" in name else 1
            raw = io.FileIO(fd, "w", closefd=False)
            setattr(sys, name, io.TextIOWrapper(raw, "utf-8", "backslashreplace", None, True))
        sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
        builtins.input = _no_input
        _silence_display()
        _without_inherited_thread_pools()
        _write_all(result_w, _STARTED)
        report, blobs = _call_here(fn, args, forbidden, child=True)
        if _reaper.has_children():  # processes the function started and left running
            _reaper.kill_below()
        frame = pack(report, blobs)
        _write_all(result_w, _RESULT + struct.pack("<Q", len(frame)) + frame)
    except BaseException:  # nothing may leave the child except through os._exit
        code = 1
    finally:
        os._exit(code)


def _no_input(prompt=""):
    raise EOFError("input() cannot be used in a function that a checker runs")


def _without_inherited_thread_pools() -> None:
    """Keep PyTorch in the child on one thread: its pool's threads were not forked with it.

    A kernel that ran PyTorch before the check has a thread pool; in the forked child the
    pool's threads are gone, and PyTorch's first parallel operation there waits for them
    forever (the check would be "too slow" whatever the student wrote).
    """
    torch = sys.modules.get("torch")
    try:
        if torch is not None:
            torch.set_num_threads(1)
    except Exception:  # noqa: BLE001 - a broken torch: the student's code will say so
        pass


def _silence_display() -> None:
    """Stop IPython's display() from writing to the kernel's sockets from the child."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython else None
    if shell is not None and hasattr(shell, "display_pub"):
        shell.display_pub.publish = lambda *args, **kwargs: None


def _fork() -> int:
    # Python 3.12+ warns that forking a threaded process (a Jupyter kernel) may deadlock
    # the child; this child only runs the student's function, numpy and os._exit. The
    # warning must not become an error either (warnings.simplefilter("error")).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def _wait_for(pid: int, result_r: int, output_r: int, limit: float):
    """Read the child's frames until its result is complete, it dies, or time is up."""
    deadline = time.monotonic() + limit
    result, output, dropped = bytearray(), bytearray(), 0
    open_fds = {result_r, output_r}
    pidfd = _pidfd(pid)
    status = "timeout"
    while True:
        if len(result) >= 10 and result[:1] == _STARTED:
            wanted = 10 + struct.unpack("<Q", bytes(result[2:10]))[0]
            if len(result) >= wanted:
                status = "done"
                break
        left = deadline - time.monotonic()
        if left <= 0:
            break
        watch = list(open_fds) + ([pidfd] if pidfd is not None else [])
        ready, _, _ = select.select(watch, [], [], min(left, 0.05 if pidfd is None else left))
        for fd in ready:
            if fd == pidfd:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.discard(fd)
            elif fd == result_r:
                result += chunk
            elif len(output) < OUTPUT_LIMIT:
                output += chunk
            else:
                dropped += len(chunk)
        exited = pidfd in ready if pidfd is not None else _has_exited(pid)
        if exited or result_r not in open_fds:
            result += _drain(result_r) if result_r in open_fds else b""
            wanted = 10 + struct.unpack("<Q", bytes(result[2:10]))[0] if len(result) >= 10 else 0
            status = "done" if wanted and len(result) >= wanted else "died"
            break
    if pidfd is not None:
        os.close(pidfd)
    return status, bytes(result), output, dropped


def _pidfd(pid: int):
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _has_exited(pid: int) -> bool:
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except (AttributeError, ChildProcessError, OSError):
        return False


def _drain(fd: int, seconds: float = 0.2) -> bytes:
    data, end = bytearray(), time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _end(pid: int) -> int:
    """Kill the child's process group (the child and whatever it forked); reap the child."""
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError, OSError):
            pass
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def _flush_parent() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass


def run(fn: Callable, args: tuple, limit: float, forbidden: tuple[str, ...] = ()) -> Outcome:
    """Call ``fn(*args)`` in a forked child stopped after ``limit`` seconds.

    Falls back to :func:`run_in_process` where there is no fork, or when forking fails.
    A KeyboardInterrupt (the kernel interrupted) kills the child and is raised again.
    """
    if fork_problem():
        return run_in_process(fn, args, forbidden)
    _tripwire.prepare(forbidden)
    _reaper.prepare()
    _flush_parent()
    result_r, result_w = os.pipe()
    output_r, output_w = os.pipe()
    _reaper.adopt_orphans(True)  # until the child is gone: what it leaves comes to us
    try:
        pid = _fork()
    except OSError as exc:  # out of processes, a sandbox that forbids fork
        _reaper.adopt_orphans(False)
        for fd in (result_r, result_w, output_r, output_w):
            os.close(fd)
        _FORK_BROKEN.append(f"this kernel could not start a process ({exc.strerror})")
        return run_in_process(fn, args, forbidden)
    if pid == 0:
        os.close(result_r)
        os.close(output_r)
        _child(fn, args, forbidden, result_w, output_w)
    os.close(result_w)
    os.close(output_w)
    try:
        os.setpgid(pid, pid)
    except OSError:  # the child did it first, or has already ended
        pass
    born, status = _reaper.start_time(pid), "interrupted"
    try:
        status, result, output, dropped = _wait_for(pid, result_r, output_r, limit)
    finally:
        exit_status = _end(pid)
        if status != "done":  # stopped, or ended early: what it left came to the kernel
            _reaper.kill_adopted(pid, born)
        _reaper.adopt_orphans(False)
        output_tail = _drain(output_r, 0.05)
        os.close(result_r)
        os.close(output_r)
    text = (bytes(output) + output_tail)[:OUTPUT_LIMIT].decode("utf-8", "replace")
    if dropped:
        text += f"\n... ({dropped} more bytes of output not shown)\n"
    if status == "done":
        report, blobs = unpack(result[10:])
        if report["kind"] == "interrupted":
            raise KeyboardInterrupt
        try:
            return _outcome(report, blobs, text)
        except (ValueError, OSError, KeyError) as exc:
            return Outcome("returned", Unusual("array", safe_text(exc)), output=text)
    if status == "died" and not result.startswith(_STARTED):
        # The child died before the student's code ran: forking does not work here.
        _FORK_BROKEN.append("this kernel's child processes do not start")
        return run_in_process(fn, args, forbidden)
    outcome = Outcome(status, output=text)
    if status == "died":
        outcome.extra["signal"] = os.WTERMSIG(exit_status) if os.WIFSIGNALED(exit_status) else 0
        outcome.extra["code"] = os.WEXITSTATUS(exit_status) if os.WIFEXITED(exit_status) else 0
    return outcome
