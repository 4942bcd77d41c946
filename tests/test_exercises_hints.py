"""A "not yet" hint names the mistake and the idea, never the code that solves the exercise.

Six exercises have an answer that is deliberately not on the page (the cosine matrix, the
padding mask, the variance experiment, the softmax's gradient, the gradient reaching W_Q and
W_K, multi-head attention). For each of them, every named wrong answer of its test module is
run again here, and the printed line must not contain the solution's code: if it did, one
wrong try would turn the exercise into a copy.
"""

import pytest
from exercise_helpers import assert_not_yet
from test_exercises_attention import MASKED_WRONG, MASKED_WRONG_IDS
from test_exercises_gradients import (
    MULTIHEAD_WRONG,
    MULTIHEAD_WRONG_IDS,
    SCORE_GRADIENT_WRONG,
    SCORE_GRADIENT_WRONG_IDS,
    SOFTMAX_BACKWARD_WRONG,
    SOFTMAX_BACKWARD_WRONG_IDS,
)
from test_exercises_variance import VARIANCE_WRONG, VARIANCE_WRONG_IDS
from test_exercises_vectors import COSINE_MATRIX_WRONG, COSINE_MATRIX_WRONG_IDS

from course_lib.exercises import (
    check_cosine_matrix,
    check_masked_attention,
    check_multihead_attention,
    check_score_gradient,
    check_softmax_backward,
    check_variance_experiment,
)

# Pieces of each solution that a hint must not print (compared case-sensitively).
FORBIDDEN = {
    "cosine_matrix": (
        # the (n, n) table of divisors, built by broadcasting, and the unit-rows route
        "[:, None]",
        "[None, :]",
        "None]",
        "np.newaxis",
        "np.outer",
        "keepdims",
        "np.linalg.norm(",
        "unit @",
    ),
    "masked_attention": ("np.where(", "-np.inf", "-inf", "np.inf", "-1e9", "float('-inf')"),
    "variance_experiment": (
        "size=(n_samples, d_k)",
        "np.sum(",
        ".sum(",
        "q * k",
        "np.var(",
    ),
    "softmax_backward": (
        "keepdims",
        ".sum(",
        "np.sum(",
        "(grad_weights -",
        "weights * (",
        "np.einsum",
    ),
    "score_gradient": (
        "x.T @",
        "x.T@",
        "grad_scores.T",
        "grad_scores @",
        "@ grad_scores",
        "/ divisor",
        "@ (x @",
    ),
    "multihead_attention": (
        "transpose(",
        "reshape(",
        "swapaxes",
        "(seq, n_heads, d_head)",
        "(seq, h, d_head)",
        "(1, 0, 2)",
    ),
}

CHECKERS = {
    "cosine_matrix": (check_cosine_matrix, COSINE_MATRIX_WRONG, COSINE_MATRIX_WRONG_IDS),
    "masked_attention": (check_masked_attention, MASKED_WRONG, MASKED_WRONG_IDS),
    "variance_experiment": (check_variance_experiment, VARIANCE_WRONG, VARIANCE_WRONG_IDS),
    "softmax_backward": (
        check_softmax_backward,
        SOFTMAX_BACKWARD_WRONG,
        SOFTMAX_BACKWARD_WRONG_IDS,
    ),
    "score_gradient": (check_score_gradient, SCORE_GRADIENT_WRONG, SCORE_GRADIENT_WRONG_IDS),
    "multihead_attention": (check_multihead_attention, MULTIHEAD_WRONG, MULTIHEAD_WRONG_IDS),
}

CASES = [
    pytest.param(checker, fn, hint, FORBIDDEN[key], id=f"{key}-{case_id}")
    for key, (checker, wrong, ids) in CHECKERS.items()
    for (fn, hint), case_id in zip(wrong, ids, strict=True)
]


def test_every_one_of_the_six_checkers_has_named_wrong_answers():
    counts = {key: len(wrong) for key, (_, wrong, _) in CHECKERS.items()}
    assert all(n >= 5 for n in counts.values()), counts


@pytest.mark.parametrize(("checker", "fn", "hint", "forbidden"), CASES)
def test_a_hint_never_prints_the_solution(checker, fn, hint, forbidden, capsys):
    line = assert_not_yet(capsys, checker, fn, hint=hint)  # still names the mistake
    leaked = [code for code in forbidden if code in line]
    assert not leaked, f"the hint gives away {leaked}: {line!r}"
