"""Every prediction question, read as students write: a table of right and wrong answers.

Each question gets at least 40 rows. A right answer must be accepted in every spelling; a
wrong one must be rejected with a hint that restates what the student said (the fragment
given) and never echoes a mangled piece of it. Each core answer is also tried with the
wrappers students put around answers ("I think ...", a full stop, quotes).
"""

import pytest
from exercise_helpers import assert_correct, assert_not_yet

from course_lib.exercises import QUESTIONS, check_prediction

WRAPPERS = ("{}", "I think {}", "{}.", "'{}'")

RIGHT = {
    "variance_growth": [
        "linear",
        "linearly",
        "Linearly!",
        "it grows linearly",
        "grows linearly with d_k",
        "proportional to d_k",
        "like d_k",
        "d_k",
        "d k",
        "dk",
        "O(d_k)",
        "Var = d_k",
        "it grows linearly, not quadratically",
        "it grows linearly not quadratically",
        "like d_k not d_k^2",
        "linear not quadratic",
        "it is not flat: it grows linearly",
        "like d_k (the std like sqrt(d_k))",
        "linearly rather than quadratically",
        "not quadratically but linearly",
        "the std grows like sqrt(d_k)",
        "1",
        "d_k^1",
        "in proportion to d_k",
        "2*d_k",
        "it increases linearly",
        "sigma^2 * d_k",
    ],
    "multihead_divisor": [
        "sqrt64",  # H11's review
        "8 (sqrt of 64)",  # H11's review
        "8 (the square root of 64)",  # H11's review
        "8",
        "8.0",
        "eight",
        "sqrt(64)",
        "√64",
        "np.sqrt(64)",
        "math.sqrt(512 / 8)",
        "64**0.5",
        "64 ^ 0.5",
        "64^(1/2)",
        "sqrt(512)/sqrt(8)",
        "8 not 22.6",
        "sqrt(64) not sqrt(512)",
        "512**0.5/8**0.5",
        "(512/8)**0.5",
        "√(512/8)",
        "sqrt(d_head)",
        "√d_head",
        "sqrt(d_model/h)",
        "sqrt(d_model / n_heads)",
        "the square root of d_head",
        "sqrt d_k",
        "about 8",
        "8.02",
        "root 64",
        "sqrt(dk)",
    ],
    "steak_attends_to": ["eat", "Eat", "EAT", "the word eat", "'eat', not 'drink'", "eat, I guess"],
    "mislabelled_eat": [
        "steak",
        "Steak",
        "the row of steak",
        "eat -> steak",
        "steak's row",
        "it lands on steak",
    ],  # fmt: skip
    "coke_most_similar": [
        "drink",
        "Drink",
        "the verb drink",
        "drink, not steak",
        "drink (you drink coke)",
        "DRINK",
    ],  # fmt: skip
    "drink_is_its_own_top_dot": [
        "no",
        "No",
        "false",
        "False",
        "nope",
        "no, another word",
        "it is not",
        "No, a longer vector wins",
    ],  # fmt: skip
    "scaling_changes_argmax": [
        "no",
        "False",
        "it does not change",
        "no change",
        "unchanged",
        "the favourite stays the same",
        "No, never",
        "nope",
    ],  # fmt: skip
    "divide_by_dk": [
        "uniform",
        "flat",
        "flatter",
        "evenly spread",
        "close to uniform",
        "less peaked",
        "more uniform, not one-hot",
        "all weights about 1/n",
    ],  # fmt: skip
    "self_weight_after_scaling": [
        "0.99",
        "0,99",
        ".99",
        "99%",
        "99 %",
        "about 1",
        "nearly 1",
        "≈ 0.99",
        "e^8/(e^8+7)",
        "0.98",
    ],  # fmt: skip
    "dont_panic_rows": ["8", "eight", "8 rows", "8.0", "Eight rows", "8, one per token"],
    "self_weight_shared_projection": [
        "about the same",
        "the same",
        "same",
        "unchanged",
        "similar",
        "no change",
        "still about 0.49",
        "roughly equal",
        "it does not change",
        "0.47",
    ],  # fmt: skip
    "unseen_drink_attends_to": [
        "bread",
        "Bread",
        "the word bread",
        "bread, not milk",
        "bread (surprisingly)",
        "BREAD",
    ],  # fmt: skip
    "score_spread_vs_norms": [
        "more",
        "by more",
        "more than 2",
        "much more",
        "a lot more",
        "far more",
        "about 10",
        "tenfold",
        "10x",
        "5",
    ],  # fmt: skip
    "score_memory_doubling": [
        "fourfold",  # H11's review
        "4-fold",  # H11's review
        "x4",  # H11's review
        "4",
        "4x",
        "four",
        "2**2",
        "2^2",
        "quadruples",
        "4 times",
        "four times more",
    ],  # fmt: skip
    "float16_minus_1e9": [
        "-inf",
        "minus infinity",
        "negative infinity",
        "-np.inf",
        "it overflows to -inf",
        "-infinity",
    ],  # fmt: skip
    "multihead_parameters": [
        "1.05M",  # H11's review
        "1,049k",  # H11's review
        "1048576",
        "1,048,576",
        "4*512**2",
        "4 * 512^2",
        "4 d_model^2",
        "about 1.05 million",
        "4*d_model**2",
        "2^20",
    ],  # fmt: skip
    "inverted_causal_empty_rows": [
        "1",
        "one",
        "just the last",
        "only the last row",
        "1 row",
        "1, the last word",
    ],
}

WRONG = {
    "variance_growth": [
        ("constant", "stays constant"),
        ("sqrt", "√d_k"),
        ("like sqrt(d_k)", "√d_k"),
        ("quadratically", "d_k²"),
        ("d_k^2", "d_k^2"),
        ("d_k^3", "d_k^3"),
        ("the square of d_k", "d_k^2"),  # read as d_k before H11's review: "correct"
        ("cube of d_k", "d_k^3"),
        ("sqrt(" * 400 + "d_k" + ")" * 400, "too many brackets"),  # was a RecursionError
        ("1/d_k", "1/d_k, which shrinks"),
        ("shrinks like 1/d_k", "1/d_k"),
        ("like log(d_k)", "log(d_k)"),
        ("exponentially", "exponentially"),
        ("0.5", "√d_k"),
        ("2", "d_k²"),
        ("it doesn't grow", "stays constant"),
        ("not linearly", "ruled out"),
        ("quadratically not linearly", "d_k²"),
        ("d_k^2 not d_k", "d_k²"),
        ("it is probably not linear", "ruled out"),
        ("it isn't linear", "ruled out"),
        ("the std grows linearly", "for the spread"),
        ("it grows", "not how fast"),
        ("not quadratically", "only what it does not do"),
        ("linearly and quadratically", "two different laws"),
    ],
    "multihead_divisor": [
        ("1/sqrt(64)", ("1/√64", "the scale", "not the divisor")),
        ("1/8", "the scale"),
        ("sqrt(512)", ("√512", "√d_model")),
        ("22.6", "√d_model"),
        ("64", "d_head itself"),
        ("512", "d_model itself"),
        ("sqrt(8)", ("√8", "√h")),
        ("1", "no division"),
        ("h", ("h = 8", "coincidence")),
        ("n_heads", "coincidence"),
        ("4", "you answered 4;"),
        ("sqrt(d_model)", "√d_model"),
        ("d_k", ("d_k = 64", "d_head itself")),
        ("sqrt(-64)", "not a number"),
    ],
    "steak_attends_to": [
        ("drink", "you answered 'drink'"),
        ("coke", "'coke'"),
        ("burger", "'burger'"),
        ("steak", "other than 'steak'"),
        ("but", "'but'"),
        ("I", "'i'"),
    ],
    "mislabelled_eat": [
        ("eat", "'eat'"),
        ("drink", "'drink'"),
        ("but", "'but'"),
        ("kombucha", "'kombucha'"),
    ],  # fmt: skip
    "coke_most_similar": [
        ("steak", "'steak'"),
        ("eat", "'eat'"),
        ("but", "'but'"),
        ("pepsi", "'pepsi'"),
    ],  # fmt: skip
    "drink_is_its_own_top_dot": [
        ("yes", "'true'"),
        ("True", "'true'"),
        ("drink itself", "'true'"),
        ("sure", "'true'"),
        ("maybe", "True or False"),
    ],  # fmt: skip
    "scaling_changes_argmax": [
        ("yes", "'true'"),
        ("True", "'true'"),
        ("it changes", "'true'"),
        ("maybe", "True or False"),
    ],  # fmt: skip
    "divide_by_dk": [
        ("one-hot", "'one-hot'"),
        ("peaked", "'one-hot'"),
        ("sharper", "'one-hot'"),
        ("unchanged", "'unchanged'"),
        ("not uniform", "ruled out"),
        ("less uniform", "'one-hot'"),
    ],  # fmt: skip
    "self_weight_after_scaling": [
        ("0.5", "you answered 0.5"),
        ("1/8", "1/8 = 0.125"),
        ("0.125", "uniform row"),
        ("1.5", "between 0 and 1"),
        ("high", "between 0 and 1"),
        ("0.9", "you answered 0.9"),
    ],  # fmt: skip
    "dont_panic_rows": [
        ("7", "you answered 7"),
        ("six", "you answered 6"),
        ("7.5", "whole number"),
        ("9 rows", "you answered 9"),
    ],  # fmt: skip
    "self_weight_shared_projection": [
        ("lower", ("'lower'", "IS its key")),
        ("higher", "'higher'"),
        ("it drops", "'lower'"),
        ("0.17", "0.17 (lower than"),
        ("much lower", "'lower'"),
        ("not the same", "ruled out"),
    ],  # fmt: skip
    "unseen_drink_attends_to": [
        ("milk", "'milk'"),
        ("drink", "'drink'"),
        ("eat", "'eat'"),
        ("they", "'they'"),
    ],  # fmt: skip
    "score_spread_vs_norms": [
        ("about 2", ("a factor of 2", "norms alone")),
        ("the same", "'about the same'"),
        ("2", "a factor of 2"),
        ("less", "'less'"),
        ("by less", "'less'"),
        ("not more", "ruled out"),
        ("1.4", "a factor of 1.4"),
    ],  # fmt: skip
    "score_memory_doubling": [
        ("2", ("you answered 2", "linear guess")),
        ("twice", "linear guess"),
        ("8", "you answered 8"),
        ("16", "you answered 16"),
        ("not 4", "only what it is not"),  # was "answer a number; got 'not 4'"
        ("twofold", "linear guess"),
    ],  # fmt: skip
    "float16_minus_1e9": [
        ("inf", "the sign"),
        ("-1e9", "-1,000,000,000"),
        ("an error", "an error"),
        ("nan", "not a number"),
        ("-65504", "-65504"),
        ("0", "you answered 0"),
    ],  # fmt: skip
    "multihead_parameters": [
        ("262144", "one matrix"),
        ("1M", "1,000,000"),  # was read as 1
        ("2.1m", "2,100,000"),
        ("786432", "W_O"),
        ("8*4*64*64", ("8·4·64·64", "d_model × d_head")),
        ("4*512*64", "d_model × d_head"),
        ("8*1048576", "multiplies by h"),
        ("d_model^2", "one matrix"),
    ],  # fmt: skip
    "inverted_causal_empty_rows": [
        ("0", "you answered 0"),
        ("6", "you answered 6"),
        ("5", "you answered 5"),
        ("two", "you answered 2"),
    ],  # fmt: skip
}


def _rows(table):
    return [(q, wrapper.format(core), extra) for q, cores in table.items()
            for core, extra in ((c if isinstance(c, tuple) else (c, None)) for c in cores)
            for wrapper in WRAPPERS]  # fmt: skip


RIGHT_ROWS, WRONG_ROWS = _rows(RIGHT), _rows(WRONG)


def test_every_question_has_at_least_40_rows():
    for question in QUESTIONS:
        count = sum(q == question for q, _, _ in RIGHT_ROWS + WRONG_ROWS)
        assert count >= 40, (question, count)
        assert any(q == question for q, _, _ in RIGHT_ROWS), question
        assert any(q == question for q, _, _ in WRONG_ROWS), question


@pytest.mark.parametrize(("question", "answer", "_"), RIGHT_ROWS)
def test_right_answers_pass(question, answer, _, capsys):
    assert_correct(capsys, check_prediction, question, answer)


@pytest.mark.parametrize(("question", "answer", "said"), WRONG_ROWS)
def test_wrong_answers_are_restated(question, answer, said, capsys):
    line = assert_not_yet(capsys, check_prediction, question, answer, hint=said)
    assert "got 'sqrt(" not in line and "(8'" not in line  # never a mangled echo
