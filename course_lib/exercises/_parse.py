"""A small reader for the arithmetic in what students write, with the course's symbols.

Never ``eval``. :func:`expressions` finds the arithmetic in one clause of an answer (split
and normalised by :mod:`course_lib.exercises._clauses`), and :func:`parse` turns it into a
tree of :class:`Node`: numbers (``8``, ``1e-9``, ``1,000,000``, ``eight``), symbols
(``d_k``, ``d k``, ``dk``, ``d_model``, ``h``, ``n``...), ``+ - * / ^ **``, implicit products
(``2 d_k``), ``sqrt``/``√``/"square root of", ``log``, ``exp``, ``O(...)``, "squared", and
``%``. :func:`evaluate` computes a tree with values for the symbols; :func:`show` writes it
back in one clean form, for hints that restate what the student wrote.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: Spellings of the course's symbols -> their one name.
SYMBOLS = {
    "d_k": "d_k", "dk": "d_k", "d": "d_k", "d_q": "d_k",
    "d_model": "d_model", "dmodel": "d_model", "d_m": "d_model",
    "d_head": "d_head", "dhead": "d_head", "d_h": "d_head",
    "h": "h", "n_heads": "h", "heads": "h", "num_heads": "h", "nheads": "h",
    "n": "n", "seq_len": "n",
    "sigma": "sigma", "σ": "sigma",
}  # fmt: skip
_FUNCTIONS = {"sqrt", "root", "log", "ln", "log2", "log10", "exp", "o", "theta", "abs", "square",
              "cube"}  # fmt: skip
_WORDS = {"squared": ("^", 2.0), "cubed": ("^", 3.0), "half": ("num", 0.5),
          "inf": ("num", math.inf), "nan": ("num", math.nan), "e": ("num", math.e),
          "times": ("*", None), "x": ("*", None)}  # fmt: skip
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_TOKEN = re.compile(
    r"(?P<num>\d+(?:,\d{3})+(?![\d,])|\d+(?:[.,]\d+)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)"
    r"|(?P<word>[a-zσ_][a-z0-9_σ]*(?:'[a-z]+)?)"
    r"|(?P<op>\*\*|[-+*/^()%!=<>])"
)


@dataclass(frozen=True)
class Node:
    """A parsed expression.

    ``kind`` is "num" (args: value), "sym" (name), "neg" (x), "call" (function, argument),
    or an operator "+ - * / ^" (left, right).
    """

    kind: str
    args: tuple


class Unreadable(ValueError):
    """The text is not an expression this reader understands."""


def _number(text: str) -> float:
    if re.fullmatch(r"\d+(?:,\d{3})+", text):
        return float(text.replace(",", ""))
    return float(text.replace(",", "."))


def tokens(text: str) -> list[tuple[str, object]]:
    """Split normalised text into tokens, reading number words ("sixty-four", "1 million").

    Tokens are ("num", value), ("sym", name), ("fn", name), ("op", op) and ("word", text).
    """
    out: list[tuple[str, object]] = []
    for match in _TOKEN.finditer(re.sub(r"(?<![\d.]e)-", " - ", text)):
        kind, value = match.lastgroup, match.group()
        if kind == "num":
            out.append(("num", _number(value)))
        elif kind == "op":
            out.append(("op", "^" if value == "**" else value))
        elif value in _UNITS:
            if out and out[-1][0] == "num" and out[-1][1] >= 20 and out[-1][1] % 10 == 0:
                out[-1] = ("num", out[-1][1] + _UNITS[value])  # twenty four
            elif len(out) >= 2 and out[-1] == ("op", "-") and out[-2][0] == "num":
                out[-1:] = []  # sixty-four
                out[-1] = ("num", out[-1][1] + _UNITS[value])
            else:
                out.append(("num", float(_UNITS[value])))
        elif value in _SCALES and out and out[-1][0] == "num":
            out[-1] = ("num", out[-1][1] * _SCALES[value])
        elif value in SYMBOLS:
            out.append(("sym", SYMBOLS[value]))
        elif value in _FUNCTIONS:
            out.append(("fn", "sqrt" if value == "root" else "log" if value == "ln" else value))
        elif value in _WORDS:
            kind, number = _WORDS[value]
            out.append(("num", number) if kind == "num" else ("op", kind))
            if number is not None and kind == "^":
                out.append(("num", number))
        else:
            out.append(("word", value))
    return out


def expressions(text: str) -> list[list[tuple[str, object]]]:
    """Return the runs of arithmetic tokens in a clause (words break a run)."""
    runs, current = [], []
    for token in tokens(text):
        if token[0] == "word" or token in (("op", "="), ("op", "<"), ("op", ">"), ("op", "!")):
            if current:
                runs.append(current)
            current = []
        else:
            current.append(token)
    if current:
        runs.append(current)
    return [_trim(run) for run in runs if _trim(run)]


def _trim(run):
    while run and run[-1] in (("op", "*"), ("op", "/"), ("op", "^"), ("op", "+"), ("op", "-")):
        run = run[:-1]  # "4 times", "about 8 -"
    while run and run[0] in (("op", "*"), ("op", "/"), ("op", "^"), ("op", "+"), ("op", ")")):
        run = run[1:]
    return run


class _Parser:
    def __init__(self, run):
        self.run, self.at = run, 0

    def peek(self):
        return self.run[self.at] if self.at < len(self.run) else ("end", None)

    def take(self):
        token = self.peek()
        self.at += 1
        return token

    def expr(self) -> Node:
        node = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            node = Node(op, (node, self.term()))
        return node

    def term(self) -> Node:
        node = self.unary()
        while True:
            token = self.peek()
            if token in (("op", "*"), ("op", "/")):
                op = self.take()[1]
                node = Node(op, (node, self.unary()))
            elif token[0] in ("num", "sym", "fn") or token == ("op", "("):
                node = Node("*", (node, self.unary()))  # 2 d_k, d_k sqrt(d_k)
            else:
                return node

    def unary(self) -> Node:
        if self.peek() == ("op", "-"):
            self.take()
            return Node("neg", (self.unary(),))
        if self.peek() == ("op", "+"):
            self.take()
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        if self.peek() == ("op", "%"):
            self.take()
            node = Node("/", (node, Node("num", (100.0,))))
        if self.peek() == ("op", "^"):
            self.take()
            node = Node("^", (node, self.unary()))
        return node

    def atom(self) -> Node:
        kind, value = self.take()
        if kind == "num":
            return Node("num", (value,))
        if kind == "sym":
            return Node("sym", (value,))
        if kind == "fn":
            argument = self.power() if self.peek() != ("op", "(") else self.atom()
            return Node("call", (value, argument))
        if (kind, value) == ("op", "("):
            node = self.expr()
            if self.peek() == ("op", ")"):
                self.take()
            return node
        raise Unreadable("it ends too early" if kind == "end" else f"unexpected {value!r}")


def parse(run: list[tuple[str, object]]) -> Node:
    """Parse one run of tokens from :func:`expressions`; Unreadable if it is not one."""
    parser = _Parser(run)
    try:
        node = parser.expr()
    except RecursionError:
        raise Unreadable("it is nested too deeply") from None
    if parser.at < len(run):
        raise Unreadable("text left over")
    return node


def evaluate(node: Node, values: dict[str, float]) -> float:
    """Compute ``node`` with ``values`` for its symbols (math errors give NaN or inf)."""
    kind, args = node.kind, node.args
    if kind == "num":
        return args[0]
    if kind == "sym":
        if args[0] not in values:
            raise Unreadable(f"the symbol {args[0]} is not part of this question")
        return values[args[0]]
    if kind == "neg":
        return -evaluate(args[0], values)
    if kind == "call":
        x = evaluate(args[1], values)
        functions = {"sqrt": math.sqrt, "log": math.log, "log2": math.log2,
                     "log10": math.log10, "exp": math.exp, "abs": abs,
                     "square": lambda v: v * v, "cube": lambda v: v * v * v}  # fmt: skip
        try:
            return functions.get(args[0], lambda v: v)(x)  # O(x), theta(x): x
        except OverflowError:
            return math.inf
        except ValueError:
            return math.nan
    a, b = evaluate(args[0], values), evaluate(args[1], values)
    try:
        return (
            {"+": a + b, "-": a - b, "*": a * b}[kind]
            if kind in "+-*"
            else (a / b if kind == "/" else math.pow(a, b))
        )
    except ZeroDivisionError:
        return math.copysign(math.inf, a) if a else math.nan
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def symbols(node: Node) -> set[str]:
    """Return the symbols a tree uses."""
    if node.kind == "sym":
        return {node.args[0]}
    return set().union(*(symbols(a) for a in node.args if isinstance(a, Node)))


def functions(node: Node) -> set[str]:
    """Return the functions a tree calls."""
    own = {node.args[0]} if node.kind == "call" else set()
    return own.union(*(functions(a) for a in node.args if isinstance(a, Node)))


def show(node: Node) -> str:
    """Write a tree back in one clean form: ``1/√2``, ``√(10/3)``, ``d_k^3``, ``4·d_k``."""
    kind, args = node.kind, node.args
    if kind == "num":
        value = args[0]
        return f"{value:g}" if abs(value) < 1e6 or not value.is_integer() else f"{value:,.0f}"
    if kind == "sym":
        return args[0]
    if kind == "neg":
        return "-" + _wrapped(args[0], "neg")
    if kind == "call":
        name, inner = args
        text = show(inner)
        if name == "sqrt":
            return "√" + (text if inner.kind in ("num", "sym") else f"({text})")
        if name in ("square", "cube"):
            power = "^2" if name == "square" else "^3"
            return (text if inner.kind in ("num", "sym") else f"({text})") + power
        return f"{name}({text})" if name not in ("o", "theta") else f"O({text})"
    symbol = {"*": "·", "^": "^"}.get(kind, kind)
    spaced = f" {symbol} " if kind in "+-" else symbol
    return _wrapped(args[0], kind) + spaced + _wrapped(args[1], kind, right=True)


_RANK = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "^": 4}


def _wrapped(node: Node, parent: str, right: bool = False) -> str:
    text = show(node)
    rank = _RANK.get(node.kind, 5)
    if rank < _RANK[parent] or (right and rank == _RANK[parent] and parent in "-/^"):
        return f"({text})"
    return text
