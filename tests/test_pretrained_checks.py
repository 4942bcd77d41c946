"""The checkers of notebook 06 (course_lib.exercises.pretrained_checks), tried as students would.

Each wrong answer is one a student could write; the test asserts the verdict (❌) and that
the hint names the mistake without writing the answer's code.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.exercises.pretrained_checks import (
    SIZES,
    _previous_case,
    _previous_means,
    _wrong_ways,
    check_head_score_variance,
    check_previous_token_head,
)
from course_lib.pretrained import SENTENCES, load_pretrained

CORRECT, NOT_YET, NOT_ATTEMPTED = "✅ correct", "❌ not yet", "⏳ not attempted"


def verdict(checker, fn, capsys):
    result = checker(fn)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    return result, lines[-1]


def _scores(q, k):
    return q @ np.swapaxes(k, -1, -2)


# ------------------------------------------------------------------------- head_score_variance
def variance_loops(queries, keys):
    layers, heads = queries.shape[:2]
    out = np.zeros((layers, heads))
    for layer in range(layers):
        for head in range(heads):
            out[layer, head] = np.var(queries[layer, head] @ keys[layer, head].T)
    return out


RIGHT_VARIANCE = [
    variance_loops,
    lambda q, k: _scores(q, k).var(axis=(-2, -1)),
    lambda q, k: np.einsum("lhid,lhjd->lhij", q, k).reshape(*q.shape[:2], -1).var(-1),
    lambda q, k: _scores(q, k).var(axis=(-2, -1), ddof=1),  # the sample variance
    lambda q, k: _scores(q, k).astype(np.float32).var(axis=(-2, -1)),
]


@pytest.mark.parametrize("fn", RIGHT_VARIANCE)
def test_head_score_variance_accepts_right_answers(fn, capsys):
    result, line = verdict(check_head_score_variance, fn, capsys)
    assert result is True and line.startswith(CORRECT), line


WRONG_VARIANCE = [
    (lambda q, k: (_scores(q, k) / np.sqrt(q.shape[-1])).var(axis=(-2, -1)), "divided"),
    (lambda q, k: _scores(q, k).std(axis=(-2, -1)), "standard deviation"),
    (lambda q, k: (_scores(q, k) ** 2).mean(axis=(-2, -1)), "mean of the squared scores"),
    (lambda q, k: _scores(q, k).var(axis=-1).mean(axis=-1), "within each query's row"),
    (lambda q, k: (q * k).sum(-1).var(-1), "diagonal"),
    (lambda q, k: _scores(q, q).var(axis=(-2, -1)), "queries with themselves"),
    (lambda q, k: (q**2).sum(-1).mean(-1), "squared length of the queries"),
    (lambda q, k: _scores(q, k).var(axis=-1), "one variance per head"),
    (lambda q, k: _scores(q, k).var(), "one variance per head"),
    (lambda q, k: np.ones(q.shape[:2]), "the variances"),
    (lambda q, k: q @ k.T, "matmul"),
    (lambda q, k: "big", "numpy array"),
]


@pytest.mark.parametrize(("fn", "named"), WRONG_VARIANCE)
def test_head_score_variance_names_each_mistake(fn, named, capsys):
    result, line = verdict(check_head_score_variance, fn, capsys)
    assert result is False and line.startswith(NOT_YET), line
    assert named in line, line
    assert "axis=(-2, -1)" not in line and ".var(" not in line  # no code given away


def test_head_score_variance_not_attempted(capsys):
    def head_score_variance(queries, keys):
        raise NotImplementedError

    result, line = verdict(check_head_score_variance, head_score_variance, capsys)
    assert result is None and line.startswith(NOT_ATTEMPTED)


def test_head_score_variance_on_the_real_model_agrees():
    """The reference the checker compares with is the measurement the notebook makes."""
    out = load_pretrained().run(SENTENCES[0])
    ours = variance_loops(out.queries.astype(np.float64), out.keys.astype(np.float64))
    assert ours.shape == (6, 12) and ours.max() > 1000  # the previous-token head's scores


# ------------------------------------------------------------------------- previous_token_head
def previous_loops(weights):
    layers, heads, seq_len, _ = weights.shape
    best, where = -1.0, None
    for layer in range(layers):
        for head in range(heads):
            mean = sum(weights[layer, head, i, i - 1] for i in range(1, seq_len)) / (seq_len - 1)
            if mean > best:
                best, where = mean, (layer, head)
    return where


def _pick(scores, shape):
    return tuple(int(i) for i in np.unravel_index(np.argmax(scores), shape))


RIGHT_PREVIOUS = [
    previous_loops,
    lambda w: _pick(np.diagonal(w, -1, -2, -1).mean(-1), w.shape[:2]),
    lambda w: _pick(np.diagonal(w, -1, -2, -1).sum(-1), w.shape[:2]),  # the same T for all
    lambda w: np.array(_pick(np.diagonal(w, -1, -2, -1).mean(-1), w.shape[:2])),
    lambda w: [np.int64(i) for i in _pick(np.diagonal(w, -1, -2, -1).mean(-1), w.shape[:2])],
]


@pytest.mark.parametrize("fn", RIGHT_PREVIOUS)
def test_previous_token_head_accepts_right_answers(fn, capsys):
    result, line = verdict(check_previous_token_head, fn, capsys)
    assert result is True and line.startswith(CORRECT), line


def _rolled(w):
    return (w * np.roll(np.eye(w.shape[-1]), -1, axis=1)).sum(-1).mean(-1)


def _favourite(w):
    return (w.argmax(-1)[..., 1:] == np.arange(w.shape[-1] - 1)).mean(-1)


WRONG_PREVIOUS = [
    (lambda w: _pick(np.diagonal(w, 1, -2, -1).mean(-1), w.shape[:2]), "NEXT token"),
    (lambda w: _pick(np.diagonal(w, 0, -2, -1).mean(-1), w.shape[:2]), "token itself"),
    (lambda w: _pick(_rolled(w), w.shape[:2]), "row 0 counted too"),
    (lambda w: _pick(np.diagonal(w, -1, -2, -1).max(-1), w.shape[:2]), "SINGLE weight"),
    (lambda w: _pick(_favourite(w), w.shape[:2]), "favourite key most often"),
    (lambda w: _pick(np.diagonal(w, -1, -2, -1).mean(-1), w.shape[:2])[::-1], "(head, layer)"),
    (lambda w: (0, 2), "whatever the weights"),
    (lambda w: int(np.diagonal(w, -1, -2, -1).mean(-1).argmax()), "np.unravel_index"),
    (lambda w: (0.5, 1), "whole numbers"),
    (lambda w: (99, 1), "is not a head"),
    (lambda w: "0, 2", "two numbers"),
    (lambda w: _pick(np.diagonal(w, -1, -2, -1).mean(-1)[::-1], w.shape[:2]), "the answer is not"),
]


@pytest.mark.parametrize(("fn", "named"), WRONG_PREVIOUS)
def test_previous_token_head_names_each_mistake(fn, named, capsys):
    result, line = verdict(check_previous_token_head, fn, capsys)
    assert result is False and line.startswith(NOT_YET), line
    assert named in line, line
    assert "np.diagonal" not in line and "argmax" not in line  # no code given away


def test_every_hidden_case_tells_every_mistake_apart():
    """The planted heads do their job in every case: each classic mistake picks its own head,
    and only the right computation picks the right one."""
    rng = np.random.default_rng(20240607 + 7)
    for size in SIZES:
        weights, slots = _previous_case(rng, *size)
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
        assert _pick(_previous_means(weights), size[:2]) == slots["right"]
        for role, scores in _wrong_ways(weights).items():
            assert _pick(scores, size[:2]) == slots[role] != slots["right"], (size, role)


def test_previous_token_head_on_the_real_model_is_layer_0_head_2():
    """What the notebook reveals after the exercise, over the course's sentences."""
    for sentence in SENTENCES:
        assert previous_loops(load_pretrained().run(sentence).weights) == (0, 2)
