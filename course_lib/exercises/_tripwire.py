"""Course_lib's own answer to an exercise, out of use while the student's function runs.

An exercise cannot be passed by calling the function the course already has. While a
checker runs the student's function, each function named for that exercise in
:data:`FORBIDDEN` has its code object swapped for one that raises :class:`Tripped`. The
swap is on the function object itself, so it reaches every name bound to it: ``from
course_lib import softmax as sm``, ``f = course_lib.attention.softmax``, a lambda calling
it, and course_lib's own functions that call it (``scaled_dot_product_attention`` calls
``softmax``). In the forked child the swap is never undone (the child ends); in-process it
is undone when the call returns.

A second guard sees what the swap cannot reach: while the function runs, a profile hook
(``sys.setprofile``, and ``threading.setprofile`` for the threads it starts) records every
call of code from a disabled function's file with its name, and of code compiled from the
same source: a copy made with ``types.FunctionType(softmax.__code__, ...)``, a module
imported again (``importlib.reload``, ``del sys.modules[...]``) before or inside the
function, its ``__code__`` put back, ``exec`` of its source. A copy of the source edited by
hand is, as far as any checker can tell, the student's own code.

Functions from libraries the notebooks already loaded (scipy, gensim) are disabled when
their module is imported; course_lib's are always.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import types

#: For each exercise, the functions it may not call: "module:qualified name".
FORBIDDEN = {
    "cosine": (
        "gensim.models.keyedvectors:KeyedVectors.cosine_similarities",
        "scipy.spatial.distance:cosine",
        "scipy.spatial.distance:cdist",
        "scipy.spatial.distance:pdist",
        "sklearn.metrics.pairwise:cosine_similarity",
    ),
    "softmax": ("course_lib.attention:softmax", "scipy.special:softmax"),
    # course_lib has no softmax backward (the d_k explorer measures its gradient by the
    # complex step; softmax_jacobian is gone): nothing to switch off
    "softmax_backward": (),
    "attention": (
        "course_lib.attention:scaled_dot_product_attention",
        "course_lib.attention:dot_product_attention",
        "course_lib.training:attention_weights",
    ),
    "causal_mask": ("course_lib.attention:causal_mask",),
    "padding_mask": (),  # course_lib builds no padding mask
    "score_gradient": ("course_lib.training:loss_and_grads",),
    "multihead": (),  # course_lib's per-head attention stays allowed; no multi-head function
}
# Imported before the first check (cheap: numpy only); other modules only when loaded.
_IMPORT_FIRST = ("course_lib.attention", "course_lib.training")


class Tripped(BaseException):
    """Raised by a disabled function (a BaseException: ``except Exception`` does not hide it)."""


#: Labels of the disabled functions called since the last :func:`disabled` began.
TRIPS: list[str] = []


def trip(label: str) -> Tripped:
    """Record that the disabled function ``label`` was called; return the exception to raise."""
    TRIPS.append(label)
    return Tripped(label)


def _stand_in(*args, **kwargs):
    # Runs with the disabled function's globals, so it reaches this module by its name.
    raise __import__("course_lib.exercises._tripwire", fromlist=["trip"]).trip(
        __import__("sys")._getframe(0).f_code.co_filename
    )


def shown(label: str) -> str:
    """``"course_lib.attention:softmax"`` -> ``"course_lib's softmax"``."""
    module, _, qualname = label.partition(":")
    return f"{module.split('.')[0]}'s {qualname}"


def resolve(target: str):
    """Return the plain Python function named by ``target``, or None where there is none."""
    module_name, _, qualname = target.partition(":")
    obj = sys.modules.get(module_name)
    for part in qualname.split("."):
        if obj is None:
            return None
        obj = vars(obj).get(part) if hasattr(obj, "__dict__") else None
    if isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    return obj if isinstance(obj, types.FunctionType) and obj.__closure__ is None else None


def prepare(targets: tuple[str, ...]) -> None:
    """Import the cheap course_lib modules among ``targets`` (so they can be disabled)."""
    for target in targets:
        module_name = target.partition(":")[0]
        if module_name in _IMPORT_FIRST and module_name not in sys.modules:
            importlib.import_module(module_name)


def _twin(code) -> tuple:
    """Return what a copy of ``code`` shares with it, wherever the copy was compiled.

    Not the bytecode: Python's specializing interpreter may report it differently once the
    function has run.
    """
    return code.co_varnames, code.co_argcount, code.co_consts


def _watcher(by_place: dict, by_names: dict):
    """Return a profile hook that records each call of watched code in :data:`TRIPS`.

    ``by_place`` maps (file, name) to a label; ``by_names`` maps a code object's global
    names to [(:func:`_twin` of it, label)].
    """

    def hook(frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        label = by_place.get((code.co_filename, code.co_name))
        for twin, candidate in by_names.get(code.co_names, ()) if label is None else ():
            if _twin(code) == twin:
                label = candidate
        if label is not None and label not in TRIPS:
            TRIPS.append(label)

    return hook


@contextlib.contextmanager
def disabled(targets: tuple[str, ...], restore: bool = True):
    """Disable the functions named by ``targets``; yield :data:`TRIPS` (cleared first).

    Each function's code is swapped for a stand-in that raises :class:`Tripped`, and a
    profile hook records any other run of its code (a copy, a re-imported module).
    """
    del TRIPS[:]
    saved, by_place, by_names = [], {}, {}
    for target in targets:
        function = resolve(target)
        if function is None:
            continue
        code = function.__code__
        by_place[(code.co_filename, code.co_name)] = target
        by_names.setdefault(code.co_names, []).append((_twin(code), target))
        fields = {"co_filename": target, "co_name": function.__name__}
        if sys.version_info >= (3, 11):
            fields["co_qualname"] = function.__qualname__
        saved.append((function, code))
        function.__code__ = _stand_in.__code__.replace(**fields)
    hook = _watcher(by_place, by_names) if saved else None
    previous = (sys.getprofile(), threading.getprofile())
    if hook is not None:
        sys.setprofile(hook)
        threading.setprofile(hook)
    try:
        yield TRIPS
    finally:
        if hook is not None:
            sys.setprofile(previous[0])
            threading.setprofile(previous[1])
        if restore:
            for function, code in saved:
                function.__code__ = code
