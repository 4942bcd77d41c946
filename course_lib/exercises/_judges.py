"""How each prediction question reads and judges an answer (used by ``predictions``).

The readers turn an answer into a :class:`~course_lib.exercises._answers.Reading`; the
judges return '' for a right reading, else the named mistake ("-" when it has no name).
"""

from __future__ import annotations

import math
import re
from functools import partial

from course_lib.exercises import _answers as answers
from course_lib.exercises import _clauses, _parse
from course_lib.exercises import _truths as truths
from course_lib.exercises._format import NotYet

HEAD = {"d_model": 512.0, "h": 8.0, "n": 8.0, "d_head": 64.0, "d_k": 64.0}
_OTHER_HEAD = {"d_model": 300.0, "h": 3.0, "n": 3.0, "d_head": 100.0, "d_k": 100.0}


def equal(reading: answers.Reading, truth) -> str:
    return "" if reading.value == truth else "-"


def near(tolerance: float, named=(), relative=False, check=None, bounds=None):
    """Judge a number within ``tolerance`` (of the truth, if ``relative``); name mistakes.

    ``named`` lists (value, hint); ``check(tree)`` returns a hint when an expression's
    symbols give the right number only by coincidence.
    """

    def judge(reading: answers.Reading, truth) -> str:
        value = reading.value
        width = tolerance * abs(truth) if relative else tolerance
        if math.isfinite(value) and abs(value - truth) <= width:
            hint = check(reading.tree) if check and reading.tree is not None else ""
            return hint
        if bounds and not bounds[0] <= value <= bounds[1]:
            return f"a weight lies between {bounds[0]:g} and {bounds[1]:g}"
        for wrong, hint in named:
            if math.isfinite(value) and abs(value - wrong) <= max(width, 1e-9 * abs(wrong)):
                return hint
        return "-"

    return judge


def same_for_any_head(tree) -> str:
    if not _parse.symbols(tree):
        return ""
    other = _parse.evaluate(tree, _OTHER_HEAD)
    if abs(other - math.sqrt(_OTHER_HEAD["d_head"])) <= 1e-6:
        return ""
    return (
        f"{_parse.show(tree)} is 8 here only by coincidence (512 / 8 = 64 = 8²): with "
        "d_model = 300 and 3 heads it gives " + f"{other:.3g}, not √(300/3) = 10"
    )


def same_parameters_for_any_layer(tree) -> str:
    if not _parse.symbols(tree):
        return ""
    other = _parse.evaluate(tree, _OTHER_HEAD)
    return (
        ""
        if abs(other - 4 * 300.0**2) <= 1e-6 * other
        else (
            f"{_parse.show(tree)} gives the right count here only by coincidence: with d_model = "
            f"300 and 3 heads it gives {other:.6g}, not {4 * 300**2:,}"
        )
    )


def law_judge(reading: answers.Reading, truth) -> str:
    power = reading.value
    return "" if isinstance(power, float) and abs(power - truth) <= 0.1 else "-"


def named(hints: dict):
    """Judge a choice: '' when right, else the hint for that wrong choice (or '-')."""
    return lambda reading, truth: "" if reading.value == truth else hints.get(reading.value, "-")


def compare_spread(answer) -> answers.Reading:
    try:
        return answers.choice(answer, _MORE_LESS, {"more": "less", "less": "more"})
    except answers.OnlyNegative:
        raise
    except NotYet:
        reading = answers.number(answer, words=_FOLD, what="'more', 'less' or a factor")
    norms = truths.spread_growth()[1]
    ratio = reading.value / norms
    label = "more" if ratio > 1.5 else "less" if ratio < 1 / 1.5 else "about the same"
    return answers.Reading(
        label, f"a factor of {reading.said} ({_than(label)} the norms' {norms:.2f})"
    )


def _than(label: str) -> str:
    return "about the same as" if label == "about the same" else f"{label} than"


def compare_self_weight(answer) -> answers.Reading:
    try:
        return answers.choice(answer, _COMPARE, {"higher": "lower", "lower": "higher"})
    except answers.OnlyNegative:
        raise
    except NotYet:
        reading = answers.number(answer)  # a predicted mean self-weight
    base = truths.self_weights()[0]
    label = (
        "about the same"
        if abs(reading.value - base) <= 0.05
        else ("lower" if reading.value < base else "higher")
    )
    return answers.Reading(label, f"{reading.said} ({_than(label)} {base:.2f})")


def float16(answer) -> answers.Reading:
    text = _clauses.normalise(answer) if isinstance(answer, str) else ""
    if re.search(r"\berror|\braise|\bexception|\bcrash", text) and not re.search(r"\binf", text):
        return answers.Reading("error", "an error")
    return answers.number(answer)


_YES = r"^(?:yes|y|true|yep|yeah|correct|right|it is|it does|sure)\b"
_NO = r"^(?:no|n|false|nope|never)\b|\bnot\b|n't\b"
_COMPARE = {
    "lower": r"\blower|\bsmaller|\bless\b|\bdrops?|\bgoes down|\bdecreas|\bbelow|\bfalls?\b",
    "higher": r"\bhigher|\bbigger|\blarger|\bmore\b|\bgoes up|\bincreas|\babove|\brises?\b",
    "about the same": (
        r"\bsame\b|\bunchanged|\babout equal|\bsimilar|\bno change|\bequal|\bdoes ?n[o']t "
        r"change|\bstill\b"
    ),
}
_MORE_LESS = {
    "more": r"\bmore\b|\bfaster|\bmuch bigger|\bmuch larger|\bfar bigger|\bfar larger",
    "less": r"\bless\b|\bslower|\bsmaller|\bfewer",
    "about the same": r"\bsame\b|\bsimilar|\bequal|\bjust that|\bthat factor|\babout that",
}
_FOLD = tuple(
    (rf"\b{word}fold", value)
    for word, value in (
        ("two", 2),
        ("three", 3),
        ("four", 4),
        ("five", 5),
        ("ten", 10),
        ("twenty", 20),
        ("hundred", 100),
    )  # fmt: skip
)
FLATNESS = {
    "uniform": r"\buniform|\bflat|\beven|\bequal|\bspread|\b1/n\b|\bsame weight|\bsmooth|\bsoft",
    "one-hot": r"\bone[- ]?hot|\bpeak|\bsharp|\bspik|\bargmax|\bconcentrat|\bhard",
    "unchanged": r"\bunchang|\bsame\b|\bno change|\bnothing",
}


def yes_no(extra_yes: str = "", extra_no: str = ""):
    yes = _YES + (f"|{extra_yes}" if extra_yes else "")
    no = _NO + (f"|{extra_no}" if extra_no else "")
    # "no" patterns are checked first: "it does not change" has both "it does" and "not"
    return lambda answer: answers.choice(answer, {"false": no, "true": yes}, yes_no=True)


def word_question(sentence, context=()):
    vocabulary = [w.lower() for w in re.findall(r"[A-Za-z]+", sentence)]
    return partial(answers.word, vocabulary=vocabulary, context=context)
