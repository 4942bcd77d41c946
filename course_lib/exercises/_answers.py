"""Read a student's prediction: a number, a growth law, a word, or one of a few choices.

Each reader takes the answer as written (a string, a number, a bool, a numpy scalar) and
returns a :class:`Reading`: the value to judge and ``said``, the answer restated in words
for the hint ("√2 ≈ 1.414", "it grows like d_k³", "'burger'"). An answer it cannot read
raises NotYet naming the forms it accepts. Clauses are read one by one (see
:mod:`course_lib.exercises._clauses`): "not X but Y" and "Y, not X" count as Y; only negated
clauses ("not cubically") say what the answer is not.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from course_lib.exercises import _clauses, _parse
from course_lib.exercises._format import NotYet


class OnlyNegative(NotYet):
    """The answer only says what the truth is not; ``rejected`` lists those values."""

    def __init__(self, message: str, rejected: list):
        super().__init__(message)
        self.rejected = rejected


@dataclass(frozen=True)
class Reading:
    """What a student said: ``value`` to judge, ``said`` to restate, ``tree`` if arithmetic."""

    value: object
    said: str
    tree: _parse.Node | None = None


#: Longer or more deeply bracketed answers are not read (a prediction is a few words).
MAX_CHARS, MAX_DEPTH = 400, 12


def _text(answer) -> str:
    if isinstance(answer, bool | np.bool_):
        return "true" if answer else "false"
    text = str(answer)
    depth = max(
        (text[: i + 1].count("(") - text[: i + 1].count(")") for i in range(min(len(text), 2000))),
        default=0,
    )
    if len(text) > MAX_CHARS or depth > MAX_DEPTH:
        raise NotYet(
            f"that answer is too long or has too many brackets to read ({len(text)} characters, "
            f"brackets {depth} deep); a prediction is a few words or a short expression"
        )
    return _clauses.normalise(text)


def _shown(value: float) -> str:
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return f"{value:.4g}"


# --------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------
def number(
    answer, values: dict[str, float] | None = None, words=(), what: str = "a number"
) -> Reading:
    """Read a number: ``0.99``, ``99%``, ``about 1``, ``sqrt(2)/2``, ``3*10**6``, ``four``.

    ``values`` gives the question's symbols; ``words`` are (pattern, value) pairs for words
    that stand for a number in this question ("quadruples" -> 4).
    """
    if isinstance(answer, bool | np.bool_):
        raise NotYet(f"answer {what}, got {answer!r}")
    if isinstance(answer, int | float | np.integer | np.floating):
        value = float(answer)
        return Reading(value, _shown(value))
    readings, digits, ruled_out = [], [], []
    for clause in _clauses.clauses(_text(answer)):
        if clause.negated:
            ruled_out += [clause.text] if re.search(r"\d", clause.text) else []
            continue
        for pattern, value in words:
            if re.search(pattern, clause.text):
                readings.append(Reading(float(value), clause.text))
                digits.append(False)
        for run in _parse.expressions(clause.text):
            try:
                tree = _parse.parse(run)
                value = _parse.evaluate(tree, values or {})
            except _parse.Unreadable as err:
                raise NotYet(f"could not read {str(answer)!r}: {err}") from None
            said = _parse.show(tree)
            if tree.kind != "num" and not (tree.kind == "neg" and tree.args[0].kind == "num"):
                said += f" = {_shown(value)}"
            readings.append(Reading(value, said, tree))
            digits.append(bool(re.search(r"\d", clause.text)))
    if any(digits) and not all(digits):  # "8, one per token": the digits are the answer
        readings = [r for r, d in zip(readings, digits, strict=True) if d]
    distinct = {round(r.value, 6) if math.isfinite(r.value) else r.value for r in readings}
    if not readings and ruled_out:
        raise NotYet(f"you said only what it is not ({'; '.join(ruled_out)}); answer {what}")
    if not readings:
        raise NotYet(f"answer {what} (for example 0.5, 12, sqrt(2) or 3*10**6); got {answer!r}")
    if any(math.isnan(r.value) for r in readings):
        bad = next(r for r in readings if math.isnan(r.value))
        raise NotYet(f"you wrote {bad.said.split(' = ')[0]}, which is not a number; answer {what}")
    finite = [r.value for r in readings if math.isfinite(r.value)]
    if len(distinct) > 1 and not (
        len(finite) == len(readings) and max(finite) - min(finite) <= 0.02 * max(map(abs, finite))
    ):
        said = " and ".join(r.said for r in readings)
        raise NotYet(f"you wrote more than one number ({said}); answer one")
    return readings[-1]


def whole(answer, words=()) -> Reading:
    """Read a whole number (``8``, ``eight``, ``8 rows``)."""
    reading = number(answer, words=words, what="a whole number")
    if not float(reading.value).is_integer():
        raise NotYet(f"answer a whole number; you wrote {reading.said}")
    return Reading(int(reading.value), reading.said, reading.tree)


# --------------------------------------------------------------------------------------
# Growth laws: how a quantity grows with a variable (d_k, or n)
# --------------------------------------------------------------------------------------
_LAW_WORDS = [  # (pattern, power); the first that matches in a clause wins
    (r"\bexponential|\bexponent", math.inf),
    (r"\blogarithm|\blog\b", "log"),
    (r"\bcubic|\bcubed\b|\bthird power", 3.0),
    (r"\bquadratic|\bsquared\b|\bsquare\b|\bsecond power", 2.0),
    (r"\bsqrt\b|\bhalf power", 0.5),
    (r"\binvers", -1.0),
    (r"\blinear|\bproportional|\bin proportion|\bdirectly\b", 1.0),
    (r"\bconstant|\bflat\b|\bsame\b|\bunchanged|\bfixed\b|\bbounded|\bindependent", 0.0),
]
_NO_CHANGE = r"\b(?:does|do|will|would|wo|did)(?: ?n't| not) (?:grow|change|increase|depend)"
_UP = r"\bgrow|\bincreas|\brise|\brises|\bgoes up|\bbigger|\blarger"
_DOWN = r"\bshrink|\bdecreas|\bfall|\bdrop|\bgoes down|\bsmaller|\bdecay|\bvanish"
_STD = (
    r"\bstd\b|standard deviation|\bspread|\bsd\b|typical size|\bmagnitude"
    r"|\bscores? (?:grow|is|are|get)"
)


def law_words(power, var: str) -> str:
    """Say a law in words: 2.0 -> "grows like d_k² (quadratically)"."""
    named = {0.0: "stays constant", 0.5: f"grows like √{var}", 1.0: f"grows like {var} (linearly)",
             2.0: f"grows like {var}² (quadratically)", 3.0: f"grows like {var}³",
             -1.0: f"shrinks like 1/{var}", -0.5: f"shrinks like 1/√{var}",
             math.inf: "grows exponentially", "log": f"grows like log({var})",
             "shrinks": f"shrinks as {var} grows"}  # fmt: skip
    if power in named:
        return named[power]
    return f"grows like {var}^{power:g}" if power > 0 else f"shrinks like 1/{var}^{-power:g}"


def _slope(tree: _parse.Node, var: str, values: dict[str, float]):
    """Return the power of ``var`` that ``tree`` grows like (a float), "log", or inf."""
    if "log" in _parse.functions(tree) or "log2" in _parse.functions(tree):
        return "log"
    lo, hi = (_parse.evaluate(tree, {**values, var: x}) for x in (2.0**8, 2.0**16))
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo == 0 or hi == 0:
        return math.inf if hi == math.inf else None
    if (lo < 0) != (hi < 0):
        return None
    power = math.log(abs(hi / lo)) / math.log(2.0**8)
    return round(power * 2) / 2 if abs(power * 2 - round(power * 2)) < 0.02 else round(power, 3)


def _clause_law(clause: _clauses.Clause, var: str, values: dict[str, float]):
    """Return (power or None, restated text, is the claim about the std) for one clause."""
    text, about_std = clause.text, bool(re.search(_STD, clause.text))
    for run in _parse.expressions(text):
        try:
            tree = _parse.parse(run)
        except _parse.Unreadable:
            continue
        if var in _parse.symbols(tree):
            power = _slope(tree, var, values)
            if power is not None:
                return power, f"like {_parse.show(tree)}", about_std
        elif tree.kind == "num" and not re.search(r"[a-z]{4,}", text.replace("power", "")):
            return tree.args[0], f"as {var} to the power {tree.args[0]:g}", about_std
    for pattern, power in _LAW_WORDS:
        if re.search(pattern, text):
            return power, law_words(power, var), about_std
    if re.search(_NO_CHANGE, text):
        return 0.0, "stays constant", about_std
    if re.search(_DOWN, text):
        return "shrinks", law_words("shrinks", var), about_std
    if re.search(_UP, text):
        return "grows", "grows", about_std
    return None, "", about_std


def law(answer, var: str = "d_k", values: dict[str, float] | None = None, of: str = "") -> Reading:
    """Read a growth law: "cubically", "like d_k^3", "O(log d_k)", "not linearly but cubically".

    A bare number is the power of ``var``. A clause about the standard deviation ("the std
    like sqrt(d_k)") counts at twice its power when ``of`` is "variance".
    """
    values = {"sigma": 1.0, **(values or {})}
    if isinstance(answer, int | float | np.integer | np.floating) and not isinstance(
        answer, bool | np.bool_
    ):
        return Reading(float(answer), law_words(float(answer), var))
    said_not, claims, rejected_powers = [], [], []
    for clause in _clauses.clauses(_text(answer)):
        power, said, about_std = _clause_law(clause, var, values)
        if power is None:
            continue
        if clause.negated and not re.search(_NO_CHANGE, clause.text):
            said_not.append(said)
            rejected_powers.append((power, said))
            continue
        if about_std and of == "variance" and isinstance(power, float):
            power, said = (
                2 * power,
                f"{said} for the spread, so the variance {law_words(2 * power, var)}",
            )
        claims.append((power, said))
    powers = {p for p, _ in claims if p != "grows"}
    if len(powers) > 1:
        listed = " and ".join(s for p, s in claims if p != "grows")
        raise NotYet(f"you gave two different laws ({listed}); say which one")
    if powers:
        power = powers.pop()
        said = next(s for p, s in claims if p == power)
        if said.startswith(("like ", "as ")):
            said = f"{said.split(' ', 1)[1]}, which {law_words(power, var)}"
        return Reading(power, said)
    if claims:
        raise NotYet(f"you said it grows, but not how fast: {_LAW_HELP.format(var=var)}")
    if said_not:
        raise OnlyNegative(
            f"you said only what it does not do (not: {'; not: '.join(said_not)}); say how it "
            f"grows: {_LAW_HELP.format(var=var)}",
            [p for p, _ in rejected_powers],
        )
    raise NotYet(f"{_LAW_HELP.format(var=var)}; got {answer!r}")


_LAW_HELP = (
    "answer in words ('constant', 'like sqrt({var})', 'linearly', 'quadratically') or as an "
    "expression in {var} ('{var}', '{var}^2', 'O({var})'), or give the power of {var} as a "
    "number (1 means proportional to {var})"
)


# --------------------------------------------------------------------------------------
# Words and choices
# --------------------------------------------------------------------------------------
_FILLER = set(
    "a an the it its is it's i think guess answer row of on to word label ends up goes gets "
    "would will be most likely probably maybe my prediction that this one other than itself "
    "and with weight largest highest attention attends attend".split()
)


def word(answer, vocabulary: list[str], context: tuple[str, ...] = ()) -> Reading:
    """Read one word, ideally of ``vocabulary``; words in ``context`` count only if alone.

    "the row of cat", "Cat.", "'dog', not 'cat'" and "dog -> cat" (with "dog" in ``context``)
    all read as one word.
    """
    alone = re.fullmatch(r"\W*([a-z]+)\W*", _text(answer))
    if alone and alone.group(1) in vocabulary:
        return Reading(alone.group(1), f"'{alone.group(1)}'")
    named, rejected, others, weak = [], [], [], []
    for clause in _clauses.clauses(_text(answer)):
        found = [w.removesuffix("'s") for w in re.findall(r"[a-z]+(?:'[a-z]+)?", clause.text)]
        for w in found:
            if w in ("not", "no", "but") or w in _FILLER:
                if w in vocabulary and not clause.negated and w not in weak:
                    weak.append(w)  # "I" is a word of the sentence, and filler elsewhere
                continue
            target = rejected if clause.negated else named if w in vocabulary else others
            if w not in target:
                target.append(w)
    named = [w for w in named if w not in rejected] or (
        weak if len(weak) == 1 and not others else []
    )
    if len(named) > 1:
        named = [w for w in named if w not in context] or named
    if len(named) == 1:
        return Reading(named[0], f"'{named[0]}'")
    if len(named) > 1:
        listed = ", ".join(f"'{w}'" for w in named)
        raise NotYet(f"you named several words of the sentence ({listed}); answer one")
    if len(others) == 1:
        return Reading(others[0], f"'{others[0]}'")
    raise NotYet(f"answer one word of the sentence ({', '.join(vocabulary)}); got {answer!r}")


def choice(
    answer, options: dict[str, str], opposite: dict[str, str] | None = None, yes_no=False
) -> Reading:
    """Read one of ``options`` (label -> regex of its wordings), with negation.

    ``opposite`` maps a label to the label that "less <label>" means ("less peaked" ->
    uniform). "not X" only rules X out, except for a yes/no question (``yes_no``), where the
    negation is the answer ("it does not change": no).
    """
    if isinstance(answer, bool | np.bool_) and str(bool(answer)).lower() in options:
        return Reading(str(bool(answer)).lower(), str(bool(answer)))
    claims, rejected = [], []
    for clause in _clauses.clauses(_text(answer)):
        for label, pattern in options.items():
            match = re.search(pattern, clause.text)
            if not match:
                continue
            before = clause.text[: match.start()]
            if opposite and re.search(r"\bless\s*$|\bfewer\s*$", before):
                label = opposite.get(label, label)
            if clause.negated and not yes_no and not _clauses.NEGATION.search(match.group()):
                rejected.append(label)
            else:
                claims.append(label)
            break
    claims = [c for c in dict.fromkeys(claims) if c not in rejected or len(set(claims)) == 1]
    if len(set(claims)) == 1:
        return Reading(claims[0], f"'{claims[0]}'")
    if len(set(claims)) > 1:
        raise NotYet(f"you said both {' and '.join(repr(c) for c in claims)}; choose one")
    forms = ", ".join(f"'{label}'" for label in options)
    if yes_no:
        forms = "True or False (yes or no)"
    if rejected:
        raise OnlyNegative(
            f"you said only what it is not ({', '.join(rejected)}); answer one of {forms}",
            rejected,
        )
    raise NotYet(f"answer {'' if yes_no else 'in words, one of '}{forms}; got {answer!r}")
