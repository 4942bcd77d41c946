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
from test_exercises_masks import PADDING_WRONG
from test_exercises_variance import VARIANCE_WRONG, VARIANCE_WRONG_IDS
from test_exercises_vectors import COSINE_MATRIX_WRONG, COSINE_MATRIX_WRONG_IDS

from course_lib.exercises import (
    check_cosine_matrix,
    check_masked_attention,
    check_multihead_attention,
    check_padding_mask,
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
        # naming the missing keepdims is the hint (issue 17); the expression is not
        "keepdims=True",
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
    "padding_mask": ("np.arange", "[:, None", "None, :]", "lengths[:, None]", "astype(bool)"),
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
    "padding_mask": (
        check_padding_mask,
        PADDING_WRONG,
        [str(i) for i in range(len(PADDING_WRONG))],
    ),
}

CASES = [
    pytest.param(checker, fn, hint, FORBIDDEN[key], id=f"{key}-{case_id}")
    for key, (checker, wrong, ids) in CHECKERS.items()
    for (fn, hint), case_id in zip(wrong, ids, strict=True)
]


def test_every_one_of_these_checkers_has_eight_named_wrong_answers():
    counts = {key: len(wrong) for key, (_, wrong, _) in CHECKERS.items()}
    assert all(n >= 8 for n in counts.values()), counts


@pytest.mark.parametrize(("checker", "fn", "hint", "forbidden"), CASES)
def test_a_hint_never_prints_the_solution(checker, fn, hint, forbidden, capsys):
    line = assert_not_yet(capsys, checker, fn, hint=hint)  # still names the mistake
    leaked = [code for code in forbidden if code in line]
    assert not leaked, f"the hint gives away {leaked}: {line!r}"


# ------------------------------------ nothing help() shows answers an exercise (H11's review)

# Answers that docstrings of course_lib.exercises gave away before this review: the right
# answer of a prediction, or the key step of an exercise, written out where help() shows it.
LEAKED = [
    "sqrt(512)/sqrt(8)",  # multihead_divisor, in check_prediction's docstring
    "grows linearly, not quadratically",  # variance_growth, same place
    "the row of steak",  # mislabelled_eat, same place
    "4*512**2",  # multihead_parameters, in every "answer a number" hint
    "sqrt(64)",  # multihead_divisor, same hint
    "weighted average of grad_weights",  # softmax_backward's key step, its docstring
    "broadcasting a column against a row",  # cosine_matrix's key step, its docstring
    "weights: (0, 2)",  # notebook 06's previous-token head, its checker's docstring
]


def _every_docstring():
    import importlib
    import inspect
    import pkgutil

    import course_lib.exercises as package

    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        yield module.__name__, inspect.getdoc(module) or ""
        for name, value in vars(module).items():
            if getattr(value, "__module__", None) == module.__name__ and callable(value):
                yield f"{module.__name__}.{name}", inspect.getdoc(value) or ""


def test_no_docstring_of_the_checkers_gives_an_answer_away():
    found = [
        (where, leak)
        for where, doc in _every_docstring()
        for leak in LEAKED
        if leak in " ".join(doc.split())
    ]
    assert not found


NUMBER_QUESTIONS = [
    "dont_panic_rows",
    "self_weight_after_scaling",
    "multihead_divisor",
    "score_memory_doubling",
    "multihead_parameters",
    "inverted_causal_empty_rows",
]


@pytest.mark.parametrize("question", NUMBER_QUESTIONS)
def test_the_hint_for_an_unreadable_answer_holds_no_right_answer(question, capsys):
    """Typing nonsense must not be a way to read the answer off the hint's examples."""
    import re

    from course_lib.exercises import check_prediction

    assert check_prediction(question, "VIII") is False
    line = capsys.readouterr().out
    examples = re.search(r"for example (.*?)\)", line).group(1)  # "0.5, 12, sqrt(2) or ..."
    for example in re.split(r",\s*|\s+or\s+", examples):
        assert check_prediction(question, example) is not True, example
    capsys.readouterr()
