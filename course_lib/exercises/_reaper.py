"""Find and stop the processes a student's function left behind (Linux; elsewhere: groups).

The sandbox's child has its own process group, and one ``killpg`` stops it and whatever it
forked. A process can leave the group (``os.setsid()``) and, once its parent has ended, is
adopted by the nearest "subreaper" (``prctl(PR_SET_CHILD_SUBREAPER)``), else by init. So:

- the child is a subreaper while the student's function runs: an orphan of its tree stays
  below it, and when the function returns the child finds it in ``/proc`` and kills it
  (:func:`kill_below`) before it reports;
- the kernel is a subreaper while it waits for the child: when the child is stopped, or
  ends early (``os._exit``), what it left comes to the kernel, and :func:`kill_adopted`
  kills and reaps it.

Without ``/proc`` or ``prctl`` (macOS) only the process group is stopped.
"""

from __future__ import annotations

import os
import signal
import sys
import time

_PR_SET_CHILD_SUBREAPER = 36
_PRCTL: list = []  # Linux's prctl, looked up once in the kernel (the child inherits it)


def prepare() -> None:
    """Look up ``prctl`` once, in the kernel (Linux only; nothing elsewhere)."""
    if _PRCTL or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        _PRCTL.append(ctypes.CDLL(None, use_errno=True).prctl)
    except (ImportError, OSError, AttributeError):  # no ctypes or no libc: groups only
        pass


def adopt_orphans(on: bool) -> None:
    """Make this process the adopter of its descendants' orphans (``on``), or stop."""
    if _PRCTL:
        _PRCTL[0](_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)


def has_children() -> bool:
    """Reap this process's ended children; return True if one is still running."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def process_table() -> dict[int, tuple[int, int, bool]]:
    """Return {pid: (parent pid, start time in clock ticks, running)} ({} without /proc)."""
    table = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        entry = _stat(name) if name.isdigit() else None
        if entry is not None:  # None: ended while we looked
            table[int(name)] = entry
    return table


def _stat(pid) -> tuple[int, int, bool] | None:
    """Return (parent, start time, running) of one process from /proc, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()  # after the command's name
        return int(fields[1]), int(fields[19]), fields[0] not in (b"Z", b"X")
    except (OSError, IndexError, ValueError):
        return None


def _below(table: dict, pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for child, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def _kill(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def kill_below() -> None:
    """Kill every running process below this one, in rounds (one may fork as we look)."""
    pid = os.getpid()
    for _ in range(10):
        table = process_table()
        below = [p for p in _below(table, pid) if table[p][2]]
        if not below:
            break
        _kill(below)
    end = time.monotonic() + 0.5  # reap them here: else the kernel adopts their remains
    while has_children() and time.monotonic() < end:
        time.sleep(0.002)


def start_time(pid: int) -> int | None:
    """Return when ``pid`` started (clock ticks since boot), or None without /proc."""
    entry = _stat(pid)
    return entry[1] if entry else None


def kill_adopted(child: int, since: int | None) -> None:
    """Kill and reap the processes this kernel adopted since ``since`` (not ``child``)."""
    if since is None or not _PRCTL:
        return
    me = os.getpid()
    for _ in range(10):
        table = process_table()
        adopted = [
            p for p, (parent, start, _) in table.items()
            if parent == me and p != child and start >= since
        ]  # fmt: skip
        if not adopted:
            return
        _kill(p for pid in adopted for p in [pid, *_below(table, pid)])
        end = time.monotonic() + 0.5
        for pid in adopted:
            while time.monotonic() < end:
                try:
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        break
                except ChildProcessError:
                    break
                time.sleep(0.002)
