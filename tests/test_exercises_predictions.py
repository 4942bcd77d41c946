"""check_prediction: every question's right answers in several spellings, named wrong answers,
the missing answer, and truths that are computed (a different measurement, a different verdict).
"""

import math
import re

import numpy as np
import pytest
from exercise_helpers import assert_correct, assert_not_attempted, assert_not_yet

from course_lib.exercises import QUESTIONS, check_prediction, predictions


@pytest.mark.parametrize("question", list(QUESTIONS))
@pytest.mark.parametrize("answer", [None, "", "   ", ...], ids=["None", "empty", "spaces", "dots"])
def test_the_missing_answer_is_not_attempted(question, answer, capsys):
    assert_not_attempted(capsys, check_prediction, question, answer)


def test_unknown_question(capsys):
    assert_not_yet(
        capsys, check_prediction, "no_such_question", "x", hint=("unknown", "steak_attends_to")
    )


def test_questions_are_documented():
    for name, question in QUESTIONS.items():
        assert len(question.text) > 40, name
        assert question.accepts, name
        assert callable(question.truth) and callable(question.read)


# --------------------------------------------------------------------------------------
# variance_growth
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "answer",
    [
        "linear",
        "Linearly",
        " LINEAR ",
        np.str_("linear"),
        "proportional to d_k",
        "like d_k",
        "d_k",
        "O(d_k)",
        1.0,
        1,
        "1",
        np.float64(1.0),
        0.95,
        "'linear'",
        "it grows linearly with d_k",
    ],
)
def test_variance_growth_right_answers(answer, capsys):
    line = assert_correct(capsys, check_prediction, "variance_growth", answer)
    assert "slope" in line


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ("sqrt", ("you said it grows like √d_k", "grows like d_k (linearly)")),
        ("like sqrt(d_k)", "like √d_k"),
        ("proportional to sqrt(d_k)", "like √d_k"),
        ("constant", "stays constant"),
        ("quadratically", "like d_k²"),
        ("d_k^2", "like d_k²"),
        ("exponentially", "exponentially"),
        (0.5, ("you said it grows like √d_k", "d_k (linearly)")),
        (2, ("you said it grows like d_k²", "d_k (linearly)")),
    ],
)
def test_variance_growth_wrong_answers(answer, hint, capsys):
    assert_not_yet(capsys, check_prediction, "variance_growth", answer, hint=hint)


@pytest.mark.parametrize("answer", ["a lot", True, "fast", "not quadratically"])
def test_variance_growth_unreadable_answers_get_words_not_codes(answer, capsys):
    line = assert_not_yet(capsys, check_prediction, "variance_growth", answer)
    assert "in words" in line and "proportional to d_k" in line
    assert "0.0, 0.5" not in line and "'sqrt'" not in line


def test_variance_growth_truth_is_measured(monkeypatch, capsys):
    """The truth is computed: a different measured law gives a different verdict."""
    real = QUESTIONS["variance_growth"]
    faked = predictions.Question(real.text, lambda: (0.5, "faked"), real.read, real.judge)
    monkeypatch.setitem(predictions.QUESTIONS, "variance_growth", faked)
    assert_correct(capsys, check_prediction, "variance_growth", "sqrt")
    assert_correct(capsys, check_prediction, "variance_growth", 0.5)
    assert_not_yet(capsys, check_prediction, "variance_growth", "linear")


# --------------------------------------------------------------------------------------
# self_weight_after_scaling
# --------------------------------------------------------------------------------------
def _self_weight():
    """Measured here independently: Q = K = 8 random 64-d vectors, scores / 8."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 8, 64))
    scores = x @ np.swapaxes(x, -1, -2) / 8.0
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return float(np.mean(np.diagonal(weights, axis1=-2, axis2=-1)))


def test_self_weight_truth_agrees_with_an_independent_measurement():
    truth, _ = QUESTIONS["self_weight_after_scaling"].truth()
    assert abs(truth - _self_weight()) < 0.01
    assert 0.95 < truth < 1.0  # the point of the question: scaling does not cure Q = K


@pytest.mark.parametrize("answer", [0.99, "0.99", " 0.99 ", np.float32(0.99), 1, "99%", "0,99"])
def test_self_weight_right_answers(answer, capsys):
    assert_correct(capsys, check_prediction, "self_weight_after_scaling", answer)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (0.5, ("you answered 0.5", "±0.05", "Q = K")),
        (0.125, ("you answered 0.125", "uniform row", "±0.05")),
        (1.5, "between 0 and 1"),
        ("high", "a number between 0 and 1"),
        (True, "a number between 0 and 1"),
    ],
)
def test_self_weight_wrong_answers(answer, hint, capsys):
    assert_not_yet(capsys, check_prediction, "self_weight_after_scaling", answer, hint=hint)


def test_self_weight_close_miss_shows_two_different_numbers(capsys):
    truth, _ = QUESTIONS["self_weight_after_scaling"].truth()
    line = assert_not_yet(capsys, check_prediction, "self_weight_after_scaling", truth - 0.06)
    have, want = line.split("you answered ")[1].split(" (")[0].split("; the answer is ")
    assert have != want


# --------------------------------------------------------------------------------------
# divide_by_dk
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "answer", ["uniform", "Flat", " close to uniform ", "flatter", "evenly spread", "UNIFORM"]
)
def test_divide_by_dk_right_answers(answer, capsys):
    line = assert_correct(capsys, check_prediction, "divide_by_dk", answer)
    assert "entropy" in line


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ("one-hot", ("you answered 'one-hot'", "the answer is 'uniform'")),
        ("peaked", "you answered 'one-hot'"),
        ("unchanged", "you answered 'unchanged'"),
        ("?", ("in words", "'uniform'")),
        ("not uniform", ("ruled out the answer", "'uniform'")),
    ],
)
def test_divide_by_dk_wrong_answers(answer, hint, capsys):
    assert_not_yet(capsys, check_prediction, "divide_by_dk", answer, hint=hint)


# --------------------------------------------------------------------------------------
# multihead_divisor
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "answer",
    [
        8,
        8.0,
        "8",
        " 8 ",
        np.int64(8),
        "sqrt(64)",
        "√64",
        "np.sqrt(64)",
        "math.sqrt(512 / 8)",
        "64 ** 0.5",
        "sqrt(d_head)",
        "√(512/8)",
        8.02,
    ],
)
def test_multihead_divisor_right_answers(answer, capsys):
    assert_correct(capsys, check_prediction, "multihead_divisor", answer)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (22.6, ("√d_model", "√8 ≈ 2.83 times too flat", "±0.05")),
        ("sqrt(512)", "√d_model"),
        (math.sqrt(512), "√d_model"),
        (64, "d_head itself"),
        (512, "d_model itself"),
        (1, "no division"),
        (4, "you answered 4;"),
        ("four", "you answered 4;"),
        ("sqrt(-64)", ("√(-64)", "not a number")),
        ("8/0", "8/0 = inf"),
    ],
)
def test_multihead_divisor_wrong_answers(answer, hint, capsys):
    assert_not_yet(capsys, check_prediction, "multihead_divisor", answer, hint=hint)


# --------------------------------------------------------------------------------------
# The questions on the bundled vectors
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sentence():
    """Words and vectors of the course sentence, computed here independently."""
    from course_lib.embeddings import embed_sentence, load_embeddings

    emb = embed_sentence("I drink coke, but eat steak", load_embeddings("bundled"))
    return [w.lower() for w in emb.words], np.asarray(emb.vectors, dtype=float)


def test_steak_attends_to(sentence, capsys):
    words, x = sentence
    scores = x @ x.T / np.sqrt(x.shape[1])
    i = words.index("steak")
    others = [(scores[i, j], w) for j, w in enumerate(words) if j != i]
    truth, wrong = max(others)[1], min(others)[1]
    assert_correct(capsys, check_prediction, "steak_attends_to", truth)
    assert_correct(capsys, check_prediction, "steak_attends_to", f" {truth.upper()} ")
    assert_correct(capsys, check_prediction, "steak_attends_to", np.str_(truth))
    assert_not_yet(capsys, check_prediction, "steak_attends_to", wrong, hint=repr(truth))
    assert_not_yet(capsys, check_prediction, "steak_attends_to", "steak", hint="other than")


def test_coke_most_similar(sentence, capsys):
    words, x = sentence
    i = words.index("coke")
    unit = x / np.linalg.norm(x, axis=-1, keepdims=True)
    cos = {w: unit[i] @ unit[j] for j, w in enumerate(words) if j != i}
    truth, wrong = max(cos, key=cos.get), min(cos, key=cos.get)
    assert_correct(capsys, check_prediction, "coke_most_similar", truth)
    assert_not_yet(capsys, check_prediction, "coke_most_similar", wrong, hint=repr(truth))


def test_scaling_changes_argmax(sentence, capsys):
    words, x = sentence
    scores = x @ x.T
    truth = bool(np.any(scores.argmax(-1) != (scores / 8.0).argmax(-1)))
    assert truth is False  # a positive divisor keeps the order
    for answer in (False, np.bool_(False), "no", " False "):
        assert_correct(capsys, check_prediction, "scaling_changes_argmax", answer)
    assert_not_yet(capsys, check_prediction, "scaling_changes_argmax", True, hint="False")
    assert_not_yet(capsys, check_prediction, "scaling_changes_argmax", "maybe", hint="True or")
    for answer in ("it does not change", "the favourite stays the same", "No, never"):
        assert_correct(capsys, check_prediction, "scaling_changes_argmax", answer)


def test_dont_panic_rows(capsys):
    from course_lib.embeddings import embed_sentence

    rows = embed_sentence("Don't panic, it's only a test!").vectors.shape[0]
    for answer in (rows, str(rows), np.int64(rows), float(rows)):
        assert_correct(capsys, check_prediction, "dont_panic_rows", answer)
    assert_not_yet(capsys, check_prediction, "dont_panic_rows", rows - 1, hint=str(rows))
    assert_not_yet(capsys, check_prediction, "dont_panic_rows", "six", hint="you answered 6")
    assert_not_yet(capsys, check_prediction, "dont_panic_rows", True, hint="whole number")
    assert_not_yet(capsys, check_prediction, "dont_panic_rows", 7.5, hint="whole number")


def test_mislabelled_eat(capsys):
    from course_lib.embeddings import embed_sentence

    sentence = "I drink kombucha, but eat steak"
    emb = embed_sentence(sentence)
    assert emb.missing, "the example needs a word the bundled table does not know"
    truth = emb.words[sentence.split().index("eat")]  # the row the label 'eat' lands on
    assert truth != "eat"
    assert_correct(capsys, check_prediction, "mislabelled_eat", truth.upper())
    assert_not_yet(capsys, check_prediction, "mislabelled_eat", "eat", hint="slides one row")


def test_drink_is_its_own_top_dot(capsys):
    from course_lib.embeddings import load_embeddings

    kv = load_embeddings()
    table = kv.vectors.astype(np.float64)
    truth = bool(np.argmax(table @ table[kv.key_to_index["drink"]]) == kv.key_to_index["drink"])
    assert_correct(capsys, check_prediction, "drink_is_its_own_top_dot", truth)
    assert_correct(capsys, check_prediction, "drink_is_its_own_top_dot", str(truth).lower())
    assert_not_yet(capsys, check_prediction, "drink_is_its_own_top_dot", not truth)


def test_no_answer_is_written_in_what_tab_completion_reaches():
    """QUESTIONS is importable: its texts and accepted forms must not give the truths away."""
    for name, question in QUESTIONS.items():
        truth, _ = question.truth()
        if isinstance(truth, bool):  # "True/False" names both
            continue
        shown = {str(truth).lower()} if not isinstance(truth, float) else {f"{truth:g}"}
        if isinstance(truth, float) and truth.is_integer() and abs(truth) < 1e7:
            shown.add(str(int(truth)))
        offered = set(re.findall(r"[a-z0-9.]+|-inf", question.text.lower()))
        words = set(re.findall(r"[a-z0-9.]+|-inf", question.accepts.lower()))
        if not shown & offered:  # a choice offered in the question, or a word of its sentence
            assert not shown & words, (name, shown & words)
        if isinstance(truth, float) and name not in _STATED:  # the sentence is in the text
            words = set(re.findall(r"[a-z0-9.]+|-inf", question.text.lower()))
            assert not shown & words, (name, shown & words)


# the question states this value as part of its setting ("d_model = 512 and 8 heads")
_STATED = {"multihead_divisor", "variance_growth"}  # and "1 means proportional to d_k"
