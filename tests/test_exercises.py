"""Tests for course_lib.exercises: every checker on a correct, a wrong and a missing answer.

Each checker must print exactly one line, never raise, and return True / False / None.
The wrong answers are the classic mistakes the hints are written for.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import attention
from course_lib.exercises import (
    QUESTIONS,
    check_causal_mask,
    check_cosine_similarity,
    check_dot_product_attention,
    check_prediction,
    check_projections,
    check_scaled_attention,
    check_softmax,
)


def run(capsys, checker, *args):
    """Call a checker; return (its return value, the single line it printed)."""
    result = checker(*args)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 1, f"expected exactly one printed line, got {out!r}"
    return result, lines[0]


def assert_correct(capsys, checker, *args):
    result, line = run(capsys, checker, *args)
    assert result is True, line
    assert line.startswith("✅ correct: ")


def assert_not_yet(capsys, checker, *args, hint=()):
    result, line = run(capsys, checker, *args)
    assert result is False, line
    assert line.startswith("❌ not yet: ")
    for fragment in (hint,) if isinstance(hint, str) else hint:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def assert_not_attempted(capsys, checker, *args):
    result, line = run(capsys, checker, *args)
    assert result is None, line
    assert line.startswith("⏳ not attempted: ")


def stub(*args):
    raise NotImplementedError("write your code here")


# --------------------------------------------------------------------------------------
# check_cosine_similarity
# --------------------------------------------------------------------------------------
def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_cosine_correct(capsys):
    assert_correct(capsys, check_cosine_similarity, cosine)


def test_cosine_correct_returning_numpy_scalar(capsys):
    def cosine_np(a, b):
        return np.dot(a, b) / np.sqrt(np.sum(a**2) * np.sum(b**2))

    assert_correct(capsys, check_cosine_similarity, cosine_np)


def test_cosine_missing(capsys):
    assert_not_attempted(capsys, check_cosine_similarity, stub)


def test_cosine_dot_product_only(capsys):
    assert_not_yet(
        capsys, check_cosine_similarity, lambda a, b: a @ b, hint=("dot product", "norm")
    )


def test_cosine_one_norm_only(capsys):
    assert_not_yet(
        capsys,
        check_cosine_similarity,
        lambda a, b: a @ b / np.linalg.norm(a),
        hint="only one length",
    )


def test_cosine_squared_norms(capsys):
    assert_not_yet(
        capsys, check_cosine_similarity, lambda a, b: a @ b / ((a @ a) * (b @ b)), hint="squared"
    )


def test_cosine_bracket_mistake(capsys):
    def cosine_brackets(a, b):
        return a @ b / np.linalg.norm(a) * np.linalg.norm(b)

    assert_not_yet(capsys, check_cosine_similarity, cosine_brackets, hint="brackets")


def test_cosine_elementwise_product(capsys):
    assert_not_yet(
        capsys, check_cosine_similarity, lambda a, b: a * b, hint=("single number", "shape (5,)")
    )


def test_cosine_wrong_value_out_of_range(capsys):
    assert_not_yet(
        capsys,
        check_cosine_similarity,
        lambda a, b: 3.0 + a @ b,
        hint=("expected", "between -1 and 1"),
    )


def test_cosine_student_exception_is_reported(capsys):
    def broken(a, b):
        return a @ b / undefined_name  # noqa: F821

    assert_not_yet(capsys, check_cosine_similarity, broken, hint="NameError")


def test_cosine_passing_a_result_instead_of_a_function(capsys):
    assert_not_yet(capsys, check_cosine_similarity, 0.5, hint="pass the function itself")


# --------------------------------------------------------------------------------------
# check_softmax
# --------------------------------------------------------------------------------------
def softmax_rows(scores):
    shifted = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def test_softmax_correct(capsys):
    assert_correct(capsys, check_softmax, softmax_rows)


def test_softmax_course_lib_is_correct(capsys):
    assert_correct(capsys, check_softmax, attention.softmax)


def test_softmax_missing(capsys):
    assert_not_attempted(capsys, check_softmax, stub)


def test_softmax_whole_matrix(capsys):
    def whole_matrix(scores):
        e = np.exp(scores - scores.max())
        return e / e.sum()

    line = assert_not_yet(
        capsys, check_softmax, whole_matrix, hint=("rows sum to", "axis=-1", "one row at a time")
    )
    # the row sums are printed with two decimals and are not all 1
    sums = line.split("rows sum to ")[1].split(";")[0]
    assert "1.00, 1.00, 1.00" not in sums


def test_softmax_columns(capsys):
    line = assert_not_yet(
        capsys, check_softmax, lambda s: attention.softmax(s, axis=0), hint="axis=0"
    )
    assert "columns sum to 1" in line


def test_softmax_overflow_without_max(capsys):
    def naive(scores):
        e = np.exp(scores)
        return e / e.sum(axis=-1, keepdims=True)

    assert_not_yet(capsys, check_softmax, naive, hint=("NaN for large scores", "max"))


def test_softmax_global_max(capsys):
    def global_max(scores):
        e = np.exp(scores - scores.max())
        return e / e.sum(axis=-1, keepdims=True)

    assert_not_yet(capsys, check_softmax, global_max, hint="each row's own max")


def test_softmax_without_exp(capsys):
    assert_not_yet(
        capsys, check_softmax, lambda s: s / s.sum(axis=-1, keepdims=True), hint="np.exp"
    )


def test_softmax_forgot_keepdims(capsys):
    def no_keepdims(scores):
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1)

    assert_not_yet(capsys, check_softmax, no_keepdims, hint=("ValueError", "keepdims=True"))


def test_softmax_returns_row_sums(capsys):
    assert_not_yet(
        capsys,
        check_softmax,
        lambda s: np.exp(s).sum(axis=-1),
        hint=("shape (3, 4)", "got (3,)", "not their sums"),
    )


def test_softmax_in_place(capsys):
    def in_place(scores):
        scores -= scores.max(axis=-1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=-1, keepdims=True)

    assert_not_yet(capsys, check_softmax, in_place, hint="in place")


def test_softmax_forgot_return(capsys):
    def no_return(scores):
        np.exp(scores)

    assert_not_yet(capsys, check_softmax, no_return, hint="forget `return`")


def test_softmax_rows_sum_to_one_but_wrong_values(capsys):
    assert_not_yet(
        capsys,
        check_softmax,
        lambda s: np.full_like(s, 1.0 / s.shape[-1]),
        hint=("rows sum to 1 but the values are off", "row 0 should be"),
    )


# --------------------------------------------------------------------------------------
# check_dot_product_attention and check_scaled_attention
# --------------------------------------------------------------------------------------
def attend(queries, keys, values):
    weights = attention.softmax(queries @ np.swapaxes(keys, -1, -2))
    return weights @ values, weights


def scaled_attend(queries, keys, values):
    d_k = queries.shape[-1]
    weights = attention.softmax(queries @ np.swapaxes(keys, -1, -2) / np.sqrt(d_k))
    return weights @ values, weights


def test_attention_correct(capsys):
    assert_correct(capsys, check_dot_product_attention, attend)


def test_attention_course_lib_is_correct(capsys):
    assert_correct(capsys, check_dot_product_attention, attention.dot_product_attention)


def test_attention_missing(capsys):
    assert_not_attempted(capsys, check_dot_product_attention, stub)


def test_attention_keys_dot_t_fails_on_a_batch(capsys):
    def with_t(queries, keys, values):
        weights = attention.softmax(queries @ keys.T)
        return weights @ values, weights

    assert_not_yet(
        capsys, check_dot_product_attention, with_t, hint=("batch", "np.swapaxes(keys, -1, -2)")
    )


def test_attention_without_transpose(capsys):
    def no_transpose(queries, keys, values):
        weights = attention.softmax(queries @ keys)
        return weights @ values, weights

    assert_not_yet(
        capsys, check_dot_product_attention, no_transpose, hint=("ValueError", "swapaxes")
    )


def test_attention_transposed_keys_and_queries(capsys):
    def flipped(queries, keys, values):
        weights = attention.softmax(keys @ np.swapaxes(queries, -1, -2))
        return weights.T @ values, weights

    assert_not_yet(
        capsys,
        check_dot_product_attention,
        flipped,
        hint=("shape (4, 3)", "(3, 4)", "one row per query"),
    )


def test_attention_scaled_when_unscaled_expected(capsys):
    assert_not_yet(capsys, check_dot_product_attention, scaled_attend, hint="leave the scores")


def test_attention_without_softmax(capsys):
    def raw(queries, keys, values):
        scores = queries @ np.swapaxes(keys, -1, -2)
        return scores @ values, scores

    assert_not_yet(capsys, check_dot_product_attention, raw, hint="apply a softmax")


def test_attention_softmax_over_columns(capsys):
    def columns(queries, keys, values):
        weights = attention.softmax(queries @ np.swapaxes(keys, -1, -2), axis=-2)
        return weights @ values, weights

    assert_not_yet(capsys, check_dot_product_attention, columns, hint="columns")


def test_attention_averages_keys_instead_of_values(capsys):
    def keys_not_values(queries, keys, values):
        weights = attention.softmax(queries @ np.swapaxes(keys, -1, -2))
        return weights @ keys, weights

    assert_not_yet(
        capsys,
        check_dot_product_attention,
        keys_not_values,
        hint=("weights @ keys", "weights @ values", "(3, 2)"),
    )


def test_attention_returns_only_output(capsys):
    assert_not_yet(
        capsys,
        check_dot_product_attention,
        lambda q, k, v: attend(q, k, v)[0],
        hint="return a pair (output, weights)",
    )


def test_attention_naive_softmax_overflows(capsys):
    def naive(queries, keys, values):
        e = np.exp(queries @ np.swapaxes(keys, -1, -2))
        weights = e / e.sum(axis=-1, keepdims=True)
        return weights @ values, weights

    assert_not_yet(capsys, check_dot_product_attention, naive, hint="NaN when the scores are large")


def test_scaled_correct(capsys):
    assert_correct(capsys, check_scaled_attention, scaled_attend)


def test_scaled_course_lib_is_correct(capsys):
    assert_correct(capsys, check_scaled_attention, attention.scaled_dot_product_attention)


def test_scaled_missing(capsys):
    assert_not_attempted(capsys, check_scaled_attention, stub)


def test_scaled_forgot_to_scale(capsys):
    assert_not_yet(capsys, check_scaled_attention, attend, hint=("unscaled", "1/√d_k"))


def _scaled_by(factor):
    def fn(queries, keys, values):
        d_k = queries.shape[-1]
        weights = attention.softmax(queries @ np.swapaxes(keys, -1, -2) * factor(d_k))
        return weights @ values, weights

    return fn


def test_scaled_by_d_k_instead_of_sqrt(capsys):
    assert_not_yet(capsys, check_scaled_attention, _scaled_by(lambda d: 1 / d), hint="square root")


def test_scaled_multiplied_instead_of_divided(capsys):
    assert_not_yet(
        capsys, check_scaled_attention, _scaled_by(np.sqrt), hint="multiplied the scores"
    )


def test_scaled_by_number_of_keys(capsys):
    def by_seq_k(queries, keys, values):
        seq_k = keys.shape[-2]
        weights = attention.softmax(queries @ np.swapaxes(keys, -1, -2) / np.sqrt(seq_k))
        return weights @ values, weights

    assert_not_yet(capsys, check_scaled_attention, by_seq_k, hint="number of keys")


# --------------------------------------------------------------------------------------
# check_causal_mask
# --------------------------------------------------------------------------------------
def test_causal_mask_correct(capsys):
    assert_correct(capsys, check_causal_mask, lambda n: np.tril(np.ones((n, n), dtype=bool)))


def test_causal_mask_course_lib_is_correct(capsys):
    assert_correct(capsys, check_causal_mask, attention.causal_mask)


def test_causal_mask_missing(capsys):
    assert_not_attempted(capsys, check_causal_mask, stub)


def test_causal_mask_upper_triangle(capsys):
    assert_not_yet(
        capsys,
        check_causal_mask,
        lambda n: np.triu(np.ones((n, n), dtype=bool)),
        hint=("above the diagonal", "np.tril"),
    )


def test_causal_mask_inverted(capsys):
    assert_not_yet(
        capsys, check_causal_mask, lambda n: ~attention.causal_mask(n), hint="invert it with ~"
    )


def test_causal_mask_without_diagonal(capsys):
    assert_not_yet(
        capsys,
        check_causal_mask,
        lambda n: np.tril(np.ones((n, n), dtype=bool), k=-1),
        hint="diagonal must be True",
    )


def test_causal_mask_integers(capsys):
    assert_not_yet(
        capsys, check_causal_mask, lambda n: np.tril(np.ones((n, n))), hint=("dtype", "float64")
    )


def test_causal_mask_wrong_shape(capsys):
    assert_not_yet(
        capsys,
        check_causal_mask,
        lambda n: np.ones(n, dtype=bool),
        hint=("expected shape (4, 4)", "(4,)"),
    )


# --------------------------------------------------------------------------------------
# check_projections
# --------------------------------------------------------------------------------------
def test_projections_correct(capsys):
    assert_correct(capsys, check_projections, lambda x, wq, wk, wv: (x @ wq, x @ wk, x @ wv))


def test_projections_missing(capsys):
    assert_not_attempted(capsys, check_projections, stub)


def test_projections_swapped_query_and_key(capsys):
    assert_not_yet(
        capsys,
        check_projections,
        lambda x, wq, wk, wv: (x @ wk, x @ wq, x @ wv),
        hint="queries equal x @ w_k; use w_q",
    )


def test_projections_weight_on_the_left(capsys):
    assert_not_yet(
        capsys,
        check_projections,
        lambda x, wq, wk, wv: (wq @ x, wk @ x, wv @ x),
        hint=("ValueError", "multiply x @ w"),
    )


def test_projections_returns_two(capsys):
    assert_not_yet(
        capsys, check_projections, lambda x, wq, wk, wv: (x @ wq, x @ wk), hint="three arrays"
    )


# --------------------------------------------------------------------------------------
# check_prediction
# --------------------------------------------------------------------------------------
def test_prediction_variance_growth(capsys):
    assert_correct(capsys, check_prediction, "variance_growth", "linear")
    assert_correct(capsys, check_prediction, "variance_growth", "Linearly")
    line = assert_not_yet(capsys, check_prediction, "variance_growth", "sqrt")
    assert "'linear'" in line  # the answer is revealed
    assert_not_yet(capsys, check_prediction, "variance_growth", "a lot", hint="answer one of")
    assert_not_attempted(capsys, check_prediction, "variance_growth", None)


def test_prediction_variance_growth_is_measured(monkeypatch, capsys):
    """The truth is computed: a different measured slope gives a different verdict."""
    import course_lib.exercises as ex

    monkeypatch.setattr(
        ex,
        "QUESTIONS",
        {
            **ex.QUESTIONS,
            "variance_growth": (
                *ex.QUESTIONS["variance_growth"][:1],
                lambda: ("sqrt", "faked"),
                ex.QUESTIONS["variance_growth"][2],
            ),
        },
    )
    assert_correct(capsys, ex.check_prediction, "variance_growth", "sqrt")


def test_prediction_unknown_question(capsys):
    assert_not_yet(
        capsys, check_prediction, "no_such_question", "x", hint=("unknown", "steak_attends_to")
    )


def test_prediction_questions_are_documented():
    for name, (definition, truth, parse) in QUESTIONS.items():
        assert len(definition) > 40, name
        assert name in check_prediction.__doc__
        assert callable(truth) and callable(parse)


def test_prediction_scaling_changes_argmax(capsys):
    assert_correct(capsys, check_prediction, "scaling_changes_argmax", False)
    assert_correct(capsys, check_prediction, "scaling_changes_argmax", "no")
    assert_not_yet(capsys, check_prediction, "scaling_changes_argmax", True, hint="False")
    assert_not_yet(capsys, check_prediction, "scaling_changes_argmax", "maybe", hint="True or")
    assert_not_attempted(capsys, check_prediction, "scaling_changes_argmax", None)


@pytest.fixture(scope="module")
def sentence():
    """Words and vectors of the course sentence, computed here independently."""
    from course_lib.embeddings import embed_sentence, load_embeddings

    emb = embed_sentence("I drink coke, but eat steak", load_embeddings("bundled"))
    return [w.lower() for w in emb.words], np.asarray(emb.vectors, dtype=float)


def test_prediction_steak_attends_to(sentence, capsys):
    words, x = sentence
    scores = x @ x.T / np.sqrt(x.shape[1])
    i = words.index("steak")
    others = [(scores[i, j], w) for j, w in enumerate(words) if j != i]
    truth = max(others)[1]
    wrong = min(others)[1]
    assert_correct(capsys, check_prediction, "steak_attends_to", truth)
    assert_correct(capsys, check_prediction, "steak_attends_to", f" {truth.upper()} ")
    assert_not_yet(capsys, check_prediction, "steak_attends_to", wrong, hint=repr(truth))
    assert_not_yet(capsys, check_prediction, "steak_attends_to", "steak", hint="other than 'steak'")
    assert_not_attempted(capsys, check_prediction, "steak_attends_to", None)
    assert_not_attempted(capsys, check_prediction, "steak_attends_to", "")


def test_prediction_coke_most_similar(sentence, capsys):
    words, x = sentence
    i = words.index("coke")
    cos = {
        w: x[i] @ x[j] / np.linalg.norm(x[i]) / np.linalg.norm(x[j])
        for j, w in enumerate(words)
        if j != i
    }
    truth = max(cos, key=cos.get)
    wrong = min(cos, key=cos.get)
    assert_correct(capsys, check_prediction, "coke_most_similar", truth)
    assert_not_yet(capsys, check_prediction, "coke_most_similar", wrong, hint=repr(truth))
    assert_not_attempted(capsys, check_prediction, "coke_most_similar", None)


# --------------------------------------------------------------------------------------
# Never raise, whatever the student's function does
# --------------------------------------------------------------------------------------
CHECKERS = [
    check_cosine_similarity,
    check_softmax,
    check_dot_product_attention,
    check_scaled_attention,
    check_causal_mask,
    check_projections,
]

ODD_RETURNS = [None, "text", {"a": 1}, [[1, 2], [3]], (1, 2, 3, 4), object(), np.nan, 7]


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", ODD_RETURNS, ids=lambda v: type(v).__name__)
def test_checkers_never_raise_on_odd_returns(checker, value, capsys):
    result, line = run(capsys, checker, lambda *args: value)
    assert result is False
    assert line.startswith("❌ not yet: ")


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("exc", [ZeroDivisionError("boom"), KeyError("k"), RecursionError("r")])
def test_checkers_report_student_exceptions(checker, exc, capsys):
    def raises(*args):
        raise exc

    result, line = run(capsys, checker, raises)
    assert result is False
    assert f"raised {type(exc).__name__}" in line


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_checkers_do_not_print_numpy_warnings(checker, capsys):
    def noisy(*args):
        return np.log(np.zeros(3)) / 0.0

    result = checker(noisy)
    captured = capsys.readouterr()
    assert result is False
    assert len(captured.out.splitlines()) == 1
    assert captured.err == ""


def test_prediction_dont_panic_rows(capsys):
    from course_lib.embeddings import embed_sentence

    rows = embed_sentence("Don't panic, it's only a test!").vectors.shape[0]
    assert_correct(capsys, check_prediction, "dont_panic_rows", rows)
    assert_correct(capsys, check_prediction, "dont_panic_rows", str(rows))
    assert_not_yet(capsys, check_prediction, "dont_panic_rows", rows - 1, hint=str(rows))
    assert_not_yet(capsys, check_prediction, "dont_panic_rows", "six", hint="whole number")
    assert_not_yet(capsys, check_prediction, "dont_panic_rows", True, hint="whole number")
    assert_not_attempted(capsys, check_prediction, "dont_panic_rows", None)


def test_prediction_mislabelled_eat(capsys):
    from course_lib.embeddings import embed_sentence

    sentence = "I drink kombucha, but eat steak"
    emb = embed_sentence(sentence)
    assert emb.missing, "the example needs a word the bundled table does not know"
    truth = emb.words[sentence.split().index("eat")]  # the row the label 'eat' lands on
    assert truth != "eat"
    assert_correct(capsys, check_prediction, "mislabelled_eat", truth)
    assert_not_yet(capsys, check_prediction, "mislabelled_eat", "eat", hint="slides one row")
    assert_not_attempted(capsys, check_prediction, "mislabelled_eat", None)


def test_prediction_drink_is_its_own_top_dot(capsys):
    from course_lib.embeddings import load_embeddings

    kv = load_embeddings()
    table = kv.vectors.astype(np.float64)
    truth = bool(np.argmax(table @ table[kv.key_to_index["drink"]]) == kv.key_to_index["drink"])
    assert_correct(capsys, check_prediction, "drink_is_its_own_top_dot", truth)
    assert_not_yet(capsys, check_prediction, "drink_is_its_own_top_dot", not truth)
    assert_not_attempted(capsys, check_prediction, "drink_is_its_own_top_dot", None)


def test_float32_answers_are_accepted(capsys):
    def softmax32(scores):
        return softmax_rows(scores.astype(np.float32))

    def attend32(queries, keys, values):
        return attend(*(a.astype(np.float32) for a in (queries, keys, values)))

    assert_correct(capsys, check_softmax, softmax32)
    assert_correct(capsys, check_dot_product_attention, attend32)


def test_float16_softmax_gets_a_precision_hint(capsys):
    assert_not_yet(
        capsys, check_softmax, lambda s: softmax_rows(s.astype(np.float16)), hint="float16"
    )


# --------------------------------------------------------------------------------------
# Properties: the checkers accept every correct variant and reject near misses
# --------------------------------------------------------------------------------------
def quiet(checker, fn):
    """Run a checker with its line swallowed (hypothesis calls it many times)."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()) as out:
        result = checker(fn)
    assert len(out.getvalue().splitlines()) == 1
    return result


@settings(max_examples=25, deadline=None)
@given(shift=st.floats(-50, 50))
def test_softmax_checker_accepts_any_row_shift(shift):
    """softmax is unchanged by adding a constant to a row, so this variant is correct."""

    def shifted(scores):
        moved = scores - scores.max(axis=-1, keepdims=True) + shift
        e = np.exp(moved)
        return e / e.sum(axis=-1, keepdims=True)

    assert quiet(check_softmax, shifted) is True


@settings(max_examples=25, deadline=None)
@given(temperature=st.floats(1.05, 20) | st.floats(0.05, 0.95))
def test_softmax_checker_rejects_any_temperature(temperature):
    assert quiet(check_softmax, lambda s: softmax_rows(s / temperature)) is False


@settings(max_examples=25, deadline=None)
@given(factor=st.floats(0.1, 0.9) | st.floats(1.1, 10))
def test_scaled_checker_rejects_any_other_scale(factor):
    def wrong_scale(queries, keys, values):
        d_k = queries.shape[-1]
        return attention.scaled_dot_product_attention(
            queries, keys, values, scale=factor / np.sqrt(d_k)
        )

    assert quiet(check_scaled_attention, wrong_scale) is False
