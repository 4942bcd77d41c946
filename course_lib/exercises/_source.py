"""Read a student's function to see whether it loops over pairs of rows in Python.

Some exercises forbid loops ("with whole-array operations"). A double loop gives the right
numbers, so the checker reads the function's source with :mod:`ast` rather than timing it:
a timing threshold is noisy on a shared machine (and on Colab), and a loop over a handful
of hidden rows is fast. Every function defined in a notebook cell has its source available
(IPython keeps each cell's text), so :func:`nested_loop` can read it without running it.

The rule: iteration nested two deep (a ``for`` or ``while`` inside another, a
comprehension with two ``for`` clauses or one inside another, or a loop calling a helper of
the notebook that loops itself), or a loop in disguise (``itertools.product``,
``np.vectorize``...), is rejected. A single loop or comprehension, for example to compute
each row's length, is not.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import types

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_DISGUISED = {"product", "combinations", "combinations_with_replacement", "permutations",
              "vectorize", "frompyfunc"}  # fmt: skip


def _tree(fn: types.FunctionType):
    """Return the ast node of ``fn`` (a def or a lambda), or None without readable source."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError, IndentationError):
        return None
    for text in (source, source.strip().rstrip(";,)")):
        try:
            module = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(module):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name == fn.__name__
            ):
                return node
            if isinstance(node, ast.Lambda) and fn.__name__ == "<lambda>":
                return node
    return None


def _called_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


class _Depth(ast.NodeVisitor):
    """Find the deepest nesting of iteration, following calls to the notebook's helpers."""

    def __init__(self, fn: types.FunctionType, seen: set):
        self.fn, self.seen = fn, seen
        self.names = dict(fn.__globals__)
        for var, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False):
            try:
                self.names[var] = cell.cell_contents
            except ValueError:  # an empty cell
                pass
        self.depth, self.deepest, self.line, self.disguise = 0, 0, 0, ""

    def _note(self, depth: int, node: ast.AST) -> None:
        if depth > self.deepest:
            self.deepest, self.line = depth, getattr(node, "lineno", 0)

    def _nested(self, node: ast.AST, levels: int) -> None:
        self.depth += levels
        self._note(self.depth, node)
        self.generic_visit(node)
        self.depth -= levels

    def visit_For(self, node):  # noqa: D102 (ast.NodeVisitor's protocol)
        self._nested(node, 1)

    visit_AsyncFor = visit_While = visit_For

    def visit_ListComp(self, node):  # noqa: D102
        self._nested(node, len(node.generators))

    visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp

    def visit_Call(self, node):  # noqa: D102
        called = _called_name(node)
        if called in _DISGUISED and not self.disguise:
            self.disguise = called
            self._note(self.depth + 2, node)
        helper = self.names.get(getattr(node.func, "id", ""))
        if isinstance(helper, types.FunctionType) and helper not in self.seen:
            inner = loop_depth(helper, self.seen)
            self._note(self.depth + inner[0], node)
        self.generic_visit(node)


def loop_depth(fn, seen: set | None = None) -> tuple[int, int, str]:
    """Return (deepest iteration nesting, its line, a disguised loop's name) for ``fn``."""
    if isinstance(fn, functools.partial):
        fn = fn.func
    if not isinstance(fn, types.FunctionType):
        return 0, 0, ""
    seen = (seen or set()) | {fn}
    node = _tree(fn)
    if node is None or len(seen) > 4:
        return 0, 0, ""
    visitor = _Depth(fn, seen)
    for child in node.body if isinstance(node.body, list) else [node.body]:
        visitor.visit(child)
    line = visitor.line + fn.__code__.co_firstlineno - node.lineno if visitor.line else 0
    return visitor.deepest, line, visitor.disguise


def nested_loop(fn) -> str:
    """Describe the loop over pairs in ``fn`` ("a loop inside a loop, line 3"), or ''."""
    depth, line, disguise = loop_depth(fn)
    if depth < 2:
        return ""
    where = f", line {line} of the cell" if line else ""
    if disguise:
        return f"{disguise} runs Python code once per pair{where}"
    return f"a loop inside a loop{where}"
