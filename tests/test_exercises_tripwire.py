"""No exercise passes by calling course_lib: its own answer is switched off during the call.

Every way a student can reach the function is covered: the name the notebook imports, an
alias bound earlier (``from course_lib import softmax as sm``), the module attribute, a
lambda, a partial, another course_lib function that calls it, and the in-process fallback.
The verdict names the function the exercise asks for; course_lib works again afterwards.
"""

import functools
import importlib
import importlib.util
import inspect
import sys
import threading
import types

import numpy as np
import pytest
from exercise_helpers import assert_correct, assert_not_yet, scaled_attend

import course_lib
from course_lib import attention, training
from course_lib import softmax as sm
from course_lib.exercises import (
    _sandbox,
    _tripwire,
    check_causal_mask,
    check_dot_product_attention,
    check_masked_attention,
    check_multihead_attention,
    check_scaled_attention,
    check_score_gradient,
    check_softmax,
)

SHORTCUTS = [
    (check_softmax, course_lib.softmax, "softmax_rows"),
    (check_softmax, sm, "softmax_rows"),
    (check_softmax, lambda s: attention.softmax(s), "softmax_rows"),
    (check_softmax, functools.partial(attention.softmax, axis=-1), "softmax_rows"),
    (  # softmax reached through scaled attention: q = scores, k = √n·I, so q kᵀ/√n = scores
        check_softmax,
        lambda s: attention.scaled_dot_product_attention(
            s, np.eye(s.shape[-1]) * np.sqrt(s.shape[-1]), np.eye(s.shape[-1])
        )[1],
        "softmax_rows",
    ),
    (check_dot_product_attention, attention.dot_product_attention, "attention"),
    (
        check_dot_product_attention,
        lambda q, k, v: attention.scaled_dot_product_attention(q, k, v, scale=1.0),
        "attention",
    ),
    (check_scaled_attention, course_lib.scaled_dot_product_attention, "scaled_attention"),
    (
        check_scaled_attention,
        lambda q, k, v: attention.dot_product_attention(q / np.sqrt(q.shape[-1]), k, v),
        "scaled_attention",
    ),
    (
        check_masked_attention,
        lambda q, k, v, keep: attention.scaled_dot_product_attention(q, k, v, mask=keep),
        "masked_attention",
    ),
    (check_causal_mask, attention.causal_mask, "causal_mask"),
    (check_causal_mask, lambda n: attention.causal_mask(n).astype(int), "causal_mask"),
    (
        check_score_gradient,
        lambda x, wq, wk, g, d: training.loss_and_grads(wq, wk, [])[1],
        "score_gradient",
    ),
]
IDS = [
    "softmax",
    "alias",
    "lambda",
    "partial",
    "through-attention",
    "plain",
    "plain-scale-1",
    "scaled",
    "scaled-through-plain",
    "masked",
    "causal",
    "causal-int",
    "score-gradient",
]


@pytest.mark.parametrize(("checker", "fn", "stub"), SHORTCUTS, ids=IDS)
def test_course_lib_cannot_answer_the_exercise(checker, fn, stub, capsys):
    line = assert_not_yet(capsys, checker, fn, hint=("course_lib's", f"write {stub} yourself"))
    assert "(directly or through another course_lib function)" in line
    assert attention.softmax(np.zeros(2)).tolist() == [0.5, 0.5]  # usable again afterwards


@pytest.mark.parametrize(
    ("checker", "fn", "stub"), SHORTCUTS[:4] + SHORTCUTS[5:8], ids=IDS[:4] + IDS[5:8]
)
def test_in_process_the_functions_are_switched_off_and_restored(
    checker, fn, stub, monkeypatch, capsys
):
    monkeypatch.setattr(_sandbox, "fork_problem", lambda: "no fork here")
    checker(fn)
    out = capsys.readouterr().out
    assert f"write {stub} yourself" in out
    assert attention.softmax(np.zeros(2)).tolist() == [0.5, 0.5]
    assert attention.dot_product_attention(np.eye(2), np.eye(2), np.eye(2))[1].shape == (2, 2)


def test_a_shortcut_caught_and_hidden_by_the_student_is_still_named(capsys):
    def hides(scores):
        try:
            return attention.softmax(scores)
        except BaseException:
            e = np.exp(scores - scores.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)

    assert_not_yet(capsys, check_softmax, hides, hint="course_lib's softmax")


def test_softmax_stays_allowed_where_the_exercise_builds_on_it(capsys):
    assert_correct(capsys, check_scaled_attention, scaled_attend)  # scaled_attend uses softmax


def test_multihead_may_use_course_lib_attention_per_head(capsys):
    def multihead(x, w_q, w_k, w_v, n_heads):
        seq, d_model = x.shape
        heads = [
            a.reshape(seq, n_heads, -1).transpose(1, 0, 2) for a in (x @ w_q, x @ w_k, x @ w_v)
        ]
        out, _ = attention.scaled_dot_product_attention(*heads)
        return out.transpose(1, 0, 2).reshape(seq, d_model)

    assert_correct(capsys, check_multihead_attention, multihead)


def test_every_course_lib_target_exists():
    """A renamed course_lib function would silently fall out of the tripwire."""
    _tripwire.prepare(tuple(t for ts in _tripwire.FORBIDDEN.values() for t in ts))
    for targets in _tripwire.FORBIDDEN.values():
        for target in targets:
            if target.startswith("course_lib."):
                assert _tripwire.resolve(target) is not None, target


# ------------------------------------------------- copies and re-imports (H11's review)


def _fresh_copy_of_attention():
    """course_lib.attention executed again as another module: new function objects from the
    same file, as ``importlib.reload`` or ``del sys.modules[...]`` would give, without
    changing the module every other test uses."""
    spec = importlib.util.spec_from_file_location("attention_again", attention.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _exec_copy_of_softmax():
    namespace = dict(vars(attention))
    exec(inspect.getsource(attention.softmax), namespace)  # noqa: S102 - the trick tested
    return namespace["softmax"]


def _put_code_back():
    code, function = attention.softmax.__code__, attention.softmax

    def cheat(scores):
        function.__code__ = code  # undo the swap from inside the student's function
        return function(scores)

    return cheat


def _reload_inside(scores):
    import course_lib.attention as again

    importlib.reload(again)  # in the checker's child process only
    return again.softmax(scores)


def _in_a_thread(scores):
    out = {}

    def work():
        try:
            out["w"] = attention.softmax(scores)
        except BaseException:  # noqa: BLE001 - the student hides the stand-in's error
            pass

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return out.get("w")


COPIES = {
    "FunctionType copy": lambda: types.FunctionType(
        attention.softmax.__code__, attention.softmax.__globals__, "mine", (-1,)
    ),
    "module imported again": lambda: _fresh_copy_of_attention().softmax,
    "exec of its source": _exec_copy_of_softmax,
    "__code__ put back": _put_code_back,
    "reload inside": lambda: _reload_inside,
    "in a thread": lambda: _in_a_thread,
}


# in-process, a reload would replace the module every other test uses: child only
WAYS = [(how, True) for how in COPIES] + [(how, False) for how in COPIES if "reload" not in how]


@pytest.mark.parametrize(
    ("how", "fork"), WAYS, ids=[f"{h}-{'child' if f else 'in'}" for h, f in WAYS]
)
def test_a_copy_or_a_reimport_of_course_libs_answer_is_caught(how, fork, monkeypatch, capsys):
    copy = COPIES[how]()
    if not fork:
        monkeypatch.setattr(_sandbox, "fork_problem", lambda: "no fork here")
    previous = sys.getprofile()
    assert check_softmax(lambda s: copy(s)) is False
    line = capsys.readouterr().out.splitlines()[-1]
    assert "course_lib's softmax" in line and "write softmax_rows yourself" in line, line
    assert sys.getprofile() is previous  # the watch is removed after the call
    assert attention.softmax(np.zeros(2)).tolist() == [0.5, 0.5]


def test_the_watch_does_not_flag_a_students_own_softmax(capsys):
    def softmax(x, axis=-1):  # the student's own, with course_lib's name and signature
        exps = np.exp(x - x.max(axis=axis, keepdims=True))
        return exps / exps.sum(axis=axis, keepdims=True)

    assert_correct(capsys, check_softmax, softmax)
