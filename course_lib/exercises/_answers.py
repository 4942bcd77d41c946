"""Reading a student's prediction: words in several spellings, numbers, sqrt(...) forms.

Each reader returns a value that :mod:`course_lib.exercises.predictions` compares with the
computed truth, or raises NotYet naming, in words, the forms it accepts. Case, surrounding
spaces and quotes, numpy scalars and ``np.str_`` do not matter.
"""

from __future__ import annotations

import math
import re

import numpy as np

from course_lib.exercises._harness import NotYet


def clean(answer) -> str:
    return str(answer).strip().strip("'\"").strip().lower()


def number(answer, what: str = "a number") -> float:
    if isinstance(answer, bool | np.bool_):
        raise NotYet(f"answer {what}, got {answer!r}")
    text = clean(answer).replace(",", ".") if isinstance(answer, str | np.str_) else answer
    percent = isinstance(text, str) and text.endswith("%")
    try:
        value = float(text[:-1] if percent else text)
    except (TypeError, ValueError):
        raise NotYet(f"answer {what}, got {answer!r}") from None
    return value / 100 if percent else value


def whole(answer) -> int:
    value = number(answer, "a whole number")
    if not value.is_integer():
        raise NotYet(f"answer a whole number, got {answer!r}")
    return int(value)


def yes_no(answer) -> bool:
    if isinstance(answer, bool | np.bool_):
        return bool(answer)
    text = clean(answer)
    if text in {"yes", "true", "y", "changes", "it changes"}:
        return True
    if text in {"no", "false", "n", "no change", "it does not", "same", "unchanged"}:
        return False
    raise NotYet(f"answer True or False, got {answer!r}")


# Growth laws, in words, with the power of d_k they stand for.
GROWTH = {"constant": 0.0, "like √d_k": 0.5, "like d_k (linearly)": 1.0, "like d_k²": 2.0}
_GROWTH_WORDS = [  # (pattern searched in the answer, law); the first match wins
    (r"expon|2\^d|e\^d", "exponentially"),
    (r"quadr|squared|\^ ?2|\*\* ?2|²", "like d_k²"),
    (r"sqrt|√|root|half|\^ ?\(?(0?\.5|1/2)|\*\* ?\(?(0?\.5|1/2)", "like √d_k"),
    (r"const|flat|same|not grow|doesn.?t grow|no growth|^none$|^no$", "constant"),
    (r"linear|proportion|d_?k|^d$|^n$", "like d_k (linearly)"),
]
_NEGATION = r"\bnot\b|n't\b|\bless\b|\bno longer\b"
_GROWTH_HELP = (
    "describe the growth in words, e.g. 'constant', 'like sqrt(d_k)', 'linearly' "
    "(proportional to d_k) or 'like d_k squared', or give the power of d_k as a number "
    "(1.0 means proportional to d_k)"
)


def grows(law: str) -> str:
    return "it stays constant" if law == "constant" else f"it grows {law}"


def growth(answer):
    """A growth law in words, or a power of d_k (a number)."""
    if not isinstance(answer, bool | np.bool_):
        try:
            return number(answer)
        except NotYet:
            pass
    text = clean(answer)
    for pattern, law in _GROWTH_WORDS:
        if re.search(pattern, text):
            if law != "constant" and re.search(_NEGATION, text):
                break  # "not linear" says what it is not
            return law
    raise NotYet(f"{_GROWTH_HELP}; got {answer!r}")


_FLATNESS = [
    (r"uniform|flat|even|equal|spread|1/n|same weight|smooth|soft", "uniform"),
    (r"one.?hot|peak|sharp|spik|argmax|concentrat", "one-hot"),
    (r"unchang|same|no change|nothing", "unchanged"),
]


def flatness(answer) -> str:
    text = clean(answer)
    for pattern, label in _FLATNESS:
        if re.search(pattern, text) and not re.search(_NEGATION, text):
            return label
    raise NotYet(
        "answer in words: 'uniform' (flat rows, every word about the same weight), "
        f"'one-hot' (peaked: one word takes almost all) or 'unchanged'; got {answer!r}"
    )


_SQRT = re.compile(r"^(?:sqrt\((.+)\)|√\((.+)\)|√(.+)|\(?(.+?)\)?\*\*\(?(?:0?\.5|1/2)\)?)$")


def divisor(answer, names: dict[str, float]) -> float:
    """A number, or sqrt(...)/√.../...**0.5 of a number, a ratio or a name in ``names``
    (such as d_head)."""

    def value(text: str) -> float:
        text = text.strip("()")
        for op in ("//", "/"):
            if op in text:
                left, right = text.split(op, 1)
                return value(left) / value(right)
        if text in names:
            return names[text]
        return number(text, "a number such as 8 or sqrt(64)")

    if not isinstance(answer, str | np.str_):
        return number(answer, "a number such as 8 or sqrt(64)")
    text = re.sub(r"\s+|np\.|numpy\.|math\.", "", clean(answer))
    match = _SQRT.match(text)
    try:
        return math.sqrt(value(next(g for g in match.groups() if g))) if match else value(text)
    except (ValueError, ZeroDivisionError):
        raise NotYet(f"answer a number such as 8 or sqrt(64), got {answer!r}") from None
