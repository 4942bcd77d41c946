"""Read a student's answer as clauses: normalised text, split where the answer turns.

:func:`normalise` lower-cases an answer and spells its symbols one way ("√" -> sqrt,
"d sub k" -> d_k, "divided by" -> /); :func:`clauses` splits it into clauses, each marked
negated or not: "cubically, not quadratically", "not X but Y", "X rather than Y" and
"8 not 22.6" give two. :mod:`course_lib.exercises._parse` reads the arithmetic in each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from course_lib.exercises._parse import tokens

_SPACED = [  # (pattern, replacement) applied before tokenizing
    (r"\bd[ -]?sub[ -]?k\b", "d_k"),
    (r"\bd(?: |-| _|_ )(k|model|head|q)\b", r"d_\1"),
    (r"\bnumber of heads\b", "h"),
    (r"\bn ?_? heads\b", "n_heads"),
    (r"\bseq(?:uence)?[ _]?len(?:gth)?\b", "seq_len"),
    (r"\bsquare root of\b|\bsquare root\b|\broot of\b|\bsqrt of\b", " sqrt "),
    (r"\b(?:the )?square of\b", " square "),  # "the square of d_k": d_k^2, not d_k
    (r"\b(?:the )?cube of\b", " cube "),
    (r"\b(sqrt|log|ln|exp)(?=\d)", r"\1 "),  # sqrt64
    (
        r"(\d)\s?(k|m|bn)\b",
        lambda m: m[1] + {"k": " thousand", "m": " million"}.get(m[2], " billion"),
    ),
    (r"\b(\d+|two|three|four|five|six|seven|eight|nine|ten|twenty|hundred)-?fold\b", r"\1 times"),
    (r"\bx(?=\d)", "x "),  # x4: four times
    (r"\bto the power of\b|\bto the power\b|\bto the\b|\braised to\b", " ^ "),
    (r"\bdivided by\b|\bover\b", " / "),
    (r"\bmultiplied by\b", " * "),
    (r"\bminus infinity\b|\bnegative infinity\b", " - inf "),
    (r"\bplus infinity\b|\bpositive infinity\b|\binfinity\b", " inf "),
]

# "I think X", "probably X", "my answer is X": what comes before the answer itself
_HEDGE = (
    r"^(?:i think(?: that)?|i guess|i'd say|i would say|i believe|i predict|probably|"
    r"my (?:guess|answer|prediction) is|the answer is|answer is)\s*:?\s*"
)
_CLAUSE_WORDS = r"\b(?:but|whereas|while|though|although|so|and|then|because|since|yet)\b"


def normalise(text: object) -> str:
    """Lower-case ``text`` and spell its symbols one way (``×`` -> ``*``, ``√`` -> sqrt...)."""
    text = str(text).strip().strip("'\"`").strip().lower()
    for old, new in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("−", "-"), ("–", "-"),
                     ("—", ";"), ("×", "*"), ("·", "*"), ("⋅", "*"), ("∙", "*"), ("÷", "/"),
                     ("²", "^2"), ("³", "^3"), ("½", "(1/2)"), ("√", " sqrt "), ("∞", "inf"),
                     ("≈", " about "), ("∝", " proportional to "), ("**", "^")):  # fmt: skip
        text = text.replace(old, new)
    text = re.sub(r"\b(?:np|numpy|math|torch)\.", "", text)
    text = re.sub(_HEDGE, "", text).strip().strip("'\"`").strip()
    for pattern, new in _SPACED:
        text = re.sub(pattern, new, text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Clause:
    """One clause of an answer, and whether it is negated ("not quadratically")."""

    text: str
    negated: bool


NEGATION = re.compile(r"\bnot\b|n't\b|\bnever\b|\bnor\b|\bno longer\b")


def clauses(text: str) -> list[Clause]:
    """Split a normalised answer into clauses; "X, not Y" and "not X but Y" give two."""
    pieces, depth, current, i = [], 0, "", 0
    while i < len(text):
        char = text[i]
        if char == "(":
            close = _matching(text, i)
            inner = text[i + 1 : close]
            aside = re.search(r"\d\s$", text[:i])  # "8 (sqrt 64)": said again, not a product
            if aside or any(kind == "word" and len(str(v)) > 1 for kind, v in tokens(inner)):
                pieces += [current, *[c.text for c in clauses(inner)]]
                current, i = "", close + 1
                continue
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        separator = char in ";:" or (char == "," and not _between_digits(text, i))
        separator = separator or (char == "." and not text[i + 1 : i + 2].isdigit())
        if depth == 0 and separator:
            pieces.append(current)
            current = ""
        else:
            current += char
        i += 1
    pieces.append(current)
    out = []
    for piece in pieces:
        piece = _split_before_not(piece)
        for part in re.split(_CLAUSE_WORDS + r"|\s-\s|;", piece):
            # "X rather than Y", "X instead of Y": Y is what the student rejects
            kept, *rejected = re.split(r"\brather than\b|\binstead of\b", part)
            for text, negated in [(kept, False)] + [(r, True) for r in rejected]:
                text = text.strip()
                if text:
                    out.append(Clause(text, negated or bool(NEGATION.search(text))))
    return out


# Words that end an answer before a "not" that rejects the next one ("linearly not
# quadratically", "8 not 22.6", "d_k not d_k^2"); a verb or a hedge before "not" ("it does
# not grow", "probably not") keeps the clause whole.
_HEDGES = {"only", "probably", "likely", "certainly", "definitely", "surely", "really",
           "actually", "clearly", "obviously", "necessarily", "exactly", "simply"}  # fmt: skip
_ANSWER_END = re.compile(r"(?:[\d)]|\w*[_^]\w*|\w+ly|linear|quadratic|cubic|constant|flat)$")


def _split_before_not(text: str) -> str:
    """Put a clause break before a "not" that follows an answer: "8 not 22.6" -> "8; not 22.6"."""

    def cut(match):
        before = match.group(1)
        word = before.rsplit(None, 1)[-1] if before.strip() else ""
        if word in _HEDGES or not _ANSWER_END.search(word):
            return match.group(0)
        return f"{before};{match.group(2)}"

    return re.sub(r"(\S+)(\s+not\b)", cut, text)


def _matching(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    return len(text)


def _between_digits(text: str, i: int) -> bool:
    return 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()
